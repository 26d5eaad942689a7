/* SPDX-License-Identifier: MIT */
/*
 * The plain references for scripts/bench-stream, pinned to CPUs A and B:
 *   memcpy SIZE N  - A memcpys each message into a shared 64-slot ring of
 *                    SIZE-byte slots and publishes a counter; B copies
 *                    each one out. No framing, no checks: the floor for
 *                    spsc streaming.
 *   slotseq SIZE N - the same ring, but each slot carries its own sequence
 *                    word before the payload (slots of whole lines): B
 *                    polls the slot, not A's counter; B publishes its
 *                    tail, which A rereads only when the ring looks full.
 *                    The shape ipc/spsc.c streams through.
 *   tcp|uds SIZE N - a connected socket pair; A send()s N messages of
 *                    SIZE bytes, B recv()s them into a SIZE buffer.
 * Prints bytes per second (B's view: first byte to last).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ref_common.h"

#define SLOTS 64

static size_t size;
static uint64_t n;
static int cpu[2], fd[2];
static unsigned char *ring;
static _Alignas(64) _Atomic uint64_t head; /* A: messages published */
static _Alignas(64) _Atomic uint64_t tail; /* B: messages consumed */
static size_t stride; /* slotseq: [seq u64][payload], whole lines */

static void *mem_a(void *x)
{
	unsigned char *msg = malloc(size);

	(void)x;
	ref_pin(cpu[0]);
	memset(msg, 7, size);
	for (uint64_t i = 0; i < n; i++) {
		while (i - atomic_load_explicit(&tail, memory_order_acquire) >=
		       SLOTS)
			;
		memcpy(ring + (i % SLOTS) * size, msg, size);
		atomic_store_explicit(&head, i + 1, memory_order_release);
	}
	free(msg);
	return NULL;
}

static inline _Atomic uint64_t *slot(uint64_t i)
{
	return (_Atomic uint64_t *)(ring + (i % SLOTS) * stride);
}

static void *seq_a(void *x)
{
	unsigned char *msg = malloc(size);
	uint64_t seen = 0;

	(void)x;
	ref_pin(cpu[0]);
	memset(msg, 7, size);
	for (uint64_t i = 0; i < n; i++) {
		while (i - seen >= SLOTS)
			seen = atomic_load_explicit(&tail,
						    memory_order_acquire);
		memcpy((unsigned char *)slot(i) + 8, msg, size);
		atomic_store_explicit(slot(i), i + 1, memory_order_release);
	}
	free(msg);
	return NULL;
}

static void *sock_a(void *x)
{
	unsigned char *msg = malloc(size);

	(void)x;
	ref_pin(cpu[0]);
	memset(msg, 7, size);
	for (uint64_t i = 0; i < n; i++)
		for (size_t off = 0; off < size;) {
			ssize_t w = send(fd[0], msg + off, size - off, 0);

			if (w <= 0)
				exit(3);
			off += (size_t)w;
		}
	free(msg);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned char *buf;
	pthread_t th;
	double t0 = 0;
	int mem, seq;

	if (argc != 6) {
		fprintf(stderr,
			"usage: %s memcpy|slotseq|tcp|uds SIZE N CPU_A CPU_B\n",
			argv[0]);
		return 2;
	}
	seq = !strcmp(argv[1], "slotseq");
	mem = seq || !strcmp(argv[1], "memcpy");
	size = strtoull(argv[2], NULL, 10);
	n = strtoull(argv[3], NULL, 10);
	cpu[0] = atoi(argv[4]);
	cpu[1] = atoi(argv[5]);
	buf = malloc(size);
	if (mem) {
		stride = seq ? (8 + size + 63) / 64 * 64 : size;
		ring = aligned_alloc(64, SLOTS * stride + 64);
		memset(ring, 0, SLOTS * stride + 64);
	} else if (!strcmp(argv[1], "uds")) {
		socketpair(AF_UNIX, SOCK_STREAM, 0, fd);
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t sl = sizeof(sa);
		int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(l, (struct sockaddr *)&sa, sizeof(sa));
		listen(l, 1);
		getsockname(l, (struct sockaddr *)&sa, &sl);
		fd[0] = socket(AF_INET, SOCK_STREAM, 0);
		connect(fd[0], (struct sockaddr *)&sa, sizeof(sa));
		fd[1] = accept(l, NULL, NULL);
		setsockopt(fd[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		close(l);
	}
	ref_pin(cpu[1]);
	pthread_create(&th, NULL, seq ? seq_a : mem ? mem_a : sock_a, NULL);
	for (uint64_t i = 0; i < n; i++) {
		if (seq) {
			while (atomic_load_explicit(
				       slot(i), memory_order_acquire) != i + 1)
				;
			memcpy(buf, (unsigned char *)slot(i) + 8, size);
			atomic_store_explicit(&tail, i + 1,
					      memory_order_release);
		} else if (mem) {
			while (atomic_load_explicit(&head,
						    memory_order_acquire) <= i)
				;
			memcpy(buf, ring + (i % SLOTS) * size, size);
			atomic_store_explicit(&tail, i + 1,
					      memory_order_release);
		} else {
			for (size_t off = 0; off < size;) {
				ssize_t r =
					recv(fd[1], buf + off, size - off, 0);

				if (r <= 0)
					return 3;
				off += (size_t)r;
			}
		}
		if (i == 0)
			t0 = ref_now(); /* from the first message's arrival */
	}
	printf("%.0f\n", (double)(n - 1) * size / (ref_now() - t0));
	pthread_join(th, NULL);
	return 0;
}
