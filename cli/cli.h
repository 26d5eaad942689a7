/* SPDX-License-Identifier: MIT */
/*
 * The command line's own parts, behind ipckern.c: what the CLI plans for
 * a run (struct ik_plan: the cell template, the outputs, the CI gate),
 * the option table that fills it, the grid of cells it measures and the
 * gate it applies afterwards. Nothing below the CLI includes this
 * header; only ipckern.c exits.
 */
#ifndef IK_CLI_H
#define IK_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "affinity/affinity.h"
#include "cpuinfo/cpuinfo.h"
#include "ipc/ipc.h"
#include "kernels/kernels.h"
#include "reports/gate.h"
#include "reports/reports.h"

#define IK_EXIT_GATE	1
#define IK_EXIT_USAGE	2
#define IK_EXIT_RUNTIME 3

#define IK_GATE_REPEATS 5 /* default --repeat with a baseline */
#define IK_MAX_ASSERTS	32

/* The CI gate's options: what decides exit code 1. */
struct ik_cli_gate {
	unsigned repeat;
	bool repeat_given;
	uint64_t repeat_every_ns; /* start repeat r at r x this; 0: at once */
	const char *save_baseline, *baseline, *summary_md;
	double max_regress; /* fraction: 0.10 for 10% */
	bool allow_mismatch;
	bool append;	       /* --append: add to the --save-baseline file */
	const char *normalize; /* --normalize METHOD, or NULL */
	struct ik_assertion asserts[IK_MAX_ASSERTS];
	unsigned nasserts;
};

/*
 * Why an output could not be written, in the words of output.c's rules:
 * a static string, never NULL.
 */
const char *ik_cli_out_error(int err);

/*
 * Every cell once: methods x sizes x buffers x gaps x works x servers x
 * modes, each over its pairs (--pairs, --classes or --matrix), into
 * results[]; failures are reported on stderr as they happen and set
 * *failed. pins holds --pin as given, two CPUs per pair (read when
 * cfg->pinned and a cell runs several pairs). Stops early once
 * *cfg->interrupted is set. Returns the results written.
 */
unsigned ik_cli_run_grid(const struct ik_config *cfg, const int *pins,
			 const struct ik_class_pair *classes,
			 const struct ik_topo *topo,
			 const struct ik_timer *timer,
			 struct ik_result *results, bool *failed);

/*
 * --repeat: cell j of repeat r is results[r * stride + j]. Keeps every
 * repeat's metrics in cell j of the first and pools the rest into it
 * (freeing them). Returns 0 or -ENOMEM.
 */
int ik_cli_fold_repeats(struct ik_result *results, unsigned n, unsigned nrep,
			size_t stride);

/* Whether the harness floor goes with this run: ping-pong on one stated
 * pair (not classes, matrix or concurrent pairs, which have many). */
bool ik_cli_floor_applies(const struct ik_config *c);

/* ipc/floor.c through the ping-pong kernel on cfg's pair: threads, size 1,
 * no gap. Returns 0 or the kernel's -errno (why in res->errmsg). */
int ik_cli_measure_floor(const struct ik_config *cfg,
			 const struct ik_topo *topo,
			 const struct ik_timer *timer, struct ik_result *res);

/*
 * Notes for the report about the pinned pair's SMT siblings that were
 * busy (sampled over 100 ms), each also a warning on stderr; note[] is
 * the storage rep->notes point into.
 */
void ik_cli_sibling_warnings(const struct ik_config *c,
			     const struct ik_topo *tp, char (*note)[200],
			     struct ik_report *rep);

/*
 * The gate: the baseline comparison (bl, or NULL) and the assertions,
 * one summary on out (and --summary-md, created under mkdirs). Returns
 * the exit code: IK_EXIT_GATE when a check failed or the baseline
 * compared nothing, IK_EXIT_USAGE when a check cannot be made (a
 * mismatched baseline, say), IK_EXIT_RUNTIME when the summary could not
 * be written, else 0.
 */
int ik_cli_run_gate(const struct ik_cli_gate *gate, bool mkdirs,
		    const struct ik_report *rep, const struct ik_baseline *bl,
		    FILE *out);

#endif
