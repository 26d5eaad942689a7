/* SPDX-License-Identifier: MIT */
/*
 * The command line as a user meets it: every bad value gets exit 2 and
 * one line on stderr naming it, and writes no output file; a good run
 * writes what it says; a failing peer ends the run with exit 3 and
 * leaves no process behind.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <numa.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef IK_BIN
#error "IK_BIN: path of the ipckern binary, set by tests/CMakeLists.txt"
#endif

struct out {
	int code;
	char err[4096];
	char *stdout_text;
};

/* Run ipckern with argv (NULL-terminated), env extra "K=V" or NULL. */
static struct out run_env(const char *env, const char *const *args,
			  int only_cpu)
{
	int ep[2], op[2];
	struct out o = {0};
	size_t cap = 1 << 16, len = 0;
	ssize_t n;
	int st;
	pid_t pid;

	cr_assert_eq(pipe(ep), 0);
	cr_assert_eq(pipe(op), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		const char *argv[64] = {IK_BIN};
		int i;

		for (i = 0; args[i]; i++)
			argv[i + 1] = args[i];
		argv[i + 1] = NULL;
		dup2(ep[1], 2);
		dup2(op[1], 1);
		if (env)
			putenv((char *)env);
		if (only_cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(only_cpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		execv(IK_BIN, (char *const *)argv);
		_exit(127);
	}
	close(ep[1]);
	close(op[1]);
	o.stdout_text = malloc(cap);
	while ((n = read(op[0], o.stdout_text + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096)
			o.stdout_text = realloc(o.stdout_text, cap *= 2);
	}
	o.stdout_text[len] = 0;
	len = 0;
	while ((n = read(ep[0], o.err + len, sizeof(o.err) - len - 1)) > 0)
		len += (size_t)n;
	o.err[len] = 0;
	close(ep[0]);
	close(op[0]);
	waitpid(pid, &st, 0);
	o.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return o;
}

static struct out run(const char *const *args)
{
	return run_env(NULL, args, -1);
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* exit 2, one line on stderr that names the bad value */
static void expect_usage_error(const char *const *args, const char *names)
{
	struct out o = run(args);

	cr_expect_eq(o.code, 2, "%s: exit %d, stderr: %s", args[1], o.code,
		     o.err);
	cr_expect_eq(lines(o.err), 1, "one line on stderr, got: %s", o.err);
	cr_expect(strstr(o.err, names) != NULL, "stderr should name '%s': %s",
		  names, o.err);
	free(o.stdout_text);
}

#define BAD(names, ...)                                                        \
	expect_usage_error((const char *const[]){__VA_ARGS__, NULL}, names)

Test(cli, unknown_method_is_named_with_the_allowed_ones)
{
	BAD("nope", "--method", "nope");
	BAD("allowed: line, spsc", "--method", "nope");
	BAD("x", "--method", "spsc,x");
}

Test(cli, malformed_pins_are_refused)
{
	BAD("'0,'", "--pin", "0,");
	BAD("'a,b'", "--pin", "a,b");
	BAD("'-1,2'", "--pin", "-1,2");
	BAD("'0,1,2'", "--pin", "0,1,2");
	BAD("','", "--pin", ",");
	BAD("'1'", "--pin", "1");
}

Test(cli, a_cpu_that_does_not_exist_is_refused)
{
	BAD("CPU 4096 does not exist", "--pin", "0,4096");
	BAD("CPU 99999 does not exist", "--pin", "99999,0");
}

Test(cli, a_cpu_outside_the_allowed_set_is_refused)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	struct out o;

	if (n < 2)
		cr_skip_test("needs two CPUs");
	/* like taskset -c 0 ipckern --pin 0,1 */
	o = run_env(NULL, (const char *const[]){"--pin", "0,1", NULL}, 0);
	cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "CPU 1 is outside") != NULL, "%s", o.err);
	free(o.stdout_text);
}

Test(cli, bad_counts_are_refused)
{
	BAD("'0'", "--iters", "0");
	BAD("'-5'", "--iters", "-5");
	BAD("'99999999999999999999999'", "--iters", "99999999999999999999999");
	BAD("'12x'", "--iters", "12x");
	BAD("'-1'", "--warmup", "-1");
	BAD("'0'", "--duration", "0");
	BAD("'-1'", "--timeout", "-1");
	BAD("'nan'", "--timeout", "nan");
}

Test(cli, bad_sizes_are_refused)
{
	BAD("'0'", "--size", "0");
	BAD("'65m'", "--size", "65m");
	BAD("'1x'", "--size", "1x");
	BAD("'-8'", "--size", "-8");
	BAD("mq carries at most", "--method", "mq", "--size", "1m");
	BAD("uds-dgram carries at most", "--method", "uds-dgram", "--size",
	    "65537");
}

Test(cli, unknown_choices_are_refused)
{
	BAD("'sleepy'", "--wait", "sleepy");
	BAD("'fiber'", "--mode", "fiber");
	BAD("'xml'", "--format", "xml");
	BAD("'stream2'", "--kernel", "stream2");
	BAD("--bogus", "--bogus");
	BAD("--raw", "--method", "pipe,uds", "--raw", "/tmp/x");
}

static json_t *json_run(const char *const *args, struct out *o);

Test(cli, stream_refuses_what_cannot_stream)
{
	BAD("--size 8: needs at least 24", "--kernel", "stream", "--verify",
	    "--size", "8");
	BAD("--verify: applies to --kernel stream", "--verify");
	BAD("'0'", "--kernel", "stream", "--rate", "0");
	BAD("'99999999999'", "--kernel", "stream", "--rate", "99999999999");
	BAD("--rate 1000: applies to --kernel stream", "--rate", "1000");
	BAD("needs at least 16 bytes", "--kernel", "stream", "--rate", "1000",
	    "--size", "8");
}

Test(cli, stream_reports_throughput_and_verified_delivery, .timeout = 60)
{
	struct out o;
	json_t *r = json_run(
		(const char *const[]){"--kernel", "stream", "--method", "uds",
				      "--iters", "5000", "--size", "100",
				      "--verify", "--format", "json", NULL},
		&o);
	json_t *x = json_array_get(json_object_get(r, "results"), 0);
	json_t *st = json_object_get(x, "stream");

	cr_assert_not_null(st);
	cr_expect_eq(json_integer_value(json_object_get(st, "messages")), 5000);
	cr_expect(json_real_value(json_object_get(st, "messages_per_sec")) > 0);
	cr_expect_str_eq(json_string_value(json_object_get(
				 json_object_get(r, "config"), "kernel")),
			 "stream");
	json_decref(r);
	free(o.stdout_text);
}

Test(cli, bad_lists_and_buffers_are_refused)
{
	BAD("'1,,2'", "--size", "1,,2");
	BAD("'4k,'", "--size", "4k,");
	BAD("'0'", "--buffer", "0");
	BAD("'x'", "--buffer", "x");
	BAD("mq carries at most 100 bytes per message with --buffer 100",
	    "--method", "mq", "--size", "200", "--buffer", "100");
	BAD("uds-dgram carries at most 1024", "--method", "uds-dgram", "--size",
	    "2000", "--buffer", "1k");
}

Test(cli, size_and_buffer_lists_sweep_their_product, .timeout = 60)
{
	struct out o = run((const char *const[]){
		"--kernel", "stream", "--method", "pipe,uds", "--size",
		"1000,4k", "--buffer", "16k,64k", "--iters", "300", "--format",
		"csv", NULL});
	static const char *const rows[] = {
		"pipe,thread,1000,16384,", "pipe,thread,1000,65536,",
		"pipe,thread,4096,16384,", "pipe,thread,4096,65536,",
		"uds,thread,1000,16384,",  "uds,thread,4096,65536,"};

	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect_eq(lines(o.stdout_text), 9, "%s", o.stdout_text);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect(strstr(o.stdout_text, rows[i]) != NULL, "no row %s",
			  rows[i]);
	free(o.stdout_text);
}

Test(cli, bad_gaps_are_refused)
{
	BAD("'1x'", "--gap", "1x");
	BAD("'11000ms'", "--gap", "11000ms");
	BAD("'5,'", "--gap", "5,");
	BAD("'nap'", "--gap-mode", "nap");
	BAD("--gap: applies to --kernel pingpong", "--kernel", "stream",
	    "--gap", "10us");
}

Test(cli, gaps_sweep_and_time_only_the_trip, .timeout = 60)
{
	struct out o = run((const char *const[]){
		"--method", "pipe", "--gap", "0,100us", "--gap-mode", "spin",
		"--iters", "100", "--format", "csv", NULL});

	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect_eq(lines(o.stdout_text), 3, "%s", o.stdout_text);
	cr_expect(strstr(o.stdout_text, ",0,ok,") != NULL, "%s", o.stdout_text);
	cr_expect(strstr(o.stdout_text, ",100000,ok,") != NULL, "%s",
		  o.stdout_text);
	free(o.stdout_text);
}

Test(cli, bad_pairs_are_refused)
{
	BAD("'0'", "--pairs", "0");
	BAD("'65'", "--pairs", "65");
	BAD("--pairs 2 needs 4 CPU numbers", "--pairs", "2", "--pin", "0,1");
	BAD("--pin auto: picks one pair", "--pairs", "1,2", "--pin", "auto");
}

Test(cli, pairs_run_together_and_add_a_sum_row, .timeout = 60)
{
	static const char *const modes[] = {"thread", "process"};

	for (int m = 0; m < 2; m++) {
		struct out o = run((const char *const[]){
			"--kernel", "stream", "--method", "pipe", "--mode",
			modes[m], "--pairs", "3", "--iters", "2000", "--size",
			"64", "--verify", "--format", "json", NULL});
		json_error_t e;
		json_t *r, *res;

		cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
		r = json_loads(o.stdout_text, 0, &e);
		cr_assert_not_null(r, "%s", e.text);
		res = json_object_get(r, "results");
		cr_assert_eq(json_array_size(res), 4);
		for (size_t i = 0; i < 3; i++)
			cr_expect_eq(
				json_integer_value(json_object_get(
					json_object_get(json_array_get(res, i),
							"stream"),
					"messages")),
				2000);
		cr_expect_str_eq(
			json_string_value(json_object_get(
				json_array_get(res, 3), "pair_number")),
			"sum");
		cr_expect_eq(json_integer_value(json_object_get(
				     json_object_get(json_array_get(res, 3),
						     "stream"),
				     "messages")),
			     6000);
		cr_expect(strstr(o.stdout_text, "peers share CPUs") != NULL ||
			  sysconf(_SC_NPROCESSORS_ONLN) >= 6);
		json_decref(r);
		free(o.stdout_text);
	}
}

static json_t *class_of(json_t *classes, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(
		classes, i,
		c) if (!strcmp(json_string_value(json_object_get(c, "class")),
			       name)) return c;
	return NULL;
}

static void expect_class(json_t *classes, const char *name, int a, int b)
{
	json_t *c = class_of(classes, name);
	json_t *cpus = json_object_get(c, "cpus");

	cr_assert_not_null(c, "no class %s", name);
	if (a < 0) {
		cr_expect(json_is_false(json_object_get(c, "present")),
			  "%s should be absent", name);
		return;
	}
	cr_expect(json_is_true(json_object_get(c, "present")), "%s", name);
	cr_expect_eq(json_integer_value(json_array_get(cpus, 0)), a, "%s",
		     name);
	cr_expect_eq(json_integer_value(json_array_get(cpus, 1)), b, "%s",
		     name);
}

Test(cli, xeon_xml_classes_are_smt_0_4_and_shared_l3_0_1)
{
	struct out o;
	json_t *r =
		json_run((const char *const[]){"--topology",
					       IK_TESTDATA "/xeon-e5-1620.xml",
					       "--classes", "--dry-run",
					       "--format", "json", NULL},
			 &o);
	json_t *c = json_object_get(r, "classes");

	expect_class(c, "same-pu", 0, 0);
	expect_class(c, "smt", 0, 4);
	expect_class(c, "shared-l3", 0, 1);
	expect_class(c, "shared-l2", -1, -1);
	expect_class(c, "cross-package", -1, -1);
	expect_class(c, "cross-numa", -1, -1);
	json_decref(r);
	free(o.stdout_text);
}

Test(cli, two_socket_xml_has_cross_package_and_cross_numa_pairs)
{
	struct out o;
	json_t *r =
		json_run((const char *const[]){"--topology",
					       IK_TESTDATA "/two-socket.xml",
					       "--classes", "--dry-run",
					       "--format", "json", NULL},
			 &o);
	json_t *c = json_object_get(r, "classes");

	expect_class(c, "smt", 0, 1);
	expect_class(c, "cross-package", 0, 16);
	expect_class(c, "cross-numa", 0, 16);
	json_decref(r);
	free(o.stdout_text);
}

static json_t *xml_classes(const char *file, struct out *o)
{
	return json_run((const char *const[]){"--topology", file, "--classes",
					      "--dry-run", "--format", "json",
					      NULL},
			o);
}

Test(cli, disallowed_cpus_are_never_chosen)
{
	struct out o;
	json_t *r = xml_classes(IK_TESTDATA "/xeon-cpu0-disallowed.xml", &o);
	json_t *c = json_object_get(r, "classes");

	expect_class(c, "same-pu", 1, 1);
	expect_class(c, "smt", 1, 5);
	expect_class(c, "shared-l3", 1, 2);
	json_decref(r);
	free(o.stdout_text);
}

Test(cli, dies_in_a_package_and_machines_without_l3_classify)
{
	struct out o;
	json_t *r = xml_classes(IK_TESTDATA "/dies.xml", &o);
	json_t *c = json_object_get(r, "classes");

	expect_class(c, "shared-l3", 0, 1);
	expect_class(c, "same-package", 0, 2);
	expect_class(c, "cross-package", 0, 4);
	json_decref(r);
	free(o.stdout_text);
	r = xml_classes(IK_TESTDATA "/no-l3.xml", &o);
	c = json_object_get(r, "classes");
	expect_class(c, "shared-l2", 0, 1);
	expect_class(c, "shared-l3", -1, -1);
	expect_class(c, "same-package", 0, 2);
	json_decref(r);
	free(o.stdout_text);
}

Test(cli, a_synthetic_topology_in_the_environment_only_dry_runs)
{
	struct out o =
		run_env("HWLOC_SYNTHETIC=pack:1 core:4 pu:2",
			(const char *const[]){"--method", "pipe", NULL}, -1);

	cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "not this machine's") != NULL, "%s", o.err);
	free(o.stdout_text);
	o = run_env("HWLOC_SYNTHETIC=pack:1 core:4 pu:2",
		    (const char *const[]){"--classes", "--dry-run", "--format",
					  "csv", NULL},
		    -1);
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "shared-l3,0,") ||
			  strstr(o.stdout_text, "same-package,1,0,1"),
		  "%s", o.stdout_text);
	free(o.stdout_text);
}

Test(cli, bad_topologies_and_class_options_are_refused)
{
	BAD("cannot open it", "--topology", "/nonexistent/x.xml", "--classes",
	    "--dry-run");
	BAD("not an hwloc XML topology", "--topology",
	    IK_TESTDATA "/not-a-topology.xml", "--classes", "--dry-run");
	BAD("only goes with --classes --dry-run", "--topology",
	    IK_TESTDATA "/xeon-e5-1620.xml");
	BAD("--dry-run: applies to --classes", "--dry-run");
	BAD("drop --pin", "--classes", "--pin", "0,1");
}

Test(cli, classes_run_each_present_class, .timeout = 60)
{
	struct out o;
	json_t *r = json_run((const char *const[]){"--classes", "--method",
						   "pipe", "--iters", "300",
						   "--format", "json", NULL},
			     &o);
	json_t *res = json_object_get(r, "results"), *x;
	size_t i, present = 0;

	json_array_foreach(json_object_get(r, "classes"), i, x) present +=
		json_is_true(json_object_get(x, "present"));
	cr_expect_eq(json_array_size(res), present);
	json_array_foreach(res, i, x)
		cr_expect_not_null(json_object_get(x, "class"));
	json_decref(r);
	free(o.stdout_text);
}

Test(cli, matrix_covers_every_ordered_pair, .timeout = 60)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	struct out o;
	json_t *r, *m, *grid;
	size_t i, j;

	if (n < 2)
		cr_skip_test("needs two CPUs");
	r = json_run((const char *const[]){"--matrix", "--method", "line",
					   "--cpus", "0-1", "--iters", "300",
					   "--format", "json", NULL},
		     &o);
	m = json_object_get(r, "matrix");
	grid = json_object_get(m, "p50_ns");
	cr_assert_eq(json_array_size(json_object_get(m, "cpus")), 2);
	cr_assert_eq(json_array_size(json_object_get(r, "results")), 2);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			json_t *v = json_array_get(json_array_get(grid, i), j);

			cr_expect(i == j ? json_is_null(v)
					 : json_integer_value(v) > 0,
				  "cell %zu,%zu", i, j);
		}
	cr_expect(json_real_value(json_object_get(m, "max_asymmetry")) >= 1.0);
	json_decref(r);
	free(o.stdout_text);
}

Test(cli, bad_matrix_options_are_refused)
{
	BAD("pick one --method", "--matrix", "--method", "pipe,line");
	BAD("CPU 99999 is not usable", "--matrix", "--cpus", "0,99999");
	BAD("'0-'", "--matrix", "--cpus", "0-");
	BAD("--cpus: applies to --matrix", "--cpus", "0-1");
	BAD("drop --pin", "--matrix", "--pin", "0,1");
}

Test(cli, mem_node_places_and_reports_the_pages, .timeout = 60)
{
	struct out o;
	json_t *r, *mem;

	if (numa_available() < 0)
		cr_skip_test("no NUMA support (libnuma) here");
	r = json_run((const char *const[]){"--mem-node", "0", "--method",
					   "pipe,spsc", "--iters", "200",
					   "--format", "json", NULL},
		     &o);
	mem = json_object_get(json_array_get(json_object_get(r, "results"), 1),
			      "memory");
	cr_expect_eq(json_integer_value(json_object_get(mem, "node_asked")), 0);
	cr_expect_eq(json_integer_value(json_object_get(mem, "pages_on_node")),
		     0);
	json_decref(r);
	free(o.stdout_text);
	BAD("--mem-node 4095: no such NUMA node", "--mem-node", "4095");
	BAD("'x'", "--mem-node", "x");
}

Test(cli, a_refused_run_writes_no_output_file)
{
	char path[] = "/tmp/ipckern-cli-XXXXXX";
	int fd = mkstemp(path);
	struct stat sb;

	close(fd);
	unlink(path);
	BAD("nope", "--method", "nope", "--output", path);
	cr_expect_neq(stat(path, &sb), 0, "%s must not exist", path);
}

static json_t *json_run(const char *const *args, struct out *o)
{
	json_error_t e;
	json_t *root;

	*o = run(args);
	cr_assert_eq(o->code, 0, "exit %d: %s", o->code, o->err);
	root = json_loads(o->stdout_text, 0, &e);
	cr_assert_not_null(root, "not JSON: %s", e.text);
	return root;
}

Test(cli, json_report_holds_config_machine_timer_and_results, .timeout = 60)
{
	struct out o;
	json_t *r = json_run((const char *const[]){"--method", "pipe,line",
						   "--mode", "both", "--iters",
						   "300", "--warmup", "20",
						   "--format", "json", NULL},
			     &o);
	json_t *res = json_object_get(r, "results"), *x;

	cr_expect_str_eq(json_string_value(json_object_get(r, "schema")),
			 "ipckern/1");
	cr_expect_not_null(
		json_object_get(json_object_get(r, "machine"), "model_name"));
	cr_expect(json_real_value(json_object_get(json_object_get(r, "timer"),
						  "read_cost_ns")) > 0);
	cr_assert_eq(json_array_size(res), 4);
	x = json_array_get(res, 0);
	cr_expect_str_eq(json_string_value(json_object_get(x, "method")),
			 "pipe");
	cr_expect_eq(json_integer_value(json_object_get(
			     json_object_get(x, "latency"), "count")),
		     300);
	cr_expect_str_eq(json_string_value(json_object_get(
				 json_object_get(x, "latency"), "kind")),
			 "round_trip");
	cr_expect_str_eq(json_string_value(json_object_get(
				 json_object_get(x, "pair"), "relation")),
			 "unpinned");
	cr_expect(json_is_real(json_object_get(x, "vs_line")));
	json_decref(r);
	free(o.stdout_text);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

Test(cli, raw_samples_agree_with_the_reported_percentiles, .timeout = 60)
{
	char raw[] = "/tmp/ipckern-raw-XXXXXX",
	     out[] = "/tmp/ipckern-out-XXXXXX";
	static const char *const keys[] = {"p50", "p90", "p99"};
	static const double pcts[] = {50, 90, 99};
	uint64_t v[2000];
	size_t n = 0, i;
	json_error_t e;
	json_t *r, *lat;
	struct out o;
	FILE *f;

	close(mkstemp(raw));
	close(mkstemp(out));
	o = run((const char *const[]){"--method", "uds", "--iters", "2000",
				      "--format", "json", "--raw", raw,
				      "--output", out, NULL});
	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	f = fopen(raw, "r");
	cr_assert_not_null(f);
	while (n < 2000 && fscanf(f, "%" SCNu64, &v[n]) == 1)
		n++;
	fclose(f);
	cr_assert_eq(n, 2000, "one line per round trip");
	qsort(v, n, sizeof(v[0]), cmp_u64);
	r = json_load_file(out, 0, &e);
	cr_assert_not_null(r, "%s", e.text);
	lat = json_object_get(json_array_get(json_object_get(r, "results"), 0),
			      "latency");
	for (i = 0; i < 3; i++) {
		uint64_t exact = v[(size_t)ceil(pcts[i] / 100 * n) - 1];
		double got = (double)json_integer_value(
			json_object_get(lat, keys[i]));

		cr_expect(fabs(got - exact) <= 0.01 * exact,
			  "%s: report %.0f, raw %lu", keys[i], got,
			  (unsigned long)exact);
	}
	cr_expect_eq(json_integer_value(json_object_get(lat, "min")), v[0]);
	cr_expect_eq(json_integer_value(json_object_get(lat, "max")), v[n - 1]);
	json_decref(r);
	unlink(raw);
	unlink(out);
	free(o.stdout_text);
}

Test(cli, csv_has_a_header_and_a_row_per_result, .timeout = 60)
{
	struct out o =
		run((const char *const[]){"--method", "eventfd,sem", "--iters",
					  "200", "--format", "csv", NULL});

	cr_assert_eq(o.code, 0, "%s", o.err);
	cr_expect_eq(lines(o.stdout_text), 3);
	cr_expect(!strncmp(o.stdout_text, "method,mode,size", 16));
	free(o.stdout_text);
}

/* Become the reaper of orphans, so a leaked grandchild would show. */
static void expect_no_leftover_children(void)
{
	int st;

	cr_expect_eq(waitpid(-1, &st, WNOHANG), -1,
		     "a process outlived ipckern");
}

Test(cli, a_killed_peer_process_ends_the_run_with_exit_3, .timeout = 60)
{
	struct out o;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	o = run_env("IPCKERN_FAULT=kill-b",
		    (const char *const[]){"--method", "pipe", "--mode",
					  "process", "--iters", "100000", NULL},
		    -1);
	cr_expect_eq(o.code, 3, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "killed by signal 9") != NULL, "%s", o.err);
	expect_no_leftover_children();
	free(o.stdout_text);
}

Test(cli, a_stalled_peer_ends_by_the_timeout_with_exit_3, .timeout = 60)
{
	static const char *const modes[] = {"thread", "process"};
	static const char *const methods[] = {"spsc", "futex", "condvar",
					      "pipe", "io_uring"};

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (size_t m = 0; m < 2; m++)
		for (size_t i = 0; i < 5; i++) {
			struct out o = run_env(
				"IPCKERN_FAULT=stall-b",
				(const char *const[]){"--method", methods[i],
						      "--mode", modes[m],
						      "--timeout", "0.5", NULL},
				-1);

			if (strstr(o.err, "not supported") ||
			    strstr(o.err, "Operation not permitted")) {
				free(o.stdout_text);
				continue; /* io_uring disabled here */
			}
			cr_expect_eq(o.code, 3, "%s %s: exit %d: %s",
				     methods[i], modes[m], o.code, o.err);
			cr_expect(strstr(o.err, "timed out") != NULL, "%s",
				  o.err);
			expect_no_leftover_children();
			free(o.stdout_text);
		}
}

Test(cli, list_names_every_method)
{
	struct out o = run((const char *const[]){"--list", NULL});

	cr_expect_eq(o.code, 0);
	cr_expect_eq(lines(o.stdout_text), 13);
	cr_expect(strstr(o.stdout_text, "io_uring") != NULL);
	cr_expect(strstr(o.stdout_text, "line-delay test only") != NULL);
	free(o.stdout_text);
}

Test(cli, all_leaves_out_the_test_only_method, .timeout = 60)
{
	struct out o = run((const char *const[]){"--method", "all", "--iters",
						 "10", "--warmup", "0",
						 "--format", "csv", NULL});

	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.stdout_text, "\nio_uring,") != NULL);
	cr_expect(strstr(o.stdout_text, "line-delay") == NULL);
	free(o.stdout_text);
}

/* Wait (bounded) until pid has n children: the peers are running. */
static bool wait_children(pid_t pid, int n)
{
	char path[64], buf[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	for (i = 0; i < 20000; i++) {
		FILE *f = fopen(path, "r");
		int count = 0;

		if (f) {
			char *tok, *save = NULL;

			if (fgets(buf, sizeof(buf), f))
				for (tok = strtok_r(buf, " \n", &save); tok;
				     tok = strtok_r(NULL, " \n", &save))
					count++;
			fclose(f);
		}
		if (count >= n)
			return true;
		sched_yield();
		usleep(500); /* polling a condition, not a fixed wait */
	}
	return false;
}

Test(cli, ctrl_c_ends_the_run_with_exit_3_and_no_children_left, .timeout = 60)
{
	char out[] = "/tmp/ipckern-int-XXXXXX";
	struct stat sb;
	int st, ep[2];
	char err[1024] = "";
	ssize_t n;
	pid_t pid;

	close(mkstemp(out));
	unlink(out);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	cr_assert_eq(pipe(ep), 0);
	pid = fork();
	if (pid == 0) {
		dup2(ep[1], 2);
		execl(IK_BIN, IK_BIN, "--method", "pipe", "--mode", "process",
		      "--duration", "50", "--output", out, (char *)NULL);
		_exit(127);
	}
	close(ep[1]);
	cr_assert(wait_children(pid, 2), "the two peers never started");
	kill(pid, SIGINT);
	for (size_t got = 0;
	     (n = read(ep[0], err + got, sizeof(err) - 1 - got)) > 0;)
		got += (size_t)n, err[got] = 0;
	close(ep[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %d: %s", st,
		  err);
	cr_expect(strstr(err, "interrupted") != NULL, "%s", err);
	cr_expect_neq(stat(out, &sb), 0, "no report after an interrupt");
	expect_no_leftover_children();
}

Test(cli, both_peers_on_one_cpu_still_complete, .timeout = 60)
{
	struct out o = run((const char *const[]){
		"--pin", "0,0", "--method", "line,spsc,futex,pipe", "--iters",
		"300", "--warmup", "10", "--format", "csv", NULL});

	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "same-pu") != NULL);
	cr_expect_eq(lines(o.stdout_text), 5);
	free(o.stdout_text);
}

Test(cli, duration_bounds_the_run, .timeout = 60)
{
	struct out o =
		run((const char *const[]){"--method", "eventfd", "--duration",
					  "0.2", "--format", "csv", NULL});

	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, ",ok,") != NULL, "%s", o.stdout_text);
	free(o.stdout_text);
}

/* ---- CI gates ---- */

Test(gate, bad_assertions_and_gate_options_are_refused)
{
	BAD("unknown unit 'xs'", "--assert", "spsc.p99<2xs");
	BAD("unknown metric 'p98'", "--assert", "spsc.p98<2us");
	BAD("unknown method 'nosuch'", "--assert", "nosuch.p50<2us");
	BAD("pipe is not measured", "--method", "spsc", "--assert",
	    "pipe.p50<2us");
	BAD("not in --mode", "--assert", "spsc:process.p50<2us");
	BAD("size 64 is not in --size", "--assert", "spsc:64.p50<2us");
	BAD("--max-regress '0'", "--max-regress", "0");
	BAD("--max-regress 'ten'", "--max-regress", "ten");
	BAD("--repeat", "--repeat", "0");
	BAD("needs at least 3", "--baseline", "/dev/null", "--repeat", "2");
	BAD("--allow-mismatch: applies to --baseline", "--allow-mismatch");
	BAD("--summary-md", "--summary-md", "/tmp/x.md");
	BAD("--raw", "--raw", "/tmp/x.raw", "--repeat", "3");
}

Test(gate, a_failed_assertion_exits_1_and_a_passing_one_0, .timeout = 60)
{
	struct out o = run((const char *const[]){
		"--method", "line,spsc", "--iters", "2000", "--assert",
		"spsc.p50<1ns", "--assert", "spsc.p50<=1e9*line.p50", NULL});

	cr_expect_eq(o.code, 1, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "GATE FAILED: 1 of 2 checks failed"),
		  "%s", o.stdout_text);
	cr_expect(strstr(o.stdout_text, "spsc.p50<1ns [thread 8 B]"), "%s",
		  o.stdout_text);
	free(o.stdout_text);
	o = run((const char *const[]){"--method", "spsc", "--iters", "2000",
				      "--repeat", "3", "--assert",
				      "spsc.p50<100s", "--assert",
				      "spsc.msgs>1msgs/s", NULL});
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "gate passed: 0 of 2 checks failed"),
		  "%s", o.stdout_text);
	cr_expect(strstr(o.stdout_text, "across 3 repeats"), "%s",
		  o.stdout_text);
	free(o.stdout_text);
}

Test(gate, baselines_round_trip_and_refuse_another_configuration,
     .timeout = 120)
{
	char dir[] = "/tmp/ik-gate-XXXXXX", base[64], md[64], junk[64];
	struct out o;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/base.json", dir);
	snprintf(md, sizeof(md), "%s/summary.md", dir);
	snprintf(junk, sizeof(junk), "%s/junk.json", dir);
	o = run((const char *const[]){"--method", "spsc", "--iters", "2000",
				      "--repeat", "3", "--save-baseline", base,
				      NULL});
	cr_assert_eq(o.code, 0, "%s", o.err);
	free(o.stdout_text);
	o = run((const char *const[]){"--method", "spsc", "--iters", "2000",
				      "--repeat", "3", "--baseline", base,
				      "--summary-md", md, NULL});
	cr_expect(o.code == 0 || o.code == 1, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "spsc [thread 8 B] p50"), "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "spsc [thread 8 B] msgs/s"));
	free(o.stdout_text);
	f = fopen(md, "r");
	cr_assert_not_null(f, "--summary-md wrote nothing");
	{
		char line[512];

		cr_expect_not_null(fgets(line, sizeof(line), f));
		cr_expect(strstr(line, "### ") == line, "%s", line);
	}
	fclose(f);
	/* measured differently: refused before running, fields named */
	BAD("config sizes: baseline [8], now [16]", "--method", "spsc",
	    "--iters", "2000", "--size", "16", "--baseline", base);
	BAD("config methods", "--method", "pipe", "--iters", "2000",
	    "--baseline", base);
	o = run((const char *const[]){"--method", "spsc", "--iters", "2000",
				      "--size", "16", "--baseline", base,
				      "--allow-mismatch", NULL});
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "compared anyway"), "%s", o.err);
	free(o.stdout_text);
	/* malformed baselines: one line, exit 2, before anything runs */
	f = fopen(junk, "w");
	fputs("{\"schema\": \"ipckern/1\", \"results\": [", f);
	fclose(f);
	BAD("not JSON", "--baseline", junk);
	f = fopen(junk, "w");
	fputs("{\"schema\": \"ipckern/0\"}", f);
	fclose(f);
	BAD("schema \"ipckern/0\"", "--baseline", junk);
	BAD("cannot open it", "--baseline", "/nonexistent/base.json");
	unlink(junk);
	unlink(md);
	unlink(base);
	rmdir(dir);
}

Test(gate, gbench_format_is_google_benchmark_json, .timeout = 60)
{
	struct out o =
		run((const char *const[]){"--method", "spsc,pipe", "--iters",
					  "2000", "--format", "gbench", NULL});
	json_error_t je;
	json_t *root, *list;

	cr_assert_eq(o.code, 0, "%s", o.err);
	root = json_loads(o.stdout_text, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	list = json_object_get(root, "benchmarks");
	cr_expect(json_is_object(json_object_get(root, "context")));
	cr_expect_eq(json_array_size(list), 6, "mean, p50, p99 x 2 methods");
	cr_expect_str_eq(json_string_value(json_object_get(
				 json_array_get(list, 0), "name")),
			 "pingpong/spsc/thread/size:8/mean");
	cr_expect(json_real_value(json_object_get(json_array_get(list, 0),
						  "items_per_second")) > 0);
	json_decref(root);
	free(o.stdout_text);
}

Test(gate, normalize_needs_a_baseline_and_its_method_in_the_run)
{
	BAD("--normalize: applies to --baseline", "--method", "line,spsc",
	    "--normalize", "line");
	BAD("--normalize line: needs line and another method", "--method",
	    "spsc", "--baseline", "/dev/null", "--normalize", "line");
	BAD("--repeat-every: applies to --repeat 2", "--repeat-every", "1");
}

Test(call, bad_call_options_are_refused)
{
	BAD("--work: applies to --kernel call", "--work", "1us");
	BAD("--size: --kernel call sends a 16-byte call", "--kernel", "call",
	    "--size", "64");
	BAD("--work '1h'", "--kernel", "call", "--work", "1h");
}

Test(call, a_call_run_reports_wall_and_cpu_per_side, .timeout = 60)
{
	struct out o = run((const char *const[]){
		"--kernel", "call", "--method", "futex,spsc", "--iters", "2000",
		"--work", "0,1us", "--format", "json", NULL});
	json_error_t je;
	json_t *root, *res, *c;
	size_t i;

	cr_assert_eq(o.code, 0, "%s", o.err);
	root = json_loads(o.stdout_text, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	res = json_object_get(root, "results");
	cr_assert_eq(json_array_size(res), 4, "2 methods x 2 works");
	json_array_foreach(res, i, c)
	{
		json_t *call = json_object_get(c, "call");

		cr_assert(json_is_object(call));
		cr_expect_eq(json_integer_value(json_object_get(call, "calls")),
			     2000);
		cr_expect_eq(
			json_integer_value(json_object_get(call, "work_ns")),
			i % 2 ? 1000 : 0);
		cr_expect(json_integer_value(
				  json_object_get(call, "cpu_caller_ns")) > 0);
		cr_expect(json_integer_value(
				  json_object_get(call, "cpu_worker_ns")) > 0);
	}
	json_decref(root);
	free(o.stdout_text);
}

/* ---- echo and connect ---- */

Test(crew, bad_echo_and_connect_options_are_refused)
{
	BAD("method pipe has no connections", "--kernel", "connect", "--method",
	    "pipe");
	BAD("method spsc has no connections", "--kernel", "echo");
	BAD("--clients '0'", "--kernel", "echo", "--method", "tcp", "--clients",
	    "0");
	BAD("--server 'fibers': unknown server model", "--kernel", "echo",
	    "--method", "tcp", "--server", "fibers");
	BAD("--server: applies to --kernel echo", "--kernel", "connect",
	    "--method", "tcp", "--server", "epoll");
	BAD("--clients and --backlog: apply to --kernel echo", "--clients",
	    "5");
	BAD("--kernel echo: runs one server", "--kernel", "echo", "--method",
	    "uds", "--pairs", "2");
}

/* Run with RLIMIT_NOFILE lowered to lim in the child. */
static struct out run_nofile(rlim_t lim, const char *const *args)
{
	struct rlimit old, low;
	struct out o;

	getrlimit(RLIMIT_NOFILE, &old);
	low = (struct rlimit){lim, old.rlim_max};
	setrlimit(RLIMIT_NOFILE, &low); /* inherited by the fork */
	o = run(args);
	setrlimit(RLIMIT_NOFILE, &old);
	return o;
}

Test(crew, more_clients_than_fds_is_refused_with_what_to_raise)
{
	struct out o = run_nofile(
		256, (const char *const[]){"--kernel", "echo", "--method",
					   "tcp", "--clients", "500", NULL});

	cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
	cr_expect_eq(lines(o.err), 1, "%s", o.err);
	cr_expect(strstr(o.err,
			 "--clients 500: needs about 1032 file "
			 "descriptors and this process may open 256") != NULL,
		  "%s", o.err);
	free(o.stdout_text);
}

Test(crew, a_dying_server_or_client_ends_the_run_with_exit_3, .timeout = 120)
{
	static const char *const faults[] = {"IPCKERN_FAULT=kill-server",
					     "IPCKERN_FAULT=kill-client"};
	static const char *const servers[] = {"thread", "epoll", "io_uring"};

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (size_t f = 0; f < 2; f++)
		for (size_t s = 0; s < 3; s++)
			for (int m = 0; m < 2; m++) {
				struct out o = run_env(
					faults[f],
					(const char *const[]){
						"--kernel", "echo", "--method",
						"tcp", "--clients", "3",
						"--server", servers[s],
						"--mode",
						m ? "process" : "thread",
						"--timeout", "10", NULL},
					-1);

				cr_expect_eq(o.code, 3, "%s %s %d: exit %d: %s",
					     faults[f], servers[s], m, o.code,
					     o.err);
				/* the death, not the resets it caused */
				cr_expect(
					!m || strstr(o.err, f ? "client 1 (pid "
							      : "server (pid "),
					"%s %s: %s", faults[f], servers[s],
					o.err);
				expect_no_leftover_children();
				free(o.stdout_text);
			}
}

Test(crew, a_stalled_server_ends_by_the_timeout, .timeout = 60)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (int m = 0; m < 2; m++) {
		struct out o =
			run_env("IPCKERN_FAULT=stall-server",
				(const char *const[]){
					"--kernel", "echo", "--method", "uds",
					"--clients", "2", "--mode",
					m ? "process" : "thread", "--iters",
					"100", "--timeout", "0.5", NULL},
				-1);

		cr_expect_eq(o.code, 3, "exit %d: %s", o.code, o.err);
		cr_expect(strstr(o.err, "--timeout 0.5") != NULL, "%s", o.err);
		expect_no_leftover_children();
		free(o.stdout_text);
	}
}

Test(crew, echo_and_connect_report_their_tables_and_json, .timeout = 60)
{
	struct out o = run((const char *const[]){
		"--kernel", "echo", "--method", "tcp,uds", "--clients", "3",
		"--server", "thread,epoll,io_uring", "--size", "100,5000",
		"--buffer", "4k", "--iters", "200", "--verify", "--format",
		"json", NULL});
	json_error_t je;
	json_t *root;

	cr_assert_eq(o.code, 0, "%s", o.err);
	root = json_loads(o.stdout_text, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	cr_expect_eq(json_array_size(json_object_get(root, "results")), 12,
		     "2 methods x 2 sizes x 3 servers");
	cr_expect_eq(
		json_integer_value(json_object_get(
			json_object_get(
				json_array_get(json_object_get(root, "results"),
					       0),
				"echo"),
			"messages")),
		600);
	json_decref(root);
	free(o.stdout_text);
	o = run((const char *const[]){"--kernel", "connect", "--method", "tcp",
				      "--clients", "4", "--iters", "50", NULL});
	cr_assert_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.stdout_text, "TIME_WAIT") != NULL, "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "      200 ") != NULL,
		  "4 clients x 50 requests: %s", o.stdout_text);
	free(o.stdout_text);
}

Test(gate, append_grows_a_baseline_over_several_runs, .timeout = 60)
{
	char path[] = "/tmp/ik-append-XXXXXX";
	int fd = mkstemp(path);
	json_error_t je;
	json_t *root;
	struct out o;

	cr_assert_geq(fd, 0);
	close(fd);
	unlink(path); /* the first run creates it */
	for (int i = 0; i < 2; i++) {
		o = run((const char *const[]){
			"--method", "spsc", "--iters", "1000", "--repeat", "3",
			"--save-baseline", path, "--append", NULL});
		cr_assert_eq(o.code, 0, "%s", o.err);
		free(o.stdout_text);
	}
	root = json_load_file(path, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	cr_expect_eq(
		json_integer_value(json_object_get(
			json_object_get(
				json_array_get(json_object_get(root, "results"),
					       0),
				"repeats"),
			"count")),
		6, "3 repeats from each of two runs");
	json_decref(root);
	BAD("measured differently", "--method", "spsc", "--size", "64",
	    "--save-baseline", path, "--append");
	unlink(path);
	BAD("--append: applies to --save-baseline", "--append");
}

/* stderr without the machine's warnings (VM, load): what the run said */
static int error_lines(const char *s)
{
	int n = 0;

	for (const char *l = s; *l; l = strchr(l, '\n') + 1) {
		n += strncmp(l, "ipckern: warning:", 17) != 0;
		if (!strchr(l, '\n'))
			break;
	}
	return n;
}

/* Every row of a --pairs run failed; count those that say "not run". */
static unsigned expect_all_failed(const char *json, unsigned rows)
{
	json_error_t je;
	json_t *root = json_loads(json, 0, &je), *res, *r;
	unsigned not_run = 0;
	size_t i;

	cr_assert_not_null(root, "%s", je.text);
	res = json_object_get(root, "results");
	cr_expect_eq(json_array_size(res), rows);
	json_array_foreach(res, i, r)
	{
		const char *err =
			json_string_value(json_object_get(r, "error"));

		cr_expect_str_eq(
			json_string_value(json_object_get(r, "status")),
			"error", "row %zu", i);
		cr_assert_not_null(err, "row %zu has no error", i);
		cr_expect(!strstr(err, "timed out"), "row %zu: %s", i, err);
		not_run += !strncmp(err, "not run: ", 9);
	}
	json_decref(root);
	return not_run;
}

Test(pairs, pairs_that_never_ran_say_so_and_nobody_waits_for_the_timeout,
     .timeout = 60)
{
	static const char *const modes[] = {"thread", "process"};

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (int m = 0; m < 2; m++) {
		/* some pairs' pipes do not fit in 24 fds: the rest must not
		 * wait out the (long) timeout at the start gate */
		struct out o = run_nofile(
			24, (const char *const[]){"--method", "pipe", "--pairs",
						  "8", "--mode", modes[m],
						  "--timeout", "600",
						  "--format", "json", NULL});

		cr_expect_eq(o.code, 3, "exit %d: %s", o.code, o.err);
		cr_expect_eq(error_lines(o.err), 1, "%s", o.err);
		cr_expect(
			strstr(o.err, "Too many open files") &&
				strstr(o.err, "(open files: ulimit -n is 24)"),
			"%s", o.err);
		cr_expect_gt(expect_all_failed(o.stdout_text, 9), 0,
			     "no pair said it did not run");
		expect_no_leftover_children();
		free(o.stdout_text);
	}
}

Test(pairs, pairs_whose_threads_cannot_start_fail_without_a_crash,
     .timeout = 60)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	cr_skip_test("a sanitizer's shadow memory needs the address space "
		     "this test takes away");
#else
	static const char *const modes[] = {"thread", "process"};
	struct rlimit as, stack;

	/* as ulimit -u would for a user (root is exempt from it): 2 GiB
	 * thread stacks in a 3 GiB address space, so only the first
	 * thread or two can start */
	getrlimit(RLIMIT_AS, &as);
	getrlimit(RLIMIT_STACK, &stack);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (int m = 0; m < 2; m++) {
		struct out o;

		setrlimit(RLIMIT_STACK,
			  &(struct rlimit){2ull << 30, stack.rlim_max});
		setrlimit(RLIMIT_AS, &(struct rlimit){3ull << 30, as.rlim_max});
		o = run((const char *const[]){"--method", "pipe", "--pairs",
					      "4", "--mode", modes[m],
					      "--format", "json", NULL});
		setrlimit(RLIMIT_AS, &as);
		setrlimit(RLIMIT_STACK, &stack);
		cr_expect_eq(o.code, 3, "exit %d: %s", o.code, o.err);
		cr_expect_eq(error_lines(o.err), 1, "%s", o.err);
		cr_expect(strstr(o.err, "Resource temporarily unavailable"),
			  "%s", o.err);
		expect_all_failed(o.stdout_text, 5);
		expect_no_leftover_children();
		free(o.stdout_text);
	}
#endif
}

Test(crew, tcp_connect_refuses_more_clients_than_the_listen_queue_holds)
{
	BAD("--clients 200: over tcp, more connects than the listen queue "
	    "holds (--backlog 128)",
	    "--kernel", "connect", "--method", "tcp", "--clients", "200");
	BAD("use --backlog 300, or at most 200 clients", "--kernel", "connect",
	    "--method", "uds,tcp", "--clients", "300", "--backlog", "200");
}
