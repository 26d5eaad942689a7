/* SPDX-License-Identifier: MIT */
/*
 * The spsc ring as a queue: millions of sequence-numbered messages
 * streamed one way, thousands of times around the ring, in both modes and
 * every wait mode. The consumer checks each sequence number and the bytes
 * behind it, so a lost, doubled, reordered or torn message fails. The
 * ring runs as the stream kernel gets it; the one-slot duplex that
 * spinning ping-pong gets is streamed too, so its sender must wait for
 * each message to be taken.
 */
#include "helpers.h"

static int stream_body(struct ik_peers *g, enum ik_side side)
{
	struct t_run *t = g->arg;
	unsigned char msg[256];
	uint64_t k;
	size_t i;
	int ret;

	for (k = 0; k < t->count; k++) {
		if (side == IK_SIDE_A) {
			memcpy(msg, &k, sizeof(k));
			for (i = sizeof(k); i < t->size; i++)
				msg[i] = t_pattern(k, i);
			if ((ret = g->ch->send(g->ch, side, msg, t->size)))
				return ret;
		} else {
			uint64_t seq;

			if ((ret = g->ch->recv(g->ch, side, msg, t->size)))
				return ret;
			memcpy(&seq, msg, sizeof(seq));
			if (seq != k)
				return -EBADMSG;
			for (i = sizeof(k); i < t->size; i++)
				if (msg[i] != t_pattern(k, i))
					return -EBADMSG;
		}
	}
	return 0;
}

/*
 * The same through the inline cursor the stream kernel uses; then one
 * more message each way through ch->send/recv, which must carry on from
 * where the cursors stopped.
 */
static int cursor_body(struct ik_peers *g, enum ik_side side)
{
	struct t_run *t = g->arg;
	struct ik_spsc_cursor o, c;
	unsigned char msg[256];
	uint64_t k;
	size_t i;
	int ret = ik_spsc_open(g->ch, side, &o);

	if (ret)
		return ret;
	c = o;
	for (k = 0; k <= t->count; k++) {
		if (k == t->count)
			ik_spsc_close(g->ch, side, c);
		if (side == IK_SIDE_A) {
			memcpy(msg, &k, sizeof(k));
			for (i = sizeof(k); i < t->size; i++)
				msg[i] = t_pattern(k, i);
			ret = k < t->count
				      ? ik_spsc_put(g->ch, &c, msg, t->size)
				      : g->ch->send(g->ch, side, msg, t->size);
			if (ret)
				return ret;
		} else {
			uint64_t seq;

			ret = k < t->count
				      ? ik_spsc_take(g->ch, &c, msg, t->size)
				      : g->ch->recv(g->ch, side, msg, t->size);
			if (ret)
				return ret;
			memcpy(&seq, msg, sizeof(seq));
			if (seq != k)
				return -EBADMSG;
			for (i = sizeof(k); i < t->size; i++)
				if (msg[i] != t_pattern(k, i))
					return -EBADMSG;
		}
	}
	return 0;
}

static void run(enum ik_mode mode, enum ik_wait wait, size_t size,
		uint64_t count, bool ring)
{
	struct t_run t = {.method = "spsc",
			  .mode = mode,
			  .wait = wait,
			  .size = size,
			  .count = count,
			  .stream = ring,
			  .body = stream_body};
	int ret = t_run_peers(&t);

	cr_assert_eq(ret, 0, "%s %s: %s (%s)", ik_mode_name(mode),
		     ik_wait_name(wait), strerror(-ret), t.errmsg);
}

static void stream(enum ik_mode mode, enum ik_wait wait, size_t size,
		   uint64_t count)
{
	run(mode, wait, size, count, true);
}

static void cursor(enum ik_mode mode, size_t size, uint64_t count)
{
	struct t_run t = {.method = "spsc",
			  .mode = mode,
			  .wait = IK_WAIT_SPIN,
			  .size = size,
			  .count = count,
			  .stream = true,
			  .body = cursor_body};
	int ret = t_run_peers(&t);

	cr_assert_eq(ret, 0, "%s cursor size %zu: %s (%s)", ik_mode_name(mode),
		     size, strerror(-ret), t.errmsg);
}

Test(ring_thread, inline_cursor_in_order_then_send_recv, .timeout = 240)
{
	cursor(IK_MODE_THREAD, 8, 2000000);
	cursor(IK_MODE_THREAD, 200, 300000);
}

Test(ring_process, inline_cursor_in_order_then_send_recv, .timeout = 240)
{
	cursor(IK_MODE_PROCESS, 64, 1000000);
}

Test(ring_thread, no_cursor_where_the_ring_is_not_spun, .timeout = 60)
{
	static const char *const names[] = {"spsc", "line"};
	struct ik_spsc_cursor c;
	size_t i;

	for (i = 0; i < 2; i++) {
		struct ik_chan_params p = {.size = 8,
					   .wait = i ? IK_WAIT_SPIN
						     : IK_WAIT_FUTEX,
					   .stream = true};
		struct ik_channel ch;

		cr_assert_eq(
			ik_channel_init(&ch, ik_transport_find(names[i]), &p),
			0);
		cr_expect_eq(ik_spsc_open(&ch, IK_SIDE_A, &c), -EOPNOTSUPP,
			     "%s", names[i]);
		ik_channel_destroy(&ch);
	}
}

Test(duplex_thread, one_slot_streamed_in_order, .timeout = 240)
{
	run(IK_MODE_THREAD, IK_WAIT_SPIN, 8, 300000, false);
	run(IK_MODE_THREAD, IK_WAIT_SPIN, 200, 100000, false);
}

Test(duplex_process, one_slot_streamed_in_order, .timeout = 240)
{
	run(IK_MODE_PROCESS, IK_WAIT_SPIN, 8, 300000, false);
}

Test(ring_thread, two_million_in_order_spinning, .timeout = 240)
{
	stream(IK_MODE_THREAD, IK_WAIT_SPIN, 8, 2000000);
}

Test(ring_thread, multi_line_slots_in_order_spinning, .timeout = 240)
{
	stream(IK_MODE_THREAD, IK_WAIT_SPIN, 200, 300000);
}

Test(ring_thread, in_order_sleeping_on_futex, .timeout = 240)
{
	stream(IK_MODE_THREAD, IK_WAIT_FUTEX, 8, 200000);
}

Test(ring_thread, in_order_hybrid, .timeout = 240)
{
	stream(IK_MODE_THREAD, IK_WAIT_HYBRID, 8, 200000);
}

Test(ring_process, two_million_in_order_spinning, .timeout = 240)
{
	stream(IK_MODE_PROCESS, IK_WAIT_SPIN, 8, 2000000);
}

Test(ring_process, in_order_sleeping_on_futex, .timeout = 240)
{
	stream(IK_MODE_PROCESS, IK_WAIT_FUTEX, 8, 200000);
}

Test(ring_process, in_order_hybrid, .timeout = 240)
{
	stream(IK_MODE_PROCESS, IK_WAIT_HYBRID, 8, 200000);
}
