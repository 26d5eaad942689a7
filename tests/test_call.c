/* SPDX-License-Identifier: MIT */
/*
 * The call kernel: every method that can carry a call, in both modes,
 * returns every call's own result (the kernel checks id and value), and
 * the CPU it reports adds up: each side's CPU over the timed calls is at
 * most the wall time of those calls, so both together at most twice it.
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* the accounting windows reach a send or two past the wall clock's */
#define SLACK_NS 1000000.0

static void check_calls(const char *method, enum ik_mode mode, uint64_t work)
{
	struct ik_config cfg = {
		.kernel = IK_KERNEL_CALL,
		.iters = 3000,
		.warmup = 300,
		.work_ns = work,
		.timeout_ns = 60 * IK_NS_PER_SEC,
	};
	const struct ik_transport_ops *ops = ik_transport_find(method);
	struct ik_result res;
	double wall, ca, cw;
	int ret;

	cr_assert_not_null(ops);
	ret = ik_call(&cfg, ops, mode, &t_ctx, &res);
	if (t_unsupported(ret))
		cr_skip_test("%s: %s", method, res.errmsg);
	cr_assert_eq(ret, 0, "%s %s: %s", method, ik_mode_name(mode),
		     res.errmsg);
	cr_expect_eq(res.count, 3000, "%s: %lu calls", method,
		     (unsigned long)res.count);
	cr_expect_eq(ik_hist_total(&res.hist), 3000);
	cr_expect_eq(res.kernel, &ik_kernel_call);
	cr_expect_eq(res.size, 16, "a call is id + value");
	wall = (double)res.wall_ns;
	ca = (double)res.cpu[0].cpu_ns;
	cw = (double)res.cpu[1].cpu_ns;
	cr_expect(wall > 0);
	cr_expect(ca > 0 && cw > 0, "%s: caller %f, worker %f ns", method, ca,
		  cw);
	cr_expect(ca <= wall + SLACK_NS, "%s: caller CPU %.0f > wall %.0f",
		  method, ca, wall);
	cr_expect(cw <= wall + SLACK_NS, "%s: worker CPU %.0f > wall %.0f",
		  method, cw, wall);
	cr_expect(ca + cw <= 2 * wall + SLACK_NS,
		  "%s: CPU %.0f over 2 x wall %.0f", method, ca + cw, wall);
	ik_result_free(&res);
}

#define CALL_TESTS(id, name)                                                   \
	Test(call_thread, id##_returns_every_result_and_cpu_adds_up,           \
	     .init = t_setup, .fini = t_teardown, .timeout = 120)              \
	{                                                                      \
		check_calls(name, IK_MODE_THREAD, 0);                          \
	}                                                                      \
	Test(call_process, id##_returns_every_result_and_cpu_adds_up,          \
	     .init = t_setup, .fini = t_teardown, .timeout = 120)              \
	{                                                                      \
		check_calls(name, IK_MODE_PROCESS, 0);                         \
	}

CALL_TESTS(spsc, "spsc")
CALL_TESTS(futex, "futex")
CALL_TESTS(eventfd, "eventfd")
CALL_TESTS(condvar, "condvar")
CALL_TESTS(pipe, "pipe")
CALL_TESTS(uds, "uds")
CALL_TESTS(io_uring, "io_uring")

Test(call, work_in_the_worker_still_returns_every_result, .init = t_setup,
     .fini = t_teardown, .timeout = 120)
{
	check_calls("spsc", IK_MODE_THREAD, 2000);
	check_calls("futex", IK_MODE_PROCESS, 2000);
}
