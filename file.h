/*
 * file.h: reading a small regular file whole, with a size bound.
 *
 * Configuration, app-servers and pid files are read this one way: a
 * short read is retried to the end, a file that is not regular or is
 * larger than asked is refused, and the caller phrases the error with
 * its own path and status.
 */
#ifndef KR_FILE_H
#define KR_FILE_H

#include <stddef.h>

/*
 * The file's bytes, NUL-terminated, *len set; the caller frees.  NULL
 * with *why set ("No such file or directory", "not a regular file",
 * "larger than 1 MiB", "out of memory", ...) and errno kept from the call
 * that failed, so a caller can tell a missing file (ENOENT) apart.
 */
char *file_read_small(const char *path, size_t max, size_t *len, const char **why);

#endif
