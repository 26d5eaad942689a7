/* SPDX-License-Identifier: MIT */
/*
 * Shared test plumbing (t_ prefix): run two peers over a method with a
 * body of the test's choosing, through the same ik_peers machinery the
 * kernels use, so threads and processes are both covered.
 */
#ifndef IK_TEST_HELPERS_H
#define IK_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h> /* after criterion.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

/* The byte a message k carries at offset i, and what the echo makes of it */
static inline unsigned char t_pattern(uint64_t k, size_t i)
{
	return (unsigned char)(k * 7 + i * 13 + (i >> 8) + 1);
}

static inline unsigned char t_echoed(unsigned char x)
{
	return x ^ 0x5A;
}

/* -errno a method's setup gives when the kernel lacks the feature */
static inline bool t_unsupported(int ret)
{
	return ret == -EPERM || ret == -ENOSYS || ret == -EOPNOTSUPP ||
	       ret == -EACCES;
}

/*
 * An argv for a run of ipckern (in process or the binary): argv0, then
 * args (NULL-terminated), then NULL, in argv of max entries. Returns argc.
 */
static inline int t_argv(const char **argv, size_t max, const char *argv0,
			 const char *const *args)
{
	size_t i;

	argv[0] = argv0;
	for (i = 0; args[i]; i++) {
		cr_assert_lt(i + 2, max, "more than %zu arguments", max - 2);
		argv[i + 1] = args[i];
	}
	argv[i + 1] = NULL;
	return (int)i + 1;
}

/*
 * A refusal's message (what: whose) is one line, ended by a newline
 * when it went to stderr, and names the bad value (names).
 */
static inline void t_expect_one_line_naming(const char *what, const char *msg,
					    bool newline, const char *names)
{
	const char *nl = strchr(msg, '\n');

	cr_expect(*msg && (newline ? nl && !nl[1] : !nl),
		  "%s: one line, got: %s", what, msg);
	cr_expect(strstr(msg, names) != NULL, "%s should name '%s': %s", what,
		  names, msg);
}

/* The run context of a kernel a test calls directly: this machine's
 * topology and clock, one pair alone, no Ctrl-C, no --mem-node. */
static inline struct ik_run t_run_ctx(const struct ik_topo *topo,
				      const struct ik_timer *timer)
{
	return (struct ik_run){.topo = topo, .timer = timer, .mem_node = -1};
}

/*
 * The machine the kernel suites run on: .init = t_setup, .fini =
 * t_teardown load this machine's topology and calibrate the timer, and
 * make t_ctx the run context the suites hand the kernels.
 */
static struct ik_topo topo;
static struct ik_timer timer;
static struct ik_run t_ctx;

static inline void t_setup(void)
{
	cr_assert_eq(ik_topo_load(&topo, NULL), 0);
	ik_timer_init(&timer);
	t_ctx = t_run_ctx(&topo, &timer);
}

static inline void t_teardown(void)
{
	ik_topo_free(&topo);
}

/*
 * The stream kernel, verifying, over method: n messages of size bytes
 * (buffer 0: the method's own), within timeout_s seconds. ik_stream's
 * return; res as it filled it.
 */
static inline int t_stream(const char *method, enum ik_mode mode, size_t size,
			   size_t buffer, uint64_t n, uint64_t timeout_s,
			   struct ik_result *res)
{
	struct ik_config cfg = {
		.kernel = IK_KERNEL_STREAM,
		.verify = true,
		.size = size,
		.buffer = buffer,
		.iters = n,
		.timeout_ns = timeout_s * IK_NS_PER_SEC,
	};
	const struct ik_transport_ops *ops = ik_transport_find(method);

	cr_assert_not_null(ops, "no method %s", method);
	return ik_stream(&cfg, ops, mode, &t_ctx, res);
}

/*
 * README.md's table (table: "options", "methods") between its markers
 * must be what print writes; the failure names tool, which prints it.
 */
static inline void t_expect_readme_table(const char *readme, const char *table,
					 int (*print)(FILE *f),
					 const char *tool)
{
	char begin[128], end[64], *text = NULL, *at, *stop, *want = NULL;
	size_t cap = 0, len = 0;
	FILE *f = fopen(readme, "r"), *m;

	snprintf(begin, sizeof(begin),
		 "<!-- %s table: from build/%s; do not edit by hand -->\n",
		 table, tool);
	snprintf(end, sizeof(end), "<!-- end of %s table -->\n", table);
	cr_assert_not_null(f, "%s", readme);
	cr_assert_geq(getdelim(&text, &cap, '\0', f), 0);
	fclose(f);
	at = strstr(text, begin);
	cr_assert_not_null(at, "%s has no '%s'", readme, begin);
	at += strlen(begin);
	stop = strstr(at, end);
	cr_assert_not_null(stop, "%s has no '%s'", readme, end);
	*stop = 0;
	m = open_memstream(&want, &len);
	cr_assert_not_null(m);
	cr_assert_eq(print(m), 0);
	fclose(m);
	cr_expect_str_eq(at, want,
			 "%s's %s table is stale: replace it with the output "
			 "of build/%s",
			 readme, table, tool);
	free(text);
	free(want);
}

/*
 * Parameterised tests over every registered method (ik_transports) in
 * both modes: a new method is tested without a line of its own. A case
 * holds the method's index, not a pointer, since Criterion hands it to
 * the test in another process. Use as
 *   ParameterizedTestParameters(suite, name) { return t_method_cases(); }
 */
struct t_method_case {
	unsigned method; /* index into ik_transports */
	enum ik_mode mode;
};

static inline void t_free_cases(struct criterion_test_params *ctp)
{
	cr_free(ctp->params);
}

static inline struct criterion_test_params t_method_cases(void)
{
	static const enum ik_mode modes[] = {IK_MODE_THREAD, IK_MODE_PROCESS};
	const size_t nmodes = sizeof(modes) / sizeof(modes[0]);
	struct t_method_case *c;
	size_t n = 0, i, m;

	while (ik_transports[n])
		n++;
	c = cr_malloc(n * nmodes * sizeof(*c));
	if (!c) /* no cases: the suite's other tests still run */
		n = 0;
	for (i = 0; i < n; i++)
		for (m = 0; m < nmodes; m++)
			c[i * nmodes + m] = (struct t_method_case){
				.method = (unsigned)i, .mode = modes[m]};
	return cr_make_param_array(struct t_method_case, c, n * nmodes,
				   t_free_cases);
}

struct t_run {
	const char *method;
	enum ik_mode mode;
	enum ik_wait wait;
	size_t size;
	size_t buffer;
	uint64_t count;
	bool stream; /* one side only sends: the channel may pick a variant */
	int (*body)(struct ik_peers *g, enum ik_side side);
	char errmsg[256];
	uint64_t spin_budget; /* --wait hybrid's (ik_chan_params) */
};

/*
 * Set up the channel, run body on both sides (g->arg is the t_run), tear
 * down. Skips the test when the method is not supported here. Returns
 * ik_peers_run's result; errmsg says what failed.
 */
static inline int t_run_peers(struct t_run *t)
{
	const struct ik_transport_ops *ops = ik_transport_find(t->method);
	struct ik_chan_params p = {.size = t->size,
				   .mode = t->mode,
				   .wait = t->wait,
				   .spin_budget = t->spin_budget,
				   .unpinned = true,
				   .stream = t->stream};
	struct ik_channel ch;
	struct ik_peers g = {.ch = &ch,
			     .mode = t->mode,
			     .timeout_ns = 120 * IK_NS_PER_SEC,
			     .body = t->body,
			     .arg = t};
	int ret;

	cr_assert_not_null(ops, "no method %s", t->method);
	ret = ik_channel_init(&ch, ops, &p);
	if (t_unsupported(ret))
		cr_skip_test("%s not supported here: %s", t->method,
			     strerror(-ret));
	cr_assert_eq(ret, 0, "%s setup: %s", t->method, strerror(-ret));
	ret = ik_peers_run(&g);
	snprintf(t->errmsg, sizeof(t->errmsg), "%s", g.errmsg);
	if (!g.stuck)
		ik_channel_destroy(&ch);
	return ret;
}

#endif
