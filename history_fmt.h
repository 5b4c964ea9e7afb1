/*
 * history_fmt.h: the history line's format, version 3: the JSON report
 * (report.h) with nothing written twice (version 2, below), and short
 * keys, kB and the host by position (history_keys.h).
 *
 *   "v": 3            the version; a line without "v" is a version 1 line,
 *                     the JSON report as it is; "v": 2 is the layout below
 *                     under the report's own keys
 *   "w"               the workers seen in the run, a table: identity only
 *                     (id, number, pid, type, start_time)
 *   "o"               the observations of them, a table: "w" (its row in
 *                     "w") and every other figure (state, age_s, rss_bytes,
 *                     continuations, ...), each distinct observation once
 *   workers_before, workers_after
 *                     lists of rows of "o"; a restart step's "old" and
 *                     "new" are rows of "o" too
 *   every other list of objects (restarts, healed, types, http_checks)
 *                     is a table as well
 *
 * A table is {"c": [column, ...], "r": [[value, ...], ...], "k": {column:
 * value}}: "k" holds the columns equal in every row (absent when none), a
 * row may stop short (the rest is null).  Null members, empty lists and
 * the run's settings at their defaults (command "restart", strategy
 * "rolling", metric "rss", probe "eval", eval true, pss_fallback and
 * dry_run false; in version 3 also outcome "ok", exit_status 0, and
 * memory_freed_bytes when the steps add up to it) are left out; fractions
 * keep six significant digits.
 *
 * Nothing here names a figure: a member the report gains (a per-worker
 * figure in report.c's json_worker, a step's or the run's field) is
 * written and read back with no change to this module, under its report
 * name until history_keys.c gives it a short key.  A new identity field
 * of a worker joins IDENTITY in history_fmt.c.
 */
#ifndef KR_HISTORY_FMT_H
#define KR_HISTORY_FMT_H

#include <stddef.h>

struct cJSON;

#define HFMT_VERSION 3

/* The report (report_to_json) as a version 3 line's object; NULL when out of memory. */
struct cJSON *hfmt_compact(const struct cJSON *report);

/* The same as one line of text ending in a newline (*len bytes); NULL OOM. */
char *hfmt_line(const struct cJSON *report, size_t *len);

/*
 * A line read back in the report's own shape, for the readers: view is
 * the line itself (version 1) or a tree of references into it that
 * hfmt_view_free releases with it.
 */
struct hfmt_view {
	const struct cJSON *run;
	struct cJSON *line;     /* owned: the parsed line */
	struct cJSON *built;    /* owned: the report-shaped tree, NULL for version 1 */
	struct cJSON *store;    /* owned: the expanded observations */
	int version;            /* the line's: 1, 2 or 3 */
};

enum hfmt_rc { HFMT_OK, HFMT_BAD, HFMT_NOMEM };

/*
 * Takes ownership of line (a parsed object).  HFMT_BAD for a version this
 * reader does not know or a table or reference that does not hold
 * together (also one that would expand beyond a bound of len, the line's
 * length); the line is freed then.
 */
enum hfmt_rc hfmt_expand(struct cJSON *line, size_t len, struct hfmt_view *view);
void hfmt_view_free(struct hfmt_view *view);

#endif
