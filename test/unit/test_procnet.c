/*
 * test_procnet.c: /proc/net/unix counting on recorded-style lines, on a
 * huge synthetic file, and on this process's own real sockets.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "procnet.h"

#define WID_PATH "/home/kahua/site/socket/czd:yih"
#define HEADER "Num       RefCount Protocol Flags    Type St Inode Path\n"
#define HUGE_LINES 200000

static char tmpdir[64];
static char file[128];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kr-procnet-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(file, sizeof file, "%s/unix", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	rmdir(tmpdir);
	return 0;
}

static long long later(void)
{
	return kr_now_ms() + 60 * 1000;
}

static FILE *create(void)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	return f;
}

static void line(FILE *f, const char *flags, const char *type, const char *st,
		 unsigned long inode, const char *path)
{
	fprintf(f, "0000000000000000: 00000002 00000000 %s %s %s %5lu%s%s\n", flags, type,
		st, inode, path ? " " : "", path ? path : "");
}

/* The sample recorded from a real Kahua with 40 page views in flight. */
static void recorded_sample(FILE *f)
{
	for (int i = 0; i < 9; i++)
		line(f, "00000000", "0001", "02", 0, WID_PATH);
	line(f, "00000000", "0001", "03", 224212, WID_PATH);
	line(f, "00010000", "0001", "01", 223048, WID_PATH);
}

/* Lines that must not count for WID_PATH. */
static void decoys(FILE *f)
{
	line(f, "00000000", "0001", "03", 5001, WID_PATH "x");
	line(f, "00000000", "0001", "03", 5002, "/home/kahua/site/socket/czd");
	line(f, "00000000", "0001", "03", 5003, "@" WID_PATH);
	line(f, "00000000", "0002", "03", 5004, WID_PATH);     /* datagram */
	line(f, "00000000", "0001", "03", 5005, NULL);         /* a client end */
	line(f, "00000000", "0001", "03", 5006, WID_PATH " (deleted)");
	fputs("garbage line without fields\n", f);
}

static void test_recorded_sample(void **state)
{
	struct unix_use u[2] = { { .path = WID_PATH }, { .path = "/home/kahua/site/socket/kahua" } };
	struct kr_err err = { 0 };
	FILE *f = create();

	(void)state;
	fputs(HEADER, f);
	decoys(f);
	recorded_sample(f);
	line(f, "00010000", "0001", "01", 3000, "/home/kahua/site/socket/kahua");
	line(f, "00000000", "0001", "03", 3001, "/home/kahua/site/socket/kahua");
	fclose(f);
	assert_int_equal(procnet_unix_count(file, u, 2, later(), &err), 0);
	assert_int_equal(u[0].listening, 1);
	assert_int_equal(u[0].served, 1);
	assert_int_equal(u[0].queued, 9);
	assert_int_equal(u[1].listening, 1);
	assert_int_equal(u[1].served, 1);
	assert_int_equal(u[1].queued, 0);
}

/* Counts are reset on every call, not added to. */
static void test_counts_reset(void **state)
{
	struct unix_use u = { .path = WID_PATH, .listening = 7, .served = 7, .queued = 7 };
	struct kr_err err = { 0 };
	FILE *f = create();

	(void)state;
	fputs(HEADER, f);
	line(f, "00010000", "0001", "01", 223048, WID_PATH);
	fclose(f);
	assert_int_equal(procnet_unix_count(file, &u, 1, later(), &err), 0);
	assert_int_equal(u.listening, 1);
	assert_int_equal(u.served, 0);
	assert_int_equal(u.queued, 0);
}

/*
 * Hundreds of thousands of lines (tens of MB), one longer than the read
 * buffer, and a last line without its newline: every match is found.
 */
static void test_huge_file(void **state)
{
	struct unix_use u = { .path = WID_PATH };
	struct kr_err err = { 0 };
	FILE *f = create();
	char path[96];

	(void)state;
	fputs(HEADER, f);
	for (long i = 0; i < HUGE_LINES; i++) {
		snprintf(path, sizeof path, "/run/some/other/socket-%ld", i);
		line(f, "00000000", "0001", i % 2 ? "03" : "02", (unsigned long)i, path);
		if (i == HUGE_LINES / 2) {
			recorded_sample(f);
			fputs("0000000000000000: ", f);
			for (int k = 0; k < 100000; k++)
				fputc('x', f);
			fprintf(f, " " WID_PATH "\n");
		}
	}
	fprintf(f, "0000000000000000: 00000002 00000000 00000000 0001 03 99 %s", WID_PATH);
	fclose(f);
	assert_int_equal(procnet_unix_count(file, &u, 1, later(), &err), 0);
	assert_int_equal(u.listening, 1);
	assert_int_equal(u.served, 2);
	assert_int_equal(u.queued, 9);
}

static void test_deadline_and_missing_file(void **state)
{
	struct unix_use u = { .path = WID_PATH };
	struct kr_err err = { 0 };
	FILE *f = create();

	(void)state;
	fputs(HEADER, f);
	recorded_sample(f);
	fclose(f);
	assert_int_equal(procnet_unix_count(file, &u, 1, kr_now_ms() - 1, &err), -1);
	assert_int_equal(err.status, KR_UNAVAILABLE);
	assert_int_equal(err.cause, KR_CAUSE_TIMEOUT);
	assert_non_null(strstr(err.msg, file));
	kr_err_clear(&err);
	assert_int_equal(procnet_unix_count("/nonexistent/unix", &u, 1, later(), &err), -1);
	assert_int_equal(err.status, KR_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "/nonexistent/unix"));
}

/* Without the binder's descriptors: the one /proc/self/fd/N/name listener. */
static void test_bound_path_from_file(void **state)
{
	struct kr_err err = { 0 };
	char out[128];
	FILE *f = create();

	(void)state;
	fputs(HEADER, f);
	line(f, "00000000", "0001", "03", 11, "/proc/self/fd/7/abc:def");
	line(f, "00010000", "0001", "01", 12, "/proc/self/fd/7/xabc:def");
	line(f, "00010000", "0001", "01", 13, "/proc/self/fd/7/abc:def");
	fclose(f);
	assert_int_equal(procnet_unix_bound_path(file, "abc:def", 0, out, sizeof out, later(), &err), 0);
	assert_string_equal(out, "/proc/self/fd/7/abc:def");

	f = fopen(file, "a");
	assert_non_null(f);
	line(f, "00010000", "0001", "01", 14, "/proc/self/fd/9/abc:def");
	fclose(f);
	assert_int_equal(procnet_unix_bound_path(file, "abc:def", 0, out, sizeof out, later(), &err), -1);
	assert_non_null(strstr(err.msg, "more than one"));
	assert_int_equal(procnet_unix_bound_path(file, "nosuch", 0, out, sizeof out, later(), &err), -1);
	assert_non_null(strstr(err.msg, "no listening socket"));
}

static int connect_to(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)sa, sizeof *sa), 0);
	return fd;
}

/*
 * The kernel's own lines: a listener bound through /proc/self/fd (its
 * full path is too long for sun_path), two connections queued, then one
 * accepted.
 */
static void test_real_sockets(void **state)
{
	char deep[256], bound[128], out[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct unix_use u = { .path = bound };
	struct kr_err err = { 0 };
	int dfd, lfd, c1, c2, a;

	(void)state;
	snprintf(deep, sizeof deep, "%s/%s", tmpdir,
		 "a-directory-name-long-enough-that-the-socket-path-cannot-fit-in-sun_path-at-all");
	assert_int_equal(mkdir(deep, 0700), 0);
	assert_true(strlen(deep) + 10 >= sizeof sa.sun_path);
	dfd = open(deep, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	snprintf(bound, sizeof bound, "/proc/self/fd/%d/w1:abc", dfd);
	assert_true(strlen(bound) < sizeof sa.sun_path);
	memcpy(sa.sun_path, bound, strlen(bound) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(lfd, 16), 0);

	assert_int_equal(procnet_unix_bound_path(PROCNET_UNIX, "w1:abc", getpid(), out, sizeof out,
						 later(), &err), 0);
	assert_string_equal(out, bound);
	assert_int_equal(procnet_unix_count(PROCNET_UNIX, &u, 1, later(), &err), 0);
	assert_int_equal(u.listening, 1);
	assert_int_equal(u.served + u.queued, 0);

	c1 = connect_to(&sa);
	c2 = connect_to(&sa);
	assert_int_equal(procnet_unix_count(PROCNET_UNIX, &u, 1, later(), &err), 0);
	assert_int_equal(u.queued, 2);
	assert_int_equal(u.served, 0);
	a = accept(lfd, NULL, NULL);
	assert_true(a >= 0);
	assert_int_equal(procnet_unix_count(PROCNET_UNIX, &u, 1, later(), &err), 0);
	assert_int_equal(u.queued, 1);
	assert_int_equal(u.served, 1);
	/* Another site bound the same way reads alike: its owner tells them apart. */
	u.owner = getpid();
	assert_int_equal(procnet_unix_count(PROCNET_UNIX, &u, 1, later(), &err), 0);
	assert_int_equal(u.served, 1);
	u.owner = getppid();
	assert_int_equal(procnet_unix_count(PROCNET_UNIX, &u, 1, later(), &err), 0);
	assert_int_equal(u.served, 0);
	assert_int_equal(u.queued, 1);
	u.owner = 0;
	close(a);
	close(c1);
	close(c2);
	close(lfd);
	assert_int_equal(procnet_unix_count(PROCNET_UNIX, &u, 1, later(), &err), 0);
	assert_int_equal(u.listening + u.served + u.queued, 0);
	unlinkat(dfd, "w1:abc", 0);
	close(dfd);
	rmdir(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recorded_sample, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_and_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_path_from_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_sockets, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
