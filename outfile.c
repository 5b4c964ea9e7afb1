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
static int fill_tmp(int fd, const char *text, size_t len, mode_t mode)
{
	if (fchmod(fd, mode) < 0 || write_all(fd, text, len) < 0 || fsync(fd) < 0)
		return -1;
	return 0;
}

/* The rename made durable; a directory that cannot be synced is no reason to fail. */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	free(dir);
	if (fd < 0)
		return;
	if (fsync(fd) < 0) {
		/* nothing to do: the file itself is synced */
	}
	close(fd);
}

static int install(const char *path, const char *tmp, const char *what, const char *text,
		   size_t len, mode_t mode, struct kr_err *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	const char *step = "write";
	int e;

	if (fd < 0)
		return kr_fail(err, KR_CANTCREAT, "%s %s: cannot create %s: %s", what, path, tmp,
			       strerror(errno));
	if (fill_tmp(fd, text, len, mode) < 0) {
		e = errno;
		close(fd);
	} else if (close(fd) < 0) {
		e = errno;
	} else if (rename(tmp, path) < 0) {
		e = errno;
		step = "rename";
	} else {
		sync_dir(path);
		return 0;
	}
	unlink(tmp);
	return kr_fail(err, KR_CANTCREAT, "%s %s: %s %s: %s", what, path, step, tmp, strerror(e));
}

int outfile_replace(const char *path, const char *what, const char *text, size_t len,
		    struct kr_err *err)
{
	return outfile_replace_mode(path, what, text, len, 0644, err);
}

int outfile_replace_mode(const char *path, const char *what, const char *text, size_t len,
			 mode_t mode, struct kr_err *err)
{
	size_t tmp_size = strlen(path) + sizeof ".tmp";
	char *tmp = malloc(tmp_size);
	int rc;

	if (tmp == NULL)
		return kr_fail(err, KR_SOFTWARE, "%s %s: out of memory", what, path);
	snprintf(tmp, tmp_size, "%s.tmp", path);
	rc = install(path, tmp, what, text, len, mode, err);
	free(tmp);
	return rc;
}
