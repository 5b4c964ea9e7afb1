/*
 * The history's format and its bounds: version 3 lines read back as the
 * report they came from, every key of the schema, at most a third of its
 * size; versions 1, 2 and 3 of the same runs read alike; lines that do
 * not hold together are refused; a torn last line is skipped, then ended
 * by the next append; a file over its limit is thinned, failures and
 * healings kept, through a temporary file renamed over it, and a failed
 * thinning loses nothing; the thinning plan fits whatever it is given.
 * Run from the top of the source tree: it calls bench/gen_history.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chart.h"
#include "health.h"
#include "history.h"
#include "history_fmt.h"
#include "history_keys.h"
#include "history_thin.h"
#include "report.h"
#include "fixtures.h"

#define WORKERS 5
#define GEN_START 1764187200LL  /* gen_history.py's default --start */

static int setup(void **state)
{
	umask(022);
	return fx_setup(state, "kr-hstore", "history.jsonl");
}

struct sample {
	struct run_report r;
	struct worker_obs before[WORKERS], after[WORKERS];
	struct restart_step steps[WORKERS];
	struct type_count types[2];
	struct http_obs http[2];
	struct healed_entry healed[1];
};

/* Five workers of two types, each restarted, with what they held: an hourly run. */
static void sample_run(struct sample *sm, time_t started)
{
	static const char *const types[] = { "hello", "hello", "hello", "wiki", "wiki" };
	struct run_report *r = &sm->r;

	memset(sm, 0, sizeof *sm);
	for (int i = 0; i < WORKERS; i++) {
		char wid[32], nid[32];
		struct worker_obs old, new;

		snprintf(wid, sizeof wid, "1%d2ab:x%d9k3", i, i);
		snprintf(nid, sizeof nid, "1%d2cd:y%d9k3", i, i);
		old = obs(wid, i, types[i], (300 + 37 * i) * MB + 4096 * i, (200 + 31 * i) * MB, 3600 + i);
		old.ev = (struct eval_result){ EVAL_OK, 20000 + 1234 * i, 300 + 7 * i,
					       (200 + 13 * i) * MB + 512 * i, -1, "" };
		new = obs(nid, 10 + i, types[i], 47 * MB + 8192 * i, 30 * MB + 4096 * i, 0);
		new.ev = (struct eval_result){ EVAL_OK, 1, 1, 30 * MB + 1024 * i, -1, "" };
		sm->before[i] = old;
		step(&sm->steps[i], old, new, STEP_OK, "");
		sm->steps[i].restart_ms = 612.25 + 17 * i;
		sm->steps[i].probe_ms = 3.5 + i;
		sm->steps[i].drain_tried = sm->steps[i].drained = true;
		sm->steps[i].drain_ms = 5.125 + i;
		sm->after[i] = new;
		sm->after[i].age = 5;
		sm->after[i].rss += 65536;
	}
	snprintf(sm->types[0].type, sizeof sm->types[0].type, "hello");
	sm->types[0].running = sm->types[0].wanted = 3;
	snprintf(sm->types[1].type, sizeof sm->types[1].type, "wiki");
	sm->types[1].running = sm->types[1].wanted = 2;
	for (int i = 0; i < 2; i++) {
		snprintf(sm->http[i].url, sizeof sm->http[i].url, "http://127.0.0.1:8080/%s/",
			 i ? "wiki" : "hello");
		sm->http[i].res = (struct health_result){ .ok = true, .status = 200, .ms = 4.75 + i,
							  .tries = 1 };
	}
	r->site = "/srv/kahua/site";
	r->command = "restart";
	r->strategy = "rolling";
	r->metric = "rss";
	r->probe = "eval";
	r->eval = true;
	r->started = started;
	r->duration_ms = 4200.5;
	r->host = (struct host_mem){ 3000 * MB, 0, -1 };
	r->before = sm->before;
	r->nbefore = WORKERS;
	r->steps = sm->steps;
	r->nsteps = WORKERS;
	r->after = sm->after;
	r->nafter = WORKERS;
	r->types = sm->types;
	r->ntypes = 2;
	r->http = sm->http;
	r->nhttp = 2;
}

/* What a version 2 line stands for: the report with no nulls or empty lists. */
static void tidy(cJSON *x)
{
	cJSON *c = x->child, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (cJSON_IsObject(x) && (cJSON_IsNull(c) || (cJSON_IsArray(c) && c->child == NULL)))
			cJSON_Delete(cJSON_DetachItemViaPointer(x, c));
		else if (cJSON_IsObject(c) || cJSON_IsArray(c))
			tidy(c);
	}
}

static const cJSON *read_back(const char *line, size_t len, struct hfmt_view *view)
{
	cJSON *parsed = cJSON_ParseWithLength(line, len);

	assert_non_null(parsed);
	assert_int_equal(hfmt_expand(parsed, len, view), HFMT_OK);
	return view->run;
}

static void test_round_trip_and_size(void **state)
{
	struct sample sm;
	struct hfmt_view view;
	bool failed = false;
	cJSON *report;
	char *v1, *line;
	size_t len;

	(void)state;
	sample_run(&sm, 1764187200);
	/* A dead entry healed, and a worker whose eval failed: the rarer members. */
	sm.healed[0].w = sm.before[4].w;
	sm.healed[0].w.state = WORKER_DEAD;
	snprintf(sm.healed[0].w.why, sizeof sm.healed[0].w.why, "no such process");
	sm.healed[0].removed = true;
	sm.r.healed = sm.healed;
	sm.r.nhealed = 1;
	sm.before[2].ev = (struct eval_result){ EVAL_NO_ANSWER, -1, -1, -1, -1, "no answer in 2 s" };
	sm.steps[2].old = sm.before[2];
	report = report_to_json(&sm.r, &failed);
	assert_false(failed);
	v1 = cJSON_PrintUnformatted(report);
	line = hfmt_line(report, &len);
	assert_non_null(v1);
	assert_non_null(line);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	/* No observation written twice, no long key: at most a third of the report. */
	if (len * 3 > strlen(v1))
		fail_msg("line of %zu bytes for a report of %zu", len, strlen(v1));
	/* Fields the report may gain pass through with no change to the format. */
	cJSON_AddNumberToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(report, "workers_before"), 1),
				"swept_continuations", 1234);
	cJSON_AddStringToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(report, "restarts"), 3),
				"recovered", "waitpid race: replacement started with (run wiki)");
	cJSON_AddNumberToObject(cJSON_GetObjectItem(report, "host"), "psi_some_avg10", 0.25);
	free(line);
	line = hfmt_line(report, &len);
	assert_non_null(line);
	tidy(report);
	assert_true(cJSON_Compare(read_back(line, len - 1, &view), report, true));
	/* The settings at their defaults are left out and come back. */
	assert_null(strstr(line, "\"strategy\""));
	assert_string_equal(cJSON_GetObjectItem(view.run, "strategy")->valuestring, "rolling");
	hfmt_view_free(&view);
	cJSON_Delete(report);
	free(v1);
	free(line);
}

/* Every key and alternate key reads back as one name only, and none is the format's own. */
static void test_schema_keys_distinct(void **state)
{
	static const char *const structure[] = { "v", "w", "o", "c", "r", "k" };

	(void)state;
	for (size_t i = 0; i < NHKEYS; i++) {
		const struct hkey *a = &HKEYS[i];

		assert_true((a->alt == NULL) == (a->how == HK_PLAIN));
		for (size_t s = 0; s < sizeof structure / sizeof structure[0]; s++) {
			assert_string_not_equal(a->key, structure[s]);
			assert_true(a->alt == NULL || strcmp(a->alt, structure[s]) != 0);
		}
		for (size_t j = 0; j < NHKEYS; j++) {
			const struct hkey *b = &HKEYS[j];

			if (i == j)
				continue;
			assert_string_not_equal(a->name, b->name);
			assert_string_not_equal(a->key, b->key);
			assert_string_not_equal(a->key, b->name);
			assert_true(b->alt == NULL || strcmp(a->key, b->alt) != 0);
			if (a->alt != NULL) {
				assert_string_not_equal(a->alt, b->name);
				assert_true(b->alt == NULL || strcmp(a->alt, b->alt) != 0);
			}
		}
	}
	for (size_t h = 0; h < NHOST_FIELDS; h++) {
		bool known = false;

		for (size_t i = 0; i < NHKEYS; i++)
			known |= strcmp(HKEYS[i].name, HOST_FIELDS[h]) == 0;
		assert_true(known);
	}
}

#define T0 1764187200.0

/*
 * A figure for every key of the schema: whole kB and seconds, or not (odd;
 * a time beyond 2^53 s, as a line keeps no fraction of a second).
 */
static double figure(const struct hkey *h, int row, bool odd)
{
	if (h->how == HK_SINCE)
		return odd ? 1e16 + 2 * row : T0 - 3600 * row;
	if (h->how == HK_KB)
		return 1024.0 * (7 + row) + (odd ? 3 : 0);
	return 11 + row;
}

/* An object with every key of the schema but skip's. */
static cJSON *every_key(int row, bool odd, const char *const *skip, size_t nskip)
{
	cJSON *o = cJSON_CreateObject();

	assert_non_null(o);
	for (size_t i = 0; i < NHKEYS; i++) {
		bool skipped = false;

		for (size_t s = 0; s < nskip; s++)
			skipped |= strcmp(HKEYS[i].name, skip[s]) == 0;
		if (!skipped)
			assert_non_null(cJSON_AddNumberToObject(o, HKEYS[i].name, figure(&HKEYS[i], row, odd)));
	}
	return o;
}

/*
 * A report holding every key of the schema at the top, in workers, steps
 * and other lists, and the host: read back as it was, with no long key
 * left in the line, each figure in its alternate unit when it fits one.
 */
static void round_trip_every_key(bool odd)
{
	static const char *const lists[] = { "workers_before", "workers_after", "restarts", "host",
					     "types", "started" };
	cJSON *report = every_key(0, odd, lists, sizeof lists / sizeof lists[0]);
	cJSON *before = cJSON_AddArrayToObject(report, "workers_before");
	cJSON *after = cJSON_AddArrayToObject(report, "workers_after");
	cJSON *steps = cJSON_AddArrayToObject(report, "restarts");
	cJSON *types = cJSON_AddArrayToObject(report, "types");
	cJSON *host = cJSON_AddObjectToObject(report, "host"), *step;
	struct hfmt_view view;
	char *line, quoted[64];
	size_t len;

	assert_non_null(cJSON_AddNumberToObject(report, "started", T0));
	for (int r = 0; r < 3; r++) {
		cJSON_AddItemToArray(before, every_key(r, odd, lists, 0));
		cJSON_AddItemToArray(after, every_key(r + 3, odd, lists, 0));
		cJSON_AddItemToArray(types, every_key(r, odd, lists, 0));
		step = every_key(r, odd, lists, 0);
		cJSON_ReplaceItemInObjectCaseSensitive(step, "old", every_key(r + 6, odd, lists, 0));
		cJSON_ReplaceItemInObjectCaseSensitive(step, "new", every_key(r + 9, odd, lists, 0));
		cJSON_AddItemToArray(steps, step);
	}
	for (size_t h = 0; h < NHOST_FIELDS; h++)
		cJSON_AddNumberToObject(host, HOST_FIELDS[h], h < 3 ? 1024.0 * (100 + h) + (odd ? 1 : 0) : h);
	line = hfmt_line(report, &len);
	assert_non_null(line);
	assert_true(cJSON_Compare(read_back(line, len - 1, &view), report, true));
	for (size_t i = 0; i < NHKEYS; i++) {
		if (strcmp(HKEYS[i].name, HKEYS[i].key) == 0)
			continue;
		snprintf(quoted, sizeof quoted, "\"%s\"", HKEYS[i].name);
		if (strstr(line, quoted) != NULL)
			fail_msg("%s left long in %s", quoted, line);
		if (HKEYS[i].alt == NULL)
			continue;
		snprintf(quoted, sizeof quoted, "\"%s\"", HKEYS[i].alt);
		if ((strstr(line, quoted) != NULL) == odd)
			fail_msg("%s %s in %s", quoted, odd ? "used" : "unused", line);
	}
	assert_true((strstr(line, "\"h\":[100,101,102,3,4,5,6,7,8]") == NULL) == odd);
	hfmt_view_free(&view);
	cJSON_Delete(report);
	free(line);
}

static void test_every_key_round_trips(void **state)
{
	(void)state;
	round_trip_every_key(false);
	round_trip_every_key(true);
}

static enum hfmt_rc expand_text(const char *text)
{
	struct hfmt_view view;
	enum hfmt_rc rc = hfmt_expand(cJSON_Parse(text), strlen(text), &view);

	if (rc == HFMT_OK)
		hfmt_view_free(&view);
	return rc;
}

/*
 * A line whose one worker, observed 20,000 times, has 20,000 columns:
 * named, with no cells, or as constants, each with a value.
 */
static char *wide_worker(bool as_constants)
{
	char *big = malloc(1000000);
	size_t n = 0;

	assert_non_null(big);
	n += (size_t)sprintf(big, as_constants ? "{\"v\":2,\"w\":{\"c\":[\"id\"],\"r\":[[\"a\"]],\"k\":{"
					       : "{\"v\":2,\"w\":{\"c\":[");
	for (int i = 0; i < 20000; i++)
		n += (size_t)sprintf(big + n, as_constants ? "%s\"c%d\":1" : "%s\"c%d\"", i ? "," : "", i);
	n += (size_t)sprintf(big + n, as_constants ? "}},\"o\":{\"c\":[\"w\"],\"r\":["
					           : "],\"r\":[[]]},\"o\":{\"c\":[\"w\"],\"r\":[");
	for (int i = 0; i < 20000; i++)
		n += (size_t)sprintf(big + n, "%s[0]", i ? "," : "");
	sprintf(big + n, "]}}");
	return big;
}

static void test_lines_that_do_not_hold_together(void **state)
{
	static const char *const bad[] = {
		"{\"v\":4,\"command\":\"restart\",\"started\":1}",
		"{\"v\":\"2\",\"started\":1}",
		"{\"v\":2,\"started\":1,\"w\":{\"c\":[\"id\"],\"r\":[[\"a\"]]}}",
		"{\"v\":2,\"w\":{\"c\":[\"id\"],\"r\":[[\"a\"]]},\"o\":{\"c\":[\"w\"],\"r\":[[1]]}}",
		"{\"v\":2,\"w\":{\"c\":[\"id\"],\"r\":[[\"a\",2]]},\"o\":{\"c\":[\"w\"],\"r\":[[0]]}}",
		"{\"v\":2,\"w\":{\"c\":[\"id\"],\"r\":[[\"a\"]]},\"o\":{\"c\":[\"w\"],\"r\":[[0]]},"
		"\"workers_before\":[0,1]}",
		"{\"v\":2,\"w\":{\"c\":[\"id\"],\"r\":[[\"a\"]]},\"o\":{\"c\":[\"w\"],\"r\":[[0]]},"
		"\"restarts\":{\"c\":[\"old\"],\"r\":[[0.5]]}}",
		"{\"v\":2,\"types\":{\"c\":[1],\"r\":[[2]]}}",
		"{\"v\":2,\"types\":{\"c\":[\"type\"],\"r\":[[\"a\"]],\"k\":[1]}}",
		/* Version 3: a host longer than its fields, a start time relative to no start. */
		"{\"v\":3,\"t\":1,\"h\":[1,2,3,4,5,6,7,8,9,10]}",
		"{\"v\":3,\"w\":{\"c\":[\"i\",\"T\"],\"r\":[[\"a\",-5]]},\"o\":{\"c\":[\"w\"],\"r\":[[0]]}}",
		"{\"v\":3,\"w\":{\"c\":[\"i\"],\"r\":[[\"a\"]],\"k\":{\"T\":-5}},\"o\":{\"c\":[\"w\"],\"r\":[[0]]}}",
		"{\"v\":3,\"y\":{\"c\":[\"ty\",1],\"r\":[[\"a\"]]}}",
		"{\"v\":3,\"y\":{\"c\":[\"ty\"],\"r\":[[\"a\"]],\"k\":[1]}}",
	};
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (expand_text(bad[i]) != HFMT_BAD)
			fail_msg("took %s", bad[i]);
	assert_int_equal(expand_text("{\"v\":2,\"command\":\"restart\",\"started\":1}"), HFMT_OK);
	assert_int_equal(expand_text("{\"v\":3,\"cm\":\"restart\",\"t\":1,\"h\":[null,2]}"), HFMT_OK);
	assert_int_equal(expand_text("{\"command\":\"restart\",\"started\":1}"), HFMT_OK);
	/* One worker seen 20,000 times: fine with no cells, refused with 20,000 of them. */
	big = wide_worker(false);
	assert_int_equal(expand_text(big), HFMT_OK);
	free(big);
	big = wide_worker(true);
	assert_int_equal(expand_text(big), HFMT_BAD);
	free(big);
}

/* The summary as JSON. */
static cJSON *summary(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct kr_err err = { 0 };
	cJSON *j;

	assert_non_null(out);
	assert_int_equal(history_summary(path, 0, true, out, &err), 0);
	assert_int_equal(fclose(out), 0);
	j = cJSON_Parse(buf);
	assert_non_null(j);
	free(buf);
	return j;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(x));
	return x->valuedouble;
}

static void test_torn_last_line_skipped_then_ended(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	static const char torn[] = "{\"v\":2,\"command\":\"restart\",\"started\":17641";
	char *text;
	size_t len;
	cJSON *j;

	sample_run(&sm, 1764187200);
	assert_int_equal(history_append(f->path, &sm.r, &err), 0);
	put_file(f->path, "a", torn, strlen(torn));
	j = summary(f->path);
	assert_true(num(j, "runs") == 1);
	assert_true(num(j, "skipped") == 1);
	cJSON_Delete(j);
	sm.r.started += 3600;
	assert_int_equal(history_append(f->path, &sm.r, &err), 0);
	text = slurp(f->path, &len);
	/* The fragment ended by a newline of its own, the new line whole after it. */
	assert_non_null(strstr(text, "\"started\":17641\n{\"v\":3,"));
	assert_int_equal(text[len - 1], '\n');
	free(text);
	j = summary(f->path);
	assert_true(num(j, "runs") == 2);
	assert_true(num(j, "skipped") == 1);
	cJSON_Delete(j);
}

/* The summary and the chart of a generated history of one format, as text. */
static void read_format(const struct fx *f, const char *args, int format, char **json, char **svg)
{
	char path[160], cmd[1024];
	struct kr_err err = { 0 };
	cJSON *j;

	snprintf(path, sizeof path, "%s/v%d.jsonl", f->dir, format);
	snprintf(cmd, sizeof cmd, "python3 bench/gen_history.py '%s' %s --format %d", path, args, format);
	assert_int_equal(system(cmd), 0);
	j = summary(path);
	assert_true(num(j, "runs") == 580 && num(j, "failed_runs") == 3);
	cJSON_DeleteItemFromObject(j, "file");
	*json = cJSON_Print(j);
	cJSON_Delete(j);
	snprintf(cmd, sizeof cmd, "%s/%d.svg", f->dir, format);
	assert_int_equal(chart_svg(path, 0, cmd, &err), 0);
	*svg = slurp(cmd, NULL);
}

/* Old lines and new lines of the same runs give the same summary and chart. */
static void test_old_and_new_lines_read_alike(void **state)
{
	struct fx *f = *state;
	static const char *const args = "--hours 600 --types hello:2:20:150,leaky:1:48:900 "
					 "--failures 3 --skips 20 --host 2048";
	char *json[3], *svg[3];

	for (int v = 1; v <= 3; v++)
		read_format(f, args, v, &json[v - 1], &svg[v - 1]);
	for (int v = 2; v <= 3; v++) {
		assert_string_equal(json[0], json[v - 1]);
		assert_string_equal(svg[0], svg[v - 1]);
	}
	for (int v = 0; v < 3; v++) {
		free(json[v]);
		free(svg[v]);
	}
}

/* A generated history of old-format lines with a healed entry every 200 hours. */
static void old_history(const struct fx *f, int hours, int failures)
{
	char cmd[512], line[256];

	snprintf(cmd, sizeof cmd, "python3 bench/gen_history.py '%s' --hours %d --failures %d "
		 "--types hello:2:20,leaky:1:48,wiki:2:5", f->path, hours, failures);
	assert_int_equal(system(cmd), 0);
	for (int h = 100; h < hours; h += 200) {
		int n = snprintf(line, sizeof line, "{\"command\":\"restart\",\"started\":%lld,"
				 "\"healed\":[{\"number\":%d,\"type\":\"wiki\",\"state\":\"dead\","
				 "\"why\":\"healed-%d\"}],\"exit_status\":0,\"outcome\":\"ok\"}\n",
				 GEN_START + h * 3600LL + 1800, h, h);

		put_file(f->path, "a", line, (size_t)n);
	}
}

static void test_limit_thins_keeps_failures_and_healed(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	struct stat before, after;
	const long long limit = 1024 * 1024;
	char *text;
	cJSON *j;

	old_history(f, 2000, 6);
	assert_int_equal(chmod(f->path, 0600), 0);
	assert_int_equal(stat(f->path, &before), 0);
	assert_true(before.st_size > 4 * limit);
	j = summary(f->path);
	assert_true(num(j, "failed_runs") == 6);
	cJSON_Delete(j);

	sample_run(&sm, GEN_START + 2000 * 3600LL);
	sm.r.exit_status = KR_HEALTH;   /* this run failed too */
	snprintf(sm.r.error, sizeof sm.r.error, "site check failed");
	assert_int_equal(history_append_within(f->path, &sm.r, limit, &err), 0);

	/* A new file in the old one's place, with its mode, no temporary file left. */
	assert_int_equal(stat(f->path, &after), 0);
	assert_true(after.st_ino != before.st_ino);
	assert_int_equal(after.st_mode & 07777, 0600);
	assert_true(after.st_size <= limit);
	assert_int_equal(access(f->tmp, F_OK), -1);
	j = summary(f->path);
	assert_true(num(j, "failed_runs") == 7);
	assert_true(num(j, "skipped") == 0);
	assert_true(num(j, "first") < GEN_START + 3600);     /* thinned, not cut */
	assert_true(num(j, "last") == GEN_START + 2000 * 3600LL);
	cJSON_Delete(j);
	text = slurp(f->path, NULL);
	for (int h = 100; h < 2000; h += 200) {
		char marker[32];

		snprintf(marker, sizeof marker, "\"healed-%d\"", h);
		assert_non_null(strstr(text, marker));
	}
	/* Every line now in version 3. */
	for (char *p = text; *p != '\0'; p = strchr(p, '\n') + 1)
		assert_true(strncmp(p, "{\"v\":3,", 7) == 0);
	free(text);
}

static void test_failed_thinning_loses_nothing(void **state)
{
	struct fx *f = *state;
	struct sample sm;
	struct kr_err err = { 0 };
	const char *tmp = f->tmp;
	char *was, *now;
	size_t was_len, now_len;

	old_history(f, 300, 0);
	was = slurp(f->path, &was_len);
	/* The temporary file cannot be made: a directory has its name. */
	assert_int_equal(mkdir(tmp, 0700), 0);
	sample_run(&sm, GEN_START + 300 * 3600LL);
	assert_int_equal(history_append_within(f->path, &sm.r, 64 * 1024, &err), -1);
	assert_int_equal(err.status, KR_CANTCREAT);
	assert_non_null(strstr(err.msg, tmp));
	now = slurp(f->path, &now_len);
	/* The old lines as they were, and the new one after them. */
	assert_true(now_len > was_len);
	assert_memory_equal(now, was, was_len);
	assert_true(strncmp(now + was_len, "{\"v\":3,", 7) == 0);
	rmdir(tmp);
	free(was);
	free(now);
}

/* A history of n runs 5 minutes apart: mostly gated, restarts, a few failures. */
static void lines_of(struct thin_line *v, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++) {
		int r = rand() % 100;

		v[i] = (struct thin_line){ .time = 1.7e9 + 300.0 * (double)i,
					   .out_len = 200 + (size_t)(rand() % 2000),
					   .kind = r < 1 ? THIN_PINNED : r < 10 ? THIN_RESTART :
						   r < 11 ? THIN_DROP : THIN_PLAIN };
		v[i].len = v[i].out_len;
		for (int k = 0; k < THIN_TYPES; k++)
			v[i].peak[k] = v[i].kind == THIN_PLAIN || k > 2 ? NAN : (double)(rand() % 1000);
		v[i].avail = rand() % 7 == 0 ? NAN : (double)(rand() % 1000);
	}
	v[n - 1].kind = THIN_RESTART;
}

static void test_thin_plan_fits(void **state)
{
	static const size_t budgets[] = { 0, 5000, 100000, 1000000, 4000000, 100000000 };
	const size_t n = 105120;
	struct thin_line *v = calloc(n, sizeof *v), *again = calloc(n, sizeof *v);
	size_t pinned = 0;

	(void)state;
	assert_non_null(v);
	assert_non_null(again);
	lines_of(v, n, 7);
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == THIN_PINNED)
			pinned += v[i].out_len;
	for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
		size_t m = 0;

		assert_int_equal(thin_plan(v, n, budgets[b]), 0);
		assert_true(v[n - 1].keep);
		assert_true(thin_size(v, n) <= budgets[b] || thin_size(v, n) == v[n - 1].out_len);
		for (size_t i = 0; i < n; i++) {
			assert_false(v[i].keep && v[i].kind == THIN_DROP);
			if (pinned + v[n - 1].out_len <= budgets[b] && v[i].kind == THIN_PINNED)
				assert_true(v[i].keep);
			if (v[i].keep)
				again[m++] = v[i];
		}
		/* Thinning what was thinned keeps it all. */
		assert_int_equal(thin_plan(again, m, budgets[b]), 0);
		for (size_t i = 0; i < m; i++)
			assert_true(again[i].keep);
	}
	free(v);
	free(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_size),
		cmocka_unit_test(test_schema_keys_distinct),
		cmocka_unit_test(test_every_key_round_trips),
		cmocka_unit_test(test_lines_that_do_not_hold_together),
		cmocka_unit_test(test_thin_plan_fits),
		cmocka_unit_test_setup_teardown(test_old_and_new_lines_read_alike, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_line_skipped_then_ended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_thins_keeps_failures_and_healed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_thinning_loses_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
