/* SPDX-License-Identifier: MIT */
/*
 * The timed loops and the machinery around them: two peers (threads or
 * processes) pinned, parked at a start gate, run, watched by a controller
 * that ends the run on a peer's failure, a timeout or Ctrl-C, and leaves
 * nothing behind. Kernels never print: they fill a struct ik_result.
 */
#ifndef IK_KERNELS_H
#define IK_KERNELS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

struct pollfd;

#include "../affinity/affinity.h"
#include "../counters/counters.h"
#include "../cpuinfo/cpuinfo.h"
#include "../hist/hist.h"
#include "../ipc/ipc.h"
#include "load.h"

#define IK_MAX_METHODS	       32
#define IK_MAX_SWEEP	       32 /* values in one --size or --buffer list */
#define IK_MAX_PAIRS	       64 /* most pairs run at once */
#define IK_MAX_LOADS	       8  /* --load given at most this often */
#define IK_DURATION_SAMPLE_CAP (8u << 20) /* samples kept with --duration */
#define IK_EXPLAIN_IDLE_NS     (1000u * 1000u * 1000u) /* longest idle */

/* The kernels' index in ik_kernels[], from kernels/kernels.def: one
 * IK_KERNEL_<NAME> each; struct ik_config's kernel is one. */
enum ik_kernel {
#define IK_KERNEL(N, n) IK_KERNEL_##N,
#include "kernels.def"
#undef IK_KERNEL
	IK_NKERNELS
};

/* The group kernel's shapes (kernels/group.c): what --fanout 1:N,
 * --fanout N:1, --pipeline K and --contend N ask for. */
enum ik_shape {
	IK_SHAPE_NONE = 0,
	IK_SHAPE_FANOUT,   /* one producer, shape_n consumers */
	IK_SHAPE_FANIN,	   /* shape_n producers, one consumer */
	IK_SHAPE_PIPELINE, /* shape_n stages in a ring */
	IK_SHAPE_CONTEND   /* shape_n CPUs on one line */
};
extern const char *const ik_shape_names[]; /* NULL-terminated */
#define IK_GROUP_MAX 64			   /* most parties in one group */

/* --server: how the echo kernel's server handles its connections */
enum ik_server { IK_SERVER_THREAD = 0, IK_SERVER_EPOLL, IK_SERVER_URING };
extern const char *const ik_server_names[]; /* NULL-terminated */
/*
 * --slo: a latency objective the stream kernel's open-loop rate must
 * hold (kernels/slo.c). Each condition is a percentile (100: the max)
 * at or under a bound; all must hold. n == 0: no --slo.
 */
#define IK_SLO_MAX_CONDS 8
#define IK_SLO_MAX_STEPS 40
struct ik_slo_cond {
	double pct;	   /* 0 < pct <= 100; 100 is the max */
	uint64_t bound_ns; /* holds when the percentile is at most this */
	bool strict;	   /* '<': under it, not at it */
};
struct ik_slo {
	struct ik_slo_cond c[IK_SLO_MAX_CONDS];
	unsigned n;
	char text[128];	  /* as given */
	double precision; /* the final bracket's hi/lo - 1: 0.05 */
};

/*
 * What one cell needs: the kernel and its options, this cell's size,
 * buffer, gap, server and work (one value of each sweep) and its CPUs.
 * The CLI plans the rest (cli/cli.h: outputs, formats; the lists in
 * struct ik_sweep) and copies this template into each cell.
 */
struct ik_config {
	enum ik_kernel kernel;
	enum ik_wait wait;
	bool verify;   /* stream: check seq and checksum of each message */
	uint64_t rate; /* stream: open loop at this many msgs/s; 0: flat out */
	uint64_t gap_ns;       /* ping-pong: idle before each trip; 0: none */
	bool gap_sleep;	       /* --gap-mode sleep (else spin) */
	unsigned clients;      /* echo, connect: client count */
	enum ik_server server; /* echo: this run's server model */
	unsigned backlog;      /* echo, connect: listen backlog */
	uint64_t work_ns;      /* call: busy work per call in the worker */
	size_t size;	       /* payload bytes per message per direction */
	size_t buffer;	       /* transport buffer to ask for; 0: its default */
	bool iters_given;      /* else each run's count follows from its size */
	bool duration_given;   /* --duration: else a default (stream's 0.5 s) */
	uint64_t iters;	       /* timed round trips (a cap with duration) */
	uint64_t warmup;       /* untimed round trips around them */
	uint64_t duration_ns;  /* 0: run for iters */
	uint64_t timeout_ns;   /* one measurement's wall-clock limit */
	bool keep_raw;	       /* keep every round trip (--raw) */
	bool explain;	       /* --explain: count around the timed loop */
	/* --explain: NULL, or where ik_kernel_run leaves its stopped trace
	 * (held) for the caller to read and remove, and measure the CPUs'
	 * background (ik_explain_idle), once it has timed a second pass:
	 * neither may precede a timed loop */
	struct ik_trace *trace_hold;
	/* the cell's CPUs (OS numbers), when pinned: a pair's A and B, or a
	 * crew's server and then its clients' (round them); ik_config_cpu
	 * reads a side */
	bool pinned;
	int cpu[2 * IK_MAX_PAIRS];
	unsigned ncpu;
	/* issue 19, line provenance: who faults the shared pages in
	 * (IK_TOUCH_*; touch_cpu for IK_TOUCH_CPU), the lines' NUMA node
	 * (--home; else --mem-node's, as before), and the channel's struct
	 * ik_lines (n, op, stride, fresh; its touch is set per cell) */
	int touch;
	int touch_cpu;
	bool homed;
	int home;
	struct ik_lines lines;
	unsigned preheat_ms; /* --preheat: busy the pair's CPUs first */
	/* --load: this cell's antagonists (one of the sweep's), NULL or
	 * an empty set: none; load_on_peer: --load-on-peer */
	const struct ik_load_set *load;
	bool load_on_peer;
	/* late and lost wake-ups (issue 20): a round trip over late_ns is
	 * late (0: IK_LATE_NS); late_given: --late was given, so every
	 * result shows the counts; a blocking wait gives up after
	 * wake_deadline_ns (0: IK_WAKE_DEADLINE_NS) and looks for a
	 * message posted without its wake-up (lost) */
	uint64_t late_ns;
	bool late_given;
	uint64_t wake_deadline_ns;
	/* soak: one summary per soak_minute_ns of the timed loop (--soak,
	 * or --duration of 2 minutes or more); 0: none */
	uint64_t soak_minute_ns;
	/* group: its shape and N (or K); the parties take cpu[] in turn */
	enum ik_shape shape;
	unsigned shape_n;
	bool oversubscribe; /* more parties than CPUs: asked for */
	struct ik_slo slo;  /* stream: --slo searches the rate; n 0: none */
	/* hybrid: the spin before sleeping (ns, or | IK_BUDGET_ITERS) */
	uint64_t spin_budget;
	bool wait_given; /* --wait given: results say which */
};

/* --first-touch: nobody in particular (the first writer), A, B, a CPU */
enum { IK_TOUCH_NONE = 0, IK_TOUCH_A, IK_TOUCH_B, IK_TOUCH_CPU };

/*
 * The lists a run sweeps, as the CLI planned them: each cell takes one
 * method, mode, size, buffer, gap, work, server and pair count
 * (cli/grid.c). A kernel's validate hook checks them; the JSON report's
 * "config" prints them.
 */
struct ik_sweep {
	const struct ik_transport_ops *methods[IK_MAX_METHODS];
	unsigned nmethods;
	enum ik_mode modes[2];
	unsigned nmodes;
	size_t sizes[IK_MAX_SWEEP], buffers[IK_MAX_SWEEP];
	unsigned nsizes, nbuffers;
	bool size_given;	     /* --size was given (call refuses it) */
	uint64_t gaps[IK_MAX_SWEEP]; /* --gap */
	unsigned ngaps;
	enum ik_server servers[IK_MAX_SWEEP]; /* --server */
	unsigned nservers;
	unsigned clients[IK_MAX_SWEEP]; /* --clients */
	unsigned nclients;
	uint64_t works[IK_MAX_SWEEP]; /* --work */
	unsigned nworks;
	unsigned pairs[IK_MAX_SWEEP]; /* --pairs */
	unsigned npairs;
	/* --method all's left out: unavailable here (the report says) */
	const struct ik_transport_ops *left_out[IK_MAX_METHODS];
	unsigned nleft_out;
	/* issue 19 (0 items: not given, nothing swept): --first-touch as
	 * -1 a, -2 b or a CPU; --home nodes; --line-op (enum ik_line_op);
	 * --stride as 0 (64) or 1 (128); --lines */
	int touches[IK_MAX_SWEEP];
	unsigned ntouches;
	unsigned homes[IK_MAX_SWEEP];
	unsigned nhomes;
	unsigned line_ops[IK_MAX_SWEEP];
	unsigned nline_ops;
	unsigned strides[IK_MAX_SWEEP];
	unsigned nstrides;
	unsigned nlines[IK_MAX_SWEEP];
	unsigned nnlines;
	/* --load, once per value: each a cell of its own (none: 0) */
	struct ik_load_set loads[IK_MAX_LOADS];
	unsigned nloads;
	/* --wait: the strategies (methods with IK_T_WAIT run each) */
	enum ik_wait waits[IK_NWAITS];
	unsigned nwaits;
	bool wait_given;
	/* --spin-budget: hybrid's budgets (ns, or | IK_BUDGET_ITERS) */
	uint64_t budgets[IK_MAX_SWEEP];
	unsigned nbudgets;
	bool budget_given;
};

/*
 * What one run hands every cell besides its configuration: the machine,
 * the clock, the --pairs start barrier, the cancellation flag and the
 * NUMA node for shared pages. The CLI builds it; kernels and the crew
 * only read it (and pass it down: the channel gets the node).
 */
struct ik_soak_minute;
struct ik_run {
	const struct ik_topo *topo;
	const struct ik_timer *timer;
	/* --pairs: the barrier every pair's peers start from; NULL: alone */
	struct ik_barrier *start;
	/* set asynchronously (SIGINT/SIGTERM) to end the run; may be NULL */
	volatile sig_atomic_t *interrupted;
	int mem_node; /* --mem-node: bind shared pages to it; -1: none */
	/* the CLI's progress line, called by the controller between its
	 * polls while a cell runs (never by a peer, never inside a timed
	 * loop; not with --pairs, whose controllers run at once); may be
	 * NULL */
	void (*progress)(void *arg);
	void *progress_arg;
	/* soak: a minute of the timed loop ended (index m from 0; called
	 * by the controller, like progress); may be NULL */
	void (*soak_minute)(void *arg, unsigned m,
			    const struct ik_soak_minute *s);
};

/* echo, connect: the --clients list's largest value, the cell every
 * limit is checked for (1 when the list is empty, as in a bare cfg) */
static inline unsigned ik_clients_max(const struct ik_sweep *sw,
				      const struct ik_config *c)
{
	unsigned n = sw->nclients ? 0 : c->clients, i;

	for (i = 0; i < sw->nclients; i++)
		n = sw->clients[i] > n ? sw->clients[i] : n;
	return n ? n : 1;
}

/*
 * CPU a peer used from the start barrier to its end. cpu_ns is exact
 * (CLOCK_THREAD_CPUTIME_ID); the user/sys split comes from getrusage,
 * which the kernel may sample at the tick, so it is coarse on short runs.
 */
struct ik_cpu_usage {
	uint64_t cpu_ns;
	uint64_t user_ns, sys_ns;
	long vol_cs, invol_cs; /* voluntary / involuntary context switches */
};

/* What a stream run adds; its hist holds one-way latency when valid. */
struct ik_stream_result {
	uint64_t messages; /* received and counted by B */
	double seconds;	   /* A's first send to B's last receive */
	double msgs_per_s, bytes_per_s;
	double tsc_offset_ns;	  /* B's TSC minus A's, measured */
	double tsc_offset_err_ns; /* half the tightest probe round trip */
	bool latency_valid;
	char latency_why[120];	/* why not, when not */
	uint64_t latency_every; /* one message in this many was stamped */
	double rate_asked;	/* --rate, msgs/s; 0: as fast as it goes */
	double max_send_lag_ns; /* --rate: worst lateness of a send */
	uint64_t late_sends;	/* --rate: sends over one interval late */
	bool rate_missed;	/* the schedule could not be kept */
};

/* Late wake-ups: round trips over the threshold, the first few kept. */
#define IK_LATE_NS	    1000000ULL	  /* --late's default: 1 ms */
#define IK_WAKE_DEADLINE_NS 1000000000ULL /* --wake-deadline's: 1 s */
#define IK_LATE_EVENTS	    16
struct ik_late {
	uint64_t threshold_ns;
	uint64_t count, worst_ns;
	unsigned nev; /* events kept: the first IK_LATE_EVENTS */
	struct ik_late_event {
		uint64_t trip;	/* timed round trip, from 0 */
		uint64_t at_ns; /* its start, from the timed loop's */
		uint64_t ns;	/* how long it took */
	} ev[IK_LATE_EVENTS];
};
/* One minute of a soak (the timed loop's, in order). */
struct ik_soak_minute {
	uint64_t count;		       /* round trips */
	uint64_t p50, p99, p9999, max; /* ns */
	uint64_t late, lost;
};

/* One measurement: one method, one mode, one pair. */
struct ik_result {
	const struct ik_transport_ops *ops;
	enum ik_mode mode;
	size_t size;
	size_t buffer;	  /* asked for; 0: the transport's default */
	uint64_t gap_ns;  /* --gap before each trip */
	char granted[96]; /* what the kernel granted the transport */
	/* connections to our listener from anyone not ours, dropped
	 * unanswered (kernels/door.c, ipc/tcp.c); they change nothing else */
	uint64_t strangers;
	struct ik_pair pair;
	int cpu_seen[2]; /* where each peer ran at the start gate */
	uint64_t count;	 /* timed round trips completed */
	uint64_t warmup;
	bool hit_cap;		/* --duration ran into the sample cap */
	uint64_t wall_ns;	/* the timed loop, read once each side */
	double untimed_mean_ns; /* warm-up's 2nd half, no per-trip clock */
	struct ik_hist hist;	/* round-trip ns */
	uint64_t *raw_ns;	/* every round trip, if asked; malloc'd */
	struct ik_cpu_usage cpu[2];
	/* --explain: each peer's counters over the span its cpu[] covers
	 * (counters/counters.h); explained says they were taken */
	bool explained;
	struct ik_counts ctr[2];
	/* and, pinned, each CPU's background over an idle interval as long
	 * (capped at IK_EXPLAIN_IDLE_NS; ns 0: not measured) */
	struct ik_counts bg[2];
	/* which pass the timed figures are: 1, the counted one; 2, a
	 * second, uncounted one (cli/grid.c: the first switched) */
	int explain_pass;
	/* --explain: the counted pass's own hops and CPU use, which its
	 * counters go with (count, warmup, cpu[] above may be the second
	 * pass's) */
	struct ik_counted {
		uint64_t count, warmup, messages;
		struct ik_cpu_usage cpu[2];
	} counted;
	/* --explain: the blocked peer's wake-up latency (tracefs), of the
	 * counted pass; err says why not */
	struct ik_wakeup wake;
	/* the kernel that measured it (NULL: ping-pong); call's cpu[]
	 * covers the timed calls, echo's cpu[0] is the clients', cpu[1]
	 * the server's */
	const struct ik_kernel_ops *kernel;
	struct ik_stream_result stream;
	struct ik_connect_result {
		unsigned backlog;
		uint64_t served; /* requests the server answered */
		uint64_t failed; /* connects or requests that failed */
		int first_err;	 /* the first one's -errno */
		long time_wait;	 /* TIME_WAIT sockets on the port after; -1 */
		long tw_reuse;	 /* net.ipv4.tcp_tw_reuse, -1 unknown */
		struct ik_hist connect_hist; /* connect() alone, ns */
	} connect;
	enum ik_server server;
	unsigned clients;
	uint64_t work_ns;   /* --work asked of the worker per call */
	int pair_index;	    /* 0.., or -1 for the sum of all pairs */
	int cls;	    /* enum ik_class under --classes, else -1 */
	double startup_ms;  /* --matrix: wall time outside the loops */
	uint64_t warmup_ns; /* ping-pong: the warm-up's wall time */
	int mem_node;	    /* node the channel's shared pages are on */
	unsigned npairs;    /* pairs run at once (0 or 1: alone) */
	/* --repeat: each repeat's metrics, rep_v[r * IK_NMETRICS + m]
	 * (reports/gate.h); malloc'd, NULL without repeats */
	double *rep_v;
	unsigned repeats;
	int err; /* 0, or the -errno that ended the run */
	char errmsg[200];
	/* stalls the transport's own kernel caused (ik_stalls), and why:
	 * this cell's figures are then that kernel's, not the method's */
	unsigned stalls;
	uint64_t stall_ns;
	char note[256];
	/* issue 19: the cell's line provenance as asked (ik_config's) and
	 * as verified against the kernel */
	struct ik_line_result {
		int touch, touch_cpu; /* asked: IK_TOUCH_*, the CPU */
		int touched_on;	      /* the toucher's sched_getcpu; -1 */
		bool homed;
		int home;	/* asked */
		int node_found; /* every page of the lines: node; -2 mixed;
				 * -1 unknown */
		unsigned pages;
		struct ik_lines lines;
		char why[160]; /* what could not be verified, and why */
		/* --lines N > 1: each line's p50 round trip, ns */
		unsigned nlines;
		uint64_t p50[IK_LINES_MAX];
	} line;
	/* --preheat: the pair's clock before and after busying both CPUs */
	struct ik_preheat {
		unsigned ms;	      /* 0: none */
		double khz_before[2]; /* 0: not exposed (why) */
		double khz_after[2];
		char source[24]; /* scaling_cur_freq, aperf/mperf */
		char why[160];
	} preheat;
	/* --load: the cell's antagonists and what they did (text "": the
	 * run had no --load) */
	struct ik_load_result load;
	/* ping-pong: late round trips (late.threshold_ns 0: not counted)
	 * and waits that timed out on a posted message (retried); shown
	 * when late_shown (--late given, or either count is not 0) */
	struct ik_late late;
	uint64_t lost;
	bool late_shown;
	/* soak: one summary per minute (malloc'd), nsoak of them */
	struct ik_soak_minute *soak;
	unsigned nsoak;
	/* the group kernel's parties (malloc'd); NULL for the others */
	struct ik_group_result *group;
	/* --slo: the search that chose this row's rate; malloc'd, NULL
	 * without --slo (ik_result_free frees it) */
	struct ik_slo_result *slo;
	/* the cell's --wait, and hybrid's budget; shown (JSON, table) when
	 * --wait was given and the method takes strategies (IK_T_WAIT) */
	enum ik_wait wait;
	uint64_t spin_budget;
	bool wait_shown;
	/* a soak cut short by a signal, its finished minutes kept: the
	 * run is partial though this row has data */
	bool cut;
};

/*
 * --preheat (kernels/preheat.c): spin a thread pinned to each of cpu[2]
 * for ms, reading each CPU's clock before and after: cpufreq's
 * scaling_cur_freq under root (a prefix, "" for /), else APERF/MPERF
 * from /dev/cpu/N/msr over 10 ms at each end, else out->why says why
 * neither. 0 or -errno (a CPU we may not run on).
 */
int ik_preheat(const char *root, const int cpu[2], unsigned ms,
	       struct ik_preheat *out);

/* What the group kernel adds (kernels/group.c): each party's figures.
 * hist[i] is party i's latency: fan-out consumer i's one way, fan-in
 * producer i's round trip (oneway[i] its one way), pipeline stage i's
 * hop in (stage 0's: the return); e2e the last consumer's receipt
 * (fan-out) or the last stage's (pipeline). */
struct ik_group_result {
	enum ik_shape shape;
	unsigned shape_n, parties, ncpus;
	bool oversubscribed;
	int cpu[IK_GROUP_MAX], cpu_seen[IK_GROUP_MAX];
	struct ik_cpu_usage use[IK_GROUP_MAX];
	struct ik_hist hist[IK_GROUP_MAX], oneway[IK_GROUP_MAX], e2e;
	uint64_t skewed; /* one-way figures below 0 (clock skew): 0 */
	/* contend */
	uint64_t takes[IK_GROUP_MAX], handoffs[IK_GROUP_MAX],
		tries[IK_GROUP_MAX];
	uint64_t total; /* the line's own count of takes */
	double seconds;
};
void ik_group_free(struct ik_group_result *gr);
/* Parties of cfg's shape (producers, consumers, stages, CPUs); 0: none */
unsigned ik_group_parties(const struct ik_config *cfg);
/* "consumer 2", "stage 0": party i's name into b. */
const char *ik_group_party_name(const struct ik_group_result *gr, unsigned i,
				char *b, size_t n);
/* The option that asks for shape s ("--fanout"). */
const char *ik_shape_option(enum ik_shape s);
/*
 * Run one group cell (kernels/group.c): cfg->shape's parties, a crew,
 * over ops's channels (none for contend). Same contract as ik_pingpong;
 * a failed check is -EBADMSG naming the party and the message.
 */
int ik_group(const struct ik_config *cfg, const struct ik_transport_ops *ops,
	     enum ik_mode mode, const struct ik_run *run,
	     struct ik_result *res);

/* What tells a kernel's cells apart besides method, mode, size, buffer
 * and gap (struct ik_kernel_ops.keys): the cell key and its names. */
enum ik_key_dim {
	IK_KEY_SERVER = 1u << 0,  /* --server: the server model */
	IK_KEY_CLIENTS = 1u << 1, /* --clients */
	IK_KEY_WORK = 1u << 2,	  /* --work: busy time per call */
};

/*
 * A kernel: what --kernel NAME runs, all of it in one file in kernels/
 * (and its line in kernels/kernels.def). run measures one cell of cfg
 * over method ops in mode, in the run context run (topology, clock,
 * start barrier, Ctrl-C, memory node), and fills *res, setting
 * res->kernel to the ops; it returns 0, or a -errno with res->errmsg saying
 * what failed (the contract of ik_pingpong below). The rest is data and hooks
 * for the layers above, which read a kernel only through these: the CLI (help,
 * options, validate, fixed_time, floor), --repeat (pool), the cell key (keys)
 * and the reports (the hooks at the end, which see the report through a struct
 * ik_view, kernels/view.h, so that nothing here reaches up into reports/).
 */
struct ik_result;
struct ik_stats;
struct ik_view;
struct json_t;
struct ik_kernel_ops {
	const char *name;    /* as --kernel takes it */
	const char *summary; /* one line: what it measures */
	/* --kernel's --help text for it, '\n' where the line breaks; one
	 * that starts with '\n' starts a line of its own */
	const char *help;
	enum ik_kernel id; /* its index in ik_kernels[] */
	/* the kernel-specific options it takes (long names; each a row of
	 * cli/table.c marked kernel-specific), NULL-terminated; NULL: none */
	const char *const *options;
	unsigned keys; /* enum ik_key_dim: what else tells cells apart */
	/* what one "msg" of its results is, as JSON's "msg" and CSV's msg
	 * column say it: round_trip, message, call, request (every
	 * *_per_msg and msgs_per_sec counts these) */
	const char *msg;
	/* a server and clients over the method's own sockets (echo,
	 * connect), not two peers around an ik_channel */
	bool crew;
	/* what its results hold: one way (A sends, B counts: rates from
	 * B's messages, latency only when stamped), not round trips */
	bool one_way;
	bool cpu_timed_only; /* cpu[] covers the timed loop, not warm-up */
	/* the harness floor (ipc/floor.c through this kernel's run) goes
	 * before the methods on one stated pair */
	bool floor;
	/* by default each run gets a fixed time, not a fixed count (its
	 * speed spans 1000x across methods and buffers) */
	bool fixed_time;
	int (*run)(const struct ik_config *cfg,
		   const struct ik_transport_ops *ops, enum ik_mode mode,
		   const struct ik_run *run, struct ik_result *res);
	/* how its options combine with each other and the sweep (sw), once
	 * the CLI checked each: 0, or -EINVAL with one line in msg; may be
	 * NULL */
	int (*validate)(const struct ik_config *cfg, const struct ik_sweep *sw,
			char *msg, size_t len);
	/* --repeat: fold its own part of repeat r (1..) of src into dst,
	 * after ik_result_pool did the common part; may be NULL */
	void (*pool)(struct ik_result *dst, const struct ik_result *src,
		     unsigned r);
	/* the table report: its first line, and its own table */
	void (*title)(const struct ik_view *v);
	void (*table)(const struct ik_view *v);
	/* the JSON report's result objects: the fields that tell its cells
	 * apart (after gap_ns), what it measured (st: ik_view stats), and
	 * its own object after the CPU (may be NULL) */
	void (*json_cell)(struct json_t *o, const struct ik_result *res);
	void (*json_measured)(struct json_t *o, const struct ik_result *res,
			      const struct ik_stats *st);
	void (*json_own)(struct json_t *o, const struct ik_result *res);
	/* run-wide keys of its own, after the floor; may be NULL */
	void (*json_run)(struct json_t *root, const struct ik_config *cfg);
	/* more than two parties, one CPU each from --pin's list (group) */
	bool parties;
};
/* Every kernel, by enum ik_kernel (kernels/registry.c); the first is
 * the default (a result with no kernel was measured by it). */
extern const struct ik_kernel_ops *const ik_kernels[IK_NKERNELS];
#define IK_KERNEL(N, n) extern const struct ik_kernel_ops ik_kernel_##n;
#include "kernels.def"
#undef IK_KERNEL
/* The kernel --kernel calls name; NULL when none is. */
const struct ik_kernel_ops *ik_kernel_find(const char *name);
/* ik_kernels[id]'s name, NULL past the end (for --kernel's choices). */
const char *ik_kernel_name(unsigned id);

/*
 * Run one ping-pong measurement of ops in mode. Fills *res (free it with
 * ik_result_free). Returns 0, or a -errno with res->errmsg saying what
 * failed: -EINVAL for a size ops refuses, -ETIMEDOUT, -EINTR when
 * interrupted, or the transport's error. It ignores SIGPIPE (a dead peer
 * shows as EPIPE) and installs a do-nothing SIGUSR1 handler used to
 * interrupt blocked peers.
 */
int ik_pingpong(const struct ik_config *cfg, const struct ik_transport_ops *ops,
		enum ik_mode mode, const struct ik_run *run,
		struct ik_result *res);

/*
 * Run one stream measurement: A sends cfg->iters messages (or for
 * cfg->duration_ns), B receives. Same contract as ik_pingpong; a
 * --verify failure is -EBADMSG naming the message.
 */
int ik_stream(const struct ik_config *cfg, const struct ik_transport_ops *ops,
	      enum ik_mode mode, const struct ik_run *run,
	      struct ik_result *res);

/*
 * Run one call measurement: A calls into B (a worker) over ops, B runs a
 * trivial function plus cfg->work_ns of busy work and answers; every
 * call's id and result are checked. Same contract as ik_pingpong; CPU is
 * counted over the timed calls only.
 */
int ik_call(const struct ik_config *cfg, const struct ik_transport_ops *ops,
	    enum ik_mode mode, const struct ik_run *run, struct ik_result *res);

/*
 * Echo server (kernels/echo.c): cfg->clients clients in a closed loop of
 * cfg->size messages against one server of model cfg->server reading
 * into cfg->buffer, over ops (one with ops->listen). Same contract as
 * ik_pingpong; hist holds every client's round trips.
 */
int ik_echo(const struct ik_config *cfg, const struct ik_transport_ops *ops,
	    enum ik_mode mode, const struct ik_run *run, struct ik_result *res);

/*
 * Bytes ik_echo allocates for cfg's cell (cfg->clients, size, buffer,
 * server, iters): each client's message out and echo in, the server
 * model's buffers and the samples kept. Socket buffers, which the
 * kernel holds, are not counted.
 */
uint64_t ik_echo_mem_need(const struct ik_config *cfg);

/*
 * Connection per request (kernels/connect.c): cfg->clients clients each
 * connect, send a request, read a cfg->size reply to the server's close,
 * and repeat; a server with cfg->backlog accepts. hist holds whole
 * requests, connect.connect_hist the connect() calls.
 */
int ik_connect_kernel(const struct ik_config *cfg,
		      const struct ik_transport_ops *ops, enum ik_mode mode,
		      const struct ik_run *run, struct ik_result *res);

/* Full writes and reads on the crew kernels' sockets (their listener and
 * connections come from ops->listen and ik_sock_connect). -errno. */
int ik_send_all(int fd, const void *p, size_t n);
int ik_recv_all(int fd, void *p, size_t n); /* -EPIPE at EOF */

void ik_result_free(struct ik_result *res);
/* --explain, pinned: res's CPUs' background over an idle interval as
 * long as its counted span (capped), into res->bg. */
void ik_explain_idle(const struct ik_config *cfg, struct ik_result *res);
/* --explain: note res's own pass as the counted one (explain_pass 1) */
void ik_result_counted(struct ik_result *res);
/* --explain: res is an uncounted second pass; take what the counted
 * pass counted (its counters, background, wake-ups, hops and CPU use)
 * and say so (explain_pass 2). */
void ik_result_keep_counted(struct ik_result *res,
			    const struct ik_result *counted);

/*
 * The door of a crew's listener (kernels/door.c): our own clients only.
 * The kernel opens it for its listener's family and client count before
 * the crew runs. Each client calls ik_door_arrive once before it first
 * connects, ik_door_enter right after each connect and ik_door_leave
 * before each close; the server takes connections with ik_door_accept
 * and drops what is still waiting with ik_door_shut; after the crew,
 * ik_door_drain drops those never accepted and returns how many
 * strangers were dropped in all. A stranger is closed unanswered.
 */
#define IK_DOOR_PEN 64 /* room for strangers in the pen beyond n of ours */
struct ik_door {
	int family; /* AF_INET or AF_UNIX */
	unsigned n; /* clients */
	uid_t uid;
	/* ms: look at silent penned connections this often (clients that
	 * publish and then wait, as echo's at the gate); 0: when they speak */
	int recheck_ms;
	/* shared */
	_Atomic uint64_t *strangers;
	struct ik_door_addr *who;  /* tcp: each client's connection */
	_Atomic uint32_t *by_port; /* tcp: local port -> client + 1 */
	_Atomic int32_t *pids;	   /* uds: our clients' pids, a set */
	unsigned pmask;
	/* the server's own: tcp connections not known yet, and their poll
	 * set (the listener first); n + IK_DOOR_PEN of each */
	struct ik_door_wait *pen;
	struct pollfd *pfd;
	unsigned npen, pcap;
};
/* Its shared parts on NUMA node (--mem-node's, or -1). 0 or -ENOMEM. */
int ik_door_init(struct ik_door *d, int family, unsigned n, int node);
void ik_door_free(struct ik_door *d);
void ik_door_arrive(struct ik_door *d);
int ik_door_enter(struct ik_door *d, unsigned k, int fd); /* -errno */
void ik_door_leave(struct ik_door *d, unsigned k);
/*
 * The next connection from one of our clients, accepted from lfd (which
 * must be non-blocking) within about wait_ms; strangers met on the way
 * are dropped. Its fd, -EAGAIN when none came yet, or accept's -errno.
 */
int ik_door_accept(struct ik_door *d, int lfd, int wait_ms);
void ik_door_shut(struct ik_door *d);
uint64_t ik_door_drain(struct ik_door *d, int lfd);

/*
 * --repeat: fold repeat r (1..) of a cell into dst, its first repeat:
 * histograms merged, counts, wall and CPU time added, and the kernel's
 * own part (its ops' pool: a stream's rates recomputed). The first
 * error of any repeat becomes the cell's.
 */
void ik_result_pool(struct ik_result *dst, const struct ik_result *src,
		    unsigned r);

/* Where side s (0: A or the server, 1: B) of a pinned cell runs: cpu[s],
 * or cpu[0] when that is the only one. */
int ik_config_cpu(const struct ik_config *cfg, unsigned s);

/* For kernels: zero res and fill what every kernel reports the same way. */
void ik_result_begin(struct ik_result *res, const struct ik_config *cfg,
		     const struct ik_transport_ops *ops, enum ik_mode mode,
		     const struct ik_topo *topo);

/* A fast 64-bit checksum of len bytes (--verify). */
uint64_t ik_csum64(const void *p, size_t len);

/*
 * A start barrier (kernels/member.c): every party waits until all
 * arrived. Shared memory and a shared futex, so threads and processes
 * alike; the members of a crew (the two peers of a pair among them) and
 * all peers of --pairs each meet at one. A party that fails breaks it,
 * so the rest give up at once instead of waiting for their timeout; a
 * party still waiting at its deadline breaks it too. Embedded in shared
 * memory: ik_barrier_init; alone (--pairs): ik_barrier_new / _free.
 * (Users read of a "start gate"; in the code, "gate" is the CI gate.)
 */
struct ik_barrier {
	alignas(IK_CACHELINE) _Atomic uint32_t arrived;
	_Atomic uint32_t open;	 /* futex word: 0 shut, 1 open, 2 broken */
	_Atomic uint32_t broken; /* ik_barrier_break was called, ever */
	uint32_t parties;
	uint64_t t_open_ns; /* ik_clock_ns when the last party arrived */
};
void ik_barrier_init(struct ik_barrier *b, unsigned parties);
/* node: --mem-node's, or -1. NULL: no memory */
struct ik_barrier *ik_barrier_new(unsigned parties, int node);
void ik_barrier_free(struct ik_barrier *b);
/* 0 once all parties arrived; -ECANCELED when the barrier was broken;
 * -ETIMEDOUT at deadline_ns (ik_clock_ns), breaking it. */
int ik_barrier_wait(struct ik_barrier *b, uint64_t deadline_ns);
void ik_barrier_break(struct ik_barrier *b);
bool ik_barrier_broken(const struct ik_barrier *b);

/*
 * Forked members (kernels/member.c). ik_fork is fork() for every child
 * of a run: in the child it calls ik_child_bind(parent) and _exits with
 * IK_CHILD_ORPHANED when that fails. Returns the pid, 0 in the child,
 * or -errno. ik_child_bind: SIGKILL when the parent dies
 * (PR_SET_PDEATHSIG), then -ESRCH if parent is no longer our parent (it
 * died before the prctl); else the signals that end a run get their
 * default action back (unless ignored), unblocked. 0 or -errno.
 */
#define IK_CHILD_ORPHANED 125
pid_t ik_fork(void);
int ik_child_bind(pid_t parent);

/* The signals that end a run (SIGINT, SIGTERM, SIGHUP): the controller
 * takes them; member threads block them, member processes die of them. */
void ik_stop_signals(sigset_t *set);

/*
 * What ran out, for a message after strerror(-err): " (open files:
 * ulimit -n is 24)" for EMFILE, the process and thread limits (ulimit
 * -u, the pids cgroup) for EAGAIN from fork or pthread_create, "" for
 * anything else. Returns buf.
 */
const char *ik_limit_hint(int err, char *buf, size_t len);

/* The most processes and threads we may have (RLIMIT_NPROC unless
 * root, the pids cgroup's pids.max), with *what naming it; -1: none. */
long ik_task_limit(const char **what);

/* A thread's CPU use from a mark (kernels/member.c): ik_cpu_mark, then
 * ik_cpu_since. */
struct ik_cpu_mark {
	struct timespec c0;
	struct rusage r0;
};
void ik_cpu_mark(struct ik_cpu_mark *m);
void ik_cpu_add(struct ik_cpu_usage *d, const struct ik_cpu_usage *s);
void ik_cpu_since(const struct ik_cpu_mark *m, struct ik_cpu_usage *u);

/*
 * A crew (kernels/crew.c), the one controller of every run: n members,
 * threads or forked processes, watched by the caller's thread. By
 * default member 0 is a server and 1..n-1 clients (echo, connect); two
 * peers of a channel are a crew of two (ik_peers_run). A kernel fills
 * the first block and calls ik_crew_run; each member is pinned (with
 * cpus: the server to cpus[0], clients round cpus[1..]) and runs
 * body(i), which calls ik_crew_barrier once set up (0, or -ECANCELED /
 * -ETIMEDOUT: return it). A member that fails breaks the barrier, so
 * nobody waits for it. On a failure, timeout or interrupt the controller
 * sets the abort flag, calls unblock (make blocked members return: shut
 * sockets down, abort the channel), interrupts member threads still
 * running with SIGUSR1 (a do-nothing handler, so their syscalls return
 * EINTR) or SIGKILLs the children, and reaps everyone; a member that
 * died is blamed before the resets and EOFs its death caused. A member
 * reports its CPU with ik_crew_add_cpu (a server adds each of its
 * threads'). It ignores SIGPIPE: a peer that closed shows as EPIPE.
 */
struct ik_crew_member {
	alignas(IK_CACHELINE) int status; /* 0 or -errno */
	_Atomic int done;
	int cpu_seen; /* where it ran once placed */
	struct ik_cpu_usage cpu;
	struct ik_counts counts; /* --explain: what it counted */
	int tid;		 /* --explain: its thread, when traced */
	char msg[200];
};
struct ik_crew_shared {
	struct ik_barrier start; /* unless the crew has an outer one */
	_Atomic int abort;
	int donefd;	      /* eventfd: each member adds 1 when it ends */
	uint64_t deadline_ns; /* --timeout from the start: barrier waits end */
	struct ik_crew_member m[];
};
/* Why ik_crew_run ended */
enum ik_crew_end {
	IK_CREW_DONE = 0, /* every member ended well */
	IK_CREW_SETUP,	  /* no memory or eventfd: nobody started */
	IK_CREW_START,	  /* a member could not be started */
	IK_CREW_MEMBER,	  /* member ->blamed failed (or died) */
	IK_CREW_TIMEOUT,  /* --timeout */
	IK_CREW_INTERRUPT /* *interrupted was set (Ctrl-C) */
};
struct ik_crew {
	unsigned n;
	enum ik_mode mode;
	/* the topology, Ctrl-C's flag and, with --pairs, the outer barrier
	 * several crews started together wait at instead of their own (any
	 * failure breaks it); NULL: none of them, alone */
	const struct ik_run *run;
	const int *cpus; /* NULL, or ncpus CPUs */
	unsigned ncpus;
	uint64_t timeout_ns;
	int (*body)(struct ik_crew *c, unsigned i);
	void (*unblock)(struct ik_crew *c); /* may be NULL */
	void (*tick)(struct ik_crew *c);    /* each watch slice; may be NULL */
	void *arg;
	/* members' names in messages; NULL: "server", "client i" */
	const char *const *names;
	struct ik_cpu_usage *cpu; /* n entries, filled by ik_crew_run */
	int *cpu_seen;		  /* NULL, or n entries filled by it */
	struct ik_counts *counts; /* NULL, or n entries filled by it */
	int *tids;		  /* NULL, or n entries filled by it */
	/* filled by ik_crew_run */
	struct ik_crew_shared *sh;
	uint64_t t_open_ns; /* when the barrier opened */
	enum ik_crew_end end;
	int blamed; /* IK_CREW_MEMBER: whose failure it was */
	bool stuck; /* a thread would not stop: nothing was freed */
	char errmsg[200];
	/* --load (set by ik_crew_init from cfg): antagonists that meet the
	 * members at their barrier and stop once they are reaped (not with
	 * an outer barrier); what they did goes to load_out, if set */
	const struct ik_load_set *load;
	bool load_on_peer;
	struct ik_load_result *load_out;
	/* the members' CPUs for --load's checks where cpus is NULL (the
	 * peers of a pair pin themselves); NULL: unpinned */
	const int *load_peers;
	unsigned load_npeers;
};
/* A crew of cfg->clients clients and a server, cpu[] of as many + 1. */
void ik_crew_init(struct ik_crew *c, const struct ik_config *cfg,
		  enum ik_mode mode, const struct ik_run *run,
		  int (*body)(struct ik_crew *c, unsigned i),
		  void (*unblock)(struct ik_crew *c), void *arg,
		  struct ik_cpu_usage *cpu);
/* 0, or -errno with c->errmsg, c->end and c->blamed set. */
int ik_crew_run(struct ik_crew *c);
/* In a member: wait at the start barrier (the outer one, if any). */
int ik_crew_barrier(struct ik_crew *c);
bool ik_crew_aborted(const struct ik_crew *c);
void ik_crew_add_cpu(struct ik_crew *c, unsigned i,
		     const struct ik_cpu_usage *u);
/*
 * --explain in a member (the crew's counts set): open this thread's
 * counters (its CPU's too when it has the CPU to itself) and read them,
 * before its timed part; then, after it, ik_crew_count_end stores what
 * they counted as member i's and closes them. No-ops without counts.
 */
void ik_crew_count_start(struct ik_crew *c, unsigned i, struct ik_counters *k,
			 struct ik_counts *c0);
void ik_crew_count_end(struct ik_crew *c, unsigned i, struct ik_counters *k,
		       const struct ik_counts *c0);
/* ik_crew_count_end without the close: store what k counted since c0 as
 * member i's (the peers of a pair close theirs after reading CPU). */
void ik_crew_count_store(struct ik_crew *c, unsigned i, struct ik_counters *k,
			 const struct ik_counts *c0);
/* --explain: the members' counts into res, the clients' summed in
 * ctr[0], the server's in ctr[1] (as echo and connect report CPU). */
void ik_crew_counts_fold(const struct ik_crew *c, struct ik_result *res);
/* Record member i's failure (the first message wins). */
void ik_crew_fail(struct ik_crew *c, unsigned i, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Two peers around one channel (kernels/run.c), a crew of two. A kernel
 * fills the first block and calls ik_peers_run; each peer pins itself,
 * opens its side, runs prepare, waits at the start barrier, runs
 * body(side), and records its CPU use. A peer that fails aborts the
 * channel; the controller (ik_crew_run) does the rest.
 */
struct ik_peers {
	struct ik_channel *ch;
	enum ik_mode mode;
	const struct ik_run *run; /* as the crew's: NULL, or the run's */
	bool pinned;
	int cpu[2];
	uint64_t timeout_ns;
	bool explain; /* --explain: count around the body */
	/* before the barrier (fault in buffers), then the measured part */
	int (*prepare)(struct ik_peers *g, enum ik_side side);
	int (*body)(struct ik_peers *g, enum ik_side side);
	void *arg;
	/* filled by ik_peers_run */
	struct ik_crew crew;
	struct ik_cpu_mark mark[2]; /* each peer's own, in its process */
	/* --explain: each peer's counters and their reading at the mark */
	struct ik_counters ctr[2];
	struct ik_counts ctr0[2];
	int cpu_seen[2];
	struct ik_cpu_usage cpu_use[2];
	struct ik_counts counts[2]; /* --explain */
	/* --explain: the counted pass's tracefs instance (NULL: none);
	 * peer B notes its tid, peer A sets the trace to both before the
	 * gate and turns it on past it */
	struct ik_trace *trace;
	int tids[2];
	bool stuck; /* a thread would not stop: do not free the channel */
	char errmsg[200];
	/* --load: as the crew's */
	const struct ik_load_set *load;
	bool load_on_peer;
	struct ik_load_result *load_out;
	/* the controller's ~50 ms tick, for the kernel; may be NULL */
	void (*tick)(void *arg);
};

/* 0, or -errno with g->errmsg set. */
int ik_peers_run(struct ik_peers *g);

/*
 * In a body: count this side's CPU from here, not from the start barrier
 * (after set-up work such as the TSC offset probe).
 */
void ik_peers_cpu_restart(struct ik_peers *g, enum ik_side s);

/* A kernel's part in ik_kernel_run: its peer hooks and their state. */
struct ik_kernel_hooks {
	int (*prepare)(struct ik_peers *g, enum ik_side side);
	int (*body)(struct ik_peers *g, enum ik_side side);
	void (*release)(void *arg); /* free what prepare made; may be NULL */
	void *arg;
	/* from the controller every ~50 ms while the peers run (never in
	 * a peer); may be NULL */
	void (*tick)(void *arg);
};

/*
 * Set up ops's channel for cfg and mode, run the kernel's hooks on two
 * peers, copy CPU use and placement into res, release and tear down.
 * 0, or -errno with res->errmsg set. *stuck: a peer thread would not
 * stop, so nothing the peers use may be freed (the CLI exits soon).
 */
int ik_kernel_run(const struct ik_config *cfg,
		  const struct ik_transport_ops *ops, enum ik_mode mode,
		  const struct ik_run *run, struct ik_result *res,
		  const struct ik_kernel_hooks *k, bool *stuck);

/*
 * Test hooks for the failure paths: IPCKERN_FAULT=kill-b makes side B
 * SIGKILL itself after its first message (a thread returns -EIO instead);
 * stall-b makes it stop answering, so the run must end by --timeout.
 */
#define IK_FAULT_ENV "IPCKERN_FAULT"

/*
 * --slo (kernels/slo.c). One step of the search: one stream run at a
 * rate (0: flat out, the upper bracket), what it got and whether it held
 * the objective and kept its schedule.
 */
enum ik_slo_role {
	IK_SLO_FLAT = 0, /* flat out: the achieved rate brackets from above */
	IK_SLO_LOW,	 /* the low end of the bracket */
	IK_SLO_HIGH,	 /* the flat-out rate asked on a schedule */
	IK_SLO_BISECT,	 /* a geometric midpoint */
	IK_SLO_RECHECK	 /* the final bracket's ends, once more */
};
struct ik_slo_step {
	enum ik_slo_role role;
	double rate_asked; /* msgs/s; 0: flat out */
	double rate_got;   /* msgs/s B received */
	bool latency; /* the percentiles were measured (flat out may not) */
	uint64_t p50_ns, p99_ns, p999_ns, max_ns;
	uint64_t cond_ns[IK_SLO_MAX_CONDS]; /* each condition's percentile */
	/* latency samples taken, and wanted for the tightest percentile */
	uint64_t samples, samples_wanted;
	uint64_t late_sends;
	bool kept;	/* the run took its schedule's time (within 1% and
			 * the tightest bound); late sends are in latency */
	bool met;	/* every condition of the objective held */
	bool held;	/* kept and met: this rate holds the SLO */
	int err;	/* the run failed: -errno, why in note */
	char note[120]; /* which condition failed, or the error */
};
/* The search of one cell (kernels/slo.c: ik_slo_search). */
struct ik_slo_result {
	char text[128]; /* the objective, as given */
	struct ik_slo_cond conds[IK_SLO_MAX_CONDS];
	unsigned nconds;
	double precision;
	struct ik_slo_step step[IK_SLO_MAX_STEPS];
	unsigned nsteps;
	double flat_rate;    /* msgs/s flat out */
	double held_rate;    /* the highest rate that held; 0: none */
	double failed_rate;  /* the lowest above it that did not; 0: none */
	bool converged;	     /* failed/held - 1 <= the precision */
	bool recheck_agrees; /* both ends said the same once more */
	int err;	     /* 0, or the -errno that ended the search */
	char answer[240];    /* the answer line */
};
/*
 * One run at rate msgs/s (0: flat out) for ik_slo_search, into step's
 * rate_got, latency and percentiles (cond_ns[i]: slo's condition i's),
 * late_sends and kept (met and held are the search's: a step without
 * latency is not met, its note saying why). 0, or -errno (the search
 * ends; step->note says why).
 */
typedef int (*ik_slo_measure_fn)(void *arg, double rate,
				 const struct ik_slo *slo,
				 struct ik_slo_step *step);
/*
 * Parse "p99<=10us[,p99.9<=50us,...]" (p50 p90 p99 p99.9 p99.99 or any
 * pNN.N, and max; < or <=; ns us ms s, none: ns) into slo, keeping the
 * precision. 0, or -EINVAL with err naming the bad part and the grammar.
 */
int ik_slo_parse(const char *s, struct ik_slo *slo, char *err, size_t len);
/* Whether step's percentiles meet every condition; when not, note
 * names the first that failed. */
bool ik_slo_met(const struct ik_slo *slo, struct ik_slo_step *step);
/*
 * The search: flat out for the upper bracket, a low rate (1/100 of it)
 * for the lower, geometric bisection until the bracket is within
 * slo->precision (at most IK_SLO_MAX_STEPS runs), then the low end once
 * more and, when it held again, the high end. Never claims a rate whose
 * last run did not hold (a low end that fails its re-run gives way to
 * the highest rate below it whose last run held). 0, or the first
 * -errno a measurement returned (out->err, the steps so far kept).
 */
int ik_slo_search(const struct ik_slo *slo, ik_slo_measure_fn measure,
		  void *arg, struct ik_slo_result *out);
/* The name of a step's role: "flat", "low", "high", "bisect", "recheck" */
const char *ik_slo_role_name(enum ik_slo_role r);

#endif
