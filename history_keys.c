/*
 * history_keys.c: the version 3 line's short keys, kB units and the host's
 * positions (history_keys.h), applied to a version 2 line and undone.
 *
 * Renaming swaps a member's key for one of the table's constant strings:
 * no copy, and the table outlives every line.
 */
#include "history_keys.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#define KIB 1024.0
#define EXACT 9007199254740992.0        /* 2^53: integers beyond it are not exact */

#define K(name, key) { name, key, NULL, HK_PLAIN }
#define IN_KB(name, key, alt) { name, key, alt, HK_KB }
#define SINCE(name, key, alt) { name, key, alt, HK_SINCE }

/*
 * One entry per report key.  No key may equal another entry's name or key
 * (a test checks), nor "v", "w", "o", "c", "r", "k", which the format's
 * structure uses.  Each HK_KB key in kB; start_time in seconds since the
 * run started.
 */
const struct hkey HKEYS[] = {
	/* the run */
	K("site", "si"), K("command", "cm"), K("started", "t"),
	K("duration_ms", "d"), K("strategy", "sg"), K("metric", "me"),
	K("pss_fallback", "pf"), K("dry_run", "dr"), K("probe", "pb"),
	K("eval", "ev"), K("host", "h"), K("workers_before", "b"),
	K("sweep", "sw"), K("healed", "he"), K("restarts", "x"),
	IN_KB("memory_freed_bytes", "mf", "mF"), K("workers_after", "a"),
	K("types", "y"), K("http_checks", "hc"), K("http_skipped", "hs"),
	K("forecast", "fc"), K("outcome", "oc"), K("skip_reason", "sr"),
	K("exit_status", "es"), K("error", "e"),
	/* a worker, a healed entry */
	K("id", "i"), K("number", "n"), K("pid", "p"), K("type", "ty"),
	K("state", "st"), K("why", "wh"), SINCE("start_time", "ts", "T"),
	K("age_s", "ag"), IN_KB("rss_bytes", "rs", "R"), IN_KB("pss_bytes", "ps", "P"),
	K("continuations", "co"), K("state_sessions", "ss"),
	IN_KB("heap_bytes", "hb", "H"), IN_KB("heap_used_bytes", "hu", "U"),
	K("eval_error", "ee"), K("removed", "rv"),
	/* a restart step */
	K("old", "od"), K("new", "nw"), K("reason", "rn"),
	K("result", "rt"), K("killed", "kl"), K("restart_ms", "rm"),
	K("probe_ms", "pm"), K("drain_ms", "dm"), K("drained", "dd"),
	IN_KB("freed_bytes", "fb", "F"), K("recovered", "rc"),
	/* an HTTP check, a type's count */
	K("url", "u"), K("ok", "ok"), K("status", "sc"), K("ms", "ms"),
	K("tries", "tr"), K("running", "ru"), K("run_by_default", "rd"),
	K("topped_up", "tu"),
	/* the host, when not written by position */
	IN_KB("mem_available_bytes", "ma", "MA"), IN_KB("swap_used_bytes", "su", "SU"),
	IN_KB("mem_total_bytes", "mt", "MT"), K("psi_some_avg10", "s1"),
	K("psi_some_avg60", "s2"), K("psi_some_avg300", "s3"),
	K("psi_full_avg10", "f1"), K("psi_full_avg60", "f2"),
	K("psi_full_avg300", "f3"),
};
const size_t NHKEYS = sizeof HKEYS / sizeof HKEYS[0];

/* The host block's members by position; the first three in kB. */
const char *const HOST_FIELDS[] = {
	"mem_available_bytes", "swap_used_bytes", "mem_total_bytes",
	"psi_some_avg10", "psi_some_avg60", "psi_some_avg300",
	"psi_full_avg10", "psi_full_avg60", "psi_full_avg300",
};
const size_t NHOST_FIELDS = sizeof HOST_FIELDS / sizeof HOST_FIELDS[0];
#define HOST_KB 3

/* What a conversion needs: the run's start, for HK_SINCE. */
struct ctx {
	double started;
	bool have_started;
};

/* a and b are the same string; the first byte first, as most keys differ there (the reader's hot path). */
static bool same(const char *a, const char *b)
{
	return a[0] == b[0] && strcmp(a, b) == 0;
}

static const struct hkey *by_name(const char *name)
{
	for (size_t i = 0; i < NHKEYS; i++)
		if (same(HKEYS[i].name, name))
			return &HKEYS[i];
	return NULL;
}

/* The line's keys (and alternates) by their first byte, for the reader: built on first use. */
static struct {
	bool built;
	size_t first[UCHAR_MAX + 2];    /* slots of byte c: first[c] .. first[c + 1] - 1 */
	struct slot {
		const char *key;
		const struct hkey *h;
		bool alt;
	} slot[2 * sizeof HKEYS / sizeof HKEYS[0]];
} ix;

static void index_keys(void)
{
	size_t at[UCHAR_MAX + 1] = { 0 };

	for (size_t i = 0; i < NHKEYS; i++) {
		ix.first[(unsigned char)HKEYS[i].key[0] + 1]++;
		if (HKEYS[i].alt != NULL)
			ix.first[(unsigned char)HKEYS[i].alt[0] + 1]++;
	}
	for (size_t c = 1; c <= UCHAR_MAX + 1; c++)
		ix.first[c] += ix.first[c - 1];
	for (size_t i = 0; i < NHKEYS; i++) {
		unsigned char c = (unsigned char)HKEYS[i].key[0];

		ix.slot[ix.first[c] + at[c]++] = (struct slot){ HKEYS[i].key, &HKEYS[i], false };
		if (HKEYS[i].alt == NULL)
			continue;
		c = (unsigned char)HKEYS[i].alt[0];
		ix.slot[ix.first[c] + at[c]++] = (struct slot){ HKEYS[i].alt, &HKEYS[i], true };
	}
	ix.built = true;
}

/* The entry whose key (*alt false) or alternate key (*alt true) is key. */
static const struct hkey *by_key(const char *key, bool *alt)
{
	unsigned char c = (unsigned char)key[0];

	if (!ix.built)
		index_keys();
	for (size_t i = ix.first[c]; i < ix.first[c + 1]; i++)
		if (strcmp(ix.slot[i].key, key) == 0) {
			*alt = ix.slot[i].alt;
			return ix.slot[i].h;
		}
	return NULL;
}

static void rename_member(cJSON *m, const char *key)
{
	if (!(m->type & cJSON_StringIsConst))
		cJSON_free(m->string);
	m->string = (char *)key;
	m->type |= cJSON_StringIsConst;
}

static bool whole(const cJSON *x)
{
	return cJSON_IsNumber(x) && fabs(x->valuedouble) < EXACT &&
	       x->valuedouble == floor(x->valuedouble);
}

/* x can be written in h's alternate unit and read back exactly. */
static bool alt_fits(const struct hkey *h, const cJSON *x, const struct ctx *c)
{
	switch (h->how) {
	case HK_KB:
		return whole(x) && fmod(x->valuedouble, KIB) == 0.0;
	case HK_SINCE:
		return whole(x) && c->have_started;
	case HK_PLAIN:
		break;
	}
	return false;
}

/* x into h's alternate unit (back: out of it). */
static void convert(const struct hkey *h, cJSON *x, const struct ctx *c, bool back)
{
	double v;

	if (!cJSON_IsNumber(x))
		return;
	v = x->valuedouble;
	if (h->how == HK_KB)
		v = back ? v * KIB : v / KIB;
	else if (h->how == HK_SINCE)
		v = back ? v + c->started : v - c->started;
	cJSON_SetNumberValue(x, v);
}

static struct ctx context(const cJSON *line, const char *key)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(line, key);
	struct ctx c = { 0, false };

	if (whole(t)) {
		c.started = t->valuedouble;
		c.have_started = true;
	}
	return c;
}

/* ---- writing ---- */

/* A member of an object under its short key, in the alternate unit when it fits. */
static void shrink_member(cJSON *m, const struct ctx *c)
{
	const struct hkey *h = by_name(m->string);

	if (h == NULL)
		return;
	if (h->alt != NULL && alt_fits(h, m, c)) {
		convert(h, m, c, false);
		rename_member(m, h->alt);
		return;
	}
	rename_member(m, h->key);
}

static void shrink_object(cJSON *o, const struct ctx *c)
{
	for (cJSON *m = o->child; m != NULL; m = m->next)
		shrink_member(m, c);
}

/* The j-th cell of every row fits h's alternate unit (nulls and short rows aside). */
static bool column_fits(const struct hkey *h, const cJSON *rows, int j, const struct ctx *c)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, rows) {
		const cJSON *x = cJSON_GetArrayItem(r, j);

		if (x != NULL && !cJSON_IsNull(x) && !alt_fits(h, x, c))
			return false;
	}
	return true;
}

static void convert_column(const struct hkey *h, cJSON *rows, int j, const struct ctx *c, bool back)
{
	cJSON *r, *x;

	cJSON_ArrayForEach(r, rows)
		if ((x = cJSON_GetArrayItem(r, j)) != NULL)
			convert(h, x, c, back);
}

static enum hkeys_rc shrink_table(cJSON *t, const struct ctx *ctx)
{
	cJSON *cols = cJSON_GetObjectItemCaseSensitive(t, "c"), *rows = cJSON_GetObjectItemCaseSensitive(t, "r");
	cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "k"), *c;
	int j = 0;

	cJSON_ArrayForEach(c, cols) {
		const struct hkey *h = cJSON_IsString(c) ? by_name(c->valuestring) : NULL;
		const char *key = h ? h->key : NULL;

		if (h != NULL && h->alt != NULL && column_fits(h, rows, j, ctx)) {
			convert_column(h, rows, j, ctx, false);
			key = h->alt;
		}
		if (key != NULL && cJSON_SetValuestring(c, key) == NULL)
			return HKEYS_NOMEM;
		j++;
	}
	if (cJSON_IsObject(k))
		shrink_object(k, ctx);
	return HKEYS_OK;
}

static int host_position(const char *name)
{
	for (size_t i = 0; i < NHOST_FIELDS; i++)
		if (strcmp(HOST_FIELDS[i], name) == 0)
			return (int)i;
	return -1;
}

/* The host as a list by position, or NULL when some member does not fit one. */
static cJSON *host_list(const cJSON *host, bool *nomem)
{
	const cJSON *at[sizeof HOST_FIELDS / sizeof HOST_FIELDS[0]] = { NULL };
	const cJSON *m;
	cJSON *list;
	size_t n = 0;

	cJSON_ArrayForEach(m, host) {
		int i = host_position(m->string);

		if (i < 0 || !cJSON_IsNumber(m) ||
		    (i < HOST_KB && !(whole(m) && fmod(m->valuedouble, KIB) == 0.0)))
			return NULL;
		at[i] = m;
		if ((size_t)i + 1 > n)
			n = (size_t)i + 1;
	}
	if ((list = cJSON_CreateArray()) == NULL) {
		*nomem = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		cJSON *x = at[i] == NULL ? cJSON_CreateNull()
					 : cJSON_CreateNumber(at[i]->valuedouble / (i < HOST_KB ? KIB : 1));

		if (!cJSON_AddItemToArray(list, x)) {
			cJSON_Delete(x);
			cJSON_Delete(list);
			*nomem = true;
			return NULL;
		}
	}
	return list;
}

/* v in place of m in line, under m's key. */
static void replace(cJSON *line, cJSON *m, cJSON *v)
{
	v->string = m->string;
	v->type |= m->type & cJSON_StringIsConst;
	m->string = NULL;
	cJSON_ReplaceItemViaPointer(line, m, v);
}

/* The host block as a list when it fits one; the member that now holds it. */
static cJSON *shrink_host(cJSON *line, cJSON *host, const struct ctx *c, bool *nomem)
{
	cJSON *list = host_list(host, nomem);

	if (list == NULL) {
		shrink_object(host, c);
		return host;
	}
	replace(line, host, list);
	return list;
}

static bool is_table(const cJSON *t)
{
	return cJSON_IsObject(t) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(t, "c")) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(t, "r"));
}

static bool structural(const char *key)
{
	return same(key, "v") || same(key, "w") || same(key, "o");
}

enum hkeys_rc hkeys_shrink(cJSON *line)
{
	struct ctx c = context(line, "started");
	bool nomem = false;

	for (cJSON *m = line->child; m != NULL; m = m->next) {
		if (strcmp(m->string, "host") == 0 && cJSON_IsObject(m) &&
		    (m = shrink_host(line, m, &c, &nomem), nomem))
			return HKEYS_NOMEM;
		if (is_table(m) && shrink_table(m, &c) != HKEYS_OK)
			return HKEYS_NOMEM;
		if (!structural(m->string))
			shrink_member(m, &c);
	}
	return HKEYS_OK;
}

/* ---- reading ---- */

/* A member of an object under the report's key, in the report's unit; false when it cannot be. */
static bool grow_member(cJSON *m, const struct ctx *c)
{
	bool alt;
	const struct hkey *h = by_key(m->string, &alt);

	if (h == NULL)
		return true;
	if (alt && h->how == HK_SINCE && !c->have_started)
		return false;
	if (alt)
		convert(h, m, c, true);
	rename_member(m, h->name);
	return true;
}

static enum hkeys_rc grow_object(cJSON *o, const struct ctx *c)
{
	for (cJSON *m = o->child; m != NULL; m = m->next)
		if (!grow_member(m, c))
			return HKEYS_BAD;
	return HKEYS_OK;
}

static enum hkeys_rc grow_table(cJSON *t, const struct ctx *ctx)
{
	cJSON *cols = cJSON_GetObjectItemCaseSensitive(t, "c"), *rows = cJSON_GetObjectItemCaseSensitive(t, "r");
	cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "k"), *c;
	int j = 0;

	cJSON_ArrayForEach(c, cols) {
		const struct hkey *h;
		bool alt;

		if (!cJSON_IsString(c))
			return HKEYS_BAD;
		if ((h = by_key(c->valuestring, &alt)) != NULL) {
			if (alt && h->how == HK_SINCE && !ctx->have_started)
				return HKEYS_BAD;
			if (alt)
				convert_column(h, rows, j, ctx, true);
			if (cJSON_SetValuestring(c, h->name) == NULL)
				return HKEYS_NOMEM;
		}
		j++;
	}
	if (k == NULL)
		return HKEYS_OK;
	return cJSON_IsObject(k) ? grow_object(k, ctx) : HKEYS_BAD;
}

/* The host's list, members by position, as the report's object; NULL when bad or out of memory. */
static cJSON *grow_host(cJSON *line, cJSON *list, enum hkeys_rc *rc)
{
	cJSON *host, *x;
	size_t i = 0;

	*rc = HKEYS_BAD;
	if (cJSON_GetArraySize(list) > (int)NHOST_FIELDS)
		return NULL;
	*rc = HKEYS_NOMEM;
	if ((host = cJSON_CreateObject()) == NULL)
		return NULL;
	while ((x = list->child) != NULL) {
		cJSON_DetachItemViaPointer(list, x);
		if (cJSON_IsNull(x)) {
			cJSON_Delete(x);
		} else {
			if (i < HOST_KB && cJSON_IsNumber(x))
				cJSON_SetNumberValue(x, x->valuedouble * KIB);
			cJSON_AddItemToObjectCS(host, HOST_FIELDS[i], x);
		}
		i++;
	}
	*rc = HKEYS_OK;
	replace(line, list, host);
	return host;
}

enum hkeys_rc hkeys_grow(cJSON *line)
{
	struct ctx c = context(line, "t");
	enum hkeys_rc rc = HKEYS_OK;

	for (cJSON *m = line->child; m != NULL && rc == HKEYS_OK; m = m->next) {
		if (same(m->string, "h") && cJSON_IsArray(m)) {
			if ((m = grow_host(line, m, &rc)) == NULL)
				return rc;
		} else if (same(m->string, "h") && cJSON_IsObject(m)) {
			rc = grow_object(m, &c);
		}
		if (rc == HKEYS_OK && is_table(m))
			rc = grow_table(m, &c);
		if (rc == HKEYS_OK && !structural(m->string) && !grow_member(m, &c))
			rc = HKEYS_BAD;
	}
	return rc;
}

double hkeys_freed(const cJSON *steps)
{
	const cJSON *s;
	double sum = 0;

	cJSON_ArrayForEach(s, steps) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(s, "freed_bytes");

		if (cJSON_IsNumber(f) && f->valuedouble > 0)
			sum += f->valuedouble;
	}
	return sum;
}
