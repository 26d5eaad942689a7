/* SPDX-License-Identifier: MIT */
/*
 * --slo (kernels/slo.c): the objective's grammar, good and bad; the
 * search against a model of latency vs rate with a knee and a sender
 * that cannot go faster than its capacity (it finds the knee within the
 * precision and never claims a rate whose last run failed); and a small
 * live search through the binary, whose JSON and CSV carry every step.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>

#include "cli.h"

#include "../kernels/kernels.h"

static struct ik_slo parse_ok(const char *s)
{
	struct ik_slo slo = {.precision = 0.05};
	char err[400] = "";

	cr_assert_eq(ik_slo_parse(s, &slo, err, sizeof(err)), 0, "%s: %s", s,
		     err);
	return slo;
}

Test(slo_parse, reads_any_percentile_bound_and_unit)
{
	struct ik_slo s = parse_ok("p99<=10us");

	cr_expect_eq(s.n, 1);
	cr_expect_eq(s.c[0].pct, 99);
	cr_expect_eq(s.c[0].bound_ns, 10000);
	cr_expect(!s.c[0].strict);
	cr_expect_str_eq(s.text, "p99<=10us");

	s = parse_ok("p50<=800ns,p90<2us,p99.9<=1.5ms,p99.99<=1s,max<=2s");
	cr_expect_eq(s.n, 5);
	cr_expect_eq(s.c[0].bound_ns, 800);
	cr_expect(s.c[1].strict);
	cr_expect_eq(s.c[1].pct, 90);
	cr_expect_eq(s.c[2].pct, 99.9);
	cr_expect_eq(s.c[2].bound_ns, 1500000);
	cr_expect_eq(s.c[3].pct, 99.99);
	cr_expect_eq(s.c[3].bound_ns, 1000000000);
	cr_expect_eq(s.c[4].pct, 100, "max is the 100th percentile");
	cr_expect_eq(s.c[4].bound_ns, 2000000000ULL);
	s = parse_ok("p75<=300"); /* bare: ns, as every ns option */
	cr_expect_eq(s.c[0].bound_ns, 300);
}

Test(slo_parse, refuses_a_bad_condition_naming_it_and_the_grammar)
{
	static const char *const bad[] = {
		"",	     "p99",
		"p99<=",     "p99=10us",
		"p99>=10us", "p100<=1us",
		"p0<=1us",   "q99<=1us",
		"p99<=10xs", "p99<=0us",
		"p99<=-1us", "p99<=10us,",
		",p99<=1us", "p99<=1us,,max<=1s",
		"p99<=2h",   "maxx<=1s",
	};
	char err[400];
	unsigned i;

	for (i = 0; i < IK_ARRAY_SIZE(bad); i++) {
		struct ik_slo s = {0};

		err[0] = 0;
		cr_expect_eq(ik_slo_parse(bad[i], &s, err, sizeof(err)),
			     -EINVAL, "'%s' accepted", bad[i]);
		cr_expect(strstr(err, "expected CONDITION") != NULL,
			  "'%s': no grammar in: %s", bad[i], err);
		cr_expect(!strchr(err, '\n'), "one line: %s", err);
	}
	err[0] = 0;
	cr_expect_eq(ik_slo_parse("p1<=1s,p2<=1s,p3<=1s,p4<=1s,p5<=1s,p6<=1s,"
				  "p7<=1s,p8<=1s,p9<=1s",
				  &(struct ik_slo){0}, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "at most 8") != NULL, "%s", err);
}

/*
 * A model of a transport: the sender goes at most capacity msgs/s
 * (flat out gets exactly that); p99 is flat up to the knee and grows
 * steeply past it; p50 a tenth of it. fail_once_at: a rate whose
 * second run fails the objective (a noisy host); err_at: the step that
 * returns -EIO.
 */
struct model {
	double capacity, knee;
	uint64_t base_ns;
	double fail_once_at; /* its second run fails */
	bool no_latency;     /* every run's latency dropped */
	unsigned seen, err_at, runs;
};

static uint64_t model_p99(const struct model *m, double rate)
{
	if (rate <= m->knee)
		return m->base_ns;
	return (uint64_t)((double)m->base_ns *
			  (1 + 100 * (rate - m->knee) / m->knee));
}

static int model_measure(void *arg, double rate, const struct ik_slo *slo,
			 struct ik_slo_step *st)
{
	struct model *m = arg;
	double r = rate > 0 ? rate : m->capacity;
	uint64_t p99 = model_p99(m, r);
	unsigned i;

	if (++m->runs == m->err_at) {
		snprintf(st->note, sizeof(st->note), "the model broke");
		return -EIO;
	}
	if (rate > 0 && rate == m->fail_once_at && m->seen++ == 1) {
		m->fail_once_at = 0;
		p99 = 1000 * m->base_ns;
	}
	st->latency = !m->no_latency;
	st->kept = r <= m->capacity;
	st->rate_got = fmin(r, m->capacity);
	st->p50_ns = p99 / 10;
	st->p99_ns = p99;
	st->p999_ns = p99 * 2;
	st->max_ns = p99 * 3;
	for (i = 0; i < slo->n; i++)
		st->cond_ns[i] = slo->c[i].pct >= 100	 ? st->max_ns
				 : slo->c[i].pct >= 99.9 ? st->p999_ns
				 : slo->c[i].pct >= 99	 ? st->p99_ns
							 : st->p50_ns;
	return 0;
}

/* Every claim the result makes against the model's truth. */
static void expect_honest(const struct ik_slo *slo, struct model *m,
			  const struct ik_slo_result *r)
{
	unsigned i;
	bool claimed_ran = false;

	for (i = 0; i < r->nsteps; i++) {
		const struct ik_slo_step *st = &r->step[i];

		cr_expect_eq(st->held,
			     st->rate_asked > 0 && st->kept && st->met,
			     "step %u", i);
		if (st->rate_asked == r->held_rate)
			claimed_ran = st->held; /* its last run */
	}
	if (r->held_rate > 0) {
		cr_expect(claimed_ran, "claims %.0f/s without a run that held",
			  r->held_rate);
		cr_expect(r->held_rate <= m->capacity &&
				  model_p99(m, r->held_rate) <=
					  slo->c[0].bound_ns,
			  "claims %.0f/s, which fails in the model",
			  r->held_rate);
	}
	cr_expect(r->nsteps <= IK_SLO_MAX_STEPS);
}

Test(slo_search, finds_the_knee_within_the_precision)
{
	struct ik_slo slo = parse_ok("p99<=10us");
	struct model m = {.capacity = 2e6, .knee = 345678, .base_ns = 5000};
	struct ik_slo_result r;

	cr_assert_eq(ik_slo_search(&slo, model_measure, &m, &r), 0);
	expect_honest(&slo, &m, &r);
	/* p99 reaches 10 us at knee * 1.01 */
	cr_expect(r.held_rate <= m.knee * 1.01 && r.held_rate > 0, "held %.0f",
		  r.held_rate);
	cr_expect(r.failed_rate > m.knee * 1.01, "failed %.0f", r.failed_rate);
	cr_expect(r.failed_rate / r.held_rate <= 1.05 + 1e-9, "ratio %.4f",
		  r.failed_rate / r.held_rate);
	cr_expect(r.converged);
	cr_expect(r.recheck_agrees);
	cr_expect_eq(r.flat_rate, m.capacity);
	cr_expect_eq(r.step[0].role, IK_SLO_FLAT);
	cr_expect_eq(r.step[r.nsteps - 1].role, IK_SLO_RECHECK);
	cr_expect_eq(r.step[r.nsteps - 2].role, IK_SLO_RECHECK);
	cr_expect(strstr(r.answer, "holds at") != NULL, "%s", r.answer);
}

Test(slo_search, a_tighter_precision_narrows_the_bracket)
{
	struct ik_slo slo = parse_ok("p99<=10us");
	struct model m = {.capacity = 2e6, .knee = 345678, .base_ns = 5000};
	struct ik_slo_result r;

	slo.precision = 0.01;
	cr_assert_eq(ik_slo_search(&slo, model_measure, &m, &r), 0);
	expect_honest(&slo, &m, &r);
	cr_expect(r.failed_rate / r.held_rate <= 1.01 + 1e-9, "ratio %.4f",
		  r.failed_rate / r.held_rate);
}

Test(slo_search, a_sender_that_cannot_keep_up_fails_on_its_schedule)
{
	/* latency would hold to 5M/s; the sender tops out at 1M/s */
	struct ik_slo slo = parse_ok("p99<=10us");
	struct model m = {.capacity = 1e6, .knee = 5e6, .base_ns = 5000};
	struct ik_slo_result r;
	unsigned i;
	bool schedule = false;

	cr_assert_eq(ik_slo_search(&slo, model_measure, &m, &r), 0);
	expect_honest(&slo, &m, &r);
	/* flat out at capacity holds, so it doubles past it and fails */
	cr_expect(r.held_rate <= m.capacity && r.held_rate >= m.capacity / 1.05,
		  "held %.0f", r.held_rate);
	for (i = 0; i < r.nsteps; i++)
		schedule |= r.step[i].met && !r.step[i].kept &&
			    strstr(r.step[i].note, "schedule") != NULL;
	cr_expect(schedule, "a rate that met the latency failed its schedule");
}

Test(slo_search, says_so_when_no_rate_holds)
{
	struct ik_slo slo = parse_ok("p99<=1us");
	struct model m = {.capacity = 1e6, .knee = 1e5, .base_ns = 5000};
	struct ik_slo_result r;

	cr_assert_eq(ik_slo_search(&slo, model_measure, &m, &r), 0);
	expect_honest(&slo, &m, &r);
	cr_expect_eq(r.held_rate, 0);
	cr_expect(r.failed_rate >= 100 && r.failed_rate < 1000, "lowest %.0f",
		  r.failed_rate);
	cr_expect(strstr(r.answer, "no rate held") != NULL, "%s", r.answer);
}

Test(slo_search, a_low_end_that_fails_its_recheck_is_not_claimed)
{
	struct ik_slo slo = parse_ok("p99<=10us");
	struct model m = {.capacity = 2e6, .knee = 345678, .base_ns = 5000};
	struct ik_slo_result first, r;
	double lo;

	cr_assert_eq(ik_slo_search(&slo, model_measure, &m, &first), 0);
	lo = first.held_rate;
	/* the same search, but the final low end fails its re-run */
	m = (struct model){.capacity = 2e6, .knee = 345678, .base_ns = 5000};
	m.fail_once_at = lo;
	cr_assert_eq(ik_slo_search(&slo, model_measure, &m, &r), 0);
	/* the bisection ran lo once and held; the re-run is the fail */
	cr_expect(!r.recheck_agrees);
	cr_expect(r.held_rate < lo && r.held_rate > 0, "held %.0f, lo %.0f",
		  r.held_rate, lo);
	cr_expect_eq(r.failed_rate, lo);
	expect_honest(&slo, &m, &r);
	cr_expect(strstr(r.answer, "DISAGREES") != NULL, "%s", r.answer);
}

Test(slo_search, a_low_bracket_that_fails_its_recheck_leaves_no_claim)
{
	/* 10000/s (flat out / 100) holds and every rate above it fails,
	 * so the bracket never leaves it; its re-run fails */
	struct ik_slo slo = parse_ok("p99<=10us");
	struct model m = {.capacity = 1e6,
			  .knee = 1e4,
			  .base_ns = 5000,
			  .fail_once_at = 1e4};
	struct ik_slo_result r;

	cr_assert_eq(ik_slo_search(&slo, model_measure, &m, &r), 0);
	cr_expect_eq(r.held_rate, 0, "claims %.0f", r.held_rate);
	cr_expect_eq(r.failed_rate, 1e4);
	cr_expect(!r.recheck_agrees);
	expect_honest(&slo, &m, &r);
	cr_expect(strstr(r.answer, "nothing claimed") != NULL, "%s", r.answer);
}

Test(slo_search, a_step_without_latency_does_not_hold)
{
	/* fast enough and on schedule, but no latency to show it */
	struct ik_slo slo = parse_ok("p99<=10us");
	struct model m = {.capacity = 1e6,
			  .knee = 1e7,
			  .base_ns = 5000,
			  .no_latency = true};
	struct ik_slo_result r;
	unsigned i;

	cr_assert_eq(ik_slo_search(&slo, model_measure, &m, &r), 0);
	for (i = 0; i < r.nsteps; i++)
		cr_expect(!r.step[i].held && !r.step[i].met, "step %u", i);
	cr_expect_eq(r.held_rate, 0);
	/* nothing was measured: the answer must not say a rate failed */
	cr_expect(strstr(r.answer, "no rate could be judged") != NULL, "%s",
		  r.answer);
}

Test(slo_search, a_failed_run_ends_the_search_keeping_its_steps)
{
	struct ik_slo slo = parse_ok("p99<=10us");
	struct model m = {
		.capacity = 2e6, .knee = 345678, .base_ns = 5000, .err_at = 4};
	struct ik_slo_result r;

	cr_expect_eq(ik_slo_search(&slo, model_measure, &m, &r), -EIO);
	cr_expect_eq(r.err, -EIO);
	cr_expect_eq(r.nsteps, 4);
	cr_expect_eq(r.step[3].err, -EIO);
	cr_expect_str_eq(r.step[3].note, "the model broke");
	cr_expect_eq(r.held_rate, 0, "nothing claimed from a broken search");
}

Test(slo_search, every_condition_must_hold)
{
	/* p99 holds to the knee, but p99.9 (twice p99) breaks at half of
	 * its bound: the answer is p99.9's knee, not p99's */
	struct ik_slo slo = parse_ok("p99<=20us,p99.9<=10us");
	struct model m = {.capacity = 2e6, .knee = 345678, .base_ns = 5000};
	struct ik_slo_result r;

	cr_assert_eq(ik_slo_search(&slo, model_measure, &m, &r), 0);
	cr_expect(r.held_rate <= m.knee && r.held_rate > 0, "held %.0f",
		  r.held_rate);
	cr_expect(r.failed_rate > m.knee, "failed %.0f", r.failed_rate);
}

/* ---- through the binary ---- */

/*
 * Pinned to CPUs 0 and 1: unpinned, both peers may share a CPU, and the
 * TSC offset probe then bounces through the scheduler, so the latency
 * (which every step needs) is dropped.
 */
static void need_two_cpus(void)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
}

static json_t *run_json(const char *const *args, struct out *o)
{
	json_error_t je;
	json_t *r;

	*o = run(args);
	cr_assert_eq(o->code, 0, "exit %d: %s", o->code, o->err);
	r = json_loads(o->stdout_text, 0, &je);
	cr_assert_not_null(r, "%s", je.text);
	return r;
}

Test(slo_live, a_generous_slo_on_spsc_and_pipe_reports_every_step,
     .timeout = 240)
{
	struct out o;
	json_t *r, *res;
	size_t i, k;

	need_two_cpus();
	r = run_json((const char *const[]){"--kernel", "stream", "--method",
					   "spsc,pipe", "--slo", "max<=10s",
					   "--slo-precision", "20",
					   "--duration", "0.05", "--pin", "0,1",
					   "--format", "json", "-q", NULL},
		     &o);
	res = json_object_get(r, "results");

	cr_assert_eq(json_array_size(res), 2);
	for (i = 0; i < 2; i++) {
		json_t *x = json_array_get(res, i);
		json_t *slo = json_object_get(x, "slo");
		json_t *steps = json_object_get(slo, "steps");
		json_t *held = json_object_get(slo, "held_rate");
		json_t *ol = json_object_get(x, "open_loop");
		bool found = false;

		cr_assert_not_null(slo, "result %zu has no slo object", i);
		cr_expect_str_eq(
			json_string_value(json_object_get(slo, "condition")),
			"max<=10s");
		cr_expect_eq(
			json_array_size(json_object_get(slo, "conditions")), 1);
		cr_expect_eq(
			json_integer_value(json_object_get(
				json_array_get(
					json_object_get(slo, "conditions"), 0),
				"bound_ns")),
			10000000000LL);
		/* at least flat out, the high and the low bracket */
		cr_expect(json_array_size(steps) >= 3, "%zu steps",
			  json_array_size(steps));
		cr_expect_str_eq(json_string_value(json_object_get(
					 json_array_get(steps, 0), "role")),
				 "flat");
		cr_expect(json_real_value(
				  json_object_get(slo, "flat_out_rate")) > 0);
		cr_expect(json_is_string(json_object_get(slo, "answer")));
		for (k = 0; k < json_array_size(steps); k++) {
			json_t *s = json_array_get(steps, k);

			cr_expect(json_is_number(
				json_object_get(s, "rate_asked")));
			cr_expect(json_is_boolean(json_object_get(s, "held")));
			cr_expect(
				json_is_number(json_object_get(s, "rate_got")));
			/* max counts as p99.9: 20 samples beyond it */
			cr_expect_eq(json_integer_value(json_object_get(
					     s, "samples_wanted")),
				     20000);
			cr_expect(
				json_is_integer(json_object_get(s, "samples")));
			if (json_is_true(json_object_get(s, "held")) &&
			    json_is_real(held) &&
			    json_real_value(json_object_get(s, "rate_asked")) ==
				    json_real_value(held))
				found = true;
		}
		/* the row is the run at the rate it found */
		if (json_is_real(held)) {
			cr_expect(found, "no held step at the held rate");
			cr_expect_eq(json_real_value(
					     json_object_get(ol, "rate_asked")),
				     json_real_value(held));
		} else {
			cr_expect(json_is_null(held));
		}
	}
	json_decref(r);
	free(o.stdout_text);
}

Test(slo_live, csv_has_a_row_per_step_and_the_columns_only_with_slo,
     .timeout = 240)
{
	struct out o;
	struct out plain;
	const char *p;
	int rows, steps = 0;

	need_two_cpus();
	o = run((const char *const[]){"--kernel", "stream", "--method", "pipe",
				      "--slo", "p99<=10s", "--slo-precision",
				      "30", "--duration", "0.05", "--pin",
				      "0,1", "--format", "csv", "-q", NULL});

	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, ",slo,slo_step,slo_role,") != NULL);
	rows = lines(o.stdout_text);
	for (p = o.stdout_text; (p = strstr(p, ",p99<=10s,")); p++)
		steps += strncmp(p + 10, "answer", 6) != 0;
	cr_expect(steps >= 3, "%d step rows", steps);
	cr_expect_eq(rows, 1 + 1 + steps, "header, the answer, the steps");
	plain = run((const char *const[]){"--kernel", "stream", "--method",
					  "pipe", "--iters", "1000", "--size",
					  "16", "--format", "csv", "-q", NULL});
	cr_assert_eq(plain.code, 0, "%s", plain.err);
	cr_expect(strstr(plain.stdout_text, "slo") == NULL,
		  "no --slo, no slo columns");
	free(o.stdout_text);
	free(plain.stdout_text);
}

Test(slo_cli, refuses_what_does_not_go_with_it)
{
	BAD("--slo 'p99<=10xs'", "--kernel", "stream", "--slo", "p99<=10xs");
	BAD("expected CONDITION", "--kernel", "stream", "--slo", "p99");
	BAD("--kernel stream", "--slo", "p99<=10us");
	BAD("drop --rate", "--kernel", "stream", "--slo", "p99<=10us", "--rate",
	    "1000");
	BAD("--pairs", "--kernel", "stream", "--slo", "p99<=10us", "--pairs",
	    "2");
	BAD("--repeat", "--kernel", "stream", "--slo", "p99<=10us", "--repeat",
	    "3");
	BAD("--slo-precision: applies to --slo", "--kernel", "stream",
	    "--slo-precision", "2");
	BAD("--slo-precision", "--kernel", "stream", "--slo", "p99<=1us",
	    "--slo-precision", "80");
	BAD("--size 8", "--kernel", "stream", "--slo", "p99<=1us", "--size",
	    "8");
}
