/* SPDX-License-Identifier: MIT */
/*
 * The machine a result was measured on, read from /proc and /sys (under
 * a root prefix so tests can feed sample files). A field the machine does
 * not expose says "unknown"; nothing is guessed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "cpuinfo.h"

/* Copy src into dst of n bytes, truncating, always terminated. */
static void set_str(char *dst, size_t n, const char *src)
{
	size_t l = strnlen(src, n - 1);

	memcpy(dst, src, l);
	dst[l] = 0;
}

static FILE *open_under(const char *root, const char *path)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", root, path);
	return fopen(full, "r");
}

/* "key\t: value" -> value, trimmed; false if line is not key. */
static bool field(const char *line, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);
	const char *v;

	if (strncmp(line, key, k) ||
	    (line[k] != ' ' && line[k] != '\t' && line[k] != ':'))
		return false;
	v = strchr(line, ':');
	if (!v)
		return false;
	v++;
	while (*v == ' ' || *v == '\t')
		v++;
	set_str(out, len, v);
	out[strcspn(out, "\n")] = 0;
	return true;
}

static void read_cpuinfo(struct ik_machine *m, const char *root)
{
	FILE *f = open_under(root, "/proc/cpuinfo");
	char line[4096], v[4096];
	int cpus = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (field(line, "processor", v, sizeof(v)))
			cpus++;
		if (cpus > 1)
			continue; /* the first CPU speaks for all */
		if (field(line, "vendor_id", v, sizeof(v)))
			set_str(m->vendor, sizeof(m->vendor), v);
		else if (field(line, "model name", v, sizeof(v)))
			set_str(m->model, sizeof(m->model), v);
		else if (field(line, "cpu family", v, sizeof(v)))
			m->family = atoi(v);
		else if (field(line, "model", v, sizeof(v)))
			m->cpu_model = atoi(v);
		else if (field(line, "stepping", v, sizeof(v)))
			m->stepping = atoi(v);
		else if (field(line, "flags", v, sizeof(v)))
			m->hypervisor = strstr(v, " hypervisor") != NULL ||
					!strncmp(v, "hypervisor", 10);
	}
	fclose(f);
	if (cpus)
		m->online_cpus = cpus;
}

/* First line of root+path into out, trimmed; false if unreadable. */
static bool read_line(const char *root, const char *path, char *out, size_t len)
{
	FILE *f = open_under(root, path);
	bool ok = false;

	if (f) {
		if (fgets(out, (int)len, f)) {
			out[strcspn(out, "\n")] = 0;
			ok = true;
		}
		fclose(f);
	}
	return ok;
}

static long read_long(const char *root, const char *path)
{
	char b[64];

	return read_line(root, path, b, sizeof(b)) ? atol(b) : -1;
}

static void read_vulns(struct ik_machine *m, const char *root)
{
	const char *dir = "/sys/devices/system/cpu/vulnerabilities";
	char full[512], path[600], v[256];
	struct dirent *e;
	DIR *d;

	snprintf(full, sizeof(full), "%s%s", root, dir);
	d = opendir(full);
	if (!d)
		return;
	m->vulns[0] = 0;
	while ((e = readdir(d))) {
		size_t used = strlen(m->vulns);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!read_line(root, path, v, sizeof(v)))
			continue;
		snprintf(m->vulns + used, sizeof(m->vulns) - used, "%s%s: %s",
			 used ? "; " : "", e->d_name, v);
	}
	closedir(d);
}

static void read_numa(struct ik_machine *m, const char *root)
{
	char path[128], v[128];
	int n;

	m->numa_distances[0] = 0;
	for (n = 0; n < 64; n++) {
		size_t used = strlen(m->numa_distances);

		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/distance", n);
		if (!read_line(root, path, v, sizeof(v)))
			break;
		snprintf(m->numa_distances + used,
			 sizeof(m->numa_distances) - used, "%snode%d: %s",
			 used ? "; " : "", n, v);
	}
	if (!m->numa_distances[0])
		strcpy(m->numa_distances, "unknown");
}

void ik_machine_read_qos(struct ik_machine *m, const char *root)
{
	char path[512];
	int32_t v;
	int fd;

	/* opening adds a request at the default (no constraint); reading
	 * gives the limit all requests together impose */
	snprintf(path, sizeof(path), "%s/dev/cpu_dma_latency", root);
	m->latency_qos_us = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v) && v >= 0)
		m->latency_qos_us = v;
	close(fd);
}

int ik_cpu_latency_hold(long us)
{
	int32_t v = (int32_t)us;
	int fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	/* four bytes are taken as a binary s32; a string would be hex */
	n = write(fd, &v, sizeof(v));
	if (n != (ssize_t)sizeof(v)) {
		int err = n < 0 ? errno : EIO;

		close(fd);
		return -err;
	}
	return fd;
}

/* cpu0's shallowest enabled state that halts (POLL spins: not one) */
static void read_idle_states(struct ik_machine *m, const char *root)
{
	const char *dir = "/sys/devices/system/cpu/cpu0/cpuidle";
	char path[256], name[32], v[32];
	int k;

	for (k = 0; k < 16; k++) {
		long lat;

		snprintf(path, sizeof(path), "%s/state%d/name", dir, k);
		if (!read_line(root, path, name, sizeof(name)))
			break;
		snprintf(path, sizeof(path), "%s/state%d/disable", dir, k);
		if (!strcmp(name, "POLL") ||
		    (read_line(root, path, v, sizeof(v)) && atoi(v)))
			continue;
		snprintf(path, sizeof(path), "%s/state%d/latency", dir, k);
		lat = read_long(root, path);
		if (lat >= 0 &&
		    (m->idle_exit_us < 0 || lat < m->idle_exit_us)) {
			m->idle_exit_us = lat;
			set_str(m->idle_state, sizeof(m->idle_state), name);
		}
	}
}

/* cpuidle's driver and governor, haltpoll's poll time, the QoS limit */
static void read_idle(struct ik_machine *m, const char *root)
{
	const char *dir = "/sys/devices/system/cpu/cpuidle";
	char path[256], drv[40] = "", gov[40] = "", v[32];

	snprintf(path, sizeof(path), "%s/current_driver", dir);
	if (read_line(root, path, drv, sizeof(drv))) {
		snprintf(path, sizeof(path), "%s/current_governor", dir);
		if (!read_line(root, path, gov, sizeof(gov)) || !gov[0]) {
			snprintf(path, sizeof(path), "%s/current_governor_ro",
				 dir);
			read_line(root, path, gov, sizeof(gov));
		}
		if (!drv[0] || !strcmp(drv, "none"))
			strcpy(m->idle, "none");
		else
			snprintf(m->idle, sizeof(m->idle), "%s, governor %s",
				 drv, gov[0] ? gov : "unknown");
	}
	if (read_line(root,
		      "/sys/module/haltpoll/parameters/guest_halt_poll_ns", v,
		      sizeof(v)))
		m->halt_poll_ns = atol(v);
	read_idle_states(m, root);
	ik_machine_read_qos(m, root);
}

bool ik_machine_idles(const struct ik_machine *m)
{
	return m->idle_exit_us >= 0 &&
	       (m->latency_qos_us < 0 || m->latency_qos_us >= m->idle_exit_us);
}

static void read_sys(struct ik_machine *m, const char *root)
{
	const char *cpu = "/sys/devices/system/cpu";
	char path[256], v[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/online", cpu);
	read_line(root, path, m->online, sizeof(m->online));
	snprintf(path, sizeof(path), "%s/smt/control", cpu);
	read_line(root, path, m->smt, sizeof(m->smt));
	snprintf(path, sizeof(path), "%s/isolated", cpu);
	if (read_line(root, path, m->isolated, sizeof(m->isolated)) &&
	    !m->isolated[0])
		strcpy(m->isolated, "none");
	/* the mask our parent gave us, before any peer is pinned */
	f = open_under(root, "/proc/self/status");
	if (f) {
		char line[512];

		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Cpus_allowed_list: %255s",
				   m->affinity) == 1)
				break;
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/nohz_full", cpu);
	if (read_line(root, path, m->nohz_full, sizeof(m->nohz_full)) &&
	    (!m->nohz_full[0] || !strcmp(m->nohz_full, "(null)")))
		strcpy(m->nohz_full, "none");
	snprintf(path, sizeof(path), "%s/cpu0/cpufreq/scaling_governor", cpu);
	read_line(root, path, m->governor, sizeof(m->governor));
	snprintf(path, sizeof(path), "%s/cpu0/cpufreq/scaling_cur_freq", cpu);
	m->cur_khz = read_long(root, path);
	snprintf(path, sizeof(path), "%s/cpu0/cpufreq/cpuinfo_min_freq", cpu);
	m->min_khz = read_long(root, path);
	snprintf(path, sizeof(path), "%s/cpu0/cpufreq/cpuinfo_max_freq", cpu);
	m->max_khz = read_long(root, path);
	snprintf(path, sizeof(path), "%s/cpufreq/boost", cpu);
	if (read_line(root, path, v, sizeof(v)))
		strcpy(m->boost, atoi(v) ? "on" : "off");
	snprintf(path, sizeof(path), "%s/intel_pstate/no_turbo", cpu);
	if (read_line(root, path, v, sizeof(v)))
		strcpy(m->boost, atoi(v) ? "off" : "on");
	read_line(root, "/proc/cmdline", m->cmdline, sizeof(m->cmdline));
	f = open_under(root, "/proc/loadavg");
	if (f) {
		if (fscanf(f, "%lf", &m->load1) != 1)
			m->load1 = -1;
		fclose(f);
	}
	read_vulns(m, root);
	read_numa(m, root);
	read_idle(m, root);
}

int ik_machine_read(struct ik_machine *m, const char *root)
{
	struct utsname u;
	FILE *f;

	memset(m, 0, sizeof(*m));
	strcpy(m->vendor, "unknown");
	strcpy(m->model, "unknown");
	strcpy(m->kernel, "unknown");
	strcpy(m->hostname, "unknown");
	strcpy(m->clocksource, "unknown");
	m->family = m->cpu_model = m->stepping = -1;
	m->online_cpus = -1;
	strcpy(m->online, "unknown");
	strcpy(m->smt, "unknown");
	strcpy(m->isolated, "unknown");
	strcpy(m->nohz_full, "unknown");
	strcpy(m->governor, "unknown");
	strcpy(m->boost, "unknown");
	strcpy(m->cmdline, "unknown");
	strcpy(m->vulns, "unknown");
	strcpy(m->idle, "unknown");
	m->halt_poll_ns = -1;
	m->idle_exit_us = -1;
	m->latency_qos_us = -1;
	m->load1 = -1;
	read_cpuinfo(m, root);
	read_sys(m, root);
	f = open_under(root, "/sys/devices/system/clocksource/clocksource0/"
			     "current_clocksource");
	if (f) {
		if (fgets(m->clocksource, sizeof(m->clocksource), f))
			m->clocksource[strcspn(m->clocksource, "\n")] = 0;
		fclose(f);
	}
	if (!*root && uname(&u) == 0) {
		char k[3 * sizeof(u.release) + 3];

		strcpy(k, u.sysname);
		strcat(k, " ");
		strcat(k, u.release);
		strcat(k, " ");
		strcat(k, u.machine);
		set_str(m->kernel, sizeof(m->kernel), k);
		set_str(m->hostname, sizeof(m->hostname), u.nodename);
	}
	return 0;
}

/* Is cpu in a "0-3,8" style list? */
static bool in_list(const char *list, int cpu)
{
	const char *p = list;

	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			return false;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (cpu >= a && cpu <= b)
			return true;
		p = *end == ',' ? end + 1 : end;
		if (*p && *p != ',' && (*p < '0' || *p > '9'))
			return false;
	}
	return false;
}

unsigned ik_machine_warnings(const struct ik_machine *m, const int *cpus,
			     unsigned n, char (*out)[200], unsigned max)
{
	unsigned k = 0, i;

	if (k < max && strcmp(m->governor, "unknown") &&
	    strcmp(m->governor, "performance"))
		snprintf(out[k++], 200,
			 "CPU frequency governor is %s, not performance: "
			 "clock speed may change under the measurement",
			 m->governor);
	if (k < max && m->hypervisor)
		snprintf(out[k++], 200,
			 "running in a VM: the host schedules our vCPUs and "
			 "tails are noisier");
	for (i = 0; i < n && k < max; i++)
		if (m->affinity[0] && !in_list(m->affinity, cpus[i])) {
			snprintf(out[k++], 200,
				 "CPU %d is outside the affinity mask ipckern "
				 "started with (%.40s): pinned anyway, the "
				 "cgroup cpuset allows it",
				 cpus[i], m->affinity);
			break;
		}
	for (i = 0; i < n && k < max; i++)
		if (!in_list(m->isolated, cpus[i])) {
			/* a long list is cut: the line holds 200 bytes */
			snprintf(out[k++], 200,
				 "CPU %d is not isolated (isolcpus=%.100s): "
				 "other "
				 "tasks and interrupts may land on it",
				 cpus[i], m->isolated);
			break;
		}
	if (k < max && m->load1 >= 0 && m->online_cpus > 0 &&
	    m->load1 > 0.5 * m->online_cpus)
		snprintf(out[k++], 200,
			 "load average %.2f is above half of the %d CPUs: "
			 "others compete for them",
			 m->load1, m->online_cpus);
	return k;
}

int ik_cpu_ticks(const char *root, int cpu, uint64_t *busy, uint64_t *total)
{
	FILE *f = open_under(root, "/proc/stat");
	char line[512], want[16];
	int ret = -ENOENT;

	if (!f)
		return -errno;
	snprintf(want, sizeof(want), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = {0};

		if (strncmp(line, want, strlen(want)))
			continue;
		if (sscanf(line + strlen(want),
			   "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
			break;
		/* idle and iowait are not busy; the rest is */
		*total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
		*busy = *total - v[3] - v[4];
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}
