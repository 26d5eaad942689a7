/* SPDX-License-Identifier: MIT */
/*
 * Each kernel's part of the table report: the first line saying what
 * ran, and the kernel's own table with its footnotes. One title and one
 * body per kernel, in its row of ik_kernel_tables; table.c writes the
 * header and the parts every kernel shares around them.
 */
#define _GNU_SOURCE
#include <string.h>

#include "gate.h"
#include "writers.h"

/* ---- ping-pong ---- */

static void pingpong_title(const struct ik_tbl *t)
{
	fprintf(t->f,
		"ipckern %s: ping-pong, %llu timed round trips after "
		"%llu warm-up%s; size is each way\n",
		IK_VERSION, (unsigned long long)t->c->iters,
		(unsigned long long)t->c->warmup,
		t->c->duration_ns ? " (or --duration)" : "");
}

/* Latency percentiles and the ratio to line, one row per result. */
static bool pingpong_latency(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	bool any_line = false;
	char a[8][16];
	unsigned i;

	ik_tbl_head_key(t);
	fprintf(t->f, "%7s %7s %7s %7s %7s %7s %7s %7s %9s %7s\n", "min", "p50",
		"p90", "p99", "p99.9", "max", "mean", "stddev", "trips/s",
		"x line");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		struct ik_stats st;

		ik_tbl_row_key(t, res);
		if (res->err) {
			fprintf(t->f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		ik_stats_of(r, res, &st);
		any_line |= st.vs_line > 0;
		fprintf(t->f, "%7s %7s %7s %7s %7s %7s %7s %7s %9.0f ",
			ik_fmt_ns(a[0], 16, (double)res->hist.min),
			ik_fmt_ns(a[1], 16, (double)st.p50),
			ik_fmt_ns(a[2], 16, (double)st.p90),
			ik_fmt_ns(a[3], 16, (double)st.p99),
			ik_fmt_ns(a[4], 16, (double)st.p999),
			ik_fmt_ns(a[5], 16, (double)res->hist.max),
			ik_fmt_ns(a[6], 16, st.mean),
			ik_fmt_ns(a[7], 16, st.sd), st.rps);
		if (st.vs_line > 0)
			fprintf(t->f, "%7.2f\n", st.vs_line);
		else
			fprintf(t->f, "%7s\n", "-");
	}
	fputc('\n', t->f);
	return any_line;
}

/* Means with and without a clock read per trip, and CPU; !: heavy. */
static bool pingpong_wall(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	bool any_heavy = false, heavy;
	unsigned i;

	ik_tbl_head_key(t);
	fprintf(t->f, "%10s %10s %10s %9s %9s %s\n", "whole-run", "untimed",
		"observer", "cpu A/rt", "cpu B/rt", "granted");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		struct ik_stats st;
		/* CPU is read at the gate and the end: warm-up trips count */
		double n = res->count + res->warmup
				   ? (double)(res->count + res->warmup)
				   : 1;

		if (res->err)
			continue;
		ik_stats_of(r, res, &st);
		ik_tbl_row_key(t, res);
		if (res->gap_ns) { /* the wall holds the gaps: no such means */
			fprintf(t->f, "%10s %10s %10s %9.0f %9.0f %s\n", "-",
				"-", "-", res->cpu[0].cpu_ns / n,
				res->cpu[1].cpu_ns / n,
				res->granted[0] ? res->granted : "-");
			continue;
		}
		heavy = st.untimed > 0 && st.wall_mean > 1.1 * st.untimed;
		any_heavy |= heavy;
		fprintf(t->f, "%10.1f %10.1f %9.1f%c %9.0f %9.0f %s\n",
			st.wall_mean, st.untimed, st.wall_mean - st.untimed,
			heavy ? '!' : ' ', res->cpu[0].cpu_ns / n,
			res->cpu[1].cpu_ns / n,
			res->granted[0] ? res->granted : "-");
	}
	return any_heavy;
}

static void pingpong_table(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	bool any_line, any_heavy;

	fprintf(t->f, "latency: round trip in ns (u = us, m = ms); one-way "
		      "estimate = RTT/2\n\n");
	any_line = pingpong_latency(t);
	any_heavy = pingpong_wall(t);
	fprintf(t->f,
		"\nwhole-run: timed loop wall time / round trips; untimed: "
		"the same without a clock read per trip (warm-up, and as "
		"long again right after); "
		"observer: the difference. cpu/rt: each peer's CPU ns per "
		"round trip (CLOCK_THREAD_CPUTIME_ID, warm-up and timed "
		"trips).\n");
	if (any_heavy)
		fprintf(t->f, "!: the timed loop's mean is over 10%% above the "
			      "untimed one: reading the clock every trip (or "
			      "the host between the two) moved this row; "
			      "compare the untimed mean.\n");
	if (any_line)
		fprintf(t->f, "x line: p50 over line's p50 on the same pair "
			      "and mode: the cost above bouncing one cache "
			      "line, itself above the floor.\n");
	if (r->classes)
		ik_classes_table(r, t->f);
	if (t->r->matrix)
		ik_matrix_table(r, t->f);
}

/* ---- stream ---- */

static void stream_title(const struct ik_tbl *t)
{
	const struct ik_config *c = t->c;

	if (c->duration_ns)
		fprintf(t->f,
			"ipckern %s: stream for %.2f s per run (at most "
			"%llu messages)%s\n",
			IK_VERSION, c->duration_ns / 1e9,
			(unsigned long long)c->iters,
			c->verify ? ", each message verified" : "");
	else
		fprintf(t->f, "ipckern %s: stream, %llu messages per run%s\n",
			IK_VERSION, (unsigned long long)c->iters,
			c->verify ? ", each verified" : "");
}

static void stream_rows(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	char a[6][16];
	unsigned i;

	ik_tbl_head_key(t);
	fprintf(t->f, "%12s %10s %9s %8s %8s %8s %9s %9s %s\n", "msgs/s",
		"MB/s", "ns/msg", "p50", "p99", "p99.9", "cpuA/msg", "cpuB/msg",
		"granted");
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_stream_result *s = &res->stream;
		double n = s->messages ? (double)s->messages : 1;
		bool lat = s->latency_valid;
		const struct ik_hist *h = &res->hist;

		ik_tbl_row_key(t, res);
		if (res->err) {
			fprintf(t->f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		fprintf(t->f,
			"%12.0f %10.1f %9.1f %8s %8s %8s %9.0f %9.0f %s\n",
			s->msgs_per_s, s->bytes_per_s / 1e6,
			s->msgs_per_s > 0 ? 1e9 / s->msgs_per_s : 0,
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
static void stream_offsets(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	double lo = 1e18, hi = -1e18, err = 0;
	unsigned i, kept = 0, ok = 0;

	for (i = 0; i < r->nresults; i++) {
		const struct ik_stream_result *s = &r->results[i].stream;

		if (r->results[i].err)
			continue;
		ok++;
		kept += s->latency_valid;
		lo = s->tsc_offset_ns < lo ? s->tsc_offset_ns : lo;
		hi = s->tsc_offset_ns > hi ? s->tsc_offset_ns : hi;
		err = s->tsc_offset_err_ns > err ? s->tsc_offset_err_ns : err;
	}
	if (ok)
		fprintf(t->f,
			"  TSC offset B-A from %.0f to %.0f ns, each "
			"+- at most %.0f ns; latency kept in %u of %u "
			"runs\n",
			lo, hi, err, kept, ok);
}

/* Per cell: --rate kept or not, and latency sampled or missing. */
static void stream_cell_notes(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	unsigned i;

	for (i = 0; i < r->nresults && t->c->rate; i++) {
		const struct ik_result *res = &r->results[i];
		const struct ik_stream_result *s = &res->stream;

		if (res->err)
			continue;
		fputs("  ", t->f);
		ik_tbl_row_key(t, res);
		fprintf(t->f,
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
		fputs("  ", t->f);
		ik_tbl_row_key(t, res);
		if (s->latency_valid)
			fprintf(t->f,
				"latency sampled: one message in %llu carries "
				"the send stamp (stamping each would cost more "
				"than the hop)\n",
				(unsigned long long)s->latency_every);
		else
			fprintf(t->f, "latency %s\n", s->latency_why);
	}
}

static void stream_table(const struct ik_tbl *t)
{
	fprintf(t->f, "latency: one way, ns (u = us, m = ms)\n\n");
	stream_rows(t);
	fprintf(t->f,
		"\nMB = 10^6 bytes. p50/p99/p99.9: one-way latency, B's TSC "
		"at receipt minus A's stamp at send, corrected by the measured "
		"offset:\n");
	stream_offsets(t);
	stream_cell_notes(t);
	fprintf(t->f, "cpu/msg: each peer's CPU ns per message "
		      "(CLOCK_THREAD_CPUTIME_ID). A queued send returns before "
		      "B reads it, so latency grows with the backlog.\n");
}

/* ---- echo ---- */

static void echo_title(const struct ik_tbl *t)
{
	fprintf(t->f, "ipckern %s: echo server, closed loop, %s per run\n",
		IK_VERSION,
		t->c->duration_ns ? "a fixed time" : "--iters per client");
}

static void echo_table(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	FILE *f = t->f;
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
		const struct ik_hist *h = &res->hist;
		double secs = res->wall_ns / 1e9,
		       rate = secs > 0 ? res->count / secs : 0;

		fprintf(f, "%-6s %-7s %-8s %6s %6s %7u | ", res->ops->name,
			ik_mode_name(res->mode), ik_server_names[res->server],
			ik_fmt_bytes(a[0], 16,
				     res->buffer ? res->buffer : 65536),
			ik_fmt_bytes(a[1], 16, res->size), res->clients);
		if (res->err) {
			fprintf(f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		fprintf(f,
			"%10.0f %8.1f | %8s %8s %8s | %9.0f %9.0f | %8.3f "
			"%8.3f\n",
			rate, rate * (double)res->size / 1e6,
			ik_fmt_ns(a[2], 16, (double)ik_hist_percentile(h, 50)),
			ik_fmt_ns(a[3], 16, (double)ik_hist_percentile(h, 99)),
			ik_fmt_ns(a[4], 16,
				  (double)ik_hist_percentile(h, 99.9)),
			ik_per((double)res->cpu[1].cpu_ns, res->count),
			ik_per((double)res->cpu[0].cpu_ns, res->count),
			ik_per((double)(res->cpu[1].vol_cs +
					res->cpu[1].invol_cs),
			       res->count),
			ik_per((double)(res->cpu[0].vol_cs +
					res->cpu[0].invol_cs),
			       res->count));
	}
	fprintf(f,
		"\nmsgs/s: echoes completed by all clients / the run's wall "
		"time; srv/cli cpu: CPU ns per message summed over every "
		"thread of the server / of all clients; cs: context switches "
		"per message (voluntary + involuntary).\n");
}

/* ---- connect ---- */

static void connect_title(const struct ik_tbl *t)
{
	fprintf(t->f, "ipckern %s: a connection per request, %s per run\n",
		IK_VERSION,
		t->c->duration_ns ? "a fixed time" : "--iters per client");
}

static void connect_row(FILE *f, const struct ik_result *res)
{
	const struct ik_connect_result *cx = &res->connect;
	const struct ik_hist *h = &res->hist, *ch = &cx->connect_hist;
	double secs = res->wall_ns / 1e9;
	char a[6][16];

	snprintf(a[5], 16, "%ld", cx->time_wait);
	fprintf(f,
		"%9llu %9.0f %7llu | %8s %8s | %8s %8s %8s | %9s | "
		"%9.0f %9.0f\n",
		(unsigned long long)res->count,
		secs > 0 ? res->count / secs : 0,
		(unsigned long long)cx->failed,
		ik_fmt_ns(a[1], 16, (double)ik_hist_percentile(ch, 50)),
		ik_fmt_ns(a[2], 16, (double)ik_hist_percentile(ch, 99)),
		ik_fmt_ns(a[3], 16, (double)ik_hist_percentile(h, 50)),
		ik_fmt_ns(a[4], 16, (double)ik_hist_percentile(h, 99)),
		ik_fmt_ns(a[0], 16, (double)ik_hist_percentile(h, 99.9)),
		cx->time_wait < 0 ? "-" : a[5],
		ik_per((double)res->cpu[1].cpu_ns, res->count),
		ik_per((double)res->cpu[0].cpu_ns, res->count));
	if (cx->failed)
		fprintf(f, "  %s %s: %llu failed, the first: %s\n",
			res->ops->name, ik_mode_name(res->mode),
			(unsigned long long)cx->failed,
			strerror(-cx->first_err));
}

static void connect_table(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	FILE *f = t->f;
	char b[16];
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

		fprintf(f, "%-6s %-7s %7u %7u %6s | ", res->ops->name,
			ik_mode_name(res->mode), res->clients,
			res->connect.backlog,
			ik_fmt_bytes(b, sizeof(b), res->size));
		if (res->err)
			fprintf(f, "FAILED: %s\n", res->errmsg);
		else
			connect_row(f, res);
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

/* ---- call ---- */

static void call_title(const struct ik_tbl *t)
{
	fprintf(t->f,
		"ipckern %s: calls into a worker, %llu timed calls "
		"after %llu warm-up%s\n",
		IK_VERSION, (unsigned long long)t->c->iters,
		(unsigned long long)t->c->warmup,
		t->c->duration_ns ? " (or --duration)" : "");
}

/*
 * --kernel call: the shape of the studies that split a hand-off to a
 * worker thread into wall time, total CPU, the caller's CPU and the
 * worker's; per call, and for all the timed calls together.
 */
static void call_table(const struct ik_tbl *t)
{
	const struct ik_report *r = t->r;
	FILE *f = t->f;
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
			ik_fmt_ns(a[0], 16, (double)res->work_ns));
		if (res->err) {
			fprintf(f, "FAILED: %s\n", res->errmsg);
			continue;
		}
		fprintf(f,
			"%9llu | %8s %8s %8s | %9.0f %9.0f %9.0f %9.2f | "
			"%8.3f %8.3f %8.3f %8.3f\n",
			(unsigned long long)res->count,
			ik_fmt_ns(a[1], 16, w / n),
			ik_fmt_ns(a[2], 16,
				  (double)ik_hist_percentile(&res->hist, 50)),
			ik_fmt_ns(a[3], 16,
				  (double)ik_hist_percentile(&res->hist, 99)),
			(ca + cw) / n, ca / n, cw / n,
			w > 0 ? (ca + cw) / w : 0, w / 1e9, (ca + cw) / 1e9,
			ca / 1e9, cw / 1e9);
	}
	fprintf(f, "\nwall: timed calls' wall time / calls; p50/p99: each call "
		   "timed; cpu = caller + worker (CLOCK_THREAD_CPUTIME_ID); "
		   "cpu/wall: CPUs kept busy (2 = both spin).\n");
}

/* ---- the rows ---- */

const struct ik_kernel_table ik_kernel_tables[] = {
	[IK_KERNEL_PINGPONG] = {pingpong_title, pingpong_table},
	[IK_KERNEL_STREAM] = {stream_title, stream_table},
	[IK_KERNEL_CALL] = {call_title, call_table},
	[IK_KERNEL_ECHO] = {echo_title, echo_table},
	[IK_KERNEL_CONNECT] = {connect_title, connect_table},
};
_Static_assert(IK_ARRAY_SIZE(ik_kernel_tables) == IK_NKERNELS,
	       "a table row per kernel in kernels/registry.c");
