/*
 * kahua_grace.h: a worker that keeps serving a moment after SIGTERM.
 *
 * Kahua's supervisor picks a worker for a new session under its lock and
 * connects to it outside the lock; terminate! holds that lock from the
 * worker's SIGTERM until the worker has exited.  So the only requests that
 * can reach a worker after its SIGTERM were picked before it, and a worker
 * that keeps accepting for a short grace after SIGTERM serves them all,
 * where Kahua's own handler exits at once and resets them (HTTP 500).
 *
 * The grace is set by one fixed eval expression (kahua_eval.h) sent just
 * before the command that terminates the worker; its only variable part
 * is the grace, a validated integer of milliseconds.  On the first SIGTERM
 * the new handler starts a thread that sleeps the grace, puts back
 * Kahua's handler (finish-server, the one SIGINT and SIGHUP still have)
 * and sends SIGTERM again; Kahua blocks termination signals while it
 * handles a request, so that one lands between requests.  Later SIGTERMs
 * during the grace (the supervisor also closes the worker's stdin, and
 * its orphan handler raises one) change nothing.  SIGINT and SIGHUP keep
 * Kahua's behaviour.
 */
#ifndef KR_KAHUA_GRACE_H
#define KR_KAHUA_GRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "kahua_ctl.h"

#define GRACE_MAX_MS 10000LL

struct grace_result {
	bool armed;             /* the worker answered (grace 1 MS) */
	char why[200];          /* when not armed: why, in a few words */
};

/* The request for a grace of ms (1 .. GRACE_MAX_MS); -1 if out of range or size too small. */
int kahua_grace_request(char *buf, size_t size, long long ms);

/* Read a worker's reply to the request for ms: armed only on (grace 1 MS). */
void kahua_grace_parse(const char *buf, size_t len, long long ms, struct grace_result *res);

/*
 * Ask each of ws[0..n) at once for a grace of ms, all bounded by
 * deadline_ms; res[i] is filled for ws[i] whatever happens.
 */
void kahua_grace_workers(const struct kahua_site *site, const struct worker *ws, size_t n,
			 long long ms, long long deadline_ms, struct grace_result *res);

#endif
