/* SPDX-License-Identifier: MIT */
/*
 * Echo's thread server (--server thread): a thread per connection, each
 * reading into a preallocated --buffer and writing back what it read,
 * blocking. Each connection thread adds its CPU to the server's.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "echo.h"

struct conn_thread {
	struct ik_crew *cr;
	int fd;
	int ret;
	pthread_t th;
};

/* thread: a thread per connection, a preallocated --buffer, echo it */
static void *conn_main(void *p)
{
	struct conn_thread *t = p;
	struct ik_echo *e = t->cr->arg;
	size_t cap = e->buffer;
	unsigned char *buf = malloc(cap);
	struct ik_cpu_mark mark;
	struct ik_cpu_usage use;
	bool killed = false;

	ik_cpu_mark(&mark);
	t->ret = buf ? 0 : -ENOMEM;
	while (!t->ret) {
		ssize_t r = read(t->fd, buf, cap);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			t->ret = r < 0 ? -errno : 0;
			break;
		}
		t->ret = ik_send_all(t->fd, buf, (size_t)r);
		if (e->fault == IK_ECHO_FAULT_KILL_SERVER && !killed) {
			killed = true;
			if (e->process)
				raise(SIGKILL);
			t->ret = -EIO;
		}
	}
	ik_cpu_since(&mark, &use);
	ik_crew_add_cpu(t->cr, 0, &use);
	free(buf);
	return NULL;
}

int ik_echo_serve_thread(struct ik_crew *cr)
{
	struct ik_echo *e = cr->arg;
	struct conn_thread *t = calloc(e->nclients, sizeof(*t));
	unsigned j, started = 0;
	int ret = t ? 0 : -ENOMEM;

	for (j = 0; !ret && j < e->nclients; j++) {
		t[j] = (struct conn_thread){.cr = cr, .fd = e->sfd[j]};
		if (pthread_create(&t[j].th, NULL, conn_main, &t[j]))
			ret = -EAGAIN;
		else
			started++;
	}
	for (j = 0; j < started; j++) {
		pthread_join(t[j].th, NULL);
		ret = ret ? ret : t[j].ret;
	}
	free(t);
	return ret;
}
