/* SPDX-License-Identifier: MIT */
/*
 * Loading the topology and the sets of CPUs a run may use: hwloc builds it
 * (this machine, a file, HWLOC_XMLFILE or HWLOC_SYNTHETIC, checked by
 * input.c first), allowed is what sched_setaffinity permits, chosen where
 * automatic choices look. Binding a thread and describing the machine
 * live here too. What a pair shares is classify.c; choosing pairs is
 * choose.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity.h"
#include "ik.h"

/*
 * An outside topology as hwloc built it: every CPU and NUMA node number
 * within the bound, so nothing later sizes an array or a bitmap by a
 * number nobody's machine has (HWLOC_SYNTHETIC's indexes, or whatever
 * the XML scan let through).
 */
static int check_indexes(const struct ik_topo *tp, char *why, size_t len)
{
	static const hwloc_obj_type_t types[] = {HWLOC_OBJ_PU,
						 HWLOC_OBJ_NUMANODE};
	hwloc_const_bitmap_t sets[] = {
		hwloc_topology_get_complete_cpuset(tp->t),
		hwloc_topology_get_complete_nodeset(tp->t), tp->allowed};
	hwloc_obj_t o = NULL;
	unsigned k;

	for (k = 0; k < IK_ARRAY_SIZE(sets); k++)
		if (hwloc_bitmap_weight(sets[k]) < 0 || /* infinite */
		    hwloc_bitmap_last(sets[k]) > IK_TOPO_INDEX_MAX) {
			snprintf(why, len,
				 "a %s set reaching past %u, the largest "
				 "os_index accepted",
				 k == 1 ? "NUMA node" : "CPU",
				 IK_TOPO_INDEX_MAX);
			return -EINVAL;
		}
	for (k = 0; k < IK_ARRAY_SIZE(types); k++)
		while ((o = hwloc_get_next_obj_by_type(tp->t, types[k], o)))
			if (o->os_index > IK_TOPO_INDEX_MAX) {
				snprintf(why, len,
					 "%s os_index %u is over %u, the "
					 "largest os_index accepted",
					 hwloc_obj_type_string(types[k]),
					 o->os_index, IK_TOPO_INDEX_MAX);
				return -EINVAL;
			}
	return 0;
}

int ik_topo_load(struct ik_topo *tp, const char *xml)
{
	char why[512];

	return ik_topo_load_why(tp, xml, NULL, why, sizeof(why));
}

/*
 * Where automatic choices look. An explicit --pin may go anywhere
 * sched_setaffinity permits (allowed), but --pin auto, --classes and
 * --matrix's default CPUs stay inside the affinity mask we started with
 * when that mask is the user's: `taskset -c 2,3 ipckern --pin auto` must
 * not wander to CPU 0. The kernel's own default under isolcpus= leaves
 * exactly the isolated CPUs out of every task's mask; that mask says
 * nothing about the user, and the isolated CPUs are the quiet ones, so
 * then the whole allowed set is chosen from. Never empty: allowed when
 * the two do not meet. NULL only when out of memory.
 */
static hwloc_bitmap_t choose_from(const struct ik_topo *tp,
				  const char *isolated)
{
	hwloc_bitmap_t c = hwloc_bitmap_dup(tp->allowed);
	hwloc_bitmap_t mine = hwloc_bitmap_alloc(), iso = hwloc_bitmap_alloc();

	if (!c || !mine || !iso || !tp->this_system ||
	    hwloc_get_cpubind(tp->t, mine, HWLOC_CPUBIND_PROCESS))
		goto out;
	/* "none", "unknown": no list, no isolated CPUs */
	if (isolated && hwloc_bitmap_list_sscanf(iso, isolated))
		hwloc_bitmap_zero(iso);
	hwloc_bitmap_or(iso, iso, mine);
	if (!hwloc_bitmap_isincluded(tp->allowed, iso) &&
	    hwloc_bitmap_intersects(tp->allowed, mine))
		hwloc_bitmap_and(c, c, mine); /* narrowed by the user */
out:
	hwloc_bitmap_free(mine);
	hwloc_bitmap_free(iso);
	return c;
}

int ik_topo_load_why(struct ik_topo *tp, const char *xml, const char *isolated,
		     char *why, size_t len)
{
	const char *syn = getenv("HWLOC_SYNTHETIC"), *file = xml;
	const char *env = getenv("HWLOC_XMLFILE");
	char reason[400] = "", source[300] = "";
	char *buf = NULL;
	size_t n = 0;
	int ret = 0;

	memset(tp, 0, sizeof(*tp));
	syn = syn && *syn && !xml ? syn : NULL;
	/* hwloc's own order: HWLOC_SYNTHETIC wins over HWLOC_XMLFILE. Read
	 * here, a missing file is an error, not this machine instead */
	if (!xml && !syn && env && *env)
		file = env;
	if (file)
		snprintf(source, sizeof(source), "%s%s",
			 file == env ? "HWLOC_XMLFILE=" : "", file);
	else if (syn)
		snprintf(source, sizeof(source), "HWLOC_SYNTHETIC '%s'", syn);
	if (file)
		ret = ik_topo_read_xml(file, &buf, &n, reason, sizeof(reason));
	else if (syn)
		ret = ik_topo_synthetic_check(syn, reason, sizeof(reason));
	if (ret)
		goto refused;
	if (hwloc_topology_init(&tp->t) < 0) {
		free(buf);
		snprintf(why, len, "cannot start hwloc: out of memory");
		return -ENOMEM;
	}
	hwloc_topology_set_flags(tp->t, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
	/* a buffer or a description set here overrides the environment */
	errno = 0;
	if ((buf && hwloc_topology_set_xmlbuffer(tp->t, buf, (int)n + 1) < 0) ||
	    (syn && hwloc_topology_set_synthetic(tp->t, syn) < 0) ||
	    hwloc_topology_load(tp->t) < 0) {
		ret = errno && errno != EINVAL ? -errno : -EIO;
		free(buf);
		hwloc_topology_destroy(tp->t);
		memset(tp, 0, sizeof(*tp));
		if (!file && !syn) {
			snprintf(why, len,
				 "cannot read this machine's CPU topology "
				 "(hwloc): %s",
				 strerror(-ret));
			return ret;
		}
		snprintf(reason, sizeof(reason), "%s",
			 file ? "not an hwloc XML topology (make one with: "
				"lstopo --of xml FILE.xml)"
			      : "not a synthetic topology hwloc accepts "
				"(e.g. 'pack:2 core:4 pu:2')");
		goto refused;
	}
	free(buf);
	tp->this_system = hwloc_topology_is_thissystem(tp->t);
	tp->allowed =
		hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(tp->t));
	if (!tp->allowed) {
		hwloc_topology_destroy(tp->t);
		memset(tp, 0, sizeof(*tp));
		snprintf(why, len, "reading the CPU topology: out of memory");
		return -ENOMEM;
	}
	/*
	 * What sched_setaffinity permits: hwloc's allowed set (the cgroup's
	 * effective cpuset) and only online PUs, which are the topology's
	 * own cpuset. Not the affinity mask we started with: isolcpus
	 * leaves isolated CPUs out of every task's mask, and pinning to
	 * them is the point; taskset's mask is the same kind of default.
	 */
	hwloc_bitmap_and(tp->allowed, tp->allowed,
			 hwloc_topology_get_topology_cpuset(tp->t));
	tp->chosen = choose_from(tp, isolated);
	if (!tp->chosen) {
		ik_topo_free(tp);
		snprintf(why, len, "reading the CPU topology: out of memory");
		return -ENOMEM;
	}
	if ((file || syn) && check_indexes(tp, reason, sizeof(reason))) {
		ik_topo_free(tp);
		goto refused;
	}
	return 0;
refused:
	snprintf(why, len, "%s: %s", source, reason);
	return -EINVAL;
}

void ik_topo_free(struct ik_topo *tp)
{
	if (!tp->t)
		return;
	hwloc_bitmap_free(tp->allowed);
	hwloc_bitmap_free(tp->chosen);
	hwloc_topology_destroy(tp->t);
	memset(tp, 0, sizeof(*tp));
}

int ik_topo_check_cpu(const struct ik_topo *tp, int cpu)
{
	if (cpu < 0 ||
	    !hwloc_bitmap_isset(hwloc_topology_get_complete_cpuset(tp->t),
				(unsigned)cpu))
		return -ENOENT;
	if (!hwloc_bitmap_isset(hwloc_topology_get_topology_cpuset(tp->t),
				(unsigned)cpu))
		return -ENODEV;
	if (!hwloc_bitmap_isset(tp->allowed, (unsigned)cpu))
		return -EPERM;
	return 0;
}

void ik_topo_allowed_str(const struct ik_topo *tp, char *buf, size_t len)
{
	hwloc_bitmap_list_snprintf(buf, len, tp->allowed);
}

int ik_bind_self(const struct ik_topo *tp, int cpu)
{
	hwloc_bitmap_t set;
	int ret = 0, on;

	if (!tp->this_system)
		return -EOPNOTSUPP; /* a synthetic or foreign topology */
	set = hwloc_bitmap_alloc();
	if (!set)
		return -ENOMEM;
	hwloc_bitmap_only(set, (unsigned)cpu);
	if (hwloc_set_cpubind(tp->t, set,
			      HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT) < 0)
		ret = -errno;
	hwloc_bitmap_free(set);
	if (ret)
		return ret;
	/* the kernel migrates us before sched_setaffinity returns */
	on = sched_getcpu();
	return on == cpu ? 0 : -EXDEV;
}

void ik_topo_summary(const struct ik_topo *tp, char *buf, size_t len)
{
	hwloc_topology_t t = tp->t;
	int pkgs = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
	int cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
	int pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
	int nodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
	size_t used;
	int d;

	char allowed[256];

	ik_topo_allowed_str(tp, allowed, sizeof(allowed));
	/* a file or a description: its CPUs are not this process's */
	snprintf(buf, len,
		 "%d package(s), %d core(s), %d PU(s), SMT %s, %d "
		 "NUMA node(s); %s CPUs %s",
		 pkgs, cores, pus, pus > cores ? "on" : "off", nodes,
		 tp->this_system ? "this process may use" : "it allows",
		 allowed);
	/* caches: per level, size and how many PUs share one */
	for (d = 1; d <= 5; d++) {
		hwloc_obj_type_t ty;
		hwloc_obj_t c;

		if (hwloc_get_cache_type_depth(t, (unsigned)d,
					       HWLOC_OBJ_CACHE_DATA) < 0 &&
		    hwloc_get_cache_type_depth(t, (unsigned)d,
					       HWLOC_OBJ_CACHE_UNIFIED) < 0)
			continue;
		ty = d == 1   ? HWLOC_OBJ_L1CACHE
		     : d == 2 ? HWLOC_OBJ_L2CACHE
		     : d == 3 ? HWLOC_OBJ_L3CACHE
		     : d == 4 ? HWLOC_OBJ_L4CACHE
			      : HWLOC_OBJ_L5CACHE;
		c = hwloc_get_obj_by_type(t, ty, 0);
		if (!c)
			continue;
		used = strlen(buf);
		snprintf(buf + used, len - used,
			 "; L%d %llu KiB x %d, shared "
			 "by %d PU(s)",
			 d, (unsigned long long)c->attr->cache.size >> 10,
			 hwloc_get_nbobjs_by_type(t, ty),
			 hwloc_bitmap_weight(c->cpuset));
	}
}
