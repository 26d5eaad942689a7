/* SPDX-License-Identifier: MIT */
/*
 * Every option of ipckern as one row of data: its name, the kind of
 * value it takes, where the value goes in struct ik_plan, its default,
 * range or choices, whether it takes a list (a sweep) and how long,
 * whether it is kernel-specific (the kernels that take it list it in
 * their ops) and its help; cli/options.c does the rest. A
 * new option is a row here plus the code that uses its value. The shape
 * follows fio's options.c, written for our kinds; the few values no kind
 * describes (--method, --mode, --pin, --cpus, --assert) have their own
 * parsers above the table.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define ITERS_MAX   100000000ULL /* 8-byte sample each: 800 MB */
#define REPEAT_MAX  1000
#define CLIENTS_MAX 10000
_Static_assert(REPEAT_MAX <= IK_BASELINE_KEEP,
	       "one run's repeats must fit in a baseline (--append)");

static void add_method(struct ik_sweep *c, const struct ik_transport_ops *m)
{
	unsigned i;

	for (i = 0; i < c->nmethods; i++)
		if (c->methods[i] == m)
			return;
	c->methods[c->nmethods++] = m;
}

/* The registered method (or 'all') nearest to a misspelt name. */
static const char *nearest_method(const char *tok)
{
	const char *names[IK_MAX_METHODS + 2];
	unsigned n = 0;

	for (const struct ik_transport_ops *const *t = ik_transports;
	     *t && n < IK_MAX_METHODS; t++)
		if (!((*t)->flags & IK_T_TEST)) /* ipckern's own tests' */
			names[n++] = (*t)->name;
	names[n++] = "all";
	names[n] = NULL;
	return ik_cli_nearest(tok, names);
}

/* Unavailable in thread and process mode alike (ops->unavailable). */
static bool unavailable_here(const struct ik_transport_ops *t)
{
	struct ik_chan_params th = {.size = 1, .mode = IK_MODE_THREAD};
	struct ik_chan_params pr = {.size = 1, .mode = IK_MODE_PROCESS};

	return t->unavailable && t->unavailable(&th) && t->unavailable(&pr);
}

/* --method: registered names, or 'all' (every one not for tests only,
 * and available here) */
static int parse_methods(struct ik_plan *p, const struct ik_option *o,
			 const char *arg)
{
	struct ik_sweep *c = &p->sweep;
	char *copy = strdup(arg), *save = NULL, *tok;
	char names[512] = "";
	const struct ik_transport_ops *const *t;
	int ret = 0;

	(void)o;
	if (!copy)
		return ik_cli_fail(p, "--method: out of memory");
	for (t = ik_transports; *t; t++) { /* not the test-only ones */
		if ((*t)->flags & IK_T_TEST)
			continue;
		strcat(names, (*t)->name);
		strcat(names, ", ");
	}
	strcat(names, "all");
	c->nmethods = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		const struct ik_transport_ops *m = ik_transport_find(tok);

		if (!strcmp(tok, "all")) {
			/* not the test-only ones, nor those that cannot run
			 * here in any mode (--list says why) */
			for (t = ik_transports; *t; t++) {
				unsigned k = 0;

				if ((*t)->flags & IK_T_TEST)
					continue;
				if (!unavailable_here(*t)) {
					add_method(c, *t);
					continue;
				}
				while (k < c->nleft_out && c->left_out[k] != *t)
					k++;
				if (k == c->nleft_out)
					c->left_out[c->nleft_out++] = *t;
			}
		} else if (!m) {
			const char *near = nearest_method(tok);

			ret = ik_cli_fail(p,
					  "--method '%s': unknown method; "
					  "%s%s%sallowed: %s",
					  tok, near ? "did you mean " : "",
					  near ? near : "", near ? "? " : "",
					  names);
		} else {
			add_method(c, m);
		}
	}
	free(copy);
	if (!ret && !c->nmethods)
		ret = ik_cli_fail(p,
				  "--method '%s': name at least one method; "
				  "allowed: %s",
				  arg, names);
	return ret;
}

static int parse_modes(struct ik_plan *p, const struct ik_option *o,
		       const char *arg)
{
	struct ik_sweep *c = &p->sweep;

	(void)o;
	if (!strcmp(arg, "thread")) {
		c->modes[0] = IK_MODE_THREAD, c->nmodes = 1;
	} else if (!strcmp(arg, "process")) {
		c->modes[0] = IK_MODE_PROCESS, c->nmodes = 1;
	} else if (!strcmp(arg, "both") || !strcmp(arg, "thread,process")) {
		c->modes[0] = IK_MODE_THREAD, c->modes[1] = IK_MODE_PROCESS;
		c->nmodes = 2;
	} else if (!strcmp(arg, "process,thread")) {
		c->modes[0] = IK_MODE_PROCESS, c->modes[1] = IK_MODE_THREAD;
		c->nmodes = 2;
	} else {
		static const char *const modes[] = {"thread", "process", "both",
						    NULL};
		const char *near = ik_cli_nearest(arg, modes);

		return ik_cli_fail(p,
				   "--mode '%s': %s%s%sallowed: thread, "
				   "process, both",
				   arg, near ? "did you mean " : "",
				   near ? near : "", near ? "? " : "");
	}
	return 0;
}

/* --pin "A,B[,A,B...]": non-negative CPU numbers, nothing else; or auto */
static int parse_pin(struct ik_plan *p, const struct ik_option *o,
		     const char *arg)
{
	const char *s = arg;

	(void)o;
	p->pin_arg = arg;
	p->npins = 0;
	if (!strcmp(arg, "auto")) {
		/* kept even if numbers follow: auto picks the pair then */
		p->pin_auto = true;
		return 0;
	}
	for (;;) {
		char *end;
		long v;

		if (!isdigit((unsigned char)*s) || p->npins == 2 * IK_MAX_PAIRS)
			goto bad;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || v > INT_MAX)
			goto bad;
		p->pins[p->npins++] = (int)v;
		s = end;
		if (!*s)
			return 0;
		if (*s++ != ',')
			goto bad;
	}
bad:
	p->npins = 0;
	return ik_cli_fail(p,
			   "--pin '%s': expected two CPU numbers A,B as "
			   "taskset takes them (e.g. --pin 0,1; with --pairs "
			   "N, 2N of them), or auto",
			   arg);
}

/* --fanout 1:N or N:1, --pipeline K, --contend N: the group kernel's
 * shape (cfg.shape) and its N (cfg.shape_n) */
static int parse_shape(struct ik_plan *p, const struct ik_option *o,
		       const char *arg)
{
	struct ik_config *c = &p->cfg;
	unsigned long a = 0, b = 0;
	char *end = NULL;

	/* one group shape a run: a second would silently replace the first */
	if (p->shape_given)
		return ik_cli_fail(p,
				   "--%s '%s': a run has one group shape and "
				   "--fanout, --pipeline or --contend was "
				   "already given; give one of them once",
				   o->name, arg);
	errno = 0;
	if (isdigit((unsigned char)*arg))
		a = strtoul(arg, &end, 10);
	if (!strcmp(o->name, "fanout")) {
		if (end && *end == ':' && isdigit((unsigned char)end[1]))
			b = strtoul(end + 1, &end, 10);
		if (errno || !end || *end || !a || !b || (a != 1 && b != 1) ||
		    a + b > IK_GROUP_MAX)
			return ik_cli_fail(p,
					   "--fanout '%s': expected 1:N (one "
					   "producer, N consumers) or N:1 (N "
					   "producers, one consumer), N from "
					   "1 to %u",
					   arg, IK_GROUP_MAX - 1);
		c->shape = a == 1 ? IK_SHAPE_FANOUT : IK_SHAPE_FANIN;
		c->shape_n = a == 1 ? (unsigned)b : (unsigned)a;
	} else {
		if (errno || !end || *end || a < 2 || a > IK_GROUP_MAX)
			return ik_cli_fail(p,
					   "--%s '%s': expected a whole "
					   "number of %s from 2 to %u",
					   o->name, arg,
					   o->name[0] == 'p' ? "stages"
							     : "CPUs",
					   IK_GROUP_MAX);
		c->shape = o->name[0] == 'p' ? IK_SHAPE_PIPELINE
					     : IK_SHAPE_CONTEND;
		c->shape_n = (unsigned)a;
	}
	p->shape_given = true;
	return 0;
}

/* --cpus "0-3,8": CPU numbers for --matrix, as taskset -c takes them. */
static int parse_cpus(struct ik_plan *p, const struct ik_option *o,
		      const char *arg)
{
	const char *s = arg;
	unsigned n = 0;

	(void)o;
	while (*s) {
		char *end;
		long a, b;

		if (!isdigit((unsigned char)*s))
			goto bad;
		a = b = strtol(s, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				goto bad;
			b = strtol(end + 1, &end, 10);
		}
		if (b < a || b > 100000 || n + (unsigned long)(b - a) >= 256)
			goto bad;
		for (; a <= b; a++) {
			/* a pair of one CPU with itself is not in a matrix */
			for (unsigned k = 0; k < n; k++)
				if (p->cpus[k] == (int)a)
					return ik_cli_fail(
						p,
						"--cpus '%s': CPU %ld is "
						"listed twice; --matrix pairs "
						"different CPUs",
						arg, a);
			p->cpus[n++] = (int)a;
		}
		s = end;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			goto bad;
	}
	if (n) {
		p->ncpus = n;
		return 0;
	}
bad:
	return ik_cli_fail(p,
			   "--cpus '%s': expected CPU numbers like 0-3,8 (at "
			   "most 256)",
			   arg);
}

static int parse_assert(struct ik_plan *p, const struct ik_option *o,
			const char *s)
{
	struct ik_cli_gate *g = &p->gate;
	char err[200];

	(void)o;
	if (g->nasserts == IK_MAX_ASSERTS)
		return ik_cli_fail(p, "--assert: at most %d assertions",
				   IK_MAX_ASSERTS);
	if (ik_assert_parse(s, &g->asserts[g->nasserts], err, sizeof(err)))
		return ik_cli_fail(p, "--assert '%s': %s", s, err);
	g->nasserts++;
	return 0;
}

/* --first-touch "a,b,3": a and b as -1 and -2, CPUs as themselves. */
static int parse_touch(struct ik_plan *p, const struct ik_option *o,
		       const char *arg)
{
	struct ik_sweep *sw = &p->sweep;
	const char *s = arg;

	(void)o;
	sw->ntouches = 0;
	while (*s) {
		char *end = (char *)s;
		long v;

		if (sw->ntouches == IK_MAX_SWEEP)
			goto bad;
		if ((*s == 'a' || *s == 'b') && (!s[1] || s[1] == ',')) {
			v = *s == 'a' ? -1 : -2;
			end = (char *)s + 1;
		} else if (isdigit((unsigned char)*s)) {
			errno = 0;
			v = strtol(s, &end, 10);
			if (errno || v > 100000)
				goto bad;
		} else {
			goto bad;
		}
		for (unsigned k = 0; k < sw->ntouches; k++)
			if (sw->touches[k] == (int)v) {
				sw->ntouches = 0;
				return ik_cli_fail(p,
						   "--first-touch '%s': '%.*s' "
						   "is listed twice; list each "
						   "once (one cell each)",
						   arg, (int)(end - s), s);
			}
		sw->touches[sw->ntouches++] = (int)v;
		s = end;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			goto bad;
	}
	if (sw->ntouches)
		return 0;
bad:
	sw->ntouches = 0;
	return ik_cli_fail(p,
			   "--first-touch '%s': expected a (peer A's CPU), b "
			   "(peer B's) or an OS CPU number, a list sweeps "
			   "(e.g. a,b,2)",
			   arg);
}

static const char *const stride_names[] = {"64", "128", NULL};

/* --load SET, once per cell of the sweep: none, or KIND@CPUS items */
static int parse_load(struct ik_plan *p, const struct ik_option *o,
		      const char *arg)
{
	struct ik_sweep *sw = &p->sweep;
	char msg[200];

	(void)o;
	if (sw->nloads == IK_MAX_LOADS)
		return ik_cli_fail(p, "--load: given at most %d times",
				   IK_MAX_LOADS);
	if (ik_load_parse(arg, &sw->loads[sw->nloads], msg, sizeof(msg)))
		return ik_cli_fail(p, "--load '%s': %s", arg, msg);
	for (unsigned k = 0; k < sw->nloads; k++)
		if (!strcmp(sw->loads[k].text, arg))
			return ik_cli_fail(p,
					   "--load '%s': given twice; each "
					   "--load is one cell, give it once",
					   arg);
	sw->nloads++;
	return 0;
}

/* --history-alpha: a probability the permutation test can reach */
static int parse_alpha(struct ik_plan *p, const struct ik_option *o,
		       const char *s)
{
	char *end;
	double a;

	errno = 0;
	a = strtod(s, &end);
	if (errno || end == s || *end || !(a >= IK_HISTORY_ALPHA_MIN) ||
	    !(a < 1))
		return ik_cli_fail(p,
				   "--history-alpha '%s': expected a "
				   "probability from %g to below 1, e.g. 0.01",
				   s, IK_HISTORY_ALPHA_MIN);
	*(double *)((char *)p + o->off) = a;
	return 0;
}

static const char *const gate_names[] = {"none", "history", NULL};
/* --slo: the objective, every condition checked now */
static int parse_slo(struct ik_plan *p, const struct ik_option *o,
		     const char *s)
{
	char err[400];

	(void)o;
	if (ik_slo_parse(s, &p->cfg.slo, err, sizeof(err)))
		return ik_cli_fail(p, "--slo %s", err);
	return 0;
}

/* --wait's names, from ipc/wait.c's list (enum ik_wait order) */
static const char *wait_choice(unsigned k)
{
	return k < IK_NWAITS ? ik_wait_name((enum ik_wait)k) : NULL;
}

/*
 * --spin-budget LIST: each value as ik_spin_budget_parse reads it, each
 * once (two spellings of one budget would be two cells with one key).
 */
static int parse_budgets(struct ik_plan *p, const struct ik_option *o,
			 const char *arg)
{
	struct ik_sweep *sw = &p->sweep;
	char copy[512], *save = NULL, *tok;
	unsigned n = 0;

	(void)o;
	if (!*arg || strlen(arg) >= sizeof(copy) || arg[0] == ',' ||
	    arg[strlen(arg) - 1] == ',' || strstr(arg, ",,"))
		return ik_cli_fail(
			p,
			"--spin-budget '%s': expected budgets "
			"separated by commas, e.g. 0,250ns,1us,1000i",
			arg);
	snprintf(copy, sizeof(copy), "%s", arg);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (n == IK_MAX_SWEEP)
			return ik_cli_fail(p,
					   "--spin-budget '%s': at most %d "
					   "values",
					   arg, IK_MAX_SWEEP);
		if (ik_spin_budget_parse(tok, &v))
			return ik_cli_fail(p,
					   "--spin-budget '%s': expected ns "
					   "up to 1 s (a whole number, or "
					   "with ns/us/ms: 500ns, 2us) or "
					   "spin iterations with a trailing "
					   "i (1000i)",
					   tok);
		for (unsigned k = 0; k < n; k++)
			if (sw->budgets[k] == v)
				return ik_cli_fail(p,
						   "--spin-budget '%s': '%s' "
						   "is item %u again; list "
						   "each budget once",
						   arg, tok, k + 1);
		sw->budgets[n++] = v;
	}
	sw->nbudgets = n;
	return 0;
}
static const char *const format_names[] = {"table", "json", "csv", "gbench",
					   NULL};
static const char *const gap_mode_names[] = {"spin", "sleep", NULL};

/*
 * --kernel's help: each kernel's own (its ops' help), in kernels.def's
 * order, then what the crews (a server and its clients) take. Made once;
 * parsing is single-threaded.
 */
static const char *kernel_help(void)
{
	static char text[1024];
	unsigned k, crews = 0;
	char names[128];
	size_t u = 0;

	if (text[0])
		return text;
	for (k = 0; k < IK_NKERNELS && u < sizeof(text); k++) {
		const char *h = ik_kernels[k]->help;

		u += (size_t)snprintf(text + u, sizeof(text) - u, "%s%s",
				      !k	     ? ""
				      : h[0] == '\n' ? ","
						     : ", ",
				      h);
		crews |= ik_kernels[k]->crew ? 1u << k : 0;
	}
	ik_cli_kernel_names(crews, " and ", names, sizeof(names));
	if (crews && u < sizeof(text))
		snprintf(text + u, sizeof(text) - u,
			 "; %s: tcp or uds, --pin server first", names);
	return text;
}

/* where a value goes: offset and width of one item in struct ik_plan */
#define VAL(m)                                                                 \
	.off = offsetof(struct ik_plan, m),                                    \
	.width = sizeof(((struct ik_plan *)0)->m)
#define LIST(m, n)                                                             \
	.off = offsetof(struct ik_plan, m[0]),                                 \
	.width = sizeof(((struct ik_plan *)0)->m[0]),                          \
	.n_off = offsetof(struct ik_plan, n), .list_max = IK_MAX_SWEEP
#define GIVEN(m) .given_off = offsetof(struct ik_plan, m)
#define GROUP_APPLIES                                                          \
	"--fanout, --pipeline, --contend and --oversubscribe: apply to "       \
	"--kernel group (which the first three select when --kernel is not "   \
	"given)"
#define NS_WHAT                                                                \
	"a whole number of ns up to 10 s, or with us/ms/s, e.g. 0,10us,1ms"

/*
 * The table, in --help's order. help is a printf format of help_num,
 * lines joined by '\n' (--help indents the rest under the first).
 */
const struct ik_option ik_options[] = {
	{.name = "method",
	 .arg = "LIST",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_methods,
	 .def = "spsc",
	 .help = "methods to run, comma-separated, or 'all' (default\n"
		 "spsc); --list shows them"},
	{.name = "mode",
	 .arg = "LIST",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_modes,
	 .def = "thread",
	 .help = "thread (default), process, or both: two threads of\n"
		 "one process, or two processes forked after setup"},
	{.name = "pin",
	 .arg = "A,B",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_pin,
	 .help = "OS CPU numbers of the two peers (as taskset takes\n"
		 "them); A,A puts both on one CPU; 'auto' picks two\n"
		 "cores sharing the most cache. Default: unpinned"},
	{.name = "wait",
	 .arg = "LIST",
	 .kind = IK_OPT_CHOICE,
	 .off = offsetof(struct ik_plan, sweep.waits[0]),
	 .width = sizeof(enum ik_wait),
	 .n_off = offsetof(struct ik_plan, sweep.nwaits),
	 .list_max = IK_NWAITS,
	 .eg = "spin,futex,hybrid",
	 .choice_of = wait_choice,
	 GIVEN(sweep.wait_given),
	 .def = "spin",
	 .help = "how line and spsc wait, a list: spin (default), yield,\n"
		 "hybrid, futex, futex-waitv, uring-futex, uring-poll,\n"
		 "umwait, tpause, mwaitx; --list says which run here"},
	{.name = "spin-budget",
	 .arg = "LIST",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_budgets,
	 GIVEN(sweep.budget_given),
	 .def = "20us",
	 .help = "--wait hybrid: spin this long before sleeping, a list:\n"
		 "ns (500ns, 2us) or iterations (1000i); default 20us"},
	{.name = "size",
	 .arg = "BYTES",
	 .kind = IK_OPT_SIZE,
	 LIST(sweep.sizes, sweep.nsizes),
	 .eg = "1000,4k,64k",
	 GIVEN(sweep.size_given),
	 .def = "8",
	 .help = "payload each way per message, suffix k or m (binary);\n"
		 "default 8 (16 with --slo)"},
	{.name = "buffer",
	 .arg = "BYTES",
	 .kind = IK_OPT_SIZE,
	 LIST(sweep.buffers, sweep.nbuffers),
	 .eg = "4k,64k",
	 .help = "the transport's buffer: socket buffers, pipe size, the\n"
		 "spsc ring, the mq message size (a list sweeps);\n"
		 "default: each method's own"},
	{.name = "iters",
	 .arg = "N",
	 .kind = IK_OPT_COUNT,
	 VAL(cfg.iters),
	 .min = 1,
	 .max = ITERS_MAX,
	 GIVEN(cfg.iters_given),
	 .def = "20000",
	 .help_num = 20000,
	 .help = "timed round trips (default %llu); stream: messages\n"
		 "(default 256 MiB worth, from 1000 to 200000)"},
	{.name = "warmup",
	 .arg = "N",
	 .kind = IK_OPT_COUNT,
	 VAL(cfg.warmup),
	 .min = 0,
	 .max = ITERS_MAX,
	 .def = "2000",
	 .help_num = 2000,
	 .help = "untimed round trips first (default %llu)"},
	{.name = "duration",
	 .arg = "SEC",
	 .kind = IK_OPT_SECONDS,
	 VAL(cfg.duration_ns),
	 .max = 86400 * 1e9,
	 GIVEN(cfg.duration_given),
	 .help_num = IK_DURATION_SAMPLE_CAP,
	 .help = "run for this long instead (--iters caps the samples;\n"
		 "default cap %llu)"},
	{.name = "timeout",
	 .arg = "SEC",
	 .kind = IK_OPT_SECONDS,
	 VAL(cfg.timeout_ns),
	 .max = 86400 * 1e9,
	 .def = "60",
	 GIVEN(timeout_given),
	 .help_num = 60,
	 .help = "give up on one measurement after this (default %llu;\n"
		 "a longer --duration gets the duration plus that)"},
	{.name = "format",
	 .arg = "FMT",
	 .kind = IK_OPT_CHOICE,
	 VAL(format),
	 .choices = format_names,
	 .def = "table",
	 .help = "table (default), json, csv, gbench (Google Benchmark's\n"
		 "JSON, for CI trackers)"},
	{.name = "output",
	 .arg = "FILE",
	 .kind = IK_OPT_PATH,
	 VAL(output),
	 .help = "write the report to FILE, not stdout (- is stdout); a\n"
		 "regular file is replaced atomically, a device or FIFO\n"
		 "written in place"},
	{.name = "mkdir",
	 .kind = IK_OPT_FLAG,
	 VAL(mkdirs),
	 .help = "create the missing directories of every output"},
	{.name = "raw",
	 .arg = "FILE",
	 .kind = IK_OPT_PATH,
	 VAL(raw),
	 .help = "also write every round trip in ns, one per line\n"
		 "(one method and one mode only)"},
	{.name = "explain",
	 .kind = IK_OPT_FLAG,
	 VAL(cfg.explain),
	 .help = "say why a hop costs what it costs: per round trip or\n"
		 "message, each peer's IPIs, context switches, migrations,\n"
		 "page faults, idle entries (and PMU counters where\n"
		 "exposed), read before and after the timed loop, with\n"
		 "a one-line reading"},
	{.name = "machine",
	 .kind = IK_OPT_FLAG,
	 VAL(machine),
	 .help = "describe this machine (CPU, topology, caches, NUMA,\n"
		 "isolation, governor, timer, kernel, mitigations) and\n"
		 "exit; JSON reports embed the same"},
	{.name = "matrix",
	 .kind = IK_OPT_FLAG,
	 VAL(matrix),
	 .flags = IK_OPTF_KERNEL,
	 .help = "every ordered pair of --cpus (default: all usable)\n"
		 "for one method: a heatmap of p50, the A->B vs B->A\n"
		 "asymmetry, and CSV/JSON of every pair"},
	{.name = "cpus",
	 .arg = "LIST",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_cpus,
	 .help = "CPUs for --matrix, e.g. 0-3,8"},
	{.name = "mem-node",
	 .arg = "N",
	 .kind = IK_OPT_COUNT,
	 VAL(mem_node),
	 .min = 0,
	 .max = 4095,
	 .help = "place shared buffers and rings on NUMA node N\n"
		 "(libnuma); the report says where the pages are"},
	{.name = "cpu-latency",
	 .arg = "TIME",
	 .kind = IK_OPT_NS,
	 VAL(cpu_latency_ns),
	 GIVEN(cpu_latency_given),
	 .min = 0,
	 .max = 1e9,
	 .what = "a time from 0 to 1 s, e.g. 0, 10us",
	 .help = "hold the CPU latency PM QoS (/dev/cpu_dma_latency,\n"
		 "root only) at TIME while measuring: idle states slower\n"
		 "to leave are not entered; 0 keeps idle CPUs polling,\n"
		 "so a sleeping peer's CPU wakes at once (in a VM, no\n"
		 "halted vCPU for the host to wake: haltpoll's halt\n"
		 "claims 1 us, so only 0 keeps it out); dropped at exit"},
	{.name = "load",
	 .arg = "SET",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_load,
	 .help = "antagonists beside the peers, started before and\n"
		 "stopped after each cell, each with its rate: spin@CPUS,\n"
		 "smt (the peers' SMT siblings), l3@CPUS (sweep over\n"
		 "the shared cache), mem[:NODE]@CPUS (bandwidth, 8x the\n"
		 "LLC up to 1 GiB, on the CPU's node or NODE),\n"
		 "stream[:METHOD[:SIZE]]@C1+C2 (bulk transfer, default\n"
		 "pipe 64k); items joined by commas run together, CPUS\n"
		 "is A, A-B or joined by +; repeat --load to sweep\n"
		 "(none: no load)"},
	{.name = "load-on-peer",
	 .kind = IK_OPT_FLAG,
	 VAL(cfg.load_on_peer),
	 .help = "let --load use a peer's own CPU (refused otherwise)"},
	{.name = "classes",
	 .kind = IK_OPT_FLAG,
	 VAL(classes),
	 .help = "find one pair per topology class (same PU, SMT,\n"
		 "shared L2/L3, different L3 in a package, different\n"
		 "packages, different NUMA nodes) and run the methods\n"
		 "on each; absent classes are listed as absent"},
	{.name = "dry-run",
	 .kind = IK_OPT_FLAG,
	 VAL(dry_run),
	 .help = "list the cells, their estimated time and the outputs\n"
		 "it would write; measure and create nothing (with\n"
		 "--classes: the pairs)"},
	{.name = "quiet",
	 .kind = IK_OPT_FLAG,
	 VAL(quiet),
	 .help = "-q: errors only on stderr (no warnings, no progress);\n"
		 "warnings are still in the report"},
	{.name = "verbose",
	 .kind = IK_OPT_FLAG,
	 VAL(verbose),
	 .help = "-v: the plan and a line per finished cell on stderr"},
	{.name = "topology",
	 .arg = "FILE",
	 .kind = IK_OPT_PATH,
	 VAL(topology),
	 .help = "classify another machine from its lstopo XML export\n"
		 "(with --classes --dry-run)"},
	{.name = "kernel",
	 .arg = "NAME",
	 .kind = IK_OPT_CHOICE,
	 VAL(cfg.kernel),
	 .choice_of = ik_kernel_name, /* kernels/registry.c */
	 GIVEN(kernel_given),
	 .def = "pingpong",
	 .help_of = kernel_help},
	{.name = "clients",
	 .arg = "LIST",
	 .kind = IK_OPT_COUNT,
	 LIST(sweep.clients, sweep.nclients),
	 .eg = "1,10,100",
	 .min = 1,
	 .max = CLIENTS_MAX,
	 .def = "1",
	 .flags = IK_OPTF_KERNEL,
	 .applies = "--clients and --backlog: apply to --kernel echo and "
		    "connect",
	 .help = "echo, connect: clients (default 1; a list sweeps,\n"
		 "e.g. 1,10,100,1000)"},
	{.name = "server",
	 .arg = "LIST",
	 .kind = IK_OPT_CHOICE,
	 LIST(sweep.servers, sweep.nservers),
	 .eg = "thread,epoll,io_uring",
	 .choices = ik_server_names,
	 .what = "unknown server model; ",
	 .def = "thread",
	 .flags = IK_OPTF_KERNEL,
	 .help = "echo: thread (a thread per connection), epoll, io_uring\n"
		 "(a list sweeps); --buffer is its read buffer (64k)"},
	{.name = "backlog",
	 .arg = "N",
	 .kind = IK_OPT_COUNT,
	 VAL(cfg.backlog),
	 .min = 1,
	 .max = 65535,
	 .def = "128",
	 .flags = IK_OPTF_KERNEL,
	 .applies = "--clients and --backlog: apply to --kernel echo and "
		    "connect",
	 .help = "echo, connect: listen backlog (default 128)"},
	{.name = "pairs",
	 .arg = "LIST",
	 .kind = IK_OPT_COUNT,
	 LIST(sweep.pairs, sweep.npairs),
	 .eg = "1,2,4",
	 .min = 1,
	 .max = IK_MAX_PAIRS,
	 .def = "1",
	 .help = "run N independent pairs at once (a list sweeps,\n"
		 "e.g. 1,2,4,8), started together; --pin then gives\n"
		 "2N CPUs, pair by pair. Adds a row summing the pairs"},
	{.name = "gap",
	 .arg = "LIST",
	 .kind = IK_OPT_NS,
	 LIST(sweep.gaps, sweep.ngaps),
	 .eg = "0,10us,1ms",
	 .min = 0,
	 .max = 10e9,
	 .what = NS_WHAT,
	 .def = "0",
	 .flags = IK_OPTF_KERNEL,
	 .help = "ping-pong: idle this long before each round trip\n"
		 "(ns, or with us/ms; a list sweeps, e.g. 0,100us,10ms);\n"
		 "only the trip is timed"},
	{.name = "gap-mode",
	 .arg = "MODE",
	 .kind = IK_OPT_CHOICE,
	 VAL(cfg.gap_sleep),
	 .choices = gap_mode_names,
	 .def = "sleep",
	 .help = "sleep (default) or spin through each gap"},
	{.name = "work",
	 .arg = "LIST",
	 .kind = IK_OPT_NS,
	 LIST(sweep.works, sweep.nworks),
	 .eg = "0,1us,10us",
	 .min = 0,
	 .max = 10e9,
	 .what = NS_WHAT,
	 .def = "0",
	 .flags = IK_OPTF_KERNEL,
	 .help = "call: busy time per call in the worker (ns, or us/ms;\n"
		 "a list sweeps, e.g. 0,1us,10us,100us)"},
	{.name = "fanout",
	 .arg = "1:N|N:1",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_shape,
	 VAL(cfg.shape),
	 .flags = IK_OPTF_KERNEL,
	 .applies = GROUP_APPLIES,
	 .help = "group: one producer to N consumers, each message to\n"
		 "all (per-consumer and end-to-end latency), or N\n"
		 "producers to one consumer; selects --kernel group"},
	{.name = "pipeline",
	 .arg = "K",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_shape,
	 VAL(cfg.shape),
	 .flags = IK_OPTF_KERNEL,
	 .applies = GROUP_APPLIES,
	 .help = "group: K stages in a ring, each forwarding to the next\n"
		 "(per-hop, through-all and round-trip latency)"},
	{.name = "contend",
	 .arg = "N",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_shape,
	 VAL(cfg.shape),
	 .flags = IK_OPTF_KERNEL,
	 .applies = GROUP_APPLIES,
	 .help = "group: N CPUs take one line by CAS for --duration\n"
		 "(default 200 ms); each CPU's share, their spread and\n"
		 "the hand-off rate (--method line)"},
	{.name = "oversubscribe",
	 .kind = IK_OPT_FLAG,
	 VAL(cfg.oversubscribe),
	 .flags = IK_OPTF_KERNEL,
	 .applies = GROUP_APPLIES,
	 .help = "group: let more parties than CPUs take turns (the\n"
		 "report says so); --pin lists one CPU per party"},
	{.name = "rate",
	 .arg = "N",
	 .kind = IK_OPT_COUNT,
	 VAL(cfg.rate),
	 .min = 1,
	 .max = 1000000000,
	 .flags = IK_OPTF_KERNEL | IK_OPTF_SHOW_VALUE,
	 .help = "stream: open loop, N messages/s on a fixed schedule;\n"
		 "latency counts from each message's due time, so\n"
		 "stalls are not hidden; says when N was not kept"},
	{.name = "verify",
	 .kind = IK_OPT_FLAG,
	 VAL(cfg.verify),
	 .flags = IK_OPTF_KERNEL,
	 .applies = "--verify: applies to --kernel stream (ping-pong "
		    "already checks every echo)",
	 .help = "stream: every message carries a sequence number and\n"
		 "a checksum that B checks (costs a pass over each\n"
		 "payload on B: 0.25 ns/B measured here); needs --size >= 24"},
	{.name = "late",
	 .arg = "TIME",
	 .kind = IK_OPT_NS,
	 VAL(cfg.late_ns),
	 .min = 1000,
	 .max = 10e9,
	 .what = "a time from 1us to 10 s, e.g. 1ms, 200us",
	 GIVEN(cfg.late_given),
	 .def = "1ms",
	 .flags = IK_OPTF_KERNEL,
	 .help = "ping-pong: a round trip over this is a late wake-up,\n"
		 "counted with its trip and time (default 1ms; always\n"
		 "counted, shown when given or not 0); a wait past\n"
		 "--wake-deadline that finds its message posted is lost"},
	{.name = "wake-deadline",
	 .arg = "TIME",
	 .kind = IK_OPT_NS,
	 VAL(cfg.wake_deadline_ns),
	 GIVEN(wake_deadline_given),
	 .min = 1000000,
	 .max = 60e9,
	 .what = "a time from 1ms to 60 s, e.g. 1s, 100ms",
	 .def = "1s",
	 .help = "how long a blocking wait sleeps before it looks for a\n"
		 "message posted without its wake-up (futex, eventfd,\n"
		 "spsc's futex waits, reads: the controller's watch,\n"
		 "which looks every 50 ms; memfd, condvar, io_uring:\n"
		 "the wait's own timeout; default 1s)"},
	{.name = "soak",
	 .kind = IK_OPT_FLAG,
	 VAL(soak),
	 .flags = IK_OPTF_KERNEL,
	 .help = "ping-pong with --duration: a summary per minute (count,\n"
		 "p50/p99/p99.99, max, late, lost) on stderr as it goes\n"
		 "and in the report; on by itself from --duration 2m"},
	{.name = "slo",
	 .arg = "COND",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_slo,
	 VAL(cfg.slo.n),
	 .flags = IK_OPTF_KERNEL,
	 .applies = "--slo: applies to --kernel stream (it searches the "
		    "open-loop --rate, which only stream has)",
	 .help = "stream: find the highest --rate whose one-way latency\n"
		 "holds COND and whose schedule is kept, per method and\n"
		 "cell: p99<=10us, p50/p90/p99.9/any pNN or max, ns us\n"
		 "ms s, several joined by ',' must all hold; prints the\n"
		 "rate-latency curve it walked"},
	{.name = "slo-precision",
	 .arg = "PCT",
	 .kind = IK_OPT_PERCENT,
	 VAL(cfg.slo.precision),
	 .min = 0,
	 .max = 50,
	 .def = "5",
	 GIVEN(slo_precision_given),
	 .what = "a percentage above 0 and at most 50, e.g. 5 or 5%",
	 .flags = IK_OPTF_KERNEL,
	 .help = "--slo: stop when the highest rate that held and the\n"
		 "lowest that did not are this close (default 5)"},
	{.name = "repeat",
	 .arg = "K",
	 .kind = IK_OPT_COUNT,
	 VAL(gate.repeat),
	 .min = 1,
	 .max = REPEAT_MAX,
	 GIVEN(gate.repeat_given),
	 .def = "1",
	 .flags = IK_OPTF_GATE,
	 .help_num = IK_GATE_REPEATS,
	 .help = "run everything K times (fresh peers each time): each\n"
		 "metric's median across runs, a 95%% bootstrap interval\n"
		 "and the run-to-run CV (default 1; %llu with a baseline)"},
	{.name = "repeat-every",
	 .arg = "SEC",
	 .kind = IK_OPT_SECONDS,
	 VAL(gate.repeat_every_ns),
	 .max = 3600 * 1e9,
	 .flags = IK_OPTF_GATE,
	 .help = "start repeat r at r x SEC, spreading the repeats over\n"
		 "time (with --repeat 2 or more)"},
	{.name = "save-baseline",
	 .arg = "FILE",
	 .kind = IK_OPT_PATH,
	 VAL(gate.save_baseline),
	 .flags = IK_OPTF_GATE,
	 .help = "write the results as JSON for a later --baseline"},
	{.name = "append",
	 .kind = IK_OPT_FLAG,
	 VAL(gate.append),
	 .flags = IK_OPTF_GATE,
	 .help_num = IK_BASELINE_KEEP,
	 .help = "with --save-baseline: keep FILE's repeats and add this\n"
		 "run's, so a baseline spans several runs (the newest\n"
		 "%llu repeats per cell; older ones are dropped)"},
	{.name = "baseline",
	 .arg = "FILE",
	 .kind = IK_OPT_PATH,
	 VAL(gate.baseline),
	 .flags = IK_OPTF_GATE,
	 .help = "compare p50, p99, msgs/s and CPU/message with FILE:\n"
		 "regressed, improved or unchanged, with the ratio and\n"
		 "its interval; refuses another machine model, pair\n"
		 "relation or configuration; a check that cannot be\n"
		 "made fails, and so does comparing nothing"},
	{.name = "max-regress",
	 .arg = "PCT",
	 .kind = IK_OPT_PERCENT,
	 VAL(gate.max_regress),
	 .min = 0,
	 .max = 1000,
	 .def = "10",
	 .what = "a percentage above 0 and at most 1000, e.g. 10 or 10%",
	 .flags = IK_OPTF_GATE,
	 .help = "a regression must exceed this (default 10) and be\n"
		 "significant across the repeats"},
	{.name = "allow-mismatch",
	 .kind = IK_OPT_FLAG,
	 VAL(gate.allow_mismatch),
	 .flags = IK_OPTF_GATE,
	 .help = "compare with a baseline measured differently anyway"},
	{.name = "normalize",
	 .arg = "METHOD",
	 .kind = IK_OPT_PATH,
	 VAL(gate.normalize),
	 .flags = IK_OPTF_GATE,
	 .help = "compare each metric divided, repeat by repeat, by\n"
		 "METHOD's in the same cell (e.g. line): cancels a host\n"
		 "that got faster or slower as a whole"},
	{.name = "assert",
	 .arg = "EXPR",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_assert,
	 .flags = IK_OPTF_GATE,
	 .help = "repeatable: 'spsc.p99<2us', 'pipe.p50<=1.2*futex.p50',\n"
		 "'tcp.throughput>=500MB/s'; METHOD[:thread|:process][:SIZE]\n"
		 ".METRIC with min p50 p90 p99 p99.9 max mean msgs\n"
		 "throughput cpu; units ns us ms s, msgs/s, B/s (k M G,\n"
		 "Ki Mi Gi)"},
	{.name = "summary-md",
	 .arg = "FILE",
	 .kind = IK_OPT_PATH,
	 VAL(gate.summary_md),
	 .flags = IK_OPTF_GATE,
	 .help = "the gate's summary as a Markdown table (PR comment)"},
	{.name = "first-touch",
	 .arg = "LIST",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_touch,
	 .help = "who faults the channel's shared pages in, before the\n"
		 "peers start: a (peer A's CPU), b, or an OS CPU, from a\n"
		 "thread pinned there (a list sweeps, e.g. a,b); the report\n"
		 "says where it ran and the node of each page"},
	{.name = "home",
	 .arg = "LIST",
	 .kind = IK_OPT_COUNT,
	 LIST(sweep.homes, sweep.nhomes),
	 .eg = "0,1",
	 .min = 0,
	 .max = 4095,
	 .help = "bind the channel's shared pages (the lines) to NUMA\n"
		 "node N, as --mem-node binds every shared page, checked\n"
		 "with move_pages"},
	{.name = "fresh",
	 .kind = IK_OPT_FLAG,
	 VAL(cfg.lines.fresh),
	 .help = "new pages for each cell and pair, kept mapped until\n"
		 "the run ends so that no later cell gets the same frames"},
	{.name = "lines",
	 .arg = "LIST",
	 .kind = IK_OPT_COUNT,
	 LIST(sweep.nlines, sweep.nnlines),
	 .eg = "1,4,16",
	 .min = 1,
	 .max = IK_LINES_MAX,
	 .flags = IK_OPTF_KERNEL,
	 .help = "line: N distinct lines per pair, bounced in turn: each\n"
		 "line's p50, their spread and the worst"},
	{.name = "line-op",
	 .arg = "LIST",
	 .kind = IK_OPT_CHOICE,
	 LIST(sweep.line_ops, sweep.nline_ops),
	 .eg = "load,cas",
	 .choices = ik_line_op_names,
	 .flags = IK_OPTF_KERNEL,
	 .help = "line: what a hop does: store (one line both write),\n"
		 "load (a line per direction, the other side only loads),\n"
		 "cas, xadd (polls with that locked RMW), xchg (hands over\n"
		 "with it)"},
	{.name = "stride",
	 .arg = "LIST",
	 .kind = IK_OPT_CHOICE,
	 LIST(sweep.strides, sweep.nstrides),
	 .eg = "64,128",
	 .choices = stride_names,
	 .help = "line, spsc: bytes between lines two CPUs write, 64 or\n"
		 "128 (the adjacent-line prefetcher pairs lines in 128)"},
	{.name = "preheat",
	 .arg = "MS",
	 .kind = IK_OPT_COUNT,
	 VAL(cfg.preheat_ms),
	 .min = 1,
	 .max = 60000,
	 .help = "busy both CPUs of the pair for MS ms before each cell,\n"
		 "recording their clock before and after"},
	{.name = "history",
	 .arg = "WHERE",
	 .kind = IK_OPT_PATH,
	 VAL(gate.history),
	 .flags = IK_OPTF_GATE,
	 .help = "append the run (every cell and repeat, the machine's\n"
		 "fingerprint, --label, time, version) to a history: an\n"
		 "SQLite file, or postgresql://...; see docs/history.md"},
	{.name = "label",
	 .arg = "TEXT",
	 .kind = IK_OPT_PATH,
	 VAL(gate.label),
	 .flags = IK_OPTF_GATE,
	 .help = "the run's label in --history, e.g. the commit (default\n"
		 "$GITHUB_SHA, else $CI_COMMIT_SHA, else none)"},
	{.name = "gate",
	 .arg = "KIND",
	 .kind = IK_OPT_CHOICE,
	 VAL(gate.gate),
	 .choices = gate_names,
	 .def = "none",
	 .flags = IK_OPTF_GATE,
	 .help = "history: fail when the newest runs of --history on this\n"
		 "machine class start a significant, persistent change\n"
		 "for the worse (change points; --normalize line: across\n"
		 "classes)"},
	{.name = "history-alpha",
	 .arg = "P",
	 .kind = IK_OPT_CUSTOM,
	 .parse = parse_alpha,
	 VAL(gate.history_alpha),
	 GIVEN(gate.history_alpha_given),
	 .def = "0.01",
	 .flags = IK_OPTF_GATE,
	 .help = "--gate history: a change point's significance (the\n"
		 "permutation test's p at most P; default 0.01)"},
	{.name = "history-min-change",
	 .arg = "PCT",
	 .kind = IK_OPT_PERCENT,
	 VAL(gate.history_min_change),
	 GIVEN(gate.history_min_change_given),
	 .min = 0,
	 .max = 1000,
	 .def = "2",
	 .what = "a percentage above 0 and at most 1000, e.g. 2 or 2%",
	 .flags = IK_OPTF_GATE,
	 .help = "--gate history: smaller changes of a mean are not\n"
		 "changes (default 2)"},
	{.name = "list",
	 .kind = IK_OPT_ACTION,
	 .action = IK_CLI_LIST,
	 .flags = IK_OPTF_INFO,
	 .help = "list the methods and exit (--format json: as JSON)"},
	{.name = "version",
	 .kind = IK_OPT_ACTION,
	 .action = IK_CLI_VERSION,
	 .flags = IK_OPTF_INFO | IK_OPTF_HIDDEN,
	 .help = "print the version"},
	{.name = "help",
	 .kind = IK_OPT_ACTION,
	 .action = IK_CLI_HELP,
	 .flags = IK_OPTF_INFO,
	 .usage = "--version, -h, --help",
	 .help = "print this"},
	{.name = NULL},
};

#define NOPTIONS (IK_ARRAY_SIZE(ik_options) - 1)

_Static_assert(IK_ARRAY_SIZE(ik_options) - 1 == IK_NOPTIONS,
	       "IK_NOPTIONS counts the rows");
