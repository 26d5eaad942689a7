/* SPDX-License-Identifier: MIT */
/*
 * floor: the harness's own cost. One 64-bit word carries both the turn
 * (bit 8 up: even for side A, odd for side B) and a one-byte payload (bits
 * 0-7), so a hop is a single store the peer sees with a single load: the
 * shape of a bare two-thread bounce. Run through ipckern's ping-pong
 * loop (clock read and sample store per trip, indirect send/recv, echo
 * check) at size 1, its round trip is what any method costs at least
 * here, harness included; its untimed warm-up mean is the bare hop.
 * Not in the registry: the CLI runs it once per pinned pair, before the
 * methods, and reports it beside line.
 */
#include <stdio.h>

#include "ipc.h"

struct floor_word {
	alignas(IK_CACHELINE) _Atomic uint64_t w; /* turn << 8 | byte */
	unsigned char pad[IK_CACHELINE - sizeof(uint64_t)];
};

static int floor_setup(struct ik_channel *ch)
{
	if (ch->p.size != 1 || ch->p.stream)
		return -EINVAL; /* one byte, ping-pong only */
	ch->priv = ik_channel_shm(ch, sizeof(struct floor_word));
	if (!ch->priv)
		return -ENOMEM;
	snprintf(ch->granted, sizeof(ch->granted), "one word");
	return 0;
}

/* Wait until the turn is side's; returns the word seen. */
static inline int wait_turn(struct ik_channel *ch, struct floor_word *f,
			    enum ik_side side, uint64_t *w)
{
	unsigned n = 0;

	/* acquire pairs with the peer's release: its byte is in the word */
	while (((*w = atomic_load_explicit(&f->w, memory_order_acquire)) >> 8 &
		1) != (uint64_t)side)
		if (ik_spin_step(ch, &n))
			return -ECANCELED;
	return 0;
}

static int floor_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		      size_t len)
{
	struct floor_word *f = ch->priv;
	uint64_t w;
	int ret = wait_turn(ch, f, side, &w);

	(void)len;
	if (ret)
		return ret;
	atomic_store_explicit(&f->w,
			      ((w >> 8) + 1) << 8 | *(const unsigned char *)buf,
			      memory_order_release);
	return 0;
}

static int floor_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		      size_t len)
{
	struct floor_word *f = ch->priv;
	uint64_t w;
	int ret = wait_turn(ch, f, side, &w);

	(void)len;
	if (ret)
		return ret;
	*(unsigned char *)buf = (unsigned char)w;
	return 0;
}

static void floor_teardown(struct ik_channel *ch)
{
	ik_shm_free(ch->priv, sizeof(struct floor_word));
}

const struct ik_transport_ops ik_floor_ops = {
	.name = "floor",
	.summary = "one word bounced through the ping-pong loop: the harness "
		   "floor",
	.flags = IK_T_SPIN | IK_T_TEST,
	.setup = floor_setup,
	.send = floor_send,
	.recv = floor_recv,
	.teardown = floor_teardown,
};
