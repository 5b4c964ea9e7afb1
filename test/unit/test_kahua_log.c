/* Finding a failed worker's error in the tail of Kahua's log. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kahua_log.h"

/* As a real Kahua 1.1_pre19 wrote it after (run hello) of a bad deploy. */
static const char real_log[] =
	"2026 Dec  1 05:27:54 kahua-spvr.scm[5558]: [worker] run: leaky(4 - 5a5:4b80h)\n"
	"2026 Dec  1 05:27:56 kahua-spvr.scm[5558]: [spvr] header: ((\"x-kahua-worker\" \"spvr\"))\n"
	"2026 Dec  1 05:27:56 kahua-spvr.scm[5558]: [spvr] running (/opt/kahua/bin/gosh -I /opt/kahua/lib/kahua /opt/kahua/lib/kahua/kahua-server.scm -S /srv/site -c /srv/site/etc/kahua.conf -k 4bb:3n4l8 hello/hello.kahua)\n"
	"2026 Dec  1 05:27:56 kahua-spvr.scm[5558]: [spvr] running /opt/kahua/bin/gosh: pid 7023\n"
	"2026 Dec  1 05:27:57 kahua-server.scm[7023]: [server]: Failed to load modules.\n"
	"2026 Dec  1 05:27:57 kahua-server.scm[7023]: *** READ-ERROR: Read error at \"/srv/site/app/hello/hello.kahua\":line 10: EOF inside a list (starting from line 6)\n"
	"2026 Dec  1 05:27:57 kahua-server.scm[7023]:     While loading \"/srv/site/app/hello/hello.kahua\" at line 10\n"
	"2026 Dec  1 05:27:57 kahua-server.scm[7023]: Stack Trace:\n"
	"2026 Dec  1 05:27:57 kahua-server.scm[7023]: _______________________________________\n"
	"2026 Dec  1 05:27:57 kahua-spvr.scm[5558]: [worker] run: hello(5 - ERROR loading module)\n"
	"2026 Dec  1 05:27:57 kahua-spvr.scm[5558]: [spvr] header: ((\"x-kahua-worker\" \"spvr\"))\n";

static const char cause[] =
	"*** READ-ERROR: Read error at \"/srv/site/app/hello/hello.kahua\":line 10: EOF inside a list (starting from line 6)";

static void test_by_pid(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(kahua_log_cause_in(real_log, sizeof real_log - 1, 7023, "hello", 5, out, sizeof out), 0);
	assert_string_equal(out, cause);
}

/* :worker-pid #f: the supervisor's lines lead from the number to the pid. */
static void test_by_number(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(kahua_log_cause_in(real_log, sizeof real_log - 1, 0, "hello", 5, out, sizeof out), 0);
	assert_string_equal(out, cause);
	assert_int_equal(kahua_log_cause_in(real_log, sizeof real_log - 1, 0, "hello", 6, out, sizeof out), -1);
	assert_non_null(strstr(out, "no line about worker 6 (hello)"));
	/* The leaky worker loaded: nothing logged as its error. */
	assert_int_equal(kahua_log_cause_in(real_log, sizeof real_log - 1, 0, "leaky", 4, out, sizeof out), -1);
	assert_non_null(strstr(out, "no error logged by worker 4 (leaky"));
}

/* The latest of several failures of the same pid, and a cut output buffer. */
static void test_latest_and_cut(void **state)
{
	static const char twice[] =
		"x kahua-server.scm[42]: *** READ-ERROR: first\n"
		"x kahua-server.scm[42]: *** READ-ERROR: second\n"
		"x kahua-server.scm[421]: *** READ-ERROR: another pid\n";
	char out[512], small[12];

	(void)state;
	assert_int_equal(kahua_log_cause_in(twice, sizeof twice - 1, 42, "t", 1, out, sizeof out), 0);
	assert_string_equal(out, "*** READ-ERROR: second");
	assert_int_equal(kahua_log_cause_in(twice, sizeof twice - 1, 42, "t", 1, small, sizeof small), 0);
	assert_string_equal(small, "*** READ-ER");
	assert_int_equal(kahua_log_cause_in("", 0, 42, "t", 1, out, sizeof out), -1);
	/* A last line without its newline is read too. */
	assert_int_equal(kahua_log_cause_in(twice, sizeof twice - 2, 421, "t", 1, out, sizeof out), 0);
	assert_string_equal(out, "*** READ-ERROR: another pid");
}

/* Only the tail is read: an old error far back is not found, a fresh one is. */
static void test_reads_the_tail_only(void **state)
{
	char dir[] = "/tmp/kr-log-XXXXXX", logdir[64], path[96], out[512];
	struct kahua_site site = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(logdir, sizeof logdir, "%s", dir);
	snprintf(path, sizeof path, "%s/kahua-spvr.log", dir);
	site.logdir = logdir;
	assert_int_equal(kahua_log_cause(&site, 7023, "hello", 5, out, sizeof out), -1);
	assert_non_null(strstr(out, path));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("x kahua-server.scm[99]: *** READ-ERROR: long ago\n", f);
	for (int i = 0; i < 2 * KAHUA_LOG_TAIL / 64; i++)
		fputs("2026 Dec  1 05:27:56 kahua-spvr.scm[5558]: [spvr] header: (padding)\n", f);
	fputs(real_log, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(kahua_log_cause(&site, 0, "hello", 5, out, sizeof out), 0);
	assert_string_equal(out, cause);
	assert_int_equal(kahua_log_cause(&site, 99, "hello", 1, out, sizeof out), -1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Kahua before 2013: the error is on the supervisor's console, if anywhere. */
static void test_console(void **state)
{
	char dir[] = "/tmp/kr-log-XXXXXX", path[96], out[512], want[256];
	struct kahua_site site = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	site.logdir = dir;
	snprintf(path, sizeof path, "%s/%s", dir, KAHUA_CONSOLE_LOG);
	assert_int_equal(kahua_console_cause(&site, 0, out, sizeof out), -1);
	assert_non_null(strstr(out, "the supervisor's standard error"));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("*** READ-ERROR: an older one\nkahua-spvr: started\n", f);
	fputs("*** READ-ERROR: Read error at \"/srv/site/app/hello/hello.kahua\":line 10: EOF\n"
	      "Stack Trace:\n_______________________________________\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(kahua_console_cause(&site, 0, out, sizeof out), 0);
	snprintf(want, sizeof want, "%s: %s", path,
		 "*** READ-ERROR: Read error at \"/srv/site/app/hello/hello.kahua\":line 10: EOF");
	assert_string_equal(out, want);
	/* Not written since the worker started: not its error. */
	assert_int_equal(kahua_console_cause(&site, (long long)time(NULL) + 60, out, sizeof out), -1);
	assert_non_null(strstr(out, "the supervisor's standard error"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_pid),
		cmocka_unit_test(test_console),
		cmocka_unit_test(test_by_number),
		cmocka_unit_test(test_latest_and_cut),
		cmocka_unit_test(test_reads_the_tail_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
