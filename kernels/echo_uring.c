/* SPDX-License-Identifier: MIT */
/*
 * Echo's io_uring server (--server io_uring): one thread, one ring,
 * reads and writes on registered buffers (IORING_OP_READ_FIXED /
 * WRITE_FIXED), one buffer of --buffer bytes per connection. Registered
 * buffers are pinned memory, so RLIMIT_MEMLOCK may refuse them: the
 * failure says so.
 */
#include <liburing.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"

/* io_uring: user_data is connection << 1 | (1 for a write) */
static void uring_read(struct io_uring *r, struct ik_echo *e,
		       const struct iovec *iov, unsigned j)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(r);

	io_uring_prep_read_fixed(sqe, e->sfd[j], iov[j].iov_base,
				 (unsigned)iov[j].iov_len, 0, (int)j);
	io_uring_sqe_set_data64(sqe, (uint64_t)j << 1);
}

static void uring_write(struct io_uring *r, struct ik_echo *e,
			const struct iovec *iov, unsigned j, size_t off,
			size_t len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(r);

	io_uring_prep_write_fixed(sqe, e->sfd[j],
				  (unsigned char *)iov[j].iov_base + off,
				  (unsigned)(len - off), 0, (int)j);
	io_uring_sqe_set_data64(sqe, (uint64_t)j << 1 | 1);
}

int ik_echo_serve_uring(struct ik_crew *cr)
{
	struct ik_echo *e = cr->arg;
	unsigned n = e->nclients, live = n, j;
	size_t cap = e->buffer;
	struct iovec *iov = calloc(n, sizeof(*iov));
	size_t *len = calloc(n, sizeof(*len)), *off = calloc(n, sizeof(*off));
	unsigned char *mem = NULL;
	struct io_uring ring;
	bool ring_ok = false;
	int ret;

	if (!iov || !len || !off ||
	    posix_memalign((void **)&mem, 4096, n * cap)) {
		ret = -ENOMEM;
		goto out;
	}
	for (j = 0; j < n; j++)
		iov[j] = (struct iovec){mem + j * cap, cap};
	ret = io_uring_queue_init(2 * n + 8, &ring, 0);
	if (ret) {
		ik_crew_fail(cr, 0, ret, "server: io_uring_queue_init: %s",
			     strerror(-ret));
		goto out;
	}
	ring_ok = true;
	/* registered buffers are pinned: RLIMIT_MEMLOCK may refuse them */
	ret = io_uring_register_buffers(&ring, iov, n);
	if (ret) {
		ik_crew_fail(cr, 0, ret,
			     "server: io_uring_register_buffers (%u x %zu "
			     "B): %s (RLIMIT_MEMLOCK?)",
			     n, cap, strerror(-ret));
		goto out;
	}
	for (j = 0; j < n; j++)
		uring_read(&ring, e, iov, j);
	while (live && !ik_crew_aborted(cr)) {
		struct __kernel_timespec ts = {0, IK_ECHO_WAIT_MS * 1000000LL};
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts,
						       NULL);
		if (ret == -ETIME || ret == -EINTR) {
			ret = 0;
			continue;
		}
		if (ret < 0)
			break;
		ret = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			seen++;
			j = (unsigned)(ud >> 1);
			if (res == -EINTR || res == -EAGAIN) {
				if (ud & 1)
					uring_write(&ring, e, iov, j, off[j],
						    len[j]);
				else
					uring_read(&ring, e, iov, j);
				continue;
			}
			if (res < 0) {
				ret = res;
				break;
			}
			if (!(ud & 1) && res == 0) { /* the client closed */
				live--;
				continue;
			}
			if (!(ud & 1)) {
				len[j] = (size_t)res;
				off[j] = 0;
				uring_write(&ring, e, iov, j, 0, len[j]);
			} else if ((off[j] += (size_t)res) < len[j]) {
				uring_write(&ring, e, iov, j, off[j], len[j]);
			} else {
				uring_read(&ring, e, iov, j);
			}
			if (e->fault == IK_ECHO_FAULT_KILL_SERVER) {
				if (e->process)
					raise(SIGKILL);
				ret = -EIO;
				break;
			}
		}
		io_uring_cq_advance(&ring, seen);
		if (ret)
			break;
	}
out:
	if (ring_ok)
		io_uring_queue_exit(&ring);
	free(mem);
	free(iov);
	free(len);
	free(off);
	return ret;
}
