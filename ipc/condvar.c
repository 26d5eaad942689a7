/* SPDX-License-Identifier: MIT */
/*
 * condvar: the classic locked hand-off. A pthread mutex guards a one-slot
 * mailbox per direction and a condition variable announces it is full;
 * both are process-shared in process mode. This is what a thread pool's
 * work queue costs before any of its own logic.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ipc.h"

struct cv_dir {
	alignas(IK_CACHELINE) pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned queued; /* messages put for this direction's reader */
};

struct cv_state {
	struct cv_dir d[2]; /* d[s]: read by side s */
};

static int cv_setup(struct ik_channel *ch)
{
	struct cv_state *st = ik_channel_shm(ch, sizeof(*st));
	int pshared = ch->p.mode == IK_MODE_PROCESS ? PTHREAD_PROCESS_SHARED
						    : PTHREAD_PROCESS_PRIVATE;
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	int s;

	if (!st)
		return -ENOMEM;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, pshared);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, pshared);
	/* the wake-up deadline counts on the clock no one sets */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (s = 0; s < 2; s++) {
		pthread_mutex_init(&st->d[s].lock, &ma);
		pthread_cond_init(&st->d[s].cond, &ca);
	}
	pthread_mutexattr_destroy(&ma);
	pthread_condattr_destroy(&ca);
	ch->priv = st;
	return 0;
}

static int cv_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		   size_t len)
{
	struct cv_dir *d = &((struct cv_state *)ch->priv)->d[!side];
	int ret;

	/* the copy goes in first: a full ring must not be waited on while
	 * holding the lock the reader needs to empty it */
	ret = ik_mailbox_put(ch, !side, buf, len);
	if (ret)
		return ret;
	pthread_mutex_lock(&d->lock);
	d->queued++;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* The test hook's send: queued, the condition never signalled. */
static int cv_send_nowake(struct ik_channel *ch, enum ik_side side,
			  const void *buf, size_t len)
{
	struct cv_dir *d = &((struct cv_state *)ch->priv)->d[!side];
	int ret = ik_mailbox_put(ch, !side, buf, len);

	if (ret)
		return ret;
	pthread_mutex_lock(&d->lock);
	d->queued++;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* now + the relative wake-up deadline, on CLOCK_MONOTONIC (the vDSO
 * reads it: no syscall, and only on the way to sleep) */
static void cv_abs(struct timespec *at, const struct timespec *rel)
{
	clock_gettime(CLOCK_MONOTONIC, at);
	at->tv_sec += rel->tv_sec;
	at->tv_nsec += rel->tv_nsec;
	if (at->tv_nsec >= (long)IK_NS_PER_SEC) {
		at->tv_sec++;
		at->tv_nsec -= (long)IK_NS_PER_SEC;
	}
}

/*
 * The wait has the wake-up deadline pthread_cond_timedwait takes anyway
 * (on CLOCK_MONOTONIC, set at setup):
 * run out with a message queued (so never signalled), it is a lost
 * wake-up, counted, and the wait looks again.
 */
static int cv_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		   size_t len)
{
	struct cv_dir *d = &((struct cv_state *)ch->priv)->d[side];
	const struct timespec *dl = ik_wake_deadline(ch);
	struct timespec at;
	int ret;

	pthread_mutex_lock(&d->lock);
	while (!d->queued && !ik_channel_aborted(ch)) {
		if (!dl) {
			pthread_cond_wait(&d->cond, &d->lock);
			continue;
		}
		cv_abs(&at, dl);
		if (pthread_cond_timedwait(&d->cond, &d->lock, &at) ==
			    ETIMEDOUT &&
		    d->queued)
			ik_channel_count_lost(ch); /* posted, never signalled */
	}
	ret = d->queued ? ik_mailbox_get(ch, side, buf, len) : -ECANCELED;
	d->queued -= d->queued > 0;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void cv_wake_all(struct ik_channel *ch)
{
	struct cv_state *st = ch->priv;
	int s;

	for (s = 0; s < 2; s++) {
		pthread_mutex_lock(&st->d[s].lock);
		pthread_cond_broadcast(&st->d[s].cond);
		pthread_mutex_unlock(&st->d[s].lock);
	}
}

/*
 * No pthread_cond_destroy: glibc's waits for every waiter to leave, and
 * a waiter SIGKILLed after a failed run never does. Neither object holds
 * anything outside this mapping, so unmapping it frees them.
 */
static void cv_teardown(struct ik_channel *ch)
{
	ik_channel_mem_free(ch, ch->priv, sizeof(struct cv_state));
}

const struct ik_transport_ops ik_condvar_ops = {
	.name = "condvar",
	.summary = "pthread mutex + condition variable, one-slot mailbox",
	.doc = "pthread mutex + condition variable (process-shared in process "
	       "mode)",
	.flags = IK_T_SIGNAL,
	.setup = cv_setup,
	.send = cv_send,
	.recv = cv_recv,
	.send_nowake = cv_send_nowake,
	.wake_all = cv_wake_all,
	.teardown = cv_teardown,
};
