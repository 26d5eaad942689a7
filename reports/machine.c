/* SPDX-License-Identifier: MIT */
/*
 * --machine: what this machine is, everything "unknown" it hides, as
 * text or JSON, and where its topology came from (HWLOC_XMLFILE,
 * HWLOC_SYNTHETIC, --topology describe another machine); and the machine and
 * timer objects every JSON report carries.
 */
#include "writers.h"

const char *ik_machine_qos_name(const struct ik_machine *m)
{
	static _Thread_local char b[32];

	if (m->latency_qos_us < 0)
		return "unknown";
	if (m->latency_qos_us >= IK_NO_LATENCY_QOS)
		return "none";
	snprintf(b, sizeof(b), "%ld us", m->latency_qos_us);
	return b;
}

json_t *ik_machine_json(const struct ik_machine *m)
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
	json_object_set_new(
		o, "freq_khz",
		json_pack(
			"{s:o,s:o,s:o}", "cur",
			m->cur_khz < 0 ? json_null() : json_integer(m->cur_khz),
			"min",
			m->min_khz < 0 ? json_null() : json_integer(m->min_khz),
			"max",
			m->max_khz < 0 ? json_null()
				       : json_integer(m->max_khz)));
	json_object_set_new(o, "boost", json_string(m->boost));
	json_object_set_new(o, "load_average_1m",
			    m->load1 < 0 ? json_null() : json_real(m->load1));
	json_object_set_new(o, "numa_distances",
			    json_string(m->numa_distances));
	json_object_set_new(o, "kernel_cmdline", json_string(m->cmdline));
	json_object_set_new(o, "vulnerabilities", json_string(m->vulns));
	json_object_set_new(o, "cpuidle", json_string(m->idle));
	json_object_set_new(o, "halt_poll_ns",
			    m->halt_poll_ns < 0
				    ? json_null()
				    : json_integer(m->halt_poll_ns));
	json_object_set_new(o, "idle_state",
			    m->idle_exit_us < 0 ? json_null()
						: json_string(m->idle_state));
	json_object_set_new(o, "idle_exit_us",
			    m->idle_exit_us < 0
				    ? json_null()
				    : json_integer(m->idle_exit_us));
	json_object_set_new(o, "cpu_latency_qos",
			    json_string(ik_machine_qos_name(m)));
	return o;
}

json_t *ik_timer_json(const struct ik_timer *t)
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
	const char *src = r->topology; /* NULL: this machine's */
	char a[3][32], poll[48] = "", halt[80] = "none";

	if (m->idle_exit_us >= 0)
		snprintf(halt, sizeof(halt), "%s, %ld us to leave",
			 m->idle_state, m->idle_exit_us);
	if (m->halt_poll_ns >= 0)
		snprintf(poll, sizeof(poll), ", guest_halt_poll_ns %ld",
			 m->halt_poll_ns);
	if (r->format == IK_FMT_JSON) {
		json_t *root = json_pack("{s:s}", "schema", IK_SCHEMA);
		int ret;

		json_object_set_new(root, "machine", ik_machine_json(m));
		json_object_set_new(root, "timer", ik_timer_json(t));
		json_object_set_new(root, "topology",
				    json_string(topo_summary));
		json_object_set_new(root, "topology_source",
				    json_string(src ? src : "this machine"));
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
		"topology src: %s%s\n"
		"online:       %s (%d)\n"
		"smt control:  %s\n"
		"numa:         %s\n"
		"isolated:     %s; nohz_full: %s\n"
		"governor:     %s; freq cur %s, min %s, max %s; boost %s\n"
		"cpuidle:      %s%s; shallowest halt: %s; CPU latency QoS: "
		"%s\n"
		"timer:        %s%s; TSC invariant: %s; %.1f MHz measured; "
		"%.1f ns per read; clocksource %s\n"
		"kernel:       %s\n"
		"cmdline:      %s\n"
		"hypervisor:   %s\n"
		"load (1 min): %.2f\n"
		"mitigations:  %s\n",
		m->model, m->vendor, m->family, m->cpu_model, m->stepping,
		topo_summary, src ? src : "this machine",
		src ? " (not this machine: only the topology line is "
		      "from it)"
		    : "",
		m->online, m->online_cpus, m->smt, m->numa_distances,
		m->isolated, m->nohz_full, m->governor, a[0], a[1], a[2],
		m->boost, m->idle, poll, halt, ik_machine_qos_name(m),
		ik_clock_name(t->kind), "", t->tsc_invariant ? "yes" : "no",
		t->tsc_mhz, t->read_cost_ns, m->clocksource, m->kernel,
		m->cmdline, m->hypervisor ? "yes" : "no", m->load1, m->vulns);
	return ferror(f) ? -EIO : 0;
}
