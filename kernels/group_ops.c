/* SPDX-License-Identifier: MIT */
/*
 * The group kernel's part of the reports (kernels/group.c runs it): the
 * table, one block per cell with a row per party (or hop), and its JSON,
 * each party's figures under "group"; and its struct ik_kernel_ops.
 */
#include <stdio.h>
#include <string.h>

#include "group.h"

/* ---- its part of the reports ---- */

static const char *shape_desc(const struct ik_config *c, char *b, size_t n)
{
	switch (c->shape) {
	case IK_SHAPE_FANOUT:
		snprintf(b, n, "fan-out 1:%u", c->shape_n);
		break;
	case IK_SHAPE_FANIN:
		snprintf(b, n, "fan-in %u:1", c->shape_n);
		break;
	case IK_SHAPE_PIPELINE:
		snprintf(b, n, "pipeline of %u stages", c->shape_n);
		break;
	case IK_SHAPE_CONTEND:
		snprintf(b, n, "%u CPUs contending for one line", c->shape_n);
		break;
	default:
		snprintf(b, n, "no shape");
	}
	return b;
}

static void group_title(const struct ik_view *v)
{
	char d[64];

	if (v->cfg->shape == IK_SHAPE_CONTEND)
		fprintf(v->f, "ipckern %s: %s, %.3f s\n", IK_VERSION,
			shape_desc(v->cfg, d, sizeof(d)),
			v->cfg->duration_ns / 1e9);
	else
		fprintf(v->f,
			"ipckern %s: %s, %llu timed messages after %llu "
			"warm-up; every message verified at every party\n",
			IK_VERSION, shape_desc(v->cfg, d, sizeof(d)),
			(unsigned long long)v->cfg->iters,
			(unsigned long long)v->cfg->warmup);
}

static void hist_row(FILE *f, const char *who, int cpu, int seen,
		     const struct ik_hist *h)
{
	char a[5][16], c[16];

	if (cpu >= 0)
		snprintf(c, sizeof(c), "%d", cpu);
	else
		snprintf(c, sizeof(c), "-");
	fprintf(f, "  %-14s %4s %4d %8s %8s %8s %8s %8s\n", who, c, seen,
		ik_fmt_ns(a[0], 16, (double)h->min),
		ik_fmt_ns(a[1], 16, (double)ik_hist_percentile(h, 50)),
		ik_fmt_ns(a[2], 16, (double)ik_hist_percentile(h, 99)),
		ik_fmt_ns(a[3], 16, (double)ik_hist_percentile(h, 99.9)),
		ik_fmt_ns(a[4], 16, (double)h->max));
}

/* the spread of the shares: (max - min) / mean, 0 when even */
static double share_spread(const uint64_t *v, unsigned n)
{
	uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
		sum += v[i];
	}
	return sum ? (double)(hi - lo) * n / (double)sum : 0;
}

static void p50_spread(const struct ik_group_result *gr, double *spread)
{
	uint64_t v[IK_GROUP_MAX];
	unsigned i;

	for (i = 1; i < gr->parties; i++)
		v[i - 1] = ik_hist_percentile(&gr->hist[i], 50);
	*spread = share_spread(v, gr->parties - 1);
}

static void group_one(const struct ik_view *v, const struct ik_result *res)
{
	const struct ik_group_result *gr = res->group;
	FILE *f = v->f;
	char d[8][32];
	unsigned i, k;

	if (gr->oversubscribed)
		fprintf(f,
			"  oversubscribed (--oversubscribe): %u parties on %u "
			"CPU%s; they take turns, so these are not the "
			"figures of %u parties on %u CPUs\n",
			gr->parties, gr->ncpus, gr->ncpus == 1 ? "" : "s",
			gr->parties, gr->parties);
	if (gr->shape == IK_SHAPE_CONTEND) {
		uint64_t hand = 0;

		fprintf(f, "  %-14s %4s %4s %12s %8s %12s\n", "party", "cpu",
			"ran", "takes", "share", "hand-offs");
		for (i = 0; i < gr->parties; i++) {
			hand += gr->handoffs[i];
			fprintf(f, "  %-14s %4d %4d %12llu %7.1f%% %12llu\n",
				ik_group_party_name(gr, i, d[0], 32),
				gr->cpu[i], gr->cpu_seen[i],
				(unsigned long long)gr->takes[i],
				gr->total ? 100.0 * gr->takes[i] / gr->total
					  : 0,
				(unsigned long long)gr->handoffs[i]);
		}
		fprintf(f,
			"  total %llu takes in %.3f s; hand-offs %.0f/s; "
			"share spread (max-min)/mean %.3f\n",
			(unsigned long long)gr->total, gr->seconds,
			gr->seconds > 0 ? hand / gr->seconds : 0,
			share_spread(gr->takes, gr->parties));
		return;
	}
	fprintf(f, "  %-14s %4s %4s %8s %8s %8s %8s %8s\n", "latency", "cpu",
		"ran", "min", "p50", "p99", "p99.9", "max");
	hist_row(f, "round trip", gr->cpu[0], gr->cpu_seen[0], &res->hist);
	/* the hops in the ring's order: into stage 1 first, the return
	 * (into stage 0) last */
	for (k = 1; k <= gr->parties; k++) {
		char who[48];

		i = k % gr->parties;
		if (gr->shape != IK_SHAPE_PIPELINE && !i)
			continue;
		if (gr->shape == IK_SHAPE_PIPELINE)
			snprintf(who, sizeof(who), "hop %u>%u",
				 (i + gr->parties - 1) % gr->parties, i);
		else
			snprintf(who, sizeof(who), "%s",
				 ik_group_party_name(gr, i, d[0], 32));
		hist_row(f, who, gr->cpu[i], gr->cpu_seen[i], &gr->hist[i]);
	}
	if (gr->shape == IK_SHAPE_FANIN) {
		double sp;

		for (i = 1; i < gr->parties; i++) {
			snprintf(d[1], 32, "one way, p%u", i);
			hist_row(f, d[1], gr->cpu[i], gr->cpu_seen[i],
				 &gr->oneway[i]);
		}
		p50_spread(gr, &sp);
		fprintf(f,
			"  producers served in turn (no wait-for-any): each "
			"sent %llu; spread of their p50 (max-min)/mean %.3f\n",
			(unsigned long long)(res->count / (gr->parties - 1)),
			sp);
	} else {
		hist_row(f,
			 gr->shape == IK_SHAPE_FANOUT ? "end to end"
						      : "through all",
			 gr->cpu[gr->parties - 1],
			 gr->cpu_seen[gr->parties - 1], &gr->e2e);
	}
	if (gr->skewed)
		fprintf(f,
			"  %llu one-way figures read a receipt before its "
			"send (clock skew between CPUs): counted as 0 ns\n",
			(unsigned long long)gr->skewed);
}

static void group_table(const struct ik_view *v)
{
	unsigned i;

	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];

		v->head_key(v);
		fputc('\n', v->f);
		v->row_key(v, res);
		if (res->err) {
			fprintf(v->f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		fputc('\n', v->f);
		if (res->group)
			group_one(v, res);
		fputc('\n', v->f);
	}
	if (v->cfg->shape == IK_SHAPE_FANOUT)
		fprintf(v->f, "round trip: publication to the last echo; "
			      "consumer i: publication to its receipt (one "
			      "way); end to end: to the last consumer's "
			      "receipt.\n");
	else if (v->cfg->shape == IK_SHAPE_FANIN)
		fprintf(v->f, "round trip and producer i: its send to its "
			      "echo, its wait for its turn included; one-way: "
			      "its send to the consumer's receipt.\n");
	else if (v->cfg->shape == IK_SHAPE_PIPELINE)
		fprintf(v->f, "round trip: stage 0 around the ring (K "
			      "hand-offs); hop i>j: stage i's receipt (0: its "
			      "send) to stage j's; through all: stage 0's send "
			      "to the last stage's receipt (K-1 hand-offs).\n");
	else
		fprintf(v->f, "takes: successful CAS on the one line; "
			      "hand-offs: takes that found another CPU's "
			      "take.\n");
	v->sections(v);
}

const char *ik_group_party_name(const struct ik_group_result *gr, unsigned i,
				char *b, size_t n)
{
	switch (gr->shape) {
	case IK_SHAPE_FANOUT:
		snprintf(b, n, i ? "consumer %u" : "producer", i);
		break;
	case IK_SHAPE_FANIN:
		snprintf(b, n, i ? "producer %u" : "consumer", i);
		break;
	case IK_SHAPE_PIPELINE:
		snprintf(b, n, "stage %u", i);
		break;
	default:
		snprintf(b, n, "contender %u", i);
	}
	return b;
}

static json_t *hist_stats_json(const struct ik_hist *h)
{
	return json_pack("{s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:I}", "count",
			 (json_int_t)h->total, IK_Q_MIN, (json_int_t)h->min,
			 IK_Q_MEAN, ik_hist_mean(h), IK_Q_P50,
			 (json_int_t)ik_hist_percentile(h, 50), IK_Q_P90,
			 (json_int_t)ik_hist_percentile(h, 90), IK_Q_P99,
			 (json_int_t)ik_hist_percentile(h, 99), IK_Q_P999,
			 (json_int_t)ik_hist_percentile(h, 99.9), IK_Q_MAX,
			 (json_int_t)h->max);
}

static void group_json_cell(json_t *o, const struct ik_result *res)
{
	const struct ik_group_result *gr = res->group;

	if (!gr)
		return;
	json_object_set_new(o, "shape", json_string(ik_shape_names[gr->shape]));
	json_object_set_new(o, "shape_n", json_integer(gr->shape_n));
}

static void group_json_measured(json_t *o, const struct ik_result *res,
				const struct ik_stats *st)
{
	if (res->group && res->group->shape == IK_SHAPE_CONTEND)
		return;
	json_object_set_new(o, "latency",
			    ik_latency_json(res, st, "round_trip"));
}

static void group_json_own(json_t *o, const struct ik_result *res)
{
	const struct ik_group_result *gr = res->group;
	json_t *g, *parties = json_array();
	char name[32];
	unsigned i;

	if (!gr)
		return;
	g = json_pack("{s:s,s:i,s:i,s:i,s:b}", "shape",
		      ik_shape_names[gr->shape], "n", (int)gr->shape_n,
		      "parties", (int)gr->parties, "cpus", (int)gr->ncpus,
		      "oversubscribed", gr->oversubscribed);
	for (i = 0; i < gr->parties; i++) {
		json_t *p = json_pack(
			"{s:s,s:o,s:i,s:o}", "role",
			ik_group_party_name(gr, i, name, sizeof(name)), "cpu",
			gr->cpu[i] >= 0 ? json_integer(gr->cpu[i])
					: json_null(),
			"cpu_seen", gr->cpu_seen[i], "cpu_use",
			ik_cpu_json(&gr->use[i], res->count, "msg"));

		if (gr->shape == IK_SHAPE_CONTEND) {
			json_object_set_new(
				p, "takes",
				json_integer((json_int_t)gr->takes[i]));
			json_object_set_new(
				p, "share",
				json_real(gr->total ? (double)gr->takes[i] /
							      gr->total
						    : 0));
			json_object_set_new(
				p, "handoffs",
				json_integer((json_int_t)gr->handoffs[i]));
			json_object_set_new(
				p, "tries",
				json_integer((json_int_t)gr->tries[i]));
		} else if (gr->shape == IK_SHAPE_FANOUT && i) {
			json_object_set_new(p, "one_way",
					    hist_stats_json(&gr->hist[i]));
		} else if (gr->shape == IK_SHAPE_FANIN && i) {
			json_object_set_new(p, "round_trip",
					    hist_stats_json(&gr->hist[i]));
			json_object_set_new(p, "one_way",
					    hist_stats_json(&gr->oneway[i]));
		} else if (gr->shape == IK_SHAPE_PIPELINE) {
			json_object_set_new(p, "hop_in",
					    hist_stats_json(&gr->hist[i]));
		}
		json_array_append_new(parties, p);
	}
	json_object_set_new(g, "party", parties);
	if (gr->shape == IK_SHAPE_CONTEND) {
		uint64_t hand = 0;

		for (i = 0; i < gr->parties; i++)
			hand += gr->handoffs[i];
		json_object_set_new(g, "takes",
				    json_integer((json_int_t)gr->total));
		json_object_set_new(g, "seconds", json_real(gr->seconds));
		json_object_set_new(
			g, "handoffs_per_sec",
			json_real(gr->seconds > 0 ? hand / gr->seconds : 0));
		json_object_set_new(
			g, "share_spread",
			json_real(share_spread(gr->takes, gr->parties)));
	} else if (gr->shape == IK_SHAPE_FANIN) {
		double sp;

		p50_spread(gr, &sp);
		json_object_set_new(g, "p50_spread", json_real(sp));
	} else {
		json_object_set_new(g, "end_to_end", hist_stats_json(&gr->e2e));
	}
	json_object_set_new(g, "skewed", json_integer((json_int_t)gr->skewed));
	json_object_set_new(o, "group", g);
}

static const char *const group_options[] = {"fanout", "pipeline", "contend",
					    "oversubscribe", NULL};

const struct ik_kernel_ops ik_kernel_group = {
	.name = "group",
	.msg = "message",
	.summary = "more than two parties: fan-out, fan-in, pipeline, "
		   "contention",
	.help = "\ngroup (more than two parties: --fanout, --pipeline, "
		"--contend)",
	.id = IK_KERNEL_GROUP,
	.options = group_options,
	.parties = true,
	.run = ik_group,
	.validate = ik_group_validate,
	.pool = ik_group_pool,
	.title = group_title,
	.table = group_table,
	.json_cell = group_json_cell,
	.json_measured = group_json_measured,
	.json_own = group_json_own,
};
