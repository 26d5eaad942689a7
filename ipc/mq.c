/* SPDX-License-Identifier: MIT */
/*
 * mq: POSIX message queues, one per direction. Each queue is unlinked
 * right after it is opened, so its name never outlives setup, not even on
 * a crash later on. The largest message is the system's msgsize_max.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <unistd.h>

#include "ipc.h"

#define MSGSIZE_MAX_FILE "/proc/sys/fs/mqueue/msgsize_max"

static size_t mq_max(const struct ik_chan_params *p)
{
	FILE *f = fopen(MSGSIZE_MAX_FILE, "r");
	unsigned long v = 8192; /* the kernel's default */

	(void)p;
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 8192;
		fclose(f);
	}
	return v;
}

static int mq_setup(struct ik_channel *ch)
{
	struct ik_fds *f = ik_fds_new();
	struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = (long)ch->p.size};
	static _Atomic unsigned serial;
	int s;

	if (!f)
		return -ENOMEM;
	ch->priv = f;
	for (s = 0; s < 2; s++) {
		char name[64];
		mqd_t q;

		snprintf(name, sizeof(name), "/ipckern-%d-%u", (int)getpid(),
			 atomic_fetch_add(&serial, 1));
		q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600,
			    &attr);
		if (q == (mqd_t)-1) {
			int ret = -errno;

			ik_fds_teardown(ch);
			return ret;
		}
		mq_unlink(name);
		f->rd[s] = q;  /* side s receives from this queue */
		f->wr[!s] = q; /* its peer sends to it */
	}
	snprintf(ch->granted, sizeof(ch->granted),
		 "queue depth 1, message size %zu B", ch->p.size);
	return 0;
}

static int mq_send_msg(struct ik_channel *ch, enum ik_side side,
		       const void *buf, size_t len)
{
	struct ik_fds *f = ch->priv;

	while (mq_send(f->wr[side], buf, len, 0) < 0) {
		if (errno != EINTR)
			return -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	return 0;
}

static int mq_recv_msg(struct ik_channel *ch, enum ik_side side, void *buf,
		       size_t len)
{
	struct ik_fds *f = ch->priv;
	ssize_t n;

	while ((n = mq_receive(f->rd[side], buf, len, NULL)) < 0) {
		if (errno != EINTR)
			return -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

const struct ik_transport_ops ik_mq_ops = {
	.name = "mq",
	.summary = "POSIX message queue per direction (<= msgsize_max)",
	.flags = IK_T_DATAGRAM,
	.max_size = mq_max,
	.setup = mq_setup,
	.send = mq_send_msg,
	.recv = mq_recv_msg,
	.teardown = ik_fds_teardown,
};
