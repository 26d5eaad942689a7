/* SPDX-License-Identifier: MIT */
/*
 * ipckern's main: the only place that exits, and only wiring. The
 * command line becomes one struct ik_plan (cli/table.c, cli/options.c,
 * cli/check.c) before anything runs; then the outputs and inputs are
 * checked, the machine read, the grid measured (cli/grid.c), the report
 * written and the gate applied (cli/gate.c). A bad value costs nothing
 * and leaves no file behind. Exit codes: 0 ok, 2 bad usage or input, 3
 * a failure at run time (1 is kept for failed CI gates).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <jansson.h>
#include <numa.h>

#include "cli/cli.h"

static volatile sig_atomic_t interrupted, measured;
static struct timespec stop_at; /* when the first stop signal came */

/*
 * The first SIGINT/SIGTERM/SIGHUP while measuring only asks the grid to
 * stop, so that the cells already measured are written. A second one, or
 * any once measuring is over, ends the process by that signal at once: a
 * write to a FIFO or pipe whose reader stalls would otherwise block (and
 * be restarted) for ever. Dying leaves nothing: the peers die with us
 * (PR_SET_PDEATHSIG), a report file is an unnamed O_TMPFILE until whole.
 * The same signal again within 500 ms is the first one sent twice, not a
 * second: timeout(1) signals the command and then its process group.
 */
static void on_signal(int sig)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now); /* async-signal-safe */
	if (interrupted == sig && !measured &&
	    (now.tv_sec - stop_at.tv_sec) * 1000000000LL +
			    (now.tv_nsec - stop_at.tv_nsec) <
		    500000000LL)
		return;
	if (interrupted || measured) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};

		sigemptyset(&dfl.sa_mask);
		sigaction(sig, &dfl, NULL);
		raise(sig); /* delivered as the handler returns */
		return;
	}
	stop_at = now;
	interrupted = sig;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	int sig[] = {SIGINT, SIGTERM, SIGHUP};

	/* one handler at a time: a second signal waits for the first's */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < IK_ARRAY_SIZE(sig); i++)
		sigaddset(&sa.sa_mask, sig[i]);
	for (size_t i = 0; i < IK_ARRAY_SIZE(sig); i++)
		sigaction(sig[i], &sa, NULL);
}

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ipckern: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(IK_EXIT_USAGE);
}

/*
 * After --list, --help, --version: exit 0 only if it all arrived, or
 * if the reader closed the pipe (EPIPE: `ipckern --help | head` or
 * `| grep -q`, which stop reading once they have what they need; under
 * pipefail an exit 3 there would fail the caller's pipeline). Any
 * other write error (ENOSPC, EIO) is a failure.
 */
static _Noreturn void exit_printed(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		int err = errno ? errno : EIO;

		if (err == EPIPE)
			exit(0); /* the reader had what it wanted */
		fprintf(stderr, "ipckern: writing to stdout: %s\n",
			strerror(err));
		exit(IK_EXIT_RUNTIME);
	}
	exit(0);
}

/*
 * --list's second part: every wait strategy (--wait), with whether it
 * runs here and, where not, why; the methods that take them.
 */
static void list_waits(enum ik_format format, json_t *root, int width)
{
	const struct ik_transport_ops *const *t;
	json_t *list = json_array();
	char takes[128] = "", ctl[160];
	size_t u = 0;
	int w;

	for (t = ik_transports; *t; t++)
		if (((*t)->flags & IK_T_WAIT) && !((*t)->flags & IK_T_TEST) &&
		    u < sizeof(takes))
			u += (size_t)snprintf(takes + u, sizeof(takes) - u,
					      "%s%s", u ? ", " : "",
					      (*t)->name);
	if (format != IK_FMT_JSON)
		printf("\nwait strategies (--wait; %s take every one):\n",
		       takes);
	for (w = 0; w < IK_NWAITS; w++) {
		const char *no = ik_wait_unavailable((enum ik_wait)w);
		bool pkg = w == IK_WAIT_UMWAIT || w == IK_WAIT_TPAUSE;
		bool has_ctl =
			pkg && !no && !ik_umwait_control(ctl, sizeof(ctl));

		if (format == IK_FMT_JSON) {
			json_array_append_new(
				list,
				json_pack("{s:s,s:s,s:b,s:s?,s:s?}", "name",
					  ik_wait_name((enum ik_wait)w),
					  "summary",
					  ik_wait_summary((enum ik_wait)w),
					  "available", no == NULL,
					  "unavailable", no, "control",
					  has_ctl ? ctl : NULL));
			continue;
		}
		printf("%-*s %s", width, ik_wait_name((enum ik_wait)w),
		       ik_wait_summary((enum ik_wait)w));
		if (no)
			printf("; unavailable here: %s", no);
		else if (has_ctl)
			printf(" (%s)", ctl);
		putchar('\n');
	}
	json_object_set_new(root, "waits", list);
}

/*
 * --list: every method but those for ipckern's own tests (line-delay),
 * which IPCKERN_LIST_TEST=1 shows; --format json as one JSON object.
 * Where a method cannot run here (in a mode), it says why.
 */
static void list_methods(enum ik_format format)
{
	struct ik_chan_params p = {.size = 1};
	const struct ik_transport_ops *const *t;
	const char *env = getenv("IPCKERN_LIST_TEST");
	bool tests = env && !strcmp(env, "1");
	json_t *root = json_object(), *list = json_array();
	int w = 10;

	/* the summaries line up after the longest name listed */
	for (t = ik_transports; *t; t++)
		if ((!((*t)->flags & IK_T_TEST) || tests) &&
		    strlen((*t)->name) > (size_t)w)
			w = (int)strlen((*t)->name);
	for (t = ik_transports; *t; t++) {
		struct ik_chan_params pp = {.size = 1, .mode = IK_MODE_PROCESS};
		size_t max = ik_transport_max_size(*t, &p);
		const char *th =
			(*t)->unavailable ? (*t)->unavailable(&p) : NULL;
		const char *pr =
			(*t)->unavailable ? (*t)->unavailable(&pp) : NULL;

		if (((*t)->flags & IK_T_TEST) && !tests)
			continue;
		if (format == IK_FMT_JSON) {
			json_array_append_new(
				list,
				json_pack("{s:s,s:s,s:I,s:b,s:{s:s?,s:s?}}",
					  "name", (*t)->name, "summary",
					  (*t)->summary, "max_size_bytes",
					  (json_int_t)max, "test_only",
					  ((*t)->flags & IK_T_TEST) != 0,
					  "unavailable", "thread", th,
					  "process", pr));
			continue;
		}
		printf("%-*s %s (max %zu B)", w, (*t)->name, (*t)->summary,
		       max);
		if (th && pr)
			printf("; unavailable here: %s", th);
		else if (th || pr)
			printf("; %s mode unavailable here: %s",
			       th ? "thread" : "process", th ? th : pr);
		putchar('\n');
	}
	json_object_set_new(root, "methods", list);
	list_waits(format, root, w);
	if (format == IK_FMT_JSON) {
		json_dumpf(root, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(root);
}

/* --list, --version, --help: print, and exit 0 only if it all arrived. */
static _Noreturn void act(const struct ik_plan *p)
{
	errno = 0; /* a failed write while printing leaves its errno */
	if (p->action == IK_CLI_LIST)
		list_methods(p->format);
	else if (p->action == IK_CLI_VERSION)
		printf("ipckern %s\n", IK_VERSION);
	else
		ik_cli_usage(stdout);
	exit_printed();
}

static void check_pin_cpus(const struct ik_plan *p, const struct ik_topo *tp)
{
	char allowed[256];
	unsigned i;

	ik_topo_allowed_str(tp, allowed, sizeof(allowed));
	for (i = 0; i < p->npins; i++) {
		int ret = ik_topo_check_cpu(tp, p->pins[i]);

		if (ret == -ENOENT)
			usage_error("--pin %s: CPU %d does not exist on this "
				    "machine; usable CPUs: %s",
				    p->pin_arg, p->pins[i], allowed);
		if (ret == -ENODEV)
			usage_error("--pin %s: CPU %d is offline; usable CPUs: "
				    "%s",
				    p->pin_arg, p->pins[i], allowed);
		if (ret == -EPERM)
			usage_error("--pin %s: CPU %d is outside this "
				    "process's allowed set; usable CPUs: %s",
				    p->pin_arg, p->pins[i], allowed);
	}
}

/*
 * Every output is checked before anything is measured: a run of minutes
 * must not end in "No such file or directory". Two outputs on one file,
 * or an output that is one of the run's inputs, is a usage error too.
 */
static void check_outputs(const struct ik_plan *p)
{
	const char *hist = p->gate.history;
	const char *opt[] = {"--output", "--raw", "--summary-md",
			     "--save-baseline", "--history"};
	const char *path[] = {p->output, p->raw, p->gate.summary_md,
			      p->gate.save_baseline,
			      hist && !ik_history_is_url(hist) ? hist : NULL};
	const char *in_opt[] = {"--baseline", "--topology", "HWLOC_XMLFILE"};
	const char *in[] = {p->gate.baseline, p->topology,
			    getenv("HWLOC_XMLFILE")};
	struct ik_output out[IK_ARRAY_SIZE(opt)];
	unsigned i, j, n = 0;
	char why[512];

	for (i = 0; i < IK_ARRAY_SIZE(opt); i++) {
		if (!path[i])
			continue;
		if (ik_output_check(&out[n], opt[i], path[i], p->mkdirs, why,
				    sizeof(why)))
			usage_error("%s %s: %s", opt[i], path[i], why);
		for (j = 0; j < n; j++)
			if (ik_output_same(&out[j], &out[n]))
				usage_error("%s %s and %s %s: the same file; "
					    "give each output its own",
					    out[j].opt, out[j].path, opt[i],
					    path[i]);
		for (j = 0; j < IK_ARRAY_SIZE(in); j++)
			if (ik_output_is_file(&out[n], in[j]))
				usage_error("%s %s: is also the %s input; "
					    "write the output elsewhere",
					    opt[i], path[i], in_opt[j]);
		n++;
	}
}

/*
 * Everything one run holds, from the parsed configuration to the
 * results; run_free releases it on every path.
 */
struct run {
	struct ik_plan plan;
	struct ik_topo topo;
	struct ik_timer timer;
	struct ik_run ctx; /* what every cell runs in: topo, timer, ^C, node */
	struct ik_machine machine;
	struct ik_class_pair classes[IK_NCLASSES];
	struct ik_baseline baseline, appended;
	struct ik_result floor;
	struct ik_result *results;
	size_t cells; /* results of one repeat */
	unsigned n;   /* results measured, per repeat */
	struct ik_report rep;
	char note[8][200];
	char topo_src[300];	 /* the topology when not this machine's */
	unsigned rows;		 /* results one repeat makes, as planned */
	unsigned planned;	 /* measurements in one repeat, as planned */
	unsigned nrep;		 /* repeats kept */
	char partial[300];	 /* why the run ended early, for the reports */
	struct ik_history *hist; /* --history, open from before measuring */
	int qos_fd;		 /* --cpu-latency's hold, while qos_held */
	bool qos_held;
};

static void run_free(struct run *r)
{
	size_t i;

	for (i = 0; r->results && i < r->cells * r->plan.gate.repeat; i++)
		ik_result_free(&r->results[i]);
	ik_result_free(&r->floor);
	free(r->results);
	ik_topo_free(&r->topo);
	ik_baseline_free(&r->baseline);
	ik_baseline_free(&r->appended);
	ik_history_close(r->hist);
	if (r->qos_held)
		close(r->qos_fd);
}

/* A malformed baseline costs nothing: read them first (exit 2). */
static void load_baselines(struct run *r)
{
	const struct ik_cli_gate *g = &r->plan.gate;
	char err[300];

	if (g->baseline &&
	    ik_baseline_load(g->baseline, &r->baseline, err, sizeof(err)))
		usage_error("--baseline %s: %s", g->baseline, err);
	if (g->append && !access(g->save_baseline, F_OK) &&
	    ik_baseline_load(g->save_baseline, &r->appended, err, sizeof(err)))
		usage_error("--save-baseline %s --append: %s", g->save_baseline,
			    err);
}

/* --matrix: its CPUs, every one automatic choices look at by default
 * (topo->chosen: taskset narrows it), each usable. */
static void matrix_cpus(struct ik_plan *p, const struct ik_topo *topo)
{
	char allowed[256];
	unsigned i;
	int cpu;

	ik_topo_allowed_str(topo, allowed, sizeof(allowed));
	if (!p->ncpus) {
		/* defaulted: the CPUs it chose from are the usable ones */
		hwloc_bitmap_list_snprintf(allowed, sizeof(allowed),
					   topo->chosen);
		hwloc_bitmap_foreach_begin(cpu, topo->chosen)
		{
			if (p->ncpus < IK_ARRAY_SIZE(p->cpus))
				p->cpus[p->ncpus++] = cpu;
		}
		hwloc_bitmap_foreach_end();
	}
	for (i = 0; i < p->ncpus; i++)
		if (ik_topo_check_cpu(topo, p->cpus[i]))
			usage_error("--cpus: CPU %d is not usable here; "
				    "usable CPUs: %s",
				    p->cpus[i], allowed);
	if (p->ncpus < 2)
		usage_error("--matrix: needs at least two CPUs; usable: %s",
			    allowed);
}

static void check_mem_node(const char *opt, int node)
{
	if (numa_available() < 0 || node > numa_max_node() ||
	    !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node))
		usage_error("%s %d: no such NUMA node here; nodes: 0-%d", opt,
			    node, numa_available() < 0 ? 0 : numa_max_node());
}

/*
 * The machine the run is planned for: its topology (a file,
 * HWLOC_XMLFILE or HWLOC_SYNTHETIC: checked, exit 2), the --classes
 * pairs, the --matrix CPUs, the --mem-node. Returns 0 or an exit code.
 */
static int load_machine(struct run *r)
{
	struct ik_plan *p = &r->plan;
	char why[800];
	int ret;

	/* read once: the report's machine, and the isolated CPUs that
	 * automatic choices of CPUs take into account */
	ik_machine_read(&r->machine, "");
	ret = ik_topo_load_why(&r->topo, p->topology, r->machine.isolated, why,
			       sizeof(why));

	if (ret == -EINVAL)
		usage_error("%s%s", p->topology ? "--topology " : "", why);
	if (ret) {
		fprintf(stderr, "ipckern: %s\n", why);
		return IK_EXIT_RUNTIME;
	}
	if (!r->topo.this_system && !(p->classes && p->dry_run) && !p->machine)
		usage_error("the topology is not this machine's "
			    "(HWLOC_SYNTHETIC, HWLOC_XMLFILE or --topology): "
			    "nothing can be pinned on it; use --classes "
			    "--dry-run");
	if (p->classes) {
		if (ik_topo_classes(&r->topo, r->classes) == -ENOMEM) {
			fprintf(stderr, "ipckern: --classes: out of memory\n");
			return IK_EXIT_RUNTIME;
		}
		r->rep.classes = r->classes;
	}
	/* where the topology came from, for --classes and --machine alike;
	 * hwloc's order: HWLOC_SYNTHETIC, then HWLOC_XMLFILE */
	r->rep.topology = p->topology;
	if (!p->topology && !r->topo.this_system) {
		const char *syn = getenv("HWLOC_SYNTHETIC"),
			   *xml = getenv("HWLOC_XMLFILE");

		snprintf(r->topo_src, sizeof(r->topo_src), "%s%s%s",
			 syn && *syn ? "synthetic (HWLOC_SYNTHETIC="
				     : "HWLOC_XMLFILE=",
			 syn && *syn ? syn
			 : xml	     ? xml
				     : "?",
			 syn && *syn ? ")" : "");
		r->rep.topology = r->topo_src;
	}
	if (p->matrix)
		matrix_cpus(p, &r->topo);
	if (p->mem_node >= 0)
		check_mem_node("--mem-node", p->mem_node);
	for (unsigned i = 0; i < p->sweep.nhomes; i++)
		check_mem_node("--home", (int)p->sweep.homes[i]);
	for (unsigned i = 0; i < p->sweep.ntouches; i++) {
		char allowed[256];

		ik_topo_allowed_str(&r->topo, allowed, sizeof(allowed));
		if (p->sweep.touches[i] >= 0 &&
		    ik_topo_check_cpu(&r->topo, p->sweep.touches[i]))
			usage_error("--first-touch %d: CPU not usable here; "
				    "usable CPUs: %s",
				    p->sweep.touches[i], allowed);
	}
	return 0;
}

/* What the reports read of the plan (the --matrix CPUs as the machine
 * made them). */
static void plan_report(struct run *r)
{
	const struct ik_plan *p = &r->plan;
	struct ik_report *rep = &r->rep;

	rep->cfg = &p->cfg;
	rep->sweep = &p->sweep;
	rep->format = p->format;
	rep->dry_run = p->dry_run;
	rep->matrix = p->matrix;
	rep->cpus = p->cpus;
	rep->ncpus = p->ncpus;
	rep->mem_node = p->mem_node;
}

struct machine_job {
	const struct ik_report *rep;
	const char *summary;
};

static int machine_fn(const void *arg, FILE *f)
{
	const struct machine_job *j = arg;

	return ik_report_machine(j->rep, j->summary, f);
}

/* --machine, or --classes --dry-run: a description, nothing measured. */
/*
 * --classes --dry-run writes the classes (its plan) where the report
 * would go; what the run would also write, or gate against, is said on
 * stderr, as --dry-run's plan says it: planned, nothing written.
 */
static void plan_gate(const struct ik_plan *p)
{
	const struct ik_cli_gate *g = &p->gate;
	const char *opt[] = {"--save-baseline", "--summary-md", "--baseline"};
	const char *path[] = {g->save_baseline, g->summary_md, g->baseline};

	for (unsigned i = 0; i < IK_ARRAY_SIZE(opt) && !p->quiet; i++)
		if (path[i])
			fprintf(stderr,
				"ipckern: --dry-run: %s %s: %s; nothing is "
				"measured, so the run without --dry-run "
				"would %s it\n",
				opt[i], path[i],
				i < 2 ? "not written" : "read, and it matches",
				i < 2 ? "write" : "gate against");
	if (g->nasserts && !p->quiet)
		fprintf(stderr,
			"ipckern: --dry-run: %u --assert check%s: nothing is "
			"measured to check\n",
			g->nasserts, g->nasserts == 1 ? "" : "s");
}

static int describe(struct run *r)
{
	const struct ik_plan *p = &r->plan;
	const char *out = p->output ? p->output : "-";
	int ret;

	if (p->machine) {
		char summary[1024];
		struct machine_job j = {&r->rep, summary};

		ik_timer_init(&r->timer);
		ik_topo_summary(&r->topo, summary, sizeof(summary));
		r->rep.machine = &r->machine;
		r->rep.timer = &r->timer;
		ret = ik_output_write(out, p->mkdirs, machine_fn, &j);
		if (ret)
			fprintf(stderr, "ipckern: writing %s: %s\n",
				p->output ? p->output : "the description",
				ik_cli_out_error(-ret));
	} else {
		ret = ik_report_write_file(&r->rep, out, p->mkdirs);
		if (ret)
			fprintf(stderr, "ipckern: writing %s: %s\n",
				p->output ? p->output : "the report",
				ik_cli_out_error(-ret));
	}
	return ret ? IK_EXIT_RUNTIME : 0;
}

/*
 * Every --load against the pinned pair (or none, unpinned): a CPU not
 * usable, a peer's CPU without --load-on-peer, smt without a sibling
 * are refused before anything runs. --classes and --matrix know their
 * pairs now too (the classes found, every ordered pair of --cpus): each
 * is checked here, so a load on one of their CPUs is exit 2, not a cell
 * that fails at run time.
 */
static void check_load_on(const struct ik_plan *p, const struct ik_topo *tp,
			  const int *cpus, unsigned ncpus, const char *where)
{
	char msg[200];

	for (unsigned i = 0; i < p->sweep.nloads; i++) {
		struct ik_load_run *lr;

		if (ik_load_resolve(&lr, &p->sweep.loads[i], tp, cpus, ncpus,
				    p->cfg.load_on_peer, msg, sizeof(msg)))
			usage_error("--load %s: %s%s", p->sweep.loads[i].text,
				    msg, where);
		ik_load_stop(lr, NULL, msg, sizeof(msg)); /* frees it */
	}
}

static void check_loads(const struct run *r)
{
	const struct ik_plan *p = &r->plan;
	const struct ik_config *c = &p->cfg;
	char where[96];
	unsigned i, j;

	if (p->classes) {
		for (i = 0; i < IK_NCLASSES; i++) {
			if (!r->classes[i].present)
				continue;
			snprintf(where, sizeof(where),
				 " (--classes pair %s: CPUs %d,%d)",
				 ik_class_key(i), r->classes[i].cpu[0],
				 r->classes[i].cpu[1]);
			check_load_on(p, &r->topo, r->classes[i].cpu, 2, where);
		}
		return;
	}
	if (p->matrix) {
		for (i = 0; i < p->ncpus; i++)
			for (j = 0; j < p->ncpus; j++) {
				int pair[2] = {p->cpus[i], p->cpus[j]};

				if (i == j)
					continue;
				snprintf(where, sizeof(where),
					 " (--matrix pair %d,%d)", pair[0],
					 pair[1]);
				check_load_on(p, &r->topo, pair, 2, where);
			}
		return;
	}
	check_load_on(p, &r->topo, c->cpu, c->pinned ? c->ncpu : 0, "");
}

/* --pin auto's pair, and every pinned CPU usable here. */
static int resolve_pins(struct run *r)
{
	struct ik_plan *p = &r->plan;

	if (p->npins)
		check_pin_cpus(p, &r->topo);
	if (p->pin_auto) {
		if (ik_topo_default_pair(&r->topo, p->pins)) {
			fprintf(stderr,
				"ipckern: --pin auto: no usable CPU found\n");
			return IK_EXIT_RUNTIME;
		}
		p->npins = 2;
		ik_cli_cell_cpus(p);
	}
	check_loads(r);
	return 0;
}

/*
 * The machine and configuration are checked against the baselines
 * before running (exit 2); so is the pair relation when --pin puts every
 * cell on one pair (README: refused as soon as it is known). Other
 * pairs (--classes, --matrix, --pairs, unpinned) are checked after.
 */
/* Every cell of p on the one pinned pair --pin names. */
static bool one_pair(const struct ik_plan *p)
{
	return p->cfg.pinned && !p->matrix && !p->classes &&
	       p->sweep.npairs == 1 && p->sweep.pairs[0] == 1;
}

static void check_baselines(struct run *r)
{
	const struct ik_cli_gate *g = &r->plan.gate;
	struct ik_report pre = {.cfg = &r->plan.cfg,
				.sweep = &r->plan.sweep,
				.machine = &r->machine,
				.mem_node = -1};
	struct ik_pair pair;
	char why[2048];
	unsigned d;

	if (r->appended.ncells &&
	    (d = ik_baseline_mismatch(&r->appended, &pre, why, sizeof(why))))
		usage_error("--save-baseline %s --append: measured "
			    "differently (%u difference%s): %s",
			    g->save_baseline, d, d == 1 ? "" : "s", why);
	if (g->baseline && !g->allow_mismatch &&
	    (d = ik_baseline_incompatible(&r->baseline, &pre, why,
					  sizeof(why))))
		usage_error("--baseline %s: measured differently (%u "
			    "difference%s): %s; --allow-mismatch "
			    "compares anyway",
			    g->baseline, d, d == 1 ? "" : "s", why);
	if (!one_pair(&r->plan) ||
	    ik_topo_classify(&r->topo, ik_config_cpu(&r->plan.cfg, 0),
			     ik_config_cpu(&r->plan.cfg, 1), &pair))
		return;
	if (r->appended.ncells &&
	    (d = ik_baseline_relation_differs(&r->appended, &pre, &pair, why,
					      sizeof(why))))
		usage_error("--save-baseline %s --append: measured "
			    "differently (%u difference%s): %s",
			    g->save_baseline, d, d == 1 ? "" : "s", why);
	if (g->baseline && !g->allow_mismatch &&
	    (d = ik_baseline_relation_differs(&r->baseline, &pre, &pair, why,
					      sizeof(why))))
		usage_error("--baseline %s: measured differently (%u "
			    "difference%s): %s; --allow-mismatch "
			    "compares anyway",
			    g->baseline, d, d == 1 ? "" : "s", why);
}

/* Room for every repeat of every cell; 0 or -ENOMEM. */
static int alloc_results(struct run *r)
{
	const struct ik_plan *p = &r->plan;
	unsigned i, rows;

	for (i = 0, rows = 0; i < p->sweep.npairs; i++)
		rows += p->sweep.pairs[i] == 1 ? 1 : p->sweep.pairs[i] + 1;
	if (p->classes)
		rows = IK_NCLASSES;
	if (p->matrix)
		rows = p->ncpus * p->ncpus;
	r->cells = (size_t)p->sweep.nmethods * p->sweep.nsizes *
		   p->sweep.nbuffers * p->sweep.ngaps * p->sweep.nworks *
		   p->sweep.nclients * p->sweep.nservers * p->sweep.nmodes *
		   ik_cli_line_cells(&p->sweep) *
		   (p->sweep.nloads ? p->sweep.nloads : 1) * p->sweep.nwaits *
		   p->sweep.nbudgets * rows;
	r->results = calloc(r->cells * p->gate.repeat, sizeof(*r->results));
	return r->results ? 0 : -ENOMEM;
}

static void add_note(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_note(struct run *r, const char *fmt, ...)
{
	struct ik_report *rep = &r->rep;
	va_list ap;

	if (rep->nnotes >= IK_ARRAY_SIZE(rep->notes))
		return;
	va_start(ap, fmt);
	vsnprintf(r->note[rep->nnotes], sizeof(r->note[0]), fmt, ap);
	va_end(ap);
	rep->notes[rep->nnotes] = r->note[rep->nnotes];
	rep->nnotes++;
}

/*
 * An environment warning: a line on stderr once per invocation (not
 * with --quiet), a note in the report and an item of JSON's "warnings".
 * The same text twice is kept once.
 */
static void warn(struct run *r, const char *text)
{
	struct ik_report *rep = &r->rep;
	unsigned i;

	for (i = 0; i < rep->nwarnings; i++)
		if (!strcmp(rep->warnings[i], text))
			return;
	if (!r->plan.quiet)
		fprintf(stderr, "ipckern: warning: %s\n", text);
	if (rep->nwarnings < IK_ARRAY_SIZE(rep->warnings))
		rep->warnings[rep->nwarnings++] = text;
}

/* What the report says about how the peers were placed, and the noise
 * warnings (warn: once on stderr, and in the report). */
/* --cpu-latency in the whole microseconds the kernel takes, rounded up */
static long held_us(const struct ik_plan *p)
{
	return (long)((p->cpu_latency_ns + 999) / 1000);
}

/* Does any cell sleep on a wake-up: a method that does not spin, or a
 * --wait that sleeps? */
static bool some_cell_sleeps(const struct ik_sweep *sw)
{
	unsigned i;

	for (i = 0; i < sw->nmethods; i++)
		if (!(sw->methods[i]->flags & IK_T_SPIN))
			return true;
	for (i = 0; sw->wait_given && i < sw->nwaits; i++)
		if (sw->waits[i] != IK_WAIT_SPIN &&
		    sw->waits[i] != IK_WAIT_YIELD)
			return true;
	return false;
}

/*
 * --cpu-latency held: say so. Not held, where a peer sleeps and its
 * pair spans two CPUs (the peers of one CPU keep it busy): an idle
 * state the CPU must leave is part of every wake-up; say how to hold
 * them off. In a VM that is the host waking a halted vCPU: 40-250 us a
 * wake-up on our Firecracker hosts against ~3-4 us held at 0.
 */
static void idle_notes(struct run *r)
{
	const struct ik_plan *p = &r->plan;
	const struct ik_machine *m = &r->machine;
	unsigned before = r->rep.nnotes, i;
	bool spans =
		p->classes || p->matrix ||
		(!p->cfg.pinned && hwloc_bitmap_weight(r->topo.allowed) > 1);
	const char *limit = ik_machine_qos_name(m);

	/* any two of the CPUs given (pairs, crews, groups) */
	for (i = 1; p->cfg.pinned && i < p->npins; i++)
		spans |= p->pins[i] != p->pins[0];
	if (r->qos_held)
		add_note(r,
			 "--cpu-latency: held the CPU latency QoS at %ld us "
			 "while measuring (limit in force: %s; cpuidle: %s)",
			 held_us(p), limit, m->idle);
	if (!spans || !some_cell_sleeps(&p->sweep) || !ik_machine_idles(m))
		return;
	if (r->qos_held)
		add_note(r,
			 "--cpu-latency %ld us still lets idle CPUs enter %s "
			 "(exit latency %ld us): a sleeping peer's wake-up "
			 "includes leaving it; 0 keeps them polling",
			 held_us(p), m->idle_state, m->idle_exit_us);
	else
		add_note(r,
			 "idle CPUs may enter %s (cpuidle: %s; QoS limit: %s): "
			 "a sleeping peer's wake-up includes leaving it%s; "
			 "%s--cpu-latency 0 holds it off",
			 m->idle_state, m->idle, limit,
			 m->hypervisor ? " (in a VM: the host's)" : "",
			 m->latency_qos_us < 0 ? "as root, " : "");
	if (r->rep.nnotes > before + r->qos_held)
		warn(r, r->rep.notes[before + r->qos_held]);
}

static void add_notes(struct run *r)
{
	const struct ik_config *cfg = &r->plan.cfg;
	unsigned i, w, k, maxp = 1,
			  cpus = (unsigned)hwloc_bitmap_weight(r->topo.allowed);
	int pair[2] = {ik_config_cpu(cfg, 0), ik_config_cpu(cfg, 1)};
	char warns[4][200];

	/* --classes and --matrix pin each of their pairs (the header says
	 * so); only a run of no stated pair is unpinned */
	if (r->plan.classes || r->plan.matrix)
		;
	else if (!cfg->pinned)
		add_note(r, "unpinned: the scheduler places the peers and may "
			    "move them; use --pin A,B for a stated pair");
	/* unpinned, nothing keeps a peer off an antagonist's CPU */
	for (i = 0; !cfg->pinned && !r->plan.classes && !r->plan.matrix &&
		    i < r->plan.sweep.nloads;
	     i++)
		if (r->plan.sweep.loads[i].n) {
			add_note(r, "--load with unpinned peers: the scheduler "
				    "may run a peer on an antagonist's CPU; "
				    "--pin A,B keeps them apart");
			break;
		} else if (ik_config_cpu(cfg, 0) == ik_config_cpu(cfg, 1))
			add_note(r,
				 "both peers on CPU %d: this measures the "
				 "scheduler "
				 "hand-off; spinning methods yield on every "
				 "poll",
				 cfg->cpu[0]);
	for (i = 0; i < r->plan.sweep.npairs; i++)
		maxp = r->plan.sweep.pairs[i] > maxp ? r->plan.sweep.pairs[i]
						     : maxp;
	/* what --method all left out, unless named besides */
	for (i = 0; i < r->plan.sweep.nleft_out; i++) {
		const struct ik_transport_ops *m = r->plan.sweep.left_out[i];
		struct ik_chan_params th = {.size = 1, .mode = IK_MODE_THREAD};
		const char *why = m->unavailable ? m->unavailable(&th) : NULL;
		unsigned j = 0;

		while (j < r->plan.sweep.nmethods &&
		       r->plan.sweep.methods[j] != m)
			j++;
		if (j == r->plan.sweep.nmethods)
			add_note(r,
				 "--method all left out %s, unavailable here: "
				 "%.120s",
				 m->name, why ? why : "in either mode");
	}
	if (2 * maxp > cpus)
		add_note(r,
			 "--pairs %u puts %u peers on %u usable CPUs: "
			 "peers share CPUs, so pairs compete for time",
			 maxp, 2 * maxp, cpus);
	if (cfg->pinned) {
		unsigned before = r->rep.nnotes;

		ik_cli_sibling_warnings(cfg, &r->topo, r->note, &r->rep);
		for (i = before; i < r->rep.nnotes; i++)
			warn(r, r->rep.notes[i]);
	}
	idle_notes(r);
	/* the CPUs this run pins: its pair, or --matrix's every CPU */
	k = ik_machine_warnings(&r->machine,
				r->plan.matrix ? r->plan.cpus : pair,
				r->plan.matrix ? r->plan.ncpus
				: cfg->pinned  ? 2
					       : 0,
				warns, 4);
	for (w = 0; w < k && r->rep.nnotes < IK_ARRAY_SIZE(r->rep.notes); w++) {
		add_note(r, "%s", warns[w]);
		warn(r, r->rep.notes[r->rep.nnotes - 1]);
	}
}

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

/*
 * A signal ended the run: which cells are kept, and why in words. Whole
 * repeats when at least one finished (a cell's repeats must be alike:
 * the unfinished repeat's cells are dropped), else the cells of the
 * first that finished. got: the results the unfinished repeat made,
 * done: the measurements that finished (a --pairs row set is one).
 * Cells are counted as the progress line counts them, over all repeats.
 */
static void cut_short(struct run *r, unsigned got, unsigned done)
{
	const struct ik_cli_gate *g = &r->plan.gate;
	const char *sig = signal_name(interrupted);
	unsigned in_rep, rep = r->nrep + 1;
	char *w = r->partial, kept[40];
	size_t len = sizeof(r->partial);
	int n;

	for (unsigned i = 0; i < r->nrep * r->cells; i++)
		if (i % r->cells < r->n && r->results[i].cut) {
			snprintf(w, len,
				 "interrupted by %s in a soak: its %u "
				 "finished minute%s kept, the percentiles of "
				 "every trip that completed",
				 sig, r->results[i].nsoak,
				 r->results[i].nsoak == 1 ? "" : "s");
			r->rep.partial = w;
			return;
		}
	if (r->nrep == g->repeat)
		return; /* everything was measured before the signal */
	if (r->nrep > 1)
		snprintf(kept, sizeof(kept), "repeats 1-%u kept", r->nrep);
	else
		snprintf(kept, sizeof(kept), "repeat 1 kept");
	n = snprintf(w, len, "interrupted by %s after %u of %u cells", sig,
		     done, r->planned * g->repeat);
	in_rep = done - r->nrep * r->planned; /* of the unfinished repeat */
	if (n < 0 || (size_t)n >= len || g->repeat == 1) {
		/* one repeat: the cells that finished are the report */
	} else if (!r->nrep) {
		snprintf(w + n, len - (size_t)n,
			 ", in repeat 1 of %u: its finished cells kept",
			 g->repeat);
	} else if (!in_rep) {
		snprintf(w + n, len - (size_t)n, ", before repeat %u of %u: %s",
			 rep, g->repeat, kept);
	} else {
		snprintf(w + n, len - (size_t)n,
			 ", in repeat %u of %u: %s, its %u finished cell%s "
			 "dropped",
			 rep, g->repeat, kept, in_rep, in_rep == 1 ? "" : "s");
	}
	if (!r->nrep) {
		r->n = got;
		r->nrep = 1;
	}
	r->rep.partial = w;
}

/*
 * The floor first, on the same pair: what the loop itself costs with
 * nothing but one word to bounce. Then every repeat of the grid,
 * repeats outermost so each cell's runs spread over the whole time.
 * Returns whether anything failed.
 */
static bool measure_all(struct run *r, struct ik_progress *pg)
{
	const struct ik_cli_gate *g = &r->plan.gate;
	const struct ik_config *cfg = &r->plan.cfg;
	uint64_t t_start;
	unsigned rp, got = 0;
	bool failed = false;

	if (ik_cli_floor_applies(&r->plan)) {
		if (!ik_cli_measure_floor(cfg, &r->ctx, &r->floor))
			r->rep.floor = &r->floor;
		else
			add_note(r, "floor not measured: %.150s",
				 r->floor.errmsg);
	}
	t_start = ik_clock_ns();
	for (rp = 0; rp < g->repeat && !interrupted && !failed; rp++) {
		/* --repeat-every: sample the machine over time, not at one
		 * moment (not a synchronisation: nothing waits for this) */
		while (rp && !interrupted &&
		       ik_clock_ns() - t_start < rp * g->repeat_every_ns) {
			uint64_t left = rp * g->repeat_every_ns -
					(ik_clock_ns() - t_start);
			struct timespec ts = {
				.tv_sec = (time_t)(left / IK_NS_PER_SEC),
				.tv_nsec = (long)(left % IK_NS_PER_SEC)};

			nanosleep(&ts, NULL);
		}
		if (interrupted)
			break;
		got = ik_cli_run_grid(&r->plan, r->classes, &r->ctx,
				      &r->results[rp * r->cells], pg, &failed);
		/* a signal before the repeat's last cell: not a repeat */
		if (interrupted && got < (rp ? r->n : r->rows))
			break;
		if (rp && got != r->n && !interrupted) {
			ik_progress_clear(pg);
			fprintf(stderr,
				"ipckern: repeat %u measured %u cells, the "
				"first %u\n",
				rp + 1, got, r->n);
			failed = true;
		}
		r->n = got;
		r->nrep++;
		got = 0; /* of the next repeat */
	}
	ik_progress_clear(pg);
	if (interrupted)
		cut_short(r, got, pg->done);
	if (!failed && r->nrep &&
	    ik_cli_fold_repeats(r->results, r->n, r->nrep, r->cells)) {
		fprintf(stderr, "ipckern: out of memory\n");
		failed = true;
	}
	return failed;
}

/*
 * --history: opened (created, migrated) once the run is known to be
 * valid, before measuring, so that a store that is not ours costs
 * nothing (exit 2) and one that cannot be reached is known at once.
 */
static int open_history(struct run *r)
{
	const char *where = r->plan.gate.history;
	char err[512];
	int ret;

	if (!where)
		return 0;
	if (r->plan.mkdirs && !ik_history_is_url(where) &&
	    (ret = ik_output_mkdirs(where))) {
		fprintf(stderr, "ipckern: --history %s --mkdir: %s\n", where,
			strerror(-ret));
		return IK_EXIT_RUNTIME;
	}
	ret = ik_history_open(where, true, &r->hist, err, sizeof(err));
	if (ret == -EINVAL)
		usage_error("--history %s: %s", where, err);
	if (ret) {
		fprintf(stderr, "ipckern: --history %s: %s\n", where, err);
		return IK_EXIT_RUNTIME;
	}
	return 0;
}

/* --label, else the CI's commit ($GITHUB_SHA, $CI_COMMIT_SHA), or none. */
static const char *run_label(const struct ik_cli_gate *g)
{
	const char *env[] = {"GITHUB_SHA", "CI_COMMIT_SHA"};

	if (g->label)
		return g->label;
	for (size_t i = 0; i < IK_ARRAY_SIZE(env); i++) {
		const char *v = getenv(env[i]);

		if (v && *v)
			return v;
	}
	return NULL;
}

/*
 * Append the run to --history (a partial one marked so, never part of a
 * series) and, with --gate history, load its series. Returns 0, or
 * IK_EXIT_RUNTIME with the reason on stderr.
 */
static int append_history(struct run *r, struct ik_hist_set *set, long long *id)
{
	const struct ik_cli_gate *g = &r->plan.gate;
	struct ik_history_run hr = {.label = run_label(g),
				    .version = IK_VERSION,
				    .matrix = r->plan.matrix,
				    .partial = r->rep.partial};
	struct ik_history_opts o = IK_HISTORY_OPTS_DEFAULT;
	time_t now = time(NULL);
	char err[512];
	int ret;

	strftime(hr.time, sizeof(hr.time), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	snprintf(hr.hostname, sizeof(hr.hostname), "%s", r->machine.hostname);
	ik_machine_fingerprint(&r->machine, "", &hr.fp);
	ret = ik_history_append(r->hist, &hr, r->results, r->n, id, err,
				sizeof(err));
	if (!ret && g->gate == IK_GATE_HISTORY && !r->rep.partial)
		ret = ik_history_load(r->hist,
				      g->normalize ? NULL : hr.fp.klass, *id,
				      o.window, set, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ipckern: --history %s: %s\n", g->history, err);
		return IK_EXIT_RUNTIME;
	}
	return 0;
}

/* --save-baseline: the results as JSON, after --append's earlier runs. */
static bool save_baseline(struct run *r)
{
	const struct ik_cli_gate *g = &r->plan.gate;
	struct ik_report jr = r->rep;
	int ret;

	jr.format = IK_FMT_JSON;
	/* --append: earlier runs' repeats first, then this run's */
	ret = g->append ? ik_baseline_prepend(&r->appended, r->results, r->n)
			: 0;
	if (!ret)
		ret = ik_report_write_file(&jr, g->save_baseline,
					   r->plan.mkdirs);
	if (ret)
		fprintf(stderr, "ipckern: --save-baseline %s: %s\n",
			g->save_baseline, ik_cli_out_error(-ret));
	return ret != 0;
}

/*
 * The report, the gate, the baseline and the raw samples. Returns the
 * exit code: the gate's, unless something failed; after a signal,
 * 128 + its number (130 for SIGINT) once what finished is written. A
 * gate never passes on partial data, and partial data never becomes a
 * baseline.
 */
static int write_outputs(struct run *r, bool failed)
{
	const struct ik_cli_gate *g = &r->plan.gate;
	const struct ik_plan *p = &r->plan;
	const char *partial = r->rep.partial;
	bool unwritten = false, gating;
	struct ik_hist_set set = {0};
	struct ik_cli_hist hist = {.set = &set,
				   .opts = IK_HISTORY_OPTS_DEFAULT};
	int ret, code = 0;

	ret = ik_report_write_file(&r->rep, p->output ? p->output : "-",
				   p->mkdirs);
	if (ret) {
		fprintf(stderr, "ipckern: writing %s: %s\n",
			p->output ? p->output : "the report",
			ik_cli_out_error(-ret));
		unwritten = true;
	}
	/* a failed run (exit 3) is not history; a partial one is kept,
	 * marked, out of every series */
	if (r->hist && !failed && !unwritten &&
	    append_history(r, &set, &hist.id))
		unwritten = true;
	hist.opts.alpha = g->history_alpha;
	hist.opts.min_change = g->history_min_change;
	hist.opts.normalize = g->normalize;
	gating = g->baseline || g->nasserts || g->gate == IK_GATE_HISTORY;
	if (gating && partial)
		fprintf(stderr,
			"ipckern: %s not checked: the data is partial (%s); "
			"a gate never passes on partial data\n",
			g->baseline		     ? "--baseline"
			: g->gate == IK_GATE_HISTORY ? "--gate history"
						     : "--assert",
			partial);
	else if (gating && !failed && !unwritten)
		code = ik_cli_run_gate(
			g, p->mkdirs, &r->rep,
			g->baseline ? &r->baseline : NULL,
			g->gate == IK_GATE_HISTORY ? &hist : NULL,
			p->format != IK_FMT_TABLE && !p->output ? stderr
								: stdout);
	ik_hist_set_free(&set);
	if (g->save_baseline && partial)
		fprintf(stderr,
			"ipckern: --save-baseline %s: not written: partial "
			"data (%s) must not become a baseline\n",
			g->save_baseline, partial);
	else if (g->save_baseline && !failed && !unwritten)
		unwritten |= save_baseline(r);
	if (p->raw && r->n == 1 && !r->results[0].err) {
		ret = ik_raw_write_file(&r->results[0], p->raw, p->mkdirs);
		if (ret) {
			fprintf(stderr, "ipckern: --raw %s: %s\n", p->raw,
				ik_cli_out_error(-ret));
			unwritten = true;
		}
	}
	if (unwritten)
		return IK_EXIT_RUNTIME;
	if (interrupted)
		return 128 + interrupted;
	return failed ? IK_EXIT_RUNTIME : code;
}

/* --dry-run: where path would go, and what it would make there. */
static void plan_output(const char *opt, const char *path, bool mkdirs)
{
	struct stat st;
	char *dir, *missing = NULL;

	printf("  %-16s ", opt);
	if (!path || !strcmp(path, "-")) {
		printf("stdout\n");
		return;
	}
	if (!stat(path, &st)) {
		printf("%s: %s\n", path,
		       S_ISREG(st.st_mode)
			       ? "would replace it"
			       : "would write to it where it is (not a "
				 "regular file)");
		return;
	}
	/* the outermost missing directory --mkdir would make */
	dir = strdup(path);
	while (dir) {
		char *slash = strrchr(dir, '/');

		if (!slash || slash == dir)
			break;
		*slash = '\0';
		if (!stat(dir, &st))
			break;
		free(missing);
		missing = strdup(dir);
	}
	printf("%s: would create it", path);
	if (missing && mkdirs)
		printf(", and the directory %s with what is under it "
		       "(--mkdir)",
		       missing);
	printf("\n");
	free(missing);
	free(dir);
}

/*
 * --dry-run: every cell the run would measure, each estimate and the
 * total, and the outputs as checked; nothing measured, nothing made.
 */
static int dry_run(struct run *r)
{
	const struct ik_plan *p = &r->plan;
	const struct ik_cli_gate *g = &p->gate;
	const char *fmt[] = {"table", "json", "csv", "gbench"};
	unsigned cells;
	double est, total;
	char err[512];
	int ret;

	/* a store the run would refuse is refused here too, untouched */
	if (g->history &&
	    (ret = ik_history_check(g->history, err, sizeof(err)))) {
		if (ret == -EINVAL)
			usage_error("--history %s: %s", g->history, err);
		fprintf(stderr, "ipckern: --history %s: %s\n", g->history, err);
		return IK_EXIT_RUNTIME;
	}
	printf("ipckern --dry-run: the plan; nothing is measured, nothing "
	       "is written\n");
	printf("kernel %s; cells in the order they would run:\n",
	       ik_kernel_name(p->cfg.kernel));
	if (ik_cli_floor_applies(p))
		printf("%5s  %-60s\n", "-",
		       "harness floor first (one word, same pair)");
	ik_cli_plan_grid(p, r->classes, stdout, &cells, &est);
	total = ik_cli_plan_total(g, est);
	printf("total: %u cell%s x %u repeat%s, ~%.1f s\n", cells,
	       cells == 1 ? "" : "s", g->repeat, g->repeat == 1 ? "" : "s",
	       total / 1e9);
	printf("estimates: --duration, or (iters + warmup) x (10 us + gap + "
	       "work) (echo, connect: iters x clients x 10 us, 40 us a "
	       "connect), plus 20 ms start-up a cell and 0.2 ms a client; "
	       "the machine decides the real time\n");
	if (p->cfg.slo.n)
		printf("--slo %s: each cell is a search, estimated at 12 runs "
		       "(flat out, both brackets, midpoints, 2 re-runs); a "
		       "sender far from its knee takes more\n",
		       p->cfg.slo.text);
	printf("outputs:\n");
	printf("  %-16s %s\n", "format", fmt[p->format]);
	plan_output("report", p->output, p->mkdirs);
	if (p->raw)
		plan_output("--raw", p->raw, p->mkdirs);
	if (g->save_baseline && g->append && !access(g->save_baseline, F_OK))
		printf("  %-16s %s: would add this run's repeats to it\n",
		       "--save-baseline", g->save_baseline);
	else if (g->save_baseline)
		plan_output("--save-baseline", g->save_baseline, p->mkdirs);
	if (g->summary_md)
		plan_output("--summary-md", g->summary_md, p->mkdirs);
	if (g->history)
		printf("  %-16s %s: would append this run%s\n", "--history",
		       g->history,
		       g->gate == IK_GATE_HISTORY
			       ? ", then gate on the change points of its "
				 "series (exit 1 on a new one for the worse)"
			       : "");
	if (g->nasserts || g->baseline)
		printf("gate: %u --assert check%s%s%s%s; exit 1 if one "
		       "fails\n",
		       g->nasserts, g->nasserts == 1 ? "" : "s",
		       g->baseline ? ", and against --baseline " : "",
		       g->baseline ? g->baseline : "",
		       g->baseline ? " (read, and it matches this run)" : "");
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "ipckern: writing to stdout: %s\n",
			strerror(errno ? errno : EIO));
		return IK_EXIT_RUNTIME;
	}
	return 0;
}

/* One run, start to end: plan, check, measure, report, gate. */
/*
 * --cpu-latency: hold the CPU latency QoS from here to exit (the children
 * of process mode inherit the fd and exit before us), and let the
 * report's machine say the limit in force.
 */
static int hold_cpu_latency(struct run *r)
{
	long us = held_us(&r->plan);
	int fd = ik_cpu_latency_hold(us);

	if (fd < 0) {
		fprintf(stderr,
			"ipckern: --cpu-latency: cannot hold "
			"/dev/cpu_dma_latency at %ld us: %s%s\n",
			us, strerror(-fd),
			fd == -EACCES || fd == -EPERM ? " (only root may)"
						      : "");
		return IK_EXIT_RUNTIME;
	}
	r->qos_fd = fd;
	r->qos_held = true;
	ik_machine_read_qos(&r->machine, "");
	return 0;
}

static int run(int argc, char **argv, struct run *r)
{
	struct ik_plan *p = &r->plan;
	struct ik_progress pg;
	double est;
	bool failed;
	int code, ret;

	ret = ik_cli_parse(p, argc, argv);
	if (ret < 0)
		usage_error("%s", p->err);
	if (ret > 0)
		act(p);
	p->gate.quiet = p->quiet;
	r->ctx = (struct ik_run){.topo = &r->topo,
				 .timer = &r->timer,
				 .interrupted = &interrupted,
				 .mem_node = p->mem_node};
	check_outputs(p);
	load_baselines(r);
	if ((code = load_machine(r)))
		return code;
	plan_report(r);
	if (p->classes && p->dry_run && !p->machine) {
		check_baselines(r);
		plan_gate(p);
	}
	if (p->machine || (p->classes && p->dry_run))
		return describe(r);
	if ((code = resolve_pins(r)))
		return code;
	/* held for a dry run too: it fails where the run would */
	if (p->cpu_latency_given && (code = hold_cpu_latency(r)))
		return code;
	if (p->dry_run) {
		check_baselines(r);
		return dry_run(r);
	}
	catch_stop_signals();
	ik_timer_init(&r->timer);
	check_baselines(r);
	if ((code = open_history(r)))
		return code;
	if (alloc_results(r)) {
		fprintf(stderr, "ipckern: out of memory\n");
		return IK_EXIT_RUNTIME;
	}
	add_notes(r);
	r->rows = ik_cli_plan_grid(p, r->classes, NULL, &r->planned, &est);
	ik_progress_start(&pg, p, r->planned * p->gate.repeat,
			  ik_cli_plan_total(&p->gate, est));
	failed = measure_all(r, &pg);
	measured = 1; /* from here a signal ends the run (on_signal) */
	r->rep.machine = &r->machine;
	r->rep.timer = &r->timer;
	r->rep.topo = &r->topo;
	r->rep.results = r->results;
	r->rep.nresults = r->n;
	if (r->rep.partial && !p->quiet)
		fprintf(stderr,
			"ipckern: %s; writing the cells that finished\n",
			r->rep.partial);
	return write_outputs(r, failed);
}

int main(int argc, char **argv)
{
	static struct run r; /* 3 KB of config and the notes: off the stack */
	int code;

	/* a closed pipe on stdout is an error we report (EPIPE), not a
	 * silent death; the peers ignore SIGPIPE for their sockets too */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "history"))
		code = ik_cli_history(argc - 1, argv + 1);
	else
		code = run(argc, argv, &r);
	run_free(&r);
	/* whatever went to stdout through stdio (tables of --machine, the
	 * gate's summary) must have arrived too */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "ipckern: writing to stdout: %s\n",
			strerror(errno ? errno : EIO));
		code = IK_EXIT_RUNTIME;
	}
	return code;
}
