/* SPDX-License-Identifier: MIT */
/*
 * Pair classification on hwloc synthetic topologies, so machines we do
 * not have (SMT, several packages, several L3s) are checked here too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* cpu_set_t */
#endif
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "affinity/affinity.h"
#include "ik.h"

#ifndef IK_TESTDATA
#error "IK_TESTDATA: the test data folder, set by tests/CMakeLists.txt"
#endif

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

/* QEMU's big guest (scripts/vm big): a node's Group inside each L3 */
#define NODES_IN_L3 "pack:2 l3:1 group:2 [numa] l2:4 core:1 pu:2"

Test(topology, cores_under_a_group_inside_an_l3_share_it)
{
	bool cross;

	cr_expect_eq(rel(NODES_IN_L3, 0, 2, &cross), IK_REL_SHARED_L3);
	cr_expect_not(cross);
	cr_expect_eq(rel(NODES_IN_L3, 0, 8, &cross), IK_REL_SHARED_L3);
	cr_expect(cross);
	cr_expect_eq(rel(NODES_IN_L3, 0, 16, NULL), IK_REL_CROSS_PACKAGE);
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

Test(topology, a_cpu_outside_the_cpuset_is_refused)
{
	struct ik_topo tp;

	cr_assert_eq(ik_topo_load(&tp, IK_TESTDATA "/xeon-cpu0-disallowed.xml"),
		     0);
	cr_expect_eq(ik_topo_check_cpu(&tp, 0), -EPERM);
	cr_expect_eq(ik_topo_check_cpu(&tp, 1), 0);
	ik_topo_free(&tp);
}

/*
 * This machine's topology from here on (no synthetic one), and the
 * first CPU of the mask we started with (*had); skips the test with
 * fewer than two CPUs.
 */
static int this_machine(cpu_set_t *had)
{
	int cpu;

	unsetenv("HWLOC_SYNTHETIC");
	unsetenv("HWLOC_XMLFILE");
	cr_assert_eq(sched_getaffinity(0, sizeof(*had), had), 0);
	if (CPU_COUNT(had) < 2)
		cr_skip_test("needs two CPUs");
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, had))
			break;
	return cpu;
}

/*
 * isolcpus keeps isolated CPUs out of every task's affinity mask, and
 * taskset narrows it: neither is a limit on pinning (issue 13). Started
 * on one CPU, every CPU of the mask we had is still ours to pin to.
 */
Test(topology, the_start_mask_does_not_limit_what_may_be_pinned)
{
	cpu_set_t had, one;
	struct ik_topo tp;
	int cpu, first;

	first = this_machine(&had);
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	cr_assert_eq(ik_topo_load(&tp, NULL), 0);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &had)) {
			cr_expect_eq(ik_topo_check_cpu(&tp, cpu), 0, "CPU %d",
				     cpu);
			cr_expect_eq(ik_bind_self(&tp, cpu), 0, "CPU %d", cpu);
		}
	ik_topo_free(&tp);
}

/*
 * In a single-threaded child (hwloc reads the process's binding: the
 * union over its threads), started on first only: 0 when chosen is
 * {first} with no isolated CPUs and everything allowed once every other
 * allowed CPU is isolated; else the step that failed.
 */
static int chosen_by_isolated(int first)
{
	struct ik_topo tp;
	char why[512], iso[256];
	cpu_set_t one;
	int ret = 0;

	CPU_ZERO(&one);
	CPU_SET(first, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return 1;
	/* no isolated CPUs: the mask of one is the user's */
	if (ik_topo_load_why(&tp, NULL, "none", why, sizeof(why)))
		return 2;
	if (hwloc_bitmap_weight(tp.chosen) != 1 ||
	    !hwloc_bitmap_isset(tp.chosen, (unsigned)first))
		ret = 3;
	/* every other allowed CPU isolated: the mask is isolcpus' own */
	hwloc_bitmap_copy(tp.chosen, tp.allowed);
	hwloc_bitmap_clr(tp.chosen, (unsigned)first);
	hwloc_bitmap_list_snprintf(iso, sizeof(iso), tp.chosen);
	ik_topo_free(&tp);
	if (ret)
		return ret;
	if (ik_topo_load_why(&tp, NULL, iso, why, sizeof(why)))
		return 4;
	ret = hwloc_bitmap_isequal(tp.chosen, tp.allowed) ? 0 : 5;
	ik_topo_free(&tp);
	return ret;
}

/*
 * Automatic choices stay inside a start mask the user narrowed (taskset),
 * but not inside the kernel's isolcpus default, which leaves out exactly
 * the isolated CPUs: the list the caller read is what tells them apart.
 */
Test(topology, isolated_cpus_passed_in_widen_where_choices_look,
     .timeout = 10.0)
{
	cpu_set_t had;
	int first, st;
	pid_t pid;

	first = this_machine(&had);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(chosen_by_isolated(first));
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "step %d failed (status %#x)", WEXITSTATUS(st), st);
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

Test(classes, a_group_inside_an_l3_hides_no_same_package_pair)
{
	struct ik_class_pair out[IK_NCLASSES];

	classes(NODES_IN_L3, out);
	EXPECT_CLASS(out, IK_CLASS_SHARED_L3, 0, 2);
	cr_expect_not(out[IK_CLASS_SAME_PACKAGE].present, "same-package %d,%d",
		      out[IK_CLASS_SAME_PACKAGE].cpu[0],
		      out[IK_CLASS_SAME_PACKAGE].cpu[1]);
	EXPECT_CLASS(out, IK_CLASS_CROSS_PACKAGE, 0, 16);
	EXPECT_CLASS(out, IK_CLASS_CROSS_NUMA, 0, 8);
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

/* The definition --classes keeps: the lowest pair of each class among
 * every pair ik_topo_classify sees, the way it was first computed. */
static void classes_by_pairs(const struct ik_topo *tp,
			     struct ik_class_pair out[IK_NCLASSES])
{
	static const enum ik_class of_rel[] = {
		[IK_REL_SAME_PU] = IK_CLASS_SAME_PU,
		[IK_REL_SMT] = IK_CLASS_SMT,
		[IK_REL_SHARED_L2] = IK_CLASS_SHARED_L2,
		[IK_REL_SHARED_L3] = IK_CLASS_SHARED_L3,
		[IK_REL_SAME_PACKAGE] = IK_CLASS_SAME_PACKAGE,
		[IK_REL_CROSS_PACKAGE] = IK_CLASS_CROSS_PACKAGE,
	};
	int a, b, first = hwloc_bitmap_first(tp->allowed);

	memset(out, 0, IK_NCLASSES * sizeof(*out));
	out[IK_CLASS_SAME_PU] =
		(struct ik_class_pair){.present = true, .cpu = {first, first}};
	hwloc_bitmap_foreach_begin(a, tp->allowed)
	{
		hwloc_bitmap_foreach_begin(b, tp->allowed)
		{
			struct ik_pair p;
			enum ik_class c;

			if (b <= a || ik_topo_classify(tp, a, b, &p))
				continue;
			c = of_rel[p.rel];
			if (!out[c].present)
				out[c] = (struct ik_class_pair){.present = true,
								.cpu = {a, b}};
			c = IK_CLASS_CROSS_NUMA;
			if (p.cross_numa && !out[c].present)
				out[c] = (struct ik_class_pair){.present = true,
								.cpu = {a, b}};
		}
		hwloc_bitmap_foreach_end();
	}
	hwloc_bitmap_foreach_end();
}

/* ik_topo_classes against every pair, on all CPUs and on subsets. */
static void expect_classes_as_pairs(struct ik_topo *tp, const char *name)
{
	hwloc_bitmap_t all = hwloc_bitmap_dup(tp->allowed);
	unsigned seed = 1;
	int cpu, t, k;

	for (t = 0; t < 12; t++) {
		struct ik_class_pair want[IK_NCLASSES], got[IK_NCLASSES];

		hwloc_bitmap_copy(tp->allowed, all);
		/* then taskset-like holes: drop about a third of the CPUs */
		hwloc_bitmap_foreach_begin(cpu, all)
		{
			seed = seed * 1103515245 + 12345;
			if (t && (seed >> 16) % 3 == 0)
				hwloc_bitmap_clr(tp->allowed, (unsigned)cpu);
		}
		hwloc_bitmap_foreach_end();
		if (hwloc_bitmap_iszero(tp->allowed))
			continue;
		/* automatic choices look at chosen: the same holes there */
		hwloc_bitmap_copy(tp->chosen, tp->allowed);
		classes_by_pairs(tp, want);
		cr_assert_eq(ik_topo_classes(tp, got), 0);
		for (k = 0; k < IK_NCLASSES; k++)
			cr_expect(want[k].present == got[k].present &&
					  want[k].cpu[0] == got[k].cpu[0] &&
					  want[k].cpu[1] == got[k].cpu[1],
				  "%s, subset %d, %s: every pair says %d "
				  "(%d,%d), got %d (%d,%d)",
				  name, t, ik_class_key((enum ik_class)k),
				  want[k].present, want[k].cpu[0],
				  want[k].cpu[1], got[k].present, got[k].cpu[0],
				  got[k].cpu[1]);
	}
	hwloc_bitmap_free(all);
}

Test(classes, the_lowest_pair_of_each_class_as_every_pair_says)
{
	static const char *const synthetic[] = {
		XEON,
		"pack:2 [numa] l3:1 l2:2 core:1 pu:2",
		"pack:1 l3:1 l2:2 core:2 pu:1",
		"pack:1 l3:4 l2:4 core:1 pu:2",
		"pack:1 [numa] group:2 [numa] l3:1 core:4 pu:1",
		"pack:4 [numa] l3:2 l2:2 core:1 pu:2",
		"pack:2 [numa] die:2 [numa] l3:2 l2:2 core:2 pu:2",
		"pack:3 l4:2 l3:2 core:2 pu:1",
		"group:2 pack:2 core:2 pu:2",
		"core:4 pu:2",
		"pu:5",
		"pack:2 core:3 pu:3(indexes=17,3,9,1,5,0,2,4,6,8,10,11,12,13,"
		"14,15,16,7)",
	};
	static const char *const xml[] = {"dev-vm.xml",
					  "dies.xml",
					  "no-l3.xml",
					  "two-socket.xml",
					  "xeon-cpu0-disallowed.xml",
					  "xeon-e5-1620.xml"};
	char path[512];
	struct ik_topo tp;
	unsigned i;

	for (i = 0; i < IK_ARRAY_SIZE(synthetic); i++) {
		load(&tp, synthetic[i]);
		expect_classes_as_pairs(&tp, synthetic[i]);
		ik_topo_free(&tp);
	}
	unsetenv("HWLOC_SYNTHETIC");
	for (i = 0; i < IK_ARRAY_SIZE(xml); i++) {
		snprintf(path, sizeof(path), "%s/%s", IK_TESTDATA, xml[i]);
		cr_assert_eq(ik_topo_load(&tp, path), 0, "%s", path);
		expect_classes_as_pairs(&tp, xml[i]);
		ik_topo_free(&tp);
	}
}

/* Pair by pair this took minutes (n^2 pairs, each an O(n) PU lookup). */
Test(classes, thousands_of_cpus_classify_in_one_pass, .timeout = 60)
{
	struct ik_class_pair c[IK_NCLASSES];

	classes("pack:4 [numa] l3:4 l2:16 core:4 pu:8", c); /* 8,192 PUs */
	EXPECT_CLASS(c, IK_CLASS_SMT, 0, 1);
	EXPECT_CLASS(c, IK_CLASS_SHARED_L2, 0, 8);
	EXPECT_CLASS(c, IK_CLASS_SHARED_L3, 0, 32);
	EXPECT_CLASS(c, IK_CLASS_SAME_PACKAGE, 0, 512);
	EXPECT_CLASS(c, IK_CLASS_CROSS_PACKAGE, 0, 2048);
	EXPECT_CLASS(c, IK_CLASS_CROSS_NUMA, 0, 2048);
}

/*
 * Topology inputs: files, their text, the environment. Each hostile one
 * is refused before hwloc parses it, saying what and the bound.
 */
static int check(const char *xml, char *why, size_t len)
{
	return ik_topo_xml_check(xml, strlen(xml), why, len);
}

#define TOPO_HEAD                                                              \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                         \
	"<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n"                          \
	"<topology version=\"2.0\">\n"

/* n nested Groups around one PU, as text */
static char *deep_xml(unsigned n)
{
	static const char open[] = "<object type=\"Group\" cpuset=\"0x1\">",
			  close[] = "</object>";
	size_t len =
		strlen(TOPO_HEAD) + n * (strlen(open) + strlen(close)) + 256;
	char *s = malloc(len), *p = s;
	unsigned i;

	cr_assert_not_null(s);
	p += sprintf(p, "%s", TOPO_HEAD);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s", open);
	p += sprintf(p, "<object type=\"PU\" os_index=\"0\" cpuset=\"0x1\"/>");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s", close);
	sprintf(p, "</topology>\n");
	return s;
}

Test(topology_input, deep_nesting_is_refused_before_hwloc_recurses)
{
	char why[256] = "", *s = deep_xml(20000);

	cr_expect_eq(check(s, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "nested more than 128") != NULL, "%s", why);
	free(s);
	/* <topology> and the PU are two levels of their own */
	s = deep_xml(IK_TOPO_DEPTH_MAX - 2);
	cr_expect_eq(check(s, why, sizeof(why)), 0, "%s", why);
	free(s);
	s = deep_xml(IK_TOPO_DEPTH_MAX - 1);
	cr_expect_eq(check(s, why, sizeof(why)), -EINVAL);
	free(s);
}

Test(topology_input, markup_in_comments_and_attributes_is_not_nesting)
{
	char why[256] = "";
	const char *ok = TOPO_HEAD "<!-- <a><b><c> -->"
				   "<![CDATA[<a><b>]]>"
				   "<info name=\"x\" value=\"<>&lt;\"/>"
				   "<object type='PU' os_index='3'/>"
				   "</topology>";

	cr_expect_eq(check(ok, why, sizeof(why)), 0, "%s", why);
}

Test(topology_input, an_os_index_beyond_the_bound_is_named)
{
	char why[256] = "";

	cr_expect_eq(check(TOPO_HEAD "<object type=\"PU\" "
				     "os_index=\"4294967295\"/></topology>",
			   why, sizeof(why)),
		     -EINVAL);
	cr_expect(strstr(why, "PU os_index 4294967295 is over 16383") != NULL,
		  "%s", why);
	cr_expect_eq(check(TOPO_HEAD "<object type=\"NUMANode\" "
				     "os_index=\"-1\"/></topology>",
			   why, sizeof(why)),
		     -EINVAL, "hwloc would read -1 as 4294967295");
	cr_expect_eq(check(TOPO_HEAD "<object type=\"PU\" "
				     "os_index=\"&#52;&#50;\"/></topology>",
			   why, sizeof(why)),
		     -EINVAL, "a character reference hides the number");
	cr_expect_eq(check(TOPO_HEAD "<object type=\"PU\" "
				     "os_index=\"16383\"/></topology>",
			   why, sizeof(why)),
		     0, "%s", why);
}

Test(topology_input, a_bitmap_reaching_past_the_bound_is_refused)
{
	char why[256] = "";
	char *s = malloc(4096), *p = s;
	unsigned i;

	cr_assert_not_null(s);
	/* the PU at os_index 16383 is the first word of 512 */
	p += sprintf(p, "%s<object type=\"PU\" cpuset=\"0x80000000", TOPO_HEAD);
	for (i = 0; i < 511; i++)
		*p++ = ',';
	sprintf(p, "\"/></topology>");
	cr_expect_eq(check(s, why, sizeof(why)), 0, "%s", why);
	p = strstr(s, "\"/>");
	memmove(p + 1, p, strlen(p) + 1);
	*p = ',';
	cr_expect_eq(check(s, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "cpuset of 513 32-bit words") != NULL, "%s", why);
	/* an infinite set: "0xf...f," before all 512 words */
	p = strstr(s, ",\"/>");
	memmove(p, p + 1, strlen(p + 1) + 1);
	p = strstr(s, "0x80000000");
	memmove(p + 8, p, strlen(p) + 1);
	memcpy(p, "0xf...f,", 8);
	cr_expect_eq(check(s, why, sizeof(why)), 0, "%s", why);
	free(s);
}

Test(topology_input, declarations_and_other_encodings_are_refused)
{
	char why[256] = "";
	static const char utf16[] = "<\0?\0x\0m\0l\0";

	cr_expect_eq(check("<?xml version=\"1.0\"?>\n<!DOCTYPE topology [\n"
			   "<!ATTLIST object os_index CDATA \"4294967295\">\n"
			   "]>\n<topology/>",
			   why, sizeof(why)),
		     -EINVAL);
	cr_expect(strstr(why, "DOCTYPE") != NULL, "%s", why);
	cr_expect_eq(ik_topo_xml_check(utf16, sizeof(utf16), why, sizeof(why)),
		     -EINVAL);
	cr_expect_eq(check("<?xml version=\"1.0\" encoding=\"EBCDIC-US\"?>"
			   "<topology/>",
			   why, sizeof(why)),
		     -EINVAL);
	cr_expect(strstr(why, "EBCDIC-US") != NULL, "%s", why);
	cr_expect_eq(check("not xml", why, sizeof(why)), -EINVAL);
}

static char tmpdir[] = "/tmp/ik-topo-XXXXXX";

static const char *tmp(const char *name)
{
	static char path[128];

	if (strstr(tmpdir, "XXXXXX")) /* once per test: each is a process */
		cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void rm_tmp(const char *name)
{
	unlink(tmp(name));
	rmdir(tmpdir);
}

static int read_xml(const char *path, char *why, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	int ret = ik_topo_read_xml(path, &buf, &n, why, len);

	cr_expect(ret ? buf == NULL : buf != NULL);
	free(buf);
	return ret;
}

/* A regression would block in open() for a writer: the timeout fails it */
Test(topology_input, a_fifo_is_refused_without_waiting, .timeout = 10)
{
	char why[256] = "";

	cr_assert_eq(mkfifo(tmp("fifo"), 0600), 0);
	cr_expect_eq(read_xml(tmp("fifo"), why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "a FIFO, not a regular file") != NULL, "%s", why);
	rm_tmp("fifo");
}

Test(topology_input, devices_and_directories_are_never_read, .timeout = 10)
{
	char why[256] = "";

	cr_expect_eq(read_xml("/dev/zero", why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "a character device") != NULL, "%s", why);
	cr_expect_eq(read_xml("/tmp", why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "a directory") != NULL, "%s", why);
	cr_expect_eq(read_xml("/nonexistent/x.xml", why, sizeof(why)), -ENOENT);
	cr_expect(strstr(why, "cannot open it") != NULL, "%s", why);
}

Test(topology_input, a_file_over_the_cap_is_refused_unread, .timeout = 10)
{
	char why[256] = "";
	int fd = open(tmp("big.xml"), O_CREAT | O_WRONLY | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, IK_TOPO_FILE_MAX + 1), 0); /* sparse */
	close(fd);
	cr_expect_eq(read_xml(tmp("big.xml"), why, sizeof(why)), -EFBIG);
	cr_expect(strstr(why, "over the 32 MiB") != NULL, "%s", why);
	rm_tmp("big.xml");
}

Test(topology_input, a_real_export_is_read_whole)
{
	char *buf = NULL, why[256] = "";
	size_t n = 0;

	cr_assert_eq(ik_topo_read_xml(IK_TESTDATA "/two-socket.xml", &buf, &n,
				      why, sizeof(why)),
		     0, "%s", why);
	cr_expect_eq(n, strlen(buf));
	cr_expect(n > 10000);
	free(buf);
}

Test(topology_input, hwloc_xmlfile_is_read_the_same_way, .timeout = 10)
{
	char why[512] = "";
	struct ik_topo tp;

	unsetenv("HWLOC_SYNTHETIC");
	setenv("HWLOC_XMLFILE", "/dev/zero", 1);
	cr_expect_eq(ik_topo_load_why(&tp, NULL, NULL, why, sizeof(why)),
		     -EINVAL);
	cr_expect(strstr(why, "HWLOC_XMLFILE=/dev/zero: a character") != NULL,
		  "%s", why);
	/* hwloc itself would quietly describe this machine instead */
	setenv("HWLOC_XMLFILE", "/nonexistent/x.xml", 1);
	cr_expect_eq(ik_topo_load_why(&tp, NULL, NULL, why, sizeof(why)),
		     -EINVAL);
	setenv("HWLOC_XMLFILE", IK_TESTDATA "/two-socket.xml", 1);
	cr_assert_eq(ik_topo_load_why(&tp, NULL, NULL, why, sizeof(why)), 0,
		     "%s", why);
	cr_expect_not(tp.this_system);
	cr_expect_eq(hwloc_get_nbobjs_by_type(tp.t, HWLOC_OBJ_PU), 32);
	ik_topo_free(&tp);
}

Test(topology_input, synthetic_descriptions_are_bounded_and_checked)
{
	char why[512] = "";
	struct ik_topo tp;

	setenv("HWLOC_SYNTHETIC", "pack:1000 core:1000 pu:1000", 1);
	cr_expect_eq(ik_topo_load_why(&tp, NULL, NULL, why, sizeof(why)),
		     -EINVAL);
	cr_expect(strstr(why, "more than 16384 PUs") != NULL, "%s", why);
	setenv("HWLOC_SYNTHETIC", "pu:2(indexes=0,4294967295)", 1);
	cr_expect_eq(ik_topo_load_why(&tp, NULL, NULL, why, sizeof(why)),
		     -EINVAL);
	cr_expect(strstr(why, "index 4294967295 is over 16383") != NULL, "%s",
		  why);
	/* hwloc itself would quietly describe this machine instead */
	setenv("HWLOC_SYNTHETIC", "garbage", 1);
	cr_expect_eq(ik_topo_load_why(&tp, NULL, NULL, why, sizeof(why)),
		     -EINVAL);
	cr_expect(strstr(why, "HWLOC_SYNTHETIC 'garbage'") != NULL, "%s", why);
	setenv("HWLOC_SYNTHETIC", "pack:4 l3:4 l2:16 core:4 pu:16", 1);
	cr_expect_eq(ik_topo_load_why(&tp, NULL, NULL, why, sizeof(why)), 0,
		     "%s", why);
	ik_topo_free(&tp);
}

/* Walking an infinite allowed set (root cpuset "0xf...f") never ended */
Test(topology_input, an_infinite_cpuset_is_refused, .timeout = 10)
{
	static const char from[] = "cpuset=\"0x0000000f\" "
				   "complete_cpuset=\"0x0000000f\" "
				   "allowed_cpuset=\"0x0000000f\"";
	char *buf = NULL, why[512] = "", *at;
	struct ik_topo tp;
	size_t n = 0;
	FILE *f;

	cr_assert_eq(ik_topo_read_xml(IK_TESTDATA "/no-l3.xml", &buf, &n, why,
				      sizeof(why)),
		     0, "%s", why);
	at = strstr(buf, from);
	cr_assert_not_null(at);
	f = fopen(tmp("inf.xml"), "w");
	cr_assert_not_null(f);
	fprintf(f,
		"%.*scpuset=\"0xf...f\" complete_cpuset=\"0xf...f\" "
		"allowed_cpuset=\"0xf...f\"%s",
		(int)(at - buf), buf, at + strlen(from));
	fclose(f);
	free(buf);
	cr_expect_eq(
		ik_topo_load_why(&tp, tmp("inf.xml"), NULL, why, sizeof(why)),
		-EINVAL);
	cr_expect(strstr(why, "a CPU set reaching past 16383") != NULL, "%s",
		  why);
	rm_tmp("inf.xml");
}
