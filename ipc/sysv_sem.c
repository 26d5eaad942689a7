/* SPDX-License-Identifier: MIT */
/*
 * sysv-sem: System V semaphores as the wake-up, one per direction in one
 * set (semop +1 to post, -1 to wait); the payload rides in the mailbox.
 * The set is made with IPC_PRIVATE (no key to guess or take first) and
 * mode 0600, and lives until IPC_RMID, which teardown (and a failed
 * setup) issues, or a reaper child (ipc/sysv_reap.c) if ipckern is
 * SIGKILLed.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#include "ipc.h"

struct ssem_state {
	int id; /* semaphore s: posted by the peer of side s */
	struct ik_sysv_reaper reaper;
};

static int ssem_setup(struct ik_channel *ch)
{
	struct ssem_state *st = malloc(sizeof(*st));
	int ret;

	if (!st)
		return -ENOMEM;
	/* a new set's values are 0 on Linux (semget(2)): nothing posted */
	st->id = semget(IPC_PRIVATE, 2, IPC_CREAT | IPC_EXCL | 0600);
	if (st->id < 0) {
		int ret = -errno;

		free(st);
		return ret;
	}
	ret = ik_sysv_reaper_start(&st->reaper, IK_SYSV_SEM, &st->id, 1);
	if (ret) {
		semctl(st->id, 0, IPC_RMID);
		free(st);
		return ret;
	}
	ch->priv = st;
	return 0;
}

/* Only the parent's end of the reaper's pipe may keep it waiting. */
static int ssem_open_side(struct ik_channel *ch, enum ik_side side)
{
	struct ssem_state *st = ch->priv;

	(void)side;
	if (ch->p.mode == IK_MODE_PROCESS)
		ik_close(&st->reaper.fd);
	return 0;
}

/* One semop on semaphore s; EINTR retried unless aborted. */
static int ssem_op(struct ik_channel *ch, int id, unsigned short s, short op)
{
	struct sembuf b = {.sem_num = s, .sem_op = op};

	while (semop(id, &b, 1) < 0) {
		if (errno != EINTR)
			return errno == EIDRM ? -EPIPE : -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	return 0;
}

static int ssem_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		     size_t len)
{
	struct ssem_state *st = ch->priv;
	int ret = ik_mailbox_put(ch, !side, buf, len);

	return ret ? ret : ssem_op(ch, st->id, (unsigned short)!side, 1);
}

/*
 * The wait, with the wake-up deadline semtimedop takes anyway: one that
 * runs out with the semaphore already posted is a lost wake-up, counted,
 * and the wait retried (it then takes the post at once).
 */
static int ssem_wait(struct ik_channel *ch, int id, unsigned short s)
{
	struct sembuf b = {.sem_num = s, .sem_op = -1};

	while (semtimedop(id, &b, 1, ik_wake_deadline(ch)) < 0) {
		if (errno == EAGAIN) {
			if (semctl(id, s, GETVAL) > 0)
				ik_channel_count_lost(ch);
			continue;
		}
		if (errno != EINTR)
			return errno == EIDRM ? -EPIPE : -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	return 0;
}

static int ssem_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		     size_t len)
{
	struct ssem_state *st = ch->priv;
	int ret = ssem_wait(ch, st->id, (unsigned short)side);

	return ret ? ret : ik_mailbox_get(ch, side, buf, len);
}

static void ssem_teardown(struct ik_channel *ch)
{
	struct ssem_state *st = ch->priv;

	if (!st)
		return;
	semctl(st->id, 0, IPC_RMID);
	ik_sysv_reaper_stop(&st->reaper);
	free(st);
	ch->priv = NULL;
}

const struct ik_transport_ops ik_sysv_sem_ops = {
	.name = "sysv-sem",
	.summary = "SysV semaphore per direction (one IPC_PRIVATE set, 0600), "
		   "payload in shared memory",
	.doc = "SysV semaphores (one `IPC_PRIVATE` set, mode 0600, "
	       "`IPC_RMID` at teardown)",
	.flags = IK_T_SIGNAL,
	.setup = ssem_setup,
	.open_side = ssem_open_side,
	.send = ssem_send,
	.recv = ssem_recv,
	.teardown = ssem_teardown,
};
