/* SPDX-License-Identifier: MIT */
/*
 * Wait strategies (--wait): their names, whether this machine can run
 * each (CPUID, the kernel's umwait control, a futex_waitv call, an
 * io_uring probe), --spin-budget's syntax, and the sleeping strategies'
 * out-of-line halves: futex_waitv, io_uring FUTEX_WAIT/WAKE and io_uring
 * multishot poll on an eventfd. The loops that use them are in the
 * transports that take every strategy (IK_T_WAIT: spsc, line), each
 * specialised per strategy through ik_wait_sleep/ik_wait_wake, which
 * fold to one call for a constant strategy.
 *
 * No instruction a strategy needs is executed unless its CPUID bit is
 * set: setup refuses the strategy first (ik_waits_setup).
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "ipc.h"

/* Linux 6.7's io_uring futex opcodes and futex2 flags, which liburing
 * 2.3's and older uapi headers lack: numbers from include/uapi. */
#define OP_FUTEX_WAIT 51
#define OP_FUTEX_WAKE 52
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#endif
#ifndef FUTEX2_PRIVATE
#define FUTEX2_PRIVATE 128
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define BITSET_ANY 0xffffffffu

#define TAG_WAIT 1 /* our FUTEX_WAIT's completion */
#define TAG_WAKE 2 /* a failed FUTEX_WAKE (success posts nothing) */
#define TAG_POLL 3 /* the eventfd's multishot poll */

static const char *const names[IK_NWAITS] = {
	[IK_WAIT_SPIN] = "spin",
	[IK_WAIT_FUTEX] = "futex",
	[IK_WAIT_HYBRID] = "hybrid",
	[IK_WAIT_YIELD] = "yield",
	[IK_WAIT_FUTEX_WAITV] = "futex-waitv",
	[IK_WAIT_URING_FUTEX] = "uring-futex",
	[IK_WAIT_URING_POLL] = "uring-poll",
	[IK_WAIT_UMWAIT] = "umwait",
	[IK_WAIT_TPAUSE] = "tpause",
	[IK_WAIT_MWAITX] = "mwaitx",
};

static const char *const summaries[IK_NWAITS] = {
	[IK_WAIT_SPIN] = "busy-poll with PAUSE",
	[IK_WAIT_FUTEX] = "FUTEX_WAIT at once; the sender wakes a sleeper",
	[IK_WAIT_HYBRID] = "spin --spin-budget, then FUTEX_WAIT",
	[IK_WAIT_YIELD] = "busy-poll with sched_yield between looks",
	[IK_WAIT_FUTEX_WAITV] = "futex_waitv(2) on one word (Linux 5.16+)",
	[IK_WAIT_URING_FUTEX] = "io_uring FUTEX_WAIT, woken by io_uring "
				"FUTEX_WAKE (Linux 6.7+)",
	[IK_WAIT_URING_POLL] = "io_uring multishot poll on an eventfd the "
			       "sender writes",
	[IK_WAIT_UMWAIT] = "UMONITOR the line, UMWAIT (C0.1) until it "
			   "changes (Intel WAITPKG)",
	[IK_WAIT_TPAUSE] = "TPAUSE (C0.1) ~1 us between looks (Intel "
			   "WAITPKG)",
	[IK_WAIT_MWAITX] = "MONITORX the line, MWAITX until it changes (AMD "
			   "MONITORX)",
};

const char *ik_wait_name(enum ik_wait w)
{
	return (unsigned)w < IK_NWAITS ? names[w] : "?";
}

const char *ik_wait_summary(enum ik_wait w)
{
	return (unsigned)w < IK_NWAITS ? summaries[w] : "?";
}

int ik_wait_by_name(const char *s)
{
	for (int w = 0; w < IK_NWAITS; w++)
		if (!strcmp(s, names[w]))
			return w;
	return -1;
}

const char *const *ik_wait_names(void)
{
	static const char *list[IK_NWAITS + 1];

	for (int w = 0; w < IK_NWAITS; w++)
		list[w] = names[w];
	return list;
}

/* ---- detection ---- */

bool ik_cpu_waitpkg(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	/* CPUID.(EAX=7,ECX=0):ECX[5] */
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c >> 5 & 1);
#else
	return false;
#endif
}

bool ik_cpu_monitorx(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	/* CPUID.80000001H:ECX[29] */
	return __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c >> 29 & 1);
#else
	return false;
#endif
}

/* 0 when futex_waitv exists: a wait on a word that does not hold the
 * value returns EAGAIN at once; ENOSYS before 5.16. */
static int probe_waitv(void)
{
	uint32_t word = 1;
	struct futex_waitv v = {.val = 0,
				.uaddr = (uintptr_t)&word,
				.flags = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE};

	if (syscall(SYS_futex_waitv, &v, 1, 0, NULL, CLOCK_MONOTONIC) < 0 &&
	    errno != EAGAIN)
		return -errno;
	return 0;
}

/* 0 when an io_uring can be made and (want) the opcode is supported. */
static int probe_uring(int want)
{
	struct io_uring r;
	struct io_uring_probe *p;
	int ret = io_uring_queue_init(2, &r, 0);

	if (ret < 0)
		return ret;
	p = io_uring_get_probe_ring(&r);
	if (!p)
		ret = -EOPNOTSUPP;
	else if (want >= 0 && !io_uring_opcode_supported(p, want))
		ret = -EOPNOTSUPP;
	io_uring_free_probe(p);
	io_uring_queue_exit(&r);
	return ret;
}

static char why[IK_NWAITS][160];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void uring_why(int w, int ret, const char *what)
{
	if (ret == -EOPNOTSUPP)
		snprintf(why[w], sizeof(why[w]),
			 "the kernel lacks %s (IORING_REGISTER_PROBE)", what);
	else if (ret)
		snprintf(why[w], sizeof(why[w]), "io_uring_setup failed: %s%s",
			 strerror(-ret),
			 ret == -EPERM ? " (kernel.io_uring_disabled?)" : "");
}

/* CPUID.1:ECX[31]: running under a hypervisor */
static bool hypervisor(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c >> 31 & 1);
#else
	return false;
#endif
}

static void detect(void)
{
	bool hv = hypervisor();
	int ret;

	if ((ret = probe_waitv()))
		snprintf(why[IK_WAIT_FUTEX_WAITV],
			 sizeof(why[IK_WAIT_FUTEX_WAITV]),
			 "futex_waitv failed: %s (Linux 5.16+ has it)",
			 strerror(-ret));
	uring_why(IK_WAIT_URING_FUTEX, probe_uring(OP_FUTEX_WAIT),
		  "IORING_OP_FUTEX_WAIT (Linux 6.7+)");
	uring_why(IK_WAIT_URING_POLL, probe_uring(IORING_OP_POLL_ADD),
		  "IORING_OP_POLL_ADD");
	if (!ik_cpu_waitpkg()) {
		snprintf(why[IK_WAIT_UMWAIT], sizeof(why[IK_WAIT_UMWAIT]),
			 "the CPU lacks WAITPKG (CPUID.7.0:ECX[5] clear%s)",
			 hv ? "; a hypervisor may hide it" : "");
		memcpy(why[IK_WAIT_TPAUSE], why[IK_WAIT_UMWAIT],
		       sizeof(why[0]));
	}
	if (!ik_cpu_monitorx())
		snprintf(why[IK_WAIT_MWAITX], sizeof(why[IK_WAIT_MWAITX]),
			 "the CPU lacks MONITORX (CPUID 0x80000001:ECX[29] "
			 "clear%s)",
			 hv ? "; a hypervisor may hide it" : "");
}

const char *ik_wait_unavailable(enum ik_wait w)
{
	if ((unsigned)w >= IK_NWAITS)
		return "no such wait strategy";
	pthread_once(&once, detect);
	return why[w][0] ? why[w] : NULL;
}

int ik_umwait_control(char *b, size_t n)
{
	static const char *const dir = "/sys/devices/system/cpu/umwait_control";
	char path[96], c02[16] = "", max[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/enable_c02", dir);
	if ((f = fopen(path, "re"))) {
		if (!fgets(c02, sizeof(c02), f))
			c02[0] = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/max_time", dir);
	if ((f = fopen(path, "re"))) {
		if (!fgets(max, sizeof(max), f))
			max[0] = 0;
		fclose(f);
	}
	if (!c02[0] && !max[0])
		return -ENOENT;
	c02[strcspn(c02, "\n")] = 0;
	max[strcspn(max, "\n")] = 0;
	snprintf(b, n, "umwait_control: enable_c02 %s, max_time %s TSC cycles",
		 c02[0] ? c02 : "?", max[0] ? max : "?");
	return 0;
}

/* ---- --spin-budget ---- */

int ik_spin_budget_parse(const char *s, uint64_t *v)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = {{"", 1}, {"ns", 1}, {"us", 1e3}, {"ms", 1e6}};
	const char *end;
	double d;

	if (ik_parse_decimal(s, &d, &end))
		return -EINVAL;
	if (!strcmp(end, "i")) {
		if (d != (double)(uint64_t)d || d > 1e12)
			return -EINVAL;
		*v = (uint64_t)d | IK_BUDGET_ITERS;
		return 0;
	}
	for (size_t k = 0; k < IK_ARRAY_SIZE(units); k++) {
		double ns = d * units[k].mul;

		if (strcmp(end, units[k].unit))
			continue;
		if (ns > 1e9 || ns != (double)(uint64_t)ns)
			return -EINVAL;
		*v = (uint64_t)ns;
		return 0;
	}
	return -EINVAL;
}

void ik_spin_budget_name(uint64_t v, char *b, size_t n)
{
	uint64_t x = v & ~IK_BUDGET_ITERS;

	if (v & IK_BUDGET_ITERS)
		snprintf(b, n, "%llui", (unsigned long long)x);
	else if (x && x % 1000000 == 0)
		snprintf(b, n, "%llums", (unsigned long long)(x / 1000000));
	else if (x && x % 1000 == 0)
		snprintf(b, n, "%lluus", (unsigned long long)(x / 1000));
	else
		snprintf(b, n, "%lluns", (unsigned long long)x);
}

/* ---- the sleeping strategies' channel state ---- */

struct ik_waits {
	struct io_uring ring[2]; /* ring[s]: side s's waits and wakes */
	bool live[2];
	bool pending[2]; /* a FUTEX_WAIT of side s is in flight */
	bool armed[2];	 /* uring-poll: side s's poll is submitted */
	int efd[2];	 /* uring-poll: side s sleeps on efd[s] */
};

static int arm_poll(struct ik_waits *wt, int s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&wt->ring[s]);
	int ret;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_multishot(sqe, wt->efd[s], POLLIN);
	io_uring_sqe_set_data64(sqe, TAG_POLL);
	ret = io_uring_submit(&wt->ring[s]);
	return ret < 0 ? ret : 0;
}

int ik_waits_setup(struct ik_channel *ch)
{
	enum ik_wait w = ch->p.wait;
	const char *no = ik_wait_unavailable(w);
	struct ik_waits *wt;
	int s, ret;

	if (no)
		return -EOPNOTSUPP;
	if (w != IK_WAIT_URING_FUTEX && w != IK_WAIT_URING_POLL)
		return 0;
	if (!(wt = calloc(1, sizeof(*wt))))
		return -ENOMEM;
	wt->efd[0] = wt->efd[1] = -1;
	ch->waits = wt;
	for (s = 0; s < 2; s++) {
		ret = io_uring_queue_init(8, &wt->ring[s], 0);
		if (ret < 0)
			goto fail;
		wt->live[s] = true;
		if (w != IK_WAIT_URING_POLL)
			continue;
		wt->efd[s] = eventfd(0, EFD_CLOEXEC);
		if (wt->efd[s] < 0) {
			ret = -errno;
			goto fail;
		}
	}
	return 0;
fail:
	ik_waits_teardown(ch);
	return ret;
}

void ik_waits_teardown(struct ik_channel *ch)
{
	struct ik_waits *wt = ch->waits;

	if (!wt)
		return;
	for (int s = 0; s < 2; s++) {
		if (wt->live[s])
			io_uring_queue_exit(&wt->ring[s]);
		ik_close(&wt->efd[s]);
	}
	free(wt);
	ch->waits = NULL;
}

int ik_waitv_sleep(_Atomic uint32_t *w, uint32_t v, bool shared,
		   const struct timespec *rel)
{
	struct futex_waitv fw = {.val = v,
				 .uaddr = (uintptr_t)w,
				 .flags = FUTEX2_SIZE_U32 |
					  (shared ? 0 : FUTEX2_PRIVATE)};
	struct timespec abs;

	/* futex_waitv's timeout is absolute, on the clock named */
	if (rel) {
		clock_gettime(CLOCK_MONOTONIC, &abs);
		abs.tv_sec += rel->tv_sec;
		abs.tv_nsec += rel->tv_nsec;
		if (abs.tv_nsec >= 1000000000L) {
			abs.tv_sec++;
			abs.tv_nsec -= 1000000000L;
		}
	}
	if (syscall(SYS_futex_waitv, &fw, 1, 0, rel ? &abs : NULL,
		    CLOCK_MONOTONIC) >= 0)
		return 0;
	return errno == EAGAIN ? 0 : -errno;
}

/*
 * Take every completion there is; -errno of a failed one, else 0. *woke:
 * whether one of them was side's wake-up (its FUTEX_WAIT's end, or a poll
 * of its eventfd).
 */
static int reap(struct ik_waits *wt, int side, bool *woke)
{
	struct io_uring *r = &wt->ring[side];
	struct io_uring_cqe *cqe;
	int ret = 0;

	while (io_uring_peek_cqe(r, &cqe) == 0) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;
		bool more = cqe->flags & IORING_CQE_F_MORE;

		io_uring_cqe_seen(r, cqe);
		if (tag == TAG_WAIT) {
			wt->pending[side] = false;
			*woke = true;
			/* EAGAIN: the word moved before the kernel slept */
			if (res < 0 && res != -EAGAIN && res != -EINTR)
				ret = res;
		} else if (tag == TAG_WAKE && res < 0) {
			ret = res;
		} else if (tag == TAG_POLL) {
			*woke = true;
			if (res < 0 && res != -ECANCELED)
				ret = res;
			if (!more && !ret) /* the kernel ended it: again */
				ret = arm_poll(wt, side);
		}
	}
	return ret;
}

/*
 * After a wait that had a deadline (timed) or none: a return with no
 * wake-up reaped is the deadline run out: -ETIMEDOUT, as futex's, and
 * the caller looks for a lost wake-up. That is -ETIME, or, when the same
 * call submitted the FUTEX_WAIT, the count submitted (io_uring_enter
 * reports a submission before its wait's end). A wake-up reaped is 0
 * (look again), even if it came with the deadline. Any other -errno as
 * it is (-EINTR: the caller asks whether it was abort).
 */
static int after_wait(struct ik_waits *wt, int side, int ret, bool timed)
{
	bool woke = false;
	int err;

	if (ret < 0 && ret != -ETIME)
		return ret;
	err = reap(wt, side, &woke);
	if (err)
		return err;
	return timed && !woke ? -ETIMEDOUT : 0;
}

/* The deadline as io_uring_enter's timeout (IORING_FEAT_EXT_ARG: it
 * rides the wait's own call), or NULL. */
static struct __kernel_timespec *kts(const struct timespec *dl,
				     struct __kernel_timespec *ts)
{
	if (!dl)
		return NULL;
	ts->tv_sec = (int64_t)dl->tv_sec;
	ts->tv_nsec = (long long)dl->tv_nsec;
	return ts;
}

/*
 * A FUTEX_WAIT left in flight by a wait that ran out is kept (pending):
 * the next sleep waits for it rather than queue another, and the waker's
 * FUTEX_WAKE, sent only after it saw the sleeping flag, finds it.
 */
int ik_uring_futex_sleep(struct ik_channel *ch, enum ik_side side,
			 _Atomic uint32_t *w, uint32_t v,
			 const struct timespec *dl)
{
	struct ik_waits *wt = ch->waits;
	struct io_uring *r = &wt->ring[side];
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	unsigned fl = FUTEX2_SIZE_U32 |
		      (ch->p.mode == IK_MODE_PROCESS ? 0 : FUTEX2_PRIVATE);
	int ret;

	if (!wt->pending[side]) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(r);

		if (!sqe)
			return -EBUSY;
		io_uring_prep_rw(OP_FUTEX_WAIT, sqe, (int)fl, (void *)w, 0, v);
		sqe->addr3 = BITSET_ANY;
		io_uring_sqe_set_data64(sqe, TAG_WAIT);
		wt->pending[side] = true;
	}
	if (dl)
		ret = io_uring_submit_and_wait_timeout(r, &cqe, 1, kts(dl, &ts),
						       NULL);
	else
		ret = io_uring_submit_and_wait(r, 1);
	return after_wait(wt, side, ret, dl != NULL);
}

int ik_uring_futex_wake(struct ik_channel *ch, enum ik_side from,
			_Atomic uint32_t *w)
{
	struct ik_waits *wt = ch->waits;
	struct io_uring *r = &wt->ring[from];
	unsigned fl = FUTEX2_SIZE_U32 |
		      (ch->p.mode == IK_MODE_PROCESS ? 0 : FUTEX2_PRIVATE);
	struct io_uring_sqe *sqe = io_uring_get_sqe(r);
	int ret;

	if (!sqe) {
		bool woke = false;

		if ((ret = reap(wt, from, &woke)))
			return ret;
		if (!(sqe = io_uring_get_sqe(r)))
			return -EBUSY;
	}
	io_uring_prep_rw(OP_FUTEX_WAKE, sqe, (int)fl, (void *)w, 0, 1);
	sqe->addr3 = BITSET_ANY;
	/* one syscall: no completion to reap unless the wake failed */
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, TAG_WAKE);
	do
		ret = io_uring_submit(r);
	while (ret == -EINTR && !ik_channel_aborted(ch));
	return ret < 0 ? ret : 0;
}

int ik_uring_poll_sleep(struct ik_channel *ch, enum ik_side side,
			const struct timespec *dl)
{
	struct ik_waits *wt = ch->waits;
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int ret;

	/*
	 * Armed by the sleeper itself, on its first sleep: a poll's wake-up
	 * runs as task work of the task that submitted it, which must be
	 * the one waiting for it, not the parent that made the ring.
	 */
	if (!wt->armed[side]) {
		if ((ret = arm_poll(wt, side)))
			return ret;
		wt->armed[side] = true;
	}
	ret = dl ? io_uring_wait_cqe_timeout(&wt->ring[side], &cqe,
					     kts(dl, &ts))
		 : io_uring_wait_cqe(&wt->ring[side], &cqe);
	/* a completion may be stale (a write for a look that found the
	 * message anyway): the caller looks again, and sleeps again */
	return after_wait(wt, side, ret, dl != NULL);
}

int ik_uring_poll_wake(struct ik_channel *ch, enum ik_side to)
{
	struct ik_waits *wt = ch->waits;
	uint64_t one = 1;
	ssize_t n;

	do
		n = ik_sys_write(wt->efd[to], &one, sizeof(one));
	while (n < 0 && errno == EINTR && !ik_channel_aborted(ch));
	return n < 0 ? -errno : 0;
}
