/* SPDX-License-Identifier: MIT */
/*
 * Keeping other local users out. A POSIX message queue name and an
 * abstract AF_UNIX name live in namespaces every local user shares, so a
 * predictable one can be taken first (the run fails) or found and joined:
 * ours carry 128 bits from getrandom. Listeners still check who connects
 * (ipc/tcp.c, kernels/door.c), since /proc/net lists every one of them.
 * The two test seams let a test repeat a name and connect as a stranger
 * at a known moment instead of racing the run for it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/random.h>

#include "ipc.h"

int (*ik_test_random)(void *buf, size_t n);
void (*ik_test_listening)(const struct sockaddr *a, socklen_t len);

int ik_random(void *buf, size_t n)
{
	unsigned char *b = buf;

	if (ik_test_random)
		return ik_test_random(buf, n);
	while (n) {
		ssize_t r = getrandom(b, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int ik_random_name(char *buf, size_t len, const char *prefix)
{
	uint64_t v[2];
	int ret = ik_random(v, sizeof(v)), n;

	if (ret)
		return ret;
	n = snprintf(buf, len, "%s%016llx%016llx", prefix,
		     (unsigned long long)v[0], (unsigned long long)v[1]);
	return n >= 0 && (size_t)n < len ? n : -ENAMETOOLONG;
}

void ik_listening(const struct sockaddr *a, socklen_t len)
{
	if (ik_test_listening)
		ik_test_listening(a, len);
}
