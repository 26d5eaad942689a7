/* SPDX-License-Identifier: MIT */
/*
 * E-divisive change points on series whose truth is known: steps where
 * they were put, none in plain noise, and the options doing what they
 * say. The noise is from a seeded generator, so a failure replays.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "reports/changepoint.h"

/* xorshift64* and Box-Muller: deterministic normal noise */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static double unit(void)
{
	return ((double)(rnd() >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
	return sqrt(-2 * log(unit())) * cos(2 * M_PI * unit());
}

/* n points around level 100 with relative noise sd; steps[k] at
 * at[k] multiplies the level from there on */
static void series(double *x, size_t n, double sd, const size_t *at,
		   const double *steps, size_t nsteps, uint64_t seed)
{
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (size_t i = 0; i < n; i++) {
		double level = 100;

		for (size_t k = 0; k < nsteps; k++)
			if (i >= at[k])
				level *= steps[k];
		x[i] = level * (1 + sd * normal());
	}
}

Test(changepoint, finds_a_clean_step_at_its_index)
{
	double x[60];
	size_t at = 35, n;
	double step = 1.10;
	struct ik_cp cp[4];
	struct ik_cp_opts o = IK_CP_OPTS_DEFAULT;

	series(x, 60, 0.01, &at, &step, 1, 7);
	cr_assert_eq(ik_cp_detect(x, 60, &o, cp, 4, &n), 0);
	cr_assert_eq(n, 1, "found %zu change points", n);
	cr_assert(cp[0].index >= 34 && cp[0].index <= 36, "at %zu",
		  cp[0].index);
	cr_assert(cp[0].p <= o.alpha, "p %g", cp[0].p);
	cr_assert(fabs(cp[0].change - 0.10) < 0.02, "change %g", cp[0].change);
	cr_assert(cp[0].ci_lo <= cp[0].change && cp[0].change <= cp[0].ci_hi);
	cr_assert(cp[0].ci_lo > 0.05 && cp[0].ci_hi < 0.15, "CI [%g, %g]",
		  cp[0].ci_lo, cp[0].ci_hi);
	cr_assert(fabs(cp[0].before - 100) < 2 && fabs(cp[0].after - 110) < 2);
}

Test(changepoint, finds_a_step_down_with_a_negative_change)
{
	double x[40];
	size_t at = 10, n;
	double step = 0.8;
	struct ik_cp cp[4];

	series(x, 40, 0.02, &at, &step, 1, 11);
	cr_assert_eq(ik_cp_detect(x, 40, NULL, cp, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert(cp[0].index >= 9 && cp[0].index <= 11);
	cr_assert(cp[0].change < -0.15 && cp[0].ci_hi < 0);
}

/* alpha is the false-alarm rate of one test: over many noise series
 * the detector may fire on about alpha of them, not more */
Test(changepoint, iid_noise_alarms_at_most_at_about_alpha)
{
	struct ik_cp_opts o = IK_CP_OPTS_DEFAULT;
	double x[80];
	struct ik_cp cp[8];
	size_t n;
	unsigned alarms = 0, runs = 400;

	/* no size filter: the permutation test alone must say no */
	o.min_change = 0;
	for (uint64_t seed = 1; seed <= runs; seed++) {
		series(x, 80, 0.05, NULL, NULL, 0, seed);
		o.seed = seed;
		cr_assert_eq(ik_cp_detect(x, 80, &o, cp, 8, &n), 0);
		for (size_t k = 0; k < n; k++)
			cr_assert_leq(cp[k].p, o.alpha);
		alarms += n > 0;
	}
	/* binomial(400, 0.01): mean 4, P(>= 11) < 0.3 %% */
	cr_assert_leq(alarms, 10, "%u false alarms in %u noise series", alarms,
		      runs);
}

Test(changepoint, finds_two_steps)
{
	double x[90];
	size_t at[2] = {30, 60}, n;
	double steps[2] = {1.2, 0.75};
	struct ik_cp cp[8];

	series(x, 90, 0.02, at, steps, 2, 3);
	cr_assert_eq(ik_cp_detect(x, 90, NULL, cp, 8, &n), 0);
	cr_assert_eq(n, 2, "found %zu", n);
	cr_assert(cp[0].index >= 29 && cp[0].index <= 31, "%zu", cp[0].index);
	cr_assert(cp[1].index >= 59 && cp[1].index <= 61, "%zu", cp[1].index);
	cr_assert(cp[0].change > 0.15 && cp[1].change < -0.15);
	/* adjacent segments share their mean */
	cr_assert_float_eq(cp[0].after, cp[1].before, 1e-9);
}

Test(changepoint, max_caps_the_output_in_index_order)
{
	double x[90];
	size_t at[2] = {30, 60}, n;
	double steps[2] = {1.2, 0.75};
	struct ik_cp cp[1];

	series(x, 90, 0.02, at, steps, 2, 3);
	cr_assert_eq(ik_cp_detect(x, 90, NULL, cp, 1, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert(cp[0].index >= 29 && cp[0].index <= 31);
}

Test(changepoint, min_change_filters_a_tiny_step)
{
	struct ik_cp_opts o = IK_CP_OPTS_DEFAULT;
	double x[100];
	size_t at = 50, n;
	double step = 1.01; /* 1 %: significant with this little noise */
	struct ik_cp cp[4];

	series(x, 100, 0.001, &at, &step, 1, 5);
	o.min_change = 0;
	cr_assert_eq(ik_cp_detect(x, 100, &o, cp, 4, &n), 0);
	cr_assert_eq(n, 1, "the step itself is significant");
	o.min_change = 0.02;
	cr_assert_eq(ik_cp_detect(x, 100, &o, cp, 4, &n), 0);
	cr_assert_eq(n, 0, "a 1 %% step passed min_change 2 %%");
}

Test(changepoint, min_size_is_respected)
{
	struct ik_cp_opts o = IK_CP_OPTS_DEFAULT;
	double x[40];
	size_t at = 37, n;
	double step = 1.5;
	struct ik_cp cp[4];

	/* a big step 3 points from the end: found with min_size 3 ... */
	series(x, 40, 0.01, &at, &step, 1, 9);
	cr_assert_eq(ik_cp_detect(x, 40, &o, cp, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(cp[0].index, 37);
	/* ... never closer than min_size to an end with min_size 5 */
	o.min_size = 5;
	cr_assert_eq(ik_cp_detect(x, 40, &o, cp, 4, &n), 0);
	for (size_t k = 0; k < n; k++)
		cr_assert(cp[k].index >= 5 && cp[k].index <= 35, "at %zu",
			  cp[k].index);
}

Test(changepoint, bad_options_are_einval)
{
	double x[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	struct ik_cp cp[2];
	size_t n;
	struct ik_cp_opts o;
	static const struct ik_cp_opts def = IK_CP_OPTS_DEFAULT;

	o = def, o.alpha = 0;
	cr_assert_eq(ik_cp_detect(x, 20, &o, cp, 2, &n), -EINVAL);
	o = def, o.alpha = 1;
	cr_assert_eq(ik_cp_detect(x, 20, &o, cp, 2, &n), -EINVAL);
	o = def, o.alpha = NAN;
	cr_assert_eq(ik_cp_detect(x, 20, &o, cp, 2, &n), -EINVAL);
	o = def, o.permutations = 0;
	cr_assert_eq(ik_cp_detect(x, 20, &o, cp, 2, &n), -EINVAL);
	/* 1/(49+1) = 0.02 > 0.01: the test could never say yes */
	o = def, o.permutations = 49;
	cr_assert_eq(ik_cp_detect(x, 20, &o, cp, 2, &n), -EINVAL);
	o = def, o.min_change = -0.1;
	cr_assert_eq(ik_cp_detect(x, 20, &o, cp, 2, &n), -EINVAL);
	o = def, o.min_change = INFINITY;
	cr_assert_eq(ik_cp_detect(x, 20, &o, cp, 2, &n), -EINVAL);
	o = def, o.min_size = 0;
	cr_assert_eq(ik_cp_detect(x, 20, &o, cp, 2, &n), -EINVAL);
	cr_assert_eq(ik_cp_detect(NULL, 20, &def, cp, 2, &n), -EINVAL);
	cr_assert_eq(ik_cp_detect(x, 20, &def, cp, 2, NULL), -EINVAL);
	cr_assert_eq(ik_cp_detect(x, 20, &def, NULL, 2, &n), -EINVAL);
	x[3] = NAN;
	cr_assert_eq(ik_cp_detect(x, 20, &def, cp, 2, &n), -EINVAL);
	x[3] = INFINITY;
	cr_assert_eq(ik_cp_detect(x, 20, &def, cp, 2, &n), -EINVAL);
}

Test(changepoint, too_short_a_series_has_none)
{
	double x[5] = {1, 1, 100, 100, 100};
	struct ik_cp cp[2];
	size_t n = 99;

	/* 5 < 2 * min_size 3 */
	cr_assert_eq(ik_cp_detect(x, 5, NULL, cp, 2, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(ik_cp_detect(x, 0, NULL, cp, 2, &n), 0);
	cr_assert_eq(n, 0);
}

Test(changepoint, constant_series_has_none)
{
	double x[30];
	struct ik_cp cp[2];
	size_t n;

	for (size_t i = 0; i < 30; i++)
		x[i] = 42;
	cr_assert_eq(ik_cp_detect(x, 30, NULL, cp, 2, &n), 0);
	cr_assert_eq(n, 0);
}

Test(changepoint, same_seed_same_answer)
{
	struct ik_cp_opts o = IK_CP_OPTS_DEFAULT;
	double x[50];
	size_t at = 25, n1, n2;
	double step = 1.05;
	struct ik_cp a[4], b[4];

	series(x, 50, 0.03, &at, &step, 1, 21);
	o.seed = 1234;
	cr_assert_eq(ik_cp_detect(x, 50, &o, a, 4, &n1), 0);
	cr_assert_eq(ik_cp_detect(x, 50, &o, b, 4, &n2), 0);
	cr_assert_eq(n1, n2);
	cr_assert_gt(n1, 0);
	for (size_t k = 0; k < n1; k++) {
		cr_assert_eq(a[k].index, b[k].index);
		cr_assert_eq(a[k].p, b[k].p);
		cr_assert_eq(a[k].ci_lo, b[k].ci_lo);
		cr_assert_eq(a[k].ci_hi, b[k].ci_hi);
	}
}
