/* SPDX-License-Identifier: MIT */
/*
 * The latency histogram: kernels record into it, reports read it. It
 * lives in a folder of its own, below both, so that kernels/ need not
 * include reports/ (which includes kernels/ for struct ik_result).
 */
#ifndef IK_HIST_H
#define IK_HIST_H

#include <stdbool.h>
#include <stdint.h>

#include "../ik.h"

/* 1000 s: above the 100 s the histogram promises, below any timeout. */
#define IK_HIST_MAX_NS (1000ULL * IK_NS_PER_SEC)

/*
 * Log-linear histogram of ns values (see hist.c): exact below 128 ns,
 * then 128 buckets per power of two, so any percentile is within 1% (in
 * fact 0.4%) of the exact sample at that rank. Values above max_trackable
 * are counted in dropped, never silently lost.
 */
struct ik_hist {
	uint64_t *counts;
	unsigned nbuckets;
	uint64_t max_trackable;
	uint64_t total, dropped, max_dropped;
	uint64_t min, max, sum;
	double sum_sq;
};

/* Fixed memory for values 0..max_ns (128 <= max_ns <= IK_HIST_MAX_NS).
 * 0, -EINVAL or -ENOMEM. */
int ik_hist_init(struct ik_hist *h, uint64_t max_ns);
void ik_hist_free(struct ik_hist *h);
void ik_hist_reset(struct ik_hist *h);
/* O(1). false (and counted as dropped) when v is above the range. */
bool ik_hist_record(struct ik_hist *h, uint64_t v);
/* dst += src; both made with the same max_ns. 0 or -EINVAL. */
int ik_hist_merge(struct ik_hist *dst, const struct ik_hist *src);
/* The value at rank ceil(pct/100 * total), within 1%; 0 when empty. */
uint64_t ik_hist_percentile(const struct ik_hist *h, double pct);
static inline uint64_t ik_hist_total(const struct ik_hist *h)
{
	return h->total;
}
double ik_hist_mean(const struct ik_hist *h);	/* exact */
double ik_hist_stddev(const struct ik_hist *h); /* sample stddev */

/* Walk the non-empty buckets in order. */
struct ik_hist_iter {
	const struct ik_hist *h;
	unsigned i;
	uint64_t lo, width; /* this bucket: [lo, lo + width) ns */
	uint64_t count, cum;
};
void ik_hist_iter_init(struct ik_hist_iter *it, const struct ik_hist *h);
bool ik_hist_iter_next(struct ik_hist_iter *it);

#endif
