/*
 * options.c: the option table and its four sources.
 *
 * The command line is read first but applied last: the site it names
 * decides which config file to read, yet every layer above the file must
 * still win over it.
 */
#include "options.h"
#include "file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define KR_VERSION "1.0"
#define CONFIG_MAX (256 * 1024)

enum opt_kind { K_BOOL, K_COUNT, K_INT, K_SECONDS, K_SIZE, K_STRING, K_LIST,
		K_STATUSES, K_STRATEGY, K_METRIC, K_PROBE, K_FACILITY, K_PRESSURE };

struct optdef {
	const char *name;       /* long flag and JSON key */
	int shortopt;           /* 0: none */
	enum opt_kind kind;
	size_t off;             /* field in struct options */
	const char *dflt;       /* default in flag syntax; NULL: unset/false */
	const char *arg;        /* argument name in --help; NULL: no argument */
	const char *help;
};

#define F(field) offsetof(struct options, field)

static const struct optdef optdefs[] = {
	{ "site", 'S', K_STRING, F(site), NULL, "DIR", "Kahua site bundle (else $OT_SITE)" },
	{ "config", 'c', K_STRING, F(config), NULL, "FILE", "JSON config (default SITE/etc/kahua-restarter.json)" },
	{ "strategy", 0, K_STRATEGY, F(strategy), "rolling", "NAME", "rolling, surge or all" },
	{ "timeout", 't', K_SECONDS, F(timeout), "300", "SECS", "time limit for the whole run" },
	{ "ctl-timeout", 0, K_SECONDS, F(ctl_timeout), "10", "SECS", "time limit to connect and for each control reply" },
	{ "kill-after", 0, K_SECONDS, F(kill_after), "30", "SECS", "SIGKILL a verified worker whose restart is stuck this long" },
	{ "worker-timeout", 0, K_SECONDS, F(worker_timeout), "10", "SECS", "time for a replacement to show in ls and answer its probe" },
	{ "drain-timeout", 0, K_SECONDS, F(drain_timeout), "5", "SECS", "wait at most SECS for a worker to finish its queued requests before it is terminated (0: do not wait)" },
	{ "settle", 0, K_SECONDS, F(drain_timeout), NULL, "SECS", "deprecated alias of --drain-timeout" },
	{ "term-grace", 0, K_SECONDS, F(term_grace), "300ms", "DURATION", "a worker being terminated serves DURATION more after SIGTERM, so requests already handed to it are answered; the supervisor's lock is held that much longer (at most 10s; 0: off)" },
	{ "url", 'u', K_LIST, F(urls), NULL, "URL", "health-check URL (repeatable; default derived from kahua-httpd)" },
	{ "expect-status", 0, K_STATUSES, F(expect_status), "200", "N[,N...]", "accepted HTTP statuses" },
	{ "expect-body", 0, K_STRING, F(expect_body), NULL, "TEXT", "text the response body must contain" },
	{ "http-timeout", 0, K_SECONDS, F(http_timeout), "5", "SECS", "time limit of one HTTP request" },
	{ "retries", 0, K_INT, F(retries), "2", "N", "further tries of a failed HTTP check" },
	{ "retry-delay", 0, K_SECONDS, F(retry_delay), "1", "SECS", "pause between HTTP tries" },
	{ "follow-redirects", 0, K_BOOL, F(follow_redirects), NULL, NULL, "follow HTTP redirects" },
	{ "no-http-check", 0, K_BOOL, F(no_http_check), NULL, NULL, "skip the HTTP check (worker probes still run)" },
	{ "probe", 0, K_PROBE, F(probe), "eval", "KIND", "worker probe: eval (ask the worker what it holds) or http (a web request)" },
	{ "no-eval", 0, K_BOOL, F(no_eval), NULL, NULL, "send no eval to workers: no continuation figures, probes by web request" },
	{ "min-rss", 0, K_SIZE, F(min_rss), "0", "SIZE", "restart only workers using at least SIZE (K, M, G)" },
	{ "max-age", 0, K_SECONDS, F(max_age), "0", "DURATION", "restart only workers older than DURATION (s, m, h, d)" },
	{ "memory", 0, K_METRIC, F(memory), "rss", "METRIC", "memory metric: rss or pss" },
	{ "max-restarts", 0, K_INT, F(max_restarts), "0", "N", "restart at most N workers per run (0: no limit)" },
	{ "max-conts", 0, K_INT, F(max_conts), "0", "N", "restart only workers holding at least N continuations (0: no threshold)" },
	{ "sweep-conts", 0, K_SECONDS, F(sweep_conts), "0", "DURATION", "sweep: discard continuations unused for DURATION (at least 60s, below :timeout-mins); restart sweeps first (0: off)" },
	{ "sweep-sessions", 0, K_SECONDS, F(sweep_sessions), "0", "DURATION", "sweep: also discard state sessions idle for DURATION; they hold logins (0: off)" },
	{ "no-top-up", 0, K_BOOL, F(no_top_up), NULL, NULL, "remove dead and broken entries but do not reload to top types up" },
	{ "when-available-below", 0, K_SIZE, F(when_available_below), "0", "SIZE", "restart only while the host's MemAvailable is below SIZE (0: always)" },
	{ "when-swap-above", 0, K_SIZE, F(when_swap_above), "0", "SIZE", "restart only while the host's swap in use is above SIZE (0: always)" },
	{ "when-memory-pressure-above", 0, K_PRESSURE, F(when_pressure), "0", "PCT[/WINDOW]", "restart only while memory pressure (PSI some: % of time tasks waited for memory, over WINDOW 10s, 60s or 300s, default 60s) is above PCT (0: always)" },
	{ "pressure-cgroup", 0, K_STRING, F(pressure_cgroup), NULL, "PATH", "read the pressure gate from this cgroup v2 group's memory.pressure (PATH below the cgroup2 mount) instead of the host's" },
	{ "forecast-floor", 0, K_SIZE, F(forecast_floor), "0", "SIZE", "check, status -v: forecast when MemAvailable falls below SIZE (0: 10% of MemTotal)" },
	{ "warn-within", 0, K_SECONDS, F(warn_within), "0", "DURATION", "check: exit 1 when the forecast reaches the floor within DURATION (0: never)" },
	{ "splay", 0, K_SECONDS, F(splay), "0", "SECS", "sleep a random time up to SECS first" },
	{ "wait-lock", 0, K_SECONDS, F(wait_lock), "0", "SECS", "wait up to SECS for another run's lock" },
	{ "dry-run", 'n', K_BOOL, F(dry_run), NULL, NULL, "print the plan; send the supervisor nothing but ls" },
	{ "verbose", 'v', K_COUNT, F(verbose), NULL, NULL, "narrate each step with its duration" },
	{ "json", 'j', K_BOOL, F(json), NULL, NULL, "print one JSON report on stdout" },
	{ "history", 0, K_STRING, F(history), NULL, "FILE", "history file (default LOGDIR/kahua-restarter.jsonl)" },
	{ "no-history", 0, K_BOOL, F(no_history), NULL, NULL, "do not append to the history file" },
	{ "history-max-size", 0, K_SIZE, F(history_max_size), "3M", "SIZE", "keep the history file under SIZE by thinning its oldest runs (0: no limit)" },
	{ "prom", 0, K_STRING, F(prom), NULL, "FILE", "write Prometheus metrics to FILE" },
	{ "syslog", 0, K_BOOL, F(syslog), NULL, NULL, "also log to syslog" },
	{ "facility", 0, K_FACILITY, F(facility), "daemon", "NAME", "syslog facility (daemon, user, local0..local7)" },
	{ "since", 0, K_SECONDS, F(since), "0", "DURATION", "history: only runs this recent (0: all)" },
	{ "svg", 0, K_STRING, F(svg), NULL, "FILE", "history: write an SVG chart to FILE (- for stdout) instead of the summary" },
	{ "print-config", 0, K_BOOL, F(print_config), NULL, NULL, "print the effective settings and their sources" },
};

#define NOPTS (sizeof optdefs / sizeof optdefs[0])

/* Deprecated names kept so old crontabs and config files keep working. */
static const struct { const char *name, *of; } aliases[] = {
	{ "settle", "drain-timeout" },
};

/* The option an alias stands for; NULL if name is no alias. */
static const char *alias_of(const char *name)
{
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(aliases[i].name, name) == 0)
			return aliases[i].of;
	return NULL;
}

_Static_assert(NOPTS <= OPT_MAX_SETTINGS, "raise OPT_MAX_SETTINGS");

static void *field(struct options *o, const struct optdef *d)
{
	return (char *)o + d->off;
}

/* A finite number from 0 at the start of s; *end is its unit. */
static int read_amount(const char *s, double *v, char **end)
{
	errno = 0;
	*v = strtod(s, end);
	return *end == s || errno != 0 || !isfinite(*v) || *v < 0 ? -1 : 0;
}

int parse_seconds(const char *s, double *out)
{
	char *end;
	double v, mult = 1;

	if (read_amount(s, &v, &end) < 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		mult = 0.001;
	else if (*end != '\0' && end[1] != '\0')
		return -1;
	else if (*end == 'm')
		mult = 60;
	else if (*end == 'h')
		mult = 3600;
	else if (*end == 'd')
		mult = 86400;
	else if (*end != 's' && *end != '\0')
		return -1;
	if (v * mult > 10.0 * 365 * 86400)
		return -1;
	*out = v * mult;
	return 0;
}

int parse_size(const char *s, long long *out)
{
	char *end;
	double v, mult = 1;

	if (read_amount(s, &v, &end) < 0)
		return -1;
	switch (*end) {
	case '\0': case 'B': break;
	case 'K': case 'k': mult = 1024.0; break;
	case 'M': case 'm': mult = 1024.0 * 1024; break;
	case 'G': case 'g': mult = 1024.0 * 1024 * 1024; break;
	case 'T': case 't': mult = 1024.0 * 1024 * 1024 * 1024; break;
	default: return -1;
	}
	if (*end != '\0' && end[1] != '\0' && strcmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0)
		return -1;
	if (v * mult > 9e18)
		return -1;
	*out = (long long)(v * mult);
	return 0;
}

static int parse_count(const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < 0 || v > 1000000)
		return -1;
	*out = v;
	return 0;
}

/* "5", "5/60s", "0.5/10s": a percent, then one of PSI's three windows. */
int parse_pressure(const char *s, struct pressure_opt *out)
{
	char *end;
	double pct, window = 60;

	if (read_amount(s, &pct, &end) < 0 || pct > 100)
		return -1;
	if (*end == '%')
		end++;
	if (*end == '/' && parse_seconds(end + 1, &window) < 0)
		return -1;
	if ((*end != '/' && *end != '\0') || (window != 10 && window != 60 && window != 300))
		return -1;
	out->pct = pct;
	out->window = (int)window;
	return 0;
}

static const struct { const char *name; int value; } facilities[] = {
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER }, { "cron", LOG_CRON },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int parse_facility(const char *s, int *out)
{
	for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++) {
		if (strcmp(s, facilities[i].name) == 0) {
			*out = facilities[i].value;
			return 0;
		}
	}
	return -1;
}

static const char *const strategies[] = { "rolling", "surge", "all" };
static const char *const metrics[] = { "rss", "pss" };
static const char *const probes[] = { "eval", "http" };
static const char *const commands[] = { "restart", "status", "check", "history", "census", "sweep" };

const char *strategy_name(int s)
{
	return s >= 0 && s < 3 ? strategies[s] : "?";
}

const char *metric_name(int m)
{
	return m >= 0 && m < 2 ? metrics[m] : "?";
}

const char *probe_name(int p)
{
	return p >= 0 && p < 2 ? probes[p] : "?";
}

const char *command_name(enum kr_command c)
{
	return (int)c >= 0 && c < 6 ? commands[c] : "?";
}

static int pick(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int parse_statuses(const char *s, struct options *o)
{
	size_t n = 0;
	const char *p = s;

	while (*p != '\0') {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || v < 100 || v > 599 || n == OPT_MAX_STATUSES ||
		    (*end != ',' && *end != '\0'))
			return -1;
		o->expect_status[n++] = (int)v;
		p = *end == ',' ? end + 1 : end;
	}
	if (n == 0)
		return -1;
	o->n_expect_status = n;
	return 0;
}

static int replace_string(char **slot, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

static void str_list_clear(struct str_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int str_list_add(struct str_list *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof *v);

	if (v == NULL)
		return -1;
	l->v = v;
	if ((v[l->n] = strdup(s)) == NULL)
		return -1;
	l->n++;
	return 0;
}

static const char *kind_expects(enum opt_kind k)
{
	switch (k) {
	case K_BOOL: case K_COUNT: return "true or false";
	case K_INT: return "a whole number from 0";
	case K_SECONDS: return "a duration such as 30, 30s, 5m, 2h or 1d";
	case K_SIZE: return "a size such as 512M or 1G";
	case K_STRING: case K_LIST: return "a string";
	case K_STATUSES: return "HTTP statuses such as 200 or 200,204";
	case K_STRATEGY: return "rolling, surge or all";
	case K_METRIC: return "rss or pss";
	case K_PROBE: return "eval or http";
	case K_FACILITY: return "a syslog facility such as daemon or local0";
	case K_PRESSURE: return "a percent and window such as 5, 5/10s, 20/60s or 10/300s";
	}
	return "?";
}

/* Set one option from its text form; src decides list replacement. */
static int set_value(struct options *o, size_t idx, const char *s, enum kr_source src)
{
	const struct optdef *d = &optdefs[idx];
	void *f = field(o, d);
	int v;

	switch (d->kind) {
	case K_BOOL:
		if (s != NULL && pick(s, (const char *const[]){ "false", "true" }, 2) < 0)
			return -1;
		*(bool *)f = s == NULL || strcmp(s, "true") == 0;
		break;
	case K_COUNT:
		*(int *)f = s == NULL ? *(int *)f + 1 : (strcmp(s, "true") == 0);
		break;
	case K_INT:
		return parse_count(s, (long long *)f);
	case K_SECONDS:
		return parse_seconds(s, (double *)f);
	case K_SIZE:
		return parse_size(s, (long long *)f);
	case K_STRING:
		return replace_string((char **)f, s);
	case K_LIST:
		if (o->src[idx] != src)
			str_list_clear((struct str_list *)f);
		o->src[idx] = src;
		return str_list_add((struct str_list *)f, s);
	case K_STATUSES:
		return parse_statuses(s, o);
	case K_STRATEGY:
	case K_METRIC:
	case K_PROBE:
		v = d->kind == K_STRATEGY ? pick(s, strategies, 3) :
		    d->kind == K_METRIC ? pick(s, metrics, 2) : pick(s, probes, 2);
		if (v < 0)
			return -1;
		*(int *)f = v;
		break;
	case K_FACILITY:
		if (parse_facility(s, &v) < 0)
			return -1;
		return replace_string((char **)f, s);
	case K_PRESSURE:
		return parse_pressure(s, (struct pressure_opt *)f);
	}
	return 0;
}

static int find_opt(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(optdefs[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int apply(struct options *o, size_t idx, const char *s, enum kr_source src,
		 const char *where, struct kr_err *err)
{
	const struct optdef *d = &optdefs[idx];
	int status = src == SRC_CMDLINE ? KR_USAGE : KR_CONFIG;

	if (set_value(o, idx, s, src) < 0)
		return kr_fail(err, status, "%s: %s \"%s\": expected %s", where, d->name,
			       s ? s : "", kind_expects(d->kind));
	o->src[idx] = src;
	if (alias_of(d->name) != NULL && find_opt(alias_of(d->name)) >= 0)
		o->src[find_opt(alias_of(d->name))] = src;
	return 0;
}

static void apply_defaults(struct options *o)
{
	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < NOPTS; i++) {
		o->src[i] = SRC_DEFAULT;
		if (optdefs[i].dflt != NULL)
			set_value(o, i, optdefs[i].dflt, SRC_DEFAULT);
	}
}

static void env_name(const struct optdef *d, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "KAHUA_RESTARTER_");

	for (const char *p = d->name; *p != '\0' && n + 1 < size; p++)
		out[n++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	out[n] = '\0';
}

static const char *env_value(const struct optdef *d, char *name, size_t size)
{
	if (strcmp(d->name, "site") == 0) {
		snprintf(name, size, "OT_SITE");
		return getenv("OT_SITE");
	}
	env_name(d, name, size);
	return getenv(name);
}

static int apply_env(struct options *o, struct kr_err *err)
{
	char name[64], where[80];

	for (size_t i = 0; i < NOPTS; i++) {
		const char *v = env_value(&optdefs[i], name, sizeof name);

		if (v == NULL || (v[0] == '\0' && optdefs[i].kind != K_STRING))
			continue;
		snprintf(where, sizeof where, "environment %s", name);
		if (optdefs[i].kind == K_LIST) {
			/* Several URLs in one variable, separated by spaces. */
			char *copy = strdup(v), *save = NULL;

			if (copy == NULL)
				return kr_fail(err, KR_SOFTWARE, "out of memory");
			for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
				if (apply(o, i, t, SRC_ENV, where, err) < 0) {
					free(copy);
					return -1;
				}
			free(copy);
			continue;
		}
		if (apply(o, i, v, SRC_ENV, where, err) < 0)
			return -1;
	}
	return 0;
}

/* The text form of a JSON value, so the file shares set_value's checks. */
static int json_text(const cJSON *v, char *buf, size_t size)
{
	if (cJSON_IsString(v)) {
		snprintf(buf, size, "%s", v->valuestring);
		return 0;
	}
	if (cJSON_IsBool(v)) {
		snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		snprintf(buf, size, "%.17g", v->valuedouble);
		return 0;
	}
	return -1;
}

static int json_list(struct options *o, size_t idx, const cJSON *v,
		     const char *where, struct kr_err *err)
{
	const cJSON *item;
	char text[4096];

	cJSON_ArrayForEach(item, v) {
		if (!cJSON_IsString(item))
			return kr_fail(err, KR_CONFIG, "%s: key \"%s\": array items must be strings",
				       where, optdefs[idx].name);
		snprintf(text, sizeof text, "%s", item->valuestring);
		if (apply(o, idx, text, SRC_FILE, where, err) < 0)
			return -1;
	}
	return 0;
}

/* [200, 204] becomes "200,204" for parse_statuses. */
static int json_statuses(struct options *o, size_t idx, const cJSON *v,
			 const char *where, struct kr_err *err)
{
	const cJSON *item;
	char text[OPT_MAX_STATUSES * 8 + 8] = "";
	size_t used = 0;

	cJSON_ArrayForEach(item, v) {
		if (!cJSON_IsNumber(item) || used + 8 >= sizeof text)
			return kr_fail(err, KR_CONFIG, "%s: key \"%s\": expected at most %d numbers",
				       where, optdefs[idx].name, OPT_MAX_STATUSES);
		used += (size_t)snprintf(text + used, sizeof text - used, "%s%d",
					 used ? "," : "", item->valueint);
	}
	return apply(o, idx, text, SRC_FILE, where, err);
}

static int apply_json_item(struct options *o, size_t idx, const cJSON *v,
			   const char *where, struct kr_err *err)
{
	const struct optdef *d = &optdefs[idx];
	bool wants_bool = d->kind == K_BOOL || d->kind == K_COUNT;
	char text[4096];

	if (cJSON_IsArray(v) && d->kind == K_LIST)
		return json_list(o, idx, v, where, err);
	if (cJSON_IsArray(v) && d->kind == K_STATUSES)
		return json_statuses(o, idx, v, where, err);
	if (wants_bool != cJSON_IsBool(v) || json_text(v, text, sizeof text) < 0)
		return kr_fail(err, KR_CONFIG, "%s: key \"%s\": expected %s", where, d->name,
			       kind_expects(d->kind));
	return apply(o, idx, text, SRC_FILE, where, err);
}

/* Line and column of a byte offset, for JSON syntax errors. */
static void line_col(const char *text, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && text[i] != '\0'; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static char *read_config(const char *path, bool must_exist, struct kr_err *err)
{
	const char *why;
	size_t len;
	char *text = file_read_small(path, CONFIG_MAX, &len, &why);

	if (text != NULL || (errno == ENOENT && !must_exist))
		return text;
	if (strcmp(why, "out of memory") == 0)
		kr_fail(err, KR_SOFTWARE, "out of memory");
	else
		kr_fail(err, KR_CONFIG, "config %s: %s", path, why);
	return NULL;
}

static int apply_json(struct options *o, const char *path, const char *text,
		      struct kr_err *err)
{
	const char *errp = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &errp, true);
	const cJSON *item;
	char where[4200];

	if (root == NULL) {
		size_t line, col;

		line_col(text, errp ? (size_t)(errp - text) : 0, &line, &col);
		return kr_fail(err, KR_CONFIG, "config %s:%zu:%zu: invalid JSON", path, line, col);
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return kr_fail(err, KR_CONFIG, "config %s: expected a JSON object", path);
	}
	snprintf(where, sizeof where, "config %s", path);
	cJSON_ArrayForEach(item, root) {
		int idx = find_opt(item->string);

		if (idx < 0 || strcmp(item->string, "config") == 0) {
			kr_fail(err, KR_CONFIG, "config %s: unknown key \"%s\"", path, item->string);
			cJSON_Delete(root);
			return -1;
		}
		if (apply_json_item(o, (size_t)idx, item, where, err) < 0) {
			cJSON_Delete(root);
			return -1;
		}
	}
	cJSON_Delete(root);
	return 0;
}

/* One flag as given on the command line, applied after the file. */
struct cli_item {
	size_t idx;
	char *value;            /* NULL for flags without an argument */
};

struct cli {
	struct cli_item *v;
	size_t n;
	const char *site;       /* -S if given, to find the config file */
	const char *config;     /* -c if given */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kahua-restarter [options] [restart [TARGET...] | status | check | history |\n"
		"                                  census [TARGET...] | sweep [TARGET...]]\n"
		"\n"
		"Restarts the workers of a Kahua site through its supervisor's control\n"
		"socket, one at a time, and proves the site still answers.\n"
		"TARGET is *, a worker type, a worker number or a worker id (default *).\n"
		"census: each worker's continuations by age and by the code that made them.\n"
		"sweep: discard continuations unused for --sweep-conts in place, then (gc).\n"
		"\noptions:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct optdef *d = &optdefs[i];
		char flag[64];

		snprintf(flag, sizeof flag, "%s%c%s--%s%s%s", d->shortopt ? "-" : "",
			 d->shortopt ? d->shortopt : ' ', d->shortopt ? ", " : " ",
			 d->name, d->arg ? " " : "", d->arg ? d->arg : "");
		fprintf(out, "  %-30s %s%s%s%s\n", d->shortopt ? flag : flag + 2, d->help,
			d->dflt ? " [" : "", d->dflt ? d->dflt : "", d->dflt ? "]" : "");
	}
	fprintf(out, "  %-30s %s\n  %-30s %s\n", "-h, --help", "show this help",
		"    --version", "show the version");
	fprintf(out, "\nevery option NAME may also be set as KAHUA_RESTARTER_NAME in the\n"
		"environment or as \"NAME\" in the JSON config file.\n\nexit status:\n");
	for (const struct kr_exit_info *e = kr_exit_table; e->name != NULL; e++)
		fprintf(out, "  %3d  %s\n", e->status, e->meaning);
}

static int cli_add(struct cli *c, size_t idx, const char *value)
{
	struct cli_item *v = realloc(c->v, (c->n + 1) * sizeof *v);

	if (v == NULL)
		return -1;
	c->v = v;
	v[c->n].idx = idx;
	v[c->n].value = value ? strdup(value) : NULL;
	if (value != NULL && v[c->n].value == NULL)
		return -1;
	c->n++;
	return 0;
}

static void cli_free(struct cli *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].value);
	free(c->v);
}

static void build_getopt(struct option *lo, char *so)
{
	size_t s = 0;

	so[s++] = ':';
	for (size_t i = 0; i < NOPTS; i++) {
		lo[i].name = optdefs[i].name;
		lo[i].has_arg = optdefs[i].arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = 1000 + (int)i;
		if (optdefs[i].shortopt) {
			so[s++] = (char)optdefs[i].shortopt;
			if (optdefs[i].arg)
				so[s++] = ':';
		}
	}
	lo[NOPTS] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[NOPTS + 1] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[NOPTS + 2] = (struct option){ NULL, 0, NULL, 0 };
	so[s++] = 'h';
	so[s] = '\0';
}

static int short_index(int c)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (optdefs[i].shortopt == c)
			return (int)i;
	return -1;
}

static int parse_argv(int argc, char **argv, struct cli *c, struct kr_err *err)
{
	struct option lo[NOPTS + 3];
	char so[2 * NOPTS + 4];
	int ch;

	build_getopt(lo, so);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		int idx = ch >= 1000 ? ch - 1000 : short_index(ch);

		if (ch == 'h') {
			usage(stdout);
			return 1;
		}
		if (ch == 'V') {
			printf("kahua-restarter %s\n", KR_VERSION);
			return 1;
		}
		if (ch == '?' || ch == ':' || idx < 0)
			return kr_fail(err, KR_USAGE, "%s: %s (see --help)", argv[optind - 1],
				       ch == ':' ? "needs an argument" : "unknown option");
		if (cli_add(c, (size_t)idx, optdefs[idx].arg ? optarg : NULL) < 0)
			return kr_fail(err, KR_SOFTWARE, "out of memory");
		if (strcmp(optdefs[idx].name, "site") == 0)
			c->site = optarg;
		if (strcmp(optdefs[idx].name, "config") == 0)
			c->config = optarg;
	}
	return 0;
}

static bool command_takes_targets(enum kr_command c)
{
	return c == CMD_RESTART || c == CMD_CENSUS || c == CMD_SWEEP;
}

/*
 * Sweep ages: whole seconds, at least OPT_SWEEP_MIN_S (younger continuations
 * are a reader's open page); the site's :timeout-mins bound is checked
 * once the site is read (restarter.c).
 */
static int check_sweep(const struct options *o, struct kr_err *err)
{
	const struct { const char *flag; double v; } ages[] = {
		{ "--sweep-conts", o->sweep_conts },
		{ "--sweep-sessions", o->sweep_sessions },
	};

	for (size_t i = 0; i < 2; i++)
		if (ages[i].v != 0 &&
		    (ages[i].v < OPT_SWEEP_MIN_S || ages[i].v != (double)(long long)ages[i].v))
			return kr_fail(err, KR_USAGE, "%s %g: must be whole seconds, at least %d (1m)",
				       ages[i].flag, ages[i].v, OPT_SWEEP_MIN_S);
	if (o->command == CMD_SWEEP && o->sweep_conts == 0)
		return kr_fail(err, KR_USAGE, "sweep needs --sweep-conts DURATION (e.g. 10m)");
	if (o->sweep_sessions != 0 && o->sweep_conts == 0)
		return kr_fail(err, KR_USAGE, "--sweep-sessions needs --sweep-conts too");
	return 0;
}

/*
 * The grace goes into the worker's eval as whole milliseconds
 * (kahua_grace.h), so it must be one.
 */
static int check_term_grace(const struct options *o, struct kr_err *err)
{
	double ms = o->term_grace * 1000;

	if (ms == 0)
		return 0;
	if (ms < 1 || ms > OPT_TERM_GRACE_MAX_MS || fabs(ms - round(ms)) > 1e-6)
		return kr_fail(err, KR_USAGE, "--term-grace %gs: must be whole milliseconds from 1ms to %ds (0: off)",
			       o->term_grace, OPT_TERM_GRACE_MAX_MS / 1000);
	return 0;
}

static int parse_command(struct options *o, int argc, char **argv, int first,
			 struct kr_err *err)
{
	int cmd;

	o->command = CMD_RESTART;
	if (first >= argc)
		return 0;
	cmd = pick(argv[first], commands, 6);
	if (cmd < 0)
		return kr_fail(err, KR_USAGE,
			       "unknown command \"%s\" (restart, status, check, history, census or sweep)",
			       argv[first]);
	o->command = (enum kr_command)cmd;
	if (!command_takes_targets(o->command) && first + 1 < argc)
		return kr_fail(err, KR_USAGE, "%s takes no arguments, got \"%s\"",
			       argv[first], argv[first + 1]);
	for (int i = first + 1; i < argc; i++)
		if (str_list_add(&o->targets, argv[i]) < 0)
			return kr_fail(err, KR_SOFTWARE, "out of memory");
	return 0;
}

/* The config file: -c (must exist) or SITE/etc/kahua-restarter.json. */
static int load_config_file(struct options *o, const struct cli *c, struct kr_err *err)
{
	/* The command line or the environment may name the site or the file. */
	const char *site = c->site ? c->site : getenv("OT_SITE");
	const char *explicit = c->config ? c->config : getenv("KAHUA_RESTARTER_CONFIG");
	char *path = NULL, *text;
	int rc;

	if (explicit != NULL) {
		path = strdup(explicit);
	} else if (site != NULL && site[0] != '\0') {
		size_t n = strlen(site) + sizeof "/etc/kahua-restarter.json";

		path = malloc(n);
		if (path != NULL)
			snprintf(path, n, "%s/etc/kahua-restarter.json", site);
	} else {
		return 0;
	}
	if (path == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	text = read_config(path, explicit != NULL, err);
	if (text == NULL) {
		free(path);
		return err->status == KR_OK ? 0 : -1;
	}
	rc = apply_json(o, path, text, err);
	if (rc == 0 && o->config == NULL)
		rc = replace_string(&o->config, path) < 0 ? kr_fail(err, KR_SOFTWARE, "out of memory") : 0;
	free(text);
	free(path);
	return rc;
}

int options_load(struct options *o, int argc, char **argv, struct kr_err *err)
{
	struct cli c = { 0 };
	int rc;

	apply_defaults(o);
	kr_err_clear(err);
	rc = parse_argv(argc, argv, &c, err);
	if (rc == 0)
		rc = parse_command(o, argc, argv, optind, err);
	if (rc == 0)
		rc = load_config_file(o, &c, err);
	if (rc == 0)
		rc = apply_env(o, err);
	for (size_t i = 0; rc == 0 && i < c.n; i++)
		rc = apply(o, c.v[i].idx, c.v[i].value, SRC_CMDLINE, "option", err);
	cli_free(&c);
	if (rc == 0)
		rc = check_sweep(o, err);
	if (rc == 0)
		rc = check_term_grace(o, err);
	return rc;
}

int options_from_json(struct options *o, const char *path, const char *text,
		      struct kr_err *err)
{
	apply_defaults(o);
	kr_err_clear(err);
	return apply_json(o, path, text, err);
}

void options_free(struct options *o)
{
	for (size_t i = 0; i < NOPTS; i++) {
		void *f = field(o, &optdefs[i]);

		if (optdefs[i].kind == K_STRING || optdefs[i].kind == K_FACILITY) {
			free(*(char **)f);
			*(char **)f = NULL;
		} else if (optdefs[i].kind == K_LIST) {
			str_list_clear((struct str_list *)f);
		}
	}
	str_list_clear(&o->targets);
}

static const char *source_name(enum kr_source s)
{
	static const char *const names[] = { "default", "config file", "environment", "command line" };

	return names[s];
}

static void print_value(const struct options *o, const struct optdef *d, FILE *out)
{
	const void *f = (const char *)o + d->off;

	switch (d->kind) {
	case K_BOOL: fprintf(out, "%s", *(const bool *)f ? "true" : "false"); break;
	case K_COUNT: fprintf(out, "%d", *(const int *)f); break;
	case K_INT: case K_SIZE: fprintf(out, "%lld", *(const long long *)f); break;
	case K_SECONDS: fprintf(out, "%g", *(const double *)f); break;
	case K_STRING: case K_FACILITY:
		fprintf(out, "%s", *(char *const *)f ? *(char *const *)f : "(unset)");
		break;
	case K_LIST:
		for (size_t i = 0; i < ((const struct str_list *)f)->n; i++)
			fprintf(out, "%s%s", i ? " " : "", ((const struct str_list *)f)->v[i]);
		if (((const struct str_list *)f)->n == 0)
			fprintf(out, "(unset)");
		break;
	case K_STATUSES:
		for (size_t i = 0; i < o->n_expect_status; i++)
			fprintf(out, "%s%d", i ? "," : "", o->expect_status[i]);
		break;
	case K_STRATEGY: fprintf(out, "%s", strategy_name(*(const int *)f)); break;
	case K_METRIC: fprintf(out, "%s", metric_name(*(const int *)f)); break;
	case K_PROBE: fprintf(out, "%s", probe_name(*(const int *)f)); break;
	case K_PRESSURE:
		fprintf(out, "%g/%ds", ((const struct pressure_opt *)f)->pct,
			((const struct pressure_opt *)f)->window);
		break;
	}
}

void options_print(const struct options *o, FILE *out)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (strcmp(optdefs[i].name, "print-config") == 0 || alias_of(optdefs[i].name) != NULL)
			continue;
		fprintf(out, "%-18s ", optdefs[i].name);
		print_value(o, &optdefs[i], out);
		fprintf(out, "  (%s)\n", source_name(o->src[i]));
	}
}
