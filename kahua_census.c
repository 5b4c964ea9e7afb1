/*
 * kahua_census.c: the census and sweep expressions and their replies.
 *
 * The census walks the continuation table once with only cheap work per
 * entry (slot reads, an eq? hash on the closure's code); the labels, the
 * costly part (source code, source-location), are made for the biggest
 * groups only, each cut to 160 characters, so the answer stays a few KB
 * however many continuations a worker holds.
 *
 * Kahua's a-cont links made by entry-lambda are closures of Kahua's own
 * wrapper (make-parameterized-entry-closure, kahua/server.scm): they share
 * one code object, so they are grouped by the keyword names the wrapper
 * captures instead.  The application's lambda sits one environment frame
 * further out, and Gauche 0.9.15 shows Scheme only the innermost frame
 * (%closure-env->list): the label says so.
 */
#include "kahua_census.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sexp.h"

/*
 * Answer: (census 2 ELAPSED-US NOW TIMEOUT-S (TOTAL <1M 1-10M 10M-TO OVERDUE
 * PERMANENT) (STATE-TOTAL [<1M 1-10M 10M-TO OVERDUE]) (HEAP FREE) GROUPS
 * STRIDE ((COUNT PERMANENT? "label") ...)).  State sessions made through a
 * key server may have no timestamp: then only their total is given.
 *
 * The ages are exact.  The walk's cost is touching each entry and each
 * closure, scattered over a heap of hundreds of MB; past 16384 entries the
 * makers are counted on one entry in STRIDE (every STRIDE-th in the
 * table's order, which follows no maker) and each counts STRIDE, so the
 * walk stays near the cost of reading the timestamps.  Permanent entries
 * are few and always counted, one group each.
 */
const char kahua_census_request[] =
	"((\"x-kahua-eval\" \"#t\") (\"x-kahua-sgsid\" \"kahua-restarter\"))\n"
	"(with-module kahua.session\n"
	" (let* ((us (lambda () (receive (s u) (sys-gettimeofday) (+ (* s 1000000) u))))\n"
	"        (t0 (us))\n"
	"        (now (sys-time))\n"
	"        (to (* 60 (ref (kahua-config) 'timeout-mins)))\n"
	"        (bucket (lambda (v ts)\n"
	"                  (let ((a (- now ts)))\n"
	"                    (vector-set! v 0 (+ 1 (vector-ref v 0)))\n"
	"                    (let ((i (cond ((> a to) 4) ((< a 60) 1) ((< a 600) 2) (else 3))))\n"
	"                      (vector-set! v i (+ 1 (vector-ref v i)))))))\n"
	"        (tab (class-slot-ref <session-cont> 'closure->session))\n"
	"        (k (+ 1 (quotient (hash-table-num-entries tab) 16385)))\n"
	"        (s k)\n"
	"        (cv (make-vector 6 0))\n"
	"        (wrap (closure-code ((with-module kahua.server make-parameterized-entry-closure) '() '() '() #f list)))\n"
	"        (env (with-module gauche.internal %closure-env->list))\n"
	"        (g (make-hash-table 'eq?))\n"
	"        (w (make-hash-table 'equal?))\n"
	"        (lcode #f)\n"
	"        (lcell #f)\n"
	"        (tally (lambda (c e n p)\n"
	"                 (let ((code (if (closure? c) (closure-code c) c)))\n"
	"                   (if (and (eq? code lcode) (not p))\n"
	"                     (set-car! lcell (+ n (car lcell)))\n"
	"                     (let* ((t (if (and (eq? code wrap) (not p)) w g))\n"
	"                            (key (cond (p c) ((eq? code wrap) (env c)) (else code)))\n"
	"                            (cell (hash-table-get t key #f)))\n"
	"                       (if cell\n"
	"                         (set-car! cell (+ n (car cell)))\n"
	"                         (begin (set! cell (list n p c (slot-ref e 'key)))\n"
	"                                (hash-table-put! t key cell)))\n"
	"                       (unless (or p (eq? code wrap))\n"
	"                         (set! lcode code)\n"
	"                         (set! lcell cell))))))))\n"
	"   (hash-table-for-each tab\n"
	"     (lambda (c e)\n"
	"       (if (slot-ref e 'permanent?)\n"
	"         (begin (vector-set! cv 5 (+ 1 (vector-ref cv 5))) (tally c e 1 #t))\n"
	"         (let* ((a (- now (slot-ref e 'timestamp)))\n"
	"                (i (cond ((> a to) 4) ((< a 60) 1) ((< a 600) 2) (else 3))))\n"
	"           (vector-set! cv i (+ 1 (vector-ref cv i)))\n"
	"           (set! s (- s 1))\n"
	"           (when (= s 0) (set! s k) (tally c e k #f))))))\n"
	"   (vector-set! cv 0 (+ (vector-ref cv 1) (vector-ref cv 2) (vector-ref cv 3) (vector-ref cv 4) (vector-ref cv 5)))\n"
	"   (let* ((sv (make-vector 6 0))\n"
	"          (sage (call/cc (lambda (no)\n"
	"                  (hash-table-for-each (state-sessions)\n"
	"                    (lambda (k s)\n"
	"                      (if (slot-bound? s '%timestamp)\n"
	"                        (bucket sv (slot-ref s '%timestamp))\n"
	"                        (no #f))))\n"
	"                  #t)))\n"
	"          (top (take* (sort (append (hash-table-values g) (hash-table-values w))\n"
	"                            (lambda (a b) (> (car a) (car b))))\n"
	"                      16))\n"
	"          (cut (lambda (s) (if (> (string-length s) 160) (string-append (substring s 0 157) \"...\") s)))\n"
	"          (where (lambda (c)\n"
	"                   (let ((l (and (closure? c) (source-location c))))\n"
	"                     (if (and (pair? l) (string? (car l)) (pair? (cdr l)) (integer? (cadr l)))\n"
	"                       (format \"~a:~a\" (sys-basename (car l)) (cadr l))\n"
	"                       \"source line unknown\"))))\n"
	"          (name (lambda (c) (let ((i (procedure-info c))) (if (pair? i) (car i) i))))\n"
	"          (label (lambda (cell)\n"
	"                   (guard (e (else \"(no label: describing this closure raised an error)\"))\n"
	"                   (let ((c (caddr cell)))\n"
	"                     (cut (cond ((cadr cell)\n"
	"                                 (format \"define-entry ~a (~a)\" (cadddr cell) (where c)))\n"
	"                                ((and (closure? c) (eq? (closure-code c) wrap))\n"
	"                                 (let ((ks (apply append (filter list? (env c))))) (format \"entry-lambda with ~a (Kahua's wrapper, ~a); its application lambda is one frame out, which Gauche does not show to Scheme\" (if (null? ks) \"no keywords\" (string-append \"keywords\" (string-join (map x->string ks) \" \" 'prefix))) (where c))))\n"
	"                                ((closure? c) (format \"~a~s (~a)\" (if (symbol? (name c)) (format \"~a: \" (name c)) \"\") (or (source-code c) (procedure-info c)) (where c)))\n"
	"                                (else (format \"~s\" c))))))))\n"
	"          (makers (map (lambda (cell) (list (car cell) (cadr cell) (label cell))) top))\n"
	"          (gc (gc-stat))\n"
	"          (gv (lambda (k) (let ((e (assq k gc))) (if (pair? e) (cadr e) -1)))))\n"
	"     (list 'census 2 (- (us) t0) now to\n"
	"           (vector->list cv)\n"
	"           (if sage (vector->list sv 0 5) (list (vector-ref sv 0)))\n"
	"           (list (gv :total-heap-size) (gv :free-bytes))\n"
	"           (+ (hash-table-num-entries g) (hash-table-num-entries w))\n"
	"           k\n"
	"           makers))))";

/*
 * Answer: (sweep 1 SWEPT-CONTS SWEPT-SESSIONS|#f CONTS-AFTER SESSIONS-AFTER
 * (HEAP FREE) (HEAP FREE)), the heap before the sweep and after (gc).
 * The two %lld are the only variable parts, from validated integers.
 */
static const char sweep_format[] =
	"((\"x-kahua-eval\" \"#t\") (\"x-kahua-sgsid\" \"kahua-restarter\"))\n"
	"(with-module kahua.session\n"
	" (let* ((gv (lambda (gc k) (let ((e (assq k gc))) (if (pair? e) (cadr e) -1))))\n"
	"        (heap (lambda () (let ((gc (gc-stat))) (list (gv gc :total-heap-size) (gv gc :free-bytes)))))\n"
	"        (h0 (heap))\n"
	"        (c (car (session-cont-sweep %lld)))\n"
	"        (s %s))\n"
	"   (gc)\n"
	"   (list 'sweep 1 c s\n"
	"         (hash-table-num-entries (class-slot-ref <session-cont> 'key->session))\n"
	"         (hash-table-num-entries (state-sessions))\n"
	"         h0 (heap))))";

static bool sweep_age_ok(long long s)
{
	return s >= SWEEP_MIN_S && s <= SWEEP_MAX_S;
}

int kahua_sweep_request(char *buf, size_t size, long long conts_s, long long sessions_s)
{
	char sessions[64] = "#f";
	int n;

	if (!sweep_age_ok(conts_s) || (sessions_s >= 0 && !sweep_age_ok(sessions_s)))
		return -1;
	if (sessions_s >= 0)
		snprintf(sessions, sizeof sessions, "(session-state-sweep %lld)", sessions_s);
	n = snprintf(buf, size, sweep_format, conts_s, sessions);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static bool count(const struct sx *x, long long *out)
{
	if (x == NULL || x->type != SX_INT || x->u.i < 0)
		return false;
	*out = x->u.i;
	return true;
}

/* (N1 N2 ...): n counts into out[]; false unless all are counts. */
static bool counts(const struct sx *l, long long *out, size_t n)
{
	if (!sx_is_list(l) || sx_len(l) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!count(sx_nth(l, i), &out[i]))
			return false;
	return true;
}

/* (TOTAL FREE) of gc-stat: the heap and the part in use. */
static bool heap(const struct sx *l, long long *total, long long *used)
{
	long long v[2];

	if (!counts(l, v, 2) || v[1] > v[0])
		return false;
	*total = v[0];
	*used = v[0] - v[1];
	return true;
}

static bool ages(const struct sx *l, struct census_ages *a, bool permanent)
{
	long long v[6];
	size_t n = permanent ? 6 : 5;

	*a = (struct census_ages){ -1, -1, -1, -1, -1, -1 };
	if (!permanent && sx_len(l) == 1 && count(sx_nth(l, 0), &a->total))
		return true;
	if (!counts(l, v, n))
		return false;
	*a = (struct census_ages){ v[0], v[1], v[2], v[3], v[4], permanent ? v[5] : -1 };
	return true;
}

static bool maker(const struct sx *m, struct census_maker *out)
{
	const struct sx *p = sx_nth(m, 1);

	if (sx_len(m) != 3 || !count(sx_nth(m, 0), &out->count) || p == NULL || p->type != SX_BOOL ||
	    !sx_is_string(sx_nth(m, 2)))
		return false;
	out->permanent = p->u.b;
	kahua_eval_first_line(sx_text(sx_nth(m, 2)), out->label, sizeof out->label);
	return true;
}

/*
 * Version 1 (the program before 2026-12) counted every entry's maker: no
 * STRIDE.  Both are read, so a recording or a worker answering either
 * works.
 */
static bool census_value(const struct sx *v, struct census *c)
{
	long long version, now;
	size_t at;
	const struct sx *ms;

	if (!sx_is_symbol(sx_nth(v, 0), "census") || !count(sx_nth(v, 1), &version) ||
	    (version != 1 && version != 2) || sx_len(v) != (version == 1 ? 10u : 11u))
		return false;
	at = version == 1 ? 9 : 10;
	ms = sx_nth(v, at);
	c->stride = 1;
	if (!count(sx_nth(v, 2), &c->elapsed_us) || !count(sx_nth(v, 3), &now) ||
	    !count(sx_nth(v, 4), &c->timeout_s) || !ages(sx_nth(v, 5), &c->conts, true) ||
	    !ages(sx_nth(v, 6), &c->sessions, false) || !heap(sx_nth(v, 7), &c->heap, &c->heap_used) ||
	    !count(sx_nth(v, 8), &c->groups) ||
	    (version == 2 && (!count(sx_nth(v, 9), &c->stride) || c->stride < 1)) ||
	    !sx_is_list(ms) || sx_len(ms) > CENSUS_MAKERS_MAX)
		return false;
	for (size_t i = 0; i < sx_len(ms); i++)
		if (!maker(sx_nth(ms, i), &c->makers[i]))
			return false;
	c->nmakers = sx_len(ms);
	return true;
}

static bool sweep_value(const struct sx *v, struct sweep_result *s)
{
	const struct sx *ss = sx_nth(v, 3);

	if (sx_len(v) != 8 || !sx_is_symbol(sx_nth(v, 0), "sweep") ||
	    !count(sx_nth(v, 2), &s->swept_conts) || ss == NULL ||
	    !(ss->type == SX_BOOL ? !ss->u.b : count(ss, &s->swept_sessions)) ||
	    !count(sx_nth(v, 4), &s->conts_after) || !count(sx_nth(v, 5), &s->sessions_after) ||
	    !heap(sx_nth(v, 6), &s->heap_before, &s->heap_used_before) ||
	    !heap(sx_nth(v, 7), &s->heap_after, &s->heap_used_after))
		return false;
	return true;
}

/*
 * The value text of a reply read and checked by ok(); EVAL_UNREADABLE
 * with why naming what, quoting the start of the value.
 */
static enum eval_outcome read_value(const char *buf, size_t len, const char *what,
				    bool (*ok)(const struct sx *, void *), void *out,
				    char *why, size_t size)
{
	struct sx *body, *v = NULL;
	const struct sx *text;
	enum eval_outcome rc = kahua_eval_text(buf, len, &body, &text, why, size);
	size_t pos = 0;
	char shown[64];

	if (rc == EVAL_OK &&
	    (sx_read(sx_text(text), text->u.atom.len, &pos, &sx_default_limits, &v, NULL) != SX_OK ||
	     !ok(v, out))) {
		kahua_eval_first_line(sx_text(text), shown, sizeof shown);
		snprintf(why, size, "eval value \"%s\" is not a %s", shown, what);
		rc = EVAL_UNREADABLE;
	}
	sx_free(v);
	sx_free(body);
	return rc;
}

static bool census_ok(const struct sx *v, void *out)
{
	return census_value(v, out);
}

static bool sweep_ok(const struct sx *v, void *out)
{
	return sweep_value(v, out);
}

static const struct census census_unknown = {
	.outcome = EVAL_NO_ANSWER, .elapsed_us = -1, .timeout_s = -1,
	.conts = { -1, -1, -1, -1, -1, -1 }, .sessions = { -1, -1, -1, -1, -1, -1 },
	.heap = -1, .heap_used = -1, .groups = -1, .stride = -1,
};

static const struct sweep_result sweep_unknown = {
	.outcome = EVAL_NO_ANSWER, .swept_conts = -1, .swept_sessions = -1, .conts_after = -1,
	.sessions_after = -1, .heap_before = -1, .heap_used_before = -1, .heap_after = -1,
	.heap_used_after = -1,
};

void kahua_census_parse(const char *buf, size_t len, struct census *c)
{
	struct census got = census_unknown;
	char why[sizeof c->why] = "";
	enum eval_outcome rc = read_value(buf, len, "census", census_ok, &got, why, sizeof why);

	*c = rc == EVAL_OK ? got : census_unknown;
	c->outcome = rc;
	memcpy(c->why, why, sizeof why);
}

void kahua_sweep_parse(const char *buf, size_t len, struct sweep_result *s)
{
	struct sweep_result got = sweep_unknown;
	char why[sizeof s->why] = "";
	enum eval_outcome rc = read_value(buf, len, "sweep", sweep_ok, &got, why, sizeof why);

	*s = rc == EVAL_OK ? got : sweep_unknown;
	s->outcome = rc;
	memcpy(s->why, why, sizeof why);
}

/* Why a worker's reply is missing, and how. */
static enum eval_outcome missing(const struct eval_reply *r, char *why, size_t size)
{
	snprintf(why, size, "%s", r != NULL ? r->why : "eval: out of memory");
	return r != NULL ? r->outcome : EVAL_NO_ANSWER;
}

void kahua_census_workers(const struct kahua_site *site, const struct worker *ws, size_t n,
			  long long deadline_ms, struct census *out)
{
	struct eval_reply *r = kahua_eval_ask(site, ws, n, kahua_census_request, deadline_ms);

	for (size_t i = 0; i < n; i++) {
		if (r != NULL && r[i].buf != NULL) {
			kahua_census_parse(r[i].buf, r[i].len, &out[i]);
			continue;
		}
		out[i] = census_unknown;
		out[i].outcome = missing(r ? &r[i] : NULL, out[i].why, sizeof out[i].why);
	}
	kahua_eval_replies_free(r, n);
}

int kahua_sweep_workers(const struct kahua_site *site, const struct worker *ws, size_t n,
			long long conts_s, long long sessions_s, long long deadline_ms,
			struct sweep_result *out)
{
	char request[sizeof sweep_format + 96];
	struct eval_reply *r;

	if (kahua_sweep_request(request, sizeof request, conts_s, sessions_s) < 0)
		return -1;
	r = kahua_eval_ask(site, ws, n, request, deadline_ms);
	for (size_t i = 0; i < n; i++) {
		if (r != NULL && r[i].buf != NULL) {
			kahua_sweep_parse(r[i].buf, r[i].len, &out[i]);
			continue;
		}
		out[i] = sweep_unknown;
		out[i].outcome = missing(r ? &r[i] : NULL, out[i].why, sizeof out[i].why);
	}
	kahua_eval_replies_free(r, n);
	return 0;
}
