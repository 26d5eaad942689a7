/* SPDX-License-Identifier: MIT */
/*
 * Echo server: one server and --clients N clients over a real listener
 * (tcp on 127.0.0.1, or an abstract AF_UNIX name: no file to leave
 * behind). Each client sends a --size message and waits for the whole
 * echo before the next (closed loop; over 64 KiB it reads the echo as
 * it sends); every round trip is timed. The server is one of three
 * models, the choice the studies compare, each in a file of its own
 * (kernels/echo_<model>.c, see echo.h):
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
/* above this a message may not fit in the socket buffers both ways (uds
 * holds about 200 KiB per socket), so the client reads while it sends */
#define BIG_MSG (64u << 10)

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

/*
 * Send n bytes and receive n at once: a message bigger than the socket
 * buffers both ways hold cannot be sent whole before its echo is read,
 * since a blocking server (thread, io_uring) stops reading while its
 * write waits on us. Non-blocking calls, poll() only when neither moved.
 */
static int exchange_all(int fd, const unsigned char *out, unsigned char *in,
			size_t n)
{
	size_t sent = 0, got = 0;

	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		bool moved = false;
		ssize_t r;

		if (sent < n) {
			r = send(fd, out + sent, n - sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r > 0)
				sent += (size_t)r, moved = true;
			else if (r < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
			p.events |= sent < n ? POLLOUT : 0;
		}
		r = recv(fd, in + got, n - got, MSG_DONTWAIT);
		if (r > 0)
			got += (size_t)r, moved = true;
		else if (r == 0)
			return -EPIPE; /* the other end closed */
		else if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (!moved && poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* ---- clients ---- */

static inline uint64_t now(bool tsc)
{
	return tsc ? ik_tsc() : ik_clock_ns();
}

/* The closed loop; tsc, verify and big are constants in each caller
 * but loop_big's. */
static inline int client_loop(struct ik_echo *e, unsigned c, int fd,
			      unsigned char *out, unsigned char *in,
			      uint64_t deadline, bool tsc, bool verify,
			      bool big)
{
	size_t len = e->cfg->size, head = len < 8 ? len : 8;
	uint64_t *s = &e->samples[(size_t)c * e->cap], t0, t1, k;
	int ret = 0;

	t0 = now(tsc);
	for (k = 0; k < e->cap; k++) {
		memcpy(out, &k, head);
		if (big) {
			if (ik_unlikely(ret = exchange_all(fd, out, in, len)))
				break;
		} else if (ik_unlikely(ret = ik_send_all(fd, out, len)) ||
			   ik_unlikely(ret = ik_recv_all(fd, in, len))) {
			break;
		}
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
	return client_loop(e, c, fd, out, in, dl, true, false, false);
}

static __attribute__((noinline)) int loop_clock(struct ik_echo *e, unsigned c,
						int fd, unsigned char *out,
						unsigned char *in, uint64_t dl)
{
	return client_loop(e, c, fd, out, in, dl, false, false, false);
}

static __attribute__((noinline)) int loop_verify(struct ik_echo *e, unsigned c,
						 int fd, unsigned char *out,
						 unsigned char *in, uint64_t dl)
{
	return client_loop(e, c, fd, out, in, dl,
			   e->timer->kind == IK_CLOCK_TSC, true, false);
}

/* Messages over BIG_MSG: sent and received at once (exchange_all). */
static __attribute__((noinline)) int loop_big(struct ik_echo *e, unsigned c,
					      int fd, unsigned char *out,
					      unsigned char *in, uint64_t dl)
{
	return client_loop(e, c, fd, out, in, dl,
			   e->timer->kind == IK_CLOCK_TSC, e->cfg->verify,
			   true);
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
	struct ik_counters kc;
	struct ik_counts c0;
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
	fd = e->connect(&e->addr);
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
	ik_crew_count_start(cr, i, &kc, &c0);
	if (cfg->duration_ns)
		deadline = now(tsc) + (uint64_t)((double)cfg->duration_ns /
						 e->timer->ns_per_tick);
	ret = cfg->size > BIG_MSG ? loop_big(e, c, fd, out, in, deadline)
	      : cfg->verify	  ? loop_verify(e, c, fd, out, in, deadline)
	      : tsc		  ? loop_tsc(e, c, fd, out, in, deadline)
				  : loop_clock(e, c, fd, out, in, deadline);
	e->cl[c].t_end_ns = ik_clock_ns();
	ik_crew_count_end(cr, i, &kc, &c0);
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
	struct ik_counters kc;
	struct ik_counts c0;
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
	ik_crew_count_start(cr, 0, &kc, &c0);
	ik_cpu_mark(&mark);
	if (!ret)
		ret = servers[e->cfg->server].serve(cr);
	ik_crew_count_end(cr, 0, &kc, &c0);
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

/* Samples kept per client: --iters, or a share of the budget over a
 * --duration. */
static uint64_t samples_per_client(const struct ik_config *cfg)
{
	uint64_t cap = cfg->iters_given || !cfg->duration_ns
			       ? cfg->iters
			       : SAMPLES_BUDGET / cfg->clients;

	return cap > cfg->iters ? cfg->iters : cap;
}

uint64_t ik_echo_mem_need(const struct ik_config *cfg)
{
	uint64_t n = cfg->clients, size = cfg->size;
	uint64_t buf = cfg->buffer ? cfg->buffer : IK_ECHO_DEFAULT_BUFFER;
	/* each client: its message out and the echo in (client()) */
	uint64_t need = n * 2 * size;

	need += n * samples_per_client(cfg) * sizeof(uint64_t);
	/* the server: thread and io_uring a --buffer per connection; epoll
	 * one read buffer, and per connection an output buffer for a whole
	 * message and a read (the socket may refuse all of it) */
	if (cfg->server == IK_SERVER_EPOLL)
		need += buf + n * (size + buf);
	else
		need += n * buf;
	return need;
}

int ik_echo(const struct ik_config *cfg, const struct ik_transport_ops *ops,
	    enum ik_mode mode, const struct ik_run *run, struct ik_result *res)
{
	const struct ik_timer *timer = run->timer;
	const char *fault = getenv(IK_FAULT_ENV);
	struct ik_echo e = {.cfg = cfg, .timer = timer, .lfd = -1};
	struct ik_cpu_usage *use = NULL;
	struct ik_counts *counts = NULL; /* --explain: each member's */
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
	/* the buffer it uses, its own 64k when not asked: what the table says
	 */
	res->buffer = e.buffer;
	if (fault && !strcmp(fault, "kill-server"))
		e.fault = IK_ECHO_FAULT_KILL_SERVER;
	else if (fault && !strcmp(fault, "kill-client"))
		e.fault = IK_ECHO_FAULT_KILL_CLIENT;
	else if (fault && !strcmp(fault, "stall-server"))
		e.fault = IK_ECHO_FAULT_STALL_SERVER;
	e.nclients = n;
	e.cap = samples_per_client(cfg);
	e.samples_len = (size_t)n * e.cap * sizeof(uint64_t);
	ret = ik_hist_init(&res->hist, IK_HIST_MAX_NS);
	e.samples = ret ? NULL : ik_shm_alloc_on(e.samples_len, run->mem_node);
	e.cl = ik_shm_alloc_on(n * sizeof(*e.cl), run->mem_node);
	e.sfd = ik_shm_alloc_on(n * sizeof(*e.sfd), run->mem_node);
	use = calloc(n + 1, sizeof(*use));
	if (cfg->explain && !(counts = calloc(n + 1, sizeof(*counts))))
		ret = -ENOMEM;
	if (ret || !e.samples || !e.cl || !e.sfd || !use) {
		ret = -ENOMEM;
		snprintf(res->errmsg, sizeof(res->errmsg), "out of memory");
		goto out;
	}
	for (c = 0; c < n; c++)
		e.cl[c].fd = e.sfd[c] = -1;
	e.connect = ops->connect;
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
	cr.load_out = &res->load;
	cr.counts = counts;
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
	ik_crew_counts_fold(&cr, res);
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
	free(counts);
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
		json_pack("{s:s,s:i,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "server",
			  ik_server_names[res->server], "clients",
			  (int)res->clients, "requests", (json_int_t)res->count,
			  "wall_ns_total", (json_int_t)res->wall_ns,
			  "requests_per_sec",
			  secs > 0 ? json_real(rate) : json_null(),
			  "mb_per_sec_one_way",
			  secs > 0 ? json_real(rate * (double)res->size / 1e6)
				   : json_null(),
			  "cpu_server_ns_per_request",
			  res->count
				  ? json_real(ik_per((double)res->cpu[1].cpu_ns,
						     res->count))
				  : json_null(),
			  "cpu_clients_ns_per_request",
			  res->count
				  ? json_real(ik_per((double)res->cpu[0].cpu_ns,
						     res->count))
				  : json_null(),
			  "server_cpu",
			  ik_cpu_json(&res->cpu[1], res->count, "request"),
			  "clients_cpu",
			  ik_cpu_json(&res->cpu[0], res->count, "request")));
}

/* What the machine can give now: MemAvailable, else all of its memory. */
static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kib;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) {
			fclose(f);
			return (uint64_t)kib << 10;
		}
	if (f)
		fclose(f);
	return (uint64_t)sysconf(_SC_PHYS_PAGES) *
	       (uint64_t)sysconf(_SC_PAGESIZE);
}

/*
 * The largest cell (most clients, biggest message and buffer): the
 * thread server's thread per connection must fit the task limit, and
 * each server model's buffers the memory free now, or the run would die
 * halfway instead of being refused before it starts.
 */
static int echo_validate(const struct ik_config *c, const struct ik_sweep *sw,
			 char *msg, size_t len)
{
	struct ik_config big = *c;
	uint64_t need = 0, avail;
	const char *what = "";
	long tasks = ik_task_limit(&what);
	unsigned i;

	big.clients = ik_clients_max(sw, c);
	for (i = 0; i < sw->nservers; i++)
		if (sw->servers[i] == IK_SERVER_THREAD && tasks >= 0 &&
		    2 * (long)big.clients + 2 > tasks) {
			snprintf(msg, len,
				 "--clients %u: needs %u more threads or "
				 "processes (the thread server runs one per "
				 "connection) and %s allows %ld; raise it "
				 "first",
				 big.clients, 2 * big.clients + 1, what, tasks);
			return -EINVAL;
		}
	for (i = 0; i < sw->nsizes; i++)
		big.size = sw->sizes[i] > big.size ? sw->sizes[i] : big.size;
	for (i = 0; i < sw->nbuffers; i++)
		big.buffer = sw->buffers[i] > big.buffer ? sw->buffers[i]
							 : big.buffer;
	for (i = 0; i < sw->nservers; i++) {
		uint64_t m;

		big.server = sw->servers[i];
		m = ik_echo_mem_need(&big);
		need = m > need ? m : need;
	}
	avail = mem_available();
	if (need <= avail)
		return 0;
	snprintf(msg, len,
		 "--clients %u with --size %zu: the echo kernel needs about "
		 "%llu MiB (each client's message out and in, the server's "
		 "buffers, the samples) and this machine has %llu MiB "
		 "available; use fewer clients or a smaller --size",
		 big.clients, big.size, (unsigned long long)(need >> 20),
		 (unsigned long long)(avail >> 20));
	return -EINVAL;
}

static const char *const echo_options[] = {"clients", "server", "backlog",
					   "verify", NULL};

const struct ik_kernel_ops ik_kernel_echo = {
	.name = "echo",
	.msg = "request",
	.summary = "a server and --clients in a closed loop",
	.help = "echo (a server and\n--clients in a closed loop)",
	.id = IK_KERNEL_ECHO,
	.options = echo_options,
	.keys = IK_KEY_SERVER | IK_KEY_CLIENTS,
	.crew = true,
	.fixed_time = true,
	.run = ik_echo,
	.validate = echo_validate,
	.title = echo_title,
	.table = echo_table,
	.json_cell = echo_cell_json,
	.json_measured = ik_roundtrip_json,
	.json_own = echo_json,
};
