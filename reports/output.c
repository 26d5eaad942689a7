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
#include <sys/stat.h>
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

/* A regular file or a new one: a temporary beside it, renamed over it. */
static int replace(const char *path, const char *buf, size_t len, bool mkdirs)
{
	char *real = realpath(path, NULL), *copy = NULL, *dir, tmp[PATH_MAX];
	char proc[64];
	const char *target = real ? real : path;
	struct stat old;
	bool existed = !stat(target, &old) && S_ISREG(old.st_mode);
	bool named = false;
	int fd = -1, ret = 0, tries;

	copy = strdup(target);
	if (!copy) {
		ret = -ENOMEM;
		goto out;
	}
	if (mkdirs && (ret = make_parents(target)))
		goto out;
	dir = dirname(copy);
	/* a directory we may not write: the file itself, truncated */
	if (existed && access(dir, W_OK | X_OK) < 0) {
		fd = open(target, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			goto out;
		}
		ret = write_all(fd, buf, len);
		goto close;
	}
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, file_mode());
	if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL) {
		ret = -errno;
		goto out;
	}
	if (fd < 0) { /* no O_TMPFILE here: a named one from the start */
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.ikXXXXXX", dir) >=
		    sizeof(tmp)) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			goto out;
		}
		named = true;
		if (!existed)
			fchmod(fd, file_mode());
	}
	if (existed) {
		/* the replacement is the same file to everyone who had it;
		 * chown before chmod, which chown may clear bits of. Not
		 * ours to give away as an ordinary user: keep ours then. */
		if (old.st_uid != geteuid() || old.st_gid != getegid())
			(void)!fchown(fd, old.st_uid, old.st_gid);
		fchmod(fd, old.st_mode & 07777);
	}
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0 && errno != EINVAL)
		ret = -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	/* a new file: linked in under its own name, whole, in one step */
	if (!ret && !named && !existed) {
		if (!linkat(AT_FDCWD, proc, AT_FDCWD, target,
			    AT_SYMLINK_FOLLOW))
			goto close;
		if (errno != EEXIST)
			ret = -errno;
	}
	/* replacing one: a temporary name for the two syscalls to rename */
	for (tries = 0; !ret && !named && tries < 100; tries++) {
		uint8_t r[6];
		unsigned i;
		int n = snprintf(tmp, sizeof(tmp), "%s/.ik", dir);

		if (n < 0 || (size_t)n + 7 > sizeof(tmp)) {
			ret = -ENAMETOOLONG;
			break;
		}
		if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
			ret = -errno;
			break;
		}
		for (i = 0; i < 6; i++)
			tmp[n + i] =
				"abcdefghijklmnopqrstuvwxyz0123456789"[r[i] %
								       36];
		tmp[n + 6] = '\0';
		if (!linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW))
			named = true;
		else if (errno != EEXIST)
			ret = -errno;
	}
	if (!ret && !named)
		ret = -EEXIST;
	if (!ret && rename(tmp, target) < 0)
		ret = -errno;
	if (ret && named)
		unlink(tmp);
close:
	if (close(fd) < 0 && !ret)
		ret = -errno;
out:
	free(copy);
	free(real);
	return ret;
}

static int deliver(const char *path, bool mkdirs, const char *buf, size_t len)
{
	int fd = std_fd(path), ret;
	struct stat st;

	if (fd >= 0) {
		if (fd <= STDERR_FILENO)
			fflush(fd == STDOUT_FILENO ? stdout : stderr);
		return write_all(fd, buf, len);
	}
	if (stat(path, &st) < 0 || S_ISREG(st.st_mode))
		return replace(path, buf, len, mkdirs);
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
		return -ENXIO; /* a socket or a disk: checked before, too */
	fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, buf, len);
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
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

int ik_output_check(struct ik_output *o, const char *opt, const char *path,
		    bool mkdirs, char *why, size_t n)
{
	const char *base = strrchr(path, '/');
	struct stat st;
	char *dir;
	unsigned missing;
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
	if (fd >= 0) {
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
	base = base ? base + 1 : path;
	if (!stat(path, &st)) {
		o->exists = true;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
		if (S_ISDIR(st.st_mode)) {
			snprintf(why, n, "is a directory; give a file name");
			return -EISDIR;
		}
		if (S_ISSOCK(st.st_mode) || S_ISBLK(st.st_mode)) {
			snprintf(why, n,
				 "is a %s; a report goes to a regular file, "
				 "a character device, a FIFO or - (stdout)",
				 S_ISSOCK(st.st_mode) ? "socket"
						      : "block device");
			return -ENXIO;
		}
		o->reg = S_ISREG(st.st_mode);
		if (access(path, W_OK) < 0) {
			int e = errno;

			snprintf(why, n, "cannot write it: %s", strerror(e));
			return -e;
		}
		return 0;
	}
	if (errno != ENOENT) {
		int e = errno;

		snprintf(why, n, "%s", strerror(e));
		return -e;
	}
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
	if (missing && !mkdirs) {
		char *copy = strdup(path);

		snprintf(why, n,
			 "directory %s does not exist (--mkdir creates it)",
			 copy ? dirname(copy) : dir);
		free(copy);
		free(dir);
		return -ENOENT;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, n, "%s is not a directory", dir);
		free(dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		int e = errno;

		snprintf(why, n, "cannot create files in %s: %s", dir,
			 strerror(e));
		free(dir);
		return -e;
	}
	/* not there yet: known by its directory and name */
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	snprintf(o->name, sizeof(o->name), "%s", missing ? path : base);
	free(dir);
	return 0;
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
