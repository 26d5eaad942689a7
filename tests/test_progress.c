/* SPDX-License-Identifier: MIT */
/*
 * Description: the plans' and the progress line's rough times
 * (cli/progress.c), on fixed inputs: what a cell is estimated to take
 * grows with what it does (a crew's clients), the whole run's with
 * --repeat-every, and the time left never shrinks below the plan
 * because the first cells were faster than estimated. Nothing here is
 * measured.
 */
#include <criterion/criterion.h>

#include "cli/cli.h"

static struct ik_config cell(enum ik_kernel k, unsigned clients, uint64_t iters)
{
	struct ik_config c = {0};

	c.kernel = k;
	c.clients = clients;
	c.iters = iters;
	c.iters_given = true;
	c.size = 8;
	return c;
}

/* echo --clients 200 --iters 2000: 400,000 requests, not 2,000 */
Test(estimate, a_crews_requests_grow_with_its_clients)
{
	struct ik_config one = cell(IK_KERNEL_ECHO, 1, 2000);
	struct ik_config many = cell(IK_KERNEL_ECHO, 200, 2000);
	double e1 = ik_cli_cell_estimate(&one);
	double e200 = ik_cli_cell_estimate(&many);

	cr_expect_gt(e200, 100 * e1 / 2, "200 clients ~%.3f s, 1 ~%.3f s",
		     e200 / 1e9, e1 / 1e9);
	/* every request at least a microsecond: 0.4 s */
	cr_expect_gt(e200, 200.0 * 2000 * 1e3);
}

/* connect --clients 100: a connection per request costs more than a
 * round trip on an open one */
Test(estimate, a_connect_request_costs_more_than_an_echo)
{
	struct ik_config c = cell(IK_KERNEL_CONNECT, 100, 2000);
	struct ik_config e = cell(IK_KERNEL_ECHO, 100, 2000);

	cr_expect_gt(ik_cli_cell_estimate(&c), ik_cli_cell_estimate(&e));
	cr_expect_gt(ik_cli_cell_estimate(&c), 100.0 * 2000 * 1e3);
}

/* the ping-pong estimate is unchanged: (iters + warmup) x 10 us + 20 ms */
Test(estimate, a_pair_is_its_trips_and_start_up)
{
	struct ik_config p = cell(IK_KERNEL_PINGPONG, 0, 100000);

	p.warmup = 1000;
	cr_expect_float_eq(ik_cli_cell_estimate(&p), 101000 * 1e4 + 20e6, 1);
}

Test(estimate, repeat_every_spreads_the_whole_run)
{
	struct ik_cli_gate g = {.repeat = 3};

	cr_expect_float_eq(ik_cli_plan_total(&g, 2e9), 6e9, 1);
	g.repeat_every_ns = 60ull * 1000000000;
	/* repeat 3 starts at 120 s, then takes its 2 s */
	cr_expect_float_eq(ik_cli_plan_total(&g, 2e9), 122e9, 1);
	g.repeat_every_ns = 1000000000; /* shorter than a repeat: no wait */
	cr_expect_float_eq(ik_cli_plan_total(&g, 2e9), 6e9, 1);
}

/* spsc,pipe,futex,eventfd x 2 modes, 1 s each planned: the two spsc
 * cells took 20 ms. Six cells are still to come, at their own cost. */
Test(progress, fast_first_cells_do_not_shrink_the_time_left)
{
	struct ik_progress pg = {.total = 8,
				 .done = 2,
				 .est_total = 8e9,
				 .est_done = 2e9,
				 .t0 = 1000,
				 .t_done = 1000 + 20000000};

	cr_expect_geq(ik_progress_left_ns(&pg, pg.t_done), 6e9, "%.3f s",
		      ik_progress_left_ns(&pg, pg.t_done) / 1e9);
}

/* cells slower than planned: the rest is scaled up as well */
Test(progress, slow_first_cells_stretch_the_time_left)
{
	struct ik_progress pg = {.total = 4,
				 .done = 2,
				 .est_total = 4e9,
				 .est_done = 2e9,
				 .t0 = 1000,
				 .t_done = 1000 + 4000000000ull};

	cr_expect_float_eq(ik_progress_left_ns(&pg, pg.t_done), 4e9, 1);
	/* and what the running cell has taken comes off */
	cr_expect_float_eq(ik_progress_left_ns(&pg, pg.t_done + 1000000000),
			   3e9, 1);
}
