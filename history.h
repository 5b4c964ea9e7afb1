/*
 * history.h: the history file, one compact JSON report per line, and the
 * `history` summary of it (per type: restarts, failures, memory and
 * continuation growth, a sparkline of peak memory).
 */
#ifndef KR_HISTORY_H
#define KR_HISTORY_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "err.h"
#include "model.h"

/*
 * The run as one line (history_fmt.h) added to the file, which is thinned
 * first when the line would take it past max_size bytes (0: no limit);
 * history_store.h says how.  0, or -1 with err.
 */
int history_append_within(const char *path, const struct run_report *r, long long max_size,
			  struct kr_err *err);
/* The same with no limit. */
int history_append(const char *path, const struct run_report *r, struct kr_err *err);

/*
 * `history`: per worker type, runs, restarts, failures, mean memory at
 * restart, growth in MB/hour and the last failure, from runs newer than
 * since_epoch (0: all).  Streams the file; bad lines are skipped.
 */
int history_summary(const char *path, time_t since_epoch, bool json, FILE *out,
		    struct kr_err *err);

/* One worker type's growth per worker, as the `history` summary shows it. */
struct type_growth {
	char *type;
	double mb_per_hour;     /* MiB per hour, the mean over its restarts */
	long long restarts;     /* restarts that mean is of; 0: no figure */
};

/*
 * The growth figure of every type in the runs newer than since_epoch (0:
 * all), computed exactly as history_summary computes GROWTH/H.  *v
 * (history_growth_free) holds *n types, with or without a figure.
 */
int history_growth(const char *path, time_t since_epoch, struct type_growth **v, size_t *n,
		   struct kr_err *err);
void history_growth_free(struct type_growth *v, size_t n);

#endif
