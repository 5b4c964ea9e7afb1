/*
 * kahua_log.h: why a worker did not come up, from the supervisor's log.
 *
 * Kahua's workers and supervisor share <log-directory>/kahua-spvr.log,
 * each line prefixed "YEAR Mon DD HH:MM:SS PROGRAM[PID]: ".  A worker
 * whose application does not load logs the cause as a "*** " line
 * (e.g. "*** READ-ERROR: Read error at ...: EOF inside a list") and
 * prints "ERROR loading module" instead of its id; the supervisor logs
 * "[spvr] running ...: pid N" before it and "[worker] run: TYPE(WNO -
 * ID)" after it.  Only the log's tail is read, never the whole file: the
 * log grows without bound and the line looked for was just written.
 */
#ifndef KR_KAHUA_LOG_H
#define KR_KAHUA_LOG_H

#include <stddef.h>
#include <sys/types.h>

#include "kahua_ctl.h"

#define KAHUA_LOG_TAIL (64 * 1024)      /* bytes read from the log's end */

/* <log-directory>/kahua-spvr.log; caller frees. */
char *kahua_log_path(const struct kahua_site *site);

/*
 * The "*** " line a failed worker logged: the worker's pid if known, else
 * the one the supervisor ran as worker number wno of type.  0 with cause
 * set (the line from "***" on), or -1 with cause saying why there is none.
 */
int kahua_log_cause(const struct kahua_site *site, pid_t pid, const char *type, long wno,
		    char *cause, size_t size);

/*
 * Where the cause went when kahua-spvr.log does not have it.  Kahua
 * before 2013 leaves a worker's load error on the worker's standard
 * error, which is the supervisor's: the console it was started from, or
 * <log-directory>/spvr-console.log when it was started with its output
 * there (as the test kit's start.sh does).  The last "*** " line of that
 * file's tail, if the file was written since the epoch second since, as
 * "PATH: *** ...": 0; or -1 with cause saying where it went.
 */
#define KAHUA_CONSOLE_LOG "spvr-console.log"
int kahua_console_cause(const struct kahua_site *site, long long since, char *cause, size_t size);

/* The same in a buffer holding the log's tail (exposed for tests). */
int kahua_log_cause_in(const char *tail, size_t len, pid_t pid, const char *type, long wno,
		       char *cause, size_t size);

#endif
