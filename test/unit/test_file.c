/* file_read_small: whole small files, and every way one is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

static char dir[] = "/tmp/kr-file-XXXXXX";

static char *path_of(const char *name)
{
	static char p[256];

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(path_of(name), "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_reads_whole_file(void **state)
{
	size_t len = 0;
	const char *why = NULL;
	char *text;

	(void)state;
	write_file("a", "(make <kahua-config>)\n", 22);
	text = file_read_small(path_of("a"), 1024, &len, &why);
	assert_non_null(text);
	assert_int_equal(len, 22);
	assert_string_equal(text, "(make <kahua-config>)\n");
	free(text);
}

static void test_empty_file(void **state)
{
	size_t len = 99;
	const char *why = NULL;
	char *text;

	(void)state;
	write_file("empty", "", 0);
	text = file_read_small(path_of("empty"), 1024, &len, &why);
	assert_non_null(text);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);
}

static void test_missing_keeps_enoent(void **state)
{
	size_t len;
	const char *why = NULL;

	(void)state;
	assert_null(file_read_small(path_of("nope"), 1024, &len, &why));
	assert_int_equal(errno, ENOENT);
	assert_string_equal(why, strerror(ENOENT));
}

static void test_directory_refused(void **state)
{
	size_t len;
	const char *why = NULL;

	(void)state;
	assert_null(file_read_small(dir, 1024, &len, &why));
	assert_string_equal(why, "not a regular file");
	assert_int_not_equal(errno, ENOENT);
}

static void test_too_large_refused(void **state)
{
	static char big[2049];
	size_t len;
	const char *why = NULL;

	(void)state;
	memset(big, 'x', sizeof big);
	write_file("big", big, sizeof big);
	assert_null(file_read_small(path_of("big"), 2048, &len, &why));
	assert_string_equal(why, "larger than 2 KiB");
	{
		char *text = file_read_small(path_of("big"), 1024 * 1024, &len, &why);

		assert_non_null(text);
		assert_int_equal(len, sizeof big);
		free(text);
	}
	assert_null(file_read_small(path_of("big"), 1024, &len, &why));
	assert_string_equal(why, "larger than 1 KiB");
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	static const char *const names[] = { "a", "empty", "big" };

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(path_of(names[i]));
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_whole_file),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_missing_keeps_enoent),
		cmocka_unit_test(test_directory_refused),
		cmocka_unit_test(test_too_large_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
