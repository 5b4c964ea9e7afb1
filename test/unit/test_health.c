/*
 * test_health.c: health_check against a scripted HTTP server in a thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "health.h"

#define MAX_CONNS 64
#define BIG_SIZE (3 * 1024 * 1024)
#define BIG_LATE_AT (5 * 512 * 1024)    /* 2.5 MiB: past the kept 1 MiB */
#define BIG_EARLY_AT 100
#define MARKER "NEEDLE-42"
#define SLOW_MS 2000

struct server {
	int lfd;
	int port;
	pthread_t acceptor;
	atomic_int stop;
	atomic_int flaky_failures;      /* /flaky answers 500 while > 0 */
	atomic_int requests;
	pthread_t conns[MAX_CONNS];
	int nconns;                     /* written by the acceptor only */
	pthread_mutex_t lock;
	char user_agent[128];           /* of the last request, under lock */
};

struct conn {
	struct server *srv;
	int fd;
};

/* ---- the scripted server ---- */

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void respond(int fd, int status, const char *extra, const char *body,
		size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof head,
			"HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n%s\r\n", status, len, extra);

	if (send_all(fd, head, (size_t)n) == 0 && len > 0)
		send_all(fd, body, len);
}

static void respond_text(int fd, int status, const char *extra, const char *body)
{
	respond(fd, status, extra, body, strlen(body));
}

static void respond_big(int fd, size_t marker_at)
{
	char *body = malloc(BIG_SIZE);

	if (body == NULL) {
		respond_text(fd, 507, "", "no memory");
		return;
	}
	memset(body, 'x', BIG_SIZE);
	memcpy(body + marker_at, MARKER, strlen(MARKER));
	respond(fd, 200, "", body, BIG_SIZE);
	free(body);
}

/* Answers after SLOW_MS, or gives up as soon as the client hangs up. */
static void respond_slow(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char c;

	if (poll(&pfd, 1, SLOW_MS) > 0 && recv(fd, &c, 1, MSG_PEEK) <= 0)
		return;
	respond_text(fd, 200, "", "slow Hello");
}

static void route(struct server *s, int fd, const char *path)
{
	static const char binary[] = "\0\0\1\2Hello\0tail";

	if (strcmp(path, "/ok") == 0)
		respond_text(fd, 200, "", "Hello, world");
	else if (strcmp(path, "/500") == 0)
		respond_text(fd, 500, "", "Internal Server Error");
	else if (strcmp(path, "/204") == 0)
		respond(fd, 204, "", "", 0);
	else if (strcmp(path, "/redirect") == 0)
		respond_text(fd, 302, "Location: /ok\r\n", "moved");
	else if (strcmp(path, "/redirect-file") == 0)
		respond_text(fd, 302, "Location: file:///etc/hostname\r\n", "moved");
	else if (strcmp(path, "/slow") == 0)
		respond_slow(fd);
	else if (strcmp(path, "/flaky") == 0)
		respond_text(fd, atomic_fetch_sub(&s->flaky_failures, 1) > 0 ? 500 : 200,
				"", "Hello from flaky");
	else if (strcmp(path, "/big-late") == 0)
		respond_big(fd, BIG_LATE_AT);
	else if (strcmp(path, "/big-early") == 0)
		respond_big(fd, BIG_EARLY_AT);
	else if (strcmp(path, "/binary") == 0)
		respond(fd, 200, "", binary, sizeof binary - 1);
	else
		respond_text(fd, 404, "", "not here");
}

static void note_user_agent(struct server *s, const char *req)
{
	const char *p = strstr(req, "\r\nUser-Agent: ");
	size_t n;

	if (p == NULL)
		return;
	p += strlen("\r\nUser-Agent: ");
	n = strcspn(p, "\r");
	if (n >= sizeof s->user_agent)
		n = sizeof s->user_agent - 1;
	pthread_mutex_lock(&s->lock);
	memcpy(s->user_agent, p, n);
	s->user_agent[n] = '\0';
	pthread_mutex_unlock(&s->lock);
}

static int read_request(int fd, char *req, size_t size)
{
	size_t got = 0;

	while (got + 1 < size) {
		ssize_t r = recv(fd, req + got, size - 1 - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			return 0;
	}
	return -1;
}

static void *serve_conn(void *arg)
{
	struct conn *c = arg;
	char req[8192], path[256];

	if (read_request(c->fd, req, sizeof req) == 0 &&
	    sscanf(req, "GET %255s ", path) == 1) {
		atomic_fetch_add(&c->srv->requests, 1);
		note_user_agent(c->srv, req);
		route(c->srv, c->fd, path);
	}
	close(c->fd);
	free(c);
	return NULL;
}

static void start_conn(struct server *s, int fd)
{
	struct conn *c = malloc(sizeof *c);

	if (c == NULL || s->nconns == MAX_CONNS) {
		free(c);
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	if (pthread_create(&s->conns[s->nconns], NULL, serve_conn, c) != 0) {
		free(c);
		close(fd);
		return;
	}
	s->nconns++;
}

static void *accept_loop(void *arg)
{
	struct server *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd pfd = { s->lfd, POLLIN, 0 };
		int fd;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept(s->lfd, NULL, NULL);
		if (fd >= 0)
			start_conn(s, fd);
	}
	return NULL;
}

/* A TCP socket on 127.0.0.1, bound to a free port; its port in *port. */
static int bound_socket(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static int server_setup(void **state)
{
	struct server *s = calloc(1, sizeof *s);

	assert_non_null(s);
	s->lfd = bound_socket(&s->port);
	assert_int_equal(listen(s->lfd, 16), 0);
	atomic_init(&s->stop, 0);
	atomic_init(&s->flaky_failures, 0);
	atomic_init(&s->requests, 0);
	assert_int_equal(pthread_mutex_init(&s->lock, NULL), 0);
	assert_int_equal(pthread_create(&s->acceptor, NULL, accept_loop, s), 0);
	*state = s;
	return 0;
}

static int server_teardown(void **state)
{
	struct server *s = *state;

	atomic_store(&s->stop, 1);
	pthread_join(s->acceptor, NULL);
	close(s->lfd);
	for (int i = 0; i < s->nconns; i++)
		pthread_join(s->conns[i], NULL);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return 0;
}

/* ---- helpers ---- */

struct check {
	char url[128];
	struct health_spec spec;
	struct health_result res;
	int rc;
	double elapsed_ms;
};

static double mono_ms(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void check_init(struct check *c, const struct server *s, const char *path)
{
	memset(c, 0, sizeof *c);
	snprintf(c->url, sizeof c->url, "http://127.0.0.1:%d%s", s->port, path);
	c->spec.url = c->url;
	c->spec.timeout_ms = 10000;
}

static int run(struct check *c)
{
	double t0 = mono_ms();

	c->rc = health_check(&c->spec, &c->res);
	c->elapsed_ms = mono_ms() - t0;
	assert_int_equal(c->res.ok, c->rc == 0);
	return c->rc;
}

static void assert_healthy(struct check *c)
{
	if (run(c) != 0)
		fail_msg("%s: %s", c->url, c->res.why);
	assert_true(c->res.ok);
	assert_string_equal(c->res.why, "");
}

static void assert_unhealthy(struct check *c, const char *why)
{
	assert_int_equal(run(c), -1);
	assert_false(c->res.ok);
	if (why != NULL)
		assert_string_equal(c->res.why, why);
}

/* ---- tests ---- */

static void test_ok(void **state)
{
	struct server *s = *state;
	struct check c;

	check_init(&c, s, "/ok");
	assert_healthy(&c);
	assert_int_equal(c.res.status, 200);
	assert_int_equal(c.res.tries, 1);
	assert_true(c.res.ms > 0.0 && c.res.ms <= c.elapsed_ms + 1.0);
	assert_int_equal(atomic_load(&s->requests), 1);
	assert_string_equal(s->user_agent, "kahua-restarter");
}

static void test_status_mismatch(void **state)
{
	struct check c;

	check_init(&c, *state, "/500");
	assert_unhealthy(&c, "status 500, expected 200");
	assert_int_equal(c.res.status, 500);
	assert_int_equal(c.res.tries, 1);

	check_init(&c, *state, "/nowhere");
	assert_unhealthy(&c, "status 404, expected 200");
}

static void test_status_list(void **state)
{
	struct check c;

	check_init(&c, *state, "/500");
	c.spec.statuses[0] = 500;
	c.spec.nstatuses = 1;
	assert_healthy(&c);
	assert_int_equal(c.res.status, 500);

	check_init(&c, *state, "/500");
	c.spec.statuses[0] = 200;
	c.spec.statuses[1] = 204;
	c.spec.nstatuses = 2;
	assert_unhealthy(&c, "status 500, expected 200 or 204");

	c.spec.statuses[2] = 301;
	c.spec.nstatuses = 3;
	assert_unhealthy(&c, "status 500, expected 200, 204 or 301");

	check_init(&c, *state, "/204");
	c.spec.statuses[0] = 200;
	c.spec.statuses[1] = 204;
	c.spec.nstatuses = 2;
	assert_healthy(&c);
	assert_int_equal(c.res.status, 204);

	/* The default {200} does not take 204. */
	check_init(&c, *state, "/204");
	assert_unhealthy(&c, "status 204, expected 200");
}

static void test_body(void **state)
{
	struct check c;

	check_init(&c, *state, "/ok");
	c.spec.body_substr = "Hello";
	assert_healthy(&c);

	c.spec.body_substr = "world";
	assert_healthy(&c);

	c.spec.body_substr = "Goodbye";
	assert_unhealthy(&c, "body lacks \"Goodbye\"");
	assert_int_equal(c.res.status, 200);

	/* The status is judged before the body. */
	check_init(&c, *state, "/500");
	c.spec.body_substr = "Internal";
	assert_unhealthy(&c, "status 500, expected 200");
}

/* NUL bytes before the text: a str* search would stop at the first one. */
static void test_body_binary(void **state)
{
	struct check c;

	check_init(&c, *state, "/binary");
	c.spec.body_substr = "Hello";
	assert_healthy(&c);
	c.spec.body_substr = "tail";
	assert_healthy(&c);
	c.spec.body_substr = "Hellp";
	assert_unhealthy(&c, "body lacks \"Hellp\"");
}

static void test_body_big(void **state)
{
	struct check c;
	char want[256];

	check_init(&c, *state, "/big-early");
	c.spec.body_substr = MARKER;
	assert_healthy(&c);

	check_init(&c, *state, "/big-late");
	c.spec.body_substr = MARKER;
	snprintf(want, sizeof want, "body lacks \"%s\" (first %d bytes checked)",
			MARKER, HEALTH_BODY_MAX);
	assert_unhealthy(&c, want);
	assert_int_equal(c.res.status, 200);

	/* Without an expected body, a big one is read and dropped. */
	check_init(&c, *state, "/big-late");
	assert_healthy(&c);
}

static void test_redirect(void **state)
{
	struct server *s = *state;
	struct check c;

	check_init(&c, s, "/redirect");
	assert_unhealthy(&c, "status 302, expected 200");
	assert_int_equal(c.res.status, 302);
	assert_int_equal(atomic_load(&s->requests), 1);

	c.spec.follow_redirects = true;
	c.spec.body_substr = "Hello, world";
	assert_healthy(&c);
	assert_int_equal(c.res.status, 200);
	assert_int_equal(atomic_load(&s->requests), 3);
}

/* Only http and https, directly or through a redirect. */
static void test_protocols(void **state)
{
	struct check c;

	check_init(&c, *state, "/redirect-file");
	c.spec.follow_redirects = true;
	assert_unhealthy(&c, NULL);
	assert_non_null(strstr(c.res.why, "file"));
	assert_int_equal(c.res.tries, 1);

	memset(&c, 0, sizeof c);
	c.spec.url = "file:///etc/hostname";
	c.spec.timeout_ms = 1000;
	assert_unhealthy(&c, NULL);
	assert_non_null(strstr(c.res.why, "file"));
	assert_int_equal(c.res.status, 0);
}

static void test_timeout(void **state)
{
	struct check c;

	check_init(&c, *state, "/slow");
	c.spec.timeout_ms = 300;
	assert_unhealthy(&c, NULL);
	assert_true(c.elapsed_ms < 1500.0);
	assert_true(c.elapsed_ms >= 250.0);
	assert_int_equal(c.res.status, 0);
	assert_int_equal(c.res.tries, 1);
	assert_non_null(strstr(c.res.why, "timed out"));
}

/* The budget, not the request's own limit, ends a slow check. */
static void test_budget_cuts_a_slow_try(void **state)
{
	struct check c;

	check_init(&c, *state, "/slow");
	c.spec.budget_ms = 300;
	assert_unhealthy(&c, NULL);
	assert_true(c.res.out_of_time);
	assert_true(c.elapsed_ms < 1500.0);
	assert_int_equal(c.res.tries, 1);
}

/* Retries stop when the budget is spent, however many were allowed. */
static void test_budget_ends_retries(void **state)
{
	struct check c;

	check_init(&c, *state, "/500");
	c.spec.retries = 50;
	c.spec.retry_delay_ms = 200;
	c.spec.budget_ms = 500;
	/*
	 * The budget may end between tries or cut the last one short (on a
	 * loaded machine a local request can take what is left of it): the
	 * check fails either way, after a few tries, not fifty.
	 */
	assert_unhealthy(&c, NULL);
	if (strcmp(c.res.why, "status 500, expected 200") != 0 && strstr(c.res.why, "timed out") == NULL)
		fail_msg("why: %s", c.res.why);
	assert_true(c.res.tries >= 2 && c.res.tries <= 4);
	assert_true(c.elapsed_ms < 1500.0);
}

/* A check that fits its budget is not marked out of time. */
static void test_budget_unused(void **state)
{
	struct check c;

	check_init(&c, *state, "/ok");
	c.spec.budget_ms = 5000;
	assert_healthy(&c);
	assert_false(c.res.out_of_time);
	check_init(&c, *state, "/500");
	c.spec.budget_ms = 5000;
	assert_unhealthy(&c, "status 500, expected 200");
	assert_false(c.res.out_of_time);
}

static void test_refused(void **state)
{
	int port;
	int fd = bound_socket(&port);   /* bound, not listening: refuses */
	struct check c;
	char want[160];

	(void)state;
	memset(&c, 0, sizeof c);
	snprintf(c.url, sizeof c.url, "http://127.0.0.1:%d/", port);
	c.spec.url = c.url;
	c.spec.timeout_ms = 2000;
	snprintf(want, sizeof want, "Connection refused");
	assert_unhealthy(&c, want);
	assert_int_equal(c.res.status, 0);
	close(fd);
}

static void test_retries_pass(void **state)
{
	struct server *s = *state;
	struct check c;

	atomic_store(&s->flaky_failures, 2);
	check_init(&c, s, "/flaky");
	c.spec.retries = 2;
	c.spec.retry_delay_ms = 100;
	assert_healthy(&c);
	assert_int_equal(c.res.tries, 3);
	assert_int_equal(c.res.status, 200);
	assert_int_equal(atomic_load(&s->requests), 3);
	assert_true(c.elapsed_ms >= 200.0);
}

static void test_retries_exhausted(void **state)
{
	struct server *s = *state;
	struct check c;

	atomic_store(&s->flaky_failures, 2);
	check_init(&c, s, "/flaky");
	c.spec.retries = 1;
	c.spec.retry_delay_ms = 100;
	assert_unhealthy(&c, "status 500, expected 200");
	assert_int_equal(c.res.tries, 2);
	assert_int_equal(c.res.status, 500);
	assert_int_equal(atomic_load(&s->requests), 2);
	assert_true(c.elapsed_ms >= 100.0);
}

static void test_retry_delay(void **state)
{
	struct server *s = *state;
	struct check c;

	check_init(&c, s, "/500");
	c.spec.retries = 2;
	c.spec.retry_delay_ms = 250;
	assert_unhealthy(&c, "status 500, expected 200");
	assert_int_equal(c.res.tries, 3);
	assert_int_equal(atomic_load(&s->requests), 3);
	assert_true(c.elapsed_ms >= 500.0);
	/* No sleep after the last try. */
	assert_true(c.elapsed_ms < 500.0 + 3 * 1000.0);
}

static void test_no_retry_when_healthy(void **state)
{
	struct server *s = *state;
	struct check c;

	check_init(&c, s, "/ok");
	c.spec.retries = 3;
	c.spec.retry_delay_ms = 1000;
	assert_healthy(&c);
	assert_int_equal(c.res.tries, 1);
	assert_int_equal(atomic_load(&s->requests), 1);
	assert_true(c.elapsed_ms < 1000.0);
}

static void test_bad_spec(void **state)
{
	struct server *s = *state;
	struct check c;

	check_init(&c, s, "/ok");
	c.spec.timeout_ms = 0;
	assert_unhealthy(&c, NULL);
	assert_non_null(strstr(c.res.why, "timeout must be positive"));
	assert_int_equal(c.res.tries, 0);

	check_init(&c, s, "/ok");
	c.spec.url = NULL;
	assert_unhealthy(&c, "no URL given");

	check_init(&c, s, "/ok");
	c.spec.nstatuses = HEALTH_MAX_STATUSES + 1;
	assert_unhealthy(&c, NULL);
	assert_int_equal(atomic_load(&s->requests), 0);
}

/* After cleanup the library is gone: a check says so instead of crashing. */
static void test_library_not_loaded(void **state)
{
	struct server *s = *state;
	struct check c;
	char why[256];

	health_global_cleanup();
	check_init(&c, s, "/ok");
	assert_unhealthy(&c, NULL);
	assert_non_null(strstr(c.res.why, "libcurl is not loaded"));
	assert_int_equal(atomic_load(&s->requests), 0);
	assert_int_equal(health_global_init(why, sizeof why), 0);
	check_init(&c, s, "/ok");
	assert_healthy(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, server_setup, server_teardown)

int main(void)
{
	static const char *const proxies[] = {
		"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
		"all_proxy", "ALL_PROXY"
	};
	const struct CMUnitTest tests[] = {
		T(test_ok),
		T(test_status_mismatch),
		T(test_status_list),
		T(test_body),
		T(test_body_binary),
		T(test_body_big),
		T(test_redirect),
		T(test_protocols),
		T(test_timeout),
		T(test_budget_cuts_a_slow_try),
		T(test_budget_ends_retries),
		T(test_budget_unused),
		T(test_refused),
		T(test_retries_pass),
		T(test_retries_exhausted),
		T(test_retry_delay),
		T(test_no_retry_when_healthy),
		T(test_bad_spec),
		T(test_library_not_loaded),
	};
	int failed;

	/* The server is local: a proxy from the environment must not get in the way. */
	for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
		unsetenv(proxies[i]);
	char why[256];

	if (health_global_init(why, sizeof why) != 0) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	health_global_cleanup();
	return failed;
}
