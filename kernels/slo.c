/* SPDX-License-Identifier: MIT */
/*
 * --slo: the highest open-loop rate of a stream whose one-way latency
 * holds an objective ("p99<=10us") while the sender keeps its schedule.
 * The search is a pure function of a measure callback (the CLI's runs
 * one stream cell per step; the tests a model with a knee): flat out
 * gives the upper bracket, a rate 100 times lower the lower one, and a
 * geometric bisection narrows them (latency against rate spans decades,
 * so the midpoint is sqrt(lo * hi)) until hi / lo - 1 is within the
 * precision. Both ends then run once more: on a noisy host a rate can
 * hold once and fail the next time, and the answer says so. A rate is
 * claimed only when its last run held.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"

#define LOW_DIV	 100.0 /* the first lower bracket: flat out / this */
#define LOW_MIN	 100.0 /* msgs/s: no lower bracket below this */
#define RECHECKS 2     /* steps kept for the final re-runs */

static const char grammar[] =
	"expected CONDITION[,CONDITION...], each pNN<=BOUND or max<=BOUND "
	"(p50, p90, p99, p99.9, p99.99 or any pNN.N; < or <=; BOUND in "
	"ns, us, ms or s, e.g. p99<=10us,p99.9<=50us)";

static int bad(char *err, size_t len, const char *what, const char *part)
{
	snprintf(err, len, "'%s': %s; %s", part, what, grammar);
	return -EINVAL;
}

/* One condition, "p99.9<=50us", into c. */
static int parse_cond(const char *s, struct ik_slo_cond *c, char *err,
		      size_t len)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {{"", 1}, {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
	const char *end;
	double v;
	unsigned u;

	if (!strncmp(s, "max", 3)) {
		c->pct = 100;
		end = s + 3;
	} else if (s[0] == 'p' && !ik_parse_decimal(s + 1, &v, &end) && v > 0 &&
		   v < 100) {
		c->pct = v;
	} else {
		return bad(err, len,
			   "the percentile must be pNN with 0 < NN < 100, or "
			   "max",
			   s);
	}
	if (!strncmp(end, "<=", 2)) {
		c->strict = false;
		end += 2;
	} else if (end[0] == '<') {
		c->strict = true;
		end += 1;
	} else {
		return bad(err, len, "the comparison must be <= or <", s);
	}
	if (ik_parse_decimal(end, &v, &end) || !(v > 0))
		return bad(err, len, "the bound must be a number above 0", s);
	for (u = 0; u < IK_ARRAY_SIZE(units); u++)
		if (!strcmp(end, units[u].suffix))
			break;
	if (u == IK_ARRAY_SIZE(units))
		return bad(err, len, "the bound's unit must be ns, us, ms or s",
			   s);
	v *= units[u].mult;
	if (v < 1 || v > 3600e9)
		return bad(err, len, "the bound must be from 1 ns to 1 hour",
			   s);
	c->bound_ns = (uint64_t)llround(v);
	return 0;
}

int ik_slo_parse(const char *s, struct ik_slo *slo, char *err, size_t len)
{
	char copy[sizeof(slo->text)], *tok, *save = NULL;
	unsigned n = 0;
	int ret;

	if (!*s)
		return bad(err, len, "empty", s);
	if (strlen(s) >= sizeof(copy))
		return bad(err, len, "too long", s);
	strcpy(copy, s);
	if (s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,"))
		return bad(err, len, "an empty condition", s);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == IK_SLO_MAX_CONDS) {
			snprintf(err, len, "'%s': at most %d conditions", s,
				 IK_SLO_MAX_CONDS);
			return -EINVAL;
		}
		if ((ret = parse_cond(tok, &slo->c[n], err, len)))
			return ret;
		/* p99<=1us,p99<=2us: one percentile, one bound */
		for (unsigned k = 0; k < n; k++)
			if (slo->c[k].pct == slo->c[n].pct)
				return bad(err, len,
					   "that percentile is bounded twice; "
					   "give each once",
					   tok);
		n++;
	}
	slo->n = n;
	strcpy(slo->text, s);
	return 0;
}

/* "850 ns", "12.3 us", "4.1 ms", "2.0 s" */
static const char *fmt_time(char *b, size_t n, uint64_t ns)
{
	if (ns < 10000)
		snprintf(b, n, "%llu ns", (unsigned long long)ns);
	else if (ns < 10000000)
		snprintf(b, n, "%.1f us", (double)ns / 1e3);
	else if (ns < 10000000000ULL)
		snprintf(b, n, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(b, n, "%.1f s", (double)ns / 1e9);
	return b;
}

bool ik_slo_met(const struct ik_slo *slo, struct ik_slo_step *step)
{
	char a[24], b[24], name[24];
	unsigned i;

	for (i = 0; i < slo->n; i++) {
		const struct ik_slo_cond *c = &slo->c[i];
		uint64_t v = step->cond_ns[i];

		if (c->strict ? v < c->bound_ns : v <= c->bound_ns)
			continue;
		if (c->pct >= 100)
			snprintf(name, sizeof(name), "max");
		else
			snprintf(name, sizeof(name), "p%g", c->pct);
		snprintf(step->note, sizeof(step->note), "%s %s %s %s", name,
			 fmt_time(a, sizeof(a), v), c->strict ? ">=" : ">",
			 fmt_time(b, sizeof(b), c->bound_ns));
		return false;
	}
	return true;
}

const char *ik_slo_role_name(enum ik_slo_role r)
{
	static const char *const names[] = {"flat", "low", "high", "bisect",
					    "recheck"};

	return (unsigned)r < IK_ARRAY_SIZE(names) ? names[r] : "?";
}

struct search {
	const struct ik_slo *slo;
	ik_slo_measure_fn measure;
	void *arg;
	struct ik_slo_result *out;
};

/* Room for one more step, keeping keep for the re-runs. */
static bool room(const struct search *s, unsigned keep)
{
	return s->out->nsteps + keep < IK_SLO_MAX_STEPS;
}

/* One run at rate; *held set. 0 or the measurement's -errno. */
static int try_rate(struct search *s, enum ik_slo_role role, double rate,
		    bool *held)
{
	struct ik_slo_result *o = s->out;
	struct ik_slo_step *st = &o->step[o->nsteps++];
	int ret;

	memset(st, 0, sizeof(*st));
	st->role = role;
	st->rate_asked = rate;
	ret = s->measure(s->arg, rate, s->slo, st);
	if (ret) {
		st->err = ret;
		o->err = ret;
		if (!st->note[0])
			snprintf(st->note, sizeof(st->note), "%s",
				 strerror(-ret));
		return ret;
	}
	/* a step without latency (its TSC offset too loose) did not show
	 * that it held: it counts as not holding, its note says why */
	st->met = st->latency && ik_slo_met(s->slo, st);
	if (rate <= 0) /* flat out: a rate, not a schedule to hold */
		st->note[0] = 0;
	else if (!st->kept && st->met)
		snprintf(st->note, sizeof(st->note),
			 "schedule not kept: got %.0f/s, %llu sends late",
			 st->rate_got, (unsigned long long)st->late_sends);
	st->held = rate > 0 && st->kept && st->met;
	*held = st->held;
	return 0;
}

/* The highest rate below below whose last run held; 0: none. */
static double held_below(const struct ik_slo_result *o, double below)
{
	double best = 0, r;
	unsigned i, j;

	for (i = 0; i < o->nsteps; i++) {
		bool last = true;

		r = o->step[i].rate_asked;
		if (!o->step[i].held || r >= below || r <= best)
			continue;
		for (j = i + 1; j < o->nsteps; j++)
			if (o->step[j].rate_asked == r)
				last = false;
		if (last)
			best = r;
	}
	return best;
}

/* Whether any scheduled step kept its latency: else nothing was judged. */
static bool judged(const struct ik_slo_result *o)
{
	unsigned i;

	for (i = 0; i < o->nsteps; i++)
		if (o->step[i].rate_asked > 0 && o->step[i].latency)
			return true;
	return false;
}

static void answer(struct ik_slo_result *o, const struct ik_slo *slo)
{
	size_t n = sizeof(o->answer);

	if (o->err) {
		snprintf(o->answer, n, "search ended after %u runs: %s",
			 o->nsteps, strerror(-o->err));
	} else if (!o->held_rate && o->nsteps &&
		   o->step[o->nsteps - 1].role == IK_SLO_RECHECK) {
		snprintf(o->answer, n,
			 "no rate held %s twice: %.0f msgs/s held, then failed "
			 "its re-run (a noisy host); nothing claimed",
			 slo->text, o->failed_rate);
	} else if (!o->held_rate && !judged(o)) {
		snprintf(o->answer, n,
			 "no rate could be judged against %s: no step kept its "
			 "one-way latency (each step's why says why)",
			 slo->text);
	} else if (!o->held_rate) {
		snprintf(o->answer, n,
			 "no rate held %s: the lowest tried, %.0f msgs/s, did "
			 "not",
			 slo->text, o->failed_rate);
	} else if (!o->failed_rate) {
		snprintf(o->answer, n,
			 "%s held up to %.0f msgs/s, the highest rate tried "
			 "(flat out: %.0f msgs/s); no rate that fails was "
			 "found",
			 slo->text, o->held_rate, o->flat_rate);
	} else {
		double ratio = o->failed_rate / o->held_rate;

		snprintf(o->answer, n,
			 "%s holds at %.0f msgs/s, not at %.0f msgs/s "
			 "(x%.3f, %s %.0f%% precision); re-run: %s",
			 slo->text, o->held_rate, o->failed_rate, ratio,
			 o->converged ? "within" : "NOT within",
			 slo->precision * 100,
			 o->recheck_agrees ? "both ends agree"
					   : "DISAGREES (a noisy host)");
	}
}

static int search(struct search *s)
{
	struct ik_slo_result *o = s->out;
	double prec = s->slo->precision > 0 ? s->slo->precision : 0.05;
	double lo, hi, mid;
	bool held;
	int ret;

	if ((ret = try_rate(s, IK_SLO_FLAT, 0, &held)))
		return ret;
	o->flat_rate = o->step[0].rate_got;
	if (!(o->flat_rate >= 1)) {
		o->err = -ENODATA;
		return o->err;
	}
	/* the upper bracket: flat out's rate on a schedule; should it
	 * hold, double it until one fails */
	hi = round(o->flat_rate);
	lo = 0;
	if ((ret = try_rate(s, IK_SLO_HIGH, hi, &held)))
		return ret;
	while (held && room(s, RECHECKS)) {
		lo = hi;
		hi *= 2;
		if ((ret = try_rate(s, IK_SLO_HIGH, hi, &held)))
			return ret;
	}
	if (held) { /* out of steps: no rate that fails */
		o->held_rate = hi;
		return 0;
	}
	/* the lower bracket: 1/100 of flat out, then 10 times lower */
	if (!lo) {
		lo = round(fmax(hi / LOW_DIV, fmin(LOW_MIN, hi / 10)));
		if (lo < 1)
			lo = 1;
		if ((ret = try_rate(s, IK_SLO_LOW, lo, &held)))
			return ret;
		while (!held && lo / 10 >= LOW_MIN && room(s, RECHECKS)) {
			hi = lo;
			lo = round(lo / 10);
			if ((ret = try_rate(s, IK_SLO_LOW, lo, &held)))
				return ret;
		}
		if (!held) {
			o->failed_rate = lo;
			return 0;
		}
	}
	while (hi / lo - 1 > prec && room(s, RECHECKS)) {
		mid = round(sqrt(lo * hi));
		if (mid <= lo || mid >= hi)
			break;
		if ((ret = try_rate(s, IK_SLO_BISECT, mid, &held)))
			return ret;
		if (held)
			lo = mid;
		else
			hi = mid;
	}
	/* both ends once more; a low end that fails now is not claimed:
	 * the highest rate below it whose last run held is */
	o->recheck_agrees = true;
	if ((ret = try_rate(s, IK_SLO_RECHECK, lo, &held)))
		return ret;
	if (!held) { /* hi is now the rate that just failed */
		o->recheck_agrees = false;
		hi = lo;
		lo = held_below(o, lo);
	} else {
		if ((ret = try_rate(s, IK_SLO_RECHECK, hi, &held)))
			return ret;
		if (held)
			o->recheck_agrees = false;
	}
	o->held_rate = lo;
	o->failed_rate = hi;
	o->converged = lo > 0 && hi / lo - 1 <= prec * (1 + 1e-9);
	return 0;
}

int ik_slo_search(const struct ik_slo *slo, ik_slo_measure_fn measure,
		  void *arg, struct ik_slo_result *out)
{
	struct search s = {slo, measure, arg, out};
	int ret;

	memset(out, 0, sizeof(*out));
	strcpy(out->text, slo->text);
	memcpy(out->conds, slo->c, sizeof(out->conds));
	out->nconds = slo->n;
	out->precision = slo->precision > 0 ? slo->precision : 0.05;
	ret = search(&s);
	answer(out, slo);
	return ret;
}
