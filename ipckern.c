/* SPDX-License-Identifier: MIT */
/*
 * ipckern's command line: the only place that knows about argv and the
 * only place that exits. It parses and validates everything into one
 * struct ik_config before anything runs, so a bad value costs nothing and
 * leaves no file behind. Exit codes: 0 ok, 2 bad usage or input, 3 a
 * failure at run time (1 is kept for failed CI gates).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <numa.h>
#include <sys/resource.h>

#include "cli/cli.h"

#define ITERS_MAX	  100000000ULL /* 8-byte sample each: 800 MB */
#define DEFAULT_ITERS	  20000
#define DEFAULT_WARMUP	  2000
#define DEFAULT_TIMEOUT_S 60
#define DEFAULT_STREAM_NS (IK_NS_PER_SEC / 2)
#define REPEAT_MAX	  1000
#define CLIENTS_MAX	  10000
_Static_assert(REPEAT_MAX <= IK_BASELINE_KEEP,
	       "one run's repeats must fit in a baseline (--append)");

/* The CI gate's options: what decides exit code 1. */
static struct ik_cli_gate gate = {.repeat = 1, .max_regress = 0.10};

/* --mkdir: outputs may create their missing parent directories */
static bool mkdirs;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
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

/* After --list, --help, --version: exit 0 only if it all arrived. */
static _Noreturn void exit_printed(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "ipckern: writing to stdout: %s\n",
			strerror(errno ? errno : EIO));
		exit(IK_EXIT_RUNTIME);
	}
	exit(0);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipckern [options]\n"
		"Pinned IPC round-trip latency: two peers ping-pong messages "
		"over one\n"
		"Linux IPC method; every round trip is timed and "
		"histogrammed.\n"
		"\n"
		"  --method LIST    methods to run, comma-separated, or 'all' "
		"(default\n"
		"                   spsc); --list shows them\n"
		"  --mode LIST      thread (default), process, or both: two "
		"threads of\n"
		"                   one process, or two processes forked after "
		"setup\n"
		"  --pin A,B        OS CPU numbers of the two peers (as "
		"taskset takes\n"
		"                   them); A,A puts both on one CPU; 'auto' "
		"picks two\n"
		"                   cores sharing the most cache. Default: "
		"unpinned\n"
		"  --wait MODE      spsc waiting: spin (default), futex, "
		"hybrid\n"
		"  --size BYTES     payload each way per message, suffix k or "
		"m (binary);\n"
		"                   default 8\n"
		"  --iters N        timed round trips (default %d); stream: "
		"messages\n"
		"                   (default 256 MiB worth, from 1000 to "
		"200000)\n"
		"  --warmup N       untimed round trips first (default %d)\n"
		"  --duration SEC   run for this long instead (--iters caps "
		"the samples;\n"
		"                   default cap %u)\n"
		"  --timeout SEC    give up on one measurement after this "
		"(default %d)\n"
		"  --format FMT     table (default), json, csv, gbench (Google "
		"Benchmark's\n"
		"                   JSON, for CI trackers)\n"
		"  --output FILE    write the report to FILE, not stdout (- is "
		"stdout); a\n"
		"                   regular file is replaced atomically, a "
		"device or FIFO\n"
		"                   written in place\n"
		"  --mkdir          create the missing directories of every "
		"output\n"
		"  --raw FILE       also write every round trip in ns, one per "
		"line\n"
		"                   (one method and one mode only)\n"
		"  --machine        describe this machine (CPU, topology, "
		"caches, NUMA,\n"
		"                   isolation, governor, timer, kernel, "
		"mitigations) and\n"
		"                   exit; JSON reports embed the same\n"
		"  --matrix         every ordered pair of --cpus (default: all "
		"usable)\n"
		"                   for one method: a heatmap of p50, the A->B "
		"vs B->A\n"
		"                   asymmetry, and CSV/JSON of every pair\n"
		"  --cpus LIST      CPUs for --matrix, e.g. 0-3,8\n"
		"  --mem-node N     place shared buffers and rings on NUMA "
		"node N\n"
		"                   (libnuma); the report says where the pages "
		"are\n"
		"  --classes        find one pair per topology class (same PU, "
		"SMT,\n"
		"                   shared L2/L3, different L3 in a package, "
		"different\n"
		"                   packages, different NUMA nodes) and run "
		"the methods\n"
		"                   on each; absent classes are listed as "
		"absent\n"
		"  --dry-run        with --classes: list the pairs, run "
		"nothing\n"
		"  --topology FILE  classify another machine from its lstopo "
		"XML export\n"
		"                   (with --classes --dry-run)\n"
		"  --kernel NAME    pingpong (default: round trips), stream "
		"(A sends,\n"
		"                   B receives: messages/s, bytes/s, one-way "
		"latency),\n"
		"                   call (A calls into a worker B and waits: "
		"wall and CPU\n"
		"                   per call, caller and worker), echo (a "
		"server and\n"
		"                   --clients in a closed loop), connect (a "
		"connection per\n"
		"                   request); echo and connect: tcp or uds, "
		"--pin server first\n"
		"  --clients N      echo, connect: clients (default 1)\n"
		"  --server LIST    echo: thread (a thread per connection), "
		"epoll, io_uring\n"
		"                   (a list sweeps); --buffer is its read "
		"buffer (64k)\n"
		"  --backlog N      echo, connect: listen backlog (default "
		"128)\n"
		"  --pairs LIST     run N independent pairs at once (a list "
		"sweeps,\n"
		"                   e.g. 1,2,4,8), started together; --pin "
		"then gives\n"
		"                   2N CPUs, pair by pair. Adds a row summing "
		"the pairs\n"
		"  --gap LIST       ping-pong: idle this long before each "
		"round trip\n"
		"                   (ns, or with us/ms; a list sweeps, e.g. "
		"0,100us,10ms);\n"
		"                   only the trip is timed\n"
		"  --gap-mode MODE  sleep (default) or spin through each gap\n"
		"  --work LIST      call: busy time per call in the worker "
		"(ns, or us/ms;\n"
		"                   a list sweeps, e.g. 0,1us,10us,100us)\n"
		"  --rate N         stream: open loop, N messages/s on a fixed "
		"schedule;\n"
		"                   latency counts from each message's due "
		"time, so\n"
		"                   stalls are not hidden; says when N was not "
		"kept\n"
		"  --verify         stream: every message carries a sequence "
		"number and\n"
		"                   a checksum that B checks (costs a pass "
		"over each\n"
		"                   payload on B: 0.25 ns/B measured here); "
		"needs --size >= 24\n"
		"\n"
		"CI gates (exit 1 when a gate fails):\n"
		"  --repeat K       run everything K times (fresh peers each "
		"time): each\n"
		"                   metric's median across runs, a 95%% "
		"bootstrap interval\n"
		"                   and the run-to-run CV (default 1; %d with "
		"a "
		"baseline)\n"
		"  --save-baseline FILE  write the results as JSON for a later "
		"--baseline\n"
		"  --append         with --save-baseline: keep FILE's repeats "
		"and add this\n"
		"                   run's, so a baseline spans several runs "
		"(the newest\n"
		"                   %u repeats per cell; older ones are "
		"dropped)\n"
		"  --baseline FILE  compare p50, p99, msgs/s and CPU/message "
		"with FILE:\n"
		"                   regressed, improved or unchanged, with the "
		"ratio and\n"
		"                   its interval; refuses another machine "
		"model, pair\n"
		"                   relation or configuration; a check that "
		"cannot be\n"
		"                   made fails, and so does comparing "
		"nothing\n"
		"  --max-regress PCT  a regression must exceed this (default "
		"10) and be\n"
		"                   significant across the repeats\n"
		"  --allow-mismatch compare with a baseline measured "
		"differently anyway\n"
		"  --normalize METHOD  compare each metric divided, repeat by "
		"repeat, by\n"
		"                   METHOD's in the same cell (e.g. line): "
		"cancels a host\n"
		"                   that got faster or slower as a whole\n"
		"  --assert EXPR    repeatable: 'spsc.p99<2us', "
		"'pipe.p50<=1.2*futex.p50',\n"
		"                   'tcp.throughput>=500MB/s'; "
		"METHOD[:thread|:process][:SIZE]\n"
		"                   .METRIC with min p50 p90 p99 p99.9 max "
		"mean msgs\n"
		"                   throughput cpu; units ns us ms s, msgs/s, "
		"B/s (k M G,\n"
		"                   Ki Mi Gi)\n"
		"  --summary-md FILE  the gate's summary as a Markdown table "
		"(PR comment)\n"
		"\n"
		"  --list           list the methods and exit\n"
		"  --version, --help\n"
		"\n"
		"Numbers are decimal (12, 0.5, 2e-3); times take ns, us, ms "
		"or s (SEC\n"
		"options: at least 1 ms); sizes k or m (binary).\n"
		"Latency is the round trip; the one-way estimate is half of "
		"it.\n"
		"Exit: 0 ok, 1 a gate failed (regression or assertion), 2 bad "
		"usage or\ninput, 3 failure at run time.\n",
		DEFAULT_ITERS, DEFAULT_WARMUP, IK_DURATION_SAMPLE_CAP,
		DEFAULT_TIMEOUT_S, IK_GATE_REPEATS, IK_BASELINE_KEEP);
}

static void list_methods(void)
{
	struct ik_chan_params p = {.size = 1};
	const struct ik_transport_ops *const *t;

	for (t = ik_transports; *t; t++) {
		size_t max = ik_transport_max_size(*t, &p);

		printf("%-10s %s (max %zu B)\n", (*t)->name, (*t)->summary,
		       max);
	}
}

/*
 * Every numeric option reads its number the same way: ik_parse_decimal
 * (12, 0.5, 2e-3; never hex, inf, nan or a sign), then one of the
 * option's units, each a factor to the option's base unit.
 */
struct unit {
	const char *suffix;
	double mult;
};

static const struct unit no_units[] = {{"", 1}, {NULL, 0}};
static const struct unit byte_units[] = {{"", 1},	 {"k", 1024},
					 {"K", 1024},	 {"m", 1 << 20},
					 {"M", 1 << 20}, {NULL, 0}};
static const struct unit ns_units[] = {{"", 1},	    {"ns", 1},	{"us", 1e3},
				       {"ms", 1e6}, {"s", 1e9}, {NULL, 0}};
static const struct unit sec_units[] = {{"", 1e9},   {"s", 1e9}, {"ms", 1e6},
					{"us", 1e3}, {"ns", 1},	 {NULL, 0}};
static const struct unit pct_units[] = {{"", 1}, {"%", 1}, {NULL, 0}};

/*
 * s in the option's base unit: a whole number if whole, within [min,
 * max]; anything else is a usage error "OPT 'S': expected WHAT", and one
 * that also names the syntax when s is no decimal at all.
 */
static double parse_number(const char *opt, const char *s,
			   const struct unit *units, bool whole, double min,
			   double max, const char *what)
{
	const struct unit *u = units;
	const char *end;
	double v;
	int ret = ik_parse_decimal(s, &v, &end);

	if (ret == -EINVAL)
		usage_error("%s '%s': expected %s; numbers are decimal, like "
			    "12, 0.5 or 2e-3 (no sign, hex, inf or nan)",
			    opt, s, what);
	while (u->suffix && strcmp(end, u->suffix))
		u++;
	if (!ret && u->suffix) {
		v *= u->mult;
		if ((!whole || v == floor(v)) && v >= min && v <= max)
			return v;
	}
	usage_error("%s '%s': expected %s", opt, s, what);
	return 0;
}

/* A whole number from min to max, nothing after it. */
static unsigned long long parse_count(const char *opt, const char *s,
				      unsigned long long min,
				      unsigned long long max)
{
	char what[80];

	snprintf(what, sizeof(what), "a whole number from %llu to %llu", min,
		 max);
	return (unsigned long long)parse_number(opt, s, no_units, true,
						(double)min, (double)max, what);
}

static size_t parse_size(const char *opt, const char *s)
{
	char what[80];

	snprintf(what, sizeof(what),
		 "a size from 1 to %u bytes (suffix k or m for KiB, MiB)",
		 IK_SIZE_MAX);
	return (size_t)parse_number(opt, s, byte_units, true, 1, IK_SIZE_MAX,
				    what);
}

/*
 * Split arg at commas into at most IK_MAX_SWEEP items and hand each to
 * item(opt, token, index, out). Empty items (",,", a leading or trailing
 * comma) and too many are usage errors naming the whole list; a bad item
 * is item()'s own usage error. Returns the count.
 */
static unsigned split_list(const char *opt, const char *arg, const char *eg,
			   void (*item)(const char *opt, const char *tok,
					unsigned i, void *out),
			   void *out)
{
	char *copy, *save = NULL, *tok;
	unsigned n = 0;

	if (!*arg || arg[0] == ',' || arg[strlen(arg) - 1] == ',' ||
	    strstr(arg, ",,"))
		usage_error("%s '%s': expected values separated by commas, "
			    "e.g. %s",
			    opt, arg, eg);
	copy = strdup(arg);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == IK_MAX_SWEEP)
			usage_error("%s '%s': at most %d values", opt, arg,
				    IK_MAX_SWEEP);
		item(opt, tok, n++, out);
	}
	free(copy);
	return n;
}

static void size_item(const char *opt, const char *tok, unsigned i, void *out)
{
	((size_t *)out)[i] = parse_size(opt, tok);
}

/* A gap in ns, with an optional ns/us/ms/s suffix, up to 10 s. */
static void gap_item(const char *opt, const char *tok, unsigned i, void *out)
{
	((uint64_t *)out)[i] = (uint64_t)parse_number(
		opt, tok, ns_units, true, 0, 10 * 1e9,
		"a whole number of ns up to 10 s, or with us/ms/s, e.g. "
		"0,10us,1ms");
}

static void server_item(const char *opt, const char *tok, unsigned i, void *out)
{
	int k;

	for (k = 0; ik_server_names[k]; k++)
		if (!strcmp(tok, ik_server_names[k])) {
			((enum ik_server *)out)[i] = (enum ik_server)k;
			return;
		}
	usage_error("%s '%s': unknown server model; allowed: thread, epoll, "
		    "io_uring",
		    opt, tok);
}

static void pairs_item(const char *opt, const char *tok, unsigned i, void *out)
{
	((unsigned *)out)[i] = (unsigned)parse_count(opt, tok, 1, IK_MAX_PAIRS);
}

/* "0-3,8": CPU numbers for --matrix, as taskset -c takes them. */
static unsigned parse_cpu_list(const char *arg, int *out)
{
	const char *p = arg;
	unsigned n = 0;

	while (*p) {
		char *end;
		long a, b;

		if (!isdigit((unsigned char)*p))
			goto bad;
		a = b = strtol(p, &end, 10);
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
				if (out[k] == (int)a)
					usage_error("--cpus '%s': CPU %ld is "
						    "listed twice; --matrix "
						    "pairs different CPUs",
						    arg, a);
			out[n++] = (int)a;
		}
		p = end;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	if (n)
		return n;
bad:
	usage_error("--cpus '%s': expected CPU numbers like 0-3,8 (at most "
		    "256)",
		    arg);
	return 0;
}

/*
 * Seconds (or with ms/us/ns) from MIN_TIME_NS to max, converted to
 * ns. A shorter time cannot be honoured: a timeout or a run ends on the
 * clock checks around whole messages, and a tcp round trip alone takes
 * tens of microseconds.
 */
#define MIN_TIME_NS 1000000 /* 1 ms */
static uint64_t parse_seconds(const char *opt, const char *s, double max)
{
	char what[120];

	snprintf(what, sizeof(what),
		 "seconds from %g to %g, or with ms/us (e.g. 0.5, 2e-3, 500ms)",
		 MIN_TIME_NS / 1e9, max);
	return (uint64_t)llround(parse_number(opt, s, sec_units, false,
					      MIN_TIME_NS, max * 1e9, what));
}

static void add_method(struct ik_config *c, const struct ik_transport_ops *m)
{
	unsigned i;

	for (i = 0; i < c->nmethods; i++)
		if (c->methods[i] == m)
			return;
	c->methods[c->nmethods++] = m;
}

static void parse_methods(struct ik_config *c, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	char names[512] = "";
	const struct ik_transport_ops *const *t;

	for (t = ik_transports; *t; t++) {
		strcat(names, (*t)->name);
		strcat(names, ", ");
	}
	strcat(names, "all");
	c->nmethods = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		const struct ik_transport_ops *m = ik_transport_find(tok);

		if (!strcmp(tok, "all")) {
			for (t = ik_transports; *t; t++)
				if (!((*t)->flags & IK_T_TEST))
					add_method(c, *t);
			continue;
		}
		if (!m)
			usage_error(
				"--method '%s': unknown method; allowed: %s",
				tok, names);
		add_method(c, m);
	}
	free(copy);
	if (!c->nmethods)
		usage_error("--method '%s': name at least one method; allowed: "
			    "%s",
			    arg, names);
}

static void parse_modes(struct ik_config *c, const char *arg)
{
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
		usage_error("--mode '%s': allowed: thread, process, both", arg);
	}
}

/*
 * arg's index in the NULL-terminated names, in the order of the enum the
 * caller casts it to; anything else is a usage error listing the names.
 */
static int parse_choice(const char *opt, const char *arg,
			const char *const *names)
{
	char allowed[128] = "";
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(arg, names[i]))
			return i;
	for (i = 0; names[i]; i++) {
		strcat(allowed, i ? ", " : "");
		strcat(allowed, names[i]);
	}
	usage_error("%s '%s': allowed: %s", opt, arg, allowed);
	return 0;
}

static const char *const wait_names[] = {"spin", "futex", "hybrid", NULL};
static const char *const format_names[] = {"table", "json", "csv", "gbench",
					   NULL};
static const char *const kernel_names[] = {"pingpong", "stream",  "call",
					   "echo",     "connect", NULL};
static const char *const gap_mode_names[] = {"spin", "sleep", NULL};

/* --pin as given: two CPUs per pair, in order (A,B for one pair). */
static bool size_given;
static int pins[2 * IK_MAX_PAIRS];
static unsigned npins;
static const char *pin_arg;

/* "A,B[,A,B...]": non-negative CPU numbers, nothing else. */
static void parse_pin(struct ik_config *c, const char *arg, bool *pin_auto)
{
	const char *p = arg;

	pin_arg = arg;
	npins = 0;
	if (!strcmp(arg, "auto")) {
		*pin_auto = true;
		c->pinned = true;
		return;
	}
	for (;;) {
		char *end;
		long v;

		if (!isdigit((unsigned char)*p) || npins == 2 * IK_MAX_PAIRS)
			goto bad;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || v > INT_MAX)
			goto bad;
		pins[npins++] = (int)v;
		p = end;
		if (!*p)
			break;
		if (*p++ != ',')
			goto bad;
	}
	c->pin[0] = pins[0];
	c->pin[1] = pins[npins > 1];
	c->pinned = true;
	return;
bad:
	usage_error("--pin '%s': expected two CPU numbers A,B as taskset "
		    "takes them (e.g. --pin 0,1; with --pairs N, 2N of them), "
		    "or auto",
		    arg);
}

static void check_pin_cpus(const struct ik_topo *tp)
{
	char allowed[256];
	unsigned i;

	ik_topo_allowed_str(tp, allowed, sizeof(allowed));
	for (i = 0; i < npins; i++) {
		int ret = ik_topo_check_cpu(tp, pins[i]);

		if (ret == -ENOENT)
			usage_error("--pin %s: CPU %d does not exist on this "
				    "machine; usable CPUs: %s",
				    pin_arg, pins[i], allowed);
		if (ret == -ENODEV)
			usage_error("--pin %s: CPU %d is offline; usable CPUs: "
				    "%s",
				    pin_arg, pins[i], allowed);
		if (ret == -EPERM)
			usage_error("--pin %s: CPU %d is outside this "
				    "process's allowed set; usable CPUs: %s",
				    pin_arg, pins[i], allowed);
	}
}

static void check_sizes(const struct ik_config *c)
{
	uint64_t mem = (uint64_t)sysconf(_SC_PHYS_PAGES) *
		       (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned i, m, z, b;

	for (z = 0; z < c->nsizes; z++) {
		/* messages are held several times over: buffers, rings */
		if ((uint64_t)c->sizes[z] * 8 > mem)
			usage_error("--size %zu: over what this machine's "
				    "memory (%llu MiB) can hold 8 times over",
				    c->sizes[z],
				    (unsigned long long)(mem >> 20));
		for (b = 0; b < c->nbuffers; b++)
			for (i = 0; i < c->nmethods; i++)
				for (m = 0; m < c->nmodes; m++) {
					struct ik_chan_params p = {
						.size = c->sizes[z],
						.buffer = c->buffers[b],
						.mode = c->modes[m]};
					size_t max = ik_transport_max_size(
						c->methods[i], &p);

					if (c->sizes[z] <= max)
						continue;
					if (c->buffers[b])
						usage_error(
							"--size %zu: method %s "
							"carries at most %zu "
							"bytes per message "
							"with --buffer %zu",
							c->sizes[z],
							c->methods[i]->name,
							max, c->buffers[b]);
					usage_error("--size %zu: method %s "
						    "carries at most %zu bytes "
						    "per message",
						    c->sizes[z],
						    c->methods[i]->name, max);
				}
	}
	for (b = 0; b < c->nbuffers; b++)
		if ((uint64_t)c->buffers[b] * 4 > mem)
			usage_error("--buffer %zu: over what this machine's "
				    "memory (%llu MiB) can hold",
				    c->buffers[b],
				    (unsigned long long)(mem >> 20));
}

static bool crew_kernel(const struct ik_config *c)
{
	return c->kernel == IK_KERNEL_ECHO || c->kernel == IK_KERNEL_CONNECT;
}

/*
 * connect over tcp: a connect() that finds the listen queue full is
 * dropped, and the kernel retries it 1, 3, 7 ... 127 s later whatever
 * --duration says (9000 clients on a backlog of 128 ran 30 to over 60
 * s here, its connect p50 the 1 s retry timer). With no more clients
 * than the queue holds, none is ever dropped. uds blocks instead, and
 * is woken as soon as there is room.
 */
static void check_backlog(const struct ik_config *c)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	unsigned i, cap = 0;
	bool tcp = false;

	for (i = 0; i < c->nmethods; i++)
		tcp |= !strcmp(c->methods[i]->name, "tcp");
	if (f) {
		if (fscanf(f, "%u", &cap) != 1)
			cap = 0;
		fclose(f);
	}
	if (!tcp || (c->clients <= c->backlog && (!cap || c->clients <= cap)))
		return;
	if (cap && c->clients > cap)
		usage_error("--clients %u: over tcp, more connects than the "
			    "listen queue holds are dropped and retried 1, 3, "
			    "7 ... s later, whatever --duration says, and "
			    "net.core.somaxconn caps any --backlog at %u; "
			    "raise it (sysctl -w net.core.somaxconn=%u) and "
			    "use --backlog %u, or at most %u clients",
			    c->clients, cap, c->clients, c->clients, cap);
	usage_error("--clients %u: over tcp, more connects than the listen "
		    "queue holds (--backlog %u) are dropped and retried 1, 3, "
		    "7 ... s later, whatever --duration says; use --backlog "
		    "%u, or at most %u clients",
		    c->clients, c->backlog, c->clients, c->backlog);
}

static void check_kernel(const struct ik_config *c)
{
	unsigned i;
	struct rlimit nofile;
	const char *what = "";
	long tasks;

	if (crew_kernel(c)) {
		const char *k =
			c->kernel == IK_KERNEL_ECHO ? "echo" : "connect";
		unsigned need = 2 * c->clients + 32;

		for (i = 0; i < c->nmethods; i++)
			if (strcmp(c->methods[i]->name, "tcp") &&
			    strcmp(c->methods[i]->name, "uds"))
				usage_error("--kernel %s: method %s has no "
					    "connections; use tcp or uds",
					    k, c->methods[i]->name);
		if (!getrlimit(RLIMIT_NOFILE, &nofile) &&
		    nofile.rlim_cur < need)
			usage_error("--clients %u: needs about %u file "
				    "descriptors and this process may open "
				    "%llu; raise it first (ulimit -n %u)",
				    c->clients, need,
				    (unsigned long long)nofile.rlim_cur, need);
		if ((tasks = ik_task_limit(&what)) >= 0 &&
		    (long)c->clients + 2 > tasks)
			usage_error("--clients %u: needs %u more threads or "
				    "processes and %s allows %ld; raise it "
				    "first",
				    c->clients, c->clients + 1, what, tasks);
		if (c->kernel == IK_KERNEL_CONNECT)
			check_backlog(c);
		if (c->matrix || c->classes || c->npairs > 1 || c->pairs[0] > 1)
			usage_error("--kernel %s: runs one server and its "
				    "clients; drop --matrix, --classes and "
				    "--pairs",
				    k);
	} else if (c->clients != 1 || c->backlog != 128) {
		usage_error("--clients and --backlog: apply to --kernel echo "
			    "and connect");
	}
	if ((c->nservers > 1 || c->servers[0]) && c->kernel != IK_KERNEL_ECHO)
		usage_error("--server: applies to --kernel echo");

	if (c->verify && c->kernel != IK_KERNEL_STREAM &&
	    c->kernel != IK_KERNEL_ECHO)
		usage_error("--verify: applies to --kernel stream (ping-pong "
			    "already checks every echo)");
	if ((c->ngaps > 1 || c->gaps[0]) && c->kernel != IK_KERNEL_PINGPONG)
		usage_error("--gap: applies to --kernel pingpong");
	if ((c->nworks > 1 || c->works[0]) && c->kernel != IK_KERNEL_CALL)
		usage_error("--work: applies to --kernel call");
	if (c->kernel == IK_KERNEL_CALL && size_given)
		usage_error("--size: --kernel call sends a %zu-byte call "
			    "(id, argument) and gets its result back",
			    2 * sizeof(uint64_t));
	if (c->kernel == IK_KERNEL_CALL && c->matrix)
		usage_error("--matrix: applies to --kernel pingpong and "
			    "stream");
	if (c->rate && c->kernel != IK_KERNEL_STREAM)
		usage_error("--rate %llu: applies to --kernel stream",
			    (unsigned long long)c->rate);
	for (i = 0; c->rate && i < c->nsizes; i++)
		if (c->sizes[i] < 16)
			usage_error("--rate with --size %zu: needs at least 16 "
				    "bytes to carry each message's due time",
				    c->sizes[i]);
	for (i = 0; c->verify && i < c->nsizes; i++)
		if (c->sizes[i] < 24)
			usage_error("--verify with --size %zu: needs at least "
				    "24 bytes (sequence, stamp, checksum)",
				    c->sizes[i]);
}

enum {
	OPT_METHOD = 256,
	OPT_MODE,
	OPT_PIN,
	OPT_WAIT,
	OPT_SIZE,
	OPT_ITERS,
	OPT_WARMUP,
	OPT_DURATION,
	OPT_TIMEOUT,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_RAW,
	OPT_KERNEL,
	OPT_VERIFY,
	OPT_BUFFER,
	OPT_RATE,
	OPT_GAP,
	OPT_PAIRS,
	OPT_CLASSES,
	OPT_MACHINE,
	OPT_MATRIX,
	OPT_MEM_NODE,
	OPT_CPUS,
	OPT_DRY_RUN,
	OPT_TOPOLOGY,
	OPT_GAP_MODE,
	OPT_WORK,
	OPT_CLIENTS,
	OPT_SERVER,
	OPT_BACKLOG,
	OPT_REPEAT,
	OPT_REPEAT_EVERY,
	OPT_SAVE_BASELINE,
	OPT_BASELINE,
	OPT_MAX_REGRESS,
	OPT_ALLOW_MISMATCH,
	OPT_APPEND,
	OPT_MKDIR,
	OPT_NORMALIZE,
	OPT_ASSERT,
	OPT_SUMMARY_MD,
	OPT_LIST,
	OPT_VERSION,
	OPT_HELP,
};

/* --max-regress 10 or 10%: a fraction, above 0 and at most 1000%. */
static double parse_percent(const char *s)
{
	const char *what = "a percentage above 0 and at most 1000, e.g. 10 "
			   "or 10%";
	double v = parse_number("--max-regress", s, pct_units, false, 0, 1000,
				what);

	if (!(v > 0))
		usage_error("--max-regress '%s': expected %s", s, what);
	return v / 100;
}

static void parse_assert(const char *s)
{
	char err[200];

	if (gate.nasserts == IK_MAX_ASSERTS)
		usage_error("--assert: at most %d assertions", IK_MAX_ASSERTS);
	if (ik_assert_parse(s, &gate.asserts[gate.nasserts], err, sizeof(err)))
		usage_error("--assert '%s': %s", s, err);
	gate.nasserts++;
}

/* An assertion's reference must name something this run measures. */
static void check_assert_side(const struct ik_config *c,
			      const struct ik_assertion *a,
			      const struct ik_assert_side *sd)
{
	unsigned i;
	bool method = false, mode = sd->mode < 0, size = !sd->size;

	if (!sd->has_ref)
		return;
	for (i = 0; i < c->nmethods; i++)
		method |= !strcmp(c->methods[i]->name, sd->method);
	for (i = 0; i < c->nmodes; i++)
		mode |= (int)c->modes[i] == sd->mode;
	for (i = 0; i < c->nsizes; i++)
		size |= c->sizes[i] == sd->size;
	if (!ik_transport_find(sd->method))
		usage_error("--assert '%s': unknown method '%s' (see --list)",
			    a->text, sd->method);
	if (!method)
		usage_error("--assert '%s': %s is not measured in this run; "
			    "add it to --method",
			    a->text, sd->method);
	if (!mode)
		usage_error("--assert '%s': that mode is not in --mode",
			    a->text);
	if (!size)
		usage_error("--assert '%s': size %zu is not in --size", a->text,
			    sd->size);
}

static void check_gate(struct ik_config *c)
{
	unsigned i;

	if ((gate.baseline || gate.save_baseline) && !gate.repeat_given)
		gate.repeat = IK_GATE_REPEATS;
	if (gate.baseline && gate.repeat < IK_MIN_REPEATS)
		usage_error("--repeat %u: a comparison with --baseline needs "
			    "at least %d repeats to tell noise from a change",
			    gate.repeat, IK_MIN_REPEATS);
	if (gate.repeat_every_ns && gate.repeat < 2)
		usage_error("--repeat-every: applies to --repeat 2 or more");
	if (gate.repeat > 1 && c->raw)
		usage_error("--raw: needs a single run; drop --repeat");
	if ((gate.baseline || gate.save_baseline || gate.nasserts ||
	     gate.summary_md) &&
	    (c->dry_run || c->machine))
		usage_error("--baseline, --save-baseline, --assert and "
			    "--summary-md need a measurement; drop --dry-run "
			    "and --machine");
	if (gate.summary_md && !gate.baseline && !gate.nasserts)
		usage_error("--summary-md %s: summarises a gate; add "
			    "--baseline or --assert",
			    gate.summary_md);
	if (gate.append && !gate.save_baseline)
		usage_error("--append: applies to --save-baseline");
	if (gate.allow_mismatch && !gate.baseline)
		usage_error("--allow-mismatch: applies to --baseline");
	if (gate.normalize) {
		bool in_run = false;

		for (i = 0; i < c->nmethods; i++)
			in_run |= !strcmp(c->methods[i]->name, gate.normalize);
		if (!gate.baseline)
			usage_error("--normalize: applies to --baseline");
		if (!in_run || c->nmethods < 2)
			usage_error("--normalize %s: needs %s and another "
				    "method in --method",
				    gate.normalize, gate.normalize);
	}
	for (i = 0; i < gate.nasserts; i++) {
		check_assert_side(c, &gate.asserts[i], &gate.asserts[i].l);
		check_assert_side(c, &gate.asserts[i], &gate.asserts[i].r);
	}
}

static const struct option long_opts[] = {
	{"method", required_argument, NULL, OPT_METHOD},
	{"mode", required_argument, NULL, OPT_MODE},
	{"pin", required_argument, NULL, OPT_PIN},
	{"wait", required_argument, NULL, OPT_WAIT},
	{"size", required_argument, NULL, OPT_SIZE},
	{"iters", required_argument, NULL, OPT_ITERS},
	{"warmup", required_argument, NULL, OPT_WARMUP},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"raw", required_argument, NULL, OPT_RAW},
	{"kernel", required_argument, NULL, OPT_KERNEL},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{"buffer", required_argument, NULL, OPT_BUFFER},
	{"rate", required_argument, NULL, OPT_RATE},
	{"gap", required_argument, NULL, OPT_GAP},
	{"pairs", required_argument, NULL, OPT_PAIRS},
	{"classes", no_argument, NULL, OPT_CLASSES},
	{"machine", no_argument, NULL, OPT_MACHINE},
	{"matrix", no_argument, NULL, OPT_MATRIX},
	{"mem-node", required_argument, NULL, OPT_MEM_NODE},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"topology", required_argument, NULL, OPT_TOPOLOGY},
	{"gap-mode", required_argument, NULL, OPT_GAP_MODE},
	{"work", required_argument, NULL, OPT_WORK},
	{"clients", required_argument, NULL, OPT_CLIENTS},
	{"server", required_argument, NULL, OPT_SERVER},
	{"backlog", required_argument, NULL, OPT_BACKLOG},
	{"repeat", required_argument, NULL, OPT_REPEAT},
	{"repeat-every", required_argument, NULL, OPT_REPEAT_EVERY},
	{"save-baseline", required_argument, NULL, OPT_SAVE_BASELINE},
	{"baseline", required_argument, NULL, OPT_BASELINE},
	{"max-regress", required_argument, NULL, OPT_MAX_REGRESS},
	{"allow-mismatch", no_argument, NULL, OPT_ALLOW_MISMATCH},
	{"append", no_argument, NULL, OPT_APPEND},
	{"mkdir", no_argument, NULL, OPT_MKDIR},
	{"normalize", required_argument, NULL, OPT_NORMALIZE},
	{"assert", required_argument, NULL, OPT_ASSERT},
	{"summary-md", required_argument, NULL, OPT_SUMMARY_MD},
	{"list", no_argument, NULL, OPT_LIST},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static void parse_args(int argc, char **argv, struct ik_config *c,
		       bool *pin_auto)
{
	int o;

	memset(c, 0, sizeof(*c));
	c->methods[0] = ik_transport_find("spsc");
	c->nmethods = 1;
	c->modes[0] = IK_MODE_THREAD;
	c->nmodes = 1;
	c->sizes[0] = 8;
	c->nsizes = 1;
	c->nbuffers = 1; /* buffers[0] = 0: each transport's default */
	c->ngaps = 1;	 /* gaps[0] = 0: back to back */
	c->nworks = 1;	 /* works[0] = 0: no busy work */
	c->clients = 1;
	c->nservers = 1; /* servers[0]: thread */
	c->backlog = 128;
	c->pairs[0] = 1;
	c->mem_node = -1;
	c->npairs = 1;
	c->gap_sleep = true;
	c->iters = DEFAULT_ITERS;
	c->warmup = DEFAULT_WARMUP;
	c->timeout_ns = DEFAULT_TIMEOUT_S * IK_NS_PER_SEC;
	c->interrupted = &interrupted;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (o) {
		case OPT_METHOD:
			parse_methods(c, optarg);
			break;
		case OPT_MODE:
			parse_modes(c, optarg);
			break;
		case OPT_PIN:
			parse_pin(c, optarg, pin_auto);
			break;
		case OPT_WAIT:
			c->wait = (enum ik_wait)parse_choice("--wait", optarg,
							     wait_names);
			break;
		case OPT_SIZE:
			size_given = true;
			c->nsizes = split_list("--size", optarg, "1000,4k,64k",
					       size_item, c->sizes);
			break;
		case OPT_MEM_NODE:
			c->mem_node =
				(int)parse_count("--mem-node", optarg, 0, 4095);
			break;
		case OPT_MATRIX:
			c->matrix = true;
			break;
		case OPT_CPUS:
			c->ncpus = parse_cpu_list(optarg, c->cpus);
			break;
		case OPT_MACHINE:
			c->machine = true;
			break;
		case OPT_CLASSES:
			c->classes = true;
			break;
		case OPT_DRY_RUN:
			c->dry_run = true;
			break;
		case OPT_TOPOLOGY:
			c->topology = optarg;
			break;
		case OPT_PAIRS:
			c->npairs = split_list("--pairs", optarg, "1,2,4",
					       pairs_item, c->pairs);
			break;
		case OPT_GAP:
			c->ngaps = split_list("--gap", optarg, "0,10us,1ms",
					      gap_item, c->gaps);
			break;
		case OPT_CLIENTS:
			c->clients = (unsigned)parse_count("--clients", optarg,
							   1, CLIENTS_MAX);
			break;
		case OPT_SERVER:
			c->nservers = split_list("--server", optarg,
						 "thread,epoll,io_uring",
						 server_item, c->servers);
			break;
		case OPT_BACKLOG:
			c->backlog = (unsigned)parse_count("--backlog", optarg,
							   1, 65535);
			break;
		case OPT_WORK:
			c->nworks = split_list("--work", optarg, "0,1us,10us",
					       gap_item, c->works);
			break;
		case OPT_GAP_MODE:
			c->gap_sleep = parse_choice("--gap-mode", optarg,
						    gap_mode_names) == 1;
			break;
		case OPT_RATE:
			c->rate = parse_count("--rate", optarg, 1, 1000000000);
			break;
		case OPT_BUFFER:
			c->nbuffers = split_list("--buffer", optarg, "4k,64k",
						 size_item, c->buffers);
			break;
		case OPT_ITERS:
			c->iters = parse_count("--iters", optarg, 1, ITERS_MAX);
			c->iters_given = true;
			break;
		case OPT_WARMUP:
			c->warmup =
				parse_count("--warmup", optarg, 0, ITERS_MAX);
			break;
		case OPT_DURATION:
			c->duration_ns =
				parse_seconds("--duration", optarg, 86400);
			break;
		case OPT_TIMEOUT:
			c->timeout_ns =
				parse_seconds("--timeout", optarg, 86400);
			break;
		case OPT_FORMAT:
			c->format = (enum ik_format)parse_choice(
				"--format", optarg, format_names);
			break;
		case OPT_OUTPUT:
			c->output = optarg;
			break;
		case OPT_RAW:
			c->raw = optarg;
			break;
		case OPT_KERNEL:
			c->kernel = (enum ik_kernel)parse_choice(
				"--kernel", optarg, kernel_names);
			break;
		case OPT_VERIFY:
			c->verify = true;
			break;
		case OPT_REPEAT:
			gate.repeat = (unsigned)parse_count("--repeat", optarg,
							    1, REPEAT_MAX);
			gate.repeat_given = true;
			break;
		case OPT_REPEAT_EVERY:
			gate.repeat_every_ns =
				parse_seconds("--repeat-every", optarg, 3600);
			break;
		case OPT_SAVE_BASELINE:
			gate.save_baseline = optarg;
			break;
		case OPT_BASELINE:
			gate.baseline = optarg;
			break;
		case OPT_MAX_REGRESS:
			gate.max_regress = parse_percent(optarg);
			break;
		case OPT_ALLOW_MISMATCH:
			gate.allow_mismatch = true;
			break;
		case OPT_MKDIR:
			mkdirs = true;
			break;
		case OPT_APPEND:
			gate.append = true;
			break;
		case OPT_NORMALIZE:
			gate.normalize = optarg;
			break;
		case OPT_ASSERT:
			parse_assert(optarg);
			break;
		case OPT_SUMMARY_MD:
			gate.summary_md = optarg;
			break;
		case OPT_LIST:
			list_methods();
			exit_printed();
		case OPT_VERSION:
			printf("ipckern %s\n", IK_VERSION);
			exit_printed();
		case OPT_HELP:
			usage(stdout);
			exit_printed();
		case ':':
			usage_error("%s needs a value (see --help)",
				    argv[optind - 1]);
			break;
		default:
			usage_error("unknown option '%s' (see --help)",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s' (see --help)",
			    argv[optind]);
	/* a stream's speed spans 1000x across methods and buffers: by
	 * default each run gets a fixed time, not a fixed count */
	if ((c->kernel == IK_KERNEL_STREAM || crew_kernel(c)) &&
	    !c->iters_given && !c->duration_ns)
		c->duration_ns = DEFAULT_STREAM_NS;
	if (c->duration_ns && !c->iters_given)
		c->iters = IK_DURATION_SAMPLE_CAP;
	if (c->duration_ns && c->duration_ns >= c->timeout_ns)
		usage_error("--duration %.1f: must be shorter than --timeout "
			    "%.1f",
			    c->duration_ns / 1e9, c->timeout_ns / 1e9);
	if (c->raw &&
	    c->nmethods * c->nmodes * c->nsizes * c->nbuffers * c->ngaps != 1)
		usage_error(
			"--raw %s: needs exactly one method, mode, size and "
			"buffer",
			c->raw);
	{
		unsigned maxp = 1, i;

		for (i = 0; i < c->npairs; i++)
			maxp = c->pairs[i] > maxp ? c->pairs[i] : maxp;
		if (maxp > 1 && c->raw)
			usage_error("--raw: needs a single pair");
		if (maxp > 1 && *pin_auto)
			usage_error(
				"--pin auto: picks one pair; --pairs %u needs "
				"%u CPU numbers in --pin (or no --pin)",
				maxp, 2 * maxp);
		if (maxp > 1 && c->pinned && npins != 2 * maxp)
			usage_error("--pin %s: --pairs %u needs %u CPU numbers "
				    "(A,B for each pair, in order)",
				    pin_arg, maxp, 2 * maxp);
		if (crew_kernel(c) && c->pinned && !*pin_auto) {
			/* the server's CPU first, then the clients' */
			memcpy(c->crew_cpus, pins, npins * sizeof(pins[0]));
			c->ncrew_cpus = npins;
		} else if (maxp == 1 && c->pinned && !*pin_auto && npins != 2)
			usage_error(
				"--pin '%s': expected two CPU numbers A,B "
				"as taskset takes them (e.g. --pin 0,1), or "
				"auto",
				pin_arg);
	}
	if (c->ncpus && !c->matrix)
		usage_error("--cpus: applies to --matrix");
	if (c->matrix && (c->nmethods != 1 || c->nmodes != 1))
		usage_error("--matrix: measures one method in one mode; pick "
			    "one --method");
	if (c->matrix &&
	    (c->pinned || c->classes || c->npairs > 1 || c->pairs[0] > 1))
		usage_error("--matrix picks its own pairs; drop --pin, "
			    "--classes and --pairs");
	if (c->dry_run && !c->classes)
		usage_error("--dry-run: applies to --classes");
	if (c->topology && !c->dry_run)
		usage_error("--topology %s: describes another machine, so it "
			    "only goes with --classes --dry-run",
			    c->topology);
	if (c->classes && c->pinned)
		usage_error("--classes picks its own pairs; drop --pin");
	if (c->classes && (c->npairs > 1 || c->pairs[0] > 1))
		usage_error("--classes runs one pair at a time; drop --pairs");
	check_gate(c);
	c->size = c->sizes[0];
	c->buffer = c->buffers[0];
	c->gap_ns = c->gaps[0];
	check_sizes(c);
	check_kernel(c);
}

/*
 * Every output is checked before anything is measured: a run of minutes
 * must not end in "No such file or directory". Two outputs on one file,
 * or an output that is one of the run's inputs, is a usage error too.
 */
static void check_outputs(const struct ik_config *c)
{
	const char *opt[] = {"--output", "--raw", "--summary-md",
			     "--save-baseline"};
	const char *path[] = {c->output, c->raw, gate.summary_md,
			      gate.save_baseline};
	const char *in_opt[] = {"--baseline", "--topology", "HWLOC_XMLFILE"};
	const char *in[] = {gate.baseline, c->topology,
			    getenv("HWLOC_XMLFILE")};
	struct ik_output out[IK_ARRAY_SIZE(opt)];
	unsigned i, j, n = 0;
	char why[512];

	for (i = 0; i < IK_ARRAY_SIZE(opt); i++) {
		if (!path[i])
			continue;
		if (ik_output_check(&out[n], opt[i], path[i], mkdirs, why,
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
	struct ik_config cfg;
	bool pin_auto;
	struct ik_topo topo;
	struct ik_timer timer;
	struct ik_machine machine;
	struct ik_class_pair classes[IK_NCLASSES];
	struct ik_baseline baseline, appended;
	struct ik_result floor;
	struct ik_result *results;
	size_t cells; /* results of one repeat */
	unsigned n;   /* results measured, per repeat */
	struct ik_report rep;
	char note[8][200];
};

static void run_free(struct run *r)
{
	size_t i;

	for (i = 0; r->results && i < r->cells * gate.repeat; i++)
		ik_result_free(&r->results[i]);
	ik_result_free(&r->floor);
	free(r->results);
	ik_topo_free(&r->topo);
	ik_baseline_free(&r->baseline);
	ik_baseline_free(&r->appended);
}

/* A malformed baseline costs nothing: read them first (exit 2). */
static void load_baselines(struct run *r)
{
	char err[300];

	if (gate.baseline &&
	    ik_baseline_load(gate.baseline, &r->baseline, err, sizeof(err)))
		usage_error("--baseline %s: %s", gate.baseline, err);
	if (gate.append && !access(gate.save_baseline, F_OK) &&
	    ik_baseline_load(gate.save_baseline, &r->appended, err,
			     sizeof(err)))
		usage_error("--save-baseline %s --append: %s",
			    gate.save_baseline, err);
}

/* --matrix: its CPUs, every allowed one by default, each usable. */
static void matrix_cpus(struct ik_config *cfg, const struct ik_topo *topo)
{
	char allowed[256];
	unsigned i;
	int cpu;

	ik_topo_allowed_str(topo, allowed, sizeof(allowed));
	if (!cfg->ncpus)
		hwloc_bitmap_foreach_begin(cpu, topo->allowed)
		{
			if (cfg->ncpus < IK_ARRAY_SIZE(cfg->cpus))
				cfg->cpus[cfg->ncpus++] = cpu;
		}
	hwloc_bitmap_foreach_end();
	for (i = 0; i < cfg->ncpus; i++)
		if (ik_topo_check_cpu(topo, cfg->cpus[i]))
			usage_error("--cpus: CPU %d is not usable here; "
				    "usable CPUs: %s",
				    cfg->cpus[i], allowed);
	if (cfg->ncpus < 2)
		usage_error("--matrix: needs at least two CPUs; usable: %s",
			    allowed);
}

static void mem_node(const struct ik_config *cfg)
{
	if (numa_available() < 0 || cfg->mem_node > numa_max_node() ||
	    !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)cfg->mem_node))
		usage_error(
			"--mem-node %d: no such NUMA node here; nodes: 0-%d",
			cfg->mem_node,
			numa_available() < 0 ? 0 : numa_max_node());
	ik_shm_set_node(cfg->mem_node);
}

/*
 * The machine the run is planned for: its topology (a file,
 * HWLOC_XMLFILE or HWLOC_SYNTHETIC: checked, exit 2), the --classes
 * pairs, the --matrix CPUs, the --mem-node. Returns 0 or an exit code.
 */
static int load_machine(struct run *r)
{
	struct ik_config *cfg = &r->cfg;
	char why[800];
	int ret = ik_topo_load_why(&r->topo, cfg->topology, why, sizeof(why));

	if (ret == -EINVAL)
		usage_error("%s%s", cfg->topology ? "--topology " : "", why);
	if (ret) {
		fprintf(stderr, "ipckern: %s\n", why);
		return IK_EXIT_RUNTIME;
	}
	if (!r->topo.this_system && !(cfg->classes && cfg->dry_run) &&
	    !cfg->machine)
		usage_error("the topology is not this machine's "
			    "(HWLOC_SYNTHETIC, HWLOC_XMLFILE or --topology): "
			    "nothing can be pinned on it; use --classes "
			    "--dry-run");
	if (cfg->classes) {
		if (ik_topo_classes(&r->topo, r->classes) == -ENOMEM) {
			fprintf(stderr, "ipckern: --classes: out of memory\n");
			return IK_EXIT_RUNTIME;
		}
		r->rep.classes = r->classes;
		r->rep.topology = cfg->topology;
	}
	if (cfg->matrix)
		matrix_cpus(cfg, &r->topo);
	if (cfg->mem_node >= 0)
		mem_node(cfg);
	return 0;
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
static int describe(struct run *r)
{
	const struct ik_config *cfg = &r->cfg;
	const char *out = cfg->output ? cfg->output : "-";
	int ret;

	r->rep.cfg = cfg;
	if (cfg->machine) {
		char summary[1024];
		struct machine_job j = {&r->rep, summary};

		ik_timer_init(&r->timer);
		ik_machine_read(&r->machine, "");
		ik_topo_summary(&r->topo, summary, sizeof(summary));
		r->rep.machine = &r->machine;
		r->rep.timer = &r->timer;
		ret = ik_output_write(out, mkdirs, machine_fn, &j);
		if (ret)
			fprintf(stderr, "ipckern: writing %s: %s\n",
				cfg->output ? cfg->output : "the description",
				ik_cli_out_error(-ret));
	} else {
		ret = ik_report_write_file(&r->rep, out, mkdirs);
		if (ret)
			fprintf(stderr, "ipckern: writing %s: %s\n",
				cfg->output ? cfg->output : "the report",
				ik_cli_out_error(-ret));
	}
	return ret ? IK_EXIT_RUNTIME : 0;
}

/* --pin auto's pair, and every pinned CPU usable here. */
static int resolve_pins(struct run *r)
{
	struct ik_config *cfg = &r->cfg;

	if (r->pin_auto && ik_topo_default_pair(&r->topo, cfg->pin)) {
		fprintf(stderr, "ipckern: --pin auto: no usable CPU found\n");
		return IK_EXIT_RUNTIME;
	}
	if (cfg->pinned)
		check_pin_cpus(&r->topo);
	if (r->pin_auto && crew_kernel(cfg)) {
		cfg->crew_cpus[0] = cfg->pin[0];
		cfg->crew_cpus[1] = cfg->pin[1];
		cfg->ncrew_cpus = 2;
	}
	return 0;
}

/*
 * The machine and configuration can be checked against the baselines
 * before running (exit 2); each pair's relation only after.
 */
static void check_baselines(struct run *r)
{
	struct ik_report pre = {.cfg = &r->cfg, .machine = &r->machine};
	char why[2048];
	unsigned d;

	if (r->appended.ncells &&
	    (d = ik_baseline_mismatch(&r->appended, &pre, why, sizeof(why))))
		usage_error("--save-baseline %s --append: measured "
			    "differently (%u difference%s): %s",
			    gate.save_baseline, d, d == 1 ? "" : "s", why);
	if (gate.baseline && !gate.allow_mismatch &&
	    (d = ik_baseline_mismatch(&r->baseline, &pre, why, sizeof(why))))
		usage_error("--baseline %s: measured differently (%u "
			    "difference%s): %s; --allow-mismatch "
			    "compares anyway",
			    gate.baseline, d, d == 1 ? "" : "s", why);
}

/* Room for every repeat of every cell; 0 or -ENOMEM. */
static int alloc_results(struct run *r)
{
	const struct ik_config *cfg = &r->cfg;
	unsigned i, rows;

	for (i = 0, rows = 0; i < cfg->npairs; i++)
		rows += cfg->pairs[i] == 1 ? 1 : cfg->pairs[i] + 1;
	if (cfg->classes)
		rows = IK_NCLASSES;
	if (cfg->matrix)
		rows = cfg->ncpus * cfg->ncpus;
	r->cells = (size_t)cfg->nmethods * cfg->nsizes * cfg->nbuffers *
		   cfg->ngaps * cfg->nworks * cfg->nservers * cfg->nmodes *
		   rows;
	r->results = calloc(r->cells * gate.repeat, sizeof(*r->results));
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

/* What the report says about how the peers were placed, and the noise
 * warnings (each also a line on stderr). */
static void add_notes(struct run *r)
{
	const struct ik_config *cfg = &r->cfg;
	unsigned i, w, k, maxp = 1,
			  cpus = (unsigned)hwloc_bitmap_weight(r->topo.allowed);
	char warn[4][200];

	if (!cfg->pinned)
		add_note(r, "unpinned: the scheduler places the peers and may "
			    "move them; use --pin A,B for a stated pair");
	else if (cfg->pin[0] == cfg->pin[1])
		add_note(r,
			 "both peers on CPU %d: this measures the scheduler "
			 "hand-off; spinning methods yield on every poll",
			 cfg->pin[0]);
	for (i = 0; i < cfg->npairs; i++)
		maxp = cfg->pairs[i] > maxp ? cfg->pairs[i] : maxp;
	if (2 * maxp > cpus)
		add_note(r,
			 "--pairs %u puts %u peers on %u usable CPUs: "
			 "peers share CPUs, so pairs compete for time",
			 maxp, 2 * maxp, cpus);
	if (cfg->pinned)
		ik_cli_sibling_warnings(cfg, &r->topo, r->note, &r->rep);
	k = ik_machine_warnings(&r->machine, cfg->pin, cfg->pinned ? 2 : 0,
				warn, 4);
	for (w = 0; w < k && r->rep.nnotes < IK_ARRAY_SIZE(r->rep.notes); w++) {
		fprintf(stderr, "ipckern: warning: %s\n", warn[w]);
		add_note(r, "%s", warn[w]);
	}
}

/*
 * The floor first, on the same pair: what the loop itself costs with
 * nothing but one word to bounce. Then every repeat of the grid,
 * repeats outermost so each cell's runs spread over the whole time.
 * Returns whether anything failed.
 */
static bool measure_all(struct run *r)
{
	const struct ik_config *cfg = &r->cfg;
	uint64_t t_start;
	unsigned rp, nrep = 0;
	bool failed = false;

	if (ik_cli_floor_applies(cfg)) {
		if (!ik_cli_measure_floor(cfg, &r->topo, &r->timer, &r->floor))
			r->rep.floor = &r->floor;
		else
			add_note(r, "floor not measured: %.150s",
				 r->floor.errmsg);
	}
	t_start = ik_clock_ns();
	for (rp = 0; rp < gate.repeat && !interrupted && !failed; rp++) {
		unsigned got;

		/* --repeat-every: sample the machine over time, not at one
		 * moment (not a synchronisation: nothing waits for this) */
		while (rp && !interrupted &&
		       ik_clock_ns() - t_start < rp * gate.repeat_every_ns) {
			uint64_t left = rp * gate.repeat_every_ns -
					(ik_clock_ns() - t_start);
			struct timespec ts = {
				.tv_sec = (time_t)(left / IK_NS_PER_SEC),
				.tv_nsec = (long)(left % IK_NS_PER_SEC)};

			nanosleep(&ts, NULL);
		}
		if (interrupted)
			break;
		got = ik_cli_run_grid(cfg, pins, r->classes, &r->topo,
				      &r->timer, &r->results[rp * r->cells],
				      &failed);
		if (rp && got != r->n && !interrupted) {
			fprintf(stderr,
				"ipckern: repeat %u measured %u cells, the "
				"first %u\n",
				rp + 1, got, r->n);
			failed = true;
		}
		r->n = got;
		nrep++;
	}
	if (!interrupted && !failed &&
	    ik_cli_fold_repeats(r->results, r->n, nrep, r->cells)) {
		fprintf(stderr, "ipckern: out of memory\n");
		failed = true;
	}
	return failed;
}

/* --save-baseline: the results as JSON, after --append's earlier runs. */
static bool save_baseline(struct run *r)
{
	struct ik_config jc = r->cfg;
	struct ik_report jr = r->rep;
	int ret;

	jc.format = IK_FMT_JSON;
	jr.cfg = &jc;
	/* --append: earlier runs' repeats first, then this run's */
	ret = gate.append ? ik_baseline_prepend(&r->appended, r->results, r->n)
			  : 0;
	if (!ret)
		ret = ik_report_write_file(&jr, gate.save_baseline, mkdirs);
	if (ret)
		fprintf(stderr, "ipckern: --save-baseline %s: %s\n",
			gate.save_baseline, ik_cli_out_error(-ret));
	return ret != 0;
}

/*
 * The report, the gate, the baseline and the raw samples. Returns the
 * exit code: the gate's, unless something failed.
 */
static int write_outputs(struct run *r, bool failed)
{
	const struct ik_config *cfg = &r->cfg;
	int ret, code = 0;

	ret = ik_report_write_file(&r->rep, cfg->output ? cfg->output : "-",
				   mkdirs);
	if (ret) {
		fprintf(stderr, "ipckern: writing %s: %s\n",
			cfg->output ? cfg->output : "the report",
			ik_cli_out_error(-ret));
		failed = true;
	}
	if ((gate.baseline || gate.nasserts) && !failed)
		code = ik_cli_run_gate(
			&gate, mkdirs, &r->rep,
			gate.baseline ? &r->baseline : NULL,
			cfg->format != IK_FMT_TABLE && !cfg->output ? stderr
								    : stdout);
	if (gate.save_baseline && !failed)
		failed |= save_baseline(r);
	if (cfg->raw && r->n == 1 && !r->results[0].err) {
		ret = ik_raw_write_file(&r->results[0], cfg->raw, mkdirs);
		if (ret) {
			fprintf(stderr, "ipckern: --raw %s: %s\n", cfg->raw,
				ik_cli_out_error(-ret));
			failed = true;
		}
	}
	return failed ? IK_EXIT_RUNTIME : code;
}

/* One run, start to end: plan, check, measure, report, gate. */
static int run(int argc, char **argv, struct run *r)
{
	struct ik_config *cfg = &r->cfg;
	bool failed;
	int code;

	parse_args(argc, argv, cfg, &r->pin_auto);
	check_outputs(cfg);
	load_baselines(r);
	if ((code = load_machine(r)))
		return code;
	if (cfg->machine || (cfg->classes && cfg->dry_run))
		return describe(r);
	if ((code = resolve_pins(r)))
		return code;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	ik_timer_init(&r->timer);
	ik_machine_read(&r->machine, "");
	check_baselines(r);
	if (alloc_results(r)) {
		fprintf(stderr, "ipckern: out of memory\n");
		return IK_EXIT_RUNTIME;
	}
	add_notes(r);
	failed = measure_all(r);
	r->rep.cfg = cfg;
	r->rep.machine = &r->machine;
	r->rep.timer = &r->timer;
	r->rep.results = r->results;
	r->rep.nresults = r->n;
	if (interrupted) {
		fprintf(stderr, "ipckern: interrupted; nothing written\n");
		return IK_EXIT_RUNTIME;
	}
	return write_outputs(r, failed);
}

int main(int argc, char **argv)
{
	static struct run r; /* 3 KB of config and the notes: off the stack */
	int code;

	/* a closed pipe on stdout is an error we report (EPIPE), not a
	 * silent death; the peers ignore SIGPIPE for their sockets too */
	signal(SIGPIPE, SIG_IGN);
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
