/* SPDX-License-Identifier: MIT */
/*
 * What every member of a run shares (kernels/member.c): a forked member
 * dies with its parent and is told when its parent is already gone; it
 * dies of the signals that end a run; the start barrier lets everyone go
 * when it is broken or its deadline passes, and never lets a late party
 * through a broken barrier. Then the same seen from the peers and the
 * crew: a pair or member that fails before the barrier releases the others
 * at once, and a pair that never ran says so instead of reporting an
 * empty "ok".
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

Test(member, a_child_whose_parent_is_not_the_one_it_names_is_told_so,
     .timeout = 10)
{
	pid_t pid = fork();
	int st;

	cr_assert_geq(pid, 0);
	if (pid == 0) /* our own pid is never our parent's */
		_exit(ik_child_bind(getpid()) == -ESRCH ? 0 : 1);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A member forked with ik_fork outlives its parent only as a corpse. */
Test(member, a_forked_member_dies_with_its_parent, .timeout = 10)
{
	int p[2], st;
	pid_t mid, member = 0;

	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cr_assert_eq(pipe(p), 0);
	mid = fork();
	cr_assert_geq(mid, 0);
	if (mid == 0) {
		pid_t m = ik_fork();

		if (m == 0) { /* bound to mid by now: say so, then wait */
			m = getpid();
			if (write(p[1], &m, sizeof(m)) != sizeof(m))
				_exit(1);
		}
		for (;;)
			pause(); /* only a signal ends either */
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &member, sizeof(member)), sizeof(member));
	close(p[0]);
	cr_assert_gt(member, 0);
	kill(mid, SIGKILL);
	cr_assert_eq(waitpid(mid, &st, 0), mid);
	/* orphaned to us (the subreaper): it must have been killed */
	cr_assert_eq(waitpid(member, &st, 0), member);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "the member ended with status %#x", st);
}

/*
 * The parent dies as early as it can, right after fork: the member is
 * either killed (it asked in time) or leaves on its own, seeing another
 * parent. Without the getppid() check the second kind would live on.
 */
Test(member, a_member_never_outlives_a_parent_that_died_at_once, .timeout = 30)
{
	unsigned killed = 0, left = 0;

	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	for (int t = 0; t < 50; t++) {
		int p[2], st;
		pid_t mid, member = 0;

		cr_assert_eq(pipe(p), 0);
		mid = fork();
		cr_assert_geq(mid, 0);
		if (mid == 0) {
			pid_t m = ik_fork();

			for (;;)
				if (m == 0)
					pause();
				else
					_exit(write(p[1], &m, sizeof(m)) !=
					      sizeof(m));
		}
		close(p[1]);
		cr_assert_eq(read(p[0], &member, sizeof(member)),
			     sizeof(member));
		close(p[0]);
		cr_assert_eq(waitpid(mid, &st, 0), mid);
		cr_assert_eq(waitpid(member, &st, 0), member);
		killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
		left += WIFEXITED(st) && WEXITSTATUS(st) == IK_CHILD_ORPHANED;
	}
	cr_expect_eq(killed + left, 50, "%u killed, %u left", killed, left);
}

static volatile sig_atomic_t flagged;

static void flag(int sig)
{
	flagged = sig;
}

Test(member, a_forked_member_dies_of_the_signals_that_end_a_run, .timeout = 10)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	sigset_t stop, old;

	/* as the CLI: a handler that only sets a flag, and the signals
	 * blocked while peers are started */
	for (size_t i = 0; i < 3; i++)
		signal(sigs[i], flag);
	ik_stop_signals(&stop);
	sigprocmask(SIG_BLOCK, &stop, &old);
	for (size_t i = 0; i < 3; i++) {
		pid_t pid = ik_fork();
		int st;

		cr_assert_geq(pid, 0);
		if (pid == 0) {
			raise(sigs[i]);
			_exit(0); /* survived it: wrong */
		}
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == sigs[i],
			  "signal %d: status %#x", sigs[i], st);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (size_t i = 0; i < 3; i++)
		signal(sigs[i], SIG_DFL);
	cr_expect_eq(flagged, 0);
}

Test(member, a_signal_the_caller_ignores_stays_ignored, .timeout = 10)
{
	pid_t pid;
	int st;

	signal(SIGHUP, SIG_IGN); /* as nohup does */
	pid = ik_fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		raise(SIGHUP);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	signal(SIGHUP, SIG_DFL);
}

struct waiter {
	struct ik_barrier *gt;
	uint64_t deadline;
	int ret;
	pthread_t th;
};

static void *wait_main(void *p)
{
	struct waiter *w = p;

	w->ret = ik_barrier_wait(w->gt, w->deadline);
	return NULL;
}

static void start_waiters(struct waiter *w, unsigned n, struct ik_barrier *gt,
			  uint64_t deadline)
{
	for (unsigned i = 0; i < n; i++) {
		w[i] = (struct waiter){.gt = gt, .deadline = deadline};
		cr_assert_eq(pthread_create(&w[i].th, NULL, wait_main, &w[i]),
			     0);
	}
}

Test(barrier, the_last_party_opens_it_for_everyone, .timeout = 10)
{
	struct ik_barrier *gt = ik_barrier_new(4, -1);
	struct waiter w[3];

	cr_assert_not_null(gt);
	start_waiters(w, 3, gt, UINT64_MAX);
	cr_expect_eq(ik_barrier_wait(gt, UINT64_MAX), 0);
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(w[i].th, NULL);
		cr_expect_eq(w[i].ret, 0);
	}
	cr_expect_neq(gt->t_open_ns, 0);
	ik_barrier_free(gt);
}

Test(barrier, breaking_it_releases_every_waiter_at_once, .timeout = 10)
{
	struct ik_barrier *gt = ik_barrier_new(4, -1);
	struct waiter w[3];

	cr_assert_not_null(gt);
	/* no deadline: only the break can end these waits */
	start_waiters(w, 3, gt, UINT64_MAX);
	while (atomic_load(&gt->arrived) < 3)
		sched_yield();
	ik_barrier_break(gt);
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(w[i].th, NULL);
		cr_expect_eq(w[i].ret, -ECANCELED);
	}
	ik_barrier_free(gt);
}

Test(barrier, a_party_arriving_at_a_broken_barrier_does_not_pass, .timeout = 10)
{
	struct ik_barrier *gt = ik_barrier_new(2, -1);

	cr_assert_not_null(gt);
	ik_barrier_break(gt);
	cr_expect_eq(ik_barrier_wait(gt, UINT64_MAX), -ECANCELED);
	/* even the party that completes the count */
	cr_expect_eq(ik_barrier_wait(gt, UINT64_MAX), -ECANCELED);
	ik_barrier_free(gt);
}

Test(barrier, a_wait_ends_at_its_deadline_and_breaks_the_barrier, .timeout = 10)
{
	struct ik_barrier *gt = ik_barrier_new(3, -1);
	struct waiter w;

	cr_assert_not_null(gt);
	/* one waits for ever, one with a deadline a millisecond away */
	start_waiters(&w, 1, gt, UINT64_MAX);
	cr_expect_eq(ik_barrier_wait(gt, ik_clock_ns() + 1000000), -ETIMEDOUT);
	pthread_join(w.th, NULL);
	cr_expect_eq(w.ret, -ECANCELED, "the other waiter got %d", w.ret);
	cr_expect(ik_barrier_broken(gt));
	ik_barrier_free(gt);
}

Test(member, a_limit_hint_names_the_limit_that_ran_out, .timeout = 10)
{
	struct rlimit rl;
	char hint[120], want[64];

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	snprintf(want, sizeof(want), "ulimit -n is %llu",
		 (unsigned long long)rl.rlim_cur);
	cr_expect(strstr(ik_limit_hint(-EMFILE, hint, sizeof(hint)), want),
		  "%s", hint);
	cr_expect(strstr(ik_limit_hint(-EAGAIN, hint, sizeof(hint)), " ("),
		  "%s", hint);
	cr_expect_str_eq(ik_limit_hint(-EIO, hint, sizeof(hint)), "");
}

/* ---- the peers: pairs at one barrier ---- */

static int fail_prepare(struct ik_peers *g, enum ik_side side)
{
	(void)g;
	(void)side;
	return -EMFILE;
}

static int pong_body(struct ik_peers *g, enum ik_side side)
{
	unsigned char b[8] = {0};
	int ret = 0;

	for (int k = 0; k < 100 && !ret; k++)
		if (side == IK_SIDE_A)
			ret = g->ch->send(g->ch, side, b, sizeof(b)) ||
			      g->ch->recv(g->ch, side, b, sizeof(b));
		else
			ret = g->ch->recv(g->ch, side, b, sizeof(b)) ||
			      g->ch->send(g->ch, side, b, sizeof(b));
	return ret ? -EIO : 0;
}

struct pair {
	struct ik_channel ch;
	struct ik_peers g;
	int ret;
	pthread_t th;
};

static void *pair_main(void *p)
{
	struct pair *pr = p;

	pr->ret = ik_peers_run(&pr->g);
	return NULL;
}

/*
 * Three pairs at one barrier, the second failing before it: it reports its
 * own failure, the others that they did not run, and nobody waits for
 * the (long) timeout.
 */
static void pairs_with_one_failing(enum ik_mode mode)
{
	const struct ik_transport_ops *ops = ik_transport_find("pipe");
	struct ik_chan_params p = {.size = 8, .mode = mode, .unpinned = true};
	struct ik_barrier *gt = ik_barrier_new(6, -1);
	struct ik_run run = {.start = gt, .mem_node = -1};
	struct pair pr[3];
	unsigned k;

	cr_assert_not_null(gt);
	for (k = 0; k < 3; k++) {
		cr_assert_eq(ik_channel_init(&pr[k].ch, ops, &p), 0);
		pr[k].g = (struct ik_peers){
			.ch = &pr[k].ch,
			.mode = mode,
			.timeout_ns = 3600 * IK_NS_PER_SEC,
			.prepare = k == 1 ? fail_prepare : NULL,
			.body = pong_body,
			.run = &run,
		};
		cr_assert_eq(pthread_create(&pr[k].th, NULL, pair_main, &pr[k]),
			     0);
	}
	for (k = 0; k < 3; k++) {
		pthread_join(pr[k].th, NULL);
		if (!pr[k].g.stuck)
			ik_channel_destroy(&pr[k].ch);
	}
	cr_expect_eq(pr[1].ret, -EMFILE, "%s", pr[1].g.errmsg);
	cr_expect(strstr(pr[1].g.errmsg, "prepare"), "%s", pr[1].g.errmsg);
	for (k = 0; k < 3; k += 2) {
		cr_expect_eq(pr[k].ret, -ECANCELED, "pair %u: %d %s", k,
			     pr[k].ret, pr[k].g.errmsg);
		cr_expect_str_eq(pr[k].g.errmsg,
				 "not run: another pair failed to start");
	}
	ik_barrier_free(gt);
}

Test(peers, a_pair_failing_before_the_barrier_releases_the_others_as_not_run,
     .timeout = 60)
{
	pairs_with_one_failing(IK_MODE_THREAD);
	pairs_with_one_failing(IK_MODE_PROCESS);
}

/* ---- the crew ---- */

static int crew_body(struct ik_crew *c, unsigned i)
{
	if (i == 2)
		return -EMFILE; /* before the barrier */
	return ik_crew_barrier(c);
}

Test(crew, a_member_failing_before_the_barrier_releases_the_others,
     .timeout = 60)
{
	static const enum ik_mode modes[] = {IK_MODE_THREAD, IK_MODE_PROCESS};
	struct ik_config cfg = {.clients = 5,
				.timeout_ns = 3600 * IK_NS_PER_SEC};

	for (size_t m = 0; m < 2; m++) {
		struct ik_cpu_usage cpu[6];
		struct ik_crew c;
		int ret;

		ik_crew_init(&c, &cfg, modes[m], NULL, crew_body, NULL, NULL,
			     cpu);
		ret = ik_crew_run(&c);
		cr_expect_eq(ret, -EMFILE, "%s", c.errmsg);
		cr_expect_str_eq(c.errmsg, "client 2: Too many open files");
	}
}

/* The server dies after the barrier; the clients see their connection
 * reset (their error is only what followed from its death). */
static int dying_server_body(struct ik_crew *c, unsigned i)
{
	int ret = ik_crew_barrier(c);

	if (ret)
		return ret;
	if (i == 0)
		raise(SIGKILL);
	return -ECONNRESET;
}

Test(crew, a_dead_server_is_blamed_not_the_clients_it_reset, .timeout = 60)
{
	struct ik_config cfg = {.clients = 3,
				.timeout_ns = 3600 * IK_NS_PER_SEC};
	struct ik_cpu_usage cpu[4];
	struct ik_crew c;
	int ret;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	ik_crew_init(&c, &cfg, IK_MODE_PROCESS, NULL, dying_server_body, NULL,
		     NULL, cpu);
	ret = ik_crew_run(&c);
	cr_expect_eq(ret, -ECHILD, "%d: %s", ret, c.errmsg);
	cr_expect(strstr(c.errmsg, "server (pid ") &&
			  strstr(c.errmsg, "killed by signal 9"),
		  "%s", c.errmsg);
	cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a member outlived it");
}

/* A member thread blocked where no unblock hook reaches (a read nobody
 * answers) is interrupted when another fails, so the run ends. */
static int blocked_body(struct ik_crew *c, unsigned i)
{
	int *fd = c->arg, ret = ik_crew_barrier(c);
	char b;

	if (ret)
		return ret;
	if (i == 0)
		return -EIO;
	return read(fd[0], &b, 1) < 0 ? -errno : -EPROTO;
}

Test(crew, a_thread_blocked_in_a_syscall_is_interrupted_on_abort, .timeout = 30)
{
	struct ik_config cfg = {.clients = 1,
				.timeout_ns = 3600 * IK_NS_PER_SEC};
	struct ik_cpu_usage cpu[2];
	struct ik_crew c;
	int fd[2], ret;

	cr_assert_eq(pipe(fd), 0);
	ik_crew_init(&c, &cfg, IK_MODE_THREAD, NULL, blocked_body, NULL, fd,
		     cpu);
	ret = ik_crew_run(&c);
	cr_expect_eq(ret, -EIO, "%d: %s", ret, c.errmsg);
	cr_expect_str_eq(c.errmsg, "server 0: Input/output error");
	cr_expect_not(c.stuck, "the blocked thread was not interrupted");
	close(fd[0]);
	close(fd[1]);
}

/* Peer B dies after the barrier; A then fails with a broken pipe, only
 * once B's death is there to see (its pidfd is readable): B is blamed. */
static int dying_b_body(struct ik_peers *g, enum ik_side side)
{
	_Atomic pid_t *b_pid = g->arg;
	struct pollfd pf = {.events = POLLIN};

	if (side == IK_SIDE_B)
		raise(SIGKILL);
	while (!(pf.fd = (int)atomic_load(b_pid)))
		sched_yield();
	pf.fd = (int)syscall(SYS_pidfd_open, pf.fd, 0);
	if (pf.fd < 0)
		return -errno;
	while (poll(&pf, 1, -1) < 1)
		;
	close(pf.fd);
	return -EPIPE;
}

static int note_pid(struct ik_peers *g, enum ik_side side)
{
	if (side == IK_SIDE_B)
		atomic_store((_Atomic pid_t *)g->arg, getpid());
	return 0;
}

Test(peers, a_dead_peer_is_blamed_not_the_broken_pipe_it_caused, .timeout = 60)
{
	const struct ik_transport_ops *ops = ik_transport_find("pipe");
	struct ik_chan_params p = {
		.size = 8, .mode = IK_MODE_PROCESS, .unpinned = true};
	_Atomic pid_t *b_pid = ik_shm_alloc(sizeof(*b_pid));
	struct ik_channel ch;
	struct ik_peers g;
	int ret;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	cr_assert_not_null(b_pid);
	cr_assert_eq(ik_channel_init(&ch, ops, &p), 0);
	g = (struct ik_peers){
		.ch = &ch,
		.mode = IK_MODE_PROCESS,
		.timeout_ns = 3600 * IK_NS_PER_SEC,
		.prepare = note_pid,
		.body = dying_b_body,
		.arg = b_pid,
	};
	ret = ik_peers_run(&g);
	cr_expect_eq(ret, -ECHILD, "%d: %s", ret, g.errmsg);
	cr_expect(strstr(g.errmsg, "peer B (pid ") &&
			  strstr(g.errmsg, "killed by signal 9"),
		  "%s", g.errmsg);
	cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a peer outlived it");
	ik_channel_destroy(&ch);
	ik_shm_free(b_pid, sizeof(*b_pid));
}
