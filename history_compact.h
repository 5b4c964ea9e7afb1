/*
 * history_compact.h: the history file thinned to fit a size, with a new
 * line added, under the file's lock (history_store.h).
 *
 * Lines are classified (history_thin.h), torn and unreadable ones
 * dropped, the kept ones written in order with version 1 lines rewritten
 * in version 2, then the new line; the result replaces the file through a
 * synced temporary file (outfile.h), with the file's mode kept.
 */
#ifndef KR_HISTORY_COMPACT_H
#define KR_HISTORY_COMPACT_H

#include <stddef.h>

#include "err.h"

/*
 * fd: the history file at path, open for reading and locked.  The file
 * with line added comes out at most budget bytes (or the new line alone,
 * when that is larger).  0, or -1 with err.
 */
int history_compact(int fd, const char *path, const char *line, size_t len, size_t budget,
		    struct kr_err *err);

#endif
