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

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity <= 0)
		return;
	va_start(ap, fmt);
	emit(LOG_INFO, true, "", fmt, ap);
	va_end(ap);
}

bool log_event_for_person(enum kr_event ev)
{
	/* Only a recovery that left the site as it should be is quiet. */
	static const bool for_person[EV_COUNT] = {
		[EV_RECOVERED] = false,
		[EV_WORKER_GONE] = true,
		[EV_TYPE_SHORT] = true,
		[EV_KILLED] = true,
		[EV_NOT_CHECKED] = true,
		[EV_NOT_WRITTEN] = true,
		[EV_FORECAST] = true,
	};

	return ev >= 0 && ev < EV_COUNT ? for_person[ev] : true;
}

void log_event(enum kr_event ev, const char *fmt, ...)
{
	va_list ap;
	bool person = log_event_for_person(ev);

	if (!person && log_verbosity <= 0)
		return;
	va_start(ap, fmt);
	if (person)
		emit(LOG_WARNING, true, "warning: ", fmt, ap);
	else
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
