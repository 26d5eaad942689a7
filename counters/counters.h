/* SPDX-License-Identifier: MIT */
/*
 * What --explain counts around a peer's timed loop: perf software and
 * hardware events of the peer's own thread, the IPIs and timer ticks its
 * CPU took (/proc/interrupts) and how often that CPU went idle (cpuidle
 * usage counters). Read before and after the loop only, never inside
 * it. A counter the machine does not expose carries why (a -errno),
 * never a zero. The reading rules turn per-hop numbers into one line.
 */
#ifndef IK_COUNTERS_H
#define IK_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The counters, in report order. The perf ones come first. */
enum ik_ctr {
	IK_CTR_CS = 0,	   /* context switches of the thread (perf sw) */
	IK_CTR_MIGRATIONS, /* CPU migrations of the thread (perf sw) */
	IK_CTR_FAULTS,	   /* page faults of the thread (perf sw) */
	IK_CTR_CYCLES,	   /* perf hw: cycles */
	IK_CTR_INSTR,	   /* perf hw: instructions */
	IK_CTR_L1D_MISS,   /* perf hw cache: L1D read misses */
	IK_CTR_LLC_MISS,   /* perf hw: cache misses (last level) */
	IK_NCTR_PERF,
	IK_CTR_IPI_RES = IK_NCTR_PERF, /* RES: rescheduling IPIs on the CPU */
	IK_CTR_IPI_CAL,		       /* CAL: function call IPIs */
	IK_CTR_IPI_TLB,		       /* TLB: shootdown IPIs */
	IK_CTR_IRQ_LOC,		       /* LOC: local timer interrupts */
	IK_CTR_IDLE,		       /* cpuidle entries, all states */
	IK_NCTR
};

/* A counter's name in JSON, its unit and what it counts. */
struct ik_ctr_info {
	const char *name, *unit, *what;
};
extern const struct ik_ctr_info ik_ctr_infos[IK_NCTR];

/*
 * One reading, or a delta of two: v[c] is meaningful only where err[c]
 * is 0; else err[c] is the -errno that says why it is not exposed
 * (-ENOENT: no such file or row, -EOPNOTSUPP/-ENODEV: no PMU, -EACCES:
 * not allowed, -EDOM: the CPU is not known, the peer is not pinned).
 */
struct ik_counts {
	uint64_t v[IK_NCTR];
	int err[IK_NCTR];
	uint64_t ns; /* CLOCK_MONOTONIC at the reading; in a delta, the span */
};

/* A peer's open counters: the perf fds of its thread and its CPU. */
struct ik_counters {
	int fd[IK_NCTR_PERF]; /* -1 where err says why */
	int err[IK_NCTR];
	int cpu;	  /* -1: not pinned, no per-CPU counters */
	const char *root; /* "" for the real /proc and /sys */
};

/*
 * Whether counter c (a perf one) still counts when only user-space
 * counting is allowed (exclude_kernel): page faults and the hardware
 * events do, context switches and migrations (counted by the scheduler,
 * in the kernel) never.
 */
bool ik_ctr_user_countable(enum ik_ctr c);

/*
 * In the thread to count: open its perf events (counting just this
 * thread, from now on) and check the per-CPU files of cpu (-1: none)
 * under root. Counters that cannot be opened are marked with why; this
 * never fails as a whole. Close with ik_counters_close.
 */
void ik_counters_open(struct ik_counters *k, int cpu, const char *root);
/* A reading of every counter k has. */
void ik_counters_read(const struct ik_counters *k, struct ik_counts *c);
void ik_counters_close(struct ik_counters *k);

/*
 * The background of per-CPU counters: what cpus[k]'s rows count over ns
 * of wall time while the caller sleeps and no peer runs, into bg[k]
 * (bg[k].ns the interval's length; the perf counters marked -ENODATA).
 */
/* n is 1 or 2 */
void ik_counters_idle(const int *cpus, unsigned n, uint64_t ns,
		      const char *root, struct ik_counts *bg);

/* d = b - a, counter by counter (an error in either is d's). */
void ik_counts_delta(struct ik_counts *d, const struct ik_counts *a,
		     const struct ik_counts *b);
/* d += s (an error in s becomes d's unless d had one). */
void ik_counts_add(struct ik_counts *d, const struct ik_counts *s);

/*
 * Parse /proc/interrupts text for cpu's column: the RES, CAL, TLB and
 * LOC rows into c (their err 0 or -ENOENT). -ENOENT when cpu has no
 * column. For tests, the reader uses it on the real file.
 */
int ik_interrupts_parse(const char *text, int cpu, struct ik_counts *c);

/*
 * The per-hop figures a reading is made of: per round trip (ping-pong,
 * call, echo) or per message (stream), both peers summed. NaN: not
 * known. ipc is instructions per cycle (NaN without a PMU).
 */
struct ik_explain_per {
	double ipis; /* RES + CAL on both peers' CPUs */
	double cs;   /* context switches of both peer threads */
	/* of those, voluntary (the peer slept) and involuntary (it was
	 * preempted: peers compete for CPUs), from getrusage; cs_rusage:
	 * perf could not count switches here, cs is vcs + ics */
	double vcs, ics;
	bool cs_rusage;
	double migrations;
	double faults;
	double idle; /* cpuidle entries on both CPUs */
	double ipc;
	bool same_cpu; /* both peers on one CPU */
	bool unpinned;
	/* ipis and idle are net of the CPUs' background, measured over an
	 * idle interval with the peers gone; some went below 0 and were
	 * clamped to 0 (the CPUs were busier without the peers) */
	bool bg_subtracted, clamped;
};

/*
 * The one-line reading of p, from the rules table in counters/explain.c
 * (the first rule that holds). Writes at most len bytes into buf and
 * returns buf.
 */
const char *ik_explain_reading(const struct ik_explain_per *p, char *buf,
			       size_t len);

/*
 * The blocked peer's wake-up latency (counters/trace.c): from
 * sched_waking of a peer's tid to sched_switch onto it, as root where
 * tracefs is mounted. err 0: n wake-ups paired, their median, p99 and
 * max (tracefs text: microsecond resolution); else why not (-ENODEV:
 * no tracefs mounted, -EACCES/-EPERM: not allowed, -ENOENT: no sched
 * events, -EOPNOTSUPP: the kernel's peers are not a pair, -ENODATA: not
 * traced). lost: events the trace buffers overwrote or dropped.
 */
#define IK_TRACE_TIDS 8
struct ik_wakeup {
	int err;
	uint64_t n, wakings, lost;
	uint64_t p50_ns, p99_ns, max_ns;
	/* per traced tid (in the order given): its wakings, the wake-ups
	 * paired, and the CPU its wakings targeted last (-1: none). A
	 * switch the trace never recorded (an idle CPU's, on some VMs)
	 * leaves one peer's wakings unpaired: the latency is the other's */
	uint64_t tid_wakings[IK_TRACE_TIDS], tid_n[IK_TRACE_TIDS];
	int tid_cpu[IK_TRACE_TIDS];
};
/* A private tracefs instance; err says why there is none. */
struct ik_trace {
	int err;
	char dir[256];
	/* held: stopped and left for the caller to collect and close, with
	 * the tids it traced */
	bool held;
	int tids[2];
	unsigned ntids;
	/* a holder's: the CPUs' idle background is also left to it */
	bool idle_due;
};
/* Make one (the two events on, tracing off): never fails as a whole,
 * t->err says why not. Removes stale instances of dead runs first. */
void ik_trace_open(struct ik_trace *t);
/* Trace just the n (at most 2) tids, once on. 0 or -errno. */
int ik_trace_start(const struct ik_trace *t, const int *tids, unsigned n);
int ik_trace_on(const struct ik_trace *t, bool on);
/* Tracing off and both events disabled (their probes cost every switch
 * even with tracing off); the buffers keep what they hold. */
int ik_trace_stop(const struct ik_trace *t);
/* Tracing off, then the wake-ups of tids (at most IK_TRACE_TIDS) */
void ik_trace_collect(struct ik_trace *t, const int *tids, unsigned ntids,
		      struct ik_wakeup *w);
/* Remove the instance (nothing if there is none). */
void ik_trace_close(struct ik_trace *t);
/* Remove instances of runs that are gone (see counters/trace.c). */
void ik_trace_reap(void);
/* 1 if an instance named name belongs to a run that is gone: ours, by
 * its name's pid namespace inode ns_ino, and its pid dead or reused; or,
 * seen from the initial pid namespace (ns_ino IK_INIT_PIDNS_INO, which
 * sees every process), of a namespace no process is in any more. */
#define IK_INIT_PIDNS_INO 0xEFFFFFFCull /* the kernel's PROC_PID_INIT_INO */
int ik_trace_stale(const char *name, unsigned long long ns_ino);
/* 1 if a process we can see is in the pid namespace of inode ino (or
 * /proc cannot be read), 0 if none is. */
int ik_pidns_alive(unsigned long long ino);
/* Parse trace text: the wake-ups of tids into w. 0 or -errno. */
int ik_wakeup_parse(FILE *f, const int *tids, unsigned ntids,
		    struct ik_wakeup *w);

#endif
