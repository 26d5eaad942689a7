/* SPDX-License-Identifier: MIT */
/*
 * Wait strategies (--wait): every strategy this machine can run carries
 * sequence-numbered, patterned messages through line and spsc, ping-pong
 * and stream, in both modes, so a lost wake-up hangs (and times out), a
 * torn or reordered message fails; a strategy it cannot run is refused
 * by setup and by the CLI with its reason; detection agrees with
 * /proc/cpuinfo; --spin-budget parses what its help says and nothing
 * else; --list names every strategy.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "helpers.h"

/* A ping-pong (B echoes each message back) or a stream (A sends only);
 * both sides check every message's number and bytes. */
static int check(const unsigned char *msg, uint64_t k, size_t size)
{
	uint64_t seq;
	size_t i;

	memcpy(&seq, msg, sizeof(seq));
	if (seq != k)
		return -EBADMSG;
	for (i = sizeof(k); i < size; i++)
		if (msg[i] != t_pattern(k, i))
			return -EBADMSG;
	return 0;
}

static void fill(unsigned char *msg, uint64_t k, size_t size)
{
	size_t i;

	memcpy(msg, &k, sizeof(k));
	for (i = sizeof(k); i < size; i++)
		msg[i] = t_pattern(k, i);
}

static int body(struct ik_peers *g, enum ik_side side)
{
	struct t_run *t = g->arg;
	struct ik_channel *ch = g->ch;
	unsigned char msg[128];
	uint64_t k;
	int ret;

	for (k = 0; k < t->count; k++) {
		if (side == IK_SIDE_A) {
			fill(msg, k, t->size);
			if ((ret = ch->send(ch, side, msg, t->size)))
				return ret;
			if (t->stream)
				continue;
			memset(msg, 0, sizeof(msg));
			if ((ret = ch->recv(ch, side, msg, t->size)) ||
			    (ret = check(msg, k, t->size)))
				return ret;
		} else {
			memset(msg, 0, sizeof(msg));
			if ((ret = ch->recv(ch, side, msg, t->size)) ||
			    (ret = check(msg, k, t->size)))
				return ret;
			if (!t->stream &&
			    (ret = ch->send(ch, side, msg, t->size)))
				return ret;
		}
	}
	return 0;
}

struct wcase {
	enum ik_wait wait;
	enum ik_mode mode;
	bool stream;
	bool spsc;
};

static void free_cases(struct criterion_test_params *crp)
{
	cr_free(crp->params);
}

static struct wcase *cases(size_t *n)
{
	struct wcase *c = cr_malloc(IK_NWAITS * 8 * sizeof(*c));
	size_t k = 0;

	for (int w = 0; c && w < IK_NWAITS; w++)
		for (int m = 0; m < 8; m++)
			c[k++] = (struct wcase){.wait = (enum ik_wait)w,
						.mode = (enum ik_mode)(m & 1),
						.stream = m & 2,
						.spsc = m & 4};
	*n = c ? k : 0;
	return c;
}

ParameterizedTestParameters(wait, round_trips_with_payload_verified)
{
	size_t n;
	struct wcase *c = cases(&n);

	return cr_make_param_array(struct wcase, c, n, free_cases);
}

ParameterizedTest(struct wcase *c, wait, round_trips_with_payload_verified,
		  .timeout = 120)
{
	const char *method = c->spsc ? "spsc" : "line";
	const char *no = ik_wait_unavailable(c->wait);
	struct t_run t = {.method = method,
			  .mode = c->mode,
			  .wait = c->wait,
			  .size = 40,
			  .count = c->stream ? 20000 : 3000,
			  .stream = c->stream,
			  /* hybrid: long enough to catch some, not all */
			  .spin_budget = 2000,
			  .body = body};
	int ret;

	if (no) {
		struct ik_chan_params p = {.size = 8, .wait = c->wait};
		struct ik_channel ch;

		/* setup refuses it: no unsupported instruction runs */
		cr_expect_eq(
			ik_channel_init(&ch, ik_transport_find(method), &p),
			-EOPNOTSUPP, "%s %s", method, ik_wait_name(c->wait));
		cr_skip_test("%s: %s", ik_wait_name(c->wait), no);
	}
	ret = t_run_peers(&t);
	cr_assert_eq(ret, 0, "%s %s %s %s: %s (%s)", method,
		     ik_wait_name(c->wait), ik_mode_name(c->mode),
		     c->stream ? "stream" : "ping-pong", strerror(-ret),
		     t.errmsg);
}

Test(wait, hybrid_budget_in_iterations_and_none, .timeout = 60)
{
	static const uint64_t budgets[] = {0, 500 | IK_BUDGET_ITERS, 50000};

	for (size_t i = 0; i < IK_ARRAY_SIZE(budgets); i++) {
		struct t_run t = {.method = i % 2 ? "line" : "spsc",
				  .mode = IK_MODE_THREAD,
				  .wait = IK_WAIT_HYBRID,
				  .size = 16,
				  .count = 2000,
				  .spin_budget = budgets[i],
				  .body = body};
		int ret = t_run_peers(&t);

		cr_expect_eq(ret, 0, "budget %llx: %s (%s)",
			     (unsigned long long)budgets[i], strerror(-ret),
			     t.errmsg);
	}
}

/* The flag /proc/cpuinfo shows for the first CPU. */
static bool cpuinfo_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[8192];
	bool has = false;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;

		if (strncmp(line, "flags", 5))
			continue;
		for (tok = strtok_r(strchr(line, ':') + 1, " \n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save))
			has |= !strcmp(tok, flag);
		break;
	}
	fclose(f);
	return has;
}

Test(wait, detection_agrees_with_proc_cpuinfo)
{
#if defined(__x86_64__)
	cr_expect_eq(ik_cpu_waitpkg(), cpuinfo_flag("waitpkg"),
		     "CPUID WAITPKG %d, cpuinfo waitpkg %d", ik_cpu_waitpkg(),
		     cpuinfo_flag("waitpkg"));
	cr_expect_eq(ik_cpu_monitorx(), cpuinfo_flag("monitorx"),
		     "CPUID MONITORX %d, cpuinfo monitorx %d",
		     ik_cpu_monitorx(), cpuinfo_flag("monitorx"));
	cr_expect_eq(ik_wait_unavailable(IK_WAIT_UMWAIT) == NULL,
		     cpuinfo_flag("waitpkg"));
	cr_expect_eq(ik_wait_unavailable(IK_WAIT_TPAUSE) == NULL,
		     cpuinfo_flag("waitpkg"));
	cr_expect_eq(ik_wait_unavailable(IK_WAIT_MWAITX) == NULL,
		     cpuinfo_flag("monitorx"));
#else
	cr_expect(!ik_cpu_waitpkg() && !ik_cpu_monitorx());
#endif
	/* the kernel's own ways are always there for the plain futex */
	cr_expect_null(ik_wait_unavailable(IK_WAIT_SPIN));
	cr_expect_null(ik_wait_unavailable(IK_WAIT_FUTEX));
	cr_expect_null(ik_wait_unavailable(IK_WAIT_HYBRID));
	cr_expect_null(ik_wait_unavailable(IK_WAIT_YIELD));
	cr_expect_not_null(ik_wait_unavailable(IK_NWAITS));
}

Test(wait, names_round_trip)
{
	for (int w = 0; w < IK_NWAITS; w++) {
		cr_expect_eq(ik_wait_by_name(ik_wait_name((enum ik_wait)w)), w);
		cr_expect_str_neq(ik_wait_summary((enum ik_wait)w), "?");
	}
	cr_expect_eq(ik_wait_by_name("umwaitx"), -1);
}

Test(wait, spin_budget_parses_ns_and_iterations)
{
	static const struct {
		const char *in;
		uint64_t v;
		const char *name;
	} ok[] = {
		{"0", 0, "0ns"},
		{"250", 250, "250ns"},
		{"250ns", 250, "250ns"},
		{"2us", 2000, "2us"},
		{"1.5us", 1500, "1500ns"},
		{"1ms", 1000000, "1ms"},
		{"1000i", 1000 | IK_BUDGET_ITERS, "1000i"},
		{"0i", IK_BUDGET_ITERS, "0i"},
	};
	static const char *const bad[] = {
		"",	"-1",	"2s",  "1.5i",	 "2 us",  "us",
		"1e10", "0x10", "5i2", "2000ms", "0.5ns",
	};
	char b[32];
	uint64_t v;

	for (size_t i = 0; i < IK_ARRAY_SIZE(ok); i++) {
		cr_expect_eq(ik_spin_budget_parse(ok[i].in, &v), 0, "%s",
			     ok[i].in);
		cr_expect_eq(v, ok[i].v, "%s: %llx", ok[i].in,
			     (unsigned long long)v);
		ik_spin_budget_name(v, b, sizeof(b));
		cr_expect_str_eq(b, ok[i].name, "%s", ok[i].in);
	}
	for (size_t i = 0; i < IK_ARRAY_SIZE(bad); i++)
		cr_expect_eq(ik_spin_budget_parse(bad[i], &v), -EINVAL, "'%s'",
			     bad[i]);
}

/* ---- the CLI ---- */

Test(wait_cli, list_names_every_strategy_and_why_not)
{
	struct out o = run((const char *const[]){"--list", NULL});

	cr_assert_eq(o.code, 0, "%s", o.err);
	cr_expect_not_null(strstr(o.stdout_text, "wait strategies"));
	for (int w = 0; w < IK_NWAITS; w++) {
		char want[64];
		const char *no = ik_wait_unavailable((enum ik_wait)w);

		snprintf(want, sizeof(want), "\n%s ",
			 ik_wait_name((enum ik_wait)w));
		cr_expect_not_null(strstr(o.stdout_text, want), "%s", want);
		if (no)
			cr_expect_not_null(strstr(o.stdout_text, no), "%s", no);
	}
	free(o.stdout_text);
	o = run((const char *const[]){"--list", "--format", "json", NULL});
	cr_assert_eq(o.code, 0, "%s", o.err);
	cr_expect_not_null(strstr(o.stdout_text, "\"waits\""));
	cr_expect_not_null(strstr(o.stdout_text, "\"uring-futex\""));
	free(o.stdout_text);
}

Test(wait_cli, unavailable_strategy_refused_with_its_reason)
{
	static const enum ik_wait cpu[] = {IK_WAIT_UMWAIT, IK_WAIT_TPAUSE,
					   IK_WAIT_MWAITX, IK_WAIT_URING_FUTEX,
					   IK_WAIT_FUTEX_WAITV};
	bool any = false;

	for (size_t i = 0; i < IK_ARRAY_SIZE(cpu); i++) {
		const char *no = ik_wait_unavailable(cpu[i]);
		const char *name = ik_wait_name(cpu[i]);
		struct out o;

		if (!no)
			continue;
		any = true;
		o = run((const char *const[]){"--method", "spsc", "--wait",
					      name, "--iters", "10", NULL});
		cr_expect_eq(o.code, 2, "%s: exit %d: %s", name, o.code, o.err);
		t_expect_one_line_naming("stderr", o.err, true, name);
		cr_expect_not_null(strstr(o.err, no), "%s: %s", name, o.err);
		free(o.stdout_text);
	}
	if (!any)
		cr_skip_test("every strategy runs on this machine");
}

Test(wait_cli, bad_wait_and_budget_refused)
{
	BAD("spinn", "--wait", "spinn");
	BAD("futex", "--wait", "futex,futex");
	BAD("3x", "--wait", "hybrid", "--spin-budget", "3x");
	BAD("1us", "--wait", "hybrid", "--spin-budget", "1us,1000ns");
	BAD("hybrid", "--wait", "futex", "--spin-budget", "1us");
}

/*
 * line's --line-op/--lines/--stride variants spin in each op's loop: any
 * other --wait with them is refused naming both, never run as spin;
 * spsc's --stride takes every strategy, and line's plain store does.
 */
Test(wait_cli, line_variants_refuse_other_waits_spsc_stride_takes_them,
     .timeout = 120)
{
	struct out o;
	json_t *root, *res;
	json_error_t je;

	BAD("--wait hybrid with --line-op", "--method", "line", "--wait",
	    "spin,hybrid", "--line-op", "store,cas");
	BAD("--wait futex with --stride", "--method", "line,spsc", "--wait",
	    "futex", "--stride", "128");
	BAD("--wait yield with --lines", "--method", "line", "--wait", "yield",
	    "--lines", "4");
	o = run((const char *const[]){"--method", "spsc", "--stride", "128",
				      "--wait", "futex,hybrid", "--iters",
				      "200", "--format", "json", "-q", NULL});
	cr_assert_eq(o.code, 0, "exit %d: %s", o.code, o.err);
	root = json_loads(o.stdout_text, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	res = json_object_get(root, "results");
	cr_expect_eq(json_array_size(res), 2);
	for (size_t i = 0; i < json_array_size(res); i++) {
		json_t *r = json_array_get(res, i);

		cr_expect_str_eq(json_string_value(json_object_get(r, "wait")),
				 i ? "hybrid" : "futex");
		cr_expect_eq(json_integer_value(json_object_get(r, "stride")),
			     128);
		cr_expect_str_eq(
			json_string_value(json_object_get(r, "status")), "ok");
	}
	json_decref(root);
	free(o.stdout_text);
	o = run((const char *const[]){"--method", "line", "--line-op", "store",
				      "--wait", "hybrid,futex", "--iters",
				      "200", "-q", NULL});
	cr_expect_eq(o.code, 0, "plain store with sleeping waits: exit %d: %s",
		     o.code, o.err);
	free(o.stdout_text);
}

Test(wait_cli, a_list_runs_each_strategy_and_says_which, .timeout = 120)
{
	struct out o = run((const char *const[]){
		"--method", "line,spsc,pipe", "--wait", "spin,hybrid,futex",
		"--spin-budget", "0,1000i", "--iters", "200", "--warmup", "10",
		"--format", "json", NULL});
	json_error_t e;
	json_t *root, *res, *r;
	size_t i, hybrid = 0, pipe = 0, plain = 0;

	cr_assert_eq(o.code, 0, "%s", o.err);
	root = json_loads(o.stdout_text, 0, &e);
	cr_assert_not_null(root, "%s", e.text);
	res = json_object_get(root, "results");
	/* line and spsc: spin, hybrid x 2 budgets, futex; pipe once */
	cr_expect_eq(json_array_size(res), 2 * 4 + 1);
	json_array_foreach(res, i, r)
	{
		const char *m = json_string_value(json_object_get(r, "method"));
		json_t *w = json_object_get(r, "wait");
		json_t *b = json_object_get(r, "spin_budget");

		if (!strcmp(m, "pipe")) {
			pipe++;
			cr_expect_null(w, "pipe takes no strategy");
			continue;
		}
		cr_assert_not_null(w, "%s has no wait", m);
		if (!strcmp(json_string_value(w), "hybrid")) {
			hybrid++;
			cr_expect_not_null(b);
		} else {
			plain++;
			cr_expect_null(b);
		}
	}
	cr_expect_eq(hybrid, 4);
	cr_expect_eq(plain, 4);
	cr_expect_eq(pipe, 1);
	json_decref(root);
	free(o.stdout_text);
}

/* A peer that never answers: every sleeping strategy's waiter is woken
 * by the run's end, which exits 3 naming the timeout, not a hang. */
Test(wait_cli, a_stalled_peer_ends_every_sleeping_wait_by_the_timeout,
     .timeout = 120)
{
	static const char *const modes[] = {"thread", "process"};

	for (int w = 0; w < IK_NWAITS; w++)
		for (size_t m = 0; m < 2; m++) {
			const char *name = ik_wait_name((enum ik_wait)w);
			struct out o;

			if (!ik_wait_sleeps((enum ik_wait)w) ||
			    ik_wait_unavailable((enum ik_wait)w))
				continue;
			o = run_env("IPCKERN_FAULT=stall-b",
				    (const char *const[]){
					    "--method", "line,spsc", "--wait",
					    name, "--mode", modes[m],
					    "--timeout", "0.5", NULL},
				    -1);
			cr_expect_eq(o.code, 3, "%s %s: exit %d: %s", name,
				     modes[m], o.code, o.err);
			cr_expect_not_null(strstr(o.err, "timed out"), "%s: %s",
					   name, o.err);
			free(o.stdout_text);
		}
}
