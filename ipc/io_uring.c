/* SPDX-License-Identifier: MIT */
/*
 * io_uring: each side owns a ring; a message is an IORING_OP_MSG_RING
 * posted from the sender's ring into the receiver's, which the receiver
 * reaps with io_uring_wait_cqe. The CQE carries only a 64-bit tag and a
 * length, so the payload goes through the mailbox. The sender's own
 * completion is skipped on success (IOSQE_CQE_SKIP_SUCCESS), so one hop
 * is one submit syscall and one wait. Both rings are made before the
 * split: a process needs its peer's ring fd to target it.
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipc.h"

#define MSG_TAG 0x696b6d7367ULL /* "ikmsg": a message from the peer */

struct uring_state {
	struct io_uring ring[2]; /* ring[s] is submitted to and reaped by s */
	bool live[2];
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
	struct uring_state *st = calloc(1, sizeof(*st));
	int s, ret;

	if (!st)
		return -ENOMEM;
	ch->priv = st;
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

static int uring_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		      size_t len)
{
	struct uring_state *st = ch->priv;
	struct io_uring *r = &st->ring[side];
	struct io_uring_cqe *cqe;

	for (;;) {
		int ret = io_uring_wait_cqe(r, &cqe);
		uint64_t tag;
		int res;

		if (ret == -EINTR && !ik_channel_aborted(ch))
			continue;
		if (ret)
			return ret == -EINTR ? -ECANCELED : ret;
		tag = cqe->user_data;
		res = cqe->res;
		io_uring_cqe_seen(r, cqe);
		if (res < 0)
			return res; /* our own MSG_RING failed */
		if (tag == MSG_TAG)
			return ik_mailbox_get(ch, side, buf, len);
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
};
