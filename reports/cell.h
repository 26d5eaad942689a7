/* SPDX-License-Identifier: MIT */
/*
 * Which results are "the same cell": one key for every place that asks
 * (the table's "x line", --baseline's matching, --normalize, --assert's
 * other side, gbench names, the gate's cell names). A key is made from a
 * result or from a baseline file's cell; two keys are compared field by
 * field, less an explicit set of fields to ignore; and its names are
 * written here, in the shape each output has always used.
 */
#ifndef IK_CELL_H
#define IK_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../kernels/kernels.h"

/* The fields of a key, as bits for an ignore set. */
enum ik_cell_field {
	IK_CF_KERNEL = 1u << 0,
	IK_CF_METHOD = 1u << 1,
	IK_CF_MODE = 1u << 2,
	IK_CF_SIZE = 1u << 3,
	IK_CF_BUFFER = 1u << 4,
	IK_CF_GAP = 1u << 5,
	IK_CF_SERVER = 1u << 6,	  /* IK_KEY_SERVER: the server model */
	IK_CF_CLIENTS = 1u << 7,  /* IK_KEY_CLIENTS */
	IK_CF_WORK = 1u << 8,	  /* IK_KEY_WORK */
	IK_CF_CLASS = 1u << 9,	  /* --classes */
	IK_CF_PAIR = 1u << 10,	  /* --pairs: pairs at once, which one */
	IK_CF_CPUS = 1u << 11,	  /* the two CPUs (--matrix, --pin) */
	IK_CF_LINE = 1u << 12,	  /* line provenance (issue 19) */
	IK_CF_LOAD = 1u << 13,	  /* --load: the antagonists, as written */
	IK_CF_WAIT = 1u << 14,	  /* --wait (and hybrid's budget) */
	IK_CF_GROUP = 1u << 15,	  /* group: shape, N, oversubscribed */
	IK_CF_PREHEAT = 1u << 16, /* --preheat ms */
};

/*
 * The ignore sets in use, each with why:
 * IK_CELL_X_LINE   "x line": the same cell measured by line.
 * IK_CELL_PARTNER  --normalize and --assert's other side: the same cell
 *                  of this run measured by another method.
 * IK_CELL_BASELINE a cell of a saved baseline: CPU numbers are this
 *                  host's (the pair's relation is checked instead, by
 *                  ik_baseline_mismatch), and the kernel is the saved
 *                  config's, compared there too.
 */
#define IK_CELL_X_LINE	 (IK_CF_METHOD | IK_CF_WAIT)
#define IK_CELL_PARTNER	 (IK_CF_METHOD | IK_CF_WAIT)
#define IK_CELL_BASELINE (IK_CF_KERNEL | IK_CF_CPUS)

/*
 * One cell. Strings are kept as the JSON writes them ("" where the
 * field does not apply), so a baseline's unknown value never equals a
 * result's and names it as written. Fields that do not apply to the
 * kernel are "" or 0, so they never tell cells apart.
 */
struct ik_cell_key {
	int kernel; /* enum ik_kernel, or -1 unknown */
	char method[32];
	char mode[16];
	uint64_t size, buffer, gap_ns;
	char server[16];  /* echo: its model */
	uint64_t clients; /* echo, connect */
	uint64_t work_ns; /* call */
	char cls[24];	  /* --classes: the class key */
	unsigned npairs;  /* pairs at once; 1 alone */
	int pair_index;	  /* 0..npairs-1, -1 for their sum; 0 alone */
	int cpu[2];	  /* -1 unpinned or unknown */
	/* line provenance, its non-default parts joined by '/' (e.g.
	 * "touch:a/op:cas/stride:128"); "" for none (ik_cell_line_key) */
	char line[96];
	/* --load's set as written; "" without --load */
	char load[IK_LOAD_TEXT];
	/* --wait given, a method that takes it: the strategy, and hybrid's
	 * budget as ik_spin_budget_name spells it; else "" */
	char wait[16];
	char spin_budget[24];
	/* group: its shape as the option writes it ("fanout:1:3",
	 * "fanin:3:1", "pipeline:2", "contend:4"), and whether it ran more
	 * parties than CPUs; "" and false for the other kernels */
	char group[24];
	bool oversubscribed;
	unsigned preheat_ms; /* --preheat; 0 none */
};

/*
 * The line key of a cell: first touch (IK_TOUCH_*, its CPU), home node
 * (homed), fresh, op, stride (0 is 64) and lines (0 is 1), each only
 * when not the default, into b.
 */
void ik_cell_line_key(int touch, int touch_cpu, bool homed, int home,
		      const struct ik_lines *l, char *b, size_t n);

/* The group kernel's shape s (enum ik_shape) of n as its option
 * writes it ("fanout:1:3", "pipeline:2"), into b; "" for none. */
void ik_cell_group_key(int shape, unsigned n, char *b, size_t len);

/* The kernel's name as --kernel takes it; "?" for none. */
const char *ik_cell_kernel_name(int kernel);
/* Its enum from that name; -1 when unknown. */
int ik_cell_kernel_by_name(const char *name);

/* Which kernel measured res (the first, ping-pong, when none says). */
static inline const struct ik_kernel_ops *
ik_result_ops(const struct ik_result *res)
{
	return res->kernel ? res->kernel : ik_kernels[0];
}

/* The msgs a per-msg CPU figure of res divides by: a stream's messages,
 * a call's timed calls, else the round trips with their warm-up. */
static inline uint64_t ik_result_msgs(const struct ik_result *res)
{
	const struct ik_kernel_ops *k = ik_result_ops(res);

	return k->one_way	   ? res->stream.messages
	       : k->cpu_timed_only ? res->count
				   : res->count + res->warmup;
}

void ik_cell_key_of(const struct ik_result *res, struct ik_cell_key *k);
/*
 * From one entry of a report's "results" (kernel: the saved config's,
 * or -1), checking every type and range. 0; -EINVAL when method, mode,
 * size, buffer, gap_ns, class, server, clients or work_ns is missing or
 * of the wrong type; -ERANGE for a pair_number that is not 1..N,
 * null or "sum" with pairs_at_once N in 2..IK_MAX_PAIRS.
 */
int ik_cell_key_from_json(json_t *res, int kernel, struct ik_cell_key *k);

/* JSON readers the baseline reader shares: a string member that fits
 * dst ("" when absent and optional), an integer member >= 0. 0 or -1. */
int ik_json_str(json_t *o, const char *key, char *dst, size_t n, bool need);
int ik_json_uint(json_t *o, const char *key, uint64_t *dst);

/* Equal in every field not in ignore (enum ik_cell_field bits). */
bool ik_cell_key_eq(const struct ik_cell_key *a, const struct ik_cell_key *b,
		    unsigned ignore);

/* "1/1", "2/4", "sum/4": the table's pair column. */
void ik_cell_pair_name(unsigned npairs, int pair_index, char *b, size_t n);

enum ik_cell_name_style {
	/* KERNEL/METHOD/MODE/size:N[/server:S][/clients:C][/work:W]
	 * [/buffer:N][/gap:N][/class:K][/pair:IofN or sumN][/LINE]
	 * [/load:L][/fanout:1:N etc.][/oversubscribed][/preheat:Nms]: gbench's
	 * name (a --matrix report adds /cpus:A,B, gbench.c) */
	IK_CELL_NAME_GBENCH,
	/* "thread 8 B buf N ...", no method: the gate's and --repeat's */
	IK_CELL_NAME_LABEL,
	/* "spsc thread 8 B ... pair 1/2": the baseline reader's errors */
	IK_CELL_NAME_BASELINE,
};
void ik_cell_key_name(const struct ik_cell_key *k, enum ik_cell_name_style s,
		      char *b, size_t n);

#endif
