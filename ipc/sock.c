/* SPDX-License-Identifier: MIT */
/*
 * Connections outside any channel, for the kernels that make their own
 * (echo, connect): the listener half of a stream-socket method's
 * ops->listen, and the one connect every such address takes. Not a
 * method: tcp.c and uds.c fill the address, this does the rest. Also
 * the socketpair setup that uds and uds-dgram share.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"

int ik_sock_listen(struct ik_sockaddr *a, unsigned backlog)
{
	int fd, one = 1, ret;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		return -errno;
	if (a->ss.ss_family == AF_INET)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a->ss, a->len) ||
	    listen(fd, (int)backlog) ||
	    getsockname(fd, (struct sockaddr *)&a->ss, &a->len)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ik_listening((struct sockaddr *)&a->ss, a->len);
	return fd;
}

int ik_sock_connect(const struct ik_sockaddr *a)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ik_sock_accepted(fd, a->ss.ss_family);
	return fd;
}

void ik_sock_accepted(int fd, int family)
{
	int one = 1;

	if (family == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int ik_socketpair_setup(struct ik_channel *ch, int type)
{
	struct ik_fds *f = ik_fds_new();
	int sv[2], ret, s;

	if (!f)
		return -ENOMEM;
	ch->priv = f;
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		goto fail;
	}
	for (s = 0; s < 2; s++)
		f->rd[s] = f->wr[s] = sv[s];
	for (s = 0; s < 2; s++)
		if ((ret = ik_sock_buffers(ch, sv[s])))
			goto fail;
	return 0;
fail:
	ik_fds_teardown(ch);
	return ret;
}
