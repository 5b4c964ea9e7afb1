/*
 * forecast.c: the time until MemAvailable reaches a floor at the growth
 * the history shows.  The rates are the history summary's own
 * (history_growth), so `history` and the forecast never disagree.
 */
#include "forecast.h"
#include "fmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)
#define DEFAULT_FLOOR_PCT 10

static const struct type_growth *growth_of(const struct type_growth *g, size_t ng,
					   const char *type)
{
	for (size_t i = 0; i < ng; i++)
		if (strcmp(g[i].type, type) == 0)
			return g[i].restarts > 0 ? &g[i] : NULL;
	return NULL;
}

/* The running types with their live workers; the rest of each entry zero. */
static int live_types(struct forecast *f, const struct worker_obs *v, size_t n)
{
	f->t = calloc(n ? n : 1, sizeof *f->t);
	f->n = 0;
	if (f->t == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		if (v[i].w.state != WORKER_LIVE)
			continue;
		while (k < f->n && strcmp(f->t[k].type, v[i].w.type) != 0)
			k++;
		if (k == f->n)
			snprintf(f->t[f->n++].type, sizeof f->t[0].type, "%s", v[i].w.type);
		f->t[k].workers++;
	}
	return 0;
}

static double seconds_to(const struct forecast *f, double bytes_per_hour)
{
	if (bytes_per_hour <= 0)
		return -1;
	if (f->available <= f->floor)
		return 0;
	return (double)(f->available - f->floor) / bytes_per_hour * 3600.0;
}

static enum forecast_state state_of(const struct forecast *f, bool any_rate)
{
	if (!any_rate)
		return FORECAST_NO_HISTORY;
	if (f->available <= f->floor)
		return FORECAST_BELOW;
	return f->bytes_per_hour > 0 ? FORECAST_GROWING : FORECAST_NOT_GROWING;
}

int forecast_compute(struct run_report *r, const struct type_growth *g, size_t ng,
		     long long floor)
{
	struct forecast *f = &r->forecast;
	bool any_rate = false;

	forecast_free(f);
	f->fastest = -1;
	f->seconds = -1;
	f->available = r->host.available;
	f->floor_default = floor <= 0;
	f->floor = floor > 0 ? floor : r->host.total >= 0 ? r->host.total * DEFAULT_FLOOR_PCT / 100 : -1;
	if (live_types(f, r->before, r->nbefore) < 0)
		return -1;
	for (size_t i = 0; i < f->n; i++) {
		struct forecast_type *t = &f->t[i];
		const struct type_growth *tg = growth_of(g, ng, t->type);

		t->have_rate = tg != NULL;
		t->bytes_per_hour = tg ? tg->mb_per_hour * MIB * (double)t->workers : 0;
		any_rate |= t->have_rate;
		/* A type that shrinks does not make room for the others: count it flat. */
		if (t->bytes_per_hour > 0)
			f->bytes_per_hour += t->bytes_per_hour;
		if (t->bytes_per_hour > 0 && (f->fastest < 0 || t->bytes_per_hour > f->t[f->fastest].bytes_per_hour))
			f->fastest = (long)i;
	}
	if (f->available < 0 || f->floor < 0) {
		f->state = FORECAST_UNKNOWN;
		return 0;
	}
	for (size_t i = 0; i < f->n; i++)
		f->t[i].seconds = seconds_to(f, f->t[i].bytes_per_hour);
	f->state = state_of(f, any_rate);
	/* Below the floor is "now", growing or not. */
	f->seconds = f->state == FORECAST_BELOW ? 0 : seconds_to(f, f->bytes_per_hour);
	return 0;
}

void forecast_free(struct forecast *f)
{
	free(f->t);
	f->t = NULL;
	f->n = 0;
}

/* "in 3h10m at +180.0M/h", "not growing", "no growth figure in the history". */
static void when_text(const struct forecast *f, double secs, double bytes_per_hour, bool have,
		      char *out, size_t size)
{
	char d[32];

	if (!have)
		snprintf(out, size, "no growth figure in the history");
	else if (bytes_per_hour <= 0)
		snprintf(out, size, "not growing");
	else if (f->available <= f->floor)
		snprintf(out, size, "below the floor now, growing %+.1fM/h", bytes_per_hour / MIB);
	else {
		fmt_age((long long)llround(secs), d, sizeof d);
		snprintf(out, size, "reaches the floor in %s at %+.1fM/h", d, bytes_per_hour / MIB);
	}
}

void forecast_print(const struct forecast *f, FILE *out)
{
	char avail[32], floor[32], when[128];

	if (f->state == FORECAST_OFF)
		return;
	if (f->state == FORECAST_UNKNOWN) {
		fprintf(out, "# forecast: not shown: the host's MemAvailable or MemTotal is unknown\n");
		return;
	}
	fmt_bytes(f->available, avail, sizeof avail);
	fmt_bytes(f->floor, floor, sizeof floor);
	when_text(f, f->seconds, f->bytes_per_hour, f->state != FORECAST_NO_HISTORY, when, sizeof when);
	fprintf(out, "# forecast: MemAvailable %s, floor %s%s: host %s\n", avail, floor,
		f->floor_default ? " (10% of MemTotal)" : "", when);
	for (size_t i = 0; i < f->n; i++) {
		const struct forecast_type *t = &f->t[i];

		when_text(f, t->seconds, t->bytes_per_hour, t->have_rate, when, sizeof when);
		fprintf(out, "#   %-16s %3ld worker%s  %s\n", t->type, t->workers,
			t->workers == 1 ? " " : "s", when);
	}
}

/* ", fastest-growing type wiki (2 workers, +40.0M/h)", or "" when none grows. */
static void fastest_text(const struct forecast *f, char *out, size_t size)
{
	const struct forecast_type *t;

	out[0] = '\0';
	if (f->fastest < 0)
		return;
	t = &f->t[f->fastest];
	snprintf(out, size, "; fastest-growing type %s (%ld worker%s, %+.1fM/h)", t->type,
		 t->workers, t->workers == 1 ? "" : "s", t->bytes_per_hour / MIB);
}

bool forecast_within(const struct forecast *f, double seconds, char *msg, size_t size)
{
	char avail[32], floor[32], in[32], within[32], fastest[KAHUA_NAME_MAX + 64];

	if (seconds <= 0 || (f->state != FORECAST_GROWING && f->state != FORECAST_BELOW) ||
	    f->seconds < 0 || f->seconds >= seconds)
		return false;
	fmt_bytes(f->available, avail, sizeof avail);
	fmt_bytes(f->floor, floor, sizeof floor);
	fmt_age((long long)llround(f->seconds), in, sizeof in);
	fmt_age((long long)llround(seconds), within, sizeof within);
	fastest_text(f, fastest, sizeof fastest);
	if (f->state == FORECAST_BELOW)
		snprintf(msg, size, "forecast: MemAvailable %s is below the floor %s now%s", avail,
			 floor, f->fastest < 0 ? "; no type is growing" : fastest);
	else
		snprintf(msg, size, "forecast: MemAvailable %s reaches the floor %s in %s (within %s) "
			 "at %+.1fM/h%s", avail, floor, in, within, f->bytes_per_hour / MIB, fastest);
	return true;
}
