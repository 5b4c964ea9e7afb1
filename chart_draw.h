/*
 * chart_draw.h: the chart's picture: title, panels (memory per type, then
 * continuations, the host's memory and its memory pressure when the
 * history has them), the
 * restart and failure marks, and the legend, as one SVG document.
 */
#ifndef KR_CHART_DRAW_H
#define KR_CHART_DRAW_H

#include <stdio.h>

#include "chart_data.h"

/* The picture of d; 0, or -1 when writing to out failed. */
int chart_draw(const struct chart_data *d, FILE *out);

#endif
