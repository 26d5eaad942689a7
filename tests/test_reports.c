/* SPDX-License-Identifier: MIT */
/*
 * The writers on fixed reports: every kernel's results (and --classes,
 * --matrix, --repeat, --pairs, a failed cell, the floor, --machine)
 * rendered as table, JSON, CSV and gbench, compared byte for byte with
 * the golden files in tests/data/golden/. Only what depends on the clock
 * or the host running the test (JSON "created", gbench "date",
 * "executable" and "library_build_type") is masked. IK_GOLDEN_UPDATE=1
 * rewrites the files: do that only when an output is meant to change,
 * and say so in the commit.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "reports/gate.h"
#include "reports/reports.h"

#define MAXR 24

struct fx {
	struct ik_config cfg;
	struct ik_sweep sweep;
	struct ik_machine machine;
	struct ik_timer timer;
	struct ik_result res[MAXR];
	struct ik_result floor;
	struct ik_class_pair classes[IK_NCLASSES];
	struct ik_report rep;
};

static void add_method(struct fx *x, const char *name)
{
	x->sweep.methods[x->sweep.nmethods] = ik_transport_find(name);
	cr_assert_not_null(x->sweep.methods[x->sweep.nmethods], "%s", name);
	x->sweep.nmethods++;
}

/*
 * The fixture every golden report starts from: a fixed machine and timer,
 * kernel k's configuration with the methods of the comma list methods
 * (NULL: none), one 64 B size, pinned to 0,2. add() then adds results.
 */
static void fx_init(struct fx *x, enum ik_kernel k, const char *methods)
{
	struct ik_machine *m = &x->machine;
	struct ik_config *c = &x->cfg;
	struct ik_sweep *sw = &x->sweep;

	memset(x, 0, sizeof(*x));
	snprintf(m->vendor, sizeof(m->vendor), "GenuineTest");
	snprintf(m->model, sizeof(m->model), "Test CPU 3000 @ 3.00GHz");
	m->family = 6, m->cpu_model = 85, m->stepping = 4;
	m->online_cpus = 4;
	snprintf(m->kernel, sizeof(m->kernel), "Linux 6.1.0 x86_64");
	snprintf(m->hostname, sizeof(m->hostname), "golden");
	snprintf(m->clocksource, sizeof(m->clocksource), "tsc");
	m->hypervisor = true;
	snprintf(m->online, sizeof(m->online), "0-3");
	snprintf(m->smt, sizeof(m->smt), "on");
	snprintf(m->isolated, sizeof(m->isolated), "none");
	snprintf(m->nohz_full, sizeof(m->nohz_full), "none");
	snprintf(m->governor, sizeof(m->governor), "powersave");
	m->cur_khz = 2100000, m->min_khz = 800000, m->max_khz = -1;
	snprintf(m->boost, sizeof(m->boost), "unknown");
	m->load1 = 0.25;
	snprintf(m->numa_distances, sizeof(m->numa_distances), "node0: 10");
	snprintf(m->cmdline, sizeof(m->cmdline), "ro quiet");
	snprintf(m->vulns, sizeof(m->vulns), "spectre_v1: Mitigation");
	snprintf(m->idle, sizeof(m->idle), "haltpoll, governor haltpoll");
	m->halt_poll_ns = 0;
	snprintf(m->idle_state, sizeof(m->idle_state), "haltpoll idle");
	m->idle_exit_us = 1;
	m->latency_qos_us = IK_NO_LATENCY_QOS;
	x->timer.kind = IK_CLOCK_TSC;
	x->timer.ns_per_tick = 1 / 3.0;
	x->timer.tsc_mhz = 3000.0;
	x->timer.read_cost_ns = 7.5;
	x->timer.resolution_ns = 0.4;
	x->timer.tsc_invariant = true;
	snprintf(x->timer.why, sizeof(x->timer.why), "invariant TSC");

	c->kernel = k;
	sw->nmodes = 1;
	sw->sizes[0] = c->size = 64;
	sw->nsizes = 1;
	sw->nbuffers = 1;
	sw->ngaps = 1;
	sw->pairs[0] = 1;
	sw->npairs = 1;
	c->iters = 1000;
	c->warmup = 100;
	c->timeout_ns = 10 * IK_NS_PER_SEC;
	c->pinned = true;
	c->cpu[0] = 0, c->cpu[1] = 2;
	c->ncpu = 2;
	x->rep.mem_node = -1;
	sw->nworks = 1;
	sw->nservers = 1;
	c->clients = 4;
	c->backlog = 128;

	x->rep.cfg = c;
	x->rep.sweep = sw;
	x->rep.machine = m;
	x->rep.timer = &x->timer;
	x->rep.results = x->res;
	if (methods) {
		char list[128], *save = NULL, *m;

		snprintf(list, sizeof(list), "%s", methods);
		for (m = strtok_r(list, ",", &save); m;
		     m = strtok_r(NULL, ",", &save))
			add_method(x, m);
	}
}

/* A deterministic histogram around base ns with a tail. */
static void fill_hist(struct ik_hist *h, uint64_t base, unsigned n)
{
	cr_assert_eq(ik_hist_init(h, IK_HIST_MAX_NS), 0);
	for (unsigned i = 0; i < n; i++)
		ik_hist_record(h, base + (i * 7u % 16) * (base / 32) +
					  (i % 97 == 0 ? 20 * base : 0));
}

static struct ik_result *add(struct fx *x, const char *method,
			     enum ik_mode mode, size_t size, uint64_t base)
{
	struct ik_result *r = &x->res[x->rep.nresults++];

	cr_assert(x->rep.nresults <= MAXR);
	memset(r, 0, sizeof(*r));
	r->ops = ik_transport_find(method);
	cr_assert_not_null(r->ops, "%s", method);
	r->kernel = ik_kernels[x->cfg.kernel];
	r->mode = mode;
	r->size = size;
	r->cls = -1;
	r->pair = (struct ik_pair){.pinned = true,
				   .cpu = {0, 2},
				   .rel = IK_REL_SHARED_L3,
				   .numa = {0, 0}};
	r->cpu_seen[0] = 0, r->cpu_seen[1] = 2;
	r->count = 1000;
	r->warmup = 100;
	r->wall_ns = base * 1000 + 12345;
	r->untimed_mean_ns = (double)base * 0.95;
	r->warmup_ns = base * 100;
	fill_hist(&r->hist, base, 200);
	r->cpu[0] = (struct ik_cpu_usage){base * 1100, base * 700, base * 400,
					  3, 1};
	r->cpu[1] = (struct ik_cpu_usage){base * 1050, base * 650, base * 400,
					  5, 2};
	snprintf(r->granted, sizeof(r->granted), "%s", "");
	return r;
}

static void fx_free(struct fx *x)
{
	for (unsigned i = 0; i < x->rep.nresults; i++)
		ik_result_free(&x->res[i]);
	ik_result_free(&x->floor);
}

static void fail(struct ik_result *r, const char *msg)
{
	r->err = -ETIMEDOUT;
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
}

/* k repeats of every metric, from ik_metrics_of scaled a little. */
static void repeats(struct ik_result *r, unsigned k)
{
	double one[IK_NMETRICS];

	ik_metrics_of(r, one);
	r->repeats = k;
	r->rep_v = malloc((size_t)k * IK_NMETRICS * sizeof(double));
	cr_assert_not_null(r->rep_v);
	for (unsigned i = 0; i < k; i++)
		for (int m = 0; m < IK_NMETRICS; m++)
			r->rep_v[i * IK_NMETRICS + (unsigned)m] =
				one[m] * (1 + 0.01 * ((i * 7) % 5));
}

/* ---- rendering and comparing ---- */

typedef int (*writer)(const struct ik_report *r, FILE *f);

/* Blank the value of "key": "..." on any line (clock, host, binary). */
static void mask(char *s, const char *key)
{
	char pat[64];
	char *p = s;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	while ((p = strstr(p, pat))) {
		char *v = p + strlen(pat), *e = strchr(v, '"');

		cr_assert_not_null(e);
		memmove(v + 1, e, strlen(e) + 1);
		*v = '*';
		p = v;
	}
}

static char *render(const struct fx *x, writer w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(w(&x->rep, f), 0);
	fclose(f);
	mask(buf, "created");
	mask(buf, "date");
	mask(buf, "executable");
	mask(buf,
	     "library_build_type"); /* the build's, e.g. Debug under ASan */
	return buf;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static void golden_text(const char *name, const char *got)
{
	char path[512];
	char *want;

	snprintf(path, sizeof(path), "%s/golden/%s", IK_TESTDATA, name);
	if (getenv("IK_GOLDEN_UPDATE")) {
		FILE *f = fopen(path, "w");

		cr_assert_not_null(f, "%s", path);
		fputs(got, f);
		cr_assert_eq(fclose(f), 0);
		return;
	}
	want = slurp(path);
	cr_assert_not_null(want, "%s missing (IK_GOLDEN_UPDATE=1 makes it)",
			   path);
	if (strcmp(want, got)) {
		const char *a = want, *b = got;
		unsigned line = 1;

		while (*a && *a == *b) {
			line += *a == '\n';
			a++, b++;
		}
		cr_expect_fail("%s differs from the golden file at line %u:\n"
			       "want: %.120s\ngot:  %.120s",
			       name, line, a, b);
	}
	free(want);
}

static void golden(const struct fx *x, const char *name, const char *ext,
		   writer w)
{
	char file[128];
	char *got = render(x, w);

	snprintf(file, sizeof(file), "%s.%s", name, ext);
	golden_text(file, got);
	free(got);
}

/* Every format of x against name.{txt,json,csv,gbench.json}. */
static void all_formats(const struct fx *x, const char *name)
{
	golden(x, name, "txt", ik_report_table);
	golden(x, name, "json", ik_report_json);
	golden(x, name, "csv", ik_report_csv);
	golden(x, name, "gbench.json", ik_report_gbench);
}

/* ---- the reports ---- */

Test(golden, pingpong_methods_floor_and_a_failed_cell)
{
	struct fx x;
	struct ik_result *r;

	fx_init(&x, IK_KERNEL_PINGPONG, "line,spsc,pipe,tcp");
	x.sweep.modes[0] = IK_MODE_THREAD;
	x.sweep.modes[1] = IK_MODE_PROCESS;
	x.sweep.nmodes = 2;
	x.rep.notes[x.rep.nnotes++] = "governor powersave, not performance";
	add(&x, "line", IK_MODE_THREAD, 64, 180);
	r = add(&x, "spsc", IK_MODE_THREAD, 64, 210);
	r->untimed_mean_ns = 150; /* timed mean well above: "!" */
	r = add(&x, "pipe", IK_MODE_THREAD, 64, 5200);
	snprintf(r->granted, sizeof(r->granted), "pipe 65536 B");
	r = add(&x, "tcp", IK_MODE_THREAD, 64, 9100);
	r->strangers = 2;
	r->stalls = 1;
	r->stall_ns = 200000000;
	snprintf(r->note, sizeof(r->note),
		 "TCP persist timer held the sender 200 ms");
	add(&x, "line", IK_MODE_PROCESS, 64, 190);
	r = add(&x, "spsc", IK_MODE_PROCESS, 64, 230);
	r->mem_node = 0;
	r = add(&x, "pipe", IK_MODE_PROCESS, 64, 6000);
	ik_hist_free(&r->hist);
	memset(&r->hist, 0, sizeof(r->hist));
	r->count = 0;
	fail(r, "peer B: read: timed out after 10 s, \"quoted\", and more");
	x.floor = x.res[0];
	memset(&x.floor.hist, 0, sizeof(x.floor.hist));
	fill_hist(&x.floor.hist, 120, 1000);
	x.floor.untimed_mean_ns = 110.5;
	x.rep.floor = &x.floor;
	all_formats(&x, "pingpong");
	fx_free(&x);
}

Test(golden, pingpong_sizes_buffers_gaps_and_pairs)
{
	struct fx x;
	struct ik_result *r;

	fx_init(&x, IK_KERNEL_PINGPONG, "line,uds");
	x.sweep.modes[0] = IK_MODE_THREAD;
	x.sweep.sizes[1] = 4096;
	x.sweep.nsizes = 2;
	x.sweep.buffers[0] = 0;
	x.sweep.buffers[1] = 65536;
	x.sweep.nbuffers = 2;
	x.sweep.gaps[0] = 0;
	x.sweep.gaps[1] = 50000;
	x.sweep.ngaps = 2;
	x.cfg.gap_sleep = true;
	x.sweep.pairs[0] = 1;
	x.sweep.pairs[1] = 2;
	x.sweep.npairs = 2;
	x.rep.mem_node = 0;
	add(&x, "line", IK_MODE_THREAD, 64, 180);
	r = add(&x, "uds", IK_MODE_THREAD, 64, 4100);
	r->buffer = 65536;
	r = add(&x, "line", IK_MODE_THREAD, 4096, 900);
	r->gap_ns = 50000;
	r = add(&x, "uds", IK_MODE_THREAD, 4096, 6100);
	r->gap_ns = 50000;
	r->buffer = 65536;
	for (int p = -1; p < 2; p++) {
		r = add(&x, "uds", IK_MODE_THREAD, 64, 4300 + 100 * (p + 1));
		r->npairs = 2;
		r->pair_index = p;
		if (p == 1)
			r->pair.cpu[0] = 1, r->pair.cpu[1] = 3;
	}
	all_formats(&x, "pingpong-sweep");
	fx_free(&x);
}

Test(golden, stream)
{
	struct fx x;
	struct ik_result *r;

	fx_init(&x, IK_KERNEL_STREAM, "spsc,pipe,mq");
	x.cfg.verify = true;
	x.cfg.rate = 100000;
	x.cfg.iters = 1000000;
	for (int i = 0; i < 3; i++) {
		static const char *const m[] = {"spsc", "pipe", "mq"};
		struct ik_stream_result *s;

		r = add(&x, m[i], IK_MODE_THREAD, 64, 300 + 900 * (unsigned)i);
		s = &r->stream;
		s->messages = 1000000;
		s->seconds = 0.5 + i;
		s->msgs_per_s = s->messages / s->seconds;
		s->bytes_per_s = s->msgs_per_s * 64;
		s->tsc_offset_ns = 12.5 - 3 * i;
		s->tsc_offset_err_ns = 8 + i;
		s->latency_valid = i != 1;
		s->latency_every = i == 0 ? 16 : 1;
		if (i == 1)
			snprintf(s->latency_why, sizeof(s->latency_why),
				 "not kept: the offset error is above p50");
		s->rate_asked = 100000;
		s->max_send_lag_ns = 4200.0 * (i + 1);
		s->late_sends = 3u * (unsigned)i;
		s->rate_missed = i == 2;
	}
	r = add(&x, "spsc", IK_MODE_PROCESS, 64, 300);
	fail(r, "peer B: --verify: message 17 has checksum 0x1 not 0x2");
	all_formats(&x, "stream");
	x.cfg.rate = 0;
	x.cfg.duration_ns = 2 * IK_NS_PER_SEC;
	golden(&x, "stream-duration", "txt", ik_report_table);
	fx_free(&x);
}

Test(golden, echo)
{
	struct fx x;
	struct ik_result *r;

	fx_init(&x, IK_KERNEL_ECHO, "tcp,uds");
	x.sweep.servers[0] = IK_SERVER_EPOLL;
	x.sweep.servers[1] = IK_SERVER_URING;
	x.sweep.nservers = 2;
	for (int i = 0; i < 4; i++) {
		r = add(&x, i < 2 ? "tcp" : "uds", IK_MODE_THREAD, 64,
			20000 + 1000 * (unsigned)i);
		r->server = i % 2 ? IK_SERVER_URING : IK_SERVER_EPOLL;
		r->clients = 4;
		r->buffer = i == 3 ? 4096 : 0;
		r->count = 40000;
	}
	x.res[1].strangers = 1;
	fail(&x.res[3], "server: io_uring_queue_init: Operation not permitted");
	all_formats(&x, "echo");
	x.cfg.duration_ns = IK_NS_PER_SEC;
	golden(&x, "echo-duration", "txt", ik_report_table);
	fx_free(&x);
}

Test(golden, call)
{
	struct fx x;
	struct ik_result *r;

	fx_init(&x, IK_KERNEL_CALL, "spsc,futex");
	x.sweep.works[0] = 0;
	x.sweep.works[1] = 1000;
	x.sweep.nworks = 2;
	for (int i = 0; i < 4; i++) {
		r = add(&x, i % 2 ? "futex" : "spsc", IK_MODE_THREAD, 64,
			400 + 1500 * (unsigned)(i % 2) + 1000 * (i / 2));
		r->work_ns = i / 2 ? 1000 : 0;
	}
	fail(&x.res[3], "worker: call 12 answered with id 11");
	all_formats(&x, "call");
	fx_free(&x);
}

Test(golden, connect)
{
	struct fx x;
	struct ik_result *r;

	fx_init(&x, IK_KERNEL_CONNECT, "tcp,uds");
	for (int i = 0; i < 3; i++) {
		r = add(&x, i ? "uds" : "tcp", IK_MODE_THREAD, 64,
			60000 + 5000 * (unsigned)i);
		r->clients = 4;
		r->count = 5000;
		r->connect.backlog = 128;
		r->connect.served = 4990;
		r->connect.failed = i ? 0 : 10;
		r->connect.first_err = -ECONNREFUSED;
		r->connect.time_wait = i ? -1 : 4990;
		r->connect.tw_reuse = i ? -1 : 2;
		fill_hist(&r->connect.connect_hist, 30000, 500);
	}
	x.res[1].strangers = 3;
	x.res[2].mode = IK_MODE_PROCESS;
	fail(&x.res[2], "client 3: connect: Connection refused");
	all_formats(&x, "connect");
	fx_free(&x);
}

static void classes_fx(struct fx *x)
{
	fx_init(x, IK_KERNEL_PINGPONG, "line,pipe");
	x->cfg.pinned = false;
	for (int k = 0; k < IK_NCLASSES; k++) {
		x->classes[k].present = k == IK_CLASS_SMT ||
					k == IK_CLASS_SHARED_L3 ||
					k == IK_CLASS_SAME_PU;
		x->classes[k].cpu[0] = 0;
		x->classes[k].cpu[1] = k == IK_CLASS_SMT ? 1 : k ? 2 : 0;
	}
	x->rep.classes = x->classes;
	x->rep.topology = "tests/data/two-socket.xml";
}

Test(golden, classes)
{
	struct fx x;
	struct ik_result *r;

	classes_fx(&x);
	for (int m = 0; m < 2; m++)
		for (int k = 0; k < 3; k++) {
			static const int cls[] = {IK_CLASS_SAME_PU,
						  IK_CLASS_SMT,
						  IK_CLASS_SHARED_L3};

			r = add(&x, m ? "pipe" : "line", IK_MODE_THREAD, 64,
				(m ? 3000u : 150u) + 40u * (unsigned)k);
			r->cls = cls[k];
			r->pair.cpu[1] = x.classes[cls[k]].cpu[1];
			r->pair.rel = (enum ik_relation)cls[k];
		}
	fail(&x.res[5], "peer A: write: Broken pipe");
	all_formats(&x, "classes");
	fx_free(&x);
}

Test(golden, classes_dry_run)
{
	struct fx x;

	classes_fx(&x);
	x.rep.dry_run = true;
	x.rep.format = IK_FMT_TABLE;
	golden(&x, "classes-dry-run", "txt", ik_report_write);
	x.rep.format = IK_FMT_JSON;
	golden(&x, "classes-dry-run", "json", ik_report_write);
	x.rep.format = IK_FMT_CSV;
	golden(&x, "classes-dry-run", "csv", ik_report_write);
	fx_free(&x);
}

Test(golden, matrix)
{
	struct fx x;
	struct ik_result *r;
	static const int cpus[] = {0, 1, 2};

	fx_init(&x, IK_KERNEL_PINGPONG, "spsc");
	x.rep.matrix = true;
	x.rep.ncpus = 3;
	x.rep.cpus = cpus;
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++) {
			if (a == b)
				continue;
			r = add(&x, "spsc", IK_MODE_THREAD, 64,
				200u + 30u * (unsigned)a + 70u * (unsigned)b);
			r->pair.cpu[0] = a, r->pair.cpu[1] = b;
			r->cpu_seen[0] = a, r->cpu_seen[1] = b;
			r->startup_ms = 1.5 + a + 0.25 * b;
		}
	fail(&x.res[5], "peer B: pinning to CPU 1: Invalid argument");
	all_formats(&x, "matrix");
	fx_free(&x);
}

Test(golden, repeats)
{
	struct fx x;
	struct ik_result *r;

	fx_init(&x, IK_KERNEL_PINGPONG, "line,spsc,pipe");
	repeats(add(&x, "line", IK_MODE_THREAD, 64, 180), 5);
	repeats(add(&x, "spsc", IK_MODE_THREAD, 64, 210), 5);
	r = add(&x, "pipe", IK_MODE_THREAD, 64, 5000);
	r->gap_ns = 0;
	repeats(r, 5);
	all_formats(&x, "repeats");
	fx_free(&x);
}

/* A signal ended the run after 2 of 3 cells: every format says so (CSV
 * on each row, gbench in its context), and the rows stay groupable. */
Test(golden, partial)
{
	struct fx x;

	fx_init(&x, IK_KERNEL_PINGPONG, "line,spsc,pipe");
	add(&x, "line", IK_MODE_THREAD, 64, 180);
	add(&x, "spsc", IK_MODE_THREAD, 64, 210);
	x.rep.partial = "interrupted by SIGINT after 2 of 3 cells";
	all_formats(&x, "partial");
	fx_free(&x);
}

/* --slo: each cell's search, its curve, the answer; a failed search */
Test(golden, stream_slo)
{
	static const double rates[] = {0,      400000, 4000,  40000,
				       126491, 71131,  94868, 82146,
				       88277,  82146,  88277};
	static const enum ik_slo_role roles[] = {
		IK_SLO_FLAT,   IK_SLO_HIGH,    IK_SLO_LOW,    IK_SLO_BISECT,
		IK_SLO_BISECT, IK_SLO_BISECT,  IK_SLO_BISECT, IK_SLO_BISECT,
		IK_SLO_BISECT, IK_SLO_RECHECK, IK_SLO_RECHECK};
	struct ik_slo_result *sr;
	struct ik_result *r;
	struct fx x;
	char err[400];
	unsigned k;

	fx_init(&x, IK_KERNEL_STREAM, "pipe,uds");
	x.cfg.iters = 1000000;
	x.cfg.duration_ns = IK_NS_PER_SEC / 2;
	x.cfg.slo.precision = 0.1;
	cr_assert_eq(ik_slo_parse("p99<=10us,max<=1ms", &x.cfg.slo, err,
				  sizeof(err)),
		     0, "%s", err);
	r = add(&x, "pipe", IK_MODE_THREAD, 16, 3000);
	r->stream.messages = 41000;
	r->stream.seconds = 0.5;
	r->stream.msgs_per_s = 82000;
	r->stream.bytes_per_s = 82000 * 16;
	r->stream.latency_valid = true;
	r->stream.latency_every = 1;
	r->stream.rate_asked = 82146;
	r->stream.max_send_lag_ns = 3100;
	r->slo = sr = calloc(1, sizeof(*sr));
	cr_assert_not_null(sr);
	strcpy(sr->text, x.cfg.slo.text);
	memcpy(sr->conds, x.cfg.slo.c, sizeof(sr->conds));
	sr->nconds = x.cfg.slo.n;
	sr->precision = 0.1;
	sr->nsteps = IK_ARRAY_SIZE(rates);
	for (k = 0; k < sr->nsteps; k++) {
		struct ik_slo_step *st = &sr->step[k];
		double rt = rates[k] ? rates[k] : 400000;

		st->role = roles[k];
		st->rate_asked = rates[k];
		st->rate_got = rt > 300000 ? 300000 : rt;
		st->latency = k > 0; /* flat out's dropped */
		st->p50_ns = (uint64_t)(rt / 40);
		st->p99_ns = (uint64_t)(rt / 8.5);
		st->p999_ns = (uint64_t)(rt / 4);
		st->max_ns = st->p999_ns * 2;
		st->kept = rt <= 300000;
		st->met = st->p99_ns <= 10000;
		st->held = k > 0 && st->kept && st->met;
		st->late_sends = st->kept ? 0 : 5000;
		st->samples = k > 0 ? (uint64_t)(rt / 2) : 0;
		st->samples_wanted = 2000;
		if (!st->met && k > 0)
			snprintf(st->note, sizeof(st->note),
				 "p99 %.1f us > 10.0 us",
				 (double)st->p99_ns / 1e3);
	}
	sr->flat_rate = 300000;
	sr->held_rate = 82146;
	sr->failed_rate = 88277;
	sr->converged = true;
	sr->recheck_agrees = true;
	snprintf(sr->answer, sizeof(sr->answer),
		 "p99<=10us,max<=1ms holds at 82146 msgs/s, not at 88277 "
		 "msgs/s (x1.075, within 10%% precision); re-run: both ends "
		 "agree");
	r = add(&x, "uds", IK_MODE_THREAD, 16, 3000);
	fail(r, "--slo step 2 (250000 msgs/s): timed out");
	r->slo = sr = calloc(1, sizeof(*sr));
	cr_assert_not_null(sr);
	strcpy(sr->text, x.cfg.slo.text);
	sr->precision = 0.1;
	sr->nsteps = 2;
	sr->step[0].rate_got = 250000;
	sr->step[0].role = IK_SLO_FLAT;
	sr->step[0].samples_wanted = 2000;
	sr->step[1].role = IK_SLO_HIGH;
	sr->step[1].rate_asked = 250000;
	sr->step[1].err = -ETIMEDOUT;
	snprintf(sr->step[1].note, sizeof(sr->step[1].note), "timed out");
	sr->err = -ETIMEDOUT;
	snprintf(sr->answer, sizeof(sr->answer),
		 "search ended after 2 runs: %s", strerror(ETIMEDOUT));
	sr->flat_rate = 250000;
	all_formats(&x, "stream-slo");
	fx_free(&x);
}

Test(golden, stream_and_echo_repeats_in_gbench)
{
	struct fx x;
	struct ik_result *r;

	fx_init(&x, IK_KERNEL_STREAM, "spsc");
	r = add(&x, "spsc", IK_MODE_THREAD, 64, 300);
	r->stream.messages = 1000000;
	r->stream.seconds = 0.5;
	r->stream.msgs_per_s = 2e6;
	r->stream.bytes_per_s = 128e6;
	r->stream.latency_valid = true;
	r->stream.latency_every = 1;
	repeats(r, 3);
	all_formats(&x, "stream-repeats");
	fx_free(&x);
}

Test(golden, machine)
{
	struct fx x;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	fx_init(&x, IK_KERNEL_PINGPONG, NULL);
	for (int fmt = 0; fmt < 2; fmt++) {
		x.rep.format = fmt ? IK_FMT_JSON : IK_FMT_TABLE;
		f = open_memstream(&buf, &len);
		cr_assert_not_null(f);
		cr_assert_eq(ik_report_machine(&x.rep,
					       "1 package, 2 cores, 4 PUs", f),
			     0);
		fclose(f);
		golden_text(fmt ? "machine.json" : "machine.txt", buf);
		free(buf);
		buf = NULL;
	}
	fx_free(&x);
}

/* A stalled stream's ns/msg (1.3 s a message) keeps its column: written
 * with a unit, not as 1313341505.1 pushing the row apart. */
Test(labels, a_stalled_streams_ns_per_message_keeps_its_column)
{
	struct fx x;
	struct ik_result *r;
	char *got, *head, *row;

	fx_init(&x, IK_KERNEL_STREAM, "tcp");
	r = add(&x, "tcp", IK_MODE_THREAD, 4096, 300);
	r->stream.messages = 3;
	r->stream.seconds = 3.94;
	r->stream.msgs_per_s = 1e9 / 1313341505.1;
	r->stream.bytes_per_s = r->stream.msgs_per_s * 4096;
	got = render(&x, ik_report_table);
	head = strstr(got, "ns/msg");
	row = strstr(got, "\ntcp ");
	cr_assert(head && row, "%s", got);
	cr_expect(strstr(row, "1313.3m ") != NULL, "%s", row);
	cr_expect(strstr(row, "1313341505") == NULL, "%s", row);
	free(got);
	fx_free(&x);
}
