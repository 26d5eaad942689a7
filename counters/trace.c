/* SPDX-License-Identifier: MIT */
/*
 * The blocked peer's wake-up latency, from the scheduler's tracepoints:
 * sched_waking of one of the peers' tids, then sched_switch onto that
 * tid (on the CPU the wakee runs on). A private tracefs instance,
 * instances/ipckern-<pid namespace>-<pid>-<start time>-<random>, made
 * exclusively by mkdir, records just those two events of just our tids
 * (event filters) on the mono clock, and only while the counted pass
 * runs. It is read after the loop (the "trace" file, whose text has
 * microsecond timestamps) and removed on every way out; one a killed
 * run left behind is removed by the next run, only if its owner (pid
 * and start time, in our pid namespace) is gone.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "counters.h"

#define TRACEFS_MAGIC 0x74726163
/* The buffers' kernel memory, all CPUs together, and its bounds per
 * CPU: 16 MiB a CPU holds about 150 000 switches and wakings (50 000
 * round trips of a blocking pair); older ones are overwritten, and
 * counted as lost */
#define TRACE_BUF_TOTAL_KB (32 * 1024)
#define TRACE_BUF_MIN_KB   1024
#define TRACE_BUF_MAX_KB   (16 * 1024)

static const char *const tracefs_roots[] = {"/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing"};

/* The mounted tracefs, or NULL. */
static const char *tracefs(void)
{
	struct statfs s;
	unsigned i;

	for (i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]); i++)
		if (!statfs(tracefs_roots[i], &s) &&
		    (unsigned long)s.f_type == TRACEFS_MAGIC)
			return tracefs_roots[i];
	return NULL;
}

/* Write s to dir/file; 0 or -errno. */
static int put(const char *dir, const char *file, const char *s, bool append)
{
	char path[PATH_MAX + 64];
	size_t len = strlen(s);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -errno;
	do
		n = write(fd, s, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

/* Our pid namespace's inode and pid's start time (clock ticks since
 * boot, /proc/pid/stat field 22); 0 or -errno. */
static int pidns(unsigned long long *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st))
		return -errno;
	*ino = (unsigned long long)st.st_ino;
	return 0;
}

static int start_time(long pid, unsigned long long *t)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* the command may hold spaces and parentheses: after the last ')' */
	if (!(p = strrchr(buf, ')')))
		return -EIO;
	for (f = 2; f < 22 && p; f++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EIO;
	*t = strtoull(p + 1, NULL, 10);
	return 0;
}

/*
 * 1 if some process we can look into is in the pid namespace of inode
 * ino (or /proc cannot be read), 0 if none is: the namespace is gone. Only
 * meaningful from the initial pid namespace, whose /proc shows every process (a
 * run killed inside unshare -p leaves its instance named after its own
 * namespace).
 */
int ik_pidns_alive(unsigned long long ino)
{
	struct dirent *e;
	struct stat st;
	char path[300];
	int alive = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return 1;
	while (!alive && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/pid", e->d_name);
		/* one we may not look into (a sandbox's init, say) is not
		 * a run of ours: the reaper, root, sees the runs it could
		 * trace alongside */
		if (!stat(path, &st))
			alive = (unsigned long long)st.st_ino == ino;
	}
	closedir(d);
	return alive;
}

int ik_trace_stale(const char *name, unsigned long long ns_ino)
{
	unsigned long long ino, t, now;
	long pid;
	int off = 0;

	if (sscanf(name, "ipckern-%llu-%ld-%llu-%*[0-9a-f]%n", &ino, &pid, &t,
		   &off) != 3 ||
	    !off || name[off] || pid <= 0)
		return 0;
	/* another pid namespace's: its pids mean nothing here, but a
	 * namespace no process is in any more is gone, with its runs */
	if (ino != ns_ino)
		return ns_ino == IK_INIT_PIDNS_INO && !ik_pidns_alive(ino);
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return 1;
	/* the pid is alive: stale only if it is someone else now */
	return !start_time(pid, &now) && now != t;
}

void ik_trace_reap(void)
{
	const char *root = tracefs();
	char path[128];
	unsigned long long ino = 0;
	struct dirent *e;
	DIR *d;

	if (!root || pidns(&ino))
		return;
	snprintf(path, sizeof(path), "%s/instances", root);
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d)))
		if (ik_trace_stale(e->d_name, ino)) {
			char dir[PATH_MAX];

			snprintf(dir, sizeof(dir), "%s/%s", path, e->d_name);
			rmdir(dir); /* a race with another reaper is fine */
		}
	closedir(d);
}

void ik_trace_open(struct ik_trace *t)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF), per;
	char kb[24];
	const char *const setup[][2] = {
		{"tracing_on", "0"},
		{"buffer_size_kb", kb},
		/* one clock on every CPU: a waking and its switch are on
		 * two */
		{"trace_clock", "mono"},
		{"events/sched/sched_waking/enable", "1"},
		{"events/sched/sched_switch/enable", "1"},
	};
	const char *root = tracefs();
	unsigned long long ino = 0, st = 0;
	unsigned char rnd[8];
	unsigned i;
	int err;

	per = TRACE_BUF_TOTAL_KB / (ncpu > 0 ? ncpu : 1);
	per = per < TRACE_BUF_MIN_KB   ? TRACE_BUF_MIN_KB
	      : per > TRACE_BUF_MAX_KB ? TRACE_BUF_MAX_KB
				       : per;
	snprintf(kb, sizeof(kb), "%ld", per);
	t->dir[0] = '\0';
	if (!root) {
		t->err = -ENODEV;
		return;
	}
	ik_trace_reap();
	if ((err = pidns(&ino)) || (err = start_time(getpid(), &st))) {
		t->err = err;
		return;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		t->err = -errno;
		return;
	}
	snprintf(t->dir, sizeof(t->dir),
		 "%s/instances/ipckern-%llu-%ld-%llu-"
		 "%02x%02x%02x%02x%02x%02x%02x%02x",
		 root, ino, (long)getpid(), st, rnd[0], rnd[1], rnd[2], rnd[3],
		 rnd[4], rnd[5], rnd[6], rnd[7]);
	/* exclusive: an existing name fails with EEXIST */
	if (mkdir(t->dir, 0700)) {
		t->err = -errno;
		t->dir[0] = '\0';
		return;
	}
	for (i = 0; i < sizeof(setup) / sizeof(setup[0]); i++) {
		err = put(t->dir, setup[i][0], setup[i][1], false);
		if (err && !strcmp(setup[i][0], "trace_clock"))
			err = put(t->dir, "trace_clock", "global", false);
		if (err) {
			ik_trace_close(t);
			t->err = err;
			return;
		}
	}
	t->err = 0;
}

int ik_trace_start(const struct ik_trace *t, const int *tids, unsigned n)
{
	char waking[128] = "", sw[256] = "";
	size_t a = 0, b = 0;
	unsigned i;
	int err;

	if (t->err || !t->dir[0])
		return t->err ? t->err : -EBADF;
	/* event filters, not set_event_pid: that one lets wakings slip
	 * when the waker's CPU last switched to a task not ours */
	for (i = 0; i < n && i < 2; i++) {
		a += (size_t)snprintf(waking + a, sizeof(waking) - a,
				      "%spid == %d", i ? " || " : "", tids[i]);
		b += (size_t)snprintf(sw + b, sizeof(sw) - b,
				      "%sprev_pid == %d || next_pid == %d",
				      i ? " || " : "", tids[i], tids[i]);
	}
	if ((err = put(t->dir, "events/sched/sched_waking/filter", waking,
		       false)))
		return err;
	return put(t->dir, "events/sched/sched_switch/filter", sw, false);
}

int ik_trace_on(const struct ik_trace *t, bool on)
{
	if (t->err || !t->dir[0])
		return t->err ? t->err : -EBADF;
	return put(t->dir, "tracing_on", on ? "1" : "0", false);
}

int ik_trace_stop(const struct ik_trace *t)
{
	int err = ik_trace_on(t, false);

	/* tracing off still runs both events' probes (and filters) at
	 * every switch and waking; disabled, they are unregistered, and
	 * what the buffers hold stays to be read */
	if (!err)
		err = put(t->dir, "events/sched/sched_waking/enable", "0",
			  false);
	if (!err)
		err = put(t->dir, "events/sched/sched_switch/enable", "0",
			  false);
	return err;
}

/* Events the instance's buffers lost: each CPU's overrun and dropped. */
static uint64_t lost_events(const char *dir)
{
	char path[PATH_MAX - 256], line[128];
	uint64_t lost = 0;
	unsigned long long v;
	int cpu;

	for (cpu = 0; cpu < 4096; cpu++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/stats", dir,
			 cpu);
		if (!(f = fopen(path, "re"))) {
			if (errno == ENOENT && cpu > 0)
				break;
			continue;
		}
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "overrun: %llu", &v) == 1 ||
			    sscanf(line, "dropped events: %llu", &v) == 1)
				lost += v;
		fclose(f);
	}
	return lost;
}

void ik_trace_collect(struct ik_trace *t, const int *tids, unsigned ntids,
		      struct ik_wakeup *w)
{
	char path[sizeof(t->dir) + 8];
	FILE *f;

	*w = (struct ik_wakeup){.err = t->err};
	if (t->err)
		return;
	ik_trace_stop(t);
	snprintf(path, sizeof(path), "%s/trace", t->dir);
	if (!(f = fopen(path, "re"))) {
		w->err = -errno;
		return;
	}
	w->err = ik_wakeup_parse(f, tids, ntids, w);
	fclose(f);
	w->lost += lost_events(t->dir);
}

void ik_trace_close(struct ik_trace *t)
{
	if (!t->dir[0])
		return;
	/* an instance with events on is still removable; a reader's open
	 * file would make it EBUSY, and we hold none */
	rmdir(t->dir);
	t->dir[0] = '\0';
}

/* The parser: a line of the trace file is
 *   <comm>-<pid> [<cpu>] <flags> <s>.<us>: <event>: <fields>
 * where comm is a task's name (anything, up to 15 bytes): fields are
 * found from the end of the line. */

/* The last occurrence of s in [b, e), or NULL. */
static const char *last(const char *b, const char *e, const char *s)
{
	size_t n = strlen(s);
	const char *p;

	for (p = e - n; p >= b; p--)
		if (!memcmp(p, s, n))
			return p;
	return NULL;
}

/* The microseconds just before the event name at ev; 0 or -EINVAL. */
static int stamp(const char *line, const char *ev, uint64_t *us)
{
	const char *p = ev, *b;
	unsigned long long s, frac;
	char *end;

	/* "<s>.<us>: " ends right before ev */
	if (p - line < 3 || p[-1] != ' ' || p[-2] != ':')
		return -EINVAL;
	for (b = p - 2; b > line && b[-1] != ' '; b--)
		;
	s = strtoull(b, &end, 10);
	if (*end != '.' || end - b < 1)
		return -EINVAL;
	frac = strtoull(end + 1, &end, 10);
	if (end != p - 2)
		return -EINVAL;
	*us = s * 1000000ull + frac;
	return 0;
}

static long field(const char *p, const char *name)
{
	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static int ours(int tid, const int *tids, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (tids[i] == tid)
			return (int)i;
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int ik_wakeup_parse(FILE *f, const int *tids, unsigned ntids,
		    struct ik_wakeup *w)
{
	uint64_t pending[IK_TRACE_TIDS] = {0}, *lat = NULL, *nl, us;
	size_t n = 0, cap = 0, len = 0;
	char *line = NULL;
	ssize_t got;

	*w = (struct ik_wakeup){0};
	if (ntids > IK_TRACE_TIDS)
		return -EINVAL;
	for (unsigned t = 0; t < IK_TRACE_TIDS; t++)
		w->tid_cpu[t] = -1;
	while ((got = getline(&line, &len, f)) > 0) {
		const char *e = line + got, *ev, *p, *q;
		unsigned long long k;
		long tid;
		int i;

		if (line[0] == '#')
			continue;
		/* "CPU:1 [LOST 42 EVENTS]" */
		if ((p = strstr(line, "[LOST ")) &&
		    sscanf(p, "[LOST %llu EVENTS]", &k) == 1) {
			w->lost += k;
			continue;
		}
		if ((ev = strstr(line, ": sched_waking: "))) {
			ev += 2;
			/* comm=%s pid=%d prio=%d target_cpu=%03d */
			p = last(ev, e, " prio=");
			tid = field(p ? last(ev, p, " pid=") : NULL, " pid=");
			if ((i = ours((int)tid, tids, ntids)) < 0 ||
			    stamp(line, ev, &us))
				continue;
			w->wakings++;
			w->tid_wakings[i]++;
			if ((q = last(p, e, " target_cpu=")))
				w->tid_cpu[i] = (int)field(q, " target_cpu=");
			/* the latest: a peer woken while it still ran is
			 * woken again before it next needs to be */
			pending[i] = us + 1; /* 0: none */
			continue;
		}
		if (!(ev = strstr(line, ": sched_switch: ")))
			continue;
		ev += 2;
		/* prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s ==>
		 * next_comm=%s next_pid=%d next_prio=%d */
		p = last(ev, e, " next_pid=");
		tid = field(p, " next_pid=");
		/* a peer preempted (state R) comes back with no waking */
		if (p && (p = last(ev, p, " ==> next_comm=")) &&
		    (q = last(ev, p, " prev_state=")) && q[12] == 'R' &&
		    (i = ours((int)field(last(ev, q, " prev_pid="),
					 " prev_pid="),
			      tids, ntids)) >= 0)
			pending[i] = 0;
		if ((i = ours((int)tid, tids, ntids)) < 0 || !pending[i] ||
		    stamp(line, ev, &us))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if (!(nl = realloc(lat, cap * sizeof(*lat)))) {
				free(lat);
				free(line);
				return -ENOMEM;
			}
			lat = nl;
		}
		lat[n++] = us + 1 >= pending[i] ? us + 1 - pending[i] : 0;
		w->tid_n[i]++;
		pending[i] = 0;
	}
	free(line);
	w->n = n;
	if (n) {
		qsort(lat, n, sizeof(*lat), cmp_u64);
		w->p50_ns = lat[n / 2] * 1000u;
		w->p99_ns = lat[n * 99 / 100] * 1000u;
		w->max_ns = lat[n - 1] * 1000u;
	}
	free(lat);
	return 0;
}
