/*
 * test_sexp.c: unit tests for the bounded S-expression reader and writer.
 *
 * Recorded Kahua exchanges come from test/vectors/control-socket.json (or
 * the file named by KR_VECTORS); tests run from the top of the tree.
 * Every input is copied into a heap buffer of exactly its length, so a
 * read past the end shows up under ASan and valgrind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sexp.h"

#define VECTORS_DEFAULT "test/vectors/control-socket.json"

/* ------------------------------------------------------------- helpers */

static char *dup_exact(const char *s, size_t n)
{
	char *d = malloc(n > 0 ? n : 1);

	assert_non_null(d);
	if (n > 0)
		memcpy(d, s, n);
	return d;
}

/* Read one datum from s[*pos..n) through an exactly sized copy of s. */
static enum sx_result read_at(const char *s, size_t n, size_t *pos,
			      const struct sx_limits *lim, struct sx **out,
			      struct sx_error *err)
{
	char *copy = dup_exact(s, n);
	enum sx_result rc = sx_read(copy, n, pos, lim, out, err);

	free(copy);
	return rc;
}

/* Result of reading the first datum of text; the tree is freed. */
static enum sx_result read_rc_lim(const char *text, const struct sx_limits *lim,
				  struct sx_error *err)
{
	struct sx *x = NULL;
	size_t pos = 0;
	enum sx_result rc = read_at(text, strlen(text), &pos, lim, &x, err);

	if (rc == SX_OK)
		assert_non_null(x);
	else
		assert_null(x);
	sx_free(x);
	return rc;
}

static enum sx_result read_rc(const char *text, struct sx_error *err)
{
	return read_rc_lim(text, &sx_default_limits, err);
}

/* The first datum of text, which must read. */
static struct sx *read_ok_n(const char *text, size_t n)
{
	struct sx *x = NULL;
	struct sx_error err;
	size_t pos = 0;
	enum sx_result rc = read_at(text, n, &pos, NULL, &x, &err);

	if (rc != SX_OK)
		fail_msg("reading \"%s\": result %d: %s", text, rc, err.msg);
	assert_non_null(x);
	return x;
}

static struct sx *read_ok(const char *text)
{
	return read_ok_n(text, strlen(text));
}

static void assert_symbol(const struct sx *x, const char *name)
{
	assert_non_null(x);
	assert_int_equal(x->type, SX_SYMBOL);
	assert_string_equal(sx_text(x), name);
}

static void assert_str(const struct sx *x, const char *s)
{
	assert_non_null(x);
	assert_int_equal(x->type, SX_STRING);
	assert_int_equal(x->u.atom.len, strlen(s));
	assert_string_equal(sx_text(x), s);
}

static void assert_int(const struct sx *x, long long v)
{
	assert_non_null(x);
	assert_int_equal(x->type, SX_INT);
	assert_true(x->u.i == v);
}

static void assert_bool(const struct sx *x, bool v)
{
	assert_non_null(x);
	assert_int_equal(x->type, SX_BOOL);
	assert_int_equal(x->u.b, v);
}

static char *repeat(const char *head, size_t n, const char *mid,
		    const char *tail)
{
	size_t hl = strlen(head), ml = strlen(mid), tl = strlen(tail);
	char *s = malloc(hl * n + ml + tl * n + 1);
	char *p = s;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++, p += hl)
		memcpy(p, head, hl);
	memcpy(p, mid, ml);
	p += ml;
	for (size_t i = 0; i < n; i++, p += tl)
		memcpy(p, tail, tl);
	*p = '\0';
	return s;
}

/* ------------------------------------------------------------- vectors */

static cJSON *vectors_load(void)
{
	const char *path = getenv("KR_VECTORS");
	FILE *f;
	char *text;
	long size;
	cJSON *json;

	if (path == NULL || *path == '\0')
		path = VECTORS_DEFAULT;
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the top of the tree or set KR_VECTORS)",
			 path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	text = malloc((size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
	text[size] = '\0';
	fclose(f);
	json = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsArray(json) || cJSON_GetArraySize(json) == 0)
		fail_msg("%s: not a non-empty JSON array", path);
	return json;
}

static const char *vector_field(const cJSON *v, const char *field)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, field);

	if (!cJSON_IsString(f))
		fail_msg("vector without string field \"%s\"", field);
	return f->valuestring;
}

static const char *vector_received(const cJSON *all, const char *name)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, all)
		if (strcmp(vector_field(v, "case"), name) == 0)
			return vector_field(v, "received");
	fail_msg("no recorded case \"%s\"", name);
	return NULL;
}

/* A reply: header, body, then nothing but whitespace. */
static void read_reply(const char *text, struct sx **hdr, struct sx **body)
{
	size_t n = strlen(text), pos = 0;
	struct sx_error err;
	struct sx *extra = NULL;

	assert_int_equal(read_at(text, n, &pos, NULL, hdr, &err), SX_OK);
	assert_int_equal(read_at(text, n, &pos, NULL, body, &err), SX_OK);
	assert_int_equal(read_at(text, n, &pos, NULL, &extra, &err), SX_END);
	assert_null(extra);
	assert_int_equal(pos, n - 1);           /* only the final "\n" left */
}

struct sent_shape {
	const char *name;
	size_t data;
	enum sx_result last;
};

/* Requests in the recording that are not simply "header body". */
static const struct sent_shape odd_requests[] = {
	{ "malformed '(ls' then shutdown(SHUT_WR) (half-close)", 1, SX_INCOMPLETE },
	{ "malformed '(ls' with NO close (client waits 3 s)", 1, SX_INCOMPLETE },
	{ "two commands pipelined on one connection", 3, SX_END },
	{ "header only '(ls)' sent, then half-close (no body)", 1, SX_END },
	{ "connect and immediately half-close (empty request)", 0, SX_END },
};

#define N_ODD (sizeof odd_requests / sizeof odd_requests[0])

static void test_vectors_sent_parse(void **state)
{
	cJSON *all = vectors_load();
	const cJSON *v;
	size_t odd_seen = 0, checked = 0;

	(void)state;
	cJSON_ArrayForEach(v, all) {
		const char *name = vector_field(v, "case");
		const char *sent = vector_field(v, "sent");
		struct sent_shape want = { name, 2, SX_END };
		size_t n = strlen(sent), pos = 0, data = 0;
		struct sx_error err;
		enum sx_result rc;
		struct sx *x;

		for (size_t i = 0; i < N_ODD; i++) {
			if (strcmp(odd_requests[i].name, name) == 0) {
				want = odd_requests[i];
				odd_seen++;
			}
		}
		while ((rc = read_at(sent, n, &pos, NULL, &x, &err)) == SX_OK) {
			sx_free(x);
			data++;
		}
		if (data != want.data || rc != want.last)
			fail_msg("sent of \"%s\": %zu data then %d (%s), want %zu then %d",
				 name, data, rc, err.msg, want.data, want.last);
		checked++;
	}
	assert_int_equal(odd_seen, N_ODD);      /* the table matches the file */
	assert_int_equal(checked, 32);
	cJSON_Delete(all);
}

static void test_vectors_received_header_body(void **state)
{
	cJSON *all = vectors_load();
	const cJSON *v;
	size_t replies = 0, empty = 0;

	(void)state;
	cJSON_ArrayForEach(v, all) {
		const char *received = vector_field(v, "received");
		struct sx *hdr, *body;

		if (*received == '\0') {
			size_t pos = 0;
			struct sx *x = NULL;

			assert_int_equal(read_at(received, 0, &pos, NULL, &x, NULL),
					 SX_END);
			assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
					v, "client_gave_up_waiting")));
			empty++;
			continue;
		}
		read_reply(received, &hdr, &body);
		/* Every header is an alist: a list of lists headed by strings. */
		assert_true(sx_is_list(hdr));
		assert_true(sx_len(hdr) > 0);
		for (size_t i = 0; i < sx_len(hdr); i++)
			assert_true(sx_is_string(sx_nth(sx_nth(hdr, i), 0)));
		sx_free(hdr);
		sx_free(body);
		replies++;
	}
	assert_int_equal(empty, 1);
	assert_int_equal(replies, 31);
	cJSON_Delete(all);
}

static void test_ls_reply_values(void **state)
{
	cJSON *all = vectors_load();
	struct sx *hdr, *body, *w, *status;

	(void)state;
	read_reply(vector_received(all, "(ls)"), &hdr, &body);
	status = sx_alist_get(hdr, "x-kahua-status");
	assert_int_equal(sx_len(status), 2);
	assert_str(sx_nth(status, 1), "OK");
	assert_int_equal(sx_len(body), 3);
	w = sx_nth(body, 0);
	assert_int_equal(sx_len(w), 10);
	assert_str(sx_plist_get(w, ":worker-id"), "eeh:4wixl");
	assert_int(sx_plist_get(w, ":worker-count"), 0);
	assert_symbol(sx_plist_get(w, ":worker-type"), "hello");
	assert_int(sx_plist_get(w, ":worker-pid"), 18665);
	assert_int(sx_plist_get(w, ":start-time"), 1795723088);
	assert_symbol(sx_plist_get(sx_nth(body, 2), ":worker-type"), "leaky");
	assert_int(sx_plist_get(sx_nth(body, 2), ":worker-pid"), 18680);
	sx_free(hdr);
	sx_free(body);
	cJSON_Delete(all);
}

static void test_spvr_error_header(void **state)
{
	cJSON *all = vectors_load();
	struct sx *hdr, *body, *status;

	(void)state;
	read_reply(vector_received(all, "(restart nosuchtype)"), &hdr, &body);
	status = sx_alist_get(hdr, "x-kahua-status");
	assert_int_equal(sx_len(status), 3);
	assert_str(sx_nth(status, 0), "x-kahua-status");
	assert_str(sx_nth(status, 1), "SPVR-ERROR");
	assert_symbol(sx_nth(status, 2), "<error>");
	sx_free(hdr);
	sx_free(body);
	cJSON_Delete(all);
}

static void test_error_body_escapes_decoded(void **state)
{
	cJSON *all = vectors_load();
	struct sx *hdr, *body;
	const char *msg, *trace;

	(void)state;
	read_reply(vector_received(all, "(restart nosuchtype)"), &hdr, &body);
	assert_int_equal(sx_len(body), 2);
	msg = sx_text(sx_nth(body, 0));
	trace = sx_text(sx_nth(body, 1));
	/* "#<" inside a string is text, not an opaque object. */
	assert_string_equal(msg, "#<hash-table eq[2] @0x7f549e5666e0> "
			    "doesn't have an entry for key nosuchtype");
	assert_non_null(strstr(trace, "nosuchtype\nStack Trace:\n____"));
	assert_non_null(strstr(trace,
		"\n        at \"/usr/local/kahua/lib/kahua/kahua-spvr.scm\":711\n"));
	assert_null(strchr(trace, '\\'));
	assert_int_equal(trace[strlen(trace) - 1], '\n');
	sx_free(hdr);
	sx_free(body);
	cJSON_Delete(all);
}

static void test_session_domain_bools(void **state)
{
	cJSON *all = vectors_load();
	struct sx *hdr, *body, *dom;

	(void)state;
	read_reply(vector_received(all, "empty header () + body (): no "
				   "x-kahua-worker => session-initiating "
				   "request to default worker type"),
		   &hdr, &body);
	dom = sx_alist_get(hdr, "x-kahua-session-domain");
	assert_int_equal(sx_len(dom), 5);
	assert_str(sx_nth(dom, 1), "http");
	assert_bool(sx_nth(dom, 2), false);
	assert_bool(sx_nth(dom, 3), false);
	assert_str(sx_nth(dom, 4), "/");
	assert_str(sx_nth(sx_alist_get(hdr, "x-kahua-sgsid"), 1), "11bltny7hdupf");
	sx_free(hdr);
	sx_free(body);
	cJSON_Delete(all);
}

static void test_page_body_nested_lists(void **state)
{
	cJSON *all = vectors_load();
	struct sx *hdr, *body, *head, *bodyel, *attrs;

	(void)state;
	read_reply(vector_received(all, "DIRECT to worker socket ej9:2icr7 "
				   "(wno 8), httpd talk-to-worker format"),
		   &hdr, &body);
	assert_int(sx_nth(sx_alist_get(hdr, "x-kahua-session-domain"), 3), 18080);
	assert_str(sx_nth(sx_nth(sx_alist_get(hdr, "x-kahua-path-info"), 1), 0),
		   "hello");
	/* ("<" html () ">" ("<" head ...) ("<" body ((" " bgcolor ...)) ...) ...) */
	assert_str(sx_nth(body, 0), "<");
	assert_symbol(sx_nth(body, 1), "html");
	assert_true(sx_is_list(sx_nth(body, 2)));
	assert_int_equal(sx_len(sx_nth(body, 2)), 0);
	head = sx_nth(body, 4);
	assert_symbol(sx_nth(head, 1), "head");
	assert_str(sx_nth(sx_nth(head, 4), 4), "Hello, world!");
	bodyel = sx_nth(body, 5);
	assert_symbol(sx_nth(bodyel, 1), "body");
	attrs = sx_nth(sx_nth(bodyel, 2), 0);
	assert_int_equal(sx_len(attrs), 5);
	assert_symbol(sx_nth(attrs, 1), "bgcolor");
	assert_str(sx_nth(attrs, 3), "white");
	assert_str(sx_nth(body, sx_len(body) - 1), "\n>");
	sx_free(hdr);
	sx_free(body);
	cJSON_Delete(all);
}

static void test_version_reply_is_string(void **state)
{
	cJSON *all = vectors_load();
	struct sx *hdr, *body;

	(void)state;
	read_reply(vector_received(all, "(version)"), &hdr, &body);
	assert_str(body, "1.1_pre19");
	sx_free(hdr);
	sx_free(body);
	cJSON_Delete(all);
}

/* ---------------------------------------------------- truncation */

/*
 * Read full[0..k) for every k: a datum wholly inside the prefix reads,
 * one the cut goes through is SX_INCOMPLETE at offset k, and once the
 * prefix holds no more data the result is SX_END.
 */
static void check_every_cut(const char *full)
{
	size_t len = strlen(full), starts[8], ends[8], nd = 0, pos = 0;
	struct sx *x;

	while (read_at(full, len, &pos, NULL, &x, NULL) == SX_OK) {
		assert_true(nd < 8);
		starts[nd] = x->off;
		ends[nd++] = pos;
		sx_free(x);
	}
	assert_true(nd > 0);
	for (size_t k = 0; k <= len; k++) {
		size_t i = 0;
		enum sx_result rc = SX_OK;
		struct sx_error err;

		pos = 0;
		for (; i < nd && k >= ends[i]; i++) {
			assert_int_equal(read_at(full, k, &pos, NULL, &x, &err), SX_OK);
			assert_int_equal(pos, ends[i]);
			sx_free(x);
		}
		rc = read_at(full, k, &pos, NULL, &x, &err);
		assert_null(x);
		if (i < nd && k > starts[i]) {
			if (rc != SX_INCOMPLETE)
				fail_msg("cut at %zu of %zu: result %d (%s), want incomplete",
					 k, len, rc, err.msg);
			assert_int_equal(err.off, k);
			assert_true(strncmp(err.msg, "input ends ", 11) == 0);
		} else {
			assert_int_equal(rc, SX_END);
		}
	}
}

static void test_truncated_ls_reply_every_offset(void **state)
{
	cJSON *all = vectors_load();
	const char *ls = vector_received(all, "(ls)");
	size_t pos = 0, len = strlen(ls);
	struct sx_error err;
	struct sx *x;

	(void)state;
	check_every_cut(ls);
	/* Spot check: cut inside "eeh:4wixl" names the body's line. */
	pos = 0;
	assert_int_equal(read_at(ls, len, &pos, NULL, &x, &err), SX_OK);
	assert_int_equal(pos, 25);
	sx_free(x);
	assert_int_equal(read_at(ls, 40, &pos, NULL, &x, &err), SX_INCOMPLETE);
	assert_string_equal(err.msg, "input ends inside a string opened at line 2");
	assert_int_equal(err.line, 2);
	assert_int_equal(err.off, 40);
	assert_int_equal(pos, 25);
	cJSON_Delete(all);
}

static void test_truncated_every_reply_every_offset(void **state)
{
	cJSON *all = vectors_load();
	const cJSON *v;

	(void)state;
	cJSON_ArrayForEach(v, all) {
		const char *received = vector_field(v, "received");

		if (*received != '\0')
			check_every_cut(received);
	}
	cJSON_Delete(all);
}

/* -------------------------------------------------------- forms */

static void test_opaque_undef(void **state)
{
	const char *text = "#<undef>\n";
	size_t pos = 0;
	struct sx *x = NULL;

	(void)state;
	assert_int_equal(read_at(text, strlen(text), &pos, NULL, &x, NULL), SX_OK);
	assert_int_equal(x->type, SX_OPAQUE);
	assert_string_equal(sx_text(x), "undef");
	assert_int_equal(pos, 8);
	sx_free(x);
	assert_int_equal(read_at(text, strlen(text), &pos, NULL, &x, NULL), SX_END);
}

static void test_opaque_nested_angles(void **state)
{
	struct sx *x = read_ok("#<hash-table eq[2] @0x7f549e5666e0>");
	struct sx *y = read_ok("(#<iport (socket input #<socket (connect "
			       "\"/x\")>) 0x7f549d3dcaa0> tail)");

	(void)state;
	assert_string_equal(sx_text(x), "hash-table eq[2] @0x7f549e5666e0");
	assert_int_equal(sx_nth(y, 0)->type, SX_OPAQUE);
	assert_string_equal(sx_text(sx_nth(y, 0)),
		"iport (socket input #<socket (connect \"/x\")>) 0x7f549d3dcaa0");
	assert_symbol(sx_nth(y, 1), "tail");
	sx_free(x);
	sx_free(y);
}

static void test_opaque_cut_is_incomplete(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("(a\n#<foo #<bar> baz", &err), SX_INCOMPLETE);
	assert_string_equal(err.msg, "input ends inside '#<' opened at line 2");
	assert_int_equal(read_rc("#<", &err), SX_INCOMPLETE);
}

static void test_booleans(void **state)
{
	struct sx *x = read_ok("(#t #f #true #false)");

	(void)state;
	assert_int_equal(sx_len(x), 4);
	assert_bool(sx_nth(x, 0), true);
	assert_bool(sx_nth(x, 1), false);
	assert_bool(sx_nth(x, 2), true);
	assert_bool(sx_nth(x, 3), false);
	sx_free(x);
	x = read_ok("#t");              /* complete at the end of input */
	assert_bool(x, true);
	sx_free(x);
}

static void test_hash_cut_is_incomplete(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("#", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("(a #", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("#tru", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("#fals", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("#tx", &err), SX_ESYNTAX);
	assert_int_equal(read_rc("#tru ", &err), SX_ESYNTAX);
}

static void test_unsupported_hash_forms(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("(a #(1 2))", &err), SX_ESYNTAX);
	assert_string_equal(err.msg, "unsupported syntax '#('");
	assert_int_equal(err.off, 3);
	assert_int_equal(read_rc("#\\a", &err), SX_ESYNTAX);
	assert_string_equal(err.msg, "unsupported syntax '#\\a'");
	assert_int_equal(read_rc("#| c |# x", &err), SX_ESYNTAX);
	assert_string_equal(err.msg, "unsupported syntax '#|'");
	assert_int_equal(read_rc("#\x01", &err), SX_ESYNTAX);
	assert_string_equal(err.msg, "unsupported syntax '#\\x01'");
}

static void test_integers(void **state)
{
	struct sx *x = read_ok("(0 -45 +7 1795723088 9223372036854775807 "
			       "-9223372036854775808 007)");

	(void)state;
	assert_int(sx_nth(x, 0), 0);
	assert_int(sx_nth(x, 1), -45);
	assert_int(sx_nth(x, 2), 7);
	assert_int(sx_nth(x, 3), 1795723088);
	assert_int(sx_nth(x, 4), LLONG_MAX);
	assert_int(sx_nth(x, 5), LLONG_MIN);
	assert_int(sx_nth(x, 6), 7);
	sx_free(x);
}

static void test_integer_overflow(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("(1\n 9223372036854775808)", &err), SX_ESYNTAX);
	assert_string_equal(err.msg, "number out of range");
	assert_int_equal(err.off, 4);
	assert_int_equal(err.line, 2);
	assert_int_equal(read_rc("-9223372036854775809", &err), SX_ESYNTAX);
	assert_string_equal(err.msg, "number out of range");
	assert_int_equal(read_rc("99999999999999999999999999", &err), SX_ESYNTAX);
	/* Cut inside a list, it may yet become a symbol: "...99x)". */
	assert_int_equal(read_rc("(a 99999999999999999999999999", &err),
			 SX_INCOMPLETE);
	assert_int_equal(err.off, 29);
	assert_int_equal(read_rc("(a 99999999999999999999999999 ", &err),
			 SX_ESYNTAX);
	assert_int_equal(err.off, 3);
}

static void test_symbols(void **state)
{
	static const char *const names[] = {
		":worker-id", "<error>", "*", "1.5", "-", "+", "x-y", "12abc",
		"--1", "+-2", "a#b", "a'b", "kahua-spvr.scm",
	};
	struct sx *x = read_ok("(:worker-id <error> * 1.5 - + x-y 12abc --1 "
			       "+-2 a#b a'b kahua-spvr.scm)");

	(void)state;
	assert_int_equal(sx_len(x), sizeof names / sizeof names[0]);
	for (size_t i = 0; i < sx_len(x); i++)
		assert_symbol(sx_nth(x, i), names[i]);
	sx_free(x);
}

static void test_atom_at_end_is_complete(void **state)
{
	size_t pos = 0;
	struct sx *x = NULL;

	(void)state;
	assert_int_equal(read_at("12", 2, &pos, NULL, &x, NULL), SX_OK);
	assert_int(x, 12);
	assert_int_equal(pos, 2);
	sx_free(x);
	pos = 0;
	assert_int_equal(read_at("abc", 3, &pos, NULL, &x, NULL), SX_OK);
	assert_symbol(x, "abc");
	assert_int_equal(pos, 3);
	sx_free(x);
}

static void test_atoms_end_at_delimiters(void **state)
{
	const char *text = "a\"b\"c(d)e;x\nf)";
	size_t len = strlen(text), pos = 0;
	struct sx_error err;
	struct sx *x;

	(void)state;
	assert_int_equal(read_at(text, len, &pos, NULL, &x, &err), SX_OK);
	assert_symbol(x, "a");
	sx_free(x);
	assert_int_equal(read_at(text, len, &pos, NULL, &x, &err), SX_OK);
	assert_str(x, "b");
	sx_free(x);
	assert_int_equal(read_at(text, len, &pos, NULL, &x, &err), SX_OK);
	assert_symbol(x, "c");
	sx_free(x);
	assert_int_equal(read_at(text, len, &pos, NULL, &x, &err), SX_OK);
	assert_symbol(sx_nth(x, 0), "d");
	sx_free(x);
	assert_int_equal(read_at(text, len, &pos, NULL, &x, &err), SX_OK);
	assert_symbol(x, "e");
	sx_free(x);
	assert_int_equal(read_at(text, len, &pos, NULL, &x, &err), SX_OK);
	assert_symbol(x, "f");
	sx_free(x);
	assert_int_equal(read_at(text, len, &pos, NULL, &x, &err), SX_ESYNTAX);
	assert_int_equal(err.off, len - 1);
}

static void test_symbol_holds_nul_byte(void **state)
{
	struct sx *x = read_ok_n("(a\0b)", 5);

	(void)state;
	assert_int_equal(sx_nth(x, 0)->type, SX_SYMBOL);
	assert_int_equal(sx_nth(x, 0)->u.atom.len, 3);
	assert_memory_equal(sx_text(sx_nth(x, 0)), "a\0b", 4);
	assert_false(sx_is_symbol(sx_nth(x, 0), "a"));
	sx_free(x);
}

static void test_whitespace_kinds(void **state)
{
	struct sx *x = read_ok(" \t\r\n\f\v(a\f\vb\r\nc)");

	(void)state;
	assert_int_equal(sx_len(x), 3);
	assert_int_equal(x->off, 6);
	assert_symbol(sx_nth(x, 2), "c");
	sx_free(x);
}

static void test_node_offsets(void **state)
{
	struct sx *x = read_ok("  (a \"b\" (c 12))");

	(void)state;
	assert_int_equal(x->off, 2);
	assert_int_equal(sx_nth(x, 0)->off, 3);
	assert_int_equal(sx_nth(x, 1)->off, 5);
	assert_int_equal(sx_nth(x, 2)->off, 9);
	assert_int_equal(sx_nth(sx_nth(x, 2), 1)->off, 12);
	sx_free(x);
}

static void test_empty_and_nested_lists(void **state)
{
	struct sx *x = read_ok("(() (()) ((a) b))");

	(void)state;
	assert_int_equal(sx_len(x), 3);
	assert_true(sx_is_list(sx_nth(x, 0)));
	assert_int_equal(sx_len(sx_nth(x, 0)), 0);
	assert_int_equal(sx_len(sx_nth(x, 1)), 1);
	assert_int_equal(sx_len(sx_nth(sx_nth(x, 1), 0)), 0);
	assert_symbol(sx_nth(sx_nth(sx_nth(x, 2), 0), 0), "a");
	assert_symbol(sx_nth(sx_nth(x, 2), 1), "b");
	sx_free(x);
}

static void test_long_list_grows(void **state)
{
	char *text = repeat("x ", 1000, "", "");
	struct sx *x;

	(void)state;
	/* "( x x ... x)": 999 items, past several doublings of the array. */
	text[0] = '(';
	text[strlen(text) - 1] = ')';
	x = read_ok(text);
	assert_int_equal(sx_len(x), 999);
	assert_symbol(sx_nth(x, 998), "x");
	sx_free(x);
	free(text);
}

/* -------------------------------------------------------- quote */

static void test_quote(void **state)
{
	struct sx *x = read_ok("'x");
	struct sx *y = read_ok("'(a 'b)");

	(void)state;
	assert_int_equal(sx_len(x), 2);
	assert_symbol(sx_nth(x, 0), "quote");
	assert_symbol(sx_nth(x, 1), "x");
	assert_int_equal(sx_len(sx_nth(y, 1)), 2);
	assert_symbol(sx_nth(sx_nth(sx_nth(y, 1), 1), 1), "b");
	sx_free(x);
	sx_free(y);
}

static void test_quote_errors(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("'", &err), SX_INCOMPLETE);
	assert_string_equal(err.msg, "input ends after a quote");
	assert_int_equal(read_rc("(a ' ", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("(a ')", &err), SX_ESYNTAX);
	assert_int_equal(err.off, 4);
}

static void test_quote_counts_as_depth(void **state)
{
	struct sx_limits lim = { 1, 100, 100 };
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc_lim("'a", &lim, &err), SX_OK);
	assert_int_equal(read_rc_lim("'(a)", &lim, &err), SX_ELIMIT);
	assert_int_equal(read_rc_lim("(a 'b)", &lim, &err), SX_ELIMIT);
}

/* ------------------------------------------------------ comments */

static void test_line_comments(void **state)
{
	struct sx *x = read_ok("; first\n(a ; b)\n c;)\n)");
	struct sx_error err;
	size_t pos = 0;

	(void)state;
	assert_int_equal(sx_len(x), 2);
	assert_symbol(sx_nth(x, 1), "c");
	sx_free(x);
	assert_int_equal(read_at(" ; only\n ;x", 11, &pos, NULL, &x, &err), SX_END);
	assert_int_equal(pos, 0);
	assert_int_equal(read_rc("(a ; )", &err), SX_INCOMPLETE);
}

static void test_datum_comments(void **state)
{
	struct sx *x = read_ok("#;(x (y)) z");
	struct sx *y = read_ok("(a #;b c #; \"s\" d)");
	struct sx *z = read_ok("#; #; a b c");
	struct sx *w = read_ok("'#;a b");

	(void)state;
	assert_symbol(x, "z");
	assert_int_equal(sx_len(y), 3);
	assert_symbol(sx_nth(y, 1), "c");
	assert_symbol(sx_nth(y, 2), "d");
	assert_symbol(z, "c");
	assert_symbol(sx_nth(w, 1), "b");
	sx_free(x);
	sx_free(y);
	sx_free(z);
	sx_free(w);
}

static void test_datum_comment_edges(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("#;", &err), SX_INCOMPLETE);
	assert_string_equal(err.msg, "input ends after '#;'");
	assert_int_equal(read_rc("#; ; c\n", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("#; (a", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("#; a ", &err), SX_END);
	assert_int_equal(read_rc("(a #;)", &err), SX_ESYNTAX);
	assert_int_equal(err.off, 5);
}

static void test_app_servers_file(void **state)
{
	const char *text =
		";; -*-scheme-*-\n"
		"(;;(<type> :arguments (<arg> ...) :run-by-default <num> ...)\n"
		" (hello :arguments () :run-by-default 2)\n"
		" (leaky :arguments () :run-by-default 1)\n"
		" )\n";
	size_t len = strlen(text), pos = 0;
	struct sx *x, *hello, *leaky;

	(void)state;
	assert_int_equal(read_at(text, len, &pos, NULL, &x, NULL), SX_OK);
	assert_int_equal(sx_len(x), 2);
	hello = sx_nth(x, 0);
	leaky = sx_nth(x, 1);
	assert_int_equal(sx_len(hello), 5);
	assert_symbol(sx_nth(hello, 0), "hello");
	assert_symbol(sx_nth(hello, 1), ":arguments");
	assert_true(sx_is_list(sx_nth(hello, 2)));
	assert_int_equal(sx_len(sx_nth(hello, 2)), 0);
	assert_symbol(sx_nth(hello, 3), ":run-by-default");
	assert_int(sx_nth(hello, 4), 2);
	assert_symbol(sx_nth(leaky, 0), "leaky");
	assert_int(sx_nth(leaky, 4), 1);
	sx_free(x);
	assert_int_equal(read_at(text, len, &pos, NULL, &x, NULL), SX_END);
}

static void test_kahua_conf(void **state)
{
	struct sx *x = read_ok("(make <kahua-config> :sockbase \"unix:/tmp/x\""
			       " :auto-restart #t)\n");
	struct sx *d = read_ok("(make <kahua-config>)");

	(void)state;
	assert_true(sx_is_symbol(sx_nth(x, 0), "make"));
	assert_true(sx_is_symbol(sx_nth(x, 1), "<kahua-config>"));
	/* (make <class>) is an even prefix, so the pairs line up. */
	assert_str(sx_plist_get(x, ":sockbase"), "unix:/tmp/x");
	assert_bool(sx_plist_get(x, ":auto-restart"), true);
	assert_null(sx_plist_get(x, ":run-directory"));
	assert_int_equal(sx_len(d), 2);
	assert_null(sx_plist_get(d, ":sockbase"));
	sx_free(x);
	sx_free(d);
}

/* -------------------------------------------------- position, END */

static void test_end_leaves_pos(void **state)
{
	const char *text = "(a) \n ; c\n";
	size_t len = strlen(text), pos = 0;
	struct sx *x;

	(void)state;
	assert_int_equal(read_at(text, len, &pos, NULL, &x, NULL), SX_OK);
	assert_int_equal(pos, 3);
	sx_free(x);
	assert_int_equal(read_at(text, len, &pos, NULL, &x, NULL), SX_END);
	assert_int_equal(pos, 3);
	assert_null(x);
	pos = 0;
	assert_int_equal(read_at("", 0, &pos, NULL, &x, NULL), SX_END);
}

static void test_errors_leave_pos(void **state)
{
	size_t pos = 1;
	struct sx *x = (struct sx *)&pos;    /* must be reset to NULL */
	struct sx_error err;

	(void)state;
	assert_int_equal(read_at(" (a \"b", 6, &pos, NULL, &x, &err), SX_INCOMPLETE);
	assert_int_equal(pos, 1);
	assert_null(x);
	assert_int_equal(read_at(" )", 2, &pos, NULL, &x, &err), SX_ESYNTAX);
	assert_int_equal(pos, 1);
}

static void test_bad_arguments(void **state)
{
	size_t pos = 5;
	struct sx *x;
	struct sx_error err;

	(void)state;
	assert_int_equal(sx_read("abc", 3, &pos, NULL, &x, &err), SX_ESYNTAX);
	assert_null(x);
	assert_non_null(strstr(err.msg, "past the end"));
	assert_int_equal(sx_read("abc", 3, NULL, NULL, &x, &err), SX_ESYNTAX);
	pos = 0;
	assert_int_equal(sx_read(NULL, 3, &pos, NULL, &x, &err), SX_ESYNTAX);
	assert_int_equal(sx_read("abc", 3, &pos, NULL, NULL, &err), SX_ESYNTAX);
	assert_int_equal(sx_read(NULL, 0, &pos, NULL, &x, &err), SX_END);
}

static void test_err_may_be_null(void **state)
{
	size_t pos = 0;
	struct sx *x;

	(void)state;
	assert_int_equal(read_at(")", 1, &pos, NULL, &x, NULL), SX_ESYNTAX);
	assert_int_equal(read_at("(", 1, &pos, NULL, &x, NULL), SX_INCOMPLETE);
	assert_int_equal(read_at("\"\\q\"", 4, &pos, NULL, &x, NULL), SX_ESYNTAX);
}

/* ----------------------------------------------- syntax errors */

static void test_unexpected_close(void **state)
{
	const char *text = "(a))";
	size_t pos = 0;
	struct sx *x;
	struct sx_error err;

	(void)state;
	assert_int_equal(read_at(text, 4, &pos, NULL, &x, &err), SX_OK);
	sx_free(x);
	assert_int_equal(read_at(text, 4, &pos, NULL, &x, &err), SX_ESYNTAX);
	assert_string_equal(err.msg, "unexpected ')'");
	assert_int_equal(err.off, 3);
	assert_int_equal(err.line, 1);
	assert_int_equal(read_rc("\n\n  )", &err), SX_ESYNTAX);
	assert_int_equal(err.off, 4);
	assert_int_equal(err.line, 3);
}

static void test_incomplete_list_names_line(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("(a\n (b\n c", &err), SX_INCOMPLETE);
	assert_string_equal(err.msg, "input ends inside a list opened at line 2");
	assert_int_equal(err.off, 9);
	assert_int_equal(err.line, 3);
	assert_int_equal(read_rc("(", &err), SX_INCOMPLETE);
	assert_string_equal(err.msg, "input ends inside a list opened at line 1");
}

/* ------------------------------------------------------ strings */

static void test_string_escapes(void **state)
{
	struct sx *x = read_ok("\"q\\\"b\\\\n\\nt\\tr\\ra\\az\\0end\"");
	static const char want[] = "q\"b\\n\nt\tr\ra\az\0end";

	(void)state;
	assert_int_equal(x->type, SX_STRING);
	assert_int_equal(x->u.atom.len, sizeof want - 1);
	assert_memory_equal(x->u.atom.s, want, sizeof want);
	sx_free(x);
}

static void test_hex_escapes(void **state)
{
	struct sx *x = read_ok("(\"\\x41;\\x0;\\x7f;\" \"\\xe9;\" \"\\x3bb;\" "
			       "\"\\x1F600;\" \"\\x0000041;\")");

	(void)state;
	assert_int_equal(sx_nth(x, 0)->u.atom.len, 3);
	assert_memory_equal(sx_text(sx_nth(x, 0)), "A\0\x7f", 3);
	assert_int_equal(sx_nth(x, 1)->u.atom.len, 1);       /* one byte */
	assert_memory_equal(sx_text(sx_nth(x, 1)), "\xe9", 1);
	assert_str(sx_nth(x, 2), "\xce\xbb");                 /* UTF-8 */
	assert_str(sx_nth(x, 3), "\xf0\x9f\x98\x80");
	assert_str(sx_nth(x, 4), "A");
	sx_free(x);
}

static void test_bad_hex_escapes(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("\"\\x110000;\"", &err), SX_ESYNTAX);
	assert_int_equal(err.off, 1);
	assert_int_equal(read_rc("\"\\x41\"", &err), SX_ESYNTAX);
	assert_int_equal(read_rc("\"\\x;\"", &err), SX_ESYNTAX);
	assert_int_equal(read_rc("\"\\xg;\"", &err), SX_ESYNTAX);
	assert_int_equal(read_rc("\"\\xd800;\"", &err), SX_ESYNTAX);
	assert_int_equal(read_rc("\"\\xffffffffffffffffffff;\"", &err), SX_ESYNTAX);
	assert_int_equal(read_rc("\"\\x4", &err), SX_INCOMPLETE);
}

static void test_bad_escape(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("(\"ok\"\n \"a\\qb\")", &err), SX_ESYNTAX);
	assert_string_equal(err.msg, "bad escape '\\q' in string");
	assert_int_equal(err.off, 9);
	assert_int_equal(err.line, 2);
	assert_int_equal(read_rc_lim("\"\\\x01\"", &sx_default_limits, &err),
			 SX_ESYNTAX);
	assert_string_equal(err.msg, "bad escape '\\\\x01' in string");
	assert_int_equal(read_rc("\"a\\ b\"", &err), SX_ESYNTAX);
}

static void test_escape_nul_after_backslash(void **state)
{
	struct sx_error err;
	size_t pos = 0;
	struct sx *x;

	(void)state;
	assert_int_equal(read_at("\"\\\0\"", 4, &pos, NULL, &x, &err), SX_ESYNTAX);
	assert_string_equal(err.msg, "bad escape '\\\\x00' in string");
}

static void test_line_continuation(void **state)
{
	struct sx *x = read_ok("(\"ab\\\n   cd\" \"ab\\  \t\r\n\tcd\" \"a\\\n\")");
	struct sx_error err;

	(void)state;
	assert_str(sx_nth(x, 0), "abcd");
	assert_str(sx_nth(x, 1), "abcd");
	assert_str(sx_nth(x, 2), "a");
	sx_free(x);
	assert_int_equal(read_rc("\"ab\\  ", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("\"ab\\\r", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("\"ab\\\rx\"", &err), SX_ESYNTAX);
}

static void test_raw_newline_in_string(void **state)
{
	struct sx *x = read_ok("\"a\nb\"");

	(void)state;
	assert_str(x, "a\nb");
	sx_free(x);
}

static void test_incomplete_strings(void **state)
{
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc("(a\n\"abc", &err), SX_INCOMPLETE);
	assert_string_equal(err.msg, "input ends inside a string opened at line 2");
	assert_int_equal(err.off, 7);
	assert_int_equal(read_rc("\"abc\\", &err), SX_INCOMPLETE);
	assert_int_equal(read_rc("\"", &err), SX_INCOMPLETE);
}

/* ------------------------------------------------------- limits */

static void test_depth_at_limit(void **state)
{
	struct sx_limits lim = { 3, 100, 100 };
	struct sx_error err;
	char *deep = repeat("(", SX_DEFAULT_DEPTH, "a", ")");

	(void)state;
	assert_int_equal(read_rc_lim("(((a)))", &lim, &err), SX_OK);
	assert_int_equal(read_rc(deep, &err), SX_OK);
	free(deep);
}

static void test_depth_over_limit(void **state)
{
	struct sx_limits lim = { 3, 100, 100 };
	struct sx_error err;
	char *deep = repeat("(", SX_DEFAULT_DEPTH + 1, "a", ")");

	(void)state;
	assert_int_equal(read_rc_lim("(((\n(a))))", &lim, &err), SX_ELIMIT);
	assert_string_equal(err.msg, "list nested deeper than 3 levels");
	assert_int_equal(err.off, 4);
	assert_int_equal(err.line, 2);
	assert_int_equal(read_rc(deep, &err), SX_ELIMIT);
	assert_string_equal(err.msg, "list nested deeper than 64 levels");
	assert_int_equal(err.off, SX_DEFAULT_DEPTH);
	free(deep);
}

static void test_depth_limit_beats_truncation(void **state)
{
	struct sx_error err;
	char *deep = repeat("(", 100000, "", "");

	(void)state;
	assert_int_equal(read_rc(deep, &err), SX_ELIMIT);
	free(deep);
}

static void test_depth_zero_allows_atoms_only(void **state)
{
	struct sx_limits lim = { 0, 100, 100 };
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc_lim("abc", &lim, &err), SX_OK);
	assert_int_equal(read_rc_lim("\"s\"", &lim, &err), SX_OK);
	assert_int_equal(read_rc_lim("()", &lim, &err), SX_ELIMIT);
}

static void test_atom_limit_strings(void **state)
{
	struct sx_limits lim = { 8, 100, 4 };
	struct sx_error err;
	char *huge;

	(void)state;
	assert_int_equal(read_rc_lim("\"abcd\"", &lim, &err), SX_OK);
	/* The limit counts decoded bytes, not escapes. */
	assert_int_equal(read_rc_lim("\"\\x41;\\x42;\\n\\t\"", &lim, &err), SX_OK);
	assert_int_equal(read_rc_lim("(x\n\"abcde\")", &lim, &err), SX_ELIMIT);
	assert_string_equal(err.msg, "string longer than 4 bytes");
	assert_int_equal(err.off, 3);
	assert_int_equal(err.line, 2);
	/* An over-long string is refused before its end arrives. */
	assert_int_equal(read_rc_lim("\"abcdefgh", &lim, &err), SX_ELIMIT);
	huge = repeat("x", SX_DEFAULT_ATOM + 2, "", "");
	huge[0] = '"';
	assert_int_equal(read_rc(huge, &err), SX_ELIMIT);
	assert_string_equal(err.msg, "string longer than 65536 bytes");
	huge[SX_DEFAULT_ATOM + 1] = '"';        /* exactly 65536 between quotes */
	assert_int_equal(read_rc(huge, &err), SX_OK);
	free(huge);
}

static void test_atom_limit_symbols_and_opaque(void **state)
{
	struct sx_limits lim = { 8, 100, 4 };
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc_lim("abcd", &lim, &err), SX_OK);
	assert_int_equal(read_rc_lim("abcde", &lim, &err), SX_ELIMIT);
	assert_string_equal(err.msg, "symbol longer than 4 bytes");
	assert_int_equal(read_rc_lim("#<abcd>", &lim, &err), SX_OK);
	assert_int_equal(read_rc_lim("#<abcde>", &lim, &err), SX_ELIMIT);
	assert_int_equal(read_rc_lim("#<abcdefgh", &lim, &err), SX_ELIMIT);
	/* Integers store no text: a long one is still a number. */
	assert_int_equal(read_rc_lim("123456789", &lim, &err), SX_OK);
}

static void test_node_limit(void **state)
{
	struct sx_limits lim = { 8, 3, 100 };
	struct sx_error err;

	(void)state;
	assert_int_equal(read_rc_lim("(a b)", &lim, &err), SX_OK);
	assert_int_equal(read_rc_lim("(a b c)", &lim, &err), SX_ELIMIT);
	assert_string_equal(err.msg, "datum has more than 3 nodes");
	assert_int_equal(err.off, 5);
	assert_int_equal(read_rc_lim("'x", &lim, &err), SX_OK);
	assert_int_equal(read_rc_lim("'(x)", &lim, &err), SX_ELIMIT);
	/* The count is per datum, not per buffer. */
	{
		const char *two = "(a b) (c d)";
		size_t pos = 0;
		struct sx *x;

		assert_int_equal(read_at(two, 11, &pos, &lim, &x, &err), SX_OK);
		sx_free(x);
		assert_int_equal(read_at(two, 11, &pos, &lim, &x, &err), SX_OK);
		sx_free(x);
	}
}

static void test_default_limits(void **state)
{
	(void)state;
	assert_int_equal(sx_default_limits.max_depth, SX_DEFAULT_DEPTH);
	assert_int_equal(sx_default_limits.max_nodes, SX_DEFAULT_NODES);
	assert_int_equal(sx_default_limits.max_atom, SX_DEFAULT_ATOM);
}

/* -------------------------------------------------------- writer */

static char *write_tree(const struct sx *x)
{
	struct sx_buf b = { NULL, 0, 0 };

	assert_int_equal(sx_write(&b, x), 0);
	assert_non_null(b.s);
	assert_int_equal(strlen(b.s), b.len);
	return b.s;
}

static void test_write_forms(void **state)
{
	const char *text = "(a \"s\" -12 #t #f #<undef> () (b (c)) :k <x> 1.5)";
	struct sx *x = read_ok("  ( a \"s\"\n-12 #true #f #<undef> ( ) (b (c))"
			       " :k <x> 1.5 ; c\n)");
	char *out = write_tree(x);

	(void)state;
	assert_string_equal(out, text);
	free(out);
	sx_free(x);
}

static void test_write_quote_form(void **state)
{
	struct sx *x = read_ok("'x");
	char *out = write_tree(x);

	(void)state;
	assert_string_equal(out, "(quote x)");
	free(out);
	sx_free(x);
}

static void test_write_string_escapes(void **state)
{
	static const char raw[] = "a\"b\\c\nd\te\rf\x01g\0h\x7f\x1b\xc3\xa9";
	struct sx_buf b = { NULL, 0, 0 };
	struct sx *x;

	(void)state;
	assert_int_equal(sx_write_string(&b, raw, sizeof raw - 1), 0);
	assert_string_equal(b.s, "\"a\\\"b\\\\c\\nd\\te\\rf\\x01;g\\x00;h"
			    "\\x7f;\\x1b;\xc3\xa9\"");
	x = read_ok(b.s);
	assert_int_equal(x->u.atom.len, sizeof raw - 1);
	assert_memory_equal(x->u.atom.s, raw, sizeof raw - 1);
	sx_free(x);
	sx_buf_free(&b);
}

static void test_write_string_all_bytes_round_trip(void **state)
{
	char raw[256];
	struct sx_buf b = { NULL, 0, 0 };
	struct sx *x;

	(void)state;
	for (int i = 0; i < 256; i++)
		raw[i] = (char)i;
	assert_int_equal(sx_write_string(&b, raw, sizeof raw), 0);
	x = read_ok(b.s);
	assert_int_equal(x->type, SX_STRING);
	assert_int_equal(x->u.atom.len, sizeof raw);
	assert_memory_equal(x->u.atom.s, raw, sizeof raw);
	sx_free(x);
	sx_buf_free(&b);
}

static void test_write_empty_string(void **state)
{
	struct sx_buf b = { NULL, 0, 0 };

	(void)state;
	assert_int_equal(sx_write_string(&b, NULL, 0), 0);
	assert_string_equal(b.s, "\"\"");
	sx_buf_free(&b);
}

static void test_write_round_trip_recorded(void **state)
{
	cJSON *all = vectors_load();
	const cJSON *v;
	size_t trips = 0;

	(void)state;
	cJSON_ArrayForEach(v, all) {
		const char *received = vector_field(v, "received");
		struct sx *data[2];

		if (*received == '\0')
			continue;
		read_reply(received, &data[0], &data[1]);
		for (int i = 0; i < 2; i++) {
			char *out = write_tree(data[i]);
			size_t pos = 0, len = strlen(out);
			struct sx *back;

			assert_int_equal(read_at(out, len, &pos, NULL, &back, NULL),
					 SX_OK);
			assert_int_equal(pos, len);
			assert_true(sx_equal(data[i], back));
			sx_free(back);
			sx_free(data[i]);
			free(out);
			trips++;
		}
	}
	assert_int_equal(trips, 62);
	cJSON_Delete(all);
}

static void test_write_matches_kahua_bytes(void **state)
{
	cJSON *all = vectors_load();
	const char *ls = vector_received(all, "(ls)");
	struct sx_buf b = { NULL, 0, 0 };
	struct sx *hdr, *body;

	(void)state;
	/* Kahua writes the same form: one space, "\n" after each datum. */
	read_reply(ls, &hdr, &body);
	assert_int_equal(sx_write(&b, hdr), 0);
	assert_int_equal(sx_buf_append(&b, "\n", 1), 0);
	assert_int_equal(sx_write(&b, body), 0);
	assert_int_equal(sx_buf_append(&b, "\n", 1), 0);
	assert_string_equal(b.s, ls);
	sx_buf_free(&b);
	sx_free(hdr);
	sx_free(body);
	cJSON_Delete(all);
}

static void test_write_appends(void **state)
{
	struct sx_buf b = { NULL, 0, 0 };
	struct sx *x = read_ok("(ls)");

	(void)state;
	assert_int_equal(sx_buf_append(&b, "H ", 2), 0);
	assert_int_equal(sx_write(&b, x), 0);
	assert_string_equal(b.s, "H (ls)");
	assert_int_equal(b.len, 6);
	sx_buf_free(&b);
	sx_free(x);
}

static void test_write_failure_leaves_buffer(void **state)
{
	struct sx_buf b = { NULL, 0, 0 };
	struct sx sym = { .type = SX_SYMBOL };
	struct sx *items[2] = { &sym, NULL };
	struct sx broken = { .type = SX_LIST };
	size_t cap;

	(void)state;
	sym.u.atom.s = (char *)"abc";
	sym.u.atom.len = 3;
	broken.u.list.items = items;
	broken.u.list.n = 2;
	/* A hole in the tree fails after "(abc " was written: all undone. */
	assert_int_equal(sx_buf_append(&b, "keep", 4), 0);
	cap = b.cap;
	assert_int_equal(sx_write(&b, &broken), -1);
	assert_string_equal(b.s, "keep");
	assert_int_equal(b.len, 4);
	assert_int_equal(b.cap, cap);
	sx_buf_free(&b);
	/* From an empty buffer, it stays empty. */
	assert_int_equal(sx_write(&b, &broken), -1);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	assert_int_equal(sx_write(&b, NULL), -1);
	assert_null(b.s);
}

static void test_buf_append_grows(void **state)
{
	struct sx_buf b = { NULL, 0, 0 };

	(void)state;
	assert_int_equal(sx_buf_append(&b, "", 0), 0);
	assert_non_null(b.s);
	assert_string_equal(b.s, "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sx_buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 10000);
	assert_true(b.cap > b.len);
	assert_int_equal(strlen(b.s), 10000);
	assert_memory_equal(b.s + 9990, "0123456789", 10);
	sx_buf_free(&b);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void test_buf_append_overflow_leaves_buffer(void **state)
{
	struct sx_buf b = { NULL, 0, 0 };

	(void)state;
	assert_int_equal(sx_buf_append(&b, "abc", 3), 0);
	assert_int_equal(sx_buf_append(&b, "x", SIZE_MAX - 2), -1);
	assert_string_equal(b.s, "abc");
	assert_int_equal(b.len, 3);
	assert_int_equal(sx_buf_append(&b, NULL, 1), -1);
	assert_int_equal(b.len, 3);
	sx_buf_free(&b);
}

static void test_buf_printf(void **state)
{
	struct sx_buf b = { NULL, 0, 0 };
	char *big = repeat("y", 500, "", "");

	(void)state;
	assert_int_equal(sx_buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal(b.s, "42-x");
	assert_int_equal(sx_buf_printf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 4 + 502);
	assert_int_equal(strlen(b.s), b.len);
	assert_int_equal(b.s[b.len - 1], ']');
	assert_int_equal(sx_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 506);
	free(big);
	sx_buf_free(&b);
}

/* ----------------------------------------------------- accessors */

static void test_plist_get(void **state)
{
	struct sx *x = read_ok("(:a 1 :b :c :c 3 \"d\" 4 :e)");
	struct sx *sym = read_ok(":a");

	(void)state;
	assert_int(sx_plist_get(x, ":a"), 1);
	assert_symbol(sx_plist_get(x, ":b"), ":c");
	/* Walked in pairs: the value ":c" at index 3 is not a key. */
	assert_int(sx_plist_get(x, ":c"), 3);
	assert_null(sx_plist_get(x, "d"));      /* keys are symbols only */
	assert_null(sx_plist_get(x, ":e"));     /* odd length: no value */
	assert_null(sx_plist_get(x, ":zz"));
	assert_null(sx_plist_get(x, NULL));
	assert_null(sx_plist_get(sym, ":a"));
	assert_null(sx_plist_get(NULL, ":a"));
	sx_free(x);
	sx_free(sym);
}

static void test_plist_odd_single(void **state)
{
	struct sx *x = read_ok("(:a)");
	struct sx *e = read_ok("()");

	(void)state;
	assert_null(sx_plist_get(x, ":a"));
	assert_null(sx_plist_get(e, ":a"));
	sx_free(x);
	sx_free(e);
}

static void test_alist_get(void **state)
{
	struct sx *x = read_ok("(() \"x-kahua-status\" (x-kahua-status \"no\") "
			       "(\"x-kahua-status\" \"OK\") (\"x-kahua-status\" \"2nd\")"
			       " (\"k\"))");
	struct sx *hit;

	(void)state;
	hit = sx_alist_get(x, "x-kahua-status");
	assert_non_null(hit);
	assert_int_equal(sx_len(hit), 2);
	assert_str(sx_nth(hit, 0), "x-kahua-status");
	assert_str(sx_nth(hit, 1), "OK");
	assert_int_equal(sx_len(sx_alist_get(x, "k")), 1);
	assert_null(sx_alist_get(x, "x-kahua"));
	assert_null(sx_alist_get(x, NULL));
	assert_null(sx_alist_get(sx_nth(x, 1), "x-kahua-status"));
	assert_null(sx_alist_get(NULL, "k"));
	sx_free(x);
}

static void test_alist_key_with_nul(void **state)
{
	struct sx *x = read_ok("((\"ab\\0c\" 1) (\"ab\" 2))");

	(void)state;
	assert_int(sx_nth(sx_alist_get(x, "ab"), 1), 2);
	sx_free(x);
}

static void test_accessors_on_null_and_wrong_types(void **state)
{
	struct sx *x = read_ok("(sym \"str\" 7 #t #<op> (l))");
	struct sx *sym = sx_nth(x, 0), *str = sx_nth(x, 1), *num = sx_nth(x, 2);

	(void)state;
	assert_false(sx_is_list(NULL));
	assert_false(sx_is_symbol(NULL, NULL));
	assert_false(sx_is_string(NULL));
	assert_int_equal(sx_len(NULL), 0);
	assert_null(sx_nth(NULL, 0));
	assert_null(sx_text(NULL));
	assert_true(sx_is_list(x));
	assert_false(sx_is_list(sym));
	assert_true(sx_is_symbol(sym, NULL));
	assert_true(sx_is_symbol(sym, "sym"));
	assert_false(sx_is_symbol(sym, "sy"));
	assert_false(sx_is_symbol(str, "str"));
	assert_true(sx_is_string(str));
	assert_false(sx_is_string(sym));
	assert_int_equal(sx_len(str), 0);
	assert_null(sx_nth(str, 0));
	assert_null(sx_nth(x, 6));
	assert_non_null(sx_nth(x, 5));
	assert_null(sx_text(num));
	assert_null(sx_text(sx_nth(x, 3)));
	assert_null(sx_text(x));
	assert_string_equal(sx_text(sx_nth(x, 4)), "op");
	sx_free(x);
	sx_free(NULL);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(sx_type_name(SX_LIST), "list");
	assert_string_equal(sx_type_name(SX_SYMBOL), "symbol");
	assert_string_equal(sx_type_name(SX_STRING), "string");
	assert_string_equal(sx_type_name(SX_INT), "integer");
	assert_string_equal(sx_type_name(SX_BOOL), "boolean");
	assert_string_equal(sx_type_name(SX_OPAQUE), "opaque object");
	assert_string_equal(sx_type_name((enum sx_type)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_sent_parse),
		cmocka_unit_test(test_vectors_received_header_body),
		cmocka_unit_test(test_ls_reply_values),
		cmocka_unit_test(test_spvr_error_header),
		cmocka_unit_test(test_error_body_escapes_decoded),
		cmocka_unit_test(test_session_domain_bools),
		cmocka_unit_test(test_page_body_nested_lists),
		cmocka_unit_test(test_version_reply_is_string),
		cmocka_unit_test(test_truncated_ls_reply_every_offset),
		cmocka_unit_test(test_truncated_every_reply_every_offset),
		cmocka_unit_test(test_opaque_undef),
		cmocka_unit_test(test_opaque_nested_angles),
		cmocka_unit_test(test_opaque_cut_is_incomplete),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_hash_cut_is_incomplete),
		cmocka_unit_test(test_unsupported_hash_forms),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_integer_overflow),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_atom_at_end_is_complete),
		cmocka_unit_test(test_atoms_end_at_delimiters),
		cmocka_unit_test(test_symbol_holds_nul_byte),
		cmocka_unit_test(test_whitespace_kinds),
		cmocka_unit_test(test_node_offsets),
		cmocka_unit_test(test_empty_and_nested_lists),
		cmocka_unit_test(test_long_list_grows),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_quote_errors),
		cmocka_unit_test(test_quote_counts_as_depth),
		cmocka_unit_test(test_line_comments),
		cmocka_unit_test(test_datum_comments),
		cmocka_unit_test(test_datum_comment_edges),
		cmocka_unit_test(test_app_servers_file),
		cmocka_unit_test(test_kahua_conf),
		cmocka_unit_test(test_end_leaves_pos),
		cmocka_unit_test(test_errors_leave_pos),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_err_may_be_null),
		cmocka_unit_test(test_unexpected_close),
		cmocka_unit_test(test_incomplete_list_names_line),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_hex_escapes),
		cmocka_unit_test(test_bad_hex_escapes),
		cmocka_unit_test(test_bad_escape),
		cmocka_unit_test(test_escape_nul_after_backslash),
		cmocka_unit_test(test_line_continuation),
		cmocka_unit_test(test_raw_newline_in_string),
		cmocka_unit_test(test_incomplete_strings),
		cmocka_unit_test(test_depth_at_limit),
		cmocka_unit_test(test_depth_over_limit),
		cmocka_unit_test(test_depth_limit_beats_truncation),
		cmocka_unit_test(test_depth_zero_allows_atoms_only),
		cmocka_unit_test(test_atom_limit_strings),
		cmocka_unit_test(test_atom_limit_symbols_and_opaque),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_default_limits),
		cmocka_unit_test(test_write_forms),
		cmocka_unit_test(test_write_quote_form),
		cmocka_unit_test(test_write_string_escapes),
		cmocka_unit_test(test_write_string_all_bytes_round_trip),
		cmocka_unit_test(test_write_empty_string),
		cmocka_unit_test(test_write_round_trip_recorded),
		cmocka_unit_test(test_write_matches_kahua_bytes),
		cmocka_unit_test(test_write_appends),
		cmocka_unit_test(test_write_failure_leaves_buffer),
		cmocka_unit_test(test_buf_append_grows),
		cmocka_unit_test(test_buf_append_overflow_leaves_buffer),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_plist_get),
		cmocka_unit_test(test_plist_odd_single),
		cmocka_unit_test(test_alist_get),
		cmocka_unit_test(test_alist_key_with_nul),
		cmocka_unit_test(test_accessors_on_null_and_wrong_types),
		cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests_name("sexp", tests, NULL, NULL);
}
