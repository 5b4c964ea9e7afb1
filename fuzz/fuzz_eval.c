/*
 * fuzz_eval: a worker's reply to the eval exchange, as it comes off the
 * worker's socket, through the parser that reads what the worker holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kahua_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eval_result res;

	kahua_eval_parse((const char *)data, size, &res);
	/* A verdict every time: figures, or why there are none. */
	if (memchr(res.why, '\0', sizeof res.why) == NULL)
		abort();
	if (res.outcome == EVAL_OK) {
		if (res.conts < -1 || res.sessions < -1 || res.heap < -1 ||
		    (res.conts < 0 && res.heap < 0) || (res.conts < 0) != (res.sessions < 0))
			abort();
	} else if (res.outcome != EVAL_UNREADABLE || res.why[0] == '\0' ||
		   res.conts != -1 || res.sessions != -1 || res.heap != -1) {
		abort();
	}
	/* The text goes to terminals and logs: no control characters. */
	for (const char *p = res.why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	return 0;
}
