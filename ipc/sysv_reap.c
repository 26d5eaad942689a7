/* SPDX-License-Identifier: MIT */
/*
 * A reaper for SysV objects (sysv-msg, sysv-sem). Unlike a POSIX queue
 * or a memfd, a SysV object outlives every process that used it until
 * IPC_RMID, so teardown alone would leave it behind when ipckern is
 * SIGKILLed. setup forks a small child that holds the read end of a pipe
 * only the parent side writes: at teardown the parent removes the
 * objects itself, says so with one byte and reaps the child; if instead
 * the pipe reaches EOF with no byte, every holder of the write end died
 * (SIGKILL included), and the child removes them. It ignores the
 * terminal's signals and leaves the process group (a Ctrl-C, or a
 * timeout's SIGKILL, reaches the whole group) and keeps no other fd, so
 * it never holds a peer's pipe or socket open. Left only: the reaper
 * itself killed, or a SIGKILL in the instant between creating the
 * objects and forking the reaper.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"

static void remove_all(int kind, const int *ids, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] >= 0) {
			if (kind == IK_SYSV_MSG)
				msgctl(ids[i], IPC_RMID, NULL);
			else
				semctl(ids[i], 0, IPC_RMID);
		}
}

int ik_sysv_reaper_start(struct ik_sysv_reaper *r, int kind, const int *ids,
			 unsigned n)
{
	int p[2];
	pid_t pid;

	r->pid = -1;
	r->fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int ret = -errno;

		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (pid == 0) { /* async-signal-safe calls only from here */
		char c;
		ssize_t got;

		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		setsid(); /* out of the group a timeout or a shell kills */
		if (dup2(p[0], 0) < 0)
			_exit(1);
		close_range(1, ~0u, 0);
		do
			got = read(0, &c, 1);
		while (got < 0 && errno == EINTR);
		if (got != 1) /* EOF: the parent side died, ids are ours */
			remove_all(kind, ids, n);
		_exit(0);
	}
	close(p[0]);
	r->pid = pid;
	r->fd = p[1];
	return 0;
}

void ik_sysv_reaper_stop(struct ik_sysv_reaper *r)
{
	char c = 'x';

	if (r->pid <= 0)
		return;
	/* removed already: the ids may be someone else's from now on */
	if (write(r->fd, &c, 1) != 1)
		kill(r->pid, SIGKILL);
	ik_close(&r->fd);
	while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
		;
	r->pid = -1;
}
