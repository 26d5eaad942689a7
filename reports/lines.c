/* SPDX-License-Identifier: MIT */
/*
 * Line provenance and preheat in the reports (issue 19): which of
 * --first-touch, --home, --fresh, --line-op, --stride, --lines and
 * --preheat a run used, and for each result what was asked, what the
 * kernel showed (the toucher's CPU, the node of each page from
 * move_pages), what could not be verified and why, the spread of the
 * per-line medians, and the pair's clock around the preheat. Nothing of
 * this appears in a run that used none of them: every default output
 * stays as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "writers.h"

unsigned ik_lines_used(const struct ik_report *r)
{
	const struct ik_sweep *sw = r->sweep;
	unsigned u = 0;

	if (sw) {
		u |= sw->ntouches ? IK_LU_TOUCH : 0;
		u |= sw->nhomes ? IK_LU_HOME : 0;
		u |= sw->nline_ops ? IK_LU_OP : 0;
		u |= sw->nstrides ? IK_LU_STRIDE : 0;
		u |= sw->nnlines ? IK_LU_LINES : 0;
	}
	if (r->cfg) {
		u |= r->cfg->lines.fresh ? IK_LU_FRESH : 0;
		u |= r->cfg->preheat_ms ? IK_LU_PREHEAT : 0;
	}
	return u;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

bool ik_lines_spread(const struct ik_result *res, uint64_t *min, uint64_t *med,
		     uint64_t *max, unsigned *worst)
{
	const struct ik_line_result *l = &res->line;
	uint64_t v[IK_LINES_MAX];
	unsigned k;

	if (l->nlines < 2)
		return false;
	memcpy(v, l->p50, l->nlines * sizeof(v[0]));
	qsort(v, l->nlines, sizeof(v[0]), cmp_u64);
	*min = v[0];
	*med = v[(l->nlines - 1) / 2];
	*max = v[l->nlines - 1];
	for (*worst = 0, k = 1; k < l->nlines; k++)
		if (l->p50[k] > l->p50[*worst])
			*worst = k;
	return true;
}

/* --first-touch as asked: "a", "b" or the CPU; NULL when none. */
static json_t *touch_json(const struct ik_line_result *l)
{
	if (l->touch == IK_TOUCH_A || l->touch == IK_TOUCH_B)
		return json_string(l->touch == IK_TOUCH_A ? "a" : "b");
	if (l->touch == IK_TOUCH_CPU)
		return json_integer(l->touch_cpu);
	return json_null();
}

static json_t *khz_json(const double khz[2])
{
	return khz[0] > 0 && khz[1] > 0 ? json_pack("[ff]", khz[0], khz[1])
					: json_null();
}

void ik_lines_json(json_t *o, const struct ik_report *r,
		   const struct ik_result *res)
{
	const struct ik_line_result *l = &res->line;
	unsigned u = ik_lines_used(r), worst, k;
	uint64_t mn, md, mx;
	json_t *v, *a;

	/* the key: what tells cells apart (reports/cell.c reads these) */
	if (u & IK_LU_TOUCH)
		json_object_set_new(o, "first_touch", touch_json(l));
	if (u & IK_LU_HOME)
		json_object_set_new(o, "home",
				    l->homed ? json_integer(l->home)
					     : json_null());
	if (u & IK_LU_FRESH)
		json_object_set_new(o, "fresh", json_boolean(l->lines.fresh));
	if (u & IK_LU_OP)
		json_object_set_new(o, "line_op",
				    json_string(ik_line_op_names[l->lines.op]));
	if (u & IK_LU_STRIDE)
		json_object_set_new(o, "stride",
				    json_integer(l->lines.stride
							 ? l->lines.stride
							 : IK_CACHELINE));
	if (u & IK_LU_LINES)
		json_object_set_new(o, "lines",
				    json_integer(l->lines.n ? l->lines.n : 1));
	if (u & (IK_LU_TOUCH | IK_LU_HOME | IK_LU_FRESH | IK_LU_LINES)) {
		/* what the kernel showed */
		v = json_object();
		json_object_set_new(v, "touched_on_cpu",
				    l->touched_on >= 0
					    ? json_integer(l->touched_on)
					    : json_null());
		json_object_set_new(v, "pages", json_integer(l->pages));
		json_object_set_new(v, "node_of_pages",
				    l->node_found >= 0
					    ? json_integer(l->node_found)
				    : l->node_found == -2 ? json_string("mixed")
							  : json_null());
		json_object_set_new(v, "not_verified",
				    l->why[0] ? json_string(l->why)
					      : json_null());
		if (ik_lines_spread(res, &mn, &md, &mx, &worst)) {
			a = json_array();
			for (k = 0; k < l->nlines; k++)
				json_array_append_new(
					a, json_integer((json_int_t)l->p50[k]));
			json_object_set_new(v, "per_line_p50_ns", a);
			json_object_set_new(v, "p50_spread_ns",
					    json_pack("{s:I,s:I,s:I}", "min",
						      (json_int_t)mn, "median",
						      (json_int_t)md, "max",
						      (json_int_t)mx));
			json_object_set_new(v, "worst_line",
					    json_integer(worst));
		}
		json_object_set_new(o, "line_provenance", v);
	}
	if (u & IK_LU_PREHEAT)
		json_object_set_new(
			o, "preheat",
			json_pack("{s:i,s:o,s:o,s:o,s:o}", "ms",
				  (int)res->preheat.ms, "clock_source",
				  res->preheat.source[0]
					  ? json_string(res->preheat.source)
					  : json_null(),
				  "khz_before",
				  khz_json(res->preheat.khz_before),
				  "khz_after", khz_json(res->preheat.khz_after),
				  "not_exposed",
				  res->preheat.why[0]
					  ? json_string(res->preheat.why)
					  : json_null()));
}

/* The CSV columns, in this order, each group when used. */
static const struct {
	unsigned used;
	const char *name;
} cols[] = {
	{IK_LU_TOUCH, "first_touch"},
	{IK_LU_TOUCH, "touched_on_cpu"},
	{IK_LU_HOME, "home"},
	{IK_LU_TOUCH | IK_LU_HOME | IK_LU_FRESH | IK_LU_LINES, "node_of_pages"},
	{IK_LU_TOUCH | IK_LU_HOME | IK_LU_FRESH | IK_LU_LINES, "not_verified"},
	{IK_LU_FRESH, "fresh"},
	{IK_LU_OP, "line_op"},
	{IK_LU_STRIDE, "stride"},
	{IK_LU_LINES, "lines"},
	{IK_LU_LINES, "line_p50_min_ns"},
	{IK_LU_LINES, "line_p50_median_ns"},
	{IK_LU_LINES, "line_p50_max_ns"},
	{IK_LU_LINES, "worst_line"},
	{IK_LU_PREHEAT, "preheat_ms"},
	{IK_LU_PREHEAT, "khz_before_a"},
	{IK_LU_PREHEAT, "khz_before_b"},
	{IK_LU_PREHEAT, "khz_after_a"},
	{IK_LU_PREHEAT, "khz_after_b"},
	{IK_LU_PREHEAT, "clock_not_exposed"},
};

unsigned ik_lines_csv_ncols(const struct ik_report *r)
{
	unsigned u = ik_lines_used(r), n = 0, c;

	for (c = 0; c < IK_ARRAY_SIZE(cols); c++)
		n += (cols[c].used & u) != 0;
	return n;
}

const char *ik_lines_csv_name(const struct ik_report *r, unsigned i)
{
	unsigned u = ik_lines_used(r), c;

	for (c = 0; c < IK_ARRAY_SIZE(cols); c++)
		if ((cols[c].used & u) && !i--)
			return cols[c].name;
	return "";
}

static void khz(char *b, size_t n, double v)
{
	if (v > 0)
		snprintf(b, n, "%.0f", v);
}

void ik_lines_csv_field(const struct ik_report *r, const struct ik_result *res,
			unsigned i, char *b, size_t n)
{
	const char *name = ik_lines_csv_name(r, i);
	const struct ik_line_result *l = &res->line;
	const struct ik_preheat *ph = &res->preheat;
	uint64_t v[3];
	unsigned worst;
	bool spread = ik_lines_spread(res, &v[0], &v[1], &v[2], &worst);

	b[0] = 0;
	if (!strcmp(name, "first_touch")) {
		if (l->touch == IK_TOUCH_A || l->touch == IK_TOUCH_B)
			snprintf(b, n, "%s",
				 l->touch == IK_TOUCH_A ? "a" : "b");
		else if (l->touch == IK_TOUCH_CPU)
			snprintf(b, n, "%d", l->touch_cpu);
	} else if (!strcmp(name, "touched_on_cpu")) {
		if (l->touched_on >= 0)
			snprintf(b, n, "%d", l->touched_on);
	} else if (!strcmp(name, "home")) {
		if (l->homed)
			snprintf(b, n, "%d", l->home);
	} else if (!strcmp(name, "node_of_pages")) {
		if (l->node_found >= 0)
			snprintf(b, n, "%d", l->node_found);
		else if (l->node_found == -2)
			snprintf(b, n, "mixed");
	} else if (!strcmp(name, "not_verified")) {
		snprintf(b, n, "%s", l->why);
	} else if (!strcmp(name, "fresh")) {
		snprintf(b, n, "%s", l->lines.fresh ? "true" : "false");
	} else if (!strcmp(name, "line_op")) {
		snprintf(b, n, "%s", ik_line_op_names[l->lines.op]);
	} else if (!strcmp(name, "stride")) {
		snprintf(b, n, "%u",
			 l->lines.stride ? l->lines.stride : IK_CACHELINE);
	} else if (!strcmp(name, "lines")) {
		snprintf(b, n, "%u", l->lines.n ? l->lines.n : 1);
	} else if (spread && !strcmp(name, "line_p50_min_ns")) {
		snprintf(b, n, "%llu", (unsigned long long)v[0]);
	} else if (spread && !strcmp(name, "line_p50_median_ns")) {
		snprintf(b, n, "%llu", (unsigned long long)v[1]);
	} else if (spread && !strcmp(name, "line_p50_max_ns")) {
		snprintf(b, n, "%llu", (unsigned long long)v[2]);
	} else if (spread && !strcmp(name, "worst_line")) {
		snprintf(b, n, "%u", worst);
	} else if (!strcmp(name, "preheat_ms")) {
		snprintf(b, n, "%u", ph->ms);
	} else if (!strcmp(name, "khz_before_a")) {
		khz(b, n, ph->khz_before[0]);
	} else if (!strcmp(name, "khz_before_b")) {
		khz(b, n, ph->khz_before[1]);
	} else if (!strcmp(name, "khz_after_a")) {
		khz(b, n, ph->khz_after[0]);
	} else if (!strcmp(name, "khz_after_b")) {
		khz(b, n, ph->khz_after[1]);
	} else if (!strcmp(name, "clock_not_exposed")) {
		snprintf(b, n, "%s", ph->why);
	}
}

void ik_lines_table(const struct ik_report *r, FILE *f)
{
	unsigned u = ik_lines_used(r), i, worst, k;
	uint64_t mn, md, mx;
	char key[96];

	if (!u)
		return;
	fprintf(f, "\nline provenance: what was asked, what the kernel showed "
		   "(first-touch thread's CPU, node of every page of the "
		   "lines by move_pages)\n");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_line_result *l = &res->line;

		if (res->err)
			continue;
		ik_cell_line_key(l->touch, l->touch_cpu, l->homed, l->home,
				 &l->lines, key, sizeof(key));
		fprintf(f, "  %s %s %s:", res->ops->name,
			ik_mode_name(res->mode), key[0] ? key : "default");
		if (l->touched_on >= 0)
			fprintf(f, " touched on CPU %d;", l->touched_on);
		if (l->node_found >= 0)
			fprintf(f, " %u page(s) on node %d", l->pages,
				l->node_found);
		else if (l->node_found == -2)
			fprintf(f, " %u pages on different nodes", l->pages);
		if (l->why[0])
			fprintf(f, " (%s)", l->why);
		if (ik_lines_spread(res, &mn, &md, &mx, &worst)) {
			fprintf(f,
				"\n    %u lines, p50 each: min %llu, median "
				"%llu, max %llu ns; worst line %u:",
				l->nlines, (unsigned long long)mn,
				(unsigned long long)md, (unsigned long long)mx,
				worst);
			for (k = 0; k < l->nlines; k++)
				fprintf(f, " %llu",
					(unsigned long long)l->p50[k]);
		}
		if (u & IK_LU_PREHEAT) {
			const struct ik_preheat *ph = &res->preheat;

			fprintf(f, "\n    preheat %u ms: ", ph->ms);
			if (ph->source[0])
				fprintf(f,
					"clock %s A %.0f -> %.0f kHz, B %.0f "
					"-> "
					"%.0f kHz",
					ph->source, ph->khz_before[0],
					ph->khz_after[0], ph->khz_before[1],
					ph->khz_after[1]);
			else
				fprintf(f, "clock %s", ph->why);
		}
		fputc('\n', f);
	}
}
