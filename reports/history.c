/* SPDX-License-Identifier: MIT */
/*
 * The results history: its schema as a list of migration steps, opening
 * a store (refusing what is not ours before writing to it), appending a
 * run in one transaction, and reading runs back as series. SQL here is
 * the same for both backends (history_sqlite.c, history_pg.c); what
 * differs is in struct ik_hdb_ops. docs/history.md documents the schema.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kernels/kernels.h"
#include "cell.h"
#include "history.h"
#include "history_db.h"

/*
 * The schema, one step per version: step k takes a store at version
 * k - 1 to k, in the transaction that checked the version. A step is
 * never edited once released; a change is a new step. %ID% is the
 * backend's id column. Every metric column is named by its key
 * (ik_metric_infos[].key), in that order.
 */
static const char *const step1[] = {
	"CREATE TABLE ik_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
	"INSERT INTO ik_meta (key, value) VALUES ('app', 'ipckern')",
	"INSERT INTO ik_meta (key, value) VALUES ('schema_version', '0')",
	"CREATE TABLE ik_runs (id %ID%, time_utc TEXT NOT NULL, label TEXT, "
	"version TEXT NOT NULL, class TEXT NOT NULL, cpu_model TEXT NOT NULL, "
	"kernel TEXT NOT NULL, vcpus BIGINT NOT NULL, hypervisor TEXT NOT "
	"NULL, governor TEXT NOT NULL, smt TEXT NOT NULL, hostname TEXT NOT "
	"NULL, partial TEXT)",
	"CREATE TABLE ik_cells (id %ID%, run_id BIGINT NOT NULL REFERENCES "
	"ik_runs (id), name TEXT NOT NULL, partner TEXT NOT NULL, kernel TEXT "
	"NOT NULL, method TEXT NOT NULL, mode TEXT NOT NULL, size BIGINT NOT "
	"NULL, cpu0 BIGINT, cpu1 BIGINT, error TEXT, repeats BIGINT NOT NULL)",
	"CREATE TABLE ik_values (cell_id BIGINT NOT NULL REFERENCES ik_cells "
	"(id), rep BIGINT NOT NULL, min_ns DOUBLE PRECISION, p50_ns DOUBLE "
	"PRECISION, p90_ns DOUBLE PRECISION, p99_ns DOUBLE PRECISION, "
	"p99_9_ns DOUBLE PRECISION, max_ns DOUBLE PRECISION, mean_ns DOUBLE "
	"PRECISION, msgs_per_sec DOUBLE PRECISION, bytes_per_sec DOUBLE "
	"PRECISION, cpu_ns_per_msg DOUBLE PRECISION, PRIMARY KEY (cell_id, "
	"rep))",
	NULL,
};
/* 2: the CPU's microcode joins the fingerprint (runs stored at 1 have
 * none: NULL), and the indexes a series is read by */
static const char *const step2[] = {
	"ALTER TABLE ik_runs ADD COLUMN microcode TEXT",
	"CREATE INDEX ik_runs_class ON ik_runs (class, time_utc)",
	"CREATE INDEX ik_cells_run ON ik_cells (run_id)",
	NULL,
};
static const char *const *const steps[] = {step1, step2};
_Static_assert(sizeof(steps) / sizeof(steps[0]) == IK_HISTORY_SCHEMA,
	       "one migration step per schema version");

/* a new metric is a new step adding its column (docs/ARCHITECTURE.md) */
_Static_assert(IK_NMETRICS == 10, "ik_values has one column per metric");
#define METRIC_COLS                                                            \
	"min_ns, p50_ns, p90_ns, p99_ns, p99_9_ns, max_ns, mean_ns, "          \
	"msgs_per_sec, bytes_per_sec, cpu_ns_per_msg"

static int bad(char *err, size_t n, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(char *err, size_t n, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return ret;
}

bool ik_history_is_url(const char *where)
{
	return !strncmp(where, "postgresql://", 13) ||
	       !strncmp(where, "postgres://", 11);
}

static int q(struct ik_history *h, const char *sql, int np,
	     const char *const *p, ik_hdb_row row, void *arg, char *err,
	     size_t n)
{
	return h->ops->query(h, sql, np, p, row, arg, err, n);
}

static int exec0(struct ik_history *h, const char *sql, char *err, size_t n)
{
	return q(h, sql, 0, NULL, NULL, NULL, err, n);
}

int ik_history_exec(struct ik_history *h, const char *sql, char *err, size_t n)
{
	return exec0(h, sql, err, n);
}

/* The first column of the first row, as text ("" none, '\1' NULL). */
struct first {
	char v[256];
	bool got;
};
static int first_fn(void *arg, int nc, const char *const *v)
{
	struct first *f = arg;

	if (!f->got && nc)
		snprintf(f->v, sizeof(f->v), "%s", v[0] ? v[0] : "\1");
	f->got = true;
	return 0;
}

static int query1(struct ik_history *h, const char *sql, int np,
		  const char *const *p, struct first *f, char *err, size_t n)
{
	memset(f, 0, sizeof(*f));
	return q(h, sql, np, p, first_fn, f, err, n);
}

/* A step's SQL with the backend's id column. */
static int run_step(struct ik_history *h, int k, char *err, size_t n)
{
	char sql[2048], ver[16];
	const char *p[] = {ver};
	int ret = 0;

	for (const char *const *s = steps[k - 1]; *s && !ret; s++) {
		const char *id = strstr(*s, "%ID%");

		if (id)
			snprintf(sql, sizeof(sql), "%.*s%s%s", (int)(id - *s),
				 *s, h->ops->id_type, id + 4);
		else
			snprintf(sql, sizeof(sql), "%s", *s);
		ret = exec0(h, sql, err, n);
	}
	snprintf(ver, sizeof(ver), "%d", k);
	if (!ret)
		ret = q(h,
			"UPDATE ik_meta SET value = ? WHERE key = "
			"'schema_version'",
			1, p, NULL, NULL, err, n);
	return ret;
}

/*
 * In one transaction: the store is ours (or empty, and becomes ours),
 * at a version this ipckern knows; then steps up to target.
 */
static int migrate(struct ik_history *h, int target, bool create, char *err,
		   size_t n)
{
	const char *meta[] = {"ik_meta"};
	struct first f;
	int ret, v = 0;
	char *end;

	ret = exec0(h, h->ops->begin, err, n);
	if (ret)
		return ret;
	if (h->ops->lock_sql)
		ret = exec0(h, h->ops->lock_sql, err, n);
	if (!ret)
		ret = query1(h, h->ops->table_sql, 1, meta, &f, err, n);
	if (ret)
		goto out;
	if (!f.got && !create) {
		ret = bad(err, n, -ENOENT, "no ipckern history there");
	} else if (!f.got) {
		if (h->ops->any_table_sql &&
		    !(ret = query1(h, h->ops->any_table_sql, 0, NULL, &f, err,
				   n)) &&
		    f.got)
			ret = bad(err, n, -EINVAL,
				  "an SQLite database but not an ipckern "
				  "history (no ik_meta table); refused, left "
				  "as it is");
	} else {
		ret = query1(h, "SELECT value FROM ik_meta WHERE key = 'app'",
			     0, NULL, &f, err, n);
		if (!ret && strcmp(f.v, "ipckern"))
			ret = bad(err, n, -EINVAL,
				  "its ik_meta table is not ipckern's (app "
				  "\"%.40s\"); refused, left as it is",
				  f.got ? f.v : "absent");
		if (!ret)
			ret = query1(h,
				     "SELECT value FROM ik_meta WHERE key = "
				     "'schema_version'",
				     0, NULL, &f, err, n);
		if (!ret) {
			v = (int)strtol(f.v, &end, 10);
			if (!f.got || *end || end == f.v || v < 0)
				ret = bad(err, n, -EINVAL,
					  "its ik_meta has no valid "
					  "schema_version (\"%.20s\"); "
					  "refused, left as it is",
					  f.v);
			else if (v > IK_HISTORY_SCHEMA)
				ret = bad(err, n, -EINVAL,
					  "schema version %d is newer than "
					  "this ipckern's %d: a newer ipckern "
					  "wrote it; refused, left as it is",
					  v, IK_HISTORY_SCHEMA);
		}
	}
	for (int k = v + 1; !ret && k <= target; k++)
		ret = run_step(h, k, err, n);
out:
	if (ret || !target) { /* target 0: only checked */
		char e2[64];

		exec0(h, "ROLLBACK", e2, sizeof(e2));
		return ret;
	}
	return exec0(h, "COMMIT", err, n);
}

static int open_at(const char *where, int target, bool create,
		   struct ik_history **out, char *err, size_t n)
{
	struct ik_history *h = calloc(1, sizeof(*h));
	int ret;

	*out = NULL;
	if (!h)
		return bad(err, n, -ENOMEM, "out of memory");
	h->ops = ik_history_is_url(where) ? &ik_hdb_pg : &ik_hdb_sqlite;
	ret = h->ops->open(h, where, create, err, n);
	if (ret) {
		free(h);
		return ret;
	}
	ret = migrate(h, target, create, err, n);
	if (!ret)
		ret = h->ops->ready(h, err, n);
	if (ret) {
		ik_history_close(h);
		return ret;
	}
	*out = h;
	return 0;
}

int ik_history_open(const char *where, bool create, struct ik_history **h,
		    char *err, size_t n)
{
	return open_at(where, IK_HISTORY_SCHEMA, create, h, err, n);
}

int ik_history_check(const char *where, char *err, size_t n)
{
	struct ik_history *h;
	int ret;

	/* SQLite would make a missing file on opening it */
	if (!ik_history_is_url(where) && access(where, F_OK) < 0 &&
	    errno == ENOENT)
		return 0;
	if (!(h = calloc(1, sizeof(*h))))
		return bad(err, n, -ENOMEM, "out of memory");
	h->ops = ik_history_is_url(where) ? &ik_hdb_pg : &ik_hdb_sqlite;
	ret = h->ops->open(h, where, true, err, n);
	if (ret) {
		free(h);
		return ret;
	}
	ret = migrate(h, 0, true, err, n);
	ik_history_close(h);
	return ret;
}

int ik_history_create_at(const char *where, int version, char *err, size_t n)
{
	struct ik_history *h;
	int ret;

	if (version < 1 || version > IK_HISTORY_SCHEMA)
		return bad(err, n, -EINVAL, "no schema version %d", version);
	ret = open_at(where, version, true, &h, err, n);
	ik_history_close(h);
	return ret;
}

void ik_history_close(struct ik_history *h)
{
	if (!h)
		return;
	h->ops->close(h);
	free(h);
}

int ik_history_version(struct ik_history *h)
{
	char err[200];
	struct first f;
	int ret;

	ret = query1(h,
		     "SELECT value FROM ik_meta WHERE key = 'schema_version'",
		     0, NULL, &f, err, sizeof(err));
	return ret ? ret : f.got ? atoi(f.v) : -ENOENT;
}

/* ---- appending ---- */

static int id_fn(void *arg, int nc, const char *const *v)
{
	*(long long *)arg = nc && v[0] ? strtoll(v[0], NULL, 10) : 0;
	return 0;
}

/* A cell's name as gbench writes it (a matrix's with its CPUs), and
 * the same with the method left out. */
static void cell_names(const struct ik_result *res, bool matrix,
		       struct ik_hist_cell *c)
{
	struct ik_cell_key k;
	size_t l;

	ik_cell_key_of(res, &k);
	snprintf(c->method, sizeof(c->method), "%s", k.method);
	snprintf(c->kernel, sizeof(c->kernel), "%s",
		 ik_cell_kernel_name(k.kernel));
	for (int side = 0; side < 2; side++) {
		char *b = side ? c->partner : c->name;

		if (side)
			snprintf(k.method, sizeof(k.method), "*");
		ik_cell_key_name(&k, IK_CELL_NAME_GBENCH, b, sizeof(c->name));
		l = strlen(b);
		if (matrix && k.cpu[0] >= 0 && l < sizeof(c->name))
			snprintf(b + l, sizeof(c->name) - l, "/cpus:%d,%d",
				 k.cpu[0], k.cpu[1]);
	}
}

static int append_cell(struct ik_history *h, const char *run_id,
		       const struct ik_result *res, bool matrix, char *err,
		       size_t n)
{
	unsigned k = res->err ? 0 : res->rep_v ? res->repeats : 1;
	char cid[32], rep[16], size[32], cpu[2][16], reps[16];
	char num[IK_NMETRICS][32];
	const char *p[12];
	struct ik_hist_cell c;
	struct ik_cell_key key;
	double one[IK_NMETRICS];
	long long id = 0;
	int ret;

	cell_names(res, matrix, &c);
	ik_cell_key_of(res, &key);
	snprintf(size, sizeof(size), "%" PRIu64, key.size);
	for (int s = 0; s < 2; s++)
		snprintf(cpu[s], sizeof(cpu[s]), "%d", key.cpu[s]);
	snprintf(reps, sizeof(reps), "%u", k);
	{
		const char *cp[] = {run_id,
				    c.name,
				    c.partner,
				    c.kernel,
				    c.method,
				    key.mode,
				    size,
				    key.cpu[0] >= 0 ? cpu[0] : NULL,
				    key.cpu[1] >= 0 ? cpu[1] : NULL,
				    res->err ? res->errmsg : NULL,
				    reps};

		ret = q(h,
			"INSERT INTO ik_cells (run_id, name, partner, kernel, "
			"method, mode, size, cpu0, cpu1, error, repeats) "
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			11, cp, id_fn, &id, err, n);
	}
	if (ret)
		return ret;
	snprintf(cid, sizeof(cid), "%lld", id);
	if (k && !res->rep_v)
		ik_metrics_of(res, one);
	for (unsigned r = 0; r < k && !ret; r++) {
		p[0] = cid;
		snprintf(rep, sizeof(rep), "%u", r);
		p[1] = rep;
		for (int m = 0; m < IK_NMETRICS; m++) {
			double v =
				res->rep_v ? ik_rep_value(res, r, m) : one[m];

			snprintf(num[m], sizeof(num[m]), "%.17g", v);
			p[2 + m] = isfinite(v) ? num[m] : NULL;
		}
		ret = q(h,
			"INSERT INTO ik_values (cell_id, rep, " METRIC_COLS
			") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			12, p, NULL, NULL, err, n);
	}
	return ret;
}

int ik_history_append(struct ik_history *h, const struct ik_history_run *run,
		      const struct ik_result *results, unsigned n,
		      long long *id, char *err, size_t len)
{
	const struct ik_fingerprint *fp = &run->fp;
	char vcpus[16], rid[32];
	const char *p[] = {run->time,	 run->label,	run->version,
			   fp->klass,	 fp->cpu_model, fp->microcode,
			   fp->kernel,	 vcpus,		fp->hypervisor,
			   fp->governor, fp->smt,	run->hostname,
			   run->partial};
	int ret;

	snprintf(vcpus, sizeof(vcpus), "%d", fp->vcpus);
	*id = 0;
	ret = exec0(h, h->ops->begin, err, len);
	if (ret)
		return ret;
	ret = q(h,
		"INSERT INTO ik_runs (time_utc, label, version, class, "
		"cpu_model, microcode, kernel, vcpus, hypervisor, governor, "
		"smt, hostname, partial) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		"?, ?, ?) RETURNING id",
		13, p, id_fn, id, err, len);
	snprintf(rid, sizeof(rid), "%lld", *id);
	for (unsigned i = 0; i < n && !ret; i++)
		ret = append_cell(h, rid, &results[i], run->matrix, err, len);
	if (!ret)
		ret = exec0(h, "COMMIT", err, len);
	if (ret) {
		char e2[64];

		exec0(h, "ROLLBACK", e2, sizeof(e2));
		*id = 0;
	}
	return ret;
}

/* ---- reading back ---- */

static void copyz(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

struct runs_job {
	struct ik_hist_set *s;
	unsigned cap;
};
static int run_fn(void *arg, int nc, const char *const *v)
{
	struct runs_job *j = arg;
	struct ik_hist_set *s = j->s;
	struct ik_hist_run *r;

	if (nc < 5)
		return -EIO;
	if (s->nruns == j->cap) {
		unsigned cap = j->cap ? 2 * j->cap : 64;
		void *p = realloc(s->runs, cap * sizeof(*s->runs));

		if (!p)
			return -ENOMEM;
		s->runs = p;
		j->cap = cap;
	}
	r = &s->runs[s->nruns++];
	r->id = v[0] ? strtoll(v[0], NULL, 10) : 0;
	copyz(r->time, sizeof(r->time), v[1]);
	copyz(r->label, sizeof(r->label), v[2]);
	copyz(r->klass, sizeof(r->klass), v[3]);
	copyz(r->partial, sizeof(r->partial), v[4] ? "yes" : "");
	return 0;
}

/* One value of a run's cell, before the set is laid out. */
struct val {
	unsigned run, cell, rep;
	double v[IK_NMETRICS];
};
struct vals_job {
	struct ik_hist_set *s;
	unsigned run, ccap;
	struct val *v;
	size_t n, cap;
};
static int val_fn(void *arg, int nc, const char *const *v)
{
	struct vals_job *j = arg;
	struct ik_hist_set *s = j->s;
	unsigned c;
	struct val *x;

	if (nc < 6 + IK_NMETRICS || !v[0])
		return -EIO;
	for (c = 0; c < s->ncells && strcmp(s->cells[c].name, v[0]); c++)
		;
	if (c == s->ncells) {
		if (s->ncells == j->ccap) {
			unsigned cap = j->ccap ? 2 * j->ccap : 32;
			void *p = realloc(s->cells, cap * sizeof(*s->cells));

			if (!p)
				return -ENOMEM;
			s->cells = p;
			j->ccap = cap;
		}
		copyz(s->cells[c].name, sizeof(s->cells[c].name), v[0]);
		copyz(s->cells[c].partner, sizeof(s->cells[c].partner), v[1]);
		copyz(s->cells[c].method, sizeof(s->cells[c].method), v[2]);
		copyz(s->cells[c].kernel, sizeof(s->cells[c].kernel), v[3]);
		s->ncells++;
	}
	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 256;
		void *p = realloc(j->v, cap * sizeof(*j->v));

		if (!p)
			return -ENOMEM;
		j->v = p;
		j->cap = cap;
	}
	x = &j->v[j->n++];
	x->run = j->run;
	x->cell = c;
	x->rep = v[5] ? (unsigned)strtoul(v[5], NULL, 10) : 0;
	for (int m = 0; m < IK_NMETRICS; m++)
		x->v[m] = v[6 + m] ? strtod(v[6 + m], NULL) : NAN;
	return 0;
}

/* obs[] from the values read: each (run, cell) its repeats in order. */
static int lay_out(struct ik_hist_set *s, struct vals_job *j)
{
	size_t i, no = (size_t)s->nruns * s->ncells;

	s->obs = calloc(no ? no : 1, sizeof(*s->obs));
	if (!s->obs)
		return -ENOMEM;
	for (i = 0; i < j->n; i++)
		s->obs[j->v[i].run * s->ncells + j->v[i].cell].reps++;
	for (i = 0; i < no; i++) {
		if (!s->obs[i].reps)
			continue;
		s->obs[i].v =
			malloc(s->obs[i].reps * IK_NMETRICS * sizeof(double));
		if (!s->obs[i].v)
			return -ENOMEM;
		s->obs[i].reps = 0; /* counts them in again below */
	}
	for (i = 0; i < j->n; i++) {
		struct ik_hist_obs *o =
			&s->obs[j->v[i].run * s->ncells + j->v[i].cell];

		memcpy(o->v + (size_t)o->reps++ * IK_NMETRICS, j->v[i].v,
		       sizeof(j->v[i].v));
	}
	return 0;
}

int ik_history_load(struct ik_history *h, const char *klass, long long upto,
		    unsigned max, struct ik_hist_set *s, char *err, size_t n)
{
	struct runs_job rj = {s, 0};
	struct vals_job vj = {.s = s};
	char sql[1024], lim[16], up[32], t[256];
	const char *p[5];
	int np = 0, ret = 0;

	memset(s, 0, sizeof(*s));
	snprintf(lim, sizeof(lim), "%u", max);
	snprintf(up, sizeof(up), "%lld", upto);
	if (upto) {
		const char *pp[] = {up};
		struct first f;

		ret = query1(h, "SELECT time_utc FROM ik_runs WHERE id = ?", 1,
			     pp, &f, err, n);
		if (!ret && !f.got)
			ret = bad(err, n, -ENOENT, "no run %lld", upto);
		if (ret)
			return ret;
		snprintf(t, sizeof(t), "%s", f.v);
	}
	snprintf(sql, sizeof(sql),
		 "SELECT id, time_utc, label, class, partial FROM ik_runs "
		 "WHERE partial IS NULL%s%s ORDER BY time_utc DESC, id DESC "
		 "LIMIT ?",
		 klass ? " AND class = ?" : "",
		 upto ? " AND (time_utc < ? OR (time_utc = ? AND id <= ?))"
		      : "");
	if (klass)
		p[np++] = klass;
	if (upto) {
		p[np++] = t;
		p[np++] = t;
		p[np++] = up;
	}
	p[np++] = lim;
	ret = q(h, sql, np, p, run_fn, &rj, err, n);
	/* newest first from the query: oldest first for the series */
	for (unsigned i = 0; !ret && i < s->nruns / 2; i++) {
		struct ik_hist_run x = s->runs[i];

		s->runs[i] = s->runs[s->nruns - 1 - i];
		s->runs[s->nruns - 1 - i] = x;
	}
	for (unsigned i = 0; !ret && i < s->nruns; i++) {
		char rid[32];
		const char *pp[] = {rid};

		snprintf(rid, sizeof(rid), "%lld", s->runs[i].id);
		vj.run = i;
		ret = q(h,
			"SELECT c.name, c.partner, c.method, c.kernel, c.id, "
			"v.rep, " METRIC_COLS " FROM ik_cells c JOIN ik_values "
			"v ON v.cell_id = c.id WHERE c.run_id = ? AND c.error "
			"IS NULL ORDER BY c.id, v.rep",
			1, pp, val_fn, &vj, err, n);
		if (ret == -ENOMEM || ret == -EIO)
			snprintf(err, n, "%s",
				 ret == -ENOMEM ? "out of memory"
						: "a row not as the "
						  "schema has it");
	}
	if (!ret && (ret = lay_out(s, &vj)))
		snprintf(err, n, "out of memory");
	free(vj.v);
	if (ret)
		ik_hist_set_free(s);
	return ret;
}

void ik_hist_set_free(struct ik_hist_set *s)
{
	if (s->obs)
		for (size_t i = 0; i < (size_t)s->nruns * s->ncells; i++)
			free(s->obs[i].v);
	free(s->obs);
	free(s->runs);
	free(s->cells);
	memset(s, 0, sizeof(*s));
}

struct classes_job {
	char **v;
	unsigned n;
};
static int class_fn(void *arg, int nc, const char *const *v)
{
	struct classes_job *j = arg;
	char **p;

	if (nc < 2)
		return -EIO;
	p = realloc(j->v, (j->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	j->v = p;
	if (asprintf(&j->v[j->n], "%s\t%s", v[0] ? v[0] : "",
		     v[1] ? v[1] : "") < 0)
		return -ENOMEM;
	j->n++;
	return 0;
}

int ik_history_classes(struct ik_history *h, char ***out, unsigned *n,
		       char *err, size_t len)
{
	struct classes_job j = {0};
	int ret;

	ret = q(h,
		"SELECT r.class, r.cpu_model FROM ik_runs r JOIN (SELECT "
		"class, max(id) AS id FROM ik_runs GROUP BY class) m ON m.id "
		"= r.id ORDER BY r.class",
		0, NULL, class_fn, &j, err, len);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, len, "out of memory");
		for (unsigned i = 0; i < j.n; i++)
			free(j.v[i]);
		free(j.v);
		return ret;
	}
	*out = j.v;
	*n = j.n;
	return 0;
}

static int fp_fn(void *arg, int nc, const char *const *v)
{
	struct ik_fingerprint *fp = arg;

	if (nc < 8)
		return -EIO;
	copyz(fp->cpu_model, sizeof(fp->cpu_model), v[0]);
	copyz(fp->microcode, sizeof(fp->microcode), v[1]);
	copyz(fp->kernel, sizeof(fp->kernel), v[2]);
	fp->vcpus = v[3] ? atoi(v[3]) : 0;
	copyz(fp->hypervisor, sizeof(fp->hypervisor), v[4]);
	copyz(fp->governor, sizeof(fp->governor), v[5]);
	copyz(fp->smt, sizeof(fp->smt), v[6]);
	copyz(fp->klass, sizeof(fp->klass), v[7]);
	return 0;
}

int ik_history_fingerprint(struct ik_history *h, long long id,
			   struct ik_fingerprint *fp, char *err, size_t n)
{
	char rid[32];
	const char *p[] = {rid};
	int ret;

	snprintf(rid, sizeof(rid), "%lld", id);
	memset(fp, 0, sizeof(*fp));
	ret = q(h,
		"SELECT cpu_model, microcode, kernel, vcpus, hypervisor, "
		"governor, smt, class FROM ik_runs WHERE id = ?",
		1, p, fp_fn, fp, err, n);
	if (!ret && !*fp->klass)
		ret = bad(err, n, -ENOENT, "no run %lld", id);
	return ret;
}
