/* SPDX-License-Identifier: MIT */
/*
 * Prints README.md's option table from cli/table.c; test_options fails
 * when the README's copy is stale. Regenerate the block between the
 * "options table" markers with: build/ik-options-md
 */
#include <stdio.h>

#include "cli/cli.h"

int main(void)
{
	ik_cli_options_markdown(stdout);
	return fflush(stdout) || ferror(stdout) ? 3 : 0;
}
