/* SPDX-License-Identifier: MIT */
/*
 * What a kernel's report hooks see of a report (struct ik_kernel_ops's
 * title, table and json_* hooks): the results, the config, where the
 * table goes, and what reports/ lends them through function pointers
 * (each result's stats, the table's key columns, the --classes and
 * --matrix sections). Below reports/ so that a kernel's file can draw
 * its own part without reaching up; the number formats every writer
 * shares live here too (kernels/view.c).
 */
#ifndef IK_VIEW_H
#define IK_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernels.h"

/* What every format derives from one result (reports/report.c). */
struct ik_stats {
	uint64_t p50, p90, p99, p999, p9999;
	double mean, sd, rps, wall_mean, untimed, vs_line;
};

struct ik_view {
	FILE *f; /* the table's stream; NULL for JSON */
	const struct ik_config *cfg;
	const struct ik_result *results;
	unsigned nresults;
	const void *priv; /* the writer's own (reports/) */
	/* the numbers of res, as every format derives them */
	void (*stats)(const struct ik_view *v, const struct ik_result *res,
		      struct ik_stats *st);
	/* the table's first columns (class, pair, method, mode, size,
	 * buffer, gap) of a row, and their heading */
	void (*row_key)(const struct ik_view *v, const struct ik_result *res);
	void (*head_key)(const struct ik_view *v);
	/* the --classes and --matrix sections, where they were asked for */
	void (*sections)(const struct ik_view *v);
};

/* "123", "12.3u", "1.2m": ns as the table prints them. */
const char *ik_fmt_ns(char *b, size_t n, double v);
/* "64", "4k", "1m": sizes as users type them */
const char *ik_fmt_bytes(char *b, size_t n, size_t v);
/* Per message (or request): n of them, v in all; 0 when n is 0. */
double ik_per(double v, uint64_t n);

/*
 * The names of docs/vocabulary.md that more than one writer prints: the
 * latency object's JSON keys, which are also the CSV columns and the
 * gate metrics' keys (reports/stats.c). A name carries its unit.
 */
#define IK_Q_MIN	 "min_ns"
#define IK_Q_MEAN	 "mean_ns"
#define IK_Q_STDDEV	 "stddev_ns"
#define IK_Q_P50	 "p50_ns"
#define IK_Q_P90	 "p90_ns"
#define IK_Q_P99	 "p99_ns"
#define IK_Q_P999	 "p99_9_ns"
#define IK_Q_P9999	 "p99_99_ns"
#define IK_Q_MAX	 "max_ns"
#define IK_Q_MSGS	 "msgs_per_sec"
#define IK_Q_BYTES	 "bytes_per_sec"
#define IK_Q_CPU_PER_MSG "cpu_ns_per_msg"

/* JSON parts more than one kernel writes (kernels/view.c). */
/* A peer's CPU use in all (*_total), and per "per" (n of them:
 * cpu_ns_per_msg, cpu_ns_per_request; null when n is 0). */
json_t *ik_cpu_json(const struct ik_cpu_usage *u, uint64_t n, const char *per);
/* res's latency as kind ("round_trip", "one_way"), with its buckets. */
json_t *ik_latency_json(const struct ik_result *res, const struct ik_stats *st,
			const char *kind);
/* The cell's "strangers" (connections dropped at a listener); the
 * second only where the method listens (ping-pong, stream, call). */
void ik_strangers_json(json_t *o, const struct ik_result *res);
void ik_listen_strangers_json(json_t *o, const struct ik_result *res);
/* A round trip kernel's measurement: latency, its one-way estimate,
 * round trips/s, the wall, and the ratio to line. */
void ik_roundtrip_json(json_t *o, const struct ik_result *res,
		       const struct ik_stats *st);

#endif
