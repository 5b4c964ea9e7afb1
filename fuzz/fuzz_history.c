/*
 * fuzz_history: the input as a history file, summarised as text and as
 * JSON.  history_summary reads a path, so each input is written to one
 * temporary file made at start-up.  The file is unlinked at once and read
 * through /proc/self/fd, so a crash or an interrupted run leaves nothing
 * in /tmp (libFuzzer ends those with _Exit, past any atexit handler).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

static char path[64];
static int fd = -1;
static FILE *devnull;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char name[] = "/tmp/kr-fuzz-history-XXXXXX";

	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		die("fuzz_history: /dev/null");
	fd = mkstemp(name);
	if (fd < 0)
		die("fuzz_history: mkstemp");
	if (unlink(name) < 0)
		die("fuzz_history: unlink");
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return 0;
}

static void put_file(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(fd, 0) < 0)
		die("fuzz_history: ftruncate");
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);

		if (n <= 0)
			die("fuzz_history: pwrite");
		done += (size_t)n;
	}
}

static void summary(time_t since, bool json)
{
	struct kr_err err = { 0 };

	if (history_summary(path, since, json, devnull, &err) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	put_file(data, size);
	summary(0, false);
	/* Between the first two runs of the seeds: --since drops the first. */
	summary(1764190000, true);
	return 0;
}
