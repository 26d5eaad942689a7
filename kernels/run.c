/* SPDX-License-Identifier: MIT */
/*
 * What every kernel does around its loops: the result's common fields,
 * the channel for one method and mode, the two peers running the
 * kernel's prepare and body, and the clean-up in the right order. A
 * kernel keeps only its own state and loops. Two peers are a crew of
 * two (kernels/crew.c): this file only says what a peer does and how
 * the controller's messages read for a pair.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <numa.h>
#include <string.h>

#include "kernels.h"

int ik_config_cpu(const struct ik_config *cfg, unsigned s)
{
	return cfg->cpu[s < cfg->ncpu ? s : 0];
}

void ik_result_begin(struct ik_result *res, const struct ik_config *cfg,
		     const struct ik_transport_ops *ops, enum ik_mode mode,
		     const struct ik_topo *topo)
{
	memset(res, 0, sizeof(*res));
	res->ops = ops;
	res->mode = mode;
	res->size = cfg->size;
	res->buffer = cfg->buffer;
	res->gap_ns = cfg->gap_ns;
	res->wait = cfg->wait;
	res->wait_shown = cfg->wait_given && ops && (ops->flags & IK_T_WAIT);
	res->spin_budget = cfg->wait == IK_WAIT_HYBRID ? cfg->spin_budget : 0;
	res->cls = -1;
	res->wake.err = -ENODATA; /* not traced, until a pass is */
	res->line.touch = cfg->touch;
	res->line.touch_cpu = cfg->touch == IK_TOUCH_A	 ? ik_config_cpu(cfg, 0)
			      : cfg->touch == IK_TOUCH_B ? ik_config_cpu(cfg, 1)
							 : cfg->touch_cpu;
	res->line.touched_on = -1;
	res->line.homed = cfg->homed;
	res->line.home = cfg->homed ? cfg->home : -1;
	res->line.node_found = -1;
	res->line.lines = cfg->lines;
	if (cfg->load)
		snprintf(res->load.text, sizeof(res->load.text), "%s",
			 cfg->load->text);
	if (cfg->pinned)
		ik_topo_classify(topo, ik_config_cpu(cfg, 0),
				 ik_config_cpu(cfg, 1), &res->pair);
	else
		res->pair = (struct ik_pair){.rel = IK_REL_UNPINNED,
					     .cpu = {-1, -1},
					     .numa = {-1, -1}};
}

void ik_result_free(struct ik_result *res)
{
	ik_hist_free(&res->hist);
	ik_hist_free(&res->connect.connect_hist);
	free(res->raw_ns);
	res->raw_ns = NULL;
	free(res->rep_v);
	res->rep_v = NULL;
	free(res->soak);
	res->soak = NULL;
	res->nsoak = 0;
	ik_group_free(res->group);
	res->group = NULL;
	free(res->slo);
	res->slo = NULL;
}

void ik_result_counted(struct ik_result *res)
{
	res->explain_pass = 1;
	res->counted = (struct ik_counted){
		.count = res->count,
		.warmup = res->warmup,
		.messages = res->stream.messages,
		.cpu = {res->cpu[0], res->cpu[1]},
	};
}

void ik_result_keep_counted(struct ik_result *res,
			    const struct ik_result *counted)
{
	res->explained = true;
	res->explain_pass = 2;
	memcpy(res->ctr, counted->ctr, sizeof(res->ctr));
	memcpy(res->bg, counted->bg, sizeof(res->bg));
	res->wake = counted->wake;
	res->counted = counted->counted;
}

void ik_result_pool(struct ik_result *dst, const struct ik_result *src,
		    unsigned r)
{
	const struct ik_kernel_ops *k =
		dst->kernel ? dst->kernel : ik_kernels[0];
	int i;

	dst->strangers += src->strangers;
	dst->stalls += src->stalls;
	dst->stall_ns += src->stall_ns;
	if (!dst->note[0])
		memcpy(dst->note, src->note, sizeof(dst->note));
	if (src->err && !dst->err) {
		dst->err = src->err;
		memcpy(dst->errmsg, src->errmsg, sizeof(dst->errmsg));
	}
	if (dst->err || src->err)
		return;
	ik_hist_merge(&dst->hist, &src->hist);
	dst->count += src->count;
	dst->warmup += src->warmup;
	dst->wall_ns += src->wall_ns;
	dst->warmup_ns += src->warmup_ns;
	dst->hit_cap |= src->hit_cap;
	/* late and lost add up; the first repeats' events stand */
	{
		unsigned k;

		dst->late.count += src->late.count;
		if (src->late.worst_ns > dst->late.worst_ns)
			dst->late.worst_ns = src->late.worst_ns;
		for (k = 0; k < src->late.nev && dst->late.nev < IK_LATE_EVENTS;
		     k++)
			dst->late.ev[dst->late.nev++] = src->late.ev[k];
		dst->lost += src->lost;
		dst->late_shown |= src->late_shown;
	}
	dst->untimed_mean_ns =
		(dst->untimed_mean_ns * r + src->untimed_mean_ns) / (r + 1);
	for (i = 0; i < 2; i++) {
		ik_cpu_add(&dst->cpu[i], &src->cpu[i]);
		ik_counts_add(&dst->ctr[i], &src->ctr[i]);
		ik_counts_add(&dst->bg[i], &src->bg[i]);
	}
	/* --load: the antagonists' work over every repeat's time */
	for (unsigned a = 0; a < dst->load.n && a < src->load.n; a++) {
		dst->load.out[a].work += src->load.out[a].work;
		dst->load.out[a].bytes += src->load.out[a].bytes;
		dst->load.out[a].seconds += src->load.out[a].seconds;
	}
	dst->explained &= src->explained;
	dst->counted.count += src->counted.count;
	dst->counted.warmup += src->counted.warmup;
	dst->counted.messages += src->counted.messages;
	for (i = 0; i < 2; i++)
		ik_cpu_add(&dst->counted.cpu[i], &src->counted.cpu[i]);
	/* percentiles do not add up: the first repeat traced stands */
	if (dst->wake.err && !src->wake.err)
		dst->wake = src->wake;
	if (src->explain_pass > dst->explain_pass)
		dst->explain_pass = src->explain_pass;
	if (k->pool)
		k->pool(dst, src, r);
}

static const char *const peer_names[] = {"peer A", "peer B"};

static void peer_fail(struct ik_crew *c, unsigned s, int err, const char *what)
{
	ik_crew_fail(c, s, err, "%s: %s", what, strerror(-err));
}

void ik_peers_cpu_restart(struct ik_peers *g, enum ik_side s)
{
	if (g->explain)
		ik_counters_read(&g->ctr[s], &g->ctr0[s]);
	ik_cpu_mark(&g->mark[s]);
}

/* Where the peer runs, bound to its CPU if pinned; 0 or -errno. */
static int peer_place(struct ik_crew *c, struct ik_peers *g, enum ik_side s)
{
	int ret = 0;

	if (g->pinned) {
		ret = ik_bind_self(c->run->topo, g->cpu[s]);
		if (ret == -EXDEV)
			ik_crew_fail(c, s, ret,
				     "peer %c: pin to CPU %d did not take: it "
				     "runs on CPU %d",
				     'A' + s, g->cpu[s], sched_getcpu());
		else if (ret)
			peer_fail(c, s, ret,
				  s ? "peer B: bind" : "peer A: bind");
	}
	c->sh->m[s].cpu_seen = sched_getcpu();
	return ret;
}

/* One peer, as crew member s: its CPU counts from the start barrier. */
static int peer_main(struct ik_crew *c, unsigned i)
{
	struct ik_peers *g = c->arg;
	enum ik_side s = (enum ik_side)i;
	struct ik_cpu_usage use;
	int ret = peer_place(c, g, s);

	if (g->trace && s == IK_SIDE_B)
		__atomic_store_n(&c->sh->m[1].tid, gettid(), __ATOMIC_RELEASE);
	if (!ret && (ret = ik_channel_open_side(g->ch, s)))
		peer_fail(c, i, ret, "open_side");
	if (!ret && g->prepare && (ret = g->prepare(g, s)))
		peer_fail(c, i, ret, "prepare");
	/* counting starts here, in the peer's own thread; read at the
	 * mark and at the end, never inside the body's loops */
	if (g->explain)
		ik_counters_open(&g->ctr[s], g->pinned ? g->cpu[s] : -1, "");
	/* --explain traced: peer A, once it knows B's tid, sets the trace
	 * to both before the gate (a filter takes a while to set) */
	if (!ret && g->trace && s == IK_SIDE_A) {
		int tids[2] = {gettid(), 0};

		while (!(tids[1] = __atomic_load_n(&c->sh->m[1].tid,
						   __ATOMIC_ACQUIRE)) &&
		       !ik_crew_aborted(c))
			sched_yield();
		if (tids[1])
			ik_trace_start(g->trace, tids, 2);
		c->sh->m[0].tid = tids[0];
	}
	if (!ret && (ret = ik_crew_barrier(c)) == -ECANCELED)
		ik_crew_fail(c, i, ret, "not run: %s",
			     c->run->start ? "another pair failed to start"
					   : "cancelled at the start gate");
	else if (ret) /* first message wins: only the barrier's is new */
		peer_fail(c, i, ret,
			  s ? "peer B: start gate" : "peer A: start gate");
	/* and turns it on past the gate, so that the gate's own wake-up is
	 * not taken for a hop's (a hop or two of B's may go untraced) */
	if (!ret && g->trace && s == IK_SIDE_A)
		ik_trace_on(g->trace, true);
	ik_peers_cpu_restart(g, s);
	if (!ret && (ret = g->body(g, s)))
		peer_fail(c, i, ret, s ? "peer B" : "peer A");
	/* what it counted since its mark; closed after its CPU is read,
	 * so closing the counters costs the peer nothing it reports */
	ik_crew_count_store(c, s, &g->ctr[s], &g->ctr0[s]);
	ik_cpu_since(&g->mark[s], &use);
	ik_crew_add_cpu(c, i, &use);
	if (g->explain)
		ik_counters_close(&g->ctr[s]);
	if (ret) /* the other peer stops at once, in its own process too */
		ik_channel_abort(g->ch);
	return ret;
}

static void peers_unblock(struct ik_crew *c)
{
	struct ik_peers *g = c->arg;

	ik_channel_abort(g->ch);
}

static void peers_tick(struct ik_crew *c)
{
	struct ik_peers *g = c->arg;

	if (g->ch->ops->watch)
		g->ch->ops->watch(g->ch);
	if (g->tick)
		g->tick(g->arg);
}

int ik_peers_run(struct ik_peers *g)
{
	char hint[120];
	int ret;

	g->crew = (struct ik_crew){
		.n = 2,
		.mode = g->mode,
		.run = g->run,
		.timeout_ns = g->timeout_ns,
		.body = peer_main,
		.unblock = peers_unblock,
		.tick = peers_tick,
		.arg = g,
		.names = peer_names,
		.cpu = g->cpu_use,
		.cpu_seen = g->cpu_seen,
		.counts = g->explain ? g->counts : NULL,
		.tids = g->trace ? g->tids : NULL,
		.load = g->load,
		.load_on_peer = g->load_on_peer,
		.load_out = g->load_out,
		.load_peers = g->pinned ? g->cpu : NULL,
		.load_npeers = g->pinned ? 2 : 0,
	};
	ret = ik_crew_run(&g->crew);
	g->stuck = g->crew.stuck;
	/* a pair's own words for how the controller ended it */
	if (g->crew.end == IK_CREW_START)
		snprintf(g->errmsg, sizeof(g->errmsg), "starting peers: %s%s",
			 strerror(-ret),
			 ik_limit_hint(ret, hint, sizeof(hint)));
	else if (g->crew.end == IK_CREW_TIMEOUT)
		snprintf(g->errmsg, sizeof(g->errmsg),
			 "timed out after %.1f s (--timeout)",
			 (double)g->timeout_ns / 1e9);
	else if (g->crew.end == IK_CREW_INTERRUPT)
		snprintf(g->errmsg, sizeof(g->errmsg),
			 "interrupted by a signal");
	else
		snprintf(g->errmsg, sizeof(g->errmsg), "%s", g->crew.errmsg);
	return ret;
}

/*
 * --explain, pinned: the two CPUs' interrupts and idle entries over an
 * idle interval as long as the counted span (capped), once the peers
 * are gone, so the reports can take the CPUs' background away.
 */
void ik_explain_idle(const struct ik_config *cfg, struct ik_result *res)
{
	int cpus[2] = {ik_config_cpu(cfg, 0), ik_config_cpu(cfg, 1)};
	uint64_t ns = res->ctr[0].ns > res->ctr[1].ns ? res->ctr[0].ns
						      : res->ctr[1].ns;

	if (ns > IK_EXPLAIN_IDLE_NS)
		ns = IK_EXPLAIN_IDLE_NS;
	ik_counters_idle(cpus, 2, ns, "", res->bg);
}

/* --preheat: the pair's CPUs busy first, their clock recorded. */
static int preheat(const struct ik_config *cfg, struct ik_result *res)
{
	int cpu[2] = {ik_config_cpu(cfg, 0), ik_config_cpu(cfg, 1)};
	int ret;

	if (!cfg->pinned) {
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "--preheat: the peers are not pinned");
		return -EINVAL;
	}
	ret = ik_preheat("", cpu, cfg->preheat_ms, &res->preheat);
	if (ret)
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "--preheat on CPUs %d,%d: %s", cpu[0], cpu[1],
			 strerror(-ret));
	return ret;
}

/*
 * Line provenance as the kernel has it: which CPU the first-touch thread
 * ran on, and the node of every page of the lines (move_pages), with
 * what that cannot tell on this machine.
 */
static void verify_lines(const struct ik_channel *ch, struct ik_result *res)
{
	struct ik_line_result *l = &res->line;
	int nodes = numa_available() < 0 ? 1 : numa_max_node() + 1;

	l->touched_on = ch->touched_on;
	l->node_found = ik_shm_nodes_of(ch->lines, ch->lines_len, &l->pages);
	if (l->node_found == IK_NODES_MIXED) {
		l->node_found = -2;
	} else if (l->node_found < 0) {
		snprintf(l->why, sizeof(l->why), "move_pages: %s",
			 strerror(-l->node_found));
		l->node_found = -1;
	} else if (nodes < 2 && (l->homed || l->touch)) {
		snprintf(l->why, sizeof(l->why),
			 "one NUMA node here: every page is on node 0 "
			 "whoever touches it; placement not tested");
	}
}

/* What the transport's kernel held up, on the result and its error. */
static void note_stalls(struct ik_channel *ch, int ret, struct ik_result *res)
{
	struct ik_stalls st = {0};
	size_t n = strlen(res->errmsg);

	ch->ops->stalls(ch, &st);
	res->stalls = st.count;
	res->stall_ns = st.ns;
	snprintf(res->note, sizeof(res->note), "%s", st.why);
	/* a run that ran out of time says what held it */
	if (ret == -ETIMEDOUT && st.count)
		snprintf(res->errmsg + n, sizeof(res->errmsg) - n,
			 ": %s stalled %u time%s, %.1f s in all (see note)",
			 ch->ops->name, st.count, st.count == 1 ? "" : "s",
			 (double)st.ns / 1e9);
}

int ik_kernel_run(const struct ik_config *cfg,
		  const struct ik_transport_ops *ops, enum ik_mode mode,
		  const struct ik_run *run, struct ik_result *res,
		  const struct ik_kernel_hooks *k, bool *stuck)
{
	struct ik_chan_params p = {
		.size = cfg->size,
		.buffer = cfg->buffer,
		.mode = mode,
		/* a method that takes no strategy keeps its own way */
		.wait = ops->flags & IK_T_WAIT ? cfg->wait : IK_WAIT_SPIN,
		.spin_budget = cfg->spin_budget,
		.same_pu = cfg->pinned &&
			   ik_config_cpu(cfg, 0) == ik_config_cpu(cfg, 1),
		.unpinned = !cfg->pinned,
		.stream = ik_kernels[cfg->kernel]->one_way,
		/* --home is --mem-node for the channel alone: one binding */
		.bind_node = cfg->homed || run->mem_node >= 0,
		.node = cfg->homed ? cfg->home : run->mem_node,
		.lines = cfg->lines,
		.wake_deadline_ns = cfg->wake_deadline_ns
					    ? cfg->wake_deadline_ns
					    : IK_WAKE_DEADLINE_NS,
	};
	struct ik_channel ch;
	struct ik_trace tr = {.err = -ENODATA};
	struct ik_peers g = {
		.ch = &ch,
		.mode = mode,
		.run = run,
		.pinned = cfg->pinned,
		.cpu = {ik_config_cpu(cfg, 0), ik_config_cpu(cfg, 1)},
		.timeout_ns = cfg->timeout_ns,
		.explain = cfg->explain,
		.prepare = k->prepare,
		.body = k->body,
		.arg = k->arg,
		.load = cfg->load,
		.load_on_peer = cfg->load_on_peer,
		.load_out = &res->load,
		.tick = k->tick,
	};
	int ret, s;

	*stuck = false;
	p.lines.touch = cfg->touch != IK_TOUCH_NONE;
	p.lines.touch_cpu = res->line.touch_cpu;
	if (p.lines.touch && p.lines.touch_cpu < 0) {
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "--first-touch a or b: the peers are not pinned");
		return -EINVAL;
	}
	ret = ik_channel_init(&ch, ops, &p);
	if (ret) {
		char limit[120];

		snprintf(res->errmsg, sizeof(res->errmsg), "%s setup: %s%s%s%s",
			 ops->name, strerror(-ret),
			 ik_limit_hint(ret, limit, sizeof(limit)),
			 ops->setup_hint ? ": " : "",
			 ops->setup_hint ? ops->setup_hint : "");
		return ret;
	}
	snprintf(res->granted, sizeof(res->granted), "%s", ch.granted);
	res->strangers = ch.strangers;
	/* --explain traces the counted pass (cli/grid.c times a second,
	 * untraced one where the tracing could have disturbed it) */
	if (cfg->explain) {
		ik_trace_open(&tr);
		g.trace = tr.err ? NULL : &tr;
	}
	if (cfg->preheat_ms && (ret = preheat(cfg, res))) {
		ik_channel_destroy(&ch);
		return ret;
	}
	ret = ik_peers_run(&g);
	if (cfg->explain && cfg->trace_hold && g.trace) {
		ik_trace_stop(&tr);
		tr.held = true;
		tr.tids[0] = g.tids[0];
		tr.tids[1] = g.tids[1];
		tr.ntids = 2;
		*cfg->trace_hold = tr;
	} else if (cfg->explain) {
		ik_trace_collect(&tr, g.tids, g.trace ? 2 : 0, &res->wake);
		ik_trace_close(&tr);
	}
	if (!g.stuck) {
		res->mem_node = ik_shm_node_of(ch.sh); /* touched by now */
		res->lost = ik_channel_lost(&ch);
		res->late_shown |= res->lost != 0; /* any kernel's */
		verify_lines(&ch, res);
	}
	for (s = 0; s < 2; s++) {
		res->cpu_seen[s] = g.cpu_seen[s];
		res->cpu[s] = g.cpu_use[s];
		res->ctr[s] = g.counts[s];
	}
	res->explained = cfg->explain && !ret;
	/* the caller that holds the trace also idles after its second
	 * pass: a second idle CPU lingers into the next timed loop */
	if (res->explained && cfg->pinned && cfg->trace_hold)
		cfg->trace_hold->idle_due = true;
	else if (res->explained && cfg->pinned)
		ik_explain_idle(cfg, res);
	if (ret)
		snprintf(res->errmsg, sizeof(res->errmsg), "%s", g.errmsg);
	if (!g.stuck && ops->stalls)
		note_stalls(&ch, ret, res);
	if (g.stuck) {
		/* a peer thread is still inside the channel: leave it be */
		*stuck = true;
		return ret;
	}
	if (k->release)
		k->release(k->arg);
	ik_channel_destroy(&ch);
	return ret;
}
