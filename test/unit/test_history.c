/*
 * The history file: appended lines, concurrent appends, and the summary
 * (counts, growth, failures, --since, bad lines, missing or unreadable file).
 * Run from the top of the source tree: it calls bench/gen_history.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "history.h"
#include "history_fmt.h"
#include "history_thin.h"
#include "report.h"
#include "fixtures.h"

#define GEN_START 1764187200LL  /* gen_history.py's default --start */

static int setup(void **state)
{
	umask(022);
	return fx_setup(state, "kr-history", "history.jsonl");
}

/* ---- building reports ---- */

struct sample {
	struct run_report r;
	struct worker_obs before[4];
	struct restart_step steps[4];
	struct type_count types[3];
	struct http_obs http[1];
};

/*
 * Three types: hello restarted at 2 h (80M RSS, 60M PSS) into a 47M/30M
 * worker; leaky at 10 h (500M, no PSS) into 50M; admin one ok restart at
 * 30 s (too young for a growth rate) and one failed.
 */
static void sample_report(struct sample *sm, const char *metric, time_t started)
{
	struct run_report *r = &sm->r;

	memset(sm, 0, sizeof *sm);
	sm->before[0] = obs("hello:1", 1, "hello", 80 * MB, 60 * MB, 7200);
	sm->before[1] = obs("leaky:2", 2, "leaky", 500 * MB, -1, 36000);
	sm->before[2] = obs("admin:3", 3, "admin", 100 * MB, 90 * MB, 30);
	sm->before[3] = obs("admin:4", 4, "admin", 120 * MB, 110 * MB, 7200);
	step(&sm->steps[0], sm->before[0], obs("hello:5", 5, "hello", 47 * MB, 30 * MB, 0),
	     STEP_OK, "");
	step(&sm->steps[1], sm->before[1], obs("leaky:6", 6, "leaky", 50 * MB, -1, 0),
	     STEP_OK, "");
	step(&sm->steps[2], sm->before[2], obs("admin:7", 7, "admin", 40 * MB, 35 * MB, 0),
	     STEP_OK, "");
	step(&sm->steps[3], sm->before[3], obs("admin:8", 8, "admin", 40 * MB, 35 * MB, 0),
	     STEP_FAILED, "worker admin:8 (admin): probe failed: status 500");
	snprintf(sm->types[0].type, sizeof sm->types[0].type, "hello");
	sm->types[0].running = 1;
	sm->types[0].wanted = 1;
	snprintf(sm->types[1].type, sizeof sm->types[1].type, "leaky");
	sm->types[1].running = 1;
	sm->types[1].wanted = 1;
	snprintf(sm->types[2].type, sizeof sm->types[2].type, "admin");
	sm->types[2].running = 2;
	sm->types[2].wanted = -1;
	snprintf(sm->http[0].url, sizeof sm->http[0].url, "http://127.0.0.1:8080/hello/");
	sm->http[0].res.ok = true;
	sm->http[0].res.status = 200;
	sm->http[0].res.tries = 1;
	r->site = "/srv/kahua/site";
	r->command = "restart";
	r->strategy = "rolling";
	r->metric = metric;
	r->started = started;
	r->duration_ms = 4200;
	r->before = sm->before;
	r->nbefore = 4;
	r->steps = sm->steps;
	r->nsteps = 4;
	r->after = sm->before;
	r->nafter = 4;
	r->types = sm->types;
	r->ntypes = 3;
	r->http = sm->http;
	r->nhttp = 1;
	r->exit_status = KR_HEALTH;
	snprintf(r->error, sizeof r->error, "%s", sm->steps[3].why);
}

/* ---- helpers ---- */

/* The summary's output as a string (the caller frees it). */
static char *summarize(const char *path, time_t since, bool json, int want_rc,
		       struct kr_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	kr_err_clear(err);
	assert_int_equal(history_summary(path, since, json, out, err), want_rc);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static cJSON *summary_json(const char *path, time_t since)
{
	struct kr_err err;
	char *text = summarize(path, since, true, 0, &err);
	cJSON *j = cJSON_Parse(text);

	assert_non_null(j);
	assert_true(cJSON_IsObject(j));
	free(text);
	return j;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(x));
	return x->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(x));
	return x->valuestring;
}

static const cJSON *item(const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_non_null(x);
	return x;
}

static const cJSON *type_entry(const cJSON *summary, size_t i, const char *name)
{
	const cJSON *t = cJSON_GetArrayItem(item(summary, "types"), (int)i);

	assert_non_null(t);
	assert_string_equal(str(t, "type"), name);
	return t;
}

static void assert_near(double got, double want, double rel)
{
	if (fabs(got - want) > fabs(want) * rel)
		fail_msg("got %.6f, want %.6f within %.3g%%", got, want, rel * 100);
}

/* "started" of line n (1-based) of a history file. */
static double started_of_line(const char *path, int n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	double v;
	cJSON *j;

	assert_non_null(f);
	for (int i = 0; i < n; i++)
		assert_true(getline(&line, &cap, f) > 0);
	fclose(f);
	j = cJSON_Parse(line);
	assert_non_null(j);
	v = num(j, "started");
	cJSON_Delete(j);
	free(line);
	return v;
}

static void generate(const struct fx *f, const char *name, const char *args, char *path,
		     size_t size)
{
	char cmd[512];

	snprintf(path, size, "%s/%s", f->dir, name);
	snprintf(cmd, sizeof cmd, "python3 bench/gen_history.py '%s' %s", path, args);
	assert_int_equal(system(cmd), 0);
}

/* ---- appending ---- */

/* A line of text read back in the report's shape (free with hfmt_view_free). */
static const cJSON *read_back(const char *line, struct hfmt_view *view)
{
	cJSON *parsed = cJSON_Parse(line);

	assert_non_null(parsed);
	assert_int_equal(hfmt_expand(parsed, strlen(line), view), HFMT_OK);
	return view->run;
}

static void check_line(const char *line, const char *metric, double started)
{
	struct hfmt_view view;
	const cJSON *j = read_back(line, &view);
	const cJSON *restarts, *before, *e;

	assert_true(strncmp(line, "{\"v\":3,", 7) == 0);
	assert_string_equal(str(j, "command"), "restart");
	assert_string_equal(str(j, "metric"), metric);
	assert_string_equal(str(j, "site"), "/srv/kahua/site");
	assert_true(num(j, "started") == started);
	assert_int_equal((int)num(j, "exit_status"), KR_HEALTH);
	assert_string_equal(str(j, "outcome"), "unhealthy");
	before = item(j, "workers_before");
	assert_int_equal(cJSON_GetArraySize(before), 4);
	assert_string_equal(str(cJSON_GetArrayItem(before, 1), "type"), "leaky");
	/* Unknown figures are left out of the line. */
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(before, 1), "pss_bytes"));
	restarts = item(j, "restarts");
	assert_int_equal(cJSON_GetArraySize(restarts), 4);
	e = cJSON_GetArrayItem(restarts, 0);
	assert_string_equal(str(e, "result"), "ok");
	assert_true(num(item(e, "old"), "rss_bytes") == 80 * MB);
	assert_true(num(item(e, "new"), "age_s") == 0);
	e = cJSON_GetArrayItem(restarts, 3);
	assert_string_equal(str(e, "result"), "failed");
	assert_string_equal(str(e, "error"), "worker admin:8 (admin): probe failed: status 500");
	assert_int_equal(cJSON_GetArraySize(item(j, "http_checks")), 1);
	hfmt_view_free(&view);
}

static void test_append_one_line_per_call(void **state)
{
	struct fx *f = *state;
	struct sample a, b;
	struct kr_err err = { 0 };
	struct stat st;
	size_t len;
	char *text, *nl;

	sample_report(&a, "rss", 1000);
	sample_report(&b, "pss", 2000);
	assert_int_equal(history_append(f->path, &a.r, &err), 0);
	assert_int_equal(history_append(f->path, &b.r, &err), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	text = slurp(f->path, &len);
	assert_true(len > 0 && text[len - 1] == '\n');
	nl = strchr(text, '\n');
	assert_non_null(nl);
	*nl = '\0';
	check_line(text, "rss", 1000);
	assert_ptr_equal(strchr(nl + 1, '\n'), text + len - 1);   /* exactly two lines */
	text[len - 1] = '\0';
	check_line(nl + 1, "pss", 2000);
	free(text);
}

static void test_append_refuses_symlink(void **state)
{
	struct fx *f = *state;
	char target[160];
	struct sample a;
	struct kr_err err = { 0 };
	struct stat st;

	snprintf(target, sizeof target, "%s/victim", f->dir);
	put_file(target, "w", "", 0);
	assert_int_equal(symlink(target, f->path), 0);
	sample_report(&a, "rss", 1000);
	assert_int_equal(history_append(f->path, &a.r, &err), -1);
	assert_int_equal(err.status, KR_CANTCREAT);
	assert_non_null(strstr(err.msg, f->path));
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 0);
}

static void test_append_missing_directory(void **state)
{
	struct fx *f = *state;
	char path[160];
	struct sample a;
	struct kr_err err = { 0 };

	snprintf(path, sizeof path, "%s/no/such/history.jsonl", f->dir);
	sample_report(&a, "rss", 1000);
	assert_int_equal(history_append(path, &a.r, &err), -1);
	assert_int_equal(err.status, KR_CANTCREAT);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file or directory"));
}

/* A file size limit cuts the write short: an error, not a silent torn line. */
static int short_write_child(const char *path)
{
	struct rlimit lim = { 1000, 1000 };
	struct sample a;
	struct kr_err err = { 0 };

	if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || setrlimit(RLIMIT_FSIZE, &lim) < 0)
		return 10;
	sample_report(&a, "rss", 1000);
	if (history_append(path, &a.r, &err) != -1 || err.status != KR_CANTCREAT)
		return 11;
	if (strstr(err.msg, path) == NULL || strstr(err.msg, "short write (1000 of ") == NULL)
		return 12;
	/* Now at the limit: write fails outright. */
	if (history_append(path, &a.r, &err) != -1 || err.status != KR_CANTCREAT ||
	    strstr(err.msg, strerror(EFBIG)) == NULL)
		return 13;
	return 0;
}

static void test_append_short_write(void **state)
{
	struct fx *f = *state;
	struct stat st;
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(short_write_child(f->path));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 1000);
}

#define WRITERS 8
#define PER_WRITER 50

/* Lines longer than PIPE_BUF, so only O_APPEND's atomicity keeps them whole. */
static void concurrent_writer(const char *path, int id)
{
	struct sample a;
	struct kr_err err;

	sample_report(&a, "rss", 0);
	memset(a.r.error, 'e', sizeof a.r.error - 1);
	/* Distinct, or the format writes them once as a constant column. */
	for (int k = 0; k < 4; k++)
		memset(a.steps[k].why, 'w' + k, sizeof a.steps[k].why - 1);
	for (int j = 0; j < PER_WRITER; j++) {
		a.r.started = id * 1000 + j;
		if (history_append(path, &a.r, &err) < 0)
			_exit(1);
	}
	_exit(0);
}

static void test_append_concurrent_lines_stay_whole(void **state)
{
	struct fx *f = *state;
	bool seen[WRITERS][PER_WRITER] = { { false } };
	pid_t pids[WRITERS];
	FILE *in;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lines = 0;

	for (int i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			concurrent_writer(f->path, i);
	}
	for (int i = 0; i < WRITERS; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	in = fopen(f->path, "r");
	assert_non_null(in);
	while ((n = getline(&line, &cap, in)) > 0) {
		struct hfmt_view view;
		const cJSON *j;
		int started;

		assert_true(n > 4096);
		assert_int_equal(line[n - 1], '\n');
		j = read_back(line, &view);
		started = (int)num(j, "started");
		assert_true(started / 1000 < WRITERS && started % 1000 < PER_WRITER);
		assert_false(seen[started / 1000][started % 1000]);
		seen[started / 1000][started % 1000] = true;
		assert_int_equal(cJSON_GetArraySize(item(j, "restarts")), 4);
		hfmt_view_free(&view);
		lines++;
	}
	free(line);
	fclose(in);
	assert_int_equal(lines, WRITERS * PER_WRITER);
}

/* ---- summary of a generated year-like file ---- */

static void test_summary_known_growth(void **state)
{
	struct fx *f = *state;
	char path[192];
	cJSON *j;
	const cJSON *t, *lf;

	generate(f, "gen.jsonl", "--hours 500 --failures 3 --types hello:2:20,leaky:1:48:1000", path,
		 sizeof path);
	j = summary_json(path, 0);
	assert_string_equal(str(j, "file"), path);
	assert_true(num(j, "lines") == 500);
	assert_true(num(j, "skipped") == 0);
	assert_true(num(j, "runs") == 500);
	assert_true(num(j, "failed_runs") == 3);
	assert_true(num(j, "first") == started_of_line(path, 1));
	assert_true(num(j, "last") == started_of_line(path, 500));
	assert_int_equal(cJSON_GetArraySize(item(j, "types")), 2);

	t = type_entry(j, 0, "hello");
	assert_true(num(t, "runs") == 500);
	assert_true(num(t, "restarts") == 1000);
	assert_true(num(t, "failures") == 0);
	assert_near(num(t, "growth_mb_per_hour"), 20, 0.01);
	assert_true(cJSON_IsNull(item(t, "continuations_per_hour")));    /* none recorded */
	assert_near(num(t, "mean_memory_bytes"), (47 + 20) * MB, 0.01);
	assert_true(cJSON_IsNull(item(t, "last_failure")));

	t = type_entry(j, 1, "leaky");
	assert_true(num(t, "runs") == 500);
	assert_true(num(t, "restarts") == 497);
	assert_true(num(t, "failures") == 3);
	assert_near(num(t, "growth_mb_per_hour"), 48, 0.01);
	assert_near(num(t, "continuations_per_hour"), 1000, 1);
	assert_near(num(t, "mean_memory_bytes"), (47 + 48) * MB, 0.01);
	/* The generator fails hours (k + 1) * 500 / 4: the last is hour 375, line 376. */
	lf = item(t, "last_failure");
	assert_true(num(lf, "time") == started_of_line(path, 376));
	assert_non_null(strstr(str(lf, "error"), "probe failed: status 500"));
	assert_true(num(item(j, "last_failure"), "time") == started_of_line(path, 376));
	cJSON_Delete(j);
}

static void test_summary_text(void **state)
{
	struct fx *f = *state;
	char path[192], first[32], last[32], footer[160];
	struct kr_err err;
	char *text, *row;
	time_t t;

	generate(f, "gen.jsonl", "--hours 48 --failures 1", path, sizeof path);
	text = summarize(path, 0, false, 0, &err);
	assert_true(strncmp(text, "TYPE ", 5) == 0);
	assert_non_null(strstr(text, "RUNS RESTARTS FAILURES MEAN-MEM  GROWTH/H   CONTS/H  PEAK-MEMORY"
			       "                     LAST-FAILURE\n"));
	row = strstr(text, "\nhello ");
	assert_non_null(row);
	assert_non_null(strstr(row, " 48       96        0      67M   20.0M/h         -  "));
	assert_non_null(strstr(row, "   68M  -\n"));
	row = strstr(text, "\nleaky ");
	assert_non_null(row);
	assert_non_null(strstr(row, " 48       47        1      95M   48.0M/h         -  "));
	t = (time_t)started_of_line(path, 1);
	strftime(first, sizeof first, "%Y-%m-%d %H:%M", gmtime(&t));
	t = (time_t)started_of_line(path, 48);
	strftime(last, sizeof last, "%Y-%m-%d %H:%M", gmtime(&t));
	snprintf(footer, sizeof footer, "\n# 48 runs from %s to %s UTC, 1 failed\n", first, last);
	assert_non_null(strstr(text, footer));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

/* 24 hourly runs whose largest "grow" worker has (i + 1) MB at run i. */
static void rising_history(const char *path)
{
	for (int i = 0; i < 24; i++) {
		char line[256];

		snprintf(line, sizeof line, "{\"command\":\"restart\",\"started\":%d,"
			 "\"workers_before\":[{\"type\":\"grow\",\"rss_bytes\":%lld},"
			 "{\"type\":\"grow\",\"rss_bytes\":1}]}\n",
			 1000000 + 3600 * i, (long long)(i + 1) * MB);
		put_file(path, "a", line, strlen(line));
	}
}

static char *summary_in_locale(const char *path, const char *lc_all, const char *lang)
{
	struct kr_err err;
	char *text;

	if (lc_all)
		setenv("LC_ALL", lc_all, 1);
	else
		unsetenv("LC_ALL");
	unsetenv("LC_CTYPE");
	setenv("LANG", lang, 1);
	text = summarize(path, 0, false, 0, &err);
	unsetenv("LC_ALL");
	unsetenv("LANG");
	return text;
}

/* One column per run, eight levels from 0 to the highest peak (24M). */
static void test_summary_sparkline(void **state)
{
	struct fx *f = *state;
	char *text;

	rising_history(f->path);
	text = summary_in_locale(f->path, "C", "en_GB.UTF-8");
	assert_non_null(strstr(text, "\ngrow "));
	assert_non_null(strstr(text, "  ___...:::---===+++***###   24M  -\n"));
	free(text);
	text = summary_in_locale(f->path, NULL, "en_GB.UTF-8");
	assert_non_null(strstr(text, "  \u2581\u2581\u2581\u2582\u2582\u2582\u2583\u2583\u2583"
			       "\u2584\u2584\u2584\u2585\u2585\u2585\u2586\u2586\u2586"
			       "\u2587\u2587\u2587\u2588\u2588\u2588   24M  -\n"));
	free(text);
}

/* A gap in the runs is a gap in the line; one run alone fills the last column. */
static void test_summary_sparkline_gaps(void **state)
{
	struct fx *f = *state;
	static const char one[] = "{\"command\":\"restart\",\"started\":5000,"
				  "\"workers_before\":[{\"type\":\"solo\",\"rss_bytes\":1048576}]}\n";
	char line[256], *text;

	for (int i = 0; i < 24; i++) {
		if (i >= 6 && i < 18)
			continue;
		snprintf(line, sizeof line, "{\"command\":\"restart\",\"started\":%d,"
			 "\"workers_before\":[{\"type\":\"gap\",\"rss_bytes\":%lld}]}\n",
			 1000000 + 3600 * i, 8 * MB);
		put_file(f->path, "a", line, strlen(line));
	}
	text = summary_in_locale(f->path, "POSIX", "C");
	assert_non_null(strstr(text, "  ######            ######  8.0M  -\n"));
	free(text);
	assert_int_equal(truncate(f->path, 0), 0);
	put_file(f->path, "a", one, sizeof one - 1);
	text = summary_in_locale(f->path, "C", "C");
	assert_non_null(strstr(text, "                       #  1.0M  -\n"));
	free(text);
}

static void test_summary_since(void **state)
{
	struct fx *f = *state;
	char path[192];
	cJSON *j;
	double last;

	generate(f, "gen.jsonl", "--hours 200", path, sizeof path);
	j = summary_json(path, (time_t)(GEN_START + 100 * 3600));
	assert_true(num(j, "lines") == 200);
	assert_true(num(j, "runs") == 100);
	assert_true(num(j, "first") == started_of_line(path, 101));
	assert_true(num(type_entry(j, 0, "hello"), "restarts") == 200);
	assert_true(num(type_entry(j, 1, "leaky"), "runs") == 100);
	cJSON_Delete(j);

	last = started_of_line(path, 200);
	j = summary_json(path, (time_t)last);
	assert_true(num(j, "runs") == 1);
	assert_true(num(j, "first") == last && num(j, "last") == last);
	cJSON_Delete(j);

	j = summary_json(path, (time_t)last + 1);
	assert_true(num(j, "runs") == 0);
	assert_true(cJSON_IsNull(item(j, "first")));
	assert_int_equal(cJSON_GetArraySize(item(j, "types")), 0);
	cJSON_Delete(j);
}

/* ---- metrics, failures and bad lines, on hand-built reports ---- */

static void test_summary_metric_and_failures(void **state)
{
	struct fx *f = *state;
	struct sample a, b, c;
	struct kr_err err = { 0 };
	const cJSON *t, *lf;
	cJSON *j;

	sample_report(&a, "rss", 1000);
	sample_report(&b, "pss", 2000);
	assert_int_equal(history_append(f->path, &a.r, &err), 0);
	assert_int_equal(history_append(f->path, &b.r, &err), 0);
	j = summary_json(f->path, 0);
	assert_true(num(j, "runs") == 2);
	assert_true(num(j, "failed_runs") == 2);
	/* hello: 80M RSS / 60M PSS; growth (80-47)/2h and (60-30)/2h. */
	t = type_entry(j, 0, "hello");
	assert_true(num(t, "runs") == 2);
	assert_true(num(t, "restarts") == 2);
	assert_true(num(t, "mean_memory_bytes") == 70 * MB);
	assert_near(num(t, "growth_mb_per_hour"), (16.5 + 15) / 2, 1e-12);
	/* A failed step is its own type's failure, not the others'. */
	assert_true(cJSON_IsNull(item(t, "last_failure")));
	/* leaky has no PSS: RSS for both ends in both runs, (500-50)/10h. */
	t = type_entry(j, 1, "leaky");
	assert_true(num(t, "mean_memory_bytes") == 500 * MB);
	assert_near(num(t, "growth_mb_per_hour"), 45, 1e-12);
	/* admin: the ok restart at 30 s gives no rate; the failed one no memory. */
	t = type_entry(j, 2, "admin");
	assert_true(num(t, "runs") == 2);
	assert_true(num(t, "restarts") == 2);
	assert_true(num(t, "failures") == 2);
	assert_true(num(t, "mean_memory_bytes") == 95 * MB);
	assert_true(cJSON_IsNull(item(t, "growth_mb_per_hour")));
	lf = item(t, "last_failure");
	assert_true(num(lf, "time") == 2000);
	assert_string_equal(str(lf, "error"), "worker admin:8 (admin): probe failed: status 500");
	cJSON_Delete(j);

	/* A run whose steps all worked but whose site check failed blames its types. */
	sample_report(&c, "rss", 3000);
	c.r.nsteps = 2;
	snprintf(c.r.error, sizeof c.r.error, "health check http://h/hello/: status 502");
	assert_int_equal(history_append(f->path, &c.r, &err), 0);
	j = summary_json(f->path, 0);
	lf = item(type_entry(j, 0, "hello"), "last_failure");
	assert_true(num(lf, "time") == 3000);
	assert_string_equal(str(lf, "error"), "health check http://h/hello/: status 502");
	assert_true(num(item(type_entry(j, 2, "admin"), "last_failure"), "time") == 2000);
	assert_string_equal(str(item(j, "last_failure"), "error"),
			    "health check http://h/hello/: status 502");
	assert_true(num(j, "failed_runs") == 3);
	cJSON_Delete(j);
}

/*
 * A run the memory gates kept from restarting is counted apart, and its
 * line carries the host's figures and why; the continuations a restart
 * saw give the type's rate beside its memory growth.
 */
static void test_summary_gated_runs_and_continuations(void **state)
{
	struct fx *f = *state;
	struct sample a, gated;
	struct kr_err err = { 0 };
	struct hfmt_view view;
	const cJSON *old;
	char *text, *line;
	cJSON *j;

	sample_report(&a, "rss", 1000);
	a.steps[0].old.ev = (struct eval_result){ EVAL_OK, 2001, 21, 76365824, -1, "" };
	a.steps[0].new.ev = (struct eval_result){ EVAL_OK, 1, 1, 25075712, -1, "" };
	a.r.host = (struct host_mem){ 3 * 1024 * MB, 0, -1 };
	sample_report(&gated, "rss", 2000);
	gated.r.nbefore = gated.r.nafter = gated.r.nsteps = 0;
	gated.r.exit_status = KR_OK;
	gated.r.error[0] = '\0';
	gated.r.host = (struct host_mem){ 2 * 1024 * MB, 5 * MB, -1 };
	snprintf(gated.r.skipped, sizeof gated.r.skipped, "MemAvailable 2.0G is not below 1.0K");
	assert_int_equal(history_append(f->path, &a.r, &err), 0);
	assert_int_equal(history_append(f->path, &gated.r, &err), 0);

	text = slurp(f->path, NULL);
	line = strchr(text, '\n') + 1;
	/* The host by position, in kB; MemTotal unknown. */
	assert_non_null(strstr(text, "\"h\":[3145728,0]"));
	assert_non_null(strstr(line, "\"h\":[2097152,5120]"));
	assert_non_null(strstr(line, "\"oc\":\"skipped\",\"sr\":\"MemAvailable 2.0G is not below 1.0K\""));
	line[-1] = '\0';
	old = item(cJSON_GetArrayItem(item(read_back(text, &view), "restarts"), 0), "old");
	assert_true(num(old, "continuations") == 2001);
	assert_true(num(old, "state_sessions") == 21);
	assert_true(num(old, "heap_bytes") == 76365824);
	hfmt_view_free(&view);
	free(text);

	j = summary_json(f->path, 0);
	assert_true(num(j, "runs") == 1);
	assert_true(num(j, "gated_runs") == 1);
	/* hello: 2000 more continuations over 2 hours. */
	assert_near(num(type_entry(j, 0, "hello"), "continuations_per_hour"), 1000, 1e-9);
	assert_true(cJSON_IsNull(item(type_entry(j, 1, "leaky"), "continuations_per_hour")));
	cJSON_Delete(j);
	text = summarize(f->path, 0, false, 0, &err);
	assert_non_null(strstr(text, "\nhello "));
	assert_non_null(strstr(text, "   1000/h  "));
	assert_non_null(strstr(text, "; 1 run restarted nothing (memory gates)\n"));
	free(text);
}

static void test_summary_skips_bad_lines(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"garbage\n",
		"{\"foo\":1}\n",
		"[1,2]\n",
		"42\n",
		"\n",
		"{\"started\":\"x\",\"command\":\"restart\"}\n",
		"{\"started\":5,\"command\":\"restart\"} trailing\n",
		"{\"started\":1e300,\"command\":\"restart\"}\n",
	};
	/* cJSON alone would take this one: it skips a NUL as white space. */
	static const char with_nul[] = "{\"started\":6,\"command\":\"restart\"}\0 \n";
	static const char status_run[] = "{\"started\":7,\"command\":\"status\"}\n";
	static const char torn[] = "{\"started\":8,\"command\":\"restart\"}";
	const size_t big = 5 * 1024 * 1024;
	struct sample a;
	struct kr_err err = { 0 };
	char *over;
	cJSON *j;

	sample_report(&a, "rss", 1000);
	assert_int_equal(history_append(f->path, &a.r, &err), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		put_file(f->path, "a", bad[i], strlen(bad[i]));
	put_file(f->path, "a", with_nul, sizeof with_nul - 1);
	/* A valid run, but over the 4 MiB limit: skipped, not parsed. */
	over = malloc(big + 64);
	assert_non_null(over);
	memset(over, 'x', big + 64);
	memcpy(over, "{\"started\":9,\"command\":\"restart\",\"pad\":\"", 40);
	memcpy(over + big + 60, "\"}\n", 3);
	put_file(f->path, "a", over, big + 63);
	free(over);
	put_file(f->path, "a", status_run, strlen(status_run));
	a.r.started = 2000;
	assert_int_equal(history_append(f->path, &a.r, &err), 0);
	put_file(f->path, "a", torn, strlen(torn));

	j = summary_json(f->path, 0);
	assert_true(num(j, "lines") == 14);
	assert_true(num(j, "skipped") == 11);
	assert_true(num(j, "runs") == 2);   /* the status run is read, not counted */
	assert_true(num(j, "first") == 1000);
	assert_true(num(j, "last") == 2000);
	assert_true(num(type_entry(j, 0, "hello"), "runs") == 2);
	cJSON_Delete(j);
}

static void test_summary_missing_file(void **state)
{
	struct fx *f = *state;
	struct kr_err err;
	char *text = summarize(f->path, 0, false, 0, &err);
	cJSON *j;

	assert_true(strncmp(text, "TYPE ", 5) == 0);
	assert_non_null(strstr(text, "\n# no runs recorded\n"));
	free(text);
	j = summary_json(f->path, 0);
	assert_true(num(j, "lines") == 0);
	assert_true(num(j, "runs") == 0);
	assert_true(cJSON_IsNull(item(j, "last")));
	assert_true(cJSON_IsNull(item(j, "last_failure")));
	assert_int_equal(cJSON_GetArraySize(item(j, "types")), 0);
	cJSON_Delete(j);
}

static void test_summary_directory_is_an_error(void **state)
{
	struct fx *f = *state;
	struct kr_err err;
	char *text = summarize(f->dir, 0, false, -1, &err);

	assert_int_equal(err.status, KR_DATAERR);
	assert_non_null(strstr(err.msg, f->dir));
	assert_non_null(strstr(err.msg, "Is a directory"));
	assert_true(text == NULL || text[0] == '\0');
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_one_line_per_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_refuses_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_short_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_concurrent_lines_stay_whole, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_summary_known_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_sparkline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_sparkline_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_since, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_metric_and_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_gated_runs_and_continuations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_skips_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_directory_is_an_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
