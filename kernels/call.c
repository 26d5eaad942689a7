/* SPDX-License-Identifier: MIT */
/*
 * Calls into a worker: side A (the caller) packages a call, a small
 * struct with an argument, hands it to side B (a dedicated worker) over
 * the method and waits for the result; the worker runs a trivial
 * function, optionally --work ns of busy work (timed against the
 * clock), and answers.
 * It is a ping-pong whose report is the one people ask for when they
 * move work off an event loop: wall time per call and the CPU it cost
 * in the caller and in the worker. CPU is counted over the timed calls
 * only: the caller restarts its count as the timed loop starts, the
 * worker when the first timed call arrives.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"
#include "view.h"

/* What crosses the channel each way. */
struct ik_call {
	uint64_t id;	/* the call's number; the answer carries it back */
	uint64_t value; /* argument there, result back */
};

/* The function the worker runs: cheap, and the caller can check it. */
static inline uint64_t call_fn(uint64_t id, uint64_t arg)
{
	return arg * 0x9e3779b97f4a7c15ull ^ id;
}

struct call_shared {
	alignas(IK_CACHELINE) _Atomic int stop; /* A: the next is the last */
	alignas(IK_CACHELINE) uint64_t count;	/* written by A at the end */
	uint64_t wall_ns;
	uint64_t work_ticks; /* busy work per call, in clock ticks */
	bool hit_cap;
};

struct call {
	const struct ik_config *cfg;
	const struct ik_timer *timer;
	struct call_shared *sh;
	uint64_t *samples; /* shared, cfg->iters entries of ticks */
	size_t samples_len;
};

static inline uint64_t now(bool tsc)
{
	return tsc ? ik_tsc() : ik_clock_ns();
}

/* --work: busy until the clock has moved by ticks. Against the clock,
 * not a loop count: a host that slows the vCPU must not stretch it. */
static void busy(uint64_t ticks, bool tsc)
{
	uint64_t until = now(tsc) + ticks;

	while (ticks && now(tsc) < until)
		ik_cpu_relax();
}

/* One call, checked. */
static inline int one_call(struct ik_channel *ch, struct ik_call *out,
			   struct ik_call *in, uint64_t id)
{
	int ret;

	out->id = id;
	out->value = id * 7 + 3;
	if ((ret = ch->send(ch, IK_SIDE_A, out, sizeof(*out))) ||
	    (ret = ch->recv(ch, IK_SIDE_A, in, sizeof(*in))))
		return ret;
	return in->id == id && in->value == call_fn(id, out->value) ? 0
								    : -EBADMSG;
}

/* The timed calls; tsc is constant in each caller, so no branch on it. */
static inline int timed_calls(struct ik_channel *ch, struct call *c,
			      uint64_t first, uint64_t n, uint64_t deadline,
			      bool tsc, uint64_t *done)
{
	struct ik_call out, in;
	uint64_t *s = c->samples, t0 = now(tsc), t1, i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (ik_unlikely(ret = one_call(ch, &out, &in, first + i)))
			break;
		t1 = now(tsc);
		s[i] = t1 - t0;
		t0 = t1;
		if (ik_unlikely(t1 >= deadline)) {
			i++;
			break;
		}
	}
	*done = i;
	return ret;
}

static __attribute__((noinline)) int calls_tsc(struct ik_channel *ch,
					       struct call *c, uint64_t first,
					       uint64_t n, uint64_t deadline,
					       uint64_t *done)
{
	return timed_calls(ch, c, first, n, deadline, true, done);
}

static __attribute__((noinline)) int calls_clock(struct ik_channel *ch,
						 struct call *c, uint64_t first,
						 uint64_t n, uint64_t deadline,
						 uint64_t *done)
{
	return timed_calls(ch, c, first, n, deadline, false, done);
}

static int caller(struct ik_peers *g, struct call *c)
{
	const struct ik_config *cfg = c->cfg;
	bool tsc = c->timer->kind == IK_CLOCK_TSC;
	struct ik_call out, in;
	uint64_t i, n = 0, t0, deadline = UINT64_MAX;
	int ret;

	for (i = 0; i < cfg->warmup; i++)
		if ((ret = one_call(g->ch, &out, &in, i)))
			return ret;
	if (cfg->duration_ns)
		deadline = now(tsc) + (uint64_t)((double)cfg->duration_ns /
						 c->timer->ns_per_tick);
	ik_peers_cpu_restart(g, IK_SIDE_A);
	t0 = ik_clock_ns();
	ret = tsc ? calls_tsc(g->ch, c, cfg->warmup, cfg->iters, deadline, &n)
		  : calls_clock(g->ch, c, cfg->warmup, cfg->iters, deadline,
				&n);
	c->sh->wall_ns = ik_clock_ns() - t0;
	c->sh->count = n;
	c->sh->hit_cap = cfg->duration_ns && n == cfg->iters;
	if (ret)
		return ret;
	/* release: the worker reads stop after the call that follows */
	atomic_store_explicit(&c->sh->stop, 1, memory_order_release);
	out.id = UINT64_MAX;
	return g->ch->send(g->ch, IK_SIDE_A, &out, sizeof(out));
}

static int worker(struct ik_peers *g, struct call *c)
{
	struct ik_channel *ch = g->ch;
	uint64_t work = c->sh->work_ticks, timed_from = c->cfg->warmup;
	bool tsc = c->timer->kind == IK_CLOCK_TSC;
	struct ik_call in;
	int ret;

	for (;;) {
		if ((ret = ch->recv(ch, IK_SIDE_B, &in, sizeof(in))))
			return ret;
		if (atomic_load_explicit(&c->sh->stop, memory_order_acquire))
			return 0;
		if (ik_unlikely(in.id == timed_from))
			ik_peers_cpu_restart(g, IK_SIDE_B);
		in.value = call_fn(in.id, in.value);
		busy(work, tsc);
		if ((ret = ch->send(ch, IK_SIDE_B, &in, sizeof(in))))
			return ret;
	}
}

static int call_prepare(struct ik_peers *g, enum ik_side side)
{
	struct call *c = g->arg;

	if (side == IK_SIDE_A) /* fault the sample pages in now */
		memset(c->samples, 0, c->samples_len);
	return 0;
}

static int call_body(struct ik_peers *g, enum ik_side side)
{
	struct call *c = g->arg;

	return side == IK_SIDE_A ? caller(g, c) : worker(g, c);
}

int ik_call(const struct ik_config *cfg, const struct ik_transport_ops *ops,
	    enum ik_mode mode, const struct ik_run *run, struct ik_result *res)
{
	const struct ik_timer *timer = run->timer;
	struct ik_config one = *cfg;
	struct call c = {.cfg = &one, .timer = timer};
	struct ik_kernel_hooks k = {call_prepare, call_body, NULL, &c, NULL};
	bool stuck;
	uint64_t i;
	int ret;

	one.size = sizeof(struct ik_call);
	ik_result_begin(res, &one, ops, mode, run->topo);
	res->kernel = &ik_kernel_call;
	res->work_ns = cfg->work_ns;
	res->warmup = cfg->warmup;
	ret = ik_hist_init(&res->hist, IK_HIST_MAX_NS);
	c.samples_len = cfg->iters * sizeof(uint64_t);
	c.samples = ret ? NULL : ik_shm_alloc_on(c.samples_len, run->mem_node);
	c.sh = ik_shm_alloc_on(sizeof(*c.sh), run->mem_node);
	if (ret || !c.samples || !c.sh) {
		ret = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "%s",
			 strerror(-ret));
		goto out;
	}
	c.sh->work_ticks =
		(uint64_t)((double)cfg->work_ns / timer->ns_per_tick);
	ret = ik_kernel_run(&one, ops, mode, run, res, &k, &stuck);
	if (stuck) {
		res->err = ret;
		return ret; /* the peers may still touch samples and sh */
	}
	if (ret == -EBADMSG)
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "a call came back with the wrong id or result");
	if (!ret) {
		res->count = c.sh->count;
		res->wall_ns = c.sh->wall_ns;
		res->hit_cap = c.sh->hit_cap;
		for (i = 0; i < res->count; i++)
			ik_hist_record(&res->hist,
				       ik_ticks_to_ns(timer, c.samples[i]));
	}
out:
	ik_shm_free(c.samples, c.samples_len);
	ik_shm_free(c.sh, sizeof(*c.sh));
	res->err = ret;
	return ret;
}

/* A call's message is its own: an id and an argument. */
static int call_validate(const struct ik_config *c, const struct ik_sweep *sw,
			 char *msg, size_t len)
{
	(void)c;
	if (!sw->size_given)
		return 0;
	snprintf(msg, len,
		 "--size: --kernel call sends a %zu-byte call (id, argument) "
		 "and gets its result back",
		 2 * sizeof(uint64_t));
	return -EINVAL;
}

/* ---- its part of the reports ---- */

static void call_title(const struct ik_view *v)
{
	fprintf(v->f,
		"ipckern %s: calls into a worker, %llu timed calls "
		"after %llu warm-up%s\n",
		IK_VERSION, (unsigned long long)v->cfg->iters,
		(unsigned long long)v->cfg->warmup,
		v->cfg->duration_ns ? " (or --duration)" : "");
}

/*
 * --kernel call: the shape of the studies that split a hand-off to a
 * worker thread into wall time, total CPU, the caller's CPU and the
 * worker's; per call, and for all the timed calls together.
 */
static void call_table(const struct ik_view *v)
{
	FILE *f = v->f;
	char a[4][16];
	unsigned i;

	fprintf(f, "wall and CPU per call in ns (u = us, m = ms); CPU over "
		   "the timed calls only\n\n");
	fprintf(f,
		"%-10s %-7s %7s %9s | %8s %8s %8s | %9s %9s %9s %9s | %8s "
		"%8s %8s %8s\n",
		"method", "mode", "work", "calls", "wall", "p50", "p99", "cpu",
		"caller", "worker", "cpu/wall", "wall s", "cpu s", "caller s",
		"worker s");
	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];
		double n = res->count ? (double)res->count : 1;
		double ca = (double)res->cpu[0].cpu_ns,
		       cw = (double)res->cpu[1].cpu_ns,
		       w = (double)res->wall_ns;

		fprintf(f, "%-10s %-7s %7s ", res->ops->name,
			ik_mode_name(res->mode),
			ik_fmt_ns(a[0], 16, (double)res->work_ns));
		if (res->err) {
			fprintf(f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		fprintf(f,
			"%9llu | %8s %8s %8s | %9.0f %9.0f %9.0f %9.2f | "
			"%8.3f %8.3f %8.3f %8.3f\n",
			(unsigned long long)res->count,
			ik_fmt_ns(a[1], 16, w / n),
			ik_fmt_ns(a[2], 16,
				  (double)ik_hist_percentile(&res->hist, 50)),
			ik_fmt_ns(a[3], 16,
				  (double)ik_hist_percentile(&res->hist, 99)),
			(ca + cw) / n, ca / n, cw / n,
			w > 0 ? (ca + cw) / w : 0, w / 1e9, (ca + cw) / 1e9,
			ca / 1e9, cw / 1e9);
	}
	fprintf(f, "\nwall: timed calls' wall time / calls; p50/p99: each call "
		   "timed; cpu = caller + worker (CLOCK_THREAD_CPUTIME_ID); "
		   "cpu/wall: CPUs kept busy (2 = both spin).\n");
}

static void call_cell_json(json_t *o, const struct ik_result *res)
{
	ik_listen_strangers_json(o, res);
	json_object_set_new(o, "work_ns",
			    json_integer((json_int_t)res->work_ns));
}

static void call_json(json_t *o, const struct ik_result *res)
{
	double n = res->count ? (double)res->count : 1;
	double ca = (double)res->cpu[0].cpu_ns, cw = (double)res->cpu[1].cpu_ns;

	json_object_set_new(
		o, "call",
		json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:s}",
			  "work_ns", (json_int_t)res->work_ns, "calls",
			  (json_int_t)res->count, "wall_ns_total",
			  (json_int_t)res->wall_ns, "cpu_caller_ns_total",
			  (json_int_t)res->cpu[0].cpu_ns, "cpu_worker_ns_total",
			  (json_int_t)res->cpu[1].cpu_ns, "wall_ns_per_call",
			  (double)res->wall_ns / n, "cpu_ns_per_call",
			  (ca + cw) / n, "cpu_caller_ns_per_call", ca / n,
			  "cpu_worker_ns_per_call", cw / n, "cpu_counted",
			  "timed calls only"));
}

static const char *const call_options[] = {"work", NULL};

const struct ik_kernel_ops ik_kernel_call = {
	.name = "call",
	.msg = "call",
	.summary = "A calls into a worker B and waits: wall and CPU per call",
	.help = "\ncall (A calls into a worker B and waits: wall and CPU\n"
		"per call, caller and worker)",
	.id = IK_KERNEL_CALL,
	.options = call_options,
	.keys = IK_KEY_WORK,
	.cpu_timed_only = true,
	.run = ik_call,
	.validate = call_validate,
	.title = call_title,
	.table = call_table,
	.json_cell = call_cell_json,
	.json_measured = ik_roundtrip_json,
	.json_own = call_json,
};
