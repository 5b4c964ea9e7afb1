/*
 * test_forecast.c: the time until MemAvailable reaches the floor, on
 * generated histories (a restart saw-tooth, steady growth between rare
 * restarts, no growth, none at all).  Run from the top of the source
 * tree: it calls bench/gen_history.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "forecast.h"
#include "history.h"
#include "fixtures.h"

#define GIB (1024 * MB)

static int setup(void **state)
{
	umask(022);
	return fx_setup(state, "kr-forecast", "history.jsonl");
}

static void gen(const char *path, const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "python3 bench/gen_history.py '%s' %s", path, args);
	assert_int_equal(system(cmd), 0);
}

/* The workers running now: two hello, one leaky; the host as given. */
struct now {
	struct run_report r;
	struct worker_obs w[3];
};

static void now_report(struct now *n, long long avail, long long total)
{
	memset(n, 0, sizeof *n);
	n->w[0] = obs("a:1", 1, "hello", 60 * MB, -1, 600);
	n->w[1] = obs("a:2", 2, "hello", 60 * MB, -1, 600);
	n->w[2] = obs("a:3", 3, "leaky", 90 * MB, -1, 600);
	n->r.before = n->w;
	n->r.nbefore = 3;
	n->r.host = (struct host_mem){ avail, 0, total };
}

/* history_growth of path, then the forecast for the workers of n. */
static void forecast_from(struct now *n, const char *path, long long floor)
{
	struct type_growth *g;
	struct kr_err err = { 0 };
	size_t ng;

	assert_int_equal(history_growth(path, 0, &g, &ng, &err), 0);
	assert_int_equal(forecast_compute(&n->r, g, ng, floor), 0);
	history_growth_free(g, ng);
}

static const struct forecast_type *type_of(const struct forecast *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->t[i].type, name) == 0)
			return &f->t[i];
	fail_msg("no type %s in the forecast", name);
	return NULL;
}

static void assert_near(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("%.3f is not within %.3f of %.3f", got, tol, want);
}

/* Every worker restarted hourly: memory rises and falls, the rate is still there. */
static void test_restart_sawtooth(void **state)
{
	struct fx *f = *state;
	struct now n;
	const struct forecast *fc = &n.r.forecast;
	char msg[512];
	double want;

	gen(f->path, "--hours 48 --types hello:2:20,leaky:1:48");
	now_report(&n, 4 * GIB, 8 * GIB);
	forecast_from(&n, f->path, 0);
	assert_int_equal(fc->state, FORECAST_GROWING);
	assert_true(fc->floor_default);
	assert_int_equal(fc->floor, 8 * GIB / 10);
	/* hello: 2 workers at 20M/h; leaky: 1 at 48M/h; the host all of them. */
	assert_near(type_of(fc, "hello")->bytes_per_hour / MB, 40, 0.5);
	assert_near(type_of(fc, "leaky")->bytes_per_hour / MB, 48, 0.5);
	assert_near(fc->bytes_per_hour / MB, 88, 1);
	want = (double)(4 * GIB - 8 * GIB / 10) / (88.0 * MB) * 3600;
	assert_near(fc->seconds, want, want * 0.01);
	assert_near(type_of(fc, "leaky")->seconds, want * 88 / 48, want * 0.02);
	assert_string_equal(fc->t[fc->fastest].type, "leaky");
	/* Within 40 h it warns, naming leaky; 30 h is too short a window to. */
	assert_true(forecast_within(fc, 40 * 3600, msg, sizeof msg));
	assert_string_equal(msg, "forecast: MemAvailable 4.0G reaches the floor 819M in 37h14m (within 40h00m) "
			    "at +88.0M/h; fastest-growing type leaky (1 worker, +48.0M/h)");
	assert_false(forecast_within(fc, 30 * 3600, msg, sizeof msg));
	assert_false(forecast_within(fc, 0, msg, sizeof msg));
	forecast_free(&n.r.forecast);
}

/*
 * Steady growth: a wiki worker lives 10 h between restarts, growing
 * from 47M to 547M: 50M/h.  A floor given in bytes replaces the 10%.
 */
static void test_steady_growth(void **state)
{
	struct fx *f = *state;
	FILE *out = fopen(f->path, "w");
	struct now n;
	const struct forecast *fc = &n.r.forecast;
	char msg[512];

	assert_non_null(out);
	for (int i = 0; i < 3; i++)
		fprintf(out, "{\"command\":\"restart\",\"started\":%d,\"metric\":\"rss\","
			"\"workers_before\":[{\"type\":\"wiki\",\"age_s\":36000,\"rss_bytes\":%lld}],"
			"\"restarts\":[{\"old\":{\"type\":\"wiki\",\"age_s\":36000,\"rss_bytes\":%lld},"
			"\"new\":{\"type\":\"wiki\",\"age_s\":0,\"rss_bytes\":%lld},\"result\":\"ok\"}],"
			"\"exit_status\":0,\"outcome\":\"ok\"}\n", 1764187200 + i * 36000,
			547 * MB, 547 * MB, 47 * MB);
	assert_int_equal(fclose(out), 0);
	now_report(&n, 2 * GIB, 8 * GIB);
	snprintf(n.w[2].w.type, sizeof n.w[2].w.type, "wiki");
	forecast_from(&n, f->path, GIB);
	assert_int_equal(fc->state, FORECAST_GROWING);
	assert_false(fc->floor_default);
	assert_int_equal(fc->floor, GIB);
	assert_near(type_of(fc, "wiki")->bytes_per_hour / MB, 50, 0.001);
	/* 1 GiB of room at 50M/h: 20.48 h. */
	assert_near(fc->seconds, 1024.0 / 50 * 3600, 1);
	/* hello has no growth figure in this history: shown, not counted. */
	assert_false(type_of(fc, "hello")->have_rate);
	assert_true(forecast_within(fc, 86400, msg, sizeof msg));
	assert_non_null(strstr(msg, "in 20h28m (within 24h00m) at +50.0M/h; fastest-growing type wiki"));
	forecast_free(&n.r.forecast);
}

static void test_no_growth(void **state)
{
	struct fx *f = *state;
	struct now n;
	const struct forecast *fc = &n.r.forecast;
	char msg[512], *text = NULL;
	size_t len;
	FILE *mem;

	gen(f->path, "--hours 24 --types hello:2:0,leaky:1:0");
	now_report(&n, 4 * GIB, 8 * GIB);
	forecast_from(&n, f->path, 0);
	assert_int_equal(fc->state, FORECAST_NOT_GROWING);
	assert_true(fc->seconds < 0 && fc->fastest < 0);
	assert_false(forecast_within(fc, 1e9, msg, sizeof msg));
	mem = open_memstream(&text, &len);
	assert_non_null(mem);
	forecast_print(fc, mem);
	assert_int_equal(fclose(mem), 0);
	assert_string_equal(text, "# forecast: MemAvailable 4.0G, floor 819M (10% of MemTotal): host not growing\n"
			    "#   hello              2 workers  not growing\n"
			    "#   leaky              1 worker   not growing\n");
	free(text);
	forecast_free(&n.r.forecast);
}

/* No history, no figure: the forecast says so and never warns. */
static void test_no_history(void **state)
{
	struct fx *f = *state;
	struct now n;
	char msg[512];

	now_report(&n, 4 * GIB, 8 * GIB);
	forecast_from(&n, f->path, 0);
	assert_int_equal(n.r.forecast.state, FORECAST_NO_HISTORY);
	assert_false(forecast_within(&n.r.forecast, 1e9, msg, sizeof msg));
	forecast_free(&n.r.forecast);
	/* Unknown memory: no forecast either. */
	now_report(&n, -1, 8 * GIB);
	gen(f->path, "--hours 4");
	forecast_from(&n, f->path, 0);
	assert_int_equal(n.r.forecast.state, FORECAST_UNKNOWN);
	assert_false(forecast_within(&n.r.forecast, 1e9, msg, sizeof msg));
	forecast_free(&n.r.forecast);
	now_report(&n, 4 * GIB, -1);
	forecast_from(&n, f->path, 0);
	assert_int_equal(n.r.forecast.state, FORECAST_UNKNOWN);
	forecast_free(&n.r.forecast);
}

/* Below the floor already: "now", whatever the window. */
static void test_below_floor(void **state)
{
	struct fx *f = *state;
	struct now n;
	char msg[512];

	gen(f->path, "--hours 24");
	now_report(&n, 500 * MB, 8 * GIB);
	forecast_from(&n, f->path, 0);
	assert_int_equal(n.r.forecast.state, FORECAST_BELOW);
	assert_true(n.r.forecast.seconds == 0);
	assert_true(forecast_within(&n.r.forecast, 60, msg, sizeof msg));
	assert_string_equal(msg, "forecast: MemAvailable 500M is below the floor 819M now; "
			    "fastest-growing type leaky (1 worker, +48.0M/h)");
	forecast_free(&n.r.forecast);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_sawtooth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steady_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_below_floor, setup, teardown),
	};

	/* fixtures.h helpers of the report tests this one does not need */
	(void)step;
	(void)slurp;
	(void)put_file;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
