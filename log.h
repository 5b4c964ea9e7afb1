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
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Narration: printed with -v, sent to syslog at LOG_INFO with --syslog -v. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One summary line per run: syslog only (LOG_NOTICE), never stderr. */
void log_summary(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
