/* SPDX-License-Identifier: MIT */
/*
 * Antagonists (--load, kernels/load.c): a set is parsed or refused with
 * the reason; it resolves against a topology (smt through hwloc's
 * siblings on the E5-1620, refused where a peer has none; l3 sized to
 * the shared cache; a peer's CPU refused unless allowed); and each kind
 * runs beside a real ping-pong on the CPU it was given (sched_getcpu,
 * reported), does work at a nonzero rate, stops with the cell and
 * leaves no thread, fd or mapping behind. This machine has two CPUs, so
 * the runs load a peer's own CPU, with the allow flag.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#ifndef IK_TESTDATA
#error "IK_TESTDATA: the test data folder, set by tests/CMakeLists.txt"
#endif

static int parse(const char *s, struct ik_load_set *set, char *msg)
{
	msg[0] = 0;
	return ik_load_parse(s, set, msg, 200);
}

Test(load_parse, every_kind_is_read_with_its_cpus_and_arguments)
{
	struct ik_load_set set;
	char msg[200];

	cr_assert_eq(parse("spin@2+4-5,smt,l3@1,mem:0@3,stream:uds:4k@6+7",
			   &set, msg),
		     0, "%s", msg);
	cr_assert_eq(set.n, 5);
	cr_expect_eq(set.item[0].kind, IK_LOAD_SPIN);
	cr_expect_eq(set.item[0].ncpus, 3);
	cr_expect_eq(set.item[0].cpus[2], 5);
	cr_expect_eq(set.item[1].kind, IK_LOAD_SMT);
	cr_expect_eq(set.item[2].kind, IK_LOAD_L3);
	cr_expect_eq(set.item[3].kind, IK_LOAD_MEM);
	cr_expect_eq(set.item[3].node, 0);
	cr_expect_eq(set.item[4].kind, IK_LOAD_STREAM);
	cr_expect_eq(set.item[4].ops, ik_transport_find("uds"));
	cr_expect_eq(set.item[4].size, 4096);
	cr_expect_eq(set.item[4].cpus[0], 6);
	cr_expect_eq(set.item[4].cpus[1], 7);
	cr_expect_str_eq(set.text,
			 "spin@2+4-5,smt,l3@1,mem:0@3,stream:uds:4k@6+7");
	cr_assert_eq(parse("none", &set, msg), 0);
	cr_expect_eq(set.n, 0);
	cr_assert_eq(parse("stream@0+1", &set, msg), 0);
	cr_expect_eq(set.item[0].ops, ik_transport_find("pipe"));
	cr_expect_eq(set.item[0].size, IK_LOAD_STREAM_SIZE);
}

Test(load_parse, a_bad_set_is_refused_naming_what_and_what_is_allowed)
{
	static const struct {
		const char *set, *names;
	} bad[] = {
		{"bogus@1", "'bogus': unknown kind; allowed: none, spin@CPUS"},
		{"spin", "spin needs @CPUS"},
		{"spin@x", "CPUs 'x'"},
		{"spin@3-1", "CPUs '3-1'"},
		{"smt@1", "smt takes no CPUs"},
		{"stream@1", "stream needs two different CPUs"},
		{"stream@1+1", "stream needs two different CPUs"},
		{"stream:nope@1+2", "stream method 'nope'"},
		{"stream:pipe:0@1+2", "stream size '0'"},
		{"mem:x@1", "mem node 'x'"},
		{"spin:3@1", "spin takes no ':3'"},
		{"spin@1,", "expected none or KIND@CPUS"},
		{"", "expected none or KIND@CPUS"},
	};
	struct ik_load_set set;
	char msg[200];

	for (size_t i = 0; i < IK_ARRAY_SIZE(bad); i++) {
		cr_expect_eq(parse(bad[i].set, &set, msg), -EINVAL, "%s",
			     bad[i].set);
		t_expect_one_line_naming(bad[i].set, msg, false, bad[i].names);
	}
}

/* ---- resolving against a topology ---- */

static void xml(struct ik_topo *tp, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", IK_TESTDATA, file);
	cr_assert_eq(ik_topo_load(tp, path), 0, "cannot load %s", path);
}

static int resolve(const struct ik_topo *tp, const char *s, int a, int b,
		   bool on_peer, struct ik_load_result *out, char *msg)
{
	struct ik_load_set set;
	struct ik_load_run *lr;
	int cpus[2] = {a, b}, ret;

	cr_assert_eq(parse(s, &set, msg), 0, "%s: %s", s, msg);
	ret = ik_load_resolve(&lr, &set, tp, cpus, a < 0 ? 0 : 2, on_peer, msg,
			      200);
	if (!ret) /* never started: only what it resolved */
		cr_assert_eq(ik_load_stop(lr, out, msg, 200), 0, "%s", msg);
	return ret;
}

Test(load_resolve, smt_loads_each_peers_sibling_on_the_e5_1620)
{
	struct ik_load_result out = {0};
	struct ik_topo tp;
	char msg[200];

	xml(&tp, "xeon-e5-1620.xml");
	cr_assert_eq(resolve(&tp, "smt", 0, 1, false, &out, msg), 0, "%s", msg);
	cr_assert_eq(out.n, 2);
	cr_expect_eq(out.out[0].kind, IK_LOAD_SMT);
	cr_expect_eq(out.out[0].cpu[0], 4, "CPU 0's sibling is 4");
	cr_expect_eq(out.out[1].cpu[0], 5, "CPU 1's sibling is 5");
	ik_topo_free(&tp);
}

Test(load_resolve, smt_is_refused_where_the_sibling_is_the_other_peer)
{
	struct ik_load_result out = {0};
	struct ik_topo tp;
	char msg[200];

	xml(&tp, "xeon-e5-1620.xml");
	cr_expect_eq(resolve(&tp, "smt", 0, 4, false, &out, msg), -EINVAL);
	t_expect_one_line_naming("smt on 0,4", msg, false,
				 "has no SMT sibling but the other peer's "
				 "CPU 4");
	ik_topo_free(&tp);
}

Test(load_resolve, smt_is_refused_without_smt_or_without_pinning)
{
	struct ik_load_result out = {0};
	struct ik_topo tp;
	char msg[200];

	xml(&tp, "dev-vm.xml");
	cr_expect_eq(resolve(&tp, "smt", 0, 1, false, &out, msg), -EINVAL);
	t_expect_one_line_naming("smt on a VM", msg, false,
				 "CPU 0 (peer A) has no SMT sibling");
	cr_expect(strstr(msg, "no SMT here"), "%s", msg);
	cr_expect_eq(resolve(&tp, "smt", -1, -1, false, &out, msg), -EINVAL);
	t_expect_one_line_naming("smt unpinned", msg, false, "give --pin");
	ik_topo_free(&tp);
}

Test(load_resolve, a_peers_cpu_is_refused_unless_allowed)
{
	struct ik_load_result out = {0};
	struct ik_topo tp;
	char msg[200];

	xml(&tp, "xeon-e5-1620.xml");
	cr_expect_eq(resolve(&tp, "spin@2,l3@1", 0, 1, false, &out, msg),
		     -EINVAL);
	t_expect_one_line_naming("l3@1", msg, false,
				 "CPU 1: that is peer B's CPU");
	cr_expect(strstr(msg, "--load-on-peer"), "%s", msg);
	cr_expect_eq(resolve(&tp, "stream@2+0", 0, 1, false, &out, msg),
		     -EINVAL);
	t_expect_one_line_naming("stream@2+0", msg, false, "peer A's CPU");
	cr_expect_eq(resolve(&tp, "spin@2,l3@1", 0, 1, true, &out, msg), 0,
		     "%s", msg);
	cr_expect_eq(out.n, 2);
	ik_topo_free(&tp);
}

Test(load_resolve, a_cpu_out_of_range_is_refused_with_the_allowed_ones)
{
	struct ik_load_result out = {0};
	struct ik_topo tp;
	char msg[200];

	xml(&tp, "xeon-e5-1620.xml");
	cr_expect_eq(resolve(&tp, "spin@8", 0, 1, false, &out, msg), -EINVAL);
	t_expect_one_line_naming("spin@8", msg, false, "CPU 8: no such CPU");
	cr_expect(strstr(msg, "allowed CPUs: 0-7"), "%s", msg);
	cr_expect_eq(resolve(&tp, "mem:3@2", 0, 1, false, &out, msg), -EINVAL);
	t_expect_one_line_naming("mem:3@2", msg, false, "no NUMA node 3");
	ik_topo_free(&tp);
}

Test(load_resolve, l3_and_mem_are_sized_from_the_shared_cache)
{
	struct ik_load_result out = {0};
	struct ik_topo tp;
	char msg[200];

	xml(&tp, "xeon-e5-1620.xml");
	cr_assert_eq(resolve(&tp, "l3@2,mem@3", 0, 1, false, &out, msg), 0,
		     "%s", msg);
	cr_expect_eq(out.out[0].buf_bytes, 16u << 20, "the XML's L3");
	cr_expect_eq(out.out[0].cache_level, 3);
	cr_expect_eq(out.out[1].buf_bytes, IK_LOAD_MEM_MULT * (16u << 20));
	cr_expect_eq(out.out[1].node, 0, "CPU 3's node");
	ik_topo_free(&tp);
}

/* a VM (AMD, 2026-12-02) whose CPUID gives each vCPU a 508 MB L3: mem
 * sweeps at most IK_LOAD_MEM_MAX, not 8 x 508 MB touched per cell */
Test(load_resolve, mem_is_capped_where_a_vm_claims_a_huge_llc)
{
	struct ik_load_result out = {0};
	struct ik_topo tp;
	char msg[200];

	xml(&tp, "turin-vm.xml");
	cr_assert_eq(resolve(&tp, "l3@0,mem@1", 0, 1, true, &out, msg), 0, "%s",
		     msg);
	cr_expect_eq(out.out[0].buf_bytes, 532676608u, "the XML's L3");
	cr_expect_eq(out.out[1].buf_bytes, IK_LOAD_MEM_MAX);
	ik_topo_free(&tp);
}

/* ---- running beside a cell, on this machine ---- */

static unsigned count_dir(const char *path)
{
	DIR *d = opendir(path);
	unsigned n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static unsigned count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	unsigned n = 0;
	int c;

	cr_assert_not_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* A ping-pong over pipe pinned to 0,1 with set loaded beside it. */
static void run_loaded(const char *s, enum ik_mode mode, struct ik_result *res)
{
	static struct ik_load_set set;
	char msg[200];
	struct ik_config cfg = {
		.kernel = IK_KERNEL_PINGPONG,
		.size = 8,
		.iters = 20,
		.warmup = 2,
		.timeout_ns = 60 * IK_NS_PER_SEC,
		.pinned = true,
		.cpu = {0, 1},
		.ncpu = 2,
		.load = &set,
		.load_on_peer = true,
	};
	int ret;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	cr_assert_eq(parse(s, &set, msg), 0, "%s", msg);
	ret = ik_pingpong(&cfg, ik_transport_find("pipe"), mode, &t_ctx, res);
	cr_assert_eq(ret, 0, "%s: %s", s, res->errmsg);
	cr_expect_str_eq(res->load.text, s);
}

static void expect_ran(const struct ik_load_out *o, enum ik_load_kind kind,
		       int cpu)
{
	cr_expect_eq(o->kind, kind);
	cr_expect_eq(o->cpu[0], cpu);
	cr_expect_eq(o->cpu_seen[0], cpu, "%s ran on CPU %d, not %d",
		     ik_load_kind_name(kind), o->cpu_seen[0], cpu);
	cr_expect_eq(o->cpu_end[0], cpu, "%s ended on CPU %d",
		     ik_load_kind_name(kind), o->cpu_end[0]);
	cr_expect_gt(o->seconds, 0);
	cr_expect_gt(ik_load_rate(o), 0, "%s: no work",
		     ik_load_kind_name(kind));
}

/* one kind a cell: all four on two CPUs would timeslice for seconds */
Test(load_run, each_kind_runs_on_its_cpu_at_a_nonzero_rate, .init = t_setup,
     .fini = t_teardown, .timeout = 120)
{
	struct ik_result res;
	const struct ik_load_out *o;

	run_loaded("spin@0", IK_MODE_THREAD, &res);
	cr_assert_eq(res.load.n, 1);
	expect_ran(&res.load.out[0], IK_LOAD_SPIN, 0);
	cr_expect_eq(res.count, 20, "the cell itself completed");
	ik_result_free(&res);

	run_loaded("l3@1", IK_MODE_THREAD, &res);
	cr_assert_eq(res.load.n, 1);
	expect_ran(&res.load.out[0], IK_LOAD_L3, 1);
	cr_expect_gt(res.load.out[0].buf_bytes, 0);
	ik_result_free(&res);

	run_loaded("mem@0", IK_MODE_THREAD, &res);
	cr_assert_eq(res.load.n, 1);
	o = &res.load.out[0];
	expect_ran(o, IK_LOAD_MEM, 0);
	cr_expect_geq(o->buf_bytes, IK_LOAD_MEM_MIN);
	cr_expect_eq(o->node_seen, o->node,
		     "mem's pages on node %d, bound "
		     "to %d",
		     o->node_seen, o->node);
	ik_result_free(&res);

	run_loaded("stream:uds:4k@1+0", IK_MODE_THREAD, &res);
	cr_assert_eq(res.load.n, 1);
	o = &res.load.out[0];
	expect_ran(o, IK_LOAD_STREAM, 1);
	cr_expect_eq(o->cpu[1], 0);
	cr_expect_eq(o->cpu_seen[1], 0, "the receiver ran on %d",
		     o->cpu_seen[1]);
	cr_expect_eq(o->bytes, o->work * 4096, "every message 4 KiB");
	ik_result_free(&res);
}

Test(load_run, antagonists_are_threads_of_the_controller_in_process_mode,
     .init = t_setup, .fini = t_teardown, .timeout = 120)
{
	struct ik_result res;

	run_loaded("spin@1,stream@0+1", IK_MODE_PROCESS, &res);
	cr_assert_eq(res.load.n, 2);
	expect_ran(&res.load.out[0], IK_LOAD_SPIN, 1);
	expect_ran(&res.load.out[1], IK_LOAD_STREAM, 0);
	ik_result_free(&res);
}

Test(load_run, nothing_is_left_behind, .init = t_setup, .fini = t_teardown,
     .timeout = 120)
{
	unsigned fds, tasks, maps;
	struct ik_result res;

	/* once first: libraries map what they keep */
	run_loaded("l3@1,mem@0", IK_MODE_THREAD, &res);
	ik_result_free(&res);
	run_loaded("spin@0,stream:uds@1+0", IK_MODE_THREAD, &res);
	ik_result_free(&res);
	fds = count_dir("/proc/self/fd");
	tasks = count_dir("/proc/self/task");
	maps = count_maps();
	run_loaded("l3@1,mem@0", IK_MODE_THREAD, &res);
	ik_result_free(&res);
	run_loaded("spin@0,stream:uds@1+0", IK_MODE_THREAD, &res);
	ik_result_free(&res);
	cr_expect_eq(count_dir("/proc/self/fd"), fds, "an fd was left open");
	cr_expect_eq(count_dir("/proc/self/task"), tasks,
		     "a thread was left running");
	cr_expect_eq(count_maps(), maps, "a mapping was left");
}

/* A peer that fails ends the cell: the antagonists stop with it. */
Test(load_run, a_failing_peer_stops_the_antagonists, .init = t_setup,
     .fini = t_teardown, .timeout = 120)
{
	static struct ik_load_set set;
	unsigned tasks = count_dir("/proc/self/task");
	struct ik_config cfg = {
		.kernel = IK_KERNEL_PINGPONG,
		.size = 8,
		.iters = 20,
		.warmup = 2,
		.timeout_ns = 60 * IK_NS_PER_SEC,
		.pinned = true,
		.cpu = {0, 1},
		.ncpu = 2,
		.load = &set,
		.load_on_peer = true,
	};
	struct ik_result res;
	char msg[200];
	int ret;

	cr_assert_eq(parse("spin@0,stream@1+0", &set, msg), 0);
	setenv(IK_FAULT_ENV, "kill-b", 1);
	ret = ik_pingpong(&cfg, ik_transport_find("pipe"), IK_MODE_THREAD,
			  &t_ctx, &res);
	unsetenv(IK_FAULT_ENV);
	cr_expect_neq(ret, 0, "the peer's failure is the cell's");
	cr_expect_eq(count_dir("/proc/self/task"), tasks);
	ik_result_free(&res);
}

/* --classes and --matrix pick pairs per cell: each cell checks its own
 * load, and a refused one fails the cell with the reason */
Test(load_run, a_cell_refuses_a_load_on_its_peers_cpu, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	static struct ik_load_set set;
	struct ik_config cfg = {
		.kernel = IK_KERNEL_PINGPONG,
		.size = 8,
		.iters = 20,
		.timeout_ns = 60 * IK_NS_PER_SEC,
		.pinned = true,
		.cpu = {0, 1},
		.ncpu = 2,
		.load = &set,
	};
	unsigned tasks = count_dir("/proc/self/task");
	struct ik_result res;
	char msg[200];

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	cr_assert_eq(parse("spin@1", &set, msg), 0);
	cr_expect_eq(ik_pingpong(&cfg, ik_transport_find("pipe"),
				 IK_MODE_PROCESS, &t_ctx, &res),
		     -EINVAL);
	t_expect_one_line_naming("a cell", res.errmsg, false,
				 "spin on CPU 1: that is peer B's CPU");
	cr_expect_eq(res.load.n, 0, "nothing ran");
	cr_expect_eq(count_dir("/proc/self/task"), tasks);
	ik_result_free(&res);
}

/* One that cannot be placed (a foreign topology: binding is refused)
 * breaks the start gate, so the peers do not wait, and says why. */
Test(load_run, an_antagonist_that_cannot_bind_breaks_the_gate_and_says_why,
     .timeout = 30)
{
	struct ik_load_result out = {0};
	struct ik_load_set set;
	struct ik_load_run *lr;
	struct ik_barrier *gate;
	struct ik_topo tp;
	int cpus[2] = {0, 1};
	uint64_t deadline = ik_clock_ns() + 20 * IK_NS_PER_SEC;
	char msg[200];

	xml(&tp, "xeon-e5-1620.xml");
	cr_assert_eq(parse("spin@2", &set, msg), 0);
	cr_assert_eq(ik_load_resolve(&lr, &set, &tp, cpus, 2, false, msg, 200),
		     0, "%s", msg);
	gate = ik_barrier_new(ik_load_parties(lr) + 1, -1);
	cr_assert_not_null(gate);
	cr_assert_eq(ik_load_start(lr, gate, deadline, msg, 200), 0, "%s", msg);
	cr_expect_eq(ik_barrier_wait(gate, deadline), -ECANCELED);
	cr_expect_eq(ik_load_stop(lr, &out, msg, 200), -EOPNOTSUPP);
	t_expect_one_line_naming("bind", msg, false,
				 "load spin on CPU 2: bind:");
	cr_expect_eq(out.out[0].seconds, 0, "it never ran");
	ik_barrier_free(gate);
	ik_topo_free(&tp);
}
