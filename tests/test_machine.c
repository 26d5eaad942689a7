/* SPDX-License-Identifier: MIT */
/*
 * The machine report read from sample /proc and /sys trees in
 * tests/data: a full Xeon workstation, and a VM that exposes almost
 * nothing, where every missing field must say "unknown", not guess.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "cpuinfo/cpuinfo.h"

Test(machine, full_tree_reads_every_field)
{
	struct ik_machine m;

	cr_assert_eq(ik_machine_read(&m, IK_TESTDATA "/root-full"), 0);
	cr_expect_str_eq(m.vendor, "GenuineIntel");
	cr_expect_str_eq(m.model, "Intel(R) Xeon(R) CPU E5-1620 0 @ 3.60GHz");
	cr_expect_eq(m.family, 6);
	cr_expect_eq(m.cpu_model, 45);
	cr_expect_eq(m.stepping, 7);
	cr_expect_eq(m.online_cpus, 2);
	cr_expect_str_eq(m.online, "0-7");
	cr_expect_str_eq(m.smt, "on");
	cr_expect_str_eq(m.isolated, "2-3");
	cr_expect_str_eq(m.nohz_full, "2-3");
	cr_expect_str_eq(m.governor, "powersave");
	cr_expect_eq(m.cur_khz, 1200000);
	cr_expect_eq(m.max_khz, 3800000);
	cr_expect_str_eq(m.boost, "on");
	cr_expect_float_eq(m.load1, 3.5, 1e-9);
	cr_expect_str_eq(m.numa_distances, "node0: 10 21; node1: 21 10");
	cr_expect_str_eq(m.clocksource, "tsc");
	cr_expect(strstr(m.cmdline, "isolcpus=2,3") != NULL);
	cr_expect_str_eq(m.vulns, "meltdown: Mitigation: PTI");
	cr_expect_not(m.hypervisor);
	cr_expect_str_eq(m.idle, "intel_idle, governor menu");
	cr_expect_eq(m.halt_poll_ns, -1); /* no haltpoll on bare metal */
	/* the s32 /dev/cpu_dma_latency reads */
	cr_expect_eq(m.latency_qos_us, 20);
	/* POLL spins, C1E is disabled: C1 is the shallowest that halts */
	cr_expect_str_eq(m.idle_state, "C1");
	cr_expect_eq(m.idle_exit_us, 1);
	cr_expect(ik_machine_idles(&m)); /* a 20 us limit lets C1 in */
	m.latency_qos_us = 0;
	cr_expect_not(ik_machine_idles(&m)); /* 0 keeps it out */
	m.latency_qos_us = -1;
	cr_expect(ik_machine_idles(&m)); /* unreadable: as if none */
}

/* A guest's haltpoll: its poll time, a governor only _ro names, and a
 * QoS limit that only root may read (here: no file) */
Test(machine, a_guest_names_its_haltpoll)
{
	struct ik_machine m;

	cr_assert_eq(ik_machine_read(&m, IK_TESTDATA "/root-isolcpus"), 0);
	cr_expect_str_eq(m.idle, "haltpoll, governor haltpoll");
	cr_expect_eq(m.halt_poll_ns, 200000);
	cr_expect_eq(m.latency_qos_us, -1);
	cr_expect_eq(m.idle_exit_us, -1); /* no states listed */
	cr_expect_not(ik_machine_idles(&m));
}

Test(machine, missing_fields_say_unknown)
{
	struct ik_machine m;

	cr_assert_eq(ik_machine_read(&m, IK_TESTDATA "/root-missing"), 0);
	cr_expect_str_eq(m.vendor, "unknown");
	cr_expect_str_eq(m.model, "unknown");
	cr_expect_eq(m.family, -1);
	cr_expect_str_eq(m.governor, "unknown");
	cr_expect_eq(m.cur_khz, -1);
	cr_expect_str_eq(m.boost, "unknown");
	cr_expect_str_eq(m.isolated, "unknown");
	cr_expect_str_eq(m.numa_distances, "unknown");
	cr_expect_str_eq(m.clocksource, "unknown");
	cr_expect_str_eq(m.vulns, "unknown");
	cr_expect_eq(m.load1, -1);
	cr_expect(m.hypervisor);
	cr_expect_str_eq(m.idle, "unknown");
	cr_expect_eq(m.halt_poll_ns, -1);
	cr_expect_eq(m.latency_qos_us, -1);
}

Test(machine, warnings_name_what_makes_results_noisy)
{
	struct ik_machine m;
	char w[4][200];
	int cpus[2] = {2, 0};
	unsigned n;

	cr_assert_eq(ik_machine_read(&m, IK_TESTDATA "/root-full"), 0);
	n = ik_machine_warnings(&m, cpus, 2, w, 4);
	cr_assert_eq(n, 3, "got %u warnings", n);
	cr_expect(strstr(w[0], "governor is powersave") != NULL, "%s", w[0]);
	cr_expect(strstr(w[1], "CPU 0 is not isolated") != NULL, "%s", w[1]);
	cr_expect(strstr(w[2], "load average 3.50") != NULL, "%s", w[2]);
	cpus[1] = 3; /* both isolated now */
	cr_expect_eq(ik_machine_warnings(&m, cpus, 2, w, 4), 2);
}

/*
 * Booted with isolcpus=2,3, every task starts on the housekeeping CPUs:
 * pinning to 2,3 says so, once, and does not call them not isolated.
 */
Test(machine, a_cpu_outside_the_start_mask_is_named_once)
{
	struct ik_machine m;
	char w[4][200];
	int cpus[2] = {2, 3};

	cr_assert_eq(ik_machine_read(&m, IK_TESTDATA "/root-isolcpus"), 0);
	cr_expect_str_eq(m.affinity, "0-1,4-7");
	cr_assert_eq(ik_machine_warnings(&m, cpus, 2, w, 4), 1);
	cr_expect(strstr(w[0], "CPU 2 is outside the affinity mask ipckern "
			       "started with (0-1,4-7)") != NULL,
		  "%s", w[0]);
	cpus[0] = 0;
	cpus[1] = 1; /* inside the mask, not isolated */
	cr_assert_eq(ik_machine_warnings(&m, cpus, 2, w, 4), 1);
	cr_expect(strstr(w[0], "CPU 0 is not isolated") != NULL, "%s", w[0]);
	cr_assert_eq(ik_machine_read(&m, IK_TESTDATA "/root-missing"), 0);
	cr_expect_str_eq(m.affinity, "");
}

Test(machine, proc_stat_ticks_split_busy_from_idle)
{
	uint64_t busy, total;

	cr_assert_eq(ik_cpu_ticks(IK_TESTDATA "/root-full", 1, &busy, &total),
		     0);
	cr_expect_eq(total, 500);
	cr_expect_eq(busy, 70); /* user + system; idle and iowait are not */
	cr_expect_eq(ik_cpu_ticks(IK_TESTDATA "/root-full", 7, &busy, &total),
		     -ENOENT);
}
