/* SPDX-License-Identifier: MIT */
/*
 * Where a ping-pong harness spends its time: two pinned threads bounce
 * one cache line, and each variant adds one ingredient of ipckern's timed
 * loop to the bare bounce (a clock read per trip, the sample store, the
 * payload in the line, indirect calls, the echo check, the deadline test,
 * a stop flag, the abort check in the spin). Variants are interleaved
 * round by round and the median of the rounds is printed, with its ratio
 * to the bare bounce of the same rounds. docs/harness-cost.md holds what
 * it found.
 *
 * usage: ik-harness-cost CPU_A CPU_B [ITERS [ROUNDS]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "ref_common.h"

enum {
	F_TSC = 1 << 0,	     /* rdtsc once per trip, after the reply */
	F_STORE = 1 << 1,    /* the delta stored into a pre-faulted array */
	F_PAYLOAD = 1 << 2,  /* 8 payload bytes in the line, copied out */
	F_INDIRECT = 1 << 3, /* send and recv through function pointers */
	F_CHECK = 1 << 4,    /* the echoed sequence byte compared */
	F_DEADLINE = 1 << 5, /* the clock compared with a deadline */
	F_STOP = 1 << 6,     /* B loads a stop flag on its own line */
	F_ABORT = 1 << 7,    /* every spin step counts and checks abort */
	F_EARLY = 1 << 8,    /* rdtsc right after the send, not the reply */
};

struct line {
	alignas(64) _Atomic uint64_t seq;
	uint64_t data;
};

static struct line ln;
static alignas(64) _Atomic int stop_flag;
static alignas(64) _Atomic int abort_flag;
static uint64_t *samples;
static int cpu[2];
static uint64_t iters;

static inline int wait_for(uint64_t want, unsigned flags)
{
	unsigned n = 0;

	while (atomic_load_explicit(&ln.seq, memory_order_acquire) != want) {
		__builtin_ia32_pause();
		if ((flags & F_ABORT) && ++n >= 64) {
			n = 0;
			if (atomic_load_explicit(&abort_flag,
						 memory_order_relaxed))
				return -1;
		}
	}
	return 0;
}

static inline int hop_send(uint64_t seq, uint64_t v, unsigned flags)
{
	if (flags & F_PAYLOAD)
		ln.data = v;
	atomic_store_explicit(&ln.seq, seq, memory_order_release);
	return 0;
}

static inline int hop_recv(uint64_t seq, uint64_t *v, unsigned flags)
{
	if (wait_for(seq, flags))
		return -1;
	if (flags & F_PAYLOAD)
		*v = ln.data;
	else
		*v = seq;
	return 0;
}

typedef int (*send_fn)(uint64_t, uint64_t, unsigned);
typedef int (*recv_fn)(uint64_t, uint64_t *, unsigned);

static __attribute__((noinline)) int send_ind(uint64_t s, uint64_t v,
					      unsigned f)
{
	return hop_send(s, v, f);
}

static __attribute__((noinline)) int recv_ind(uint64_t s, uint64_t *v,
					      unsigned f)
{
	return hop_recv(s, v, f);
}

static volatile send_fn vsend = send_ind;
static volatile recv_fn vrecv = recv_ind;

static inline uint64_t loop_a(uint64_t n, unsigned flags)
{
	send_fn s = vsend;
	recv_fn r = vrecv;
	uint64_t t0 = ref_rdtsc(), t1, i, v = 0, deadline = UINT64_MAX - 1;

	for (i = 0; i < n; i++) {
		uint64_t out = i & 0xff;

		if (flags & F_INDIRECT)
			s(2 * i + 1, out, flags);
		else
			hop_send(2 * i + 1, out, flags);
		if (flags & F_EARLY) {
			t1 = ref_rdtsc();
			if (flags & F_STORE)
				samples[i] = t1 - t0;
			t0 = t1;
		}
		if (flags & F_INDIRECT)
			r(2 * i + 2, &v, flags);
		else
			hop_recv(2 * i + 2, &v, flags);
		if ((flags & F_TSC) && !(flags & F_EARLY)) {
			t1 = ref_rdtsc();
			if (flags & F_STORE)
				samples[i] = t1 - t0;
			t0 = t1;
			if ((flags & F_DEADLINE) && t1 >= deadline)
				break;
		}
		if ((flags & F_CHECK) && (flags & F_PAYLOAD) &&
		    (v & 0xff) != out)
			return UINT64_MAX;
	}
	return t0;
}

static inline void loop_b(uint64_t n, unsigned flags)
{
	uint64_t i, v;

	for (i = 0; i < n; i++) {
		if (hop_recv(2 * i + 1, &v, flags))
			return;
		if ((flags & F_STOP) &&
		    atomic_load_explicit(&stop_flag, memory_order_acquire))
			return;
		hop_send(2 * i + 2, v, flags);
	}
}

struct variant {
	const char *name;
	unsigned flags;
	uint64_t (*a)(uint64_t);
	void (*b)(uint64_t);
};

/* one instance per variant, each with its flags as a constant */
static uint64_t la0(uint64_t n)
{
	return loop_a(n, 0);
}
static void lb0(uint64_t n)
{
	loop_b(n, 0);
}
#define A1 (F_TSC)
#define A2 (F_TSC | F_STORE)
#define A3 (A2 | F_PAYLOAD)
#define A4 (A3 | F_CHECK)
#define A5 (A4 | F_DEADLINE)
#define A6 (A5 | F_STOP)
#define A7 (A6 | F_ABORT)
#define A8 (A7 | F_INDIRECT)
#define A9 (A4 | F_STOP | F_EARLY)
static uint64_t la1(uint64_t n)
{
	return loop_a(n, A1);
}
static void lb1(uint64_t n)
{
	loop_b(n, A1);
}
static uint64_t la2(uint64_t n)
{
	return loop_a(n, A2);
}
static void lb2(uint64_t n)
{
	loop_b(n, A2);
}
static uint64_t la3(uint64_t n)
{
	return loop_a(n, A3);
}
static void lb3(uint64_t n)
{
	loop_b(n, A3);
}
static uint64_t la4(uint64_t n)
{
	return loop_a(n, A4);
}
static void lb4(uint64_t n)
{
	loop_b(n, A4);
}
static uint64_t la5(uint64_t n)
{
	return loop_a(n, A5);
}
static void lb5(uint64_t n)
{
	loop_b(n, A5);
}
static uint64_t la6(uint64_t n)
{
	return loop_a(n, A6);
}
static void lb6(uint64_t n)
{
	loop_b(n, A6);
}
static uint64_t la7(uint64_t n)
{
	return loop_a(n, A7);
}
static void lb7(uint64_t n)
{
	loop_b(n, A7);
}
static uint64_t la8(uint64_t n)
{
	return loop_a(n, A8);
}
static void lb8(uint64_t n)
{
	loop_b(n, A8);
}
static uint64_t la9(uint64_t n)
{
	return loop_a(n, A9);
}
static void lb9(uint64_t n)
{
	loop_b(n, A9);
}

static const struct variant variants[] = {
	{"bare bounce (one word)", 0, la0, lb0},
	{"+ rdtsc per trip", A1, la1, lb1},
	{"+ sample store", A2, la2, lb2},
	{"+ 8 B payload in the line", A3, la3, lb3},
	{"+ echo check", A4, la4, lb4},
	{"+ deadline test", A5, la5, lb5},
	{"+ stop flag read by B", A6, la6, lb6},
	{"+ abort check in the spin", A7, la7, lb7},
	{"+ indirect send/recv", A8, la8, lb8},
	{"echo check + stop, clock after send", A9, la9, lb9},
};
#define NV (sizeof(variants) / sizeof(variants[0]))

static const struct variant *cur;

static int cmp_u(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	unsigned rounds = 15, r, v;
	double(*mean)[NV], (*p50)[NV], tsc_ns, t0, c0;

	if (ref_args(argc, argv, cpu, &iters, &rounds))
		return 2;
	samples = mmap(NULL, iters * 8, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	mean = calloc(rounds, sizeof(*mean));
	p50 = calloc(rounds, sizeof(*p50));
	if (samples == MAP_FAILED || !mean || !p50)
		return 3;
	ref_pin(cpu[0]);
	/* the TSC's rate against the raw monotonic clock, over 50 ms */
	t0 = ref_now_ns();
	c0 = (double)ref_rdtsc();
	while (ref_now_ns() - t0 < 5e7)
		;
	tsc_ns = (ref_now_ns() - t0) / ((double)ref_rdtsc() - c0);
	ref_b_start(cpu[1]);
	for (r = 0; r < rounds; r++)
		for (v = 0; v < NV; v++) {
			double s;

			cur = &variants[v];
			atomic_store(&ln.seq, 0);
			memset(samples, 0, iters * 8);
			ref_round_start(cur->b, iters);
			s = ref_now_ns();
			cur->a(iters);
			mean[r][v] = (ref_now_ns() - s) / (double)iters;
			ref_round_end();
			p50[r][v] = 0;
			if (cur->flags & F_STORE) {
				qsort(samples, iters, 8, cmp_u);
				p50[r][v] = (double)samples[iters / 2] * tsc_ns;
			}
		}
	ref_b_stop();
	printf("CPUs %d,%d, %llu round trips x %u interleaved rounds; medians "
	       "of the rounds\n",
	       cpu[0], cpu[1], (unsigned long long)iters, rounds);
	printf("%-40s %10s %8s %10s %8s\n", "variant", "mean ns", "x bare",
	       "p50 ns", "x bare");
	for (v = 0; v < NV; v++) {
		double m[rounds], q[rounds], rm[rounds], rq[rounds];

		for (r = 0; r < rounds; r++) {
			m[r] = mean[r][v];
			q[r] = p50[r][v];
			rm[r] = mean[r][v] / mean[r][0];
			rq[r] = p50[r][v] / mean[r][0];
		}
		if (variants[v].flags & F_STORE)
			printf("%-40s %10.1f %8.2f %10.1f %8.2f\n",
			       variants[v].name, ref_median(m, rounds),
			       ref_median(rm, rounds), ref_median(q, rounds),
			       ref_median(rq, rounds));
		else
			printf("%-40s %10.1f %8.2f %10s %8s\n",
			       variants[v].name, ref_median(m, rounds),
			       ref_median(rm, rounds), "-", "-");
	}
	return 0;
}
