/* SPDX-License-Identifier: MIT */
/*
 * futex: the bare kernel wait/wake. Each direction has a word the
 * receiver sleeps on; the sender bumps it and always calls FUTEX_WAKE,
 * so every hop pays the syscall pair a blocking hand-off costs. Private
 * futexes between threads, shared ones between processes.
 *
 * The wait has no timeout: a timed FUTEX_WAIT arms and cancels an
 * hrtimer every sleep, ~290 ns a sleep here (a round trip of two
 * threads on one vCPU: 6878 ns timed, 6297 ns not; docs/harness-cost.md).
 * The controller's watch keeps the wake-up deadline instead: a side
 * asleep with its word bumped past what it consumed, consuming nothing
 * for the whole deadline, lost its wake-up; counted, and woken.
 */
#include "ipc.h"

/* word: bumped by the peer of side s, slept on by side s */
struct futex_word {
	alignas(IK_CACHELINE) _Atomic uint32_t word;
};

/* wake-ups side s has consumed; its own line, written by s alone (and
 * read by the controller's watch) */
struct futex_seen {
	alignas(IK_CACHELINE) _Atomic uint32_t seen;
};

struct futex_state {
	struct futex_word w[2];
	struct futex_seen c[2];
	bool shared;
};

static int futex_setup(struct ik_channel *ch)
{
	struct futex_state *st = ik_channel_shm(ch, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->shared = ch->p.mode == IK_MODE_PROCESS;
	ch->priv = st;
	return 0;
}

static int futex_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		      size_t len)
{
	struct futex_state *st = ch->priv;
	int ret = ik_mailbox_put(ch, !side, buf, len);

	if (ret)
		return ret;
	atomic_fetch_add_explicit(&st->w[!side].word, 1, memory_order_release);
	ret = ik_futex_wake(&st->w[!side].word, 1, st->shared);
	return ret < 0 ? ret : 0;
}

/* The test hook's send: the word bumped, FUTEX_WAKE never called. */
static int futex_send_nowake(struct ik_channel *ch, enum ik_side side,
			     const void *buf, size_t len)
{
	struct futex_state *st = ch->priv;
	int ret = ik_mailbox_put(ch, !side, buf, len);

	if (!ret)
		atomic_fetch_add_explicit(&st->w[!side].word, 1,
					  memory_order_release);
	return ret;
}

static int futex_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		      size_t len)
{
	struct futex_state *st = ch->priv;
	uint32_t seen =
		atomic_load_explicit(&st->c[side].seen, memory_order_relaxed);
	int ret;

	while (atomic_load_explicit(&st->w[side].word, memory_order_acquire) ==
	       seen) {
		ret = ik_futex_wait_timed(&st->w[side].word, seen, st->shared,
					  NULL);
		if (ret == -EINTR && ik_channel_aborted(ch))
			return -ECANCELED;
		if (ret && ret != -EINTR)
			return ret;
	}
	atomic_store_explicit(&st->c[side].seen, seen + 1,
			      memory_order_relaxed);
	return ik_mailbox_get(ch, side, buf, len);
}

/*
 * Stuck means: side s's word is past what it consumed, it sleeps, and
 * it consumed nothing since the watch first saw it so. A sender between
 * its bump and its FUTEX_WAKE, or a reader on its way out, moves on
 * within a tick; only a wake-up that never came holds it for the whole
 * deadline.
 */
static void futex_watch(struct ik_channel *ch)
{
	struct futex_state *st = ch->priv;
	uint64_t now = ik_mono_ns();
	int s;

	for (s = 0; s < 2; s++) {
		uint32_t seen = atomic_load_explicit(&st->c[s].seen,
						     memory_order_relaxed);
		bool looks =
			atomic_load_explicit(&st->w[s].word,
					     memory_order_acquire) != seen &&
			ik_channel_peer_sleeps(ch, s);

		if (!ik_watch_stuck(ch, s, looks, seen, now))
			continue;
		ik_channel_count_lost(ch);
		ik_futex_wake(&st->w[s].word, 1, st->shared);
	}
}

static void futex_teardown(struct ik_channel *ch)
{
	ik_channel_mem_free(ch, ch->priv, sizeof(struct futex_state));
}

const struct ik_transport_ops ik_futex_ops = {
	.name = "futex",
	.summary = "FUTEX_WAIT/FUTEX_WAKE on a word per direction",
	.doc = "FUTEX_WAIT/FUTEX_WAKE on a word per direction",
	.flags = IK_T_SIGNAL,
	.setup = futex_setup,
	.send = futex_send,
	.recv = futex_recv,
	.teardown = futex_teardown,
	.watch = futex_watch,
	.send_nowake = futex_send_nowake,
};
