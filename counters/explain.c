/* SPDX-License-Identifier: MIT */
/*
 * The reading rules: what a row's per-hop counters say about where the
 * time goes, as one line. A small table, first match wins; the numbers
 * lead the line so that a reader can check the words against them.
 * Thresholds are per hop (round trip or message): half an event per
 * hop is "it happens on most hops", a twentieth is "it is rare".
 */
#include <math.h>
#include <stdio.h>

#include "counters.h"

static bool moved(const struct ik_explain_per *p)
{
	return p->migrations >= 0.01;
}

/* Most switches involuntary: the peers were preempted, competing for
 * CPUs, not asleep (getrusage tells the two apart; perf does not). */
static bool preempted(const struct ik_explain_per *p)
{
	return p->ics >= 0.5 && p->ics > p->vcs;
}

static bool one_cpu_switching(const struct ik_explain_per *p)
{
	return p->same_cpu && p->cs >= 0.5;
}

static bool wakes_with_ipi(const struct ik_explain_per *p)
{
	return !isnan(p->ipis) && p->ipis >= 0.5 && p->cs >= 0.5;
}

static bool wakes_without_ipi(const struct ik_explain_per *p)
{
	return !isnan(p->ipis) && p->ipis < 0.5 && p->cs >= 0.5;
}

static bool blocks(const struct ik_explain_per *p)
{
	return isnan(p->ipis) && p->cs >= 0.5;
}

static bool faults(const struct ik_explain_per *p)
{
	return p->faults >= 0.01;
}

static bool spins(const struct ik_explain_per *p)
{
	return p->cs < 0.05 && (isnan(p->ipis) || p->ipis < 0.05);
}

static bool always(const struct ik_explain_per *p)
{
	(void)p;
	return true;
}

static const struct {
	bool (*holds)(const struct ik_explain_per *p);
	const char *says;
} rules[] = {
	{moved, "the scheduler moves the peers between CPUs (pin them)"},
	{preempted, "the peers are preempted, not sleeping: they compete "
		    "for CPUs (more threads than CPUs, or other tasks)"},
	{one_cpu_switching,
	 "both peers share one CPU: each hop is a switch to the other"},
	{wakes_with_ipi, "each hop wakes a sleeping peer on another CPU"},
	{wakes_without_ipi, "the peer sleeps and is woken without an IPI "
			    "(its CPU was polling or busy)"},
	{blocks, "the peer sleeps on most hops (IPIs not known here)"},
	{faults, "pages are faulted in during the loop"},
	{spins, "no sleeps: the peers spin (or find a message waiting); "
		"the cost is cache lines moving"},
	{always, "partly blocking: some hops sleep, most spin or batch"},
};

const char *ik_explain_reading(const struct ik_explain_per *p, char *buf,
			       size_t len)
{
	unsigned i;
	int n;

	for (i = 0; !rules[i].holds(p); i++)
		;
	if (isnan(p->ipis))
		n = snprintf(buf, len, "? IPIs, ");
	else
		n = snprintf(buf, len, "%.1f IPIs, ", p->ipis);
	if (n < 0 || (size_t)n >= len)
		return buf;
	n += snprintf(buf + n, len - (size_t)n, "%.1f switches, ", p->cs);
	if (n > 0 && (size_t)n < len && isnan(p->migrations))
		n += snprintf(buf + n, len - (size_t)n, "? migrations: %s",
			      rules[i].says);
	else if (n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "%.2f migrations: %s",
			      p->migrations, rules[i].says);
	if (n > 0 && (size_t)n < len && p->cs_rusage)
		n += snprintf(buf + n, len - (size_t)n,
			      " (switches from getrusage: perf may not "
			      "count them here)");
	/* the IPIs are a difference of two spans: say so where it shows */
	if (n > 0 && (size_t)n < len && p->clamped)
		snprintf(buf + n, len - (size_t)n,
			 " (IPIs net of the background with the peers gone; "
			 "some below it, clamped to 0)");
	else if (n > 0 && (size_t)n < len && p->bg_subtracted &&
		 !isnan(p->ipis))
		snprintf(buf + n, len - (size_t)n,
			 " (IPIs net of the background with the peers "
			 "gone)");
	return buf;
}
