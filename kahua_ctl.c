/*
 * kahua_ctl.c: the supervisor's control protocol and the worker probe.
 *
 * One request per connection.  Kahua's supervisor has no read timeout of
 * its own, so every wait here has a deadline, and a request that cannot be
 * sent whole is abandoned by closing the socket (the supervisor then reads
 * EOF instead of waiting forever for the rest).
 */
#define _GNU_SOURCE             /* O_PATH: reach a socket dir we may not read */
#include "kahua_ctl.h"
#include "names.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SPVR_SOCKET "kahua"
#define SPVR_HEADER "((\"x-kahua-worker\" \"spvr\"))"
#define READ_CHUNK 65536

/*
 * Fill addr for <sockdir>/<name>.  A path too long for sun_path is reached
 * through /proc/self/fd/N/<name> of the opened directory; *dirfd is that
 * descriptor (or -1) and must stay open until connect returns.
 */
static int sock_addr(const struct kahua_site *site, const char *name,
		     struct sockaddr_un *addr, int *dirfd, struct kr_err *err)
{
	char *path = kahua_sock_path(site, name);
	int n;

	*dirfd = -1;
	memset(addr, 0, sizeof *addr);
	addr->sun_family = AF_UNIX;
	if (path == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	if (strlen(path) < sizeof addr->sun_path) {
		memcpy(addr->sun_path, path, strlen(path) + 1);
		free(path);
		return 0;
	}
	*dirfd = open(site->sockdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0) {
		kr_fail(err, KR_UNAVAILABLE, "%s: %s", site->sockdir, strerror(errno));
		free(path);
		return -1;
	}
	n = snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dirfd, name);
	if (n < 0 || (size_t)n >= sizeof addr->sun_path) {
		kr_fail(err, KR_UNAVAILABLE, "%s: socket path is %zu bytes, longer than the %zu a Unix socket address holds",
			path, strlen(path), sizeof addr->sun_path - 1);
		close(*dirfd);
		*dirfd = -1;
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

static int connect_error(const struct kahua_site *site, const char *name, int e,
			 struct kr_err *err)
{
	char *path = kahua_sock_path(site, name);
	const char *hint = "";

	if (e == ENOENT && strcmp(name, SPVR_SOCKET) == 0)
		hint = " (is kahua-spvr running?)";
	else if (e == ECONNREFUSED && strcmp(name, SPVR_SOCKET) == 0)
		hint = " (stale socket: no supervisor listens on it)";
	kr_fail(err, KR_UNAVAILABLE, "connect %s: %s%s", path ? path : name, strerror(e), hint);
	free(path);
	return -1;
}

int kahua_connect(const struct kahua_site *site, const char *name,
		  long long deadline_ms, struct kr_err *err)
{
	struct sockaddr_un addr;
	int dirfd, fd, rc;

	if (sock_addr(site, name, &addr, &dirfd, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		if (dirfd >= 0)
			close(dirfd);
		return kr_fail(err, KR_OSERR, "socket: %s", strerror(errno));
	}
	/* A full listen backlog says EAGAIN on a non-blocking Unix socket. */
	while ((rc = connect(fd, (struct sockaddr *)&addr, sizeof addr)) < 0 &&
	       (errno == EAGAIN || errno == EINTR) && kr_poll_ms(deadline_ms) > 0)
		kr_sleep_until(kr_earlier(deadline_ms, kr_now_ms() + 10), NULL);
	if (dirfd >= 0)
		close(dirfd);
	if (rc == 0)
		return fd;
	rc = errno;
	close(fd);
	if (rc == EAGAIN)
		return kr_fail(err, KR_UNAVAILABLE, "connect %s/%s: timed out (listen queue full)",
			       site->sockdir, name);
	return connect_error(site, name, rc, err);
}

/* Write all of buf before the deadline, or fail; EPIPE is not a signal. */
static int send_all(int fd, const char *buf, size_t len, long long deadline_ms,
		    const char *what, struct kr_err *err)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;
		int ready = poll(&p, 1, kr_poll_ms(deadline_ms));

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return kr_fail(err, KR_OSERR, "%s: poll: %s", what, strerror(errno));
		if (ready == 0) {
			kr_fail(err, KR_UNAVAILABLE, "%s: timed out sending the request", what);
			err->cause = KR_CAUSE_TIMEOUT;
			return -1;
		}
		n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return kr_fail(err, KR_UNAVAILABLE, "%s: send: %s", what, strerror(errno));
		done += (size_t)n;
	}
	return 0;
}

bool kahua_reply_complete(const char *buf, size_t len)
{
	size_t pos = 0;
	int found = 0;

	while (found < 2) {
		struct sx *x = NULL;

		if (sx_read(buf, len, &pos, &sx_default_limits, &x, NULL) != SX_OK)
			return false;
		sx_free(x);
		found++;
	}
	return true;
}

/*
 * Read until the peer closes or two data have arrived, within the deadline
 * and KAHUA_REPLY_MAX.  A reset after a complete reply is not an error:
 * Kahua workers close with unread bytes pending.
 */
static int recv_reply(int fd, const struct kahua_wait *w, const char *what,
		      struct sx_buf *b, struct kr_err *err)
{
	long long soft = w->soft_ms;

	for (;;) {
		bool soft_first = soft > 0 && soft < w->deadline_ms;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ready = poll(&p, 1, kr_poll_ms(soft_first ? soft : w->deadline_ms));
		ssize_t n;

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return kr_fail(err, KR_OSERR, "%s: poll: %s", what, strerror(errno));
		if (ready == 0 && soft_first) {
			soft = w->on_slow ? w->on_slow(w->ctx) : 0;
			continue;
		}
		if (ready == 0) {
			kr_fail(err, KR_UNAVAILABLE, "%s: no %s within the time limit",
				what, b->len ? "complete reply" : "reply");
			err->cause = KR_CAUSE_TIMEOUT;
			return -1;
		}
		if (sx_buf_reserve(b, READ_CHUNK) < 0)
			return kr_fail(err, KR_SOFTWARE, "%s: out of memory", what);
		n = recv(fd, b->s + b->len, READ_CHUNK, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && errno == ECONNRESET && kahua_reply_complete(b->s, b->len))
			return 0;
		if (n < 0)
			return kr_fail(err, KR_UNAVAILABLE, "%s: recv: %s", what, strerror(errno));
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		b->s[b->len] = '\0';
		if (b->len > KAHUA_REPLY_MAX)
			return kr_fail(err, KR_UNAVAILABLE, "%s: reply larger than %d bytes",
				       what, KAHUA_REPLY_MAX);
		if (b->s[b->len - 1] == '\n' && kahua_reply_complete(b->s, b->len))
			return 0;
	}
}

/* Send a request and read its raw reply; the connection is always closed. */
static int exchange(const struct kahua_site *site, const char *sockname,
		    const char *request, size_t reqlen, const struct kahua_wait *w,
		    const char *what, struct sx_buf *reply, struct kr_err *err)
{
	int fd = kahua_connect(site, sockname, w->deadline_ms, err);
	int rc;

	if (fd < 0)
		return -1;
	if (w->ready != NULL)
		w->ready((struct kahua_wait *)w, w->ready_ctx);
	rc = send_all(fd, request, reqlen, w->deadline_ms, what, err);
	if (rc == 0)
		rc = recv_reply(fd, w, what, reply, err);
	close(fd);
	return rc;
}

/* The id Kahua lists for a worker that exited before printing one. */
static bool is_eof_wid(const struct sx *list, size_t i)
{
	const struct sx *x = sx_nth(list, i);

	return i > 0 && sx_is_symbol(sx_nth(list, i - 1), ":worker-id") &&
	       x->type == SX_OPAQUE && strcmp(sx_text(x), "eof") == 0;
}

/* Unreadable objects, except the #<eof> worker id of an ls entry. */
static bool has_opaque(const struct sx *x)
{
	if (x->type == SX_OPAQUE)
		return true;
	for (size_t i = 0; i < sx_len(x); i++)
		if (!is_eof_wid(x, i) && has_opaque(sx_nth(x, i)))
			return true;
	return false;
}

static int read_part(const char *buf, size_t len, size_t *pos, const char *part,
		     struct sx **out, struct kr_err *err)
{
	struct sx_error se;
	enum sx_result r = sx_read(buf, len, pos, &sx_default_limits, out, &se);

	if (r == SX_OK)
		return 0;
	if (r == SX_END)
		return kr_fail(err, KR_UNAVAILABLE, "reply %s missing (%s)", part,
			       len == 0 ? "the supervisor closed without replying" : "reply truncated");
	if (r == SX_INCOMPLETE)
		return kr_fail(err, KR_UNAVAILABLE, "reply %s truncated at byte %zu", part, len);
	return kr_fail(err, KR_UNAVAILABLE, "reply %s unreadable at byte %zu: %s",
		       part, se.off, se.msg);
}

static int reply_status(struct kahua_reply *rep, struct kr_err *err)
{
	const struct sx *st = sx_alist_get(rep->header, "x-kahua-status");
	const char *word = sx_text(sx_nth(st, 1));
	const struct sx *msg = sx_nth(rep->body, 0);

	if (st == NULL || word == NULL || !sx_is_string(sx_nth(st, 1)))
		return kr_fail(err, KR_UNAVAILABLE, "reply header has no x-kahua-status");
	if (strcmp(word, "OK") == 0) {
		rep->ok = true;
		return 0;
	}
	if (strcmp(word, "SPVR-ERROR") != 0)
		return kr_fail(err, KR_UNAVAILABLE, "reply status \"%.40s\" is neither OK nor SPVR-ERROR", word);
	rep->ok = false;
	snprintf(rep->errclass, sizeof rep->errclass, "%s",
		 sx_text(sx_nth(st, 2)) ? sx_text(sx_nth(st, 2)) : "<error>");
	rep->message = sx_is_string(msg) ? sx_text(msg) : "(no message)";
	return 0;
}

int kahua_reply_parse(const char *buf, size_t len, struct kahua_reply *rep,
		      struct kr_err *err)
{
	size_t pos = 0;

	memset(rep, 0, sizeof *rep);
	if (read_part(buf, len, &pos, "header", &rep->header, err) < 0 ||
	    read_part(buf, len, &pos, "body", &rep->body, err) < 0) {
		kahua_reply_free(rep);
		return -1;
	}
	if (!sx_is_list(rep->header) || reply_status(rep, err) < 0) {
		if (!sx_is_list(rep->header))
			kr_fail(err, KR_UNAVAILABLE, "reply header is a %s, not a list",
				sx_type_name(rep->header->type));
		kahua_reply_free(rep);
		return -1;
	}
	if (rep->ok && has_opaque(rep->body)) {
		kahua_reply_free(rep);
		return kr_fail(err, KR_UNAVAILABLE, "reply body is not readable data (it holds a #<...> object)");
	}
	return 0;
}

void kahua_reply_free(struct kahua_reply *rep)
{
	sx_free(rep->header);
	sx_free(rep->body);
	rep->header = rep->body = NULL;
	rep->message = NULL;
}

int kahua_call_wait(const struct kahua_site *site, const char *body,
		    const struct kahua_wait *wait, struct kahua_reply *rep,
		    struct kr_err *err)
{
	struct sx_buf req = { 0 };
	struct sx_buf reply = { 0 };
	char what[160];
	int rc;

	memset(rep, 0, sizeof *rep);
	snprintf(what, sizeof what, "supervisor %.120s", body);
	if (sx_buf_printf(&req, "%s\n%s\n", SPVR_HEADER, body) < 0)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	rc = exchange(site, SPVR_SOCKET, req.s, req.len, wait, what, &reply, err);
	sx_buf_free(&req);
	if (rc == 0 && kahua_reply_parse(reply.s ? reply.s : "", reply.len, rep, err) < 0)
		rc = kr_refail(err, KR_UNAVAILABLE, "%s: %.800s", what, err->msg);
	sx_buf_free(&reply);
	return rc;
}

static int worker_field_string(const struct sx *w, const char *key, size_t idx,
			       char *out, size_t size, struct kr_err *err)
{
	const struct sx *v = sx_plist_get(w, key);

	if (!sx_is_string(v) && !sx_is_symbol(v, NULL))
		return kr_fail(err, KR_UNAVAILABLE, "ls reply: worker %zu has no %s", idx, key);
	if (strlen(sx_text(v)) >= size || sx_text(v)[0] == '\0')
		return kr_fail(err, KR_UNAVAILABLE, "ls reply: worker %zu: %s is empty or too long", idx, key);
	memcpy(out, sx_text(v), strlen(sx_text(v)) + 1);
	return 0;
}

static int worker_field_int(const struct sx *w, const char *key, size_t idx,
			    long long min, long long *out, struct kr_err *err)
{
	const struct sx *v = sx_plist_get(w, key);

	if (v == NULL || v->type != SX_INT)
		return kr_fail(err, KR_UNAVAILABLE, "ls reply: worker %zu has no numeric %s", idx, key);
	if (v->u.i < min)
		return kr_fail(err, KR_UNAVAILABLE, "ls reply: worker %zu: %s %lld out of range",
			       idx, key, v->u.i);
	*out = v->u.i;
	return 0;
}

bool kahua_wid_valid(const char *wid)
{
	size_t a = strspn(wid, "0123456789abcdefghijklmnopqrstuvwxyz");

	return a > 0 && wid[a] == ':' && wid[a + 1] != '\0' &&
	       strspn(wid + a + 1, "0123456789abcdefghijklmnopqrstuvwxyz") == strlen(wid + a + 1);
}

const char *worker_state_name(enum worker_state s)
{
	static const char *const names[] = { "live", "dead", "broken" };

	return names[s];
}

/*
 * :worker-id as Kahua wrote it: the line the worker printed (an id, or
 * "ERROR loading module"), or #<eof> when it printed nothing.  Anything
 * but a worker id marks the entry broken.
 */
static int worker_id(const struct sx *w, size_t idx, struct worker *out, struct kr_err *err)
{
	const struct sx *v = sx_plist_get(w, ":worker-id");

	if (v != NULL && v->type == SX_OPAQUE && strcmp(sx_text(v), "eof") == 0) {
		snprintf(out->wid, sizeof out->wid, "#<eof>");
		out->state = WORKER_BROKEN;
		snprintf(out->why, sizeof out->why, "it exited before giving a worker id");
		return 0;
	}
	if (!sx_is_string(v))
		return kr_fail(err, KR_UNAVAILABLE, "ls reply: worker %zu has no :worker-id", idx);
	snprintf(out->wid, sizeof out->wid, "%s", sx_text(v));
	if (kahua_wid_valid(sx_text(v)) && strlen(sx_text(v)) < sizeof out->wid)
		return 0;
	out->state = WORKER_BROKEN;
	snprintf(out->why, sizeof out->why, "its application did not load: it printed \"%.80s\" instead of a worker id",
		 out->wid);
	return 0;
}

/* :worker-pid: a number, or #f once the supervisor has reaped the worker. */
static int worker_pid(const struct sx *w, size_t idx, struct worker *out, struct kr_err *err)
{
	const struct sx *v = sx_plist_get(w, ":worker-pid");
	long long pid = 0;

	if (v != NULL && v->type == SX_BOOL && !v->u.b) {
		out->pid = 0;
		return 0;
	}
	if (worker_field_int(w, ":worker-pid", idx, 2, &pid, err) < 0)
		return -1;
	if (pid > 0x7fffffff)
		return kr_fail(err, KR_UNAVAILABLE, "ls reply: worker %zu: pid %lld out of range", idx, pid);
	out->pid = (pid_t)pid;
	return 0;
}

static int parse_worker(const struct sx *w, size_t idx, struct worker *out,
			struct kr_err *err)
{
	/* Zeroed for clang's analyzer, which cannot see that kr_fail returns -1. */
	long long wno = 0, start = 0;

	memset(out, 0, sizeof *out);
	if (!sx_is_list(w))
		return kr_fail(err, KR_UNAVAILABLE, "ls reply: entry %zu is a %s, not a property list",
			       idx, sx_type_name(w->type));
	if (worker_id(w, idx, out, err) < 0 ||
	    worker_field_string(w, ":worker-type", idx, out->type, sizeof out->type, err) < 0 ||
	    worker_field_int(w, ":worker-count", idx, 0, &wno, err) < 0 ||
	    worker_pid(w, idx, out, err) < 0 ||
	    worker_field_int(w, ":start-time", idx, 0, &start, err) < 0)
		return -1;
	if (wno > 0x7fffffff)
		return kr_fail(err, KR_UNAVAILABLE, "ls reply: worker %zu: number %lld out of range", idx, wno);
	out->wno = (long)wno;
	out->start_time = start;
	return 0;
}

int kahua_parse_workers(const struct sx *body, struct worker_list *wl,
			struct kr_err *err)
{
	size_t n = sx_len(body);

	wl->v = NULL;
	wl->n = 0;
	if (!sx_is_list(body))
		return kr_fail(err, KR_UNAVAILABLE, "ls reply: expected a list of workers, got a %s",
			       body ? sx_type_name(body->type) : "nothing");
	wl->v = calloc(n ? n : 1, sizeof *wl->v);
	if (wl->v == NULL)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (parse_worker(sx_nth(body, i), i, &wl->v[i], err) < 0) {
			worker_list_free(wl);
			return -1;
		}
	}
	wl->n = n;
	return 0;
}

void worker_list_free(struct worker_list *wl)
{
	free(wl->v);
	wl->v = NULL;
	wl->n = 0;
}

const struct worker *worker_list_wno(const struct worker_list *wl, long wno)
{
	for (size_t i = 0; i < wl->n; i++)
		if (wl->v[i].wno == wno)
			return &wl->v[i];
	return NULL;
}

const struct worker *worker_list_wid(const struct worker_list *wl, const char *wid)
{
	for (size_t i = 0; i < wl->n; i++)
		if (strcmp(wl->v[i].wid, wid) == 0)
			return &wl->v[i];
	return NULL;
}

size_t worker_list_count(const struct worker_list *wl, const char *type, bool live_only)
{
	size_t n = 0;

	for (size_t i = 0; i < wl->n; i++)
		n += (!live_only || wl->v[i].state == WORKER_LIVE) && strcmp(wl->v[i].type, type) == 0;
	return n;
}

/* The running types as "hello, leaky" (as many as memory allows). */
static void running_types(const struct worker_list *known, char *out, size_t size)
{
	struct name_set types = { 0 };

	for (size_t i = 0; known != NULL && i < known->n; i++)
		if (name_set_add(&types, known->v[i].type) < 0)
			break;
	name_set_join(&types, out, size);
	name_set_free(&types);
}

static const char no_entry[] = "doesn't have an entry for key ";

/*
 * Gauche names the table: "#<hash-table eqv? 0x...> doesn't have an entry
 * for key 9"; up to 0.8.10 (Kahua 1.0.x sites) it read "hash table
 * doesn't have an entry for key 9".
 */
bool kahua_error_no_target(const struct kahua_reply *rep)
{
	static const char old_text[] = "hash table doesn't have an entry for key ";

	if (rep->message == NULL)
		return false;
	if (strncmp(rep->message, old_text, sizeof old_text - 1) == 0)
		return true;
	return strncmp(rep->message, "#<hash-table", 12) == 0 && strstr(rep->message, no_entry) != NULL;
}

void kahua_explain_error(const struct kahua_reply *rep,
			 const struct worker_list *known, char *out, size_t size)
{
	const char *msg = rep->message ? rep->message : "(no message)";
	const char *key;
	char types[512];

	if (!kahua_error_no_target(rep)) {
		snprintf(out, size, "supervisor error %s: %s", rep->errclass, msg);
		return;
	}
	key = strstr(msg, no_entry) + sizeof no_entry - 1;
	running_types(known, types, sizeof types);
	if (key[0] == '"')
		snprintf(out, size, "no worker with id %s (types: %s)", key, types);
	else if (key[0] >= '0' && key[0] <= '9')
		snprintf(out, size, "no worker number %s (types: %s)", key, types);
	else
		snprintf(out, size, "no worker type '%s' (types: %s)", key, types);
}

/* A call whose SPVR-ERROR reply becomes a KR_UNAVAILABLE error. */
static int call_ok(const struct kahua_site *site, const char *body,
		   const struct kahua_wait *wait, const struct worker_list *known,
		   struct kahua_reply *rep, struct kr_err *err)
{
	char plain[KR_ERR_MSG_MAX - 200];

	if (kahua_call_wait(site, body, wait, rep, err) < 0)
		return -1;
	if (rep->ok)
		return 0;
	kahua_explain_error(rep, known, plain, sizeof plain);
	kr_fail(err, KR_UNAVAILABLE, "supervisor refused %.100s: %s", body, plain);
	err->cause = kahua_error_no_target(rep) ? KR_CAUSE_NO_TARGET : KR_CAUSE_REFUSED;
	kahua_reply_free(rep);
	return -1;
}

int kahua_ls(const struct kahua_site *site, long long deadline_ms,
	     struct worker_list *wl, struct kr_err *err)
{
	struct kahua_reply rep;
	int rc;

	wl->v = NULL;
	wl->n = 0;
	if (call_ok(site, "(ls)", &(struct kahua_wait){ .deadline_ms = deadline_ms }, NULL, &rep, err) < 0)
		return -1;
	rc = kahua_parse_workers(rep.body, wl, err);
	kahua_reply_free(&rep);
	return rc;
}

/* (restart X) answers the ids of the workers it terminated: a list of strings. */
static int check_ids(const struct sx *body, struct kr_err *err)
{
	if (!sx_is_list(body))
		return kr_fail(err, KR_UNAVAILABLE, "restart reply: expected a list of worker ids");
	for (size_t i = 0; i < sx_len(body); i++)
		if (!sx_is_string(sx_nth(body, i)))
			return kr_fail(err, KR_UNAVAILABLE, "restart reply: item %zu is not a worker id", i);
	return 0;
}

int kahua_restart(const struct kahua_site *site, const char *target_sexp,
		  const struct kahua_wait *wait, const struct worker_list *known, struct kr_err *err)
{
	struct kahua_reply rep;
	char body[KAHUA_WID_MAX + 32];
	int rc;

	snprintf(body, sizeof body, "(restart %s)", target_sexp);
	if (call_ok(site, body, wait, known, &rep, err) < 0)
		return -1;
	rc = check_ids(rep.body, err);
	kahua_reply_free(&rep);
	return rc;
}

int kahua_run(const struct kahua_site *site, const char *type,
	      long long deadline_ms, struct worker *w, struct kr_err *err)
{
	struct kahua_reply rep;
	struct worker_list wl;
	char body[KAHUA_NAME_MAX + 16];
	int rc;

	snprintf(body, sizeof body, "(run %s)", type);
	if (call_ok(site, body, &(struct kahua_wait){ .deadline_ms = deadline_ms }, NULL, &rep, err) < 0)
		return -1;
	rc = kahua_parse_workers(rep.body, &wl, err);
	kahua_reply_free(&rep);
	if (rc < 0)
		return -1;
	if (wl.n != 1) {
		worker_list_free(&wl);
		return kr_fail(err, KR_UNAVAILABLE, "run reply: expected one new worker");
	}
	*w = wl.v[0];
	worker_list_free(&wl);
	return 0;
}

int kahua_kill(const struct kahua_site *site, long wno, const struct kahua_wait *wait,
	       struct worker_list *after, struct kr_err *err)
{
	struct kahua_reply rep;
	char body[48];
	int rc;

	snprintf(body, sizeof body, "(kill %ld)", wno);
	if (call_ok(site, body, wait, NULL, &rep, err) < 0)
		return -1;
	rc = kahua_parse_workers(rep.body, after, err);
	kahua_reply_free(&rep);
	return rc;
}

int kahua_reload(const struct kahua_site *site, long long deadline_ms,
		 struct kr_err *err)
{
	struct kahua_reply rep;
	bool readable;

	if (call_ok(site, "(reload)", &(struct kahua_wait){ .deadline_ms = deadline_ms }, NULL, &rep, err) < 0)
		return -1;
	readable = sx_is_list(rep.body);
	kahua_reply_free(&rep);
	if (!readable)
		return kr_fail(err, KR_CONFIG, "reload: the supervisor could not read %s/app-servers",
			       site->root);
	return 0;
}

#define APPEND_LIT(b, lit) sx_buf_append((b), (lit), sizeof(lit) - 1)

/* The request kahua-httpd sends to start a session of TYPE. */
static int probe_request(const char *type, struct sx_buf *b)
{
	struct sx_buf path = { 0 };
	int rc;

	if (sx_buf_printf(&path, "/%s", type) < 0)
		return -1;
	rc = APPEND_LIT(b, "((\"x-kahua-worker\" ") |
	     sx_write_string(b, type, strlen(type)) |
	     APPEND_LIT(b, ") (\"x-kahua-path-info\" (") |
	     sx_write_string(b, type, strlen(type)) |
	     sx_buf_printf(b, ")) (\"x-kahua-server-uri\" \"http://localhost\")"
			   " (\"x-kahua-bridge\" \"\") (\"x-kahua-remote-addr\" \"127.0.0.1\")"
			   " (\"x-kahua-metavariables\" ((\"GATEWAY_INTERFACE\" \"CGI/1.1\")"
			   " (\"REMOTE_ADDR\" \"127.0.0.1\") (\"SERVER_PROTOCOL\" \"HTTP/1.1\")"
			   " (\"SERVER_SOFTWARE\" \"kahua-restarter\") (\"REQUEST_METHOD\" \"GET\")"
			   " (\"SCRIPT_NAME\" \"\") (\"PATH_INFO\" ") |
	     sx_write_string(b, path.s, path.len) |
	     sx_buf_printf(b, ") (\"HTTP_USER_AGENT\" \"kahua-restarter\"))))()");
	sx_buf_free(&path);
	return rc < 0 ? -1 : 0;
}

/* A worker's reply header: no SPVR-ERROR and no 5xx "Status" entry. */
static int probe_verdict(const struct worker *w, const char *buf, size_t len,
			 struct kr_err *err)
{
	struct sx *header = NULL, *body = NULL;
	const struct sx *status;
	struct sx_error se;
	size_t pos = 0;
	int rc = 0;

	if (sx_read(buf, len, &pos, &sx_default_limits, &header, &se) != SX_OK ||
	    sx_read(buf, len, &pos, &sx_default_limits, &body, &se) != SX_OK ||
	    !sx_is_list(header)) {
		rc = kr_fail(err, KR_HEALTH, "worker %s (%s, pid %d): %s", w->wid, w->type, (int)w->pid,
			     len == 0 ? "closed without answering" : "answered with an unreadable reply");
	} else if ((status = sx_alist_get(header, "x-kahua-status")) != NULL &&
		   sx_text(sx_nth(status, 1)) != NULL && strcmp(sx_text(sx_nth(status, 1)), "OK") != 0) {
		rc = kr_fail(err, KR_HEALTH, "worker %s (%s, pid %d): answered %s %s", w->wid, w->type,
			     (int)w->pid, sx_text(sx_nth(status, 1)),
			     sx_text(sx_nth(status, 2)) ? sx_text(sx_nth(status, 2)) : "");
	} else if ((status = sx_alist_get(header, "Status")) != NULL &&
		   sx_text(sx_nth(status, 1)) != NULL && sx_text(sx_nth(status, 1))[0] == '5') {
		rc = kr_fail(err, KR_HEALTH, "worker %s (%s, pid %d): answered Status %s", w->wid,
			     w->type, (int)w->pid, sx_text(sx_nth(status, 1)));
	}
	sx_free(header);
	sx_free(body);
	return rc;
}

int kahua_probe_worker(const struct kahua_site *site, const struct worker *w,
		       long long deadline_ms, struct kr_err *err)
{
	struct sx_buf req = { 0 };
	struct sx_buf reply = { 0 };
	char what[KAHUA_WID_MAX + 64];
	int rc;

	snprintf(what, sizeof what, "probe of worker %s", w->wid);
	if (probe_request(w->type, &req) < 0)
		return kr_fail(err, KR_SOFTWARE, "out of memory");
	rc = exchange(site, w->wid, req.s, req.len, &(struct kahua_wait){ .deadline_ms = deadline_ms },
		      what, &reply, err);
	sx_buf_free(&req);
	if (rc < 0)
		err->status = KR_HEALTH;
	else
		rc = probe_verdict(w, reply.s ? reply.s : "", reply.len, err);
	sx_buf_free(&reply);
	return rc;
}
