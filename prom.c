/*
 * prom.c: the run as Prometheus text exposition for node_exporter's
 * textfile collector.
 *
 * Every metric is a gauge describing the latest run.  The file is
 * rewritten by each run, so it cannot carry a counter across runs
 * honestly: kahua_restarter_restarts and kahua_restarter_restart_failures
 * are the counts of this run only (sum_over_time() gives totals).
 *
 * The text is written through outfile_replace, so the collector sees the
 * old file or the new one, never half of one.
 */
#include "prom.h"
#include "health.h"
#include "names.h"
#include "outfile.h"
#include "prom_keep.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P "kahua_restarter_"

struct prom {
	FILE *f;
	const char *site;
	const char *name, *help;
	bool header_done;       /* # HELP and # TYPE are printed with the first sample */
};

static void family(struct prom *p, const char *name, const char *help)
{
	p->name = name;
	p->help = help;
	p->header_done = false;
}

/* Label values may hold anything; the format reserves \, " and newline. */
static void put_label_value(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* One sample; the labels after site are name, value pairs ending in NULL. */
__attribute__((sentinel))
static void sample(struct prom *p, double value, ...)
{
	const char *label;
	va_list ap;

	if (!p->header_done) {
		fprintf(p->f, "# HELP %s %s\n# TYPE %s gauge\n", p->name, p->help, p->name);
		p->header_done = true;
	}
	fprintf(p->f, "%s{site=\"", p->name);
	put_label_value(p->f, p->site);
	va_start(ap, value);
	while ((label = va_arg(ap, const char *)) != NULL) {
		fprintf(p->f, "\",%s=\"", label);
		put_label_value(p->f, va_arg(ap, const char *));
	}
	va_end(ap);
	/* %.15g prints integers up to 10^15 exactly and 0.25 as 0.25. */
	if (isinf(value))
		fputs("\"} +Inf\n", p->f);
	else
		fprintf(p->f, "\"} %.15g\n", value);
}

/* The worker types of the run: those counted after it, then any only restarted or healed. */
static int type_names(const struct run_report *r, struct name_set *types)
{
	for (size_t i = 0; i < r->ntypes; i++)
		if (name_set_add(types, r->types[i].type) < 0)
			return -1;
	for (size_t i = 0; i < r->nsteps; i++)
		if (name_set_add(types, r->steps[i].old.w.type) < 0)
			return -1;
	for (size_t i = 0; i < r->nhealed; i++)
		if (name_set_add(types, r->healed[i].w.type) < 0)
			return -1;
	return 0;
}

static long steps_of(const struct run_report *r, const char *type, enum step_result res)
{
	long n = 0;

	for (size_t i = 0; i < r->nsteps; i++)
		n += r->steps[i].result == res && strcmp(r->steps[i].old.w.type, type) == 0;
	return n;
}

static long recovered_of(const struct run_report *r, const char *type)
{
	long n = 0;

	for (size_t i = 0; i < r->nsteps; i++)
		n += r->steps[i].recovered[0] != '\0' && strcmp(r->steps[i].old.w.type, type) == 0;
	return n;
}

static long healed_of(const struct run_report *r, const char *type)
{
	long n = 0;

	for (size_t i = 0; i < r->nhealed; i++)
		n += r->healed[i].removed && strcmp(r->healed[i].w.type, type) == 0;
	return n;
}

static long long swept_of(const struct run_report *r, const char *type)
{
	long long n = 0;

	for (size_t i = 0; i < r->nsweep; i++)
		if (r->sweep[i].res.outcome == EVAL_OK && strcmp(r->sweep[i].w.type, type) == 0)
			n += r->sweep[i].res.swept_conts;
	return n;
}

static void run_metrics(struct prom *p, const struct run_report *r)
{
	family(p, P "last_run_timestamp_seconds", "Start of the latest run, seconds since the epoch.");
	sample(p, (double)r->started, (const char *)NULL);
	family(p, P "last_run_duration_seconds", "Duration of the latest run.");
	sample(p, r->duration_ms / 1000.0, (const char *)NULL);
	family(p, P "last_exit_status", "Exit status of the latest run (0 ok; see kahua-restarter(1)).");
	sample(p, r->exit_status, (const char *)NULL);
	family(p, P "memory_freed_bytes", "Memory freed by the latest run's restarts.");
	sample(p, (double)run_memory_freed(r), (const char *)NULL);
}

static void type_metrics(struct prom *p, const struct run_report *r, const char **types,
			 size_t n)
{
	family(p, P "workers", "Workers running after the latest run, by type.");
	for (size_t i = 0; i < r->ntypes; i++)
		sample(p, r->types[i].running, "type", r->types[i].type, (const char *)NULL);
	family(p, P "workers_wanted", "Workers the type should run (:run-by-default in app-servers).");
	for (size_t i = 0; i < r->ntypes; i++)
		if (r->types[i].wanted >= 0)
			sample(p, r->types[i].wanted, "type", r->types[i].type, (const char *)NULL);
	family(p, P "restarts",
	       "Workers restarted successfully in the latest run (a per-run gauge, not a counter).");
	for (size_t i = 0; i < n; i++)
		sample(p, steps_of(r, types[i], STEP_OK), "type", types[i], (const char *)NULL);
	family(p, P "restart_failures",
	       "Restarts that failed in the latest run (a per-run gauge, not a counter).");
	for (size_t i = 0; i < n; i++)
		sample(p, steps_of(r, types[i], STEP_FAILED), "type", types[i], (const char *)NULL);
	if (r->sweep_conts_s > 0) {
		family(p, P "swept_continuations",
		       "Continuations the latest run swept, by type (a per-run gauge, not a counter).");
		for (size_t i = 0; i < n; i++)
			sample(p, (double)swept_of(r, types[i]), "type", types[i], (const char *)NULL);
	}
	family(p, P "healed_entries",
	       "Dead or broken worker entries the latest run removed (a per-run gauge, not a counter).");
	for (size_t i = 0; i < n; i++)
		sample(p, healed_of(r, types[i]), "type", types[i], (const char *)NULL);
	family(p, P "recovered_races",
	       "Restarts the latest run put right after Kahua's waitpid race (a per-run gauge, not a counter).");
	for (size_t i = 0; i < n; i++)
		sample(p, recovered_of(r, types[i]), "type", types[i], (const char *)NULL);
}

/*
 * Per-worker series are labelled with the worker's rank within its type
 * (0, 1, ... by worker number), never its id or number: those change at
 * every restart, and a series per restart would pile up for a year.
 */
static void rank_label(const struct worker_obs *v, size_t n, const struct worker_obs *w,
		       char *out, size_t size)
{
	snprintf(out, size, "%zu", obs_rank(v, n, w));
}

static void worker_metrics(struct prom *p, const struct run_report *r)
{
	bool pss = run_pss(r);
	char rank[24];

	family(p, P "worker_memory_bytes",
	       "Memory of each worker the latest run restarted, at restart, by the metric used.");
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct restart_step *s = &r->steps[i];
		long long mem = obs_memory(&s->old, pss);

		if ((s->result != STEP_OK && s->result != STEP_FAILED) || mem < 0)
			continue;
		rank_label(r->before, r->nbefore, &s->old, rank, sizeof rank);
		/* With PSS unavailable the figure is RSS: the label says which. */
		sample(p, (double)mem, "type", s->old.w.type, "rank", rank, "metric",
		       pss && s->old.pss >= 0 ? "pss" : "rss", (const char *)NULL);
	}
}

/* One figure of what each worker holds; workers whose figure is unknown are left out. */
static void held_metric(struct prom *p, const struct worker_obs *v, size_t n, const char *name,
			const char *help, size_t field)
{
	char rank[24];

	family(p, name, help);
	for (size_t i = 0; i < n; i++) {
		long long x = *(const long long *)((const char *)&v[i].ev + field);

		if (v[i].ev.outcome != EVAL_OK || x < 0)
			continue;
		rank_label(v, n, &v[i], rank, sizeof rank);
		sample(p, (double)x, "type", v[i].w.type, "rank", rank, (const char *)NULL);
	}
}

/* The workers as the run left them (as it found them when it restarted none). */
static void held_metrics(struct prom *p, const struct run_report *r)
{
	const struct worker_obs *v = r->nafter > 0 ? r->after : r->before;
	size_t n = r->nafter > 0 ? r->nafter : r->nbefore;

	held_metric(p, v, n, "kahua_worker_continuations",
		    "Continuations a worker holds (its <session-cont> key table), by type and rank.",
		    offsetof(struct eval_result, conts));
	held_metric(p, v, n, "kahua_worker_state_sessions",
		    "State sessions a worker holds, by type and rank.",
		    offsetof(struct eval_result, sessions));
	held_metric(p, v, n, "kahua_worker_heap_bytes",
		    "A worker's GC heap (gc-stat :total-heap-size), by type and rank.",
		    offsetof(struct eval_result, heap));
	held_metric(p, v, n, "kahua_worker_heap_used_bytes",
		    "A worker's GC heap in use (total heap less gc-stat :free-bytes), by type and rank.",
		    offsetof(struct eval_result, heap_used));
}

/* Checked again later in the run (rolling checks a URL after each worker)? */
static bool url_seen(const struct run_report *r, size_t at, const char *url)
{
	for (size_t i = at + 1; i < r->nhttp; i++)
		if (strcmp(r->http[i].url, url) == 0)
			return true;
	return false;
}

/*
 * A repeated URL would repeat a series, and the collector rejects the
 * whole file: each URL appears once, with its latest check.
 */
static void http_metrics(struct prom *p, const struct run_report *r)
{
	family(p, P "http_check_up", "1 if the site's health check passed in the latest run, else 0.");
	for (size_t i = 0; i < r->nhttp; i++)
		if (!url_seen(r, i, r->http[i].url))
			sample(p, r->http[i].res.ok ? 1 : 0, "url", r->http[i].url, (const char *)NULL);
	family(p, P "http_check_duration_seconds", "Duration of the health check's last try.");
	for (size_t i = 0; i < r->nhttp; i++)
		if (!url_seen(r, i, r->http[i].url))
			sample(p, r->http[i].res.ms / 1000.0, "url", r->http[i].url, (const char *)NULL);
}

/* The host's memory pressure (PSI) as ratios, the unit Prometheus prefers. */
static void psi_metrics(struct prom *p, const struct run_report *r)
{
	static const char *const windows[] = { "10s", "60s", "300s" };
	const struct psi_line *lines[] = { &r->psi.some, &r->psi.full };
	static const char *const kinds[] = { "some", "full" };

	family(p, P "host_memory_pressure_ratio",
	       "Share of time tasks on the host waited for memory (PSI; some: any task, full: all), over the window.");
	for (size_t k = 0; k < 2; k++) {
		const double avg[] = { lines[k]->avg10, lines[k]->avg60, lines[k]->avg300 };

		for (size_t w = 0; w < 3 && lines[k]->have; w++)
			sample(p, avg[w] / 100.0, "kind", kinds[k], "window", windows[w], (const char *)NULL);
	}
}

/* Seconds until the floor, +Inf when not growing; no sample without a figure. */
static double forecast_value(double seconds)
{
	return seconds >= 0 ? seconds : INFINITY;
}

static void forecast_metrics(struct prom *p, const struct run_report *r)
{
	const struct forecast *f = &r->forecast;

	if (f->state == FORECAST_OFF || f->state == FORECAST_UNKNOWN || f->state == FORECAST_NO_HISTORY)
		return;
	family(p, P "forecast_seconds",
	       "Seconds until the host's MemAvailable falls below the forecast floor at the running workers' growth (+Inf: not growing).");
	sample(p, forecast_value(f->seconds), (const char *)NULL);
	family(p, P "type_forecast_seconds",
	       "The same at one type's growth alone (+Inf: not growing); absent for a type the history gives no growth figure.");
	for (size_t i = 0; i < f->n; i++)
		if (f->t[i].have_rate)
			sample(p, forecast_value(f->t[i].seconds), "type", f->t[i].type, (const char *)NULL);
}

/*
 * Written by every run, held back or not, so "is it running?" has an
 * answer on a host where the memory gates hold back every run for days;
 * the last_run_ families stay those of the last run that saw the workers,
 * like the per-run figures they go with.
 */
#define LAST_ATTEMPT_TS P "last_attempt_timestamp_seconds"
#define LAST_ATTEMPT_SKIPPED P "last_attempt_skipped"

static const char *const attempt_families[] = { LAST_ATTEMPT_TS, LAST_ATTEMPT_SKIPPED, NULL };

static void attempt_metrics(struct prom *p, const struct run_report *r)
{
	family(p, LAST_ATTEMPT_TS,
	       "Start of the latest run, including one the memory gates held back, seconds since the epoch.");
	sample(p, (double)r->started, (const char *)NULL);
	family(p, LAST_ATTEMPT_SKIPPED,
	       "1 if the memory gates held the latest run back (the other figures are of the last run that saw the workers), else 0.");
	sample(p, r->skipped[0] != '\0' ? 1 : 0, (const char *)NULL);
}

static void seen_metrics(struct prom *p, const struct run_report *r, const struct name_set *types)
{
	run_metrics(p, r);
	type_metrics(p, r, types->v, types->n);
	worker_metrics(p, r);
	held_metrics(p, r);
	http_metrics(p, r);
	psi_metrics(p, r);
	forecast_metrics(p, r);
}

/* A held-back run saw no worker: the previous file's figures stand. */
static void kept_metrics(struct prom *p, const char *path)
{
	size_t len;
	char *kept = prom_kept(path, attempt_families, &len);

	if (kept != NULL)
		fwrite(kept, 1, len, p->f);
	free(kept);
}

/* The whole text in memory, so a formatting failure never reaches the file. */
static int render(const char *path, const struct run_report *r, char **text, size_t *len)
{
	struct prom p = { .site = r->site ? r->site : "" };
	struct name_set types = { 0 };
	int rc;

	*text = NULL;
	if (type_names(r, &types) < 0 || (p.f = open_memstream(text, len)) == NULL) {
		name_set_free(&types);
		return -1;
	}
	if (r->skipped[0] != '\0')
		kept_metrics(&p, path);
	else
		seen_metrics(&p, r, &types);
	attempt_metrics(&p, r);
	name_set_free(&types);
	rc = ferror(p.f) ? -1 : 0;
	if (fclose(p.f) != 0)
		rc = -1;
	if (rc < 0) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

int prom_write(const char *path, const struct run_report *r, struct kr_err *err)
{
	size_t len;
	char *text;
	int rc;

	if (render(path, r, &text, &len) < 0)
		return kr_fail(err, KR_SOFTWARE, "metrics %s: out of memory", path);
	rc = outfile_replace(path, "metrics", text, len, err);
	free(text);
	return rc;
}
