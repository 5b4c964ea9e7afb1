#include "rollout.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drain.h"
#include "kahua_log.h"
#include "log.h"
#include "names.h"
#include "procinfo.h"

const struct spvr_ops kahua_spvr_ops = {
	.ls = kahua_ls,
	.restart = kahua_restart,
	.run = kahua_run,
	.kill = kahua_kill,
	.reload = kahua_reload,
	.probe = kahua_probe_worker,
	.eval = kahua_eval_workers,
	.grace = kahua_grace_workers,
};

const struct spvr_ops *rollout_spvr(const struct rollout *ro)
{
	return ro->spvr != NULL ? ro->spvr : &kahua_spvr_ops;
}

struct last_look {
	struct rollout *ro;
	struct restart_step *s;
};

/* How far a process start may lag the supervisor's :start-time. */
#define START_SLACK_S 5
#define LS_POLL_MS 50

/* Wait until s->old has finished the requests handed to it (drain.h), within limit_s. */
static void drain_for(struct rollout *ro, struct restart_step *s, double limit_s, int own,
		      struct drain_result *r)
{
	struct drain_req q = {
		.site = ro->site, .spvr_pid = ro->spvr_pid, .workers = &ro->current,
		.w = &s->old.w, .limit_s = limit_s,
		.deadline_ms = ro->deadline_ms, .stop = ro->stop, .own_conns = own,
	};

	drain_worker(&q, r);
	s->drain_tried = true;
	s->drained = r->drained;
	s->drain_ms += r->ms;
}

/* Within --drain-timeout. */
static void drain_step(struct rollout *ro, struct restart_step *s)
{
	struct drain_result r;

	drain_for(ro, s, ro->o->drain_timeout, 0, &r);
	if (r.drained)
		log_info("worker %s (%s, pid %d) idle after %.0f ms of draining", s->old.w.wid,
			 s->old.w.type, (int)s->old.w.pid, r.ms);
	else
		log_info("worker %s (%s, pid %d) not drained after %.0f ms: %s; terminating it anyway",
			 s->old.w.wid, s->old.w.type, (int)s->old.w.pid, r.ms, r.why);
}

/* The least a last look may take: its quiet window, with room to spare. */
#define LAST_LOOK_MIN_S 0.05

/*
 * Kahua picks a worker under its lock but connects to it outside, so a
 * request it takes between the drain's last look and the command that
 * terminates the worker can still reach it as it exits.  The look is
 * taken again once the control connection is made (wait.ready), so that
 * only writing the command is left between them; the time it took moves
 * the command's own limits.
 */
static void last_look(struct kahua_wait *w, void *ctx)
{
	struct restart_step *s = ((struct last_look *)ctx)->s;
	struct rollout *ro = ((struct last_look *)ctx)->ro;
	double left = ro->o->drain_timeout - s->drain_ms / 1000.0;
	long long t0 = kr_now_ms(), spent;
	struct drain_result r;

	if (!s->drained)
		return;
	drain_for(ro, s, left > LAST_LOOK_MIN_S ? left : LAST_LOOK_MIN_S, 1, &r);
	if (!r.drained)
		log_info("worker %s (%s, pid %d) busy again at the last look: %s; terminating it anyway",
			 s->old.w.wid, s->old.w.type, (int)s->old.w.pid, r.why);
	spent = kr_now_ms() - t0;
	if (w->soft_ms > 0)
		w->soft_ms += spent;
	w->deadline_ms = kr_earlier(ro->deadline_ms, w->deadline_ms + spent);
}

/* A wait whose last step, once connected, is the last look at s->old. */
static void with_last_look(struct kahua_wait *w, struct last_look *l, struct rollout *ro,
			   struct restart_step *s)
{
	*l = (struct last_look){ ro, s };
	if (!s->drain_tried)
		return;
	w->ready = last_look;
	w->ready_ctx = l;
}

size_t rollout_live_of(const struct worker_list *wl, const char *type)
{
	return worker_list_count(wl, type, true);
}

/*
 * The supervisor's pid as the parent every live worker must have, or 0.
 * A pid file that names none of the listed processes' parent is wrong
 * (stale, or another process's), not proof that every worker is dead:
 * only a worker's own pid then says whether it is gone.
 */
static pid_t parent_to_check(const struct rollout *ro, const struct worker_list *wl)
{
	bool any = false;

	for (size_t i = 0; i < wl->n; i++) {
		struct proc_stat st;

		if (wl->v[i].pid <= 0 || proc_stat_read(wl->v[i].pid, &st) < 0 || st.state == 'Z')
			continue;
		if (st.ppid == ro->spvr_pid)
			return ro->spvr_pid;
		any = true;
	}
	return any ? 0 : ro->spvr_pid;
}

void rollout_classify(const struct rollout *ro, struct worker_list *wl)
{
	pid_t parent = ro->spvr_pid > 0 ? parent_to_check(ro, wl) : 0;

	for (size_t i = 0; i < wl->n; i++) {
		struct worker *w = &wl->v[i];

		if (w->state == WORKER_BROKEN)
			continue;
		w->state = proc_worker_alive(w->pid, parent, w->why, sizeof w->why)
			   ? WORKER_LIVE : WORKER_DEAD;
	}
}

int rollout_ls(const struct rollout *ro, long long deadline_ms, struct worker_list *wl,
	       struct kr_err *err)
{
	if (rollout_spvr(ro)->ls(ro->site, deadline_ms, wl, err) < 0)
		return -1;
	rollout_classify(ro, wl);
	return 0;
}

/* Worker numbers only grow, and broken entries share one id: new means a new number. */
static bool has_wno(const struct worker_list *wl, long wno)
{
	return worker_list_wno(wl, wno) != NULL;
}

/*
 * A fresh ls into ro->current.  Its own time is the control timeout within
 * the run's: a caller's polling window that has just run out must end
 * with "not there", not with an ls cut short.
 */
int rollout_refresh(struct rollout *ro, struct kr_err *err)
{
	struct worker_list wl;

	if (rollout_ls(ro, kr_earlier(ro->deadline_ms, kr_now_ms() + kr_ms(ro->o->ctl_timeout)),
		       &wl, err) < 0)
		return -1;
	worker_list_free(&ro->current);
	ro->current = wl;
	return 0;
}

void rollout_observe(struct worker_obs *o, const struct worker *w, bool pss)
{
	bool live = w->state == WORKER_LIVE;

	o->w = *w;
	o->rss = live ? proc_rss(w->pid) : -1;
	o->pss = live && pss ? proc_pss(w->pid) : -1;
	o->age = (long long)time(NULL) - w->start_time;
	o->ev = (struct eval_result){ .outcome = EVAL_OFF, .conts = -1, .sessions = -1, .heap = -1, .heap_used = -1 };
}

bool rollout_uses_eval(const struct options *o)
{
	return !o->no_eval;
}

int rollout_probe_obs(const struct rollout *ro, struct worker_obs *o, long long deadline_ms,
		      struct kr_err *err)
{
	const struct worker *w = &o->w;

	if (!rollout_uses_eval(ro->o) || ro->o->probe == PROBE_HTTP)
		return rollout_spvr(ro)->probe(ro->site, w, deadline_ms, err);
	if (o->ev.outcome == EVAL_OFF)
		rollout_spvr(ro)->eval(ro->site, w, 1, deadline_ms, &o->ev);
	if (o->ev.outcome == EVAL_OK)
		return 0;
	if (o->ev.outcome == EVAL_NO_ANSWER)
		return kr_fail(err, KR_HEALTH, "worker %s (%s, pid %d): %s", w->wid, w->type,
			       (int)w->pid, o->ev.why);
	log_info("worker %s (%s): %s; probing with a web request instead", w->wid, w->type,
		 o->ev.why);
	return rollout_spvr(ro)->probe(ro->site, w, deadline_ms, err);
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
		log_event(EV_KILLED, "worker %s (pid %d) ignored SIGTERM for %gs: sent SIGKILL",
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
	long long patience = (kr_ms(o->kill_after) + kr_ms(o->worker_timeout) + kr_ms(o->term_grace)) *
			     (long long)(st->nolds ? st->nolds : 1);

	/* A worker in its grace (--term-grace) is not stuck yet. */
	return (struct kahua_wait){
		.deadline_ms = kr_earlier(ro->deadline_ms, now + patience),
		.soft_ms = now + kr_ms(o->kill_after) + kr_ms(o->term_grace),
		.on_slow = on_stuck,
		.ctx = st,
	};
}

/*
 * Just before the command that terminates ws[0..n): each is asked to serve
 * --term-grace more after its SIGTERM (kahua_grace.h), so that what the
 * supervisor handed it before taking its lock is answered.  One that does
 * not take it (no answer in time, eval refused, an older Kahua) is
 * terminated as before: the rollout never waits on it.
 */
static void arm_grace(struct rollout *ro, const struct worker *ws, size_t n)
{
	long long ms = llround(ro->o->term_grace * 1000);
	struct grace_result *res;

	if (ms <= 0 || n == 0 || !rollout_uses_eval(ro->o))
		return;
	res = calloc(n, sizeof *res);
	if (res == NULL) {
		log_info("grace: out of memory; terminating as Kahua does");
		return;
	}
	rollout_spvr(ro)->grace(ro->site, ws, n, ms,
				kr_earlier(ro->deadline_ms, kr_now_ms() + kr_ms(ro->o->ctl_timeout)), res);
	for (size_t i = 0; i < n; i++) {
		if (res[i].armed)
			log_info("worker %s (%s, pid %d) serves %lld ms more after its SIGTERM",
				 ws[i].wid, ws[i].type, (int)ws[i].pid, ms);
		else
			log_info("worker %s (%s, pid %d) takes no grace (%s): it stops at SIGTERM, as Kahua's do",
				 ws[i].wid, ws[i].type, (int)ws[i].pid, res[i].why);
	}
	free(res);
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
 * with a live pid, and the type back to its count (0); or a new entry of
 * the type that is broken or dead (1).  Polls ls briefly since the
 * supervisor may list the new worker a moment after replying.
 */
static int find_replacement(struct rollout *ro, const struct worker_list *before,
			    const struct restart_step *claimed, size_t nclaimed,
			    const struct worker *old, struct worker *out, struct kr_err *err)
{
	long long give_up = kr_earlier(ro->deadline_ms, kr_now_ms() + kr_ms(ro->o->worker_timeout));
	size_t want = rollout_live_of(before, old->type);

	for (;;) {
		if (rollout_refresh(ro, err) < 0)
			return -1;
		for (size_t i = 0; i < ro->current.n; i++) {
			const struct worker *w = &ro->current.v[i];

			if (strcmp(w->type, old->type) != 0 || has_wno(before, w->wno) ||
			    (w->state == WORKER_LIVE && claimed_by(claimed, nclaimed, w->wid)))
				continue;
			/* A replacement that cannot serve is known at once. */
			if (w->state != WORKER_LIVE) {
				*out = *w;
				return 1;
			}
			if (rollout_live_of(&ro->current, old->type) < want)
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
		       rollout_live_of(&ro->current, old->type), want, old->type);
}

int rollout_probe(const struct rollout *ro, const struct worker *w, struct kr_err *err)
{
	struct worker_obs o = { .w = *w };

	o.ev = (struct eval_result){ .outcome = EVAL_OFF, .conts = -1, .sessions = -1, .heap = -1, .heap_used = -1 };
	return rollout_probe_obs(ro, &o, kr_earlier(ro->deadline_ms,
						    kr_now_ms() + kr_ms(ro->o->worker_timeout)), err);
}

static int probe_new(struct rollout *ro, struct restart_step *s, struct kr_err *err)
{
	long long t0 = kr_now_ms();
	int rc = rollout_probe_obs(ro, &s->new,
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
/*
 * Remove an entry that cannot serve by its number (broken entries share
 * one id), so the supervisor sends it nothing more, and describe it with
 * the cause its worker logged: "worker 55 is broken (...): removed it;
 * LOG: *** READ-ERROR: ...".
 */
#define KILL_TRIES 3
#define KILL_RETRY_MS 200

/* (kill WNO), and the entry gone from the ls it answers. */
static int kill_once(struct rollout *ro, long wno, struct kr_err *err)
{
	struct kahua_wait w = { .deadline_ms = kr_earlier(ro->deadline_ms,
							  kr_now_ms() + kr_ms(ro->o->ctl_timeout)) };
	struct worker_list after = { 0 };
	bool kept;

	if (rollout_spvr(ro)->kill(ro->site, wno, &w, &after, err) < 0)
		return -1;
	rollout_classify(ro, &after);
	worker_list_free(&ro->current);
	ro->current = after;
	kept = has_wno(&ro->current, wno);
	if (kept) {
		kr_fail(err, KR_UNAVAILABLE, "the supervisor answered (kill %ld) but still lists worker %ld", wno, wno);
		err->cause = KR_CAUSE_REFUSED;
	}
	return kept ? -1 : 0;
}

/*
 * Kahua refuses the kill of an entry whose worker has just exited
 * ("kill failed: No such process": its main loop reaped the process
 * while the kill was under way), and from then on takes that entry for
 * one being terminated: every later kill answers OK and removes nothing,
 * until kahua-spvr itself is restarted.  Tried a few times, then said.
 */
int rollout_kill_entry(struct rollout *ro, long wno, struct kr_err *err)
{
	char first[KR_ERR_MSG_MAX / 2] = "";
	struct kr_err lserr;

	for (int i = 1;; i++) {
		if (kill_once(ro, wno, err) == 0)
			return 0;
		/* Kahua 1.0 drops a dead entry by itself: one gone meanwhile is done. */
		if (err->cause == KR_CAUSE_NO_TARGET && rollout_refresh(ro, &lserr) == 0 &&
		    !has_wno(&ro->current, wno)) {
			log_info("worker %ld left ls by itself before its (kill %ld)", wno, wno);
			return 0;
		}
		if (err->cause != KR_CAUSE_REFUSED)
			return -1;
		if (first[0] == '\0')
			snprintf(first, sizeof first, "%.400s", err->msg);
		/* Kahua's waitpid race: the kill failed after the entry was removed. */
		if (rollout_refresh(ro, &lserr) == 0 && !has_wno(&ro->current, wno)) {
			log_info("%s, but worker %ld is gone", err->msg, wno);
			return 0;
		}
		if (i == KILL_TRIES || kr_now_ms() + KILL_RETRY_MS >= ro->deadline_ms)
			break;
		log_info("%s; trying again", err->msg);
		kr_sleep_until(kr_now_ms() + KILL_RETRY_MS, ro->stop);
	}
	kr_fail(err, KR_UNAVAILABLE, "the supervisor would not remove worker %ld (%s): Kahua keeps an entry it once failed to kill until kahua-spvr is restarted",
		wno, first);
	err->cause = KR_CAUSE_REFUSED;
	return -1;
}

/* (kill WNO); "removed it" or why not. */
static void remove_entry(struct rollout *ro, long wno, char *removed, size_t size)
{
	struct kr_err kerr;

	if (rollout_kill_entry(ro, wno, &kerr) < 0)
		snprintf(removed, size, "could not remove it: %.200s", kerr.msg);
	else
		snprintf(removed, size, "removed it");
}

void rollout_remove_failed(struct rollout *ro, const struct worker *bad, char *what, size_t wsize,
			   char *cause, size_t csize)
{
	char logged[KR_ERR_MSG_MAX / 2], removed[KR_ERR_MSG_MAX / 4], console[KR_ERR_MSG_MAX / 2];
	char *path = kahua_log_path(ro->site);

	remove_entry(ro, bad->wno, removed, sizeof removed);
	/* Cut to size: the log line at the end is what may be shortened. */
	if (snprintf(what, wsize, "worker %ld is %s (%s): %s", bad->wno,
		     worker_state_name(bad->state), bad->why, removed) < 0)
		what[0] = '\0';
	if (kahua_log_cause(ro->site, bad->pid, bad->type, bad->wno, logged, sizeof logged) == 0) {
		if (snprintf(cause, csize, "%s: %s", path ? path : "kahua-spvr.log", logged) < 0)
			cause[0] = '\0';
	} else if (kahua_console_cause(ro->site, bad->start_time - 1, console, sizeof console) == 0) {
		snprintf(cause, csize, "%s", console);
	} else if (snprintf(cause, csize, "%s: %s; %s", path ? path : "kahua-spvr.log", logged,
			    console) < 0) {
		cause[0] = '\0';
	}
	log_info("%s; %s", what, cause);
	free(path);
}

/*
 * The replacement of s->old cannot serve.  It is removed; the type stays
 * one short, since a top-up would start the same code again.
 */
static int replacement_failed(struct rollout *ro, struct restart_step *s, const struct worker *bad,
			      size_t want, struct kr_err *err)
{
	char what[KR_ERR_MSG_MAX / 3], cause[KR_ERR_MSG_MAX / 2];

	rollout_remove_failed(ro, bad, what, sizeof what, cause, sizeof cause);
	kr_fail(err, KR_HEALTH, "worker %s (%s) was restarted, but its replacement %s; %s is one short (%zu of %zu workers), not topped up: a new worker would load the same code; %s",
		s->old.w.wid, s->old.w.type, what, s->old.w.type,
		rollout_live_of(&ro->current, s->old.w.type), want, cause);
	return step_fail(s, err);
}

static int step_replaced(struct rollout *ro, struct restart_step *steps, size_t idx,
			 const struct worker_list *before, long long t0, struct kr_err *err)
{
	struct restart_step *s = &steps[idx];
	size_t want = rollout_live_of(before, s->old.w.type);
	struct worker bad;
	int found = find_replacement(ro, before, steps, idx, &s->old.w, &s->new.w, err);

	if (found < 0)
		return step_fail(s, err);
	if (found == 1)
		return replacement_failed(ro, s, &s->new.w, want, err);
	rollout_observe(&s->new, &s->new.w, true);
	s->have_new = true;
	if (probe_new(ro, s, err) < 0) {
		/* Dead within --worker-timeout: its entry would fail every request. */
		bad = s->new.w;
		rollout_classify(ro, &(struct worker_list){ &bad, 1 });
		if (bad.state != WORKER_LIVE)
			return replacement_failed(ro, s, &bad, want, err);
		return step_fail(s, err);
	}
	s->restart_ms = (double)(kr_now_ms() - t0);
	s->result = STEP_OK;
	log_info("restarted worker %s (%s, pid %d) -> %s (pid %d) in %.0f ms, probe %.0f ms",
		 s->old.w.wid, s->old.w.type, (int)s->old.w.pid, s->new.w.wid,
		 (int)s->new.w.pid, s->restart_ms, s->probe_ms);
	return 0;
}

/* A worker of type in ro->current that before did not list. */
static bool has_new_of(const struct rollout *ro, const struct worker_list *before, const char *type)
{
	for (size_t i = 0; i < ro->current.n; i++)
		if (strcmp(ro->current.v[i].type, type) == 0 && !has_wno(before, ro->current.v[i].wno))
			return true;
	return false;
}

/*
 * The supervisor failed a restart it accepted: under load Kahua's main
 * loop may reap the old worker before the restart's own waitpid, which
 * then fails, and no replacement is started.  When the old worker is gone
 * and nothing replaced it, start one with (run TYPE) at once; the step is
 * then judged by that worker's health, as any replacement.
 */
static int restart_lost(struct rollout *ro, struct restart_step *s, long long t0, struct kr_err *err)
{
	const struct worker *old = &s->old.w;
	struct worker_list before = ro->current;
	struct worker started;
	struct kr_err lserr, rerr;
	char said[KR_ERR_MSG_MAX / 3];
	bool ran;
	int rc;

	ro->current = (struct worker_list){ 0 };
	if (rollout_refresh(ro, &lserr) < 0 || worker_list_wid(&ro->current, old->wid) != NULL) {
		worker_list_free(&ro->current);
		ro->current = before;
		return step_fail(s, err);
	}
	snprintf(said, sizeof said, "%.300s", err->msg);
	ran = !has_new_of(ro, &before, old->type);
	if (ran &&
	    rollout_spvr(ro)->run(ro->site, old->type,
		      kr_earlier(ro->deadline_ms, kr_now_ms() + kr_ms(ro->o->worker_timeout + ro->o->ctl_timeout)),
		      &started, &rerr) < 0) {
		kr_fail(err, KR_HEALTH, "worker %s (%s, pid %d) was terminated but its replacement did not come up (%s); (run %s) failed too (%.300s): %s now has %zu of %zu workers",
			old->wid, old->type, (int)old->pid, said, old->type, rerr.msg, old->type,
			rollout_live_of(&ro->current, old->type), rollout_live_of(&before, old->type));
		worker_list_free(&before);
		return step_fail(s, err);
	}
	rc = step_replaced(ro, s, 0, &before, t0, err);
	if (rc == 0) {
		if (ran)
			snprintf(s->recovered, sizeof s->recovered,
				 "waitpid race: replacement started with (run %s)", old->type);
		else
			snprintf(s->recovered, sizeof s->recovered,
				 "waitpid race: the supervisor started the replacement after its error");
		log_event(EV_RECOVERED, "worker %s (%s) was terminated but the supervisor started no replacement (%s): %s worker %ld (pid %d)%s",
			  old->wid, old->type, said, ran ? "started" : "it listed", s->new.w.wno,
			  (int)s->new.w.pid, ran ? " with (run TYPE)" : " later");
	}
	worker_list_free(&before);
	return rc;
}

/*
 * The supervisor failed a kill it accepted: as with restart, under load
 * Kahua's main loop may reap the terminated worker before the kill's own
 * waitpid, which then fails ("waitpid() failed: No child processes").
 * Kahua unregisters a worker before it waits for it, so the kill did
 * what it was for when the old worker is no longer listed.
 */
static int kill_lost(struct rollout *ro, struct restart_step *s, const struct kr_err *err)
{
	struct kr_err lserr;

	if (rollout_refresh(ro, &lserr) < 0 || worker_list_wid(&ro->current, s->old.w.wid) != NULL)
		return -1;
	snprintf(s->recovered, sizeof s->recovered,
		 "waitpid race: (kill %ld) failed after the worker was gone and unlisted", s->old.w.wno);
	log_event(EV_RECOVERED, "worker %s (%s, pid %d) is gone and no longer listed, though the supervisor answered its (kill %ld) with an error (%.300s): worker %s serves in its place",
		  s->old.w.wid, s->old.w.type, (int)s->old.w.pid, s->old.w.wno, err->msg, s->new.w.wid);
	return 0;
}

/* Why a restart failed, with what the stuck-worker check found. */
static void stuck_verdict(const struct stuck *st, struct kr_err *err)
{
	if (st->refused[0] != '\0') {
		kr_fail(err, KR_UNAVAILABLE, "%s", st->refused);
		return;
	}
	if (err->cause != KR_CAUSE_TIMEOUT || st->healthy[0] == '\0')
		return;
	kr_refail(err, KR_UNAVAILABLE, "%.400s; %s", err->msg, st->healthy);
}

static int rolling_step(struct rollout *ro, struct restart_step *s, struct kr_err *err)
{
	const struct worker *olds[1] = { &s->old.w };
	struct stuck st = { .ro = ro, .olds = olds, .nolds = 1 };
	struct kahua_wait wait;
	struct worker_list before = { 0 };
	long long t0 = kr_now_ms();
	char target[KAHUA_WID_MAX + 8];
	struct last_look look;
	int rc;

	wid_sexp(s->old.w.wid, target, sizeof target);
	log_info("restarting worker %s (%s, pid %d): %s", s->old.w.wid, s->old.w.type,
		 (int)s->old.w.pid, s->reason);
	arm_grace(ro, &s->old.w, 1);
	/* The command's limits start once the worker has answered. */
	wait = stuck_wait(ro, &st);
	with_last_look(&wait, &look, ro, s);
	rc = rollout_spvr(ro)->restart(ro->site, target, &wait, &ro->current, err);
	s->killed = st.killed;
	if (rc < 0) {
		stuck_verdict(&st, err);
		if (err->cause == KR_CAUSE_REFUSED)
			return restart_lost(ro, s, t0, err);
		return step_fail(s, err);
	}
	/* ro->current is replaced by the next ls; keep the old view. */
	before = ro->current;
	ro->current = (struct worker_list){ 0 };
	rc = step_replaced(ro, s, 0, &before, t0, err);
	worker_list_free(&before);
	return rc;
}

/*
 * The extra worker of a surge cannot serve: remove it, the old one keeps
 * serving and the type loses nothing.
 */
static int surge_failed(struct rollout *ro, struct restart_step *s, struct kr_err *err)
{
	char said[KR_ERR_MSG_MAX / 3], probe[KR_ERR_MSG_MAX / 3], cause[KR_ERR_MSG_MAX / 3];
	struct worker bad = s->new.w;

	if (bad.state == WORKER_LIVE) {
		snprintf(probe, sizeof probe, "%.300s", err->msg);
		rollout_classify(ro, &(struct worker_list){ &bad, 1 });
	}
	rollout_observe(&s->new, &s->new.w, true);
	s->have_new = true;
	if (bad.state == WORKER_LIVE) {
		remove_entry(ro, bad.wno, said, sizeof said);
		kr_fail(err, KR_HEALTH, "a new %s worker (worker %ld) failed its probe: %s; %s; worker %s keeps serving, nothing lost",
			bad.type, bad.wno, probe, said, s->old.w.wid);
	} else {
		rollout_remove_failed(ro, &bad, said, sizeof said, cause, sizeof cause);
		kr_fail(err, KR_HEALTH, "a new %s worker did not come up: %s; worker %s keeps serving, nothing lost; %s",
			bad.type, said, s->old.w.wid, cause);
	}
	return step_fail(s, err);
}

/* Surge: the new worker first, then the old one goes. */
static int surge_step(struct rollout *ro, struct restart_step *s, struct kr_err *err)
{
	const struct worker *olds[1] = { &s->old.w };
	struct stuck st = { .ro = ro, .olds = olds, .nolds = 1 };
	long long t0 = kr_now_ms();
	struct worker_list after = { 0 };
	struct kahua_wait wait;
	struct last_look look;
	struct kr_err lserr;
	int rc;

	log_info("surging worker %s (%s, pid %d): %s", s->old.w.wid, s->old.w.type,
		 (int)s->old.w.pid, s->reason);
	if (rollout_spvr(ro)->run(ro->site, s->old.w.type,
		      kr_earlier(ro->deadline_ms, t0 + kr_ms(ro->o->worker_timeout + ro->o->ctl_timeout)),
		      &s->new.w, err) < 0) {
		/* The supervisor could not start the new worker: it is unhealthy. */
		if (err->cause == KR_CAUSE_REFUSED)
			kr_refail(err, KR_HEALTH, "a new %s worker did not come up; worker %s keeps serving (%.400s)",
				  s->old.w.type, s->old.w.wid, err->msg);
		return step_fail(s, err);
	}
	rollout_classify(ro, &(struct worker_list){ &s->new.w, 1 });
	if (s->new.w.state != WORKER_LIVE || probe_new(ro, s, err) < 0)
		return surge_failed(ro, s, err);
	rollout_observe(&s->new, &s->new.w, true);
	s->have_new = true;
	/* The new worker takes requests too: the drain counts what it holds. */
	if (rollout_refresh(ro, &lserr) < 0)
		log_info("ls before draining %s: %s", s->old.w.wid, lserr.msg);
	drain_step(ro, s);
	arm_grace(ro, &s->old.w, 1);
	wait = stuck_wait(ro, &st);
	with_last_look(&wait, &look, ro, s);
	rc = rollout_spvr(ro)->kill(ro->site, s->old.w.wno, &wait, &after, err);
	s->killed = st.killed;
	if (rc < 0) {
		stuck_verdict(&st, err);
		if (err->cause != KR_CAUSE_REFUSED || kill_lost(ro, s, err) < 0)
			return step_fail(s, err);
	} else {
		worker_list_free(&ro->current);
		ro->current = after;
	}
	if (worker_list_wid(&ro->current, s->old.w.wid) != NULL) {
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
	struct worker *olds = everything ? calloc(n, sizeof *olds) : NULL;

	/* (restart *): every worker at once, before the one command. */
	for (size_t i = 0; olds != NULL && i < n; i++)
		olds[i] = steps[i].old.w;
	if (olds != NULL)
		arm_grace(ro, olds, n);
	free(olds);
	for (size_t i = 0; i < (everything ? 1 : n); i++) {
		struct kahua_wait wait;

		if (!everything)
			arm_grace(ro, &steps[i].old.w, 1);
		wait = stuck_wait(ro, st);
		if (everything)
			snprintf(target, sizeof target, "*");
		else
			wid_sexp(steps[i].old.w.wid, target, sizeof target);
		if (rollout_spvr(ro)->restart(ro->site, target, &wait, &ro->current, err) < 0)
			return -1;
	}
	return 0;
}

/* After one command restarted many: no new entry that cannot serve stays. */
static void remove_new_failed(struct rollout *ro, const struct worker_list *before)
{
	struct kr_err lserr;
	char removed[KR_ERR_MSG_MAX / 4];
	long *wnos;
	size_t n = 0;

	if (rollout_refresh(ro, &lserr) < 0 || (wnos = calloc(ro->current.n + 1, sizeof *wnos)) == NULL)
		return;
	for (size_t i = 0; i < ro->current.n; i++) {
		const struct worker *w = &ro->current.v[i];

		if (w->state == WORKER_LIVE || has_wno(before, w->wno))
			continue;
		log_info("worker %ld (%s) is %s (%s): removing it", w->wno, w->type,
			 worker_state_name(w->state), w->why);
		wnos[n++] = w->wno;
	}
	for (size_t i = 0; i < n; i++)
		remove_entry(ro, wnos[i], removed, sizeof removed);
	free(wnos);
}

/* Start workers of type until ro->current has want live ones; how many were started. */
static int run_up_to(struct rollout *ro, const char *type, size_t want, size_t *started,
		     struct kr_err *err)
{
	size_t have = rollout_live_of(&ro->current, type);
	struct worker w;

	for (; have < want; have++, (*started)++)
		if (rollout_spvr(ro)->run(ro->site, type,
					  kr_earlier(ro->deadline_ms, kr_now_ms() + kr_ms(ro->o->worker_timeout + ro->o->ctl_timeout)),
					  &w, err) < 0)
			return kr_refail(err, KR_HEALTH, "(run %s) failed too (%.300s): %s now has %zu of %zu workers",
					 type, err->msg, type, have, want);
	return 0;
}

/*
 * Kahua lost its waitpid race inside one restart command: it stops at the
 * worker whose exit its main loop reaped first, so the workers it had
 * terminated are gone, none was started, and those it had not reached
 * still serve.  Their steps are left undone; the gone ones are replaced
 * with (run TYPE) at once and judged as any replacement.  ro->current
 * stays the ls from before the command.
 */
static int all_lost(struct rollout *ro, struct restart_step *steps, size_t n, struct kr_err *err)
{
	struct worker_list before = ro->current;
	struct name_set types = { 0 };
	struct kr_err lserr;
	char said[KR_ERR_MSG_MAX / 3];
	size_t started = 0;
	int rc = 0;

	snprintf(said, sizeof said, "%.300s", err->msg);
	ro->current = (struct worker_list){ 0 };
	if (rollout_refresh(ro, &lserr) < 0) {
		ro->current = before;
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (worker_list_wid(&ro->current, steps[i].old.w.wid) != NULL)
			steps[i].result = STEP_ABANDONED;
		if (name_set_add(&types, steps[i].old.w.type) < 0)
			rc = kr_fail(err, KR_SOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < types.n && rc == 0; i++)
		rc = run_up_to(ro, types.v[i], rollout_live_of(&before, types.v[i]), &started, err);
	name_set_free(&types);
	worker_list_free(&ro->current);
	ro->current = before;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (steps[i].result != STEP_ABANDONED)
			snprintf(steps[i].recovered, sizeof steps[i].recovered,
				 "waitpid race: replacement started with (run %s)", steps[i].old.w.type);
	if (rc == 0)
		log_event(EV_RECOVERED, "the supervisor failed the restart (%s) with workers terminated and none started: started %zu with (run TYPE)",
			  said, started);
	return rc;
}

/*
 * The workers a (restart *) that lost the race did not reach still serve
 * their old selves: each is restarted on its own, as rolling does, so the
 * run ends as asked.  Recorded, like the race, on its step.
 */
static int all_finish(struct rollout *ro, struct restart_step *steps, size_t n, size_t *done,
		      struct kr_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct restart_step *s = &steps[i];

		if (s->result != STEP_ABANDONED)
			continue;
		/* As between the steps of rolling: a restart sent must be seen through. */
		if (*ro->stop || kr_now_ms() >= ro->deadline_ms) {
			kr_fail(err, *ro->stop ? KR_SIGNAL_BASE + *ro->stop : KR_UNAVAILABLE,
				"%s before worker %s was restarted; it keeps running",
				*ro->stop ? "stopped by a signal" : "run time limit (--timeout) reached",
				s->old.w.wid);
			return -1;
		}
		s->result = STEP_PLANNED;
		if (rolling_step(ro, s, err) < 0)
			return -1;
		if (s->recovered[0] == '\0')
			snprintf(s->recovered, sizeof s->recovered,
				 "waitpid race: (restart *) stopped before this worker; restarted it on its own");
		(*done)++;
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
		if (err->cause != KR_CAUSE_REFUSED || all_lost(ro, steps, n, err) < 0) {
			for (size_t i = 0; i < n; i++)
				step_fail(&steps[i], err);
			return -1;
		}
		rc = 0;
	}
	before = ro->current;
	ro->current = (struct worker_list){ 0 };
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (steps[i].result == STEP_ABANDONED)
			continue;
		rc = step_replaced(ro, steps, i, &before, t0, err);
		*done += rc == 0;
	}
	if (rc < 0)
		remove_new_failed(ro, &before);
	worker_list_free(&before);
	return rc < 0 ? rc : all_finish(ro, steps, n, done, err);
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

		if (rollout_refresh(ro, err) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			short_types += want[i].wanted > 0 &&
				       (long)rollout_live_of(&ro->current, want[i].type) < want[i].wanted;
		if (short_types == 0)
			return 0;
		if (kr_now_ms() >= deadline_ms)
			return kr_fail(err, KR_UNAVAILABLE, "%zu worker types still short after reload",
				       short_types);
		kr_sleep_until(kr_now_ms() + LS_POLL_MS, NULL);
	}
}
