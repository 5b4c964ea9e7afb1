#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "larger than 1 MiB" for the messages; the bound is always whole KiB or MiB. */
static const char *too_large(size_t max)
{
	static char why[64];

	if (max >= 1024 * 1024 && max % (1024 * 1024) == 0)
		snprintf(why, sizeof why, "larger than %zu MiB", max / (1024 * 1024));
	else
		snprintf(why, sizeof why, "larger than %zu KiB", max / 1024);
	return why;
}

static const char *check_size(int fd, size_t max, struct stat *st)
{
	if (fstat(fd, st) < 0)
		return strerror(errno);
	if (!S_ISREG(st->st_mode)) {
		errno = EINVAL;
		return "not a regular file";
	}
	if ((unsigned long long)st->st_size > max) {
		errno = EFBIG;
		return too_large(max);
	}
	return NULL;
}

/* Reads to end of file: a file that grew since fstat is cut at its size then. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t used = 0;

	while (used < size) {
		ssize_t got = read(fd, buf + used, size - used);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		used += (size_t)got;
	}
	return (ssize_t)used;
}

char *file_read_small(const char *path, size_t max, size_t *len, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *buf = NULL;
	ssize_t got = -1;
	int saved;

	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	*why = check_size(fd, max, &st);
	if (*why == NULL && (buf = malloc((size_t)st.st_size + 1)) == NULL)
		*why = "out of memory";
	if (buf != NULL && (got = read_all(fd, buf, (size_t)st.st_size)) < 0)
		*why = strerror(errno);
	saved = errno;
	close(fd);
	if (*why != NULL) {
		free(buf);
		errno = saved;
		return NULL;
	}
	buf[got] = '\0';
	*len = (size_t)got;
	return buf;
}
