/* SPDX-License-Identifier: MIT */
/*
 * --baseline FILE, comparing: find each result's cell in a baseline by
 * its key (baseline_read.c read and checked it), never by its position,
 * refuse one measured elsewhere (ik_baseline_incompatible; --append:
 * ik_baseline_mismatch), let --repeat fold the saved repeats in, and
 * compare this run with it metric by metric into the gate's log, naming
 * the cells only one side has.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "baseline.h"
#include "gate.h"
#include "reports.h"
#include "writers.h"

/*
 * c is res's cell, measured with method (res's own when NULL). CPU
 * numbers are this host's, so they are compared only where they tell
 * cells apart: in a --matrix run, or a baseline whose cells differ only
 * in their CPUs (0->1 and 1->0 are two cells, never one).
 */
static bool cell_is(const struct ik_base_cell *c, const struct ik_result *res,
		    const char *method, bool matrix)
{
	struct ik_cell_key k;

	ik_cell_key_of(res, &k);
	if (method)
		snprintf(k.method, sizeof(k.method), "%s", method);
	return ik_cell_key_eq(&c->key, &k,
			      c->by_cpus || matrix ? IK_CF_KERNEL
						   : IK_CELL_BASELINE);
}

static const struct ik_base_cell *find_cell(const struct ik_baseline *b,
					    const struct ik_result *res,
					    const char *method, bool matrix)
{
	unsigned i;

	for (i = 0; i < b->ncells; i++)
		if (cell_is(&b->cells[i], res, method, matrix))
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
		const struct ik_base_cell *c = find_cell(b, res, NULL, false);
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

/*
 * The settings that make two runs' numbers comparable at all: one value
 * per run, the same in every cell, and no cell key says them.
 */
static const char *const settings[] = {
	"kernel", "verify", "wait", "gap_mode", "iters", "duration_ns", "rate",
};

/*
 * The lists a run sweeps: each value is part of a cell's key, so cells
 * are matched by key whatever the order on the command line.
 */
static const char *const dimensions[] = {
	"methods", "modes",   "sizes",	  "buffers",
	"gaps_ns", "servers", "works_ns", "pairs",
};

/* x and y as compact JSON into the why of a difference (free both). */
static void config_differs(char *why, size_t n, unsigned *count,
			   const char *key, json_t *x, json_t *y,
			   const char *because)
{
	char *xs = x ? json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	char *ys = y ? json_dumps(y, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	differs(why, n, count, "config %s: baseline %.40s, now %.40s%s", key,
		xs ? xs : "absent", ys ? ys : "absent", because);
	free(xs);
	free(ys);
}

/* How many of a's values are in b (JSON arrays; anything else: 0). */
static size_t shared(json_t *a, json_t *b)
{
	size_t i, j, n = 0;
	json_t *x, *y;

	json_array_foreach(a, i, x)
	{
		json_array_foreach(b, j, y)
		{
			if (json_equal(x, y)) {
				n++;
				break;
			}
		}
	}
	return n;
}

/*
 * The machine and the run-wide configuration. strict (--append): every
 * dimension holds the same values, in any order; otherwise (--baseline)
 * a dimension differs only when no value is on both sides, since then
 * no cell can match.
 */
static void config_mismatch(const struct ik_baseline *b,
			    const struct ik_report *r, bool strict, char *why,
			    size_t n, unsigned *count)
{
	json_t *cur = ik_config_json(r);
	const char *q = ik_machine_qos_name(r->machine);
	unsigned i;

	if (strcmp(b->model, r->machine->model))
		differs(why, n, count,
			"machine model: baseline \"%s\", now "
			"\"%s\"",
			b->model, r->machine->model);
	/* idle states held off or not: a blocking cell between two vCPUs
	 * is ~10x apart (docs/harness-cost.md); unknown (not root) and
	 * files from before the field say nothing */
	if (b->qos[0] && strcmp(b->qos, "unknown") && strcmp(q, "unknown") &&
	    strcmp(b->qos, q))
		differs(why, n, count,
			"CPU latency QoS: baseline %s, now %s (--cpu-latency)",
			b->qos, q);
	for (i = 0; i < IK_ARRAY_SIZE(settings); i++) {
		json_t *x = json_object_get(b->config, settings[i]),
		       *y = json_object_get(cur, settings[i]);

		if (!json_equal(x, y))
			config_differs(why, n, count, settings[i], x, y, "");
	}
	for (i = 0; i < IK_ARRAY_SIZE(dimensions); i++) {
		json_t *x = json_object_get(b->config, dimensions[i]),
		       *y = json_object_get(cur, dimensions[i]);
		size_t nx = json_array_size(x), ny = json_array_size(y);

		if (strict && (!x) != (!y))
			config_differs(why, n, count, dimensions[i], x, y, "");
		else if (strict && (shared(x, y) != nx || shared(y, x) != ny))
			config_differs(why, n, count, dimensions[i], x, y, "");
		else if (!strict && nx && ny && !shared(x, y))
			config_differs(why, n, count, dimensions[i], x, y,
				       ": no value in common, no cell can "
				       "match");
	}
	json_decref(cur);
}

/* Whether any result of r is the baseline's cell c. */
static bool measured(const struct ik_base_cell *c, const struct ik_report *r)
{
	unsigned i;

	for (i = 0; i < r->nresults; i++)
		if (!r->results[i].err &&
		    cell_is(c, &r->results[i], NULL, r->matrix))
			return true;
	return false;
}

/* " cpus 0,1" after the name in b, when the CPUs tell cells apart
 * (cell_is) and are known. */
static void add_cpus(char *b, size_t n, const struct ik_cell_key *k, bool cpus)
{
	size_t u = strlen(b);

	if (cpus && k->cpu[0] >= 0 && u < n)
		snprintf(b + u, n - u, " cpus %d,%d", k->cpu[0], k->cpu[1]);
}

/* "spsc [thread 8 B]": a baseline cell as the gate's rows name cells. */
static void base_cell_name(const struct ik_base_cell *c, char *b, size_t n)
{
	char label[160];

	ik_cell_key_name(&c->key, IK_CELL_NAME_LABEL, label, sizeof(label));
	add_cpus(label, sizeof(label), &c->key, c->by_cpus);
	snprintf(b, n, "%s [%s]", c->key.method, label);
}

/* The same for a result of r. */
static void res_cell_name(const struct ik_result *res, bool cpus, char *b,
			  size_t n)
{
	struct ik_cell_key k;

	ik_cell_key_of(res, &k);
	ik_cell_key_name(&k, IK_CELL_NAME_LABEL, b, n);
	add_cpus(b, n, &k, cpus);
}

/*
 * Each cell measured on both sides whose pair relation differs; with
 * strict, also each cell on one side only.
 */
static void cell_mismatch(const struct ik_baseline *b,
			  const struct ik_report *r, bool strict, char *why,
			  size_t n, unsigned *count)
{
	unsigned i;

	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_base_cell *c =
			find_cell(b, res, NULL, r->matrix);
		char cell[64];

		ik_cell_name(res, cell, sizeof(cell));
		if (!c && strict)
			differs(why, n, count, "%s %s: not in the baseline",
				res->ops->name, cell);
		else if (c &&
			 strcmp(c->relation, ik_relation_key(res->pair.rel)))
			differs(why, n, count,
				"%s %s: pair relation: baseline %s, now %s",
				res->ops->name, cell, c->relation,
				ik_relation_key(res->pair.rel));
	}
	for (i = 0; strict && r->nresults && i < b->ncells; i++) {
		char cell[200];

		if (measured(&b->cells[i], r))
			continue;
		base_cell_name(&b->cells[i], cell, sizeof(cell));
		differs(why, n, count, "%s: in the baseline, not measured now",
			cell);
	}
}

unsigned ik_baseline_mismatch(const struct ik_baseline *b,
			      const struct ik_report *r, char *why, size_t n)
{
	unsigned count = 0;

	why[0] = 0;
	config_mismatch(b, r, true, why, n, &count);
	cell_mismatch(b, r, true, why, n, &count);
	return count;
}

unsigned ik_baseline_incompatible(const struct ik_baseline *b,
				  const struct ik_report *r, char *why,
				  size_t n)
{
	unsigned count = 0;

	why[0] = 0;
	config_mismatch(b, r, false, why, n, &count);
	cell_mismatch(b, r, false, why, n, &count);
	return count;
}

/* Whether the run's sweep measures the baseline cell key (one pair
 * per cell: no class, no concurrent pairs). */
static bool swept(const struct ik_cell_key *k, const struct ik_sweep *sw)
{
	bool m = false, mo = false, z = false, bu = false, ga = false,
	     se = !k->server[0], cl = !k->clients, wo = !k->work_ns,
	     wa = !k->wait[0];
	unsigned i;

	if (k->cls[0] || k->npairs > 1)
		return false;
	for (i = 0; i < sw->nmethods; i++)
		m |= !strcmp(sw->methods[i]->name, k->method);
	for (i = 0; i < sw->nmodes; i++)
		mo |= !strcmp(ik_mode_name(sw->modes[i]), k->mode);
	for (i = 0; i < sw->nsizes; i++)
		z |= sw->sizes[i] == k->size;
	for (i = 0; i < sw->nbuffers; i++)
		bu |= sw->buffers[i] == k->buffer;
	for (i = 0; i < sw->ngaps; i++)
		ga |= sw->gaps[i] == k->gap_ns;
	for (i = 0; i < sw->nservers; i++)
		se |= !strcmp(ik_server_names[sw->servers[i]], k->server);
	for (i = 0; i < sw->nclients; i++)
		cl |= sw->clients[i] == k->clients;
	for (i = 0; i < sw->nworks; i++)
		wo |= sw->works[i] == k->work_ns;
	for (i = 0; sw->wait_given && i < sw->nwaits; i++)
		wa |= !strcmp(ik_wait_name(sw->waits[i]), k->wait);
	return m && mo && z && bu && ga && se && cl && wo && wa;
}

unsigned ik_baseline_relation_differs(const struct ik_baseline *b,
				      const struct ik_report *r,
				      const struct ik_pair *pair, char *why,
				      size_t n)
{
	const char *now = ik_relation_key(pair->rel);
	unsigned i, count = 0;

	why[0] = 0;
	for (i = 0; i < b->ncells; i++) {
		const struct ik_base_cell *c = &b->cells[i];
		char cell[200];

		if (!swept(&c->key, r->sweep) || !strcmp(c->relation, now) ||
		    (c->by_cpus && (c->key.cpu[0] != pair->cpu[0] ||
				    c->key.cpu[1] != pair->cpu[1])))
			continue;
		base_cell_name(c, cell, sizeof(cell));
		differs(why, n, &count,
			"%s: pair relation: baseline %s, now %s", cell,
			c->relation, now);
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

/* A cell on one side only: a row saying so, neither a check nor failed. */
static int one_side_row(struct ik_gate_log *g, const char *cell,
			const char *verdict, const char *detail)
{
	struct ik_gate_row *row = ik_gate_log_add(g);

	if (!row)
		return -ENOMEM;
	snprintf(row->what, sizeof(row->what), "%s", cell);
	snprintf(row->value, sizeof(row->value), "-");
	snprintf(row->against, sizeof(row->against), "-");
	snprintf(row->verdict, sizeof(row->verdict), "%s", verdict);
	snprintf(row->detail, sizeof(row->detail), "%s", detail);
	return 0;
}

/*
 * Cells are matched by key, so a run and a baseline may hold different
 * cells: each one on a single side gets a row naming it. Neither fails
 * the gate: a new cell has nothing to compare with, and a cell left out
 * of this run is the command's choice (a CI job runs the same command as
 * the baseline's, so its cells vanish only when that command changes).
 * Comparing nothing at all still fails. 0 or -ENOMEM.
 */
static int one_side(const struct ik_baseline *b, const struct ik_report *r,
		    struct ik_gate_log *g)
{
	unsigned i;

	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		char label[160], cell[200];

		if (res->err || find_cell(b, res, NULL, r->matrix))
			continue;
		res_cell_name(res, r->matrix, label, sizeof(label));
		snprintf(cell, sizeof(cell), "%s [%s]", res->ops->name, label);
		if (one_side_row(g, cell, "new",
				 "not in the baseline: nothing to compare"))
			return -ENOMEM;
	}
	for (i = 0; i < b->ncells; i++) {
		char cell[200];

		if (measured(&b->cells[i], r))
			continue;
		base_cell_name(&b->cells[i], cell, sizeof(cell));
		if (one_side_row(g, cell, "missing",
				 "in the baseline, not measured now"))
			return -ENOMEM;
	}
	return 0;
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
		const struct ik_base_cell *c = find_cell(b, res, NULL,
							 r->matrix),
					  *nc = NULL;
		char cell[160];

		if (!c || !c->ok || res->err || !res->rep_v)
			continue;
		if (c->k < IK_MIN_REPEATS || res->repeats < IK_MIN_REPEATS)
			return ik_baseline_bad(
				err, errlen,
				"%s %s: %u repeats in the baseline, %u "
				"now; a verdict needs at least %d on each "
				"side (--repeat 5)",
				res->ops->name, c->key.mode, c->k, res->repeats,
				IK_MIN_REPEATS);
		if (c->k > MAX_REPEATS || res->repeats > MAX_REPEATS)
			return ik_baseline_bad(
				err, errlen,
				"%s %s: %u repeats in the baseline, %u "
				"now; at most %u are compared",
				res->ops->name, c->key.mode, c->k, res->repeats,
				MAX_REPEATS);
		if (norm) {
			if (!strcmp(res->ops->name, norm)) {
				itself++;
				continue; /* itself: always 1 */
			}
			nr = find_result(r, res, norm);
			nc = find_cell(b, res, norm, r->matrix);
			if (!nr || !nr->rep_v || !nc || !nc->ok ||
			    nc->k != c->k || nr->repeats != res->repeats)
				return ik_baseline_bad(
					err, errlen,
					"--normalize %s: needs %s measured "
					"in the same cells and repeats as "
					"%s, here and in the baseline",
					norm, norm, res->ops->name);
		}
		matched++;
		res_cell_name(res, r->matrix || c->by_cpus, cell, sizeof(cell));
		for (m = 0; m < IK_NMETRICS; m++) {
			int ret = compare_metric(r, c, res, nc, nr, norm, cell,
						 m, max_regress, g, base, cur);

			if (ret < 0)
				return ik_baseline_bad(err, errlen,
						       "out of memory");
			checks += (unsigned)ret;
		}
	}
	if (one_side(b, r, g))
		return ik_baseline_bad(err, errlen, "out of memory");
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
