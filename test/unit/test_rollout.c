/*
 * test_rollout.c: rolling, surge and all against a scripted supervisor.
 *
 * The supervisor is this test process: its workers are real child
 * processes (so /proc says what it says of Kahua's: alive, the
 * supervisor's children, reaped when terminated), and its replies are
 * scripted through the rollout's spvr_ops: errors, a replacement that
 * never shows, one whose application does not load, the restart race.
 * Every test checks the commands the rollout sent, in order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rollout.h"

#define MAX_WORKERS 16
#define LOG_MAX 4096

/* What the scripted supervisor does on its next restart or run. */
enum script {
	SCRIPT_OK,
	SCRIPT_NEVER_SHOWS,     /* restart answers OK, no replacement appears */
	SCRIPT_BROKEN,          /* the replacement registers "ERROR loading module" */
	SCRIPT_RACE,            /* restart fails after terminating: none started */
	SCRIPT_RACE_FIRST,      /* the same, after terminating only the first chosen */
	SCRIPT_REFUSE,          /* run answers SPVR-ERROR */
};

static struct spvr {
	struct worker v[MAX_WORKERS];
	size_t n;
	long next_wno;
	enum script restart_script;
	int restart_script_at;  /* which restart (1, 2, ...) the script hits */
	int restarts;
	enum script run_script;
	long probe_fails_wno;   /* the probe of this worker answers 500 */
	long no_grace_wno;      /* this worker does not take the grace */
	char log[LOG_MAX];      /* the commands, "restart a:1; ls; ..." */
	char dir[64];
	struct kahua_site site;
	volatile sig_atomic_t stop;
	bool kill_gone;         /* the entry leaves ls by itself before a kill (Kahua 1.0) */
	int stop_after_checks;  /* the site check asks to stop after this many */
	int checks;
} S;

static void say(const char *fmt, ...)
{
	size_t used = strlen(S.log);
	va_list ap;

	if (used > 0 && used + 2 < sizeof S.log) {
		memcpy(S.log + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(S.log + used, sizeof S.log - used, fmt, ap);
	va_end(ap);
}

static pid_t spawn(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static struct worker *add_worker(const char *type, enum script how)
{
	struct worker *w = &S.v[S.n++];

	assert_true(S.n <= MAX_WORKERS);
	memset(w, 0, sizeof *w);
	w->wno = S.next_wno++;
	snprintf(w->type, sizeof w->type, "%s", type);
	w->start_time = (long long)time(NULL);
	if (how == SCRIPT_BROKEN) {
		snprintf(w->wid, sizeof w->wid, "ERROR loading module");
		w->state = WORKER_BROKEN;
		return w;
	}
	w->pid = spawn();
	snprintf(w->wid, sizeof w->wid, "w%ld:%d", w->wno, (int)w->pid);
	return w;
}

static void drop(size_t i)
{
	reap(S.v[i].pid);
	memmove(&S.v[i], &S.v[i + 1], (S.n - i - 1) * sizeof S.v[0]);
	S.n--;
}

static int list_copy(struct worker_list *wl)
{
	wl->v = calloc(S.n ? S.n : 1, sizeof *wl->v);
	assert_non_null(wl->v);
	for (size_t i = 0; i < S.n; i++) {
		wl->v[i] = S.v[i];
		if (wl->v[i].state != WORKER_BROKEN)
			wl->v[i].state = WORKER_LIVE;
	}
	wl->n = S.n;
	return 0;
}

static int s_ls(const struct kahua_site *site, long long deadline_ms, struct worker_list *wl,
		struct kr_err *err)
{
	(void)site;
	(void)deadline_ms;
	(void)err;
	return list_copy(wl);
}

static bool matches(const struct worker *w, const char *target)
{
	char quoted[KAHUA_WID_MAX + 4];

	snprintf(quoted, sizeof quoted, "\"%s\"", w->wid);
	return strcmp(target, "*") == 0 || strcmp(target, quoted) == 0 ||
	       strcmp(target, w->type) == 0;
}

static int s_restart(const struct kahua_site *site, const char *target,
		     const struct kahua_wait *wait, const struct worker_list *known,
		     struct kr_err *err)
{
	char types[MAX_WORKERS][KAHUA_NAME_MAX];
	size_t nold = 0;
	enum script how = ++S.restarts == S.restart_script_at ? S.restart_script : SCRIPT_OK;

	(void)site;
	(void)wait;
	(void)known;
	say("restart %s", target);
	/* As Kahua does: each chosen worker is terminated and waited for. */
	for (size_t i = 0; i < S.n;) {
		if (!matches(&S.v[i], target)) {
			i++;
			continue;
		}
		snprintf(types[nold++], KAHUA_NAME_MAX, "%s", S.v[i].type);
		drop(i);
		if (how == SCRIPT_RACE_FIRST)
			break;
	}
	if (how == SCRIPT_RACE || how == SCRIPT_RACE_FIRST) {
		kr_fail(err, KR_UNAVAILABLE, "supervisor: <system-error>: waitpid() failed: No child processes");
		err->cause = KR_CAUSE_REFUSED;
		return -1;
	}
	for (size_t i = 0; i < nold && how != SCRIPT_NEVER_SHOWS; i++)
		add_worker(types[i], how);
	return 0;
}

static int s_run(const struct kahua_site *site, const char *type, long long deadline_ms,
		 struct worker *w, struct kr_err *err)
{
	(void)site;
	(void)deadline_ms;
	say("run %s", type);
	if (S.run_script == SCRIPT_REFUSE) {
		kr_fail(err, KR_UNAVAILABLE, "supervisor: <error>: cannot start %s", type);
		err->cause = KR_CAUSE_REFUSED;
		return -1;
	}
	*w = *add_worker(type, S.run_script);
	return 0;
}

static int s_kill(const struct kahua_site *site, long wno, const struct kahua_wait *wait,
		  struct worker_list *after, struct kr_err *err)
{
	(void)site;
	(void)wait;
	say("kill %ld", wno);
	for (size_t i = 0; i < S.n; i++)
		if (S.v[i].wno == wno) {
			drop(i);
			break;
		}
	if (S.kill_gone) {
		kr_fail(err, KR_UNAVAILABLE, "supervisor refused (kill %ld): no worker number %ld", wno, wno);
		err->cause = KR_CAUSE_NO_TARGET;
		return -1;
	}
	return list_copy(after);
}

static int s_reload(const struct kahua_site *site, long long deadline_ms, struct kr_err *err)
{
	(void)site;
	(void)deadline_ms;
	(void)err;
	say("reload");
	return 0;
}

static int s_probe(const struct kahua_site *site, const struct worker *w, long long deadline_ms,
		   struct kr_err *err)
{
	(void)site;
	(void)deadline_ms;
	say("probe %ld", w->wno);
	if (w->wno == S.probe_fails_wno)
		return kr_fail(err, KR_HEALTH, "worker %s (%s): probe answered Status 500", w->wid,
			       w->type);
	return 0;
}

static void s_eval(const struct kahua_site *site, const struct worker *ws, size_t n,
		   long long deadline_ms, struct eval_result *res)
{
	(void)site;
	(void)deadline_ms;
	for (size_t i = 0; i < n; i++) {
		say("eval %ld", ws[i].wno);
		res[i] = (struct eval_result){ .outcome = EVAL_OK, .conts = 1, .sessions = 1,
					       .heap = 1 << 20 };
		if (ws[i].wno == S.probe_fails_wno)
			res[i] = (struct eval_result){ .outcome = EVAL_NO_ANSWER, .conts = -1,
						       .sessions = -1, .heap = -1,
						       .why = "no answer to eval" };
	}
}

/* Worker S.no_grace_wno does not take it (an older Kahua). */
static void s_grace(const struct kahua_site *site, const struct worker *ws, size_t n,
		    long long ms, long long deadline_ms, struct grace_result *res)
{
	(void)site;
	(void)deadline_ms;
	for (size_t i = 0; i < n; i++) {
		say("grace %ld %lld", ws[i].wno, ms);
		res[i] = (struct grace_result){ .armed = ws[i].wno != S.no_grace_wno };
		if (!res[i].armed)
			snprintf(res[i].why, sizeof res[i].why, "eval answered ERROR: *** no");
	}
}

static const struct spvr_ops scripted = {
	.ls = s_ls, .restart = s_restart, .run = s_run, .kill = s_kill,
	.reload = s_reload, .probe = s_probe, .eval = s_eval, .grace = s_grace,
};

static int site_check(void *ctx, const struct restart_step *s, struct kr_err *err)
{
	(void)ctx;
	(void)err;
	say("check %s", s->new.w.type);
	if (++S.checks == S.stop_after_checks)
		S.stop = SIGTERM;
	return 0;
}

/* ---- fixture ---- */

static struct options opts;
static struct rollout ro;
static struct restart_step steps[MAX_WORKERS];

static int setup(void **state)
{
	(void)state;
	memset(&S, 0, sizeof S);
	S.next_wno = 1;
	S.probe_fails_wno = -1;
	snprintf(S.dir, sizeof S.dir, "/tmp/kr-rollout-XXXXXX");
	if (mkdtemp(S.dir) == NULL)
		return -1;
	S.site.root = S.site.sockdir = S.site.rundir = S.site.logdir = S.dir;
	memset(&opts, 0, sizeof opts);
	opts.timeout = 60;
	opts.ctl_timeout = 5;
	opts.kill_after = 30;
	opts.worker_timeout = 0.5;
	opts.drain_timeout = 0;     /* no sockets here to watch */
	opts.probe = PROBE_EVAL;
	memset(&ro, 0, sizeof ro);
	ro.spvr = &scripted;
	ro.site = &S.site;
	ro.o = &opts;
	ro.spvr_pid = getpid();
	ro.deadline_ms = kr_now_ms() + 60000;
	ro.stop = &S.stop;
	ro.check_site = site_check;
	add_worker("hello", SCRIPT_OK);
	add_worker("hello", SCRIPT_OK);
	add_worker("leaky", SCRIPT_OK);
	return 0;
}

static int teardown(void **state)
{
	char log[sizeof S.dir + 32];

	(void)state;
	while (S.n > 0)
		drop(S.n - 1);
	worker_list_free(&ro.current);
	snprintf(log, sizeof log, "%s/kahua-spvr.log", S.dir);
	unlink(log);
	return rmdir(S.dir);
}

/* Plan every worker the supervisor lists now, in its order. */
static size_t plan_all(void)
{
	assert_int_equal(rollout_refresh(&ro, &(struct kr_err){ 0 }), 0);
	memset(steps, 0, sizeof steps);
	for (size_t i = 0; i < ro.current.n; i++) {
		steps[i].old.w = ro.current.v[i];
		snprintf(steps[i].reason, sizeof steps[i].reason, "all");
	}
	S.log[0] = '\0';
	return ro.current.n;
}

static size_t count_type(const char *type)
{
	size_t n = 0;

	for (size_t i = 0; i < S.n; i++)
		n += strcmp(S.v[i].type, type) == 0 && S.v[i].state != WORKER_BROKEN;
	return n;
}

static bool pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

/* ---- tests ---- */

static void test_rolling_one_worker_at_a_time(void **state)
{
	size_t n = plan_all(), done = 0;
	pid_t old[3];
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ROLLING;
	for (size_t i = 0; i < n; i++)
		old[i] = steps[i].old.w.pid;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_int_equal(done, 3);
	/* Each restart is followed by its replacement's probe and the site check. */
	assert_non_null(strstr(S.log, "restart \"w1:"));
	assert_non_null(strstr(S.log, "eval 4; check hello; restart \"w2:"));
	assert_non_null(strstr(S.log, "eval 5; check hello; restart \"w3:"));
	assert_non_null(strstr(S.log, "eval 6; check leaky"));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(steps[i].result, STEP_OK);
		assert_true(steps[i].have_new);
		assert_int_equal(steps[i].new.w.wno, (long)(4 + i));
		assert_false(pid_alive(old[i]));
		assert_true(pid_alive(steps[i].new.w.pid));
	}
	assert_int_equal(count_type("hello"), 2);
	assert_int_equal(count_type("leaky"), 1);
}

static void test_surge_starts_before_it_kills(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_SURGE;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_int_equal(done, 3);
	assert_non_null(strstr(S.log, "run hello; eval 4; kill 1; check hello; run hello; eval 5; kill 2"));
	assert_non_null(strstr(S.log, "run leaky; eval 6; kill 3; check leaky"));
	assert_null(strstr(S.log, "restart"));
	assert_int_equal(count_type("hello"), 2);
	assert_int_equal(count_type("leaky"), 1);
}

static void test_all_sends_one_restart(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ALL;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_int_equal(done, 3);
	assert_int_equal(S.restarts, 1);
	assert_true(strncmp(S.log, "restart *", 9) == 0);
	/* The all strategy leaves the site check to its caller, once at the end. */
	assert_null(strstr(S.log, "check"));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(steps[i].result, STEP_OK);
}

/* --term-grace: just before each command that terminates a worker, that worker is armed. */
static void test_grace_before_each_termination(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.term_grace = 0.25;
	S.no_grace_wno = 2;
	opts.strategy = STRATEGY_ROLLING;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_int_equal(done, 3);
	assert_non_null(strstr(S.log, "grace 1 250; restart \"w1:"));
	assert_non_null(strstr(S.log, "check hello; grace 2 250; restart \"w2:"));
	assert_non_null(strstr(S.log, "check hello; grace 3 250; restart \"w3:"));

	n = plan_all();
	opts.strategy = STRATEGY_SURGE;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_non_null(strstr(S.log, "run hello; eval 7; grace 4 250; kill 4; check hello"));

	n = plan_all();
	opts.strategy = STRATEGY_ALL;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_true(strncmp(S.log, "grace 7 250; grace 8 250; grace 9 250; restart *", 48) == 0);

	n = plan_all();
	assert_int_equal(rollout_run(&ro, steps, 2, &done, &err), 0);
	assert_true(strncmp(S.log, "grace 10 250; restart \"w10:", 27) == 0);
	assert_non_null(strstr(S.log, "; grace 11 250; restart \"w11:"));

	/* Off (0), or with --no-eval: nothing asked. */
	n = plan_all();
	opts.term_grace = 0;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_null(strstr(S.log, "grace"));
	plan_all();
	opts.term_grace = 0.25;
	opts.no_eval = true;
	assert_int_equal(rollout_run(&ro, steps, 1, &done, &err), 0);
	assert_null(strstr(S.log, "grace"));
	assert_int_equal(count_type("hello"), 2);
	assert_int_equal(count_type("leaky"), 1);
}

static void test_all_of_some_restarts_each(void **state)
{
	size_t done = 0;
	struct kr_err err = { 0 };

	(void)state;
	plan_all();
	opts.strategy = STRATEGY_ALL;
	assert_int_equal(rollout_run(&ro, steps, 2, &done, &err), 0);
	assert_int_equal(done, 2);
	assert_int_equal(S.restarts, 2);
	assert_null(strstr(S.log, "restart *"));
}

static void test_stops_at_first_unhealthy_replacement(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };
	pid_t third = steps[2].old.w.pid;

	(void)state;
	opts.strategy = STRATEGY_ROLLING;
	S.probe_fails_wno = 5;      /* the second replacement does not answer */
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), -1);
	assert_int_equal(err.status, KR_HEALTH);
	assert_int_equal(done, 1);
	assert_int_equal(steps[0].result, STEP_OK);
	assert_int_equal(steps[1].result, STEP_FAILED);
	assert_int_equal(steps[2].result, STEP_PLANNED);
	assert_non_null(strstr(steps[1].why, "no answer to eval"));
	/* The third worker was never touched and still serves. */
	assert_true(pid_alive(third));
	assert_int_equal(S.restarts, 2);
	assert_int_equal(count_type("leaky"), 1);
}

static void test_signal_between_workers(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ROLLING;
	S.stop_after_checks = 1;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), -1);
	assert_int_equal(err.status, KR_SIGNAL_BASE + SIGTERM);
	assert_int_equal(done, 1);
	assert_int_equal(S.restarts, 1);
	assert_int_equal(steps[1].result, STEP_ABANDONED);
	assert_int_equal(steps[2].result, STEP_ABANDONED);
	assert_int_equal(count_type("hello"), 2);
}

static void test_replacement_never_shows(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ROLLING;
	S.restart_script = SCRIPT_NEVER_SHOWS;
	S.restart_script_at = 1;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), -1);
	assert_int_equal(err.status, KR_HEALTH);
	assert_int_equal(done, 0);
	assert_non_null(strstr(err.msg, "no replacement in ls within 0.5s (1 of 2 hello workers running)"));
	assert_int_equal(steps[1].result, STEP_PLANNED);
	assert_int_equal(S.restarts, 1);
}

static void write_log(const char *text)
{
	char path[sizeof S.dir + 32];
	FILE *f;

	snprintf(path, sizeof path, "%s/kahua-spvr.log", S.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_broken_replacement_removed_and_quoted(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ROLLING;
	S.restart_script = SCRIPT_BROKEN;
	S.restart_script_at = 1;
	write_log("2026 Dec 01 06:00:00 kahua-spvr.scm[1]: [spvr] running /usr/bin/gosh: pid 99999\n"
		  "2026 Dec 01 06:00:00 kahua-server.scm[99999]: [server]: Failed to load modules.\n"
		  "2026 Dec 01 06:00:00 kahua-server.scm[99999]: *** READ-ERROR: Read error at \"hello.kahua\":line 13: EOF inside a list\n"
		  "2026 Dec 01 06:00:00 kahua-spvr.scm[1]: [worker] run: hello(4 - ERROR loading module)\n");
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), -1);
	assert_int_equal(err.status, KR_HEALTH);
	assert_int_equal(done, 0);
	/* Removed by number at once, so it never serves a 500; the type is one short. */
	assert_non_null(strstr(S.log, "kill 4"));
	assert_non_null(strstr(err.msg, "hello is one short (1 of 2 workers)"));
	assert_non_null(strstr(err.msg, "*** READ-ERROR: Read error at \"hello.kahua\":line 13"));
	for (size_t i = 0; i < S.n; i++)
		assert_int_not_equal(S.v[i].state, WORKER_BROKEN);
	assert_int_equal(count_type("leaky"), 1);
	assert_int_equal(steps[1].result, STEP_PLANNED);
}

/* Kahua 1.0 drops a dead entry by itself: a kill that finds it gone did its work. */
static void test_broken_replacement_gone_before_its_kill(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ROLLING;
	S.restart_script = SCRIPT_BROKEN;
	S.restart_script_at = 1;
	S.kill_gone = true;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), -1);
	assert_int_equal(err.status, KR_HEALTH);
	assert_non_null(strstr(S.log, "kill 4"));
	assert_non_null(strstr(err.msg, "removed it"));
	assert_null(strstr(err.msg, "could not remove"));
	assert_non_null(strstr(err.msg, "hello is one short (1 of 2 workers)"));
}

static void test_restart_race_recovered_with_run(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ROLLING;
	S.restart_script = SCRIPT_RACE;
	S.restart_script_at = 2;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_int_equal(done, 3);
	assert_non_null(strstr(S.log, "restart \"w2:"));
	assert_non_null(strstr(S.log, "run hello; eval 5"));
	assert_int_equal(steps[1].result, STEP_OK);
	assert_string_equal(steps[1].recovered, "waitpid race: replacement started with (run hello)");
	assert_string_equal(steps[0].recovered, "");
	assert_int_equal(count_type("hello"), 2);
	assert_int_equal(count_type("leaky"), 1);
}

static void test_restart_race_and_run_refused(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ROLLING;
	S.restart_script = SCRIPT_RACE;
	S.restart_script_at = 1;
	S.run_script = SCRIPT_REFUSE;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), -1);
	assert_int_equal(err.status, KR_HEALTH);
	assert_non_null(strstr(err.msg, "hello now has 1 of 2 workers"));
	assert_int_equal(steps[1].result, STEP_PLANNED);
	assert_string_equal(steps[0].recovered, "");
}

static void test_all_race_recovered_with_run(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ALL;
	S.restart_script = SCRIPT_RACE;
	S.restart_script_at = 1;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_int_equal(done, 3);
	assert_non_null(strstr(S.log, "restart *; run hello; run hello; run leaky"));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(steps[i].result, STEP_OK);
	assert_int_equal(count_type("hello"), 2);
	assert_int_equal(count_type("leaky"), 1);
}

static void test_all_race_before_reaching_every_worker(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };
	pid_t second = steps[1].old.w.pid, third = steps[2].old.w.pid;

	(void)state;
	opts.strategy = STRATEGY_ALL;
	S.restart_script = SCRIPT_RACE_FIRST;
	S.restart_script_at = 1;
	/* The workers (restart *) did not reach are restarted one by one. */
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), 0);
	assert_int_equal(done, 3);
	assert_non_null(strstr(S.log, "restart *; run hello"));
	assert_non_null(strstr(S.log, "restart \"w2:"));
	assert_non_null(strstr(S.log, "restart \"w3:"));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(steps[i].result, STEP_OK);
	assert_string_equal(steps[0].recovered, "waitpid race: replacement started with (run hello)");
	assert_string_equal(steps[1].recovered,
			    "waitpid race: (restart *) stopped before this worker; restarted it on its own");
	assert_false(pid_alive(second));
	assert_false(pid_alive(third));
	assert_int_equal(count_type("hello"), 2);
	assert_int_equal(count_type("leaky"), 1);
}

static void test_surge_failed_new_worker_loses_nothing(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };
	pid_t first = steps[0].old.w.pid;

	(void)state;
	opts.strategy = STRATEGY_SURGE;
	S.probe_fails_wno = 4;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), -1);
	assert_int_equal(err.status, KR_HEALTH);
	assert_non_null(strstr(S.log, "run hello; eval 4; kill 4"));
	assert_null(strstr(S.log, "kill 1"));
	assert_true(pid_alive(first));
	assert_int_equal(count_type("hello"), 2);
}

static void test_time_limit_sends_no_restart(void **state)
{
	size_t n = plan_all(), done = 0;
	struct kr_err err = { 0 };

	(void)state;
	opts.strategy = STRATEGY_ROLLING;
	ro.deadline_ms = kr_now_ms() - 1;
	assert_int_equal(rollout_run(&ro, steps, n, &done, &err), -1);
	assert_int_equal(err.status, KR_UNAVAILABLE);
	assert_int_equal(err.cause, KR_CAUSE_TIMEOUT);
	assert_int_equal(S.restarts, 0);
	assert_int_equal(steps[0].result, STEP_ABANDONED);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rolling_one_worker_at_a_time),
		T(test_surge_starts_before_it_kills),
		T(test_all_sends_one_restart),
		T(test_grace_before_each_termination),
		T(test_all_of_some_restarts_each),
		T(test_stops_at_first_unhealthy_replacement),
		T(test_signal_between_workers),
		T(test_replacement_never_shows),
		T(test_broken_replacement_removed_and_quoted),
		T(test_broken_replacement_gone_before_its_kill),
		T(test_restart_race_recovered_with_run),
		T(test_restart_race_and_run_refused),
		T(test_all_race_recovered_with_run),
		T(test_all_race_before_reaching_every_worker),
		T(test_surge_failed_new_worker_loses_nothing),
		T(test_time_limit_sends_no_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
