/* SPDX-License-Identifier: MIT */
/*
 * vsock: an AF_VSOCK stream over the local CID (VMADDR_CID_LOCAL), the
 * path a guest agent and its host side take, looped back in one kernel
 * by the vsock_loopback transport. Where that module is not loaded the
 * method is unavailable and says so; ipckern never loads a module (and
 * does not even open an AF_VSOCK socket then, which could autoload the
 * core). A listener on a port the kernel picks, side A connects, and
 * side B is the accepted connection whose peer is A's own port; anyone
 * else is closed unanswered and counted (ch->strangers). The listener is
 * closed once the pair is connected; messages are framed as on uds.
 */
#define _GNU_SOURCE
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

#define LOOPBACK_MODULE	 "/sys/module/vsock_loopback"
#define OWN_PEER_WAIT_MS 10000

static const char *vsock_unavailable(const struct ik_chan_params *p)
{
	(void)p;
	if (access(LOOPBACK_MODULE, F_OK) < 0)
		return "the vsock_loopback module is not loaded (ipckern "
		       "loads none: modprobe vsock_loopback)";
	return NULL;
}

/* B: the connection whose peer is A's port, strangers dropped. */
static int accept_own(struct ik_channel *ch, int lfd, unsigned port)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int waited = 0;

	for (;;) {
		struct sockaddr_vm peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &pl,
				 SOCK_CLOEXEC);

		if (fd >= 0 && pl >= sizeof(peer) && peer.svm_port == port &&
		    peer.svm_cid == VMADDR_CID_LOCAL)
			return fd;
		if (fd >= 0) {
			close(fd);
			ch->strangers++;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			return -errno;
		if (waited >= OWN_PEER_WAIT_MS)
			return -ETIMEDOUT;
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			return -errno;
		waited += 100;
	}
}

static int vsock_setup(struct ik_channel *ch)
{
	struct ik_fds *f;
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK,
				 .svm_cid = VMADDR_CID_LOCAL,
				 .svm_port = VMADDR_PORT_ANY},
			   me;
	socklen_t sl = sizeof(sa), ml = sizeof(me);
	int lfd = -1, a = -1, b, ret, s;

	if (vsock_unavailable(&ch->p))
		return -EOPNOTSUPP;
	if (!(f = ik_fds_new()))
		return -ENOMEM;
	ch->priv = f;
	lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail_errno;
	ik_listening((struct sockaddr *)&sa, sl);
	a = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* blocking: the kernel completes it from the listener's backlog */
	if (a < 0 || connect(a, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(a, (struct sockaddr *)&me, &ml) < 0)
		goto fail_errno;
	if ((b = accept_own(ch, lfd, me.svm_port)) < 0) {
		ret = b;
		goto fail;
	}
	close(lfd);
	f->rd[0] = f->wr[0] = a;
	f->rd[1] = f->wr[1] = b;
	for (s = 0; s < 2; s++)
		if ((ret = ik_sock_buffers(ch, s ? b : a)))
			goto fail_pair;
	return 0;
fail_errno:
	ret = -errno;
fail:
	if (a >= 0)
		close(a);
	if (lfd >= 0)
		close(lfd);
	ik_fds_teardown(ch);
	return ret;
fail_pair:
	ik_fds_teardown(ch); /* closes a and b */
	return ret;
}

const struct ik_transport_ops ik_vsock_ops = {
	.name = "vsock",
	.summary = "AF_VSOCK stream over VMADDR_CID_LOCAL (vsock_loopback)",
	.doc = "AF_VSOCK stream over the local CID (needs the "
	       "`vsock_loopback` module, never loaded by ipckern; the "
	       "`scripts/vm` guests load it)",
	.setup_hint = "needs the vsock_loopback module loaded",
	.setup = vsock_setup,
	.open_side = ik_fds_open_side,
	.send = ik_sock_send,
	.recv = ik_sock_recv,
	.teardown = ik_fds_teardown,
	.unavailable = vsock_unavailable,
};
