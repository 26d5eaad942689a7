/* SPDX-License-Identifier: MIT */
/*
 * A crew: a server and N clients, as threads or forked processes, for
 * the kernels that are not two peers on one channel (echo, connect).
 * The caller's thread is the controller in both modes: it waits for
 * every member, and on a member's failure, --timeout or Ctrl-C it sets
 * the abort flag, makes blocked threads return (the kernel's unblock:
 * shutting sockets down) or SIGKILLs the children, and reaps everyone.
 * Members meet at a start gate once set up (connected), so the clock
 * starts for all of them together.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels.h"

#define POLL_SLICE_MS  50
#define ABORT_GRACE_NS (2 * IK_NS_PER_SEC)
#define BLAME_GRACE_NS (300 * 1000000ull) /* see blame() */

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * IK_NS_PER_SEC +
	       (uint64_t)tv.tv_usec * 1000;
}

void ik_cpu_mark(struct ik_cpu_mark *m)
{
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &m->c0);
	getrusage(RUSAGE_THREAD, &m->r0);
}

void ik_cpu_since(const struct ik_cpu_mark *m, struct ik_cpu_usage *u)
{
	struct timespec c1;
	struct rusage r1;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	getrusage(RUSAGE_THREAD, &r1);
	u->cpu_ns = (uint64_t)(c1.tv_sec - m->c0.tv_sec) * IK_NS_PER_SEC +
		    (uint64_t)c1.tv_nsec - (uint64_t)m->c0.tv_nsec;
	u->user_ns = tv_ns(r1.ru_utime) - tv_ns(m->r0.ru_utime);
	u->sys_ns = tv_ns(r1.ru_stime) - tv_ns(m->r0.ru_stime);
	u->vol_cs = r1.ru_nvcsw - m->r0.ru_nvcsw;
	u->invol_cs = r1.ru_nivcsw - m->r0.ru_nivcsw;
}

void ik_cpu_add(struct ik_cpu_usage *d, const struct ik_cpu_usage *s)
{
	d->cpu_ns += s->cpu_ns;
	d->user_ns += s->user_ns;
	d->sys_ns += s->sys_ns;
	d->vol_cs += s->vol_cs;
	d->invol_cs += s->invol_cs;
}

void ik_crew_init(struct ik_crew *c, const struct ik_config *cfg,
		  enum ik_mode mode, const struct ik_topo *topo,
		  int (*body)(struct ik_crew *c, unsigned i),
		  void (*unblock)(struct ik_crew *c), void *arg,
		  struct ik_cpu_usage *cpu)
{
	*c = (struct ik_crew){
		.n = cfg->clients + 1,
		.mode = mode,
		.topo = topo,
		.cpus = cfg->ncrew_cpus ? cfg->crew_cpus : NULL,
		.ncpus = cfg->ncrew_cpus,
		.timeout_ns = cfg->timeout_ns,
		.interrupted = cfg->interrupted,
		.body = body,
		.unblock = unblock,
		.arg = arg,
		.cpu = cpu,
	};
}

void ik_crew_add_cpu(struct ik_crew *c, unsigned i,
		     const struct ik_cpu_usage *u)
{
	struct ik_cpu_usage *t = &c->sh->m[i].cpu;

	__atomic_fetch_add(&t->cpu_ns, u->cpu_ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->user_ns, u->user_ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->sys_ns, u->sys_ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->vol_cs, u->vol_cs, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->invol_cs, u->invol_cs, __ATOMIC_RELAXED);
}

bool ik_crew_aborted(const struct ik_crew *c)
{
	return atomic_load_explicit(&c->sh->abort, memory_order_relaxed);
}

int ik_crew_gate(struct ik_crew *c)
{
	return ik_gate_wait(&c->sh->gate, c->sh->deadline_ns);
}

/* Everyone stops: loops see the flag, the gate lets its waiters go. */
static void crew_abort(struct ik_crew *c)
{
	atomic_store(&c->sh->abort, 1);
	ik_gate_break(&c->sh->gate);
}

void ik_crew_fail(struct ik_crew *c, unsigned i, int err, const char *fmt, ...)
{
	struct ik_crew_member *m = &c->sh->m[i];
	va_list ap;

	if (m->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
	va_end(ap);
	m->status = err;
}

static void member(struct ik_crew *c, unsigned i)
{
	struct ik_crew_member *m = &c->sh->m[i];
	uint64_t one = 1;
	int ret = 0;

	if (c->ncpus) {
		/* the server on the first CPU, the clients round the rest */
		int cpu = i == 0 || c->ncpus == 1
				  ? c->cpus[0]
				  : c->cpus[1 + (i - 1) % (c->ncpus - 1)];

		if ((ret = ik_bind_self(c->topo, cpu)) && ret != -EXDEV)
			ik_crew_fail(c, i, ret, "%s %u: pin to CPU %d: %s",
				     i ? "client" : "server", i, cpu,
				     strerror(-ret));
		ret = ret == -EXDEV ? 0 : ret;
	}
	if (!ret)
		ret = c->body(c, i);
	if (ret == -ETIMEDOUT && atomic_load(&c->sh->gate.arrived) < c->n)
		ik_crew_fail(c, i, ret,
			     "%s %u: the start gate did not open within "
			     "--timeout %.1f s",
			     i ? "client" : "server", i, c->timeout_ns / 1e9);
	if (ret && ret != -ECANCELED)
		ik_crew_fail(c, i, ret, "%s %u: %s", i ? "client" : "server", i,
			     strerror(-ret));
	if (ret) /* the others may wait at the gate for this one */
		crew_abort(c);
	m->status = ret;
	atomic_store(&m->done, 1);
	if (write(c->sh->donefd, &one, sizeof(one)) < 0)
		m->status = m->status ? m->status : -EIO;
}

struct crew_thread {
	struct ik_crew *c;
	unsigned i;
	pthread_t th;
	bool started;
};

static void *member_thread(void *p)
{
	struct crew_thread *t = p;

	member(t->c, t->i);
	return NULL;
}

/*
 * Errors that follow from another member's end rather than cause it: a
 * connection reset or closed under us (a dead server shows to its
 * clients as ECONNRESET or EOF, which ik_recv_all makes EPIPE), a gate
 * broken by someone else.
 */
static bool knock_on(int err)
{
	return err == -ECANCELED || err == -ECONNRESET || err == -EPIPE ||
	       err == -ENOTCONN || err == -ECONNABORTED;
}

/*
 * Everyone done, or a failure (its index; one of its own before a
 * knock-on one), or -1 still running.
 */
static int check(struct ik_crew *c, unsigned *ndone)
{
	unsigned i, d = 0;
	int knock = -1;

	for (i = 0; i < c->n; i++) {
		struct ik_crew_member *m = &c->sh->m[i];

		if (!atomic_load(&m->done))
			continue;
		d++;
		if (m->status && !knock_on(m->status))
			return (int)i;
		if (m->status && knock < 0)
			knock = (int)i;
	}
	*ndone = d;
	return knock;
}

/* A child that died without saying so (a signal, a crash): its index. */
static int reap_dead(struct ik_crew *c, pid_t *pids)
{
	unsigned i;
	int st;

	for (i = 0; i < c->n; i++) {
		struct ik_crew_member *m = &c->sh->m[i];
		pid_t pid = pids[i];
		char who[24];

		if (pid <= 0 || waitpid(pid, &st, WNOHANG) != pid)
			continue;
		pids[i] = 0;
		if (atomic_load(&m->done) && WIFEXITED(st) &&
		    (WEXITSTATUS(st) == 0) == (m->status == 0))
			continue; /* it ended as it said */
		if (i)
			snprintf(who, sizeof(who), "client %u", i);
		else
			snprintf(who, sizeof(who), "server");
		/* dead, so nobody else writes its message now */
		if (WIFSIGNALED(st))
			snprintf(m->msg, sizeof(m->msg),
				 "%s (pid %d) died: killed by signal %d (%s)",
				 who, (int)pid, WTERMSIG(st),
				 strsignal(WTERMSIG(st)));
		else
			snprintf(m->msg, sizeof(m->msg),
				 "%s (pid %d) exited with status %d before "
				 "finishing",
				 who, (int)pid, WEXITSTATUS(st));
		m->status = -ECHILD;
		atomic_store(&m->done, 1);
		return (int)i;
	}
	return -1;
}

/*
 * A failure first seen as a knock-on error (a client's reset) usually
 * has a cause that shows a moment later: the server's death becomes
 * waitable only after its sockets were closed, and a server thread
 * records its failure after closing its connections. Wait up to
 * BLAME_GRACE_NS for such a cause and blame it; else the knock-on.
 */
static int blame(struct ik_crew *c, pid_t *pids, int bad)
{
	uint64_t until = ik_clock_ns() + BLAME_GRACE_NS;
	unsigned nd;
	int d;

	for (;;) {
		if (c->mode == IK_MODE_PROCESS && (d = reap_dead(c, pids)) >= 0)
			return d;
		d = check(c, &nd);
		if (d >= 0 && !knock_on(c->sh->m[d].status))
			return d;
		if (ik_clock_ns() >= until)
			return bad;
		poll(NULL, 0, 5); /* a failure path: no hurry */
	}
}

int ik_crew_run(struct ik_crew *c)
{
	size_t len = sizeof(*c->sh) + c->n * sizeof(c->sh->m[0]);
	struct crew_thread *th = calloc(c->n, sizeof(*th));
	pid_t *pids = calloc(c->n, sizeof(*pids));
	uint64_t v;
	unsigned i, ndone = 0;
	sigset_t block, old;
	char hint[120];
	int ret = 0, bad = -1, dead;

	c->stuck = false;
	c->errmsg[0] = 0;
	/* a peer that closed shows as EPIPE, not as a dead process */
	signal(SIGPIPE, SIG_IGN);
	c->sh = ik_shm_alloc(len);
	if (!th || !pids || !c->sh) {
		free(th);
		free(pids);
		ik_shm_free(c->sh, len);
		c->sh = NULL;
		snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
		return -ENOMEM;
	}
	ik_gate_init(&c->sh->gate, c->n);
	c->sh->deadline_ns = ik_clock_ns() + c->timeout_ns;
	c->sh->donefd = eventfd(0, EFD_CLOEXEC);
	if (c->sh->donefd < 0) {
		ret = -errno;
		snprintf(c->errmsg, sizeof(c->errmsg), "eventfd: %s%s",
			 strerror(-ret),
			 ik_limit_hint(ret, hint, sizeof(hint)));
		goto out;
	}
	/* Ctrl-C belongs to the controller: member threads block it */
	ik_stop_signals(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < c->n; i++) {
		if (c->mode == IK_MODE_THREAD) {
			th[i] = (struct crew_thread){.c = c, .i = i};
			ret = -pthread_create(&th[i].th, NULL, member_thread,
					      &th[i]);
			if (ret)
				break;
			th[i].started = true;
			continue;
		}
		pids[i] = ik_fork(); /* dies with the controller */
		if (pids[i] < 0) {
			ret = pids[i];
			pids[i] = 0;
			break;
		}
		if (pids[i] == 0) {
			member(c, i);
			_exit(c->sh->m[i].status ? 1 : 0);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "could only start %u of %u members: %s%s", i, c->n,
			 strerror(-ret),
			 ik_limit_hint(ret, hint, sizeof(hint)));
		goto stop;
	}
	for (;;) {
		struct pollfd pfd = {.fd = c->sh->donefd, .events = POLLIN};

		if (poll(&pfd, 1, POLL_SLICE_MS) > 0 &&
		    read(c->sh->donefd, &v, sizeof(v)) < 0)
			break;
		bad = check(c, &ndone);
		if (c->mode == IK_MODE_PROCESS &&
		    (dead = reap_dead(c, pids)) >= 0)
			bad = dead; /* a death before what it caused */
		if (bad >= 0 && knock_on(c->sh->m[bad].status))
			bad = blame(c, pids, bad);
		if (bad >= 0) {
			ret = c->sh->m[bad].status ? c->sh->m[bad].status
						   : -EIO;
			if (c->sh->m[bad].msg[0])
				snprintf(c->errmsg, sizeof(c->errmsg), "%s",
					 c->sh->m[bad].msg);
			else /* cancelled, and its cause never showed */
				snprintf(c->errmsg, sizeof(c->errmsg),
					 "%s %d: %s", bad ? "client" : "server",
					 bad, strerror(-ret));
			break;
		}
		if (ndone == c->n)
			break;
		if (c->interrupted && *c->interrupted) {
			ret = -EINTR;
			snprintf(c->errmsg, sizeof(c->errmsg), "interrupted");
			break;
		}
		if (ik_clock_ns() >= c->sh->deadline_ns) {
			ret = -ETIMEDOUT;
			snprintf(c->errmsg, sizeof(c->errmsg),
				 "no end after --timeout %.1f s (%u of %u "
				 "members done)",
				 c->timeout_ns / 1e9, ndone, c->n);
			break;
		}
	}
stop:
	if (ret) {
		crew_abort(c);
		if (c->unblock)
			c->unblock(c);
	}
	if (c->mode == IK_MODE_THREAD) {
		struct timespec until; /* pthread_timedjoin_np: REALTIME */

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)(ABORT_GRACE_NS / IK_NS_PER_SEC);
		for (i = 0; i < c->n; i++)
			if (th[i].started &&
			    pthread_timedjoin_np(th[i].th, NULL, &until))
				c->stuck = true;
	} else {
		for (i = 0; i < c->n; i++)
			if (pids[i] > 0 && ret)
				kill(pids[i], SIGKILL);
		for (i = 0; i < c->n; i++)
			if (pids[i] > 0)
				waitpid(pids[i], NULL, 0);
	}
	if (!ret && ndone == c->n)
		c->t_open_ns = c->sh->gate.t_open_ns;
	for (i = 0; i < c->n; i++)
		c->cpu[i] = c->sh->m[i].cpu;
out:
	if (c->sh->donefd >= 0 && !c->stuck)
		close(c->sh->donefd);
	if (!c->stuck) {
		ik_shm_free(c->sh, len);
		c->sh = NULL;
	}
	free(th);
	free(pids);
	return ret;
}
