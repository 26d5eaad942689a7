/* SPDX-License-Identifier: MIT */
/*
 * The CI gate after a run: the --baseline comparison and the --assert
 * checks, one summary on the terminal and optionally as Markdown
 * (--summary-md). Returns the exit code it decides; nothing here exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

struct md_job {
	const struct ik_gate_log *g;
	const char *title;
};

static int md_fn(const void *arg, FILE *f)
{
	const struct md_job *j = arg;

	ik_gate_log_markdown(j->g, j->title, f);
	return ferror(f) ? -EIO : 0;
}

/* See cli.h; the Markdown summary goes through ik_output_write. */
int ik_cli_run_gate(const struct ik_cli_gate *gate, bool mkdirs,
		    const struct ik_report *rep, const struct ik_baseline *bl,
		    const struct ik_cli_hist *hist, FILE *out)
{
	struct ik_gate_log g = {0};
	char err[300], why[2048], title[700], when[32];
	char *notes = NULL;
	size_t nnotes = 0;
	time_t now = time(NULL);
	unsigned i, d;
	int code = IK_EXIT_USAGE, ret;

	if (bl) {
		d = ik_baseline_incompatible(bl, rep, why, sizeof(why));
		if (d && !gate->allow_mismatch) {
			fprintf(stderr,
				"ipckern: --baseline %s: measured differently "
				"(%u difference%s): %s; --allow-mismatch "
				"compares anyway\n",
				gate->baseline, d, d == 1 ? "" : "s", why);
			goto out;
		}
		if (d && !gate->quiet)
			fprintf(stderr,
				"ipckern: warning: --baseline %s: %u "
				"difference%s, compared anyway: %s\n",
				gate->baseline, d, d == 1 ? "" : "s", why);
		if (!gate->normalize && rep->machine->hypervisor &&
		    !gate->quiet)
			fprintf(stderr,
				"ipckern: warning: absolute numbers against a "
				"baseline on a VM: the host's speed changes "
				"between runs look like regressions; "
				"--normalize line (with line in --method) "
				"compares ratios instead\n");
		ret = ik_baseline_compare(bl, rep, gate->max_regress,
					  gate->normalize, &g, err,
					  sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "ipckern: --baseline %s: %s\n",
				gate->baseline, err);
			goto out;
		}
		if (!ret) {
			/* a gate on nothing fails, whatever else passed */
			struct ik_gate_row *row = ik_gate_log_add(&g);

			fprintf(stderr,
				"ipckern: --baseline %s: gate failed: nothing "
				"was compared: %s\n",
				gate->baseline, err);
			if (!row) {
				code = IK_EXIT_GATE;
				goto out;
			}
			snprintf(row->what, sizeof(row->what), "--baseline %s",
				 gate->baseline);
			snprintf(row->verdict, sizeof(row->verdict), "FAIL");
			snprintf(row->detail, sizeof(row->detail),
				 "nothing compared: %.77s", err);
			row->failed = true;
			g.failed++;
			g.checked++;
		}
	}
	if (hist) {
		/* the change points' explanations, after the summary */
		FILE *nf = open_memstream(&notes, &nnotes);

		ret = nf ? ik_history_gate(hist->set, hist->id, &hist->opts, &g,
					   nf, err, sizeof(err))
			 : -ENOMEM;
		if (nf)
			fclose(nf);
		if (ret) {
			fprintf(stderr, "ipckern: --gate history: %s\n",
				nf ? err : strerror(-ret));
			code = IK_EXIT_RUNTIME;
			goto out;
		}
	}
	for (i = 0; i < gate->nasserts; i++)
		if (ik_assert_eval(&gate->asserts[i], rep->results,
				   rep->nresults, &g, err, sizeof(err))) {
			fprintf(stderr, "ipckern: --assert %s\n", err);
			goto out;
		}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	if (bl)
		snprintf(title, sizeof(title),
			 "ipckern gate, %s, %s: medians of %u repeat%s per "
			 "cell vs baseline %s; regressed = over %g%% worse "
			 "and significant (%s)",
			 rep->machine->model, when, gate->repeat,
			 gate->repeat == 1 ? "" : "s", gate->baseline,
			 gate->max_regress * 100, IK_CI_METHOD);
	else
		snprintf(title, sizeof(title),
			 "ipckern gate, %s, %s: medians of %u repeat%s per "
			 "cell",
			 rep->machine->model, when, gate->repeat,
			 gate->repeat == 1 ? "" : "s");
	if (hist) {
		size_t l = strlen(title);

		snprintf(title + l, sizeof(title) - l,
			 "; history: change points over the newest %u runs %s "
			 "(E-divisive means, p <= %g, changes of %g%% or "
			 "more, new when the last %u to %u runs hold it)",
			 hist->set->nruns,
			 hist->opts.normalize ? "of every machine class, "
						"normalised"
					      : "of this machine class",
			 hist->opts.alpha, hist->opts.min_change * 100,
			 hist->opts.min_size, hist->opts.recent);
	}
	ik_gate_log_print(&g, title, out);
	if (notes && nnotes)
		fputs(notes, out);
	code = g.failed || !g.checked ? IK_EXIT_GATE : 0;
	if (gate->summary_md) {
		struct md_job j = {&g, title};

		ret = ik_output_write(gate->summary_md, mkdirs, md_fn, &j);

		if (ret) {
			fprintf(stderr, "ipckern: --summary-md %s: %s\n",
				gate->summary_md, ik_cli_out_error(-ret));
			code = IK_EXIT_RUNTIME;
		}
	}
out:
	free(notes);
	ik_gate_log_free(&g);
	return code;
}

/* Why an output could not be written, in the words of output.c's rules. */
const char *ik_cli_out_error(int err)
{
	if (err == EEXIST)
		return "it changed during the run (a link or a special file "
		       "appeared under that name); not written through it";
	if (err == ELOOP)
		return "a symlink that was not checked before the run";
	return strerror(err);
}
