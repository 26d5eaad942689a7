/* SPDX-License-Identifier: MIT */
/*
 * What the kernels' report hooks share (view.h): the number formats of
 * the table, and the JSON parts more than one kernel writes. The
 * reports use the same ones, so a number reads alike everywhere.
 */
#include <stdio.h>

#include "view.h"

const char *ik_fmt_ns(char *b, size_t n, double v)
{
	if (v < 1e4)
		snprintf(b, n, "%.0f", v);
	else if (v < 1e7)
		snprintf(b, n, "%.1fu", v / 1e3);
	else
		snprintf(b, n, "%.1fm", v / 1e6);
	return b;
}

const char *ik_fmt_bytes(char *b, size_t n, size_t v)
{
	if (v && v % (1u << 20) == 0)
		snprintf(b, n, "%zum", v >> 20);
	else if (v && v % 1024 == 0)
		snprintf(b, n, "%zuk", v >> 10);
	else
		snprintf(b, n, "%zu", v);
	return b;
}

double ik_per(double v, uint64_t n)
{
	return n ? v / (double)n : 0;
}

/* A number, or null where nothing was measured (n == 0). */
static json_t *per_or_null(double v, uint64_t n)
{
	return n ? json_real(v / (double)n) : json_null();
}

json_t *ik_cpu_json(const struct ik_cpu_usage *u, uint64_t n, const char *per)
{
	char key[48];
	json_t *o = json_pack(
		"{s:I,s:I,s:I,s:I,s:I}", "cpu_ns_total", (json_int_t)u->cpu_ns,
		"user_ns_total", (json_int_t)u->user_ns, "sys_ns_total",
		(json_int_t)u->sys_ns, "voluntary_cs", (json_int_t)u->vol_cs,
		"involuntary_cs", (json_int_t)u->invol_cs);

	snprintf(key, sizeof(key), "cpu_ns_per_%s", per);
	json_object_set_new(o, key, per_or_null((double)u->cpu_ns, n));
	return o;
}

static json_t *hist_json(const struct ik_hist *h)
{
	json_t *a = json_array();
	struct ik_hist_iter it;

	ik_hist_iter_init(&it, h);
	while (ik_hist_iter_next(&it))
		json_array_append_new(a, json_pack("[III]", (json_int_t)it.lo,
						   (json_int_t)it.width,
						   (json_int_t)it.count));
	return a;
}

json_t *ik_latency_json(const struct ik_result *res, const struct ik_stats *st,
			const char *kind)
{
	json_t *lat = json_pack(
		"{s:s,s:s,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		"s:f}",
		"kind", kind, "unit", "ns", "count",
		(json_int_t)res->hist.total, IK_Q_MIN,
		(json_int_t)res->hist.min, IK_Q_MEAN, st->mean, IK_Q_STDDEV,
		st->sd, IK_Q_P50, (json_int_t)st->p50, IK_Q_P90,
		(json_int_t)st->p90, IK_Q_P99, (json_int_t)st->p99, IK_Q_P999,
		(json_int_t)st->p999, IK_Q_P9999, (json_int_t)st->p9999,
		IK_Q_MAX, (json_int_t)res->hist.max, "dropped",
		(json_int_t)res->hist.dropped, "max_relative_error", 0.01);

	json_object_set_new(lat, "histogram", hist_json(&res->hist));
	return lat;
}

/* Connections dropped at a listener: not ours, in no number here. */
void ik_strangers_json(json_t *o, const struct ik_result *res)
{
	json_object_set_new(o, "strangers",
			    json_integer((json_int_t)res->strangers));
}

void ik_listen_strangers_json(json_t *o, const struct ik_result *res)
{
	if (res->ops->flags & IK_T_LISTEN)
		ik_strangers_json(o, res);
}

/*
 * With --gap the wall holds the idle time: no rate, no mean per trip and
 * no observer effect (the wall's mean minus the untimed one) can be
 * taken from it. Kernels without an untimed pass (call, echo, connect)
 * have no untimed mean, so no observer effect either.
 */
void ik_roundtrip_json(json_t *o, const struct ik_result *res,
		       const struct ik_stats *st)
{
	bool wall_ok = !res->gap_ns && res->wall_ns && res->count;
	bool untimed_ok = !res->gap_ns && res->untimed_mean_ns > 0;

	json_object_set_new(o, "latency",
			    ik_latency_json(res, st, "round_trip"));
	json_object_set_new(o, "one_way_estimate",
			    json_pack("{s:s,s:f,s:f,s:f}", "how",
				      "round_trip/2", IK_Q_P50, st->p50 / 2.0,
				      IK_Q_P99, st->p99 / 2.0, IK_Q_MEAN,
				      st->mean / 2.0));
	json_object_set_new(o, IK_Q_MSGS,
			    wall_ok ? json_real(st->rps) : json_null());
	json_object_set_new(
		o, "wall",
		json_pack("{s:I,s:o,s:o,s:o,s:b}", "timed_ns_total",
			  (json_int_t)res->wall_ns, "whole_run_mean_ns",
			  wall_ok ? json_real(st->wall_mean) : json_null(),
			  "untimed_mean_ns",
			  untimed_ok ? json_real(st->untimed) : json_null(),
			  "observer_effect_ns",
			  wall_ok && untimed_ok
				  ? json_real(st->wall_mean - st->untimed)
				  : json_null(),
			  "hit_sample_cap", res->hit_cap));
	json_object_set_new(o, "vs_line",
			    st->vs_line > 0 ? json_real(st->vs_line)
					    : json_null());
}
