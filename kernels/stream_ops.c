/* SPDX-License-Identifier: MIT */
/*
 * The stream kernel's ops (its measurement is kernels/stream.c, which
 * would pass 800 lines with this): the options it takes and how they
 * combine, its part of --repeat's pooling, and its part of the table
 * and JSON reports, drawn through a struct ik_view.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "view.h"

/* --rate (and --slo's rates) stamps each message with its due time. */
static int stream_validate(const struct ik_config *c, const struct ik_sweep *sw,
			   char *msg, size_t len)
{
	unsigned i;

	for (i = 0; (c->rate || c->slo.n) && i < sw->nsizes; i++)
		if (sw->sizes[i] < 16) {
			snprintf(msg, len,
				 "%s with --size %zu: needs at least 16 "
				 "bytes to carry each message's due time",
				 c->rate ? "--rate" : "--slo", sw->sizes[i]);
			return -EINVAL;
		}
	return 0;
}

/* --repeat: messages and time added, the rates recomputed from them. */
static void stream_pool(struct ik_result *dst, const struct ik_result *src,
			unsigned r)
{
	struct ik_stream_result *d = &dst->stream;
	const struct ik_stream_result *s = &src->stream;

	(void)r;
	d->messages += s->messages;
	d->seconds += s->seconds;
	d->msgs_per_s = d->seconds > 0 ? d->messages / d->seconds : 0;
	d->bytes_per_s = d->msgs_per_s * (double)dst->size;
	d->latency_valid = d->latency_valid && s->latency_valid;
	d->late_sends += s->late_sends;
	d->max_send_lag_ns = s->max_send_lag_ns > d->max_send_lag_ns
				     ? s->max_send_lag_ns
				     : d->max_send_lag_ns;
	d->rate_missed |= s->rate_missed;
}

static void stream_title(const struct ik_view *v)
{
	const struct ik_config *c = v->cfg;

	if (c->duration_ns)
		fprintf(v->f,
			"ipckern %s: stream for %.2f s per run (at most "
			"%llu messages)%s\n",
			IK_VERSION, c->duration_ns / 1e9,
			(unsigned long long)c->iters,
			c->verify ? ", each message verified" : "");
	else
		fprintf(v->f, "ipckern %s: stream, %llu messages per run%s\n",
			IK_VERSION, (unsigned long long)c->iters,
			c->verify ? ", each verified" : "");
}

static void stream_rows(const struct ik_view *v)
{
	char a[6][16];
	unsigned i;

	v->head_key(v);
	fprintf(v->f, "%12s %10s %9s %8s %8s %8s %9s %9s %s\n", "msgs/s",
		"MB/s", "ns/msg", "p50", "p99", "p99.9", "cpuA/msg", "cpuB/msg",
		"granted");
	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];
		const struct ik_stream_result *s = &res->stream;
		double n = s->messages ? (double)s->messages : 1;
		bool lat = s->latency_valid;
		const struct ik_hist *h = &res->hist;

		v->row_key(v, res);
		if (res->err) {
			fprintf(v->f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		/* ns/msg: a stalled run's can take ten digits; u and m
		 * keep it in its column */
		if (s->msgs_per_s > 0 && 1e9 / s->msgs_per_s >= 1e5)
			ik_fmt_ns(a[5], 16, 1e9 / s->msgs_per_s);
		else
			snprintf(a[5], 16, "%.1f",
				 s->msgs_per_s > 0 ? 1e9 / s->msgs_per_s : 0);
		fprintf(v->f, "%12.0f %10.1f %9s %8s %8s %8s %9.0f %9.0f %s\n",
			s->msgs_per_s, s->bytes_per_s / 1e6, a[5],
			lat ? ik_fmt_ns(a[0], 16,
					(double)ik_hist_percentile(h, 50))
			    : "-",
			lat ? ik_fmt_ns(a[1], 16,
					(double)ik_hist_percentile(h, 99))
			    : "-",
			lat ? ik_fmt_ns(a[2], 16,
					(double)ik_hist_percentile(h, 99.9))
			    : "-",
			res->cpu[0].cpu_ns / n, res->cpu[1].cpu_ns / n,
			res->granted[0] ? res->granted : "-");
	}
}

/* The TSC offsets the one-way latencies were corrected by. */
static void stream_offsets(const struct ik_view *v)
{
	double lo = 1e18, hi = -1e18, err = 0;
	unsigned i, kept = 0, ok = 0;

	for (i = 0; i < v->nresults; i++) {
		const struct ik_stream_result *s = &v->results[i].stream;

		if (v->results[i].err)
			continue;
		ok++;
		kept += s->latency_valid;
		lo = s->tsc_offset_ns < lo ? s->tsc_offset_ns : lo;
		hi = s->tsc_offset_ns > hi ? s->tsc_offset_ns : hi;
		err = s->tsc_offset_err_ns > err ? s->tsc_offset_err_ns : err;
	}
	if (ok)
		fprintf(v->f,
			"  TSC offset B-A from %.0f to %.0f ns, each "
			"+- at most %.0f ns; latency kept in %u of %u "
			"runs\n",
			lo, hi, err, kept, ok);
}

/* Per cell: --rate kept or not, and latency sampled or missing. */
static void stream_cell_notes(const struct ik_view *v)
{
	unsigned i;

	for (i = 0; i < v->nresults && v->cfg->rate; i++) {
		const struct ik_result *res = &v->results[i];
		const struct ik_stream_result *s = &res->stream;

		if (res->err)
			continue;
		fputs("  ", v->f);
		v->row_key(v, res);
		fprintf(v->f,
			"--rate %.0f/s: got %.0f/s, %llu sends over one "
			"interval late, worst %.1f us%s\n",
			s->rate_asked, s->msgs_per_s,
			(unsigned long long)s->late_sends,
			s->max_send_lag_ns / 1e3,
			s->rate_missed ? ": NOT sustained" : ": sustained");
	}
	for (i = 0; i < v->nresults; i++) {
		const struct ik_result *res = &v->results[i];
		const struct ik_stream_result *s = &res->stream;

		if (res->err || (s->latency_valid && s->latency_every < 2))
			continue;
		fputs("  ", v->f);
		v->row_key(v, res);
		if (s->latency_valid)
			fprintf(v->f,
				"latency sampled: one message in %llu carries "
				"the send stamp (stamping each would cost more "
				"than the hop)\n",
				(unsigned long long)s->latency_every);
		else
			fprintf(v->f, "latency %s\n", s->latency_why);
	}
}

/*
 * --slo: each cell's search as a small curve, in the order it ran:
 * rate asked and got, p50/p99/p99.9 one way, the latency samples behind
 * them, held or why not; then the answer line.
 */
static void stream_slo(const struct ik_view *v)
{
	char a[5][16];
	unsigned i, k;

	fprintf(v->f,
		"\nSLO %s: the highest --rate that holds it with its "
		"schedule kept (precision %.0f%%)\n",
		v->cfg->slo.text, v->cfg->slo.precision * 100);
	for (i = 0; i < v->nresults; i++) {
		const struct ik_slo_result *sr = v->results[i].slo;

		if (!sr)
			continue;
		fputs("\n", v->f);
		v->row_key(v, &v->results[i]);
		fputs("\n", v->f);
		fprintf(v->f, "  %-7s %12s %12s %8s %8s %8s %8s  %s\n", "step",
			"rate asked", "rate got", "p50", "p99", "p99.9",
			"samples", "held");
		for (k = 0; k < sr->nsteps; k++) {
			const struct ik_slo_step *st = &sr->step[k];

			if (st->rate_asked > 0)
				snprintf(a[3], 16, "%.0f", st->rate_asked);
			else
				snprintf(a[3], 16, "flat out");
			if (st->latency)
				snprintf(a[4], 16, "%llu",
					 (unsigned long long)st->samples);
			else
				snprintf(a[4], 16, "-");
			if (st->err) {
				fprintf(v->f, "  %-7s %12s FAILED: %s\n",
					ik_slo_role_name(st->role), a[3],
					st->note);
				continue;
			}
			fprintf(v->f,
				"  %-7s %12s %12.0f %8s %8s %8s %8s  "
				"%s%s%s\n",
				ik_slo_role_name(st->role), a[3], st->rate_got,
				st->latency ? ik_fmt_ns(a[0], 16,
							(double)st->p50_ns)
					    : "-",
				st->latency ? ik_fmt_ns(a[1], 16,
							(double)st->p99_ns)
					    : "-",
				st->latency ? ik_fmt_ns(a[2], 16,
							(double)st->p999_ns)
					    : "-",
				a[4],
				st->rate_asked <= 0 ? "-"
				: st->held	    ? "yes"
						    : "no",
				st->note[0] ? ": " : "", st->note);
		}
		fprintf(v->f, "  %s\n", sr->answer);
	}
}

static void stream_table(const struct ik_view *v)
{
	fprintf(v->f, "latency: one way, ns (u = us, m = ms)\n\n");
	stream_rows(v);
	fprintf(v->f,
		"\nMB = 10^6 bytes. p50/p99/p99.9: one-way latency, B's TSC "
		"at receipt minus A's stamp at send, corrected by the measured "
		"offset:\n");
	stream_offsets(v);
	stream_cell_notes(v);
	fprintf(v->f, "cpu/msg: each peer's CPU ns per message "
		      "(CLOCK_THREAD_CPUTIME_ID). A queued send returns before "
		      "B reads it, so latency grows with the backlog.\n");
	if (v->cfg->slo.n)
		stream_slo(v);
}

/* A stream: its rates, the open loop, and one-way latency if kept. */
static void stream_json(json_t *o, const struct ik_result *res,
			const struct ik_stats *st)
{
	const struct ik_stream_result *sr = &res->stream;

	json_object_set_new(
		o, "stream",
		json_pack("{s:I,s:f,s:f,s:f,s:s,s:f,s:f}", "messages",
			  (json_int_t)sr->messages, "seconds", sr->seconds,
			  IK_Q_MSGS, sr->msgs_per_s, IK_Q_BYTES,
			  sr->bytes_per_s, "bytes_unit", "B (MB = 10^6 B)",
			  "tsc_offset_ns", sr->tsc_offset_ns,
			  "tsc_offset_err_ns", sr->tsc_offset_err_ns));
	if (sr->rate_asked > 0)
		json_object_set_new(o, "open_loop",
				    json_pack("{s:f,s:f,s:I,s:b,s:s}",
					      "rate_asked", sr->rate_asked,
					      "max_send_lag_ns",
					      sr->max_send_lag_ns, "late_sends",
					      (json_int_t)sr->late_sends,
					      "sustained", !sr->rate_missed,
					      "latency_from", "due time"));
	if (!sr->latency_valid) {
		json_object_set_new(o, "latency", json_null());
		json_object_set_new(o, "latency_missing",
				    json_string(sr->latency_why));
		return;
	}
	json_object_set_new(
		o, "latency_sampled_every",
		json_integer((json_int_t)(sr->latency_every ? sr->latency_every
							    : 1)));
	json_object_set_new(o, "latency", ik_latency_json(res, st, "one_way"));
}

/* A step's percentile, or null where its latency was not kept. */
static json_t *lat_ns(const struct ik_slo_step *st, uint64_t v)
{
	return st->latency ? json_integer((json_int_t)v) : json_null();
}

/* --slo: the objective, the answer and every step of the search. */
static void stream_slo_json(json_t *o, const struct ik_result *res)
{
	const struct ik_slo_result *sr = res->slo;
	json_t *steps = json_array(), *conds = json_array();
	unsigned i, k;

	for (k = 0; k < IK_SLO_MAX_CONDS && k < sr->nconds; k++)
		json_array_append_new(
			conds, json_pack("{s:f,s:I,s:b}", "percentile",
					 sr->conds[k].pct, "bound_ns",
					 (json_int_t)sr->conds[k].bound_ns,
					 "strict", sr->conds[k].strict));
	for (i = 0; i < sr->nsteps; i++) {
		const struct ik_slo_step *st = &sr->step[i];
		json_t *s = json_pack("{s:s,s:f}", "role",
				      ik_slo_role_name(st->role), "rate_asked",
				      st->rate_asked);

		if (st->err) {
			json_object_set_new(s, "error", json_string(st->note));
		} else {
			json_object_update_new(
				s,
				json_pack("{s:f,s:o,s:o,s:o,s:o,s:I,s:b,s:b,"
					  "s:b,s:I,s:I}",
					  "rate_got", st->rate_got, IK_Q_P50,
					  lat_ns(st, st->p50_ns), IK_Q_P99,
					  lat_ns(st, st->p99_ns), IK_Q_P999,
					  lat_ns(st, st->p999_ns), IK_Q_MAX,
					  lat_ns(st, st->max_ns), "late_sends",
					  (json_int_t)st->late_sends,
					  "schedule_kept", st->kept, "met",
					  st->met, "held", st->held, "samples",
					  (json_int_t)st->samples,
					  "samples_wanted",
					  (json_int_t)st->samples_wanted));
			if (st->note[0])
				json_object_set_new(s, "why",
						    json_string(st->note));
		}
		json_array_append_new(steps, s);
	}
	json_object_set_new(
		o, "slo",
		json_pack("{s:s,s:o,s:f,s:f,s:o,s:o,s:o,s:b,s:b,s:s,s:o}",
			  "condition", sr->text, "conditions", conds,
			  "precision", sr->precision, "flat_out_rate",
			  sr->flat_rate, "held_rate",
			  sr->held_rate > 0 ? json_real(sr->held_rate)
					    : json_null(),
			  "failed_rate",
			  sr->failed_rate > 0 ? json_real(sr->failed_rate)
					      : json_null(),
			  "ratio",
			  sr->held_rate > 0 && sr->failed_rate > 0
				  ? json_real(sr->failed_rate / sr->held_rate)
				  : json_null(),
			  "converged", sr->converged, "recheck_agrees",
			  sr->recheck_agrees, "answer", sr->answer, "steps",
			  steps));
	if (sr->err)
		json_object_set_new(json_object_get(o, "slo"), "error",
				    json_string(strerror(-sr->err)));
}

/* Its own object after the CPU: --slo's search, when there was one. */
static void stream_own_json(json_t *o, const struct ik_result *res)
{
	if (res->slo)
		stream_slo_json(o, res);
}

static const char *const stream_options[] = {
	"matrix", "rate", "verify", "slo", "slo-precision", NULL};

const struct ik_kernel_ops ik_kernel_stream = {
	.name = "stream",
	.msg = "message",
	.summary = "A sends, B receives: messages/s, bytes/s, one-way latency",
	.help = "stream (A sends,\nB receives: messages/s, bytes/s, one-way "
		"latency)",
	.id = IK_KERNEL_STREAM,
	.options = stream_options,
	.one_way = true,
	.fixed_time = true,
	.run = ik_stream,
	.validate = stream_validate,
	.pool = stream_pool,
	.title = stream_title,
	.table = stream_table,
	.json_cell = ik_listen_strangers_json,
	.json_measured = stream_json,
	.json_own = stream_own_json,
};
