/* SPDX-License-Identifier: MIT */
/*
 * --baseline FILE: read a saved result (schema ipckern/1, with every
 * cell's per-repeat metrics), refuse one measured elsewhere, and compare
 * it with this run metric by metric. The file may be anything (a
 * truncated upload, someone else's JSON, a hostile blob), so the reader
 * checks every type and range before it keeps a value, and stops at
 * IK_BASELINE_MAX_BYTES; jansson bounds the nesting depth.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../kernels/kernels.h"
#include "gate.h"
#include "reports.h"

#define MAX_CELLS   100000
#define MAX_REPEATS IK_BASELINE_KEEP

static int bad(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "spsc thread 8 B", plus what else tells the cell apart: for errors. */
static void base_name(const struct ik_base_cell *c, char *b, size_t n)
{
	ik_cell_key_name(&c->key, IK_CELL_NAME_BASELINE, b, n);
}

/*
 * A cell a gate can lean on: every compared metric's values above 0
 * (a ratio against 0 says nothing) and at least one of them present.
 */
static int check_cell(const struct ik_base_cell *c, char *err, size_t n,
		      unsigned idx)
{
	bool any = false;
	char name[160];
	unsigned r;
	int m;

	base_name(c, name, sizeof(name));
	for (m = 0; m < IK_NMETRICS; m++) {
		if (!ik_metric_infos[m].compared)
			continue;
		for (r = 0; r < c->k; r++) {
			double x = c->v[r * IK_NMETRICS + (unsigned)m];

			if (isnan(x))
				continue;
			if (!(x > 0))
				return bad(err, n,
					   "result %u (%s): %s is 0 in repeat "
					   "%u: not a measurement, and no "
					   "ratio can be taken against it",
					   idx, name, ik_metric_infos[m].name,
					   r + 1);
			any = true;
		}
	}
	if (!any)
		return bad(err, n,
			   "result %u (%s): no p50, p99, msgs or cpu value in "
			   "any repeat (all null): nothing to compare with",
			   idx, name);
	return 0;
}

/* The cell's "repeats.metrics": k values per metric, null for missing. */
static int read_repeats(json_t *res, struct ik_base_cell *c, char *err,
			size_t n, unsigned idx)
{
	json_t *rep = json_object_get(res, "repeats"), *ms, *mv, *vals;
	uint64_t k;
	int m;

	ms = json_object_get(rep, "metrics");
	if (!json_is_object(rep) || ik_json_uint(rep, "count", &k) || !k ||
	    !json_is_object(ms))
		return bad(err, n,
			   "result %u: no per-repeat metrics (\"repeats\"); "
			   "save baselines with ipckern --save-baseline",
			   idx);
	if (k > MAX_REPEATS)
		return bad(err, n,
			   "result %u: %llu repeats; a baseline keeps at most "
			   "the newest %u (--append drops older ones): save "
			   "it again with --save-baseline",
			   idx, (unsigned long long)k, MAX_REPEATS);
	c->k = (unsigned)k;
	c->v = malloc(k * IK_NMETRICS * sizeof(*c->v));
	if (!c->v)
		return bad(err, n, "out of memory");
	for (size_t i = 0; i < k * IK_NMETRICS; i++)
		c->v[i] = NAN;
	for (m = 0; m < IK_NMETRICS; m++) {
		size_t r;

		mv = json_object_get(ms, ik_metric_infos[m].name);
		if (!mv)
			continue;
		vals = json_object_get(mv, "values");
		if (!json_is_object(mv) || !json_is_array(vals) ||
		    json_array_size(vals) != k)
			return bad(err, n,
				   "result %u: metric %s needs \"values\", "
				   "an array of %llu numbers",
				   idx, ik_metric_infos[m].name,
				   (unsigned long long)k);
		for (r = 0; r < k; r++) {
			json_t *x = json_array_get(vals, r);
			double d;

			if (json_is_null(x))
				continue;
			d = json_number_value(x);
			if (!json_is_number(x) || !isfinite(d) || d < 0 ||
			    d > 1e18)
				return bad(err, n,
					   "result %u: metric %s: value %zu "
					   "is not a number from 0 to 1e18",
					   idx, ik_metric_infos[m].name, r + 1);
			c->v[r * IK_NMETRICS + (size_t)m] = d;
		}
	}
	return check_cell(c, err, n, idx);
}

static int read_cell(json_t *res, struct ik_base_cell *c, int kernel, char *err,
		     size_t n, unsigned idx)
{
	json_t *pair = json_object_get(res, "pair");
	char status[16];
	int key = ik_cell_key_from_json(res, kernel, &c->key);

	if (key == -EINVAL ||
	    ik_json_str(res, "status", status, sizeof(status), true) ||
	    !json_is_object(pair) ||
	    ik_json_str(pair, "relation", c->relation, sizeof(c->relation),
			true))
		return bad(err, n,
			   "result %u: needs method, mode, size, buffer, "
			   "gap_ns, status and pair.relation of the right "
			   "types",
			   idx);
	if (key)
		return bad(err, n, "result %u: bad pair_number", idx);
	c->ok = !strcmp(status, "ok");
	if (!c->ok) {
		char name[160];

		/* a run with a failed cell saves nothing: this was edited
		 * or comes from elsewhere, and would compare nothing */
		base_name(c, name, sizeof(name));
		return bad(err, n,
			   "result %u (%s): status \"%s\", not \"ok\": a "
			   "baseline holds only cells that ran",
			   idx, name, status);
	}
	return read_repeats(res, c, err, n, idx);
}

int ik_baseline_parse(const char *buf, size_t len, struct ik_baseline *b,
		      char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *results, *machine;
	char schema[32];
	unsigned i;
	int ret, kernel;

	memset(b, 0, sizeof(*b));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return bad(err, errlen, "not JSON (line %d: %s)", je.line,
			   je.text);
	ret = bad(err, errlen, "not an ipckern result (no \"schema\")");
	if (!json_is_object(root) ||
	    ik_json_str(root, "schema", schema, sizeof(schema), true))
		goto out;
	if (strcmp(schema, IK_SCHEMA)) {
		ret = bad(err, errlen,
			  "schema \"%s\"; this ipckern reads \"%s\"", schema,
			  IK_SCHEMA);
		goto out;
	}
	machine = json_object_get(root, "machine");
	results = json_object_get(root, "results");
	b->config = json_incref(json_object_get(root, "config"));
	ret = bad(err, errlen,
		  "needs machine.model_name, config and results[]");
	if (!json_is_object(machine) ||
	    ik_json_str(machine, "model_name", b->model, sizeof(b->model),
			true) ||
	    !json_is_object(b->config) || !json_is_array(results))
		goto out;
	ik_json_str(root, "created", b->created, sizeof(b->created), false);
	kernel = ik_cell_kernel_by_name(
		json_string_value(json_object_get(b->config, "kernel")));
	if (!json_array_size(results) || json_array_size(results) > MAX_CELLS) {
		ret = bad(err, errlen, "results: needs 1 to %u entries",
			  MAX_CELLS);
		goto out;
	}
	b->cells = calloc(json_array_size(results), sizeof(*b->cells));
	if (!b->cells) {
		ret = bad(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < json_array_size(results); i++) {
		b->ncells++;
		ret = read_cell(json_array_get(results, i), &b->cells[i],
				kernel, err, errlen, i + 1);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	json_decref(root);
	if (ret)
		ik_baseline_free(b);
	return ret;
}

/*
 * Nothing here may block or read without end: a FIFO would block in
 * open() and a device never ends, so only a regular file is read
 * (ik_read_regular).
 */
int ik_baseline_load(const char *path, struct ik_baseline *b, char *err,
		     size_t errlen)
{
	char *buf;
	size_t len;
	unsigned mode = 0;
	bool reading;
	int ret;

	memset(b, 0, sizeof(*b));
	ret = ik_read_regular(path, IK_BASELINE_MAX_BYTES, &buf, &len, &mode,
			      &reading);
	if (ret == -EINVAL)
		return bad(err, errlen,
			   "%s, not a regular file: a baseline is a file "
			   "written by --save-baseline",
			   ik_file_kind(mode));
	if (ret == -EFBIG)
		return bad(err, errlen, "larger than %u MiB: not a baseline",
			   IK_BASELINE_MAX_BYTES >> 20);
	if (ret == -ENOMEM)
		return bad(err, errlen, "out of memory");
	if (ret) {
		snprintf(err, errlen, "cannot %s it: %s",
			 reading ? "read" : "open", strerror(-ret));
		return ret;
	}
	ret = ik_baseline_parse(buf, len, b, err, errlen);
	free(buf);
	return ret;
}

void ik_baseline_free(struct ik_baseline *b)
{
	unsigned i;

	for (i = 0; i < b->ncells; i++)
		free(b->cells[i].v);
	free(b->cells);
	json_decref(b->config);
	memset(b, 0, sizeof(*b));
}

/* ---- matching cells ---- */

/* c is res's cell, measured with method (res's own when NULL) */
static bool cell_is(const struct ik_base_cell *c, const struct ik_result *res,
		    const char *method)
{
	struct ik_cell_key k;

	ik_cell_key_of(res, &k);
	if (method)
		snprintf(k.method, sizeof(k.method), "%s", method);
	return ik_cell_key_eq(&c->key, &k, IK_CELL_BASELINE);
}

static const struct ik_base_cell *find_cell(const struct ik_baseline *b,
					    const struct ik_result *res,
					    const char *method)
{
	unsigned i;

	for (i = 0; i < b->ncells; i++)
		if (cell_is(&b->cells[i], res, method))
			return &b->cells[i];
	return NULL;
}

/* This run's result for res's cell measured with method, or NULL. */
static const struct ik_result *find_result(const struct ik_report *r,
					   const struct ik_result *res,
					   const char *method)
{
	struct ik_cell_key want, k;
	unsigned i;

	ik_cell_key_of(res, &want);
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *o = &r->results[i];

		if (o->err || strcmp(o->ops->name, method))
			continue;
		ik_cell_key_of(o, &k);
		if (ik_cell_key_eq(&k, &want, IK_CELL_PARTNER))
			return o;
	}
	return NULL;
}

int ik_baseline_prepend(const struct ik_baseline *b, struct ik_result *results,
			unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct ik_result *res = &results[i];
		const struct ik_base_cell *c = find_cell(b, res, NULL);
		unsigned keep_new, keep_old;
		size_t old, now;
		double *v;

		if (!c || !c->ok || res->err || !res->rep_v)
			continue;
		/* the newest IK_BASELINE_KEEP: drop the oldest of the file's
		 * (or of this run's, were it alone above the limit) */
		keep_new = res->repeats < IK_BASELINE_KEEP ? res->repeats
							   : IK_BASELINE_KEEP;
		keep_old = c->k < IK_BASELINE_KEEP - keep_new
				   ? c->k
				   : IK_BASELINE_KEEP - keep_new;
		old = (size_t)keep_old * IK_NMETRICS;
		now = (size_t)keep_new * IK_NMETRICS;
		v = malloc((old + now) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memcpy(v, c->v + (size_t)(c->k - keep_old) * IK_NMETRICS,
		       old * sizeof(*v));
		memcpy(v + old,
		       res->rep_v +
			       (size_t)(res->repeats - keep_new) * IK_NMETRICS,
		       now * sizeof(*v));
		free(res->rep_v);
		res->rep_v = v;
		res->repeats = keep_old + keep_new;
	}
	return 0;
}

/* Appends "; text" to why (bounded), counting. */
static void differs(char *why, size_t n, unsigned *count, const char *fmt, ...)
{
	size_t used = strlen(why);
	va_list ap;

	(*count)++;
	if (used + 3 >= n)
		return;
	if (used)
		used += (size_t)snprintf(why + used, n - used, "; ");
	va_start(ap, fmt);
	vsnprintf(why + used, n - used, fmt, ap);
	va_end(ap);
}

/* The configuration fields that make two runs comparable. */
static const char *const config_keys[] = {
	"kernel",      "verify",  "methods", "modes",	 "wait",
	"sizes",       "buffers", "gaps_ns", "gap_mode", "iters",
	"duration_ns", "rate",	  "pairs",
};

unsigned ik_baseline_mismatch(const struct ik_baseline *b,
			      const struct ik_report *r, char *why, size_t n)
{
	json_t *cur = ik_config_json(r);
	unsigned i, count = 0;

	why[0] = 0;
	if (strcmp(b->model, r->machine->model))
		differs(why, n, &count,
			"machine model: baseline \"%s\", now "
			"\"%s\"",
			b->model, r->machine->model);
	for (i = 0; i < IK_ARRAY_SIZE(config_keys); i++) {
		json_t *x = json_object_get(b->config, config_keys[i]),
		       *y = json_object_get(cur, config_keys[i]);

		if (!json_equal(x, y)) {
			char *xs = x ? json_dumps(x, JSON_COMPACT |
							     JSON_ENCODE_ANY)
				     : NULL;
			char *ys = y ? json_dumps(y, JSON_COMPACT |
							     JSON_ENCODE_ANY)
				     : NULL;

			differs(why, n, &count,
				"config %s: baseline %.40s, now %.40s",
				config_keys[i], xs ? xs : "absent",
				ys ? ys : "absent");
			free(xs);
			free(ys);
		}
	}
	json_decref(cur);
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_base_cell *c = find_cell(b, res, NULL);
		char cell[64];

		ik_cell_name(res, cell, sizeof(cell));
		if (!c)
			differs(why, n, &count, "%s %s: not in the baseline",
				res->ops->name, cell);
		else if (strcmp(c->relation, ik_relation_key(res->pair.rel)))
			differs(why, n, &count,
				"%s %s: pair relation: baseline %s, now %s",
				res->ops->name, cell, c->relation,
				ik_relation_key(res->pair.rel));
	}
	return count;
}

/*
 * One metric's repeat values on both sides into base[] and cur[]; with
 * norm, each divided by the norm method's value in the same repeat.
 */
static void columns(const struct ik_base_cell *c, const struct ik_result *res,
		    const struct ik_base_cell *nc, const struct ik_result *nr,
		    int m, double *base, double *cur)
{
	unsigned k;

	for (k = 0; k < c->k; k++) {
		base[k] = c->v[k * IK_NMETRICS + (unsigned)m];
		if (nc)
			base[k] /= nc->v[k * IK_NMETRICS + (unsigned)m];
	}
	for (k = 0; k < res->repeats; k++) {
		cur[k] = ik_rep_value(res, k, m);
		if (nr)
			cur[k] /= ik_rep_value(nr, k, m);
	}
}

/*
 * The smallest change of metric m a clock can show: latencies are read
 * in ticks of r->timer, so two ticks (as a ratio to the norm method's
 * median when normalised); CPU and rates are sums over many messages.
 */
static double min_delta(const struct ik_report *r, const struct ik_result *nr,
			int m)
{
	double q[1024], two = r->timer ? 2 * r->timer->resolution_ns : 0;
	unsigned k;

	if (ik_metric_infos[m].dim != IK_DIM_TIME || m == IK_M_CPU ||
	    m == IK_M_MEAN)
		return 0;
	if (!nr)
		return two;
	for (k = 0; k < nr->repeats && k < 1024; k++)
		q[k] = ik_rep_value(nr, k, m);
	return two / ik_median(q, k);
}

/* How many of a cell's k repeats have metric m; the first at 0 or below. */
static unsigned present(const double *v, unsigned k, int m, unsigned *zero)
{
	unsigned r, n = 0;

	*zero = 0;
	for (r = 0; r < k; r++) {
		double x = v[(size_t)r * IK_NMETRICS + (unsigned)m];

		if (isnan(x))
			continue;
		n++;
		if (!(x > 0) && !*zero)
			*zero = r + 1;
	}
	return n;
}

/* The first repeat where m is measured but norm's value is not usable. */
static unsigned bad_norm(const double *v, const double *nv, unsigned k, int m)
{
	unsigned r;

	for (r = 0; r < k; r++) {
		size_t at = (size_t)r * IK_NMETRICS + (unsigned)m;

		if (!isnan(v[at]) && !(isfinite(nv[at]) && nv[at] > 0))
			return r + 1;
	}
	return 0;
}

static unsigned finite_count(const double *x, unsigned n)
{
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		k += isfinite(x[i]) != 0;
	return k;
}

/*
 * Why metric m of this cell cannot be compared, into why; false when it
 * can. The gate fails closed: a check that cannot be made is a failed
 * check with its reason, never "unchanged".
 */
static bool unusable(const struct ik_base_cell *c, const struct ik_result *res,
		     const struct ik_base_cell *nc, const struct ik_result *nr,
		     const char *norm, int m, const double *base,
		     const double *cur, char *why, size_t n)
{
	const char *name = ik_metric_infos[m].name;
	unsigned zb, zc, nb = present(c->v, c->k, m, &zb),
			 ncur = present(res->rep_v, res->repeats, m, &zc), r;

	if (!nb)
		snprintf(why, n, "%s not in the baseline, measured now", name);
	else if (!ncur)
		snprintf(why, n, "%s not measured now, in the baseline", name);
	else if (zc)
		snprintf(why, n, "%s is 0 in repeat %u now: not a measurement",
			 name, zc);
	else if (zb)
		snprintf(why, n, "%s is 0 in the baseline's repeat %u", name,
			 zb);
	else if (nr && (r = bad_norm(res->rep_v, nr->rep_v, res->repeats, m)))
		snprintf(why, n, "%s's %s missing or 0 in repeat %u now", norm,
			 name, r);
	else if (nc && (r = bad_norm(c->v, nc->v, c->k, m)))
		snprintf(why, n,
			 "%s's %s missing or 0 in the baseline's "
			 "repeat %u",
			 norm, name, r);
	else if ((r = finite_count(cur, res->repeats)) < IK_MIN_REPEATS)
		snprintf(why, n, "%s in only %u repeat%s now; needs %d", name,
			 r, r == 1 ? "" : "s", IK_MIN_REPEATS);
	else if ((r = finite_count(base, c->k)) < IK_MIN_REPEATS)
		snprintf(why, n,
			 "%s in only %u repeat%s of the baseline; "
			 "needs %d",
			 name, r, r == 1 ? "" : "s", IK_MIN_REPEATS);
	else
		return false;
	return true;
}

/* A median for the summary: the metric's unit, or a ratio to norm. */
static void fmt_side(char *b, size_t n, double v, int m, const char *norm)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else if (norm)
		snprintf(b, n, "%.3f x %s", v, norm);
	else
		ik_fmt_metric(b, n, v, m);
}

/*
 * Metric m of res's cell against the baseline's c (each divided by the
 * norm method's nr / nc when normalising): one row into g. 1 when it
 * was a check, 0 when neither side measures it, -ENOMEM. base and cur
 * have room for MAX_REPEATS values.
 */
static int compare_metric(const struct ik_report *r,
			  const struct ik_base_cell *c,
			  const struct ik_result *res,
			  const struct ik_base_cell *nc,
			  const struct ik_result *nr, const char *norm,
			  const char *cell, int m, double max_regress,
			  struct ik_gate_log *g, double *base, double *cur)
{
	const struct ik_metric_info *mi = &ik_metric_infos[m];
	struct ik_gate_row *row;
	struct ik_verdict v;
	unsigned z;
	int ret;

	if (!mi->compared)
		return 0;
	/* neither side measures it (a stream without latency, a rate
	 * with --gap): not a check */
	if (!present(c->v, c->k, m, &z) &&
	    !present(res->rep_v, res->repeats, m, &z))
		return 0;
	columns(c, res, nc, nr, m, base, cur);
	row = ik_gate_log_add(g);
	if (!row)
		return -ENOMEM;
	g->checked++;
	snprintf(row->what, sizeof(row->what), "%s [%s] %s%s%s", res->ops->name,
		 cell, m == IK_M_MSGS ? "msgs/s" : mi->name, norm ? " / " : "",
		 norm ? norm : "");
	fmt_side(row->value, sizeof(row->value), ik_median(cur, res->repeats),
		 m, norm);
	fmt_side(row->against, sizeof(row->against), ik_median(base, c->k), m,
		 norm);
	ret = unusable(c, res, nc, nr, norm, m, base, cur, row->detail,
		       sizeof(row->detail))
		      ? -EDOM
		      : ik_verdict(base, c->k, cur, res->repeats,
				   mi->higher_better, max_regress,
				   min_delta(r, nr, m), &v);
	if (ret == -ENOMEM)
		return -ENOMEM;
	if (ret) {
		/* unusable() said why, or no ratio exists */
		if (!row->detail[0])
			snprintf(row->detail, sizeof(row->detail),
				 "no ratio: a median is 0");
		snprintf(row->verdict, sizeof(row->verdict), "FAIL");
		row->failed = true;
		g->failed++;
		return 1;
	}
	snprintf(row->verdict, sizeof(row->verdict), "%s",
		 ik_verdict_name(v.kind));
	snprintf(row->detail, sizeof(row->detail), "x%.3f [%.3f, %.3f]%s",
		 v.ratio, v.lo, v.hi,
		 v.below_delta	 ? " within 2 clock ticks"
		 : v.significant ? ""
				 : " not significant");
	row->failed = v.kind == IK_REGRESSED;
	g->failed += row->failed;
	return 1;
}

int ik_baseline_compare(const struct ik_baseline *b, const struct ik_report *r,
			double max_regress, const char *norm,
			struct ik_gate_log *g, char *err, size_t errlen)
{
	double cur[MAX_REPEATS], base[MAX_REPEATS];
	unsigned i, checks = 0, matched = 0, itself = 0;
	int m;

	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i], *nr = NULL;
		const struct ik_base_cell *c = find_cell(b, res, NULL),
					  *nc = NULL;
		char cell[64];

		if (!c || !c->ok || res->err || !res->rep_v)
			continue;
		if (c->k < IK_MIN_REPEATS || res->repeats < IK_MIN_REPEATS)
			return bad(err, errlen,
				   "%s %s: %u repeats in the baseline, %u "
				   "now; a verdict needs at least %d on each "
				   "side (--repeat 5)",
				   res->ops->name, c->key.mode, c->k,
				   res->repeats, IK_MIN_REPEATS);
		if (c->k > MAX_REPEATS || res->repeats > MAX_REPEATS)
			return bad(err, errlen,
				   "%s %s: %u repeats in the baseline, %u "
				   "now; at most %u are compared",
				   res->ops->name, c->key.mode, c->k,
				   res->repeats, MAX_REPEATS);
		if (norm) {
			if (!strcmp(res->ops->name, norm)) {
				itself++;
				continue; /* itself: always 1 */
			}
			nr = find_result(r, res, norm);
			nc = find_cell(b, res, norm);
			if (!nr || !nr->rep_v || !nc || !nc->ok ||
			    nc->k != c->k || nr->repeats != res->repeats)
				return bad(err, errlen,
					   "--normalize %s: needs %s measured "
					   "in the same cells and repeats as "
					   "%s, here and in the baseline",
					   norm, norm, res->ops->name);
		}
		matched++;
		ik_cell_name(res, cell, sizeof(cell));
		for (m = 0; m < IK_NMETRICS; m++) {
			int ret = compare_metric(r, c, res, nc, nr, norm, cell,
						 m, max_regress, g, base, cur);

			if (ret < 0)
				return bad(err, errlen, "out of memory");
			checks += (unsigned)ret;
		}
	}
	if (checks)
		return (int)checks;
	if (!r->nresults)
		snprintf(err, errlen, "this run has no results");
	else if (!matched && !itself)
		snprintf(err, errlen,
			 "none of this run's %u cells is in the baseline",
			 r->nresults);
	else if (!matched)
		snprintf(err, errlen,
			 "only --normalize %s's own cells matched, and a "
			 "method over itself is always 1",
			 norm);
	else
		snprintf(err, errlen,
			 "p50, p99, msgs and cpu are measured on neither side "
			 "in the %u matching cell%s",
			 matched, matched == 1 ? "" : "s");
	return 0;
}
