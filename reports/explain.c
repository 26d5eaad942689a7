/* SPDX-License-Identifier: MIT */
/*
 * --explain in the reports: each result's counters (counters/, taken by
 * the peers at their start gate and at their end) per hop, the
 * one-line reading, and what this machine does not expose and why. The
 * table gets a section after the kernel's table; JSON an "explain"
 * object per result with every counter's unit and availability.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "writers.h"

/* The hops a result's counters cover: the counted pass's, over the
 * span its CPU figures cover (reports/stats.c divides CPU the same
 * way). */
static double hops(const struct ik_result *res)
{
	const struct ik_kernel_ops *k = ik_result_ops(res);
	/* not through the grid (explain_pass 0): its own figures */
	struct ik_counted c = {.count = res->count,
			       .warmup = res->warmup,
			       .messages = res->stream.messages};

	if (res->explain_pass)
		c = res->counted;
	if (k->one_way)
		return (double)c.messages;
	return (double)(c.count + (k->cpu_timed_only ? 0 : c.warmup));
}

/* The counted pass's CPU use of side s (getrusage's switches). */
static const struct ik_cpu_usage *ccpu(const struct ik_result *res, int s)
{
	return res->explain_pass ? &res->counted.cpu[s] : &res->cpu[s];
}

static const char *hop_name(const struct ik_result *res)
{
	return ik_result_ops(res)->one_way ? "message" : "round trip";
}

/* The per-CPU counters' background was measured (pinned peers). */
static bool has_bg(const struct ik_result *res)
{
	return res->bg[0].ns && res->bg[1].ns;
}

/* Counter c of peer s per hop, a per-CPU one less its CPU's background
 * over as long a span; NaN where it is not exposed. A background
 * larger than the count (the CPU was busier with the peers gone) is
 * clamped to 0, and *clamped says so. */
static double per_c(const struct ik_result *res, int s, enum ik_ctr c,
		    bool *clamped)
{
	const struct ik_counts *bg = &res->bg[s];
	double n = hops(res), v = (double)res->ctr[s].v[c];

	if (res->ctr[s].err[c] || n <= 0)
		return NAN;
	if (c >= IK_NCTR_PERF && has_bg(res) && !bg->err[c]) {
		v -= (double)bg->v[c] * (double)res->ctr[s].ns / (double)bg->ns;
		if (v < 0) {
			v = 0;
			if (clamped)
				*clamped = true;
		}
	}
	return v / n;
}

static double per(const struct ik_result *res, int s, enum ik_ctr c)
{
	return per_c(res, s, c, NULL);
}

/* Some IPI count the reading adds up went below 0 and was clamped. */
static bool any_clamped(const struct ik_result *res)
{
	bool clamped = false;
	int s, c;

	for (s = 0; s < 2; s++)
		for (c = IK_CTR_IPI_RES; c <= IK_CTR_IPI_TLB; c++)
			per_c(res, s, (enum ik_ctr)c, &clamped);
	return clamped;
}

static double ipis(const struct ik_result *res, int s)
{
	return per(res, s, IK_CTR_IPI_RES) + per(res, s, IK_CTR_IPI_CAL) +
	       per(res, s, IK_CTR_IPI_TLB);
}

void ik_explain_per_of(const struct ik_result *res, struct ik_explain_per *p)
{
	double cyc = per(res, 0, IK_CTR_CYCLES) + per(res, 1, IK_CTR_CYCLES);
	double n = hops(res);
	double vcs =
		n > 0 ? (double)(ccpu(res, 0)->vol_cs + ccpu(res, 1)->vol_cs) /
				n
		      : NAN;
	double ics = n > 0 ? (double)(ccpu(res, 0)->invol_cs +
				      ccpu(res, 1)->invol_cs) /
				     n
			   : NAN;
	double cs = per(res, 0, IK_CTR_CS) + per(res, 1, IK_CTR_CS);

	*p = (struct ik_explain_per){
		.ipis = ipis(res, 0) + ipis(res, 1),
		/* perf not allowed to count switches: getrusage's, said */
		.cs = isnan(cs) ? vcs + ics : cs,
		.vcs = vcs,
		.ics = ics,
		.cs_rusage = isnan(cs) && !isnan(vcs),
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
		.bg_subtracted = has_bg(res),
		.clamped = any_clamped(res),
	};
}

/* Why counter c is not exposed, from its error. */
static void why(enum ik_ctr c, int err, char *buf, size_t len)
{
	if (err == -EDOM)
		snprintf(buf, len,
			 "per CPU, and the CPU is not the peer's "
			 "alone (not pinned: --pin; or several "
			 "clients share it)");
	else if (c >= IK_CTR_CYCLES && c < IK_NCTR_PERF)
		snprintf(buf, len,
			 "perf_event_open: %s (no PMU exposed here, as in "
			 "most VMs)",
			 strerror(-err));
	else if (c < IK_NCTR_PERF && (err == -EACCES || err == -EPERM) &&
		 !ik_ctr_user_countable(c))
		snprintf(buf, len,
			 "perf_event_open: %s (perf_event_paranoid allows "
			 "user-space counting only, and the scheduler counts "
			 "these in the kernel; vcs/ics (getrusage) give the "
			 "switches)",
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

/* Why the wake-up latency is not known, from its error. */
static void why_wake(int err, char *buf, size_t len)
{
	if (err == -ENODEV)
		snprintf(buf, len,
			 "tracefs is not mounted (as root: mount -t tracefs "
			 "nodev /sys/kernel/tracing)");
	else if (err == -EACCES || err == -EPERM)
		snprintf(buf, len, "a tracefs instance needs root: %s",
			 strerror(-err));
	else if (err == -ENOENT)
		snprintf(buf, len,
			 "no sched_waking/sched_switch tracepoints "
			 "in this kernel");
	else if (err == -EOPNOTSUPP)
		/* whatever the number of clients or tracefs' state: a
		 * crew's run is never traced (kernels/crew.c) */
		snprintf(buf, len,
			 "not traced for a server and its clients (echo, "
			 "connect): the tracing follows the two peers of a "
			 "ping-pong, stream or call kernel");
	else if (err == -ENODATA)
		snprintf(buf, len, "not traced");
	else
		snprintf(buf, len, "tracefs instance: %s", strerror(-err));
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
		bool clamped = false;

		fmt(b, sizeof(b), per_c(res, s, cols[i], &clamped));
		/* "0.00<": below its background, clamped */
		fprintf(f, clamped ? " %5s<" : " %6s", b);
	}
	fmt(b, sizeof(b), n > 0 ? (double)ccpu(res, s)->vol_cs / n : NAN);
	fprintf(f, " %6s", b);
	fmt(b, sizeof(b), n > 0 ? (double)ccpu(res, s)->invol_cs / n : NAN);
	fprintf(f, " %6s", b);
}

/* Why counter c is not exposed in r ("" when it is, everywhere). */
static void why_not(const struct ik_report *r, int c, char *w, size_t len)
{
	size_t i;

	w[0] = '\0';
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		int err = res->ctr[0].err[c] ? res->ctr[0].err[c]
					     : res->ctr[1].err[c];

		if (res->explained && err) {
			why((enum ik_ctr)c, err, w, len);
			return;
		}
	}
}

/* The counters some explained result lacks, those with one reason on
 * one line. */
static void not_exposed(const struct ik_report *r, FILE *f)
{
	char w[IK_NCTR][160];
	bool done[IK_NCTR] = {false};
	int c, d;

	for (c = 0; c < IK_NCTR; c++)
		why_not(r, c, w[c], sizeof(w[c]));
	for (c = 0; c < IK_NCTR; c++) {
		if (done[c] || !w[c][0])
			continue;
		fprintf(f, "  not exposed: %s", ik_ctr_infos[c].name);
		for (d = c + 1; d < IK_NCTR; d++)
			if (!done[d] && !strcmp(w[c], w[d])) {
				fprintf(f, ", %s", ik_ctr_infos[d].name);
				done[d] = true;
			}
		fprintf(f, ": %s\n", w[c]);
	}
}

/* IPIs a second on side s's CPU: counted (bg false) or in the idle
 * interval (bg true); NaN where not known. */
static double ipi_rate(const struct ik_result *res, int s, bool bg)
{
	const struct ik_counts *c = bg ? &res->bg[s] : &res->ctr[s];

	if (!c->ns || c->err[IK_CTR_IPI_RES] || c->err[IK_CTR_IPI_CAL])
		return NAN;
	return (double)(c->v[IK_CTR_IPI_RES] + c->v[IK_CTR_IPI_CAL]) * 1e9 /
	       (double)c->ns;
}

/* Where the CPUs were as busy with IPIs while our peers were gone as
 * while they ran, the subtraction leaves little: say so. */
static void busy_notes(const struct ik_report *r, FILE *f)
{
	size_t i;
	int s;

	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];

		if (!res->explained || !has_bg(res))
			continue;
		for (s = 0; s < 2; s++) {
			const struct ik_counts *c = &res->ctr[s];
			double run = ipi_rate(res, s, false),
			       idle = ipi_rate(res, s, true);

			/* a few IPIs a hop at most matter at all */
			if (isnan(run) || isnan(idle) || idle < 0.5 * run ||
			    (double)(c->v[IK_CTR_IPI_RES] +
				     c->v[IK_CTR_IPI_CAL]) < 0.05 * hops(res))
				continue;
			fprintf(f,
				"  busy: %s %s: CPU %d took %.0f IPIs/s "
				"with the peers gone and %.0f/s while they "
				"ran: other tasks' IPIs may dominate its "
				"figures "
				"(raw counts in the JSON)\n",
				res->ops->name, ik_mode_name(res->mode),
				res->pair.cpu[s], idle, run);
			break;
		}
	}
}

/* A row's name: method, and with --pairs its pair's number. */
static const char *row_name(const struct ik_result *res, char *b, size_t n)
{
	if (res->npairs > 1 && res->pair_index >= 0)
		snprintf(b, n, "%s p%d", res->ops->name, res->pair_index + 1);
	else if (res->npairs > 1)
		snprintf(b, n, "%s sum", res->ops->name);
	else
		snprintf(b, n, "%s", res->ops->name);
	return b;
}

/* Which pass each row's timed figures are (cli/grid.c decides). */
static void passes(const struct ik_report *r, FILE *f)
{
	size_t i;
	int n = 0;

	char b[64];

	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];

		if (!res->explained || res->explain_pass != 2)
			continue;
		fprintf(f, "%s%s %s", n++ ? ", " : "  timed figures of ",
			row_name(res, b, sizeof(b)), ik_mode_name(res->mode));
	}
	if (n)
		fprintf(f, ": a second pass, neither counted nor traced "
			   "(their peers switched: perf's and tracefs' work "
			   "at each switch of a counted thread would have "
			   "slowed them); the other rows': the counted pass "
			   "itself (no switches, nothing to disturb). Every "
			   "column here, vcs/ics included, is the counted "
			   "pass's\n");
	else
		fprintf(f, "  timed figures: the counted pass itself (no "
			   "switches, nothing to disturb)\n");
}

/* Wakings left without a switch onto their peer: well under 1 of them
 * paired (on some VMs an idle CPU's switches are never recorded, so
 * only the other peer's wake-ups are timed). */
static bool unmatched(const struct ik_wakeup *k)
{
	return k->wakings && (double)k->n < 0.9 * (double)k->wakings;
}

/* "matched N of M wakings", and whose: peer by peer, on its CPU */
static void matched(bool crew, const struct ik_wakeup *k, FILE *f)
{
	unsigned t;

	fprintf(f,
		"      matched %" PRIu64 " of %" PRIu64
		" wakings, so partial: the latency is of the peers seen",
		k->n, k->wakings);
	for (t = 0; t < IK_TRACE_TIDS; t++) {
		if (!k->tid_wakings[t])
			continue;
		fprintf(f, "; peer %c", (int)(crew ? '1' + t : 'A' + t));
		if (k->tid_cpu[t] >= 0)
			fprintf(f, " (CPU %d)", k->tid_cpu[t]);
		fprintf(f, " %" PRIu64 " of %" PRIu64 "%s", k->tid_n[t],
			k->tid_wakings[t],
			k->tid_n[t] ? "" : " (no switch onto it recorded)");
	}
	fprintf(f, "\n");
}

/* The blocked peer's wake-up latency, row by row where it was traced;
 * else why not, once per reason. */
static void wakeups(const struct ik_report *r, FILE *f)
{
	char w[160], seen[160] = "", b[64];
	size_t i;
	bool head = false;

	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_wakeup *k = &res->wake;

		if (!res->explained || k->err)
			continue;
		if (!head)
			fprintf(f, "  wake-up latency (tracefs: sched_waking "
				   "of a peer -> sched_switch onto it, 1 us "
				   "resolution; traced in the counted pass "
				   "only):\n");
		head = true;
		if (!k->n) {
			fprintf(f,
				"    %s %s: no wake-up traced (%" PRIu64
				" wakings; the peers never slept)\n",
				row_name(res, b, sizeof(b)),
				ik_mode_name(res->mode), k->wakings);
			continue;
		}
		fprintf(f,
			"    %s %s: p50 %.0f us, p99 %.0f us over %" PRIu64
			" wake-ups (%.2f per %s)",
			row_name(res, b, sizeof(b)), ik_mode_name(res->mode),
			(double)k->p50_ns / 1e3, (double)k->p99_ns / 1e3, k->n,
			hops(res) > 0 ? (double)k->n / hops(res) : 0.0,
			hop_name(res));
		if (k->lost)
			fprintf(f,
				"; partial: %" PRIu64 " events lost (buffer "
				"full), a sample of the loop",
				k->lost);
		fprintf(f, "\n");
		if (unmatched(k))
			matched(ik_kernels[r->cfg->kernel]->crew, k, f);
	}
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];

		if (!res->explained || !res->wake.err)
			continue;
		why_wake(res->wake.err, w, sizeof(w));
		if (!strcmp(w, seen))
			continue;
		fprintf(f, "  not exposed: wake-up latency%s%s%s: %s\n",
			head ? " of " : "", head ? res->ops->name : "",
			head ? " and others like it" : "", w);
		snprintf(seen, sizeof(seen), "%s", w);
	}
}

void ik_explain_table(const struct ik_report *r, FILE *f)
{
	struct ik_explain_per p;
	char line[320], name[64];
	size_t i;
	bool any = false;
	int w;

	for (i = 0; i < r->nresults; i++)
		any |= r->results[i].explained;
	if (!r->cfg->explain)
		return;
	fprintf(f,
		"\nexplain: per %s, %s; each peer's counters are read at "
		"its start gate and at its end, never inside the loop; ",
		r->nresults ? hop_name(&r->results[0]) : "round trip",
		ik_kernels[r->cfg->kernel]->crew
			? "the clients (summed) | the server"
			: "each peer (A | B)");
	if (r->nresults && has_bg(&r->results[0]))
		fprintf(f,
			"IPIs and idle entries are per CPU, less its "
			"background over an idle interval as long (up to "
			"%u s) once the cell is done, with the peers gone (a "
			"value "
			"that went below 0 is shown as 0, marked <)\n",
			IK_EXPLAIN_IDLE_NS / 1000000000u);
	else
		fprintf(f, "IPIs and idle entries are per CPU and include "
			   "its background (not subtracted: measured for "
			   "pinned pairs only)\n");
	if (!any) {
		fprintf(f, "  nothing counted (every cell failed, or its "
			   "kernel does not count yet)\n");
		return;
	}
	/* a row's name is the method's, " p<N>" or " sum" with --pairs */
	w = ik_method_width(r, 0);
	if (r->nresults && r->results[0].npairs > 1)
		w += 4; /* " sum", " p1" .. " p99" */
	w = w < 12 ? 12 : w;
	fprintf(f, "%-*s %-7s |%s |%s | reading\n", w, "method", "mode",
		"    res    cal     cs   migr faults   idle    vcs    ics",
		"    res    cal     cs   migr faults   idle    vcs    ics");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];

		fprintf(f, "%-*s %-7s |", w, row_name(res, name, sizeof(name)),
			ik_mode_name(res->mode));
		if (!res->explained && res->npairs > 1 && res->pair_index < 0)
			fprintf(f, " the pairs' sum: each pair is counted on "
				   "its own row\n");
		if (!res->explained) {
			if (res->npairs <= 1 || res->pair_index >= 0)
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
	passes(r, f);
	busy_notes(r, f);
	wakeups(r, f);
	not_exposed(r, f);
}

static json_t *peer_json(const struct ik_result *res, int s)
{
	json_t *o = json_object(), *c;
	double n = hops(res);
	char w[160];
	int i;

	/* unpinned: no CPU of its own to name (null, not -1) */
	json_object_set_new(o, "cpu",
			    res->pair.cpu[s] < 0
				    ? json_null()
				    : json_integer(res->pair.cpu[s]));
	json_object_set_new(o, "counted_ns",
			    json_integer((json_int_t)res->ctr[s].ns));
	if (has_bg(res))
		json_object_set_new(o, "idle_interval_ns",
				    json_integer((json_int_t)res->bg[s].ns));
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
			bool clamped = false;
			double v = per_c(res, s, (enum ik_ctr)i, &clamped);

			json_object_set_new(c, "per_hop", json_real(v));
			if (clamped) /* the background was larger: 0, flagged */
				json_object_set_new(c, "clamped", json_true());
			if (i >= IK_NCTR_PERF && has_bg(res) &&
			    !res->bg[s].err[i])
				json_object_set_new(
					c, "background",
					json_integer(
						(json_int_t)res->bg[s].v[i]));
		}
		json_object_set_new(o, ik_ctr_infos[i].name, c);
	}
	json_object_set_new(
		o, "voluntary_cs",
		json_pack("{s:s,s:s,s:b,s:I,s:f}", "unit", "count", "what",
			  "voluntary context switches of the peer's thread: "
			  "it slept (getrusage)",
			  "available", 1, "total",
			  (json_int_t)ccpu(res, s)->vol_cs, "per_hop",
			  n > 0 ? (double)ccpu(res, s)->vol_cs / n : 0.0));
	json_object_set_new(
		o, "involuntary_cs",
		json_pack("{s:s,s:s,s:b,s:I,s:f}", "unit", "count", "what",
			  "involuntary context switches of the peer's "
			  "thread: it was preempted (getrusage)",
			  "available", 1, "total",
			  (json_int_t)ccpu(res, s)->invol_cs, "per_hop",
			  n > 0 ? (double)ccpu(res, s)->invol_cs / n : 0.0));
	return o;
}

static json_t *wake_json(const struct ik_result *res)
{
	const struct ik_wakeup *k = &res->wake;
	json_t *o = json_pack("{s:s,s:s,s:b}", "unit", "ns", "what",
			      "the blocked peer's wake-up latency: "
			      "sched_waking of its tid to sched_switch onto "
			      "it (tracefs, counted pass)",
			      "available", !k->err);
	char w[160];

	if (k->err) {
		why_wake(k->err, w, sizeof(w));
		json_object_set_new(o, "why", json_string(w));
		return o;
	}
	json_object_set_new(o, "resolution_ns", json_integer(1000));
	json_object_set_new(o, "wakeups", json_integer((json_int_t)k->n));
	json_object_set_new(o, "wakings", json_integer((json_int_t)k->wakings));
	json_object_set_new(
		o, "per_hop",
		json_real(hops(res) > 0 ? (double)k->n / hops(res) : 0.0));
	json_object_set_new(o, "lost_events",
			    json_integer((json_int_t)k->lost));
	/* the latency is a sample: events lost, or wakings unpaired */
	json_object_set_new(o, "partial",
			    json_boolean(k->lost || unmatched(k)));
	{
		json_t *peers = json_array();
		unsigned t;

		for (t = 0; t < IK_TRACE_TIDS; t++)
			if (k->tid_wakings[t])
				json_array_append_new(
					peers,
					json_pack(
						"{s:I,s:I,s:o}", "wakings",
						(json_int_t)k->tid_wakings[t],
						"wakeups",
						(json_int_t)k->tid_n[t], "cpu",
						k->tid_cpu[t] >= 0
							? json_integer(
								  k->tid_cpu[t])
							: json_null()));
		json_object_set_new(o, "peers", peers);
	}
	/* no wake-up, no latency: null, never a zero */
	json_object_set_new(o, "p50_ns",
			    k->n ? json_integer((json_int_t)k->p50_ns)
				 : json_null());
	json_object_set_new(o, "p99_ns",
			    k->n ? json_integer((json_int_t)k->p99_ns)
				 : json_null());
	json_object_set_new(o, "max_ns",
			    k->n ? json_integer((json_int_t)k->max_ns)
				 : json_null());
	return o;
}

json_t *ik_explain_json(const struct ik_result *res)
{
	struct ik_explain_per p;
	char line[320];
	json_t *o;

	ik_explain_per_of(res, &p);
	o = json_pack("{s:s,s:f,s:s,s:b,s:s,s:o,s:o}", "per", hop_name(res),
		      "hops", hops(res), "timed_pass",
		      res->explain_pass == 2 ? "second, uncounted"
					     : "the counted one",
		      "background_subtracted", has_bg(res), "reading",
		      ik_explain_reading(&p, line, sizeof(line)), "a",
		      peer_json(res, 0), "b", peer_json(res, 1));
	json_object_set_new(o, "wakeup", wake_json(res));
	return o;
}
