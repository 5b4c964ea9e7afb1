/*
 * tgrid.c: time slots that double in width as the runs spread out.
 */
#include "tgrid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TG_MAX_CHANNELS 4096

static double fold(enum tg_op op, double a, double b)
{
	if (isnan(a))
		return b;
	if (isnan(b))
		return a;
	if (op == TG_SUM)
		return a + b;
	if (op == TG_MAX)
		return a > b ? a : b;
	return a < b ? a : b;
}

int tgrid_init(struct tgrid *g, size_t nslots)
{
	memset(g, 0, sizeof *g);
	g->nslots = nslots < 2 ? 2 : nslots;
	g->width = 1;
	if (tgrid_channel(g, TG_SUM) != TG_COUNT || tgrid_channel(g, TG_SUM) != TG_TIMES)
		return -1;
	return 0;
}

void tgrid_free(struct tgrid *g)
{
	for (size_t c = 0; c < g->nch; c++)
		free(g->v[c]);
	free(g->v);
	free(g->op);
	memset(g, 0, sizeof *g);
}

int tgrid_channel(struct tgrid *g, enum tg_op op)
{
	double *slots;

	if (g->nch == TG_MAX_CHANNELS)
		return -1;
	if (g->nch == g->capch) {
		size_t cap = g->capch ? g->capch * 2 : 8;
		double **v = realloc(g->v, cap * sizeof *v);
		enum tg_op *o;

		if (v == NULL)
			return -1;
		g->v = v;
		o = realloc(g->op, cap * sizeof *o);
		if (o == NULL)
			return -1;
		g->op = o;
		g->capch = cap;
	}
	slots = malloc(g->nslots * sizeof *slots);
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < g->nslots; i++)
		slots[i] = NAN;
	g->v[g->nch] = slots;
	g->op[g->nch] = op;
	return (int)g->nch++;
}

/* Twice as wide: slots 2i and 2i+1 become slot i. */
static void coarsen(struct tgrid *g)
{
	for (size_t c = 0; c < g->nch; c++) {
		double *v = g->v[c];

		for (size_t i = 0; i < g->nslots / 2; i++)
			v[i] = fold(g->op[c], v[2 * i], v[2 * i + 1]);
		if (g->nslots % 2)
			v[g->nslots / 2] = v[g->nslots - 1];
		for (size_t i = (g->nslots + 1) / 2; i < g->nslots; i++)
			v[i] = NAN;
	}
	g->width *= 2;
	g->lo /= 2;
	g->hi = (g->hi + 1) / 2;
}

/* Move every slot k places later, so the grid starts k slots earlier. */
static void shift(struct tgrid *g, size_t k)
{
	for (size_t c = 0; c < g->nch; c++) {
		memmove(g->v[c] + k, g->v[c], (g->nslots - k) * sizeof(double));
		for (size_t i = 0; i < k; i++)
			g->v[c][i] = NAN;
	}
	g->origin -= (double)k * g->width;
	g->lo += k;
	g->hi += k;
}

size_t tgrid_place(struct tgrid *g, double t)
{
	size_t slot;

	if (!g->started) {
		g->started = 1;
		g->origin = t;
		g->lo = g->hi = 0;
	}
	for (;;) {
		if (t < g->origin) {
			double need = ceil((g->origin - t) / g->width);

			if (need <= (double)(g->nslots - g->hi))
				shift(g, (size_t)need);
			else
				coarsen(g);
			continue;
		}
		if ((t - g->origin) / g->width < (double)g->nslots)
			break;
		coarsen(g);
	}
	slot = (size_t)((t - g->origin) / g->width);
	if (slot >= g->nslots)  /* rounding at the last edge */
		slot = g->nslots - 1;
	if (g->lo == g->hi || slot < g->lo)
		g->lo = slot;
	if (slot + 1 > g->hi)
		g->hi = slot + 1;
	tgrid_put(g, slot, TG_COUNT, 1);
	tgrid_put(g, slot, TG_TIMES, t);
	return slot;
}

void tgrid_put(struct tgrid *g, size_t slot, int ch, double v)
{
	g->v[ch][slot] = fold(g->op[ch], g->v[ch][slot], v);
}

double tgrid_get(const struct tgrid *g, int ch, size_t slot)
{
	return g->v[ch][slot];
}

double tgrid_time(const struct tgrid *g, size_t slot)
{
	double n = g->v[TG_COUNT][slot];

	return isnan(n) ? NAN : g->v[TG_TIMES][slot] / n;
}
