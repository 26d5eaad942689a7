/* SPDX-License-Identifier: MIT */
/*
 * The option table and its parser, in process: every bad value is
 * refused with -EINVAL and one line naming it (the CLI prints that line
 * and exits 2: tests/test_cli.c checks that end to end), the table's
 * defaults parse, --help lists every row, and README.md's option table
 * is the one the table prints.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "helpers.h"

static struct ik_plan plan; /* 8 KB: off the stack */

/* ik_cli_parse over "ipckern" and args (NULL-terminated). */
static int parse(const char *const *args)
{
	const char *argv[64];
	int argc = t_argv(argv, 64, "ipckern", args);

	return ik_cli_parse(&plan, argc, (char **)argv);
}

/* refused: -EINVAL, one line that names the bad value */
static void expect_usage_error(const char *const *args, const char *names)
{
	int ret = parse(args);

	cr_expect_eq(ret, -EINVAL, "%s: returned %d, err: %s", args[0], ret,
		     plan.err);
	t_expect_one_line_naming(args[0], plan.err, false, names);
}

#define BAD(names, ...)                                                        \
	expect_usage_error((const char *const[]){__VA_ARGS__, NULL}, names)
#define OK(...) parse((const char *const[]){__VA_ARGS__, NULL})

Test(options, every_default_parses_into_the_plan)
{
	cr_assert_eq(parse((const char *const[]){NULL}), 0, "%s", plan.err);
	cr_expect_str_eq(plan.sweep.methods[0]->name, "spsc");
	cr_expect_eq(plan.sweep.nmethods, 1);
	cr_expect_eq(plan.sweep.nmodes, 1);
	cr_expect_eq(plan.sweep.modes[0], IK_MODE_THREAD);
	cr_expect_eq(plan.sweep.sizes[0], 8);
	cr_expect_eq(plan.cfg.iters, 20000);
	cr_expect_eq(plan.cfg.warmup, 2000);
	cr_expect_eq(plan.cfg.timeout_ns, 60 * IK_NS_PER_SEC);
	cr_expect_eq(plan.cfg.clients, 1);
	cr_expect_eq(plan.cfg.backlog, 128);
	cr_expect_eq(plan.sweep.npairs, 1);
	cr_expect_eq(plan.sweep.pairs[0], 1);
	cr_expect_eq(plan.sweep.nbuffers, 1);
	cr_expect_eq(plan.sweep.buffers[0], 0);
	cr_expect_eq(plan.mem_node, -1);
	cr_expect(plan.cfg.gap_sleep);
	cr_expect(!plan.cfg.pinned);
	cr_expect_eq(plan.gate.repeat, 1);
	cr_expect_eq(plan.gate.max_regress, 0.10);
	cr_expect(!plan.sweep.size_given && !plan.cfg.iters_given);
}

Test(options, every_rows_default_parses_as_written)
{
	const struct ik_option *o;

	for (o = ik_options; o->name; o++) {
		char name[40],
			*argv[] = {"ipckern", name, (char *)o->def, NULL};

		if (!o->def)
			continue;
		snprintf(name, sizeof(name), "--%s", o->name);
		cr_expect_eq(ik_cli_parse_options(&plan, 3, argv), 0,
			     "%s %s: %s", name, o->def, plan.err);
	}
}

Test(options, every_row_stores_a_width_its_kind_can_write)
{
	const struct ik_option *o;

	for (o = ik_options; o->name; o++) {
		switch (o->kind) {
		case IK_OPT_FLAG:
			cr_expect_eq(o->width, sizeof(bool), "--%s", o->name);
			break;
		case IK_OPT_PERCENT:
			cr_expect_eq(o->width, sizeof(double), "--%s", o->name);
			break;
		case IK_OPT_PATH:
			cr_expect_eq(o->width, sizeof(char *), "--%s", o->name);
			break;
		case IK_OPT_COUNT:
		case IK_OPT_SIZE:
		case IK_OPT_NS:
		case IK_OPT_SECONDS:
		case IK_OPT_CHOICE:
			cr_expect(o->width == 1 || o->width == 4 ||
					  o->width == 8,
				  "--%s: width %zu", o->name, o->width);
			break;
		default:
			break;
		}
		if (o->flags & IK_OPTF_SHOW_VALUE)
			cr_expect_eq(o->width, 8, "--%s", o->name);
		if (o->list_max)
			cr_expect(o->n_off && o->eg, "--%s", o->name);
		cr_expect(o->help || o->help_of, "--%s has no help", o->name);
	}
}

Test(options, values_land_where_the_row_says)
{
	cr_assert_eq(OK("--kernel", "stream", "--size", "1k,64k", "--iters",
			"1e3", "--duration", "500ms", "--timeout", "2",
			"--format", "csv", "--pin", "0,1", "--rate", "1000",
			"--mkdir"),
		     0, "%s", plan.err);
	cr_expect_eq(plan.cfg.kernel, IK_KERNEL_STREAM);
	cr_expect_eq(plan.sweep.nsizes, 2);
	cr_expect_eq(plan.sweep.sizes[1], 65536);
	cr_expect_eq(plan.cfg.iters, 1000);
	cr_expect(plan.cfg.iters_given && plan.sweep.size_given);
	cr_expect_eq(plan.cfg.duration_ns, 500000000);
	cr_expect_eq(plan.format, IK_FMT_CSV);
	cr_expect_eq(plan.cfg.rate, 1000);
	cr_expect(plan.mkdirs);
	cr_expect(plan.cfg.pinned);
	cr_expect_eq(plan.cfg.ncpu, 2);
	cr_expect_eq(plan.cfg.cpu[0], 0);
	cr_expect_eq(plan.cfg.cpu[1], 1);
}

Test(options, pin_is_held_once_and_each_kernel_reads_its_part)
{
	cr_assert_eq(
		OK("--kernel", "echo", "--method", "uds", "--pin", "1,0,1"), 0,
		"%s", plan.err);
	cr_expect_eq(plan.npins, 3);
	cr_expect_eq(plan.cfg.ncpu, 3);
	cr_expect_eq(plan.cfg.cpu[2], 1);
	cr_expect_eq(ik_config_cpu(&plan.cfg, 0), 1);
	cr_expect_eq(ik_config_cpu(&plan.cfg, 1), 0);
	cr_assert_eq(OK("--pairs", "2", "--pin", "0,1,1,0"), 0, "%s", plan.err);
	cr_expect_eq(plan.npins, 4);
	/* a pair kernel's template cell: the first pair's two CPUs */
	cr_expect_eq(plan.cfg.ncpu, 2);
	cr_expect_eq(plan.cfg.cpu[1], 1);
	cr_assert_eq(OK("--pin", "auto"), 0, "%s", plan.err);
	cr_expect(plan.pin_auto && plan.cfg.pinned && !plan.npins);
}

Test(options, an_action_stops_parsing_where_it_stands)
{
	cr_expect_eq(OK("--help", "--bogus"), 1);
	cr_expect_eq(plan.action, IK_CLI_HELP);
	cr_expect_eq(OK("--list"), 1);
	cr_expect_eq(plan.action, IK_CLI_LIST);
	cr_expect_eq(OK("--version"), 1);
	cr_expect_eq(plan.action, IK_CLI_VERSION);
	BAD("--bogus", "--bogus", "--help");
}

Test(options, a_list_takes_as_many_values_as_its_row_allows)
{
	char list[256] = "1";

	for (int i = 2; i <= IK_MAX_SWEEP; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 ",%d", i);
	cr_expect_eq(OK("--size", list), 0, "%s", plan.err);
	cr_expect_eq(plan.sweep.nsizes, IK_MAX_SWEEP);
	strcat(list, ",99");
	BAD("at most 32 values", "--size", list);
}

Test(options, kernel_only_options_are_refused_elsewhere_at_their_default_not)
{
	/* at its default an option says nothing: no refusal */
	cr_expect_eq(OK("--gap", "0", "--clients", "1", "--server", "thread"),
		     0, "%s", plan.err);
	BAD("--gap: applies to --kernel pingpong", "--kernel", "call", "--gap",
	    "0,10us");
	BAD("--matrix: applies to --kernel pingpong and stream", "--kernel",
	    "call", "--matrix");
	BAD("--rate 1000: applies to --kernel stream", "--rate", "1e3");
}

Test(options, help_lists_every_option_of_the_table)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const struct ik_option *o;
	char name[40];

	cr_assert_not_null(f);
	ik_cli_usage(f);
	fclose(f);
	for (o = ik_options; o->name; o++) {
		snprintf(name, sizeof(name), "--%s", o->name);
		cr_expect(strstr(text, name) != NULL, "--help lacks %s", name);
	}
	free(text);
}

Test(options, the_parser_can_run_again)
{
	cr_expect_eq(OK("--method", "pipe"), 0, "%s", plan.err);
	cr_expect_str_eq(plan.sweep.methods[0]->name, "pipe");
	cr_expect_eq(OK("--iters", "5"), 0, "%s", plan.err);
	cr_expect_str_eq(plan.sweep.methods[0]->name, "spsc");
	cr_expect_eq(plan.cfg.iters, 5);
}

/* ---- refusals, one line each (moved from tests/test_cli.c) ---- */

Test(options, unknown_method_is_named_with_the_allowed_ones)
{
	BAD("nope", "--method", "nope");
	BAD("allowed: line, spsc", "--method", "nope");
	BAD("x", "--method", "spsc,x");
}

Test(options, malformed_pins_are_refused)
{
	BAD("'0,'", "--pin", "0,");
	BAD("'a,b'", "--pin", "a,b");
	BAD("'-1,2'", "--pin", "-1,2");
	BAD("'0,1,2'", "--pin", "0,1,2");
	BAD("','", "--pin", ",");
	BAD("'1'", "--pin", "1");
}

Test(options, bad_counts_are_refused)
{
	BAD("'0'", "--iters", "0");
	BAD("'-5'", "--iters", "-5");
	BAD("'99999999999999999999999'", "--iters", "99999999999999999999999");
	BAD("'12x'", "--iters", "12x");
	BAD("'-1'", "--warmup", "-1");
	BAD("'0'", "--duration", "0");
	BAD("'-1'", "--timeout", "-1");
	BAD("'nan'", "--timeout", "nan");
}

Test(options, bad_sizes_are_refused)
{
	BAD("'0'", "--size", "0");
	BAD("'65m'", "--size", "65m");
	BAD("'1x'", "--size", "1x");
	BAD("'-8'", "--size", "-8");
	BAD("mq carries at most", "--method", "mq", "--size", "1m");
	BAD("uds-dgram carries at most", "--method", "uds-dgram", "--size",
	    "65537");
}

Test(options, unknown_choices_are_refused)
{
	BAD("'sleepy'", "--wait", "sleepy");
	BAD("'fiber'", "--mode", "fiber");
	BAD("'xml'", "--format", "xml");
	BAD("'stream2'", "--kernel", "stream2");
	BAD("--bogus", "--bogus");
	BAD("--raw", "--method", "pipe,uds", "--raw", "/tmp/x");
}

Test(options, stream_refuses_what_cannot_stream)
{
	BAD("--size 8: needs at least 24", "--kernel", "stream", "--verify",
	    "--size", "8");
	BAD("--verify: applies to --kernel stream", "--verify");
	BAD("'0'", "--kernel", "stream", "--rate", "0");
	BAD("'99999999999'", "--kernel", "stream", "--rate", "99999999999");
	BAD("--rate 1000: applies to --kernel stream", "--rate", "1000");
	BAD("needs at least 16 bytes", "--kernel", "stream", "--rate", "1000",
	    "--size", "8");
}

Test(options, bad_lists_and_buffers_are_refused)
{
	BAD("'1,,2'", "--size", "1,,2");
	BAD("'4k,'", "--size", "4k,");
	BAD("'0'", "--buffer", "0");
	BAD("'x'", "--buffer", "x");
	BAD("mq carries at most 100 bytes per message with --buffer 100",
	    "--method", "mq", "--size", "200", "--buffer", "100");
	BAD("uds-dgram carries at most 1024", "--method", "uds-dgram", "--size",
	    "2000", "--buffer", "1k");
}

Test(options, bad_gaps_are_refused)
{
	BAD("'1x'", "--gap", "1x");
	BAD("'11000ms'", "--gap", "11000ms");
	BAD("'5,'", "--gap", "5,");
	BAD("'nap'", "--gap-mode", "nap");
	BAD("--gap: applies to --kernel pingpong", "--kernel", "stream",
	    "--gap", "10us");
}

Test(options, bad_pairs_are_refused)
{
	BAD("'0'", "--pairs", "0");
	BAD("'65'", "--pairs", "65");
	BAD("--pairs 2 needs 4 CPU numbers", "--pairs", "2", "--pin", "0,1");
	BAD("--pin auto: picks one pair", "--pairs", "1,2", "--pin", "auto");
}

Test(options, bad_assertions_and_gate_options_are_refused)
{
	BAD("unknown unit 'xs'", "--assert", "spsc.p99<2xs");
	BAD("unknown metric 'p98'", "--assert", "spsc.p98<2us");
	BAD("unknown method 'nosuch'", "--assert", "nosuch.p50<2us");
	BAD("pipe is not measured", "--method", "spsc", "--assert",
	    "pipe.p50<2us");
	BAD("not in --mode", "--assert", "spsc:process.p50<2us");
	BAD("size 64 is not in --size", "--assert", "spsc:64.p50<2us");
	BAD("--max-regress '0'", "--max-regress", "0");
	BAD("--max-regress 'ten'", "--max-regress", "ten");
	BAD("--repeat", "--repeat", "0");
	BAD("needs at least 3", "--baseline", "/dev/null", "--repeat", "2");
	BAD("--allow-mismatch: applies to --baseline", "--allow-mismatch");
	BAD("--summary-md", "--summary-md", "/tmp/x.md");
	BAD("--raw", "--raw", "/tmp/x.raw", "--repeat", "3");
}

Test(options, normalize_needs_a_baseline_and_its_method_in_the_run)
{
	BAD("--normalize: applies to --baseline", "--method", "line,spsc",
	    "--normalize", "line");
	BAD("--normalize line: needs line and another method", "--method",
	    "spsc", "--baseline", "/dev/null", "--normalize", "line");
	BAD("--repeat-every: applies to --repeat 2", "--repeat-every", "1");
}

Test(options, bad_call_options_are_refused)
{
	BAD("--work: applies to --kernel call", "--work", "1us");
	BAD("--size: --kernel call sends a 16-byte call", "--kernel", "call",
	    "--size", "64");
	BAD("--work '1h'", "--kernel", "call", "--work", "1h");
}

Test(options, bad_echo_and_connect_options_are_refused)
{
	BAD("method pipe has no connections", "--kernel", "connect", "--method",
	    "pipe");
	BAD("method spsc has no connections", "--kernel", "echo");
	BAD("--clients '0'", "--kernel", "echo", "--method", "tcp", "--clients",
	    "0");
	BAD("--server 'fibers': unknown server model", "--kernel", "echo",
	    "--method", "tcp", "--server", "fibers");
	BAD("--server: applies to --kernel echo", "--kernel", "connect",
	    "--method", "tcp", "--server", "epoll");
	BAD("--clients and --backlog: apply to --kernel echo", "--clients",
	    "5");
	BAD("--kernel echo: runs one server", "--kernel", "echo", "--method",
	    "uds", "--pairs", "2");
}

Test(options, times_too_short_to_honour_are_refused_naming_the_minimum)
{
	BAD("--timeout '1e-10': expected seconds from 0.001", "--timeout",
	    "1e-10");
	BAD("--timeout '500us': expected seconds from 0.001", "--timeout",
	    "500us");
	BAD("--duration '1e-12': expected seconds from 0.001", "--duration",
	    "1e-12");
	BAD("--repeat-every '1ns'", "--repeat", "2", "--repeat-every", "1ns");
}

Test(options, every_numeric_option_refuses_hex_inf_nan_and_signs)
{
	static const char *const opts[] = {
		"--iters",	  "--warmup",	   "--duration", "--timeout",
		"--size",	  "--buffer",	   "--gap",	 "--work",
		"--rate",	  "--clients",	   "--backlog",	 "--repeat",
		"--repeat-every", "--max-regress", "--pairs",	 "--mem-node"};
	static const char *const vals[] = {"0x10", "0x1p3", "inf",
					   "nan",  "+5",    "-5"};
	char names[64];

	for (unsigned i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		for (unsigned j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
			snprintf(names, sizeof(names), "%s '%s'", opts[i],
				 vals[j]);
			expect_usage_error(
				(const char *const[]){opts[i], vals[j], NULL},
				names);
			expect_usage_error(
				(const char *const[]){opts[i], vals[j], NULL},
				"numbers are decimal, like 12, 0.5 or 2e-3");
		}
	BAD("not a number from 0 to 1e18 (decimal", "--assert",
	    "spsc.p99<0x10us");
}

Test(options, a_cpu_listed_twice_is_refused_where_pairs_need_two)
{
	BAD("--cpus '0,0': CPU 0 is listed twice", "--matrix", "--method",
	    "line", "--cpus", "0,0");
	BAD("CPU 2 is listed twice", "--matrix", "--method", "line", "--cpus",
	    "0-3,2");
	/* --pin 0,0 stays: one CPU for both peers is the scheduler path
	 * (both_peers_on_one_cpu_still_complete) */
}

Test(options, tcp_connect_refuses_more_clients_than_the_listen_queue_holds)
{
	BAD("--clients 200: over tcp, more connects than the listen queue "
	    "holds (--backlog 128)",
	    "--kernel", "connect", "--method", "tcp", "--clients", "200");
	BAD("use --backlog 300, or at most 200 clients", "--kernel", "connect",
	    "--method", "uds,tcp", "--clients", "300", "--backlog", "200");
	/* the kernel's own check (connect's validate) still comes before
	 * the crew's --pairs refusal, as it did in cli/check.c */
	BAD("(--backlog 128)", "--kernel", "connect", "--method", "tcp",
	    "--clients", "200", "--pairs", "2");
}

Test(options, clients_is_a_list_the_grid_sweeps)
{
	cr_assert_eq(OK("--kernel", "echo", "--method", "uds", "--clients",
			"1,2,5,1000", "--server", "thread,epoll"),
		     0, "%s", plan.err);
	cr_expect_eq(plan.sweep.nclients, 4);
	cr_expect_eq(plan.sweep.clients[3], 1000);
	cr_expect_eq(plan.cfg.clients, 1, "the first cell's count");
	BAD("--clients '1,,2': expected values separated by commas, e.g. "
	    "1,10,100",
	    "--kernel", "echo", "--method", "uds", "--clients", "1,,2");
	BAD("--clients '0': expected a whole number from 1", "--kernel", "echo",
	    "--method", "uds", "--clients", "5,0");
}

Test(options, limits_are_checked_for_the_largest_clients_of_the_list)
{
	BAD("--clients 300: over tcp, more connects than the listen queue "
	    "holds (--backlog 128)",
	    "--kernel", "connect", "--method", "tcp", "--clients", "1,300,2");
	/* epoll's cell: 1000 x (2 x 64 MiB out and in, 64 MiB + 64 KiB out
	 * buffer) + 128 MiB of samples */
	BAD("--clients 1000 with --size 67108864: the echo kernel needs about "
	    "192190 MiB",
	    "--kernel", "echo", "--method", "uds", "--clients", "1,1000",
	    "--size", "1k,64m", "--server", "io_uring,epoll");
}

/* echo: what it allocates follows the code: each client's message out
 * and in, the server model's buffers, the samples kept */
Test(options, echo_memory_need_counts_clients_server_and_samples)
{
	struct ik_config c = {.clients = 200,
			      .size = 8760000,
			      .iters = 10,
			      .iters_given = true,
			      .server = IK_SERVER_EPOLL};
	uint64_t clients = 200ull * 2 * 8760000, samples = 200ull * 10 * 8;

	cr_expect_eq(ik_echo_mem_need(&c),
		     clients + samples + 65536 + 200ull * (8760000 + 65536));
	c.server = IK_SERVER_THREAD;
	c.buffer = 4096;
	cr_expect_eq(ik_echo_mem_need(&c), clients + samples + 200ull * 4096);
}

/* The refusals tests/test_cli.c runs beside an end-to-end case: the
 * class, matrix, NUMA, baseline and number checks that need no file. */
Test(options, class_matrix_node_and_number_refusals_need_no_machine)
{
	BAD("only goes with --classes --dry-run", "--topology", "x.xml");
	BAD("only goes with --classes --dry-run", "--dry-run", "--topology",
	    "x.xml");
	BAD("--quiet and --verbose: pick one", "-q", "--verbose");
	BAD("drop --pin", "--classes", "--pin", "0,1");
	BAD("pick one --method", "--matrix", "--method", "pipe,line");
	BAD("'0-'", "--matrix", "--cpus", "0-");
	BAD("--cpus: applies to --matrix", "--cpus", "0-1");
	BAD("drop --pin", "--matrix", "--pin", "0,1");
	BAD("'x'", "--mem-node", "x");
	BAD("--append: applies to --save-baseline", "--append");
	BAD("--size '0.1k'", "--size", "0.1k"); /* 102.4 bytes */
	BAD("--iters '1.5'", "--iters", "1.5");
	BAD("--gap '0.5'", "--gap", "0.5"); /* half a ns */
}

/* ---- README.md ---- */

static int print_options(FILE *f)
{
	ik_cli_options_markdown(f);
	return 0;
}

Test(options, the_readme_option_table_is_the_one_the_table_prints)
{
	t_expect_readme_table(IK_README, "options", print_options,
			      "ik-options-md");
}

/* ---- help, suggestions and exact names (issue 18 item 9) ---- */

Test(options, h_is_help)
{
	cr_expect_eq(OK("-h"), 1);
	cr_expect_eq(plan.action, IK_CLI_HELP);
}

Test(options, a_misspelt_option_or_value_names_the_nearest_one)
{
	BAD("did you mean --method?", "--methdo", "spsc");
	BAD("did you mean --method?", "--methdo=spsc");
	BAD("did you mean spsc?", "--method", "spcs");
	BAD("did you mean futex?", "--method", "spsc,futx");
	BAD("did you mean both?", "--mode", "bth");
	BAD("did you mean epoll?", "--kernel", "echo", "--server", "epol");
	BAD("did you mean echo?", "--kernel", "eco");
	BAD("did you mean futex?", "--wait", "futx");
}

Test(options, a_value_far_from_every_name_gets_no_guess)
{
	BAD("unknown method", "--method", "zzzz");
	cr_expect(strstr(plan.err, "did you mean") == NULL, "%s", plan.err);
	BAD("unknown option", "--zzzzzz");
	cr_expect(strstr(plan.err, "did you mean") == NULL, "%s", plan.err);
}

/* the test-only method (line-delay) still parses, but is not offered */
Test(options, the_allowed_methods_leave_out_the_test_only_ones)
{
	BAD("unknown method", "--method", "zzzz");
	cr_expect(strstr(plan.err, "seccomp-notify, all") != NULL, "%s",
		  plan.err);
	cr_expect(strstr(plan.err, "line-delay") == NULL, "%s", plan.err);
	BAD("unknown method", "--method", "line-dlay");
	cr_expect(strstr(plan.err, "line-delay") == NULL, "%s", plan.err);
	cr_expect_eq(OK("--method", "line-delay"), 0, "%s", plan.err);
}

Test(options, nearest_ranks_by_edit_distance_with_swaps_as_one)
{
	const char *const names[] = {"spsc", "pipe", "futex", NULL};

	cr_expect_str_eq(ik_cli_nearest("spcs", names), "spsc");
	cr_expect_str_eq(ik_cli_nearest("pip", names), "pipe");
	cr_expect_str_eq(ik_cli_nearest("futexx", names), "futex");
	cr_expect_null(ik_cli_nearest("spsc", names)); /* exact: no slip */
	cr_expect_null(ik_cli_nearest("foo", names));
}

Test(options, abbreviations_are_refused_naming_the_whole_option)
{
	BAD("did you mean --iters?", "--iter", "10");
	BAD("abbreviations are not accepted", "--iter=10");
	BAD("did you mean --mkdir?", "--mkd");
	cr_expect_eq(OK("--iters", "10"), 0, "%s", plan.err);
	cr_expect_eq(OK("--iters=10"), 0, "%s", plan.err);
}

Test(options, a_missing_value_is_named)
{
	BAD("--method: needs a value", "--method");
}

/* Two equal values of a list are two cells with one key: no baseline,
 * gbench name or CSV row could tell them apart, so they are refused,
 * whatever spelling made them equal. */
Test(options, a_value_listed_twice_is_refused)
{
	BAD("'8' is the value of item 1 again", "--size", "8,8");
	BAD("'1024' is the value of item 1 again", "--size", "1k,1024");
	BAD("'4k' is the value of item 1 again", "--buffer", "4k,4k");
	BAD("'1' is the value of item 1 again", "--pairs", "1,1");
	BAD("'0' is the value of item 1 again", "--gap", "0,0");
	BAD("'10us' is the value of item 2 again", "--kernel", "call", "--work",
	    "0,10000,10us");
	BAD("'1' is the value of item 1 again", "--kernel", "echo", "--clients",
	    "1,1");
	BAD("'epoll' is the value of item 1 again", "--kernel", "echo",
	    "--server", "epoll,epoll");
	cr_expect_eq(OK("--size", "8,16"), 0, "%s", plan.err);
}

/* --raw with the repeats --baseline and --save-baseline add: the error
 * names them, not a --repeat nobody gave. */
Test(options, raw_with_a_gates_own_repeats_names_them)
{
	BAD("--save-baseline runs each cell 5 times", "--save-baseline",
	    "b.json", "--raw", "r.txt");
	cr_expect(!strstr(plan.err, "--repeat"), "%s", plan.err);
	BAD("--baseline runs each cell 5 times", "--baseline", "b.json",
	    "--raw", "r.txt");
	BAD("drop --repeat", "--repeat", "3", "--raw", "r.txt");
}
