/* SPDX-License-Identifier: MIT */
/*
 * The history in an SQLite file: the embedded default, nothing to
 * start. A file is checked before SQLite writes a byte to it: a regular
 * file, SQLite's header, intact (quick_check) and, if it has tables,
 * ipckern's meta; history.c then checks the version. Parallel writers
 * (CI jobs on one file) wait for each other: WAL lets readers go on
 * while one writes, and the busy timeout queues the writers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "history_db.h"

#define BUSY_MS 60000 /* a CI job waits this long for another's write */

static int fail(char *err, size_t n, int ret, const char *fmt, const char *s)
{
	snprintf(err, n, fmt, s);
	return ret;
}

/* -EINVAL for what the file is (refused), -EIO for the rest. */
static int sq_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EINVAL;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

/*
 * What the file is before SQLite sees it: missing (*fresh), empty
 * (*fresh), or a regular file, *foreign when it lacks SQLite's header
 * (a verdict for SQLite's own reader to confirm: a file being created
 * by a parallel writer may be caught half written). Opened
 * O_NONBLOCK so a FIFO cannot stall us; fstat on what was opened.
 */
static int check_file(const char *path, bool *fresh, bool *foreign, char *err,
		      size_t n)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	struct stat st;
	ssize_t got;
	int fd;

	*fresh = *foreign = false;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*fresh = true;
		return 0;
	}
	if (fd < 0)
		return fail(err, n, errno == EACCES ? -EACCES : -EIO,
			    "cannot open it: %s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, n, -EINVAL,
			    "not a regular file%s; a history is an SQLite "
			    "file (or a postgresql:// URL)",
			    "");
	}
	if (!st.st_size) {
		close(fd);
		*fresh = true;
		return 0;
	}
	got = pread(fd, head, sizeof(head), 0);
	close(fd);
	*foreign = got != (ssize_t)sizeof(head) ||
		   memcmp(head, magic, sizeof(head));
	return 0;
}

static int one_row(void *arg, int ncols, const char *const *v)
{
	char *out = arg;

	snprintf(out, 64, "%s", ncols && v[0] ? v[0] : "");
	return 0;
}

static int sq_query(struct ik_history *h, const char *sql, int nparams,
		    const char *const *params, ik_hdb_row row, void *arg,
		    char *err, size_t n);

/* path as a file: URI (its '?', '#' and '%' escaped). */
static void uri_of(const char *path, bool immutable, char *out)
{
	char *w = out + sprintf(out, "file:");

	for (const char *p = path; *p; p++)
		if (*p == '?' || *p == '#' || *p == '%')
			w += sprintf(w, "%%%02X", (unsigned char)*p);
		else
			*w++ = *p;
	strcpy(w, immutable ? "?immutable=1" : "");
}

/*
 * An existing file, read only: intact (history.c checks it is ours).
 * immutable: read the file alone, without locks or a WAL beside it, so
 * that checking a file in WAL mode makes no -wal or -shm file.
 */
static int check_db(const char *path, bool immutable, char *err, size_t n)
{
	struct ik_history h = {.ops = &ik_hdb_sqlite};
	char ok[64] = "", *uri;
	sqlite3 *db;
	int rc, ret;

	uri = sqlite3_malloc64(3 * strlen(path) + 32);
	if (!uri)
		return fail(err, n, -ENOMEM, "out of memory%s", "");
	uri_of(path, immutable, uri);
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
			     NULL);
	sqlite3_free(uri);
	if (rc != SQLITE_OK) {
		snprintf(err, n, "cannot open it: %s", sqlite3_errstr(rc));
		sqlite3_close(db);
		return sq_errno(rc);
	}
	sqlite3_busy_timeout(db, BUSY_MS);
	h.db = db;
	ret = sq_query(&h, "PRAGMA quick_check", 0, NULL, one_row, ok, err, n);
	if (!ret && strcmp(ok, "ok")) {
		snprintf(err, n, "corrupt (quick_check: %.60s)", ok);
		ret = -EINVAL;
	}
	if (ret == -EINVAL && !strstr(err, "corrupt")) {
		char why[200];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, n, "corrupt or not a database (%s)", why);
	}
	sqlite3_close(db);
	return ret;
}

/*
 * The immutable check first. A writer checkpointing at that moment can
 * make the file look corrupt to it (pages half copied from the WAL), so
 * a corrupt verdict is confirmed by an ordinary reader; the -wal and
 * -shm files that reader makes, if there were none, are removed again.
 */
static int check_db_twice(const char *path, char *err, size_t n)
{
	const char *sfx[] = {"-wal", "-shm"};
	bool had[2];
	char side[2][4200];
	int ret = check_db(path, true, err, n);

	if (ret != -EINVAL)
		return ret;
	for (int i = 0; i < 2; i++) {
		snprintf(side[i], sizeof(side[i]), "%s%s", path, sfx[i]);
		had[i] = !access(side[i], F_OK);
	}
	ret = check_db(path, false, err, n);
	for (int i = 0; ret == -EINVAL && i < 2; i++)
		if (!had[i])
			unlink(side[i]);
	return ret;
}

static int sq_open(struct ik_history *h, const char *path, bool create,
		   char *err, size_t n)
{
	bool fresh, foreign;
	sqlite3 *db;
	int rc, ret;

	ret = check_file(path, &fresh, &foreign, err, n);
	if (ret)
		return ret;
	if (fresh && !create)
		return fail(err, n, -ENOENT, "no such history%s", "");
	if (!fresh && (ret = check_db_twice(path, err, n))) {
		if (ret == -EINVAL && foreign)
			fail(err, n, ret,
			     "not an SQLite database%s; refused, left as it is",
			     "");
		return ret;
	}
	rc = sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE |
				     (create ? SQLITE_OPEN_CREATE : 0),
			     NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, n, "cannot open it: %s", sqlite3_errstr(rc));
		sqlite3_close(db);
		return sq_errno(rc);
	}
	sqlite3_busy_timeout(db, BUSY_MS);
	sqlite3_extended_result_codes(db, 1);
	h->db = db;
	return 0;
}

static int sq_query(struct ik_history *h, const char *sql, int nparams,
		    const char *const *params, ik_hdb_row row, void *arg,
		    char *err, size_t n)
{
	sqlite3 *db = h->db;
	const char *cols[64];
	char num[64][32];
	sqlite3_stmt *st;
	int rc, i, nc, ret = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, n, "%s", sqlite3_errmsg(db));
		return sq_errno(rc);
	}
	for (i = 0; i < nparams; i++) {
		rc = params[i] ? sqlite3_bind_text(st, i + 1, params[i], -1,
						   SQLITE_STATIC)
			       : sqlite3_bind_null(st, i + 1);
		if (rc != SQLITE_OK)
			break;
	}
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		nc = sqlite3_column_count(st);
		nc = nc > 64 ? 64 : nc;
		for (i = 0; i < nc; i++) {
			int t = sqlite3_column_type(st, i);

			/* REAL as text keeps all 17 digits, not SQLite's 15 */
			if (t == SQLITE_FLOAT) {
				snprintf(num[i], sizeof(num[i]), "%.17g",
					 sqlite3_column_double(st, i));
				cols[i] = num[i];
			} else {
				cols[i] = t == SQLITE_NULL
						  ? NULL
						  : (const char *)
							    sqlite3_column_text(
								    st, i);
			}
		}
		if (row && (ret = row(arg, nc, cols)))
			break;
	}
	if (!ret && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		snprintf(err, n, "%s", sqlite3_errmsg(db));
		ret = sq_errno(rc);
	}
	sqlite3_finalize(st);
	return ret;
}

/*
 * WAL once the file is ours; it persists in the file. The switch reads
 * the mode (a shared lock) and then needs the file alone: two writers
 * switching at once each hold what the other waits for, and SQLite
 * answers that at once with SQLITE_BUSY, without the busy handler. So
 * the switch is retried here, within the same BUSY_MS, until one of
 * them has made the file WAL.
 */
static int sq_ready(struct ik_history *h, char *err, size_t n)
{
	char mode[64];
	int ret, waited = 0, pause = 1;

	for (;;) {
		mode[0] = '\0';
		ret = sq_query(h, "PRAGMA journal_mode", 0, NULL, one_row, mode,
			       err, n);
		if (ret || !strcmp(mode, "wal"))
			return ret;
		ret = sq_query(h, "PRAGMA journal_mode = WAL", 0, NULL, NULL,
			       NULL, err, n);
		if (ret != -EBUSY || waited >= BUSY_MS)
			return ret;
		sqlite3_sleep(pause);
		waited += pause;
		pause = pause < 32 ? 2 * pause : pause;
	}
}

static void sq_close(struct ik_history *h)
{
	sqlite3_close(h->db);
}

const struct ik_hdb_ops ik_hdb_sqlite = {
	.name = "SQLite",
	.id_type = "INTEGER PRIMARY KEY",
	/* the write lock now, not at the first write: two writers that
	 * both read first would deadlock, one failing with SQLITE_BUSY */
	.begin = "BEGIN IMMEDIATE",
	.table_sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
		     "name = ?",
	.any_table_sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' "
			 "LIMIT 1",
	.open = sq_open,
	.query = sq_query,
	.ready = sq_ready,
	.close = sq_close,
};
