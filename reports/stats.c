/* SPDX-License-Identifier: MIT */
/*
 * The numbers behind a gate: each result's metrics, their median and
 * bootstrap interval across repeats, the baseline verdict, and the
 * summary the CLI prints. A gate on shared machines must tell noise from
 * a change, so nothing here trusts a single run: a verdict needs
 * IK_MIN_REPEATS runs on each side and an interval that excludes "no
 * change" before it calls anything regressed.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "../kernels/view.h"
#include "gate.h"

const struct ik_metric_info ik_metric_infos[IK_NMETRICS] = {
	[IK_M_MIN] = {"min", IK_Q_MIN, "min", IK_DIM_TIME, false, false},
	[IK_M_P50] = {"p50", IK_Q_P50, "p50", IK_DIM_TIME, false, true},
	[IK_M_P90] = {"p90", IK_Q_P90, "p90", IK_DIM_TIME, false, false},
	[IK_M_P99] = {"p99", IK_Q_P99, "p99", IK_DIM_TIME, false, true},
	[IK_M_P999] = {"p99_9", IK_Q_P999, "p99.9", IK_DIM_TIME, false, false},
	[IK_M_MAX] = {"max", IK_Q_MAX, "max", IK_DIM_TIME, false, false},
	[IK_M_MEAN] = {"mean", IK_Q_MEAN, "mean", IK_DIM_TIME, false, false},
	[IK_M_MSGS] = {"msgs", IK_Q_MSGS, "msgs", IK_DIM_MSGS, true, true},
	[IK_M_BYTES] = {"throughput", IK_Q_BYTES, "throughput", IK_DIM_BYTES,
			true, false},
	[IK_M_CPU] = {"cpu", IK_Q_CPU_PER_MSG, "cpu", IK_DIM_TIME, false, true},
};

int ik_metric_by_name(const char *name, size_t len)
{
	char b[24];
	int m;

	if (len >= sizeof(b))
		return -1;
	memcpy(b, name, len);
	b[len] = 0;
	if (!strcmp(b, "p99.9") || !strcmp(b, "p999"))
		return IK_M_P999;
	for (m = 0; m < IK_NMETRICS; m++)
		if (!strcmp(b, ik_metric_infos[m].name) ||
		    !strcmp(b, ik_metric_infos[m].key))
			return m;
	return -1;
}

void ik_metrics_of(const struct ik_result *res, double v[IK_NMETRICS])
{
	const struct ik_hist *h = &res->hist;
	bool stream = ik_result_ops(res)->one_way;
	bool lat = !stream || res->stream.latency_valid;
	double n, cpu = (double)(res->cpu[0].cpu_ns + res->cpu[1].cpu_ns);
	int m;

	for (m = 0; m < IK_NMETRICS; m++)
		v[m] = NAN;
	if (res->err)
		return;
	if (lat && h->total) {
		v[IK_M_MIN] = (double)h->min;
		v[IK_M_P50] = (double)ik_hist_percentile(h, 50);
		v[IK_M_P90] = (double)ik_hist_percentile(h, 90);
		v[IK_M_P99] = (double)ik_hist_percentile(h, 99);
		v[IK_M_P999] = (double)ik_hist_percentile(h, 99.9);
		v[IK_M_MAX] = (double)h->max;
		v[IK_M_MEAN] = ik_hist_mean(h);
	}
	if (stream) {
		v[IK_M_MSGS] = res->stream.msgs_per_s;
		v[IK_M_BYTES] = res->stream.bytes_per_s;
	} else {
		/* with --gap the wall holds the idle time: no rate then */
		if (res->wall_ns && !res->gap_ns) {
			v[IK_M_MSGS] =
				(double)res->count * 1e9 / (double)res->wall_ns;
			v[IK_M_BYTES] = v[IK_M_MSGS] * 2.0 * (double)res->size;
		}
	}
	/* a call's CPU covers the timed calls only */
	n = (double)ik_result_msgs(res);
	if (n > 0)
		v[IK_M_CPU] = cpu / n;
}

const char *ik_fmt_dim(char *b, size_t n, double v, enum ik_dim d)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else if (d == IK_DIM_TIME)
		snprintf(b, n,
			 v < 1e3   ? "%.0f ns"
			 : v < 1e6 ? "%.3g us"
			 : v < 1e9 ? "%.3g ms"
				   : "%.3g s",
			 v < 1e3   ? v
			 : v < 1e6 ? v / 1e3
			 : v < 1e9 ? v / 1e6
				   : v / 1e9);
	else if (d == IK_DIM_MSGS)
		snprintf(b, n,
			 v >= 1e6   ? "%.4g M msgs/s"
			 : v >= 1e3 ? "%.4g k msgs/s"
				    : "%.4g msgs/s",
			 v >= 1e6   ? v / 1e6
			 : v >= 1e3 ? v / 1e3
				    : v);
	else if (d == IK_DIM_BYTES)
		snprintf(b, n, "%.4g MB/s", v / 1e6);
	else
		snprintf(b, n, "%.4g", v);
	return b;
}

const char *ik_fmt_metric(char *b, size_t n, double v, int m)
{
	return ik_fmt_dim(b, n, v, ik_metric_infos[m].dim);
}

void ik_cell_name(const struct ik_result *res, char *b, size_t n)
{
	struct ik_cell_key k;

	ik_cell_key_of(res, &k);
	ik_cell_key_name(&k, IK_CELL_NAME_LABEL, b, n);
}

/* splitmix64: small, fast, and the same stream on every machine */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of n values, sorting x in place. */
static double median_inplace(double *x, unsigned n)
{
	qsort(x, n, sizeof(*x), cmp_double);
	return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/* The finite values of x, copied; *n updated. NULL on ENOMEM or none. */
static double *finite_copy(const double *x, unsigned *n)
{
	double *c = malloc((*n ? *n : 1) * sizeof(*c));
	unsigned i, k = 0;

	if (!c)
		return NULL;
	for (i = 0; i < *n; i++)
		if (isfinite(x[i]))
			c[k++] = x[i];
	*n = k;
	return c;
}

double ik_median(const double *x, unsigned n)
{
	double *c = finite_copy(x, &n), m;

	if (!c || !n) {
		free(c);
		return NAN;
	}
	m = median_inplace(c, n);
	free(c);
	return m;
}

/* The median of n values drawn with replacement from x, into tmp. */
static double resample_median(const double *x, unsigned n, double *tmp,
			      uint64_t *seed)
{
	unsigned i;

	for (i = 0; i < n; i++)
		tmp[i] = x[rng_next(seed) % n];
	return median_inplace(tmp, n);
}

/* The 2.5th and 97.5th percentiles of b[0..IK_BOOT_RESAMPLES-1]. */
static void interval(double *b, double *lo, double *hi)
{
	unsigned last = IK_BOOT_RESAMPLES - 1;

	qsort(b, IK_BOOT_RESAMPLES, sizeof(*b), cmp_double);
	*lo = b[(unsigned)floor(0.025 * last)];
	*hi = b[(unsigned)ceil(0.975 * last)];
}

void ik_summarize(const double *x, unsigned n, struct ik_summary *s)
{
	double *c = finite_copy(x, &n), *tmp = NULL, *boot = NULL;
	double sum = 0, sq = 0, mean;
	uint64_t seed = 1;
	unsigned i;

	s->n = n;
	s->median = s->lo = s->hi = s->cv = NAN;
	if (!c || !n)
		goto out;
	for (i = 0; i < n; i++)
		sum += c[i];
	mean = sum / n;
	for (i = 0; i < n; i++)
		sq += (c[i] - mean) * (c[i] - mean);
	s->cv = n > 1 && mean > 0 ? sqrt(sq / (n - 1)) / mean : 0;
	tmp = malloc(n * sizeof(*tmp));
	boot = malloc(IK_BOOT_RESAMPLES * sizeof(*boot));
	if (!tmp || !boot)
		goto out;
	for (i = 0; i < IK_BOOT_RESAMPLES; i++)
		boot[i] = resample_median(c, n, tmp, &seed);
	interval(boot, &s->lo, &s->hi);
	s->median = median_inplace(c, n);
out:
	free(c);
	free(tmp);
	free(boot);
}

double ik_rep_value(const struct ik_result *res, unsigned r, int m)
{
	return res->rep_v[(size_t)r * IK_NMETRICS + (unsigned)m];
}

double ik_result_metric(const struct ik_result *res, int m)
{
	double v[IK_NMETRICS], *col;
	unsigned r;

	if (!res->rep_v || !res->repeats) {
		ik_metrics_of(res, v);
		return v[m];
	}
	col = malloc(res->repeats * sizeof(*col));
	if (!col)
		return NAN;
	for (r = 0; r < res->repeats; r++)
		col[r] = ik_rep_value(res, r, m);
	v[0] = ik_median(col, res->repeats);
	free(col);
	return v[0];
}

const char *ik_verdict_name(enum ik_verdict_kind k)
{
	static const char *const n[] = {"unchanged", "regressed", "improved"};

	return n[k];
}

int ik_verdict(const double *base, unsigned nb, const double *cur, unsigned nc,
	       bool higher_better, double max_regress, double min_delta,
	       struct ik_verdict *v)
{
	double *b = finite_copy(base, &nb), *c = finite_copy(cur, &nc);
	double *tb = NULL, *tc = NULL, *boot = NULL, slow, slow_lo, slow_hi;
	uint64_t seed = 1;
	unsigned i;
	int ret = -EINVAL;

	memset(v, 0, sizeof(*v));
	v->base = v->cur = v->ratio = v->lo = v->hi = NAN;
	if (!b || !c || nb < IK_MIN_REPEATS || nc < IK_MIN_REPEATS)
		goto out;
	/* a ratio against 0 says nothing: never call that unchanged */
	ret = -EDOM;
	for (i = 0; i < nb; i++)
		if (!(b[i] > 0))
			goto out;
	for (i = 0; i < nc; i++)
		if (!(c[i] > 0))
			goto out;
	ret = -ENOMEM;
	tb = malloc(nb * sizeof(*tb));
	tc = malloc(nc * sizeof(*tc));
	boot = malloc(IK_BOOT_RESAMPLES * sizeof(*boot));
	if (!tb || !tc || !boot)
		goto out;
	ret = 0;
	for (i = 0; i < IK_BOOT_RESAMPLES; i++) {
		double mb = resample_median(b, nb, tb, &seed);
		double mc = resample_median(c, nc, tc, &seed);

		boot[i] = mc / mb;
	}
	interval(boot, &v->lo, &v->hi);
	v->base = median_inplace(b, nb);
	v->cur = median_inplace(c, nc);
	v->ratio = v->cur / v->base;
	/* the slowdown factor and its interval: > 1 is worse */
	slow = higher_better ? 1 / v->ratio : v->ratio;
	slow_lo = higher_better ? 1 / v->hi : v->lo;
	slow_hi = higher_better ? 1 / v->lo : v->hi;
	v->significant = slow_lo > 1 || slow_hi < 1;
	v->below_delta = fabs(v->cur - v->base) <= min_delta;
	if (v->below_delta)
		goto out;
	if (slow > 1 + max_regress && slow_lo > 1)
		v->kind = IK_REGRESSED;
	else if (slow < 1 / (1 + max_regress) && slow_hi < 1)
		v->kind = IK_IMPROVED;
out:
	free(b);
	free(c);
	free(tb);
	free(tc);
	free(boot);
	return ret;
}

/* ---- the summary ---- */

struct ik_gate_row *ik_gate_log_add(struct ik_gate_log *g)
{
	if (g->n == g->cap) {
		unsigned cap = g->cap ? 2 * g->cap : 16;
		struct ik_gate_row *r = realloc(g->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		g->rows = r;
		g->cap = cap;
	}
	memset(&g->rows[g->n], 0, sizeof(g->rows[0]));
	return &g->rows[g->n++];
}

void ik_gate_log_free(struct ik_gate_log *g)
{
	free(g->rows);
	memset(g, 0, sizeof(*g));
}

static const char *const gate_cols[] = {"check", "measured", "against",
					"verdict", "detail"};

static const char *col(const struct ik_gate_row *r, int c)
{
	const char *v[] = {r->what, r->value, r->against, r->verdict,
			   r->detail};
	return v[c];
}

void ik_gate_log_print(const struct ik_gate_log *g, const char *title, FILE *f)
{
	int w[5], c;
	unsigned i;

	for (c = 0; c < 5; c++)
		w[c] = (int)strlen(gate_cols[c]);
	for (i = 0; i < g->n; i++)
		for (c = 0; c < 5; c++)
			if ((int)strlen(col(&g->rows[i], c)) > w[c])
				w[c] = (int)strlen(col(&g->rows[i], c));
	fprintf(f, "\n%s\n", title);
	for (c = 0; c < 5; c++)
		fprintf(f, "%-*s%s", w[c], gate_cols[c], c < 4 ? "  " : "\n");
	for (i = 0; i < g->n; i++)
		for (c = 0; c < 5; c++)
			fprintf(f, "%-*s%s", c < 4 ? w[c] : 0,
				col(&g->rows[i], c), c < 4 ? "  " : "\n");
	if (!g->checked)
		fprintf(f, "GATE FAILED: nothing was checked\n");
	else
		fprintf(f, "%s: %u of %u checks failed\n",
			g->failed ? "GATE FAILED" : "gate passed", g->failed,
			g->checked);
}

/* Markdown cells: a '|' or newline would break the table. */
static void md_cell(const char *s, FILE *f)
{
	fputc(' ', f);
	for (; *s; s++)
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	fputs(" |", f);
}

void ik_gate_log_markdown(const struct ik_gate_log *g, const char *title,
			  FILE *f)
{
	bool bad = g->failed || !g->checked; /* nothing checked: failed */
	unsigned i;
	int c;

	fprintf(f, "### %s %s\n\n", bad ? ":x:" : ":white_check_mark:", title);
	if (!g->checked)
		fprintf(f, "**Gate failed**: nothing was checked.\n\n");
	else
		fprintf(f, "**%s**: %u of %u checks failed.\n\n",
			bad ? "Gate failed" : "Gate passed", g->failed,
			g->checked);
	fputc('|', f);
	for (c = 0; c < 5; c++)
		md_cell(gate_cols[c], f);
	fputs("\n|", f);
	for (c = 0; c < 5; c++)
		fputs(c == 1 ? " ---: |" : " --- |", f);
	fputc('\n', f);
	for (i = 0; i < g->n; i++) {
		const struct ik_gate_row *r = &g->rows[i];

		fputc('|', f);
		for (c = 0; c < 5; c++)
			if (c == 3 && r->failed) {
				char b[32];

				snprintf(b, sizeof(b), "**%s**", r->verdict);
				md_cell(b, f);
			} else {
				md_cell(col(r, c), f);
			}
		fputc('\n', f);
	}
}
