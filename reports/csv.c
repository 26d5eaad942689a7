/* SPDX-License-Identifier: MIT */
/*
 * --format csv (RFC 4180): one header, one row per result, and with
 * --repeat K then one row per repeat of each (repeat 1..K, the gate's
 * metrics only; the result's own row is repeat "all"). Every column of the cell
 * key comes first, so rows group by columns without guessing; a key
 * column that does not apply to the kernel (server outside echo, work
 * outside call) is empty, and so is every number not measured, never 0
 * or -1. Names are docs/vocabulary.md's: the same as the JSON keys, the
 * metrics' from ik_metric_infos. A field holding a comma, a quote or a
 * line break is quoted, its quotes doubled; lines end in LF, not
 * RFC 4180's CRLF (what every CSV reader accepts, and diff shows).
 *
 * The last column, partial, is empty unless a signal ended the run; then
 * every row holds the reason. A column, not a trailing "# partial" line:
 * a spreadsheet would group that line as a row of its own (a stray
 * "kernel"), and a reader without a comment option fails on it.
 */
#include <math.h>
#include <string.h>

#include "gate.h"
#include "writers.h"

/* The columns, in order: the key, then what was measured. */
enum col {
	C_KERNEL,
	C_METHOD,
	C_MODE,
	C_SERVER,
	C_CLIENTS,
	C_WORK,
	C_SIZE,
	C_BUFFER,
	C_WAIT,
	C_GAP,
	C_RATE,
	C_PAIRS,
	C_PAIR,
	C_PIN_A,
	C_PIN_B,
	C_RELATION,
	C_CROSS_NUMA,
	C_CLASS,
	C_SHAPE,   /* group runs only */
	C_PARTIES, /* group runs only */
	C_REPEAT,
	C_MSG,
	C_LATENCY,
	C_COUNT,
	C_MIN,
	C_MEAN,
	C_STDDEV,
	C_P50,
	C_P90,
	C_P99,
	C_P999,
	C_P9999,
	C_MAX,
	C_MSGS,
	C_BYTES,
	C_CPU,
	C_CPU_A_TOTAL,
	C_CPU_B_TOTAL,
	C_CPU_A_PER,
	C_CPU_B_PER,
	C_WALL_MEAN,
	C_UNTIMED,
	C_OBSERVER,
	C_VS_LINE,
	C_FLOOR_P50,
	C_FLOOR_UNTIMED,
	C_STALLS,
	C_STALL_NS,
	C_LATE_NS, /* late and lost: only when a result shows them */
	C_LATE,
	C_LATE_WORST,
	C_LOST,
	C_E2E_P50, /* group runs only: fan-out, pipeline */
	C_E2E_P99,
	C_STATUS,
	C_ERROR,
	/* --slo only (slo_shown): the search's answer on the result's row,
	 * then one row per step */
	C_SLO,
	C_SLO_STEP,
	C_SLO_ROLE,
	C_SLO_RATE_ASKED,
	C_SLO_RATE_GOT,
	C_SLO_P50,
	C_SLO_P99,
	C_SLO_P999,
	C_SLO_MAX,
	C_SLO_LATE,
	C_SLO_HELD,
	C_SLO_FAILED_RATE,
	C_SLO_WHY,
	C_PARTIAL,
	C_SPIN_BUDGET, /* only when --spin-budget is given (shown) */
	C_N
};

/* Names not in ik_metric_infos (those columns take its keys). */
static const char *const names[C_N] = {
	[C_KERNEL] = "kernel",
	[C_METHOD] = "method",
	[C_MODE] = "mode",
	[C_SERVER] = "server",
	[C_CLIENTS] = "clients",
	[C_WORK] = "work_ns",
	[C_SIZE] = "size",
	[C_BUFFER] = "buffer",
	[C_WAIT] = "wait",
	[C_GAP] = "gap_ns",
	[C_RATE] = "rate",
	[C_PAIRS] = "pairs_at_once",
	[C_PAIR] = "pair",
	[C_PIN_A] = "pin_a",
	[C_PIN_B] = "pin_b",
	[C_RELATION] = "relation",
	[C_CROSS_NUMA] = "cross_numa",
	[C_CLASS] = "class",
	[C_SHAPE] = "shape",
	[C_PARTIES] = "parties",
	[C_REPEAT] = "repeat",
	[C_MSG] = "msg",
	[C_LATENCY] = "latency",
	[C_COUNT] = "count",
	[C_STDDEV] = IK_Q_STDDEV,
	[C_P9999] = IK_Q_P9999,
	[C_CPU_A_TOTAL] = "cpu_a_ns_total",
	[C_CPU_B_TOTAL] = "cpu_b_ns_total",
	[C_CPU_A_PER] = "cpu_a_ns_per_msg",
	[C_CPU_B_PER] = "cpu_b_ns_per_msg",
	[C_WALL_MEAN] = "whole_run_mean_ns",
	[C_UNTIMED] = "untimed_mean_ns",
	[C_OBSERVER] = "observer_effect_ns",
	[C_VS_LINE] = "vs_line",
	[C_FLOOR_P50] = "floor_p50_ns",
	[C_FLOOR_UNTIMED] = "floor_untimed_mean_ns",
	[C_STALLS] = "stalls",
	[C_STALL_NS] = "stall_ns",
	[C_LATE_NS] = "late_threshold_ns",
	[C_LATE] = "late",
	[C_LATE_WORST] = "late_worst_ns",
	[C_LOST] = "lost",
	[C_E2E_P50] = "end_to_end_p50_ns",
	[C_E2E_P99] = "end_to_end_p99_ns",
	[C_STATUS] = "status",
	[C_ERROR] = "error",
	[C_SLO] = "slo",
	[C_SLO_STEP] = "slo_step",
	[C_SLO_ROLE] = "slo_role",
	[C_SLO_RATE_ASKED] = "slo_rate_asked",
	[C_SLO_RATE_GOT] = "slo_rate_got",
	[C_SLO_P50] = "slo_p50_ns",
	[C_SLO_P99] = "slo_p99_ns",
	[C_SLO_P999] = "slo_p99_9_ns",
	[C_SLO_MAX] = "slo_max_ns",
	[C_SLO_LATE] = "slo_late_sends",
	[C_SLO_HELD] = "slo_held",
	[C_SLO_FAILED_RATE] = "slo_failed_rate",
	[C_SLO_WHY] = "slo_why",
	[C_PARTIAL] = "partial",
	[C_SPIN_BUDGET] = "spin_budget",
};

/* The columns that are a gate metric: its enum ik_metric + 1. */
static const signed char metric_col[C_N] = {
	[C_MIN] = IK_M_MIN + 1,	    [C_MEAN] = IK_M_MEAN + 1,
	[C_P50] = IK_M_P50 + 1,	    [C_P90] = IK_M_P90 + 1,
	[C_P99] = IK_M_P99 + 1,	    [C_P999] = IK_M_P999 + 1,
	[C_MAX] = IK_M_MAX + 1,	    [C_MSGS] = IK_M_MSGS + 1,
	[C_BYTES] = IK_M_BYTES + 1, [C_CPU] = IK_M_CPU + 1,
};

static int metric_of(enum col c)
{
	return metric_col[c] - 1;
}

static const char *col_name(enum col c)
{
	int m = metric_of(c);

	return m >= 0 ? ik_metric_infos[m].key : names[c];
}

/* One row: a result, or one repeat of it (rep >= 0). */
struct row {
	const struct ik_report *r;
	const struct ik_result *res;
	const struct ik_stats *st; /* NULL: a repeat's row, or an error */
	const struct ik_stats *fl; /* the floor, on its pair; or NULL */
	double m[IK_NMETRICS];	   /* NAN where not measured */
	int rep;		   /* -1: the result's own row */
	int step;		   /* --slo: a step's row (0..), or -1 */
};

/* The --slo columns: only in a run that searched. */
static bool slo_shown(const struct ik_report *r, enum col c)
{
	return c < C_SLO || c >= C_PARTIAL || r->cfg->slo.n;
}

static void num(char *b, size_t n, double v, int prec);
static void put_uint(char *b, size_t n, unsigned long long v);

/* --slo: the answer on the result's own row, a step's on its own. */
static void slo_field(const struct row *w, enum col c, char *b, size_t n)
{
	const struct ik_slo_result *sr = w->res->slo;
	const struct ik_slo_step *st;

	if (!sr)
		return;
	if (c == C_SLO) {
		snprintf(b, n, "%s", sr->text);
		return;
	}
	if (w->step < 0) { /* the answer */
		if (c == C_SLO_STEP)
			snprintf(b, n, "answer");
		else if (c == C_SLO_RATE_ASKED && sr->held_rate > 0)
			num(b, n, sr->held_rate, 0);
		else if (c == C_SLO_HELD)
			snprintf(b, n, "%s",
				 sr->held_rate > 0 ? "true" : "false");
		else if (c == C_SLO_FAILED_RATE && sr->failed_rate > 0)
			num(b, n, sr->failed_rate, 0);
		else if (c == C_SLO_WHY)
			snprintf(b, n, "%s", sr->answer);
		return;
	}
	st = &sr->step[w->step];
	switch (c) {
	case C_SLO_STEP:
		snprintf(b, n, "%d", w->step + 1);
		break;
	case C_SLO_ROLE:
		snprintf(b, n, "%s", ik_slo_role_name(st->role));
		break;
	case C_SLO_RATE_ASKED:
		if (st->rate_asked > 0)
			num(b, n, st->rate_asked, 0);
		break;
	case C_SLO_RATE_GOT:
		if (!st->err)
			num(b, n, st->rate_got, 1);
		break;
	case C_SLO_P50:
	case C_SLO_P99:
	case C_SLO_P999:
	case C_SLO_MAX:
		if (!st->err && st->latency)
			put_uint(b, n,
				 c == C_SLO_P50	   ? st->p50_ns
				 : c == C_SLO_P99  ? st->p99_ns
				 : c == C_SLO_P999 ? st->p999_ns
						   : st->max_ns);
		break;
	case C_SLO_LATE:
		if (!st->err && st->rate_asked > 0)
			put_uint(b, n, st->late_sends);
		break;
	case C_SLO_HELD:
		if (!st->err && st->rate_asked > 0)
			snprintf(b, n, "%s", st->held ? "true" : "false");
		break;
	case C_SLO_WHY:
		snprintf(b, n, "%s", st->note);
		break;
	default:
		break;
	}
}

static void num(char *b, size_t n, double v, int prec)
{
	if (isfinite(v))
		snprintf(b, n, "%.*f", prec, v);
}

static void put_uint(char *b, size_t n, unsigned long long v)
{
	snprintf(b, n, "%llu", v);
}

/* The key columns: every row has them. */
static void key_field(const struct row *w, enum col c, char *b, size_t n)
{
	const struct ik_result *res = w->res;
	const struct ik_kernel_ops *k = ik_result_ops(res);

	switch (c) {
	case C_KERNEL:
		snprintf(b, n, "%s", k->name);
		break;
	case C_METHOD:
		snprintf(b, n, "%s", res->ops->name);
		break;
	case C_MODE:
		snprintf(b, n, "%s", ik_mode_name(res->mode));
		break;
	case C_SERVER:
		if (k->keys & IK_KEY_SERVER)
			snprintf(b, n, "%s", ik_server_names[res->server]);
		break;
	case C_CLIENTS:
		if (k->keys & IK_KEY_CLIENTS)
			put_uint(b, n, res->clients);
		break;
	case C_WORK:
		if (k->keys & IK_KEY_WORK)
			put_uint(b, n, res->work_ns);
		break;
	case C_SIZE:
		put_uint(b, n, res->size);
		break;
	case C_BUFFER: /* empty: not asked, the method's own */
		if (res->buffer)
			put_uint(b, n, res->buffer);
		break;
	case C_WAIT: /* the methods that take --wait (IK_T_WAIT) have one;
		      * without --wait, spsc alone says it, as it always did */
		if (res->wait_shown || (!w->r->sweep->wait_given &&
					!strcmp(res->ops->name, "spsc")))
			snprintf(b, n, "%s", ik_wait_name(res->wait));
		break;
	case C_SPIN_BUDGET: /* hybrid's: 2us, 1000i; empty elsewhere */
		if (res->wait_shown && res->wait == IK_WAIT_HYBRID)
			ik_spin_budget_name(res->spin_budget, b, n);
		break;
	case C_GAP:
		if (k->id == IK_KERNEL_PINGPONG)
			put_uint(b, n, res->gap_ns);
		break;
	case C_RATE:
		if (k->one_way && w->r->cfg->rate)
			put_uint(b, n, w->r->cfg->rate);
		break;
	case C_PAIRS:
		put_uint(b, n, res->npairs > 1 ? res->npairs : 1);
		break;
	case C_PAIR:
		if (res->npairs > 1 && res->pair_index < 0)
			snprintf(b, n, "sum");
		else
			put_uint(b, n,
				 res->npairs > 1 ? (unsigned)res->pair_index + 1
						 : 1);
		break;
	case C_PIN_A:
	case C_PIN_B:
		if (res->pair.pinned)
			snprintf(b, n, "%d", res->pair.cpu[c - C_PIN_A]);
		break;
	case C_RELATION:
		snprintf(b, n, "%s", ik_relation_key(res->pair.rel));
		break;
	case C_CROSS_NUMA:
		snprintf(b, n, "%s", res->pair.cross_numa ? "true" : "false");
		break;
	case C_CLASS:
		if (res->cls >= 0)
			snprintf(b, n, "%s",
				 ik_class_key((enum ik_class)res->cls));
		break;
	case C_SHAPE:
		if (res->group)
			snprintf(b, n, "%s", ik_shape_names[res->group->shape]);
		break;
	case C_PARTIES:
		if (res->group)
			put_uint(b, n, res->group->parties);
		break;
	case C_REPEAT:
		if (w->rep >= 0)
			put_uint(b, n, (unsigned)w->rep + 1);
		else if (res->rep_v && res->repeats > 1)
			snprintf(b, n, "all");
		else
			put_uint(b, n, 1);
		break;
	default:
		break;
	}
}

/* CPU ns of one peer per msg: the msgs the gate's cpu metric counts. */
static double cpu_per(const struct ik_result *res, int peer)
{
	uint64_t n = ik_result_msgs(res);

	return n ? (double)res->cpu[peer].cpu_ns / (double)n : NAN;
}

static void field(const struct row *w, enum col c, char *b, size_t n)
{
	const struct ik_result *res = w->res;
	const struct ik_stats *st = w->st;
	bool lat = isfinite(w->m[IK_M_P50]);
	bool wall_ok = st && !res->gap_ns && res->wall_ns && res->count &&
		       !ik_result_ops(res)->one_way;
	int m = metric_of(c);

	b[0] = 0;
	if (c <= C_REPEAT || c == C_SPIN_BUDGET) {
		key_field(w, c, b, n);
		return;
	}
	if (c >= C_SLO && c < C_PARTIAL) {
		slo_field(w, c, b, n);
		return;
	}
	if (w->step >= 0) { /* a --slo step: its own status, no metrics */
		const struct ik_slo_step *sp = &res->slo->step[w->step];

		if (c == C_STATUS)
			snprintf(b, n, "%s", sp->err ? "error" : "ok");
		else if (c == C_ERROR && sp->err)
			snprintf(b, n, "%s", sp->note);
		else if (c == C_MSG)
			snprintf(b, n, "%s", ik_result_ops(res)->msg);
		else if (c == C_PARTIAL && w->r->partial)
			snprintf(b, n, "%s", w->r->partial);
		return;
	}
	if (c == C_STATUS) {
		snprintf(b, n, "%s", res->err ? "error" : "ok");
		return;
	}
	if (c == C_ERROR) {
		if (res->err)
			snprintf(b, n, "%s", res->errmsg);
		return;
	}
	if (c == C_PARTIAL) { /* a signal's reason, on every row it cut */
		if (w->r->partial)
			snprintf(b, n, "%s", w->r->partial);
		return;
	}
	if (c == C_MSG) {
		snprintf(b, n, "%s", ik_result_ops(res)->msg);
		return;
	}
	if (c == C_E2E_P50 || c == C_E2E_P99) {
		if (st && res->group && res->group->e2e.total)
			put_uint(b, n,
				 ik_hist_percentile(&res->group->e2e,
						    c == C_E2E_P50 ? 50 : 99));
		return;
	}
	if (m >= 0) {
		num(b, n, w->m[m],
		    ik_metric_infos[m].dim == IK_DIM_TIME && m != IK_M_MEAN &&
				    m != IK_M_CPU
			    ? 0
			    : 1);
		return;
	}
	if (!st) /* a repeat's row, or a failed cell: the metrics only */
		return;
	switch (c) {
	case C_LATENCY:
		if (lat)
			snprintf(b, n, "%s",
				 ik_result_ops(res)->one_way ? "one_way"
							     : "round_trip");
		break;
	case C_COUNT:
		put_uint(b, n, res->count);
		break;
	case C_STDDEV:
		if (lat)
			num(b, n, st->sd, 1);
		break;
	case C_P9999:
		if (lat)
			put_uint(b, n, st->p9999);
		break;
	case C_CPU_A_TOTAL:
		put_uint(b, n, res->cpu[0].cpu_ns);
		break;
	case C_CPU_B_TOTAL:
		put_uint(b, n, res->cpu[1].cpu_ns);
		break;
	case C_CPU_A_PER:
		num(b, n, cpu_per(res, 0), 1);
		break;
	case C_CPU_B_PER:
		num(b, n, cpu_per(res, 1), 1);
		break;
	case C_WALL_MEAN:
		if (wall_ok)
			num(b, n, st->wall_mean, 1);
		break;
	case C_UNTIMED:
		if (wall_ok && res->untimed_mean_ns > 0)
			num(b, n, st->untimed, 1);
		break;
	case C_OBSERVER:
		if (wall_ok && res->untimed_mean_ns > 0)
			num(b, n, st->wall_mean - st->untimed, 1);
		break;
	case C_VS_LINE:
		if (st->vs_line > 0)
			num(b, n, st->vs_line, 3);
		break;
	case C_FLOOR_P50:
		if (w->fl)
			put_uint(b, n, w->fl->p50);
		break;
	case C_FLOOR_UNTIMED:
		if (w->fl)
			num(b, n, w->fl->untimed, 1);
		break;
	case C_STALLS: /* as JSON's "stalls": only where a kernel saw some */
		if (res->note[0])
			put_uint(b, n, res->stalls);
		break;
	case C_STALL_NS:
		if (res->note[0])
			put_uint(b, n, res->stall_ns);
		break;
	case C_LATE_NS:
		if (res->late.threshold_ns)
			put_uint(b, n, res->late.threshold_ns);
		break;
	case C_LATE:
		if (res->late.threshold_ns)
			put_uint(b, n, res->late.count);
		break;
	case C_LATE_WORST:
		if (res->late.threshold_ns)
			put_uint(b, n, res->late.worst_ns);
		break;
	case C_LOST: /* any kernel's channel may count one */
		put_uint(b, n, res->lost);
		break;
	default:
		break;
	}
}

/* RFC 4180: quoted when it holds a comma, a quote or a line break. */
static void put(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

/* --load's columns, after the others and only in a run with --load */
static const char *const load_cols[] = {"load", "load_cpus_seen", "load_rates"};

/* The group kernel's columns are there only in its runs: a run without
 * it writes the columns it always wrote. */
static bool group_on(const struct ik_report *r, enum col c)
{
	return (c != C_SHAPE && c != C_PARTIES && c != C_E2E_P50 &&
		c != C_E2E_P99) ||
	       r->cfg->kernel == IK_KERNEL_GROUP;
}

/*
 * The late and lost columns whenever the run's kernel counts them (ping-
 * pong counts every run, --late or not): a header follows from the
 * command line alone, never from whether a trip happened to be late.
 */
static bool late_on(const struct ik_report *r)
{
	return r->cfg && r->cfg->kernel == IK_KERNEL_PINGPONG;
}

static bool col_on(enum col c, bool late)
{
	return late || c < C_LATE_NS || c > C_LOST;
}

/*
 * Whether a report has column c: spin_budget only with --spin-budget,
 * the others as col_on, group_on and slo_shown say.
 */
static bool shown(const struct ik_report *r, enum col c, bool late)
{
	return col_on(c, late) && group_on(r, c) && slo_shown(r, c) &&
	       (c != C_SPIN_BUDGET || r->sweep->budget_given);
}

/* The last of the fixed columns the report has (partial always is). */
static int last_col(const struct ik_report *r, bool late)
{
	int c = C_N - 1;

	while (c > 0 && !shown(r, (enum col)c, late))
		c--;
	return c;
}

static void put_row(FILE *f, const struct row *w, bool late)
{
	int last = last_col(w->r, late);
	unsigned extra = ik_lines_csv_ncols(w->r), k;
	bool load = ik_load_used(w->r);
	char b[512];
	int c;

	for (c = 0; c < C_N; c++) {
		if (!shown(w->r, (enum col)c, late))
			continue;
		field(w, (enum col)c, b, sizeof(b));
		put(f, b, c == last && !extra && !load);
	}
	/* issue 19's columns, only when the run used them */
	for (k = 0; k < extra; k++) {
		ik_lines_csv_field(w->r, w->res, k, b, sizeof(b));
		put(f, b, k == extra - 1 && !load);
	}
	for (c = 0; load && c < (int)IK_ARRAY_SIZE(load_cols); c++) {
		if (w->rep < 0 || c == 0)
			ik_load_csv(w->res, c, b, sizeof(b));
		else
			b[0] = 0;
		put(f, b, c == (int)IK_ARRAY_SIZE(load_cols) - 1);
	}
}

int ik_report_csv(const struct ik_report *r, FILE *f)
{
	struct ik_stats fl = {0};
	bool late = late_on(r);
	unsigned i, k, extra = ik_lines_csv_ncols(r);
	int c;

	for (c = 0; c < C_N; c++)
		if (shown(r, (enum col)c, late))
			put(f, col_name((enum col)c),
			    c == last_col(r, late) && !extra &&
				    !ik_load_used(r));
	for (k = 0; k < extra; k++)
		put(f, ik_lines_csv_name(r, k),
		    k == extra - 1 && !ik_load_used(r));
	for (c = 0; ik_load_used(r) && c < (int)IK_ARRAY_SIZE(load_cols); c++)
		put(f, load_cols[c], c == (int)IK_ARRAY_SIZE(load_cols) - 1);
	/* the harness floor (one per run, on its pair) on every row that
	 * shares that pair, empty where none was measured */
	if (r->floor && !r->floor->err)
		ik_stats_of(r, r->floor, &fl);
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		struct ik_stats st = {0};
		struct row w = {.r = r, .res = res, .rep = -1, .step = -1};

		if (r->floor && !r->floor->err &&
		    res->pair.cpu[0] == r->floor->pair.cpu[0] &&
		    res->pair.cpu[1] == r->floor->pair.cpu[1])
			w.fl = &fl;
		if (!res->err) {
			ik_stats_of(r, res, &st);
			w.st = &st;
		}
		ik_metrics_of(res, w.m);
		put_row(f, &w, late);
	}
	/* then each --slo step of each result, in the order they ran */
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		struct row w = {.r = r, .res = res, .rep = -1};

		for (k = 0; res->slo && k < res->slo->nsteps; k++) {
			for (c = 0; c < IK_NMETRICS; c++)
				w.m[c] = NAN;
			w.step = (int)k;
			put_row(f, &w, late);
		}
	}
	/* then each repeat of each result: row i stays result i */
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		struct row w = {.r = r, .res = res, .step = -1};

		if (res->err || !res->rep_v || res->repeats < 2)
			continue;
		for (k = 0; k < res->repeats; k++) {
			w.rep = (int)k;
			for (c = 0; c < IK_NMETRICS; c++)
				w.m[c] = ik_rep_value(res, k, c);
			put_row(f, &w, late);
		}
	}
	return ferror(f) ? -EIO : 0;
}
