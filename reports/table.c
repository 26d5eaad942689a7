/* SPDX-License-Identifier: MIT */
/*
 * --format table: the report for people. A header (what ran, machine,
 * timer, pair, notes, floor), then the kernel's own table (its ops'
 * title and table hooks, in its file in kernels/), then what every
 * kernel shares: strangers, stalls and the spread over --repeat. Which
 * key columns a row carries (class, pair, gap) is decided once per
 * report and passed down in struct ik_tbl, whose view is what the
 * kernel's hooks see.
 */
#define _GNU_SOURCE
#include <string.h>

#include "gate.h"
#include "writers.h"

/* One table report being written: the report, where, and the key
 * columns its rows carry, decided once per report. */
struct ik_tbl {
	struct ik_view v; /* first: the kernel's hooks get &t->v */
	const struct ik_report *r;
	const struct ik_config *c;
	FILE *f;
	bool pairs;   /* a pair column: --pairs above 1 */
	bool classes; /* a class column: --classes */
	bool gaps;    /* a gap column: --gap given */
	bool waits;   /* a wait column: --wait given */
	bool budgets; /* a budget column: --wait has hybrid */
	bool cpus;    /* a cpus column: --classes, --matrix (a pair a row) */
	int mw;	      /* the method column: its longest name, 10 at least */
	int lw;	      /* a line column (issue 19): its longest key; 0: none */
	int ldw;      /* a load column (--load): its longest set; 0 none */
};

/* A result's line key, "-" for the defaults. */
static void line_key(const struct ik_result *res, char *b, size_t n)
{
	const struct ik_line_result *l = &res->line;

	ik_cell_line_key(l->touch, l->touch_cpu, l->homed, l->home, &l->lines,
			 b, n);
	if (!b[0])
		snprintf(b, n, "-");
}

/* The line column's width when the run used a line dimension, else 0. */
static int line_width(const struct ik_report *r)
{
	unsigned u = ik_lines_used(r) & ~IK_LU_PREHEAT, i;
	int w = 4;
	char b[96];

	if (!u)
		return 0;
	for (i = 0; i < r->nresults; i++) {
		line_key(&r->results[i], b, sizeof(b));
		w = (int)strlen(b) > w ? (int)strlen(b) : w;
	}
	return w;
}

static void describe_pair(const struct ik_result *res, char *b, size_t n)
{
	const struct ik_pair *p = &res->pair;

	if (!p->pinned)
		snprintf(b, n, "unpinned (peers started on CPUs %d,%d)",
			 res->cpu_seen[0], res->cpu_seen[1]);
	else
		snprintf(b, n, "CPUs %d,%d: %s%s", p->cpu[0], p->cpu[1],
			 ik_relation_name(p->rel),
			 p->cross_numa ? ", different NUMA nodes"
				       : ", same NUMA node");
}

/* The first columns of every row: what ran (gap, pair only when used). */
static void row_key(const struct ik_tbl *t, const struct ik_result *res)
{
	char s[24], b[24], g[24];
	FILE *f = t->f;

	if (t->classes)
		fprintf(f, "%-13s ",
			res->cls >= 0 ? ik_class_key((enum ik_class)res->cls)
				      : "-");
	if (t->cpus) {
		char cp[24];

		snprintf(cp, sizeof(cp), "%d,%d", res->pair.cpu[0],
			 res->pair.cpu[1]);
		fprintf(f, "%-7s ", res->pair.pinned ? cp : "-");
	}
	if (t->pairs) {
		char pr[24];

		ik_cell_pair_name(res->npairs, res->pair_index, pr, sizeof(pr));
		fprintf(f, "%-7s ", pr);
	}

	fprintf(f, "%-*s %-7s %6s %6s ", t->mw, res->ops->name,
		ik_mode_name(res->mode), ik_fmt_bytes(s, sizeof(s), res->size),
		res->buffer ? ik_fmt_bytes(b, sizeof(b), res->buffer) : "-");
	if (t->gaps)
		fprintf(f, "%7s ",
			ik_fmt_ns(g, sizeof(g), (double)res->gap_ns));
	if (t->lw) {
		char lk[96];

		line_key(res, lk, sizeof(lk));
		fprintf(f, "%-*s ", t->lw, lk);
	}
	if (t->ldw)
		fprintf(f, "%-*s ", t->ldw, res->load.text);
	if (t->waits)
		fprintf(f, "%-11s ",
			res->wait_shown ? ik_wait_name(res->wait) : "-");
	if (t->budgets) {
		char bu[24] = "-";

		if (res->wait_shown && res->wait == IK_WAIT_HYBRID)
			ik_spin_budget_name(res->spin_budget, bu, sizeof(bu));
		fprintf(f, "%7s ", bu);
	}
}

static void head_key(const struct ik_tbl *t)
{
	if (t->classes)
		fprintf(t->f, "%-13s ", "class");
	if (t->cpus)
		fprintf(t->f, "%-7s ", "cpus");
	if (t->pairs)
		fprintf(t->f, "%-7s ", "pair");
	fprintf(t->f, "%-*s %-7s %6s %6s ", t->mw, "method", "mode", "size",
		"buffer");
	if (t->gaps)
		fprintf(t->f, "%7s ", "gap");
	if (t->lw)
		fprintf(t->f, "%-*s ", t->lw, "line");
	if (t->ldw)
		fprintf(t->f, "%-*s ", t->ldw, "load");
	if (t->waits)
		fprintf(t->f, "%-11s ", "wait");
	if (t->budgets)
		fprintf(t->f, "%7s ", "budget");
}

/* The load column's width: the longest --load set, 4 at least. */
static int load_width(const struct ik_report *r)
{
	size_t n, w = 4;

	if (!ik_load_used(r))
		return 0;
	for (unsigned i = 0; i < r->sweep->nloads; i++) {
		n = strlen(r->sweep->loads[i].text);
		w = n > w ? n : w;
	}
	return (int)w;
}

/*
 * Connections to a run's listener from anyone but its own peers or
 * clients: dropped unanswered, so no number in the table includes them.
 */
static void strangers_notes(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	FILE *f = t->f;
	unsigned i;
	char b[24];

	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		bool server = ik_result_ops(res)->keys & IK_KEY_SERVER;

		if (!res->strangers)
			continue;
		fputs("strangers: ", f);
		if (res->kernel && res->kernel->crew)
			fprintf(f,
				"%s %s %s B, %s%s%u clients: ", res->ops->name,
				ik_mode_name(res->mode),
				ik_fmt_bytes(b, sizeof(b), res->size),
				server ? ik_server_names[res->server] : "",
				server ? " server, " : "", res->clients);
		else
			row_key(t, res);
		fprintf(f,
			"%llu connection%s from outside the run, dropped "
			"unanswered; counted in no result\n",
			(unsigned long long)res->strangers,
			res->strangers == 1 ? "" : "s");
	}
}

/*
 * Stalls the transport's own kernel put on a cell (TCP's persist timer):
 * its figures are that kernel's, not the method's.
 */
static void stall_notes(const struct ik_tbl *t)
{
	unsigned i;

	for (i = 0; i < t->r->nresults; i++) {
		const struct ik_result *res = &t->r->results[i];

		if (!res->note[0])
			continue;
		fputs("stalls:  ", t->f);
		row_key(t, res);
		fprintf(t->f, "%s\n", res->note);
	}
}

/* Four significant digits, never an exponent (v is under 10^4). */
static int plain(char *b, size_t n, double v)
{
	return snprintf(b, n, "%.*f",
			v >= 1000  ? 0
			: v >= 100 ? 1
			: v >= 10  ? 2
				   : 3,
			v);
}

/*
 * "130 [120, 141] ns 3.1%": the median, its interval and the CV, in
 * the unit that keeps the median under five digits (ns, us, ms, s; a
 * rate per s, k/s, M/s): never an exponent.
 */
static void rep_cell(const struct ik_result *res, int m, char *b, size_t n)
{
	static const char *const ns_u[] = {"ns", "us", "ms", "s"};
	static const char *const rate_u[] = {"/s", "k/s", "M/s", "G/s"};
	const char *const *unit = m == IK_M_MSGS ? rate_u : ns_u;
	double col[1024], div = 1;
	unsigned k = res->repeats < 1024 ? res->repeats : 1024, i, u = 0;
	struct ik_summary s;
	char v[3][24];

	for (i = 0; i < k; i++)
		col[i] = ik_rep_value(res, i, m);
	ik_summarize(col, k, &s);
	if (!s.n) {
		snprintf(b, n, "-");
		return;
	}
	while (u < 3 && s.median / div >= 1e4)
		div *= 1e3, u++;
	plain(v[0], sizeof(v[0]), s.median / div);
	plain(v[1], sizeof(v[1]), s.lo / div);
	plain(v[2], sizeof(v[2]), s.hi / div);
	snprintf(b, n, "%s [%s, %s] %s %.1f%%", v[0], v[1], v[2], unit[u],
		 100 * s.cv);
}

/* --repeat K > 1: each metric's spread across the K runs. */
static void repeats_table(const struct ik_tbl *t)
{
	static const int ms[] = {IK_M_P50, IK_M_P99, IK_M_MSGS, IK_M_CPU};
	const struct ik_report *r = t->r;
	unsigned i, k = 0;
	char c[4][128];

	for (i = 0; i < r->nresults; i++)
		k = r->results[i].repeats > k ? r->results[i].repeats : k;
	if (k < 2)
		return;
	fprintf(t->f,
		"\nacross %u repeats, fresh peers each: median [95%% interval] "
		"unit, run-to-run CV\n%-*s %-22s %-30s %-30s %-30s %s\n",
		k, t->mw, "method", "cell", "p50", "p99", "rate", "cpu/msg");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		char cell[64];

		if (res->err || !res->rep_v)
			continue;
		for (unsigned j = 0; j < 4; j++)
			rep_cell(res, ms[j], c[j], sizeof(c[j]));
		ik_cell_name(res, cell, sizeof(cell));
		fprintf(t->f, "%-*s %-22s %-30s %-30s %-30s %s\n", t->mw,
			res->ops->name, cell, c[0], c[1], c[2], c[3]);
	}
	fprintf(t->f, "interval: %s\n", IK_CI_METHOD);
}

/*
 * The floor: one word through the same ping-pong loop on the same pair,
 * timed per trip (p50) and untimed (warm-up mean). What no method can
 * beat here, and how much of it is the harness's clock and sample store.
 */
static void floor_line(const struct ik_tbl *t)
{
	const struct ik_result *fl = t->r->floor;
	struct ik_stats st;

	if (!fl || fl->err)
		return;
	ik_stats_of(t->r, fl, &st);
	fprintf(t->f,
		"floor:   one word bounced through this loop on CPUs %d,%d: "
		"p50 %.0f ns, whole-run mean %.1f ns, untimed mean %.1f ns a "
		"round trip (timing each trip: %+.1f ns)\n",
		fl->pair.cpu[0], fl->pair.cpu[1], (double)st.p50, st.wall_mean,
		st.untimed, st.wall_mean - st.untimed);
}

static void header(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	const struct ik_machine *m = r->machine;
	const struct ik_timer *tm = r->timer;
	FILE *f = t->f;
	char pair[160];
	unsigned i;

	fprintf(f, "machine: %s, %s, %d CPUs online%s\n", m->model, m->kernel,
		m->online_cpus, m->hypervisor ? ", under a hypervisor" : "");
	fprintf(f, "timer:   %s", ik_clock_name(tm->kind));
	if (tm->kind == IK_CLOCK_TSC)
		fprintf(f, " at %.1f MHz", tm->tsc_mhz);
	fprintf(f, ", %.1f ns per read, %.1f ns resolution (%s)\n",
		tm->read_cost_ns, tm->resolution_ns, tm->why);
	if (r->classes) {
		fprintf(f,
			"pairs:   one per topology class, each pinned to its "
			"pair (class and cpus columns)\n");
	} else if (r->matrix) {
		fprintf(f,
			"pairs:   every ordered pair of the CPUs, each pinned "
			"(cpus column: A,B)\n");
	} else if (r->nresults) {
		describe_pair(&r->results[0], pair, sizeof(pair));
		fprintf(f, "pair:    %s\n", pair);
	}
	for (i = 0; i < r->nnotes; i++)
		fprintf(f, "note:    %s\n", r->notes[i]);
	floor_line(t);
	if (r->mem_node >= 0 && r->nresults)
		fprintf(f,
			"memory:  asked for NUMA node %d; shared pages on "
			"node %d (move_pages)\n",
			r->mem_node, r->results[0].mem_node);
}

/* What the kernel's hooks see: the key columns, and the sections of
 * --classes and --matrix where they were asked for. */
static void view_row_key(const struct ik_view *v, const struct ik_result *res)
{
	row_key((const struct ik_tbl *)v, res);
}

static void view_head_key(const struct ik_view *v)
{
	head_key((const struct ik_tbl *)v);
}

static void view_sections(const struct ik_view *v)
{
	const struct ik_tbl *t = (const struct ik_tbl *)v;

	if (t->r->classes)
		ik_classes_table(t->r, t->f);
	if (t->r->matrix)
		ik_matrix_table(t->r, t->f);
}

int ik_method_width(const struct ik_report *r, int least)
{
	size_t i, n;
	int w = least;

	for (i = 0; i < r->nresults; i++) {
		n = strlen(r->results[i].ops->name);
		if (n > (size_t)w && n < 64)
			w = (int)n;
	}
	return w;
}

static bool has_hybrid(const struct ik_sweep *sw)
{
	for (unsigned i = 0; i < sw->nwaits; i++)
		if (sw->waits[i] == IK_WAIT_HYBRID)
			return true;
	return false;
}

int ik_report_table(const struct ik_report *r, FILE *f)
{
	const struct ik_config *c = r->cfg;
	const struct ik_kernel_ops *k = ik_kernels[c->kernel];
	struct ik_tbl t = {
		.r = r,
		.c = c,
		.f = f,
		.pairs = r->sweep->npairs > 1 || r->sweep->pairs[0] > 1,
		.classes = r->classes != NULL,
		.gaps = r->sweep->ngaps > 1 || r->sweep->gaps[0],
		.waits = r->sweep->wait_given,
		.budgets = r->sweep->wait_given && has_hybrid(r->sweep),
		.cpus = r->classes != NULL || r->matrix,
		.mw = ik_method_width(r, 10),
		.lw = line_width(r),
		.ldw = load_width(r),
	};

	ik_view_init(&t.v, r, f);
	t.v.row_key = view_row_key;
	t.v.head_key = view_head_key;
	t.v.sections = view_sections;
	k->title(&t.v);
	header(&t);
	k->table(&t.v);
	ik_explain_table(r, f);
	ik_lines_table(r, f);
	ik_load_table(r, f, t.mw);
	strangers_notes(&t);
	stall_notes(&t);
	repeats_table(&t);
	return ferror(f) ? -EIO : 0;
}
