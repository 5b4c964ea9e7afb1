/*
 * history_store.c: appending to the history file under its lock, and
 * handing it to compaction when a line would take it past its limit.
 */
#include "history_store.h"
#include "clock.h"
#include "history_compact.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define LOCK_WAIT_MS 5000       /* a writer holds it for milliseconds; this is a stuck one */
#define LOCK_POLL_NS 10000000L
#define REOPENS 8               /* a compaction renamed the file under us: open it again */

/*
 * The line after a newline when the file ends in a torn line, in one
 * writev(2): under O_APPEND it lands whole.  *written is what writev
 * returned; errno is kept on failure.
 */
static int write_line(int fd, bool mend, const char *line, size_t len, ssize_t *written)
{
	struct iovec iov[2] = { { "\n", 1 }, { (void *)line, len } };
	ssize_t n;
	int e;

	/* EINTR means nothing was written, so trying again cannot tear the line. */
	do
		n = writev(fd, iov + !mend, 2 - !mend);
	while (n < 0 && errno == EINTR);
	*written = n;
	if (n >= 0 && (size_t)n == len + mend)
		return 0;
	e = errno;
	/* End a fragment so the next run's line is not glued onto it. */
	if (n > 0 && write(fd, "\n", 1) < 0) {
		/* nothing more to do: the reader skips the torn line either way */
	}
	errno = e;
	return -1;
}

/* Waits for the file's lock; false when another writer kept it too long. */
static bool lock_file(int fd)
{
	long long until = kr_now_ms() + LOCK_WAIT_MS;
	const struct timespec poll = { 0, LOCK_POLL_NS };

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return false;
		if (kr_now_ms() >= until)
			return false;
		nanosleep(&poll, NULL);
	}
}

/* fd is still the file at path, not one a compaction renamed away. */
static bool still_there(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/*
 * The file opened and locked (*locked false when another writer held the
 * lock too long: the line is appended all the same, nothing is thinned).
 */
static int open_locked(const char *path, bool *locked, struct kr_err *err)
{
	for (int tries = 0; tries < REOPENS; tries++) {
		int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

		if (fd < 0)
			return kr_fail(err, KR_CANTCREAT, "history %s: %s", path, strerror(errno));
		*locked = lock_file(fd);
		if (!*locked) {
			log_info("history %s: another writer holds its lock: appending without it", path);
			return fd;
		}
		if (still_there(fd, path))
			return fd;
		close(fd);
	}
	return kr_fail(err, KR_CANTCREAT, "history %s: replaced again and again while opening it", path);
}

/* The file ends in a line torn by a crash (no final newline). */
static bool torn_tail(int fd, off_t size)
{
	char last;

	return size > 0 && pread(fd, &last, 1, size - 1) == 1 && last != '\n';
}

static int append(int fd, const char *path, bool mend, const char *line, size_t len,
		  struct kr_err *err)
{
	ssize_t n;

	if (mend)
		log_info("history %s: last line incomplete (a run stopped while writing it): ended",
			 path);
	if (write_line(fd, mend, line, len, &n) == 0)
		return 0;
	if (n >= 0)
		return kr_fail(err, KR_CANTCREAT, "history %s: short write (%zd of %zu bytes)",
			       path, n, len + mend);
	return kr_fail(err, KR_CANTCREAT, "history %s: %s", path, strerror(errno));
}

static int store(int fd, const char *path, bool locked, const char *line, size_t len,
		 long long max_size, struct kr_err *err)
{
	struct stat st;
	bool mend;
	struct kr_err cerr;

	if (fstat(fd, &st) < 0)
		return kr_fail(err, KR_CANTCREAT, "history %s: %s", path, strerror(errno));
	mend = torn_tail(fd, st.st_size);
	if (!locked || max_size <= 0 || (long long)st.st_size + (long long)(len + mend) <= max_size)
		return append(fd, path, mend, line, len, err);
	/* A quarter of the limit left free, so thinning is rare, not every run. */
	if (history_compact(fd, path, line, len, (size_t)(max_size - max_size / 4), &cerr) == 0)
		return 0;
	/* The line is kept all the same; the caller says the file could not be thinned. */
	if (append(fd, path, mend, line, len, err) < 0)
		return -1;
	*err = cerr;
	return -1;
}

int history_store(const char *path, const char *line, size_t len, long long max_size,
		  struct kr_err *err)
{
	bool locked;
	int fd = open_locked(path, &locked, err), rc;

	if (fd < 0)
		return -1;
	rc = store(fd, path, locked, line, len, max_size, err);
	/* Closing drops the lock, after a compaction's rename. */
	if (close(fd) < 0 && rc == 0)
		rc = kr_fail(err, KR_CANTCREAT, "history %s: %s", path, strerror(errno));
	return rc;
}
