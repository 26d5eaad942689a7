/* SPDX-License-Identifier: MIT */
/*
 * The transport interface. Every IPC method is one file in ipc/ that fills
 * one struct ik_transport_ops and is listed once in ipc/methods.def; kernels
 * only ever see a struct ik_channel and never know which method it carries.
 *
 * Lifecycle, in this order:
 *   ik_channel_init()  - in the parent, before threads start or fork():
 *                        shared memory, fds, rings (ops->setup)
 *   ops->open_side()   - in each peer, after the split: drop the other
 *                        side's fds (process mode) so a dead peer shows as
 *                        EOF or EPIPE rather than a hang
 *   ch->send/ch->recv  - one whole message of exactly len bytes, blocking;
 *                        short transfers, EINTR and EAGAIN are absorbed
 *   ik_channel_destroy() - in the parent, after both peers are gone
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure; nothing leaves meaning in errno.
 */
#ifndef IK_IPC_H
#define IK_IPC_H

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../ik.h"

/* The largest message any method accepts; methods may state less. */
#define IK_SIZE_MAX (64u << 20)

/*
 * --line-op: what a hop of the line method does to its line. store (the
 * default): one line both peers write, the waiter polls with loads and
 * hands over with a store (a modified line read, then an upgrade);
 * load: a line per direction, each written by one peer and only loaded
 * by the other (clean copies left behind, c2clat's default); cas, xadd:
 * the waiter polls with that locked RMW itself, so every poll asks for
 * ownership, and hands over with it; xchg: polls with loads, hands over
 * with a locked exchange.
 */
enum ik_line_op {
	IK_LINE_STORE = 0,
	IK_LINE_LOAD,
	IK_LINE_CAS,
	IK_LINE_XCHG,
	IK_LINE_XADD,
	IK_NLINE_OPS
};
extern const char *const ik_line_op_names[]; /* by enum, NULL-terminated */

#define IK_LINES_MAX 64 /* --lines: the most lines a pair bounces */

/*
 * Line provenance of a channel (issue 19). Zeroed: as before (pages
 * faulted by whoever writes first, one line, store, 64-byte spacing).
 */
struct ik_lines {
	bool touch;	    /* touch_cpu faults every shared page in first */
	int touch_cpu;	    /* OS CPU, pinned thread, before the peers */
	bool fresh;	    /* mappings held to the run's end: no frame reuse */
	unsigned n;	    /* line: lines bounced in turn; 0 or 1: one */
	enum ik_line_op op; /* line only */
	unsigned stride;    /* bytes between lines two CPUs write; 0: 64 */
};

struct ik_chan_params {
	size_t size;	   /* payload bytes of each message, each direction */
	size_t buffer;	   /* transport buffer to ask for; 0: its default */
	enum ik_mode mode; /* threads share fds; processes close the peer's */
	enum ik_wait wait; /* spsc only: spin, futex or spin-then-futex */
	bool same_pu;	   /* pinned to one CPU: a spinner yields at once */
	bool unpinned;	   /* may share a CPU: a spinner yields now and then */
	bool stream;	   /* one side only sends: setup may pick a variant */
	/* --mem-node: bind the channel's shared pages to node (else none;
	 * a flag, so that zeroed params bind nothing) */
	bool bind_node;
	int node;
	struct ik_lines lines; /* issue 19: where the lines live, the hop */
	/* a blocking wait gives up after this and looks for a message
	 * posted without its wake-up (a lost wake-up); 0: never */
	uint64_t wake_deadline_ns;
	/* hybrid: spin this many ns (or iterations, | IK_BUDGET_ITERS)
	 * before sleeping */
	uint64_t spin_budget;
};

/* Transport flags, shown by --list and used by kernels to plan framing. */
#define IK_T_SIGNAL   (1u << 0) /* carries no bytes: payload via mailbox */
#define IK_T_SPIN     (1u << 1) /* waits by busy-polling (by default) */
#define IK_T_DATAGRAM (1u << 2) /* one message per send, size-limited */
#define IK_T_TEST     (1u << 3) /* for ipckern's own tests: not in 'all' */
#define IK_T_LISTEN   (1u << 4) /* set up through a listener others can reach */
#define IK_T_WAIT     (1u << 5) /* takes every --wait strategy */

/*
 * State every channel has, in one MAP_SHARED mapping so that process mode
 * sees the same bytes: the abort flag, and one mailbox per direction for
 * methods that only signal. Mailbox s is read by side s: a ring of
 * mb_slots payload slots, so a stream can run ahead of the reader; a
 * writer facing a full ring sleeps on ackw until the reader takes one.
 *
 * A hop moves as few lines between the CPUs as it can: each slot
 * starts with its own sequence (message n is in once it reads n + 1),
 * so a message of up to 56 bytes is one line to the reader; the writer
 * reads ack only when the room it last saw runs out; and the reader's
 * check for a sleeping writer reads its own line.
 */
struct ik_mailbox {
	/* the writer's line: seq for those who count what is pending (the
	 * watches, io_uring); the reader takes a slot by its own sequence */
	alignas(IK_CACHELINE) _Atomic uint64_t seq; /* writer: messages put */
	/* writer only: seq may run up to this before ack is read again
	 * (ack + slots when last read) */
	uint64_t room_to;
	/* the reader's line; waiting is set by a writer facing a full ring
	 * (rare) and read by the reader after every ack */
	alignas(IK_CACHELINE) _Atomic uint64_t ack; /* reader: messages got */
	_Atomic uint32_t ackw;			    /* reader: futex word */
	_Atomic uint32_t waiting;		    /* writer: asleep on ackw */
	alignas(IK_CACHELINE) unsigned char slots[];
};
#define IK_MB_HEAD sizeof(uint64_t) /* a slot's sequence, then its bytes */

struct ik_chan_shared {
	alignas(IK_CACHELINE) _Atomic int abort; /* set once, read by waiters */
	/* lost wake-ups: a wait past the deadline found its message posted
	 * (bumped by whoever saw it: a waiter, or the controller's watch),
	 * and when the last was found (CLOCK_MONOTONIC ns; 0: none yet) */
	alignas(IK_CACHELINE) _Atomic uint64_t lost;
	_Atomic uint64_t lost_at_ns;
	/* each side's process and thread, noted at open_side: a watch
	 * asks whether it sleeps, and kicks it (SIGUSR1) */
	struct {
		_Atomic int pid, tid;
	} peer[2];
	alignas(IK_CACHELINE) char mb[]; /* two mailboxes, mb_stride */
};

/*
 * read, write, readv, writev, send, recv, sendmsg and recvmsg on a hop,
 * without glibc's cancellation point. In a process that has ever had a
 * second thread (thread mode, and process mode's peers, forked from the
 * threaded controller) glibc brackets each of these calls with
 * __pthread_enable_asynccancel and __pthread_disable_asynccancel: two
 * locked compare-and-swaps and ~45 instructions a call (callgrind: 52
 * instructions a read against 7 in a single-threaded program, which is
 * what perf bench and the plain loops in scripts/ are). Nobody cancels
 * a peer (they stop on the abort flag, woken by SIGUSR1's EINTR), so a
 * hop issues the bare syscall. -1 and errno, as the libc calls.
 */
static inline ssize_t ik_sys_read(int fd, void *buf, size_t n)
{
	return syscall(SYS_read, fd, buf, n);
}

static inline ssize_t ik_sys_write(int fd, const void *buf, size_t n)
{
	return syscall(SYS_write, fd, buf, n);
}

static inline ssize_t ik_sys_readv(int fd, const struct iovec *v, int n)
{
	return syscall(SYS_readv, fd, v, n);
}

static inline ssize_t ik_sys_writev(int fd, const struct iovec *v, int n)
{
	return syscall(SYS_writev, fd, v, n);
}

static inline ssize_t ik_sys_send(int fd, const void *buf, size_t n, int fl)
{
	return syscall(SYS_sendto, fd, buf, n, fl, NULL, 0);
}

static inline ssize_t ik_sys_recv(int fd, void *buf, size_t n, int fl)
{
	return syscall(SYS_recvfrom, fd, buf, n, fl, NULL, NULL);
}

static inline ssize_t ik_sys_sendmsg(int fd, const struct msghdr *m, int fl)
{
	return syscall(SYS_sendmsg, fd, m, fl);
}

static inline ssize_t ik_sys_recvmsg(int fd, struct msghdr *m, int fl)
{
	return syscall(SYS_recvmsg, fd, m, fl);
}

/* CLOCK_MONOTONIC in ns: the clock of the watches and the lost count */
static inline uint64_t ik_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * IK_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * Stalls a transport's own kernel put on a run, seen from outside the
 * peers (ops->watch): TCP holding a sender's bytes behind a window below
 * its MSS until the persist timer fires, say. The figures of such a run
 * are the kernel's, not the method's, and why says so.
 */
struct ik_stalls {
	unsigned count; /* stalls seen */
	uint64_t ns;	/* their length in all, at least (as seen) */
	char why[256];	/* the mechanism and what was seen; "" if none */
};

/* A socket address and its length, as getsockname() fills them. */
struct ik_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct ik_channel;
typedef int (*ik_send_fn)(struct ik_channel *ch, enum ik_side side,
			  const void *buf, size_t len);
typedef int (*ik_recv_fn)(struct ik_channel *ch, enum ik_side side, void *buf,
			  size_t len);

struct ik_transport_ops {
	const char *name;    /* as typed after --method */
	const char *summary; /* one line for --list */
	/*
	 * Its row in README.md's method table (ik_transports_markdown):
	 * what moves the message, as Markdown. NULL: the method shares the
	 * row of the one above it in methods.def (its name is added there),
	 * or has none when it is IK_T_TEST.
	 */
	const char *doc;
	/* said after a setup error, e.g. where a feature is switched off */
	const char *setup_hint;
	unsigned flags; /* IK_T_* */
	/* Largest message this method carries under p; at most IK_SIZE_MAX. */
	size_t (*max_size)(const struct ik_chan_params *p);
	/* Before the split. May replace ch->send/ch->recv with variants. */
	int (*setup)(struct ik_channel *ch);
	/* In each peer after the split; may be NULL. */
	int (*open_side)(struct ik_channel *ch, enum ik_side side);
	ik_send_fn send;
	ik_recv_fn recv;
	/*
	 * Wake every waiter that no signal can interrupt (a condition
	 * variable); may be NULL. Called by ik_channel_abort().
	 */
	void (*wake_all)(struct ik_channel *ch);
	/*
	 * From the controller (the parent) every ~50 ms while the peers
	 * run: look for stalls; may be NULL. Nothing a peer waits on.
	 */
	void (*watch)(struct ik_channel *ch);
	/* After the run, before teardown: what watch saw; may be NULL. */
	void (*stalls)(struct ik_channel *ch, struct ik_stalls *st);
	/* In the parent after both peers ended; frees what setup made. */
	void (*teardown)(struct ik_channel *ch);
	/*
	 * The connections capability, for kernels that open their own
	 * (echo, connect), outside any channel; NULL for a method without
	 * connections. A non-blocking listener of this method on a fresh
	 * address that only we know of yet (loopback port, random abstract
	 * name), queueing backlog connections; its address in *a. Returns
	 * the fd or -errno. connect: a blocking connection to such a
	 * listener at a, set with TCP_NODELAY where it applies; the fd or
	 * -errno. A method has both or neither.
	 */
	int (*listen)(unsigned backlog, struct ik_sockaddr *a);
	int (*connect)(const struct ik_sockaddr *a);
	/*
	 * Why this method cannot run here under p (its mode), as a phrase
	 * for --list, or NULL: it can as far as can be told without
	 * running it. NULL op: always available.
	 */
	const char *(*unavailable)(const struct ik_chan_params *p);
	/*
	 * Test hook (IPCKERN_FAULT=wake-drop@N): send a message without
	 * its wake-up, as a lost wake-up leaves it: posted, the peer still
	 * asleep. The peer's deadline (or the controller's watch) must
	 * find it. NULL: the method cannot post without waking (a pipe's
	 * bytes are its wake-up).
	 */
	ik_send_fn send_nowake;
};

struct ik_channel {
	const struct ik_transport_ops *ops;
	struct ik_chan_params p;
	/* What kernels call; setup may specialise them (spsc by --wait). */
	ik_send_fn send;
	ik_recv_fn recv;
	void *priv; /* the transport's state; shared memory if it must be */
	struct ik_chan_shared *sh;
	size_t sh_len;
	size_t mb_stride;  /* one mailbox, header and slots */
	size_t mb_slot;	   /* one slot: the size, in whole lines */
	uint64_t mb_slots; /* slots per mailbox */
	/* spin checks for abort (and yields on one PU) every spin_check */
	unsigned spin_check;
	char granted[96];   /* what the kernel granted, for the report */
	unsigned strangers; /* connections setup dropped: not our own peer */
	/* the lines the method bounces (setup sets it; else the shared
	 * block), whose pages --home verifies; and where the first-touch
	 * thread found itself running (-1: none ran) */
	void *lines;
	size_t lines_len;
	int touched_on;
	/* the controller's alone (ops->watch): since when side s looked
	 * stuck, and what it saw then */
	struct ik_watch {
		bool armed;
		uint64_t since_ns, seen;
	} watch[2];
	/* p.wake_deadline_ns as a relative timeout (ik_wake_deadline) */
	struct timespec deadline;
	struct ik_waits *waits; /* a sleeping --wait's rings and fds */
};

/* The wake-up deadline as the relative timeout a wait call takes, or
 * NULL (none): FUTEX_WAIT, semtimedop, sigtimedwait take it with no call
 * added, though the kernel arms a timer per sleep (futex, and spsc's
 * waits on its wake word, leave the deadline to a watch for that
 * reason). */
static inline const struct timespec *
ik_wake_deadline(const struct ik_channel *ch)
{
	return ch->p.wake_deadline_ns ? &ch->deadline : NULL;
}

/* The registry (ipc/methods.def): NULL-terminated, in --list order. */
extern const struct ik_transport_ops *const ik_transports[];

/* The method called name, or NULL. */
const struct ik_transport_ops *ik_transport_find(const char *name);

/*
 * README.md's method table, from each method's doc in ik_transports
 * order (build/ik-methods-md prints it; test_methods fails when the
 * README's copy differs). Returns 0 or -EIO when f fails.
 */
int ik_transports_markdown(FILE *f);

/* The harness floor (ipc/floor.c): one word, size 1, ping-pong only; not
 * in ik_transports, so never a --method. */
extern const struct ik_transport_ops ik_floor_ops;

/* Largest size ops carries under p (never above IK_SIZE_MAX). */
size_t ik_transport_max_size(const struct ik_transport_ops *ops,
			     const struct ik_chan_params *p);

/*
 * Set up a channel for ops with p: shared block, mailboxes, then
 * ops->setup. Returns 0, -EINVAL for a size the method refuses, or the
 * setup's -errno (the channel is then left clean).
 */
int ik_channel_init(struct ik_channel *ch, const struct ik_transport_ops *ops,
		    const struct ik_chan_params *p);

/* Per-peer open after the split (notes the peer's pid and tid). */
int ik_channel_open_side(struct ik_channel *ch, enum ik_side side);

/*
 * For a watch (the controller): whether side's thread sleeps (S in
 * /proc; true where no /proc is mounted), and a SIGUSR1 to it, which makes a
 * blocking call return EINTR (the crew's handler has no SA_RESTART) so that the
 * call is retried. ik_watch_stuck: side has looked stuck with the same value
 * seen for the whole wake-up deadline (a first look arms it; a changed one, or
 * !looks, disarms it); now_ns from CLOCK_MONOTONIC.
 */
bool ik_channel_peer_sleeps(const struct ik_channel *ch, enum ik_side side);
void ik_channel_kick(const struct ik_channel *ch, enum ik_side side);
bool ik_watch_stuck(struct ik_channel *ch, enum ik_side side, bool looks,
		    uint64_t seen, uint64_t now_ns);
/* The watch of pipe, uds, uds-dgram and uds-seqpacket: bytes wait in
 * side s's end, unchanged, while its reader sleeps for the deadline: a
 * lost wake-up, counted, and the reader kicked. */
void ik_fds_watch(struct ik_channel *ch);

/* Free everything ik_channel_init made; safe on a zeroed channel. */
void ik_channel_destroy(struct ik_channel *ch);

/* Ask every waiter in the channel to give up with -ECANCELED. */
void ik_channel_abort(struct ik_channel *ch);

static inline bool ik_channel_aborted(const struct ik_channel *ch)
{
	return atomic_load_explicit(&ch->sh->abort, memory_order_relaxed);
}

/* Lost wake-ups so far: counted where found, the trip then retried. */
static inline uint64_t ik_channel_lost(const struct ik_channel *ch)
{
	return atomic_load_explicit(&ch->sh->lost, memory_order_relaxed);
}
/*
 * Count a wait that ran out with its message posted, once per deadline:
 * a find less than one deadline after the last counted one is not
 * counted. Such a wait began while its peer slept on that loss, and its
 * message was posted only when the peer woke; its wake-up may still be
 * in flight (in a ping-pong our timer, started a round trip after the
 * peer's, can beat the reply's wake-up: CI counted one dropped wake-up
 * twice so), and nothing at this moment tells that from a second loss.
 * So two losses within a deadline count as one, and a method that lost
 * every wake-up would show about half of them.
 */
void ik_channel_count_lost(struct ik_channel *ch);

/*
 * Signal-only methods: copy the payload into the mailbox side `to` reads,
 * before the wake-up; the reader copies it out after. The seq/ack pair
 * gives the hand-off a release/acquire edge of its own (so TSan sees it
 * even when the wake-up is a syscall it cannot model). put blocks while
 * the ring is full; get returns -EPROTO if woken with nothing there.
 */
int ik_mailbox_put(struct ik_channel *ch, enum ik_side to, const void *buf,
		   size_t len);
int ik_mailbox_get(struct ik_channel *ch, enum ik_side side, void *buf,
		   size_t len);
/* Messages put in side's mailbox and not yet taken, and (*ack) how many
 * were taken so far: for a watch. */
uint64_t ik_mailbox_pending(const struct ik_channel *ch, enum ik_side side,
			    uint64_t *ack);

/*
 * Memory for a channel's shared state: ik_mem_alloc's, bound to the
 * channel's node; with p.lines.touch every page is faulted in by a
 * thread pinned to touch_cpu before anything else writes it (the CPU
 * it saw in ch->touched_on); with p.lines.fresh ik_channel_mem_free
 * keeps the mapping to the end of the run (ik_shm_retired_free), so no
 * later cell is handed the same, still cached, frames. NULL on failure.
 */
void *ik_channel_mem(struct ik_channel *ch, size_t len, bool shared);
void ik_channel_mem_free(const struct ik_channel *ch, void *p, size_t len);
/* Unmap what --fresh kept; the CLI calls it once the cells are done. */
void ik_shm_retired_free(void);
/*
 * Where the pages of [p, p + len) are (move_pages, query mode): the
 * node of them all, IK_NODES_MIXED when they are on different nodes,
 * or -errno; *pages their count.
 */
#define IK_NODES_MIXED (-4096)
int ik_shm_nodes_of(void *p, size_t len, unsigned *pages);
/* Fault p's pages in from a thread pinned to cpu; its sched_getcpu()
 * in *seen. 0 or -errno (-EINVAL: cannot run there). */
int ik_touch_from(int cpu, void *p, size_t len, int *seen);

/* Anonymous MAP_SHARED memory, zeroed; NULL on failure. */
void *ik_shm_alloc(size_t len);
/* The same, its pages bound to NUMA node (libnuma) before the first
 * touch; node -1: no binding (ik_shm_alloc). */
void *ik_shm_alloc_on(size_t len, int node);
/*
 * The same, MAP_PRIVATE unless shared: for the bulk of a channel whose
 * peers are threads of one process, which real code keeps in private
 * memory (malloc). A 64 KiB spsc stream ran at about half the speed of
 * a private ring over shared pages here (docs/harness-cost.md). Freed
 * with ik_shm_free; bound to node unless it is -1.
 */
void *ik_mem_alloc(size_t len, bool shared, int node);
/* The node ch's shared pages are bound to (its params), or -1. */
int ik_channel_node(const struct ik_channel *ch);
/* Shared memory for ch's transport: ik_channel_mem(ch, len, true). */
void *ik_channel_shm(struct ik_channel *ch, size_t len);
/*
 * The NUMA node the page holding p is on (move_pages query; a page not
 * yet touched is faulted in first, under the region's policy), or -errno.
 */
int ik_shm_node_of(void *p);
void ik_shm_free(void *p, size_t len);

/* Whole-buffer fd I/O: retries EINTR (unless aborted) and short counts. */
int ik_write_full(struct ik_channel *ch, int fd, const void *buf, size_t len);
int ik_read_full(struct ik_channel *ch, int fd, void *buf, size_t len);

/*
 * Other local users (ipc/guard.c). Names in namespaces every user shares
 * (POSIX mq, abstract AF_UNIX) are random, so nobody can take one first;
 * listeners check every peer they accept. ik_random: n bytes from
 * getrandom, 0 or -errno. ik_random_name: prefix and 128 random bits in
 * hex into buf; its length, or -errno.
 */
int ik_random(void *buf, size_t n);
int ik_random_name(char *buf, size_t len, const char *prefix);
/* A listener is up at a and nobody of ours has connected yet. */
void ik_listening(const struct sockaddr *a, socklen_t len);
/*
 * Test seams, NULL in a run: ik_test_random replaces getrandom (so a test
 * can make a name repeat); ik_test_listening hears every listener's
 * address right after listen() (so a test can connect first, as a
 * stranger would).
 */
extern int (*ik_test_random)(void *buf, size_t n);
extern void (*ik_test_listening)(const struct sockaddr *a, socklen_t len);
/* Test seam, NULL in a run: tcp's two sockets, A's and B's, once connected
 * (so a test can reshape one after the handshake). */
extern void (*ik_test_tcp_connected)(int a, int b);

/*
 * SysV objects outlive their processes (ipc/sysv_reap.c): start, right
 * after making them, forks a child that removes the n ids of kind (msg
 * queues or semaphore sets) if every holder of the parent's end dies
 * first; stop, after teardown removed them itself, tells it so and
 * reaps it. In process mode each peer must close r->fd (open_side), so
 * that only the parent's death counts. start: 0 or -errno.
 */
enum { IK_SYSV_MSG, IK_SYSV_SEM };
struct ik_sysv_reaper {
	pid_t pid;
	int fd;
};
int ik_sysv_reaper_start(struct ik_sysv_reaper *r, int kind, const int *ids,
			 unsigned n);
void ik_sysv_reaper_stop(struct ik_sysv_reaper *r);

/* Close *fd if open and mark it closed. */
void ik_close(int *fd);

/*
 * The fd-per-direction methods (pipe, uds, tcp, eventfd, mq) share one
 * state shape: side s reads rd[s] and writes wr[s] (the same fd for a
 * socket). In process mode each peer closes the fds it does not use.
 */
struct ik_fds {
	int rd[2];
	int wr[2];
};

/* A malloc'd ik_fds with every fd -1, or NULL. */
struct ik_fds *ik_fds_new(void);
int ik_fds_open_side(struct ik_channel *ch, enum ik_side side);
void ik_fds_teardown(struct ik_channel *ch);
/*
 * Byte-stream send/recv over wr[side]/rd[side]: a 4-byte length frames
 * each message; recv reads at most p.buffer bytes a call (if set) and
 * fails with -EBADMSG when the frame's length is not len.
 */
int ik_fds_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		size_t len);
int ik_fds_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		size_t len);
/* The same framing on a stream socket, moved with send/recv (sendmsg/
 * recvmsg for the iovec path) instead of write/read: uds, tcp, vsock. */
int ik_sock_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		 size_t len);
int ik_sock_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		 size_t len);

/*
 * Apply --buffer as SO_SNDBUF/SO_RCVBUF to fd; note what was granted. A
 * TCP socket takes them before listen() or connect() (tcp(7)): the window
 * scale and the MSS are agreed in the handshake, from the buffers then.
 */
int ik_sock_buffers(struct ik_channel *ch, int fd);

/*
 * setup for a socketpair method (uds, uds-dgram): one AF_UNIX socketpair
 * of type, each end both ways of its side (struct ik_fds in ch->priv),
 * --buffer applied. 0 or -errno, nothing left open.
 */
int ik_socketpair_setup(struct ik_channel *ch, int type);
/*
 * Whole-message socket I/O (uds-dgram, uds-seqpacket; ik_fds in
 * ch->priv): one send or recv is one message, a short one is -EMSGSIZE,
 * the peer gone is -EPIPE. ik_dgram_max: the largest message a socket
 * buffer of p->buffer (or the default) takes, at most 64 KiB.
 */
size_t ik_dgram_max(const struct ik_chan_params *p);
int ik_dgram_send(struct ik_channel *ch, enum ik_side side, const void *buf,
		  size_t len);
int ik_dgram_recv(struct ik_channel *ch, enum ik_side side, void *buf,
		  size_t len);
/* Note in ch->granted what fd has now (SO_SNDBUF/SO_RCVBUF); 0. */
int ik_sock_granted(struct ik_channel *ch, int fd);

/*
 * Connections outside a channel (ipc/sock.c), behind ops->listen.
 * ik_sock_listen: a non-blocking stream listener bound to the address a
 * method filled in *a (SO_REUSEADDR over IPv4), queueing backlog; the
 * bound address back in *a, and ik_listening told. The fd or -errno.
 * ik_sock_connect: a blocking connection to a, set up as accepted ones
 * are; the fd or -errno. It is a plain call, not an op, since the
 * connect kernel times it in every request (no indirect call there) and
 * the address a method's listen gave already says what to open.
 * ik_sock_accepted: either end of a new connection, before use:
 * TCP_NODELAY over TCP, so small messages are not held back by Nagle.
 */
int ik_sock_listen(struct ik_sockaddr *a, unsigned backlog);
int ik_sock_connect(const struct ik_sockaddr *a);
void ik_sock_accepted(int fd, int family);

/* FUTEX_WAIT/FUTEX_WAKE; shared for process mode. 0 or -errno. */
int ik_futex_wait(_Atomic uint32_t *addr, uint32_t val, bool shared);
int ik_futex_wake(_Atomic uint32_t *addr, int n, bool shared);
/* The same wait with the relative timeout the call takes anyway (the
 * wake-up deadline: no syscall added); -ETIMEDOUT when it ran out. */
struct timespec;
int ik_futex_wait_timed(_Atomic uint32_t *addr, uint32_t val, bool shared,
			const struct timespec *rel);

/*
 * A sleeper that says so, for methods whose waker must not pay a futex
 * call when nobody sleeps: ik_futex_sleep waits while *w still reads v,
 * having raised *flag first; ik_futex_wake_flagged wakes only if *flag
 * is up. The seq_cst fences make a Dekker pair of the waker's store to
 * *w and the sleeper's store to *flag, so no wake-up is lost. The sleep
 * has the wake-up deadline (the timeout FUTEX_WAIT takes anyway): run
 * out with *w moved on, it is a lost wake-up, counted; the caller looks
 * again. 0, or -ECANCELED when the run was aborted.
 */
static inline int ik_futex_sleep(struct ik_channel *ch, _Atomic uint32_t *w,
				 uint32_t v, _Atomic uint32_t *flag,
				 bool shared)
{
	int ret = 0;

	atomic_store_explicit(flag, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(w, memory_order_acquire) == v)
		ret = ik_futex_wait_timed(w, v, shared, ik_wake_deadline(ch));
	atomic_store_explicit(flag, 0, memory_order_relaxed);
	if (ret == -EINTR)
		ret = ik_channel_aborted(ch) ? -ECANCELED : 0;
	if (ik_unlikely(ret == -ETIMEDOUT)) {
		/* moved on, and nobody woke us: lost, not absorbed */
		if (atomic_load_explicit(w, memory_order_acquire) != v)
			ik_channel_count_lost(ch);
		ret = 0;
	}
	return ret;
}

static inline void ik_futex_wake_flagged(_Atomic uint32_t *w,
					 _Atomic uint32_t *flag, bool shared)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(flag, memory_order_relaxed))
		ik_futex_wake(w, 1, shared);
}

/*
 * One fd over an AF_UNIX socket (SCM_RIGHTS), for methods that set up
 * in one process and hand an fd to the other: ik_fd_send 0 or -errno;
 * ik_fd_recv the fd (close-on-exec), -EPIPE when the sender went away
 * first, -EBADMSG for anything but exactly one fd.
 */
int ik_fd_send(int sock, int fd);
int ik_fd_recv(int sock);

/*
 * memcpy for the shared-memory hot paths: a message of at most 16 bytes
 * is copied inline (two possibly overlapping words), sparing the libc
 * call on the hop's critical path; larger ones go to memcpy.
 */
static inline void ik_copy(void *dst, const void *src, size_t len)
{
	uint64_t a, b;

	if (ik_likely(len >= 8 && len <= 16)) {
		__builtin_memcpy(&a, src, 8);
		__builtin_memcpy(&b, (const char *)src + len - 8, 8);
		__builtin_memcpy(dst, &a, 8);
		__builtin_memcpy((char *)dst + len - 8, &b, 8);
		return;
	}
	__builtin_memcpy(dst, src, len);
}

static inline void ik_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * One step of a busy wait. Every ch->spin_check steps it looks at the
 * abort flag, and when the peers share (or may share) one CPU it yields
 * there, since spinning would only burn the peer's time slice; pinned to
 * one CPU, spin_check is 1.
 * Returns 0 to keep spinning, -ECANCELED to give up.
 */
static inline int ik_spin_step(struct ik_channel *ch, unsigned *n)
{
	ik_cpu_relax();
	if (ik_unlikely(++*n >= ch->spin_check)) {
		*n = 0;
		if (ik_channel_aborted(ch))
			return -ECANCELED;
		if (ch->p.same_pu || ch->p.unpinned)
			sched_yield();
	}
	return 0;
}

/*
 * spsc's ring seen from one seat, for a kernel loop that inlines the hot
 * path (kernels/stream.c). Through ch->send every message costs an
 * indirect call and a store of the position; a store per message to a
 * line of one's own halves a bare slot-sequence ring at 8 B on AMD EPYC
 * (it holds the store buffer behind the slot's miss). A cursor keeps the
 * position in the caller's registers: take it by value, never its
 * address, so the compiler can. Slot layout: [seq u64][payload]; seq is
 * position + 1 once the payload is in.
 */
struct ik_spsc_cursor {
	unsigned char *slots;
	_Atomic uint64_t *tail; /* the consumer's published tail */
	uint64_t pos;		/* next position to put or take */
	uint64_t seen;		/* producer: last tail read */
	uint64_t cap, mask;
	uint64_t batch_mask; /* consumer: publish tail every mask + 1 */
	size_t stride;
};

/*
 * A cursor on ch's ring for side: the producer's for side A's sending
 * seat (side A sends, side B receives), the consumer's otherwise. Only
 * a spinning spsc stream has one: -EOPNOTSUPP for anything else (use
 * ch->send/recv then). Until ik_spsc_close, ch->send/recv on that seat
 * must not be used.
 */
int ik_spsc_open(struct ik_channel *ch, enum ik_side side,
		 struct ik_spsc_cursor *c);
/* Hand the position back to the ring (and publish the consumer's tail). */
void ik_spsc_close(struct ik_channel *ch, enum ik_side side,
		   struct ik_spsc_cursor c);

static inline _Atomic uint64_t *ik_spsc_slot(const struct ik_spsc_cursor *c,
					     uint64_t pos)
{
	return (_Atomic uint64_t *)(c->slots + (pos & c->mask) * c->stride);
}

/* Producer: ch->send's work, inline. 0 or -ECANCELED. */
static inline int ik_spsc_put(struct ik_channel *ch, struct ik_spsc_cursor *c,
			      const void *buf, size_t len)
{
	_Atomic uint64_t *s;

	if (ik_unlikely(c->pos - c->seen >= c->cap)) {
		unsigned n = 0;

		/* acquire: the consumer's copy out of the slot is done */
		while (c->pos - (c->seen = atomic_load_explicit(
					 c->tail, memory_order_acquire)) >=
		       c->cap)
			if (ik_spin_step(ch, &n))
				return -ECANCELED;
	}
	s = ik_spsc_slot(c, c->pos);
	ik_copy((unsigned char *)s + 8, buf, len);
	/* release pairs with the consumer's acquire of seq */
	atomic_store_explicit(s, c->pos + 1, memory_order_release);
	c->pos++;
	return 0;
}

/* Consumer: ch->recv's work, inline. 0 or -ECANCELED. */
static inline int ik_spsc_take(struct ik_channel *ch, struct ik_spsc_cursor *c,
			       void *buf, size_t len)
{
	_Atomic uint64_t *s = ik_spsc_slot(c, c->pos);

	if (ik_unlikely(atomic_load_explicit(s, memory_order_acquire) !=
			c->pos + 1)) {
		unsigned n = 0;

		/* release: all taken so far is free before we wait */
		atomic_store_explicit(c->tail, c->pos, memory_order_release);
		while (atomic_load_explicit(s, memory_order_acquire) !=
		       c->pos + 1)
			if (ik_spin_step(ch, &n))
				return -ECANCELED;
	}
	ik_copy(buf, (unsigned char *)s + 8, len);
	if ((++c->pos & c->batch_mask) == 0)
		atomic_store_explicit(c->tail, c->pos, memory_order_release);
	return 0;
}

/* ---- wait strategies (ipc/wait.c) ---- */

/* A --spin-budget in iterations of the spin loop, not ns. */
#define IK_BUDGET_ITERS (1ull << 63)
/* hybrid's budget when --spin-budget is not given: 20 us */
#define IK_SPIN_BUDGET_DEFAULT 20000u

/* Its one-line description for --list; "?" past the last. */
const char *ik_wait_summary(enum ik_wait w);
/* The strategy called s, or -1. */
int ik_wait_by_name(const char *s);
/* Every name in enum order, NULL-terminated (static). */
const char *const *ik_wait_names(void);
/*
 * Why w cannot run here, as a phrase naming what is missing (the CPUID
 * bit, the kernel's io_uring opcode, the syscall), or NULL: it can.
 * Detected once, thread-safe.
 */
const char *ik_wait_unavailable(enum ik_wait w);
/* CPUID.7.0:ECX[5] (WAITPKG: UMONITOR, UMWAIT, TPAUSE). */
bool ik_cpu_waitpkg(void);
/* CPUID 0x80000001:ECX[29] (MONITORX, MWAITX). */
bool ik_cpu_monitorx(void);
/* The kernel's /sys/devices/system/cpu/umwait_control, as a phrase
 * into b: 0, or -ENOENT when the kernel has none. */
int ik_umwait_control(char *b, size_t n);
/*
 * --spin-budget's one value: ns as a whole number with an optional unit
 * (ns, us, ms; at most 1 s: "0", "500", "250ns", "2us"), or iterations
 * of the spin loop with a trailing i ("1000i"), which *v carries with
 * IK_BUDGET_ITERS set. 0 or -EINVAL.
 */
int ik_spin_budget_parse(const char *s, uint64_t *v);
/* The canonical spelling of a budget: "0ns", "250ns", "2us", "1000i". */
void ik_spin_budget_name(uint64_t v, char *b, size_t n);

/*
 * A full fence, for the Dekker pairs of the per-strategy loops. Not
 * always_inline, unlike those: GCC refuses a fence inlined by force
 * under -fsanitize=thread (which does not model fences; TSan sees the
 * hand-off by the release/acquire pair on the data instead).
 */
static inline void ik_full_fence(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

/* Whether the waker must wake w's sleeper (the sleeping strategies). */
static inline bool ik_wait_sleeps(enum ik_wait w)
{
	return w == IK_WAIT_FUTEX || w == IK_WAIT_HYBRID ||
	       w == IK_WAIT_FUTEX_WAITV || w == IK_WAIT_URING_FUTEX ||
	       w == IK_WAIT_URING_POLL;
}

/*
 * For a transport that takes every strategy, in its setup: -EOPNOTSUPP
 * when ch->p.wait cannot run here (ik_wait_unavailable says why), else
 * what the strategy needs made before the split (io_uring rings and
 * eventfds in ch->waits); 0 or -errno, nothing left on failure.
 * Teardown frees it (safe when nothing was made).
 */
int ik_waits_setup(struct ik_channel *ch);
void ik_waits_teardown(struct ik_channel *ch);

/*
 * The sleeping strategies' halves; 0 or -errno (-EINTR: a signal).
 * Each sleep gives up after rel or dl (NULL: never) with -ETIMEDOUT:
 * futex_waitv's own timeout, io_uring_enter's (it rides the wait's call).
 */
int ik_waitv_sleep(_Atomic uint32_t *w, uint32_t v, bool shared,
		   const struct timespec *rel);
int ik_uring_futex_sleep(struct ik_channel *ch, enum ik_side side,
			 _Atomic uint32_t *w, uint32_t v,
			 const struct timespec *dl);
int ik_uring_futex_wake(struct ik_channel *ch, enum ik_side from,
			_Atomic uint32_t *w);
int ik_uring_poll_sleep(struct ik_channel *ch, enum ik_side side,
			const struct timespec *dl);
int ik_uring_poll_wake(struct ik_channel *ch, enum ik_side to);

/*
 * One sleep of side on word w while it reads v, by strategy W, a
 * constant in every caller (each strategy has its own loop, and this
 * folds to one call). 0 after a wake-up (maybe spurious: look again),
 * -ECANCELED when the run was aborted, or -errno. dl (NULL: none) is
 * the relative deadline of ik_wake_deadline: every sleeping strategy
 * gives up after it with -ETIMEDOUT (the caller then looks for a lost
 * wake-up): futex and hybrid by FUTEX_WAIT's timeout, futex-waitv by
 * its own, uring-futex and uring-poll by io_uring_enter's.
 */
static inline __attribute__((always_inline)) int
ik_wait_sleep(struct ik_channel *ch, enum ik_side side, _Atomic uint32_t *w,
	      uint32_t v, const struct timespec *dl, const enum ik_wait W)
{
	bool shared = ch->p.mode == IK_MODE_PROCESS;
	int ret;

	if (W == IK_WAIT_FUTEX_WAITV)
		ret = ik_waitv_sleep(w, v, shared, dl);
	else if (W == IK_WAIT_URING_FUTEX)
		ret = ik_uring_futex_sleep(ch, side, w, v, dl);
	else if (W == IK_WAIT_URING_POLL)
		ret = ik_uring_poll_sleep(ch, side, dl);
	else if (dl)
		ret = ik_futex_wait_timed(w, v, shared, dl);
	else
		ret = ik_futex_wait(w, v, shared);
	if (ret == -EINTR)
		ret = ik_channel_aborted(ch) ? -ECANCELED : 0;
	return ret;
}

/* Wake the sleeper of side !from on w, by strategy W. 0 or -errno. */
static inline __attribute__((always_inline)) int
ik_wait_wake(struct ik_channel *ch, enum ik_side from, _Atomic uint32_t *w,
	     const enum ik_wait W)
{
	int ret;

	if (W == IK_WAIT_URING_FUTEX)
		return ik_uring_futex_wake(ch, from, w);
	if (W == IK_WAIT_URING_POLL)
		return ik_uring_poll_wake(ch, (enum ik_side) !from);
	ret = ik_futex_wake(w, 1, ch->p.mode == IK_MODE_PROCESS);
	return ret < 0 ? ret : 0;
}

#if defined(__x86_64__)
static inline uint64_t ik_wait_tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
#endif

/*
 * The monitoring strategies' first half: watch the line holding addr
 * (UMONITOR, MONITORX); the caller looks once more, then calls
 * ik_wait_pause, which sleeps until the line is written (or a timeout,
 * so the abort flag is seen). Encoded as bytes, so no assembler or -m
 * flag is needed; reached only after ik_waits_setup found the CPUID bit.
 */
static inline __attribute__((always_inline)) void
ik_wait_arm(const volatile void *addr, const enum ik_wait W)
{
#if defined(__x86_64__)
	if (W == IK_WAIT_UMWAIT) /* umonitor %rax */
		__asm__ volatile(".byte 0xf3, 0x0f, 0xae, 0xf0" ::"a"(addr)
				 : "memory");
	else if (W == IK_WAIT_MWAITX) /* monitorx %rax, %ecx, %edx */
		__asm__ volatile(".byte 0x0f, 0x01, 0xfa" ::"a"(addr), "c"(0),
				 "d"(0)
				 : "memory");
#else
	(void)addr;
	(void)W;
#endif
}

/* TSC cycles a monitoring wait sleeps at most, then looks at abort;
 * TPAUSE's nap between looks. */
#define IK_MONITOR_CYCLES 100000u
#define IK_TPAUSE_CYCLES  3000u

/*
 * One step of a non-sleeping strategy W after a look found nothing:
 * spin (pause), yield, umwait, tpause or mwaitx; every ch->spin_check
 * steps (every step but spin's) it checks the abort flag. 0 to look
 * again, -ECANCELED to give up.
 */
static inline __attribute__((always_inline)) int
ik_wait_pause(struct ik_channel *ch, unsigned *n, const enum ik_wait W)
{
#if defined(__x86_64__)
	/* bit 0 of the control: C0.1, the lighter state, quicker out */
	if (W == IK_WAIT_UMWAIT || W == IK_WAIT_TPAUSE) {
		uint64_t d = ik_wait_tsc() + (W == IK_WAIT_UMWAIT
						      ? IK_MONITOR_CYCLES
						      : IK_TPAUSE_CYCLES);

		if (W == IK_WAIT_UMWAIT) /* umwait %ecx */
			__asm__ volatile(
				".byte 0xf2, 0x0f, 0xae, 0xf1" ::"c"(1),
				"a"((uint32_t)d), "d"((uint32_t)(d >> 32))
				: "cc", "memory");
		else /* tpause %ecx */
			__asm__ volatile(
				".byte 0x66, 0x0f, 0xae, 0xf1" ::"c"(1),
				"a"((uint32_t)d), "d"((uint32_t)(d >> 32))
				: "cc", "memory");
		return ik_channel_aborted(ch) ? -ECANCELED : 0;
	}
	if (W == IK_WAIT_MWAITX) { /* mwaitx %eax, %ecx, %ebx: timer on */
		__asm__ volatile(".byte 0x0f, 0x01, 0xfb" ::"a"(0), "c"(2),
				 "b"(IK_MONITOR_CYCLES)
				 : "memory");
		return ik_channel_aborted(ch) ? -ECANCELED : 0;
	}
#endif
	if (W == IK_WAIT_YIELD) {
		sched_yield();
		return ik_channel_aborted(ch) ? -ECANCELED : 0;
	}
	return ik_spin_step(ch, n);
}

#endif
