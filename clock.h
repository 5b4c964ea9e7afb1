/*
 * clock.h: the monotonic clock every deadline is measured on, and the
 * one way this program sleeps (in short steps, so a stop signal is seen).
 */
#ifndef KR_CLOCK_H
#define KR_CLOCK_H

#include <signal.h>

/* CLOCK_MONOTONIC in milliseconds. */
long long kr_now_ms(void);

/*
 * The same clock to the nanosecond, in milliseconds: for durations that
 * are reported, where a local request can take well under 1 ms.
 */
double kr_now_ms_exact(void);

/* Seconds (from the options) as milliseconds. */
long long kr_ms(double secs);

/* What is left until deadline_ms as a poll(2) timeout: 0 when past. */
int kr_poll_ms(long long deadline_ms);

/* The earlier of two deadlines. */
long long kr_earlier(long long a, long long b);

/* Sleep until until_ms, returning early once *stop is set (stop may be NULL). */
void kr_sleep_until(long long until_ms, const volatile sig_atomic_t *stop);

#endif
