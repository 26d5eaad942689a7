/* SPDX-License-Identifier: MIT */
/*
 * The group kernel's two files: kernels/group.c runs the parties and
 * says how its options combine; kernels/group_ops.c is its part of the
 * reports and its struct ik_kernel_ops (one file would pass 1300 lines).
 */
#ifndef IK_GROUP_H
#define IK_GROUP_H

#include "kernels.h"
#include "view.h"

/* struct ik_kernel_ops's validate and pool for the group kernel */
int ik_group_validate(const struct ik_config *c, const struct ik_sweep *sw,
		      char *msg, size_t len);
void ik_group_pool(struct ik_result *dst, const struct ik_result *src,
		   unsigned r);

#endif
