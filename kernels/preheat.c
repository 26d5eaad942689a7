/* SPDX-License-Identifier: MIT */
/*
 * --preheat: before a cell, keep both CPUs of the pair busy for a while,
 * as c2clat's -H does, so that a CPU idling at a low clock is at full
 * clock when the timed loop starts; and say what the clock was before
 * and after. The clock comes from cpufreq's scaling_cur_freq where the
 * kernel exposes it, else from APERF (actual cycles while in C0) read
 * through /dev/cpu/N/msr over 10 ms at each end of the spin, else the
 * report says why neither could be read: never a zero read as a clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernels.h"

#define MSR_APERF 0xe8
#define WINDOW_NS (10u * 1000u * 1000u) /* APERF window at each end */

struct heater {
	int cpu;
	const char *root;
	uint64_t ns; /* how long to spin */
	int err;     /* could not run there */
	int msr_err; /* why APERF was not read; 0: it was */
	double khz[2];
};

/* scaling_cur_freq in kHz; 0 with *err set when not readable. */
static double cur_freq(const char *root, int cpu, int *err)
{
	char path[256];
	unsigned long khz;
	FILE *f;
	int n;

	snprintf(path, sizeof(path),
		 "%s/sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq",
		 root, cpu);
	if (!(f = fopen(path, "re"))) {
		*err = -errno;
		return 0;
	}
	n = fscanf(f, "%lu", &khz);
	fclose(f);
	if (n != 1 || !khz) {
		*err = -EIO;
		return 0;
	}
	return (double)khz;
}

static int rdmsr(int fd, uint32_t reg, uint64_t *v)
{
	ssize_t n = pread(fd, v, sizeof(*v), reg);

	return n == sizeof(*v) ? 0 : n < 0 ? -errno : -EIO;
}

/* Spin until the clock reads until; APERF over [from, until) when fd. */
static void spin_window(int fd, uint64_t until, double *khz, int *err)
{
	uint64_t t0 = ik_clock_ns(), a0 = 0, a1 = 0, t1;

	if (fd >= 0 && !*err)
		*err = rdmsr(fd, MSR_APERF, &a0);
	while ((t1 = ik_clock_ns()) < until)
		ik_cpu_relax();
	if (fd >= 0 && !*err)
		*err = rdmsr(fd, MSR_APERF, &a1);
	/* cycles per ns is GHz: x 1e6 for kHz */
	if (fd >= 0 && !*err && t1 > t0)
		*khz = (double)(a1 - a0) / (double)(t1 - t0) * 1e6;
}

static void *heat(void *arg)
{
	struct heater *h = arg;
	uint64_t t0 = ik_clock_ns(), end = t0 + h->ns;
	char path[256];
	int fd;

	if (sched_getcpu() != h->cpu) {
		h->err = -EINVAL;
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/dev/cpu/%d/msr", h->root, h->cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	h->msr_err = fd < 0 ? -errno : 0;
	if (h->ns <= 2 * WINDOW_NS) { /* too short for two windows */
		spin_window(-1, end, NULL, &h->msr_err);
		if (!h->msr_err)
			h->msr_err = -ERANGE;
	} else {
		spin_window(fd, t0 + WINDOW_NS, &h->khz[0], &h->msr_err);
		spin_window(-1, end - WINDOW_NS, NULL, &h->msr_err);
		spin_window(fd, end, &h->khz[1], &h->msr_err);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int start(struct heater *h, pthread_t *th)
{
	pthread_attr_t a;
	cpu_set_t set;
	int ret;

	if (h->cpu < 0 || h->cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(h->cpu, &set);
	if ((ret = pthread_attr_init(&a)))
		return -ret;
	ret = pthread_attr_setaffinity_np(&a, sizeof(set), &set);
	if (!ret)
		ret = pthread_create(th, &a, heat, h);
	pthread_attr_destroy(&a);
	return -ret;
}

int ik_preheat(const char *root, const int cpu[2], unsigned ms,
	       struct ik_preheat *out)
{
	struct heater h[2];
	pthread_t th[2];
	int ferr[2] = {0, 0}, s, started = 0, ret = 0;
	bool freq = true, msr = true;

	memset(out, 0, sizeof(*out));
	out->ms = ms;
	for (s = 0; s < 2; s++) {
		h[s] = (struct heater){.cpu = cpu[s],
				       .root = root,
				       .ns = (uint64_t)ms * 1000000u};
		out->khz_before[s] = cur_freq(root, cpu[s], &ferr[s]);
	}
	/* one thread per distinct CPU (a pair on one CPU heats it once) */
	for (s = 0; s < 2 && !ret; s++) {
		if (s && cpu[1] == cpu[0])
			break;
		if (!(ret = start(&h[s], &th[s])))
			started++;
	}
	if (!ret) {
		/* scaling_cur_freq while both still spin, near the end */
		struct timespec ts = {(time_t)(ms * 9 / 10 / 1000),
				      (long)(ms * 9 / 10 % 1000) * 1000000};

		nanosleep(&ts, NULL);
		for (s = 0; s < 2; s++)
			out->khz_after[s] = cur_freq(root, cpu[s], &ferr[s]);
	}
	for (s = 0; s < started; s++) {
		pthread_join(th[s], NULL);
		if (h[s].err)
			ret = h[s].err;
	}
	if (started == 1 && cpu[1] == cpu[0])
		h[1] = h[0];
	if (ret)
		return ret;
	for (s = 0; s < 2; s++) {
		freq &= !ferr[s];
		msr &= !h[s].msr_err;
	}
	if (freq) {
		snprintf(out->source, sizeof(out->source), "scaling_cur_freq");
		return 0;
	}
	for (s = 0; s < 2; s++) {
		out->khz_before[s] = msr ? h[s].khz[0] : 0;
		out->khz_after[s] = msr ? h[s].khz[1] : 0;
	}
	if (msr) {
		snprintf(out->source, sizeof(out->source), "aperf");
		return 0;
	}
	s = ferr[0] ? 0 : 1;
	snprintf(out->why, sizeof(out->why),
		 "not exposed: cpu%d/cpufreq/scaling_cur_freq: %s; "
		 "/dev/cpu/%d/msr: %s",
		 cpu[s], strerror(-ferr[s]), cpu[h[0].msr_err ? 0 : 1],
		 h[0].msr_err == -ERANGE
			 ? "--preheat too short for two 10 ms "
			   "APERF windows"
			 : strerror(-(h[0].msr_err ? h[0].msr_err
						   : h[1].msr_err)));
	return 0;
}
