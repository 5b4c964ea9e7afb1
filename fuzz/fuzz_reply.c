/*
 * fuzz_reply: a supervisor reply as it comes off the control socket,
 * through the parser, the ls decoder and the error explainer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kahua_ctl.h"

/* An error reply's body is no worker list: explain it against these,
 * whose long type names overflow the explainer's list of types. */
static struct worker known_v[] = {
	{ .wid = "eeh:4wixl", .type = "hello" },
	{ .wid = "eeu:46uwp", .type = "hello" },
	{ .wid = "w:3", .type = "LONG-A-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
	{ .wid = "w:4", .type = "LONG-B-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
	{ .wid = "w:5", .type = "LONG-C-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
	{ .wid = "w:6", .type = "LONG-D-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
	{ .wid = "w:7", .type = "leaky" },
};
static const struct worker_list known = { known_v, sizeof known_v / sizeof known_v[0] };

static void explain(const struct kahua_reply *rep, const struct worker_list *wl)
{
	char out[512];

	kahua_explain_error(rep, wl, out, sizeof out);
	if (memchr(out, '\0', sizeof out) == NULL)
		abort();
	kahua_explain_error(rep, &known, out, sizeof out);
	kahua_explain_error(rep, NULL, out, 16);
	(void)kahua_error_no_target(rep);
}

static void workers(const struct kahua_reply *rep)
{
	struct worker_list wl = { 0 };
	struct kr_err err = { 0 };

	if (kahua_parse_workers(rep->body, &wl, &err) < 0) {
		if (err.status == KR_OK || wl.v != NULL || wl.n != 0)
			abort();
		explain(rep, NULL);
		return;
	}
	/* Every entry is kept: pid 0 for #f; an id that is no worker id is broken. */
	for (size_t i = 0; i < wl.n; i++) {
		const struct worker *w = &wl.v[i];

		if (w->type[0] == '\0' || w->pid == 1 || w->pid < 0 ||
		    (w->state != WORKER_LIVE && w->state != WORKER_BROKEN) ||
		    (w->state == WORKER_LIVE && !kahua_wid_valid(w->wid)) ||
		    (w->state == WORKER_BROKEN && w->why[0] == '\0'))
			abort();
	}
	explain(rep, &wl);
	worker_list_free(&wl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kahua_reply rep;
	struct kr_err err = { 0 };

	if (kahua_reply_parse((const char *)data, size, &rep, &err) < 0) {
		if (err.status == KR_OK || rep.header != NULL || rep.body != NULL)
			abort();
		return 0;
	}
	if (rep.header == NULL || rep.body == NULL || (!rep.ok && rep.message == NULL))
		abort();
	workers(&rep);
	kahua_reply_free(&rep);
	return 0;
}
