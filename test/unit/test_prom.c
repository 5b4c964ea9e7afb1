/*
 * The Prometheus text file: every family announced, labels escaped, values
 * exact, and the file replaced by rename or left alone on failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "health.h"
#include "prom.h"
#include "report.h"
#include "fixtures.h"

#define SITE_LABEL "site=\"/srv/ka\\\"hua\\\\site\""   /* the escaped form of SITE */
static const char SITE[] = "/srv/ka\"hua\\site";

static int setup(void **state)
{
	return fx_setup(state, "kr-prom", "kahua.prom");
}

/* The worker number is the part of the id after the colon. */
static struct worker_obs pobs(const char *wid, const char *type, long long rss, long long pss)
{
	const char *colon = strchr(wid, ':');

	return obs(wid, colon ? strtol(colon + 1, NULL, 10) : 0, type, rss, pss, 3600);
}

/* A worker that answered the eval with these figures (-1: not in the answer). */
static struct worker_obs held(const char *wid, const char *type, enum eval_outcome outcome,
			      long long conts, long long sessions, long long heap)
{
	struct worker_obs o = pobs(wid, type, 50 * MB, -1);

	o.ev = (struct eval_result){ outcome, conts, sessions, heap, -1, "" };
	return o;
}

struct sample {
	struct run_report r;
	struct worker_obs before[5];
	struct worker_obs after[4];
	struct restart_step steps[4];
	struct type_count types[3];
	struct http_obs http[3];
	struct healed_entry healed[2];
};

static void type_count(struct type_count *t, const char *name, long running, long wanted)
{
	snprintf(t->type, sizeof t->type, "%s", name);
	t->running = running;
	t->wanted = wanted;
}

static void http(struct http_obs *h, const char *url, bool ok, double ms)
{
	memset(h, 0, sizeof *h);
	snprintf(h->url, sizeof h->url, "%s", url);
	h->res.ok = ok;
	h->res.ms = ms;
}

/*
 * A PSS run: hello restarted (60M PSS into 30M), leaky restarted with no
 * PSS (500M RSS into 50M), admin failed, one hello step abandoned; the
 * hello URL is checked twice.
 */
static void sample_report(struct sample *sm)
{
	struct run_report *r = &sm->r;

	memset(sm, 0, sizeof *sm);
	step(&sm->steps[0], pobs("hello:1", "hello", 80 * MB, 60 * MB),
	     pobs("hello:5", "hello", 47 * MB, 30 * MB), STEP_OK, "");
	step(&sm->steps[1], pobs("leaky:2", "leaky", 500 * MB, -1),
	     pobs("leaky:6", "leaky", 50 * MB, -1), STEP_OK, "");
	step(&sm->steps[2], pobs("admin:3", "admin", 100 * MB, 90 * MB),
	     pobs("", "", -1, -1), STEP_FAILED, "");
	step(&sm->steps[3], pobs("hello:9", "hello", 70 * MB, 50 * MB),
	     pobs("", "", -1, -1), STEP_ABANDONED, "");
	snprintf(sm->steps[1].recovered, sizeof sm->steps[1].recovered,
		 "waitpid race: replacement started with (run leaky)");
	sm->before[0] = sm->steps[0].old;
	sm->before[1] = sm->steps[1].old;
	sm->before[2] = sm->steps[2].old;
	sm->before[3] = sm->steps[3].old;
	sm->before[4] = pobs("leaky:0", "leaky", 60 * MB, -1);
	sm->after[0] = held("hello:7", "hello", EVAL_OK, 5, 1, -1);
	sm->after[1] = held("hello:5", "hello", EVAL_OK, 12, 3, 40 * MB);
	sm->after[2] = held("leaky:6", "leaky", EVAL_OK, 800, 8, 160 * MB);
	sm->after[3] = held("admin:3", "admin", EVAL_UNREADABLE, -1, -1, -1);
	r->before = sm->before;
	r->nbefore = 5;
	r->after = sm->after;
	r->nafter = 4;
	type_count(&sm->types[0], "hello", 2, 2);
	type_count(&sm->types[1], "leaky", 1, 2);
	sm->types[1].topped_up = true;
	type_count(&sm->types[2], "admin", 1, -1);
	http(&sm->http[0], "http://h:8080/hello/", true, 12.5);
	http(&sm->http[1], "http://h:8080/leaky/\"x\n", false, 1500);
	http(&sm->http[2], "http://h:8080/hello/", false, 99);
	r->site = SITE;
	r->command = "restart";
	r->strategy = "rolling";
	r->metric = "pss";
	r->started = 1764187200;
	r->duration_ms = 2500;
	r->steps = sm->steps;
	r->nsteps = 4;
	r->types = sm->types;
	r->ntypes = 3;
	r->http = sm->http;
	r->nhttp = 3;
	/* Two dead leaky entries found; one removed, the other refused. */
	sm->healed[0].w = pobs("leaky:7", "leaky", -1, -1).w;
	sm->healed[0].w.state = WORKER_DEAD;
	sm->healed[0].removed = true;
	sm->healed[1] = sm->healed[0];
	sm->healed[1].removed = false;
	r->healed = sm->healed;
	r->nhealed = 2;
	r->exit_status = KR_HEALTH;
}

static int count_lines(const char *text, const char *line)
{
	size_t n = strlen(line);
	int count = 0;

	for (const char *p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (strncmp(p, line, n) == 0 && p[n] == '\n')
			count++;
		if (strchr(p, '\n') == NULL)
			break;
	}
	return count;
}

static void assert_line(const char *text, const char *line)
{
	if (count_lines(text, line) != 1)
		fail_msg("want exactly one line \"%s\" in:\n%s", line, text);
}

static void assert_no_line_starting(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(text, prefix, n) == 0)
		fail_msg("unexpected line \"%s...\"", prefix);
	for (const char *p = strchr(text, '\n'); p != NULL; p = strchr(p + 1, '\n'))
		if (strncmp(p + 1, prefix, n) == 0)
			fail_msg("unexpected line \"%s...\"", prefix);
}

#define MAX_FAMILIES 32

/*
 * Structure: every sample's family has one # HELP and one # TYPE gauge
 * line before it, and a family's samples are contiguous.
 */
static int check_structure(char *text)
{
	char *families[MAX_FAMILIES];
	int nfam = 0, samples = 0;
	char *current = NULL;
	bool have_help = false;

	assert_int_equal(text[strlen(text) - 1], '\n');
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char name[128];

		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", name), 1);
			assert_true(strncmp(name, "kahua_restarter_", 16) == 0 ||
				    strncmp(name, "kahua_worker_", 13) == 0);
			for (int i = 0; i < nfam; i++)
				assert_string_not_equal(families[i], name);
			assert_true(nfam < MAX_FAMILIES);
			families[nfam++] = line + 7;
			line[7 + strlen(name)] = '\0';
			assert_true(strlen(line + 8 + strlen(name)) > 0);    /* help text */
			current = NULL;
			have_help = true;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_true(have_help);
			assert_int_equal(sscanf(line + 7, "%127s", name), 1);
			assert_string_equal(name, families[nfam - 1]);
			assert_string_equal(line + 7 + strlen(name), " gauge");
			current = families[nfam - 1];
			have_help = false;
			continue;
		}
		assert_true(line[0] != '#');
		assert_non_null(current);
		assert_true(strncmp(line, current, strlen(current)) == 0);
		assert_int_equal(line[strlen(current)], '{');
		assert_true(strncmp(line + strlen(current) + 1, SITE_LABEL, strlen(SITE_LABEL)) == 0);
		assert_int_not_equal(line[strlen(line) - 1], ' ');
		samples++;
	}
	return samples;
}

static void test_metrics_content(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	struct stat st;
	char *text;
	static const char *const families[] = {
		"workers", "workers_wanted", "worker_memory_bytes", "restarts", "restart_failures",
		"memory_freed_bytes", "last_run_timestamp_seconds", "last_run_duration_seconds",
		"last_exit_status", "http_check_duration_seconds", "http_check_up", "healed_entries",
		"recovered_races", "last_attempt_timestamp_seconds", "last_attempt_skipped",
	};

	sample_report(&sm);
	assert_int_equal(prom_write(f->path, &sm.r, &err), 0);
	assert_int_equal(stat(f->tmp, &st), -1);
	assert_int_equal(errno, ENOENT);
	text = slurp(f->path, NULL);

	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		char help[96], type[96];

		snprintf(help, sizeof help, "# HELP kahua_restarter_%s ", families[i]);
		snprintf(type, sizeof type, "# TYPE kahua_restarter_%s gauge", families[i]);
		assert_non_null(strstr(text, help));
		assert_line(text, type);
	}
	assert_line(text, "kahua_restarter_last_run_timestamp_seconds{" SITE_LABEL "} 1764187200");
	assert_line(text, "kahua_restarter_last_run_duration_seconds{" SITE_LABEL "} 2.5");
	assert_line(text, "kahua_restarter_last_exit_status{" SITE_LABEL "} 1");
	/* 30M of PSS from hello; leaky had no PSS, so RSS: 450M. */
	assert_line(text, "kahua_restarter_memory_freed_bytes{" SITE_LABEL "} 503316480");
	assert_line(text, "kahua_restarter_workers{" SITE_LABEL ",type=\"hello\"} 2");
	assert_line(text, "kahua_restarter_workers{" SITE_LABEL ",type=\"leaky\"} 1");
	assert_line(text, "kahua_restarter_workers{" SITE_LABEL ",type=\"admin\"} 1");
	assert_line(text, "kahua_restarter_workers_wanted{" SITE_LABEL ",type=\"hello\"} 2");
	assert_line(text, "kahua_restarter_workers_wanted{" SITE_LABEL ",type=\"leaky\"} 2");
	assert_no_line_starting(text, "kahua_restarter_workers_wanted{" SITE_LABEL ",type=\"admin\"}");
	assert_line(text, "kahua_restarter_restarts{" SITE_LABEL ",type=\"hello\"} 1");
	assert_line(text, "kahua_restarter_restarts{" SITE_LABEL ",type=\"leaky\"} 1");
	assert_line(text, "kahua_restarter_restarts{" SITE_LABEL ",type=\"admin\"} 0");
	assert_line(text, "kahua_restarter_restart_failures{" SITE_LABEL ",type=\"hello\"} 0");
	assert_line(text, "kahua_restarter_restart_failures{" SITE_LABEL ",type=\"leaky\"} 0");
	assert_line(text, "kahua_restarter_restart_failures{" SITE_LABEL ",type=\"admin\"} 1");
	assert_line(text, "kahua_restarter_healed_entries{" SITE_LABEL ",type=\"leaky\"} 1");
	assert_line(text, "kahua_restarter_healed_entries{" SITE_LABEL ",type=\"hello\"} 0");
	assert_line(text, "kahua_restarter_recovered_races{" SITE_LABEL ",type=\"leaky\"} 1");
	assert_line(text, "kahua_restarter_recovered_races{" SITE_LABEL ",type=\"hello\"} 0");
	/* Labelled by rank within the type, never by the worker's id. */
	assert_line(text, "kahua_restarter_worker_memory_bytes{" SITE_LABEL
		    ",type=\"hello\",rank=\"0\",metric=\"pss\"} 62914560");
	assert_line(text, "kahua_restarter_worker_memory_bytes{" SITE_LABEL
		    ",type=\"leaky\",rank=\"1\",metric=\"rss\"} 524288000");
	assert_line(text, "kahua_restarter_worker_memory_bytes{" SITE_LABEL
		    ",type=\"admin\",rank=\"0\",metric=\"pss\"} 94371840");
	for (size_t i = 0; i < 5; i++)          /* no worker id anywhere */
		assert_null(strstr(text, sm.before[i].w.wid));
	for (size_t i = 0; i < 4; i++)
		assert_null(strstr(text, sm.after[i].w.wid));
	/* What the workers hold after the run; unknown figures are left out. */
	assert_line(text, "kahua_worker_continuations{" SITE_LABEL ",type=\"hello\",rank=\"0\"} 12");
	assert_line(text, "kahua_worker_continuations{" SITE_LABEL ",type=\"hello\",rank=\"1\"} 5");
	assert_line(text, "kahua_worker_continuations{" SITE_LABEL ",type=\"leaky\",rank=\"0\"} 800");
	assert_line(text, "kahua_worker_state_sessions{" SITE_LABEL ",type=\"hello\",rank=\"0\"} 3");
	assert_line(text, "kahua_worker_state_sessions{" SITE_LABEL ",type=\"hello\",rank=\"1\"} 1");
	assert_line(text, "kahua_worker_state_sessions{" SITE_LABEL ",type=\"leaky\",rank=\"0\"} 8");
	assert_line(text, "kahua_worker_heap_bytes{" SITE_LABEL ",type=\"hello\",rank=\"0\"} 41943040");
	assert_line(text, "kahua_worker_heap_bytes{" SITE_LABEL ",type=\"leaky\",rank=\"0\"} 167772160");
	assert_no_line_starting(text, "kahua_worker_heap_bytes{" SITE_LABEL ",type=\"hello\",rank=\"1\"}");
	assert_null(strstr(text, "type=\"admin\",rank=\"0\"} "));
	/* The repeated URL appears once, with its latest result. */
	assert_line(text, "kahua_restarter_http_check_up{" SITE_LABEL
		    ",url=\"http://h:8080/hello/\"} 0");
	assert_line(text, "kahua_restarter_http_check_up{" SITE_LABEL
		    ",url=\"http://h:8080/leaky/\\\"x\\n\"} 0");
	assert_line(text, "kahua_restarter_http_check_duration_seconds{" SITE_LABEL
		    ",url=\"http://h:8080/hello/\"} 0.099");
	assert_line(text, "kahua_restarter_http_check_duration_seconds{" SITE_LABEL
		    ",url=\"http://h:8080/leaky/\\\"x\\n\"} 1.5");
	/* A run that saw the workers: its own start, not held back. */
	assert_line(text, "kahua_restarter_last_attempt_timestamp_seconds{" SITE_LABEL "} 1764187200");
	assert_line(text, "kahua_restarter_last_attempt_skipped{" SITE_LABEL "} 0");
	assert_int_equal(check_structure(text), 4 + 3 + 2 + 3 + 3 + 3 + 3 + 3 + 3 + 3 + 2 + 2 + 2 + 2);
	free(text);
}

/* The freed figure is the one the JSON report gives. */
static void test_freed_matches_json_report(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	bool failed = false;
	cJSON *j;
	char line[160], *text;

	sample_report(&sm);
	j = report_to_json(&sm.r, &failed);
	assert_non_null(j);
	assert_false(failed);
	snprintf(line, sizeof line, "kahua_restarter_memory_freed_bytes{" SITE_LABEL "} %.0f",
		 cJSON_GetObjectItemCaseSensitive(j, "memory_freed_bytes")->valuedouble);
	cJSON_Delete(j);
	assert_int_equal(prom_write(f->path, &sm.r, &err), 0);
	text = slurp(f->path, NULL);
	assert_line(text, line);
	free(text);
}

/* Types known only from the steps still get restart counts. */
static void test_types_from_steps(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	char *text;

	sample_report(&sm);
	sm.r.ntypes = 0;
	sm.r.nhttp = 0;
	sm.r.site = NULL;
	assert_int_equal(prom_write(f->path, &sm.r, &err), 0);
	text = slurp(f->path, NULL);
	assert_line(text, "kahua_restarter_restarts{site=\"\",type=\"hello\"} 1");
	assert_line(text, "kahua_restarter_restart_failures{site=\"\",type=\"admin\"} 1");
	assert_null(strstr(text, "kahua_restarter_workers{"));
	assert_null(strstr(text, "# HELP kahua_restarter_workers "));
	assert_null(strstr(text, "http_check"));
	free(text);
}

static void test_replaces_by_rename(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	struct stat before, after;
	mode_t old_umask;
	char *text;

	put_file(f->path, "w", "old content\n", 12);
	assert_int_equal(stat(f->path, &before), 0);
	sample_report(&sm);
	old_umask = umask(077);
	assert_int_equal(prom_write(f->path, &sm.r, &err), 0);
	umask(old_umask);
	assert_int_equal(stat(f->path, &after), 0);
	/* A new inode: the old file was never rewritten in place. */
	assert_true(after.st_ino != before.st_ino);
	assert_int_equal(after.st_mode & 07777, 0644);
	text = slurp(f->path, NULL);
	assert_true(strncmp(text, "# HELP kahua_restarter_", 23) == 0);
	assert_null(strstr(text, "old content"));
	free(text);
	assert_int_equal(access(f->tmp, F_OK), -1);
}

static void test_missing_directory(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	char path[160], tmp[170];

	snprintf(path, sizeof path, "%s/no/such/kahua.prom", f->dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	sample_report(&sm);
	assert_int_equal(prom_write(path, &sm.r, &err), -1);
	assert_int_equal(err.status, KR_CANTCREAT);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file or directory"));
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(path, F_OK), -1);
}

/* The rename fails after the temp file was written: the temp file goes. */
static void test_failed_rename_leaves_no_tmp(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	struct stat st;

	assert_int_equal(mkdir(f->path, 0755), 0);
	sample_report(&sm);
	assert_int_equal(prom_write(f->path, &sm.r, &err), -1);
	assert_int_equal(err.status, KR_CANTCREAT);
	assert_non_null(strstr(err.msg, f->path));
	assert_non_null(strstr(err.msg, "rename"));
	assert_int_equal(access(f->tmp, F_OK), -1);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

/* A symlink planted at PATH.tmp is not followed, and PATH is kept. */
static void test_tmp_symlink_refused(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	char victim[160], *text;
	struct stat st;

	snprintf(victim, sizeof victim, "%s/victim", f->dir);
	put_file(victim, "w", "", 0);
	put_file(f->path, "w", "old content\n", 12);
	assert_int_equal(symlink(victim, f->tmp), 0);
	sample_report(&sm);
	assert_int_equal(prom_write(f->path, &sm.r, &err), -1);
	assert_int_equal(err.status, KR_CANTCREAT);
	assert_non_null(strstr(err.msg, f->path));
	text = slurp(f->path, NULL);
	assert_string_equal(text, "old content\n");
	free(text);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 0);
}

/*
 * A run the memory gates held back: the previous file as it was, its
 * last_attempt lines replaced (not repeated), a last line without its
 * newline given one.
 */
static void test_held_back_run_keeps_previous_series(void **state)
{
	static const char old[] =
		"# HELP kahua_restarter_last_attempt_skipped old help\n"
		"# TYPE kahua_restarter_last_attempt_skipped gauge\n"
		"kahua_restarter_last_attempt_skipped{site=\"/a\"} 0\n"
		"# a comment of someone's\n"
		"# TYPE kahua_worker_continuations gauge\n"
		"kahua_worker_continuations{site=\"/a\",type=\"t\",rank=\"0\"} 1234\n"
		"kahua_restarter_last_attempt_timestamp_seconds{site=\"/a\"} 5\n"
		"kahua_restarter_last_attempt_timestamps_seconds{site=\"/a\"} 6";
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	char *text;

	put_file(f->path, "w", old, sizeof old - 1);
	sample_report(&sm);
	sm.r.started = 1700000000;
	snprintf(sm.r.skipped, sizeof sm.r.skipped, "MemAvailable 3.1G is not below 1.0K");
	assert_int_equal(prom_write(f->path, &sm.r, &err), 0);
	text = slurp(f->path, NULL);
	assert_string_equal(text,
		"# a comment of someone's\n"
		"# TYPE kahua_worker_continuations gauge\n"
		"kahua_worker_continuations{site=\"/a\",type=\"t\",rank=\"0\"} 1234\n"
		"kahua_restarter_last_attempt_timestamps_seconds{site=\"/a\"} 6\n"
		"# HELP kahua_restarter_last_attempt_timestamp_seconds Start of the latest run, including one the memory gates held back, seconds since the epoch.\n"
		"# TYPE kahua_restarter_last_attempt_timestamp_seconds gauge\n"
		"kahua_restarter_last_attempt_timestamp_seconds{" SITE_LABEL "} 1700000000\n"
		"# HELP kahua_restarter_last_attempt_skipped 1 if the memory gates held the latest run back (the other figures are of the last run that saw the workers), else 0.\n"
		"# TYPE kahua_restarter_last_attempt_skipped gauge\n"
		"kahua_restarter_last_attempt_skipped{" SITE_LABEL "} 1\n");
	free(text);
	assert_int_equal(access(f->tmp, F_OK), -1);
}

/* No previous file: the held-back run's own figures alone, and no error. */
static void test_held_back_run_without_previous_file(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	char *text;

	sample_report(&sm);
	snprintf(sm.r.skipped, sizeof sm.r.skipped, "held back");
	assert_int_equal(prom_write(f->path, &sm.r, &err), 0);
	text = slurp(f->path, NULL);
	assert_non_null(strstr(text, "kahua_restarter_last_attempt_skipped{" SITE_LABEL "} 1\n"));
	assert_null(strstr(text, "kahua_restarter_workers"));
	assert_null(strstr(text, "kahua_restarter_last_run_timestamp_seconds"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freed_matches_json_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_types_from_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaces_by_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_rename_leaves_no_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_back_run_keeps_previous_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_back_run_without_previous_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
