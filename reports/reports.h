/* SPDX-License-Identifier: MIT */
/*
 * Results out: the writers that turn one invocation's results into a
 * table for people or JSON/CSV for programs (the histogram they read is
 * hist/'s).
 * This is the only folder that prints results.
 */
#ifndef IK_REPORTS_H
#define IK_REPORTS_H

#include <stdbool.h>
#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>

#include "../ik.h"
#include "../kernels/kernels.h"

struct ik_config;
struct ik_result;
struct ik_machine;
struct ik_timer;
struct ik_class_pair;

enum ik_format { IK_FMT_TABLE = 0, IK_FMT_JSON, IK_FMT_CSV, IK_FMT_GBENCH };

/* Everything a report shows; the writers only read it. */
struct ik_report {
	/* the cell template (what every cell shares) and the sweep */
	const struct ik_config *cfg;
	const struct ik_sweep *sweep;
	enum ik_format format;
	bool dry_run; /* --classes --dry-run: the classes, nothing measured */
	bool matrix;  /* --matrix over cpus[] */
	const int *cpus;
	unsigned ncpus;
	const struct ik_machine *machine;
	const struct ik_timer *timer;
	const struct ik_result *results;
	unsigned nresults;
	const char *topology; /* where the topology came from */
	/* the loaded topology (gbench's caches), or NULL */
	const struct ik_topo *topo;
	const struct ik_class_pair
		*classes;     /* --classes: IK_NCLASSES, or NULL */
	const char *notes[8]; /* run-wide remarks, e.g. "unpinned" */
	/* ping-pong on one pinned pair: one word through the same loop
	 * (ipc/floor.c), measured before the methods; or NULL */
	const struct ik_result *floor;
	unsigned nnotes;
	/* --mem-node as asked, or -1 (set it: 0 is a node) */
	int mem_node;
	/* the environment's warnings (each also among notes), printed once
	 * on stderr; JSON's top-level "warnings" */
	const char *warnings[8];
	unsigned nwarnings;
	/* why the run ended before its last cell (a signal), or NULL: the
	 * results are the cells that finished. JSON "partial": true and
	 * "partial_reason" (so too gbench's context); a last "partial:
	 * ..." line in the table; CSV's partial column on every row */
	const char *partial;
};

/* Bumped with every change of a key or its meaning (docs/schema/);
 * --baseline also reads IK_SCHEMA_PREV. */
#define IK_SCHEMA      "ipckern/2"
#define IK_SCHEMA_PREV "ipckern/1"

/* Write r as r->format to f. 0 or -errno. */
int ik_report_write(const struct ik_report *r, FILE *f);
int ik_report_table(const struct ik_report *r, FILE *f);
int ik_report_json(const struct ik_report *r, FILE *f);
int ik_report_csv(const struct ik_report *r, FILE *f);

/* --classes --dry-run: the representative pair of each class. */
int ik_report_classes(const struct ik_report *r, FILE *f);

/* --machine: what this machine is, everything "unknown" it hides. */
int ik_report_machine(const struct ik_report *r, const char *topo_summary,
		      FILE *f);

/*
 * Outputs (reports/output.c). "-", /dev/stdout, /dev/stderr and /dev/fd/N
 * are our own fds, written as they are; an existing character device or
 * FIFO is written in place, never replaced; a regular file is replaced
 * atomically (an O_TMPFILE beside it, linked and renamed; old mode and
 * owner kept). fn renders into memory first, so a failed write returns
 * its real errno. mkdirs: create missing parent directories.
 */
int ik_output_write(const char *path, bool mkdirs,
		    int (*fn)(const void *arg, FILE *f), const void *arg);

/* An output as checked before anything is measured. */
struct ik_output {
	const char *opt, *path; /* "--output", as given */
	int fd;			/* -1, or the fd of ours it names */
	bool exists, reg;	/* reg: the identity is a regular file */
	dev_t dev;		/* of the file, or of its directory while */
	ino_t ino;		/* it does not exist yet */
	char name[4096];	/* not there yet: its name in that directory */
};

/* Can path be written (parent exists or mkdirs, writable, not a
 * directory, socket or disk)? 0, or -errno with why filled in. */
int ik_output_check(struct ik_output *o, const char *opt, const char *path,
		    bool mkdirs, char *why, size_t n);
/* Would a and b write the same file? */
bool ik_output_same(const struct ik_output *a, const struct ik_output *b);
/* Is o the regular file input (an input of this run)? */
bool ik_output_is_file(const struct ik_output *o, const char *input);

/* r to path (ik_output_write; "-" is stdout). */
int ik_report_write_file(const struct ik_report *r, const char *path,
			 bool mkdirs);

/* Every raw round trip of res, one integer of ns a line. */
int ik_raw_write_file(const struct ik_result *res, const char *path,
		      bool mkdirs);

/* --mkdir for an output written by other means (--history's file): the
 * missing parents of path. 0 or -errno. */
int ik_output_mkdirs(const char *path);

/* The CPU latency QoS limit in force, in words: "0 us", "none" (nobody
 * holds one) or "unknown" (only root may read it); a static buffer. */
const char *ik_machine_qos_name(const struct ik_machine *m);

#endif
