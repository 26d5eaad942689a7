/* SPDX-License-Identifier: MIT */
/*
 * io_uring: each side owns a ring; a message is an IORING_OP_MSG_RING
 * posted from the sender's ring into the receiver's, which the receiver
 * reaps with io_uring_wait_cqe. The CQE carries only a 64-bit tag and a
 * length, so the payload goes through the mailbox. The sender's own
 * completion is skipped on success (IOSQE_CQE_SKIP_SUCCESS), so one hop
 * is one submit syscall and one wait. Both rings are made before the
 * split: a process needs its peer's ring fd to target it.
 *
 * The wait carries the wake-up deadline as io_uring_enter's own timeout
 * (IORING_FEAT_EXT_ARG: no call added). A message is what the mailbox
 * holds, never the CQE: the CQE is only a tag that says "look". So recv
 * takes by mailbox sequence: it reaps whatever tags are posted, takes the
 * next message if one is there, and sleeps only when none is. That makes
 * a tag that comes after its message was taken harmless:
 *  - a wait that runs out with a message posted and fewer tags reaped
 *    than messages put is a lost wake-up: counted, and the message taken
 *    (the trip goes on);
 *  - should its tag come after all (a late MSG_RING, not a dropped one),
 *    the next recv reaps it, finds the mailbox empty (or holding the next
 *    message, which it takes as it would anyway) and sleeps again: a stale
 *    tag wakes at most one extra look, never a second take;
 *  - a message seen before its tag (the sender is between its mailbox put
 *    and its submit) is taken at once; its tag is then stale, as above.
 * The one check a tag allows is kept: each is posted after its message,
 * so more tags reaped than messages ever put is -EPROTO (woken with
 * nothing to take). Tags are counted per side, by that side alone. After
 * a dropped tag the count stays behind for good; that only decides what a
 * run-out wait counts, and a wait runs out only when no tag came at all.
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

#define MSG_TAG 0x696b6d7367ULL /* "ikmsg": a message from the peer */

/* side s's recv state: its own line, written by s alone */
struct uring_side {
	alignas(IK_CACHELINE) uint64_t tags; /* MSG_TAG CQEs reaped */
	struct __kernel_timespec dl;	     /* the wake-up deadline */
};

struct uring_state {
	struct io_uring ring[2]; /* ring[s] is submitted to and reaped by s */
	bool live[2];
	struct uring_side side[2];
};

/* 0 when the kernel offers MSG_RING, else the -errno to report. */
static int probe_msg_ring(struct io_uring *r)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(r);
	int ok;

	if (!p)
		return -EOPNOTSUPP;
	ok = io_uring_opcode_supported(p, IORING_OP_MSG_RING);
	io_uring_free_probe(p);
	return ok ? 0 : -EOPNOTSUPP;
}

static int uring_setup(struct ik_channel *ch)
{
	/* sizeof is a whole number of lines: side[] is aligned */
	struct uring_state *st = aligned_alloc(IK_CACHELINE, sizeof(*st));
	int s, ret;

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	ch->priv = st;
	for (s = 0; s < 2; s++) {
		st->side[s].dl.tv_sec = (int64_t)ch->deadline.tv_sec;
		st->side[s].dl.tv_nsec = (long long)ch->deadline.tv_nsec;
	}
	for (s = 0; s < 2; s++) {
		/* the CQ holds what the mailbox ring can have in flight */
		struct io_uring_params prm = {.flags = IORING_SETUP_CQSIZE,
					      .cq_entries = 2 * 64};

		ret = io_uring_queue_init_params(8, &st->ring[s], &prm);
		if (ret < 0)
			goto fail; /* -EPERM: io_uring_disabled; -ENOSYS */
		st->live[s] = true;
	}
	ret = probe_msg_ring(&st->ring[0]);
	if (ret)
		goto fail;
	snprintf(ch->granted, sizeof(ch->granted),
		 "two rings, 8 SQ / %u CQ entries",
		 st->ring[0].cq.ring_entries);
	return 0;
fail:
	for (s = 0; s < 2; s++)
		if (st->live[s])
			io_uring_queue_exit(&st->ring[s]);
	free(st);
	ch->priv = NULL;
	return ret;
}

static int uring_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		      size_t len)
{
	struct uring_state *st = ch->priv;
	struct io_uring *r = &st->ring[side];
	struct io_uring_sqe *sqe;
	int ret = ik_mailbox_put(ch, !side, buf, len);

	if (ret)
		return ret;
	sqe = io_uring_get_sqe(r);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_msg_ring(sqe, st->ring[!side].ring_fd, (unsigned)len,
			       MSG_TAG, 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	do
		ret = io_uring_submit(r);
	while (ret == -EINTR && !ik_channel_aborted(ch));
	if (ret == -EINTR)
		return -ECANCELED;
	return ret < 0 ? ret : 0;
}

/* The test hook's send: the message in the mailbox, no MSG_RING. */
static int uring_send_nowake(struct ik_channel *ch, enum ik_side side,
			     const void *buf, size_t len)
{
	return ik_mailbox_put(ch, !side, buf, len);
}

/* Reap every completion posted: count the tags, -errno of our own failed
 * MSG_RING (its completion is posted only on failure), else 0. */
static int reap(struct io_uring *r, uint64_t *tags)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(r, &cqe) == 0) {
		uint64_t tag = cqe->user_data;
		int res = cqe->res;

		io_uring_cqe_seen(r, cqe);
		if (res < 0)
			return res;
		*tags += tag == MSG_TAG;
	}
	return 0;
}

/* Take the next message by mailbox sequence (see the top of the file). */
static int uring_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		      size_t len)
{
	struct uring_state *st = ch->priv;
	struct uring_side *me = &st->side[side];
	struct io_uring *r = &st->ring[side];
	bool timed = ch->p.wake_deadline_ns;

	for (;;) {
		struct io_uring_cqe *cqe;
		uint64_t ack, n;
		int ret = reap(r, &me->tags);

		if (ret)
			return ret;
		n = ik_mailbox_pending(ch, side, &ack);
		if (ik_unlikely(me->tags > ack + n))
			return -EPROTO; /* a tag with no message ever put */
		if (n)
			return ik_mailbox_get(ch, side, buf, len);
		ret = timed ? io_uring_wait_cqe_timeout(r, &cqe, &me->dl)
			    : io_uring_wait_cqe(r, &cqe);
		if (ik_unlikely(ret == -ETIME)) {
			/* a message posted whose tag has not come: nobody
			 * woke us for it, lost; the look above takes it */
			if ((ret = reap(r, &me->tags)))
				return ret;
			n = ik_mailbox_pending(ch, side, &ack);
			if (n && me->tags < ack + n)
				ik_channel_count_lost(ch);
			else if (!n && ik_channel_aborted(ch))
				return -ECANCELED; /* its kick went astray */
			continue;
		}
		if (ret == -EINTR && ik_channel_aborted(ch))
			return -ECANCELED;
		if (ret && ret != -EINTR)
			return ret;
	}
}

static void uring_teardown(struct ik_channel *ch)
{
	struct uring_state *st = ch->priv;

	if (!st)
		return;
	io_uring_queue_exit(&st->ring[0]);
	io_uring_queue_exit(&st->ring[1]);
	free(st);
}

const struct ik_transport_ops ik_io_uring_ops = {
	.name = "io_uring",
	.summary = "IORING_OP_MSG_RING between two rings, payload in shared "
		   "memory",
	.doc = "IORING_OP_MSG_RING between two rings (liburing)",
	.setup_hint = "io_uring refused or lacking IORING_OP_MSG_RING (needs "
		      "Linux 5.18+; see /proc/sys/kernel/io_uring_disabled)",
	.flags = IK_T_SIGNAL,
	.setup = uring_setup,
	.send = uring_send,
	.recv = uring_recv,
	.teardown = uring_teardown,
	.send_nowake = uring_send_nowake,
};
