/* SPDX-License-Identifier: MIT */
/*
 * eventfd: one counter per direction, since a shared one cannot say whose
 * turn it is. The counter carries no bytes, so the payload goes through
 * the channel's mailbox before the wake-up and is read after it.
 */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <unistd.h>

#include "ipc.h"

static int evfd_setup(struct ik_channel *ch)
{
	struct ik_fds *f = ik_fds_new();
	int s;

	if (!f)
		return -ENOMEM;
	ch->priv = f;
	for (s = 0; s < 2; s++) {
		int fd = eventfd(0, EFD_CLOEXEC);

		if (fd < 0) {
			int ret = -errno;

			ik_fds_teardown(ch);
			return ret;
		}
		f->rd[s] = fd;	/* side s waits on its own counter */
		f->wr[!s] = fd; /* and its peer bumps it */
	}
	return 0;
}

static int evfd_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		     size_t len)
{
	struct ik_fds *f = ch->priv;
	uint64_t tick = 1;
	int ret = ik_mailbox_put(ch, !side, buf, len);

	return ret ? ret : ik_write_full(ch, f->wr[side], &tick, sizeof(tick));
}

static int evfd_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		     size_t len)
{
	struct ik_fds *f = ch->priv;
	uint64_t tick;
	int ret = ik_read_full(ch, f->rd[side], &tick, sizeof(tick));

	return ret ? ret : ik_mailbox_get(ch, side, buf, len);
}

const struct ik_transport_ops ik_eventfd_ops = {
	.name = "eventfd",
	.summary =
		"one eventfd counter per direction, payload in shared memory",
	.flags = IK_T_SIGNAL | IK_T_PINGPONG,
	.setup = evfd_setup,
	.open_side = ik_fds_open_side,
	.send = evfd_send,
	.recv = evfd_recv,
	.teardown = ik_fds_teardown,
};
