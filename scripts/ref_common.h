/* SPDX-License-Identifier: MIT */
/*
 * What the reference probes (scripts/ref_*.c) and the cost probes
 * (harness_cost.c, spsc_cost.c) share: pinning, the clocks, and for the
 * cost probes the interleaved rounds: side B runs each round's loop on
 * its CPU between two barrier waits while side A times its own. Header
 * only, so a probe still builds alone (gcc -O2 scripts/x.c -lpthread).
 * Every failure here is the probe's end: exit 3, as ipckern's runtime
 * failures.
 */
#ifndef IK_REF_COMMON_H
#define IK_REF_COMMON_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline void ref_die(const char *what)
{
	perror(what);
	exit(3);
}

/* Run the calling thread on CPU c only. */
static inline void ref_pin(int c)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(c, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		ref_die("sched_setaffinity");
}

/* CLOCK_MONOTONIC_RAW: no NTP slewing inside a timed loop. */
static inline double ref_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline double ref_now(void) /* seconds */
{
	return ref_now_ns() / 1e9;
}

static inline void ref_relax(void) /* a spin-wait's pause */
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t ref_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}
#endif

/* The median of x[n], sorting x. */
static inline int ref_cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline double ref_median(double *x, unsigned n)
{
	qsort(x, n, sizeof(*x), ref_cmp_d);
	return x[n / 2];
}

/*
 * The cost probes' command line: CPU_A CPU_B [ITERS [ROUNDS]]. 0, or 2
 * (usage printed) for the caller to return.
 */
static inline int ref_args(int argc, char **argv, int cpu[2], uint64_t *iters,
			   unsigned *rounds)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s CPU_A CPU_B [ITERS [ROUNDS]]\n",
			argv[0]);
		return 2;
	}
	cpu[0] = atoi(argv[1]);
	cpu[1] = atoi(argv[2]);
	*iters = argc > 3 ? strtoull(argv[3], NULL, 10) : 200000;
	*rounds = argc > 4 ? (unsigned)atoi(argv[4]) : *rounds;
	return *iters && *rounds ? 0 : 2;
}

/* Side B of the interleaved rounds: one round is b(iters). */
static struct {
	pthread_barrier_t bar;
	pthread_t th;
	int cpu, quit;
	void (*b)(uint64_t n);
	uint64_t iters;
} ref_b;

static inline void *ref_b_main(void *arg)
{
	(void)arg;
	ref_pin(ref_b.cpu);
	for (;;) {
		pthread_barrier_wait(&ref_b.bar);
		if (ref_b.quit)
			return NULL;
		ref_b.b(ref_b.iters);
		pthread_barrier_wait(&ref_b.bar);
	}
}

/* Start side B on cpu, parked until the first round. */
static inline void ref_b_start(int cpu)
{
	ref_b.cpu = cpu;
	pthread_barrier_init(&ref_b.bar, NULL, 2);
	if (pthread_create(&ref_b.th, NULL, ref_b_main, NULL))
		ref_die("pthread_create");
}

/* A round: B starts b(iters) as this returns; ref_round_end waits for it */
static inline void ref_round_start(void (*b)(uint64_t n), uint64_t iters)
{
	ref_b.b = b;
	ref_b.iters = iters;
	pthread_barrier_wait(&ref_b.bar);
}

static inline void ref_round_end(void)
{
	pthread_barrier_wait(&ref_b.bar);
}

static inline void ref_b_stop(void)
{
	ref_b.quit = 1;
	pthread_barrier_wait(&ref_b.bar);
	pthread_join(ref_b.th, NULL);
}

#endif
