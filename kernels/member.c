/* SPDX-License-Identifier: MIT */
/*
 * What every member of a run shares, whoever runs it (the peers of a
 * pair, the server and clients of a crew): how a forked one is tied to
 * its parent, which signals belong to the controller, the start gate
 * they meet at, and what to say when the machine ran out of something.
 *
 * A forked member asks for SIGKILL when its parent dies
 * (PR_SET_PDEATHSIG), then checks that its parent is still the one that
 * forked it: a parent killed between fork() and the prctl() leaves a
 * child whose new parent (init, a subreaper) never dies, and which
 * would otherwise wait at a gate for ever. The gate therefore also has a
 * deadline, and whoever fails or gives up breaks it, so nobody waits
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

void ik_gate_init(struct ik_gate *gt, unsigned parties)
{
	atomic_store(&gt->arrived, 0);
	atomic_store(&gt->open, 0);
	atomic_store(&gt->broken, 0);
	gt->parties = parties;
	gt->t_open_ns = 0;
}

struct ik_gate *ik_gate_new(unsigned parties)
{
	struct ik_gate *gt = ik_shm_alloc(sizeof(*gt));

	if (gt)
		ik_gate_init(gt, parties);
	return gt;
}

void ik_gate_free(struct ik_gate *gt)
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
 * open is the futex word: 0 while parties gather, GATE_OPEN once the
 * last arrived, GATE_BROKEN if broken first. Whichever comes first
 * stays (compare-and-swap from 0), so a gate that opened for everyone
 * is not taken back by a failure later, and a party arriving at a
 * broken gate never passes it, even the one that completes the count.
 */
enum { GATE_OPEN = 1, GATE_BROKEN = 2 };

int ik_gate_wait(struct ik_gate *gt, uint64_t deadline_ns)
{
	uint32_t shut = 0;

	if (atomic_fetch_add(&gt->arrived, 1) + 1 == gt->parties) {
		gt->t_open_ns = ik_clock_ns();
		if (atomic_compare_exchange_strong(&gt->open, &shut, GATE_OPEN))
			ik_futex_wake(&gt->open, INT32_MAX, true);
	}
	for (;;) {
		uint32_t state = atomic_load(&gt->open);
		uint64_t now;
		int ret;

		if (state)
			return state == GATE_OPEN ? 0 : -ECANCELED;
		now = ik_clock_ns();
		if (now >= deadline_ns) {
			ik_gate_break(
				gt); /* the others give up now, not later */
			return atomic_load(&gt->open) == GATE_OPEN ? 0
								   : -ETIMEDOUT;
		}
		ret = futex_wait_for(&gt->open, 0, deadline_ns - now);
		if (ret && ret != -EINTR && ret != -ETIMEDOUT)
			return ret;
	}
}

void ik_gate_break(struct ik_gate *gt)
{
	uint32_t shut = 0;

	atomic_store(&gt->broken, 1);
	if (atomic_compare_exchange_strong(&gt->open, &shut, GATE_BROKEN))
		ik_futex_wake(&gt->open, INT32_MAX, true);
}

bool ik_gate_broken(const struct ik_gate *gt)
{
	return atomic_load(&gt->broken);
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
