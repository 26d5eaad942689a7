/* SPDX-License-Identifier: MIT */
/*
 * The CI gate on synthetic numbers: verdicts on repeat sets built to be a
 * clear regression, pure noise or a small real change; the assertion
 * parser and evaluator; the baseline round trip, its mismatch refusal and
 * the malformed-file table; a gate that cannot compare failing closed;
 * and the Google Benchmark export's shape.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "kernels/kernels.h"
#include "reports/gate.h"
#include "reports/reports.h"

/* n values around mid with a deterministic +-spread jitter */
static void noisy(double *x, unsigned n, double mid, double spread,
		  unsigned seed)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned h = (i + 1) * 2654435761u ^ seed * 40503u;

		x[i] = mid + spread * (((h >> 8) % 2001) / 1000.0 - 1.0);
	}
}

Test(verdict, a_clear_regression_is_regressed_and_significant)
{
	double b[10], c[10];
	struct ik_verdict v;

	noisy(b, 10, 100, 3, 1);
	noisy(c, 10, 130, 3, 2);
	cr_assert_eq(ik_verdict(b, 10, c, 10, false, 0.10, 0, &v), 0);
	cr_expect_eq(v.kind, IK_REGRESSED);
	cr_expect(v.significant);
	cr_expect(v.ratio > 1.25 && v.ratio < 1.35, "ratio %f", v.ratio);
	cr_expect(v.lo > 1 && v.lo <= v.ratio && v.hi >= v.ratio);
}

Test(verdict, noise_alone_is_unchanged)
{
	double b[10], c[10];
	struct ik_verdict v;

	for (unsigned s = 0; s < 50; s++) {
		/* the same distribution drawn twice, +-20% wide */
		noisy(b, 10, 100, 20, s);
		noisy(c, 10, 100, 20, s + 1000);
		cr_assert_eq(ik_verdict(b, 10, c, 10, false, 0.10, 0, &v), 0);
		cr_expect_neq(v.kind, IK_REGRESSED,
			      "seed %u: ratio %f [%f, %f]", s, v.ratio, v.lo,
			      v.hi);
	}
}

Test(verdict, a_small_real_change_under_the_threshold_is_unchanged)
{
	double b[10], c[10];
	struct ik_verdict v;

	noisy(b, 10, 100, 0.5, 3);
	noisy(c, 10, 105, 0.5, 4);
	cr_assert_eq(ik_verdict(b, 10, c, 10, false, 0.10, 0, &v), 0);
	cr_expect(v.significant, "5%% with no noise is a real change");
	cr_expect_eq(v.kind, IK_UNCHANGED, "but under --max-regress 10%%");
	cr_assert_eq(ik_verdict(b, 10, c, 10, false, 0.03, 0, &v), 0);
	cr_expect_eq(v.kind, IK_REGRESSED, "and over --max-regress 3%%");
}

Test(verdict, a_large_but_noisy_change_is_not_significant)
{
	double b[5] = {100, 200, 100, 200, 150},
	       c[5] = {120, 240, 110, 230, 180};
	struct ik_verdict v;

	cr_assert_eq(ik_verdict(b, 5, c, 5, false, 0.10, 0, &v), 0);
	cr_expect(v.ratio > 1.1);
	cr_expect_not(v.significant, "[%f, %f]", v.lo, v.hi);
	cr_expect_eq(v.kind, IK_UNCHANGED);
}

Test(verdict, throughput_regresses_downwards)
{
	double b[6] = {100, 101, 99, 100, 102, 98},
	       c[6] = {70, 71, 69, 70, 72, 68};
	struct ik_verdict v;

	cr_assert_eq(ik_verdict(b, 6, c, 6, true, 0.10, 0, &v), 0);
	cr_expect_eq(v.kind, IK_REGRESSED);
	cr_assert_eq(ik_verdict(c, 6, b, 6, true, 0.10, 0, &v), 0);
	cr_expect_eq(v.kind, IK_IMPROVED);
	/* a 9% drop is 1/0.91 = 1.099x slower: under 10% */
	for (int i = 0; i < 6; i++)
		c[i] = b[i] * 0.91;
	cr_assert_eq(ik_verdict(b, 6, c, 6, true, 0.10, 0, &v), 0);
	cr_expect_eq(v.kind, IK_UNCHANGED);
}

Test(verdict, too_few_repeats_is_refused_and_nans_are_skipped)
{
	double b[3] = {1, 2, 3}, c[4] = {1, NAN, 2, 3};
	struct ik_verdict v;

	cr_expect_eq(ik_verdict(b, 2, c, 4, false, 0.1, 0, &v), -EINVAL);
	c[0] = NAN;
	cr_expect_eq(ik_verdict(b, 3, c, 4, false, 0.1, 0, &v), -EINVAL,
		     "two finite values are too few");
}

Test(summary, median_interval_and_cv)
{
	double x[5] = {10, 12, 11, NAN, 13};
	struct ik_summary s;

	ik_summarize(x, 5, &s);
	cr_expect_eq(s.n, 4);
	cr_expect_float_eq(s.median, 11.5, 1e-9);
	cr_expect(s.lo >= 10 && s.lo <= s.median && s.hi >= s.median &&
		  s.hi <= 13);
	/* mean 11.5, sample sd sqrt(5/3) */
	cr_expect_float_eq(s.cv, sqrt(5.0 / 3) / 11.5, 1e-9);
	ik_summarize(x, 1, &s);
	cr_expect_eq(s.lo, 10);
	cr_expect_eq(s.hi, 10);
	cr_expect_eq(s.cv, 0);
}

/* ---- assertions ---- */

struct parse_case {
	const char *text;
	const char *method;
	int metric;
	double coef;
	int op;
	bool ratio; /* the right side is a metric too */
	double bound;
};

Test(assertions, good_expressions_parse)
{
	static const struct parse_case t[] = {
		{"spsc.p99<2us", "spsc", IK_M_P99, 1, IK_LT, false, 2000},
		{"pipe.p50<=1.2*futex.p50", "pipe", IK_M_P50, 1, IK_LE, true,
		 1.2},
		{"tcp.throughput>=500MB/s", "tcp", IK_M_BYTES, 1, IK_GE, false,
		 500e6},
		{"tcp.throughput >= 1 GiB/s", "tcp", IK_M_BYTES, 1, IK_GE,
		 false, 1073741824.0},
		{"uds.throughput>2Mmsgs/s", "uds", IK_M_MSGS, 1, IK_GT, false,
		 2e6},
		{"spsc.msgs > 1.5 kmsgs/s", "spsc", IK_M_MSGS, 1, IK_GT, false,
		 1500},
		{"io_uring.p99.9 < 1ms", "io_uring", IK_M_P999, 1, IK_LT, false,
		 1e6},
		{"uds-dgram:process:4k.cpu<=30us", "uds-dgram", IK_M_CPU, 1,
		 IK_LE, false, 30e3},
		{"2*spsc.mean<1s", "spsc", IK_M_MEAN, 2, IK_LT, false, 1e9},
		{"spsc.p50*3 < line.p50*10", "spsc", IK_M_P50, 3, IK_LT, true,
		 10},
		{"tcp.throughput>=100KiB/s", "tcp", IK_M_BYTES, 1, IK_GE, false,
		 102400},
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ik_assertion a;
		char err[200] = "";

		cr_assert_eq(ik_assert_parse(t[i].text, &a, err, sizeof(err)),
			     0, "%s: %s", t[i].text, err);
		cr_expect_str_eq(a.l.method, t[i].method, "%s", t[i].text);
		cr_expect_eq(a.l.metric, t[i].metric, "%s", t[i].text);
		cr_expect_float_eq(a.l.coef, t[i].coef, 1e-9, "%s", t[i].text);
		cr_expect_eq((int)a.op, t[i].op, "%s", t[i].text);
		cr_expect_eq(a.r.has_ref, t[i].ratio, "%s", t[i].text);
		cr_expect_float_eq(a.r.coef, t[i].bound, 1e-6 * t[i].bound,
				   "%s: %g", t[i].text, a.r.coef);
	}
	{
		struct ik_assertion a;
		char err[200];

		cr_assert_eq(ik_assert_parse("uds-dgram:process:4k.cpu<=30us",
					     &a, err, sizeof(err)),
			     0);
		cr_expect_eq(a.l.mode, IK_MODE_PROCESS);
		cr_expect_eq(a.l.size, 4096);
	}
}

Test(assertions, bad_expressions_say_what_is_wrong)
{
	static const struct {
		const char *text, *says;
	} t[] = {
		{"spsc.p99<2", "unit"},
		{"spsc.p99<2xs", "unknown unit 'xs'"},
		{"spsc.p98<2us", "unknown metric 'p98'"},
		{"spsc<2us", "needs a metric"},
		{"spsc.p99=2us", "expected <"},
		{"spsc.p99<2us junk", "unexpected"},
		{"spsc.p99<500MB/s", "different units"},
		{"spsc.p99<pipe.throughput", "different units"},
		{"1us<2us", "names no metric"},
		{"spsc.p99<2us*pipe.p50", "a side is"},
		{"spsc.p99<1e999us", "not a number"},
		{"spsc.p99<-1us", "expected"},
		{"spsc.p99<nan", "needs a metric"},
		{"spsc:fast.p99<1us", "qualifier"},
		{"spsc:0.p99<1us", "message size"},
		{"tcp.throughput>=500KB/s", "unknown unit 'KB/s'"},
		{"spsc.msgs>1MB/s", "different units"},
		{"", "expected METHOD.METRIC"},
		{"a.p50<1us*2*3", "at most one"},
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ik_assertion a;
		char err[200] = "";

		cr_expect_eq(ik_assert_parse(t[i].text, &a, err, sizeof(err)),
			     -EINVAL, "'%s' should be refused", t[i].text);
		cr_expect(strstr(err, t[i].says) != NULL,
			  "'%s': error should say '%s': %s", t[i].text,
			  t[i].says, err);
	}
}

/* A result cell whose repeats hold the given p50s; other metrics NaN. */
static void fake(struct ik_result *r, const char *method, enum ik_mode mode,
		 size_t size, const double *p50, unsigned k)
{
	memset(r, 0, sizeof(*r));
	r->ops = ik_transport_find(method);
	cr_assert_not_null(r->ops, "%s", method);
	r->mode = mode;
	r->size = size;
	r->cls = -1;
	r->count = 1000;
	r->pair.rel = IK_REL_SHARED_L3;
	r->rep_v = malloc(k * IK_NMETRICS * sizeof(double));
	r->repeats = k;
	for (unsigned i = 0; i < k * IK_NMETRICS; i++)
		r->rep_v[i] = NAN;
	for (unsigned i = 0; i < k; i++) {
		r->rep_v[i * IK_NMETRICS + IK_M_P50] = p50[i];
		r->rep_v[i * IK_NMETRICS + IK_M_P99] = 2 * p50[i];
		r->rep_v[i * IK_NMETRICS + IK_M_MSGS] = 1e9 / p50[i];
		r->rep_v[i * IK_NMETRICS + IK_M_BYTES] = 8e9 / p50[i];
		r->rep_v[i * IK_NMETRICS + IK_M_CPU] = 2 * p50[i];
	}
}

static unsigned eval(const char *text, struct ik_result *res, unsigned n,
		     unsigned *failed)
{
	struct ik_assertion a;
	struct ik_gate_log g = {0};
	char err[200];
	unsigned checked;

	cr_assert_eq(ik_assert_parse(text, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ik_assert_eval(&a, res, n, &g, err, sizeof(err)), 0,
		     "%s: %s", text, err);
	*failed = g.failed;
	checked = g.checked;
	ik_gate_log_free(&g);
	return checked;
}

Test(assertions, evaluation_table)
{
	struct ik_result r[4];
	double a[3] = {100, 110, 120}, b[3] = {200, 210, 220},
	       c[3] = {1000, 1000, 1000};
	unsigned failed;

	fake(&r[0], "spsc", IK_MODE_THREAD, 8, a, 3);  /* p50 110 */
	fake(&r[1], "pipe", IK_MODE_THREAD, 8, b, 3);  /* p50 210 */
	fake(&r[2], "spsc", IK_MODE_PROCESS, 8, c, 3); /* p50 1000 */
	fake(&r[3], "pipe", IK_MODE_PROCESS, 8, a, 3); /* p50 110 */
	static const struct {
		const char *text;
		unsigned checked, failed;
	} t[] = {
		{"spsc.p50<2us", 2, 0},
		{"spsc.p50<500ns", 2, 1},
		{"spsc:thread.p50<=110ns", 1, 0},
		{"spsc:thread.p50<110ns", 1, 1},
		{"spsc.p99<=220ns", 2, 1},
		/* per mode: thread 210 <= 2*110, process 110 <= 2*1000 */
		{"pipe.p50<=2*spsc.p50", 2, 0},
		{"pipe.p50<=1.5*spsc.p50", 2, 1},
		{"spsc.p50>=0.5*pipe:thread.p50", 2, 0},
		{"spsc.msgs>5Mmsgs/s", 2, 1},
		{"spsc.throughput>=8MB/s", 2, 0},
		{"spsc.throughput>0.5Mmsgs/s", 2, 0},
		{"500ns>spsc.p50", 2, 1},
		{"spsc:8.cpu<=220ns", 2, 1},
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned checked = eval(t[i].text, r, 4, &failed);

		cr_expect_eq(checked, t[i].checked, "%s: checked %u", t[i].text,
			     checked);
		cr_expect_eq(failed, t[i].failed, "%s: failed %u", t[i].text,
			     failed);
	}
	for (int i = 0; i < 4; i++)
		free(r[i].rep_v);
}

Test(assertions, a_metric_not_measured_fails_and_no_match_is_an_error)
{
	struct ik_result r[1];
	double a[3] = {100, 110, 120};
	struct ik_assertion as;
	struct ik_gate_log g = {0};
	char err[200];
	unsigned failed;

	fake(&r[0], "spsc", IK_MODE_THREAD, 8, a, 3);
	cr_expect_eq(eval("spsc.p999<1s", r, 1, &failed), 1);
	cr_expect_eq(failed, 1, "a NaN metric is a failed check, not a pass");
	cr_assert_eq(ik_assert_parse("pipe.p50<1s", &as, err, sizeof(err)), 0);
	cr_expect_eq(ik_assert_eval(&as, r, 1, &g, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "pipe") != NULL, "%s", err);
	r[0].err = -EIO;
	cr_assert_eq(ik_assert_parse("spsc.p50<1s", &as, err, sizeof(err)), 0);
	cr_expect_eq(ik_assert_eval(&as, r, 1, &g, err, sizeof(err)), -ENOENT,
		     "a failed run is never checked as passing");
	ik_gate_log_free(&g);
	free(r[0].rep_v);
}

/* ---- baselines ---- */

struct world {
	struct ik_config cfg;
	struct ik_sweep sweep;
	struct ik_machine machine;
	struct ik_timer timer;
	struct ik_result res[2];
	struct ik_report rep;
};

static void world_init(struct world *w, double scale)
{
	double a[5] = {100, 102, 98, 101, 99}, b[5] = {300, 310, 290, 305, 295};

	memset(w, 0, sizeof(*w));
	for (int i = 0; i < 5; i++)
		a[i] *= scale, b[i] *= scale;
	w->sweep.methods[0] = ik_transport_find("spsc");
	w->sweep.methods[1] = ik_transport_find("pipe");
	w->sweep.nmethods = 2;
	w->sweep.nmodes = 1;
	w->sweep.sizes[0] = 8;
	w->sweep.nsizes = 1;
	w->sweep.nbuffers = 1;
	w->sweep.ngaps = 1;
	w->sweep.npairs = 1;
	w->sweep.pairs[0] = 1;
	w->cfg.iters = 20000;
	w->rep.mem_node = -1;
	snprintf(w->machine.model, sizeof(w->machine.model), "Test CPU 3000");
	snprintf(w->machine.hostname, sizeof(w->machine.hostname), "h");
	snprintf(w->machine.governor, sizeof(w->machine.governor), "unknown");
	w->machine.online_cpus = 2;
	fake(&w->res[0], "spsc", IK_MODE_THREAD, 8, a, 5);
	fake(&w->res[1], "pipe", IK_MODE_THREAD, 8, b, 5);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(ik_hist_init(&w->res[i].hist, IK_HIST_MAX_NS), 0);
	w->rep.cfg = &w->cfg;
	w->rep.sweep = &w->sweep;
	w->rep.machine = &w->machine;
	w->rep.timer = &w->timer;
	w->rep.results = w->res;
	w->rep.nresults = 2;
}

static void world_free(struct world *w)
{
	for (int i = 0; i < 2; i++)
		ik_result_free(&w->res[i]);
}

/* The world's JSON report, malloc'd. */
static char *json_of(const struct world *w, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	cr_assert_not_null(f);
	cr_assert_eq(ik_report_json(&w->rep, f), 0);
	fclose(f);
	return buf;
}

Test(baseline, round_trip_keeps_every_repeat)
{
	struct world w;
	struct ik_baseline b;
	char err[300] = "", why[1000];
	size_t len;
	char *buf;

	world_init(&w, 1);
	buf = json_of(&w, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_str_eq(b.model, "Test CPU 3000");
	cr_assert_eq(b.ncells, 2);
	cr_expect_str_eq(b.cells[1].key.method, "pipe");
	cr_expect_str_eq(b.cells[1].key.mode, "thread");
	cr_expect_eq(b.cells[1].key.size, 8);
	cr_assert_eq(b.cells[1].k, 5);
	for (unsigned r = 0; r < 5; r++)
		for (int m = 0; m < IK_NMETRICS; m++) {
			double x = b.cells[1].v[r * IK_NMETRICS + m],
			       y = ik_rep_value(&w.res[1], r, m);

			/* the report keeps 10 significant digits */
			cr_expect(isnan(x) ? isnan(y)
					   : fabs(x - y) <= 1e-9 * fabs(y),
				  "repeat %u metric %d: %f vs %f", r, m, x, y);
		}
	cr_expect_eq(ik_baseline_mismatch(&b, &w.rep, why, sizeof(why)), 0,
		     "%s", why);
	{
		struct ik_gate_log g = {0};

		cr_assert_eq(ik_baseline_compare(&b, &w.rep, 0.10, NULL, &g,
						 err, sizeof(err)),
			     8, "%s", err);
		cr_expect_eq(g.checked, 8, "p50 p99 msgs cpu x 2 cells");
		cr_expect_eq(g.failed, 0, "itself: nothing regressed");
		ik_gate_log_free(&g);
	}
	ik_baseline_free(&b);
	free(buf);
	world_free(&w);
}

Test(baseline, a_slower_run_regresses_against_it)
{
	struct world base, now;
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300] = "";
	size_t len;
	char *buf;

	world_init(&base, 1);
	world_init(&now, 1.3);
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0);
	cr_assert_eq(ik_baseline_compare(&b, &now.rep, 0.10, NULL, &g, err,
					 sizeof(err)),
		     8);
	cr_expect_eq(g.failed, 8, "all four metrics of both cells: %u",
		     g.failed);
	for (unsigned i = 0; i < g.n; i++)
		cr_expect_str_eq(g.rows[i].verdict, "regressed", "%s",
				 g.rows[i].what);
	ik_gate_log_free(&g);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

/*
 * A baseline saved with the idle states held off (--cpu-latency 0) is
 * not compared with a run that let them in, nor the other way: a
 * blocking cell between two vCPUs is ~10x apart. Where either side could
 * not read the limit (not root), or the file predates the field, there
 * is nothing to compare.
 */
Test(baseline, the_cpu_latency_qos_must_match)
{
	struct world base, now;
	struct ik_baseline b;
	char err[300] = "", why[2000];
	size_t len;
	char *buf;

	world_init(&base, 1);
	base.machine.latency_qos_us = 0;
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0);
	cr_expect_str_eq(b.qos, "0 us");
	world_init(&now, 1);
	now.machine.latency_qos_us = IK_NO_LATENCY_QOS;
	cr_expect_eq(ik_baseline_incompatible(&b, &now.rep, why, sizeof(why)),
		     1, "%s", why);
	cr_expect(strstr(why, "CPU latency QoS: baseline 0 us, now none") !=
			  NULL,
		  "%s", why);
	now.machine.latency_qos_us = -1; /* not root: unknown */
	cr_expect_eq(ik_baseline_mismatch(&b, &now.rep, why, sizeof(why)), 0,
		     "%s", why);
	now.machine.latency_qos_us = 0;
	cr_expect_eq(ik_baseline_mismatch(&b, &now.rep, why, sizeof(why)), 0,
		     "%s", why);
	now.machine.latency_qos_us = IK_NO_LATENCY_QOS;
	b.qos[0] = 0; /* a file from before the field */
	cr_expect_eq(ik_baseline_mismatch(&b, &now.rep, why, sizeof(why)), 0,
		     "%s", why);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

Test(baseline, a_baseline_from_elsewhere_is_named_field_by_field)
{
	struct world base, now;
	struct ik_baseline b;
	char err[300] = "", why[2000];
	size_t len;
	char *buf;

	world_init(&base, 1);
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0);
	world_init(&now, 1);
	snprintf(now.machine.model, sizeof(now.machine.model), "Other CPU");
	now.sweep.sizes[0] = 64;
	now.res[0].pair.rel = IK_REL_SMT;
	cr_expect_eq(ik_baseline_mismatch(&b, &now.rep, why, sizeof(why)), 3,
		     "%s", why);
	cr_expect(strstr(why, "machine model") != NULL, "%s", why);
	cr_expect(strstr(why, "config sizes: baseline [8], now [64]") != NULL,
		  "%s", why);
	cr_expect(strstr(why, "pair relation: baseline shared-l3, now smt") !=
			  NULL,
		  "%s", why);
	now.cfg.kernel = IK_KERNEL_STREAM;
	now.res[1].mode = IK_MODE_PROCESS;
	cr_expect_eq(ik_baseline_mismatch(&b, &now.rep, why, sizeof(why)), 6,
		     "%s", why);
	cr_expect(strstr(why, "config kernel") != NULL, "%s", why);
	cr_expect(strstr(why, "pipe process 8 B: not in the baseline") != NULL,
		  "%s", why);
	cr_expect(strstr(why, "pipe [thread 8 B]: in the baseline, not "
			      "measured now") != NULL,
		  "%s", why);
	/* what --baseline refuses: not the cells on one side only */
	cr_expect_eq(ik_baseline_incompatible(&b, &now.rep, why, sizeof(why)),
		     4, "%s", why);
	cr_expect(strstr(why, "config sizes: baseline [8], now [64]: no value "
			      "in common") != NULL,
		  "%s", why);
	cr_expect(strstr(why, "not in the baseline") == NULL, "%s", why);
	cr_expect(strstr(why, "not measured now") == NULL, "%s", why);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

/* The world's two cells in the other order: --method pipe,spsc. */
static void swap_cells(struct world *w)
{
	struct ik_result t = w->res[0];

	w->res[0] = w->res[1];
	w->res[1] = t;
	w->sweep.methods[0] = ik_transport_find("pipe");
	w->sweep.methods[1] = ik_transport_find("spsc");
}

Test(baseline, cells_are_matched_by_key_not_by_list_order)
{
	struct world base, now;
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300] = "", why[2000];
	size_t len;
	char *buf;

	/* saved with --method spsc,pipe --size 8,64; now pipe,spsc and
	 * 64,8: spsc is 3x faster than pipe, so a match by position would
	 * regress one and improve the other */
	world_init(&base, 1);
	base.sweep.sizes[1] = 64;
	base.sweep.nsizes = 2;
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0, "%s",
		     err);
	world_init(&now, 1);
	swap_cells(&now);
	now.sweep.sizes[0] = 64;
	now.sweep.sizes[1] = 8;
	now.sweep.nsizes = 2;
	cr_expect_eq(ik_baseline_incompatible(&b, &now.rep, why, sizeof(why)),
		     0, "%s", why);
	cr_expect_eq(ik_baseline_mismatch(&b, &now.rep, why, sizeof(why)), 0,
		     "--append too: the same sets: %s", why);
	cr_assert_eq(ik_baseline_compare(&b, &now.rep, 0.10, NULL, &g, err,
					 sizeof(err)),
		     8, "%s", err);
	cr_expect_eq(g.failed, 0);
	cr_expect_eq(g.n, 8, "no cell on one side only");
	for (unsigned i = 0; i < g.n; i++) {
		cr_expect_str_eq(g.rows[i].verdict, "unchanged", "%s: %s",
				 g.rows[i].what, g.rows[i].detail);
		cr_expect(strstr(g.rows[i].detail, "x1.000") != NULL, "%s: %s",
			  g.rows[i].what, g.rows[i].detail);
	}
	ik_gate_log_free(&g);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

Test(baseline, a_cell_on_one_side_is_named_and_fails_nothing)
{
	struct world base, now;
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300] = "", why[2000], *text = NULL;
	unsigned news = 0, missing = 0;
	size_t len;
	char *buf;
	FILE *f;

	world_init(&base, 1);
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0);
	/* now: pipe (in the baseline) and spsc at 64 B (not in it); the
	 * baseline's spsc 8 B is not measured */
	world_init(&now, 1);
	swap_cells(&now);
	now.res[1].size = 64;
	now.sweep.sizes[1] = 64;
	now.sweep.nsizes = 2;
	cr_expect_eq(ik_baseline_incompatible(&b, &now.rep, why, sizeof(why)),
		     0, "%s", why);
	cr_expect_gt(ik_baseline_mismatch(&b, &now.rep, why, sizeof(why)), 0,
		     "--append refuses: the file would lose spsc 8 B");
	cr_assert_eq(ik_baseline_compare(&b, &now.rep, 0.10, NULL, &g, err,
					 sizeof(err)),
		     4, "pipe's four metrics: %s", err);
	cr_expect_eq(g.checked, 4);
	cr_expect_eq(g.failed, 0, "one side only is not a failure");
	for (unsigned i = 0; i < g.n; i++) {
		const struct ik_gate_row *row = &g.rows[i];

		if (!strcmp(row->verdict, "new")) {
			news++;
			cr_expect_str_eq(row->what, "spsc [thread 64 B]");
			cr_expect(strstr(row->detail, "not in the baseline"));
		} else if (!strcmp(row->verdict, "missing")) {
			missing++;
			cr_expect_str_eq(row->what, "spsc [thread 8 B]");
			cr_expect(strstr(row->detail, "not measured now"));
		} else {
			cr_expect(!strncmp(row->what, "pipe [thread 8 B]", 17),
				  "%s", row->what);
		}
		cr_expect(!row->failed);
	}
	cr_expect_eq(news, 1);
	cr_expect_eq(missing, 1);
	/* one line each in the summary, and the gate passes */
	f = open_memstream(&text, &len);
	ik_gate_log_print(&g, "t", f);
	fclose(f);
	cr_expect(strstr(text, "spsc [thread 64 B]") != NULL, "%s", text);
	cr_expect(strstr(text, "gate passed: 0 of 4 checks failed") != NULL,
		  "%s", text);
	free(text);
	ik_gate_log_free(&g);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

Test(baseline, settings_that_change_the_numbers_still_refuse)
{
	struct world base, now;
	struct ik_baseline b;
	char err[300] = "", why[2000];
	size_t len;
	char *buf;

	world_init(&base, 1);
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0);
	world_init(&now, 1);
	now.cfg.iters = 40000;
	now.cfg.verify = true;
	cr_expect_eq(ik_baseline_incompatible(&b, &now.rep, why, sizeof(why)),
		     2, "%s", why);
	cr_expect(strstr(why, "config iters: baseline 20000, now 40000"), "%s",
		  why);
	cr_expect(strstr(why, "config verify"), "%s", why);
	/* a list with nothing in common: no cell can match */
	world_free(&now);
	world_init(&now, 1);
	now.sweep.modes[0] = IK_MODE_PROCESS;
	cr_expect_eq(ik_baseline_incompatible(&b, &now.rep, why, sizeof(why)),
		     1, "%s", why);
	cr_expect(strstr(why, "config modes: baseline [\"thread\"], now "
			      "[\"process\"]: no value in common"),
		  "%s", why);
	/* one value in common is enough for --baseline, not for --append */
	now.sweep.modes[1] = IK_MODE_THREAD;
	now.sweep.nmodes = 2;
	cr_expect_eq(ik_baseline_incompatible(&b, &now.rep, why, sizeof(why)),
		     0, "%s", why);
	cr_expect_eq(ik_baseline_mismatch(&b, &now.rep, why, sizeof(why)), 1,
		     "%s", why);
	cr_expect(strstr(why, "config modes"), "%s", why);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

/* The gate's summary row of a cell, e.g. "spsc [thread 8 B] p50 ". */
static bool has_row(const char *text, const char *what, const char *verdict)
{
	const char *p = text;

	while ((p = strstr(p, what))) {
		const char *eol = strchrnul(p, '\n'), *v = strstr(p, verdict);

		if (v && v < eol)
			return true;
		p = eol;
	}
	return false;
}

Test(baseline, the_cli_compares_another_order_and_names_one_sided_cells,
     .timeout = 120)
{
	char dir[] = "/tmp/ik-order-XXXXXX", base[64];
	struct out o;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/base.json", dir);
	o = run((const char *const[]){"--method", "line,spsc", "--iters",
				      "2000", "--repeat", "3",
				      "--save-baseline", base, NULL});
	cr_assert_eq(o.code, 0, "%s", o.err);
	free(o.stdout_text);
	/* the same cells in another order: compared, never exit 2 (a
	 * regression on this noisy VM may say 1) */
	o = run((const char *const[]){"--method", "spsc,line", "--iters",
				      "2000", "--repeat", "3", "--baseline",
				      base, NULL});
	cr_expect(o.code == 0 || o.code == 1, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "measured differently") == NULL, "%s", o.err);
	cr_expect(strstr(o.stdout_text, "line [thread 8 B] p50"), "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "spsc [thread 8 B] p50"), "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "of 8 checks"), "%s", o.stdout_text);
	free(o.stdout_text);
	/* a cell more and one less: each named on its own line */
	o = run((const char *const[]){"--method", "spsc", "--size", "64,8",
				      "--iters", "2000", "--repeat", "3",
				      "--baseline", base, NULL});
	cr_expect(o.code == 0 || o.code == 1, "exit %d: %s", o.code, o.err);
	cr_expect(has_row(o.stdout_text, "spsc [thread 64 B]", "new"), "%s",
		  o.stdout_text);
	cr_expect(has_row(o.stdout_text, "line [thread 8 B]", "missing"), "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "of 4 checks"), "%s", o.stdout_text);
	free(o.stdout_text);
	/* another --mode entirely: no cell can match, refused up front */
	o = run((const char *const[]){"--method", "line,spsc", "--mode",
				      "process", "--iters", "2000",
				      "--baseline", base, NULL});
	cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
	t_expect_one_line_naming("another mode", o.err, true,
				 "no value in common");
	free(o.stdout_text);
	unlink(base);
	rmdir(dir);
}

Test(baseline, too_few_repeats_cannot_give_a_verdict)
{
	struct world w;
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300] = "";
	size_t len;
	char *buf;

	world_init(&w, 1);
	w.res[0].repeats = w.res[1].repeats = 1;
	buf = json_of(&w, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0);
	w.res[0].repeats = w.res[1].repeats = 5;
	cr_expect_eq(ik_baseline_compare(&b, &w.rep, 0.1, NULL, &g, err,
					 sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "at least 3") != NULL, "%s", err);
	ik_gate_log_free(&g);
	ik_baseline_free(&b);
	free(buf);
	world_free(&w);
}

/* Replace the first "from" in s by "to"; malloc'd. */
static char *subst(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t a, n;
	char *o;

	cr_assert_not_null(p, "'%s' not in the report", from);
	a = (size_t)(p - s);
	n = strlen(s) - strlen(from) + strlen(to);
	o = malloc(n + 1);
	memcpy(o, s, a);
	strcpy(o + a, to);
	strcat(o, p + strlen(from));
	return o;
}

static void expect_refused(const char *buf, size_t len, const char *says,
			   const char *what)
{
	struct ik_baseline b;
	char err[300] = "";

	cr_expect_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), -EINVAL,
		     "%s should be refused", what);
	cr_expect(strstr(err, says) != NULL, "%s: error should say '%s': %s",
		  what, says, err);
}

Test(baseline, malformed_files_are_refused_with_a_reason)
{
	struct world w;
	size_t len, n;
	char *good, *bad;

	world_init(&w, 1);
	good = json_of(&w, &len);
	expect_refused(good, len / 2, "not JSON", "truncated");
	expect_refused("hello", 5, "not JSON", "not JSON");
	expect_refused("[1,2]", 5, "no \"schema\"", "an array");
	expect_refused("{\"a\":1}", 7, "no \"schema\"", "another object");
	bad = subst(good, "\"ipckern/2\"", "\"ipckern/9\"");
	expect_refused(bad, strlen(bad), "schema \"ipckern/9\"",
		       "another schema version");
	free(bad);
	bad = subst(good, "\"repeats\"", "\"repeatz\"");
	expect_refused(bad, strlen(bad), "per-repeat metrics",
		       "missing metrics");
	free(bad);
	bad = subst(good, "\"values\": [\n", "\"values\": [\n 1e300, ");
	expect_refused(bad, strlen(bad), "an array of 5 numbers",
		       "one value too many");
	free(bad);
	bad = subst(good, "\"values\": [\n", "\"values\": [\n 1e300, ");
	free(bad);
	bad = subst(good, "\"values\": [\n          ",
		    "\"values\": [\n          1e300,");
	{
		/* a value too large: drop one number to keep the count */
		char *p = strstr(bad, "1e300,");
		char *q = strchr(p + 6, ',');

		memmove(p + 6, q + 1, strlen(q + 1) + 1);
	}
	expect_refused(bad, strlen(bad), "not a number from 0 to 1e18",
		       "a huge number");
	free(bad);
	bad = subst(good, "\"values\": [\n", "\"values\": [\n 1e999, ");
	expect_refused(bad, strlen(bad), "not JSON", "an overflowing number");
	free(bad);
	bad = subst(good, "\"size\": 8", "\"size\": 99999999999999999999999");
	expect_refused(bad, strlen(bad), "not JSON", "a huge integer");
	free(bad);
	bad = subst(good, "\"size\": 8", "\"size\": -8");
	expect_refused(bad, strlen(bad), "right types", "a negative size");
	free(bad);
	/* deep nesting: 100000 brackets */
	n = 100000;
	bad = malloc(2 * n);
	memset(bad, '[', n);
	memset(bad + n, ']', n);
	expect_refused(bad, 2 * n, "not JSON", "deep nesting");
	free(bad);
	/* a 20 MB method name inside valid JSON */
	{
		const char *head = "{\"schema\":\"ipckern/1\",\"machine\":{"
				   "\"model_name\":\"x\"},\"config\":{},"
				   "\"results\":[{\"method\":\"";
		const char *tail = "\"}]}";
		size_t big = 20u << 20;

		bad = malloc(strlen(head) + big + strlen(tail) + 1);
		strcpy(bad, head);
		memset(bad + strlen(head), 'a', big);
		strcpy(bad + strlen(head) + big, tail);
		expect_refused(bad, strlen(bad), "right types",
			       "a 20 MB string");
		free(bad);
	}
	free(good);
	world_free(&w);
}

Test(baseline, an_oversized_file_is_not_read)
{
	char path[] = "/tmp/ik-test-baseline-XXXXXX", err[200] = "";
	struct ik_baseline b;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 100 << 20), 0); /* 100 MB of zeros */
	close(fd);
	cr_expect_eq(ik_baseline_load(path, &b, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "larger than 16 MiB") != NULL, "%s", err);
	unlink(path);
	cr_expect_eq(ik_baseline_load(path, &b, err, sizeof(err)), -ENOENT);
}

/* ---- the Google Benchmark export ---- */

static void expect_type(json_t *o, const char *key, json_type t,
			const char *where)
{
	json_t *v = json_object_get(o, key);

	cr_expect_not_null(v, "%s: no \"%s\"", where, key);
	if (v)
		cr_expect(json_typeof(v) == t ||
				  (t == JSON_REAL && json_is_integer(v)),
			  "%s: \"%s\" has the wrong type", where, key);
}

static json_t *gbench_of(struct world *w)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	json_error_t je;
	json_t *root;

	cr_assert_eq(ik_report_gbench(&w->rep, f), 0);
	fclose(f);
	root = json_loadb(buf, len, 0, &je);
	cr_assert_not_null(root, "gbench output is not JSON: %s", je.text);
	free(buf);
	return root;
}

Test(gbench, the_shape_trackers_read)
{
	struct world w;
	json_t *root, *ctx, *list, *b;
	size_t i;

	world_init(&w, 1);
	w.res[0].repeats = w.res[1].repeats = 1;
	w.machine.max_khz = 3000000;
	root = gbench_of(&w);
	ctx = json_object_get(root, "context");
	cr_assert(json_is_object(ctx));
	expect_type(ctx, "date", JSON_STRING, "context");
	expect_type(ctx, "host_name", JSON_STRING, "context");
	expect_type(ctx, "executable", JSON_STRING, "context");
	expect_type(ctx, "num_cpus", JSON_INTEGER, "context");
	expect_type(ctx, "mhz_per_cpu", JSON_INTEGER, "context");
	expect_type(ctx, "caches", JSON_ARRAY, "context");
	expect_type(ctx, "library_build_type", JSON_STRING, "context");
	cr_expect_eq(json_integer_value(json_object_get(ctx, "num_cpus")), 2);
	cr_expect_str_eq(json_string_value(json_object_get(ctx, "host_name")),
			 "h");
	cr_expect(strstr(json_string_value(json_object_get(ctx, "executable")),
			 "test_gate") != NULL,
		  "this process's own path");
	list = json_object_get(root, "benchmarks");
	cr_assert(json_is_array(list));
	/* mean is NaN in the fake cells: p50 and p99 for each */
	cr_assert_eq(json_array_size(list), 4);
	json_array_foreach(list, i, b)
	{
		const char *unit =
			json_string_value(json_object_get(b, "time_unit"));

		expect_type(b, "name", JSON_STRING, "benchmark");
		expect_type(b, "run_name", JSON_STRING, "benchmark");
		expect_type(b, "run_type", JSON_STRING, "benchmark");
		expect_type(b, "iterations", JSON_INTEGER, "benchmark");
		expect_type(b, "real_time", JSON_REAL, "benchmark");
		expect_type(b, "cpu_time", JSON_REAL, "benchmark");
		expect_type(b, "threads", JSON_INTEGER, "benchmark");
		expect_type(b, "repetitions", JSON_INTEGER, "benchmark");
		expect_type(b, "repetition_index", JSON_INTEGER, "benchmark");
		expect_type(b, "family_index", JSON_INTEGER, "benchmark");
		expect_type(b, "per_family_instance_index", JSON_INTEGER,
			    "benchmark");
		cr_expect(unit && !strcmp(unit, "ns"));
		cr_expect_str_eq(
			json_string_value(json_object_get(b, "run_type")),
			"iteration");
		/* a cell is a family, its metrics the instances */
		cr_expect_eq(
			json_integer_value(json_object_get(b, "family_index")),
			(json_int_t)i / 2);
		cr_expect_eq(json_integer_value(json_object_get(
				     b, "per_family_instance_index")),
			     (json_int_t)i % 2);
	}
	b = json_array_get(list, 0);
	cr_expect_str_eq(json_string_value(json_object_get(b, "name")),
			 "pingpong/spsc/thread/size:8/p50");
	cr_expect_float_eq(json_real_value(json_object_get(b, "real_time")),
			   100, 1e-9);
	json_decref(root);
	world_free(&w);
}

/* The entries of list whose "name" is name, in order, into out. */
static unsigned named(json_t *list, const char *name, json_t **out,
		      unsigned max)
{
	unsigned n = 0;
	size_t i;
	json_t *b;

	json_array_foreach(list, i, b)
	{
		if (n < max &&
		    !strcmp(json_string_value(json_object_get(b, "name")),
			    name))
			out[n++] = b;
	}
	return n;
}

Test(gbench, each_repeat_is_a_run_and_the_aggregates_follow)
{
	static const char *const agg[] = {"mean", "median", "stddev", "cv"};
	double a[5] = {100, 102, 98, 101, 99}, mean = 100, sd = sqrt(2.5);
	struct world w;
	json_t *root, *list, *b, *runs[8];
	size_t i;
	unsigned n;

	world_init(&w, 1);
	root = gbench_of(&w);
	list = json_object_get(root, "benchmarks");
	/* 5 runs + 4 aggregates, for p50 and p99, of 2 cells */
	cr_assert_eq(json_array_size(list), 36, "%zu", json_array_size(list));
	n = named(list, "pingpong/spsc/thread/size:8/p50", runs, 8);
	cr_assert_eq(n, 5,
		     "one entry per repetition, as compare.py's U "
		     "test needs");
	for (unsigned r = 0; r < n; r++) {
		b = runs[r];
		cr_expect_str_eq(
			json_string_value(json_object_get(b, "run_type")),
			"iteration");
		cr_expect_str_eq(
			json_string_value(json_object_get(b, "run_name")),
			"pingpong/spsc/thread/size:8/p50");
		cr_expect_eq(
			json_integer_value(json_object_get(b, "repetitions")),
			5);
		cr_expect_eq(json_integer_value(
				     json_object_get(b, "repetition_index")),
			     r);
		cr_expect_null(json_object_get(b, "aggregate_name"));
		cr_expect_float_eq(
			json_real_value(json_object_get(b, "real_time")), a[r],
			1e-9);
		cr_expect_float_eq(
			json_real_value(json_object_get(b, "cpu_time")),
			2 * a[r], 1e-9);
		/* the pooled 1000 round trips, shared by the 5 */
		cr_expect_eq(
			json_integer_value(json_object_get(b, "iterations")),
			200);
	}
	/* the aggregates follow the runs, in gbench's order */
	json_array_foreach(list, i, b)
	{
		if (b == runs[4])
			break;
	}
	for (unsigned k = 0; k < 4; k++) {
		char want[100];
		double v;

		b = json_array_get(list, i + 1 + k);
		snprintf(want, sizeof(want),
			 "pingpong/spsc/thread/size:8/p50_%s", agg[k]);
		cr_assert_not_null(b);
		cr_expect_str_eq(json_string_value(json_object_get(b, "name")),
				 want);
		cr_expect_str_eq(
			json_string_value(json_object_get(b, "run_type")),
			"aggregate");
		cr_expect_str_eq(
			json_string_value(json_object_get(b, "aggregate_name")),
			agg[k]);
		cr_expect_str_eq(
			json_string_value(json_object_get(b, "aggregate_unit")),
			k == 3 ? "percentage" : "time");
		cr_expect_null(json_object_get(b, "repetition_index"));
		cr_expect_eq(
			json_integer_value(json_object_get(b, "iterations")), 5,
			"an aggregate's iterations are its repetitions");
		v = json_real_value(json_object_get(b, "real_time"));
		cr_expect_float_eq(v,
				   k == 0   ? mean
				   : k == 1 ? 100
				   : k == 2 ? sd
					    : sd / mean,
				   1e-9, "%s: %f", agg[k], v);
	}
	json_decref(root);
	world_free(&w);
}

Test(gbench, a_repetition_without_the_value_is_not_a_run)
{
	struct world w;
	json_t *root, *runs[8];
	unsigned n;

	world_init(&w, 1);
	w.res[0].rep_v[2 * IK_NMETRICS + IK_M_P50] = NAN;
	root = gbench_of(&w);
	n = named(json_object_get(root, "benchmarks"),
		  "pingpong/spsc/thread/size:8/p50", runs, 8);
	cr_assert_eq(n, 4);
	for (unsigned r = 0; r < n; r++) {
		cr_expect_eq(json_integer_value(
				     json_object_get(runs[r], "repetitions")),
			     4);
		cr_expect_eq(json_integer_value(json_object_get(
				     runs[r], "repetition_index")),
			     r, "numbered without gaps");
		cr_expect(isfinite(json_real_value(
			json_object_get(runs[r], "real_time"))));
	}
	json_decref(root);
	world_free(&w);
}

Test(gbench, the_context_is_this_machines)
{
	struct world w;
	struct ik_topo tp;
	json_t *root, *ctx, *c;
	char bt[64];
	size_t i;
	const char *want_bt = IK_BUILD_TYPE;

	world_init(&w, 1);
	/* cpufreq's maximum when the machine has one */
	w.machine.max_khz = 3400000;
	w.timer.tsc_mhz = 2596.1;
	root = gbench_of(&w);
	ctx = json_object_get(root, "context");
	cr_expect_eq(json_integer_value(json_object_get(ctx, "mhz_per_cpu")),
		     3400);
	cr_expect(strstr(json_string_value(
				 json_object_get(ctx, "mhz_per_cpu_source")),
			 "cpufreq") != NULL);
	json_decref(root);
	/* a VM without cpufreq: the TSC's measured rate, saying so */
	w.machine.max_khz = -1;
	root = gbench_of(&w);
	ctx = json_object_get(root, "context");
	cr_expect_eq(json_integer_value(json_object_get(ctx, "mhz_per_cpu")),
		     2596);
	cr_expect(strstr(json_string_value(
				 json_object_get(ctx, "mhz_per_cpu_source")),
			 "TSC") != NULL);
	/* the build type this was compiled as, never a constant */
	for (i = 0; want_bt[i] && i + 1 < sizeof(bt); i++)
		bt[i] = (char)tolower((unsigned char)want_bt[i]);
	bt[i] = 0;
	cr_expect_str_eq(
		json_string_value(json_object_get(ctx, "library_build_type")),
		i ? bt : "none");
	cr_expect_eq(json_array_size(json_object_get(ctx, "caches")), 0,
		     "no topology, no caches made up");
	json_decref(root);
	/* neither: null, never 0; no governor (a VM) is no scaling, as
	 * gbench has it; an unknown load average is none */
	w.timer.tsc_mhz = 0;
	w.machine.load1 = -1;
	root = gbench_of(&w);
	ctx = json_object_get(root, "context");
	cr_expect(json_is_null(json_object_get(ctx, "mhz_per_cpu")));
	cr_expect(json_is_false(json_object_get(ctx, "cpu_scaling_enabled")));
	cr_expect_eq(json_array_size(json_object_get(ctx, "load_avg")), 0);
	json_decref(root);
	snprintf(w.machine.governor, sizeof(w.machine.governor), "powersave");
	root = gbench_of(&w);
	cr_expect(json_is_true(json_object_get(json_object_get(root, "context"),
					       "cpu_scaling_enabled")));
	json_decref(root);

	/* caches from hwloc, those above the first PU, innermost first */
	setenv("HWLOC_SYNTHETIC",
	       "pack:1 l3:1(size=32MiB) l2:2(size=1MiB) l1d:1(size=32KiB) "
	       "core:1 pu:2",
	       1);
	cr_assert_eq(ik_topo_load(&tp, NULL), 0);
	unsetenv("HWLOC_SYNTHETIC");
	w.rep.topo = &tp;
	root = gbench_of(&w);
	ctx = json_object_get(root, "context");
	cr_assert_eq(json_array_size(json_object_get(ctx, "caches")), 3);
	json_array_foreach(json_object_get(ctx, "caches"), i, c)
	{
		static const json_int_t level[] = {1, 2, 3},
					size[] = {32 << 10, 1 << 20, 32 << 20},
					share[] = {2, 2, 4};

		cr_expect_str_eq(json_string_value(json_object_get(c, "type")),
				 i ? "Unified" : "Data");
		cr_expect_eq(json_integer_value(json_object_get(c, "level")),
			     level[i]);
		cr_expect_eq(json_integer_value(json_object_get(c, "size")),
			     size[i]);
		cr_expect_eq(
			json_integer_value(json_object_get(c, "num_sharing")),
			share[i], "L%zu", i + 1);
	}
	json_decref(root);
	ik_topo_free(&tp);
	world_free(&w);
}

/* hwloc's count of data and unified caches on this machine */
static int caches_here(const struct ik_topo *tp)
{
	int n = 0;

	for (int d = 0; d < hwloc_topology_get_depth(tp->t); d++)
		n += hwloc_obj_type_is_dcache(hwloc_get_depth_type(tp->t, d)) !=
		     0;
	return n;
}

Test(gbench, on_this_machine_the_context_is_filled_in)
{
	struct world w;
	struct ik_topo tp;
	json_t *root, *ctx, *c;
	size_t i;
	int levels;

	world_init(&w, 1);
	cr_assert_eq(ik_machine_read(&w.machine, ""), 0);
	cr_assert_eq(ik_timer_init(&w.timer), 0);
	cr_assert_eq(ik_topo_load(&tp, NULL), 0);
	w.rep.topo = &tp;
	root = gbench_of(&w);
	ctx = json_object_get(root, "context");
	cr_expect_gt(json_integer_value(json_object_get(ctx, "num_cpus")), 0);
	cr_expect_gt(
		strlen(json_string_value(json_object_get(ctx, "host_name"))),
		0);
	/* cpufreq or the TSC: one of them on every x86 this runs on */
	if (w.machine.max_khz > 0 || w.timer.tsc_mhz > 0)
		cr_expect_gt(
			json_integer_value(json_object_get(ctx, "mhz_per_cpu")),
			0, "MHz known here: %ld kHz max, TSC %.1f MHz",
			w.machine.max_khz, w.timer.tsc_mhz);
	levels = caches_here(&tp);
	cr_expect_eq(json_array_size(json_object_get(ctx, "caches")),
		     (size_t)levels, "one entry per cache level hwloc sees");
	json_array_foreach(json_object_get(ctx, "caches"), i, c)
	{
		cr_expect_gt(json_integer_value(json_object_get(c, "size")), 0);
		cr_expect_gt(
			json_integer_value(json_object_get(c, "num_sharing")),
			0);
		cr_expect_eq(json_integer_value(json_object_get(c, "level")),
			     (json_int_t)i + 1, "innermost first");
	}
	json_decref(root);
	ik_topo_free(&tp);
	world_free(&w);
}

Test(assertions, two_metrics_of_one_run_compare_repeat_by_repeat)
{
	/* the host changed speed in repeat 2 (both slow) and 3 (one slow):
	 * medians 450 vs 100 would say 4.5x; repeat by repeat it is 0.9x
	 * twice and 4.5x once, median 0.9 */
	double a[3] = {90, 450, 450}, b[3] = {100, 500, 100};
	struct ik_result r[2];
	struct ik_assertion as;
	struct ik_gate_log g = {0};
	char err[200];
	unsigned failed;

	fake(&r[0], "spsc", IK_MODE_THREAD, 8, a, 3);
	fake(&r[1], "pipe", IK_MODE_THREAD, 8, b, 3);
	cr_expect_eq(eval("spsc.p50<=1.1*pipe.p50", r, 2, &failed), 1);
	cr_expect_eq(failed, 0);
	cr_expect_eq(eval("pipe.p50*1.1>=spsc.p50", r, 2, &failed), 1);
	cr_expect_eq(failed, 0, "either side first");
	cr_expect_eq(eval("spsc.p50<=0.8*pipe.p50", r, 2, &failed), 1);
	cr_expect_eq(failed, 1);
	cr_assert_eq(ik_assert_parse("spsc.p50<=1.1*pipe.p50", &as, err,
				     sizeof(err)),
		     0);
	cr_assert_eq(ik_assert_eval(&as, r, 2, &g, err, sizeof(err)), 0);
	cr_expect(strstr(g.rows[0].detail, "median of 3 per-repeat") != NULL,
		  "%s", g.rows[0].detail);
	ik_gate_log_free(&g);
	free(r[0].rep_v);
	free(r[1].rep_v);
}

Test(baseline, normalizing_cancels_a_host_that_slowed_down_as_a_whole)
{
	struct world base, now;
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300] = "";
	size_t len;
	char *buf;

	world_init(&base, 1);
	world_init(&now, 1.3); /* everything 30% slower: the host */
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0);
	cr_assert_eq(ik_baseline_compare(&b, &now.rep, 0.10, "pipe", &g, err,
					 sizeof(err)),
		     4, "%s", err);
	cr_expect_eq(g.checked, 4, "spsc's four metrics over pipe's");
	cr_expect_eq(g.failed, 0, "the ratios did not change");
	ik_gate_log_free(&g);
	/* now spsc alone gets 30% slower on top: that is the code */
	for (unsigned i = 0; i < 5; i++)
		for (int m = IK_M_P50; m <= IK_M_P99; m++)
			now.res[0].rep_v[i * IK_NMETRICS + m] *= 1.3;
	cr_assert_eq(ik_baseline_compare(&b, &now.rep, 0.10, "pipe", &g, err,
					 sizeof(err)),
		     4);
	cr_expect_eq(g.failed, 2, "p50 and p99 over pipe's: %u", g.failed);
	ik_gate_log_free(&g);
	cr_expect_eq(ik_baseline_compare(&b, &now.rep, 0.10, "tcp", &g, err,
					 sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "--normalize tcp") != NULL, "%s", err);
	ik_gate_log_free(&g);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

Test(verdict, a_change_within_two_clock_ticks_is_no_change)
{
	double b[5] = {120, 120, 120, 120, 120},
	       c[5] = {130, 130, 130, 130, 130};
	struct ik_verdict v;

	cr_assert_eq(ik_verdict(b, 5, c, 5, false, 0.05, 0, &v), 0);
	cr_expect_eq(v.kind, IK_REGRESSED, "one 10 ns tick is 8%% here");
	cr_assert_eq(ik_verdict(b, 5, c, 5, false, 0.05, 19.6, &v), 0);
	cr_expect_eq(v.kind, IK_UNCHANGED, "but within two 9.8 ns ticks");
	cr_expect(v.below_delta);
	c[0] = c[1] = c[2] = c[3] = c[4] = 150;
	cr_assert_eq(ik_verdict(b, 5, c, 5, false, 0.05, 19.6, &v), 0);
	cr_expect_eq(v.kind, IK_REGRESSED, "three ticks is a change");
}

/* ---- failing closed ---- */

/* res's repeats replaced by k of them: p50 = first + r, the rest from it */
static void refill(struct ik_result *res, unsigned k, double first)
{
	double *p50 = malloc(k * sizeof(*p50));
	struct ik_result tmp;

	for (unsigned r = 0; r < k; r++)
		p50[r] = first + r;
	fake(&tmp, res->ops->name, res->mode, res->size, p50, k);
	free(res->rep_v);
	res->rep_v = tmp.rep_v;
	res->repeats = k;
	free(p50);
}

static void set_metric(struct ik_result *res, int m, double v)
{
	for (unsigned r = 0; r < res->repeats; r++)
		res->rep_v[r * IK_NMETRICS + m] = v;
}

/* The world's report as a baseline: refused, saying says. */
static void expect_world_refused(const struct world *w, const char *says)
{
	size_t len;
	char *buf = json_of(w, &len);

	expect_refused(buf, len, says, says);
	free(buf);
}

Test(baseline, failed_null_or_zero_cells_are_refused_naming_the_cell)
{
	struct world w;
	size_t len;
	char *good, *bad;

	world_init(&w, 1);
	good = json_of(&w, &len);
	bad = subst(good, "\"status\": \"ok\"", "\"status\": \"error\"");
	expect_refused(bad, strlen(bad),
		       "result 1 (spsc thread 8 B): status \"error\"",
		       "a cell that failed");
	free(bad);
	free(good);
	/* every compared metric null in every repeat */
	for (int m = 0; m < IK_NMETRICS; m++)
		set_metric(&w.res[1], m, NAN);
	expect_world_refused(&w, "result 2 (pipe thread 8 B): no p50, p99, "
				 "msgs or cpu value");
	world_free(&w);
	/* a single 0: the value a --normalize method would divide by */
	world_init(&w, 1);
	w.res[1].rep_v[2 * IK_NMETRICS + IK_M_P50] = 0;
	expect_world_refused(
		&w, "result 2 (pipe thread 8 B): p50 is 0 in repeat 3");
	world_free(&w);
	world_init(&w, 1);
	set_metric(&w.res[0], IK_M_CPU, 0);
	expect_world_refused(&w, "result 1 (spsc thread 8 B): cpu is 0");
	world_free(&w);
	/* metrics no gate compares may be 0 (a coarse clock's min) */
	world_init(&w, 1);
	set_metric(&w.res[0], IK_M_MIN, 0);
	good = json_of(&w, &len);
	{
		struct ik_baseline b;
		char err[300] = "";

		cr_expect_eq(ik_baseline_parse(good, len, &b, err, sizeof(err)),
			     0, "%s", err);
		ik_baseline_free(&b);
	}
	free(good);
	world_free(&w);
}

/* The row whose check starts with what, or NULL. */
static const struct ik_gate_row *row_of(const struct ik_gate_log *g,
					const char *what)
{
	for (unsigned i = 0; i < g->n; i++)
		if (!strncmp(g->rows[i].what, what, strlen(what)))
			return &g->rows[i];
	return NULL;
}

static void expect_row(const struct ik_gate_log *g, const char *what,
		       const char *verdict, const char *detail)
{
	const struct ik_gate_row *r = row_of(g, what);

	cr_assert_not_null(r, "no row %s", what);
	cr_expect_str_eq(r->verdict, verdict, "%s", what);
	cr_expect(strstr(r->detail, detail) != NULL, "%s: detail '%s'", what,
		  r->detail);
	cr_expect_eq(r->failed, !strcmp(verdict, "FAIL"), "%s", what);
}

Test(baseline, a_check_that_cannot_be_made_fails_with_its_reason)
{
	struct world base, now;
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300] = "";
	size_t len;
	char *buf;

	world_init(&base, 1);
	set_metric(&base.res[1], IK_M_CPU, NAN); /* pipe: no cpu then */
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0, "%s",
		     err);
	world_init(&now, 1);
	now.res[0].rep_v[1 * IK_NMETRICS + IK_M_P50] = 0;
	set_metric(&now.res[0], IK_M_P99, NAN);
	now.res[0].rep_v[0 * IK_NMETRICS + IK_M_MSGS] = NAN;
	now.res[0].rep_v[1 * IK_NMETRICS + IK_M_MSGS] = NAN;
	now.res[0].rep_v[2 * IK_NMETRICS + IK_M_MSGS] = NAN;
	cr_assert_eq(ik_baseline_compare(&b, &now.rep, 0.10, NULL, &g, err,
					 sizeof(err)),
		     8, "%s", err);
	expect_row(&g, "spsc [thread 8 B] p50", "FAIL",
		   "p50 is 0 in repeat 2 now");
	expect_row(&g, "spsc [thread 8 B] p99", "FAIL", "p99 not measured now");
	expect_row(&g, "spsc [thread 8 B] msgs/s", "FAIL",
		   "msgs in only 2 repeats now");
	expect_row(&g, "spsc [thread 8 B] cpu", "unchanged", "x1.000");
	expect_row(&g, "pipe [thread 8 B] cpu", "FAIL",
		   "cpu not in the baseline");
	expect_row(&g, "pipe [thread 8 B] p50", "unchanged", "x1.000");
	cr_expect_eq(g.failed, 4);
	cr_expect_eq(g.checked, 8);
	ik_gate_log_free(&g);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

Test(baseline, a_normaliser_missing_or_0_fails_the_checks_it_divides)
{
	struct world base, now;
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300] = "";
	size_t len;
	char *buf;

	world_init(&base, 1);
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0, "%s",
		     err);
	world_init(&now, 1);
	now.res[1].rep_v[0 * IK_NMETRICS + IK_M_P50] = 0;
	set_metric(&now.res[1], IK_M_P99, NAN);
	cr_assert_eq(ik_baseline_compare(&b, &now.rep, 0.10, "pipe", &g, err,
					 sizeof(err)),
		     4, "%s", err);
	expect_row(&g, "spsc [thread 8 B] p50 / pipe", "FAIL",
		   "pipe's p50 missing or 0 in repeat 1 now");
	expect_row(&g, "spsc [thread 8 B] p99 / pipe", "FAIL",
		   "pipe's p99 missing or 0 in repeat 1 now");
	expect_row(&g, "spsc [thread 8 B] msgs/s / pipe", "unchanged", "x1.0");
	cr_expect_eq(g.failed, 2);
	ik_gate_log_free(&g);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

Test(baseline, comparing_nothing_returns_0_and_says_why)
{
	struct world base, now;
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300] = "", *text = NULL;
	size_t len;
	char *buf;
	FILE *f;

	world_init(&base, 1);
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0);
	world_init(&now, 1);
	now.res[0].size = now.res[1].size = 64;
	cr_expect_eq(ik_baseline_compare(&b, &now.rep, 0.10, NULL, &g, err,
					 sizeof(err)),
		     0);
	cr_expect(strstr(err, "none of this run's 2 cells is in the "
			      "baseline") != NULL,
		  "%s", err);
	now.res[1].size = 8; /* only pipe matches: itself */
	cr_expect_eq(ik_baseline_compare(&b, &now.rep, 0.10, "pipe", &g, err,
					 sizeof(err)),
		     0);
	cr_expect(strstr(err, "only --normalize pipe's own cells") != NULL,
		  "%s", err);
	now.rep.nresults = 0;
	cr_expect_eq(ik_baseline_compare(&b, &now.rep, 0.10, NULL, &g, err,
					 sizeof(err)),
		     0);
	cr_expect(strstr(err, "no results") != NULL, "%s", err);
	/* the cells on one side are named, but none is a check */
	cr_expect_eq(g.checked, 0);
	cr_expect_eq(g.failed, 0);
	for (unsigned i = 0; i < g.n; i++)
		cr_expect(!strcmp(g.rows[i].verdict, "new") ||
				  !strcmp(g.rows[i].verdict, "missing"),
			  "%s: %s", g.rows[i].what, g.rows[i].verdict);
	/* a summary of no check is a failed gate, never "passed" */
	f = open_memstream(&text, &len);
	ik_gate_log_print(&g, "t", f);
	ik_gate_log_markdown(&g, "t", f);
	fclose(f);
	cr_expect(strstr(text, "GATE FAILED: nothing was checked") != NULL,
		  "%s", text);
	cr_expect(strstr(text, "**Gate failed**: nothing was checked") != NULL,
		  "%s", text);
	cr_expect(strstr(text, "passed") == NULL, "%s", text);
	free(text);
	ik_gate_log_free(&g);
	ik_baseline_free(&b);
	free(buf);
	world_free(&base);
	world_free(&now);
}

Test(verdict, a_zero_gives_no_ratio_and_no_verdict)
{
	double b[3] = {100, 100, 100}, z[3] = {0, 0, 0}, s[3] = {100, 0, 100};
	struct ik_verdict v;

	cr_expect_eq(ik_verdict(z, 3, b, 3, false, 0.1, 0, &v), -EDOM,
		     "was 'unchanged xinf'");
	cr_expect_eq(ik_verdict(b, 3, z, 3, false, 0.1, 0, &v), -EDOM,
		     "would read as improved");
	cr_expect_eq(ik_verdict(b, 3, s, 3, true, 0.1, 0, &v), -EDOM);
	cr_expect_eq(v.kind, IK_UNCHANGED);
	cr_expect(isnan(v.ratio));
}

Test(assertions, a_metric_of_0_fails_instead_of_passing)
{
	struct ik_result r[2];
	double a[3] = {0, 0, 0}, b[3] = {100, 110, 120};
	struct ik_assertion as;
	struct ik_gate_log g = {0};
	char err[200];
	unsigned failed;

	fake(&r[0], "spsc", IK_MODE_THREAD, 8, a, 3);
	fake(&r[1], "pipe", IK_MODE_THREAD, 8, b, 3);
	cr_expect_eq(eval("spsc.p50<2us", r, 2, &failed), 1);
	cr_expect_eq(failed, 1, "a latency of 0 is no pass");
	cr_expect_eq(eval("pipe.p50<=8*spsc.p50", r, 2, &failed), 1);
	cr_expect_eq(failed, 1, "nor a ratio over 0");
	cr_expect_eq(eval("spsc.p50<=8*pipe.p50", r, 2, &failed), 1);
	cr_expect_eq(failed, 1);
	cr_assert_eq(ik_assert_parse("spsc.p50<2us", &as, err, sizeof(err)), 0);
	cr_assert_eq(ik_assert_eval(&as, r, 2, &g, err, sizeof(err)), 0);
	cr_expect(strstr(g.rows[0].detail, "spsc.p50 is 0") != NULL, "%s",
		  g.rows[0].detail);
	ik_gate_log_free(&g);
	free(r[0].rep_v);
	free(r[1].rep_v);
}

Test(baseline, append_keeps_the_newest_repeats_and_the_result_loads)
{
	struct world base, now;
	struct ik_baseline b;
	char err[300] = "";
	size_t len;
	char *buf;

	world_init(&base, 1);
	refill(&base.res[0], IK_BASELINE_KEEP, 1000);
	refill(&base.res[1], IK_BASELINE_KEEP, 1000);
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0,
		     "a file at the limit loads: %s", err);
	cr_expect(strstr(buf, "\"keep\": 1000") != NULL,
		  "the limit is written in the file");
	free(buf);
	world_init(&now, 1);
	refill(&now.res[0], 5, 50000);
	cr_assert_eq(ik_baseline_prepend(&b, now.res, 1), 0);
	cr_assert_eq(now.res[0].repeats, IK_BASELINE_KEEP);
	/* the oldest five went; the file's others, then this run's five */
	cr_expect_eq(ik_rep_value(&now.res[0], 0, IK_M_P50), 1005);
	cr_expect_eq(ik_rep_value(&now.res[0], IK_BASELINE_KEEP - 6, IK_M_P50),
		     1000 + IK_BASELINE_KEEP - 1);
	cr_expect_eq(ik_rep_value(&now.res[0], IK_BASELINE_KEEP - 5, IK_M_P50),
		     50000);
	cr_expect_eq(ik_rep_value(&now.res[0], IK_BASELINE_KEEP - 1, IK_M_P50),
		     50004);
	ik_baseline_free(&b);
	/* and what --append writes, the next --baseline reads */
	buf = json_of(&now, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(b.cells[0].k, IK_BASELINE_KEEP);
	ik_baseline_free(&b);
	free(buf);
	/* one over the limit: refused, saying what the limit is */
	refill(&base.res[0], IK_BASELINE_KEEP + 1, 1000);
	expect_world_refused(&base, "a baseline keeps at most the newest 1000");
	world_free(&base);
	world_free(&now);
}

Test(baseline, only_a_regular_file_is_read_and_nothing_blocks, .timeout = 10)
{
	char dir[] = "/tmp/ik-test-input-XXXXXX", fifo[64], err[300] = "";
	struct ik_baseline b;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	/* no writer: a blocking open() would never return (.timeout) */
	cr_expect_eq(ik_baseline_load(fifo, &b, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "a FIFO, not a regular file") != NULL, "%s", err);
	cr_expect_eq(ik_baseline_load(dir, &b, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "a directory, not a regular file") != NULL, "%s",
		  err);
	/* stat() only: /dev/zero is never opened, let alone read */
	cr_expect_eq(ik_baseline_load("/dev/zero", &b, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "a character device") != NULL, "%s", err);
	unlink(fifo);
	rmdir(dir);
}

/* The world's CSV report, malloc'd. */
static char *csv_of(const struct world *w)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(ik_report_csv(&w->rep, f), 0);
	fclose(f);
	return buf;
}

/* Field `col` (by header name) of data row `row` (0-based); "" quoted. */
static void csv_field(const char *csv, const char *col, int row, char *out,
		      size_t n)
{
	const char *line = strchr(csv, '\n') + 1, *p;
	int k = 0, c;

	for (p = csv; strncmp(p, col, strlen(col)) ||
		      (p[strlen(col)] != ',' && p[strlen(col)] != '\n');
	     p = strchr(p, ',') + 1, k++)
		cr_assert(strchr(p, ',') && strchr(p, ',') < line,
			  "no column %s", col);
	for (; row > 0; row--)
		line = strchr(line, '\n') + 1;
	for (c = 0; c < k; c++) { /* skip k fields (quotes hold commas) */
		if (*line == '"')
			for (line++; !(line[0] == '"' && line[1] != '"');)
				line += line[0] == '"' ? 2 : 1;
		line = strchr(line, ',') + 1;
	}
	snprintf(out, n, "%.*s", (int)strcspn(line, ",\n"), line);
}

Test(csv, the_floor_and_stalls_have_columns_and_quotes_are_doubled)
{
	struct world w;
	struct ik_result fl = {0};
	double f[3] = {40, 41, 39};
	char v[64], *csv;

	world_init(&w, 1);
	fake(&fl, "line", IK_MODE_THREAD, 1, f, 3);
	cr_assert_eq(ik_hist_init(&fl.hist, IK_HIST_MAX_NS), 0);
	fl.untimed_mean_ns = 38.5;
	w.rep.floor = &fl;
	w.res[1].stalls = 3;
	w.res[1].stall_ns = 600000000;
	/* a method that looks for stalls says what it saw (run.c) */
	snprintf(w.res[1].note, sizeof(w.res[1].note), "zero windows");
	csv = csv_of(&w);
	csv_field(csv, "floor_untimed_mean_ns", 0, v, sizeof(v));
	cr_expect_str_eq(v, "38.5");
	csv_field(csv, "floor_p50_ns", 1, v, sizeof(v));
	cr_expect_neq(v[0], 0, "the floor is on every row of its pair");
	csv_field(csv, "stalls", 1, v, sizeof(v));
	cr_expect_str_eq(v, "3");
	csv_field(csv, "stall_ns", 1, v, sizeof(v));
	cr_expect_str_eq(v, "600000000");
	free(csv);

	w.res[0].pair.cpu[1] = 7; /* another pair: no floor of its own */
	w.res[1].err = -EIO;
	snprintf(w.res[1].errmsg, sizeof(w.res[1].errmsg), "say \"no\", then");
	csv = csv_of(&w);
	csv_field(csv, "floor_p50_ns", 0, v, sizeof(v));
	cr_expect_str_eq(v, "", "a row off the floor's pair leaves it empty");
	/* then the partial column, empty: the run was whole */
	cr_expect(strstr(csv, ",error,\"say \"\"no\"\", then\",\n"),
		  "inner quotes doubled: %s", csv);
	free(csv);
	ik_result_free(&fl);
	world_free(&w);
}

Test(gbench, the_floor_is_in_the_context_and_stalls_on_the_cell)
{
	struct world w;
	struct ik_result fl = {0};
	double f[3] = {40, 41, 39};
	json_t *root, *b;
	size_t i;
	bool seen = false;

	world_init(&w, 1);
	fake(&fl, "line", IK_MODE_THREAD, 1, f, 3);
	cr_assert_eq(ik_hist_init(&fl.hist, IK_HIST_MAX_NS), 0);
	fl.untimed_mean_ns = 38.5;
	w.rep.floor = &fl;
	w.res[1].stalls = 2;
	root = gbench_of(&w);
	b = json_object_get(json_object_get(root, "context"), "ipckern_floor");
	cr_assert(json_is_object(b));
	cr_expect_float_eq(
		json_real_value(json_object_get(b, "untimed_mean_ns")), 38.5,
		1e-9);
	json_array_foreach(json_object_get(root, "benchmarks"), i, b)
	{
		if (strstr(json_string_value(json_object_get(b, "name")),
			   "/pipe/"))
			seen |= json_integer_value(
					json_object_get(b, "stalls")) == 2;
		else
			cr_expect_null(json_object_get(b, "stalls"));
	}
	cr_expect(seen, "the stalled cell says so");
	json_decref(root);
	ik_result_free(&fl);
	world_free(&w);
}

/* spsc thread 8 B over CPUs a->b: a --matrix cell. */
static void matrix_cell(struct world *w, int i, int a, int b)
{
	static const int cpus[] = {0, 1};

	w->res[i].ops = ik_transport_find("spsc");
	w->res[i].pair.pinned = true;
	w->res[i].pair.cpu[0] = a;
	w->res[i].pair.cpu[1] = b;
	w->rep.matrix = true;
	w->rep.cpus = cpus;
	w->rep.ncpus = 2;
	w->sweep.nmethods = 1;
}

/* --matrix --method spsc: 0->1 and 1->0 are one key but for their CPUs,
 * and 1->0 is 3x slower. Each is compared with its own saved cell, and
 * the rows name their CPUs; a file holding one cell twice is refused. */
Test(baseline, matrix_cells_are_matched_by_their_cpus)
{
	struct world base, now;
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300] = "", why[2000];
	size_t len;
	char *buf, *twice;

	world_init(&base, 1);
	matrix_cell(&base, 0, 0, 1);
	matrix_cell(&base, 1, 1, 0);
	buf = json_of(&base, &len);
	cr_assert_eq(ik_baseline_parse(buf, len, &b, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect(b.cells[0].by_cpus && b.cells[1].by_cpus);
	world_init(&now, 1);
	{
		struct ik_result t = now.res[0];

		now.res[0] = now.res[1];
		now.res[1] = t;
	}
	matrix_cell(&now, 0, 1, 0);
	matrix_cell(&now, 1, 0, 1);
	cr_expect_eq(ik_baseline_mismatch(&b, &now.rep, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(ik_baseline_compare(&b, &now.rep, 0.10, NULL, &g, err,
					 sizeof(err)),
		     8, "%s", err);
	cr_expect_eq(g.failed, 0);
	for (unsigned i = 0; i < g.n; i++) {
		cr_expect_str_eq(g.rows[i].verdict, "unchanged", "%s: %s",
				 g.rows[i].what, g.rows[i].detail);
		cr_expect(strstr(g.rows[i].what, "cpus 1,0") ||
				  strstr(g.rows[i].what, "cpus 0,1"),
			  "%s", g.rows[i].what);
	}
	ik_gate_log_free(&g);
	ik_baseline_free(&b);

	/* both cells 0->1: one cell twice */
	{
		json_t *root = json_loadb(buf, len, 0, NULL), *pair;

		cr_assert_not_null(root);
		pair = json_object_get(
			json_array_get(json_object_get(root, "results"), 1),
			"pair");
		json_object_set_new(pair, "cpus", json_pack("[ii]", 0, 1));
		twice = json_dumps(root, 0);
		json_decref(root);
	}
	expect_refused(twice, strlen(twice),
		       "one cell (spsc thread 8 B, CPUs 0,1) twice",
		       "0->1 twice");
	free(twice);
	free(buf);
	world_free(&base);
	world_free(&now);
}

/* Whether two entries of a gbench export share name and repetition:
 * compare.py would pair them with each other. */
static unsigned gbench_duplicates(json_t *list)
{
	unsigned dup = 0;
	size_t i, j;
	json_t *a, *b;

	json_array_foreach(list, i, a)
	{
		for (j = i + 1; j < json_array_size(list); j++) {
			b = json_array_get(list, j);
			if (!strcmp(json_string_value(
					    json_object_get(a, "name")),
				    json_string_value(
					    json_object_get(b, "name"))) &&
			    json_equal(json_object_get(a, "repetition_index"),
				       json_object_get(b, "repetition_index")))
				dup++;
		}
	}
	return dup;
}

/* --matrix: 0->1 and 1->0; --pairs 2,4: pair 1 of 2 and pair 1 of 4.
 * Each cell has names of its own. */
Test(gbench, cells_that_differ_in_cpus_or_pair_count_have_their_own_names)
{
	struct world w;
	json_t *root, *list, *runs[8];

	world_init(&w, 1);
	matrix_cell(&w, 0, 0, 1);
	matrix_cell(&w, 1, 1, 0);
	root = gbench_of(&w);
	list = json_object_get(root, "benchmarks");
	cr_expect_eq(gbench_duplicates(list), 0);
	cr_expect_eq(named(list, "pingpong/spsc/thread/size:8/cpus:1,0/p50",
			   runs, 8),
		     5);
	json_decref(root);
	world_free(&w);

	world_init(&w, 1);
	w.res[1].ops = ik_transport_find("spsc");
	w.res[0].npairs = 2;
	w.res[1].npairs = 4;
	w.sweep.nmethods = 1;
	w.sweep.pairs[1] = 4;
	w.sweep.npairs = 2;
	root = gbench_of(&w);
	list = json_object_get(root, "benchmarks");
	cr_expect_eq(gbench_duplicates(list), 0);
	cr_expect_eq(named(list, "pingpong/spsc/thread/size:8/pair:1of4/p50",
			   runs, 8),
		     5);
	json_decref(root);
	world_free(&w);
}

/* --pin says the pair's relation before anything runs: a baseline saved
 * on another relation is refused then (exit 2, nothing measured, no
 * table), as README says, not after the measuring. */
Test(baseline, a_pinned_pairs_other_relation_is_refused_before_measuring,
     .timeout = 120)
{
	char dir[] = "/tmp/ik-rel-XXXXXX", base[64], *text;
	json_t *root, *res;
	struct out o;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/base.json", dir);
	o = run((const char *const[]){"--method", "spsc", "--pin", "0,0",
				      "--iters", "2000", "--repeat", "3", "-q",
				      "--save-baseline", base, NULL});
	cr_assert_eq(o.code, 0, "%s", o.err);
	free(o.stdout_text);
	/* the same cell saved on a pair sharing an L3 */
	root = json_load_file(base, 0, NULL);
	cr_assert_not_null(root);
	res = json_array_get(json_object_get(root, "results"), 0);
	json_object_set_new(json_object_get(res, "pair"), "relation",
			    json_string("shared-l3"));
	cr_assert_eq(json_dump_file(root, base, 0), 0);
	json_decref(root);
	o = run((const char *const[]){"--method", "spsc", "--pin", "0,0",
				      "--iters", "2000", "--repeat", "3",
				      "--baseline", base, NULL});
	cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
	t_expect_one_line_naming("--pin 0,0", o.err, true,
				 "pair relation: baseline shared-l3, now "
				 "same-pu");
	text = o.stdout_text;
	cr_expect(!text || !*text, "measured and wrote: %s", text);
	free(text);
	/* --allow-mismatch still compares */
	o = run((const char *const[]){"--method", "spsc", "--pin", "0,0",
				      "--iters", "2000", "--repeat", "3", "-q",
				      "--allow-mismatch", "--baseline", base,
				      NULL});
	cr_expect(o.code == 0 || o.code == 1, "exit %d: %s", o.code, o.err);
	free(o.stdout_text);
	unlink(base);
	rmdir(dir);
}

/* --classes --dry-run plans a gate as every --dry-run does: accepted,
 * nothing written, and a baseline measured elsewhere still refused. */
Test(baseline, classes_dry_run_plans_the_gate_like_every_dry_run, .timeout = 60)
{
	char dir[] = "/tmp/ik-cdry-XXXXXX", save[64], base[64];
	struct world w;
	size_t len;
	char *buf;
	FILE *f;
	struct out o;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(save, sizeof(save), "%s/save.json", dir);
	snprintf(base, sizeof(base), "%s/base.json", dir);
	o = run((const char *const[]){"--classes", "--dry-run",
				      "--save-baseline", save, NULL});
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "not written"), "%s", o.err);
	cr_expect_neq(access(save, F_OK), 0, "a dry run wrote %s", save);
	free(o.stdout_text);
	/* a baseline from another machine: refused, as by --dry-run */
	world_init(&w, 1);
	buf = json_of(&w, &len);
	f = fopen(base, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
	o = run((const char *const[]){"--classes", "--dry-run", "--baseline",
				      base, NULL});
	cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
	t_expect_one_line_naming("another machine", o.err, true,
				 "machine model");
	free(o.stdout_text);
	o = run((const char *const[]){"--machine", "--save-baseline", save,
				      NULL});
	cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
	free(o.stdout_text);
	free(buf);
	world_free(&w);
	unlink(base);
	rmdir(dir);
}
