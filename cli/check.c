/* SPDX-License-Identifier: MIT */
/*
 * How options combine: everything about a command line that can be
 * refused before any file is opened or any topology read. Each check
 * returns 0 or -EINVAL with the refusal in plan->err (ik_cli_fail); the
 * options one at a time are cli/options.c's.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>

#include "cli/cli.h"

#define DEFAULT_STREAM_NS  (IK_NS_PER_SEC / 2)
#define DEFAULT_CONTEND_NS (IK_NS_PER_SEC / 5)

/* Return its -EINVAL when a check refused. */
#define TRY(x)                                                                 \
	do {                                                                   \
		int ret_ = (x);                                                \
		if (ret_)                                                      \
			return ret_;                                           \
	} while (0)

static bool crew_kernel(const struct ik_config *c)
{
	return ik_kernels[c->kernel]->crew;
}

/* more than two parties, one CPU each from --pin (group) */
static bool parties_kernel(const struct ik_config *c)
{
	return ik_kernels[c->kernel]->parties;
}

static unsigned max_pairs(const struct ik_sweep *c)
{
	unsigned maxp = 1, i;

	for (i = 0; i < c->npairs; i++)
		maxp = c->pairs[i] > maxp ? c->pairs[i] : maxp;
	return maxp;
}

void ik_cli_cell_cpus(struct ik_plan *p)
{
	struct ik_config *c = &p->cfg;

	c->pinned = p->pin_auto || p->npins;
	c->ncpu = 0;
	if (!p->npins)
		return;
	if (crew_kernel(c) || parties_kernel(c)) {
		/* the server's CPU first, then the clients'; a group's
		 * parties in order */
		memcpy(c->cpu, p->pins, p->npins * sizeof(p->pins[0]));
		c->ncpu = p->npins;
	} else {
		/* the first pair's (--pairs: the grid gives each its own) */
		c->cpu[0] = p->pins[0];
		c->cpu[1] = p->pins[p->npins > 1];
		c->ncpu = 2;
	}
}

/* --pin against --pairs and the kernel; then what each kernel reads. */
static int check_pins(struct ik_plan *p)
{
	const struct ik_config *c = &p->cfg;
	unsigned maxp = max_pairs(&p->sweep);

	ik_cli_cell_cpus(p);
	if (maxp > 1 && p->raw)
		return ik_cli_fail(p, "--raw: needs a single pair");
	if (maxp > 1 && p->pin_auto)
		return ik_cli_fail(
			p,
			"--pin auto: picks one pair; --pairs %u "
			"needs %u CPU numbers in --pin (or no --pin)",
			maxp, 2 * maxp);
	if (maxp > 1 && p->npins && p->npins != 2 * maxp)
		return ik_cli_fail(p,
				   "--pin %s: --pairs %u needs %u CPU numbers "
				   "(A,B for each pair, in order)",
				   p->pin_arg, maxp, 2 * maxp);
	if (!crew_kernel(c) && !parties_kernel(c) && maxp == 1 && p->npins &&
	    !p->pin_auto && p->npins != 2) {
		return ik_cli_fail(p,
				   "--pin '%s': expected two CPU numbers A,B "
				   "as taskset takes them (e.g. --pin 0,1), or "
				   "auto",
				   p->pin_arg);
	}
	return 0;
}

/* --matrix, --classes, --cpus, --topology, -q/-v: who goes with whom */
static int check_pairs(struct ik_plan *p)
{
	const struct ik_sweep *sw = &p->sweep;
	const struct ik_config *c = &p->cfg;

	if (p->ncpus && !p->matrix)
		return ik_cli_fail(p, "--cpus: applies to --matrix");
	if (p->matrix && (sw->nmethods != 1 || sw->nmodes != 1))
		return ik_cli_fail(p, "--matrix: measures one method in one "
				      "mode; pick one --method");
	if (p->matrix &&
	    (c->pinned || p->classes || sw->npairs > 1 || sw->pairs[0] > 1))
		return ik_cli_fail(p, "--matrix picks its own pairs; drop "
				      "--pin, --classes and --pairs");
	if (p->quiet && p->verbose)
		return ik_cli_fail(p, "--quiet and --verbose: pick one");
	if (p->topology && !(p->dry_run && p->classes))
		return ik_cli_fail(p,
				   "--topology %s: describes another machine, "
				   "so it only goes with --classes --dry-run",
				   p->topology);
	if (p->classes && c->pinned)
		return ik_cli_fail(p, "--classes picks its own pairs; drop "
				      "--pin");
	if (p->classes && (sw->npairs > 1 || sw->pairs[0] > 1))
		return ik_cli_fail(p, "--classes runs one pair at a time; drop "
				      "--pairs");
	return 0;
}

/* --load: one pair at a time, and --load-on-peer only with a load */
static int check_loads(struct ik_plan *p)
{
	const struct ik_sweep *sw = &p->sweep;
	bool any = false;
	unsigned i;

	for (i = 0; i < sw->nloads; i++)
		any |= sw->loads[i].n > 0;
	if (p->cfg.load_on_peer && !any)
		return ik_cli_fail(p, "--load-on-peer: goes with a --load "
				      "other than none");
	if (any && max_pairs(sw) > 1)
		return ik_cli_fail(p, "--load: runs beside one pair; drop "
				      "--pairs");
	return 0;
}

/* An assertion's reference must name something this run measures. */
static int check_assert_side(struct ik_plan *p, const struct ik_assertion *a,
			     const struct ik_assert_side *sd)
{
	const struct ik_sweep *sw = &p->sweep;
	unsigned i;
	bool method = false, mode = sd->mode < 0, size = !sd->size;

	if (!sd->has_ref)
		return 0;
	for (i = 0; i < sw->nmethods; i++)
		method |= !strcmp(sw->methods[i]->name, sd->method);
	for (i = 0; i < sw->nmodes; i++)
		mode |= (int)sw->modes[i] == sd->mode;
	for (i = 0; i < sw->nsizes; i++)
		size |= sw->sizes[i] == sd->size;
	if (!ik_transport_find(sd->method))
		return ik_cli_fail(p,
				   "--assert '%s': unknown method '%s' (see "
				   "--list)",
				   a->text, sd->method);
	if (!method)
		return ik_cli_fail(p,
				   "--assert '%s': %s is not measured in this "
				   "run; add it to --method",
				   a->text, sd->method);
	if (!mode)
		return ik_cli_fail(p,
				   "--assert '%s': that mode is not in --mode",
				   a->text);
	if (!size)
		return ik_cli_fail(p,
				   "--assert '%s': size %zu is not in --size",
				   a->text, sd->size);
	return 0;
}

static int check_normalize(struct ik_plan *p)
{
	const struct ik_cli_gate *g = &p->gate;
	bool in_run = false;
	unsigned i;

	for (i = 0; i < p->sweep.nmethods; i++)
		in_run |= !strcmp(p->sweep.methods[i]->name, g->normalize);
	if (!g->baseline && g->gate != IK_GATE_HISTORY)
		return ik_cli_fail(p, "--normalize: applies to --baseline and "
				      "--gate history");
	if (!in_run || p->sweep.nmethods < 2)
		return ik_cli_fail(p,
				   "--normalize %s: needs %s and another "
				   "method in --method",
				   g->normalize, g->normalize);
	return 0;
}

/* --history and what reads it: --label, --gate history and its knobs */
static int check_history(struct ik_plan *p)
{
	const struct ik_cli_gate *g = &p->gate;

	if (g->gate == IK_GATE_HISTORY && !g->history)
		return ik_cli_fail(p, "--gate history: reads the runs of "
				      "--history; add --history FILE or "
				      "postgresql://...");
	if (g->label && !g->history)
		return ik_cli_fail(p, "--label: labels the run in --history; "
				      "add --history FILE or postgresql://...");
	if (g->history_alpha_given && g->gate != IK_GATE_HISTORY)
		return ik_cli_fail(
			p, "--history-alpha: applies to --gate history");
	if (g->history_min_change_given && g->gate != IK_GATE_HISTORY)
		return ik_cli_fail(p, "--history-min-change: applies to --gate "
				      "history");
	if (g->history && !*g->history)
		return ik_cli_fail(p, "--history '': expected a file name or a "
				      "postgresql:// URL");
	if (g->history && p->machine)
		return ik_cli_fail(p, "--history: needs a measurement; drop "
				      "--machine");
	return 0;
}

static int check_gate(struct ik_plan *p)
{
	struct ik_cli_gate *g = &p->gate;
	unsigned i;

	if ((g->baseline || g->save_baseline) && !g->repeat_given)
		g->repeat = IK_GATE_REPEATS;
	if (g->baseline && g->repeat < IK_MIN_REPEATS)
		return ik_cli_fail(p,
				   "--repeat %u: a comparison with --baseline "
				   "needs at least %d repeats to tell noise "
				   "from a change",
				   g->repeat, IK_MIN_REPEATS);
	if (g->repeat_every_ns && g->repeat < 2)
		return ik_cli_fail(p, "--repeat-every: applies to --repeat 2 "
				      "or more");
	if (g->repeat > 1 && p->raw && g->repeat_given)
		return ik_cli_fail(p,
				   "--raw: needs a single run; drop --repeat");
	if (g->repeat > 1 && p->raw) /* the gate's own repeats */
		return ik_cli_fail(p,
				   "--raw: needs a single run, and %s runs "
				   "each cell %u times; drop --raw, or "
				   "record it in a run of its own",
				   g->baseline ? "--baseline"
					       : "--save-baseline",
				   g->repeat);
	/* --dry-run, --classes --dry-run too, plans them (nothing written) */
	if ((g->baseline || g->save_baseline || g->nasserts || g->summary_md) &&
	    p->machine)
		return ik_cli_fail(p, "--baseline, --save-baseline, --assert "
				      "and --summary-md need a measurement; "
				      "drop --machine");
	if (g->summary_md && !g->baseline && !g->nasserts)
		return ik_cli_fail(p,
				   "--summary-md %s: summarises a gate; add "
				   "--baseline or --assert",
				   g->summary_md);
	if (g->append && !g->save_baseline)
		return ik_cli_fail(p, "--append: applies to --save-baseline");
	if (g->allow_mismatch && !g->baseline)
		return ik_cli_fail(p,
				   "--allow-mismatch: applies to --baseline");
	if (g->normalize)
		TRY(check_normalize(p));
	TRY(check_history(p));
	for (i = 0; i < g->nasserts; i++) {
		TRY(check_assert_side(p, &g->asserts[i], &g->asserts[i].l));
		TRY(check_assert_side(p, &g->asserts[i], &g->asserts[i].r));
	}
	return 0;
}

/* Every size fits every method, mode and buffer, and this machine. */
static int check_sizes(struct ik_plan *p)
{
	const struct ik_sweep *sw = &p->sweep;
	uint64_t mem = (uint64_t)sysconf(_SC_PHYS_PAGES) *
		       (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned i, m, z, b;

	for (z = 0; z < sw->nsizes; z++) {
		/* messages are held several times over: buffers, rings */
		if ((uint64_t)sw->sizes[z] * 8 > mem)
			return ik_cli_fail(
				p,
				"--size %zu: over what this machine's memory "
				"(%llu MiB) can hold 8 times over",
				sw->sizes[z], (unsigned long long)(mem >> 20));
		for (b = 0; b < sw->nbuffers; b++)
			for (i = 0; i < sw->nmethods; i++)
				for (m = 0; m < sw->nmodes; m++) {
					struct ik_chan_params cp = {
						.size = sw->sizes[z],
						.buffer = sw->buffers[b],
						.mode = sw->modes[m]};
					size_t max = ik_transport_max_size(
						sw->methods[i], &cp);

					if (sw->sizes[z] <= max)
						continue;
					if (sw->buffers[b])
						return ik_cli_fail(
							p,
							"--size %zu: method %s "
							"carries at most %zu "
							"bytes per message "
							"with --buffer %zu",
							sw->sizes[z],
							sw->methods[i]->name,
							max, sw->buffers[b]);
					return ik_cli_fail(
						p,
						"--size %zu: method %s carries "
						"at most %zu bytes per message",
						sw->sizes[z],
						sw->methods[i]->name, max);
				}
	}
	for (b = 0; b < sw->nbuffers; b++)
		if ((uint64_t)sw->buffers[b] * 4 > mem)
			return ik_cli_fail(
				p,
				"--buffer %zu: over what this machine's memory "
				"(%llu MiB) can hold",
				sw->buffers[b],
				(unsigned long long)(mem >> 20));
	return 0;
}

/* The kernel's own checks (ops->validate), with its one-line refusal. */
static int check_own(struct ik_plan *p)
{
	const struct ik_kernel_ops *k = ik_kernels[p->cfg.kernel];

	return k->validate
		       ? k->validate(&p->cfg, &p->sweep, p->err, sizeof(p->err))
		       : 0;
}

/* A crew (echo, connect): connections, this process's room for the
 * clients, the kernel's own checks (connect's backlog), one crew only */
static int check_crew(struct ik_plan *p)
{
	const struct ik_sweep *sw = &p->sweep;
	const struct ik_config *c = &p->cfg;
	const char *k = ik_kernels[c->kernel]->name;
	unsigned i, n = ik_clients_max(sw, c), need = 2 * n + 32;
	struct rlimit nofile;
	const char *what = "";
	long tasks;

	for (i = 0; i < sw->nmethods; i++)
		if (!sw->methods[i]->listen)
			return ik_cli_fail(p,
					   "--kernel %s: method %s has no "
					   "connections; use tcp or uds",
					   k, sw->methods[i]->name);
	if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur < need)
		return ik_cli_fail(p,
				   "--clients %u: needs about %u file "
				   "descriptors and this process may open "
				   "%llu; raise it first (ulimit -n %u)",
				   n, need, (unsigned long long)nofile.rlim_cur,
				   need);
	if ((tasks = ik_task_limit(&what)) >= 0 && (long)n + 2 > tasks)
		return ik_cli_fail(
			p,
			"--clients %u: needs %u more threads or "
			"processes and %s allows %ld; raise it first",
			n, n + 1, what, tasks);
	TRY(check_own(p));
	if (p->matrix || p->classes || sw->npairs > 1 || sw->pairs[0] > 1)
		return ik_cli_fail(p,
				   "--kernel %s: runs one server and its "
				   "clients; drop --matrix, --classes and "
				   "--pairs",
				   k);
	return 0;
}

/*
 * Whether a method's messages live in pages the channel allocates (so
 * --first-touch, --home and --fresh place what the peers share): line
 * and spsc (their lines and rings), and the methods that carry no bytes
 * themselves, whose payload is in the channel's shared mailbox. Pipes,
 * sockets and queues keep the bytes in kernel buffers: nothing to place.
 */
static bool has_shared_pages(const struct ik_transport_ops *t)
{
	return (t->flags & IK_T_SIGNAL) || !strcmp(t->name, "line") ||
	       !strcmp(t->name, "spsc");
}

/*
 * Issue 19's options: which methods and kernels they apply to, and the
 * pinning a or b and --preheat need.
 */
/*
 * line's variants (--line-op other than store, --lines above 1, any
 * --stride) poll in each op's own loop, spin only: a sleeping or other
 * --wait for line with them is refused, not run as spin.
 */
static int check_line_waits(struct ik_plan *p)
{
	const struct ik_sweep *sw = &p->sweep;
	const char *opt = NULL;
	bool line = false;
	unsigned i;

	for (i = 0; i < sw->nmethods; i++)
		line |= !strcmp(sw->methods[i]->name, "line");
	for (i = 0; i < sw->nline_ops && !opt; i++)
		if (sw->line_ops[i] != IK_LINE_STORE)
			opt = "--line-op";
	for (i = 0; i < sw->nnlines && !opt; i++)
		if (sw->nlines[i] > 1)
			opt = "--lines";
	if (sw->nstrides && !opt)
		opt = "--stride";
	for (i = 0; line && opt && i < sw->nwaits; i++)
		if (sw->waits[i] != IK_WAIT_SPIN)
			return ik_cli_fail(p,
					   "--wait %s with %s: line's variants "
					   "(--line-op, --lines, --stride) "
					   "wait by spinning only; give them "
					   "--wait spin, or run --wait %s "
					   "without them",
					   ik_wait_name(sw->waits[i]), opt,
					   ik_wait_name(sw->waits[i]));
	return 0;
}

static int check_lines(struct ik_plan *p)
{
	const struct ik_sweep *sw = &p->sweep;
	bool pinned = p->npins || p->pin_auto || p->classes || p->matrix;
	bool touch_ab = false;
	unsigned i;

	for (i = 0; i < sw->ntouches; i++)
		touch_ab |= sw->touches[i] < 0;
	if ((sw->ntouches || sw->nhomes || p->cfg.lines.fresh || sw->nstrides ||
	     p->cfg.preheat_ms) &&
	    crew_kernel(&p->cfg))
		return ik_cli_fail(p,
				   "--first-touch, --home, --fresh, --stride "
				   "and --preheat: apply to the pair kernels "
				   "(pingpong, stream, call), not --kernel %s",
				   ik_kernels[p->cfg.kernel]->name);
	if ((sw->ntouches || sw->nhomes || p->cfg.lines.fresh ||
	     sw->nstrides) &&
	    parties_kernel(&p->cfg))
		return ik_cli_fail(
			p,
			"--first-touch, --home, --fresh and --stride: "
			"apply to the pair kernels (pingpong, "
			"stream, call), not --kernel %s: its "
			"members' pages are not placed",
			ik_kernels[p->cfg.kernel]->name);
	if (touch_ab && !pinned)
		return ik_cli_fail(p, "--first-touch a or b: needs the peers "
				      "pinned (--pin, --classes or --matrix); "
				      "or name an OS CPU");
	if (p->cfg.preheat_ms && !pinned)
		return ik_cli_fail(p,
				   "--preheat: needs the peers pinned (--pin, "
				   "--classes or --matrix)");
	for (i = 0; i < sw->nmethods; i++) {
		const char *m = sw->methods[i]->name;

		if ((sw->nline_ops || sw->nnlines) && strcmp(m, "line"))
			return ik_cli_fail(p,
					   "--%s: applies to --method line, "
					   "not %s",
					   sw->nline_ops ? "line-op" : "lines",
					   m);
		if ((sw->ntouches || sw->nhomes || p->cfg.lines.fresh) &&
		    !has_shared_pages(sw->methods[i]))
			return ik_cli_fail(
				p,
				"--%s: applies to methods whose "
				"messages are in shared pages (line, "
				"spsc, and those with the payload in "
				"shared memory: futex, sem, eventfd, "
				"...), not %s (kernel buffers)",
				sw->ntouches ? "first-touch"
				: sw->nhomes ? "home"
					     : "fresh",
				m);
		if (sw->nstrides && strcmp(m, "line") && strcmp(m, "spsc"))
			return ik_cli_fail(p,
					   "--stride: applies to --method line "
					   "and spsc, not %s",
					   m);
	}
	return check_line_waits(p);
}

/* What the kernel takes: its options, and the sizes its messages need. */
static int check_kernel(struct ik_plan *p)
{
	const struct ik_config *c = &p->cfg;
	unsigned i;

	/* a crew's own checks come before the crew refusals, any other
	 * kernel's after the options' own: the order refusals always had */
	if (crew_kernel(c))
		TRY(check_crew(p));
	TRY(ik_cli_check_kernels(p));
	if (!crew_kernel(c))
		TRY(check_own(p));
	for (i = 0; c->verify && i < p->sweep.nsizes; i++)
		if (p->sweep.sizes[i] < 24)
			return ik_cli_fail(p,
					   "--verify with --size %zu: needs at "
					   "least 24 bytes (sequence, stamp, "
					   "checksum)",
					   p->sweep.sizes[i]);
	return 0;
}

/*
 * --soak, or a ping-pong --duration of SOAK_AUTO_NS or more: a summary
 * per minute. IPCKERN_SOAK_MINUTE_MS shortens the minute (a test knob,
 * so that a test of the summary's shape takes seconds).
 */
#define SOAK_AUTO_NS	      (120 * IK_NS_PER_SEC)
#define IK_DEFAULT_TIMEOUT_NS (60 * IK_NS_PER_SEC) /* --timeout's default */
static int soak_plan(struct ik_plan *p)
{
	struct ik_config *c = &p->cfg;
	const char *env = getenv("IPCKERN_SOAK_MINUTE_MS");
	uint64_t minute = 60 * IK_NS_PER_SEC;

	if (p->soak && (c->kernel != IK_KERNEL_PINGPONG || !c->duration_ns))
		return ik_cli_fail(p, "--soak: needs --duration and the "
				      "pingpong kernel (a summary per "
				      "minute of its round trips)");
	for (unsigned i = 0; p->soak && i < p->sweep.ngaps; i++)
		if (p->sweep.gaps[i])
			return ik_cli_fail(p, "--soak: not with --gap (its "
					      "trips are timed one by one, "
					      "all kept)");
	if (env) {
		char *end;
		unsigned long long ms = strtoull(env, &end, 10);

		if (*end || ms < 100 || ms > 3600000)
			return ik_cli_fail(p,
					   "IPCKERN_SOAK_MINUTE_MS '%s': "
					   "expected ms from 100 to 3600000",
					   env);
		minute = ms * 1000000ULL;
	}
	if (c->kernel == IK_KERNEL_PINGPONG &&
	    (p->soak || c->duration_ns >= SOAK_AUTO_NS))
		c->soak_minute_ns = minute;
	return 0;
}

/*
 * --slo runs a search of many timed runs per cell and reports the one
 * whose rate it found: nothing that sets the rate, pools several runs
 * or counts around one goes with it.
 */
static int check_slo(struct ik_plan *p)
{
	const struct ik_config *c = &p->cfg;

	if (!c->slo.n)
		return p->slo_precision_given
			       ? ik_cli_fail(p, "--slo-precision: applies to "
						"--slo")
			       : 0;
	if (c->rate)
		return ik_cli_fail(p,
				   "--slo %s: searches the rate itself; drop "
				   "--rate %llu",
				   c->slo.text, (unsigned long long)c->rate);
	if (max_pairs(&p->sweep) > 1)
		return ik_cli_fail(p,
				   "--slo %s: searches one pair's rate; drop "
				   "--pairs",
				   c->slo.text);
	if (p->gate.repeat > 1 || p->gate.baseline || p->gate.save_baseline)
		return ik_cli_fail(p,
				   "--slo %s: each cell is already many runs "
				   "(its search); drop --repeat, --baseline "
				   "and --save-baseline",
				   c->slo.text);
	if (c->explain)
		return ik_cli_fail(p,
				   "--slo %s: cannot count every step; "
				   "--explain one rate with --rate",
				   c->slo.text);
	if (p->raw)
		return ik_cli_fail(p,
				   "--slo %s: keeps no raw samples; drop "
				   "--raw",
				   c->slo.text);
	return 0;
}

/*
 * --wait and --spin-budget: every strategy listed must run here when a
 * method that takes strategies is in the run (else it is refused with
 * the reason, not measured as something else); a budget needs hybrid.
 */
static int check_waits(struct ik_plan *p)
{
	const struct ik_sweep *sw = &p->sweep;
	bool takes = false;
	unsigned i;

	for (i = 0; i < sw->nmethods; i++)
		takes |= (sw->methods[i]->flags & IK_T_WAIT) != 0;
	for (i = 0; takes && i < sw->nwaits; i++) {
		const char *no = ik_wait_unavailable(sw->waits[i]);

		if (no)
			return ik_cli_fail(p,
					   "--wait %s: not available here: %s",
					   ik_wait_name(sw->waits[i]), no);
	}
	if (sw->budget_given) {
		bool hybrid = false;

		for (i = 0; i < sw->nwaits; i++)
			hybrid |= sw->waits[i] == IK_WAIT_HYBRID;
		if (!hybrid)
			return ik_cli_fail(p,
					   "--spin-budget: only --wait hybrid "
					   "spins before it sleeps; add hybrid "
					   "to --wait");
	}
	return 0;
}

/* A whole decimal number, no sign or space, into *v; false if not. */
static bool whole(const char *s, unsigned long long *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* A method of the sweep that waits only by spinning: nobody sleeps, so
 * there is no wake-up to drop and no blocking wait to give up. */
static bool spins(const struct ik_plan *p, const struct ik_transport_ops *m)
{
	const struct ik_sweep *sw = &p->sweep;
	unsigned i;

	if (!(m->flags & IK_T_SPIN))
		return false;
	for (i = 0; i < sw->nwaits; i++) /* --wait's list: any sleeper? */
		if (ik_wait_sleeps(sw->waits[i]))
			return false;
	return !sw->nwaits ? !ik_wait_sleeps(p->cfg.wait) : true;
}

/*
 * --wake-deadline: a blocking wait given up before its trip would count
 * as late calls slow wake-ups lost; and a spinning wait has no deadline.
 */
static int check_wake_deadline(struct ik_plan *p)
{
	const struct ik_config *c = &p->cfg;
	const struct ik_sweep *sw = &p->sweep;
	uint64_t late = c->late_ns ? c->late_ns : IK_LATE_NS;
	unsigned i, nspin = 0;

	if (!p->wake_deadline_given)
		return 0;
	if (c->wake_deadline_ns <= late)
		return ik_cli_fail(p,
				   "--wake-deadline %.3g ms: must be longer "
				   "than --late %.3g ms (a wait given up "
				   "before its trip is late would count slow "
				   "wake-ups as lost)",
				   c->wake_deadline_ns / 1e6, late / 1e6);
	for (i = 0; i < sw->nmethods; i++)
		nspin += spins(p, sw->methods[i]);
	if (sw->nmethods && nspin == sw->nmethods)
		return ik_cli_fail(p,
				   "--wake-deadline: applies to a blocking "
				   "wait, and %s%s waits by spinning (no "
				   "sleep to give up); futex, eventfd, pipe, "
				   "io_uring and spsc with a sleeping --wait "
				   "block",
				   sw->methods[0]->name,
				   sw->nmethods > 1 ? " and the rest" : "");
	return 0;
}

/*
 * IPCKERN_FAULT (the test hooks, IK_FAULT_ENV): a value this run's
 * kernel does not know, or that could not trip, is refused before
 * anything runs, so a fault test cannot pass by the fault being ignored.
 */
static int check_fault(struct ik_plan *p)
{
	const struct ik_config *c = &p->cfg;
	const struct ik_sweep *sw = &p->sweep;
	const char *f = getenv(IK_FAULT_ENV);
	unsigned long long ms = 0, n = 0;
	unsigned i;

	if (!f)
		return 0;
	switch (c->kernel) {
	case IK_KERNEL_PINGPONG:
		if (!strcmp(f, "kill-b") || !strcmp(f, "stall-b"))
			return 0;
		if (!strncmp(f, "wake-drop@", 10) && whole(f + 10, &n)) {
			;
		} else if (!strncmp(f, "wake-delay=", 11)) {
			char num[24];
			const char *at = strchr(f + 11, '@');
			size_t len = at ? (size_t)(at - (f + 11)) : 0;

			if (!at || len >= sizeof(num))
				goto bad;
			memcpy(num, f + 11, len);
			num[len] = 0;
			if (!whole(num, &ms) || ms > 60000 ||
			    !whole(at + 1, &n))
				goto bad;
		} else {
			goto bad;
		}
		if (n >= c->iters)
			return ik_cli_fail(p,
					   "%s='%s': trip %llu is past the "
					   "run's %llu timed round trips "
					   "(N from 0 to %llu)",
					   IK_FAULT_ENV, f, n,
					   (unsigned long long)c->iters,
					   (unsigned long long)c->iters - 1);
		for (i = 0; !strncmp(f, "wake-drop@", 10) && i < sw->nmethods;
		     i++)
			if (!sw->methods[i]->send_nowake ||
			    spins(p, sw->methods[i]))
				return ik_cli_fail(
					p,
					"%s=wake-drop: %s %s; futex, eventfd, "
					"memfd, vm-rw, condvar, io_uring and "
					"spsc with a sleeping --wait can drop "
					"one",
					IK_FAULT_ENV, sw->methods[i]->name,
					spins(p, sw->methods[i])
						? "waits by spinning here: no "
						  "wake-up to drop"
						: "cannot post a message "
						  "without "
						  "its wake-up (its bytes are "
						  "the "
						  "wake-up)");
		return 0;
	case IK_KERNEL_STREAM:
		if (!strcmp(f, "stall-at-100"))
			return 0;
		if (strcmp(f, "corrupt") && strcmp(f, "drop") &&
		    strcmp(f, "dup"))
			goto bad;
		for (i = 0; i < sw->nsizes; i++)
			if (sw->sizes[i] < 24)
				return ik_cli_fail(p,
						   "%s=%s: needs --size of at "
						   "least 24 (a stamped, "
						   "checked message), not %zu",
						   IK_FAULT_ENV, f,
						   sw->sizes[i]);
		return 0;
	case IK_KERNEL_ECHO:
		if (!strcmp(f, "kill-server") || !strcmp(f, "kill-client") ||
		    !strcmp(f, "stall-server"))
			return 0;
		goto bad;
	case IK_KERNEL_GROUP:
		if (!strncmp(f, "seq-", 4) && whole(f + 4, &n) &&
		    n < c->shape_n + (c->shape == IK_SHAPE_FANOUT ||
				      c->shape == IK_SHAPE_FANIN))
			return 0;
		goto bad;
	default:
		goto bad;
	}
bad:
	return ik_cli_fail(
		p,
		"%s='%s': not a fault of --kernel %s (pingpong: kill-b, "
		"stall-b, wake-delay=MS@N with MS up to 60000, wake-drop@N, N "
		"a timed trip from 0; stream: corrupt, drop, dup, "
		"stall-at-100; echo: kill-server, kill-client, stall-server; "
		"group: seq-P, P a party)",
		IK_FAULT_ENV, f, ik_kernel_name(c->kernel));
}

int ik_cli_parse(struct ik_plan *p, int argc, char **argv)
{
	const struct ik_sweep *sw = &p->sweep;
	struct ik_config *c = &p->cfg;
	int ret = ik_cli_parse_options(p, argc, argv);

	if (ret)
		return ret;
	/* --fanout, --pipeline, --contend select their kernel */
	if (p->shape_given && !p->kernel_given)
		c->kernel = IK_KERNEL_GROUP;
	if (parties_kernel(c) && p->ncpus && !p->matrix) {
		/* --cpus: the parties' CPUs, as --pin lists them */
		if (p->npins)
			return ik_cli_fail(p, "--cpus and --pin: give the "
					      "parties' CPUs once");
		memcpy(p->pins, p->cpus, p->ncpus * sizeof(p->pins[0]));
		p->npins = p->ncpus < 2 * IK_MAX_PAIRS ? p->ncpus
						       : 2 * IK_MAX_PAIRS;
		p->pin_arg = "(--cpus)";
		p->ncpus = 0;
	}
	if (c->shape == IK_SHAPE_CONTEND && !c->duration_ns)
		c->duration_ns = DEFAULT_CONTEND_NS;
	if (parties_kernel(c) && (c->explain || p->raw))
		return ik_cli_fail(p,
				   "%s: --explain and --raw are for "
				   "pairs; drop them",
				   ik_shape_option(c->shape));
	/* a stream's speed spans 1000x across methods and buffers: by
	 * default each run gets a fixed time, not a fixed count */
	if (ik_kernels[c->kernel]->fixed_time && !c->iters_given &&
	    !c->duration_ns)
		c->duration_ns = DEFAULT_STREAM_NS;
	if (c->duration_ns && !c->iters_given)
		c->iters = IK_DURATION_SAMPLE_CAP;
	ret = soak_plan(p);
	if (ret)
		return ret;
	/* --slo stamps each message with its due time: 16 bytes unless
	 * --size says otherwise (and then the kernel's check names it) */
	if (c->slo.n && !p->sweep.size_given)
		p->sweep.sizes[0] = 16;
	/* a long --duration (a soak) without --timeout: the default would
	 * refuse it, so the limit grows to the duration plus the default */
	if (!p->timeout_given && c->duration_ns &&
	    c->duration_ns >= c->timeout_ns)
		c->timeout_ns = c->duration_ns + IK_DEFAULT_TIMEOUT_NS;
	if (c->duration_ns && c->duration_ns >= c->timeout_ns)
		return ik_cli_fail(p,
				   "--duration %.1f: must be shorter than "
				   "--timeout %.1f",
				   c->duration_ns / 1e9, c->timeout_ns / 1e9);
	if (p->raw && sw->nmethods * sw->nmodes * sw->nsizes * sw->nbuffers *
				      sw->ngaps * sw->nwaits * sw->nbudgets !=
			      1)
		return ik_cli_fail(p,
				   "--raw %s: needs exactly one method, mode, "
				   "size and buffer",
				   p->raw);
	TRY(check_waits(p));
	TRY(check_pins(p));
	TRY(check_pairs(p));
	TRY(check_loads(p));
	TRY(check_gate(p));
	c->keep_raw = p->raw != NULL;
	c->size = sw->sizes[0];
	c->buffer = sw->buffers[0];
	c->clients = sw->clients[0];
	c->gap_ns = sw->gaps[0];
	c->wait = sw->waits[0];
	c->spin_budget = sw->budgets[0];
	c->wait_given = sw->wait_given;
	TRY(check_sizes(p));
	TRY(check_kernel(p));
	TRY(check_lines(p));
	TRY(check_fault(p));
	TRY(check_wake_deadline(p));
	return check_slo(p);
}
