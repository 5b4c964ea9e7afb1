#include "clock.h"

#include <time.h>

#define STEP_MS 50

long long kr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double kr_now_ms_exact(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

long long kr_ms(double secs)
{
	return (long long)(secs * 1000.0);
}

int kr_poll_ms(long long deadline_ms)
{
	long long left = deadline_ms - kr_now_ms();

	if (left <= 0)
		return 0;
	return left > 60 * 60 * 1000 ? 60 * 60 * 1000 : (int)left;
}

long long kr_earlier(long long a, long long b)
{
	return a < b ? a : b;
}

/*
 * The clock reads whole milliseconds, rounded down: waking only once it
 * has passed until_ms makes the sleep never shorter than asked.
 */
void kr_sleep_until(long long until_ms, const volatile sig_atomic_t *stop)
{
	long long left;

	while ((stop == NULL || !*stop) && (left = until_ms - kr_now_ms()) >= 0) {
		long long step = left < STEP_MS ? left + 1 : STEP_MS;
		struct timespec ts = { 0, (long)step * 1000000L };

		nanosleep(&ts, NULL);
	}
}
