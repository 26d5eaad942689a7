/* SPDX-License-Identifier: MIT */
/*
 * uds-seqpacket: an AF_UNIX SOCK_SEQPACKET socketpair. Like uds-dgram one
 * send is one message with its bounds kept (so the size is limited the
 * same way), but the pair is connected as a stream is: a peer that goes
 * away shows as end of file, not as silence. No name is bound, so nobody
 * else can reach it and no socket file can be left behind.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "ipc.h"

static int seqpacket_setup(struct ik_channel *ch)
{
	return ik_socketpair_setup(ch, SOCK_SEQPACKET);
}

const struct ik_transport_ops ik_uds_seqpacket_ops = {
	.name = "uds-seqpacket",
	.summary = "AF_UNIX SOCK_SEQPACKET socketpair, one packet a message "
		   "(<= 64 KiB)",
	.flags = IK_T_DATAGRAM,
	.max_size = ik_dgram_max,
	.setup = seqpacket_setup,
	.open_side = ik_fds_open_side,
	.send = ik_dgram_send,
	.recv = ik_dgram_recv,
	.teardown = ik_fds_teardown,
	.watch = ik_fds_watch,
};
