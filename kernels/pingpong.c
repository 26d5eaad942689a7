/* SPDX-License-Identifier: MIT */
/*
 * Ping-pong: side A sends a message and waits for it to come back; side B
 * echoes what it got. Each round trip is timed with one timestamp: the
 * end of one trip is the start of the next, so the loop holds the two
 * IPC calls, one clock read (after the send, off the reply's path, see
 * timed_loop), one store into a pre-faulted sample array and a check of
 * the echoed sequence byte, and nothing else. Samples
 * become nanoseconds and enter the histogram after the loop.
 *
 * Warm-up runs without a per-trip clock; its second half is timed as a
 * whole, and so is an untimed stretch as long as the timed loop right
 * after it (up to 100 ms): together the untimed mean. The gap between it
 * and the timed loop's whole-run mean is what reading the clock every
 * trip costs.
 *
 * Late and lost wake-ups (issue 20): a round trip over --late is late,
 * found in the samples after the loop (nothing added per trip); a lost
 * one is counted by the transport (its wait's deadline, or the
 * controller's watch) and the trip goes on. A soak (--soak, or a
 * --duration of 2 minutes or more) runs the same timed loop in chunks
 * and keeps a histogram per minute instead of every sample.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels.h"
#include "view.h"

/* Shared between the peers and the controller (process mode too). */
struct pp_shared {
	alignas(IK_CACHELINE) _Atomic int stop; /* A: the next is the last */
	alignas(IK_CACHELINE) uint64_t count;	/* written by A at the end */
	uint64_t wall_ns;
	uint64_t untimed_ns, untimed_n;
	uint64_t warmup_ns; /* the whole warm-up, both halves, and after */
	uint64_t after_n;   /* untimed round trips after the timed ones */
	bool hit_cap;
	/* soak: A's running results (all in this shared block) */
	struct ik_late late;
	_Atomic unsigned nsoak; /* minutes done, released after each */
	unsigned soak_cap;
	unsigned soak_full;  /* of them, the minutes that ran to their end */
	struct ik_hist hist; /* the whole run; counts after soak[] */
	struct ik_soak_minute soak[];
};

struct pp {
	const struct ik_config *cfg;
	const struct ik_timer *timer;
	struct pp_shared *sh;
	uint64_t *samples; /* shared, cfg->iters entries of ticks */
	size_t samples_len;
	struct pp_bufs {
		unsigned char *out, *in; /* each peer's own, from prepare */
	} buf[2];
	enum ik_mode mode;
	enum {
		FAULT_NONE,
		FAULT_KILL_B,
		FAULT_STALL_B,
		FAULT_WAKE_DELAY,
		FAULT_WAKE_DROP
	} fault;
	uint64_t fault_at, fault_ms; /* wake faults: timed trip, delay */
	size_t sh_len;
	const struct ik_run *run;
	unsigned soak_told; /* the controller's: minutes handed on */
};

static inline uint64_t now(bool tsc)
{
	return tsc ? ik_tsc() : ik_clock_ns();
}

/*
 * The timed loop. tsc is a constant in each caller below, so the
 * compiler builds one loop per clock with no branch on it inside.
 *
 * The clock is read right after the next message is sent, not right
 * after the reply arrives: the interval between two reads is still one
 * whole round trip (send to send), but the read, the sample store and
 * the loop's own bookkeeping now overlap the peer's turn instead of
 * sitting between a reply and the next send, on the path every trip
 * waits for (an rdtsc costs ~10 ns on AMD EPYC under KVM, a sixth of a
 * cross-core bounce). Only the last trip, with no send after it, is
 * timed to its reply. The deadline is tested against the previous read.
 */
static inline int timed_loop(struct ik_channel *ch, unsigned char *out,
			     unsigned char *in, size_t len, uint64_t *s,
			     uint64_t n, uint64_t deadline, bool tsc,
			     uint64_t *done)
{
	ik_send_fn send = ch->send;
	ik_recv_fn recv = ch->recv;
	uint64_t t0, t1, i = 0;
	int ret = 0;

	if (!n)
		goto out;
	out[0] = 0;
	t0 = now(tsc);
	if ((ret = send(ch, IK_SIDE_A, out, len)))
		goto out;
	for (;;) {
		if (ik_unlikely(ret = recv(ch, IK_SIDE_A, in, len)))
			break;
		if (ik_unlikely(in[0] != out[0])) {
			ret = -EBADMSG;
			break;
		}
		if (ik_unlikely(++i == n || t0 >= deadline)) {
			s[i - 1] = now(tsc) - t0;
			break;
		}
		out[0] = (unsigned char)i;
		ret = send(ch, IK_SIDE_A, out, len);
		t1 = now(tsc);
		s[i - 1] = t1 - t0;
		t0 = t1;
		if (ik_unlikely(ret))
			break;
	}
out:
	*done = i;
	return ret;
}

static __attribute__((noinline)) int loop_tsc(struct ik_channel *ch,
					      struct pp *pp, uint64_t n,
					      uint64_t deadline, uint64_t *done)
{
	return timed_loop(ch, pp->buf[0].out, pp->buf[0].in, pp->cfg->size,
			  pp->samples, n, deadline, true, done);
}

static __attribute__((noinline)) int loop_clock(struct ik_channel *ch,
						struct pp *pp, uint64_t n,
						uint64_t deadline,
						uint64_t *done)
{
	return timed_loop(ch, pp->buf[0].out, pp->buf[0].in, pp->cfg->size,
			  pp->samples, n, deadline, false, done);
}

static int untimed_loop(struct ik_channel *ch, struct pp *pp, uint64_t n)
{
	ik_send_fn send = ch->send;
	ik_recv_fn recv = ch->recv;
	unsigned char *out = pp->buf[0].out, *in = pp->buf[0].in;
	size_t len = pp->cfg->size;
	uint64_t i;
	int ret;

	for (i = 0; i < n; i++) {
		out[0] = (unsigned char)i;
		if ((ret = send(ch, IK_SIDE_A, out, len)) ||
		    (ret = recv(ch, IK_SIDE_A, in, len)))
			return ret;
		if (in[0] != out[0])
			return -EBADMSG;
	}
	return 0;
}

/*
 * The untimed mean once more, right after the timed loop and for as long
 * as it ran (100 ms at most, n trips at most): the warm-up's second half
 * is a moment, the timed loop many, and on a shared host the speed moves
 * in between; timed against untimed only means something over the same
 * stretch of time. The clock is read every 256 trips.
 */
static int untimed_after(struct ik_channel *ch, struct pp *pp, uint64_t n)
{
	uint64_t budget = pp->sh->wall_ns < 100000000 ? pp->sh->wall_ns
						      : 100000000,
		 t0 = ik_clock_ns(), k = 0, e;
	int ret;

	do {
		if ((ret = untimed_loop(ch, pp, 256)))
			return ret;
		k += 256;
		e = ik_clock_ns() - t0;
	} while (e < budget && k < n);
	pp->sh->untimed_ns += e;
	pp->sh->untimed_n += k;
	pp->sh->warmup_ns += e;
	pp->sh->after_n = k;
	return 0;
}

/*
 * --gap: idle this long before each round trip, by sleeping or spinning
 * (--gap-mode), and time only the trip: the clock is read after the gap
 * and after the reply, so here each trip costs two reads. Blocking
 * wake-ups after an idle gap pay for idle states (and, in a VM, a halted
 * vCPU) that back-to-back ping-pong never shows.
 */
static int gap_loop(struct ik_channel *ch, struct pp *pp, uint64_t n,
		    uint64_t deadline, uint64_t *done)
{
	const struct ik_timer *tm = pp->timer;
	bool tsc = tm->kind == IK_CLOCK_TSC;
	uint64_t gap_ticks =
		(uint64_t)((double)pp->cfg->gap_ns / tm->ns_per_tick);
	struct timespec ts = {(time_t)(pp->cfg->gap_ns / IK_NS_PER_SEC),
			      (long)(pp->cfg->gap_ns % IK_NS_PER_SEC)};
	unsigned char *out = pp->buf[0].out, *in = pp->buf[0].in;
	size_t len = pp->cfg->size;
	uint64_t t0, t1, i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (pp->cfg->gap_sleep) {
			nanosleep(&ts, NULL);
		} else {
			uint64_t until = now(tsc) + gap_ticks;

			while (now(tsc) < until)
				ik_cpu_relax();
		}
		out[0] = (unsigned char)i;
		t0 = now(tsc);
		if ((ret = ch->send(ch, IK_SIDE_A, out, len)) ||
		    (ret = ch->recv(ch, IK_SIDE_A, in, len)))
			break;
		t1 = now(tsc);
		pp->samples[i] = t1 - t0;
		if (in[0] != out[0]) {
			ret = -EBADMSG;
			break;
		}
		if (t1 >= deadline) {
			i++;
			break;
		}
	}
	*done = i;
	return ret;
}

/* Trip `trip`, which started at at_ns into the timed loop, took ns. */
static void note_trip(struct ik_late *l, uint64_t trip, uint64_t at_ns,
		      uint64_t ns)
{
	if (ns <= l->threshold_ns)
		return;
	l->count++;
	if (ns > l->worst_ns)
		l->worst_ns = ns;
	if (l->nev < IK_LATE_EVENTS)
		l->ev[l->nev++] = (struct ik_late_event){trip, at_ns, ns};
}

static uint64_t late_threshold(const struct ik_config *cfg)
{
	return cfg->late_ns ? cfg->late_ns : IK_LATE_NS;
}

/* soak chunks: samples kept at once (the timed loop between two) */
#define SOAK_CHUNK 65536u

/*
 * The soak: minute by minute, the timed loop in chunks of SOAK_CHUNK
 * trips or up to the minute's end; between chunks (no trip is timed
 * then) the samples go into the minute's histogram and the run's, and
 * late trips are noted. Memory is one chunk and two histograms however
 * long it runs.
 */
static int soak_loop(struct ik_channel *ch, struct pp *pp, uint64_t deadline,
		     uint64_t *done)
{
	const struct ik_timer *tm = pp->timer;
	bool tsc = tm->kind == IK_CLOCK_TSC;
	struct pp_shared *sh = pp->sh;
	uint64_t minute = (uint64_t)((double)pp->cfg->soak_minute_ns /
				     tm->ns_per_tick),
		 start = now(tsc), trip = 0, at_ns = 0,
		 cap = pp->cfg->iters_given ? pp->cfg->iters : UINT64_MAX;
	struct ik_hist mh;
	unsigned m;
	int ret = ik_hist_init(&mh, IK_HIST_MAX_NS);

	if (ret)
		return ret;
	for (m = 0; m < sh->soak_cap && !ret; m++) {
		uint64_t mend = start + (m + 1) * minute, lost0, n;
		struct ik_soak_minute *sm = &sh->soak[m];
		uint64_t late0 = sh->late.count;

		if (mend > deadline || m + 1 == sh->soak_cap)
			mend = deadline;
		lost0 = ik_channel_lost(ch);
		do {
			uint64_t k, want = cap - trip < SOAK_CHUNK ? cap - trip
								   : SOAK_CHUNK;

			ret = tsc ? loop_tsc(ch, pp, want, mend, &n)
				  : loop_clock(ch, pp, want, mend, &n);
			for (k = 0; k < n; k++) {
				uint64_t ns =
					ik_ticks_to_ns(tm, pp->samples[k]);

				ik_hist_record(&mh, ns);
				ik_hist_record(&sh->hist, ns);
				note_trip(&sh->late, trip + k, at_ns, ns);
				at_ns += ns;
			}
			trip += n;
		} while (!ret && trip < cap && now(tsc) < mend);
		sm->count = ik_hist_total(&mh);
		sm->p50 = ik_hist_percentile(&mh, 50);
		sm->p99 = ik_hist_percentile(&mh, 99);
		sm->p9999 = ik_hist_percentile(&mh, 99.99);
		sm->max = sm->count ? mh.max : 0;
		sm->late = sh->late.count - late0;
		sm->lost = ik_channel_lost(ch) - lost0;
		if (!ret)
			sh->soak_full = m + 1;
		atomic_store_explicit(&sh->nsoak, m + 1, memory_order_release);
		ik_hist_reset(&mh);
		if (mend >= deadline || trip >= cap)
			break;
	}
	free(mh.counts);
	*done = trip;
	return ret;
}

static int side_a(struct ik_channel *ch, struct pp *pp)
{
	const struct ik_config *cfg = pp->cfg;
	bool tsc = pp->timer->kind == IK_CLOCK_TSC;
	uint64_t half = cfg->warmup / 2, t0, deadline = UINT64_MAX, n = 0;
	int ret;

	uint64_t w0 = ik_clock_ns();

	if ((ret = untimed_loop(ch, pp, half)))
		return ret;
	t0 = ik_clock_ns();
	if ((ret = untimed_loop(ch, pp, cfg->warmup - half)))
		return ret;
	pp->sh->untimed_ns = ik_clock_ns() - t0;
	pp->sh->untimed_n = cfg->warmup - half;
	pp->sh->warmup_ns = ik_clock_ns() - w0;

	if (cfg->duration_ns)
		deadline = now(tsc) + (uint64_t)((double)cfg->duration_ns /
						 pp->timer->ns_per_tick);
	t0 = ik_clock_ns();
	if (pp->sh->soak_cap) /* set up by ik_pingpong: not with --gap */
		ret = soak_loop(ch, pp, deadline, &n);
	else if (cfg->gap_ns)
		ret = gap_loop(ch, pp, cfg->iters, deadline, &n);
	else
		ret = tsc ? loop_tsc(ch, pp, cfg->iters, deadline, &n)
			  : loop_clock(ch, pp, cfg->iters, deadline, &n);
	pp->sh->wall_ns = ik_clock_ns() - t0;
	pp->sh->count = n;
	pp->sh->hit_cap = cfg->duration_ns && n == cfg->iters &&
			  (!cfg->soak_minute_ns || cfg->iters_given);
	if (ret)
		return ret;
	if (!cfg->gap_ns && (ret = untimed_after(ch, pp, n)))
		return ret;
	/* B echoes verbatim: the last message must be intact, every byte */
	if (memcmp(pp->buf[0].in, pp->buf[0].out, cfg->size))
		return -EBADMSG;
	/* release: B reads stop after receiving the message that follows */
	atomic_store_explicit(&pp->sh->stop, 1, memory_order_release);
	return ch->send(ch, IK_SIDE_A, pp->buf[0].out, cfg->size);
}

/*
 * Until A's thread sleeps (S in /proc), so that a wake-up dropped now is
 * one A waits for, not one it never needed. Test hook only; gives up
 * after 10 s and lets the trip go on.
 */
static void wait_asleep(struct ik_channel *ch)
{
	uint64_t until = ik_clock_ns() + 10 * IK_NS_PER_SEC;

	while (!ik_channel_peer_sleeps(ch, IK_SIDE_A) &&
	       ik_clock_ns() < until && !ik_channel_aborted(ch))
		sched_yield();
}

/*
 * B with a wake fault (IPCKERN_FAULT=wake-delay=MS@N, wake-drop@N): the
 * reply to timed trip N is held MS ms, or sent without its wake-up (the
 * method's send_nowake), which A's deadline or the controller's watch
 * must find. A loop of its own, so the plain one has no branch for it.
 */
static int side_b_wake_fault(struct ik_channel *ch, struct pp *pp)
{
	unsigned char *in = pp->buf[1].in;
	size_t len = pp->cfg->size;
	uint64_t k = 0, at = pp->cfg->warmup + pp->fault_at;
	int ret;

	for (;; k++) {
		if ((ret = ch->recv(ch, IK_SIDE_B, in, len)))
			return ret;
		if (atomic_load_explicit(&pp->sh->stop, memory_order_acquire))
			return 0;
		if (k == at && pp->fault == FAULT_WAKE_DELAY) {
			struct timespec ts = {(time_t)(pp->fault_ms / 1000),
					      (long)(pp->fault_ms % 1000) *
						      1000000};

			while (nanosleep(&ts, &ts) && !ik_channel_aborted(ch))
				;
		} else if (k == at) {
			wait_asleep(ch);
			if ((ret = ch->ops->send_nowake(ch, IK_SIDE_B, in,
							len)))
				return ret;
			continue;
		}
		if ((ret = ch->send(ch, IK_SIDE_B, in, len)))
			return ret;
	}
}

static int side_b(struct ik_channel *ch, struct pp *pp)
{
	ik_send_fn send = ch->send;
	ik_recv_fn recv = ch->recv;
	unsigned char *in = pp->buf[1].in;
	size_t len = pp->cfg->size;
	int ret;

	if (pp->fault == FAULT_WAKE_DELAY || pp->fault == FAULT_WAKE_DROP)
		return side_b_wake_fault(ch, pp);
	if (pp->fault != FAULT_NONE) { /* test hooks, see IK_FAULT_ENV */
		if ((ret = recv(ch, IK_SIDE_B, in, len)))
			return ret;
		if (pp->fault == FAULT_KILL_B && pp->mode == IK_MODE_PROCESS)
			raise(SIGKILL);
		if (pp->fault == FAULT_KILL_B)
			return -EIO; /* a thread cannot die alone */
		while (!ik_channel_aborted(ch))
			pause(); /* stall until the controller gives up */
		return -ECANCELED;
	}
	for (;;) {
		if ((ret = recv(ch, IK_SIDE_B, in, len)))
			return ret;
		if (atomic_load_explicit(&pp->sh->stop, memory_order_acquire))
			return 0;
		if ((ret = send(ch, IK_SIDE_B, in, len)))
			return ret;
	}
}

static int pp_prepare(struct ik_peers *g, enum ik_side side)
{
	struct pp *pp = g->arg;
	struct pp_bufs *b = &pp->buf[side];
	size_t i;

	b->out = malloc(pp->cfg->size);
	b->in = calloc(1, pp->cfg->size);
	if (!b->out || !b->in)
		return -ENOMEM; /* freed in pp_body's caller path below */
	for (i = 0; i < pp->cfg->size; i++)
		b->out[i] = (unsigned char)(i * 131 + 7);
	/* fault in every sample page now, not inside the loop */
	if (side == IK_SIDE_A)
		memset(pp->samples, 0, pp->samples_len);
	return 0;
}

static int pp_body(struct ik_peers *g, enum ik_side side)
{
	struct pp *pp = g->arg;

	return side == IK_SIDE_A ? side_a(g->ch, pp) : side_b(g->ch, pp);
}

static void fill_result(struct ik_result *res, const struct pp *pp,
			const struct ik_timer *timer,
			const struct ik_config *cfg)
{
	uint64_t i, at_ns = 0;
	unsigned m;

	res->count = pp->sh->count;
	res->wall_ns = pp->sh->wall_ns;
	res->hit_cap = pp->sh->hit_cap;
	res->warmup_ns = pp->sh->warmup_ns;
	res->warmup += pp->sh->after_n; /* untimed trips count for CPU */
	res->untimed_mean_ns =
		pp->sh->untimed_n
			? (double)pp->sh->untimed_ns / (double)pp->sh->untimed_n
			: 0;
	res->late = pp->sh->late;
	res->late_shown = cfg->late_given;
	if (pp->sh->soak_cap) { /* the soak kept histograms, not samples */
		ik_hist_merge(&res->hist, &pp->sh->hist);
		m = atomic_load_explicit(&pp->sh->nsoak, memory_order_acquire);
		res->soak = m ? malloc(m * sizeof(*res->soak)) : NULL;
		if (res->soak) {
			memcpy(res->soak, pp->sh->soak, m * sizeof(*res->soak));
			res->nsoak = m;
		}
		return;
	}
	if (cfg->keep_raw)
		res->raw_ns = malloc((res->count ? res->count : 1) *
				     sizeof(uint64_t));
	for (i = 0; i < res->count; i++) {
		uint64_t ns = ik_ticks_to_ns(timer, pp->samples[i]);

		ik_hist_record(&res->hist, ns);
		note_trip(&res->late, i, at_ns, ns);
		at_ns += ns;
		if (res->raw_ns)
			res->raw_ns[i] = ns;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * --lines N: trip t bounced line t mod N (ipc/line.c), and the warm-up's
 * trips came first, so sample j is line (warmup + j) mod N. Each line's
 * own median, so that one slow line (a set conflict, a line the
 * prefetcher pairs with its neighbour) stands out from the rest.
 */
static void per_line(struct ik_result *res, const struct pp *pp,
		     const struct ik_timer *timer)
{
	unsigned n = pp->cfg->lines.n, l;
	uint64_t *v = malloc((res->count / n + 1) * sizeof(*v)), j, k;

	if (!v)
		return;
	for (l = 0; l < n; l++) {
		k = 0;
		for (j = (l + n - pp->cfg->warmup % n) % n; j < res->count;
		     j += n)
			v[k++] = pp->samples[j];
		if (!k)
			break;
		qsort(v, k, sizeof(*v), cmp_u64);
		res->line.p50[l] = ik_ticks_to_ns(timer, v[(k - 1) / 2]);
		res->line.nlines = l + 1;
	}
	free(v);
}

/* The controller's tick: hand each finished soak minute to the CLI. */
static void pp_tick(void *arg)
{
	struct pp *pp = arg;
	unsigned n;

	if (!pp->sh->soak_cap || !pp->run->soak_minute)
		return;
	n = atomic_load_explicit(&pp->sh->nsoak, memory_order_acquire);
	for (; pp->soak_told < n; pp->soak_told++)
		pp->run->soak_minute(pp->run->progress_arg, pp->soak_told,
				     &pp->sh->soak[pp->soak_told]);
}

/* IPCKERN_FAULT's wake faults: wake-delay=MS@N, wake-drop@N. */
static int parse_wake_fault(const char *f, struct pp *pp)
{
	char *end;

	if (!strncmp(f, "wake-delay=", 11)) {
		pp->fault_ms = strtoull(f + 11, &end, 10);
		if (*end != '@' || end == f + 11 || pp->fault_ms > 60000)
			return -EINVAL;
		pp->fault = FAULT_WAKE_DELAY;
	} else if (!strncmp(f, "wake-drop@", 10)) {
		end = (char *)f + 9;
		pp->fault = FAULT_WAKE_DROP;
	} else {
		return 0;
	}
	pp->fault_at = strtoull(end + 1, &end, 10);
	return *end || end[-1] == '@' ? -EINVAL : 0;
}

static void pp_release(void *arg)
{
	struct pp *pp = arg;
	int s;

	for (s = 0; s < 2; s++) {
		free(pp->buf[s].out);
		free(pp->buf[s].in);
	}
}

int ik_pingpong(const struct ik_config *cfg, const struct ik_transport_ops *ops,
		enum ik_mode mode, const struct ik_run *run,
		struct ik_result *res)
{
	const struct ik_timer *timer = run->timer;
	const char *fault = getenv(IK_FAULT_ENV);
	struct pp pp = {.cfg = cfg, .timer = timer, .mode = mode};
	struct ik_kernel_hooks k = {pp_prepare, pp_body, pp_release, &pp,
				    pp_tick};
	bool soak = cfg->soak_minute_ns && cfg->duration_ns && !cfg->gap_ns;
	unsigned soak_cap = 0;
	bool stuck;
	int ret;

	ik_result_begin(res, cfg, ops, mode, run->topo);
	res->kernel = &ik_kernel_pingpong;
	res->warmup = cfg->warmup;
	if (fault && !strcmp(fault, "kill-b"))
		pp.fault = FAULT_KILL_B;
	else if (fault && !strcmp(fault, "stall-b"))
		pp.fault = FAULT_STALL_B;
	else if (fault && parse_wake_fault(fault, &pp)) {
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "%s='%s': a wake fault is wake-delay=MS@N (MS up to "
			 "60000) or wake-drop@N, N a timed round trip from 0",
			 IK_FAULT_ENV, fault);
		return res->err = -EINVAL;
	}
	if (pp.fault == FAULT_WAKE_DROP && !ops->send_nowake) {
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "%s=wake-drop: %s cannot post a message without its "
			 "wake-up (its bytes are the wake-up); futex, "
			 "eventfd, spsc, memfd, vm-rw, condvar and "
			 "io_uring can",
			 IK_FAULT_ENV, ops->name);
		return res->err = -EOPNOTSUPP;
	}
	pp.run = run;
	res->late.threshold_ns = late_threshold(cfg);
	if (soak) { /* a minute per summary, and one for what is left */
		uint64_t m = cfg->duration_ns / cfg->soak_minute_ns + 1;

		soak_cap = m > 100000 ? 100000 : (unsigned)m;
	}
	ret = ik_hist_init(&res->hist, IK_HIST_MAX_NS);
	pp.samples_len = (soak ? SOAK_CHUNK : cfg->iters) * sizeof(uint64_t);
	pp.samples =
		ret ? NULL : ik_shm_alloc_on(pp.samples_len, run->mem_node);
	pp.sh_len = sizeof(*pp.sh) + soak_cap * sizeof(pp.sh->soak[0]) +
		    (soak ? res->hist.nbuckets * sizeof(uint64_t) : 0);
	pp.sh = ik_shm_alloc_on(pp.sh_len, run->mem_node);
	if (ret || !pp.samples || !pp.sh) {
		ret = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "%s",
			 strerror(-ret));
		goto out;
	}
	pp.sh->late.threshold_ns = res->late.threshold_ns;
	if (soak) { /* the run's histogram, its counts in shared memory */
		pp.sh->soak_cap = soak_cap;
		pp.sh->hist = res->hist;
		pp.sh->hist.counts = (uint64_t *)&pp.sh->soak[soak_cap];
	}
	ret = ik_kernel_run(cfg, ops, mode, run, res, &k, &stuck);
	if (stuck) {
		res->err = ret;
		return ret; /* the peers may still touch samples and sh */
	}
	if (ret && soak && run->interrupted && *run->interrupted &&
	    pp.sh->soak_full) {
		/* a soak cut by a signal keeps its finished minutes: the
		 * table and JSON have them, the percentiles every trip that
		 * completed, and the run is partial (res->cut) */
		fill_result(res, &pp, timer, cfg);
		if (res->nsoak > pp.sh->soak_full)
			res->nsoak = pp.sh->soak_full;
		res->count = ik_hist_total(&res->hist);
		res->cut = true;
		ret = 0;
	} else if (!ret) {
		fill_result(res, &pp, timer, cfg);
	}
	res->late_shown |= res->late.count || res->lost;
	if (!ret && cfg->lines.n > 1 && res->count >= cfg->lines.n)
		per_line(res, &pp, timer);
out:
	ik_shm_free(pp.samples, pp.samples_len);
	ik_shm_free(pp.sh, pp.sh_len);
	res->err = ret;
	return ret;
}

/* ---- its part of the reports ---- */

static void pingpong_title(const struct ik_view *v)
{
	fprintf(v->f,
		"ipckern %s: ping-pong, %llu timed round trips after "
		"%llu warm-up%s; size is each way\n",
		IK_VERSION, (unsigned long long)v->cfg->iters,
		(unsigned long long)v->cfg->warmup,
		v->cfg->duration_ns ? " (or --duration)" : "");
}

/* Latency percentiles and the ratio to line, one row per result. */
static bool pingpong_latency(const struct ik_view *v)
{
	bool any_line = false;
	char a[9][16];
	unsigned i;

	v->head_key(v);
	fprintf(v->f, "%7s %7s %7s %7s %7s %7s %7s %7s %9s %7s\n", "min", "p50",
		"p90", "p99", "p99.9", "max", "mean", "stddev", "trips/s",
		"x line");
	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];
		struct ik_stats st;

		v->row_key(v, res);
		if (res->err) {
			fprintf(v->f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		v->stats(v, res, &st);
		any_line |= st.vs_line > 0;
		/* with --gap the wall holds the gaps: no rate ("-") */
		if (st.rps > 0)
			snprintf(a[8], 16, "%.0f", st.rps);
		else
			snprintf(a[8], 16, "-");
		fprintf(v->f, "%7s %7s %7s %7s %7s %7s %7s %7s %9s ",
			ik_fmt_ns(a[0], 16, (double)res->hist.min),
			ik_fmt_ns(a[1], 16, (double)st.p50),
			ik_fmt_ns(a[2], 16, (double)st.p90),
			ik_fmt_ns(a[3], 16, (double)st.p99),
			ik_fmt_ns(a[4], 16, (double)st.p999),
			ik_fmt_ns(a[5], 16, (double)res->hist.max),
			ik_fmt_ns(a[6], 16, st.mean),
			ik_fmt_ns(a[7], 16, st.sd), a[8]);
		if (st.vs_line > 0)
			fprintf(v->f, "%7.2f\n", st.vs_line);
		else
			fprintf(v->f, "%7s\n", "-");
	}
	fputc('\n', v->f);
	return any_line;
}

/* Means with and without a clock read per trip, and CPU; !: heavy. */
static bool pingpong_wall(const struct ik_view *v)
{
	bool any_heavy = false, heavy;
	unsigned i;

	v->head_key(v);
	fprintf(v->f, "%10s %10s %10s %9s %9s %s\n", "whole-run", "untimed",
		"observer", "cpu A/rt", "cpu B/rt", "granted");
	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];
		struct ik_stats st;
		/* CPU is read at the gate and the end: warm-up trips count */
		double n = res->count + res->warmup
				   ? (double)(res->count + res->warmup)
				   : 1;

		if (res->err)
			continue;
		v->stats(v, res, &st);
		v->row_key(v, res);
		if (res->gap_ns) { /* the wall holds the gaps: no such means */
			fprintf(v->f, "%10s %10s %10s %9.0f %9.0f %s\n", "-",
				"-", "-", res->cpu[0].cpu_ns / n,
				res->cpu[1].cpu_ns / n,
				res->granted[0] ? res->granted : "-");
			continue;
		}
		heavy = st.untimed > 0 && st.wall_mean > 1.1 * st.untimed;
		any_heavy |= heavy;
		fprintf(v->f, "%10.1f %10.1f %9.1f%c %9.0f %9.0f %s\n",
			st.wall_mean, st.untimed, st.wall_mean - st.untimed,
			heavy ? '!' : ' ', res->cpu[0].cpu_ns / n,
			res->cpu[1].cpu_ns / n,
			res->granted[0] ? res->granted : "-");
	}
	return any_heavy;
}

/*
 * Late and lost wake-ups, when a result shows them (--late given, or a
 * count not 0): a default run's table keeps its shape.
 */
static void pingpong_late(const struct ik_view *v)
{
	bool any = false;
	char a[3][16];
	unsigned i, k;

	for (i = 0; i < v->nresults; i++)
		any |= !v->results[i].err && v->results[i].late_shown;
	if (!any)
		return;
	fprintf(v->f, "\nlate and lost wake-ups\n");
	v->head_key(v);
	fprintf(v->f, "%7s %7s %7s %7s  %s\n", "late>", "late", "worst", "lost",
		"first late trips (trip@when: how long)");
	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];
		const struct ik_late *l = &res->late;

		if (res->err || !res->late_shown)
			continue;
		v->row_key(v, res);
		fprintf(v->f, "%7s %7llu %7s %7llu ",
			ik_fmt_ns(a[0], 16, (double)l->threshold_ns),
			(unsigned long long)l->count,
			l->count ? ik_fmt_ns(a[1], 16, (double)l->worst_ns)
				 : "-",
			(unsigned long long)res->lost);
		for (k = 0; k < l->nev && k < 4; k++)
			fprintf(v->f, " %llu@%s: %s",
				(unsigned long long)l->ev[k].trip,
				ik_fmt_ns(a[1], 16, (double)l->ev[k].at_ns),
				ik_fmt_ns(a[2], 16, (double)l->ev[k].ns));
		fprintf(v->f, "%s\n", l->nev > 4 ? " ..." : "");
	}
	fprintf(v->f, "late: round trips over the threshold (one holds a late "
		      "wake-up at least); lost: waits that ran out with their "
		      "message posted (counted, the trip retried)\n");
}

/* A soak's minutes, one table per result that has them. */
static void pingpong_soak(const struct ik_view *v)
{
	char a[4][16];
	unsigned i, m;

	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];

		if (res->err || !res->nsoak)
			continue;
		fprintf(v->f, "\nsoak, a row per minute: ");
		v->row_key(v, res);
		fprintf(v->f, "\n%6s %12s %8s %8s %8s %8s %6s %6s\n", "minute",
			"round trips", "p50", "p99", "p99.99", "max", "late",
			"lost");
		for (m = 0; m < res->nsoak; m++) {
			const struct ik_soak_minute *s = &res->soak[m];

			fprintf(v->f,
				"%6u %12llu %8s %8s %8s %8s %6llu %6llu\n",
				m + 1, (unsigned long long)s->count,
				ik_fmt_ns(a[0], 16, (double)s->p50),
				ik_fmt_ns(a[1], 16, (double)s->p99),
				ik_fmt_ns(a[2], 16, (double)s->p9999),
				ik_fmt_ns(a[3], 16, (double)s->max),
				(unsigned long long)s->late,
				(unsigned long long)s->lost);
		}
	}
}

static void pingpong_table(const struct ik_view *v)
{
	bool any_line, any_heavy;

	fprintf(v->f, "latency: round trip in ns (u = us, m = ms); one-way "
		      "estimate = RTT/2\n\n");
	any_line = pingpong_latency(v);
	any_heavy = pingpong_wall(v);
	fprintf(v->f,
		"\nwhole-run: timed loop wall time / round trips; untimed: "
		"the same without a clock read per trip (warm-up, and as "
		"long again right after); "
		"observer: the difference. cpu/rt: each peer's CPU ns per "
		"round trip (CLOCK_THREAD_CPUTIME_ID, warm-up and timed "
		"trips).\n");
	if (any_heavy)
		fprintf(v->f, "!: the timed loop's mean is over 10%% above the "
			      "untimed one: reading the clock every trip (or "
			      "the host between the two) moved this row; "
			      "compare the untimed mean.\n");
	if (any_line)
		fprintf(v->f, "x line: p50 over line's p50 on the same pair "
			      "and mode: the cost above bouncing one cache "
			      "line, itself above the floor.\n");
	pingpong_late(v);
	pingpong_soak(v);
	v->sections(v);
}

/* The run's note on what each result's vs_line is. */
static void pingpong_json_run(json_t *root, const struct ik_config *cfg)
{
	(void)cfg;
	json_object_set_new(root, "vs_line",
			    json_string("p50 over line's p50 on the same pair, "
					"mode, size and gap"));
}

static const char *const pingpong_options[] = {
	"matrix", "gap", "line-op", "lines", "late", "soak", NULL};

const struct ik_kernel_ops ik_kernel_pingpong = {
	.name = "pingpong",
	.msg = "round_trip",
	.summary = "round trips",
	.help = "pingpong (default: round trips)",
	.id = IK_KERNEL_PINGPONG,
	.options = pingpong_options,
	.floor = true,
	.run = ik_pingpong,
	.title = pingpong_title,
	.table = pingpong_table,
	.json_cell = ik_listen_strangers_json,
	.json_measured = ik_roundtrip_json,
	.json_run = pingpong_json_run,
};
