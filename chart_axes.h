/*
 * chart_axes.h: the chart's geometry and the helpers its drawing code
 * shares: text from the history made safe for XML, local times, value
 * scales and the time axis (chart_axes.c).
 */
#ifndef KR_CHART_AXES_H
#define KR_CHART_AXES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "chart_data.h"

#define W 1200.0                /* picture width */
#define LEFT 92.0               /* room for the value axis labels */
#define RIGHT 28.0
#define PLOT_W (W - LEFT - RIGHT)

struct canvas {
	FILE *f;
	const struct chart_data *d;
	double t0, t1;          /* the time axis */
	double gap;             /* a longer pause between runs breaks a line */
	double top, bottom;     /* of all panels */
	double seg[5][2];       /* top and bottom of each panel and the event rows */
	size_t nseg;
	bool thinned;           /* some slot holds more than one run */
};

struct scale {
	double top;             /* the value at the top of the panel */
	double step;            /* between grid lines */
	double unit;            /* divisor for labels */
	const char *suffix;
};

struct panel {
	double top, h;
	struct scale s;
};

/* A string from the history as XML character data, at most max characters. */
void put_text(FILE *f, const char *s, size_t max);

/* t in the local time by strftime's fmt; "?" when it has no calendar date. */
void local_fmt(double t, const char *fmt, char *out, size_t size);

/* "CET", or "CET/CEST" when t0 to t1 crosses a change of zone. */
void zone_name(double t0, double t1, char *out, size_t size);

/* 8760 as "8,760". */
void fmt_count(long long n, char *out, size_t size);

/* A scale from 0 over vmax with about five steps, in bytes or counts. */
struct scale make_scale(double vmax, bool bytes);

double x_of(const struct canvas *c, double t);
double y_of(const struct panel *p, double v);

/* A vertical line at x through each panel, not through their titles. */
void vline(const struct canvas *c, double x, const char *style);

/* Ticks, grid lines and dates in the local time under the panels, at y. */
void time_axis(const struct canvas *c, double y);

#endif
