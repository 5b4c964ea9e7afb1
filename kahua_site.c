/*
 * kahua_site.c: the site bundle on disk: etc/kahua.conf, app-servers and
 * the supervisor's pid file.  The files are read as data with the bounded
 * S-expression reader and never evaluated.
 */
#include "kahua_site.h"
#include "file.h"
#include "sexp.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_FILE_MAX (1024 * 1024)

static char *path_join(const char *dir, const char *rel)
{
	size_t a = strlen(dir), b = strlen(rel);
	char *p;

	if (rel[0] == '/')
		return strdup(rel);
	p = malloc(a + b + 2);
	if (p == NULL)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, rel, b + 1);
	return p;
}

/*
 * Read a whole small file; KR_CONFIG names the path on failure and errno
 * is left as the failing call set it, so callers can tell a missing file.
 */
static char *read_small_file(const char *path, size_t *len, struct kr_err *err)
{
	const char *why;
	char *text = file_read_small(path, CONF_FILE_MAX, len, &why);
	int saved = errno;

	if (text != NULL)
		return text;
	kr_fail(err, strcmp(why, "out of memory") == 0 ? KR_SOFTWARE : KR_CONFIG, "%s: %s",
		path, why);
	errno = saved;
	return NULL;
}

static struct sx *read_one_datum(const char *text, size_t len, const char *path,
				 struct kr_err *err)
{
	struct sx *x = NULL, *extra = NULL;
	struct sx_error se;
	size_t pos = 0;
	enum sx_result r = sx_read(text, len, &pos, &sx_default_limits, &x, &se);

	if (r == SX_END) {
		kr_fail(err, KR_CONFIG, "%s: empty file", path);
		return NULL;
	}
	if (r != SX_OK) {
		kr_fail(err, KR_CONFIG, "%s:%zu: %s", path, se.line, se.msg);
		return NULL;
	}
	r = sx_read(text, len, &pos, &sx_default_limits, &extra, &se);
	if (r == SX_END)
		return x;
	sx_free(extra);
	sx_free(x);
	if (r == SX_OK)
		kr_fail(err, KR_CONFIG, "%s: unexpected data after the first expression", path);
	else
		kr_fail(err, KR_CONFIG, "%s:%zu: %s", path, se.line, se.msg);
	return NULL;
}

/* A string setting of kahua.conf; *out stays NULL when absent. */
static int conf_string(const struct sx *plist, const char *key, const char *path,
		       const char **out, struct kr_err *err)
{
	const struct sx *v = sx_plist_get(plist, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!sx_is_string(v))
		return kr_fail(err, KR_CONFIG, "%s: %s must be a string, not a %s",
			       path, key, sx_type_name(v->type));
	*out = sx_text(v);
	return 0;
}

static int conf_dir(const char *root, const char *value, const char *dflt,
		    char **out, struct kr_err *err)
{
	*out = path_join(root, value != NULL && value[0] != '\0' ? value : dflt);
	if (*out == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	return 0;
}

/* :timeout-mins, Kahua's age limit of continuations and state sessions. */
static int conf_timeout(const struct sx *plist, const char *path, long *out, struct kr_err *err)
{
	const struct sx *v = sx_plist_get(plist, ":timeout-mins");

	*out = KAHUA_TIMEOUT_MINS_DEFAULT;
	if (v == NULL)
		return 0;
	if (v->type != SX_INT || v->u.i <= 0 || v->u.i > 10L * 365 * 24 * 60)
		return kr_fail(err, KR_CONFIG, "%s: :timeout-mins must be a positive whole number of minutes",
			       path);
	*out = (long)v->u.i;
	return 0;
}

static int conf_apply(const struct sx *conf, const char *root, const char *path,
		      struct kahua_site *site, struct kr_err *err)
{
	const char *sockbase, *rundir, *logdir;
	const struct sx *ar;

	if (conf_string(conf, ":sockbase", path, &sockbase, err) < 0 ||
	    conf_string(conf, ":run-directory", path, &rundir, err) < 0 ||
	    conf_string(conf, ":log-directory", path, &logdir, err) < 0)
		return -1;
	if (sockbase != NULL && strncmp(sockbase, "unix:", 5) == 0)
		sockbase += 5;
	if (conf_timeout(conf, path, &site->timeout_mins, err) < 0)
		return -1;
	ar = sx_plist_get(conf, ":auto-restart");
	site->auto_restart = ar != NULL && !(ar->type == SX_BOOL && !ar->u.b);
	if (conf_dir(root, sockbase, "socket", &site->sockdir, err) < 0 ||
	    conf_dir(root, rundir, "run", &site->rundir, err) < 0 ||
	    conf_dir(root, logdir, "logs", &site->logdir, err) < 0)
		return -1;
	return 0;
}

int kahua_conf_parse(const char *text, size_t len, const char *root,
		     const char *path, struct kahua_site *site, struct kr_err *err)
{
	struct sx *x = read_one_datum(text, len, path, err);
	struct sx plist;
	int rc;

	if (x == NULL)
		return -1;
	if (!sx_is_symbol(sx_nth(x, 0), "make") ||
	    !sx_is_symbol(sx_nth(x, 1), "<kahua-config>")) {
		sx_free(x);
		return kr_fail(err, KR_CONFIG,
			       "%s: expected (make <kahua-config> :key value ...)", path);
	}
	if (sx_len(x) % 2 != 0) {
		sx_free(x);
		return kr_fail(err, KR_CONFIG, "%s: a :key has no value", path);
	}
	/* The settings are the list after "make <kahua-config>". */
	plist.type = SX_LIST;
	plist.off = x->off;
	plist.u.list.items = x->u.list.items + 2;
	plist.u.list.n = x->u.list.n - 2;
	rc = conf_apply(&plist, root, path, site, err);
	sx_free(x);
	return rc;
}

void kahua_site_free(struct kahua_site *site)
{
	free(site->root);
	free(site->conf_path);
	free(site->sockdir);
	free(site->rundir);
	free(site->logdir);
	memset(site, 0, sizeof *site);
}

int kahua_site_load(const char *root, struct kahua_site *site, struct kr_err *err)
{
	char real[PATH_MAX];
	struct stat st;
	char *text;
	size_t len;
	int rc;

	memset(site, 0, sizeof *site);
	if (root == NULL || root[0] == '\0')
		return kr_fail(err, KR_USAGE, "no site bundle: give -S DIR or set OT_SITE");
	if (realpath(root, real) == NULL)
		return kr_fail(err, KR_CONFIG, "site bundle %s: %s", root, strerror(errno));
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return kr_fail(err, KR_CONFIG, "site bundle %s: not a directory", root);
	site->root = strdup(real);
	site->conf_path = path_join(real, "etc/kahua.conf");
	if (site->root == NULL || site->conf_path == NULL) {
		kahua_site_free(site);
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	}
	text = read_small_file(site->conf_path, &len, err);
	if (text == NULL) {
		if (errno == ENOENT)
			kr_fail(err, KR_CONFIG, "%s: no such file: %s is not a Kahua site bundle",
				site->conf_path, root);
		kahua_site_free(site);
		return -1;
	}
	rc = kahua_conf_parse(text, len, site->root, site->conf_path, site, err);
	free(text);
	if (rc < 0)
		kahua_site_free(site);
	return rc;
}

static int app_server_entry(const struct sx *e, const char *path,
			    struct kahua_type *t, struct kr_err *err)
{
	const struct sx *name = sx_nth(e, 0), *rbd;
	size_t nlen;

	if (!sx_is_list(e) || !sx_is_symbol(name, NULL))
		return kr_fail(err, KR_CONFIG, "%s: at byte %zu: expected (TYPE :arguments (...) :run-by-default N)",
			       path, e->off);
	nlen = strlen(sx_text(name));
	if (nlen >= sizeof t->name)
		return kr_fail(err, KR_CONFIG, "%s: worker type name longer than %zu bytes",
			       path, sizeof t->name - 1);
	memcpy(t->name, sx_text(name), nlen + 1);
	rbd = NULL;
	for (size_t i = 1; i + 1 < sx_len(e); i += 2)
		if (sx_is_symbol(sx_nth(e, i), ":run-by-default"))
			rbd = sx_nth(e, i + 1);
	t->run_by_default = 0;
	if (rbd == NULL)
		return 0;
	if (rbd->type != SX_INT || rbd->u.i < 0 || rbd->u.i > 100000)
		return kr_fail(err, KR_CONFIG, "%s: type %s: :run-by-default must be a number from 0, not %s",
			       path, t->name, sx_type_name(rbd->type));
	t->run_by_default = (long)rbd->u.i;
	return 0;
}

int kahua_app_servers_parse(const char *text, size_t len, const char *path,
			    struct kahua_type **types, size_t *n, struct kr_err *err)
{
	struct sx *x = read_one_datum(text, len, path, err);
	struct kahua_type *v;
	size_t count;

	*types = NULL;
	*n = 0;
	if (x == NULL)
		return -1;
	if (!sx_is_list(x)) {
		sx_free(x);
		return kr_fail(err, KR_CONFIG, "%s: expected a list of worker types", path);
	}
	count = sx_len(x);
	v = calloc(count ? count : 1, sizeof *v);
	if (v == NULL) {
		sx_free(x);
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < count; i++) {
		if (app_server_entry(sx_nth(x, i), path, &v[i], err) < 0) {
			free(v);
			sx_free(x);
			return -1;
		}
	}
	sx_free(x);
	*types = v;
	*n = count;
	return 0;
}

int kahua_app_servers(const struct kahua_site *site, struct kahua_type **types,
		      size_t *n, struct kr_err *err)
{
	char *path = path_join(site->root, "app-servers");
	char *text;
	size_t len;
	int rc;

	if (path == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	text = read_small_file(path, &len, err);
	rc = text == NULL ? -1 : kahua_app_servers_parse(text, len, path, types, n, err);
	free(text);
	free(path);
	return rc;
}

int kahua_spvr_pid(const struct kahua_site *site, pid_t *pid, struct kr_err *err)
{
	char *path = path_join(site->rundir, "kahua-spvr.pid");
	char *text, *end;
	size_t len;
	long v;

	if (path == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	text = read_small_file(path, &len, err);
	if (text == NULL) {
		kr_fail(err, KR_UNAVAILABLE, "%s: %s (is kahua-spvr running?)",
			path, errno ? strerror(errno) : "unreadable");
		free(path);
		return -1;
	}
	errno = 0;
	v = strtol(text, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno != 0 || end == text || *end != '\0' || v <= 1 || v > INT_MAX) {
		kr_fail(err, KR_UNAVAILABLE, "%s: not a process id: \"%.20s\"", path, text);
	} else if (kill((pid_t)v, 0) < 0 && errno == ESRCH) {
		kr_fail(err, KR_UNAVAILABLE, "%s: supervisor pid %ld is not running", path, v);
	} else {
		*pid = (pid_t)v;
		free(text);
		free(path);
		return 0;
	}
	free(text);
	free(path);
	return -1;
}

char *kahua_sock_path(const struct kahua_site *site, const char *name)
{
	return path_join(site->sockdir, name);
}

/* "HOST:PORT", "[V6]:PORT" or "PORT" into host and port. */
