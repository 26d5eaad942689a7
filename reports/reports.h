/* SPDX-License-Identifier: MIT */
/*
 * Results out: the latency histogram, and the writers that turn one
 * invocation's results into a table for people or JSON/CSV for programs.
 * This is the only folder that prints results.
 */
#ifndef IK_REPORTS_H
#define IK_REPORTS_H

#include <stdbool.h>
#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>

#include "../ik.h"

/* 1000 s: above the 100 s the histogram promises, below any timeout. */
#define IK_HIST_MAX_NS (1000ULL * IK_NS_PER_SEC)

/*
 * Log-linear histogram of ns values (see hist.c): exact below 128 ns,
 * then 128 buckets per power of two, so any percentile is within 1% (in
 * fact 0.4%) of the exact sample at that rank. Values above max_trackable
 * are counted in dropped, never silently lost.
 */
struct ik_hist {
	uint64_t *counts;
	unsigned nbuckets;
	uint64_t max_trackable;
	uint64_t total, dropped, max_dropped;
	uint64_t min, max, sum;
	double sum_sq;
};

/* Fixed memory for values 0..max_ns (128 <= max_ns <= IK_HIST_MAX_NS).
 * 0, -EINVAL or -ENOMEM. */
int ik_hist_init(struct ik_hist *h, uint64_t max_ns);
void ik_hist_free(struct ik_hist *h);
void ik_hist_reset(struct ik_hist *h);
/* O(1). false (and counted as dropped) when v is above the range. */
bool ik_hist_record(struct ik_hist *h, uint64_t v);
/* dst += src; both made with the same max_ns. 0 or -EINVAL. */
int ik_hist_merge(struct ik_hist *dst, const struct ik_hist *src);
/* The value at rank ceil(pct/100 * total), within 1%; 0 when empty. */
uint64_t ik_hist_percentile(const struct ik_hist *h, double pct);
static inline uint64_t ik_hist_total(const struct ik_hist *h)
{
	return h->total;
}
double ik_hist_mean(const struct ik_hist *h);	/* exact */
double ik_hist_stddev(const struct ik_hist *h); /* sample stddev */

/* Walk the non-empty buckets in order. */
struct ik_hist_iter {
	const struct ik_hist *h;
	unsigned i;
	uint64_t lo, width; /* this bucket: [lo, lo + width) ns */
	uint64_t count, cum;
};
void ik_hist_iter_init(struct ik_hist_iter *it, const struct ik_hist *h);
bool ik_hist_iter_next(struct ik_hist_iter *it);

struct ik_config;
struct ik_result;
struct ik_machine;
struct ik_timer;
struct ik_class_pair;

/* Everything a report shows; the writers only read it. */
struct ik_report {
	const struct ik_config *cfg;
	const struct ik_machine *machine;
	const struct ik_timer *timer;
	const struct ik_result *results;
	unsigned nresults;
	const char *topology; /* where the topology came from */
	const struct ik_class_pair
		*classes;     /* --classes: IK_NCLASSES, or NULL */
	const char *notes[8]; /* run-wide remarks, e.g. "unpinned" */
	/* ping-pong on one pinned pair: one word through the same loop
	 * (ipc/floor.c), measured before the methods; or NULL */
	const struct ik_result *floor;
	unsigned nnotes;
};

#define IK_SCHEMA "ipckern/1"

/* Write r as cfg->format to f. 0 or -errno. */
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

#endif
