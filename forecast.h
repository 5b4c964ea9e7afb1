/*
 * forecast.h: when the host's MemAvailable would fall below a floor if
 * the workers running now kept growing as the history says they grow.
 *
 * Each type's rate is its GROWTH/H from the `history` summary (memory
 * gained per worker per hour, over --since) times its live workers now;
 * the host's is the sum of the types' positive rates.  The time is
 * (MemAvailable - floor) / rate.
 */
#ifndef KR_FORECAST_H
#define KR_FORECAST_H

#include <stdio.h>

#include "history.h"
#include "model.h"

/*
 * Fill r->forecast from r->host, the live workers in r->before and the
 * types' growth g (history_growth).  floor: bytes, 0 for 10% of MemTotal.
 * 0, or -1 when out of memory.
 */
int forecast_compute(struct run_report *r, const struct type_growth *g, size_t ng,
		     long long floor);
void forecast_free(struct forecast *f);

/* The forecast for people: a line for the host, one per running type. */
void forecast_print(const struct forecast *f, FILE *out);

/*
 * Does the forecast reach the floor within seconds?  Then msg says when,
 * and names the fastest-growing type.
 */
bool forecast_within(const struct forecast *f, double seconds, char *msg, size_t size);

#endif
