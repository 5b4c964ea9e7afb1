/*
 * sim.h: the Kahua simulator (kahua-sim), shared declarations.
 *
 * One binary, three roles chosen by argv[1], as in a real Kahua process
 * tree (all "gosh" processes there):
 *   kahua-sim -S SITE ...              the supervisor (kahua-spvr)
 *   kahua-sim kahua-server.scm ...     a worker, forked by the supervisor
 *   kahua-sim kahua-httpd.scm ...      the HTTP front, forked by it too
 *
 * Files: main.c (roles, options, faults), util.c (small helpers, log),
 * site.c (kahua.conf, app-servers), usock.c (Unix sockets, long paths,
 * reading one header+body message), workers.c (worker table, spawning,
 * reaping), spvr.c (supervisor start-up, accept loop, signals, shutdown),
 * pool.c (the supervisor's and the HTTP front's thread pools),
 * commands.c (control commands and web forwarding), errors.c (SPVR-ERROR
 * replies with Gauche-like backtraces), worker.c (worker role), httpd.c
 * (HTTP front role).
 */
#ifndef KAHUA_SIM_H
#define KAHUA_SIM_H

/* Linux-specific calls (accept4, pipe2, O_PATH, prctl): every file of the
 * simulator includes this header first. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sexp.h"

#define SIM_VERSION "1.1_pre19"
#define SIM_REQ_MAX (1024 * 1024)           /* largest request read */
#define SIM_REPLY_MAX (64 * 1024 * 1024)    /* largest reply read */
#define SIM_WID_MAX 64
#define SIM_WORKER_SCRIPT "kahua-server.scm"
#define SIM_HTTPD_SCRIPT "kahua-httpd.scm"
#define SIM_EXE "/proc/self/exe"
/*
 * Time a worker spends on one page request: a hello page costs a real
 * Kahua worker about 2 ms of CPU (7 ms over httpd, supervisor, key
 * server and worker).  Under load on 2 cores its pages take longer, which
 * is what builds its queue after a restart; --request-ms 10 models that.
 */
#define SIM_REQUEST_MS 2
/* Threads of the supervisor's and the HTTP front's pools (Kahua's
 * :spvr-concurrency and :httpd-concurrency defaults). */
#define SIM_POOL_THREADS 10

/* ------------------------------------------------------------ util.c */

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "kahua-sim: what: why" on stderr. */
void warnx2(const char *what, const char *why);
_Noreturn void die(const char *what, const char *why) __attribute__((noreturn));
_Noreturn void die_errno(const char *what);
_Noreturn void oom(void);
int xbuf_printf_check(int rc);              /* aborts on -1 (out of memory) */

long long mono_ms(void);
void sleep_ms(long ms);
void rand_bytes(void *p, size_t n);
unsigned long long rand_u64(void);
void base36(unsigned long long v, char *out, size_t size);
bool parse_long(const char *s, long min, long max, long *out);

int send_all(int fd, const void *p, size_t n);   /* MSG_NOSIGNAL; -1 errno */
int write_all(int fd, const void *p, size_t n);
void drain_and_close(int fd);   /* SHUT_WR, read what is queued, close */
void ensure_std_fds(void);
int mkdir_p(const char *path, mode_t last_mode);
/* Whole file, NUL-terminated; NULL with errno (EFBIG past max). */
char *read_file(const char *path, size_t max, size_t *len);
_Noreturn void hang_forever(void);

/* <log-directory>/kahua-spvr.log, lines prefixed as Kahua's: the
 * program is "kahua-spvr.scm" or "kahua-server.scm". */
void log_open(const char *path, const char *program);
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------ site.c */

struct site {
	char *root;             /* absolute bundle path, as given */
	char *sockdir;          /* <sockbase> */
	char *rundir;
	char *logdir;
	bool auto_restart;
	long timeout_mins;      /* :timeout-mins, default 60 */
};

struct app_type {
	char *name;
	char **args;
	size_t nargs;
	long run_by_default;
	unsigned long rr;       /* round robin of web requests */
};

struct app_types {
	struct app_type *v;
	size_t n;
};

/* 0, or -1 with a "what: why" message in err. */
int site_load(const char *root, struct site *s, char *err, size_t errsz);
void site_free(struct site *s);
int app_servers_load(const struct site *s, struct app_types *t,
		     char *err, size_t errsz);
void app_types_free(struct app_types *t);
const struct app_type *app_type_find(const struct app_types *t, const char *name);
char **strv_dup(char *const *v, size_t n);
void strv_free(char **v, size_t n);

/* ------------------------------------------------------------ usock.c */

/* Directory of sockets: its path and an O_PATH descriptor of it. */
struct sockdir {
	char *path;
	int fd;
};

int sockdir_open(struct sockdir *d, const char *path);   /* -1 errno */
void sockdir_close(struct sockdir *d);
/* Full path text "<dir>/<name>" for messages; caller frees. */
char *sockdir_path(const struct sockdir *d, const char *name);
/* Listening socket <dir>/<name> with mode; -1 errno. */
int usock_listen(const struct sockdir *d, const char *name, mode_t mode);
/* Connected socket or -1 errno. */
int usock_connect(const struct sockdir *d, const char *name);

enum msg_status {
	MSG_OK,                 /* header and body read */
	MSG_HDR_EOF,            /* nothing but whitespace before EOF */
	MSG_BODY_EOF,           /* header read, then EOF */
	MSG_EOF_INSIDE,         /* EOF in the middle of a datum */
	MSG_SYNTAX,             /* malformed or past the reader's limits */
	MSG_TOO_BIG,            /* more than max bytes without a message */
	MSG_REJECTED,           /* exact mode: the accept callback said no */
	MSG_IO                  /* read error; err_no says which */
};

struct msg {
	char *buf;
	size_t len, cap;
	struct sx *hdr, *body;
	size_t hoff, hend, boff, bend;  /* spans of the data in buf */
	enum msg_status st;
	int err_no;
	struct sx_error sxerr;
	size_t eof_line, start_line;    /* MSG_EOF_INSIDE */
	char start_char;                /* first byte of the cut datum */
};

/*
 * Read a header datum and a body datum from fd.  exact: consume nothing
 * past the body (bytes after it stay unread, so closing resets the
 * peer, as a Kahua worker does); accept, if not NULL, may refuse the
 * message before its last bytes are consumed.
 */
void msg_read(int fd, bool exact, size_t max, bool (*accept)(const struct msg *),
	      struct msg *m);
void msg_free(struct msg *m);

/* ------------------------------------------------------------ pool.c */

/* Start nthreads threads calling serve(ctx, fd) for each added fd; dies
 * if they cannot be started. */
void pool_start(int nthreads, size_t stack, void (*serve)(void *ctx, int fd), void *ctx);
/* Queue an accepted connection for the pool. */
void pool_add(int fd);

/* ------------------------------------------------------------ main.c */

struct faults {
	bool hang, hang_restart, garbage, huge, close, half_reply;
	bool lose_worker, ignore_term, die_at_start, http_500, kill_race;
	double restart_race;    /* probability a restart loses the race; 0: off */
	long slow_start_ms;     /* -1: off */
	long http_delay_ms;     /* -1: off */
	long dispatch_delay_ms; /* a web request's pick to its connect; -1: off */
};

struct options {
	const char *site;
	const char *http;       /* [HOST:]PORT or NULL */
	long worker_delay_ms;
	long request_ms;        /* a worker's time per page request */
	struct faults faults;
	unsigned long long seed;        /* --fault-seed; 0: from the clock */
};

/*
 * --kahua-version 1.0: the shapes of Kahua 1.0.x (or trunk on Gauche up
 * to 0.9.1) instead of 1.1's: gc-stat one flat list, the old "hash table
 * doesn't have an entry" text, a dead entry dropped from ls as soon as its
 * worker is reaped, and a worker's load error on its standard error (the
 * supervisor's) instead of in kahua-spvr.log.  Passed to the workers in
 * the environment.
 */
#define SIM_VERSION_ENV "KAHUA_SIM_VERSION"
bool kahua_1_0(void);

/* Parse one "--fault NAME[=ARG]" value; 0, or -1 with message. */
int fault_parse(struct faults *f, const char *spec, char *err, size_t errsz);

/* ------------------------------------------------------------ workers.c */

/* W_DEAD: exited on its own, still listed (Kahua keeps the entry). */
enum wstate { W_STARTING, W_RUNNING, W_STOPPING, W_DEAD };

struct worker {
	char wid[SIM_WID_MAX];
	long wno;
	char *type;
	char **args;
	size_t nargs;
	pid_t pid;
	long long start_time;
	enum wstate state;
	bool no_id;             /* printed nothing: Kahua's id is #<eof> */
	bool stuck;             /* a kill of it failed (fault kill-race): never removed */
	bool reaped;
	int status;
	int out_fd;             /* read end of its stdout pipe while starting */
	long long dead_since_ms; /* W_DEAD: since when (Kahua 1.0 drops it) */
};

/* A copy of a worker's public facts, usable without locks. */
struct winfo {
	char wid[SIM_WID_MAX];
	bool no_id;             /* written #<eof> */
	long wno;
	char type[128];
	pid_t pid;
	long long start_time;
};

struct spawn_req;

struct spvr {
	struct options opt;
	struct site site;
	struct sockdir sd;
	int listen_fd;
	int exe_fd;             /* this binary, for the children's exec */
	char *exe;
	char *pidfile;
	pthread_mutex_t cmd_mu;         /* Kahua's one global lock */
	pthread_mutex_t mu;             /* the tables below */
	pthread_cond_t cv;              /* a worker or spawn changed state */
	struct worker **ws;             /* Kahua's per-type order, all types */
	size_t nws, capws;
	struct app_types types;
	long next_wno;
	bool initial_done, stopping, lost_one;
	pid_t httpd_pid;
	bool httpd_reaped;
	struct spawn_req *spawn_q;
	unsigned long long addr_wtype, addr_wno, addr_wid;
	unsigned long rr_seed;
	unsigned long long rng;         /* faults with a probability */
	int exit_status;
};

void workers_init(struct spvr *s);
/* Kahua 1.0: dead entries leave ls at the main loop's next turn. */
void workers_drop_dead_start(struct spvr *s);
int spawner_start(struct spvr *s);
/* Fork+exec argv (from the spawner thread); out_fd becomes the child's
 * stdout, keep_fd its fd 3 (-1: none).  Sets *pid under s->mu before the
 * child can be reaped.  0 or -1 errno. */
int spawn_child(struct spvr *s, char **argv, int out_fd, int keep_fd,
		pid_t *pid);
/*
 * Start a worker of type with args; slot: its index in s->ws or
 * (size_t)-1 to append.  Waits for the id.  0 with *info set; -1 if it
 * died at start or could not be started (errno).  Caller holds cmd_mu.
 */
int worker_start(struct spvr *s, const char *type, char *const *args,
		 size_t nargs, size_t slot, struct winfo *info);
/* SIGTERM the worker wno and wait for its exit; its slot index, or
 * (size_t)-1 if there is no such worker.  Caller holds cmd_mu. */
size_t worker_stop(struct spvr *s, long wno);
/* Fault kill-race: the first kill of an exited worker's entry fails and
 * leaves it stuck (true); later kills do nothing. */
bool worker_kill_race(struct spvr *s, long wno);
/* Replace the worker wno: stop it, start one of the same type in its
 * slot.  0, 1 if the new one died at start, -1 if wno is unknown. */
int worker_restart(struct spvr *s, long wno, struct winfo *info);
/* Running workers, in slot order (sorted: by wno); caller frees. */
size_t workers_list(struct spvr *s, bool sorted, struct winfo **out);
/* Reap every exited child (called on SIGCHLD). */
void reap_children(struct spvr *s);
/* SIGKILL the running worker with the highest number and wait until it
 * is reaped and gone (fault lose-worker). */
void worker_lose_highest(struct spvr *s);
void winfo_write(struct sx_buf *b, const struct winfo *w);
/* The running worker wno; false if there is none. */
bool worker_info(struct spvr *s, long wno, struct winfo *out);

/* A number in [0, 1) from the faults' generator (seeded by --fault-seed);
 * caller holds cmd_mu. */
double sim_random(struct spvr *s);

/* ------------------------------------------------------------ spvr.c */

_Noreturn void spvr_main(const struct options *opt);
/* Ask the signal thread to shut everything down and exit(status). */
void spvr_request_exit(struct spvr *s, int status);

/* ------------------------------------------------------------ commands.c */

/* Serve one accepted control connection (its own thread). */
void conn_serve(struct spvr *s, int fd);

/* ------------------------------------------------------------ errors.c */

/* Each appends a whole SPVR-ERROR reply (header line and body line). */
/* kind: 't' type table, 'n' worker-number table, 'w' worker-id table;
 * key is written as Gauche writes it (symbol, number, "string"). */
void err_no_entry(struct sx_buf *b, const char *cmd, char kind,
		  size_t size, unsigned long long addr, const char *key);
void err_unknown_command(struct sx_buf *b, const char *written);
void err_bad_command(struct sx_buf *b, const char *written);
void err_read_eof(struct sx_buf *b, const struct msg *m);
void err_read_syntax(struct sx_buf *b, const struct msg *m);
void err_too_big(struct sx_buf *b, size_t max);
void err_list_required(struct sx_buf *b, const char *written);
void err_unbound_log_format(struct sx_buf *b);
void err_worker_not_found(struct sx_buf *b, const char *type);
void err_worker_not_respond(struct sx_buf *b, const char *type);
/* op: "read", "write" or "connect" on the worker socket path. */
void err_system(struct sx_buf *b, const char *op, const char *path,
		const char *why);
void err_died_at_start(struct sx_buf *b, const char *cmd, const char *type);
/* (kill X) of a worker reaped meanwhile (fault kill-race). */
void err_kill_race(struct sx_buf *b);
/* (restart X) or (kill X), cmd, lost the race to reap the old worker
 * (fault restart-race). */
void err_waitpid_race(struct sx_buf *b, const char *cmd);

/* ------------------------------------------------------------ worker.c */

_Noreturn void worker_main(int argc, char **argv);

/* ------------------------------------------------------------ grace.c */

/* The program's grace expression (as recorded) for *ms milliseconds? */
bool grace_is_expr(const struct sx *body, long long *ms);
/* At start: finish (unlink, exit) runs when a grace runs out (SIGALRM). */
void grace_setup(void (*finish)(int));
void grace_set(long long ms);
/* In the SIGTERM handler: true while the worker is to go on serving. */
bool grace_on_term(void);

/* ------------------------------------------------------------ httpd.c */

_Noreturn void httpd_main(int argc, char **argv);

/* ------------------------------------------------------------ held.c */

/* What a worker holds: continuations and state sessions with their times. */
void held_init(long entries, long cont_age_s);
void held_view(long conts);             /* a page: one state session, conts continuations */
void held_session(void);
void held_counts(long long *conts, long long *sessions);
char *held_gc_stat(unsigned long long leak);
bool held_is_census(const struct sx *body);
bool held_is_sweep(const struct sx *body, long long *conts_s, long long *sessions_s);
char *held_census(unsigned long long leak, long timeout_mins, const char *type);
char *held_sweep(unsigned long long leak, long long conts_s, long long sessions_s);

#endif
