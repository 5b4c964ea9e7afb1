#include "sitecheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "health.h"
#include "kahua_httpd.h"
#include "log.h"
#include "names.h"

static int add_check(struct run_report *r, const char *url, struct kr_err *err)
{
	struct http_obs *v = realloc(r->http, (r->nhttp + 1) * sizeof *v);

	if (v == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	r->http = v;
	memset(&v[r->nhttp], 0, sizeof v[r->nhttp]);
	snprintf(v[r->nhttp].url, sizeof v[r->nhttp].url, "%s", url);
	r->nhttp++;
	return 0;
}

/*
 * The base of derived URLs, http://HOST:PORT, from the running
 * kahua-httpd; looked up once a run.  Empty, with http_skipped saying
 * why (once), when there is none.
 */
static const char *httpd_base(struct sitecheck *sc)
{
	char *skipped = sc->r->http_skipped;
	size_t size = sizeof sc->r->http_skipped;
	char host[256];
	int port;

	if (sc->httpd[0] != '\0' || skipped[0] != '\0')
		return sc->httpd;
	if (sc->spvr_pid <= 0)
		snprintf(skipped, size,
			 "the supervisor's pid is unknown, so kahua-httpd cannot be found; give --url");
	else if (kahua_httpd_address(sc->spvr_pid, host, sizeof host, &port, skipped, size) == 0)
		snprintf(sc->httpd, sizeof sc->httpd, "http://%s:%d", host, port);
	if (skipped[0] != '\0')
		log_event(EV_NOT_CHECKED, "HTTP check skipped: %s", skipped);
	return sc->httpd;
}

/* URLs for these types: --url as given, else one derived URL per type. */
static int plan_http(struct sitecheck *sc, const char *const *types, size_t ntypes,
		     struct kr_err *err)
{
	const struct options *o = sc->o;
	const char *base;

	for (size_t i = 0; i < o->urls.n; i++)
		if (add_check(sc->r, o->urls.v[i], err) < 0)
			return -1;
	if (o->urls.n > 0 || ntypes == 0 || (base = httpd_base(sc))[0] == '\0')
		return 0;
	for (size_t i = 0; i < ntypes; i++) {
		char url[600];

		snprintf(url, sizeof url, "%s/%s/", base, types[i]);
		if (add_check(sc->r, url, err) < 0)
			return -1;
	}
	return 0;
}

static void http_spec(const struct sitecheck *sc, const char *url, struct health_spec *spec)
{
	const struct options *o = sc->o;
	long long left = sc->deadline_ms - kr_now_ms();

	memset(spec, 0, sizeof *spec);
	spec->url = url;
	memcpy(spec->statuses, o->expect_status, sizeof spec->statuses);
	spec->nstatuses = o->n_expect_status;
	spec->body_substr = o->expect_body;
	spec->timeout_ms = kr_ms(o->http_timeout);
	spec->budget_ms = (long)(left > 1 ? left : 1);
	spec->retries = (int)o->retries;
	spec->retry_delay_ms = kr_ms(o->retry_delay);
	spec->follow_redirects = o->follow_redirects;
}

static int load_curl(struct sitecheck *sc, struct kr_err *err)
{
	char why[KR_ERR_MSG_MAX / 2];

	if (sc->curl_ready)
		return 0;
	if (health_global_init(why, sizeof why) < 0)
		return kr_fail(err, KR_OSERR, "HTTP check: %s", why);
	sc->curl_ready = true;
	return 0;
}

/* The first failed check as the run's error. */
static void check_failed(const struct http_obs *h, struct kr_err *err)
{
	/* The run's time limit, not the site, cut the check short. */
	if (h->res.out_of_time) {
		kr_fail(err, KR_UNAVAILABLE, "run time limit (--timeout) reached during the health check of %.300s (%.300s)",
			h->url, h->res.why);
		err->cause = KR_CAUSE_TIMEOUT;
		return;
	}
	kr_fail(err, KR_HEALTH, "health check %.300s: %.300s", h->url, h->res.why);
}

int sitecheck_types(struct sitecheck *sc, const char *const *types, size_t ntypes,
		    struct kr_err *err)
{
	struct run_report *r = sc->r;
	size_t first = r->nhttp, failed = 0, last;

	if (sc->o->no_http_check)
		return 0;
	if (plan_http(sc, types, ntypes, err) < 0)
		return -1;
	last = r->nhttp;
	if (last > first && load_curl(sc, err) < 0)
		return -1;
	for (size_t i = first; i < last; i++) {
		struct http_obs *h = &r->http[i];
		struct health_spec spec;

		http_spec(sc, h->url, &spec);
		health_check(&spec, &h->res);
		log_info("GET %s: %s%s (%ld, %.0f ms, %d tries)", h->url, h->res.ok ? "ok" : "failed: ",
			 h->res.why, h->res.status, h->res.ms, h->res.tries);
		if (!h->res.ok && failed++ == 0)
			check_failed(h, err);
	}
	return failed ? -1 : 0;
}

int sitecheck_listed(struct sitecheck *sc, const struct worker_list *wl, struct kr_err *err)
{
	struct name_set types = { 0 };
	int rc;

	for (size_t i = 0; i < wl->n; i++) {
		if (name_set_add(&types, wl->v[i].type) < 0) {
			name_set_free(&types);
			return kr_fail(err, KR_SOFTWARE, "out of memory");
		}
	}
	rc = sitecheck_types(sc, types.v, types.n, err);
	name_set_free(&types);
	return rc;
}

int sitecheck_after_step(void *ctx, const struct restart_step *s, struct kr_err *err)
{
	struct sitecheck *sc = ctx;
	const char *type = s->new.w.type;

	if (sitecheck_types(sc, &type, 1, err) == 0)
		return 0;
	return kr_refail(err, err->status, "after worker %s (%s) was replaced by %s: %.600s",
			 s->old.w.wid, type, s->new.w.wid, err->msg);
}

void sitecheck_close(struct sitecheck *sc)
{
	if (!sc->curl_ready)
		return;
	health_global_cleanup();
	sc->curl_ready = false;
}
