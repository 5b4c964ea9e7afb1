/*
 * census_report.h: the census and the sweep written out for people and
 * programs.  Only formats the model (model.h).
 */
#ifndef KR_CENSUS_REPORT_H
#define KR_CENSUS_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "jsonw.h"
#include "model.h"

/*
 * `census`: one block per worker: a header line (wno, pid, type, id,
 * continuations, heap in use of heap), the age buckets, the state
 * sessions, then the makers by count (count, share, label).
 */
void census_table(const struct run_report *r, long timeout_mins, FILE *out);

/* status -v: "# worker N (type) continuations by age: ..." for each census taken. */
void census_age_notes(const struct run_report *r, FILE *out);

/* `census --json`: {"site","command","timeout_mins","workers":[...]}. */
int census_json(const struct run_report *r, long timeout_mins, FILE *out, struct kr_err *err);

/* The sweep's ages and one entry per worker swept, into obj. */
void sweep_to_json(struct jb *b, cJSON *obj, const struct run_report *r);

/* `sweep --json`: {"site","command","sweep_conts_s","sweep_sessions_s","workers":[...]}. */
int sweep_json(const struct run_report *r, FILE *out, struct kr_err *err);

#endif
