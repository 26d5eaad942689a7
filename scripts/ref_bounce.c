/* SPDX-License-Identifier: MIT */
/*
 * The bare reference for scripts/bench-pingpong: two threads pinned to
 * CPUs A and B bounce one 64-byte-aligned word, A waiting for odd values
 * and B for even ones. No per-iteration clock: the whole loop is timed
 * once, so this is the floor any harness is measured against.
 *
 * usage: ik-ref-bounce A B ITERS   ->  prints mean ns per round trip
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ref_common.h"

static alignas(64) _Atomic uint64_t word;
static uint64_t iters;
static int cpu[2];

static void *side_b(void *arg)
{
	uint64_t i;

	(void)arg;
	ref_pin(cpu[1]);
	for (i = 0; i < iters; i++) {
		while (atomic_load_explicit(&word, memory_order_acquire) !=
		       2 * i + 1)
			ref_relax();
		atomic_store_explicit(&word, 2 * i + 2, memory_order_release);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t th;
	uint64_t i;
	double ns;

	if (argc != 4) {
		fprintf(stderr, "usage: %s CPU_A CPU_B ITERS\n", argv[0]);
		return 2;
	}
	cpu[0] = atoi(argv[1]);
	cpu[1] = atoi(argv[2]);
	iters = strtoull(argv[3], NULL, 10);
	ref_pin(cpu[0]);
	pthread_create(&th, NULL, side_b, NULL);
	/* the first 1/10 warms up, untimed */
	for (i = 0; i < iters; i++) {
		if (i == iters / 10)
			clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
		atomic_store_explicit(&word, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(&word, memory_order_acquire) !=
		       2 * i + 2)
			ref_relax();
	}
	clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
	pthread_join(th, NULL);
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	     (double)(t1.tv_nsec - t0.tv_nsec);
	printf("%.2f\n", ns / (double)(iters - iters / 10));
	return 0;
}
