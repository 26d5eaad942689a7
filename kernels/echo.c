/* SPDX-License-Identifier: MIT */
/*
 * Echo server: one server and --clients N clients over a real listener
 * (tcp on 127.0.0.1, or an abstract AF_UNIX name: no file to leave
 * behind). Each client sends a --size message and waits for the whole
 * echo before the next (closed loop); every round trip is timed. The
 * server is one of three models, the choice the studies compare:
 *   thread    a thread per connection reading into a preallocated
 *             --buffer and writing back what it read;
 *   epoll     one thread, non-blocking sockets, an epoll loop with a
 *             per-connection output buffer for what the socket refused;
 *   io_uring  one thread, reads and writes on registered buffers
 *             (IORING_OP_READ_FIXED / WRITE_FIXED) through one ring.
 * Clients are member 1..N of a crew (kernels/crew.c), the server member
 * 0; CPU is summed per side over every thread that side ran. The server
 * accepts only its own clients (kernels/door.c); anyone else who finds
 * the listener is dropped unanswered and counted.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernels.h"

#define WAIT_SLICE_MS	       50 /* server loops look at abort this often */
#define SAMPLES_BUDGET	       (16u << 20) /* samples kept over all clients */
#define IK_ECHO_DEFAULT_BUFFER (64u << 10)

const char *const ik_server_names[] = {"thread", "epoll", "io_uring", NULL};

struct echo_client {
	alignas(IK_CACHELINE) uint64_t count;
	uint64_t t_end_ns;
	_Atomic int fd; /* for unblock, thread mode */
};

struct echo {
	const struct ik_config *cfg;
	const struct ik_timer *timer;
	struct ik_sockaddr addr;
	int lfd;
	struct ik_door door;
	unsigned nclients;
	uint64_t cap;	   /* samples per client */
	uint64_t *samples; /* shared: nclients x cap */
	size_t samples_len;
	struct echo_client *cl; /* shared: nclients */
	_Atomic int *sfd;	/* shared: the server's connection fds */
	size_t buffer; /* the server's read buffer: --buffer, or 64 KiB */
	bool process;  /* members are processes: a fault hook can die */
	enum {
		FAULT_NONE,
		FAULT_KILL_SERVER,
		FAULT_KILL_CLIENT,
		FAULT_STALL_SERVER
	} fault;
};

/* ---- sockets ---- */

int ik_listener(const char *method, unsigned backlog, struct ik_sockaddr *a)
{
	int fd, one = 1, ret;

	memset(a, 0, sizeof(*a));
	if (!strcmp(method, "tcp")) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->len = sizeof(*in);
	} else {
		struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
		int n;

		/* abstract: the name dies with the last fd, no file; random,
		 * so nobody can take it first (the door checks who comes) */
		un->sun_family = AF_UNIX;
		n = ik_random_name(un->sun_path + 1, sizeof(un->sun_path) - 1,
				   "ipckern-");
		if (n < 0)
			return n;
		a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				     1 + (size_t)n);
	}
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		return -errno;
	if (a->ss.ss_family == AF_INET)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a->ss, a->len) ||
	    listen(fd, (int)backlog) ||
	    getsockname(fd, (struct sockaddr *)&a->ss, &a->len)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ik_listening((struct sockaddr *)&a->ss, a->len);
	return fd;
}

int ik_connect(const struct ik_sockaddr *a)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0),
	    one = 1, ret;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (a->ss.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int ik_send_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int ik_recv_all(int fd, void *p, size_t n)
{
	unsigned char *b = p;

	while (n) {
		ssize_t r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE; /* the other end closed */
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- clients ---- */

static inline uint64_t now(bool tsc)
{
	return tsc ? ik_tsc() : ik_clock_ns();
}

/* The closed loop; tsc and verify are constants in each caller. */
static inline int client_loop(struct echo *e, unsigned c, int fd,
			      unsigned char *out, unsigned char *in,
			      uint64_t deadline, bool tsc, bool verify)
{
	size_t len = e->cfg->size, head = len < 8 ? len : 8;
	uint64_t *s = &e->samples[(size_t)c * e->cap], t0, t1, k;
	int ret = 0;

	t0 = now(tsc);
	for (k = 0; k < e->cap; k++) {
		memcpy(out, &k, head);
		if (ik_unlikely(ret = ik_send_all(fd, out, len)) ||
		    ik_unlikely(ret = ik_recv_all(fd, in, len)))
			break;
		t1 = now(tsc);
		s[k] = t1 - t0;
		t0 = t1;
		if (ik_unlikely(memcmp(in, out, head) ||
				in[len - 1] != out[len - 1] ||
				(verify && memcmp(in, out, len)))) {
			ret = -EBADMSG;
			break;
		}
		if (ik_unlikely(t1 >= deadline)) {
			k++;
			break;
		}
	}
	e->cl[c].count = k;
	return ret;
}

static __attribute__((noinline)) int loop_tsc(struct echo *e, unsigned c,
					      int fd, unsigned char *out,
					      unsigned char *in, uint64_t dl)
{
	return client_loop(e, c, fd, out, in, dl, true, false);
}

static __attribute__((noinline)) int loop_clock(struct echo *e, unsigned c,
						int fd, unsigned char *out,
						unsigned char *in, uint64_t dl)
{
	return client_loop(e, c, fd, out, in, dl, false, false);
}

static __attribute__((noinline)) int loop_verify(struct echo *e, unsigned c,
						 int fd, unsigned char *out,
						 unsigned char *in, uint64_t dl)
{
	return client_loop(e, c, fd, out, in, dl,
			   e->timer->kind == IK_CLOCK_TSC, true);
}

static int client(struct ik_crew *cr, unsigned i)
{
	struct echo *e = cr->arg;
	const struct ik_config *cfg = e->cfg;
	unsigned c = i - 1;
	bool tsc = e->timer->kind == IK_CLOCK_TSC;
	unsigned char *out = malloc(cfg->size), *in = malloc(cfg->size);
	uint64_t deadline = UINT64_MAX;
	struct ik_cpu_mark mark;
	struct ik_cpu_usage use;
	int fd, ret = -ENOMEM;
	size_t k;

	e->cl[c].fd = -1;
	if (!out || !in)
		goto out;
	for (k = 0; k < cfg->size; k++)
		out[k] = (unsigned char)(c * 31 + k * 13 + 1);
	/* fault this client's sample pages in now, not in the loop */
	memset(&e->samples[(size_t)c * e->cap], 0, e->cap * sizeof(uint64_t));
	ik_door_arrive(&e->door);
	fd = ik_connect(&e->addr);
	if (fd < 0) {
		ret = fd;
		ik_crew_fail(cr, i, ret, "client %u: connect: %s", i,
			     strerror(-ret));
		goto out;
	}
	e->cl[c].fd = fd;
	if ((ret = ik_door_enter(&e->door, c, fd))) {
		ik_crew_fail(cr, i, ret, "client %u: getsockname: %s", i,
			     strerror(-ret));
		goto done;
	}
	if ((ret = ik_crew_barrier(cr)))
		goto done;
	ik_cpu_mark(&mark);
	if (e->fault == FAULT_KILL_CLIENT && c == 0) {
		ik_send_all(fd, out, cfg->size);
		ik_recv_all(fd, in, cfg->size);
		if (e->process)
			raise(SIGKILL);
		ret = -EIO;
		goto done;
	}
	if (cfg->duration_ns)
		deadline = now(tsc) + (uint64_t)((double)cfg->duration_ns /
						 e->timer->ns_per_tick);
	ret = cfg->verify ? loop_verify(e, c, fd, out, in, deadline)
	      : tsc	  ? loop_tsc(e, c, fd, out, in, deadline)
			  : loop_clock(e, c, fd, out, in, deadline);
	e->cl[c].t_end_ns = ik_clock_ns();
	ik_cpu_since(&mark, &use);
	ik_crew_add_cpu(cr, i, &use);
	if (ret == -EBADMSG)
		ik_crew_fail(cr, i, ret,
			     "client %u: echo %llu came back different", i,
			     (unsigned long long)e->cl[c].count);
done:
	shutdown(fd, SHUT_WR); /* the server sees EOF and lets go */
	ik_door_leave(&e->door, c);
	e->cl[c].fd = -1; /* before close: unblock must not reach a reused fd */
	close(fd);
out:
	free(out);
	free(in);
	return ret;
}

/* ---- server models ---- */

struct conn_thread {
	struct ik_crew *cr;
	int fd;
	int ret;
	pthread_t th;
};

/* thread: a thread per connection, a preallocated --buffer, echo it */
static void *conn_main(void *p)
{
	struct conn_thread *t = p;
	struct echo *e = t->cr->arg;
	size_t cap = e->buffer;
	unsigned char *buf = malloc(cap);
	struct ik_cpu_mark mark;
	struct ik_cpu_usage use;
	bool killed = false;

	ik_cpu_mark(&mark);
	t->ret = buf ? 0 : -ENOMEM;
	while (!t->ret) {
		ssize_t r = read(t->fd, buf, cap);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			t->ret = r < 0 ? -errno : 0;
			break;
		}
		t->ret = ik_send_all(t->fd, buf, (size_t)r);
		if (e->fault == FAULT_KILL_SERVER && !killed) {
			killed = true;
			if (e->process)
				raise(SIGKILL);
			t->ret = -EIO;
		}
	}
	ik_cpu_since(&mark, &use);
	ik_crew_add_cpu(t->cr, 0, &use);
	free(buf);
	return NULL;
}

static int serve_threads(struct ik_crew *cr)
{
	struct echo *e = cr->arg;
	struct conn_thread *t = calloc(e->nclients, sizeof(*t));
	unsigned j, started = 0;
	int ret = t ? 0 : -ENOMEM;

	for (j = 0; !ret && j < e->nclients; j++) {
		t[j] = (struct conn_thread){.cr = cr, .fd = e->sfd[j]};
		if (pthread_create(&t[j].th, NULL, conn_main, &t[j]))
			ret = -EAGAIN;
		else
			started++;
	}
	for (j = 0; j < started; j++) {
		pthread_join(t[j].th, NULL);
		ret = ret ? ret : t[j].ret;
	}
	free(t);
	return ret;
}

struct econn {
	int fd;
	bool open, want_out;
	unsigned char *out; /* what the socket refused, to send first */
	size_t olen, ocap;
};

static int queue_out(struct econn *k, const unsigned char *p, size_t n)
{
	if (k->olen + n > k->ocap) {
		size_t cap = 2 * (k->olen + n);
		unsigned char *o = realloc(k->out, cap);

		if (!o)
			return -ENOMEM;
		k->out = o;
		k->ocap = cap;
	}
	memcpy(k->out + k->olen, p, n);
	k->olen += n;
	return 0;
}

/* Write what is queued; 0 when it all went or the socket is full. */
static int flush_out(struct econn *k)
{
	size_t off = 0;

	while (off < k->olen) {
		ssize_t w = write(k->fd, k->out + off, k->olen - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	memmove(k->out, k->out + off, k->olen - off);
	k->olen -= off;
	return 0;
}

static int epoll_want(int ep, struct econn *k, unsigned j)
{
	bool want = k->olen > 0;
	struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0),
				 .data.u32 = j};

	if (want == k->want_out)
		return 0;
	k->want_out = want;
	return epoll_ctl(ep, EPOLL_CTL_MOD, k->fd, &ev) ? -errno : 0;
}

/* Read what is there; echo it, queueing what the socket refuses. */
static int epoll_read(struct econn *k, unsigned char *in, size_t cap,
		      unsigned *live)
{
	for (;;) {
		ssize_t r = read(k->fd, in, cap), w = 0;
		int ret;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r <= 0) {
			k->open = false;
			(*live)--;
			return r < 0 ? -errno : 0;
		}
		if (!k->olen) {
			w = write(k->fd, in, (size_t)r);
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
			w = w < 0 ? 0 : w;
		}
		if (w < r && (ret = queue_out(k, in + w, (size_t)(r - w))))
			return ret;
	}
}

static int serve_epoll(struct ik_crew *cr)
{
	struct echo *e = cr->arg;
	unsigned n = e->nclients, live = n, j;
	struct econn *k = calloc(n, sizeof(*k));
	struct epoll_event *evs = calloc(n, sizeof(*evs));
	unsigned char *in = malloc(e->buffer);
	int ep = epoll_create1(EPOLL_CLOEXEC), ret = 0;

	if (!k || !evs || !in || ep < 0) {
		ret = ep < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (j = 0; j < n && !ret; j++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = j};

		k[j] = (struct econn){.fd = e->sfd[j], .open = true};
		k[j].ocap = e->cfg->size + e->buffer;
		k[j].out = malloc(k[j].ocap);
		if (!k[j].out)
			ret = -ENOMEM;
		else if (fcntl(k[j].fd, F_SETFL,
			       fcntl(k[j].fd, F_GETFL) | O_NONBLOCK) ||
			 epoll_ctl(ep, EPOLL_CTL_ADD, k[j].fd, &ev))
			ret = -errno;
	}
	while (!ret && live && !ik_crew_aborted(cr)) {
		int m = epoll_wait(ep, evs, (int)n, WAIT_SLICE_MS), x;

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			ret = -errno;
			break;
		}
		for (x = 0; x < m && !ret; x++) {
			struct econn *c = &k[evs[x].data.u32];

			if (!c->open)
				continue;
			if (evs[x].events & EPOLLOUT)
				ret = flush_out(c);
			if (!ret &&
			    (evs[x].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				ret = epoll_read(c, in, e->buffer, &live);
			if (!ret && c->open)
				ret = epoll_want(ep, c, evs[x].data.u32);
			if (!ret && !c->open)
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			if (e->fault == FAULT_KILL_SERVER) {
				if (e->process)
					raise(SIGKILL);
				ret = -EIO;
			}
		}
	}
out:
	for (j = 0; k && j < n; j++)
		free(k[j].out);
	if (ep >= 0)
		close(ep);
	free(k);
	free(evs);
	free(in);
	return ret;
}

/* io_uring: user_data is connection << 1 | (1 for a write) */
static void uring_read(struct io_uring *r, struct echo *e,
		       const struct iovec *iov, unsigned j)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(r);

	io_uring_prep_read_fixed(sqe, e->sfd[j], iov[j].iov_base,
				 (unsigned)iov[j].iov_len, 0, (int)j);
	io_uring_sqe_set_data64(sqe, (uint64_t)j << 1);
}

static void uring_write(struct io_uring *r, struct echo *e,
			const struct iovec *iov, unsigned j, size_t off,
			size_t len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(r);

	io_uring_prep_write_fixed(sqe, e->sfd[j],
				  (unsigned char *)iov[j].iov_base + off,
				  (unsigned)(len - off), 0, (int)j);
	io_uring_sqe_set_data64(sqe, (uint64_t)j << 1 | 1);
}

static int serve_uring(struct ik_crew *cr)
{
	struct echo *e = cr->arg;
	unsigned n = e->nclients, live = n, j;
	size_t cap = e->buffer;
	struct iovec *iov = calloc(n, sizeof(*iov));
	size_t *len = calloc(n, sizeof(*len)), *off = calloc(n, sizeof(*off));
	unsigned char *mem = NULL;
	struct io_uring ring;
	bool ring_ok = false;
	int ret;

	if (!iov || !len || !off ||
	    posix_memalign((void **)&mem, 4096, n * cap)) {
		ret = -ENOMEM;
		goto out;
	}
	for (j = 0; j < n; j++)
		iov[j] = (struct iovec){mem + j * cap, cap};
	ret = io_uring_queue_init(2 * n + 8, &ring, 0);
	if (ret) {
		ik_crew_fail(cr, 0, ret, "server: io_uring_queue_init: %s",
			     strerror(-ret));
		goto out;
	}
	ring_ok = true;
	/* registered buffers are pinned: RLIMIT_MEMLOCK may refuse them */
	ret = io_uring_register_buffers(&ring, iov, n);
	if (ret) {
		ik_crew_fail(cr, 0, ret,
			     "server: io_uring_register_buffers (%u x %zu "
			     "B): %s (RLIMIT_MEMLOCK?)",
			     n, cap, strerror(-ret));
		goto out;
	}
	for (j = 0; j < n; j++)
		uring_read(&ring, e, iov, j);
	while (live && !ik_crew_aborted(cr)) {
		struct __kernel_timespec ts = {0, WAIT_SLICE_MS * 1000000LL};
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts,
						       NULL);
		if (ret == -ETIME || ret == -EINTR) {
			ret = 0;
			continue;
		}
		if (ret < 0)
			break;
		ret = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			seen++;
			j = (unsigned)(ud >> 1);
			if (res == -EINTR || res == -EAGAIN) {
				if (ud & 1)
					uring_write(&ring, e, iov, j, off[j],
						    len[j]);
				else
					uring_read(&ring, e, iov, j);
				continue;
			}
			if (res < 0) {
				ret = res;
				break;
			}
			if (!(ud & 1) && res == 0) { /* the client closed */
				live--;
				continue;
			}
			if (!(ud & 1)) {
				len[j] = (size_t)res;
				off[j] = 0;
				uring_write(&ring, e, iov, j, 0, len[j]);
			} else if ((off[j] += (size_t)res) < len[j]) {
				uring_write(&ring, e, iov, j, off[j], len[j]);
			} else {
				uring_read(&ring, e, iov, j);
			}
			if (e->fault == FAULT_KILL_SERVER) {
				if (e->process)
					raise(SIGKILL);
				ret = -EIO;
				break;
			}
		}
		io_uring_cq_advance(&ring, seen);
		if (ret)
			break;
	}
out:
	if (ring_ok)
		io_uring_queue_exit(&ring);
	free(mem);
	free(iov);
	free(len);
	free(off);
	return ret;
}

static int server(struct ik_crew *cr)
{
	struct echo *e = cr->arg;
	unsigned j, accepted = 0;
	struct ik_cpu_mark mark;
	struct ik_cpu_usage use;
	int ret = 0;

	for (j = 0; j < e->nclients; j++)
		e->sfd[j] = -1;
	while (accepted < e->nclients && !ret) {
		int fd = ik_door_accept(&e->door, e->lfd, WAIT_SLICE_MS);

		if (fd == -EAGAIN) {
			ret = ik_crew_aborted(cr) ? -ECANCELED : 0;
			continue;
		}
		if (fd < 0) {
			ret = fd;
			ik_crew_fail(cr, 0, ret, "server: accept: %s",
				     strerror(-ret));
			break;
		}
		if (e->addr.ss.ss_family == AF_INET) /* as clients do */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1},
				   sizeof(int));
		e->sfd[accepted++] = fd;
	}
	ik_door_shut(&e->door); /* all ours are in: the rest are strangers */
	if (!ret)
		ret = ik_crew_barrier(cr);
	/* test hook: a server that stops answering, so --timeout must end
	 * the run (it sleeps in slices: nothing else can wake it) */
	while (!ret && e->fault == FAULT_STALL_SERVER && !ik_crew_aborted(cr))
		poll(NULL, 0, WAIT_SLICE_MS);
	ik_cpu_mark(&mark);
	if (!ret && e->cfg->server == IK_SERVER_THREAD)
		ret = serve_threads(cr);
	else if (!ret && e->cfg->server == IK_SERVER_EPOLL)
		ret = serve_epoll(cr);
	else if (!ret)
		ret = serve_uring(cr);
	ik_cpu_since(&mark, &use);
	ik_crew_add_cpu(cr, 0, &use);
	for (j = 0; j < accepted; j++)
		close(e->sfd[j]);
	return ret;
}

static int echo_body(struct ik_crew *cr, unsigned i)
{
	return i ? client(cr, i) : server(cr);
}

/* Thread mode: make every blocked read, write or accept return. */
static void echo_unblock(struct ik_crew *cr)
{
	struct echo *e = cr->arg;
	unsigned j;

	shutdown(e->lfd, SHUT_RDWR);
	for (j = 0; j < e->nclients; j++) {
		if (e->cl[j].fd >= 0)
			shutdown(e->cl[j].fd, SHUT_RDWR);
		if (e->sfd[j] >= 0)
			shutdown(e->sfd[j], SHUT_RDWR);
	}
}

int ik_echo(const struct ik_config *cfg, const struct ik_transport_ops *ops,
	    enum ik_mode mode, const struct ik_topo *topo,
	    const struct ik_timer *timer, struct ik_result *res)
{
	const char *fault = getenv(IK_FAULT_ENV);
	struct echo e = {.cfg = cfg, .timer = timer, .lfd = -1};
	struct ik_cpu_usage *use = NULL;
	struct ik_crew cr = {0};
	uint64_t end = 0;
	unsigned c, n = cfg->clients;
	int ret;

	e.process = mode == IK_MODE_PROCESS;
	e.buffer = cfg->buffer ? cfg->buffer : IK_ECHO_DEFAULT_BUFFER;
	ik_result_begin(res, cfg, ops, mode, topo);
	res->kernel = &ik_kernel_echo;
	res->server = cfg->server;
	res->clients = n;
	if (fault && !strcmp(fault, "kill-server"))
		e.fault = FAULT_KILL_SERVER;
	else if (fault && !strcmp(fault, "kill-client"))
		e.fault = FAULT_KILL_CLIENT;
	else if (fault && !strcmp(fault, "stall-server"))
		e.fault = FAULT_STALL_SERVER;
	e.nclients = n;
	e.cap = cfg->iters_given || !cfg->duration_ns ? cfg->iters
						      : SAMPLES_BUDGET / n;
	if (e.cap > cfg->iters)
		e.cap = cfg->iters;
	e.samples_len = (size_t)n * e.cap * sizeof(uint64_t);
	ret = ik_hist_init(&res->hist, IK_HIST_MAX_NS);
	e.samples = ret ? NULL : ik_shm_alloc(e.samples_len);
	e.cl = ik_shm_alloc(n * sizeof(*e.cl));
	e.sfd = ik_shm_alloc(n * sizeof(*e.sfd));
	use = calloc(n + 1, sizeof(*use));
	if (ret || !e.samples || !e.cl || !e.sfd || !use) {
		ret = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "out of memory");
		goto out;
	}
	for (c = 0; c < n; c++)
		e.cl[c].fd = e.sfd[c] = -1;
	e.lfd = ik_listener(ops->name, cfg->backlog, &e.addr);
	if (e.lfd < 0) {
		ret = e.lfd;
		snprintf(res->errmsg, sizeof(res->errmsg), "listener: %s",
			 strerror(-ret));
		goto out;
	}
	if ((ret = ik_door_init(&e.door, e.addr.ss.ss_family, n))) {
		snprintf(res->errmsg, sizeof(res->errmsg), "out of memory");
		goto out;
	}
	e.door.recheck_ms = 1; /* clients publish, then wait at the gate */
	snprintf(res->granted, sizeof(res->granted),
		 "%s server, %u clients, backlog %u",
		 ik_server_names[cfg->server], n, cfg->backlog);
	ik_crew_init(&cr, cfg, mode, topo, echo_body, echo_unblock, &e, use);
	ret = ik_crew_run(&cr);
	if (cr.stuck) {
		res->err = ret;
		snprintf(res->errmsg, sizeof(res->errmsg), "%s", cr.errmsg);
		return ret; /* members may still touch e's shared memory */
	}
	if (ret) {
		snprintf(res->errmsg, sizeof(res->errmsg), "%s", cr.errmsg);
		goto out;
	}
	for (c = 0; c < n; c++) {
		uint64_t k;

		res->count += e.cl[c].count;
		end = e.cl[c].t_end_ns > end ? e.cl[c].t_end_ns : end;
		for (k = 0; k < e.cl[c].count; k++)
			ik_hist_record(
				&res->hist,
				ik_ticks_to_ns(
					timer,
					e.samples[(size_t)c * e.cap + k]));
		ik_cpu_add(&res->cpu[0], &use[c + 1]);
	}
	res->cpu[1] = use[0];
	res->wall_ns = end > cr.t_open_ns ? end - cr.t_open_ns : 0;
	res->hit_cap = cfg->duration_ns && res->count == (uint64_t)n * e.cap;
out:
	if (e.lfd >= 0) {
		/* the last moment: anyone still queued is counted */
		res->strangers = ik_door_drain(&e.door, e.lfd);
		close(e.lfd);
	}
	ik_door_free(&e.door);
	ik_shm_free(e.samples, e.samples_len);
	ik_shm_free(e.cl, n * sizeof(*e.cl));
	ik_shm_free(e.sfd, n * sizeof(*e.sfd));
	free(use);
	res->err = ret;
	return ret;
}

const struct ik_kernel_ops ik_kernel_echo = {
	.name = "echo",
	.summary = "a server and --clients in a closed loop",
	.id = IK_KERNEL_ECHO,
	.crew = true,
	.run = ik_echo,
};
