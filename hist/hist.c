/* SPDX-License-Identifier: MIT */
/*
 * Log-linear latency histogram, HdrHistogram-style. Values below 2^7 ns
 * have a bucket each; above, every power of two is split into 128 equal
 * buckets, so a bucket is at most 1/128 of its value wide and a
 * percentile read at the bucket's middle is within 0.4% of the truth
 * (stated as 1%). Fixed memory, O(1) record via clz, mergeable.
 *
 * Index of v >= 128 with leading bit e: (e - 6) * 128 + (v >> (e - 7)) -
 * 128; for e = 7 that is v itself, so the linear and the log parts join.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

#define SUB_BITS 7
#define SUB	 (1u << SUB_BITS)

static unsigned bucket_of(uint64_t v)
{
	unsigned e;

	if (v < SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return (e - SUB_BITS + 1) * SUB + (unsigned)(v >> (e - SUB_BITS)) - SUB;
}

/* Lowest value in bucket i, and the bucket's width. */
static void bucket_range(unsigned i, uint64_t *lo, uint64_t *width)
{
	unsigned e;

	if (i < 2 * SUB) {
		*lo = i;
		*width = 1;
		return;
	}
	e = i / SUB + SUB_BITS - 1;
	*width = 1ULL << (e - SUB_BITS);
	*lo = ((uint64_t)(i % SUB) + SUB) << (e - SUB_BITS);
}

int ik_hist_init(struct ik_hist *h, uint64_t max_ns)
{
	memset(h, 0, sizeof(*h));
	if (max_ns < SUB || max_ns > IK_HIST_MAX_NS)
		return -EINVAL;
	h->max_trackable = max_ns;
	h->nbuckets = bucket_of(max_ns) + 1;
	h->counts = calloc(h->nbuckets, sizeof(*h->counts));
	if (!h->counts)
		return -ENOMEM;
	h->min = UINT64_MAX;
	return 0;
}

void ik_hist_free(struct ik_hist *h)
{
	free(h->counts);
	memset(h, 0, sizeof(*h));
}

void ik_hist_reset(struct ik_hist *h)
{
	memset(h->counts, 0, h->nbuckets * sizeof(*h->counts));
	h->total = h->dropped = h->sum = 0;
	h->sum_sq = 0;
	h->min = UINT64_MAX;
	h->max = 0;
}

bool ik_hist_record(struct ik_hist *h, uint64_t v)
{
	if (ik_unlikely(v > h->max_trackable)) {
		h->dropped++;
		if (v > h->max_dropped)
			h->max_dropped = v;
		return false;
	}
	h->counts[bucket_of(v)]++;
	h->total++;
	h->sum += v;
	h->sum_sq += (double)v * (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	return true;
}

int ik_hist_merge(struct ik_hist *dst, const struct ik_hist *src)
{
	unsigned i;

	if (dst->nbuckets != src->nbuckets)
		return -EINVAL;
	for (i = 0; i < src->nbuckets; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->dropped += src->dropped;
	dst->sum += src->sum;
	dst->sum_sq += src->sum_sq;
	if (src->total && src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	if (src->max_dropped > dst->max_dropped)
		dst->max_dropped = src->max_dropped;
	return 0;
}

uint64_t ik_hist_percentile(const struct ik_hist *h, double pct)
{
	uint64_t rank, seen = 0, lo, width, mid;
	unsigned i;

	if (!h->total)
		return 0;
	/* the value at 1-based rank ceil(p * n) of the sorted samples */
	rank = (uint64_t)ceil(pct / 100.0 * (double)h->total);
	if (rank < 1)
		rank = 1;
	if (rank > h->total)
		rank = h->total;
	for (i = 0; i < h->nbuckets; i++) {
		seen += h->counts[i];
		if (seen >= rank)
			break;
	}
	bucket_range(i, &lo, &width);
	mid = lo + width / 2;
	/* the exact extremes beat a bucket's middle */
	if (mid < h->min)
		mid = h->min;
	if (mid > h->max)
		mid = h->max;
	return mid;
}

double ik_hist_mean(const struct ik_hist *h)
{
	return h->total ? (double)h->sum / (double)h->total : 0.0;
}

double ik_hist_stddev(const struct ik_hist *h)
{
	double m, var;

	if (h->total < 2)
		return 0.0;
	m = ik_hist_mean(h);
	var = (h->sum_sq - (double)h->total * m * m) / (double)(h->total - 1);
	return var > 0 ? sqrt(var) : 0.0;
}

void ik_hist_iter_init(struct ik_hist_iter *it, const struct ik_hist *h)
{
	it->h = h;
	it->i = 0;
	it->cum = 0;
}

bool ik_hist_iter_next(struct ik_hist_iter *it)
{
	const struct ik_hist *h = it->h;

	while (it->i < h->nbuckets && !h->counts[it->i])
		it->i++;
	if (it->i >= h->nbuckets)
		return false;
	bucket_range(it->i, &it->lo, &it->width);
	it->count = h->counts[it->i];
	it->cum += it->count;
	it->i++;
	return true;
}
