/*
 * spvr.c: the supervisor role: start-up (bundle, directories, pid file,
 * control socket, HTTP front, initial workers), the accept loop, and the
 * signal thread, which reaps children and performs every shutdown.
 *
 * Every thread but the signal thread blocks SIGCHLD, SIGTERM, SIGINT and
 * SIGHUP; the signal thread takes them with sigwaitinfo.
 */
#include "sim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONN_STACK (256 * 1024)

static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/* ------------------------------------------------------------- shutdown */

/* An unreaped child: ESRCH cannot happen, anything else is worth a line. */
static void send_signal(pid_t pid, int sig)
{
	if (kill(pid, sig) != 0)
		log_msg("kill %ld %d: %s", (long)pid, sig, strerror(errno));
}

static size_t signal_children(struct spvr *s, int sig)
{
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nws; i++) {
		struct worker *w = s->ws[i];

		if (w->pid > 0 && !w->reaped) {
			send_signal(w->pid, sig);
			n++;
		}
	}
	if (s->httpd_pid > 0 && !s->httpd_reaped) {
		send_signal(s->httpd_pid, sig);
		n++;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

static size_t children_left(struct spvr *s)
{
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nws; i++)
		n += s->ws[i]->pid > 0 && !s->ws[i]->reaped;
	n += s->httpd_pid > 0 && !s->httpd_reaped;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Reap until no child is left or ms pass; true if none is left. */
static bool wait_children(struct spvr *s, long ms)
{
	long long end = mono_ms() + ms;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		reap_children(s);
		if (children_left(s) == 0)
			return true;
		long long left = end - mono_ms();

		if (left <= 0)
			return false;
		struct timespec ts = { left / 1000, (left % 1000) * 1000000L };

		if (sigtimedwait(&chld, NULL, &ts) < 0 && errno != EAGAIN &&
		    errno != EINTR)
			return false;
	}
}

static void remove_worker_sockets(struct spvr *s)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nws; i++)
		if (s->ws[i]->wid[0] != '\0' && unlinkat(s->sd.fd, s->ws[i]->wid, 0) != 0 &&
		    errno != ENOENT)
			log_msg("unlink %s/%s: %s", s->sd.path, s->ws[i]->wid, strerror(errno));
	pthread_mutex_unlock(&s->mu);
}

static _Noreturn void shutdown_all(struct spvr *s)
{
	int status;

	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	status = s->exit_status;
	pthread_mutex_unlock(&s->mu);
	log_msg("shutting down");
	if (s->listen_fd >= 0) {
		if (shutdown(s->listen_fd, SHUT_RDWR) != 0)     /* wakes accept() */
			log_msg("shutdown of the control socket: %s", strerror(errno));
		if (unlinkat(s->sd.fd, "kahua", 0) != 0 && errno != ENOENT)
			log_msg("unlink %s/kahua: %s", s->sd.path, strerror(errno));
	}
	signal_children(s, SIGTERM);
	if (!wait_children(s, 2000)) {
		log_msg("children ignored SIGTERM for 2 s: SIGKILL");
		signal_children(s, SIGKILL);
		if (!wait_children(s, 5000))
			log_msg("children still not reaped after SIGKILL");
	}
	remove_worker_sockets(s);
	if (s->pidfile != NULL && unlink(s->pidfile) != 0 && errno != ENOENT)
		log_msg("unlink %s: %s", s->pidfile, strerror(errno));
	log_msg("exit %d", status);
	fflush(stdout);
	fflush(stderr);
	_exit(status);
}

static void *signal_main(void *arg)
{
	struct spvr *s = arg;
	sigset_t set;

	handled_signals(&set);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig == SIGCHLD)
			reap_children(s);
		else if (sig > 0)
			shutdown_all(s);
	}
	return NULL;
}

void spvr_request_exit(struct spvr *s, int status)
{
	pthread_mutex_lock(&s->mu);
	if (s->exit_status == 0)
		s->exit_status = status;
	pthread_mutex_unlock(&s->mu);
	if (kill(getpid(), SIGTERM) != 0) {
		log_msg("kill self: %s", strerror(errno));
		_exit(status);
	}
}

/* A failure once children may exist: clean up through the signal thread. */
static _Noreturn void fatal(struct spvr *s, const char *what, const char *why)
{
	warnx2(what, why);
	log_msg("%s: %s", what, why);
	spvr_request_exit(s, 1);
	hang_forever();
}

/* ------------------------------------------------------------- start-up */

static void make_dirs(struct spvr *s)
{
	if (mkdir_p(s->site.rundir, 0755) != 0)
		die_errno(s->site.rundir);
	if (mkdir_p(s->site.logdir, 0755) != 0)
		die_errno(s->site.logdir);
	if (mkdir_p(s->site.sockdir, 0700) != 0)
		die_errno(s->site.sockdir);
	if (sockdir_open(&s->sd, s->site.sockdir) != 0)
		die_errno(s->site.sockdir);
}

/* A socket file nobody listens on is replaced; a live one is an error. */
static void check_old_socket(struct spvr *s)
{
	char *path = sockdir_path(&s->sd, "kahua");
	struct stat st;
	int fd;

	if (fstatat(s->sd.fd, "kahua", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			die_errno(path);
		free(path);
		return;
	}
	if (!S_ISSOCK(st.st_mode))
		die(path, "exists and is not a socket");
	fd = usock_connect(&s->sd, "kahua");
	if (fd >= 0) {
		close(fd);
		die(path, "in use by a live supervisor");
	}
	if (errno != ECONNREFUSED)
		die_errno(path);
	if (unlinkat(s->sd.fd, "kahua", 0) != 0)
		die_errno(path);
	log_msg("removed stale socket %s", path);
	free(path);
}

static bool wid_like(const char *name)
{
	const char *colon = strchr(name, ':');

	return colon != NULL && colon != name && colon[1] != '\0' &&
	       strspn(name, "0123456789abcdefghijklmnopqrstuvwxyz:") == strlen(name);
}

/* Worker sockets a dead supervisor's workers left behind (they were
 * SIGKILLed and could not remove them): nobody listens, remove them. */
static void remove_stale_worker_sockets(struct spvr *s)
{
	int fd = openat(s->sd.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		log_msg("%s: %s", s->sd.path, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int c;

		if (!wid_like(e->d_name) ||
		    fstatat(s->sd.fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISSOCK(st.st_mode))
			continue;
		c = usock_connect(&s->sd, e->d_name);
		if (c >= 0) {
			close(c);
			continue;
		}
		if (errno == ECONNREFUSED && unlinkat(s->sd.fd, e->d_name, 0) == 0)
			log_msg("removed stale socket %s/%s", s->sd.path, e->d_name);
	}
	closedir(d);
}

static void write_pidfile(struct spvr *s)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld", (long)getpid());
	int fd;

	s->pidfile = xasprintf("%s/kahua-spvr.pid", s->site.rundir);
	fd = open(s->pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, buf, (size_t)n) != 0 || close(fd) != 0) {
		int e = errno;

		unlinkat(s->sd.fd, "kahua", 0);
		errno = e;
		die_errno(s->pidfile);
	}
}

/* Before the signal thread runs, nothing can clean up after us but us. */
static void start_signal_thread(struct spvr *s)
{
	pthread_t t;
	int rc = pthread_create(&t, NULL, signal_main, s);

	if (rc != 0) {
		unlinkat(s->sd.fd, "kahua", 0);
		unlink(s->pidfile);
		die("signal thread", strerror(rc));
	}
}

/* ------------------------------------------------------------ HTTP front */

struct http_addr {
	char host[256];
	char port[16];
	bool any_port;          /* port 0 asked: the kernel picks one */
};

static int http_spec(const char *spec, struct http_addr *a)
{
	const char *colon = strrchr(spec, ':');
	const char *port = colon ? colon + 1 : spec;
	size_t hl = colon ? (size_t)(colon - spec) : 0;
	long p;

	if (!parse_long(port, 0, 65535, &p))
		return -1;
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof a->host)
		return -1;
	if (hl == 0)
		snprintf(a->host, sizeof a->host, "127.0.0.1");
	else
		snprintf(a->host, sizeof a->host, "%.*s", (int)hl, spec);
	snprintf(a->port, sizeof a->port, "%ld", p);
	a->any_port = p == 0;
	return 0;
}

static int bind_one(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int one = 1;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The listening socket is made here (errors are ours to report) and
 * handed to kahua-httpd as fd 3. */
static int http_listen(struct spvr *s, struct http_addr *a)
{
	struct addrinfo hints, *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char what[300];
	int fd = -1, rc, e = 0;

	memset(&ss, 0, sizeof ss);
	snprintf(what, sizeof what, "-H %s", s->opt.http);
	if (http_spec(s->opt.http, a) != 0)
		fatal(s, what, "not [HOST:]PORT");
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(a->host, a->port, &hints, &res);
	if (rc != 0)
		fatal(s, what, gai_strerror(rc));
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = bind_one(ai);
		e = errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fatal(s, what, strerror(e));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		fatal(s, what, strerror(errno));
	snprintf(a->port, sizeof a->port, "%u", ntohs(ss.ss_family == AF_INET6 ?
		 ((struct sockaddr_in6 *)&ss)->sin6_port :
		 ((struct sockaddr_in *)&ss)->sin_port));
	return fd;
}

static char **httpd_argv(struct spvr *s, const struct http_addr *a)
{
	char **v = xmalloc(12 * sizeof *v);
	size_t n = 0;

	v[n++] = xstrdup("kahua-sim");
	v[n++] = xstrdup(SIM_HTTPD_SCRIPT);
	v[n++] = xstrdup("-S");
	v[n++] = xstrdup(s->site.root);
	if (s->opt.faults.http_500)
		v[n++] = xstrdup("--fault=http-500");
	if (s->opt.faults.http_delay_ms >= 0)
		v[n++] = xasprintf("--fault=http-delay=%ld", s->opt.faults.http_delay_ms);
	v[n++] = strchr(a->host, ':') ? xasprintf("[%s]:%s", a->host, a->port) :
		 xasprintf("%s:%s", a->host, a->port);
	v[n] = NULL;
	return v;
}

static void start_httpd(struct spvr *s)
{
	struct http_addr a;
	int lfd = http_listen(s, &a), p[2], rc;
	char **argv = httpd_argv(s, &a), line[16];
	ssize_t r;

	if (pipe2(p, O_CLOEXEC) != 0)
		fatal(s, "pipe", strerror(errno));
	rc = spawn_child(s, argv, p[1], lfd, &s->httpd_pid);
	int e = errno;

	close(p[1]);
	close(lfd);
	for (size_t i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
	if (rc != 0)
		fatal(s, "kahua-httpd", strerror(e));
	do
		r = read(p[0], line, sizeof line);
	while (r < 0 && errno == EINTR);
	close(p[0]);
	if (r <= 0)
		fatal(s, "kahua-httpd", "exited before listening");
	log_msg("kahua-httpd (pid %ld) listening on %s:%s", (long)s->httpd_pid,
		a.host, a.port);
	if (a.any_port)
		printf("kahua-sim: http %s:%s\n", a.host, a.port);
}

static void start_initial_workers(struct spvr *s)
{
	struct winfo info;

	pthread_mutex_lock(&s->cmd_mu);
	for (size_t i = 0; i < s->types.n; i++) {
		const struct app_type *t = &s->types.v[i];

		for (long k = 0; k < t->run_by_default; k++)
			if (worker_start(s, t->name, t->args, t->nargs, (size_t)-1,
					 &info) != 0)
				warnx2(t->name, "a worker died at start");
	}
	pthread_mutex_lock(&s->mu);
	s->initial_done = true;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_unlock(&s->cmd_mu);
}

/* xorshift64*: the same sequence for the same --fault-seed. */
double sim_random(struct spvr *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (double)((s->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* ---------------------------------------------------------- accept loop */

static void serve_conn(void *ctx, int fd)
{
	conn_serve(ctx, fd);
}

static bool stopping(struct spvr *s)
{
	bool v;

	pthread_mutex_lock(&s->mu);
	v = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return v;
}

static _Noreturn void accept_loop(struct spvr *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0) {
			pool_add(fd);
			continue;
		}
		if (stopping(s))
			hang_forever();         /* the signal thread exits */
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		log_msg("accept: %s", strerror(errno));
		if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
		    errno != ENOMEM)
			fatal(s, "accept", strerror(errno));
		sleep_ms(100);          /* out of descriptors: let some close */
	}
}

_Noreturn void spvr_main(const struct options *opt)
{
	struct spvr *s = xmalloc(sizeof *s);
	struct sigaction sa;
	sigset_t set;
	char err[8192];

	memset(s, 0, sizeof *s);
	s->opt = *opt;
	s->rng = opt->seed != 0 ? opt->seed : rand_u64() | 1;
	s->listen_fd = -1;
	s->sd.fd = -1;
	ensure_std_fds();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		die_errno("sigaction");
	if (site_load(opt->site, &s->site, err, sizeof err) != 0 ||
	    app_servers_load(&s->site, &s->types, err, sizeof err) != 0) {
		fprintf(stderr, "kahua-sim: %s\n", err);
		exit(1);
	}
	make_dirs(s);
	char *logpath = xasprintf("%s/kahua-spvr.log", s->site.logdir);

	log_open(logpath, "kahua-spvr.scm");
	free(logpath);
	check_old_socket(s);
	remove_stale_worker_sockets(s);
	handled_signals(&set);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		die("pthread_sigmask", "failed");
	workers_init(s);
	s->listen_fd = usock_listen(&s->sd, "kahua", 0770);
	if (s->listen_fd < 0)
		die_errno(sockdir_path(&s->sd, "kahua"));
	write_pidfile(s);
	log_msg("supervisor started (pid %ld) on %s/kahua", (long)getpid(), s->sd.path);
	start_signal_thread(s);
	if (spawner_start(s) != 0)
		fatal(s, "spawner thread", strerror(errno));
	workers_drop_dead_start(s);
	if (opt->http != NULL)
		start_httpd(s);
	start_initial_workers(s);
	pool_start(SIM_POOL_THREADS, CONN_STACK, serve_conn, s);
	printf("kahua-sim: ready %ld\n", (long)getpid());
	if (fflush(stdout) != 0)
		log_msg("stdout: %s", strerror(errno));
	accept_loop(s);
}
