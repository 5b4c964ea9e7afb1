/*
 * history_keys.h: the version 3 history line's schema, one table that the
 * writer and the reader share (history_fmt.h).
 *
 * A version 3 line is a version 2 line with
 *   - every key of the report this table knows written as its short key,
 *     at the top level and in the tables' columns and constants ("c",
 *     "k"); keys it does not know (a figure the report gains later, the
 *     members of "sweep" and "forecast") stay as they are;
 *   - a byte count measured in kB (/proc's unit) written in kB under its
 *     alternate key when it is a whole number of kB: a column when all its
 *     cells are, else the column stays in bytes under its short key; a
 *     worker's start_time likewise in seconds since the run started;
 *   - the host block "h" a list in HOST_FIELDS order (null where a figure
 *     is unknown, the tail of nulls left out) when every member is known
 *     and its byte counts are whole kB, else an object of short keys.
 * What a reader derives is left out too (history_fmt.c): the run's
 * memory_freed_bytes when it is the sum of its steps' gains, outcome "ok"
 * and exit_status 0.
 */
#ifndef KR_HISTORY_KEYS_H
#define KR_HISTORY_KEYS_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

enum hkey_how {
	HK_PLAIN,               /* no alternate unit */
	HK_KB,                  /* bytes, in kB under the alternate key */
	HK_SINCE,               /* a time, in seconds since the run started under the alternate key */
};

struct hkey {
	const char *name;       /* the report's key */
	const char *key;        /* the line's */
	const char *alt;        /* the line's for the figure in its alternate unit, NULL when none */
	enum hkey_how how;
};

extern const struct hkey HKEYS[];
extern const size_t NHKEYS;
extern const char *const HOST_FIELDS[];
extern const size_t NHOST_FIELDS;

enum hkeys_rc { HKEYS_OK, HKEYS_BAD, HKEYS_NOMEM };

/* A version 2 line's object made version 3, in place ("v" is the caller's). */
enum hkeys_rc hkeys_shrink(struct cJSON *line);

/* A version 3 line's object given version 2's keys and units, in place. */
enum hkeys_rc hkeys_grow(struct cJSON *line);

/* The sum of the steps' positive freed_bytes: the run's memory_freed_bytes. */
double hkeys_freed(const struct cJSON *steps);

#endif
