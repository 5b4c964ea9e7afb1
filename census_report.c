/*
 * census_report.c: census blocks and sweep entries, as text and JSON.
 */
#include "census_report.h"

#include <stdlib.h>

#include "fmt.h"

static double share(long long part, long long total)
{
	return total > 0 ? 100.0 * (double)part / (double)total : 0;
}

static void ages_line(const char *what, const struct census_ages *a, bool permanent, FILE *out)
{
	if (a->under_1m < 0) {
		fprintf(out, "  %-14s %lld (Kahua records no ages for them)\n", what, a->total);
		return;
	}
	fprintf(out, "  %-14s %lld: <1m %lld, 1-10m %lld, 10m-timeout %lld, overdue %lld", what,
		a->total, a->under_1m, a->m1_10, a->m10_timeout, a->overdue);
	if (permanent)
		fprintf(out, ", permanent %lld", a->permanent);
	fputc('\n', out);
}

static void census_block(const struct census_entry *e, FILE *out)
{
	const struct census *c = &e->c;
	char used[32], heap[32];
	long long shown = 0;

	if (c->outcome != EVAL_OK) {
		fprintf(out, "worker %ld  pid %d  %s  %s: no census: %s\n\n", e->w.wno, (int)e->w.pid,
			e->w.type, e->w.wid, c->why);
		return;
	}
	fmt_bytes(c->heap_used, used, sizeof used);
	fmt_bytes(c->heap, heap, sizeof heap);
	fprintf(out, "worker %ld  pid %d  %s  %s: %lld continuations, heap %s in use of %s\n",
		e->w.wno, (int)e->w.pid, e->w.type, e->w.wid, c->conts.total, used, heap);
	ages_line("continuations", &c->conts, true, out);
	ages_line("state sessions", &c->sessions, false, out);
	if (c->stride > 1)
		fprintf(out, "  makers counted on 1 continuation in %lld (~: estimates)\n", c->stride);
	for (size_t i = 0; i < c->nmakers; i++) {
		const struct census_maker *m = &c->makers[i];

		shown += m->count;
		fprintf(out, " %s%8lld %5.1f%%  %s%s\n", c->stride > 1 ? "~" : " ", m->count,
			share(m->count, c->conts.total), m->permanent ? "[permanent] " : "", m->label);
	}
	if (c->groups > (long long)c->nmakers && c->conts.total > shown)
		fprintf(out, " %s%8lld %5.1f%%  (%lld smaller makers)\n", c->stride > 1 ? "~" : " ",
			c->conts.total - shown, share(c->conts.total - shown, c->conts.total),
			c->groups - (long long)c->nmakers);
	fputc('\n', out);
}

void census_table(const struct run_report *r, long timeout_mins, FILE *out)
{
	fprintf(out, "census of %zu workers; :timeout-mins %ld\n\n", r->ncensus, timeout_mins);
	for (size_t i = 0; i < r->ncensus; i++)
		census_block(&r->census[i], out);
}

void census_age_notes(const struct run_report *r, FILE *out)
{
	for (size_t i = 0; i < r->ncensus; i++) {
		const struct census_entry *e = &r->census[i];
		const struct census_ages *a = &e->c.conts;

		if (e->c.outcome != EVAL_OK) {
			fprintf(out, "# worker %ld (%s): ages unavailable: %s\n", e->w.wno, e->w.type,
				e->c.why);
			continue;
		}
		fprintf(out, "# worker %ld (%s) continuations by age: <1m %lld, 1-10m %lld, "
			"10m-timeout %lld, overdue %lld, permanent %lld\n", e->w.wno, e->w.type,
			a->under_1m, a->m1_10, a->m10_timeout, a->overdue, a->permanent);
	}
}

static cJSON *jcount(struct jb *b, cJSON *o, const char *key, long long v)
{
	return jnum_if(b, o, key, v >= 0, (double)v);
}

static void json_ages(struct jb *b, cJSON *o, const struct census_ages *a, bool permanent)
{
	if (o == NULL)
		return;
	jcount(b, o, "total", a->total);
	jcount(b, o, "under_1m", a->under_1m);
	jcount(b, o, "1m_10m", a->m1_10);
	jcount(b, o, "10m_timeout", a->m10_timeout);
	jcount(b, o, "overdue", a->overdue);
	if (permanent)
		jcount(b, o, "permanent", a->permanent);
}

static const char *outcome_name(enum eval_outcome o)
{
	return o == EVAL_OK ? "ok" : o == EVAL_UNREADABLE ? "unreadable" : "no_answer";
}

static void json_worker_id(struct jb *b, cJSON *o, const struct worker *w)
{
	jstr(b, o, "id", w->wid);
	jnum(b, o, "number", (double)w->wno);
	jcount(b, o, "pid", w->pid > 0 ? (long long)w->pid : -1);
	jstr(b, o, "type", w->type);
}

static void json_census(struct jb *b, cJSON *o, const struct census_entry *e)
{
	const struct census *c = &e->c;
	cJSON *makers;

	if (o == NULL)
		return;
	json_worker_id(b, o, &e->w);
	jstr(b, o, "outcome", outcome_name(c->outcome));
	jstr(b, o, "why", c->outcome == EVAL_OK ? NULL : c->why);
	json_ages(b, jchild(b, o, "continuations", false), &c->conts, true);
	json_ages(b, jchild(b, o, "state_sessions", false), &c->sessions, false);
	jcount(b, o, "heap_bytes", c->heap);
	jcount(b, o, "heap_used_bytes", c->heap_used);
	jcount(b, o, "census_us", c->elapsed_us);
	jcount(b, o, "maker_groups", c->groups);
	jcount(b, o, "maker_stride", c->stride);
	makers = jchild(b, o, "makers", true);
	for (size_t i = 0; i < c->nmakers; i++) {
		cJSON *m = jitem(b, makers);

		if (m == NULL)
			continue;
		jnum(b, m, "count", (double)c->makers[i].count);
		jnum(b, m, "share", share(c->makers[i].count, c->conts.total));
		jbool(b, m, "permanent", c->makers[i].permanent);
		jstr(b, m, "label", c->makers[i].label);
	}
}

int census_json(const struct run_report *r, long timeout_mins, FILE *out, struct kr_err *err)
{
	struct jb b = { false };
	cJSON *root = cJSON_CreateObject(), *arr;

	if (root == NULL)
		return kr_fail(err, KR_SOFTWARE, "JSON report: out of memory");
	jstr(&b, root, "site", r->site);
	jstr(&b, root, "command", "census");
	jnum(&b, root, "timeout_mins", (double)timeout_mins);
	arr = jchild(&b, root, "workers", true);
	for (size_t i = 0; i < r->ncensus; i++)
		json_census(&b, jitem(&b, arr), &r->census[i]);
	return jprint(root, b.failed, out, err);
}

void sweep_to_json(struct jb *b, cJSON *obj, const struct run_report *r)
{
	cJSON *arr;

	if (obj == NULL)
		return;
	jnum(b, obj, "sweep_conts_s", (double)r->sweep_conts_s);
	jcount(b, obj, "sweep_sessions_s", r->sweep_sessions_s);
	arr = jchild(b, obj, "workers", true);
	for (size_t i = 0; i < r->nsweep; i++) {
		const struct sweep_entry *e = &r->sweep[i];
		cJSON *o = jitem(b, arr);

		if (o == NULL)
			continue;
		json_worker_id(b, o, &e->w);
		jstr(b, o, "outcome", e->res.outcome == EVAL_OK ? "ok" : "failed");
		jstr(b, o, "why", e->res.outcome == EVAL_OK ? NULL : e->res.why);
		jcount(b, o, "swept_continuations", e->res.swept_conts);
		jcount(b, o, "swept_sessions", e->res.swept_sessions);
		jcount(b, o, "continuations_after", e->res.conts_after);
		jcount(b, o, "heap_used_before", e->res.heap_used_before);
		jcount(b, o, "heap_used_after", e->res.heap_used_after);
	}
}

int sweep_json(const struct run_report *r, FILE *out, struct kr_err *err)
{
	struct jb b = { false };
	cJSON *root = cJSON_CreateObject();

	if (root == NULL)
		return kr_fail(err, KR_SOFTWARE, "JSON report: out of memory");
	jstr(&b, root, "site", r->site);
	jstr(&b, root, "command", "sweep");
	sweep_to_json(&b, root, r);
	jnum(&b, root, "exit_status", r->exit_status);
	jstr(&b, root, "error", r->error[0] ? r->error : NULL);
	return jprint(root, b.failed, out, err);
}
