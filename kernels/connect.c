/* SPDX-License-Identifier: MIT */
/*
 * Connection per request: a server listening with --backlog (128) that
 * accepts a connection, reads a 16-byte request, answers --size bytes
 * and closes; --clients clients that each connect, send a request, read
 * the reply to its end, close, and repeat. One client is the sequential
 * case, a hundred the parallel one. Two histograms: connect() alone and
 * the whole request. A connection that fails or is refused is counted,
 * with its errno, and the client goes on; nothing is dropped silently.
 * The server closes first, so TIME_WAIT lands on its port: after the
 * run the kernel's tcp table is read to count what was left. The server
 * answers only its own clients (kernels/door.c): each tcp client says
 * which address connect() gave it (one getsockname, inside the timed
 * request) before it sends; anyone else is dropped unanswered, counted.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernels.h"

#define WAIT_SLICE_MS  50
#define SAMPLES_BUDGET (16u << 20)

struct req {
	uint64_t client, seq;
};

struct cn_client {
	alignas(IK_CACHELINE) uint64_t count; /* completed requests */
	uint64_t failed;		      /* connect or request failed */
	int first_err;			      /* its -errno */
	uint64_t t_end_ns;
	_Atomic int fd; /* for unblock, thread mode */
};

struct cn_shared {
	alignas(IK_CACHELINE) _Atomic unsigned clients_done;
	_Atomic uint64_t served; /* requests the server answered */
};

struct cn {
	const struct ik_config *cfg;
	const struct ik_timer *timer;
	struct ik_sockaddr addr;
	int lfd;
	struct ik_door door;
	unsigned nclients;
	uint64_t cap;
	uint64_t *req_s, *conn_s; /* shared: nclients x cap each, ticks */
	size_t samples_len;
	struct cn_client *cl;
	struct cn_shared *sh;
	bool process;
};

static inline unsigned char reply_byte(uint64_t seq, size_t i)
{
	return (unsigned char)(seq * 7 + i * 13 + 1);
}

static int serve_one(struct cn *c, int fd, unsigned char *out)
{
	struct req q;
	size_t i, len = c->cfg->size;
	int ret = ik_recv_all(fd, &q, sizeof(q));

	if (ret)
		return ret;
	for (i = 0; i < len; i++)
		out[i] = reply_byte(q.seq ^ q.client, i);
	return ik_send_all(fd, out, len);
}

static int server(struct ik_crew *cr)
{
	struct cn *c = cr->arg;
	unsigned char *out = malloc(c->cfg->size);
	struct ik_cpu_mark mark;
	struct ik_cpu_usage use;
	int ret = out ? ik_crew_barrier(cr) : -ENOMEM;

	ik_cpu_mark(&mark);
	while (!ret && !ik_crew_aborted(cr)) {
		int fd = ik_door_accept(&c->door, c->lfd, WAIT_SLICE_MS);

		/* every client finished: a request ends at our close, so
		 * nothing of ours still waits (strangers may, forever) */
		if (fd == -EAGAIN &&
		    atomic_load(&c->sh->clients_done) == c->nclients)
			break;
		if (fd == -EAGAIN)
			continue;
		if (fd < 0) {
			ret = fd;
			break;
		}
		/* a client that gives up mid-request is its failure */
		if (!serve_one(c, fd, out))
			atomic_fetch_add(&c->sh->served, 1);
		close(fd); /* the server closes first: TIME_WAIT is ours */
	}
	ik_door_shut(&c->door);
	ik_cpu_since(&mark, &use);
	ik_crew_add_cpu(cr, 0, &use);
	free(out);
	return ret;
}

static inline uint64_t now(bool tsc)
{
	return tsc ? ik_tsc() : ik_clock_ns();
}

/* One request on a new connection; samples its connect and its whole. */
static int one_request(struct cn *c, unsigned k, uint64_t seq,
		       unsigned char *in, uint64_t *t_conn, uint64_t *t_all,
		       bool tsc)
{
	size_t len = c->cfg->size;
	struct req q = {k, seq};
	uint64_t t0 = now(tsc), t1;
	char end;
	int fd = ik_sock_connect(&c->addr), ret;

	if (fd < 0)
		return fd;
	t1 = now(tsc);
	c->cl[k].fd = fd;
	/* who we are, before the server can hear from us */
	ret = ik_door_enter(&c->door, k, fd);
	if (!ret)
		ret = ik_send_all(fd, &q, sizeof(q));
	if (!ret)
		ret = ik_recv_all(fd, in, len);
	/* the reply ends where the server closed: read that EOF */
	if (!ret && read(fd, &end, 1) != 0)
		ret = -EPROTO;
	ik_door_leave(&c->door, k);
	c->cl[k].fd = -1;
	close(fd);
	if (ret)
		return ret;
	*t_conn = t1 - t0;
	*t_all = now(tsc) - t0;
	return in[0] == reply_byte(seq ^ k, 0) &&
			       in[len - 1] == reply_byte(seq ^ k, len - 1)
		       ? 0
		       : -EBADMSG;
}

static int client(struct ik_crew *cr, unsigned i)
{
	struct cn *c = cr->arg;
	unsigned k = i - 1;
	struct cn_client *me = &c->cl[k];
	bool tsc = c->timer->kind == IK_CLOCK_TSC;
	unsigned char *in = malloc(c->cfg->size);
	uint64_t *rs = &c->req_s[(size_t)k * c->cap],
		 *cs = &c->conn_s[(size_t)k * c->cap], seq = 0, deadline;
	struct ik_cpu_mark mark;
	struct ik_cpu_usage use;
	int ret = in ? 0 : -ENOMEM;

	me->fd = -1;
	ik_door_arrive(&c->door);
	memset(rs, 0, c->cap * sizeof(*rs)); /* fault in before the gate */
	memset(cs, 0, c->cap * sizeof(*cs));
	if (!ret)
		ret = ik_crew_barrier(cr);
	ik_cpu_mark(&mark);
	deadline = c->cfg->duration_ns
			   ? now(tsc) + (uint64_t)((double)c->cfg->duration_ns /
						   c->timer->ns_per_tick)
			   : UINT64_MAX;
	while (!ret && me->count < c->cap && !ik_crew_aborted(cr)) {
		int r = one_request(c, k, seq++, in, &cs[me->count],
				    &rs[me->count], tsc);

		if (r == -EBADMSG) {
			ret = r;
			ik_crew_fail(cr, i, r,
				     "client %u: reply %llu came back wrong", i,
				     (unsigned long long)seq - 1);
		} else if (r) {
			if (!me->failed)
				me->first_err = r;
			me->failed++;
		} else {
			me->count++;
		}
		if (now(tsc) >= deadline ||
		    (!c->cfg->duration_ns && me->count + me->failed >= c->cap))
			break;
	}
	me->t_end_ns = ik_clock_ns();
	ik_cpu_since(&mark, &use);
	ik_crew_add_cpu(cr, i, &use);
	atomic_fetch_add(&c->sh->clients_done, 1);
	free(in);
	return ret;
}

static int cn_body(struct ik_crew *cr, unsigned i)
{
	return i ? client(cr, i) : server(cr);
}

static void cn_unblock(struct ik_crew *cr)
{
	struct cn *c = cr->arg;
	unsigned k;

	shutdown(c->lfd, SHUT_RDWR);
	for (k = 0; k < c->nclients; k++)
		if (c->cl[k].fd >= 0)
			shutdown(c->cl[k].fd, SHUT_RDWR);
}

/* Sockets in TIME_WAIT (state 06) with port on one end, from procfs. */
static long time_wait_on(int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[256];
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned lp, rp, st;

		if (sscanf(line, " %*d: %*8x:%x %*8x:%x %x", &lp, &rp, &st) ==
			    3 &&
		    st == 0x06 && ((int)lp == port || (int)rp == port))
			n++;
	}
	fclose(f);
	return n;
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int ik_connect_kernel(const struct ik_config *cfg,
		      const struct ik_transport_ops *ops, enum ik_mode mode,
		      const struct ik_run *run, struct ik_result *res)
{
	const struct ik_timer *timer = run->timer;
	struct cn c = {.cfg = cfg, .timer = timer, .lfd = -1};
	struct ik_connect_result *cx = &res->connect;
	struct ik_cpu_usage *use = NULL;
	struct ik_crew cr = {0};
	unsigned k, n = cfg->clients;
	uint64_t end = 0;
	int ret;

	ik_result_begin(res, cfg, ops, mode, run->topo);
	res->kernel = &ik_kernel_connect;
	res->clients = n;
	cx->backlog = cfg->backlog;
	c.process = mode == IK_MODE_PROCESS;
	c.nclients = n;
	c.cap = cfg->iters_given || !cfg->duration_ns
			? cfg->iters
			: SAMPLES_BUDGET / (2 * n);
	if (c.cap > cfg->iters)
		c.cap = cfg->iters;
	c.samples_len = (size_t)n * c.cap * sizeof(uint64_t);
	ret = ik_hist_init(&res->hist, IK_HIST_MAX_NS);
	if (!ret)
		ret = ik_hist_init(&cx->connect_hist, IK_HIST_MAX_NS);
	c.req_s = ret ? NULL : ik_shm_alloc_on(c.samples_len, run->mem_node);
	c.conn_s = ret ? NULL : ik_shm_alloc_on(c.samples_len, run->mem_node);
	c.cl = ik_shm_alloc_on(n * sizeof(*c.cl), run->mem_node);
	c.sh = ik_shm_alloc_on(sizeof(*c.sh), run->mem_node);
	use = calloc(n + 1, sizeof(*use));
	if (ret || !c.req_s || !c.conn_s || !c.cl || !c.sh || !use) {
		ret = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "out of memory");
		goto out;
	}
	c.lfd = ops->listen ? ops->listen(cfg->backlog, &c.addr) : -EOPNOTSUPP;
	if (c.lfd < 0) {
		ret = c.lfd;
		snprintf(res->errmsg, sizeof(res->errmsg), "listener: %s",
			 strerror(-ret));
		goto out;
	}
	if ((ret = ik_door_init(&c.door, c.addr.ss.ss_family, n,
				run->mem_node))) {
		snprintf(res->errmsg, sizeof(res->errmsg), "out of memory");
		goto out;
	}
	snprintf(res->granted, sizeof(res->granted),
		 "backlog %u, %u clients, %s", cfg->backlog, n,
		 c.addr.ss.ss_family == AF_INET ? "127.0.0.1, SO_REUSEADDR"
						: "abstract AF_UNIX name");
	ik_crew_init(&cr, cfg, mode, run, cn_body, cn_unblock, &c, use);
	ret = ik_crew_run(&cr);
	if (cr.stuck) {
		res->err = ret;
		snprintf(res->errmsg, sizeof(res->errmsg), "%s", cr.errmsg);
		return ret;
	}
	if (ret) {
		snprintf(res->errmsg, sizeof(res->errmsg), "%s", cr.errmsg);
		goto out;
	}
	for (k = 0; k < n; k++) {
		const struct cn_client *me = &c.cl[k];
		uint64_t j;

		res->count += me->count;
		cx->failed += me->failed;
		if (me->failed && !cx->first_err)
			cx->first_err = me->first_err;
		end = me->t_end_ns > end ? me->t_end_ns : end;
		for (j = 0; j < me->count; j++) {
			size_t at = (size_t)k * c.cap + j;

			ik_hist_record(&res->hist,
				       ik_ticks_to_ns(timer, c.req_s[at]));
			ik_hist_record(&cx->connect_hist,
				       ik_ticks_to_ns(timer, c.conn_s[at]));
		}
		ik_cpu_add(&res->cpu[0], &use[k + 1]);
	}
	res->cpu[1] = use[0];
	cx->served = atomic_load(&c.sh->served);
	res->wall_ns = end > cr.t_open_ns ? end - cr.t_open_ns : 0;
	cx->time_wait = -1;
	if (c.addr.ss.ss_family == AF_INET)
		cx->time_wait = time_wait_on(
			ntohs(((struct sockaddr_in *)&c.addr.ss)->sin_port));
	cx->tw_reuse = read_long("/proc/sys/net/ipv4/tcp_tw_reuse");
out:
	if (c.lfd >= 0) {
		/* the last moment: anyone still queued is counted */
		res->strangers = ik_door_drain(&c.door, c.lfd);
		close(c.lfd);
	}
	ik_door_free(&c.door);
	ik_shm_free(c.req_s, c.samples_len);
	ik_shm_free(c.conn_s, c.samples_len);
	ik_shm_free(c.cl, n * sizeof(*c.cl));
	ik_shm_free(c.sh, sizeof(*c.sh));
	free(use);
	res->err = ret;
	return ret;
}

const struct ik_kernel_ops ik_kernel_connect = {
	.name = "connect",
	.summary = "a connection per request",
	.id = IK_KERNEL_CONNECT,
	.crew = true,
	.run = ik_connect_kernel,
};
