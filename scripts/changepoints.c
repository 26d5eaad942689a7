/* SPDX-License-Identifier: MIT */
/*
 * ik-changepoints: the change points of every metric column of an
 * Otava-style CSV (columns time, commit, then one per CELL.METRIC; what
 * `ipckern history --csv` writes), by the library's E-divisive means
 * (reports/changepoint.h). scripts/plot marks them on its history
 * panels and scripts/proof-history reads them; any Otava CSV will do,
 * not only one from a local database. An empty field is a run without
 * that metric: the series skips it.
 *
 * usage: ik-changepoints [--alpha A] [--min-change C] [--min-size N]
 *                        [--permutations N] [--seed S] [--series] [FILE.csv]
 * Prints one tab-separated line per change point, after a header:
 *   metric row time commit before after change ci_lo ci_hi p
 * (row: the 0-based data row where the new segment starts). --series
 * prints the series instead, "metric row value" (the CSV, parsed once
 * here rather than by each reader). Exit 0, 2
 * on bad usage or input (one line on stderr saying what), 3 on failure.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/changepoint.h"

#define MAXCOLS 4096

struct table {
	char **head; /* column names */
	size_t ncols;
	char ***rows; /* rows[r][c], NULL where the row was short */
	size_t nrows, cap;
};

/* Split one CSV line in place (RFC 4180 quotes: "" inside a quoted
 * field is one "); fields[] point into line. The count, or -1 */
static long split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *r = line, *w;

	line[strcspn(line, "\r\n")] = '\0';
	for (;;) {
		if (n == max)
			return -1;
		fields[n++] = w = r;
		if (*r == '"') {
			r++;
			for (;;) {
				if (!*r)
					return -1; /* unterminated quote */
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*w++ = *r++;
				}
			}
			if (*r && *r != ',')
				return -1;
		} else {
			while (*r && *r != ',')
				*w++ = *r++;
		}
		if (!*r) {
			*w = '\0';
			return (long)n;
		}
		r++;
		*w = '\0';
	}
}

static char **dup_fields(char **f, size_t n)
{
	char **out = calloc(n, sizeof(*out));

	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = strdup(f[i]))) {
			while (i--)
				free(out[i]);
			free(out);
			return NULL;
		}
	return out;
}

static void free_table(struct table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	free(t->rows);
	for (size_t c = 0; t->head && c < t->ncols; c++)
		free(t->head[c]);
	free(t->head);
}

static int read_table(FILE *in, const char *name, struct table *t)
{
	static char *fields[MAXCOLS];
	char *line = NULL;
	size_t len = 0, lineno = 0;
	long n;

	while (getline(&line, &len, in) >= 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		n = split(line, fields, MAXCOLS);
		if (n < 0) {
			fprintf(stderr,
				"ik-changepoints: %s:%zu: not a CSV line "
				"(unterminated quote or over %d columns)\n",
				name, lineno, MAXCOLS);
			free(line);
			return -EINVAL;
		}
		if (!t->head) {
			if (n < 3 || strcmp(fields[0], "time") ||
			    strcmp(fields[1], "commit")) {
				fprintf(stderr,
					"ik-changepoints: %s: the header must "
					"be "
					"time,commit,CELL.METRIC... (an Otava "
					"CSV from ipckern history --csv)\n",
					name);
				free(line);
				return -EINVAL;
			}
			t->ncols = (size_t)n;
			t->head = dup_fields(fields, (size_t)n);
			if (!t->head)
				goto nomem;
			continue;
		}
		if ((size_t)n != t->ncols) {
			fprintf(stderr,
				"ik-changepoints: %s:%zu: %ld fields, the "
				"header has %zu\n",
				name, lineno, n, t->ncols);
			free(line);
			return -EINVAL;
		}
		if (t->nrows == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 64;
			char ***r = realloc(t->rows, cap * sizeof(*r));

			if (!r)
				goto nomem;
			t->rows = r;
			t->cap = cap;
		}
		if (!(t->rows[t->nrows] = dup_fields(fields, (size_t)n)))
			goto nomem;
		t->nrows++;
	}
	free(line);
	if (ferror(in))
		return -errno;
	if (!t->head) {
		fprintf(stderr, "ik-changepoints: %s: empty, no header\n",
			name);
		return -EINVAL;
	}
	return 0;
nomem:
	free(line);
	return -ENOMEM;
}

/* One metric column: its series without the empty fields, detected
 * (or, with series, printed) */
static int column(const struct table *t, size_t c, const struct ik_cp_opts *o,
		  bool series, double *x, size_t *row, struct ik_cp *cp)
{
	size_t n = 0, ncp;
	int ret;

	for (size_t r = 0; r < t->nrows; r++) {
		const char *s = t->rows[r][c];
		char *end;

		if (!*s)
			continue;
		errno = 0;
		x[n] = strtod(s, &end);
		if (errno || *end || !isfinite(x[n])) {
			fprintf(stderr,
				"ik-changepoints: row %zu, column %s: '%s' is "
				"not a finite number\n",
				r + 1, t->head[c], s);
			return -EINVAL;
		}
		if (series)
			printf("%s\t%zu\t%.15g\n", t->head[c], r, x[n]);
		row[n++] = r;
	}
	if (series)
		return 0;
	ret = ik_cp_detect(x, n, o, cp, t->nrows, &ncp);
	if (ret)
		return ret;
	for (size_t k = 0; k < ncp; k++) {
		size_t r = row[cp[k].index];

		printf("%s\t%zu\t%s\t%s\t%.6g\t%.6g\t%.6f\t%.6f\t%.6f\t%.4g\n",
		       t->head[c], r, t->rows[r][0], t->rows[r][1],
		       cp[k].before, cp[k].after, cp[k].change, cp[k].ci_lo,
		       cp[k].ci_hi, cp[k].p);
	}
	return 0;
}

static int usage(FILE *to)
{
	fprintf(to, "usage: ik-changepoints [--alpha A] [--min-change C] "
		    "[--min-size N] [--permutations N] [--seed S] "
		    "[--series] [FILE.csv]\n");
	return 2;
}

/* --alpha and --min-change take any number in [lo, hi], the counts a
 * whole one */
static int number(const char *opt, const char *s, double lo, double hi,
		  double *v)
{
	bool whole = strcmp(opt, "--alpha") && strcmp(opt, "--min-change");
	char *end;

	errno = 0;
	*v = s ? strtod(s, &end) : NAN;
	if (!s || errno || *end || end == s || !(*v >= lo && *v <= hi) ||
	    (whole && *v != floor(*v))) {
		fprintf(stderr,
			"ik-changepoints: %s '%s': expected %s in "
			"[%g, %g]\n",
			opt, s ? s : "", whole ? "a whole number" : "a number",
			lo, hi);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ik_cp_opts o = IK_CP_OPTS_DEFAULT;
	const char *file = NULL;
	struct table t = {0};
	struct ik_cp *cp;
	double *x, v;
	size_t *row;
	FILE *in = stdin;
	bool series = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--series")) {
			series = true;
			continue;
		} else if (!strcmp(a, "--alpha")) {
			if (number(a, val, 1e-9, 0.999, &o.alpha))
				return 2;
		} else if (!strcmp(a, "--min-change")) {
			if (number(a, val, 0, 1e9, &o.min_change))
				return 2;
		} else if (!strcmp(a, "--min-size")) {
			if (number(a, val, 1, 1e6, &v))
				return 2;
			o.min_size = (unsigned)v;
		} else if (!strcmp(a, "--permutations")) {
			if (number(a, val, 1, 1e6, &v))
				return 2;
			o.permutations = (unsigned)v;
		} else if (!strcmp(a, "--seed")) {
			if (number(a, val, 0, 1e15, &v))
				return 2;
			o.seed = (uint64_t)v;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr,
				"ik-changepoints: unknown option '%s'\n", a);
			return usage(stderr);
		} else if (!file) {
			file = a;
			continue;
		} else {
			return usage(stderr);
		}
		i++;
	}
	if (1 / ((double)o.permutations + 1) > o.alpha) {
		fprintf(stderr,
			"ik-changepoints: --permutations %u can never reach "
			"--alpha %g: at least %.0f\n",
			o.permutations, o.alpha, ceil(1 / o.alpha - 1));
		return 2;
	}
	if (file && strcmp(file, "-") && !(in = fopen(file, "r"))) {
		fprintf(stderr, "ik-changepoints: %s: %s\n", file,
			strerror(errno));
		return 2;
	}
	ret = read_table(in, file ? file : "stdin", &t);
	if (in != stdin)
		fclose(in);
	x = malloc((t.nrows + 1) * sizeof(*x));
	row = malloc((t.nrows + 1) * sizeof(*row));
	cp = malloc((t.nrows + 1) * sizeof(*cp));
	if (!ret && (!x || !row || !cp))
		ret = -ENOMEM;
	if (!ret && series)
		printf("metric\trow\tvalue\n");
	else if (!ret)
		printf("metric\trow\ttime\tcommit\tbefore\tafter\tchange\t"
		       "ci_lo\tci_hi\tp\n");
	for (size_t c = 2; !ret && c < t.ncols; c++)
		ret = column(&t, c, &o, series, x, row, cp);
	free(cp);
	free(row);
	free(x);
	free_table(&t);
	if (!ret && fflush(stdout))
		ret = -errno;
	if (ret && ret != -EINVAL)
		fprintf(stderr, "ik-changepoints: %s\n", strerror(-ret));
	return !ret ? 0 : ret == -EINVAL ? 2 : 3;
}
