/* SPDX-License-Identifier: MIT */
/*
 * What all transports share: the channel's shared block and mailboxes,
 * whole-message fd I/O, futex wrappers. Shared memory is anonymous and
 * MAP_SHARED, made before the split, so nothing ever lands in /dev/shm.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc.h"

#define SPIN_CHECK   4096 /* abort check every ~10-50 us of spinning */
#define MB_SLOTS     64	  /* mailbox ring depth */
#define MB_BYTES_MAX (16u << 20)

void *ik_shm_alloc(size_t len)
{
	return ik_mem_alloc(len, true, -1);
}

void *ik_shm_alloc_on(size_t len, int node)
{
	return ik_mem_alloc(len, true, node);
}

void *ik_mem_alloc(size_t len, bool shared, int node)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1,
		       0);

	if (p == MAP_FAILED)
		return NULL;
	/* before the first touch, so the pages are born there */
	if (node >= 0)
		numa_tonode_memory(p, len, node);
	return p;
}

int ik_channel_node(const struct ik_channel *ch)
{
	return ch->p.bind_node ? ch->p.node : -1;
}

void *ik_channel_shm(struct ik_channel *ch, size_t len)
{
	return ik_channel_mem(ch, len, true);
}

struct toucher {
	int cpu, seen;
	unsigned char *p;
	size_t len;
};

static void *touch_main(void *arg)
{
	struct toucher *t = arg;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), off;

	t->seen = sched_getcpu();
	if (t->seen != t->cpu)
		return NULL; /* the caller refuses it */
	/* a write fault: the page is born where this CPU's policy says */
	for (off = 0; off < t->len; off += page)
		((volatile unsigned char *)t->p)[off] = 0;
	return NULL;
}

int ik_touch_from(int cpu, void *p, size_t len, int *seen)
{
	struct toucher t = {.cpu = cpu, .seen = -1, .p = p, .len = len};
	pthread_attr_t a;
	cpu_set_t set;
	pthread_t th;
	int ret;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if ((ret = pthread_attr_init(&a)))
		return -ret;
	ret = pthread_attr_setaffinity_np(&a, sizeof(set), &set);
	if (!ret)
		ret = pthread_create(&th, &a, touch_main, &t);
	pthread_attr_destroy(&a);
	if (ret)
		return -ret;
	pthread_join(th, NULL);
	*seen = t.seen;
	return t.seen == cpu ? 0 : -EINVAL;
}

void *ik_channel_mem(struct ik_channel *ch, size_t len, bool shared)
{
	void *p = ik_mem_alloc(len, shared, ik_channel_node(ch));
	int seen = -1;

	if (!p || !ch->p.lines.touch)
		return p;
	if (ik_touch_from(ch->p.lines.touch_cpu, p, len, &seen)) {
		munmap(p, len);
		return NULL;
	}
	ch->touched_on = seen;
	return p;
}

/*
 * --fresh: mappings kept until the run ends. A frame freed by munmap
 * goes to the per-CPU free list and is the first one handed out again,
 * still in the caches of the CPUs that used it; kept mapped, it cannot
 * be. At most RETIRE_MAX of them (then unmapped as usual).
 */
#define RETIRE_MAX 4096
static struct {
	void *p;
	size_t len;
} retired[RETIRE_MAX];
static unsigned nretired;
static pthread_mutex_t retire_lock = PTHREAD_MUTEX_INITIALIZER;

void ik_channel_mem_free(const struct ik_channel *ch, void *p, size_t len)
{
	if (!p)
		return;
	if (ch->p.lines.fresh) {
		pthread_mutex_lock(&retire_lock);
		if (nretired < RETIRE_MAX) {
			retired[nretired].p = p;
			retired[nretired++].len = len;
			p = NULL;
		}
		pthread_mutex_unlock(&retire_lock);
	}
	ik_shm_free(p, len);
}

void ik_shm_retired_free(void)
{
	pthread_mutex_lock(&retire_lock);
	while (nretired) {
		nretired--;
		munmap(retired[nretired].p, retired[nretired].len);
	}
	pthread_mutex_unlock(&retire_lock);
}

int ik_shm_nodes_of(void *p, size_t len, unsigned *pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(page - 1);
	int node = -1, k;

	*pages = 0;
	for (; a < (uintptr_t)p + len; a += page) {
		k = ik_shm_node_of((void *)a);
		if (k < 0)
			return k;
		if (*pages && k != node)
			return IK_NODES_MIXED;
		node = k;
		(*pages)++;
	}
	return node;
}

int ik_shm_node_of(void *p)
{
	int status = -1;
	void *page = (void *)((uintptr_t)p &
			      ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1));

	/* move_pages with no target nodes only asks where each page is */
	if (numa_move_pages(0, 1, &page, NULL, &status, 0) < 0)
		return -errno;
	/*
	 * -ENOENT: nobody touched this page (on a two-node guest, about one
	 * spsc run in three). Fault it in, read-only, and ask again: it is
	 * placed by the region's policy, as the used pages were.
	 */
	if (status == -ENOENT) {
		(void)*(volatile const char *)page;
		if (numa_move_pages(0, 1, &page, NULL, &status, 0) < 0)
			return -errno;
	}
	return status;
}

void ik_shm_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

size_t ik_transport_max_size(const struct ik_transport_ops *ops,
			     const struct ik_chan_params *p)
{
	size_t m = ops->max_size ? ops->max_size(p) : IK_SIZE_MAX;

	return m < IK_SIZE_MAX ? m : IK_SIZE_MAX;
}

int ik_channel_init(struct ik_channel *ch, const struct ik_transport_ops *ops,
		    const struct ik_chan_params *p)
{
	int ret;

	memset(ch, 0, sizeof(*ch));
	if (p->size == 0 || p->size > ik_transport_max_size(ops, p))
		return -EINVAL;
	ch->ops = ops;
	ch->p = *p;
	ch->deadline.tv_sec = (time_t)(p->wake_deadline_ns / IK_NS_PER_SEC);
	ch->deadline.tv_nsec = (long)(p->wake_deadline_ns % IK_NS_PER_SEC);
	ch->send = ops->send;
	ch->recv = ops->recv;
	ch->spin_check = p->same_pu ? 1 : SPIN_CHECK;
	/* a ring deep enough to stream, at most 16 MiB a direction */
	ch->mb_slot = round_up(IK_MB_HEAD + p->size, IK_CACHELINE);
	ch->mb_slots = MB_BYTES_MAX / ch->mb_slot;
	ch->mb_slots = ch->mb_slots > MB_SLOTS ? MB_SLOTS
		       : ch->mb_slots < 2      ? 2
					       : ch->mb_slots;
	ch->mb_stride = sizeof(struct ik_mailbox) + ch->mb_slots * ch->mb_slot;
	ch->sh_len = round_up(sizeof(struct ik_chan_shared) + 2 * ch->mb_stride,
			      (size_t)sysconf(_SC_PAGESIZE));
	ch->touched_on = -1;
	ch->sh = ik_channel_shm(ch, ch->sh_len);
	if (!ch->sh)
		return -ENOMEM;
	ret = ops->setup ? ops->setup(ch) : 0;
	if (ret) {
		ik_shm_free(ch->sh, ch->sh_len);
		memset(ch, 0, sizeof(*ch));
		return ret;
	}
	if (!ch->lines) {
		ch->lines = ch->sh;
		ch->lines_len = ch->sh_len;
	}
	return 0;
}

int ik_channel_open_side(struct ik_channel *ch, enum ik_side side)
{
	atomic_store_explicit(&ch->sh->peer[side].pid, (int)getpid(),
			      memory_order_relaxed);
	atomic_store_explicit(&ch->sh->peer[side].tid, (int)gettid(),
			      memory_order_release);
	return ch->ops->open_side ? ch->ops->open_side(ch, side) : 0;
}

bool ik_channel_peer_sleeps(const struct ik_channel *ch, enum ik_side side)
{
	int tid = atomic_load_explicit(&ch->sh->peer[side].tid,
				       memory_order_acquire),
	    pid = atomic_load_explicit(&ch->sh->peer[side].pid,
				       memory_order_relaxed);
	char path[64], buf[512], *paren;
	bool sleeps = false;
	FILE *f;

	if (!tid)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	/* a task gone is not asleep; with no /proc at all (a namespace
	 * that hides it) nothing can be told, and the watch's other tests
	 * decide: a wait with no timeout of its own must still be found */
	if (!(f = fopen(path, "re")))
		return access("/proc/self/stat", F_OK) != 0;
	if (fgets(buf, sizeof(buf), f) && (paren = strrchr(buf, ')')))
		sleeps = paren[1] == ' ' && paren[2] == 'S';
	fclose(f);
	return sleeps;
}

void ik_channel_kick(const struct ik_channel *ch, enum ik_side side)
{
	int tid = atomic_load_explicit(&ch->sh->peer[side].tid,
				       memory_order_acquire),
	    pid = atomic_load_explicit(&ch->sh->peer[side].pid,
				       memory_order_relaxed);

	if (tid)
		syscall(SYS_tgkill, pid, tid, SIGUSR1);
}

bool ik_watch_stuck(struct ik_channel *ch, enum ik_side side, bool looks,
		    uint64_t seen, uint64_t now_ns)
{
	struct ik_watch *w = &ch->watch[side];

	if (!looks || !ch->p.wake_deadline_ns) {
		w->armed = false;
		return false;
	}
	if (!w->armed || w->seen != seen) {
		*w = (struct ik_watch){true, now_ns, seen};
		return false;
	}
	if (now_ns - w->since_ns < ch->p.wake_deadline_ns)
		return false;
	w->armed = false;
	return true;
}

void ik_channel_count_lost(struct ik_channel *ch)
{
	uint64_t now = ik_mono_ns(), last;

	last = atomic_load_explicit(&ch->sh->lost_at_ns, memory_order_relaxed);
	do { /* signed: a find racing ours may have stamped a later now */
		if (last &&
		    (int64_t)(now - last) < (int64_t)ch->p.wake_deadline_ns)
			return; /* within a deadline of the last: counted */
	} while (!atomic_compare_exchange_weak_explicit(
		&ch->sh->lost_at_ns, &last, now, memory_order_relaxed,
		memory_order_relaxed));
	atomic_fetch_add_explicit(&ch->sh->lost, 1, memory_order_relaxed);
}

void ik_fds_watch(struct ik_channel *ch)
{
	struct ik_fds *f = ch->priv;
	uint64_t now = ik_mono_ns();
	int s;

	for (s = 0; s < 2; s++) {
		int n = 0;
		bool looks = f->rd[s] >= 0 && !ioctl(f->rd[s], FIONREAD, &n) &&
			     n > 0 && ik_channel_peer_sleeps(ch, s);

		if (ik_watch_stuck(ch, s, looks, (uint64_t)n, now)) {
			ik_channel_count_lost(ch);
			ik_channel_kick(ch, s);
		}
	}
}

void ik_channel_destroy(struct ik_channel *ch)
{
	if (!ch->ops)
		return;
	if (ch->ops->teardown)
		ch->ops->teardown(ch);
	ik_channel_mem_free(ch, ch->sh, ch->sh_len);
	memset(ch, 0, sizeof(*ch));
}

void ik_channel_abort(struct ik_channel *ch)
{
	atomic_store(&ch->sh->abort, 1);
	if (ch->ops->wake_all)
		ch->ops->wake_all(ch);
}

static struct ik_mailbox *mailbox(struct ik_channel *ch, enum ik_side s)
{
	return (struct ik_mailbox *)(ch->sh->mb + (size_t)s * ch->mb_stride);
}

/* Sleep until the reader frees a slot (Dekker pair with ik_mailbox_get). */
static int mailbox_wait_room(struct ik_channel *ch, struct ik_mailbox *mb,
			     uint64_t s)
{
	bool shared = ch->p.mode == IK_MODE_PROCESS;
	int ret = 0;

	for (;;) {
		uint32_t w = atomic_load(&mb->ackw);

		atomic_store(&mb->waiting, 1);
		atomic_thread_fence(memory_order_seq_cst);
		if (s - atomic_load(&mb->ack) < ch->mb_slots)
			break;
		ret = ik_futex_wait(&mb->ackw, w, shared);
		if (ret == -EINTR && ik_channel_aborted(ch))
			break;
		if (ret && ret != -EINTR)
			break;
		ret = 0;
	}
	atomic_store_explicit(&mb->waiting, 0, memory_order_relaxed);
	return ret == -EINTR ? -ECANCELED : ret;
}

int ik_mailbox_put(struct ik_channel *ch, enum ik_side to, const void *buf,
		   size_t len)
{
	struct ik_mailbox *mb = mailbox(ch, to);
	uint64_t s = atomic_load_explicit(&mb->seq, memory_order_relaxed);
	unsigned char *slot;

	/* ack is read only once the room last seen is used up; acquire
	 * pairs with the reader's release of ack: its copy is done */
	if (ik_unlikely(s >= mb->room_to)) {
		mb->room_to =
			atomic_load_explicit(&mb->ack, memory_order_acquire) +
			ch->mb_slots;
		if (s >= mb->room_to) {
			int ret = mailbox_wait_room(ch, mb, s);

			if (ret)
				return ret;
			mb->room_to = atomic_load_explicit(
					      &mb->ack, memory_order_acquire) +
				      ch->mb_slots;
		}
	}
	slot = mb->slots + (s % ch->mb_slots) * ch->mb_slot;
	memcpy(slot + IK_MB_HEAD, buf, len);
	/* the slot's sequence first: whoever sees seq finds the slot in */
	atomic_store_explicit((_Atomic uint64_t *)slot, s + 1,
			      memory_order_release);
	atomic_store_explicit(&mb->seq, s + 1, memory_order_release);
	return 0;
}

uint64_t ik_mailbox_pending(const struct ik_channel *ch, enum ik_side side,
			    uint64_t *ack)
{
	const struct ik_mailbox *mb =
		(const struct ik_mailbox *)(ch->sh->mb +
					    (size_t)side * ch->mb_stride);

	uint64_t seq;

	*ack = atomic_load_explicit(&mb->ack, memory_order_acquire);
	seq = atomic_load_explicit(&mb->seq, memory_order_acquire);
	/* a reader takes a slot by its own sequence, which is published
	 * just before seq: for that moment ack may be ahead */
	return seq > *ack ? seq - *ack : 0;
}

int ik_mailbox_get(struct ik_channel *ch, enum ik_side side, void *buf,
		   size_t len)
{
	struct ik_mailbox *mb = mailbox(ch, side);
	uint64_t a = atomic_load_explicit(&mb->ack, memory_order_relaxed);
	unsigned char *slot = mb->slots + (a % ch->mb_slots) * ch->mb_slot;

	/* acquire pairs with the writer's release of the slot's sequence:
	 * the bytes are in */
	if (ik_unlikely(atomic_load_explicit((_Atomic uint64_t *)slot,
					     memory_order_acquire) != a + 1))
		return -EPROTO; /* woken with nothing to take */
	memcpy(buf, slot + IK_MB_HEAD, len);
	atomic_store_explicit(&mb->ack, a + 1, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (ik_unlikely(
		    atomic_load_explicit(&mb->waiting, memory_order_relaxed))) {
		atomic_fetch_add(&mb->ackw, 1);
		ik_futex_wake(&mb->ackw, 1, ch->p.mode == IK_MODE_PROCESS);
	}
	return 0;
}

/*
 * The calls a byte-stream hop issues. On a socket, send/recv and
 * sendmsg/recvmsg: what a socket program, sockperf and the plain loops
 * issue; write/read reach the same socket code through the VFS (file
 * permission, fsnotify), ~4% more a round trip for the plain uds loop
 * under PVM. sock is a constant in every caller: no branch is left.
 */
static inline __attribute__((always_inline)) ssize_t
io_put(bool sock, int fd, const void *p, size_t n)
{
	return sock ? ik_sys_send(fd, p, n, 0) : ik_sys_write(fd, p, n);
}

static inline __attribute__((always_inline)) ssize_t io_get(bool sock, int fd,
							    void *p, size_t n)
{
	return sock ? ik_sys_recv(fd, p, n, 0) : ik_sys_read(fd, p, n);
}

static inline __attribute__((always_inline)) ssize_t
io_putv(bool sock, int fd, struct iovec *v, int n)
{
	struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)n};

	return sock ? ik_sys_sendmsg(fd, &m, 0) : ik_sys_writev(fd, v, n);
}

static inline __attribute__((always_inline)) ssize_t
io_getv(bool sock, int fd, struct iovec *v, int n)
{
	struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)n};

	return sock ? ik_sys_recvmsg(fd, &m, 0) : ik_sys_readv(fd, v, n);
}

static inline __attribute__((always_inline)) int
put_full(bool sock, struct ik_channel *ch, int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = io_put(sock, fd, p, len);

		if (ik_likely(n > 0)) {
			p += n;
			len -= (size_t)n;
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

static inline __attribute__((always_inline)) int
get_full(bool sock, struct ik_channel *ch, int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = io_get(sock, fd, p, len);

		if (ik_likely(n > 0)) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE; /* the peer closed: it is gone */
		if (errno == EINTR && !ik_channel_aborted(ch))
			continue;
		return errno == EINTR ? -ECANCELED : -errno;
	}
	return 0;
}

int ik_write_full(struct ik_channel *ch, int fd, const void *buf, size_t len)
{
	return put_full(false, ch, fd, buf, len);
}

int ik_read_full(struct ik_channel *ch, int fd, void *buf, size_t len)
{
	return get_full(false, ch, fd, buf, len);
}

void ik_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int ik_futex_wait(_Atomic uint32_t *addr, uint32_t val, bool shared)
{
	int op = FUTEX_WAIT | (shared ? 0 : FUTEX_PRIVATE_FLAG);

	if (syscall(SYS_futex, addr, op, val, NULL, NULL, 0) == 0)
		return 0;
	/* EAGAIN: the word changed before we slept, which is a wake-up */
	return errno == EAGAIN ? 0 : -errno;
}

int ik_futex_wait_timed(_Atomic uint32_t *addr, uint32_t val, bool shared,
			const struct timespec *rel)
{
	int op = FUTEX_WAIT | (shared ? 0 : FUTEX_PRIVATE_FLAG);

	if (syscall(SYS_futex, addr, op, val, rel, NULL, 0) == 0)
		return 0;
	return errno == EAGAIN ? 0 : -errno;
}

int ik_futex_wake(_Atomic uint32_t *addr, int n, bool shared)
{
	int op = FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG);
	long r = syscall(SYS_futex, addr, op, n, NULL, NULL, 0);

	return r < 0 ? -errno : (int)r;
}

struct ik_fds *ik_fds_new(void)
{
	struct ik_fds *f = malloc(sizeof(*f));

	if (f)
		f->rd[0] = f->rd[1] = f->wr[0] = f->wr[1] = -1;
	return f;
}

int ik_fds_open_side(struct ik_channel *ch, enum ik_side side)
{
	struct ik_fds *f = ch->priv;
	int rd = f->rd[!side], wr = f->wr[!side];

	if (ch->p.mode != IK_MODE_PROCESS)
		return 0; /* threads share one fd table */
	if (rd != f->rd[side] && rd != f->wr[side])
		ik_close(&f->rd[!side]);
	if (wr != rd && wr != f->rd[side] && wr != f->wr[side])
		ik_close(&f->wr[!side]);
	return 0;
}

void ik_fds_teardown(struct ik_channel *ch)
{
	struct ik_fds *f = ch->priv;
	int *all[4], i, j;

	if (!f)
		return;
	all[0] = &f->rd[0], all[1] = &f->rd[1];
	all[2] = &f->wr[0], all[3] = &f->wr[1];
	for (i = 0; i < 4; i++) {
		for (j = i + 1; j < 4; j++)
			if (*all[j] == *all[i])
				*all[j] = -1; /* socket: one fd, both roles */
		ik_close(all[i]);
	}
	free(f);
	ch->priv = NULL;
}

/*
 * Byte-stream framing (pipe, uds, tcp): each message goes out as a 4-byte
 * length and the payload in one writev (sendmsg on a socket), as an RPC
 * layer would send it, and the receiver checks the length it reassembles
 * against the one expected.
 * iov[] is advanced in place across short transfers.
 */
static void iov_advance(struct iovec **iov, int *n, size_t done)
{
	while (*n && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
}

/*
 * Up to this many payload bytes, header and payload are copied into one
 * stack buffer and moved with one write/read (send/recv): cheaper than the
 * kernel's iovec handling when the syscall is most of the cost (uds, 64 B: ~7%
 * more messages/s measured here). Larger ones are not worth the copy.
 */
#define FRAME_COPY_MAX 1024

static inline __attribute__((always_inline)) int
frame_send(bool sock, struct ik_channel *ch, int fd, const void *buf,
	   size_t len)
{
	uint32_t hdr = (uint32_t)len;
	struct iovec v[2] = {{&hdr, sizeof(hdr)}, {(void *)buf, len}}, *iov = v;
	int n = 2;

	if (len <= FRAME_COPY_MAX) {
		unsigned char one[sizeof(hdr) + FRAME_COPY_MAX];

		memcpy(one, &hdr, sizeof(hdr));
		memcpy(one + sizeof(hdr), buf, len);
		return put_full(sock, ch, fd, one, sizeof(hdr) + len);
	}

	while (n) {
		ssize_t w = io_putv(sock, fd, iov, n);

		if (ik_likely(w > 0)) {
			iov_advance(&iov, &n, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR && !ik_channel_aborted(ch))
			continue;
		if (w < 0 && errno == EINTR)
			return -ECANCELED;
		return w < 0 ? -errno : -EIO;
	}
	return 0;
}

/*
 * With --buffer the receiver asks for at most that much per read, as a
 * server reading into a preallocated buffer of that size would.
 */
static inline __attribute__((always_inline)) int
frame_recv(bool sock, struct ik_channel *ch, int fd, void *buf, size_t len)
{
	size_t chunk = ch->p.buffer ? ch->p.buffer : SIZE_MAX;
	uint32_t hdr = 0;
	struct iovec v[2] = {{&hdr, sizeof(hdr)}, {buf, len}}, *iov = v;
	int n = 2;

	if (len <= FRAME_COPY_MAX && chunk >= sizeof(hdr) + len) {
		unsigned char one[sizeof(hdr) + FRAME_COPY_MAX];
		int ret = get_full(sock, ch, fd, one, sizeof(hdr) + len);

		if (ret)
			return ret;
		memcpy(&hdr, one, sizeof(hdr));
		memcpy(buf, one + sizeof(hdr), len);
		return hdr == len ? 0 : -EBADMSG;
	}

	while (n) {
		/* cap this read at chunk bytes without losing the iov */
		struct iovec cut[2] = {iov[0], n > 1 ? iov[1] : iov[0]};
		size_t want = cut[0].iov_len;
		int cn = 1;
		ssize_t r;

		if (want >= chunk)
			cut[0].iov_len = chunk;
		else if (n > 1) {
			cn = 2;
			if (want + cut[1].iov_len > chunk)
				cut[1].iov_len = chunk - want;
		}
		r = io_getv(sock, fd, cut, cn);
		if (ik_likely(r > 0)) {
			iov_advance(&iov, &n, (size_t)r);
			continue;
		}
		if (r == 0)
			return -EPIPE; /* the peer closed: it is gone */
		if (errno == EINTR && !ik_channel_aborted(ch))
			continue;
		return errno == EINTR ? -ECANCELED : -errno;
	}
	return hdr == len ? 0 : -EBADMSG;
}

int ik_fds_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		size_t len)
{
	struct ik_fds *f = ch->priv;

	return frame_send(false, ch, f->wr[side], buf, len);
}

int ik_fds_recv(struct ik_channel *ch, enum ik_side side, void *buf, size_t len)
{
	struct ik_fds *f = ch->priv;

	return frame_recv(false, ch, f->rd[side], buf, len);
}

int ik_sock_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		 size_t len)
{
	struct ik_fds *f = ch->priv;

	return frame_send(true, ch, f->wr[side], buf, len);
}

int ik_sock_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		 size_t len)
{
	struct ik_fds *f = ch->priv;

	return frame_recv(true, ch, f->rd[side], buf, len);
}

/* Apply --buffer to fd and describe what the kernel granted. */
int ik_sock_buffers(struct ik_channel *ch, int fd)
{
	int v = (int)ch->p.buffer;

	if (ch->p.buffer &&
	    (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) < 0 ||
	     setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0))
		return -errno;
	return ik_sock_granted(ch, fd);
}

int ik_sock_granted(struct ik_channel *ch, int fd)
{
	int snd = 0, rcv = 0;
	socklen_t l = sizeof(int);

	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &l);
	l = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &l);
	snprintf(ch->granted, sizeof(ch->granted),
		 "SO_SNDBUF %d B, SO_RCVBUF %d B", snd, rcv);
	return 0;
}

const char *ik_mode_name(enum ik_mode m)
{
	return m == IK_MODE_PROCESS ? "process" : "thread";
}
