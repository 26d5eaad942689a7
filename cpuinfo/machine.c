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
	read_cpuinfo(m, root);
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
