/*
 * kahua_ctl.h: Kahua's supervisor (kahua-spvr) and what it lists.
 *
 * Speaks the control protocol: one request per connection, a header
 * S-expression and a body S-expression out, a header and a body back;
 * reads every ls entry Kahua writes into a worker with its state.  Every wait has a deadline; a request is never left
 * half-sent (the connection is closed instead, which the supervisor reads
 * as EOF rather than waiting forever).
 */
#ifndef KR_KAHUA_CTL_H
#define KR_KAHUA_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "clock.h"
#include "err.h"
#include "kahua_site.h"
#include "sexp.h"

#define KAHUA_REPLY_MAX (4 * 1024 * 1024)  /* largest reply accepted */
#define KAHUA_WID_MAX 128                   /* worker ids */

/*
 * What an ls entry stands for.  Kahua keeps an entry whose worker died
 * (:worker-pid #f, or a pid that is gone) and registers whatever line a
 * worker printed instead of its id ("ERROR loading module" when the
 * application does not load); the supervisor still sends requests to
 * both, and each of them fails.
 */
enum worker_state {
	WORKER_LIVE,                /* a live process, the supervisor's child */
	WORKER_DEAD,                /* no such process: #f, gone, zombie, stranger */
	WORKER_BROKEN               /* the id is not a worker id: no application */
};

#define KAHUA_WHY_MAX 160

struct worker {
	char wid[KAHUA_WID_MAX];    /* :worker-id, e.g. "eeh:4wixl" */
	long wno;                   /* :worker-count, the worker number */
	char type[KAHUA_NAME_MAX];  /* :worker-type */
	pid_t pid;                  /* :worker-pid; 0 when #f */
	long long start_time;       /* :start-time, epoch seconds */
	enum worker_state state;    /* broken from the id here; dead from /proc */
	char why[KAHUA_WHY_MAX];    /* dead or broken: why, e.g. "pid 1234 gone" */
};

struct worker_list {
	struct worker *v;
	size_t n;
};

struct kahua_reply {
	struct sx *header;
	struct sx *body;
	bool ok;                    /* x-kahua-status "OK" */
	char errclass[KAHUA_NAME_MAX]; /* e.g. "<error>" for SPVR-ERROR */
	const char *message;        /* SPVR-ERROR: first string of the body */
};

/*
 * Connect to <sockdir>/<name> before deadline (CLOCK_MONOTONIC ms).
 * Paths longer than sun_path are reached through /proc/self/fd of the
 * opened socket directory; if even that cannot be done the error names the
 * path and its length.  Returns a connected fd or -1 (KR_UNAVAILABLE).
 */
int kahua_connect(const struct kahua_site *site, const char *name,
		  long long deadline_ms, struct kr_err *err);

void kahua_reply_free(struct kahua_reply *rep);

/* Parse reply bytes (exposed for tests and fuzzing). */
int kahua_reply_parse(const char *buf, size_t len, struct kahua_reply *rep,
		      struct kr_err *err);

/* True once buf holds two complete data (a reply's header and body). */
bool kahua_reply_complete(const char *buf, size_t len);

/*
 * Body of an ls (or kill, run) reply into workers, sorted as given.  Every
 * entry Kahua writes is kept: a :worker-pid of #f gives pid 0, a worker id
 * that is not one ("ERROR loading module", #<eof>) gives WORKER_BROKEN;
 * whether a pid is alive is for the caller to find out (/proc).
 */
int kahua_parse_workers(const struct sx *body, struct worker_list *wl,
			struct kr_err *err);
void worker_list_free(struct worker_list *wl);

/* The entry with this worker number (they only grow, and are never shared), or NULL. */
const struct worker *worker_list_wno(const struct worker_list *wl, long wno);
/* The first entry with this worker id (broken entries share one), or NULL. */
const struct worker *worker_list_wid(const struct worker_list *wl, const char *wid);
/* Entries of type; live ones only when live_only. */
size_t worker_list_count(const struct worker_list *wl, const char *type, bool live_only);

/* A worker id as Kahua makes them: base-36 digits, a colon, base-36 digits. */
bool kahua_wid_valid(const char *wid);

/* "live", "dead" or "broken". */
const char *worker_state_name(enum worker_state s);

/*
 * The supervisor's error in plain words: the message with Gauche's
 * hash-table noise replaced when the cause is known, e.g.
 * "no worker type 'x' (types: hello, leaky)".  known may be NULL.
 */
void kahua_explain_error(const struct kahua_reply *rep,
			 const struct worker_list *known, char *out, size_t size);

/*
 * How long to wait for a reply that may be slow for a reason the caller
 * can act on (a worker that ignores SIGTERM stalls a restart forever):
 * when soft_ms passes, on_slow(ctx) runs and returns the next soft_ms
 * (0: none); the connection stays open so the reply is not lost.
 */
struct kahua_wait {
	long long deadline_ms;
	long long soft_ms;
	long long (*on_slow)(void *ctx);
	void *ctx;
	/*
	 * When set, called once connected and just before the request is
	 * written, so that what must hold when the supervisor acts can be
	 * checked with nothing left to do but send; it may move the times
	 * above later by what it spent.
	 */
	void (*ready)(struct kahua_wait *w, void *ready_ctx);
	void *ready_ctx;
};

/*
 * One control request: body is the command's S-expression text, e.g.
 * "(ls)" or "(restart \"eeh:4wixl\")".  Waits for the reply as wait says.
 * A reply that is not OK is still returned (rep->ok false, rep->message
 * set) with 0; -1 means no usable reply (KR_UNAVAILABLE).
 */
int kahua_call_wait(const struct kahua_site *site, const char *body,
		    const struct kahua_wait *wait, struct kahua_reply *rep,
		    struct kr_err *err);

/* An SPVR-ERROR that says the supervisor knows no such worker or type. */
bool kahua_error_no_target(const struct kahua_reply *rep);

/*
 * Commands.  Each returns 0, or -1 with err set (KR_UNAVAILABLE); err->cause
 * tells a timeout, a refusal and an unknown target apart.
 */
int kahua_ls(const struct kahua_site *site, long long deadline_ms,
	     struct worker_list *wl, struct kr_err *err);
/*
 * (restart X): the supervisor terminates the chosen workers and starts as
 * many; its reply (the old ids) is checked for shape, and the replacements
 * are found in ls.
 */
int kahua_restart(const struct kahua_site *site, const char *target_sexp,
		  const struct kahua_wait *wait, const struct worker_list *known,
		  struct kr_err *err);
/* (run TYPE): the new worker. */
int kahua_run(const struct kahua_site *site, const char *type,
	      long long deadline_ms, struct worker *w, struct kr_err *err);
/* (kill WNO): the ls after the kill. */
int kahua_kill(const struct kahua_site *site, long wno, const struct kahua_wait *wait,
	       struct worker_list *after, struct kr_err *err);
/* (reload): re-read app-servers and top types up to :run-by-default. */
int kahua_reload(const struct kahua_site *site, long long deadline_ms,
		 struct kr_err *err);

/*
 * Probe a worker directly on its own socket with the session-initiating
 * request kahua-httpd sends for its type (header and body back to back,
 * no trailing bytes).  Healthy: a reply header and body arrive and the
 * header carries no 5xx "Status".  -1 with err (KR_HEALTH) otherwise.
 */
int kahua_probe_worker(const struct kahua_site *site, const struct worker *w,
		       long long deadline_ms, struct kr_err *err);



#endif
