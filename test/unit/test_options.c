/* Option parsing: value syntax, the four sources and their precedence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"

static char dir[] = "/tmp/kr-options-XXXXXX";

static void test_seconds(void **state)
{
	double v;

	(void)state;
	assert_int_equal(parse_seconds("30", &v), 0);
	assert_true(v == 30);
	assert_int_equal(parse_seconds("1.5m", &v), 0);
	assert_true(v == 90);
	assert_int_equal(parse_seconds("2h", &v), 0);
	assert_true(v == 7200);
	assert_int_equal(parse_seconds("1d", &v), 0);
	assert_true(v == 86400);
	assert_int_equal(parse_seconds("250ms", &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(parse_seconds("10s", &v), 0);
	assert_true(v == 10);
	assert_int_equal(parse_seconds("-1", &v), -1);
	assert_int_equal(parse_seconds("soon", &v), -1);
	assert_int_equal(parse_seconds("5x", &v), -1);
	assert_int_equal(parse_seconds("5mm", &v), -1);
	assert_int_equal(parse_seconds("", &v), -1);
	assert_int_equal(parse_seconds("nan", &v), -1);
	assert_int_equal(parse_seconds("1e300", &v), -1);
}

static void test_sizes(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(parse_size("512M", &v), 0);
	assert_int_equal(v, 512LL << 20);
	assert_int_equal(parse_size("1G", &v), 0);
	assert_int_equal(v, 1LL << 30);
	assert_int_equal(parse_size("1.5K", &v), 0);
	assert_int_equal(v, 1536);
	assert_int_equal(parse_size("100", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(parse_size("2MiB", &v), 0);
	assert_int_equal(v, 2LL << 20);
	assert_int_equal(parse_size("12Q", &v), -1);
	assert_int_equal(parse_size("-5M", &v), -1);
	assert_int_equal(parse_size("M", &v), -1);
}

static void clear_env(void)
{
	unsetenv("OT_SITE");
	unsetenv("KAHUA_RESTARTER_KILL_AFTER");
	unsetenv("KAHUA_RESTARTER_STRATEGY");
	unsetenv("KAHUA_RESTARTER_URL");
	unsetenv("KAHUA_RESTARTER_CONFIG");
}

static int load(struct options *o, struct kr_err *err, int argc, ...)
{
	char *argv[16] = { "kahua-restarter" };
	va_list ap;

	va_start(ap, argc);
	for (int i = 1; i <= argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	return options_load(o, argc + 1, argv, err);
}

static void write_config(const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/etc/kahua-restarter.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_defaults(void **state)
{
	struct options o;
	struct kr_err err;

	(void)state;
	clear_env();
	assert_int_equal(load(&o, &err, 0), 0);
	assert_int_equal(o.command, CMD_RESTART);
	assert_int_equal(o.strategy, STRATEGY_ROLLING);
	assert_true(o.timeout == 300 && o.kill_after == 30);
	assert_int_equal(o.n_expect_status, 1);
	assert_int_equal(o.expect_status[0], 200);
	assert_int_equal(o.targets.n, 0);
	assert_null(o.site);
	options_free(&o);
}

static void test_precedence(void **state)
{
	struct options o;
	struct kr_err err;

	(void)state;
	clear_env();
	write_config("{\"kill-after\": 11, \"strategy\": \"surge\", \"url\": [\"http://file/\"],"
		     " \"min-rss\": \"1G\", \"retries\": 4}");
	setenv("OT_SITE", dir, 1);
	/* file over defaults */
	assert_int_equal(load(&o, &err, 0), 0);
	assert_true(o.kill_after == 11);
	assert_int_equal(o.strategy, STRATEGY_SURGE);
	assert_int_equal(o.urls.n, 1);
	assert_string_equal(o.urls.v[0], "http://file/");
	assert_int_equal(o.min_rss, 1LL << 30);
	assert_int_equal(o.retries, 4);
	assert_int_equal(o.src[3], SRC_DEFAULT); /* timeout */
	options_free(&o);
	/* environment over file */
	setenv("KAHUA_RESTARTER_KILL_AFTER", "22", 1);
	setenv("KAHUA_RESTARTER_URL", "http://env1/ http://env2/", 1);
	assert_int_equal(load(&o, &err, 0), 0);
	assert_true(o.kill_after == 22);
	assert_int_equal(o.urls.n, 2);
	assert_string_equal(o.urls.v[1], "http://env2/");
	assert_int_equal(o.strategy, STRATEGY_SURGE);
	options_free(&o);
	/* command line over environment; repeated --url accumulates */
	assert_int_equal(load(&o, &err, 6, "--kill-after", "33", "-u", "http://a/", "--url", "http://b/"), 0);
	assert_true(o.kill_after == 33);
	assert_int_equal(o.urls.n, 2);
	assert_string_equal(o.urls.v[0], "http://a/");
	assert_int_equal(o.strategy, STRATEGY_SURGE);
	options_free(&o);
	clear_env();
}

static void test_config_errors(void **state)
{
	static const struct { const char *json; const char *words; } bad[] = {
		{ "{\"nosuch\": 1}", "unknown key \"nosuch\"" },
		{ "{\"kill-after\": \"soon\"}", "kill-after" },
		{ "{\"json\": 1}", "true or false" },
		{ "{\"strategy\": true}", "rolling, surge or all" },
		{ "{\"url\": [1]}", "strings" },
		{ "{\"timeout\": 5,\n \"retries\": }", ":2:" },
		{ "[1, 2]", "JSON object" },
	};
	struct options o;
	struct kr_err err;

	(void)state;
	clear_env();
	setenv("OT_SITE", dir, 1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_config(bad[i].json);
		assert_int_equal(load(&o, &err, 0), -1);
		assert_int_equal(err.status, KR_CONFIG);
		if (strstr(err.msg, bad[i].words) == NULL || strstr(err.msg, "kahua-restarter.json") == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].json, err.msg, bad[i].words);
		options_free(&o);
	}
	write_config("{}");
	clear_env();
}

static void test_explicit_config_must_exist(void **state)
{
	struct options o;
	struct kr_err err;

	(void)state;
	clear_env();
	assert_int_equal(load(&o, &err, 2, "-c", "/nonexistent/kr.json"), -1);
	assert_int_equal(err.status, KR_CONFIG);
	assert_non_null(strstr(err.msg, "/nonexistent/kr.json"));
	options_free(&o);
}

static void test_commands_and_usage(void **state)
{
	struct options o;
	struct kr_err err;

	(void)state;
	clear_env();
	assert_int_equal(load(&o, &err, 3, "restart", "hello", "3"), 0);
	assert_int_equal(o.command, CMD_RESTART);
	assert_int_equal(o.targets.n, 2);
	assert_string_equal(o.targets.v[1], "3");
	options_free(&o);
	assert_int_equal(load(&o, &err, 2, "status", "-v"), 0);
	assert_int_equal(o.command, CMD_STATUS);
	assert_int_equal(o.verbose, 1);
	options_free(&o);
	assert_int_equal(load(&o, &err, 1, "reboot"), -1);
	assert_int_equal(err.status, KR_USAGE);
	options_free(&o);
	assert_int_equal(load(&o, &err, 2, "--retries", "x"), -1);
	assert_int_equal(err.status, KR_USAGE);
	assert_non_null(strstr(err.msg, "retries"));
	options_free(&o);
	assert_int_equal(load(&o, &err, 2, "--expect-status", "200,abc"), -1);
	options_free(&o);
	assert_int_equal(load(&o, &err, 1, "--kill-after"), -1);
	assert_non_null(strstr(err.msg, "needs an argument"));
	options_free(&o);
	assert_int_equal(load(&o, &err, 2, "--expect-status", "200,204"), 0);
	assert_int_equal(o.n_expect_status, 2);
	assert_int_equal(o.expect_status[1], 204);
	options_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_explicit_config_must_exist),
		cmocka_unit_test(test_commands_and_usage),
	};
	char etc[300];
	int rc;

	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(etc, sizeof etc, "%s/etc", dir);
	if (mkdir(etc, 0700) < 0)
		return 2;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(etc, sizeof etc, "rm -rf '%s'", dir);
	if (system(etc) != 0)
		rc = 1;
	return rc;
}
