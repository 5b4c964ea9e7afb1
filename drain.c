/*
 * drain.c: watching a worker's socket in /proc/net/unix until it is idle.
 */
#include "drain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "clock.h"
#include "procnet.h"

#define SPVR_SOCKET "kahua"
#define LONG_PREFIX "/proc/self/fd/"
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* Slot 0 the worker, 1 the supervisor, then the site's other workers. */
struct watch {
	struct unix_use *u;
	char **paths;
	size_t n;
	bool see_spvr;          /* every socket of the site resolved */
};

/*
 * The path name's socket was bound as.  A full path that fits in
 * sun_path is bound as it is (Kahua cannot bind a longer one at all); a
 * longer one can only have been bound through /proc/self/fd of the
 * socket directory, which is how it then shows.
 */
static char *bound_path(const struct kahua_site *site, const char *name, pid_t pid,
			long long deadline_ms, struct kr_err *err)
{
	char *path = kahua_sock_path(site, name);
	char out[SUN_PATH_MAX];

	if (path == NULL) {
		kr_fail(err, KR_SOFTWARE, "out of memory");
		return NULL;
	}
	if (strlen(path) < SUN_PATH_MAX)
		return path;
	free(path);
	if (procnet_unix_bound_path(PROCNET_UNIX, name, pid, out, sizeof out, deadline_ms, err) < 0)
		return NULL;
	path = strdup(out);
	if (path == NULL)
		kr_fail(err, KR_SOFTWARE, "out of memory");
	return path;
}

static void watch_free(struct watch *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->paths[i]);
	free(w->paths);
	free(w->u);
}

/* -1 when the worker's own socket cannot be watched (err says why). */
static int watch_init(struct watch *wa, const struct drain_req *q, long long deadline_ms,
		      struct kr_err *err)
{
	size_t cap = q->workers->n + 2;
	struct kr_err ignored;

	memset(wa, 0, sizeof *wa);
	wa->u = calloc(cap, sizeof *wa->u);
	wa->paths = calloc(cap, sizeof *wa->paths);
	if (wa->u == NULL || wa->paths == NULL) {
		watch_free(wa);
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	}
	wa->u[wa->n].owner = q->w->pid;
	wa->paths[wa->n++] = bound_path(q->site, q->w->wid, q->w->pid, deadline_ms, err);
	if (wa->paths[0] == NULL) {
		watch_free(wa);
		return -1;
	}
	wa->u[wa->n].owner = q->spvr_pid;
	wa->paths[wa->n++] = bound_path(q->site, SPVR_SOCKET, q->spvr_pid, deadline_ms, &ignored);
	wa->see_spvr = wa->paths[1] != NULL;
	for (size_t i = 0; i < q->workers->n && wa->see_spvr; i++) {
		const struct worker *o = &q->workers->v[i];

		if (strcmp(o->wid, q->w->wid) == 0)
			continue;
		wa->u[wa->n].owner = o->pid;
		wa->paths[wa->n] = bound_path(q->site, o->wid, o->pid, deadline_ms, &ignored);
		wa->see_spvr = wa->paths[wa->n++] != NULL;
	}
	for (size_t i = 0; i < wa->n; i++) {
		wa->u[i].path = wa->paths[i] ? wa->paths[i] : "";
		/* Every site bound through /proc/self/fd reads alike: tell them by owner. */
		if (strncmp(wa->u[i].path, LONG_PREFIX, strlen(LONG_PREFIX)) != 0)
			wa->u[i].owner = 0;
	}
	return 0;
}

/*
 * Requests the supervisor holds that no worker has yet: those in its
 * backlog, and those it accepted beyond the connections the workers have
 * (each request it passes on is one connection on a worker's socket).
 */
static long pending(const struct watch *wa, int own)
{
	long passed_on = 0, held;

	if (!wa->see_spvr)
		return -1;
	for (size_t i = 0; i < wa->n; i++)
		if (i != 1)
			passed_on += wa->u[i].served + wa->u[i].queued;
	/*
	 * Our own connection is one of those served, or still queued (then
	 * it is counted there, and the wait goes on until it is accepted).
	 */
	held = wa->u[1].served - own - passed_on;
	return wa->u[1].queued + (held > 0 ? held : 0);
}

static void not_drained(struct drain_result *r, const char *fmt, const char *what)
{
	r->drained = false;
	snprintf(r->why, sizeof r->why, fmt, what);
}

static void watch_loop(const struct drain_req *q, struct watch *wa, long long t0,
		       struct drain_result *r)
{
	long long limit_at = kr_earlier(q->deadline_ms, t0 + kr_ms(q->limit_s));
	long long quiet_since = -1;
	int quiet_reads = 0, reads = 0;
	struct kr_err err;

	for (;;) {
		long long now;

		if (procnet_unix_count(PROCNET_UNIX, wa->u, wa->n, limit_at, &err) < 0) {
			/* A read the limit cut short says nothing new: report the last. */
			if (err.cause == KR_CAUSE_TIMEOUT && reads > 0)
				break;
			not_drained(r, "%s", err.msg);
			return;
		}
		now = kr_now_ms();
		reads++;
		r->served = wa->u[0].served;
		r->queued = wa->u[0].queued;
		r->pending = pending(wa, q->own_conns);
		if (r->served + r->queued > 0 || r->pending > 0) {
			quiet_since = -1;
			quiet_reads = 0;
		} else {
			if (quiet_since < 0)
				quiet_since = now;
			if (++quiet_reads >= DRAIN_QUIET_READS && now - quiet_since >= DRAIN_QUIET_MS) {
				r->drained = true;
				return;
			}
		}
		if (q->stop != NULL && *q->stop) {
			not_drained(r, "%s", "stopped by a signal");
			return;
		}
		if (now >= limit_at)
			break;
		kr_sleep_until(kr_earlier(limit_at, now + DRAIN_POLL_MS), q->stop);
	}
	snprintf(r->why, sizeof r->why,
		 "still busy after %gs (%ld served, %ld queued, %ld waiting in the supervisor)",
		 q->limit_s, r->served, r->queued, r->pending > 0 ? r->pending : 0);
}

void drain_worker(const struct drain_req *q, struct drain_result *r)
{
	long long t0 = kr_now_ms();
	struct watch wa;
	struct kr_err err;

	memset(r, 0, sizeof *r);
	r->pending = -1;
	if (q->limit_s <= 0) {
		not_drained(r, "%s", "draining is off (--drain-timeout 0)");
		return;
	}
	if (watch_init(&wa, q, kr_earlier(q->deadline_ms, t0 + kr_ms(q->limit_s)), &err) < 0) {
		not_drained(r, "its socket cannot be watched: %s", err.msg);
		r->ms = (double)(kr_now_ms() - t0);
		return;
	}
	watch_loop(q, &wa, t0, r);
	r->ms = (double)(kr_now_ms() - t0);
	watch_free(&wa);
}
