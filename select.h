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
#include "model.h"
#include "psi.h"

struct select_policy {
	long long min_mem;      /* bytes; 0: no memory threshold */
	double max_age;         /* seconds; 0: no age threshold */
	bool pss;               /* compare PSS instead of RSS */
	long long max_restarts; /* 0: no limit */
	long long max_conts;    /* continuations; 0: no threshold */
};

/*
 * Plan the restarts among the observed workers.  *steps (caller frees) is
 * in restart order, each with its reason; none chosen is not an error.
 * KR_USAGE when a target matches no running worker.
 */
int select_plan(const struct worker_obs *obs, size_t n, const struct str_list *targets,
		const struct select_policy *pol, struct restart_step **steps,
		size_t *nsteps, struct kr_err *err);

/* The memory gates of a restart run; a zero field is a gate not given. */
struct host_gates {
	long long avail_below;  /* bytes of MemAvailable */
	long long swap_above;   /* bytes of swap in use */
	double pressure_above;  /* percent of PSI memory "some" */
	int window;             /* seconds of that average: 10, 60 or 300 */
	const char *pressure_of;        /* the cgroup the PSI is of; NULL: the host */
};

/*
 * With no gate given the run goes ahead; else it goes ahead when any
 * given gate is met: MemAvailable below avail_below, swap in use above
 * swap_above, or PSI memory "some" (of p) above pressure_above.  why says
 * which figures decided, e.g. "MemAvailable 3.1G is not below 1.0G;
 * memory pressure some avg60 0.00% is not above 5%".  -1 with err
 * (KR_OSERR) when a gate's figure is unknown, since a gate that cannot be
 * read must not quietly keep the run from ever restarting.
 */
int select_gate(const struct host_gates *g, const struct host_mem *h, const struct psi *p,
		bool *go, char *why, size_t size, struct kr_err *err);

/* Does target (as kahua-admin takes it) name worker w? */
bool target_matches(const char *target, const struct worker *w);

#endif
