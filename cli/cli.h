/* SPDX-License-Identifier: MIT */
/*
 * The command line's own parts, behind ipckern.c: what the CLI plans for
 * a run (struct ik_plan: the cell template, the outputs, the CI gate),
 * the option table that fills it, the grid of cells it measures and the
 * gate it applies afterwards. Nothing below the CLI includes this
 * header; only ipckern.c exits.
 */
#ifndef IK_CLI_H
#define IK_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "affinity/affinity.h"
#include "cpuinfo/cpuinfo.h"
#include "ipc/ipc.h"
#include "kernels/kernels.h"
#include "reports/gate.h"
#include "reports/history.h"
#include "reports/reports.h"

#define IK_EXIT_GATE	1
#define IK_EXIT_USAGE	2
#define IK_EXIT_RUNTIME 3

#define IK_GATE_REPEATS 5 /* default --repeat with a baseline */
#define IK_MAX_ASSERTS	32

/* The CI gate's options: what decides exit code 1. */
struct ik_cli_gate {
	unsigned repeat;
	bool repeat_given;
	uint64_t repeat_every_ns; /* start repeat r at r x this; 0: at once */
	const char *save_baseline, *baseline, *summary_md;
	double max_regress; /* fraction: 0.10 for 10% */
	bool allow_mismatch;
	bool append;	       /* --append: add to the --save-baseline file */
	const char *normalize; /* --normalize METHOD, or NULL */
	struct ik_assertion asserts[IK_MAX_ASSERTS];
	unsigned nasserts;
	bool quiet;	     /* -q: no warnings on stderr, errors only */
	const char *history; /* --history: a file or postgresql:// URL */
	const char *label;   /* --label */
	unsigned gate;	     /* --gate: IK_GATE_NONE, IK_GATE_HISTORY */
	double history_alpha, history_min_change;
	bool history_alpha_given, history_min_change_given;
};
enum { IK_GATE_NONE = 0, IK_GATE_HISTORY };
/* the least --history-alpha: 1 / (permutations + 1) of the test */
#define IK_HISTORY_ALPHA_MIN 0.005

/* What the command line asks for besides a run. */
enum ik_cli_action { IK_CLI_RUN = 0, IK_CLI_LIST, IK_CLI_VERSION, IK_CLI_HELP };

/*
 * What the CLI plans for one invocation: the cell template every
 * measurement starts from (cfg: what one cell needs, each cell a copy
 * with its values from the sweep), the sweep lists, what goes where
 * (outputs, format), which pairs (--classes, --matrix), the CI gate,
 * and what only the CLI reads. --pin is held here once, in pins[] as
 * given (--pin auto: the pair the topology picked); each cell's CPUs
 * (cfg->pinned, cfg->cpu[]) are derived from it (ik_cli_cell_cpus, and
 * the grid for each of --pairs).
 */
struct ik_plan {
	struct ik_config cfg;
	struct ik_sweep sweep;
	enum ik_format format;
	const char *output;   /* NULL: stdout */
	const char *raw;      /* --raw: every round trip to this file */
	bool classes;	      /* --classes: one run per topology class */
	bool machine;	      /* --machine: describe the machine, run nothing */
	bool matrix;	      /* --matrix: every ordered pair of cpus[] */
	bool dry_run;	      /* --dry-run: list the cells, run nothing */
	bool quiet;	      /* -q: errors only on stderr */
	bool verbose;	      /* -v: a line per finished cell too */
	const char *topology; /* --topology FILE.xml, or NULL */
	int cpus[256];	      /* --cpus, or every allowed CPU */
	unsigned ncpus;
	int mem_node; /* --mem-node, or -1 */
	struct ik_cli_gate gate;
	bool mkdirs; /* --mkdir */
	/* --pin: A,B for each pair, in order (a crew: server, clients) */
	int pins[2 * IK_MAX_PAIRS];
	unsigned npins;
	bool pin_auto;		   /* --pin auto */
	const char *pin_arg;	   /* --pin as written, for messages */
	enum ik_cli_action action; /* --list, --version, --help */
	bool slo_precision_given;  /* --slo-precision (applies to --slo) */
	char err[4096];		   /* why parsing refused, one line */
	bool soak; /* --soak (cfg.soak_minute_ns says whether it runs) */
	bool kernel_given;  /* --kernel was given */
	bool shape_given;   /* --fanout, --pipeline or --contend: group */
	bool timeout_given; /* --timeout: else it grows to fit --duration */
	bool wake_deadline_given; /* --wake-deadline */
	uint64_t cpu_latency_ns;  /* --cpu-latency, held while measuring */
	bool cpu_latency_given;
};

/* The kinds of value an option takes; each has one parser. */
enum ik_opt_kind {
	IK_OPT_FLAG,	/* no value: sets a bool */
	IK_OPT_COUNT,	/* a whole number in [min, max] */
	IK_OPT_SIZE,	/* bytes from 1 to IK_SIZE_MAX, suffix k or m */
	IK_OPT_NS,	/* ns in [min, max], or with us/ms/s */
	IK_OPT_SECONDS, /* seconds (or ms/us/ns) from 1 ms to max ns: ns */
	IK_OPT_PERCENT, /* above 0, at most max, optional %: a fraction */
	IK_OPT_CHOICE,	/* one of choices[] (or choice_of): its index */
	IK_OPT_PATH,	/* a name kept as given (a file, a method) */
	IK_OPT_CUSTOM,	/* the row's own parse() */
	IK_OPT_ACTION,	/* --list, --version, --help: stop and do it */
};

#define IK_OPTF_GATE	   (1u << 0) /* listed under "CI gates" */
#define IK_OPTF_INFO	   (1u << 1) /* listed last: --list, --help */
#define IK_OPTF_HIDDEN	   (1u << 2) /* folded into another row's line */
#define IK_OPTF_SHOW_VALUE (1u << 3) /* the kernel refusal names the value */
/* kernel-specific: applies to the kernels whose ops list it (their
 * options), and any other kernel refuses a value not the default */
#define IK_OPTF_KERNEL (1u << 4)

struct ik_option {
	const char *name; /* long name without the dashes */
	const char *arg;  /* what --help calls the value; NULL: none */
	enum ik_opt_kind kind;
	size_t off, width; /* where the value (a list's items) goes */
	size_t n_off;	   /* a list: where its count goes */
	unsigned list_max; /* a list (a sweep) of at most this many; 0: one */
	const char *eg;	   /* a list: an example for the refusal */
	double min, max;   /* the range, in the kind's base unit */
	const char *what;  /* NS, PERCENT: what is expected; CHOICE: a prefix */
	const char *const *choices; /* CHOICE: names, NULL-terminated */
	const char *(*choice_of)(unsigned k); /* or the k-th, NULL past */
	size_t given_off;    /* a bool set when given on the command line */
	const char *def;     /* the default, as the option would be written */
	const char *applies; /* the refusal under another kernel; NULL: made */
	unsigned flags;	     /* IK_OPTF_* */
	enum ik_cli_action action; /* ACTION */
	int (*parse)(struct ik_plan *p, const struct ik_option *o,
		     const char *arg); /* CUSTOM: 0 or ik_cli_fail */
	const char *usage; /* --help's whole line instead of name and help */
	const char *help;  /* printf format of help_num; lines joined by \n */
	const char *(*help_of)(void); /* or made from elsewhere (--kernel) */
	unsigned long long help_num;
};

/* The option table, NULL-name terminated, in --help's order. */
#define IK_NOPTIONS 72
extern const struct ik_option ik_options[];

/* p->err = the formatted message; returns -EINVAL. */
int ik_cli_fail(struct ik_plan *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * argv into p: every row's default, then each option through its row.
 * Returns 0, 1 when an action (p->action) stops parsing, or -EINVAL
 * with p->err naming the bad value and what is allowed. Not
 * reentrant (getopt_long), but may be called again.
 */
int ik_cli_parse_options(struct ik_plan *p, int argc, char **argv);

/*
 * The options that are not at their default and do not apply to
 * p->cfg.kernel: 0, or -EINVAL with the first one's refusal in p->err.
 */
int ik_cli_check_kernels(struct ik_plan *p);

/* 1 << enum ik_kernel for each kernel a kernel-specific row applies to
 * (the kernels that list it); 0 for a row common to all. */
unsigned ik_cli_option_kernels(const struct ik_option *o);

/* The names of the kernels in mask, joined by sep, into out. */
void ik_cli_kernel_names(unsigned mask, const char *sep, char *out, size_t len);

/*
 * The whole command line: ik_cli_parse_options, then every check that
 * needs no file and no topology (how options combine, what the methods
 * carry, this process's limits), then the values that follow from the
 * rest (a stream's default duration, the pins each kernel reads).
 * Returns as ik_cli_parse_options does.
 */
int ik_cli_parse(struct ik_plan *p, int argc, char **argv);

/* The cells issue 19's lists make of each (--first-touch x --home x
 * --line-op x --stride x --lines), 1 when none is given. */
unsigned ik_cli_line_cells(const struct ik_sweep *sw);

/* cfg's CPUs from p->pins: a pair's A and B (the first pair's), or a
 * crew's server and clients; cfg->pinned with --pin auto too. */
void ik_cli_cell_cpus(struct ik_plan *p);

/*
 * The name in names (NULL-terminated) nearest to s by edit distance, a
 * prefix counting as one edit, when near enough to be a slip (at most a
 * third of s, 1 to 3 edits); else NULL. Every "did you mean" asks this.
 */
const char *ik_cli_nearest(const char *s, const char *const *names);

#define IK_CHOICES_MAX 16 /* the most names a CHOICE row has */

/* A CHOICE row's names, NULL-terminated: its array, or from choice_of
 * into buf (cap entries). */
const char *const *ik_cli_choices(const struct ik_option *o, const char **buf,
				  unsigned cap);

/* A row's help with its number in, lines joined by '\n', into out. */
void ik_cli_help_text(const struct ik_option *o, char *out, size_t len);

/* --help, from the table. */
void ik_cli_usage(FILE *f);

/* README.md's option table, from the table. */
void ik_cli_options_markdown(FILE *f);

/*
 * Why an output could not be written, in the words of output.c's rules:
 * a static string, never NULL.
 */
const char *ik_cli_out_error(int err);

/*
 * Progress of a run, on stderr (cli/progress.c): one line redrawn in
 * place between cells when stderr is a terminal and the run is long
 * (over IK_PROGRESS_AFTER_NS, estimated or elapsed), erased at the end;
 * with verbose a line per finished cell instead, terminal or not. Never
 * called from inside a timed loop: between cells, and while one runs
 * from its controller's polls (ik_progress_tick).
 */
#define IK_PROGRESS_AFTER_NS (2 * IK_NS_PER_SEC)

struct ik_progress {
	bool tty, verbose; /* what to draw; neither: nothing at all */
	bool drawn;	   /* a line is on the terminal now */
	unsigned done, total;
	uint64_t t0;		    /* ik_clock_ns() at the start */
	uint64_t t_done, t_drawn;   /* when the last cell ended, was drawn */
	double est_total, est_done; /* ns, from ik_cli_cell_estimate */
	char what[160];		    /* the cell being measured */
};

/* A rough time for one measurement of cell, in ns: its --duration, or
 * (iters + warmup) x (a 10 us round trip + gap + work), for echo and
 * connect iters x clients (a connect request 40 us), plus 20 ms of
 * start-up and 0.2 ms a client. An estimate for plans and ETAs, never a
 * result. */
double ik_cli_cell_estimate(const struct ik_config *cell);
/* The whole run's rough time: est (one repeat's) x --repeat, or, when
 * --repeat-every spreads the repeats further, their spread + one. */
double ik_cli_plan_total(const struct ik_cli_gate *g, double est);
/* The progress line's time left at now (ik_clock_ns), in ns. */
double ik_progress_left_ns(const struct ik_progress *pg, uint64_t now);

/* The run's cells and repeats; quiet: nothing on stderr. */
void ik_progress_start(struct ik_progress *pg, const struct ik_plan *p,
		       unsigned total, double est_total);
/* Cell what begins (redraws the line); est_ns its estimate. */
void ik_progress_cell(struct ik_progress *pg, const char *what);
/* The cell ended (err: it failed); est_ns as it was estimated. */
void ik_progress_done(struct ik_progress *pg, double est_ns, int err);
/* While a cell runs (struct ik_run's progress hook, arg a struct
 * ik_progress): the line redrawn, at most once a second. */
void ik_progress_tick(void *arg);
/* A soak minute's line on stderr (the header before the first); arg is
 * the progress, or NULL (kernels/kernels.h: ik_run.soak_minute). */
void ik_progress_soak(void *arg, unsigned m, const struct ik_soak_minute *s);
/* Erase the line (at the end, before anything else goes to stderr). */
void ik_progress_clear(struct ik_progress *pg);

/* A cell's short name for progress and plans ("spsc 64 B thread"). */
void ik_cli_cell_name(const struct ik_plan *p, const struct ik_config *cell,
		      const struct ik_transport_ops *ops, enum ik_mode mode,
		      const char *pair, char *out, size_t len);

/*
 * Every cell of p once: p->cfg with each combination of p->sweep's
 * methods x sizes x buffers x gaps x works x clients x servers x modes,
 * each over
 * its pairs (--pairs with p->pins, --classes or --matrix), into
 * results[]; failures are reported on stderr as they happen and set
 * *failed; pg (may be NULL) hears of each cell between cells. Stops
 * early once *run->interrupted is set: a cell the signal cut short is
 * not counted (nor reported as a failure). Returns the results written.
 */
unsigned ik_cli_run_grid(const struct ik_plan *p,
			 const struct ik_class_pair *classes,
			 const struct ik_run *run, struct ik_result *results,
			 struct ik_progress *pg, bool *failed);

/*
 * The cells ik_cli_run_grid would measure, walked without measuring:
 * with f, one line each (its name and estimate) for --dry-run. Returns
 * the results they would make (--pairs N: N + 1 rows), with *cells the
 * measurements and *est_ns their estimated total.
 */
unsigned ik_cli_plan_grid(const struct ik_plan *p,
			  const struct ik_class_pair *classes, FILE *f,
			  unsigned *cells, double *est_ns);

/*
 * --repeat: cell j of repeat r is results[r * stride + j]. Keeps every
 * repeat's metrics in cell j of the first and pools the rest into it
 * (freeing them). Returns 0 or -ENOMEM.
 */
int ik_cli_fold_repeats(struct ik_result *results, unsigned n, unsigned nrep,
			size_t stride);

/* Whether the harness floor goes with this run: ping-pong on one stated
 * pair (not classes, matrix or concurrent pairs, which have many). */
bool ik_cli_floor_applies(const struct ik_plan *p);

/* ipc/floor.c through the ping-pong kernel on cfg's pair: threads, size 1,
 * no gap. Returns 0 or the kernel's -errno (why in res->errmsg). */
int ik_cli_measure_floor(const struct ik_config *cfg, const struct ik_run *run,
			 struct ik_result *res);

/*
 * Notes for the report about the pinned pair's SMT siblings that were
 * busy (sampled over 100 ms), for the caller to warn of once; note[]
 * is the storage rep->notes point into.
 */
void ik_cli_sibling_warnings(const struct ik_config *c,
			     const struct ik_topo *tp, char (*note)[200],
			     struct ik_report *rep);

/*
 * The gate: the baseline comparison (bl, or NULL), the history's change
 * points (hist, or NULL) and the assertions,
 * one summary on out (and --summary-md, created under mkdirs). Returns
 * the exit code: IK_EXIT_GATE when a check failed or the baseline
 * compared nothing, IK_EXIT_USAGE when a check cannot be made (a
 * mismatched baseline, say), IK_EXIT_RUNTIME when the summary could not
 * be written, else 0.
 */
/* --gate history's series: the run just appended (id) is the newest. */
struct ik_cli_hist {
	const struct ik_hist_set *set;
	long long id;
	struct ik_history_opts opts;
};
int ik_cli_run_gate(const struct ik_cli_gate *gate, bool mkdirs,
		    const struct ik_report *rep, const struct ik_baseline *bl,
		    const struct ik_cli_hist *hist, FILE *out);

/* `ipckern history WHERE ...` (argv[0] "history"): the exit code. */
int ik_cli_history(int argc, char **argv);

#endif
