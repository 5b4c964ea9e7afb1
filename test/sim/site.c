/*
 * site.c: read a site bundle like Kahua does: etc/kahua.conf (one
 * "(make <kahua-config> :key value ...)" form; only the keys that place
 * files matter here) and app-servers (the worker types).
 */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX (1024 * 1024)

static int fail(char *err, size_t errsz, const char *what, const char *why)
{
	snprintf(err, errsz, "%s: %s", what, why);
	return -1;
}

static char *absolute(const char *path)
{
	char cwd[4096];
	size_t n;
	char *p;

	if (path[0] == '/')
		p = xstrdup(path);
	else if (getcwd(cwd, sizeof cwd) == NULL)
		return NULL;
	else
		p = xasprintf("%s/%s", cwd, path);
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	return p;
}

static char *under_root(const char *root, const char *v)
{
	return v[0] == '/' ? xstrdup(v) : xasprintf("%s/%s", root, v);
}

/* The value of a path keyword: a string, else NULL. */
static const char *conf_string(const struct sx *v)
{
	return sx_is_string(v) ? sx_text(v) : NULL;
}

static int conf_apply(struct site *s, const char *key, const struct sx *v,
		      const char *path, char *err, size_t errsz)
{
	const char *str = conf_string(v);
	char **dst = NULL;

	if (strcmp(key, ":auto-restart") == 0) {
		if (v->type != SX_BOOL)
			return fail(err, errsz, path, ":auto-restart is not #t or #f");
		s->auto_restart = v->u.b;
		return 0;
	}
	if (strcmp(key, ":timeout-mins") == 0) {
		if (v->type != SX_INT || v->u.i < 0)
			return fail(err, errsz, path, ":timeout-mins is not a number of minutes");
		s->timeout_mins = (long)v->u.i;
		return 0;
	}
	if (strcmp(key, ":sockbase") == 0)
		dst = &s->sockdir;
	else if (strcmp(key, ":run-directory") == 0)
		dst = &s->rundir;
	else if (strcmp(key, ":log-directory") == 0)
		dst = &s->logdir;
	else
		return 0;       /* other settings do not concern the simulator */
	if (str == NULL || str[0] == '\0')
		return fail(err, errsz, path, "a path setting is not a non-empty string");
	if (dst == &s->sockdir && strncmp(str, "unix:", 5) == 0)
		str += 5;
	free(*dst);
	*dst = under_root(s->root, str);
	return 0;
}

static int conf_parse(struct site *s, const char *text, size_t len,
		      const char *path, char *err, size_t errsz)
{
	struct sx *x = NULL;
	struct sx_error e;
	size_t pos = 0;
	int rc = 0;

	if (sx_read(text, len, &pos, &sx_default_limits, &x, &e) != SX_OK) {
		char why[256];

		snprintf(why, sizeof why, "line %zu: %s", e.line,
			 e.msg[0] ? e.msg : "no S-expression");
		return fail(err, errsz, path, why);
	}
	if (!sx_is_symbol(sx_nth(x, 0), "make") ||
	    !sx_is_symbol(sx_nth(x, 1), "<kahua-config>") || sx_len(x) % 2 != 0)
		rc = fail(err, errsz, path, "not a (make <kahua-config> :key value ...) form");
	for (size_t i = 2; rc == 0 && i + 1 < sx_len(x); i += 2) {
		const struct sx *k = sx_nth(x, i);

		if (!sx_is_symbol(k, NULL) || sx_text(k)[0] != ':')
			rc = fail(err, errsz, path, "a setting name is not a :keyword");
		else
			rc = conf_apply(s, sx_text(k), sx_nth(x, i + 1), path, err, errsz);
	}
	sx_free(x);
	return rc;
}

int site_load(const char *root, struct site *s, char *err, size_t errsz)
{
	struct stat st;
	char *path, *text;
	size_t len;
	int rc;

	memset(s, 0, sizeof *s);
	s->root = absolute(root);
	if (s->root == NULL)
		return fail(err, errsz, root, strerror(errno));
	if (stat(s->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		const char *why = "not a directory";

		if (stat(s->root, &st) != 0)
			why = strerror(errno);
		rc = fail(err, errsz, s->root, why);
		site_free(s);
		return rc;
	}
	s->sockdir = xasprintf("%s/socket", s->root);
	s->rundir = xasprintf("%s/run", s->root);
	s->logdir = xasprintf("%s/logs", s->root);
	s->timeout_mins = 60;
	path = xasprintf("%s/etc/kahua.conf", s->root);
	text = read_file(path, CONF_MAX, &len);
	if (text == NULL)
		rc = fail(err, errsz, path, strerror(errno));
	else
		rc = conf_parse(s, text, len, path, err, errsz);
	free(text);
	free(path);
	if (rc != 0)
		site_free(s);
	return rc;
}

void site_free(struct site *s)
{
	free(s->root);
	free(s->sockdir);
	free(s->rundir);
	free(s->logdir);
	memset(s, 0, sizeof *s);
}

char **strv_dup(char *const *v, size_t n)
{
	char **d = xmalloc((n + 1) * sizeof *d);

	for (size_t i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	d[n] = NULL;
	return d;
}

void strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *arg_text(const struct sx *a)
{
	if (a->type == SX_STRING || a->type == SX_SYMBOL)
		return xstrdup(sx_text(a));
	if (a->type == SX_INT)
		return xasprintf("%lld", a->u.i);
	return NULL;
}

static const char *type_parse(struct app_type *t, const struct sx *e)
{
	const struct sx *args, *rbd;
	size_t n;

	if (!sx_is_symbol(sx_nth(e, 0), NULL))
		return "an entry does not start with a type name";
	if (strlen(sx_text(sx_nth(e, 0))) >= sizeof(((struct winfo *)0)->type))
		return "a type name is too long";
	/* The rest is a property list: (type :k v :k v ...). */
	for (size_t i = 1; i < sx_len(e); i += 2)
		if (!sx_is_symbol(sx_nth(e, i), NULL) || i + 1 >= sx_len(e))
			return "an entry is not (TYPE :key value ...)";
	t->name = xstrdup(sx_text(sx_nth(e, 0)));
	args = NULL;
	rbd = NULL;
	for (size_t i = 1; i + 1 < sx_len(e); i += 2) {
		if (sx_is_symbol(sx_nth(e, i), ":arguments"))
			args = sx_nth(e, i + 1);
		if (sx_is_symbol(sx_nth(e, i), ":run-by-default"))
			rbd = sx_nth(e, i + 1);
	}
	if (args != NULL && !sx_is_list(args))
		return ":arguments is not a list";
	if (rbd != NULL && (rbd->type != SX_INT || rbd->u.i < 0 || rbd->u.i > 1000))
		return ":run-by-default is not a number from 0 to 1000";
	t->run_by_default = rbd ? (long)rbd->u.i : 0;
	n = sx_len(args);
	t->args = xmalloc((n + 1) * sizeof *t->args);
	t->nargs = 0;
	for (size_t i = 0; i < n; i++) {
		char *a = arg_text(sx_nth(args, i));

		if (a == NULL)
			return "an argument is not a string, symbol or number";
		t->args[t->nargs++] = a;
	}
	t->args[t->nargs] = NULL;
	return NULL;
}

static int types_parse(struct app_types *t, const struct sx *x,
		       const char *path, char *err, size_t errsz)
{
	const char *why = NULL;

	if (!sx_is_list(x))
		return fail(err, errsz, path, "not a list of (TYPE :arguments (...) :run-by-default N)");
	t->v = xmalloc((sx_len(x) + 1) * sizeof *t->v);
	memset(t->v, 0, (sx_len(x) + 1) * sizeof *t->v);
	for (size_t i = 0; why == NULL && i < sx_len(x); i++) {
		struct app_type *ty = &t->v[t->n++];

		why = type_parse(ty, sx_nth(x, i));
		if (why == NULL && app_type_find(&(struct app_types){ t->v, t->n - 1 },
						 ty->name) != NULL)
			why = "a type is listed twice";
	}
	if (why == NULL)
		return 0;
	app_types_free(t);
	return fail(err, errsz, path, why);
}

int app_servers_load(const struct site *s, struct app_types *t,
		     char *err, size_t errsz)
{
	char *path = xasprintf("%s/app-servers", s->root);
	struct sx *x = NULL;
	struct sx_error e;
	size_t len, pos = 0;
	char *text = read_file(path, CONF_MAX, &len);
	int rc;

	memset(t, 0, sizeof *t);
	if (text == NULL) {
		rc = fail(err, errsz, path, strerror(errno));
	} else if (sx_read(text, len, &pos, &sx_default_limits, &x, &e) != SX_OK) {
		char why[256];

		snprintf(why, sizeof why, "line %zu: %s", e.line,
			 e.msg[0] ? e.msg : "no S-expression");
		rc = fail(err, errsz, path, why);
	} else {
		rc = types_parse(t, x, path, err, errsz);
	}
	sx_free(x);
	free(text);
	free(path);
	return rc;
}

void app_types_free(struct app_types *t)
{
	for (size_t i = 0; t->v != NULL && i < t->n; i++) {
		free(t->v[i].name);
		strv_free(t->v[i].args, t->v[i].nargs);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const struct app_type *app_type_find(const struct app_types *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].name != NULL && strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}
