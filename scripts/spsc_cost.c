/* SPDX-License-Identifier: MIT */
/*
 * Where spsc's round trip goes beyond a bare bounce: two pinned threads
 * ping-pong through two single-producer rings shaped like ipc/spsc.c
 * (slot = [seq u64][payload], one ring per direction, consumer tail on a
 * line of its own), and each variant takes one ingredient away or changes
 * it. Whole loops are timed (no per-trip clock); variants are interleaved
 * round by round; medians of the rounds and of per-round ratios to the
 * bare one-word bounce are printed.
 *
 * docs/harness-cost.md ("spsc") holds what it found.
 *
 * x86 only. build: gcc -O2 -o /tmp/spsc-cost scripts/spsc_cost.c -lpthread
 * usage: spsc-cost CPU_A CPU_B [ITERS [ROUNDS]]
 */
#define _GNU_SOURCE
#include <immintrin.h>
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
	V_WORD = 1 << 0,     /* the bare bounce: one word, nothing else */
	V_LINE = 1 << 1,     /* one line both ways: seq + 8 B payload */
	V_TAIL = 1 << 2,     /* consumer stores its tail every message */
	V_ONESTORE = 1 << 3, /* seq and payload in one 16-byte store */
	V_SKEW = 1 << 4,     /* the two rings 2 KiB apart mod 4 KiB */
	V_BATCH = 1 << 5,    /* tail stored every slots/2 messages */
	V_SHARE = 1 << 6,    /* both directions in one ring, alternate slots */
	V_PRE = 1 << 7,	     /* consumer touches its next slot after take */
	V_PAIR = 1 << 8,     /* slot t of both rings in one line (halves) */
};

struct ring {
	alignas(64) uint64_t head, tail_seen;
	alignas(64) _Atomic uint64_t tail;
	unsigned char *sl;
	alignas(64) unsigned char slots[];
};

struct variant {
	const char *name;
	unsigned flags, slots, stride;
	void (*a)(uint64_t);
	void (*b)(uint64_t);
};

static struct ring *ring[2]; /* ring[s] is read by side s */
static alignas(64) _Atomic uint64_t word;
static int cpu[2];
static uint64_t iters;

#define SLOT(r, pos, slots, stride)                                            \
	((_Atomic uint64_t *)((r)->sl + ((pos) & ((slots)-1)) * (stride)))

static inline void put(struct ring *r, uint64_t v, unsigned f, unsigned slots,
		       unsigned stride)
{
	uint64_t h = r->head;
	_Atomic uint64_t *s;

	if ((f & (V_TAIL | V_BATCH)) && h - r->tail_seen >= slots)
		while (h - (r->tail_seen = atomic_load_explicit(
				    &r->tail, memory_order_acquire)) >=
		       slots)
			__builtin_ia32_pause();
	s = SLOT(r, h, slots, stride);
	if (f & V_ONESTORE) {
		__m128i x = _mm_set_epi64x((long long)v, (long long)(h + 1));

		atomic_signal_fence(memory_order_release);
		_mm_store_si128((__m128i *)s, x);
	} else {
		((uint64_t *)s)[1] = v;
		atomic_store_explicit(s, h + 1, memory_order_release);
	}
	r->head = h + 1;
}

static inline uint64_t take(struct ring *r, uint64_t t, unsigned f,
			    unsigned slots, unsigned stride)
{
	_Atomic uint64_t *s = SLOT(r, t, slots, stride);
	uint64_t v;

	while (atomic_load_explicit(s, memory_order_acquire) != t + 1)
		__builtin_ia32_pause();
	v = ((uint64_t *)s)[1];
	if ((f & V_TAIL) || ((f & V_BATCH) && ((t + 1) & (slots / 2 - 1)) == 0))
		atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	if (f & V_PRE)
		(void)*(volatile uint64_t *)SLOT(r, t + 1, slots, stride);
	return v;
}

static inline void loop_a(uint64_t n, unsigned f, unsigned slots,
			  unsigned stride)
{
	uint64_t i, v = 0;

	for (i = 0; i < n; i++) {
		if (f & V_WORD) {
			atomic_store_explicit(&word, 2 * i + 1,
					      memory_order_release);
			while (atomic_load_explicit(&word,
						    memory_order_acquire) !=
			       2 * i + 2)
				__builtin_ia32_pause();
			continue;
		}
		if (f & V_LINE) {
			struct ring *r = ring[0];
			_Atomic uint64_t *s = (_Atomic uint64_t *)r->slots;

			((uint64_t *)s)[1] = i;
			atomic_store_explicit(s, 2 * i + 1,
					      memory_order_release);
			while (atomic_load_explicit(s, memory_order_acquire) !=
			       2 * i + 2)
				__builtin_ia32_pause();
			v += ((uint64_t *)s)[1];
			continue;
		}
		put(ring[1], i, f, slots, stride);
		v += take(ring[0], i, f, slots, stride);
	}
	if (v == 42)
		puts("");
}

static inline void loop_b(uint64_t n, unsigned f, unsigned slots,
			  unsigned stride)
{
	uint64_t i, v;

	for (i = 0; i < n; i++) {
		if (f & V_WORD) {
			while (atomic_load_explicit(&word,
						    memory_order_acquire) !=
			       2 * i + 1)
				__builtin_ia32_pause();
			atomic_store_explicit(&word, 2 * i + 2,
					      memory_order_release);
			continue;
		}
		if (f & V_LINE) {
			struct ring *r = ring[0];
			_Atomic uint64_t *s = (_Atomic uint64_t *)r->slots;

			while (atomic_load_explicit(s, memory_order_acquire) !=
			       2 * i + 1)
				__builtin_ia32_pause();
			v = ((uint64_t *)s)[1];
			((uint64_t *)s)[1] = v;
			atomic_store_explicit(s, 2 * i + 2,
					      memory_order_release);
			continue;
		}
		v = take(ring[1], i, f, slots, stride);
		put(ring[0], v, f, slots, stride);
	}
}

#define VAR(id, name, f, slots, stride)                                        \
	static void a_##id(uint64_t n)                                         \
	{                                                                      \
		loop_a(n, f, slots, stride);                                   \
	}                                                                      \
	static void b_##id(uint64_t n)                                         \
	{                                                                      \
		loop_b(n, f, slots, stride);                                   \
	}
#define LIST(id, name, f, slots, stride)                                       \
	{name, f, slots, stride, a_##id, b_##id},

#define VARIANTS(X)                                                            \
	X(0, "bare bounce (one word)", V_WORD, 1, 64)                          \
	X(1, "one line both ways, seq + 8 B", V_LINE, 1, 64)                   \
	X(2, "spsc shape: 64 slots, tail per msg", V_TAIL, 64, 64)             \
	X(3, "  no tail store", 0, 64, 64)                                     \
	X(4, "  tail every 32 msgs", V_BATCH, 64, 64)                          \
	X(5, "  2 slots, tail per msg", V_TAIL, 2, 64)                         \
	X(6, "  1 slot, no tail", 0, 1, 64)                                    \
	X(7, "  stride 128", V_TAIL, 64, 128)                                  \
	X(8, "  seq+payload one 16 B store", V_TAIL | V_ONESTORE, 64, 64)      \
	X(9, "  rings 2 KiB apart mod 4 KiB", V_TAIL | V_SKEW, 64, 64)         \
	X(10, "  1 slot, one store, no tail", V_ONESTORE, 1, 64)               \
	X(11, "  64 slots, no tail, one store", V_ONESTORE, 64, 64)            \
	X(12, "  consumer touches next slot", V_TAIL | V_PRE, 64, 64)          \
	X(13, "  1 slot, stride 128, tail polled", V_TAIL, 1, 128)             \
	X(14, "  2 slots, stride 128", V_TAIL, 2, 128)                         \
	X(15, "  both rings' slot t in one line", V_TAIL | V_PAIR, 64, 64)     \
	X(16, "  paired, stride 128", V_TAIL | V_PAIR, 64, 128)                \
	X(17, "  paired, 2 slots", V_TAIL | V_PAIR, 2, 64)                     \
	X(18, "  paired, 1 slot, no tail", V_PAIR, 1, 64)                      \
	X(19, "  stride 256", V_TAIL, 64, 256)

VARIANTS(VAR)
static const struct variant variants[] = {VARIANTS(LIST)};
#define NV (sizeof(variants) / sizeof(variants[0]))

static const struct variant *cur;

int main(int argc, char **argv)
{
	unsigned rounds = 11, r, v;
	size_t len = 2 * 4096 + 64 * 256 + 4096;
	unsigned char *mem[2];
	double(*mean)[NV];

	if (ref_args(argc, argv, cpu, &iters, &rounds))
		return 2;
	for (int s = 0; s < 2; s++) {
		mem[s] = mmap(NULL, len, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (mem[s] == MAP_FAILED)
			return 3;
	}
	mean = calloc(rounds, sizeof(*mean));
	if (!mean)
		return 3;
	ref_pin(cpu[0]);
	ref_b_start(cpu[1]);
	for (r = 0; r < rounds; r++)
		for (v = 0; v < NV; v++) {
			double t0;

			cur = &variants[v];
			ring[0] = (struct ring *)mem[0];
			ring[1] = (struct ring *)(mem[1] + (cur->flags & V_SKEW
								    ? 2048
								    : 0));
			memset(mem[0], 0, len);
			memset(mem[1], 0, len);
			ring[0]->sl = ring[0]->slots;
			ring[1]->sl = ring[1]->slots;
			if (cur->flags & V_PAIR)
				ring[1]->sl = ring[0]->slots + 32;
			ref_round_start(cur->b, iters);
			t0 = ref_now_ns();
			cur->a(iters);
			mean[r][v] = (ref_now_ns() - t0) / (double)iters;
			ref_round_end();
		}
	ref_b_stop();
	printf("CPUs %d,%d, %llu round trips x %u interleaved rounds; medians "
	       "of the rounds\n",
	       cpu[0], cpu[1], (unsigned long long)iters, rounds);
	printf("%-40s %10s %8s\n", "variant", "mean ns", "x bare");
	for (v = 0; v < NV; v++) {
		double m[rounds], rm[rounds];

		for (r = 0; r < rounds; r++) {
			m[r] = mean[r][v];
			rm[r] = mean[r][v] / mean[r][0];
		}
		printf("%-40s %10.1f %8.2f\n", variants[v].name,
		       ref_median(m, rounds), ref_median(rm, rounds));
	}
	return 0;
}
