/* SPDX-License-Identifier: MIT */
/*
 * The counters --explain reads at a peer's start gate and at its end:
 * perf events of the peer's own thread (software ones everywhere,
 * hardware ones where a PMU is exposed; a VM often has none), its CPU's
 * rows of /proc/interrupts and its cpuidle usage counters. Each read is
 * a few syscalls; none happens inside a timed loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"

const struct ik_ctr_info ik_ctr_infos[IK_NCTR] = {
	[IK_CTR_CS] = {"context_switches", "count",
		       "context switches of the peer's thread (perf)"},
	[IK_CTR_MIGRATIONS] = {"migrations", "count",
			       "CPU migrations of the peer's thread (perf)"},
	[IK_CTR_FAULTS] = {"page_faults", "count",
			   "page faults of the peer's thread (perf)"},
	[IK_CTR_CYCLES] = {"cycles", "cycles", "CPU cycles (perf, PMU)"},
	[IK_CTR_INSTR] = {"instructions", "count",
			  "instructions retired (perf, PMU)"},
	[IK_CTR_L1D_MISS] = {"l1d_misses", "count",
			     "L1 data cache read misses (perf, PMU)"},
	[IK_CTR_LLC_MISS] = {"llc_misses", "count",
			     "last-level cache misses (perf, PMU)"},
	[IK_CTR_IPI_RES] = {"ipi_resched", "count",
			    "rescheduling IPIs on the peer's CPU "
			    "(/proc/interrupts RES)"},
	[IK_CTR_IPI_CAL] = {"ipi_call", "count",
			    "function call IPIs on the peer's CPU "
			    "(/proc/interrupts CAL)"},
	[IK_CTR_IPI_TLB] = {"ipi_tlb", "count",
			    "TLB shootdowns on the peer's CPU "
			    "(/proc/interrupts TLB)"},
	[IK_CTR_IRQ_LOC] = {"timer_irqs", "count",
			    "local timer interrupts on the peer's CPU "
			    "(/proc/interrupts LOC)"},
	[IK_CTR_IDLE] = {"idle_entries", "count",
			 "cpuidle state entries of the peer's CPU, all "
			 "states (sysfs cpuidle usage)"},
};

/* What each perf counter is: type and config. */
static const struct {
	uint32_t type;
	uint64_t config;
} perf_events[IK_NCTR_PERF] = {
	[IK_CTR_CS] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
	[IK_CTR_MIGRATIONS] = {PERF_TYPE_SOFTWARE,
			       PERF_COUNT_SW_CPU_MIGRATIONS},
	[IK_CTR_FAULTS] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
	[IK_CTR_CYCLES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
	[IK_CTR_INSTR] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
	[IK_CTR_L1D_MISS] = {PERF_TYPE_HW_CACHE,
			     PERF_COUNT_HW_CACHE_L1D |
				     (PERF_COUNT_HW_CACHE_OP_READ << 8) |
				     (PERF_COUNT_HW_CACHE_RESULT_MISS << 16)},
	[IK_CTR_LLC_MISS] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
};

bool ik_ctr_user_countable(enum ik_ctr c)
{
	/* the scheduler counts these in the kernel, where exclude_kernel
	 * drops every one of them: a user-only counter reads 0 */
	return c != IK_CTR_CS && c != IK_CTR_MIGRATIONS;
}

/* This thread only (pid 0, any CPU), counting from now; -errno. */
static int perf_open(uint32_t type, uint64_t config, bool user_only)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.read_format =
		PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	/* and the threads it starts later (an echo server's), folded in as
	 * they exit */
	a.inherit = 1;
	a.exclude_kernel = user_only;
	a.exclude_hv = user_only;
	fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

/* The whole of a small proc or sys file, NUL-terminated; malloc'd. */
static char *slurp(const char *path, int *err)
{
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		*err = fd < 0 ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	for (;;) {
		if (n + 1 >= cap) {
			if (!(nb = realloc(buf, cap * 2))) {
				*err = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*err = r < 0 ? -errno : 0;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (*err) {
		free(buf);
		return NULL;
	}
	return buf;
}

int ik_interrupts_parse(const char *text, int cpu, struct ik_counts *c)
{
	static const struct {
		const char *label;
		enum ik_ctr ctr;
	} rows[] = {
		{"RES:", IK_CTR_IPI_RES},
		{"CAL:", IK_CTR_IPI_CAL},
		{"TLB:", IK_CTR_IPI_TLB},
		{"LOC:", IK_CTR_IRQ_LOC},
	};
	const char *p = text, *nl;
	char want[24];
	int col = -1, k = 0, i;
	unsigned r;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
		c->err[rows[r].ctr] = -ENOENT;
	/* the header names the columns: offline CPUs have none */
	snprintf(want, sizeof(want), "CPU%d", cpu);
	nl = strchr(p, '\n');
	while (p && *p && p != nl) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t\n");
		if (!len)
			break;
		if (len == strlen(want) && !strncmp(p, want, len))
			col = k;
		k++;
		p += len;
	}
	if (col < 0 || !nl)
		return -ENOENT;
	for (p = nl + 1; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		p += strspn(p, " \t");
		for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
			const char *q = p + strlen(rows[r].label);
			unsigned long long v = 0;
			char *end;

			if (strncmp(p, rows[r].label, strlen(rows[r].label)))
				continue;
			for (i = 0; i <= col; i++) {
				v = strtoull(q, &end, 10);
				if (end == q || (nl && end > nl))
					break;
				q = end;
			}
			if (i > col) {
				c->v[rows[r].ctr] = v;
				c->err[rows[r].ctr] = 0;
			}
		}
	}
	return 0;
}

/* Sum of cpu's cpuidle state usage counters; 0 or -errno. */
static int idle_read(const char *root, int cpu, uint64_t *sum)
{
	char path[PATH_MAX], *txt;
	int st, err = 0;

	*sum = 0;
	for (st = 0;; st++) {
		snprintf(
			path, sizeof(path),
			"%s/sys/devices/system/cpu/cpu%d/cpuidle/state%d/usage",
			root, cpu, st);
		if (!(txt = slurp(path, &err)))
			return st ? 0 : err;
		*sum += strtoull(txt, NULL, 10);
		free(txt);
	}
}

void ik_counters_open(struct ik_counters *k, int cpu, const char *root)
{
	struct ik_counts c;
	int i, fd;

	k->cpu = cpu;
	k->root = root;
	for (i = 0; i < IK_NCTR; i++)
		k->err[i] = 0;
	for (i = 0; i < IK_NCTR_PERF; i++) {
		fd = perf_open(perf_events[i].type, perf_events[i].config,
			       false);
		/* a paranoid setting may still allow user-space counting,
		 * of the events that happen there: a switch or a migration
		 * never does (not exposed, never a measured 0) */
		if ((fd == -EACCES || fd == -EPERM) &&
		    ik_ctr_user_countable((enum ik_ctr)i))
			fd = perf_open(perf_events[i].type,
				       perf_events[i].config, true);
		k->fd[i] = fd < 0 ? -1 : fd;
		k->err[i] = fd < 0 ? fd : 0;
	}
	/* what the per-CPU files have, once; the reads repeat it */
	ik_counters_read(k, &c);
	for (i = IK_NCTR_PERF; i < IK_NCTR; i++)
		k->err[i] = c.err[i];
}

void ik_counters_read(const struct ik_counters *k, struct ik_counts *c)
{
	char path[PATH_MAX], *txt;
	uint64_t rv[3];
	int i, err = 0;

	struct timespec ts;

	for (i = 0; i < IK_NCTR; i++) {
		c->v[i] = 0;
		c->err[i] = k->err[i];
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	for (i = 0; i < IK_NCTR_PERF; i++) {
		if (k->fd[i] < 0)
			continue;
		if (read(k->fd[i], rv, sizeof(rv)) != (ssize_t)sizeof(rv)) {
			c->err[i] = -EIO;
			continue;
		}
		/* multiplexed: scale to the time it was enabled */
		if (rv[2] && rv[2] < rv[1])
			rv[0] = (uint64_t)((double)rv[0] * (double)rv[1] /
					   (double)rv[2]);
		c->v[i] = rv[0];
	}
	if (k->cpu < 0) {
		for (i = IK_NCTR_PERF; i < IK_NCTR; i++)
			c->err[i] = -EDOM;
		return;
	}
	snprintf(path, sizeof(path), "%s/proc/interrupts", k->root);
	if ((txt = slurp(path, &err))) {
		ik_interrupts_parse(txt, k->cpu, c);
		free(txt);
	} else {
		for (i = IK_CTR_IPI_RES; i <= IK_CTR_IRQ_LOC; i++)
			c->err[i] = err;
	}
	c->err[IK_CTR_IDLE] = idle_read(k->root, k->cpu, &c->v[IK_CTR_IDLE]);
}

void ik_counters_close(struct ik_counters *k)
{
	int i;

	for (i = 0; i < IK_NCTR_PERF; i++) {
		if (k->fd[i] >= 0)
			close(k->fd[i]);
		k->fd[i] = -1;
	}
}

void ik_counters_idle(const int *cpus, unsigned n, uint64_t ns,
		      const char *root, struct ik_counts *bg)
{
	struct ik_counters k = {.root = root};
	struct ik_counts a[2], b;
	struct timespec left = {.tv_sec = (time_t)(ns / 1000000000u),
				.tv_nsec = (long)(ns % 1000000000u)};
	unsigned j;
	int i;

	for (i = 0; i < IK_NCTR_PERF; i++) {
		k.fd[i] = -1;
		k.err[i] = -ENODATA;
	}
	for (j = 0; j < n && j < 2; j++) {
		k.cpu = cpus[j];
		ik_counters_read(&k, &a[j]);
	}
	/* a measurement interval, not a synchronisation */
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR)
		;
	for (j = 0; j < n && j < 2; j++) {
		k.cpu = cpus[j];
		ik_counters_read(&k, &b);
		ik_counts_delta(&bg[j], &a[j], &b);
	}
}

void ik_counts_delta(struct ik_counts *d, const struct ik_counts *a,
		     const struct ik_counts *b)
{
	int i;

	d->ns = b->ns > a->ns ? b->ns - a->ns : 0;
	for (i = 0; i < IK_NCTR; i++) {
		d->err[i] = a->err[i] ? a->err[i] : b->err[i];
		d->v[i] =
			d->err[i] || b->v[i] < a->v[i] ? 0 : b->v[i] - a->v[i];
	}
}

void ik_counts_add(struct ik_counts *d, const struct ik_counts *s)
{
	int i;

	d->ns += s->ns;
	for (i = 0; i < IK_NCTR; i++) {
		if (!d->err[i])
			d->err[i] = s->err[i];
		d->v[i] = d->err[i] ? 0 : d->v[i] + s->v[i];
	}
}
