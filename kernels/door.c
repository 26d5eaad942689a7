/* SPDX-License-Identifier: MIT */
/*
 * The door of a crew's listener (echo, connect): our own clients only.
 * A loopback port and an abstract AF_UNIX name are open to every local
 * user, and /proc/net lists both, so the server looks at each connection
 * it accepts and drops anyone else unanswered, counting them:
 *   uds  the peer's SO_PEERCRED must carry our uid and the pid of one of
 *        our clients: each client adds its pid to a shared set before it
 *        connects (threads share ours, processes have their own);
 *   tcp  the peer's address must be the local address one of our clients
 *        published for that connection right after connect(). Clients
 *        keep the ephemeral ports connect() picks (binding first would
 *        change how ports are reused, which the connect kernel measures);
 *        the price is that the server may accept before the client has
 *        published. Such a connection waits in a small pen, polled with
 *        the listener, until its client shows up in the table or until
 *        it speaks: our clients publish before they send anything, so a
 *        connection that speaks while unknown is a stranger.
 * A stranger never gets a byte and never holds the server up: the pen is
 * polled, never read, and when it is full its oldest goes. It has room
 * for every client of ours (in a storm of connects, processes may be
 * slow to publish) and IK_DOOR_PEN more, so what goes is a stranger
 * unless that many came while one of ours had not yet said who it is.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernels.h"

#define PORTS 65536

/* tcp: one client's current connection, on a line of its own */
struct ik_door_addr {
	alignas(IK_CACHELINE) _Atomic uint64_t key;
};

/* tcp: an accepted connection not known yet */
struct ik_door_wait {
	int fd;
	uint64_t key;
};

/* tcp: an IPv4 address and port as one word; 0 is none */
static uint64_t addr_key(const struct sockaddr_in *in)
{
	return 1ull << 48 | (uint64_t)ntohl(in->sin_addr.s_addr) << 16 |
	       ntohs(in->sin_port);
}

static unsigned pid_slot(int32_t pid, unsigned mask)
{
	return ((uint32_t)pid * 2654435761u) & mask; /* Knuth's multiplier */
}

/* uds: an open-addressed set at most half full; no removal */
static void pid_add(struct ik_door *d, int32_t pid)
{
	unsigned h = pid_slot(pid, d->pmask);

	for (;; h = (h + 1) & d->pmask) {
		int32_t cur = 0;

		if (atomic_compare_exchange_strong(&d->pids[h], &cur, pid) ||
		    cur == pid)
			return;
	}
}

static bool pid_has(const struct ik_door *d, int32_t pid)
{
	unsigned h = pid_slot(pid, d->pmask);
	int32_t cur;

	for (;; h = (h + 1) & d->pmask) {
		cur = atomic_load_explicit(&d->pids[h], memory_order_acquire);
		if (cur == pid || cur == 0)
			return cur != 0;
	}
}

void ik_door_free(struct ik_door *d)
{
	ik_shm_free((void *)d->strangers, sizeof(*d->strangers));
	ik_shm_free(d->who, d->n * sizeof(*d->who));
	ik_shm_free((void *)d->by_port, PORTS * sizeof(*d->by_port));
	ik_shm_free((void *)d->pids, (d->pmask + 1) * sizeof(*d->pids));
	free(d->pen);
	free(d->pfd);
	d->pen = NULL;
	d->pfd = NULL;
	d->strangers = NULL;
	d->who = NULL;
	d->by_port = NULL;
	d->pids = NULL;
}

int ik_door_init(struct ik_door *d, int family, unsigned n, int node)
{
	unsigned size = 16;

	*d = (struct ik_door){.family = family, .n = n, .uid = geteuid()};
	d->strangers = ik_shm_alloc_on(sizeof(*d->strangers), node);
	if (family == AF_INET) {
		d->who = ik_shm_alloc_on(n * sizeof(*d->who), node);
		d->by_port = ik_shm_alloc_on(PORTS * sizeof(*d->by_port), node);
		d->pcap = n + IK_DOOR_PEN;
		d->pen = calloc(d->pcap, sizeof(*d->pen));
		d->pfd = calloc(1 + d->pcap, sizeof(*d->pfd));
	} else {
		while (size < 2 * n)
			size *= 2;
		d->pmask = size - 1;
		d->pids = ik_shm_alloc_on(size * sizeof(*d->pids), node);
	}
	if (!d->strangers ||
	    (family == AF_INET &&
	     (!d->who || !d->by_port || !d->pen || !d->pfd)) ||
	    (family != AF_INET && !d->pids)) {
		ik_door_free(d);
		return -ENOMEM;
	}
	return 0;
}

void ik_door_arrive(struct ik_door *d)
{
	if (d->family != AF_INET)
		pid_add(d, (int32_t)getpid());
}

int ik_door_enter(struct ik_door *d, unsigned k, int fd)
{
	struct sockaddr_in in;
	socklen_t len = sizeof(in);

	if (d->family != AF_INET)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&in, &len))
		return -errno;
	/* the address first: whoever finds the port finds it complete */
	atomic_store_explicit(&d->who[k].key, addr_key(&in),
			      memory_order_release);
	atomic_store_explicit(&d->by_port[ntohs(in.sin_port)], k + 1,
			      memory_order_release);
	return 0;
}

void ik_door_leave(struct ik_door *d, unsigned k)
{
	/* while the socket still holds the port, so nobody else has it */
	if (d->family == AF_INET)
		atomic_store_explicit(&d->who[k].key, 0, memory_order_release);
}

/* 1 one of ours, 0 not known yet (tcp), -1 a stranger */
static int known(const struct ik_door *d, int fd, uint64_t key)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	uint32_t k;

	if (d->family == AF_INET) {
		k = atomic_load_explicit(&d->by_port[key & 0xffff],
					 memory_order_acquire);
		return k && k <= d->n &&
		       atomic_load_explicit(&d->who[k - 1].key,
					    memory_order_acquire) == key;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return -1;
	return cr.uid == d->uid && pid_has(d, cr.pid) ? 1 : -1;
}

static void stranger(struct ik_door *d, int fd)
{
	/* a reset, not a FIN: nothing goes back, and no TIME_WAIT of
	 * theirs lands on the port the connect kernel counts */
	if (d->family == AF_INET)
		setsockopt(fd, SOL_SOCKET, SO_LINGER,
			   &(struct linger){.l_onoff = 1, .l_linger = 0},
			   sizeof(struct linger));
	close(fd);
	atomic_fetch_add(d->strangers, 1);
}

static int pen_take(struct ik_door *d, unsigned i)
{
	int fd = d->pen[i].fd;

	memmove(&d->pen[i], &d->pen[i + 1],
		(d->npen - i - 1) * sizeof(d->pen[0]));
	d->npen--;
	return fd;
}

int ik_door_accept(struct ik_door *d, int lfd, int wait_ms)
{
	struct pollfd one, *p = d->pfd ? d->pfd : &one;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned i, np = d->npen;
	uint64_t key = 0;
	int fd, r;

	/* a penned connection whose client has published since */
	for (i = 0; i < np; i++)
		if (known(d, d->pen[i].fd, d->pen[i].key) > 0)
			return pen_take(d, i);
	p[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
	for (i = 0; i < np; i++)
		p[1 + i] =
			(struct pollfd){.fd = d->pen[i].fd, .events = POLLIN};
	if (np && d->recheck_ms && (wait_ms < 0 || wait_ms > d->recheck_ms))
		wait_ms = d->recheck_ms;
	r = poll(p, 1 + np, wait_ms);
	if (r < 0 && errno != EINTR)
		return -errno;
	if (r <= 0)
		return -EAGAIN;
	/* spoke or hung up while unknown: ours publish before they send.
	 * Downwards, since pen_take moves the later entries. */
	for (i = np; i-- > 0;) {
		if (!p[1 + i].revents)
			continue;
		r = known(d, d->pen[i].fd, d->pen[i].key);
		fd = pen_take(d, i);
		if (r > 0)
			return fd;
		stranger(d, fd);
	}
	if (!p[0].revents)
		return -EAGAIN;
	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && d->npen) {
		stranger(d, pen_take(d, 0)); /* the pen's fds are the spare */
		return -EAGAIN;
	}
	if (fd < 0)
		return errno == EAGAIN || errno == EINTR ||
				       errno == ECONNABORTED
			       ? -EAGAIN
			       : -errno;
	if (d->family == AF_INET && ss.ss_family == AF_INET)
		key = addr_key((struct sockaddr_in *)&ss);
	r = known(d, fd, key);
	if (r > 0)
		return fd;
	if (r < 0 || !key) {
		stranger(d, fd);
		return -EAGAIN;
	}
	if (d->npen == d->pcap)
		stranger(d, pen_take(d, 0));
	d->pen[d->npen].fd = fd;
	d->pen[d->npen++].key = key;
	return -EAGAIN;
}

void ik_door_shut(struct ik_door *d)
{
	while (d->npen)
		stranger(d, pen_take(d, d->npen - 1));
}

uint64_t ik_door_drain(struct ik_door *d, int lfd)
{
	if (!d->strangers) /* never opened */
		return 0;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd =
			accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);

		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0)
			break;
		if (known(d, fd,
			  ss.ss_family == AF_INET
				  ? addr_key((struct sockaddr_in *)&ss)
				  : 0) > 0)
			close(fd); /* one of ours, left by a failed run */
		else
			stranger(d, fd);
	}
	return atomic_load(d->strangers);
}
