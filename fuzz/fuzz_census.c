/*
 * fuzz_census: a worker's reply to the census and to the sweep, as it
 * comes off the worker's socket, through both parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kahua_census.h"

static void clean(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
	/* The text goes to terminals, logs and JSON: no control characters. */
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct census c;
	struct sweep_result s;

	kahua_census_parse((const char *)data, size, &c);
	clean(c.why, sizeof c.why);
	if (c.outcome == EVAL_OK) {
		if (c.nmakers > CENSUS_MAKERS_MAX || c.conts.total < 0 || c.heap_used > c.heap)
			abort();
		for (size_t i = 0; i < c.nmakers; i++)
			clean(c.makers[i].label, sizeof c.makers[i].label);
	} else if (c.outcome != EVAL_UNREADABLE || c.why[0] == '\0' || c.nmakers != 0 ||
		   c.conts.total != -1 || c.heap != -1) {
		abort();
	}
	kahua_sweep_parse((const char *)data, size, &s);
	clean(s.why, sizeof s.why);
	if (s.outcome == EVAL_OK) {
		if (s.swept_conts < 0 || s.heap_used_after > s.heap_after || s.swept_sessions < -1)
			abort();
	} else if (s.outcome != EVAL_UNREADABLE || s.why[0] == '\0' || s.swept_conts != -1) {
		abort();
	}
	return 0;
}
