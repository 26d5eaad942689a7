/* SPDX-License-Identifier: MIT */
/*
 * --matrix: every ordered pair of --cpus. A heatmap of p50 round trips
 * for the table, the same as rows of numbers for JSON, and the worst
 * asymmetry p50(A->B) / p50(B->A).
 */
#include "writers.h"

/* --matrix: p50 of the pair (a, b), or 0 when not measured. */
static uint64_t matrix_p50(const struct ik_report *r, int a, int b)
{
	unsigned i;

	for (i = 0; i < r->nresults; i++)
		if (!r->results[i].err && r->results[i].pair.cpu[0] == a &&
		    r->results[i].pair.cpu[1] == b)
			return ik_hist_percentile(&r->results[i].hist, 50);
	return 0;
}

/* Largest p50(a->b) / p50(b->a) over the pairs, and where. */
static double matrix_asymmetry(const struct ik_report *r, int *wa, int *wb)
{
	double worst = 1.0;
	unsigned i, j;

	*wa = *wb = -1;
	for (i = 0; i < r->ncpus; i++)
		for (j = 0; j < r->ncpus; j++) {
			uint64_t ab = matrix_p50(r, r->cpus[i], r->cpus[j]);
			uint64_t ba = matrix_p50(r, r->cpus[j], r->cpus[i]);

			if (i != j && ab && ba && (double)ab / ba > worst) {
				worst = (double)ab / (double)ba;
				*wa = r->cpus[i];
				*wb = r->cpus[j];
			}
		}
	return worst;
}

/* Heatmap: A down, B across, p50 with a shade from its rank. */
void ik_matrix_table(const struct ik_report *r, FILE *f)
{
	static const char *const shade[] = {" ", ".", ":", "*", "#"};
	uint64_t lo = UINT64_MAX, hi = 0;
	double startup = 0;
	unsigned i, j, n = 0;
	char b[16];
	int wa, wb;

	for (i = 0; i < r->nresults; i++)
		if (!r->results[i].err) {
			uint64_t v =
				ik_hist_percentile(&r->results[i].hist, 50);

			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
			startup += r->results[i].startup_ms;
			n++;
		}
	fprintf(f,
		"\nmatrix of p50 round trips, A (down) to B (across); "
		"shade . : * # from fastest to slowest:\n%6s",
		"A\\B");
	for (j = 0; j < r->ncpus; j++)
		fprintf(f, " %8d", r->cpus[j]);
	fputc('\n', f);
	for (i = 0; i < r->ncpus; i++) {
		fprintf(f, "%6d", r->cpus[i]);
		for (j = 0; j < r->ncpus; j++) {
			uint64_t v = matrix_p50(r, r->cpus[i], r->cpus[j]);
			unsigned s = hi > lo ? (unsigned)(1 + 3 * (v - lo) /
								      (hi - lo))
					     : 1;

			if (i == j || !v)
				fprintf(f, " %8s", "-");
			else
				fprintf(f, " %7s%s",
					ik_fmt_ns(b, sizeof(b), (double)v),
					shade[s > 4 ? 4 : s]);
		}
		fputc('\n', f);
	}
	fprintf(f, "asymmetry: worst p50(A->B)/p50(B->A) = %.2f",
		matrix_asymmetry(r, &wa, &wb));
	if (wa >= 0)
		fprintf(f, " (%d->%d)", wa, wb);
	fprintf(f, "; start-up per pair %.1f ms (channel, peers, pinning)\n",
		n ? startup / n : 0.0);
}

json_t *ik_matrix_json(const struct ik_report *r)
{
	json_t *m = json_object(), *rows = json_array(), *cpus = json_array();
	unsigned i;
	int wa, wb;

	for (i = 0; i < r->ncpus; i++) {
		json_t *row = json_array();

		json_array_append_new(cpus, json_integer(r->cpus[i]));
		for (unsigned j = 0; j < r->ncpus; j++) {
			uint64_t v = matrix_p50(r, r->cpus[i], r->cpus[j]);

			json_array_append_new(row,
					      v ? json_integer((json_int_t)v)
						: json_null());
		}
		json_array_append_new(rows, row);
	}
	json_object_set_new(m, "cpus", cpus);
	json_object_set_new(m, "p50_ns", rows);
	json_object_set_new(m, "max_asymmetry",
			    json_real(matrix_asymmetry(r, &wa, &wb)));
	return m;
}
