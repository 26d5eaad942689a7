/* SPDX-License-Identifier: MIT */
/*
 * Every registered method in both modes carries every byte: side A
 * sends a pattern that differs per message and per byte, B checks it byte
 * for byte and answers with a transformed copy, which A checks in turn.
 * Sizes run from one byte to far above a pipe's or socket's buffer, up to
 * each method's stated limit.
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define TRIPS 40

static int echo_body(struct ik_peers *g, enum ik_side side)
{
	struct t_run *t = g->arg;
	size_t n = t->size, i;
	unsigned char *msg = malloc(n), *back = malloc(n);
	int ret = 0;
	uint64_t k;

	if (!msg || !back) {
		ret = -ENOMEM;
		goto out;
	}
	for (k = 0; k < TRIPS && !ret; k++) {
		if (side == IK_SIDE_A) {
			for (i = 0; i < n; i++)
				msg[i] = t_pattern(k, i);
			if ((ret = g->ch->send(g->ch, side, msg, n)) ||
			    (ret = g->ch->recv(g->ch, side, back, n)))
				break;
			for (i = 0; i < n; i++)
				if (back[i] != t_echoed(t_pattern(k, i)))
					ret = -EBADMSG;
		} else {
			if ((ret = g->ch->recv(g->ch, side, msg, n)))
				break;
			for (i = 0; i < n; i++) {
				if (msg[i] != t_pattern(k, i))
					ret = -EBADMSG;
				back[i] = t_echoed(msg[i]);
			}
			if (!ret)
				ret = g->ch->send(g->ch, side, back, n);
		}
	}
out:
	free(msg);
	free(back);
	return ret;
}

static void check_method(const char *name, enum ik_mode mode)
{
	static const size_t sizes[] = {1,    8,	   63,	  64,	  65,
				       1000, 4096, 65536, 300000, 1u << 20};
	const struct ik_transport_ops *ops = ik_transport_find(name);
	struct ik_chan_params p = {.size = 1, .mode = mode};
	size_t max, i;

	cr_assert_not_null(ops);
	max = ik_transport_max_size(ops, &p);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct t_run t = {.method = name,
				  .mode = mode,
				  .size = sizes[i] < max ? sizes[i] : max,
				  .body = echo_body};
		int ret = t_run_peers(&t);

		cr_assert_eq(ret, 0, "%s %s size %zu: %s (%s)", name,
			     ik_mode_name(mode), t.size, strerror(-ret),
			     t.errmsg);
	}
}

/* One case per registered method and mode (t_method_cases). */
ParameterizedTestParameters(methods, carries_every_byte)
{
	return t_method_cases();
}

ParameterizedTest(struct t_method_case *c, methods, carries_every_byte,
		  .timeout = 120)
{
	check_method(ik_transports[c->method]->name, c->mode);
}

/* Open fds of this process, as /proc/self/fd lists them. */
static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Every method gives back every fd it opened, in the parent and (thread
 * mode) the fds its peers opened in open_side. */
ParameterizedTestParameters(methods, leave_no_fd_open)
{
	return t_method_cases();
}

ParameterizedTest(struct t_method_case *c, methods, leave_no_fd_open,
		  .timeout = 60)
{
	const char *name = ik_transports[c->method]->name;
	struct t_run t = {
		.method = name, .mode = c->mode, .size = 64, .body = echo_body};
	unsigned before = open_fds();
	int ret = t_run_peers(&t);

	cr_assert_eq(ret, 0, "%s: %s (%s)", name, strerror(-ret), t.errmsg);
	cr_expect_eq(open_fds(), before, "%s %s: %u fds open, %u before", name,
		     ik_mode_name(c->mode), open_fds(), before);
}

/* The test-only method with its delay on: the bytes still all arrive. */
Test(methods_thread, line_delay_with_a_delay_carries_every_byte, .timeout = 120)
{
	setenv("IPCKERN_DELAY_NS", "300", 1);
	check_method("line-delay", IK_MODE_THREAD);
	check_method("line-delay", IK_MODE_PROCESS);
	unsetenv("IPCKERN_DELAY_NS");
}

/*
 * Framing: with a 4 KiB --buffer the receiver reads at most 4 KiB a call,
 * so messages around and far above it arrive in pieces (and, over pipes
 * and sockets, the sender's writes are split too); every byte must still
 * land in its place and every frame length must match.
 */
static void check_framing(const char *name, enum ik_mode mode)
{
	static const size_t sizes[] = {1,    4091,  4092,   4096,
				       4097, 10000, 100000, 1u << 20};
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct t_run t = {.method = name,
				  .mode = mode,
				  .size = sizes[i],
				  .buffer = 4096,
				  .body = echo_body};
		int ret = t_run_peers(&t);

		cr_assert_eq(ret, 0, "%s %s size %zu, buffer 4096: %s (%s)",
			     name, ik_mode_name(mode), t.size, strerror(-ret),
			     t.errmsg);
	}
}

Test(framing, pipe_reassembles_messages_above_the_buffer, .timeout = 120)
{
	check_framing("pipe", IK_MODE_THREAD);
	check_framing("pipe", IK_MODE_PROCESS);
}

/* a one-page pipe takes a message one spliced page at a time (the send
 * ring is then 3 buffers; test_stream's verified streams check reuse) */
Test(framing, vmsplice_splices_messages_above_a_one_page_pipe, .timeout = 120)
{
	check_framing("vmsplice", IK_MODE_THREAD);
	check_framing("vmsplice", IK_MODE_PROCESS);
}

Test(framing, uds_reassembles_messages_above_the_buffer, .timeout = 120)
{
	check_framing("uds", IK_MODE_THREAD);
	check_framing("uds", IK_MODE_PROCESS);
}

Test(framing, tcp_reassembles_messages_above_the_buffer, .timeout = 120)
{
	check_framing("tcp", IK_MODE_THREAD);
	check_framing("tcp", IK_MODE_PROCESS);
}

Test(framing, spsc_ring_of_buffer_bytes_carries_big_messages, .timeout = 120)
{
	check_framing("spsc", IK_MODE_THREAD);
	check_framing("spsc", IK_MODE_PROCESS);
}

Test(methods, sizes_above_a_methods_limit_are_refused)
{
	struct ik_chan_params p = {.size = 65537, .mode = IK_MODE_THREAD};
	struct ik_channel ch;

	cr_expect_eq(ik_channel_init(&ch, ik_transport_find("uds-dgram"), &p),
		     -EINVAL);
	p.size = 0;
	cr_expect_eq(ik_channel_init(&ch, ik_transport_find("pipe"), &p),
		     -EINVAL);
}

/* ---- README.md ---- */

Test(methods, the_readme_method_table_is_the_one_the_methods_print)
{
	t_expect_readme_table(IK_README, "methods", ik_transports_markdown,
			      "ik-methods-md");
}

/* The connections capability is a pair: echo and connect call both. */
Test(registry, a_method_that_listens_also_connects)
{
	for (unsigned i = 0; ik_transports[i]; i++) {
		const struct ik_transport_ops *o = ik_transports[i];

		cr_expect_eq(!o->listen, !o->connect,
			     "%s: listen and connect come together", o->name);
		if (!strcmp(o->name, "tcp") || !strcmp(o->name, "uds"))
			cr_expect(o->listen && o->connect, "%s", o->name);
	}
}

/* ---- methods with objects in shared namespaces (issue 20) ---- */

/* The ids of the SysV objects listed in /proc/sysvipc/<what> (msg, sem)
 * with key 0 (IPC_PRIVATE) and their perms, at most max; how many. */
static size_t sysv_private(const char *what, int *ids, unsigned *perms,
			   size_t max)
{
	char path[64], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sysvipc/%s", what);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f) && n < max) {
		long key;
		int id;
		unsigned perm;

		if (sscanf(line, "%ld %d %o", &key, &id, &perm) == 3 &&
		    key == 0)
			ids[n] = id, perms[n++] = perm;
	}
	fclose(f);
	return n;
}

static bool has_id(const int *ids, size_t n, int id)
{
	while (n--)
		if (ids[n] == id)
			return true;
	return false;
}

/*
 * A method's SysV objects are private (no key to guess), mode 0600, and
 * gone after teardown: the ids that setup added are checked, so objects
 * of other programs on the machine do not count.
 */
static void check_sysv_objects(const char *method, const char *what,
			       size_t want)
{
	struct ik_chan_params p = {.size = 64, .mode = IK_MODE_PROCESS};
	int before[256], during[256], after[256];
	unsigned perm[256], perm2[256], perm3[256];
	size_t nb, nd, na, i, mine = 0;
	struct ik_channel ch;

	nb = sysv_private(what, before, perm, 256);
	cr_assert_eq(ik_channel_init(&ch, ik_transport_find(method), &p), 0);
	nd = sysv_private(what, during, perm2, 256);
	for (i = 0; i < nd; i++)
		if (!has_id(before, nb, during[i])) {
			cr_expect_eq(perm2[i] & 0777, 0600, "%s id %d mode %o",
				     method, during[i], perm2[i]);
			mine++;
		}
	cr_expect_eq(mine, want, "%s made %zu private %s objects", method, mine,
		     what);
	ik_channel_destroy(&ch);
	na = sysv_private(what, after, perm3, 256);
	for (i = 0; i < nd; i++)
		if (!has_id(before, nb, during[i]))
			cr_expect(!has_id(after, na, during[i]),
				  "%s left %s id %d behind", method, what,
				  during[i]);
}

Test(sysv_msg, queues_are_private_0600_and_removed_at_teardown)
{
	check_sysv_objects("sysv-msg", "msg", 2);
}

static unsigned long proc_ulong(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long v = 0;

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fscanf(f, "%lu", &v), 1, "%s", path);
	fclose(f);
	return v;
}

/* msgmax and msgmnb bound the size; one byte more is refused at setup. */
Test(sysv_msg, sizes_above_msgmax_or_msgmnb_are_refused)
{
	unsigned long max = proc_ulong("/proc/sys/kernel/msgmax");
	unsigned long mnb = proc_ulong("/proc/sys/kernel/msgmnb");
	struct ik_chan_params p = {.mode = IK_MODE_THREAD};
	const struct ik_transport_ops *ops = ik_transport_find("sysv-msg");
	struct ik_channel ch;

	if (mnb < max)
		max = mnb;
	cr_expect_eq(ik_transport_max_size(ops, &p), max);
	p.size = max + 1;
	cr_expect_eq(ik_channel_init(&ch, ops, &p), -EINVAL);
	p.size = 100, p.buffer = 99; /* a queue of 99 bytes: no room */
	cr_expect_eq(ik_channel_init(&ch, ops, &p), -EINVAL);
}

Test(sysv_sem, the_set_is_private_0600_and_removed_at_teardown)
{
	check_sysv_objects("sysv-sem", "sem", 1);
}

/* B ends at once, holding the mutex A's first wait is for. */
static int b_walks_off(struct ik_peers *g, enum ik_side side)
{
	unsigned char m[8] = {0};
	int ret;

	if (side == IK_SIDE_B)
		return -EIO;
	if ((ret = g->ch->send(g->ch, side, m, sizeof(m))))
		return ret;
	return g->ch->recv(g->ch, side, m, sizeof(m));
}

/*
 * A peer that ends holding a mutex the other waits for: the waiter sees
 * the owner dead (robust: process mode, and -pi) or the abort, never a
 * hang, and the run fails.
 */
Test(mutex, a_peer_ending_with_the_baton_fails_the_run, .timeout = 60)
{
	static const char *const names[] = {"mutex", "mutex-pi"};
	static const enum ik_mode modes[] = {IK_MODE_THREAD, IK_MODE_PROCESS};

	for (size_t i = 0; i < 2; i++)
		for (size_t m = 0; m < 2; m++) {
			struct t_run t = {.method = names[i],
					  .mode = modes[m],
					  .size = 8,
					  .body = b_walks_off};

			cr_expect_neq(t_run_peers(&t), 0, "%s %s", names[i],
				      ik_mode_name(modes[m]));
		}
}

/* --list's availability: a method that can never run in thread mode
 * says why; vm-rw's thread mode writes into its own process, which is
 * always allowed, so only its process mode may be refused. */
Test(registry, vm_rw_in_thread_mode_is_always_available)
{
	const struct ik_transport_ops *o = ik_transport_find("vm-rw");
	struct ik_chan_params p = {.size = 8, .mode = IK_MODE_THREAD};

	cr_assert_not_null(o);
	cr_assert_not_null(o->unavailable);
	cr_expect_null(o->unavailable(&p));
}

/* Whatever --list says of a mode, setup agrees: refused where a reason
 * is given (EPERM, so tests skip), set up where none is. */
Test(registry, setup_agrees_with_what_list_says_of_availability)
{
	static const enum ik_mode modes[] = {IK_MODE_THREAD, IK_MODE_PROCESS};

	for (unsigned i = 0; ik_transports[i]; i++) {
		const struct ik_transport_ops *o = ik_transports[i];

		for (size_t m = 0; m < 2 && o->unavailable; m++) {
			struct ik_chan_params p = {.size = 8, .mode = modes[m]};
			const char *why = o->unavailable(&p);
			struct ik_channel ch;
			int ret = ik_channel_init(&ch, o, &p);

			if (why)
				cr_expect(t_unsupported(ret), "%s: %s, yet %d",
					  o->name, why, ret);
			else
				cr_expect_eq(ret, 0, "%s: %s", o->name,
					     strerror(-ret));
			if (!ret)
				ik_channel_destroy(&ch);
		}
	}
}

/*
 * SysV objects outlive their owner, so a SIGKILL of it must not leave
 * them: the reaper child removes them. We are made the subreaper, so the
 * orphaned reaper is ours to wait for (no sleeping on the clock).
 */
static void check_sysv_reaped(const char *method, const char *what)
{
	int before[256], during[256], after[256], p[2], st;
	unsigned perm[256];
	size_t nb, nd, na, i, mine = 0;
	pid_t child, r;
	char c;

	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cr_assert_eq(pipe(p), 0);
	nb = sysv_private(what, before, perm, 256);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		struct ik_chan_params cp = {.size = 64,
					    .mode = IK_MODE_PROCESS};
		struct ik_channel ch;

		if (ik_channel_init(&ch, ik_transport_find(method), &cp))
			_exit(1);
		if (write(p[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1, "%s: setup in the child", method);
	close(p[0]);
	nd = sysv_private(what, during, perm, 256);
	kill(child, SIGKILL);
	cr_assert_eq(waitpid(child, &st, 0), child);
	/* the reaper, orphaned and ours now, ends once it has removed */
	while ((r = waitpid(-1, &st, 0)) > 0)
		;
	na = sysv_private(what, after, perm, 256);
	for (i = 0; i < nd; i++)
		if (!has_id(before, nb, during[i])) {
			mine++;
			cr_expect(!has_id(after, na, during[i]),
				  "%s: %s id %d outlived a SIGKILL", method,
				  what, during[i]);
		}
	cr_expect_gt(mine, 0, "%s made no %s object", method, what);
}

Test(sysv_msg, queues_are_removed_when_the_owner_is_sigkilled, .timeout = 30)
{
	check_sysv_reaped("sysv-msg", "msg");
}

Test(sysv_sem, the_set_is_removed_when_the_owner_is_sigkilled, .timeout = 30)
{
	check_sysv_reaped("sysv-sem", "sem");
}

/* Both sides send at once: B, waiting for A's fetch, takes A's message
 * call instead and must refuse it (its kind is checked), not hang. */
static int both_send(struct ik_peers *g, enum ik_side side)
{
	unsigned char m[8] = {0};

	return g->ch->send(g->ch, side, m, sizeof(m));
}

Test(seccomp_notify, a_call_of_the_wrong_kind_fails_the_run, .timeout = 60)
{
	static const enum ik_mode modes[] = {IK_MODE_THREAD, IK_MODE_PROCESS};

	for (size_t m = 0; m < 2; m++) {
		struct t_run t = {.method = "seccomp-notify",
				  .mode = modes[m],
				  .size = 8,
				  .body = both_send};
		int ret = t_run_peers(&t);

		cr_expect_neq(ret, 0, "%s", ik_mode_name(modes[m]));
		cr_expect(strstr(t.errmsg, strerror(EPROTO)), "%s: %s",
			  ik_mode_name(modes[m]), t.errmsg);
	}
}
