/* SPDX-License-Identifier: MIT */
/*
 * tcp: a real listening socket on 127.0.0.1 with an ephemeral port,
 * connect and accept, TCP_NODELAY on both ends so small messages are not
 * held back by Nagle. The listener is closed once the pair is connected.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"

static int tcp_setup(struct ik_channel *ch)
{
	struct ik_fds *f = ik_fds_new();
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int lfd = -1, a = -1, b = -1, one = 1, ret, s;

	if (!f)
		return -ENOMEM;
	ch->priv = f;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail_errno;
	a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a < 0 || connect(a, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail_errno;
	b = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (b < 0)
		goto fail_errno;
	ik_close(&lfd);
	f->rd[IK_SIDE_A] = f->wr[IK_SIDE_A] = a;
	f->rd[IK_SIDE_B] = f->wr[IK_SIDE_B] = b;
	a = b = -1;
	for (s = 0; s < 2; s++) {
		if (setsockopt(f->rd[s], IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) < 0)
			goto fail_errno;
		if ((ret = ik_sock_buffers(ch, f->rd[s])))
			goto fail;
	}
	return 0;
fail_errno:
	ret = -errno;
fail:
	ik_close(&lfd);
	ik_close(&a);
	ik_close(&b);
	ik_fds_teardown(ch);
	return ret;
}

const struct ik_transport_ops ik_tcp_ops = {
	.name = "tcp",
	.summary = "TCP over 127.0.0.1, ephemeral port, TCP_NODELAY",
	.setup = tcp_setup,
	.open_side = ik_fds_open_side,
	.send = ik_fds_send,
	.recv = ik_fds_recv,
	.teardown = ik_fds_teardown,
};
