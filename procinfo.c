/*
 * procinfo.c: /proc readers and the guarded kill.
 */
#include "procinfo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROC_PATH_MAX 64

static void proc_path(char *buf, size_t size, pid_t pid, const char *file)
{
	snprintf(buf, size, "/proc/%ld/%s", (long)pid, file);
}

/* A process that is gone shows up as a missing /proc entry. */
static int gone_errno(int e)
{
	return e == ENOENT ? ESRCH : e;
}

static FILE *proc_open(pid_t pid, const char *file)
{
	char path[PROC_PATH_MAX];
	FILE *f;

	if (pid <= 0) {
		errno = ESRCH;
		return NULL;
	}
	proc_path(path, sizeof path, pid, file);
	f = fopen(path, "re");
	if (f == NULL)
		errno = gone_errno(errno);
	return f;
}

/*
 * Finds the line of f that starts with key (e.g. "VmRSS:") and parses the
 * first number after it.  0 when found, -1 with errno otherwise.
 */
static int scan_key(FILE *f, const char *key, long long *val)
{
	char *line = NULL;
	size_t cap = 0;
	size_t klen = strlen(key);
	int rc = -1;

	errno = 0;
	while (getline(&line, &cap, f) != -1) {
		char *end;

		if (strncmp(line, key, klen) != 0)
			continue;
		errno = 0;
		*val = strtoll(line + klen, &end, 10);
		if (end == line + klen || errno != 0) {
			errno = EINVAL;
			break;
		}
		rc = 0;
		break;
	}
	if (rc != 0 && errno == 0)
		errno = ferror(f) ? EIO : ENOENT;
	free(line);
	return rc;
}

static int read_key(pid_t pid, const char *file, const char *key,
		long long *val)
{
	FILE *f = proc_open(pid, file);
	int rc, saved;

	if (f == NULL)
		return -1;
	rc = scan_key(f, key, val);
	saved = errno;
	fclose(f);
	errno = saved;
	return rc;
}

static ssize_t read_full(int fd, char *buf, size_t size);

/* "Key:   123 kB" anywhere in text as bytes; -1 without it. */
static long long meminfo_kb(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;
	char *end;
	long long kb;

	while (p != NULL && strncmp(p, key, klen) != 0) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (p == NULL)
		return -1;
	errno = 0;
	kb = strtoll(p + klen, &end, 10);
	if (end == p + klen || errno != 0 || kb < 0 || kb > LLONG_MAX / 1024)
		return -1;
	return kb * 1024;
}

void proc_meminfo_parse(const char *text, struct host_mem *m)
{
	long long total = meminfo_kb(text, "SwapTotal:"), free = meminfo_kb(text, "SwapFree:");

	m->available = meminfo_kb(text, "MemAvailable:");
	m->total = meminfo_kb(text, "MemTotal:");
	m->swap_used = total >= 0 && free >= 0 && free <= total ? total - free : -1;
}

int proc_meminfo(struct host_mem *m)
{
	char buf[16384];
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	m->available = m->swap_used = m->total = -1;
	if (fd < 0)
		return -1;
	n = read_full(fd, buf, sizeof buf - 1);
	e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	buf[n] = '\0';
	proc_meminfo_parse(buf, m);
	return 0;
}

/* Reads the one line of /proc/PID/stat into a malloc'd string. */
static char *read_stat_line(pid_t pid)
{
	FILE *f = proc_open(pid, "stat");
	char *line = NULL;
	size_t cap = 0;
	int saved;

	if (f == NULL)
		return NULL;
	if (getline(&line, &cap, f) == -1) {
		saved = ferror(f) ? gone_errno(errno) : ESRCH;
		free(line);
		fclose(f);
		errno = saved;
		return NULL;
	}
	fclose(f);
	return line;
}

/*
 * Parses the fields after comm.  comm may hold spaces and ')', so the
 * fields start after the last ')' of the line.  Field 3 is the state,
 * field 4 the parent, field 22 the start time in clock ticks since boot.
 */
static int parse_stat(const char *line, char *state, long long *ppid,
		unsigned long long *start_ticks)
{
	const char *p = strrchr(line, ')');
	char *end;
	int field;

	if (p == NULL || p[1] != ' ' || p[2] == '\0')
		return -1;
	p += 2;
	*state = *p++;
	for (field = 4; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (field == 4 || field == 22) {
			errno = 0;
			if (field == 4)
				*ppid = strtoll(p, &end, 10);
			else
				*start_ticks = strtoull(p, &end, 10);
			if (end == p || errno != 0)
				return -1;
			p = end;
			continue;
		}
		p = strchr(p, ' ');
		if (p == NULL)
			return -1;
	}
	return 0;
}

struct stat_fields {
	char state;
	pid_t ppid;
	unsigned long long start_ticks;
};

static int stat_fields(pid_t pid, struct stat_fields *sf)
{
	char *line = read_stat_line(pid);
	long long ppid = 0;
	int rc;

	if (line == NULL)
		return -1;
	rc = parse_stat(line, &sf->state, &ppid, &sf->start_ticks);
	free(line);
	if (rc != 0) {
		errno = EINVAL;
		return -1;
	}
	sf->ppid = (pid_t)ppid;
	return 0;
}

long long proc_boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	long long btime;
	int rc;

	if (f == NULL)
		return -1;
	rc = scan_key(f, "btime ", &btime);
	fclose(f);
	return rc == 0 ? btime : -1;
}

static int start_epoch(unsigned long long ticks, long long *epoch)
{
	long hz = sysconf(_SC_CLK_TCK);
	long long boot = proc_boot_time();

	if (hz <= 0 || boot < 0) {
		errno = EIO;
		return -1;
	}
	*epoch = boot + (long long)(ticks / (unsigned long long)hz);
	return 0;
}

/*
 * A thread id also has a /proc entry and kill() on it signals the whole
 * thread group; only a thread-group leader is a process here.
 */
static int status_ids(pid_t pid, uid_t *uid)
{
	FILE *f = proc_open(pid, "status");
	long long tgid = 0, ruid = 0;
	int rc, saved;

	if (f == NULL)
		return -1;
	/* Uid: comes after Tgid: in the file, so one pass reads both. */
	rc = scan_key(f, "Tgid:", &tgid);
	if (rc == 0)
		rc = scan_key(f, "Uid:", &ruid);
	saved = errno;
	fclose(f);
	if (rc != 0) {
		errno = saved;
		return -1;
	}
	if (tgid != (long long)pid) {
		errno = ESRCH;
		return -1;
	}
	*uid = (uid_t)ruid;
	return 0;
}

int proc_stat_read(pid_t pid, struct proc_stat *st)
{
	struct stat_fields sf;

	if (stat_fields(pid, &sf) != 0)
		return -1;
	st->pid = pid;
	st->ppid = sf.ppid;
	st->state = sf.state;
	if (start_epoch(sf.start_ticks, &st->start_epoch) != 0)
		return -1;
	return status_ids(pid, &st->uid);
}

bool proc_alive(pid_t pid)
{
	struct stat_fields sf;

	if (stat_fields(pid, &sf) != 0)
		return false;
	return sf.state != 'Z' && sf.state != 'X' && sf.state != 'x';
}

bool proc_worker_alive(pid_t pid, pid_t spvr_pid, char *why, size_t size)
{
	struct stat_fields sf;

	if (pid <= 0) {
		snprintf(why, size, "the supervisor lists no pid for it");
		return false;
	}
	if (stat_fields(pid, &sf) != 0) {
		snprintf(why, size, "pid %d gone", (int)pid);
		return false;
	}
	if (sf.state == 'Z' || sf.state == 'X' || sf.state == 'x') {
		snprintf(why, size, "pid %d is a zombie", (int)pid);
		return false;
	}
	/* A pid reused by some other process after the worker died. */
	if (spvr_pid > 0 && sf.ppid != spvr_pid) {
		snprintf(why, size, "pid %d is not a child of the supervisor %d (its parent is %d)",
			 (int)pid, (int)spvr_pid, (int)sf.ppid);
		return false;
	}
	why[0] = '\0';
	return true;
}

long long proc_rss(pid_t pid)
{
	long long kb;

	if (read_key(pid, "status", "VmRSS:", &kb) != 0 || kb < 0)
		return -1;
	return kb * 1024;
}

/* Another user's smaps_rollup needs ptrace access: fail soft with -1. */
long long proc_pss(pid_t pid)
{
	long long kb;

	if (read_key(pid, "smaps_rollup", "Pss:", &kb) != 0 || kb < 0)
		return -1;
	return kb * 1024;
}

static ssize_t read_full(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);

		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int count_words(const char *buf, size_t len)
{
	int words = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] == '\0')
			words++;
	/* A last word cut short by the buffer still counts. */
	if (len > 0 && buf[len - 1] != '\0')
		words++;
	return words;
}

int proc_cmdline(pid_t pid, char *buf, size_t size, size_t *len)
{
	char path[PROC_PATH_MAX];
	ssize_t got;
	int fd, saved;

	if (buf == NULL || size == 0) {
		errno = EINVAL;
		return -1;
	}
	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	proc_path(path, sizeof path, pid, "cmdline");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = gone_errno(errno);
		return -1;
	}
	got = read_full(fd, buf, size - 1);
	saved = errno;
	close(fd);
	if (got < 0) {
		errno = gone_errno(saved);
		return -1;
	}
	buf[got] = '\0';
	if (len != NULL)
		*len = (size_t)got;
	return count_words(buf, (size_t)got);
}

static bool numeric_name(const char *s, pid_t *pid)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v <= 0 || v > INT_MAX)
		return false;
	*pid = (pid_t)v;
	return true;
}

static int push_pid(pid_t **pids, size_t *n, size_t *cap, pid_t pid)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		pid_t *p = realloc(*pids, ncap * sizeof *p);

		if (p == NULL)
			return -1;
		*pids = p;
		*cap = ncap;
	}
	(*pids)[(*n)++] = pid;
	return 0;
}

int proc_children(pid_t ppid, pid_t **pids, size_t *n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t cap = 0;
	int saved;

	*pids = NULL;
	*n = 0;
	if (d == NULL)
		return -1;
	/* errno is reset before each readdir: only readdir's own error counts. */
	for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
		struct stat_fields sf;
		pid_t pid;

		if (!numeric_name(de->d_name, &pid))
			continue;
		/* Processes that exit during the scan are simply not children. */
		if (stat_fields(pid, &sf) != 0 || sf.ppid != ppid)
			continue;
		if (push_pid(pids, n, &cap, pid) != 0)
			goto fail;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	return 0;
fail:
	saved = errno;
	closedir(d);
	free(*pids);
	*pids = NULL;
	*n = 0;
	errno = saved;
	return -1;
}

static int refuse(struct kr_err *err, pid_t pid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct kr_err *err, pid_t pid, const char *fmt, ...)
{
	char why[KR_ERR_MSG_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return kr_fail(err, KR_UNAVAILABLE, "pid %ld: not signalled: %s",
			(long)pid, why);
}

static int verify_pids(const struct proc_expect *e, struct kr_err *err)
{
	if (e->pid <= 0)
		return refuse(err, e->pid, "not a positive pid");
	if (e->pid == 1)
		return refuse(err, e->pid, "pid 1 is init, never a worker");
	if (e->spvr_pid <= 1)
		return refuse(err, e->pid, "the supervisor pid %ld is not valid",
				(long)e->spvr_pid);
	return 0;
}

/* Unsigned arithmetic: start_time comes from a reply and may be anything. */
static bool start_matches(long long actual, long long claimed, long long slack)
{
	unsigned long long diff;

	if (slack < 0)
		slack = 0;
	if (actual >= claimed)
		diff = (unsigned long long)actual - (unsigned long long)claimed;
	else
		diff = (unsigned long long)claimed - (unsigned long long)actual;
	return diff <= (unsigned long long)slack;
}

static int verify_uid(const struct proc_expect *e, const struct proc_stat *st,
		struct kr_err *err)
{
	struct proc_stat spvr;

	if (proc_stat_read(e->spvr_pid, &spvr) != 0)
		return refuse(err, e->pid, "cannot read the supervisor %ld: %s",
				(long)e->spvr_pid, strerror(errno));
	if (st->uid != spvr.uid)
		return refuse(err, e->pid,
				"owned by uid %lu, the supervisor runs as uid %lu",
				(unsigned long)st->uid, (unsigned long)spvr.uid);
	return 0;
}

int proc_verify(const struct proc_expect *e, struct kr_err *err)
{
	struct proc_stat st;

	if (verify_pids(e, err) != 0)
		return -1;
	if (proc_stat_read(e->pid, &st) != 0) {
		if (errno == ESRCH)
			return refuse(err, e->pid, "no such process");
		return refuse(err, e->pid, "cannot read /proc/%ld: %s",
				(long)e->pid, strerror(errno));
	}
	if (st.ppid != e->spvr_pid)
		return refuse(err, e->pid,
				"its parent is %ld (not the supervisor %ld)",
				(long)st.ppid, (long)e->spvr_pid);
	if (!start_matches(st.start_epoch, e->start_time, e->start_slack))
		return refuse(err, e->pid,
				"started at %lld, the supervisor says %lld (more than %lld s apart)",
				st.start_epoch, e->start_time,
				e->start_slack < 0 ? 0 : e->start_slack);
	return verify_uid(e, &st, err);
}

/*
 * Between proc_verify and kill the verified process could exit, and its pid
 * could then be given to a new process.  That needs three things inside the
 * few microseconds between the two calls: the worker exits, its parent (the
 * supervisor, which reaps a worker only once it has exited) reaps it, since
 * a pid is never reused while its zombie exists, and the kernel's pid
 * allocator, which hands out pids in increasing order and wraps only at
 * pid_max, comes round to this exact pid again.  If the supervisor dies
 * instead, the worker is reparented but is still the process we verified.
 * So the signal reaches the verified worker or, at worst, nobody.
 * (pidfd_open + pidfd_send_signal would close even that window, on Linux
 * 5.3 and later.)
 */
int proc_guarded_kill(const struct proc_expect *e, int sig, struct kr_err *err)
{
	if (proc_verify(e, err) != 0)
		return -1;
	if (kill(e->pid, sig) != 0)
		return kr_fail(err, KR_OSERR, "pid %ld: kill signal %d: %s",
				(long)e->pid, sig, strerror(errno));
	return 0;
}

/* One "Sig...:" mask line of /proc/PID/status: hex, bit N-1 for signal N. */
static void take_mask(const char *line, const char *key, unsigned long long *mask)
{
	size_t klen = strlen(key);

	if (strncmp(line, key, klen) == 0)
		*mask |= strtoull(line + klen, NULL, 16);
}

int proc_signals(pid_t pid, struct proc_sigs *s)
{
	const unsigned long long term = 1ULL << (SIGTERM - 1);
	unsigned long long pnd = 0, blk = 0, ign = 0;
	FILE *f = proc_open(pid, "status");
	char *line = NULL;
	size_t cap = 0;

	memset(s, 0, sizeof *s);
	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) != -1) {
		take_mask(line, "SigPnd:", &pnd);
		take_mask(line, "ShdPnd:", &pnd);
		take_mask(line, "SigBlk:", &blk);
		take_mask(line, "SigIgn:", &ign);
	}
	free(line);
	fclose(f);
	s->sigterm_pending = (pnd & term) != 0;
	s->sigterm_blocked = (blk & term) != 0;
	s->sigterm_ignored = (ign & term) != 0;
	s->sigterm_held = s->sigterm_pending || s->sigterm_blocked || s->sigterm_ignored;
	return 0;
}
