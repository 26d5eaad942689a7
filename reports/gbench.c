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
 *   family_index the cell, per_family_instance_index the metric
 *   --repeat K > 1: as gbench writes --benchmark_repetitions=K (checked
 *             against libbenchmark 1.7.1's own output): K entries
 *             "run_type": "iteration" with "repetition_index" 0..K-1,
 *             then the aggregates NAME_mean, _median, _stddev, _cv
 *             ("run_type": "aggregate", "iterations": K, cv a fraction
 *             with "aggregate_unit": "percentage"). compare.py's U test
 *             reads the iteration entries: two exports of K >= 2 (9 is
 *             what it calls reliable) give it one p-value per entry.
 *
 * The context is the machine's: mhz_per_cpu from cpufreq's maximum, or
 * the measured TSC rate where cpufreq says nothing (a VM), named in
 * "mhz_per_cpu_source"; caches from hwloc, those of the first PU as
 * gbench reads cpu0's; library_build_type the CMake build type this
 * binary was compiled as.
 */
#include <ctype.h>
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

#ifndef IK_BUILD_TYPE /* CMakeLists.txt sets it for this file */
#define IK_BUILD_TYPE ""
#endif

/* gbench's cache types, as it names them. */
static const char *cache_type(hwloc_obj_cache_type_t t)
{
	switch (t) {
	case HWLOC_OBJ_CACHE_DATA:
		return "Data";
	case HWLOC_OBJ_CACHE_INSTRUCTION:
		return "Instruction";
	default:
		return "Unified";
	}
}

static int cache_cmp(const void *a, const void *b)
{
	hwloc_obj_t x = *(hwloc_obj_t const *)a, y = *(hwloc_obj_t const *)b;

	if (x->attr->cache.depth != y->attr->cache.depth)
		return x->attr->cache.depth < y->attr->cache.depth ? -1 : 1;
	return (int)x->attr->cache.type - (int)y->attr->cache.type;
}

/*
 * The caches above the first PU, innermost first, data before
 * instruction (gbench's order from cpu0's sysfs index0..N). num_sharing
 * is how many PUs share each. Empty without a topology.
 */
static json_t *caches_json(const struct ik_topo *tp)
{
	json_t *list = json_array();
	hwloc_obj_t pu, o, c[16];
	unsigned n = 0, i;

	pu = tp && tp->t ? hwloc_get_obj_by_type(tp->t, HWLOC_OBJ_PU, 0) : NULL;
	for (o = pu ? pu->parent : NULL; o && n < IK_ARRAY_SIZE(c);
	     o = o->parent)
		if (hwloc_obj_type_is_cache(o->type) && o->attr)
			c[n++] = o;
	qsort(c, n, sizeof(*c), cache_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(
			list,
			json_pack("{s:s,s:i,s:I,s:i}", "type",
				  cache_type(c[i]->attr->cache.type), "level",
				  (int)c[i]->attr->cache.depth, "size",
				  (json_int_t)c[i]->attr->cache.size,
				  "num_sharing",
				  hwloc_bitmap_weight(c[i]->cpuset)));
	return list;
}

/* "RelWithDebInfo" -> "relwithdebinfo"; "none" when CMake had none. */
static const char *build_type(char *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && IK_BUILD_TYPE[i]; i++)
		b[i] = (char)tolower((unsigned char)IK_BUILD_TYPE[i]);
	b[i] = 0;
	return i ? b : "none";
}

static json_t *context_json(const struct ik_report *r)
{
	const struct ik_machine *m = r->machine;
	char when[40], exe[256], bt[32];
	time_t now = time(NULL);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	double mhz = 0;
	const char *src = "unknown";
	/* as gbench: a governor other than performance; none (a VM) is not
	 * scaling, so "unknown" is false */
	bool scaling = strcmp(m->governor, "unknown") &&
		       strcmp(m->governor, "performance");
	json_t *o, *load = json_array();

	exe[n > 0 ? n : 0] = 0;
	if (m->max_khz > 0)
		mhz = m->max_khz / 1e3, src = "cpufreq cpuinfo_max_freq";
	else if (r->timer && r->timer->tsc_mhz > 0)
		mhz = r->timer->tsc_mhz, src = "TSC, measured";
	if (m->load1 >= 0) /* the 1-minute one; unknown: none, never 0 */
		json_array_append_new(load, json_real(m->load1));
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S+00:00", gmtime(&now));
	/* gbench writes whole MHz; unknown is null, never 0 */
	o = json_pack("{s:s,s:s,s:s,s:i,s:o,s:s,s:b,s:o,s:o,s:s,s:s,s:s}",
		      "date", when, "host_name", m->hostname, "executable", exe,
		      "num_cpus", m->online_cpus, "mhz_per_cpu",
		      mhz > 0 ? json_integer((json_int_t)lround(mhz))
			      : json_null(),
		      "mhz_per_cpu_source", src, "cpu_scaling_enabled", scaling,
		      "caches", caches_json(r->topo), "load_avg", load,
		      "library_build_type", build_type(bt, sizeof(bt)),
		      "ipckern_version", IK_VERSION, "cpu_model", m->model);
	return o;
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

/*
 * One entry, its fields in gbench's order: rep is the repetition_index
 * of a run, or an aggregate's index into agg_names (-1 - a).
 */
static const char *const agg_names[] = {"mean", "median", "stddev", "cv"};

static json_t *entry(const char *name, const char *run_name, unsigned fam,
		     unsigned inst, unsigned reps, int rep, uint64_t iters,
		     double real, double cpu)
{
	json_t *o = json_pack("{s:s,s:i,s:i,s:s,s:s,s:i}", "name", name,
			      "family_index", fam, "per_family_instance_index",
			      inst, "run_name", run_name, "run_type",
			      rep >= 0 ? "iteration" : "aggregate",
			      "repetitions", reps);

	if (rep >= 0)
		json_object_set_new(o, "repetition_index", json_integer(rep));
	json_object_set_new(o, "threads", json_integer(2));
	if (rep < 0) {
		json_object_set_new(o, "aggregate_name",
				    json_string(agg_names[-1 - rep]));
		json_object_set_new(
			o, "aggregate_unit",
			json_string(rep == -4 ? "percentage" : "time"));
	}
	json_object_set_new(o, "iterations", json_integer((json_int_t)iters));
	json_object_set_new(o, "real_time", json_real(real));
	json_object_set_new(o, "cpu_time", json_real(isfinite(cpu) ? cpu : 0));
	json_object_set_new(o, "time_unit", json_string("ns"));
	return o;
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

/* The rates a mean entry carries, when the cell has them. */
static void rates(json_t *o, unsigned e, const double *v)
{
	if (e != 0 || !isfinite(v[IK_M_MSGS]))
		return;
	json_object_set_new(o, "items_per_second", json_real(v[IK_M_MSGS]));
	json_object_set_new(o, "bytes_per_second", json_real(v[IK_M_BYTES]));
}

#define MAX_REPS 1024u /* repetitions written per entry, at most */

/*
 * --repeat K: entry e of one cell as gbench writes K repetitions, each
 * repetition that has a value as its own "iteration" run, then NAME_mean,
 * _median, _stddev and _cv over them. The cell's round trips are pooled
 * over its repeats, so each repetition is given an even share.
 */
static void repetitions(json_t *list, const char *name, unsigned fam,
			unsigned inst, const struct ik_result *res, unsigned e,
			bool stream)
{
	double real[MAX_REPS], cpu[MAX_REPS], v[IK_NMETRICS];
	double rs[4], cs[4];
	unsigned k = res->repeats < MAX_REPS ? res->repeats : MAX_REPS;
	unsigned r, a, n = 0, idx = 0;
	uint64_t each = res->count / res->repeats;
	int m;

	for (r = 0; r < k; r++) {
		for (m = 0; m < IK_NMETRICS; m++)
			v[m] = ik_rep_value(res, r, m);
		real[n] = entry_value(v, e, stream);
		cpu[n] = v[IK_M_CPU];
		n += isfinite(real[n]) != 0;
	}
	for (r = 0; r < k; r++) {
		json_t *o;

		for (m = 0; m < IK_NMETRICS; m++)
			v[m] = ik_rep_value(res, r, m);
		if (!isfinite(entry_value(v, e, stream)))
			continue;
		o = entry(name, name, fam, inst, n, (int)idx++, each,
			  entry_value(v, e, stream), v[IK_M_CPU]);
		rates(o, e, v);
		stall_counters(o, res);
		json_array_append_new(list, o);
	}
	mean_sd(real, n, &rs[0], &rs[2]);
	mean_sd(cpu, n, &cs[0], &cs[2]);
	rs[1] = ik_median(real, n);
	cs[1] = ik_median(cpu, n);
	rs[3] = rs[0] > 0 ? rs[2] / rs[0] : 0;
	cs[3] = cs[0] > 0 ? cs[2] / cs[0] : 0;
	for (a = 0; a < 4; a++) {
		char full[200];
		json_t *o;

		snprintf(full, sizeof(full), "%s_%s", name, agg_names[a]);
		o = entry(full, name, fam, inst, n, -1 - (int)a, n, rs[a],
			  cs[a]);
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
	if (r->partial) { /* as in JSON: what a signal left out, and why */
		json_t *c = json_object_get(root, "context");

		json_object_set_new(c, "partial", json_true());
		json_object_set_new(c, "partial_reason",
				    json_string(r->partial));
	}
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
		unsigned inst = 0;
		char base[160];

		if (res->err)
			continue;
		ik_cell_key_of(res, &key);
		ik_cell_key_name(&key, IK_CELL_NAME_GBENCH, base, sizeof(base));
		/* a matrix's cells differ only in their CPUs: one name each */
		if (r->matrix && key.cpu[0] >= 0 && strlen(base) < sizeof(base))
			snprintf(base + strlen(base),
				 sizeof(base) - strlen(base), "/cpus:%d,%d",
				 key.cpu[0], key.cpu[1]);
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
				repetitions(list, name, fam, inst++, res, e,
					    stream);
				continue;
			}
			o = entry(name, name, fam, inst++, 1, 0, res->count,
				  real, v[IK_M_CPU]);
			rates(o, e, v);
			stall_counters(o, res);
			json_array_append_new(list, o);
		}
		fam++;
	}
	json_object_set_new(root, "benchmarks", list);
	ret = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	fputc('\n', f);
	return ret || ferror(f) ? -EIO : 0;
}
