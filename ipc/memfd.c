/* SPDX-License-Identifier: MIT */
/*
 * memfd: a ring per direction in a memfd, as a compositor or an audio
 * server shares a buffer with a client. The memfd is made with
 * MFD_ALLOW_SEALING and sealed against shrinking and growing (and further
 * sealing), so a peer that maps it can trust its size: nobody can
 * truncate it under the reader and fault it with SIGBUS. Process mode
 * does what real peers must: side A makes, seals and maps it in its own
 * process and hands the fd to side B once, with SCM_RIGHTS over a
 * socketpair; B checks the seals and the size before it maps. Thread
 * mode maps it once in setup. The fd is closed as soon as it is mapped.
 * Each ring has 2..64 slots (a power of two, at most ~16 MiB); a reader
 * with nothing to take and a writer with no room sleep on a futex in the
 * memfd (shared in process mode), woken only when the flag says one
 * sleeps.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc.h"

#define RING_SLOTS_MAX 64
#define RING_BYTES_MAX (16u << 20)
#define SEALS	       (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* One direction; head's line is the writer's, tail's the reader's. */
struct mr_dir {
	alignas(IK_CACHELINE) _Atomic uint32_t head; /* messages put */
	_Atomic uint32_t wwait;			     /* writer sleeps */
	alignas(IK_CACHELINE) _Atomic uint32_t tail; /* messages taken */
	_Atomic uint32_t rwait;			     /* reader sleeps */
	alignas(IK_CACHELINE) unsigned char slots[];
};

struct mr_state {
	int sv[2];	     /* process mode: the fd goes sv[0] -> sv[1] */
	unsigned char *ring; /* this process's mapping, or NULL */
	size_t len, stride;
	uint32_t nslots;
	bool shared;
};

static size_t dir_len(const struct mr_state *st)
{
	return sizeof(struct mr_dir) + st->nslots * st->stride;
}

/* Direction d: the ring side d reads. */
static struct mr_dir *mr_dir(const struct mr_state *st, enum ik_side d)
{
	return (struct mr_dir *)(st->ring + (size_t)d * dir_len(st));
}

/* A sealed memfd of st->len bytes, or -errno. */
static int make_memfd(const struct mr_state *st)
{
	int fd = memfd_create("ipckern-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)st->len) < 0 ||
	    fcntl(fd, F_ADD_SEALS, SEALS) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* Map fd (and close it); 0 or -errno. */
static int map_ring(struct mr_state *st, int fd)
{
	void *p =
		mmap(NULL, st->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int ret = p == MAP_FAILED ? -errno : 0;

	close(fd);
	if (!ret)
		st->ring = p;
	return ret;
}

static void mr_teardown(struct ik_channel *ch)
{
	struct mr_state *st = ch->priv;

	if (!st)
		return;
	if (st->ring)
		munmap(st->ring, st->len);
	ik_close(&st->sv[0]);
	ik_close(&st->sv[1]);
	free(st);
	ch->priv = NULL;
}

static int mr_setup(struct ik_channel *ch)
{
	struct mr_state *st = calloc(1, sizeof(*st));
	uint32_t n = RING_SLOTS_MAX;
	int ret = 0, fd;

	if (!st)
		return -ENOMEM;
	st->sv[0] = st->sv[1] = -1;
	ch->priv = st;
	st->shared = ch->p.mode == IK_MODE_PROCESS;
	st->stride =
		(ch->p.size + IK_CACHELINE - 1) / IK_CACHELINE * IK_CACHELINE;
	while (n > 2 && (size_t)n * st->stride > RING_BYTES_MAX)
		n /= 2;
	st->nslots = n;
	st->len = 2 * dir_len(st);
	if (st->shared) {
		/* the fd travels in open_side, A to B */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st->sv) <
		    0)
			ret = -errno;
	} else if ((fd = make_memfd(st)) < 0) {
		ret = fd;
	} else {
		ret = map_ring(st, fd);
	}
	if (ret) {
		mr_teardown(ch);
		return ret;
	}
	snprintf(ch->granted, sizeof(ch->granted), "%u slots of %zu B",
		 st->nslots, st->stride);
	return 0;
}

/* What B checks before it maps: sealed as promised, the size agreed. */
static int check_memfd(const struct mr_state *st, int fd)
{
	struct stat sb;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return -errno;
	if ((seals & SEALS) != SEALS || fstat(fd, &sb) < 0 ||
	    (size_t)sb.st_size != st->len)
		return -EBADMSG;
	return 0;
}

static int mr_open_side(struct ik_channel *ch, enum ik_side side)
{
	struct mr_state *st = ch->priv;
	int fd, ret;

	if (!st->shared)
		return 0;
	ik_close(&st->sv[!side]); /* so that a peer gone shows as EOF */
	if (side == IK_SIDE_A) {
		if ((fd = make_memfd(st)) < 0)
			return fd;
		ret = ik_fd_send(st->sv[0], fd);
		if (ret) {
			close(fd);
			return ret;
		}
		ret = map_ring(st, fd);
	} else {
		if ((fd = ik_fd_recv(st->sv[1])) < 0)
			return fd;
		if ((ret = check_memfd(st, fd))) {
			close(fd);
			return ret;
		}
		ret = map_ring(st, fd);
	}
	ik_close(&st->sv[side]);
	return ret;
}

static inline int mr_put(struct ik_channel *ch, enum ik_side side,
			 const void *buf, size_t len, bool wake)
{
	struct mr_state *st = ch->priv;
	struct mr_dir *d = mr_dir(st, !side);
	uint32_t h = atomic_load_explicit(&d->head, memory_order_relaxed), t;
	int ret;

	/* acquire: the reader's copy out of the slot is done */
	while (h - (t = atomic_load_explicit(&d->tail, memory_order_acquire)) >=
	       st->nslots)
		if ((ret = ik_futex_sleep(ch, &d->tail, t, &d->wwait,
					  st->shared)))
			return ret;
	memcpy(d->slots + (h & (st->nslots - 1)) * st->stride, buf, len);
	/* release pairs with the reader's acquire of head */
	atomic_store_explicit(&d->head, h + 1, memory_order_release);
	if (wake)
		ik_futex_wake_flagged(&d->head, &d->rwait, st->shared);
	return 0;
}

static int mr_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		   size_t len)
{
	return mr_put(ch, side, buf, len, true);
}

/* The test hook's send: the slot filled, head moved, nobody woken. */
static int mr_send_nowake(struct ik_channel *ch, enum ik_side side,
			  const void *buf, size_t len)
{
	return mr_put(ch, side, buf, len, false);
}

static int mr_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		   size_t len)
{
	struct mr_state *st = ch->priv;
	struct mr_dir *d = mr_dir(st, side);
	uint32_t t = atomic_load_explicit(&d->tail, memory_order_relaxed);
	int ret;

	while (atomic_load_explicit(&d->head, memory_order_acquire) == t)
		if ((ret = ik_futex_sleep(ch, &d->head, t, &d->rwait,
					  st->shared)))
			return ret;
	memcpy(buf, d->slots + (t & (st->nslots - 1)) * st->stride, len);
	/* release: the slot is free once tail says so */
	atomic_store_explicit(&d->tail, t + 1, memory_order_release);
	ik_futex_wake_flagged(&d->tail, &d->wwait, st->shared);
	return 0;
}

const struct ik_transport_ops ik_memfd_ops = {
	.name = "memfd",
	.summary = "ring per direction in a sealed memfd (SCM_RIGHTS once in "
		   "process mode), futex wake-ups",
	.doc = "a ring per direction in a memfd sealed against shrink and "
	       "grow, handed over once with `SCM_RIGHTS` in process mode; "
	       "futex wake-ups",
	.setup = mr_setup,
	.open_side = mr_open_side,
	.send = mr_send,
	.recv = mr_recv,
	.send_nowake = mr_send_nowake,
	.teardown = mr_teardown,
};
