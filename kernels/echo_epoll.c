/* SPDX-License-Identifier: MIT */
/*
 * Echo's epoll server (--server epoll): one thread, non-blocking
 * sockets, an epoll loop. What a socket refuses to take goes to a
 * per-connection output buffer and is sent first, once EPOLLOUT says
 * there is room; the loop wakes every IK_ECHO_WAIT_MS to look at abort.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "echo.h"

struct econn {
	int fd;
	bool open, want_out;
	unsigned char *out; /* what the socket refused, to send first */
	size_t olen, ocap;
};

static int queue_out(struct econn *k, const unsigned char *p, size_t n)
{
	if (k->olen + n > k->ocap) {
		size_t cap = 2 * (k->olen + n);
		unsigned char *o = realloc(k->out, cap);

		if (!o)
			return -ENOMEM;
		k->out = o;
		k->ocap = cap;
	}
	memcpy(k->out + k->olen, p, n);
	k->olen += n;
	return 0;
}

/* Write what is queued; 0 when it all went or the socket is full. */
static int flush_out(struct econn *k)
{
	size_t off = 0;

	while (off < k->olen) {
		ssize_t w = write(k->fd, k->out + off, k->olen - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	memmove(k->out, k->out + off, k->olen - off);
	k->olen -= off;
	return 0;
}

static int epoll_want(int ep, struct econn *k, unsigned j)
{
	bool want = k->olen > 0;
	struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0),
				 .data.u32 = j};

	if (want == k->want_out)
		return 0;
	k->want_out = want;
	return epoll_ctl(ep, EPOLL_CTL_MOD, k->fd, &ev) ? -errno : 0;
}

/* Read what is there; echo it, queueing what the socket refuses. */
static int epoll_read(struct econn *k, unsigned char *in, size_t cap,
		      unsigned *live)
{
	for (;;) {
		ssize_t r = read(k->fd, in, cap), w = 0;
		int ret;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r <= 0) {
			k->open = false;
			(*live)--;
			return r < 0 ? -errno : 0;
		}
		if (!k->olen) {
			w = write(k->fd, in, (size_t)r);
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
			w = w < 0 ? 0 : w;
		}
		if (w < r && (ret = queue_out(k, in + w, (size_t)(r - w))))
			return ret;
	}
}

int ik_echo_serve_epoll(struct ik_crew *cr)
{
	struct ik_echo *e = cr->arg;
	unsigned n = e->nclients, live = n, j;
	struct econn *k = calloc(n, sizeof(*k));
	struct epoll_event *evs = calloc(n, sizeof(*evs));
	unsigned char *in = malloc(e->buffer);
	int ep = epoll_create1(EPOLL_CLOEXEC), ret = 0;

	if (!k || !evs || !in || ep < 0) {
		ret = ep < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (j = 0; j < n && !ret; j++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = j};

		k[j] = (struct econn){.fd = e->sfd[j], .open = true};
		k[j].ocap = e->cfg->size + e->buffer;
		k[j].out = malloc(k[j].ocap);
		if (!k[j].out)
			ret = -ENOMEM;
		else if (fcntl(k[j].fd, F_SETFL,
			       fcntl(k[j].fd, F_GETFL) | O_NONBLOCK) ||
			 epoll_ctl(ep, EPOLL_CTL_ADD, k[j].fd, &ev))
			ret = -errno;
	}
	while (!ret && live && !ik_crew_aborted(cr)) {
		int m = epoll_wait(ep, evs, (int)n, IK_ECHO_WAIT_MS), x;

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			ret = -errno;
			break;
		}
		for (x = 0; x < m && !ret; x++) {
			struct econn *c = &k[evs[x].data.u32];

			if (!c->open)
				continue;
			if (evs[x].events & EPOLLOUT)
				ret = flush_out(c);
			if (!ret &&
			    (evs[x].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				ret = epoll_read(c, in, e->buffer, &live);
			if (!ret && c->open)
				ret = epoll_want(ep, c, evs[x].data.u32);
			if (!ret && !c->open)
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			if (e->fault == IK_ECHO_FAULT_KILL_SERVER) {
				if (e->process)
					raise(SIGKILL);
				ret = -EIO;
			}
		}
	}
out:
	for (j = 0; k && j < n; j++)
		free(k[j].out);
	if (ep >= 0)
		close(ep);
	free(k);
	free(evs);
	free(in);
	return ret;
}
