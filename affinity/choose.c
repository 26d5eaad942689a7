/* SPDX-License-Identifier: MIT */
/*
 * Choosing pairs among the chosen CPUs (struct ik_topo): the default
 * pair for --pin auto and one representative pair per class for
 * --classes, classified the way classify.c classifies a pair.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "affinity.h"
#include "tree.h"

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
	hwloc_obj_t s = ik_shared_by(anc);

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
		node = ik_local_numa(pus[i]);
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
