/* SPDX-License-Identifier: MIT */
/*
 * uds: an AF_UNIX stream socketpair. No path is bound, so no socket file
 * can be left behind. --buffer sets SO_SNDBUF/SO_RCVBUF.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "ipc.h"

static int uds_setup(struct ik_channel *ch)
{
	struct ik_fds *f = ik_fds_new();
	int sv[2], ret, s;

	if (!f)
		return -ENOMEM;
	ch->priv = f;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
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

const struct ik_transport_ops ik_uds_ops = {
	.name = "uds",
	.summary = "AF_UNIX stream socketpair, blocking",
	.setup = uds_setup,
	.open_side = ik_fds_open_side,
	.send = ik_fds_send,
	.recv = ik_fds_recv,
	.teardown = ik_fds_teardown,
};
