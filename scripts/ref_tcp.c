/* SPDX-License-Identifier: MIT */
/*
 * TCP streaming references for scripts/bench-stream, over 127.0.0.1, A
 * pinned to CPU_A sending N messages of SIZE bytes to B on CPU_B:
 *   plain - blocking sockets, TCP_NODELAY on both ends, A send()s each
 *           message, B recv()s whatever is there, up to BUF bytes a call,
 *           until N * SIZE bytes arrived: the loop an application writes.
 *   ik    - exactly the socket syscalls ipckern's tcp method issues for
 *           --kernel stream --size SIZE --buffer BUF (ipc/tcp.c,
 *           ipc/channel.c): a non-blocking listener and connect, accept4,
 *           the same setsockopt/getsockopt calls in the same places, each
 *           message framed by a 4-byte length in one send (up to 1 KiB)
 *           or sendmsg, read back as one recv or as recvmsg calls capped
 *           at BUF bytes each. `strace -f` of both shows the same
 *           sequence.
 * BUF (0: leave the kernel's defaults) goes to SO_SNDBUF and SO_RCVBUF on
 * both ends. ORDER says when: "early", on the listener before listen()
 * and on A's socket before connect(), as tcp(7) asks (what ipckern does),
 * or "late", on both connected sockets after the handshake (what ipckern
 * did before; kept to show the difference).
 * Prints messages per second (from A's first send to B's last byte) and
 * the longest gap between two reads of B in ms.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ref_common.h"

#define FRAME_COPY_MAX 1024 /* as ipc/channel.c */

static size_t size, buf;
static uint64_t n;
static int cpu[2], fd[2], ik, early;
static _Atomic int go;
static double t_start;

static void buffers(int s)
{
	int v = (int)buf;

	if (buf && (setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) < 0 ||
		    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0))
		ref_die("SO_SNDBUF/SO_RCVBUF");
}

static void nodelay(int s)
{
	int one = 1;

	if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		ref_die("TCP_NODELAY");
}

/* what ik_sock_buffers reads back after setting */
static void granted(int s)
{
	int v;
	socklen_t l = sizeof(v);

	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l);
	l = sizeof(v);
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l);
}

static void plain_setup(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || fd[0] < 0)
		ref_die("socket");
	if (early)
		buffers(l), buffers(fd[0]);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &sl) < 0 ||
	    connect(fd[0], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (fd[1] = accept(l, NULL, NULL)) < 0)
		ref_die("listen/connect/accept");
	close(l);
	for (int s = 0; s < 2; s++) {
		nodelay(fd[s]);
		if (!early)
			buffers(fd[s]);
	}
}

/* ipc/tcp.c tcp_setup, call for call (no strangers here to drop) */
static void ik_setup(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET}, me, peer;
	socklen_t sl = sizeof(sa), ml = sizeof(me), pl;
	int l, a, b, fl, s;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l < 0)
		ref_die("socket");
	if (early)
		buffers(l), granted(l);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 16) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &sl) < 0)
		ref_die("listen");
	a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a < 0)
		ref_die("socket");
	if (early)
		buffers(a), granted(a);
	if ((connect(a, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	     errno != EINPROGRESS) ||
	    getsockname(a, (struct sockaddr *)&me, &ml) < 0)
		ref_die("connect");
	for (;;) {
		struct pollfd p = {.fd = l, .events = POLLIN};

		pl = sizeof(peer);
		b = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (b >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			ref_die("accept4");
		poll(&p, 1, 100);
	}
	while ((s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(s);
	close(l);
	if ((fl = fcntl(a, F_GETFL)) < 0 ||
	    fcntl(a, F_SETFL, fl & ~O_NONBLOCK) < 0)
		ref_die("fcntl");
	fd[0] = a;
	fd[1] = b;
	for (s = 0; s < 2; s++) {
		nodelay(fd[s]);
		if (!early)
			buffers(fd[s]);
		granted(fd[s]);
	}
}

static void write_all(int s, const void *p, size_t len)
{
	while (len) {
		ssize_t w = send(s, p, len, 0);

		if (w <= 0)
			ref_die("send");
		p = (const char *)p + w;
		len -= (size_t)w;
	}
}

static void read_all(int s, void *p, size_t len)
{
	while (len) {
		ssize_t r = recv(s, p, len, 0);

		if (r <= 0)
			ref_die("recv");
		p = (char *)p + r;
		len -= (size_t)r;
	}
}

static void iov_advance(struct iovec **iov, int *k, size_t done)
{
	while (*k && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*k)--;
	}
	if (*k) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
}

/* ik_fds_send */
static void ik_send(const unsigned char *m)
{
	uint32_t hdr = (uint32_t)size;
	struct iovec v[2] = {{&hdr, 4}, {(void *)m, size}}, *iov = v;
	int k = 2;

	if (size <= FRAME_COPY_MAX) {
		unsigned char one[4 + FRAME_COPY_MAX];

		memcpy(one, &hdr, 4);
		memcpy(one + 4, m, size);
		write_all(fd[0], one, 4 + size);
		return;
	}
	while (k) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)k};
		ssize_t w = sendmsg(fd[0], &mh, 0);

		if (w <= 0)
			ref_die("sendmsg");
		iov_advance(&iov, &k, (size_t)w);
	}
}

/* ik_fds_recv */
static void ik_recv(unsigned char *m)
{
	size_t chunk = buf ? buf : SIZE_MAX;
	uint32_t hdr = 0;
	struct iovec v[2] = {{&hdr, 4}, {m, size}}, *iov = v;
	int k = 2;

	if (size <= FRAME_COPY_MAX && chunk >= 4 + size) {
		unsigned char one[4 + FRAME_COPY_MAX];

		read_all(fd[1], one, 4 + size);
		memcpy(&hdr, one, 4);
		memcpy(m, one + 4, size);
	} else {
		while (k) {
			struct iovec cut[2] = {iov[0], k > 1 ? iov[1] : iov[0]};
			size_t want = cut[0].iov_len;
			int cn = 1;
			ssize_t r;

			if (want >= chunk)
				cut[0].iov_len = chunk;
			else if (k > 1) {
				cn = 2;
				if (want + cut[1].iov_len > chunk)
					cut[1].iov_len = chunk - want;
			}
			struct msghdr mh = {.msg_iov = cut,
					    .msg_iovlen = (size_t)cn};

			r = recvmsg(fd[1], &mh, 0);
			if (r <= 0)
				ref_die("recvmsg");
			iov_advance(&iov, &k, (size_t)r);
		}
	}
	if (hdr != size) {
		fprintf(stderr, "bad frame length %u\n", hdr);
		exit(3);
	}
}

static void *side_a(void *x)
{
	unsigned char *m = malloc(size);

	(void)x;
	ref_pin(cpu[0]);
	memset(m, 7, size);
	while (!atomic_load(&go))
		;
	t_start = ref_now();
	for (uint64_t i = 0; i < n; i++) {
		if (ik) {
			ik_send(m);
			continue;
		}
		for (size_t off = 0; off < size;) {
			ssize_t w = send(fd[0], m + off, size - off, 0);

			if (w <= 0)
				ref_die("send");
			off += (size_t)w;
		}
	}
	free(m);
	return NULL;
}

int main(int argc, char **argv)
{
	size_t want, got = 0, cap;
	unsigned char *m;
	double last, gap = 0, t;
	pthread_t th;

	if (argc < 7 || argc > 8 ||
	    (strcmp(argv[1], "plain") && strcmp(argv[1], "ik"))) {
		fprintf(stderr,
			"usage: %s plain|ik SIZE N CPU_A CPU_B BUF "
			"[early|late]\n",
			argv[0]);
		return 2;
	}
	ik = !strcmp(argv[1], "ik");
	size = strtoull(argv[2], NULL, 10);
	n = strtoull(argv[3], NULL, 10);
	cpu[0] = atoi(argv[4]);
	cpu[1] = atoi(argv[5]);
	buf = strtoull(argv[6], NULL, 10);
	early = argc < 8 || !strcmp(argv[7], "early");
	if (!size || !n || (argc == 8 && !early && strcmp(argv[7], "late"))) {
		fprintf(stderr, "SIZE and N above 0; ORDER early or late\n");
		return 2;
	}
	(ik ? ik_setup : plain_setup)();
	cap = buf ? buf : 1 << 20;
	m = malloc(size > cap ? size : cap);
	ref_pin(cpu[1]);
	pthread_create(&th, NULL, side_a, NULL);
	atomic_store(&go, 1);
	last = ref_now();
	want = (size_t)n * size;
	for (uint64_t i = 0; got < want; i++) {
		if (ik) {
			ik_recv(m);
			got += size;
		} else {
			ssize_t r =
				recv(fd[1], m,
				     want - got < cap ? want - got : cap, 0);

			if (r <= 0)
				ref_die("recv");
			got += (size_t)r;
		}
		t = ref_now();
		if (t - last > gap)
			gap = t - last;
		last = t;
	}
	pthread_join(th, NULL);
	printf("%.0f %.3f\n", (double)n / (last - t_start), gap * 1e3);
	close(fd[0]);
	close(fd[1]);
	free(m);
	return 0;
}
