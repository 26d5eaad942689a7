/* SPDX-License-Identifier: MIT */
/*
 * --format json: one versioned schema (IK_SCHEMA) for every kernel,
 * through jansson. The run (tool, machine, timer, config, notes, floor,
 * classes, matrix), then one object per result: the cell, what the
 * kernel measured (latency, or a stream's rates), CPU, the kernel's own
 * part and every repeat's metrics (what --baseline reads back). Keys
 * keep their order: jansson writes them as they were set.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gate.h"
#include "writers.h"

static json_t *sizes_json(const size_t *v, unsigned n)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

json_t *ik_config_json(const struct ik_report *r)
{
	const struct ik_config *c = r->cfg;
	const struct ik_sweep *sw = r->sweep;
	json_t *o = json_object(), *ms = json_array(), *mo = json_array();
	unsigned i;

	for (i = 0; i < sw->nmethods; i++)
		json_array_append_new(ms, json_string(sw->methods[i]->name));
	for (i = 0; i < sw->nmodes; i++)
		json_array_append_new(mo,
				      json_string(ik_mode_name(sw->modes[i])));
	json_object_set_new(o, "kernel",
			    json_string(ik_cell_kernel_name((int)c->kernel)));
	json_object_set_new(o, "clients", json_integer(c->clients));
	json_object_set_new(o, "backlog", json_integer(c->backlog));
	{
		json_t *sv = json_array();

		for (i = 0; i < sw->nservers; i++)
			json_array_append_new(
				sv,
				json_string(ik_server_names[sw->servers[i]]));
		json_object_set_new(o, "servers", sv);
	}
	{
		json_t *w = json_array();

		for (i = 0; i < sw->nworks; i++)
			json_array_append_new(
				w, json_integer((json_int_t)sw->works[i]));
		json_object_set_new(o, "works_ns", w);
	}
	json_object_set_new(o, "verify", json_boolean(c->verify));
	json_object_set_new(o, "methods", ms);
	json_object_set_new(o, "modes", mo);
	json_object_set_new(o, "wait", json_string(ik_wait_name(c->wait)));
	json_object_set_new(o, "sizes", sizes_json(sw->sizes, sw->nsizes));
	json_object_set_new(o, "buffers",
			    sizes_json(sw->buffers, sw->nbuffers));
	{
		json_t *g = json_array();

		for (unsigned i = 0; i < sw->ngaps; i++)
			json_array_append_new(
				g, json_integer((json_int_t)sw->gaps[i]));
		json_object_set_new(o, "gaps_ns", g);
		json_object_set_new(
			o, "gap_mode",
			json_string(c->gap_sleep ? "sleep" : "spin"));
	}
	json_object_set_new(o, "iters", json_integer((json_int_t)c->iters));
	json_object_set_new(o, "warmup", json_integer((json_int_t)c->warmup));
	json_object_set_new(o, "duration_ns",
			    json_integer((json_int_t)c->duration_ns));
	json_object_set_new(o, "timeout_ns",
			    json_integer((json_int_t)c->timeout_ns));
	json_object_set_new(o, "rate", json_integer((json_int_t)c->rate));
	{
		json_t *pa = json_array();

		for (i = 0; i < sw->npairs; i++)
			json_array_append_new(pa, json_integer(sw->pairs[i]));
		json_object_set_new(o, "pairs", pa);
	}
	if (c->pinned)
		json_object_set_new(o, "pin",
				    json_pack("[ii]", ik_config_cpu(c, 0),
					      ik_config_cpu(c, 1)));
	else
		json_object_set_new(o, "pin", json_null());
	return o;
}

static json_t *cpu_json(const struct ik_cpu_usage *u, uint64_t n)
{
	return json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:f}", "cpu_ns", (json_int_t)u->cpu_ns,
		"user_ns", (json_int_t)u->user_ns, "sys_ns",
		(json_int_t)u->sys_ns, "voluntary_cs", (json_int_t)u->vol_cs,
		"involuntary_cs", (json_int_t)u->invol_cs, "per_round_trip_ns",
		n ? (double)u->cpu_ns / (double)n : 0.0);
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

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/*
 * Each metric of each repeat (one repeat without --repeat), with the
 * median, its interval and the run-to-run spread: what --baseline reads.
 */
static json_t *repeats_json(const struct ik_result *res)
{
	json_t *o = json_object(), *ms = json_object();
	unsigned k = res->rep_v ? res->repeats : 1, r;
	double one[IK_NMETRICS], *col = malloc(k * sizeof(*col));
	int m;

	ik_metrics_of(res, one);
	json_object_set_new(o, "count", json_integer(k));
	/* --append keeps the newest this many; --baseline reads no more */
	json_object_set_new(o, "keep", json_integer(IK_BASELINE_KEEP));
	json_object_set_new(o, "interval", json_string(IK_CI_METHOD));
	json_object_set_new(o, "cv", json_string("sample stddev / mean"));
	json_object_set_new(o, "units",
			    json_string("ns; msgs: messages/s (ping-pong: "
					"round trips/s); throughput: payload "
					"B/s; cpu: both peers' ns/message"));
	for (m = 0; col && m < IK_NMETRICS; m++) {
		json_t *vals = json_array();
		struct ik_summary s;

		for (r = 0; r < k; r++) {
			col[r] = res->rep_v ? ik_rep_value(res, r, m) : one[m];
			json_array_append_new(vals, num_or_null(col[r]));
		}
		ik_summarize(col, k, &s);
		if (!s.n) {
			json_decref(vals);
			continue;
		}
		json_object_set_new(
			ms, ik_metric_infos[m].name,
			json_pack("{s:o,s:o,s:[oo],s:o}", "values", vals,
				  "median", num_or_null(s.median), "ci95",
				  num_or_null(s.lo), num_or_null(s.hi), "cv",
				  num_or_null(s.cv)));
	}
	free(col);
	json_object_set_new(o, "metrics", ms);
	return o;
}

/* ---- one result ---- */

/* Connections dropped at a listener: not ours, in no number here. */
static void strangers_json(json_t *o, const struct ik_result *res)
{
	json_object_set_new(o, "strangers",
			    json_integer((json_int_t)res->strangers));
}

/* Ping-pong and stream: strangers where the transport listens. */
static void listen_cell_json(json_t *o, const struct ik_result *res)
{
	if (res->ops->flags & IK_T_LISTEN)
		strangers_json(o, res);
}

static void call_cell_json(json_t *o, const struct ik_result *res)
{
	listen_cell_json(o, res);
	json_object_set_new(o, "work_ns",
			    json_integer((json_int_t)res->work_ns));
}

static void echo_cell_json(json_t *o, const struct ik_result *res)
{
	json_object_set_new(o, "server",
			    json_string(ik_server_names[res->server]));
	json_object_set_new(o, "clients", json_integer(res->clients));
	strangers_json(o, res);
}

static void connect_cell_json(json_t *o, const struct ik_result *res)
{
	json_object_set_new(o, "clients", json_integer(res->clients));
	strangers_json(o, res);
}

static json_t *pair_json(const struct ik_result *res)
{
	const struct ik_pair *p = &res->pair;
	json_t *pair = json_object();

	json_object_set_new(pair, "pinned", json_boolean(p->pinned));
	json_object_set_new(pair, "cpus",
			    p->pinned ? json_pack("[ii]", p->cpu[0], p->cpu[1])
				      : json_null());
	json_object_set_new(
		pair, "cpus_seen",
		json_pack("[ii]", res->cpu_seen[0], res->cpu_seen[1]));
	json_object_set_new(pair, "relation",
			    json_string(ik_relation_key(p->rel)));
	json_object_set_new(pair, "relation_text",
			    json_string(ik_relation_name(p->rel)));
	json_object_set_new(pair, "cross_numa", json_boolean(p->cross_numa));
	return pair;
}

/* Latency of the round trip ("one_way" for a stream), and its buckets. */
static json_t *latency_json(const struct ik_result *res,
			    const struct ik_stats *st, const char *kind)
{
	json_t *lat = json_pack(
		"{s:s,s:s,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		"s:f}",
		"kind", kind, "unit", "ns", "count",
		(json_int_t)res->hist.total, "min", (json_int_t)res->hist.min,
		"mean", st->mean, "stddev", st->sd, "p50", (json_int_t)st->p50,
		"p90", (json_int_t)st->p90, "p99", (json_int_t)st->p99, "p99_9",
		(json_int_t)st->p999, "p99_99", (json_int_t)st->p9999, "max",
		(json_int_t)res->hist.max, "dropped",
		(json_int_t)res->hist.dropped, "max_relative_error", 0.01);

	json_object_set_new(lat, "histogram", hist_json(&res->hist));
	return lat;
}

/* Every kernel but stream: the round trip, its estimate, the wall. */
static void roundtrip_json(json_t *o, const struct ik_result *res,
			   const struct ik_stats *st)
{
	json_object_set_new(o, "latency", latency_json(res, st, "round_trip"));
	json_object_set_new(o, "one_way_estimate",
			    json_pack("{s:s,s:f,s:f,s:f}", "how",
				      "round_trip/2", "p50", st->p50 / 2.0,
				      "p99", st->p99 / 2.0, "mean",
				      st->mean / 2.0));
	json_object_set_new(o, "round_trips_per_sec", json_real(st->rps));
	json_object_set_new(
		o, "wall",
		json_pack("{s:I,s:f,s:f,s:f,s:b}", "timed_ns",
			  (json_int_t)res->wall_ns, "whole_run_mean_ns",
			  st->wall_mean, "untimed_mean_ns", st->untimed,
			  "observer_effect_ns", st->wall_mean - st->untimed,
			  "hit_sample_cap", res->hit_cap));
	json_object_set_new(o, "vs_line",
			    st->vs_line > 0 ? json_real(st->vs_line)
					    : json_null());
}

/* A stream: its rates, the open loop, and one-way latency if kept. */
static void stream_json(json_t *o, const struct ik_result *res,
			const struct ik_stats *st)
{
	const struct ik_stream_result *sr = &res->stream;

	json_object_set_new(
		o, "stream",
		json_pack("{s:I,s:f,s:f,s:f,s:s,s:f,s:f}", "messages",
			  (json_int_t)sr->messages, "seconds", sr->seconds,
			  "messages_per_sec", sr->msgs_per_s, "bytes_per_sec",
			  sr->bytes_per_s, "bytes_unit", "B (MB = 10^6 B)",
			  "tsc_offset_ns", sr->tsc_offset_ns,
			  "tsc_offset_err_ns", sr->tsc_offset_err_ns));
	if (sr->rate_asked > 0)
		json_object_set_new(o, "open_loop",
				    json_pack("{s:f,s:f,s:I,s:b,s:s}",
					      "rate_asked", sr->rate_asked,
					      "max_send_lag_ns",
					      sr->max_send_lag_ns, "late_sends",
					      (json_int_t)sr->late_sends,
					      "sustained", !sr->rate_missed,
					      "latency_from", "due time"));
	if (!sr->latency_valid) {
		json_object_set_new(o, "latency", json_null());
		json_object_set_new(o, "latency_missing",
				    json_string(sr->latency_why));
		return;
	}
	json_object_set_new(
		o, "latency_sampled_every",
		json_integer((json_int_t)(sr->latency_every ? sr->latency_every
							    : 1)));
	json_object_set_new(o, "latency", latency_json(res, st, "one_way"));
}

static void echo_json(json_t *o, const struct ik_result *res)
{
	double secs = res->wall_ns / 1e9,
	       rate = secs > 0 ? res->count / secs : 0;

	json_object_set_new(
		o, "echo",
		json_pack("{s:s,s:i,s:I,s:I,s:f,s:f,s:f,s:f,s:o,s:o}", "server",
			  ik_server_names[res->server], "clients",
			  (int)res->clients, "messages", (json_int_t)res->count,
			  "wall_ns", (json_int_t)res->wall_ns,
			  "messages_per_sec", rate, "mb_per_sec_one_way",
			  rate * (double)res->size / 1e6,
			  "cpu_server_per_msg_ns",
			  ik_per((double)res->cpu[1].cpu_ns, res->count),
			  "cpu_clients_per_msg_ns",
			  ik_per((double)res->cpu[0].cpu_ns, res->count),
			  "server_cpu", cpu_json(&res->cpu[1], res->count),
			  "clients_cpu", cpu_json(&res->cpu[0], res->count)));
}

static void connect_json(json_t *o, const struct ik_result *res)
{
	const struct ik_connect_result *cx = &res->connect;
	const struct ik_hist *h = &cx->connect_hist;
	double secs = res->wall_ns / 1e9;

	json_object_set_new(
		o, "connect",
		json_pack("{s:i,s:i,s:I,s:I,s:I,s:o,s:f,s:o,s:o,s:{s:I,"
			  "s:I,s:I,s:I},s:o,s:o}",
			  "clients", (int)res->clients, "backlog",
			  (int)cx->backlog, "requests", (json_int_t)res->count,
			  "served", (json_int_t)cx->served, "failed",
			  (json_int_t)cx->failed, "first_failure",
			  cx->failed ? json_string(strerror(-cx->first_err))
				     : json_null(),
			  "requests_per_sec",
			  secs > 0 ? res->count / secs : 0.0, "time_wait_after",
			  cx->time_wait < 0 ? json_null()
					    : json_integer(cx->time_wait),
			  "tcp_tw_reuse",
			  cx->tw_reuse < 0 ? json_null()
					   : json_integer(cx->tw_reuse),
			  "connect_ns", "p50",
			  (json_int_t)ik_hist_percentile(h, 50), "p99",
			  (json_int_t)ik_hist_percentile(h, 99), "p99_9",
			  (json_int_t)ik_hist_percentile(h, 99.9), "max",
			  (json_int_t)h->max, "server_cpu",
			  cpu_json(&res->cpu[1], res->count), "clients_cpu",
			  cpu_json(&res->cpu[0], res->count)));
}

static void call_json(json_t *o, const struct ik_result *res)
{
	double n = res->count ? (double)res->count : 1;
	double ca = (double)res->cpu[0].cpu_ns, cw = (double)res->cpu[1].cpu_ns;

	json_object_set_new(
		o, "call",
		json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:s}",
			  "work_ns", (json_int_t)res->work_ns, "calls",
			  (json_int_t)res->count, "wall_ns",
			  (json_int_t)res->wall_ns, "cpu_caller_ns",
			  (json_int_t)res->cpu[0].cpu_ns, "cpu_worker_ns",
			  (json_int_t)res->cpu[1].cpu_ns, "wall_per_call_ns",
			  (double)res->wall_ns / n, "cpu_per_call_ns",
			  (ca + cw) / n, "cpu_caller_per_call_ns", ca / n,
			  "cpu_worker_per_call_ns", cw / n, "cpu_counted",
			  "timed calls only"));
}

/*
 * Each kernel's part of a result object: the fields that tell its cells
 * apart (after gap_ns), what it measured, and its own object after the
 * CPU. Indexed by the result's kernel (its ops' id).
 */
static const struct kernel_json {
	void (*cell)(json_t *o, const struct ik_result *res);
	void (*measured)(json_t *o, const struct ik_result *res,
			 const struct ik_stats *st);
	void (*own)(json_t *o, const struct ik_result *res);
} kernel_json[] = {
	[IK_KERNEL_PINGPONG] = {listen_cell_json, roundtrip_json, NULL},
	[IK_KERNEL_STREAM] = {listen_cell_json, stream_json, NULL},
	[IK_KERNEL_CALL] = {call_cell_json, roundtrip_json, call_json},
	[IK_KERNEL_ECHO] = {echo_cell_json, roundtrip_json, echo_json},
	[IK_KERNEL_CONNECT] = {connect_cell_json, roundtrip_json, connect_json},
};
_Static_assert(IK_ARRAY_SIZE(kernel_json) == IK_NKERNELS,
	       "a JSON row per kernel in kernels/registry.c");

/* What ran, where, and how it ended: every result, ok or failed. */
static json_t *cell_json(const struct ik_report *r, const struct ik_result *res,
			 const struct kernel_json *k)
{
	json_t *o = json_object();

	json_object_set_new(o, "method", json_string(res->ops->name));
	json_object_set_new(o, "mode", json_string(ik_mode_name(res->mode)));
	json_object_set_new(o, "size", json_integer((json_int_t)res->size));
	json_object_set_new(o, "buffer", json_integer((json_int_t)res->buffer));
	json_object_set_new(o, "gap_ns", json_integer((json_int_t)res->gap_ns));
	k->cell(o, res);
	if (res->cls >= 0)
		json_object_set_new(
			o, "class",
			json_string(ik_class_key((enum ik_class)res->cls)));
	if (res->npairs > 1) {
		json_object_set_new(o, "pairs_at_once",
				    json_integer((json_int_t)res->npairs));
		json_object_set_new(
			o, "pair_number",
			res->pair_index < 0
				? json_string("sum")
				: json_integer(res->pair_index + 1));
	}
	json_object_set_new(o, "count", json_integer((json_int_t)res->count));
	json_object_set_new(
		o, "memory",
		json_pack("{s:o,s:o}", "node_asked",
			  r->mem_node < 0 ? json_null()
					  : json_integer(r->mem_node),
			  "pages_on_node",
			  res->mem_node < 0 ? json_string("unknown")
					    : json_integer(res->mem_node)));
	if (r->matrix)
		json_object_set_new(o, "startup_ms",
				    json_real(res->startup_ms));
	json_object_set_new(o, "granted", json_string(res->granted));
	json_object_set_new(o, "pair", pair_json(res));
	json_object_set_new(o, "status",
			    json_string(res->err ? "error" : "ok"));
	if (res->note[0])
		json_object_set_new(o, "stalls",
				    json_pack("{s:i,s:I,s:s}", "count",
					      (int)res->stalls, "at_least_ns",
					      (json_int_t)res->stall_ns, "why",
					      res->note));
	return o;
}

static json_t *result_json(const struct ik_report *r,
			   const struct ik_result *res)
{
	const struct kernel_json *k = &kernel_json[ik_result_kernel(res)];
	json_t *o = cell_json(r, res, k);
	struct ik_stats st;

	if (res->err) {
		json_object_set_new(o, "error", json_string(res->errmsg));
		return o;
	}
	ik_stats_of(r, res, &st);
	k->measured(o, res, &st);
	json_object_set_new(
		o, "cpu",
		json_pack("{s:o,s:o}", "a",
			  cpu_json(&res->cpu[0], res->count + res->warmup), "b",
			  cpu_json(&res->cpu[1], res->count + res->warmup)));
	if (k->own)
		k->own(o, res);
	json_object_set_new(o, "repeats", repeats_json(res));
	return o;
}

/* ---- the run ---- */

static json_t *floor_json(const struct ik_report *r)
{
	const struct ik_result *fl = r->floor;
	struct ik_stats st;

	ik_stats_of(r, fl, &st);
	return json_pack("{s:s,s:[i,i],s:I,s:I,s:f,s:f,s:f}", "what",
			 "one word bounced through the ping-pong loop", "cpus",
			 fl->pair.cpu[0], fl->pair.cpu[1], "round_trips",
			 (json_int_t)fl->count, "p50_ns", (json_int_t)st.p50,
			 "whole_run_mean_ns", st.wall_mean, "untimed_mean_ns",
			 st.untimed, "timing_cost_ns",
			 st.wall_mean - st.untimed);
}

int ik_report_json(const struct ik_report *r, FILE *f)
{
	json_t *root = json_object(), *res = json_array(),
	       *notes = json_array();
	char when[32];
	time_t now = time(NULL);
	unsigned i;
	int ret;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_object_set_new(root, "schema", json_string(IK_SCHEMA));
	json_object_set_new(root, "tool",
			    json_pack("{s:s,s:s}", "name", "ipckern", "version",
				      IK_VERSION));
	json_object_set_new(root, "created", json_string(when));
	json_object_set_new(root, "machine", ik_machine_json(r->machine));
	json_object_set_new(root, "timer", ik_timer_json(r->timer));
	json_object_set_new(
		root, "topology_source",
		json_string(r->topology ? r->topology : "this machine"));
	json_object_set_new(root, "config", ik_config_json(r));
	for (i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_object_set_new(root, "notes", notes);
	if (r->floor && !r->floor->err)
		json_object_set_new(root, "floor", floor_json(r));
	if (r->cfg->kernel == IK_KERNEL_PINGPONG)
		json_object_set_new(root, "vs_line",
				    json_string("p50 over line's p50 on the "
						"same pair, mode, size and "
						"gap"));
	if (r->classes)
		json_object_set_new(root, "classes",
				    ik_classes_json(r->classes));
	if (r->matrix)
		json_object_set_new(root, "matrix", ik_matrix_json(r));
	for (i = 0; i < r->nresults; i++)
		json_array_append_new(res, result_json(r, &r->results[i]));
	json_object_set_new(root, "results", res);
	ret = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	fputc('\n', f);
	return ret || ferror(f) ? -EIO : 0;
}
