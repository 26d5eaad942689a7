/* SPDX-License-Identifier: MIT */
/*
 * Other local users must not get in. A stranger process (user nobody
 * when the test runs as root) connects to each listener the moment it
 * is up, before any of ours: through the ik_test_listening seam, so
 * there is no race to win. It stays idle, sends junk, or connects many
 * times; the run must finish with every result of its own clients, the
 * stranger must get nothing back, and the report must count it. A
 * message queue name somebody already holds must not fail a run.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "reports/reports.h"

#define NOBODY 65534

/* ---- the stranger ---- */

enum manner { IDLE, JUNK };

static struct stranger {
	unsigned conns;
	enum manner manner;
	pid_t pid;
	int result; /* read end: the bytes it got back, once all closed */
} st;

/*
 * The stranger's life: connect conns times, maybe send junk, say so,
 * then read every connection to its end (our side closing it or the
 * listener going away) and report every byte that came back.
 */
static void stranger_main(const struct sockaddr *a, socklen_t len, int ready,
			  int result)
{
	static const char junk[] = "GET / HTTP/1.0\r\n\r\n0123456789abcdef";
	int fds[64];
	uint64_t got = 0;
	char buf[4096];
	unsigned i;

	/* not the listener we inherited: it must die with the run */
	for (i = 3; i < 1024; i++)
		if ((int)i != ready && (int)i != result)
			close((int)i);
	alarm(60);
	if (geteuid() == 0 &&
	    (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)))
		_exit(3);
	for (i = 0; i < st.conns; i++) {
		fds[i] = socket(a->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || connect(fds[i], a, len))
			_exit(4);
		if (st.manner == JUNK &&
		    write(fds[i], junk, sizeof(junk)) != sizeof(junk))
			_exit(5);
	}
	if (write(ready, "x", 1) != 1)
		_exit(6);
	for (i = 0; i < st.conns; i++) {
		ssize_t n;

		while ((n = read(fds[i], buf, sizeof(buf))) > 0)
			got += (uint64_t)n;
		close(fds[i]);
	}
	_exit(write(result, &got, sizeof(got)) == sizeof(got) ? 0 : 7);
}

/* ik_test_listening: the first listener gets a stranger, in before us */
static void stranger_hook(const struct sockaddr *a, socklen_t len)
{
	struct pollfd p;
	int ready[2], result[2];
	char x;

	if (st.pid)
		return;
	cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(result, O_CLOEXEC), 0);
	st.pid = fork();
	cr_assert_geq(st.pid, 0);
	if (st.pid == 0) {
		close(ready[0]);
		close(result[0]);
		stranger_main(a, len, ready[1], result[1]);
	}
	close(ready[1]);
	close(result[1]);
	st.result = result[0];
	p = (struct pollfd){.fd = ready[0], .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 20000), 1, "the stranger never got in");
	cr_assert_eq(read(ready[0], &x, 1), 1,
		     "the stranger could not connect");
	close(ready[0]);
}

static void stranger_let_in(unsigned conns, enum manner m)
{
	st = (struct stranger){.conns = conns, .manner = m, .result = -1};
	ik_test_listening = stranger_hook;
}

/* After the run: the stranger saw every connection end, got nothing. */
static void stranger_check(const char *what)
{
	struct pollfd p = {.fd = st.result, .events = POLLIN};
	uint64_t got = UINT64_MAX;
	int status;

	ik_test_listening = NULL;
	cr_assert_gt(st.pid, 0, "%s: no listener was announced", what);
	cr_assert_eq(poll(&p, 1, 30000), 1,
		     "%s: a stranger's connection is still open", what);
	cr_expect_eq(read(st.result, &got, sizeof(got)), sizeof(got));
	cr_assert_eq(waitpid(st.pid, &status, 0), st.pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "%s: stranger status %#x", what, status);
	cr_expect_eq(got, 0, "%s: the stranger got %llu bytes back", what,
		     (unsigned long long)got);
	close(st.result);
	st.pid = 0;
}

/* ---- the kernels ---- */

static struct ik_config crew_cfg(enum ik_kernel k, unsigned clients,
				 uint64_t iters)
{
	return (struct ik_config){
		.kernel = k,
		.verify = true,
		.clients = clients,
		.backlog = 128,
		.size = 100,
		.iters = iters,
		.timeout_ns = 60 * IK_NS_PER_SEC,
	};
}

static void echo_with(const char *method, enum ik_mode mode,
		      enum ik_server server, unsigned conns, enum manner m)
{
	struct ik_config cfg = crew_cfg(IK_KERNEL_ECHO, 3, 200);
	struct ik_result res;
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "echo %s %s %s, %u %s", method,
		 ik_mode_name(mode), ik_server_names[server], conns,
		 m == IDLE ? "idle" : "junk");
	cfg.server = server;
	stranger_let_in(conns, m);
	ret = ik_echo(&cfg, ik_transport_find(method), mode, &t_ctx, &res);
	stranger_check(what);
	cr_assert_eq(ret, 0, "%s: %s", what, res.errmsg);
	cr_expect_eq(res.count, 3 * 200, "%s: %llu echoes", what,
		     (unsigned long long)res.count);
	cr_expect_eq(ik_hist_total(&res.hist), 3 * 200);
	cr_expect_eq(res.strangers, conns, "%s: %llu strangers counted", what,
		     (unsigned long long)res.strangers);
	ik_result_free(&res);
}

static void connect_with(const char *method, enum ik_mode mode, unsigned conns,
			 enum manner m)
{
	struct ik_config cfg = crew_cfg(IK_KERNEL_CONNECT, 3, 50);
	struct ik_result res;
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "connect %s %s, %u %s", method,
		 ik_mode_name(mode), conns, m == IDLE ? "idle" : "junk");
	stranger_let_in(conns, m);
	ret = ik_connect_kernel(&cfg, ik_transport_find(method), mode, &t_ctx,
				&res);
	stranger_check(what);
	cr_assert_eq(ret, 0, "%s: %s", what, res.errmsg);
	cr_expect_eq(res.count, 3 * 50, "%s: %llu requests", what,
		     (unsigned long long)res.count);
	cr_expect_eq(res.connect.failed, 0, "%s: %llu failed", what,
		     (unsigned long long)res.connect.failed);
	cr_expect_eq(res.connect.served, res.count,
		     "%s: served %llu, our clients got %llu", what,
		     (unsigned long long)res.connect.served,
		     (unsigned long long)res.count);
	cr_expect_eq(res.strangers, conns, "%s: %llu strangers counted", what,
		     (unsigned long long)res.strangers);
	ik_result_free(&res);
}

#define CREW_TESTS(method)                                                     \
	Test(strangers, echo_##method##_drops_an_idle_stranger,                \
	     .init = t_setup, .fini = t_teardown, .timeout = 120)              \
	{                                                                      \
		echo_with(#method, IK_MODE_THREAD, IK_SERVER_THREAD, 1, IDLE); \
		echo_with(#method, IK_MODE_PROCESS, IK_SERVER_EPOLL, 1, IDLE); \
	}                                                                      \
	Test(strangers, echo_##method##_echoes_no_junk_back, .init = t_setup,  \
	     .fini = t_teardown, .timeout = 120)                               \
	{                                                                      \
		echo_with(#method, IK_MODE_THREAD, IK_SERVER_EPOLL, 1, JUNK);  \
		echo_with(#method, IK_MODE_PROCESS, IK_SERVER_URING, 1, JUNK); \
	}                                                                      \
	Test(strangers, echo_##method##_counts_a_stranger_who_comes_often,     \
	     .init = t_setup, .fini = t_teardown, .timeout = 120)              \
	{                                                                      \
		echo_with(#method, IK_MODE_THREAD, IK_SERVER_THREAD, 20,       \
			  JUNK);                                               \
		echo_with(#method, IK_MODE_PROCESS, IK_SERVER_THREAD, 20,      \
			  IDLE);                                               \
	}                                                                      \
	Test(strangers, connect_##method##_drops_an_idle_stranger,             \
	     .init = t_setup, .fini = t_teardown, .timeout = 120)              \
	{                                                                      \
		connect_with(#method, IK_MODE_THREAD, 1, IDLE);                \
		connect_with(#method, IK_MODE_PROCESS, 1, IDLE);               \
	}                                                                      \
	Test(strangers, connect_##method##_answers_no_junk, .init = t_setup,   \
	     .fini = t_teardown, .timeout = 120)                               \
	{                                                                      \
		connect_with(#method, IK_MODE_THREAD, 1, JUNK);                \
		connect_with(#method, IK_MODE_PROCESS, 1, JUNK);               \
	}                                                                      \
	Test(strangers, connect_##method##_counts_a_stranger_who_comes_often,  \
	     .init = t_setup, .fini = t_teardown, .timeout = 120)              \
	{                                                                      \
		connect_with(#method, IK_MODE_THREAD, 20, JUNK);               \
		connect_with(#method, IK_MODE_PROCESS, 20, IDLE);              \
	}

CREW_TESTS(tcp)
CREW_TESTS(uds)

static void pingpong_with(enum ik_mode mode, unsigned conns, enum manner m)
{
	struct ik_config cfg = {
		.kernel = IK_KERNEL_PINGPONG,
		.size = 64,
		.iters = 500,
		.warmup = 50,
		.timeout_ns = 60 * IK_NS_PER_SEC,
	};
	struct ik_result res;
	char what[64];
	int ret;

	snprintf(what, sizeof(what), "tcp ping-pong %s, %u %s",
		 ik_mode_name(mode), conns, m == IDLE ? "idle" : "junk");
	stranger_let_in(conns, m);
	ret = ik_pingpong(&cfg, ik_transport_find("tcp"), mode, &t_ctx, &res);
	stranger_check(what);
	cr_assert_eq(ret, 0, "%s: %s", what, res.errmsg);
	cr_expect_eq(res.count, 500, "%s: %llu round trips", what,
		     (unsigned long long)res.count);
	cr_expect_eq(res.strangers, conns, "%s: %llu strangers counted", what,
		     (unsigned long long)res.strangers);
	ik_result_free(&res);
}

Test(strangers, tcp_pingpong_takes_its_own_peer_not_the_first_comer,
     .init = t_setup, .fini = t_teardown, .timeout = 120)
{
	pingpong_with(IK_MODE_THREAD, 1, IDLE);
	pingpong_with(IK_MODE_PROCESS, 1, JUNK);
	pingpong_with(IK_MODE_THREAD, 10, JUNK);
}

/* ---- what the report says ---- */

Test(strangers, table_and_json_report_them, .init = t_setup, .fini = t_teardown,
     .timeout = 120)
{
	struct ik_config cfg = crew_cfg(IK_KERNEL_CONNECT, 2, 20);
	struct ik_sweep sweep = {0};
	struct ik_machine machine = {0};
	struct ik_result res;
	struct ik_report rep = {.cfg = &cfg,
				.sweep = &sweep,
				.machine = &machine,
				.timer = &timer,
				.results = &res,
				.nresults = 1,
				.mem_node = -1};
	json_t *root, *r0;
	json_error_t jerr;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	sweep.methods[0] = ik_transport_find("uds");
	sweep.nmethods = 1;
	sweep.modes[0] = IK_MODE_THREAD;
	sweep.nmodes = 1;
	sweep.sizes[0] = cfg.size;
	sweep.nsizes = sweep.nbuffers = sweep.ngaps = sweep.npairs = 1;
	sweep.pairs[0] = 1;
	stranger_let_in(3, JUNK);
	cr_assert_eq(ik_connect_kernel(&cfg, sweep.methods[0], IK_MODE_THREAD,
				       &t_ctx, &res),
		     0, "%s", res.errmsg);
	stranger_check("connect uds");
	cr_assert_eq(res.strangers, 3);

	f = open_memstream(&buf, &len);
	cr_assert_eq(ik_report_table(&rep, f), 0);
	fclose(f);
	cr_expect(strstr(buf, "strangers: uds thread 100 B, 2 clients: 3 "
			      "connections from outside the run") != NULL,
		  "%s", buf);
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	cr_assert_eq(ik_report_json(&rep, f), 0);
	fclose(f);
	root = json_loadb(buf, len, 0, &jerr);
	cr_assert_not_null(root, "%s", jerr.text);
	r0 = json_array_get(json_object_get(root, "results"), 0);
	cr_expect_eq(json_integer_value(json_object_get(r0, "strangers")), 3);
	cr_expect_str_eq(json_string_value(json_object_get(r0, "status")),
			 "ok");
	json_decref(root);
	free(buf);
	ik_result_free(&res);
}

/* ---- names ---- */

Test(strangers, abstract_names_are_random)
{
	struct ik_sockaddr a, b;
	const struct sockaddr_un *ua = (const void *)&a.ss,
				 *ub = (const void *)&b.ss;
	const struct ik_transport_ops *uds = ik_transport_find("uds");
	int fa = uds->listen(4, &a), fb = uds->listen(4, &b);
	size_t n = a.len - offsetof(struct sockaddr_un, sun_path);

	cr_assert_geq(fa, 0);
	cr_assert_geq(fb, 0);
	cr_expect_eq(ua->sun_path[0], 0, "abstract");
	cr_expect_eq(n, 1 + strlen("ipckern-") + 32, "%zu", n);
	cr_expect(memcmp(ua->sun_path, ub->sun_path, n), "two names alike");
	close(fa);
	close(fb);
}

/* ik_test_random: the same bytes for the first `repeat` draws */
static unsigned repeat, draws;

static int same_bytes(void *buf, size_t n)
{
	if (draws++ < repeat) {
		memset(buf, 0xa5, n);
		memcpy(buf, &repeat, sizeof(repeat) < n ? sizeof(repeat) : n);
		return 0;
	}
	return getrandom(buf, n, 0) == (ssize_t)n ? 0 : -EIO;
}

/* A queue under the name the next draw gives, held by "someone else". */
static void take_the_name(char *name, size_t len)
{
	struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 8};
	mqd_t q;

	ik_test_random = same_bytes;
	cr_assert_gt(ik_random_name(name, len, "/ipckern-"), 0);
	draws = 0;
	q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	if (q == (mqd_t)-1 && t_unsupported(-errno))
		cr_skip_test("no POSIX message queues: %s", strerror(errno));
	cr_assert_neq(q, (mqd_t)-1, "%s: %s", name, strerror(errno));
	mq_close(q);
}

Test(strangers, mq_draws_another_name_when_one_is_taken, .timeout = 30)
{
	const struct ik_transport_ops *ops = ik_transport_find("mq");
	struct ik_chan_params p = {.size = 8, .mode = IK_MODE_THREAD};
	struct ik_channel ch;
	char name[64], msg[8] = "1234567", back[8];
	mqd_t q;
	int ret;

	repeat = 3; /* the first queue's first three draws hit it */
	take_the_name(name, sizeof(name));
	ret = ik_channel_init(&ch, ops, &p);
	ik_test_random = NULL;
	if (!ret) {
		cr_expect_eq(ch.send(&ch, IK_SIDE_A, msg, 8), 0);
		cr_expect_eq(ch.recv(&ch, IK_SIDE_B, back, 8), 0);
		cr_expect_eq(memcmp(msg, back, 8), 0);
		ik_channel_destroy(&ch);
	}
	q = mq_open(name, O_RDWR);
	cr_expect_neq(q, (mqd_t)-1, "the other's queue is left alone");
	if (q != (mqd_t)-1)
		mq_close(q);
	mq_unlink(name);
	cr_assert_eq(ret, 0, "mq setup with its name taken: %s",
		     strerror(-ret));
	cr_expect_gt(draws, 3, "drew again after EEXIST");
}

Test(strangers, mq_gives_up_after_a_few_taken_names, .timeout = 30)
{
	const struct ik_transport_ops *ops = ik_transport_find("mq");
	struct ik_chan_params p = {.size = 8, .mode = IK_MODE_THREAD};
	struct ik_channel ch;
	char name[64];
	int ret;

	repeat = 1000; /* every draw hits it */
	take_the_name(name, sizeof(name));
	ret = ik_channel_init(&ch, ops, &p);
	ik_test_random = NULL;
	mq_unlink(name);
	if (!ret)
		ik_channel_destroy(&ch);
	cr_expect_eq(ret, -EEXIST, "%s", strerror(-ret));
	cr_expect_lt(draws, 100, "a bounded number of tries: %u", draws);
}
