/*
 * The eval exchange: every recorded eval reply of a real Kahua parsed,
 * garbage refused without a crash, and the exchange against a worker
 * socket that answers, stays silent or is not there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "kahua_eval.h"
#include "vectors.h"

static cJSON *fail_vec, *ctl_vec, *combined_vec;

static struct eval_result parse(const char *text)
{
	struct eval_result res;

	memset(&res, 0x5a, sizeof res);
	kahua_eval_parse(text, strlen(text), &res);
	return res;
}

static void assert_numbers(struct eval_result r, long long conts, long long sessions, long long heap)
{
	assert_int_equal(r.outcome, EVAL_OK);
	assert_true(r.conts == conts);
	assert_true(r.sessions == sessions);
	assert_true(r.heap == heap);
}

static void assert_unreadable(struct eval_result r, const char *why)
{
	assert_int_equal(r.outcome, EVAL_UNREADABLE);
	assert_true(r.conts == -1 && r.sessions == -1 && r.heap == -1);
	assert_string_equal(r.why, why);
}

static void test_recorded_counts(void **state)
{
	(void)state;
	assert_numbers(parse(vector_received(fail_vec, "eval: continuation and state-session counts")),
		       7101, 72, -1);
	assert_numbers(parse(vector_received(fail_vec, "eval: the same after 10 page views")),
		       8101, 82, -1);
	assert_numbers(parse(vector_received(fail_vec, "eval: gc-stat")), -1, -1, 160186368);
}

static void test_recorded_errors(void **state)
{
	(void)state;
	assert_unreadable(parse(vector_received(fail_vec, "eval: an expression that raises")),
			  "eval answered ERROR: *** ERROR: pair required, but got ()");
	assert_unreadable(parse(vector_received(fail_vec, "eval: unbound variable")),
			  "eval answered ERROR: *** UNBOUND-VARIABLE-ERROR: unbound variable: no-such-procedure-here");
	assert_unreadable(parse(vector_received(fail_vec, "eval: timeout-mins")),
			  "eval value \"60\" is not (CONTINUATIONS SESSIONS GC-STAT)");
	assert_unreadable(parse(vector_received(ctl_vec, "DIRECT eval request")),
			  "eval value \"3\" is not (CONTINUATIONS SESSIONS GC-STAT)");
}

/* Every recorded eval reply parses to a verdict, never to nothing. */
static void test_every_recorded_eval_reply(void **state)
{
	const cJSON *c;
	size_t seen = 0;

	(void)state;
	cJSON_ArrayForEach(c, fail_vec) {
		const char *name = cJSON_GetObjectItem(c, "case")->valuestring;
		struct eval_result r;

		if (strncmp(name, "eval:", 5) != 0)
			continue;
		r = parse(cJSON_GetObjectItem(c, "received")->valuestring);
		assert_true(r.outcome == EVAL_OK || (r.outcome == EVAL_UNREADABLE && r.why[0] != '\0'));
		seen++;
	}
	assert_int_equal(seen, 6);
}

/* The program's own expression, recorded from a real Kahua (test/vectors/eval-combined.json). */
static void test_recorded_combined(void **state)
{
	(void)state;
	assert_numbers(parse(vector_received(combined_vec, "eval combined: continuations")),
		       1001, 11, 44683264);
	assert_numbers(parse(vector_received(combined_vec, "eval combined: the same after 10")),
		       2001, 21, 76365824);
	assert_numbers(parse(vector_received(combined_vec, "eval combined: a hello worker")),
		       1, 2, 33558528);
	/* What was sent is what the program sends. */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(combined_vec, 0), "sent")->valuestring,
			    kahua_eval_request);
}

static void test_combined_answer(void **state)
{
	(void)state;
	assert_numbers(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(8101 82 ((:total-heap-size 160186368)"
			     " (:free-bytes 8192000) (:bytes-since-gc 37845776) (:total-bytes 373938112)))\")\n"),
		       8101, 82, 160186368);
	/* Gauche up to 0.8.10 (Kahua 1.0.x sites): gc-stat is one flat list. */
	assert_numbers(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(8101 82 (:total-heap-size 160186368"
			     " :free-bytes 8192000 :bytes-since-gc 37845776 :total-bytes 373938112))\")\n"),
		       8101, 82, 160186368);
	assert_numbers(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(:free-bytes 1 :total-heap-size 4096)\")\n"),
		       -1, -1, 4096);
	assert_numbers(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(1 2 (:free-bytes 1 :total-heap-size))\")\n"),
		       1, 2, -1);
	/* Output the expression wrote on the way does not matter. */
	assert_numbers(parse("((\"x-kahua-status\" \"OK\"))\n(\"warn\\n\" \"x\" \"(0 1 ())\")\n"), 0, 1, -1);
	/* A value after the first (several values) is ignored. */
	assert_numbers(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(3 4)\" \"junk\")\n"), 3, 4, -1);
}

static void test_garbage(void **state)
{
	(void)state;
	assert_unreadable(parse(""), "eval reply unreadable (0 bytes)");
	assert_unreadable(parse(")))\x01 garbage (("), "eval reply unreadable (15 bytes)");
	assert_unreadable(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(1 2"),
			  "eval reply unreadable (38 bytes)");
	assert_unreadable(parse("((\"x-kahua-worker\" \"hello\"))\n(html)\n"), "eval reply has no x-kahua-status");
	assert_unreadable(parse("(\"x-kahua-status\" \"OK\")\n()\n"), "eval reply has no x-kahua-status");
	assert_unreadable(parse("((\"x-kahua-status\" \"SPVR-ERROR\" <error>))\n(\"m\" \"t\")\n"),
			  "eval answered status \"SPVR-ERROR\"");
	assert_unreadable(parse("((\"x-kahua-status\" \"ERROR\"))\n(1 2)\n"), "eval answered ERROR: (no message)");
	/* The worker's text reaches terminals: control characters are masked. */
	assert_unreadable(parse("((\"x-kahua-status\" \"ERROR\"))\n\"*** \\x1b;[2J boom\\nStack\"\n"),
			  "eval answered ERROR: *** ?[2J boom");
	assert_unreadable(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\")\n"),
			  "eval reply body is not (STDERR STDOUT VALUE)");
	assert_unreadable(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" 42)\n"),
			  "eval reply body is not (STDERR STDOUT VALUE)");
	assert_unreadable(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"#<undef>\")\n"),
			  "eval value \"#<undef>\" is not (CONTINUATIONS SESSIONS GC-STAT)");
	assert_unreadable(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(-1 2 ())\")\n"),
			  "eval value \"(-1 2 ())\" is not (CONTINUATIONS SESSIONS GC-STAT)");
	assert_unreadable(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(99999999999999999999 2)\")\n"),
			  "eval value \"(99999999999999999999 2)\" is not (CONTINUATIONS SESSIONS GC-STAT)");
	/* A heap figure of the wrong kind is unknown, the counts still stand. */
	assert_numbers(parse("((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(5 6 ((:total-heap-size big)))\")\n"),
		       5, 6, -1);
}

/* The request is fixed text: a header that names the eval and our session, then the expression. */
static void test_request_text(void **state)
{
	size_t pos = 0;
	struct sx *hdr = NULL, *body = NULL;
	size_t len = strlen(kahua_eval_request);

	(void)state;
	assert_int_equal(sx_read(kahua_eval_request, len, &pos, &sx_default_limits, &hdr, NULL), SX_OK);
	assert_int_equal(sx_read(kahua_eval_request, len, &pos, &sx_default_limits, &body, NULL), SX_OK);
	assert_int_equal(pos, len);             /* nothing after the body: Kahua resets otherwise */
	assert_string_equal(sx_text(sx_nth(sx_alist_get(hdr, "x-kahua-eval"), 1)), "#t");
	assert_string_equal(sx_text(sx_nth(sx_alist_get(hdr, "x-kahua-sgsid"), 1)), "kahua-restarter");
	assert_true(sx_is_symbol(sx_nth(body, 0), "with-module"));
	assert_true(sx_is_symbol(sx_nth(body, 1), "kahua.session"));
	sx_free(hdr);
	sx_free(body);
}

/* ---- the exchange against real Unix sockets ---- */

struct fake {
	char dir[64];
	struct kahua_site site;
	int lfd[3];
	const char *answer[3];  /* NULL: accept, read, never answer */
	pthread_t t[3];
	char got[3][1024];
};

struct serve_arg {
	struct fake *f;
	int i;
};

static void *serve(void *p)
{
	struct serve_arg *a = p;
	struct fake *f = a->f;
	int fd = accept(f->lfd[a->i], NULL, NULL);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return NULL;
	/* Read exactly the request, as a Kahua worker does. */
	while (n < strlen(kahua_eval_request) &&
	       (r = read(fd, f->got[a->i] + n, sizeof f->got[a->i] - 1 - n)) > 0)
		n += (size_t)r;
	if (f->answer[a->i] != NULL) {
		if (write(fd, f->answer[a->i], strlen(f->answer[a->i])) < 0)
			fail();
	} else {
		sleep(2);
	}
	close(fd);
	free(a);
	return NULL;
}

static void listen_at(struct fake *f, int i, const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct serve_arg *a = malloc(sizeof *a);

	snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s", f->dir, name);
	f->lfd[i] = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd[i] >= 0);
	assert_int_equal(bind(f->lfd[i], (struct sockaddr *)&addr, sizeof addr), 0);
	assert_int_equal(listen(f->lfd[i], 4), 0);
	a->f = f;
	a->i = i;
	assert_int_equal(pthread_create(&f->t[i], NULL, serve, a), 0);
}

static void test_exchange(void **state)
{
	static struct fake f;
	struct worker ws[4] = {
		{ .wid = "a:1", .type = "hello", .pid = 10 },
		{ .wid = "a:2", .type = "hello", .pid = 11 },
		{ .wid = "a:3", .type = "wiki", .pid = 12 },
		{ .wid = "gone:4", .type = "wiki", .pid = 13 },
	};
	struct eval_result res[4];
	long long t0;

	(void)state;
	snprintf(f.dir, sizeof f.dir, "/tmp/kr-eval-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	f.site.sockdir = f.dir;
	f.answer[0] = "((\"x-kahua-status\" \"OK\"))\n(\"\" \"\" \"(8101 82 ((:total-heap-size 160186368)))\")\n";
	f.answer[1] = NULL;
	f.answer[2] = vector_received(fail_vec, "eval: an expression that raises");
	listen_at(&f, 0, "a:1");
	listen_at(&f, 1, "a:2");
	listen_at(&f, 2, "a:3");
	t0 = kr_now_ms();
	kahua_eval_workers(&f.site, ws, 4, t0 + 500, res);
	/* One shared limit: the silent worker costs it once, and the others answered meanwhile. */
	assert_true(kr_now_ms() - t0 < 1500);
	assert_numbers(res[0], 8101, 82, 160186368);
	assert_int_equal(res[1].outcome, EVAL_NO_ANSWER);
	assert_string_equal(res[1].why, "no answer to the eval within the time limit");
	assert_int_equal(res[2].outcome, EVAL_UNREADABLE);
	assert_int_equal(res[3].outcome, EVAL_NO_ANSWER);
	assert_non_null(strstr(res[3].why, "gone:4"));
	assert_null(strstr(res[3].why, "kahua-spvr"));  /* a worker socket, not the supervisor's */
	for (int i = 0; i < 3; i++) {
		char path[256];

		assert_string_equal(f.got[i], kahua_eval_request);
		pthread_join(f.t[i], NULL);
		close(f.lfd[i]);
		snprintf(path, sizeof path, "%.63s/%.63s", f.dir, ws[i].wid);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(f.dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_counts),
		cmocka_unit_test(test_recorded_errors),
		cmocka_unit_test(test_every_recorded_eval_reply),
		cmocka_unit_test(test_recorded_combined),
		cmocka_unit_test(test_combined_answer),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_request_text),
		cmocka_unit_test(test_exchange),
	};
	int rc;

	fail_vec = failure_vectors_load();
	ctl_vec = vectors_load();
	combined_vec = vectors_load_path("test/vectors/eval-combined.json");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	cJSON_Delete(fail_vec);
	cJSON_Delete(ctl_vec);
	cJSON_Delete(combined_vec);
	return rc;
}
