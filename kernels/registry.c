/* SPDX-License-Identifier: MIT */
/*
 * The kernels --kernel can run: one line each, in enum ik_kernel's
 * order, which is also --help's. A kernel's name, summary and entry point
 * live in its own file (its struct ik_kernel_ops); this is the only list
 * of them.
 */
#include <string.h>

#include "kernels.h"

const struct ik_kernel_ops *const ik_kernels[IK_NKERNELS] = {
	[IK_KERNEL_PINGPONG] = &ik_kernel_pingpong,
	[IK_KERNEL_STREAM] = &ik_kernel_stream,
	[IK_KERNEL_CALL] = &ik_kernel_call,
	[IK_KERNEL_ECHO] = &ik_kernel_echo,
	[IK_KERNEL_CONNECT] = &ik_kernel_connect,
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
