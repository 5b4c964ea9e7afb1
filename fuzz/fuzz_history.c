/*
 * fuzz_history: the input as a history file, summarised as text and as
 * JSON, and drawn as the SVG chart, which must come out as valid UTF-8
 * with no character XML forbids and every tag closed.  history_summary reads a path, so each input is written to one
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

#include "chart.h"
#include "history.h"

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

/* Bytes XML 1.0 cannot carry, whatever the history held. */
static void check_text(const unsigned char *p, size_t n)
{
	size_t open = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 :
			     c >= 0xF0 && c <= 0xF4 ? 4 : 0;

		if (len == 0 || i + len > n || (c < 0x20 && c != '\n'))
			abort();
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				abort();
		if (c == 0xEF && p[i + 1] == 0xBF && p[i + 2] >= 0xBE)
			abort();        /* U+FFFE, U+FFFF */
		if (c == 0xED && p[i + 1] >= 0xA0)
			abort();        /* surrogates */
		open += c == '<';
		if (c == '>' && open-- == 0)
			abort();        /* a > outside a tag: text was not escaped */
		i += len - 1;
	}
	if (open != 0)
		abort();
}

static void chart(time_t since)
{
	struct kr_err err = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem == NULL)
		die("fuzz_history: open_memstream");
	if (chart_write(path, since, mem, &err) < 0)
		abort();
	if (fclose(mem) != 0)
		die("fuzz_history: fclose");
	check_text((const unsigned char *)text, len);
	if (len < 7 || strcmp(text + len - 7, "</svg>\n") != 0)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	put_file(data, size);
	summary(0, false);
	/* Between the first two runs of the seeds: --since drops the first. */
	summary(1764190000, true);
	chart(0);
	return 0;
}
