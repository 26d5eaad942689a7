/* SPDX-License-Identifier: MIT */
/*
 * --baseline FILE, reading it: a saved result (schema IK_SCHEMA, or the
 * one before it, IK_SCHEMA_PREV, whose metrics had other keys: the
 * metric table's v1), with every cell's per-repeat metrics, into struct
 * ik_baseline. The file may
 * be anything (a truncated upload, someone else's JSON, a hostile blob),
 * so the reader checks every type and range before it keeps a value, and
 * stops at IK_BASELINE_MAX_BYTES; jansson bounds the nesting depth.
 * Comparing it with this run is baseline.c.
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
#include "baseline.h"
#include "gate.h"
#include "reports.h"

#define MAX_CELLS 100000

int ik_baseline_bad(char *err, size_t n, const char *fmt, ...)
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
				return ik_baseline_bad(
					err, n,
					"result %u (%s): %s is 0 in repeat "
					"%u: not a measurement, and no "
					"ratio can be taken against it",
					idx, name, ik_metric_infos[m].name,
					r + 1);
			any = true;
		}
	}
	if (!any)
		return ik_baseline_bad(
			err, n,
			"result %u (%s): no p50, p99, msgs or cpu value in "
			"any repeat (all null): nothing to compare with",
			idx, name);
	return 0;
}

/* The cell's "repeats.metrics": k values per metric, null for missing;
 * prev: the file is IK_SCHEMA_PREV. */
static int read_repeats(json_t *res, struct ik_base_cell *c, bool prev,
			char *err, size_t n, unsigned idx)
{
	json_t *rep = json_object_get(res, "repeats"), *ms, *mv, *vals;
	uint64_t k;
	int m;

	ms = json_object_get(rep, "metrics");
	if (!json_is_object(rep) || ik_json_uint(rep, "count", &k) || !k ||
	    !json_is_object(ms))
		return ik_baseline_bad(
			err, n,
			"result %u: no per-repeat metrics (\"repeats\"); "
			"save baselines with ipckern --save-baseline",
			idx);
	if (k > MAX_REPEATS)
		return ik_baseline_bad(
			err, n,
			"result %u: %llu repeats; a baseline keeps at most "
			"the newest %u (--append drops older ones): save "
			"it again with --save-baseline",
			idx, (unsigned long long)k, MAX_REPEATS);
	c->k = (unsigned)k;
	c->v = malloc(k * IK_NMETRICS * sizeof(*c->v));
	if (!c->v)
		return ik_baseline_bad(err, n, "out of memory");
	for (size_t i = 0; i < k * IK_NMETRICS; i++)
		c->v[i] = NAN;
	for (m = 0; m < IK_NMETRICS; m++) {
		size_t r;

		mv = json_object_get(ms, prev ? ik_metric_infos[m].v1
					      : ik_metric_infos[m].key);
		if (!mv)
			continue;
		vals = json_object_get(mv, "values");
		if (!json_is_object(mv) || !json_is_array(vals) ||
		    json_array_size(vals) != k)
			return ik_baseline_bad(
				err, n,
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
				return ik_baseline_bad(
					err, n,
					"result %u: metric %s: value %zu "
					"is not a number from 0 to 1e18",
					idx, ik_metric_infos[m].name, r + 1);
			c->v[r * IK_NMETRICS + (size_t)m] = d;
		}
	}
	return check_cell(c, err, n, idx);
}

static int read_cell(json_t *res, struct ik_base_cell *c, int kernel, bool prev,
		     char *err, size_t n, unsigned idx)
{
	json_t *pair = json_object_get(res, "pair");
	char status[16];
	int key = ik_cell_key_from_json(res, kernel, &c->key);

	if (key == -EINVAL ||
	    ik_json_str(res, "status", status, sizeof(status), true) ||
	    !json_is_object(pair) ||
	    ik_json_str(pair, "relation", c->relation, sizeof(c->relation),
			true))
		return ik_baseline_bad(
			err, n,
			"result %u: needs method, mode, size, buffer, "
			"gap_ns, status and pair.relation of the right "
			"types",
			idx);
	if (key)
		return ik_baseline_bad(err, n, "result %u: bad pair_number",
				       idx);
	c->ok = !strcmp(status, "ok");
	if (!c->ok) {
		char name[160];

		/* a run with a failed cell saves nothing: this was edited
		 * or comes from elsewhere, and would compare nothing */
		base_name(c, name, sizeof(name));
		return ik_baseline_bad(
			err, n,
			"result %u (%s): status \"%s\", not \"ok\": a "
			"baseline holds only cells that ran",
			idx, name, status);
	}
	return read_repeats(res, c, prev, err, n, idx);
}

/* Orders cells by every key field, the CPUs last. */
static int key_cmp(const void *x, const void *y)
{
	const struct ik_cell_key
		*a = &(*(const struct ik_base_cell *const *)x)->key,
		*b = &(*(const struct ik_base_cell *const *)y)->key;
	int d;

#define CMP(f) ((a->f > b->f) - (a->f < b->f))
	if ((d = CMP(kernel)) || (d = strcmp(a->method, b->method)) ||
	    (d = strcmp(a->mode, b->mode)) || (d = CMP(size)) ||
	    (d = CMP(buffer)) || (d = CMP(gap_ns)) ||
	    (d = strcmp(a->server, b->server)) || (d = CMP(clients)) ||
	    (d = CMP(work_ns)) || (d = strcmp(a->cls, b->cls)) ||
	    (d = CMP(npairs)) || (d = CMP(pair_index)) ||
	    (d = strcmp(a->wait, b->wait)) ||
	    (d = strcmp(a->spin_budget, b->spin_budget)))
		return d;
	return (d = CMP(cpu[0])) ? d : CMP(cpu[1]);
#undef CMP
}

/*
 * Cells that differ only in their CPUs (a --matrix baseline) are matched
 * by CPUs too (by_cpus); two cells with one key, CPUs and all, are
 * refused: no run could say which of them it is. Sorted, so a file of
 * MAX_CELLS cells costs n log n, not n^2.
 */
static int by_cpus(struct ik_baseline *b, char *err, size_t n)
{
	struct ik_base_cell **s = calloc(b->ncells, sizeof(*s));
	unsigned i;
	int ret = 0;

	if (!s)
		return ik_baseline_bad(err, n, "out of memory");
	for (i = 0; i < b->ncells; i++)
		s[i] = &b->cells[i];
	qsort(s, b->ncells, sizeof(*s), key_cmp);
	for (i = 1; i < b->ncells && !ret; i++) {
		char name[160];

		if (!ik_cell_key_eq(&s[i - 1]->key, &s[i]->key, IK_CF_CPUS))
			continue;
		s[i - 1]->by_cpus = s[i]->by_cpus = true;
		if (!ik_cell_key_eq(&s[i - 1]->key, &s[i]->key, 0))
			continue;
		base_name(s[i], name, sizeof(name));
		ret = ik_baseline_bad(err, n,
				      "results %u and %u: one cell (%s, CPUs "
				      "%d,%d) twice; no run can say which "
				      "it is",
				      (unsigned)(s[i - 1] - b->cells) + 1,
				      (unsigned)(s[i] - b->cells) + 1, name,
				      s[i]->key.cpu[0], s[i]->key.cpu[1]);
	}
	free(s);
	return ret;
}

int ik_baseline_parse(const char *buf, size_t len, struct ik_baseline *b,
		      char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *results, *machine;
	char schema[32];
	unsigned i;
	int ret, kernel;
	bool prev;

	memset(b, 0, sizeof(*b));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return ik_baseline_bad(err, errlen, "not JSON (line %d: %s)",
				       je.line, je.text);
	ret = ik_baseline_bad(err, errlen,
			      "not an ipckern result (no \"schema\")");
	if (!json_is_object(root) ||
	    ik_json_str(root, "schema", schema, sizeof(schema), true))
		goto out;
	prev = !strcmp(schema, IK_SCHEMA_PREV);
	if (strcmp(schema, IK_SCHEMA) && !prev) {
		ret = ik_baseline_bad(err, errlen,
				      "schema \"%s\"; this ipckern reads "
				      "\"%s\" and \"%s\"",
				      schema, IK_SCHEMA, IK_SCHEMA_PREV);
		goto out;
	}
	machine = json_object_get(root, "machine");
	results = json_object_get(root, "results");
	b->config = json_incref(json_object_get(root, "config"));
	ret = ik_baseline_bad(err, errlen,
			      "needs machine.model_name, config and results[]");
	if (!json_is_object(machine) ||
	    ik_json_str(machine, "model_name", b->model, sizeof(b->model),
			true) ||
	    !json_is_object(b->config) || !json_is_array(results))
		goto out;
	ik_json_str(root, "created", b->created, sizeof(b->created), false);
	ik_json_str(machine, "cpu_latency_qos", b->qos, sizeof(b->qos), false);
	kernel = ik_cell_kernel_by_name(
		json_string_value(json_object_get(b->config, "kernel")));
	if (!json_array_size(results) || json_array_size(results) > MAX_CELLS) {
		ret = ik_baseline_bad(err, errlen,
				      "results: needs 1 to %u entries",
				      MAX_CELLS);
		goto out;
	}
	b->cells = calloc(json_array_size(results), sizeof(*b->cells));
	if (!b->cells) {
		ret = ik_baseline_bad(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < json_array_size(results); i++) {
		b->ncells++;
		ret = read_cell(json_array_get(results, i), &b->cells[i],
				kernel, prev, err, errlen, i + 1);
		if (ret)
			goto out;
	}
	ret = by_cpus(b, err, errlen);
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
		return ik_baseline_bad(
			err, errlen,
			"%s, not a regular file: a baseline is a file "
			"written by --save-baseline",
			ik_file_kind(mode));
	if (ret == -EFBIG)
		return ik_baseline_bad(err, errlen,
				       "larger than %u MiB: not a baseline",
				       IK_BASELINE_MAX_BYTES >> 20);
	if (ret == -ENOMEM)
		return ik_baseline_bad(err, errlen, "out of memory");
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
