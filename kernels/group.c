/* SPDX-License-Identifier: MIT */
/*
 * Beyond pairs: more than two parties in one cell, each a member of one
 * crew (kernels/crew.c), so the start gate, the controller and the
 * clean-up are the pairs' own. The shapes (--fanout, --pipeline,
 * --contend; struct ik_config's shape):
 *
 *   fanout 1:N  a producer sends each message to N consumers, one
 *               channel each, and waits for all N echoes. Round trip:
 *               publication to the last echo (a 1:1 fan-out is a
 *               ping-pong); one way: publication to each consumer's
 *               receipt, and end to end, to the last consumer's.
 *   fanout N:1  N producers, each over its own channel, one consumer.
 *               The transports have no wait-for-any, so the consumer
 *               takes them in turn: every producer gets 1/N of the
 *               messages by construction, and what its turn costs it
 *               shows in its own latency (the spread of the producers'
 *               p50 is the fairness figure).
 *   pipeline K  K stages in a ring of K channels: stage 0 sends, each
 *               stage forwards to the next, the last one back to stage
 *               0. Round trip: around the ring (K hand-offs); per hop:
 *               one stage's receipt to the next's; end to end: stage 0
 *               to the last stage's receipt (K-1 hand-offs, one way).
 *   contend N   N CPUs take one cache line by CAS for a fixed time; each
 *               CPU's share of the successful takes, the spread of the
 *               shares, and the hand-offs (a take from another CPU).
 *
 * One-way figures compare timer ticks read on different CPUs: the TSC
 * only where the timer chose it (invariant, and the kernel keeps it in
 * step across CPUs), else CLOCK_MONOTONIC_RAW, one clock for all CPUs.
 * A receipt stamped before its publication (skew) counts as 0 ns and is
 * counted in "skewed".
 *
 * Every message carries its sequence at both ends and a fixed pattern
 * between; every consumer, stage and echo checks all three, and a
 * failure names the party and the message. Counts are fixed (warm-up,
 * then --iters), so every party knows when it is done: no stop flag.
 * The timed loops are one inline function per shape, built once per
 * clock; warm-up runs the same loop with its stamps all written to one
 * slot (stride 0).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "group.h"

const char *const ik_shape_names[] = {"none",	  "fanout",  "fanin",
				      "pipeline", "contend", NULL};

/* Each party's own figures, one line each: written once, at its end. */
struct grp_party {
	alignas(IK_CACHELINE) uint64_t takes; /* contend: successful CAS */
	uint64_t handoffs; /* contend: takes from another CPU's take */
	uint64_t tries;	   /* contend: CAS attempts */
	uint64_t bad_seq;  /* a failed check: the message, what came */
	uint64_t got_seq;
};

struct grp_shared {
	alignas(IK_CACHELINE) _Atomic uint64_t
		line; /* contend: take << 8 | who */
	alignas(IK_CACHELINE) uint64_t t0_ns, t1_ns; /* contend: the span */
	struct grp_party party[IK_GROUP_MAX];
};

struct grp {
	const struct ik_config *cfg;
	const struct ik_timer *timer;
	const struct ik_run *run;
	enum ik_shape shape;
	unsigned n;   /* crew members */
	unsigned nch; /* channels */
	struct ik_channel *ch;
	struct grp_shared *sh;
	/* rows of stamps (ticks), shared: row r is stamps + r * stride */
	uint64_t *stamps;
	size_t stamps_len, stride;
	unsigned nrows;
	unsigned char *ref; /* the pattern every message carries */
	int cpu[IK_GROUP_MAX];
	bool pinned;
	int fault_party; /* IPCKERN_FAULT=seq-P: P; else -1 */
	char names[IK_GROUP_MAX][24];
	const char *name_ptr[IK_GROUP_MAX];
};

static inline uint64_t now(bool tsc)
{
	return tsc ? ik_tsc() : ik_clock_ns();
}

static inline uint64_t *row(const struct grp *g, unsigned r)
{
	return g->stamps + (size_t)r * g->stride;
}

/* ---- messages ---- */

static inline void msg_put(unsigned char *m, size_t len, uint64_t seq)
{
	memcpy(m, &seq, sizeof(seq));
	if (len >= 2 * sizeof(seq))
		memcpy(m + len - sizeof(seq), &seq, sizeof(seq));
}

/* 0 when m is message seq, intact; else -EBADMSG and what came in *got */
static inline int msg_check(const unsigned char *m, const unsigned char *ref,
			    size_t len, uint64_t seq, uint64_t *got)
{
	uint64_t head, tail = seq;

	memcpy(&head, m, sizeof(head));
	if (len >= 2 * sizeof(seq)) {
		memcpy(&tail, m + len - sizeof(seq), sizeof(tail));
		if (ik_unlikely(memcmp(m + sizeof(seq), ref + sizeof(seq),
				       len - 2 * sizeof(seq)))) {
			*got = head;
			return -EBADMSG;
		}
	}
	if (ik_unlikely(head != seq || tail != seq)) {
		*got = head != seq ? head : tail;
		return -EBADMSG;
	}
	return 0;
}

/* ---- the loops: n messages from seq0, stamps at stride (0: warm-up) ---- */

/* fanout 1:N, the producer: row 0 its publications, one more at the end */
static inline int fan_producer(struct grp *g, unsigned char *out,
			       unsigned char *in, uint64_t seq0, uint64_t n,
			       size_t st, bool tsc, unsigned *who)
{
	struct ik_channel *ch = g->ch;
	unsigned nc = g->nch, i = 0;
	size_t len = g->cfg->size;
	uint64_t *tx = row(g, 0), k, got = 0;
	int ret = 0;

	for (k = 0; k < n; k++) {
		msg_put(out, len, seq0 + k);
		tx[k * st] = now(tsc);
		for (i = 0; i < nc; i++)
			if (ik_unlikely(ret = ch[i].send(&ch[i], IK_SIDE_A, out,
							 len)))
				goto fail;
		for (i = 0; i < nc; i++) {
			if (ik_unlikely(ret = ch[i].recv(&ch[i], IK_SIDE_A, in,
							 len)))
				goto fail;
			if (ik_unlikely(ret = msg_check(in, g->ref, len,
							seq0 + k, &got)))
				goto fail;
		}
	}
	tx[n * st] = now(tsc);
	return 0;
fail:
	*who = i;
	g->sh->party[0].bad_seq = seq0 + k;
	g->sh->party[0].got_seq = got;
	return ret;
}

/* an echoing party (a fan-out consumer): receive on side B, stamp, echo */
static inline int echoer(struct grp *g, struct ik_channel *ch, unsigned p,
			 uint64_t *rx, unsigned char *in, uint64_t seq0,
			 uint64_t n, size_t st, bool tsc)
{
	size_t len = g->cfg->size;
	uint64_t k, got = 0;
	int ret;

	for (k = 0; k < n; k++) {
		if (ik_unlikely(ret = ch->recv(ch, IK_SIDE_B, in, len)))
			return ret;
		rx[k * st] = now(tsc);
		if (ik_unlikely(ret = ch->send(ch, IK_SIDE_B, in, len)))
			return ret;
		if (ik_unlikely(
			    ret = msg_check(in, g->ref, len, seq0 + k, &got))) {
			g->sh->party[p].bad_seq = seq0 + k;
			g->sh->party[p].got_seq = got;
			return ret;
		}
	}
	return 0;
}

/* fanout N:1, the consumer: producers in turn, row N + i producer i's */
static inline int fanin_consumer(struct grp *g, unsigned char *in,
				 uint64_t seq0, uint64_t n, size_t st, bool tsc,
				 unsigned *who)
{
	struct ik_channel *ch = g->ch;
	unsigned np = g->nch, i = 0;
	size_t len = g->cfg->size;
	uint64_t k, got = 0;
	int ret = 0;

	for (k = 0; k < n; k++)
		for (i = 0; i < np; i++) {
			if (ik_unlikely(ret = ch[i].recv(&ch[i], IK_SIDE_B, in,
							 len)))
				goto fail;
			row(g, np + i)[k * st] = now(tsc);
			if (ik_unlikely(ret = ch[i].send(&ch[i], IK_SIDE_B, in,
							 len)))
				goto fail;
			if (ik_unlikely(ret = msg_check(in, g->ref, len,
							seq0 + k, &got))) {
				g->sh->party[0].bad_seq = seq0 + k;
				g->sh->party[0].got_seq = got;
				goto fail;
			}
		}
	return 0;
fail:
	*who = i;
	return ret;
}

/* a party that sends and waits for its message back: a fan-in producer
 * (one channel, side A), pipeline stage 0 (out on one, back on another) */
static inline int sender(struct grp *g, struct ik_channel *o, enum ik_side os,
			 struct ik_channel *b, enum ik_side bs, unsigned p,
			 uint64_t *tx, unsigned char *out, unsigned char *in,
			 uint64_t seq0, uint64_t n, size_t st, bool tsc)
{
	size_t len = g->cfg->size;
	uint64_t k, got = 0;
	int ret;

	for (k = 0; k < n; k++) {
		msg_put(out, len, seq0 + k);
		tx[k * st] = now(tsc);
		if (ik_unlikely(ret = o->send(o, os, out, len)) ||
		    ik_unlikely(ret = b->recv(b, bs, in, len)))
			return ret;
		if (ik_unlikely(
			    ret = msg_check(in, g->ref, len, seq0 + k, &got))) {
			g->sh->party[p].bad_seq = seq0 + k;
			g->sh->party[p].got_seq = got;
			return ret;
		}
	}
	tx[n * st] = now(tsc);
	return 0;
}

/* pipeline stage j > 0: receive on ch[j-1] (B), stamp, forward on ch[j] */
static inline int stage(struct grp *g, unsigned j, unsigned char *in,
			uint64_t seq0, uint64_t n, size_t st, bool tsc)
{
	struct ik_channel *ci = &g->ch[j - 1], *co = &g->ch[j % g->nch];
	uint64_t *rx = row(g, j), k, got = 0;
	size_t len = g->cfg->size;
	int ret;

	for (k = 0; k < n; k++) {
		if (ik_unlikely(ret = ci->recv(ci, IK_SIDE_B, in, len)))
			return ret;
		rx[k * st] = now(tsc);
		if (ik_unlikely(ret = co->send(co, IK_SIDE_A, in, len)))
			return ret;
		if (ik_unlikely(
			    ret = msg_check(in, g->ref, len, seq0 + k, &got))) {
			g->sh->party[j].bad_seq = seq0 + k;
			g->sh->party[j].got_seq = got;
			return ret;
		}
	}
	return 0;
}

/* contend: take the line by CAS until the deadline (ns), checked every
 * 256 tries; the take count lives in the line itself, the owner in its
 * low byte, so a take from another CPU is a hand-off */
static int contender(struct grp *g, unsigned p, uint64_t deadline)
{
	_Atomic uint64_t *line = &g->sh->line;
	uint64_t takes = 0, hand = 0, tries = 0, old, me = p;
	unsigned k;

	do {
		for (k = 0; k < 256; k++) {
			old = atomic_load_explicit(line, memory_order_relaxed);
			if (atomic_compare_exchange_strong_explicit(
				    line, &old, ((old >> 8) + 1) << 8 | me,
				    memory_order_acq_rel,
				    memory_order_relaxed)) {
				takes++;
				hand += (old & 0xff) != me;
			}
		}
		tries += 256;
	} while (ik_clock_ns() < deadline);
	g->sh->party[p].takes = takes;
	g->sh->party[p].handoffs = hand;
	g->sh->party[p].tries = tries;
	return 0;
}

/* ---- one party ---- */

struct grp_loop_args {
	unsigned char *out, *in;
	unsigned who; /* the channel a failure was on */
};

/* party p's loop over n messages from seq0; tsc is a constant below */
static inline int party_loop(struct grp *g, unsigned p, struct grp_loop_args *a,
			     uint64_t seq0, uint64_t n, size_t st, bool tsc)
{
	switch (g->shape) {
	case IK_SHAPE_FANOUT:
		if (!p)
			return fan_producer(g, a->out, a->in, seq0, n, st, tsc,
					    &a->who);
		return echoer(g, &g->ch[p - 1], p, row(g, p), a->in, seq0, n,
			      st, tsc);
	case IK_SHAPE_FANIN:
		if (!p)
			return fanin_consumer(g, a->in, seq0, n, st, tsc,
					      &a->who);
		return sender(g, &g->ch[p - 1], IK_SIDE_A, &g->ch[p - 1],
			      IK_SIDE_A, p, row(g, p - 1), a->out, a->in, seq0,
			      n, st, tsc);
	case IK_SHAPE_PIPELINE:
		if (!p)
			return sender(g, &g->ch[0], IK_SIDE_A,
				      &g->ch[g->nch - 1], IK_SIDE_B, 0,
				      row(g, 0), a->out, a->in, seq0, n, st,
				      tsc);
		return stage(g, p, a->in, seq0, n, st, tsc);
	default:
		return -EINVAL;
	}
}

static __attribute__((noinline)) int loop_tsc(struct grp *g, unsigned p,
					      struct grp_loop_args *a,
					      uint64_t seq0, uint64_t n,
					      size_t st)
{
	return party_loop(g, p, a, seq0, n, st, true);
}

static __attribute__((noinline)) int loop_clock(struct grp *g, unsigned p,
						struct grp_loop_args *a,
						uint64_t seq0, uint64_t n,
						size_t st)
{
	return party_loop(g, p, a, seq0, n, st, false);
}

/* The channels party p uses, and on which side. */
static unsigned party_sides(const struct grp *g, unsigned p,
			    struct ik_channel **chs, enum ik_side *sides)
{
	unsigned k = 0, i;

	switch (g->shape) {
	case IK_SHAPE_FANOUT:
	case IK_SHAPE_FANIN:
		if (!p) {
			for (i = 0; i < g->nch; i++) {
				chs[k] = &g->ch[i];
				sides[k++] = g->shape == IK_SHAPE_FANOUT
						     ? IK_SIDE_A
						     : IK_SIDE_B;
			}
		} else {
			chs[k] = &g->ch[p - 1];
			sides[k++] = g->shape == IK_SHAPE_FANOUT ? IK_SIDE_B
								 : IK_SIDE_A;
		}
		break;
	case IK_SHAPE_PIPELINE:
		chs[k] = &g->ch[p];
		sides[k++] = IK_SIDE_A;
		chs[k] = &g->ch[(p + g->nch - 1) % g->nch];
		sides[k++] = IK_SIDE_B;
		break;
	default:
		break;
	}
	return k;
}

static void abort_all(struct grp *g)
{
	unsigned i;

	for (i = 0; i < g->nch; i++)
		ik_channel_abort(&g->ch[i]);
}

/* What a failed check says: the party, the message, what came. */
static void bad_message(struct ik_crew *c, struct grp *g, unsigned p,
			unsigned who)
{
	const struct grp_party *q = &g->sh->party[p];
	char from[48] = "";

	if (g->shape == IK_SHAPE_FANOUT && !p)
		snprintf(from, sizeof(from), " (echo of %s)",
			 g->name_ptr[who + 1]);
	else if (g->shape == IK_SHAPE_FANIN && !p)
		snprintf(from, sizeof(from), " (from %s)",
			 g->name_ptr[who + 1]);
	ik_crew_fail(c, p, -EBADMSG,
		     "%s%s: message %llu failed its check: sequence "
		     "%llu came, or its payload differs",
		     g->name_ptr[p], from, (unsigned long long)q->bad_seq,
		     (unsigned long long)q->got_seq);
}

static int party_main(struct ik_crew *c, unsigned p)
{
	struct grp *g = c->arg;
	const struct ik_config *cfg = g->cfg;
	bool tsc = g->timer->kind == IK_CLOCK_TSC;
	struct ik_channel *chs[IK_GROUP_MAX];
	enum ik_side sides[IK_GROUP_MAX];
	struct grp_loop_args a = {0};
	struct ik_cpu_mark mark;
	struct ik_cpu_usage use;
	unsigned k, nside = party_sides(g, p, chs, sides);
	uint64_t seq_skew = 0;
	int ret = 0;

	if (g->pinned) {
		ret = ik_bind_self(g->run->topo, g->cpu[p]);
		if (ret == -EXDEV)
			ret = 0; /* where it ran, cpu_seen says */
		else if (ret)
			ik_crew_fail(c, p, ret, "%s: pin to CPU %d: %s",
				     g->name_ptr[p], g->cpu[p], strerror(-ret));
	}
	c->sh->m[p].cpu_seen = sched_getcpu();
	for (k = 0; !ret && k < nside; k++)
		if ((ret = ik_channel_open_side(chs[k], sides[k])))
			ik_crew_fail(c, p, ret, "%s: open_side: %s",
				     g->name_ptr[p], strerror(-ret));
	if (!ret && g->shape != IK_SHAPE_CONTEND) {
		a.out = malloc(cfg->size);
		a.in = calloc(1, cfg->size);
		if (!a.out || !a.in)
			ret = -ENOMEM;
		else
			memcpy(a.out, g->ref, cfg->size);
	}
	/* IPCKERN_FAULT=seq-P (tests): party P expects every message one
	 * ahead, so its first check fails; set before the loops */
	if (!ret && g->fault_party == (int)p)
		seq_skew = 1;
	if (!ret && (ret = ik_crew_barrier(c)))
		ik_crew_fail(c, p, ret, "%s: start gate: %s", g->name_ptr[p],
			     strerror(-ret));
	ik_cpu_mark(&mark);
	if (!ret && g->shape == IK_SHAPE_CONTEND) {
		uint64_t t0 = ik_clock_ns();

		/* the gate's opening is everyone's start: one deadline */
		if (!p)
			g->sh->t0_ns = c->sh->start.t_open_ns;
		ret = contender(g, p,
				c->sh->start.t_open_ns + cfg->duration_ns);
		if (!p)
			g->sh->t1_ns = ik_clock_ns();
		(void)t0;
	} else if (!ret) {
		/* warm-up: the same loop, every stamp into one slot */
		ret = tsc ? loop_tsc(g, p, &a, seq_skew, cfg->warmup, 0)
			  : loop_clock(g, p, &a, seq_skew, cfg->warmup, 0);
		if (!ret)
			ret = tsc ? loop_tsc(g, p, &a, cfg->warmup + seq_skew,
					     cfg->iters, 1)
				  : loop_clock(g, p, &a, cfg->warmup + seq_skew,
					       cfg->iters, 1);
		if (ret == -EBADMSG)
			bad_message(c, g, p, a.who);
	}
	ik_cpu_since(&mark, &use);
	ik_crew_add_cpu(c, p, &use);
	free(a.out);
	free(a.in);
	if (ret && ret != -ECANCELED)
		ik_crew_fail(c, p, ret, "%s: %s", g->name_ptr[p],
			     strerror(-ret));
	if (ret) /* the others stop at once, in their own processes too */
		abort_all(g);
	return ret;
}

static void grp_unblock(struct ik_crew *c)
{
	abort_all(c->arg);
}

static void grp_tick(struct ik_crew *c)
{
	struct grp *g = c->arg;
	unsigned i;

	for (i = 0; i < g->nch; i++)
		if (g->ch[i].ops->watch)
			g->ch[i].ops->watch(&g->ch[i]);
}

/* ---- set-up and results ---- */

unsigned ik_group_parties(const struct ik_config *cfg)
{
	switch (cfg->shape) {
	case IK_SHAPE_FANOUT:
	case IK_SHAPE_FANIN:
		return cfg->shape_n + 1;
	case IK_SHAPE_PIPELINE:
	case IK_SHAPE_CONTEND:
		return cfg->shape_n;
	default:
		return 0;
	}
}

static void name_parties(struct grp *g)
{
	unsigned p;

	for (p = 0; p < g->n; p++) {
		switch (g->shape) {
		case IK_SHAPE_FANOUT:
			if (p)
				snprintf(g->names[p], 24, "consumer %u", p);
			else
				snprintf(g->names[p], 24, "producer");
			break;
		case IK_SHAPE_FANIN:
			if (p)
				snprintf(g->names[p], 24, "producer %u", p);
			else
				snprintf(g->names[p], 24, "consumer");
			break;
		case IK_SHAPE_PIPELINE:
			snprintf(g->names[p], 24, "stage %u", p);
			break;
		default:
			snprintf(g->names[p], 24, "contender %u", p);
			break;
		}
		g->name_ptr[p] = g->names[p];
	}
}

/* ticks b - a as ns; a receipt before its publication is skew: 0 */
static uint64_t span_ns(const struct ik_timer *t, uint64_t a, uint64_t b,
			uint64_t *skewed)
{
	if (b < a) {
		(*skewed)++;
		return 0;
	}
	return ik_ticks_to_ns(t, b - a);
}

static void fill_result(struct grp *g, struct ik_result *res)
{
	struct ik_group_result *gr = res->group;
	const struct ik_timer *t = g->timer;
	uint64_t n = g->cfg->iters, k, i;

	switch (g->shape) {
	case IK_SHAPE_FANOUT:
		for (k = 0; k < n; k++) {
			uint64_t tx = row(g, 0)[k], last = tx;

			ik_hist_record(
				&res->hist,
				ik_ticks_to_ns(t, row(g, 0)[k + 1] - tx));
			for (i = 1; i < g->n; i++) {
				uint64_t rx = row(g, (unsigned)i)[k];

				ik_hist_record(&gr->hist[i],
					       span_ns(t, tx, rx, &gr->skewed));
				last = rx > last ? rx : last;
			}
			ik_hist_record(&gr->e2e,
				       span_ns(t, tx, last, &gr->skewed));
		}
		res->count = n;
		break;
	case IK_SHAPE_FANIN:
		/* row i-1: producer i's sends; row N + i-1: its receipts */
		for (i = 1; i < g->n; i++) {
			const uint64_t *tx = row(g, (unsigned)i - 1),
				       *rx = row(g, g->nch + (unsigned)i - 1);

			for (k = 0; k < n; k++) {
				uint64_t rt =
					ik_ticks_to_ns(t, tx[k + 1] - tx[k]);

				ik_hist_record(&res->hist, rt);
				ik_hist_record(&gr->hist[i], rt);
				ik_hist_record(
					&gr->oneway[i],
					span_ns(t, tx[k], rx[k], &gr->skewed));
			}
		}
		res->count = n * g->nch;
		break;
	case IK_SHAPE_PIPELINE:
		for (k = 0; k < n; k++) {
			uint64_t tx = row(g, 0)[k], prev = tx;

			ik_hist_record(
				&res->hist,
				ik_ticks_to_ns(t, row(g, 0)[k + 1] - tx));
			/* hist[j]: the hop into stage j; hist[0] the return */
			for (i = 1; i < g->n; i++) {
				uint64_t rx = row(g, (unsigned)i)[k];

				ik_hist_record(
					&gr->hist[i],
					span_ns(t, prev, rx, &gr->skewed));
				prev = rx;
			}
			ik_hist_record(&gr->hist[0],
				       span_ns(t, prev, row(g, 0)[k + 1],
					       &gr->skewed));
			ik_hist_record(&gr->e2e,
				       span_ns(t, tx, prev, &gr->skewed));
		}
		res->count = n;
		break;
	case IK_SHAPE_CONTEND:
		gr->total = atomic_load(&g->sh->line) >> 8;
		gr->seconds = (double)(g->sh->t1_ns - g->sh->t0_ns) / 1e9;
		res->count = gr->total;
		res->wall_ns = g->sh->t1_ns - g->sh->t0_ns;
		for (i = 0; i < g->n; i++) {
			gr->takes[i] = g->sh->party[i].takes;
			gr->handoffs[i] = g->sh->party[i].handoffs;
			gr->tries[i] = g->sh->party[i].tries;
		}
		break;
	default:
		break;
	}
	if (g->shape != IK_SHAPE_CONTEND) {
		uint64_t t0 = row(g, 0)[0], t1 = row(g, 0)[n];

		/* fan-in: the first producer's span stands for the cell's */
		res->wall_ns = ik_ticks_to_ns(t, t1 - t0);
	}
}

void ik_group_free(struct ik_group_result *gr)
{
	unsigned i;

	if (!gr)
		return;
	for (i = 0; i < IK_GROUP_MAX; i++) {
		ik_hist_free(&gr->hist[i]);
		ik_hist_free(&gr->oneway[i]);
	}
	ik_hist_free(&gr->e2e);
	free(gr);
}

static struct ik_group_result *group_new(const struct ik_config *cfg)
{
	struct ik_group_result *gr = calloc(1, sizeof(*gr));
	unsigned i, n = ik_group_parties(cfg);
	int ret = 0;

	if (!gr)
		return NULL;
	gr->shape = cfg->shape;
	gr->shape_n = cfg->shape_n;
	gr->parties = n;
	for (i = 0; i < n && !ret && cfg->shape != IK_SHAPE_CONTEND; i++) {
		ret = ik_hist_init(&gr->hist[i], IK_HIST_MAX_NS);
		if (!ret && cfg->shape == IK_SHAPE_FANIN)
			ret = ik_hist_init(&gr->oneway[i], IK_HIST_MAX_NS);
	}
	if (!ret && cfg->shape != IK_SHAPE_CONTEND)
		ret = ik_hist_init(&gr->e2e, IK_HIST_MAX_NS);
	if (ret) {
		ik_group_free(gr);
		return NULL;
	}
	return gr;
}

/* CPUs the parties may use: the pinned ones, distinct, or the allowed */
static unsigned cpus_for(const struct ik_config *cfg)
{
	cpu_set_t set;
	unsigned i, n = 0;

	if (cfg->pinned && cfg->ncpu) {
		CPU_ZERO(&set);
		for (i = 0; i < cfg->ncpu; i++)
			if (cfg->cpu[i] >= 0 && cfg->cpu[i] < CPU_SETSIZE)
				CPU_SET(cfg->cpu[i], &set);
		return (unsigned)CPU_COUNT(&set);
	}
	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = (unsigned)CPU_COUNT(&set);
	return n ? n : 1;
}

int ik_group(const struct ik_config *cfg, const struct ik_transport_ops *ops,
	     enum ik_mode mode, const struct ik_run *run, struct ik_result *res)
{
	unsigned n = ik_group_parties(cfg), ncpus = cpus_for(cfg), i;
	struct grp g = {.cfg = cfg,
			.timer = run->timer,
			.run = run,
			.shape = cfg->shape,
			.n = n,
			.pinned = cfg->pinned};
	struct ik_cpu_usage use[IK_GROUP_MAX];
	int seen[IK_GROUP_MAX];
	struct ik_chan_params p = {
		.size = cfg->size,
		.buffer = cfg->buffer,
		.mode = mode,
		.wait = cfg->wait,
		/* parties sharing a CPU: a spinner must yield now and then */
		.unpinned = !cfg->pinned || n > ncpus,
		.same_pu = cfg->pinned && ncpus == 1,
		.bind_node = run->mem_node >= 0,
		.node = run->mem_node,
	};
	struct ik_crew crew;
	int ret = 0;

	const char *fault = getenv(IK_FAULT_ENV);

	g.fault_party =
		fault && !strncmp(fault, "seq-", 4) ? atoi(fault + 4) : -1;
	ik_result_begin(res, cfg, ops, mode, run->topo);
	res->kernel = &ik_kernel_group;
	res->warmup = cfg->shape == IK_SHAPE_CONTEND ? 0 : cfg->warmup;
	if (!n || n > IK_GROUP_MAX) {
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "no --fanout, --pipeline or --contend");
		return res->err = -EINVAL;
	}
	for (i = 0; i < n; i++)
		g.cpu[i] =
			cfg->pinned && cfg->ncpu ? cfg->cpu[i % cfg->ncpu] : -1;
	name_parties(&g);
	switch (g.shape) {
	case IK_SHAPE_FANOUT:
	case IK_SHAPE_FANIN:
		g.nch = n - 1;
		g.nrows = g.shape == IK_SHAPE_FANOUT ? n : 2 * (n - 1);
		break;
	case IK_SHAPE_PIPELINE:
		g.nch = n;
		g.nrows = n;
		break;
	default:
		break;
	}
	res->group = group_new(cfg);
	g.sh = ik_shm_alloc_on(sizeof(*g.sh), run->mem_node);
	g.ch = calloc(g.nch ? g.nch : 1, sizeof(*g.ch));
	g.ref = malloc(cfg->size ? cfg->size : 1);
	g.stride = (size_t)cfg->iters + 1;
	g.stamps_len = g.nrows * g.stride * sizeof(uint64_t);
	g.stamps =
		g.nrows ? ik_shm_alloc_on(g.stamps_len, run->mem_node) : NULL;
	if (ik_hist_init(&res->hist, IK_HIST_MAX_NS) || !res->group || !g.sh ||
	    !g.ch || !g.ref || (g.nrows && !g.stamps)) {
		snprintf(res->errmsg, sizeof(res->errmsg), "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	res->group->oversubscribed = n > ncpus;
	res->group->ncpus = ncpus;
	for (i = 0; i < cfg->size; i++)
		g.ref[i] = (unsigned char)(i * 131 + 7);
	for (i = 0; i < g.nch; i++) {
		if (!(ret = ik_channel_init(&g.ch[i], ops, &p)))
			continue;
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "%s setup (channel %u of %u): %s%s%s", ops->name,
			 i + 1, g.nch, strerror(-ret),
			 ops->setup_hint ? ": " : "",
			 ops->setup_hint ? ops->setup_hint : "");
		while (i--)
			ik_channel_destroy(&g.ch[i]);
		g.nch = 0;
		goto out;
	}
	if (g.nch)
		snprintf(res->granted, sizeof(res->granted), "%s",
			 g.ch[0].granted);
	crew = (struct ik_crew){
		.n = n,
		.mode = mode,
		.run = run,
		.timeout_ns = cfg->timeout_ns,
		.body = party_main,
		.unblock = grp_unblock,
		.tick = grp_tick,
		.arg = &g,
		.names = g.name_ptr,
		.cpu = use,
		.cpu_seen = seen,
	};
	ret = ik_crew_run(&crew);
	if (crew.stuck) { /* a thread is still inside: leave it all be */
		snprintf(res->errmsg, sizeof(res->errmsg), "%s", crew.errmsg);
		return res->err = ret;
	}
	if (crew.end == IK_CREW_TIMEOUT)
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "timed out after %.1f s (--timeout)",
			 (double)cfg->timeout_ns / 1e9);
	else if (crew.end == IK_CREW_INTERRUPT)
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "interrupted by a signal");
	else if (ret)
		snprintf(res->errmsg, sizeof(res->errmsg), "%s", crew.errmsg);
	for (i = 0; i < n; i++) {
		res->group->cpu[i] = g.cpu[i];
		res->group->cpu_seen[i] = seen[i];
		res->group->use[i] = use[i];
		if (i)
			ik_cpu_add(&res->cpu[1], &use[i]);
	}
	res->cpu[0] = use[0];
	res->cpu_seen[0] = seen[0];
	res->cpu_seen[1] = n > 1 ? seen[1] : -1;
	if (g.nch)
		res->mem_node = ik_shm_node_of(g.ch[0].sh);
	if (!ret)
		fill_result(&g, res);
	for (i = 0; i < g.nch; i++)
		ik_channel_destroy(&g.ch[i]);
out:
	free(g.ch);
	free(g.ref);
	ik_shm_free(g.stamps, g.stamps_len);
	ik_shm_free(g.sh, sizeof(*g.sh));
	return res->err = ret;
}

/* ---- how it combines with the rest ---- */

static bool method_ok(const struct ik_transport_ops *m)
{
	static const char *const ok[] = {"spsc", "futex", "eventfd", "pipe",
					 "uds",	 "tcp",	  NULL};
	unsigned i;

	for (i = 0; ok[i]; i++)
		if (!strcmp(m->name, ok[i]))
			return true;
	return false;
}

const char *ik_shape_option(enum ik_shape s)
{
	return s == IK_SHAPE_PIPELINE  ? "--pipeline"
	       : s == IK_SHAPE_CONTEND ? "--contend"
				       : "--fanout";
}

int ik_group_validate(const struct ik_config *c, const struct ik_sweep *sw,
		      char *msg, size_t len)
{
	const char *opt = ik_shape_option(c->shape);
	unsigned n = ik_group_parties(c), cpus = cpus_for(c), i;

	if (c->shape == IK_SHAPE_NONE) {
		snprintf(msg, len,
			 "--kernel group: give its shape, --fanout 1:N or N:1, "
			 "--pipeline K or --contend N");
		return -EINVAL;
	}
	for (i = 0; i < sw->nmethods; i++) {
		const char *m = sw->methods[i]->name;

		if (c->shape == IK_SHAPE_CONTEND && strcmp(m, "line")) {
			snprintf(msg, len,
				 "--contend: bounces one cache line by CAS, "
				 "no transport: use --method line (not %s)",
				 m);
			return -EINVAL;
		}
		if (c->shape != IK_SHAPE_CONTEND &&
		    !method_ok(sw->methods[i])) {
			snprintf(msg, len,
				 "%s: method %s is not supported; allowed: "
				 "spsc, futex, eventfd, pipe, uds, tcp",
				 opt, m);
			return -EINVAL;
		}
	}
	if (c->shape != IK_SHAPE_CONTEND && c->duration_ns) {
		snprintf(msg, len,
			 "%s: runs a fixed count of messages (--iters), not "
			 "--duration",
			 opt);
		return -EINVAL;
	}
	for (i = 0; c->shape != IK_SHAPE_CONTEND && i < sw->nsizes; i++)
		if (sw->sizes[i] < 8) {
			snprintf(msg, len,
				 "%s with --size %zu: each message carries its "
				 "8-byte sequence; use --size 8 or more",
				 opt, sw->sizes[i]);
			return -EINVAL;
		}
	if (sw->ngaps > 1 || (sw->ngaps && sw->gaps[0]) || sw->npairs > 1 ||
	    (sw->npairs && sw->pairs[0] > 1)) {
		snprintf(msg, len,
			 "%s: one group at a time, back to back; drop --gap "
			 "and --pairs",
			 opt);
		return -EINVAL;
	}
	/* each party's stamps, one row of iters + 1 each (fan-in: two) */
	if (c->shape != IK_SHAPE_CONTEND &&
	    (double)(2 * n) * (double)(c->iters + 1) * 8.0 >
		    (double)sysconf(_SC_PHYS_PAGES) *
			    (double)sysconf(_SC_PAGESIZE) / 2) {
		snprintf(msg, len,
			 "%s with --iters %llu: %u parties' stamps need "
			 "%.0f MiB, over half this machine's memory; use "
			 "fewer --iters",
			 opt, (unsigned long long)c->iters, n,
			 2.0 * n * (double)(c->iters + 1) * 8 / (1 << 20));
		return -EINVAL;
	}
	if (c->pinned && c->ncpu > n) {
		snprintf(msg, len,
			 "--pin: %u CPUs for %u parties; give at most one per "
			 "party",
			 c->ncpu, n);
		return -EINVAL;
	}
	if (n > cpus && !c->oversubscribe) {
		snprintf(msg, len,
			 "%s: %u parties and %s %u CPU%s: they would take "
			 "turns on a CPU, and spinning parties then wait for "
			 "the scheduler; add --oversubscribe to run so (the "
			 "report says it was), or give %u CPUs",
			 opt, n, c->pinned ? "--pin gives" : "this process has",
			 cpus, cpus == 1 ? "" : "s", n);
		return -EINVAL;
	}
	return 0;
}

/* --repeat: the parties' figures add up, histograms merge */
void ik_group_pool(struct ik_result *dst, const struct ik_result *src,
		   unsigned r)
{
	struct ik_group_result *d = dst->group;
	const struct ik_group_result *s = src->group;
	unsigned i;

	(void)r;
	if (!d || !s)
		return;
	for (i = 0; i < d->parties; i++) {
		if (d->hist[i].counts)
			ik_hist_merge(&d->hist[i], &s->hist[i]);
		if (d->oneway[i].counts)
			ik_hist_merge(&d->oneway[i], &s->oneway[i]);
		d->takes[i] += s->takes[i];
		d->handoffs[i] += s->handoffs[i];
		d->tries[i] += s->tries[i];
		ik_cpu_add(&d->use[i], &s->use[i]);
	}
	if (d->e2e.counts)
		ik_hist_merge(&d->e2e, &s->e2e);
	d->total += s->total;
	d->seconds += s->seconds;
	d->skewed += s->skewed;
}
