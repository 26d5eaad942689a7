/* SPDX-License-Identifier: MIT */
/*
 * vmsplice: one pipe per direction, the sender's pages spliced into it
 * with vmsplice(SPLICE_F_GIFT) rather than copied; the reader read()s
 * them out, so a message is copied once, not twice. The pipe then holds
 * references to the sender's own pages, which must not change until the
 * reader has taken them: the sender copies each message into the next of
 * a ring of page-aligned buffers, more of them than the pipe can hold
 * pages (each page spliced is one pipe buffer), so a buffer is reused
 * only once the reader has read it. SPLICE_F_GIFT only marks the pages:
 * the reader's read() copies either way. A message is at most 1 MiB
 * (the ring is ~pipe pages + 2 of them); --buffer sets the pipe's size.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ipc.h"

#define VMS_MSG_MAX (1u << 20)

/* The fds first, for ik_fds_*; ring[s] is side s's to send from. */
struct vms_state {
	struct ik_fds f;
	unsigned char *ring[2];
	size_t ring_len, stride;
	unsigned nbufs;
	struct {
		alignas(IK_CACHELINE) unsigned next; /* side s's own */
	} side[2];
};

static size_t vms_max(const struct ik_chan_params *p)
{
	(void)p;
	return VMS_MSG_MAX;
}

static void vms_teardown(struct ik_channel *ch)
{
	struct vms_state *st = ch->priv;

	if (!st)
		return;
	for (int s = 0; s < 2; s++)
		if (st->ring[s])
			munmap(st->ring[s], st->ring_len);
	ik_fds_teardown(ch); /* frees st */
}

static int vms_setup(struct ik_channel *ch)
{
	struct vms_state *st = aligned_alloc(IK_CACHELINE, sizeof(*st));
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int s, p[2], sz = 0;

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	st->f.rd[0] = st->f.rd[1] = st->f.wr[0] = st->f.wr[1] = -1;
	ch->priv = st;
	for (s = 0; s < 2; s++) {
		if (pipe2(p, O_CLOEXEC) < 0) {
			int ret = -errno;

			vms_teardown(ch);
			return ret;
		}
		st->f.rd[s] = p[0];  /* side s reads this pipe */
		st->f.wr[!s] = p[1]; /* its peer splices into it */
		if (ch->p.buffer)
			fcntl(p[1], F_SETPIPE_SZ, (int)ch->p.buffer);
		if ((sz = fcntl(p[1], F_GETPIPE_SZ)) < 0)
			sz = 65536;
	}
	/* the pipe holds at most sz / page buffers, each at least a page
	 * of one message: one more for a message being read, one being
	 * written */
	st->nbufs = (unsigned)((size_t)sz / page) + 2;
	st->stride = (ch->p.size + page - 1) / page * page;
	st->ring_len = st->nbufs * st->stride;
	for (s = 0; s < 2; s++) {
		/* private: in process mode each sender has its own */
		void *r = mmap(NULL, st->ring_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (r == MAP_FAILED) {
			vms_teardown(ch);
			return -ENOMEM;
		}
		st->ring[s] = r;
	}
	snprintf(ch->granted, sizeof(ch->granted),
		 "pipe buffer %d B, %u send buffers", sz, st->nbufs);
	return 0;
}

static int vms_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		    size_t len)
{
	struct vms_state *st = ch->priv;
	unsigned i = st->side[side].next;
	struct iovec v = {st->ring[side] + (size_t)i * st->stride, len};

	memcpy(v.iov_base, buf, len);
	st->side[side].next = i + 1 == st->nbufs ? 0 : i + 1;
	while (v.iov_len) {
		ssize_t n = vmsplice(st->f.wr[side], &v, 1, SPLICE_F_GIFT);

		if (ik_likely(n > 0)) {
			v.iov_base = (char *)v.iov_base + n;
			v.iov_len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR && !ik_channel_aborted(ch))
			continue;
		if (n < 0 && errno == EINTR)
			return -ECANCELED;
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

static int vms_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		    size_t len)
{
	struct vms_state *st = ch->priv;

	return ik_read_full(ch, st->f.rd[side], buf, len);
}

const struct ik_transport_ops ik_vmsplice_ops = {
	.name = "vmsplice",
	.summary = "pipe per direction, pages spliced in with "
		   "vmsplice(SPLICE_F_GIFT), read() out (<= 1 MiB)",
	.doc = "one pipe per direction, the sender's pages spliced in with "
	       "`vmsplice(SPLICE_F_GIFT)` from a ring it reuses only once "
	       "read; at most 1 MiB",
	.max_size = vms_max,
	.setup = vms_setup,
	.open_side = ik_fds_open_side,
	/* read() takes no timeout: the controller's watch keeps the wake-up
	 * deadline (bytes in the pipe, a reader asleep), as for pipe */
	.watch = ik_fds_watch,
	.send = vms_send,
	.recv = vms_recv,
	.teardown = vms_teardown,
};
