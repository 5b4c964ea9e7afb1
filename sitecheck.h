/*
 * sitecheck.h: the site over HTTP, as a run checks it.
 *
 * Which URLs (each --url as given, else http://HOST:PORT/TYPE/ per type,
 * from the running kahua-httpd), with which expectations (the options),
 * within what is left of the run's time; every check is appended to the
 * run's report.  libcurl is loaded by the first check that needs it.
 */
#ifndef KR_SITECHECK_H
#define KR_SITECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "kahua_ctl.h"
#include "model.h"
#include "options.h"

struct sitecheck {
	const struct options *o;
	struct run_report *r;   /* checks go to r->http; why they did not to r->http_skipped */
	pid_t spvr_pid;         /* to find kahua-httpd; 0 when unknown */
	long long deadline_ms;  /* the run's */
	bool curl_ready;
	char httpd[300];        /* http://HOST:PORT of kahua-httpd, once found */
};

/*
 * Check the site for these types.  0 when every check passed (or none
 * was to be made); -1 with err: KR_HEALTH for the first check that
 * failed, KR_UNAVAILABLE (cause timeout) when the run's time ran out.
 */
int sitecheck_types(struct sitecheck *sc, const char *const *types, size_t ntypes,
		    struct kr_err *err);

/* The same for every type that wl lists. */
int sitecheck_listed(struct sitecheck *sc, const struct worker_list *wl, struct kr_err *err);

/* After a replacement (a rollout's check_site): its type, the failure named. */
int sitecheck_after_step(void *sc, const struct restart_step *s, struct kr_err *err);

/* Release libcurl if a check loaded it. */
void sitecheck_close(struct sitecheck *sc);

#endif
