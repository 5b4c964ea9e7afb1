/* Error records: wrapping keeps the cause; status names come from the one table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"

static void test_refail_may_quote_itself(void **state)
{
	struct kr_err err;

	(void)state;
	kr_fail(&err, KR_UNAVAILABLE, "restart: no reply within 10s");
	err.cause = KR_CAUSE_TIMEOUT;
	kr_refail(&err, KR_HEALTH, "worker a:1 (hello): %s; hello now has 1 of 2", err.msg);
	assert_string_equal(err.msg, "worker a:1 (hello): restart: no reply within 10s; hello now has 1 of 2");
	assert_int_equal(err.status, KR_HEALTH);
	assert_int_equal(err.cause, KR_CAUSE_TIMEOUT);
}

static void test_refail_truncates_safely(void **state)
{
	struct kr_err err;
	char big[KR_ERR_MSG_MAX * 2];

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	kr_fail(&err, KR_HEALTH, "%s", big);
	kr_refail(&err, KR_HEALTH, "more: %s", err.msg);
	assert_int_equal(strlen(err.msg), KR_ERR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "more: xxx", 9);
}

static void test_status_names_from_table(void **state)
{
	(void)state;
	for (const struct kr_exit_info *e = kr_exit_table; e->name != NULL; e++)
		if (e->status != KR_SIGNAL_BASE)
			assert_string_equal(kr_status_name(e->status), e->name);
	assert_string_equal(kr_status_name(KR_DATAERR), "dataerr");
	assert_string_equal(kr_status_name(KR_SIGNAL_BASE + 15), "signal");
	assert_string_equal(kr_status_name(2), "error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refail_may_quote_itself),
		cmocka_unit_test(test_refail_truncates_safely),
		cmocka_unit_test(test_status_names_from_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
