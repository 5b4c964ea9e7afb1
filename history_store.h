/*
 * history_store.h: the history file on disk, kept whole and bounded.
 *
 * Every writer takes the file's own lock (flock on the file, for a few
 * milliseconds), because not every run that appends holds the site's run
 * lock: a check, or a run the memory gates held back, appends too.  Under
 * it a line is appended with one write(2), after a newline when the file
 * ends in a line torn by a crash; or, when the line would take the file
 * past its limit, the file is thinned (history_thin.h) into a temporary
 * file in the same directory, synced and renamed over it, so a crash
 * leaves the old file or the new one, never a part of either.
 */
#ifndef KR_HISTORY_STORE_H
#define KR_HISTORY_STORE_H

#include <stddef.h>

#include "err.h"

/*
 * Adds line (len bytes, ending in a newline) to the file at path,
 * creating it (mode 0640, never through a symlink).  max_size 0: no
 * limit.  0, or -1 with err (KR_CANTCREAT; KR_SOFTWARE out of memory).
 */
int history_store(const char *path, const char *line, size_t len, long long max_size,
		  struct kr_err *err);

#endif
