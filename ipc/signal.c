/* SPDX-License-Identifier: MIT */
/*
 * signal, signalfd: a queued real-time signal is the wake-up, and its
 * value carries the message's number, which the receiver checks (a
 * signal lost, doubled or from elsewhere is -EPROTO); the payload rides
 * in the mailbox. Process mode sends with sigqueue() to the peer's
 * process; thread mode with rt_tgsigqueueinfo() to the peer's thread, as
 * a process-directed signal could land in any thread. Each peer blocks
 * the signal in its own thread before the start gate and takes it with
 * sigwaitinfo() (signal) or by reading a signalfd of its own (signalfd).
 * The signal is set to SIG_IGN in the whole process, once and for good
 * (ipckern uses it for nothing else): a blocked signal is still queued
 * (Linux never ignores one that is blocked), while one that strays into
 * a thread not waiting for it, after its peer is gone, is dropped rather
 * than killing the process.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc.h"

#define SIG_OFFSET 4 /* the signal is SIGRTMIN + this */

/* side s's own line: written by s only (tid/pid before the start gate) */
struct sig_side {
	alignas(IK_CACHELINE) _Atomic pid_t tid;
	pid_t pid;
	uid_t uid;
	int sfd;       /* signalfd: side s's own, made in open_side */
	uint64_t sent; /* messages s sent */
	uint64_t got;  /* messages s received */
};

struct sig_state {
	struct sig_side side[2];
	int sig;
	bool use_fd;
};

static int sig_setup_as(struct ik_channel *ch, bool use_fd)
{
	struct sig_state *st = ik_channel_shm(ch, sizeof(*st));
	struct sigaction sa = {.sa_handler = SIG_IGN};

	if (!st)
		return -ENOMEM;
	st->sig = SIGRTMIN + SIG_OFFSET;
	st->use_fd = use_fd;
	st->side[0].sfd = st->side[1].sfd = -1;
	if (st->sig > SIGRTMAX || sigaction(st->sig, &sa, NULL) < 0) {
		ik_shm_free(st, sizeof(*st));
		return -EINVAL;
	}
	ch->priv = st;
	return 0;
}

static int sig_setup(struct ik_channel *ch)
{
	return sig_setup_as(ch, false);
}

static int sigfd_setup(struct ik_channel *ch)
{
	return sig_setup_as(ch, true);
}

/* In the peer's own thread, before the start gate: block, say where. */
static int sig_open_side(struct ik_channel *ch, enum ik_side side)
{
	struct sig_state *st = ch->priv;
	struct sig_side *me = &st->side[side];
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, st->sig);
	if ((r = pthread_sigmask(SIG_BLOCK, &set, NULL)))
		return -r;
	if (st->use_fd && (me->sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
		return -errno;
	me->pid = getpid();
	me->uid = getuid();
	me->sent = me->got = 0;
	/* release: pid and the rest are in before the peer reads tid */
	atomic_store_explicit(&me->tid, (pid_t)syscall(SYS_gettid),
			      memory_order_release);
	return 0;
}

static int sig_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		    size_t len)
{
	struct sig_state *st = ch->priv;
	struct sig_side *me = &st->side[side], *peer = &st->side[!side];
	pid_t tid = atomic_load_explicit(&peer->tid, memory_order_acquire);
	union sigval v = {.sival_ptr = (void *)(uintptr_t)(me->sent + 1)};
	siginfo_t si;
	int ret = ik_mailbox_put(ch, !side, buf, len);
	long r;

	if (ret)
		return ret;
	if (ch->p.mode == IK_MODE_THREAD) {
		memset(&si, 0, sizeof(si));
		si.si_signo = st->sig;
		si.si_code = SI_QUEUE;
		si.si_pid = me->pid;
		si.si_uid = me->uid;
		si.si_value = v;
	}
	for (;;) {
		if (ch->p.mode == IK_MODE_THREAD)
			r = syscall(SYS_rt_tgsigqueueinfo, peer->pid, tid,
				    st->sig, &si);
		else
			r = sigqueue(peer->pid, st->sig, v);
		if (ik_likely(r == 0))
			break;
		/* EAGAIN: RLIMIT_SIGPENDING reached; the reader drains */
		if (errno != EINTR && errno != EAGAIN)
			return errno == ESRCH ? -EPIPE : -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
		if (errno == EAGAIN)
			sched_yield();
	}
	me->sent++;
	return 0;
}

/* The value a signal carried must be the next message's number. */
static int sig_took(struct ik_channel *ch, struct sig_side *me, uint64_t v,
		    enum ik_side side, void *buf, size_t len)
{
	if (v != me->got + 1)
		return -EPROTO;
	me->got++;
	return ik_mailbox_get(ch, side, buf, len);
}

/* sigtimedwait without glibc's cancellation point (ik_sys_read's
 * reason, ipc.h); the kernel's sigset is _NSIG bits */
static int sys_sigtimedwait(const sigset_t *set, siginfo_t *si,
			    const struct timespec *ts)
{
	return (int)syscall(SYS_rt_sigtimedwait, set, si, ts, _NSIG / 8);
}

static int sig_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		    size_t len)
{
	struct sig_state *st = ch->priv;
	struct sig_side *me = &st->side[side];
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, st->sig);
	/* EINTR: a handled signal (the crew's SIGUSR1 when it stops us);
	 * EAGAIN: the wake-up deadline, lost if the signal is pending */
	while (sys_sigtimedwait(&set, &si, ik_wake_deadline(ch)) < 0) {
		if (errno == EAGAIN) {
			sigset_t pend;

			if (!sigpending(&pend) && sigismember(&pend, st->sig))
				ik_channel_count_lost(ch);
			continue;
		}
		if (errno != EINTR)
			return -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	return sig_took(ch, me, (uintptr_t)si.si_value.sival_ptr, side, buf,
			len);
}

static int sigfd_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		      size_t len)
{
	struct sig_state *st = ch->priv;
	struct sig_side *me = &st->side[side];
	struct signalfd_siginfo fi;
	int ret = ik_read_full(ch, me->sfd, &fi, sizeof(fi));

	return ret ? ret : sig_took(ch, me, fi.ssi_ptr, side, buf, len);
}

/* A thread's signalfd is in the parent's table; a child's died with it. */
static void sig_teardown(struct ik_channel *ch)
{
	struct sig_state *st = ch->priv;

	if (!st)
		return;
	if (ch->p.mode == IK_MODE_THREAD) {
		ik_close(&st->side[0].sfd);
		ik_close(&st->side[1].sfd);
	}
	ik_channel_mem_free(ch, st, sizeof(*st));
}

const struct ik_transport_ops ik_signal_ops = {
	.name = "signal",
	.summary = "queued real-time signal per message (sigqueue or "
		   "rt_tgsigqueueinfo, sigwaitinfo), payload in shared memory",
	.doc = "a real-time signal per message, its value the message's "
	       "number: `sigqueue` (process mode) or `rt_tgsigqueueinfo` to "
	       "the peer thread, taken with `sigwaitinfo` / from a "
	       "`signalfd`",
	.flags = IK_T_SIGNAL,
	.setup = sig_setup,
	.open_side = sig_open_side,
	.send = sig_send,
	.recv = sig_recv,
	.teardown = sig_teardown,
};

const struct ik_transport_ops ik_signalfd_ops = {
	.name = "signalfd",
	.summary = "the same, each peer reading its signals from a signalfd",
	.flags = IK_T_SIGNAL,
	.setup = sigfd_setup,
	.open_side = sig_open_side,
	.send = sig_send,
	.recv = sigfd_recv,
	.teardown = sig_teardown,
};
