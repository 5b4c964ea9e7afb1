/*
 * options.h: every setting of a run, and where each came from.
 *
 * One table describes each option once: its flag, its environment
 * variable (KAHUA_RESTARTER_<NAME>, and OT_SITE for the site), its key in
 * the JSON config file, its type, default and help line.  Sources are
 * layered: built-in defaults, then the config file, then the environment,
 * then the command line.
 */
#ifndef KR_OPTIONS_H
#define KR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum kr_command { CMD_RESTART, CMD_STATUS, CMD_CHECK, CMD_HISTORY, CMD_CENSUS, CMD_SWEEP };
enum kr_strategy { STRATEGY_ROLLING, STRATEGY_SURGE, STRATEGY_ALL };
enum kr_metric { METRIC_RSS, METRIC_PSS };
enum kr_probe { PROBE_EVAL, PROBE_HTTP };
enum kr_source { SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_CMDLINE };

#define OPT_MAX_STATUSES 16
#define OPT_MAX_SETTINGS 64
/* The youngest age a sweep may discard: younger continuations are a reader's open page. */
#define OPT_SWEEP_MIN_S 60
#define OPT_TERM_GRACE_MAX_MS 10000

struct str_list {
	char **v;
	size_t n;
};

/* --when-memory-pressure-above PCT[/WINDOW] */
struct pressure_opt {
	double pct;             /* percent of PSI "some"; 0: no gate */
	int window;             /* seconds averaged over: 10, 60 or 300 */
};

struct options {
	enum kr_command command;
	struct str_list targets;        /* restart targets; empty means "*" */

	char *site;
	char *config;
	bool print_config;

	int strategy;                   /* enum kr_strategy */
	double timeout;                 /* seconds for the whole run */
	double ctl_timeout;             /* connect and each control reply */
	double kill_after;              /* a restart stuck this long: SIGKILL */
	double worker_timeout;          /* replacement visible and answering */
	double drain_timeout;           /* longest wait for a worker to go idle */
	double term_grace;              /* a terminated worker serves this long after SIGTERM; 0: off */

	struct str_list urls;
	int expect_status[OPT_MAX_STATUSES];
	size_t n_expect_status;
	char *expect_body;
	double http_timeout;
	long long retries;
	double retry_delay;
	bool follow_redirects;
	bool no_http_check;
	int probe;                      /* enum kr_probe */
	bool no_eval;                   /* never send an eval to a worker */

	long long min_rss;              /* bytes; 0: no memory threshold */
	double max_age;                 /* seconds; 0: no age threshold */
	int memory;                     /* enum kr_metric */
	long long max_restarts;         /* 0: no limit */
	long long max_conts;            /* continuations; 0: no threshold */
	double sweep_conts;             /* seconds; 0: no sweep */
	double sweep_sessions;          /* seconds; 0: state sessions not swept */
	bool no_top_up;
	long long when_available_below; /* bytes of MemAvailable; 0: no gate */
	long long when_swap_above;      /* bytes of swap in use; 0: no gate */
	struct pressure_opt when_pressure;
	char *pressure_cgroup;          /* cgroup v2 group for the pressure gate; NULL: host */
	long long forecast_floor;       /* bytes of MemAvailable; 0: 10% of MemTotal */
	double warn_within;             /* check: forecast shorter than this exits 1; 0: off */

	double splay;
	double wait_lock;
	bool dry_run;

	int verbose;
	bool json;
	char *history;
	bool no_history;
	long long history_max_size;     /* bytes; 0: no limit */
	char *prom;
	bool syslog;
	char *facility;
	double since;                   /* history: seconds back; 0: all */
	char *svg;                      /* history: write the chart here ("-": stdout) */

	unsigned char src[OPT_MAX_SETTINGS]; /* enum kr_source of each setting */
};

/*
 * Parse argv, the environment and the config file into o.  Returns 0, 1
 * when --help or --version was printed (exit 0), or -1 with err set
 * (KR_USAGE for the command line, KR_CONFIG for the config file).
 */
int options_load(struct options *o, int argc, char **argv, struct kr_err *err);
void options_free(struct options *o);

/*
 * Reset o to the defaults, then apply text as the JSON config file at
 * path would be (for fuzzing and tests).  o must hold no allocations;
 * free it with options_free either way.  0, or -1 with err (KR_CONFIG).
 */
int options_from_json(struct options *o, const char *path, const char *text,
		      struct kr_err *err);

/* --print-config: every setting, its value and where it came from. */
void options_print(const struct options *o, FILE *out);

/* Parsers shared with the config file, exposed for tests. */
int parse_seconds(const char *s, double *out);
int parse_size(const char *s, long long *out);
int parse_facility(const char *s, int *out);
int parse_pressure(const char *s, struct pressure_opt *out);

const char *strategy_name(int s);
const char *metric_name(int m);
const char *probe_name(int p);
const char *command_name(enum kr_command c);

#endif
