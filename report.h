/*
 * report.h: a run written out for people and programs: the status table,
 * the plan of a dry run, the JSON report (cJSON) and the human figures
 * they share.  It only formats the model (model.h).
 */
#ifndef KR_REPORT_H
#define KR_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "fmt.h"
#include "model.h"

/*
 * `status`: one line per worker (wno, pid, type, age, memory,
 * continuations, id); wide adds state sessions and heap.
 */
void report_status_table(const struct run_report *r, bool wide, FILE *out);

/* A dry run's plan: the restarts in order, the entries to heal, the top-ups. */
void report_plan(const struct run_report *r, bool top_up, FILE *out);

/* The report as a cJSON tree (the caller deletes it); *failed on OOM. */
struct cJSON;
struct cJSON *report_to_json(const struct run_report *r, bool *failed);

/* One JSON object for --json (status, check and restart alike). */
int report_json(const struct run_report *r, FILE *out, struct kr_err *err);


#endif
