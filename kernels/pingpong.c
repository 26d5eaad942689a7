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
	enum { FAULT_NONE, FAULT_KILL_B, FAULT_STALL_B } fault;
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
	if (cfg->gap_ns)
		ret = gap_loop(ch, pp, cfg->iters, deadline, &n);
	else
		ret = tsc ? loop_tsc(ch, pp, cfg->iters, deadline, &n)
			  : loop_clock(ch, pp, cfg->iters, deadline, &n);
	pp->sh->wall_ns = ik_clock_ns() - t0;
	pp->sh->count = n;
	pp->sh->hit_cap = cfg->duration_ns && n == cfg->iters;
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

static int side_b(struct ik_channel *ch, struct pp *pp)
{
	ik_send_fn send = ch->send;
	ik_recv_fn recv = ch->recv;
	unsigned char *in = pp->buf[1].in;
	size_t len = pp->cfg->size;
	int ret;

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
			const struct ik_timer *timer, bool keep_raw)
{
	uint64_t i;

	res->count = pp->sh->count;
	res->wall_ns = pp->sh->wall_ns;
	res->hit_cap = pp->sh->hit_cap;
	res->warmup_ns = pp->sh->warmup_ns;
	res->warmup += pp->sh->after_n; /* untimed trips count for CPU */
	res->untimed_mean_ns =
		pp->sh->untimed_n
			? (double)pp->sh->untimed_ns / (double)pp->sh->untimed_n
			: 0;
	if (keep_raw)
		res->raw_ns = malloc((res->count ? res->count : 1) *
				     sizeof(uint64_t));
	for (i = 0; i < res->count; i++) {
		uint64_t ns = ik_ticks_to_ns(timer, pp->samples[i]);

		ik_hist_record(&res->hist, ns);
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
	struct ik_kernel_hooks k = {pp_prepare, pp_body, pp_release, &pp};
	bool stuck;
	int ret;

	ik_result_begin(res, cfg, ops, mode, run->topo);
	res->kernel = &ik_kernel_pingpong;
	res->warmup = cfg->warmup;
	if (fault && !strcmp(fault, "kill-b"))
		pp.fault = FAULT_KILL_B;
	else if (fault && !strcmp(fault, "stall-b"))
		pp.fault = FAULT_STALL_B;
	ret = ik_hist_init(&res->hist, IK_HIST_MAX_NS);
	pp.samples_len = cfg->iters * sizeof(uint64_t);
	pp.samples =
		ret ? NULL : ik_shm_alloc_on(pp.samples_len, run->mem_node);
	pp.sh = ik_shm_alloc_on(sizeof(*pp.sh), run->mem_node);
	if (ret || !pp.samples || !pp.sh) {
		ret = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "%s",
			 strerror(-ret));
		goto out;
	}
	ret = ik_kernel_run(cfg, ops, mode, run, res, &k, &stuck);
	if (stuck) {
		res->err = ret;
		return ret; /* the peers may still touch samples and sh */
	}
	if (!ret)
		fill_result(res, &pp, timer, cfg->keep_raw);
	if (!ret && cfg->lines.n > 1 && res->count >= cfg->lines.n)
		per_line(res, &pp, timer);
out:
	ik_shm_free(pp.samples, pp.samples_len);
	ik_shm_free(pp.sh, sizeof(*pp.sh));
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

static const char *const pingpong_options[] = {"matrix", "gap", "line-op",
					       "lines", NULL};

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
