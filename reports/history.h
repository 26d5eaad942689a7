/* SPDX-License-Identifier: MIT */
/*
 * The results history (--history, `ipckern history`, --gate history):
 * every run appended to a database, an SQLite file or a PostgreSQL
 * server, in one schema (docs/history.md) versioned and migrated
 * forward; read back as series of runs per machine class, analysed for
 * change points (reports/changepoint.h) and exported as Otava's CSV.
 */
#ifndef IK_HISTORY_H
#define IK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../cpuinfo/cpuinfo.h"
#include "gate.h"

/* The schema this ipckern writes; older files are migrated to it, a
 * newer one is refused. */
#define IK_HISTORY_SCHEMA 2

struct ik_history; /* an open store */

/* Whether where names a PostgreSQL server (postgresql:// or postgres://). */
bool ik_history_is_url(const char *where);

/*
 * Open (with create, an SQLite file is created when missing or empty;
 * without, a missing one is -ENOENT) and migrate the
 * schema forward. Nothing is written before the file is known to be
 * ours: -EINVAL with err saying why for a store that is refused (not a
 * regular file, not SQLite, corrupt, an SQLite file without ipckern's
 * meta, a newer schema version); another -errno (err set) when it could
 * not be reached or written (-EIO, -ECONNREFUSED, -ENOMEM).
 */
int ik_history_open(const char *where, bool create, struct ik_history **h,
		    char *err, size_t n);

/*
 * What ik_history_open(where, true) would say of a store, writing
 * nothing (no file made, no schema step, no journal mode): 0 when it
 * would take a run, -EINVAL (err why) when it would be refused, another
 * -errno when it cannot be reached. For --dry-run.
 */
int ik_history_check(const char *where, char *err, size_t n);

void ik_history_close(struct ik_history *h);

/* For tests: create where at schema version `version` (1..current)
 * only, as an older ipckern would have. 0 or -errno. */
int ik_history_create_at(const char *where, int version, char *err, size_t n);
/* The store's schema_version, or -errno. */
int ik_history_version(struct ik_history *h);
/* Run sql (no result) on the store: tests make old or odd rows. */
int ik_history_exec(struct ik_history *h, const char *sql, char *err, size_t n);

/* One run as the history stores it besides its results. */
struct ik_history_run {
	char time[32];	   /* ISO 8601 UTC, "2026-12-01T04:44:21Z" */
	const char *label; /* --label, $GITHUB_SHA, $CI_COMMIT_SHA; or NULL */
	const char *version;
	char hostname[64];
	struct ik_fingerprint fp;
	bool matrix;	     /* cells named with their CPUs */
	const char *partial; /* why the run ended early, or NULL */
};

/*
 * Append run and its results[0..n): every cell (a failed one with its
 * error), every repeat's metrics; one transaction, so parallel writers
 * never see half a run. *id: the run's id. 0 or -errno (err set).
 */
int ik_history_append(struct ik_history *h, const struct ik_history_run *run,
		      const struct ik_result *results, unsigned n,
		      long long *id, char *err, size_t len);

/* ---- reading back ---- */

struct ik_hist_run {
	long long id;
	char time[32];
	char label[128]; /* "" for none */
	char klass[17];
	char partial[8]; /* "yes" when the run was cut short */
};
struct ik_hist_cell {
	char name[200];	   /* KERNEL/METHOD/MODE/size:N..., as gbench */
	char partner[200]; /* the name with METHOD left out */
	char method[32];
	char kernel[16];
};
struct ik_hist_obs {
	unsigned reps; /* 0: the run has no ok result for the cell */
	double *v;     /* reps x IK_NMETRICS, NAN where missing */
};
/* Runs oldest first; cells in the order first seen. */
struct ik_hist_set {
	struct ik_hist_run *runs;
	unsigned nruns;
	struct ik_hist_cell *cells;
	unsigned ncells;
	struct ik_hist_obs *obs; /* obs[run * ncells + cell] */
};

/*
 * The newest max complete runs (not cut short) of class klass (NULL:
 * every class), up to and including run upto (0: the newest), oldest
 * first. 0 or -errno (err set).
 */
int ik_history_load(struct ik_history *h, const char *klass, long long upto,
		    unsigned max, struct ik_hist_set *s, char *err, size_t n);
void ik_hist_set_free(struct ik_hist_set *s);
/* The classes in the store, each with the CPU model of its newest run:
 * "KLASS\tMODEL" strings in *out (free each and the array). */
int ik_history_classes(struct ik_history *h, char ***out, unsigned *n,
		       char *err, size_t len);
/* A run's fingerprint (ik_hist_run's klass) of run id. */
int ik_history_fingerprint(struct ik_history *h, long long id,
			   struct ik_fingerprint *fp, char *err, size_t n);

/* ---- change points (reports/history_cp.c) ---- */

struct ik_history_opts {
	double alpha;	       /* --history-alpha: significance, 0.01 */
	double min_change;     /* --history-min-change: 0.02 (2 %) */
	unsigned min_size;     /* points a persistent segment has: 3 */
	unsigned recent;       /* a change is new while its segment has at
				* most this many runs: 10 */
	unsigned window;       /* runs read per series: the newest 60 */
	const char *normalize; /* a method (line), or NULL */
};
#define IK_HISTORY_OPTS_DEFAULT                                                \
	{                                                                      \
		0.01, 0.02, 3, 10, 60, NULL                                    \
	}

/*
 * A cell's series of metric m: each run's median over its repeats
 * (with norm, of each repeat divided by norm's same-cell value in that
 * repeat), for the runs that have it. x[k] and run[k] (index into
 * s->runs) for k < the count returned.
 */
unsigned ik_hist_series(const struct ik_hist_set *s, unsigned cell, int m,
			const char *norm, double *x, unsigned *run);

/*
 * --gate history: every cell of run this_id (the newest of s) and its
 * compared metrics, one row each into g, FAIL where the newest runs
 * start a significant, persistent change in the bad direction. Notes
 * (host shift or this cell only) go to f. 0, or -errno (err set).
 */
int ik_history_gate(const struct ik_hist_set *s, long long this_id,
		    const struct ik_history_opts *o, struct ik_gate_log *g,
		    FILE *f, char *err, size_t n);

/* `ipckern history`: every cell's change points in s, to f. */
int ik_history_report(const struct ik_hist_set *s, const char *klass,
		      const char *model, const struct ik_history_opts *o,
		      FILE *f);

/* The Otava CSV of s's runs for kernel (see docs/history.md) to f. */
int ik_history_csv(const struct ik_hist_set *s, const char *kernel, FILE *f);

#endif
