/*
 * tgrid.h: figures over time thinned into a fixed number of time slots,
 * in bounded memory, from runs read in any order.
 *
 * Slot i covers [origin + i * width, origin + (i + 1) * width).  The width
 * starts at one second and doubles (neighbouring slots merged) whenever a
 * run falls outside the slots, so a day of hourly runs keeps one run per
 * slot and a year of them ends with slots of some hours.  Each channel
 * keeps, per slot, the sum, the highest or the lowest of the figures put
 * in it; a slot with none holds NAN.
 */
#ifndef KR_TGRID_H
#define KR_TGRID_H

#include <stddef.h>

enum tg_op { TG_SUM, TG_MAX, TG_MIN };

/* Channels every grid has: runs per slot, and the sum of their times. */
enum { TG_COUNT = 0, TG_TIMES = 1 };

struct tgrid {
	double origin, width;
	size_t nslots;
	size_t lo, hi;          /* slots [lo, hi) hold the runs placed so far */
	int started;
	size_t nch, capch;
	enum tg_op *op;
	double **v;             /* v[channel][slot] */
};

/* 0, or -1 when out of memory (g is then safe to free). */
int tgrid_init(struct tgrid *g, size_t nslots);
void tgrid_free(struct tgrid *g);

/* A new channel's number, or -1 when out of memory. */
int tgrid_channel(struct tgrid *g, enum tg_op op);

/*
 * The slot of a run at time t (finite), counted in TG_COUNT and TG_TIMES.
 * It may merge slots, so earlier slot numbers are stale after it.
 */
size_t tgrid_place(struct tgrid *g, double t);

/* Fold v (finite) into channel ch of slot. */
void tgrid_put(struct tgrid *g, size_t slot, int ch, double v);

/* The slot's figure of channel ch; NAN when the slot holds none. */
double tgrid_get(const struct tgrid *g, int ch, size_t slot);

/* The mean time of the slot's runs; NAN when it holds none. */
double tgrid_time(const struct tgrid *g, size_t slot);

#endif
