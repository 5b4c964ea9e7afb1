/*
 * history_thin.c: the thinning plan (history_thin.h).
 */
#include "history_thin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400.0
#define RECENT DAY              /* newer than this: every run kept */
#define HOURLY_UNTIL (30 * DAY) /* newer than this: one run per hour */
#define HOURLY 3600.0
#define OLDER (6 * 3600.0)      /* before: one per six hours, under the year chart's slot */
#define LEVELS 24               /* doublings: 6 h * 2^23 is beyond any history */

size_t thin_size(const struct thin_line *v, size_t n)
{
	size_t sum = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].keep)
			sum += v[i].out_len;
	return sum;
}

static const struct thin_line *sort_base;

static int by_time(const void *a, const void *b)
{
	const struct thin_line *x = &sort_base[*(const size_t *)a], *y = &sort_base[*(const size_t *)b];

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The bucket of a thinned line at this scale: zone and clock-aligned slot. */
static double bucket(const struct thin_line *l, double newest, double scale, int *zone)
{
	double width;

	*zone = newest - l->time < HOURLY_UNTIL ? 1 : 2;
	width = (*zone == 1 ? HOURLY : OLDER) * scale;
	return floor(l->time / width);
}

/* a is the better pick by that figure: a larger one, or one where b has none. */
static bool better(double a, double b)
{
	return !isnan(a) && (isnan(b) || a > b);
}

/*
 * In each run of lines of one bucket: for each type, the restart with its
 * largest peak (else the first restart), and the line with the most
 * memory available (else the first line).  On ties the earlier line, so a
 * thinned bucket keeps its picks when thinned again.
 */
static void keep_per_bucket(struct thin_line *v, const size_t *order, size_t n, double newest,
			    double scale)
{
	size_t i = 0;

	while (i < n) {
		struct thin_line *first = &v[order[i]], *restart[THIN_TYPES] = { NULL }, *avail = first;
		int zone, z;
		double b = bucket(first, newest, scale, &zone);
		size_t j = i;

		for (; j < n && bucket(&v[order[j]], newest, scale, &z) == b && z == zone; j++) {
			struct thin_line *l = &v[order[j]];

			for (int k = 0; k < THIN_TYPES && l->kind == THIN_RESTART; k++)
				if (restart[k] == NULL || better(l->peak[k], restart[k]->peak[k]))
					restart[k] = l;
			if (better(l->avail, avail->avail))
				avail = l;
		}
		for (int k = 0; k < THIN_TYPES; k++)
			if (restart[k] != NULL)
				restart[k]->keep = true;
		avail->keep = true;
		i = j;
	}
}

/* One level's plan: pinned and recent lines, then one per bucket of the rest. */
static void mark(struct thin_line *v, size_t *order, size_t n, double newest, double scale)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		struct thin_line *l = &v[order[i]];

		l->keep = l->kind == THIN_PINNED ||
			  (l->kind != THIN_DROP && newest - l->time < RECENT / scale);
		if (!l->keep && l->kind != THIN_DROP)
			order[m++] = order[i];
	}
	keep_per_bucket(v, order, m, newest, scale);
}

/* Oldest first, the others before failures and healings, down to the last line. */
static void drop_oldest(struct thin_line *v, size_t n, size_t budget)
{
	size_t size = thin_size(v, n);

	for (int pinned = 0; pinned < 2; pinned++)
		for (size_t i = 0; i + 1 < n && size > budget; i++) {
			if (!v[i].keep || (v[i].kind == THIN_PINNED) != pinned)
				continue;
			v[i].keep = false;
			size -= v[i].out_len;
		}
}

int thin_plan(struct thin_line *v, size_t n, size_t budget)
{
	size_t *sorted, *work;
	double newest = -INFINITY;

	if (n == 0)
		return 0;
	sorted = malloc(n * sizeof *sorted);
	work = malloc(n * sizeof *work);
	if (sorted == NULL || work == NULL) {
		free(sorted);
		free(work);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		sorted[i] = i;
		if (v[i].kind != THIN_DROP && v[i].time > newest)
			newest = v[i].time;
	}
	sort_base = v;
	qsort(sorted, n, sizeof *sorted, by_time);
	for (int level = 0; level < LEVELS; level++) {
		memcpy(work, sorted, n * sizeof *work);
		mark(v, work, n, newest, ldexp(1.0, level));
		if (thin_size(v, n) <= budget)
			break;
	}
	free(sorted);
	free(work);
	v[n - 1].keep = true;
	drop_oldest(v, n, budget);
	return 0;
}
