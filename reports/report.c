/* SPDX-License-Identifier: MIT */
/*
 * The writers' front door: ik_report_write picks the format's writer
 * (table.c, json.c, csv.c, gbench.c; classes.c for a --classes dry run),
 * the outputs go through ik_output_write (output.c), and the numbers
 * every format derives from a result the same way are made here once.
 * Latency is always the round trip; the one-way figure is half of it
 * and labelled as an estimate, since no clock is read on the far side.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "gate.h"
#include "writers.h"

/*
 * "x line": the same cell measured by plain line (cell.h,
 * IK_CELL_X_LINE). A line row's own variants (--line-op, --lines) are
 * what it is compared for, so its reference is line with a store on one
 * line, placed the same; without one in the run there is none (the
 * column shows -), never the row divided by itself.
 */
static const struct ik_result *line_for(const struct ik_report *r,
					const struct ik_result *res)
{
	struct ik_cell_key want, k;
	unsigned i;

	ik_cell_key_of(res, &want);
	if (!strcmp(res->ops->name, "line")) {
		struct ik_lines plain = res->line.lines;

		plain.op = IK_LINE_STORE;
		plain.n = 0;
		ik_cell_line_key(res->line.touch, res->line.touch_cpu,
				 res->line.homed, res->line.home, &plain,
				 want.line, sizeof(want.line));
	}
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *o = &r->results[i];

		if (o->err || strcmp(o->ops->name, "line"))
			continue;
		ik_cell_key_of(o, &k);
		if (ik_cell_key_eq(&k, &want, IK_CELL_X_LINE))
			return o;
	}
	return NULL;
}

void ik_stats_of(const struct ik_report *r, const struct ik_result *res,
		 struct ik_stats *st)
{
	const struct ik_hist *h = &res->hist;
	const struct ik_result *line = line_for(r, res);

	st->p50 = ik_hist_percentile(h, 50);
	st->p90 = ik_hist_percentile(h, 90);
	st->p99 = ik_hist_percentile(h, 99);
	st->p999 = ik_hist_percentile(h, 99.9);
	st->p9999 = ik_hist_percentile(h, 99.99);
	st->mean = ik_hist_mean(h);
	st->sd = ik_hist_stddev(h);
	st->wall_mean = res->count ? (double)res->wall_ns / res->count : 0;
	/* with --gap the wall holds the idle time: trips/s would be the gap's
	 */
	st->rps = res->wall_ns && !res->gap_ns ? res->count * 1e9 / res->wall_ns
					       : 0;
	st->untimed = res->untimed_mean_ns;
	st->vs_line = 0;
	if (line && ik_hist_percentile(&line->hist, 50))
		st->vs_line = (double)st->p50 /
			      (double)ik_hist_percentile(&line->hist, 50);
}

static void view_stats(const struct ik_view *v, const struct ik_result *res,
		       struct ik_stats *st)
{
	ik_stats_of(v->priv, res, st);
}

void ik_view_init(struct ik_view *v, const struct ik_report *r, FILE *f)
{
	*v = (struct ik_view){
		.f = f,
		.cfg = r->cfg,
		.results = r->results,
		.nresults = r->nresults,
		.priv = r,
		.stats = view_stats,
	};
}

static int write_format(const struct ik_report *r, FILE *f)
{
	if (r->classes && r->dry_run)
		return ik_report_classes(r, f);
	switch (r->format) {
	case IK_FMT_JSON:
		return ik_report_json(r, f);
	case IK_FMT_CSV:
		return ik_report_csv(r, f);
	case IK_FMT_GBENCH:
		return ik_report_gbench(r, f);
	default:
		return ik_report_table(r, f);
	}
}

/*
 * A run a signal ended says so where a reader looks last: the table's
 * last line. CSV carries it in its partial column on every row, JSON
 * "partial" in its object, gbench in its context (the writers').
 */
int ik_report_write(const struct ik_report *r, FILE *f)
{
	int ret = write_format(r, f);

	if (ret || !r->partial)
		return ret;
	if (r->format == IK_FMT_TABLE)
		fprintf(f,
			"partial: %s; the cells above are those that "
			"finished\n",
			r->partial);
	return ferror(f) ? -EIO : 0;
}

static int report_fn(const void *arg, FILE *f)
{
	return ik_report_write(arg, f);
}

int ik_report_write_file(const struct ik_report *r, const char *path,
			 bool mkdirs)
{
	return ik_output_write(path, mkdirs, report_fn, r);
}

static int raw_fn(const void *arg, FILE *f)
{
	const struct ik_result *res = arg;
	uint64_t i;

	for (i = 0; i < res->count; i++)
		fprintf(f, "%llu\n", (unsigned long long)res->raw_ns[i]);
	return ferror(f) ? -EIO : 0;
}

int ik_raw_write_file(const struct ik_result *res, const char *path,
		      bool mkdirs)
{
	if (!res->raw_ns)
		return -EINVAL;
	return ik_output_write(path, mkdirs, raw_fn, res);
}
