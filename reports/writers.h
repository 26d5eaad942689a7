/* SPDX-License-Identifier: MIT */
/*
 * Inside reports/: what the writers share. One file per format
 * (table.c, json.c, csv.c, gbench.c) and per printer of its own
 * (classes.c, matrix.c, machine.c); report.c picks the writer and holds
 * the numbers every format derives the same way. Not for other folders:
 * they use reports.h.
 */
#ifndef IK_WRITERS_H
#define IK_WRITERS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "../kernels/kernels.h"
#include "cell.h"
#include "reports.h"

/* What every format derives from one result (report.c). */
struct ik_stats {
	uint64_t p50, p90, p99, p999, p9999;
	double mean, sd, rps, wall_mean, untimed, vs_line;
};
void ik_stats_of(const struct ik_report *r, const struct ik_result *res,
		 struct ik_stats *st);

/* "123", "12.3u", "1.2m": ns as the table prints them. */
const char *ik_fmt_ns(char *b, size_t n, double v);
/* "64", "4k", "1m": sizes as users type them */
const char *ik_fmt_bytes(char *b, size_t n, size_t v);
/* Per message (or request): n of them, v in all; 0 when n is 0. */
double ik_per(double v, uint64_t n);

/* One table report being written (table.c): the report, where, and the
 * key columns its rows carry, decided once per report. */
struct ik_tbl {
	const struct ik_report *r;
	const struct ik_config *c;
	FILE *f;
	bool pairs;   /* a pair column: --pairs above 1 */
	bool classes; /* a class column: --classes */
	bool gaps;    /* a gap column: --gap given */
};
/* The first columns of a row (class, pair, method, mode, size, buffer,
 * gap), and their heading. */
void ik_tbl_row_key(const struct ik_tbl *t, const struct ik_result *res);
void ik_tbl_head_key(const struct ik_tbl *t);

/* Each kernel's part of the table (table_kernels.c), by its ops' id:
 * the first line of the report, and its own table. */
struct ik_kernel_table {
	void (*title)(const struct ik_tbl *t);
	void (*body)(const struct ik_tbl *t);
};
extern const struct ik_kernel_table ik_kernel_tables[];

/* --classes (classes.c): the table's section and the JSON array. */
void ik_classes_table(const struct ik_report *r, FILE *f);
json_t *ik_classes_json(const struct ik_class_pair *c);

/* --matrix (matrix.c): the heatmap and its JSON. */
void ik_matrix_table(const struct ik_report *r, FILE *f);
json_t *ik_matrix_json(const struct ik_report *r);

/* The machine and the timer as JSON (machine.c). */
json_t *ik_machine_json(const struct ik_machine *m);
json_t *ik_timer_json(const struct ik_timer *t);

#endif
