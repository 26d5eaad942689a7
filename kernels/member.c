/* SPDX-License-Identifier: MIT */
/*
 * What every member of a run shares, whoever runs it (the peers of a
 * pair, the server and clients of a crew): how a forked one is tied to
 * its parent, which signals belong to the controller, the start barrier
 * they meet at, how a thread's CPU use is counted, and what to say when
 * the machine ran out of something.
 *
 * A forked member asks for SIGKILL when its parent dies
 * (PR_SET_PDEATHSIG), then checks that its parent is still the one that
 * forked it: a parent killed between fork() and the prctl() leaves a
 * child whose new parent (init, a subreaper) never dies, and which
 * would otherwise wait at a barrier for ever. The barrier therefore also
 * has a deadline, and whoever fails or gives up breaks it, so nobody waits
 * for a party that will not come.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernels.h"

void ik_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

int ik_child_bind(pid_t parent)
{
	sigset_t stop;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		return -errno;
	/* after the prctl: a parent that dies from here on kills us */
	if (getppid() != parent)
		return -ESRCH;
	/* the CLI's handlers only set a flag in our copy of its memory,
	 * which nobody reads: a signal meant to end us must end us (one
	 * the caller ignores, as under nohup, stays ignored) */
	ik_stop_signals(&stop);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sigismember(&stop, sig) == 1 &&
		    !sigaction(sig, NULL, &sa) && sa.sa_handler != SIG_IGN)
			signal(sig, SIG_DFL);
	}
	sigprocmask(SIG_UNBLOCK, &stop, NULL);
	return 0;
}

pid_t ik_fork(void)
{
	pid_t parent = getpid(), pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0 && ik_child_bind(parent))
		_exit(IK_CHILD_ORPHANED); /* nobody is left to tell */
	return pid;
}

void ik_barrier_init(struct ik_barrier *gt, unsigned parties)
{
	atomic_store(&gt->arrived, 0);
	atomic_store(&gt->open, 0);
	atomic_store(&gt->broken, 0);
	gt->parties = parties;
	gt->t_open_ns = 0;
}

struct ik_barrier *ik_barrier_new(unsigned parties, int node)
{
	struct ik_barrier *gt = ik_shm_alloc_on(sizeof(*gt), node);

	if (gt)
		ik_barrier_init(gt, parties);
	return gt;
}

void ik_barrier_free(struct ik_barrier *gt)
{
	ik_shm_free(gt, sizeof(*gt));
}

/* FUTEX_WAIT for at most ns; always shared: parties may be processes. */
static int futex_wait_for(_Atomic uint32_t *addr, uint32_t val, uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / IK_NS_PER_SEC),
			      .tv_nsec = (long)(ns % IK_NS_PER_SEC)};

	if (syscall(SYS_futex, addr, FUTEX_WAIT, val, &ts, NULL, 0) == 0)
		return 0;
	return errno == EAGAIN ? 0 : -errno;
}

/*
 * open is the futex word: 0 while parties gather, BARRIER_OPEN once the
 * last arrived, BARRIER_BROKEN if broken first. Whichever comes first
 * stays (compare-and-swap from 0), so a barrier that opened for everyone
 * is not taken back by a failure later, and a party arriving at a
 * broken barrier never passes it, even the one that completes the count.
 */
enum { BARRIER_OPEN = 1, BARRIER_BROKEN = 2 };

int ik_barrier_wait(struct ik_barrier *gt, uint64_t deadline_ns)
{
	uint32_t shut = 0;

	if (atomic_fetch_add(&gt->arrived, 1) + 1 == gt->parties) {
		gt->t_open_ns = ik_clock_ns();
		if (atomic_compare_exchange_strong(&gt->open, &shut,
						   BARRIER_OPEN))
			ik_futex_wake(&gt->open, INT32_MAX, true);
	}
	for (;;) {
		uint32_t state = atomic_load(&gt->open);
		uint64_t now;
		int ret;

		if (state)
			return state == BARRIER_OPEN ? 0 : -ECANCELED;
		now = ik_clock_ns();
		if (now >= deadline_ns) {
			/* the others give up now, not later */
			ik_barrier_break(gt);
			return atomic_load(&gt->open) == BARRIER_OPEN
				       ? 0
				       : -ETIMEDOUT;
		}
		ret = futex_wait_for(&gt->open, 0, deadline_ns - now);
		if (ret && ret != -EINTR && ret != -ETIMEDOUT)
			return ret;
	}
}

void ik_barrier_break(struct ik_barrier *gt)
{
	uint32_t shut = 0;

	atomic_store(&gt->broken, 1);
	if (atomic_compare_exchange_strong(&gt->open, &shut, BARRIER_BROKEN))
		ik_futex_wake(&gt->open, INT32_MAX, true);
}

bool ik_barrier_broken(const struct ik_barrier *gt)
{
	return atomic_load(&gt->broken);
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * IK_NS_PER_SEC +
	       (uint64_t)tv.tv_usec * 1000;
}

/* cpu_ns is exact; getrusage's user/sys split may be sampled at the tick */
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

/* "/sys/fs/cgroup/pids[/...]/pids.max" of this process's pids cgroup. */
static long pids_max(void)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512], path[640];
	long v = -1;

	if (!f)
		return -1;
	path[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n'), *p;

		if (nl)
			*nl = 0;
		if ((p = strstr(line, ":pids:"))) /* cgroup v1 */
			snprintf(path, sizeof(path),
				 "/sys/fs/cgroup/pids%s/pids.max", p + 6);
		else if (!strncmp(line, "0::", 3) && !path[0]) /* v2 */
			snprintf(path, sizeof(path),
				 "/sys/fs/cgroup%s/pids.max", line + 3);
	}
	fclose(f);
	if (path[0] && (f = fopen(path, "r"))) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1; /* "max" */
		fclose(f);
	}
	return v;
}

long ik_task_limit(const char **what)
{
	struct rlimit rl;
	long lim = -1, pm = pids_max();

	/* root is not held to RLIMIT_NPROC (CAP_SYS_RESOURCE) */
	if (geteuid() && !getrlimit(RLIMIT_NPROC, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < LONG_MAX) {
		lim = (long)rl.rlim_cur;
		*what = "ulimit -u (this user's processes and threads)";
	}
	if (pm >= 0 && (lim < 0 || pm < lim)) {
		lim = pm;
		*what = "the pids cgroup's pids.max";
	}
	return lim;
}

const char *ik_limit_hint(int err, char *buf, size_t len)
{
	struct rlimit rl;
	long pm;
	int n = 0;

	buf[0] = 0;
	if (err == -EMFILE && !getrlimit(RLIMIT_NOFILE, &rl))
		snprintf(buf, len, " (open files: ulimit -n is %llu)",
			 (unsigned long long)rl.rlim_cur);
	else if (err == -ENFILE)
		snprintf(buf, len, " (the system's open files: fs.file-max)");
	if (err != -EAGAIN)
		return buf;
	/* fork or clone: a process or thread limit, whichever is set */
	/* root is not held to RLIMIT_NPROC (CAP_SYS_RESOURCE) */
	if (geteuid() && !getrlimit(RLIMIT_NPROC, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY)
		n = snprintf(buf, len,
			     " (processes and threads: ulimit -u is %llu",
			     (unsigned long long)rl.rlim_cur);
	if ((pm = pids_max()) >= 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "%spids cgroup: pids.max is %ld", n ? "; " : " (",
			      pm);
	/* a thread's stack is a mapping: the address space may run out */
	if (!getrlimit(RLIMIT_AS, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "%saddress space: ulimit -v is %llu KiB",
			      n ? "; " : " (",
			      (unsigned long long)rl.rlim_cur >> 10);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ")");
	else if (!n)
		snprintf(buf, len,
			 " (processes and threads: kernel.threads-max, "
			 "kernel.pid_max or memory)");
	return buf;
}
