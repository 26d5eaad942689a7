/* SPDX-License-Identifier: MIT */
/*
 * The kernels --kernel can run, from the one list in kernels/kernels.def
 * (in enum ik_kernel's order, which is also --help's). Everything about
 * a kernel lives in its own file, in its struct ik_kernel_ops.
 */
#include <string.h>

#include "kernels.h"

const struct ik_kernel_ops *const ik_kernels[IK_NKERNELS] = {
#define IK_KERNEL(N, n) [IK_KERNEL_##N] = &ik_kernel_##n,
#include "kernels.def"
#undef IK_KERNEL
};

const struct ik_kernel_ops *ik_kernel_find(const char *name)
{
	unsigned k;

	for (k = 0; name && k < IK_NKERNELS; k++)
		if (!strcmp(name, ik_kernels[k]->name))
			return ik_kernels[k];
	return NULL;
}

const char *ik_kernel_name(unsigned id)
{
	return id < IK_NKERNELS ? ik_kernels[id]->name : NULL;
}
