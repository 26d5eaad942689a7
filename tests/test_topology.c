/* SPDX-License-Identifier: MIT */
/*
 * Pair classification on hwloc synthetic topologies, so machines we do
 * not have (SMT, several packages, several L3s) are checked here too.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "affinity/affinity.h"

#define XEON "pack:1 l3:1 l2:4 l1d:1 core:1 pu:2(indexes=2*4:1*2)"

static void load(struct ik_topo *tp, const char *synthetic)
{
	setenv("HWLOC_SYNTHETIC", synthetic, 1);
	cr_assert_eq(ik_topo_load(tp, NULL), 0, "cannot load %s", synthetic);
}

static enum ik_relation rel(const char *synthetic, int a, int b,
			    bool *cross_numa)
{
	struct ik_topo tp;
	struct ik_pair p;

	load(&tp, synthetic);
	cr_assert_eq(ik_topo_classify(&tp, a, b, &p), 0);
	if (cross_numa)
		*cross_numa = p.cross_numa;
	ik_topo_free(&tp);
	return p.rel;
}

Test(topology, xeon_0_4_are_smt_siblings)
{
	cr_expect_eq(rel(XEON, 0, 4, NULL), IK_REL_SMT);
	cr_expect_eq(rel(XEON, 3, 7, NULL), IK_REL_SMT);
}

Test(topology, xeon_0_1_are_cores_sharing_l3)
{
	cr_expect_eq(rel(XEON, 0, 1, NULL), IK_REL_SHARED_L3);
	cr_expect_eq(rel(XEON, 4, 5, NULL), IK_REL_SHARED_L3);
	cr_expect_eq(rel(XEON, 0, 5, NULL), IK_REL_SHARED_L3);
}

Test(topology, same_cpu_twice_is_same_pu)
{
	cr_expect_eq(rel(XEON, 2, 2, NULL), IK_REL_SAME_PU);
}

Test(topology, two_packages_two_numa_nodes_cross_both)
{
	const char *two = "pack:2 [numa] l3:1 l2:2 core:1 pu:2";
	bool cross;

	cr_expect_eq(rel(two, 0, 4, &cross), IK_REL_CROSS_PACKAGE);
	cr_expect(cross, "0 and 4 are on different NUMA nodes");
	cr_expect_eq(rel(two, 0, 2, &cross), IK_REL_SHARED_L3);
	cr_expect_not(cross, "0 and 2 share a NUMA node");
}

Test(topology, cores_sharing_an_l2)
{
	cr_expect_eq(rel("pack:1 l3:1 l2:2 core:2 pu:1", 0, 1, NULL),
		     IK_REL_SHARED_L2);
	cr_expect_eq(rel("pack:1 l3:1 l2:2 core:2 pu:1", 0, 2, NULL),
		     IK_REL_SHARED_L3);
}

Test(topology, chiplets_with_separate_l3_are_same_package)
{
	const char *chiplet = "pack:1 l3:4 l2:4 core:1 pu:2";

	cr_expect_eq(rel(chiplet, 0, 2, NULL), IK_REL_SHARED_L3);
	cr_expect_eq(rel(chiplet, 0, 8, NULL), IK_REL_SAME_PACKAGE);
}

Test(topology, cpus_outside_the_machine_are_refused)
{
	struct ik_topo tp;
	struct ik_pair p;

	load(&tp, XEON);
	cr_expect_eq(ik_topo_check_cpu(&tp, 8), -ENOENT);
	cr_expect_eq(ik_topo_check_cpu(&tp, -1), -ENOENT);
	cr_expect_eq(ik_topo_check_cpu(&tp, 7), 0);
	cr_expect_eq(ik_topo_classify(&tp, 0, 9, &p), -ENOENT);
	ik_topo_free(&tp);
}

Test(topology, default_pair_is_two_cores_sharing_cache)
{
	struct ik_topo tp;
	struct ik_pair p;
	int pair[2];

	load(&tp, XEON);
	cr_assert_eq(ik_topo_default_pair(&tp, pair), 0);
	cr_assert_eq(ik_topo_classify(&tp, pair[0], pair[1], &p), 0);
	cr_expect_eq(p.rel, IK_REL_SHARED_L3, "got %d,%d", pair[0], pair[1]);
	ik_topo_free(&tp);
}

Test(topology, binding_on_a_synthetic_topology_is_refused)
{
	struct ik_topo tp;

	load(&tp, XEON);
	cr_expect_eq(ik_bind_self(&tp, 0), -EOPNOTSUPP);
	ik_topo_free(&tp);
}

static void classes(const char *synthetic, struct ik_class_pair out[])
{
	struct ik_topo tp;

	load(&tp, synthetic);
	cr_assert_eq(ik_topo_classes(&tp, out), 0);
	ik_topo_free(&tp);
}

#define EXPECT_CLASS(out, c, a, b)                                             \
	do {                                                                   \
		cr_expect((out)[c].present, "%s missing", ik_class_key(c));    \
		cr_expect((out)[c].cpu[0] == (a) && (out)[c].cpu[1] == (b),    \
			  "%s: got %d,%d", ik_class_key(c), (out)[c].cpu[0],   \
			  (out)[c].cpu[1]);                                    \
	} while (0)

Test(classes, xeon_has_smt_and_shared_l3_only)
{
	struct ik_class_pair c[IK_NCLASSES];

	classes(XEON, c);
	EXPECT_CLASS(c, IK_CLASS_SAME_PU, 0, 0);
	EXPECT_CLASS(c, IK_CLASS_SMT, 0, 4);
	EXPECT_CLASS(c, IK_CLASS_SHARED_L3, 0, 1);
	cr_expect_not(c[IK_CLASS_SHARED_L2].present);
	cr_expect_not(c[IK_CLASS_SAME_PACKAGE].present);
	cr_expect_not(c[IK_CLASS_CROSS_PACKAGE].present);
	cr_expect_not(c[IK_CLASS_CROSS_NUMA].present);
}

Test(classes, two_packages_two_numa_nodes)
{
	struct ik_class_pair c[IK_NCLASSES];

	classes("pack:2 [numa] l3:1 l2:2 core:1 pu:2", c);
	EXPECT_CLASS(c, IK_CLASS_SMT, 0, 1);
	EXPECT_CLASS(c, IK_CLASS_SHARED_L3, 0, 2);
	EXPECT_CLASS(c, IK_CLASS_CROSS_PACKAGE, 0, 4);
	EXPECT_CLASS(c, IK_CLASS_CROSS_NUMA, 0, 4);
	cr_expect_not(c[IK_CLASS_SAME_PACKAGE].present);
}

Test(classes, chiplets_have_several_l3_in_one_package)
{
	struct ik_class_pair c[IK_NCLASSES];

	classes("pack:1 l3:4 l2:4 core:1 pu:2", c);
	EXPECT_CLASS(c, IK_CLASS_SMT, 0, 1);
	EXPECT_CLASS(c, IK_CLASS_SHARED_L3, 0, 2);
	EXPECT_CLASS(c, IK_CLASS_SAME_PACKAGE, 0, 8);
	cr_expect_not(c[IK_CLASS_CROSS_PACKAGE].present);
}

Test(classes, numa_nodes_inside_one_package)
{
	struct ik_class_pair c[IK_NCLASSES];

	/* sub-NUMA clustering: two nodes, each with its own L3 */
	classes("pack:1 [numa] group:2 [numa] l3:1 core:4 pu:1", c);
	EXPECT_CLASS(c, IK_CLASS_SHARED_L3, 0, 1);
	EXPECT_CLASS(c, IK_CLASS_SAME_PACKAGE, 0, 4);
	EXPECT_CLASS(c, IK_CLASS_CROSS_NUMA, 0, 4);
}

Test(classes, hundreds_of_cpus_classify, .timeout = 10)
{
	struct ik_class_pair c[IK_NCLASSES];

	classes("pack:4 [numa] l3:4 l2:8 core:1 pu:2", c); /* 256 PUs */
	for (int k = 0; k < IK_NCLASSES; k++)
		if (k != IK_CLASS_SHARED_L2)
			cr_expect(c[k].present, "%s missing",
				  ik_class_key((enum ik_class)k));
	EXPECT_CLASS(c, IK_CLASS_CROSS_PACKAGE, 0, 64);
}
