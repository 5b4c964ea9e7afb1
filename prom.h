/*
 * prom.h: the run as Prometheus text-format metrics for node_exporter's
 * textfile collector.  Labels stay bounded: per-worker series carry the
 * worker's type and rank, never its id.
 */
#ifndef KR_PROM_H
#define KR_PROM_H

#include "err.h"
#include "model.h"

/*
 * Prometheus text format, written to PATH.tmp and renamed to PATH.  A
 * run the memory gates held back (r->skipped set) keeps PATH's previous
 * series and replaces only kahua_restarter_last_attempt_*.
 */
int prom_write(const char *path, const struct run_report *r, struct kr_err *err);

#endif
