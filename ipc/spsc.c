/* SPDX-License-Identifier: MIT */
/*
 * spsc: a single-producer/single-consumer ring in shared memory, one per
 * direction. Each slot carries its own sequence number beside the payload,
 * so a hand-off moves the slot's line and nothing else: the consumer polls
 * the slot, not a head index on a line of its own (that layout moves head,
 * tail and slot, three lines a hop). The consumer still publishes its tail
 * on its own line, but the producer caches it and rereads it only when the
 * ring looks full.
 *
 * --wait spin busy-polls; yield, umwait, tpause and mwaitx also wait on
 * the slot without the kernel; futex, futex-waitv, uring-futex and
 * uring-poll sleep on a wake word (or an eventfd) when the slot is
 * empty; hybrid spins for --spin-budget, then sleeps. The producer only
 * pays for a wake-up check when the consumer may sleep: setup picks the
 * send/recv pair of the strategy once (by_wait), so the hot path has no
 * mode branch. A producer facing a full ring spins (and yields) in
 * every strategy: the strategy is how a reader waits for a message.
 *
 * Ping-pong spinning without --buffer keeps one message in flight each
 * way, and there a 64-slot ring costs twice a bare bounce (measured on
 * AMD EPYC, docs/harness-cost.md "spsc"): each hop lands on a line not
 * touched for 64 trips, and the two directions move two lines. So that
 * case gets a duplex: each direction a ring of one slot, the two slots
 * side by side in one line when they fit, each consumer's count of taken
 * messages in its own half beside its reply. A hop is then a read and a
 * write of one line, the bounce's own pattern.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ipc.h"

#define SLOTS_DEFAULT 64
#define RING_BYTES_MAX                                                         \
	(16u << 20) /* per direction, before the 2-slot floor                  \
		     */

struct spsc_slot {
	_Atomic uint64_t seq; /* position + 1 once the payload is in */
	unsigned char data[];
};

/* Written by the producer only. */
struct spsc_prod {
	alignas(IK_CACHELINE) uint64_t head; /* next position to fill */
	uint64_t tail_seen;		     /* last tail read from consumer */
	_Atomic uint32_t wake;		     /* futex word, bumped to wake */
};

/*
 * Written by the consumer only. tail is what the producer may reuse; a
 * spinning consumer publishes it once every tail_batch messages, and
 * before it waits on an empty slot (so a producer facing a full ring is
 * never left waiting on slots already taken), not every message: with
 * the producer polling tail on a full ring, a store per message moves
 * this line once per message.
 */
struct spsc_cons {
	alignas(IK_CACHELINE) _Atomic uint64_t tail; /* first slot not free */
	_Atomic uint32_t sleeping;		     /* may be in futex_wait */
	/* off the line a producer facing a full ring polls */
	alignas(IK_CACHELINE) uint64_t next; /* next position to read */
};

struct spsc_ring {
	struct spsc_prod prod;
	struct spsc_cons cons;
	alignas(IK_CACHELINE) unsigned char slots[];
};
_Static_assert(offsetof(struct spsc_ring, cons) == IK_CACHELINE,
	       "producer and consumer state must own separate cache lines");
_Static_assert(offsetof(struct spsc_ring, cons.next) == 2 * IK_CACHELINE,
	       "the consumer's position is not on the line it publishes");
_Static_assert(offsetof(struct spsc_ring, slots) == 3 * IK_CACHELINE,
	       "slots start on a line of their own");

/*
 * Duplex half: written by one side only. put counts the messages this
 * side has sent, took those of the peer's it has copied out; data is
 * this side's one slot. The peer's half may share the line.
 */
struct spsc_half {
	_Atomic uint64_t put;
	_Atomic uint64_t took;
	unsigned char data[];
};

extern const struct ik_transport_ops ik_spsc_ops;

struct spsc_state {
	struct spsc_ring *ring[2]; /* ring[s] is read by side s */
	uint64_t cap, mask;
	uint64_t batch_mask; /* spin: tail published every mask + 1 */
	size_t stride, ring_len;
	bool shared;		   /* futexes across processes */
	struct spsc_half *half[2]; /* duplex: half[s] is written by side s */
	size_t half_len;	   /* duplex: one half, 16-byte multiple */
};

static size_t slot_stride(size_t size)
{
	return (sizeof(struct spsc_slot) + size + IK_CACHELINE - 1) /
	       IK_CACHELINE * IK_CACHELINE;
}

/* Slots: --buffer bytes' worth if given, else 64, a power of two >= 2. */
static uint64_t ring_slots(const struct ik_chan_params *p, size_t stride)
{
	uint64_t want = p->buffer ? p->buffer / stride : SLOTS_DEFAULT;
	uint64_t cap = 2;

	if (!p->buffer && want * stride > RING_BYTES_MAX)
		want = RING_BYTES_MAX / stride;
	while (cap * 2 <= want)
		cap *= 2;
	return cap;
}

static inline struct spsc_slot *slot_at(const struct spsc_state *st,
					struct spsc_ring *r, uint64_t pos)
{
	return (struct spsc_slot *)(r->slots + (pos & st->mask) * st->stride);
}

/* Wait for room at r->prod.head; the consumer frees slots in order. */
static int wait_room(struct ik_channel *ch, struct spsc_state *st,
		     struct spsc_ring *r)
{
	uint64_t h = r->prod.head;
	unsigned n = 0;

	while (h - r->prod.tail_seen >= st->cap) {
		/* acquire: the consumer's copy out of the slot is finished */
		r->prod.tail_seen = atomic_load_explicit(&r->cons.tail,
							 memory_order_acquire);
		if (h - r->prod.tail_seen < st->cap)
			break;
		if (ik_spin_step(ch, &n))
			return -ECANCELED;
		if (ch->p.wait != IK_WAIT_SPIN && n == 0)
			sched_yield(); /* full ring in a sleeping mode */
	}
	return 0;
}

static inline int put(struct ik_channel *ch, struct spsc_ring *r,
		      const void *buf, size_t len)
{
	struct spsc_state *st = ch->priv;
	uint64_t h = r->prod.head;
	struct spsc_slot *s;

	if (ik_unlikely(h - r->prod.tail_seen >= st->cap)) {
		int ret = wait_room(ch, st, r);

		if (ret)
			return ret;
	}
	s = slot_at(st, r, h);
	ik_copy(s->data, buf, len);
	/* release pairs with the consumer's acquire of seq */
	atomic_store_explicit(&s->seq, h + 1, memory_order_release);
	r->prod.head = h + 1;
	return 0;
}

static int spsc_send_spin(struct ik_channel *ch, enum ik_side side,
			  const void *buf, size_t len)
{
	struct spsc_state *st = ch->priv;

	return put(ch, st->ring[!side], buf, len);
}

/*
 * Put, then wake a consumer that may sleep (the sleeping strategies).
 * Dekker pair with the consumer's store of sleeping then load of seq:
 * with a full fence on both sides, at least one of us sees the other,
 * so a consumer about to sleep is always woken.
 */
static inline __attribute__((always_inline)) int
send_notify_as(struct ik_channel *ch, enum ik_side side, const void *buf,
	       size_t len, const enum ik_wait W)
{
	struct spsc_state *st = ch->priv;
	struct spsc_ring *r = st->ring[!side];
	int ret = put(ch, r, buf, len);

	if (ret)
		return ret;
	ik_full_fence();
	if (atomic_load_explicit(&r->cons.sleeping, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&r->prod.wake, 1,
					  memory_order_relaxed);
		return ik_wait_wake(ch, side, &r->prod.wake, W);
	}
	return 0;
}

static inline int take(struct spsc_state *st, struct spsc_ring *r, uint64_t t,
		       void *buf, size_t len)
{
	ik_copy(buf, slot_at(st, r, t)->data, len);
	r->cons.next = t + 1;
	/* release: the producer may refill the slot once it sees this */
	atomic_store_explicit(&r->cons.tail, t + 1, memory_order_release);
	return 0;
}

static inline bool ready(const struct spsc_slot *s, uint64_t t)
{
	return atomic_load_explicit(&s->seq, memory_order_acquire) == t + 1;
}

/*
 * Receive by a strategy that never sleeps in the kernel: spin, yield,
 * or a monitoring wait (umwait, mwaitx: watch the slot's line, look
 * once more, then wait for a write to it) or tpause's nap. W is a
 * constant in each instance below: one loop per strategy.
 */
static inline __attribute__((always_inline)) int
recv_poll_as(struct ik_channel *ch, enum ik_side side, void *buf, size_t len,
	     const enum ik_wait W)
{
	struct spsc_state *st = ch->priv;
	struct spsc_ring *r = st->ring[side];
	uint64_t t = r->cons.next;
	struct spsc_slot *s = slot_at(st, r, t);
	unsigned n = 0;

	if (!ready(s, t)) {
		/* release: all taken so far is free before we wait */
		atomic_store_explicit(&r->cons.tail, t, memory_order_release);
		while (!ready(s, t)) {
			if (W == IK_WAIT_UMWAIT || W == IK_WAIT_MWAITX) {
				ik_wait_arm(&s->seq, W);
				if (ready(s, t))
					break;
			}
			if (ik_wait_pause(ch, &n, W))
				return -ECANCELED;
		}
	}
	ik_copy(buf, s->data, len);
	r->cons.next = t + 1;
	if (((t + 1) & st->batch_mask) == 0)
		atomic_store_explicit(&r->cons.tail, t + 1,
				      memory_order_release);
	return 0;
}

static int spsc_recv_spin(struct ik_channel *ch, enum ik_side side, void *buf,
			  size_t len)
{
	return recv_poll_as(ch, side, buf, len, IK_WAIT_SPIN);
}

/*
 * Duplex send: wait until the peer has taken our last message (in
 * ping-pong its reply has already brought that line here), then fill our
 * slot and publish the count; release pairs with the peer's acquire.
 */
static int spsc_send_duplex(struct ik_channel *ch, enum ik_side side,
			    const void *buf, size_t len)
{
	struct spsc_state *st = ch->priv;
	struct spsc_half *me = st->half[side], *peer = st->half[!side];
	uint64_t h = atomic_load_explicit(&me->put, memory_order_relaxed);
	unsigned n = 0;

	/* acquire: the peer's copy out of our slot is finished */
	while (atomic_load_explicit(&peer->took, memory_order_acquire) != h)
		if (ik_spin_step(ch, &n))
			return -ECANCELED;
	ik_copy(me->data, buf, len);
	atomic_store_explicit(&me->put, h + 1, memory_order_release);
	return 0;
}

static int spsc_recv_duplex(struct ik_channel *ch, enum ik_side side, void *buf,
			    size_t len)
{
	struct spsc_state *st = ch->priv;
	struct spsc_half *me = st->half[side], *peer = st->half[!side];
	uint64_t t = atomic_load_explicit(&me->took, memory_order_relaxed);
	unsigned n = 0;

	while (atomic_load_explicit(&peer->put, memory_order_acquire) != t + 1)
		if (ik_spin_step(ch, &n))
			return -ECANCELED;
	ik_copy(buf, peer->data, len);
	/* release: the peer may refill its slot once it sees this */
	atomic_store_explicit(&me->took, t + 1, memory_order_release);
	return 0;
}

/* Both halves in one line when they fit, else each on lines of its own. */
static int duplex_setup(struct ik_channel *ch, struct spsc_state *st)
{
	size_t half = (sizeof(struct spsc_half) + ch->p.size + 15) / 16 * 16;
	size_t stride = ch->p.lines.stride;

	if (2 * half > IK_CACHELINE)
		half = (half + IK_CACHELINE - 1) / IK_CACHELINE * IK_CACHELINE;
	/* --stride: each side's half starts a whole stride apart, so the
	 * adjacent-line prefetcher (128) can pair them or not */
	if (stride)
		half = (half + stride - 1) / stride * stride;
	st->half_len = half;
	st->half[0] = ik_channel_shm(ch, 2 * half);
	if (!st->half[0])
		return -ENOMEM;
	st->half[1] = (struct spsc_half *)((unsigned char *)st->half[0] + half);
	ch->lines = st->half[0];
	ch->lines_len = 2 * half;
	ch->send = spsc_send_duplex;
	ch->recv = spsc_recv_duplex;
	if (stride)
		snprintf(ch->granted, sizeof(ch->granted),
			 "duplex: 1 slot per direction, %zu B apart, wait "
			 "spin",
			 half);
	else
		snprintf(ch->granted, sizeof(ch->granted),
			 "duplex: 1 slot per direction, %s, wait spin",
			 2 * half > IK_CACHELINE ? "a line each"
						 : "both in one line");
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * IK_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * The sleeping waits on the wake word sleep with no timeout: a timed one
 * arms and cancels an hrtimer every sleep (docs/harness-cost.md), so the
 * controller's watch (spsc_watch) keeps their wake-up deadline.
 * uring-poll sleeps on an eventfd the watch does not hold, and keeps its
 * own timeout.
 */
static inline bool watched(enum ik_wait w)
{
	return w != IK_WAIT_URING_POLL;
}

/* Sleep until the slot at t is filled (see send_notify_as). */
static inline __attribute__((always_inline)) int
sleep_until_ready(struct ik_channel *ch, enum ik_side side, struct spsc_ring *r,
		  struct spsc_slot *s, uint64_t t, const enum ik_wait W)
{
	const struct timespec *dl = watched(W) ? NULL : ik_wake_deadline(ch);
	int ret = 0;

	for (;;) {
		uint32_t w = atomic_load_explicit(&r->prod.wake,
						  memory_order_acquire);

		atomic_store(&r->cons.sleeping, 1);
		ik_full_fence();
		if (ready(s, t))
			break;
		ret = ik_wait_sleep(ch, side, &r->prod.wake, w, dl, W);
		if (ret == -ETIMEDOUT) { /* filled, never woken: lost */
			ret = 0;
			if (ready(s, t)) {
				ik_channel_count_lost(ch);
				break;
			}
		}
		if (ret)
			break;
	}
	atomic_store_explicit(&r->cons.sleeping, 0, memory_order_relaxed);
	return ret;
}

/*
 * hybrid's spin: up to the budget in iterations, or in ns with the
 * clock read every 64 looks (a read costs about a look). True when the
 * slot filled meanwhile.
 */
static inline bool spin_budget(struct ik_channel *ch, struct spsc_slot *s,
			       uint64_t t, int *err)
{
	uint64_t b = ch->p.spin_budget, i;
	unsigned n = 0;

	if (b & IK_BUDGET_ITERS) {
		for (i = b & ~IK_BUDGET_ITERS; i; i--) {
			if (ready(s, t))
				return true;
			if ((*err = ik_spin_step(ch, &n)))
				return false;
		}
	} else if (b) {
		uint64_t end = now_ns() + b;

		for (i = 1;; i++) {
			if (ready(s, t))
				return true;
			if ((*err = ik_spin_step(ch, &n)))
				return false;
			if ((i & 63) == 0 && now_ns() > end)
				break;
		}
	}
	return ready(s, t);
}

static inline __attribute__((always_inline)) int
recv_sleep_as(struct ik_channel *ch, enum ik_side side, void *buf, size_t len,
	      const enum ik_wait W)
{
	struct spsc_state *st = ch->priv;
	struct spsc_ring *r = st->ring[side];
	uint64_t t = r->cons.next;
	struct spsc_slot *s = slot_at(st, r, t);
	int ret = 0;

	if (W == IK_WAIT_HYBRID && !ready(s, t) &&
	    !spin_budget(ch, s, t, &ret) && ret)
		return ret;
	if (!ready(s, t)) {
		ret = sleep_until_ready(ch, side, r, s, t, W);
		if (ret)
			return ret;
	}
	return take(st, r, t, buf, len);
}

/* One send and one recv per strategy, each its own loop. */
#define SPSC_SLEEPER(name, W)                                                  \
	static int spsc_send_##name(struct ik_channel *ch, enum ik_side side,  \
				    const void *buf, size_t len)               \
	{                                                                      \
		return send_notify_as(ch, side, buf, len, W);                  \
	}                                                                      \
	static int spsc_recv_##name(struct ik_channel *ch, enum ik_side side,  \
				    void *buf, size_t len)                     \
	{                                                                      \
		return recv_sleep_as(ch, side, buf, len, W);                   \
	}
#define SPSC_POLLER(name, W)                                                   \
	static int spsc_recv_##name(struct ik_channel *ch, enum ik_side side,  \
				    void *buf, size_t len)                     \
	{                                                                      \
		return recv_poll_as(ch, side, buf, len, W);                    \
	}
SPSC_SLEEPER(futex, IK_WAIT_FUTEX)
SPSC_SLEEPER(hybrid, IK_WAIT_HYBRID)
SPSC_SLEEPER(waitv, IK_WAIT_FUTEX_WAITV)
SPSC_SLEEPER(ufutex, IK_WAIT_URING_FUTEX)
SPSC_SLEEPER(upoll, IK_WAIT_URING_POLL)
SPSC_POLLER(yield, IK_WAIT_YIELD)
SPSC_POLLER(umwait, IK_WAIT_UMWAIT)
SPSC_POLLER(tpause, IK_WAIT_TPAUSE)
SPSC_POLLER(mwaitx, IK_WAIT_MWAITX)

static const struct {
	ik_send_fn send;
	ik_recv_fn recv;
} by_wait[IK_NWAITS] = {
	[IK_WAIT_SPIN] = {spsc_send_spin, spsc_recv_spin},
	[IK_WAIT_FUTEX] = {spsc_send_futex, spsc_recv_futex},
	[IK_WAIT_HYBRID] = {spsc_send_hybrid, spsc_recv_hybrid},
	[IK_WAIT_YIELD] = {spsc_send_spin, spsc_recv_yield},
	[IK_WAIT_FUTEX_WAITV] = {spsc_send_waitv, spsc_recv_waitv},
	[IK_WAIT_URING_FUTEX] = {spsc_send_ufutex, spsc_recv_ufutex},
	[IK_WAIT_URING_POLL] = {spsc_send_upoll, spsc_recv_upoll},
	[IK_WAIT_UMWAIT] = {spsc_send_spin, spsc_recv_umwait},
	[IK_WAIT_TPAUSE] = {spsc_send_spin, spsc_recv_tpause},
	[IK_WAIT_MWAITX] = {spsc_send_spin, spsc_recv_mwaitx},
};

int ik_spsc_open(struct ik_channel *ch, enum ik_side side,
		 struct ik_spsc_cursor *c)
{
	struct spsc_state *st = ch->priv;
	struct spsc_ring *r;

	if (ch->ops != &ik_spsc_ops || ch->p.wait != IK_WAIT_SPIN ||
	    ch->send != spsc_send_spin || !ch->p.stream)
		return -EOPNOTSUPP;
	r = st->ring[IK_SIDE_B]; /* the one side B reads */
	_Static_assert(offsetof(struct spsc_slot, data) == 8,
		       "ik_spsc_put/take's slot layout");
	*c = (struct ik_spsc_cursor){
		.slots = r->slots,
		.tail = &r->cons.tail,
		.pos = side == IK_SIDE_A ? r->prod.head : r->cons.next,
		.seen = r->prod.tail_seen,
		.cap = st->cap,
		.mask = st->mask,
		.batch_mask = st->batch_mask,
		.stride = st->stride,
	};
	return 0;
}

void ik_spsc_close(struct ik_channel *ch, enum ik_side side,
		   struct ik_spsc_cursor c)
{
	struct spsc_ring *r = ((struct spsc_state *)ch->priv)->ring[IK_SIDE_B];

	if (side == IK_SIDE_A) {
		r->prod.head = c.pos;
		r->prod.tail_seen = c.seen;
	} else {
		r->cons.next = c.pos;
		atomic_store_explicit(&r->cons.tail, c.pos,
				      memory_order_release);
	}
}

/*
 * Touch every page now, before the split: a ring of 64 KiB slots is 4 MiB
 * a direction, and its first pass would otherwise take a zero-fill fault
 * every 4 KiB inside the timed stream (at most a cheap minor fault per
 * page in a forked child, which maps the pages the parent made).
 */
static void prefault(void *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += 4096)
		((volatile unsigned char *)p)[off] = 0;
}

static void spsc_teardown(struct ik_channel *ch);

static int spsc_setup(struct ik_channel *ch)
{
	struct spsc_state *st = ik_channel_shm(ch, sizeof(*st));
	uint64_t batch;
	int s;

	if (!st)
		return -ENOMEM;
	st->stride = slot_stride(ch->p.size);
	/* --stride: slots padded to a whole stride each */
	if (ch->p.lines.stride)
		st->stride = (st->stride + ch->p.lines.stride - 1) /
			     ch->p.lines.stride * ch->p.lines.stride;
	st->cap = ring_slots(&ch->p, st->stride);
	st->mask = st->cap - 1;
	/* a quarter of the ring, but no more than ~1 KiB of slots: past that
	 * a store per slot is lost in the copy, and the producer gets every
	 * slot back as soon as it is free */
	for (batch = st->cap / 4 ? st->cap / 4 : 1;
	     batch > 1 && batch * st->stride > 1024; batch /= 2)
		;
	st->batch_mask = batch - 1;
	st->ring_len = sizeof(struct spsc_ring) + st->cap * st->stride;
	st->shared = ch->p.mode == IK_MODE_PROCESS;
	if ((unsigned)ch->p.wait >= IK_NWAITS) {
		ik_shm_free(st, sizeof(*st));
		return -EINVAL;
	}
	if (ch->p.wait == IK_WAIT_SPIN && !ch->p.stream && !ch->p.buffer) {
		ch->priv = st;
		if ((s = duplex_setup(ch, st))) {
			ch->priv = NULL;
			ik_shm_free(st, sizeof(*st));
		}
		return s;
	}
	ch->priv = st;
	for (s = 0; s < 2; s++) {
		st->ring[s] = ik_channel_mem(ch, st->ring_len, st->shared);
		if (!st->ring[s]) {
			spsc_teardown(ch);
			return -ENOMEM;
		}
		prefault(st->ring[s], st->ring_len);
	}
	ch->lines = st->ring[1]; /* B's ring: A's messages to B */
	ch->lines_len = st->ring_len;
	if ((s = ik_waits_setup(ch))) {
		spsc_teardown(ch);
		return s;
	}
	ch->send = by_wait[ch->p.wait].send;
	ch->recv = by_wait[ch->p.wait].recv;
	snprintf(ch->granted, sizeof(ch->granted),
		 "ring of %llu slots x %zu B per direction, wait %s",
		 (unsigned long long)st->cap, st->stride,
		 ik_wait_name(ch->p.wait));
	return 0;
}

static void spsc_teardown(struct ik_channel *ch)
{
	struct spsc_state *st = ch->priv;

	ik_waits_teardown(ch);
	if (!st)
		return;
	ik_channel_mem_free(ch, st->half[0], 2 * st->half_len);
	ik_channel_mem_free(ch, st->ring[0], st->ring_len);
	ik_channel_mem_free(ch, st->ring[1], st->ring_len);
	ik_channel_mem_free(ch, st, sizeof(*st));
	ch->priv = NULL;
}

/*
 * The controller's watch, every tick, for the waits that sleep on the
 * wake word with no timeout (only sleep_until_ready flags a reader
 * asleep, so the spinning waits never look stuck): a reader flagged
 * asleep (and asleep in /proc) whose next slot is filled, with its tail
 * unchanged for the whole deadline, lost its wake-up; it is counted and
 * the word woken.
 * tail is its position: a sleeping reader publishes it every message.
 * A sender between its fill and its FUTEX_WAKE moves on within a tick.
 */
static void spsc_watch(struct ik_channel *ch)
{
	struct spsc_state *st = ch->priv;
	uint64_t now = ik_mono_ns();
	int s;

	if (!st || !st->ring[0] || !watched(ch->p.wait))
		return;
	for (s = 0; s < 2; s++) {
		struct spsc_ring *r = st->ring[s];
		uint64_t t = atomic_load_explicit(&r->cons.tail,
						  memory_order_acquire);
		bool looks = atomic_load_explicit(&r->cons.sleeping,
						  memory_order_relaxed) &&
			     ready(slot_at(st, r, t), t) &&
			     ik_channel_peer_sleeps(ch, (enum ik_side)s);

		if (!ik_watch_stuck(ch, (enum ik_side)s, looks, t, now))
			continue;
		ik_channel_count_lost(ch);
		ik_futex_wake(&r->prod.wake, 1, st->shared);
	}
}

/*
 * The test hook's send (IPCKERN_FAULT=wake-drop): filled, no wake. The
 * ring's fill is the same for every strategy (spsc_send_spin's put),
 * only send_notify_as adds the wake-up this leaves out.
 */
static int spsc_send_nowake(struct ik_channel *ch, enum ik_side side,
			    const void *buf, size_t len)
{
	struct spsc_state *st = ch->priv;

	return st->half[0] ? spsc_send_duplex(ch, side, buf, len)
			   : spsc_send_spin(ch, side, buf, len);
}

const struct ik_transport_ops ik_spsc_ops = {
	.name = "spsc",
	.summary = "shared-memory SPSC ring per direction, seq in each slot",
	.doc = "a shared-memory ring per direction; the slot carries its "
	       "sequence number, so a hand-off moves one line. Spinning "
	       "ping-pong without `--buffer` gets a one-slot ring each way, "
	       "both slots in one line (docs/harness-cost.md). Takes every "
	       "`--wait` strategy",
	.flags = IK_T_SPIN | IK_T_WAIT,
	.setup = spsc_setup,
	.send = spsc_send_spin,
	.recv = spsc_recv_spin,
	.teardown = spsc_teardown,
	.watch = spsc_watch,
	.send_nowake = spsc_send_nowake,
};
