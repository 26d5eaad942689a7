/* SPDX-License-Identifier: MIT */
/*
 * uds: an AF_UNIX stream socketpair. No path is bound, so no socket file
 * can be left behind. --buffer sets SO_SNDBUF/SO_RCVBUF. For the kernels
 * with connections of their own, a listener on an abstract name.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ipc.h"

static int uds_setup(struct ik_channel *ch)
{
	return ik_socketpair_setup(ch, SOCK_STREAM);
}

/* abstract: the name dies with the last fd, no file; random, so nobody
 * can take it first (kernels/door.c checks who comes) */
static int uds_listen(unsigned backlog, struct ik_sockaddr *a)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
	int n;

	memset(a, 0, sizeof(*a));
	un->sun_family = AF_UNIX;
	n = ik_random_name(un->sun_path + 1, sizeof(un->sun_path) - 1,
			   "ipckern-");
	if (n < 0)
		return n;
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			     (size_t)n);
	return ik_sock_listen(a, backlog);
}

const struct ik_transport_ops ik_uds_ops = {
	.name = "uds",
	.summary = "AF_UNIX stream socketpair, blocking",
	.doc = "AF_UNIX stream / datagram / seqpacket socketpair (datagrams "
	       "and packets at most 64 KiB)",
	.setup = uds_setup,
	.open_side = ik_fds_open_side,
	.send = ik_sock_send,
	.recv = ik_sock_recv,
	.teardown = ik_fds_teardown,
	.watch = ik_fds_watch,
	.listen = uds_listen,
	.connect = ik_sock_connect,
};
