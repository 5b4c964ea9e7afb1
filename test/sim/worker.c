/*
 * worker.c: the worker role (kahua-server.scm).
 *
 *   kahua-sim kahua-server.scm -S SITE --sockdir DIR --worker-delay MS
 *             [--slow-start MS] [app-servers :arguments ...] TYPE/TYPE.kahua
 *
 * Sleeps its start-up delay, listens on <sockdir>/<worker-id>, prints the
 * id on stdout (a pipe to the supervisor), then answers each connection
 * with "HEADER\nBODY\n" and closes.  It reads exactly one header and one
 * body and nothing more, so a client that sent extra bytes sees its reply
 * followed by ECONNRESET, as with a real Kahua worker.
 *
 * Arguments understood (from app-servers or from the supervisor's
 * faults): --leak-mb N, --conts-per-view N, --entries N,
 * --cont-age-s N (new continuations are N seconds old: their timestamps
 * are backdated, for the census's ages and the sweep),
 * --eval-reply error|garbage|silent, --ignore-term, --die-at-start,
 * --start-delay MS,
 * --request-ms MS (time spent on each page request; the last one given
 * wins, so a type's own argument overrides the supervisor's default).
 *
 * Like kahua-server, it loads SITE/app/TYPE/TYPE.kahua when there is one:
 * the simulator does not evaluate it, but reads it with the S-expression
 * reader, and a file that ends inside a list or a string does not load.
 * Then, as Kahua does, it logs the error to kahua-spvr.log, prints
 * "ERROR loading module" instead of an id and exits 0.
 *
 * An eval request (header ("x-kahua-eval" "#t")) is answered as a real
 * Kahua worker answers the recorded expressions: the continuation and
 * state-session counts, gc-stat, both with gc-stat in one list, the
 * site's timeout-mins, integer arithmetic, the program's grace after
 * SIGTERM (grace.c); anything else gets the recorded ERROR reply.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOAD_FAIL_EXIT_MS 300

struct wopts {
	const char *site;
	const char *sockdir;
	const char *type_file;
	char type[128];
	const char *eval_reply;         /* NULL, "error", "garbage" or "silent" */
	long delay_ms, slow_ms, leak_mb, request_ms, conts_per_view, entries, cont_age_s;
	bool ignore_term, die_at_start;
};

static struct wopts opts;

/* For the SIGTERM handler: the socket to remove. */
static int term_dirfd = -1;
static char term_name[SIM_WID_MAX];
static volatile sig_atomic_t term_ready;

static long leak_mb;
static pthread_mutex_t leak_mu = PTHREAD_MUTEX_INITIALIZER;
static void **leaked;           /* kept reachable: the leak is the point */
static size_t nleaked, capleaked;

/* What kahua-server's finish-server comes to: the socket goes, the worker exits. */
static void finish(int sig)
{
	(void)sig;
	if (term_ready)
		unlinkat(term_dirfd, term_name, 0);
	_exit(0);
}

static void on_term(int sig)
{
	if (!grace_on_term())
		finish(sig);
}

/* ------------------------------------------------------------- options */

static void need_value(int i, int argc, const char *flag)
{
	if (i + 1 >= argc - 1)
		die(flag, "needs a value");
}

static long number(const char *flag, const char *v)
{
	long n;

	if (!parse_long(v, 0, 1000000, &n))
		die(flag, "not a number from 0 to 1000000");
	return n;
}

static const char *eval_mode(const char *v)
{
	if (strcmp(v, "error") != 0 && strcmp(v, "garbage") != 0 && strcmp(v, "silent") != 0)
		die("--eval-reply", "not error, garbage or silent");
	return v;
}

static void parse(int argc, char **argv, struct wopts *o)
{
	long start_delay = -1;

	memset(o, 0, sizeof *o);
	o->delay_ms = 550;
	o->entries = 1;
	if (argc < 3)
		die(SIM_WORKER_SCRIPT, "no TYPE/TYPE.kahua argument");
	o->type_file = argv[argc - 1];
	for (int i = 2; i < argc - 1; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--ignore-term") == 0)
			o->ignore_term = true;
		else if (strcmp(a, "--die-at-start") == 0)
			o->die_at_start = true;
		else if (strcmp(a, "-S") == 0 || strcmp(a, "--sockdir") == 0 ||
			 strcmp(a, "--worker-delay") == 0 || strcmp(a, "--slow-start") == 0 ||
			 strcmp(a, "--leak-mb") == 0 || strcmp(a, "--start-delay") == 0 ||
			 strcmp(a, "--conts-per-view") == 0 || strcmp(a, "--eval-reply") == 0 ||
			 strcmp(a, "--entries") == 0 || strcmp(a, "--request-ms") == 0 ||
			 strcmp(a, "--cont-age-s") == 0) {
			need_value(i, argc, a);
			const char *v = argv[++i];

			if (strcmp(a, "-S") == 0)
				o->site = v;
			else if (strcmp(a, "--eval-reply") == 0)
				o->eval_reply = eval_mode(v);
			else if (strcmp(a, "--conts-per-view") == 0)
				o->conts_per_view = number(a, v);
			else if (strcmp(a, "--entries") == 0)
				o->entries = number(a, v);
			else if (strcmp(a, "--cont-age-s") == 0)
				o->cont_age_s = number(a, v);
			else if (strcmp(a, "--sockdir") == 0)
				o->sockdir = v;
			else if (strcmp(a, "--worker-delay") == 0)
				o->delay_ms = number(a, v);
			else if (strcmp(a, "--slow-start") == 0)
				o->slow_ms = number(a, v);
			else if (strcmp(a, "--leak-mb") == 0)
				o->leak_mb = number(a, v);
			else if (strcmp(a, "--start-delay") == 0)
				start_delay = number(a, v);
			else if (strcmp(a, "--request-ms") == 0)
				o->request_ms = number(a, v);
		}
		/* anything else: an application argument we do not know */
	}
	if (o->sockdir == NULL)
		die(SIM_WORKER_SCRIPT, "no --sockdir");
	if (start_delay >= 0)
		o->delay_ms = start_delay;
	const char *slash = strchr(o->type_file, '/');
	size_t n = slash ? (size_t)(slash - o->type_file) : strlen(o->type_file);

	if (n == 0 || n >= sizeof o->type)
		die(o->type_file, "not TYPE/TYPE.kahua");
	memcpy(o->type, o->type_file, n);
	o->type[n] = '\0';
}

/* ------------------------------------------------------------- replies */

static void put(struct sx_buf *b, const char *s)
{
	xbuf_printf_check(sx_buf_append(b, s, strlen(s)));
}

static void put_str(struct sx_buf *b, const char *s)
{
	xbuf_printf_check(sx_write_string(b, s, strlen(s)));
}

static void leak(void)
{
	size_t size = (size_t)leak_mb * 1024 * 1024;
	char *p;

	if (size == 0)
		return;
	p = xmalloc(size);
	memset(p, 0x5a, size);          /* touch every page: RSS grows */
	pthread_mutex_lock(&leak_mu);
	if (nleaked == capleaked) {
		capleaked = capleaked ? capleaked * 2 : 16;
		leaked = xrealloc(leaked, capleaked * sizeof *leaked);
	}
	leaked[nleaked++] = p;
	pthread_mutex_unlock(&leak_mu);
}

/* ("x-kahua-session-domain" SCHEME HOST PORT "/") from the server URI. */
static void session_domain(struct sx_buf *b, const struct sx *hdr)
{
	const struct sx *u = sx_nth(sx_alist_get(hdr, "x-kahua-server-uri"), 1);
	const char *uri = sx_is_string(u) ? sx_text(u) : NULL;
	const char *sep = uri ? strstr(uri, "://") : NULL;

	put(b, "(\"x-kahua-session-domain\" ");
	if (sep == NULL) {
		put(b, "\"http\" #f #f \"/\")");
		return;
	}
	const char *host = sep + 3;
	size_t hl = strcspn(host, ":/");
	char *scheme = xasprintf("%.*s", (int)(sep - uri), uri);
	char *h = xasprintf("%.*s", (int)hl, host);
	const char *pstart = host[hl] == ':' ? host + hl + 1 : "";
	char *ps = xasprintf("%.*s", (int)strcspn(pstart, "/"), pstart);
	long port;

	put_str(b, scheme);
	put(b, " ");
	put_str(b, h);
	if (parse_long(ps, 0, 65535, &port))
		xbuf_printf_check(sx_buf_printf(b, " %ld \"/\")", port));
	else
		put(b, " #f \"/\")");
	free(scheme);
	free(h);
	free(ps);
}

static bool skip_echo(const struct sx *entry)
{
	static const char *const skipped[] = {
		"x-kahua-metavariables", "x-kahua-sgsid", "x-kahua-session-domain"
	};
	const struct sx *car = sx_nth(entry, 0);

	for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
		if (sx_is_string(car) && strcmp(sx_text(car), skipped[i]) == 0)
			return true;
	return false;
}

static void reply_header(struct sx_buf *b, const struct sx *hdr, bool not_found)
{
	char gsid[16];

	base36(rand_u64(), gsid, sizeof gsid);
	put(b, "(");
	session_domain(b, hdr);
	xbuf_printf_check(sx_buf_printf(b, " (\"x-kahua-sgsid\" \"%s\")", gsid));
	for (size_t i = 0; i < sx_len(hdr); i++) {
		if (skip_echo(sx_nth(hdr, i)))
			continue;
		put(b, " ");
		xbuf_printf_check(sx_write(b, sx_nth(hdr, i)));
	}
	if (not_found)
		put(b, " (\"Status\" \"404 Not Found\")");
	put(b, ")\n");
}

/* ("<" TAG () ">" TEXT "</" TAG "\n>") */
static void element(struct sx_buf *b, const char *tag, const char *text)
{
	xbuf_printf_check(sx_buf_printf(b, "(\"<\" %s () \">\" ", tag));
	put_str(b, text);
	xbuf_printf_check(sx_buf_printf(b, " \"</\" %s \"\\n>\")", tag));
}

/* The page in Kahua's nested-list form; for "hello" exactly the page the
 * recorded Kahua "hello" application gives. */
static void page(struct sx_buf *b, const char *type, bool not_found)
{
	char *cap = xstrdup(type);
	char *title, *para;

	cap[0] = (char)(cap[0] >= 'a' && cap[0] <= 'z' ? cap[0] - 'a' + 'A' : cap[0]);
	title = not_found ? xstrdup("Not Found") : xasprintf("%s, world!", cap);
	para = not_found ? xasprintf("no such page in %s", type) :
	       xasprintf("%s, world", type);
	put(b, "(\"<\" html () \">\" (\"<\" head () \">\" ");
	element(b, "title", title);
	put(b, " \"</\" head \"\\n>\") (\"<\" body ((\" \" bgcolor \"='\" \"white\" \"'\")) \">\" ");
	element(b, "h1", title);
	put(b, " ");
	element(b, "h2", not_found ? "404" : cap);
	put(b, " ");
	element(b, "p", para);
	put(b, " \"</\" body \"\\n>\") \"</\" html \"\\n>\")\n");
	free(cap);
	free(title);
	free(para);
}

/* kahua-admin's eval: integers and + - * only; anything else is #<undef>. */
static bool eval_int(const struct sx *x, long long *v)
{
	const char *op = sx_text(sx_nth(x, 0));
	long long acc, a;

	if (x->type == SX_INT) {
		*v = x->u.i;
		return true;
	}
	if (!sx_is_symbol(sx_nth(x, 0), NULL) || strlen(op) != 1 || !strchr("+-*", op[0]))
		return false;
	acc = op[0] == '*' ? 1 : 0;
	for (size_t i = 1; i < sx_len(x); i++) {
		if (!eval_int(sx_nth(x, i), &a))
			return false;
		if (op[0] == '*')
			acc *= a;
		else if (op[0] == '-' && (i > 1 || sx_len(x) == 2))
			acc -= a;
		else
			acc += a;
	}
	*v = acc;
	return true;
}

/* What the worker holds: held.c. */
static long conts_per_view;
static long timeout_mins = 60;
#define SGSIDS_MAX 16
static char *sgsids[SGSIDS_MAX];        /* state sessions named by eval requests */
static pthread_mutex_t sgsid_mu = PTHREAD_MUTEX_INITIALIZER;

/* A page: a new state session (no cookie), and the type's continuations. */
static void page_view(bool not_found)
{
	held_view(not_found ? 0 : conts_per_view);
}

/* An eval's state session: the one its sgsid names (made once), else a new one. */
static void eval_session(const struct sx *hdr)
{
	const struct sx *id = sx_nth(sx_alist_get(hdr, "x-kahua-sgsid"), 1);
	size_t i = 0;

	pthread_mutex_lock(&sgsid_mu);
	while (sx_is_string(id) && i < SGSIDS_MAX && sgsids[i] != NULL &&
	       strcmp(sgsids[i], sx_text(id)) != 0)
		i++;
	if (!sx_is_string(id) || i == SGSIDS_MAX) {
		held_session();
	} else if (sgsids[i] == NULL) {
		sgsids[i] = xstrdup(sx_text(id));
		held_session();
	}
	pthread_mutex_unlock(&sgsid_mu);
}

/* The expressions a real worker was recorded answering. */
enum { E_COUNTS, E_COMBINED, E_GC, E_TIMEOUT, E_N, E_CENSUS };
static const char *const expr_text[E_N] = {
	"(with-module kahua.session (list (hash-table-num-entries (class-slot-ref <session-cont> "
	"'key->session)) (hash-table-num-entries (state-sessions))))",
	"(with-module kahua.session (list (hash-table-num-entries (class-slot-ref <session-cont> "
	"'key->session)) (hash-table-num-entries (state-sessions)) (gc-stat)))",
	"(gc-stat)",
	"(ref (kahua-config) 'timeout-mins)",
};
static struct sx *expr[E_N];
static pthread_once_t expr_once = PTHREAD_ONCE_INIT;

static void expr_init(void)
{
	for (int i = 0; i < E_N; i++) {
		size_t pos = 0;

		if (sx_read(expr_text[i], strlen(expr_text[i]), &pos, &sx_default_limits,
			    &expr[i], NULL) != SX_OK)
			die("eval", "bad built-in expression");
	}
}

static int expr_kind(const struct sx *body)
{
	pthread_once(&expr_once, expr_init);
	for (int i = 0; i < E_N; i++)
		if (sx_equal(body, expr[i]))
			return i;
	return held_is_census(body) ? E_CENSUS : -1;
}

/*
 * gc-stat's answer (held.c models the heap): about 32 MB fresh (recorded
 * 25-33 MB), plus what the application keeps: the leak, and 8 KiB per
 * continuation (the lab's wiki closures).
 */
static unsigned long long leaked_bytes(void)
{
	unsigned long long b;

	pthread_mutex_lock(&leak_mu);
	b = (unsigned long long)nleaked * (unsigned long long)leak_mb << 20;
	pthread_mutex_unlock(&leak_mu);
	return b;
}

static char *gc_stat_text(void)
{
	return held_gc_stat(leaked_bytes());
}

static char *value_text(int kind)
{
	long long conts, sessions;
	char *gc, *v;

	if (kind == E_TIMEOUT)
		return xasprintf("%ld", timeout_mins);
	if (kind == E_CENSUS)
		return held_census(leaked_bytes(), timeout_mins, opts.type);
	gc = gc_stat_text();
	if (kind == E_GC)
		return gc;
	held_counts(&conts, &sessions);
	v = kind == E_COUNTS ? xasprintf("(%lld %lld)", conts, sessions) :
	    xasprintf("(%lld %lld %s)", conts, sessions, gc);
	free(gc);
	return v;
}

/* The stack trace a real worker appends to an eval's error message. */
static const char eval_trace[] =
	"\nStack Trace:\n_______________________________________\n  0  thunk\n  1  (proc out)\n"
	"  2  (kahua-error-string e #t)\n        at \"/usr/local/lib/kahua/kahua/server.scm\":328\n"
	"  3  (eval body env)\n        at \"/usr/local/lib/kahua/kahua/server.scm\":329\n"
	"  4  thunk\n  5  thunk\n"
	"  6  (with-error-to-port error-output (cut with-output-to-port std ...\n"
	"        at \"/usr/local/lib/kahua/kahua/server.scm\":240\n  7  (thunk)\n"
	"  8  (%parameterize/dynwind (list kahua-current-context) (list `(( ...\n"
	"        expanded from (parameterize ((kahua-current-context `((\"session-sta\"...\n"
	"        at \"/usr/local/lib/kahua/kahua/server.scm\":236\n  9  (thunk)\n"
	" 10  (kahua-default-handler header body reply-cont default-handler ...\n"
	"        at \"/usr/local/lib/kahua/kahua-server.scm\":110\n 11  (proc db)\n"
	"        at \"/usr/local/lib/kahua/kahua/persistence.scm\":1516\n"
	" 12  (with-error-handler (lambda (e) (cond (else (kahua:log-format ...\n"
	"        at \"libmacro.scm\":526\n"
	"        expanded from (guard (e (else (kahua:log-format \"[server]: Unknown \"...\n"
	"        at \"/usr/local/lib/kahua/kahua-server.scm\":101\n 13  thunk\n 14  thunk\n"
	" 15  (proc (car xs))\n"
	" 16  (for-each (^h (apply (car h) (cdr h))) (append (pick-handlers ...\n"
	"        at \"/usr/local/gauche/share/gauche-0.98/0.9.15-p2/lib/gauche/selector.scm\":121\n"
	" 17  (selector-select selector)\n        at \"/usr/local/lib/kahua/kahua-server.scm\":163\n"
	" 18  (do ((#:limit1615 100) (_ 0 (+ _ 1))) ((>= _ #:limit1615) #<u ...\n"
	"        at \"libmacro.scm\":927\n"
	"        expanded from (dotimes (_ 100) (selector-select selector))\n"
	"        at \"/usr/local/lib/kahua/kahua-server.scm\":162\n 19  (proc db)\n"
	"        at \"/usr/local/lib/kahua/kahua/persistence.scm\":1483\n 20  (thunk)\n"
	" 21  (run-server worker-id sockaddr profile)\n"
	"        at \"/usr/local/lib/kahua/kahua-server.scm\":237\n"
	" 22  (call/cc (lambda (bye) (define (finish-server sig) (kahua:log ...\n"
	"        at \"/usr/local/lib/kahua/kahua-server.scm\":226\n 23  (main args)\n";

/* Gauche's complaint about an expression the simulator does not know. */
static char *eval_error(const struct sx *body)
{
	const struct sx *head = sx_is_list(body) ? sx_nth(body, 0) : body;
	const struct sx *arg = sx_nth(sx_nth(body, 1), 1);      /* x of (car 'x) */
	struct sx_buf w = { 0 };
	char *msg;

	if ((sx_is_symbol(head, "car") || sx_is_symbol(head, "cdr")) && sx_len(body) == 2 &&
	    sx_is_list(arg) && sx_len(arg) == 0)
		return xstrdup("*** ERROR: pair required, but got ()");
	if (sx_is_symbol(head, NULL))
		return xasprintf("*** UNBOUND-VARIABLE-ERROR: unbound variable: %s", sx_text(head));
	xbuf_printf_check(sx_write(&w, body));
	msg = xasprintf("*** ERROR: invalid application: %s", w.s);
	sx_buf_free(&w);
	return msg;
}

static void put_eval_error(struct sx_buf *b, const char *msg)
{
	char *text = xasprintf("%s%s", msg, eval_trace);

	put(b, "((\"x-kahua-status\" \"ERROR\"))\n");
	put_str(b, text);
	put(b, "\n");
	free(text);
}

static void eval_reply(struct sx_buf *b, const struct sx *hdr, const struct sx *body)
{
	int kind = expr_kind(body);
	long long v = 0, sweep_c, sweep_s;
	char *text;

	eval_session(hdr);
	if (kind < 0 && grace_is_expr(body, &v)) {
		grace_set(v);
		text = xasprintf("(grace 1 %lld)", v);
	} else if (kind < 0 && held_is_sweep(body, &sweep_c, &sweep_s)) {
		text = held_sweep(leaked_bytes(), sweep_c, sweep_s);
	} else if (kind < 0 && !eval_int(body, &v)) {
		text = eval_error(body);
		put_eval_error(b, text);
		free(text);
		return;
	} else {
		text = kind < 0 ? xasprintf("%lld", v) : value_text(kind);
	}
	put(b, "((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" ");
	put_str(b, text);
	put(b, ")\n");
	free(text);
}

/*
 * --eval-reply: a worker whose evals fail (an application that shadows
 * kahua.session), answer garbage, or are read and never answered: the
 * connection is kept open, unanswered, while the worker goes on serving
 * everything else.  false: do not answer at all.
 */
static bool eval_fault(int fd, struct sx_buf *b, const char *mode)
{
	if (strcmp(mode, "silent") == 0) {
		if (fcntl(fd, F_DUPFD_CLOEXEC, 3) < 0)     /* kept open on purpose */
			warnx2("silent eval", strerror(errno));
		return false;
	}
	if (strcmp(mode, "garbage") == 0) {
		put(b, ")))\xff garbage ((\n");
		return true;
	}
	put_eval_error(b, "*** UNBOUND-VARIABLE-ERROR: unbound variable: state-sessions");
	return true;
}

static void answer(int fd, const struct msg *m, const char *type)
{
	struct sx_buf b = { 0 };
	const struct sx *pi = sx_nth(sx_alist_get(m->hdr, "x-kahua-path-info"), 1);
	bool not_found = sx_len(pi) > 1;        /* a continuation id we never made */

	if (sx_alist_get(m->hdr, "x-kahua-eval") != NULL && opts.eval_reply != NULL) {
		if (!eval_fault(fd, &b, opts.eval_reply))
			return;
	} else if (sx_alist_get(m->hdr, "x-kahua-eval") != NULL) {
		eval_reply(&b, m->hdr, m->body);
	} else {
		sleep_ms(opts.request_ms);
		leak();
		page_view(not_found);
		reply_header(&b, m->hdr, not_found);
		page(&b, type, not_found);
	}
	if (send_all(fd, b.s, b.len) != 0)
		warnx2("worker reply", strerror(errno));
	sx_buf_free(&b);
}

/* ------------------------------------------------------------- serving */

static bool has_opaque(const struct sx *x)
{
	if (x == NULL || x->type == SX_OPAQUE)
		return true;
	for (size_t i = 0; i < sx_len(x); i++)
		if (has_opaque(sx_nth(x, i)))
			return true;
	return false;
}

/* What Gauche's read in the worker would take: an alist header and
 * readable data ("#<eof>" and friends are read errors there). */
static bool acceptable(const struct msg *m)
{
	if (!sx_is_list(m->hdr) || has_opaque(m->hdr) || has_opaque(m->body))
		return false;
	for (size_t i = 0; i < sx_len(m->hdr); i++)
		if (!sx_is_list(sx_nth(m->hdr, i)))
			return false;
	return true;
}

static sigset_t term_signals;

/*
 * One request at a time, as a Kahua worker serves them: the ones behind
 * it wait in the listen backlog.  Termination signals are blocked while
 * a request is handled, so SIGTERM lets the current one finish; the
 * connections still queued are then reset when the process exits.
 */
static void serve_one(int fd)
{
	struct msg m;

	msg_read(fd, true, SIM_REQ_MAX, acceptable, &m);
	if (sigprocmask(SIG_BLOCK, &term_signals, NULL) != 0)
		die_errno("sigprocmask");
	if (m.st == MSG_OK)
		answer(fd, &m, opts.type);
	close(fd);      /* unread input left: the peer sees a reset */
	msg_free(&m);
	if (sigprocmask(SIG_UNBLOCK, &term_signals, NULL) != 0)
		die_errno("sigprocmask");
}

static void serve(int lfd)
{
	sigemptyset(&term_signals);
	sigaddset(&term_signals, SIGTERM);
	sigaddset(&term_signals, SIGINT);
	sigaddset(&term_signals, SIGHUP);
	sigaddset(&term_signals, SIGALRM);      /* a grace running out (grace.c) */
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				sleep_ms(100);  /* out of descriptors: let some close */
			continue;
		}
		serve_one(fd);
	}
}

/* :timeout-mins as the worker reads it from the site's kahua.conf. */
static void load_timeout_mins(const char *root)
{
	struct site site;
	char err[256];

	if (root != NULL && site_load(root, &site, err, sizeof err) == 0) {
		timeout_mins = site.timeout_mins;
		site_free(&site);
	}
}

static void make_wid(char *wid, size_t size)
{
	char a[16], b[16];

	/* Like Kahua: the pid and a random number, both in base 36. */
	base36((unsigned long long)getpid(), a, sizeof a);
	base36(rand_u64() % 60466176ULL, b, sizeof b);     /* 36^5 */
	snprintf(wid, size, "%s:%s", a, b);
}

static void setup_signals(bool ignore_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		die_errno("sigaction");
	sa.sa_handler = ignore_term ? SIG_IGN : on_term;
	if (sigaction(SIGTERM, &sa, NULL) != 0)
		die_errno("sigaction");
	grace_setup(finish);
}

static void announce(const char *wid)
{
	char line[SIM_WID_MAX + 1];
	int n = snprintf(line, sizeof line, "%s\n", wid);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (write_all(1, line, (size_t)n) != 0)
		die_errno("stdout");
	/* The supervisor stops reading after the id. */
	if (null < 0 || dup2(null, 1) < 0)
		die_errno("/dev/null");
	close(null);
}

/* Gauche's report of the read error: "Read error at PATH:line N: ...". */
static char *read_error(const char *path, const char *text, size_t len,
			const struct sx_error *se, size_t *line)
{
	size_t lines = 1;
	const char *opened = strstr(se->msg, "opened at line ");

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	*line = lines;
	if (strstr(se->msg, "string") != NULL)
		return xasprintf("Read error at \"%s\":line %zu: EOF encountered in a string literal",
				 path, lines);
	return xasprintf("Read error at \"%s\":line %zu: EOF inside a list (starting from line %s)",
			 path, lines, opened != NULL ? opened + strlen("opened at line ") : "1");
}

/*
 * The application's file, read datum by datum: NULL when it loads (or is
 * absent: the simulator answers for the type itself), else Gauche's
 * error message.  The reader knows less syntax than Gauche's (no
 * vectors, characters, #| |#): what it cannot read is not held against
 * the file, only an end of input inside a datum is.
 */
static char *load_error(const char *path, size_t *line)
{
	size_t len, pos = 0;
	char *text = read_file(path, 16 * 1024 * 1024, &len), *msg = NULL;

	if (text == NULL)
		return errno == ENOENT ? NULL : xasprintf("%s: %s", path, strerror(errno));
	for (;;) {
		struct sx *x = NULL;
		struct sx_error se;
		enum sx_result r = sx_read(text, len, &pos, &sx_default_limits, &x, &se);

		sx_free(x);
		if (r == SX_INCOMPLETE)
			msg = read_error(path, text, len, &se, line);
		if (r != SX_OK)
			break;
	}
	free(text);
	return msg;
}

/* What kahua-server does when its module does not load. */
static _Noreturn void fail_to_load(const char *path, const char *err, size_t line)
{
	struct site site;
	char why[8192];

	if (kahua_1_0()) {
		/* Gauche's own report on stderr, the supervisor's: no log line. */
		fprintf(stderr, "*** READ-ERROR: %s\n    While loading \"%s\" at line %zu\n", err, path, line);
		fflush(stderr);
	} else if (opts.site != NULL && site_load(opts.site, &site, why, sizeof why) == 0) {
		char *log = xasprintf("%s/kahua-spvr.log", site.logdir);

		log_open(log, "kahua-server.scm");
		free(log);
		site_free(&site);
	}
	log_msg("[server]: Failed to load modules.");
	log_msg("*** READ-ERROR: %s", err);
	log_msg("    While loading \"%s\" at line %zu", path, line);
	log_msg("Stack Trace:");
	log_msg("_______________________________________");
	printf("ERROR loading module\n");
	fflush(stdout);
	/* gosh takes a moment to exit: the supervisor lists the pid meanwhile. */
	sleep_ms(LOAD_FAIL_EXIT_MS);
	exit(0);
}

_Noreturn void worker_main(int argc, char **argv)
{
	struct sockdir sd;
	char wid[SIM_WID_MAX];
	int lfd;

	parse(argc, argv, &opts);
	if (opts.die_at_start)
		exit(3);
	leak_mb = opts.leak_mb;
	conts_per_view = opts.conts_per_view;
	held_init(opts.entries, opts.cont_age_s);
	load_timeout_mins(opts.site);
	setup_signals(opts.ignore_term);
	sleep_ms(opts.delay_ms + opts.slow_ms);
	if (opts.site != NULL) {
		char *path = xasprintf("%s/app/%s/%s.kahua", opts.site, opts.type, opts.type);
		size_t line = 0;
		char *err = load_error(path, &line);

		if (err != NULL)
			fail_to_load(path, err, line);
		free(path);
	}
	if (sockdir_open(&sd, opts.sockdir) != 0)
		die_errno(opts.sockdir);
	make_wid(wid, sizeof wid);
	term_dirfd = sd.fd;
	snprintf(term_name, sizeof term_name, "%s", wid);
	term_ready = 1;
	/* A stale one from a recycled pid and an unlucky random number. */
	if (unlinkat(sd.fd, wid, 0) != 0 && errno != ENOENT)
		die_errno(wid);
	lfd = usock_listen(&sd, wid, 0770);
	if (lfd < 0)
		die_errno(sockdir_path(&sd, wid));
	announce(wid);
	serve(lfd);
	exit(0);
}
