/* SPDX-License-Identifier: MIT */
/*
 * Prints README.md's method table from each method's .doc (ipc/<method>.c,
 * in ipc/methods.def's order); test_methods fails when the README's copy
 * is stale. Regenerate the block between the "methods table" markers
 * with: build/ik-methods-md
 */
#include <stdio.h>

#include "ipc/ipc.h"

int main(void)
{
	int ret = ik_transports_markdown(stdout);

	return ret || fflush(stdout) || ferror(stdout) ? 3 : 0;
}
