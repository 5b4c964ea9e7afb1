#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct kr_exit_info kr_exit_table[] = {
	{ KR_OK, "ok", "success; the selected workers were restarted and the site answers" },
	{ KR_HEALTH, "unhealthy", "a replacement worker or the site failed its health check; the rollout stopped there; or a worker's sweep or census failed; or check --warn-within: the forecast reaches its floor within the window" },
	{ KR_USAGE, "usage", "bad command line, no site given, or a target that matches no running worker" },
	{ KR_DATAERR, "dataerr", "an input file (such as the history file) could not be read" },
	{ KR_UNAVAILABLE, "unavailable", "the supervisor is unreachable, hangs, or refused or failed a command" },
	{ KR_SOFTWARE, "software", "internal error (out of memory)" },
	{ KR_OSERR, "oserr", "a system call failed" },
	{ KR_CANTCREAT, "cantcreat", "a report, metrics or history file could not be written" },
	{ KR_TEMPFAIL, "locked", "another kahua-restarter run holds the site's lock" },
	{ KR_CONFIG, "config", "kahua.conf, app-servers or the JSON config file is missing or malformed, or a setting needs what this host lacks (PSI, a cgroup v2 group)" },
	{ KR_SIGNAL_BASE, "signal", "128 + N: stopped by signal N after leaving every worker type whole" },
	{ 0, NULL, NULL }
};

int (kr_fail)(struct kr_err *err, int status, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->status = status;
	err->cause = KR_CAUSE_NONE;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int kr_refail(struct kr_err *err, int status, const char *fmt, ...)
{
	char msg[KR_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err->status = status;
	memcpy(err->msg, msg, sizeof msg);
	return -1;
}

const char *kr_status_name(int status)
{
	if (status > KR_SIGNAL_BASE)
		return "signal";
	for (const struct kr_exit_info *e = kr_exit_table; e->name != NULL; e++)
		if (e->status == status)
			return e->name;
	return "error";
}

void kr_err_clear(struct kr_err *err)
{
	err->status = KR_OK;
	err->cause = KR_CAUSE_NONE;
	err->msg[0] = '\0';
}
