/* SPDX-License-Identifier: MIT */
/*
 * The plain blocking references for scripts/bench-pingpong: two peers
 * pinned to CPUs A and B ping-pong an 8-byte message over one kernel
 * primitive and nothing else, the whole loop timed once (the first tenth
 * is warm-up, untimed). Each hop is the bare syscall pair:
 *   pipe     two pipes, write(8) / read(8)
 *   eventfd  two eventfds, write(1) / read
 *   futex    two words; bump + FUTEX_WAKE / FUTEX_WAIT while unchanged
 *            (private between threads, shared between processes)
 *   uds      an AF_UNIX SOCK_STREAM socketpair, send(8) / recv(8)
 * No payload check, no framing, no mailbox: what ipckern's blocking
 * methods are measured against. Each call is the bare syscall, as
 * ipckern's hops are: glibc's read() and friends are cancellation points
 * and, in a process that has a second thread, cost two locked
 * compare-and-swaps more a call (this thread mode's; perf bench's
 * single-threaded processes never pay them).
 *
 * METHOD+line also moves the 8 bytes through one shared line per
 * direction (written before the signal, read after the wake): what a
 * signal that carries a message costs at least, ipckern's mailbox hop.
 *
 * usage: ik-ref-block METHOD[+line] CPU_A CPU_B ITERS [thread|process] [WARMUP]
 *        ->  prints mean ns per round trip over ITERS timed round trips,
 *            after WARMUP untimed ones (default ITERS/10). Between vCPUs
 *            the first ~40 ms of a blocking ping-pong run faster than the
 *            rest (the host favours vCPUs that were idle), so compare
 *            with ipckern at the same --warmup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ref_common.h"

enum method { PIPE, EVENTFD, FUTEX, UDS };

/* fd[s] / word[s]: what side s waits on; its peer writes it */
struct ref {
	enum method m;
	int rd[2], wr[2];
	_Atomic uint32_t *word[2];
	int futex_op; /* FUTEX_PRIVATE_FLAG or 0 */
	int cpu[2];
	uint64_t iters, warmup; /* timed round trips, untimed ones first */
	/* METHOD+line: the 8 bytes also go through a shared line per
	 * direction, written before the signal and read after the wake, as
	 * a signal that carries a message must (ipckern's mailbox) */
	_Atomic uint64_t *line[2];
};

static void hop_send(struct ref *r, int to, uint64_t v)
{
	ssize_t n = -1;

	if (r->line[to])
		atomic_store_explicit(r->line[to], v + 1, memory_order_release);

	switch (r->m) {
	case PIPE:
	case EVENTFD:
		v = r->m == EVENTFD ? 1 : v;
		n = syscall(SYS_write, r->wr[to], &v, sizeof(v));
		break;
	case UDS:
		n = syscall(SYS_sendto, r->wr[to], &v, sizeof(v), 0, NULL, 0);
		break;
	case FUTEX:
		atomic_fetch_add_explicit(r->word[to], 1, memory_order_release);
		syscall(SYS_futex, r->word[to], FUTEX_WAKE | r->futex_op, 1,
			NULL, NULL, 0);
		return;
	}
	if (n != sizeof(v))
		ref_die("send");
}

static void hop_recv(struct ref *r, int me, uint32_t *seen)
{
	uint64_t v;
	ssize_t n = -1;

	switch (r->m) {
	case PIPE:
	case EVENTFD:
		n = syscall(SYS_read, r->rd[me], &v, sizeof(v));
		break;
	case UDS:
		n = syscall(SYS_recvfrom, r->rd[me], &v, sizeof(v), 0, NULL,
			    NULL);
		break;
	case FUTEX:
		while (atomic_load_explicit(r->word[me],
					    memory_order_acquire) == *seen)
			syscall(SYS_futex, r->word[me],
				FUTEX_WAIT | r->futex_op, *seen, NULL, NULL, 0);
		++*seen;
		n = sizeof(v);
		break;
	}
	if (n != sizeof(v))
		ref_die("recv");
	if (r->line[me] &&
	    !atomic_load_explicit(r->line[me], memory_order_acquire))
		ref_die("line"); /* woken before the bytes: cannot be */
}

static void *side_b(void *arg)
{
	struct ref *r = arg;
	uint32_t seen = 0;
	uint64_t i;

	ref_pin(r->cpu[1]);
	for (i = 0; i < r->warmup + r->iters; i++) {
		hop_recv(r, 1, &seen);
		hop_send(r, 0, i);
	}
	return NULL;
}

static double side_a(struct ref *r)
{
	struct timespec t0 = {0}, t1;
	uint32_t seen = 0;
	uint64_t i;

	for (i = 0; i < r->warmup + r->iters; i++) {
		if (i == r->warmup)
			clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
		hop_send(r, 1, i);
		hop_recv(r, 0, &seen);
	}
	clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		(double)(t1.tv_nsec - t0.tv_nsec)) /
	       (double)r->iters;
}

static void open_method(struct ref *r, int process)
{
	int s, p[2], sv[2];

	for (s = 0; s < 2; s++) {
		switch (r->m) {
		case PIPE:
			if (pipe(p))
				ref_die("pipe");
			r->rd[s] = p[0], r->wr[s] = p[1];
			break;
		case EVENTFD:
			r->rd[s] = r->wr[s] = eventfd(0, 0);
			if (r->rd[s] < 0)
				ref_die("eventfd");
			break;
		case UDS:
			break;
		case FUTEX:
			r->word[s] = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			if (r->word[s] == MAP_FAILED)
				ref_die("mmap");
			break;
		}
	}
	if (r->m == UDS) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			ref_die("socketpair");
		/* each side reads and writes its own end */
		r->rd[0] = r->wr[1] = sv[0];
		r->rd[1] = r->wr[0] = sv[1];
	}
	r->futex_op = process ? 0 : FUTEX_PRIVATE_FLAG;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"pipe", "eventfd", "futex", "uds"};
	struct ref r = {0};
	int process = 0, m, st;
	double ns;

	if (argc < 5 || argc > 7 ||
	    (argc >= 6 && strcmp(argv[5], "thread") &&
	     !(process = !strcmp(argv[5], "process"))))
		goto usage;
	for (m = 0; m < 4 && strncmp(argv[1], names[m], strlen(names[m])); m++)
		;
	if (m < 4 && strcmp(argv[1] + strlen(names[m]), "") &&
	    strcmp(argv[1] + strlen(names[m]), "+line"))
		m = 4;
	if (m < 4 && strstr(argv[1], "+line")) {
		char *pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (pg == MAP_FAILED)
			ref_die("mmap");
		r.line[0] = (_Atomic uint64_t *)pg;
		r.line[1] = (_Atomic uint64_t *)(pg + 128); /* own lines */
	}
	if (m == 4)
		goto usage;
	r.m = (enum method)m;
	r.cpu[0] = atoi(argv[2]);
	r.cpu[1] = atoi(argv[3]);
	r.iters = strtoull(argv[4], NULL, 10);
	r.warmup = argc == 7 ? strtoull(argv[6], NULL, 10) : r.iters / 10;
	if (r.iters < 1)
		goto usage;
	open_method(&r, process);
	ref_pin(r.cpu[1]); /* both CPUs checked here: a child that failed to pin
			    */
	ref_pin(r.cpu[0]); /* would leave its parent waiting for ever */
	if (process) {
		pid_t pid = fork();

		if (pid < 0)
			ref_die("fork");
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			side_b(&r);
			_exit(0);
		}
		ns = side_a(&r);
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			return 3;
	} else {
		pthread_t th;

		if ((errno = pthread_create(&th, NULL, side_b, &r)))
			ref_die("pthread_create");
		ns = side_a(&r);
		pthread_join(th, NULL);
	}
	printf("%.2f\n", ns);
	return 0;
usage:
	fprintf(stderr,
		"usage: %s pipe|eventfd|futex|uds[+line] CPU_A CPU_B ITERS "
		"[thread|process] [WARMUP]\n",
		argv[0]);
	return 2;
}
