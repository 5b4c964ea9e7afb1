#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#define PROG "kahua-restarter"

/* Set once from the parsed options before anything is logged. */
static int log_verbosity;
static bool log_syslog;

void log_setup(int verbosity, bool use_syslog, int facility)
{
	log_verbosity = verbosity;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(PROG, LOG_PID, facility);
}

void log_close(void)
{
	if (log_syslog)
		closelog();
}

static void emit(int prio, bool to_stderr, const char *prefix,
		 const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof line, fmt, ap);
	if (to_stderr)
		fprintf(stderr, "%s: %s%s\n", PROG, prefix, line);
	if (log_syslog)
		syslog(prio, "%s%s", prefix, line);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_ERR, true, "", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_WARNING, true, "warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity <= 0)
		return;
	va_start(ap, fmt);
	emit(LOG_INFO, true, "", fmt, ap);
	va_end(ap);
}

void log_summary(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_NOTICE, false, "", fmt, ap);
	va_end(ap);
}
