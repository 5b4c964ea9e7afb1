/*
 * heal.h: making the site whole before a rollout.
 *
 * Kahua keeps an entry for a worker that died (:auto-restart #f) and one
 * for a worker whose application did not load, and keeps sending them
 * requests, each of which fails.  Healing removes every such entry with
 * (kill WNO), by number and never by id (broken entries share one id),
 * then tops types below :run-by-default up with (reload) and probes the
 * workers that brings.  A new worker that cannot serve is removed at
 * once and stops the run: a bad deploy is not retried.
 */
#ifndef KR_HEAL_H
#define KR_HEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "model.h"
#include "rollout.h"

struct heal {
	struct rollout *ro;             /* ro->current: the classified ls */
	struct type_count *types;       /* per type: :run-by-default, topped_up set here */
	size_t ntypes;
	bool top_up;                    /* false with --no-top-up */
	bool dry_run;                   /* find the entries, remove nothing */
	struct healed_entry *healed;    /* out: the dead and broken entries (caller frees) */
	size_t nhealed;
};

/*
 * Heal ro->current.  Each healed entry gets one warning line, e.g.
 * "worker 2 (leaky) had died (pid 1234 gone) and still received
 * requests: removed; leaky back to 1 of 1".  0, or -1 with err:
 * KR_UNAVAILABLE when the supervisor refuses, KR_HEALTH when a worker
 * of the top-up cannot serve (the message quotes the cause it logged).
 */
int heal_site(struct heal *h, struct kr_err *err);

#endif
