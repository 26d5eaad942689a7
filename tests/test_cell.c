/* SPDX-License-Identifier: MIT */
/*
 * The cell key (reports/cell.h): which results are the same cell for
 * "x line", baselines, --normalize, --assert and gbench. Equality and
 * its ignore sets, the three names, and the round trip through a
 * baseline file, including files the writers wrote before the key
 * existed (tests/data/golden).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "reports/cell.h"
#include "reports/gate.h"
#include "reports/reports.h"

static void res_init(struct ik_result *r, const char *method, size_t size)
{
	memset(r, 0, sizeof(*r));
	r->ops = ik_transport_find(method);
	cr_assert_not_null(r->ops, "%s", method);
	r->mode = IK_MODE_THREAD;
	r->size = size;
	r->cls = -1;
	r->pair = (struct ik_pair){
		.pinned = true, .cpu = {0, 2}, .rel = IK_REL_SHARED_L3};
}

static void key(const struct ik_result *r, struct ik_cell_key *k)
{
	ik_cell_key_of(r, k);
}

/* The i-th change of the table below, each in one field. */
static void change(struct ik_result *r, unsigned i)
{
	switch (i) {
	case 0:
		r->ops = ik_transport_find("pipe");
		break;
	case 1:
		r->mode = IK_MODE_PROCESS;
		break;
	case 2:
		r->size = 128;
		break;
	case 3:
		r->buffer = 4096;
		break;
	case 4:
		r->gap_ns = 1000;
		break;
	case 5:
		r->cls = IK_CLASS_SMT;
		break;
	case 6:
		r->npairs = 2, r->pair_index = 1;
		break;
	case 7:
		r->npairs = 2, r->pair_index = -1;
		break;
	case 8:
		r->pair.cpu[1] = 3;
		break;
	default:
		r->kernel = &ik_kernel_stream;
	}
}

Test(cell, every_field_tells_cells_apart_unless_ignored)
{
	struct ik_result a, b;
	struct ik_cell_key ka, kb;

	res_init(&a, "spsc", 64);
	b = a;
	key(&a, &ka);
	key(&b, &kb);
	cr_expect(ik_cell_key_eq(&ka, &kb, 0));
	static const struct {
		const char *what;
		unsigned field;
	} t[] = {
		{"method", IK_CF_METHOD}, {"mode", IK_CF_MODE},
		{"size", IK_CF_SIZE},	  {"buffer", IK_CF_BUFFER},
		{"gap", IK_CF_GAP},	  {"class", IK_CF_CLASS},
		{"pair", IK_CF_PAIR},	  {"sum", IK_CF_PAIR},
		{"cpus", IK_CF_CPUS},	  {"kernel", IK_CF_KERNEL},
	};

	for (unsigned i = 0; i < IK_ARRAY_SIZE(t); i++) {
		b = a;
		change(&b, i);
		key(&b, &kb);
		cr_expect(!ik_cell_key_eq(&ka, &kb, 0), "%s differs",
			  t[i].what);
		cr_expect(ik_cell_key_eq(&ka, &kb, t[i].field),
			  "%s ignored: equal", t[i].what);
	}
}

Test(cell, fields_of_other_kernels_never_tell_cells_apart)
{
	struct ik_result a, b;
	struct ik_cell_key ka, kb;

	res_init(&a, "tcp", 64);
	b = a;
	b.server = IK_SERVER_URING; /* not echo: no server */
	b.clients = 8;		    /* not echo or connect */
	b.work_ns = 500;	    /* not call */
	b.npairs = 1;		    /* alone, as 0 is */
	key(&a, &ka);
	key(&b, &kb);
	cr_expect(ik_cell_key_eq(&ka, &kb, 0));
	a.kernel = b.kernel = &ik_kernel_echo;
	key(&a, &ka);
	key(&b, &kb);
	cr_expect(!ik_cell_key_eq(&ka, &kb, 0), "echo: server, clients");
	cr_expect(ik_cell_key_eq(&ka, &kb, IK_CF_SERVER | IK_CF_CLIENTS));
	a.kernel = b.kernel = &ik_kernel_call;
	key(&a, &ka);
	key(&b, &kb);
	cr_expect(!ik_cell_key_eq(&ka, &kb, 0), "call: work");
	cr_expect(ik_cell_key_eq(&ka, &kb, IK_CF_WORK));
}

Test(cell, the_ignore_sets)
{
	struct ik_result a, b;
	struct ik_cell_key ka, kb;

	res_init(&a, "spsc", 64);
	res_init(&b, "line", 64);
	key(&a, &ka);
	key(&b, &kb);
	cr_expect(ik_cell_key_eq(&ka, &kb, IK_CELL_X_LINE));
	cr_expect(ik_cell_key_eq(&ka, &kb, IK_CELL_PARTNER));
	cr_expect(!ik_cell_key_eq(&ka, &kb, IK_CELL_BASELINE));
	b = a;
	b.pair.cpu[0] = 5; /* another host numbers its CPUs otherwise */
	key(&b, &kb);
	cr_expect(ik_cell_key_eq(&ka, &kb, IK_CELL_BASELINE));
	cr_expect(!ik_cell_key_eq(&ka, &kb, IK_CELL_X_LINE));
	kb = ka;
	kb.kernel = -1; /* a baseline without config.kernel */
	cr_expect(ik_cell_key_eq(&ka, &kb, IK_CELL_BASELINE));
}

Test(cell, names)
{
	struct ik_result r;
	struct ik_cell_key k;
	char b[200];

	res_init(&r, "tcp", 64);
	r.kernel = &ik_kernel_echo;
	r.server = IK_SERVER_EPOLL;
	r.clients = 4;
	r.buffer = 4096;
	r.cls = IK_CLASS_SMT;
	r.npairs = 2;
	r.pair_index = -1;
	key(&r, &k);
	ik_cell_key_name(&k, IK_CELL_NAME_GBENCH, b, sizeof(b));
	cr_expect_str_eq(b, "echo/tcp/thread/size:64/server:epoll/clients:4/"
			    "buffer:4096/class:smt/pair:sum2");
	ik_cell_key_name(&k, IK_CELL_NAME_LABEL, b, sizeof(b));
	cr_expect_str_eq(b, "thread 64 B buf 4096 epoll server 4 clients smt "
			    "sum of 2 pairs");
	ik_cell_key_name(&k, IK_CELL_NAME_BASELINE, b, sizeof(b));
	cr_expect_str_eq(b, "tcp thread 64 B buf 4096 epoll server 4 clients "
			    "smt pair sum/2");
	ik_cell_name(&r, b, sizeof(b));
	cr_expect_str_eq(b, "thread 64 B buf 4096 epoll server 4 clients smt "
			    "sum of 2 pairs");

	res_init(&r, "spsc", 8);
	r.kernel = &ik_kernel_call;
	r.gap_ns = 0;
	r.npairs = 3;
	r.pair_index = 1;
	key(&r, &k);
	ik_cell_key_name(&k, IK_CELL_NAME_GBENCH, b, sizeof(b));
	cr_expect_str_eq(b, "call/spsc/thread/size:8/work:0/pair:2of3");
	ik_cell_key_name(&k, IK_CELL_NAME_LABEL, b, sizeof(b));
	cr_expect_str_eq(b, "thread 8 B work 0 ns pair 2/3");
	ik_cell_key_name(&k, IK_CELL_NAME_BASELINE, b, sizeof(b));
	cr_expect_str_eq(b, "spsc thread 8 B pair 2/3");
	ik_cell_pair_name(k.npairs, k.pair_index, b, sizeof(b));
	cr_expect_str_eq(b, "2/3");
	ik_cell_pair_name(1, 0, b, sizeof(b));
	cr_expect_str_eq(b, "1/1");
	ik_cell_key_name(&k, IK_CELL_NAME_GBENCH, b, 10); /* bounded */
	cr_expect_str_eq(b, "call/spsc");
}

/* ---- through a baseline file ---- */

#define N 6

struct run {
	struct ik_config cfg;
	struct ik_sweep sweep;
	struct ik_machine machine;
	struct ik_timer timer;
	struct ik_result res[N];
	struct ik_report rep;
};

static void fill(struct ik_result *r)
{
	r->count = 100;
	r->wall_ns = 100000;
	r->rep_v = malloc(3 * IK_NMETRICS * sizeof(double));
	r->repeats = 3;
	for (unsigned i = 0; i < 3 * IK_NMETRICS; i++)
		r->rep_v[i] = 100 + i;
	cr_assert_eq(ik_hist_init(&r->hist, IK_HIST_MAX_NS), 0);
	ik_hist_record(&r->hist, 1000);
}

static void run_init(struct run *w, enum ik_kernel kernel)
{
	memset(w, 0, sizeof(*w));
	w->cfg.kernel = kernel;
	w->rep.mem_node = -1;
	snprintf(w->machine.model, sizeof(w->machine.model), "Test CPU");
	w->rep.cfg = &w->cfg;
	w->rep.sweep = &w->sweep;
	w->rep.machine = &w->machine;
	w->rep.timer = &w->timer;
	w->rep.results = w->res;
	w->rep.nresults = N;
	for (int i = 0; i < N; i++) {
		res_init(&w->res[i], i % 2 ? "tcp" : "uds", 64);
		/* as the kernels mark them: ping-pong's unmarked here */
		if (kernel != IK_KERNEL_PINGPONG)
			w->res[i].kernel = ik_kernels[kernel];
		fill(&w->res[i]);
	}
	w->res[1].buffer = 65536;
	w->res[2].cls = IK_CLASS_SHARED_L3;
	w->res[3].npairs = 2, w->res[3].pair_index = -1;
	w->res[4].npairs = 2, w->res[4].pair_index = 1;
	w->res[5].gap_ns = 5000;
	w->res[5].server = IK_SERVER_URING;
	w->res[5].clients = 9;
	w->res[5].work_ns = 77;
}

static void run_free(struct run *w)
{
	for (int i = 0; i < N; i++)
		ik_result_free(&w->res[i]);
}

static void parse_or_fail(const char *buf, size_t len, struct ik_baseline *b)
{
	char err[300];

	cr_assert_eq(ik_baseline_parse(buf, len, b, err, sizeof(err)), 0, "%s",
		     err);
}

Test(cell, keys_round_trip_through_a_baseline)
{
	static const enum ik_kernel ks[] = {IK_KERNEL_PINGPONG, IK_KERNEL_ECHO,
					    IK_KERNEL_CALL};

	for (unsigned i = 0; i < IK_ARRAY_SIZE(ks); i++) {
		struct run w;
		struct ik_baseline b;
		char *buf = NULL;
		size_t len;
		FILE *f = open_memstream(&buf, &len);

		run_init(&w, ks[i]);
		cr_assert_eq(ik_report_json(&w.rep, f), 0);
		fclose(f);
		parse_or_fail(buf, len, &b);
		cr_assert_eq(b.ncells, N);
		for (unsigned c = 0; c < N; c++) {
			struct ik_cell_key k;
			char x[160], y[160];

			key(&w.res[c], &k);
			ik_cell_key_name(&k, IK_CELL_NAME_GBENCH, x, sizeof(x));
			ik_cell_key_name(&b.cells[c].key, IK_CELL_NAME_GBENCH,
					 y, sizeof(y));
			cr_expect(ik_cell_key_eq(&b.cells[c].key, &k, 0),
				  "kernel %u cell %u: %s read back as %s", i, c,
				  x, y);
			for (unsigned o = 0; o < N; o++)
				if (o != c)
					cr_expect(!ik_cell_key_eq(
							  &b.cells[o].key, &k,
							  IK_CELL_BASELINE),
						  "cell %u matches %u", c, o);
		}
		ik_baseline_free(&b);
		free(buf);
		run_free(&w);
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Reports written before the key existed (golden files) still read. */
Test(cell, baselines_written_before_the_key_are_read)
{
	struct ik_baseline b;
	size_t len;
	char *buf = slurp(IK_TESTDATA "/golden/repeats.json", &len), name[160];

	parse_or_fail(buf, len, &b);
	cr_assert_eq(b.ncells, 3);
	cr_expect_eq(b.cells[0].key.kernel, IK_KERNEL_PINGPONG);
	ik_cell_key_name(&b.cells[1].key, IK_CELL_NAME_BASELINE, name,
			 sizeof(name));
	cr_expect_str_eq(name, "spsc thread 64 B");
	cr_expect_eq(b.cells[1].key.cpu[0], 0);
	cr_expect_eq(b.cells[1].key.cpu[1], 2);
	ik_baseline_free(&b);
	free(buf);

	buf = slurp(IK_TESTDATA "/golden/pingpong-sweep.json", &len);
	parse_or_fail(buf, len, &b);
	cr_assert_eq(b.ncells, 7);
	for (unsigned i = 0; i < 7; i++)
		ik_cell_key_name(&b.cells[i].key, IK_CELL_NAME_GBENCH, name,
				 sizeof(name));
	ik_cell_key_name(&b.cells[4].key, IK_CELL_NAME_GBENCH, name,
			 sizeof(name));
	cr_expect_str_eq(name, "pingpong/uds/thread/size:64/pair:sum2");
	ik_cell_key_name(&b.cells[6].key, IK_CELL_NAME_GBENCH, name,
			 sizeof(name));
	cr_expect_str_eq(name, "pingpong/uds/thread/size:64/pair:2of2");
	cr_expect_eq(b.cells[6].key.cpu[0], 1);
	ik_baseline_free(&b);
	free(buf);
}

static char *subst(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char *out;

	cr_assert_not_null(at, "%s", from);
	cr_assert(asprintf(&out, "%.*s%s%s", (int)(at - s), s, to,
			   at + strlen(from)) > 0);
	return out;
}

Test(cell, a_pair_number_out_of_range_is_refused)
{
	static const char *const bad[] = {"0", "3", "-1", "\"all\""};
	size_t len;
	char *buf = slurp(IK_TESTDATA "/golden/pingpong-sweep.json", &len);

	for (unsigned i = 0; i < IK_ARRAY_SIZE(bad); i++) {
		char *to, *edited, err[300];
		struct ik_baseline b;

		cr_assert(asprintf(&to, "\"pair_number\": %s", bad[i]) > 0);
		edited = subst(buf, "\"pair_number\": 2", to);
		cr_expect_eq(ik_baseline_parse(edited, strlen(edited), &b, err,
					       sizeof(err)),
			     -EINVAL, "pair_number %s", bad[i]);
		cr_expect(strstr(err, "bad pair_number") != NULL, "%s", err);
		free(edited);
		free(to);
	}
	free(buf);
}

/* "x line": line of the same cell, every field but the method. */
Test(cell, x_line_is_line_in_the_same_cell)
{
	struct run w;
	char *buf = NULL;
	size_t len;
	FILE *f;
	json_t *root, *res;
	json_error_t je;

	run_init(&w, IK_KERNEL_CALL);
	for (int i = 0; i < N; i++) {
		ik_result_free(&w.res[i]);
		res_init(&w.res[i], i < 3 ? "line" : "spsc", 64);
		w.res[i].kernel = &ik_kernel_call;
		w.res[i].work_ns = (uint64_t)(i % 3) * 100;
		fill(&w.res[i]);
		ik_hist_record(&w.res[i].hist, 1000 * (uint64_t)(i + 1));
	}
	f = open_memstream(&buf, &len);
	cr_assert_eq(ik_report_json(&w.rep, f), 0);
	fclose(f);
	root = json_loadb(buf, len, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	res = json_object_get(root, "results");
	for (int i = 3; i < N; i++) {
		json_t *o = json_array_get(res, (size_t)i);
		double want =
			(double)ik_hist_percentile(&w.res[i].hist, 50) /
			(double)ik_hist_percentile(&w.res[i - 3].hist, 50);

		cr_expect(json_real_value(json_object_get(o, "vs_line")) ==
				  want,
			  "spsc work %llu: over line with the same work",
			  (unsigned long long)w.res[i].work_ns);
	}
	json_decref(root);
	free(buf);
	run_free(&w);
}

/* The group kernel's shape and N, oversubscription and --preheat are
 * the cell's: --fanout 1:1 is not --pipeline 2, nor --fanout 1:3 with
 * --oversubscribe, and each reads back from a report as written. */
Test(cell, group_shape_and_preheat_tell_cells_apart)
{
	static const char *const json[] = {
		"{\"method\":\"pipe\",\"mode\":\"thread\",\"size\":8,"
		"\"buffer\":null,\"gap_ns\":0,\"shape\":\"fanout\","
		"\"shape_n\":1,\"group\":{\"oversubscribed\":false}}",
		"{\"method\":\"pipe\",\"mode\":\"thread\",\"size\":8,"
		"\"buffer\":null,\"gap_ns\":0,\"shape\":\"pipeline\","
		"\"shape_n\":2,\"group\":{\"oversubscribed\":false}}",
		"{\"method\":\"pipe\",\"mode\":\"thread\",\"size\":8,"
		"\"buffer\":null,\"gap_ns\":0,\"shape\":\"fanout\","
		"\"shape_n\":3,\"group\":{\"oversubscribed\":true}}",
		"{\"method\":\"pipe\",\"mode\":\"thread\",\"size\":8,"
		"\"buffer\":null,\"gap_ns\":0,\"preheat\":{\"ms\":200}}",
	};
	static const char *const names[] = {
		"group/pipe/thread/size:8/fanout:1:1",
		"group/pipe/thread/size:8/pipeline:2",
		"group/pipe/thread/size:8/fanout:1:3/oversubscribed",
		"pingpong/pipe/thread/size:8/preheat:200ms",
	};
	struct ik_group_result *gr = calloc(1, sizeof(*gr));
	struct ik_cell_key k[4], j;
	struct ik_result r[4];
	char name[160];

	cr_assert_not_null(gr);
	for (unsigned i = 0; i < 4; i++) {
		res_init(&r[i], "pipe", 8);
		r[i].pair.pinned = false;
		if (i < 3) {
			r[i].kernel = &ik_kernel_group;
			r[i].group = gr;
			gr->shape =
				i == 1 ? IK_SHAPE_PIPELINE : IK_SHAPE_FANOUT;
			gr->shape_n = i + 1;
			gr->oversubscribed = i == 2;
		} else {
			r[i].preheat.ms = 200;
		}
		key(&r[i], &k[i]);
		ik_cell_key_name(&k[i], IK_CELL_NAME_GBENCH, name,
				 sizeof(name));
		cr_expect_str_eq(name, names[i]);
		r[i].group = NULL;
	}
	for (unsigned i = 0; i < 4; i++) {
		json_t *o = json_loads(json[i], 0, NULL);

		cr_assert_not_null(o);
		cr_assert_eq(ik_cell_key_from_json(o,
						   i < 3 ? IK_KERNEL_GROUP
							 : IK_KERNEL_PINGPONG,
						   &j),
			     0, "%s", json[i]);
		json_decref(o);
		for (unsigned c = 0; c < 4; c++)
			cr_expect_eq(
				ik_cell_key_eq(&j, &k[c], IK_CELL_BASELINE),
				c == i, "%s against %s", json[i], names[c]);
	}
	free(gr);
}
