/*
 * kahua_eval.h: what a worker holds, asked on its own socket.
 *
 * A Kahua worker evaluates the body of a request whose header carries
 * ("x-kahua-eval" "#t").  This module sends one fixed expression, text
 * compiled into the program and never built from input, that answers a
 * worker's continuations (the key table of <session-cont>), its state
 * sessions and its GC heap (gc-stat's :total-heap-size) in one exchange.
 * The request names the state session "kahua-restarter", so asking does
 * not register a new session each time.
 *
 * A worker that answers ERROR or something unreadable still answered: its
 * numbers are unavailable, it is not dead.
 */
#ifndef KR_KAHUA_EVAL_H
#define KR_KAHUA_EVAL_H

#include <stddef.h>

#include "kahua_ctl.h"

/* The request, byte for byte (no trailing newline, as Kahua wants it). */
extern const char kahua_eval_request[];

enum eval_outcome {
	EVAL_OFF = 0,           /* not asked (--no-eval, or not yet) */
	EVAL_OK,                /* numbers read (some may still be -1) */
	EVAL_UNREADABLE,        /* answered ERROR or garbage: numbers unavailable */
	EVAL_NO_ANSWER          /* no connection, no reply within the time limit */
};

struct eval_result {
	enum eval_outcome outcome;
	long long conts;        /* continuations; -1 unknown */
	long long sessions;     /* state sessions; -1 unknown */
	long long heap;         /* GC total heap bytes; -1 unknown */
	long long heap_used;    /* the heap less gc-stat's :free-bytes; -1 unknown */
	char why[200];          /* when not EVAL_OK: why, in a few words */
};

/*
 * Parse a worker's reply to kahua_eval_request.  EVAL_OK when the value
 * is (CONTS SESSIONS GC-STAT) or the recorded (CONTS SESSIONS) of the
 * count-only expression; EVAL_UNREADABLE otherwise, with why.
 */
void kahua_eval_parse(const char *buf, size_t len, struct eval_result *res);

/*
 * The value text of an eval reply (the third string of its body): *body
 * receives the reply's body (sx_free it, also on failure) and *text points
 * into it.  EVAL_OK, or EVAL_UNREADABLE with why: an ERROR answer quotes
 * its message's first line.
 */
enum eval_outcome kahua_eval_text(const char *buf, size_t len, struct sx **body,
				  const struct sx **text, char *why, size_t size);

/* The first line of a worker's text, control characters shown as '?'. */
void kahua_eval_first_line(const char *s, char *out, size_t size);

/*
 * One worker's raw answer to an eval: buf (malloc'd, NUL-terminated) holds
 * a complete reply when outcome is EVAL_OK; otherwise buf is NULL and why
 * says what happened (EVAL_NO_ANSWER, or EVAL_UNREADABLE for a reply over
 * the size limit).
 */
struct eval_reply {
	enum eval_outcome outcome;
	char *buf;
	size_t len;
	char why[200];
};

/* The largest eval reply read; a census answer is a few KB. */
#define EVAL_REPLY_MAX (64 * 1024)

/*
 * Send request (a fixed text: header and body, no trailing newline) to
 * each of ws[0..n) at once, one connection per worker, all bounded by
 * deadline_ms; out[i] is filled for ws[i] whatever happens.  Free the
 * buffers with kahua_eval_reply_free.
 */
void kahua_eval_exchange(const struct kahua_site *site, const struct worker *ws, size_t n,
			 const char *request, long long deadline_ms, struct eval_reply *out);
void kahua_eval_reply_free(struct eval_reply *r, size_t n);

/*
 * kahua_eval_exchange into replies of its own: NULL when out of memory.
 * Free them with kahua_eval_replies_free.
 */
struct eval_reply *kahua_eval_ask(const struct kahua_site *site, const struct worker *ws, size_t n,
				  const char *request, long long deadline_ms);
void kahua_eval_replies_free(struct eval_reply *r, size_t n);

/*
 * Ask each of ws[0..n) at once, one connection per worker, all bounded by
 * deadline_ms.  res[i] is filled for ws[i] whatever happens.
 */
void kahua_eval_workers(const struct kahua_site *site, const struct worker *ws,
			size_t n, long long deadline_ms, struct eval_result *res);

#endif
