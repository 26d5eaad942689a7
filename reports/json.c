/* SPDX-License-Identifier: MIT */
/*
 * --format json: one versioned schema (IK_SCHEMA) for every kernel,
 * through jansson. The run (tool, machine, timer, config, notes, floor,
 * classes, matrix), then one object per result: the cell, what the
 * kernel measured (latency, or a stream's rates), CPU, the kernel's own
 * part and every repeat's metrics (what --baseline reads back); the
 * kernel's parts are its ops' json_* hooks. Keys keep their order:
 * jansson writes them as they were set.
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
	if (sw->nwaits > 1) { /* --wait a list: each result says its own */
		json_t *w = json_array();

		for (i = 0; i < sw->nwaits; i++)
			json_array_append_new(
				w, json_string(ik_wait_name(sw->waits[i])));
		json_object_set_new(o, "waits", w);
	}
	if (sw->budget_given) {
		json_t *b = json_array();
		char nm[24];

		for (i = 0; i < sw->nbudgets; i++) {
			ik_spin_budget_name(sw->budgets[i], nm, sizeof(nm));
			json_array_append_new(b, json_string(nm));
		}
		json_object_set_new(o, "spin_budgets", b);
	}
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
	if (sw->nloads) {
		json_t *ld = json_array();

		for (i = 0; i < sw->nloads; i++)
			json_array_append_new(ld,
					      json_string(sw->loads[i].text));
		json_object_set_new(o, "loads", ld);
		json_object_set_new(o, "load_on_peer",
				    json_boolean(c->load_on_peer));
	}
	if (c->pinned)
		json_object_set_new(o, "pin",
				    json_pack("[ii]", ik_config_cpu(c, 0),
					      ik_config_cpu(c, 1)));
	else
		json_object_set_new(o, "pin", json_null());
	if (c->slo.n) /* --slo: only when given (each result has the rest) */
		json_object_set_new(o, "slo",
				    json_pack("{s:s,s:f}", "condition",
					      c->slo.text, "precision",
					      c->slo.precision));
	return o;
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
			    json_string("each key says its unit; a msg is "
					"the result's \"msg\"; "
					"cpu_ns_per_msg: both peers' CPU"));
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
		if (s.n < 2) /* one sample has no interval and no spread */
			s.lo = s.hi = s.cv = NAN;
		json_object_set_new(
			ms, ik_metric_infos[m].key,
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

static json_t *pair_json(const struct ik_result *res)
{
	const struct ik_pair *p = &res->pair;
	json_t *pair = json_object();

	json_object_set_new(pair, "pinned", json_boolean(p->pinned));
	json_object_set_new(pair, "cpus",
			    p->pinned ? json_pack("[ii]", p->cpu[0], p->cpu[1])
				      : json_null());
	/* a crew (echo, connect) has many threads a side and says where
	 * none of them ran: null, not the 0s it holds */
	json_object_set_new(pair, "cpus_seen",
			    ik_result_ops(res)->crew
				    ? json_null()
				    : json_pack("[ii]", res->cpu_seen[0],
						res->cpu_seen[1]));
	json_object_set_new(pair, "relation",
			    json_string(ik_relation_key(p->rel)));
	json_object_set_new(pair, "relation_text",
			    json_string(ik_relation_name(p->rel)));
	json_object_set_new(pair, "cross_numa", json_boolean(p->cross_numa));
	return pair;
}

/* hybrid's budget: {"ns": N} or {"iters": N} */
static json_t *spin_budget_json(uint64_t b)
{
	return json_pack("{s:I}", b & IK_BUDGET_ITERS ? "iters" : "ns",
			 (json_int_t)(b & ~IK_BUDGET_ITERS));
}

/* What ran, where, and how it ended: every result, ok or failed. */
static json_t *cell_json(const struct ik_report *r, const struct ik_result *res,
			 const struct ik_kernel_ops *k)
{
	json_t *o = json_object();

	json_object_set_new(o, "method", json_string(res->ops->name));
	json_object_set_new(o, "mode", json_string(ik_mode_name(res->mode)));
	json_object_set_new(o, "size", json_integer((json_int_t)res->size));
	/* 0: not asked, the method's own (granted says what it got) */
	json_object_set_new(o, "buffer",
			    res->buffer ? json_integer((json_int_t)res->buffer)
					: json_null());
	json_object_set_new(o, "gap_ns", json_integer((json_int_t)res->gap_ns));
	if (res->wait_shown) {
		json_object_set_new(o, "wait",
				    json_string(ik_wait_name(res->wait)));
		if (res->wait == IK_WAIT_HYBRID)
			json_object_set_new(o, "spin_budget",
					    spin_budget_json(res->spin_budget));
	}
	k->json_cell(o, res);
	if (res->cls >= 0)
		json_object_set_new(
			o, "class",
			json_string(ik_class_key((enum ik_class)res->cls)));
	if (res->load.text[0])
		json_object_set_new(o, "load", json_string(res->load.text));
	if (res->npairs > 1) {
		json_object_set_new(o, "pairs_at_once",
				    json_integer((json_int_t)res->npairs));
		/* the sum of all pairs is no pair: null, and said so */
		json_object_set_new(
			o, "pair_number",
			res->pair_index < 0
				? json_null()
				: json_integer(res->pair_index + 1));
		json_object_set_new(o, "sum_of_pairs",
				    json_boolean(res->pair_index < 0));
	}
	json_object_set_new(o, "msg", json_string(k->msg));
	/* a failed cell counted nothing: null, as in CSV */
	json_object_set_new(o, "count",
			    res->err ? json_null()
				     : json_integer((json_int_t)res->count));
	json_object_set_new(
		o, "memory",
		json_pack("{s:o,s:o}", "node_asked",
			  r->mem_node < 0 ? json_null()
					  : json_integer(r->mem_node),
			  "pages_on_node",
			  res->mem_node < 0 ? json_null()
					    : json_integer(res->mem_node)));
	if (ik_lines_used(r)) /* issue 19: only when asked */
		ik_lines_json(o, r, res);
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

/* CPU ns per msg of one peer: the msgs the gate's cpu metric counts. */
static json_t *peer_cpu_json(const struct ik_result *res, int peer)
{
	return ik_cpu_json(&res->cpu[peer], ik_result_msgs(res), "msg");
}

/*
 * Late and lost wake-ups (issue 20), when --late was given or either
 * count is not 0: a default run's report keeps its shape.
 */
static void late_json(json_t *o, const struct ik_result *res)
{
	const struct ik_late *l = &res->late;
	json_t *ev = json_array();
	unsigned i;

	for (i = 0; i < l->nev; i++)
		json_array_append_new(
			ev, json_pack("{s:I,s:I,s:I}", "trip",
				      (json_int_t)l->ev[i].trip, "at_ns",
				      (json_int_t)l->ev[i].at_ns, "ns",
				      (json_int_t)l->ev[i].ns));
	if (!l->threshold_ns) { /* a kernel that times no round trip */
		json_decref(ev);
		json_object_set_new(o, "lost",
				    json_integer((json_int_t)res->lost));
		return;
	}
	json_object_set_new(o, "late",
			    json_pack("{s:I,s:I,s:I,s:o}", "threshold_ns",
				      (json_int_t)l->threshold_ns, "count",
				      (json_int_t)l->count, "worst_ns",
				      (json_int_t)l->worst_ns, "events", ev));
	json_object_set_new(o, "lost", json_integer((json_int_t)res->lost));
}

/* A soak's minutes, in order. */
static json_t *soak_json(const struct ik_result *res)
{
	json_t *a = json_array();
	unsigned m;

	for (m = 0; m < res->nsoak; m++) {
		const struct ik_soak_minute *s = &res->soak[m];

		json_array_append_new(
			a,
			json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "minute",
				  (int)m + 1, "count", (json_int_t)s->count,
				  "p50_ns", (json_int_t)s->p50, "p99_ns",
				  (json_int_t)s->p99, "p99_99_ns",
				  (json_int_t)s->p9999, "max_ns",
				  (json_int_t)s->max, "late",
				  (json_int_t)s->late, "lost",
				  (json_int_t)s->lost));
	}
	return a;
}

static json_t *result_json(const struct ik_report *r,
			   const struct ik_result *res)
{
	const struct ik_kernel_ops *k = ik_result_ops(res);
	json_t *o = cell_json(r, res, k);
	struct ik_stats st;

	if (res->err) {
		json_object_set_new(o, "error", json_string(res->errmsg));
		if (res->slo && k->json_own) /* --slo: the steps it ran */
			k->json_own(o, res);
		return o;
	}
	ik_stats_of(r, res, &st);
	k->json_measured(o, res, &st);
	json_object_set_new(o, "cpu",
			    json_pack("{s:o,s:o}", "a", peer_cpu_json(res, 0),
				      "b", peer_cpu_json(res, 1)));
	if (k->json_own)
		k->json_own(o, res);
	if (res->explained)
		json_object_set_new(o, "explain", ik_explain_json(res));
	if (res->load.text[0])
		json_object_set_new(o, "antagonists", ik_load_json(res));
	if (res->late_shown)
		late_json(o, res);
	if (res->nsoak)
		json_object_set_new(o, "soak", soak_json(res));
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
	if (r->nwarnings) {
		json_t *w = json_array();

		for (i = 0; i < r->nwarnings; i++)
			json_array_append_new(w, json_string(r->warnings[i]));
		json_object_set_new(root, "warnings", w);
	}
	if (r->partial) {
		json_object_set_new(root, "partial", json_true());
		json_object_set_new(root, "partial_reason",
				    json_string(r->partial));
	}
	if (r->floor && !r->floor->err)
		json_object_set_new(root, "floor", floor_json(r));
	if (ik_kernels[r->cfg->kernel]->json_run)
		ik_kernels[r->cfg->kernel]->json_run(root, r->cfg);
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
