/* SPDX-License-Identifier: MIT */
/*
 * The machinery behind the option table (cli/table.c): one parser per
 * kind of value, lists, one generic walk of argv (the getopt_long array
 * is built from the table), and --help, the README's option table and
 * every "applies to --kernel" refusal printed from the rows. Parsers
 * return 0 or -EINVAL with plan->err naming the bad value and what is
 * allowed; only ipckern.c prints that and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/*
 * A shorter time cannot be honoured: a timeout or a run ends on the
 * clock checks around whole messages, and a tcp round trip alone takes
 * tens of microseconds.
 */
#define MIN_TIME_NS 1000000 /* 1 ms */

int ik_cli_fail(struct ik_plan *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Every numeric option reads its number the same way: ik_parse_decimal
 * (12, 0.5, 2e-3; never hex, inf, nan or a sign), then one of the
 * option's units, each a factor to the option's base unit.
 */
struct unit {
	const char *suffix;
	double mult;
};

static const struct unit no_units[] = {{"", 1}, {NULL, 0}};
static const struct unit byte_units[] = {{"", 1},	 {"k", 1024},
					 {"K", 1024},	 {"m", 1 << 20},
					 {"M", 1 << 20}, {NULL, 0}};
static const struct unit ns_units[] = {{"", 1},	    {"ns", 1},	{"us", 1e3},
				       {"ms", 1e6}, {"s", 1e9}, {NULL, 0}};
static const struct unit sec_units[] = {
	{"", 1e9}, {"s", 1e9},	{"ms", 1e6},   {"us", 1e3},
	{"ns", 1}, {"m", 60e9}, {"min", 60e9}, {NULL, 0}}; /* m: minutes */
static const struct unit pct_units[] = {{"", 1}, {"%", 1}, {NULL, 0}};

/*
 * s in the option's base unit: a whole number if whole, within [min,
 * max]; anything else is "OPT 'S': expected WHAT", and one that also
 * names the syntax when s is no decimal at all.
 */
static int parse_number(struct ik_plan *p, const char *opt, const char *s,
			const struct unit *units, bool whole, double min,
			double max, const char *what, double *out)
{
	const struct unit *u = units;
	const char *end;
	double v;
	int ret = ik_parse_decimal(s, &v, &end);

	if (ret == -EINVAL)
		return ik_cli_fail(p,
				   "%s '%s': expected %s; numbers are decimal, "
				   "like 12, 0.5 or 2e-3 (no sign, hex, inf or "
				   "nan)",
				   opt, s, what);
	while (u->suffix && strcmp(end, u->suffix))
		u++;
	if (!ret && u->suffix) {
		v *= u->mult;
		if ((!whole || v == floor(v)) && v >= min && v <= max) {
			*out = v;
			return 0;
		}
	}
	return ik_cli_fail(p, "%s '%s': expected %s", opt, s, what);
}

/* The value's bytes at the row's place in the plan, item i of a list. */
static void *field(struct ik_plan *p, const struct ik_option *o, unsigned i)
{
	return (char *)p + o->off + (size_t)i * o->width;
}

static void store(struct ik_plan *p, const struct ik_option *o, unsigned i,
		  unsigned long long v)
{
	void *at = field(p, o, i);

	switch (o->width) {
	case 1:
		*(bool *)at = v != 0;
		break;
	case 4:
		*(uint32_t *)at = (uint32_t)v;
		break;
	default:
		*(uint64_t *)at = v;
	}
}

static void join(char *out, size_t len, const char *const *names,
		 const char *sep)
{
	size_t at = 0;

	out[0] = 0;
	for (unsigned i = 0; names[i] && at < len; i++)
		at += (size_t)snprintf(out + at, len - at, "%s%s", i ? sep : "",
				       names[i]);
}

/*
 * Edit distance of a and b, a swap of two neighbours counting as one
 * edit (optimal string alignment: "spcs" is one slip from "spsc").
 */
static unsigned distance(const char *a, const char *b)
{
	unsigned d[64][64], i, j, la = (unsigned)strlen(a),
				  lb = (unsigned)strlen(b);

	if (la >= IK_ARRAY_SIZE(d) || lb >= IK_ARRAY_SIZE(d))
		return UINT_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			unsigned best =
				d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *ik_cli_nearest(const char *s, const char *const *names)
{
	const char *best = NULL;
	unsigned d, min = UINT_MAX, len = (unsigned)strlen(s);
	/* a third of the word, at least 1, at most 3: "spcs" -> spsc, but
	 * "foo" is no misspelt "futex" */
	unsigned limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;

	for (; *names; names++) {
		d = distance(s, *names);
		/* a prefix is a near miss too: --iter for --iters */
		if (len >= 3 && !strncmp(s, *names, len) && d > 1)
			d = 1;
		if (d < min)
			min = d, best = *names;
	}
	return min && min <= limit ? best : NULL;
}

const char *const *ik_cli_choices(const struct ik_option *o, const char **buf,
				  unsigned cap)
{
	unsigned k;

	if (!o->choice_of)
		return o->choices;
	for (k = 0; k + 1 < cap && (buf[k] = o->choice_of(k)); k++)
		;
	buf[k] = NULL;
	return buf;
}

/* One value of a row (one item of a list row) into item i. */
static int parse_one(struct ik_plan *p, const struct ik_option *o,
		     const char *opt, const char *s, unsigned i)
{
	const char *buf[IK_CHOICES_MAX];
	const char *const *names, *near;
	char what[160], allowed[160];
	double v;
	int k, ret;

	switch (o->kind) {
	case IK_OPT_COUNT:
		snprintf(what, sizeof(what), "a whole number from %.0f to %.0f",
			 o->min, o->max);
		ret = parse_number(p, opt, s, no_units, true, o->min, o->max,
				   what, &v);
		break;
	case IK_OPT_SIZE:
		snprintf(what, sizeof(what),
			 "a size from 1 to %u bytes (suffix k or m for KiB, "
			 "MiB)",
			 IK_SIZE_MAX);
		ret = parse_number(p, opt, s, byte_units, true, 1, IK_SIZE_MAX,
				   what, &v);
		break;
	case IK_OPT_NS:
		ret = parse_number(p, opt, s, ns_units, true, o->min, o->max,
				   o->what, &v);
		break;
	case IK_OPT_SECONDS:
		snprintf(what, sizeof(what),
			 "seconds from %g to %g, or with ms/us, or m for "
			 "minutes (e.g. 0.5, 2e-3, 500ms, 10m)",
			 MIN_TIME_NS / 1e9, o->max / 1e9);
		ret = parse_number(p, opt, s, sec_units, false, MIN_TIME_NS,
				   o->max, what, &v);
		v = (double)llround(v);
		break;
	case IK_OPT_PERCENT:
		ret = parse_number(p, opt, s, pct_units, false, o->min, o->max,
				   o->what, &v);
		if (!ret && !(v > 0))
			ret = ik_cli_fail(p, "%s '%s': expected %s", opt, s,
					  o->what);
		if (!ret)
			*(double *)field(p, o, i) = v / 100;
		return ret;
	case IK_OPT_CHOICE:
		names = ik_cli_choices(o, buf, IK_ARRAY_SIZE(buf));
		for (k = 0; names[k]; k++)
			if (!strcmp(s, names[k])) {
				store(p, o, i, (unsigned long long)k);
				return 0;
			}
		join(allowed, sizeof(allowed), names, ", ");
		near = ik_cli_nearest(s, names);
		return ik_cli_fail(p, "%s '%s': %s%s%s%sallowed: %s", opt, s,
				   o->what ? o->what : "",
				   near ? "did you mean " : "",
				   near ? near : "", near ? "? " : "", allowed);
	case IK_OPT_PATH:
		*(const char **)field(p, o, i) = s;
		return 0;
	default:
		return o->parse(p, o, s);
	}
	if (!ret)
		store(p, o, i, (unsigned long long)v);
	return ret;
}

/*
 * A list row: arg split at commas into at most list_max items, each
 * parsed as one value. Empty items (",,", a leading or trailing comma),
 * too many, and a value listed twice (8,8 or 1k,1024: two cells with
 * one key, which no baseline, gbench name or CSV row tells apart) are
 * refused naming the whole list.
 */
static int parse_list(struct ik_plan *p, const struct ik_option *o,
		      const char *opt, const char *arg)
{
	char *copy, *save = NULL, *tok;
	unsigned n = 0;
	int ret = 0;

	if (!*arg || arg[0] == ',' || arg[strlen(arg) - 1] == ',' ||
	    strstr(arg, ",,"))
		return ik_cli_fail(p,
				   "%s '%s': expected values separated by "
				   "commas, e.g. %s",
				   opt, arg, o->eg);
	if (!(copy = strdup(arg)))
		return ik_cli_fail(p, "%s: out of memory", opt);
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == o->list_max)
			ret = ik_cli_fail(p, "%s '%s': at most %u values", opt,
					  arg, o->list_max);
		else
			ret = parse_one(p, o, opt, tok, n++);
		for (unsigned k = 0; !ret && k + 1 < n; k++)
			if (!memcmp(field(p, o, k), field(p, o, n - 1),
				    o->width))
				ret = ik_cli_fail(p,
						  "%s '%s': '%s' is the value "
						  "of item %u again; list each "
						  "value once (one cell each)",
						  opt, arg, tok, k + 1);
	}
	free(copy);
	if (!ret)
		*(unsigned *)((char *)p + o->n_off) = n;
	return ret;
}

/* Values no row's default can say: each by its own reason. */
static void defaults(struct ik_plan *p)
{
	const struct ik_option *o;
	char opt[40];

	memset(p, 0, sizeof(*p));
	p->sweep.nbuffers = 1; /* buffers[0] = 0: each transport's default */
	p->mem_node = -1;
	p->gate.repeat = 1;
	for (o = ik_options; o->name; o++) {
		if (!o->def || o->kind == IK_OPT_FLAG)
			continue;
		snprintf(opt, sizeof(opt), "--%s", o->name);
		/* the table's defaults parse: tests/test_options.c checks */
		if (o->list_max)
			(void)parse_list(p, o, opt, o->def);
		else
			(void)parse_one(p, o, opt, o->def, 0);
	}
	p->err[0] = 0;
}

/* Whether the row's value differs from its default. */
static bool changed(const struct ik_plan *p, const struct ik_plan *d,
		    const struct ik_option *o)
{
	size_t len = o->list_max ? o->list_max * o->width : o->width;

	if (o->list_max &&
	    *(const unsigned *)((const char *)p + o->n_off) !=
		    *(const unsigned *)((const char *)d + o->n_off))
		return true;
	return memcmp((const char *)p + o->off, (const char *)d + o->off, len);
}

void ik_cli_kernel_names(unsigned mask, const char *sep, char *out, size_t len)
{
	const char *names[IK_NKERNELS + 1];
	unsigned k, n = 0;

	for (k = 0; k < IK_NKERNELS; k++)
		if (mask & (1u << k))
			names[n++] = ik_kernel_name(k);
	names[n] = NULL;
	join(out, len, names, sep);
}

unsigned ik_cli_option_kernels(const struct ik_option *o)
{
	const char *const *n;
	unsigned k, mask = 0;

	if (!(o->flags & IK_OPTF_KERNEL))
		return 0;
	for (k = 0; k < IK_NKERNELS; k++)
		for (n = ik_kernels[k]->options; n && *n; n++)
			if (!strcmp(*n, o->name))
				mask |= 1u << k;
	return mask;
}

int ik_cli_check_kernels(struct ik_plan *p)
{
	static struct ik_plan d; /* the defaults; parsing is single-threaded */
	const struct ik_option *o;
	char names[128];

	defaults(&d);
	for (o = ik_options; o->name; o++) {
		unsigned mask = ik_cli_option_kernels(o);

		/* given at its default value (--late 1ms) is given too */
		bool given = o->given_off &&
			     *(const bool *)((const char *)p + o->given_off);

		if (!(o->flags & IK_OPTF_KERNEL) ||
		    (mask & (1u << p->cfg.kernel)) ||
		    (!given && !changed(p, &d, o)))
			continue;
		if (o->applies)
			return ik_cli_fail(p, "%s", o->applies);
		ik_cli_kernel_names(mask, " and ", names, sizeof(names));
		if (o->flags & IK_OPTF_SHOW_VALUE)
			return ik_cli_fail(
				p, "--%s %llu: applies to --kernel %s", o->name,
				*(unsigned long long *)field(p, o, 0), names);
		return ik_cli_fail(p, "--%s: applies to --kernel %s", o->name,
				   names);
	}
	return 0;
}

/* One option as given: its value (or list), and its given flag. */
static int take(struct ik_plan *p, const struct ik_option *o, const char *arg)
{
	char opt[40];
	int ret;

	snprintf(opt, sizeof(opt), "--%s", o->name);
	switch (o->kind) {
	case IK_OPT_FLAG:
		store(p, o, 0, 1);
		return 0;
	case IK_OPT_ACTION:
		p->action = o->action;
		return 1;
	default:
		ret = o->list_max ? parse_list(p, o, opt, arg)
				  : parse_one(p, o, opt, arg, 0);
	}
	if (!ret && o->given_off)
		*(bool *)((char *)p + o->given_off) = true;
	return ret;
}

/* The row named name (a short option's long one). */
static int option_index(const char *name)
{
	int i;

	for (i = 0; ik_options[i].name && strcmp(ik_options[i].name, name); i++)
		;
	return i;
}

/* The table's long names, NULL-terminated, for suggestions. */
static void option_names(const char **names)
{
	unsigned i;

	for (i = 0; i < IK_NOPTIONS; i++)
		names[i] = ik_options[i].name;
	names[IK_NOPTIONS] = NULL;
}

/* "--word" (or "--word=value") that is no option: say so, and the
 * nearest one. */
static int unknown_option(struct ik_plan *p, const char *tok)
{
	const char *names[IK_NOPTIONS + 1], *near;
	char word[64];
	size_t len = strcspn(tok, "=");

	if (strncmp(tok, "--", 2) || len - 2 >= sizeof(word))
		return ik_cli_fail(p, "unknown option '%s' (see --help)", tok);
	snprintf(word, sizeof(word), "%.*s", (int)(len - 2), tok + 2);
	option_names(names);
	near = ik_cli_nearest(word, names);
	if (near)
		return ik_cli_fail(p,
				   "--%s: unknown option; did you mean --%s? "
				   "(see --help)",
				   word, near);
	return ik_cli_fail(p, "--%s: unknown option (see --help)", word);
}

/*
 * getopt_long's own parsing, but exact names only: getopt_long takes any
 * unambiguous prefix (--iter for --iters), and a prefix that a new option
 * makes ambiguous would break a CI script that relied on it, so a prefix
 * is refused naming the whole option.
 */
int ik_cli_parse_options(struct ik_plan *p, int argc, char **argv)
{
	struct option lo[IK_NOPTIONS + 1];
	unsigned i;
	int c, ret, li;

	defaults(p);
	for (i = 0; i < IK_NOPTIONS; i++) {
		const struct ik_option *o = &ik_options[i];
		bool flag = o->kind == IK_OPT_FLAG || o->kind == IK_OPT_ACTION;

		lo[i] = (struct option){o->name,
					flag ? no_argument : required_argument,
					NULL, 256 + (int)i};
	}
	lo[IK_NOPTIONS] = (struct option){NULL, 0, NULL, 0};
	opterr = 0;
	optind = 0; /* GNU: start over, so the parser can run again */
	while ((li = -1, c = getopt_long(argc, argv, ":hqv", lo, &li)) != -1) {
		/* the word just read: before a separate value, or the last */
		const char *tok = argv[optind - 1];

		if (c >= 256 && optarg && optarg == argv[optind - 1])
			tok = argv[optind - 2];
		if (c == 'q' || c == 'v') /* -q, -v: --quiet, --verbose */
			c = 256 + option_index(c == 'q' ? "quiet" : "verbose");
		else if (c == 'h') {
			p->action = IK_CLI_HELP;
			return 1;
		}
		if (c == ':')
			return ik_cli_fail(p, "%s: needs a value (see --help)",
					   tok);
		if (c < 256)
			return unknown_option(p, tok);
		if (tok[1] == '-' && /* -q, -v are short, not abbreviated */
		    (strncmp(tok + 2, lo[c - 256].name,
			     strlen(lo[c - 256].name)) ||
		     (tok[2 + strlen(lo[c - 256].name)] &&
		      tok[2 + strlen(lo[c - 256].name)] != '=')))
			return ik_cli_fail(
				p,
				"%.*s: abbreviations are not accepted; did "
				"you mean --%s? (see --help)",
				(int)strcspn(tok, "="), tok, lo[c - 256].name);
		ret = take(p, &ik_options[c - 256], optarg);
		/* --list reads on (--format json --list, --list --format
		 * json); --help and --version stop where they stand */
		if (ret && !(ret == 1 && p->action == IK_CLI_LIST))
			return ret;
	}
	if (optind < argc)
		return ik_cli_fail(p, "unexpected argument '%s' (see --help)",
				   argv[optind]);
	return p->action == IK_CLI_LIST;
}

void ik_cli_help_text(const struct ik_option *o, char *out, size_t len)
{
	snprintf(out, len, o->help_of ? o->help_of() : o->help, o->help_num);
}

/* A row's help with its number in, continuation lines indented by ind. */
static void print_help(FILE *f, const struct ik_option *o, const char *ind)
{
	char text[1024];
	const char *s, *nl;

	ik_cli_help_text(o, text, sizeof(text));
	for (s = text; (nl = strchr(s, '\n')); s = nl + 1)
		fprintf(f, "%.*s\n%s", (int)(nl - s), s, ind);
	fprintf(f, "%s\n", s);
}

void ik_cli_usage(FILE *f)
{
	const struct ik_option *o;
	unsigned sec;
	char left[64];

	fputs("usage: ipckern [options]\n"
	      "       ipckern history WHERE ...: the change points of a "
	      "--history,\n"
	      "       and its Otava CSV (ipckern history -h)\n"
	      "Pinned IPC round-trip latency: two peers ping-pong messages "
	      "over one\n"
	      "Linux IPC method; every round trip is timed and histogrammed.\n"
	      "\n",
	      f);
	/*
	 * Each section once, in the order run, gates, information: rows
	 * are appended to the table in any order (a gate option may come
	 * before a run option), so walk it once per section.
	 */
	for (sec = 0; sec < 3; sec++) {
		if (sec)
			fputs(sec == 1 ? "\nCI gates (exit 1 when a gate "
					 "fails):\n"
				       : "\n",
			      f);
		for (o = ik_options; o->name; o++) {
			unsigned s = o->flags & IK_OPTF_GATE   ? 1
				     : o->flags & IK_OPTF_INFO ? 2
							       : 0;

			if (s != sec || o->flags & IK_OPTF_HIDDEN)
				continue;
			if (o->usage) {
				fprintf(f, "  %s\n", o->usage);
				continue;
			}
			snprintf(left, sizeof(left), "--%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
			fprintf(f, "  %-17s%s", left,
				strlen(left) < 17 ? "" : "  ");
			print_help(f, o, "                   ");
		}
	}
	fputs("\n"
	      "Numbers are decimal (12, 0.5, 2e-3); times take ns, us, ms or s "
	      "(SEC\n"
	      "options: at least 1 ms); sizes k or m (binary).\n"
	      "Options are written in full: an abbreviation (--iter) is "
	      "refused.\n"
	      "Latency is the round trip; the one-way estimate is half of it.\n"
	      "Exit: 0 ok, 1 a gate failed (regression or assertion), 2 bad "
	      "usage or\n"
	      "input, 3 failure at run time; 128+N when signal N ended a run\n"
	      "(130: Ctrl-C), after writing the cells that finished.\n",
	      f);
}

/* Markdown cells cannot hold a '|' or a line break. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s == '\n' ? ' ' : *s, f);
	}
}

void ik_cli_options_markdown(FILE *f)
{
	const struct ik_option *o;
	const char *buf[IK_CHOICES_MAX];
	char text[1024], names[128];

	fputs("| option | value | default | kernels | what it does |\n"
	      "| --- | --- | --- | --- | --- |\n",
	      f);
	for (o = ik_options; o->name; o++) {
		fprintf(f, "| `--%s` | ", o->name);
		if (o->kind == IK_OPT_CHOICE) {
			join(text, sizeof(text),
			     ik_cli_choices(o, buf, IK_ARRAY_SIZE(buf)), ", ");
			md_cell(f, text);
		} else {
			md_cell(f, o->arg ? o->arg : "");
		}
		fputs(o->list_max ? " (a list sweeps)" : "", f);
		fprintf(f, " | %s | ", o->def ? o->def : "");
		ik_cli_kernel_names(ik_cli_option_kernels(o), ", ", names,
				    sizeof(names));
		fprintf(f, "%s | ", o->flags & IK_OPTF_KERNEL ? names : "all");
		ik_cli_help_text(o, text, sizeof(text));
		md_cell(f, text);
		fputs(" |\n", f);
	}
}
