/* SPDX-License-Identifier: MIT */
/*
 * The controller of every run: a crew of members, as threads or forked
 * processes. A server and N clients (echo, connect) are a crew; so are
 * the two peers of a channel (kernels/run.c). The caller's thread is the
 * controller in both modes, so one code path waits, times out and
 * cleans up: it waits for every member, and on a member's failure,
 * --timeout or Ctrl-C it sets the abort flag, makes blocked members
 * return (the kernel's unblock, then SIGUSR1 for a thread stuck in a
 * syscall) or SIGKILLs the children, and reaps everyone, so no run hangs
 * and no child outlives the call. Members meet at a start barrier once
 * set up, so the clock starts for all of them together.
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
#include <sys/wait.h>
#include <unistd.h>

#include "kernels.h"

#define POLL_SLICE_MS  50
#define ABORT_GRACE_NS (2 * IK_NS_PER_SEC) /* for threads to notice */
#define BLAME_GRACE_NS (300 * 1000000ull)  /* see blame() */

/* A crew's run context when it has none: alone, no topology, no Ctrl-C. */
static const struct ik_run no_run = {.mem_node = -1};

void ik_crew_init(struct ik_crew *c, const struct ik_config *cfg,
		  enum ik_mode mode, const struct ik_run *run,
		  int (*body)(struct ik_crew *c, unsigned i),
		  void (*unblock)(struct ik_crew *c), void *arg,
		  struct ik_cpu_usage *cpu)
{
	*c = (struct ik_crew){
		.n = cfg->clients + 1,
		.mode = mode,
		.run = run,
		.cpus = cfg->pinned && cfg->ncpu ? cfg->cpu : NULL,
		.ncpus = cfg->pinned ? cfg->ncpu : 0,
		.timeout_ns = cfg->timeout_ns,
		.body = body,
		.unblock = unblock,
		.arg = arg,
		.cpu = cpu,
		.load = cfg->load,
		.load_on_peer = cfg->load_on_peer,
	};
}

/* The barrier this crew's members meet at: the shared one, or theirs. */
static struct ik_barrier *barrier_of(const struct ik_crew *c)
{
	return c->run->start ? c->run->start : &c->sh->start;
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

void ik_crew_count_start(struct ik_crew *c, unsigned i, struct ik_counters *k,
			 struct ik_counts *c0)
{
	/* per-CPU counters only where the CPU is the member's alone: the
	 * server's, and each client's while they do not wrap round */
	bool own = c->ncpus && (i == 0 || c->n - 1 <= c->ncpus - 1);

	if (!c->counts)
		return;
	ik_counters_open(k, own ? c->sh->m[i].cpu_seen : -1, "");
	ik_counters_read(k, c0);
}

void ik_crew_count_store(struct ik_crew *c, unsigned i, struct ik_counters *k,
			 const struct ik_counts *c0)
{
	struct ik_counts now;

	if (!c->counts)
		return;
	ik_counters_read(k, &now);
	ik_counts_delta(&c->sh->m[i].counts, c0, &now);
}

void ik_crew_count_end(struct ik_crew *c, unsigned i, struct ik_counters *k,
		       const struct ik_counts *c0)
{
	if (!c->counts)
		return;
	ik_crew_count_store(c, i, k, c0);
	ik_counters_close(k);
}

void ik_crew_counts_fold(const struct ik_crew *c, struct ik_result *res)
{
	unsigned i;

	if (!c->counts)
		return;
	res->ctr[1] = c->counts[0];
	for (i = 1; i < c->n; i++)
		ik_counts_add(&res->ctr[0], &c->counts[i]);
	res->explained = true;
	/* never traced, one client or many (reports/explain.c says so) */
	res->wake.err = -EOPNOTSUPP;
}

bool ik_crew_aborted(const struct ik_crew *c)
{
	return atomic_load_explicit(&c->sh->abort, memory_order_relaxed);
}

int ik_crew_barrier(struct ik_crew *c)
{
	return ik_barrier_wait(barrier_of(c), c->sh->deadline_ns);
}

/* Everyone stops: loops see the flag, the barrier lets its waiters go
 * (with an outer barrier, the other crews started with us too). */
static void crew_abort(struct ik_crew *c)
{
	atomic_store(&c->sh->abort, 1);
	ik_barrier_break(barrier_of(c));
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

/* Member i as messages name it: "peer A", "server", "client 3". */
static const char *who(const struct ik_crew *c, unsigned i, char *buf,
		       size_t len)
{
	if (c->names)
		return c->names[i];
	if (i)
		snprintf(buf, len, "client %u", i);
	else
		snprintf(buf, len, "server");
	return buf;
}

static void member(struct ik_crew *c, unsigned i)
{
	struct ik_crew_member *m = &c->sh->m[i];
	struct ik_barrier *b = barrier_of(c);
	uint64_t one = 1;
	int ret = 0;

	if (c->ncpus) {
		/* the server on the first CPU, the clients round the rest */
		int cpu = i == 0 || c->ncpus == 1
				  ? c->cpus[0]
				  : c->cpus[1 + (i - 1) % (c->ncpus - 1)];

		if ((ret = ik_bind_self(c->run->topo, cpu)) && ret != -EXDEV)
			ik_crew_fail(c, i, ret, "%s %u: pin to CPU %d: %s",
				     i ? "client" : "server", i, cpu,
				     strerror(-ret));
		ret = ret == -EXDEV ? 0 : ret;
	}
	m->cpu_seen = sched_getcpu();
	if (!ret)
		ret = c->body(c, i);
	if (ret == -ETIMEDOUT && atomic_load(&b->arrived) < b->parties)
		ik_crew_fail(c, i, ret,
			     "%s %u: the start gate did not open within "
			     "--timeout %.1f s",
			     i ? "client" : "server", i, c->timeout_ns / 1e9);
	if (ret && ret != -ECANCELED)
		ik_crew_fail(c, i, ret, "%s %u: %s", i ? "client" : "server", i,
			     strerror(-ret));
	if (ret) /* the others may wait at the barrier for this one */
		crew_abort(c);
	m->status = ret;
	atomic_store(&m->done, 1);
	if (write(c->sh->donefd, &one, sizeof(one)) < 0)
		m->status = m->status ? m->status : -EIO;
}

/* The controller's own state for one run, in its own memory. */
struct member_thread {
	struct ik_crew *c;
	unsigned i;
	pthread_t th;
	bool started;
};

struct ctl {
	struct ik_crew *c;
	struct member_thread *th; /* thread mode */
	pid_t *pid;		  /* process mode: > 0 until reaped */
	int *wstatus;
	unsigned started;
	unsigned ndone; /* as check() last counted */
};

static void *member_thread(void *p)
{
	struct member_thread *t = p;

	member(t->c, t->i);
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig; /* only here to make blocking syscalls return EINTR */
}

static void install_handlers(void)
{
	struct sigaction sa = {.sa_handler = on_sigusr1}; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* a peer that closed shows as EPIPE, not as a dead process */
	signal(SIGPIPE, SIG_IGN);
}

/* Threads or children for every member; 0, or -errno with errmsg set. */
static int start_members(struct ctl *x)
{
	struct ik_crew *c = x->c;
	sigset_t block, old;
	char hint[120];
	unsigned i;
	int ret = 0;

	/* Ctrl-C belongs to the controller: member threads block it, and
	 * children take it back in ik_child_bind */
	ik_stop_signals(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < c->n && !ret; i++) {
		if (c->mode == IK_MODE_THREAD) {
			x->th[i] = (struct member_thread){.c = c, .i = i};
			ret = -pthread_create(&x->th[i].th, NULL, member_thread,
					      &x->th[i]);
			x->th[i].started = !ret;
		} else {
			pid_t pid = ik_fork(); /* dies with the controller */

			if (pid == 0) {
				member(c, i);
				_exit(c->sh->m[i].status ? 1 : 0);
			}
			ret = pid < 0 ? pid : 0;
			x->pid[i] = pid > 0 ? pid : 0;
		}
		x->started += !ret;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		c->end = IK_CREW_START;
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "could only start %u of %u members: %s%s", x->started,
			 c->n, strerror(-ret),
			 ik_limit_hint(ret, hint, sizeof(hint)));
	}
	return ret;
}

/*
 * Errors that follow from another member's end rather than cause it: a
 * connection reset or closed under us (a dead server shows to its
 * clients as ECONNRESET or EOF, which ik_recv_all makes EPIPE), a
 * barrier broken by someone else.
 */
static bool knock_on(int err)
{
	return err == -ECANCELED || err == -ECONNRESET || err == -EPIPE ||
	       err == -ENOTCONN || err == -ECONNABORTED;
}

/*
 * A failure (its index; one of its own before a knock-on one), or -1:
 * none yet. A member cancelled (its barrier broken, its channel or crew
 * aborted) counts only once everyone ended: whoever cancelled it is
 * about to say why. Counts the members done into x->ndone.
 */
static int check(struct ctl *x)
{
	struct ik_crew *c = x->c;
	unsigned i, d = 0;
	int knock = -1, cancelled = -1;

	for (i = 0; i < c->n; i++) {
		struct ik_crew_member *m = &c->sh->m[i];

		if (!atomic_load(&m->done))
			continue;
		d++;
		if (m->status && !knock_on(m->status))
			return (int)i;
		if (m->status == -ECANCELED && cancelled < 0)
			cancelled = (int)i;
		else if (m->status && m->status != -ECANCELED && knock < 0)
			knock = (int)i;
	}
	x->ndone = d;
	return knock >= 0 ? knock : d == c->n ? cancelled : -1;
}

/* A child that died without saying so (a signal, a crash): its index. */
static int reap_dead(struct ctl *x)
{
	struct ik_crew *c = x->c;
	unsigned i;

	for (i = 0; i < c->n; i++) {
		struct ik_crew_member *m = &c->sh->m[i];
		pid_t pid = x->pid[i];
		int st;
		char buf[24];
		const char *name;

		if (pid <= 0 || waitpid(pid, &st, WNOHANG) != pid)
			continue;
		x->pid[i] = 0;
		x->wstatus[i] = st;
		if (atomic_load(&m->done) && WIFEXITED(st) &&
		    (WEXITSTATUS(st) == 0) == (m->status == 0))
			continue; /* it ended as it said */
		name = who(c, i, buf, sizeof(buf));
		/* dead, so nobody else writes its message now */
		if (WIFSIGNALED(st))
			snprintf(m->msg, sizeof(m->msg),
				 "%s (pid %d) died: killed by signal %d (%s)",
				 name, (int)pid, WTERMSIG(st),
				 strsignal(WTERMSIG(st)));
		else
			snprintf(m->msg, sizeof(m->msg),
				 "%s (pid %d) exited with status %d before "
				 "finishing",
				 name, (int)pid, WEXITSTATUS(st));
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
 * BLAME_GRACE_NS, or until every member ended, for such a cause and
 * blame it; else the knock-on.
 */
static int blame(struct ctl *x, int bad)
{
	struct ik_crew *c = x->c;
	uint64_t until = ik_clock_ns() + BLAME_GRACE_NS;
	int d;

	for (;;) {
		if (c->mode == IK_MODE_PROCESS && (d = reap_dead(x)) >= 0)
			return d;
		d = check(x);
		if (d >= 0 && !knock_on(c->sh->m[d].status))
			return d;
		if (x->ndone == c->n && d >= 0)
			return d; /* all said their last: no cause to come */
		if (ik_clock_ns() >= until)
			return bad;
		poll(NULL, 0, 5); /* a failure path: no hurry */
	}
}

/* The run ends with member bad's failure: its status and message. */
static int fail_of(struct ik_crew *c, int bad)
{
	struct ik_crew_member *m = &c->sh->m[bad];
	int ret = m->status ? m->status : -EIO;
	char buf[24];

	c->end = IK_CREW_MEMBER;
	c->blamed = bad;
	if (m->msg[0])
		snprintf(c->errmsg, sizeof(c->errmsg), "%s", m->msg);
	else if (c->names) /* cancelled, and its cause never showed */
		snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s",
			 who(c, (unsigned)bad, buf, sizeof(buf)),
			 strerror(-ret));
	else
		snprintf(c->errmsg, sizeof(c->errmsg), "%s %d: %s",
			 bad ? "client" : "server", bad, strerror(-ret));
	return ret;
}

/* Up to ms for a member to end (each adds 1 to donefd as it does). */
static void wait_slice(struct ik_crew *c, int ms)
{
	struct pollfd pfd = {.fd = c->sh->donefd, .events = POLLIN};
	uint64_t v;

	/* a failed read changes nothing: the next check sees who ended */
	if (poll(&pfd, 1, ms) > 0 && read(c->sh->donefd, &v, sizeof(v)) < 0)
		return;
}

/* Wait for every member, a failure, the deadline or an interrupt. */
static int watch(struct ctl *x)
{
	struct ik_crew *c = x->c;
	uint64_t deadline = c->sh->deadline_ns;

	for (;;) {
		uint64_t now = ik_clock_ns(), left;
		int bad, dead;

		bad = check(x);
		if (c->mode == IK_MODE_PROCESS && (dead = reap_dead(x)) >= 0)
			bad = dead; /* a death before what it caused */
		if (bad >= 0 && knock_on(c->sh->m[bad].status))
			bad = blame(x, bad);
		if (bad >= 0)
			return fail_of(c, bad);
		if (x->ndone == c->n)
			return 0;
		if (c->run->interrupted && *c->run->interrupted) {
			c->end = IK_CREW_INTERRUPT;
			snprintf(c->errmsg, sizeof(c->errmsg), "interrupted");
			return -EINTR;
		}
		if (now >= deadline) {
			c->end = IK_CREW_TIMEOUT;
			snprintf(c->errmsg, sizeof(c->errmsg),
				 "no end after --timeout %.1f s (%u of %u "
				 "members done)",
				 c->timeout_ns / 1e9, x->ndone, c->n);
			return -ETIMEDOUT;
		}
		left = (deadline - now) / 1000000 + 1;
		wait_slice(c, left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS);
		if (c->tick)
			c->tick(c);
		if (c->run->progress)
			c->run->progress(c->run->progress_arg);
	}
}

static bool all_done(const struct ik_crew *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (!atomic_load(&c->sh->m[i].done))
			return false;
	return true;
}

/* After a failure: stop whoever is still running. */
static void stop(struct ctl *x)
{
	struct ik_crew *c = x->c;
	uint64_t until = ik_clock_ns() + ABORT_GRACE_NS;
	unsigned i;

	crew_abort(c);
	if (c->unblock)
		c->unblock(c);
	if (c->mode == IK_MODE_PROCESS) {
		for (i = 0; i < c->n; i++)
			if (x->pid[i] > 0)
				kill(x->pid[i], SIGKILL);
		return;
	}
	/*
	 * Wait for the members' done eventfd, not a fixed sleep: it returns
	 * as soon as one ends. The 1 ms bound is only how often the signal
	 * is sent again, for a thread that took it just before entering its
	 * next blocking call (no signal can close that window).
	 */
	while (!all_done(c) && ik_clock_ns() < until) {
		for (i = 0; i < c->n; i++)
			if (x->th[i].started && !atomic_load(&c->sh->m[i].done))
				pthread_kill(x->th[i].th, SIGUSR1);
		wait_slice(c, 1);
	}
}

/*
 * Join or reap every member; a thread that would not stop is left
 * detached (c->stuck). After a good run, a child that said it was done
 * but then did not exit cleanly still failed: the new ret.
 */
static int reap_all(struct ctl *x, int ret)
{
	struct ik_crew *c = x->c;
	char buf[24];
	unsigned i;

	for (i = 0; i < c->n; i++) {
		if (c->mode == IK_MODE_THREAD) {
			if (!x->th[i].started)
				continue;
			if (atomic_load(&c->sh->m[i].done)) {
				pthread_join(x->th[i].th, NULL);
				continue;
			}
			pthread_detach(x->th[i].th);
			c->stuck = true;
			continue;
		}
		if (x->pid[i] <= 0)
			continue;
		waitpid(x->pid[i], &x->wstatus[i], 0);
		x->pid[i] = 0;
		if (!ret &&
		    (!WIFEXITED(x->wstatus[i]) || WEXITSTATUS(x->wstatus[i]))) {
			c->end = IK_CREW_MEMBER;
			c->blamed = (int)i;
			snprintf(c->errmsg, sizeof(c->errmsg),
				 "%s ended abnormally",
				 who(c, i, buf, sizeof(buf)));
			ret = -ECHILD;
		}
	}
	return ret;
}

/*
 * --load: the antagonists, one more party each at the members' barrier,
 * started before the members; 0, or -errno with errmsg set.
 */
static int load_start(struct ik_crew *c, struct ik_load_run **lr)
{
	int ret;

	if (!c->load || !c->load->n)
		return 0;
	c->end = IK_CREW_SETUP; /* nobody started: errmsg says why */
	if (c->run->start) {
		snprintf(c->errmsg, sizeof(c->errmsg),
			 "--load with pairs started together is not "
			 "supported");
		return -EINVAL;
	}
	ret = ik_load_resolve(lr, c->load, c->run->topo,
			      c->cpus ? c->cpus : c->load_peers,
			      c->cpus ? c->ncpus : c->load_npeers,
			      c->load_on_peer, c->errmsg, sizeof(c->errmsg));
	if (ret)
		return ret;
	ik_barrier_init(&c->sh->start, c->n + ik_load_parties(*lr));
	ret = ik_load_start(*lr, &c->sh->start, c->sh->deadline_ns, c->errmsg,
			    sizeof(c->errmsg));
	if (!ret)
		c->end = IK_CREW_DONE;
	return ret;
}

/*
 * After the members are reaped: stop the antagonists. One that failed is
 * the cause of the members' cancellation, so its message wins.
 */
static int load_stop(struct ik_crew *c, struct ik_load_run *lr, int ret)
{
	char msg[200];
	int lret = ik_load_stop(lr, c->load_out, msg, sizeof(msg));

	if (lret == -EBUSY)
		c->stuck = true;
	if (lret && (!ret || knock_on(ret) || c->end == IK_CREW_MEMBER)) {
		c->end = IK_CREW_MEMBER;
		c->blamed = -1;
		snprintf(c->errmsg, sizeof(c->errmsg), "%s", msg);
		return lret;
	}
	return ret;
}

/* Shared state and the done eventfd; 0, or -errno with errmsg set. */
static int setup(struct ik_crew *c, size_t len)
{
	char hint[120];
	int ret;

	c->sh = ik_shm_alloc_on(len, c->run->mem_node);
	if (!c->sh) {
		snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
		return -ENOMEM;
	}
	ik_barrier_init(&c->sh->start, c->n);
	c->sh->deadline_ns = ik_clock_ns() + c->timeout_ns;
	c->sh->donefd = eventfd(0, EFD_CLOEXEC);
	if (c->sh->donefd < 0) {
		ret = -errno;
		snprintf(c->errmsg, sizeof(c->errmsg), "eventfd: %s%s",
			 strerror(-ret),
			 ik_limit_hint(ret, hint, sizeof(hint)));
		ik_shm_free(c->sh, len);
		c->sh = NULL;
		return ret;
	}
	return 0;
}

int ik_crew_run(struct ik_crew *c)
{
	size_t len = sizeof(*c->sh) + c->n * sizeof(c->sh->m[0]);
	struct ctl x = {
		.c = c,
		.th = calloc(c->n, sizeof(*x.th)),
		.pid = calloc(c->n, sizeof(*x.pid)),
		.wstatus = calloc(c->n, sizeof(*x.wstatus)),
	};
	struct ik_load_run *lr = NULL;
	unsigned i;
	int ret;

	if (!c->run)
		c->run = &no_run;
	c->stuck = false;
	c->errmsg[0] = 0;
	c->end = IK_CREW_SETUP;
	c->blamed = -1;
	c->sh = NULL;
	if (!x.th || !x.pid || !x.wstatus) {
		snprintf(c->errmsg, sizeof(c->errmsg), "out of memory");
		ret = -ENOMEM;
	} else {
		ret = setup(c, len);
	}
	if (ret)
		goto out;
	c->end = IK_CREW_DONE;
	install_handlers();
	ret = load_start(c, &lr); /* failed: no member to stop */
	if (!ret) {
		ret = start_members(&x);
		if (!ret)
			ret = watch(&x);
		if (ret) /* breaks the barrier: nobody waits for the others */
			stop(&x);
	}
	ret = reap_all(&x, ret);
	ret = load_stop(c, lr, ret);
	if (!ret)
		c->t_open_ns = barrier_of(c)->t_open_ns;
	for (i = 0; i < c->n; i++) {
		c->cpu[i] = c->sh->m[i].cpu;
		if (c->cpu_seen)
			c->cpu_seen[i] = c->sh->m[i].cpu_seen;
		if (c->counts)
			c->counts[i] = c->sh->m[i].counts;
		if (c->tids)
			c->tids[i] = c->sh->m[i].tid;
	}
	if (!c->stuck) { /* else a live thread may still use both */
		close(c->sh->donefd);
		ik_shm_free(c->sh, len);
		c->sh = NULL;
	}
out:
	if (ret && c->run->start) /* the other crews must not wait for us */
		ik_barrier_break(c->run->start);
	free(x.th);
	free(x.pid);
	free(x.wstatus);
	return ret;
}
