/*
 * test_procinfo.c: procinfo against real child processes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "procinfo.h"

#define MIB (1024LL * 1024LL)
/*
 * The big kid touches TOUCH_BYTES and must show BIG_BYTES more than a fresh
 * kid: VmRSS comes from the kernel's per-CPU counters, which can lag the
 * truth by several hundred kB right after the touching.
 */
#define BIG_BYTES (20 * MIB)
#define TOUCH_BYTES (24 * MIB)
#define NOBODY_UID 65534
#define MAX_KIDS 16

enum kid_kind {
	KID_PAUSE,      /* waits in pause(); SIGTERM kills it */
	KID_WITNESS,    /* reports SIGTERM as 'T' and SIGRTMIN as 'R' on its pipe */
	KID_NOBODY,     /* a witness running as uid 65534 */
	KID_BIG,        /* touches TOUCH_BYTES of heap first */
	KID_EXIT        /* exits at once */
};

struct kid {
	pid_t pid;
	int fd;         /* read end of the kid's pipe */
};

/* Pids still to reap, so a failed test does not leak children. */
static pid_t live[MAX_KIDS];

/* Child side only. */
static int witness_fd = -1;
static void *volatile sink;

static void live_add(pid_t pid)
{
	for (int i = 0; i < MAX_KIDS; i++) {
		if (live[i] == 0) {
			live[i] = pid;
			return;
		}
	}
	fail_msg("too many children");
}

static void live_del(pid_t pid)
{
	for (int i = 0; i < MAX_KIDS; i++)
		if (live[i] == pid)
			live[i] = 0;
}

static void on_signal(int sig)
{
	char c = sig == SIGTERM ? 'T' : 'R';

	if (write(witness_fd, &c, 1) != 1)
		_exit(3);
}

static void become_witness(int fd)
{
	struct sigaction sa;

	witness_fd = fd;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGRTMIN, &sa, NULL) != 0)
		_exit(2);
}

static void touch_heap(void)
{
	char *p = malloc((size_t)TOUCH_BYTES);

	if (p == NULL)
		_exit(2);
	memset(p, 0x5a, (size_t)TOUCH_BYTES);
	sink = p;
}

static void kid_main(enum kid_kind kind, int fd)
{
	char ready = 'A';

	if (kind == KID_NOBODY && setuid(NOBODY_UID) != 0)
		_exit(2);
	if (kind == KID_WITNESS || kind == KID_NOBODY)
		become_witness(fd);
	if (kind == KID_BIG)
		touch_heap();
	if (write(fd, &ready, 1) != 1)
		_exit(2);
	if (kind == KID_EXIT)
		_exit(0);
	for (;;)
		pause();
}

static struct kid kid_start_named(enum kid_kind kind, const char *name)
{
	struct kid k;
	int p[2];
	char c = 0;

	assert_int_equal(pipe(p), 0);
	k.pid = fork();
	assert_true(k.pid >= 0);
	if (k.pid == 0) {
		close(p[0]);
		if (name != NULL && prctl(PR_SET_NAME, name, 0, 0, 0) != 0)
			_exit(2);
		kid_main(kind, p[1]);
		_exit(0);
	}
	live_add(k.pid);
	close(p[1]);
	k.fd = p[0];
	assert_int_equal(read(k.fd, &c, 1), 1);
	assert_int_equal(c, 'A');
	return k;
}

static struct kid kid_start(enum kid_kind kind)
{
	return kid_start_named(kind, NULL);
}

static int reap(pid_t pid)
{
	int status = 0;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	live_del(pid);
	return status;
}

static void kid_stop(struct kid *k)
{
	kill(k->pid, SIGKILL);
	reap(k->pid);
	close(k->fd);
}

/* Waits until the kid has exited, without reaping it. */
static void wait_zombie(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(si.si_pid, pid);
}

/* A pid that belonged to a child now reaped. */
static pid_t dead_pid(void)
{
	struct kid k = kid_start(KID_PAUSE);

	kid_stop(&k);
	return k.pid;
}

static int teardown_kids(void **state)
{
	(void)state;
	for (int i = 0; i < MAX_KIDS; i++) {
		if (live[i] != 0) {
			kill(live[i], SIGKILL);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
	}
	return 0;
}

static void assert_near_now(long long epoch)
{
	long long now = (long long)time(NULL);

	assert_true(epoch >= now - 2);
	assert_true(epoch <= now + 1);
}

/* ---- proc_stat_read ---- */

static void test_stat_child(void **state)
{
	struct kid k = kid_start(KID_PAUSE);
	struct proc_stat st;

	(void)state;
	assert_int_equal(proc_stat_read(k.pid, &st), 0);
	assert_int_equal(st.pid, k.pid);
	assert_int_equal(st.ppid, getpid());
	assert_int_equal(st.uid, getuid());
	assert_true(st.state == 'S' || st.state == 'R');
	assert_near_now(st.start_epoch);
	kid_stop(&k);
}

static void test_stat_gone(void **state)
{
	pid_t pid = dead_pid();
	struct proc_stat st;

	(void)state;
	errno = 0;
	assert_int_equal(proc_stat_read(pid, &st), -1);
	assert_int_equal(errno, ESRCH);
	errno = 0;
	assert_int_equal(proc_stat_read(0, &st), -1);
	assert_int_equal(errno, ESRCH);
	errno = 0;
	assert_int_equal(proc_stat_read(-5, &st), -1);
	assert_int_equal(errno, ESRCH);
}

static void read_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	close(fd);
}

/* Polls until the kid reaches state want (it may still be on its way to pause). */
static char wait_state(pid_t pid, char want)
{
	struct proc_stat st = { 0 };
	const struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 300; i++) {
		assert_int_equal(proc_stat_read(pid, &st), 0);
		if (st.state == want)
			break;
		nanosleep(&tick, NULL);
	}
	return st.state;
}

/* A name that fools a parser cutting at the first ')' into state R, ppid 1. */
static void test_stat_tricky_comm(void **state)
{
	static const char *const names[] = { ") R 1 1 1 1", "a) b", "x (y) z)" };
	char comm[32], want[32];

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct kid k = kid_start_named(KID_PAUSE, names[i]);
		struct proc_stat st;

		read_comm(k.pid, comm, sizeof comm);
		snprintf(want, sizeof want, "%s\n", names[i]);
		assert_string_equal(comm, want);
		assert_int_equal(proc_stat_read(k.pid, &st), 0);
		assert_int_equal(st.ppid, getpid());
		assert_int_equal(wait_state(k.pid, 'S'), 'S');
		assert_int_equal(st.uid, getuid());
		assert_near_now(st.start_epoch);
		kid_stop(&k);
	}
}

static double read_uptime(void)
{
	FILE *f = fopen("/proc/uptime", "r");
	double up = -1;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lf", &up), 1);
	fclose(f);
	return up;
}

static void test_boot_time(void **state)
{
	long long boot = proc_boot_time();
	long long now = (long long)time(NULL);
	long long from_uptime = now - (long long)read_uptime();
	struct proc_stat st;

	(void)state;
	assert_true(boot > 0);
	assert_true(boot <= now);
	assert_true(llabs(boot - from_uptime) <= 2);
	assert_int_equal(proc_stat_read(getpid(), &st), 0);
	assert_true(st.start_epoch >= boot);
	assert_true(st.start_epoch <= now);
}

/* ---- liveness ---- */

static void test_alive_until_killed(void **state)
{
	struct kid k = kid_start(KID_PAUSE);
	struct proc_stat st;

	(void)state;
	assert_true(proc_alive(k.pid));
	assert_int_equal(kill(k.pid, SIGKILL), 0);
	wait_zombie(k.pid);
	assert_false(proc_alive(k.pid));
	reap(k.pid);
	close(k.fd);
	assert_false(proc_alive(k.pid));
	assert_int_equal(proc_stat_read(k.pid, &st), -1);
}

static void test_zombie_not_alive(void **state)
{
	struct kid k = kid_start(KID_EXIT);
	struct proc_stat st;

	(void)state;
	wait_zombie(k.pid);
	assert_int_equal(proc_stat_read(k.pid, &st), 0);
	assert_int_equal(st.state, 'Z');
	assert_int_equal(st.ppid, getpid());
	assert_false(proc_alive(k.pid));
	assert_int_equal(proc_rss(k.pid), -1);
	assert_int_equal(reap(k.pid), 0);
	close(k.fd);
	assert_false(proc_alive(k.pid));
	assert_false(proc_alive(0));
	assert_false(proc_alive(-5));
}

/* ---- memory ---- */

static bool has_rollup(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
	return access(path, F_OK) == 0;
}

static void test_rss_grows(void **state)
{
	struct kid small = kid_start(KID_PAUSE);
	struct kid big = kid_start(KID_BIG);
	long long rs = proc_rss(small.pid), rb = proc_rss(big.pid);

	(void)state;
	assert_true(rs > 0);
	assert_true(rb >= rs + BIG_BYTES);
	assert_int_equal(rs % 1024, 0);
	kid_stop(&small);
	kid_stop(&big);
	assert_int_equal(proc_rss(big.pid), -1);
}

static void test_pss(void **state)
{
	struct kid small = kid_start(KID_PAUSE);
	struct kid big = kid_start(KID_BIG);
	long long ps = proc_pss(small.pid), pb = proc_pss(big.pid);

	(void)state;
	if (has_rollup(big.pid)) {
		assert_true(ps >= 0);
		assert_true(pb >= BIG_BYTES);
		assert_true(pb >= ps + BIG_BYTES);
		assert_true(proc_pss(getpid()) > 0);
	} else {
		assert_int_equal(ps, -1);
		assert_int_equal(pb, -1);
	}
	kid_stop(&small);
	kid_stop(&big);
	assert_int_equal(proc_pss(big.pid), -1);
	assert_int_equal(proc_pss(0), -1);
}

/* ---- command line ---- */

static pid_t spawn_sleep(void)
{
	int p[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[1], F_SETFD, FD_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		c = 'E';
		if (write(p[1], &c, 1) != 1)
			_exit(126);
		_exit(127);
	}
	live_add(pid);
	close(p[1]);
	/* End of file: the write end closed on a successful exec. */
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	return pid;
}

static void test_cmdline(void **state)
{
	pid_t pid = spawn_sleep();
	char buf[64];
	size_t len = 0;

	(void)state;
	assert_int_equal(proc_cmdline(pid, buf, sizeof buf, &len), 2);
	assert_int_equal(len, 9);
	assert_memory_equal(buf, "sleep\0" "30", 9);

	assert_int_equal(proc_cmdline(pid, buf, 4, &len), 1);
	assert_int_equal(len, 3);
	assert_string_equal(buf, "sle");

	assert_int_equal(proc_cmdline(pid, buf, 8, &len), 2);
	assert_int_equal(len, 7);
	assert_string_equal(buf + 6, "3");

	kill(pid, SIGKILL);
	reap(pid);
	errno = 0;
	assert_int_equal(proc_cmdline(pid, buf, sizeof buf, &len), -1);
	assert_int_equal(errno, ESRCH);
}

/* ---- children ---- */

static bool has_pid(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

static void test_children(void **state)
{
	struct kid k[3];
	pid_t *pids = NULL;
	size_t n = 99;

	(void)state;
	for (int i = 0; i < 3; i++)
		k[i] = kid_start(KID_PAUSE);
	assert_int_equal(proc_children(getpid(), &pids, &n), 0);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++)
		assert_true(has_pid(pids, n, k[i].pid));
	free(pids);

	kid_stop(&k[1]);
	assert_int_equal(proc_children(getpid(), &pids, &n), 0);
	assert_int_equal(n, 2);
	assert_false(has_pid(pids, n, k[1].pid));
	free(pids);

	assert_int_equal(proc_children(k[0].pid, &pids, &n), 0);
	assert_int_equal(n, 0);
	free(pids);
	kid_stop(&k[0]);
	kid_stop(&k[2]);
}

/* ---- verify and guarded kill ---- */

static struct proc_expect expect_for(pid_t pid, long long started)
{
	struct proc_expect e = { pid, getpid(), started, 2 };

	return e;
}

static void assert_refused(const struct proc_expect *e, const char *want)
{
	struct kr_err err;

	kr_err_clear(&err);
	assert_int_equal(proc_verify(e, &err), -1);
	assert_int_equal(err.status, KR_UNAVAILABLE);
	assert_string_equal(err.msg, want);
}

static void test_verify_true_facts(void **state)
{
	long long t0 = (long long)time(NULL);
	struct kid k = kid_start(KID_PAUSE);
	struct proc_expect e = expect_for(k.pid, t0);
	struct kr_err err;

	(void)state;
	kr_err_clear(&err);
	assert_int_equal(proc_verify(&e, &err), 0);
	assert_int_equal(err.status, KR_OK);
	kid_stop(&k);
}

static void test_verify_wrong_parent(void **state)
{
	long long t0 = (long long)time(NULL);
	struct kid k = kid_start(KID_PAUSE);
	struct kid other = kid_start(KID_PAUSE);
	struct proc_expect e = expect_for(k.pid, t0);
	char want[KR_ERR_MSG_MAX];

	(void)state;
	e.spvr_pid = other.pid;
	snprintf(want, sizeof want,
			"pid %d: not signalled: its parent is %d (not the supervisor %d)",
			(int)k.pid, (int)getpid(), (int)other.pid);
	assert_refused(&e, want);
	kid_stop(&k);
	kid_stop(&other);
}

static void test_verify_start_time(void **state)
{
	long long t0 = (long long)time(NULL);
	struct kid k = kid_start(KID_PAUSE);
	struct proc_expect e = expect_for(k.pid, t0 - 1000);
	struct kr_err err;
	char head[128], tail[128];

	(void)state;
	kr_err_clear(&err);
	assert_int_equal(proc_verify(&e, &err), -1);
	assert_int_equal(err.status, KR_UNAVAILABLE);
	snprintf(head, sizeof head, "pid %d: not signalled: started at ", (int)k.pid);
	snprintf(tail, sizeof tail, ", the supervisor says %lld (more than 2 s apart)",
			t0 - 1000);
	assert_int_equal(strncmp(err.msg, head, strlen(head)), 0);
	assert_non_null(strstr(err.msg, tail));

	/* Within the slack either way passes; a huge claimed value does not. */
	e.start_time = t0 + 1;
	assert_int_equal(proc_verify(&e, &err), 0);
	e.start_time = -9223372036854775807LL - 1;
	assert_int_equal(proc_verify(&e, &err), -1);
	e.start_time = 9223372036854775807LL;
	e.start_slack = 9223372036854775807LL;
	assert_int_equal(proc_verify(&e, &err), 0);
	kid_stop(&k);
}

static void test_verify_bad_pids(void **state)
{
	struct proc_expect e = expect_for(0, (long long)time(NULL));
	char want[KR_ERR_MSG_MAX];
	pid_t gone = dead_pid();

	(void)state;
	assert_refused(&e, "pid 0: not signalled: not a positive pid");
	e.pid = -5;
	assert_refused(&e, "pid -5: not signalled: not a positive pid");
	e.pid = -1;
	assert_refused(&e, "pid -1: not signalled: not a positive pid");
	e.pid = 1;
	assert_refused(&e, "pid 1: not signalled: pid 1 is init, never a worker");
	e.pid = gone;
	snprintf(want, sizeof want, "pid %d: not signalled: no such process", (int)gone);
	assert_refused(&e, want);
}

static void test_verify_bad_supervisor(void **state)
{
	struct kid k = kid_start(KID_PAUSE);
	struct proc_expect e = expect_for(k.pid, (long long)time(NULL));
	char want[KR_ERR_MSG_MAX];

	(void)state;
	e.spvr_pid = 0;
	snprintf(want, sizeof want,
			"pid %d: not signalled: the supervisor pid 0 is not valid", (int)k.pid);
	assert_refused(&e, want);
	e.spvr_pid = -1;
	snprintf(want, sizeof want,
			"pid %d: not signalled: the supervisor pid -1 is not valid", (int)k.pid);
	assert_refused(&e, want);
	kid_stop(&k);
}

static void test_verify_uid(void **state)
{
	long long t0 = (long long)time(NULL);
	struct kid k;
	struct proc_expect e;
	char want[KR_ERR_MSG_MAX];

	(void)state;
	if (geteuid() != 0)
		skip();
	k = kid_start(KID_NOBODY);
	e = expect_for(k.pid, t0);
	snprintf(want, sizeof want,
			"pid %d: not signalled: owned by uid %d, the supervisor runs as uid %d",
			(int)k.pid, NOBODY_UID, (int)getuid());
	assert_refused(&e, want);
	kid_stop(&k);
}

struct parked {
	int ready[2];   /* the thread writes its id here */
	int hold[2];    /* it waits for end of file here */
};

static void *park(void *arg)
{
	struct parked *pk = arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char c;

	if (write(pk->ready[1], &tid, sizeof tid) != (ssize_t)sizeof tid)
		return NULL;
	while (read(pk->hold[0], &c, 1) == 1)
		;
	return NULL;
}

/* A thread id has a /proc entry, but it is not a process to signal. */
static void test_verify_thread_id(void **state)
{
	struct parked pk;
	pthread_t t;
	struct proc_stat st;
	pid_t tid = 0;

	(void)state;
	assert_int_equal(pipe(pk.ready), 0);
	assert_int_equal(pipe(pk.hold), 0);
	assert_int_equal(pthread_create(&t, NULL, park, &pk), 0);
	assert_int_equal(read(pk.ready[0], &tid, sizeof tid), (ssize_t)sizeof tid);
	assert_true(tid > 0 && tid != getpid());
	errno = 0;
	assert_int_equal(proc_stat_read(tid, &st), -1);
	assert_int_equal(errno, ESRCH);
	/* Parent, start time and uid of the thread all match: only the id is wrong. */
	if (getppid() > 1) {
		struct proc_expect e = { tid, getppid(), (long long)time(NULL), 1000000 };
		char want[KR_ERR_MSG_MAX];

		snprintf(want, sizeof want, "pid %d: not signalled: no such process", (int)tid);
		assert_refused(&e, want);
	}
	close(pk.hold[1]);
	assert_int_equal(pthread_join(t, NULL), 0);
	close(pk.hold[0]);
	close(pk.ready[0]);
	close(pk.ready[1]);
}

static void test_guarded_kill_delivers(void **state)
{
	long long t0 = (long long)time(NULL);
	struct kid k = kid_start(KID_PAUSE);
	struct proc_expect e = expect_for(k.pid, t0);
	struct kr_err err;
	int status;

	(void)state;
	kr_err_clear(&err);
	assert_int_equal(proc_guarded_kill(&e, SIGTERM, &err), 0);
	status = reap(k.pid);
	close(k.fd);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
}

/*
 * Proves the kid got no SIGTERM: a SIGTERM sent before would be delivered
 * before the SIGRTMIN sent now (lower-numbered standard signals first).
 */
static void assert_not_signalled(const struct kid *k)
{
	struct pollfd pfd = { k->fd, POLLIN, 0 };
	char c = 0;

	assert_int_equal(waitpid(k->pid, NULL, WNOHANG), 0);
	assert_true(proc_alive(k->pid));
	assert_int_equal(kill(k->pid, SIGRTMIN), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(k->fd, &c, 1), 1);
	assert_int_equal(c, 'R');
}

static void assert_kill_refused(const struct proc_expect *e, const struct kid *k)
{
	struct kr_err err;

	kr_err_clear(&err);
	assert_int_equal(proc_guarded_kill(e, SIGTERM, &err), -1);
	assert_int_equal(err.status, KR_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "not signalled"));
	assert_not_signalled(k);
}

static void test_guarded_kill_refuses(void **state)
{
	long long t0 = (long long)time(NULL);
	struct kid k = kid_start(KID_WITNESS);
	struct kid other = kid_start(KID_PAUSE);
	struct proc_expect e = expect_for(k.pid, t0);

	(void)state;
	e.spvr_pid = other.pid;
	assert_kill_refused(&e, &k);
	e = expect_for(k.pid, t0 - 1000);
	assert_kill_refused(&e, &k);
	e = expect_for(k.pid, t0 + 1000);
	assert_kill_refused(&e, &k);

	/* The same witness does report a SIGTERM that is really sent. */
	e = expect_for(k.pid, t0);
	assert_int_equal(proc_guarded_kill(&e, SIGTERM, NULL), 0);
	{
		char c = 0;

		assert_int_equal(read(k.fd, &c, 1), 1);
		assert_int_equal(c, 'T');
	}
	kid_stop(&k);
	kid_stop(&other);
}

static void test_guarded_kill_refuses_uid(void **state)
{
	long long t0 = (long long)time(NULL);
	struct kid k;
	struct proc_expect e;

	(void)state;
	if (geteuid() != 0)
		skip();
	k = kid_start(KID_NOBODY);
	e = expect_for(k.pid, t0);
	assert_kill_refused(&e, &k);
	kid_stop(&k);
}

/* Signal 0 sent to pid 0, 1 or -5 would succeed: -1 proves nothing was sent. */
static void test_guarded_kill_bad_pids(void **state)
{
	struct proc_expect e = expect_for(0, (long long)time(NULL));
	const pid_t bad[] = { 0, 1, -1, -5, dead_pid() };
	struct kr_err err;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.pid = bad[i];
		kr_err_clear(&err);
		assert_int_equal(proc_guarded_kill(&e, 0, &err), -1);
		assert_int_equal(err.status, KR_UNAVAILABLE);
	}
}

static void test_guarded_kill_oserr(void **state)
{
	long long t0 = (long long)time(NULL);
	struct kid k = kid_start(KID_PAUSE);
	struct proc_expect e = expect_for(k.pid, t0);
	struct kr_err err;
	char want[KR_ERR_MSG_MAX];

	(void)state;
	kr_err_clear(&err);
	assert_int_equal(proc_guarded_kill(&e, 9999, &err), -1);
	assert_int_equal(err.status, KR_OSERR);
	snprintf(want, sizeof want, "pid %d: kill signal 9999: %s", (int)k.pid,
			strerror(EINVAL));
	assert_string_equal(err.msg, want);
	assert_true(proc_alive(k.pid));
	kid_stop(&k);
}

/* A child that handles SIGTERM per how (0 default, 1 ignore, 2 block). */
static pid_t sig_kid(int how, int *ready_fd)
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sigset_t set;

		if (how == 1)
			signal(SIGTERM, SIG_IGN);
		if (how == 2) {
			sigemptyset(&set);
			sigaddset(&set, SIGTERM);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
		if (write(fds[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	*ready_fd = fds[0];
	return pid;
}

static void reap_kill(pid_t pid, int fd)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
}

static void test_signals_sigterm_held(void **state)
{
	struct proc_sigs s;
	char c;
	int fd;
	pid_t pid;

	(void)state;
	pid = sig_kid(0, &fd);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(proc_signals(pid, &s), 0);
	assert_false(s.sigterm_held);
	reap_kill(pid, fd);

	pid = sig_kid(1, &fd);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(proc_signals(pid, &s), 0);
	assert_true(s.sigterm_ignored && s.sigterm_held);
	reap_kill(pid, fd);

	pid = sig_kid(2, &fd);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(proc_signals(pid, &s), 0);
	assert_true(s.sigterm_blocked && !s.sigterm_pending);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(proc_signals(pid, &s), 0);
	assert_true(s.sigterm_pending && s.sigterm_held);
	assert_true(proc_alive(pid));
	reap_kill(pid, fd);

	assert_int_equal(proc_signals(pid, &s), -1);
}

/* The host's memory as /proc/meminfo gives it, and the real file. */
static void test_meminfo(void **state)
{
	struct host_mem m;
	static const char text[] =
		"MemTotal:        4030088 kB\nMemFree:          215500 kB\n"
		"MemAvailable:    2510004 kB\nBuffers:           81280 kB\n"
		"SwapCached:            0 kB\nSwapTotal:       1048572 kB\n"
		"SwapFree:         786428 kB\n";

	(void)state;
	proc_meminfo_parse(text, &m);
	assert_true(m.available == 2510004LL * 1024);
	assert_true(m.swap_used == (1048572LL - 786428) * 1024);
	/* Old kernels have no MemAvailable; a host without swap uses none. */
	proc_meminfo_parse("MemTotal: 100 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n", &m);
	assert_true(m.available == -1 && m.swap_used == 0);
	proc_meminfo_parse("MemAvailable: x kB\nSwapTotal: 5 kB\nSwapFree: 9 kB\n", &m);
	assert_true(m.available == -1 && m.swap_used == -1);
	proc_meminfo_parse("XMemAvailable: 5 kB\nMemAvailable: 99999999999999999999 kB\n", &m);
	assert_true(m.available == -1);
	proc_meminfo_parse("", &m);
	assert_true(m.available == -1 && m.swap_used == -1);
	assert_int_equal(proc_meminfo(&m), 0);
	assert_true(m.available > 0 && m.swap_used >= 0);
}

/* What an ls entry's pid says: live only as the supervisor's own live child. */
static void test_worker_alive(void **state)
{
	struct kid k = kid_start(KID_PAUSE);
	char why[160];

	(void)state;
	assert_true(proc_worker_alive(k.pid, getpid(), why, sizeof why));
	assert_string_equal(why, "");
	assert_true(proc_worker_alive(k.pid, 0, why, sizeof why));
	assert_false(proc_worker_alive(k.pid, getppid(), why, sizeof why));
	assert_non_null(strstr(why, "is not a child of the supervisor"));
	assert_int_equal(kill(k.pid, SIGKILL), 0);
	wait_zombie(k.pid);
	assert_false(proc_worker_alive(k.pid, getpid(), why, sizeof why));
	assert_non_null(strstr(why, "is a zombie"));
	reap(k.pid);
	close(k.fd);
	assert_false(proc_worker_alive(k.pid, getpid(), why, sizeof why));
	assert_non_null(strstr(why, "gone"));
	assert_false(proc_worker_alive(0, getpid(), why, sizeof why));
	assert_string_equal(why, "the supervisor lists no pid for it");
}

#define T(f) cmocka_unit_test_teardown(f, teardown_kids)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_stat_child),
		T(test_stat_gone),
		T(test_stat_tricky_comm),
		T(test_boot_time),
		T(test_alive_until_killed),
		T(test_zombie_not_alive),
		T(test_worker_alive),
		T(test_rss_grows),
		T(test_pss),
		T(test_cmdline),
		T(test_children),
		T(test_verify_true_facts),
		T(test_verify_wrong_parent),
		T(test_verify_start_time),
		T(test_verify_bad_pids),
		T(test_verify_bad_supervisor),
		T(test_verify_uid),
		T(test_guarded_kill_delivers),
		T(test_guarded_kill_refuses),
		T(test_guarded_kill_refuses_uid),
		T(test_guarded_kill_bad_pids),
		T(test_guarded_kill_oserr),
		T(test_signals_sigterm_held),
		T(test_meminfo),
		/* Last: children forked after it would inherit glibc's cached thread
		 * stack, which valgrind reports in them as possibly lost. */
		T(test_verify_thread_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
