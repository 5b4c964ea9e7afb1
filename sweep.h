/*
 * sweep.h: stale continuations discarded in place, instead of a restart.
 *
 * Each chosen live worker runs Kahua's own session-cont-sweep (and
 * session-state-sweep when asked) then (gc), all at once within one
 * control time limit.  A worker whose sweep fails is only reported: it is
 * never restarted or killed because of it.
 */
#ifndef KR_SWEEP_H
#define KR_SWEEP_H

#include <stddef.h>

#include "err.h"
#include "kahua_site.h"
#include "model.h"
#include "options.h"

/*
 * The sweep ages of o checked against the site's :timeout-mins: an age at
 * or above it would sweep nothing Kahua does not sweep itself.  KR_USAGE.
 */
int sweep_check(const struct options *o, const struct kahua_site *site, struct kr_err *err);

/*
 * Sweep the live workers among steps[0..n) (as select_plan chose them):
 * r->sweep gets one entry each, r->sweep_*_s the ages.  The observed
 * figures in r->before are updated to those after the sweep, so a
 * restart's thresholds see them.  The number of failed sweeps.
 */
size_t sweep_run(struct run_report *r, const struct kahua_site *site, const struct options *o,
		 const struct restart_step *steps, size_t n, long long deadline_ms);

#endif
