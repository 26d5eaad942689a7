/* SPDX-License-Identifier: MIT */
/*
 * mutex, mutex-pi: the wake-up is a pthread mutex changing hands, and
 * nothing else: no condition variable, no futex of our own. A mutex may
 * only be unlocked by its owner, so the peers pass a baton round three
 * mutexes (the scheme of a lock-step hand-off): baton k is m[k % 3].
 * Before baton k its sender holds m[k % 3] and the receiver holds
 * m[(k + 1) % 3]; the third is free. The sender takes the free one (never
 * contended) and unlocks m[k % 3]; the receiver, blocked locking m[k % 3],
 * gets it and lets it go again, and so the roles hold for k + 1 with the
 * two sides swapped. What one hop times is therefore one contended
 * unlock -> lock hand-off (FUTEX_WAKE and the waiter's return from
 * FUTEX_WAIT; with PTHREAD_PRIO_INHERIT, FUTEX_UNLOCK_PI handing the lock
 * to the waiter and its return from FUTEX_LOCK_PI), plus one uncontended
 * trylock and one uncontended unlock; the payload rides in the mailbox.
 * Batons strictly alternate, A first: a stream has the reader pass one
 * back for each message (the hand-off allows no queue), so a stream
 * measures the same hand-off both ways.
 * Process mode: process-shared and robust, so a dead peer shows as
 * EOWNERDEAD rather than a hang (-pi: robust in thread mode too). A blocked
 * lock looks at the abort flag every WAIT_SLICE_NS (pthread_mutex_timedlock),
 * after a trylock first, so the clock is read only by a waiter that is about to
 * sleep anyway.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ipc.h"

#define WAIT_SLICE_NS 50000000L /* abort checked this often while blocked */

struct mtx_lock {
	alignas(IK_CACHELINE) pthread_mutex_t m;
};

struct mtx_side {
	alignas(IK_CACHELINE) uint64_t k; /* batons this side has seen */
};

struct mtx_state {
	struct mtx_lock l[3];
	struct mtx_side side[2]; /* each written by its own side only */
};

static int mtx_setup_common(struct ik_channel *ch, bool pi)
{
	struct mtx_state *st = ik_channel_shm(ch, sizeof(*st));
	bool proc = ch->p.mode == IK_MODE_PROCESS;
	pthread_mutexattr_t ma;
	int ret = 0, i;

	if (!st)
		return -ENOMEM;
	pthread_mutexattr_init(&ma);
	if (proc)
		pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	/* glibc lists a PI mutex on its owner's robust list either way, so
	 * a thread ending with one held marks it owner-died, which a lock
	 * of a non-robust one asserts on: PI ones are always robust */
	if (proc || pi)
		pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (pi)
		ret = pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	for (i = 0; i < 3 && !ret; i++)
		ret = pthread_mutex_init(&st->l[i].m, &ma);
	pthread_mutexattr_destroy(&ma);
	if (ret) { /* ENOTSUP: no PI futexes here */
		ik_shm_free(st, sizeof(*st));
		return ret == ENOTSUP ? -EOPNOTSUPP : -ret;
	}
	ch->priv = st;
	return 0;
}

/* A lock's result as ours: a dead owner (robust) is a peer gone. */
static int lock_result(int r)
{
	if (r == EOWNERDEAD || r == ENOTRECOVERABLE)
		return -EPIPE;
	return -r;
}

/*
 * Lock m, giving up with -ECANCELED once the channel is aborted. With a
 * wake-up deadline, *passed (the peer's baton count, above k once it let
 * m go) is looked at when a slice runs out past the deadline: the baton
 * passed and the lock still not ours is a lost wake-up, counted (the next
 * timedlock takes it). The clock is the one read for the slice anyway.
 */
static int mtx_lock(struct ik_channel *ch, pthread_mutex_t *m,
		    const uint64_t *passed, uint64_t k)
{
	struct timespec t;
	int64_t left = (int64_t)ch->p.wake_deadline_ns;
	bool counted = !left;
	int r = pthread_mutex_trylock(m);

	while (r == EBUSY || r == ETIMEDOUT) {
		if (ik_channel_aborted(ch))
			return -ECANCELED;
		if (r == ETIMEDOUT && !counted &&
		    (left -= WAIT_SLICE_NS) <= 0 &&
		    __atomic_load_n(passed, __ATOMIC_ACQUIRE) > k) {
			ik_channel_count_lost(ch);
			counted = true;
		}
		/* timedlock's clock is CLOCK_REALTIME (the one PI takes) */
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += WAIT_SLICE_NS;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		r = pthread_mutex_timedlock(m, &t);
	}
	return lock_result(r);
}

/* Before the start gate: A holds m[0] (baton 0 is its), B holds m[1]. */
static int mtx_open_side(struct ik_channel *ch, enum ik_side side)
{
	struct mtx_state *st = ch->priv;

	st->side[side].k = 0;
	return lock_result(pthread_mutex_lock(&st->l[side].m));
}

/* Pass baton k: take the free mutex, let the waited-on one go. */
static int baton_pass(struct mtx_state *st, enum ik_side side)
{
	uint64_t k = st->side[side].k;
	int r;

	if ((k & 1) != (uint64_t)side)
		return -EPROTO; /* not this side's turn to send */
	r = pthread_mutex_trylock(&st->l[(k + 2) % 3].m);
	if (r)
		return r == EBUSY ? -EPROTO : lock_result(r);
	r = pthread_mutex_unlock(&st->l[k % 3].m);
	if (r)
		return -r;
	__atomic_store_n(&st->side[side].k, k + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Wait for baton k: its mutex comes free when the sender passes it. */
static int baton_wait(struct ik_channel *ch, struct mtx_state *st,
		      enum ik_side side)
{
	uint64_t k = st->side[side].k;
	pthread_mutex_t *m = &st->l[k % 3].m;
	int ret;

	if ((k & 1) == (uint64_t)side)
		return -EPROTO; /* this side's turn to send, not to wait */
	if ((ret = mtx_lock(ch, m, &st->side[!side].k, k)))
		return ret;
	__atomic_store_n(&st->side[side].k, k + 1, __ATOMIC_RELEASE);
	return -pthread_mutex_unlock(m);
}

static int mtx_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		    size_t len)
{
	int ret = ik_mailbox_put(ch, !side, buf, len);

	return ret ? ret : baton_pass(ch->priv, side);
}

static int mtx_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		    size_t len)
{
	int ret = baton_wait(ch, ch->priv, side);

	return ret ? ret : ik_mailbox_get(ch, side, buf, len);
}

/* Stream: the reader passes a baton back for each message taken. */
static int mtx_stream_send(struct ik_channel *ch, enum ik_side side,
			   const void *buf, size_t len)
{
	struct mtx_state *st = ch->priv;
	int ret;

	if (st->side[side].k && (ret = baton_wait(ch, st, side)))
		return ret;
	return mtx_send(ch, side, buf, len);
}

static int mtx_stream_recv(struct ik_channel *ch, enum ik_side side, void *buf,
			   size_t len)
{
	int ret = mtx_recv(ch, side, buf, len);

	return ret ? ret : baton_pass(ch->priv, side);
}

static int mtx_setup_as(struct ik_channel *ch, bool pi)
{
	int ret = mtx_setup_common(ch, pi);

	if (!ret && ch->p.stream) {
		ch->send = mtx_stream_send;
		ch->recv = mtx_stream_recv;
	}
	return ret;
}

static int mtx_setup(struct ik_channel *ch)
{
	return mtx_setup_as(ch, false);
}

static int mtx_pi_setup(struct ik_channel *ch)
{
	return mtx_setup_as(ch, true);
}

/*
 * No pthread_mutex_destroy: the peers end holding their mutexes, and
 * destroying a locked one is undefined. None holds anything outside this
 * mapping (a robust one is on its owner's list only while it lives).
 */
static void mtx_teardown(struct ik_channel *ch)
{
	ik_channel_mem_free(ch, ch->priv, sizeof(struct mtx_state));
}

const struct ik_transport_ops ik_mutex_ops = {
	.name = "mutex",
	.summary = "pthread mutex hand-off, a baton round three mutexes, "
		   "payload in shared memory",
	.doc = "pthread mutex hand-off: a baton passed round three mutexes "
	       "(unlock wakes the peer blocked in lock; process-shared and "
	       "robust in process mode), plain / `PTHREAD_PRIO_INHERIT`",
	.flags = IK_T_SIGNAL,
	.setup = mtx_setup,
	.open_side = mtx_open_side,
	.send = mtx_send,
	.recv = mtx_recv,
	.teardown = mtx_teardown,
};

const struct ik_transport_ops ik_mutex_pi_ops = {
	.name = "mutex-pi",
	.summary = "the same with PTHREAD_PRIO_INHERIT mutexes "
		   "(FUTEX_LOCK_PI/UNLOCK_PI)",
	.setup_hint = "priority-inheritance futexes unsupported here",
	.flags = IK_T_SIGNAL,
	.setup = mtx_pi_setup,
	.open_side = mtx_open_side,
	.send = mtx_send,
	.recv = mtx_recv,
	.teardown = mtx_teardown,
};
