/* SPDX-License-Identifier: MIT */
/*
 * What the echo kernel (kernels/echo.c) shares with its server models,
 * one file each (kernels/echo_<model>.c): the run's state and the serve
 * function every model provides. Private to those files.
 *
 * A model's serve runs in member 0 once every client is accepted (fds in
 * e->sfd[0..nclients-1]) and the crew has passed its start gate. It
 * echoes every byte back on the connection it came from until each
 * client has closed, the crew aborts or something fails; it returns 0
 * or -errno (after ik_crew_fail when the message should say more) and
 * adds the CPU of any thread of its own with ik_crew_add_cpu(cr, 0, ..).
 * The caller closes the connections.
 */
#ifndef IK_ECHO_H
#define IK_ECHO_H

#include "kernels.h"

#define IK_ECHO_WAIT_MS 50 /* server loops look at abort this often */

struct ik_echo_client {
	alignas(IK_CACHELINE) uint64_t count;
	uint64_t t_end_ns;
	_Atomic int fd; /* for unblock, thread mode */
};

struct ik_echo {
	const struct ik_config *cfg;
	const struct ik_timer *timer;
	struct ik_sockaddr addr;
	int (*connect)(const struct ik_sockaddr *a); /* the method's */
	int lfd;
	struct ik_door door;
	unsigned nclients;
	uint64_t cap;	   /* samples per client */
	uint64_t *samples; /* shared: nclients x cap */
	size_t samples_len;
	struct ik_echo_client *cl; /* shared: nclients */
	_Atomic int *sfd;	   /* shared: the server's connection fds */
	size_t buffer; /* the server's read buffer: --buffer, or 64 KiB */
	bool process;  /* members are processes: a fault hook can die */
	enum {
		IK_ECHO_FAULT_NONE,
		IK_ECHO_FAULT_KILL_SERVER,
		IK_ECHO_FAULT_KILL_CLIENT,
		IK_ECHO_FAULT_STALL_SERVER
	} fault;
};

/* The server models, in --server order (ik_server_names). */
int ik_echo_serve_thread(struct ik_crew *cr);
int ik_echo_serve_epoll(struct ik_crew *cr);
int ik_echo_serve_uring(struct ik_crew *cr);

#endif
