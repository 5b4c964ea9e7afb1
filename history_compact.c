/*
 * history_compact.c: thinning the history file (history_compact.h).
 *
 * The file is mapped, not read: a history far past its limit (an old one,
 * or a limit just lowered) costs no buffer of its size, and the kept
 * lines are copied from the mapping into the new text.
 */
#include "history_compact.h"
#include "history_fmt.h"
#include "history_read.h"
#include "history_thin.h"
#include "log.h"
#include "outfile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

struct lines {
	struct thin_line *v;
	size_t n, cap;
	const char *map;        /* the file's bytes */
	const char *line;       /* the new line, the last of v */
	size_t dropped;         /* torn or unreadable lines left out */
	char *types[THIN_TYPES]; /* the types met first, whose peaks are kept */
	size_t ntypes;
};

static bool any_result(const cJSON *run, const char *result)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, jget(run, "restarts")) {
		const char *r = jstring(e, "result");

		if (r != NULL && strcmp(r, result) == 0)
			return true;
	}
	return false;
}

/* What a run is to the thinning: a failure or healing is kept whatever comes. */
static enum thin_kind kind_of(const cJSON *run)
{
	double status;

	if ((jnumber(run, "exit_status", -1e9, 1e9, &status) && status != 0) ||
	    cJSON_GetArraySize(jget(run, "healed")) > 0 || any_result(run, "failed"))
		return THIN_PINNED;
	return any_result(run, "ok") ? THIN_RESTART : THIN_PLAIN;
}

/* The slot of a type's peaks: the first THIN_TYPES types met; -1 beyond, or out of memory. */
static int type_slot(struct lines *ls, const char *type)
{
	for (size_t k = 0; k < ls->ntypes; k++)
		if (strcmp(ls->types[k], type) == 0)
			return (int)k;
	if (ls->ntypes == THIN_TYPES || (ls->types[ls->ntypes] = strdup(type)) == NULL)
		return -1;
	return (int)ls->ntypes++;
}

/* The figures the thinning picks by: each type's largest worker before, the memory available. */
static void figures(struct lines *ls, const cJSON *run, struct thin_line *l)
{
	bool pss = run_uses_pss(run);
	const cJSON *w;
	double v;

	for (int k = 0; k < THIN_TYPES; k++)
		l->peak[k] = NAN;
	l->avail = NAN;
	cJSON_ArrayForEach(w, jget(run, "workers_before")) {
		const char *type = jstring(w, "type");
		int k = type ? type_slot(ls, type) : -1;

		if (k >= 0 && worker_mem(w, pss, &v) && (isnan(l->peak[k]) || v > l->peak[k]))
			l->peak[k] = v;
	}
	if (jnumber(jget(run, "host"), "mem_available_bytes", 0, HIST_MAX_BYTES, &v))
		l->avail = v;
}

/* An older line's length once rewritten; 0 when out of memory. */
static size_t rewritten_len(const cJSON *run)
{
	size_t len = 0;
	char *text = hfmt_line(run, &len);

	free(text);
	return text ? len : 0;
}

/* Parses one line (without its newline) into l; -1 when out of memory. */
static int classify(struct lines *ls, const char *p, size_t n, struct thin_line *l)
{
	const char *end = NULL;
	cJSON *parsed;
	struct hfmt_view view;
	double t;

	l->kind = THIN_DROP;
	if (n > HIST_LINE_MAX || memchr(p, '\0', n) != NULL)
		return 0;
	parsed = cJSON_ParseWithLengthOpts(p, n, &end, false);
	if (!cJSON_IsObject(parsed) || end != p + n) {
		cJSON_Delete(parsed);
		return 0;
	}
	switch (hfmt_expand(parsed, n, &view)) {
	case HFMT_NOMEM:
		return -1;
	case HFMT_BAD:
		return 0;
	case HFMT_OK:
		break;
	}
	if (jstring(view.run, "command") != NULL &&
	    jnumber(view.run, "started", -HIST_MAX_EPOCH, HIST_MAX_EPOCH, &t)) {
		l->time = t;
		l->kind = kind_of(view.run);
		figures(ls, view.run, l);
		l->rewrite = view.version != HFMT_VERSION;
		l->out_len = l->rewrite ? rewritten_len(view.run) : l->len;
	}
	hfmt_view_free(&view);
	return l->rewrite && l->out_len == 0 ? -1 : 0;
}

static struct thin_line *next_slot(struct lines *ls)
{
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 1024;
		struct thin_line *v = realloc(ls->v, cap * sizeof *v);

		if (v == NULL)
			return NULL;
		ls->v = v;
		ls->cap = cap;
	}
	memset(&ls->v[ls->n], 0, sizeof ls->v[ls->n]);
	return &ls->v[ls->n++];
}

/* Every line of the mapping, then the new one; -1 when out of memory. */
static int scan(struct lines *ls, size_t size, size_t len)
{
	struct thin_line *l;
	size_t off = 0;

	while (off < size) {
		const char *nl = memchr(ls->map + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - (ls->map + off)) : size - off;

		if ((l = next_slot(ls)) == NULL)
			return -1;
		l->off = (off_t)off;
		l->len = n + (nl != NULL);
		/* A last line with no newline is torn: never kept. */
		if (nl != NULL && classify(ls, ls->map + off, n, l) < 0)
			return -1;
		ls->dropped += l->kind == THIN_DROP;
		off += l->len;
	}
	if ((l = next_slot(ls)) == NULL)
		return -1;
	l->off = -1;
	l->len = l->out_len = len;
	return classify(ls, ls->line, len - 1, l);
}

/* One kept line into out: copied, or rewritten when of an older version. */
static int put_line(const struct lines *ls, const struct thin_line *l, FILE *out)
{
	const char *p = l->off < 0 ? ls->line : ls->map + l->off;
	struct hfmt_view view;
	char *text;
	size_t n;
	int rc;

	if (!l->rewrite)
		return fwrite(p, 1, l->len, out) == l->len ? 0 : -1;
	if (hfmt_expand(cJSON_ParseWithLength(p, l->len - 1), l->len, &view) != HFMT_OK)
		return -1;
	text = hfmt_line(view.run, &n);
	hfmt_view_free(&view);
	rc = text && fwrite(text, 1, n, out) == n ? 0 : -1;
	free(text);
	return rc;
}

/* The kept lines as one text, for outfile_replace_mode. */
static char *kept_text(const struct lines *ls, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);
	bool ok = out != NULL;

	for (size_t i = 0; ok && i < ls->n; i++)
		if (ls->v[i].keep)
			ok = put_line(ls, &ls->v[i], out) == 0;
	if (out != NULL && fclose(out) != 0)
		ok = false;
	if (!ok) {
		free(text);
		return NULL;
	}
	return text;
}

static int thin(struct lines *ls, const char *path, size_t size, size_t len, size_t budget,
		mode_t mode, struct kr_err *err)
{
	char *text;
	size_t out_len, kept = 0;
	int rc;

	if (scan(ls, size, len) < 0 || thin_plan(ls->v, ls->n, budget) < 0 ||
	    (text = kept_text(ls, &out_len)) == NULL)
		return kr_fail(err, KR_SOFTWARE, "history %s: out of memory while thinning it", path);
	rc = outfile_replace_mode(path, "history", text, out_len, mode, err);
	free(text);
	for (size_t i = 0; i < ls->n; i++)
		kept += ls->v[i].keep;
	if (rc == 0)
		log_info("history %s: thinned from %zu to %zu bytes, %zu of %zu lines kept "
			 "(%zu unreadable dropped)", path, size + len, out_len, kept, ls->n, ls->dropped);
	return rc;
}

int history_compact(int fd, const char *path, const char *line, size_t len, size_t budget,
		    struct kr_err *err)
{
	struct lines ls = { .line = line };
	struct stat st;
	void *map = NULL;
	size_t size;
	int rc;

	if (fstat(fd, &st) < 0)
		return kr_fail(err, KR_CANTCREAT, "history %s: %s", path, strerror(errno));
	size = (size_t)st.st_size;
	if (size > 0 && (map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		return kr_fail(err, KR_CANTCREAT, "history %s: %s", path, strerror(errno));
	ls.map = map;
	rc = thin(&ls, path, size, len, budget, st.st_mode & 07777, err);
	if (map != NULL)
		munmap(map, size);
	free(ls.v);
	for (size_t k = 0; k < ls.ntypes; k++)
		free(ls.types[k]);
	return rc;
}
