/* SPDX-License-Identifier: MIT */
/*
 * --format csv: one row per result, every kernel the same columns
 * (RFC 4180: the error message is quoted, its quotes doubled).
 */
#include "writers.h"

int ik_report_csv(const struct ik_report *r, FILE *f)
{
	struct ik_stats fl = {0};
	unsigned i;

	fprintf(f,
		"method,mode,size,buffer,wait,cpu_a,cpu_b,relation,cross_numa,"
		"count,min_ns,mean_ns,stddev_ns,p50_ns,p90_ns,p99_ns,"
		"p99_9_ns,p99_99_ns,max_ns,round_trips_per_s,"
		"whole_run_mean_ns,untimed_mean_ns,vs_line,cpu_a_ns,"
		"cpu_b_ns,msgs_per_s,bytes_per_s,gap_ns,floor_p50_ns,"
		"floor_untimed_mean_ns,stalls,stall_ns,server,clients,status,"
		"error\n");
	/* the harness floor (one per run, on its pair) on every row that
	 * shares that pair, empty where none was measured */
	if (r->floor && !r->floor->err)
		ik_stats_of(r, r->floor, &fl);
	for (i = 0; i < r->nresults; i++) {
		const struct ik_result *res = &r->results[i];
		struct ik_stats st = {0};
		bool has_floor = r->floor && !r->floor->err &&
				 res->pair.cpu[0] == r->floor->pair.cpu[0] &&
				 res->pair.cpu[1] == r->floor->pair.cpu[1];

		if (!res->err)
			ik_stats_of(r, res, &st);
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
		fprintf(f, "%u,%llu,", res->stalls,
			(unsigned long long)res->stall_ns);
		/* the server model and the clients, where the kernel's
		 * cells differ by them (echo, connect); empty elsewhere */
		if (res->kernel && (res->kernel->keys & IK_KEY_SERVER))
			fputs(ik_server_names[res->server], f);
		if (res->kernel && (res->kernel->keys & IK_KEY_CLIENTS))
			fprintf(f, ",%u,", res->clients);
		else
			fputs(",,", f);
		fprintf(f, "%s,\"", res->err ? "error" : "ok");
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
