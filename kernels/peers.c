/* SPDX-License-Identifier: MIT */
/*
 * Two peers and the controller that watches them. Peers are two threads
 * or two forked children; the caller's thread is the controller in both
 * modes, so one code path waits, times out and cleans up. A peer that
 * fails aborts the channel at once; the controller then interrupts the
 * other (SIGUSR1 for a thread stuck in a syscall, SIGKILL for a process)
 * and reaps it, so no run hangs and no child outlives the call.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels.h"

#define POLL_SLICE_MS  50
#define ABORT_GRACE_NS (2 * IK_NS_PER_SEC) /* for threads to notice */

struct ik_peer_side {
	alignas(IK_CACHELINE) int status; /* 0 or -errno */
	int cpu_seen;
	_Atomic int done;
	struct ik_cpu_usage cpu;
	struct rusage r0; /* CPU use when the measured part began */
	struct timespec c0;
	char msg[200];
};

struct ik_peer_ctl {
	struct ik_gate gate; /* both peers of this pair, when alone */
	struct ik_peer_side side[2];
	int donefd;	      /* eventfd: each peer adds 1 when it ends */
	uint64_t deadline_ns; /* --timeout from the start, for the gate too */
};

struct thread_arg {
	struct ik_peers *g;
	enum ik_side side;
};

static void on_sigusr1(int sig)
{
	(void)sig; /* only here to make blocking syscalls return EINTR */
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * IK_NS_PER_SEC +
	       (uint64_t)tv.tv_usec * 1000;
}

static void side_fail(struct ik_peer_side *me, int err, const char *what)
{
	if (!me->msg[0])
		snprintf(me->msg, sizeof(me->msg), "%s: %s", what,
			 strerror(-err));
}

/* The gate this pair's peers meet at: the pairs' shared one, or theirs. */
static struct ik_gate *gate_of(struct ik_peers *g)
{
	return g->outer ? g->outer : &g->ctl->gate;
}

void ik_peers_cpu_restart(struct ik_peers *g, enum ik_side s)
{
	struct ik_peer_side *me = &g->ctl->side[s];

	getrusage(RUSAGE_THREAD, &me->r0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &me->c0);
}

static void peer_main(struct ik_peers *g, enum ik_side s)
{
	struct ik_peer_side *me = &g->ctl->side[s];
	struct rusage r1;
	struct timespec c1;
	uint64_t one = 1;
	int ret = 0;

	if (g->pinned) {
		ret = ik_bind_self(g->topo, g->cpu[s]);
		if (ret == -EXDEV)
			snprintf(me->msg, sizeof(me->msg),
				 "peer %c: pin to CPU %d did not take: it runs "
				 "on CPU %d",
				 'A' + s, g->cpu[s], sched_getcpu());
		else if (ret)
			side_fail(me, ret, s ? "peer B: bind" : "peer A: bind");
	}
	me->cpu_seen = sched_getcpu();
	if (!ret && (ret = ik_channel_open_side(g->ch, s)))
		side_fail(me, ret, "open_side");
	if (!ret && g->prepare && (ret = g->prepare(g, s)))
		side_fail(me, ret, "prepare");
	if (!ret && (ret = ik_gate_wait(gate_of(g), g->ctl->deadline_ns)) &&
	    ret != -ECANCELED)
		side_fail(me, ret,
			  s ? "peer B: start gate" : "peer A: start gate");
	ik_peers_cpu_restart(g, s);
	if (!ret && (ret = g->body(g, s)))
		side_fail(me, ret, s ? "peer B" : "peer A");
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	getrusage(RUSAGE_THREAD, &r1);
	me->cpu.cpu_ns = (uint64_t)(c1.tv_sec - me->c0.tv_sec) * IK_NS_PER_SEC +
			 (uint64_t)c1.tv_nsec - (uint64_t)me->c0.tv_nsec;
	me->cpu.user_ns = tv_ns(r1.ru_utime) - tv_ns(me->r0.ru_utime);
	me->cpu.sys_ns = tv_ns(r1.ru_stime) - tv_ns(me->r0.ru_stime);
	me->cpu.vol_cs = r1.ru_nvcsw - me->r0.ru_nvcsw;
	me->cpu.invol_cs = r1.ru_nivcsw - me->r0.ru_nivcsw;
	me->status = ret;
	if (ret) {
		ik_channel_abort(g->ch);
		/* before the gate, the others must not wait for us; after
		 * it, breaking the open gate changes nothing */
		ik_gate_break(gate_of(g));
	}
	atomic_store(&me->done, 1);
	if (write(g->ctl->donefd, &one, sizeof(one)) < 0)
		ik_channel_abort(g->ch); /* the controller times out */
}

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	peer_main(a->g, a->side);
	return NULL;
}

static void install_handlers(void)
{
	struct sigaction sa = {.sa_handler = on_sigusr1}; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct run {
	struct ik_peers *g;
	pthread_t th[2];
	bool th_live[2];
	struct thread_arg ta[2];
	pid_t pid[2];
	int pidfd[2];
	bool reaped[2];
	int wstatus[2];
};

static int start_threads(struct run *r)
{
	sigset_t block, old;
	int s, ret = 0;

	/* Ctrl-C belongs to the controller; peers only take SIGUSR1 */
	ik_stop_signals(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (s = 0; s < 2 && !ret; s++) {
		r->ta[s] = (struct thread_arg){r->g, (enum ik_side)s};
		ret = -pthread_create(&r->th[s], NULL, thread_main, &r->ta[s]);
		r->th_live[s] = !ret;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static int start_processes(struct run *r)
{
	int s;

	for (s = 0; s < 2; s++) {
		pid_t pid = ik_fork(); /* dies with the controller */

		if (pid < 0)
			return pid;
		if (pid == 0) {
			peer_main(r->g, (enum ik_side)s);
			_exit(r->g->ctl->side[s].status ? 1 : 0);
		}
		r->pid[s] = pid;
		r->pidfd[s] = (int)syscall(SYS_pidfd_open, pid, 0);
		if (r->pidfd[s] < 0)
			return -errno;
	}
	return 0;
}

/* Reap child s if it has ended; true when it is gone. */
static bool reap(struct run *r, int s, bool block)
{
	if (r->reaped[s] || r->pid[s] <= 0)
		return true;
	if (waitpid(r->pid[s], &r->wstatus[s], block ? 0 : WNOHANG) ==
	    r->pid[s])
		r->reaped[s] = true;
	return r->reaped[s];
}

static bool both_done(const struct ik_peer_ctl *c)
{
	return atomic_load(&c->side[0].done) && atomic_load(&c->side[1].done);
}

/* The first real failure's message (a peer's own, not a knock-on one). */
static int first_failure(struct run *r)
{
	struct ik_peers *g = r->g;
	int s;

	for (s = 0; s < 2; s++) {
		struct ik_peer_side *p = &g->ctl->side[s];

		if (atomic_load(&p->done) && p->status &&
		    p->status != -ECANCELED) {
			snprintf(g->errmsg, sizeof(g->errmsg), "%s", p->msg);
			return p->status;
		}
	}
	for (s = 0; s < 2 && g->mode == IK_MODE_PROCESS; s++) {
		if (!reap(r, s, false) || atomic_load(&g->ctl->side[s].done))
			continue;
		if (WIFSIGNALED(r->wstatus[s]))
			snprintf(g->errmsg, sizeof(g->errmsg),
				 "peer %c (pid %d) died: killed by signal %d "
				 "(%s)",
				 'A' + s, (int)r->pid[s],
				 WTERMSIG(r->wstatus[s]),
				 strsignal(WTERMSIG(r->wstatus[s])));
		else
			snprintf(
				g->errmsg, sizeof(g->errmsg),
				"peer %c (pid %d) exited with status %d before "
				"finishing",
				'A' + s, (int)r->pid[s],
				WEXITSTATUS(r->wstatus[s]));
		return -ECHILD;
	}
	return 0;
}

/*
 * Both peers ended without a failure of their own: if the gate was
 * broken under them (another pair failed first), this pair never ran.
 */
static int never_ran(struct ik_peers *g)
{
	int s;

	for (s = 0; s < 2; s++)
		if (g->ctl->side[s].status == -ECANCELED) {
			snprintf(g->errmsg, sizeof(g->errmsg), "not run: %s",
				 g->outer ? "another pair failed to start"
					  : "cancelled at the start gate");
			return -ECANCELED;
		}
	return 0;
}

/* Wait for both peers, a failure, the deadline or an interrupt. */
static int watch(struct run *r)
{
	struct ik_peers *g = r->g;
	uint64_t deadline = g->ctl->deadline_ns;
	int ret;

	for (;;) {
		struct pollfd pf[3] = {{.fd = g->ctl->donefd, .events = POLLIN},
				       {.fd = r->pidfd[0], .events = POLLIN},
				       {.fd = r->pidfd[1], .events = POLLIN}};
		uint64_t now = ik_clock_ns(), left;
		uint64_t junk;

		if ((ret = first_failure(r)))
			return ret;
		if (both_done(g->ctl))
			return never_ran(g);
		if (g->interrupted && *g->interrupted) {
			snprintf(g->errmsg, sizeof(g->errmsg),
				 "interrupted by a signal");
			return -EINTR;
		}
		if (now >= deadline) {
			snprintf(g->errmsg, sizeof(g->errmsg),
				 "timed out after %.1f s (--timeout)",
				 (double)g->timeout_ns / 1e9);
			return -ETIMEDOUT;
		}
		left = (deadline - now) / 1000000 + 1;
		poll(pf, g->mode == IK_MODE_PROCESS ? 3 : 1,
		     left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS);
		if (g->ch->ops->watch)
			g->ch->ops->watch(g->ch);
		if (pf[0].revents & POLLIN)
			if (read(g->ctl->donefd, &junk, sizeof(junk)) < 0)
				continue;
	}
}

/* After a failure: stop whoever is still running, and reap them. */
static void stop_all(struct run *r)
{
	struct ik_peers *g = r->g;
	uint64_t until = ik_clock_ns() + ABORT_GRACE_NS;
	int s;

	ik_channel_abort(g->ch);
	ik_gate_break(gate_of(g)); /* whoever waits there leaves now */
	if (g->mode == IK_MODE_PROCESS) {
		for (s = 0; s < 2; s++)
			if (r->pid[s] > 0 && !reap(r, s, false))
				kill(r->pid[s], SIGKILL);
		return;
	}
	while (!both_done(g->ctl) && ik_clock_ns() < until) {
		for (s = 0; s < 2; s++)
			if (r->th_live[s] &&
			    !atomic_load(&g->ctl->side[s].done))
				pthread_kill(r->th[s], SIGUSR1);
		usleep(1000); /* let the interrupted syscalls return */
	}
	for (s = 0; s < 2; s++)
		if (r->th_live[s] && !atomic_load(&g->ctl->side[s].done))
			g->stuck = true;
}

static void finish(struct run *r)
{
	struct ik_peers *g = r->g;
	int s;

	for (s = 0; s < 2; s++) {
		if (g->mode == IK_MODE_PROCESS) {
			reap(r, s, true);
			if (r->pidfd[s] >= 0)
				close(r->pidfd[s]);
		} else if (r->th_live[s]) {
			if (g->stuck)
				pthread_detach(r->th[s]);
			else
				pthread_join(r->th[s], NULL);
		}
		g->cpu_seen[s] = g->ctl->side[s].cpu_seen;
		g->cpu_use[s] = g->ctl->side[s].cpu;
	}
}

int ik_peers_run(struct ik_peers *g)
{
	struct run r = {.g = g, .pidfd = {-1, -1}};
	char hint[120];
	int ret;

	g->errmsg[0] = 0;
	g->stuck = false;
	g->ctl = ik_shm_alloc(sizeof(*g->ctl));
	if (!g->ctl) {
		snprintf(g->errmsg, sizeof(g->errmsg), "out of memory");
		if (g->outer)
			ik_gate_break(g->outer);
		return -ENOMEM;
	}
	ik_gate_init(&g->ctl->gate, 2);
	g->ctl->deadline_ns = ik_clock_ns() + g->timeout_ns;
	g->ctl->donefd = eventfd(0, EFD_CLOEXEC);
	if (g->ctl->donefd < 0) {
		ret = -errno;
		snprintf(g->errmsg, sizeof(g->errmsg), "eventfd: %s%s",
			 strerror(-ret),
			 ik_limit_hint(ret, hint, sizeof(hint)));
		goto out;
	}
	install_handlers();
	ret = g->mode == IK_MODE_PROCESS ? start_processes(&r)
					 : start_threads(&r);
	if (ret)
		snprintf(g->errmsg, sizeof(g->errmsg), "starting peers: %s%s",
			 strerror(-ret),
			 ik_limit_hint(ret, hint, sizeof(hint)));
	else
		ret = watch(&r);
	if (ret) /* breaks the gate: the other pairs must not wait for us */
		stop_all(&r);
	finish(&r);
	if (!ret && g->mode == IK_MODE_PROCESS &&
	    (ret = first_failure(&r)) == 0) {
		/* both said done; a child that then crashed still failed */
		for (int s = 0; s < 2 && !ret; s++)
			if (!WIFEXITED(r.wstatus[s]) ||
			    WEXITSTATUS(r.wstatus[s])) {
				snprintf(g->errmsg, sizeof(g->errmsg),
					 "peer %c ended abnormally", 'A' + s);
				ret = -ECHILD;
			}
	}
out:
	if (ret && g->outer) /* the other pairs must not wait for us */
		ik_gate_break(g->outer);
	if (!g->stuck) { /* else a live thread may still use both */
		if (g->ctl->donefd >= 0)
			close(g->ctl->donefd);
		ik_shm_free(g->ctl, sizeof(*g->ctl));
		g->ctl = NULL;
	}
	return ret;
}
