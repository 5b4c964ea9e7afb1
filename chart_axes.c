/*
 * chart_axes.c: the chart's text and axes: strings from the history made
 * safe for XML, local times and zones, value scales in KiB, MiB or GiB,
 * and a time axis with calendar ticks (hours, days, months) in the local
 * time, so DST changes and month lengths fall where a person expects.
 */
#include "chart_axes.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define MAX_TICKS 13

void vline(const struct canvas *c, double x, const char *style)
{
	fputs("<path d=\"", c->f);
	for (size_t i = 0; i < c->nseg; i++)
		fprintf(c->f, "M%.1f,%.1fV%.1f", x, c->seg[i][0], c->seg[i][1]);
	fprintf(c->f, "\" %s/>\n", style);
}

/* ---- text ---- */

/* The length of the UTF-8 sequence at p and its code point; 0 when invalid. */
static size_t utf8_char(const unsigned char *p, uint32_t *cp)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
		*cp = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		*cp = p[0] & 0x0F;
		lo = p[0] == 0xE0 ? 0xA0 : 0x80;
		hi = p[0] == 0xED ? 0x9F : 0xBF;        /* no surrogates */
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		*cp = p[0] & 0x07;
		lo = p[0] == 0xF0 ? 0x90 : 0x80;
		hi = p[0] == 0xF4 ? 0x8F : 0xBF;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (i > 1 && (p[i] < 0x80 || p[i] > 0xBF))
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3F);
	}
	return n;
}

/* Characters XML 1.0 allows, less the controls nobody means to show. */
static bool shown(uint32_t cp)
{
	return cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0) && cp != 0xFFFE &&
	       cp != 0xFFFF;
}

/* A string from the history as character data, at most max characters. */
void put_text(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t count = 0;

	while (*p != '\0' && count++ < max) {
		uint32_t cp;
		size_t n = utf8_char(p, &cp);

		if (n == 0 || !shown(cp))
			fputc('?', f);
		else if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&apos;", f);
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
	if (*p != '\0')
		fputs("\xE2\x80\xA6", f);       /* an ellipsis: the rest was cut */
}

/* Local time; "?" when the time has no calendar date. */
void local_fmt(double t, const char *fmt, char *out, size_t size)
{
	time_t tt;
	struct tm tm;

	if (!(fabs(t) < 1e15)) {        /* NAN, or beyond any calendar */
		snprintf(out, size, "?");
		return;
	}
	tt = (time_t)t;
	if (localtime_r(&tt, &tm) == NULL || strftime(out, size, fmt, &tm) == 0)
		snprintf(out, size, "?");
}

/* "CET", or "CET/CEST" when the span crosses a change of zone. */
void zone_name(double t0, double t1, char *out, size_t size)
{
	char a[32], b[32];

	local_fmt(t0, "%Z", a, sizeof a);
	local_fmt(t1, "%Z", b, sizeof b);
	if (strcmp(a, b) == 0)
		snprintf(out, size, "%s", a);
	else
		snprintf(out, size, "%s/%s", a, b);
}

/* 8760 as "8,760". */
void fmt_count(long long n, char *out, size_t size)
{
	char digits[32];
	size_t len, o = 0;

	snprintf(digits, sizeof digits, "%lld", n < 0 ? 0 : n);
	len = strlen(digits);
	for (size_t i = 0; i < len && o + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* ---- scales ---- */

double x_of(const struct canvas *c, double t)
{
	return LEFT + (t - c->t0) / (c->t1 - c->t0) * PLOT_W;
}

static double nice_step(double raw)
{
	double mag = pow(10, floor(log10(raw))), norm = raw / mag;

	if (norm <= 1)
		return mag;
	if (norm <= 2)
		return 2 * mag;
	if (norm <= 2.5)
		return 2.5 * mag;
	if (norm <= 5)
		return 5 * mag;
	return 10 * mag;
}

/* A scale from 0 over vmax with about five steps, in bytes or counts. */
struct scale make_scale(double vmax, bool bytes)
{
	struct scale s = { 0, 0, 1, "" };
	double v;

	if (bytes && vmax >= 2.0 * 1024 * 1024 * 1024) {
		s.unit = 1024.0 * 1024 * 1024;
		s.suffix = " GiB";
	} else if (bytes && vmax >= 2.0 * 1024 * 1024) {
		s.unit = 1024.0 * 1024;
		s.suffix = " MiB";
	} else if (bytes) {
		s.unit = 1024.0;
		s.suffix = " KiB";
	} else if (vmax >= 2e6) {
		s.unit = 1e6;
		s.suffix = "M";
	} else if (vmax >= 2e4) {
		s.unit = 1e3;
		s.suffix = "k";
	}
	v = vmax / s.unit;
	s.step = nice_step(v > 0 && isfinite(v) ? v / 5 : 1);
	s.top = ceil(v / s.step) * s.step;
	if (!(s.top > 0))
		s.top = s.step;
	s.step *= s.unit;
	s.top *= s.unit;
	return s;
}

double y_of(const struct panel *p, double v)
{
	double y = p->top + p->h - v / p->s.top * p->h;

	return y < p->top ? p->top : y;
}

/* ---- time axis ---- */

enum tick_unit { TU_SEC, TU_MIN, TU_HOUR, TU_DAY, TU_WEEK, TU_MONTH, TU_YEAR };

struct tick_step {
	enum tick_unit unit;
	int n;
	double secs;            /* about */
};

static const struct tick_step tick_steps[] = {
	{ TU_SEC, 1, 1 }, { TU_SEC, 2, 2 }, { TU_SEC, 5, 5 }, { TU_SEC, 10, 10 },
	{ TU_SEC, 15, 15 }, { TU_SEC, 30, 30 }, { TU_MIN, 1, 60 }, { TU_MIN, 2, 120 },
	{ TU_MIN, 5, 300 }, { TU_MIN, 10, 600 }, { TU_MIN, 15, 900 },
	{ TU_MIN, 30, 1800 }, { TU_HOUR, 1, 3600 }, { TU_HOUR, 2, 7200 }, { TU_HOUR, 3, 10800 },
	{ TU_HOUR, 6, 21600 }, { TU_HOUR, 12, 43200 }, { TU_DAY, 1, 86400 },
	{ TU_DAY, 2, 172800 }, { TU_WEEK, 1, 604800 }, { TU_WEEK, 2, 1209600 },
	{ TU_MONTH, 1, 2629800 }, { TU_MONTH, 2, 5259600 }, { TU_MONTH, 3, 7889400 },
	{ TU_MONTH, 6, 15778800 }, { TU_YEAR, 1, 31557600 }, { TU_YEAR, 2, 63115200 },
	{ TU_YEAR, 5, 157788000 }, { TU_YEAR, 10, 315576000 }, { TU_YEAR, 50, 1577880000 },
	{ TU_YEAR, 100, 3155760000 }, { TU_YEAR, 1000, 31557600000 },
};

static const struct tick_step *pick_step(double span)
{
	size_t n = sizeof tick_steps / sizeof tick_steps[0];

	for (size_t i = 0; i < n; i++)
		if (span / tick_steps[i].secs <= MAX_TICKS - 1)
			return &tick_steps[i];
	return &tick_steps[n - 1];
}

/* The first tick at or before t: the start of its minute, hour, day, week, month or year. */
static void tick_base(struct tm *tm, const struct tick_step *st)
{
	if (st->unit == TU_SEC) {
		tm->tm_sec -= tm->tm_sec % st->n;
		return;
	}
	tm->tm_sec = 0;
	if (st->unit == TU_MIN) {
		tm->tm_min -= tm->tm_min % st->n;
		return;
	}
	tm->tm_min = 0;
	if (st->unit == TU_HOUR) {
		tm->tm_hour -= tm->tm_hour % st->n;
		return;
	}
	tm->tm_hour = 0;
	if (st->unit == TU_WEEK)
		tm->tm_mday -= (tm->tm_wday + 6) % 7;   /* Monday */
	if (st->unit == TU_DAY || st->unit == TU_WEEK)
		return;
	tm->tm_mday = 1;
	if (st->unit == TU_MONTH) {
		tm->tm_mon -= tm->tm_mon % st->n;
		return;
	}
	tm->tm_mon = 0;
	tm->tm_year -= ((tm->tm_year + 1900) % st->n + st->n) % st->n;
}

/* The k-th tick after base, by the calendar (so DST and month lengths hold). */
static bool tick_at(const struct tm *base, const struct tick_step *st, int k, double *t)
{
	struct tm tm = *base;
	time_t v;

	switch (st->unit) {
	case TU_SEC: tm.tm_sec += k * st->n; break;
	case TU_MIN: tm.tm_min += k * st->n; break;
	case TU_HOUR: tm.tm_hour += k * st->n; break;
	case TU_DAY: tm.tm_mday += k * st->n; break;
	case TU_WEEK: tm.tm_mday += 7 * k * st->n; break;
	case TU_MONTH: tm.tm_mon += k * st->n; break;
	case TU_YEAR: tm.tm_year += k * st->n; break;
	}
	tm.tm_isdst = -1;
	v = mktime(&tm);
	if (v == (time_t)-1)
		return false;
	*t = (double)v;
	return true;
}

static void tick_label(double t, double prev, const struct tick_step *st, char *a, char *b,
		       size_t size)
{
	static const char *const first[] = { "%H:%M:%S", "%H:%M", "%H:%M", "%d %b", "%d %b",
					     "%b", "%Y" };
	static const char *const second[] = { "%a %d %b", "%a %d %b", "%a %d %b", "%Y", "%Y",
					      "%Y", "" };
	char now[32], before[32];

	local_fmt(t, first[st->unit], a, size);
	local_fmt(t, second[st->unit], now, sizeof now);
	if (isnan(prev))
		before[0] = '\0';
	else
		local_fmt(prev, second[st->unit], before, sizeof before);
	/* The date or year under a tick only where it changes. */
	snprintf(b, size, "%s", isnan(prev) || strcmp(now, before) != 0 ? now : "");
}

void time_axis(const struct canvas *c, double y)
{
	const struct tick_step *st = pick_step(c->t1 - c->t0);
	time_t t0 = (time_t)c->t0;
	double prev = NAN, t;
	struct tm base;
	char zone[64];

	if (localtime_r(&t0, &base) == NULL)
		return;
	tick_base(&base, st);
	for (int k = 0; k < 4 * MAX_TICKS && tick_at(&base, st, k, &t) && t <= c->t1; k++) {
		char a[48], b[48];
		double x;

		if (t < c->t0)
			continue;
		x = x_of(c, t);
		tick_label(t, prev, st, a, b, sizeof a);
		vline(c, x, "stroke=\"#e3e3e3\"");
		fprintf(c->f, "<path d=\"M%.1f,%.1fv5\" stroke=\"#333\"/>\n", x, y);
		fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x,
			y + 18, a);
		if (b[0])
			fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
				"fill=\"#555\">%s</text>\n", x, y + 33, b);
		prev = t;
	}
	zone_name(c->t0, c->t1, zone, sizeof zone);
	fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">"
		"local time (", LEFT + PLOT_W, y + 50);
	put_text(c->f, zone, 16);
	fputs(")</text>\n", c->f);
}
