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

/* The census and sweep expressions as a real worker was sent them. */
#include "recorded.h"

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
	/* Gauche up to 0.8.10 (Kahua 1.0.x sites) answers one flat list. */
	if (kahua_1_0())
		return xasprintf("(:total-heap-size %llu :free-bytes %llu :bytes-since-gc 0"
				 " :total-bytes %llu)", total, total - used, total * 2);
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
	long long stride, counted;

	pthread_mutex_lock(&mu);
	buckets(conts, nconts, now, timeout_mins * 60, c);
	buckets(sessions, nsessions, now, timeout_mins * 60, s);
	heap(leak, &total, &used);
	pthread_mutex_unlock(&mu);
	/*
	 * Past 16384 entries the census counts makers on every stride-th
	 * entry that is not permanent, each counting stride.
	 */
	stride = 1 + (c[0] + permanent) / 16385;
	counted = c[0] / stride * stride;
	/* The page's a/cont lambda and the define-entry, biggest first, as the census sorts them. */
	lam = counted > 0 ? xasprintf("(%lld #f \"(lambda () (line-page i text)) (%s.kahua:16)\")", counted, type)
		       : xstrdup("");
	ent = permanent > 0 ? xasprintf("(%lld #t \"define-entry %s (%s.kahua:10)\")", permanent, type, type)
			    : xstrdup("");
	makers = counted >= permanent ? xasprintf("%s%s%s", lam, *lam && *ent ? " " : "", ent)
				   : xasprintf("%s%s%s", ent, *lam && *ent ? " " : "", lam);
	free(lam);
	free(ent);
	groups = (counted > 0) + (permanent > 0);
	v = xasprintf("(census 2 %lld %lld %ld (%lld %lld %lld %lld %lld %lld) (%lld %lld %lld %lld %lld)"
		      " (%llu %llu) %ld %lld (%s))",
		      (long long)(c[0] / 50 + 100), (long long)now, timeout_mins * 60,
		      c[0] + permanent, c[1], c[2], c[3], c[4], permanent,
		      s[0], s[1], s[2], s[3], s[4], total, total - used, groups, stride, makers);
	free(makers);
	return v;
}

char *held_sweep(unsigned long long leak, long long conts_s, long long sessions_s)
{
	time_t now = time(NULL);
	unsigned long long t0, u0, t1, u1;
	long long sc;
	char ssw[32] = "#f";
	char *v;

	pthread_mutex_lock(&mu);
	heap(leak, &t0, &u0);
	sc = sweep(conts, &nconts, conts_s, now);
	if (sessions_s >= 0)
		snprintf(ssw, sizeof ssw, "%lld", sweep(sessions, &nsessions, sessions_s, now));
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
		die("eval", "bad recorded expression");
	return x;
}

static struct sx *census_sx, *sweep_sx, *sweep_sessions_sx;
static pthread_once_t exprs_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t sweep_mu = PTHREAD_MUTEX_INITIALIZER;

static void exprs_init(void)
{
	census_sx = read_expr(recorded_census_expr);
	sweep_sx = read_expr(recorded_sweep_expr);
	sweep_sessions_sx = read_expr(recorded_sweep_sessions_expr);
}

bool held_is_census(const struct sx *body)
{
	pthread_once(&exprs_once, exprs_init);
	return sx_equal(body, census_sx);
}

/*
 * Where the sweep expression holds its ages: the 60 of
 * (c (car (session-cont-sweep 60))) and of (s (session-state-sweep 60)),
 * the fourth and fifth bindings of its let*.
 */
static struct sx *conts_age(const struct sx *x)
{
	return sx_nth(sx_nth(sx_nth(sx_nth(sx_nth(sx_nth(x, 2), 1), 3), 1), 1), 1);
}

static struct sx *sessions_age(const struct sx *x)
{
	return sx_nth(sx_nth(sx_nth(sx_nth(sx_nth(x, 2), 1), 4), 1), 1);
}

static bool age_of(const struct sx *x, long long *out)
{
	if (x == NULL || x->type != SX_INT || x->u.i < 0)
		return false;
	*out = x->u.i;
	return true;
}

/* The recorded sweep with the body's ages in place of its 60s: the same? */
bool held_is_sweep(const struct sx *body, long long *conts_s, long long *sessions_s)
{
	struct sx *want, *c, *s;
	bool same;

	pthread_once(&exprs_once, exprs_init);
	*sessions_s = -1;
	if (!age_of(conts_age(body), conts_s))
		return false;
	want = age_of(sessions_age(body), sessions_s) ? sweep_sessions_sx : sweep_sx;
	c = conts_age(want);
	s = sessions_age(want);
	pthread_mutex_lock(&sweep_mu);
	c->u.i = *conts_s;
	if (*sessions_s >= 0)
		s->u.i = *sessions_s;
	same = sx_equal(body, want);
	c->u.i = 60;
	if (*sessions_s >= 0)
		s->u.i = 60;
	pthread_mutex_unlock(&sweep_mu);
	return same;
}
