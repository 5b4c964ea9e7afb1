/*
 * The census and sweep: every recorded reply of a real Kahua parsed,
 * garbage, truncated, huge and deeply nested replies refused with a
 * reason, and the sweep request formatted only from validated integers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kahua_census.h"
#include "vectors.h"

static cJSON *vec;

static const char *sent(const char *prefix)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, vec) {
		const char *name = cJSON_GetObjectItem(c, "case")->valuestring;

		if (strncmp(name, prefix, strlen(prefix)) == 0)
			return cJSON_GetObjectItem(c, "sent")->valuestring;
	}
	fail_msg("no recorded case %s", prefix);
	return NULL;
}

static struct census census(const char *text)
{
	struct census c;

	memset(&c, 0x5a, sizeof c);
	kahua_census_parse(text, strlen(text), &c);
	return c;
}

static struct sweep_result sweep(const char *text)
{
	struct sweep_result s;

	memset(&s, 0x5a, sizeof s);
	kahua_sweep_parse(text, strlen(text), &s);
	return s;
}

static void test_recorded_census(void **state)
{
	struct census c = census(vector_received(vec, "census: the wiki worker, 3 views"));

	(void)state;
	assert_int_equal(c.outcome, EVAL_OK);
	assert_true(c.conts.total == 401 && c.conts.under_1m == 100 && c.conts.m1_10 == 300);
	assert_true(c.conts.m10_timeout == 0 && c.conts.overdue == 0 && c.conts.permanent == 1);
	assert_true(c.sessions.total == 5 && c.sessions.under_1m == 2 && c.sessions.permanent == -1);
	assert_true(c.heap == 33533952 && c.heap_used == 33533952 - 2224128);
	assert_true(c.timeout_s == 3600 && c.elapsed_us == 969 && c.groups == 2 && c.stride == 1);
	assert_int_equal(c.nmakers, 2);
	assert_true(c.makers[0].count == 400 && !c.makers[0].permanent);
	assert_string_equal(c.makers[0].label, "(lambda () (line-page i text)) (wiki.kahua:16)");
	assert_true(c.makers[1].count == 1 && c.makers[1].permanent);
	assert_string_equal(c.makers[1].label, "define-entry wiki (wiki.kahua:10)");

	c = census(vector_received(vec, "census: a hello worker"));
	assert_int_equal(c.outcome, EVAL_OK);
	assert_true(c.conts.total == 1 && c.conts.permanent == 1 && c.nmakers == 1);

	/* Past 16384 entries: ages exact, makers counted on 1 entry in 2. */
	c = census(vector_received(vec, "census: the wiki worker with 20,000 more"));
	assert_int_equal(c.outcome, EVAL_OK);
	assert_true(c.conts.total == 20101 && c.conts.under_1m == 20100 && c.conts.permanent == 1);
	assert_true(c.stride == 2 && c.groups == 3 && c.nmakers == 3);
	assert_true(c.makers[0].count == 19992 && c.makers[1].count == 108 && c.makers[2].count == 1);
	assert_true(c.makers[2].permanent);
}

static void test_recorded_sweep(void **state)
{
	struct sweep_result s = sweep(vector_received(vec, "sweep: continuations unused for 60 s"));

	(void)state;
	assert_int_equal(s.outcome, EVAL_OK);
	assert_true(s.swept_conts == 300 && s.swept_sessions == -1 && s.conts_after == 101);
	assert_true(s.sessions_after == 5);
	assert_true(s.heap_used_before == 33533952 - 2195456 && s.heap_used_after == 33533952 - 3846144);
	s = sweep(vector_received(vec, "sweep: continuations and state sessions"));
	assert_int_equal(s.outcome, EVAL_OK);
	assert_true(s.swept_conts == 0 && s.swept_sessions == 3 && s.sessions_after == 2);
}

static void test_recorded_error(void **state)
{
	const char *err = vector_received(vec, "eval ERROR");
	struct census c = census(err);
	struct sweep_result s = sweep(err);

	(void)state;
	assert_int_equal(c.outcome, EVAL_UNREADABLE);
	assert_string_equal(c.why, "eval answered ERROR: *** ERROR: wrong number of arguments for "
			    "#<closure (session-cont-sweep age)> (required 1, got 0)");
	assert_true(c.conts.total == -1 && c.heap == -1 && c.nmakers == 0);
	assert_int_equal(s.outcome, EVAL_UNREADABLE);
	assert_true(s.swept_conts == -1 && s.heap_used_after == -1);
	/* A census reply is no sweep, and the other way round. */
	assert_int_equal(sweep(vector_received(vec, "census: a hello")).outcome, EVAL_UNREADABLE);
	assert_int_equal(census(vector_received(vec, "sweep: continuations unused")).outcome,
			 EVAL_UNREADABLE);
}

#define OK_HDR "((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \""

static void test_garbage(void **state)
{
	struct census c;
	char *huge;
	size_t n;

	(void)state;
	assert_string_equal(census("").why, "eval reply unreadable (0 bytes)");
	assert_string_equal(census(")))\x01 garbage ((").why, "eval reply unreadable (15 bytes)");
	/* Truncated inside the value. */
	c = census(OK_HDR "(census 1 2 3 4 (1 0 0 0 0 1) (1\")\n");
	assert_int_equal(c.outcome, EVAL_UNREADABLE);
	assert_string_equal(c.why, "eval value \"(census 1 2 3 4 (1 0 0 0 0 1) (1\" is not a census");
	/* Wrong shapes: negative, a string for a count, a maker without its label, free > heap. */
	assert_int_equal(census(OK_HDR "(census 1 2 3 4 (-1 0 0 0 0 1) (1) (10 1) 0 ())\")\n").outcome,
			 EVAL_UNREADABLE);
	assert_int_equal(census(OK_HDR "(census 1 2 3 4 (1 0 0 0 0 1) (1) (10 11) 0 ())\")\n").outcome,
			 EVAL_UNREADABLE);
	assert_int_equal(census(OK_HDR "(census 1 2 3 4 (1 0 0 0 0 1) (1) (10 1) 1 ((1 #f)))\")\n").outcome,
			 EVAL_UNREADABLE);
	c = census(OK_HDR "(census 1 2 3 4 (1 0 0 0 0 1) (1) (10 1) 1 ((1 #t \\\"a\\\\nb\\\")))\")\n");
	assert_int_equal(c.outcome, EVAL_OK);
	assert_true(c.sessions.total == 1 && c.sessions.under_1m == -1);        /* no ages recorded */
	assert_string_equal(c.makers[0].label, "a");                           /* first line only */
	/* More makers than the expression ever sends. */
	huge = malloc(64 * 1024);
	assert_non_null(huge);
	n = (size_t)sprintf(huge, OK_HDR "(census 1 2 3 4 (1 0 0 0 0 1) (1) (10 1) 17 (");
	for (int i = 0; i < 17; i++)
		n += (size_t)sprintf(huge + n, "(1 #f \\\"x\\\") ");
	sprintf(huge + n, "))\")\n");
	assert_int_equal(census(huge).outcome, EVAL_UNREADABLE);
	/* Deeply nested: refused by the reader's limits, not by the stack. */
	n = (size_t)sprintf(huge, OK_HDR);
	for (int i = 0; i < 20000; i++)
		huge[n++] = '(';
	strcpy(huge + n, "\")\n");
	c = census(huge);
	assert_int_equal(c.outcome, EVAL_UNREADABLE);
	free(huge);
}

/* Version 1 (every maker counted) still reads; version 2 carries its stride. */
static void test_versions(void **state)
{
	struct census c;

	(void)state;
	c = census(OK_HDR "(census 1 2 3 4 (1 0 0 0 0 1) (1) (10 1) 1 ((1 #t \\\"e\\\")))\")\n");
	assert_int_equal(c.outcome, EVAL_OK);
	assert_true(c.stride == 1 && c.nmakers == 1 && c.makers[0].count == 1);
	c = census(OK_HDR "(census 2 2 3 4 (40001 0 40000 0 0 1) (1) (10 1) 2 3 ((39999 #f \\\"l\\\") (1 #t \\\"e\\\")))\")\n");
	assert_int_equal(c.outcome, EVAL_OK);
	assert_true(c.stride == 3 && c.nmakers == 2 && c.makers[0].count == 39999);
	/* A stride below 1, a version 2 without its stride, an unknown version. */
	assert_int_equal(census(OK_HDR "(census 2 2 3 4 (1 0 0 0 0 1) (1) (10 1) 1 0 ((1 #t \\\"e\\\")))\")\n").outcome,
			 EVAL_UNREADABLE);
	assert_int_equal(census(OK_HDR "(census 2 2 3 4 (1 0 0 0 0 1) (1) (10 1) 1 ((1 #t \\\"e\\\")))\")\n").outcome,
			 EVAL_UNREADABLE);
	assert_int_equal(census(OK_HDR "(census 3 2 3 4 (1 0 0 0 0 1) (1) (10 1) 1 1 ((1 #t \\\"e\\\")))\")\n").outcome,
			 EVAL_UNREADABLE);
}

static void test_sweep_request(void **state)
{
	char buf[2048];

	(void)state;
	assert_int_equal(kahua_sweep_request(buf, sizeof buf, 60, -1), 0);
	assert_string_equal(buf, sent("sweep: continuations unused for 60 s"));
	assert_int_equal(kahua_sweep_request(buf, sizeof buf, 60, 60), 0);
	assert_string_equal(buf, sent("sweep: continuations and state sessions"));
	assert_int_equal(kahua_sweep_request(buf, sizeof buf, 3599, -1), 0);
	assert_non_null(strstr(buf, "(session-cont-sweep 3599)"));
	strcpy(buf, "untouched");
	assert_int_equal(kahua_sweep_request(buf, sizeof buf, 59, -1), -1);
	assert_int_equal(kahua_sweep_request(buf, sizeof buf, 60, 59), -1);
	assert_int_equal(kahua_sweep_request(buf, sizeof buf, SWEEP_MAX_S + 1, -1), -1);
	assert_int_equal(kahua_sweep_request(buf, sizeof buf, -60, -1), -1);
	assert_string_equal(buf, "untouched");
	assert_int_equal(kahua_sweep_request(buf, 100, 60, -1), -1);     /* does not fit */
}

static void test_census_request(void **state)
{
	(void)state;
	assert_string_equal(kahua_census_request, sent("census: the wiki worker"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_census),
		cmocka_unit_test(test_recorded_sweep),
		cmocka_unit_test(test_recorded_error),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_sweep_request),
		cmocka_unit_test(test_census_request),
	};
	int rc;

	vec = vectors_load_path("test/vectors/census-sweep.json");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	cJSON_Delete(vec);
	return rc;
}
