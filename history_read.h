/*
 * history_read.h: reading the history file, one JSON report per line, in
 * bounded memory, for the `history` summary and the chart.
 *
 * The reader trusts nothing: a line that is torn, malformed, foreign or
 * huge is counted and skipped; the callbacks see only objects that name a
 * command and a plausible start time.
 */
#ifndef KR_HISTORY_READ_H
#define KR_HISTORY_READ_H

#include <stdbool.h>
#include <time.h>

#include "err.h"

#define HIST_MAX_EPOCH 1e11     /* a time beyond this is not ours */
#define HIST_MAX_BYTES 1e18
#define HIST_LINE_MAX (4 * 1024 * 1024)   /* longer lines are skipped unread */

struct cJSON;

struct history_counts {
	long long lines;        /* lines read, good or bad */
	long long skipped;      /* torn, overlong or unreadable lines */
};

/* Called once per run; returns 0 to go on, -1 when out of memory. */
typedef int history_run_fn(void *ctx, const struct cJSON *run, double started);

/*
 * Streams path (a missing file reads as empty) and calls fn for every
 * restart and sweep run (fn tells them apart by "command"), dry runs left out, started at since or later (0: all), in
 * file order.  0, or -1 with err: KR_DATAERR when the file cannot be read,
 * KR_SOFTWARE when fn or the reader runs out of memory.
 */
int history_scan(const char *path, time_t since, history_run_fn *fn, void *ctx,
		 struct history_counts *counts, struct kr_err *err);

/* Fields of a line: NULL or false when absent or of another JSON type. */
const struct cJSON *jget(const struct cJSON *o, const char *key);
const char *jstring(const struct cJSON *o, const char *key);
/* A finite number within [lo, hi], so later casts and sums stay defined. */
bool jnumber(const struct cJSON *o, const char *key, double lo, double hi, double *out);
/* A worker's memory in bytes: PSS when pss and known, else RSS. */
bool worker_mem(const struct cJSON *w, bool pss, double *out);
/* The run measured PSS ("metric": "pss"). */
bool run_uses_pss(const struct cJSON *run);

#endif
