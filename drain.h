/*
 * drain.h: waiting until a worker has nothing in flight, before the
 * supervisor is asked to terminate it.
 *
 * A Kahua worker that gets SIGTERM finishes the request it is serving
 * and exits; the connections still queued on its socket are reset, and
 * each becomes an HTTP 500 at the front.  Requests that waited on the
 * supervisor's lock while a worker booted are handed out all at once when
 * it is released, so a worker terminated right after a restart or a run
 * is the one most likely to have a queue.  /proc/net/unix shows the
 * queue: the worker is idle when its socket path has no connection served
 * (state 03) or queued (state 02), and nothing waits in the supervisor
 * when its own socket has no connection that is neither queued in its
 * backlog nor already passed on to a worker.
 */
#ifndef KR_DRAIN_H
#define KR_DRAIN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "kahua_ctl.h"

/*
 * Idle on every read over this long (and this many reads) is drained.
 * /proc/net/unix is not one snapshot: a request passed from the
 * supervisor to the worker while the file is read can be missed once, so
 * a few reads are needed.  A request the supervisor holds and has not yet
 * passed on shows as pending, so the window need not outlast it.
 */
#define DRAIN_QUIET_MS 5
#define DRAIN_QUIET_READS 3
#define DRAIN_POLL_MS 2

struct drain_req {
	const struct kahua_site *site;
	pid_t spvr_pid;
	const struct worker_list *workers;  /* the latest ls: the site's workers */
	const struct worker *w;             /* the worker to drain */
	double limit_s;                     /* --drain-timeout; 0: do not wait */
	long long deadline_ms;              /* the run's */
	const volatile sig_atomic_t *stop;
	/* Control connections of our own open on the supervisor's socket. */
	int own_conns;
};

struct drain_result {
	bool drained;           /* seen idle over the quiet window in time */
	double ms;              /* time spent draining */
	long served, queued;    /* on the worker's socket, at the last read */
	long pending;           /* waiting in the supervisor, at the last read; -1 unseen */
	char why[KR_ERR_MSG_MAX + 64]; /* not drained: why */
};

/*
 * Wait until q->w is idle and nothing waits in the supervisor, or until
 * the limit, the run's deadline or a stop.  Never fails: a socket that
 * cannot be watched is reported in r->why and not waited for.
 */
void drain_worker(const struct drain_req *q, struct drain_result *r);

#endif
