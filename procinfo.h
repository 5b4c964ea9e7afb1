/*
 * procinfo.h: what /proc says about a process, and the guarded kill.
 *
 * Memory comes from /proc/PID/status (VmRSS) and /proc/PID/smaps_rollup
 * (Pss), in bytes.  A pid from a supervisor reply is never signalled on
 * trust: proc_guarded_kill first proves it is the worker the reply named.
 */
#ifndef KR_PROCINFO_H
#define KR_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct proc_stat {
	pid_t pid;
	pid_t ppid;
	char state;             /* R S D Z T ... from /proc/PID/stat */
	uid_t uid;              /* real uid from /proc/PID/status */
	long long start_epoch;  /* process start, seconds since the epoch */
};

/* Reads /proc/PID/stat and /proc/PID/status.  -1 with errno ESRCH if gone. */
int proc_stat_read(pid_t pid, struct proc_stat *st);

/* True if the pid exists and is not a zombie. */
bool proc_alive(pid_t pid);

/*
 * A worker's pid as the supervisor lists it: alive, not a zombie, and the
 * child of spvr_pid (not checked when spvr_pid is 0).  false with why set
 * ("pid 1234 gone", "pid 1234 is a zombie", ...) otherwise; pid 0 is the
 * supervisor's #f.
 */
bool proc_worker_alive(pid_t pid, pid_t spvr_pid, char *why, size_t size);

/* VmRSS in bytes; -1 if the process is gone or has no VmRSS line. */
long long proc_rss(pid_t pid);

/* Pss from smaps_rollup in bytes; -1 if unavailable (old kernel, gone). */
long long proc_pss(pid_t pid);

/*
 * Command line as NUL-separated words copied into buf (at most size-1
 * bytes, always NUL-terminated); returns the number of words, -1 if gone.
 * *len receives the bytes used.
 */
int proc_cmdline(pid_t pid, char *buf, size_t size, size_t *len);

/* Children of ppid found by scanning /proc; caller frees *pids. */
int proc_children(pid_t ppid, pid_t **pids, size_t *n);

/*
 * What a worker must be before it is signalled: a child of the supervisor
 * (spvr_pid from run/kahua-spvr.pid), started within start_slack seconds of
 * the :start-time the supervisor reported, and owned by the supervisor's
 * uid.
 */
struct proc_expect {
	pid_t pid;
	pid_t spvr_pid;
	long long start_time;   /* :start-time from ls, epoch seconds */
	long long start_slack;  /* seconds of disagreement tolerated */
};

/*
 * Verify e and only then send sig.  Returns 0 when sent, -1 with err set
 * (KR_UNAVAILABLE) naming the check that failed ("pid 1234: not signalled:
 * its parent is 1 (not the supervisor 999)") when the pid was not
 * signalled, or (KR_OSERR) when kill itself failed.
 */
int proc_verify(const struct proc_expect *e, struct kr_err *err);
int proc_guarded_kill(const struct proc_expect *e, int sig, struct kr_err *err);

/*
 * Signal state from /proc/PID/status.  sigterm_held: SIGTERM is ignored,
 * blocked or pending, i.e. a SIGTERM sent to it has not ended it and will
 * not: the mark of a worker stuck in a restart.
 */
struct proc_sigs {
	bool sigterm_held;
	bool sigterm_ignored;
	bool sigterm_blocked;
	bool sigterm_pending;
};
int proc_signals(pid_t pid, struct proc_sigs *s);

/*
 * The host's memory from /proc/meminfo, in bytes, -1 where a line is
 * missing: MemAvailable (Linux 3.14 and later), swap in use (SwapTotal
 * less SwapFree) and MemTotal.
 */
struct host_mem {
	long long available;
	long long swap_used;
	long long total;
};
/* 0, or -1 with errno when /proc/meminfo cannot be read. */
int proc_meminfo(struct host_mem *m);
/* The same from the file's text (exposed for tests). */
void proc_meminfo_parse(const char *text, struct host_mem *m);

/* Seconds since boot for start times: exposed for tests. */
long long proc_boot_time(void);

#endif
