/*
 * health.h: HTTP health checks of the site through libcurl.
 *
 * One check is one URL with its expectations, tried up to 1 + retries
 * times with a delay between tries.  Redirects are not followed unless
 * asked, so a 302 to a login page is not mistaken for a healthy site.
 */
#ifndef KR_HEALTH_H
#define KR_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#define HEALTH_MAX_STATUSES 16
#define HEALTH_BODY_MAX (1024 * 1024)   /* bytes kept for --expect-body */

struct health_spec {
	const char *url;
	int statuses[HEALTH_MAX_STATUSES]; /* accepted HTTP statuses */
	size_t nstatuses;                  /* 0 means {200} */
	const char *body_substr;           /* NULL: body not checked */
	long timeout_ms;                   /* per request, connect included */
	int retries;                       /* further tries after a failure */
	long retry_delay_ms;
	bool follow_redirects;
	long budget_ms;                    /* all tries and pauses; 0: no limit */
};

struct health_result {
	bool ok;
	long status;            /* last HTTP status, 0 if no response */
	double ms;              /* duration of the last try */
	int tries;
	bool out_of_time;       /* budget_ms, not the site, ended the tries */
	char why[256];          /* empty when ok, else e.g. "status 500, expected 200" */
};

/* A check the run made of one URL, kept in its report. */
struct http_obs {
	char url[1024];
	struct health_result res;
};

/*
 * Call once before any check and once at exit: loads libcurl and runs
 * curl_global_init.  -1 with why set (naming the library) when it cannot.
 */
int health_global_init(char *why, size_t size);
void health_global_cleanup(void);

/* Run one check; returns 0 when healthy, -1 otherwise (res->why says why). */
int health_check(const struct health_spec *spec, struct health_result *res);

#endif
