/*
 * chart.c: the history file read once into time slots, then drawn.
 */
#include "chart.h"
#include "chart_data.h"
#include "chart_draw.h"
#include "history_read.h"
#include "outfile.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_COUNT 1e15          /* continuations beyond this are not real */

enum { RUN_MEM_BEFORE, RUN_MEM_AFTER, RUN_CONT_BEFORE, RUN_CONT_AFTER };

/* A copy of at most CHART_TEXT_MAX bytes; the drawing repairs any cut character. */
static char *text_copy(const char *s)
{
	return strndup(s, CHART_TEXT_MAX);
}

static int new_type(struct chart_data *d, const char *name)
{
	struct chart_type *t = &d->type[d->ntypes];

	t->name = text_copy(name);
	if (t->name == NULL)
		return -1;
	t->mem_hi = tgrid_channel(&d->g, TG_MAX);
	t->mem_lo = tgrid_channel(&d->g, TG_MIN);
	t->cont_hi = tgrid_channel(&d->g, TG_MAX);
	t->cont_lo = tgrid_channel(&d->g, TG_MIN);
	if (t->mem_hi < 0 || t->mem_lo < 0 || t->cont_hi < 0 || t->cont_lo < 0) {
		free(t->name);
		return -1;
	}
	d->ntypes++;
	return 0;
}

/* The drawn type of that name, NULL when it is one too many; *oom on failure. */
static struct chart_type *type_of(struct chart_data *d, const char *name, bool *oom)
{
	for (size_t i = 0; i < d->ntypes; i++)
		if (strncmp(d->type[i].name, name, CHART_TEXT_MAX) == 0)
			return &d->type[i];
	if (d->ntypes == CHART_TYPES) {
		d->more_types = true;
		return NULL;
	}
	if (new_type(d, name) < 0) {
		*oom = true;
		return NULL;
	}
	for (int k = 0; k < 4; k++)
		d->type[d->ntypes - 1].run[k] = NAN;
	return &d->type[d->ntypes - 1];
}

static void keep_max(double *slot, double v)
{
	if (isnan(*slot) || v > *slot)
		*slot = v;
}

/* The largest memory and continuations per type among the workers of arr. */
static int scan_workers(struct chart_data *d, const cJSON *arr, bool pss, int mem, int cont)
{
	const cJSON *w;
	bool oom = false;

	cJSON_ArrayForEach(w, arr) {
		const char *name = jstring(w, "type");
		struct chart_type *t;
		double v;

		if (name == NULL || (t = type_of(d, name, &oom)) == NULL) {
			if (oom)
				return -1;
			continue;
		}
		if (worker_mem(w, pss, &v))
			keep_max(&t->run[mem], v);
		if (jnumber(w, "continuations", 0, MAX_COUNT, &v))
			keep_max(&t->run[cont], v);
	}
	return 0;
}

static void put_figure(struct chart_data *d, size_t slot, int ch, double v, bool *have)
{
	if (isnan(v))
		return;
	tgrid_put(&d->g, slot, ch, v);
	*have = true;
}

static int add_types(struct chart_data *d, const cJSON *run, size_t slot)
{
	bool pss = run_uses_pss(run), mem = false;

	for (size_t i = 0; i < d->ntypes; i++)
		for (int k = 0; k < 4; k++)
			d->type[i].run[k] = NAN;
	if (scan_workers(d, jget(run, "workers_before"), pss, RUN_MEM_BEFORE, RUN_CONT_BEFORE) < 0 ||
	    scan_workers(d, jget(run, "workers_after"), pss, RUN_MEM_AFTER, RUN_CONT_AFTER) < 0)
		return -1;
	for (size_t i = 0; i < d->ntypes; i++) {
		struct chart_type *t = &d->type[i];

		put_figure(d, slot, t->mem_hi, t->run[RUN_MEM_BEFORE], &mem);
		put_figure(d, slot, t->mem_lo, t->run[RUN_MEM_AFTER], &mem);
		put_figure(d, slot, t->cont_hi, t->run[RUN_CONT_BEFORE], &d->have_conts);
		put_figure(d, slot, t->cont_lo, t->run[RUN_CONT_AFTER], &d->have_conts);
	}
	if (mem) {
		d->have_mem = true;
		d->any_pss |= pss;
		d->any_rss |= !pss;
	}
	return 0;
}

static void add_host(struct chart_data *d, const cJSON *run, size_t slot)
{
	const cJSON *host = jget(run, "host");
	double v;

	if (jnumber(host, "mem_available_bytes", 0, HIST_MAX_BYTES, &v)) {
		tgrid_put(&d->g, slot, d->avail_hi, v);
		tgrid_put(&d->g, slot, d->avail_lo, v);
		d->have_avail = true;
	}
	if (jnumber(host, "swap_used_bytes", 0, HIST_MAX_BYTES, &v)) {
		tgrid_put(&d->g, slot, d->swap_hi, v);
		tgrid_put(&d->g, slot, d->swap_lo, v);
		d->have_swap = true;
	}
	if (jnumber(host, "psi_some_avg60", 0, 100, &v)) {
		tgrid_put(&d->g, slot, d->psi_hi, v);
		tgrid_put(&d->g, slot, d->psi_lo, v);
		d->have_psi = true;
	}
}

static bool any_restart(const cJSON *run)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, jget(run, "restarts")) {
		const char *result = jstring(e, "result");

		if (result != NULL && strcmp(result, "ok") == 0)
			return true;
	}
	return false;
}

/* The latest CHART_FAILS failures, for their labels. */
static int note_fail(struct chart_data *d, double t, const char *why)
{
	struct chart_fail *f = &d->fail[d->nfail % CHART_FAILS];
	char *copy = why ? text_copy(why) : NULL;

	if (why != NULL && copy == NULL)
		return -1;
	free(f->why);
	f->why = copy;
	f->time = t;
	d->nfail++;
	return 0;
}

static int note_site(struct chart_data *d, const char *site)
{
	char *copy;

	if (site == NULL || (d->site != NULL && strncmp(d->site, site, CHART_TEXT_MAX) == 0))
		return 0;
	if ((copy = text_copy(site)) == NULL)
		return -1;
	free(d->site);
	d->site = copy;
	return 0;
}

/* Each run's outcome: skipped (a gate held it back), failed, restarted. */
static int add_events(struct chart_data *d, const cJSON *run, double t, size_t slot)
{
	const char *outcome = jstring(run, "outcome");
	double status = 0;

	if (outcome != NULL && strcmp(outcome, "skipped") == 0) {
		tgrid_put(&d->g, slot, d->skips, 1);
		d->skipped++;
		return 0;
	}
	if (any_restart(run)) {
		tgrid_put(&d->g, slot, d->restarts, 1);
		d->restarted++;
	}
	if (jnumber(run, "exit_status", -1e9, 1e9, &status) && status != 0) {
		tgrid_put(&d->g, slot, d->fails, 1);
		d->failed++;
		return note_fail(d, t, jstring(run, "error"));
	}
	return 0;
}

/* Continuations a run's sweep discarded (sweep runs, restart --sweep-conts). */
static void add_sweep(struct chart_data *d, const cJSON *run, size_t slot)
{
	const cJSON *w, *sweep = jget(run, "sweep");
	double n, sum = 0;

	if (sweep == NULL)
		return;
	cJSON_ArrayForEach(w, jget(sweep, "workers"))
		if (jnumber(w, "swept_continuations", 0, MAX_COUNT, &n))
			sum += n;
	tgrid_put(&d->g, slot, d->swept, sum);
	d->have_sweeps = true;
	d->swept_total += (long long)sum;
}

static int on_run(void *ctx, const cJSON *run, double t)
{
	struct chart_data *d = ctx;
	size_t slot = tgrid_place(&d->g, t);
	const char *command = jstring(run, "command");

	add_sweep(d, run, slot);
	/* A sweep run restarts nothing: it is a tick in the strip, not a run. */
	if (command != NULL && strcmp(command, "sweep") == 0)
		return 0;

	if (d->runs == 0 || t < d->first)
		d->first = t;
	if (d->runs == 0 || t > d->last)
		d->last = t;
	d->runs++;
	add_host(d, run, slot);
	if (add_events(d, run, t, slot) < 0 || note_site(d, jstring(run, "site")) < 0)
		return -1;
	return add_types(d, run, slot);
}

static int data_init(struct chart_data *d)
{
	memset(d, 0, sizeof *d);
	if (tgrid_init(&d->g, CHART_SLOTS) < 0)
		return -1;
	d->restarts = tgrid_channel(&d->g, TG_SUM);
	d->fails = tgrid_channel(&d->g, TG_SUM);
	d->skips = tgrid_channel(&d->g, TG_SUM);
	d->swept = tgrid_channel(&d->g, TG_SUM);
	d->avail_hi = tgrid_channel(&d->g, TG_MAX);
	d->avail_lo = tgrid_channel(&d->g, TG_MIN);
	d->swap_hi = tgrid_channel(&d->g, TG_MAX);
	d->swap_lo = tgrid_channel(&d->g, TG_MIN);
	d->psi_hi = tgrid_channel(&d->g, TG_MAX);
	d->psi_lo = tgrid_channel(&d->g, TG_MIN);
	return d->psi_hi < 0 || d->psi_lo < 0 || d->swap_lo < 0 || d->swept < 0 || d->restarts < 0 ||
	       d->fails < 0 || d->skips < 0 || d->avail_hi < 0 || d->avail_lo < 0 || d->swap_hi < 0 ? -1 : 0;
}

static void data_free(struct chart_data *d)
{
	for (size_t i = 0; i < d->ntypes; i++)
		free(d->type[i].name);
	for (size_t i = 0; i < CHART_FAILS; i++)
		free(d->fail[i].why);
	free(d->site);
	tgrid_free(&d->g);
}

int chart_write(const char *hist_path, time_t since_epoch, FILE *out, struct kr_err *err)
{
	struct chart_data d;
	struct history_counts c = { 0 };
	int rc;

	if (data_init(&d) < 0) {
		data_free(&d);
		return kr_fail(err, KR_SOFTWARE, "chart: out of memory");
	}
	rc = history_scan(hist_path, since_epoch, on_run, &d, &c, err);
	if (rc == 0 && (chart_draw(&d, out) < 0 || fflush(out) != 0 || ferror(out)))
		rc = kr_fail(err, KR_CANTCREAT, "chart: write failed");
	data_free(&d);
	return rc;
}

/* The chart would replace the history it is drawn from. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int chart_svg(const char *hist_path, time_t since_epoch, const char *out_path,
	      struct kr_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int rc;

	if (strcmp(out_path, "-") == 0)
		return chart_write(hist_path, since_epoch, stdout, err);
	if (same_file(hist_path, out_path))
		return kr_fail(err, KR_USAGE, "chart %s: that is the history file", out_path);
	/* In memory first: a failed read must not leave a half chart behind. */
	mem = open_memstream(&text, &len);
	if (mem == NULL)
		return kr_fail(err, KR_SOFTWARE, "chart %s: out of memory", out_path);
	rc = chart_write(hist_path, since_epoch, mem, err);
	if (fclose(mem) != 0 && rc == 0)
		rc = kr_fail(err, KR_SOFTWARE, "chart %s: out of memory", out_path);
	if (rc == 0)
		rc = outfile_replace(out_path, "chart", text, len, err);
	free(text);
	return rc;
}
