/* SPDX-License-Identifier: MIT */
/*
 * Inside reports/: what reading a baseline (baseline_read.c) and
 * comparing one (baseline.c) share. Other folders use gate.h.
 */
#ifndef IK_REPORTS_BASELINE_H
#define IK_REPORTS_BASELINE_H

#include <stddef.h>

#include "gate.h"

/* Repeats per cell a baseline keeps, and a comparison has room for. */
#define MAX_REPEATS IK_BASELINE_KEEP

/* One line into err (n bytes) for the user; returns -EINVAL. */
int ik_baseline_bad(char *err, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
