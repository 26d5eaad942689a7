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

#include "cli.h"
#include "ipc/ipc.h"
#include "reports/gate.h"

/* a refusal end to end: exit 2, one line (test_options has the rest) */
Test(cli, unknown_method_is_named_with_the_allowed_ones)
{
	BAD("allowed: line, spsc", "--method", "nope");
}

Test(cli, a_cpu_that_does_not_exist_is_refused)
{
	BAD("CPU 4096 does not exist", "--pin", "0,4096");
	BAD("CPU 99999 does not exist", "--pin", "99999,0");
}

/* the cgroup cpuset limits pinning, not the mask we start with (issue 13) */
Test(cli, a_cpu_outside_the_start_mask_is_pinned_with_a_note)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	struct out o;

	if (n < 2)
		cr_skip_test("needs two CPUs");
	/* like taskset -c 0 ipckern --pin 0,1 */
	o = run_env(NULL,
		    (const char *const[]){"--pin", "0,1", "--method", "pipe",
					  "--iters", "200", "--warmup", "20",
					  NULL},
		    0);
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "CPU 1 is outside the affinity mask ipckern "
				"started with (0)") != NULL,
		  "%s", o.err);
	free(o.stdout_text);
}

static json_t *json_run(const char *const *args, struct out *o);

Test(cli, taskset_narrows_what_pin_auto_chooses_from)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	json_error_t je;
	json_t *r, *cpus;
	struct out o;

	if (n < 2)
		cr_skip_test("needs two CPUs");
	/* like taskset -c 1 ipckern --pin auto: an explicit --pin may leave
	 * the start mask, an automatic choice does not */
	o = run_env(NULL,
		    (const char *const[]){"--pin", "auto", "--method", "line",
					  "--iters", "100", "--warmup", "10",
					  "--format", "json", NULL},
		    1);
	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	r = json_loads(o.stdout_text, 0, &je);
	cr_assert_not_null(r, "%s", je.text);
	cpus = json_object_get(
		json_object_get(
			json_array_get(json_object_get(r, "results"), 0),
			"pair"),
		"cpus");
	cr_expect_eq(json_integer_value(json_array_get(cpus, 0)), 1);
	cr_expect_eq(json_integer_value(json_array_get(cpus, 1)), 1);
	json_decref(r);
	free(o.stdout_text);
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
	cr_expect(json_real_value(json_object_get(st, "msgs_per_sec")) > 0);
	cr_expect_str_eq(json_string_value(json_object_get(
				 json_object_get(r, "config"), "kernel")),
			 "stream");
	json_decref(r);
	free(o.stdout_text);
}

Test(cli, size_and_buffer_lists_sweep_their_product, .timeout = 60)
{
	struct out o = run((const char *const[]){
		"--kernel", "stream", "--method", "pipe,uds", "--size",
		"1000,4k", "--buffer", "16k,64k", "--iters", "300", "--format",
		"csv", NULL});
	static const char *const rows[] = {
		"pipe,thread,,,,1000,16384,", "pipe,thread,,,,1000,65536,",
		"pipe,thread,,,,4096,16384,", "pipe,thread,,,,4096,65536,",
		"uds,thread,,,,1000,16384,",  "uds,thread,,,,4096,65536,"};

	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect_eq(lines(o.stdout_text), 9, "%s", o.stdout_text);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect(strstr(o.stdout_text, rows[i]) != NULL, "no row %s",
			  rows[i]);
	free(o.stdout_text);
}

Test(cli, gaps_sweep_and_time_only_the_trip, .timeout = 60)
{
	struct out o = run((const char *const[]){
		"--method", "pipe", "--gap", "0,100us", "--gap-mode", "spin",
		"--iters", "100", "--format", "csv", NULL});

	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect_eq(lines(o.stdout_text), 3, "%s", o.stdout_text);
	/* wait (empty: spsc's alone), gap_ns, then rate (empty: not a
	 * stream) */
	cr_expect(strstr(o.stdout_text, ",,0,,") != NULL, "%s", o.stdout_text);
	cr_expect(strstr(o.stdout_text, ",,100000,,") != NULL, "%s",
		  o.stdout_text);
	free(o.stdout_text);
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
		cr_expect(json_is_null(json_object_get(json_array_get(res, 3),
						       "pair_number")));
		cr_expect(json_is_true(json_object_get(json_array_get(res, 3),
						       "sum_of_pairs")));
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
	cr_expect(strstr(o.stdout_text, "shared-l3,false,") ||
			  strstr(o.stdout_text, "same-package,true,0,1"),
		  "%s", o.stdout_text);
	free(o.stdout_text);
}

Test(cli, a_topology_not_this_machines_is_named_not_called_this_machine)
{
	struct out o = run_env(
		"HWLOC_SYNTHETIC=pack:1 core:4 pu:2",
		(const char *const[]){"--classes", "--dry-run", NULL}, -1);

	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "topology: synthetic "
					"(HWLOC_SYNTHETIC=pack:1 core:4 pu:2)"),
		  "%s", o.stdout_text);
	cr_expect(strstr(o.stdout_text, "this machine") == NULL, "%s",
		  o.stdout_text);
	free(o.stdout_text);
	o = run_env("HWLOC_XMLFILE=" IK_TESTDATA "/two-socket.xml",
		    (const char *const[]){"--classes", "--dry-run", "--format",
					  "json", NULL},
		    -1);
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text,
			 "\"HWLOC_XMLFILE=" IK_TESTDATA "/two-socket.xml\""),
		  "%s", o.stdout_text);
	free(o.stdout_text);
}

/* --machine with a topology from a file or a description: the text and
 * the JSON name where it came from, and no CPUs "this process may use" */
Test(cli, machine_names_a_topology_that_is_not_this_machines)
{
	struct out o = run_env("HWLOC_XMLFILE=" IK_TESTDATA "/two-socket.xml",
			       (const char *const[]){"--machine", NULL}, -1);

	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text,
			 "topology src: HWLOC_XMLFILE=" IK_TESTDATA
			 "/two-socket.xml (not this machine"),
		  "%s", o.stdout_text);
	cr_expect(strstr(o.stdout_text, "this process may use") == NULL, "%s",
		  o.stdout_text);
	free(o.stdout_text);
	o = run_env(
		"HWLOC_SYNTHETIC=pack:1 core:4 pu:2",
		(const char *const[]){"--machine", "--format", "json", NULL},
		-1);
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text,
			 "\"topology_source\": \"synthetic "
			 "(HWLOC_SYNTHETIC=pack:1 core:4 pu:2)\""),
		  "%s", o.stdout_text);
	free(o.stdout_text);
	o = run((const char *const[]){"--machine", NULL});
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "topology src: this machine\n"), "%s",
		  o.stdout_text);
	free(o.stdout_text);
}

Test(cli, classes_and_matrix_say_pinned_and_rows_carry_their_cpus,
     .timeout = 60)
{
	struct out o;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	o = run((const char *const[]){"--matrix", "--method", "line", "--cpus",
				      "0-1", "--iters", "200", "--warmup", "10",
				      NULL});
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.stdout_text, "unpinned") == NULL, "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "each pinned") != NULL, "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "\n0,1     line ") != NULL, "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "\n1,0     line ") != NULL, "%s",
		  o.stdout_text);
	free(o.stdout_text);
	o = run((const char *const[]){"--classes", "--method", "line",
				      "--iters", "200", "--warmup", "10",
				      "--format", "json", NULL});
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.stdout_text, "unpinned") == NULL, "%s",
		  o.stdout_text);
	free(o.stdout_text);
}

Test(cli, bad_topologies_and_class_options_are_refused)
{
	BAD("cannot open it", "--topology", "/nonexistent/x.xml", "--classes",
	    "--dry-run");
	BAD("not an hwloc XML topology", "--topology",
	    IK_TESTDATA "/not-a-topology.xml", "--classes", "--dry-run");
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
	BAD("CPU 99999 is not usable", "--matrix", "--cpus", "0,99999");
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
			 "ipckern/2");
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
	static const char *const keys[] = {"p50_ns", "p90_ns", "p99_ns"};
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
	cr_expect_eq(json_integer_value(json_object_get(lat, "min_ns")), v[0]);
	cr_expect_eq(json_integer_value(json_object_get(lat, "max_ns")),
		     v[n - 1]);
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
	cr_expect(!strncmp(o.stdout_text, "kernel,method,mode,", 19));
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
	const struct ik_transport_ops *const *t;
	int n = 0;

	for (t = ik_transports; *t; t++)
		n++;
	cr_expect_eq(o.code, 0);
	/* one line a registered method but the test-only line-delay, so a
	 * new method needs no edit here; then a blank line, a heading and
	 * a line a wait strategy (test_wait checks those) */
	cr_expect_eq(lines(o.stdout_text), n - 1 + 2 + IK_NWAITS);
	cr_expect(strstr(o.stdout_text, "io_uring") != NULL);
	cr_expect(strstr(o.stdout_text, "line-delay") == NULL);
	free(o.stdout_text);
	o = run_env("IPCKERN_LIST_TEST=1",
		    (const char *const[]){"--list", NULL}, -1);
	cr_expect_eq(lines(o.stdout_text), n + 2 + IK_NWAITS);
	/* the summary after the name column, as wide as the longest name */
	cr_expect(strstr(o.stdout_text, "line-delay ") != NULL);
	cr_expect(strstr(o.stdout_text, " test only") != NULL);
	free(o.stdout_text);
}

Test(cli, list_honours_format_json_on_either_side)
{
	const char *const *argvs[] = {
		(const char *const[]){"--list", "--format", "json", NULL},
		(const char *const[]){"--format", "json", "--list", NULL},
	};
	const struct ik_transport_ops *const *t;
	size_t n = 0;

	for (t = ik_transports; *t; t++)
		n += !((*t)->flags & IK_T_TEST);
	for (unsigned k = 0; k < 2; k++) {
		struct out o = run(argvs[k]);
		json_error_t e;
		json_t *r = json_loads(o.stdout_text, 0, &e), *m;

		cr_expect_eq(o.code, 0, "%s", o.err);
		cr_assert_not_null(r, "%s: %s", e.text, o.stdout_text);
		m = json_object_get(r, "methods");
		cr_expect_eq(json_array_size(m), n);
		cr_expect_str_eq(json_string_value(json_object_get(
					 json_array_get(m, 0), "name")),
				 ik_transports[0]->name);
		cr_expect(json_integer_value(json_object_get(
				  json_array_get(m, 0), "max_size_bytes")) > 0);
		json_decref(r);
		free(o.stdout_text);
	}
}

Test(cli, h_prints_help_and_a_slip_names_the_nearest_option)
{
	struct out o = run((const char *const[]){"-h", NULL});

	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.stdout_text, "--repeat-every") != NULL);
	cr_expect(strstr(o.stdout_text, "--buffer") != NULL);
	free(o.stdout_text);
	BAD("--methdo: unknown option; did you mean --method?", "--methdo",
	    "spsc");
	BAD("did you mean spsc?", "--method", "spcs");
	BAD("did you mean --iters?", "--iter", "10");
}

/* each help section once: run options, then gates, then information */
Test(cli, help_names_each_section_once_with_its_options_under_it)
{
	struct out o = run((const char *const[]){"--help", NULL});
	const char *gates, *touch, *history;

	cr_assert_eq(o.code, 0, "%s", o.err);
	gates = strstr(o.stdout_text, "CI gates");
	cr_assert(gates != NULL);
	cr_expect(strstr(gates + 1, "CI gates") == NULL,
		  "the CI gates heading is printed twice");
	touch = strstr(o.stdout_text, "--first-touch");
	history = strstr(o.stdout_text, "--history WHERE");
	cr_assert(touch != NULL && history != NULL);
	cr_expect(touch < gates, "--first-touch is listed under CI gates");
	cr_expect(history > gates, "--history is not under CI gates");
	free(o.stdout_text);
}

/*
 * `ipckern --help | grep -q X` under pipefail: the reader may close the
 * pipe before the help is written; that is not a failure at run time.
 */
Test(cli, help_into_a_pipe_its_reader_closed_exits_0, .timeout = 30)
{
	const char *const acts[] = {"--help", "--list", "--version"};
	unsigned i;

	for (i = 0; i < IK_ARRAY_SIZE(acts); i++) {
		int fd[2], st;
		pid_t pid;

		cr_assert_eq(pipe(fd), 0);
		close(fd[0]); /* the reader is gone before a byte is written */
		pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0) {
			dup2(fd[1], STDOUT_FILENO);
			close(fd[1]);
			execl(IK_BIN, IK_BIN, acts[i], (char *)NULL);
			_exit(127);
		}
		close(fd[1]);
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			  "%s into a closed pipe: status %#x", acts[i], st);
	}
}

/* review 12: like every list option, these refuse a value given twice */
Test(cli, first_touch_load_and_slo_refuse_a_value_given_twice)
{
	BAD("--first-touch 'a,a': 'a' is listed twice", "--method", "line",
	    "--first-touch", "a,a");
	BAD("--load 'none': given twice", "--method", "line", "--load", "none",
	    "--load", "none");
	BAD("spin on CPU 0 is listed twice", "--method", "line", "--load",
	    "spin@0,spin@0");
	BAD("CPU 0 is listed twice", "--method", "line", "--load", "l3@0+0");
	BAD("smt is listed twice", "--method", "line", "--load", "smt,smt");
	BAD("'p99<=1us': that percentile is bounded twice", "--kernel",
	    "stream", "--method", "pipe", "--slo", "p99<=1us,p99<=1us");
}

/* review 11: placement options where nothing shared is placed */
Test(cli, provenance_is_refused_where_there_are_no_shared_pages)
{
	BAD("--first-touch: applies to methods whose messages are in shared "
	    "pages",
	    "--method", "pipe,tcp", "--pin", "0,1", "--first-touch", "a",
	    "--dry-run");
	BAD("--home: applies to methods whose messages are in shared pages",
	    "--method", "tcp", "--home", "0", "--dry-run");
	BAD("--fresh: applies to methods whose messages are in shared pages",
	    "--method", "uds", "--fresh", "--dry-run");
	BAD("not --kernel group", "--fanout", "1:1", "--method", "spsc",
	    "--pin", "0,1", "--first-touch", "a,b", "--dry-run");
	BAD("not --kernel group", "--fanout", "1:1", "--method", "spsc",
	    "--pin", "0,1", "--stride", "128", "--dry-run");
}

/*
 * review 10: --matrix's pairs are known before it runs, so a load on one
 * of their CPUs is exit 2 then, not a cell error; unpinned, the report
 * says a peer may share an antagonist's CPU.
 */
Test(cli, a_load_on_a_matrix_pairs_cpu_is_refused_before_running, .timeout = 60)
{
	struct out o;
	json_t *r, *notes, *n;
	size_t i;
	bool said = false;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	BAD("that is peer B's CPU", "--matrix", "--cpus", "0,1", "--method",
	    "line", "--load", "spin@1", "--iters", "100");
	r = json_run((const char *const[]){"--method", "line", "--load",
					   "spin@0", "--iters", "200",
					   "--warmup", "20", "--format", "json",
					   NULL},
		     &o);
	notes = json_object_get(r, "notes");
	json_array_foreach(notes, i, n) said |=
		strstr(json_string_value(n), "--load with unpinned") != NULL;
	cr_expect(said, "no note that an unpinned peer may share the CPU");
	json_decref(r);
	free(o.stdout_text);
}

/*
 * review 15: a line row's "x line" is against plain line (store, one
 * line) placed the same, not the row itself; with no plain line in the
 * run it is null (the table's -).
 */
Test(cli, x_line_of_a_line_variant_is_against_plain_line, .timeout = 60)
{
	struct out o;
	json_t *r, *res, *lat;
	double p50[2];

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	r = json_run((const char *const[]){"--method", "line", "--pin", "0,1",
					   "--lines", "2", "--line-op",
					   "load,cas", "--iters", "300",
					   "--format", "json", NULL},
		     &o);
	for (size_t i = 0; i < 2; i++) {
		res = json_array_get(json_object_get(r, "results"), i);
		cr_expect(json_is_null(json_object_get(res, "vs_line")),
			  "row %zu: x line without a plain line in the run", i);
	}
	json_decref(r);
	free(o.stdout_text);
	r = json_run((const char *const[]){"--method", "line", "--pin", "0,1",
					   "--line-op", "store,cas", "--iters",
					   "300", "--format", "json", NULL},
		     &o);
	for (size_t i = 0; i < 2; i++) {
		res = json_array_get(json_object_get(r, "results"), i);
		lat = json_object_get(res, "latency");
		p50[i] = json_number_value(json_object_get(lat, "p50_ns"));
	}
	res = json_array_get(json_object_get(r, "results"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(res, "line_op")),
			 "cas");
	cr_expect(fabs(json_number_value(json_object_get(res, "vs_line")) -
		       p50[1] / p50[0]) < 1e-6,
		  "cas's x line is not its p50 over store's");
	json_decref(r);
	free(o.stdout_text);
}

Test(cli, all_leaves_out_the_test_only_method, .timeout = 60)
{
	struct out o = run((const char *const[]){"--method", "all", "--iters",
						 "10", "--warmup", "0",
						 "--format", "csv", NULL});

	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.stdout_text, "\npingpong,io_uring,") != NULL);
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

/* The only cell cut short: a report of nothing, marked partial (the
 * grid's cases are tests/test_run.c's). */
Test(cli, ctrl_c_ends_the_run_with_exit_130_and_no_children_left, .timeout = 60)
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
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d: %s", st,
		  err);
	cr_expect(strstr(err, "interrupted by SIGINT after 0 of 1 cells") !=
			  NULL,
		  "%s", err);
	cr_expect_eq(stat(out, &sb), 0, "a partial report after an interrupt");
	unlink(out);
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
	/* no cell of size 16 is in it: a gate on nothing fails */
	cr_expect_eq(o.code, 1, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "compared anyway"), "%s", o.err);
	cr_expect(strstr(o.err, "nothing was compared"), "%s", o.err);
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
		cr_expect(json_integer_value(json_object_get(
				  call, "cpu_caller_ns_total")) > 0);
		cr_expect(json_integer_value(json_object_get(
				  call, "cpu_worker_ns_total")) > 0);
	}
	json_decref(root);
	free(o.stdout_text);
}

/* ---- echo and connect ---- */

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

/* a --clients list is checked for its largest value, named */
Test(crew, a_clients_list_is_refused_for_its_largest_that_fds_cannot_hold)
{
	struct out o = run_nofile(
		256, (const char *const[]){"--kernel", "echo", "--method",
					   "uds", "--clients", "1,500,2",
					   "--server", "epoll,thread", NULL});

	cr_expect_eq(o.code, 2, "exit %d: %s", o.code, o.err);
	cr_expect_eq(lines(o.err), 1, "%s", o.err);
	cr_expect(strstr(o.err,
			 "--clients 500: needs about 1032 file descriptors "
			 "and this process may open 256; raise it first "
			 "(ulimit -n 1032)") != NULL,
		  "%s", o.err);
	free(o.stdout_text);
}

/* each value of the list is a cell of its own in every format */
Test(crew, a_clients_list_sweeps_and_every_format_tells_the_cells_apart,
     .timeout = 120)
{
	static const char *const sweep[] = {
		"--kernel", "echo",	"--method",	"uds",	   "--clients",
		"1,3",	    "--server", "thread,epoll", "--iters", "50",
		"--size",   "100",	"--verify",	"--format"};
	const char *args[16];
	struct out o;
	json_error_t je;
	json_t *root, *rs;
	unsigned i;

	memcpy(args, sweep, sizeof(sweep));
	args[14] = "json", args[15] = NULL;
	o = run(args);
	cr_assert_eq(o.code, 0, "%s", o.err);
	root = json_loads(o.stdout_text, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	rs = json_object_get(root, "results");
	cr_assert_eq(json_array_size(rs), 4, "2 servers x 2 client counts");
	for (i = 0; i < 4; i++) {
		json_t *r = json_array_get(rs, i);

		/* clients vary faster than servers */
		cr_expect_eq(json_integer_value(json_object_get(r, "clients")),
			     i % 2 ? 3 : 1);
		cr_expect_str_eq(
			json_string_value(json_object_get(r, "server")),
			i < 2 ? "thread" : "epoll");
		cr_expect_eq(json_integer_value(json_object_get(
				     json_object_get(r, "echo"), "requests")),
			     i % 2 ? 150 : 50);
	}
	json_decref(root);
	free(o.stdout_text);
	args[14] = "table";
	o = run(args);
	cr_assert_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.stdout_text, "  1 | ") &&
			  strstr(o.stdout_text, "  3 | "),
		  "a row per client count: %s", o.stdout_text);
	free(o.stdout_text);
	args[14] = "csv";
	o = run(args);
	cr_assert_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.stdout_text, ",server,clients,") != NULL, "%s",
		  o.stdout_text);
	/* mode, then server and clients */
	cr_expect(strstr(o.stdout_text, "thread,thread,1,") &&
			  strstr(o.stdout_text, "thread,thread,3,") &&
			  strstr(o.stdout_text, "thread,epoll,1,") &&
			  strstr(o.stdout_text, "thread,epoll,3,"),
		  "%s", o.stdout_text);
	free(o.stdout_text);
}

/* Whether the gate summary's row for cell says what, on that line. */
static bool row_says(const char *text, const char *cell, const char *what)
{
	const char *p = strstr(text, cell), *v;

	if (!p)
		return false;
	v = strstr(p, what);
	return v && v < strchrnul(p, '\n');
}

/* a baseline's cells are told apart by their client count: a count on
 * one side only is named, the one on both compared (issue 18 item 8) */
Test(crew, a_baseline_of_other_client_counts_names_the_cells_on_one_side,
     .timeout = 120)
{
	char dir[] = "/tmp/ik-clients-XXXXXX", base[64];
	struct out o;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/base.json", dir);
	o = run((const char *const[]){"--kernel", "echo", "--method", "uds",
				      "--clients", "1,2", "--iters", "50",
				      "--repeat", "3", "--save-baseline", base,
				      NULL});
	cr_assert_eq(o.code, 0, "%s", o.err);
	free(o.stdout_text);
	o = run((const char *const[]){
		"--kernel", "echo", "--method", "uds", "--clients", "1,3",
		"--iters", "50", "--repeat", "3", "--baseline", base, NULL});
	cr_expect(o.code == 0 || o.code == 1, "exit %d: %s", o.code, o.err);
	cr_expect(row_says(o.stdout_text, "server 3 clients] ", " new "), "%s",
		  o.stdout_text);
	cr_expect(row_says(o.stdout_text, "server 2 clients] ", " missing "),
		  "%s", o.stdout_text);
	cr_expect(strstr(o.stdout_text, "server 1 clients] p50") != NULL, "%s",
		  o.stdout_text);
	free(o.stdout_text);
	unlink(base);
	rmdir(dir);
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
			"requests")),
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
}

/* ---- the gate fails closed ---- */

/* exit 2, one line naming both a and b, and nothing measured or printed */
static void expect_refused_early(const char *const *args, const char *a,
				 const char *b)
{
	struct out o = run(args);

	cr_expect_eq(o.code, 2, "exit %d, stderr: %s", o.code, o.err);
	cr_expect_eq(lines(o.err), 1, "one line on stderr, got: %s", o.err);
	cr_expect(strstr(o.err, a) && strstr(o.err, b),
		  "stderr should name '%s' and '%s': %s", a, b, o.err);
	cr_expect_str_eq(o.stdout_text, "", "nothing measured");
	free(o.stdout_text);
}

/* Every "values" array of metric name (all when NULL) in every result
 * of the JSON file src, each value replaced by v (JSON null when NULL),
 * or every status set to status; written to dst. */
static void edit_baseline(const char *src, const char *dst, const char *name,
			  json_t *v, const char *status, const char *method)
{
	json_error_t je;
	json_t *root = json_load_file(src, 0, &je), *res;
	size_t i;

	cr_assert_not_null(root, "%s", je.text);
	json_array_foreach(json_object_get(root, "results"), i, res)
	{
		json_t *ms = json_object_get(json_object_get(res, "repeats"),
					     "metrics"),
		       *mv;
		const char *key;

		if (method &&
		    strcmp(json_string_value(json_object_get(res, "method")),
			   method))
			continue;
		if (status)
			json_object_set_new(res, "status", json_string(status));
		json_object_foreach(ms, key, mv)
		{
			json_t *vals = json_object_get(mv, "values");

			if (name && strcmp(key, name))
				continue;
			for (size_t r = 0; r < json_array_size(vals); r++)
				json_array_set(vals, r, v ? v : json_null());
		}
	}
	cr_assert_eq(json_dump_file(root, dst, JSON_INDENT(1)), 0);
	json_decref(root);
}

Test(gate, baselines_no_gate_can_compare_with_are_refused_before_running,
     .timeout = 60)
{
	char dir[] = "/tmp/ik-closed-XXXXXX", base[64], bad[64];
	json_t *zero = json_real(0);
	struct out o;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/base.json", dir);
	snprintf(bad, sizeof(bad), "%s/bad.json", dir);
	o = run((const char *const[]){"--method", "line,spsc", "--iters",
				      "1000", "--repeat", "3",
				      "--save-baseline", base, NULL});
	cr_assert_eq(o.code, 0, "%s", o.err);
	free(o.stdout_text);
#define RUN_AGAINST                                                            \
	((const char *const[]){"--method", "line,spsc", "--iters", "1000",     \
			       "--repeat", "3", "--baseline", bad,             \
			       "--normalize", "line", NULL})
	/* every cell an error: was "gate passed: 0 of 0 checks failed" */
	edit_baseline(base, bad, NULL, NULL, "error", NULL);
	expect_refused_early(RUN_AGAINST, bad,
			     "result 1 (line thread 8 B): status \"error\"");
	/* every value null: the same */
	edit_baseline(base, bad, NULL, NULL, NULL, NULL);
	expect_refused_early(RUN_AGAINST, bad,
			     "result 1 (line thread 8 B): no p50, p99, msgs "
			     "or cpu value");
	/* the normaliser's p50 is 0: every ratio over it would be inf */
	edit_baseline(base, bad, "p50_ns", zero, NULL, "line");
	expect_refused_early(RUN_AGAINST, bad,
			     "result 1 (line thread 8 B): p50 is 0 in repeat "
			     "1");
	/* a metric of 0: was "unchanged xinf" */
	edit_baseline(base, bad, "cpu_ns_per_msg", zero, NULL, "spsc");
	expect_refused_early(
		RUN_AGAINST, bad,
		"result 2 (spsc thread 8 B): cpu is 0 in repeat 1");
#undef RUN_AGAINST
	json_decref(zero);
	unlink(bad);
	unlink(base);
	rmdir(dir);
}

Test(gate, a_baseline_that_compares_nothing_fails_the_gate, .timeout = 60)
{
	char path[] = "/tmp/ik-nothing-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct out o;

	/* a good baseline of another method: with --allow-mismatch every
	 * cell of this run is missing from it, so nothing is compared */
	cr_assert_not_null(f);
	fputs("{\"schema\": \"ipckern/1\", \"machine\": {\"model_name\": "
	      "\"x\"}, \"config\": {}, \"results\": [{\"method\": \"pipe\", "
	      "\"mode\": \"thread\", \"size\": 8, \"buffer\": 0, \"gap_ns\": "
	      "0, \"status\": \"ok\", \"pair\": {\"relation\": \"shared-l3\"}, "
	      "\"repeats\": {\"count\": 3, \"metrics\": {\"p50\": {\"values\": "
	      "[100, 100, 100]}}}}]}",
	      f);
	fclose(f);
	o = run((const char *const[]){"--method", "spsc", "--iters", "1000",
				      "--repeat", "3", "--baseline", path,
				      "--allow-mismatch", NULL});
	cr_expect_eq(o.code, 1, "was exit 0; now %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "gate failed: nothing was compared: none of "
				"this run's 1 cells is in the baseline"),
		  "%s", o.err);
	cr_expect(strstr(o.stdout_text, "GATE FAILED") != NULL, "%s",
		  o.stdout_text);
	cr_expect(strstr(o.stdout_text, "gate passed") == NULL, "%s",
		  o.stdout_text);
	free(o.stdout_text);
	unlink(path);
}

Test(gate, baseline_inputs_must_be_regular_files_and_never_block, .timeout = 60)
{
	char dir[] = "/tmp/ik-input-XXXXXX", fifo[64], sub[64], big[64];
	struct stat st;
	int fd;

	child_alarm_s = 20; /* a regression blocks in open(): fail, not hang */
	cr_assert_not_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo.json", dir);
	snprintf(sub, sizeof(sub), "%s/dir.json", dir);
	snprintf(big, sizeof(big), "%s/big.json", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(mkdir(sub, 0700), 0);
	fd = open(big, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 17 << 20), 0); /* sparse: costs nothing */
	close(fd);
	expect_refused_early((const char *const[]){"--method", "spsc",
						   "--baseline", fifo, NULL},
			     fifo, "a FIFO, not a regular file");
	expect_refused_early((const char *const[]){"--method", "spsc",
						   "--baseline", sub, NULL},
			     sub, "a directory, not a regular file");
	expect_refused_early((const char *const[]){"--method", "spsc",
						   "--baseline", big, NULL},
			     big, "larger than 16 MiB");
	expect_refused_early((const char *const[]){"--method", "spsc",
						   "--baseline", "/dev/zero",
						   NULL},
			     "/dev/zero", "a character device");
	/* --append reads the file it will replace: the same rules */
	expect_refused_early((const char *const[]){"--method", "spsc",
						   "--save-baseline", fifo,
						   "--append", NULL},
			     fifo, "--append");
	expect_refused_early((const char *const[]){"--method", "spsc",
						   "--save-baseline", big,
						   "--append", NULL},
			     big, "--append");
	cr_expect_eq(stat(fifo, &st), 0);
	cr_expect(S_ISFIFO(st.st_mode), "the FIFO is still a FIFO");
	cr_expect_eq(stat(big, &st), 0);
	cr_expect_eq(st.st_size, 17 << 20, "the big file is untouched");
	unlink(fifo);
	unlink(big);
	rmdir(sub);
	rmdir(dir);
}

/* results[0].repeats of a JSON file: its "metrics" as k values each */
static void grow_repeats(json_t *root, unsigned k)
{
	json_t *rep = json_object_get(
		       json_array_get(json_object_get(root, "results"), 0),
		       "repeats"),
	       *mv;
	const char *key;

	json_object_set_new(rep, "count", json_integer(k));
	json_object_foreach(json_object_get(rep, "metrics"), key, mv)
	{
		json_t *old = json_object_get(mv, "values"),
		       *vals = json_array();
		size_t n = json_array_size(old);

		for (unsigned r = 0; r < k; r++)
			json_array_append_new(
				vals, !strcmp(key, "p50_ns")
					      ? json_real(1000 + r)
					      : json_deep_copy(json_array_get(
							old, r % n)));
		json_object_set_new(mv, "values", vals);
	}
}

static json_t *p50_values(json_t *root)
{
	json_t *res = json_array_get(json_object_get(root, "results"), 0),
	       *ms = json_object_get(json_object_get(res, "repeats"),
				     "metrics");

	return json_object_get(json_object_get(ms, "p50_ns"), "values");
}

Test(gate, append_past_the_limit_keeps_the_newest_and_still_loads,
     .timeout = 120)
{
	char dir[] = "/tmp/ik-keep-XXXXXX", path[64];
	json_error_t je;
	json_t *root, *rep, *vals;
	struct out o;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/base.json", dir);
	o = run((const char *const[]){"--method", "spsc", "--iters", "1000",
				      "--repeat", "3", "--save-baseline", path,
				      NULL});
	cr_assert_eq(o.code, 0, "%s", o.err);
	free(o.stdout_text);
	/* as if many CI runs had appended: the file at the limit, p50 of
	 * repeat r = 1000 + r so we can tell which ones are kept */
	root = json_load_file(path, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	grow_repeats(root, IK_BASELINE_KEEP);
	cr_assert_eq(json_dump_file(root, path, 0), 0);
	json_decref(root);
	o = run((const char *const[]){"--method", "spsc", "--iters", "1000",
				      "--repeat", "3", "--save-baseline", path,
				      "--append", NULL});
	cr_assert_eq(o.code, 0, "a file at the limit appends: %s", o.err);
	free(o.stdout_text);
	root = json_load_file(path, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	rep = json_object_get(
		json_array_get(json_object_get(root, "results"), 0), "repeats");
	cr_expect_eq(json_integer_value(json_object_get(rep, "count")),
		     IK_BASELINE_KEEP, "no growth past the limit");
	cr_expect_eq(json_integer_value(json_object_get(rep, "keep")),
		     IK_BASELINE_KEEP, "the limit is in the file");
	vals = p50_values(root);
	cr_expect_eq(json_real_value(json_array_get(vals, 0)), 1003,
		     "the three oldest are gone");
	cr_expect_eq(
		json_real_value(json_array_get(vals, IK_BASELINE_KEEP - 4)),
		1000 + IK_BASELINE_KEEP - 1,
		"the file's newest come before this run's three");
	json_decref(root);
	/* and the next gate reads it: was "no per-repeat metrics" */
	o = run((const char *const[]){"--method", "spsc", "--iters", "1000",
				      "--repeat", "3", "--baseline", path,
				      NULL});
	cr_expect(o.code == 0 || o.code == 1, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "spsc [thread 8 B] p50") != NULL, "%s",
		  o.stdout_text);
	free(o.stdout_text);
	/* one past the limit is not a file ipckern writes: refused */
	root = json_load_file(path, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	grow_repeats(root, IK_BASELINE_KEEP + 1);
	cr_assert_eq(json_dump_file(root, path, 0), 0);
	json_decref(root);
	BAD("a baseline keeps at most the newest 1000", "--method", "spsc",
	    "--baseline", path);
	unlink(path);
	rmdir(dir);
}

/*
 * Hostile inputs: topology files and topologies from the environment are
 * refused before hwloc reads them, one number syntax holds everywhere.
 */

/* run_env with a deadline: ipckern gets SIGALRM after secs, so a run that
 * blocks (on a FIFO, say) fails the test instead of hanging it */
static struct out run_within(unsigned secs, const char *env,
			     const char *const *args)
{
	struct out o;

	child_alarm_s = secs;
	o = run_env(env, args, -1);
	child_alarm_s = 0;
	free(o.stdout_text); /* these tests read stderr only */
	o.stdout_text = NULL;
	return o;
}

static void expect_refused_within(const char *env, const char *const *args,
				  const char *says)
{
	struct out o = run_within(10, env, args);

	cr_expect_eq(o.code, 2,
		     "%s %s: exit %d (142: still blocked after "
		     "10 s): %s",
		     env ? env : "", args[1], o.code, o.err);
	cr_expect_eq(lines(o.err), 1, "one line on stderr, got: %s", o.err);
	cr_expect(strstr(o.err, says) != NULL, "stderr should say '%s': %s",
		  says, o.err);
}

#define REFUSED_TOPOLOGY(file, says)                                           \
	expect_refused_within(NULL,                                            \
			      (const char *const[]){"--topology", file,        \
						    "--classes", "--dry-run",  \
						    NULL},                     \
			      says)

Test(inputs, topologies_that_are_no_regular_file_are_refused_at_once,
     .timeout = 60)
{
	char dir[] = "/tmp/ik-inputs-XXXXXX", fifo[64];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	REFUSED_TOPOLOGY(fifo, "a FIFO, not a regular file");
	REFUSED_TOPOLOGY("/dev/zero", "a character device, not a regular");
	REFUSED_TOPOLOGY(dir, "a directory, not a regular file");
	unlink(fifo);
	rmdir(dir);
}

/* tests/data/no-l3.xml with from replaced by to, in dir/name */
static void edited_topology(const char *path, const char *from, const char *to)
{
	FILE *in = fopen(IK_TESTDATA "/no-l3.xml", "r"), *out;
	char text[8192], *at;
	size_t n;

	cr_assert_not_null(in);
	n = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[n] = 0;
	at = strstr(text, from);
	cr_assert_not_null(at, "no '%s' in no-l3.xml", from);
	out = fopen(path, "w");
	cr_assert_not_null(out);
	fprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	fclose(out);
}

Test(inputs, hostile_topology_xml_is_refused_before_hwloc_reads_it,
     .timeout = 60)
{
	char dir[] = "/tmp/ik-inputs-XXXXXX", deep[64], huge[64], big[64];
	FILE *f;
	int fd, i;

	cr_assert_not_null(mkdtemp(dir));
	/* 20,000 nested Groups crashed hwloc (and lstopo) */
	snprintf(deep, sizeof(deep), "%s/deep.xml", dir);
	f = fopen(deep, "w");
	cr_assert_not_null(f);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<topology "
	      "version=\"2.0\"><object type=\"Machine\" os_index=\"0\" "
	      "cpuset=\"0x1\" complete_cpuset=\"0x1\" nodeset=\"0x1\" "
	      "complete_nodeset=\"0x1\">",
	      f);
	for (i = 0; i < 20000; i++)
		fputs("<object type=\"Group\" cpuset=\"0x1\" "
		      "complete_cpuset=\"0x1\" nodeset=\"0x1\" "
		      "complete_nodeset=\"0x1\">",
		      f);
	fputs("<object type=\"PU\" os_index=\"0\" cpuset=\"0x1\" "
	      "complete_cpuset=\"0x1\" nodeset=\"0x1\" "
	      "complete_nodeset=\"0x1\"/>",
	      f);
	for (i = 0; i < 20000; i++)
		fputs("</object>", f);
	fputs("</object></topology>\n", f);
	fclose(f);
	REFUSED_TOPOLOGY(deep, "elements nested more than 128 deep");
	/* a PU numbered 4294967295 cost 512 MiB of bitmap */
	snprintf(huge, sizeof(huge), "%s/huge.xml", dir);
	edited_topology(huge, "<object type=\"PU\" os_index=\"3\"",
			"<object type=\"PU\" os_index=\"4294967295\"");
	REFUSED_TOPOLOGY(huge, "PU os_index 4294967295 is over 16383");
	snprintf(big, sizeof(big), "%s/big.xml", dir);
	fd = open(big, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 40 << 20), 0); /* sparse: costs nothing */
	close(fd);
	REFUSED_TOPOLOGY(big, "over the 32 MiB a topology file may have");
	/* the largest index accepted still classifies */
	edited_topology(huge, "<object type=\"PU\" os_index=\"3\"",
			"<object type=\"PU\" os_index=\"16383\"");
	{
		struct out o = run_within(
			30, NULL,
			(const char *const[]){"--topology", huge, "--classes",
					      "--dry-run", NULL});

		cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	}
	unlink(deep);
	unlink(huge);
	unlink(big);
	rmdir(dir);
}

Test(inputs, topologies_from_the_environment_get_the_same_checks, .timeout = 60)
{
	static const char *const dry[] = {"--classes", "--dry-run", NULL};

	expect_refused_within("HWLOC_XMLFILE=/dev/zero", dry,
			      "HWLOC_XMLFILE=/dev/zero: a character device");
	/* hwloc would quietly describe this machine instead of these */
	expect_refused_within("HWLOC_XMLFILE=/nonexistent/x.xml", dry,
			      "HWLOC_XMLFILE=/nonexistent/x.xml: cannot open");
	expect_refused_within("HWLOC_SYNTHETIC=garbage", dry,
			      "HWLOC_SYNTHETIC 'garbage': not a synthetic");
	expect_refused_within("HWLOC_SYNTHETIC=pack:64 core:64 pu:64", dry,
			      "describes more than 16384 PUs");
}

Test(inputs, exponents_fractions_and_units_are_read_everywhere, .timeout = 60)
{
	struct out o = run_within(
		30, NULL,
		(const char *const[]){"--classes", "--dry-run", "--iters",
				      "1e3", "--warmup", "2e2", "--timeout",
				      "2.5", "--duration", "500ms", "--size",
				      "1.5k", "--buffer", "0.5m", "--gap",
				      "1.5us,2e3", NULL});

	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
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

/* ---- the harness floor ---- */

Test(cli, a_pinned_pingpong_reports_the_floor_beside_line, .timeout = 60)
{
	const char *pinned[] = {"--pin",    "auto",    "--method",
				"line",	    "--iters", "2000",
				"--format", "json",    NULL};
	const char *unpinned[] = {"--method", "line", "--iters", "2000",
				  "--format", "json", NULL};
	const char *table[] = {"--pin",	  "auto", "--method", "line",
			       "--iters", "2000", NULL};
	struct out o;
	json_t *root = json_run(pinned, &o),
	       *fl = json_object_get(root, "floor");

	cr_assert_not_null(fl, "no floor in: %s", o.stdout_text);
	cr_expect_gt(json_integer_value(json_object_get(fl, "p50_ns")), 0);
	cr_expect_gt(json_real_value(json_object_get(fl, "untimed_mean_ns")),
		     0);
	cr_expect_eq(json_integer_value(json_object_get(fl, "round_trips")),
		     2000);
	cr_expect_eq(json_array_size(json_object_get(fl, "cpus")), 2);
	cr_expect_not_null(json_object_get(root, "vs_line"));
	json_decref(root);
	free(o.stdout_text);
	root = json_run(unpinned, &o);
	cr_expect_null(json_object_get(root, "floor"),
		       "an unpinned run has no pair to measure a floor on");
	json_decref(root);
	free(o.stdout_text);
	o = run(table);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.stdout_text, "floor:   one word bounced"), "%s",
		  o.stdout_text);
	free(o.stdout_text);
}

/* --explain: futex's peers switch, so its timed figures come from a
 * second, uncounted pass; spsc's never do, so its counted pass is its
 * timed one. Every row has a reading, every counter its availability. */
Test(cli, explain_says_which_pass_was_timed, .timeout = 120)
{
	struct out o;
	json_t *r = json_run(
		(const char *const[]){"--method", "futex,spsc", "--pin", "auto",
				      "--iters", "2000", "--warmup", "200",
				      "--explain", "--format", "json", NULL},
		&o);
	size_t i;
	json_t *res, *e, *cyc;

	json_array_foreach(json_object_get(r, "results"), i, res)
	{
		const char *m =
			json_string_value(json_object_get(res, "method"));

		const char *pass, *want = NULL;
		double sw = 0, n;

		e = json_object_get(res, "explain");
		cr_assert_not_null(e, "%s: no explain", m);
		pass = json_string_value(json_object_get(e, "timed_pass"));
		/* the rule: a counted pass whose peers switched (1 % of the
		 * trips or more) is timed again. futex always switches; a
		 * spinning spsc does not on a quiet machine, but a loaded one
		 * preempts it: judge it by its own counted switches (perf's,
		 * which getrusage's match but for a switch or two at the
		 * edges: between none and 2 % either answer is right) */
		for (const char *side = "a"; *side;
		     side = *side == 'a' ? "b" : "") {
			json_t *cs = json_object_get(json_object_get(e, side),
						     "context_switches");

			if (!json_is_true(json_object_get(cs, "available")))
				sw = NAN; /* not counted: no judgement */
			sw += json_number_value(json_object_get(cs, "total"));
		}
		n = json_number_value(json_object_get(res, "count"));
		if (!strcmp(m, "futex") || sw >= 0.02 * n)
			want = "second, uncounted";
		else if (sw == 0)
			want = "the counted one";
		if (want)
			cr_expect_str_eq(pass, want, "%s (%.0f switches)", m,
					 sw);
		else
			cr_expect(!strcmp(pass, "the counted one") ||
					  !strcmp(pass, "second, uncounted"),
				  "%s: %s", m, pass);
		cr_expect(json_string_length(json_object_get(e, "reading")));
		cyc = json_object_get(json_object_get(e, "a"), "cycles");
		cr_expect(
			json_is_true(json_object_get(cyc, "available")) ||
				json_string_length(json_object_get(cyc, "why")),
			"%s: cycles neither available nor explained", m);
	}
	json_decref(r);
	free(o.stdout_text);
}

/* --explain --pairs 2: futex's pairs switch, so both are timed again
 * together, uncounted; each pair keeps its own counts, whose per-hop
 * switches are of the counted pass (vcs and cs agree there). */
Test(cli, explain_times_pairs_again_together, .timeout = 120)
{
	struct out o;
	json_t *r = json_run(
		(const char *const[]){"--method", "futex", "--pairs", "2",
				      "--iters", "2000", "--warmup", "200",
				      "--explain", "--format", "json", NULL},
		&o);
	size_t i, pairs = 0;
	json_t *res, *e;

	json_array_foreach(json_object_get(r, "results"), i, res)
	{
		double cs, vcs, ics;

		e = json_object_get(res, "explain");
		if (!json_is_integer(json_object_get(res, "pair_number")))
			continue; /* the sum */
		pairs++;
		cr_assert_not_null(e, "pair %zu: no explain", pairs);
		cr_expect_str_eq(
			json_string_value(json_object_get(e, "timed_pass")),
			"second, uncounted");
		e = json_object_get(e, "a");
		cs = json_real_value(json_object_get(
			json_object_get(e, "context_switches"), "per_hop"));
		vcs = json_real_value(json_object_get(
			json_object_get(e, "voluntary_cs"), "per_hop"));
		ics = json_real_value(json_object_get(
			json_object_get(e, "involuntary_cs"), "per_hop"));
		/* one pass's perf and getrusage counts of one thread */
		cr_expect(fabs(cs - (vcs + ics)) < 0.05,
			  "cs %.3f, vcs + ics %.3f", cs, vcs + ics);
	}
	cr_expect_eq(pairs, 2);
	json_decref(r);
	free(o.stdout_text);
}

/* --method all says what it left out and why, in the table's notes and
 * JSON's: each method unavailable here in either mode, by name (on a
 * machine without vsock_loopback, vsock). */
Test(cli, all_says_which_methods_it_left_out_and_why, .timeout = 120)
{
	struct ik_chan_params th = {.size = 1, .mode = IK_MODE_THREAD};
	struct ik_chan_params pr = {.size = 1, .mode = IK_MODE_PROCESS};
	const struct ik_transport_ops *const *t;
	struct out o = run((const char *const[]){"--method", "all", "--iters",
						 "10", "--warmup", "0",
						 "--format", "json", NULL});
	json_t *doc, *notes;
	char want[128];

	cr_assert_eq(o.code, 0, "%s", o.err);
	doc = json_loads(o.stdout_text, 0, NULL);
	cr_assert_not_null(doc);
	notes = json_object_get(doc, "notes");
	for (t = ik_transports; *t; t++) {
		bool out = !((*t)->flags & IK_T_TEST) && (*t)->unavailable &&
			   (*t)->unavailable(&th) && (*t)->unavailable(&pr);
		bool said = false;
		size_t i;

		snprintf(want, sizeof(want),
			 "--method all left out %s, unavailable here: ",
			 (*t)->name);
		for (i = 0; i < json_array_size(notes); i++)
			said |= !strncmp(
				json_string_value(json_array_get(notes, i)),
				want, strlen(want));
		cr_expect_eq(said, out, "%s: left out %d, said %d", (*t)->name,
			     out, said);
	}
	json_decref(doc);
	free(o.stdout_text);
}

/* uds-seqpacket and seccomp-notify are longer than the 10 characters
 * the name column had: every summary starts in one column, after the
 * longest name. */
Test(cli, list_lines_up_its_summaries_after_the_longest_name)
{
	struct out o = run((const char *const[]){"--list", NULL});
	char *line, *save = NULL;
	long col = -1;

	cr_assert_eq(o.code, 0);
	cr_assert(strstr(o.stdout_text, "seccomp-notify") != NULL);
	/* the methods; the wait strategies after them line up as well */
	if ((line = strstr(o.stdout_text, "\n\nwait strategies")))
		memmove(line + 1, strchr(line + 2, '\n') + 1,
			strlen(strchr(line + 2, '\n') + 1) + 1);
	for (line = strtok_r(o.stdout_text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t name = strcspn(line, " ");
		long at = (long)(name + strspn(line + name, " "));

		if (col < 0)
			col = at;
		cr_expect_eq(at, col, "%s", line);
	}
	free(o.stdout_text);
}

/* The latency table's method column is as wide as its longest name:
 * uds-seqpacket's mode sits under "mode" like pipe's. */
Test(cli, a_long_method_name_keeps_the_table_in_line, .timeout = 60)
{
	struct out o = run((const char *const[]){
		"--method", "uds-seqpacket,pipe", "--iters", "100", "--warmup",
		"20", NULL});
	const char *head, *l1, *l2;

	cr_assert_eq(o.code, 0, "%s", o.err);
	head = strstr(o.stdout_text, "\nmethod ");
	l1 = strstr(o.stdout_text, "\nuds-seqpacket ");
	l2 = strstr(o.stdout_text, "\npipe ");
	cr_assert(head && l1 && l2, "%s", o.stdout_text);
	cr_expect_eq(strstr(l1, "thread") - l1, strstr(head, "mode") - head,
		     "%s", o.stdout_text);
	cr_expect_eq(strstr(l2, "thread") - l2, strstr(head, "mode") - head,
		     "%s", o.stdout_text);
	free(o.stdout_text);
}

/* ---- line provenance and preheat (issue 19) ---- */

Test(cli, line_provenance_refusals_name_the_value_and_what_is_allowed,
     .timeout = 30)
{
	BAD("--home 4095: no such NUMA node here; nodes: 0-", "--method",
	    "line", "--home", "4095");
	BAD("--home 'x'", "--home", "1,x");
	BAD("--first-touch 'c'", "--first-touch", "c");
	BAD("--first-touch a or b: needs the peers pinned", "--method", "line",
	    "--first-touch", "a");
	BAD("--first-touch 99999: CPU not usable here", "--method", "line",
	    "--first-touch", "99999");
	BAD("--lines: applies to --method line, not spsc", "--method", "spsc",
	    "--lines", "4");
	BAD("--line-op: applies to --method line, not pipe", "--method",
	    "line,pipe", "--line-op", "cas");
	BAD("allowed: store, load, cas, xchg, xadd", "--method", "line",
	    "--line-op", "swap");
	BAD("--stride: applies to --method line and spsc, not pipe", "--method",
	    "pipe", "--stride", "128");
	BAD("allowed: 64, 128", "--method", "line", "--stride", "96");
	BAD("--preheat: needs the peers pinned", "--method", "line",
	    "--preheat", "10");
	BAD("--lines: applies to --kernel pingpong", "--kernel", "stream",
	    "--method", "line", "--lines", "2");
}

/* Each dimension is a key of its own in JSON, only when asked: a default
 * run's results have none of them. */
Test(cli, line_dimensions_sweep_and_appear_only_when_used, .timeout = 120)
{
	struct out o;
	json_t *r = json_run(
		(const char *const[]){"--method", "line", "--pin", "0,1",
				      "--line-op", "load,cas", "--stride",
				      "64,128", "--lines", "3", "--first-touch",
				      "b", "--iters", "600", "--warmup", "20",
				      "--format", "json", NULL},
		&o);
	json_t *res = json_object_get(r, "results"), *x, *v;
	const char *ops[] = {"load", "load", "cas", "cas"};
	unsigned k;

	cr_assert_eq(json_array_size(res), 4, "%s", o.stdout_text);
	for (k = 0; k < 4; k++) {
		x = json_array_get(res, k);
		cr_expect_str_eq(
			json_string_value(json_object_get(x, "line_op")),
			ops[k]);
		cr_expect_eq(json_integer_value(json_object_get(x, "stride")),
			     k % 2 ? 128 : 64);
		cr_expect_eq(json_integer_value(json_object_get(x, "lines")),
			     3);
		cr_expect_str_eq(
			json_string_value(json_object_get(x, "first_touch")),
			"b");
		v = json_object_get(x, "line_provenance");
		cr_expect_eq(json_integer_value(
				     json_object_get(v, "touched_on_cpu")),
			     1);
		cr_expect_eq(
			json_array_size(json_object_get(v, "per_line_p50_ns")),
			3);
		cr_expect_not_null(json_object_get(v, "worst_line"));
		cr_expect(json_is_integer(json_object_get(v, "node_of_pages")));
	}
	json_decref(r);
	free(o.stdout_text);
	r = json_run((const char *const[]){"--method", "line", "--iters", "200",
					   "--format", "json", NULL},
		     &o);
	x = json_array_get(json_object_get(r, "results"), 0);
	cr_expect_null(json_object_get(x, "line_op"));
	cr_expect_null(json_object_get(x, "line_provenance"));
	cr_expect_null(json_object_get(x, "preheat"));
	json_decref(r);
	free(o.stdout_text);
}

/* One node here: --home 0 is checked and said to prove nothing. */
Test(cli, home_reports_the_node_move_pages_found, .timeout = 60)
{
	struct out o;
	json_t *r, *x, *v;

	if (numa_available() < 0)
		cr_skip_test("no NUMA support (libnuma) here");
	r = json_run((const char *const[]){"--method", "spsc", "--home", "0",
					   "--iters", "200", "--format", "json",
					   NULL},
		     &o);
	x = json_array_get(json_object_get(r, "results"), 0);
	v = json_object_get(x, "line_provenance");
	cr_expect_eq(json_integer_value(json_object_get(x, "home")), 0);
	cr_expect_eq(json_integer_value(json_object_get(v, "node_of_pages")),
		     0);
	if (numa_max_node() == 0)
		cr_expect(strstr(
			json_string_value(json_object_get(v, "not_verified")),
			"one NUMA node"));
	json_decref(r);
	free(o.stdout_text);
}

/* No cpufreq and no MSR device here: the clock is "not exposed", with
 * why, never a zero. */
Test(cli, preheat_records_the_clock_or_why_not, .timeout = 60)
{
	struct out o;
	json_t *r, *ph;

	r = json_run((const char *const[]){"--method", "line", "--pin", "0,1",
					   "--preheat", "30", "--iters", "200",
					   "--format", "json", NULL},
		     &o);
	ph = json_object_get(json_array_get(json_object_get(r, "results"), 0),
			     "preheat");
	cr_expect_eq(json_integer_value(json_object_get(ph, "ms")), 30);
	if (json_is_null(json_object_get(ph, "clock_source"))) {
		cr_expect(!strncmp(
			json_string_value(json_object_get(ph, "not_exposed")),
			"not exposed: ", 13));
		cr_expect(json_is_null(json_object_get(ph, "khz_before")));
	} else {
		cr_expect(json_is_array(json_object_get(ph, "khz_before")));
	}
	json_decref(r);
	free(o.stdout_text);
}

/* --load (issue 19): refusals end to end, before anything runs */
Test(cli, a_bad_load_is_refused_before_running)
{
	BAD("--load 'bogus@1': 'bogus': unknown kind; allowed: none", "--load",
	    "bogus@1");
	BAD("smt takes no CPUs", "--load", "smt@1");
	BAD("--load-on-peer: goes with a --load", "--load-on-peer");
	BAD("--load: runs beside one pair; drop --pairs", "--load", "spin@1",
	    "--pairs", "2");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	BAD("spin on CPU 4096: no such CPU", "--pin", "0,1", "--load",
	    "spin@4096");
	BAD("spin on CPU 0: that is peer A's CPU", "--pin", "0,1", "--load",
	    "spin@0");
	BAD("stream on CPU 0: that is peer A's CPU", "--pin", "0,1", "--load",
	    "none", "--load", "stream@0+1");
}

/* On a CPU without SMT siblings (this VM) smt says why it cannot run. */
Test(cli, smt_load_without_a_sibling_is_refused_with_the_reason)
{
	FILE *f = fopen("/sys/devices/system/cpu/cpu0/topology/"
			"thread_siblings_list",
			"re");
	char l[64] = "";

	if (f) {
		if (!fgets(l, sizeof(l), f))
			l[0] = 0;
		fclose(f);
	}
	if (!l[0] || strpbrk(l, ",-"))
		cr_skip_test("CPU 0 has SMT siblings: the guest checks this");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	BAD("smt: CPU 0 (peer A) has no SMT sibling", "--pin", "0,1", "--load",
	    "smt");
}

/* --load twice: two cells, the load in the key columns and its own
 * columns; a run without --load has none of them */
Test(cli, loads_sweep_as_cells_with_their_own_columns, .timeout = 60)
{
	struct out o;
	char *second;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	o = run((const char *const[]){
		"--pin", "0,1", "--method", "pipe", "--load", "none", "--load",
		"spin@0", "--load-on-peer", "--iters", "50", "--warmup", "5",
		"--format", "csv", NULL});
	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, ",load,load_cpus_seen,load_rates\n"),
		  "%s", o.stdout_text);
	second = strchr(strchr(o.stdout_text, '\n') + 1, '\n');
	cr_assert_not_null(second);
	cr_expect(strstr(o.stdout_text, ",none,,\n"), "%s", o.stdout_text);
	cr_expect(strstr(second, ",spin@0,0,spin="), "%s", o.stdout_text);
	cr_expect(strstr(second, " iters/s\n"), "%s", o.stdout_text);
	free(o.stdout_text);
	o = run((const char *const[]){"--pin", "0,1", "--method", "pipe",
				      "--iters", "50", "--warmup", "5",
				      "--format", "csv", NULL});
	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	cr_expect(!strstr(o.stdout_text, "load"), "%s", o.stdout_text);
	free(o.stdout_text);
}

/* Does any of the report's notes hold s? */
static bool has_note(json_t *r, const char *s)
{
	json_t *n;
	size_t i;

	json_array_foreach(json_object_get(r, "notes"), i,
			   n) if (strstr(json_string_value(n), s)) return true;
	return false;
}

/* The CPU latency QoS limit in force, or -1 where we may not read it. */
static long qos_now(void)
{
	int32_t v;
	int fd = open("/dev/cpu_dma_latency", O_RDONLY | O_CLOEXEC);
	long ret = -1;

	if (fd < 0)
		return -1;
	if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		ret = v;
	close(fd);
	return ret;
}

/* --cpu-latency: held while measuring, said by the report, dropped at
 * exit; refused with exit 3 where /dev/cpu_dma_latency is not ours */
Test(cli, cpu_latency_is_held_while_measuring_and_dropped_at_exit,
     .timeout = 60)
{
	const char *const args[] = {
		"--pin",    "0,0",	"--method", "pipe",	     "--iters",
		"200",	    "--warmup", "20",	    "--cpu-latency", "0",
		"--format", "json",	NULL};
	long before = qos_now();
	struct out o;
	json_t *r;

	if (before < 0 || access("/dev/cpu_dma_latency", W_OK)) {
		o = run(args);
		cr_expect_eq(o.code, 3, "exit %d: %s", o.code, o.err);
		t_expect_one_line_naming("stderr", o.err, true,
					 "/dev/cpu_dma_latency");
		free(o.stdout_text);
		cr_skip_test("not root: the refusal checked, not the hold");
	}
	r = json_run(args, &o);
	cr_expect_str_eq(
		json_string_value(json_object_get(json_object_get(r, "machine"),
						  "cpu_latency_qos")),
		"0 us");
	cr_expect(has_note(r, "held the CPU latency QoS at 0 us"), "%s",
		  o.stdout_text);
	cr_expect_eq(qos_now(), before, "the hold outlived the run");
	json_decref(r);
	free(o.stdout_text);
}

/* The report's own machine: may an idle CPU halt under the limit in
 * force (ik_machine_idles, from what the JSON says)? */
static bool machine_idles(json_t *m)
{
	json_t *exit_us = json_object_get(m, "idle_exit_us");
	const char *q =
		json_string_value(json_object_get(m, "cpu_latency_qos"));

	if (!json_is_integer(exit_us))
		return false;
	if (!strcmp(q, "none") || !strcmp(q, "unknown"))
		return true;
	return atol(q) >= json_integer_value(exit_us);
}

/* Where a peer sleeps across two CPUs that may idle, the report says
 * how to hold the idle states off; spinning or on one CPU, it does not */
Test(cli, a_sleeping_pair_across_cpus_hears_of_idle_states, .timeout = 60)
{
	struct out o;
	json_t *r, *m;
	bool idles;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	r = json_run((const char *const[]){"--pin", "0,1", "--method", "futex",
					   "--iters", "200", "--warmup", "20",
					   "--format", "json", NULL},
		     &o);
	m = json_object_get(r, "machine");
	idles = machine_idles(m);
	cr_expect_eq(has_note(r, "--cpu-latency 0 holds it off"), idles, "%s",
		     o.stdout_text);
	cr_expect_eq(strstr(o.err, "--cpu-latency 0") != NULL, idles, "%s",
		     o.err);
	json_decref(r);
	free(o.stdout_text);
	/* --pairs: any two of the CPUs given, not the first pair's */
	r = json_run((const char *const[]){"--pairs", "2", "--pin", "0,0,0,1",
					   "--method", "futex", "--iters",
					   "200", "--warmup", "20", "--format",
					   "json", NULL},
		     &o);
	cr_expect_eq(has_note(r, "--cpu-latency 0 holds it off"), idles, "%s",
		     o.stdout_text);
	json_decref(r);
	free(o.stdout_text);
	for (int k = 0; k < 2; k++) {
		r = json_run(
			(const char *const[]){"--pin", k ? "0,1" : "0,0",
					      "--method", k ? "line" : "futex",
					      "--iters", "200", "--warmup",
					      "20", "--format", "json", NULL},
			&o);
		cr_expect_not(has_note(r, "--cpu-latency 0"), "%s",
			      o.stdout_text);
		json_decref(r);
		free(o.stdout_text);
	}
}
