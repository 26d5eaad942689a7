/* SPDX-License-Identifier: MIT */
/*
 * mq: POSIX message queues, one per direction. Each queue is unlinked
 * right after it is opened, so its name never outlives setup, not even on
 * a crash later on. The name is random (any local user can create one
 * in the same namespace) and made with O_EXCL, so a queue somebody else
 * holds is never ours: we draw another name. The largest message is the
 * system's msgsize_max.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"

#define MSGSIZE_MAX_FILE "/proc/sys/fs/mqueue/msgsize_max"
#define NAME_TRIES	 8 /* names drawn before giving up on EEXIST */

/* The fds first, so the shared ik_fds helpers work on it. */
struct mq_state {
	struct ik_fds f;
	size_t msgsize;		/* the queue's, >= the message size */
	unsigned char *rbuf[2]; /* side s receives here when msgsize > len */
};

/* msgsize_max, or --buffer (the queue's message size) when below it */
static size_t mq_max(const struct ik_chan_params *p)
{
	FILE *f = fopen(MSGSIZE_MAX_FILE, "r");
	unsigned long v = 8192; /* the kernel's default */

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 8192;
		fclose(f);
	}
	return p->buffer && p->buffer < v ? p->buffer : v;
}

static void mq_teardown(struct ik_channel *ch)
{
	struct mq_state *st = ch->priv;

	if (!st)
		return;
	free(st->rbuf[0]);
	free(st->rbuf[1]);
	ik_fds_teardown(ch); /* closes the queues, frees st */
}

static int mq_setup(struct ik_channel *ch)
{
	struct mq_state *st = calloc(1, sizeof(*st));
	struct ik_fds *f = &st->f;
	size_t msgsize = ch->p.buffer ? ch->p.buffer : ch->p.size;
	struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = (long)msgsize};
	int s;

	if (!st)
		return -ENOMEM;
	f->rd[0] = f->rd[1] = f->wr[0] = f->wr[1] = -1;
	st->msgsize = msgsize;
	ch->priv = st;
	for (s = 0; s < 2 && msgsize > ch->p.size; s++)
		if (!(st->rbuf[s] = malloc(msgsize))) {
			mq_teardown(ch);
			return -ENOMEM;
		}
	for (s = 0; s < 2; s++) {
		char name[64];
		mqd_t q = (mqd_t)-1;
		int ret = -EEXIST, t;

		for (t = 0; t < NAME_TRIES && ret == -EEXIST; t++) {
			ret = ik_random_name(name, sizeof(name), "/ipckern-");
			if (ret < 0)
				break;
			q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
				    0600, &attr);
			ret = q == (mqd_t)-1 ? -errno : 0;
		}
		if (ret) {
			mq_teardown(ch);
			return ret;
		}
		mq_unlink(name);
		f->rd[s] = q;  /* side s receives from this queue */
		f->wr[!s] = q; /* its peer sends to it */
	}
	snprintf(ch->granted, sizeof(ch->granted),
		 "queue depth 1, message size %zu B", msgsize);
	return 0;
}

static int mq_send_msg(struct ik_channel *ch, enum ik_side side,
		       const void *buf, size_t len)
{
	struct ik_fds *f = ch->priv;

	/* mq_send and mq_receive as bare syscalls: no glibc cancellation
	 * point on the hop (ik_sys_read in ipc.h says why) */
	while (syscall(SYS_mq_timedsend, f->wr[side], buf, len, 0, NULL) < 0) {
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
	struct mq_state *st = ch->priv;
	/* mq_receive wants room for the queue's whole message size */
	void *into = st->rbuf[side] ? st->rbuf[side] : buf;
	ssize_t n;

	while ((n = syscall(SYS_mq_timedreceive, st->f.rd[side], into,
			    st->msgsize, NULL, NULL)) < 0) {
		if (errno != EINTR)
			return -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	if ((size_t)n != len)
		return -EMSGSIZE;
	if (into != buf)
		memcpy(buf, into, len);
	return 0;
}

/*
 * mq_receive takes no relative timeout (mq_timedreceive wants an absolute
 * CLOCK_REALTIME one: a clock read on every trip), so the controller's
 * watch keeps the deadline, as for a pipe: a message waits in side s's
 * queue (mq_curmsgs), unchanged, while its reader sleeps for the whole
 * deadline: a lost wake-up, counted, and the reader kicked (SIGUSR1: its
 * mq_receive fails EINTR and is retried).
 */
static void mq_watch(struct ik_channel *ch)
{
	struct mq_state *st = ch->priv;
	uint64_t now = ik_mono_ns();
	int s;

	for (s = 0; s < 2; s++) {
		struct mq_attr a;
		bool looks = st->f.rd[s] >= 0 && !mq_getattr(st->f.rd[s], &a) &&
			     a.mq_curmsgs > 0 && ik_channel_peer_sleeps(ch, s);

		if (ik_watch_stuck(ch, s, looks,
				   looks ? (uint64_t)a.mq_curmsgs : 0, now)) {
			ik_channel_count_lost(ch);
			ik_channel_kick(ch, s);
		}
	}
}

const struct ik_transport_ops ik_mq_ops = {
	.name = "mq",
	.summary = "POSIX message queue per direction (<= msgsize_max)",
	.doc = "POSIX message queues (unlinked right after opening); at most "
	       "`msgsize_max` bytes",
	.flags = IK_T_DATAGRAM,
	.max_size = mq_max,
	.setup = mq_setup,
	.send = mq_send_msg,
	.recv = mq_recv_msg,
	.watch = mq_watch,
	.teardown = mq_teardown,
};
