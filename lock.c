#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "clock.h"

/* The holder's pid, written after locking, makes "busy" actionable. */
static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static void record_holder(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());

	/* Only a hint for the message of a second run: failures do not matter. */
	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) < 0)
		return;
}

int site_lock(const char *rundir, double wait_secs, const volatile sig_atomic_t *stop,
	      struct kr_err *err)
{
	char path[4096];
	long long give_up = kr_now_ms() + kr_ms(wait_secs);
	int fd;

	snprintf(path, sizeof path, "%s/kahua-restarter.lock", rundir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return kr_fail(err, KR_CANTCREAT, "lock %s: %s", path, strerror(errno));
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			record_holder(fd);
			return fd;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			kr_fail(err, KR_CANTCREAT, "lock %s: %s", path, strerror(errno));
			break;
		}
		if (kr_now_ms() >= give_up || *stop) {
			long holder = lock_holder(fd);

			if (holder > 0)
				kr_fail(err, KR_TEMPFAIL, "%s: another run (pid %ld) holds the lock%s",
					path, holder, wait_secs > 0 ? " past --wait-lock" : "");
			else
				kr_fail(err, KR_TEMPFAIL, "%s: another run holds the lock", path);
			break;
		}
		kr_sleep_until(kr_now_ms() + 100, stop);
	}
	close(fd);
	return -1;
}
