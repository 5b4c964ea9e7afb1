/*
 * history.c: the history file, one compact JSON report per line, and the
 * `history` summary of it.
 *
 * Appends rely on O_APPEND: each line goes out in one write(2), so runs of
 * several sites (or a manual run racing cron) never interleave within a
 * line on a local file system.  The reader trusts nothing: a line that is
 * torn, malformed, foreign or huge is counted and skipped.
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define HISTORY_LINE_MAX (4 * 1024 * 1024)  /* longer lines are skipped unread */
#define HISTORY_CHUNK 65536
#define MIB (1024.0 * 1024.0)
#define MIN_GROWTH_AGE 60.0     /* younger workers give absurd per-hour rates */
#define MAX_EPOCH 1e11          /* "started" beyond this is not ours */
#define MAX_BYTES 1e18
#define TYPE_COL_MAX 32

/* ---- appending ---- */

/* The report as one line ending in "\n"; NULL on out of memory. */
static char *history_line(const struct run_report *r, size_t *len)
{
	bool failed = false;
	cJSON *root = report_to_json(r, &failed);
	char *text = root && !failed ? cJSON_PrintUnformatted(root) : NULL;
	char *line;

	cJSON_Delete(root);
	if (text == NULL)
		return NULL;
	*len = strlen(text);
	line = realloc(text, *len + 2);
	if (line == NULL) {
		free(text);
		return NULL;
	}
	line[(*len)++] = '\n';
	line[*len] = '\0';
	return line;
}

/*
 * One write(2): under O_APPEND the line lands whole after whatever is
 * there.  *written is what write returned; errno is kept on failure.
 */
static int write_line(int fd, const char *line, size_t len, ssize_t *written)
{
	ssize_t n;
	int e;

	/* EINTR means nothing was written, so trying again cannot tear the line. */
	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	*written = n;
	if (n >= 0 && (size_t)n == len)
		return 0;
	e = errno;
	/* End a fragment so the next run's line is not glued onto it. */
	if (n > 0 && write(fd, "\n", 1) < 0) {
		/* nothing more to do: the reader skips the torn line either way */
	}
	errno = e;
	return -1;
}

int history_append(const char *path, const struct run_report *r, struct kr_err *err)
{
	size_t len;
	char *line = history_line(r, &len);
	ssize_t n;
	int fd, rc, e;

	if (line == NULL)
		return kr_fail(err, KR_SOFTWARE, "history %s: out of memory", path);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		e = errno;
		free(line);
		return kr_fail(err, KR_CANTCREAT, "history %s: %s", path, strerror(e));
	}
	rc = write_line(fd, line, len, &n);
	e = errno;
	free(line);
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		e = errno;
		n = -1;
	}
	if (rc == 0)
		return 0;
	if (n >= 0)
		return kr_fail(err, KR_CANTCREAT, "history %s: short write (%zd of %zu bytes)",
			       path, n, len);
	return kr_fail(err, KR_CANTCREAT, "history %s: %s", path, strerror(e));
}

/* ---- reading lines in bounded memory ---- */

enum line_kind { LINE_EOF, LINE_OK, LINE_TORN, LINE_LONG, LINE_ERROR, LINE_NOMEM };

struct line_reader {
	int fd;
	char *buf;              /* HISTORY_CHUNK bytes read ahead */
	size_t pos, end;
	char *line;             /* current line, newline replaced by NUL */
	size_t len, cap;
	bool overlong;          /* current line passed HISTORY_LINE_MAX: its bytes are dropped */
};

static int line_add(struct line_reader *lr, const char *p, size_t n)
{
	size_t cap = lr->cap ? lr->cap : 4096;
	char *v;

	if (lr->overlong)
		return 0;
	if (lr->len + n > HISTORY_LINE_MAX) {
		lr->overlong = true;
		lr->len = 0;
		return 0;
	}
	while (cap < lr->len + n + 1)
		cap *= 2;
	if (cap != lr->cap) {
		v = realloc(lr->line, cap);
		if (v == NULL)
			return -1;
		lr->line = v;
		lr->cap = cap;
	}
	memcpy(lr->line + lr->len, p, n);
	lr->len += n;
	lr->line[lr->len] = '\0';
	return 0;
}

static enum line_kind next_line(struct line_reader *lr)
{
	lr->len = 0;
	lr->overlong = false;
	if (line_add(lr, "", 0) < 0)
		return LINE_NOMEM;
	for (;;) {
		const char *nl;
		size_t take;

		if (lr->pos == lr->end) {
			ssize_t n = read(lr->fd, lr->buf, HISTORY_CHUNK);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return LINE_ERROR;
			if (n == 0)
				return lr->len > 0 || lr->overlong ? LINE_TORN : LINE_EOF;
			lr->pos = 0;
			lr->end = (size_t)n;
		}
		nl = memchr(lr->buf + lr->pos, '\n', lr->end - lr->pos);
		take = nl ? (size_t)(nl - (lr->buf + lr->pos)) : lr->end - lr->pos;
		if (line_add(lr, lr->buf + lr->pos, take) < 0)
			return LINE_NOMEM;
		lr->pos += take + (nl != NULL);
		if (nl != NULL)
			return lr->overlong ? LINE_LONG : LINE_OK;
	}
}

/* ---- accumulating ---- */

struct failure {
	bool set;
	double time;
	char *error;            /* NULL when the line gave none */
};

struct type_stat {
	char *name;
	long long runs, restarts, failures;
	long long seen_in_run;  /* run number that last counted this type */
	double mem_sum;         /* bytes, over ok restarts */
	long long mem_n;
	double growth_sum;      /* MB/hour, over ok restarts old enough */
	long long growth_n;
	double conts_sum;       /* continuations/hour, likewise */
	long long conts_n;
	struct failure fail;
};

struct summary {
	struct type_stat *t;
	size_t n, cap;
	long long lines, skipped, runs, failed_runs;
	long long gated;        /* restart runs the memory gates kept from restarting */
	double first, last;
	struct failure last_failure;    /* of any run, typed or not */
};

static const cJSON *jget(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static const char *jstring(const cJSON *o, const char *key)
{
	const cJSON *x = jget(o, key);

	return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* A number within [lo, hi], so later casts and sums stay defined. */
static bool jnumber(const cJSON *o, const char *key, double lo, double hi, double *out)
{
	const cJSON *x = jget(o, key);

	if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || x->valuedouble < lo ||
	    x->valuedouble > hi)
		return false;
	*out = x->valuedouble;
	return true;
}

/* A worker's memory: PSS when asked and known, else RSS. */
static bool worker_mem(const cJSON *w, bool pss, double *out)
{
	if (pss && jnumber(w, "pss_bytes", 0, MAX_BYTES, out))
		return true;
	return jnumber(w, "rss_bytes", 0, MAX_BYTES, out);
}

static struct type_stat *type_get(struct summary *s, const char *name)
{
	struct type_stat *v;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->t[i].name, name) == 0)
			return &s->t[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;

		v = realloc(s->t, cap * sizeof *v);
		if (v == NULL)
			return NULL;
		s->t = v;
		s->cap = cap;
	}
	v = &s->t[s->n];
	memset(v, 0, sizeof *v);
	v->seen_in_run = -1;
	v->name = strdup(name);
	if (v->name == NULL)
		return NULL;
	s->n++;
	return v;
}

/* Keep the latest failure; on a tie the later call (the more specific) wins. */
static int note_failure(struct failure *f, double when, const char *why)
{
	char *copy = NULL;

	if (f->set && when < f->time)
		return 0;
	if (why != NULL && (copy = strdup(why)) == NULL)
		return -1;
	free(f->error);
	f->error = copy;
	f->time = when;
	f->set = true;
	return 0;
}

/*
 * Growth of one restarted worker: what it gained over the fresh
 * replacement, per hour of the difference in their ages.  Subtracting the
 * replacement's memory removes the start-up footprint, which would
 * otherwise show as "growth" that depends on how often workers restart.
 * Both ends use the same metric.
 */
static bool step_growth(const cJSON *old, const cJSON *new, bool pss, double *mb_per_h)
{
	double old_age, new_age = 0, om, nm;
	bool both_pss = pss && jnumber(old, "pss_bytes", 0, MAX_BYTES, &om) &&
			jnumber(new, "pss_bytes", 0, MAX_BYTES, &nm);

	if (!jnumber(old, "age_s", 0, MAX_EPOCH, &old_age) ||
	    !worker_mem(old, both_pss, &om) || !worker_mem(new, both_pss, &nm))
		return false;
	if (!jnumber(new, "age_s", 0, MAX_EPOCH, &new_age))
		new_age = 0;
	if (old_age - new_age < MIN_GROWTH_AGE)
		return false;
	*mb_per_h = (om - nm) / MIB / ((old_age - new_age) / 3600.0);
	return true;
}

/*
 * Continuations gained per hour, as step_growth does for memory: the
 * old worker's count less its fresh replacement's, over their age gap.
 */
static bool step_conts(const cJSON *old, const cJSON *new, double *per_h)
{
	double old_age, new_age = 0, oc, nc;

	if (!jnumber(old, "age_s", 0, MAX_EPOCH, &old_age) ||
	    !jnumber(old, "continuations", 0, MAX_BYTES, &oc) ||
	    !jnumber(new, "continuations", 0, MAX_BYTES, &nc))
		return false;
	if (!jnumber(new, "age_s", 0, MAX_EPOCH, &new_age))
		new_age = 0;
	if (old_age - new_age < MIN_GROWTH_AGE)
		return false;
	*per_h = (oc - nc) / ((old_age - new_age) / 3600.0);
	return true;
}

static int add_step(struct summary *s, const cJSON *e, bool pss, double started,
		    const char *run_error)
{
	const cJSON *old = jget(e, "old");
	const char *type = jstring(old, "type"), *result = jstring(e, "result");
	struct type_stat *t;
	double v;

	if (type == NULL || result == NULL)
		return 0;
	if ((t = type_get(s, type)) == NULL)
		return -1;
	if (strcmp(result, "failed") == 0) {
		const char *why = jstring(e, "error");

		t->failures++;
		return note_failure(&t->fail, started, why ? why : run_error);
	}
	if (strcmp(result, "ok") != 0)
		return 0;
	t->restarts++;
	if (worker_mem(old, pss, &v)) {
		t->mem_sum += v;
		t->mem_n++;
	}
	if (step_growth(old, jget(e, "new"), pss, &v)) {
		t->growth_sum += v;
		t->growth_n++;
	}
	if (step_conts(old, jget(e, "new"), &v)) {
		t->conts_sum += v;
		t->conts_n++;
	}
	return 0;
}

static int count_before(struct summary *s, const cJSON *run)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, jget(run, "workers_before")) {
		const char *type = jstring(w, "type");
		struct type_stat *t;

		if (type == NULL)
			continue;
		if ((t = type_get(s, type)) == NULL)
			return -1;
		if (t->seen_in_run != s->runs) {
			t->seen_in_run = s->runs;
			t->runs++;
		}
	}
	return 0;
}

static bool any_failed_step(const cJSON *restarts)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, restarts) {
		const char *result = jstring(e, "result");

		if (result != NULL && strcmp(result, "failed") == 0)
			return true;
	}
	return false;
}

/*
 * A failed run is the latest failure overall.  When no step failed (the
 * site check after the restarts did, or a signal stopped the run), it is
 * also charged to each type the run restarted; a failed step is charged to
 * its own type only, by add_step.
 */
static int blame_run(struct summary *s, const cJSON *restarts, double started, const char *why)
{
	const cJSON *e;

	if (note_failure(&s->last_failure, started, why) < 0)
		return -1;
	if (any_failed_step(restarts))
		return 0;
	cJSON_ArrayForEach(e, restarts) {
		const char *type = jstring(jget(e, "old"), "type");
		struct type_stat *t;

		if (type == NULL)
			continue;
		if ((t = type_get(s, type)) == NULL || note_failure(&t->fail, started, why) < 0)
			return -1;
	}
	return 0;
}

static int add_run(struct summary *s, const cJSON *run, double started)
{
	const char *metric = jstring(run, "metric"), *why = jstring(run, "error");
	const cJSON *restarts = jget(run, "restarts"), *e;
	bool pss = metric != NULL && strcmp(metric, "pss") == 0;
	double status = 0;

	s->runs++;
	if (s->runs == 1 || started < s->first)
		s->first = started;
	if (s->runs == 1 || started > s->last)
		s->last = started;
	if (count_before(s, run) < 0)
		return -1;
	if (jnumber(run, "exit_status", -1e9, 1e9, &status) && status != 0) {
		s->failed_runs++;
		if (blame_run(s, restarts, started, why) < 0)
			return -1;
	}
	cJSON_ArrayForEach(e, restarts)
		if (add_step(s, e, pss, started, why) < 0)
			return -1;
	return 0;
}

/* One complete line: 1 counted, 0 skipped or filtered, -1 out of memory. */
static int add_line(struct summary *s, char *line, size_t len, time_t since)
{
	cJSON *run;
	const cJSON *dry;
	const char *command, *outcome;
	double started;
	int rc = 0;

	/* cJSON takes NUL for white space, so zeroes left by a crash could pass. */
	if (memchr(line, '\0', len) != NULL) {
		s->skipped++;
		return 0;
	}
	/* len + 1 takes in the NUL, which is how cJSON knows nothing follows. */
	run = cJSON_ParseWithLengthOpts(line, len + 1, NULL, true);
	command = jstring(run, "command");
	if (!cJSON_IsObject(run) || command == NULL ||
	    !jnumber(run, "started", -MAX_EPOCH, MAX_EPOCH, &started)) {
		cJSON_Delete(run);
		s->skipped++;
		return 0;
	}
	dry = jget(run, "dry_run");
	outcome = jstring(run, "outcome");
	if (started >= (double)since && strcmp(command, "restart") == 0 && !cJSON_IsTrue(dry)) {
		if (outcome != NULL && strcmp(outcome, "skipped") == 0)
			s->gated++;
		else
			rc = add_run(s, run, started) < 0 ? -1 : 1;
	}
	cJSON_Delete(run);
	return rc;
}

static void summary_free(struct summary *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->t[i].name);
		free(s->t[i].fail.error);
	}
	free(s->t);
	free(s->last_failure.error);
}

/* ENOENT is not an error: no run has written the file yet. */
static int open_history(const char *path, int *fd, struct kr_err *err)
{
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT)
		return 0;
	if (*fd < 0)
		return kr_fail(err, KR_DATAERR, "history %s: %s", path, strerror(errno));
	if (fstat(*fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		int e = errno;

		if (e == 0 || S_ISDIR(st.st_mode))
			e = EISDIR;
		close(*fd);
		*fd = -1;
		return kr_fail(err, KR_DATAERR, "history %s: %s", path, strerror(e));
	}
	return 0;
}

static int read_history(const char *path, int fd, time_t since, struct summary *s,
			struct kr_err *err)
{
	struct line_reader lr = { .fd = fd };
	int rc = 0;

	lr.buf = malloc(HISTORY_CHUNK);
	if (lr.buf == NULL)
		return kr_fail(err, KR_SOFTWARE, "history %s: out of memory", path);
	for (;;) {
		enum line_kind k = next_line(&lr);

		if (k == LINE_EOF)
			break;
		if (k == LINE_ERROR) {
			rc = kr_fail(err, KR_DATAERR, "history %s: %s", path, strerror(errno));
			break;
		}
		if (k == LINE_NOMEM || (k == LINE_OK && add_line(s, lr.line, lr.len, since) < 0)) {
			rc = kr_fail(err, KR_SOFTWARE, "history %s: out of memory", path);
			break;
		}
		s->lines++;
		if (k != LINE_OK)
			s->skipped++;   /* torn or overlong */
	}
	free(lr.buf);
	free(lr.line);
	return rc;
}

/* ---- output ---- */

static void fmt_time(double epoch, char *out, size_t size)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, size, "%.0f", epoch);
}

/* Text from the file goes to a terminal: no control characters. */
static void put_clean(FILE *out, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* Memory figures are non-negative and bounded by MAX_BYTES: the cast is safe. */
static long long mean_bytes(const struct type_stat *t)
{
	return t->mem_n ? (long long)(t->mem_sum / (double)t->mem_n + 0.5) : -1;
}

static int type_width(const struct summary *s)
{
	size_t w = 4;

	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->t[i].name) > w)
			w = strlen(s->t[i].name);
	return (int)(w > TYPE_COL_MAX ? TYPE_COL_MAX : w);
}

static void text_row(FILE *out, const struct type_stat *t, int width)
{
	char mem[32], growth[32], conts[32], when[32];

	fmt_bytes(mean_bytes(t), mem, sizeof mem);
	if (t->growth_n)
		snprintf(growth, sizeof growth, "%.1fM/h", t->growth_sum / (double)t->growth_n);
	else
		snprintf(growth, sizeof growth, "-");
	if (t->conts_n)
		snprintf(conts, sizeof conts, "%.0f/h", t->conts_sum / (double)t->conts_n);
	else
		snprintf(conts, sizeof conts, "-");
	put_clean(out, t->name);
	fprintf(out, "%*s %6lld %8lld %8lld %8s %9s %9s  ",
		width - (int)strlen(t->name) > 0 ? width - (int)strlen(t->name) : 0, "",
		t->runs, t->restarts, t->failures, mem, growth, conts);
	if (t->fail.set) {
		fmt_time(t->fail.time, when, sizeof when);
		fprintf(out, "%s ", when);
		put_clean(out, t->fail.error ? t->fail.error : "?");
	} else {
		fputc('-', out);
	}
	fputc('\n', out);
}

static void text_summary(const struct summary *s, time_t since, FILE *out)
{
	int width = type_width(s);
	char a[32], b[32];

	fprintf(out, "%-*s %6s %8s %8s %8s %9s %9s  %s\n", width, "TYPE", "RUNS", "RESTARTS",
		"FAILURES", "MEAN-MEM", "GROWTH/H", "CONTS/H", "LAST-FAILURE");
	for (size_t i = 0; i < s->n; i++)
		text_row(out, &s->t[i], width);
	if (s->runs == 0) {
		fprintf(out, "# no runs recorded");
		if (since > 0) {
			fmt_time((double)since, a, sizeof a);
			fprintf(out, " since %s UTC", a);
		}
	} else {
		fmt_time(s->first, a, sizeof a);
		fmt_time(s->last, b, sizeof b);
		fprintf(out, "# %lld run%s from %s to %s UTC, %lld failed", s->runs,
			s->runs == 1 ? "" : "s", a, b, s->failed_runs);
	}
	if (s->gated > 0)
		fprintf(out, "; %lld run%s restarted nothing (memory gates)", s->gated,
			s->gated == 1 ? "" : "s");
	if (s->skipped > 0)
		fprintf(out, "; %lld line%s skipped", s->skipped, s->skipped == 1 ? "" : "s");
	fputc('\n', out);
}

/* cJSON reports failure by NULL; *bad collects it for one check at the end. */
static void jadd(bool *bad, cJSON *o, const char *key, cJSON *v)
{
	if (v == NULL || o == NULL || !cJSON_AddItemToObject(o, key, v)) {
		cJSON_Delete(v);
		*bad = true;
	}
}

static cJSON *jnum_or_null(bool have, double v)
{
	return have ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *json_failure(bool *bad, const struct failure *f)
{
	cJSON *o;

	if (!f->set)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	jadd(bad, o, "time", cJSON_CreateNumber(f->time));
	jadd(bad, o, "error", f->error ? cJSON_CreateString(f->error) : cJSON_CreateNull());
	return o;
}

static cJSON *json_type(bool *bad, const struct type_stat *t)
{
	cJSON *o = cJSON_CreateObject();

	jadd(bad, o, "type", cJSON_CreateString(t->name));
	jadd(bad, o, "runs", cJSON_CreateNumber((double)t->runs));
	jadd(bad, o, "restarts", cJSON_CreateNumber((double)t->restarts));
	jadd(bad, o, "failures", cJSON_CreateNumber((double)t->failures));
	jadd(bad, o, "mean_memory_bytes", jnum_or_null(t->mem_n > 0, (double)mean_bytes(t)));
	jadd(bad, o, "growth_mb_per_hour",
	     jnum_or_null(t->growth_n > 0, t->growth_n ? t->growth_sum / (double)t->growth_n : 0));
	jadd(bad, o, "continuations_per_hour",
	     jnum_or_null(t->conts_n > 0, t->conts_n ? t->conts_sum / (double)t->conts_n : 0));
	jadd(bad, o, "last_failure", json_failure(bad, &t->fail));
	return o;
}

static cJSON *json_summary(const struct summary *s, const char *path, time_t since)
{
	cJSON *root = cJSON_CreateObject(), *types = cJSON_CreateArray();
	bool bad = false;

	jadd(&bad, root, "file", cJSON_CreateString(path));
	jadd(&bad, root, "since", cJSON_CreateNumber((double)since));
	jadd(&bad, root, "lines", cJSON_CreateNumber((double)s->lines));
	jadd(&bad, root, "skipped", cJSON_CreateNumber((double)s->skipped));
	jadd(&bad, root, "runs", cJSON_CreateNumber((double)s->runs));
	jadd(&bad, root, "failed_runs", cJSON_CreateNumber((double)s->failed_runs));
	jadd(&bad, root, "gated_runs", cJSON_CreateNumber((double)s->gated));
	jadd(&bad, root, "first", jnum_or_null(s->runs > 0, s->first));
	jadd(&bad, root, "last", jnum_or_null(s->runs > 0, s->last));
	jadd(&bad, root, "last_failure", json_failure(&bad, &s->last_failure));
	for (size_t i = 0; i < s->n && types != NULL; i++) {
		cJSON *t = json_type(&bad, &s->t[i]);

		if (t == NULL || !cJSON_AddItemToArray(types, t)) {
			cJSON_Delete(t);
			bad = true;
		}
	}
	jadd(&bad, root, "types", types);
	if (bad) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static int print_summary(const struct summary *s, const char *path, time_t since, bool json,
			 FILE *out, struct kr_err *err)
{
	if (json) {
		cJSON *root = json_summary(s, path, since);
		char *text = root ? cJSON_Print(root) : NULL;

		cJSON_Delete(root);
		if (text == NULL)
			return kr_fail(err, KR_SOFTWARE, "history %s: out of memory", path);
		fprintf(out, "%s\n", text);
		free(text);
	} else {
		text_summary(s, since, out);
	}
	if (fflush(out) != 0 || ferror(out))
		return kr_fail(err, KR_CANTCREAT, "history summary: write failed");
	return 0;
}

int history_summary(const char *path, time_t since_epoch, bool json, FILE *out,
		    struct kr_err *err)
{
	struct summary s = { 0 };
	int fd, rc;

	if (open_history(path, &fd, err) < 0)
		return -1;
	rc = fd < 0 ? 0 : read_history(path, fd, since_epoch, &s, err);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = kr_fail(err, KR_DATAERR, "history %s: %s", path, strerror(errno));
	if (rc == 0)
		rc = print_summary(&s, path, since_epoch, json, out, err);
	summary_free(&s);
	return rc;
}
