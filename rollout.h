/*
 * rollout.h: restarting the planned workers by one strategy.
 *
 * rolling: one worker at a time by worker id; the replacement must show
 *          in ls (same type, live pid, the type's count whole again) and
 *          answer a probe on its own socket before the next one.
 * surge:   run a new worker of the type first, probe it, then kill the
 *          old one, so the type never has fewer workers than before.
 * all:     one restart command for everything, as kahua-admin does; then
 *          the same checks for every replacement.
 *
 * The rollout stops at the first replacement that fails its probe or,
 * after it, the site's check; the workers not yet restarted keep serving.  A stop request (signal) is honoured between
 * workers, never in the middle of one.
 */
#ifndef KR_ROLLOUT_H
#define KR_ROLLOUT_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "kahua_ctl.h"
#include "kahua_eval.h"
#include "kahua_grace.h"
#include "options.h"
#include "model.h"

/*
 * The supervisor as the rollout and the healing use it.  kahua_spvr_ops
 * speaks to kahua-spvr; a unit test puts a scripted supervisor in its
 * place (replies, delays, errors, a replacement that never shows).
 * Workers are real processes either way: /proc is always read.
 */
struct spvr_ops {
	int (*ls)(const struct kahua_site *site, long long deadline_ms, struct worker_list *wl,
		  struct kr_err *err);
	int (*restart)(const struct kahua_site *site, const char *target_sexp,
		       const struct kahua_wait *wait, const struct worker_list *known,
		       struct kr_err *err);
	int (*run)(const struct kahua_site *site, const char *type, long long deadline_ms,
		   struct worker *w, struct kr_err *err);
	int (*kill)(const struct kahua_site *site, long wno, const struct kahua_wait *wait,
		    struct worker_list *after, struct kr_err *err);
	int (*reload)(const struct kahua_site *site, long long deadline_ms, struct kr_err *err);
	/* The web request kahua-httpd would send, on the worker's own socket. */
	int (*probe)(const struct kahua_site *site, const struct worker *w, long long deadline_ms,
		     struct kr_err *err);
	/* What each worker holds (kahua_eval.h). */
	void (*eval)(const struct kahua_site *site, const struct worker *ws, size_t n,
		     long long deadline_ms, struct eval_result *res);
	/* Each worker serves ms more after its SIGTERM (kahua_grace.h). */
	void (*grace)(const struct kahua_site *site, const struct worker *ws, size_t n,
		      long long ms, long long deadline_ms, struct grace_result *res);
};

extern const struct spvr_ops kahua_spvr_ops;

struct rollout {
	const struct spvr_ops *spvr;    /* NULL: kahua_spvr_ops */
	const struct kahua_site *site;
	const struct options *o;
	pid_t spvr_pid;
	long long deadline_ms;          /* the whole run's */
	volatile sig_atomic_t *stop;    /* signal number, 0 while running */
	struct worker_list current;     /* the latest ls */
	/* Run after each healthy replacement (rolling, surge); may be NULL. */
	int (*check_site)(void *ctx, const struct restart_step *s, struct kr_err *err);
	void *check_ctx;
};

/* The supervisor ro speaks to: ro->spvr, or kahua_spvr_ops. */
const struct spvr_ops *rollout_spvr(const struct rollout *ro);

/*
 * Restart steps[0..n) by o->strategy.  Each step's result, timings and
 * replacement are filled in.  Returns 0, or -1 with err set at the first
 * failure (KR_HEALTH for a replacement that does not come up healthy,
 * KR_UNAVAILABLE for the supervisor).  *done counts the finished steps.
 */
int rollout_run(struct rollout *ro, struct restart_step *steps, size_t n,
		size_t *done, struct kr_err *err);

/*
 * ls with every entry classified: broken (from its id), dead (its pid is
 * #f, gone, a zombie or not the supervisor's child) or live.
 */
int rollout_ls(const struct rollout *ro, long long deadline_ms, struct worker_list *wl,
	       struct kr_err *err);
void rollout_classify(const struct rollout *ro, struct worker_list *wl);

/* A fresh ls into ro->current, classified, within the control timeout. */
int rollout_refresh(struct rollout *ro, struct kr_err *err);

/* (kill WNO); ro->current becomes the ls after it, classified. */
int rollout_kill_entry(struct rollout *ro, long wno, struct kr_err *err);

/*
 * Remove an entry that cannot serve with (kill WNO): by its number, since
 * broken entries share one id.  what: "worker 55 is broken (...): removed
 * it"; cause: the log's path and the "*** " line its worker logged.
 */
void rollout_remove_failed(struct rollout *ro, const struct worker *bad, char *what, size_t wsize,
			   char *cause, size_t csize);

/* Probe w on its own socket within --worker-timeout (rollout_probe_obs). */
int rollout_probe(const struct rollout *ro, const struct worker *w, struct kr_err *err);

/* Live entries of type in wl. */
size_t rollout_live_of(const struct worker_list *wl, const char *type);

/*
 * A worker with its memory and age as /proc and the supervisor tell them;
 * PSS only when pss (smaps_rollup costs about 0.6 ms per 50 MB worker).
 */
void rollout_observe(struct worker_obs *o, const struct worker *w, bool pss);

/* Does the run ask workers what they hold (eval)? */
bool rollout_uses_eval(const struct options *o);

/*
 * Probe one worker on its own socket.  By eval (the default): the answer
 * o->ev already holds, else one asked now; a worker that does not answer
 * is unhealthy, and one whose answer is unreadable gets the web request
 * instead, since that proves no more than that it runs.  With --probe
 * http or --no-eval: the web request kahua-httpd would send.  -1 with err
 * (KR_HEALTH) when unhealthy.
 */
int rollout_probe_obs(const struct rollout *ro, struct worker_obs *o, long long deadline_ms,
		      struct kr_err *err);

/* Wait until ls shows every type at least at its count in want. */
int rollout_wait_counts(struct rollout *ro, const struct type_count *want, size_t n,
			long long deadline_ms, struct kr_err *err);

#endif
