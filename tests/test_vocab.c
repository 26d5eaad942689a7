/* SPDX-License-Identifier: MIT */
/*
 * One vocabulary (issue 18 items 2, 3): the CSV of the runs whose cells
 * differ by more than method and size (echo's servers, call's work,
 * --pairs, --classes) read back with an RFC 4180 reader and grouped by
 * its key columns alone; its quoting; and --baseline/--append reading a
 * baseline recorded by the previous schema (tests/data/baseline-
 * ipckern-1.json, saved by ipckern e46dea2: --method pipe,spsc --repeat 3
 * --iters 200 --warmup 20 --save-baseline); and --assert taking each
 * metric by its short name or its JSON key.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "affinity/affinity.h"
#include "ipc/ipc.h"
#include "reports/baseline.h"
#include "reports/gate.h"
#include "reports/reports.h"

#define V1 IK_TESTDATA "/baseline-ipckern-1.json"

/* ---- a small RFC 4180 reader ---- */

#define MAX_ROWS 512
#define MAX_COLS 64

struct csv {
	char *f[MAX_ROWS][MAX_COLS];
	unsigned ncols[MAX_ROWS], nrows;
};

/* One field at *p: quoted (its "" a quote) or bare; *p after it. */
static char *field(const char **p)
{
	size_t cap = strlen(*p) + 1, n = 0;
	char *out = malloc(cap);
	const char *s = *p;

	cr_assert_not_null(out);
	if (*s == '"') {
		for (s++;; s++) {
			cr_assert(*s, "a quoted field never closed");
			if (*s == '"' && s[1] == '"')
				out[n++] = *s++;
			else if (*s == '"')
				break;
			else
				out[n++] = *s;
		}
		s++;
		cr_assert(*s == ',' || *s == '\n' || *s == '\r' || !*s,
			  "text after a closing quote: %.20s", s);
	} else {
		for (; *s && *s != ',' && *s != '\n' && *s != '\r'; s++) {
			cr_assert(*s != '"', "a quote in a bare field: %.20s",
				  *p);
			out[n++] = *s;
		}
	}
	out[n] = 0;
	*p = s;
	return out;
}

static void csv_read(const char *s, struct csv *c)
{
	memset(c, 0, sizeof(*c));
	while (*s) {
		unsigned r = c->nrows++;

		cr_assert_lt(r, MAX_ROWS);
		for (;;) {
			cr_assert_lt(c->ncols[r], MAX_COLS);
			c->f[r][c->ncols[r]++] = field(&s);
			if (*s == ',') {
				s++;
				continue;
			}
			if (*s == '\r')
				s++;
			if (*s == '\n')
				s++;
			break;
		}
	}
}

static void csv_free(struct csv *c)
{
	for (unsigned r = 0; r < c->nrows; r++)
		for (unsigned k = 0; k < c->ncols[r]; k++)
			free(c->f[r][k]);
}

static int col(const struct csv *c, const char *name)
{
	for (unsigned k = 0; k < c->ncols[0]; k++)
		if (!strcmp(c->f[0][k], name))
			return (int)k;
	cr_assert_fail("no column %s", name);
	return -1;
}

/* The cell key: the columns a spreadsheet groups by. */
static const char *const key_cols[] = {
	"kernel",	 "method", "mode",   "server",	   "clients",
	"work_ns",	 "size",   "buffer", "wait",	   "gap_ns",
	"rate",		 "pair",   "pin_a",  "pin_b",	   "relation",
	"pairs_at_once", "class",  "repeat", "cross_numa",
};
/* Filled on every row of every kernel (wait: spsc's alone; buffer: when
 * asked, and echo's own). */
static const char *const always[] = {
	"kernel",	 "method",   "mode",   "size",	 "pair",
	"pairs_at_once", "relation", "repeat", "status",
};

/*
 * Run ipckern args with --format csv; read it back; every row as wide
 * as the header, its key complete (the always-columns and need[] not
 * empty), no two rows with the same key, and column vary holding
 * nvary distinct values.
 */
static void expect_groupable(const char *const *args, const char *const *need,
			     const char *vary, unsigned nvary)
{
	const char *argv[40];
	struct out o;
	struct csv c;
	char keys[MAX_ROWS][512], seen[16][64];
	unsigned r, i, n = 0, nseen = 0;

	for (i = 0; args[i]; i++)
		argv[i] = args[i];
	argv[i++] = "--format";
	argv[i++] = "csv";
	argv[i] = NULL;
	o = run(argv);
	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	csv_read(o.stdout_text, &c);
	cr_assert_gt(c.nrows, 2, "%s", o.stdout_text);
	for (r = 1; r < c.nrows; r++) {
		const char *v = c.f[r][col(&c, vary)];

		cr_expect_eq(c.ncols[r], c.ncols[0],
			     "row %u: %u fields, not %u", r, c.ncols[r],
			     c.ncols[0]);
		for (i = 0; i < sizeof(always) / sizeof(*always); i++)
			cr_expect(c.f[r][col(&c, always[i])][0],
				  "row %u: %s empty", r, always[i]);
		for (i = 0; need[i]; i++)
			cr_expect(c.f[r][col(&c, need[i])][0],
				  "row %u: %s empty", r, need[i]);
		keys[r][0] = 0;
		for (i = 0; i < sizeof(key_cols) / sizeof(*key_cols); i++) {
			strcat(keys[r], c.f[r][col(&c, key_cols[i])]);
			strcat(keys[r], "|");
		}
		for (i = 1; i < r; i++)
			cr_expect_str_neq(keys[i], keys[r],
					  "rows %u and %u: one key", i, r);
		for (i = 0; i < nseen && strcmp(seen[i], v); i++)
			;
		if (i == nseen && nseen < 16)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", v);
		n++;
	}
	cr_expect_eq(nseen, nvary, "%s: %u values, not %u:\n%s", vary, nseen,
		     nvary, o.stdout_text);
	csv_free(&c);
	free(o.stdout_text);
}

Test(csv, echo_rows_are_told_apart_by_server_and_clients, .timeout = 60)
{
	expect_groupable(
		(const char *const[]){"--kernel", "echo", "--method", "tcp",
				      "--server", "thread,epoll", "--clients",
				      "1,2", "--iters", "100", NULL},
		(const char *const[]){"server", "clients", NULL}, "server", 2);
}

/* echo's buffer is its own 64k when not asked (the table's 64k), a
 * pipe's not asked is empty: never a 0 that no one used */
Test(csv, buffer_says_what_was_used, .timeout = 60)
{
	static const char *const echo[] = {"--kernel", "echo",	  "--method",
					   "tcp",      "--iters", "50",
					   "--format", "csv",	  NULL};
	static const char *const pipe[] = {"--method", "pipe", "--iters", "50",
					   "--format", "csv",  NULL};
	struct out o;
	struct csv c;

	o = run(echo);
	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	csv_read(o.stdout_text, &c);
	cr_assert_gt(c.nrows, 1);
	cr_expect_str_eq(c.f[1][col(&c, "buffer")], "65536");
	csv_free(&c);
	free(o.stdout_text);
	o = run(pipe);
	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	csv_read(o.stdout_text, &c);
	cr_assert_gt(c.nrows, 1);
	cr_expect_str_eq(c.f[1][col(&c, "buffer")], "");
	csv_free(&c);
	free(o.stdout_text);
}

Test(csv, call_rows_are_told_apart_by_work, .timeout = 60)
{
	expect_groupable((const char *const[]){"--kernel", "call", "--method",
					       "spsc", "--work", "0,10us",
					       "--iters", "200", NULL},
			 (const char *const[]){"work_ns", NULL}, "work_ns", 2);
}

Test(csv, pair_rows_are_told_apart_by_pair_and_pairs_at_once, .timeout = 60)
{
	/* 1 pair, then 2 pairs and their sum: pair 1, 2, sum */
	expect_groupable((const char *const[]){"--method", "pipe", "--pairs",
					       "1,2", "--iters", "200", NULL},
			 (const char *const[]){"gap_ns", NULL}, "pair", 3);
}

Test(csv, class_rows_are_told_apart_by_class, .timeout = 60)
{
	struct ik_class_pair cp[IK_NCLASSES];
	struct ik_topo topo;
	unsigned present = 0;

	/* as many classes as this machine has pairs for */
	cr_assert_eq(ik_topo_load(&topo, NULL), 0);
	cr_assert_eq(ik_topo_classes(&topo, cp), 0);
	for (int k = 0; k < IK_NCLASSES; k++)
		present += cp[k].present;
	ik_topo_free(&topo);
	expect_groupable((const char *const[]){"--classes", "--method", "pipe",
					       "--iters", "200", NULL},
			 (const char *const[]){"class", "pin_a", "pin_b", NULL},
			 "class", present);
}

Test(csv, repeats_are_rows_of_their_own, .timeout = 60)
{
	/* the result's row ("all"), then repeats 1 and 2 */
	expect_groupable((const char *const[]){"--method", "pipe", "--repeat",
					       "2", "--iters", "200", NULL},
			 (const char *const[]){NULL}, "repeat", 3);
}

/* A field with a comma, a quote and a line break comes back whole. */
Test(csv, an_error_with_commas_quotes_and_newlines_reads_back_whole)
{
	static const char msg[] = "peer B: said \"no\", then\nleft";
	struct ik_config cfg = {0};
	struct ik_sweep sw = {0};
	struct ik_machine m = {0};
	struct ik_timer t = {0};
	struct ik_result res = {0};
	struct ik_report r = {0};
	struct csv c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	res.ops = ik_transport_find("pipe");
	res.cls = -1;
	res.err = -EIO;
	snprintf(res.errmsg, sizeof(res.errmsg), "%s", msg);
	r.cfg = &cfg;
	r.sweep = &sw;
	r.machine = &m;
	r.timer = &t;
	r.results = &res;
	r.nresults = 1;
	r.mem_node = -1;
	cr_assert_eq(ik_report_csv(&r, f), 0);
	fclose(f);
	csv_read(buf, &c);
	cr_assert_eq(c.nrows, 2, "%s", buf);
	cr_expect_eq(c.ncols[1], c.ncols[0]);
	cr_expect_str_eq(c.f[1][col(&c, "error")], msg);
	cr_expect_str_eq(c.f[1][col(&c, "status")], "error");
	/* nothing measured: empty, not 0 */
	cr_expect_str_eq(c.f[1][col(&c, "p50_ns")], "");
	cr_expect_str_eq(c.f[1][col(&c, "msgs_per_sec")], "");
	cr_expect_str_eq(c.f[1][col(&c, "pin_a")], "", "unpinned: no CPU");
	csv_free(&c);
	free(buf);
}

/* ---- the previous schema's baselines ---- */

/* The values of metric key in result i of a JSON file. */
static json_t *values_of(json_t *root, unsigned i, const char *key)
{
	json_t *res = json_array_get(json_object_get(root, "results"), i);

	return json_object_get(
		json_object_get(json_object_get(json_object_get(res, "repeats"),
						"metrics"),
				key),
		"values");
}

Test(baseline_v1, is_read_through_its_own_metric_keys)
{
	struct ik_baseline b;
	char err[256] = "";
	json_error_t je;
	json_t *root = json_load_file(V1, 0, &je);
	unsigned i, r;
	int m;

	cr_assert_not_null(root, "%s", je.text);
	cr_assert_str_eq(json_string_value(json_object_get(root, "schema")),
			 IK_SCHEMA_PREV);
	cr_assert_eq(ik_baseline_load(V1, &b, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(b.ncells, 2);
	for (i = 0; i < b.ncells; i++) {
		cr_expect_eq(b.cells[i].k, 3);
		for (m = 0; m < IK_NMETRICS; m++) {
			json_t *v = values_of(root, i, ik_metric_infos[m].v1);

			cr_expect_not_null(v, "%s", ik_metric_infos[m].v1);
			for (r = 0; v && r < b.cells[i].k; r++)
				cr_expect_float_eq(
					b.cells[i].v[r * IK_NMETRICS + m],
					json_number_value(json_array_get(v, r)),
					1e-9, "cell %u %s repeat %u", i,
					ik_metric_infos[m].key, r);
		}
	}
	ik_baseline_free(&b);
	json_decref(root);
}

Test(baseline_v1, another_schema_is_refused_naming_both_read)
{
	struct ik_baseline b;
	char err[256] = "";
	static const char doc[] = "{\"schema\": \"ipckern/0\"}";

	cr_expect_eq(
		ik_baseline_parse(doc, sizeof(doc) - 1, &b, err, sizeof(err)),
		-EINVAL);
	cr_expect(strstr(err, IK_SCHEMA) && strstr(err, IK_SCHEMA_PREV), "%s",
		  err);
}

Test(baseline_v1, a_run_compares_with_it_and_append_carries_its_repeats,
     .timeout = 60)
{
	char dir[] = "/tmp/ik-vocab-XXXXXX", copy[64], cmd[160];
	json_error_t je;
	json_t *root, *mine;
	struct out o;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(copy, sizeof(copy), "%s/base.json", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s", V1, copy);
	cr_assert_eq(system(cmd), 0);
	/* another machine may run this: --allow-mismatch; and the numbers
	 * are not the point: a verdict either way (exit 0 or 1), not a
	 * refusal (2), with the cell compared */
	o = run((const char *const[]){
		"--method", "pipe,spsc", "--iters", "200", "--warmup", "20",
		"--repeat", "3", "--baseline", V1, "--allow-mismatch", NULL});
	cr_expect(o.code == 0 || o.code == 1, "exit %d: %s", o.code, o.err);
	cr_expect(strstr(o.stdout_text, "pipe [thread 8 B] p50"), "%s\n%s",
		  o.stdout_text, o.err);
	free(o.stdout_text);
	/* --append refuses another machine model: make it this one's */
	o = run((const char *const[]){"--machine", "--format", "json", NULL});
	mine = json_loads(o.stdout_text, 0, &je);
	cr_assert_not_null(mine, "%s", je.text);
	free(o.stdout_text);
	root = json_load_file(copy, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	json_object_set(json_object_get(root, "machine"), "model_name",
			json_object_get(json_object_get(mine, "machine"),
					"model_name"));
	cr_assert_eq(json_dump_file(root, copy, JSON_INDENT(2)), 0);
	json_decref(root);
	json_decref(mine);
	o = run((const char *const[]){
		"--method", "pipe,spsc", "--iters", "200", "--warmup", "20",
		"--repeat", "2", "--save-baseline", copy, "--append", NULL});
	cr_expect_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	free(o.stdout_text);
	root = json_load_file(copy, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	cr_expect_str_eq(json_string_value(json_object_get(root, "schema")),
			 IK_SCHEMA, "written in this ipckern's schema");
	cr_expect_eq(json_array_size(values_of(root, 0, "p50_ns")), 5,
		     "3 repeats of the old file, then 2 of this run");
	json_decref(root);
	unlink(copy);
	rmdir(dir);
}

/* ---- --assert names ---- */

/* Every metric by its short name and by its JSON/CSV key, the same. */
Test(assert_names, a_metric_is_named_by_its_name_or_its_key)
{
	struct ik_assertion a;
	char text[96], err[200] = "";
	int m;

	for (m = 0; m < IK_NMETRICS; m++) {
		const char *const names[] = {ik_metric_infos[m].name,
					     ik_metric_infos[m].key};

		for (unsigned i = 0; i < 2; i++) {
			snprintf(text, sizeof(text), "pipe.%s<=2*spsc.%s",
				 names[i], names[i]);
			cr_assert_eq(
				ik_assert_parse(text, &a, err, sizeof(err)), 0,
				"%s: %s", text, err);
			cr_expect_eq(a.l.metric, m, "%s", text);
			cr_expect_eq(a.r.metric, m, "%s", text);
		}
	}
	/* the table's label still works */
	cr_assert_eq(ik_assert_parse("pipe.p99.9<1ms", &a, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(a.l.metric, IK_M_P999);
	cr_expect_eq(ik_assert_parse("pipe.p99_9_us<1ms", &a, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "p99_9"), "the error lists the names: %s", err);
}
