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
#include <stddef.h>

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
	hwloc_bitmap_t allowed; /* online and in our cgroup's cpuset */
	/* where automatic choices (--pin auto, --classes, --matrix's
	 * default CPUs) look: allowed, narrowed to the affinity mask we
	 * started with when that mask is the user's (taskset), not the
	 * kernel's isolcpus default (see ik_topo_load) */
	hwloc_bitmap_t chosen;
};

/*
 * Bounds on a topology that comes from outside (a file, HWLOC_XMLFILE,
 * HWLOC_SYNTHETIC), checked before hwloc parses it: hwloc trusts its
 * input, recurses once per nesting level and sizes bitmaps by the
 * largest CPU number it is given. An lstopo export of a 4,096-PU machine
 * is 1.6 MiB, nested 12 deep; Linux builds for 8,192 CPUs at most, and
 * hwloc alone takes 1.6 s and 75 MiB to build 16,384 PUs.
 */
#define IK_TOPO_FILE_MAX  (32u << 20) /* bytes of XML read, at most */
#define IK_TOPO_DEPTH_MAX 128	      /* XML elements nested, at most */
#define IK_TOPO_INDEX_MAX 16383	      /* largest os_index: CPU, NUMA node */

/*
 * Load the topology: xml (an lstopo XML file), else HWLOC_SYNTHETIC, else
 * HWLOC_XMLFILE (hwloc's own order), else this machine. Files are read
 * here, not by hwloc (ik_topo_read_xml), and every outside topology is
 * checked against the bounds above, before and after hwloc parses it.
 * isolated is the isolcpus list as /sys/devices/system/cpu/isolated
 * gives it (ik_machine_read's isolated: "none", "unknown" or NULL when
 * none is known), for where automatic choices look (chosen).
 * 0; -EINVAL: the outside topology is refused; another -errno: this
 * machine's topology could not be read. ik_topo_load_why also puts one
 * line in why saying what was refused and why, naming the input
 * ("FILE: ...", "HWLOC_XMLFILE=FILE: ...", "HWLOC_SYNTHETIC '...': ...").
 * ik_topo_load knows of no isolated CPUs.
 */
int ik_topo_load(struct ik_topo *tp, const char *xml);
int ik_topo_load_why(struct ik_topo *tp, const char *xml, const char *isolated,
		     char *why, size_t len);
void ik_topo_free(struct ik_topo *tp);

/*
 * Read the topology XML file path for hwloc: opened without blocking and
 * refused unless a regular file (a FIFO or a device is never waited on
 * or read), of at most IK_TOPO_FILE_MAX bytes, passing ik_topo_xml_check.
 * *buf (malloc'd, NUL-terminated) holds *len bytes. 0, or -errno with
 * why saying what is wrong (without the path): -EINVAL not a regular
 * file or refused by the scan, -EFBIG too large, else open/read's.
 */
int ik_topo_read_xml(const char *path, char **buf, size_t *len, char *why,
		     size_t whylen);

/*
 * One cheap pass over topology XML, before hwloc parses it: elements
 * nested at most IK_TOPO_DEPTH_MAX deep; no DTD internal subset (entity
 * or attribute-default declarations: hwloc writes none); every os_index
 * at most IK_TOPO_INDEX_MAX and every cpuset/nodeset no longer than that
 * many bits. 0, or -EINVAL with why naming the first thing refused.
 */
int ik_topo_xml_check(const char *buf, size_t len, char *why, size_t whylen);

/*
 * The same for a synthetic description (HWLOC_SYNTHETIC): at most
 * IK_TOPO_INDEX_MAX + 1 PUs, no explicit index above IK_TOPO_INDEX_MAX.
 */
int ik_topo_synthetic_check(const char *desc, char *why, size_t whylen);

/*
 * Is OS CPU cpu usable, may we pin to it? 0; -ENOENT: no such CPU;
 * -ENODEV: offline; -EPERM: outside this process's cgroup cpuset. The
 * affinity mask the process started with (taskset, the housekeeping
 * CPUs isolcpus leaves) is no limit: sched_setaffinity goes past it.
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
 * (a, b) with a < b, so runs agree. 0, -ENOENT with no allowed CPU, or
 * -ENOMEM. Time and memory grow with the number of objects, not with
 * the number of pairs.
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
