/*
 * log.h: the one place that prints diagnostics.
 *
 * Errors go to stderr as "kahua-restarter: what: why" (cron mails them),
 * narration goes to stderr only with -v, and with --syslog both also go to
 * syslog.  Modules call these and never write to stderr themselves.
 */
#ifndef KR_LOG_H
#define KR_LOG_H

#include <stdbool.h>

void log_setup(int verbosity, bool use_syslog, int facility);
void log_close(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Narration: printed with -v, sent to syslog at LOG_INFO with --syslog -v. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The cron contract (DESIGN.md section 12): standard error is for a person
 * who must act or know; what the program put right by itself is recorded
 * (-v, the JSON report, the history, the metrics), not printed.  Every
 * event of a run that is not its one error line is one of these, and
 * log_event alone decides where it goes.
 */
enum kr_event {
	EV_RECOVERED,           /* Kahua's waitpid race, fully put right by the program */
	EV_WORKER_GONE,         /* a worker died on its own or is broken: healed or not */
	EV_TYPE_SHORT,          /* a type below its :run-by-default */
	EV_KILLED,              /* a worker ignored SIGTERM and got SIGKILL */
	EV_NOT_CHECKED,         /* something the run should have checked, it could not */
	EV_NOT_WRITTEN,         /* the history or the metrics file */
	EV_FORECAST,            /* memory would run out within check --warn-within */
	EV_COUNT
};

/* True when ev is for a person (stderr, so cron mails it); false: record only. */
bool log_event_for_person(enum kr_event ev);

/* A warning when ev is for a person, else a -v line; syslog either way as its level says. */
void log_event(enum kr_event ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One summary line per run: syslog only (LOG_NOTICE), never stderr. */
void log_summary(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
