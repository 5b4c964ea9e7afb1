/*
 * history.c: the history file, one compact JSON report per line, and the
 * `history` summary of it.
 *
 * A line is the run's report in the history's own format (history_fmt.h),
 * stored under the file's lock within its size (history_store.h).  The
 * reader trusts nothing: a line that is torn, malformed, foreign or huge
 * is counted and skipped.
 */
#include "history.h"
#include "history_fmt.h"
#include "history_read.h"
#include "history_store.h"
#include "jsonw.h"
#include "report.h"
#include "tgrid.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
#define MIN_GROWTH_AGE 60.0     /* younger workers give absurd per-hour rates */
#define MAX_EPOCH HIST_MAX_EPOCH
#define MAX_BYTES HIST_MAX_BYTES
#define TYPE_COL_MAX 32
#define SPARK_W 24              /* characters of a sparkline */
#define SPARK_SLOTS (4 * SPARK_W)

/* ---- appending ---- */

int history_append_within(const char *path, const struct run_report *r, long long max_size,
			  struct kr_err *err)
{
	bool failed = false;
	cJSON *root = report_to_json(r, &failed);
	size_t len = 0;
	char *line = root && !failed ? hfmt_line(root, &len) : NULL;
	int rc;

	cJSON_Delete(root);
	if (line == NULL)
		return kr_fail(err, KR_SOFTWARE, "history %s: out of memory", path);
	rc = history_store(path, line, len, max_size, err);
	free(line);
	return rc;
}

int history_append(const char *path, const struct run_report *r, struct kr_err *err)
{
	return history_append_within(path, r, 0, err);
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
	long long swept;        /* continuations swept (sweep, restart --sweep-conts) */
	long long sweeps;       /* workers of the type swept */
	struct failure fail;
	int spark;              /* channel of its peaks in summary.peaks, -1 none */
	double run_peak;        /* largest worker in the run numbered peak_run */
	long long peak_run;
};

struct summary {
	struct type_stat *t;
	size_t n, cap;
	long long lines, skipped, runs, failed_runs;
	long long gated;        /* restart runs the memory gates kept from restarting */
	double first, last;
	struct failure last_failure;    /* of any run, typed or not */
	struct tgrid peaks;     /* per type, its largest worker before each run */
};

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
	v->peak_run = -1;
	/* No channel left (a file of countless types): that type gets no sparkline. */
	v->spark = tgrid_channel(&s->peaks, TG_MAX);
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
 * Hours between a restarted worker's age and its replacement's, the span
 * over which it grew; false when too short to give a sane hourly rate.
 */
static bool age_gap(const cJSON *old, const cJSON *new, double *hours)
{
	double old_age, new_age = 0;

	if (!jnumber(old, "age_s", 0, MAX_EPOCH, &old_age))
		return false;
	if (!jnumber(new, "age_s", 0, MAX_EPOCH, &new_age))
		new_age = 0;
	if (old_age - new_age < MIN_GROWTH_AGE)
		return false;
	*hours = (old_age - new_age) / 3600.0;
	return true;
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
	double hours, om, nm;
	bool both_pss = pss && jnumber(old, "pss_bytes", 0, MAX_BYTES, &om) &&
			jnumber(new, "pss_bytes", 0, MAX_BYTES, &nm);

	if (!age_gap(old, new, &hours) || !worker_mem(old, both_pss, &om) ||
	    !worker_mem(new, both_pss, &nm))
		return false;
	*mb_per_h = (om - nm) / MIB / hours;
	return true;
}

/*
 * Continuations gained per hour, as step_growth does for memory: the
 * old worker's count less its fresh replacement's, over their age gap.
 */
static bool step_conts(const cJSON *old, const cJSON *new, double *per_h)
{
	double hours, oc, nc;

	if (!age_gap(old, new, &hours) || !jnumber(old, "continuations", 0, MAX_BYTES, &oc) ||
	    !jnumber(new, "continuations", 0, MAX_BYTES, &nc))
		return false;
	*per_h = (oc - nc) / hours;
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

/* The largest worker of each type before the run, for the sparklines. */
static int note_peaks(struct summary *s, const cJSON *run, bool pss, double started)
{
	size_t slot = tgrid_place(&s->peaks, started);
	const cJSON *w;
	double v;

	cJSON_ArrayForEach(w, jget(run, "workers_before")) {
		const char *type = jstring(w, "type");
		struct type_stat *t;

		if (type == NULL || !worker_mem(w, pss, &v))
			continue;
		if ((t = type_get(s, type)) == NULL)
			return -1;
		if (t->peak_run != s->runs || v > t->run_peak)
			t->run_peak = v;
		t->peak_run = s->runs;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i].peak_run == s->runs && s->t[i].spark >= 0)
			tgrid_put(&s->peaks, slot, s->t[i].spark, s->t[i].run_peak);
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

/* What the run's sweep discarded, per type; a failed sweep of a worker counts nothing. */
static int add_sweep(struct summary *s, const cJSON *run)
{
	const cJSON *w;
	double n;

	cJSON_ArrayForEach(w, jget(jget(run, "sweep"), "workers")) {
		const char *type = jstring(w, "type"), *outcome = jstring(w, "outcome");
		struct type_stat *t;

		if (type == NULL || outcome == NULL || strcmp(outcome, "ok") != 0 ||
		    !jnumber(w, "swept_continuations", 0, 1e15, &n))
			continue;
		if ((t = type_get(s, type)) == NULL)
			return -1;
		t->swept += (long long)n;
		t->sweeps++;
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
	if (count_before(s, run) < 0 || note_peaks(s, run, pss, started) < 0 || add_sweep(s, run) < 0)
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

static void summary_free(struct summary *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->t[i].name);
		free(s->t[i].fail.error);
	}
	free(s->t);
	free(s->last_failure.error);
	tgrid_free(&s->peaks);
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

/* The terminal takes UTF-8 when the locale's character set says so. */
static bool utf8_locale(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };

	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);

		if (v == NULL || v[0] == '\0')
			continue;
		for (; *v != '\0'; v++)
			if (strncasecmp(v, "utf-8", 5) == 0 || strncasecmp(v, "utf8", 4) == 0)
				return true;
		return false;
	}
	return false;
}

/* Each column's highest peak: the slots' runs spread over SPARK_W columns. */
static void spark_columns(const struct summary *s, const struct type_stat *t, double *col)
{
	const struct tgrid *g = &s->peaks;
	double span = s->last - s->first;

	for (size_t c = 0; c < SPARK_W; c++)
		col[c] = NAN;
	for (size_t i = g->lo; i < g->hi; i++) {
		double x = tgrid_time(g, i), v = tgrid_get(g, t->spark, i);
		size_t c = SPARK_W - 1;

		if (isnan(x) || isnan(v))
			continue;
		if (span > 0 && x < s->last)
			c = (size_t)((x - s->first) / span * SPARK_W);
		if (c >= SPARK_W)
			c = SPARK_W - 1;
		if (isnan(col[c]) || v > col[c])
			col[c] = v;
	}
}

/*
 * Eight levels from 0 to the highest peak: a steady leak that restarts
 * keep up with is a flat row, one they do not is a rising one.  A blank
 * is a stretch of the period with no run.
 */
static void sparkline(FILE *out, const struct summary *s, const struct type_stat *t, bool utf8)
{
	static const char *const blocks[] = { "\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = "_.:-=+*#";
	double col[SPARK_W], top = 0;
	char peak[32];

	if (t->spark < 0) {
		fprintf(out, "%-*s", SPARK_W + 6, "-");
		return;
	}
	spark_columns(s, t, col);
	for (size_t c = 0; c < SPARK_W; c++)
		if (!isnan(col[c]) && col[c] > top)
			top = col[c];
	for (size_t c = 0; c < SPARK_W; c++) {
		int level = isnan(col[c]) || top <= 0 ? 0 : (int)ceil(col[c] / top * 8) - 1;

		level = level < 0 ? 0 : level > 7 ? 7 : level;
		if (isnan(col[c]))
			fputc(' ', out);
		else if (utf8)
			fputs(blocks[level], out);
		else
			fputc(ascii[level], out);
	}
	fmt_bytes(top > 0 ? (long long)top : -1, peak, sizeof peak);
	fprintf(out, " %5s", peak);
}

static void text_row(FILE *out, const struct summary *s, const struct type_stat *t, int width,
		     bool utf8)
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
	sparkline(out, s, t, utf8);
	fputs("  ", out);
	if (t->fail.set) {
		fmt_time(t->fail.time, when, sizeof when);
		fprintf(out, "%s ", when);
		put_clean(out, t->fail.error ? t->fail.error : "?");
	} else {
		fputc('-', out);
	}
	fputc('\n', out);
}

/* "# swept: TYPE N continuations in K sweeps, ..." when any run swept. */
static void swept_line(const struct summary *s, FILE *out)
{
	bool any = false;

	for (size_t i = 0; i < s->n; i++) {
		if (s->t[i].sweeps == 0)
			continue;
		fputs(any ? ", " : "# swept: ", out);
		put_clean(out, s->t[i].name);
		fprintf(out, " %lld continuation%s in %lld worker sweep%s", s->t[i].swept,
			s->t[i].swept == 1 ? "" : "s", s->t[i].sweeps, s->t[i].sweeps == 1 ? "" : "s");
		any = true;
	}
	if (any)
		fputc('\n', out);
}

static void text_summary(const struct summary *s, time_t since, FILE *out)
{
	int width = type_width(s);
	bool utf8 = utf8_locale();
	char a[32], b[32];

	fprintf(out, "%-*s %6s %8s %8s %8s %9s %9s  %-*s  %s\n", width, "TYPE", "RUNS", "RESTARTS",
		"FAILURES", "MEAN-MEM", "GROWTH/H", "CONTS/H", SPARK_W + 6, "PEAK-MEMORY",
		"LAST-FAILURE");
	for (size_t i = 0; i < s->n; i++)
		text_row(out, s, &s->t[i], width, utf8);
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
	swept_line(s, out);
}

static void json_failure(struct jb *b, cJSON *parent, const char *key, const struct failure *f)
{
	cJSON *o;

	if (!f->set) {
		jstr(b, parent, key, NULL);
		return;
	}
	o = jchild(b, parent, key, false);
	if (o == NULL)
		return;
	jnum(b, o, "time", f->time);
	jstr(b, o, "error", f->error);
}

static void json_type(struct jb *b, cJSON *o, const struct type_stat *t)
{
	if (o == NULL)
		return;
	jstr(b, o, "type", t->name);
	jnum(b, o, "runs", (double)t->runs);
	jnum(b, o, "restarts", (double)t->restarts);
	jnum(b, o, "failures", (double)t->failures);
	jnum_if(b, o, "mean_memory_bytes", t->mem_n > 0, (double)mean_bytes(t));
	jnum_if(b, o, "growth_mb_per_hour", t->growth_n > 0,
		t->growth_n ? t->growth_sum / (double)t->growth_n : 0);
	jnum_if(b, o, "continuations_per_hour", t->conts_n > 0,
		t->conts_n ? t->conts_sum / (double)t->conts_n : 0);
	jnum(b, o, "swept_continuations", (double)t->swept);
	jnum(b, o, "worker_sweeps", (double)t->sweeps);
	json_failure(b, o, "last_failure", &t->fail);
}

static cJSON *json_summary(const struct summary *s, const char *path, time_t since)
{
	cJSON *root = cJSON_CreateObject(), *types;
	struct jb b = { root == NULL };

	if (root == NULL)
		return NULL;
	jstr(&b, root, "file", path);
	jnum(&b, root, "since", (double)since);
	jnum(&b, root, "lines", (double)s->lines);
	jnum(&b, root, "skipped", (double)s->skipped);
	jnum(&b, root, "runs", (double)s->runs);
	jnum(&b, root, "failed_runs", (double)s->failed_runs);
	jnum(&b, root, "gated_runs", (double)s->gated);
	jnum_if(&b, root, "first", s->runs > 0, s->first);
	jnum_if(&b, root, "last", s->runs > 0, s->last);
	json_failure(&b, root, "last_failure", &s->last_failure);
	types = jchild(&b, root, "types", true);
	for (size_t i = 0; i < s->n && types != NULL; i++)
		json_type(&b, jitem(&b, types), &s->t[i]);
	if (b.failed) {
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

/* A run the memory gates kept from restarting is counted apart, not as a run. */
static int on_run(void *ctx, const cJSON *run, double started)
{
	struct summary *s = ctx;
	const char *outcome = jstring(run, "outcome");

	const char *command = jstring(run, "command");

	if (outcome != NULL && strcmp(outcome, "skipped") == 0) {
		s->gated++;
		return 0;
	}
	/* A sweep run restarts nothing: only what it swept counts. */
	if (command != NULL && strcmp(command, "sweep") == 0)
		return add_sweep(s, run);
	return add_run(s, run, started);
}

/* The file's runs since since_epoch summed up in *s (summary_free it either way). */
static int summary_read(const char *path, time_t since_epoch, struct summary *s,
			struct kr_err *err)
{
	struct history_counts c = { 0 };
	int rc;

	if (tgrid_init(&s->peaks, SPARK_SLOTS) < 0)
		return kr_fail(err, KR_SOFTWARE, "history %s: out of memory", path);
	rc = history_scan(path, since_epoch, on_run, s, &c, err);
	s->lines = c.lines;
	s->skipped += c.skipped;
	return rc;
}

int history_summary(const char *path, time_t since_epoch, bool json, FILE *out,
		    struct kr_err *err)
{
	struct summary s = { 0 };
	int rc = summary_read(path, since_epoch, &s, err);

	if (rc == 0)
		rc = print_summary(&s, path, since_epoch, json, out, err);
	summary_free(&s);
	return rc;
}

/* The summary's per-type growth handed over, names and all. */
static int take_growth(struct summary *s, struct type_growth **v, size_t *n)
{
	*v = calloc(s->n ? s->n : 1, sizeof **v);
	*n = 0;
	if (*v == NULL)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		struct type_growth *g = &(*v)[(*n)++];

		g->type = s->t[i].name;
		s->t[i].name = NULL;
		g->restarts = s->t[i].growth_n;
		g->mb_per_hour = g->restarts ? s->t[i].growth_sum / (double)g->restarts : 0;
	}
	return 0;
}

int history_growth(const char *path, time_t since_epoch, struct type_growth **v, size_t *n,
		   struct kr_err *err)
{
	struct summary s = { 0 };
	int rc = summary_read(path, since_epoch, &s, err);

	*v = NULL;
	*n = 0;
	if (rc == 0 && take_growth(&s, v, n) < 0)
		rc = kr_fail(err, KR_SOFTWARE, "history %s: out of memory", path);
	summary_free(&s);
	return rc;
}

void history_growth_free(struct type_growth *v, size_t n)
{
	for (size_t i = 0; i < n && v != NULL; i++)
		free(v[i].type);
	free(v);
}
