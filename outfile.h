/*
 * outfile.h: a file that readers see whole or not at all.
 *
 * The text goes to PATH.tmp (mode 0644, whatever the umask: the metrics
 * and the chart are read by other users, such as node_exporter or a web
 * server), is synced, and is renamed over PATH; the directory is synced
 * so the rename survives a crash.
 */
#ifndef KR_OUTFILE_H
#define KR_OUTFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* 0, or -1 with err (KR_CANTCREAT, "WHAT PATH: ..."); PATH.tmp is removed. */
int outfile_replace(const char *path, const char *what, const char *text, size_t len,
		    struct kr_err *err);

/* The same with the file's mode (the history keeps 0640), and the directory synced too. */
int outfile_replace_mode(const char *path, const char *what, const char *text, size_t len,
			 mode_t mode, struct kr_err *err);

#endif
