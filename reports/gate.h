/* SPDX-License-Identifier: MIT */
/*
 * CI perf gates: the metrics a gate can name, their spread across
 * repeated runs, verdicts against a saved baseline, and assertions such
 * as "spsc.p99<2us" or "pipe.p50<=1.2*futex.p50". Pure functions on
 * numbers and results; the CLI decides what to run and the exit code.
 */
#ifndef IK_GATE_H
#define IK_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cell.h"

struct ik_config;
struct ik_result;
struct ik_report;

/* What a gate can compare. Latencies are the report's: round trip for
 * ping-pong, one way for a stream (missing when not kept). */
enum ik_metric {
	IK_M_MIN = 0,
	IK_M_P50,
	IK_M_P90,
	IK_M_P99,
	IK_M_P999,
	IK_M_MAX,
	IK_M_MEAN,
	IK_M_MSGS,  /* messages/s (ping-pong: round trips/s) */
	IK_M_BYTES, /* payload bytes/s (ping-pong: both directions) */
	IK_M_CPU,   /* CPU ns per message, both peers together */
	IK_NMETRICS
};

enum ik_dim { IK_DIM_NONE = 0, IK_DIM_TIME, IK_DIM_MSGS, IK_DIM_BYTES };

struct ik_metric_info {
	const char *name; /* in assertions, gbench names, the gate's text */
	const char *key;  /* JSON and CSV (docs/vocabulary.md) */
	const char *v1;	  /* its key in schema ipckern/1's "repeats" */
	enum ik_dim dim;
	bool higher_better;
	bool compared; /* in a --baseline comparison */
};
extern const struct ik_metric_info ik_metric_infos[IK_NMETRICS];

/* -1 for an unknown name: a name, a key, or "p99.9" (p99_9). */
int ik_metric_by_name(const char *name, size_t len);

/* "thread 8 B", plus buffer, gap, class and pair where they vary. */
void ik_cell_name(const struct ik_result *res, char *b, size_t n);
/* A value in its metric's unit: "1.23 us", "4.5e+06 msgs/s", "-". */
const char *ik_fmt_dim(char *b, size_t n, double v, enum ik_dim d);
const char *ik_fmt_metric(char *b, size_t n, double v, int m);
/* The run's configuration as the JSON report writes it (a new ref). */
json_t *ik_config_json(const struct ik_report *r);

/* v[m] for one run's result; NAN where that run did not produce it. */
void ik_metrics_of(const struct ik_result *res, double v[IK_NMETRICS]);

/*
 * A metric over repeated runs: the median, a 95% confidence interval
 * of the median (percentile bootstrap, IK_BOOT_RESAMPLES resamples,
 * seeded so the same numbers give the same interval) and the run-to-run
 * coefficient of variation (sample stddev / mean). NaNs are skipped;
 * n counts the rest. With n == 1 the interval is the value itself.
 */
#define IK_BOOT_RESAMPLES 2000
#define IK_CI_METHOD	  "95% percentile bootstrap of the median, 2000 resamples"
struct ik_summary {
	unsigned n;
	double median, lo, hi, cv;
};
void ik_summarize(const double *x, unsigned n, struct ik_summary *s);
double ik_median(const double *x, unsigned n); /* NAN when n == 0 */

/* Repeats of one result cell: values[r * IK_NMETRICS + m]. */
double ik_rep_value(const struct ik_result *res, unsigned r, int m);
/* The median across repeats (the value itself without repeats). */
double ik_result_metric(const struct ik_result *res, int m);

/*
 * A baseline comparison of one metric. ratio = median(cur) /
 * median(base) with a bootstrap 95% interval (both sides resampled).
 * The slowdown is ratio for lower-is-better metrics, 1/ratio for
 * throughput. REGRESSED needs both: slowdown > 1 + max_regress, and an
 * interval that lies wholly on the slow side of 1 (significant).
 * IMPROVED is the mirror image. Each side needs IK_MIN_REPEATS values.
 * min_delta: a change of the medians no larger than this (in the
 * metric's unit) is never a change, e.g. two ticks of the clock that
 * measured it; 0 for none.
 */
#define IK_MIN_REPEATS 3
enum ik_verdict_kind { IK_UNCHANGED = 0, IK_REGRESSED, IK_IMPROVED };
struct ik_verdict {
	enum ik_verdict_kind kind;
	double base, cur; /* medians */
	double ratio, lo, hi;
	bool significant;
	bool below_delta; /* the change is within min_delta */
};
/*
 * 0; -EINVAL when a side has fewer than IK_MIN_REPEATS finite values;
 * -EDOM when a value is 0 or below (no ratio can be taken: never call
 * that unchanged).
 */
int ik_verdict(const double *base, unsigned nb, const double *cur, unsigned nc,
	       bool higher_better, double max_regress, double min_delta,
	       struct ik_verdict *v);
const char *ik_verdict_name(enum ik_verdict_kind k);

/* ---- the gate's findings, printed as one summary ---- */

struct ik_gate_row {
	char what[240];	   /* "spsc thread 8 B p50" or the assertion */
	char value[128];   /* what was measured */
	char against[128]; /* the baseline or the bound */
	char verdict[16];  /* pass/FAIL, regressed/improved/unchanged */
	char detail[96];   /* ratio and interval, or why */
	bool failed;
};
struct ik_gate_log {
	struct ik_gate_row *rows;
	unsigned n, cap;
	unsigned failed, checked;
};
/* Append a row; -ENOMEM. */
struct ik_gate_row *ik_gate_log_add(struct ik_gate_log *g);
void ik_gate_log_free(struct ik_gate_log *g);
/*
 * The one-screen summary (text) and the same as a Markdown table. A log
 * with no check reads as a failed gate: a gate on nothing never passes.
 */
void ik_gate_log_print(const struct ik_gate_log *g, const char *title, FILE *f);
void ik_gate_log_markdown(const struct ik_gate_log *g, const char *title,
			  FILE *f);

/* ---- assertions ---- */

enum ik_cmp { IK_LT, IK_LE, IK_GT, IK_GE, IK_EQ };
struct ik_assert_side {
	double coef; /* a number, or the factor on the metric */
	bool has_ref;
	char method[32];
	int mode;    /* enum ik_mode, or -1: any */
	size_t size; /* 0: any */
	int metric;  /* enum ik_metric when has_ref */
	enum ik_dim dim;
};
struct ik_assertion {
	char text[160];
	struct ik_assert_side l, r;
	enum ik_cmp op;
	/* a count of wake-ups ("late=0", "futex.lost<=2"): which one, or
	 * IK_COUNT_NONE; its bound is r.coef, its method l.method ("" for
	 * every result that counts them) */
	enum { IK_COUNT_NONE, IK_COUNT_LATE, IK_COUNT_LOST } count;
};

/*
 * Parse "REF OP BOUND": REF is METHOD[:thread|:process][:SIZE].METRIC,
 * optionally times a number; BOUND is a number with a unit (ns us ms s;
 * msgs/s; B/s, with k M G (SI) or Ki Mi Gi (binary) prefixes) or another
 * REF. Or a count of wake-ups: [METHOD[:thread|:process].](late|lost)
 * OP N, OP one of = <= <, N a whole number (issue 20). 0, or -EINVAL
 * with err saying what is wrong and what is allowed.
 */
int ik_assert_parse(const char *s, struct ik_assertion *a, char *err,
		    size_t errlen);

/*
 * Evaluate a on results[0..n-1]: every ok result the left REF selects is
 * checked (a right REF is taken from the same cell: mode, size, buffer,
 * gap, class, pair). One row per check into g; a referenced metric that
 * is missing, 0 or not finite fails its check, saying so. 0, or -ENOENT
 * with err set when nothing matched (a usage error, not a failed gate).
 */
int ik_assert_eval(const struct ik_assertion *a,
		   const struct ik_result *results, unsigned n,
		   struct ik_gate_log *g, char *err, size_t errlen);

/* ---- baselines ---- */

struct ik_base_cell {
	struct ik_cell_key key; /* which cell (reports/cell.h) */
	char relation[32];
	unsigned k; /* repeats */
	double *v;  /* k * IK_NMETRICS, NAN where missing */
	bool ok;
	/* another cell of the file differs from this one only in its CPUs
	 * (a --matrix baseline): CPUs are then part of what it matches */
	bool by_cpus;
};
struct ik_baseline {
	char model[160];
	char created[40];
	/* machine.cpu_latency_qos when saved ("0 us", "none", "unknown");
	 * "" in files from before it was written */
	char qos[32];
	json_t *config; /* the saved config */
	struct ik_base_cell *cells;
	unsigned ncells;
};

/*
 * A baseline keeps at most the newest IK_BASELINE_KEEP repeats per cell:
 * --append drops the oldest beyond it, the reader refuses more, and the
 * JSON report says so in every cell ("repeats": {"keep": N}). At least
 * the largest --repeat, so one run's repeats always fit.
 */
#define IK_BASELINE_KEEP 1000u

/*
 * --append: give each of results[0..n-1] the repeats its cell has in b
 * before its own (the cell's rep_v grows), keeping only the newest
 * IK_BASELINE_KEEP. Cells b lacks keep theirs. 0 or -ENOMEM.
 */
int ik_baseline_prepend(const struct ik_baseline *b, struct ik_result *results,
			unsigned n);

#define IK_BASELINE_MAX_BYTES (16u << 20)
/*
 * 0, or -EINVAL with err naming the problem: a malformed file, or a
 * cell no gate can compare against (one that failed, one with no
 * p50/p99/msgs/cpu value, a value of 0, more than IK_BASELINE_KEEP
 * repeats), named by its position and what it measured.
 */
int ik_baseline_parse(const char *buf, size_t len, struct ik_baseline *b,
		      char *err, size_t errlen);
/*
 * Only a regular file of at most IK_BASELINE_MAX_BYTES is read; a FIFO,
 * device or directory is refused without blocking (opened O_NONBLOCK,
 * checked with fstat). 0, -errno (err set).
 */
int ik_baseline_load(const char *path, struct ik_baseline *b, char *err,
		     size_t errlen);
void ik_baseline_free(struct ik_baseline *b);

/*
 * --save-baseline --append: the fields where the baseline was measured
 * differently from r: the machine model, the run-wide settings, each
 * swept list (methods, modes, sizes, buffers, gaps, servers, works,
 * pairs) as a set, in any order; with results, each cell on one side
 * only and each pair relation. Appending needs the same cells, or the
 * file would lose the ones this run lacks. Writes "field: baseline X,
 * now Y; ..." to why; returns how many fields differ.
 */
unsigned ik_baseline_mismatch(const struct ik_baseline *b,
			      const struct ik_report *r, char *why, size_t n);

/*
 * --baseline: what makes the numbers incomparable (exit 2 before
 * measuring): the machine model; a setting (kernel, verify, wait,
 * gap_mode, iters, duration_ns, rate); a swept list with no value in
 * common with the baseline's (no cell could match); with results, a
 * cell whose pair relation differs. Lists in another order, or with
 * values on one side only, are not: cells are matched by key, and
 * ik_baseline_compare names those on one side. Same why as above.
 */
unsigned ik_baseline_incompatible(const struct ik_baseline *b,
				  const struct ik_report *r, char *why,
				  size_t n);

/*
 * Before measuring, when every cell of the run will be on one pinned
 * pair of relation rel (known from --pin): each baseline cell the run's
 * sweep (r->sweep) would measure whose relation is another, counted and
 * named in why as the check after measuring names it. 0 when none.
 */
unsigned ik_baseline_relation_differs(const struct ik_baseline *b,
				      const struct ik_report *r,
				      const struct ik_pair *pair, char *why,
				      size_t n);

/*
 * Compare every cell present on both sides (matched by key), metric by
 * metric. Each cell on one side only gets a row that is not a check and
 * never fails: "new" (in this run, not in the baseline) or "missing" (in
 * the baseline, not measured now). With norm
 * (a method name), each metric is first divided, repeat by repeat, by
 * norm's in the same cell: a host that changes speed moves both, so the
 * ratio keeps what the code changed. One row per compared metric into
 * g. A metric measured on either side is a check: when it cannot be
 * compared (missing on one side, 0, norm's missing or 0 in a repeat,
 * fewer than IK_MIN_REPEATS usable values) it fails, saying why.
 * Returns the number of checks made; when 0, err says why nothing was
 * compared (the caller must fail the gate). -EINVAL with err set when a
 * side has too few repeats or norm is missing from a cell.
 */
int ik_baseline_compare(const struct ik_baseline *b, const struct ik_report *r,
			double max_regress, const char *norm,
			struct ik_gate_log *g, char *err, size_t errlen);

/* ---- exports ---- */

/* Google Benchmark's JSON shape (see README "Exports"). 0 or -errno. */
int ik_report_gbench(const struct ik_report *r, FILE *f);

#endif
