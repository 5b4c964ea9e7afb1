/*
 * The grace expression: formatted only from a validated number of
 * milliseconds, byte for byte what a real Kahua worker was recorded
 * answering; its answers read, and anything else refused with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "kahua_grace.h"
#include "vectors.h"

static cJSON *vec;

static struct grace_result parse(const char *text, long long ms)
{
	struct grace_result r;

	memset(&r, 0x5a, sizeof r);
	kahua_grace_parse(text, strlen(text), ms, &r);
	return r;
}

static void test_request(void **state)
{
	char buf[2048];

	(void)state;
	assert_int_equal(kahua_grace_request(buf, sizeof buf, 300), 0);
	assert_string_equal(buf, vector_field(vec, "grace: armed for 300 ms", "sent"));
	assert_int_equal(kahua_grace_request(buf, sizeof buf, GRACE_MAX_MS), 0);
	assert_non_null(strstr(buf, "(/ 10000 1000.0)"));
	assert_non_null(strstr(buf, "(list 'grace 1 10000)"));
	strcpy(buf, "untouched");
	assert_int_equal(kahua_grace_request(buf, sizeof buf, 0), -1);
	assert_int_equal(kahua_grace_request(buf, sizeof buf, -300), -1);
	assert_int_equal(kahua_grace_request(buf, sizeof buf, GRACE_MAX_MS + 1), -1);
	assert_string_equal(buf, "untouched");
	assert_int_equal(kahua_grace_request(buf, 100, 300), -1);        /* does not fit */
}

static void test_recorded_answers(void **state)
{
	(void)state;
	assert_true(parse(vector_received(vec, "grace: armed for 300 ms"), 300).armed);
	assert_true(parse(vector_received(vec, "grace: the same sent again"), 300).armed);
}

#define OK_HDR "((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \""

static void test_refused(void **state)
{
	struct grace_result r;
	cJSON *census;

	(void)state;
	/* Another grace than asked: not this one. */
	r = parse(vector_received(vec, "grace: armed for 300 ms"), 301);
	assert_false(r.armed);
	assert_string_equal(r.why, "grace answer is not (grace 1 MS): (grace 1 300)");
	r = parse(OK_HDR "(grace 0 300)\")\n", 300);
	assert_false(r.armed);
	assert_string_equal(r.why, "the worker has no Kahua SIGINT handler to put back, or no threads");
	assert_false(parse(OK_HDR "(grace 1)\")\n", 300).armed);
	assert_false(parse(OK_HDR "(grace \\\"1\\\" 300)\")\n", 300).armed);
	assert_false(parse(OK_HDR "(grace 1 300\")\n", 300).armed);                /* truncated */
	assert_false(parse(OK_HDR "3\")\n", 300).armed);
	r = parse("", 300);
	assert_false(r.armed);
	assert_string_equal(r.why, "eval reply unreadable (0 bytes)");
	r = parse(")))\x01 garbage ((", 300);
	assert_string_equal(r.why, "eval reply unreadable (15 bytes)");
	/* An older Kahua, or eval refused: the recorded ERROR shape. */
	census = vectors_load_path("test/vectors/census-sweep.json");
	r = parse(vector_received(census, "eval ERROR"), 300);
	assert_false(r.armed);
	assert_true(strncmp(r.why, "eval answered ERROR: *** ", 25) == 0);
	cJSON_Delete(census);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_recorded_answers),
		cmocka_unit_test(test_refused),
	};
	int rc;

	vec = vectors_load_path("test/vectors/grace.json");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	cJSON_Delete(vec);
	return rc;
}
