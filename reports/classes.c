/* SPDX-License-Identifier: MIT */
/*
 * --classes: one pair per topology class. The dry run's list of the
 * representative pairs (table, JSON, CSV), and the table's section of
 * methods down, classes across.
 */
#include "writers.h"

json_t *ik_classes_json(const struct ik_class_pair *c)
{
	json_t *a = json_array();
	int k;

	for (k = 0; k < IK_NCLASSES; k++)
		json_array_append_new(
			a,
			json_pack("{s:s,s:b,s:o}", "class",
				  ik_class_key((enum ik_class)k), "present",
				  c[k].present, "cpus",
				  c[k].present ? json_pack("[ii]", c[k].cpu[0],
							   c[k].cpu[1])
					       : json_null()));
	return a;
}

int ik_report_classes(const struct ik_report *r, FILE *f)
{
	const struct ik_class_pair *c = r->classes;
	int k, ret;

	if (r->format == IK_FMT_JSON) {
		json_t *root = json_pack(
			"{s:s,s:s}", "schema", IK_SCHEMA, "topology_source",
			r->topology ? r->topology : "this machine");

		json_object_set_new(root, "classes", ik_classes_json(c));
		ret = json_dumpf(root, f, JSON_INDENT(2));
		json_decref(root);
		fputc('\n', f);
		return ret || ferror(f) ? -EIO : 0;
	}
	if (r->format == IK_FMT_CSV) {
		/* the CSV report's names; an absent class has no CPUs */
		fprintf(f, "class,present,pin_a,pin_b\n");
		for (k = 0; k < IK_NCLASSES; k++)
			if (c[k].present)
				fprintf(f, "%s,true,%d,%d\n",
					ik_class_key((enum ik_class)k),
					c[k].cpu[0], c[k].cpu[1]);
			else
				fprintf(f, "%s,false,,\n",
					ik_class_key((enum ik_class)k));
		return ferror(f) ? -EIO : 0;
	}
	fprintf(f, "topology: %s\n\n%-14s %-8s %s\n",
		r->topology ? r->topology : "this machine", "class", "cpus",
		"");
	for (k = 0; k < IK_NCLASSES; k++) {
		if (c[k].present)
			fprintf(f, "%-14s %d,%-6d\n",
				ik_class_key((enum ik_class)k), c[k].cpu[0],
				c[k].cpu[1]);
		else
			fprintf(f, "%-14s absent (no such pair here)\n",
				ik_class_key((enum ik_class)k));
	}
	return ferror(f) ? -EIO : 0;
}

/* --classes: methods down, classes across, p50/p99 in each cell. */
void ik_classes_table(const struct ik_report *r, FILE *f)
{
	const struct ik_sweep *c = r->sweep;
	char a[2][16];
	unsigned i, m, k;

	fprintf(f,
		"\nby class (p50/p99 of the round trip; - = absent "
		"here):\n%-10s %-7s",
		"method", "mode");
	for (k = 0; k < IK_NCLASSES; k++)
		fprintf(f, " %15s", ik_class_key((enum ik_class)k));
	fputc('\n', f);
	for (i = 0; i < c->nmethods; i++)
		for (m = 0; m < c->nmodes; m++) {
			fprintf(f, "%-10s %-7s", c->methods[i]->name,
				ik_mode_name(c->modes[m]));
			for (k = 0; k < IK_NCLASSES; k++) {
				const struct ik_result *hit = NULL;
				char cell[40];
				unsigned j;

				for (j = 0; j < r->nresults; j++)
					if (r->results[j].cls == (int)k &&
					    r->results[j].ops ==
						    c->methods[i] &&
					    r->results[j].mode == c->modes[m])
						hit = &r->results[j];
				if (!hit)
					snprintf(cell, sizeof(cell), "-");
				else if (hit->err)
					snprintf(cell, sizeof(cell), "failed");
				else
					snprintf(
						cell, sizeof(cell), "%s/%s",
						ik_fmt_ns(
							a[0], 16,
							(double)ik_hist_percentile(
								&hit->hist,
								50)),
						ik_fmt_ns(
							a[1], 16,
							(double)ik_hist_percentile(
								&hit->hist,
								99)));
				fprintf(f, " %15s", cell);
			}
			fputc('\n', f);
		}
	fprintf(f, "class pairs:");
	for (k = 0; k < IK_NCLASSES; k++)
		if (r->classes[k].present)
			fprintf(f, " %s %d,%d;", ik_class_key((enum ik_class)k),
				r->classes[k].cpu[0], r->classes[k].cpu[1]);
		else
			fprintf(f, " %s absent;",
				ik_class_key((enum ik_class)k));
	fputc('\n', f);
}
