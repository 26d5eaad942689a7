/* SPDX-License-Identifier: MIT */
/*
 * Inside reports/: what the writers share. One file per format
 * (table.c, json.c, csv.c, gbench.c) and per printer of its own
 * (classes.c, matrix.c, machine.c); report.c picks the writer and holds
 * the numbers every format derives the same way. Each kernel's own part
 * of the table and the JSON is its ops' hooks, which see a report
 * through a struct ik_view (kernels/view.h). Not for other folders:
 * they use reports.h.
 */
#ifndef IK_WRITERS_H
#define IK_WRITERS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "../kernels/kernels.h"
#include "../kernels/view.h"
#include "cell.h"
#include "reports.h"

/* What every format derives from one result (report.c; struct ik_stats
 * is kernels/view.h's, for the kernels' report hooks). */
void ik_stats_of(const struct ik_report *r, const struct ik_result *res,
		 struct ik_stats *st);
/* What a kernel's report hooks see of r: f (NULL for JSON), the
 * results, the config and the stats; the table adds its key columns. */
void ik_view_init(struct ik_view *v, const struct ik_report *r, FILE *f);

/*
 * Line provenance and --preheat (lines.c), each only when the run used
 * it: ik_lines_used's IK_LU_* bits say which. JSON: the key fields and
 * line_provenance / preheat objects on a result; CSV: extra columns
 * after the fixed ones; the table: a section after the kernel's.
 */
#define IK_LU_TOUCH   (1u << 0)
#define IK_LU_HOME    (1u << 1)
#define IK_LU_FRESH   (1u << 2)
#define IK_LU_OP      (1u << 3)
#define IK_LU_STRIDE  (1u << 4)
#define IK_LU_LINES   (1u << 5)
#define IK_LU_PREHEAT (1u << 6)
unsigned ik_lines_used(const struct ik_report *r);
/* --lines: the min, median and max of the per-line p50s and the worst
 * line; false when the result has fewer than two lines. */
bool ik_lines_spread(const struct ik_result *res, uint64_t *min, uint64_t *med,
		     uint64_t *max, unsigned *worst);
void ik_lines_json(json_t *o, const struct ik_report *r,
		   const struct ik_result *res);
unsigned ik_lines_csv_ncols(const struct ik_report *r);
const char *ik_lines_csv_name(const struct ik_report *r, unsigned i);
void ik_lines_csv_field(const struct ik_report *r, const struct ik_result *res,
			unsigned i, char *b, size_t n);
void ik_lines_table(const struct ik_report *r, FILE *f);

/* --classes (classes.c): the table's section and the JSON array. */
void ik_classes_table(const struct ik_report *r, FILE *f);
json_t *ik_classes_json(const struct ik_class_pair *c);

/* --matrix (matrix.c): the heatmap and its JSON. */
void ik_matrix_table(const struct ik_report *r, FILE *f);
json_t *ik_matrix_json(const struct ik_report *r);

/* The machine and the timer as JSON (machine.c). */
json_t *ik_machine_json(const struct ik_machine *m);
json_t *ik_timer_json(const struct ik_timer *t);

/* --explain (reports/explain.c): the table's section (nothing unless
 * the run asked for it), a result's JSON object, its per-hop figures. */
/* The width of a method column: the longest method name among r's
 * results, least at least (short names keep the columns they had). */
int ik_method_width(const struct ik_report *r, int least);
void ik_explain_table(const struct ik_report *r, FILE *f);
json_t *ik_explain_json(const struct ik_result *res);
void ik_explain_per_of(const struct ik_result *res, struct ik_explain_per *p);

/* --load (reports/load.c): the antagonists of a result as JSON, the
 * table's section (nothing without --load), and one CSV field. */
bool ik_load_used(const struct ik_report *r);
json_t *ik_load_json(const struct ik_result *res);
void ik_load_table(const struct ik_report *r, FILE *f, int mw);
void ik_load_csv(const struct ik_result *res, int col, char *b, size_t n);

#endif
