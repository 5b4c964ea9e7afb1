/*
 * workers.c: the supervisor's worker table, starting workers (fork+exec
 * of this binary in worker role), stopping them, and reaping children.
 *
 * All forks happen in one long-lived "spawner" thread: PR_SET_PDEATHSIG
 * fires when the *thread* that forked a child exits, so forking from the
 * short-lived connection threads would kill workers as soon as the
 * command that started them had been answered.
 *
 * s->ws keeps Kahua's order of workers (a replacement takes the place of
 * the worker it replaces; new ones go at the end); "ls" sorts by number.
 *
 * Like Kahua with :auto-restart #f, an entry outlives its process: a
 * worker that dies stays listed (W_DEAD, :worker-pid #f once reaped) and
 * keeps getting requests, and a worker that prints something other than
 * an id ("ERROR loading module") or nothing at all (#<eof>) is registered
 * under what it printed.  Only kill (or restart) removes such an entry.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct spawn_req {
	char **argv;
	int out_fd, keep_fd;
	pid_t *pid;
	int err;
	bool done;
	struct spawn_req *next;
};

void workers_init(struct spvr *s)
{
	/*
	 * Children run this very binary.  Exec'ing /proc/self/fd/N of a
	 * descriptor opened now (rather than /proc/self/exe itself) keeps
	 * working when the file is replaced meanwhile, and under valgrind,
	 * whose own binary /proc/self/exe would name.
	 */
	int fd = open(SIM_EXE, O_RDONLY | O_CLOEXEC);

	/* Above fd 3, which the HTTP front's listening socket takes. */
	s->exe_fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 10) : -1;
	if (fd >= 0)
		close(fd);
	s->exe = s->exe_fd >= 0 ? xasprintf("/proc/self/fd/%d", s->exe_fd) :
		 xstrdup(SIM_EXE);
	if (pthread_mutex_init(&s->cmd_mu, NULL) != 0 ||
	    pthread_mutex_init(&s->mu, NULL) != 0 ||
	    pthread_cond_init(&s->cv, NULL) != 0)
		die("pthread", "cannot initialise locks");
	/* Addresses Gauche would print for the three hash tables. */
	s->addr_wtype = 0x7f0000000000ULL | (rand_u64() & 0xfffffffff0ULL);
	s->addr_wno = s->addr_wtype - 0xf0;
	s->addr_wid = s->addr_wtype - 0xa0;
}

/* ------------------------------------------------------------- spawning */

static int move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/* Close every descriptor from `from` on, except keep. */
static void close_from(unsigned from, int keep)
{
	if (keep >= 0 && (unsigned)keep >= from) {
		if ((unsigned)keep > from)
			close_range(from, (unsigned)keep - 1, 0);
		from = (unsigned)keep + 1;
	}
	close_range(from, ~0U, 0);
}

/* In the child: only async-signal-safe calls until execv. */
static _Noreturn void child_exec(const struct spvr *s, const struct spawn_req *r,
				 pid_t parent)
{
	sigset_t none;
	struct sigaction sa;

	sigemptyset(&none);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0 ||
	    sigaction(SIGPIPE, &sa, NULL) != 0)
		_exit(127);
	/* No stray processes: die with the supervisor, even on SIGKILL. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127);
	if (r->out_fd >= 0 && move_fd(r->out_fd, 1) != 0)
		_exit(127);
	if (r->keep_fd >= 0 && move_fd(r->keep_fd, 3) != 0)
		_exit(127);
	/* Nothing else crosses exec, not even descriptors our own caller
	 * leaked to us without FD_CLOEXEC (ENOSYS on old kernels: ours are
	 * all close-on-exec anyway). */
	close_from(r->keep_fd >= 0 ? 4 : 3, s->exe_fd);
	execv(s->exe, r->argv);
	_exit(127);
}

/* Called with s->mu held, so the reaper cannot miss the new pid. */
static void fork_exec(const struct spvr *s, struct spawn_req *r)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0)
		child_exec(s, r, parent);
	if (pid < 0) {
		r->err = errno;
		return;
	}
	*r->pid = pid;
}

static void *spawner_main(void *arg)
{
	struct spvr *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->spawn_q == NULL)
			pthread_cond_wait(&s->cv, &s->mu);
		struct spawn_req *r = s->spawn_q;

		s->spawn_q = r->next;
		if (s->stopping)
			r->err = ECANCELED;
		else
			fork_exec(s, r);
		r->done = true;
		pthread_cond_broadcast(&s->cv);
	}
	return NULL;
}

int spawner_start(struct spvr *s)
{
	pthread_t t;
	int rc = pthread_create(&t, NULL, spawner_main, s);

	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

int spawn_child(struct spvr *s, char **argv, int out_fd, int keep_fd, pid_t *pid)
{
	struct spawn_req r = { argv, out_fd, keep_fd, pid, 0, false, NULL };
	struct spawn_req **tail;

	pthread_mutex_lock(&s->mu);
	for (tail = &s->spawn_q; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = &r;
	pthread_cond_broadcast(&s->cv);
	while (!r.done)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (r.err != 0) {
		errno = r.err;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the table */

static void ws_insert(struct spvr *s, size_t at, struct worker *w)
{
	if (s->nws == s->capws) {
		s->capws = s->capws ? s->capws * 2 : 16;
		s->ws = xrealloc(s->ws, s->capws * sizeof *s->ws);
	}
	if (at > s->nws)
		at = s->nws;
	memmove(s->ws + at + 1, s->ws + at, (s->nws - at) * sizeof *s->ws);
	s->ws[at] = w;
	s->nws++;
}

static size_t ws_index(struct spvr *s, const struct worker *w)
{
	for (size_t i = 0; i < s->nws; i++)
		if (s->ws[i] == w)
			return i;
	return (size_t)-1;
}

static void ws_remove(struct spvr *s, const struct worker *w)
{
	size_t i = ws_index(s, w);

	if (i == (size_t)-1)
		return;
	memmove(s->ws + i, s->ws + i + 1, (s->nws - i - 1) * sizeof *s->ws);
	s->nws--;
}

static struct worker *find_running(struct spvr *s, long wno)
{
	for (size_t i = 0; i < s->nws; i++)
		if (s->ws[i]->state == W_RUNNING && s->ws[i]->wno == wno)
			return s->ws[i];
	return NULL;
}

/* An entry ls shows: running, or dead and still listed. */
static bool listed(const struct worker *w)
{
	return w->state == W_RUNNING || w->state == W_DEAD;
}

static struct worker *find_listed(struct spvr *s, long wno)
{
	for (size_t i = 0; i < s->nws; i++)
		if (listed(s->ws[i]) && s->ws[i]->wno == wno)
			return s->ws[i];
	return NULL;
}

static void worker_free(struct worker *w)
{
	free(w->type);
	strv_free(w->args, w->nargs);
	free(w);
}

static void info_of(const struct worker *w, struct winfo *i)
{
	memset(i, 0, sizeof *i);
	snprintf(i->wid, sizeof i->wid, "%s", w->wid);
	snprintf(i->type, sizeof i->type, "%s", w->type);
	i->no_id = w->no_id;
	i->wno = w->wno;
	/* Gauche's process-pid is #f once the process has been waited for. */
	i->pid = w->reaped ? 0 : w->pid;
	i->start_time = w->start_time;
}

void winfo_write(struct sx_buf *b, const struct winfo *w)
{
	xbuf_printf_check(sx_buf_printf(b, "(:worker-id "));
	if (w->no_id)
		xbuf_printf_check(sx_buf_printf(b, "#<eof>"));
	else
		xbuf_printf_check(sx_write_string(b, w->wid, strlen(w->wid)));
	xbuf_printf_check(sx_buf_printf(b, " :worker-count %ld :worker-type %s :worker-pid ",
					w->wno, w->type));
	if (w->pid > 0)
		xbuf_printf_check(sx_buf_printf(b, "%ld", (long)w->pid));
	else
		xbuf_printf_check(sx_buf_printf(b, "#f"));
	xbuf_printf_check(sx_buf_printf(b, " :start-time %lld)", w->start_time));
}

bool worker_info(struct spvr *s, long wno, struct winfo *out)
{
	struct worker *w;

	pthread_mutex_lock(&s->mu);
	w = find_listed(s, wno);
	if (w != NULL)
		info_of(w, out);
	pthread_mutex_unlock(&s->mu);
	return w != NULL;
}

static int cmp_wno(const void *a, const void *b)
{
	const struct winfo *x = a, *y = b;

	return (x->wno > y->wno) - (x->wno < y->wno);
}

size_t workers_list(struct spvr *s, bool sorted, struct winfo **out)
{
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	*out = xmalloc((s->nws + 1) * sizeof **out);
	for (size_t i = 0; i < s->nws; i++)
		if (listed(s->ws[i]))
			info_of(s->ws[i], &(*out)[n++]);
	pthread_mutex_unlock(&s->mu);
	if (sorted)
		qsort(*out, n, sizeof **out, cmp_wno);
	return n;
}

/* ------------------------------------------------------------- starting */

static char **worker_argv(struct spvr *s, const struct worker *w, bool later)
{
	const struct faults *f = &s->opt.faults;
	char **v = xmalloc((w->nargs + 20) * sizeof *v);
	size_t n = 0;

	v[n++] = xstrdup("kahua-sim");
	v[n++] = xstrdup(SIM_WORKER_SCRIPT);
	v[n++] = xstrdup("-S");
	v[n++] = xstrdup(s->site.root);
	v[n++] = xstrdup("--sockdir");
	v[n++] = xstrdup(s->sd.path);
	v[n++] = xstrdup("--worker-delay");
	v[n++] = xasprintf("%ld", s->opt.worker_delay_ms);
	v[n++] = xstrdup("--request-ms");
	v[n++] = xasprintf("%ld", s->opt.request_ms);
	if (later && f->slow_start_ms >= 0) {
		v[n++] = xstrdup("--slow-start");
		v[n++] = xasprintf("%ld", f->slow_start_ms);
	}
	if (f->ignore_term)
		v[n++] = xstrdup("--ignore-term");
	if (later && f->die_at_start)
		v[n++] = xstrdup("--die-at-start");
	for (size_t i = 0; i < w->nargs; i++)
		v[n++] = xstrdup(w->args[i]);
	v[n++] = xasprintf("%s/%s.kahua", w->type, w->type);
	v[n] = NULL;
	return v;
}

static void argv_free(char **v)
{
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/*
 * The worker's one line on stdout, read as Kahua's read-line does, with no
 * time limit: 0 with the line (an id, or whatever the worker printed
 * instead), 1 at EOF before any byte (Kahua registers #<eof>).
 */
static int read_id(int fd, char *id, size_t size)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, id + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			id[n] = '\0';
			return n == 0 ? 1 : 0;
		}
		if (id[n] == '\n')
			break;
		if (n < size - 1)
			n++;
	}
	id[n] = '\0';
	return 0;
}

/* After the spawn: the line it printed names the new entry, whatever it is. */
static int await_id(struct spvr *s, struct worker *w, int fd, struct winfo *info)
{
	char id[SIM_WID_MAX];
	int got = read_id(fd, id, sizeof id);

	close(fd);
	pthread_mutex_lock(&s->mu);
	snprintf(w->wid, sizeof w->wid, "%s", got == 0 ? id : "");
	w->no_id = got != 0;
	w->state = w->reaped ? W_DEAD : W_RUNNING;
	info_of(w, info);
	/* The reply is written before the supervisor reaps anything. */
	info->pid = w->pid;
	pthread_mutex_unlock(&s->mu);
	/* From here the reaper may free w at any time: use the copy. */
	log_msg("[worker] run: %s(%ld - %s)", info->type, info->wno,
		info->no_id ? "#<eof>" : info->wid);
	return 0;
}

int worker_start(struct spvr *s, const char *type, char *const *args,
		 size_t nargs, size_t slot, struct winfo *info)
{
	struct worker *w = xmalloc(sizeof *w);
	char **argv;
	int p[2], rc;

	memset(w, 0, sizeof *w);
	w->type = xstrdup(type);
	w->args = strv_dup(args, nargs);
	w->nargs = nargs;
	w->state = W_STARTING;
	w->start_time = (long long)time(NULL);
	if (pipe2(p, O_CLOEXEC) != 0) {
		worker_free(w);
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	argv = worker_argv(s, w, s->initial_done);
	w->wno = s->next_wno++;
	ws_insert(s, slot, w);
	pthread_mutex_unlock(&s->mu);
	rc = spawn_child(s, argv, p[1], -1, &w->pid);
	int e = errno;

	if (rc == 0)
		log_msg("[spvr] running %s: pid %ld", s->exe, (long)w->pid);

	close(p[1]);
	argv_free(argv);
	if (rc == 0)
		return await_id(s, w, p[0], info);
	close(p[0]);
	pthread_mutex_lock(&s->mu);
	ws_remove(s, w);
	pthread_mutex_unlock(&s->mu);
	worker_free(w);
	errno = e;
	return -1;
}

/* ------------------------------------------------------------- stopping */

size_t worker_stop(struct spvr *s, long wno)
{
	struct worker *w;
	size_t at;

	pthread_mutex_lock(&s->mu);
	w = find_listed(s, wno);
	if (w == NULL) {
		pthread_mutex_unlock(&s->mu);
		return (size_t)-1;
	}
	/* Taken for one being terminated: Kahua does nothing and keeps it. */
	if (w->stuck) {
		at = ws_index(s, w);
		pthread_mutex_unlock(&s->mu);
		return at;
	}
	w->state = W_STOPPING;
	if (!w->reaped && kill(w->pid, SIGTERM) != 0)
		log_msg("kill %ld: %s", (long)w->pid, strerror(errno));
	/* Kahua waits for the exit with no time limit: so do we. */
	while (!w->reaped)
		pthread_cond_wait(&s->cv, &s->mu);
	at = ws_index(s, w);
	ws_remove(s, w);
	pthread_mutex_unlock(&s->mu);
	log_msg("worker %s stopped: %s (wno %ld, pid %ld)", w->type, w->wid,
		w->wno, (long)w->pid);
	worker_free(w);
	return at;
}

bool worker_kill_race(struct spvr *s, long wno)
{
	struct worker *w;
	bool lost;

	pthread_mutex_lock(&s->mu);
	w = find_listed(s, wno);
	lost = w != NULL && w->reaped && !w->stuck;
	if (lost)
		w->stuck = true;
	pthread_mutex_unlock(&s->mu);
	if (lost)
		log_msg("fault kill-race: worker %ld: kill failed: No such process", wno);
	return lost;
}

int worker_restart(struct spvr *s, long wno, struct winfo *info)
{
	struct worker *w;
	char *type;
	char **args;
	size_t nargs, at;
	int rc;

	pthread_mutex_lock(&s->mu);
	w = find_listed(s, wno);
	if (w == NULL) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	type = xstrdup(w->type);
	args = strv_dup(w->args, w->nargs);
	nargs = w->nargs;
	pthread_mutex_unlock(&s->mu);
	at = worker_stop(s, wno);
	rc = worker_start(s, type, args, nargs, at, info) == 0 ? 0 : 1;
	free(type);
	strv_free(args, nargs);
	return rc;
}

void worker_lose_highest(struct spvr *s)
{
	struct worker *top = NULL;
	long wno;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nws; i++)
		if (s->ws[i]->state == W_RUNNING && (top == NULL || s->ws[i]->wno > top->wno))
			top = s->ws[i];
	if (top != NULL) {
		wno = top->wno;
		log_msg("fault lose-worker: killing %s (wno %ld)", top->wid, wno);
		if (kill(top->pid, SIGKILL) != 0)
			log_msg("kill %ld: %s", (long)top->pid, strerror(errno));
		while (find_running(s, wno) != NULL)
			pthread_cond_wait(&s->cv, &s->mu);
	}
	pthread_mutex_unlock(&s->mu);
}

/* -------------------------------------------------------------- reaping */

struct auto_restart {
	struct spvr *s;
	char *type;
	char **args;
	size_t nargs;
};

static void *auto_restart_main(void *arg)
{
	struct auto_restart *a = arg;
	struct winfo info;
	bool stopping;

	pthread_mutex_lock(&a->s->cmd_mu);
	pthread_mutex_lock(&a->s->mu);
	stopping = a->s->stopping;
	pthread_mutex_unlock(&a->s->mu);
	if (!stopping && worker_start(a->s, a->type, a->args, a->nargs,
				      (size_t)-1, &info) != 0)
		log_msg("auto-restart of a %s worker failed", a->type);
	pthread_mutex_unlock(&a->s->cmd_mu);
	free(a->type);
	strv_free(a->args, a->nargs);
	free(a);
	return NULL;
}

static void auto_restart(struct spvr *s, const struct worker *w)
{
	struct auto_restart *a = xmalloc(sizeof *a);
	pthread_attr_t attr;
	pthread_t t;

	a->s = s;
	a->type = xstrdup(w->type);
	a->args = strv_dup(w->args, w->nargs);
	a->nargs = w->nargs;
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
	    pthread_create(&t, &attr, auto_restart_main, a) != 0) {
		log_msg("auto-restart of a %s worker: cannot create a thread", w->type);
		free(a->type);
		strv_free(a->args, a->nargs);
		free(a);
	}
	pthread_attr_destroy(&attr);
}

/* Called with s->mu held. */
static void worker_exited(struct spvr *s, struct worker *w, int status)
{
	w->reaped = true;
	w->status = status;
	/* A worker that exits on SIGTERM removes its socket; one that was
	 * killed (or ignored SIGTERM until SIGKILL) leaves it to us. */
	if (w->wid[0] != '\0' && unlinkat(s->sd.fd, w->wid, 0) != 0 && errno != ENOENT)
		log_msg("unlink %s/%s: %s", s->sd.path, w->wid, strerror(errno));
	if (w->state != W_RUNNING)
		return;         /* its stopper or starter handles the rest */
	log_msg("worker %s %s: %s (wno %ld, pid %ld, status 0x%x)", w->type,
		s->stopping ? "stopped at shutdown" : "died", w->wid, w->wno,
		(long)w->pid, (unsigned)status);
	/* Died on its own: without :auto-restart Kahua keeps the entry (1.0: for a while). */
	if (!s->site.auto_restart || s->stopping) {
		w->state = W_DEAD;
		w->dead_since_ms = mono_ms();
		return;
	}
	ws_remove(s, w);
	auto_restart(s, w);
	worker_free(w);
}

/*
 * Kahua 1.0 (or any Kahua on Gauche up to 0.9.1) drops a dead worker's
 * entry at its main loop's next turn: within DROP_DEAD_MS here.
 */
#define DROP_DEAD_MS 1000
#define DROP_TICK_MS 100

static void *drop_dead_main(void *arg)
{
	struct spvr *s = arg;

	for (;;) {
		sleep_ms(DROP_TICK_MS);
		pthread_mutex_lock(&s->mu);
		for (size_t i = 0; i < s->nws; i++) {
			struct worker *w = s->ws[i];

			if (w->state != W_DEAD || mono_ms() - w->dead_since_ms < DROP_DEAD_MS)
				continue;
			log_msg("[spvr] dropped dead worker %s(%ld)", w->type, w->wno);
			ws_remove(s, w);
			worker_free(w);
			i--;
		}
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

void workers_drop_dead_start(struct spvr *s)
{
	pthread_t t;

	if (!kahua_1_0())
		return;
	if (pthread_create(&t, NULL, drop_dead_main, s) != 0 || pthread_detach(t) != 0)
		die("pthread", "cannot start the dead-entry loop");
}

static void child_exited(struct spvr *s, pid_t pid, int status)
{
	pthread_mutex_lock(&s->mu);
	if (pid == s->httpd_pid) {
		s->httpd_reaped = true;
		log_msg("kahua-httpd (pid %ld) exited, status 0x%x", (long)pid,
			(unsigned)status);
	} else {
		for (size_t i = 0; i < s->nws; i++) {
			if (s->ws[i]->pid == pid && !s->ws[i]->reaped) {
				worker_exited(s, s->ws[i], status);
				break;
			}
		}
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void reap_children(struct spvr *s)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		child_exited(s, pid, status);
	}
}
