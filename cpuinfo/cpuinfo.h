/* SPDX-License-Identifier: MIT */
/*
 * What machine this is and how we read time on it. The timer is chosen
 * once per process: the TSC when the CPU says it is invariant (constant
 * rate, runs through idle states), calibrated against CLOCK_MONOTONIC_RAW;
 * otherwise clock_gettime(CLOCK_MONOTONIC_RAW) itself. Its read cost is
 * measured, since it sits inside every timed iteration.
 */
#ifndef IK_CPUINFO_H
#define IK_CPUINFO_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../ik.h"

enum ik_clock { IK_CLOCK_TSC = 0, IK_CLOCK_MONO_RAW = 1 };

struct ik_timer {
	enum ik_clock kind;
	double ns_per_tick;   /* 1.0 for clock_gettime */
	double tsc_mhz;	      /* measured TSC rate; 0 if not used */
	double read_cost_ns;  /* one timestamp, measured back to back */
	double resolution_ns; /* smallest step between two reads */
	bool tsc_invariant;   /* CPUID 0x80000007 EDX bit 8 */
	char why[96];	      /* why this clock was chosen */
};

/* Choose and calibrate (about 40 ms). 0 or -errno. */
int ik_timer_init(struct ik_timer *t);
const char *ik_clock_name(enum ik_clock c);

static inline uint64_t ik_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * IK_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * A plain rdtsc, no fences: in a round-trip loop the read follows the
 * receive's final load through the loop-exit branch (the spin predicts
 * "again", so the exit path runs only once that load resolved), and the
 * next send's stores retire after it. Fencing (rdtscp; lfence) would
 * cost 2.5x as much here (30 vs 12 ns measured on the dev VM), inside
 * every timed trip, for no accuracy a round trip needs.
 */
static inline uint64_t ik_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
#else
	return ik_clock_ns();
#endif
}

/* Timer ticks to ns. */
static inline uint64_t ik_ticks_to_ns(const struct ik_timer *t, uint64_t ticks)
{
	return (uint64_t)((double)ticks * t->ns_per_tick + 0.5);
}

struct ik_machine {
	char vendor[32]; /* "unknown" when not exposed */
	char model[128];
	int family, cpu_model, stepping; /* -1 when unknown */
	int online_cpus;
	char kernel[160]; /* uname -srm */
	char hostname[64];
	char clocksource[32];
	bool hypervisor;     /* CPU flag "hypervisor" */
	char online[64];     /* /sys/devices/system/cpu/online */
	char smt[32];	     /* smt/control: on, off, notsupported, ... */
	char isolated[1024]; /* isolcpus list; "none" if empty */
	char nohz_full[64];
	char governor[32];		/* cpu0's scaling_governor */
	long cur_khz, min_khz, max_khz; /* cpu0; -1 when unknown */
	char boost[16];			/* on, off or unknown */
	double load1;			/* 1-minute load average; -1 unknown */
	char numa_distances[256];	/* "node0: 10 21; node1: 21 10" */
	char cmdline[1024];
	char vulns[2048]; /* "name: state" joined by "; " */
	/* Cpus_allowed_list we started with (taskset, isolcpus); "" unknown */
	char affinity[256];
	/* cpuidle: "DRIVER, governor GOV", "none" (no cpuidle driver: the
	 * idle loop halts), or "unknown" */
	char idle[96];
	long halt_poll_ns; /* haltpoll's guest_halt_poll_ns; -1: no haltpoll */
	/* cpu0's shallowest enabled idle state that is not polling: its
	 * name and exit latency (us; -1: none, or no cpuidle) */
	char idle_state[32];
	long idle_exit_us;
	/* the CPU latency PM QoS limit in force (/dev/cpu_dma_latency, what
	 * --cpu-latency holds): IK_NO_LATENCY_QOS when nobody holds one, -1
	 * when it cannot be read (only root may) */
	long latency_qos_us;
};
#define IK_NO_LATENCY_QOS 2000000000L /* the kernel's "no constraint" */

/*
 * Read what the machine exposes under root ("" for the real /proc and
 * /sys; tests point it at sample trees). Missing fields say "unknown".
 */
int ik_machine_read(struct ik_machine *m, const char *root);

/*
 * Reasons results will be noisy, one line each, for pinned CPUs cpus[n]
 * (n may be 0): governor not performance, a VM, CPUs outside the
 * affinity mask we started with (pinned there all the same: isolcpus and
 * taskset set that mask, the cgroup cpuset is the limit), CPUs not
 * isolated, load above half the CPUs. Returns how many were written (at
 * most max).
 */
/* cpuN's busy and total ticks from root/proc/stat. 0 or -errno. */
int ik_cpu_ticks(const char *root, int cpu, uint64_t *busy, uint64_t *total);

/*
 * May a CPU with nothing to run enter an idle state it must leave to
 * wake (not polling), under the QoS limit in force? Unknown limits
 * (not root) count as none.
 */
bool ik_machine_idles(const struct ik_machine *m);

/* Re-read latency_qos_us (after --cpu-latency took hold). */
void ik_machine_read_qos(struct ik_machine *m, const char *root);

/*
 * Hold the CPU latency PM QoS at us microseconds: idle states that take
 * longer to leave are not entered while the returned fd stays open
 * (closing it, or exiting, drops the request; nothing is left behind).
 * The fd, or -errno (-EACCES: only root may open /dev/cpu_dma_latency).
 */
int ik_cpu_latency_hold(long us);

unsigned ik_machine_warnings(const struct ik_machine *m, const int *cpus,
			     unsigned n, char (*out)[200], unsigned max);

/*
 * What makes two machines "the same class" for a results history: the
 * CPU model, its microcode, the kernel, the vCPU count, the hypervisor
 * (its CPUID vendor, "none" on bare metal), the governor and SMT.
 * klass is a hash of them all (16 hex digits): runs of one class form
 * one series. Strings are "unknown" where the machine hides them.
 */
struct ik_fingerprint {
	char cpu_model[128];
	char microcode[32];
	char kernel[160];
	int vcpus;
	char hypervisor[32];
	char governor[32];
	char smt[32];
	char klass[17];
};

/* From m (ik_machine_read) and root's /proc/cpuinfo (microcode). */
void ik_machine_fingerprint(const struct ik_machine *m, const char *root,
			    struct ik_fingerprint *fp);
/* fp->klass from its other fields (after changing one, say in a test). */
void ik_fingerprint_hash(struct ik_fingerprint *fp);

#endif
