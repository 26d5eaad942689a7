/* SPDX-License-Identifier: MIT */
/*
 * --explain in the reports: each result's counters (counters/, taken by
 * the peers at their start gate and at their end) per hop, the
 * one-line reading, and what this machine does not expose and why. The
 * table gets a section after the kernel's table; JSON an "explain"
 * object per result with every counter's unit and availability.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "writers.h"

/* The hops a result's counters cover: the span its CPU figures cover
 * (reports/stats.c divides CPU the same way). */
static double hops(const struct ik_result *res)
{
	const struct ik_kernel_ops *k = ik_result_ops(res);

	if (k->one_way)
		return (double)res->stream.messages;
	return (double)(res->count + (k->cpu_timed_only ? 0 : res->warmup));
}

static const char *hop_name(const struct ik_result *res)
{
	return ik_result_ops(res)->one_way ? "message" : "round trip";
}

/* Counter c of peer s per hop; NaN where it is not exposed. */
static double per(const struct ik_result *res, int s, enum ik_ctr c)
{
	double n = hops(res);

	if (res->ctr[s].err[c] || n <= 0)
		return NAN;
	return (double)res->ctr[s].v[c] / n;
}

static double ipis(const struct ik_result *res, int s)
{
	return per(res, s, IK_CTR_IPI_RES) + per(res, s, IK_CTR_IPI_CAL) +
	       per(res, s, IK_CTR_IPI_TLB);
}

void ik_explain_per_of(const struct ik_result *res, struct ik_explain_per *p)
{
	double cyc = per(res, 0, IK_CTR_CYCLES) + per(res, 1, IK_CTR_CYCLES);

	*p = (struct ik_explain_per){
		.ipis = ipis(res, 0) + ipis(res, 1),
		.cs = per(res, 0, IK_CTR_CS) + per(res, 1, IK_CTR_CS),
		.migrations = per(res, 0, IK_CTR_MIGRATIONS) +
			      per(res, 1, IK_CTR_MIGRATIONS),
		.faults =
			per(res, 0, IK_CTR_FAULTS) + per(res, 1, IK_CTR_FAULTS),
		.idle = per(res, 0, IK_CTR_IDLE) + per(res, 1, IK_CTR_IDLE),
		.ipc = cyc > 0 ? (per(res, 0, IK_CTR_INSTR) +
				  per(res, 1, IK_CTR_INSTR)) /
					 cyc
			       : NAN,
		.same_cpu = res->pair.rel == IK_REL_SAME_PU,
		.unpinned = res->pair.rel == IK_REL_UNPINNED,
	};
}

/* Why counter c is not exposed, from its error. */
static void why(enum ik_ctr c, int err, char *buf, size_t len)
{
	if (err == -EDOM)
		snprintf(buf, len,
			 "the peers are not pinned: their CPUs are "
			 "not known (--pin)");
	else if (c >= IK_CTR_CYCLES && c < IK_NCTR_PERF)
		snprintf(buf, len,
			 "perf_event_open: %s (no PMU exposed here, as in "
			 "most VMs)",
			 strerror(-err));
	else if (c < IK_NCTR_PERF)
		snprintf(buf, len, "perf_event_open: %s", strerror(-err));
	else if (c == IK_CTR_IDLE)
		snprintf(buf, len, "no cpuidle usage counters: %s",
			 strerror(-err));
	else
		snprintf(buf, len, "no such row in /proc/interrupts: %s",
			 strerror(-err));
}

static void fmt(char *b, size_t n, double v)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else
		snprintf(b, n, v < 10 ? "%.2f" : "%.1f", v);
}

static void peer_cols(FILE *f, const struct ik_result *res, int s)
{
	static const enum ik_ctr cols[] = {IK_CTR_IPI_RES, IK_CTR_IPI_CAL,
					   IK_CTR_CS,	   IK_CTR_MIGRATIONS,
					   IK_CTR_FAULTS,  IK_CTR_IDLE};
	double n = hops(res);
	char b[24];
	unsigned i;

	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		fmt(b, sizeof(b), per(res, s, cols[i]));
		fprintf(f, " %6s", b);
	}
	fmt(b, sizeof(b), n > 0 ? (double)res->cpu[s].vol_cs / n : NAN);
	fprintf(f, " %6s", b);
	fmt(b, sizeof(b), n > 0 ? (double)res->cpu[s].invol_cs / n : NAN);
	fprintf(f, " %6s", b);
}

/* The counters no explained result has, once each, with why. */
static void not_exposed(const struct ik_report *r, FILE *f)
{
	char w[160];
	int c;
	size_t i;

	for (c = 0; c < IK_NCTR; c++) {
		for (i = 0; i < r->nresults; i++) {
			const struct ik_result *res = &r->results[i];
			int err = res->ctr[0].err[c] ? res->ctr[0].err[c]
						     : res->ctr[1].err[c];

			if (!res->explained || !err)
				continue;
			why((enum ik_ctr)c, err, w, sizeof(w));
			fprintf(f, "  not exposed: %s: %s\n",
				ik_ctr_infos[c].name, w);
			break;
		}
	}
}

void ik_explain_table(const struct ik_report *r, FILE *f)
{
	struct ik_explain_per p;
	char line[200];
	size_t i;
	bool any = false;

	for (i = 0; i < r->nresults; i++)
		any |= r->results[i].explained;
	if (!r->cfg->explain)
		return;
	fprintf(f,
		"\nexplain: per %s, each peer (A | B); counted in the "
		"timed pass itself: each peer's counters are read at its "
		"start gate and at its end, never inside the loop; IPIs "
		"and idle entries are per CPU and include its background "
		"(not subtracted)\n",
		r->nresults ? hop_name(&r->results[0]) : "round trip");
	if (!any) {
		fprintf(f, "  nothing counted (every cell failed, or its "
			   "kernel does not count yet)\n");
		return;
	}
	fprintf(f, "%-12s %-7s |%s |%s | reading\n", "method", "mode",
		"    res    cal     cs   migr faults   idle    vcs    ics",
		"    res    cal     cs   migr faults   idle    vcs    ics");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];

		fprintf(f, "%-12s %-7s |", res->ops->name,
			ik_mode_name(res->mode));
		if (!res->explained) {
			fprintf(f, " not counted%s\n",
				res->err ? " (failed)" : "");
			continue;
		}
		peer_cols(f, res, 0);
		fprintf(f, " |");
		peer_cols(f, res, 1);
		ik_explain_per_of(res, &p);
		fprintf(f, " | %s\n",
			ik_explain_reading(&p, line, sizeof(line)));
	}
	fprintf(f, "  res/cal: rescheduling / function-call IPIs on the "
		   "peer's CPU; cs, migr, faults: perf software events of "
		   "the peer's thread; idle: cpuidle entries of its CPU; "
		   "vcs/ics: voluntary / involuntary switches (getrusage)\n");
	not_exposed(r, f);
}

static json_t *peer_json(const struct ik_result *res, int s)
{
	json_t *o = json_object(), *c;
	double n = hops(res);
	char w[160];
	int i;

	json_object_set_new(o, "cpu", json_integer(res->pair.cpu[s]));
	for (i = 0; i < IK_NCTR; i++) {
		int err = res->ctr[s].err[i];

		c = json_object();
		json_object_set_new(c, "unit",
				    json_string(ik_ctr_infos[i].unit));
		json_object_set_new(c, "what",
				    json_string(ik_ctr_infos[i].what));
		json_object_set_new(c, "available", json_boolean(!err));
		if (err) {
			why((enum ik_ctr)i, err, w, sizeof(w));
			json_object_set_new(c, "why", json_string(w));
		} else {
			json_object_set_new(
				c, "total",
				json_integer((json_int_t)res->ctr[s].v[i]));
			json_object_set_new(c, "per_hop",
					    json_real(per(res, s, i)));
		}
		json_object_set_new(o, ik_ctr_infos[i].name, c);
	}
	json_object_set_new(
		o, "voluntary_cs",
		json_pack("{s:s,s:b,s:I,s:f}", "unit", "count", "available", 1,
			  "total", (json_int_t)res->cpu[s].vol_cs, "per_hop",
			  n > 0 ? (double)res->cpu[s].vol_cs / n : 0.0));
	json_object_set_new(
		o, "involuntary_cs",
		json_pack("{s:s,s:b,s:I,s:f}", "unit", "count", "available", 1,
			  "total", (json_int_t)res->cpu[s].invol_cs, "per_hop",
			  n > 0 ? (double)res->cpu[s].invol_cs / n : 0.0));
	return o;
}

json_t *ik_explain_json(const struct ik_result *res)
{
	struct ik_explain_per p;
	char line[200];

	ik_explain_per_of(res, &p);
	return json_pack("{s:s,s:f,s:s,s:b,s:s,s:o,s:o}", "per", hop_name(res),
			 "hops", hops(res), "pass", "timed",
			 "background_subtracted", 0, "reading",
			 ik_explain_reading(&p, line, sizeof(line)), "a",
			 peer_json(res, 0), "b", peer_json(res, 1));
}
