/* SPDX-License-Identifier: MIT */
/*
 * A machine's fingerprint for the results history (reports/history.c):
 * the fields that change its numbers when they change, and a hash of
 * them that names its class. A field the machine hides says "unknown";
 * two machines that both hide it are not told apart by it.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "cpuinfo.h"

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src && *src ? src : "unknown");
}

/* The first CPU's "microcode : 0x..." line, or "unknown" (not x86). */
static void read_microcode(const char *root, char *out, size_t n)
{
	char path[512], line[512];
	FILE *f;

	copy(out, n, NULL);
	snprintf(path, sizeof(path), "%s/proc/cpuinfo", root);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (strncmp(line, "microcode", 9) || !v)
			continue;
		v += 1 + strspn(v + 1, " \t");
		v[strcspn(v, "\n")] = 0;
		copy(out, n, v);
		break;
	}
	fclose(f);
}

/*
 * The hypervisor's CPUID vendor (leaf 0x40000000: "KVMKVMKVM",
 * "Microsoft Hv", "VMwareVMware", "TCGTCGTCGTCG"), read only when the
 * CPU's hypervisor flag is set: bare metal leaves that leaf undefined.
 */
static void hypervisor_vendor(const struct ik_machine *m, char *out, size_t n)
{
	copy(out, n, m->hypervisor ? "yes" : "none");
#if defined(__x86_64__) || defined(__i386__)
	if (m->hypervisor) {
		unsigned a, b, c, d;
		char v[13];

		__cpuid(0x40000000, a, b, c, d);
		memcpy(v, &b, 4);
		memcpy(v + 4, &c, 4);
		memcpy(v + 8, &d, 4);
		v[12] = 0;
		for (int i = 0; i < 12; i++)
			if (v[i] && (v[i] < ' ' || v[i] > '~'))
				v[i] = '?';
		if (*v)
			copy(out, n, v);
	}
#endif
}

void ik_fingerprint_hash(struct ik_fingerprint *fp)
{
	const char *parts[] = {fp->cpu_model,  fp->microcode, fp->kernel,
			       fp->hypervisor, fp->governor,  fp->smt};
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */
	char cpus[16];

	snprintf(cpus, sizeof(cpus), "%d", fp->vcpus);
	for (size_t i = 0; i <= sizeof(parts) / sizeof(parts[0]); i++) {
		const char *s =
			i < sizeof(parts) / sizeof(parts[0]) ? parts[i] : cpus;

		/* each part ends in a 0 byte: "ab"+"c" is not "a"+"bc" */
		do {
			h ^= (unsigned char)*s;
			h *= 0x100000001b3ull;
		} while (*s++);
	}
	snprintf(fp->klass, sizeof(fp->klass), "%016llx",
		 (unsigned long long)h);
}

void ik_machine_fingerprint(const struct ik_machine *m, const char *root,
			    struct ik_fingerprint *fp)
{
	memset(fp, 0, sizeof(*fp));
	copy(fp->cpu_model, sizeof(fp->cpu_model), m->model);
	read_microcode(root, fp->microcode, sizeof(fp->microcode));
	copy(fp->kernel, sizeof(fp->kernel), m->kernel);
	fp->vcpus = m->online_cpus;
	hypervisor_vendor(m, fp->hypervisor, sizeof(fp->hypervisor));
	copy(fp->governor, sizeof(fp->governor), m->governor);
	copy(fp->smt, sizeof(fp->smt), m->smt);
	ik_fingerprint_hash(fp);
}
