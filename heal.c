#include "heal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

#define LS_POLL_MS 50

static struct type_count *type_of(struct heal *h, const char *type)
{
	for (size_t i = 0; i < h->ntypes; i++)
		if (strcmp(h->types[i].type, type) == 0)
			return &h->types[i];
	return NULL;
}

static bool was_healed(const struct heal *h, const char *type)
{
	for (size_t i = 0; i < h->nhealed; i++)
		if (strcmp(h->healed[i].w.type, type) == 0)
			return true;
	return false;
}

/*
 * Every entry that cannot serve, removed by number.  One the supervisor
 * will not remove is said and left (the rollout can still do its work);
 * a supervisor that does not answer ends the run.
 */
static int remove_failing(struct heal *h, struct kr_err *err)
{
	const struct worker_list *wl = &h->ro->current;

	h->healed = calloc(wl->n ? wl->n : 1, sizeof *h->healed);
	if (h->healed == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	for (size_t i = 0; i < wl->n; i++)
		if (wl->v[i].state != WORKER_LIVE)
			h->healed[h->nhealed++].w = wl->v[i];
	for (size_t i = 0; i < h->nhealed && !h->dry_run; i++) {
		struct healed_entry *e = &h->healed[i];
		struct kr_err kerr;

		if (rollout_kill_entry(h->ro, e->w.wno, &kerr) < 0) {
			if (kerr.cause != KR_CAUSE_REFUSED) {
				*err = kerr;
				return -1;
			}
			snprintf(e->refused, sizeof e->refused, "%.500s", kerr.msg);
			continue;
		}
		e->removed = true;
		log_info("removed worker %ld (%s, %s): %s", e->w.wno, e->w.type,
			 worker_state_name(e->w.state), e->w.why);
	}
	return 0;
}

/* Types below :run-by-default; those short for another reason than a healed entry are said. */
static size_t short_types(struct heal *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->ntypes; i++) {
		struct type_count *t = &h->types[i];
		long live = (long)rollout_live_of(&h->ro->current, t->type);

		if (t->wanted < 0 || live >= t->wanted)
			continue;
		n++;
		t->topped_up = h->top_up && !h->dry_run;
		if (!was_healed(h, t->type) && !h->dry_run)
			log_event(EV_TYPE_SHORT, "type %s: %ld of %ld workers running%s", t->type,
				  live, t->wanted, h->top_up ? "; topping up with reload" : "");
	}
	return n;
}

/* After (reload): every short type listed up to :run-by-default, in whatever state. */
static int await_top_up(struct heal *h, struct kr_err *err)
{
	struct rollout *ro = h->ro;
	long long give_up = kr_earlier(ro->deadline_ms, kr_now_ms() + kr_ms(ro->o->worker_timeout));

	for (;;) {
		size_t missing = 0;

		if (rollout_refresh(ro, err) < 0)
			return -1;
		for (size_t i = 0; i < h->ntypes; i++)
			missing += h->types[i].wanted > 0 &&
				   (long)worker_list_count(&ro->current, h->types[i].type, false) < h->types[i].wanted;
		if (missing == 0)
			return 0;
		if (kr_now_ms() >= give_up)
			return kr_fail(err, KR_UNAVAILABLE, "%zu worker types still short %gs after reload",
				       missing, ro->o->worker_timeout);
		kr_sleep_until(kr_now_ms() + LS_POLL_MS, NULL);
	}
}

/* A worker the top-up started cannot serve: removed, and the run stops. */
static int new_worker_failed(struct heal *h, const struct worker *bad, struct kr_err *err)
{
	char what[KR_ERR_MSG_MAX / 3], cause[KR_ERR_MSG_MAX / 2];
	const struct type_count *t = type_of(h, bad->type);

	rollout_remove_failed(h->ro, bad, what, sizeof what, cause, sizeof cause);
	return kr_fail(err, KR_HEALTH, "topping up %s: %s; %s has %zu of %ld workers, not topped up again: a new worker would load the same code; %s",
		       bad->type, what, bad->type, rollout_live_of(&h->ro->current, bad->type),
		       t != NULL ? t->wanted : -1L, cause);
}

/* The workers the top-up brought: each must be live and answer its probe. */
static int check_new(struct heal *h, const struct worker_list *before, struct kr_err *err)
{
	struct worker_list now = h->ro->current;
	struct worker *fresh = calloc(now.n ? now.n : 1, sizeof *fresh);
	size_t n = 0;
	int rc = 0;

	if (fresh == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	for (size_t i = 0; i < now.n; i++)
		if (worker_list_wno(before, now.v[i].wno) == NULL)
			fresh[n++] = now.v[i];
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct worker *w = &fresh[i];

		if (w->state != WORKER_LIVE) {
			rc = new_worker_failed(h, w, err);
		} else if (rollout_probe(h->ro, w, err) < 0) {
			rollout_classify(h->ro, &(struct worker_list){ w, 1 });
			rc = w->state != WORKER_LIVE ? new_worker_failed(h, w, err) : -1;
		} else {
			log_info("top-up: worker %ld (%s, pid %d) answers", w->wno, w->type, (int)w->pid);
		}
	}
	free(fresh);
	return rc;
}

static int list_copy(const struct worker_list *from, struct worker_list *to, struct kr_err *err)
{
	to->n = 0;
	to->v = calloc(from->n ? from->n : 1, sizeof *to->v);
	if (to->v == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	/* An empty list may have no array: memcpy from NULL is undefined even for 0 bytes. */
	if (from->n > 0)
		memcpy(to->v, from->v, from->n * sizeof *to->v);
	to->n = from->n;
	return 0;
}

/*
 * reload counts every entry of a type, so one the supervisor would not
 * remove still holds its place: start what is missing with (run TYPE).
 */
static int run_missing(struct heal *h, struct kr_err *err)
{
	struct rollout *ro = h->ro;

	for (size_t i = 0; i < h->ntypes; i++) {
		const struct type_count *t = &h->types[i];
		long live = (long)rollout_live_of(&ro->current, t->type);
		struct worker w;

		for (; t->wanted > 0 && live < t->wanted; live++) {
			log_info("%s has %ld of %ld live workers after reload: (run %s)", t->type, live,
				 t->wanted, t->type);
			if (rollout_spvr(ro)->run(ro->site, t->type,
				      kr_earlier(ro->deadline_ms, kr_now_ms() +
						 kr_ms(ro->o->worker_timeout + ro->o->ctl_timeout)),
				      &w, err) < 0)
				return -1;
		}
	}
	return rollout_refresh(ro, err);
}

/* After the top-up, each type at :run-by-default in live workers. */
static int still_short(struct heal *h, struct kr_err *err)
{
	for (size_t i = 0; i < h->ntypes; i++) {
		const struct type_count *t = &h->types[i];
		size_t live = rollout_live_of(&h->ro->current, t->type);

		if (t->wanted > 0 && (long)live < t->wanted)
			return kr_fail(err, KR_HEALTH, "%s has %zu of %ld live workers after topping up",
				       t->type, live, t->wanted);
	}
	return 0;
}

static int top_up(struct heal *h, struct kr_err *err)
{
	struct rollout *ro = h->ro;
	struct worker_list before = { 0 };
	int rc;

	if (short_types(h) == 0 || !h->top_up || h->dry_run)
		return 0;
	if (rollout_spvr(ro)->reload(ro->site, kr_earlier(ro->deadline_ms, kr_now_ms() + kr_ms(ro->o->ctl_timeout)),
			 err) < 0)
		return -1;
	before = ro->current;
	ro->current = (struct worker_list){ 0 };
	rc = await_top_up(h, err);
	if (rc == 0)
		rc = check_new(h, &before, err);
	/* Only a type whose reload went well is started with run: no broken code twice. */
	worker_list_free(&before);
	if (rc == 0)
		rc = list_copy(&ro->current, &before, err);
	if (rc == 0) {
		rc = run_missing(h, err);
		if (rc == 0)
			rc = check_new(h, &before, err);
		if (rc == 0)
			rc = still_short(h, err);
		worker_list_free(&before);
	}
	return rc;
}

/* "leaky back to 1 of 1", or how far from it the type is. */
static void type_now(const struct heal *h, const char *type, char *out, size_t size)
{
	const struct type_count *t = type_of((struct heal *)h, type);
	long live = (long)rollout_live_of(&h->ro->current, type);

	if (t == NULL || t->wanted < 0)
		snprintf(out, size, "%s has %ld workers", type, live);
	else if (live >= t->wanted)
		snprintf(out, size, "%s back to %ld of %ld", type, live, t->wanted);
	else
		snprintf(out, size, "%s has %ld of %ld%s", type, live, t->wanted,
			 h->top_up ? "" : " (not topped up: --no-top-up)");
}

/* One warning per healed entry, so that cron mails it. */
static void warn_healed(const struct heal *h)
{
	for (size_t i = 0; i < h->nhealed; i++) {
		const struct healed_entry *e = &h->healed[i];
		char now[KAHUA_NAME_MAX * 2 + 64];

		if (!e->removed && e->refused[0] == '\0')
			continue;
		type_now(h, e->w.type, now, sizeof now);
		if (e->removed)
			log_event(EV_WORKER_GONE, "worker %ld (%s) %s (%s) and still received requests: removed; %s",
				  e->w.wno, e->w.type, e->w.state == WORKER_BROKEN ? "was broken" : "had died",
				  e->w.why, now);
		else
			log_event(EV_WORKER_GONE, "worker %ld (%s) %s (%s) and still receives requests: %s; %s has %zu live of %ld",
				  e->w.wno, e->w.type, e->w.state == WORKER_BROKEN ? "is broken" : "has died",
				  e->w.why, e->refused, e->w.type, rollout_live_of(&h->ro->current, e->w.type),
				  type_of((struct heal *)h, e->w.type) ? type_of((struct heal *)h, e->w.type)->wanted : -1L);
	}
}

int heal_site(struct heal *h, struct kr_err *err)
{
	int rc = remove_failing(h, err);

	if (rc == 0)
		rc = top_up(h, err);
	warn_healed(h);
	return rc;
}
