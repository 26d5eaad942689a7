/* SPDX-License-Identifier: MIT */
/*
 * The one list of methods, in --list order: the floor first, then shared
 * memory, then the kernel's wait primitives, then fds, then sockets.
 * A new method is one file in ipc/, one line here and one in CMakeLists.
 */
#include <string.h>

#include "ipc.h"

extern const struct ik_transport_ops ik_line_ops, ik_spsc_ops, ik_futex_ops,
	ik_condvar_ops, ik_sem_ops, ik_eventfd_ops, ik_pipe_ops, ik_mq_ops,
	ik_uds_ops, ik_uds_dgram_ops, ik_tcp_ops, ik_io_uring_ops,
	ik_line_delay_ops;

const struct ik_transport_ops *const ik_transports[] = {
	&ik_line_ops, &ik_spsc_ops,	 &ik_futex_ops, &ik_condvar_ops,
	&ik_sem_ops,  &ik_eventfd_ops,	 &ik_pipe_ops,	&ik_mq_ops,
	&ik_uds_ops,  &ik_uds_dgram_ops, &ik_tcp_ops,	&ik_io_uring_ops,
	&ik_line_delay_ops, /* test only */
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
