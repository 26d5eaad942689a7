/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the command line. The input is split at NUL bytes
 * into argv (at most 48 words); any words must parse to a plan, an
 * action or a refusal that says why, never crash, hang or leak. The parser
 * runs in process, so this reaches every option's row, every kind's
 * parser and every cross-option check without a fork.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static struct ik_plan plan;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[50] = {"ipckern"}, *s = malloc(size + 1), *p;
	int argc = 1;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	for (p = s; p < s + size && argc < 49; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	/* a refusal says why (it quotes the words, line breaks and all) */
	if (ik_cli_parse(&plan, argc, argv) < 0 && !plan.err[0])
		abort();
	free(s);
	return 0;
}
