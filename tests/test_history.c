/* SPDX-License-Identifier: MIT */
/*
 * The results history (reports/history.c): the schema made and
 * migrated, a run appended and read back field by field, parallel
 * writers, the stores refused (and left untouched), the change-point
 * gate on series written here, and the Otava CSV. Every test of a store
 * runs twice: history_sqlite on a file of a private directory, and
 * history_pg in a fresh schema of the PostgreSQL database named by
 * $IK_TEST_PGURL (skipped without it; scripts/test starts a server).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "ipc/ipc.h"
#include "reports/history.h"

struct store {
	bool pg;
	char dir[64];	  /* sqlite: the private directory */
	char schema[64];  /* pg: the schema made for the test */
	char where[1024]; /* what ik_history_open takes */
};

static char *pg_base(void)
{
	return getenv("IK_TEST_PGURL");
}

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void pg_exec(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL); /* DROP's "cascades to" */
	r = PQexec(c, sql);
	cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK ||
			  PQresultStatus(r) == PGRES_TUPLES_OK,
		  "%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

static void store_new(struct store *s, bool pg)
{
	static unsigned seq;

	memset(s, 0, sizeof(*s));
	s->pg = pg;
	if (pg) {
		const char *base = pg_base();
		char sql[128];

		if (!base || !*base)
			cr_skip_test("no PostgreSQL: set IK_TEST_PGURL "
				     "(scripts/test starts one)");
		snprintf(s->schema, sizeof(s->schema), "ik_t_%d_%u",
			 (int)getpid(), seq++);
		snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", s->schema);
		pg_exec(base, sql);
		snprintf(s->where, sizeof(s->where),
			 "%s%coptions=-csearch_path%%3D%s", base,
			 strchr(base, '?') ? '&' : '?', s->schema);
		return;
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/ik-history-XXXXXX");
	cr_assert_not_null(mkdtemp(s->dir));
	snprintf(s->where, sizeof(s->where), "%s/h.db", s->dir);
}

static void store_free(struct store *s)
{
	char cmd[160];

	if (s->pg) {
		snprintf(cmd, sizeof(cmd), "DROP SCHEMA %s CASCADE", s->schema);
		pg_exec(pg_base(), cmd);
	} else if (*s->dir) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		cr_assert_eq(system(cmd), 0);
	}
}

/* SQL on the store without ipckern: what an older one, or another
 * program, would have written. */
static void raw(const struct store *s, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	if (s->pg) {
		pg_exec(s->where, sql);
		return;
	}
	cr_assert_eq(sqlite3_open(s->where, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK,
		     "%s: %s", sql, msg ? msg : "");
	sqlite3_close(db);
}

static struct ik_history *open_ok(const struct store *s)
{
	struct ik_history *h = NULL;
	char err[512];
	int ret = ik_history_open(s->where, true, &h, err, sizeof(err));

	cr_assert_eq(ret, 0, "%s: %s", s->where, err);
	return h;
}

/* A cell: method/thread/8 B, k repeats of p50 (x noise), the other
 * metrics following from it, min left out (NULL in the store). */
static void fake(struct ik_result *r, const char *method, const double *p50,
		 unsigned k)
{
	memset(r, 0, sizeof(*r));
	r->ops = ik_transport_find(method);
	cr_assert_not_null(r->ops, "%s", method);
	r->mode = IK_MODE_THREAD;
	r->size = 8;
	r->cls = -1;
	r->count = 1000;
	r->pair.pinned = true;
	r->pair.cpu[0] = 0;
	r->pair.cpu[1] = 1;
	r->rep_v = malloc(k * IK_NMETRICS * sizeof(double));
	r->repeats = k;
	for (unsigned i = 0; i < k; i++) {
		double *v = r->rep_v + i * IK_NMETRICS;

		for (int m = 0; m < IK_NMETRICS; m++)
			v[m] = p50[i] * (1 + m / 7.0) + 1.0 / 3;
		v[IK_M_MIN] = NAN;
		v[IK_M_MSGS] = 1e9 / p50[i];
		v[IK_M_CPU] = 2 * p50[i];
	}
}

static void fp_of(struct ik_fingerprint *fp, const char *model)
{
	memset(fp, 0, sizeof(*fp));
	snprintf(fp->cpu_model, sizeof(fp->cpu_model), "%s", model);
	snprintf(fp->microcode, sizeof(fp->microcode), "0x1000065");
	snprintf(fp->kernel, sizeof(fp->kernel), "Linux 6.1.0 x86_64");
	fp->vcpus = 2;
	snprintf(fp->hypervisor, sizeof(fp->hypervisor), "KVMKVMKVM");
	snprintf(fp->governor, sizeof(fp->governor), "performance");
	snprintf(fp->smt, sizeof(fp->smt), "notsupported");
	ik_fingerprint_hash(fp);
}

/* A deterministic +-spread noise around 1, the k-th draw. */
static double noise(unsigned k, double spread)
{
	uint64_t x = (k + 1) * 0x9E3779B97F4A7C15ull;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return 1 + spread * ((double)(x % 20001) / 10000.0 - 1);
}

/* Run number i (labelled "cI", a minute after the one before) with
 * spsc's and line's p50 around the given values, 3 repeats each. No
 * assertion: a writer child of parallel_writers calls it too. */
static int append_run(struct ik_history *h, const char *model, unsigned i,
		      double spsc, double line, long long *id, char *err,
		      size_t n)
{
	struct ik_history_run hr = {.version = "test"};
	struct ik_result res[2];
	double a[3], b[3];
	char label[16];
	int ret;

	for (unsigned k = 0; k < 3; k++) {
		a[k] = spsc * noise(i * 6 + k, 0.015);
		b[k] = line * noise(i * 6 + 3 + k, 0.015);
	}
	fake(&res[0], "spsc", a, 3);
	fake(&res[1], "line", b, 3);
	snprintf(label, sizeof(label), "c%u", i);
	hr.label = label;
	snprintf(hr.time, sizeof(hr.time), "2026-01-01T%02u:%02u:00Z", i / 60,
		 i % 60);
	snprintf(hr.hostname, sizeof(hr.hostname), "ci-%u", i % 3);
	fp_of(&hr.fp, model);
	ret = ik_history_append(h, &hr, res, 2, id, err, n);
	free(res[0].rep_v);
	free(res[1].rep_v);
	return ret;
}

static long long add_run(struct ik_history *h, const char *model, unsigned i,
			 double spsc, double line)
{
	char err[512];
	long long id;

	cr_assert_eq(append_run(h, model, i, spsc, line, &id, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_gt(id, 0);
	return id;
}

/* Both backends run the same body. */
#define BOTH(name)                                                             \
	static void name(bool pg);                                             \
	Test(history_sqlite, name, .timeout = 120)                             \
	{                                                                      \
		name(false);                                                   \
	}                                                                      \
	Test(history_pg, name, .timeout = 120)                                 \
	{                                                                      \
		name(true);                                                    \
	}                                                                      \
	static void name(bool pg)

BOTH(schema_is_created_at_the_current_version)
{
	struct store s;
	struct ik_history *h;
	char err[256];

	store_new(&s, pg);
	h = open_ok(&s);
	cr_assert_eq(ik_history_version(h), IK_HISTORY_SCHEMA);
	for (const char *const *t =
		     (const char *const[]){
			     "SELECT key, value FROM ik_meta",
			     "SELECT id, microcode, class FROM ik_runs",
			     "SELECT name, partner, error FROM ik_cells",
			     "SELECT cell_id, rep, p99_9_ns, cpu_ns_per_msg "
			     "FROM "
			     "ik_values",
			     NULL};
	     *t; t++)
		cr_assert_eq(ik_history_exec(h, *t, err, sizeof(err)), 0,
			     "%s: %s", *t, err);
	ik_history_close(h);
	/* a second open finds it ours and current: nothing to do */
	h = open_ok(&s);
	cr_assert_eq(ik_history_version(h), IK_HISTORY_SCHEMA);
	ik_history_close(h);
	store_free(&s);
}

BOTH(a_run_reads_back_field_by_field)
{
	struct ik_history_run hr = {.label = "deadbeef",
				    .version = "9.8.7",
				    .time = "2026-12-01T04:44:21Z",
				    .hostname = "ci-1"};
	struct ik_fingerprint got;
	struct ik_result res[2];
	struct ik_hist_set set;
	double p[3] = {1000.5, 1234.25, 999.125}, q[2] = {333, 444};
	struct store s;
	struct ik_history *h;
	char err[512];
	long long id;

	store_new(&s, pg);
	h = open_ok(&s);
	fake(&res[0], "spsc", p, 3);
	fake(&res[1], "line", q, 2);
	res[0].rep_v[IK_NMETRICS + IK_M_P999] = 0.1 + 0.2; /* 17 digits */
	fp_of(&hr.fp, "AMD EPYC 7B13");
	cr_assert_eq(ik_history_append(h, &hr, res, 2, &id, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(
		ik_history_load(h, hr.fp.klass, 0, 10, &set, err, sizeof(err)),
		0, "%s", err);
	cr_assert_eq(set.nruns, 1);
	cr_assert_eq(set.runs[0].id, id);
	cr_assert_str_eq(set.runs[0].label, "deadbeef");
	cr_assert_str_eq(set.runs[0].time, "2026-12-01T04:44:21Z");
	cr_assert_str_eq(set.runs[0].klass, hr.fp.klass);
	cr_assert_eq(set.ncells, 2);
	cr_assert_str_eq(set.cells[0].name, "pingpong/spsc/thread/size:8");
	cr_assert_str_eq(set.cells[0].partner, "pingpong/*/thread/size:8");
	cr_assert_str_eq(set.cells[0].method, "spsc");
	cr_assert_str_eq(set.cells[1].method, "line");
	cr_assert_str_eq(set.cells[1].kernel, "pingpong");
	for (unsigned c = 0; c < 2; c++) {
		const struct ik_hist_obs *o = &set.obs[c];

		cr_assert_eq(o->reps, res[c].repeats);
		for (unsigned i = 0; i < o->reps * IK_NMETRICS; i++) {
			double want = res[c].rep_v[i];

			if (isnan(want))
				cr_assert(isnan(o->v[i]), "cell %u value %u", c,
					  i);
			else
				cr_assert_eq(o->v[i], want,
					     "cell %u value %u: %.17g != "
					     "%.17g",
					     c, i, o->v[i], want);
		}
	}
	ik_hist_set_free(&set);
	cr_assert_eq(ik_history_fingerprint(h, id, &got, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(got.cpu_model, hr.fp.cpu_model);
	cr_assert_str_eq(got.microcode, hr.fp.microcode);
	cr_assert_str_eq(got.kernel, hr.fp.kernel);
	cr_assert_eq(got.vcpus, hr.fp.vcpus);
	cr_assert_str_eq(got.hypervisor, hr.fp.hypervisor);
	cr_assert_str_eq(got.governor, hr.fp.governor);
	cr_assert_str_eq(got.smt, hr.fp.smt);
	cr_assert_str_eq(got.klass, hr.fp.klass);
	free(res[0].rep_v);
	free(res[1].rep_v);
	ik_history_close(h);
	store_free(&s);
}

BOTH(a_partial_run_is_kept_but_in_no_series)
{
	struct ik_history_run hr = {.version = "t",
				    .time = "2026-01-01T00:00:00Z",
				    .partial = "interrupted by SIGINT"};
	struct ik_result res;
	struct ik_hist_set set;
	double p[1] = {100};
	struct store s;
	struct ik_history *h;
	char err[256];
	long long id;

	store_new(&s, pg);
	h = open_ok(&s);
	fake(&res, "spsc", p, 1);
	fp_of(&hr.fp, "m");
	cr_assert_eq(ik_history_append(h, &hr, &res, 1, &id, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(ik_history_load(h, NULL, 0, 10, &set, err, sizeof(err)),
		     0);
	cr_assert_eq(set.nruns, 0);
	ik_hist_set_free(&set);
	free(res.rep_v);
	ik_history_close(h);
	store_free(&s);
}

BOTH(a_version_1_store_is_migrated_forward_keeping_its_runs)
{
	struct ik_fingerprint got;
	struct ik_hist_set set;
	struct store s;
	struct ik_history *h;
	char err[256];

	store_new(&s, pg);
	cr_assert_eq(ik_history_create_at(s.where, 1, err, sizeof(err)), 0,
		     "%s", err);
	/* a run as ipckern at schema 1 wrote it: no microcode column */
	raw(&s, "INSERT INTO ik_runs (time_utc, label, version, class, "
		"cpu_model, kernel, vcpus, hypervisor, governor, smt, "
		"hostname) VALUES ('2025-01-01T00:00:00Z', 'old', '0.0.9', "
		"'k1', 'm', 'Linux', 4, 'none', 'performance', 'on', 'h')");
	raw(&s,
	    "INSERT INTO ik_cells (run_id, name, partner, kernel, method, "
	    "mode, size, repeats) VALUES (1, 'pingpong/spsc/thread/size:8', "
	    "'pingpong/*/thread/size:8', 'pingpong', 'spsc', 'thread', 8, "
	    "1)");
	raw(&s, "INSERT INTO ik_values (cell_id, rep, p50_ns) VALUES (1, 0, "
		"250)");
	h = open_ok(&s);
	cr_assert_eq(ik_history_version(h), 2);
	cr_assert_eq(ik_history_fingerprint(h, 1, &got, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(got.microcode, ""); /* NULL: not known at 1 */
	cr_assert_eq(ik_history_load(h, "k1", 0, 10, &set, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(set.nruns, 1);
	cr_assert_str_eq(set.runs[0].label, "old");
	cr_assert_eq(set.obs[0].v[IK_M_P50], 250);
	ik_hist_set_free(&set);
	/* and the store takes runs of the new schema beside it */
	add_run(h, "m", 1, 100, 100);
	ik_history_close(h);
	store_free(&s);
}

BOTH(parallel_writers_lose_no_run)
{
	enum { WRITERS = 6, RUNS = 5 };
	struct ik_hist_set set;
	struct store s;
	struct ik_history *h;
	char err[256];
	pid_t pid[WRITERS];

	store_new(&s, pg);
	/* all at once on a store that does not exist yet: one creates it */
	for (int w = 0; w < WRITERS; w++) {
		pid[w] = fork();
		cr_assert_geq(pid[w], 0);
		if (!pid[w]) {
			struct ik_history *hh;
			char e[512];

			if (ik_history_open(s.where, true, &hh, e, sizeof(e))) {
				fprintf(stderr, "writer %d: %s\n", w, e);
				_exit(1);
			}
			for (int r = 0; r < RUNS; r++) {
				long long id;

				if (append_run(hh, "m",
					       (unsigned)(w * RUNS + r), 100,
					       100, &id, e, sizeof(e))) {
					fprintf(stderr, "writer %d: %s\n", w,
						e);
					_exit(1);
				}
			}
			ik_history_close(hh);
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;

		cr_assert_eq(waitpid(pid[w], &st, 0), pid[w]);
		cr_assert(WIFEXITED(st) && !WEXITSTATUS(st), "writer %d", w);
	}
	h = open_ok(&s);
	cr_assert_eq(ik_history_load(h, NULL, 0, 1000, &set, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(set.nruns, WRITERS * RUNS);
	cr_assert_eq(set.ncells, 2);
	for (unsigned i = 0; i < set.nruns * set.ncells; i++)
		cr_assert_eq(set.obs[i].reps, 3, "run/cell %u", i);
	ik_hist_set_free(&set);
	ik_history_close(h);
	store_free(&s);
}

/* The open is refused with -EINVAL and err holding want. */
static void refused(const struct store *s, const char *want)
{
	struct ik_history *h = NULL;
	char err[512] = "";
	int ret = ik_history_open(s->where, true, &h, err, sizeof(err));

	cr_assert_eq(ret, -EINVAL, "%s: %d %s", s->where, ret, err);
	cr_assert_null(h);
	cr_assert_not_null(strstr(err, want), "\"%s\" lacks \"%s\"", err, want);
}

BOTH(a_newer_schema_is_refused)
{
	struct store s;
	struct ik_history *h;

	store_new(&s, pg);
	h = open_ok(&s);
	ik_history_close(h);
	raw(&s, "UPDATE ik_meta SET value = '99' WHERE key = "
		"'schema_version'");
	refused(&s, "schema version 99 is newer");
	store_free(&s);
}

BOTH(a_meta_table_of_another_program_is_refused)
{
	struct store s;

	store_new(&s, pg);
	raw(&s, "CREATE TABLE ik_meta (key TEXT PRIMARY KEY, value TEXT)");
	raw(&s, "INSERT INTO ik_meta VALUES ('app', 'inkscape')");
	refused(&s, "not ipckern's");
	store_free(&s);
}

/* ---- files only SQLite has ---- */

static void write_file(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(b, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

/* The file's bytes, to tell it was left as it was. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *b = malloc(1 << 20);

	cr_assert_not_null(f);
	*n = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

/* Refused, and byte for byte as it was, with no -wal or -journal made. */
static void refused_untouched(const struct store *s, const char *want)
{
	size_t n0, n1;
	char *b0 = slurp(s->where, &n0), *b1, side[1100];

	refused(s, want);
	b1 = slurp(s->where, &n1);
	cr_assert_eq(n0, n1);
	cr_assert_eq(memcmp(b0, b1, n0), 0, "the file was changed");
	for (const char *const *x =
		     (const char *const[]){"-wal", "-journal", "-shm", NULL};
	     *x; x++) {
		snprintf(side, sizeof(side), "%s%s", s->where, *x);
		cr_assert_neq(access(side, F_OK), 0, "%s made", side);
	}
	free(b0);
	free(b1);
}

Test(history_sqlite, a_file_that_is_not_sqlite_is_refused_untouched)
{
	struct store s;
	const char text[] = "time,commit\n2026-01-01,abc\n";

	store_new(&s, false);
	write_file(s.where, text, sizeof(text) - 1);
	refused_untouched(&s, "not an SQLite database");
	store_free(&s);
}

Test(history_sqlite, a_corrupt_file_is_refused_untouched)
{
	struct store s;
	struct ik_history *h;
	char *b;
	size_t n;

	store_new(&s, false);
	h = open_ok(&s);
	for (unsigned i = 0; i < 30; i++)
		add_run(h, "m", i, 100, 100);
	ik_history_close(h);
	/* SQLite's header kept, the pages after the first scrambled */
	b = slurp(s.where, &n);
	cr_assert_gt(n, 8192);
	for (size_t i = 4096; i < n; i++)
		b[i] = (char)(i * 31 + 7);
	write_file(s.where, b, n);
	free(b);
	refused_untouched(&s, "corrupt");
	store_free(&s);
}

Test(history_sqlite, an_sqlite_file_of_another_program_is_refused_untouched)
{
	struct store s;

	store_new(&s, false);
	raw(&s, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
	raw(&s, "INSERT INTO notes (body) VALUES ('mine')");
	refused_untouched(&s, "not an ipckern history");
	store_free(&s);
}

Test(history_sqlite, a_newer_schema_file_is_left_untouched)
{
	struct store s;
	struct ik_history *h;

	store_new(&s, false);
	h = open_ok(&s);
	ik_history_close(h);
	raw(&s, "UPDATE ik_meta SET value = '3' WHERE key = "
		"'schema_version'");
	raw(&s, "PRAGMA journal_mode = DELETE");
	refused_untouched(&s, "newer than this ipckern's");
	store_free(&s);
}

Test(history_sqlite, a_fifo_or_directory_is_refused_without_blocking,
     .timeout = 10)
{
	struct store s;

	store_new(&s, false);
	cr_assert_eq(mkfifo(s.where, 0600), 0);
	refused(&s, "not a regular file");
	cr_assert_eq(unlink(s.where), 0);
	cr_assert_eq(mkdir(s.where, 0700), 0);
	refused(&s, "not a regular file");
	cr_assert_eq(rmdir(s.where), 0);
	store_free(&s);
}

Test(history_sqlite, reading_a_missing_history_creates_nothing)
{
	struct store s;
	struct ik_history *h = NULL;
	char err[256];

	store_new(&s, false);
	cr_assert_eq(ik_history_open(s.where, false, &h, err, sizeof(err)),
		     -ENOENT);
	cr_assert_neq(access(s.where, F_OK), 0);
	store_free(&s);
}

Test(history_sqlite, an_empty_file_becomes_a_history)
{
	struct store s;
	struct ik_history *h;

	store_new(&s, false);
	write_file(s.where, "", 0);
	h = open_ok(&s);
	cr_assert_eq(ik_history_version(h), IK_HISTORY_SCHEMA);
	ik_history_close(h);
	store_free(&s);
}

/* ---- the gate on series written here ---- */

struct gate_out {
	struct ik_gate_log g;
	char *notes;
	size_t n;
};

/* --gate history on the store's runs of model, the newest being id. */
static void gate(struct ik_history *h, const char *model, long long id,
		 const char *norm, struct gate_out *out)
{
	struct ik_history_opts o = IK_HISTORY_OPTS_DEFAULT;
	struct ik_fingerprint fp;
	struct ik_hist_set set;
	char err[512];
	FILE *f;

	fp_of(&fp, model);
	o.normalize = norm;
	memset(out, 0, sizeof(*out));
	cr_assert_eq(ik_history_load(h, norm ? NULL : fp.klass, id, o.window,
				     &set, err, sizeof(err)),
		     0, "%s", err);
	f = open_memstream(&out->notes, &out->n);
	cr_assert_eq(
		ik_history_gate(&set, id, &o, &out->g, f, err, sizeof(err)), 0,
		"%s", err);
	fclose(f);
	ik_hist_set_free(&set);
}

static void gate_free(struct gate_out *o)
{
	ik_gate_log_free(&o->g);
	free(o->notes);
}

/* The row of cell's metric, or NULL. */
static const struct ik_gate_row *row(const struct gate_out *o, const char *what)
{
	for (unsigned i = 0; i < o->g.n; i++)
		if (!strcmp(o->g.rows[i].what, what))
			return &o->g.rows[i];
	return NULL;
}

BOTH(a_clear_step_fails_naming_where_it_began)
{
	const struct ik_gate_row *r;
	struct gate_out o;
	struct store s;
	struct ik_history *h;
	long long id = 0;

	store_new(&s, pg);
	h = open_ok(&s);
	for (unsigned i = 1; i <= 18; i++)
		id = add_run(h, "m", i, i < 15 ? 1000 : 1250, 300);
	gate(h, "m", id, NULL, &o);
	r = row(&o, "pingpong/spsc/thread/size:8 p50");
	cr_assert_not_null(r);
	cr_assert_str_eq(r->verdict, "FAIL");
	cr_assert(r->failed);
	cr_assert_not_null(strstr(r->detail, "since c15"), "%s", r->detail);
	cr_assert_not_null(strstr(r->detail, "+2"), "%s", r->detail);
	/* msgs/s went down: worse too */
	cr_assert_str_eq(row(&o, "pingpong/spsc/thread/size:8 msgs")->verdict,
			 "FAIL");
	cr_assert_str_eq(row(&o, "pingpong/line/thread/size:8 p50")->verdict,
			 "unchanged");
	cr_assert_not_null(strstr(o.notes, "beginning at run c15"), "%s",
			   o.notes);
	cr_assert_not_null(strstr(o.notes, "this cell only"), "%s", o.notes);
	cr_assert_not_null(strstr(o.notes, "line steady"), "%s", o.notes);
	gate_free(&o);
	ik_history_close(h);
	store_free(&s);
}

BOTH(clean_noise_passes)
{
	struct gate_out o;
	struct store s;
	struct ik_history *h;
	long long id = 0;

	store_new(&s, pg);
	h = open_ok(&s);
	for (unsigned i = 1; i <= 24; i++)
		id = add_run(h, "m", i, 1000, 300);
	gate(h, "m", id, NULL, &o);
	cr_assert_eq(o.g.failed, 0, "%s", o.notes ? o.notes : "");
	cr_assert_eq(o.g.checked, 8);
	gate_free(&o);
	ik_history_close(h);
	store_free(&s);
}

BOTH(a_host_shift_says_so_and_normalised_passes)
{
	struct gate_out o;
	struct store s;
	struct ik_history *h;
	long long id = 0;

	store_new(&s, pg);
	h = open_ok(&s);
	/* the host slows everything by a quarter at run 15, line too */
	for (unsigned i = 1; i <= 18; i++)
		id = add_run(h, "m", i, i < 15 ? 1000 : 1250,
			     i < 15 ? 300 : 375);
	gate(h, "m", id, NULL, &o);
	cr_assert_gt(o.g.failed, 0);
	cr_assert_not_null(strstr(o.notes, "host shift: line moved +2"), "%s",
			   o.notes);
	gate_free(&o);
	/* divided by line, run by run, nothing changed */
	gate(h, "m", id, "line", &o);
	cr_assert_eq(o.g.failed, 0, "%s", o.notes ? o.notes : "");
	cr_assert_not_null(row(&o, "pingpong/spsc/thread/size:8 p50 (ratio)"));
	gate_free(&o);
	ik_history_close(h);
	store_free(&s);
}

BOTH(series_are_per_machine_class_unless_normalised)
{
	struct gate_out o;
	struct store s;
	struct ik_history *h;
	long long id = 0;

	store_new(&s, pg);
	h = open_ok(&s);
	/* another machine, twice as slow, in between: not our series */
	for (unsigned i = 1; i <= 18; i++) {
		add_run(h, "other", i, 2000, 600);
		id = add_run(h, "m", i, 1000, 300);
	}
	gate(h, "m", id, NULL, &o);
	cr_assert_eq(o.g.failed, 0, "%s", o.notes ? o.notes : "");
	cr_assert_not_null(strstr(row(&o, "pingpong/spsc/thread/size:8 "
					  "p50")
					  ->against,
				  "18 runs"));
	gate_free(&o);
	/* across classes, the ratio to line is the same on both */
	gate(h, "m", id, "line", &o);
	cr_assert_eq(o.g.failed, 0, "%s", o.notes ? o.notes : "");
	cr_assert_not_null(strstr(row(&o, "pingpong/spsc/thread/size:8 p50 "
					  "(ratio)")
					  ->against,
				  "36 runs"));
	gate_free(&o);
	ik_history_close(h);
	store_free(&s);
}

BOTH(improvements_old_changes_and_short_series_pass)
{
	struct gate_out o;
	struct store s;
	struct ik_history *h;
	long long id = 0;
	unsigned i;

	store_new(&s, pg);
	h = open_ok(&s);
	for (i = 1; i <= 4; i++)
		id = add_run(h, "m", i, 1000, 300);
	gate(h, "m", id, NULL, &o);
	cr_assert_str_eq(row(&o, "pingpong/spsc/thread/size:8 p50")->verdict,
			 "learning");
	cr_assert_eq(o.g.failed, 0);
	gate_free(&o);
	for (; i <= 18; i++) /* faster from run 15 */
		id = add_run(h, "m", i, i < 15 ? 1000 : 800, 300);
	gate(h, "m", id, NULL, &o);
	cr_assert_str_eq(row(&o, "pingpong/spsc/thread/size:8 p50")->verdict,
			 "improved");
	cr_assert_eq(o.g.failed, 0);
	gate_free(&o);
	for (; i <= 40; i++) /* slower from 19, and for 22 runs since */
		id = add_run(h, "m", i, i < 19 ? 800 : 1100, 300);
	gate(h, "m", id, NULL, &o);
	cr_assert_eq(o.g.failed, 0, "%s", o.notes ? o.notes : "");
	cr_assert_not_null(strstr(row(&o, "pingpong/spsc/thread/size:8 "
					  "p50")
					  ->detail,
				  "runs ago"));
	gate_free(&o);
	ik_history_close(h);
	store_free(&s);
}

BOTH(the_otava_csv_has_a_column_per_cell_metric)
{
	struct ik_fingerprint fp;
	struct ik_hist_set set;
	struct store s;
	struct ik_history *h;
	char err[256], *csv = NULL, *line2;
	size_t n;
	FILE *f;

	store_new(&s, pg);
	h = open_ok(&s);
	add_run(h, "m", 1, 1000, 300);
	add_run(h, "m", 2, 1000, 300);
	fp_of(&fp, "m");
	cr_assert_eq(
		ik_history_load(h, fp.klass, 0, 10, &set, err, sizeof(err)), 0);
	f = open_memstream(&csv, &n);
	cr_assert_eq(ik_history_csv(&set, "pingpong", f), 0);
	fclose(f);
	cr_assert(!strncmp(csv,
			   "time,commit,pingpong/spsc/thread/size:8."
			   "p50_ns,",
			   40),
		  "%s", csv);
	/* min is NULL everywhere: no column */
	cr_assert_null(strstr(csv, "min_ns"));
	cr_assert_not_null(strstr(csv, "pingpong/line/thread/size:8."
				       "cpu_ns_per_msg"));
	line2 = strchr(csv, '\n') + 1;
	cr_assert(!strncmp(line2, "2026-01-01T00:01:00Z,c1,", 24), "%s", line2);
	free(csv);
	ik_hist_set_free(&set);
	ik_history_close(h);
	store_free(&s);
}

/* ---- through ipckern ---- */

/* ipckern with args (NULL-terminated) and env "NAME=VALUE" (or NULL);
 * its exit code, and what it wrote on stdout and stderr in out. */
static int ipckern(char *out, size_t n, const char *env, ...)
{
	const char *argv[40] = {IK_BIN};
	char path[] = "/tmp/ik-history-out-XXXXXX";
	int fd = mkstemp(path), st, k = 1;
	va_list ap;
	ssize_t got;
	pid_t pid;

	cr_assert_geq(fd, 0);
	va_start(ap, env);
	while (k < 39 && (argv[k] = va_arg(ap, const char *)))
		k++;
	va_end(ap);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		dup2(fd, 1);
		dup2(fd, 2);
		unsetenv("GITHUB_SHA");
		unsetenv("CI_COMMIT_SHA");
		if (env)
			putenv((char *)env);
		execv(IK_BIN, (char **)argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	got = pread(fd, out, n - 1, 0);
	out[got > 0 ? got : 0] = 0;
	close(fd);
	unlink(path);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

Test(history_cli, a_refused_file_is_exit_2_and_left_as_it_was, .timeout = 60)
{
	const char text[] = "not a database\n";
	char out[8192], *b;
	struct store s;
	size_t n;

	store_new(&s, false);
	write_file(s.where, text, sizeof(text) - 1);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--method", "line",
			     "--iters", "100", "--history", s.where, NULL),
		     2, "%s", out);
	cr_assert_not_null(strstr(out, "not an SQLite database"), "%s", out);
	b = slurp(s.where, &n);
	cr_assert_eq(n, sizeof(text) - 1);
	cr_assert_eq(memcmp(b, text, n), 0);
	free(b);
	store_free(&s);
}

Test(history_cli, runs_are_labelled_by_the_ci_commit_and_listed, .timeout = 120)
{
	struct ik_hist_set set;
	struct ik_history *h;
	char out[16384], err[256], csv[300];
	struct store s;

	store_new(&s, false);
	cr_assert_eq(ipckern(out, sizeof(out), "GITHUB_SHA=f00dfeed", "-q",
			     "--method", "line", "--iters", "200", "--repeat",
			     "2", "--history", s.where, NULL),
		     0, "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), "CI_COMMIT_SHA=abc", "-q",
			     "--method", "line", "--iters", "200", "--history",
			     s.where, "--label", "mine", NULL),
		     0, "%s", out);
	h = open_ok(&s);
	cr_assert_eq(ik_history_load(h, NULL, 0, 10, &set, err, sizeof(err)),
		     0);
	cr_assert_eq(set.nruns, 2);
	cr_assert_str_eq(set.runs[0].label, "f00dfeed");
	cr_assert_str_eq(set.runs[1].label, "mine"); /* --label first */
	cr_assert_eq(set.obs[0].reps, 2);
	cr_assert_gt(set.obs[0].v[IK_M_P50], 0);
	ik_hist_set_free(&set);
	ik_history_close(h);
	snprintf(csv, sizeof(csv), "%s/csv", s.dir);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history", s.where,
			     "--csv", csv, "--mkdir", NULL),
		     0, "%s", out);
	cr_assert_not_null(strstr(out, "pingpong/line/thread/size:8 p50: 2 "
				       "runs, no change point"),
			   "%s", out);
	cr_assert_not_null(strstr(out, ".pingpong.csv"), "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history",
			     "/nonexistent/h.db", NULL),
		     2, "%s", out);
	store_free(&s);
}

Test(history_cli, csv_dir_is_an_existing_directory_or_made_by_mkdir,
     .timeout = 120)
{
	char out[16384], csv[300], file[300];
	struct store s;

	store_new(&s, false);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "-q", "--method", "line",
			     "--iters", "200", "--history", s.where, NULL),
		     0, "%s", out);
	/* an empty DIR is not the filesystem root */
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history", s.where,
			     "--csv", "", NULL),
		     2, "%s", out);
	cr_assert_not_null(strstr(out, "--csv '': expected a directory"), "%s",
			   out);
	cr_assert_null(strstr(out, "wrote"), "%s", out);
	/* a missing DIR is not made without --mkdir, as --history's */
	snprintf(csv, sizeof(csv), "%s/a/b", s.dir);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history", s.where,
			     "--csv", csv, NULL),
		     2, "%s", out);
	cr_assert_not_null(strstr(out, "no such directory (--mkdir"), "%s",
			   out);
	snprintf(file, sizeof(file), "%s/a", s.dir);
	cr_assert_neq(access(file, F_OK), 0);
	/* a file is not a directory */
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history", s.where,
			     "--csv", s.where, NULL),
		     2, "%s", out);
	cr_assert_not_null(strstr(out, "not a directory"), "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history", s.where,
			     "--mkdir", NULL),
		     2, "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history", s.where,
			     "--csv", csv, "--mkdir", NULL),
		     0, "%s", out);
	cr_assert_not_null(strstr(out, ".pingpong.csv"), "%s", out);
	cr_assert_not_null(strstr(out, "size:8 p50: 1 run, no change point"),
			   "%s", out);
	cr_assert_eq(access(csv, F_OK), 0);
	store_free(&s);
}

Test(history_cli, normalize_names_a_method, .timeout = 60)
{
	char out[16384];
	struct store s;

	store_new(&s, false);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "-q", "--method", "line",
			     "--iters", "200", "--history", s.where, NULL),
		     0, "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history", s.where,
			     "--normalize", "foo", NULL),
		     2, "%s", out);
	cr_assert_not_null(strstr(out, "--normalize 'foo': unknown method"),
			   "%s", out);
	cr_assert_null(strstr(out, "divided by"), "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history", s.where,
			     "--normalize", "line", NULL),
		     0, "%s", out);
	store_free(&s);
}

Test(history_cli, dry_run_refuses_the_store_the_run_would, .timeout = 60)
{
	const char text[] = "not a database\n";
	char out[16384], *b;
	struct ik_history *h;
	struct store s;
	size_t n, n1;

	store_new(&s, false);
	/* missing: the plan says it would append, and makes nothing */
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--dry-run", "--method",
			     "line", "--history", s.where, NULL),
		     0, "%s", out);
	cr_assert_not_null(strstr(out, "would append this run"), "%s", out);
	cr_assert_neq(access(s.where, F_OK), 0);
	/* an ipckern history: taken, left byte for byte */
	h = open_ok(&s);
	add_run(h, "m", 0, 100, 100);
	ik_history_close(h);
	b = slurp(s.where, &n);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--dry-run", "--method",
			     "line", "--history", s.where, NULL),
		     0, "%s", out);
	free(b);
	b = slurp(s.where, &n1);
	cr_assert_eq(n, n1);
	free(b);
	/* not SQLite: exit 2 as the run would, and no plan */
	write_file(s.where, text, sizeof(text) - 1);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--dry-run", "--method",
			     "line", "--history", s.where, NULL),
		     2, "%s", out);
	cr_assert_not_null(strstr(out, "not an SQLite database"), "%s", out);
	cr_assert_null(strstr(out, "would append"), "%s", out);
	b = slurp(s.where, &n);
	cr_assert_eq(n, sizeof(text) - 1);
	cr_assert_eq(memcmp(b, text, n), 0);
	free(b);
	store_free(&s);
}

Test(history_cli, group_shapes_and_preheat_are_series_of_their_own,
     .timeout = 180)
{
	const char *want[] = {"group/pipe/thread/size:8/fanout:1:1",
			      "group/pipe/thread/size:8/pipeline:2",
			      "pingpong/line/thread/size:8",
			      "pingpong/line/thread/size:8/preheat:20ms"};
	struct ik_hist_set set;
	struct ik_history *h;
	char out[32768], err[256];
	struct store s;

	store_new(&s, false);
	/* the same method and size under two shapes, and with and without
	 * --preheat: four cells, never one series of two setups */
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--fanout", "1:1",
			     "--method", "pipe", "--iters", "200", "--history",
			     s.where, NULL),
		     0, "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--pipeline", "2",
			     "--method", "pipe", "--iters", "200", "--history",
			     s.where, NULL),
		     0, "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--method", "line",
			     "--iters", "200", "--pin", "0,1", "--history",
			     s.where, NULL),
		     0, "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--method", "line",
			     "--iters", "200", "--pin", "0,1", "--preheat",
			     "20", "--history", s.where, NULL),
		     0, "%s", out);
	h = open_ok(&s);
	cr_assert_eq(ik_history_load(h, NULL, 0, 10, &set, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(set.ncells, 4);
	for (unsigned i = 0; i < 4; i++) {
		unsigned c = 0;

		while (c < set.ncells && strcmp(set.cells[c].name, want[i]))
			c++;
		cr_expect_lt(c, set.ncells, "no cell %s", want[i]);
	}
	ik_hist_set_free(&set);
	ik_history_close(h);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "history", s.where, NULL),
		     0, "%s", out);
	cr_assert_not_null(strstr(out, "size:8/fanout:1:1 p50: 1 run,"), "%s",
			   out);
	cr_assert_not_null(strstr(out, "size:8/pipeline:2 p50: 1 run,"), "%s",
			   out);
	store_free(&s);
}

Test(history_cli, gate_history_fails_on_a_step_naming_its_commit,
     .timeout = 180)
{
	struct ik_history_run hr = {.version = "test", .hostname = "h"};
	struct ik_machine m;
	struct ik_result res;
	struct ik_history *h;
	char out[32768], err[256];
	struct store s;
	long long id;

	store_new(&s, false);
	h = open_ok(&s);
	ik_machine_read(&m, "");
	ik_machine_fingerprint(&m, "", &hr.fp); /* this machine's class */
	/* in 2020: 14 runs at 0.01 ns, then 4 at 1 us (step1..step4); the
	 * real run comes after them. Whatever the real p50 (30 ns on a
	 * quiet run here, 100 us under load), the change began at step1
	 * and its segment holds the newest run: no number of this host's
	 * is needed to make the test fail or pass */
	for (unsigned i = 0; i < 18; i++) {
		double v = (i < 14 ? 0.01 : 1000) * noise(i, 0.01);
		char label[16];

		fake(&res, "line", &v, 1);
		snprintf(label, sizeof(label), i < 14 ? "old%u" : "step%u",
			 i < 14 ? i : i - 13);
		hr.label = label;
		snprintf(hr.time, sizeof(hr.time), "2020-01-01T00:%02u:00Z", i);
		cr_assert_eq(ik_history_append(h, &hr, &res, 1, &id, err,
					       sizeof(err)),
			     0, "%s", err);
		free(res.rep_v);
	}
	ik_history_close(h);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "-q", "--method", "line",
			     "--iters", "2000", "--history", s.where, "--gate",
			     "history", "--label", "now", NULL),
		     1, "%s", out);
	cr_assert_not_null(strstr(out, "GATE FAILED"), "%s", out);
	cr_assert_not_null(strstr(out, "pingpong/line/thread/size:8 p50 "
				       "changed +"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "beginning at run step1"), "%s", out);
	store_free(&s);
}

Test(history_cli, options_that_need_a_history_say_so)
{
	char out[4096];

	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--gate", "history", NULL),
		     2);
	cr_assert_not_null(strstr(out, "--gate history: reads the runs of "
				       "--history"),
			   "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--label", "x", NULL), 2);
	cr_assert_not_null(strstr(out, "--label"), "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--history", "x.db",
			     "--history-alpha", "0.01", NULL),
		     2);
	cr_assert_not_null(strstr(out, "applies to --gate history"), "%s", out);
	cr_assert_eq(ipckern(out, sizeof(out), NULL, "--history", "x.db",
			     "--gate", "history", "--history-alpha", "0.001",
			     NULL),
		     2);
	cr_assert_not_null(strstr(out, "from 0.005"), "%s", out);
	cr_assert_neq(access("x.db", F_OK), 0);
}
