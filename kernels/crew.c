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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels.h"

#define POLL_SLICE_MS  50
#define ABORT_GRACE_NS (2 * IK_NS_PER_SEC)

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
	struct ik_crew_shared *sh = c->sh;

	if (atomic_fetch_add(&sh->arrived, 1) + 1 == c->n) {
		sh->t_open_ns = ik_clock_ns();
		atomic_store(&sh->open, 1);
		ik_futex_wake(&sh->open, INT32_MAX, true);
		return 0;
	}
	while (!atomic_load(&sh->open)) {
		ik_futex_wait(&sh->open, 0, true);
		if (ik_crew_aborted(c))
			return -ECANCELED;
	}
	return 0;
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
	if (ret)
		ik_crew_fail(c, i, ret, "%s %u: %s", i ? "client" : "server", i,
			     strerror(-ret));
	if (ret) /* the others may wait at the gate for this one */
		atomic_store(&c->sh->abort, 1);
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

/* Everyone done, or a failure (its index), or -1 still running. */
static int check(struct ik_crew *c, unsigned *ndone)
{
	unsigned i, d = 0;

	for (i = 0; i < c->n; i++) {
		struct ik_crew_member *m = &c->sh->m[i];

		if (!atomic_load(&m->done))
			continue;
		d++;
		if (m->status)
			return (int)i;
	}
	*ndone = d;
	return -1;
}

/* A child that died without saying so (SIGKILL, a crash). */
static int reap_dead(struct ik_crew *c, pid_t *pids)
{
	unsigned i;
	int st;

	for (i = 0; i < c->n; i++) {
		if (pids[i] <= 0 || waitpid(pids[i], &st, WNOHANG) != pids[i])
			continue;
		pids[i] = 0;
		if (!atomic_load(&c->sh->m[i].done) ||
		    !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			ik_crew_fail(c, i, -EIO, "%s %u: died (%s %d)",
				     i ? "client" : "server", i,
				     WIFSIGNALED(st) ? "signal" : "exit",
				     WIFSIGNALED(st) ? WTERMSIG(st)
						     : WEXITSTATUS(st));
			atomic_store(&c->sh->m[i].done, 1);
			return (int)i;
		}
	}
	return -1;
}

int ik_crew_run(struct ik_crew *c)
{
	size_t len = sizeof(*c->sh) + c->n * sizeof(c->sh->m[0]);
	struct crew_thread *th = calloc(c->n, sizeof(*th));
	pid_t *pids = calloc(c->n, sizeof(*pids));
	uint64_t t0 = ik_clock_ns(), v;
	unsigned i, ndone = 0;
	int ret = 0, bad = -1;

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
	c->sh->donefd = eventfd(0, EFD_CLOEXEC);
	if (c->sh->donefd < 0) {
		ret = -errno;
		snprintf(c->errmsg, sizeof(c->errmsg), "eventfd: %s",
			 strerror(-ret));
		goto out;
	}
	for (i = 0; i < c->n; i++) {
		if (c->mode == IK_MODE_THREAD) {
			th[i] = (struct crew_thread){.c = c, .i = i};
			if (pthread_create(&th[i].th, NULL, member_thread,
					   &th[i])) {
				ret = -EAGAIN;
				break;
			}
			th[i].started = true;
			continue;
		}
		pids[i] = fork();
		if (pids[i] < 0) {
			ret = -errno;
			pids[i] = 0;
			break;
		}
		if (pids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			member(c, i);
			_exit(c->sh->m[i].status ? 1 : 0);
		}
	}
	if (ret) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "could only start %u of %u members: %s", i, c->n,
			 strerror(-ret));
		atomic_store(&c->sh->abort, 1);
		goto stop;
	}
	for (;;) {
		struct pollfd pfd = {.fd = c->sh->donefd, .events = POLLIN};

		if (poll(&pfd, 1, POLL_SLICE_MS) > 0 &&
		    read(c->sh->donefd, &v, sizeof(v)) < 0)
			break;
		bad = check(c, &ndone);
		if (bad < 0 && c->mode == IK_MODE_PROCESS)
			bad = reap_dead(c, pids);
		if (bad >= 0) {
			ret = c->sh->m[bad].status ? c->sh->m[bad].status
						   : -EIO;
			snprintf(c->errmsg, sizeof(c->errmsg), "%s",
				 c->sh->m[bad].msg);
			break;
		}
		if (ndone == c->n)
			break;
		if (c->interrupted && *c->interrupted) {
			ret = -EINTR;
			snprintf(c->errmsg, sizeof(c->errmsg), "interrupted");
			break;
		}
		if (ik_clock_ns() - t0 > c->timeout_ns) {
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
		atomic_store(&c->sh->abort, 1);
		ik_futex_wake(&c->sh->open, INT32_MAX, true);
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
		c->t_open_ns = c->sh->t_open_ns;
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
