/* Reply, ls, kahua.conf and app-servers parsing against recorded Kahua data. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "kahua_ctl.h"
#include "vectors.h"

static cJSON *vec;
static cJSON *fvec;

static void parse_ok(const char *text, struct kahua_reply *rep)
{
	struct kr_err err = { 0 };

	assert_int_equal(kahua_reply_parse(text, strlen(text), rep, &err), 0);
}

static void test_ls_reply(void **state)
{
	struct kahua_reply rep;
	struct worker_list wl;
	struct kr_err err = { 0 };

	(void)state;
	parse_ok(vector_received(vec, "(ls)"), &rep);
	assert_true(rep.ok);
	assert_int_equal(kahua_parse_workers(rep.body, &wl, &err), 0);
	assert_int_equal(wl.n, 3);
	assert_string_equal(wl.v[0].wid, "eeh:4wixl");
	assert_int_equal(wl.v[0].wno, 0);
	assert_string_equal(wl.v[0].type, "hello");
	assert_int_equal(wl.v[0].pid, 18665);
	assert_int_equal(wl.v[0].start_time, 1795723088LL);
	assert_string_equal(wl.v[2].type, "leaky");
	assert_int_equal(wl.v[2].wno, 2);
	worker_list_free(&wl);
	kahua_reply_free(&rep);
}

static void test_every_recorded_reply(void **state)
{
	const cJSON *c;
	size_t parsed = 0, refused = 0;

	(void)state;
	cJSON_ArrayForEach(c, vec) {
		const char *name = cJSON_GetObjectItem(c, "case")->valuestring;
		const char *recv = cJSON_GetObjectItem(c, "received")->valuestring;
		struct kahua_reply rep;
		struct kr_err err = { 0 };
		int rc = kahua_reply_parse(recv, strlen(recv), &rep, &err);

		/* Direct worker replies carry no x-kahua-status; the rest must parse. */
		if (strstr(name, "DIRECT") != NULL && strstr(name, "eval") == NULL) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err.msg, "x-kahua-status"));
			refused++;
			continue;
		}
		if (strstr(name, "session-initiating request to default") != NULL || recv[0] == '\0') {
			assert_int_equal(rc, -1);
			refused++;
			continue;
		}
		if (rc != 0)
			fail_msg("case %s: %s", name, err.msg);
		parsed++;
		kahua_reply_free(&rep);
	}
	assert_true(parsed >= 25);
	assert_true(refused >= 3);
}

static void test_spvr_error_reply(void **state)
{
	struct kahua_reply rep;
	struct worker_list known;
	struct worker ws[2] = { { .wid = "a:1", .wno = 0, .type = "hello", .pid = 10 },
				{ .wid = "a:2", .wno = 1, .type = "leaky", .pid = 11 } };
	char plain[256];

	(void)state;
	known.v = ws;
	known.n = 2;
	parse_ok(vector_received(vec, "(restart nosuchtype)"), &rep);
	assert_false(rep.ok);
	assert_string_equal(rep.errclass, "<error>");
	assert_non_null(strstr(rep.message, "doesn't have an entry for key nosuchtype"));
	kahua_explain_error(&rep, &known, plain, sizeof plain);
	assert_string_equal(plain, "no worker type 'nosuchtype' (types: hello, leaky)");
	kahua_reply_free(&rep);

	parse_ok(vector_received(vec, "(restart 999)"), &rep);
	kahua_explain_error(&rep, &known, plain, sizeof plain);
	assert_string_equal(plain, "no worker number 999 (types: hello, leaky)");
	kahua_reply_free(&rep);

	parse_ok(vector_received(vec, "(restart \"nosuchwid\")"), &rep);
	kahua_explain_error(&rep, &known, plain, sizeof plain);
	assert_string_equal(plain, "no worker with id \"nosuchwid\" (types: hello, leaky)");
	kahua_reply_free(&rep);

	/* Gauche up to 0.8.10 (Kahua 1.0.x sites) names no table. */
	parse_ok("((\"x-kahua-status\" \"SPVR-ERROR\" <error>))\n"
		 "(\"hash table doesn't have an entry for key 7\" \"*** ERROR: hash table doesn't have an entry for key 7\")\n",
		 &rep);
	assert_true(kahua_error_no_target(&rep));
	kahua_explain_error(&rep, &known, plain, sizeof plain);
	assert_string_equal(plain, "no worker number 7 (types: hello, leaky)");
	kahua_reply_free(&rep);

	parse_ok(vector_received(vec, "(run nosuchtype)"), &rep);
	assert_string_equal(rep.errclass, "<unbound-variable-error>");
	kahua_explain_error(&rep, &known, plain, sizeof plain);
	assert_string_equal(plain, "supervisor error <unbound-variable-error>: unbound variable: log-format");
	kahua_reply_free(&rep);
}

static void test_restart_reply_ids(void **state)
{
	struct kahua_reply rep;

	(void)state;
	parse_ok(vector_received(vec, "(restart *)"), &rep);
	assert_true(rep.ok);
	assert_int_equal(sx_len(rep.body), 3);
	assert_string_equal(sx_text(sx_nth(rep.body, 2)), "eew:1umza");
	kahua_reply_free(&rep);
}

static void expect_refused(const char *text, size_t len, const char *words)
{
	struct kahua_reply rep;
	struct kr_err err = { 0 };

	assert_int_equal(kahua_reply_parse(text, len, &rep, &err), -1);
	assert_int_equal(err.status, KR_UNAVAILABLE);
	if (strstr(err.msg, words) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err.msg, words);
	assert_null(rep.header);
	assert_null(rep.body);
}

static void test_bad_replies(void **state)
{
	static const char undef[] = "((\"x-kahua-status\" \"OK\"))\n#<undef>\n";
	static const char garbage[] = ")))\xff garbage ((";
	static const char status[] = "((\"x-kahua-status\" \"MAYBE\"))\n()\n";
	static const char notlist[] = "\"OK\"\n()\n";
	const char *ls = vector_received(vec, "(ls)");

	(void)state;
	expect_refused(undef, sizeof undef - 1, "not readable data");
	expect_refused(garbage, sizeof garbage - 1, "unreadable");
	expect_refused(status, sizeof status - 1, "neither OK nor SPVR-ERROR");
	expect_refused(notlist, sizeof notlist - 1, "not a list");
	expect_refused("", 0, "closed without replying");
	/* Every truncation of a real reply is refused as truncated. */
	for (size_t cut = 1; cut + 1 < strlen(ls); cut++) {
		struct kahua_reply rep;
		struct kr_err err = { 0 };

		if (kahua_reply_parse(ls, cut, &rep, &err) == 0) {
			/* Only a cut after the body's closing parenthesis is whole. */
			assert_true(cut >= strlen(ls) - 1);
			kahua_reply_free(&rep);
			continue;
		}
		assert_non_null(strstr(err.msg, "truncated") ? err.msg : strstr(err.msg, "missing"));
	}
}

static void test_deep_reply_refused(void **state)
{
	char buf[400];
	size_t n = (size_t)snprintf(buf, sizeof buf, "((\"x-kahua-status\" \"OK\"))\n");

	(void)state;
	for (int i = 0; i < 100; i++)
		buf[n++] = '(';
	for (int i = 0; i < 100; i++)
		buf[n++] = ')';
	expect_refused(buf, n, "deeper");
}

static void test_bad_worker_entries(void **state)
{
	static const char *bad[] = {
		"((:worker-id \"a:1\" :worker-count 0 :worker-type hello :start-time 1))",
		"((:worker-id \"a:1\" :worker-count 0 :worker-type hello :worker-pid 1 :start-time 1))",
		"((:worker-id \"a:1\" :worker-count -1 :worker-type hello :worker-pid 99 :start-time 1))",
		"((:worker-count 0 :worker-type hello :worker-pid 99 :start-time 1))",
		"((:worker-id \"a:1\" :worker-count 0 :worker-type hello :worker-pid #t :start-time 1))",
		"((:worker-id \"a:1\" :worker-count 0 :worker-type hello :worker-pid \"9\" :start-time 1))",
		"((:worker-id 12 :worker-count 0 :worker-type hello :worker-pid 99 :start-time 1))",
		"(42)",
		"#t",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sx *x = NULL;
		struct worker_list wl;
		struct kr_err err = { 0 };
		size_t pos = 0;

		assert_int_equal(sx_read(bad[i], strlen(bad[i]), &pos, &sx_default_limits, &x, NULL), SX_OK);
		assert_int_equal(kahua_parse_workers(x, &wl, &err), -1);
		assert_int_equal(err.status, KR_UNAVAILABLE);
		assert_null(wl.v);
		sx_free(x);
	}
}

/* The workers of a recorded reply, parsed as the program parses them. */
static void recorded_workers(const char *prefix, struct worker_list *wl)
{
	struct kahua_reply rep;
	struct kr_err err = { 0 };

	parse_ok(vector_received(fvec, prefix), &rep);
	assert_true(rep.ok);
	assert_int_equal(kahua_parse_workers(rep.body, wl, &err), 0);
	kahua_reply_free(&rep);
}

static void test_dead_entry_is_kept(void **state)
{
	struct worker_list wl;

	(void)state;
	recorded_workers("(ls) after a worker was killed", &wl);
	assert_int_equal(wl.n, 4);
	assert_string_equal(wl.v[0].wid, "czb:5d65u");
	assert_int_equal(wl.v[0].wno, 2);
	assert_string_equal(wl.v[0].type, "leaky");
	assert_int_equal(wl.v[0].pid, 0);
	/* Not broken: whether it is dead is for /proc to say (pid 0: dead). */
	assert_int_equal(wl.v[0].state, WORKER_LIVE);
	assert_int_equal(wl.v[1].pid, 16825);
	worker_list_free(&wl);
}

static void test_broken_entries_are_kept(void **state)
{
	struct worker_list wl;

	(void)state;
	recorded_workers("(ls) with two broken entries", &wl);
	assert_int_equal(wl.n, 5);
	/* Same id twice: only the number tells them apart. */
	assert_string_equal(wl.v[3].wid, "ERROR loading module");
	assert_string_equal(wl.v[4].wid, "ERROR loading module");
	assert_int_equal(wl.v[3].wno, 55);
	assert_int_equal(wl.v[4].wno, 56);
	assert_int_equal(wl.v[3].state, WORKER_BROKEN);
	assert_int_equal(wl.v[4].state, WORKER_BROKEN);
	assert_int_equal(wl.v[3].pid, 0);
	assert_int_equal(wl.v[4].pid, 19084);
	assert_non_null(strstr(wl.v[3].why, "did not load"));
	assert_non_null(strstr(wl.v[3].why, "ERROR loading module"));
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(wl.v[i].state, WORKER_LIVE);
	worker_list_free(&wl);

	recorded_workers("(run hello) when the app no longer loads", &wl);
	assert_int_equal(wl.n, 1);
	assert_int_equal(wl.v[0].state, WORKER_BROKEN);
	assert_int_equal(wl.v[0].wno, 56);
	assert_int_equal(wl.v[0].pid, 19084);
	worker_list_free(&wl);

	/* The kill of a broken entry answers the ls after it. */
	recorded_workers("(kill WNO) of a broken entry", &wl);
	assert_int_equal(wl.n, 4);
	assert_int_equal(wl.v[3].wno, 56);
	worker_list_free(&wl);
}

/* Every control-socket reply recorded from the failing Kahua parses. */
static void test_every_failure_reply(void **state)
{
	const cJSON *c;
	size_t lists = 0, errors = 0;

	(void)state;
	cJSON_ArrayForEach(c, fvec) {
		const char *sock = cJSON_GetObjectItem(c, "socket")->valuestring;
		const char *recv = cJSON_GetObjectItem(c, "received")->valuestring;
		struct kahua_reply rep;
		struct worker_list wl;
		struct kr_err err = { 0 };

		if (strcmp(sock, "SITE/socket/kahua") != 0)
			continue;
		parse_ok(recv, &rep);
		if (!rep.ok) {
			errors++;
			kahua_reply_free(&rep);
			continue;
		}
		/* ls, kill and run answer workers; restart ids; reload types. */
		if (sx_is_list(sx_nth(rep.body, 0))) {
			if (kahua_parse_workers(rep.body, &wl, &err) != 0)
				fail_msg("case %s: %s", cJSON_GetObjectItem(c, "case")->valuestring, err.msg);
			worker_list_free(&wl);
			lists++;
		}
		kahua_reply_free(&rep);
	}
	assert_true(lists >= 9);
	assert_int_equal(errors, 1);
}

static void test_restart_race_reply(void **state)
{
	const cJSON *c;
	struct kahua_reply rep;
	struct worker_list before, after;
	struct kr_err err = { 0 };
	const char *ls;

	(void)state;
	parse_ok(vector_received(fvec, "(restart \"WID\") under load"), &rep);
	assert_false(rep.ok);
	assert_string_equal(rep.errclass, "<system-error>");
	assert_string_equal(rep.message, "waitpid() failed: No child processes");
	assert_false(kahua_error_no_target(&rep));
	kahua_reply_free(&rep);
	/* Before: two hello workers; after: the old one gone, none started. */
	c = cJSON_GetArrayItem(fvec, cJSON_GetArraySize(fvec) - 1);
	ls = cJSON_GetObjectItem(c, "ls_before")->valuestring;
	parse_ok(ls, &rep);
	assert_int_equal(kahua_parse_workers(rep.body, &before, &err), 0);
	kahua_reply_free(&rep);
	ls = cJSON_GetObjectItem(c, "ls_after")->valuestring;
	parse_ok(ls, &rep);
	assert_int_equal(kahua_parse_workers(rep.body, &after, &err), 0);
	kahua_reply_free(&rep);
	assert_int_equal(before.n, 4);
	assert_int_equal(after.n, 3);
	assert_string_equal(before.v[2].wid, "euk:o501");
	for (size_t i = 0; i < after.n; i++)
		assert_string_not_equal(after.v[i].wid, "euk:o501");
	worker_list_free(&before);
	worker_list_free(&after);
}

/* Kahua lists a worker that printed nothing as #<eof>; any other #<...> is refused. */
static void test_eof_worker_id(void **state)
{
	static const char eof[] = "((\"x-kahua-status\" \"OK\"))\n"
		"((:worker-id #<eof> :worker-count 7 :worker-type hello :worker-pid #f :start-time 5))\n";
	static const char undef[] = "((\"x-kahua-status\" \"OK\"))\n"
		"((:worker-id \"a:1\" :worker-count 7 :worker-type hello :worker-pid #<undef> :start-time 5))\n";
	struct kahua_reply rep;
	struct worker_list wl;
	struct kr_err err = { 0 };

	(void)state;
	parse_ok(eof, &rep);
	assert_int_equal(kahua_parse_workers(rep.body, &wl, &err), 0);
	assert_int_equal(wl.n, 1);
	assert_string_equal(wl.v[0].wid, "#<eof>");
	assert_int_equal(wl.v[0].state, WORKER_BROKEN);
	assert_int_equal(wl.v[0].pid, 0);
	worker_list_free(&wl);
	kahua_reply_free(&rep);
	assert_int_equal(kahua_reply_parse(undef, sizeof undef - 1, &rep, &err), -1);
	assert_int_equal(err.status, KR_UNAVAILABLE);
}

static void test_wid_valid(void **state)
{
	(void)state;
	assert_true(kahua_wid_valid("eeh:4wixl"));
	assert_true(kahua_wid_valid("0:0"));
	assert_false(kahua_wid_valid("ERROR loading module"));
	assert_false(kahua_wid_valid(""));
	assert_false(kahua_wid_valid(":abc"));
	assert_false(kahua_wid_valid("abc:"));
	assert_false(kahua_wid_valid("ab:c:d"));
	assert_false(kahua_wid_valid("AB:cd"));
	assert_string_equal(worker_state_name(WORKER_LIVE), "live");
	assert_string_equal(worker_state_name(WORKER_DEAD), "dead");
	assert_string_equal(worker_state_name(WORKER_BROKEN), "broken");
}

static void conf(const char *text, struct kahua_site *site, int want)
{
	struct kr_err err = { 0 };

	memset(site, 0, sizeof *site);
	assert_int_equal(kahua_conf_parse(text, strlen(text), "/srv/site", "kahua.conf", site, &err), want);
	if (want < 0) {
		assert_int_equal(err.status, KR_CONFIG);
		assert_non_null(strstr(err.msg, "kahua.conf"));
	}
}

static void test_kahua_conf(void **state)
{
	struct kahua_site s;

	(void)state;
	conf("(make <kahua-config>)", &s, 0);
	assert_string_equal(s.sockdir, "/srv/site/socket");
	assert_string_equal(s.rundir, "/srv/site/run");
	assert_string_equal(s.logdir, "/srv/site/logs");
	assert_false(s.auto_restart);
	kahua_site_free(&s);
	conf(";; comment\n(make <kahua-config> :sockbase \"unix:/tmp/k\" :auto-restart #t\n :run-directory \"r\")\n", &s, 0);
	assert_string_equal(s.sockdir, "/tmp/k");
	assert_string_equal(s.rundir, "/srv/site/r");
	assert_true(s.auto_restart);
	kahua_site_free(&s);
	conf("(make <kahua-config> :sockbase \"unix:sock\")", &s, 0);
	assert_string_equal(s.sockdir, "/srv/site/sock");
	kahua_site_free(&s);
	conf("(make <kahua-config> :sockbase \"/abs/s\" :log-directory \"/var/log/k\")", &s, 0);
	assert_string_equal(s.sockdir, "/abs/s");
	assert_string_equal(s.logdir, "/var/log/k");
	kahua_site_free(&s);
	conf("(make <kahua-config> :sockbase 42)", &s, -1);
	conf("(make <kahua-config> :sockbase)", &s, -1);
	conf("(make <other-config>)", &s, -1);
	conf("(make <kahua-config>", &s, -1);
	conf("", &s, -1);
	conf("(make <kahua-config>) (again)", &s, -1);
}

static void test_app_servers(void **state)
{
	static const char text[] =
		";; -*-scheme-*-\n"
		"(;;(<type> :arguments (<arg> ...) :run-by-default <num> ...)\n"
		" (hello :arguments () :run-by-default 2)\n"
		" (leaky :arguments (\"--leak-mb\" \"5\") :run-by-default 1)\n"
		" (idle :arguments ())\n"
		" )\n";
	static const char *bad[] = { "(hello)", "((\"hello\"))", "((hello :run-by-default -1))",
				     "((hello :run-by-default two))", "(", "" };
	struct kahua_type *t;
	size_t n;
	struct kr_err err = { 0 };

	(void)state;
	assert_int_equal(kahua_app_servers_parse(text, sizeof text - 1, "app-servers", &t, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(t[0].name, "hello");
	assert_int_equal(t[0].run_by_default, 2);
	assert_string_equal(t[1].name, "leaky");
	assert_int_equal(t[1].run_by_default, 1);
	assert_int_equal(t[2].run_by_default, 0);
	free(t);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(kahua_app_servers_parse(bad[i], strlen(bad[i]), "app-servers", &t, &n, &err), -1);
		assert_int_equal(err.status, KR_CONFIG);
		assert_non_null(strstr(err.msg, "app-servers"));
		assert_null(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ls_reply),
		cmocka_unit_test(test_every_recorded_reply),
		cmocka_unit_test(test_spvr_error_reply),
		cmocka_unit_test(test_restart_reply_ids),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_deep_reply_refused),
		cmocka_unit_test(test_bad_worker_entries),
		cmocka_unit_test(test_dead_entry_is_kept),
		cmocka_unit_test(test_broken_entries_are_kept),
		cmocka_unit_test(test_every_failure_reply),
		cmocka_unit_test(test_restart_race_reply),
		cmocka_unit_test(test_eof_worker_id),
		cmocka_unit_test(test_wid_valid),
		cmocka_unit_test(test_kahua_conf),
		cmocka_unit_test(test_app_servers),
	};
	int rc;

	vec = vectors_load();
	fvec = failure_vectors_load();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	cJSON_Delete(vec);
	cJSON_Delete(fvec);
	return rc;
}
