/* SPDX-License-Identifier: MIT */
/*
 * seccomp-notify: side A's thread runs under a seccomp filter that hands
 * one syscall (a number no kernel assigns) to side B, the supervisor,
 * through a user-notification listener (SECCOMP_RET_USER_NOTIF), as a
 * container runtime intercepts its guest's calls. A sends a message by
 * making that call; B takes it (SECCOMP_IOCTL_NOTIF_RECV) and answers at
 * once, which returns A's call. A message to A is fetched the same way: A
 * makes the call again, B answers it with the message in the mailbox. So
 * every message, either way, is one trapped call and its answer, and a
 * ping-pong round trip is two of them (perf bench sched seccomp-notify
 * counts one). Each call carries its kind and number; B checks both.
 * A installs the filter on its own thread (no_new_privs first, which is
 * why no privilege is needed) before the start gate; the listener goes to
 * B in the fd table (threads) or once over SCM_RIGHTS (processes).
 * x86-64 and arm64 only (the filter checks the audit arch).
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc.h"

#if defined(__x86_64__)
#define SN_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SN_ARCH AUDIT_ARCH_AARCH64
#endif

#define SN_NR	     1023 /* unassigned: only our filter gives it meaning */
#define SN_MSG	     1	  /* A sends: the message is in B's mailbox */
#define SN_FETCH     2	  /* A asks for the message B has for it */
#define ACTIONS_FILE "/proc/sys/kernel/seccomp/actions_avail"

struct sn_state {
	int sv[2];	   /* process mode: the listener goes A -> B */
	_Atomic int lfd;   /* B's listener (thread mode: set by A) */
	uint64_t seq[2];   /* side s's messages sent (A) / taken (B) */
	uint64_t fetched;  /* A: messages fetched */
	uint64_t answered; /* B: messages answered */
};

static const char *sn_unavailable(const struct ik_chan_params *p)
{
	static char why[96];
	char line[256] = "";
	FILE *f;

	(void)p;
#ifndef SN_ARCH
	return "the seccomp filter is written for x86-64 and arm64 only";
#endif
	f = fopen(ACTIONS_FILE, "r");
	if (!f)
		return "no " ACTIONS_FILE ": a kernel without seccomp filters";
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	if (!strstr(line, "user_notif")) {
		snprintf(why, sizeof(why), "%s lacks user_notif", ACTIONS_FILE);
		return why;
	}
	return NULL;
}

static void sn_teardown(struct ik_channel *ch)
{
	struct sn_state *st = ch->priv;
	int fd;

	if (!st)
		return;
	ik_close(&st->sv[0]);
	ik_close(&st->sv[1]);
	fd = atomic_load(&st->lfd);
	if (ch->p.mode == IK_MODE_THREAD) /* else it is a child's number */
		ik_close(&fd);
	free(st);
	ch->priv = NULL;
}

static int sn_setup(struct ik_channel *ch)
{
	struct sn_state *st;

	if (sn_unavailable(&ch->p))
		return -EOPNOTSUPP;
	if (!(st = calloc(1, sizeof(*st))))
		return -ENOMEM;
	st->sv[0] = st->sv[1] = -1;
	atomic_init(&st->lfd, -1);
	ch->priv = st;
	if (ch->p.mode == IK_MODE_PROCESS &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st->sv) < 0) {
		int ret = -errno;

		sn_teardown(ch);
		return ret;
	}
	return 0;
}

/* The filter on this thread; the listener fd, or -errno. */
static int install_filter(void)
{
#ifdef SN_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SN_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SN_NR, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	long fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	return fd < 0 ? -errno : (int)fd;
#else
	return -EOPNOTSUPP;
#endif
}

static int sn_open_side(struct ik_channel *ch, enum ik_side side)
{
	struct sn_state *st = ch->priv;
	bool proc = ch->p.mode == IK_MODE_PROCESS;
	int fd, ret = 0;

	if (proc)
		ik_close(&st->sv[!side]);
	if (side == IK_SIDE_A) {
		if ((fd = install_filter()) < 0)
			return fd;
		if (!proc) {
			atomic_store_explicit(&st->lfd, fd,
					      memory_order_release);
			return 0;
		}
		ret = ik_fd_send(st->sv[0], fd);
		close(fd); /* B's now: A must not hold its own listener */
	} else if (proc) {
		if ((fd = ik_fd_recv(st->sv[1])) < 0)
			return fd;
		atomic_store(&st->lfd, fd);
	}
	if (proc)
		ik_close(&st->sv[side]);
	return ret;
}

/* A: the trapped call; what B answered, or -errno. */
static int64_t trapped(struct ik_channel *ch, uint64_t kind, uint64_t seq)
{
	long r;

	while ((r = syscall(SN_NR, kind, seq)) < 0) {
		if (errno != EINTR)
			return errno == ENOSYS ? -EPIPE : -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	return r;
}

/* B: the next trapped call, checked to be kind number seq; its id. */
static int take(struct ik_channel *ch, struct sn_state *st, uint64_t kind,
		uint64_t seq, uint64_t *id)
{
	int lfd = atomic_load_explicit(&st->lfd, memory_order_acquire);
	struct seccomp_notif n;

	for (;;) {
		memset(&n, 0, sizeof(n)); /* NOTIF_RECV wants it zeroed */
		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &n) == 0)
			break;
		/* ENOENT: the caller was interrupted before we took it */
		if (errno == ENOENT)
			continue;
		if (errno != EINTR)
			return -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	*id = n.id;
	if (n.data.nr != SN_NR || n.data.args[0] != kind ||
	    n.data.args[1] != seq)
		return -EPROTO;
	return 0;
}

/* B: answer call id with val (the call returns it). */
static int answer(struct sn_state *st, uint64_t id, int64_t val)
{
	struct seccomp_notif_resp r = {.id = id, .val = val};
	int lfd = atomic_load_explicit(&st->lfd, memory_order_relaxed);

	while (ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &r) < 0)
		if (errno != EINTR)
			return errno == ENOENT ? -EPIPE : -errno;
	return 0;
}

static int sn_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		   size_t len)
{
	struct sn_state *st = ch->priv;
	uint64_t id, seq;
	int64_t r;
	int ret;

	if (side == IK_SIDE_A) {
		seq = ++st->seq[IK_SIDE_A];
		if ((ret = ik_mailbox_put(ch, IK_SIDE_B, buf, len)))
			return ret;
		r = trapped(ch, SN_MSG, seq);
		return r < 0 ? (int)r : r == (int64_t)seq ? 0 : -EPROTO;
	}
	/* B: wait for A's fetch, put the message, answer it */
	seq = ++st->answered;
	if ((ret = take(ch, st, SN_FETCH, seq, &id)))
		return ret;
	if ((ret = ik_mailbox_put(ch, IK_SIDE_A, buf, len)))
		return ret;
	return answer(st, id, (int64_t)seq);
}

static int sn_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		   size_t len)
{
	struct sn_state *st = ch->priv;
	uint64_t id, seq;
	int64_t r;
	int ret;

	if (side == IK_SIDE_A) {
		seq = ++st->fetched;
		r = trapped(ch, SN_FETCH, seq);
		if (r < 0)
			return (int)r;
		if (r != (int64_t)seq)
			return -EPROTO;
		return ik_mailbox_get(ch, IK_SIDE_A, buf, len);
	}
	/* B: take A's call, the message, and let A go at once */
	seq = ++st->seq[IK_SIDE_B];
	if ((ret = take(ch, st, SN_MSG, seq, &id)) ||
	    (ret = ik_mailbox_get(ch, IK_SIDE_B, buf, len)))
		return ret;
	return answer(st, id, (int64_t)seq);
}

const struct ik_transport_ops ik_seccomp_notify_ops = {
	.name = "seccomp-notify",
	.summary = "A's trapped syscall answered by B through a seccomp "
		   "user-notification listener (2 per round trip)",
	.doc = "seccomp user notification: each message is a syscall A's "
	       "filter hands to B (`SECCOMP_RET_USER_NOTIF`) and B's answer; "
	       "two per round trip",
	.setup_hint = "needs seccomp user notification (Linux 5.0+) on "
		      "x86-64 or arm64",
	.flags = IK_T_SIGNAL,
	.setup = sn_setup,
	.open_side = sn_open_side,
	.send = sn_send,
	.recv = sn_recv,
	.teardown = sn_teardown,
	.unavailable = sn_unavailable,
};
