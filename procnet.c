/*
 * procnet.c: reading /proc/net/unix in one bounded pass.
 *
 * Line format (net/unix/af_unix.c, unix_seq_show):
 *   "%pK: %08X %08X %08X %04X %02X %5lu" then " PATH" for a bound socket
 *   Num: RefCount Protocol Flags Type St Inode Path
 * Flags 00010000 marks a listener; St 01 unconnected, 02 connecting (an
 * embryo in a listener's backlog: no inode yet), 03 connected.
 */
#include "procnet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

#define READ_BUF 32768
#define SO_ACCEPTCON_FLAG 0x10000UL
#define TYPE_STREAM 1UL
#define STATE_CONNECTING 2UL
#define STATE_CONNECTED 3UL
#define LONG_PREFIX "/proc/self/fd/"
#define MAX_FD_INODES 1024

struct unix_line {
	unsigned long flags, type, state, inode;
	const char *path;       /* NULL: unbound */
	size_t pathlen;
};

typedef void line_fn(void *ctx, const struct unix_line *l);

/* Next space-separated hex or decimal field; false if there is none. */
static bool field(const char **p, const char *end, int base, unsigned long *v)
{
	const char *s = *p;
	char *stop;
	char tmp[24];
	size_t n;

	while (s < end && *s == ' ')
		s++;
	for (n = 0; s + n < end && s[n] != ' ' && n < sizeof tmp - 1; n++)
		tmp[n] = s[n];
	if (n == 0 || (s + n < end && s[n] != ' '))
		return false;
	tmp[n] = '\0';
	errno = 0;
	*v = strtoul(tmp, &stop, base);
	if (errno != 0 || *stop != '\0')
		return false;
	*p = s + n;
	return true;
}

/* One line without its newline; false for the header and anything odd. */
static bool parse_line(const char *s, size_t len, struct unix_line *l)
{
	const char *end = s + len, *colon = memchr(s, ':', len);
	unsigned long refcnt, proto;

	if (colon == NULL)
		return false;
	s = colon + 1;
	if (!field(&s, end, 16, &refcnt) || !field(&s, end, 16, &proto) ||
	    !field(&s, end, 16, &l->flags) || !field(&s, end, 16, &l->type) ||
	    !field(&s, end, 16, &l->state) || !field(&s, end, 10, &l->inode))
		return false;
	l->path = NULL;
	l->pathlen = 0;
	if (s < end && *s == ' ' && s + 1 < end) {
		l->path = s + 1;
		l->pathlen = (size_t)(end - s - 1);
	}
	return true;
}

static int timed_out(const char *file, struct kr_err *err)
{
	kr_fail(err, KR_UNAVAILABLE, "%s: not read within its time limit", file);
	err->cause = KR_CAUSE_TIMEOUT;
	return -1;
}

/* Hand every complete line of buf[0..*len) to fn; keep the partial tail. */
static void feed(char *buf, size_t *len, bool *skipping, line_fn *fn, void *ctx)
{
	size_t start = 0;

	for (;;) {
		char *nl = memchr(buf + start, '\n', *len - start);
		struct unix_line l;
		size_t n;

		if (nl == NULL)
			break;
		n = (size_t)(nl - (buf + start));
		if (!*skipping && n <= PROCNET_LINE_MAX && parse_line(buf + start, n, &l))
			fn(ctx, &l);
		*skipping = false;
		start += n + 1;
	}
	memmove(buf, buf + start, *len - start);
	*len -= start;
	/* A line longer than the buffer is no socket path: drop it. */
	if (*len == READ_BUF) {
		*len = 0;
		*skipping = true;
	}
}

static int each_line(const char *file, long long deadline_ms, line_fn *fn, void *ctx,
		     struct kr_err *err)
{
	char buf[READ_BUF];
	size_t len = 0;
	bool skipping = false;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return kr_fail(err, KR_UNAVAILABLE, "%s: %s", file, strerror(errno));
	for (;;) {
		ssize_t r;

		if (kr_now_ms() >= deadline_ms) {
			close(fd);
			return timed_out(file, err);
		}
		r = read(fd, buf + len, sizeof buf - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			kr_fail(err, KR_UNAVAILABLE, "%s: %s", file, strerror(errno));
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		feed(buf, &len, &skipping, fn, ctx);
	}
	close(fd);
	if (len > 0 && len < sizeof buf) {
		buf[len++] = '\n';      /* a last line without its newline */
		feed(buf, &len, &skipping, fn, ctx);
	}
	return 0;
}

/* Inodes of pid's socket descriptors; how many, -1 if they cannot be read. */
static long fd_inodes(pid_t pid, unsigned long *ino, size_t max)
{
	char dir[64];
	DIR *d;
	struct dirent *e;
	long n = 0;

	snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
	d = pid > 0 ? opendir(dir) : NULL;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && (size_t)n < max) {
		char link[64 + 256], target[64];
		ssize_t k;
		unsigned long v;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
		k = readlink(link, target, sizeof target - 1);
		if (k <= 0)
			continue;
		target[k] = '\0';
		if (sscanf(target, "socket:[%lu]", &v) == 1)
			ino[n++] = v;
	}
	closedir(d);
	return n;
}

/* Served connections on a use with an owner, to be matched after the pass. */
#define MAX_SERVED_SEEN 256

struct seen {
	unsigned long ino[MAX_SERVED_SEEN];
	size_t n;
};

struct count_ctx {
	struct unix_use *u;
	size_t n;
	struct seen *seen;      /* one per use */
};

static void count_served(struct count_ctx *c, size_t i, unsigned long inode)
{
	struct seen *s = &c->seen[i];

	if (c->u[i].owner <= 0 || s->n == MAX_SERVED_SEEN) {
		c->u[i].served++;
		return;
	}
	s->ino[s->n++] = inode;
}

/*
 * The owner's descriptors are read after the pass: a connection served
 * then and closed since is finished, one accepted since was not counted.
 */
static void count_owned(struct count_ctx *c)
{
	unsigned long fds[MAX_FD_INODES];

	for (size_t i = 0; i < c->n; i++) {
		struct seen *s = &c->seen[i];
		long nfd = s->n > 0 ? fd_inodes(c->u[i].owner, fds, MAX_FD_INODES) : 0;

		for (size_t k = 0; k < s->n; k++) {
			bool held = nfd < 0 || nfd == MAX_FD_INODES;

			for (long j = 0; j < nfd && !held; j++)
				held = fds[j] == s->ino[k];
			c->u[i].served += held;
		}
	}
}

static void count_line(void *ctx, const struct unix_line *l)
{
	struct count_ctx *c = ctx;

	if (l->path == NULL || l->type != TYPE_STREAM)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct unix_use *u = &c->u[i];

		if (strlen(u->path) != l->pathlen || memcmp(u->path, l->path, l->pathlen) != 0)
			continue;
		if (l->flags & SO_ACCEPTCON_FLAG)
			u->listening++;
		else if (l->state == STATE_CONNECTED)
			count_served(c, i, l->inode);
		else if (l->state == STATE_CONNECTING)
			u->queued++;
	}
}

int procnet_unix_count(const char *file, struct unix_use *u, size_t n,
		       long long deadline_ms, struct kr_err *err)
{
	struct count_ctx c = { u, n, calloc(n ? n : 1, sizeof *c.seen) };
	int rc;

	if (c.seen == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	for (size_t i = 0; i < n; i++)
		u[i].listening = u[i].served = u[i].queued = 0;
	rc = each_line(file, deadline_ms, count_line, &c, err);
	if (rc == 0)
		count_owned(&c);
	free(c.seen);
	return rc;
}


struct bound_ctx {
	const char *name;
	const unsigned long *ino;
	long nino;              /* -1: pid's descriptors unknown */
	char *out;
	size_t size;
	int found;
};

static bool ends_with_name(const struct unix_line *l, const char *name)
{
	size_t k = strlen(name);

	return l->pathlen > k + 1 && l->path[l->pathlen - k - 1] == '/' &&
	       memcmp(l->path + l->pathlen - k, name, k) == 0;
}

static bool owned(const struct bound_ctx *b, unsigned long inode)
{
	for (long i = 0; i < b->nino; i++)
		if (b->ino[i] == inode)
			return true;
	return false;
}

static void bound_line(void *ctx, const struct unix_line *l)
{
	struct bound_ctx *b = ctx;

	if (l->path == NULL || !(l->flags & SO_ACCEPTCON_FLAG) || !ends_with_name(l, b->name))
		return;
	if (b->nino >= 0 ? !owned(b, l->inode)
			 : l->pathlen < strlen(LONG_PREFIX) ||
			   memcmp(l->path, LONG_PREFIX, strlen(LONG_PREFIX)) != 0)
		return;
	if (b->found++ == 0 && l->pathlen < b->size) {
		memcpy(b->out, l->path, l->pathlen);
		b->out[l->pathlen] = '\0';
	}
}

int procnet_unix_bound_path(const char *file, const char *name, pid_t pid,
			    char *out, size_t size, long long deadline_ms,
			    struct kr_err *err)
{
	unsigned long ino[MAX_FD_INODES];
	struct bound_ctx b = { name, ino, fd_inodes(pid, ino, MAX_FD_INODES), out, size, 0 };

	if (size == 0)
		return kr_fail(err, KR_SOFTWARE, "no room for a socket path");
	out[0] = '\0';
	if (each_line(file, deadline_ms, bound_line, &b, err) < 0)
		return -1;
	if (b.found == 1 && out[0] != '\0')
		return 0;
	return kr_fail(err, KR_UNAVAILABLE, "%s: %s listening socket bound as .../%s%s", file,
		       b.found == 0 ? "no" : "more than one", name,
		       b.nino >= 0 ? "" : " (its process's descriptors are not readable)");
}
