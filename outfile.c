/*
 * outfile.c: write to a temporary file, sync, rename.
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fchmod because open's mode is cut by the umask (027 is common under cron). */
static int fill_tmp(int fd, const char *text, size_t len)
{
	if (fchmod(fd, 0644) < 0 || write_all(fd, text, len) < 0 || fsync(fd) < 0)
		return -1;
	return 0;
}

static int install(const char *path, const char *tmp, const char *what, const char *text,
		   size_t len, struct kr_err *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	const char *step = "write";
	int e;

	if (fd < 0)
		return kr_fail(err, KR_CANTCREAT, "%s %s: cannot create %s: %s", what, path, tmp,
			       strerror(errno));
	if (fill_tmp(fd, text, len) < 0) {
		e = errno;
		close(fd);
	} else if (close(fd) < 0) {
		e = errno;
	} else if (rename(tmp, path) < 0) {
		e = errno;
		step = "rename";
	} else {
		return 0;
	}
	unlink(tmp);
	return kr_fail(err, KR_CANTCREAT, "%s %s: %s %s: %s", what, path, step, tmp, strerror(e));
}

int outfile_replace(const char *path, const char *what, const char *text, size_t len,
		    struct kr_err *err)
{
	size_t tmp_size = strlen(path) + sizeof ".tmp";
	char *tmp = malloc(tmp_size);
	int rc;

	if (tmp == NULL)
		return kr_fail(err, KR_SOFTWARE, "%s %s: out of memory", what, path);
	snprintf(tmp, tmp_size, "%s.tmp", path);
	rc = install(path, tmp, what, text, len, err);
	free(tmp);
	return rc;
}
