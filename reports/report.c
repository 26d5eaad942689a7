/* SPDX-License-Identifier: MIT */
/*
 * The writers: a table for people, JSON (through jansson, one versioned
 * schema for every kernel) and CSV for programs. They only read the
 * report. Latency is always the round trip; the one-way figure is half of
 * it and labelled as an estimate, since no clock is read on the far side.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../kernels/kernels.h"
#include "gate.h"
#include "reports.h"

struct stats {
	uint64_t p50, p90, p99, p999, p9999;
	double mean, sd, rps, wall_mean, untimed, vs_line;
};

static const struct ik_result *line_for(const struct ik_report *r,
					const struct ik_result *res)
{
	unsigned i;

	for (i = 0; i < r->nresults; i++)
		if (!strcmp(r->results[i].ops->name, "line") &&
		    r->results[i].mode == res->mode &&
		    r->results[i].size == res->size &&
		    r->results[i].buffer == res->buffer &&
		    r->results[i].gap_ns == res->gap_ns &&
		    r->results[i].cls == res->cls &&
		    r->results[i].pair.cpu[0] == res->pair.cpu[0] &&
		    r->results[i].pair.cpu[1] == res->pair.cpu[1] &&
		    !r->results[i].err)
			return &r->results[i];
	return NULL;
}

static void stats_of(const struct ik_report *r, const struct ik_result *res,
		     struct stats *st)
{
	const struct ik_hist *h = &res->hist;
	const struct ik_result *line = line_for(r, res);

	st->p50 = ik_hist_percentile(h, 50);
	st->p90 = ik_hist_percentile(h, 90);
	st->p99 = ik_hist_percentile(h, 99);
	st->p999 = ik_hist_percentile(h, 99.9);
	st->p9999 = ik_hist_percentile(h, 99.99);
	st->mean = ik_hist_mean(h);
	st->sd = ik_hist_stddev(h);
	st->wall_mean = res->count ? (double)res->wall_ns / res->count : 0;
	/* with --gap the wall holds the idle time: trips/s would be the gap's
	 */
	st->rps = res->wall_ns && !res->gap_ns ? res->count * 1e9 / res->wall_ns
					       : 0;
	st->untimed = res->untimed_mean_ns;
	st->vs_line = 0;
	if (line && ik_hist_percentile(&line->hist, 50))
		st->vs_line = (double)st->p50 /
			      (double)ik_hist_percentile(&line->hist, 50);
}

static const char *fmt_ns(char *b, size_t n, double v)
{
	if (v < 1e4)
		snprintf(b, n, "%.0f", v);
	else if (v < 1e7)
		snprintf(b, n, "%.1fu", v / 1e3);
	else
		snprintf(b, n, "%.1fm", v / 1e6);
	return b;
}

static void describe_pair(const struct ik_result *res, char *b, size_t n)
{
	const struct ik_pair *p = &res->pair;

	if (!p->pinned)
		snprintf(b, n, "unpinned (peers started on CPUs %d,%d)",
			 res->cpu_seen[0], res->cpu_seen[1]);
	else
		snprintf(b, n, "CPUs %d,%d: %s%s", p->cpu[0], p->cpu[1],
			 ik_relation_name(p->rel),
			 p->cross_numa ? ", different NUMA nodes"
				       : ", same NUMA node");
}

/* set per report: whether rows carry a pair column, a class column */
static bool pairs_shown, classes_shown;

/* "64", "4k", "1m": sizes as users type them */
static const char *fmt_bytes(char *b, size_t n, size_t v)
{
	if (v && v % (1u << 20) == 0)
		snprintf(b, n, "%zum", v >> 20);
	else if (v && v % 1024 == 0)
		snprintf(b, n, "%zuk", v >> 10);
	else
		snprintf(b, n, "%zu", v);
	return b;
}

static bool has_pairs(const struct ik_config *c)
{
	return c->npairs > 1 || c->pairs[0] > 1;
}

/* The first columns of every row: what ran (gap, pair only when used). */
static void row_key(FILE *f, const struct ik_result *res, bool gaps)
{
	char s[24], b[24], g[24];

	if (classes_shown)
		fprintf(f, "%-13s ",
			res->cls >= 0 ? ik_class_key((enum ik_class)res->cls)
				      : "-");
	if (pairs_shown) {
		char pr[24];

		if (res->npairs <= 1)
			snprintf(pr, sizeof(pr), "1/1");
		else if (res->pair_index < 0)
			snprintf(pr, sizeof(pr), "sum/%u", res->npairs);
		else
			snprintf(pr, sizeof(pr), "%d/%u", res->pair_index + 1,
				 res->npairs);
		fprintf(f, "%-7s ", pr);
	}

	fprintf(f, "%-10s %-7s %6s %6s ", res->ops->name,
		ik_mode_name(res->mode), fmt_bytes(s, sizeof(s), res->size),
		res->buffer ? fmt_bytes(b, sizeof(b), res->buffer) : "-");
	if (gaps)
		fprintf(f, "%7s ", fmt_ns(g, sizeof(g), (double)res->gap_ns));
}

static void head_key(FILE *f, bool gaps)
{
	if (classes_shown)
		fprintf(f, "%-13s ", "class");
	if (pairs_shown)
		fprintf(f, "%-7s ", "pair");
	fprintf(f, "%-10s %-7s %6s %6s ", "method", "mode", "size", "buffer");
	if (gaps)
		fprintf(f, "%7s ", "gap");
}

static bool has_gaps(const struct ik_config *c)
{
	return c->ngaps > 1 || c->gaps[0];
}

/*
 * Connections to a run's listener from anyone but its own peers or
 * clients: dropped unanswered, so no number in the table includes them.
 */
static void strangers_notes(const struct ik_report *r, FILE *f)
{
	unsigned i;
	char b[24];

	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];

		if (!res->strangers)
			continue;
		fputs("strangers: ", f);
		if (res->is_echo || res->is_connect)
			fprintf(f,
				"%s %s %s B, %s%s%u clients: ", res->ops->name,
				ik_mode_name(res->mode),
				fmt_bytes(b, sizeof(b), res->size),
				res->is_echo ? ik_server_names[res->server]
					     : "",
				res->is_echo ? " server, " : "", res->clients);
		else
			row_key(f, res, has_gaps(r->cfg));
		fprintf(f,
			"%llu connection%s from outside the run, dropped "
			"unanswered; counted in no result\n",
			(unsigned long long)res->strangers,
			res->strangers == 1 ? "" : "s");
	}
}

/*
 * Stalls the transport's own kernel put on a cell (TCP's persist timer):
 * its figures are that kernel's, not the method's.
 */
static void stall_notes(const struct ik_report *r, FILE *f)
{
	unsigned i;

	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];

		if (!res->note[0])
			continue;
		fputs("stalls:  ", f);
		row_key(f, res, has_gaps(r->cfg));
		fprintf(f, "%s\n", res->note);
	}
}

static void stream_table(const struct ik_report *r, FILE *f)
{
	char a[6][16];
	unsigned i;

	head_key(f, has_gaps(r->cfg));
	fprintf(f, "%12s %10s %9s %8s %8s %8s %9s %9s %s\n", "msgs/s", "MB/s",
		"ns/msg", "p50", "p99", "p99.9", "cpuA/msg", "cpuB/msg",
		"granted");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_stream_result *s = &res->stream;
		double n = s->messages ? (double)s->messages : 1;
		bool lat = s->latency_valid;

		row_key(f, res, has_gaps(r->cfg));
		if (res->err) {
			fprintf(f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		fprintf(f, "%12.0f %10.1f %9.1f %8s %8s %8s %9.0f %9.0f %s\n",
			s->msgs_per_s, s->bytes_per_s / 1e6,
			s->msgs_per_s > 0 ? 1e9 / s->msgs_per_s : 0,
			lat ? fmt_ns(a[0], 16,
				     (double)ik_hist_percentile(&res->hist, 50))
			    : "-",
			lat ? fmt_ns(a[1], 16,
				     (double)ik_hist_percentile(&res->hist, 99))
			    : "-",
			lat ? fmt_ns(a[2], 16,
				     (double)ik_hist_percentile(&res->hist,
								99.9))
			    : "-",
			res->cpu[0].cpu_ns / n, res->cpu[1].cpu_ns / n,
			res->granted[0] ? res->granted : "-");
	}
	fprintf(f,
		"\nMB = 10^6 bytes. p50/p99/p99.9: one-way latency, B's TSC "
		"at receipt minus A's stamp at send, corrected by the measured "
		"offset:\n");
	{
		double lo = 1e18, hi = -1e18, err = 0;
		unsigned kept = 0, ok = 0;

		for (i = 0; i < r->nresults; i++) {
			const struct ik_stream_result *s =
				&r->results[i].stream;

			if (r->results[i].err)
				continue;
			ok++;
			kept += s->latency_valid;
			lo = s->tsc_offset_ns < lo ? s->tsc_offset_ns : lo;
			hi = s->tsc_offset_ns > hi ? s->tsc_offset_ns : hi;
			err = s->tsc_offset_err_ns > err ? s->tsc_offset_err_ns
							 : err;
		}
		if (ok)
			fprintf(f,
				"  TSC offset B-A from %.0f to %.0f ns, each "
				"+- at most %.0f ns; latency kept in %u of %u "
				"runs\n",
				lo, hi, err, kept, ok);
	}
	for (i = 0; i < r->nresults && r->cfg->rate; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_stream_result *s = &res->stream;

		if (res->err)
			continue;
		fputs("  ", f);
		row_key(f, res, has_gaps(r->cfg));
		fprintf(f,
			"--rate %.0f/s: got %.0f/s, %llu sends over one "
			"interval late, worst %.1f us%s\n",
			s->rate_asked, s->msgs_per_s,
			(unsigned long long)s->late_sends,
			s->max_send_lag_ns / 1e3,
			s->rate_missed ? ": NOT sustained" : ": sustained");
	}
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_stream_result *s = &res->stream;

		if (res->err || (s->latency_valid && s->latency_every < 2))
			continue;
		fputs("  ", f);
		row_key(f, res, has_gaps(r->cfg));
		if (s->latency_valid)
			fprintf(f,
				"latency sampled: one message in %llu carries "
				"the send stamp (stamping each would cost more "
				"than the hop)\n",
				(unsigned long long)s->latency_every);
		else
			fprintf(f, "latency %s\n", s->latency_why);
	}
	fprintf(f, "cpu/msg: each peer's CPU ns per message "
		   "(CLOCK_THREAD_CPUTIME_ID). A queued send returns before "
		   "B reads it, so latency grows with the backlog.\n");
}

static json_t *classes_json(const struct ik_class_pair *c)
{
	json_t *a = json_array();
	int k;

	for (k = 0; k < IK_NCLASSES; k++)
		json_array_append_new(
			a,
			json_pack("{s:s,s:b,s:o}", "class",
				  ik_class_key((enum ik_class)k), "present",
				  c[k].present, "cpus",
				  c[k].present ? json_pack("[ii]", c[k].cpu[0],
							   c[k].cpu[1])
					       : json_null()));
	return a;
}

int ik_report_classes(const struct ik_report *r, FILE *f)
{
	const struct ik_class_pair *c = r->classes;
	int k, ret;

	if (r->cfg->format == IK_FMT_JSON) {
		json_t *root = json_pack(
			"{s:s,s:s}", "schema", IK_SCHEMA, "topology_source",
			r->topology ? r->topology : "this machine");

		json_object_set_new(root, "classes", classes_json(c));
		ret = json_dumpf(root, f, JSON_INDENT(2));
		json_decref(root);
		fputc('\n', f);
		return ret || ferror(f) ? -EIO : 0;
	}
	if (r->cfg->format == IK_FMT_CSV) {
		fprintf(f, "class,present,cpu_a,cpu_b\n");
		for (k = 0; k < IK_NCLASSES; k++)
			fprintf(f, "%s,%d,%d,%d\n",
				ik_class_key((enum ik_class)k), c[k].present,
				c[k].present ? c[k].cpu[0] : -1,
				c[k].present ? c[k].cpu[1] : -1);
		return ferror(f) ? -EIO : 0;
	}
	fprintf(f, "topology: %s\n\n%-14s %-8s %s\n",
		r->topology ? r->topology : "this machine", "class", "cpus",
		"");
	for (k = 0; k < IK_NCLASSES; k++) {
		if (c[k].present)
			fprintf(f, "%-14s %d,%-6d\n",
				ik_class_key((enum ik_class)k), c[k].cpu[0],
				c[k].cpu[1]);
		else
			fprintf(f, "%-14s absent (no such pair here)\n",
				ik_class_key((enum ik_class)k));
	}
	return ferror(f) ? -EIO : 0;
}

/* --matrix: p50 of the pair (a, b), or 0 when not measured. */
static uint64_t matrix_p50(const struct ik_report *r, int a, int b)
{
	unsigned i;

	for (i = 0; i < r->nresults; i++)
		if (!r->results[i].err && r->results[i].pair.cpu[0] == a &&
		    r->results[i].pair.cpu[1] == b)
			return ik_hist_percentile(&r->results[i].hist, 50);
	return 0;
}

/* Largest p50(a->b) / p50(b->a) over the pairs, and where. */
static double matrix_asymmetry(const struct ik_report *r, int *wa, int *wb)
{
	const struct ik_config *c = r->cfg;
	double worst = 1.0;
	unsigned i, j;

	*wa = *wb = -1;
	for (i = 0; i < c->ncpus; i++)
		for (j = 0; j < c->ncpus; j++) {
			uint64_t ab = matrix_p50(r, c->cpus[i], c->cpus[j]);
			uint64_t ba = matrix_p50(r, c->cpus[j], c->cpus[i]);

			if (i != j && ab && ba && (double)ab / ba > worst) {
				worst = (double)ab / (double)ba;
				*wa = c->cpus[i];
				*wb = c->cpus[j];
			}
		}
	return worst;
}

/* Heatmap: A down, B across, p50 with a shade from its rank. */
static void matrix_table(const struct ik_report *r, FILE *f)
{
	static const char *const shade[] = {" ", ".", ":", "*", "#"};
	const struct ik_config *c = r->cfg;
	uint64_t lo = UINT64_MAX, hi = 0;
	double startup = 0;
	unsigned i, j, n = 0;
	char b[16];
	int wa, wb;

	for (i = 0; i < r->nresults; i++)
		if (!r->results[i].err) {
			uint64_t v =
				ik_hist_percentile(&r->results[i].hist, 50);

			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
			startup += r->results[i].startup_ms;
			n++;
		}
	fprintf(f,
		"\nmatrix of p50 round trips, A (down) to B (across); "
		"shade . : * # from fastest to slowest:\n%6s",
		"A\\B");
	for (j = 0; j < c->ncpus; j++)
		fprintf(f, " %8d", c->cpus[j]);
	fputc('\n', f);
	for (i = 0; i < c->ncpus; i++) {
		fprintf(f, "%6d", c->cpus[i]);
		for (j = 0; j < c->ncpus; j++) {
			uint64_t v = matrix_p50(r, c->cpus[i], c->cpus[j]);
			unsigned s = hi > lo ? (unsigned)(1 + 3 * (v - lo) /
								      (hi - lo))
					     : 1;

			if (i == j || !v)
				fprintf(f, " %8s", "-");
			else
				fprintf(f, " %7s%s",
					fmt_ns(b, sizeof(b), (double)v),
					shade[s > 4 ? 4 : s]);
		}
		fputc('\n', f);
	}
	fprintf(f, "asymmetry: worst p50(A->B)/p50(B->A) = %.2f",
		matrix_asymmetry(r, &wa, &wb));
	if (wa >= 0)
		fprintf(f, " (%d->%d)", wa, wb);
	fprintf(f, "; start-up per pair %.1f ms (channel, peers, pinning)\n",
		n ? startup / n : 0.0);
}

/* --classes: methods down, classes across, p50/p99 in each cell. */
static void classes_table(const struct ik_report *r, FILE *f)
{
	const struct ik_config *c = r->cfg;
	char a[2][16];
	unsigned i, m, k;

	fprintf(f,
		"\nby class (p50/p99 of the round trip; - = absent "
		"here):\n%-10s %-7s",
		"method", "mode");
	for (k = 0; k < IK_NCLASSES; k++)
		fprintf(f, " %15s", ik_class_key((enum ik_class)k));
	fputc('\n', f);
	for (i = 0; i < c->nmethods; i++)
		for (m = 0; m < c->nmodes; m++) {
			fprintf(f, "%-10s %-7s", c->methods[i]->name,
				ik_mode_name(c->modes[m]));
			for (k = 0; k < IK_NCLASSES; k++) {
				const struct ik_result *hit = NULL;
				char cell[40];
				unsigned j;

				for (j = 0; j < r->nresults; j++)
					if (r->results[j].cls == (int)k &&
					    r->results[j].ops ==
						    c->methods[i] &&
					    r->results[j].mode == c->modes[m])
						hit = &r->results[j];
				if (!hit)
					snprintf(cell, sizeof(cell), "-");
				else if (hit->err)
					snprintf(cell, sizeof(cell), "failed");
				else
					snprintf(
						cell, sizeof(cell), "%s/%s",
						fmt_ns(a[0], 16,
						       (double)ik_hist_percentile(
							       &hit->hist, 50)),
						fmt_ns(a[1], 16,
						       (double)ik_hist_percentile(
							       &hit->hist,
							       99)));
				fprintf(f, " %15s", cell);
			}
			fputc('\n', f);
		}
	fprintf(f, "class pairs:");
	for (k = 0; k < IK_NCLASSES; k++)
		if (r->classes[k].present)
			fprintf(f, " %s %d,%d;", ik_class_key((enum ik_class)k),
				r->classes[k].cpu[0], r->classes[k].cpu[1]);
		else
			fprintf(f, " %s absent;",
				ik_class_key((enum ik_class)k));
	fputc('\n', f);
}

/* Per message (or request): n of them, v in all. */
static double per(double v, uint64_t n)
{
	return n ? v / (double)n : 0;
}

static void echo_table(const struct ik_report *r, FILE *f)
{
	char a[6][16];
	unsigned i;

	fprintf(f, "round trip in ns (u = us, m = ms); MB = 10^6 B, one "
		   "way\n\n");
	fprintf(f,
		"%-6s %-7s %-8s %6s %6s %7s | %10s %8s | %8s %8s %8s | "
		"%9s %9s | %8s %8s\n",
		"method", "mode", "server", "buffer", "size", "clients",
		"msgs/s", "MB/s", "p50", "p99", "p99.9", "srv cpu", "cli cpu",
		"srv cs", "cli cs");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		double secs = res->wall_ns / 1e9,
		       rate = secs > 0 ? res->count / secs : 0;

		fprintf(f, "%-6s %-7s %-8s %6s %6s %7u | ", res->ops->name,
			ik_mode_name(res->mode), ik_server_names[res->server],
			fmt_bytes(a[0], 16, res->buffer ? res->buffer : 65536),
			fmt_bytes(a[1], 16, res->size), res->clients);
		if (res->err) {
			fprintf(f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		fprintf(f,
			"%10.0f %8.1f | %8s %8s %8s | %9.0f %9.0f | %8.3f "
			"%8.3f\n",
			rate, rate * (double)res->size / 1e6,
			fmt_ns(a[2], 16,
			       (double)ik_hist_percentile(&res->hist, 50)),
			fmt_ns(a[3], 16,
			       (double)ik_hist_percentile(&res->hist, 99)),
			fmt_ns(a[4], 16,
			       (double)ik_hist_percentile(&res->hist, 99.9)),
			per((double)res->cpu[1].cpu_ns, res->count),
			per((double)res->cpu[0].cpu_ns, res->count),
			per((double)(res->cpu[1].vol_cs + res->cpu[1].invol_cs),
			    res->count),
			per((double)(res->cpu[0].vol_cs + res->cpu[0].invol_cs),
			    res->count));
	}
	fprintf(f,
		"\nmsgs/s: echoes completed by all clients / the run's wall "
		"time; srv/cli cpu: CPU ns per message summed over every "
		"thread of the server / of all clients; cs: context switches "
		"per message (voluntary + involuntary).\n");
}

static void connect_table(const struct ik_report *r, FILE *f)
{
	char a[6][16];
	unsigned i;

	fprintf(f, "latency in ns (u = us, m = ms)\n\n");
	fprintf(f,
		"%-6s %-7s %7s %7s %6s | %9s %9s %7s | %8s %8s | %8s %8s "
		"%8s | %9s | %9s %9s\n",
		"method", "mode", "clients", "backlog", "size", "requests",
		"req/s", "failed", "conn p50", "conn p99", "req p50", "req p99",
		"p99.9", "TIME_WAIT", "srv cpu", "cli cpu");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_connect_result *cx = &res->connect;
		double secs = res->wall_ns / 1e9;

		fprintf(f, "%-6s %-7s %7u %7u %6s | ", res->ops->name,
			ik_mode_name(res->mode), res->clients, cx->backlog,
			fmt_bytes(a[0], 16, res->size));
		if (res->err) {
			fprintf(f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		snprintf(a[5], 16, "%ld", cx->time_wait);
		fprintf(f,
			"%9llu %9.0f %7llu | %8s %8s | %8s %8s %8s | %9s | "
			"%9.0f %9.0f\n",
			(unsigned long long)res->count,
			secs > 0 ? res->count / secs : 0,
			(unsigned long long)cx->failed,
			fmt_ns(a[1], 16,
			       (double)ik_hist_percentile(&cx->connect_hist,
							  50)),
			fmt_ns(a[2], 16,
			       (double)ik_hist_percentile(&cx->connect_hist,
							  99)),
			fmt_ns(a[3], 16,
			       (double)ik_hist_percentile(&res->hist, 50)),
			fmt_ns(a[4], 16,
			       (double)ik_hist_percentile(&res->hist, 99)),
			fmt_ns(a[0], 16,
			       (double)ik_hist_percentile(&res->hist, 99.9)),
			cx->time_wait < 0 ? "-" : a[5],
			per((double)res->cpu[1].cpu_ns, res->count),
			per((double)res->cpu[0].cpu_ns, res->count));
		if (cx->failed)
			fprintf(f, "  %s %s: %llu failed, the first: %s\n",
				res->ops->name, ik_mode_name(res->mode),
				(unsigned long long)cx->failed,
				strerror(-cx->first_err));
	}
	for (i = 0; i < r->nresults; i++)
		if (!r->results[i].err &&
		    !strcmp(r->results[i].ops->name, "tcp")) {
			fprintf(f,
				"\ntcp: listener on 127.0.0.1 with "
				"SO_REUSEADDR; clients take ephemeral ports "
				"(no bind, no SO_REUSEADDR), reused while in "
				"TIME_WAIT only as net.ipv4.tcp_tw_reuse "
				"allows (here %ld). The server closes first, "
				"so TIME_WAIT is on its port: counted from "
				"/proc/net/tcp after the run.\n",
				r->results[i].connect.tw_reuse);
			break;
		}
	fprintf(f, "conn: connect() alone; req: connect, request, reply "
		   "to the server's close; failed connects are counted and "
		   "the client goes on. srv/cli cpu: CPU ns per request.\n");
}

/*
 * --kernel call: the shape of the studies that split a hand-off to a
 * worker thread into wall time, total CPU, the caller's CPU and the
 * worker's; per call, and for all the timed calls together.
 */
static void call_table(const struct ik_report *r, FILE *f)
{
	char a[4][16];
	unsigned i;

	fprintf(f, "wall and CPU per call in ns (u = us, m = ms); CPU over "
		   "the timed calls only\n\n");
	fprintf(f,
		"%-10s %-7s %7s %9s | %8s %8s %8s | %9s %9s %9s %9s | %8s "
		"%8s %8s %8s\n",
		"method", "mode", "work", "calls", "wall", "p50", "p99", "cpu",
		"caller", "worker", "cpu/wall", "wall s", "cpu s", "caller s",
		"worker s");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		double n = res->count ? (double)res->count : 1;
		double ca = (double)res->cpu[0].cpu_ns,
		       cw = (double)res->cpu[1].cpu_ns,
		       w = (double)res->wall_ns;

		fprintf(f, "%-10s %-7s %7s ", res->ops->name,
			ik_mode_name(res->mode),
			fmt_ns(a[0], 16, (double)res->work_ns));
		if (res->err) {
			fprintf(f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		fprintf(f,
			"%9llu | %8s %8s %8s | %9.0f %9.0f %9.0f %9.2f | "
			"%8.3f %8.3f %8.3f %8.3f\n",
			(unsigned long long)res->count, fmt_ns(a[1], 16, w / n),
			fmt_ns(a[2], 16,
			       (double)ik_hist_percentile(&res->hist, 50)),
			fmt_ns(a[3], 16,
			       (double)ik_hist_percentile(&res->hist, 99)),
			(ca + cw) / n, ca / n, cw / n,
			w > 0 ? (ca + cw) / w : 0, w / 1e9, (ca + cw) / 1e9,
			ca / 1e9, cw / 1e9);
	}
	fprintf(f, "\nwall: timed calls' wall time / calls; p50/p99: each call "
		   "timed; cpu = caller + worker (CLOCK_THREAD_CPUTIME_ID); "
		   "cpu/wall: CPUs kept busy (2 = both spin).\n");
}

/* "130 [120, 141] 3.1%": the median, its interval and the CV. */
static void rep_cell(const struct ik_result *res, int m, char *b, size_t n)
{
	double col[1024], div = m == IK_M_MSGS ? 1e6 : 1;
	unsigned k = res->repeats < 1024 ? res->repeats : 1024, i;
	struct ik_summary s;

	for (i = 0; i < k; i++)
		col[i] = ik_rep_value(res, i, m);
	ik_summarize(col, k, &s);
	if (!s.n)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.4g [%.4g, %.4g] %.1f%%", s.median / div,
			 s.lo / div, s.hi / div, 100 * s.cv);
}

/* --repeat K > 1: each metric's spread across the K runs. */
static void repeats_table(const struct ik_report *r, FILE *f)
{
	static const int ms[] = {IK_M_P50, IK_M_P99, IK_M_MSGS, IK_M_CPU};
	unsigned i, k = 0;
	char c[4][128];

	for (i = 0; i < r->nresults; i++)
		k = r->results[i].repeats > k ? r->results[i].repeats : k;
	if (k < 2)
		return;
	fprintf(f,
		"\nacross %u repeats, fresh peers each: median [95%% interval] "
		"run-to-run CV\n%-10s %-22s %-26s %-26s %-26s %s\n",
		k, "method", "cell", "p50 ns", "p99 ns", "M msgs/s",
		"cpu ns/msg");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		char cell[64];

		if (res->err || !res->rep_v)
			continue;
		for (unsigned j = 0; j < 4; j++)
			rep_cell(res, ms[j], c[j], sizeof(c[j]));
		ik_cell_name(res, cell, sizeof(cell));
		fprintf(f, "%-10s %-22s %-26s %-26s %-26s %s\n", res->ops->name,
			cell, c[0], c[1], c[2], c[3]);
	}
	fprintf(f, "interval: %s\n", IK_CI_METHOD);
}

/*
 * The floor: one word through the same ping-pong loop on the same pair,
 * timed per trip (p50) and untimed (warm-up mean). What no method can
 * beat here, and how much of it is the harness's clock and sample store.
 */
static void floor_line(const struct ik_report *r, FILE *f)
{
	const struct ik_result *fl = r->floor;
	struct stats st;

	if (!fl || fl->err)
		return;
	stats_of(r, fl, &st);
	fprintf(f,
		"floor:   one word bounced through this loop on CPUs %d,%d: "
		"p50 %.0f ns, whole-run mean %.1f ns, untimed mean %.1f ns a "
		"round trip (timing each trip: %+.1f ns)\n",
		fl->pair.cpu[0], fl->pair.cpu[1], (double)st.p50, st.wall_mean,
		st.untimed, st.wall_mean - st.untimed);
}

int ik_report_table(const struct ik_report *r, FILE *f)
{
	pairs_shown = has_pairs(r->cfg);
	classes_shown = r->classes != NULL;
	const struct ik_config *c = r->cfg;
	const struct ik_machine *m = r->machine;
	const struct ik_timer *t = r->timer;
	char pair[160], a[8][16];
	bool any_line = false, any_heavy = false, heavy;
	unsigned i;

	if (c->kernel == IK_KERNEL_STREAM && c->duration_ns)
		fprintf(f,
			"ipckern %s: stream for %.2f s per run (at most "
			"%llu messages)%s\n",
			IK_VERSION, c->duration_ns / 1e9,
			(unsigned long long)c->iters,
			c->verify ? ", each message verified" : "");
	else if (c->kernel == IK_KERNEL_STREAM)
		fprintf(f, "ipckern %s: stream, %llu messages per run%s\n",
			IK_VERSION, (unsigned long long)c->iters,
			c->verify ? ", each verified" : "");
	else if (c->kernel == IK_KERNEL_ECHO)
		fprintf(f, "ipckern %s: echo server, closed loop, %s per run\n",
			IK_VERSION,
			c->duration_ns ? "a fixed time" : "--iters per client");
	else if (c->kernel == IK_KERNEL_CONNECT)
		fprintf(f, "ipckern %s: a connection per request, %s per run\n",
			IK_VERSION,
			c->duration_ns ? "a fixed time" : "--iters per client");
	else if (c->kernel == IK_KERNEL_CALL)
		fprintf(f,
			"ipckern %s: calls into a worker, %llu timed calls "
			"after %llu warm-up%s\n",
			IK_VERSION, (unsigned long long)c->iters,
			(unsigned long long)c->warmup,
			c->duration_ns ? " (or --duration)" : "");
	else
		fprintf(f,
			"ipckern %s: ping-pong, %llu timed round trips after "
			"%llu warm-up%s; size is each way\n",
			IK_VERSION, (unsigned long long)c->iters,
			(unsigned long long)c->warmup,
			c->duration_ns ? " (or --duration)" : "");
	fprintf(f, "machine: %s, %s, %d CPUs online%s\n", m->model, m->kernel,
		m->online_cpus, m->hypervisor ? ", under a hypervisor" : "");
	fprintf(f, "timer:   %s", ik_clock_name(t->kind));
	if (t->kind == IK_CLOCK_TSC)
		fprintf(f, " at %.1f MHz", t->tsc_mhz);
	fprintf(f, ", %.1f ns per read, %.1f ns resolution (%s)\n",
		t->read_cost_ns, t->resolution_ns, t->why);
	if (r->classes) {
		fprintf(f, "pairs:   one per topology class (class column)\n");
	} else if (r->nresults) {
		describe_pair(&r->results[0], pair, sizeof(pair));
		fprintf(f, "pair:    %s\n", pair);
	}
	for (i = 0; i < r->nnotes; i++)
		fprintf(f, "note:    %s\n", r->notes[i]);
	floor_line(r, f);
	if (c->mem_node >= 0 && r->nresults)
		fprintf(f,
			"memory:  asked for NUMA node %d; shared pages on "
			"node %d (move_pages)\n",
			c->mem_node, r->results[0].mem_node);
	if (c->kernel == IK_KERNEL_STREAM) {
		fprintf(f, "latency: one way, ns (u = us, m = ms)\n\n");
		stream_table(r, f);
		strangers_notes(r, f);
		stall_notes(r, f);
		repeats_table(r, f);
		return ferror(f) ? -EIO : 0;
	}
	if (c->kernel == IK_KERNEL_ECHO || c->kernel == IK_KERNEL_CONNECT) {
		(c->kernel == IK_KERNEL_ECHO ? echo_table : connect_table)(r,
									   f);
		strangers_notes(r, f);
		stall_notes(r, f);
		repeats_table(r, f);
		return ferror(f) ? -EIO : 0;
	}
	if (c->kernel == IK_KERNEL_CALL) {
		call_table(r, f);
		strangers_notes(r, f);
		stall_notes(r, f);
		repeats_table(r, f);
		return ferror(f) ? -EIO : 0;
	}
	fprintf(f, "latency: round trip in ns (u = us, m = ms); one-way "
		   "estimate = RTT/2\n\n");
	head_key(f, has_gaps(r->cfg));
	fprintf(f, "%7s %7s %7s %7s %7s %7s %7s %7s %9s %7s\n", "min", "p50",
		"p90", "p99", "p99.9", "max", "mean", "stddev", "trips/s",
		"x line");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		struct stats st;

		row_key(f, res, has_gaps(r->cfg));
		if (res->err) {
			fprintf(f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		stats_of(r, res, &st);
		any_line |= st.vs_line > 0;
		fprintf(f, "%7s %7s %7s %7s %7s %7s %7s %7s %9.0f ",
			fmt_ns(a[0], 16, (double)res->hist.min),
			fmt_ns(a[1], 16, (double)st.p50),
			fmt_ns(a[2], 16, (double)st.p90),
			fmt_ns(a[3], 16, (double)st.p99),
			fmt_ns(a[4], 16, (double)st.p999),
			fmt_ns(a[5], 16, (double)res->hist.max),
			fmt_ns(a[6], 16, st.mean), fmt_ns(a[7], 16, st.sd),
			st.rps);
		if (st.vs_line > 0)
			fprintf(f, "%7.2f\n", st.vs_line);
		else
			fprintf(f, "%7s\n", "-");
	}
	fputc('\n', f);
	head_key(f, has_gaps(r->cfg));
	fprintf(f, "%10s %10s %10s %9s %9s %s\n", "whole-run", "untimed",
		"observer", "cpu A/rt", "cpu B/rt", "granted");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		struct stats st;
		/* CPU is read at the gate and the end: warm-up trips count */
		double n = res->count + res->warmup
				   ? (double)(res->count + res->warmup)
				   : 1;

		if (res->err)
			continue;
		stats_of(r, res, &st);
		row_key(f, res, has_gaps(r->cfg));
		if (res->gap_ns) { /* the wall holds the gaps: no such means */
			fprintf(f, "%10s %10s %10s %9.0f %9.0f %s\n", "-", "-",
				"-", res->cpu[0].cpu_ns / n,
				res->cpu[1].cpu_ns / n,
				res->granted[0] ? res->granted : "-");
			continue;
		}
		heavy = st.untimed > 0 && st.wall_mean > 1.1 * st.untimed;
		any_heavy |= heavy;
		fprintf(f, "%10.1f %10.1f %9.1f%c %9.0f %9.0f %s\n",
			st.wall_mean, st.untimed, st.wall_mean - st.untimed,
			heavy ? '!' : ' ', res->cpu[0].cpu_ns / n,
			res->cpu[1].cpu_ns / n,
			res->granted[0] ? res->granted : "-");
	}
	fprintf(f, "\nwhole-run: timed loop wall time / round trips; untimed: "
		   "the same without a clock read per trip (warm-up, and as "
		   "long again right after); "
		   "observer: the difference. cpu/rt: each peer's CPU ns per "
		   "round trip (CLOCK_THREAD_CPUTIME_ID, warm-up and timed "
		   "trips).\n");
	if (any_heavy)
		fprintf(f, "!: the timed loop's mean is over 10%% above the "
			   "untimed one: reading the clock every trip (or the "
			   "host between the two) moved this row; compare the "
			   "untimed mean.\n");
	if (any_line)
		fprintf(f, "x line: p50 over line's p50 on the same pair and "
			   "mode: the cost above bouncing one cache line, "
			   "itself above the floor.\n");
	if (r->classes)
		classes_table(r, f);
	if (r->cfg->matrix)
		matrix_table(r, f);
	strangers_notes(r, f);
	stall_notes(r, f);
	repeats_table(r, f);
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---- */

static json_t *machine_json(const struct ik_machine *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "vendor", json_string(m->vendor));
	json_object_set_new(o, "model_name", json_string(m->model));
	json_object_set_new(o, "family", json_integer(m->family));
	json_object_set_new(o, "model", json_integer(m->cpu_model));
	json_object_set_new(o, "stepping", json_integer(m->stepping));
	json_object_set_new(o, "online_cpus", json_integer(m->online_cpus));
	json_object_set_new(o, "kernel", json_string(m->kernel));
	json_object_set_new(o, "hostname", json_string(m->hostname));
	json_object_set_new(o, "clocksource", json_string(m->clocksource));
	json_object_set_new(o, "hypervisor", json_boolean(m->hypervisor));
	json_object_set_new(o, "cpus_online", json_string(m->online));
	json_object_set_new(o, "smt_control", json_string(m->smt));
	json_object_set_new(o, "isolated_cpus", json_string(m->isolated));
	json_object_set_new(o, "nohz_full", json_string(m->nohz_full));
	json_object_set_new(o, "governor", json_string(m->governor));
	json_object_set_new(o, "freq_khz",
			    json_pack("{s:o,s:o,s:o}", "cur",
				      m->cur_khz < 0 ? json_string("unknown")
						     : json_integer(m->cur_khz),
				      "min",
				      m->min_khz < 0 ? json_string("unknown")
						     : json_integer(m->min_khz),
				      "max",
				      m->max_khz < 0
					      ? json_string("unknown")
					      : json_integer(m->max_khz)));
	json_object_set_new(o, "boost", json_string(m->boost));
	json_object_set_new(o, "load_average_1m",
			    m->load1 < 0 ? json_string("unknown")
					 : json_real(m->load1));
	json_object_set_new(o, "numa_distances",
			    json_string(m->numa_distances));
	json_object_set_new(o, "kernel_cmdline", json_string(m->cmdline));
	json_object_set_new(o, "vulnerabilities", json_string(m->vulns));
	return o;
}

static json_t *timer_json(const struct ik_timer *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "clock", json_string(ik_clock_name(t->kind)));
	json_object_set_new(o, "tsc_invariant", json_boolean(t->tsc_invariant));
	json_object_set_new(o, "tsc_mhz", json_real(t->tsc_mhz));
	json_object_set_new(o, "read_cost_ns", json_real(t->read_cost_ns));
	json_object_set_new(o, "resolution_ns", json_real(t->resolution_ns));
	json_object_set_new(o, "why", json_string(t->why));
	return o;
}

static json_t *sizes_json(const size_t *v, unsigned n)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

json_t *ik_config_json(const struct ik_config *c)
{
	json_t *o = json_object(), *ms = json_array(), *mo = json_array();
	unsigned i;

	for (i = 0; i < c->nmethods; i++)
		json_array_append_new(ms, json_string(c->methods[i]->name));
	for (i = 0; i < c->nmodes; i++)
		json_array_append_new(mo,
				      json_string(ik_mode_name(c->modes[i])));
	{
		static const char *const kn[] = {"pingpong", "stream", "call",
						 "echo", "connect"};

		json_object_set_new(o, "kernel", json_string(kn[c->kernel]));
	}
	json_object_set_new(o, "clients", json_integer(c->clients));
	json_object_set_new(o, "backlog", json_integer(c->backlog));
	{
		json_t *sv = json_array();

		for (i = 0; i < c->nservers; i++)
			json_array_append_new(
				sv,
				json_string(ik_server_names[c->servers[i]]));
		json_object_set_new(o, "servers", sv);
	}
	{
		json_t *w = json_array();

		for (i = 0; i < c->nworks; i++)
			json_array_append_new(
				w, json_integer((json_int_t)c->works[i]));
		json_object_set_new(o, "works_ns", w);
	}
	json_object_set_new(o, "verify", json_boolean(c->verify));
	json_object_set_new(o, "methods", ms);
	json_object_set_new(o, "modes", mo);
	json_object_set_new(o, "wait", json_string(ik_wait_name(c->wait)));
	json_object_set_new(o, "sizes", sizes_json(c->sizes, c->nsizes));
	json_object_set_new(o, "buffers", sizes_json(c->buffers, c->nbuffers));
	{
		json_t *g = json_array();

		for (unsigned i = 0; i < c->ngaps; i++)
			json_array_append_new(
				g, json_integer((json_int_t)c->gaps[i]));
		json_object_set_new(o, "gaps_ns", g);
		json_object_set_new(
			o, "gap_mode",
			json_string(c->gap_sleep ? "sleep" : "spin"));
	}
	json_object_set_new(o, "iters", json_integer((json_int_t)c->iters));
	json_object_set_new(o, "warmup", json_integer((json_int_t)c->warmup));
	json_object_set_new(o, "duration_ns",
			    json_integer((json_int_t)c->duration_ns));
	json_object_set_new(o, "timeout_ns",
			    json_integer((json_int_t)c->timeout_ns));
	json_object_set_new(o, "rate", json_integer((json_int_t)c->rate));
	{
		json_t *pa = json_array();

		for (i = 0; i < c->npairs; i++)
			json_array_append_new(pa, json_integer(c->pairs[i]));
		json_object_set_new(o, "pairs", pa);
	}
	if (c->pinned)
		json_object_set_new(o, "pin",
				    json_pack("[ii]", c->pin[0], c->pin[1]));
	else
		json_object_set_new(o, "pin", json_null());
	return o;
}

static json_t *cpu_json(const struct ik_cpu_usage *u, uint64_t n)
{
	return json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:f}", "cpu_ns", (json_int_t)u->cpu_ns,
		"user_ns", (json_int_t)u->user_ns, "sys_ns",
		(json_int_t)u->sys_ns, "voluntary_cs", (json_int_t)u->vol_cs,
		"involuntary_cs", (json_int_t)u->invol_cs, "per_round_trip_ns",
		n ? (double)u->cpu_ns / (double)n : 0.0);
}

static json_t *hist_json(const struct ik_hist *h)
{
	json_t *a = json_array();
	struct ik_hist_iter it;

	ik_hist_iter_init(&it, h);
	while (ik_hist_iter_next(&it))
		json_array_append_new(a, json_pack("[III]", (json_int_t)it.lo,
						   (json_int_t)it.width,
						   (json_int_t)it.count));
	return a;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/*
 * Each metric of each repeat (one repeat without --repeat), with the
 * median, its interval and the run-to-run spread: what --baseline reads.
 */
static json_t *repeats_json(const struct ik_result *res)
{
	json_t *o = json_object(), *ms = json_object();
	unsigned k = res->rep_v ? res->repeats : 1, r;
	double one[IK_NMETRICS], *col = malloc(k * sizeof(*col));
	int m;

	ik_metrics_of(res, one);
	json_object_set_new(o, "count", json_integer(k));
	/* --append keeps the newest this many; --baseline reads no more */
	json_object_set_new(o, "keep", json_integer(IK_BASELINE_KEEP));
	json_object_set_new(o, "interval", json_string(IK_CI_METHOD));
	json_object_set_new(o, "cv", json_string("sample stddev / mean"));
	json_object_set_new(o, "units",
			    json_string("ns; msgs: messages/s (ping-pong: "
					"round trips/s); throughput: payload "
					"B/s; cpu: both peers' ns/message"));
	for (m = 0; col && m < IK_NMETRICS; m++) {
		json_t *vals = json_array();
		struct ik_summary s;

		for (r = 0; r < k; r++) {
			col[r] = res->rep_v ? ik_rep_value(res, r, m) : one[m];
			json_array_append_new(vals, num_or_null(col[r]));
		}
		ik_summarize(col, k, &s);
		if (!s.n) {
			json_decref(vals);
			continue;
		}
		json_object_set_new(
			ms, ik_metric_infos[m].name,
			json_pack("{s:o,s:o,s:[oo],s:o}", "values", vals,
				  "median", num_or_null(s.median), "ci95",
				  num_or_null(s.lo), num_or_null(s.hi), "cv",
				  num_or_null(s.cv)));
	}
	free(col);
	json_object_set_new(o, "metrics", ms);
	return o;
}

static json_t *result_json(const struct ik_report *r,
			   const struct ik_result *res)
{
	const struct ik_pair *p = &res->pair;
	json_t *o = json_object(), *pair, *lat;
	struct stats st;

	json_object_set_new(o, "method", json_string(res->ops->name));
	json_object_set_new(o, "mode", json_string(ik_mode_name(res->mode)));
	json_object_set_new(o, "size", json_integer((json_int_t)res->size));
	json_object_set_new(o, "buffer", json_integer((json_int_t)res->buffer));
	json_object_set_new(o, "gap_ns", json_integer((json_int_t)res->gap_ns));
	if (res->is_echo)
		json_object_set_new(o, "server",
				    json_string(ik_server_names[res->server]));
	if (res->is_echo || res->is_connect)
		json_object_set_new(o, "clients", json_integer(res->clients));
	/* connections dropped at a listener: not ours, in no number here */
	if (res->is_echo || res->is_connect || res->ops->flags & IK_T_LISTEN)
		json_object_set_new(o, "strangers",
				    json_integer((json_int_t)res->strangers));
	if (res->is_call)
		json_object_set_new(o, "work_ns",
				    json_integer((json_int_t)res->work_ns));
	if (res->cls >= 0)
		json_object_set_new(
			o, "class",
			json_string(ik_class_key((enum ik_class)res->cls)));
	if (res->npairs > 1) {
		json_object_set_new(o, "pairs_at_once",
				    json_integer((json_int_t)res->npairs));
		json_object_set_new(
			o, "pair_number",
			res->pair_index < 0
				? json_string("sum")
				: json_integer(res->pair_index + 1));
	}
	json_object_set_new(o, "count", json_integer((json_int_t)res->count));
	json_object_set_new(
		o, "memory",
		json_pack("{s:o,s:o}", "node_asked",
			  r->cfg->mem_node < 0 ? json_null()
					       : json_integer(r->cfg->mem_node),
			  "pages_on_node",
			  res->mem_node < 0 ? json_string("unknown")
					    : json_integer(res->mem_node)));
	if (r->cfg->matrix)
		json_object_set_new(o, "startup_ms",
				    json_real(res->startup_ms));
	json_object_set_new(o, "granted", json_string(res->granted));
	pair = json_object();
	json_object_set_new(pair, "pinned", json_boolean(p->pinned));
	json_object_set_new(pair, "cpus",
			    p->pinned ? json_pack("[ii]", p->cpu[0], p->cpu[1])
				      : json_null());
	json_object_set_new(
		pair, "cpus_seen",
		json_pack("[ii]", res->cpu_seen[0], res->cpu_seen[1]));
	json_object_set_new(pair, "relation",
			    json_string(ik_relation_key(p->rel)));
	json_object_set_new(pair, "relation_text",
			    json_string(ik_relation_name(p->rel)));
	json_object_set_new(pair, "cross_numa", json_boolean(p->cross_numa));
	json_object_set_new(o, "pair", pair);
	json_object_set_new(o, "status",
			    json_string(res->err ? "error" : "ok"));
	if (res->note[0])
		json_object_set_new(o, "stalls",
				    json_pack("{s:i,s:I,s:s}", "count",
					      (int)res->stalls, "at_least_ns",
					      (json_int_t)res->stall_ns, "why",
					      res->note));
	if (res->err) {
		json_object_set_new(o, "error", json_string(res->errmsg));
		return o;
	}
	if (res->is_stream) {
		const struct ik_stream_result *sr = &res->stream;

		json_object_set_new(
			o, "stream",
			json_pack("{s:I,s:f,s:f,s:f,s:s,s:f,s:f}", "messages",
				  (json_int_t)sr->messages, "seconds",
				  sr->seconds, "messages_per_sec",
				  sr->msgs_per_s, "bytes_per_sec",
				  sr->bytes_per_s, "bytes_unit",
				  "B (MB = 10^6 B)", "tsc_offset_ns",
				  sr->tsc_offset_ns, "tsc_offset_err_ns",
				  sr->tsc_offset_err_ns));
		if (sr->rate_asked > 0)
			json_object_set_new(
				o, "open_loop",
				json_pack("{s:f,s:f,s:I,s:b,s:s}", "rate_asked",
					  sr->rate_asked, "max_send_lag_ns",
					  sr->max_send_lag_ns, "late_sends",
					  (json_int_t)sr->late_sends,
					  "sustained", !sr->rate_missed,
					  "latency_from", "due time"));
		if (sr->latency_valid)
			json_object_set_new(
				o, "latency_sampled_every",
				json_integer(
					(json_int_t)(sr->latency_every
							     ? sr->latency_every
							     : 1)));
		if (!sr->latency_valid) {
			json_object_set_new(o, "latency", json_null());
			json_object_set_new(o, "latency_missing",
					    json_string(sr->latency_why));
		}
	}
	stats_of(r, res, &st);
	if (res->is_stream && !res->stream.latency_valid)
		goto cpu;
	lat = json_pack(
		"{s:s,s:s,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		"s:f}",
		"kind", "round_trip", "unit", "ns", "count",
		(json_int_t)res->hist.total, "min", (json_int_t)res->hist.min,
		"mean", st.mean, "stddev", st.sd, "p50", (json_int_t)st.p50,
		"p90", (json_int_t)st.p90, "p99", (json_int_t)st.p99, "p99_9",
		(json_int_t)st.p999, "p99_99", (json_int_t)st.p9999, "max",
		(json_int_t)res->hist.max, "dropped",
		(json_int_t)res->hist.dropped, "max_relative_error", 0.01);
	json_object_set_new(lat, "histogram", hist_json(&res->hist));
	json_object_set_new(o, "latency", lat);
	if (res->is_stream) {
		json_object_set_new(lat, "kind", json_string("one_way"));
		goto cpu;
	}
	json_object_set_new(o, "one_way_estimate",
			    json_pack("{s:s,s:f,s:f,s:f}", "how",
				      "round_trip/2", "p50", st.p50 / 2.0,
				      "p99", st.p99 / 2.0, "mean",
				      st.mean / 2.0));
	json_object_set_new(o, "round_trips_per_sec", json_real(st.rps));
	json_object_set_new(
		o, "wall",
		json_pack("{s:I,s:f,s:f,s:f,s:b}", "timed_ns",
			  (json_int_t)res->wall_ns, "whole_run_mean_ns",
			  st.wall_mean, "untimed_mean_ns", st.untimed,
			  "observer_effect_ns", st.wall_mean - st.untimed,
			  "hit_sample_cap", res->hit_cap));
	json_object_set_new(o, "vs_line",
			    st.vs_line > 0 ? json_real(st.vs_line)
					   : json_null());
cpu:
	json_object_set_new(
		o, "cpu",
		json_pack("{s:o,s:o}", "a",
			  cpu_json(&res->cpu[0], res->count + res->warmup), "b",
			  cpu_json(&res->cpu[1], res->count + res->warmup)));
	if (res->is_echo) {
		double secs = res->wall_ns / 1e9,
		       rate = secs > 0 ? res->count / secs : 0;

		json_object_set_new(
			o, "echo",
			json_pack("{s:s,s:i,s:I,s:I,s:f,s:f,s:f,s:f,s:o,s:o}",
				  "server", ik_server_names[res->server],
				  "clients", (int)res->clients, "messages",
				  (json_int_t)res->count, "wall_ns",
				  (json_int_t)res->wall_ns, "messages_per_sec",
				  rate, "mb_per_sec_one_way",
				  rate * (double)res->size / 1e6,
				  "cpu_server_per_msg_ns",
				  per((double)res->cpu[1].cpu_ns, res->count),
				  "cpu_clients_per_msg_ns",
				  per((double)res->cpu[0].cpu_ns, res->count),
				  "server_cpu",
				  cpu_json(&res->cpu[1], res->count),
				  "clients_cpu",
				  cpu_json(&res->cpu[0], res->count)));
	}
	if (res->is_connect) {
		const struct ik_connect_result *cx = &res->connect;
		const struct ik_hist *h = &cx->connect_hist;
		double secs = res->wall_ns / 1e9;

		json_object_set_new(
			o, "connect",
			json_pack(
				"{s:i,s:i,s:I,s:I,s:I,s:o,s:f,s:o,s:o,s:{s:I,"
				"s:I,s:I,s:I},s:o,s:o}",
				"clients", (int)res->clients, "backlog",
				(int)cx->backlog, "requests",
				(json_int_t)res->count, "served",
				(json_int_t)cx->served, "failed",
				(json_int_t)cx->failed, "first_failure",
				cx->failed
					? json_string(strerror(-cx->first_err))
					: json_null(),
				"requests_per_sec",
				secs > 0 ? res->count / secs : 0.0,
				"time_wait_after",
				cx->time_wait < 0 ? json_null()
						  : json_integer(cx->time_wait),
				"tcp_tw_reuse",
				cx->tw_reuse < 0 ? json_null()
						 : json_integer(cx->tw_reuse),
				"connect_ns", "p50",
				(json_int_t)ik_hist_percentile(h, 50), "p99",
				(json_int_t)ik_hist_percentile(h, 99), "p99_9",
				(json_int_t)ik_hist_percentile(h, 99.9), "max",
				(json_int_t)h->max, "server_cpu",
				cpu_json(&res->cpu[1], res->count),
				"clients_cpu",
				cpu_json(&res->cpu[0], res->count)));
	}
	if (res->is_call) {
		double n = res->count ? (double)res->count : 1;
		double ca = (double)res->cpu[0].cpu_ns,
		       cw = (double)res->cpu[1].cpu_ns;

		json_object_set_new(
			o, "call",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:s}",
				  "work_ns", (json_int_t)res->work_ns, "calls",
				  (json_int_t)res->count, "wall_ns",
				  (json_int_t)res->wall_ns, "cpu_caller_ns",
				  (json_int_t)res->cpu[0].cpu_ns,
				  "cpu_worker_ns",
				  (json_int_t)res->cpu[1].cpu_ns,
				  "wall_per_call_ns", (double)res->wall_ns / n,
				  "cpu_per_call_ns", (ca + cw) / n,
				  "cpu_caller_per_call_ns", ca / n,
				  "cpu_worker_per_call_ns", cw / n,
				  "cpu_counted", "timed calls only"));
	}
	json_object_set_new(o, "repeats", repeats_json(res));
	return o;
}

int ik_report_json(const struct ik_report *r, FILE *f)
{
	json_t *root = json_object(), *res = json_array(),
	       *notes = json_array();
	char when[32];
	time_t now = time(NULL);
	unsigned i;
	int ret;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_object_set_new(root, "schema", json_string(IK_SCHEMA));
	json_object_set_new(root, "tool",
			    json_pack("{s:s,s:s}", "name", "ipckern", "version",
				      IK_VERSION));
	json_object_set_new(root, "created", json_string(when));
	json_object_set_new(root, "machine", machine_json(r->machine));
	json_object_set_new(root, "timer", timer_json(r->timer));
	json_object_set_new(
		root, "topology_source",
		json_string(r->topology ? r->topology : "this machine"));
	json_object_set_new(root, "config", ik_config_json(r->cfg));
	for (i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_object_set_new(root, "notes", notes);
	if (r->floor && !r->floor->err) {
		struct stats st;

		stats_of(r, r->floor, &st);
		json_object_set_new(
			root, "floor",
			json_pack("{s:s,s:[i,i],s:I,s:I,s:f,s:f,s:f}", "what",
				  "one word bounced through the ping-pong loop",
				  "cpus", r->floor->pair.cpu[0],
				  r->floor->pair.cpu[1], "round_trips",
				  (json_int_t)r->floor->count, "p50_ns",
				  (json_int_t)st.p50, "whole_run_mean_ns",
				  st.wall_mean, "untimed_mean_ns", st.untimed,
				  "timing_cost_ns", st.wall_mean - st.untimed));
	}
	if (r->cfg->kernel == IK_KERNEL_PINGPONG)
		json_object_set_new(root, "vs_line",
				    json_string("p50 over line's p50 on the "
						"same pair, mode, size and "
						"gap"));
	if (r->classes)
		json_object_set_new(root, "classes", classes_json(r->classes));
	if (r->cfg->matrix) {
		const struct ik_config *c = r->cfg;
		json_t *m = json_object(), *rows = json_array(),
		       *cpus = json_array();
		int wa, wb;

		for (i = 0; i < c->ncpus; i++) {
			json_t *row = json_array();

			json_array_append_new(cpus, json_integer(c->cpus[i]));
			for (unsigned j = 0; j < c->ncpus; j++) {
				uint64_t v =
					matrix_p50(r, c->cpus[i], c->cpus[j]);

				json_array_append_new(
					row, v ? json_integer((json_int_t)v)
					       : json_null());
			}
			json_array_append_new(rows, row);
		}
		json_object_set_new(m, "cpus", cpus);
		json_object_set_new(m, "p50_ns", rows);
		json_object_set_new(m, "max_asymmetry",
				    json_real(matrix_asymmetry(r, &wa, &wb)));
		json_object_set_new(root, "matrix", m);
	}
	for (i = 0; i < r->nresults; i++)
		json_array_append_new(res, result_json(r, &r->results[i]));
	json_object_set_new(root, "results", res);
	ret = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	fputc('\n', f);
	return ret || ferror(f) ? -EIO : 0;
}

/* ---- CSV ---- */

int ik_report_csv(const struct ik_report *r, FILE *f)
{
	struct stats fl = {0};
	unsigned i;

	fprintf(f,
		"method,mode,size,buffer,wait,cpu_a,cpu_b,relation,cross_numa,"
		"count,min_ns,mean_ns,stddev_ns,p50_ns,p90_ns,p99_ns,"
		"p99_9_ns,p99_99_ns,max_ns,round_trips_per_s,"
		"whole_run_mean_ns,untimed_mean_ns,vs_line,cpu_a_ns,"
		"cpu_b_ns,msgs_per_s,bytes_per_s,gap_ns,floor_p50_ns,"
		"floor_untimed_mean_ns,stalls,stall_ns,status,error\n");
	/* the harness floor (one per run, on its pair) on every row that
	 * shares that pair, empty where none was measured */
	if (r->floor && !r->floor->err)
		stats_of(r, r->floor, &fl);
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		struct stats st = {0};
		bool has_floor = r->floor && !r->floor->err &&
				 res->pair.cpu[0] == r->floor->pair.cpu[0] &&
				 res->pair.cpu[1] == r->floor->pair.cpu[1];

		if (!res->err)
			stats_of(r, res, &st);
		fprintf(f,
			"%s,%s,%zu,%zu,%s,%d,%d,%s,%d,%llu,%llu,%.1f,%.1f,%llu,"
			"%llu,%llu,%llu,%llu,%llu,%.1f,%.1f,%.1f,%.3f,%llu,"
			"%llu,%.1f,%.1f,%llu,",
			res->ops->name, ik_mode_name(res->mode), res->size,
			res->buffer, ik_wait_name(r->cfg->wait),
			res->pair.cpu[0], res->pair.cpu[1],
			ik_relation_key(res->pair.rel), res->pair.cross_numa,
			(unsigned long long)res->count,
			(unsigned long long)(res->hist.total ? res->hist.min
							     : 0),
			st.mean, st.sd, (unsigned long long)st.p50,
			(unsigned long long)st.p90, (unsigned long long)st.p99,
			(unsigned long long)st.p999,
			(unsigned long long)st.p9999,
			(unsigned long long)res->hist.max, st.rps, st.wall_mean,
			st.untimed, st.vs_line,
			(unsigned long long)res->cpu[0].cpu_ns,
			(unsigned long long)res->cpu[1].cpu_ns,
			res->stream.msgs_per_s, res->stream.bytes_per_s,
			(unsigned long long)res->gap_ns);
		if (has_floor)
			fprintf(f, "%llu,%.1f,", (unsigned long long)fl.p50,
				fl.untimed);
		else
			fputs(",,", f);
		fprintf(f, "%u,%llu,%s,\"", res->stalls,
			(unsigned long long)res->stall_ns,
			res->err ? "error" : "ok");
		/* RFC 4180: a quote inside a quoted field is doubled */
		for (const char *c = res->err ? res->errmsg : ""; *c; c++) {
			if (*c == '"')
				fputc('"', f);
			fputc(*c, f);
		}
		fputs("\"\n", f);
	}
	return ferror(f) ? -EIO : 0;
}

int ik_report_write(const struct ik_report *r, FILE *f)
{
	if (r->classes && r->cfg->dry_run)
		return ik_report_classes(r, f);
	switch (r->cfg->format) {
	case IK_FMT_JSON:
		return ik_report_json(r, f);
	case IK_FMT_CSV:
		return ik_report_csv(r, f);
	case IK_FMT_GBENCH:
		return ik_report_gbench(r, f);
	default:
		return ik_report_table(r, f);
	}
}

static int report_fn(const void *arg, FILE *f)
{
	return ik_report_write(arg, f);
}

int ik_report_write_file(const struct ik_report *r, const char *path,
			 bool mkdirs)
{
	return ik_output_write(path, mkdirs, report_fn, r);
}

static int raw_fn(const void *arg, FILE *f)
{
	const struct ik_result *res = arg;
	uint64_t i;

	for (i = 0; i < res->count; i++)
		fprintf(f, "%llu\n", (unsigned long long)res->raw_ns[i]);
	return ferror(f) ? -EIO : 0;
}

int ik_raw_write_file(const struct ik_result *res, const char *path,
		      bool mkdirs)
{
	if (!res->raw_ns)
		return -EINVAL;
	return ik_output_write(path, mkdirs, raw_fn, res);
}

static void khz(char *b, size_t n, long v)
{
	if (v < 0)
		snprintf(b, n, "unknown");
	else
		snprintf(b, n, "%ld MHz", v / 1000);
}

int ik_report_machine(const struct ik_report *r, const char *topo_summary,
		      FILE *f)
{
	const struct ik_machine *m = r->machine;
	const struct ik_timer *t = r->timer;
	char a[3][32];

	if (r->cfg->format == IK_FMT_JSON) {
		json_t *root = json_pack("{s:s}", "schema", IK_SCHEMA);
		int ret;

		json_object_set_new(root, "machine", machine_json(m));
		json_object_set_new(root, "timer", timer_json(t));
		json_object_set_new(root, "topology",
				    json_string(topo_summary));
		ret = json_dumpf(root, f, JSON_INDENT(2));
		json_decref(root);
		fputc('\n', f);
		return ret || ferror(f) ? -EIO : 0;
	}
	khz(a[0], 32, m->cur_khz);
	khz(a[1], 32, m->min_khz);
	khz(a[2], 32, m->max_khz);
	fprintf(f,
		"cpu:          %s (vendor %s, family %d, model %d, stepping "
		"%d)\n"
		"topology:     %s\n"
		"online:       %s (%d)\n"
		"smt control:  %s\n"
		"numa:         %s\n"
		"isolated:     %s; nohz_full: %s\n"
		"governor:     %s; freq cur %s, min %s, max %s; boost %s\n"
		"timer:        %s%s; TSC invariant: %s; %.1f MHz measured; "
		"%.1f ns per read; clocksource %s\n"
		"kernel:       %s\n"
		"cmdline:      %s\n"
		"hypervisor:   %s\n"
		"load (1 min): %.2f\n"
		"mitigations:  %s\n",
		m->model, m->vendor, m->family, m->cpu_model, m->stepping,
		topo_summary, m->online, m->online_cpus, m->smt,
		m->numa_distances, m->isolated, m->nohz_full, m->governor, a[0],
		a[1], a[2], m->boost, ik_clock_name(t->kind), "",
		t->tsc_invariant ? "yes" : "no", t->tsc_mhz, t->read_cost_ns,
		m->clocksource, m->kernel, m->cmdline,
		m->hypervisor ? "yes" : "no", m->load1, m->vulns);
	return ferror(f) ? -EIO : 0;
}
