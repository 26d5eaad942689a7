/* SPDX-License-Identifier: MIT */
/*
 * Change points in a series of runs: E-divisive means (Matteson & James,
 * "A Nonparametric Approach for Multiple Change Point Analysis of
 * Multivariate Data", JASA 2014; energy statistic with alpha = 1), the
 * method MongoDB's performance CI and Apache Otava use, because a single
 * baseline and a fixed threshold cannot tell a persistent shift from a
 * noisy run on a shared machine. Significance comes from a permutation
 * test with a seeded PRNG, so the same series and seed give the same
 * answer everywhere. before/after are segment MEANS (the statistic
 * compares distributions; the mean is what the size is reported in).
 */
#ifndef IK_CHANGEPOINT_H
#define IK_CHANGEPOINT_H

#include <stddef.h>
#include <stdint.h>

/* clang-format off: the contract with the history gate, kept as agreed */
struct ik_cp_opts {
	double alpha; /* significance of the permutation test; default 0.01 */
	unsigned permutations; /* permutations per candidate; default 199 */
	double min_change; /* minimum |relative change| of the mean to report;
			      default 0.02 */
	unsigned min_size; /* minimum points per segment; default 3 */
	uint64_t seed;	   /* permutation RNG seed (reproducible); default 1 */
};
#define IK_CP_OPTS_DEFAULT                                                     \
	{                                                                      \
		0.01, 199, 0.02, 3, 1                                          \
	}

struct ik_cp {
	size_t index;	      /* first point of the new segment */
	double before, after; /* segment means */
	double change;	      /* (after - before) / before */
	double ci_lo, ci_hi;  /* 95 % bootstrap CI of change */
	double p;	      /* permutation p-value */
};
/* clang-format on */

/* bootstrap resamples behind ci_lo/ci_hi */
#define IK_CP_BOOTSTRAP 1000

/*
 * E-divisive means (Matteson & James 2014, alpha=1 energy statistic) with a
 * permutation test, recursive: every significant change point of x[0..n), in
 * index order, at most max; *nout set. 0 or -errno (-EINVAL bad opts, -ENOMEM).
 *
 * o NULL means IK_CP_OPTS_DEFAULT. Bad opts: alpha outside (0, 1);
 * permutations too few to ever reach alpha (1/(permutations+1) > alpha);
 * min_change negative or not finite; min_size 0; a non-finite x[i]; x,
 * nout NULL, or out NULL with max > 0.
 *
 * How: the segment's best split (largest Q, both sides >= min_size) is
 * tested against the same statistic on permutations of the segment,
 * p = (1 + #{Q_perm >= Q}) / (permutations + 1); a split with p <= alpha
 * is kept and both halves are searched again (recursive bisection). Then
 * the change point whose adjacent segments' means differ by less than
 * min_change (relative) is dropped, its segments merged, and so on
 * until every one left is at least min_change. ci_lo/ci_hi come from
 * IK_CP_BOOTSTRAP resamples of the two adjacent segments. A series
 * shorter than 2 * min_size has no change point (0, *nout = 0). Cost
 * O(n^2) per segment and permutation: meant for n up to a few thousand.
 */
int ik_cp_detect(const double *x, size_t n, const struct ik_cp_opts *o,
		 struct ik_cp *out, size_t max, size_t *nout);

#endif
