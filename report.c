/*
 * report.c: the status table and the JSON report of a run.
 */
#include "report.h"
#include "census_report.h"
#include "health.h"
#include "jsonw.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void report_plan(const struct run_report *r, bool top_up, FILE *out)
{
	bool pss = run_pss(r);

	fprintf(out, "plan: %zu of %zu workers, strategy %s, metric %s\n", r->nsteps,
		r->nbefore, r->strategy, r->metric);
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct worker_obs *o = &r->steps[i].old;
		char mem[32], age[32], conts[32];

		fmt_bytes(obs_memory(o, pss), mem, sizeof mem);
		fmt_age(o->age, age, sizeof age);
		fmt_held(o->ev.conts, conts, sizeof conts);
		fprintf(out, "  %zu. restart worker %ld (%s, pid %d, %s, %s %s, continuations %s, age %s): %s\n",
			i + 1, o->w.wno, o->w.type, (int)o->w.pid, o->w.wid, r->metric,
			mem, conts, age, r->steps[i].reason);
	}
	for (size_t i = 0; i < r->nhealed; i++) {
		const struct worker *w = &r->healed[i].w;

		fprintf(out, "  heal: remove worker %ld (%s, %s: %s)\n", w->wno, w->type,
			worker_state_name(w->state), w->why);
	}
	for (size_t i = 0; i < r->ntypes; i++) {
		const struct type_count *t = &r->types[i];

		if (t->wanted >= 0 && t->running < t->wanted)
			fprintf(out, "  top up %s: %ld of %ld running%s\n", t->type, t->running,
				t->wanted, top_up ? " (reload)" : " (not with --no-top-up)");
	}
}

/* A figure of what the worker holds, -1 unless its eval answered. */
static long long held(const struct worker_obs *o, long long v)
{
	return o->ev.outcome == EVAL_OK ? v : -1;
}

/* Continuations (and, wide, sessions and heap) of one worker. */
static void status_numbers(const struct worker_obs *o, bool wide, char *out, size_t size)
{
	char conts[32], sessions[32], heap[32];

	fmt_held(held(o, o->ev.conts), conts, sizeof conts);
	fmt_held(held(o, o->ev.sessions), sessions, sizeof sessions);
	fmt_bytes(held(o, o->ev.heap), heap, sizeof heap);
	if (wide)
		snprintf(out, size, "%9s %9s %9s", conts, sessions, heap);
	else
		snprintf(out, size, "%9s", conts);
}

void report_status_table(const struct run_report *r, bool wide, FILE *out)
{
	bool pss = run_pss(r);
	char numbers[128];

	if (wide)
		snprintf(numbers, sizeof numbers, "%9s %9s %9s", "CONTS", "SESSIONS", "HEAP");
	else
		snprintf(numbers, sizeof numbers, "%9s", "CONTS");
	fprintf(out, "%5s %8s %-16s %9s %9s %-6s %s  %s\n", "WNO", "PID", "TYPE", "AGE",
		pss ? "PSS" : "RSS", "STATE", numbers, "WORKER-ID");
	for (size_t i = 0; i < r->nbefore; i++) {
		const struct worker_obs *o = &r->before[i];
		char age[32], mem[32], pid[16];

		fmt_age(o->age, age, sizeof age);
		fmt_bytes(obs_memory(o, pss), mem, sizeof mem);
		if (o->w.pid > 0)
			snprintf(pid, sizeof pid, "%d", (int)o->w.pid);
		else
			snprintf(pid, sizeof pid, "-");
		status_numbers(o, wide, numbers, sizeof numbers);
		fprintf(out, "%5ld %8s %-16s %9s %9s %-6s %s  %s\n", o->w.wno, pid, o->w.type,
			age, mem, worker_state_name(o->w.state), numbers, o->w.wid);
	}
	for (size_t i = 0; i < r->nbefore; i++) {
		const struct worker_obs *o = &r->before[i];
		const struct worker *w = &o->w;

		if (w->state != WORKER_LIVE)
			fprintf(out, "# worker %ld (%s) is %s: %s; requests sent to it fail\n", w->wno,
				w->type, worker_state_name(w->state), w->why);
		else if (o->ev.outcome == EVAL_UNREADABLE || o->ev.outcome == EVAL_NO_ANSWER)
			fprintf(out, "# worker %ld (%s): numbers unavailable: %s\n", w->wno,
				w->type, o->ev.why);
	}
	for (size_t i = 0; i < r->ntypes; i++) {
		const struct type_count *t = &r->types[i];

		if (t->wanted >= 0 && t->running < t->wanted)
			fprintf(out, "# %s: %ld of %ld workers running (:run-by-default %ld)\n",
				t->type, t->running, t->wanted, t->wanted);
	}
	if (r->pss_fallback)
		fprintf(out, "# PSS unavailable (no smaps_rollup access): RSS shown\n");
}

/* Memory in bytes, null when unknown (-1). */
static cJSON *jmem(struct jb *b, cJSON *obj, const char *key, long long v)
{
	return jnum_if(b, obj, key, v >= 0, (double)v);
}

static void json_worker(struct jb *b, cJSON *o, const struct worker_obs *w)
{
	if (o == NULL)
		return;
	jstr(b, o, "id", w->w.wid);
	jnum(b, o, "number", (double)w->w.wno);
	jmem(b, o, "pid", w->w.pid > 0 ? (long long)w->w.pid : -1);
	jstr(b, o, "type", w->w.type);
	jstr(b, o, "state", worker_state_name(w->w.state));
	if (w->w.state != WORKER_LIVE)
		jstr(b, o, "why", w->w.why);
	jnum(b, o, "start_time", (double)w->w.start_time);
	jnum(b, o, "age_s", (double)w->age);
	jmem(b, o, "rss_bytes", w->rss);
	jmem(b, o, "pss_bytes", w->pss);
	jmem(b, o, "continuations", held(w, w->ev.conts));
	jmem(b, o, "state_sessions", held(w, w->ev.sessions));
	jmem(b, o, "heap_bytes", held(w, w->ev.heap));
	jmem(b, o, "heap_used_bytes", held(w, w->ev.heap_used));
	jstr(b, o, "eval_error", w->ev.outcome == EVAL_UNREADABLE || w->ev.outcome == EVAL_NO_ANSWER ?
				 w->ev.why : NULL);
}

static void json_workers(struct jb *b, cJSON *root, const char *key,
			 const struct worker_obs *v, size_t n)
{
	cJSON *arr = jchild(b, root, key, true);

	for (size_t i = 0; i < n; i++)
		json_worker(b, jitem(b, arr), &v[i]);
}

static const char *step_result_name(enum step_result r)
{
	static const char *const names[] = { "planned", "ok", "failed", "abandoned" };

	return names[r];
}

static void json_steps(struct jb *b, cJSON *root, const struct run_report *r, bool pss)
{
	cJSON *arr = jchild(b, root, "restarts", true);
	long long f;

	for (size_t i = 0; i < r->nsteps; i++) {
		const struct restart_step *s = &r->steps[i];
		cJSON *o = jitem(b, arr);

		if (o == NULL)
			continue;
		json_worker(b, jchild(b, o, "old", false), &s->old);
		if (s->have_new)
			json_worker(b, jchild(b, o, "new", false), &s->new);
		jstr(b, o, "reason", s->reason);
		jstr(b, o, "result", step_result_name(s->result));
		jbool(b, o, "killed", s->killed);
		jnum(b, o, "restart_ms", s->restart_ms);
		jnum(b, o, "probe_ms", s->probe_ms);
		if (s->drain_tried) {
			jnum(b, o, "drain_ms", s->drain_ms);
			jbool(b, o, "drained", s->drained);
		}
		if (step_freed(s, pss, &f))
			jnum(b, o, "freed_bytes", (double)f);
		else
			jmem(b, o, "freed_bytes", -1);
		jstr(b, o, "error", s->why[0] ? s->why : NULL);
		jstr(b, o, "recovered", s->recovered[0] ? s->recovered : NULL);
	}
	jnum(b, root, "memory_freed_bytes", (double)run_memory_freed(r));
}

static void json_http(struct jb *b, cJSON *root, const struct run_report *r)
{
	cJSON *arr = jchild(b, root, "http_checks", true);

	for (size_t i = 0; i < r->nhttp; i++) {
		const struct http_obs *h = &r->http[i];
		cJSON *o = jitem(b, arr);

		if (o == NULL)
			continue;
		jstr(b, o, "url", h->url);
		jbool(b, o, "ok", h->res.ok);
		jnum(b, o, "status", (double)h->res.status);
		jnum(b, o, "ms", h->res.ms);
		jnum(b, o, "tries", h->res.tries);
		jstr(b, o, "error", h->res.why[0] ? h->res.why : NULL);
	}
	jstr(b, root, "http_skipped", r->http_skipped[0] ? r->http_skipped : NULL);
}

static void json_types(struct jb *b, cJSON *root, const struct run_report *r)
{
	cJSON *arr = jchild(b, root, "types", true);

	for (size_t i = 0; i < r->ntypes; i++) {
		cJSON *o = jitem(b, arr);

		if (o == NULL)
			continue;
		jstr(b, o, "type", r->types[i].type);
		jnum(b, o, "running", (double)r->types[i].running);
		if (r->types[i].wanted >= 0)
			jnum(b, o, "run_by_default", (double)r->types[i].wanted);
		jbool(b, o, "topped_up", r->types[i].topped_up);
	}
}

/* The host's memory, which the history keeps for every run. */
static void json_host(struct jb *b, cJSON *root, const struct host_mem *h)
{
	cJSON *o = jchild(b, root, "host", false);

	if (o == NULL)
		return;
	jmem(b, o, "mem_available_bytes", h->available);
	jmem(b, o, "swap_used_bytes", h->swap_used);
	jmem(b, o, "mem_total_bytes", h->total);
}

/* PSI memory averages in percent, null when the kernel gave none. */
static void json_psi(struct jb *b, cJSON *root, const struct psi *p)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "host");

	if (o == NULL)
		return;
	jnum_if(b, o, "psi_some_avg10", p->some.have, p->some.avg10);
	jnum_if(b, o, "psi_some_avg60", p->some.have, p->some.avg60);
	jnum_if(b, o, "psi_some_avg300", p->some.have, p->some.avg300);
	jnum_if(b, o, "psi_full_avg10", p->full.have, p->full.avg10);
	jnum_if(b, o, "psi_full_avg60", p->full.have, p->full.avg60);
	jnum_if(b, o, "psi_full_avg300", p->full.have, p->full.avg300);
}

static const char *forecast_state_name(enum forecast_state s)
{
	static const char *const names[] = { "off", "unknown", "no history", "not growing",
					     "below floor", "growing" };

	return names[s];
}

/* The forecast of check and status: null when the run made none. */
static void json_forecast(struct jb *b, cJSON *root, const struct forecast *f)
{
	cJSON *o, *arr;

	if (f->state == FORECAST_OFF) {
		jstr(b, root, "forecast", NULL);
		return;
	}
	if ((o = jchild(b, root, "forecast", false)) == NULL)
		return;
	jstr(b, o, "state", forecast_state_name(f->state));
	jmem(b, o, "mem_available_bytes", f->available);
	jmem(b, o, "floor_bytes", f->floor);
	jbool(b, o, "floor_default", f->floor_default);
	jnum(b, o, "since_s", f->since);
	jnum(b, o, "growth_bytes_per_hour", f->bytes_per_hour);
	jnum_if(b, o, "seconds", f->seconds >= 0, f->seconds);
	jstr(b, o, "fastest_type", f->fastest >= 0 ? f->t[f->fastest].type : NULL);
	arr = jchild(b, o, "types", true);
	for (size_t i = 0; i < f->n; i++) {
		const struct forecast_type *t = &f->t[i];
		cJSON *e = jitem(b, arr);

		if (e == NULL)
			continue;
		jstr(b, e, "type", t->type);
		jnum(b, e, "workers", (double)t->workers);
		jnum_if(b, e, "growth_bytes_per_hour", t->have_rate, t->bytes_per_hour);
		jnum_if(b, e, "seconds", t->seconds >= 0 && f->state != FORECAST_UNKNOWN, t->seconds);
	}
}

/* A run the memory gates kept from restarting is "skipped", not "ok". */
static const char *outcome(const struct run_report *r)
{
	if (r->skipped[0] != '\0' && r->exit_status == KR_OK)
		return "skipped";
	return kr_status_name(r->exit_status);
}

static void json_healed(struct jb *b, cJSON *root, const struct run_report *r)
{
	cJSON *arr = jchild(b, root, "healed", true);

	for (size_t i = 0; i < r->nhealed; i++) {
		const struct healed_entry *h = &r->healed[i];
		cJSON *o = jitem(b, arr);

		if (o == NULL)
			continue;
		jnum(b, o, "number", (double)h->w.wno);
		jstr(b, o, "id", h->w.wid);
		jstr(b, o, "type", h->w.type);
		jstr(b, o, "state", worker_state_name(h->w.state));
		jmem(b, o, "pid", h->w.pid > 0 ? (long long)h->w.pid : -1);
		jstr(b, o, "why", h->w.why);
		jbool(b, o, "removed", h->removed);
		jstr(b, o, "error", h->refused[0] ? h->refused : NULL);
	}
}

cJSON *report_to_json(const struct run_report *r, bool *failed)
{
	struct jb b = { false };
	bool pss = run_pss(r);
	cJSON *root = cJSON_CreateObject();

	if (root == NULL) {
		*failed = true;
		return NULL;
	}
	jstr(&b, root, "site", r->site);
	jstr(&b, root, "command", r->command);
	jnum(&b, root, "started", (double)r->started);
	jnum(&b, root, "duration_ms", r->duration_ms);
	jstr(&b, root, "strategy", r->strategy);
	jstr(&b, root, "metric", r->metric);
	jbool(&b, root, "pss_fallback", r->pss_fallback);
	jbool(&b, root, "dry_run", r->dry_run);
	jstr(&b, root, "probe", r->probe);
	jbool(&b, root, "eval", r->eval);
	json_host(&b, root, &r->host);
	json_psi(&b, root, &r->psi);
	json_workers(&b, root, "workers_before", r->before, r->nbefore);
	if (r->sweep_conts_s > 0)
		sweep_to_json(&b, jchild(&b, root, "sweep", false), r);
	json_healed(&b, root, r);
	json_steps(&b, root, r, pss);
	json_workers(&b, root, "workers_after", r->after, r->nafter);
	json_types(&b, root, r);
	json_http(&b, root, r);
	json_forecast(&b, root, &r->forecast);
	jstr(&b, root, "outcome", outcome(r));
	jstr(&b, root, "skip_reason", r->skipped[0] ? r->skipped : NULL);
	jnum(&b, root, "exit_status", r->exit_status);
	jstr(&b, root, "error", r->error[0] ? r->error : NULL);
	*failed = b.failed;
	return root;
}

int report_json(const struct run_report *r, FILE *out, struct kr_err *err)
{
	bool failed = false;
	cJSON *root = report_to_json(r, &failed);

	return jprint(root, failed, out, err);
}
