/* SPDX-License-Identifier: MIT */
/*
 * Antagonists (--load): what a set says, which CPUs and buffers it
 * takes in a cell, and the threads that do the work. They are threads
 * of the controller in both modes: they die with it, and a stop flag,
 * the channel's abort and SIGUSR1 end them, so no exit path leaves one
 * behind. Each waits at the cell's start barrier as one more party, so
 * none works before the peers are set up, and none is told to stop
 * before the peers ended (ik_crew_run stops them after the reap).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kernels.h"

#define SPIN_CHUNK  65536u		/* iterations between stop checks */
#define SWEEP_CHUNK (64u << 10)		/* bytes between stop checks */
#define STOP_GRACE  (2 * IK_NS_PER_SEC) /* for a thread to notice */

static const char *const kind_names[] = {
	[IK_LOAD_SPIN] = "spin",     [IK_LOAD_SMT] = "smt",
	[IK_LOAD_L3] = "l3",	     [IK_LOAD_MEM] = "mem",
	[IK_LOAD_STREAM] = "stream",
};

const char *ik_load_kind_name(unsigned kind)
{
	return kind < IK_NLOAD_KINDS ? kind_names[kind] : NULL;
}

double ik_load_rate(const struct ik_load_out *o)
{
	double w = o->kind == IK_LOAD_L3 || o->kind == IK_LOAD_MEM
			   ? (double)o->bytes
			   : (double)o->work;

	return o->seconds > 0 ? w / o->seconds : 0;
}

const char *ik_load_rate_unit(const struct ik_load_out *o)
{
	switch (o->kind) {
	case IK_LOAD_L3:
	case IK_LOAD_MEM:
		return "B/s";
	case IK_LOAD_STREAM:
		return "msgs/s";
	default:
		return "iters/s";
	}
}

/* ---- parsing ---- */

/* "A", "A-B", joined by '+': into cpus; a CPU twice is refused unless
 * twice_ok (stream's C1+C2, whose own check says why); 0 or -EINVAL */
static int parse_cpus(const char *s, int *cpus, unsigned *n, bool twice_ok,
		      char *msg, size_t len)
{
	const char *p = s;

	*n = 0;
	for (;;) {
		char *end;
		long a, b;

		if (*p < '0' || *p > '9')
			goto bad;
		a = strtol(p, &end, 10);
		b = a;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto bad;
			b = strtol(end + 1, &end, 10);
		}
		if (a > IK_TOPO_INDEX_MAX || b > IK_TOPO_INDEX_MAX || b < a)
			goto bad;
		for (long c = a; c <= b; c++) {
			for (unsigned k = 0; k < *n && !twice_ok; k++)
				if (cpus[k] == c) {
					snprintf(msg, len,
						 "CPUs '%s': CPU %ld is listed "
						 "twice; list each once",
						 s, c);
					return -EINVAL;
				}
			if (*n == IK_LOAD_MAX) {
				snprintf(msg, len,
					 "CPUs '%s': at most %d antagonists "
					 "in one --load",
					 s, IK_LOAD_MAX);
				return -EINVAL;
			}
			cpus[(*n)++] = (int)c;
		}
		if (!*end)
			return 0;
		if (*end != '+')
			goto bad;
		p = end + 1;
	}
bad:
	snprintf(msg, len,
		 "CPUs '%s': expected CPU numbers A, A-B or those joined by "
		 "'+' (e.g. 2+4-5)",
		 s);
	return -EINVAL;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s || *s == '-')
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end || !v || v > IK_SIZE_MAX)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

/* stream's ":METHOD[:SIZE]" after the kind; 0 or -EINVAL */
static int parse_stream(char *args, struct ik_load_item *it, char *msg,
			size_t len)
{
	char *size = args ? strchr(args, ':') : NULL;

	it->ops = ik_transport_find("pipe");
	it->size = IK_LOAD_STREAM_SIZE;
	if (size)
		*size++ = 0;
	if (args && *args) {
		it->ops = ik_transport_find(args);
		if (!it->ops || (it->ops->flags & IK_T_TEST)) {
			snprintf(msg, len,
				 "stream method '%s': unknown; --list "
				 "shows the methods",
				 args);
			return -EINVAL;
		}
	}
	if (size && parse_size(size, &it->size)) {
		snprintf(msg, len,
			 "stream size '%s': expected bytes from 1 to %u, "
			 "suffix k or m",
			 size, IK_SIZE_MAX);
		return -EINVAL;
	}
	return 0;
}

static int parse_item(char *tok, struct ik_load_item *it, char *msg, size_t len)
{
	char *at = strchr(tok, '@'), *args = strchr(tok, ':');
	unsigned k;

	if (at)
		*at++ = 0;
	if (args && (!at || args < at))
		*args++ = 0;
	else
		args = NULL;
	for (k = 0; k < IK_NLOAD_KINDS && strcmp(tok, kind_names[k]); k++)
		;
	if (k == IK_NLOAD_KINDS) {
		snprintf(msg, len,
			 "'%s': unknown kind; allowed: none, spin@CPUS, smt, "
			 "l3@CPUS, mem[:NODE]@CPUS, "
			 "stream[:METHOD[:SIZE]]@C1+C2",
			 tok);
		return -EINVAL;
	}
	*it = (struct ik_load_item){.kind = k, .node = -1};
	if (args && k != IK_LOAD_MEM && k != IK_LOAD_STREAM) {
		snprintf(msg, len, "%s takes no ':%s'", tok, args);
		return -EINVAL;
	}
	if (k == IK_LOAD_SMT) {
		if (at) {
			snprintf(msg, len,
				 "smt takes no CPUs: it loads the SMT "
				 "siblings of each peer's CPU");
			return -EINVAL;
		}
		return 0;
	}
	if (!at || !*at) {
		snprintf(msg, len, "%s needs @CPUS, e.g. %s@2", tok,
			 k == IK_LOAD_STREAM ? "stream:pipe:64k" : tok);
		if (k == IK_LOAD_STREAM)
			snprintf(msg, len,
				 "stream needs @C1+C2 (sender, receiver), "
				 "e.g. stream:pipe:64k@2+3");
		return -EINVAL;
	}
	if (parse_cpus(at, it->cpus, &it->ncpus, k == IK_LOAD_STREAM, msg, len))
		return -EINVAL;
	if (k == IK_LOAD_MEM && args) {
		char *end;
		long node = strtol(args, &end, 10);

		if (!*args || *end || node < 0 || node > IK_TOPO_INDEX_MAX) {
			snprintf(msg, len,
				 "mem node '%s': expected a NUMA node number",
				 args);
			return -EINVAL;
		}
		it->node = (int)node;
	}
	if (k == IK_LOAD_STREAM) {
		if (it->ncpus != 2 || it->cpus[0] == it->cpus[1]) {
			snprintf(msg, len,
				 "stream needs two different CPUs C1+C2 "
				 "(sender, receiver), e.g. stream@2+3");
			return -EINVAL;
		}
		return parse_stream(args, it, msg, len);
	}
	return 0;
}

/*
 * The newest item of a set against the others: the same kind on one CPU
 * twice (spin@0,spin@0; smt,smt) is one antagonist written twice.
 */
static int same_twice(const struct ik_load_set *set, char *msg, size_t len)
{
	const struct ik_load_item *it = &set->item[set->n - 1];

	for (unsigned i = 0; i + 1 < set->n; i++) {
		const struct ik_load_item *o = &set->item[i];

		if (o->kind != it->kind)
			continue;
		if (it->kind == IK_LOAD_SMT) {
			snprintf(msg, len, "smt is listed twice; list it once");
			return -EINVAL;
		}
		for (unsigned a = 0; a < it->ncpus; a++)
			for (unsigned b = 0; b < o->ncpus; b++)
				if (it->cpus[a] == o->cpus[b] &&
				    it->kind != IK_LOAD_STREAM) {
					snprintf(
						msg, len,
						"%s on CPU %d is listed twice; "
						"list each antagonist once",
						ik_load_kind_name(it->kind),
						it->cpus[a]);
					return -EINVAL;
				}
	}
	return 0;
}

int ik_load_parse(const char *s, struct ik_load_set *set, char *msg, size_t len)
{
	char *copy, *tok, *save = NULL;
	int ret = 0;

	memset(set, 0, sizeof(*set));
	if (strlen(s) >= sizeof(set->text)) {
		snprintf(msg, len, "longer than %zu characters",
			 sizeof(set->text) - 1);
		return -EINVAL;
	}
	snprintf(set->text, sizeof(set->text), "%s", s);
	if (!strcmp(s, "none"))
		return 0;
	if (!*s || s[strlen(s) - 1] == ',' || *s == ',') {
		snprintf(msg, len,
			 "expected none or KIND@CPUS items separated by "
			 "commas");
		return -EINVAL;
	}
	copy = strdup(s);
	if (!copy) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		if (set->n == IK_LOAD_MAX) {
			snprintf(msg, len, "at most %d items", IK_LOAD_MAX);
			ret = -EINVAL;
			break;
		}
		ret = parse_item(tok, &set->item[set->n++], msg, len);
		if (!ret)
			ret = same_twice(set, msg, len);
	}
	free(copy);
	return ret;
}

/* ---- one cell's antagonists ---- */

struct lthread {
	struct ik_load_run *lr;
	unsigned out;  /* its entry in lr->out */
	unsigned side; /* stream: 0 sends, 1 receives */
	struct ik_channel *ch;
	void *buf;
	size_t len;
	pthread_t th;
	bool started;
	_Atomic int done;
	int err;
	char msg[160];
	int seen, end;
	uint64_t work, bytes;
	double seconds;
};

struct ik_load_run {
	const struct ik_topo *topo;
	struct ik_load_out out[IK_LOAD_MAX];
	unsigned nout;
	struct lthread th[2 * IK_LOAD_MAX];
	unsigned nth;
	struct ik_channel ch[IK_LOAD_MAX]; /* stream's, by out */
	bool ch_up[IK_LOAD_MAX];
	struct ik_barrier *gate;
	uint64_t deadline_ns;
	int donefd;
	/* written by the controller, read by every antagonist; a line of
	 * its own, so their counters never share it */
	alignas(IK_CACHELINE) _Atomic int stop;
};

unsigned ik_load_parties(const struct ik_load_run *lr)
{
	return lr ? lr->nth : 0;
}

static bool is_peer(const int *cpus, unsigned n, int cpu, unsigned *which)
{
	for (unsigned i = 0; i < n; i++)
		if (cpus[i] == cpu) {
			*which = i;
			return true;
		}
	return false;
}

/* The outermost data cache above cpu (the shared one, the LLC) */
static hwloc_obj_t llc_of(const struct ik_topo *tp, int cpu)
{
	hwloc_obj_t o = hwloc_get_pu_obj_by_os_index(tp->t, (unsigned)cpu);
	hwloc_obj_t best = NULL;

	for (; o; o = o->parent)
		if (hwloc_obj_type_is_cache(o->type) &&
		    o->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION)
			best = o;
	return best;
}

static int node_of(const struct ik_topo *tp, int cpu)
{
	hwloc_obj_t o = hwloc_get_pu_obj_by_os_index(tp->t, (unsigned)cpu);

	return o && o->nodeset ? hwloc_bitmap_first(o->nodeset) : -1;
}

static const char *peer_name(unsigned npeers, unsigned i, char *b, size_t n)
{
	if (npeers <= 2)
		snprintf(b, n, "peer %c", 'A' + i);
	else
		snprintf(b, n, "%s", i ? "a client" : "the server");
	return b;
}

/* Every allowed CPU is a peer's: nothing else to load */
static bool only_peers(const struct ik_topo *tp, const int *cpus, unsigned n)
{
	unsigned w;
	int c;

	hwloc_bitmap_foreach_begin(c, tp->allowed)
	{
		if (!is_peer(cpus, n, c, &w))
			return false;
	}
	hwloc_bitmap_foreach_end();
	return true;
}

/* A new antagonist on cpu (stream: and cpu2); -EINVAL when full */
static struct ik_load_out *add_out(struct ik_load_run *lr,
				   const struct ik_load_item *it, int cpu,
				   char *msg, size_t len)
{
	struct ik_load_out *o;

	if (lr->nout == IK_LOAD_MAX) {
		snprintf(msg, len, "more than %d antagonists", IK_LOAD_MAX);
		return NULL;
	}
	o = &lr->out[lr->nout++];
	*o = (struct ik_load_out){
		.kind = it->kind,
		.cpu = {cpu, -1},
		.cpu_seen = {-1, -1},
		.cpu_end = {-1, -1},
		.node = -1,
		.node_seen = -1,
		.ops = it->ops,
		.size = it->size,
	};
	return o;
}

/* Checks and sizes one antagonist; 0 or -EINVAL with msg */
static int place(struct ik_load_run *lr, struct ik_load_out *o,
		 const struct ik_load_item *it, const int *cpus,
		 unsigned npeers, bool on_peer, char *msg, size_t len)
{
	const char *kn = kind_names[o->kind];
	char allowed[128], who[16];
	unsigned s, w;

	ik_topo_allowed_str(lr->topo, allowed, sizeof(allowed));
	for (s = 0; s < (o->kind == IK_LOAD_STREAM ? 2u : 1u); s++) {
		int cpu = o->cpu[s], ret = ik_topo_check_cpu(lr->topo, cpu);

		if (ret) {
			snprintf(msg, len, "%s on CPU %d: %s; allowed CPUs: %s",
				 kn, cpu,
				 ret == -ENOENT	  ? "no such CPU"
				 : ret == -ENODEV ? "offline"
						  : "outside our cpuset",
				 allowed);
			return -EINVAL;
		}
		if (!on_peer && is_peer(cpus, npeers, cpu, &w)) {
			snprintf(msg, len,
				 "%s on CPU %d: that is %s's CPU; load "
				 "another CPU (%s: %s), or add "
				 "--load-on-peer to share it on purpose",
				 kn, cpu,
				 peer_name(npeers, w, who, sizeof(who)),
				 only_peers(lr->topo, cpus, npeers)
					 ? "this machine has none besides the "
					   "peers', allowed"
					 : "allowed",
				 allowed);
			return -EINVAL;
		}
	}
	if (o->kind == IK_LOAD_L3) {
		hwloc_obj_t c = llc_of(lr->topo, o->cpu[0]);

		if (!c || !c->attr->cache.size) {
			snprintf(msg, len,
				 "l3 on CPU %d: the topology shows no data "
				 "cache above it to size the buffer to",
				 o->cpu[0]);
			return -EINVAL;
		}
		o->buf_bytes = c->attr->cache.size;
		o->cache_level = (int)c->attr->cache.depth;
	}
	if (o->kind == IK_LOAD_MEM) {
		hwloc_obj_t c = llc_of(lr->topo, o->cpu[0]);
		uint64_t llc = c ? c->attr->cache.size : 0;

		o->node =
			it->node >= 0 ? it->node : node_of(lr->topo, o->cpu[0]);
		if (it->node >= 0 && !hwloc_get_numanode_obj_by_os_index(
					     lr->topo->t, (unsigned)it->node)) {
			snprintf(msg, len,
				 "mem:%d: no NUMA node %d in this topology",
				 it->node, it->node);
			return -EINVAL;
		}
		o->buf_bytes = IK_LOAD_MEM_MULT * llc;
		if (o->buf_bytes < IK_LOAD_MEM_MIN)
			o->buf_bytes = IK_LOAD_MEM_MIN;
		/* a 508 MB "L3" per vCPU (one host's CPUID) asked for 4 GB,
		 * touched before every cell: 1 GiB is past any real LLC */
		if (o->buf_bytes > IK_LOAD_MEM_MAX)
			o->buf_bytes = IK_LOAD_MEM_MAX;
	}
	return 0;
}

/* smt: each peer's siblings that are not a peer; -EINVAL when one has
 * none */
static int resolve_smt(struct ik_load_run *lr, const struct ik_load_item *it,
		       const int *cpus, unsigned npeers, char *msg, size_t len)
{
	char who[16];
	unsigned p, w;

	if (!npeers) {
		snprintf(msg, len,
			 "smt: the peers are not pinned, so they have no "
			 "siblings to load; give --pin");
		return -EINVAL;
	}
	for (p = 0; p < npeers; p++) {
		int sib[8], n = ik_topo_smt_siblings(lr->topo, cpus[p], sib, 8);
		int k, got = 0;

		if (is_peer(cpus, p, cpus[p], &w))
			continue; /* the same CPU twice */
		for (k = 0; k < n; k++) {
			struct ik_load_out *o;
			unsigned q;

			if (is_peer(cpus, npeers, sib[k], &w)) /* a peer */
				continue;
			for (q = 0; q < lr->nout; q++)
				if (lr->out[q].kind == IK_LOAD_SMT &&
				    lr->out[q].cpu[0] == sib[k])
					break;
			got++;
			if (q < lr->nout)
				continue;
			if (!(o = add_out(lr, it, sib[k], msg, len)))
				return -EINVAL;
		}
		if (got)
			continue;
		if (n)
			snprintf(msg, len,
				 "smt: CPU %d (%s) has no SMT sibling but "
				 "the other peer's CPU %d: nothing to load",
				 cpus[p],
				 peer_name(npeers, p, who, sizeof(who)),
				 sib[0]);
		else
			snprintf(msg, len,
				 "smt: CPU %d (%s) has no SMT sibling: its "
				 "core has one hardware thread in this "
				 "topology (no SMT here)",
				 cpus[p],
				 peer_name(npeers, p, who, sizeof(who)));
		return -EINVAL;
	}
	return 0;
}

int ik_load_resolve(struct ik_load_run **out, const struct ik_load_set *set,
		    const struct ik_topo *topo, const int *cpus,
		    unsigned npeers, bool on_peer, char *msg, size_t len)
{
	struct ik_load_run *lr;
	unsigned i, k, first;
	int ret = 0;

	*out = NULL;
	if (!set || !set->n)
		return 0;
	lr = calloc(1, sizeof(*lr));
	if (!lr) {
		snprintf(msg, len, "load: out of memory");
		return -ENOMEM;
	}
	lr->topo = topo;
	lr->donefd = -1;
	for (i = 0; i < set->n && !ret; i++) {
		const struct ik_load_item *it = &set->item[i];

		first = lr->nout;
		if (it->kind == IK_LOAD_SMT) {
			ret = resolve_smt(lr, it, cpus, npeers, msg, len);
		} else if (it->kind == IK_LOAD_STREAM) {
			struct ik_load_out *o =
				add_out(lr, it, it->cpus[0], msg, len);

			if (o)
				o->cpu[1] = it->cpus[1];
			ret = o ? 0 : -EINVAL;
		} else {
			for (k = 0; k < it->ncpus && !ret; k++)
				if (!add_out(lr, it, it->cpus[k], msg, len))
					ret = -EINVAL;
		}
		for (k = first; k < lr->nout && !ret; k++)
			ret = place(lr, &lr->out[k], it, cpus, npeers, on_peer,
				    msg, len);
	}
	for (k = 0; k < lr->nout && !ret; k++) {
		struct ik_load_out *o = &lr->out[k];
		unsigned s, ns = o->kind == IK_LOAD_STREAM ? 2 : 1;

		for (s = 0; s < ns; s++)
			lr->th[lr->nth++] =
				(struct lthread){.lr = lr, .out = k, .side = s};
	}
	if (ret) {
		free(lr);
		return -EINVAL;
	}
	*out = lr;
	return 0;
}

/* ---- the antagonists' work ---- */

static bool stopping(const struct ik_load_run *lr)
{
	return atomic_load_explicit(&lr->stop, memory_order_relaxed);
}

static void spin(struct lthread *t)
{
	uint64_t x = 1, n = 0;

	do { /* a chunk at least: every antagonist did some work */
		for (unsigned k = 0; k < SPIN_CHUNK; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			__asm__ volatile("" : "+r"(x)); /* one ALU chain */
		}
		n += SPIN_CHUNK;
	} while (!stopping(t->lr));
	t->work = n;
}

/* every word read and written back, a chunk between stop checks */
static void sweep(struct lthread *t)
{
	volatile uint64_t *w = t->buf;
	size_t nw = t->len / 8, per = SWEEP_CHUNK / 8, i = 0, end;
	uint64_t bytes = 0;

	do {
		end = i + per < nw ? i + per : nw;
		bytes += 2 * 8 * (uint64_t)(end - i); /* read, then written */
		for (; i < end; i++)
			w[i] = w[i] + 1;
		if (i >= nw)
			i = 0;
	} while (!stopping(t->lr));
	t->bytes = bytes;
	t->work = bytes;
}

/* stream: side 0 sends, side 1 receives and counts */
static int stream(struct lthread *t)
{
	struct ik_channel *ch = t->ch;
	uint64_t n = 0;
	int ret = 0;

	do { /* a message at least; the abort at stop ends a wait */
		ret = t->side ? ch->recv(ch, IK_SIDE_B, t->buf, t->len)
			      : ch->send(ch, IK_SIDE_A, t->buf, t->len);
		if (ret < 0)
			break;
		n++;
	} while (!stopping(t->lr));
	t->work = n;
	t->bytes = n * t->len;
	/* the abort at stop is how it ends, not a failure */
	return ret < 0 && !stopping(t->lr) ? ret : 0;
}

static int lfail(struct lthread *t, int err, const char *what)
{
	const struct ik_load_out *o = &t->lr->out[t->out];

	t->err = err;
	snprintf(t->msg, sizeof(t->msg), "load %s on CPU %d: %s: %s",
		 kind_names[o->kind], o->cpu[t->side], what, strerror(-err));
	return err;
}

/* bound, set up, met at the gate; 0 or -errno */
static int lsetup(struct lthread *t)
{
	struct ik_load_run *lr = t->lr;
	struct ik_load_out *o = &lr->out[t->out];
	int cpu = o->cpu[t->side], ret = ik_bind_self(lr->topo, cpu);

	t->seen = sched_getcpu();
	if (ret == -EXDEV) {
		t->err = ret;
		snprintf(t->msg, sizeof(t->msg),
			 "load %s on CPU %d: pin did not take: it runs on "
			 "CPU %d",
			 kind_names[o->kind], cpu, t->seen);
		return ret;
	}
	if (ret)
		return lfail(t, ret, "bind");
	if (o->kind == IK_LOAD_L3 || o->kind == IK_LOAD_MEM) {
		/* l3: its own pages, first touched here on its CPU; mem:
		 * bound to the node before the first touch */
		memset(t->buf, 1, t->len);
	} else if (o->kind == IK_LOAD_STREAM) {
		t->ch = &lr->ch[t->out];
		t->len = o->size;
		t->buf = malloc(t->len);
		if (!t->buf)
			return lfail(t, -ENOMEM, "buffer");
		memset(t->buf, 0x5a, t->len);
		if ((ret = ik_channel_open_side(t->ch, (enum ik_side)t->side)))
			return lfail(t, ret, "open_side");
	}
	return 0;
}

static void *lmain(void *p)
{
	struct lthread *t = p;
	struct ik_load_run *lr = t->lr;
	const struct ik_load_out *o = &lr->out[t->out];
	uint64_t one = 1, t0;
	int ret = lsetup(t);

	if (ret) /* the peers must not wait for this one */
		ik_barrier_break(lr->gate);
	else
		ret = ik_barrier_wait(lr->gate, lr->deadline_ns);
	if (ret == -ETIMEDOUT)
		lfail(t, ret, "start gate");
	if (!ret) {
		t0 = ik_clock_ns();
		if (o->kind == IK_LOAD_L3 || o->kind == IK_LOAD_MEM)
			sweep(t);
		else if (o->kind == IK_LOAD_STREAM)
			ret = stream(t);
		else
			spin(t);
		t->seconds = (double)(ik_clock_ns() - t0) / 1e9;
		t->end = sched_getcpu();
		if (ret)
			lfail(t, ret, t->side ? "recv" : "send");
		if (o->kind == IK_LOAD_STREAM && ret) /* the other side too */
			ik_channel_abort(t->ch);
	}
	atomic_store(&t->done, 1);
	if (write(lr->donefd, &one, sizeof(one)) < 0)
		t->err = t->err ? t->err : -EIO;
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig; /* only here to make blocking syscalls return EINTR */
}

int ik_load_start(struct ik_load_run *lr, struct ik_barrier *gate,
		  uint64_t deadline_ns, char *msg, size_t len)
{
	struct sigaction sa;
	sigset_t block, old;
	unsigned i;
	int ret = 0;

	if (!lr)
		return 0;
	lr->gate = gate;
	lr->deadline_ns = deadline_ns;
	/* SIGUSR1 ends a blocked send or recv at stop; the crew installs
	 * the same do-nothing handler, and its default would kill us */
	if (!sigaction(SIGUSR1, NULL, &sa) && sa.sa_handler == SIG_DFL) {
		sa = (struct sigaction){.sa_handler = on_sigusr1};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
	}
	lr->donefd = eventfd(0, EFD_CLOEXEC);
	if (lr->donefd < 0) {
		ret = -errno;
		snprintf(msg, len, "load: eventfd: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; i < lr->nout && !ret; i++) {
		const struct ik_load_out *o = &lr->out[i];
		struct ik_chan_params p = {.size = o->size,
					   .mode = IK_MODE_THREAD,
					   .stream = true};

		if (o->kind != IK_LOAD_STREAM)
			continue;
		ret = ik_channel_init(&lr->ch[i], o->ops, &p);
		if (ret)
			snprintf(msg, len, "load stream: %s setup: %s",
				 o->ops->name, strerror(-ret));
		lr->ch_up[i] = !ret;
	}
	for (i = 0; i < lr->nth && !ret; i++) {
		struct lthread *t = &lr->th[i];
		const struct ik_load_out *o = &lr->out[t->out];

		if (o->kind != IK_LOAD_L3 && o->kind != IK_LOAD_MEM)
			continue;
		t->len = o->buf_bytes;
		t->buf = ik_mem_alloc(t->len, false,
				      o->kind == IK_LOAD_MEM ? o->node : -1);
		if (!t->buf) {
			ret = -ENOMEM;
			snprintf(msg, len, "load %s: %llu B buffer: %s",
				 kind_names[o->kind],
				 (unsigned long long)t->len, strerror(-ret));
			break;
		}
		/* made before the peers fork (process mode), which must not
		 * share its pages: each write of the sweep would copy one */
		madvise(t->buf, t->len, MADV_DONTFORK);
	}
	ik_stop_signals(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < lr->nth && !ret; i++) {
		ret = -pthread_create(&lr->th[i].th, NULL, lmain, &lr->th[i]);
		lr->th[i].started = !ret;
		if (ret)
			snprintf(msg, len, "load: starting a thread: %s",
				 strerror(-ret));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) /* those started give up at the broken gate */
		ik_barrier_break(gate);
	return ret;
}

static bool all_done(const struct ik_load_run *lr)
{
	for (unsigned i = 0; i < lr->nth; i++)
		if (lr->th[i].started && !atomic_load(&lr->th[i].done))
			return false;
	return true;
}

int ik_load_stop(struct ik_load_run *lr, struct ik_load_result *res, char *msg,
		 size_t len)
{
	uint64_t until = ik_clock_ns() + STOP_GRACE;
	bool stuck = false;
	unsigned i;
	int err = 0;

	if (!lr)
		return 0;
	atomic_store(&lr->stop, 1);
	for (i = 0; i < lr->nout; i++)
		if (lr->ch_up[i])
			ik_channel_abort(&lr->ch[i]);
	/* a thread blocked in a syscall (a full pipe) needs a signal; the
	 * 1 ms is only how often it is sent again, for one that took it
	 * just before entering its next blocking call */
	while (!all_done(lr) && ik_clock_ns() < until) {
		struct pollfd pfd = {.fd = lr->donefd, .events = POLLIN};
		uint64_t v;

		for (i = 0; i < lr->nth; i++)
			if (lr->th[i].started && !atomic_load(&lr->th[i].done))
				pthread_kill(lr->th[i].th, SIGUSR1);
		if (poll(&pfd, 1, 1) > 0 && read(lr->donefd, &v, sizeof(v)) < 0)
			break;
	}
	for (i = 0; i < lr->nth; i++) {
		struct lthread *t = &lr->th[i];
		struct ik_load_out *o = &lr->out[t->out];

		if (!t->started)
			continue;
		if (!atomic_load(&t->done)) {
			pthread_detach(t->th);
			stuck = true;
			continue;
		}
		pthread_join(t->th, NULL);
		o->cpu_seen[t->side] = t->seen;
		o->cpu_end[t->side] = t->seconds > 0 ? t->end : -1;
		if (o->kind != IK_LOAD_STREAM || t->side == 1) {
			o->work = t->work;
			o->bytes = t->bytes;
			o->seconds = t->seconds;
		}
		if (t->buf && (o->kind == IK_LOAD_L3 || o->kind == IK_LOAD_MEM))
			o->node_seen = ik_shm_node_of(t->buf);
		if (t->err && !err) {
			err = t->err;
			snprintf(msg, len, "%s", t->msg);
		}
	}
	if (res) {
		res->n = lr->nout;
		memcpy(res->out, lr->out, sizeof(res->out));
	}
	if (stuck) {
		snprintf(msg, len, "load: an antagonist would not stop");
		return -EBUSY;
	}
	for (i = 0; i < lr->nth; i++) {
		struct lthread *t = &lr->th[i];

		if (lr->out[t->out].kind == IK_LOAD_STREAM)
			free(t->buf);
		else if (t->buf)
			ik_shm_free(t->buf, t->len);
	}
	for (i = 0; i < lr->nout; i++)
		if (lr->ch_up[i])
			ik_channel_destroy(&lr->ch[i]);
	if (lr->donefd >= 0)
		close(lr->donefd);
	free(lr);
	return err;
}
