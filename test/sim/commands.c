/*
 * commands.c: one connection on the control socket, as kahua-spvr
 * serves it: read a header and a body, then either run a command (header
 * with ("x-kahua-worker" "spvr")) or forward a web request to a worker,
 * reply "HEADER\nBODY\n", half-close, close.
 *
 * Commands run under the one global lock (s->cmd_mu); web requests take
 * it only to pick a worker.  The fault modes that bend this are applied
 * here too.
 */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define OK_HEADER "((\"x-kahua-status\" \"OK\"))\n"
#define HUGE_BYTES (8 * 1024 * 1024)
#define SEND_TIMEOUT_S 60

struct conn {
	struct spvr *s;
	int fd;
	struct msg m;
	struct sx_buf out;      /* the whole reply */
	bool sent;              /* already answered (lose-worker) */
	bool exit_after;        /* (shutdown) */
};

typedef void cmd_fn(struct conn *c, const struct sx *body);

static void append(struct sx_buf *b, const char *s)
{
	xbuf_printf_check(sx_buf_append(b, s, strlen(s)));
}

/* Gauche's written form of x; NULL is the EOF object.  Caller frees. */
static char *written(const struct sx *x)
{
	struct sx_buf b = { 0 };

	if (x == NULL)
		return xstrdup("#<eof>");
	xbuf_printf_check(sx_write(&b, x));
	return b.s;
}

static void ok_begin(struct conn *c)
{
	append(&c->out, OK_HEADER);
}

/* ------------------------------------------------------------- replying */

static void send_reply(struct conn *c)
{
	if (c->sent)
		return;
	c->sent = true;
	if (c->s->opt.faults.half_reply) {
		const char *nl = memchr(c->out.s, '\n', c->out.len);
		size_t head = nl ? (size_t)(nl - c->out.s) + 1 : c->out.len;

		if (send_all(c->fd, c->out.s, head + (c->out.len - head) / 2) != 0)
			log_msg("half reply: %s", strerror(errno));
		hang_forever();
	}
	if (send_all(c->fd, c->out.s, c->out.len) != 0)
		log_msg("reply: %s", strerror(errno));
	drain_and_close(c->fd);
	c->fd = -1;
}

/* --------------------------------------------------------- simple ones */

static void cmd_ls(struct conn *c, const struct sx *body);

static void cmd_types(struct conn *c, const struct sx *body)
{
	(void)body;
	ok_begin(c);
	append(&c->out, "(");
	for (size_t i = 0; i < c->s->types.n; i++) {
		if (i > 0)
			append(&c->out, " ");
		append(&c->out, c->s->types.v[i].name);
	}
	append(&c->out, ")\n");
}

static void cmd_version(struct conn *c, const struct sx *body)
{
	(void)body;
	ok_begin(c);
	append(&c->out, "\"" SIM_VERSION "\"\n");
}

static void cmd_help(struct conn *c, const struct sx *body)
{
	(void)body;
	ok_begin(c);
	append(&c->out, "(ls shutdown kill restart types version help reload run)\n");
}

static void cmd_shutdown(struct conn *c, const struct sx *body)
{
	(void)body;
	ok_begin(c);
	append(&c->out, "#<undef>\n");
	c->exit_after = true;
}

static void write_list(struct sx_buf *b, const struct winfo *w, size_t n)
{
	append(b, "(");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			append(b, " ");
		winfo_write(b, &w[i]);
	}
}

/* Fault "huge": the real list, then made-up workers past 8 MiB. */
static void pad_huge(struct sx_buf *b, size_t n)
{
	for (long k = 0; b->len < HUGE_BYTES; k++)
		xbuf_printf_check(sx_buf_printf(b, "%s(:worker-id \"zz%ld:huge\" :worker-count %ld"
			" :worker-type hello :worker-pid 1 :start-time 0)",
			n + (size_t)k > 0 ? " " : "", k, 100000 + k));
}

static void cmd_ls(struct conn *c, const struct sx *body)
{
	struct winfo *w;
	size_t n = workers_list(c->s, true, &w);

	(void)body;
	ok_begin(c);
	write_list(&c->out, w, n);
	if (c->s->opt.faults.huge)
		pad_huge(&c->out, n);
	append(&c->out, ")\n");
	free(w);
	if (c->s->opt.faults.lose_worker && !c->s->lost_one) {
		/* Answer first, then lose a worker while still holding the
		 * lock: the next command already sees it gone. */
		c->s->lost_one = true;
		send_reply(c);
		worker_lose_highest(c->s);
	}
}

/* --------------------------------------------------------------- targets */

struct wnos {
	long *v;
	size_t n, cap;
};

static void wnos_add(struct wnos *t, long wno)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->v = xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n++] = wno;
}

/* Running workers of type (NULL: all types, app-servers order first). */
static void select_type(struct spvr *s, const char *type, struct wnos *t)
{
	struct winfo *w;
	size_t n = workers_list(s, false, &w);

	for (size_t k = 0; type == NULL && k < s->types.n; k++)
		for (size_t i = 0; i < n; i++)
			if (strcmp(w[i].type, s->types.v[k].name) == 0)
				wnos_add(t, w[i].wno);
	for (size_t i = 0; i < n; i++) {
		bool listed = app_type_find(&s->types, w[i].type) != NULL;

		if (type != NULL ? strcmp(w[i].type, type) == 0 : !listed)
			wnos_add(t, w[i].wno);
	}
	free(w);
}

/* The running worker matching a number or an id; its wno or -1. */
static long select_one(struct spvr *s, const struct sx *x)
{
	struct winfo *w;
	size_t n = workers_list(s, false, &w);
	long found = -1;

	for (size_t i = 0; i < n && found < 0; i++)
		if (x->type == SX_INT ? w[i].wno == x->u.i : strcmp(w[i].wid, sx_text(x)) == 0)
			found = w[i].wno;
	free(w);
	return found;
}

static size_t running_count(struct spvr *s)
{
	struct winfo *w;
	size_t n = workers_list(s, false, &w);

	free(w);
	return n;
}

/*
 * Add the workers target x selects.  0, or -1 with the error reply Kahua
 * gives (a hash table without that key) already in c->out.
 */
static int select_targets(struct conn *c, const char *cmd, const struct sx *x,
			  struct wnos *t)
{
	struct spvr *s = c->s;
	char *key;
	long wno;
	char kind;

	if (sx_is_symbol(x, "*") || (x->type == SX_SYMBOL &&
				     app_type_find(&s->types, sx_text(x)) != NULL)) {
		select_type(s, sx_is_symbol(x, "*") ? NULL : sx_text(x), t);
		return 0;
	}
	if (x->type == SX_INT || x->type == SX_STRING) {
		wno = select_one(s, x);
		if (wno >= 0) {
			wnos_add(t, wno);
			return 0;
		}
	}
	kind = x->type == SX_SYMBOL ? 't' : x->type == SX_STRING ? 'w' : 'n';
	key = written(x);
	err_no_entry(&c->out, cmd, kind, kind == 't' ? s->types.n : running_count(s),
		     kind == 't' ? s->addr_wtype : kind == 'n' ? s->addr_wno : s->addr_wid,
		     key);
	free(key);
	return -1;
}

/* ------------------------------------------------------ worker commands */

/*
 * Fault restart-race: Kahua's main loop reaps the terminated worker
 * before the restart's (or the kill's) own waitpid, which fails; the old
 * worker is gone, unregistered, and no replacement is started.
 */
static bool race_lost(struct spvr *s, long wno)
{
	if (s->opt.faults.restart_race <= 0 || sim_random(s) >= s->opt.faults.restart_race)
		return false;
	log_msg("fault restart-race: worker %ld terminated, waitpid() fails", wno);
	worker_stop(s, wno);
	return true;
}

static void cmd_kill(struct conn *c, const struct sx *body)
{
	struct wnos t = { 0 };

	for (size_t i = 1; i < sx_len(body); i++) {
		size_t from = t.n;

		if (select_targets(c, "kill", sx_nth(body, i), &t) != 0)
			break;
		for (size_t k = from; k < t.n && c->out.len == 0; k++) {
			struct winfo w;

			if (c->s->opt.faults.kill_race && worker_kill_race(c->s, t.v[k]))
				err_kill_race(&c->out);
			/* Kahua's kill waits for a live worker as its restart does. */
			else if (worker_info(c->s, t.v[k], &w) && w.pid > 0 && race_lost(c->s, t.v[k]))
				err_waitpid_race(&c->out, "kill");
			else if (worker_stop(c->s, t.v[k]) == (size_t)-1)
				log_msg("kill: worker %ld was already gone", t.v[k]);
		}
	}
	free(t.v);
	if (c->out.len == 0)
		cmd_ls(c, body);
}

static void cmd_restart(struct conn *c, const struct sx *body)
{
	struct wnos t = { 0 };
	struct sx_buf ids = { 0 };
	char *died = NULL;

	append(&ids, "(");
	for (size_t i = 1; i < sx_len(body) && c->out.len == 0; i++) {
		size_t from = t.n;

		if (select_targets(c, "restart", sx_nth(body, i), &t) != 0)
			break;
		for (size_t k = from; k < t.n && c->out.len == 0; k++) {
			struct winfo old, info;

			if (!worker_info(c->s, t.v[k], &old))
				continue;
			if (race_lost(c->s, t.v[k])) {
				err_waitpid_race(&c->out, "restart");
				break;
			}
			if (worker_restart(c->s, t.v[k], &info) == 1 && died == NULL)
				died = xstrdup(old.type);
			if (ids.len > 1)
				append(&ids, " ");
			xbuf_printf_check(sx_write_string(&ids, old.wid, strlen(old.wid)));
		}
	}
	append(&ids, ")\n");
	if (c->out.len == 0 && died != NULL)
		err_died_at_start(&c->out, "restart", died);
	else if (c->out.len == 0) {
		ok_begin(c);
		append(&c->out, ids.s);
	}
	free(died);
	free(t.v);
	sx_buf_free(&ids);
}

static void cmd_run(struct conn *c, const struct sx *body)
{
	struct sx_buf list = { 0 };
	char *died = NULL;

	append(&list, "(");
	for (size_t i = 1; i < sx_len(body); i++) {
		const struct sx *x = sx_nth(body, i);
		const struct app_type *t = x->type == SX_SYMBOL ?
			app_type_find(&c->s->types, sx_text(x)) : NULL;
		struct winfo info;

		if (t == NULL) {
			/* Kahua 1.1_pre19 calls an unbound log-format here. */
			err_unbound_log_format(&c->out);
			break;
		}
		if (worker_start(c->s, t->name, t->args, t->nargs, (size_t)-1, &info) != 0) {
			if (died == NULL)
				died = xstrdup(t->name);
			continue;
		}
		if (list.len > 1)
			append(&list, " ");
		winfo_write(&list, &info);
	}
	append(&list, ")\n");
	if (c->out.len == 0 && died != NULL)
		err_died_at_start(&c->out, "run", died);
	else if (c->out.len == 0) {
		ok_begin(c);
		append(&c->out, list.s);
	}
	free(died);
	sx_buf_free(&list);
}

static size_t running_of(struct spvr *s, const char *type)
{
	struct winfo *w;
	size_t n = workers_list(s, false, &w), k = 0;

	for (size_t i = 0; i < n; i++)
		k += strcmp(w[i].type, type) == 0;
	free(w);
	return k;
}

static void cmd_reload(struct conn *c, const struct sx *body)
{
	struct spvr *s = c->s;
	struct app_types nt, old;
	char err[8192];
	char *died = NULL;

	if (app_servers_load(&s->site, &nt, err, sizeof err) != 0) {
		log_msg("reload: %s", err);
		ok_begin(c);
		append(&c->out, "#f\n");
		return;
	}
	for (size_t i = 0; i < nt.n; i++) {
		const struct app_type *o = app_type_find(&s->types, nt.v[i].name);

		nt.v[i].rr = o ? o->rr : 0;
	}
	pthread_mutex_lock(&s->mu);
	old = s->types;
	s->types = nt;
	pthread_mutex_unlock(&s->mu);
	app_types_free(&old);
	for (size_t i = 0; i < s->types.n; i++) {
		const struct app_type *t = &s->types.v[i];
		struct winfo info;

		for (size_t k = running_of(s, t->name); k < (size_t)t->run_by_default; k++)
			if (worker_start(s, t->name, t->args, t->nargs, (size_t)-1, &info) != 0 &&
			    died == NULL)
				died = xstrdup(t->name);
	}
	if (died != NULL) {
		err_died_at_start(&c->out, "run", died);
		free(died);
		return;
	}
	cmd_types(c, body);
}

/* ------------------------------------------------------------- dispatch */

static const struct command {
	const char *name;
	cmd_fn *fn;
} commands[] = {
	{ "ls", cmd_ls }, { "shutdown", cmd_shutdown }, { "kill", cmd_kill },
	{ "restart", cmd_restart }, { "types", cmd_types },
	{ "version", cmd_version }, { "help", cmd_help },
	{ "reload", cmd_reload }, { "run", cmd_run },
};

static void spvr_command(struct conn *c)
{
	const struct sx *body = c->m.body;
	cmd_fn *fn = NULL;
	char *w;

	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (sx_is_symbol(sx_nth(body, 0), commands[i].name))
			fn = commands[i].fn;
	if (fn == NULL) {
		w = written(body);
		if (!sx_is_list(body) || sx_len(body) == 0)
			err_bad_command(&c->out, w);
		else
			err_unknown_command(&c->out, w);
		free(w);
		return;
	}
	if (c->s->opt.faults.hang_restart && (fn == cmd_restart || fn == cmd_run))
		hang_forever();         /* without the lock: ls still answers */
	if (fn != cmd_ls && fn != cmd_types && fn != cmd_version && fn != cmd_help) {
		w = written(body);
		log_msg("command %s", w);
		free(w);
	}
	pthread_mutex_lock(&c->s->cmd_mu);
	fn(c, body);
	pthread_mutex_unlock(&c->s->cmd_mu);
}

/* ---------------------------------------------------------- web requests */

/*
 * Round robin among the listed workers of t, dead ones included, as
 * Kahua dispatches; "" if there is none or the pick has no id (#<eof>:
 * Kahua has no socket address for it).
 */
static void pick_worker(struct spvr *s, struct app_type *t, char wid[SIM_WID_MAX])
{
	struct winfo *w;
	size_t n = workers_list(s, false, &w), k = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].type, t->name) == 0)
			w[k++] = w[i];
	wid[0] = '\0';
	if (k > 0 && !w[++t->rr % k].no_id)
		memcpy(wid, w[t->rr % k].wid, SIM_WID_MAX);
	free(w);
}

static struct app_type *web_type(struct spvr *s, const char *name)
{
	for (size_t i = 0; i < s->types.n; i++) {
		struct app_type *t = &s->types.v[i];

		if (name == NULL ? t->run_by_default > 0 : strcmp(t->name, name) == 0)
			return t;
	}
	return NULL;
}

static void forward(struct conn *c, const char *wid)
{
	struct spvr *s = c->s;
	char *path = sockdir_path(&s->sd, wid);
	struct sx_buf req = { 0 };
	struct msg r;
	int fd = usock_connect(&s->sd, wid);

	if (fd < 0) {
		log_msg("SPVR-ERROR: <system-error>: connect failed on %s: %s", path, strerror(errno));
		err_system(&c->out, "connect", path, strerror(errno));
		free(path);
		return;
	}
	/* kahua-httpd's format: header and body back to back. */
	xbuf_printf_check(sx_buf_append(&req, c->m.buf + c->m.hoff, c->m.hend - c->m.hoff));
	if (c->m.body != NULL)
		xbuf_printf_check(sx_buf_append(&req, c->m.buf + c->m.boff,
						c->m.bend - c->m.boff));
	else
		append(&req, "#<eof>");
	if (send_all(fd, req.s, req.len) != 0) {
		err_system(&c->out, "write", path, strerror(errno));
	} else {
		msg_read(fd, false, SIM_REPLY_MAX, NULL, &r);
		if (r.st == MSG_OK) {
			xbuf_printf_check(sx_buf_append(&c->out, r.buf + r.hoff, r.hend - r.hoff));
			append(&c->out, "\n");
			xbuf_printf_check(sx_buf_append(&c->out, r.buf + r.boff, r.bend - r.boff));
			append(&c->out, "\n");
		} else {
			const char *why = r.st == MSG_IO ? strerror(r.err_no) :
					  "connection closed before a complete reply";

			/* Kahua logs these: a worker that reset the request. */
			log_msg("SPVR-ERROR: <system-error>: read failed on %s: %s", path, why);
			err_system(&c->out, "read", path, why);
		}
		msg_free(&r);
	}
	close(fd);
	sx_buf_free(&req);
	free(path);
}

static void web_request(struct conn *c, const char *type)
{
	struct spvr *s = c->s;
	char wid[SIM_WID_MAX] = "";
	struct app_type *t;
	char *name;

	/* Picking a worker takes the global lock: a restart holds it. */
	pthread_mutex_lock(&s->cmd_mu);
	t = web_type(s, type);
	if (t != NULL)
		pick_worker(s, t, wid);
	name = xstrdup(t != NULL ? t->name : type != NULL ? type : "#f");
	pthread_mutex_unlock(&s->cmd_mu);
	/* Fault dispatch-delay: Kahua's thread descheduled between its pick
	 * (find-worker) and its connect (dispatch-to-worker), as under load. */
	if (s->opt.faults.dispatch_delay_ms > 0 && wid[0] != '\0')
		sleep_ms(s->opt.faults.dispatch_delay_ms);
	if (t == NULL)
		err_worker_not_found(&c->out, name);
	else if (wid[0] == '\0')
		err_worker_not_respond(&c->out, name);
	else
		forward(c, wid);
	free(name);
}

/* ------------------------------------------------------------ a request */

static void handle(struct conn *c)
{
	const struct sx *h = c->m.hdr, *v;
	char *w;

	switch (c->m.st) {
	case MSG_TOO_BIG:
		err_too_big(&c->out, SIM_REQ_MAX);
		return;
	case MSG_EOF_INSIDE:
		err_read_eof(&c->out, &c->m);
		return;
	case MSG_SYNTAX:
	case MSG_REJECTED:
	case MSG_IO:
		err_read_syntax(&c->out, &c->m);
		return;
	case MSG_HDR_EOF:
	case MSG_BODY_EOF:
	case MSG_OK:
		break;
	}
	if (!sx_is_list(h)) {
		w = written(h);
		err_list_required(&c->out, w);
		free(w);
		return;
	}
	v = sx_nth(sx_alist_get(h, "x-kahua-worker"), 1);
	if (sx_is_string(v) && strcmp(sx_text(v), "spvr") == 0)
		spvr_command(c);
	else
		web_request(c, sx_is_string(v) ? sx_text(v) : NULL);
}

/* Faults that act before any command is looked at; true if one did. */
static bool early_fault(struct conn *c)
{
	static const char garbage[] = ")))\0\xff garbage ((";
	const struct faults *f = &c->s->opt.faults;

	if (f->hang) {
		pthread_mutex_lock(&c->s->cmd_mu);
		hang_forever();
	}
	if (f->close) {
		close(c->fd);
		return true;
	}
	if (f->garbage) {
		if (send_all(c->fd, garbage, sizeof garbage - 1) != 0)
			log_msg("garbage reply: %s", strerror(errno));
		drain_and_close(c->fd);
		return true;
	}
	return false;
}

void conn_serve(struct spvr *s, int fd)
{
	struct conn c;
	struct timeval tv = { SEND_TIMEOUT_S, 0 };

	memset(&c, 0, sizeof c);
	c.s = s;
	c.fd = fd;
	/* A client that stops reading must not pin this thread forever. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
		log_msg("SO_SNDTIMEO: %s", strerror(errno));
	msg_read(fd, false, SIM_REQ_MAX, NULL, &c.m);
	if (c.m.st == MSG_IO) {
		close(fd);              /* the client is gone: nobody to answer */
	} else if (!early_fault(&c)) {
		handle(&c);
		send_reply(&c);
		if (c.exit_after)
			spvr_request_exit(s, 0);
	}
	msg_free(&c.m);
	sx_buf_free(&c.out);
}
