/* SPDX-License-Identifier: MIT */
/*
 * --format gbench: Google Benchmark's JSON output shape, so trackers
 * that read it (benchmark-action's "googlecpp", Bencher, compare.py)
 * chart ipckern without glue. The mapping, also in the README:
 *
 *   one benchmark per result cell and metric, named
 *     KERNEL/METHOD/MODE/size:N[/...]/METRIC (ik_cell_key_name, cell.c)
 *   METRIC    mean (round trip, or ns per message for a stream), p50,
 *             p99: real_time is that latency in ns ("time_unit": "ns")
 *   cpu_time  CPU ns per message, both peers together
 *   iterations round trips (messages for a stream) measured
 *   threads   2: the two peers
 *   items_per_second / bytes_per_second on the mean entry
 *   --repeat K > 1: only the aggregates, as gbench writes them with
 *             --benchmark_report_aggregates_only: NAME_median, _mean,
 *             _stddev, _cv ("run_type": "aggregate").
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../kernels/kernels.h"
#include "cell.h"
#include "gate.h"
#include "reports.h"

static json_t *context_json(const struct ik_report *r)
{
	const struct ik_machine *m = r->machine;
	char when[40], exe[256];
	time_t now = time(NULL);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S+00:00", gmtime(&now));
	return json_pack(
		"{s:s,s:s,s:s,s:i,s:f,s:b,s:[],s:[f],s:s,s:s,s:s}", "date",
		when, "host_name", m->hostname, "executable", exe, "num_cpus",
		m->online_cpus, "mhz_per_cpu",
		m->max_khz > 0 ? m->max_khz / 1e3 : 0.0, "cpu_scaling_enabled",
		strcmp(m->governor, "performance") != 0, "caches", "load_avg",
		m->load1 > 0 ? m->load1 : 0.0, "library_build_type", "release",
		"ipckern_version", IK_VERSION, "cpu_model", m->model);
}

/* The metric each entry carries; "mean" for a stream is ns per message. */
static const struct {
	const char *suffix;
	int metric;
} entries[] = {{"mean", IK_M_MEAN}, {"p50", IK_M_P50}, {"p99", IK_M_P99}};

static double entry_value(const double *v, unsigned e, bool stream)
{
	if (e == 0 && stream)
		return v[IK_M_MSGS] > 0 ? 1e9 / v[IK_M_MSGS] : NAN;
	return v[entries[e].metric];
}

static json_t *entry(const char *name, const char *run_name, unsigned fam,
		     unsigned inst, uint64_t iters, double real, double cpu)
{
	return json_pack("{s:s,s:i,s:i,s:s,s:s,s:i,s:i,s:i,s:I,s:f,s:f,s:s}",
			 "name", name, "family_index", fam,
			 "per_family_instance_index", inst, "run_name",
			 run_name, "run_type", "iteration", "repetitions", 1,
			 "repetition_index", 0, "threads", 2, "iterations",
			 (json_int_t)iters, "real_time", real, "cpu_time",
			 isfinite(cpu) ? cpu : 0.0, "time_unit", "ns");
}

/* Mean, stddev of the finite values of x[0..n-1]. */
static void mean_sd(const double *x, unsigned n, double *mean, double *sd)
{
	double s = 0, q = 0;
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		if (isfinite(x[i]))
			s += x[i], k++;
	*mean = k ? s / k : NAN;
	for (i = 0; i < n; i++)
		if (isfinite(x[i]))
			q += (x[i] - *mean) * (x[i] - *mean);
	*sd = k > 1 ? sqrt(q / (k - 1)) : 0;
}

/* Stalls the transport's own kernel put on the cell, if any. */
static void stall_counters(json_t *o, const struct ik_result *res)
{
	if (!res->stalls)
		return;
	json_object_set_new(o, "stalls", json_integer(res->stalls));
	json_object_set_new(o, "stall_ns",
			    json_integer((json_int_t)res->stall_ns));
}

/* NAME_median/_mean/_stddev/_cv over the repeats of one entry. */
static void aggregates(json_t *list, const char *name, unsigned fam,
		       unsigned inst, const struct ik_result *res, unsigned e,
		       bool stream)
{
	static const char *const agg[] = {"median", "mean", "stddev", "cv"};
	double real[1024], cpu[1024], v[IK_NMETRICS];
	double rs[4], cs[4];
	unsigned k = res->repeats < 1024 ? res->repeats : 1024, r, a;
	int m;

	for (r = 0; r < k; r++) {
		for (m = 0; m < IK_NMETRICS; m++)
			v[m] = ik_rep_value(res, r, m);
		real[r] = entry_value(v, e, stream);
		cpu[r] = v[IK_M_CPU];
	}
	rs[0] = ik_median(real, k);
	cs[0] = ik_median(cpu, k);
	mean_sd(real, k, &rs[1], &rs[2]);
	mean_sd(cpu, k, &cs[1], &cs[2]);
	rs[3] = rs[1] > 0 ? rs[2] / rs[1] : 0;
	cs[3] = cs[1] > 0 ? cs[2] / cs[1] : 0;
	for (a = 0; a < 4; a++) {
		char full[200];
		json_t *o;

		if (!isfinite(rs[a]))
			continue;
		snprintf(full, sizeof(full), "%s_%s", name, agg[a]);
		o = entry(full, name, fam, inst, res->count, rs[a], cs[a]);
		json_object_set_new(o, "run_type", json_string("aggregate"));
		json_object_set_new(o, "repetitions", json_integer(k));
		json_object_set_new(o, "threads", json_integer(2));
		json_object_set_new(o, "aggregate_name", json_string(agg[a]));
		json_object_set_new(
			o, "aggregate_unit",
			json_string(a == 3 ? "percentage" : "time"));
		stall_counters(o, res);
		json_array_append_new(list, o);
	}
}

int ik_report_gbench(const struct ik_report *r, FILE *f)
{
	json_t *root = json_object(), *list = json_array();
	unsigned i, e, fam = 0;
	int ret;

	json_object_set_new(root, "context", context_json(r));
	if (r->floor && !r->floor->err) { /* what the harness itself costs */
		json_t *c = json_object_get(root, "context");
		const struct ik_result *fl = r->floor;

		json_object_set_new(
			c, "ipckern_floor",
			json_pack("{s:[i,i],s:f,s:f}", "cpus", fl->pair.cpu[0],
				  fl->pair.cpu[1], "p50_ns",
				  ik_result_metric(fl, IK_M_P50),
				  "untimed_mean_ns", fl->untimed_mean_ns));
	}
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		bool stream = ik_result_ops(res)->one_way;
		double v[IK_NMETRICS];
		struct ik_cell_key key;
		char base[160];

		if (res->err)
			continue;
		ik_cell_key_of(res, &key);
		ik_cell_key_name(&key, IK_CELL_NAME_GBENCH, base, sizeof(base));
		for (int m = 0; m < IK_NMETRICS; m++)
			v[m] = ik_result_metric(res, m);
		for (e = 0; e < IK_ARRAY_SIZE(entries); e++) {
			char name[200];
			double real = entry_value(v, e, stream);
			json_t *o;

			if (!isfinite(real))
				continue;
			snprintf(name, sizeof(name), "%s/%s", base,
				 entries[e].suffix);
			if (res->rep_v && res->repeats > 1) {
				aggregates(list, name, fam, 0, res, e, stream);
				fam++;
				continue;
			}
			o = entry(name, name, fam++, 0, res->count, real,
				  v[IK_M_CPU]);
			if (e == 0 && isfinite(v[IK_M_MSGS])) {
				json_object_set_new(o, "items_per_second",
						    json_real(v[IK_M_MSGS]));
				json_object_set_new(o, "bytes_per_second",
						    json_real(v[IK_M_BYTES]));
			}
			stall_counters(o, res);
			json_array_append_new(list, o);
		}
	}
	json_object_set_new(root, "benchmarks", list);
	ret = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	fputc('\n', f);
	return ret || ferror(f) ? -EIO : 0;
}
