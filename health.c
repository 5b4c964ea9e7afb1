/*
 * health.c: HTTP health checks through libcurl.
 */
#include "health.h"
#include "clock.h"
#include "curl_dl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEALTH_USER_AGENT "kahua-restarter"
#define HEALTH_MAX_REDIRS 5L

struct body {
	char *data;             /* NULL: the body is not kept */
	size_t len;
	bool truncated;
};

/* Set by health_global_init: every call goes through the loaded library. */
static const struct curl_api *C;

int health_global_init(char *why, size_t size)
{
	const struct curl_api *api = curl_api_load(why, size);

	if (api == NULL)
		return -1;
	if (api->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, size, "libcurl: initialisation failed");
		return -1;
	}
	C = api;
	return 0;
}

void health_global_cleanup(void)
{
	if (C == NULL)
		return;
	C->global_cleanup();
	C = NULL;
}

/* Keeps the first HEALTH_BODY_MAX bytes; the rest is read and dropped. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;
	size_t room, take;

	if (b->data == NULL)
		return n;
	room = HEALTH_BODY_MAX - b->len;
	take = n < room ? n : room;
	/* cppcheck-suppress knownConditionTrueFalse ; true whenever room < n */
	if (take < n)
		b->truncated = true;
	memcpy(b->data + b->len, ptr, take);
	b->len += take;
	return n;
}

/* Bodies may hold NUL bytes, so no str* functions here. */
static bool contains(const char *hay, size_t hlen, const char *needle)
{
	size_t nlen = strlen(needle);
	const char *p = hay, *end = hay + hlen;

	if (nlen == 0)
		return true;
	while ((size_t)(end - p) >= nlen) {
		p = memchr(p, needle[0], (size_t)(end - p) - nlen + 1);
		if (p == NULL)
			return false;
		if (memcmp(p, needle, nlen) == 0)
			return true;
		p++;
	}
	return false;
}

static CURLcode set_protocols(CURL *h)
{
	CURLcode rc;

#if LIBCURL_VERSION_NUM >= 0x075500
	if ((rc = C->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK)
		return rc;
	return C->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	long protos = CURLPROTO_HTTP | CURLPROTO_HTTPS;

	if ((rc = C->easy_setopt(h, CURLOPT_PROTOCOLS, protos)) != CURLE_OK)
		return rc;
	return C->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, protos);
#endif
}

static CURLcode set_redirects(CURL *h, bool follow)
{
	CURLcode rc;

	if (!follow)
		return C->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if ((rc = C->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L)) != CURLE_OK)
		return rc;
	return C->easy_setopt(h, CURLOPT_MAXREDIRS, HEALTH_MAX_REDIRS);
}

static CURLcode set_options(CURL *h, const struct health_spec *spec,
		struct body *b, char *errbuf)
{
	CURLcode rc;

	if ((rc = C->easy_setopt(h, CURLOPT_URL, spec->url)) != CURLE_OK ||
	    (rc = C->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf)) != CURLE_OK ||
	    (rc = C->easy_setopt(h, CURLOPT_TIMEOUT_MS, spec->timeout_ms)) != CURLE_OK ||
	    (rc = C->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, spec->timeout_ms)) != CURLE_OK ||
	    (rc = C->easy_setopt(h, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (rc = C->easy_setopt(h, CURLOPT_USERAGENT, HEALTH_USER_AGENT)) != CURLE_OK ||
	    (rc = C->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body)) != CURLE_OK ||
	    (rc = C->easy_setopt(h, CURLOPT_WRITEDATA, b)) != CURLE_OK ||
	    (rc = set_protocols(h)) != CURLE_OK)
		return rc;
	return set_redirects(h, spec->follow_redirects);
}

/* "200", "200 or 204", "200, 204 or 301" */
static void expected_list(const struct health_spec *spec, char *buf, size_t size)
{
	size_t i, used = 0;

	if (spec->nstatuses == 0) {
		snprintf(buf, size, "200");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < spec->nstatuses && used < size; i++) {
		const char *sep = i == 0 ? "" :
			i + 1 == spec->nstatuses ? " or " : ", ";
		int w = snprintf(buf + used, size - used, "%s%d", sep,
				spec->statuses[i]);

		if (w < 0)
			return;
		used += (size_t)w;
	}
}

static bool status_accepted(const struct health_spec *spec, long status)
{
	size_t i;

	if (spec->nstatuses == 0)
		return status == 200;
	for (i = 0; i < spec->nstatuses; i++)
		if (spec->statuses[i] == status)
			return true;
	return false;
}

static void curl_why(CURL *h, CURLcode rc, const char *errbuf,
		const struct health_spec *spec, struct health_result *res)
{
	const char *detail = errbuf[0] != '\0' ? errbuf : C->easy_strerror(rc);
	long os_errno = 0;

	/* "Connection refused" says more than "Couldn't connect to server". */
	if (rc == CURLE_COULDNT_CONNECT &&
	    C->easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
	    os_errno != 0)
		detail = strerror((int)os_errno);
	/* The caller names the URL; why says only what went wrong. */
	(void)spec;
	snprintf(res->why, sizeof res->why, "%.250s", detail);
}

static int judge(const struct health_spec *spec, const struct body *b,
		struct health_result *res)
{
	char expected[200];    /* leaves room in why for "status N, expected " */

	if (!status_accepted(spec, res->status)) {
		expected_list(spec, expected, sizeof expected);
		snprintf(res->why, sizeof res->why, "status %ld, expected %s",
				res->status, expected);
		return -1;
	}
	if (spec->body_substr == NULL || contains(b->data, b->len, spec->body_substr))
		return 0;
	if (b->truncated)
		snprintf(res->why, sizeof res->why,
				"body lacks \"%s\" (first %d bytes checked)",
				spec->body_substr, HEALTH_BODY_MAX);
	else
		snprintf(res->why, sizeof res->why, "body lacks \"%s\"",
				spec->body_substr);
	return -1;
}

#define TRY_TIMED_OUT (-2)

static int try_once(CURL *h, const struct health_spec *spec, struct body *b,
		char *errbuf, struct health_result *res)
{
	CURLcode rc;
	double start;

	b->len = 0;
	b->truncated = false;
	errbuf[0] = '\0';
	res->why[0] = '\0';
	res->status = 0;
	res->tries++;
	start = kr_now_ms_exact();
	rc = C->easy_perform(h);
	res->ms = kr_now_ms_exact() - start;
	if (C->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status) != CURLE_OK)
		res->status = 0;
	if (rc != CURLE_OK) {
		curl_why(h, rc, errbuf, spec, res);
		return rc == CURLE_OPERATION_TIMEDOUT ? TRY_TIMED_OUT : -1;
	}
	return judge(spec, b, res);
}

static int bad_spec(const struct health_spec *spec, struct health_result *res)
{
	if (spec->url == NULL || spec->url[0] == '\0') {
		snprintf(res->why, sizeof res->why, "no URL given");
		return -1;
	}
	if (spec->timeout_ms <= 0) {
		snprintf(res->why, sizeof res->why,
				"GET %s: timeout must be positive, not %ld ms",
				spec->url, spec->timeout_ms);
		return -1;
	}
	if (spec->nstatuses > HEALTH_MAX_STATUSES) {
		snprintf(res->why, sizeof res->why,
				"GET %s: %zu expected statuses, at most %d",
				spec->url, spec->nstatuses, HEALTH_MAX_STATUSES);
		return -1;
	}
	return 0;
}

/*
 * The next try's time limit within the budget; 0 when no time is left
 * (then res->out_of_time is set).
 */
static long try_limit(CURL *h, const struct health_spec *spec, long long start,
		struct health_result *res)
{
	long long left;
	long limit;

	if (spec->budget_ms <= 0)
		return spec->timeout_ms;
	left = spec->budget_ms - (kr_now_ms() - start);
	if (left <= 0) {
		res->out_of_time = true;
		return 0;
	}
	limit = left < spec->timeout_ms ? (long)left : spec->timeout_ms;
	if (C->easy_setopt(h, CURLOPT_TIMEOUT_MS, limit) != CURLE_OK ||
	    C->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, limit) != CURLE_OK)
		return 0;
	return limit;
}

static int run_tries(CURL *h, const struct health_spec *spec, struct body *b,
		char *errbuf, struct health_result *res)
{
	int left = spec->retries > 0 ? spec->retries : 0;
	long long start = kr_now_ms();

	for (;;) {
		long long until;
		long limit = try_limit(h, spec, start, res);
		int rc;

		if (limit == 0) {
			if (res->why[0] == '\0')
				snprintf(res->why, sizeof res->why, "no time left for the check");
			return -1;
		}
		rc = try_once(h, spec, b, errbuf, res);
		if (rc == 0)
			return 0;
		/* Timed out on a limit the budget had cut: the budget ended it. */
		res->out_of_time = rc == TRY_TIMED_OUT && limit < spec->timeout_ms;
		if (left-- == 0 || res->out_of_time)
			return -1;
		until = kr_now_ms() + (spec->retry_delay_ms > 0 ? spec->retry_delay_ms : 0);
		if (spec->budget_ms > 0)
			until = kr_earlier(until, start + spec->budget_ms);
		kr_sleep_until(until, NULL);
	}
}

int health_check(const struct health_spec *spec, struct health_result *res)
{
	char errbuf[CURL_ERROR_SIZE];
	struct body b = { NULL, 0, false };
	CURLcode rc;
	CURL *h;
	int ret;

	memset(res, 0, sizeof *res);
	if (bad_spec(spec, res) != 0)
		return -1;
	if (C == NULL) {
		snprintf(res->why, sizeof res->why, "GET %s: libcurl is not loaded", spec->url);
		return -1;
	}
	if (spec->body_substr != NULL && (b.data = malloc(HEALTH_BODY_MAX)) == NULL) {
		snprintf(res->why, sizeof res->why, "GET %s: out of memory", spec->url);
		return -1;
	}
	h = C->easy_init();
	if (h == NULL) {
		free(b.data);
		snprintf(res->why, sizeof res->why, "GET %s: cannot create a curl handle",
				spec->url);
		return -1;
	}
	errbuf[0] = '\0';
	rc = set_options(h, spec, &b, errbuf);
	if (rc != CURLE_OK) {
		snprintf(res->why, sizeof res->why, "GET %s: %s", spec->url,
				C->easy_strerror(rc));
		ret = -1;
	} else {
		ret = run_tries(h, spec, &b, errbuf, res);
	}
	C->easy_cleanup(h);
	free(b.data);
	res->ok = ret == 0;
	return ret;
}
