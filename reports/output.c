/* SPDX-License-Identifier: MIT */
/*
 * Where a report goes. A benchmark that CI runs as root must not damage
 * the machine: an existing file that is not a regular one (/dev/null, a
 * FIFO, a terminal, /dev/stdout) is written where it is, never replaced;
 * "-" is stdout. A regular file is replaced atomically: the bytes go to
 * an unnamed O_TMPFILE beside it (so even SIGKILL leaves nothing). A new
 * file is then linked in under its name, whole, in one step; an existing
 * one is replaced by linking under a short temporary name and renaming
 * over it, keeping its mode and owner (only a SIGKILL between those two
 * syscalls can leave the temporary behind).
 *
 * The report is first rendered into memory and then written with
 * write(2), so a failure carries its real errno (ENOSPC, EPIPE), not
 * stdio's "something failed".
 *
 * Every output is checked before anything is measured (ik_output_check):
 * a missing or unwritable directory, a directory or socket as target,
 * two outputs on one file, an output that is also an input.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "reports.h"

/* "-", /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: an fd of
 * ours, written as it is (appending to what the shell opened), or -1. */
static int std_fd(const char *path)
{
	const char *p = NULL;
	char *end;
	long n;

	if (!strcmp(path, "-") || !strcmp(path, "/dev/stdout"))
		return STDOUT_FILENO;
	if (!strcmp(path, "/dev/stderr"))
		return STDERR_FILENO;
	if (!strncmp(path, "/dev/fd/", 8))
		p = path + 8;
	else if (!strncmp(path, "/proc/self/fd/", 14))
		p = path + 14;
	if (!p || *p < '0' || *p > '9')
		return -1;
	errno = 0;
	n = strtol(p, &end, 10);
	if (*end || errno || n > INT_MAX)
		return -1;
	return (int)n;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static mode_t file_mode(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return 0666 & ~mask;
}

/*
 * What ik_output_check saw before the run, so that the write can tell
 * the file the user named from one planted while we measured: another
 * user may create a symlink or a FIFO under a name in /tmp.
 */
enum seen_kind { SEEN_NEW, SEEN_FILE, SEEN_LINK, SEEN_DEV };
static struct seen {
	const char *path;
	enum seen_kind kind;
	dev_t dev; /* SEEN_LINK, SEEN_DEV: the file it reached */
	ino_t ino;
} seen[8];
static unsigned nseen;

static const struct seen *seen_of(const char *path)
{
	unsigned i;

	for (i = 0; i < nseen; i++)
		if (!strcmp(seen[i].path, path))
			return &seen[i];
	return NULL;
}

/* mkdir -p for the parents of path; only what is missing is made. */
static int make_parents(const char *path)
{
	char *d = strdup(path), *p;
	int ret = 0;

	if (!d)
		return -ENOMEM;
	for (p = d + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(d, 0777) < 0 && errno != EEXIST) {
			ret = -errno;
			break;
		}
		*p = '/';
	}
	free(d);
	return ret;
}

int ik_output_mkdirs(const char *path)
{
	return make_parents(path);
}

/* A short random name in dirfd: ".ik" and six characters. */
static int tmp_name(char name[16])
{
	uint8_t r[6];
	unsigned i;

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -errno;
	memcpy(name, ".ik", 3);
	for (i = 0; i < 6; i++)
		name[3 + i] = "abcdefghijklmnopqrstuvwxyz0123456789"[r[i] % 36];
	name[9] = '\0';
	return 0;
}

/*
 * base in dirfd, a regular file or none: the bytes go to an unnamed
 * O_TMPFILE (a named one where the filesystem has none), which is linked
 * in under base when nothing is there (never following what is), or
 * under a short temporary name renamed over base. Names are relative to
 * dirfd, so any legal path works. old: what base was (mode and owner are
 * kept), or NULL.
 */
static int replace_at(int dirfd, const char *base, const struct stat *old,
		      const char *buf, size_t len)
{
	char tmp[16], proc[64];
	bool named = false;
	int fd, ret = 0, tries;

	/* a directory we may not write, a file we may: in place */
	if (old && faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
		fd = openat(dirfd, base,
			    O_WRONLY | O_TRUNC | O_NOCTTY | O_NOFOLLOW |
				    O_CLOEXEC);
		if (fd < 0)
			return -errno;
		ret = write_all(fd, buf, len);
		goto close;
	}
	fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, file_mode());
	if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	for (tries = 0; fd < 0 && tries < 100; tries++) {
		/* no O_TMPFILE here: a named one from the start */
		if ((ret = tmp_name(tmp)))
			return ret;
		fd = openat(dirfd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    file_mode());
		if (fd < 0 && errno != EEXIST)
			return -errno;
		named = fd >= 0;
	}
	if (fd < 0)
		return -EEXIST;
	if (old) {
		/* the replacement is the same file to everyone who had it;
		 * chown before chmod, which chown may clear bits of. Not
		 * ours to give away as an ordinary user: keep ours then. */
		if (old->st_uid != geteuid() || old->st_gid != getegid())
			(void)!fchown(fd, old->st_uid, old->st_gid);
		fchmod(fd, old->st_mode & 07777);
	}
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0 && errno != EINVAL)
		ret = -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	/* nothing there: linked in under its name, whole, in one step
	 * (linkat never follows a symlink at the new name) */
	if (!ret && !named && !old) {
		if (!linkat(AT_FDCWD, proc, dirfd, base, AT_SYMLINK_FOLLOW))
			goto close;
		if (errno != EEXIST)
			ret = -errno;
	}
	/* replacing: a temporary name for rename, which replaces the name
	 * base and never writes through it */
	for (tries = 0; !ret && !named && tries < 100; tries++) {
		if ((ret = tmp_name(tmp)))
			break;
		if (!linkat(AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW))
			named = true;
		else if (errno != EEXIST)
			ret = -errno;
	}
	if (!ret && !named)
		ret = -EEXIST;
	if (!ret && renameat(dirfd, tmp, dirfd, base) < 0)
		ret = -errno;
	if (ret && named)
		unlinkat(dirfd, tmp, 0);
close:
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

/* path, a regular file or none, replaced through its directory. */
static int replace(const char *path, const struct stat *old, bool mkdirs,
		   const char *buf, size_t len)
{
	char *copy = strdup(path), *slash;
	const char *dir = ".", *base = path;
	int dirfd, ret;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		base = path + (slash - copy) + 1;
	}
	if (mkdirs && slash && (ret = make_parents(path))) {
		free(copy);
		return ret;
	}
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		ret = -errno;
		free(copy);
		return ret;
	}
	ret = replace_at(dirfd, base, old, buf, len);
	close(dirfd);
	free(copy);
	return ret;
}

/* A device or FIFO, written where it is. A FIFO nobody reads is an
 * error now, not a wait for ever that no signal ends. */
static int in_place(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), ret,
	    fl;

	if (fd < 0)
		return errno == ENXIO ? -EPIPE : -errno; /* FIFO: no reader */
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	ret = write_all(fd, buf, len);
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

/* The fd of ours (stdout, stderr) that st is, or -1. */
static int our_fd(const struct stat *st)
{
	struct stat o;
	int fd;

	for (fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++)
		if (!fstat(fd, &o) && o.st_dev == st->st_dev &&
		    o.st_ino == st->st_ino && !S_ISDIR(o.st_mode))
			return fd;
	return -1;
}

static int deliver(const char *path, bool mkdirs, const char *buf, size_t len)
{
	const struct seen *sn = seen_of(path);
	int fd = std_fd(path);
	struct stat l, st;
	char *real;

	if (fd >= 0) {
		if (fd <= STDERR_FILENO)
			fflush(fd == STDOUT_FILENO ? stdout : stderr);
		return write_all(fd, buf, len);
	}
	if (lstat(path, &l) < 0) {
		if (errno != ENOENT)
			return -errno;
		return replace(path, NULL, mkdirs, buf, len);
	}
	if (stat(path, &st) < 0)
		return -errno; /* a dangling symlink: never followed */
	/* stdout or stderr under another name (/dev/../dev/stdout, a link,
	 * the file the shell redirected to): through the fd, in order */
	fd = our_fd(&st);
	if (fd >= 0) {
		fflush(fd == STDOUT_FILENO ? stdout : stderr);
		return write_all(fd, buf, len);
	}
	/* what was checked before the run, or nothing we write through */
	if (S_ISLNK(l.st_mode) &&
	    (!sn || sn->kind != SEEN_LINK || sn->dev != st.st_dev ||
	     sn->ino != st.st_ino))
		return sn ? -EEXIST : -ELOOP;
	if (!S_ISLNK(l.st_mode) && !S_ISREG(l.st_mode) && sn &&
	    (sn->kind != SEEN_DEV || sn->dev != st.st_dev ||
	     sn->ino != st.st_ino))
		return -EEXIST;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode)) {
		if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
			return -ENXIO; /* a socket or a disk */
		return in_place(path, buf, len);
	}
	if (!S_ISLNK(l.st_mode))
		/* a file that appeared during the run is replaced by name,
		 * never written through, and takes nothing of its owner's */
		return replace(path, sn && sn->kind == SEEN_NEW ? NULL : &st,
			       mkdirs, buf, len);
	/* the user's own symlink to a file: the file is replaced, the
	 * link kept */
	real = realpath(path, NULL);
	if (!real)
		return -errno;
	fd = replace(real, &st, false, buf, len);
	free(real);
	return fd;
}

int ik_output_write(const char *path, bool mkdirs,
		    int (*fn)(const void *arg, FILE *f), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int ret;

	if (!m)
		return -errno;
	ret = fn(arg, m);
	if (fclose(m) && !ret)
		ret = -ENOMEM;
	if (!ret)
		ret = deliver(path, mkdirs, buf, len);
	free(buf);
	return ret;
}

/* The nearest existing ancestor of path (a copy), and how many levels
 * below it are missing. */
static char *existing_ancestor(const char *path, unsigned *missing)
{
	char *d = strdup(path), *p;
	struct stat st;

	*missing = 0;
	while (d) {
		p = strrchr(d, '/');
		if (!p) { /* a relative name with no slash left */
			free(d);
			return strdup(".");
		}
		if (p == d) {
			d[1] = '\0';
			return d;
		}
		*p = '\0';
		if (!stat(d, &st) || errno != ENOENT)
			return d; /* the caller's stat() says why */
		(*missing)++;
	}
	return NULL;
}

static void remember(const char *path, enum seen_kind kind,
		     const struct stat *st)
{
	struct seen *sn = (struct seen *)seen_of(path);

	if (!sn && nseen < IK_ARRAY_SIZE(seen))
		sn = &seen[nseen++];
	if (!sn)
		return;
	sn->path = path;
	sn->kind = kind;
	sn->dev = st ? st->st_dev : 0;
	sn->ino = st ? st->st_ino : 0;
}

/* /proc and /sys take writes that are not files (a hostname, a knob). */
static bool on_pseudo_fs(const char *path)
{
	unsigned missing;
	char *dir = existing_ancestor(path, &missing);
	struct statfs fs;
	bool pseudo;

	if (!statfs(path, &fs))
		pseudo = true;
	else
		pseudo = dir && !statfs(dir, &fs);
	pseudo = pseudo &&
		 (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC);
	free(dir);
	return pseudo;
}

/* realpath(dir) + the rest of path below it, without ., .. or // */
static void canonical(char *out, size_t n, const char *dir, const char *path)
{
	char *real = realpath(dir, NULL), *rest, *tok, *save = NULL;
	size_t len;

	snprintf(out, n, "%s", real ? real : dir);
	free(real);
	rest = strdup(path + (strcmp(dir, ".") ? strlen(dir) : 0));
	for (tok = rest ? strtok_r(rest, "/", &save) : NULL; tok;
	     tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		len = strlen(out);
		if (!strcmp(tok, "..")) {
			char *up = strrchr(out, '/');

			if (up)
				*(up == out ? up + 1 : up) = '\0';
			continue;
		}
		snprintf(out + len, n - len, "%s%s",
			 len && out[len - 1] == '/' ? "" : "/", tok);
	}
	free(rest);
}

/* One of our standard fds under a name (-, /dev/stdout, /proc/self/fd/N). */
static int check_fd(struct ik_output *o, int fd, char *why, size_t n)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(why, n, "fd %d is not open", fd);
		return -EBADF;
	}
	o->fd = fd;
	o->reg = S_ISREG(st.st_mode);
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->exists = true;
	return 0;
}

/* path exists and stat() followed it to st: a file we may overwrite? */
static int check_existing(struct ik_output *o, const char *path,
			  const struct stat *st, char *why, size_t n)
{
	struct stat ls;
	bool link = !lstat(path, &ls) && S_ISLNK(ls.st_mode);

	o->exists = true;
	o->dev = st->st_dev;
	o->ino = st->st_ino;
	if (S_ISDIR(st->st_mode)) {
		snprintf(why, n, "is a directory; give a file name");
		return -EISDIR;
	}
	if (S_ISSOCK(st->st_mode) || S_ISBLK(st->st_mode)) {
		snprintf(why, n,
			 "is a %s; a report goes to a regular file, "
			 "a character device, a FIFO or - (stdout)",
			 S_ISSOCK(st->st_mode) ? "socket" : "block device");
		return -ENXIO;
	}
	o->reg = S_ISREG(st->st_mode);
	o->fd = our_fd(st); /* stdout under another name */
	if (access(path, W_OK) < 0) {
		int e = errno;

		snprintf(why, n, "cannot write it: %s", strerror(e));
		return -e;
	}
	remember(path, link ? SEEN_LINK : o->reg ? SEEN_FILE : SEEN_DEV, st);
	return 0;
}

/* The directory a new file goes in: dir, existing, writable. */
static int check_dir(const char *path, const char *dir, unsigned missing,
		     bool mkdirs, struct stat *st, char *why, size_t n)
{
	if (missing && !mkdirs) {
		char *copy = strdup(path);

		snprintf(why, n,
			 "directory %s does not exist (--mkdir creates it)",
			 copy ? dirname(copy) : dir);
		free(copy);
		return -ENOENT;
	}
	if (stat(dir, st) < 0 || !S_ISDIR(st->st_mode)) {
		snprintf(why, n, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		int e = errno;

		snprintf(why, n, "cannot create files in %s: %s", dir,
			 strerror(e));
		return -e;
	}
	return 0;
}

/* path does not exist yet: a name we may create (base: its last part). */
static int check_new(struct ik_output *o, const char *path, const char *base,
		     bool mkdirs, char *why, size_t n)
{
	struct stat st;
	unsigned missing;
	char *dir;
	int ret;

	if (!*base) {
		snprintf(why, n, "names a directory; give a file name");
		return -EISDIR;
	}
	if (strlen(base) > NAME_MAX) {
		snprintf(why, n, "the file name is longer than %d bytes",
			 NAME_MAX);
		return -ENAMETOOLONG;
	}
	dir = existing_ancestor(path, &missing);
	if (!dir) {
		snprintf(why, n, "out of memory");
		return -ENOMEM;
	}
	ret = check_dir(path, dir, missing, mkdirs, &st, why, n);
	if (ret) {
		free(dir);
		return ret;
	}
	/* not there yet: known by its directory and name, the missing
	 * directories spelled the one way (no ., .. or //) */
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	if (missing)
		canonical(o->name, sizeof(o->name), dir, path);
	else
		snprintf(o->name, sizeof(o->name), "%s", base);
	free(dir);
	remember(path, SEEN_NEW, NULL);
	return 0;
}

int ik_output_check(struct ik_output *o, const char *opt, const char *path,
		    bool mkdirs, char *why, size_t n)
{
	const char *base = strrchr(path, '/');
	struct stat st;
	int fd;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->opt = opt;
	o->path = path;
	if (!*path) {
		snprintf(why, n, "an empty file name");
		return -EINVAL;
	}
	fd = std_fd(path);
	if (fd >= 0)
		return check_fd(o, fd, why, n);
	base = base ? base + 1 : path;
	if (!lstat(path, &st) && S_ISLNK(st.st_mode) && stat(path, &st) < 0) {
		snprintf(why, n, "is a symlink to nothing (%s)",
			 strerror(errno));
		return -ENOENT;
	}
	if (on_pseudo_fs(path)) {
		snprintf(why, n,
			 "is in /proc or /sys, not a place for a "
			 "report");
		return -EPERM;
	}
	if (!stat(path, &st))
		return check_existing(o, path, &st, why, n);
	if (errno != ENOENT) {
		int e = errno;

		snprintf(why, n, "%s", strerror(e));
		return -e;
	}
	return check_new(o, path, base, mkdirs, why, n);
}

bool ik_output_same(const struct ik_output *a, const struct ik_output *b)
{
	if (a->fd >= 0 && a->fd == b->fd)
		return true;
	if (a->reg && b->reg)
		return a->dev == b->dev && a->ino == b->ino;
	/* not there yet: the same name in the same directory */
	return !a->exists && !b->exists && a->dev == b->dev &&
	       a->ino == b->ino && !strcmp(a->name, b->name);
}

bool ik_output_is_file(const struct ik_output *o, const char *input)
{
	struct stat st;

	return o->reg && input && !stat(input, &st) && st.st_dev == o->dev &&
	       st.st_ino == o->ino;
}
