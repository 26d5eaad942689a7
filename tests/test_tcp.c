/* SPDX-License-Identifier: MIT */
/*
 * tcp with small buffers. --buffer must reach the sockets before the
 * handshake (tcp(7)): set after it, the window scale and the sender's MSS
 * come from the default buffers, the MSS ends up above any window the
 * small receive buffer can offer, and Linux holds each segment until the
 * persist timer fires, ~200 ms a time. Here: a small-buffer stream
 * carries every message; the sockets are shaped as if set before listen()
 * and connect(); and when a window below the MSS does stall a run (forced
 * through a seam), the result and its timeout say so and why.
 */
#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static int stream(enum ik_mode mode, size_t size, size_t buffer, uint64_t n,
		  uint64_t timeout_s, struct ik_result *res)
{
	return t_stream("tcp", mode, size, buffer, n, timeout_s, res);
}

/* --verify: each message's sequence and checksum; every one is counted */
static void check_small_buffers(enum ik_mode mode)
{
	static const size_t sizes[] = {1000, 4096, 65536};
	static const size_t buffers[] = {4096, 16384};
	size_t i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < 2; j++) {
			uint64_t n = sizes[i] > 4096 ? 200 : 3000;
			struct ik_result res;
			int ret = stream(mode, sizes[i], buffers[j], n, 100,
					 &res);

			cr_assert_eq(ret, 0, "%zu B over %zu B: %s", sizes[i],
				     buffers[j], res.errmsg);
			cr_expect_eq(res.stream.messages, n,
				     "%zu B over %zu B: %lu of %lu arrived",
				     sizes[i], buffers[j],
				     (unsigned long)res.stream.messages,
				     (unsigned long)n);
			ik_result_free(&res);
		}
	}
}

Test(tcp_thread, small_buffers_carry_every_message_intact, .init = t_setup,
     .fini = t_teardown, .timeout = 240)
{
	check_small_buffers(IK_MODE_THREAD);
}

Test(tcp_process, small_buffers_carry_every_message_intact, .init = t_setup,
     .fini = t_teardown, .timeout = 240)
{
	check_small_buffers(IK_MODE_PROCESS);
}

/* What the handshake fixed on a connected socket. */
struct shape {
	int rcv_wscale, snd_wscale, clamp;
};

static struct shape shape_of(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	struct shape s;

	memset(&ti, 0, sizeof(ti));
	cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l), 0);
	s.rcv_wscale = ti.tcpi_rcv_wscale;
	s.snd_wscale = ti.tcpi_snd_wscale;
	l = sizeof(s.clamp);
	cr_assert_eq(
		getsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &s.clamp, &l), 0);
	return s;
}

static void set_buffers(int fd, int v)
{
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
}

/* A loopback pair with buffers v set before listen/connect, or after. */
static void pair(int v, bool early, struct shape *a, struct shape *b)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0), c, s;

	c = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(l >= 0 && c >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (early) {
		set_buffers(l, v);
		set_buffers(c, v);
	}
	cr_assert_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(l, 1), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
	cr_assert_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = accept(l, NULL, NULL);
	cr_assert(s >= 0);
	if (!early) {
		set_buffers(c, v);
		set_buffers(s, v);
	}
	*a = shape_of(c);
	*b = shape_of(s);
	close(l);
	close(c);
	close(s);
}

/*
 * The window scale each side offered in its SYN, and each side's window
 * clamp, are what the buffers were at the handshake: ipckern's pair must
 * look like one whose buffers were set before listen() and connect().
 */
Test(tcp, socket_buffers_are_set_before_the_handshake, .timeout = 30)
{
	struct ik_chan_params p = {.size = 4096, .buffer = 16384};
	struct shape ea, eb, la, lb, a, b;
	struct ik_channel ch;
	struct ik_fds *f;

	pair(16384, true, &ea, &eb);
	pair(16384, false, &la, &lb);
	if (!memcmp(&ea, &la, sizeof(ea)) && !memcmp(&eb, &lb, sizeof(eb)))
		cr_skip_test("here the order leaves no trace (wscale %d, "
			     "clamp %d either way)",
			     ea.rcv_wscale, ea.clamp);
	cr_assert_eq(ik_channel_init(&ch, ik_transport_find("tcp"), &p), 0);
	f = ch.priv;
	a = shape_of(f->rd[IK_SIDE_A]);
	b = shape_of(f->rd[IK_SIDE_B]);
	ik_channel_destroy(&ch);
	cr_expect_eq(a.rcv_wscale, ea.rcv_wscale,
		     "A offered wscale %d: set before connect %d, after %d",
		     a.rcv_wscale, ea.rcv_wscale, la.rcv_wscale);
	cr_expect_eq(b.rcv_wscale, eb.rcv_wscale,
		     "B offered wscale %d: set before listen %d, after %d",
		     b.rcv_wscale, eb.rcv_wscale, lb.rcv_wscale);
	cr_expect_eq(a.clamp, ea.clamp, "A's clamp %d: before %d, after %d",
		     a.clamp, ea.clamp, la.clamp);
	cr_expect_eq(b.clamp, eb.clamp, "B's clamp %d: before %d, after %d",
		     b.clamp, eb.clamp, lb.clamp);
}

/* the seam: B's receive buffer shrunk after the handshake, as ipckern
 * once set all of --buffer, so the window stays below A's MSS */
static void shrink_b(int a, int b)
{
	int v = 4096;

	(void)a;
	setsockopt(b, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

static void expect_stall_named(enum ik_mode mode)
{
	struct ik_result res;
	int ret;

	ik_test_tcp_connected = shrink_b;
	ret = stream(mode, 4096, 16384, 3000, 2, &res);
	ik_test_tcp_connected = NULL;
	if (!ret && !res.stalls)
		cr_skip_test("this kernel sent through a window below the MSS "
			     "without a stall");
	cr_assert(ret == 0 || ret == -ETIMEDOUT, "%s", res.errmsg);
	cr_expect_geq(res.stalls, 1, "no stall seen: %s", res.errmsg);
	cr_expect_gt(res.stall_ns, 0);
	cr_expect(strstr(res.note, "persist timer") != NULL, "note: %s",
		  res.note);
	cr_expect(strstr(res.note, "< its MSS") != NULL, "note: %s", res.note);
	if (ret == -ETIMEDOUT)
		cr_expect(strstr(res.errmsg, "tcp stalled") != NULL,
			  "a timeout that does not say why: %s", res.errmsg);
	ik_result_free(&res);
}

Test(tcp_thread, a_window_below_the_mss_is_named_as_the_stall, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	expect_stall_named(IK_MODE_THREAD);
}

Test(tcp_process, a_window_below_the_mss_is_named_as_the_stall, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	expect_stall_named(IK_MODE_PROCESS);
}
