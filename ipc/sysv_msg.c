/* SPDX-License-Identifier: MIT */
/*
 * sysv-msg: a System V message queue per direction (msgsnd/msgrcv).
 * Each is made with IPC_PRIVATE, so it has no key anyone could guess or
 * take first, and mode 0600. Unlike a POSIX queue a SysV queue cannot be
 * removed while in use and still work: it lives until IPC_RMID, which
 * teardown (and every failed setup) issues. A SIGKILL of the parent is
 * the one end teardown cannot see: a reaper child (ipc/sysv_reap.c)
 * removes the queues then.
 * A message is at most kernel.msgmax bytes and must fit the queue's byte
 * limit (kernel.msgmnb, the default msg_qbytes): larger sizes are refused.
 * --buffer sets that byte limit (msg_qbytes) instead.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <time.h>

#include "ipc.h"

#define MSGMAX_FILE "/proc/sys/kernel/msgmax"
#define MSGMNB_FILE "/proc/sys/kernel/msgmnb"

/* msgsnd/msgrcv's layout: the type, then the bytes */
struct msg_buf {
	long mtype;
	unsigned char mtext[];
};

struct msg_state {
	int q[2]; /* q[s]: read by side s, written by its peer */
	struct ik_sysv_reaper reaper;
	/* side s builds and takes its messages here (its own, so the two
	 * threads of thread mode never share one) */
	struct msg_buf *out[2], *in[2];
};

static unsigned long read_limit(const char *path, unsigned long dflt)
{
	FILE *f = fopen(path, "r");
	unsigned long v = dflt;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

/* The smaller of msgmax (EINVAL above it) and msgmnb (above it msgsnd
 * would wait for room that never comes), and --buffer when below both */
static size_t msg_max(const struct ik_chan_params *p)
{
	unsigned long max = read_limit(MSGMAX_FILE, 8192);
	unsigned long mnb = read_limit(MSGMNB_FILE, 16384);

	if (mnb < max)
		max = mnb;
	return p->buffer && p->buffer < max ? p->buffer : max;
}

static void msg_teardown(struct ik_channel *ch)
{
	struct msg_state *st = ch->priv;
	int s;

	if (!st)
		return;
	for (s = 0; s < 2; s++) {
		if (st->q[s] >= 0)
			msgctl(st->q[s], IPC_RMID, NULL);
		free(st->out[s]);
		free(st->in[s]);
	}
	ik_sysv_reaper_stop(&st->reaper);
	free(st);
	ch->priv = NULL;
}

static int msg_setup(struct ik_channel *ch)
{
	struct msg_state *st = calloc(1, sizeof(*st));
	size_t len = sizeof(struct msg_buf) + ch->p.size;
	struct msqid_ds ds;
	int s, ret;

	if (!st)
		return -ENOMEM;
	st->q[0] = st->q[1] = -1;
	st->reaper.pid = -1;
	ch->priv = st;
	for (s = 0; s < 2; s++) {
		st->out[s] = malloc(len);
		st->in[s] = malloc(len);
		if (!st->out[s] || !st->in[s]) {
			msg_teardown(ch);
			return -ENOMEM;
		}
		st->out[s]->mtype = 1; /* any type above 0; one per queue */
		st->q[s] = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600);
		if (st->q[s] < 0) {
			ret = -errno;

			msg_teardown(ch);
			return ret;
		}
	}
	if ((ret = ik_sysv_reaper_start(&st->reaper, IK_SYSV_MSG, st->q, 2))) {
		msg_teardown(ch);
		return ret;
	}
	/* --buffer: the queues' byte limit (raising it above msgmnb takes
	 * CAP_SYS_RESOURCE: EPERM without) */
	for (s = 0; s < 2 && ch->p.buffer; s++)
		if (msgctl(st->q[s], IPC_STAT, &ds) < 0 ||
		    (ds.msg_qbytes = ch->p.buffer,
		     msgctl(st->q[s], IPC_SET, &ds) < 0)) {
			ret = -errno;

			msg_teardown(ch);
			return ret;
		}
	if (msgctl(st->q[0], IPC_STAT, &ds) == 0)
		snprintf(ch->granted, sizeof(ch->granted),
			 "msg_qbytes %lu B, msgmax %lu B",
			 (unsigned long)ds.msg_qbytes,
			 read_limit(MSGMAX_FILE, 8192));
	return 0;
}

/* Only the parent's end of the reaper's pipe may keep it waiting. */
static int msg_open_side(struct ik_channel *ch, enum ik_side side)
{
	struct msg_state *st = ch->priv;

	(void)side;
	if (ch->p.mode == IK_MODE_PROCESS)
		ik_close(&st->reaper.fd);
	return 0;
}

static int msg_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		    size_t len)
{
	struct msg_state *st = ch->priv;
	struct msg_buf *m = st->out[side];

	memcpy(m->mtext, buf, len);
	/* msgsnd and msgrcv as bare syscalls: no glibc cancellation point
	 * on the hop (ik_sys_read in ipc.h says why) */
	while (syscall(SYS_msgsnd, st->q[!side], m, len, 0) < 0) {
		if (errno != EINTR)
			return errno == EIDRM ? -EPIPE : -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	return 0;
}

static int msg_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		    size_t len)
{
	struct msg_state *st = ch->priv;
	struct msg_buf *m = st->in[side];
	ssize_t n;

	/* MSG_NOERROR off: a longer message fails with E2BIG, never cut */
	while ((n = syscall(SYS_msgrcv, st->q[side], m, len, 0, 0)) < 0) {
		if (errno != EINTR)
			return errno == EIDRM ? -EPIPE : -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	if ((size_t)n != len)
		return -EMSGSIZE;
	memcpy(buf, m->mtext, len);
	return 0;
}

/*
 * msgrcv takes no timeout, so the controller's watch keeps the wake-up
 * deadline: messages wait in side s's queue (IPC_STAT's msg_qnum),
 * unchanged, while its reader sleeps for the whole deadline: a lost
 * wake-up, counted, and the reader kicked (SIGUSR1: msgrcv fails EINTR
 * and is retried).
 */
static void msg_watch(struct ik_channel *ch)
{
	struct msg_state *st = ch->priv;
	uint64_t now = ik_mono_ns();
	int s;

	for (s = 0; s < 2; s++) {
		struct msqid_ds ds;
		bool looks = st->q[s] >= 0 &&
			     !msgctl(st->q[s], IPC_STAT, &ds) &&
			     ds.msg_qnum > 0 && ik_channel_peer_sleeps(ch, s);

		if (ik_watch_stuck(ch, s, looks, looks ? ds.msg_qnum : 0,
				   now)) {
			ik_channel_count_lost(ch);
			ik_channel_kick(ch, s);
		}
	}
}

const struct ik_transport_ops ik_sysv_msg_ops = {
	.name = "sysv-msg",
	.summary = "SysV message queue per direction, IPC_PRIVATE, 0600 "
		   "(<= kernel.msgmax and kernel.msgmnb)",
	.doc = "SysV message queues (`IPC_PRIVATE`, mode 0600, `IPC_RMID` at "
	       "teardown); at most `kernel.msgmax` and `kernel.msgmnb` bytes",
	.flags = IK_T_DATAGRAM,
	.max_size = msg_max,
	.setup = msg_setup,
	.open_side = msg_open_side,
	.send = msg_send,
	.recv = msg_recv,
	.watch = msg_watch,
	.teardown = msg_teardown,
	.setup_hint = "--buffer above kernel.msgmnb needs CAP_SYS_RESOURCE",
};
