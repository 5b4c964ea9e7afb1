/*
 * kahua_grace.c: the grace expression, and what a worker answers to it.
 */
#include "kahua_grace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kahua_eval.h"

/*
 * Checked on Kahua 1.1_pre19, Gauche 0.9.15 (test/vectors/grace.json).
 * Kahua sets one handler, finish-server, for HUP, INT and TERM, so SIGINT's
 * is the one to put back, whatever a previous grace left on SIGTERM.  The
 * guard keeps a failure inside the handler from escaping into the worker's
 * loop: it finishes as Kahua would.  Answer: (grace 1 MS), or (grace 0 MS)
 * when there is no handler to put back or no threads.  The three %lld are
 * the only variable parts, one validated integer.
 */
static const char grace_format[] =
	"((\"x-kahua-eval\" \"#t\") (\"x-kahua-sgsid\" \"kahua-restarter\"))\n"
	"(let ((finish (get-signal-handler SIGINT))\n"
	"      (armed #f))\n"
	"  (if (or (not (procedure? finish)) (eq? ((with-module gauche.threads gauche-thread-type)) 'none))\n"
	"      (list 'grace 0 %lld)\n"
	"      (begin\n"
	"        (set-signal-handler! SIGTERM\n"
	"          (lambda (sig)\n"
	"            (guard (e (else (finish sig)))\n"
	"              (unless armed\n"
	"                (set! armed #t)\n"
	"                ((with-module gauche.threads thread-start!)\n"
	"                 ((with-module gauche.threads make-thread)\n"
	"                  (lambda ()\n"
	"                    ((with-module gauche.threads thread-sleep!) (/ %lld 1000.0))\n"
	"                    (set-signal-handler! SIGTERM finish)\n"
	"                    (sys-kill (sys-getpid) SIGTERM))))))))\n"
	"        (list 'grace 1 %lld))))";

int kahua_grace_request(char *buf, size_t size, long long ms)
{
	int n;

	if (ms < 1 || ms > GRACE_MAX_MS)
		return -1;
	n = snprintf(buf, size, grace_format, ms, ms, ms);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void not_armed(struct grace_result *res, const char *why, const char *what)
{
	res->armed = false;
	snprintf(res->why, sizeof res->why, "%s%s", why, what);
}

void kahua_grace_parse(const char *buf, size_t len, long long ms, struct grace_result *res)
{
	struct sx *body, *v = NULL;
	const struct sx *text;
	size_t pos = 0;
	char shown[64];

	*res = (struct grace_result){ .armed = false };
	if (kahua_eval_text(buf, len, &body, &text, res->why, sizeof res->why) != EVAL_OK) {
		sx_free(body);
		return;
	}
	if (sx_read(sx_text(text), text->u.atom.len, &pos, &sx_default_limits, &v, NULL) == SX_OK &&
	    sx_len(v) == 3 && sx_is_symbol(sx_nth(v, 0), "grace") &&
	    sx_nth(v, 1)->type == SX_INT && sx_nth(v, 2)->type == SX_INT &&
	    sx_nth(v, 2)->u.i == ms) {
		if (sx_nth(v, 1)->u.i == 1)
			res->armed = true;
		else
			not_armed(res, "the worker has no Kahua SIGINT handler to put back, or no threads", "");
	} else {
		kahua_eval_first_line(sx_text(text), shown, sizeof shown);
		not_armed(res, "grace answer is not (grace 1 MS): ", shown);
	}
	sx_free(v);
	sx_free(body);
}

void kahua_grace_workers(const struct kahua_site *site, const struct worker *ws, size_t n,
			 long long ms, long long deadline_ms, struct grace_result *res)
{
	char request[sizeof grace_format + 64];
	bool ok = kahua_grace_request(request, sizeof request, ms) == 0;
	struct eval_reply *r = ok ? kahua_eval_ask(site, ws, n, request, deadline_ms) : NULL;

	for (size_t i = 0; i < n; i++) {
		if (r != NULL && r[i].buf != NULL)
			kahua_grace_parse(r[i].buf, r[i].len, ms, &res[i]);
		else
			not_armed(&res[i], r != NULL ? r[i].why : ok ? "eval: out of memory" : "grace: bad duration", "");
	}
	kahua_eval_replies_free(r, n);
}
