/* SPDX-License-Identifier: MIT */
/*
 * The group kernel (kernels/group.c): a 1:N fan-out delivers every
 * message to every consumer, an N:1 fan-in serves every producer, a
 * pipeline passes every message through every stage (each checked by
 * sequence and payload at every party, so a count that adds up means
 * every message was verified), a failed check names the party and the
 * message, --contend's shares add up to the line's own count, and the
 * command lines it cannot run are refused with one line saying why.
 * With two CPUs here, more than two parties are oversubscribed: the
 * tests ask for it, as a user must.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "helpers.h"

#define ITERS 3000

static struct ik_config group_cfg(enum ik_shape shape, unsigned n)
{
	return (struct ik_config){
		.kernel = IK_KERNEL_GROUP,
		.shape = shape,
		.shape_n = n,
		.oversubscribe = true,
		.size = 64,
		.iters = ITERS,
		.warmup = 200,
		.duration_ns = 20 * 1000 * 1000, /* contend only */
		.timeout_ns = 60 * IK_NS_PER_SEC,
	};
}

static int run_group(const struct ik_config *cfg, const char *method,
		     enum ik_mode mode, struct ik_result *res)
{
	const struct ik_transport_ops *ops = ik_transport_find(method);

	cr_assert_not_null(ops, "%s", method);
	return ik_group(cfg, ops, mode, &t_ctx, res);
}

static void fanout_every_consumer(const char *method, enum ik_mode mode)
{
	struct ik_config cfg = group_cfg(IK_SHAPE_FANOUT, 3);
	struct ik_result res;
	unsigned i;
	int ret = run_group(&cfg, method, mode, &res);

	if (t_unsupported(ret))
		cr_skip_test("%s: %s", method, res.errmsg);
	cr_assert_eq(ret, 0, "%s: %s", method, res.errmsg);
	cr_assert_not_null(res.group);
	cr_expect_eq(res.group->parties, 4);
	cr_expect_eq(res.count, ITERS);
	cr_expect_eq(ik_hist_total(&res.hist), ITERS, "round trips");
	/* each consumer received, checked and echoed every message */
	for (i = 1; i <= 3; i++)
		cr_expect_eq(
			ik_hist_total(&res.group->hist[i]), ITERS,
			"%s: consumer %u saw %llu", method, i,
			(unsigned long long)ik_hist_total(&res.group->hist[i]));
	cr_expect_eq(ik_hist_total(&res.group->e2e), ITERS);
	/* the last receipt is no earlier than any consumer's */
	for (i = 1; i <= 3; i++)
		cr_expect_geq(res.group->e2e.max, res.group->hist[i].max);
	cr_expect_eq(res.group->oversubscribed, res.group->ncpus < 4);
	ik_result_free(&res);
}

Test(group, fanout_1_to_3_futex_threads_delivers_every_message_to_each,
     .init = t_setup, .fini = t_teardown, .timeout = 120)
{
	fanout_every_consumer("futex", IK_MODE_THREAD);
}

Test(group, fanout_1_to_3_spsc_threads_delivers_every_message_to_each,
     .init = t_setup, .fini = t_teardown, .timeout = 120)
{
	fanout_every_consumer("spsc", IK_MODE_THREAD);
}

Test(group, fanout_1_to_3_pipe_processes_delivers_every_message_to_each,
     .init = t_setup, .fini = t_teardown, .timeout = 120)
{
	fanout_every_consumer("pipe", IK_MODE_PROCESS);
}

Test(group, fanin_3_to_1_serves_every_producer, .init = t_setup,
     .fini = t_teardown, .timeout = 120)
{
	struct ik_config cfg = group_cfg(IK_SHAPE_FANIN, 3);
	struct ik_result res;
	unsigned i;
	int ret = run_group(&cfg, "eventfd", IK_MODE_THREAD, &res);

	cr_assert_eq(ret, 0, "%s", res.errmsg);
	cr_expect_eq(res.count, 3 * ITERS);
	cr_expect_eq(ik_hist_total(&res.hist), 3 * ITERS);
	for (i = 1; i <= 3; i++) {
		cr_expect_eq(ik_hist_total(&res.group->hist[i]), ITERS,
			     "producer %u", i);
		cr_expect_eq(ik_hist_total(&res.group->oneway[i]), ITERS,
			     "producer %u one way", i);
	}
	ik_result_free(&res);
}

Test(group, pipeline_of_3_passes_every_message_through_every_stage,
     .init = t_setup, .fini = t_teardown, .timeout = 120)
{
	struct ik_config cfg = group_cfg(IK_SHAPE_PIPELINE, 3);
	struct ik_result res;
	unsigned i;
	int ret = run_group(&cfg, "uds", IK_MODE_PROCESS, &res);

	cr_assert_eq(ret, 0, "%s", res.errmsg);
	cr_expect_eq(res.count, ITERS);
	for (i = 0; i < 3; i++)
		cr_expect_eq(ik_hist_total(&res.group->hist[i]), ITERS,
			     "hop into stage %u", i);
	cr_expect_eq(ik_hist_total(&res.group->e2e), ITERS);
	/* through all is part of the round trip */
	cr_expect_leq(res.group->e2e.min, res.hist.max);
	ik_result_free(&res);
}

/* IPCKERN_FAULT=seq-P: party P checks against the wrong sequence */
static void expect_named_failure(enum ik_shape shape, unsigned n,
				 const char *fault, const char *names)
{
	struct ik_config cfg = group_cfg(shape, n);
	struct ik_result res;
	int ret;

	setenv(IK_FAULT_ENV, fault, 1);
	ret = run_group(&cfg, "pipe", IK_MODE_THREAD, &res);
	unsetenv(IK_FAULT_ENV);
	cr_expect_eq(ret, -EBADMSG, "%s: %d: %s", fault, ret, res.errmsg);
	cr_expect(strstr(res.errmsg, names), "%s: should name '%s': %s", fault,
		  names, res.errmsg);
	cr_expect(strstr(res.errmsg, "message "), "%s", res.errmsg);
	ik_result_free(&res);
}

Test(group, a_failed_check_names_the_party_and_the_message, .init = t_setup,
     .fini = t_teardown, .timeout = 120)
{
	expect_named_failure(IK_SHAPE_FANOUT, 3, "seq-2", "consumer 2");
	expect_named_failure(IK_SHAPE_PIPELINE, 3, "seq-1", "stage 1");
	expect_named_failure(IK_SHAPE_FANIN, 2, "seq-0",
			     "consumer (from producer 1)");
}

Test(group, contend_2_shares_sum_to_the_lines_own_count, .init = t_setup,
     .fini = t_teardown, .timeout = 60)
{
	struct ik_config cfg = group_cfg(IK_SHAPE_CONTEND, 2);
	struct ik_result res;
	uint64_t sum = 0, hand = 0;
	unsigned i;
	int ret = run_group(&cfg, "line", IK_MODE_THREAD, &res);

	cr_assert_eq(ret, 0, "%s", res.errmsg);
	for (i = 0; i < 2; i++) {
		sum += res.group->takes[i];
		hand += res.group->handoffs[i];
		cr_expect_leq(res.group->takes[i], res.group->tries[i]);
	}
	cr_expect_gt(res.group->total, 0);
	cr_expect_eq(sum, res.group->total, "shares %llu, line %llu",
		     (unsigned long long)sum,
		     (unsigned long long)res.group->total);
	cr_expect_leq(hand, sum);
	cr_expect_gt(res.group->seconds, 0);
	ik_result_free(&res);
}

/* ---- the command line ---- */

static struct ik_plan plan; /* off the stack */

static int parse(const char *const *args)
{
	const char *argv[64];
	int argc = t_argv(argv, 64, "ipckern", args);

	return ik_cli_parse(&plan, argc, (char **)argv);
}

static void expect_refused(const char *const *args, const char *names)
{
	int ret = parse(args);

	cr_expect_eq(ret, -EINVAL, "%s %s: returned %d, err: %s", args[0],
		     args[1] ? args[1] : "", ret, plan.err);
	t_expect_one_line_naming(args[0], plan.err, false, names);
}

#define BAD(names, ...)                                                        \
	expect_refused((const char *const[]){__VA_ARGS__, NULL}, names)
#define OK(...) parse((const char *const[]){__VA_ARGS__, NULL})

Test(group_cli, a_shape_selects_the_group_kernel)
{
	cr_assert_eq(
		OK("--fanout", "1:3", "--oversubscribe", "--method", "futex"),
		0, "%s", plan.err);
	cr_expect_eq(plan.cfg.kernel, IK_KERNEL_GROUP);
	cr_expect_eq(plan.cfg.shape, IK_SHAPE_FANOUT);
	cr_expect_eq(plan.cfg.shape_n, 3);
	cr_assert_eq(
		OK("--fanout", "4:1", "--oversubscribe", "--method", "pipe"), 0,
		"%s", plan.err);
	cr_expect_eq(plan.cfg.shape, IK_SHAPE_FANIN);
	cr_expect_eq(plan.cfg.shape_n, 4);
	cr_assert_eq(OK("--contend", "2", "--method", "line", "--pin", "0,1"),
		     0, "%s", plan.err);
	cr_expect_eq(plan.cfg.shape, IK_SHAPE_CONTEND);
	cr_expect(plan.cfg.duration_ns > 0, "contend runs for a time");
	/* --pin lists one CPU per party */
	cr_assert_eq(OK("--pipeline", "3", "--oversubscribe", "--pin", "0,0,0",
			"--method", "eventfd"),
		     0, "%s", plan.err);
	cr_expect_eq(plan.cfg.ncpu, 3);
	cr_expect(plan.cfg.pinned);
}

Test(group_cli, an_unsupported_method_is_refused_naming_the_allowed)
{
	BAD("method mq is not supported", "--fanout", "1:1", "--method", "mq");
	BAD("spsc, futex, eventfd, pipe, uds, tcp", "--pipeline", "2",
	    "--method", "sysv-msg");
	BAD("use --method line", "--contend", "2", "--method", "spsc");
}

Test(group_cli, a_bad_n_is_refused)
{
	BAD("--fanout '2:2'", "--fanout", "2:2");
	BAD("--fanout '0:1'", "--fanout", "0:1");
	BAD("--fanout '1:'", "--fanout", "1:");
	BAD("--fanout '1:64'", "--fanout", "1:64");
	BAD("--pipeline '1'", "--pipeline", "1");
	BAD("--pipeline 'x'", "--pipeline", "x");
	BAD("--contend '65'", "--contend", "65");
	BAD("--contend '1'", "--contend", "1");
}

/* review finding 3: the fan-out was dropped for the pipeline, exit 0 */
Test(group_cli, two_shapes_are_refused_not_one_dropped)
{
	BAD("--pipeline '2'", "--fanout", "1:1", "--pipeline", "2");
	BAD("--fanout '1:2'", "--fanout", "1:1", "--fanout", "1:2");
	BAD("--contend '2'", "--pipeline", "2", "--contend", "2");
}

Test(group_cli, more_parties_than_cpus_is_refused_without_oversubscribe)
{
	/* three parties on two pinned CPUs */
	BAD("add --oversubscribe", "--pipeline", "3", "--pin", "0,1",
	    "--method", "futex");
	/* and on one allowed CPU: --pin 0 gives one */
	BAD("--fanout: 2 parties and --pin gives 1 CPU", "--fanout", "1:1",
	    "--pin", "0", "--method", "futex");
	/* more CPUs than parties is a slip too */
	BAD("3 CPUs for 2 parties", "--fanout", "1:1", "--pin", "0,1,0",
	    "--method", "futex");
}

Test(group_cli, what_a_group_cannot_do_is_refused)
{
	BAD("--kernel group: give its shape", "--kernel", "group", "--method",
	    "futex");
	BAD("apply to --kernel group", "--kernel", "stream", "--fanout", "1:1");
	BAD("not --duration", "--fanout", "1:1", "--duration", "1s", "--method",
	    "futex");
	BAD("--size 8 or more", "--fanout", "1:1", "--size", "4", "--method",
	    "futex");
	BAD("drop --gap and --pairs", "--fanout", "1:1", "--pairs", "2",
	    "--method", "futex");
	BAD("--explain and --raw are for pairs", "--fanout", "1:1", "--explain",
	    "--method", "futex");
}
