/*
 * err.h: error records and the one table of exit statuses.
 *
 * Every module reports failure through a struct kr_err: the exit status the
 * failure maps to, and one line "what: why" (without the program name).
 * restarter.c prints the line and exits with the status.  The statuses come
 * from <sysexits.h>; err.c holds the table that --help and the man page
 * describe, so there is one place in the code that defines them.
 */
#ifndef KR_ERR_H
#define KR_ERR_H

#include <stddef.h>

enum kr_status {
	KR_OK = 0,
	KR_HEALTH = 1,          /* restarted (or checked), but a health check failed */
	KR_USAGE = 64,          /* EX_USAGE: bad flags, no site, unknown target */
	KR_DATAERR = 65,        /* EX_DATAERR: unreadable history or input file */
	KR_UNAVAILABLE = 69,    /* EX_UNAVAILABLE: supervisor unreachable or refusing */
	KR_SOFTWARE = 70,       /* EX_SOFTWARE: internal error (out of memory) */
	KR_OSERR = 71,          /* EX_OSERR: a system call failed (fork, pipe, ...) */
	KR_CANTCREAT = 73,      /* EX_CANTCREAT: cannot write a report or history file */
	KR_TEMPFAIL = 75,       /* EX_TEMPFAIL: another run holds the site's lock */
	KR_CONFIG = 78,         /* EX_CONFIG: bad kahua.conf, app-servers or config file */
	KR_SIGNAL_BASE = 128    /* 128 + signal number: stopped by a signal */
};

#define KR_ERR_MSG_MAX 1024

/* What lies behind a KR_UNAVAILABLE, where the caller acts on it. */
enum kr_cause {
	KR_CAUSE_NONE = 0,
	KR_CAUSE_TIMEOUT,       /* no (complete) reply before the deadline */
	KR_CAUSE_REFUSED,       /* the supervisor answered SPVR-ERROR */
	KR_CAUSE_NO_TARGET      /* ... because it knows no such worker or type */
};

struct kr_err {
	int status;             /* one of enum kr_status, KR_OK when unset */
	int cause;              /* enum kr_cause */
	char msg[KR_ERR_MSG_MAX];
};

struct kr_exit_info {
	int status;
	const char *name;       /* short name, e.g. "usage" */
	const char *meaning;    /* one line for --help and the man page */
};

/* The exit status table, terminated by an entry with name == NULL. */
extern const struct kr_exit_info kr_exit_table[];

/* Record a failure; returns -1 so callers can "return kr_fail(...)". */
int kr_fail(struct kr_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__
/* The analyzer does not look into err.c: show it the -1 every caller relies on. */
#define kr_fail(...) (kr_fail(__VA_ARGS__), -1)
#endif

/*
 * Say more about a failure already recorded: like kr_fail, but the
 * arguments may include err->msg itself (it is formatted aside first),
 * and err->cause is kept, so a caller can still tell a timeout apart.
 */
int kr_refail(struct kr_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The table's short name of an exit status ("usage", "signal" for 128+N). */
const char *kr_status_name(int status);

/* Clear an error record. */
void kr_err_clear(struct kr_err *err);

#endif
