/* SPDX-License-Identifier: MIT */
/*
 * The stream kernel: every registered method, in both modes, moves
 * every message in order and intact (--verify on), and --verify catches a
 * corrupted, a dropped and a duplicated message (injected by a test hook).
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static int stream(const char *method, enum ik_mode mode, size_t size,
		  uint64_t n, struct ik_result *res)
{
	return t_stream(method, mode, size, 0, n, 60, res);
}

static void check_streams(const char *method, enum ik_mode mode)
{
	static const size_t sizes[] = {24, 64, 1000, 8192, 100000};
	struct ik_chan_params p = {.size = 24, .mode = mode};
	size_t max = ik_transport_max_size(ik_transport_find(method), &p), i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i] < max ? sizes[i] : max;
		uint64_t n = size > 8192 ? 300 : 20000;
		struct ik_result res;
		int ret = stream(method, mode, size, n, &res);

		if (t_unsupported(ret))
			cr_skip_test("%s: %s", method, res.errmsg);
		cr_assert_eq(ret, 0, "%s %s %zu B: %s", method,
			     ik_mode_name(mode), size, res.errmsg);
		cr_expect_eq(res.stream.messages, n, "%s: %lu of %lu arrived",
			     method, (unsigned long)res.stream.messages,
			     (unsigned long)n);
		ik_result_free(&res);
	}
}

/* One case per registered method and mode (t_method_cases). */
ParameterizedTestParameters(stream, delivers_every_message_intact)
{
	return t_method_cases();
}

ParameterizedTest(struct t_method_case *c, stream,
		  delivers_every_message_intact, .init = t_setup,
		  .fini = t_teardown, .timeout = 120)
{
	check_streams(ik_transports[c->method]->name, c->mode);
}

static void expect_caught(const char *fault, const char *words)
{
	struct ik_result res;
	int ret;

	setenv(IK_FAULT_ENV, fault, 1);
	ret = stream("pipe", IK_MODE_THREAD, 64, 1000, &res);
	unsetenv(IK_FAULT_ENV);
	cr_expect_eq(ret, -EBADMSG, "%s: got %d (%s)", fault, ret, res.errmsg);
	cr_expect(strstr(res.errmsg, words) != NULL, "%s", res.errmsg);
	ik_result_free(&res);
}

Test(stream_verify, catches_a_corrupted_message, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	expect_caught("corrupt", "message 10 failed its checksum");
}

Test(stream_verify, catches_a_dropped_message, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	expect_caught("drop", "message 10 carried sequence 11");
}

Test(stream_verify, catches_a_duplicated_message, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	expect_caught("dup", "message 11 carried sequence 10");
}

/*
 * Open loop: at 10000 msgs/s the sender is made to sleep 10 ms before
 * message 100. Latency counts from each message's due time, so message
 * 100 is at least 10 ms late and the ~100 messages due during the stall
 * are all late by a millisecond or more: lower bounds that hold on any
 * machine. A closed-loop stamp would show one slow message at most.
 */
Test(stream_rate, a_stall_shows_in_every_message_due_during_it, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	struct ik_config cfg = {
		.kernel = IK_KERNEL_STREAM,
		.size = 64,
		.iters = 400,
		.rate = 10000,
		.timeout_ns = 30 * IK_NS_PER_SEC,
	};
	struct ik_result res;
	struct ik_hist_iter it;
	uint64_t over_1ms = 0;
	int ret;

	setenv(IK_FAULT_ENV, "stall-at-100", 1);
	ret = ik_stream(&cfg, ik_transport_find("pipe"), IK_MODE_THREAD, &t_ctx,
			&res);
	unsetenv(IK_FAULT_ENV);
	cr_assert_eq(ret, 0, "%s", res.errmsg);
	if (timer.kind != IK_CLOCK_TSC || !res.stream.latency_valid)
		cr_skip_test("no one-way latency here: %s",
			     res.stream.latency_why);
	cr_expect_geq(res.hist.max, 10000000, "max %lu ns",
		      (unsigned long)res.hist.max);
	ik_hist_iter_init(&it, &res.hist);
	while (ik_hist_iter_next(&it))
		if (it.lo >= 1000000)
			over_1ms += it.count;
	cr_expect_geq(over_1ms, 80, "only %lu messages over 1 ms late",
		      (unsigned long)over_1ms);
	cr_expect(res.stream.rate_missed, "a 10 ms stall misses the rate");
	ik_result_free(&res);
}
