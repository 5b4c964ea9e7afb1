/*
 * held.c: what a simulated worker holds, as Kahua's kahua.session tables
 * would: continuations with the time of their creation (permanent entries
 * apart), state sessions with theirs, and a GC heap that grows with them
 * and, as Boehm's, never shrinks: a sweep frees heap, it does not return it.
 *
 * The census and sweep expressions are recognised as recorded from a real
 * worker (test/vectors/census-sweep.json) and answered from these tables
 * in the recorded shapes.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The census expression as a real worker was sent it (census-sweep.json);
 * the program's own copy is kahua_census.c, and test_census checks that
 * both are the recorded one.
 */
const char held_census_expr[] =
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
	"        (cv (make-vector 6 0))\n"
	"        (wrap (closure-code ((with-module kahua.server make-parameterized-entry-closure) '() '() '() #f list)))\n"
	"        (env (with-module gauche.internal %closure-env->list))\n"
	"        (g (make-hash-table 'eq?))\n"
	"        (w (make-hash-table 'equal?)))\n"
	"   (hash-table-for-each (class-slot-ref <session-cont> 'key->session)\n"
	"     (lambda (k e)\n"
	"       (let* ((c (slot-ref e 'closure))\n"
	"              (p (slot-ref e 'permanent?))\n"
	"              (code (if (closure? c) (closure-code c) c))\n"
	"              (t (if (eq? code wrap) w g))\n"
	"              (key (if (eq? code wrap) (env c) code))\n"
	"              (cell (hash-table-get t key #f)))\n"
	"         (if p\n"
	"           (begin (vector-set! cv 0 (+ 1 (vector-ref cv 0))) (vector-set! cv 5 (+ 1 (vector-ref cv 5))))\n"
	"           (bucket cv (slot-ref e 'timestamp)))\n"
	"         (if cell\n"
	"           (set-car! cell (+ 1 (car cell)))\n"
	"           (hash-table-put! t key (list 1 p c k))))))\n"
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
	"     (list 'census 1 (- (us) t0) now to\n"
	"           (vector->list cv)\n"
	"           (if sage (vector->list sv 0 5) (list (vector-ref sv 0)))\n"
	"           (list (gv :total-heap-size) (gv :free-bytes))\n"
	"           (+ (hash-table-num-entries g) (hash-table-num-entries w))\n"
	"           makers))))";

/*
 * The sweep expression, recorded with 60 for both ages; any other whole
 * number of seconds is recognised in their place.
 */
const char held_sweep_expr[] =
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

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long long permanent;             /* define-entry links */
static time_t *conts;                   /* timestamps of the others */
static size_t nconts, capconts;
static time_t *sessions;
static size_t nsessions, capsessions;
static long backdate_s;                 /* --cont-age-s */
static unsigned long long heap_total;   /* never shrinks */

#define HEAP_BASE_USED (29ULL << 20)    /* a fresh worker: ~32 MB, ~29 in use (recorded) */
#define CONT_BYTES 8192ULL              /* the lab wiki's closures */

static void push(time_t **v, size_t *n, size_t *cap, time_t t)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = t;
}

void held_init(long entries, long cont_age_s)
{
	permanent = entries;
	backdate_s = cont_age_s;
}

void held_view(long n)
{
	time_t now = time(NULL);

	pthread_mutex_lock(&mu);
	push(&sessions, &nsessions, &capsessions, now);
	for (long i = 0; i < n; i++)
		push(&conts, &nconts, &capconts, now - backdate_s);
	pthread_mutex_unlock(&mu);
}

void held_session(void)
{
	pthread_mutex_lock(&mu);
	push(&sessions, &nsessions, &capsessions, time(NULL));
	pthread_mutex_unlock(&mu);
}

void held_counts(long long *c, long long *s)
{
	pthread_mutex_lock(&mu);
	*c = permanent + (long long)nconts;
	*s = (long long)nsessions;
	pthread_mutex_unlock(&mu);
}

/* The heap in use and its total (which only grows), leak included. */
static void heap(unsigned long long leak, unsigned long long *total, unsigned long long *used)
{
	*used = HEAP_BASE_USED + leak + (unsigned long long)(permanent + (long long)nconts) * CONT_BYTES;
	if (heap_total < *used + *used / 9)
		heap_total = *used + *used / 9;
	*total = heap_total;
}

char *held_gc_stat(unsigned long long leak)
{
	unsigned long long total, used;

	pthread_mutex_lock(&mu);
	heap(leak, &total, &used);
	pthread_mutex_unlock(&mu);
	return xasprintf("((:total-heap-size %llu) (:free-bytes %llu) (:bytes-since-gc 0)"
			 " (:total-bytes %llu))", total, total - used, total * 2);
}

/* Drop the timestamps older than age seconds; how many went. */
static long long sweep(time_t *v, size_t *n, long long age, time_t now)
{
	size_t kept = 0, was = *n;

	for (size_t i = 0; i < was; i++)
		if (!(v[i] < now - age))
			v[kept++] = v[i];
	*n = kept;
	return (long long)(was - kept);
}

/* Counts by age, as the census buckets them; v[0] the total. */
static void buckets(const time_t *t, size_t n, time_t now, long timeout_s, long long v[5])
{
	memset(v, 0, 5 * sizeof *v);
	for (size_t i = 0; i < n; i++) {
		long long a = (long long)(now - t[i]);

		v[0]++;
		v[a > timeout_s ? 4 : a < 60 ? 1 : a < 600 ? 2 : 3]++;
	}
}

char *held_census(unsigned long long leak, long timeout_mins, const char *type)
{
	time_t now = time(NULL);
	long long c[5], s[5];
	unsigned long long total, used;
	char *makers, *lam, *ent, *v;
	long groups;

	pthread_mutex_lock(&mu);
	buckets(conts, nconts, now, timeout_mins * 60, c);
	buckets(sessions, nsessions, now, timeout_mins * 60, s);
	heap(leak, &total, &used);
	pthread_mutex_unlock(&mu);
	/* The page's a/cont lambda and the define-entry, biggest first, as the census sorts them. */
	lam = c[0] > 0 ? xasprintf("(%lld #f \"(lambda () (line-page i text)) (%s.kahua:16)\")", c[0], type)
		       : xstrdup("");
	ent = permanent > 0 ? xasprintf("(%lld #t \"define-entry %s (%s.kahua:10)\")", permanent, type, type)
			    : xstrdup("");
	makers = c[0] >= permanent ? xasprintf("%s%s%s", lam, *lam && *ent ? " " : "", ent)
				   : xasprintf("%s%s%s", ent, *lam && *ent ? " " : "", lam);
	free(lam);
	free(ent);
	groups = (c[0] > 0) + (permanent > 0);
	v = xasprintf("(census 1 %lld %lld %ld (%lld %lld %lld %lld %lld %lld) (%lld %lld %lld %lld %lld)"
		      " (%llu %llu) %ld (%s))",
		      (long long)(c[0] / 50 + 100), (long long)now, timeout_mins * 60,
		      c[0] + permanent, c[1], c[2], c[3], c[4], permanent,
		      s[0], s[1], s[2], s[3], s[4], total, total - used, groups, makers);
	free(makers);
	return v;
}

char *held_sweep(unsigned long long leak, long long conts_s, long long sessions_s)
{
	time_t now = time(NULL);
	unsigned long long t0, u0, t1, u1;
	long long sc, ss = -1;
	char ssw[32] = "#f";
	char *v;

	pthread_mutex_lock(&mu);
	heap(leak, &t0, &u0);
	sc = sweep(conts, &nconts, conts_s, now);
	if (sessions_s >= 0) {
		ss = sweep(sessions, &nsessions, sessions_s, now);
		snprintf(ssw, sizeof ssw, "%lld", ss);
	}
	heap(leak, &t1, &u1);
	v = xasprintf("(sweep 1 %lld %s %lld %lld (%llu %llu) (%llu %llu))", sc, ssw,
		      permanent + (long long)nconts, (long long)nsessions, t0, t0 - u0, t1, t1 - u1);
	pthread_mutex_unlock(&mu);
	return v;
}

static struct sx *read_expr(const char *text)
{
	struct sx *x = NULL;
	size_t pos = 0;

	if (sx_read(text, strlen(text), &pos, &sx_default_limits, &x, NULL) != SX_OK)
		die("eval", "bad built-in expression");
	return x;
}

static struct sx *census_sx;
static pthread_once_t census_once = PTHREAD_ONCE_INIT;

static void census_init(void)
{
	census_sx = read_expr(held_census_expr);
}

bool held_is_census(const struct sx *body)
{
	pthread_once(&census_once, census_init);
	return sx_equal(body, census_sx);
}

/* An age the program could have sent: a whole number of seconds. */
static bool age_of(const struct sx *x, long long *out)
{
	if (x == NULL || x->type != SX_INT || x->u.i < 0)
		return false;
	*out = x->u.i;
	return true;
}

bool held_is_sweep(const struct sx *body, long long *conts_s, long long *sessions_s)
{
	const struct sx *binds = sx_nth(sx_nth(body, 2), 1);
	const struct sx *s = sx_nth(sx_nth(binds, 4), 1);
	char sess[64] = "#f";
	struct sx *want;
	char *text;
	bool same;

	*sessions_s = -1;
	if (!age_of(sx_nth(sx_nth(sx_nth(sx_nth(binds, 3), 1), 1), 1), conts_s) || s == NULL)
		return false;
	if (sx_is_list(s)) {
		if (!age_of(sx_nth(s, 1), sessions_s))
			return false;
		snprintf(sess, sizeof sess, "(session-state-sweep %lld)", *sessions_s);
	}
	text = xasprintf(held_sweep_expr, *conts_s, sess);
	want = read_expr(text);
	same = sx_equal(body, want);
	sx_free(want);
	free(text);
	return same;
}
