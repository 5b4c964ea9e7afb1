/*
 * test_psi.c: PSI parsing from files recorded on real kernels (test/psi),
 * the cgroup2 mount from mountinfo, and this machine's own pressure file.
 * Tests run from the top of the tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "psi.h"

#define FIXTURES "test/psi/"

static void read_ok(const char *name, struct psi *p)
{
	struct kr_err err = { 0 };

	assert_int_equal(psi_read(name, p, &err), 0);
	assert_int_equal(err.status, KR_OK);
}

static void test_host_file_recorded(void **state)
{
	struct psi p;

	(void)state;
	read_ok(FIXTURES "host-linux-6.18-idle", &p);
	assert_true(p.some.have && p.full.have);
	assert_true(p.some.avg10 == 0 && p.some.avg60 == 0 && p.some.avg300 == 0);
	assert_true(psi_some(&p, 60) == 0);
}

static void test_cgroup_file_recorded(void **state)
{
	struct psi p;

	(void)state;
	read_ok(FIXTURES "cgroup-linux-6.18-root", &p);
	assert_true(p.some.have && p.full.have);
	assert_true(p.full.total >= 0);
}

/* /proc/pressure/cpu before 5.13 had no "full" line: "some" alone is enough. */
static void test_some_line_alone(void **state)
{
	struct psi p;

	(void)state;
	read_ok(FIXTURES "some-only-linux-5.4-cpu", &p);
	assert_true(p.some.have);
	assert_false(p.full.have);
	assert_true(p.some.avg10 == 2.93 && p.some.avg60 == 3.17 && p.some.avg300 == 3.15);
	assert_true(p.some.total == 94628150260LL);
	assert_true(psi_some(&p, 10) == 2.93 && psi_some(&p, 60) == 3.17 && psi_some(&p, 300) == 3.15);
}

static void test_parse_text(void **state)
{
	struct psi p;

	(void)state;
	assert_true(psi_parse("some avg10=82.71 avg60=58.68 avg300=20.55 total=123\n"
			      "full avg10=51.17 avg60=34.93 avg300=12.29 total=45\n", &p));
	assert_true(p.some.avg10 == 82.71 && p.full.avg300 == 12.29 && p.full.total == 45);
	/* The full line first, no final newline: still both. */
	assert_true(psi_parse("full avg10=1.00 avg60=2.00 avg300=3.00 total=4\n"
			      "some avg10=5.00 avg60=6.00 avg300=7.00 total=8", &p));
	assert_true(p.some.avg300 == 7 && p.full.avg10 == 1);
	/* Not PSI: no some line, a torn line, a figure out of range, trailing words. */
	assert_false(psi_parse("", &p));
	assert_false(psi_parse("full avg10=1.00 avg60=2.00 avg300=3.00 total=4\n", &p));
	assert_false(psi_parse("some avg10=1.00 avg60=2.00\n", &p));
	assert_false(psi_parse("some avg10=101.00 avg60=2.00 avg300=3.00 total=4\n", &p));
	assert_false(psi_parse("some avg10=-1.00 avg60=2.00 avg300=3.00 total=4\n", &p));
	assert_false(psi_parse("some avg10=1.00 avg60=2.00 avg300=3.00 total=4 extra\n", &p));
	assert_false(psi_parse("MemTotal: 1000 kB\n", &p));
	assert_true(psi_some(&p, 60) < 0);
}

/* A kernel without PSI has no /proc/pressure; a group that does not exist, no file. */
static void test_missing_file(void **state)
{
	struct kr_err err = { 0 };
	struct psi p;

	(void)state;
	assert_int_equal(psi_read("/proc/pressure/no-such-resource", &p, &err), -1);
	assert_int_equal(err.status, KR_CONFIG);
	assert_string_equal(err.msg, "/proc/pressure/no-such-resource: No such file or directory "
			    "(a kernel without pressure stall information: CONFIG_PSI, boot with psi=1)");
	assert_int_equal(psi_read(FIXTURES "no-such-group/memory.pressure", &p, &err), -1);
	assert_int_equal(err.status, KR_CONFIG);
	assert_non_null(strstr(err.msg, "no such cgroup v2 group"));
	/* A file that is not PSI. */
	assert_int_equal(psi_read(FIXTURES "README", &p, &err), -1);
	assert_int_equal(err.status, KR_DATAERR);
	assert_false(p.some.have);
}

static void test_cgroup2_mount(void **state)
{
	FILE *f = fopen(FIXTURES "mountinfo-hybrid", "r");
	char line[512], mount[256];
	int found = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (psi_cgroup2_mount(line, mount, sizeof mount)) {
			found++;
			assert_string_equal(mount, "/sys/fs/cgroup/unified");
		}
	fclose(f);
	assert_int_equal(found, 1);
	assert_true(psi_cgroup2_mount("30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime "
				      "shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
				      mount, sizeof mount));
	assert_string_equal(mount, "/sys/fs/cgroup");
	/* Octal escapes in the mount point; too small a buffer; another type. */
	assert_true(psi_cgroup2_mount("9 1 0:5 / /mnt/my\\040cg rw - cgroup2 none rw\n", mount,
				      sizeof mount));
	assert_string_equal(mount, "/mnt/my cg");
	assert_false(psi_cgroup2_mount("9 1 0:5 / /mnt/my\\040cg rw - cgroup2 none rw\n", mount, 4));
	assert_false(psi_cgroup2_mount("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
				       mount, sizeof mount));
	assert_false(psi_cgroup2_mount("garbage - cgroup2 x\n", mount, sizeof mount));
}

static void test_cgroup_path(void **state)
{
	struct kr_err err = { 0 };
	char path[512];

	(void)state;
	assert_int_equal(psi_cgroup_path("a/../../etc", path, sizeof path, &err), -1);
	assert_int_equal(err.status, KR_USAGE);
	assert_int_equal(psi_cgroup_path("..", path, sizeof path, &err), -1);
	if (access("/proc/self/mountinfo", R_OK) != 0)
		skip();
	if (psi_cgroup_path("/system.slice/sumibi.service", path, sizeof path, &err) < 0) {
		/* Only a host without cgroup2 may refuse, and then as a config error. */
		assert_int_equal(err.status, KR_CONFIG);
		return;
	}
	assert_true(strlen(path) > strlen("/system.slice/sumibi.service/memory.pressure"));
	assert_non_null(strstr(path, "/system.slice/sumibi.service/memory.pressure"));
	assert_null(strstr(path, "//"));
	assert_int_equal(psi_cgroup_path("x", path, 8, &err), -1);
	assert_int_equal(err.status, KR_USAGE);
}

/* This machine's own file: present on the test hosts (Linux 6.x). */
static void test_real_host_file(void **state)
{
	struct kr_err err = { 0 };
	struct psi p;

	(void)state;
	if (access(PSI_HOST_FILE, F_OK) != 0) {
		fprintf(stderr, "skipped: %s: %s\n", PSI_HOST_FILE, strerror(errno));
		skip();
	}
	assert_int_equal(psi_read(PSI_HOST_FILE, &p, &err), 0);
	assert_true(p.some.have && p.full.have);
	assert_true(p.some.avg10 >= 0 && p.some.avg10 <= 100);
	assert_true(p.full.avg60 <= p.some.avg60 + 0.01);
	assert_true(p.full.total <= p.some.total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_file_recorded),
		cmocka_unit_test(test_cgroup_file_recorded),
		cmocka_unit_test(test_some_line_alone),
		cmocka_unit_test(test_parse_text),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_cgroup2_mount),
		cmocka_unit_test(test_cgroup_path),
		cmocka_unit_test(test_real_host_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
