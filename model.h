/*
 * model.h: what a run is about, apart from how it is found out or
 * written down: a worker as observed, a restart step, an entry healed,
 * the worker types' counts and the run's result.
 *
 * The planner, the rollout and the healing fill these in; the output
 * modules (report, history, prom, chart) only read them.  Memory figures
 * are bytes, -1 when unknown; times are milliseconds unless named
 * otherwise.
 */
#ifndef KR_MODEL_H
#define KR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"
#include "kahua_ctl.h"
#include "kahua_census.h"
#include "kahua_eval.h"
#include "procinfo.h"
#include "psi.h"

struct worker_obs {
	struct worker w;
	long long rss;          /* bytes from /proc/PID/status, -1 unknown */
	long long pss;          /* bytes from /proc/PID/smaps_rollup, -1 unknown */
	long long age;          /* seconds since :start-time */
	struct eval_result ev;  /* what it holds; EVAL_OFF when not asked */
};

enum step_result { STEP_PLANNED, STEP_OK, STEP_FAILED, STEP_ABANDONED };

struct restart_step {
	struct worker_obs old;
	struct worker_obs new;  /* valid when have_new */
	bool have_new;
	long long mem;          /* the old worker's memory by the run's metric */
	char reason[128];       /* why it was chosen: "all", "rss 812M >= 500M", ... */
	enum step_result result;
	bool killed;            /* SIGKILL sent after --kill-after */
	double restart_ms;      /* command sent until the replacement answered */
	double probe_ms;
	bool drain_tried;       /* rolling and surge drain the old worker first */
	bool drained;           /* it was seen idle before it was terminated */
	double drain_ms;
	char why[KR_ERR_MSG_MAX]; /* failure, empty when ok */
	/* What the program put right on the way (Kahua's waitpid race), or empty. */
	char recovered[KR_ERR_MSG_MAX / 2];
};

/* One HTTP check and its result (health.h). */
struct http_obs;

/* A dead or broken entry found in ls and removed before the rollout. */
struct healed_entry {
	struct worker w;        /* as ls showed it: number, id, type, state, pid, why */
	bool removed;           /* (kill WNO) done; false in a dry run or when refused */
	char refused[KR_ERR_MSG_MAX / 2]; /* why the supervisor kept it, or empty */
};

/* A worker swept in place (sweep, or restart with --sweep-conts). */
struct sweep_entry {
	struct worker w;
	struct sweep_result res;        /* outcome EVAL_OK: swept; else failed, why */
};

/* A worker's census, beside the worker it was taken of. */
struct census_entry {
	struct worker w;
	struct census c;
};

struct type_count {
	char type[KAHUA_NAME_MAX];
	long running;           /* after the run */
	long wanted;            /* :run-by-default, -1 when not in app-servers */
	bool topped_up;
};

/* One running type's share of the forecast (forecast.h). */
struct forecast_type {
	char type[KAHUA_NAME_MAX];
	long workers;           /* live now */
	bool have_rate;         /* the history gives the type a growth figure */
	double bytes_per_hour;  /* of all its live workers; <= 0: not growing */
	double seconds;         /* until MemAvailable reaches the floor at that rate; -1 never */
};

enum forecast_state {
	FORECAST_OFF,           /* not asked for */
	FORECAST_UNKNOWN,       /* MemAvailable (or MemTotal for the floor) unknown */
	FORECAST_NO_HISTORY,    /* no running type has a growth figure yet */
	FORECAST_NOT_GROWING,   /* every figure is flat or falling */
	FORECAST_BELOW,         /* MemAvailable is below the floor already */
	FORECAST_GROWING
};

/* When the host's MemAvailable would fall below a floor at the workers' growth. */
struct forecast {
	enum forecast_state state;
	long long available;    /* bytes now */
	long long floor;        /* bytes */
	bool floor_default;     /* 10% of MemTotal, not --forecast-floor */
	double since;           /* seconds of history the rates come from; 0: all */
	double bytes_per_hour;  /* all running types together */
	double seconds;         /* until the floor; -1 when not growing or unknown */
	long fastest;           /* index in t of the fastest-growing type; -1 none */
	struct forecast_type *t;
	size_t n;
};

struct run_report {
	const char *site;
	const char *command;
	const char *strategy;
	const char *metric;     /* "rss" or "pss" */
	bool dry_run;
	time_t started;         /* epoch seconds */
	double duration_ms;

	struct worker_obs *before;
	size_t nbefore;
	struct worker_obs *after;
	size_t nafter;
	struct restart_step *steps;
	size_t nsteps;
	struct http_obs *http;
	size_t nhttp;
	char http_skipped[256]; /* why the HTTP check did not run, or empty */
	struct type_count *types;
	size_t ntypes;
	struct healed_entry *healed;
	size_t nhealed;
	bool pss_fallback;      /* PSS asked but unavailable: RSS used */
	const char *probe;      /* "eval" or "http" */
	bool eval;              /* eval asked of workers (not --no-eval) */
	struct host_mem host;   /* at the start of the run; -1 unknown */
	struct psi psi;         /* the host's memory pressure then; .have false unknown */
	char skipped[256];      /* why a gated run restarted nothing, or empty */
	long long sweep_conts_s;        /* the sweep's ages; 0: no sweep, -1 sessions not swept */
	long long sweep_sessions_s;
	struct sweep_entry *sweep;
	size_t nsweep;
	struct census_entry *census;
	size_t ncensus;
	struct forecast forecast;       /* check and status -v; state FORECAST_OFF otherwise */

	int exit_status;
	char error[KR_ERR_MSG_MAX]; /* the one error line, empty on success */
};

/* The memory figure a policy uses: PSS or RSS per metric, -1 unknown. */
long long obs_memory(const struct worker_obs *o, bool pss);

/* A worker's rank among the live workers of its type in v, by worker number. */
size_t obs_rank(const struct worker_obs *v, size_t n, const struct worker_obs *w);

/*
 * The old worker's memory minus its replacement's into *freed; false when
 * either is unknown or the step did not succeed.  Negative when the
 * replacement is the larger: that is known too.
 */
bool step_freed(const struct restart_step *s, bool pss, long long *freed);

/* What the run's successful restarts gave back: the positive steps' sum. */
long long run_memory_freed(const struct run_report *r);

/* The run measured PSS (its metric is "pss"). */
bool run_pss(const struct run_report *r);

/*
 * r->types anew: each app-servers type with its :run-by-default, then any
 * other listed type (wanted -1), with the live workers wl lists of each.
 * Out of memory leaves none.
 */
void count_types(struct run_report *r, const struct kahua_type *app, size_t napp,
		 const struct worker_list *wl);

#endif
