/* SPDX-License-Identifier: MIT */
/*
 * vm-rw: the sender writes the message straight into the receiver's
 * memory with process_vm_writev(), then bumps a futex word and wakes it.
 * Each side's inbox is private memory (a ring of 2..64 slots), mapped
 * before the split, so in process mode each peer has its own copy at
 * the same address and the peer can name it; only the ring's counters
 * and futex words are shared. The receiver touches its inbox before the
 * start gate, so no copy-on-write break lands in the timed loop.
 * Writing into another process takes ptrace access to it (same uid, and
 * yama's ptrace_scope: at 1 a peer must allow its sibling with
 * PR_SET_PTRACER, which each peer does for its own; 2 and 3 need
 * CAP_SYS_PTRACE or forbid it). Thread mode writes into its own process,
 * which is always allowed: the same syscall, the same page pinning.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ipc.h"

#define RING_SLOTS_MAX 64
#define RING_BYTES_MAX (16u << 20)
#define YAMA_SCOPE     "/proc/sys/kernel/yama/ptrace_scope"

/* One direction's counters (shared); head's line is the writer's. */
struct vr_dir {
	alignas(IK_CACHELINE) _Atomic uint32_t head; /* messages put */
	_Atomic uint32_t wwait;			     /* writer sleeps */
	alignas(IK_CACHELINE) _Atomic uint32_t tail; /* messages taken */
	_Atomic uint32_t rwait;			     /* reader sleeps */
	alignas(IK_CACHELINE) _Atomic pid_t pid;     /* the reader's */
};

struct vr_shared {
	struct vr_dir d[2]; /* d[s]: read by side s */
};

struct vr_state {
	struct vr_shared *sh; /* MAP_SHARED */
	unsigned char *inbox; /* private: two rings, side s's is s */
	size_t inbox_len, stride;
	uint32_t nslots;
	bool shared;
};

static unsigned char *slot(const struct vr_state *st, enum ik_side s,
			   uint32_t i)
{
	return st->inbox +
	       ((size_t)s * st->nslots + (i & (st->nslots - 1))) * st->stride;
}

static void vr_teardown(struct ik_channel *ch)
{
	struct vr_state *st = ch->priv;

	if (!st)
		return;
	ik_channel_mem_free(ch, st->sh, sizeof(*st->sh));
	if (st->inbox)
		munmap(st->inbox, st->inbox_len);
	free(st);
	ch->priv = NULL;
}

static const char *vr_unavailable(const struct ik_chan_params *p);

static int vr_setup(struct ik_channel *ch)
{
	struct vr_state *st = calloc(1, sizeof(*st));
	uint32_t n = RING_SLOTS_MAX;
	void *p;

	if (vr_unavailable(&ch->p)) { /* said by --list and setup_hint */
		free(st);
		return -EPERM;
	}
	if (!st)
		return -ENOMEM;
	ch->priv = st;
	st->shared = ch->p.mode == IK_MODE_PROCESS;
	st->stride =
		(ch->p.size + IK_CACHELINE - 1) / IK_CACHELINE * IK_CACHELINE;
	while (n > 2 && (size_t)n * st->stride > RING_BYTES_MAX)
		n /= 2;
	st->nslots = n;
	st->inbox_len = 2 * (size_t)n * st->stride;
	st->sh = ik_channel_shm(ch, sizeof(*st->sh));
	p = mmap(NULL, st->inbox_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!st->sh || p == MAP_FAILED) {
		vr_teardown(ch);
		return -ENOMEM;
	}
	st->inbox = p;
	snprintf(ch->granted, sizeof(ch->granted), "%u slots of %zu B",
		 st->nslots, st->stride);
	return 0;
}

/* Before the start gate: own inbox touched, own pid posted, and (yama
 * scope 1) the sibling allowed in. */
static int vr_open_side(struct ik_channel *ch, enum ik_side side)
{
	struct vr_state *st = ch->priv;

	memset(slot(st, side, 0), 0, (size_t)st->nslots * st->stride);
	/* EINVAL where yama is absent: nothing to allow then */
	if (st->shared)
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	atomic_store_explicit(&st->sh->d[side].pid, getpid(),
			      memory_order_release);
	return 0;
}

static inline int vr_put(struct ik_channel *ch, enum ik_side side,
			 const void *buf, size_t len, bool wake)
{
	struct vr_state *st = ch->priv;
	struct vr_dir *d = &st->sh->d[!side];
	uint32_t h = atomic_load_explicit(&d->head, memory_order_relaxed), t;
	pid_t pid = atomic_load_explicit(&d->pid, memory_order_acquire);
	struct iovec local = {(void *)buf, len};
	struct iovec remote = {slot(st, !side, h), len};
	ssize_t n;
	int ret;

	while (h - (t = atomic_load_explicit(&d->tail, memory_order_acquire)) >=
	       st->nslots)
		if ((ret = ik_futex_sleep(ch, &d->tail, t, &d->wwait,
					  st->shared)))
			return ret;
	/* all at once or not at all: the inbox is touched and ours */
	while ((n = process_vm_writev(pid, &local, 1, &remote, 1, 0)) < 0) {
		if (errno != EINTR)
			return errno == ESRCH ? -EPIPE : -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	if ((size_t)n != len)
		return -EIO;
	/* release pairs with the reader's acquire of head */
	atomic_store_explicit(&d->head, h + 1, memory_order_release);
	if (wake)
		ik_futex_wake_flagged(&d->head, &d->rwait, st->shared);
	return 0;
}

static int vr_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		   size_t len)
{
	return vr_put(ch, side, buf, len, true);
}

/* The test hook's send: the inbox written, head moved, nobody woken. */
static int vr_send_nowake(struct ik_channel *ch, enum ik_side side,
			  const void *buf, size_t len)
{
	return vr_put(ch, side, buf, len, false);
}

static int vr_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		   size_t len)
{
	struct vr_state *st = ch->priv;
	struct vr_dir *d = &st->sh->d[side];
	uint32_t t = atomic_load_explicit(&d->tail, memory_order_relaxed);
	int ret;

	while (atomic_load_explicit(&d->head, memory_order_acquire) == t)
		if ((ret = ik_futex_sleep(ch, &d->head, t, &d->rwait,
					  st->shared)))
			return ret;
	memcpy(buf, slot(st, side, t), len);
	atomic_store_explicit(&d->tail, t + 1, memory_order_release);
	ik_futex_wake_flagged(&d->tail, &d->wwait, st->shared);
	return 0;
}

/* Process mode needs ptrace access to the sibling; yama may forbid it. */
static const char *vr_unavailable(const struct ik_chan_params *p)
{
	FILE *f;
	int scope = 0;

	if (p->mode != IK_MODE_PROCESS)
		return NULL; /* its own process: always allowed */
	f = fopen(YAMA_SCOPE, "r");
	if (!f)
		return NULL; /* no yama: same uid is enough */
	if (fscanf(f, "%d", &scope) != 1)
		scope = 0;
	fclose(f);
	if (scope >= 3)
		return "kernel.yama.ptrace_scope is 3: no process may write "
		       "into another";
	if (scope == 2 && geteuid() != 0)
		return "kernel.yama.ptrace_scope is 2: needs CAP_SYS_PTRACE";
	return NULL;
}

const struct ik_transport_ops ik_vm_rw_ops = {
	.name = "vm-rw",
	.summary = "process_vm_writev into the peer's private inbox, futex "
		   "wake-up (thread mode: into its own process)",
	.doc = "`process_vm_writev` straight into the peer's private inbox, "
	       "then a futex wake-up; process mode needs ptrace access "
	       "(yama `ptrace_scope` below 2); thread mode writes into its "
	       "own process",
	.setup_hint = "process_vm_writev needs ptrace access to the peer "
		      "(same uid; kernel.yama.ptrace_scope below 2, or "
		      "CAP_SYS_PTRACE)",
	.setup = vr_setup,
	.open_side = vr_open_side,
	.send = vr_send,
	.recv = vr_recv,
	.send_nowake = vr_send_nowake,
	.teardown = vr_teardown,
	.unavailable = vr_unavailable,
};
