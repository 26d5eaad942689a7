/* SPDX-License-Identifier: MIT */
/*
 * Antagonists (--load): pinned threads of the controller that keep other
 * CPUs (or, when allowed, a peer's own) busy while a cell runs, so a
 * hand-off is measured beside a neighbour: an ALU spinner, the SMT
 * siblings of the peers, a sweep over the shared cache, a memory
 * bandwidth hog on a node, or a bulk transfer between two other CPUs
 * over one of our own transports. They wait at the cell's start barrier
 * with the peers, so they start before the timed loop, and run until the
 * controller has ended the peers; each reports its own work rate and
 * where it ran (sched_getcpu, at the start and at the end).
 *
 * Syntax of one set (one --load): "none", or KIND@CPUS items separated
 * by commas: spin@CPUS, smt, l3@CPUS, mem@CPUS or mem:NODE@CPUS,
 * stream[:METHOD[:SIZE]]@C1+C2. CPUS is A, A-B or those joined by '+'
 * (commas separate items).
 */
#ifndef IK_LOAD_H
#define IK_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../affinity/affinity.h"
#include "../ipc/ipc.h"

#define IK_LOAD_MAX	    16 /* antagonists in one set (stream: one) */
#define IK_LOAD_TEXT	    96 /* a set as written, with its NUL */
#define IK_LOAD_MEM_MIN	    (64u << 20)	 /* mem: at least, bytes */
#define IK_LOAD_MEM_MULT    8		 /* mem: this many times the LLC */
#define IK_LOAD_MEM_MAX	    (1ull << 30) /* mem: at most (VMs claim any LLC) */
#define IK_LOAD_STREAM_SIZE 65536	 /* stream: default message bytes */

enum ik_load_kind {
	IK_LOAD_SPIN = 0, /* ALU loop */
	IK_LOAD_SMT,	  /* spin on each peer's SMT siblings */
	IK_LOAD_L3,	  /* read+write sweep over the CPU's shared cache */
	IK_LOAD_MEM,	  /* read+write sweep far larger than the LLC */
	IK_LOAD_STREAM,	  /* bulk one-way transfer between two CPUs */
	IK_NLOAD_KINDS
};

/* Its name as --load takes it ("spin", ...); NULL past the end. */
const char *ik_load_kind_name(unsigned kind);

/* One item of a set, as parsed (smt's CPUs are found per cell). */
struct ik_load_item {
	enum ik_load_kind kind;
	int cpus[IK_LOAD_MAX]; /* stream: sender, receiver */
	unsigned ncpus;
	int node; /* mem: the node asked for; -1: each CPU's own */
	const struct ik_transport_ops *ops; /* stream */
	size_t size;			    /* stream: bytes per message */
};

/* One --load: the items that run together in a cell. */
struct ik_load_set {
	struct ik_load_item item[IK_LOAD_MAX];
	unsigned n;		 /* 0: none */
	char text[IK_LOAD_TEXT]; /* as written: the cell key's */
};

/*
 * Parse one --load value into *set. 0, or -EINVAL with msg saying what
 * is wrong and what is allowed (without the option's name).
 */
int ik_load_parse(const char *s, struct ik_load_set *set, char *msg,
		  size_t len);

/* What one antagonist did, for the reports. */
struct ik_load_out {
	enum ik_load_kind kind;
	int cpu[2];	    /* asked for (stream: sender, receiver; else -1) */
	int cpu_seen[2];    /* sched_getcpu at its start ... */
	int cpu_end[2];	    /* ... and at its end */
	int node;	    /* mem: the node it was bound to; -1 */
	int node_seen;	    /* l3/mem: node a buffer page is on (move_pages) */
	int cache_level;    /* l3: the shared cache's level (2, 3) */
	uint64_t buf_bytes; /* l3/mem: the buffer */
	const struct ik_transport_ops *ops; /* stream */
	size_t size;			    /* stream: bytes per message */
	uint64_t work;	/* spin: iterations; l3/mem: bytes; stream: msgs */
	uint64_t bytes; /* l3/mem: bytes read and written; stream: payload */
	double seconds; /* from the start barrier to its stop */
};

/* The antagonists of one cell (struct ik_result's load). */
struct ik_load_result {
	char text[IK_LOAD_TEXT]; /* the set as written; "" without --load */
	unsigned n;
	struct ik_load_out out[IK_LOAD_MAX];
};

/* Rate of o: spin iterations/s, l3/mem bytes/s, stream msgs/s. */
double ik_load_rate(const struct ik_load_out *o);
/* "iters/s", "B/s" or "msgs/s": the unit of ik_load_rate(o). */
const char *ik_load_rate_unit(const struct ik_load_out *o);

/*
 * The antagonists of one cell, resolved against the topology and the
 * peers' CPUs, then run. ik_load_resolve: the threads set needs on
 * peers' cpus[npeers] (none: unpinned), smt's siblings found through
 * hwloc, l3's cache and mem's node sized and chosen; refuses (-EINVAL,
 * msg) a CPU that is not usable, a peer's CPU unless on_peer, smt where
 * a peer has no sibling or unpinned, a node that does not exist.
 * ik_load_start: buffers and channels, then the threads (signals that
 * end a run blocked: they belong to the controller); each binds, sets
 * up, and waits at gate (a party of it: ik_load_parties) until
 * deadline_ns; one that fails breaks gate. 0 or -errno with msg.
 * ik_load_stop: every thread stops, channels aborted, joined, freed;
 * what they did into out. 0, or the first antagonist's -errno, with msg.
 * Safe after a failed start; with a thread that would not stop it
 * returns -EBUSY and frees nothing that thread uses.
 */
struct ik_load_run;
int ik_load_resolve(struct ik_load_run **lr, const struct ik_load_set *set,
		    const struct ik_topo *topo, const int *cpus,
		    unsigned npeers, bool on_peer, char *msg, size_t len);
unsigned ik_load_parties(const struct ik_load_run *lr);
struct ik_barrier;
int ik_load_start(struct ik_load_run *lr, struct ik_barrier *gate,
		  uint64_t deadline_ns, char *msg, size_t len);
int ik_load_stop(struct ik_load_run *lr, struct ik_load_result *out, char *msg,
		 size_t len);

#endif
