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
#include "view.h"

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
	int (*connect)(const struct ik_sockaddr *a); /* the method's */
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
	struct ik_counters kc;
	struct ik_counts c0;
	int ret = out ? ik_crew_barrier(cr) : -ENOMEM;

	ik_crew_count_start(cr, 0, &kc, &c0);
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
	ik_crew_count_end(cr, 0, &kc, &c0);
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
	int fd = c->connect(&c->addr), ret;

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
	struct ik_counters kc;
	struct ik_counts c0;
	int ret = in ? 0 : -ENOMEM;

	me->fd = -1;
	ik_door_arrive(&c->door);
	memset(rs, 0, c->cap * sizeof(*rs)); /* fault in before the gate */
	memset(cs, 0, c->cap * sizeof(*cs));
	if (!ret)
		ret = ik_crew_barrier(cr);
	ik_crew_count_start(cr, i, &kc, &c0);
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
	ik_crew_count_end(cr, i, &kc, &c0);
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
	struct ik_counts *counts = NULL; /* --explain: each member's */
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
	if (cfg->explain && !(counts = calloc(n + 1, sizeof(*counts))))
		ret = -ENOMEM;
	if (ret || !c.req_s || !c.conn_s || !c.cl || !c.sh || !use) {
		ret = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "out of memory");
		goto out;
	}
	c.connect = ops->connect;
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
	cr.load_out = &res->load;
	cr.counts = counts;
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
	ik_crew_counts_fold(&cr, res);
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
	free(counts);
	res->err = ret;
	return ret;
}

/*
 * Over tcp, a connect() that finds the listen queue full is dropped, and
 * the kernel retries it 1, 3, 7 ... 127 s later whatever --duration says
 * (9000 clients on a backlog of 128 ran 30 to over 60 s here, its
 * connect p50 the 1 s retry timer). With no more clients than the queue
 * holds, none is ever dropped. uds blocks instead, and is woken as soon
 * as there is room.
 */
static int connect_validate(const struct ik_config *c,
			    const struct ik_sweep *sw, char *msg, size_t len)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	unsigned i, cap = 0, n = ik_clients_max(sw, c);
	bool tcp = false;

	for (i = 0; i < sw->nmethods; i++)
		tcp |= !strcmp(sw->methods[i]->name, "tcp");
	if (f) {
		if (fscanf(f, "%u", &cap) != 1)
			cap = 0;
		fclose(f);
	}
	if (!tcp || (n <= c->backlog && (!cap || n <= cap)))
		return 0;
	if (cap && n > cap)
		snprintf(msg, len,
			 "--clients %u: over tcp, more connects than the "
			 "listen queue holds are dropped and retried 1, 3, "
			 "7 ... s later, whatever --duration says, and "
			 "net.core.somaxconn caps any --backlog at %u; raise "
			 "it (sysctl -w net.core.somaxconn=%u) and use "
			 "--backlog %u, or at most %u clients",
			 n, cap, n, n, cap);
	else
		snprintf(msg, len,
			 "--clients %u: over tcp, more connects than the "
			 "listen queue holds (--backlog %u) are dropped and "
			 "retried 1, 3, 7 ... s later, whatever --duration "
			 "says; use --backlog %u, or at most %u clients",
			 n, c->backlog, n, c->backlog);
	return -EINVAL;
}

/* ---- its part of the reports ---- */

static void connect_title(const struct ik_view *v)
{
	fprintf(v->f, "ipckern %s: a connection per request, %s per run\n",
		IK_VERSION,
		v->cfg->duration_ns ? "a fixed time" : "--iters per client");
}

static void connect_row(FILE *f, const struct ik_result *res)
{
	const struct ik_connect_result *cx = &res->connect;
	const struct ik_hist *h = &res->hist, *ch = &cx->connect_hist;
	double secs = res->wall_ns / 1e9;
	char a[6][16];

	snprintf(a[5], 16, "%ld", cx->time_wait);
	fprintf(f,
		"%9llu %9.0f %7llu | %8s %8s | %8s %8s %8s | %9s | "
		"%9.0f %9.0f\n",
		(unsigned long long)res->count,
		secs > 0 ? res->count / secs : 0,
		(unsigned long long)cx->failed,
		ik_fmt_ns(a[1], 16, (double)ik_hist_percentile(ch, 50)),
		ik_fmt_ns(a[2], 16, (double)ik_hist_percentile(ch, 99)),
		ik_fmt_ns(a[3], 16, (double)ik_hist_percentile(h, 50)),
		ik_fmt_ns(a[4], 16, (double)ik_hist_percentile(h, 99)),
		ik_fmt_ns(a[0], 16, (double)ik_hist_percentile(h, 99.9)),
		cx->time_wait < 0 ? "-" : a[5],
		ik_per((double)res->cpu[1].cpu_ns, res->count),
		ik_per((double)res->cpu[0].cpu_ns, res->count));
	if (cx->failed)
		fprintf(f, "  %s %s: %llu failed, the first: %s\n",
			res->ops->name, ik_mode_name(res->mode),
			(unsigned long long)cx->failed,
			strerror(-cx->first_err));
}

static void connect_table(const struct ik_view *v)
{
	FILE *f = v->f;
	char b[16];
	unsigned i;

	fprintf(f, "latency in ns (u = us, m = ms)\n\n");
	fprintf(f,
		"%-6s %-7s %7s %7s %6s | %9s %9s %7s | %8s %8s | %8s %8s "
		"%8s | %9s | %9s %9s\n",
		"method", "mode", "clients", "backlog", "size", "requests",
		"req/s", "failed", "conn p50", "conn p99", "req p50", "req p99",
		"p99.9", "TIME_WAIT", "srv cpu", "cli cpu");
	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];

		fprintf(f, "%-6s %-7s %7u %7u %6s | ", res->ops->name,
			ik_mode_name(res->mode), res->clients,
			res->connect.backlog,
			ik_fmt_bytes(b, sizeof(b), res->size));
		if (res->err)
			fprintf(f, "FAILED: %s\n", res->errmsg);
		else
			connect_row(f, res);
	}
	for (i = 0; i < v->nresults; i++)
		if (!v->results[i].err &&
		    !strcmp(v->results[i].ops->name, "tcp")) {
			fprintf(f,
				"\ntcp: listener on 127.0.0.1 with "
				"SO_REUSEADDR; clients take ephemeral ports "
				"(no bind, no SO_REUSEADDR), reused while in "
				"TIME_WAIT only as net.ipv4.tcp_tw_reuse "
				"allows (here %ld). The server closes first, "
				"so TIME_WAIT is on its port: counted from "
				"/proc/net/tcp after the run.\n",
				v->results[i].connect.tw_reuse);
			break;
		}
	fprintf(f, "conn: connect() alone; req: connect, request, reply "
		   "to the server's close; failed connects are counted and "
		   "the client goes on. srv/cli cpu: CPU ns per request.\n");
}

static void connect_cell_json(json_t *o, const struct ik_result *res)
{
	json_object_set_new(o, "clients", json_integer(res->clients));
	ik_strangers_json(o, res);
}

static void connect_json(json_t *o, const struct ik_result *res)
{
	const struct ik_connect_result *cx = &res->connect;
	const struct ik_hist *h = &cx->connect_hist;
	double secs = res->wall_ns / 1e9;

	json_object_set_new(
		o, "connect",
		json_pack("{s:i,s:i,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:{s:I,"
			  "s:I,s:I,s:I},s:o,s:o}",
			  "clients", (int)res->clients, "backlog",
			  (int)cx->backlog, "requests", (json_int_t)res->count,
			  "served", (json_int_t)cx->served, "failed",
			  (json_int_t)cx->failed, "first_failure",
			  cx->failed ? json_string(strerror(-cx->first_err))
				     : json_null(),
			  "requests_per_sec",
			  secs > 0 ? json_real(res->count / secs) : json_null(),
			  "time_wait_after",
			  cx->time_wait < 0 ? json_null()
					    : json_integer(cx->time_wait),
			  "tcp_tw_reuse",
			  cx->tw_reuse < 0 ? json_null()
					   : json_integer(cx->tw_reuse),
			  "connect_time", IK_Q_P50,
			  (json_int_t)ik_hist_percentile(h, 50), IK_Q_P99,
			  (json_int_t)ik_hist_percentile(h, 99), IK_Q_P999,
			  (json_int_t)ik_hist_percentile(h, 99.9), IK_Q_MAX,
			  (json_int_t)h->max, "server_cpu",
			  ik_cpu_json(&res->cpu[1], res->count, "request"),
			  "clients_cpu",
			  ik_cpu_json(&res->cpu[0], res->count, "request")));
}

static const char *const connect_options[] = {"clients", "backlog", NULL};

const struct ik_kernel_ops ik_kernel_connect = {
	.name = "connect",
	.msg = "request",
	.summary = "a connection per request",
	.help = "connect (a connection per\nrequest)",
	.id = IK_KERNEL_CONNECT,
	.options = connect_options,
	.keys = IK_KEY_CLIENTS,
	.crew = true,
	.fixed_time = true,
	.run = ik_connect_kernel,
	.validate = connect_validate,
	.title = connect_title,
	.table = connect_table,
	.json_cell = connect_cell_json,
	.json_measured = ik_roundtrip_json,
	.json_own = connect_json,
};
