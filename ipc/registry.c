/* SPDX-License-Identifier: MIT */
/*
 * The registry: ik_transports[] and ik_transport_find, both from the one
 * list in ipc/methods.def.
 */
#include <string.h>

#include "ipc.h"

#define IK_METHOD(m) extern const struct ik_transport_ops ik_##m##_ops;
#include "methods.def"
#undef IK_METHOD

const struct ik_transport_ops *const ik_transports[] = {
#define IK_METHOD(m) &ik_##m##_ops,
#include "methods.def"
#undef IK_METHOD
	NULL,
};

const struct ik_transport_ops *ik_transport_find(const char *name)
{
	const struct ik_transport_ops *const *t;

	for (t = ik_transports; *t; t++)
		if (!strcmp((*t)->name, name))
			return *t;
	return NULL;
}
