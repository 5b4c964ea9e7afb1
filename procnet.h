/*
 * procnet.h: Unix stream sockets as /proc/net/unix lists them.
 *
 * Every line names one socket: its flags (00010000 for a listening one),
 * its state (01 unconnected or listening, 02 a connection still waiting
 * in a listener's backlog, 03 connected) and, for a bound socket and the
 * connections accepted on it, the path as it was bound.  The file can
 * hold tens of thousands of lines on a busy host: it is read in one pass
 * through a fixed buffer, against a deadline.
 */
#ifndef KR_PROCNET_H
#define KR_PROCNET_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define PROCNET_UNIX "/proc/net/unix"
#define PROCNET_LINE_MAX 512    /* longer lines name no socket path */

/* One socket path and what is on it (out fields from one read). */
struct unix_use {
	const char *path;       /* in: exactly as bound */
	/*
	 * in: > 0 when path may be another process's too (one bound as
	 * /proc/self/fd/N/name reads the same for every site bound that way):
	 * only connections among owner's descriptors count as served.
	 */
	pid_t owner;
	long listening;         /* listening sockets bound to it */
	long served;            /* state 03: connections accepted and being served */
	long queued;            /* state 02: connections waiting to be accepted */
};

/*
 * One pass over file (PROCNET_UNIX outside tests) counting, for each of
 * u[0..n), the lines whose path is exactly u[i].path (served ones owned
 * by u[i].owner when it is set; all of them when its descriptors cannot
 * be read, or are too many to check).  0, or -1 with err
 * set: KR_UNAVAILABLE naming the file when it cannot be read, with cause
 * KR_CAUSE_TIMEOUT when deadline_ms passed first.
 */
int procnet_unix_count(const char *file, struct unix_use *u, size_t n,
		       long long deadline_ms, struct kr_err *err);

/*
 * The path a socket was bound as when its full path does not fit in
 * sun_path and it was bound as /proc/self/fd/N/name instead (N the
 * binder's descriptor of the directory): the listening line whose path
 * ends in "/name" and whose inode is one of pid's descriptors, or, when
 * pid's descriptors cannot be read, the only listening
 * "/proc/self/fd/N/name" line.  0 with out set, or -1 with err set when
 * there is none or several.
 */
int procnet_unix_bound_path(const char *file, const char *name, pid_t pid,
			    char *out, size_t size, long long deadline_ms,
			    struct kr_err *err);

#endif
