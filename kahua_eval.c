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
 * KEY's figure in gc-stat; -1 without one.  Gauche 0.8.11 on lists
 * ((:total-heap-size N) (:free-bytes N) ...); up to 0.8.10 (Kahua 1.0.x
 * sites) it is one flat list, (:total-heap-size N :free-bytes N ...).
 */
static long long gc_entry(const struct sx *gc, const char *key)
{
	long long v;

	for (size_t i = 0; i < sx_len(gc); i++) {
		const struct sx *e = sx_nth(gc, i);

		if (sx_is_symbol(sx_nth(e, 0), key) && count(sx_nth(e, 1), &v))
			return v;
		if (sx_is_symbol(e, key) && count(sx_nth(gc, i + 1), &v))
			return v;
	}
	return -1;
}

/* The heap and, with :free-bytes, the part in use (total less free). */
static void heap_of(const struct sx *gc, struct eval_result *res)
{
	long long free_bytes = gc_entry(gc, ":free-bytes");

	res->heap = gc_entry(gc, ":total-heap-size");
	if (res->heap >= 0 && free_bytes >= 0 && free_bytes <= res->heap)
		res->heap_used = res->heap - free_bytes;
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
			heap_of(sx_nth(v, 2), res);
		} else {
			heap_of(v, res);
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

enum eval_outcome kahua_eval_text(const char *buf, size_t len, struct sx **body,
				  const struct sx **text, char *why, size_t size)
{
	struct sx *hdr = NULL;
	const char *status;
	size_t pos = 0;
	char line[120];
	enum eval_outcome rc = EVAL_UNREADABLE;

	*body = NULL;
	*text = NULL;
	if (sx_read(buf, len, &pos, &sx_default_limits, &hdr, NULL) != SX_OK ||
	    sx_read(buf, len, &pos, &sx_default_limits, body, NULL) != SX_OK) {
		snprintf(why, size, "eval reply unreadable (%zu bytes)", len);
	} else if ((status = sx_text(sx_nth(sx_alist_get(hdr, "x-kahua-status"), 1))) == NULL) {
		snprintf(why, size, "eval reply has no x-kahua-status");
	} else if (strcmp(status, "ERROR") == 0) {
		first_line(sx_is_string(*body) ? sx_text(*body) : "(no message)", line, sizeof line);
		snprintf(why, size, "eval answered ERROR: %s", line);
	} else if (strcmp(status, "OK") != 0) {
		first_line(status, line, sizeof line);
		snprintf(why, size, "eval answered status \"%.40s\"", line);
	} else if (!sx_is_string(sx_nth(*body, 2))) {
		snprintf(why, size, "eval reply body is not (STDERR STDOUT VALUE)");
	} else {
		*text = sx_nth(*body, 2);
		rc = EVAL_OK;
	}
	sx_free(hdr);
	return rc;
}

void kahua_eval_parse(const char *buf, size_t len, struct eval_result *res)
{
	struct sx *body;
	const struct sx *text;

	*res = (struct eval_result){ .conts = -1, .sessions = -1, .heap = -1, .heap_used = -1 };
	res->outcome = kahua_eval_text(buf, len, &body, &text, res->why, sizeof res->why);
	if (res->outcome == EVAL_OK)
		parse_value(text, res);
	sx_free(body);
}

void kahua_eval_first_line(const char *s, char *out, size_t size)
{
	first_line(s, out, size);
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
	return 1;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct conn *c, struct eval_reply *r, const char *fmt, ...)
{
	va_list ap;

	r->outcome = EVAL_NO_ANSWER;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
	sx_buf_free(&c->reply);
	return done(c);
}

/* One step of one connection on poll's word; 1 when it is over. */
static int step(struct conn *c, const char *req, size_t reqlen, struct eval_reply *r)
{
	ssize_t n;

	if (c->sent < reqlen) {
		n = send(c->fd, req + c->sent, reqlen - c->sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		if (n < 0)
			return fail(c, r, "eval: send: %s", strerror(errno));
		c->sent += (size_t)n;
		return 0;
	}
	if (sx_buf_reserve(&c->reply, EVAL_CHUNK) < 0)
		return fail(c, r, "eval: out of memory");
	n = recv(c->fd, c->reply.s + c->reply.len, EVAL_CHUNK, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0 && !(errno == ECONNRESET && kahua_reply_complete(c->reply.s, c->reply.len)))
		return fail(c, r, "eval: recv: %s", strerror(errno));
	if (n > 0) {
		c->reply.len += (size_t)n;
		c->reply.s[c->reply.len] = '\0';
		if (c->reply.len > EVAL_REPLY_MAX) {
			fail(c, r, "eval reply larger than %d bytes", EVAL_REPLY_MAX);
			r->outcome = EVAL_UNREADABLE;
			return 1;
		}
		if (c->reply.s[c->reply.len - 1] != '\n' ||
		    !kahua_reply_complete(c->reply.s, c->reply.len))
			return 0;
	}
	if (c->reply.len == 0)
		return fail(c, r, "closed without answering");
	r->outcome = EVAL_OK;
	r->buf = c->reply.s;
	r->len = c->reply.len;
	c->reply = (struct sx_buf){ 0 };
	return done(c);
}

/* Poll every open connection until all are over or the deadline passes. */
static void run(struct conn *c, size_t n, size_t open, const char *req, long long deadline_ms,
		struct pollfd *p, size_t *idx, struct eval_reply *out)
{
	size_t reqlen = strlen(req);

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
		for (size_t j = 0; ready <= 0 && j < np; j++)
			open -= (size_t)fail(&c[idx[j]], &out[idx[j]], "%s", ready == 0 ?
					     "no answer to the eval within the time limit" :
					     "eval: poll failed");
		for (size_t j = 0; ready > 0 && j < np; j++)
			if (p[j].revents != 0)
				open -= (size_t)step(&c[idx[j]], req, reqlen, &out[idx[j]]);
	}
}

void kahua_eval_exchange(const struct kahua_site *site, const struct worker *ws, size_t n,
			 const char *request, long long deadline_ms, struct eval_reply *out)
{
	struct conn *c = calloc(n ? n : 1, sizeof *c);
	struct pollfd *p = calloc(n ? n : 1, sizeof *p);
	size_t *idx = calloc(n ? n : 1, sizeof *idx);
	size_t open = 0;

	for (size_t i = 0; i < n; i++) {
		struct kr_err err = { 0 };

		out[i] = (struct eval_reply){ .outcome = EVAL_NO_ANSWER };
		if (c == NULL || p == NULL || idx == NULL) {
			snprintf(out[i].why, sizeof out[i].why, "eval: out of memory");
			continue;
		}
		c[i].fd = kahua_connect(site, ws[i].wid, deadline_ms, &err);
		if (c[i].fd < 0)
			snprintf(out[i].why, sizeof out[i].why, "%.190s", err.msg);
		else
			open++;
	}
	if (open > 0)
		run(c, n, open, request, deadline_ms, p, idx, out);
	free(c);
	free(p);
	free(idx);
}

void kahua_eval_reply_free(struct eval_reply *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].buf);
		r[i].buf = NULL;
	}
}

struct eval_reply *kahua_eval_ask(const struct kahua_site *site, const struct worker *ws, size_t n,
				  const char *request, long long deadline_ms)
{
	struct eval_reply *r = calloc(n ? n : 1, sizeof *r);

	if (r != NULL)
		kahua_eval_exchange(site, ws, n, request, deadline_ms, r);
	return r;
}

void kahua_eval_replies_free(struct eval_reply *r, size_t n)
{
	if (r != NULL)
		kahua_eval_reply_free(r, n);
	free(r);
}

void kahua_eval_workers(const struct kahua_site *site, const struct worker *ws,
			size_t n, long long deadline_ms, struct eval_result *res)
{
	struct eval_reply *r = kahua_eval_ask(site, ws, n, kahua_eval_request, deadline_ms);

	for (size_t i = 0; i < n; i++) {
		res[i] = (struct eval_result){ .outcome = EVAL_NO_ANSWER, .conts = -1,
					       .sessions = -1, .heap = -1, .heap_used = -1 };
		if (r == NULL)
			verdict(&res[i], EVAL_NO_ANSWER, "eval: out of memory");
	}
	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if (r[i].buf != NULL)
			kahua_eval_parse(r[i].buf, r[i].len, &res[i]);
		else
			verdict(&res[i], r[i].outcome, "%s", r[i].why);
	}
	kahua_eval_replies_free(r, n);
}
