/*
 * history_fmt.c: the history line (history_fmt.h), written from the
 * report's JSON tree and read back into the report's shape: version 2's
 * tables here, version 3's keys and units in history_keys.c.
 *
 * Reading builds no copies: the report-shaped tree is made of cJSON
 * references into the parsed line, so a reader costs one parse plus a
 * node per member it sees.  A hostile line could still name the same
 * observation a million times, so the nodes built are counted against a
 * bound proportional to the line's length.
 */
#include "history_fmt.h"
#include "history_keys.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRACTION_DIGITS 6
#define NODES_PER_BYTE 8        /* nodes a line may expand into, per byte of it */
#define NODES_MIN 4096

/* What names a worker; everything else of it is an observation. */
static const char *const IDENTITY[] = { "id", "number", "pid", "type", "start_time" };

/* The run's settings (and its usual end) left out of a line when they have these values. */
static const struct {
	const char *key;
	int type;               /* cJSON_String, cJSON_True, cJSON_False or cJSON_Number (0) */
	const char *text;
} DEFAULTS[] = {
	{ "command", cJSON_String, "restart" },
	{ "strategy", cJSON_String, "rolling" },
	{ "metric", cJSON_String, "rss" },
	{ "probe", cJSON_String, "eval" },
	{ "eval", cJSON_True, NULL },
	{ "pss_fallback", cJSON_False, NULL },
	{ "dry_run", cJSON_False, NULL },
	{ "outcome", cJSON_String, "ok" },
	{ "exit_status", cJSON_Number, NULL },
};

#define NDEFAULTS (sizeof DEFAULTS / sizeof DEFAULTS[0])

static bool is_identity(const char *key)
{
	for (size_t i = 0; i < sizeof IDENTITY / sizeof IDENTITY[0]; i++)
		if (strcmp(key, IDENTITY[i]) == 0)
			return true;
	return false;
}

static bool is_default(const cJSON *m)
{
	for (size_t i = 0; i < NDEFAULTS; i++) {
		if (strcmp(m->string, DEFAULTS[i].key) != 0 || (m->type & 0xff) != DEFAULTS[i].type)
			continue;
		if (DEFAULTS[i].type == cJSON_Number)
			return m->valuedouble == 0;
		return DEFAULTS[i].text == NULL || strcmp(m->valuestring, DEFAULTS[i].text) == 0;
	}
	return false;
}

static bool is_worker_list(const char *key)
{
	return strcmp(key, "workers_before") == 0 || strcmp(key, "workers_after") == 0;
}

/* ---- writing ---- */

/* Nulls and empty lists out of objects, fractions cut to FRACTION_DIGITS. */
static void tidy(cJSON *x)
{
	cJSON *c = x->child, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (cJSON_IsObject(x) && (cJSON_IsNull(c) || (cJSON_IsArray(c) && c->child == NULL))) {
			cJSON_Delete(cJSON_DetachItemViaPointer(x, c));
			continue;
		}
		if (cJSON_IsNumber(c) && isfinite(c->valuedouble) &&
		    c->valuedouble != floor(c->valuedouble)) {
			char text[32];

			snprintf(text, sizeof text, "%.*g", FRACTION_DIGITS, c->valuedouble);
			cJSON_SetNumberValue(c, strtod(text, NULL));
		}
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			tidy(c);
	}
}

/* The index of an item of arr equal to x, else -1. */
static int find_equal(const cJSON *arr, const cJSON *x)
{
	const cJSON *e;
	int i = 0;

	cJSON_ArrayForEach(e, arr) {
		if (cJSON_Compare(e, x, true))
			return i;
		i++;
	}
	return -1;
}

/* x's index in arr, appending it when new (x is then arr's, else freed); -1 OOM. */
static int intern(cJSON *arr, cJSON *x)
{
	int i = find_equal(arr, x);

	if (i >= 0) {
		cJSON_Delete(x);
		return i;
	}
	if (!cJSON_AddItemToArray(arr, x)) {
		cJSON_Delete(x);
		return -1;
	}
	return cJSON_GetArraySize(arr) - 1;
}

struct pack {
	cJSON *ids;             /* identities: the rows of "w" */
	cJSON *obs;             /* observations: the rows of "o" */
};

/* A worker object's row in p->obs (its identity interned in p->ids); -1 OOM. */
static int pack_worker(struct pack *p, const cJSON *worker)
{
	cJSON *id = cJSON_CreateObject(), *ob = cJSON_CreateObject(), *w, *m;
	int wi;

	w = ob ? cJSON_AddNumberToObject(ob, "w", 0) : NULL;
	if (id == NULL || w == NULL)
		goto fail;
	for (m = worker->child; m != NULL; m = m->next) {
		cJSON *d = cJSON_Duplicate(m, true);

		if (d == NULL || !cJSON_AddItemToObject(is_identity(m->string) ? id : ob, m->string, d)) {
			cJSON_Delete(d);
			goto fail;
		}
	}
	if ((wi = intern(p->ids, id)) < 0) {
		cJSON_Delete(ob);
		return -1;
	}
	cJSON_SetNumberValue(w, wi);
	return intern(p->obs, ob);
fail:
	cJSON_Delete(id);
	cJSON_Delete(ob);
	return -1;
}

/* Each worker object of arr replaced by its row number. */
static int pack_list(struct pack *p, cJSON *arr)
{
	cJSON *e = arr ? arr->child : NULL, *next, *n;

	for (; e != NULL; e = next) {
		int i;

		next = e->next;
		if (!cJSON_IsObject(e))
			continue;
		if ((i = pack_worker(p, e)) < 0 || (n = cJSON_CreateNumber(i)) == NULL)
			return -1;
		cJSON_ReplaceItemViaPointer(arr, e, n);
	}
	return 0;
}

/* Each step's old and new worker replaced by its row number. */
static int pack_steps(struct pack *p, cJSON *steps)
{
	static const char *const ends[] = { "old", "new" };
	cJSON *s;

	cJSON_ArrayForEach(s, steps) {
		for (size_t k = 0; k < 2; k++) {
			cJSON *w = cJSON_GetObjectItemCaseSensitive(s, ends[k]);
			cJSON *n;
			int i;

			if (!cJSON_IsObject(w))
				continue;
			if ((i = pack_worker(p, w)) < 0 || (n = cJSON_CreateNumber(i)) == NULL)
				return -1;
			if (!cJSON_ReplaceItemInObjectCaseSensitive(s, ends[k], n))
				return -1;
		}
	}
	return 0;
}

static bool all_objects(const cJSON *arr)
{
	const cJSON *e;

	if (!cJSON_IsArray(arr) || arr->child == NULL)
		return false;
	cJSON_ArrayForEach(e, arr)
		if (!cJSON_IsObject(e))
			return false;
	return true;
}

/* The columns of objs: every key, in order of first appearance. */
static cJSON *columns(const cJSON *objs)
{
	cJSON *cols = cJSON_CreateArray(), *o, *m;

	cJSON_ArrayForEach(o, objs)
		for (m = o->child; cols != NULL && m != NULL; m = m->next) {
			cJSON *name;
			bool seen = false;

			cJSON_ArrayForEach(name, cols)
				seen |= strcmp(name->valuestring, m->string) == 0;
			if (!seen && !cJSON_AddItemToArray(cols, cJSON_CreateString(m->string))) {
				cJSON_Delete(cols);
				return NULL;
			}
		}
	return cols;
}

/* A column every one of several objects holds with one value, or NULL. */
static const cJSON *constant(const cJSON *objs, const char *col)
{
	const cJSON *first = cJSON_GetObjectItemCaseSensitive(objs->child, col), *o;

	if (first == NULL || objs->child->next == NULL)
		return NULL;
	cJSON_ArrayForEach(o, objs)
		if (!cJSON_Compare(first, cJSON_GetObjectItemCaseSensitive(o, col), true))
			return NULL;
	return first;
}

/* Constant columns moved from cols into k; 0, -1 OOM. */
static int split_constants(const cJSON *objs, cJSON *cols, cJSON *k)
{
	cJSON *c = cols->child, *next;

	for (; c != NULL; c = next) {
		const cJSON *v = constant(objs, c->valuestring);
		cJSON *d;

		next = c->next;
		if (v == NULL)
			continue;
		if ((d = cJSON_Duplicate(v, true)) == NULL || !cJSON_AddItemToObject(k, c->valuestring, d)) {
			cJSON_Delete(d);
			return -1;
		}
		cJSON_Delete(cJSON_DetachItemViaPointer(cols, c));
	}
	return 0;
}

/* One object's cells under cols; trailing nulls left out. */
static cJSON *row(const cJSON *o, const cJSON *cols)
{
	cJSON *r = cJSON_CreateArray(), *c;
	int n = 0, len = 0;

	if (r == NULL)
		return NULL;
	cJSON_ArrayForEach(c, cols) {
		n++;
		if (cJSON_GetObjectItemCaseSensitive(o, c->valuestring) != NULL)
			len = n;
	}
	n = 0;
	cJSON_ArrayForEach(c, cols) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, c->valuestring);
		cJSON *d;

		if (n++ == len)
			break;
		d = v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
		if (!cJSON_AddItemToArray(r, d)) {
			cJSON_Delete(d);
			cJSON_Delete(r);
			return NULL;
		}
	}
	return r;
}

/* objs (objects) as {"c": columns, "r": rows, "k": constants}; NULL OOM. */
static cJSON *table(const cJSON *objs)
{
	cJSON *t = cJSON_CreateObject(), *cols = columns(objs), *k = cJSON_CreateObject(), *rows;
	const cJSON *o;

	if (t == NULL || cols == NULL || k == NULL || split_constants(objs, cols, k) < 0)
		goto fail;
	cJSON_AddItemToObject(t, "c", cols);
	cols = NULL;
	if ((rows = cJSON_AddArrayToObject(t, "r")) == NULL)
		goto fail;
	cJSON_ArrayForEach(o, objs)
		if (!cJSON_AddItemToArray(rows, row(o, cJSON_GetObjectItemCaseSensitive(t, "c"))))
			goto fail;
	if (k->child == NULL)
		cJSON_Delete(k);
	else
		cJSON_AddItemToObject(t, "k", k);
	return t;
fail:
	cJSON_Delete(t);
	cJSON_Delete(cols);
	cJSON_Delete(k);
	return NULL;
}

/* Moves x into out under its key, as a table when it is a list of objects. */
static int put_member(cJSON *out, cJSON *x)
{
	cJSON *t = all_objects(x) ? table(x) : x;
	bool added = t != NULL && cJSON_AddItemToObject(out, x->string, t);

	if (t != x)
		cJSON_Delete(x);
	if (!added) {
		cJSON_Delete(t);
		return -1;
	}
	return 0;
}

/* The same under another key. */
static int put_named(cJSON *out, const char *key, cJSON *x)
{
	if (x->string == NULL && (x->string = strdup(key)) == NULL) {
		cJSON_Delete(x);
		return -1;
	}
	return put_member(out, x);
}

/* The run's memory_freed_bytes left out when the reader can add it up from the steps. */
static void drop_derived(cJSON *run)
{
	cJSON *f = cJSON_GetObjectItemCaseSensitive(run, "memory_freed_bytes");

	if (cJSON_IsNumber(f) &&
	    f->valuedouble == hkeys_freed(cJSON_GetObjectItemCaseSensitive(run, "restarts")))
		cJSON_Delete(cJSON_DetachItemViaPointer(run, f));
}

static int pack_workers(struct pack *p, cJSON *run)
{
	if (pack_list(p, cJSON_GetObjectItemCaseSensitive(run, "workers_before")) < 0 ||
	    pack_steps(p, cJSON_GetObjectItemCaseSensitive(run, "restarts")) < 0 ||
	    pack_list(p, cJSON_GetObjectItemCaseSensitive(run, "workers_after")) < 0)
		return -1;
	return 0;
}

cJSON *hfmt_compact(const cJSON *report)
{
	cJSON *run = cJSON_Duplicate(report, true), *out = cJSON_CreateObject(), *m;
	struct pack p = { cJSON_CreateArray(), cJSON_CreateArray() };

	if (run == NULL || out == NULL || p.ids == NULL || p.obs == NULL ||
	    !cJSON_AddNumberToObject(out, "v", HFMT_VERSION))
		goto fail;
	tidy(run);
	drop_derived(run);
	if (pack_workers(&p, run) < 0)
		goto fail;
	while ((m = run->child) != NULL) {
		cJSON_DetachItemViaPointer(run, m);
		if (is_default(m)) {
			cJSON_Delete(m);
			continue;
		}
		if (put_member(out, m) < 0)
			goto fail;
	}
	if (p.ids->child == NULL) {
		cJSON_Delete(p.ids);
		cJSON_Delete(p.obs);
		p.ids = p.obs = NULL;
	} else {
		cJSON *ids = p.ids, *obs = p.obs;

		p.ids = p.obs = NULL;
		if (put_named(out, "w", ids) < 0) {
			cJSON_Delete(obs);
			goto fail;
		}
		if (put_named(out, "o", obs) < 0)
			goto fail;
	}
	cJSON_Delete(run);
	if (hkeys_shrink(out) != HKEYS_OK) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
fail:
	cJSON_Delete(run);
	cJSON_Delete(out);
	cJSON_Delete(p.ids);
	cJSON_Delete(p.obs);
	return NULL;
}

char *hfmt_line(const cJSON *report, size_t *len)
{
	cJSON *line = hfmt_compact(report);
	char *text = line ? cJSON_PrintUnformatted(line) : NULL, *out;

	cJSON_Delete(line);
	if (text == NULL)
		return NULL;
	*len = strlen(text);
	if ((out = realloc(text, *len + 2)) == NULL) {
		free(text);
		return NULL;
	}
	out[(*len)++] = '\n';
	out[*len] = '\0';
	return out;
}

/* ---- reading ---- */

struct unpack {
	cJSON *built, *store;
	cJSON **obs;            /* the observations, by row */
	size_t nobs;
	size_t budget;          /* nodes still allowed */
	bool nomem;
};

/* Counts a node against the budget; false when it is spent. */
static bool spend(struct unpack *u, size_t n)
{
	if (u->budget < n)
		return false;
	u->budget -= n;
	return true;
}

/*
 * What cJSON_AddItemReferenceToObject does, without copying the key: the
 * key is the line's own text, which lives as long as the view.
 */
static bool add_ref(struct unpack *u, cJSON *obj, const char *key, cJSON *target)
{
	cJSON *r;

	if (!spend(u, 1))
		return false;
	if ((r = cJSON_CreateNull()) == NULL) {
		u->nomem = true;
		return false;
	}
	*r = *target;
	r->next = r->prev = NULL;
	r->string = NULL;
	r->type = (target->type & ~cJSON_StringIsConst) | cJSON_IsReference;
	cJSON_AddItemToObjectCS(obj, key, r);
	return true;
}

static bool is_table(const cJSON *t)
{
	return cJSON_IsObject(t) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(t, "c")) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(t, "r"));
}

/* A row of t as an object of references to its cells and constants. */
static cJSON *unrow(struct unpack *u, const cJSON *cols, const cJSON *k, const cJSON *r)
{
	cJSON *o = cJSON_CreateObject(), *c = cols->child, *v, *m;

	if (o == NULL) {
		u->nomem = true;
		return NULL;
	}
	if (!cJSON_IsArray(r) || !spend(u, 1))
		goto bad;
	cJSON_ArrayForEach(v, r) {
		if (c == NULL || !cJSON_IsString(c))
			goto bad;
		if (!cJSON_IsNull(v) && !add_ref(u, o, c->valuestring, v))
			goto bad;
		c = c->next;
	}
	for (m = k ? k->child : NULL; m != NULL; m = m->next)
		if (!add_ref(u, o, m->string, m))
			goto bad;
	return o;
bad:
	cJSON_Delete(o);
	return NULL;
}

/* A table as a new list of objects; NULL when it does not hold together. */
static cJSON *untable(struct unpack *u, const cJSON *t)
{
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(t, "c");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "k"), *r;
	cJSON *arr = cJSON_CreateArray();

	if (arr == NULL) {
		u->nomem = true;
		return NULL;
	}
	if (k != NULL && !cJSON_IsObject(k))
		goto bad;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(t, "r")) {
		cJSON *o = unrow(u, cols, k, r);

		if (o == NULL)
			goto bad;
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
bad:
	cJSON_Delete(arr);
	return NULL;
}

/* A row number of n rows in x; false when x is none. */
static bool row_number(const cJSON *x, size_t n, size_t *i)
{
	if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0) || x->valuedouble >= (double)n ||
	    x->valuedouble != floor(x->valuedouble))
		return false;
	*i = (size_t)x->valuedouble;
	return true;
}

/* The items of arr by index, in a new vector of *n. */
static cJSON **items(cJSON *arr, size_t *n)
{
	cJSON **v = malloc(((size_t)cJSON_GetArraySize(arr) + 1) * sizeof *v), *e;

	*n = 0;
	if (v != NULL)
		cJSON_ArrayForEach(e, arr)
			v[(*n)++] = e;
	return v;
}

/* Each observation given its worker's identity. */
static bool join_identity(struct unpack *u, cJSON **ids, size_t nids)
{
	for (size_t k = 0; k < u->nobs; k++) {
		cJSON *e = u->obs[k], *wref = cJSON_GetObjectItemCaseSensitive(e, "w"), *m;
		size_t i;

		if (!row_number(wref, nids, &i))
			return false;
		cJSON_Delete(cJSON_DetachItemViaPointer(e, wref));
		for (m = ids[i]->child; m != NULL; m = m->next)
			if (!add_ref(u, e, m->string, m))
				return false;
	}
	return true;
}

/* Each observation with its worker's identity, kept in u->store. */
static bool unpack_observations(struct unpack *u, const cJSON *line)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(line, "w");
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(line, "o");
	cJSON *idl, *obl, **ids;
	size_t nids;
	bool ok;

	if (w == NULL && o == NULL)
		return true;
	if (!is_table(w) || !is_table(o) || (idl = untable(u, w)) == NULL)
		return false;
	cJSON_AddItemToArray(u->store, idl);
	if ((obl = untable(u, o)) == NULL)
		return false;
	cJSON_AddItemToArray(u->store, obl);
	ids = items(idl, &nids);
	u->obs = items(obl, &u->nobs);
	if (ids == NULL || u->obs == NULL) {
		free(ids);
		u->nomem = true;
		return false;
	}
	ok = join_identity(u, ids, nids);
	free(ids);
	return ok;
}

/* A reference to the observation a row number names, NULL when none. */
static cJSON *obs_ref(struct unpack *u, const cJSON *x)
{
	size_t i;
	cJSON *r;

	if (!row_number(x, u->nobs, &i) || !spend(u, 1))
		return NULL;
	if ((r = cJSON_CreateObjectReference(u->obs[i]->child)) == NULL)
		u->nomem = true;
	return r;
}

static bool unpack_worker_list(struct unpack *u, const char *key, const cJSON *list)
{
	cJSON *arr = cJSON_AddArrayToObject(u->built, key);
	const cJSON *x;

	if (arr == NULL) {
		u->nomem = true;
		return false;
	}
	if (!cJSON_IsArray(list))
		return false;
	cJSON_ArrayForEach(x, list) {
		cJSON *r = obs_ref(u, x);

		if (r == NULL)
			return false;
		cJSON_AddItemToArray(arr, r);
	}
	return true;
}

/* A step's old and new, row numbers in the line, become their observations. */
static bool unpack_steps(struct unpack *u, cJSON *steps)
{
	static const char *const ends[] = { "old", "new" };
	cJSON *s;

	cJSON_ArrayForEach(s, steps)
		for (size_t k = 0; k < 2; k++) {
			cJSON *x = cJSON_GetObjectItemCaseSensitive(s, ends[k]), *r;

			if (x == NULL)
				continue;
			if ((r = obs_ref(u, x)) == NULL)
				return false;
			if (!cJSON_ReplaceItemInObjectCaseSensitive(s, ends[k], r)) {
				u->nomem = true;
				return false;
			}
		}
	return true;
}

static bool unpack_member(struct unpack *u, cJSON *m)
{
	cJSON *arr;

	if (strcmp(m->string, "v") == 0 || strcmp(m->string, "w") == 0 || strcmp(m->string, "o") == 0)
		return true;
	if (is_worker_list(m->string))
		return unpack_worker_list(u, m->string, m);
	if (!is_table(m))
		return add_ref(u, u->built, m->string, m);
	if ((arr = untable(u, m)) == NULL)
		return false;
	cJSON_AddItemToObject(u->built, m->string, arr);
	return strcmp(m->string, "restarts") != 0 || unpack_steps(u, arr);
}

/* The defaults a line holds members of, in one pass (the reader's hot path). */
static void present_defaults(const cJSON *built, bool *have)
{
	for (const cJSON *m = built->child; m != NULL; m = m->next)
		for (size_t i = 0; i < NDEFAULTS; i++)
			have[i] |= m->string[0] == DEFAULTS[i].key[0] && strcmp(m->string, DEFAULTS[i].key) == 0;
}

/* The settings a line leaves out at their defaults, put back (keys and text not copied). */
static bool add_defaults(struct unpack *u)
{
	bool have[NDEFAULTS] = { false };

	present_defaults(u->built, have);
	for (size_t i = 0; i < NDEFAULTS; i++) {
		cJSON *x;

		if (have[i])
			continue;
		if (DEFAULTS[i].type == cJSON_Number)
			x = cJSON_CreateNumber(0);
		else
			x = DEFAULTS[i].text ? cJSON_CreateStringReference(DEFAULTS[i].text)
					     : cJSON_CreateBool(DEFAULTS[i].type == cJSON_True);
		if (x == NULL || !cJSON_AddItemToObjectCS(u->built, DEFAULTS[i].key, x)) {
			cJSON_Delete(x);
			u->nomem = true;
			return false;
		}
	}
	return true;
}

/* The run's memory_freed_bytes a version 3 line leaves to the reader, added up. */
static bool add_freed(struct unpack *u)
{
	double sum;

	if (cJSON_GetObjectItemCaseSensitive(u->built, "memory_freed_bytes") != NULL)
		return true;
	sum = hkeys_freed(cJSON_GetObjectItemCaseSensitive(u->built, "restarts"));
	if (!cJSON_AddItemToObjectCS(u->built, "memory_freed_bytes", cJSON_CreateNumber(sum))) {
		u->nomem = true;
		return false;
	}
	return true;
}

static bool unpack(struct unpack *u, cJSON *line, int version)
{
	if (!unpack_observations(u, line))
		return false;
	for (cJSON *m = line->child; m != NULL; m = m->next)
		if (!unpack_member(u, m))
			return false;
	return add_defaults(u) && (version < 3 || add_freed(u));
}

/* A version 3 line in version 2's keys and units; false when bad, *nomem set when out of memory. */
static bool grow(cJSON *line, int version, bool *nomem)
{
	enum hkeys_rc rc = version == 3 ? hkeys_grow(line) : HKEYS_OK;

	*nomem = rc == HKEYS_NOMEM;
	return rc == HKEYS_OK;
}

enum hfmt_rc hfmt_expand(cJSON *line, size_t len, struct hfmt_view *view)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(line, "v");
	struct unpack u = { 0 };

	memset(view, 0, sizeof *view);
	view->line = line;
	if (!cJSON_IsObject(line)) {
		hfmt_view_free(view);
		return HFMT_BAD;
	}
	if (v == NULL) {
		view->run = line;
		view->version = 1;
		return HFMT_OK;
	}
	if (!cJSON_IsNumber(v) || (v->valuedouble != 2 && v->valuedouble != 3) ||
	    !grow(line, (int)v->valuedouble, &u.nomem)) {
		hfmt_view_free(view);
		return u.nomem ? HFMT_NOMEM : HFMT_BAD;
	}
	view->version = (int)v->valuedouble;
	u.budget = len < (SIZE_MAX - NODES_MIN) / NODES_PER_BYTE ? len * NODES_PER_BYTE + NODES_MIN
								     : SIZE_MAX;
	view->built = u.built = cJSON_CreateObject();
	view->store = u.store = cJSON_CreateArray();
	if (u.built == NULL || u.store == NULL || !unpack(&u, line, view->version)) {
		free(u.obs);
		hfmt_view_free(view);
		return u.built == NULL || u.store == NULL || u.nomem ? HFMT_NOMEM : HFMT_BAD;
	}
	free(u.obs);
	view->run = u.built;
	return HFMT_OK;
}

void hfmt_view_free(struct hfmt_view *view)
{
	/* References first: they point into the store and the line. */
	cJSON_Delete(view->built);
	cJSON_Delete(view->store);
	cJSON_Delete(view->line);
	memset(view, 0, sizeof *view);
}
