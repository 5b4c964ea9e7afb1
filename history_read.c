/*
 * history_read.c: the history file read line by line in bounded memory.
 *
 * A line is read into a buffer that grows up to HISTORY_LINE_MAX; the
 * bytes of a longer line are dropped as they come, so a file of any size
 * and shape costs at most that much memory plus one parsed line.
 */
#include "history_read.h"
#include "history_fmt.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define HISTORY_LINE_MAX HIST_LINE_MAX
#define HISTORY_CHUNK 65536

/* ---- fields ---- */

const cJSON *jget(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

const char *jstring(const cJSON *o, const char *key)
{
	const cJSON *x = jget(o, key);

	return cJSON_IsString(x) ? x->valuestring : NULL;
}

bool jnumber(const cJSON *o, const char *key, double lo, double hi, double *out)
{
	const cJSON *x = jget(o, key);

	if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || x->valuedouble < lo ||
	    x->valuedouble > hi)
		return false;
	*out = x->valuedouble;
	return true;
}

bool worker_mem(const cJSON *w, bool pss, double *out)
{
	if (pss && jnumber(w, "pss_bytes", 0, HIST_MAX_BYTES, out))
		return true;
	return jnumber(w, "rss_bytes", 0, HIST_MAX_BYTES, out);
}

bool run_uses_pss(const cJSON *run)
{
	const char *metric = jstring(run, "metric");

	return metric != NULL && strcmp(metric, "pss") == 0;
}

/* ---- lines ---- */

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

/* ---- runs ---- */

struct scan {
	time_t since;
	history_run_fn *fn;
	void *ctx;
	struct history_counts *c;
};

/* One complete line: 1 passed on, 0 skipped or filtered, -1 out of memory. */
static int add_line(struct scan *sc, char *line, size_t len)
{
	struct hfmt_view view;
	cJSON *parsed;
	const char *command;
	double started;
	int rc = 0;

	/* cJSON takes NUL for white space, so zeroes left by a crash could pass. */
	if (memchr(line, '\0', len) != NULL) {
		sc->c->skipped++;
		return 0;
	}
	/* len + 1 takes in the NUL, which is how cJSON knows nothing follows. */
	parsed = cJSON_ParseWithLengthOpts(line, len + 1, NULL, true);
	if (!cJSON_IsObject(parsed)) {
		cJSON_Delete(parsed);
		sc->c->skipped++;
		return 0;
	}
	switch (hfmt_expand(parsed, len, &view)) {
	case HFMT_NOMEM:
		return -1;
	case HFMT_BAD:
		sc->c->skipped++;
		return 0;
	case HFMT_OK:
		break;
	}
	command = jstring(view.run, "command");
	if (command == NULL || !jnumber(view.run, "started", -HIST_MAX_EPOCH, HIST_MAX_EPOCH, &started)) {
		hfmt_view_free(&view);
		sc->c->skipped++;
		return 0;
	}
	if (started >= (double)sc->since &&
	    (strcmp(command, "restart") == 0 || strcmp(command, "sweep") == 0) &&
	    !cJSON_IsTrue(jget(view.run, "dry_run")))
		rc = sc->fn(sc->ctx, view.run, started) < 0 ? -1 : 1;
	hfmt_view_free(&view);
	return rc;
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

static int read_lines(const char *path, int fd, struct scan *sc, struct kr_err *err)
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
		if (k == LINE_NOMEM || (k == LINE_OK && add_line(sc, lr.line, lr.len) < 0)) {
			rc = kr_fail(err, KR_SOFTWARE, "history %s: out of memory", path);
			break;
		}
		sc->c->lines++;
		if (k != LINE_OK)
			sc->c->skipped++;   /* torn or overlong */
		/* A run stopped mid-append; the next append or compaction mends it. */
		if (k == LINE_TORN)
			log_info("history %s: last line incomplete (a run stopped while writing it): skipped",
				 path);
	}
	free(lr.buf);
	free(lr.line);
	return rc;
}

int history_scan(const char *path, time_t since, history_run_fn *fn, void *ctx,
		 struct history_counts *counts, struct kr_err *err)
{
	struct scan sc = { since, fn, ctx, counts };
	int fd, rc;

	*counts = (struct history_counts){ 0 };
	if (open_history(path, &fd, err) < 0)
		return -1;
	if (fd < 0)
		return 0;
	rc = read_lines(path, fd, &sc, err);
	if (close(fd) < 0 && rc == 0)
		rc = kr_fail(err, KR_DATAERR, "history %s: %s", path, strerror(errno));
	return rc;
}
