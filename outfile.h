/*
 * outfile.h: a file that readers see whole or not at all.
 *
 * The text goes to PATH.tmp (mode 0644, whatever the umask: the metrics
 * and the chart are read by other users, such as node_exporter or a web
 * server), is synced, and is renamed over PATH.
 */
#ifndef KR_OUTFILE_H
#define KR_OUTFILE_H

#include <stddef.h>

#include "err.h"

/* 0, or -1 with err (KR_CANTCREAT, "WHAT PATH: ..."); PATH.tmp is removed. */
int outfile_replace(const char *path, const char *what, const char *text, size_t len,
		    struct kr_err *err);

#endif
