/* SPDX-License-Identifier: MIT */
/*
 * uds-dgram: an AF_UNIX datagram socketpair; one message is one datagram,
 * so the size is limited (stated in --list) and a short datagram is an
 * error, not something to reassemble.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "ipc.h"

#define DGRAM_MAX 65536u /* fits the default SO_SNDBUF with room to spare */

/* A datagram must fit the send buffer (the kernel doubles what we ask). */
size_t ik_dgram_max(const struct ik_chan_params *p)
{
	return p->buffer && p->buffer < DGRAM_MAX ? p->buffer : DGRAM_MAX;
}

static int dgram_setup(struct ik_channel *ch)
{
	return ik_socketpair_setup(ch, SOCK_DGRAM);
}

int ik_dgram_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		  size_t len)
{
	struct ik_fds *f = ch->priv;
	ssize_t n;

	do
		n = ik_sys_send(f->wr[side], buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR && !ik_channel_aborted(ch));
	if (n < 0)
		return errno == EINTR ? -ECANCELED : -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

int ik_dgram_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		  size_t len)
{
	struct ik_fds *f = ch->priv;
	ssize_t n;

	do
		n = ik_sys_recv(f->rd[side], buf, len, MSG_TRUNC);
	while (n < 0 && errno == EINTR && !ik_channel_aborted(ch));
	if (n < 0)
		return errno == EINTR ? -ECANCELED : -errno;
	if (n == 0)
		return -EPIPE; /* the peer closed */
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

const struct ik_transport_ops ik_uds_dgram_ops = {
	.name = "uds-dgram",
	.summary = "AF_UNIX datagram socketpair, one datagram a message "
		   "(<= 64 KiB)",
	.flags = IK_T_DATAGRAM,
	.max_size = ik_dgram_max,
	.setup = dgram_setup,
	.open_side = ik_fds_open_side,
	.send = ik_dgram_send,
	.recv = ik_dgram_recv,
	.teardown = ik_fds_teardown,
	.watch = ik_fds_watch,
};
