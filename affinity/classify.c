/* SPDX-License-Identifier: MIT */
/*
 * Pair classification walks hwloc's tree: the deepest object two PUs
 * have in common says what they share. NUMA nodes hang off the tree as
 * memory children in hwloc 2, so "different NUMA nodes" compares the PUs'
 * nearest nodes and is reported beside the cache relation, not instead.
 */
#include <errno.h>
#include <string.h>

#include "affinity.h"
#include "tree.h"

static hwloc_obj_t pu_of(const struct ik_topo *tp, int cpu)
{
	return cpu < 0 ? NULL
		       : hwloc_get_pu_obj_by_os_index(tp->t, (unsigned)cpu);
}

/*
 * The NUMA node nearest pu: the first one attached on the way up from it.
 * Comparing nodesets instead would call every pair local on machines that
 * also hang a package- or machine-wide node (HBM, CXL) above the others.
 */
hwloc_obj_t ik_local_numa(hwloc_obj_t pu)
{
	hwloc_obj_t o, n;

	for (o = pu; o; o = o->parent) {
		for (n = o->memory_first_child;
		     n && n->type != HWLOC_OBJ_NUMANODE;
		     n = n->memory_first_child)
			;
		if (n)
			return n;
	}
	return NULL;
}

/*
 * What two PUs whose common ancestor is anc share: anc, or above a Group
 * or Die the nearest Core, cache or Package. A Group can sit inside an
 * L3: QEMU's 2-package, 4-node guest has Package + L3 > Group (a node) >
 * L2 + Core, so two cores of one node share that L3.
 */
hwloc_obj_t ik_shared_by(hwloc_obj_t anc)
{
	while (anc->parent && anc->type != HWLOC_OBJ_CORE &&
	       !hwloc_obj_type_is_cache(anc->type) &&
	       anc->type != HWLOC_OBJ_PACKAGE)
		anc = anc->parent;
	return anc;
}

int ik_topo_classify(const struct ik_topo *tp, int a, int b,
		     struct ik_pair *out)
{
	hwloc_obj_t pa = pu_of(tp, a), pb = pu_of(tp, b), anc, pkg_a, pkg_b, na,
		    nb;

	if (!pa || !pb)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->pinned = true;
	out->cpu[0] = a;
	out->cpu[1] = b;
	na = ik_local_numa(pa);
	nb = ik_local_numa(pb);
	out->numa[0] = na ? (int)na->os_index : -1;
	out->numa[1] = nb ? (int)nb->os_index : -1;
	out->cross_numa = na && nb && na != nb;
	if (pa == pb) {
		out->rel = IK_REL_SAME_PU;
		return 0;
	}
	/* a Group or Die in common says nothing itself: what holds it does */
	anc = ik_shared_by(hwloc_get_common_ancestor_obj(tp->t, pa, pb));
	if (anc->type == HWLOC_OBJ_CORE) {
		out->rel = IK_REL_SMT;
	} else if (hwloc_obj_type_is_cache(anc->type)) {
		out->rel = anc->attr->cache.depth <= 2 ? IK_REL_SHARED_L2
						       : IK_REL_SHARED_L3;
	} else {
		pkg_a = hwloc_get_ancestor_obj_by_type(tp->t, HWLOC_OBJ_PACKAGE,
						       pa);
		pkg_b = hwloc_get_ancestor_obj_by_type(tp->t, HWLOC_OBJ_PACKAGE,
						       pb);
		out->rel = pkg_a == pkg_b ? IK_REL_SAME_PACKAGE
					  : IK_REL_CROSS_PACKAGE;
	}
	return 0;
}

int ik_topo_smt_siblings(const struct ik_topo *tp, int cpu, int *out, int max)
{
	hwloc_obj_t pu = pu_of(tp, cpu), core;
	int n = 0, i;

	if (!pu)
		return 0;
	core = hwloc_get_ancestor_obj_by_type(tp->t, HWLOC_OBJ_CORE, pu);
	if (!core)
		return 0;
	hwloc_bitmap_foreach_begin(i, core->cpuset)
	{
		if (i != cpu && n < max)
			out[n++] = i;
	}
	hwloc_bitmap_foreach_end();
	return n;
}

static const char *const rel_names[] = {
	[IK_REL_SAME_PU] = "same PU (both peers on one CPU)",
	[IK_REL_SMT] = "SMT siblings of one core",
	[IK_REL_SHARED_L2] = "different cores sharing L2",
	[IK_REL_SHARED_L3] = "different cores sharing L3",
	[IK_REL_SAME_PACKAGE] = "different cores, one package, no cache shared",
	[IK_REL_CROSS_PACKAGE] = "different packages",
	[IK_REL_UNPINNED] = "unpinned (the scheduler places the peers)",
};

static const char *const rel_keys[] = {
	[IK_REL_SAME_PU] = "same-pu",
	[IK_REL_SMT] = "smt",
	[IK_REL_SHARED_L2] = "shared-l2",
	[IK_REL_SHARED_L3] = "shared-l3",
	[IK_REL_SAME_PACKAGE] = "same-package",
	[IK_REL_CROSS_PACKAGE] = "cross-package",
	[IK_REL_UNPINNED] = "unpinned",
};

const char *ik_relation_name(enum ik_relation r)
{
	return rel_names[r];
}

const char *ik_relation_key(enum ik_relation r)
{
	return rel_keys[r];
}
