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

/*
 * Page-aligned by ik_shm_alloc; the payload shares seq's line. A
 * sleeping strategy (futex, hybrid, futex-waitv, uring-futex, uring-poll)
 * also keeps each side's "may be asleep" flag there, before the payload,
 * so that the waker pays a wake-up only when the peer may sleep: the
 * line moves anyway, and a flag elsewhere would move a second one.
 */
struct line_state {
	/* seq is even when it is side A's turn to write, odd for side B */
	_Atomic uint64_t seq;
	_Atomic uint32_t sleeping[2]; /* sleeping strategies only */
};

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "line sleeps on seq's low half, the word at its address"
#endif

/* Where the payload starts: right after seq, or after the flags. */
static inline size_t data_off(enum ik_wait w)
{
	return ik_wait_sleeps(w) ? sizeof(struct line_state) : sizeof(uint64_t);
}

static inline unsigned char *data_of(struct line_state *st, enum ik_wait w)
{
	return (unsigned char *)st + data_off(w);
}

/* The futex word: seq's low 32 bits, which every hand-off changes. */
static inline _Atomic uint32_t *word_of(struct line_state *st)
{
	return (_Atomic uint32_t *)(void *)&st->seq;
}

static size_t line_len(const struct ik_channel *ch)
{
	return (data_off(ch->p.wait) + ch->p.size + IK_CACHELINE - 1) /
	       IK_CACHELINE * IK_CACHELINE;
}

static inline bool my_turn(uint64_t s, enum ik_side side)
{
	return (s & 1) == (uint64_t)side;
}

static inline uint64_t seq_of(struct line_state *st)
{
	/* acquire pairs with the peer's release below: its bytes are in */
	return atomic_load_explicit(&st->seq, memory_order_acquire);
}

/* hybrid: look for the turn up to the budget (see spsc's spin_budget) */
static inline int64_t spin_budget(struct ik_channel *ch, struct line_state *st,
				  enum ik_side side)
{
	uint64_t b = ch->p.spin_budget, i, s = 0, end = 0;
	unsigned n = 0;
	bool iters = b & IK_BUDGET_ITERS;

	b &= ~IK_BUDGET_ITERS;
	if (!iters && b) {
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		end = (uint64_t)t.tv_sec * IK_NS_PER_SEC + (uint64_t)t.tv_nsec +
		      b;
	}
	for (i = 1; b; i++) {
		if (my_turn(s = seq_of(st), side))
			return (int64_t)s;
		if (ik_spin_step(ch, &n))
			return -ECANCELED;
		if (iters ? i >= b : (i & 63) == 0) {
			struct timespec t;

			if (iters)
				break;
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((uint64_t)t.tv_sec * IK_NS_PER_SEC +
				    (uint64_t)t.tv_nsec >
			    end)
				break;
		}
	}
	return -EAGAIN;
}

/*
 * Wait until the turn is side's, by strategy W (a constant in each
 * instance: one loop per strategy); returns the seq seen or a -errno.
 */
static inline __attribute__((always_inline)) int64_t
wait_turn(struct ik_channel *ch, struct line_state *st, enum ik_side side,
	  const enum ik_wait W)
{
	unsigned n = 0;
	uint64_t s;
	int64_t got;
	int ret = 0;

	if (!ik_wait_sleeps(W)) {
		while (!my_turn(s = seq_of(st), side)) {
			if (W == IK_WAIT_UMWAIT || W == IK_WAIT_MWAITX) {
				ik_wait_arm(&st->seq, W);
				if (my_turn(s = seq_of(st), side))
					break;
			}
			if (ik_wait_pause(ch, &n, W))
				return -ECANCELED;
		}
		return (int64_t)s;
	}
	if (my_turn(s = seq_of(st), side))
		return (int64_t)s;
	if (W == IK_WAIT_HYBRID && (got = spin_budget(ch, st, side)) != -EAGAIN)
		return got;
	for (;;) {
		/*
		 * Dekker pair with publish(): flag up, then look, both
		 * seq_cst, as its store of seq and look at the flag are: in
		 * their one total order one of us sees the other, so a
		 * sleeper is always woken. (seq_cst operations, not
		 * fences: TSan models these.)
		 */
		atomic_store(&st->sleeping[side], 1);
		if (my_turn(s = atomic_load(&st->seq), side))
			break;
		/* no deadline: line has no send without its wake-up, and
		 * nothing here looks for a lost one */
		if ((ret = ik_wait_sleep(ch, side, word_of(st), (uint32_t)s,
					 NULL, W)))
			break;
	}
	atomic_store_explicit(&st->sleeping[side], 0, memory_order_relaxed);
	return ret ? ret : (int64_t)s;
}

/* Hand the turn over; wake the peer if it may sleep. */
static inline __attribute__((always_inline)) int
publish(struct ik_channel *ch, struct line_state *st, enum ik_side side,
	uint64_t s, const enum ik_wait W)
{
	if (!ik_wait_sleeps(W)) {
		atomic_store_explicit(&st->seq, s + 1, memory_order_release);
		return 0;
	}
	atomic_store(&st->seq, s + 1); /* seq_cst: see wait_turn */
	if (atomic_load(&st->sleeping[!side]))
		return ik_wait_wake(ch, side, word_of(st), W);
	return 0;
}

static inline __attribute__((always_inline)) int
send_as(struct ik_channel *ch, enum ik_side side, const void *buf, size_t len,
	const enum ik_wait W)
{
	struct line_state *st = ch->priv;
	int64_t s = wait_turn(ch, st, side, W);

	if (s < 0)
		return (int)s;
	ik_copy(data_of(st, W), buf, len);
	return publish(ch, st, side, (uint64_t)s, W);
}

static inline __attribute__((always_inline)) int recv_as(struct ik_channel *ch,
							 enum ik_side side,
							 void *buf, size_t len,
							 const enum ik_wait W)
{
	struct line_state *st = ch->priv;
	int64_t s = wait_turn(ch, st, side, W);

	if (s < 0)
		return (int)s;
	ik_copy(buf, data_of(st, W), len);
	return 0;
}

/* Stream: B waits for an odd seq (full), empties, makes it even. */
static inline __attribute__((always_inline)) int
take_as(struct ik_channel *ch, void *buf, size_t len, const enum ik_wait W)
{
	struct line_state *st = ch->priv;
	int64_t s = wait_turn(ch, st, IK_SIDE_B, W);

	if (s < 0)
		return (int)s;
	ik_copy(buf, data_of(st, W), len);
	return publish(ch, st, IK_SIDE_B, (uint64_t)s, W);
}

/*
 * Per strategy: send, recv, and a stream's put (A waits for an even
 * seq, empty, fills, makes it odd) and take.
 */
#define LINE_WAIT(name, W)                                                     \
	static int line_send_##name(struct ik_channel *ch, enum ik_side side,  \
				    const void *buf, size_t len)               \
	{                                                                      \
		return send_as(ch, side, buf, len, W);                         \
	}                                                                      \
	static int line_recv_##name(struct ik_channel *ch, enum ik_side side,  \
				    void *buf, size_t len)                     \
	{                                                                      \
		return recv_as(ch, side, buf, len, W);                         \
	}                                                                      \
	static int line_put_##name(struct ik_channel *ch, enum ik_side side,   \
				   const void *buf, size_t len)                \
	{                                                                      \
		(void)side;                                                    \
		return send_as(ch, IK_SIDE_A, buf, len, W);                    \
	}                                                                      \
	static int line_take_##name(struct ik_channel *ch, enum ik_side side,  \
				    void *buf, size_t len)                     \
	{                                                                      \
		(void)side;                                                    \
		return take_as(ch, buf, len, W);                               \
	}
LINE_WAIT(spin, IK_WAIT_SPIN)
LINE_WAIT(futex, IK_WAIT_FUTEX)
LINE_WAIT(hybrid, IK_WAIT_HYBRID)
LINE_WAIT(yield, IK_WAIT_YIELD)
LINE_WAIT(waitv, IK_WAIT_FUTEX_WAITV)
LINE_WAIT(ufutex, IK_WAIT_URING_FUTEX)
LINE_WAIT(upoll, IK_WAIT_URING_POLL)
LINE_WAIT(umwait, IK_WAIT_UMWAIT)
LINE_WAIT(tpause, IK_WAIT_TPAUSE)
LINE_WAIT(mwaitx, IK_WAIT_MWAITX)

#define LINE_FNS(name)                                                         \
	{                                                                      \
		line_send_##name, line_recv_##name, line_put_##name,           \
			line_take_##name                                       \
	}
static const struct {
	ik_send_fn send;
	ik_recv_fn recv;
	ik_send_fn put;
	ik_recv_fn take;
} by_wait[IK_NWAITS] = {
	[IK_WAIT_SPIN] = LINE_FNS(spin),
	[IK_WAIT_FUTEX] = LINE_FNS(futex),
	[IK_WAIT_HYBRID] = LINE_FNS(hybrid),
	[IK_WAIT_YIELD] = LINE_FNS(yield),
	[IK_WAIT_FUTEX_WAITV] = LINE_FNS(waitv),
	[IK_WAIT_URING_FUTEX] = LINE_FNS(ufutex),
	[IK_WAIT_URING_POLL] = LINE_FNS(upoll),
	[IK_WAIT_UMWAIT] = LINE_FNS(umwait),
	[IK_WAIT_TPAUSE] = LINE_FNS(tpause),
	[IK_WAIT_MWAITX] = LINE_FNS(mwaitx),
};

/* --lines, --line-op, --stride: anything but one line, store, 64. */
static bool line_plain(const struct ik_channel *ch)
{
	const struct ik_lines *l = &ch->p.lines;

	return l->n <= 1 && l->op == IK_LINE_STORE && !l->stride;
}

/*
 * The variants (--lines, --line-op, --stride), ping-pong only. Setup
 * picks one send/recv pair per op and per one-or-many lines, each built
 * from the bodies below with both as constants, so no hop branches on
 * the op. The mapping: a header (read-only once set up), each side's
 * cursor on a line of its own, then the lines, stride-aligned: line k's
 * word written by w (0 for one-word ops; the sending side for load) at
 * base + (k * ways + w) * slot.
 */
struct line_word {
	_Atomic uint64_t seq; /* as line_state's: even, A's turn */
	unsigned char data[];
};

struct line_hdr {
	alignas(IK_CACHELINE) unsigned char *base;
	size_t slot;   /* one word and its payload, whole strides */
	unsigned n;    /* lines, bounced in turn */
	unsigned ways; /* words per line: 2 for load, else 1 */
	struct {       /* the line each side is on; its own cache line */
		alignas(IK_CACHELINE) unsigned k;
	} cur[2];
};
_Static_assert(sizeof(struct line_hdr) == 3 * IK_CACHELINE,
	       "each side's cursor on a line of its own");

const char *const ik_line_op_names[] = {
	[IK_LINE_STORE] = "store", [IK_LINE_LOAD] = "load",
	[IK_LINE_CAS] = "cas",	   [IK_LINE_XCHG] = "xchg",
	[IK_LINE_XADD] = "xadd",   [IK_NLINE_OPS] = NULL,
};

static size_t lines_stride(const struct ik_channel *ch)
{
	return ch->p.lines.stride ? ch->p.lines.stride : IK_CACHELINE;
}

static size_t lines_slot(const struct ik_channel *ch)
{
	size_t st = lines_stride(ch);

	return (sizeof(struct line_word) + ch->p.size + st - 1) / st * st;
}

static size_t lines_hdr_len(const struct ik_channel *ch)
{
	size_t st = lines_stride(ch);

	return (sizeof(struct line_hdr) + st - 1) / st * st;
}

static unsigned lines_n(const struct ik_channel *ch)
{
	return ch->p.lines.n > 1 ? ch->p.lines.n : 1;
}

static unsigned lines_ways(const struct ik_channel *ch)
{
	return ch->p.lines.op == IK_LINE_LOAD ? 2 : 1;
}

static size_t lines_map_len(const struct ik_channel *ch)
{
	return lines_hdr_len(ch) +
	       (size_t)lines_n(ch) * lines_ways(ch) * lines_slot(ch);
}

static inline struct line_word *word(const struct line_hdr *h, unsigned k,
				     unsigned w)
{
	return (struct line_word *)(h->base +
				    ((size_t)k * h->ways + w) * h->slot);
}

static inline unsigned cur(const struct line_hdr *h, enum ik_side side,
			   bool many)
{
	return many ? h->cur[side].k : 0;
}

/* A trip ends at A's receive and B's send: the next goes a line on. */
static inline void next(struct line_hdr *h, enum ik_side side, bool many)
{
	if (many && ++h->cur[side].k == h->n)
		h->cur[side].k = 0;
}

/* Wait for side's turn on w by op's poll; the seq seen, or -ECANCELED. */
static inline int64_t turn(struct ik_channel *ch, struct line_word *w,
			   enum ik_side side, enum ik_line_op op)
{
	unsigned n = 0;
	uint64_t s;

	if (op == IK_LINE_CAS) {
		uint64_t e = side;

		/* every poll a lock cmpxchg (e for e when it matches): the
		 * line comes over in the modified state, never shared */
		while (!atomic_compare_exchange_strong_explicit(
			       &w->seq, &e, e, memory_order_acquire,
			       memory_order_acquire) ||
		       (e & 1) != side)
			if (ik_spin_step(ch, &n))
				return -ECANCELED;
		return (int64_t)e;
	}
	if (op == IK_LINE_XADD) {
		/* lock xadd of 0: a locked read, ownership each poll */
		while (((s = atomic_fetch_add_explicit(&w->seq, 0,
						       memory_order_acquire)) &
			1) != (uint64_t)side)
			if (ik_spin_step(ch, &n))
				return -ECANCELED;
		return (int64_t)s;
	}
	while (((s = atomic_load_explicit(&w->seq, memory_order_acquire)) &
		1) != (uint64_t)side)
		if (ik_spin_step(ch, &n))
			return -ECANCELED;
	return (int64_t)s;
}

/* Hand the turn over (release: the payload is in) by op's write. */
static inline void hand(struct line_word *w, uint64_t s, enum ik_line_op op)
{
	uint64_t e = s;

	if (op == IK_LINE_CAS)
		atomic_compare_exchange_strong_explicit(&w->seq, &e, s + 1,
							memory_order_release,
							memory_order_relaxed);
	else if (op == IK_LINE_XCHG)
		atomic_exchange_explicit(&w->seq, s + 1, memory_order_release);
	else if (op == IK_LINE_XADD)
		atomic_fetch_add_explicit(&w->seq, 1, memory_order_release);
	else
		atomic_store_explicit(&w->seq, s + 1, memory_order_release);
}

/*
 * load: side s writes only its own word, the peer only loads it. A
 * sends first, so A's reply is in when B's count catches up with A's,
 * and B's message when A's count is ahead of B's.
 */
static inline int load_send(struct ik_channel *ch, enum ik_side side,
			    const void *buf, size_t len, bool many)
{
	struct line_hdr *h = ch->priv;
	struct line_word *w = word(h, cur(h, side, many), side);
	/* only this side writes its word: no wait, the peer took the last
	 * message before it answered (ping-pong) */
	uint64_t s = atomic_load_explicit(&w->seq, memory_order_relaxed);

	ik_copy(w->data, buf, len);
	atomic_store_explicit(&w->seq, s + 1, memory_order_release);
	if (side == IK_SIDE_B)
		next(h, side, many);
	return 0;
}

static inline int load_recv(struct ik_channel *ch, enum ik_side side, void *buf,
			    size_t len, bool many)
{
	struct line_hdr *h = ch->priv;
	unsigned k = cur(h, side, many), n = 0;
	struct line_word *me = word(h, k, side), *peer = word(h, k, !side);
	uint64_t o = atomic_load_explicit(&me->seq, memory_order_relaxed), p;

	/* acquire pairs with the peer's release in load_send */
	while ((p = atomic_load_explicit(&peer->seq, memory_order_acquire)),
	       side == IK_SIDE_A ? p != o : p == o)
		if (ik_spin_step(ch, &n))
			return -ECANCELED;
	ik_copy(buf, peer->data, len);
	if (side == IK_SIDE_A)
		next(h, side, many);
	return 0;
}

static inline int ops_send(struct ik_channel *ch, enum ik_side side,
			   const void *buf, size_t len, enum ik_line_op op,
			   bool many)
{
	struct line_hdr *h = ch->priv;
	struct line_word *w;
	int64_t s;

	if (op == IK_LINE_LOAD)
		return load_send(ch, side, buf, len, many);
	w = word(h, cur(h, side, many), 0);
	if ((s = turn(ch, w, side, op)) < 0)
		return (int)s;
	ik_copy(w->data, buf, len);
	hand(w, (uint64_t)s, op);
	if (side == IK_SIDE_B)
		next(h, side, many);
	return 0;
}

static inline int ops_recv(struct ik_channel *ch, enum ik_side side, void *buf,
			   size_t len, enum ik_line_op op, bool many)
{
	struct line_hdr *h = ch->priv;
	struct line_word *w;
	int64_t s;

	if (op == IK_LINE_LOAD)
		return load_recv(ch, side, buf, len, many);
	w = word(h, cur(h, side, many), 0);
	if ((s = turn(ch, w, side, op)) < 0)
		return (int)s;
	ik_copy(buf, w->data, len);
	if (side == IK_SIDE_A)
		next(h, side, many);
	return 0;
}

#define VARIANT(name, op, many)                                                \
	static int send_##name(struct ik_channel *ch, enum ik_side side,       \
			       const void *buf, size_t len)                    \
	{                                                                      \
		return ops_send(ch, side, buf, len, op, many);                 \
	}                                                                      \
	static int recv_##name(struct ik_channel *ch, enum ik_side side,       \
			       void *buf, size_t len)                          \
	{                                                                      \
		return ops_recv(ch, side, buf, len, op, many);                 \
	}
VARIANT(store1, IK_LINE_STORE, false)
VARIANT(storen, IK_LINE_STORE, true)
VARIANT(load1, IK_LINE_LOAD, false)
VARIANT(loadn, IK_LINE_LOAD, true)
VARIANT(cas1, IK_LINE_CAS, false)
VARIANT(casn, IK_LINE_CAS, true)
VARIANT(xchg1, IK_LINE_XCHG, false)
VARIANT(xchgn, IK_LINE_XCHG, true)
VARIANT(xadd1, IK_LINE_XADD, false)
VARIANT(xaddn, IK_LINE_XADD, true)
#undef VARIANT

static const struct {
	ik_send_fn send[2]; /* [many] */
	ik_recv_fn recv[2];
} variants[IK_NLINE_OPS] = {
	[IK_LINE_STORE] = {{send_store1, send_storen},
			   {recv_store1, recv_storen}},
	[IK_LINE_LOAD] = {{send_load1, send_loadn}, {recv_load1, recv_loadn}},
	[IK_LINE_CAS] = {{send_cas1, send_casn}, {recv_cas1, recv_casn}},
	[IK_LINE_XCHG] = {{send_xchg1, send_xchgn}, {recv_xchg1, recv_xchgn}},
	[IK_LINE_XADD] = {{send_xadd1, send_xaddn}, {recv_xadd1, recv_xaddn}},
};

static int lines_setup(struct ik_channel *ch)
{
	const struct ik_lines *l = &ch->p.lines;
	unsigned char *m;
	struct line_hdr *h;
	bool many = lines_n(ch) > 1;

	if (l->op >= IK_NLINE_OPS || lines_n(ch) > IK_LINES_MAX ||
	    (l->stride && l->stride % IK_CACHELINE))
		return -EINVAL;
	m = ik_channel_shm(ch, lines_map_len(ch));
	if (!m)
		return -ENOMEM;
	h = (struct line_hdr *)m;
	h->base = m + lines_hdr_len(ch);
	h->slot = lines_slot(ch);
	h->n = lines_n(ch);
	h->ways = lines_ways(ch);
	ch->priv = h;
	ch->lines = h->base;
	ch->lines_len = lines_map_len(ch) - lines_hdr_len(ch);
	ch->send = variants[l->op].send[many];
	ch->recv = variants[l->op].recv[many];
	snprintf(ch->granted, sizeof(ch->granted),
		 "%u line(s)%s, %zu B apart, %s", h->n,
		 h->ways == 2 ? " x 2 (one per direction)" : "", h->slot,
		 ik_line_op_names[l->op]);
	return 0;
}

static void line_teardown(struct ik_channel *ch);

static int line_setup(struct ik_channel *ch)
{
	int ret;

	if ((unsigned)ch->p.wait >= IK_NWAITS)
		return -EINVAL;
	/* the variants spin (ik_spin_step) and bounce ping-pong only: the
	 * CLI refuses them with another --wait, and with a stream */
	if (!line_plain(ch))
		return ch->p.stream || ch->p.wait != IK_WAIT_SPIN
			       ? -EINVAL
			       : lines_setup(ch);
	ch->priv = ik_channel_shm(ch, line_len(ch));
	if (!ch->priv)
		return -ENOMEM;
	ch->lines = ch->priv;
	ch->lines_len = line_len(ch);
	if ((ret = ik_waits_setup(ch))) {
		line_teardown(ch);
		return ret;
	}
	if (ch->p.wait == IK_WAIT_SPIN)
		snprintf(ch->granted, sizeof(ch->granted), "%zu cache line(s)",
			 line_len(ch) / IK_CACHELINE);
	else
		snprintf(ch->granted, sizeof(ch->granted),
			 "%zu cache line(s), wait %s",
			 line_len(ch) / IK_CACHELINE, ik_wait_name(ch->p.wait));
	ch->send = by_wait[ch->p.wait].send;
	ch->recv = by_wait[ch->p.wait].recv;
	if (ch->p.stream) {
		ch->send = by_wait[ch->p.wait].put;
		ch->recv = by_wait[ch->p.wait].take;
	}
	return 0;
}

static void line_teardown(struct ik_channel *ch)
{
	ik_waits_teardown(ch);
	if (!ch->priv)
		return;
	ik_channel_mem_free(ch, ch->priv,
			    line_plain(ch) ? line_len(ch) : lines_map_len(ch));
	ch->priv = NULL;
}

const struct ik_transport_ops ik_line_ops = {
	.name = "line",
	.summary = "one shared cache line bounced by busy-polling: the floor",
	.doc = "one shared cache line, busy-polled: the floor. Takes every "
	       "`--wait` strategy",
	.flags = IK_T_SPIN | IK_T_WAIT,
	.setup = line_setup,
	.send = line_send_spin,
	.recv = line_recv_spin,
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
	return line_send_spin(ch, side, buf, len);
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
	if (!line_plain(ch))
		return -EINVAL; /* the delay goes with the plain line only */
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
	.send = line_send_spin,
	.recv = line_recv_spin,
	.teardown = line_teardown,
};
