/* SPDX-License-Identifier: MIT */
/*
 * The grid of cells one run measures: each configuration the sweeps
 * span, over one pair, each --classes pair, every --matrix pair or
 * several pairs at once; the harness floor beside them; and --repeat's
 * folding of the repeats into one row per cell. Failures are reported on
 * stderr as they happen; nothing here exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* Ctrl-C (or SIGTERM, SIGHUP) asked the run to end. */
static bool stopped(const struct ik_run *run)
{
	return run->interrupted && *run->interrupted;
}

/*
 * --explain: a counted thread costs perf some work at each of its
 * context switches, inside the loop, and a traced one tracefs some at
 * each switch and waking. A counted pass whose peers switched
 * (getrusage, which every pass reads anyway) is timed again uncounted,
 * and that pass's figures are reported with the first one's counts;
 * one that never switched had nothing to disturb. --pairs' pairs start
 * together: measure_pairs times them all again together.
 */
static bool explain_switched(const struct ik_result *res)
{
	double sw = (double)(res->cpu[0].vol_cs + res->cpu[0].invol_cs +
			     res->cpu[1].vol_cs + res->cpu[1].invol_cs);

	return res->explained &&
	       sw >= 0.01 * (double)(res->count ? res->count : 1);
}

static int explain_again(const struct ik_config *cell,
			 const struct ik_transport_ops *ops, enum ik_mode mode,
			 const struct ik_run *run, struct ik_result *res)
{
	struct ik_config plain = *cell;
	struct ik_result counted;
	int ret;

	ik_result_counted(res);
	counted = *res;
	if (run->start || !explain_switched(res))
		return 0;
	plain.explain = false;
	ret = ik_kernels[cell->kernel]->run(&plain, ops, mode, run, res);
	if (ret || !res->count) { /* keep the counted pass, as it was */
		ik_result_free(res);
		*res = counted;
		return 0;
	}
	ik_result_keep_counted(res, &counted);
	ik_result_free(&counted);
	return 0;
}

/* One measurement, quietly: its failure is in res->errmsg. */
static int measure_quiet(const struct ik_config *cell,
			 const struct ik_transport_ops *ops, enum ik_mode mode,
			 const struct ik_run *run, struct ik_result *res)
{
	struct ik_trace hold = {.err = -ENODATA};
	struct ik_config c = *cell;
	int ret;

	/* a traced pass's trace is read and removed, and the CPUs idled for
	 * their background, after the second pass (kernel work and idle
	 * CPUs linger into the next loop); --pairs' pairs do both at once */
	c.trace_hold = run->start ? NULL : &hold;
	ret = ik_kernels[cell->kernel]->run(&c, ops, mode, run, res);
	if (!ret && res->explained)
		ret = explain_again(&c, ops, mode, run, res);
	if (hold.held) {
		ik_trace_collect(&hold, hold.tids, hold.ntids, &res->wake);
		ik_trace_close(&hold);
	}
	if (hold.idle_due && res->explained && !stopped(run))
		ik_explain_idle(cell, res);

	/* a cell that measured nothing has no min or percentiles: it is a
	 * failure, never an "ok" row of zeros */
	if (!ret && !res->count) {
		ret = res->err = -ENODATA;
		if (res->connect.failed) /* connect's: requests that failed */
			snprintf(res->errmsg, sizeof(res->errmsg),
				 "no request completed: %llu failed, the "
				 "first with %s",
				 (unsigned long long)res->connect.failed,
				 strerror(-res->connect.first_err));
		else
			snprintf(res->errmsg, sizeof(res->errmsg),
				 "measured nothing: 0 messages completed");
	}
	return ret;
}

/*
 * --slo: one cell is a search (kernels/slo.c) of stream runs at rates
 * it picks; each step's run is kept until the search ends, and the row
 * is the last run at the rate it found (or, when none held, its last
 * run), carrying the whole search in res->slo.
 */
struct slo_job {
	const struct ik_config *cell;
	const struct ik_transport_ops *ops;
	enum ik_mode mode;
	const struct ik_run *run;
	struct ik_result *runs; /* IK_SLO_MAX_STEPS, one per step */
	unsigned nruns;
};

static uint64_t pct_ns(const struct ik_hist *h, double pct)
{
	return pct >= 100 ? h->max : ik_hist_percentile(h, pct);
}

/*
 * A percentile is only as good as the samples beyond it: a step wants
 * SLO_TAIL of them past the objective's tightest percentile (2000
 * samples for p99, 20000 for p99.9; max counts as p99.9), so a step at
 * a low rate runs longer than the default duration, up to
 * SLO_STEP_MAX_NS (and half the --timeout). A --duration or --iters the
 * user gave is kept: a step short of its samples then says so.
 */
#define SLO_TAIL	20.0
#define SLO_STEP_MAX_NS (10 * IK_NS_PER_SEC)

static uint64_t slo_samples_wanted(const struct ik_slo *slo)
{
	double q = 0;
	unsigned i;

	for (i = 0; i < slo->n; i++)
		q = fmax(q, slo->c[i].pct >= 100 ? 99.9 : slo->c[i].pct);
	return (uint64_t)ceil(SLO_TAIL / (1 - q / 100) - 1e-6);
}

static void slo_stretch(struct ik_config *c, double rate, uint64_t want)
{
	double ns = (double)want / rate * 1e9;
	double cap = fmin((double)SLO_STEP_MAX_NS, (double)c->timeout_ns / 2);

	if (!c->duration_ns || c->duration_given || c->iters_given || rate <= 0)
		return;
	if (ns > cap)
		ns = cap;
	if (ns > (double)c->duration_ns)
		c->duration_ns = (uint64_t)ns;
}

static int slo_step(void *arg, double rate, const struct ik_slo *slo,
		    struct ik_slo_step *st)
{
	struct slo_job *j = arg;
	struct ik_config c = *j->cell;
	struct ik_result *r = &j->runs[j->nruns];
	const struct ik_stream_result *s = &r->stream;
	uint64_t want = slo_samples_wanted(slo);
	unsigned i, tries = 0;
	double tail;
	int ret;

	c.rate = (uint64_t)llround(rate);
	slo_stretch(&c, rate, want);
	do {
		if (tries)
			ik_result_free(r);
		if (stopped(j->run))
			return -EINTR;
		ret = measure_quiet(&c, j->ops, j->mode, j->run, r);
		/* a TSC offset probe that came out loose drops one run's
		 * latency; one more run, not the end of the search */
	} while (!ret && rate > 0 && !s->latency_valid &&
		 !strncmp(s->latency_why, "dropped", 7) && ++tries < 3);
	j->nruns++;
	/* flat out only brackets the rate: its latency may go; a step whose
	 * TSC offset stayed loose is one that did not show it held (the
	 * search goes on); anything else is an error */
	if (!ret && !s->latency_valid && rate > 0 &&
	    strncmp(s->latency_why, "dropped", 7)) {
		ret = r->err = -ENODATA;
		snprintf(r->errmsg, sizeof(r->errmsg),
			 "--slo needs one-way latency, and it was %s",
			 s->latency_why);
	}
	if (ret) {
		snprintf(st->note, sizeof(st->note), "%.119s", r->errmsg);
		return ret;
	}
	if (!s->latency_valid)
		snprintf(st->note, sizeof(st->note), "latency %.100s",
			 s->latency_why);
	st->latency = s->latency_valid;
	st->samples = r->hist.total;
	st->samples_wanted = want;
	if (rate > 0 && s->latency_valid && r->hist.total < want &&
	    !st->note[0])
		snprintf(st->note, sizeof(st->note),
			 "only %llu samples, under %llu for its percentile",
			 (unsigned long long)r->hist.total,
			 (unsigned long long)want);
	/* judged against the bound, the offset may be loose against the
	 * small percentiles printed beside it: say how loose */
	if (rate > 0 && s->latency_valid && !st->note[0] &&
	    s->tsc_offset_err_ns > 0.1 * (double)pct_ns(&r->hist, 50))
		snprintf(st->note, sizeof(st->note),
			 "percentiles known to +-%.0f ns (TSC offset)",
			 s->tsc_offset_err_ns);
	st->rate_got = s->msgs_per_s;
	st->late_sends = s->late_sends;
	/* kept: the run took no longer than its schedule and 1%, less the
	 * typical one-way latency (the last message arrives that much after
	 * its due time; a short run would miss by it alone). Sends that left
	 * late are not a miss by themselves: each carries its due time, so
	 * its lateness is in the latency the objective judges (on a VM
	 * whose host takes the vCPU away ~6% of the time, counting them as
	 * well failed every rate over ~9k/s for a reason the objective does
	 * not name); --rate's "sustained" is that stricter test */
	tail = s->latency_valid ? (double)pct_ns(&r->hist, 50) / 1e9 : 0;
	st->kept = rate <= 0 ||
		   s->seconds - tail <= (double)s->messages / rate * 1.01;
	st->p50_ns = pct_ns(&r->hist, 50);
	st->p99_ns = pct_ns(&r->hist, 99);
	st->p999_ns = pct_ns(&r->hist, 99.9);
	st->max_ns = r->hist.max;
	for (i = 0; i < slo->n; i++)
		st->cond_ns[i] = pct_ns(&r->hist, slo->c[i].pct);
	return 0;
}

static int measure_slo(const struct ik_config *cell,
		       const struct ik_transport_ops *ops, enum ik_mode mode,
		       const struct ik_run *run, struct ik_result *res)
{
	struct slo_job j = {cell, ops, mode, run, NULL, 0};
	struct ik_slo_result *sr = calloc(1, sizeof(*sr));
	unsigned i, row = 0;
	int ret;

	j.runs = calloc(IK_SLO_MAX_STEPS, sizeof(*j.runs));
	if (!sr || !j.runs) {
		free(sr);
		free(j.runs);
		memset(res, 0, sizeof(*res));
		res->err = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "--slo: %s",
			 strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = ik_slo_search(&cell->slo, slo_step, &j, sr);
	for (i = 0; i < sr->nsteps && i < j.nruns; i++)
		if (sr->step[i].held && sr->step[i].rate_asked == sr->held_rate)
			row = i;
	if (ret || !sr->held_rate)
		row = j.nruns ? j.nruns - 1 : 0;
	for (i = 0; i < j.nruns; i++)
		if (i != row)
			ik_result_free(&j.runs[i]);
	if (j.nruns) {
		*res = j.runs[row];
	} else {
		memset(res, 0, sizeof(*res));
		res->err = ret;
		snprintf(res->errmsg, sizeof(res->errmsg), "%s",
			 strerror(-ret));
	}
	if (ret && ret != -EINTR) {
		char why[sizeof(res->errmsg)];

		memcpy(why, res->errmsg, sizeof(why));
		res->err = ret;
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "--slo step %u (%.0f msgs/s): %.160s", sr->nsteps,
			 sr->nsteps ? sr->step[sr->nsteps - 1].rate_asked : 0,
			 why);
	}
	res->slo = sr;
	free(j.runs);
	if (ret && stopped(run)) /* no row: the grid keeps none of it */
		ik_result_free(res);
	return ret;
}

static void report_failure(const struct ik_config *cell,
			   const struct ik_transport_ops *ops,
			   enum ik_mode mode, const char *why)
{
	fprintf(stderr, "ipckern: %s (%s, %zu B): %s\n", ops->name,
		ik_mode_name(mode), cell->size, why);
}

/*
 * A walk of the grid: measuring (run set) or planning (run NULL: each
 * cell counted, with its estimate, and listed on list for --dry-run).
 */
struct grid {
	const struct ik_plan *p;
	const struct ik_class_pair *classes;
	const struct ik_run *run; /* NULL: a plan, nothing measured */
	struct ik_progress *pg;	  /* may be NULL */
	FILE *list;		  /* a plan's listing, or NULL */
	unsigned planned;	  /* a plan's measurements */
	double est;		  /* a plan's estimated ns */
	bool *failed;
};

static int measure_pairs(const struct ik_config *cell, const int *pins,
			 unsigned np, const struct ik_transport_ops *ops,
			 enum ik_mode mode, const struct ik_run *run,
			 struct ik_result *res);

/* &res[n], or NULL for a plan, which has no results */
static struct ik_result *at(struct ik_result *res, unsigned n)
{
	return res ? res + n : NULL;
}

/*
 * One measurement of cell (np > 1: --pairs, np pairs at once) into res,
 * its failure reported on stderr as it happens, between progress
 * updates. Returns the rows it made: none when the signal cut it short
 * (an interrupted cell is not a result, nor a failure to report).
 */
static unsigned one(struct grid *g, const struct ik_config *cell,
		    const struct ik_transport_ops *ops, enum ik_mode mode,
		    unsigned np, const char *pair, struct ik_result *res)
{
	/* --slo: a search takes about a dozen runs */
	double est = ik_cli_cell_estimate(cell) * (cell->slo.n ? 12 : 1);
	unsigned rows = np == 1 ? 1 : np + 1;
	char what[160];
	int ret;

	ik_cli_cell_name(g->p, cell, ops, mode, pair, what, sizeof(what));
	if (np > 1 && sizeof(what) > strlen(what))
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 " x%u pairs", np);
	if (!g->run) {
		g->planned++;
		g->est += est;
		if (g->list)
			fprintf(g->list, "%5u  %-60s ~%.2f s\n", g->planned,
				what, est / 1e9);
		return rows;
	}
	ik_progress_cell(g->pg, what);
	if (np == 1) {
		struct ik_run run = *g->run;

		/* the line moves while one long cell runs, redrawn by its
		 * controller; --pairs' controllers run at once: not there */
		if (g->pg && g->pg->tty) {
			run.progress = ik_progress_tick;
			run.progress_arg = g->pg;
		}
		if (!g->p->quiet && cell->soak_minute_ns) {
			run.soak_minute = ik_progress_soak;
			run.progress_arg = g->pg;
		}
		ret = cell->slo.n ? measure_slo(cell, ops, mode, &run, res)
				  : measure_quiet(cell, ops, mode, &run, res);
	} else {
		ret = measure_pairs(cell, g->p->pins, np, ops, mode, g->run,
				    res);
	}
	if (ret && stopped(g->run))
		return 0;
	if (ret) {
		ik_progress_clear(g->pg);
		report_failure(cell, ops, mode, res[rows - 1].errmsg);
	}
	*g->failed |= ret != 0;
	ik_progress_done(g->pg, est, ret);
	return rows;
}

/* --classes: one run pinned to each present class's pair; rows made. */
static unsigned run_classes(struct grid *g, const struct ik_config *cell,
			    const struct ik_transport_ops *ops,
			    enum ik_mode mode, struct ik_result *res)
{
	unsigned k, n = 0;

	for (k = 0; k < IK_NCLASSES && !(g->run && stopped(g->run)); k++) {
		struct ik_config one_cell = *cell;
		char pair[32];

		if (!g->classes[k].present)
			continue;
		one_cell.pinned = true;
		one_cell.cpu[0] = g->classes[k].cpu[0];
		one_cell.cpu[1] = g->classes[k].cpu[1];
		one_cell.ncpu = 2;
		snprintf(pair, sizeof(pair), "CPUs %d,%d", one_cell.cpu[0],
			 one_cell.cpu[1]);
		if (!one(g, &one_cell, ops, mode, 1, pair, at(res, n)))
			break;
		if (g->run)
			res[n].cls = (int)k;
		n++;
	}
	return n;
}

/*
 * --matrix: every ordered pair (a, b), a != b, of the plan's cpus.
 * Start-up per pair (channel, peers, pinning: all but the measured
 * loops) is kept for the report.
 */
static unsigned run_matrix(struct grid *g, const struct ik_config *cell,
			   const struct ik_transport_ops *ops,
			   enum ik_mode mode, struct ik_result *res)
{
	const struct ik_plan *p = g->p;
	unsigned a, b, n = 0;

	for (a = 0; a < p->ncpus; a++)
		for (b = 0; b < p->ncpus; b++) {
			struct ik_config one_cell = *cell;
			char pair[32];
			uint64_t t0;
			double loops;

			if (a == b)
				continue;
			if (g->run && stopped(g->run))
				return n;
			one_cell.pinned = true;
			one_cell.cpu[0] = p->cpus[a];
			one_cell.cpu[1] = p->cpus[b];
			one_cell.ncpu = 2;
			snprintf(pair, sizeof(pair), "CPUs %d->%d", p->cpus[a],
				 p->cpus[b]);
			t0 = ik_clock_ns();
			if (!one(g, &one_cell, ops, mode, 1, pair, at(res, n)))
				return n;
			if (g->run) {
				loops = (double)(res[n].wall_ns +
						 res[n].warmup_ns);
				res[n].startup_ms =
					((double)(ik_clock_ns() - t0) - loops) /
					1e6;
			}
			n++;
		}
	return n;
}

struct pair_job {
	struct ik_config cell;
	const struct ik_transport_ops *ops;
	enum ik_mode mode;
	struct ik_run run; /* the run's, with the pairs' start barrier */
	struct ik_result *res;
	int ret;
	pthread_t th;
};

static void *pair_main(void *p)
{
	struct pair_job *j = p;

	j->ret = measure_quiet(&j->cell, j->ops, j->mode, &j->run, j->res);
	/* a pair that failed before its peers reached the barrier (its
	 * channel's set-up) must not keep the others waiting there */
	if (j->ret)
		ik_barrier_break(j->run.start);
	return NULL;
}

/* Pair k's result r into the sum row: throughputs added, histograms
 * merged, the wall time the longest pair's. */
static void add_pair(struct ik_result *all, const struct ik_result *r,
		     unsigned k)
{
	ik_hist_merge(&all->hist, &r->hist);
	all->count += r->count;
	all->strangers += r->strangers;
	all->warmup += r->warmup;
	all->wall_ns = r->wall_ns > all->wall_ns ? r->wall_ns : all->wall_ns;
	all->stream.messages += r->stream.messages;
	all->stream.msgs_per_s += r->stream.msgs_per_s;
	all->stream.bytes_per_s += r->stream.bytes_per_s;
	all->stream.latency_valid =
		k == 0 ? r->stream.latency_valid
		       : all->stream.latency_valid && r->stream.latency_valid;
	for (int s = 0; s < 2; s++) {
		all->cpu[s].cpu_ns += r->cpu[s].cpu_ns;
		all->cpu[s].user_ns += r->cpu[s].user_ns;
		all->cpu[s].sys_ns += r->cpu[s].sys_ns;
	}
	/* late and lost add up; the events stay on their pairs' rows
	 * (a trip number names a trip of one pair only) */
	all->late.threshold_ns = r->late.threshold_ns;
	all->late.count += r->late.count;
	if (r->late.worst_ns > all->late.worst_ns)
		all->late.worst_ns = r->late.worst_ns;
	all->lost += r->lost;
	all->late_shown |= r->late_shown;
}

/*
 * --pairs: np pairs at once, each driven by its own controller thread,
 * all peers released together by one start barrier. res[0..np-1] get
 * each pair, res[np] their sum: throughputs added, histograms merged.
 * One pair's failure breaks the barrier, so the rest end at once as not
 * run; the sum row's error names the failure that came first.
 */
static int pairs_once(const struct ik_config *cell, const int *pins,
		      unsigned np, const struct ik_transport_ops *ops,
		      enum ik_mode mode, const struct ik_run *run,
		      struct ik_result *res)
{
	struct pair_job *jobs = calloc(np, sizeof(*jobs));
	struct ik_barrier *start = ik_barrier_new(2 * np, run->mem_node);
	struct ik_result *all = &res[np];
	unsigned k, started = 0, not_run = 0, failed = 0;
	int ret = 0;

	/* every row is a result, until its pair says otherwise */
	for (k = 0; k < np; k++) {
		ik_result_begin(&res[k], cell, ops, mode, run->topo);
		res[k].pair_index = (int)k;
		res[k].npairs = np;
		res[k].err = -ECANCELED;
		snprintf(res[k].errmsg, sizeof(res[k].errmsg),
			 "not run: another pair failed to start");
	}
	ik_result_begin(all, cell, ops, mode, run->topo);
	all->pair_index = -1;
	all->npairs = np;
	if (!jobs || !start || ik_hist_init(&all->hist, IK_HIST_MAX_NS)) {
		for (k = 0; k <= np; k++)
			snprintf(res[k].errmsg, sizeof(res[k].errmsg),
				 "not run: out of memory");
		all->err = -ENOMEM;
		free(jobs);
		ik_barrier_free(start);
		return -ENOMEM;
	}
	for (k = 0; k < np; k++) {
		struct pair_job *j = &jobs[k];

		j->cell = *cell;
		j->run = *run;
		j->run.start = start;
		if (cell->pinned) { /* pair k's own two from --pin */
			j->cell.cpu[0] = pins[2 * k];
			j->cell.cpu[1] = pins[2 * k + 1];
			j->cell.ncpu = 2;
		}
		j->ops = ops, j->mode = mode, j->res = &res[k];
		if ((ret = -pthread_create(&j->th, NULL, pair_main, j))) {
			char hint[120];

			ik_barrier_break(start);
			res[k].err = ret;
			snprintf(res[k].errmsg, sizeof(res[k].errmsg),
				 "no thread to drive it: %s%s", strerror(-ret),
				 ik_limit_hint(ret, hint, sizeof(hint)));
			break;
		}
		started++;
	}
	for (k = 0; k < started; k++)
		pthread_join(jobs[k].th, NULL);
	for (k = 0; k < np; k++) {
		struct ik_result *r = &res[k];
		int err = k < started ? jobs[k].ret : r->err;

		r->pair_index = (int)k; /* the kernel began the row again */
		r->npairs = np;
		not_run += err == -ECANCELED;
		failed += err && err != -ECANCELED;
		/* the cause, not a pair cancelled because of it */
		if (err && (!all->err ||
			    (all->err == -ECANCELED && err != -ECANCELED))) {
			char why[sizeof(r->errmsg)];

			memcpy(why, r->errmsg, sizeof(why));
			all->err = err;
			snprintf(all->errmsg, sizeof(all->errmsg),
				 "pair %u: %.180s", k + 1, why);
		}
		if (!r->err && k < started)
			add_pair(all, r, k);
	}
	if (all->err) {
		size_t at = strlen(all->errmsg);

		if (np > 1 && at < sizeof(all->errmsg))
			snprintf(all->errmsg + at, sizeof(all->errmsg) - at,
				 "; of %u pairs %u failed, %u not run", np,
				 failed, not_run);
	}
	/* only a one-way kernel's sum is marked as its kernel's (it must be
	 * read as one way), as before issue 12; the others' sums read as
	 * ping-pong rows */
	if (ik_kernels[cell->kernel]->one_way)
		all->kernel = ik_kernels[cell->kernel];
	if (!all->stream.latency_valid)
		snprintf(all->stream.latency_why,
			 sizeof(all->stream.latency_why),
			 "not merged: some pair's latency was not kept");
	free(jobs);
	ik_barrier_free(start);
	return all->err ? all->err : ret;
}

/*
 * --pairs, and --explain: when some pair's peers switched in the
 * counted pass, every pair is timed again together, uncounted (as
 * explain_again does for one pair); each row keeps its counted pass's
 * counts. A second pass that fails leaves the counted one as it was.
 */
static int measure_pairs(const struct ik_config *cell, const int *pins,
			 unsigned np, const struct ik_transport_ops *ops,
			 enum ik_mode mode, const struct ik_run *run,
			 struct ik_result *res)
{
	struct ik_config plain = *cell;
	struct ik_result *counted;
	bool again = false;
	unsigned k;
	int ret = pairs_once(cell, pins, np, ops, mode, run, res);

	if (ret || !cell->explain || stopped(run))
		return ret;
	for (k = 0; k < np; k++) {
		ik_result_counted(&res[k]);
		again |= explain_switched(&res[k]);
	}
	if (!again || !(counted = malloc((np + 1) * sizeof(*counted))))
		return 0;
	memcpy(counted, res, (np + 1) * sizeof(*counted));
	plain.explain = false;
	if (pairs_once(&plain, pins, np, ops, mode, run, res)) {
		for (k = 0; k <= np; k++)
			ik_result_free(&res[k]);
		memcpy(res, counted, (np + 1) * sizeof(*counted));
		free(counted);
		return 0;
	}
	for (k = 0; k < np; k++)
		ik_result_keep_counted(&res[k], &counted[k]);
	for (k = 0; k <= np; k++)
		ik_result_free(&counted[k]);
	free(counted);
	return 0;
}

/* The floor goes with a kernel that has one (ping-pong) on one stated
 * pair (not classes, matrix or concurrent pairs, which have many). */
bool ik_cli_floor_applies(const struct ik_plan *p)
{
	unsigned i;

	if (!ik_kernels[p->cfg.kernel]->floor || !p->cfg.pinned || p->classes ||
	    p->matrix)
		return false;
	for (i = 0; i < p->sweep.npairs; i++)
		if (p->sweep.pairs[i] != 1)
			return false;
	return true;
}

/* ipc/floor.c through the kernel that has the floor (ping-pong): threads,
 * size 1, no gap. */
int ik_cli_measure_floor(const struct ik_config *cfg, const struct ik_run *run,
			 struct ik_result *res)
{
	struct ik_config fc = *cfg;

	fc.size = 1;
	fc.buffer = 0;
	fc.gap_ns = 0;
	fc.keep_raw = false;
	fc.explain = false;
	fc.duration_ns = 0;
	/* the floor's word is nobody's line provenance: as it always was */
	fc.touch = IK_TOUCH_NONE;
	fc.homed = false;
	fc.lines = (struct ik_lines){0};
	fc.preheat_ms = 0;
	fc.iters =
		cfg->duration_ns || cfg->iters > 1000000 ? 20000 : cfg->iters;
	fc.warmup = cfg->warmup ? cfg->warmup : 2000;
	return ik_kernels[cfg->kernel]->run(&fc, &ik_floor_ops, IK_MODE_THREAD,
					    run, res);
}

/*
 * One configuration of the sweep (cell) over its pairs: --matrix's,
 * --classes', or each --pairs count. Returns the results written at res.
 */
static unsigned run_cell(struct grid *g, const struct ik_config *cell,
			 const struct ik_transport_ops *ops, enum ik_mode mode,
			 struct ik_result *res)
{
	const struct ik_plan *p = g->p;
	unsigned pr, n = 0, got;

	if (p->matrix)
		return run_matrix(g, cell, ops, mode, res);
	if (p->classes)
		return run_classes(g, cell, ops, mode, res);
	for (pr = 0; pr < p->sweep.npairs; pr++) {
		if (g->run && stopped(g->run))
			break;
		got = one(g, cell, ops, mode, p->sweep.pairs[pr], NULL,
			  at(res, n));
		if (!got)
			break;
		n += got;
	}
	return n;
}

/* A list's count, at least 1: an option not given sweeps nothing. */
static unsigned one_or(unsigned n)
{
	return n ? n : 1;
}

unsigned ik_cli_line_cells(const struct ik_sweep *sw)
{
	return one_or(sw->ntouches) * one_or(sw->nhomes) *
	       one_or(sw->nline_ops) * one_or(sw->nstrides) *
	       one_or(sw->nnlines);
}

/*
 * Issue 19's dimensions of one cell, innermost: --first-touch, --home,
 * --line-op, --stride, --lines (the first varying slowest). Returns the
 * results written at res.
 */
static unsigned run_lines(struct grid *g, const struct ik_config *cell,
			  const struct ik_transport_ops *ops, enum ik_mode mode,
			  struct ik_result *res)
{
	const struct ik_sweep *sw = &g->p->sweep;
	unsigned nt = one_or(sw->ntouches), nh = one_or(sw->nhomes),
		 no = one_or(sw->nline_ops), ns = one_or(sw->nstrides),
		 nl = one_or(sw->nnlines);
	unsigned k, n = 0, got, total = ik_cli_line_cells(sw);

	for (k = 0; k < total; k++) {
		struct ik_config c = *cell;
		unsigned r = k;

		if (sw->nnlines)
			c.lines.n = sw->nlines[r % nl];
		r /= nl;
		if (sw->nstrides)
			c.lines.stride = IK_CACHELINE << sw->strides[r % ns];
		r /= ns;
		if (sw->nline_ops)
			c.lines.op = (enum ik_line_op)sw->line_ops[r % no];
		r /= no;
		if (sw->nhomes) {
			c.homed = true;
			c.home = (int)sw->homes[r % nh];
		}
		r /= nh;
		if (sw->ntouches) {
			int t = sw->touches[r % nt];

			c.touch = t == -1   ? IK_TOUCH_A
				  : t == -2 ? IK_TOUCH_B
					    : IK_TOUCH_CPU;
			c.touch_cpu = t;
		}
		if (g->run && stopped(g->run))
			break;
		got = run_cell(g, &c, ops, mode, at(res, n));
		n += got;
		if (!got)
			break;
	}
	return n;
}

/*
 * The cells of one method and strategy from result n on: sizes, buffers,
 * and gaps, works, clients, servers, loads and modes (modes vary
 * fastest), each through run_lines (issue 19's dimensions).
 * Returns the results written; *stop when the run was stopped.
 */
static unsigned walk_one(struct grid *g, struct ik_result *results, unsigned n,
			 unsigned i, unsigned wi, unsigned bi, bool *stop)
{
	const struct ik_plan *p = g->p;
	const struct ik_sweep *sw = &p->sweep;
	unsigned nload = sw->nloads ? sw->nloads : 1;
	unsigned ncombo = sw->ngaps * sw->nworks * sw->nclients * sw->nservers *
			  sw->nmodes * nload;
	unsigned z, b, gp, n0 = n;

	for (z = 0; z < sw->nsizes; z++)
		for (b = 0; b < sw->nbuffers; b++)
			for (gp = 0; gp < ncombo; gp++) {
				struct ik_config cell = p->cfg;
				/* modes vary fastest, then gaps, works,
				 * clients, servers, loads */
				unsigned m = gp % sw->nmodes;
				unsigned gw = gp / sw->nmodes;
				unsigned rest = gw / sw->ngaps;
				unsigned cs = rest / sw->nworks;
				unsigned sv = cs / sw->nclients;
				unsigned ns = sw->nservers;

				if (g->run && stopped(g->run)) {
					*stop = true;
					return n - n0;
				}
				cell.wait = sw->waits[wi];
				cell.spin_budget = sw->budgets[bi];
				cell.size = sw->sizes[z];
				cell.buffer = sw->buffers[b];
				cell.gap_ns = sw->gaps[gw % sw->ngaps];
				cell.work_ns = sw->works[rest % sw->nworks];
				cell.clients = sw->clients[cs % sw->nclients];
				cell.server = sw->servers[sv % ns];
				/* --load varies slowest of these */
				if (sw->nloads)
					cell.load = &sw->loads[sv / ns];
				n += run_lines(g, &cell, sw->methods[i],
					       sw->modes[m], at(results, n));
			}
	return n - n0;
}

/*
 * Every cell of the grid through g, in the order results are kept:
 * methods, then wait strategies and budgets. A method that takes no
 * strategy runs the first alone, and only hybrid sweeps the budgets.
 */
static unsigned walk(struct grid *g, struct ik_result *results)
{
	const struct ik_sweep *sw = &g->p->sweep;
	unsigned i, wi, bi, n = 0;
	bool stop = false;

	for (i = 0; i < sw->nmethods && !stop; i++)
		for (wi = 0; wi < sw->nwaits && !stop; wi++)
			for (bi = 0; bi < sw->nbudgets && !stop; bi++) {
				if (!(sw->methods[i]->flags & IK_T_WAIT) &&
				    (wi || bi))
					continue;
				if (bi && sw->waits[wi] != IK_WAIT_HYBRID)
					continue;
				n += walk_one(g, results, n, i, wi, bi, &stop);
			}
	return n;
}

unsigned ik_cli_run_grid(const struct ik_plan *p,
			 const struct ik_class_pair *classes,
			 const struct ik_run *run, struct ik_result *results,
			 struct ik_progress *pg, bool *failed)
{
	struct grid g = {.p = p,
			 .classes = classes,
			 .run = run,
			 .pg = pg,
			 .failed = failed};
	unsigned n = walk(&g, results);

	ik_shm_retired_free(); /* --fresh: the mappings kept till now */
	return n;
}

unsigned ik_cli_plan_grid(const struct ik_plan *p,
			  const struct ik_class_pair *classes, FILE *f,
			  unsigned *cells, double *est_ns)
{
	bool failed = false;
	struct grid g = {
		.p = p, .classes = classes, .list = f, .failed = &failed};
	unsigned rows = walk(&g, NULL);

	*cells = g.planned;
	*est_ns = g.est;
	return rows;
}

/*
 * --repeat: cell j of repeat r is results[r * stride + j]. Keep every
 * repeat's metrics in cell j of the first, pool the rest into it.
 */
int ik_cli_fold_repeats(struct ik_result *results, unsigned n, unsigned nrep,
			size_t stride)
{
	unsigned j, r;

	for (j = 0; j < n; j++) {
		struct ik_result *dst = &results[j];

		dst->rep_v = malloc((size_t)nrep * IK_NMETRICS *
				    sizeof(*dst->rep_v));
		if (!dst->rep_v)
			return -ENOMEM;
		dst->repeats = nrep;
		for (r = 0; r < nrep; r++) {
			struct ik_result *src = &results[r * stride + j];

			ik_metrics_of(src,
				      &dst->rep_v[(size_t)r * IK_NMETRICS]);
			if (r) {
				ik_result_pool(dst, src, r);
				ik_result_free(src);
			}
		}
	}
	return 0;
}
/*
 * A pinned CPU's SMT sibling that is busy (over half its time in the
 * last 100 ms, from /proc/stat) shares the core's pipeline with our peer.
 * The 100 ms is the sampling window; no sibling, no wait.
 */
void ik_cli_sibling_warnings(const struct ik_config *c,
			     const struct ik_topo *tp, char (*note)[200],
			     struct ik_report *rep)
{
	int pair[2] = {ik_config_cpu(c, 0), ik_config_cpu(c, 1)};
	uint64_t b0[8], t0[8], b1, t1;
	int sib[8], n = 0, k, p, j;

	for (p = 0; p < 2; p++) {
		int s[4], m = ik_topo_smt_siblings(tp, pair[p], s, 4);

		for (k = 0; k < m && n < 8; k++)
			if (s[k] != pair[0] && s[k] != pair[1])
				sib[n++] = s[k];
	}
	for (k = 0; k < n; k++)
		if (ik_cpu_ticks("", sib[k], &b0[k], &t0[k]))
			return;
	if (!n)
		return;
	usleep(100000);
	for (k = 0; k < n && rep->nnotes < IK_ARRAY_SIZE(rep->notes); k++) {
		if (ik_cpu_ticks("", sib[k], &b1, &t1) || t1 == t0[k] ||
		    2 * (b1 - b0[k]) <= t1 - t0[k])
			continue;
		j = (int)rep->nnotes;
		snprintf(note[j], 200,
			 "SMT sibling CPU %d of a pinned CPU was %.0f%% busy: "
			 "it shares the core with a peer",
			 sib[k],
			 100.0 * (double)(b1 - b0[k]) / (double)(t1 - t0[k]));
		rep->notes[j] = note[j];
		rep->nnotes++;
	}
}
