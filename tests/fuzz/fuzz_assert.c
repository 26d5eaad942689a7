/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: --assert expressions. Any bytes must parse to an
 * assertion or to a one-line error, never crash, hang or leak; a parsed
 * one is then evaluated against two synthetic result cells.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "reports/gate.h"

static struct ik_result cells[2];

static void cell(struct ik_result *r, const char *method, double p50)
{
	r->ops = ik_transport_find(method);
	r->mode = IK_MODE_THREAD;
	r->size = 8;
	r->cls = -1;
	r->repeats = 3;
	r->rep_v = calloc(3 * IK_NMETRICS, sizeof(double));
	for (unsigned i = 0; i < 3 * IK_NMETRICS; i++)
		r->rep_v[i] = i % 7 == 0 ? NAN : p50 * (1 + i % 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ik_assertion a;
	struct ik_gate_log g = {0};
	char err[200], *s;

	if (!cells[0].ops) {
		cell(&cells[0], "spsc", 100);
		cell(&cells[1], "pipe", 9000);
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (!ik_assert_parse(s, &a, err, sizeof(err)))
		ik_assert_eval(&a, cells, 2, &g, err, sizeof(err));
	ik_gate_log_free(&g);
	free(s);
	return 0;
}
