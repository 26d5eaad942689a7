/* SPDX-License-Identifier: MIT */
/*
 * pipe: one pipe per direction. Messages larger than the pipe's buffer
 * go through in pieces; --buffer asks F_SETPIPE_SZ for a size and the
 * report shows what the kernel granted.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "ipc.h"

static int pipe_setup(struct ik_channel *ch)
{
	struct ik_fds *f = ik_fds_new();
	int s, p[2], granted = 0;

	if (!f)
		return -ENOMEM;
	ch->priv = f;
	for (s = 0; s < 2; s++) {
		if (pipe2(p, O_CLOEXEC) < 0) {
			int ret = -errno;

			ik_fds_teardown(ch);
			return ret;
		}
		f->rd[s] = p[0];  /* side s reads this pipe */
		f->wr[!s] = p[1]; /* its peer writes it */
		if (ch->p.buffer)
			fcntl(p[1], F_SETPIPE_SZ, (int)ch->p.buffer);
		granted = fcntl(p[1], F_GETPIPE_SZ);
	}
	snprintf(ch->granted, sizeof(ch->granted), "pipe buffer %d B", granted);
	return 0;
}

const struct ik_transport_ops ik_pipe_ops = {
	.name = "pipe",
	.summary = "one pipe per direction, blocking read/write",
	.doc = "one pipe per direction",
	.setup = pipe_setup,
	.open_side = ik_fds_open_side,
	.send = ik_fds_send,
	.recv = ik_fds_recv,
	.teardown = ik_fds_teardown,
	.watch = ik_fds_watch,
};
