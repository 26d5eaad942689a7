/* SPDX-License-Identifier: MIT */
/*
 * eventfd: one counter per direction, since a shared one cannot say whose
 * turn it is. The counter carries no bytes, so the payload goes through
 * the channel's mailbox before the wake-up and is read after it.
 *
 * A read has no deadline of its own, so the controller's watch keeps it:
 * a message posted while the counter stays 0 and the reader takes
 * nothing for the whole wake-up deadline is a lost wake-up; the watch
 * counts it and writes the missing tick, so the trip goes on.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

/*
 * A read takes the whole count at once: several messages may have been
 * signalled by then, so the reader keeps the surplus as credit and takes
 * those messages without reading again. The fds first, for ik_fds_*.
 */
struct evfd_state {
	struct ik_fds f;
	struct {
		alignas(IK_CACHELINE) uint64_t credit; /* side s's own */
	} side[2];
};

static int evfd_setup(struct ik_channel *ch)
{
	struct evfd_state *st = aligned_alloc(IK_CACHELINE, sizeof(*st));
	struct ik_fds *f = &st->f;
	int s;

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	f->rd[0] = f->rd[1] = f->wr[0] = f->wr[1] = -1;
	ch->priv = st;
	for (s = 0; s < 2; s++) {
		int fd = eventfd(0, EFD_CLOEXEC);

		if (fd < 0) {
			int ret = -errno;

			ik_fds_teardown(ch);
			return ret;
		}
		f->rd[s] = fd;	/* side s waits on its own counter */
		f->wr[!s] = fd; /* and its peer bumps it */
	}
	return 0;
}

static int evfd_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		     size_t len)
{
	struct ik_fds *f = ch->priv;
	uint64_t tick = 1;
	int ret = ik_mailbox_put(ch, !side, buf, len);

	return ret ? ret : ik_write_full(ch, f->wr[side], &tick, sizeof(tick));
}

static int evfd_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		     size_t len)
{
	struct evfd_state *st = ch->priv;
	uint64_t *credit = &st->side[side].credit;

	if (!*credit) {
		int ret = ik_read_full(ch, st->f.rd[side], credit,
				       sizeof(*credit));

		if (ret)
			return ret;
	}
	--*credit;
	return ik_mailbox_get(ch, side, buf, len);
}

/* The test hook's send: the payload posted, the counter left alone. */
static int evfd_send_nowake(struct ik_channel *ch, enum ik_side side,
			    const void *buf, size_t len)
{
	return ik_mailbox_put(ch, !side, buf, len);
}

/*
 * Stuck means: a message waits in side s's mailbox, the counter is 0,
 * the reader sleeps, and it took nothing since the watch first saw it
 * so. A reader between taking a tick and its message, or a writer
 * between the two, moves ack or the counter within a tick; only a wake
 * that never came holds them all for the deadline.
 */
static void evfd_watch(struct ik_channel *ch)
{
	struct evfd_state *st = ch->priv;
	uint64_t now = ik_mono_ns();
	int s;

	for (s = 0; s < 2; s++) {
		struct pollfd pfd = {.fd = st->f.rd[s], .events = POLLIN};
		uint64_t ack, tick = 1;
		bool looks = ik_mailbox_pending(ch, s, &ack) &&
			     poll(&pfd, 1, 0) == 0 &&
			     ik_channel_peer_sleeps(ch, s);

		if (!ik_watch_stuck(ch, s, looks, ack, now))
			continue;
		ik_channel_count_lost(ch);
		if (write(st->f.rd[s], &tick, sizeof(tick)) < 0)
			continue; /* the reader's own failure will say */
	}
}

const struct ik_transport_ops ik_eventfd_ops = {
	.name = "eventfd",
	.summary =
		"one eventfd counter per direction, payload in shared memory",
	.doc = "one eventfd per direction",
	.flags = IK_T_SIGNAL,
	.setup = evfd_setup,
	.open_side = ik_fds_open_side,
	.send = evfd_send,
	.recv = evfd_recv,
	.teardown = ik_fds_teardown,
	.watch = evfd_watch,
	.send_nowake = evfd_send_nowake,
};
