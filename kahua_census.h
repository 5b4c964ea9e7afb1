/*
 * kahua_census.h: what a worker's continuations are, and sweeping the
 * stale ones in place.
 *
 * Two fixed expressions, compiled into the program, are sent as evals
 * (kahua_eval.h).  The census folds over kahua.session's continuation
 * table once: ages from each entry's timestamp (creation or last use),
 * permanent entries, and the makers grouped by the code of the closure
 * (eq?, cheap per entry), labelled only for the 16 biggest groups.  The
 * sweep calls Kahua's own session-cont-sweep (and, when asked,
 * session-state-sweep) with a number of seconds the program validated,
 * then (gc).  Nothing else from outside ever reaches the text sent.
 */
#ifndef KR_KAHUA_CENSUS_H
#define KR_KAHUA_CENSUS_H

#include <stdbool.h>
#include <stddef.h>

#include "kahua_eval.h"
#include "options.h"

#define CENSUS_MAKERS_MAX 16
#define CENSUS_LABEL_MAX 256
#define SWEEP_MIN_S OPT_SWEEP_MIN_S
#define SWEEP_MAX_S (10LL * 365 * 86400)

/* Counts by age since creation or last use; -1 where unknown. */
struct census_ages {
	long long total;
	long long under_1m;
	long long m1_10;        /* 1 to 10 minutes */
	long long m10_timeout;  /* 10 minutes to :timeout-mins */
	long long overdue;      /* older than :timeout-mins: kept only because nothing was looked up */
	long long permanent;    /* define-entry links, never swept (continuations only) */
};

struct census_maker {
	long long count;
	bool permanent;
	char label[CENSUS_LABEL_MAX]; /* printable: control characters shown as '?' */
};

struct census {
	enum eval_outcome outcome;
	char why[200];          /* when not EVAL_OK */
	long long elapsed_us;   /* the census's own time inside the worker */
	long long timeout_s;    /* the worker's :timeout-mins in seconds */
	struct census_ages conts;
	struct census_ages sessions;    /* ages -1 where Kahua records none */
	long long heap;         /* GC total heap bytes */
	long long heap_used;    /* total heap less its free bytes */
	long long groups;       /* makers in all; makers[] holds the biggest */
	long long stride;       /* makers counted on 1 entry in stride, each counting stride; 1: exact */
	struct census_maker makers[CENSUS_MAKERS_MAX];
	size_t nmakers;
};

struct sweep_result {
	enum eval_outcome outcome;
	char why[200];
	long long swept_conts;
	long long swept_sessions;       /* -1: not asked */
	long long conts_after;
	long long sessions_after;
	long long heap_before, heap_used_before;        /* before the sweep, garbage not yet collected included */
	long long heap_after, heap_used_after;          /* after the sweep and (gc) */
};

extern const char kahua_census_request[];

/*
 * The sweep request for continuations unused for conts_s seconds and,
 * when sessions_s >= 0, state sessions idle that long.  Both must lie in
 * [SWEEP_MIN_S, SWEEP_MAX_S]; -1 otherwise (nothing written).
 */
int kahua_sweep_request(char *buf, size_t size, long long conts_s, long long sessions_s);

/* Parse a reply to the census or the sweep; outcome EVAL_UNREADABLE with why if wrong. */
void kahua_census_parse(const char *buf, size_t len, struct census *c);
void kahua_sweep_parse(const char *buf, size_t len, struct sweep_result *s);

/* Ask each of ws[0..n) at once, within deadline_ms; out[i] for ws[i]. */
void kahua_census_workers(const struct kahua_site *site, const struct worker *ws, size_t n,
			  long long deadline_ms, struct census *out);
int kahua_sweep_workers(const struct kahua_site *site, const struct worker *ws, size_t n,
			long long conts_s, long long sessions_s, long long deadline_ms,
			struct sweep_result *out);

#endif
