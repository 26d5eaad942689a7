/* SPDX-License-Identifier: MIT */
/*
 * Pair classification walks hwloc's tree: the deepest object two PUs
 * have in common says what they share. NUMA nodes hang off the tree as
 * memory children in hwloc 2, so "different NUMA nodes" compares the PUs'
 * nearest nodes and is reported beside the cache relation, not instead.
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

	return ik_topo_load_why(tp, xml, why, sizeof(why));
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
static hwloc_bitmap_t choose_from(const struct ik_topo *tp)
{
	hwloc_bitmap_t c = hwloc_bitmap_dup(tp->allowed);
	hwloc_bitmap_t mine = hwloc_bitmap_alloc(), iso = hwloc_bitmap_alloc();
	char line[1024] = "";
	FILE *f;

	if (!c || !mine || !iso || !tp->this_system ||
	    hwloc_get_cpubind(tp->t, mine, HWLOC_CPUBIND_PROCESS))
		goto out;
	if ((f = fopen("/sys/devices/system/cpu/isolated", "re"))) {
		if (fgets(line, sizeof(line), f))
			line[strcspn(line, "\n")] = 0;
		fclose(f);
	}
	if (line[0] && hwloc_bitmap_list_sscanf(iso, line))
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

int ik_topo_load_why(struct ik_topo *tp, const char *xml, char *why, size_t len)
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
	tp->chosen = choose_from(tp);
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
static hwloc_obj_t local_numa(hwloc_obj_t pu)
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
static hwloc_obj_t shared_by(hwloc_obj_t anc)
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
	na = local_numa(pa);
	nb = local_numa(pb);
	out->numa[0] = na ? (int)na->os_index : -1;
	out->numa[1] = nb ? (int)nb->os_index : -1;
	out->cross_numa = na && nb && na != nb;
	if (pa == pb) {
		out->rel = IK_REL_SAME_PU;
		return 0;
	}
	/* a Group or Die in common says nothing itself: what holds it does */
	anc = shared_by(hwloc_get_common_ancestor_obj(tp->t, pa, pb));
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

int ik_topo_default_pair(const struct ik_topo *tp, int out[2])
{
	enum ik_relation want[] = {IK_REL_SHARED_L2, IK_REL_SHARED_L3,
				   IK_REL_SAME_PACKAGE, IK_REL_CROSS_PACKAGE,
				   IK_REL_SMT};
	int first = hwloc_bitmap_first(tp->chosen);
	struct ik_pair p;
	unsigned w;
	int b;

	if (first < 0)
		return -ENOENT;
	/* the first allowed CPU and the closest other core's first PU */
	for (w = 0; w < sizeof(want) / sizeof(want[0]); w++)
		hwloc_bitmap_foreach_begin(b, tp->chosen)
		{
			if (b != first &&
			    ik_topo_classify(tp, first, b, &p) == 0 &&
			    p.rel == want[w]) {
				out[0] = first;
				out[1] = b;
				return 0;
			}
		}
	hwloc_bitmap_foreach_end();
	out[0] = out[1] = first;
	return 0;
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

static const char *const class_keys[IK_NCLASSES] = {
	[IK_CLASS_SAME_PU] = "same-pu",
	[IK_CLASS_SMT] = "smt",
	[IK_CLASS_SHARED_L2] = "shared-l2",
	[IK_CLASS_SHARED_L3] = "shared-l3",
	[IK_CLASS_SAME_PACKAGE] = "same-package",
	[IK_CLASS_CROSS_PACKAGE] = "cross-package",
	[IK_CLASS_CROSS_NUMA] = "cross-numa",
};

const char *ik_class_key(enum ik_class c)
{
	return class_keys[c];
}

/*
 * --classes wants, for each class, the lowest pair (a, b), a < b, of
 * allowed CPUs of that class. Classifying every pair costs n^2 walks to
 * a common ancestor, each after a PU lookup that scans n PUs: 55 s for
 * 4,096 PUs. Instead: the CPUs b whose common ancestor with a is anc are
 * the ones under anc's other children, and which class (a, b) falls in
 * depends on anc alone, and on whether a Package lies between b and anc
 * (only when anc is no core or cache). So each object keeps the largest
 * usable os_index under it (two of them: with and without a Package on
 * the way up) and the largest under its siblings; "is there a b > a of
 * this class" is one comparison per ancestor of a, and only the first a
 * of each class searches subtrees for its smallest b. Linear in the
 * number of objects, and the same answers as classifying every pair.
 */
struct cls {
	hwloc_topology_t t;
	unsigned *base;	    /* per depth: the slot of its first object */
	int (*mx)[2];	    /* per object: the largest usable os_index under
			     * it with no Package [0] or a Package [1] between
			     * the PU and it (inclusive); -1 none */
	int (*sib)[2];	    /* per object: the same over its siblings */
	unsigned char *use; /* per PU: allowed, and the first PU of its
			     * os_index (as hwloc_get_pu_obj_by_os_index) */
};

static size_t slot(const struct cls *c, hwloc_obj_t o)
{
	return c->base[o->depth] + o->logical_index;
}

static int max2(int a, int b)
{
	return a > b ? a : b;
}

/* The largest os_index figures, children before parents (deepest first). */
static void cls_fill(struct cls *c, int depth)
{
	int d;
	unsigned i, j;

	for (d = depth - 1; d >= 0; d--) {
		unsigned nb = (unsigned)hwloc_get_nbobjs_by_depth(c->t, d);

		for (i = 0; i < nb; i++) {
			hwloc_obj_t o = hwloc_get_obj_by_depth(c->t, d, i);
			int *m = c->mx[slot(c, o)];

			m[0] = m[1] = -1;
			if (o->type == HWLOC_OBJ_PU && c->use[o->logical_index])
				m[0] = (int)o->os_index;
			for (j = 0; j < o->arity; j++) {
				int *cm = c->mx[slot(c, o->children[j])];

				m[0] = max2(m[0], cm[0]);
				m[1] = max2(m[1], cm[1]);
			}
			if (o->type == HWLOC_OBJ_PACKAGE) {
				m[1] = max2(m[0], m[1]);
				m[0] = -1;
			}
		}
	}
	/* siblings: a prefix pass, then a suffix pass, per parent */
	for (d = 0; d < depth; d++) {
		unsigned nb = (unsigned)hwloc_get_nbobjs_by_depth(c->t, d);

		if (d == 0)
			c->sib[0][0] = c->sib[0][1] = -1;
		for (i = 0; i < nb; i++) {
			hwloc_obj_t o = hwloc_get_obj_by_depth(c->t, d, i);
			int run[2] = {-1, -1}, k;

			for (j = 0; j < o->arity; j++) {
				size_t ch = slot(c, o->children[j]);

				for (k = 0; k < 2; k++) {
					c->sib[ch][k] = run[k];
					run[k] = max2(run[k], c->mx[ch][k]);
				}
			}
			run[0] = run[1] = -1;
			for (j = o->arity; j-- > 0;) {
				size_t ch = slot(c, o->children[j]);

				for (k = 0; k < 2; k++) {
					c->sib[ch][k] =
						max2(c->sib[ch][k], run[k]);
					run[k] = max2(run[k], c->mx[ch][k]);
				}
			}
		}
	}
}

/*
 * The smallest usable os_index above a under o, among the CPUs with
 * (pkg 1) or without (pkg 0) a Package between them and o; -1 if none.
 */
static int cls_smallest(const struct cls *c, hwloc_obj_t o, int pkg, int a)
{
	int best = -1, b, k;
	unsigned j;

	if (c->mx[slot(c, o)][pkg] <= a)
		return -1;
	if (o->type == HWLOC_OBJ_PU)
		return (int)o->os_index;
	for (j = 0; j < o->arity; j++)
		for (k = 0; k < 2; k++) {
			/* below a Package, every CPU has one on its way */
			if (k != pkg && !(pkg && o->type == HWLOC_OBJ_PACKAGE))
				continue;
			b = cls_smallest(c, o->children[j], k, a);
			if (b >= 0 && (best < 0 || b < best))
				best = b;
		}
	return best;
}

/* The class of (a, b) whose common ancestor is anc; see ik_topo_classify */
static enum ik_class cls_of(hwloc_obj_t anc, hwloc_obj_t pkg_a, int pkg_b)
{
	hwloc_obj_t s = shared_by(anc);

	if (s->type == HWLOC_OBJ_CORE)
		return IK_CLASS_SMT;
	if (hwloc_obj_type_is_cache(s->type))
		return s->attr->cache.depth <= 2 ? IK_CLASS_SHARED_L2
						 : IK_CLASS_SHARED_L3;
	/* b's package is anc's nearest (pkg_b 0) or one below anc; a's is
	 * the same one exactly when it sits at or above anc */
	if (!pkg_b && (!pkg_a || pkg_a->depth <= anc->depth))
		return IK_CLASS_SAME_PACKAGE;
	return IK_CLASS_CROSS_PACKAGE;
}

static int by_os_index(const void *x, const void *y)
{
	hwloc_obj_t a = *(hwloc_obj_t const *)x, b = *(hwloc_obj_t const *)y;

	return (a->os_index > b->os_index) - (a->os_index < b->os_index);
}

/*
 * Different NUMA nodes, pus sorted by os_index: for each a, the first
 * later PU on a node at all, and the first on another node than that
 * one's, say where the smallest b on another node than a's is.
 */
static void cls_numa(hwloc_obj_t *pus, unsigned m,
		     struct ik_class_pair out[IK_NCLASSES])
{
	hwloc_obj_t node, next_node = NULL;
	int next = -1, other = -1, b;
	unsigned i = m;

	/* right to left: the last a that has a b is the lowest */
	while (i-- > 0) {
		node = local_numa(pus[i]);
		if (!node)
			continue;
		b = next >= 0 && next_node != node ? next : other;
		if (b >= 0)
			out[IK_CLASS_CROSS_NUMA] = (struct ik_class_pair){
				.present = true,
				.cpu = {(int)pus[i]->os_index, b}};
		/* for the PUs before i: i is the next with a node, and b
		 * the first after it on another node */
		other = b;
		next = (int)pus[i]->os_index;
		next_node = node;
	}
}

int ik_topo_classes(const struct ik_topo *tp,
		    struct ik_class_pair out[IK_NCLASSES])
{
	int depth = hwloc_topology_get_depth(tp->t), first, d, a, b;
	unsigned npu = (unsigned)hwloc_get_nbobjs_by_type(tp->t, HWLOC_OBJ_PU);
	struct cls c = {.t = tp->t};
	hwloc_obj_t *pus = NULL, o = NULL;
	hwloc_bitmap_t seen = hwloc_bitmap_alloc();
	unsigned i, j, m = 0, found, total = 0;
	int ret = -ENOMEM;

	memset(out, 0, IK_NCLASSES * sizeof(*out));
	first = hwloc_bitmap_first(tp->chosen);
	if (first < 0) {
		hwloc_bitmap_free(seen);
		return -ENOENT;
	}
	out[IK_CLASS_SAME_PU] =
		(struct ik_class_pair){.present = true, .cpu = {first, first}};
	found = 1;
	c.base = calloc((size_t)depth, sizeof(*c.base));
	for (d = 0; c.base && d < depth; d++) {
		c.base[d] = total;
		total += (unsigned)hwloc_get_nbobjs_by_depth(tp->t, d);
	}
	c.mx = calloc(total, sizeof(*c.mx));
	c.sib = calloc(total, sizeof(*c.sib));
	c.use = calloc(npu ? npu : 1, 1);
	pus = calloc(npu ? npu : 1, sizeof(*pus));
	if (!seen || !c.base || !c.mx || !c.sib || !c.use || !pus)
		goto out;
	while ((o = hwloc_get_next_obj_by_type(tp->t, HWLOC_OBJ_PU, o))) {
		if (hwloc_bitmap_isset(seen, o->os_index))
			continue;
		hwloc_bitmap_set(seen, o->os_index);
		if (!hwloc_bitmap_isset(tp->chosen, o->os_index))
			continue;
		c.use[o->logical_index] = 1;
		pus[m++] = o;
	}
	qsort(pus, m, sizeof(*pus), by_os_index);
	cls_fill(&c, depth);
	/* lowest a first: the first a with a class's b is the answer;
	 * every class but cross-NUMA (below) comes from the tree */
	for (i = 0; i < m && found < IK_CLASS_CROSS_NUMA; i++) {
		hwloc_obj_t pa = pus[i], child, anc;
		hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(
			tp->t, HWLOC_OBJ_PACKAGE, pa);
		int best[IK_NCLASSES], k;
		enum ik_class cl;

		a = (int)pa->os_index;
		for (k = 0; k < IK_NCLASSES; k++)
			best[k] = -1;
		for (child = pa, anc = pa->parent; anc;
		     child = anc, anc = anc->parent)
			for (k = 0; k < 2; k++) {
				cl = cls_of(anc, pkg, k);
				if (out[cl].present ||
				    c.sib[slot(&c, child)][k] <= a)
					continue;
				for (j = 0; j < anc->arity; j++) {
					if (anc->children[j] == child)
						continue;
					b = cls_smallest(&c, anc->children[j],
							 k, a);
					if (b >= 0 &&
					    (best[cl] < 0 || b < best[cl]))
						best[cl] = b;
				}
			}
		for (k = 0; k < IK_NCLASSES; k++)
			if (best[k] >= 0) {
				out[k] = (struct ik_class_pair){
					.present = true, .cpu = {a, best[k]}};
				found++;
			}
	}
	cls_numa(pus, m, out);
	ret = 0;
out:
	hwloc_bitmap_free(seen);
	free(c.base);
	free(c.mx);
	free(c.sib);
	free(c.use);
	free(pus);
	return ret;
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
	snprintf(buf, len,
		 "%d package(s), %d core(s), %d PU(s), SMT %s, %d "
		 "NUMA node(s); this process may use CPUs %s",
		 pkgs, cores, pus, pus > cores ? "on" : "off", nodes, allowed);
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
