/* SPDX-License-Identifier: MIT */
/*
 * Private to affinity/: the two walks of hwloc's tree that classifying a
 * pair (classify.c) and choosing one pair per class (choose.c) share, so
 * both give a pair the same class.
 */
#ifndef IK_AFFINITY_TREE_H
#define IK_AFFINITY_TREE_H

#include <hwloc.h>

/* The NUMA node nearest pu: the first attached on the way up; or NULL. */
hwloc_obj_t ik_local_numa(hwloc_obj_t pu);

/*
 * What two PUs whose common ancestor is anc share: anc, or above a Group
 * or Die the nearest Core, cache or Package.
 */
hwloc_obj_t ik_shared_by(hwloc_obj_t anc);

#endif
