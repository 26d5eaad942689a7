/* SPDX-License-Identifier: MIT */
/*
 * The histogram against the truth: exact sorted percentiles of random
 * and heavy-tailed data must be within the stated 1%.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "hist/hist.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* xorshift64*: deterministic, so a failure can be replayed */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static double unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static void check_against_sorted(uint64_t *v, size_t n)
{
	static const double pcts[] = {0.1, 1,  10,   25,    50, 75,
				      90,  99, 99.9, 99.99, 100};
	struct ik_hist h;
	size_t i;

	cr_assert_eq(ik_hist_init(&h, IK_HIST_MAX_NS), 0);
	for (i = 0; i < n; i++)
		cr_assert(ik_hist_record(&h, v[i]));
	qsort(v, n, sizeof(*v), cmp_u64);
	cr_expect_eq(ik_hist_total(&h), n);
	cr_expect_eq(h.min, v[0]);
	cr_expect_eq(h.max, v[n - 1]);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		size_t rank = (size_t)ceil(pcts[i] / 100.0 * (double)n);
		uint64_t exact = v[(rank ? rank : 1) - 1];
		uint64_t got = ik_hist_percentile(&h, pcts[i]);
		double err = fabs((double)got - (double)exact) /
			     (double)(exact ? exact : 1);

		cr_expect(err <= 0.01 || (exact < 128 && got == exact),
			  "p%g: histogram %lu, exact %lu (error %.4f)", pcts[i],
			  (unsigned long)got, (unsigned long)exact, err);
	}
	ik_hist_free(&h);
}

Test(hist, uniform_percentiles_within_one_percent)
{
	size_t n = 200000, i;
	uint64_t *v = malloc(n * sizeof(*v));

	for (i = 0; i < n; i++)
		v[i] = 50 + rnd() % 100000;
	check_against_sorted(v, n);
	free(v);
}

Test(hist, heavy_tailed_percentiles_within_one_percent)
{
	size_t n = 200000, i;
	uint64_t *v = malloc(n * sizeof(*v));

	/* Pareto, alpha 1.1, from 100 ns: tails out to seconds */
	for (i = 0; i < n; i++) {
		double x = 100.0 / pow(1.0 - unit(), 1.0 / 1.1);

		v[i] = x > 5e10 ? 50000000000ULL : (uint64_t)x;
	}
	check_against_sorted(v, n);
	free(v);
}

Test(hist, small_values_are_exact)
{
	uint64_t v[] = {1, 2, 3, 3, 3, 7, 100, 127};
	struct ik_hist h;

	cr_assert_eq(ik_hist_init(&h, IK_HIST_MAX_NS), 0);
	for (size_t i = 0; i < 8; i++)
		ik_hist_record(&h, v[i]);
	cr_expect_eq(ik_hist_percentile(&h, 50), 3);
	cr_expect_eq(ik_hist_percentile(&h, 100), 127);
	cr_expect_eq(ik_hist_percentile(&h, 0), 1);
	ik_hist_free(&h);
}

Test(hist, covers_one_ns_to_100_seconds)
{
	struct ik_hist h;

	cr_assert_eq(ik_hist_init(&h, IK_HIST_MAX_NS), 0);
	cr_expect(ik_hist_record(&h, 1));
	cr_expect(ik_hist_record(&h, 100ULL * 1000000000ULL));
	cr_expect_eq(h.dropped, 0);
	uint64_t p = ik_hist_percentile(&h, 100);
	cr_expect(p == 100ULL * 1000000000ULL, "max read back as %lu",
		  (unsigned long)p);
	ik_hist_free(&h);
}

Test(hist, value_above_range_is_counted_as_dropped)
{
	struct ik_hist h;

	cr_assert_eq(ik_hist_init(&h, 1000000), 0);
	cr_expect_not(ik_hist_record(&h, 2000000));
	cr_expect_eq(ik_hist_total(&h), 0);
	cr_expect_eq(h.dropped, 1);
	cr_expect_eq(h.max_dropped, 2000000);
	ik_hist_free(&h);
}

Test(hist, merge_equals_recording_everything_in_one)
{
	struct ik_hist a, b, all;
	int i;

	cr_assert_eq(ik_hist_init(&a, IK_HIST_MAX_NS), 0);
	cr_assert_eq(ik_hist_init(&b, IK_HIST_MAX_NS), 0);
	cr_assert_eq(ik_hist_init(&all, IK_HIST_MAX_NS), 0);
	for (i = 0; i < 50000; i++) {
		uint64_t x = rnd() % 10000000;

		ik_hist_record(i % 3 ? &a : &b, x);
		ik_hist_record(&all, x);
	}
	cr_assert_eq(ik_hist_merge(&a, &b), 0);
	cr_expect_eq(ik_hist_total(&a), ik_hist_total(&all));
	cr_expect_eq(a.min, all.min);
	cr_expect_eq(a.max, all.max);
	cr_expect_eq(a.sum, all.sum);
	for (i = 1; i <= 100; i++)
		cr_expect_eq(ik_hist_percentile(&a, i),
			     ik_hist_percentile(&all, i));
	ik_hist_free(&a);
	ik_hist_free(&b);
	ik_hist_free(&all);
}

Test(hist, empty_histogram_reads_as_zero)
{
	struct ik_hist h;

	cr_assert_eq(ik_hist_init(&h, IK_HIST_MAX_NS), 0);
	cr_expect_eq(ik_hist_percentile(&h, 50), 0);
	cr_expect_eq(ik_hist_mean(&h), 0.0);
	cr_expect_eq(ik_hist_stddev(&h), 0.0);
	ik_hist_free(&h);
}

Test(hist, mean_and_stddev_are_exact)
{
	struct ik_hist h;
	uint64_t v[] = {100, 200, 300, 400, 500};

	cr_assert_eq(ik_hist_init(&h, IK_HIST_MAX_NS), 0);
	for (int i = 0; i < 5; i++)
		ik_hist_record(&h, v[i]);
	cr_expect_float_eq(ik_hist_mean(&h), 300.0, 1e-9);
	cr_expect_float_eq(ik_hist_stddev(&h), sqrt(25000.0), 1e-6);
	ik_hist_free(&h);
}

Test(hist, rejects_a_range_it_cannot_hold)
{
	struct ik_hist h;

	cr_expect_eq(ik_hist_init(&h, 10), -EINVAL);
	cr_expect_eq(ik_hist_init(&h, IK_HIST_MAX_NS + 1), -EINVAL);
}
