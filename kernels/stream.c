/* SPDX-License-Identifier: MIT */
/*
 * Stream: side A sends messages back to back, side B receives them. What
 * counts is how many messages and bytes per second get through, what each
 * costs in CPU on either side and, when the two CPUs' TSCs agree, how long
 * each message took one way: A stamps its TSC into the message, B subtracts
 * it from its own on receipt, corrected by the offset between the two TSCs
 * measured just before (a bounced cache line, min round trip over 256
 * tries, offset = B's stamp minus the midpoint of A's two).
 *
 * Message layout when it fits: [seq u64][send tsc u64][checksum u64][...].
 * seq and the checksum are only checked with --verify; the stamp needs 16
 * bytes, verify 24. The last message is marked by the shared stop flag and
 * the count A sent, so B never mistakes a late message for the end.
 *
 * A spinning spsc stream without --verify, --rate or a fault runs loops of
 * its own with the ring's hot path inline (ik_spsc_put/take: no indirect
 * call, no per-message store of the position), and stamps one message in
 * SPSC_STAMP_EVERY: reading the TSC and writing the stamp every message
 * cost the 64 B stream ~20% against a bare ring.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "kernels.h"

#define SYNC_TRIES	 256
#define SPSC_STAMP_EVERY 64 /* power of two */

struct st_shared {
	alignas(IK_CACHELINE) _Atomic int stop; /* A: sent holds the count */
	alignas(IK_CACHELINE) uint64_t sent;	/* written by A */
	uint64_t a_start_ns;
	uint64_t max_lag_ticks; /* --rate: worst lateness of a send */
	uint64_t late;		/* --rate: sends over one interval late */
	alignas(IK_CACHELINE) uint64_t received; /* written by B */
	uint64_t b_end_ns;
	uint64_t lat_every; /* B: one message in this many was stamped */
	int64_t bad_at;	    /* first message that failed --verify, or -1 */
	int bad_kind;	    /* 1 sequence, 2 checksum */
	uint64_t bad_seq;   /* the sequence number it carried */
	/* TSC offset probe: A writes req, B answers with its stamp */
	alignas(IK_CACHELINE) _Atomic uint64_t req;
	alignas(IK_CACHELINE) _Atomic uint64_t resp;
	uint64_t b_tsc;
	int64_t offset_ticks; /* B's TSC minus A's */
	uint64_t offset_err_ticks;
};

struct st {
	const struct ik_config *cfg;
	const struct ik_timer *timer;
	struct st_shared *sh;
	int64_t *lat; /* B's one-way samples, ticks; shared */
	size_t lat_len;
	unsigned char *buf[2]; /* each side's own */
	bool stamp, verify;
	int fault; /* test hook: 'c' corrupt, 'd'+'r' drop, 'd'+'u' dup */
	uint64_t stall_at; /* test hook: --rate sender sleeps 10 ms here */
};

uint64_t ik_csum64(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0x9E3779B97F4A7C15ULL, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001B3ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ b[i]) * 0x100000001B3ULL;
	return h;
}

/* Offset of B's TSC against A's, from the tightest of SYNC_TRIES. */
static int sync_a(struct ik_channel *ch, struct st_shared *sh)
{
	uint64_t best = UINT64_MAX;
	unsigned k, n = 0;

	for (k = 0; k < SYNC_TRIES; k++) {
		uint64_t t0 = ik_tsc(), t1;

		atomic_store_explicit(&sh->req, k + 1, memory_order_release);
		while (atomic_load_explicit(&sh->resp, memory_order_acquire) !=
		       k + 1)
			if (ik_spin_step(ch, &n))
				return -ECANCELED;
		t1 = ik_tsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			sh->offset_ticks = (int64_t)sh->b_tsc -
					   (int64_t)(t0 + (t1 - t0) / 2);
			sh->offset_err_ticks = (t1 - t0 + 1) / 2;
		}
	}
	return 0;
}

static int sync_b(struct ik_channel *ch, struct st_shared *sh)
{
	unsigned k, n = 0;

	for (k = 0; k < SYNC_TRIES; k++) {
		while (atomic_load_explicit(&sh->req, memory_order_acquire) !=
		       k + 1)
			if (ik_spin_step(ch, &n))
				return -ECANCELED;
		sh->b_tsc = ik_tsc();
		atomic_store_explicit(&sh->resp, k + 1, memory_order_release);
	}
	return 0;
}

/*
 * A's loop; stamp is a constant in each caller, so each variant has no
 * branch on it. The deadline is read every 1024 messages (UINT64_MAX
 * without --duration): a vDSO read took a fifth of the sender's time at
 * 8 B when it was every 16 (perf, KVM on AMD EPYC); 1024 spsc messages
 * take ~20 us, so --duration overshoots by that at most.
 */
static inline int send_loop(struct ik_channel *ch, unsigned char *m, size_t len,
			    uint64_t n, uint64_t deadline, bool stamp,
			    uint64_t *sent)
{
	ik_send_fn send = ch->send;
	uint64_t i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (stamp) {
			uint64_t t = ik_tsc();

			memcpy(m, &i, 8);
			memcpy(m + 8, &t, 8);
		}
		if (ik_unlikely(ret = send(ch, IK_SIDE_A, m, len)))
			break;
		if (ik_unlikely((i & 1023) == 1023) &&
		    ik_clock_ns() >= deadline) {
			i++;
			break;
		}
	}
	*sent = i;
	return ret;
}

static __attribute__((noinline)) int send_stamped(struct ik_channel *ch,
						  unsigned char *m, size_t len,
						  uint64_t n, uint64_t dl,
						  uint64_t *sent)
{
	return send_loop(ch, m, len, n, dl, true, sent);
}

static __attribute__((noinline)) int send_plain(struct ik_channel *ch,
						unsigned char *m, size_t len,
						uint64_t n, uint64_t dl,
						uint64_t *sent)
{
	return send_loop(ch, m, len, n, dl, false, sent);
}

/* A's loop over spsc's ring, inline; stamp is a constant per caller. */
static inline int spsc_send_loop(struct ik_channel *ch, unsigned char *m,
				 size_t len, uint64_t n, uint64_t deadline,
				 bool stamp, uint64_t *sent)
{
	struct ik_spsc_cursor o, c;
	uint64_t i;
	int ret;

	if ((ret = ik_spsc_open(ch, IK_SIDE_A, &o)))
		return ret;
	c = o; /* its address never escapes: it lives in registers */
	for (i = 0; i < n; i++) {
		if (stamp && (i & (SPSC_STAMP_EVERY - 1)) == 0) {
			uint64_t t = ik_tsc();

			memcpy(m, &i, 8);
			memcpy(m + 8, &t, 8);
		}
		if (ik_unlikely(ret = ik_spsc_put(ch, &c, m, len)))
			break;
		if (ik_unlikely((i & 1023) == 1023) &&
		    ik_clock_ns() >= deadline) {
			i++;
			break;
		}
	}
	ik_spsc_close(ch, IK_SIDE_A, c);
	*sent = i;
	return ret;
}

static __attribute__((noinline)) int
spsc_send_stamped(struct ik_channel *ch, unsigned char *m, size_t len,
		  uint64_t n, uint64_t dl, uint64_t *sent)
{
	return spsc_send_loop(ch, m, len, n, dl, true, sent);
}

static __attribute__((noinline)) int
spsc_send_plain(struct ik_channel *ch, unsigned char *m, size_t len, uint64_t n,
		uint64_t dl, uint64_t *sent)
{
	return spsc_send_loop(ch, m, len, n, dl, false, sent);
}

/*
 * Test hooks (IPCKERN_FAULT=corrupt|drop|dup): message 10 is sent with a
 * flipped payload byte, not at all, or twice. A loop of its own, so the
 * measured loops carry no trace of it.
 */
static int send_faulty(struct ik_channel *ch, struct st *st, uint64_t *sent)
{
	unsigned char *m = st->buf[0];
	size_t len = st->cfg->size;
	uint64_t i;
	int ret;

	for (i = 0; i < st->cfg->iters; i++) {
		uint64_t t = ik_tsc();

		memcpy(m, &i, 8);
		memcpy(m + 8, &t, 8);
		if (i == 10 && st->fault == 'd' + 'r')
			continue;
		if (i == 10 && st->fault == 'c')
			m[len - 1] ^= 1;
		ret = ch->send(ch, IK_SIDE_A, m, len);
		if (i == 10 && st->fault == 'c')
			m[len - 1] ^= 1;
		if (!ret && i == 10 && st->fault == 'd' + 'u')
			ret = ch->send(ch, IK_SIDE_A, m, len);
		if (ret)
			return ret;
	}
	*sent = i;
	return 0;
}

/*
 * --rate: open loop. Message i is due at start + i * interval and carries
 * that due time, not the time it actually left, so when the sender (or the
 * transport under it) stalls, every message that should have gone out
 * meanwhile shows the stall in its latency: no coordinated omission.
 *
 * A long wait sleeps, then spins the last stretch to the due time. The
 * sleep must not be what the latency measures: the thread's timer slack
 * (50 us by default) goes to 1 ns while it paces, and the spin margin
 * starts at 200 us and doubles (up to 5 ms) whenever a sleep woke past
 * its due time, as a VM's nanosleep can; every wait shorter than 1.5
 * margins just spins.
 */
#define PACE_SPIN_NS	 200000u
#define PACE_SPIN_MAX_NS 5000000u

static int send_paced(struct ik_channel *ch, struct st *st, uint64_t *sent)
{
	const struct ik_timer *t = st->timer;
	double per = 1e9 / (double)st->cfg->rate / t->ns_per_tick;
	uint64_t spin_ticks = (uint64_t)(PACE_SPIN_NS / t->ns_per_tick);
	uint64_t spin_max = (uint64_t)(PACE_SPIN_MAX_NS / t->ns_per_tick);
	uint64_t deadline = UINT64_MAX, start, i, lag = 0, late = 0;
	unsigned char *m = st->buf[0];
	size_t len = st->cfg->size;
	int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), ret = 0;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (st->cfg->duration_ns)
		deadline = ik_tsc() + (uint64_t)((double)st->cfg->duration_ns /
						 t->ns_per_tick);
	start = ik_tsc();
	for (i = 0; i < st->cfg->iters; i++) {
		uint64_t due = start + (uint64_t)((double)i * per), now;

		if (due >= deadline)
			break;
		now = ik_tsc();
		if (now < due && due - now > spin_ticks + spin_ticks / 2) {
			uint64_t ns =
				(uint64_t)((double)(due - now - spin_ticks) *
					   t->ns_per_tick);
			struct timespec ts = {(time_t)(ns / IK_NS_PER_SEC),
					      (long)(ns % IK_NS_PER_SEC)};

			nanosleep(&ts, NULL);
			if (ik_tsc() > due && spin_ticks < spin_max)
				spin_ticks *= 2; /* overslept: spin longer */
		}
		while ((now = ik_tsc()) < due)
			ik_cpu_relax();
		if (now - due > lag)
			lag = now - due;
		late += now - due > (uint64_t)per;
		if (ik_unlikely(i == st->stall_at)) /* test hook */
			nanosleep(&(struct timespec){0, 10000000}, NULL);
		memcpy(m, &i, 8);
		memcpy(m + 8, &due, 8);
		if ((ret = ch->send(ch, IK_SIDE_A, m, len)))
			break;
	}
	if (slack > 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	*sent = i;
	st->sh->max_lag_ticks = lag;
	st->sh->late = late;
	return ret;
}

static int side_a(struct ik_channel *ch, struct st *st)
{
	const struct ik_config *cfg = st->cfg;
	uint64_t deadline = UINT64_MAX, sent = 0;
	int ret;

	if (cfg->duration_ns)
		deadline = ik_clock_ns() + cfg->duration_ns;
	st->sh->a_start_ns = ik_clock_ns();
	if (st->cfg->rate)
		ret = send_paced(ch, st, &sent);
	else if (st->fault)
		ret = send_faulty(ch, st, &sent);
	else if (!st->verify &&
		 ik_spsc_open(ch, IK_SIDE_A, &(struct ik_spsc_cursor){0}) == 0)
		ret = (st->stamp ? spsc_send_stamped : spsc_send_plain)(
			ch, st->buf[0], cfg->size, cfg->iters, deadline, &sent);
	else
		ret = (st->stamp ? send_stamped : send_plain)(
			ch, st->buf[0], cfg->size, cfg->iters, deadline, &sent);
	st->sh->sent = sent;
	if (ret)
		return ret;
	atomic_store_explicit(&st->sh->stop, 1, memory_order_release);
	return ch->send(ch, IK_SIDE_A, st->buf[0], cfg->size); /* the end */
}

/* B's loop, in three variants: no stamp, stamp, stamp and verify. */
static inline int recv_loop(struct ik_channel *ch, struct st *st, bool stamp,
			    bool verify)
{
	ik_recv_fn recv = ch->recv;
	struct st_shared *sh = st->sh;
	unsigned char *m = st->buf[1];
	size_t len = st->cfg->size;
	int64_t *lat = st->lat;
	uint64_t i;
	int ret;

	for (i = 0;; i++) {
		if (ik_unlikely(ret = recv(ch, IK_SIDE_B, m, len)))
			return ret;
		/* stop is read-mostly: a shared line until the very end */
		if (ik_unlikely(atomic_load_explicit(&sh->stop,
						     memory_order_acquire)) &&
		    i == sh->sent)
			break;
		if (stamp) {
			uint64_t now = ik_tsc(), t;

			memcpy(&t, m + 8, 8);
			lat[i] = (int64_t)(now - t);
		}
		if (verify) {
			uint64_t seq, sum;

			memcpy(&seq, m, 8);
			memcpy(&sum, m + 16, 8);
			if (seq != i || ik_csum64(m + 24, len - 24) != sum) {
				sh->bad_at = (int64_t)i;
				sh->bad_kind = seq != i ? 1 : 2;
				sh->bad_seq = seq;
				return -EBADMSG;
			}
		}
	}
	sh->received = i;
	return 0;
}

static __attribute__((noinline)) int recv_plain(struct ik_channel *ch,
						struct st *st)
{
	return recv_loop(ch, st, false, false);
}

static __attribute__((noinline)) int recv_stamped(struct ik_channel *ch,
						  struct st *st)
{
	return recv_loop(ch, st, true, false);
}

static __attribute__((noinline)) int recv_verified(struct ik_channel *ch,
						   struct st *st)
{
	return recv_loop(ch, st, true, true);
}

/* B's loop over spsc's ring, inline, stamps sampled (see the top). */
static inline int spsc_recv_loop(struct ik_channel *ch, struct st *st,
				 bool stamp)
{
	struct st_shared *sh = st->sh;
	unsigned char *m = st->buf[1];
	size_t len = st->cfg->size;
	int64_t *lat = st->lat;
	struct ik_spsc_cursor o, c;
	uint64_t i;
	int ret;

	if ((ret = ik_spsc_open(ch, IK_SIDE_B, &o)))
		return ret;
	c = o;
	for (i = 0;; i++) {
		if (ik_unlikely(ret = ik_spsc_take(ch, &c, m, len)))
			break;
		if (ik_unlikely(atomic_load_explicit(&sh->stop,
						     memory_order_acquire)) &&
		    i == sh->sent)
			break;
		if (stamp && (i & (SPSC_STAMP_EVERY - 1)) == 0) {
			uint64_t now = ik_tsc(), t;

			memcpy(&t, m + 8, 8);
			lat[i] = (int64_t)(now - t);
		}
	}
	ik_spsc_close(ch, IK_SIDE_B, c);
	if (!ret)
		sh->received = i;
	return ret;
}

static __attribute__((noinline)) int spsc_recv_plain(struct ik_channel *ch,
						     struct st *st)
{
	return spsc_recv_loop(ch, st, false);
}

static __attribute__((noinline)) int spsc_recv_stamped(struct ik_channel *ch,
						       struct st *st)
{
	return spsc_recv_loop(ch, st, true);
}

static int side_b(struct ik_channel *ch, struct st *st)
{
	int ret;

	st->sh->bad_at = -1;
	st->sh->lat_every = 1;
	if (!st->verify && !st->cfg->rate && !st->fault &&
	    ik_spsc_open(ch, IK_SIDE_B, &(struct ik_spsc_cursor){0}) == 0) {
		st->sh->lat_every = SPSC_STAMP_EVERY;
		ret = (st->stamp ? spsc_recv_stamped : spsc_recv_plain)(ch, st);
	} else if (st->verify)
		ret = recv_verified(ch, st);
	else if (st->stamp)
		ret = recv_stamped(ch, st);
	else
		ret = recv_plain(ch, st);
	st->sh->b_end_ns = ik_clock_ns();
	return ret;
}

static int st_prepare(struct ik_peers *g, enum ik_side side)
{
	struct st *st = g->arg;
	size_t len = st->cfg->size, i;
	unsigned char *m = malloc(len);

	if (!m)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		m[i] = (unsigned char)(i * 131 + 7);
	if (st->verify) {
		uint64_t c = ik_csum64(m + 24, len - 24);

		memcpy(m + 16, &c, 8);
	}
	st->buf[side] = m;
	if (side == IK_SIDE_B && st->lat)
		memset(st->lat, 0, st->lat_len); /* fault in, off the clock */
	return 0;
}

static int st_body(struct ik_peers *g, enum ik_side side)
{
	struct st *st = g->arg;
	int ret = side == IK_SIDE_A ? sync_a(g->ch, st->sh)
				    : sync_b(g->ch, st->sh);

	if (ret)
		return ret;
	ik_peers_cpu_restart(g, side); /* CPU per message, not per probe */
	return side == IK_SIDE_A ? side_a(g->ch, st) : side_b(g->ch, st);
}

static void fill(struct ik_result *res, const struct st *st,
		 const struct ik_timer *t)
{
	const struct st_shared *sh = st->sh;
	struct ik_stream_result *s = &res->stream;
	uint64_t n =
		sh->received < st->cfg->iters ? sh->received : st->cfg->iters;
	uint64_t i, scale, err_ns = ik_ticks_to_ns(t, sh->offset_err_ticks);

	res->count = sh->received;
	s->messages = sh->received;
	s->seconds = (double)(sh->b_end_ns - sh->a_start_ns) / 1e9;
	s->msgs_per_s = s->seconds > 0 ? (double)s->messages / s->seconds : 0;
	s->bytes_per_s = s->msgs_per_s * (double)st->cfg->size;
	s->tsc_offset_ns = (double)sh->offset_ticks * t->ns_per_tick;
	s->tsc_offset_err_ns = (double)err_ns;
	res->wall_ns = sh->b_end_ns - sh->a_start_ns;
	s->rate_asked = (double)st->cfg->rate;
	s->max_send_lag_ns = (double)sh->max_lag_ticks * t->ns_per_tick;
	/* kept: the rate arrived, and under 1% of sends left over one
	 * interval late (a VM's odd millisecond stall is reported, not
	 * counted as a miss) */
	s->late_sends = sh->late;
	s->rate_missed =
		st->cfg->rate && (s->msgs_per_s < 0.99 * s->rate_asked ||
				  (double)sh->late > 0.01 * (double)sh->sent);
	if (!st->stamp) {
		snprintf(s->latency_why, sizeof(s->latency_why),
			 "not measured: --size below 16 leaves no room for the "
			 "send stamp");
		return;
	}
	if (t->kind != IK_CLOCK_TSC) {
		snprintf(s->latency_why, sizeof(s->latency_why),
			 "not measured: no trustworthy TSC on this machine");
		return;
	}
	s->latency_every = sh->lat_every;
	for (i = 0; i < n; i += sh->lat_every) {
		int64_t d = st->lat[i] - sh->offset_ticks;

		ik_hist_record(&res->hist,
			       ik_ticks_to_ns(t, d > 0 ? (uint64_t)d : 0));
	}
	/* the offset's uncertainty must be small against what is judged:
	 * the median, or under --slo the tightest bound the search holds
	 * the percentiles to (a 200 ns median known to +-25 ns still
	 * tells p99 <= 10 us apart) */
	scale = st->cfg->slo.n ? UINT64_MAX
			       : ik_hist_percentile(&res->hist, 50);
	for (i = 0; i < st->cfg->slo.n; i++)
		if (st->cfg->slo.c[i].bound_ns < scale)
			scale = st->cfg->slo.c[i].bound_ns;
	if (res->hist.total && (double)err_ns > 0.1 * (double)scale) {
		snprintf(s->latency_why, sizeof(s->latency_why),
			 "dropped: TSC offset uncertain by %llu ns, over 10%% "
			 "of %s",
			 (unsigned long long)err_ns,
			 st->cfg->slo.n ? "the tightest --slo bound"
					: "the median");
		ik_hist_reset(&res->hist);
		return;
	}
	s->latency_valid = res->hist.total > 0;
}

static void st_release(void *arg)
{
	struct st *st = arg;

	free(st->buf[0]);
	free(st->buf[1]);
}

int ik_stream(const struct ik_config *cfg, const struct ik_transport_ops *ops,
	      enum ik_mode mode, const struct ik_run *run,
	      struct ik_result *res)
{
	const struct ik_timer *timer = run->timer;
	struct st st = {.cfg = cfg, .timer = timer};
	struct ik_kernel_hooks k = {st_prepare, st_body, st_release, &st, NULL};
	const char *f = getenv(IK_FAULT_ENV);
	bool stuck;
	int ret;

	ik_result_begin(res, cfg, ops, mode, run->topo);
	res->kernel = &ik_kernel_stream;
	st.stamp = cfg->size >= 16;
	st.verify = cfg->verify;
	if (f && cfg->size >= 24)
		st.fault = !strcmp(f, "corrupt") ? 'c'
			   : !strcmp(f, "drop")	 ? 'd' + 'r'
			   : !strcmp(f, "dup")	 ? 'd' + 'u'
						 : 0;
	st.stall_at = f && !strcmp(f, "stall-at-100") ? 100 : UINT64_MAX;
	ret = ik_hist_init(&res->hist, IK_HIST_MAX_NS);
	st.sh = ik_shm_alloc_on(sizeof(*st.sh), run->mem_node);
	st.lat_len = st.stamp ? cfg->iters * sizeof(int64_t) : 0;
	st.lat = st.stamp ? ik_shm_alloc_on(st.lat_len, run->mem_node) : NULL;
	if (ret || !st.sh || (st.stamp && !st.lat)) {
		ret = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "%s",
			 strerror(-ret));
		goto out;
	}
	ret = ik_kernel_run(cfg, ops, mode, run, res, &k, &stuck);
	if (stuck) {
		res->err = ret;
		return ret; /* the peers may still touch sh and lat */
	}
	if (ret == -EBADMSG && st.sh->bad_at >= 0) {
		if (st.sh->bad_kind == 1)
			snprintf(
				res->errmsg, sizeof(res->errmsg),
				"--verify: message %lld carried sequence %llu: "
				"lost, duplicated or reordered",
				(long long)st.sh->bad_at,
				(unsigned long long)st.sh->bad_seq);
		else
			snprintf(res->errmsg, sizeof(res->errmsg),
				 "--verify: message %lld failed its checksum: "
				 "corrupted",
				 (long long)st.sh->bad_at);
	}
	if (!ret)
		fill(res, &st, timer);
out:
	ik_shm_free(st.sh, sizeof(*st.sh));
	ik_shm_free(st.lat, st.lat_len);
	res->err = ret;
	return ret;
}
