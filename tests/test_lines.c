/* SPDX-License-Identifier: MIT */
/*
 * Line provenance and preheat (issue 19): every --line-op carries every
 * byte both ways, over one line and many, at either stride, in threads
 * and processes; the first-touch thread runs on the CPU asked for; the
 * pages' node is read back; --lines gives one p50 per line; the line key
 * tells cells apart; --preheat says why a clock is not exposed, and
 * reads one where a (fixture) cpufreq exposes it.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "reports/cell.h"

#define TRIPS 200

struct lrun {
	enum ik_mode mode;
	size_t size;
	struct ik_lines lines;
};

/* A sends a pattern per message and byte, B checks and echoes it
 * transformed, A checks that: every byte of every message, both ways. */
static int echo_body(struct ik_peers *g, enum ik_side side)
{
	struct lrun *t = g->arg;
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

static int run_line(struct lrun *t, char *granted, size_t len)
{
	struct ik_chan_params p = {.size = t->size,
				   .mode = t->mode,
				   .unpinned = true,
				   .lines = t->lines};
	struct ik_channel ch;
	struct ik_peers g = {.ch = &ch,
			     .mode = t->mode,
			     .timeout_ns = 60 * IK_NS_PER_SEC,
			     .body = echo_body,
			     .arg = t};
	int ret = ik_channel_init(&ch, ik_transport_find("line"), &p);

	cr_assert_eq(ret, 0, "line setup: %s", strerror(-ret));
	snprintf(granted, len, "%s", ch.granted);
	ret = ik_peers_run(&g);
	cr_assert(!g.stuck);
	ik_channel_destroy(&ch);
	return ret;
}

struct op_case {
	enum ik_line_op op;
	enum ik_mode mode;
};

ParameterizedTestParameters(lines, every_op_carries_every_byte)
{
	static struct op_case c[2 * IK_NLINE_OPS];
	unsigned k;

	for (k = 0; k < IK_ARRAY_SIZE(c); k++)
		c[k] = (struct op_case){(enum ik_line_op)(k / 2),
					k % 2 ? IK_MODE_PROCESS
					      : IK_MODE_THREAD};
	return cr_make_param_array(struct op_case, c, IK_ARRAY_SIZE(c));
}

ParameterizedTest(struct op_case *c, lines, every_op_carries_every_byte,
		  .timeout = 120)
{
	static const size_t sizes[] = {1, 8, 56, 57, 64, 200};
	static const unsigned counts[] = {1, 3}, strides[] = {0, 128};
	char granted[96];

	for (unsigned s = 0; s < IK_ARRAY_SIZE(sizes); s++)
		for (unsigned n = 0; n < IK_ARRAY_SIZE(counts); n++)
			for (unsigned d = 0; d < IK_ARRAY_SIZE(strides); d++) {
				struct lrun t = {
					.mode = c->mode,
					.size = sizes[s],
					.lines = {.op = c->op,
						  .n = counts[n],
						  .stride = strides[d]}};
				int ret =
					run_line(&t, granted, sizeof(granted));

				cr_assert_eq(ret, 0,
					     "%s %s size %zu, %u lines, stride "
					     "%u: %s",
					     ik_line_op_names[c->op],
					     ik_mode_name(c->mode), sizes[s],
					     counts[n], strides[d],
					     strerror(-ret));
			}
	/* what setup made is what was asked */
	struct lrun t = {.mode = c->mode,
			 .size = 8,
			 .lines = {.op = c->op, .n = 3, .stride = 128}};
	cr_assert_eq(run_line(&t, granted, sizeof(granted)), 0);
	if (c->op != IK_LINE_STORE || t.lines.n > 1)
		cr_expect(strstr(granted, ik_line_op_names[c->op]) &&
				  strstr(granted, "3 line(s)") &&
				  strstr(granted, "128 B apart"),
			  "granted: %s", granted);
}

Test(lines, a_stream_is_refused_the_ping_pong_variants)
{
	struct ik_chan_params p = {.size = 8,
				   .mode = IK_MODE_THREAD,
				   .stream = true,
				   .lines = {.op = IK_LINE_CAS}};
	struct ik_channel ch;

	cr_expect_eq(ik_channel_init(&ch, ik_transport_find("line"), &p),
		     -EINVAL);
}

/* The CPUs this process may run on, up to max; their count. */
static unsigned allowed(int *cpu, unsigned max)
{
	cpu_set_t set;
	unsigned n = 0;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
	return n;
}

Test(lines, the_first_touch_runs_on_the_cpu_asked_for)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int cpu[8], seen;
	unsigned n = allowed(cpu, 8), k;

	for (k = 0; k < n; k++) {
		char *p = ik_shm_alloc(2 * page);

		cr_assert_not_null(p);
		cr_expect_eq(ik_touch_from(cpu[k], p, 2 * page, &seen), 0);
		cr_expect_eq(seen, cpu[k], "asked CPU %d, ran on %d", cpu[k],
			     seen);
		ik_shm_free(p, 2 * page);
	}
}

Test(lines, a_channel_touched_from_a_cpu_says_where_it_ran)
{
	int cpu[8];
	unsigned n = allowed(cpu, 8);
	struct ik_chan_params p = {
		.size = 8,
		.mode = IK_MODE_THREAD,
		.lines = {.touch = true, .touch_cpu = cpu[n - 1]}};
	struct ik_channel ch;
	unsigned pages;
	int node;

	cr_assert_eq(ik_channel_init(&ch, ik_transport_find("spsc"), &p), 0);
	cr_expect_eq(ch.touched_on, cpu[n - 1]);
	node = ik_shm_nodes_of(ch.lines, ch.lines_len, &pages);
	if (node == -ENOSYS)
		cr_skip_test("no move_pages here");
	cr_expect_geq(node, 0, "node %d", node);
	cr_expect_geq(pages, 1);
	ik_channel_destroy(&ch);
}

Test(lines, a_cpu_nobody_may_run_on_is_refused)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *p = ik_shm_alloc(page);
	int seen = -1;

	cr_assert_not_null(p);
	cr_expect_lt(ik_touch_from(CPU_SETSIZE - 1, p, page, &seen), 0);
	cr_expect_lt(ik_touch_from(-1, p, page, &seen), 0);
	ik_shm_free(p, page);
}

static struct ik_topo tp;
static struct ik_timer tm;

Test(lines, n_lines_give_one_p50_each, .timeout = 60)
{
	struct ik_config cfg = {.kernel = IK_KERNEL_PINGPONG,
				.size = 8,
				.iters = 4000,
				.warmup = 101, /* not a multiple of the lines */
				.timeout_ns = 30 * IK_NS_PER_SEC,
				.lines = {.n = 5, .op = IK_LINE_XADD}};
	struct ik_result res;
	struct ik_run run;

	cr_assert_eq(ik_topo_load(&tp, NULL), 0);
	ik_timer_init(&tm);
	run = t_run_ctx(&tp, &tm);
	cr_assert_eq(ik_pingpong(&cfg, ik_transport_find("line"),
				 IK_MODE_THREAD, &run, &res),
		     0, "%s", res.errmsg);
	cr_expect_eq(res.line.nlines, 5);
	for (unsigned k = 0; k < res.line.nlines; k++)
		cr_expect_gt(res.line.p50[k], 0, "line %u", k);
	cr_expect_eq(res.line.lines.op, IK_LINE_XADD);
	ik_result_free(&res);
	ik_topo_free(&tp);
}

Test(lines, the_stride_is_in_the_cell_key)
{
	struct ik_lines a = {.stride = 128}, b = {.stride = 64}, c = {0};
	char ka[96], kb[96], kc[96];

	ik_cell_line_key(IK_TOUCH_NONE, -1, false, -1, &a, ka, sizeof(ka));
	ik_cell_line_key(IK_TOUCH_NONE, -1, false, -1, &b, kb, sizeof(kb));
	ik_cell_line_key(IK_TOUCH_NONE, -1, false, -1, &c, kc, sizeof(kc));
	cr_expect_str_eq(ka, "stride:128");
	cr_expect_str_eq(kb, "", "64 is the default: no key");
	cr_expect_str_eq(kc, "");
	c = (struct ik_lines){.op = IK_LINE_CAS, .n = 4, .fresh = true};
	ik_cell_line_key(IK_TOUCH_A, 0, true, 1, &c, kc, sizeof(kc));
	cr_expect_str_eq(kc, "touch:a/home:1/fresh/op:cas/lines:4");
}

Test(lines, results_differing_in_stride_are_different_cells)
{
	struct ik_result r1 = {.ops = ik_transport_find("line"), .cls = -1};
	struct ik_result r2;
	struct ik_cell_key k1, k2;

	r1.line.lines.stride = 128;
	r2 = r1;
	r2.line.lines.stride = 64;
	ik_cell_key_of(&r1, &k1);
	ik_cell_key_of(&r2, &k2);
	cr_expect_not(ik_cell_key_eq(&k1, &k2, 0));
	cr_expect(ik_cell_key_eq(&k1, &k2, IK_CF_LINE));
}

Test(lines, preheat_without_cpufreq_or_msr_says_not_exposed, .timeout = 10)
{
	char root[] = "/tmp/ik-preheat-XXXXXX";
	int cpu[2] = {0, 0};
	struct ik_preheat ph;

	cr_assert_not_null(mkdtemp(root));
	allowed(cpu, 1);
	cpu[1] = cpu[0];
	cr_assert_eq(ik_preheat(root, cpu, 30, &ph), 0);
	cr_expect_eq(ph.ms, 30);
	cr_expect_str_empty(ph.source);
	cr_expect(!strncmp(ph.why, "not exposed: ", 13), "%s", ph.why);
	cr_expect(strstr(ph.why, "scaling_cur_freq") && strstr(ph.why, "msr"),
		  "%s", ph.why);
	cr_expect_eq(ph.khz_before[0], 0);
	rmdir(root);
}

Test(lines, preheat_reads_scaling_cur_freq_where_exposed, .timeout = 10)
{
	char root[] = "/tmp/ik-preheat-XXXXXX", path[256];
	int cpu[2] = {0, 0};
	struct ik_preheat ph;
	FILE *f;

	cr_assert_not_null(mkdtemp(root));
	allowed(cpu, 1);
	cpu[1] = cpu[0];
	snprintf(path, sizeof(path),
		 "mkdir -p %s/sys/devices/system/cpu/cpu%d/cpufreq", root,
		 cpu[0]);
	cr_assert_eq(system(path), 0);
	snprintf(path, sizeof(path),
		 "%s/sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq",
		 root, cpu[0]);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "3400000\n");
	fclose(f);
	cr_assert_eq(ik_preheat(root, cpu, 30, &ph), 0);
	cr_expect_str_eq(ph.source, "scaling_cur_freq");
	cr_expect_eq(ph.khz_before[0], 3400000);
	cr_expect_eq(ph.khz_after[1], 3400000);
	cr_expect_str_empty(ph.why);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	cr_expect_eq(system(path), 0);
}

Test(lines, preheat_on_a_cpu_nobody_may_run_on_fails)
{
	int cpu[2] = {CPU_SETSIZE - 1, CPU_SETSIZE - 1};
	struct ik_preheat ph;

	cr_expect_lt(ik_preheat("", cpu, 20, &ph), 0);
}
