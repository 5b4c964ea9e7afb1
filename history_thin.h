/*
 * history_thin.h: which lines of a history file to keep so that it fits
 * a size, the oldest thinned first.
 *
 * Failed runs and runs that healed dead or broken entries are always
 * kept; every run of the last day is kept; older runs are thinned per
 * bucket of an hour up to 30 days back and of six hours before that, to
 * the runs that restarted workers with each type's largest worker before
 * them (the peaks, and the troughs after them, the chart draws: often one
 * run for all types) and the run that found the most memory available
 * (the top of the host's band).  Buckets are aligned to the
 * clock, not to the newest run, so thinning a thinned file again keeps
 * the same runs.  When that does not fit, the buckets double and the
 * last-day window halves until it does; when even that does not fit, the
 * oldest lines go, failures and healings last, down to the newest line,
 * which always stays.
 */
#ifndef KR_HISTORY_THIN_H
#define KR_HISTORY_THIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define THIN_TYPES 8     /* types whose peaks are kept, as many as the chart draws */

enum thin_kind {
	THIN_DROP,              /* unreadable, torn or foreign: never kept */
	THIN_PLAIN,             /* a run that restarted nothing */
	THIN_RESTART,           /* a run that restarted workers */
	THIN_PINNED             /* a failure or a healing: always kept */
};

struct thin_line {
	off_t off;              /* where it starts in the file */
	size_t len;             /* its bytes, newline included */
	size_t out_len;         /* its bytes once written (a version 1 line is rewritten) */
	double time;            /* started, epoch seconds */
	double peak[THIN_TYPES]; /* per type, its largest worker's memory before, NAN unknown */
	double avail;           /* the host's MemAvailable, NAN unknown */
	enum thin_kind kind;
	bool rewrite;           /* a line of an older version, written anew in the current one */
	bool keep;              /* thin_plan's answer */
};

/*
 * Sets keep on lines v[0..n) (in file order; the last, the line being
 * added, always stays) so that
 * the kept lines' out_len add up to at most budget, or to the last
 * line's alone when that is larger.  0, or -1 out of memory.
 */
int thin_plan(struct thin_line *v, size_t n, size_t budget);

/* The kept lines' out_len added up. */
size_t thin_size(const struct thin_line *v, size_t n);

#endif
