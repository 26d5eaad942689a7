/* SPDX-License-Identifier: MIT */
/*
 * The history in PostgreSQL (libpq), for fleets: many CI machines
 * writing to one server. The same schema and SQL as SQLite's; here the
 * '?' parameters become $1, $2... and a first run takes an advisory
 * lock so that parallel first runs create the tables once. Other
 * tables of the database are left alone: ours are all named ik_*.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "history_db.h"

static void no_notices(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res; /* "relation already exists, skipping" and the like */
}

static int pg_open(struct ik_history *h, const char *url, bool create,
		   char *err, size_t n)
{
	PGconn *c = PQconnectdb(url);

	(void)create;
	if (!c)
		return snprintf(err, n, "out of memory"), -ENOMEM;
	if (PQstatus(c) != CONNECTION_OK) {
		const char *m = PQerrorMessage(c);

		snprintf(err, n, "cannot connect: %.*s", (int)strcspn(m, "\n"),
			 m);
		PQfinish(c);
		return -ECONNREFUSED;
	}
	PQsetNoticeReceiver(c, no_notices, NULL);
	h->db = c;
	return 0;
}

/* sql with each '?' as $k (ours never has '?' inside a literal). */
static char *numbered(const char *sql)
{
	size_t len = strlen(sql), q = 0, i;
	char *out, *w;
	int k = 0;

	for (i = 0; i < len; i++)
		q += sql[i] == '?';
	out = malloc(len + q * 4 + 1);
	if (!out)
		return NULL;
	for (w = out, i = 0; i < len; i++) {
		if (sql[i] == '?')
			w += sprintf(w, "$%d", ++k);
		else
			*w++ = sql[i];
	}
	*w = 0;
	return out;
}

static int pg_query(struct ik_history *h, const char *sql, int nparams,
		    const char *const *params, ik_hdb_row row, void *arg,
		    char *err, size_t n)
{
	char *s = numbered(sql);
	const char *cols[64];
	PGresult *res;
	int ret = 0, st, r, i, nc;

	if (!s)
		return snprintf(err, n, "out of memory"), -ENOMEM;
	res = PQexecParams(h->db, s, nparams, NULL, params, NULL, NULL, 0);
	free(s);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorMessage(res);
		const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		snprintf(err, n, "%.*s", (int)strcspn(m, "\n"), m);
		PQclear(res);
		/* class 08: the connection; 53: out of resources */
		return code && !strncmp(code, "08", 2)	 ? -ECONNRESET
		       : code && !strncmp(code, "53", 2) ? -ENOSPC
							 : -EIO;
	}
	nc = PQnfields(res);
	nc = nc > 64 ? 64 : nc;
	for (r = 0; row && r < PQntuples(res) && !ret; r++) {
		for (i = 0; i < nc; i++)
			cols[i] = PQgetisnull(res, r, i)
					  ? NULL
					  : PQgetvalue(res, r, i);
		ret = row(arg, nc, cols);
	}
	PQclear(res);
	return ret;
}

static int pg_ready(struct ik_history *h, char *err, size_t n)
{
	(void)h;
	(void)err;
	(void)n;
	return 0;
}

static void pg_close(struct ik_history *h)
{
	PQfinish(h->db);
}

const struct ik_hdb_ops ik_hdb_pg = {
	.name = "PostgreSQL",
	.id_type = "BIGSERIAL PRIMARY KEY",
	.begin = "BEGIN",
	.table_sql = "SELECT 1 FROM information_schema.tables WHERE "
		     "table_schema = current_schema() AND table_name = ?",
	.any_table_sql = NULL,
	/* "ik" in ASCII: one key for every ipckern history */
	.lock_sql = "SELECT pg_advisory_xact_lock(26987)",
	.open = pg_open,
	.query = pg_query,
	.ready = pg_ready,
	.close = pg_close,
};
