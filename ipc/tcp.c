/* SPDX-License-Identifier: MIT */
/*
 * tcp: a real listening socket on 127.0.0.1 with an ephemeral port,
 * connect and accept, TCP_NODELAY on both ends so small messages are not
 * held back by Nagle. The listener is closed once the pair is connected.
 * --buffer goes on the listener before listen() and on A's socket before
 * connect(), as tcp(7) asks: the handshake fixes the window scale and the
 * largest window each sender sees, and set after it, a 16 KiB buffer
 * leaves a sender whose MSS is above the window the receiver can offer,
 * waiting ~200 ms for the persist timer again and again.
 * While the peers run, the controller looks at both directions every
 * ~50 ms (TCP_INFO, FIONREAD) for such stalls, which Linux also makes on
 * its own now and then, so a result they shaped says so.
 * Any local user can see the port (/proc/net/tcp) and connect in the
 * moment it is open, so side B is the accepted connection whose peer is
 * side A's own address; anyone else is closed unanswered and counted
 * (ch->strangers). A's connect does not block, so strangers queued ahead
 * of it are accepted and dropped while it completes.
 * For the kernels with connections of their own, a listener on
 * 127.0.0.1 too (tcp_listen).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h> /* glibc's struct tcp_info stops short */
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

#define BACKLOG	      16 /* room for strangers ahead of side A */
#define OWN_PEER_WAIT 10 /* s: A's SYN may be retried after 1 s, 3 s */
/* a hold this long is a stall: healthy waits are microseconds, the
 * persist timer 200 ms at least (TCP_RTO_MIN) */
#define STALL_MIN_NS 100000000ull

void (*ik_test_tcp_connected)(int a, int b);

/* One direction as the controller saw it: held since when, how far. */
struct tcp_look {
	uint64_t acked; /* the sender's tcpi_bytes_acked then */
	uint64_t since; /* the first look that saw it held at acked */
	uint64_t added; /* of this hold, ns counted as stalled already */
	bool held;	/* bytes to send, none in flight, none to read */
};

struct tcp_state {
	struct ik_fds f;	 /* first: the ik_fds_* helpers take ch->priv */
	struct tcp_look look[2]; /* by sending side */
	struct ik_stalls st;
	unsigned wnd, mss, queued; /* seen in the last stall */
};

static time_t now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* The connection from me (side A's address), strangers dropped. */
static int accept_own(struct ik_channel *ch, int lfd,
		      const struct sockaddr_in *me)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	time_t give_up = now_s() + OWN_PEER_WAIT;

	for (;;) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &pl,
				 SOCK_CLOEXEC);

		if (fd >= 0 && pl == sizeof(peer) &&
		    peer.sin_port == me->sin_port &&
		    peer.sin_addr.s_addr == me->sin_addr.s_addr)
			return fd;
		if (fd >= 0) {
			close(fd);
			ch->strangers++;
		} else if (errno != EAGAIN && errno != EINTR &&
			   errno != ECONNABORTED) {
			return -errno;
		}
		if (now_s() > give_up)
			return -ETIMEDOUT;
		if (fd < 0 && poll(&p, 1, 100) < 0 && errno != EINTR)
			return -errno;
	}
}

static int tcp_setup(struct ik_channel *ch)
{
	struct tcp_state *t = calloc(1, sizeof(*t));
	struct ik_fds *f = t ? &t->f : NULL;
	struct sockaddr_in sa = {.sin_family = AF_INET}, me;
	socklen_t sl = sizeof(sa), ml = sizeof(me);
	int lfd = -1, a = -1, b = -1, one = 1, ret, s, fd, fl;

	if (!t)
		return -ENOMEM;
	f->rd[0] = f->rd[1] = f->wr[0] = f->wr[1] = -1;
	ch->priv = f;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		goto fail_errno;
	/* before listen(): the accepted socket inherits them */
	if ((ret = ik_sock_buffers(ch, lfd)))
		goto fail;
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, BACKLOG) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail_errno;
	ik_listening((struct sockaddr *)&sa, sl);
	a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a < 0)
		goto fail_errno;
	if ((ret = ik_sock_buffers(ch, a)))
		goto fail;
	if ((connect(a, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	     errno != EINPROGRESS) ||
	    getsockname(a, (struct sockaddr *)&me, &ml) < 0)
		goto fail_errno;
	b = accept_own(ch, lfd, &me);
	if (b < 0) {
		ret = b;
		b = -1;
		goto fail;
	}
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		close(fd); /* queued behind A: strangers too */
		ch->strangers++;
	}
	ik_close(&lfd);
	/* B accepted A's connection, so A's handshake is done: block again */
	if ((fl = fcntl(a, F_GETFL)) < 0 ||
	    fcntl(a, F_SETFL, fl & ~O_NONBLOCK) < 0)
		goto fail_errno;
	f->rd[IK_SIDE_A] = f->wr[IK_SIDE_A] = a;
	f->rd[IK_SIDE_B] = f->wr[IK_SIDE_B] = b;
	a = b = -1;
	for (s = 0; s < 2; s++) {
		if (setsockopt(f->rd[s], IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) < 0)
			goto fail_errno;
		ik_sock_granted(ch, f->rd[s]);
	}
	if (ik_test_tcp_connected)
		ik_test_tcp_connected(f->rd[IK_SIDE_A], f->rd[IK_SIDE_B]);
	return 0;
fail_errno:
	ret = -errno;
fail:
	ik_close(&lfd);
	ik_close(&a);
	ik_close(&b);
	ik_fds_teardown(ch);
	return ret;
}

/*
 * A stall: the sender holds bytes it does not send, with nothing in
 * flight, while the receiver has nothing to read, and no byte is acked
 * for STALL_MIN_NS. Linux does that when the window offered is below the
 * sender's MSS (tcp_snd_wnd_test wants the whole segment in the window)
 * or zero, until the persist timer fires. A healthy wait for the reader
 * to make room has bytes queued at the reader, and lasts microseconds.
 */
static void look(struct tcp_state *t, int s, uint64_t now)
{
	struct tcp_look *lk = &t->look[s];
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	int inq = -1;
	bool held;

	if (getsockopt(t->f.wr[s], IPPROTO_TCP, TCP_INFO, &ti, &l) < 0 ||
	    l < offsetof(struct tcp_info, tcpi_snd_wnd) +
			    sizeof(ti.tcpi_snd_wnd) ||
	    ioctl(t->f.rd[!s], FIONREAD, &inq) < 0)
		return; /* before Linux 5.4: not told */
	held = ti.tcpi_notsent_bytes && !ti.tcpi_unacked && !inq;
	if (held && lk->held && ti.tcpi_bytes_acked == lk->acked) {
		uint64_t d = now - lk->since;

		if (d < STALL_MIN_NS)
			return;
		t->st.count += !lk->added;
		t->st.ns += d - lk->added;
		lk->added = d;
		t->wnd = ti.tcpi_snd_wnd;
		t->mss = ti.tcpi_snd_mss;
		t->queued = ti.tcpi_notsent_bytes;
		return;
	}
	*lk = (struct tcp_look){ti.tcpi_bytes_acked, now, 0, held};
}

static void tcp_watch(struct ik_channel *ch)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	look(ch->priv, IK_SIDE_A, now);
	look(ch->priv, IK_SIDE_B, now);
	/* recv takes no timeout: the wake-up deadline is kept here, bytes
	 * to read (FIONREAD) on a reader asleep for it, as for a pipe */
	ik_fds_watch(ch);
}

static void tcp_stalls(struct ik_channel *ch, struct ik_stalls *st)
{
	struct tcp_state *t = ch->priv;

	*st = t->st;
	if (!st->count)
		return;
	snprintf(st->why, sizeof(st->why),
		 "tcp held the sender %u time%s, %.0f ms in all at least: "
		 "%u B queued, none in flight, none to read, window %u B %s "
		 "MSS %u B, until the persist timer fired (>= 200 ms each)",
		 st->count, st->count == 1 ? "" : "s", (double)st->ns / 1e6,
		 t->queued, t->wnd, t->wnd && t->wnd < t->mss ? "< its" : "vs",
		 t->mss);
}

/* For the kernels with connections of their own: 127.0.0.1, a port the
 * kernel picks (kernels/door.c checks who comes) */
static int tcp_listen(unsigned backlog, struct ik_sockaddr *a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

	memset(a, 0, sizeof(*a));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->len = sizeof(*in);
	return ik_sock_listen(a, backlog);
}

const struct ik_transport_ops ik_tcp_ops = {
	.name = "tcp",
	.summary = "TCP over 127.0.0.1, ephemeral port, TCP_NODELAY",
	.doc = "a real listener on 127.0.0.1, ephemeral port, TCP_NODELAY",
	.flags = IK_T_LISTEN,
	.setup = tcp_setup,
	.open_side = ik_fds_open_side,
	.send = ik_sock_send,
	.recv = ik_sock_recv,
	.watch = tcp_watch,
	.stalls = tcp_stalls,
	.teardown = ik_fds_teardown,
	.listen = tcp_listen,
	.connect = ik_sock_connect,
};
