/*
 * chart_draw.c: the chart's picture, written as SVG text.
 *
 * Colours are the Okabe-Ito palette, told apart by colour-blind readers;
 * failures are vermilion, and also differ in shape (a cross and a dashed
 * line) and carry a label, so no reader depends on the colour alone.
 * Every string from the history passes through put_text: valid UTF-8,
 * no character XML forbids, markup characters escaped.
 */
#include "chart_draw.h"
#include "chart_axes.h"
#include "fmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MEM_H 300.0
#define SMALL_H 170.0
#define PANEL_GAP 52.0          /* between panels: the next panel's title */
#define SWEPT_COLOUR "#2a7a3a"
#define STRIP_H 62.0            /* the event rows under the panels */
#define FAIL_COLOUR "#D55E00"
#define TITLE_TEXT 120          /* characters of a string shown in a title */
#define LABEL_TEXT 48

static const char *const palette[CHART_TYPES] = {
	"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#8C6D31", "#332288", "#999999",
};
/* The host's lines, in colours no type takes. */
#define AVAIL_COLOUR "#222222"
#define SWAP_COLOUR "#882255"
#define PSI_COLOUR "#117733"

/* ---- panels ---- */

static void value_label(FILE *f, const struct scale *s, double v, double y)
{
	double shown_v = v / s->unit;

	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f%s</text>\n", LEFT - 8,
		y + 4, shown_v == floor(shown_v) ? 0 : shown_v * 10 == floor(shown_v * 10) ? 1 : 2,
		shown_v, s->suffix);
}

static void panel_frame(const struct canvas *c, const struct panel *p, const char *title)
{
	FILE *f = c->f;

	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\" font-size=\"13\">%s</text>\n",
		LEFT, p->top - 10, title);
	for (double v = 0; v <= p->s.top * 1.0001; v += p->s.step) {
		double y = y_of(p, v);

		fprintf(f, "<path d=\"M%.1f,%.1fH%.1f\" stroke=\"%s\"/>\n", LEFT, y, LEFT + PLOT_W,
			v == 0 ? "#333" : "#e3e3e3");
		value_label(f, &p->s, v, y);
	}
	fprintf(f, "<path d=\"M%.1f,%.1fV%.1f\" stroke=\"#333\"/>\n", LEFT, p->top, p->top + p->h);
}

static bool channel_any(const struct chart_data *d, int ch)
{
	for (size_t i = d->g.lo; i < d->g.hi; i++)
		if (!isnan(tgrid_get(&d->g, ch, i)))
			return true;
	return false;
}

static double channel_max(const struct chart_data *d, int ch)
{
	double m = 0;

	for (size_t i = d->g.lo; i < d->g.hi; i++) {
		double v = tgrid_get(&d->g, ch, i);

		if (!isnan(v) && v > m)
			m = v;
	}
	return m;
}

struct pen {
	FILE *f;
	double lx, ly, lt;      /* the last point written, and its time */
	bool open;
};

static void pen_to(struct pen *pen, const struct canvas *c, double t, double x, double y)
{
	bool gap = pen->open && t - pen->lt > c->gap;

	if (pen->open && !gap && fabs(x - pen->lx) < 0.05 && fabs(y - pen->ly) < 0.05)
		return;
	fprintf(pen->f, pen->open && !gap ? " %.1f,%.1f" : "M%.1f,%.1f", x, y);
	pen->lx = x;
	pen->ly = y;
	pen->lt = t;
	pen->open = true;
}

/* The points of one or two channels, slot by slot, as path data. */
static void trace(const struct canvas *c, const struct panel *p, int hi, int lo)
{
	const struct tgrid *g = &c->d->g;
	struct pen pen = { c->f, 0, 0, 0, false };

	for (size_t i = g->lo; i < g->hi; i++) {
		double t = tgrid_time(g, i), a = tgrid_get(g, hi, i);
		double b = lo < 0 ? NAN : tgrid_get(g, lo, i);

		if (isnan(t))
			continue;
		if (!isnan(a))
			pen_to(&pen, c, t, x_of(c, t), y_of(p, a));
		if (!isnan(b))
			pen_to(&pen, c, t, x_of(c, t), y_of(p, b));
	}
	if (!pen.open)  /* an empty d is an error in some renderers */
		fprintf(c->f, "M%.1f,%.1f", LEFT, p->top + p->h);
}

/*
 * The area between the high and the low figures, high forward and low
 * back, filled lightly and edged in the type's colour: one path, so each
 * slot costs two points.
 */
static void band(const struct canvas *c, const struct panel *p, int hi, int lo,
		 const char *colour, const char *extra, const char *cls)
{
	const struct tgrid *g = &c->d->g;
	bool first = true;

	fprintf(c->f, "<path class=\"band %s\" fill=\"%s\" fill-opacity=\"0.16\" "
		"stroke=\"%s\" stroke-width=\"1.2\" stroke-linejoin=\"round\"%s d=\"", cls,
		colour, colour, extra);
	for (size_t i = g->lo; i < g->hi; i++) {
		double t = tgrid_time(g, i), v = tgrid_get(g, hi, i);

		if (isnan(t) || isnan(v))
			continue;
		fprintf(c->f, first ? "M%.1f,%.1f" : " %.1f,%.1f", x_of(c, t), y_of(p, v));
		first = false;
	}
	for (size_t i = g->hi; i-- > g->lo;) {
		double t = tgrid_time(g, i), v = tgrid_get(g, lo, i);

		if (isnan(t) || isnan(v))
			continue;
		fprintf(c->f, first ? "M%.1f,%.1f" : " %.1f,%.1f", x_of(c, t), y_of(p, v));
		first = false;
	}
	fputs(first ? "M0,0\"/>\n" : "Z\"/>\n", c->f);
}

static void line(const struct canvas *c, const struct panel *p, int hi, int lo,
		 const char *colour, const char *extra, const char *cls)
{
	fprintf(c->f, "<path class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.4\" "
		"stroke-linejoin=\"round\"%s d=\"", cls, colour, extra);
	trace(c, p, hi, lo);
	fputs("\"/>\n", c->f);
}

/*
 * One series.  With a run per slot: at each run the figure before it,
 * then the one after, which draws the saw-tooth of growth and restarts.
 * With many runs per slot the teeth would merge into a blot: a band from
 * the lowest figure after to the highest before.
 */
static void series(const struct canvas *c, const struct panel *p, int hi, int lo,
		   const char *colour, const char *extra, const char *name)
{
	char cls[64];

	if (c->thinned) {
		band(c, p, hi, lo, colour, extra, name);
		return;
	}
	snprintf(cls, sizeof cls, "teeth %s", name);
	line(c, p, hi, lo, colour, extra, cls);
}

static double panel_max(const struct chart_data *d, bool conts)
{
	double m = 0;

	for (size_t i = 0; i < d->ntypes; i++) {
		const struct chart_type *t = &d->type[i];
		double a = channel_max(d, conts ? t->cont_hi : t->mem_hi);
		double b = channel_max(d, conts ? t->cont_lo : t->mem_lo);

		m = fmax(m, fmax(a, b));
	}
	return m;
}

static const char *metric_label(const struct chart_data *d)
{
	if (d->any_pss && d->any_rss)
		return "RSS or PSS";
	return d->any_pss ? "PSS" : "RSS";
}

static void type_panel(const struct canvas *c, struct panel *p, bool conts)
{
	char title[160];

	p->s = make_scale(panel_max(c->d, conts), !conts);
	if (conts)
		snprintf(title, sizeof title,
			 "Continuations of each type's largest worker, before and after each run");
	else
		snprintf(title, sizeof title,
			 "Memory (%s) of each type's largest worker, before and after each run",
			 metric_label(c->d));
	panel_frame(c, p, title);
}

/* Types by their highest figure, highest first: drawn in that order, no band hides a smaller one. */
static void draw_order(const struct chart_data *d, bool conts, size_t *order)
{
	double top[CHART_TYPES];

	for (size_t i = 0; i < d->ntypes; i++) {
		order[i] = i;
		top[i] = channel_max(d, conts ? d->type[i].cont_hi : d->type[i].mem_hi);
	}
	for (size_t i = 1; i < d->ntypes; i++)
		for (size_t k = i; k > 0 && top[order[k]] > top[order[k - 1]]; k--) {
			size_t x = order[k];

			order[k] = order[k - 1];
			order[k - 1] = x;
		}
}

static void type_series(const struct canvas *c, const struct panel *p, bool conts)
{
	size_t order[CHART_TYPES];

	draw_order(c->d, conts, order);
	for (size_t k = 0; k < c->d->ntypes; k++) {
		size_t i = order[k];
		const struct chart_type *t = &c->d->type[i];
		char name[32];

		if (!channel_any(c->d, conts ? t->cont_hi : t->mem_hi) &&
		    !channel_any(c->d, conts ? t->cont_lo : t->mem_lo))
			continue;
		/* Classes name what each path is, for tests and style sheets. */
		snprintf(name, sizeof name, "%s t%zu", conts ? "cont" : "mem", i);
		series(c, p, conts ? t->cont_hi : t->mem_hi, conts ? t->cont_lo : t->mem_lo,
		       palette[i], "", name);
	}
}

static void host_panel(const struct canvas *c, struct panel *p)
{
	const struct chart_data *d = c->d;

	p->s = make_scale(fmax(channel_max(d, d->avail_hi), channel_max(d, d->swap_hi)), true);
	panel_frame(c, p, "The host at the start of each run: memory available (MemAvailable) and swap in use");
}

static void host_series(const struct canvas *c, const struct panel *p)
{
	const struct chart_data *d = c->d;

	if (d->have_avail)
		series(c, p, d->avail_hi, d->avail_lo, AVAIL_COLOUR, "", "avail");
	if (d->have_swap)
		series(c, p, d->swap_hi, d->swap_lo, SWAP_COLOUR, " stroke-dasharray=\"6 3\"", "swap");
}

static void psi_panel(const struct canvas *c, struct panel *p)
{
	p->s = make_scale(channel_max(c->d, c->d->psi_hi), false);
	p->s.suffix = "%";
	panel_frame(c, p, "The host\xE2\x80\x99s memory pressure at the start of each run: share of time "
		    "tasks waited for memory (PSI some, 60 s average)");
}

/* ---- events ---- */

/* The kept failure that falls in slot i, if any. */
static const struct chart_fail *fail_in(const struct chart_data *d, size_t i)
{
	double from = d->g.origin + (double)i * d->g.width, to = from + d->g.width;

	for (size_t k = 0; k < CHART_FAILS && k < d->nfail; k++)
		if (d->fail[k].time >= from && d->fail[k].time < to)
			return &d->fail[k];
	return NULL;
}

static void fail_title(const struct canvas *c, size_t i, double n)
{
	const struct chart_fail *fl = fail_in(c->d, i);
	char when[64];

	fputs("<title>", c->f);
	if (n > 1)
		fprintf(c->f, "%.0f failed runs; ", n);
	if (fl == NULL) {
		fputs("failed run</title>", c->f);
		return;
	}
	local_fmt(fl->time, "%Y-%m-%d %H:%M %Z", when, sizeof when);
	fprintf(c->f, "failed %s: ", when);
	put_text(c->f, fl->why ? fl->why : "(no message)", 300);
	fputs("</title>", c->f);
}

/* Dashed lines through every panel at each failure, under the series. */
static void fail_lines(const struct canvas *c)
{
	const struct chart_data *d = c->d;

	for (size_t i = d->g.lo; i < d->g.hi; i++)
		if (!isnan(tgrid_get(&d->g, d->fails, i)))
			vline(c, x_of(c, tgrid_time(&d->g, i)), "stroke=\"" FAIL_COLOUR "\" "
			      "stroke-width=\"1.2\" stroke-dasharray=\"5 3\"");
}

/* Ticks in one row of the strip, one per slot that holds such runs. */
static void tick_row(const struct canvas *c, int ch, double y, const char *style)
{
	const struct tgrid *g = &c->d->g;
	bool any = false;

	fprintf(c->f, "<path %s d=\"", style);
	for (size_t i = g->lo; i < g->hi; i++)
		if (!isnan(tgrid_get(g, ch, i))) {
			fprintf(c->f, "M%.1f,%.1fv10", x_of(c, tgrid_time(g, i)), y);
			any = true;
		}
	if (!any)
		fprintf(c->f, "M%.1f,%.1f", LEFT, y);
	fputs("\"/>\n", c->f);
}

static void row_name(FILE *f, double y, const char *name, const char *colour)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"%s\">%s</text>\n",
		LEFT - 8, y + 9, colour, name);
}

static void cross(FILE *f, double x, double y)
{
	fprintf(f, "<path d=\"M%.1f,%.1fl8,8m0,-8l-8,8\" stroke=\"" FAIL_COLOUR "\" "
		"stroke-width=\"2.2\"/>", x - 4, y - 4);
}

/* The label of a failure at x: its date and time, or its date, if it fits before limit. */
static void fail_label(FILE *f, double t, double x, double y, double limit)
{
	static const char *const forms[] = { "%d %b %H:%M", "%d %b" };
	char when[48];

	for (size_t k = 0; k < 2; k++) {
		local_fmt(t, forms[k], when, sizeof when);
		if (x + 7 + 6.4 * (double)strlen(when) <= limit) {
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\""
				FAIL_COLOUR "\">%s</text>", x + 7, y + 9, when);
			return;
		}
	}
}

/* A cross per slot with failures, each labelled where the next leaves room. */
static void fail_row(const struct canvas *c, double y)
{
	const struct tgrid *g = &c->d->g;
	size_t i = g->lo;

	while (i < g->hi && isnan(tgrid_get(g, c->d->fails, i)))
		i++;
	while (i < g->hi) {
		size_t next = i + 1;
		double x = x_of(c, tgrid_time(g, i)), limit = LEFT + PLOT_W;

		while (next < g->hi && isnan(tgrid_get(g, c->d->fails, next)))
			next++;
		if (next < g->hi)
			limit = x_of(c, tgrid_time(g, next)) - 8;
		fputs("<g class=\"failure\">", c->f);
		fail_title(c, i, tgrid_get(g, c->d->fails, i));
		cross(c->f, x, y + 5);
		fail_label(c->f, tgrid_time(g, i), x, y, limit);
		fputs("</g>\n", c->f);
		i = next;
	}
}

static void event_strip(const struct canvas *c, double y)
{
	const struct chart_data *d = c->d;

	row_name(c->f, y, "restarts", "#333");
	tick_row(c, d->restarts, y, "class=\"restarts\" stroke=\"#555\" stroke-width=\"0.8\"");
	row_name(c->f, y + 16, "failed", FAIL_COLOUR);
	fail_row(c, y + 16);
	row_name(c->f, y + 32, "skipped", "#888");
	tick_row(c, d->skips, y + 32, "class=\"skips\" stroke=\"#888\" stroke-opacity=\"0.5\"");
	if (!d->have_sweeps)
		return;
	row_name(c->f, y + 48, "swept", SWEPT_COLOUR);
	tick_row(c, d->swept, y + 48, "class=\"sweeps\" stroke=\"" SWEPT_COLOUR "\" stroke-width=\"0.8\"");
}

/* ---- header and legend ---- */

struct legend {
	FILE *f;
	double x, y;
};

/* One swatch and its name; kind: l line, d dashed line, x cross, t tick, f faint tick. */
static void legend_item(struct legend *lg, char kind, const char *colour, const char *name,
			bool from_history)
{
	double width = 34 + 7.2 * (double)(strlen(name) < LABEL_TEXT ? strlen(name) : LABEL_TEXT);

	if (lg->x + width > W - RIGHT && lg->x > LEFT) {
		lg->x = LEFT;
		lg->y += 20;
	}
	if (kind == 'l' || kind == 'd')
		fprintf(lg->f, "<path d=\"M%.1f,%.1fh22\" stroke=\"%s\" stroke-width=\"3\"%s/>",
			lg->x, lg->y - 4, colour, kind == 'd' ? " stroke-dasharray=\"6 3\"" : "");
	else if (kind == 'x')
		cross(lg->f, lg->x + 11, lg->y - 4);
	else
		fprintf(lg->f, "<path d=\"M%.1f,%.1fv10\" stroke=\"%s\"%s/>", lg->x + 11,
			lg->y - 9, colour, kind == 'f' ? " stroke-opacity=\"0.5\"" : "");
	fprintf(lg->f, "<text x=\"%.1f\" y=\"%.1f\">", lg->x + 28, lg->y);
	if (from_history)
		put_text(lg->f, name, LABEL_TEXT);
	else
		fputs(name, lg->f);
	fputs("</text>\n", lg->f);
	lg->x += width;
}

static double legend(const struct canvas *c, double y)
{
	const struct chart_data *d = c->d;
	struct legend lg = { c->f, LEFT, y };

	for (size_t i = 0; i < d->ntypes; i++)
		legend_item(&lg, 'l', palette[i], d->type[i].name, true);
	if (d->more_types)
		legend_item(&lg, 'f', "#888", "(more types, not drawn)", false);
	if (d->have_avail)
		legend_item(&lg, 'l', AVAIL_COLOUR, "host: available", false);
	if (d->have_swap)
		legend_item(&lg, 'd', SWAP_COLOUR, "host: swap used", false);
	if (d->have_psi)
		legend_item(&lg, 'l', PSI_COLOUR, "host: memory pressure", false);
	legend_item(&lg, 't', "#333", "restart", false);
	legend_item(&lg, 'x', FAIL_COLOUR, "failed run", false);
	if (d->skipped > 0)
		legend_item(&lg, 'f', "#888", "skipped run", false);
	return lg.y;
}

static void header(const struct canvas *c)
{
	const struct chart_data *d = c->d;
	char a[64], b[64], zone[64], runs[32], fl[32], sk[32], rs[32], width[32];

	fputs("<text x=\"24\" y=\"30\" font-size=\"18\" font-weight=\"bold\">", c->f);
	if (d->site != NULL) {
		fputs("Kahua site ", c->f);
		put_text(c->f, d->site, TITLE_TEXT);
	} else {
		fputs("Kahua site", c->f);
	}
	fputs(": workers&#8217; memory over time</text>\n", c->f);
	if (d->runs == 0)
		return;
	local_fmt(d->first, "%Y-%m-%d %H:%M", a, sizeof a);
	local_fmt(d->last, "%Y-%m-%d %H:%M", b, sizeof b);
	zone_name(d->first, d->last, zone, sizeof zone);
	fmt_count(d->runs, runs, sizeof runs);
	fmt_count(d->restarted, rs, sizeof rs);
	fmt_count(d->failed, fl, sizeof fl);
	fmt_count(d->skipped, sk, sizeof sk);
	fprintf(c->f, "<text x=\"24\" y=\"52\" fill=\"#444\">%s to %s ", a, b);
	put_text(c->f, zone, 16);
	fprintf(c->f, " \xC2\xB7 %s run%s: %s with restarts, %s failed, %s skipped", runs,
		d->runs == 1 ? "" : "s", rs, fl, sk);
	if (d->have_sweeps) {
		fmt_count(d->swept_total, sk, sizeof sk);
		fprintf(c->f, " \xC2\xB7 %s continuations swept", sk);
	}
	if (d->g.width > 1800) {
		fmt_age((long long)d->g.width, width, sizeof width);
		fprintf(c->f, " \xC2\xB7 one point per %s: the highest before and the lowest "
			"after its runs", width);
	}
	fputs("</text>\n", c->f);
}

/* ---- the picture ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Four times the usual pause between runs: longer ones break the lines. */
static double usual_gap(const struct tgrid *g)
{
	double *gaps = malloc(g->nslots * sizeof *gaps), prev = NAN, limit = INFINITY;
	size_t n = 0;

	if (gaps == NULL)
		return INFINITY;
	for (size_t i = g->lo; i < g->hi; i++) {
		double t = tgrid_time(g, i);

		if (isnan(t))
			continue;
		if (!isnan(prev))
			gaps[n++] = t - prev;
		prev = t;
	}
	if (n >= 3) {
		qsort(gaps, n, sizeof *gaps, cmp_double);
		limit = fmax(4 * gaps[n / 2], 2 * g->width);
	}
	free(gaps);
	return limit;
}

static void no_runs(FILE *f, double y)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"16\" "
		"fill=\"#555\">No restart runs recorded in this period.</text>\n", W / 2, y);
}

static void segment(struct canvas *c, double top, double h)
{
	c->seg[c->nseg][0] = top;
	c->seg[c->nseg][1] = top + h;
	c->nseg++;
}

/* The panels, top to bottom: memory, continuations, host memory, host pressure. */
struct panels {
	struct panel mem, conts, host, psi;
};

/* A small panel at *y when the history has its figures; none (h 0) otherwise. */
static struct panel small_panel(struct canvas *c, double *y, bool have)
{
	struct panel p = { .top = *y, .h = have ? SMALL_H : 0 };

	if (have) {
		segment(c, *y, SMALL_H);
		*y += SMALL_H + PANEL_GAP;
	}
	return p;
}

static void layout(struct canvas *c, struct panels *ps, double legend_end)
{
	const struct chart_data *d = c->d;
	double y = legend_end + 46;

	c->nseg = 0;
	ps->mem = (struct panel){ .top = y, .h = MEM_H };
	segment(c, y, MEM_H);
	y += MEM_H + PANEL_GAP;
	ps->conts = small_panel(c, &y, d->have_conts);
	ps->host = small_panel(c, &y, d->have_avail || d->have_swap);
	ps->psi = small_panel(c, &y, d->have_psi);
	c->top = ps->mem.top;
	c->bottom = y - PANEL_GAP;
	segment(c, c->bottom, STRIP_H);
}

/* The time axis: the runs' span, an hour about a single run. */
static void time_span(struct canvas *c)
{
	double mid = (c->d->first + c->d->last) / 2, least = c->d->runs > 1 ? 10 : 3600;

	c->t0 = c->d->first;
	c->t1 = c->d->last;
	if (c->t1 - c->t0 < least) {
		c->t0 = mid - least / 2;
		c->t1 = mid + least / 2;
	}
	/* A little room on either side so the first and last runs are not on the frame. */
	c->t0 -= (c->t1 - c->t0) * 0.01;
	c->t1 += (c->t1 - c->t0) * 0.01;
}

static void begin(FILE *f, double h)
{
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n", W, h, W, h);
}

static void draw_runs(struct canvas *c, double legend_end)
{
	struct panels ps;

	layout(c, &ps, legend_end);
	type_panel(c, &ps.mem, false);
	if (ps.conts.h > 0)
		type_panel(c, &ps.conts, true);
	if (ps.host.h > 0)
		host_panel(c, &ps.host);
	if (ps.psi.h > 0)
		psi_panel(c, &ps.psi);
	time_axis(c, c->bottom + STRIP_H);
	fail_lines(c);
	if (!c->d->have_mem)
		no_runs(c->f, ps.mem.top + ps.mem.h / 2);
	type_series(c, &ps.mem, false);
	if (ps.conts.h > 0)
		type_series(c, &ps.conts, true);
	if (ps.host.h > 0)
		host_series(c, &ps.host);
	if (ps.psi.h > 0)
		series(c, &ps.psi, c->d->psi_hi, c->d->psi_lo, PSI_COLOUR, "", "psi");
	event_strip(c, c->bottom + 10);
}

int chart_draw(const struct chart_data *d, FILE *out)
{
	struct canvas c = { .f = out, .d = d, .t0 = 0, .t1 = 1, .gap = INFINITY };
	struct panels ps;
	double legend_end = 76, h;

	if (d->runs > 0) {
		time_span(&c);
		c.gap = usual_gap(&d->g);
		c.thinned = channel_max(d, TG_COUNT) > 1;
	}
	/* The height depends on the legend's rows: lay out once to measure it. */
	if (d->runs > 0) {
		FILE *null = fopen("/dev/null", "w");

		if (null == NULL)
			return -1;
		c.f = null;
		legend_end = legend(&c, 76);
		fclose(null);
		c.f = out;
	}
	layout(&c, &ps, legend_end);
	h = d->runs > 0 ? c.bottom + STRIP_H + 62 : 140;
	begin(out, h);
	header(&c);
	if (d->runs == 0) {
		no_runs(out, 90);
	} else {
		legend(&c, 76);
		draw_runs(&c, legend_end);
	}
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
