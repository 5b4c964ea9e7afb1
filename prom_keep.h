/*
 * prom_keep.h: what a run the memory gates held back keeps of the
 * previous --prom textfile.
 *
 * Such a run sees no worker, so the figures of the last run that did
 * stand (graphs and predict_linear() keep their series); only the
 * families the held-back run describes itself are replaced.
 */
#ifndef KR_PROM_KEEP_H
#define KR_PROM_KEEP_H

#include <stddef.h>

/*
 * The text of PATH without the samples, HELP and TYPE lines of the
 * families named in DROP (NULL-terminated), ending in a newline; *len
 * set, the caller frees.  NULL when there is nothing to keep: the file
 * is missing, unreadable or too large (said at -v, never an error: the
 * run writes its own figures all the same).
 */
char *prom_kept(const char *path, const char *const *drop, size_t *len);

#endif
