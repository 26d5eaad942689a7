/* SPDX-License-Identifier: MIT */
/*
 * Echo server: one server and --clients N clients over a real listener
 * (tcp on 127.0.0.1, or an abstract AF_UNIX name: no file to leave
 * behind). Each client sends a --size message and waits for the whole
 * echo before the next (closed loop); every round trip is timed. The
 * server is one of three models, the choice the studies compare, each
 * in a file of its own (kernels/echo_<model>.c, see echo.h):
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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo.h"
#include "view.h"

#define SAMPLES_BUDGET	       (16u << 20) /* samples kept over all clients */
#define IK_ECHO_DEFAULT_BUFFER (64u << 10)

/*
 * The server models, one file each (kernels/echo_<model>.c), in
 * --server order, which is enum ik_server's. A new model is its file,
 * one line here and its enum entry.
 */
#define ECHO_SERVERS(X)                                                        \
	X("thread", ik_echo_serve_thread)                                      \
	X("epoll", ik_echo_serve_epoll)                                        \
	X("io_uring", ik_echo_serve_uring)

#define SERVER_NAME(name, serve) name,
#define SERVER_ROW(name, serve)	 {name, serve},

const char *const ik_server_names[] = {ECHO_SERVERS(SERVER_NAME) NULL};

static const struct echo_server {
	const char *name;
	int (*serve)(struct ik_crew *cr);
} servers[] = {ECHO_SERVERS(SERVER_ROW)};
_Static_assert(sizeof(servers) / sizeof(servers[0]) == IK_SERVER_URING + 1,
	       "one server model per enum ik_server entry, in its order");

/* ---- sockets ---- */

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
static inline int client_loop(struct ik_echo *e, unsigned c, int fd,
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

static __attribute__((noinline)) int loop_tsc(struct ik_echo *e, unsigned c,
					      int fd, unsigned char *out,
					      unsigned char *in, uint64_t dl)
{
	return client_loop(e, c, fd, out, in, dl, true, false);
}

static __attribute__((noinline)) int loop_clock(struct ik_echo *e, unsigned c,
						int fd, unsigned char *out,
						unsigned char *in, uint64_t dl)
{
	return client_loop(e, c, fd, out, in, dl, false, false);
}

static __attribute__((noinline)) int loop_verify(struct ik_echo *e, unsigned c,
						 int fd, unsigned char *out,
						 unsigned char *in, uint64_t dl)
{
	return client_loop(e, c, fd, out, in, dl,
			   e->timer->kind == IK_CLOCK_TSC, true);
}

static int client(struct ik_crew *cr, unsigned i)
{
	struct ik_echo *e = cr->arg;
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
	fd = ik_sock_connect(&e->addr);
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
	if (e->fault == IK_ECHO_FAULT_KILL_CLIENT && c == 0) {
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

/* ---- server ---- */

static int server(struct ik_crew *cr)
{
	struct ik_echo *e = cr->arg;
	unsigned j, accepted = 0;
	struct ik_cpu_mark mark;
	struct ik_cpu_usage use;
	int ret = 0;

	for (j = 0; j < e->nclients; j++)
		e->sfd[j] = -1;
	while (accepted < e->nclients && !ret) {
		int fd = ik_door_accept(&e->door, e->lfd, IK_ECHO_WAIT_MS);

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
		ik_sock_accepted(fd, e->addr.ss.ss_family); /* as clients */
		e->sfd[accepted++] = fd;
	}
	ik_door_shut(&e->door); /* all ours are in: the rest are strangers */
	if (!ret)
		ret = ik_crew_barrier(cr);
	/* test hook: a server that stops answering, so --timeout must end
	 * the run (it sleeps in slices: nothing else can wake it) */
	while (!ret && e->fault == IK_ECHO_FAULT_STALL_SERVER &&
	       !ik_crew_aborted(cr))
		poll(NULL, 0, IK_ECHO_WAIT_MS);
	ik_cpu_mark(&mark);
	if (!ret)
		ret = servers[e->cfg->server].serve(cr);
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
	struct ik_echo *e = cr->arg;
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
	    enum ik_mode mode, const struct ik_run *run, struct ik_result *res)
{
	const struct ik_timer *timer = run->timer;
	const char *fault = getenv(IK_FAULT_ENV);
	struct ik_echo e = {.cfg = cfg, .timer = timer, .lfd = -1};
	struct ik_cpu_usage *use = NULL;
	struct ik_crew cr = {0};
	uint64_t end = 0;
	unsigned c, n = cfg->clients;
	int ret;

	e.process = mode == IK_MODE_PROCESS;
	e.buffer = cfg->buffer ? cfg->buffer : IK_ECHO_DEFAULT_BUFFER;
	ik_result_begin(res, cfg, ops, mode, run->topo);
	res->kernel = &ik_kernel_echo;
	res->server = cfg->server;
	res->clients = n;
	if (fault && !strcmp(fault, "kill-server"))
		e.fault = IK_ECHO_FAULT_KILL_SERVER;
	else if (fault && !strcmp(fault, "kill-client"))
		e.fault = IK_ECHO_FAULT_KILL_CLIENT;
	else if (fault && !strcmp(fault, "stall-server"))
		e.fault = IK_ECHO_FAULT_STALL_SERVER;
	e.nclients = n;
	e.cap = cfg->iters_given || !cfg->duration_ns ? cfg->iters
						      : SAMPLES_BUDGET / n;
	if (e.cap > cfg->iters)
		e.cap = cfg->iters;
	e.samples_len = (size_t)n * e.cap * sizeof(uint64_t);
	ret = ik_hist_init(&res->hist, IK_HIST_MAX_NS);
	e.samples = ret ? NULL : ik_shm_alloc_on(e.samples_len, run->mem_node);
	e.cl = ik_shm_alloc_on(n * sizeof(*e.cl), run->mem_node);
	e.sfd = ik_shm_alloc_on(n * sizeof(*e.sfd), run->mem_node);
	use = calloc(n + 1, sizeof(*use));
	if (ret || !e.samples || !e.cl || !e.sfd || !use) {
		ret = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "out of memory");
		goto out;
	}
	for (c = 0; c < n; c++)
		e.cl[c].fd = e.sfd[c] = -1;
	e.lfd = ops->listen ? ops->listen(cfg->backlog, &e.addr) : -EOPNOTSUPP;
	if (e.lfd < 0) {
		ret = e.lfd;
		snprintf(res->errmsg, sizeof(res->errmsg), "listener: %s",
			 strerror(-ret));
		goto out;
	}
	if ((ret = ik_door_init(&e.door, e.addr.ss.ss_family, n,
				run->mem_node))) {
		snprintf(res->errmsg, sizeof(res->errmsg), "out of memory");
		goto out;
	}
	e.door.recheck_ms = 1; /* clients publish, then wait at the gate */
	snprintf(res->granted, sizeof(res->granted),
		 "%s server, %u clients, backlog %u", servers[cfg->server].name,
		 n, cfg->backlog);
	ik_crew_init(&cr, cfg, mode, run, echo_body, echo_unblock, &e, use);
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

/* ---- its part of the reports ---- */

static void echo_title(const struct ik_view *v)
{
	fprintf(v->f, "ipckern %s: echo server, closed loop, %s per run\n",
		IK_VERSION,
		v->cfg->duration_ns ? "a fixed time" : "--iters per client");
}

static void echo_table(const struct ik_view *v)
{
	FILE *f = v->f;
	char a[6][16];
	unsigned i;

	fprintf(f, "round trip in ns (u = us, m = ms); MB = 10^6 B, one "
		   "way\n\n");
	fprintf(f,
		"%-6s %-7s %-8s %6s %6s %7s | %10s %8s | %8s %8s %8s | "
		"%9s %9s | %8s %8s\n",
		"method", "mode", "server", "buffer", "size", "clients",
		"msgs/s", "MB/s", "p50", "p99", "p99.9", "srv cpu", "cli cpu",
		"srv cs", "cli cs");
	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];
		const struct ik_hist *h = &res->hist;
		double secs = res->wall_ns / 1e9,
		       rate = secs > 0 ? res->count / secs : 0;

		fprintf(f, "%-6s %-7s %-8s %6s %6s %7u | ", res->ops->name,
			ik_mode_name(res->mode), ik_server_names[res->server],
			ik_fmt_bytes(a[0], 16,
				     res->buffer ? res->buffer : 65536),
			ik_fmt_bytes(a[1], 16, res->size), res->clients);
		if (res->err) {
			fprintf(f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		fprintf(f,
			"%10.0f %8.1f | %8s %8s %8s | %9.0f %9.0f | %8.3f "
			"%8.3f\n",
			rate, rate * (double)res->size / 1e6,
			ik_fmt_ns(a[2], 16, (double)ik_hist_percentile(h, 50)),
			ik_fmt_ns(a[3], 16, (double)ik_hist_percentile(h, 99)),
			ik_fmt_ns(a[4], 16,
				  (double)ik_hist_percentile(h, 99.9)),
			ik_per((double)res->cpu[1].cpu_ns, res->count),
			ik_per((double)res->cpu[0].cpu_ns, res->count),
			ik_per((double)(res->cpu[1].vol_cs +
					res->cpu[1].invol_cs),
			       res->count),
			ik_per((double)(res->cpu[0].vol_cs +
					res->cpu[0].invol_cs),
			       res->count));
	}
	fprintf(f,
		"\nmsgs/s: echoes completed by all clients / the run's wall "
		"time; srv/cli cpu: CPU ns per message summed over every "
		"thread of the server / of all clients; cs: context switches "
		"per message (voluntary + involuntary).\n");
}

static void echo_cell_json(json_t *o, const struct ik_result *res)
{
	json_object_set_new(o, "server",
			    json_string(ik_server_names[res->server]));
	json_object_set_new(o, "clients", json_integer(res->clients));
	ik_strangers_json(o, res);
}

static void echo_json(json_t *o, const struct ik_result *res)
{
	double secs = res->wall_ns / 1e9,
	       rate = secs > 0 ? res->count / secs : 0;

	json_object_set_new(
		o, "echo",
		json_pack(
			"{s:s,s:i,s:I,s:I,s:f,s:f,s:f,s:f,s:o,s:o}", "server",
			ik_server_names[res->server], "clients",
			(int)res->clients, "messages", (json_int_t)res->count,
			"wall_ns", (json_int_t)res->wall_ns, "messages_per_sec",
			rate, "mb_per_sec_one_way",
			rate * (double)res->size / 1e6, "cpu_server_per_msg_ns",
			ik_per((double)res->cpu[1].cpu_ns, res->count),
			"cpu_clients_per_msg_ns",
			ik_per((double)res->cpu[0].cpu_ns, res->count),
			"server_cpu", ik_cpu_json(&res->cpu[1], res->count),
			"clients_cpu", ik_cpu_json(&res->cpu[0], res->count)));
}

static const char *const echo_options[] = {"clients", "server", "backlog",
					   "verify", NULL};

const struct ik_kernel_ops ik_kernel_echo = {
	.name = "echo",
	.summary = "a server and --clients in a closed loop",
	.help = "echo (a server and\n--clients in a closed loop)",
	.id = IK_KERNEL_ECHO,
	.options = echo_options,
	.keys = IK_KEY_SERVER | IK_KEY_CLIENTS,
	.crew = true,
	.fixed_time = true,
	.run = ik_echo,
	.title = echo_title,
	.table = echo_table,
	.json_cell = echo_cell_json,
	.json_measured = ik_roundtrip_json,
	.json_own = echo_json,
};
