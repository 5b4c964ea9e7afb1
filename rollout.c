#include "rollout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drain.h"
#include "log.h"
#include "procinfo.h"

/* How far a process start may lag the supervisor's :start-time. */
#define START_SLACK_S 5
#define LS_POLL_MS 50

/*
 * Wait until the worker about to be terminated has finished the requests
 * handed to it (drain.h), within --drain-timeout.
 */
static void drain_step(struct rollout *ro, struct restart_step *s)
{
	struct drain_req q = {
		.site = ro->site, .spvr_pid = ro->spvr_pid, .workers = &ro->current,
		.w = &s->old.w, .limit_s = ro->o->drain_timeout,
		.deadline_ms = ro->deadline_ms, .stop = ro->stop,
	};
	struct drain_result r;

	drain_worker(&q, &r);
	s->drain_tried = true;
	s->drained = r.drained;
	s->drain_ms = r.ms;
	if (r.drained)
		log_info("worker %s (%s, pid %d) idle after %.0f ms of draining", s->old.w.wid,
			 s->old.w.type, (int)s->old.w.pid, r.ms);
	else
		log_info("worker %s (%s, pid %d) not drained after %.0f ms: %s; terminating it anyway",
			 s->old.w.wid, s->old.w.type, (int)s->old.w.pid, r.ms, r.why);
}

static size_t count_type(const struct worker_list *wl, const char *type)
{
	size_t n = 0;

	for (size_t i = 0; i < wl->n; i++)
		n += strcmp(wl->v[i].type, type) == 0;
	return n;
}

static const struct worker *find_wid(const struct worker_list *wl, const char *wid)
{
	for (size_t i = 0; i < wl->n; i++)
		if (strcmp(wl->v[i].wid, wid) == 0)
			return &wl->v[i];
	return NULL;
}

static int refresh(struct rollout *ro, long long deadline_ms, struct kr_err *err)
{
	struct worker_list wl;

	if (kahua_ls(ro->site, kr_earlier(deadline_ms, kr_now_ms() + kr_ms(ro->o->ctl_timeout)),
		     &wl, err) < 0)
		return -1;
	worker_list_free(&ro->current);
	ro->current = wl;
	return 0;
}

void rollout_observe(struct worker_obs *o, const struct worker *w)
{
	o->w = *w;
	o->rss = proc_rss(w->pid);
	o->pss = proc_pss(w->pid);
	o->age = (long long)time(NULL) - w->start_time;
	o->ev = (struct eval_result){ .outcome = EVAL_OFF, .conts = -1, .sessions = -1, .heap = -1 };
}

bool rollout_uses_eval(const struct options *o)
{
	return !o->no_eval;
}

int rollout_probe(const struct rollout *ro, struct worker_obs *o, long long deadline_ms,
		  struct kr_err *err)
{
	const struct worker *w = &o->w;

	if (!rollout_uses_eval(ro->o) || ro->o->probe == PROBE_HTTP)
		return kahua_probe_worker(ro->site, w, deadline_ms, err);
	if (o->ev.outcome == EVAL_OFF)
		kahua_eval_workers(ro->site, w, 1, deadline_ms, &o->ev);
	if (o->ev.outcome == EVAL_OK)
		return 0;
	if (o->ev.outcome == EVAL_NO_ANSWER)
		return kr_fail(err, KR_HEALTH, "worker %s (%s, pid %d): %s", w->wid, w->type,
			       (int)w->pid, o->ev.why);
	log_info("worker %s (%s): %s; probing with a web request instead", w->wid, w->type,
		 o->ev.why);
	return kahua_probe_worker(ro->site, w, deadline_ms, err);
}

/*
 * What a stuck restart waits on.  SIGKILL only a worker that the supervisor
 * has asked to stop and that has not: alive with SIGTERM ignored, blocked
 * or pending, and proven to be the supervisor's own child.  A worker that
 * would obey SIGTERM is not stuck; the supervisor is, and killing the
 * worker would only cost the site a worker.
 */
struct stuck {
	struct rollout *ro;
	const struct worker *const *olds;
	size_t nolds;
	bool killed;
	char refused[KR_ERR_MSG_MAX];   /* a kill the checks refused */
	char healthy[KR_ERR_MSG_MAX / 2]; /* an old worker that would obey SIGTERM */
};

static bool waiting_on_term(pid_t pid)
{
	struct proc_sigs s;

	return proc_signals(pid, &s) == 0 && s.sigterm_held;
}

static long long on_stuck(void *ctx)
{
	struct stuck *st = ctx;
	const struct options *o = st->ro->o;

	for (size_t i = 0; i < st->nolds; i++) {
		const struct worker *w = st->olds[i];
		struct proc_expect e = { w->pid, st->ro->spvr_pid, w->start_time, START_SLACK_S };
		struct kr_err kerr;

		if (!proc_alive(w->pid))
			continue;
		if (!waiting_on_term(w->pid)) {
			snprintf(st->healthy, sizeof st->healthy,
				 "worker %s (pid %d) would obey SIGTERM, so the supervisor is stuck, not the worker: not killed",
				 w->wid, (int)w->pid);
			continue;
		}
		if (proc_guarded_kill(&e, SIGKILL, &kerr) < 0) {
			snprintf(st->refused, sizeof st->refused, "worker %s stuck in restart: %.800s",
				 w->wid, kerr.msg);
			log_info("%s", st->refused);
			return 0;
		}
		log_warn("worker %s (pid %d) ignored SIGTERM for %gs: sent SIGKILL",
			 w->wid, (int)w->pid, o->kill_after);
		st->killed = true;
		/* Several stuck workers in one restart each get their turn. */
		return kr_now_ms() + kr_ms(o->kill_after);
	}
	return kr_now_ms() + kr_ms(o->kill_after);
}

/* Wait for a command that terminates olds, killing a stuck one. */
static struct kahua_wait stuck_wait(struct rollout *ro, struct stuck *st)
{
	long long now = kr_now_ms();
	const struct options *o = ro->o;
	long long patience = kr_ms(o->kill_after) * (long long)(st->nolds ? st->nolds : 1) +
			     kr_ms(o->worker_timeout) * (long long)(st->nolds ? st->nolds : 1);

	return (struct kahua_wait){
		.deadline_ms = kr_earlier(ro->deadline_ms, now + patience),
		.soft_ms = now + kr_ms(o->kill_after),
		.on_slow = on_stuck,
		.ctx = st,
	};
}

/* The target as the supervisor reads it: a worker id is a string. */
static void wid_sexp(const char *wid, char *out, size_t size)
{
	struct sx_buf b = { 0 };

	if (sx_write_string(&b, wid, strlen(wid)) < 0 || b.len >= size)
		snprintf(out, size, "\"\"");
	else
		memcpy(out, b.s, b.len + 1);
	sx_buf_free(&b);
}

/* A replacement an earlier step of the same command already took. */
static bool claimed_by(const struct restart_step *steps, size_t n, const char *wid)
{
	for (size_t i = 0; i < n; i++)
		if (steps[i].have_new && strcmp(steps[i].new.w.wid, wid) == 0)
			return true;
	return false;
}

/*
 * After old was replaced: a worker of its type that was not in before,
 * with a live pid, and the type back to its count.  Polls ls briefly since
 * the supervisor may list the new worker a moment after replying.
 */
static int find_replacement(struct rollout *ro, const struct worker_list *before,
			    const struct restart_step *claimed, size_t nclaimed,
			    const struct worker *old, struct worker *out, struct kr_err *err)
{
	long long give_up = kr_earlier(ro->deadline_ms, kr_now_ms() + kr_ms(ro->o->worker_timeout));
	size_t want = count_type(before, old->type);

	for (;;) {
		if (refresh(ro, give_up, err) < 0)
			return -1;
		for (size_t i = 0; i < ro->current.n; i++) {
			const struct worker *w = &ro->current.v[i];

			if (strcmp(w->type, old->type) != 0 || find_wid(before, w->wid) != NULL ||
			    claimed_by(claimed, nclaimed, w->wid) || !proc_alive(w->pid) ||
			    count_type(&ro->current, old->type) < want)
				continue;
			*out = *w;
			return 0;
		}
		if (kr_now_ms() >= give_up)
			break;
		kr_sleep_until(kr_now_ms() + LS_POLL_MS, NULL);
	}
	return kr_fail(err, KR_HEALTH, "worker %s (%s): no replacement in ls within %gs (%zu of %zu %s workers running)",
		       old->wid, old->type, ro->o->worker_timeout,
		       count_type(&ro->current, old->type), want, old->type);
}

static int probe_new(struct rollout *ro, struct restart_step *s, struct kr_err *err)
{
	long long t0 = kr_now_ms();
	int rc = rollout_probe(ro, &s->new,
			       kr_earlier(ro->deadline_ms, t0 + kr_ms(ro->o->worker_timeout)), err);

	s->probe_ms = (double)(kr_now_ms() - t0);
	return rc;
}

static int step_fail(struct restart_step *s, struct kr_err *err)
{
	s->result = STEP_FAILED;
	snprintf(s->why, sizeof s->why, "%s", err->msg);
	return -1;
}

/* steps[0..idx) are replacements already claimed by earlier steps. */
static int step_replaced(struct rollout *ro, struct restart_step *steps, size_t idx,
			 const struct worker_list *before, long long t0, struct kr_err *err)
{
	struct restart_step *s = &steps[idx];

	if (find_replacement(ro, before, steps, idx, &s->old.w, &s->new.w, err) < 0)
		return step_fail(s, err);
	rollout_observe(&s->new, &s->new.w);
	s->have_new = true;
	if (probe_new(ro, s, err) < 0)
		return step_fail(s, err);
	s->restart_ms = (double)(kr_now_ms() - t0);
	s->result = STEP_OK;
	log_info("restarted worker %s (%s, pid %d) -> %s (pid %d) in %.0f ms, probe %.0f ms",
		 s->old.w.wid, s->old.w.type, (int)s->old.w.pid, s->new.w.wid,
		 (int)s->new.w.pid, s->restart_ms, s->probe_ms);
	return 0;
}

/*
 * The supervisor failed a restart it accepted.  If the old worker is gone
 * it was terminated and its replacement never came up: that is an
 * unhealthy replacement (exit 1), not an unreachable supervisor.
 */
static void replacement_lost(struct rollout *ro, const struct worker *old, struct kr_err *err)
{
	struct worker_list before = ro->current;
	struct kr_err lserr;
	char said[KR_ERR_MSG_MAX / 2];

	ro->current = (struct worker_list){ 0 };
	if (refresh(ro, ro->deadline_ms, &lserr) < 0 || find_wid(&ro->current, old->wid) != NULL) {
		worker_list_free(&ro->current);
		ro->current = before;
		return;
	}
	snprintf(said, sizeof said, "%.400s", err->msg);
	kr_fail(err, KR_HEALTH, "worker %s (%s, pid %d) was terminated but its replacement did not come up; "
		"%s now has %zu of %zu workers (%s)", old->wid, old->type, (int)old->pid, old->type,
		count_type(&ro->current, old->type), count_type(&before, old->type), said);
	worker_list_free(&before);
}

/* Why a restart failed, with what the stuck-worker check found. */
static void stuck_verdict(const struct stuck *st, struct kr_err *err)
{
	char said[KR_ERR_MSG_MAX / 2];

	if (st->refused[0] != '\0') {
		kr_fail(err, KR_UNAVAILABLE, "%s", st->refused);
		return;
	}
	if (err->cause != KR_CAUSE_TIMEOUT || st->healthy[0] == '\0')
		return;
	snprintf(said, sizeof said, "%.400s", err->msg);
	kr_fail(err, KR_UNAVAILABLE, "%s; %s", said, st->healthy);
	err->cause = KR_CAUSE_TIMEOUT;
}

static int rolling_step(struct rollout *ro, struct restart_step *s, struct kr_err *err)
{
	const struct worker *olds[1] = { &s->old.w };
	struct stuck st = { .ro = ro, .olds = olds, .nolds = 1 };
	struct kahua_wait wait = stuck_wait(ro, &st);
	struct worker_list before = { 0 };
	long long t0 = kr_now_ms();
	char target[KAHUA_WID_MAX + 8];
	char **ids = NULL;
	size_t nids = 0;
	int rc;

	wid_sexp(s->old.w.wid, target, sizeof target);
	log_info("restarting worker %s (%s, pid %d): %s", s->old.w.wid, s->old.w.type,
		 (int)s->old.w.pid, s->reason);
	rc = kahua_restart(ro->site, target, &wait, &ids, &nids, &ro->current, err);
	s->killed = st.killed;
	kahua_free_ids(ids, nids);
	if (rc < 0) {
		stuck_verdict(&st, err);
		if (err->cause == KR_CAUSE_REFUSED)
			replacement_lost(ro, &s->old.w, err);
		return step_fail(s, err);
	}
	/* ro->current is replaced by the next ls; keep the old view. */
	before = ro->current;
	ro->current = (struct worker_list){ 0 };
	rc = step_replaced(ro, s, 0, &before, t0, err);
	worker_list_free(&before);
	return rc;
}

/* Surge: the new worker first, then the old one goes. */
static int surge_step(struct rollout *ro, struct restart_step *s, struct kr_err *err)
{
	const struct worker *olds[1] = { &s->old.w };
	struct stuck st = { .ro = ro, .olds = olds, .nolds = 1 };
	long long t0 = kr_now_ms();
	struct worker_list after = { 0 };
	struct kahua_wait wait;
	struct kr_err lserr;
	int rc;

	log_info("surging worker %s (%s, pid %d): %s", s->old.w.wid, s->old.w.type,
		 (int)s->old.w.pid, s->reason);
	if (kahua_run(ro->site, s->old.w.type,
		      kr_earlier(ro->deadline_ms, t0 + kr_ms(ro->o->worker_timeout + ro->o->ctl_timeout)),
		      &s->new.w, err) < 0) {
		/* The supervisor could not start the new worker: it is unhealthy. */
		if (err->cause == KR_CAUSE_REFUSED) {
			char said[KR_ERR_MSG_MAX / 2];

			snprintf(said, sizeof said, "%.400s", err->msg);
			kr_fail(err, KR_HEALTH, "a new %s worker did not come up; worker %s keeps serving (%s)",
				s->old.w.type, s->old.w.wid, said);
		}
		return step_fail(s, err);
	}
	rollout_observe(&s->new, &s->new.w);
	s->have_new = true;
	if (probe_new(ro, s, err) < 0) {
		struct kr_err kerr;
		struct kahua_wait w2 = { .deadline_ms = kr_earlier(ro->deadline_ms,
							       kr_now_ms() + kr_ms(ro->o->ctl_timeout)) };

		/* The extra worker failed: remove it, the old one keeps serving. */
		if (kahua_kill(ro->site, s->new.w.wno, &w2, &after, &kerr) == 0)
			worker_list_free(&after);
		else
			log_error("removing failed new worker %s: %s", s->new.w.wid, kerr.msg);
		return step_fail(s, err);
	}
	/* The new worker takes requests too: the drain counts what it holds. */
	if (refresh(ro, kr_earlier(ro->deadline_ms, kr_now_ms() + kr_ms(ro->o->ctl_timeout)), &lserr) < 0)
		log_info("ls before draining %s: %s", s->old.w.wid, lserr.msg);
	drain_step(ro, s);
	wait = stuck_wait(ro, &st);
	rc = kahua_kill(ro->site, s->old.w.wno, &wait, &after, err);
	s->killed = st.killed;
	if (rc < 0) {
		stuck_verdict(&st, err);
		return step_fail(s, err);
	}
	worker_list_free(&ro->current);
	ro->current = after;
	if (find_wid(&ro->current, s->old.w.wid) != NULL) {
		kr_fail(err, KR_UNAVAILABLE, "worker %s still listed after kill", s->old.w.wid);
		return step_fail(s, err);
	}
	s->restart_ms = (double)(kr_now_ms() - t0);
	s->result = STEP_OK;
	log_info("replaced worker %s (pid %d) by %s (pid %d) in %.0f ms, probe %.0f ms",
		 s->old.w.wid, (int)s->old.w.pid, s->new.w.wid, (int)s->new.w.pid,
		 s->restart_ms, s->probe_ms);
	return 0;
}

/*
 * All: one (restart *) when every worker is planned, as kahua-admin does;
 * otherwise the planned workers back to back.  Then every replacement is
 * checked.
 */
static int all_commands(struct rollout *ro, struct restart_step *steps, size_t n,
			struct stuck *st, struct kr_err *err)
{
	bool everything = n == ro->current.n;
	char target[KAHUA_WID_MAX + 8];

	for (size_t i = 0; i < (everything ? 1 : n); i++) {
		struct kahua_wait wait = stuck_wait(ro, st);
		char **ids = NULL;
		size_t nids = 0;
		int rc;

		if (everything)
			snprintf(target, sizeof target, "*");
		else
			wid_sexp(steps[i].old.w.wid, target, sizeof target);
		rc = kahua_restart(ro->site, target, &wait, &ids, &nids, &ro->current, err);
		kahua_free_ids(ids, nids);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int all_steps(struct rollout *ro, struct restart_step *steps, size_t n,
		     size_t *done, struct kr_err *err)
{
	const struct worker **olds = calloc(n, sizeof *olds);
	struct stuck st = { .ro = ro, .olds = olds, .nolds = n };
	struct worker_list before;
	long long t0 = kr_now_ms();
	int rc;

	if (olds == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	for (size_t i = 0; i < n; i++)
		olds[i] = &steps[i].old.w;
	log_info("restarting %zu workers at once", n);
	rc = all_commands(ro, steps, n, &st, err);
	free(olds);
	for (size_t i = 0; i < n; i++)
		steps[i].killed = st.killed;
	if (rc < 0) {
		stuck_verdict(&st, err);
		for (size_t i = 0; i < n; i++)
			step_fail(&steps[i], err);
		return -1;
	}
	before = ro->current;
	ro->current = (struct worker_list){ 0 };
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = step_replaced(ro, steps, i, &before, t0, err);
		*done += rc == 0;
	}
	worker_list_free(&before);
	return rc;
}

/*
 * Out of run time or asked to stop before step i: the steps from i on are
 * abandoned, their workers untouched.  A restart sent without time to see
 * it through would go on untracked.
 */
static bool halted(struct rollout *ro, struct restart_step *steps, size_t i, size_t n,
		   struct kr_err *err)
{
	if (kr_now_ms() < ro->deadline_ms && !*ro->stop)
		return false;
	for (size_t j = i; j < n; j++)
		steps[j].result = STEP_ABANDONED;
	if (*ro->stop) {
		kr_fail(err, KR_SIGNAL_BASE + *ro->stop,
			"stopped by signal %d after %zu of %zu workers; the rest keep running",
			(int)*ro->stop, i, n);
		return true;
	}
	kr_fail(err, KR_UNAVAILABLE,
		"run time limit (--timeout) reached after %zu of %zu workers; the rest keep running", i, n);
	err->cause = KR_CAUSE_TIMEOUT;
	return true;
}

int rollout_run(struct rollout *ro, struct restart_step *steps, size_t n,
		size_t *done, struct kr_err *err)
{
	*done = 0;
	if (ro->o->strategy == STRATEGY_ALL)
		return n == 0 ? 0 : all_steps(ro, steps, n, done, err);
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (halted(ro, steps, i, n, err))
			return -1;
		if (ro->o->strategy == STRATEGY_ROLLING) {
			drain_step(ro, &steps[i]);
			if (halted(ro, steps, i, n, err))
				return -1;
		}
		rc = ro->o->strategy == STRATEGY_SURGE ? surge_step(ro, &steps[i], err)
						       : rolling_step(ro, &steps[i], err);
		if (rc == 0 && ro->check_site != NULL &&
		    ro->check_site(ro->check_ctx, &steps[i], err) < 0)
			rc = step_fail(&steps[i], err);
		if (rc < 0)
			return -1;
		(*done)++;
	}
	return 0;
}

int rollout_wait_counts(struct rollout *ro, const struct type_count *want, size_t n,
			long long deadline_ms, struct kr_err *err)
{
	for (;;) {
		size_t short_types = 0;

		if (refresh(ro, deadline_ms, err) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			short_types += want[i].wanted > 0 &&
				       (long)count_type(&ro->current, want[i].type) < want[i].wanted;
		if (short_types == 0)
			return 0;
		if (kr_now_ms() >= deadline_ms)
			return kr_fail(err, KR_UNAVAILABLE, "%zu worker types still short after reload",
				       short_types);
		kr_sleep_until(kr_now_ms() + LS_POLL_MS, NULL);
	}
}
