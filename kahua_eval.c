/*
 * kahua_eval.c: the eval exchange, with every worker at once.
 *
 * All connections share one deadline, so a worker that does not answer
 * costs the run one control time limit, not one per worker, and the
 * others still answer meanwhile.  Each worker gets one connection.
 */
#include "kahua_eval.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

/*
 * gc-stat is Gauche's, visible from every module; the continuation and
 * session tables are kahua.session's own.  Recorded answers:
 * ("" "" "(8101 82 ((:total-heap-size 160186368) (:free-bytes ...) ...))").
 */
const char kahua_eval_request[] =
	"((\"x-kahua-eval\" \"#t\") (\"x-kahua-sgsid\" \"kahua-restarter\"))\n"
	"(with-module kahua.session (list"
	" (hash-table-num-entries (class-slot-ref <session-cont> 'key->session))"
	" (hash-table-num-entries (state-sessions))"
	" (gc-stat)))";

#define EVAL_CHUNK 4096
/* An answer is ~150 bytes, an ERROR with its stack trace a few KB. */
#define EVAL_REPLY_MAX (64 * 1024)

__attribute__((format(printf, 3, 4)))
static void verdict(struct eval_result *res, enum eval_outcome outcome, const char *fmt, ...)
{
	va_list ap;

	res->outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(res->why, sizeof res->why, fmt, ap);
	va_end(ap);
}

/* The first line of a worker's error text, safe for a terminal. */
static void first_line(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && *s != '\n' && n + 1 < size; s++)
		out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	out[n] = '\0';
}

static bool count(const struct sx *x, long long *out)
{
	if (x == NULL || x->type != SX_INT || x->u.i < 0)
		return false;
	*out = x->u.i;
	return true;
}

/*
 * :total-heap-size from gc-stat; -1 without one.  Gauche 0.8.11 on lists
 * ((:total-heap-size N) (:free-bytes N) ...); up to 0.8.10 (Kahua 1.0.x
 * sites) it is one flat list, (:total-heap-size N :free-bytes N ...).
 */
static long long total_heap(const struct sx *gc)
{
	long long v;

	for (size_t i = 0; i < sx_len(gc); i++) {
		const struct sx *e = sx_nth(gc, i);

		if (sx_is_symbol(sx_nth(e, 0), ":total-heap-size") && count(sx_nth(e, 1), &v))
			return v;
		if (sx_is_symbol(e, ":total-heap-size") && count(sx_nth(gc, i + 1), &v))
			return v;
	}
	return -1;
}

/*
 * The value as the worker wrote it: "(CONTS SESSIONS GC-STAT)".  The
 * recorded answers of its parts read too: "(CONTS SESSIONS)" of the
 * count-only expression, and gc-stat's own list for the heap alone.
 */
static void parse_value(const struct sx *text, struct eval_result *res)
{
	struct sx *v = NULL;
	size_t pos = 0;
	long long conts, sessions;
	char shown[64];

	if (sx_read(sx_text(text), text->u.atom.len, &pos, &sx_default_limits, &v, NULL) == SX_OK &&
	    sx_is_list(v)) {
		if (count(sx_nth(v, 0), &conts) && count(sx_nth(v, 1), &sessions)) {
			res->conts = conts;
			res->sessions = sessions;
			res->heap = total_heap(sx_nth(v, 2));
		} else {
			res->heap = total_heap(v);
		}
	}
	sx_free(v);
	if (res->conts >= 0 || res->heap >= 0) {
		res->outcome = EVAL_OK;
		return;
	}
	first_line(sx_text(text), shown, sizeof shown);
	verdict(res, EVAL_UNREADABLE, "eval value \"%s\" is not (CONTINUATIONS SESSIONS GC-STAT)",
		shown);
}

void kahua_eval_parse(const char *buf, size_t len, struct eval_result *res)
{
	struct sx *hdr = NULL, *body = NULL;
	const char *status;
	size_t pos = 0;
	char line[120];

	*res = (struct eval_result){ .conts = -1, .sessions = -1, .heap = -1 };
	if (sx_read(buf, len, &pos, &sx_default_limits, &hdr, NULL) != SX_OK ||
	    sx_read(buf, len, &pos, &sx_default_limits, &body, NULL) != SX_OK) {
		verdict(res, EVAL_UNREADABLE, "eval reply unreadable (%zu bytes)", len);
	} else if ((status = sx_text(sx_nth(sx_alist_get(hdr, "x-kahua-status"), 1))) == NULL) {
		verdict(res, EVAL_UNREADABLE, "eval reply has no x-kahua-status");
	} else if (strcmp(status, "ERROR") == 0) {
		first_line(sx_is_string(body) ? sx_text(body) : "(no message)", line, sizeof line);
		verdict(res, EVAL_UNREADABLE, "eval answered ERROR: %s", line);
	} else if (strcmp(status, "OK") != 0) {
		first_line(status, line, sizeof line);
		verdict(res, EVAL_UNREADABLE, "eval answered status \"%.40s\"", line);
	} else if (!sx_is_string(sx_nth(body, 2))) {
		verdict(res, EVAL_UNREADABLE, "eval reply body is not (STDERR STDOUT VALUE)");
	} else {
		parse_value(sx_nth(body, 2), res);
	}
	sx_free(hdr);
	sx_free(body);
}

struct conn {
	int fd;                 /* -1 once done */
	size_t sent;
	struct sx_buf reply;
};

static int done(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	sx_buf_free(&c->reply);
	return 1;
}

/* One step of one connection on poll's word; 1 when it is over. */
static int step(struct conn *c, struct eval_result *res)
{
	size_t reqlen = sizeof kahua_eval_request - 1;
	ssize_t n;

	if (c->sent < reqlen) {
		n = send(c->fd, kahua_eval_request + c->sent, reqlen - c->sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		if (n < 0) {
			verdict(res, EVAL_NO_ANSWER, "eval: send: %s", strerror(errno));
			return done(c);
		}
		c->sent += (size_t)n;
		return 0;
	}
	if (sx_buf_reserve(&c->reply, EVAL_CHUNK) < 0) {
		verdict(res, EVAL_UNREADABLE, "eval: out of memory");
		return done(c);
	}
	n = recv(c->fd, c->reply.s + c->reply.len, EVAL_CHUNK, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0 && !(errno == ECONNRESET && kahua_reply_complete(c->reply.s, c->reply.len))) {
		verdict(res, EVAL_NO_ANSWER, "eval: recv: %s", strerror(errno));
		return done(c);
	}
	if (n > 0) {
		c->reply.len += (size_t)n;
		c->reply.s[c->reply.len] = '\0';
		if (c->reply.len > EVAL_REPLY_MAX) {
			verdict(res, EVAL_UNREADABLE, "eval reply larger than %d bytes", EVAL_REPLY_MAX);
			return done(c);
		}
		if (c->reply.s[c->reply.len - 1] != '\n' ||
		    !kahua_reply_complete(c->reply.s, c->reply.len))
			return 0;
	}
	if (c->reply.len == 0)
		verdict(res, EVAL_NO_ANSWER, "closed without answering");
	else
		kahua_eval_parse(c->reply.s, c->reply.len, res);
	return done(c);
}

/* Poll every open connection until all are over or the deadline passes. */
static void run(struct conn *c, size_t n, size_t open, long long deadline_ms,
		struct pollfd *p, size_t *idx, struct eval_result *res)
{
	size_t reqlen = sizeof kahua_eval_request - 1;

	while (open > 0) {
		size_t np = 0;
		int ready;

		for (size_t i = 0; i < n; i++) {
			if (c[i].fd < 0)
				continue;
			p[np] = (struct pollfd){ .fd = c[i].fd,
						 .events = c[i].sent < reqlen ? POLLOUT : POLLIN };
			idx[np++] = i;
		}
		ready = poll(p, np, kr_poll_ms(deadline_ms));
		if (ready < 0 && errno == EINTR)
			continue;
		for (size_t j = 0; ready <= 0 && j < np; j++) {
			verdict(&res[idx[j]], EVAL_NO_ANSWER, ready == 0 ?
				"no answer to the eval within the time limit" : "eval: poll failed");
			open -= (size_t)done(&c[idx[j]]);
		}
		for (size_t j = 0; ready > 0 && j < np; j++)
			if (p[j].revents != 0)
				open -= (size_t)step(&c[idx[j]], &res[idx[j]]);
	}
}

void kahua_eval_workers(const struct kahua_site *site, const struct worker *ws,
			size_t n, long long deadline_ms, struct eval_result *res)
{
	struct conn *c = calloc(n ? n : 1, sizeof *c);
	struct pollfd *p = calloc(n ? n : 1, sizeof *p);
	size_t *idx = calloc(n ? n : 1, sizeof *idx);
	size_t open = 0;

	for (size_t i = 0; i < n; i++) {
		struct kr_err err = { 0 };

		res[i] = (struct eval_result){ .outcome = EVAL_NO_ANSWER, .conts = -1,
					       .sessions = -1, .heap = -1 };
		if (c == NULL || p == NULL || idx == NULL) {
			verdict(&res[i], EVAL_NO_ANSWER, "eval: out of memory");
			continue;
		}
		c[i].fd = kahua_connect(site, ws[i].wid, deadline_ms, &err);
		if (c[i].fd < 0)
			verdict(&res[i], EVAL_NO_ANSWER, "%.190s", err.msg);
		else
			open++;
	}
	if (open > 0)
		run(c, n, open, deadline_ms, p, idx, res);
	free(c);
	free(p);
	free(idx);
}
