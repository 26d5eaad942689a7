/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: --baseline files. Any bytes must be read as a
 * baseline or refused with a reason; a baseline that is read is then
 * checked and compared against a synthetic run, as the CLI does.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "reports/gate.h"
#include "reports/reports.h"

static struct ik_config cfg;
static struct ik_sweep sweep;
static struct ik_machine machine;
static struct ik_result cell;
static struct ik_report rep;

static void init(void)
{
	sweep.methods[0] = ik_transport_find("spsc");
	sweep.nmethods = sweep.nmodes = sweep.nsizes = sweep.nbuffers = 1;
	sweep.ngaps = sweep.npairs = sweep.pairs[0] = 1;
	sweep.sizes[0] = 8;
	strcpy(machine.model, "AMD EPYC");
	cell.ops = sweep.methods[0];
	cell.size = 8;
	cell.cls = -1;
	cell.repeats = 5;
	cell.rep_v = calloc(5 * IK_NMETRICS, sizeof(double));
	for (unsigned i = 0; i < 5 * IK_NMETRICS; i++)
		cell.rep_v[i] = 100 + i;
	rep.cfg = &cfg;
	rep.sweep = &sweep;
	rep.machine = &machine;
	rep.results = &cell;
	rep.nresults = 1;
	rep.mem_node = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ik_baseline b;
	struct ik_gate_log g = {0};
	char err[300], why[1024];

	if (!rep.cfg)
		init();
	if (ik_baseline_parse((const char *)data, size, &b, err, sizeof(err)))
		return 0;
	ik_baseline_mismatch(&b, &rep, why, sizeof(why));
	ik_baseline_compare(&b, &rep, 0.1, "spsc", &g, err, sizeof(err));
	ik_gate_log_free(&g);
	ik_baseline_free(&b);
	return 0;
}
