/* SPDX-License-Identifier: MIT */
/*
 * CPU topology through hwloc: check the CPUs a user names, classify a
 * pair by what it shares, and bind a peer to its CPU. The topology is
 * this machine's unless HWLOC_SYNTHETIC / HWLOC_XMLFILE (or a file given
 * to ik_topo_load) says otherwise; then binding is refused, classifying
 * still works.
 */
#ifndef IK_AFFINITY_H
#define IK_AFFINITY_H

#include <hwloc.h>
#include <stdbool.h>

/* Ordered from closest to farthest. */
enum ik_relation {
	IK_REL_SAME_PU = 0,   /* one CPU: the scheduler hand-off path */
	IK_REL_SMT,	      /* hyperthreads of one core */
	IK_REL_SHARED_L2,     /* different cores sharing an L2 (or L1) */
	IK_REL_SHARED_L3,     /* different cores sharing an L3 (or deeper) */
	IK_REL_SAME_PACKAGE,  /* one package, no cache in common */
	IK_REL_CROSS_PACKAGE, /* different packages */
	IK_REL_UNPINNED,      /* nobody knows: the scheduler decides */
};

struct ik_pair {
	bool pinned;
	int cpu[2]; /* OS numbers, as taskset takes them; -1 unpinned */
	enum ik_relation rel;
	bool cross_numa; /* the two PUs are local to different NUMA nodes */
	int numa[2];	 /* their NUMA node OS numbers, -1 unknown */
};

struct ik_topo {
	hwloc_topology_t t;
	bool this_system;	/* binding allowed */
	hwloc_bitmap_t allowed; /* online, in our cpuset and affinity mask */
};

/* Load (xml: an lstopo XML file, or NULL for env/this machine). */
int ik_topo_load(struct ik_topo *tp, const char *xml);
void ik_topo_free(struct ik_topo *tp);

/*
 * Is OS CPU cpu usable? 0; -ENOENT: no such CPU; -ENODEV: offline;
 * -EPERM: outside this process's allowed set.
 */
int ik_topo_check_cpu(const struct ik_topo *tp, int cpu);

/* "0-1,4" style list of the allowed CPUs, for error messages. */
void ik_topo_allowed_str(const struct ik_topo *tp, char *buf, size_t len);

/* Classify the pair (a, b) of OS CPU numbers into *out. 0 or -ENOENT. */
int ik_topo_classify(const struct ik_topo *tp, int a, int b,
		     struct ik_pair *out);

/*
 * A sensible default pair: two allowed PUs on different cores sharing
 * the most cache (the usual cross-core question); failing that SMT
 * siblings; failing that one PU twice. 0 or -ENOENT.
 */
int ik_topo_default_pair(const struct ik_topo *tp, int out[2]);

/*
 * Bind the calling thread to OS CPU cpu and check it runs there
 * (sched_getcpu). 0; -EXDEV if the pin did not take; or the bind -errno.
 */
int ik_bind_self(const struct ik_topo *tp, int cpu);

/*
 * The classes --classes reports: every relation above, plus "different
 * NUMA nodes", which may coincide with another class's pair.
 */
enum ik_class {
	IK_CLASS_SAME_PU = 0,
	IK_CLASS_SMT,
	IK_CLASS_SHARED_L2,
	IK_CLASS_SHARED_L3,
	IK_CLASS_SAME_PACKAGE, /* different L3s in one package */
	IK_CLASS_CROSS_PACKAGE,
	IK_CLASS_CROSS_NUMA,
	IK_NCLASSES
};

struct ik_class_pair {
	bool present; /* false: this machine has no such pair */
	int cpu[2];
};

/*
 * One representative pair per class among the allowed CPUs: the lowest
 * (a, b) with a < b, so runs agree. 0, or -ENOENT with no allowed CPU.
 */
int ik_topo_classes(const struct ik_topo *tp,
		    struct ik_class_pair out[IK_NCLASSES]);
const char *ik_class_key(enum ik_class c);

/* The other PUs of cpu's core (its SMT siblings), at most max. */
int ik_topo_smt_siblings(const struct ik_topo *tp, int cpu, int *out, int max);

/* "1 package(s), 2 core(s), ...; L2 512 KiB x 2, shared by 1 PU(s)" */
void ik_topo_summary(const struct ik_topo *tp, char *buf, size_t len);

/* For people: "SMT siblings of one core"; the NUMA flag is separate. */
const char *ik_relation_name(enum ik_relation r);
/* Short token for JSON/CSV: "same-pu", "smt", "shared-l2", ... */
const char *ik_relation_key(enum ik_relation r);

#endif
