/*
 * sweep.c: sweep the chosen workers and carry the figures after it.
 */
#include "sweep.h"

#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "log.h"

int sweep_check(const struct options *o, const struct kahua_site *site, struct kr_err *err)
{
	double limit = (double)site->timeout_mins * 60;

	if (o->sweep_conts >= limit)
		return kr_fail(err, KR_USAGE,
			       "--sweep-conts %gs is not below the site's :timeout-mins %ld (%s): Kahua expires those itself",
			       o->sweep_conts, site->timeout_mins, site->conf_path);
	if (o->sweep_sessions >= limit)
		return kr_fail(err, KR_USAGE,
			       "--sweep-sessions %gs is not below the site's :timeout-mins %ld (%s): Kahua expires those itself",
			       o->sweep_sessions, site->timeout_mins, site->conf_path);
	return 0;
}

/* The worker's observed figures, as they are after its sweep. */
static void carry(struct run_report *r, const struct sweep_entry *e)
{
	for (size_t i = 0; i < r->nbefore; i++) {
		struct eval_result *ev = &r->before[i].ev;

		if (r->before[i].w.pid != e->w.pid || strcmp(r->before[i].w.wid, e->w.wid) != 0)
			continue;
		ev->outcome = EVAL_OK;
		ev->conts = e->res.conts_after;
		ev->sessions = e->res.sessions_after;
		ev->heap = e->res.heap_after;
		ev->heap_used = e->res.heap_used_after;
	}
}

static void narrate(const struct sweep_entry *e)
{
	char before[32], after[32], sessions[32] = "not swept";

	if (e->res.outcome != EVAL_OK)
		return;
	fmt_bytes(e->res.heap_used_before, before, sizeof before);
	fmt_bytes(e->res.heap_used_after, after, sizeof after);
	if (e->res.swept_sessions >= 0)
		snprintf(sessions, sizeof sessions, "%lld", e->res.swept_sessions);
	log_info("worker %s (%s, pid %d) swept: %lld continuations (%lld left), state sessions %s, heap in use %s -> %s",
		 e->w.wid, e->w.type, (int)e->w.pid, e->res.swept_conts, e->res.conts_after,
		 sessions, before, after);
}

size_t sweep_run(struct run_report *r, const struct kahua_site *site, const struct options *o,
		 const struct restart_step *steps, size_t n, long long deadline_ms)
{
	struct worker *ws = calloc(n ? n : 1, sizeof *ws);
	struct sweep_result *res = calloc(n ? n : 1, sizeof *res);
	size_t live = 0, failed = 0;

	r->sweep_conts_s = (long long)o->sweep_conts;
	r->sweep_sessions_s = o->sweep_sessions > 0 ? (long long)o->sweep_sessions : -1;
	free(r->sweep);
	r->sweep = calloc(n ? n : 1, sizeof *r->sweep);
	r->nsweep = 0;
	if (ws == NULL || res == NULL || r->sweep == NULL) {
		free(ws);
		free(res);
		log_error("sweep: out of memory");
		return n ? n : 1;
	}
	for (size_t i = 0; i < n; i++)
		if (steps[i].old.w.state == WORKER_LIVE)
			ws[live++] = steps[i].old.w;
	if (kahua_sweep_workers(site, ws, live, r->sweep_conts_s, r->sweep_sessions_s,
				deadline_ms, res) < 0) {
		for (size_t i = 0; i < live; i++)
			res[i] = (struct sweep_result){ .outcome = EVAL_UNREADABLE,
							.why = "sweep age out of range" };
	}
	for (size_t i = 0; i < live; i++) {
		struct sweep_entry *e = &r->sweep[r->nsweep++];

		e->w = ws[i];
		e->res = res[i];
		if (res[i].outcome != EVAL_OK) {
			failed++;
			continue;
		}
		narrate(e);
		carry(r, e);
	}
	free(ws);
	free(res);
	return failed;
}
