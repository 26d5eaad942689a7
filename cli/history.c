/* SPDX-License-Identifier: MIT */
/*
 * `ipckern history WHERE`: what a results history holds, read back.
 * Every machine class's cells with their change points (the analysis
 * --gate history makes, for every run rather than the newest), and with
 * --csv DIR the series as Otava's CSV, one file per class and kernel
 * (docs/history.md). Reads only: nothing is measured.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

/* runs read per class for the report and the export */
#define HISTORY_MAX_RUNS 100000u

static const char usage[] =
	"usage: ipckern history WHERE [--csv DIR [--mkdir]] [--class KLASS]\n"
	"       [--normalize METHOD] [--history-alpha P]\n"
	"       [--history-min-change PCT]\n"
	"WHERE: an SQLite file or postgresql://...; prints every cell's\n"
	"change points per machine class; --csv DIR writes the series as\n"
	"Otava's CSV, DIR/CLASS.KERNEL.csv (see docs/history.md); DIR\n"
	"must exist unless --mkdir makes it\n";

struct csv_job {
	const struct ik_hist_set *s;
	const char *kernel;
};

static int csv_fn(const void *arg, FILE *f)
{
	const struct csv_job *j = arg;

	return ik_history_csv(j->s, j->kernel, f);
}

/* Each kernel of s's cells, one file each. 0 or an exit code. */
static int export(const struct ik_hist_set *s, const char *klass,
		  const char *dir)
{
	for (unsigned c = 0; c < s->ncells; c++) {
		struct csv_job j = {s, s->cells[c].kernel};
		char path[4096];
		unsigned k;
		int ret;

		for (k = 0; k < c && strcmp(s->cells[k].kernel, j.kernel); k++)
			;
		if (k < c)
			continue; /* this kernel's file is written */
		snprintf(path, sizeof(path), "%s/%s.%s.csv", dir, klass,
			 j.kernel);
		ret = ik_output_write(path, false, csv_fn, &j);
		if (ret) {
			fprintf(stderr, "ipckern history: --csv %s: %s\n", path,
				ik_cli_out_error(-ret));
			return IK_EXIT_RUNTIME;
		}
		printf("  wrote %s\n", path);
	}
	return 0;
}

static int one_class(struct ik_history *h, const char *klass, const char *model,
		     const struct ik_history_opts *o, const char *csv)
{
	struct ik_hist_set s;
	char err[512];
	int ret;

	ret = ik_history_load(h, o->normalize ? NULL : klass, 0,
			      HISTORY_MAX_RUNS, &s, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ipckern history: %s\n", err);
		return IK_EXIT_RUNTIME;
	}
	ret = ik_history_report(&s, klass, model, o, stdout);
	if (ret) {
		fprintf(stderr, "ipckern history: %s\n",
			ret == -EIO ? "writing to stdout failed"
				    : strerror(-ret));
		ret = IK_EXIT_RUNTIME;
	}
	if (!ret && csv)
		ret = export(&s, klass, csv);
	ik_hist_set_free(&s);
	return ret;
}

static int bad(const char *fmt, const char *v)
{
	fputs("ipckern history: ", stderr);
	fprintf(stderr, fmt, v);
	fputc('\n', stderr);
	return IK_EXIT_USAGE;
}

/* --csv DIR before anything is read: a directory, made only with
 * --mkdir (as --history's file is). 0 or an exit code. */
static int csv_dir(const char *dir, bool mkdirs)
{
	struct stat st;
	char *sub;
	int ret;

	if (mkdirs) {
		if (asprintf(&sub, "%s/.", dir) < 0)
			return IK_EXIT_RUNTIME;
		ret = ik_output_mkdirs(sub);
		free(sub);
		if (ret) {
			fprintf(stderr,
				"ipckern history: --csv %s --mkdir: %s\n", dir,
				strerror(-ret));
			return IK_EXIT_RUNTIME;
		}
	}
	if (stat(dir, &st) < 0) {
		if (errno == ENOENT)
			return bad("--csv %s: no such directory (--mkdir "
				   "makes it)",
				   dir);
		fprintf(stderr, "ipckern history: --csv %s: %s\n", dir,
			strerror(errno));
		return IK_EXIT_USAGE;
	}
	if (!S_ISDIR(st.st_mode))
		return bad("--csv %s: not a directory", dir);
	return 0;
}

int ik_cli_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{"csv", required_argument, NULL, 'c'},
		{"class", required_argument, NULL, 'k'},
		{"normalize", required_argument, NULL, 'n'},
		{"history-alpha", required_argument, NULL, 'a'},
		{"history-min-change", required_argument, NULL, 'm'},
		{"mkdir", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ik_history_opts o = IK_HISTORY_OPTS_DEFAULT;
	const char *csv = NULL, *only = NULL;
	struct ik_history *h;
	char err[512], *end, **classes = NULL;
	unsigned n = 0;
	bool mkdirs = false;
	int c, ret = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (!*optarg)
				return bad("--csv '%s': expected a directory "
					   "to write CLASS.KERNEL.csv in, "
					   "e.g. --csv series",
					   optarg);
			csv = optarg;
			break;
		case 'd':
			mkdirs = true;
			break;
		case 'k':
			only = optarg;
			break;
		case 'n':
			/* a name no cell has would divide by nothing */
			if (!ik_transport_find(optarg))
				return bad("--normalize '%s': unknown method; "
					   "expected one of ipckern --list's, "
					   "e.g. --normalize line",
					   optarg);
			o.normalize = optarg;
			break;
		case 'a':
			errno = 0;
			o.alpha = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(o.alpha >= IK_HISTORY_ALPHA_MIN) ||
			    !(o.alpha < 1))
				return bad("--history-alpha '%s': expected a "
					   "probability from 0.005 to below 1, "
					   "e.g. 0.01",
					   optarg);
			break;
		case 'm':
			errno = 0;
			o.min_change = strtod(optarg, &end) / 100;
			if (errno || end == optarg ||
			    (*end && strcmp(end, "%")) || !(o.min_change > 0) ||
			    !(o.min_change <= 10))
				return bad("--history-min-change '%s': "
					   "expected a percentage above 0 and "
					   "at most 1000, e.g. 2 or 2%%",
					   optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return fflush(stdout) ? IK_EXIT_RUNTIME : 0;
		default:
			return bad("%s: not an option of ipckern history; "
				   "--help lists them",
				   argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return bad("%s", optind < argc ? "one WHERE only (an SQLite "
						 "file or postgresql://...)"
					       : "which history? ipckern "
						 "history WHERE (an SQLite "
						 "file or postgresql://...)");
	if (mkdirs && !csv)
		return bad("%s", "--mkdir: applies to --csv DIR");
	if (csv && (ret = csv_dir(csv, mkdirs)))
		return ret;
	ret = ik_history_open(argv[optind], false, &h, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ipckern history: %s: %s\n", argv[optind], err);
		return ret == -EINVAL || ret == -ENOENT ? IK_EXIT_USAGE
							: IK_EXIT_RUNTIME;
	}
	ret = ik_history_classes(h, &classes, &n, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ipckern history: %s\n", err);
		ret = IK_EXIT_RUNTIME;
	}
	if (!ret && !n)
		printf("%s: no runs yet\n", argv[optind]);
	if (!ret && o.normalize) {
		/* normalised: one series across every class */
		ret = one_class(h, "all", "every machine class", &o, csv);
	} else {
		unsigned shown = 0;

		for (unsigned i = 0; !ret && i < n; i++) {
			char *tab = strchr(classes[i], '\t');

			*tab = 0;
			if (only && strcmp(only, classes[i]))
				continue;
			shown++;
			ret = one_class(h, classes[i], tab + 1, &o, csv);
		}
		if (!ret && only && !shown)
			ret = bad("--class %s: no such machine class in this "
				  "history",
				  only);
	}
	for (unsigned i = 0; i < n; i++)
		free(classes[i]);
	free(classes);
	ik_history_close(h);
	return ret;
}
