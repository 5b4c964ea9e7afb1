/*
 * chart.h: `history --svg`: the history file as one self-contained SVG
 * picture (no script, no external font or file).
 *
 * Per worker type the memory of its largest worker before each run (the
 * peak) and after it (the trough), which draws the saw-tooth of a leak
 * and its restarts; continuations the same way when the history has them;
 * the host's available memory, swap in use and memory pressure (PSI)
 * when it has them; restarts,
 * failed runs and skipped runs marked on the time axis.  Times are the
 * local time, with the zone named.  The file is streamed once; runs are
 * thinned into at most CHART_SLOTS time slots, so a year of hourly runs
 * gives a file of some hundred kilobytes.
 */
#ifndef KR_CHART_H
#define KR_CHART_H

#include <stdio.h>
#include <time.h>

#include "err.h"

#define CHART_SLOTS 512

/*
 * The chart of the runs in hist_path started at since_epoch or later
 * (0: all) to out_path: "-" is stdout, any other path is replaced whole
 * (written beside it and renamed).  0, or -1 with err.
 */
int chart_svg(const char *hist_path, time_t since_epoch, const char *out_path,
	      struct kr_err *err);

/* The same chart written to out (tests, the fuzzer). */
int chart_write(const char *hist_path, time_t since_epoch, FILE *out, struct kr_err *err);

#endif
