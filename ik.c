/* SPDX-License-Identifier: MIT */
/*
 * What every folder shares beyond ik.h's definitions: the one number
 * syntax that the command line and --assert both read, and the one way
 * an input file (a topology, a baseline) is read.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ik.h"

int ik_parse_decimal(const char *s, double *v, const char **end)
{
	const char *p = s, *q;
	bool digits = false;
	char *e;

	while (isdigit((unsigned char)*p))
		p++, digits = true;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits = true;
	if (!digits)
		return -EINVAL;
	if (*p == 'e' || *p == 'E') {
		q = p + 1 + (p[1] == '+' || p[1] == '-');
		if (isdigit((unsigned char)*q)) {
			while (isdigit((unsigned char)*q))
				q++;
			p = q;
		}
	}
	/* strtod reads the same digits; reading further means another
	 * syntax ("0x1p3"), which is refused, not half-read */
	errno = 0;
	*v = strtod(s, &e);
	if (e != p)
		return -EINVAL;
	*end = p;
	return isinf(*v) ? -ERANGE : 0;
}

const char *ik_file_kind(unsigned mode)
{
	return S_ISDIR(mode)	? "a directory"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
	       : S_ISSOCK(mode) ? "a socket"
				: "not a regular file";
}

int ik_read_regular(const char *path, size_t cap, char **buf, size_t *len,
		    unsigned *mode, bool *reading)
{
	struct stat st;
	size_t n = 0, have;
	char *b = NULL, *nb;
	ssize_t r;
	int fd, ret = 0;

	*buf = NULL;
	*len = 0;
	*reading = false;
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		*mode = st.st_mode;
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	*mode = st.st_mode;
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > cap) {
		ret = -EFBIG;
		goto out;
	}
	*reading = true;
	/* st_size is a hint: /proc files say 0, and a file may grow */
	have = (size_t)st.st_size < 4096 ? 4096 : (size_t)st.st_size + 1;
	for (;;) {
		if (!b || n == have) {
			if (b && have > cap) {
				ret = -EFBIG;
				goto out;
			}
			have = !b ? have : have > cap / 2 ? cap + 1 : 2 * have;
			nb = realloc(b, have + 1);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			b = nb;
		}
		r = read(fd, b + n, have - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > cap) {
		ret = -EFBIG;
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	if (fd >= 0)
		close(fd);
	return ret;
}
