/*
 * lock.h: one run at a time per site.
 *
 * flock(2) on <run-directory>/kahua-restarter.lock, opened with O_NOFOLLOW
 * so a planted symlink cannot redirect it.  The lock dies with the process,
 * so a crashed run never leaves the site locked.
 */
#ifndef KR_LOCK_H
#define KR_LOCK_H

#include <signal.h>

#include "err.h"

/*
 * Take the lock, waiting up to wait_secs (0: not at all) unless *stop is
 * set.  Returns the descriptor that holds it, or -1 with KR_TEMPFAIL when
 * another run holds it (naming its pid), KR_CANTCREAT when the file
 * cannot be opened.
 */
int site_lock(const char *rundir, double wait_secs, const volatile sig_atomic_t *stop,
	      struct kr_err *err);

#endif
