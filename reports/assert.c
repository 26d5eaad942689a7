/* SPDX-License-Identifier: MIT */
/*
 * --assert: "spsc.p99<2us", "pipe.p50<=1.2*futex.p50",
 * "tcp.throughput>=500MB/s". A small hand parser (the grammar is one
 * line: side OP side, a side being a metric reference or a quantity,
 * optionally times a number) that checks units against the metric's
 * dimension, and an evaluator that applies it to every result cell the
 * reference selects.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "gate.h"

#define UNITS_HELP                                                             \
	"ns us ms s; msgs/s; B/s; rates take k M G (SI) or Ki Mi Gi "          \
	"(binary) prefixes"
#define METRICS_HELP "min p50 p90 p99 p99_9 max mean msgs throughput cpu"

struct lex {
	const char *s, *p;
	char *err;
	size_t errlen;
};

static int fail(struct lex *lx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lx->err, lx->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void skip_ws(struct lex *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t')
		lx->p++;
}

/* A unit: its dimension and how many base units (ns, msgs/s, B/s) it is */
static int parse_unit(struct lex *lx, enum ik_dim *dim, double *scale)
{
	static const struct {
		const char *name;
		double mult;
	} pre[] = {{"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0},
		   {"k", 1e3},	   {"M", 1e6},	      {"G", 1e9},
		   {"", 1}};
	static const struct {
		const char *name;
		double ns;
	} times[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
	const char *u = lx->p;
	size_t len = 0, k;

	while (u[len] && (isalpha((unsigned char)u[len]) || u[len] == '/'))
		len++;
	if (!len)
		return fail(lx, "'%.20s' has no unit; units: %s", lx->s,
			    UNITS_HELP);
	lx->p += len;
	for (k = 0; k < IK_ARRAY_SIZE(times); k++)
		if (strlen(times[k].name) == len &&
		    !strncmp(u, times[k].name, len)) {
			*dim = IK_DIM_TIME;
			*scale = times[k].ns;
			return 0;
		}
	for (k = 0; k < IK_ARRAY_SIZE(pre); k++) {
		size_t pl = strlen(pre[k].name);
		const char *rest = u + pl;
		size_t rl = len - pl;

		if (pl > len || strncmp(u, pre[k].name, pl))
			continue;
		*scale = pre[k].mult;
		if ((rl == 3 && !strncmp(rest, "B/s", 3))) {
			*dim = IK_DIM_BYTES;
			return 0;
		}
		if ((rl == 6 && !strncmp(rest, "msgs/s", 6)) ||
		    (rl == 5 && !strncmp(rest, "msg/s", 5))) {
			*dim = IK_DIM_MSGS;
			return 0;
		}
	}
	return fail(lx, "unknown unit '%.*s'; units: %s", (int)len, u,
		    UNITS_HELP);
}

/* A number, then a unit if letters follow. */
static int parse_quantity(struct lex *lx, double *v, enum ik_dim *dim)
{
	const char *end;
	double scale = 1;
	int ret;

	/* the options' syntax: decimal, never hex, inf or nan */
	if (ik_parse_decimal(lx->p, v, &end) || *v > 1e18)
		return fail(lx,
			    "'%.20s' is not a number from 0 to 1e18 (decimal, "
			    "like 12, 0.5 or 2e-3)",
			    lx->p);
	lx->p = end;
	*dim = IK_DIM_NONE;
	skip_ws(lx);
	if (isalpha((unsigned char)*lx->p)) {
		ret = parse_unit(lx, dim, &scale);
		if (ret)
			return ret;
	}
	*v *= scale;
	return 0;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* METHOD[:thread|:process][:SIZE].METRIC */
static int parse_ref(struct lex *lx, struct ik_assert_side *sd)
{
	const char *p = lx->p, *m;
	size_t len = 0;
	int metric;

	while (name_char(p[len]))
		len++;
	if (!len || len >= sizeof(sd->method) || !isalpha((unsigned char)*p))
		return fail(lx,
			    "expected METHOD.METRIC or a number from 0 at "
			    "'%.20s'",
			    p);
	memcpy(sd->method, p, len);
	sd->method[len] = 0;
	p += len;
	sd->mode = -1;
	sd->size = 0;
	while (*p == ':') {
		char q[24];
		size_t ql = 0;

		p++;
		while (name_char(p[ql]) && ql < sizeof(q) - 1)
			q[ql] = p[ql], ql++;
		q[ql] = 0;
		p += ql;
		if (!strcmp(q, "thread") || !strcmp(q, "process")) {
			sd->mode =
				q[0] == 't' ? IK_MODE_THREAD : IK_MODE_PROCESS;
		} else if (ql && isdigit((unsigned char)q[0])) {
			char *end;
			unsigned long long z = strtoull(q, &end, 10);
			unsigned long long mul = *end == 'k'   ? 1024
						 : *end == 'm' ? 1 << 20
							       : 1;

			if (mul > 1)
				end++;
			if (*end || !z || z > (1ull << 40))
				return fail(lx, "':%s' is not a message size",
					    q);
			sd->size = (size_t)(z * mul);
		} else {
			return fail(lx,
				    "':%s': a qualifier is thread, process "
				    "or a size (64, 4k)",
				    q);
		}
	}
	if (*p != '.')
		return fail(lx, "'%s' needs a metric: %s.p50; metrics: %s",
			    sd->method, sd->method, METRICS_HELP);
	m = ++p;
	while (isalnum((unsigned char)*p) || *p == '_' ||
	       (*p == '.' && isdigit((unsigned char)p[1])))
		p++;
	metric = ik_metric_by_name(m, (size_t)(p - m));
	if (metric < 0)
		return fail(lx, "unknown metric '%.*s'; metrics: %s",
			    (int)(p - m), m, METRICS_HELP);
	sd->has_ref = true;
	sd->metric = metric;
	sd->dim = ik_metric_infos[metric].dim;
	lx->p = p;
	return 0;
}

/* factor ['*' factor]: at most one reference or one unit per side */
static int parse_side(struct lex *lx, struct ik_assert_side *sd)
{
	int k, ret;

	memset(sd, 0, sizeof(*sd));
	sd->coef = 1;
	for (k = 0; k < 2; k++) {
		skip_ws(lx);
		if (isdigit((unsigned char)*lx->p) || *lx->p == '.') {
			double v;
			enum ik_dim d = IK_DIM_NONE;

			ret = parse_quantity(lx, &v, &d);
			if (ret)
				return ret;
			if (d && (sd->dim || sd->has_ref))
				return fail(lx,
					    "a side is a metric times a "
					    "number, or a quantity: '%s'",
					    lx->s);
			sd->coef *= v;
			sd->dim = d ? d : sd->dim;
		} else {
			if (sd->has_ref || sd->dim)
				return fail(lx,
					    "a side is a metric times a "
					    "number, or a quantity: '%s'",
					    lx->s);
			ret = parse_ref(lx, sd);
			if (ret)
				return ret;
		}
		skip_ws(lx);
		if (*lx->p != '*')
			break;
		lx->p++;
		if (k == 1)
			return fail(lx, "at most one '*' per side: '%s'",
				    lx->s);
	}
	return 0;
}

/* A rate metric against the other rate's unit: bytes <-> messages. */
static int reconcile(struct lex *lx, struct ik_assert_side *ref,
		     const struct ik_assert_side *other)
{
	if (ref->dim == other->dim)
		return 0;
	if (ref->metric == IK_M_BYTES && other->dim == IK_DIM_MSGS &&
	    !other->has_ref) {
		ref->metric = IK_M_MSGS;
		ref->dim = IK_DIM_MSGS;
		return 0;
	}
	if (other->dim == IK_DIM_NONE)
		return fail(lx,
			    "'%s': the bound needs a unit (%s.%s is %s); "
			    "units: %s",
			    lx->s, ref->method,
			    ik_metric_infos[ref->metric].name,
			    ref->dim == IK_DIM_TIME ? "a time" : "a rate",
			    UNITS_HELP);
	return fail(lx, "'%s': the two sides have different units", lx->s);
}

/*
 * "late=0", "lost<=2", "futex:process.late<1": a count of late or lost
 * wake-ups against a whole number. 1: not such a count (the text is an
 * ordinary assertion); 0 or -EINVAL as ik_assert_parse.
 */
static int parse_count(struct lex *lx, struct ik_assertion *a)
{
	const char *p = lx->s, *name = p, *dot = NULL, *q;
	char *end;
	size_t len;
	double v;

	for (q = p; name_char(*q) || *q == ':' || *q == '.'; q++)
		if (*q == '.')
			dot = q;
	if (dot)
		name = dot + 1;
	len = (size_t)(q - name);
	if (len == 4 && !strncmp(name, "late", 4))
		a->count = IK_COUNT_LATE;
	else if (len == 4 && !strncmp(name, "lost", 4))
		a->count = IK_COUNT_LOST;
	else
		return 1;
	if (dot) { /* the method and its qualifiers, as a REF has them */
		struct lex sub = *lx;
		char ref[64];

		if ((size_t)(dot - p) + 4 >= sizeof(ref))
			return fail(lx, "'%s': the method is too long", lx->s);
		snprintf(ref, sizeof(ref), "%.*s.p50", (int)(dot - p), p);
		sub.s = sub.p = ref;
		if (parse_ref(&sub, &a->l))
			return -EINVAL;
		if (a->l.size)
			return fail(lx,
				    "'%s': late and lost take thread or "
				    "process, not a size",
				    lx->s);
	} else {
		a->l.mode = -1;
	}
	lx->p = q;
	skip_ws(lx);
	if (lx->p[0] == '=')
		a->op = IK_EQ;
	else if (lx->p[0] == '<')
		a->op = lx->p[1] == '=' ? IK_LE : IK_LT;
	else
		return fail(lx,
			    "'%s': a count takes =, <= or < and a whole "
			    "number, e.g. late=0",
			    lx->s);
	lx->p += 1 + (lx->p[0] == '<' && lx->p[1] == '=');
	skip_ws(lx);
	errno = 0;
	v = strtod(lx->p, &end);
	if (end == lx->p || errno || v < 0 || v != floor(v) || v > 1e15)
		return fail(lx,
			    "'%s': expected a whole number after the "
			    "operator, e.g. late=0",
			    lx->s);
	lx->p = end;
	skip_ws(lx);
	if (*lx->p)
		return fail(lx, "unexpected '%.20s' at the end", lx->p);
	a->r.coef = v;
	return 0;
}

int ik_assert_parse(const char *s, struct ik_assertion *a, char *err,
		    size_t errlen)
{
	struct lex lx = {.s = s, .p = s, .err = err, .errlen = errlen};
	int ret;

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(a->text))
		return fail(&lx, "longer than %zu characters",
			    sizeof(a->text) - 1);
	strcpy(a->text, s);
	ret = parse_count(&lx, a);
	if (ret <= 0)
		return ret;
	a->count = IK_COUNT_NONE;
	memset(&a->l, 0, sizeof(a->l));
	ret = parse_side(&lx, &a->l);
	if (ret)
		return ret;
	skip_ws(&lx);
	if (lx.p[0] == '<')
		a->op = lx.p[1] == '=' ? IK_LE : IK_LT;
	else if (lx.p[0] == '>')
		a->op = lx.p[1] == '=' ? IK_GE : IK_GT;
	else
		return fail(&lx, "expected <, <=, > or >= at '%.20s'", lx.p);
	lx.p += 1 + (lx.p[1] == '=');
	ret = parse_side(&lx, &a->r);
	if (ret)
		return ret;
	skip_ws(&lx);
	if (*lx.p)
		return fail(&lx, "unexpected '%.20s' at the end", lx.p);
	if (!a->l.has_ref && !a->r.has_ref)
		return fail(&lx, "'%s' names no metric (METHOD.METRIC)", s);
	if (a->l.has_ref && a->r.has_ref) {
		if (a->l.dim != a->r.dim)
			return fail(&lx,
				    "'%s': the two metrics have different "
				    "units",
				    s);
		return 0;
	}
	return a->l.has_ref ? reconcile(&lx, &a->l, &a->r)
			    : reconcile(&lx, &a->r, &a->l);
}

/* ---- evaluation ---- */

static bool selects(const struct ik_assert_side *sd,
		    const struct ik_result *res)
{
	return !res->err && !strcmp(res->ops->name, sd->method) &&
	       (sd->mode < 0 || (int)res->mode == sd->mode) &&
	       (!sd->size || res->size == sd->size);
}

/*
 * The right reference for the left's cell: the same cell (cell.h), its
 * own method, and its own mode or size where it names one.
 */
static const struct ik_result *partner(const struct ik_assert_side *sd,
				       const struct ik_result *left,
				       const struct ik_result *results,
				       unsigned n)
{
	struct ik_cell_key want, k;
	unsigned i;

	ik_cell_key_of(left, &want);
	snprintf(want.method, sizeof(want.method), "%s", sd->method);
	if (sd->mode >= 0)
		snprintf(want.mode, sizeof(want.mode), "%s",
			 ik_mode_name((enum ik_mode)sd->mode));
	if (sd->size)
		want.size = sd->size;
	for (i = 0; i < n; i++) {
		const struct ik_result *r = &results[i];

		if (!selects(sd, r))
			continue;
		ik_cell_key_of(r, &k);
		if (ik_cell_key_eq(&k, &want, 0))
			return r;
	}
	return NULL;
}

static bool holds(double l, enum ik_cmp op, double r)
{
	switch (op) {
	case IK_LT:
		return l < r;
	case IK_LE:
		return l <= r;
	case IK_GT:
		return l > r;
	case IK_EQ:
		return l == r;
	default:
		return l >= r;
	}
}

static const char *const cmp_text[] = {"<", "<=", ">", ">=", "="};

/* A count of late or lost wake-ups on every result that counts them. */
static int count_eval(const struct ik_assertion *a,
		      const struct ik_result *results, unsigned n,
		      struct ik_gate_log *g, char *err, size_t errlen)
{
	const char *what = a->count == IK_COUNT_LATE ? "late" : "lost";
	unsigned i, matched = 0;

	for (i = 0; i < n; i++) {
		const struct ik_result *res = &results[i];
		struct ik_gate_row *row;
		uint64_t v;
		char cell[64];

		/* ping-pong counts them (late.threshold_ns set) */
		if (res->err || !res->late.threshold_ns ||
		    (a->l.method[0] && !selects(&a->l, res)))
			continue;
		matched++;
		row = ik_gate_log_add(g);
		if (!row) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		g->checked++;
		v = a->count == IK_COUNT_LATE ? res->late.count : res->lost;
		ik_cell_name(res, cell, sizeof(cell));
		snprintf(row->what, sizeof(row->what), "%s [%s%s%s]", a->text,
			 a->l.method[0] ? "" : res->ops->name,
			 a->l.method[0] ? "" : " ", cell);
		snprintf(row->value, sizeof(row->value), "%s = %llu", what,
			 (unsigned long long)v);
		snprintf(row->against, sizeof(row->against), "%s %.0f",
			 cmp_text[a->op], a->r.coef);
		row->failed = !holds((double)v, a->op, a->r.coef);
		snprintf(row->verdict, sizeof(row->verdict), "%s",
			 row->failed ? "FAIL" : "pass");
		if (a->count == IK_COUNT_LATE && res->late.count)
			snprintf(row->detail, sizeof(row->detail),
				 "over %llu ns; worst %llu ns, first at trip "
				 "%llu",
				 (unsigned long long)res->late.threshold_ns,
				 (unsigned long long)res->late.worst_ns,
				 (unsigned long long)res->late.ev[0].trip);
		else if (a->count == IK_COUNT_LATE)
			snprintf(row->detail, sizeof(row->detail),
				 "over %llu ns",
				 (unsigned long long)res->late.threshold_ns);
		g->failed += row->failed;
	}
	if (!matched) {
		snprintf(err, errlen,
			 "'%s': no successful ping-pong result%s%s counts "
			 "late and lost wake-ups in this run",
			 a->text, a->l.method[0] ? " of " : "", a->l.method);
		return -ENOENT;
	}
	return 0;
}

static void side_text(const struct ik_assert_side *sd, double v, char *b,
		      size_t n)
{
	char q[40];

	ik_fmt_dim(q, sizeof(q), v, sd->dim);
	if (!sd->has_ref)
		snprintf(b, n, "%s", q);
	else if (sd->coef != 1)
		snprintf(b, n, "%g x %s.%s = %s", sd->coef, sd->method,
			 ik_metric_infos[sd->metric].name, q);
	else
		snprintf(b, n, "%s.%s = %s", sd->method,
			 ik_metric_infos[sd->metric].name, q);
}

/*
 * Two metrics of one run with repeats: the median of the per-repeat
 * ratios. Repeat r of every cell runs back to back, so a host that
 * changes speed between repeats moves both sides of each ratio alike;
 * the ratio of two medians would mix different moments. NAN when the
 * pairing does not apply.
 */
static double paired_ratio(const struct ik_assert_side *ls,
			   const struct ik_result *l,
			   const struct ik_assert_side *os,
			   const struct ik_result *o)
{
	double q[64];
	unsigned r;

	if (!o || !l->rep_v || !o->rep_v || l->repeats != o->repeats ||
	    l->repeats < 2 || l->repeats > IK_ARRAY_SIZE(q))
		return NAN;
	for (r = 0; r < l->repeats; r++) {
		double x = ls->coef * ik_rep_value(l, r, ls->metric),
		       y = os->coef * ik_rep_value(o, r, os->metric);

		q[r] = y > 0 ? x / y : NAN;
	}
	return ik_median(q, l->repeats);
}

/*
 * A metric's value of 0 (or not finite) is no measurement: "spsc.p50 <
 * 2us" must not pass on it, nor a ratio be taken over it. Says why.
 */
static bool not_measured(const struct ik_assert_side *sd, double raw, char *why,
			 size_t n)
{
	if (isfinite(raw) && raw > 0)
		return false;
	snprintf(why, n, "%s.%s is %s in this run: not a measurement",
		 sd->method, ik_metric_infos[sd->metric].name,
		 isfinite(raw) ? "0" : "not finite");
	return true;
}

int ik_assert_eval(const struct ik_assertion *a,
		   const struct ik_result *results, unsigned n,
		   struct ik_gate_log *g, char *err, size_t errlen)
{
	const struct ik_assert_side *ls = a->l.has_ref ? &a->l : &a->r;
	unsigned i, matched = 0;

	if (a->count != IK_COUNT_NONE)
		return count_eval(a, results, n, g, err, errlen);
	for (i = 0; i < n; i++) {
		const struct ik_result *res = &results[i], *other = NULL;
		const struct ik_assert_side *os = ls == &a->l ? &a->r : &a->l;
		struct ik_gate_row *row;
		double lv, ov, lraw, oraw = NAN;
		char cell[64];

		if (!selects(ls, res))
			continue;
		matched++;
		row = ik_gate_log_add(g);
		if (!row) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		g->checked++;
		ik_cell_name(res, cell, sizeof(cell));
		snprintf(row->what, sizeof(row->what), "%s [%s]", a->text,
			 cell);
		lraw = ik_result_metric(res, ls->metric);
		lv = ls->coef * lraw;
		ov = os->coef;
		if (os->has_ref) {
			other = partner(os, res, results, n);
			oraw = other ? ik_result_metric(other, os->metric)
				     : NAN;
			ov = os->coef * oraw;
		}
		side_text(ls, lv, row->value, sizeof(row->value));
		side_text(os, ov, row->against, sizeof(row->against));
		if (os->has_ref && !other) {
			snprintf(row->detail, sizeof(row->detail),
				 "no %s result in this cell to compare with",
				 os->method);
		} else if (isnan(lv) || isnan(ov)) {
			snprintf(row->detail, sizeof(row->detail),
				 "not measured in this run (e.g. stream "
				 "latency not kept, or --gap)");
		} else if (!not_measured(ls, lraw, row->detail,
					 sizeof(row->detail)) &&
			   !(os->has_ref &&
			     not_measured(os, oraw, row->detail,
					  sizeof(row->detail)))) {
			double q = paired_ratio(ls, res, os, other);
			bool paired = !isnan(q), ok;

			if (!paired)
				q = ov > 0 ? lv / ov : NAN;
			/* L op R  <=>  L/R op 1, all values being >= 0 */
			ok = paired	   ? (ls == &a->l ? holds(q, a->op, 1)
							  : holds(1, a->op, q))
			     : ls == &a->l ? holds(lv, a->op, ov)
					   : holds(ov, a->op, lv);
			snprintf(row->verdict, sizeof(row->verdict), "%s",
				 ok ? "pass" : "FAIL");
			if (paired)
				snprintf(row->detail, sizeof(row->detail),
					 "ratio %.3f: median of %u per-repeat "
					 "ratios",
					 q, res->repeats);
			else
				snprintf(row->detail, sizeof(row->detail),
					 "ratio %.3f", q);
			row->failed = !ok;
			g->failed += !ok;
			continue;
		}
		snprintf(row->verdict, sizeof(row->verdict), "FAIL");
		row->failed = true;
		g->failed++;
	}
	if (!matched) {
		snprintf(err, errlen,
			 "'%s': no successful %s result%s%s%s in this run",
			 a->text, ls->method, ls->mode >= 0 ? " in " : "",
			 ls->mode >= 0 ? ik_mode_name((enum ik_mode)ls->mode)
				       : "",
			 ls->mode >= 0 ? " mode" : "");
		return -ENOENT;
	}
	return 0;
}
