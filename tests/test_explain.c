/* SPDX-License-Identifier: MIT */
/*
 * --explain: the reading rules on recorded per-hop figures, the
 * /proc/interrupts parser on recorded text, the hardware counters' path
 * on recorded perf values (this VM has no PMU), and on this machine
 * what must hold: a futex round trip across two CPUs wakes a sleeping
 * peer (at least one IPI or context switch per hop), pinned spsc peers
 * spin (no switches, no migrations).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../reports/writers.h"
#include "helpers.h"

static const char *reading(struct ik_explain_per p)
{
	static char buf[320];

	return ik_explain_reading(&p, buf, sizeof(buf));
}

Test(explain_rules, futex_across_cpus_reads_as_a_wake_up_by_ipi)
{
	const char *r = reading(
		(struct ik_explain_per){.ipis = 2.0, .cs = 2.0, .ipc = NAN});

	cr_expect(strstr(r, "2.0 IPIs, 2.0 switches") != NULL, "%s", r);
	cr_expect(strstr(r, "wakes a sleeping peer on another CPU") != NULL,
		  "%s", r);
}

Test(explain_rules, no_ipis_and_no_switches_read_as_spinning)
{
	const char *r = reading((struct ik_explain_per){.ipc = NAN});

	cr_expect(strstr(r, "the peers spin") != NULL, "%s", r);
}

Test(explain_rules, migrations_come_first)
{
	const char *r = reading((struct ik_explain_per){
		.ipis = 2.0, .cs = 2.0, .migrations = 0.5, .ipc = NAN});

	cr_expect(strstr(r, "moves the peers") != NULL, "%s", r);
}

Test(explain_rules, one_cpu_reads_as_a_switch_per_hop)
{
	const char *r = reading((struct ik_explain_per){
		.ipis = 0, .cs = 2.0, .same_cpu = true, .ipc = NAN});

	cr_expect(strstr(r, "share one CPU") != NULL, "%s", r);
}

Test(explain_rules, switches_without_ipis_read_as_a_polling_wake_up)
{
	const char *r = reading(
		(struct ik_explain_per){.ipis = 0.1, .cs = 2.0, .ipc = NAN});

	cr_expect(strstr(r, "without an IPI") != NULL, "%s", r);
}

Test(explain_rules, unknown_ipis_say_so)
{
	const char *r = reading((struct ik_explain_per){
		.ipis = NAN, .cs = 2.0, .unpinned = true, .ipc = NAN});

	cr_expect(strncmp(r, "? IPIs", 6) == 0, "%s", r);
	cr_expect(strstr(r, "sleeps on most hops") != NULL, "%s", r);
}

Test(explain_rules, a_few_switches_read_as_partly_blocking)
{
	const char *r = reading(
		(struct ik_explain_per){.ipis = 0.2, .cs = 0.2, .ipc = NAN});

	cr_expect(strstr(r, "partly blocking") != NULL, "%s", r);
}

Test(explain_rules, a_subtracted_background_is_said_and_a_clamp_flagged)
{
	const char *r = reading((struct ik_explain_per){
		.ipis = 2.0, .cs = 2.0, .ipc = NAN, .bg_subtracted = true});

	cr_expect(strstr(r, "net of the background with the peers gone") !=
			  NULL,
		  "%s", r);
	cr_expect(strstr(r, "clamped") == NULL, "%s", r);
	r = reading((struct ik_explain_per){.ipis = 0,
					    .cs = 2.0,
					    .ipc = NAN,
					    .bg_subtracted = true,
					    .clamped = true});
	cr_expect(strstr(r, "clamped to 0") != NULL, "%s", r);
	/* without a background there is nothing to say */
	r = reading(
		(struct ik_explain_per){.ipis = 2.0, .cs = 2.0, .ipc = NAN});
	cr_expect(strstr(r, "background") == NULL, "%s", r);
}

/* Two CPUs online, 0 and 2 (1 offline): its column is the header's. */
static const char interrupts[] =
	"           CPU0       CPU2       \n"
	"  0:         44          0   IO-APIC   2-edge      timer\n"
	"NMI:          0          0   Non-maskable interrupts\n"
	"LOC:     940283     891023   Local timer interrupts\n"
	"RES:       2605       2796   Rescheduling interrupts\n"
	"CAL:        306        370   Function call interrupts\n"
	"TLB:          5\n";

Test(explain_interrupts, the_column_is_the_cpus_own)
{
	struct ik_counts c;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(ik_interrupts_parse(interrupts, 2, &c), 0);
	cr_expect_eq(c.v[IK_CTR_IPI_RES], 2796);
	cr_expect_eq(c.v[IK_CTR_IPI_CAL], 370);
	cr_expect_eq(c.v[IK_CTR_IRQ_LOC], 891023);
	cr_expect_eq(c.err[IK_CTR_IPI_RES], 0);
	/* a short row has no value for CPU2: not a zero */
	cr_expect_eq(c.err[IK_CTR_IPI_TLB], -ENOENT);
	cr_assert_eq(ik_interrupts_parse(interrupts, 0, &c), 0);
	cr_expect_eq(c.v[IK_CTR_IPI_RES], 2605);
	cr_expect_eq(c.v[IK_CTR_IPI_TLB], 5);
	cr_expect_eq(c.err[IK_CTR_IPI_TLB], 0);
}

Test(explain_interrupts, a_cpu_without_a_column_is_not_exposed)
{
	struct ik_counts c;

	memset(&c, 0, sizeof(c));
	cr_expect_eq(ik_interrupts_parse(interrupts, 1, &c), -ENOENT);
	cr_expect_eq(c.err[IK_CTR_IPI_RES], -ENOENT);
}

Test(explain_counts, an_error_on_either_side_makes_the_delta_unknown)
{
	struct ik_counts a, b, d;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));

	a.v[IK_CTR_CS] = 10;
	b.v[IK_CTR_CS] = 25;
	a.err[IK_CTR_CYCLES] = b.err[IK_CTR_CYCLES] = -ENOENT;
	b.err[IK_CTR_IDLE] = -ENOENT;
	ik_counts_delta(&d, &a, &b);
	cr_expect_eq(d.v[IK_CTR_CS], 15);
	cr_expect_eq(d.err[IK_CTR_CYCLES], -ENOENT);
	cr_expect_eq(d.err[IK_CTR_IDLE], -ENOENT);
	cr_expect_eq(d.v[IK_CTR_IDLE], 0);
	ik_counts_add(&a, &d);
	cr_expect_eq(a.v[IK_CTR_CS], 25);
	cr_expect_eq(a.err[IK_CTR_IDLE], -ENOENT);
}

/* A result as a PMU machine records it: 1000 round trips. */
static void recorded(struct ik_result *res, bool pmu)
{
	int s;

	memset(res, 0, sizeof(*res));
	res->ops = ik_transport_find("futex");
	res->count = 1000;
	res->explained = true;
	res->pair.rel = IK_REL_SHARED_L3;
	for (s = 0; s < 2; s++) {
		res->ctr[s].v[IK_CTR_CS] = 1000;
		res->ctr[s].v[IK_CTR_IPI_RES] = 1000;
		res->ctr[s].v[IK_CTR_CYCLES] = 3000000;
		res->ctr[s].v[IK_CTR_INSTR] = 1500000;
		res->ctr[s].v[IK_CTR_LLC_MISS] = 2000;
		if (!pmu) {
			res->ctr[s].v[IK_CTR_CYCLES] = 0;
			res->ctr[s].err[IK_CTR_CYCLES] = -ENOENT;
			res->ctr[s].err[IK_CTR_INSTR] = -ENOENT;
			res->ctr[s].err[IK_CTR_LLC_MISS] = -ENOENT;
		}
	}
}

Test(explain_pmu, recorded_hardware_counts_give_per_trip_figures_and_ipc)
{
	struct ik_explain_per p;
	struct ik_result res;
	json_t *o, *c;

	recorded(&res, true);
	ik_explain_per_of(&res, &p);
	cr_expect_float_eq(p.ipc, 0.5, 1e-9);
	cr_expect_float_eq(p.cs, 2.0, 1e-9);
	o = ik_explain_json(&res);
	c = json_object_get(json_object_get(o, "a"), "cycles");
	cr_assert_not_null(c);
	cr_expect(json_is_true(json_object_get(c, "available")));
	cr_expect_str_eq(json_string_value(json_object_get(c, "unit")),
			 "cycles");
	cr_expect_float_eq(json_real_value(json_object_get(c, "per_hop")),
			   3000.0, 1e-9);
	cr_expect_str_eq(json_string_value(json_object_get(o, "per")),
			 "round trip");
	json_decref(o);
}

Test(explain_pmu, a_missing_pmu_is_not_exposed_never_a_zero)
{
	struct ik_explain_per p;
	struct ik_result res;
	json_t *o, *c;

	recorded(&res, false);
	ik_explain_per_of(&res, &p);
	cr_expect(isnan(p.ipc));
	o = ik_explain_json(&res);
	c = json_object_get(json_object_get(o, "b"), "llc_misses");
	cr_assert_not_null(c);
	cr_expect(json_is_false(json_object_get(c, "available")));
	cr_expect_null(json_object_get(c, "total"));
	cr_expect_null(json_object_get(c, "per_hop"));
	cr_expect(strstr(json_string_value(json_object_get(c, "why")),
			 "no PMU") != NULL);
	json_decref(o);
}

/* A CPU busier with the peers gone than while they ran: its IPIs are
 * clamped to 0 and flagged, never a negative count. */
Test(explain_pmu, a_background_larger_than_the_count_is_clamped_and_flagged)
{
	struct ik_explain_per p;
	struct ik_result res;
	json_t *o, *c;
	FILE *f;
	char *text = NULL;
	size_t len = 0;
	struct ik_report r = {0};
	struct ik_config cfg = {.explain = true};

	recorded(&res, false);
	res.ctr[0].ns = res.ctr[1].ns = 1000000000u;
	res.bg[0].ns = res.bg[1].ns = 1000000000u;
	res.bg[0].v[IK_CTR_IPI_RES] = 3000; /* 1000 counted */
	o = ik_explain_json(&res);
	c = json_object_get(json_object_get(o, "a"), "ipi_resched");
	cr_expect_float_eq(json_real_value(json_object_get(c, "per_hop")), 0.0,
			   1e-12);
	cr_expect(json_is_true(json_object_get(c, "clamped")));
	cr_expect(strstr(json_string_value(json_object_get(o, "reading")),
			 "clamped to 0") != NULL);
	json_decref(o);
	ik_explain_per_of(&res, &p);
	cr_expect(p.clamped && p.bg_subtracted);
	cr_expect_geq(p.ipis, 0);
	/* the table marks the cell, and prints no minus sign in it */
	r.cfg = &cfg;
	r.results = &res;
	r.nresults = 1;
	f = open_memstream(&text, &len);
	ik_explain_table(&r, f);
	fclose(f);
	cr_expect(strstr(text, "0.00<") != NULL, "%s", text);
	cr_expect(strstr(text, " -0") == NULL, "%s", text);
	free(text);
}

Test(explain_pmu, the_cpus_background_is_taken_away_pro_rata)
{
	struct ik_result res;
	json_t *o, *c;

	recorded(&res, false);
	res.ctr[0].ns = res.ctr[1].ns = 2000000000u;
	res.bg[0].ns = res.bg[1].ns = 1000000000u;
	/* 1000 RES counted over 2 s; the idle second had 250 */
	res.bg[0].v[IK_CTR_IPI_RES] = 250;
	o = ik_explain_json(&res);
	cr_expect(json_is_true(json_object_get(o, "background_subtracted")));
	c = json_object_get(json_object_get(o, "a"), "ipi_resched");
	cr_expect_float_eq(json_real_value(json_object_get(c, "per_hop")), 0.5,
			   1e-9);
	cr_expect_eq(json_integer_value(json_object_get(c, "total")), 1000);
	cr_expect_eq(json_integer_value(json_object_get(c, "background")), 250);
	cr_expect_null(json_object_get(c, "clamped"));
	/* a thread's own perf counts have no background */
	c = json_object_get(json_object_get(o, "a"), "context_switches");
	cr_expect_float_eq(json_real_value(json_object_get(c, "per_hop")), 1.0,
			   1e-9);
	json_decref(o);
}

/*
 * The wake-up parser on a recorded trace (tests/data/trace-futex.txt: a
 * futex round trip across CPUs 0 and 1, peers 6076 and 6077, on a busy
 * machine): ten wakings, each followed by a switch onto its wakee,
 * 13, 14, 13, 14, 15, 15, 14, 18, 14, 14 us later.
 */
static FILE *trace_data(const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", IK_TESTDATA, name);
	f = fopen(path, "re");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	return f;
}

Test(explain_wakeup, a_recorded_futex_trace_pairs_each_waking_with_its_switch)
{
	static const int tids[] = {6076, 6077};
	struct ik_wakeup w;
	FILE *f = trace_data("trace-futex.txt");

	cr_assert_eq(ik_wakeup_parse(f, tids, 2, &w), 0);
	fclose(f);
	cr_expect_eq(w.wakings, 10);
	cr_expect_eq(w.n, 10);
	cr_expect_eq(w.p50_ns, 14000);
	cr_expect_eq(w.p99_ns, 18000);
	cr_expect_eq(w.max_ns, 18000);
	cr_expect_eq(w.lost, 0);
}

Test(explain_wakeup, other_tasks_wake_ups_are_not_ours)
{
	static const int tids[] = {6047, 1};
	struct ik_wakeup w;
	FILE *f = trace_data("trace-futex.txt");

	/* test_stream-6047 is switched in often, but never woken here */
	cr_assert_eq(ik_wakeup_parse(f, tids, 2, &w), 0);
	fclose(f);
	cr_expect_eq(w.wakings, 0);
	cr_expect_eq(w.n, 0);
}

/* A peer preempted after a waking comes back without one: not a
 * wake-up. A peer woken while it was still going to sleep (switched out
 * after the waking) is. Lost events are counted; a comm that looks like
 * a field does not fool the parser. */
static const char odd_trace[] =
	"# tracer: nop\n"
	"  a-10 [000] d..2. 100.000010: sched_waking: comm=b pid=11 "
	"prio=120 target_cpu=001\n"
	"  b-11 [001] d..2. 100.000020: sched_switch: prev_comm=b "
	"prev_pid=11 prev_prio=120 prev_state=R+ ==> next_comm=swapper/1 "
	"next_pid=0 next_prio=120\n"
	"  c-0 [001] d..2. 100.000030: sched_switch: prev_comm=c "
	"prev_pid=0 prev_prio=120 prev_state=S ==> next_comm=b "
	"next_pid=11 next_prio=120\n"
	"CPU:1 [LOST 42 EVENTS]\n"
	"  a-10 [000] d..2. 100.000500: sched_waking: comm=b pid=11 "
	"prio=120 target_cpu=001\n"
	"  x pid=11-12 [001] d..2. 100.000502: sched_switch: "
	"prev_comm=x pid=11 prev_pid=12 prev_prio=120 prev_state=R ==> "
	"next_comm= next_pid=9 next_pid=11 next_prio=120\n"
	"  a-10 [000] d..2. 101.000001: sched_waking: comm=b pid=11 "
	"prio=120 target_cpu=001\n"
	"  b-11 [001] d..2. 101.000003: sched_switch: prev_comm=b "
	"prev_pid=11 prev_prio=120 prev_state=S ==> next_comm=c "
	"next_pid=0 next_prio=120\n"
	"  c-0 [001] d..2. 101.000009: sched_switch: prev_comm=c "
	"prev_pid=0 prev_prio=120 prev_state=S ==> next_comm=b "
	"next_pid=11 next_prio=120\n";

Test(explain_wakeup, a_waking_before_the_peer_slept_is_not_a_wake_up)
{
	static const int tids[] = {10, 11};
	struct ik_wakeup w;
	FILE *f = fmemopen((void *)odd_trace, strlen(odd_trace), "r");

	cr_assert_not_null(f);
	cr_assert_eq(ik_wakeup_parse(f, tids, 2, &w), 0);
	fclose(f);
	cr_expect_eq(w.wakings, 3);
	cr_expect_eq(w.n, 2);
	cr_expect_eq(w.p50_ns, 8000, "%llu", (unsigned long long)w.p50_ns);
	cr_expect_eq(w.max_ns, 8000);
	cr_expect_eq(w.lost, 42);
}

/* /proc/self/stat's field 22: this process's start time */
static unsigned long long my_start(void)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;
	int i;

	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')') + 2;
	for (i = 3; i < 22; i++)
		p = strchr(p, ' ') + 1;
	return strtoull(p, NULL, 10);
}

Test(explain_wakeup, only_a_dead_owners_instance_is_stale)
{
	unsigned long long me = my_start();
	char name[128];
	pid_t dead = fork();

	cr_assert_geq(dead, 0);
	if (!dead)
		_exit(0);
	cr_assert_eq(waitpid(dead, NULL, 0), dead);
	snprintf(name, sizeof(name), "ipckern-77-%d-%llu-0a1b", (int)getpid(),
		 me);
	cr_expect_eq(ik_trace_stale(name, 77), 0, "ours, alive: %s", name);
	cr_expect_eq(ik_trace_stale(name, 78), 0, "another namespace's");
	snprintf(name, sizeof(name), "ipckern-77-%d-%llu-0a1b", (int)getpid(),
		 me + 1);
	cr_expect_eq(ik_trace_stale(name, 77), 1, "our pid, someone else's");
	snprintf(name, sizeof(name), "ipckern-77-%d-1-0a1b", (int)dead);
	cr_expect_eq(ik_trace_stale(name, 77), 1, "a dead owner's");
	cr_expect_eq(ik_trace_stale("ipckern-77-1-1-0a1b/..", 77), 0);
	cr_expect_eq(ik_trace_stale("ipckern-77--1-1-0a", 77), 0);
	cr_expect_eq(ik_trace_stale("other", 77), 0);
	cr_expect_eq(ik_trace_stale("ipckern-77-1-1-xyz", 77), 0);
}

/* Two CPUs we may run on, or skip. */
static void two_cpus(struct ik_config *cfg)
{
	cpu_set_t set;
	int i, n = 0;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cfg->cpu[n++] = i;
	if (n < 2)
		cr_skip_test("needs two CPUs");
	cfg->pinned = true;
	cfg->ncpu = 2;
}

static void explain_run(const char *method, struct ik_result *res)
{
	struct ik_config cfg = {
		.kernel = IK_KERNEL_PINGPONG,
		.size = 8,
		.iters = 5000,
		.warmup = 500,
		.timeout_ns = 60 * IK_NS_PER_SEC,
		.explain = true,
	};
	int ret;

	two_cpus(&cfg);
	ret = ik_pingpong(&cfg, ik_transport_find(method), IK_MODE_THREAD,
			  &t_ctx, res);
	if (t_unsupported(ret))
		cr_skip_test("%s: %s", method, res->errmsg);
	cr_assert_eq(ret, 0, "%s: %s", method, res->errmsg);
	cr_assert(res->explained);
	cr_assert_eq(res->ctr[0].err[IK_CTR_CS], 0, "perf software events");
}

Test(explain_live, futex_across_cpus_wakes_on_every_hop, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	struct ik_result res;
	double trips, ipis = 0, cs = 0;
	int i;

	explain_run("futex", &res);
	trips = (double)(res.count + res.warmup);
	/* raw counts: a busy machine's background only adds to them */
	for (i = 0; i < 2; i++) {
		ipis += (double)(res.ctr[i].v[IK_CTR_IPI_RES] +
				 res.ctr[i].v[IK_CTR_IPI_CAL]);
		cs += (double)res.ctr[i].v[IK_CTR_CS];
	}
	/* two hops a round trip, each at least one IPI or switch */
	cr_expect((ipis + cs) / trips >= 2.0,
		  "futex: %.2f IPIs, %.2f switches per round trip",
		  ipis / trips, cs / trips);
	ik_result_free(&res);
}

/* As root where tracefs is mounted: futex across CPUs has a traced
 * waking for each time a peer slept, and a peer whose wake-ups pair
 * with them. */
Test(explain_live, futex_across_cpus_traces_a_wake_up_per_hop, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	struct ik_result res;
	double trips, sleeps, best = 0;
	int i;

	explain_run("futex", &res);
	if (res.wake.err == -ENODEV || res.wake.err == -EACCES ||
	    res.wake.err == -EPERM)
		cr_skip_test("no tracefs or not root (%s)",
			     strerror(-res.wake.err));
	cr_assert_eq(res.wake.err, 0, "%s", strerror(-res.wake.err));
	trips = (double)(res.count + res.warmup);
	/* a hop wakes its peer only if the peer slept: how often it does is
	 * the host's (0.89-0.99 sleeps a hop at load 12-15 on one host; 0.47
	 * on one whose syscalls take microseconds, where the reply is often
	 * there before the sender is back from its FUTEX_WAKE). Each sleep,
	 * a voluntary switch, ends with a waking: most of them are traced
	 * (the counts also hold the gate's sleeps, before the trace is on);
	 * a lost event takes one away */
	sleeps = (double)(res.cpu[0].vol_cs + res.cpu[1].vol_cs);
	cr_expect(sleeps >= 0.05 * trips,
		  "futex across CPUs: %.0f sleeps in %.0f round trips", sleeps,
		  trips);
	cr_expect((double)(res.wake.wakings + res.wake.lost) >= 0.5 * sleeps,
		  "%llu wakings (%llu events lost) for %.0f sleeps in %.0f "
		  "round trips",
		  (unsigned long long)res.wake.wakings,
		  (unsigned long long)res.wake.lost, sleeps, trips);
	/* each waking pairs with the switch onto its peer, unless the trace
	 * never recorded that switch: an idle CPU's, on some VMs (an Intel
	 * Firecracker host here: no swapper/1 -> peer switch at all, so
	 * peer B paired 24 of 5880), and then all of that peer's. The
	 * other peer pairs most of its own */
	for (i = 0; i < 2; i++)
		if (res.wake.tid_wakings[i])
			best = fmax(best,
				    (double)res.wake.tid_n[i] /
					    (double)res.wake.tid_wakings[i]);
	cr_expect(best >= 0.5,
		  "%llu wake-ups of %llu wakings: peer A %llu of %llu, peer B "
		  "%llu of %llu; %llu+%llu switches",
		  (unsigned long long)res.wake.n,
		  (unsigned long long)res.wake.wakings,
		  (unsigned long long)res.wake.tid_n[0],
		  (unsigned long long)res.wake.tid_wakings[0],
		  (unsigned long long)res.wake.tid_n[1],
		  (unsigned long long)res.wake.tid_wakings[1],
		  (unsigned long long)res.ctr[0].v[IK_CTR_CS],
		  (unsigned long long)res.ctr[1].v[IK_CTR_CS]);
	cr_expect_leq(res.wake.p50_ns, res.wake.p99_ns);
	ik_result_free(&res);
}

Test(explain_live, spsc_pinned_does_not_switch, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	struct ik_result res;
	double vol;

	explain_run("spsc", &res);
	/* a spinning peer never sleeps; other tasks on a busy machine may
	 * preempt it (involuntary switches), which says nothing of spsc */
	vol = (double)(res.cpu[0].vol_cs + res.cpu[1].vol_cs) /
	      (double)(res.count + res.warmup);
	cr_expect(vol < 0.001, "spsc: %.4f voluntary switches per round trip",
		  vol);
	cr_expect_eq(res.ctr[0].v[IK_CTR_MIGRATIONS] +
			     res.ctr[1].v[IK_CTR_MIGRATIONS],
		     0);
	ik_result_free(&res);
}

/* A run killed inside unshare -p leaves an instance named after its own
 * pid namespace: once no process is in that namespace, the initial
 * namespace's reaper takes it (it sees every process); a namespace
 * still in use, or a reaper in a namespace that does not see everyone,
 * leaves it. */
Test(explain_wakeup, an_instance_of_a_gone_pid_namespace_is_stale)
{
	struct stat st;

	cr_assert_eq(stat("/proc/self/ns/pid", &st), 0);
	cr_expect_eq(ik_pidns_alive((unsigned long long)st.st_ino), 1,
		     "our own namespace is in use");
	/* inode 1 is never a pid namespace's */
	cr_expect_eq(ik_pidns_alive(1), 0);
	cr_expect_eq(ik_trace_stale("ipckern-1-2-1-0a1b", IK_INIT_PIDNS_INO), 1,
		     "a gone namespace's, seen from the initial one");
	cr_expect_eq(ik_trace_stale("ipckern-1-2-1-0a1b", 78), 0,
		     "a reaper that cannot see every process cannot tell");
}

/* As on this KVM guest: CPU 1's idle task never shows switching out, so
 * peer B's (tid 11, on CPU 1) wakings are never paired and only peer
 * A's are timed. The report says "matched N of M" and whose, and that
 * the latency is partial (so does JSON); lost events make it partial
 * too. */
static const char half_trace[] =
	"# tracer: nop\n"
	"  b-11 [001] d..2. 200.000010: sched_waking: comm=a pid=10 "
	"prio=120 target_cpu=000\n"
	"  c-0 [000] d..2. 200.000020: sched_switch: prev_comm=c "
	"prev_pid=0 prev_prio=120 prev_state=S ==> next_comm=a "
	"next_pid=10 next_prio=120\n"
	"  a-10 [000] d..2. 200.000030: sched_waking: comm=b pid=11 "
	"prio=120 target_cpu=001\n"
	"  b-11 [001] d..2. 200.000110: sched_waking: comm=a pid=10 "
	"prio=120 target_cpu=000\n"
	"  c-0 [000] d..2. 200.000120: sched_switch: prev_comm=c "
	"prev_pid=0 prev_prio=120 prev_state=S ==> next_comm=a "
	"next_pid=10 next_prio=120\n"
	"  a-10 [000] d..2. 200.000130: sched_waking: comm=b pid=11 "
	"prio=120 target_cpu=001\n";

Test(explain_wakeup, half_the_wakings_paired_is_said_partial_and_whose)
{
	static const int tids[] = {10, 11};
	struct ik_report r = {0};
	struct ik_config cfg = {.explain = true};
	struct ik_result res;
	char *text = NULL;
	size_t len = 0;
	json_t *o, *w;
	FILE *f = fmemopen((void *)half_trace, strlen(half_trace), "r");

	cr_assert_not_null(f);
	recorded(&res, false);
	cr_assert_eq(ik_wakeup_parse(f, tids, 2, &res.wake), 0);
	fclose(f);
	cr_expect_eq(res.wake.wakings, 4);
	cr_expect_eq(res.wake.n, 2);
	cr_expect_eq(res.wake.tid_wakings[0], 2);
	cr_expect_eq(res.wake.tid_n[0], 2);
	cr_expect_eq(res.wake.tid_cpu[0], 0);
	cr_expect_eq(res.wake.tid_wakings[1], 2);
	cr_expect_eq(res.wake.tid_n[1], 0);
	cr_expect_eq(res.wake.tid_cpu[1], 1);

	r.cfg = &cfg;
	r.results = &res;
	r.nresults = 1;
	f = open_memstream(&text, &len);
	ik_explain_table(&r, f);
	fclose(f);
	cr_expect(strstr(text, "matched 2 of 4 wakings, so partial") != NULL,
		  "%s", text);
	cr_expect(strstr(text, "peer A (CPU 0) 2 of 2") != NULL, "%s", text);
	cr_expect(strstr(text, "peer B (CPU 1) 0 of 2 (no switch onto it "
			       "recorded)") != NULL,
		  "%s", text);
	free(text);
	o = ik_explain_json(&res);
	w = json_object_get(o, "wakeup");
	cr_expect(json_is_true(json_object_get(w, "partial")));
	cr_expect_eq(json_array_size(json_object_get(w, "peers")), 2);
	json_decref(o);

	/* every waking paired but events lost: partial all the same */
	res.wake.n = res.wake.wakings;
	res.wake.lost = 217446;
	text = NULL;
	f = open_memstream(&text, &len);
	ik_explain_table(&r, f);
	fclose(f);
	cr_expect(strstr(text, "matched") == NULL, "%s", text);
	cr_expect(strstr(text, "partial: 217446 events lost") != NULL, "%s",
		  text);
	free(text);
	o = ik_explain_json(&res);
	cr_expect(json_is_true(
		json_object_get(json_object_get(o, "wakeup"), "partial")));
	json_decref(o);
}

/* perf_event_paranoid 2 as non-root: only user-space counting. A
 * switch or a migration happens in the kernel and never counts there:
 * not exposed with the reason, and the reading takes getrusage's
 * switches instead (and says so), never a measured 0. */
Test(explain_paranoid, kernel_only_counters_are_not_exposed_not_zero)
{
	struct ik_explain_per p;
	struct ik_result res;
	const char *why;
	json_t *o, *c;
	int s;

	cr_expect_not(ik_ctr_user_countable(IK_CTR_CS));
	cr_expect_not(ik_ctr_user_countable(IK_CTR_MIGRATIONS));
	cr_expect(ik_ctr_user_countable(IK_CTR_FAULTS));
	cr_expect(ik_ctr_user_countable(IK_CTR_CYCLES));
	recorded(&res, false);
	for (s = 0; s < 2; s++) {
		res.ctr[s].v[IK_CTR_CS] = 0;
		res.ctr[s].err[IK_CTR_CS] = -EACCES;
		res.ctr[s].err[IK_CTR_MIGRATIONS] = -EACCES;
		res.cpu[s].vol_cs = 1000;
	}
	ik_explain_per_of(&res, &p);
	cr_expect_float_eq(p.cs, 2.0, 1e-9);
	cr_expect(p.cs_rusage);
	cr_expect(strstr(reading(p), "from getrusage") != NULL);
	/* unknown migrations: a question mark, never "nan" */
	cr_expect(strstr(reading(p), "? migrations") != NULL, "%s", reading(p));
	cr_expect(strstr(reading(p), "nan") == NULL, "%s", reading(p));
	o = ik_explain_json(&res);
	c = json_object_get(json_object_get(o, "a"), "context_switches");
	cr_assert_not_null(c);
	cr_expect(json_is_false(json_object_get(c, "available")));
	cr_expect_null(json_object_get(c, "total"));
	why = json_string_value(json_object_get(c, "why"));
	cr_assert_not_null(why);
	cr_expect(strstr(why, "user-space counting only") != NULL, "%s", why);
	json_decref(o);
}

/* Unpinned spsc, four threads on two CPUs: a switch a hop, all of them
 * involuntary. The peer is preempted, not sleeping. */
Test(explain_rules, involuntary_switches_read_as_preemption_not_sleep)
{
	const char *r = reading((struct ik_explain_per){
		.ipis = NAN, .cs = 1.0, .vcs = 0.0, .ics = 1.0, .ipc = NAN});

	cr_expect(strstr(r, "preempted") != NULL, "%s", r);
	cr_expect(strstr(r, "sleeps") == NULL, "%s", r);
	/* and a futex's voluntary switches still read as sleeping */
	r = reading((struct ik_explain_per){
		.ipis = NAN, .cs = 2.0, .vcs = 2.0, .ics = 0.1, .ipc = NAN});
	cr_expect(strstr(r, "sleeps on most hops") != NULL, "%s", r);
}

/* echo with one client and no tracefs said "many clients share a
 * server": a crew is never traced, and the reason says that. */
Test(explain_wakeup, a_crews_reason_does_not_count_clients)
{
	struct ik_result res;
	const char *why;
	json_t *o;

	recorded(&res, false);
	res.wake.err = -EOPNOTSUPP;
	o = ik_explain_json(&res);
	why = json_string_value(
		json_object_get(json_object_get(o, "wakeup"), "why"));
	cr_assert_not_null(why);
	cr_expect(strstr(why, "many clients") == NULL, "%s", why);
	cr_expect(strstr(why, "a server and its clients") != NULL, "%s", why);
	json_decref(o);
}

/* Every counter in the JSON says what it is, getrusage's two too. */
Test(explain_pmu, every_counter_has_a_what)
{
	static const char *const names[] = {"voluntary_cs", "involuntary_cs",
					    "context_switches"};
	struct ik_result res;
	json_t *o, *a;
	unsigned i;

	recorded(&res, false);
	o = ik_explain_json(&res);
	a = json_object_get(o, "a");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json_t *c = json_object_get(a, names[i]);

		cr_assert_not_null(c, "%s", names[i]);
		cr_expect(json_is_string(json_object_get(c, "what")), "%s",
			  names[i]);
	}
	json_decref(o);
}

/* seccomp-notify (14 characters) pushed its row's columns out of line:
 * every row's first '|' is where the header's is. */
Test(explain_pmu, long_method_names_keep_the_columns_in_line)
{
	struct ik_result res[2];
	struct ik_report r = {0};
	struct ik_config cfg = {.explain = true};
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	long col = -1;
	int rows = 0;
	FILE *f;

	recorded(&res[0], false);
	recorded(&res[1], false);
	res[1].ops = ik_transport_find("seccomp-notify");
	cr_assert_not_null(res[1].ops);
	r.cfg = &cfg;
	r.results = res;
	r.nresults = 2;
	f = open_memstream(&text, &len);
	ik_explain_table(&r, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *bar = strchr(line, '|');

		/* the heading line says "(A | B)": not a column */
		if (!bar || line[0] == ' ' || !strncmp(line, "explain:", 8))
			continue;
		if (col < 0)
			col = bar - line;
		cr_expect_eq(bar - line, col, "%s", line);
		rows++;
	}
	cr_expect_eq(rows, 3, "the header and two rows");
	free(text);
}
