/* SPDX-License-Identifier: MIT */
/*
 * Timer choice and calibration. The TSC rate is measured against
 * CLOCK_MONOTONIC_RAW over two 20 ms windows; if they disagree by more
 * than 0.1% the TSC is not trusted and we fall back to clock_gettime.
 */
#include <stdio.h>

#include "cpuinfo.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static bool tsc_invariant(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007)
		return false;
	__get_cpuid(0x80000007, &a, &b, &c, &d);
	return d & (1u << 8);
}
#else
static bool tsc_invariant(void)
{
	return false;
}
#endif

const char *ik_clock_name(enum ik_clock c)
{
	return c == IK_CLOCK_TSC ? "tsc" : "clock_gettime(CLOCK_MONOTONIC_RAW)";
}

/* TSC ticks per ns over a window of ns nanoseconds. */
static double tsc_rate(uint64_t ns)
{
	uint64_t t0 = ik_clock_ns(), c0 = ik_tsc(), t1, c1;

	do
		t1 = ik_clock_ns();
	while (t1 - t0 < ns);
	c1 = ik_tsc();
	t1 = ik_clock_ns();
	return (double)(c1 - c0) / (double)(t1 - t0);
}

/* ns per read, over many back-to-back reads. */
static double read_cost(enum ik_clock kind)
{
	enum { N = 200000 };
	volatile uint64_t sink = 0;
	uint64_t t0 = ik_clock_ns(), t1;
	int i;

	for (i = 0; i < N; i++)
		sink += kind == IK_CLOCK_TSC ? ik_tsc() : ik_clock_ns();
	t1 = ik_clock_ns();
	(void)sink;
	return (double)(t1 - t0) / N;
}

/* The smallest step the clock takes: some TSCs advance in bursts. */
static double resolution(const struct ik_timer *t)
{
	uint64_t best = UINT64_MAX, a, b;
	int i;

	for (i = 0; i < 100000; i++) {
		a = t->kind == IK_CLOCK_TSC ? ik_tsc() : ik_clock_ns();
		do
			b = t->kind == IK_CLOCK_TSC ? ik_tsc() : ik_clock_ns();
		while (b == a);
		if (b - a < best)
			best = b - a;
	}
	return (double)best * t->ns_per_tick;
}

int ik_timer_init(struct ik_timer *t)
{
	double r1, r2;

	t->tsc_invariant = tsc_invariant();
	t->kind = IK_CLOCK_MONO_RAW;
	t->ns_per_tick = 1.0;
	t->tsc_mhz = 0;
	if (!t->tsc_invariant) {
		snprintf(t->why, sizeof(t->why),
			 "TSC not invariant (CPUID 0x80000007 EDX[8] clear)");
	} else {
		r1 = tsc_rate(20000000);
		r2 = tsc_rate(20000000);
		if (r1 <= 0 || (r1 > r2 ? r1 - r2 : r2 - r1) / r1 > 1e-3) {
			snprintf(t->why, sizeof(t->why),
				 "TSC invariant but its rate wandered "
				 "(%.1f vs %.1f MHz)",
				 r1 * 1e3, r2 * 1e3);
		} else {
			t->kind = IK_CLOCK_TSC;
			t->tsc_mhz = (r1 + r2) / 2 * 1e3;
			t->ns_per_tick = 2 / (r1 + r2);
			snprintf(t->why, sizeof(t->why),
				 "invariant TSC, calibrated against "
				 "CLOCK_MONOTONIC_RAW");
		}
	}
	t->read_cost_ns = read_cost(t->kind);
	t->resolution_ns = resolution(t);
	return 0;
}
