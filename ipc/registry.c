/* SPDX-License-Identifier: MIT */
/*
 * The registry: ik_transports[], ik_transport_find and README.md's method
 * table, all from the one list in ipc/methods.def.
 */
#include <stdio.h>
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

/* Markdown table text: a | would end the cell. */
static void cell(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s, f);
}

int ik_transports_markdown(FILE *f)
{
	const struct ik_transport_ops *const *t, *const *u;

	fprintf(f, "| method | what moves the message |\n| --- | --- |\n");
	for (t = ik_transports; *t; t = u) {
		/* the methods after t without a doc of their own share its
		 * row; a test-only method has none */
		for (u = t + 1; *u && !(*u)->doc && !((*u)->flags & IK_T_TEST);
		     u++)
			;
		if (!(*t)->doc)
			continue;
		fprintf(f, "| `%s`", (*t)->name);
		for (const struct ik_transport_ops *const *o = t + 1; o < u;
		     o++)
			fprintf(f, ", `%s`", (*o)->name);
		fputs(" | ", f);
		cell(f, (*t)->doc);
		fputs(" |\n", f);
	}
	return ferror(f) ? -EIO : 0;
}
