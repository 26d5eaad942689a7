/* SPDX-License-Identifier: MIT */
/*
 * What a run tells the person waiting for it, on stderr: one line redrawn
 * in place (cell n of N, which, elapsed, time left) when stderr is a
 * terminal and the run is long, erased at the end; with -v a line per
 * finished cell, terminal or not; with -q nothing. Updates come between
 * cells, and while a cell runs from its controller's polls (about once a
 * second), never from inside a timed loop: the controller takes no part
 * in timing. Time left scales what is still planned by how the
 * estimates compared with the clock so far, but only ever up: a method
 * that beat its estimate (spsc, 100-fold) says nothing about the
 * syscall methods after it, and "~0.0 s left" with seconds to go is
 * worse than a pessimistic guess.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kernels/view.h"

#define RT_GUESS_NS	 10000.0 /* a syscall round trip on a loaded VM */
#define CONNECT_GUESS_NS 40000.0 /* connect, request, close (connect) */
#define STARTUP_NS	 20e6	 /* channel, peers, pinning: a cell's start */
#define CLIENT_START_NS	 200e3	 /* a crew's client: a thread, a socket */

double ik_cli_cell_estimate(const struct ik_config *cell)
{
	const struct ik_kernel_ops *k = ik_kernels[cell->kernel];
	double rt = cell->kernel == IK_KERNEL_CONNECT ? CONNECT_GUESS_NS
						      : RT_GUESS_NS;
	double per = rt + (double)cell->gap_ns + (double)cell->work_ns;
	double start = STARTUP_NS;
	double trips = (double)(cell->iters + cell->warmup);

	/* a crew: --iters per client, every client's requests through
	 * one server (no warm-up); each client started and reaped */
	if (k->crew) {
		unsigned n = cell->clients ? cell->clients : 1;

		start += n * CLIENT_START_NS;
		trips = (double)cell->iters * n;
		if (cell->duration_ns)
			return (double)cell->duration_ns + start;
		return trips * per + start;
	}
	if (cell->duration_ns)
		return (double)cell->duration_ns +
		       (double)cell->warmup * RT_GUESS_NS + start;
	return trips * per + start;
}

double ik_cli_plan_total(const struct ik_cli_gate *g, double est)
{
	double total = est * g->repeat;
	double spread = (double)(g->repeat - 1) * (double)g->repeat_every_ns;

	/* --repeat-every: repeat k starts no earlier than k x its period */
	if (g->repeat > 1 && spread + est > total)
		total = spread + est;
	return total;
}

static void duration(char *out, size_t len, double ns)
{
	double s = ns / 1e9;

	if (s < 60)
		snprintf(out, len, "%.1f s", s);
	else if (s < 3600)
		snprintf(out, len, "%um%02us", (unsigned)(s / 60),
			 (unsigned)s % 60);
	else
		snprintf(out, len, "%uh%02um", (unsigned)(s / 3600),
			 (unsigned)(s / 60) % 60);
}

void ik_cli_cell_name(const struct ik_plan *p, const struct ik_config *cell,
		      const struct ik_transport_ops *ops, enum ik_mode mode,
		      const char *pair, char *out, size_t len)
{
	const struct ik_sweep *sw = &p->sweep;
	size_t n;

	n = (size_t)snprintf(out, len, "%s %zu B %s", ops->name, cell->size,
			     ik_mode_name(mode));
#define MORE(...)                                                              \
	do {                                                                   \
		if (n < len)                                                   \
			n += (size_t)snprintf(out + n, len - n, __VA_ARGS__);  \
	} while (0)
	if (sw->nbuffers > 1 || cell->buffer)
		MORE(" buffer %zu", cell->buffer);
	if (sw->ngaps > 1 || cell->gap_ns)
		MORE(" gap %llu ns", (unsigned long long)cell->gap_ns);
	if (sw->nworks > 1 || cell->work_ns)
		MORE(" work %llu ns", (unsigned long long)cell->work_ns);
	if (sw->wait_given && (ops->flags & IK_T_WAIT)) {
		MORE(" wait %s", ik_wait_name(cell->wait));
		if (cell->wait == IK_WAIT_HYBRID) {
			char b[24];

			ik_spin_budget_name(cell->spin_budget, b, sizeof(b));
			MORE(" budget %s", b);
		}
	}
	if (ik_kernels[cell->kernel]->crew)
		MORE(", %s server, %u client%s", ik_server_names[cell->server],
		     cell->clients, cell->clients == 1 ? "" : "s");
	if (pair && *pair)
		MORE(" %s", pair);
	if (cell->load)
		MORE(" load %s", cell->load->text);
#undef MORE
}

void ik_progress_start(struct ik_progress *pg, const struct ik_plan *p,
		       unsigned total, double est_total)
{
	memset(pg, 0, sizeof(*pg));
	pg->tty = !p->quiet && isatty(STDERR_FILENO);
	pg->verbose = !p->quiet && p->verbose;
	pg->total = total;
	pg->est_total = est_total;
	pg->t0 = ik_clock_ns();
	if (pg->verbose) {
		char t[32];

		duration(t, sizeof(t), est_total);
		fprintf(stderr,
			"ipckern: %u measurement%s planned, about %s "
			"(a rough estimate)\n",
			total, total == 1 ? "" : "s", t);
	}
}

/* Time left: what is still planned, at the pace the finished cells
 * kept when slower than planned (never faster: see the top), less what
 * the running one has already taken. */
double ik_progress_left_ns(const struct ik_progress *pg, uint64_t now)
{
	double rest = pg->est_total - pg->est_done, upto = 0, pace;
	uint64_t since = pg->t_done ? pg->t_done : pg->t0;

	if (rest < 0)
		rest = 0;
	if (pg->est_done > 0 && pg->t_done > pg->t0) {
		pace = (double)(pg->t_done - pg->t0) / pg->est_done;
		if (pace > 1)
			rest *= pace;
	}
	if (now > since)
		upto = (double)(now - since);
	return rest > upto ? rest - upto : 0;
}

static void draw(struct ik_progress *pg)
{
	uint64_t now = ik_clock_ns();
	double elapsed = (double)(now - pg->t0);
	char el[32], left[32];

	if (!pg->tty || (pg->est_total < IK_PROGRESS_AFTER_NS &&
			 elapsed < IK_PROGRESS_AFTER_NS))
		return;
	duration(el, sizeof(el), elapsed);
	duration(left, sizeof(left), ik_progress_left_ns(pg, now));
	pg->t_drawn = now;
	/* \r and erase to the end of the line: one line, redrawn */
	fprintf(stderr, "\r\033[Kipckern: cell %u of %u: %.60s; %s, ~%s left",
		pg->done + 1 > pg->total ? pg->total : pg->done + 1, pg->total,
		pg->what, el, left);
	fflush(stderr);
	pg->drawn = true;
}

void ik_progress_cell(struct ik_progress *pg, const char *what)
{
	if (!pg)
		return;
	snprintf(pg->what, sizeof(pg->what), "%s", what);
	draw(pg);
}

void ik_progress_done(struct ik_progress *pg, double est_ns, int err)
{
	if (!pg)
		return;
	pg->done++;
	pg->est_done += est_ns;
	pg->t_done = ik_clock_ns();
	if (pg->verbose) {
		char el[32];

		ik_progress_clear(pg);
		duration(el, sizeof(el), (double)(ik_clock_ns() - pg->t0));
		fprintf(stderr, "ipckern: cell %u of %u: %s: %s (%s elapsed)\n",
			pg->done, pg->total, pg->what, err ? "failed" : "done",
			el);
	}
}

void ik_progress_tick(void *arg)
{
	struct ik_progress *pg = arg;

	if (pg->tty && ik_clock_ns() - pg->t_drawn >= IK_NS_PER_SEC)
		draw(pg);
}

void ik_progress_clear(struct ik_progress *pg)
{
	if (!pg || !pg->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	pg->drawn = false;
}

void ik_progress_soak(void *arg, unsigned m, const struct ik_soak_minute *s)
{
	struct ik_progress *pg = arg;
	char a[4][16];

	ik_progress_clear(pg);
	if (!m)
		fprintf(stderr, "soak: %6s %12s %8s %8s %8s %8s %6s %6s\n",
			"minute", "round trips", "p50", "p99", "p99.99", "max",
			"late", "lost");
	fprintf(stderr, "soak: %6u %12llu %8s %8s %8s %8s %6llu %6llu\n", m + 1,
		(unsigned long long)s->count,
		ik_fmt_ns(a[0], 16, (double)s->p50),
		ik_fmt_ns(a[1], 16, (double)s->p99),
		ik_fmt_ns(a[2], 16, (double)s->p9999),
		ik_fmt_ns(a[3], 16, (double)s->max),
		(unsigned long long)s->late, (unsigned long long)s->lost);
	fflush(stderr);
}
