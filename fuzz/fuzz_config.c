/*
 * fuzz_config: the JSON config file (SITE/etc/kahua-restarter.json or
 * -c FILE) through the same code path, without the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL) {
		perror("fuzz_config: /dev/null");
		exit(1);
	}
	return 0;
}

/* Whatever the file says, an accepted config holds only values in range. */
static void check(const struct options *o)
{
	const double secs[] = { o->timeout, o->ctl_timeout, o->kill_after, o->worker_timeout,
				o->http_timeout, o->retry_delay, o->max_age, o->splay,
				o->wait_lock, o->since };

	for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++)
		if (!(secs[i] >= 0 && secs[i] <= 10.0 * 365 * 86400))
			abort();
	if (o->n_expect_status < 1 || o->n_expect_status > OPT_MAX_STATUSES)
		abort();
	for (size_t i = 0; i < o->n_expect_status; i++)
		if (o->expect_status[i] < 100 || o->expect_status[i] > 599)
			abort();
	if (o->strategy < STRATEGY_ROLLING || o->strategy > STRATEGY_ALL ||
	    o->memory < METRIC_RSS || o->memory > METRIC_PSS ||
	    o->retries < 0 || o->max_restarts < 0 || o->min_rss < 0 || o->facility == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct options o;
	struct kr_err err;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (options_from_json(&o, "fuzz.json", text, &err) == 0) {
		check(&o);
		options_print(&o, devnull);
	} else if (err.status != KR_CONFIG && err.status != KR_SOFTWARE) {
		abort();
	}
	options_free(&o);
	free(text);
	return 0;
}
