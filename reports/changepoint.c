/* SPDX-License-Identifier: MIT */
/*
 * E-divisive means with a permutation test (see changepoint.h). For a
 * split of v[0..n) at t, with m = t and r = n - t points on each side,
 * the energy distance with alpha = 1 is
 *   E(t) = 2 mean|X - Y| - mean|X - X'| - mean|Y - Y'|
 * (X left, Y right, within-side means over distinct pairs), and the
 * split chosen is the largest Q(t) = m r / n * E(t). Like the MongoDB
 * and Otava implementations only the start of the new segment is
 * searched (the end is the segment's end), and the search recurses into
 * both halves of a significant split.
 *
 * Every Q(t) of a segment comes from one pass over the pairs: a[k] is
 * the sum of |v[k] - v[i]| over i < k and b[k] over i > k, so the left
 * within-sum is a prefix sum of a, the right one a suffix sum of b, and
 * the between-sum the rest of the total.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "changepoint.h"

/* xoshiro256**, seeded by splitmix64: fast, and the same stream from the
 * same seed on every machine */
struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *g, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		g->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *g)
{
	uint64_t *s = g->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* uniform in [0, bound): Lemire's multiply-shift with rejection */
static size_t rng_below(struct rng *g, size_t bound)
{
	uint64_t b = bound, x = rng_next(g);
	__uint128_t m = (__uint128_t)x * b;
	uint64_t lo = (uint64_t)m;

	if (lo < b) {
		uint64_t t = -b % b;

		while (lo < t) {
			x = rng_next(g);
			m = (__uint128_t)x * b;
			lo = (uint64_t)m;
		}
	}
	return (size_t)(m >> 64);
}

static void shuffle(struct rng *g, double *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_below(g, i);
		double t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* Scratch for one call: a and b of the pair pass, and a copy to permute */
struct work {
	const struct ik_cp_opts *o;
	struct rng g;
	double *a, *b, *perm;
	/* significant splits found so far (absolute index, p) */
	size_t *idx;
	double *p;
	size_t nfound;
};

/* The best split of v[0..n) with both sides >= min; its Q, *at its t */
static double best_split(const double *v, size_t n, size_t min, double *a,
			 double *b, size_t *at)
{
	double total = 0, left = 0, right = 0, best = -INFINITY;

	memset(a, 0, n * sizeof(*a));
	memset(b, 0, n * sizeof(*b));
	for (size_t k = 1; k < n; k++)
		for (size_t i = 0; i < k; i++) {
			double d = fabs(v[k] - v[i]);

			a[k] += d;
			b[i] += d;
		}
	for (size_t k = 0; k < n; k++) {
		total += a[k];
		right += b[k];
	}
	*at = min;
	/* left: pairs within [0, t); right: pairs within [t, n) */
	for (size_t t = 1; t < n; t++) {
		left += a[t - 1];
		right -= b[t - 1];
		if (t < min || n - t < min)
			continue;
		double m = (double)t, r = (double)(n - t);
		double between = total - left - right;
		double e = 2 * between / (m * r);

		if (t > 1)
			e -= left / (m * (m - 1) / 2);
		if (n - t > 1)
			e -= right / (r * (r - 1) / 2);
		double q = m * r / (double)n * e;

		if (q > best) {
			best = q;
			*at = t;
		}
	}
	return best;
}

/* p-value of the best split's Q against permutations of v[0..n). Stops
 * as soon as p can no longer reach alpha: a p above alpha is reported
 * as such, not exactly (nobody sees it) */
static double perm_test(struct work *w, const double *v, size_t n, double q)
{
	const struct ik_cp_opts *o = w->o;
	double total = (double)o->permutations + 1;
	unsigned over = 0;
	size_t t;

	if (!(q > 0))
		return 1; /* all equal, or no split better than none */
	memcpy(w->perm, v, n * sizeof(*v));
	for (unsigned k = 0; k < o->permutations; k++) {
		shuffle(&w->g, w->perm, n);
		/* relative slack: the same split summed in another order
		 * must count as equal, not as smaller */
		if (best_split(w->perm, n, o->min_size, w->a, w->b, &t) >=
		    q * (1 - 1e-12))
			over++;
		if ((1 + over) / total > o->alpha)
			return (1 + over) / total;
	}
	return (1 + over) / total;
}

static void search(struct work *w, const double *x, size_t lo, size_t hi)
{
	size_t n = hi - lo, min = w->o->min_size, t;
	double q, p;

	if (n < 2 * (size_t)min)
		return;
	q = best_split(x + lo, n, min, w->a, w->b, &t);
	p = perm_test(w, x + lo, n, q);
	if (p > w->o->alpha)
		return;
	/* in index order: the left half's change points come first */
	search(w, x, lo, lo + t);
	w->idx[w->nfound] = lo + t;
	w->p[w->nfound++] = p;
	search(w, x, lo + t, hi);
}

static double mean(const double *v, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

static double rel(double before, double after)
{
	if (before != 0)
		return (after - before) / before;
	return after == 0 ? 0 : copysign(INFINITY, after);
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return a < b ? -1 : a > b;
}

/* 95 % percentile interval of the relative change between v[lo..mid)
 * and v[mid..hi), each side resampled with replacement */
static void bootstrap(struct rng *g, const double *x, size_t lo, size_t mid,
		      size_t hi, double *draws, double *ci_lo, double *ci_hi)
{
	size_t nb = mid - lo, na = hi - mid;

	for (size_t k = 0; k < IK_CP_BOOTSTRAP; k++) {
		double sb = 0, sa = 0;

		for (size_t i = 0; i < nb; i++)
			sb += x[lo + rng_below(g, nb)];
		for (size_t i = 0; i < na; i++)
			sa += x[mid + rng_below(g, na)];
		draws[k] = rel(sb / (double)nb, sa / (double)na);
	}
	qsort(draws, IK_CP_BOOTSTRAP, sizeof(*draws), cmp_double);
	*ci_lo = draws[(size_t)(0.025 * (IK_CP_BOOTSTRAP - 1) + 0.5)];
	*ci_hi = draws[(size_t)(0.975 * (IK_CP_BOOTSTRAP - 1) + 0.5)];
}

static bool opts_ok(const struct ik_cp_opts *o)
{
	return isfinite(o->alpha) && o->alpha > 0 && o->alpha < 1 &&
	       o->permutations > 0 &&
	       1 / ((double)o->permutations + 1) <= o->alpha &&
	       isfinite(o->min_change) && o->min_change >= 0 && o->min_size > 0;
}

/* Drop, one at a time, the change point whose adjacent segments differ
 * least while under min_change; merging moves its neighbours' means */
static void merge_small(struct work *w, const double *x, size_t n)
{
	for (;;) {
		size_t worst = w->nfound;
		double least = INFINITY;

		for (size_t k = 0; k < w->nfound; k++) {
			size_t lo = k ? w->idx[k - 1] : 0, mid = w->idx[k];
			size_t hi = k + 1 < w->nfound ? w->idx[k + 1] : n;
			double c = fabs(rel(mean(x + lo, mid - lo),
					    mean(x + mid, hi - mid)));

			if (c < w->o->min_change && c < least) {
				least = c;
				worst = k;
			}
		}
		if (worst == w->nfound)
			return;
		w->nfound--;
		memmove(w->idx + worst, w->idx + worst + 1,
			(w->nfound - worst) * sizeof(*w->idx));
		memmove(w->p + worst, w->p + worst + 1,
			(w->nfound - worst) * sizeof(*w->p));
	}
}

int ik_cp_detect(const double *x, size_t n, const struct ik_cp_opts *o,
		 struct ik_cp *out, size_t max, size_t *nout)
{
	static const struct ik_cp_opts defaults = IK_CP_OPTS_DEFAULT;
	struct work w = {.o = o ? o : &defaults};
	double *draws = NULL;
	size_t cap;
	int ret = 0;

	if ((!x && n) || !nout || (!out && max) || !opts_ok(w.o))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return -EINVAL;
	*nout = 0;
	if (n < 2 * (size_t)w.o->min_size)
		return 0;
	cap = n / w.o->min_size + 1;
	w.a = malloc(n * sizeof(*w.a));
	w.b = malloc(n * sizeof(*w.b));
	w.perm = malloc(n * sizeof(*w.perm));
	w.idx = malloc(cap * sizeof(*w.idx));
	w.p = malloc(cap * sizeof(*w.p));
	draws = malloc(IK_CP_BOOTSTRAP * sizeof(*draws));
	if (!w.a || !w.b || !w.perm || !w.idx || !w.p || !draws) {
		ret = -ENOMEM;
		goto out;
	}
	rng_seed(&w.g, w.o->seed);
	search(&w, x, 0, n);
	merge_small(&w, x, n);
	/* the intervals' own stream, so that they do not depend on how
	 * many permutations the search drew */
	rng_seed(&w.g, w.o->seed ^ 0xB007B007B007B007ULL);
	for (size_t k = 0; k < w.nfound && k < max; k++) {
		size_t lo = k ? w.idx[k - 1] : 0, mid = w.idx[k];
		size_t hi = k + 1 < w.nfound ? w.idx[k + 1] : n;
		struct ik_cp *c = &out[k];

		c->index = mid;
		c->before = mean(x + lo, mid - lo);
		c->after = mean(x + mid, hi - mid);
		c->change = rel(c->before, c->after);
		c->p = w.p[k];
		bootstrap(&w.g, x, lo, mid, hi, draws, &c->ci_lo, &c->ci_hi);
		*nout = k + 1;
	}
out:
	free(draws);
	free(w.p);
	free(w.idx);
	free(w.perm);
	free(w.b);
	free(w.a);
	return ret;
}
