/*
 * grace.c: a worker's grace after SIGTERM, as the program's grace
 * expression sets it on a real Kahua worker (test/vectors/grace.json).
 *
 * The expression is recognised as recorded, with any grace in place of
 * the recorded 300 ms, and answered (grace 1 MS).  From then on the first
 * SIGTERM does not end the worker: it starts a timer of MS and the worker
 * goes on accepting; when the timer fires (between requests, since the
 * worker blocks it while serving one, as Kahua blocks the SIGTERM it
 * raises again) the worker exits as on SIGTERM.  Later SIGTERMs during
 * the grace change nothing.  A worker never sent the expression exits at
 * SIGTERM as before.
 */
#include "sim.h"

#include <signal.h>
#include <string.h>
#include <time.h>

#include "recorded.h"

#define RECORDED_MS 300

static struct sx *grace_sx;
static pthread_once_t grace_once = PTHREAD_ONCE_INIT;
static volatile sig_atomic_t grace_ms;  /* 0: no grace */
static volatile sig_atomic_t started;
static timer_t timer;

static void grace_init_expr(void)
{
	size_t pos = 0;

	if (sx_read(recorded_grace_expr, strlen(recorded_grace_expr), &pos, &sx_default_limits,
		    &grace_sx, NULL) != SX_OK)
		die("eval", "bad recorded grace expression");
}

/* body as rec, every RECORDED_MS of rec one and the same integer *ms in body. */
static bool same_but_ms(const struct sx *body, const struct sx *rec, long long *ms)
{
	if (rec->type == SX_INT && rec->u.i == RECORDED_MS) {
		if (body->type != SX_INT || (*ms >= 0 && body->u.i != *ms))
			return false;
		*ms = body->u.i;
		return true;
	}
	if (rec->type != SX_LIST)
		return sx_equal(body, rec);
	if (body->type != SX_LIST || sx_len(body) != sx_len(rec))
		return false;
	for (size_t i = 0; i < sx_len(rec); i++)
		if (!same_but_ms(sx_nth(body, i), sx_nth(rec, i), ms))
			return false;
	return true;
}

bool grace_is_expr(const struct sx *body, long long *ms)
{
	pthread_once(&grace_once, grace_init_expr);
	*ms = -1;
	return body != NULL && same_but_ms(body, grace_sx, ms) && *ms >= 1 && *ms <= 10000;
}

void grace_setup(void (*finish)(int))
{
	struct sigaction sa;
	struct sigevent ev;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = finish;
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		die_errno("sigaction");
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0)
		die_errno("timer_create");
}

void grace_set(long long ms)
{
	grace_ms = (sig_atomic_t)ms;
}

/* From the SIGTERM handler: true while the worker is to go on serving. */
bool grace_on_term(void)
{
	struct itimerspec t = { 0 };

	if (grace_ms <= 0)
		return false;
	if (started)
		return true;
	started = 1;
	t.it_value.tv_sec = grace_ms / 1000;
	t.it_value.tv_nsec = (long)(grace_ms % 1000) * 1000000L;
	/* timer_settime is async-signal-safe; if it fails, no grace. */
	return timer_settime(timer, 0, &t, NULL) == 0;
}
