/* SPDX-License-Identifier: MIT */
/*
 * The history read back: each cell's series (a run's median over its
 * repeats, optionally divided repeat by repeat by the normalising
 * method's), its change points (reports/changepoint.c), the gate on
 * them, the report of every cell, and the Otava CSV export.
 *
 * The gate fails only on a change that is new, persistent and bad. New:
 * the last change point's segment ends at this run and holds at most
 * o->recent runs (an older change was this gate's to flag when it was
 * new, and is the series' level now). Persistent: that segment holds at
 * least o->min_size runs (the library's minimum segment), so a single
 * slow run never fails it. Bad: slower for a time, lower for a rate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changepoint.h"
#include "history.h"

#define MAX_CPS 16

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of the finite values of x[0..n) (sorts x); NAN if none. */
static double median(double *x, unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		if (isfinite(x[i]))
			x[k++] = x[i];
	if (!k)
		return NAN;
	qsort(x, k, sizeof(*x), cmp_d);
	return k % 2 ? x[k / 2] : (x[k / 2 - 1] + x[k / 2]) / 2;
}

/* The cell measured by method norm that is cell's partner, or -1. */
static int partner_of(const struct ik_hist_set *s, unsigned cell,
		      const char *norm)
{
	for (unsigned c = 0; c < s->ncells; c++)
		if (!strcmp(s->cells[c].method, norm) &&
		    !strcmp(s->cells[c].partner, s->cells[cell].partner))
			return (int)c;
	return -1;
}

unsigned ik_hist_series(const struct ik_hist_set *s, unsigned cell, int m,
			const char *norm, double *x, unsigned *run)
{
	int pc = norm ? partner_of(s, cell, norm) : -1;
	unsigned k = 0;

	if (norm && pc < 0)
		return 0;
	for (unsigned i = 0; i < s->nruns; i++) {
		const struct ik_hist_obs *o = &s->obs[i * s->ncells + cell];
		const struct ik_hist_obs *p =
			pc >= 0 ? &s->obs[i * s->ncells + (unsigned)pc] : NULL;
		double tmp[IK_BASELINE_KEEP], v;
		unsigned r, n = 0;

		for (r = 0; r < o->reps && r < IK_BASELINE_KEEP; r++) {
			v = o->v[r * IK_NMETRICS + m];
			if (p) { /* the same repeat's, or none */
				double d = r < p->reps
						   ? p->v[r * IK_NMETRICS + m]
						   : NAN;

				v = d > 0 ? v / d : NAN;
			}
			tmp[n++] = v;
		}
		v = median(tmp, n);
		if (isfinite(v)) {
			x[k] = v;
			run[k++] = i;
		}
	}
	return k;
}

/* One (cell, metric) series with its change points. */
struct series {
	unsigned n;
	double *x;
	unsigned *run;
	struct ik_cp cp[MAX_CPS];
	size_t ncp;
};

static int analyse(const struct ik_hist_set *s, unsigned cell, int m,
		   const char *norm, const struct ik_history_opts *o,
		   struct series *se)
{
	struct ik_cp_opts co = IK_CP_OPTS_DEFAULT;

	memset(se, 0, sizeof(*se));
	se->x = malloc((s->nruns + 1) * sizeof(*se->x));
	se->run = malloc((s->nruns + 1) * sizeof(*se->run));
	if (!se->x || !se->run)
		return -ENOMEM;
	se->n = ik_hist_series(s, cell, m, norm, se->x, se->run);
	co.alpha = o->alpha;
	co.min_change = o->min_change;
	co.min_size = o->min_size;
	return ik_cp_detect(se->x, se->n, &co, se->cp, MAX_CPS, &se->ncp);
}

static void series_free(struct series *se)
{
	free(se->x);
	free(se->run);
}

static bool worse(int m, double change)
{
	return ik_metric_infos[m].higher_better ? change < 0 : change > 0;
}

/* A change point of se at run index r (+-1), in the same direction. */
static const struct ik_cp *moved_at(const struct series *se, unsigned r,
				    double change)
{
	for (size_t i = 0; i < se->ncp; i++) {
		unsigned at = se->run[se->cp[i].index];

		if (at + 1 >= r && at <= r + 1 &&
		    (se->cp[i].change > 0) == (change > 0))
			return &se->cp[i];
	}
	return NULL;
}

/* "+12.3% [+8.0%, +15.1%]" */
static void fmt_change(const struct ik_cp *c, char *b, size_t n)
{
	snprintf(b, n, "%+.1f%% [%+.1f%%, %+.1f%%]", c->change * 100,
		 c->ci_lo * 100, c->ci_hi * 100);
}

static const char *label_of(const struct ik_hist_run *r)
{
	return *r->label ? r->label : r->time;
}

/*
 * Whether the host moved with cell c's change at run r: line's cells
 * (raw: normalised by itself, line is flat) and the other cells of this
 * run, in the same metric and direction. Written into why.
 */
static int host_shift(const struct ik_hist_set *s, unsigned c, int m,
		      unsigned r, double change,
		      const struct ik_history_opts *o, unsigned last, char *why,
		      size_t n)
{
	unsigned others = 0, moved = 0, lines = 0, lmoved = 0;
	double lchange = 0;
	struct series se;
	int ret = 0;

	for (unsigned k = 0; k < s->ncells && !ret; k++) {
		bool line = !strcmp(s->cells[k].method, "line");
		const struct ik_cp *cp;

		if (k == c || !s->obs[last * s->ncells + k].reps)
			continue;
		if (!line && o->normalize &&
		    !strcmp(s->cells[k].method, o->normalize))
			continue;
		ret = analyse(s, k, m, line ? NULL : o->normalize, o, &se);
		if (!ret && se.n) {
			cp = moved_at(&se, r, change);
			if (line) {
				lines++;
				if (cp) {
					lmoved++;
					lchange = cp->change;
				}
			} else {
				others++;
				moved += cp != NULL;
			}
		}
		series_free(&se);
	}
	if (ret)
		return ret;
	if (lmoved)
		snprintf(why, n,
			 "host shift: line moved %+.1f%% at the same run, and "
			 "%u of %u other cells",
			 lchange * 100, moved, others);
	else if (others && 2 * moved > others)
		snprintf(why, n,
			 "host shift: %u of %u other cells moved at the same "
			 "run%s",
			 moved, others,
			 lines ? " (line did not)" : " (line not measured)");
	else
		snprintf(why, n,
			 "this cell only: %u of %u other cells moved at the "
			 "same run, %s",
			 moved, others,
			 lines ? "line steady" : "line not measured");
	return 0;
}

int ik_history_gate(const struct ik_hist_set *s, long long this_id,
		    const struct ik_history_opts *o, struct ik_gate_log *g,
		    FILE *f, char *err, size_t n)
{
	unsigned last = s->nruns - 1, need = 2 * o->min_size;
	struct series se;
	int ret = 0;

	if (!s->nruns || s->runs[last].id != this_id) {
		snprintf(err, n, "run %lld is not the newest of its series",
			 this_id);
		return -ENOENT;
	}
	for (unsigned c = 0; c < s->ncells && !ret; c++) {
		const struct ik_hist_cell *cell = &s->cells[c];

		if (!s->obs[last * s->ncells + c].reps ||
		    (o->normalize && !strcmp(cell->method, o->normalize)))
			continue;
		for (int m = 0; m < IK_NMETRICS && !ret; m++) {
			struct ik_gate_row *row;
			const struct ik_cp *cp;
			char a[64], b[64], ch[64];
			unsigned seg, at;

			if (!ik_metric_infos[m].compared)
				continue;
			ret = analyse(s, c, m, o->normalize, o, &se);
			if (ret == -EINVAL)
				snprintf(err, n, "bad change-point options");
			if (ret || !se.n || se.run[se.n - 1] != last) {
				series_free(&se);
				continue; /* not measured, or no partner */
			}
			row = ik_gate_log_add(g);
			if (!row) {
				series_free(&se);
				snprintf(err, n, "out of memory");
				return -ENOMEM;
			}
			g->checked++;
			snprintf(row->what, sizeof(row->what), "%s %s%s",
				 cell->name, ik_metric_infos[m].name,
				 o->normalize ? " (ratio)" : "");
			if (o->normalize)
				snprintf(row->value, sizeof(row->value),
					 "%.4g x %s", se.x[se.n - 1],
					 o->normalize);
			else
				ik_fmt_metric(row->value, sizeof(row->value),
					      se.x[se.n - 1], m);
			snprintf(row->against, sizeof(row->against), "%u run%s",
				 se.n, se.n == 1 ? "" : "s");
			if (se.n < need) {
				snprintf(row->verdict, sizeof(row->verdict),
					 "learning");
				snprintf(row->detail, sizeof(row->detail),
					 "a change needs %u runs", need);
				series_free(&se);
				continue;
			}
			if (!se.ncp) {
				snprintf(row->verdict, sizeof(row->verdict),
					 "unchanged");
				snprintf(row->detail, sizeof(row->detail),
					 "no change point");
				series_free(&se);
				continue;
			}
			cp = &se.cp[se.ncp - 1];
			seg = se.n - (unsigned)cp->index;
			at = se.run[cp->index];
			fmt_change(cp, ch, sizeof(ch));
			if (seg > o->recent) {
				snprintf(row->verdict, sizeof(row->verdict),
					 "unchanged");
				snprintf(row->detail, sizeof(row->detail),
					 "last change %u run%s ago", seg,
					 seg == 1 ? "" : "s");
			} else if (!worse(m, cp->change)) {
				snprintf(row->verdict, sizeof(row->verdict),
					 "improved");
				snprintf(row->detail, sizeof(row->detail),
					 "%s since %.24s", ch,
					 label_of(&s->runs[at]));
			} else {
				char why[200];

				ret = host_shift(s, c, m, at, cp->change, o,
						 last, why, sizeof(why));
				row->failed = true;
				g->failed++;
				snprintf(row->verdict, sizeof(row->verdict),
					 "FAIL");
				snprintf(row->detail, sizeof(row->detail),
					 "%s since %.24s", ch,
					 label_of(&s->runs[at]));
				if (o->normalize)
					snprintf(a, sizeof(a), "%.4g",
						 cp->before);
				else
					ik_fmt_metric(a, sizeof(a), cp->before,
						      m);
				if (o->normalize)
					snprintf(b, sizeof(b), "%.4g",
						 cp->after);
				else
					ik_fmt_metric(b, sizeof(b), cp->after,
						      m);
				fprintf(f,
					"ipckern: --gate history: %s %s "
					"changed %s (95%% CI, p = %.3g) from "
					"%s to %s, beginning at run %s (%s), "
					"%u run%s ago; %s\n",
					cell->name, ik_metric_infos[m].name, ch,
					cp->p, a, b, label_of(&s->runs[at]),
					s->runs[at].time, seg,
					seg == 1 ? "" : "s",
					ret ? "host shift not known" : why);
				ret = 0;
			}
			series_free(&se);
		}
	}
	return ret;
}

int ik_history_report(const struct ik_hist_set *s, const char *klass,
		      const char *model, const struct ik_history_opts *o,
		      FILE *f)
{
	struct series se;
	int ret = 0;

	fprintf(f, "machine class %s (%s): %u run%s", klass, model, s->nruns,
		s->nruns == 1 ? "" : "s");
	if (s->nruns)
		fprintf(f, ", %s to %s", s->runs[0].time,
			s->runs[s->nruns - 1].time);
	fprintf(f, "%s%s\n", o->normalize ? ", each metric divided by " : "",
		o->normalize ? o->normalize : "");
	for (unsigned c = 0; c < s->ncells && !ret; c++) {
		if (o->normalize && !strcmp(s->cells[c].method, o->normalize))
			continue;
		for (int m = 0; m < IK_NMETRICS && !ret; m++) {
			if (!ik_metric_infos[m].compared)
				continue;
			ret = analyse(s, c, m, o->normalize, o, &se);
			if (!ret && se.n) {
				fprintf(f, "  %s %s: %u run%s, ",
					s->cells[c].name,
					ik_metric_infos[m].name, se.n,
					se.n == 1 ? "" : "s");
				if (!se.ncp)
					fprintf(f, "no change point\n");
				else
					fprintf(f, "%zu change point%s\n",
						se.ncp, se.ncp == 1 ? "" : "s");
			}
			for (size_t i = 0; !ret && i < se.ncp; i++) {
				const struct ik_cp *cp = &se.cp[i];
				const struct ik_hist_run *r =
					&s->runs[se.run[cp->index]];
				char ch[64], a[64], b[64];

				fmt_change(cp, ch, sizeof(ch));
				if (o->normalize) {
					snprintf(a, sizeof(a), "%.4g",
						 cp->before);
					snprintf(b, sizeof(b), "%.4g",
						 cp->after);
				} else {
					ik_fmt_metric(a, sizeof(a), cp->before,
						      m);
					ik_fmt_metric(b, sizeof(b), cp->after,
						      m);
				}
				fprintf(f,
					"    at run %zu, %s (%s): %s -> %s, "
					"%s, "
					"p = %.3g%s\n",
					cp->index + 1, label_of(r), r->time, a,
					b, ch, cp->p,
					worse(m, cp->change) ? ", worse"
							     : ", better");
			}
			series_free(&se);
		}
	}
	return ret ? ret : ferror(f) ? -EIO : 0;
}

/* A CSV field, quoted when it holds a comma, quote or newline. */
static void csv_field(const char *v, FILE *f)
{
	if (!strpbrk(v, ",\"\n\r")) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

int ik_history_csv(const struct ik_hist_set *s, const char *kernel, FILE *f)
{
	size_t ncol = (size_t)s->ncells * IK_NMETRICS;
	bool *used = calloc(ncol ? ncol : 1, sizeof(*used));
	double *med = malloc((ncol ? ncol : 1) * (s->nruns ? s->nruns : 1) *
			     sizeof(*med));

	if (!used || !med) {
		free(used);
		free(med);
		return -ENOMEM;
	}
	/* a column for each metric the kernel's cells have a value of */
	for (unsigned i = 0; i < s->nruns; i++)
		for (unsigned c = 0; c < s->ncells; c++) {
			const struct ik_hist_obs *o =
				&s->obs[i * s->ncells + c];

			for (int m = 0; m < IK_NMETRICS; m++) {
				double tmp[IK_BASELINE_KEEP];
				unsigned r, k = 0;
				size_t j = (size_t)c * IK_NMETRICS + (size_t)m;

				for (r = 0; r < o->reps && r < IK_BASELINE_KEEP;
				     r++)
					tmp[k++] = o->v[r * IK_NMETRICS + m];
				med[i * ncol + j] = median(tmp, k);
				if (isfinite(med[i * ncol + j]) &&
				    !strcmp(s->cells[c].kernel, kernel))
					used[j] = true;
			}
		}
	fputs("time,commit", f);
	for (size_t j = 0; j < ncol; j++)
		if (used[j]) {
			char name[256];

			snprintf(name, sizeof(name), "%s.%s",
				 s->cells[j / IK_NMETRICS].name,
				 ik_metric_infos[j % IK_NMETRICS].key);
			fputc(',', f);
			csv_field(name, f);
		}
	fputc('\n', f);
	for (unsigned i = 0; i < s->nruns; i++) {
		csv_field(s->runs[i].time, f);
		fputc(',', f);
		csv_field(s->runs[i].label, f);
		for (size_t j = 0; j < ncol; j++) {
			if (!used[j])
				continue;
			fputc(',', f);
			if (isfinite(med[i * ncol + j]))
				fprintf(f, "%.9g", med[i * ncol + j]);
		}
		fputc('\n', f);
	}
	free(used);
	free(med);
	return ferror(f) ? -EIO : 0;
}
