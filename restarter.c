/*
 * kahua-restarter: restart a Kahua site's workers through its supervisor
 * and prove the site still answers.
 *
 * This file knows the order of a run: options, site, lock, ls, plan,
 * top-up, rollout, health checks, report.  The protocol, /proc, HTTP and
 * formatting live in their own modules.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "census_report.h"
#include "chart.h"
#include "forecast.h"
#include "err.h"
#include "heal.h"
#include "health.h"
#include "kahua_ctl.h"
#include "kahua_httpd.h"
#include "lock.h"
#include "log.h"
#include "options.h"
#include "procinfo.h"
#include "psi.h"
#include "history.h"
#include "model.h"
#include "prom.h"
#include "report.h"
#include "rollout.h"
#include "select.h"
#include "sitecheck.h"
#include "sweep.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int install_signals(struct kr_err *err)
{
	struct sigaction sa;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return kr_fail(err, KR_OSERR, "sigaction: %s", strerror(errno));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return kr_fail(err, KR_OSERR, "sigaction: %s", strerror(errno));
	return 0;
}

/* Everything one run holds, released in one place. */
struct run {
	struct options o;
	struct kahua_site site;
	struct rollout ro;
	struct run_report r;
	struct kahua_type *app;
	size_t napp;
	int lock_fd;
	struct sitecheck sc;
	long long t0;
	struct kr_err err;
};

static long long call_deadline(const struct run *run)
{
	return kr_earlier(run->ro.deadline_ms, kr_now_ms() + kr_ms(run->o.ctl_timeout));
}

static void splay(const struct options *o)
{
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	double secs;

	if (o->splay <= 0)
		return;
	secs = o->splay * ((double)rand_r(&seed) / ((double)RAND_MAX + 1.0));
	log_info("splay: sleeping %.1fs", secs);
	kr_sleep_until(kr_now_ms() + kr_ms(secs), &stop_signal);
}

/* What each worker holds, asked of all at once within one control time limit. */
static int ask_workers(struct run *run, struct worker_obs *obs, size_t n)
{
	struct worker *ws;
	struct eval_result *res;
	size_t live = 0;

	if (!rollout_uses_eval(&run->o) || n == 0)
		return 0;
	ws = calloc(n, sizeof *ws);
	res = calloc(n, sizeof *res);
	if (ws == NULL || res == NULL) {
		free(ws);
		free(res);
		return kr_fail(&run->err, KR_SOFTWARE, "out of memory");
	}
	/* Dead and broken entries have no worker to ask. */
	for (size_t i = 0; i < n; i++)
		if (obs[i].w.state == WORKER_LIVE)
			ws[live++] = obs[i].w;
	rollout_spvr(&run->ro)->eval(&run->site, ws, live, call_deadline(run), res);
	for (size_t i = 0, j = 0; i < n && j < live; i++) {
		if (obs[i].w.state != WORKER_LIVE)
			continue;
		obs[i].ev = res[j];
		if (res[j].outcome != EVAL_OK)
			log_info("worker %s (%s, pid %d): numbers unavailable: %s", ws[j].wid,
				 ws[j].type, (int)ws[j].pid, res[j].why);
		j++;
	}
	free(ws);
	free(res);
	return 0;
}

/* Every listed worker observed into *out (replacing what was there) and *n. */
static int observe_all(struct run *run, const struct worker_list *wl,
		       struct worker_obs **out, size_t *n)
{
	struct worker_obs *obs = calloc(wl->n ? wl->n : 1, sizeof *obs);
	/* The status table shows PSS only with --memory pss; reports keep it always. */
	bool want_pss = run->o.memory == METRIC_PSS || run->o.json || run->o.command != CMD_STATUS;

	if (obs == NULL)
		return kr_fail(&run->err, KR_SOFTWARE, "out of memory");
	for (size_t i = 0; i < wl->n; i++) {
		rollout_observe(&obs[i], &wl->v[i], want_pss);
		if (run->o.memory == METRIC_PSS && obs[i].pss < 0 && obs[i].rss >= 0)
			run->r.pss_fallback = true;
	}
	if (ask_workers(run, obs, wl->n) < 0) {
		free(obs);
		return -1;
	}
	free(*out);
	*out = obs;
	*n = wl->n;
	return 0;
}

static int list_workers(struct run *run)
{
	struct worker_list wl;

	if (rollout_ls(&run->ro, call_deadline(run), &wl, &run->err) < 0)
		return -1;
	worker_list_free(&run->ro.current);
	run->ro.current = wl;
	if (observe_all(run, &run->ro.current, &run->r.before, &run->r.nbefore) < 0)
		return -1;
	count_types(&run->r, run->app, run->napp, &run->ro.current);
	return 0;
}

/*
 * Dead and broken entries removed, short types topped up (Kahua does not
 * replace a worker that died; reload does), new workers probed.  The
 * report keeps the ls from before; the types are counted again.
 */
static int heal(struct run *run)
{
	struct heal h = {
		.ro = &run->ro,
		.types = run->r.types,
		.ntypes = run->r.ntypes,
		.top_up = !run->o.no_top_up,
		.dry_run = run->o.dry_run,
	};
	int rc = heal_site(&h, &run->err);

	run->r.healed = h.healed;
	run->r.nhealed = h.nhealed;
	return rc;
}

/* Append ", " and text to a bounded message. */
static void add_text(char *msg, size_t size, const char *text)
{
	size_t used = strlen(msg);

	if (used + 2 < size)
		snprintf(msg + used, size - used, "%s%s", used ? ", " : "", text);
}

/*
 * Entries the supervisor sends requests to that cannot answer them, and
 * types short of :run-by-default, as one text; the number of problems.
 */
static size_t failing_entries(const struct run *run, char *msg, size_t size)
{
	size_t n = 0;
	char one[KAHUA_WHY_MAX + KAHUA_WID_MAX + 64];

	msg[0] = '\0';
	for (size_t i = 0; i < run->ro.current.n; i++) {
		const struct worker *w = &run->ro.current.v[i];

		if (w->state == WORKER_LIVE)
			continue;
		snprintf(one, sizeof one, "worker %ld (%s) is %s (%s)", w->wno, w->type,
			 worker_state_name(w->state), w->why);
		add_text(msg, size, one);
		n++;
	}
	for (size_t i = 0; i < run->r.ntypes; i++) {
		const struct type_count *t = &run->r.types[i];

		if (t->wanted < 0 || t->running >= t->wanted)
			continue;
		snprintf(one, sizeof one, "%.100s has %ld of %ld workers", t->type, t->running, t->wanted);
		add_text(msg, size, one);
		n++;
	}
	return n;
}

/*
 * check: dead and broken entries and short types first (requests to them
 * fail), then a probe of every live worker on its own socket, then the
 * site over HTTP.
 */
static int cmd_check(struct run *run)
{
	char entries[KR_ERR_MSG_MAX - 100];
	size_t failed = failing_entries(run, entries, sizeof entries);
	struct kr_err perr;

	if (failed > 0)
		kr_fail(&run->err, KR_HEALTH, "%s: requests sent to them fail", entries);
	for (size_t i = 0; i < run->r.nbefore; i++) {
		struct worker_obs *o = &run->r.before[i];
		const struct worker *w = &o->w;
		char conts[32], sessions[32], heap[32];

		if (w->state != WORKER_LIVE)
			continue;
		if (rollout_probe_obs(&run->ro, o, call_deadline(run), &perr) == 0) {
			fmt_held(o->ev.conts, conts, sizeof conts);
			fmt_held(o->ev.sessions, sessions, sizeof sessions);
			fmt_bytes(o->ev.heap, heap, sizeof heap);
			log_info("worker %s (%s, pid %d) answers: continuations %s, state sessions %s, heap %s",
				 w->wid, w->type, (int)w->pid, conts, sessions, heap);
			continue;
		}
		if (failed++ == 0)
			run->err = perr;
		log_info("%s", perr.msg);
	}
	if (sitecheck_listed(&run->sc, &run->ro.current, failed ? &perr : &run->err) < 0 && failed == 0)
		failed++;
	return failed ? -1 : 0;
}

/* "worker N (type, pid P): why" appended to a bounded message. */
static void add_worker_failure(char *msg, size_t size, const struct worker *w, const char *why)
{
	char one[KAHUA_NAME_MAX + 300];

	snprintf(one, sizeof one, "worker %ld (%s, pid %d): %s", w->wno, w->type, (int)w->pid, why);
	add_text(msg, size, one);
}

/* The live workers the targets name, as restart would choose them with no threshold. */
static int targeted(struct run *run, struct restart_step **steps, size_t *n)
{
	struct select_policy none = { 0 };

	return select_plan(run->r.before, run->r.nbefore, &run->o.targets, &none, steps, n,
			   &run->err);
}

/*
 * Sweep the targeted workers.  A failed sweep is one line for all of
 * them and exit 1 at the end; nobody is restarted or killed for it.
 */
static int sweep(struct run *run, size_t *failed)
{
	struct restart_step *steps = NULL;
	size_t n = 0;
	char msg[KR_ERR_MSG_MAX - 64] = "";

	*failed = 0;
	if (targeted(run, &steps, &n) < 0)
		return -1;
	*failed = sweep_run(&run->r, &run->site, &run->o, steps, n, call_deadline(run));
	free(steps);
	for (size_t i = 0; i < run->r.nsweep; i++) {
		if (run->r.sweep[i].res.outcome != EVAL_OK)
			add_worker_failure(msg, sizeof msg, &run->r.sweep[i].w, run->r.sweep[i].res.why);
	}
	if (*failed > 0)
		kr_fail(&run->err, KR_HEALTH, "sweep failed on %zu of %zu workers: %s", *failed,
			run->r.nsweep, msg);
	return 0;
}

/* A dry run names the workers it would sweep and sends them nothing. */
static int sweep_plan(struct run *run)
{
	struct restart_step *steps = NULL;
	size_t n = 0;

	if (targeted(run, &steps, &n) < 0)
		return -1;
	if (!run->o.json) {
		printf("plan: sweep continuations unused for %.0fs", run->o.sweep_conts);
		if (run->o.sweep_sessions > 0)
			printf(" and state sessions idle for %.0fs", run->o.sweep_sessions);
		printf(" in %zu workers:\n", n);
		for (size_t i = 0; i < n; i++)
			printf("  sweep worker %ld (%s, pid %d) %s\n", steps[i].old.w.wno,
			       steps[i].old.w.type, (int)steps[i].old.w.pid, steps[i].old.w.wid);
	}
	free(steps);
	return 0;
}

static int cmd_sweep(struct run *run)
{
	size_t failed;

	if (run->o.dry_run)
		return sweep_plan(run);
	if (sweep(run, &failed) < 0)
		return -1;
	return failed > 0 ? -1 : 0;
}

/* Workers that gave no census: one line for all, exit 1; the others' stand. */
static int census_failures(struct run *run)
{
	char msg[KR_ERR_MSG_MAX - 64] = "";
	size_t failed = 0;

	for (size_t i = 0; i < run->r.ncensus; i++) {
		if (run->r.census[i].c.outcome == EVAL_OK)
			continue;
		add_worker_failure(msg, sizeof msg, &run->r.census[i].w, run->r.census[i].c.why);
		failed++;
	}
	if (failed == 0)
		return 0;
	return kr_fail(&run->err, KR_HEALTH, "census failed on %zu of %zu workers: %s", failed,
		       run->r.ncensus, msg);
}

/* The census of ws[0..n) into the report. */
static int census_of(struct run *run, const struct worker *ws, size_t n)
{
	struct census *c = calloc(n ? n : 1, sizeof *c);

	run->r.census = calloc(n ? n : 1, sizeof *run->r.census);
	if (c == NULL || run->r.census == NULL) {
		free(c);
		return kr_fail(&run->err, KR_SOFTWARE, "out of memory");
	}
	kahua_census_workers(&run->site, ws, n, call_deadline(run), c);
	for (size_t i = 0; i < n; i++)
		run->r.census[i] = (struct census_entry){ .w = ws[i], .c = c[i] };
	run->r.ncensus = n;
	free(c);
	return 0;
}

static int cmd_census(struct run *run)
{
	struct restart_step *steps = NULL;
	struct worker *ws;
	size_t n = 0;
	int rc;

	if (targeted(run, &steps, &n) < 0)
		return -1;
	ws = calloc(n ? n : 1, sizeof *ws);
	if (ws == NULL) {
		free(steps);
		return kr_fail(&run->err, KR_SOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		ws[i] = steps[i].old.w;
	rc = census_of(run, ws, n);
	free(steps);
	free(ws);
	if (rc < 0)
		return -1;
	if (!run->o.json)
		census_table(&run->r, run->site.timeout_mins, stdout);
	return census_failures(run);
}

/*
 * status: the table; -v adds each live worker's continuations by age (a
 * census, whose makers it leaves to the census command).
 */
static int cmd_status(struct run *run)
{
	struct worker *ws;
	size_t n = 0;

	if (run->o.json)
		return 0;
	if (run->o.verbose > 0 && rollout_uses_eval(&run->o)) {
		ws = calloc(run->r.nbefore ? run->r.nbefore : 1, sizeof *ws);
		if (ws == NULL)
			return kr_fail(&run->err, KR_SOFTWARE, "out of memory");
		for (size_t i = 0; i < run->r.nbefore; i++)
			if (run->r.before[i].w.state == WORKER_LIVE)
				ws[n++] = run->r.before[i].w;
		if (census_of(run, ws, n) < 0) {
			free(ws);
			return -1;
		}
		free(ws);
	}
	report_status_table(&run->r, run->o.verbose > 0, stdout);
	census_age_notes(&run->r, stdout);
	if (run->o.verbose > 0)
		forecast_print(&run->r.forecast, stdout);
	return 0;
}

static int restart_workers(struct run *run)
{
	struct select_policy pol = {
		.min_mem = run->o.min_rss,
		.max_age = run->o.max_age,
		.pss = run->o.memory == METRIC_PSS,
		.max_restarts = run->o.max_restarts,
		.max_conts = run->o.max_conts,
	};
	size_t done = 0;
	int rc;

	if (select_plan(run->r.before, run->r.nbefore, &run->o.targets, &pol, &run->r.steps,
			&run->r.nsteps, &run->err) < 0)
		return -1;
	/* A dry run only finds the entries to heal. */
	if (heal(run) < 0)
		return -1;
	if (run->o.dry_run) {
		if (!run->o.json)
			report_plan(&run->r, !run->o.no_top_up, stdout);
		return 0;
	}
	log_info("restarting %zu of %zu workers (%s)", run->r.nsteps, run->r.nbefore,
		 strategy_name(run->o.strategy));
	/* One worker at a time: the site is checked after each, and a failure stops there. */
	if (run->o.strategy != STRATEGY_ALL) {
		run->ro.check_site = sitecheck_after_step;
		run->ro.check_ctx = &run->sc;
	}
	rc = rollout_run(&run->ro, run->r.steps, run->r.nsteps, &done, &run->err);
	if (rc < 0)
		return -1;
	if (stop_signal)
		return kr_fail(&run->err, KR_SIGNAL_BASE + stop_signal,
			       "stopped by signal %d after all %zu workers; HTTP check not run",
			       (int)stop_signal, done);
	if (done == 0 || run->o.strategy != STRATEGY_ALL)
		return 0;
	return sitecheck_listed(&run->sc, &run->ro.current, &run->err);
}

/*
 * Swept first: the thresholds then judge what the workers still hold.  A
 * failed sweep does not stop the restarts; it is the run's error unless
 * the restarts fail too.
 */
static int cmd_restart(struct run *run)
{
	struct kr_err swept;
	size_t failed = 0;

	if (run->o.sweep_conts > 0 && !run->o.dry_run) {
		if (sweep(run, &failed) < 0)
			return -1;
		swept = run->err;
		kr_err_clear(&run->err);
	}
	if (restart_workers(run) < 0)
		return -1;
	if (failed == 0)
		return 0;
	run->err = swept;
	return -1;
}

/* Final ls for the report; a failure here does not change the outcome. */
static void observe_after(struct run *run)
{
	struct worker_list wl;
	struct kr_err ignore;

	if (rollout_ls(&run->ro, call_deadline(run), &wl, &ignore) < 0)
		return;
	worker_list_free(&run->ro.current);
	run->ro.current = wl;
	if (observe_all(run, &wl, &run->r.after, &run->r.nafter) < 0)
		return;
	count_types(&run->r, run->app, run->napp, &run->ro.current);
}

static int open_site(struct run *run)
{
	struct kr_err perr;

	if (kahua_site_load(run->o.site, &run->site, &run->err) < 0)
		return -1;
	run->r.site = run->site.root;
	run->ro.site = &run->site;
	if (kahua_spvr_pid(&run->site, &run->ro.spvr_pid, &perr) < 0) {
		run->ro.spvr_pid = 0;
		log_info("%s", perr.msg);
	}
	run->sc.spvr_pid = run->ro.spvr_pid;
	if (kahua_app_servers(&run->site, &run->app, &run->napp, &perr) < 0)
		log_event(EV_NOT_CHECKED, "%s: worker counts not checked", perr.msg);
	return 0;
}

/* --history FILE, else <log-directory>/kahua-restarter.jsonl. */
static char *history_path(const struct run *run)
{
	char *p;
	size_t n;

	if (run->o.history != NULL)
		return strdup(run->o.history);
	n = strlen(run->site.logdir) + sizeof "/kahua-restarter.jsonl";
	p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/kahua-restarter.jsonl", run->site.logdir);
	return p;
}

/*
 * The forecast of check and status: the history's growth rates against
 * the host's memory now.  An unreadable history is an error only when
 * --warn-within needs the forecast.
 */
static int run_forecast(struct run *run)
{
	time_t since = run->o.since > 0 ? time(NULL) - (time_t)run->o.since : 0;
	char *path = history_path(run);
	struct type_growth *g;
	struct kr_err ferr;
	size_t ng;
	int rc;

	if (path == NULL)
		return kr_fail(&run->err, KR_SOFTWARE, "out of memory");
	rc = history_growth(path, since, &g, &ng, &ferr);
	free(path);
	if (rc < 0 && run->o.command == CMD_CHECK && run->o.warn_within > 0) {
		run->err = ferr;
		return -1;
	}
	if (rc < 0) {
		log_info("%s: no forecast", ferr.msg);
		return 0;
	}
	rc = forecast_compute(&run->r, g, ng, run->o.forecast_floor);
	history_growth_free(g, ng);
	run->r.forecast.since = run->o.since;
	return rc < 0 ? kr_fail(&run->err, KR_SOFTWARE, "out of memory") : 0;
}

/* check --warn-within: memory runs out too soon.  The first failure keeps the error line. */
static int warn_forecast(struct run *run, bool failed)
{
	char msg[KR_ERR_MSG_MAX];

	if (!forecast_within(&run->r.forecast, run->o.warn_within, msg, sizeof msg))
		return failed ? -1 : 0;
	if (failed) {
		log_event(EV_FORECAST, "%s", msg);
		return -1;
	}
	return kr_fail(&run->err, KR_HEALTH, "%s", msg);
}

static int cmd_history(struct run *run)
{
	time_t since = run->o.since > 0 ? time(NULL) - (time_t)run->o.since : 0;
	char *path;
	int rc;

	if (run->o.history == NULL && kahua_site_load(run->o.site, &run->site, &run->err) < 0)
		return -1;
	path = history_path(run);
	if (path == NULL)
		return kr_fail(&run->err, KR_SOFTWARE, "out of memory");
	if (run->o.svg != NULL)
		rc = chart_svg(path, since, run->o.svg, &run->err);
	else
		rc = history_summary(path, since, run->o.json, stdout, &run->err);
	free(path);
	return rc;
}

/* Splay, then the site's lock; a stop signal meanwhile ends the run. */
static int take_lock(struct run *run)
{
	double left;

	splay(&run->o);
	left = (double)(run->ro.deadline_ms - kr_now_ms()) / 1000.0;
	if (!stop_signal)
		run->lock_fd = site_lock(run->site.rundir, run->o.wait_lock < left ? run->o.wait_lock : left,
					 &stop_signal, &run->err);
	if (stop_signal)
		return kr_fail(&run->err, KR_SIGNAL_BASE + stop_signal,
			       "stopped by signal %d before restarting anything", (int)stop_signal);
	return run->lock_fd < 0 ? -1 : 0;
}

/* The pressure gate's figures: the host's, read already, or its cgroup's. */
static int gate_pressure(struct run *run, struct psi *p)
{
	char path[1400];

	memset(p, 0, sizeof *p);
	if (run->o.when_pressure.pct <= 0)
		return 0;
	if (run->o.pressure_cgroup == NULL && run->r.psi.some.have) {
		*p = run->r.psi;
		return 0;
	}
	if (run->o.pressure_cgroup == NULL)
		path[0] = '\0';
	else if (psi_cgroup_path(run->o.pressure_cgroup, path, sizeof path, &run->err) < 0)
		return -1;
	if (psi_read(path[0] ? path : PSI_HOST_FILE, p, &run->err) < 0)
		return kr_refail(&run->err, run->err.status, "%s; needed by --when-memory-pressure-above",
				 run->err.msg);
	return 0;
}

/*
 * The host's memory and memory pressure, kept in every report; then, for
 * a restart, the memory gates.  *go false: the host is at ease and the
 * run restarts nothing (it still leaves its line in the history).
 */
static int host_gates(struct run *run, bool *go)
{
	struct host_gates g = {
		.avail_below = run->o.when_available_below,
		.swap_above = run->o.when_swap_above,
		.pressure_above = run->o.when_pressure.pct,
		.window = run->o.when_pressure.window,
		.pressure_of = run->o.pressure_cgroup,
	};
	char why[sizeof run->r.skipped];
	struct kr_err perr;
	struct psi p;

	*go = true;
	if (proc_meminfo(&run->r.host) < 0)
		log_info("/proc/meminfo: %s", strerror(errno));
	if (psi_read(PSI_HOST_FILE, &run->r.psi, &perr) < 0)
		log_info("%s", perr.msg);
	if (run->o.command != CMD_RESTART)
		return 0;
	if (gate_pressure(run, &p) < 0 ||
	    select_gate(&g, &run->r.host, &p, go, why, sizeof why, &run->err) < 0)
		return -1;
	if (*go) {
		if (why[0] != '\0')
			log_info("memory gate met: %s", why);
		return 0;
	}
	snprintf(run->r.skipped, sizeof run->r.skipped, "%s", why);
	log_info("nothing restarted: %s", why);
	if (run->o.dry_run && !run->o.json)
		printf("plan: nothing to restart: %s\n", why);
	return 0;
}

static int run_command(struct run *run)
{
	bool locking = run->o.command == CMD_RESTART && !run->o.dry_run;
	bool go;

	if (run->o.command == CMD_HISTORY)
		return cmd_history(run);
	if (open_site(run) < 0 || sweep_check(&run->o, &run->site, &run->err) < 0)
		return -1;
	if (host_gates(run, &go) < 0 || !go)
		return go ? -1 : 0;
	if (locking && take_lock(run) < 0)
		return -1;
	if (list_workers(run) < 0)
		return -1;
	if ((run->o.command == CMD_CHECK || run->o.verbose > 0 || run->o.json) &&
	    run->o.command != CMD_RESTART && run_forecast(run) < 0)
		return -1;
	if (run->o.verbose > 0 && !run->o.json && run->o.command == CMD_CHECK)
		forecast_print(&run->r.forecast, stdout);
	switch (run->o.command) {
	case CMD_STATUS:
		return cmd_status(run);
	case CMD_CHECK:
		return warn_forecast(run, cmd_check(run) < 0);
	case CMD_RESTART:
		if (cmd_restart(run) < 0)
			return -1;
		return 0;
	case CMD_CENSUS:
		return cmd_census(run);
	case CMD_SWEEP:
		return cmd_sweep(run);
	case CMD_HISTORY:
		break;
	}
	return kr_fail(&run->err, KR_SOFTWARE, "unknown command");
}

/*
 * History and metrics of restart and check runs that reached the site.
 * A file that cannot be written is reported but does not change the
 * outcome: the workers were (or were not) restarted all the same.
 */
static void record(struct run *run)
{
	struct kr_err ferr;
	char *path;

	if (run->o.dry_run || run->site.root == NULL ||
	    (run->o.command != CMD_RESTART && run->o.command != CMD_CHECK &&
	     run->o.command != CMD_SWEEP))
		return;
	if (!run->o.no_history) {
		path = history_path(run);
		if (path == NULL || history_append_within(path, &run->r, run->o.history_max_size, &ferr) < 0)
			log_event(EV_NOT_WRITTEN, "%s", path ? ferr.msg : "history: out of memory");
		free(path);
	}
	/*
	 * A run that found the lock held saw nothing, and the run holding it
	 * writes the metrics when it ends: status 75 there would only raise
	 * a failure alert for two runs that overlapped.
	 */
	if (run->o.prom != NULL && run->r.exit_status != KR_TEMPFAIL &&
	    prom_write(run->o.prom, &run->r, &ferr) < 0)
		log_event(EV_NOT_WRITTEN, "%s", ferr.msg);
}

/* The one JSON document of the command. */
static int json_out(struct run *run)
{
	switch (run->o.command) {
	case CMD_CENSUS:
		return census_json(&run->r, run->site.timeout_mins, stdout, &run->err);
	case CMD_SWEEP:
		return sweep_json(&run->r, stdout, &run->err);
	default:
		return report_json(&run->r, stdout, &run->err);
	}
}

static void finish(struct run *run, int rc)
{
	run->r.duration_ms = (double)(kr_now_ms() - run->t0);
	run->r.exit_status = rc < 0 ? run->err.status : KR_OK;
	if (rc < 0 && run->err.status == KR_OK)
		run->r.exit_status = KR_SOFTWARE;
	snprintf(run->r.error, sizeof run->r.error, "%s", rc < 0 ? run->err.msg : "");
	if (rc < 0)
		log_error("%s", run->err.msg);
	/* After a supervisor that stopped answering, another ls would only wait again. */
	if (run->o.command == CMD_RESTART && !run->o.dry_run && run->r.nbefore > 0 &&
	    !(rc < 0 && run->err.cause == KR_CAUSE_TIMEOUT))
		observe_after(run);
	if (run->o.json && run->o.command != CMD_HISTORY && json_out(run) < 0) {
		log_error("%s", run->err.msg);
		if (run->r.exit_status == KR_OK)
			run->r.exit_status = run->err.status;
	}
	record(run);
	if (run->o.command == CMD_RESTART && !run->o.dry_run && run->r.skipped[0] != '\0')
		log_summary("%s: nothing restarted: %s", run->r.site ? run->r.site : "?", run->r.skipped);
	else if (run->o.command == CMD_RESTART && !run->o.dry_run)
		log_summary("%s: %zu of %zu workers restarted, outcome %d%s%s",
			    run->r.site ? run->r.site : "?", run->r.nsteps, run->r.nbefore,
			    run->r.exit_status, rc < 0 ? ": " : "", rc < 0 ? run->err.msg : "");
}

static void run_free(struct run *run)
{
	if (run->lock_fd >= 0)
		close(run->lock_fd);
	worker_list_free(&run->ro.current);
	free(run->r.before);
	free(run->r.after);
	free(run->r.steps);
	free(run->r.http);
	free(run->r.types);
	free(run->r.healed);
	free(run->r.sweep);
	free(run->r.census);
	forecast_free(&run->r.forecast);
	free(run->app);
	kahua_site_free(&run->site);
	options_free(&run->o);
}

int main(int argc, char **argv)
{
	static struct run run;
	int facility = LOG_DAEMON, rc;

	run.lock_fd = -1;
	run.t0 = kr_now_ms();
	rc = options_load(&run.o, argc, argv, &run.err);
	if (rc != 0) {
		if (rc < 0)
			log_error("%s", run.err.msg);
		options_free(&run.o);
		return rc < 0 ? run.err.status : 0;
	}
	parse_facility(run.o.facility, &facility);
	log_setup(run.o.verbose, run.o.syslog, facility);
	if (run.o.print_config) {
		options_print(&run.o, stdout);
		options_free(&run.o);
		return 0;
	}
	run.r.command = command_name(run.o.command);
	run.r.strategy = strategy_name(run.o.strategy);
	run.r.metric = metric_name(run.o.memory);
	run.r.dry_run = run.o.dry_run;
	run.r.eval = rollout_uses_eval(&run.o);
	run.r.probe = probe_name(run.r.eval ? run.o.probe : PROBE_HTTP);
	run.r.host = (struct host_mem){ -1, -1, -1 };
	run.r.started = time(NULL);
	run.ro.o = &run.o;
	run.ro.stop = &stop_signal;
	run.ro.deadline_ms = run.t0 + kr_ms(run.o.timeout);
	run.sc = (struct sitecheck){ .o = &run.o, .r = &run.r, .deadline_ms = run.ro.deadline_ms };
	if (install_signals(&run.err) < 0) {
		log_error("%s", run.err.msg);
		options_free(&run.o);
		return KR_OSERR;
	}
	rc = run_command(&run);
	finish(&run, rc);
	rc = run.r.exit_status;
	sitecheck_close(&run.sc);
	run_free(&run);
	log_close();
	return rc;
}
