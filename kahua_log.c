#define _GNU_SOURCE             /* memmem */
#include "kahua_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *kahua_log_path(const struct kahua_site *site)
{
	size_t n = strlen(site->logdir) + sizeof "/kahua-spvr.log";
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/kahua-spvr.log", site->logdir);
	return p;
}

/*
 * The last line before end that holds needle: its start, and its length
 * in *n; -1 when there is none.
 */
static long last_line_with(const char *buf, size_t end, const char *needle, size_t *n)
{
	size_t stop = end;

	while (stop > 0) {
		size_t start = stop;

		while (start > 0 && buf[start - 1] != '\n')
			start--;
		if (memmem(buf + start, stop - start, needle, strlen(needle)) != NULL) {
			*n = stop - start;
			return (long)start;
		}
		stop = start > 0 ? start - 1 : 0;
	}
	return -1;
}

/* The pid in "[spvr] running ...: pid N", the nearest such line before end. */
static pid_t spawned_pid(const char *buf, size_t end)
{
	size_t n;
	long at = last_line_with(buf, end, "[spvr] running ", &n);
	const char *p;
	long pid;

	if (at < 0)
		return 0;
	p = memmem(buf + at, n, ": pid ", 6);
	if (p == NULL)
		return 0;
	pid = strtol(p + 6, NULL, 10);
	return pid > 1 && pid <= 0x7fffffff ? (pid_t)pid : 0;
}

int kahua_log_cause_in(const char *tail, size_t len, pid_t pid, const char *type, long wno,
		       char *cause, size_t size)
{
	char needle[KAHUA_NAME_MAX + 48];
	const char *text;
	size_t n;
	long at;

	if (pid <= 0) {
		snprintf(needle, sizeof needle, "[worker] run: %s(%ld - ", type, wno);
		at = last_line_with(tail, len, needle, &n);
		if (at < 0) {
			snprintf(cause, size, "no line about worker %ld (%s) in the log's last %d KiB",
				 wno, type, KAHUA_LOG_TAIL / 1024);
			return -1;
		}
		pid = spawned_pid(tail, (size_t)at);
	}
	snprintf(needle, sizeof needle, "[%d]: *** ", (int)pid);
	at = pid > 0 ? last_line_with(tail, len, needle, &n) : -1;
	if (at < 0) {
		snprintf(cause, size, "no error logged by worker %ld (%s, pid %d) in the log's last %d KiB",
			 wno, type, (int)pid, KAHUA_LOG_TAIL / 1024);
		return -1;
	}
	text = memmem(tail + at, n, needle, strlen(needle)) + strlen(needle) - 4;
	snprintf(cause, size, "%.*s", (int)(n - (size_t)(text - (tail + at))), text);
	return 0;
}

/* The last KAHUA_LOG_TAIL bytes from the first whole line; NULL with errno. */
static char *read_tail(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	off_t from;
	int e;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		e = errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		goto fail;
	}
	buf = malloc(KAHUA_LOG_TAIL + 1);
	if (buf == NULL) {
		e = ENOMEM;
		goto fail;
	}
	from = st.st_size > KAHUA_LOG_TAIL ? st.st_size - KAHUA_LOG_TAIL : 0;
	while (got < KAHUA_LOG_TAIL) {
		ssize_t r = pread(fd, buf + got, KAHUA_LOG_TAIL - got, from + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	if (from > 0) {
		char *nl = memchr(buf, '\n', got);
		size_t skip = nl != NULL ? (size_t)(nl - buf) + 1 : got;

		memmove(buf, buf + skip, got - skip + 1);
		got -= skip;
	}
	*len = got;
	return buf;
fail:
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}

int kahua_log_cause(const struct kahua_site *site, pid_t pid, const char *type, long wno,
		    char *cause, size_t size)
{
	char *path = kahua_log_path(site), *tail;
	size_t len = 0;
	int rc;

	if (path == NULL) {
		snprintf(cause, size, "out of memory");
		return -1;
	}
	tail = read_tail(path, &len);
	if (tail == NULL) {
		snprintf(cause, size, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	rc = kahua_log_cause_in(tail, len, pid, type, wno, cause, size);
	free(tail);
	free(path);
	return rc;
}

int kahua_console_cause(const struct kahua_site *site, long long since, char *cause, size_t size)
{
	static const char elsewhere[] =
		"Kahua before 2013 writes a worker's load error to the supervisor's standard error (the console it was started from)";
	size_t n = strlen(site->logdir) + sizeof "/" KAHUA_CONSOLE_LOG, len = 0, k;
	char *path = malloc(n), *tail = NULL;
	struct stat st;
	long at = -1;

	if (path == NULL) {
		snprintf(cause, size, "out of memory");
		return -1;
	}
	snprintf(path, n, "%s/%s", site->logdir, KAHUA_CONSOLE_LOG);
	if (stat(path, &st) == 0 && (long long)st.st_mtime >= since &&
	    (tail = read_tail(path, &len)) != NULL)
		at = last_line_with(tail, len, "*** ", &k);
	if (at >= 0) {
		const char *text = memmem(tail + at, k, "*** ", 4);

		snprintf(cause, size, "%s: %.*s", path, (int)(k - (size_t)(text - (tail + at))), text);
	} else {
		snprintf(cause, size, "%s", elsewhere);
	}
	free(tail);
	free(path);
	return at >= 0 ? 0 : -1;
}
