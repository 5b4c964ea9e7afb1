/*
 * util.c: memory, time, randomness, fd and file helpers, and the
 * supervisor log (<log-directory>/kahua-spvr.log).
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;

void warnx2(const char *what, const char *why)
{
	fprintf(stderr, "kahua-sim: %s: %s\n", what, why);
	fflush(stderr);
}

_Noreturn void die(const char *what, const char *why)
{
	warnx2(what, why);
	exit(1);
}

_Noreturn void die_errno(const char *what)
{
	die(what, strerror(errno));
}

_Noreturn void oom(void)
{
	/* Nothing sensible can go on without memory. */
	warnx2("out of memory", strerror(ENOMEM));
	abort();
}

int xbuf_printf_check(int rc)
{
	if (rc != 0)
		oom();
	return rc;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	char probe[1];
	int n;
	char *p;

	if (fmt == NULL)        /* (UBSan builds warn of a NULL path otherwise) */
		abort();
	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(probe, sizeof probe, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void rand_bytes(void *p, size_t n)
{
	unsigned char *b = p;

	while (n > 0) {
		ssize_t r = getrandom(b, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* Fall back to a weak but unique-enough source. */
			unsigned long long x = (unsigned long long)mono_ms() ^
				((unsigned long long)getpid() << 20) ^ (uintptr_t)b;
			for (size_t i = 0; i < n; i++) {
				x = x * 6364136223846793005ULL + 1442695040888963407ULL;
				b[i] = (unsigned char)(x >> 56);
			}
			return;
		}
		b += r;
		n -= (size_t)r;
	}
}

unsigned long long rand_u64(void)
{
	unsigned long long v;

	rand_bytes(&v, sizeof v);
	return v;
}

void base36(unsigned long long v, char *out, size_t size)
{
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
		v /= 36;
	} while (v > 0 && n < sizeof tmp);
	if (size == 0)
		return;
	if (n > size - 1)
		n = size - 1;   /* callers size for 13 digits: never happens */
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Sockets get MSG_NOSIGNAL: a peer that hung up is an error, not a SIGPIPE. */
static int put_all(int fd, const void *p, size_t n, bool sock)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = sock ? send(fd, c, n, MSG_NOSIGNAL) : write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int send_all(int fd, const void *p, size_t n)
{
	return put_all(fd, p, n, true);
}

int write_all(int fd, const void *p, size_t n)
{
	return put_all(fd, p, n, false);
}

/*
 * Closing a socket with unread input resets the peer, which may lose the
 * reply we just wrote: half-close, swallow what is already queued (and
 * what arrives within a moment), then close.
 */
void drain_and_close(int fd)
{
	char buf[4096];
	long long end = mono_ms() + 200;

	if (shutdown(fd, SHUT_WR) == 0) {
		for (;;) {
			struct pollfd p = { fd, POLLIN, 0 };
			long long left = end - mono_ms();
			ssize_t r;

			if (left <= 0 || poll(&p, 1, (int)left) <= 0)
				break;
			r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
			if (r <= 0 && !(r < 0 && errno == EINTR))
				break;
		}
	}
	close(fd);
}

void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", O_RDWR);

		if (n < 0)
			die_errno("/dev/null");
		if (n != fd)
			die("/dev/null", "standard descriptors out of order");
	}
}

int mkdir_p(const char *path, mode_t last_mode)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *q = p + 1; *q != '\0'; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*q = '/';
	}
	if (rc == 0 && mkdir(p, last_mode) != 0 && errno != EEXIST)
		rc = -1;
	if (rc == 0) {
		struct stat st;

		if (stat(p, &st) != 0)
			rc = -1;
		else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = -1;
		}
	}
	int e = errno;

	free(p);
	errno = e;
	return rc;
}

char *read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || n + (size_t)r > max) {
			int e = r < 0 ? errno : EFBIG;

			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

_Noreturn void hang_forever(void)
{
	/* Signals are blocked in every thread but the signal thread, so
	 * pause() never returns here: this blocks, it does not spin. */
	for (;;)
		pause();
}

static const char *log_name = "kahua-spvr.scm";

void log_open(const char *path, const char *program)
{
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		die_errno(path);
	log_name = program;
}

/* Kahua's prefix (Gauche's log-open with "~Y ~T ~P[~$]: "), one per line. */
void log_msg(const char *fmt, ...)
{
	char line[1024];
	time_t t = time(NULL);
	struct tm tm;
	size_t n;
	va_list ap;

	if (log_fd < 0)
		return;
	localtime_r(&t, &tm);
	n = strftime(line, sizeof line, "%Y %b %e %H:%M:%S ", &tm);
	n += (size_t)snprintf(line + n, sizeof line - n, "%s[%ld]: ", log_name, (long)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	/* One write with O_APPEND: lines from threads do not interleave. */
	if (write_all(log_fd, line, n) != 0)
		return;         /* a full disk must not stop the simulator */
}

bool kahua_1_0(void)
{
	const char *v = getenv(SIM_VERSION_ENV);

	return v != NULL && strcmp(v, "1.0") == 0;
}
