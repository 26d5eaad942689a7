/* SPDX-License-Identifier: MIT */
/*
 * The kernel registry (kernels/kernels.def): every kernel is complete,
 * as the layers above read it only through its ops (name, summary and
 * help for the CLI, run, the report hooks), and the options it says it
 * takes are rows of the option table marked kernel-specific, each taken
 * by some kernel.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <string.h>

#include "cli/cli.h"

static const struct ik_option *row(const char *name)
{
	const struct ik_option *o;

	for (o = ik_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

Test(kernels, every_kernel_has_its_name_run_and_report_hooks)
{
	unsigned k;

	for (k = 0; k < IK_NKERNELS; k++) {
		const struct ik_kernel_ops *ko = ik_kernels[k];

		cr_assert(ko, "kernel %u is not registered", k);
		cr_expect_eq(ko->id, (enum ik_kernel)k, "%s", ko->name);
		cr_expect(ko->name && ko->name[0], "kernel %u has no name", k);
		cr_expect_eq(ik_kernel_find(ko->name), ko, "%s", ko->name);
		cr_expect(ko->summary && ko->summary[0], "%s", ko->name);
		/* --help formats it: a '%' would be read as a conversion */
		cr_expect(ko->help && !strchr(ko->help, '%'), "%s", ko->name);
		cr_expect(ko->run, "%s has no run", ko->name);
		cr_expect(ko->title && ko->table, "%s: no table", ko->name);
		cr_expect(ko->json_cell && ko->json_measured, "%s: no JSON",
			  ko->name);
	}
}

Test(kernels, every_option_a_kernel_takes_is_a_kernel_specific_row)
{
	const char *const *n;
	unsigned k;

	for (k = 0; k < IK_NKERNELS; k++)
		for (n = ik_kernels[k]->options; n && *n; n++) {
			const struct ik_option *o = row(*n);

			cr_expect(o, "%s takes --%s, which is no option",
				  ik_kernels[k]->name, *n);
			cr_expect(o && (o->flags & IK_OPTF_KERNEL),
				  "%s takes --%s, a row common to all",
				  ik_kernels[k]->name, *n);
			cr_expect(o && (ik_cli_option_kernels(o) & 1u << k),
				  "--%s", *n);
		}
}

Test(kernels, every_kernel_specific_row_is_taken_by_some_kernel)
{
	const struct ik_option *o;

	for (o = ik_options; o->name; o++)
		if (o->flags & IK_OPTF_KERNEL)
			cr_expect(ik_cli_option_kernels(o), "--%s: no kernel",
				  o->name);
		else
			cr_expect_eq(ik_cli_option_kernels(o), 0, "--%s",
				     o->name);
}
