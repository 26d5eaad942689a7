/* SPDX-License-Identifier: MIT */
/*
 * Shared memory placement: where ik_shm_node_of says a region's pages
 * are. On a two-node guest (scripts/vm 2s-numa) the page it asked about
 * was sometimes one no peer had touched, and move_pages said -ENOENT:
 * --mem-node reported "unknown" for about one run in three.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <unistd.h>

#include "ipc/ipc.h"

Test(shm, an_untouched_page_still_has_a_node)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *p = ik_shm_alloc(4 * page);
	int node;

	cr_assert_not_null(p);
	node = ik_shm_node_of(p + 2 * page);
	if (node == -ENOSYS)
		cr_skip_test("no NUMA syscalls (move_pages) here");
	cr_expect_geq(node, 0, "got %d", node);
	ik_shm_free(p, 4 * page);
}
