/* SPDX-License-Identifier: MIT */
/*
 * sem: POSIX unnamed semaphores in shared memory, one per direction,
 * process-shared in process mode. The payload rides in the mailbox.
 */
#include <semaphore.h>

#include "ipc.h"

struct sem_dir {
	alignas(IK_CACHELINE) sem_t sem; /* posted by the peer of this side */
};

struct sem_state {
	struct sem_dir d[2];
};

static int sem_setup(struct ik_channel *ch)
{
	struct sem_state *st = ik_channel_shm(ch, sizeof(*st));
	int s;

	if (!st)
		return -ENOMEM;
	for (s = 0; s < 2; s++)
		if (sem_init(&st->d[s].sem, ch->p.mode == IK_MODE_PROCESS, 0) <
		    0) {
			int ret = -errno;

			if (s)
				sem_destroy(&st->d[0].sem);
			ik_shm_free(st, sizeof(*st));
			return ret;
		}
	ch->priv = st;
	return 0;
}

static int sem_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		    size_t len)
{
	struct sem_state *st = ch->priv;
	int ret = ik_mailbox_put(ch, !side, buf, len);

	if (ret)
		return ret;
	return sem_post(&st->d[!side].sem) < 0 ? -errno : 0;
}

static int sem_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		    size_t len)
{
	struct sem_state *st = ch->priv;

	while (sem_wait(&st->d[side].sem) < 0) {
		if (errno != EINTR)
			return -errno;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
	}
	return ik_mailbox_get(ch, side, buf, len);
}

static void sem_teardown(struct ik_channel *ch)
{
	struct sem_state *st = ch->priv;

	if (!st)
		return;
	sem_destroy(&st->d[0].sem);
	sem_destroy(&st->d[1].sem);
	ik_channel_mem_free(ch, st, sizeof(*st));
}

const struct ik_transport_ops ik_sem_ops = {
	.name = "sem",
	.summary = "POSIX unnamed semaphore per direction, payload in shared "
		   "memory",
	.doc = "POSIX unnamed semaphores in shared memory",
	.flags = IK_T_SIGNAL,
	.setup = sem_setup,
	.send = sem_send,
	.recv = sem_recv,
	.teardown = sem_teardown,
};
