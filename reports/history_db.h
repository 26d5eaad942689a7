/* SPDX-License-Identifier: MIT */
/*
 * Inside reports/: the history's backends. Each supplies the same few
 * functions over its own connection; history.c writes one SQL for both,
 * with '?' for parameters (PostgreSQL's backend numbers them) and every
 * value passed and returned as text (NULL for SQL NULL). What differs
 * between the dialects is here, in data: the id column, how a
 * transaction that will write begins, and how to ask for a table.
 */
#ifndef IK_REPORTS_HISTORY_DB_H
#define IK_REPORTS_HISTORY_DB_H

#include <stdbool.h>
#include <stddef.h>

struct ik_history;

/* A row of a query: ncols values, NULL for SQL NULL. 0 to go on. */
typedef int (*ik_hdb_row)(void *arg, int ncols, const char *const *v);

struct ik_hdb_ops {
	const char *name;      /* "SQLite", "PostgreSQL" */
	const char *id_type;   /* an integer primary key the database fills */
	const char *begin;     /* a transaction that will write */
	const char *table_sql; /* one row when the table ? exists */
	/* one row when the store holds any table (a file not ours); NULL
	 * where others' tables are expected beside ours (a server) */
	const char *any_table_sql;
	/* in the schema's transaction, before reading its version: parallel
	 * first runs create it once (NULL: begin already locks) */
	const char *lock_sql;
	/* 0, -EINVAL refused (err why), other -errno */
	int (*open)(struct ik_history *h, const char *where, bool create,
		    char *err, size_t n);
	/* sql with nparams '?' values; row for each row (may be NULL) */
	int (*query)(struct ik_history *h, const char *sql, int nparams,
		     const char *const *params, ik_hdb_row row, void *arg,
		     char *err, size_t n);
	/* after the schema is ours and current: WAL for SQLite */
	int (*ready)(struct ik_history *h, char *err, size_t n);
	void (*close)(struct ik_history *h);
};

struct ik_history {
	const struct ik_hdb_ops *ops;
	void *db; /* sqlite3 *, PGconn * */
};

extern const struct ik_hdb_ops ik_hdb_sqlite, ik_hdb_pg;

#endif
