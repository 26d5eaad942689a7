/* SPDX-License-Identifier: MIT */
/*
 * ipckern: the few definitions every folder shares. Each folder has one
 * header of its own for its surface; this one only holds units, the cache
 * line size and the peer naming that all of them speak.
 */
#ifndef IK_H
#define IK_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IK_VERSION     "0.1.0"
#define IK_CACHELINE   64
#define IK_NS_PER_SEC  1000000000ULL
#define IK_NS_PER_USEC 1000ULL

#define ik_likely(x)	 __builtin_expect(!!(x), 1)
#define ik_unlikely(x)	 __builtin_expect(!!(x), 0)
#define IK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The two peers of a channel. Side A starts each round trip and owns the
 * clock; side B answers. A stream kernel makes A the sender.
 */
enum ik_side { IK_SIDE_A = 0, IK_SIDE_B = 1 };

/* Two threads of one process, or two processes forked after setup. */
enum ik_mode { IK_MODE_THREAD = 0, IK_MODE_PROCESS = 1 };

/*
 * How a waiting peer waits where the transport lets us choose (spsc,
 * line): ipc/wait.c names them and says which this machine can run.
 */
enum ik_wait {
	IK_WAIT_SPIN = 0,    /* pause, poll again */
	IK_WAIT_FUTEX = 1,   /* FUTEX_WAIT at once */
	IK_WAIT_HYBRID = 2,  /* spin --spin-budget, then FUTEX_WAIT */
	IK_WAIT_YIELD,	     /* sched_yield, poll again */
	IK_WAIT_FUTEX_WAITV, /* futex_waitv(2) on one word (5.16+) */
	IK_WAIT_URING_FUTEX, /* io_uring FUTEX_WAIT/WAKE (6.7+) */
	IK_WAIT_URING_POLL,  /* io_uring multishot poll on an eventfd */
	IK_WAIT_UMWAIT,	     /* UMONITOR/UMWAIT (WAITPKG) */
	IK_WAIT_TPAUSE,	     /* TPAUSE (WAITPKG), timed, poll again */
	IK_WAIT_MWAITX,	     /* MONITORX/MWAITX (AMD) */
	IK_NWAITS
};

const char *ik_mode_name(enum ik_mode m);
const char *ik_wait_name(enum ik_wait w);

/*
 * The number syntax of every numeric option and of --assert: decimal
 * digits with an optional fraction and exponent ("12", "0.5", ".5",
 * "2e-3"). No sign, hex, inf or nan, which strtod alone also takes. *v
 * gets the value, *end the character after the number (a unit, say).
 * 0; -EINVAL: no such number starts s; -ERANGE: it overflows a double.
 */
int ik_parse_decimal(const char *s, double *v, const char **end);

/*
 * Read an input file whole without ever blocking or reading without end:
 * only a regular file is opened (stat first, so a device is never opened;
 * O_NONBLOCK, so a FIFO swapped in meanwhile cannot block; fstat after,
 * the check that counts) and at most cap bytes are read. On 0, *buf
 * (NUL-terminated, the caller frees it) and *len. -EINVAL: not a regular
 * file, *mode says what it is (ik_file_kind); -EFBIG: over cap; -ENOMEM;
 * any other -errno: it could not be opened (*reading false) or read.
 */
int ik_read_regular(const char *path, size_t cap, char **buf, size_t *len,
		    unsigned *mode, bool *reading);
/* "a directory", "a FIFO", ... for a mode that is not a regular file. */
const char *ik_file_kind(unsigned mode);

#endif
