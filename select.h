/*
 * select.h: which workers a run restarts, in which order, and why.
 *
 * Targets are resolved against the supervisor's ls before anything is
 * sent, exactly as kahua-admin reads them: "*", a worker type, a worker
 * number, or a worker id.  Thresholds then narrow the choice: a worker is
 * kept if it passes any threshold given; with thresholds the largest go
 * first.
 */
#ifndef KR_SELECT_H
#define KR_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "options.h"
#include "report.h"

struct select_policy {
	long long min_mem;      /* bytes; 0: no memory threshold */
	double max_age;         /* seconds; 0: no age threshold */
	bool pss;               /* compare PSS instead of RSS */
	long long max_restarts; /* 0: no limit */
};

/*
 * Plan the restarts among the observed workers.  *steps (caller frees) is
 * in restart order, each with its reason; none chosen is not an error.
 * KR_USAGE when a target matches no running worker.
 */
int select_plan(const struct worker_obs *obs, size_t n, const struct str_list *targets,
		const struct select_policy *pol, struct restart_step **steps,
		size_t *nsteps, struct kr_err *err);

/* Does target (as kahua-admin takes it) name worker w? */
bool target_matches(const char *target, const struct worker *w);

#endif
