/*
 * usock.c: Unix stream sockets in a socket directory, and reading one
 * Kahua message (a header datum and a body datum) from a connection.
 *
 * sun_path holds 108 bytes; deep bundles do not fit.  Then the socket is
 * reached as /proc/self/fd/<dirfd>/<name>, dirfd an O_PATH descriptor of
 * the directory, which Linux resolves like the real path.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int sockdir_open(struct sockdir *d, const char *path)
{
	d->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0)
		return -1;
	d->path = xstrdup(path);
	return 0;
}

void sockdir_close(struct sockdir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	d->fd = -1;
	d->path = NULL;
}

char *sockdir_path(const struct sockdir *d, const char *name)
{
	return xasprintf("%s/%s", d->path, name);
}

static int addr_for(const struct sockdir *d, const char *name,
		    struct sockaddr_un *sa, socklen_t *len)
{
	int n;

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", d->path, name);
	if (n < 0 || (size_t)n >= sizeof sa->sun_path)
		n = snprintf(sa->sun_path, sizeof sa->sun_path,
			     "/proc/self/fd/%d/%s", d->fd, name);
	if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

static int close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
	return -1;
}

int usock_listen(const struct sockdir *d, const char *name, mode_t mode)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (addr_for(d, name, &sa, &len) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, len) != 0)
		return close_keep_errno(fd);
	/* Mode before listen(): nobody can connect while it is wider. */
	if (fchmodat(d->fd, name, mode, 0) != 0 || listen(fd, SOMAXCONN) != 0) {
		int e = errno;

		unlinkat(d->fd, name, 0);
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int usock_connect(const struct sockdir *d, const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (addr_for(d, name, &sa, &len) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sa, len) != 0)
		if (errno != EINTR)
			return close_keep_errno(fd);
	return fd;
}

/* ------------------------------------------------------------ messages */

enum { P_NEED, P_DONE, P_ERR };

/* A token ending exactly at the end of input may still be growing. */
static bool needs_delimiter(const struct sx *x)
{
	return x->type == SX_SYMBOL || x->type == SX_INT || x->type == SX_BOOL;
}

static size_t count_lines(const char *b, size_t n)
{
	size_t lines = 1;

	for (size_t i = 0; i < n; i++)
		lines += b[i] == '\n';
	return lines;
}

static size_t datum_start(const char *b, size_t len, size_t p)
{
	while (p < len) {
		if (b[p] == ';') {
			while (p < len && b[p] != '\n')
				p++;
		} else if (strchr(" \t\r\n\f\v", b[p]) != NULL && b[p] != '\0') {
			p++;
		} else {
			break;
		}
	}
	return p;
}

static int parse_one(struct msg *m, size_t len, bool eof, size_t *pos,
		     struct sx **out, size_t *off)
{
	size_t p = *pos;
	struct sx *x = NULL;
	size_t start;

	switch (sx_read(m->buf, len, &p, &sx_default_limits, &x, &m->sxerr)) {
	case SX_OK:
		if (p == len && !eof && needs_delimiter(x)) {
			sx_free(x);
			return P_NEED;
		}
		*off = x->off;
		*pos = p;
		*out = x;
		return P_DONE;
	case SX_END:
		if (!eof)
			return P_NEED;
		*out = NULL;
		return P_DONE;
	case SX_INCOMPLETE:
		if (!eof)
			return P_NEED;
		start = datum_start(m->buf, len, *pos);
		m->st = MSG_EOF_INSIDE;
		m->eof_line = count_lines(m->buf, len);
		m->start_line = count_lines(m->buf, start);
		m->start_char = start < len ? m->buf[start] : '(';
		return P_ERR;
	default:
		m->st = MSG_SYNTAX;
		return P_ERR;
	}
}

static int parse_msg(struct msg *m, size_t len, bool eof)
{
	struct sx *h = NULL, *b = NULL;
	size_t pos = 0;
	int r = parse_one(m, len, eof, &pos, &h, &m->hoff);

	if (r != P_DONE)
		return r;
	if (h == NULL) {
		m->st = MSG_HDR_EOF;
		return P_DONE;
	}
	m->hend = pos;
	r = parse_one(m, len, eof, &pos, &b, &m->boff);
	if (r != P_DONE) {
		sx_free(h);
		return r;
	}
	m->hdr = h;
	m->body = b;
	m->bend = pos;
	m->st = b != NULL ? MSG_OK : MSG_BODY_EOF;
	return P_DONE;
}

static void grow(struct msg *m, size_t want)
{
	if (m->cap >= want)
		return;
	size_t cap = m->cap ? m->cap : 4096;

	while (cap < want)
		cap *= 2;
	m->buf = xrealloc(m->buf, cap + 1);
	m->cap = cap;
}

static void read_stream(int fd, size_t max, struct msg *m)
{
	for (;;) {
		if (m->len >= max) {
			m->st = MSG_TOO_BIG;
			return;
		}
		grow(m, m->len + 65536 < max ? m->len + 65536 : max);
		ssize_t r = recv(fd, m->buf + m->len, m->cap - m->len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			m->st = MSG_IO;
			m->err_no = errno;
			return;
		}
		m->len += (size_t)r;
		if (parse_msg(m, m->len, r == 0) != P_NEED)
			return;
	}
}

/* Take exactly n queued bytes off the socket (they were peeked). */
static int consume(int fd, char *dst, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(fd, dst, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		dst += r;
		n -= (size_t)r;
	}
	return 0;
}

static void read_exact(int fd, size_t max, bool (*accept)(const struct msg *),
		       struct msg *m)
{
	for (;;) {
		size_t done = m->len, end;

		if (done >= max) {
			m->st = MSG_TOO_BIG;
			return;
		}
		grow(m, done + 65536 < max ? done + 65536 : max);
		ssize_t r = recv(fd, m->buf + done, m->cap - done, MSG_PEEK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			m->st = MSG_IO;
			m->err_no = errno;
			return;
		}
		int pr = parse_msg(m, done + (size_t)r, r == 0);

		if (pr == P_ERR)
			return;         /* leave the input unread */
		end = pr == P_NEED ? done + (size_t)r :
		      m->st == MSG_OK ? m->bend : done;
		if (pr == P_DONE && m->st == MSG_OK && accept != NULL && !accept(m)) {
			m->st = MSG_REJECTED;
			return;
		}
		if (consume(fd, m->buf + done, end - done) != 0) {
			m->st = MSG_IO;
			m->err_no = errno ? errno : ECONNRESET;
			return;
		}
		m->len = end;
		if (pr == P_DONE)
			return;
	}
}

void msg_read(int fd, bool exact, size_t max, bool (*accept)(const struct msg *),
	      struct msg *m)
{
	memset(m, 0, sizeof *m);
	if (exact)
		read_exact(fd, max, accept, m);
	else
		read_stream(fd, max, m);
	if (m->st == MSG_TOO_BIG || m->st == MSG_IO || m->st == MSG_EOF_INSIDE ||
	    m->st == MSG_SYNTAX || m->st == MSG_REJECTED) {
		sx_free(m->hdr);
		sx_free(m->body);
		m->hdr = m->body = NULL;
	}
}

void msg_free(struct msg *m)
{
	sx_free(m->hdr);
	sx_free(m->body);
	free(m->buf);
	memset(m, 0, sizeof *m);
}
