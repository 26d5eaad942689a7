/* SPDX-License-Identifier: MIT */
/*
 * --load in the reports: which antagonists ran beside each cell, where
 * they ran (sched_getcpu at their start and end), and their own work
 * rate: spin iterations/s, l3/mem bytes read and written per second, a
 * stream's messages and bytes per second. Nothing is written for a run
 * without --load, so its outputs stay as they were.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "writers.h"

bool ik_load_used(const struct ik_report *r)
{
	return r->sweep && r->sweep->nloads;
}

/* "1.23 G iters/s", "273 MB/s": three digits, an SI prefix, the unit */
static const char *si(char *b, size_t n, double v, const char *unit)
{
	static const char pre[] = " kMGT";
	int k = 0;

	while (v >= 1000 && k < 4)
		v /= 1000, k++;
	if (!k)
		snprintf(b, n, "%.3g %s", v, unit);
	else
		snprintf(b, n, unit[0] == 'B' ? "%.3g %c%s" : "%.3g %c %s", v,
			 pre[k], unit);
	return b;
}

static json_t *cpus_json(const int *c, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, c[i] < 0 ? json_null()
						  : json_integer(c[i]));
	return a;
}

/* The JSON key of ik_load_rate(o): its unit in its name */
static const char *rate_key(const struct ik_load_out *o)
{
	switch (o->kind) {
	case IK_LOAD_L3:
	case IK_LOAD_MEM:
		return "bytes_per_sec";
	case IK_LOAD_STREAM:
		return "msgs_per_sec";
	default:
		return "iters_per_sec";
	}
}

json_t *ik_load_json(const struct ik_result *res)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < res->load.n; i++) {
		const struct ik_load_out *o = &res->load.out[i];
		unsigned nc = o->kind == IK_LOAD_STREAM ? 2 : 1;
		json_t *e = json_object();

		json_object_set_new(e, "kind",
				    json_string(ik_load_kind_name(o->kind)));
		json_object_set_new(e, "cpus", cpus_json(o->cpu, nc));
		json_object_set_new(e, "cpus_seen_start",
				    cpus_json(o->cpu_seen, nc));
		json_object_set_new(e, "cpus_seen_end",
				    cpus_json(o->cpu_end, nc));
		json_object_set_new(
			e, "run_ns",
			json_integer((json_int_t)(o->seconds * 1e9)));
		json_object_set_new(e, rate_key(o), json_real(ik_load_rate(o)));
		if (o->kind == IK_LOAD_L3 || o->kind == IK_LOAD_MEM) {
			json_object_set_new(
				e, "buffer_bytes",
				json_integer((json_int_t)o->buf_bytes));
			json_object_set_new(
				e, "pages_on_node",
				o->node_seen < 0 ? json_null()
						 : json_integer(o->node_seen));
		}
		if (o->kind == IK_LOAD_L3)
			json_object_set_new(e, "cache_level",
					    json_integer(o->cache_level));
		if (o->kind == IK_LOAD_MEM)
			json_object_set_new(e, "node",
					    o->node < 0
						    ? json_null()
						    : json_integer(o->node));
		if (o->kind == IK_LOAD_STREAM) {
			json_object_set_new(e, "method",
					    json_string(o->ops->name));
			json_object_set_new(e, "size",
					    json_integer((json_int_t)o->size));
			json_object_set_new(
				e, "bytes_per_sec",
				json_real(o->seconds > 0 ? (double)o->bytes /
								   o->seconds
							 : 0));
		}
		json_array_append_new(a, e);
	}
	return a;
}

/* "spin CPU 2 (ran on 2..2) 1.23 G iters/s" */
static void one_out(const struct ik_load_out *o, char *b, size_t n)
{
	char r[32], x[32], buf[32];
	double rate = ik_load_rate(o);

	if (o->kind == IK_LOAD_STREAM) {
		snprintf(b, n,
			 "stream %s %s CPU %d->%d (ran on %d..%d -> %d..%d): "
			 "%s, %s",
			 o->ops->name, ik_fmt_bytes(buf, sizeof(buf), o->size),
			 o->cpu[0], o->cpu[1], o->cpu_seen[0], o->cpu_end[0],
			 o->cpu_seen[1], o->cpu_end[1],
			 si(r, sizeof(r), rate, "msgs/s"),
			 si(x, sizeof(x),
			    o->seconds > 0 ? (double)o->bytes / o->seconds : 0,
			    "B/s"));
		return;
	}
	snprintf(b, n, "%s CPU %d (ran on %d..%d): %s",
		 ik_load_kind_name(o->kind), o->cpu[0], o->cpu_seen[0],
		 o->cpu_end[0], si(r, sizeof(r), rate, ik_load_rate_unit(o)));
	if (o->kind == IK_LOAD_L3 || o->kind == IK_LOAD_MEM) {
		size_t u = strlen(b);

		snprintf(b + u, n - u, ", %s buffer",
			 ik_fmt_bytes(buf, sizeof(buf), o->buf_bytes));
		u = strlen(b);
		if (o->kind == IK_LOAD_L3)
			snprintf(b + u, n - u, " (the L%d)", o->cache_level);
		else
			snprintf(b + u, n - u, " bound to node %d", o->node);
		u = strlen(b);
		if (o->node_seen >= 0)
			snprintf(b + u, n - u, ", pages on node %d",
				 o->node_seen);
	}
}

void ik_load_table(const struct ik_report *r, FILE *f, int mw)
{
	char sz[24], line[256];
	bool head = false;

	if (!ik_load_used(r))
		return;
	for (size_t i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];

		if (!res->load.n)
			continue;
		if (!head)
			fprintf(f,
				"\nantagonists (--load): pinned threads from "
				"the start gate to after the timed loop; "
				"ran on: sched_getcpu at start..end\n");
		head = true;
		fprintf(f, "%-*s %-7s %6s  %s\n", mw, res->ops->name,
			ik_mode_name(res->mode),
			ik_fmt_bytes(sz, sizeof(sz), res->size),
			res->load.text);
		for (unsigned k = 0; k < res->load.n; k++) {
			one_out(&res->load.out[k], line, sizeof(line));
			fprintf(f, "    %s\n", line);
		}
	}
}

void ik_load_csv(const struct ik_result *res, int col, char *b, size_t n)
{
	size_t u = 0;

	b[0] = 0;
	if (col == 0) {
		snprintf(b, n, "%s", res->load.text);
		return;
	}
	/* col 1: where each ran; col 2: each one's rate and unit */
	for (unsigned k = 0; k < res->load.n && u + 1 < n; k++) {
		const struct ik_load_out *o = &res->load.out[k];

		if (col == 1 && o->kind == IK_LOAD_STREAM)
			snprintf(b + u, n - u, "%s%d+%d", k ? ";" : "",
				 o->cpu_seen[0], o->cpu_seen[1]);
		else if (col == 1)
			snprintf(b + u, n - u, "%s%d", k ? ";" : "",
				 o->cpu_seen[0]);
		else
			snprintf(b + u, n - u, "%s%s=%.6g %s", k ? ";" : "",
				 ik_load_kind_name(o->kind), ik_load_rate(o),
				 ik_load_rate_unit(o));
		u = strlen(b);
	}
}
