/* SPDX-License-Identifier: MIT */
/*
 * line: the physical floor. Both peers bounce one cache line holding a
 * turn counter and, right behind it, the payload, with no kernel in the
 * path. Every other method's median is read as a multiple of this one.
 * The line alternates between the peers, so it is a ping-pong method only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc.h"

/* Page-aligned by ik_shm_alloc; the payload shares seq's line. */
struct line_state {
	/* seq is even when it is side A's turn to write, odd for side B */
	_Atomic uint64_t seq;
	unsigned char data[];
};

static size_t line_len(const struct ik_channel *ch)
{
	return (sizeof(struct line_state) + ch->p.size + IK_CACHELINE - 1) /
	       IK_CACHELINE * IK_CACHELINE;
}

static int line_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		     size_t len);
static int line_put(struct ik_channel *ch, enum ik_side side, const void *buf,
		    size_t len);
static int line_take(struct ik_channel *ch, enum ik_side side, void *buf,
		     size_t len);

static int line_setup(struct ik_channel *ch)
{
	ch->priv = ik_channel_shm(ch, line_len(ch));
	if (!ch->priv)
		return -ENOMEM;
	snprintf(ch->granted, sizeof(ch->granted), "%zu cache line(s)",
		 line_len(ch) / IK_CACHELINE);
	if (ch->p.stream) {
		ch->send = line_put;
		ch->recv = line_take;
	}
	return 0;
}

/* Wait until the turn is side's; returns the seq seen or a -errno. */
static int64_t wait_turn(struct ik_channel *ch, struct line_state *st,
			 enum ik_side side)
{
	unsigned n = 0;
	uint64_t s;

	/* acquire pairs with the peer's release below: its bytes are in */
	while (((s = atomic_load_explicit(&st->seq, memory_order_acquire)) &
		1) != (uint64_t)side)
		if (ik_spin_step(ch, &n))
			return -ECANCELED;
	return (int64_t)s;
}

static int line_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		     size_t len)
{
	struct line_state *st = ch->priv;
	int64_t s = wait_turn(ch, st, side);

	if (s < 0)
		return (int)s;
	ik_copy(st->data, buf, len);
	atomic_store_explicit(&st->seq, (uint64_t)s + 1, memory_order_release);
	return 0;
}

static int line_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		     size_t len)
{
	struct line_state *st = ch->priv;
	int64_t s = wait_turn(ch, st, side);

	if (s < 0)
		return (int)s;
	ik_copy(buf, st->data, len);
	return 0;
}

/* Stream: A waits for an even seq (empty), fills, makes it odd. */
static int line_put(struct ik_channel *ch, enum ik_side side, const void *buf,
		    size_t len)
{
	(void)side;
	return line_send(ch, IK_SIDE_A, buf, len);
}

/* Stream: B waits for an odd seq (full), empties, makes it even. */
static int line_take(struct ik_channel *ch, enum ik_side side, void *buf,
		     size_t len)
{
	struct line_state *st = ch->priv;
	int64_t s = wait_turn(ch, st, IK_SIDE_B);

	(void)side;
	if (s < 0)
		return (int)s;
	ik_copy(buf, st->data, len);
	atomic_store_explicit(&st->seq, (uint64_t)s + 1, memory_order_release);
	return 0;
}

static void line_teardown(struct ik_channel *ch)
{
	ik_shm_free(ch->priv, line_len(ch));
}

const struct ik_transport_ops ik_line_ops = {
	.name = "line",
	.summary = "one shared cache line bounced by busy-polling: the floor",
	.doc = "one shared cache line, busy-polled: the floor",
	.flags = IK_T_SPIN,
	.setup = line_setup,
	.send = line_send,
	.recv = line_recv,
	.teardown = line_teardown,
};

/*
 * line-delay: line with a busy delay of about $IPCKERN_DELAY_NS before
 * each of B's answers: a known, adjustable slowdown for testing the CI
 * gate (scripts/bench-gate); never part of --method all. The delay is a
 * loop count calibrated at setup, before any fork, so both peers see it
 * and no clock is read in the loop; 0 is plain line.
 */
static uint64_t delay_iters;

static void spin_iters(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("" ::: "memory");
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int line_delay_send(struct ik_channel *ch, enum ik_side side,
			   const void *buf, size_t len)
{
	if (side == IK_SIDE_B)
		spin_iters(delay_iters);
	return line_send(ch, side, buf, len);
}

static int line_delay_setup(struct ik_channel *ch)
{
	const char *env = getenv("IPCKERN_DELAY_NS");
	uint64_t ns = 0, best = UINT64_MAX;
	char *end;
	int ret, k;

	if (env && *env) {
		ns = strtoull(env, &end, 10);
		if (*end || ns > 1000000000ull)
			return -EINVAL;
	}
	/* the fastest of three 2^20-iteration runs: loops per ns */
	for (k = 0; k < 3 && ns; k++) {
		uint64_t t0 = now_ns(), t;

		spin_iters(1u << 20);
		t = now_ns() - t0;
		best = t && t < best ? t : best;
	}
	delay_iters =
		ns ? (uint64_t)((double)ns * (1u << 20) / (double)best) : 0;
	ret = line_setup(ch);
	if (!ret && !ch->p.stream && delay_iters)
		ch->send = line_delay_send;
	return ret;
}

const struct ik_transport_ops ik_line_delay_ops = {
	.name = "line-delay",
	.summary = "test only: line plus a busy $IPCKERN_DELAY_NS before "
		   "each answer",
	.flags = IK_T_SPIN | IK_T_TEST,
	.setup = line_delay_setup,
	.send = line_send,
	.recv = line_recv,
	.teardown = line_teardown,
};
