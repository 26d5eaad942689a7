/* SPDX-License-Identifier: MIT */
/*
 * The cell key (cell.h): which results are the same cell, made once from
 * a result or a baseline's JSON, compared with an explicit ignore set,
 * and named the way each output names it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cell.h"

const char *ik_cell_kernel_name(int kernel)
{
	if (kernel < 0 || kernel >= IK_NKERNELS)
		return "?";
	return ik_kernels[kernel]->name;
}

int ik_cell_kernel_by_name(const char *name)
{
	const struct ik_kernel_ops *k = ik_kernel_find(name);

	return k ? (int)k->id : -1;
}

/* What else tells the kernel's cells apart (enum ik_key_dim); none for
 * an unknown kernel. */
static unsigned keys_of(int kernel)
{
	return kernel >= 0 && kernel < IK_NKERNELS ? ik_kernels[kernel]->keys
						   : 0;
}

static void copy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s);
}

/* Appends to b at *u, bounded. */
static void add(char *b, size_t n, size_t *u, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void ik_cell_line_key(int touch, int touch_cpu, bool homed, int home,
		      const struct ik_lines *l, char *b, size_t n)
{
	size_t u = 0;

	if (n)
		b[0] = 0;
	if (touch == IK_TOUCH_A || touch == IK_TOUCH_B)
		add(b, n, &u, "/touch:%s", touch == IK_TOUCH_A ? "a" : "b");
	else if (touch == IK_TOUCH_CPU)
		add(b, n, &u, "/touch:cpu%d", touch_cpu);
	if (homed)
		add(b, n, &u, "/home:%d", home);
	if (l->fresh)
		add(b, n, &u, "/fresh");
	if (l->op != IK_LINE_STORE && l->op < IK_NLINE_OPS)
		add(b, n, &u, "/op:%s", ik_line_op_names[l->op]);
	if (l->stride && l->stride != IK_CACHELINE)
		add(b, n, &u, "/stride:%u", l->stride);
	if (l->n > 1)
		add(b, n, &u, "/lines:%u", l->n);
	if (u && n) /* no leading '/' */
		memmove(b, b + 1, strlen(b));
}

void ik_cell_group_key(int shape, unsigned n, char *b, size_t len)
{
	size_t u = 0;

	if (len)
		b[0] = 0;
	if (shape == IK_SHAPE_FANOUT)
		add(b, len, &u, "fanout:1:%u", n);
	else if (shape == IK_SHAPE_FANIN)
		add(b, len, &u, "fanin:%u:1", n);
	else if (shape == IK_SHAPE_PIPELINE)
		add(b, len, &u, "pipeline:%u", n);
	else if (shape == IK_SHAPE_CONTEND)
		add(b, len, &u, "contend:%u", n);
}

void ik_cell_key_of(const struct ik_result *res, struct ik_cell_key *k)
{
	const struct ik_kernel_ops *ko = ik_result_ops(res);
	bool alone = res->npairs <= 1;

	memset(k, 0, sizeof(*k));
	k->kernel = (int)ko->id;
	copy(k->method, sizeof(k->method), res->ops->name);
	copy(k->mode, sizeof(k->mode), ik_mode_name(res->mode));
	k->size = res->size;
	k->buffer = res->buffer;
	k->gap_ns = res->gap_ns;
	if (ko->keys & IK_KEY_SERVER)
		copy(k->server, sizeof(k->server),
		     ik_server_names[res->server]);
	if (ko->keys & IK_KEY_CLIENTS)
		k->clients = res->clients;
	if (ko->keys & IK_KEY_WORK)
		k->work_ns = res->work_ns;
	if (res->cls >= 0)
		copy(k->cls, sizeof(k->cls),
		     ik_class_key((enum ik_class)res->cls));
	k->npairs = alone ? 1 : res->npairs;
	k->pair_index = alone ? 0 : res->pair_index;
	k->cpu[0] = res->pair.pinned ? res->pair.cpu[0] : -1;
	k->cpu[1] = res->pair.pinned ? res->pair.cpu[1] : -1;
	ik_cell_line_key(res->line.touch, res->line.touch_cpu, res->line.homed,
			 res->line.home, &res->line.lines, k->line,
			 sizeof(k->line));
	copy(k->load, sizeof(k->load), res->load.text);
	if (res->wait_shown) {
		copy(k->wait, sizeof(k->wait), ik_wait_name(res->wait));
		if (res->wait == IK_WAIT_HYBRID)
			ik_spin_budget_name(res->spin_budget, k->spin_budget,
					    sizeof(k->spin_budget));
	}
	if (res->group) {
		ik_cell_group_key(res->group->shape, res->group->shape_n,
				  k->group, sizeof(k->group));
		k->oversubscribed = res->group->oversubscribed;
	}
	k->preheat_ms = res->preheat.ms;
}

/*
 * The line key from a result's JSON: first_touch "a", "b" or a CPU,
 * home, fresh, line_op, stride, lines, each optional. 0 or -EINVAL.
 */
static int json_line(json_t *res, struct ik_cell_key *k)
{
	json_t *t = json_object_get(res, "first_touch"),
	       *h = json_object_get(res, "home"),
	       *f = json_object_get(res, "fresh"),
	       *op = json_object_get(res, "line_op");
	struct ik_lines l = {0};
	int touch = IK_TOUCH_NONE, cpu = -1, home = -1;
	uint64_t v = 0;

	if (json_is_string(t) && !strcmp(json_string_value(t), "a"))
		touch = IK_TOUCH_A;
	else if (json_is_string(t) && !strcmp(json_string_value(t), "b"))
		touch = IK_TOUCH_B;
	else if (json_is_integer(t) && json_integer_value(t) >= 0 &&
		 json_integer_value(t) < 1 << 20)
		touch = IK_TOUCH_CPU, cpu = (int)json_integer_value(t);
	else if (t && !json_is_null(t))
		return -EINVAL;
	if (h && !json_is_null(h)) {
		if (ik_json_uint(res, "home", &v) || v > 4095)
			return -EINVAL;
		home = (int)v;
	}
	if (f && !json_is_boolean(f))
		return -EINVAL;
	l.fresh = json_is_true(f);
	if (op && !json_is_null(op)) {
		if (!json_is_string(op))
			return -EINVAL;
		while (l.op < IK_NLINE_OPS &&
		       strcmp(ik_line_op_names[l.op], json_string_value(op)))
			l.op++;
		if (l.op == IK_NLINE_OPS)
			return -EINVAL;
	}
	if (json_object_get(res, "stride")) {
		if (ik_json_uint(res, "stride", &v) || v > 4096)
			return -EINVAL;
		l.stride = (unsigned)v;
	}
	if (json_object_get(res, "lines")) {
		if (ik_json_uint(res, "lines", &v) || v > IK_LINES_MAX)
			return -EINVAL;
		l.n = (unsigned)v;
	}
	ik_cell_line_key(touch, cpu, home >= 0, home, &l, k->line,
			 sizeof(k->line));
	return 0;
}

/*
 * The group kernel's shape and shape_n, group.oversubscribed and
 * preheat.ms, each optional (absent before they were keyed). 0 or
 * -EINVAL.
 */
static int json_group(json_t *res, struct ik_cell_key *k)
{
	json_t *sh = json_object_get(res, "shape"),
	       *ov = json_object_get(json_object_get(res, "group"),
				     "oversubscribed"),
	       *ph = json_object_get(res, "preheat");
	uint64_t n = 0;
	int shape = 0;

	if (sh) {
		if (!json_is_string(sh) || ik_json_uint(res, "shape_n", &n) ||
		    n > IK_GROUP_MAX)
			return -EINVAL;
		while (ik_shape_names[shape] &&
		       strcmp(ik_shape_names[shape], json_string_value(sh)))
			shape++;
		if (!ik_shape_names[shape])
			return -EINVAL;
		ik_cell_group_key(shape, (unsigned)n, k->group,
				  sizeof(k->group));
	}
	if (ov && !json_is_boolean(ov))
		return -EINVAL;
	k->oversubscribed = json_is_true(ov);
	if (ph) {
		if (ik_json_uint(ph, "ms", &n) || n > UINT32_MAX)
			return -EINVAL;
		k->preheat_ms = (unsigned)n;
	}
	return 0;
}

int ik_json_str(json_t *o, const char *key, char *dst, size_t n, bool need)
{
	json_t *v = json_object_get(o, key);

	dst[0] = 0;
	if (!v)
		return need ? -1 : 0;
	if (!json_is_string(v) || json_string_length(v) >= n)
		return -1;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int ik_json_uint(json_t *o, const char *key, uint64_t *dst)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*dst = (uint64_t)json_integer_value(v);
	return 0;
}

/* pair.cpus when it is two CPU numbers; -1 otherwise (not an error:
 * unpinned runs write null, and no comparison of baselines uses it). */
static void json_cpus(json_t *res, int cpu[2])
{
	json_t *a = json_object_get(json_object_get(res, "pair"), "cpus");

	cpu[0] = cpu[1] = -1;
	if (!json_is_array(a) || json_array_size(a) != 2)
		return;
	for (int i = 0; i < 2; i++) {
		json_t *v = json_array_get(a, (size_t)i);

		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1 << 20) {
			cpu[0] = cpu[1] = -1;
			return;
		}
		cpu[i] = (int)json_integer_value(v);
	}
}

/* pairs_at_once N (2..IK_MAX_PAIRS) and pair_number 1..N, or null or
 * "sum" (as written before) for the sum of all pairs. */
static int json_pair(json_t *res, struct ik_cell_key *k)
{
	json_t *pn = json_object_get(res, "pair_number"),
	       *pa = json_object_get(res, "pairs_at_once");
	json_int_t n, i;

	k->npairs = 1;
	k->pair_index = 0;
	if (!pn && !pa)
		return 0;
	if (!json_is_integer(pa))
		return -ERANGE;
	n = json_integer_value(pa);
	if (n < 2 || n > IK_MAX_PAIRS)
		return -ERANGE;
	k->npairs = (unsigned)n;
	/* the sum: null (with sum_of_pairs), or "sum" as written before */
	if (json_is_null(pn) ||
	    (json_is_string(pn) && !strcmp(json_string_value(pn), "sum"))) {
		k->pair_index = -1;
		return 0;
	}
	if (!json_is_integer(pn))
		return -ERANGE;
	i = json_integer_value(pn);
	if (i < 1 || i > n)
		return -ERANGE;
	k->pair_index = (int)(i - 1);
	return 0;
}

/* "wait" and "spin_budget" ({"ns": N} or {"iters": N}), both optional;
 * 0 or -1 for a wrong type */
static int json_budget(json_t *res, struct ik_cell_key *k)
{
	json_t *b = json_object_get(res, "spin_budget");
	uint64_t v;

	if (ik_json_str(res, "wait", k->wait, sizeof(k->wait), false))
		return -1;
	if (!b)
		return 0;
	if (!json_is_object(b))
		return -1;
	if (json_object_get(b, "iters")) {
		if (ik_json_uint(b, "iters", &v))
			return -1;
		v |= IK_BUDGET_ITERS;
	} else if (ik_json_uint(b, "ns", &v)) {
		return -1;
	}
	ik_spin_budget_name(v, k->spin_budget, sizeof(k->spin_budget));
	return 0;
}

int ik_cell_key_from_json(json_t *res, int kernel, struct ik_cell_key *k)
{
	memset(k, 0, sizeof(*k));
	k->kernel = kernel;
	if (!json_is_object(res) ||
	    ik_json_str(res, "method", k->method, sizeof(k->method), true) ||
	    ik_json_str(res, "mode", k->mode, sizeof(k->mode), true) ||
	    ik_json_uint(res, "size", &k->size) ||
	    (!json_is_null(json_object_get(res, "buffer")) &&
	     ik_json_uint(res, "buffer", &k->buffer)) ||
	    ik_json_uint(res, "gap_ns", &k->gap_ns) ||
	    ik_json_str(res, "class", k->cls, sizeof(k->cls), false) ||
	    ik_json_str(res, "server", k->server, sizeof(k->server), false) ||
	    (json_object_get(res, "clients") &&
	     ik_json_uint(res, "clients", &k->clients)) ||
	    (json_object_get(res, "work_ns") &&
	     ik_json_uint(res, "work_ns", &k->work_ns)) ||
	    ik_json_str(res, "load", k->load, sizeof(k->load), false))
		return -EINVAL;
	json_cpus(res, k->cpu);
	if (json_line(res, k) || json_budget(res, k) || json_group(res, k))
		return -EINVAL;
	return json_pair(res, k);
}

bool ik_cell_key_eq(const struct ik_cell_key *a, const struct ik_cell_key *b,
		    unsigned ignore)
{
#define SAME(bit, cond) ((ignore & (bit)) || (cond))
	return SAME(IK_CF_KERNEL, a->kernel == b->kernel) &&
	       SAME(IK_CF_METHOD, !strcmp(a->method, b->method)) &&
	       SAME(IK_CF_MODE, !strcmp(a->mode, b->mode)) &&
	       SAME(IK_CF_SIZE, a->size == b->size) &&
	       SAME(IK_CF_BUFFER, a->buffer == b->buffer) &&
	       SAME(IK_CF_GAP, a->gap_ns == b->gap_ns) &&
	       SAME(IK_CF_SERVER, !strcmp(a->server, b->server)) &&
	       SAME(IK_CF_CLIENTS, a->clients == b->clients) &&
	       SAME(IK_CF_WORK, a->work_ns == b->work_ns) &&
	       SAME(IK_CF_CLASS, !strcmp(a->cls, b->cls)) &&
	       SAME(IK_CF_PAIR,
		    a->npairs == b->npairs && a->pair_index == b->pair_index) &&
	       SAME(IK_CF_CPUS,
		    a->cpu[0] == b->cpu[0] && a->cpu[1] == b->cpu[1]) &&
	       SAME(IK_CF_LINE, !strcmp(a->line, b->line)) &&
	       SAME(IK_CF_LOAD, !strcmp(a->load, b->load)) &&
	       SAME(IK_CF_WAIT,
		    !strcmp(a->wait, b->wait) &&
			    !strcmp(a->spin_budget, b->spin_budget)) &&
	       SAME(IK_CF_GROUP,
		    !strcmp(a->group, b->group) &&
			    a->oversubscribed == b->oversubscribed) &&
	       SAME(IK_CF_PREHEAT, a->preheat_ms == b->preheat_ms);
#undef SAME
}

void ik_cell_pair_name(unsigned npairs, int pair_index, char *b, size_t n)
{
	if (npairs <= 1)
		snprintf(b, n, "1/1");
	else if (pair_index < 0)
		snprintf(b, n, "sum/%u", npairs);
	else
		snprintf(b, n, "%d/%u", pair_index + 1, npairs);
}

static void add(char *b, size_t n, size_t *u, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*u >= n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(b + *u, n - *u, fmt, ap);
	va_end(ap);
	if (w > 0)
		*u += (size_t)w;
}

static void gbench_name(const struct ik_cell_key *k, char *b, size_t n)
{
	size_t u = 0;

	add(b, n, &u, "%s/%s/%s/size:%llu", ik_cell_kernel_name(k->kernel),
	    k->method, k->mode, (unsigned long long)k->size);
	if (keys_of(k->kernel) & IK_KEY_SERVER)
		add(b, n, &u, "/server:%s", k->server);
	if (keys_of(k->kernel) & IK_KEY_CLIENTS)
		add(b, n, &u, "/clients:%llu", (unsigned long long)k->clients);
	if (keys_of(k->kernel) & IK_KEY_WORK)
		add(b, n, &u, "/work:%llu", (unsigned long long)k->work_ns);
	if (k->buffer)
		add(b, n, &u, "/buffer:%llu", (unsigned long long)k->buffer);
	if (k->gap_ns)
		add(b, n, &u, "/gap:%llu", (unsigned long long)k->gap_ns);
	if (k->wait[0])
		add(b, n, &u, "/wait:%s", k->wait);
	if (k->spin_budget[0])
		add(b, n, &u, "/budget:%s", k->spin_budget);
	if (k->cls[0])
		add(b, n, &u, "/class:%s", k->cls);
	if (k->npairs > 1 && k->pair_index < 0)
		add(b, n, &u, "/pair:sum%u", k->npairs);
	else if (k->npairs > 1) /* pair 1 of 2 is not pair 1 of 4 */
		add(b, n, &u, "/pair:%dof%u", k->pair_index + 1, k->npairs);
	if (k->line[0])
		add(b, n, &u, "/%s", k->line);
	if (k->load[0])
		add(b, n, &u, "/load:%s", k->load);
	if (k->group[0])
		add(b, n, &u, "/%s", k->group);
	if (k->oversubscribed)
		add(b, n, &u, "/oversubscribed");
	if (k->preheat_ms)
		add(b, n, &u, "/preheat:%ums", k->preheat_ms);
}

static void label_name(const struct ik_cell_key *k, char *b, size_t n)
{
	size_t u = 0;

	add(b, n, &u, "%s %llu B", k->mode, (unsigned long long)k->size);
	if (k->buffer)
		add(b, n, &u, " buf %llu", (unsigned long long)k->buffer);
	if (keys_of(k->kernel) & IK_KEY_SERVER)
		add(b, n, &u, " %s server", k->server);
	if (keys_of(k->kernel) & IK_KEY_CLIENTS)
		add(b, n, &u, " %llu clients", (unsigned long long)k->clients);
	if (keys_of(k->kernel) & IK_KEY_WORK)
		add(b, n, &u, " work %llu ns", (unsigned long long)k->work_ns);
	if (k->gap_ns)
		add(b, n, &u, " gap %llu ns", (unsigned long long)k->gap_ns);
	if (k->wait[0])
		add(b, n, &u, " wait %s", k->wait);
	if (k->spin_budget[0])
		add(b, n, &u, " budget %s", k->spin_budget);
	if (k->cls[0])
		add(b, n, &u, " %s", k->cls);
	if (k->npairs > 1 && k->pair_index < 0)
		add(b, n, &u, " sum of %u pairs", k->npairs);
	else if (k->npairs > 1)
		add(b, n, &u, " pair %d/%u", k->pair_index + 1, k->npairs);
	if (k->line[0])
		add(b, n, &u, " %s", k->line);
	if (k->load[0])
		add(b, n, &u, " load %s", k->load);
	if (k->group[0])
		add(b, n, &u, " %s", k->group);
	if (k->oversubscribed)
		add(b, n, &u, " oversubscribed");
	if (k->preheat_ms)
		add(b, n, &u, " preheat %u ms", k->preheat_ms);
}

static void baseline_name(const struct ik_cell_key *k, char *b, size_t n)
{
	size_t u = 0;
	char pair[24];

	add(b, n, &u, "%s %s %llu B", k->method, k->mode,
	    (unsigned long long)k->size);
	if (k->buffer)
		add(b, n, &u, " buf %llu", (unsigned long long)k->buffer);
	if (k->server[0])
		add(b, n, &u, " %s server", k->server);
	if (k->clients)
		add(b, n, &u, " %llu clients", (unsigned long long)k->clients);
	if (k->work_ns)
		add(b, n, &u, " work %llu ns", (unsigned long long)k->work_ns);
	if (k->gap_ns)
		add(b, n, &u, " gap %llu ns", (unsigned long long)k->gap_ns);
	if (k->wait[0])
		add(b, n, &u, " wait %s", k->wait);
	if (k->spin_budget[0])
		add(b, n, &u, " budget %s", k->spin_budget);
	if (k->cls[0])
		add(b, n, &u, " %s", k->cls);
	if (k->npairs > 1) {
		ik_cell_pair_name(k->npairs, k->pair_index, pair, sizeof(pair));
		add(b, n, &u, " pair %s", pair);
	}
	if (k->line[0])
		add(b, n, &u, " %s", k->line);
	if (k->load[0])
		add(b, n, &u, " load %s", k->load);
	if (k->group[0])
		add(b, n, &u, " %s", k->group);
	if (k->oversubscribed)
		add(b, n, &u, " oversubscribed");
	if (k->preheat_ms)
		add(b, n, &u, " preheat %u ms", k->preheat_ms);
}

void ik_cell_key_name(const struct ik_cell_key *k, enum ik_cell_name_style s,
		      char *b, size_t n)
{
	if (n)
		b[0] = 0;
	if (s == IK_CELL_NAME_GBENCH)
		gbench_name(k, b, n);
	else if (s == IK_CELL_NAME_LABEL)
		label_name(k, b, n);
	else
		baseline_name(k, b, n);
}
