/*
 * errors.c: SPVR-ERROR replies as a real kahua-spvr writes them.
 *
 * Header (("x-kahua-status" "SPVR-ERROR" <class>)); body a list of the
 * message and Gauche's report: "*** CLASS: message", "Stack Trace:", a
 * rule, numbered frames.  Frames are copied from recordings of Kahua
 * 1.1_pre19 (kahua-protocol.md); situations never recorded get frames in
 * the same style.
 */
#include "sim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPVR "\"/usr/local/kahua/lib/kahua/kahua-spvr.scm\""
#define GSID "\"/usr/local/kahua/lib/kahua/kahua/gsid.scm\""
#define AT "\n        at "
#define JOB_SCM "/usr/local/share/gauche-0.98/0.9.15-p2/lib/control/job.scm"
#define POOL_SCM "/usr/local/share/gauche-0.98/0.9.15-p2/lib/control/thread-pool.scm"

#define F_HEAD "thunk", "(proc out)", "(kahua-error-string e #t)" AT SPVR ":711"
#define F_HANDLE "(handle-spvr-command body)" AT SPVR ":688"
#define F_TAIL \
	"(with-error-handler (lambda (e) (cond (else (send-message out ..." \
	AT "\"libmacro.scm\":526" \
	"\n        expanded from (guard (e (else (send-message out (spvr-error-header  ..." \
	AT SPVR ":709", \
	"thunk", \
	"((job-thunk job))" AT "\"" JOB_SCM "\":133", \
	"(job-run! job)" AT "\"" POOL_SCM "\":96", \
	NULL
#define F_RECEIVE "(read in)" AT SPVR ":181", "(receive-message in)" AT SPVR ":712"

static void put(struct sx_buf *b, const char *s)
{
	xbuf_printf_check(sx_buf_append(b, s, strlen(s)));
}

static void put_string(struct sx_buf *b, const char *s)
{
	xbuf_printf_check(sx_write_string(b, s, strlen(s)));
}

static void header(struct sx_buf *b, const char *cls)
{
	xbuf_printf_check(sx_buf_printf(b,
		"((\"x-kahua-status\" \"SPVR-ERROR\" %s))\n", cls));
}

/* "<read-error>" -> "READ-ERROR" */
static void label(struct sx_buf *b, const char *cls)
{
	for (const char *p = cls; *p != '\0'; p++) {
		char c[2] = { (char)toupper((unsigned char)*p), '\0' };

		if (*p != '<' && *p != '>')
			put(b, c);
	}
}

static void reply(struct sx_buf *b, const char *cls, const char *msg,
		  const char *note, const char *const *frames)
{
	struct sx_buf t = { 0 };

	put(&t, "*** ");
	label(&t, cls);
	put(&t, ": ");
	put(&t, msg);
	put(&t, "\n");
	if (note != NULL)
		put(&t, note);
	put(&t, "Stack Trace:\n_______________________________________\n");
	for (size_t i = 0; frames[i] != NULL; i++)
		xbuf_printf_check(sx_buf_printf(&t, "%3zu  %s\n", i, frames[i]));
	header(b, cls);
	put(b, "(");
	put_string(b, msg);
	put(b, " ");
	put_string(b, t.s);
	put(b, ")\n");
	sx_buf_free(&t);
}

/* The older condition report kahua-spvr gives its own condition classes. */
static void reply_old(struct sx_buf *b, const char *cls, const char *msg,
		      const char *raise_frame)
{
	char *t = xasprintf("*** %s: %s\n"
		"----------------------------------------\n"
		"(initialize obj initargs)\n"
		"        [unknown location]:\n"
		"(apply make fmt :message (apply format/ss #f msgs) keys)\n"
		"        [unknown location]:\n"
		"%s\n"
		"(with-error-handler (lambda (e) (cond (else (send-message out ...\n"
		"        At line 526 of \"libmacro.scm\"\n"
		"thunk\n"
		"((job-thunk job))\n"
		"        At line 133 of \"" JOB_SCM "\"\n"
		"(job-run! job)\n"
		"        At line 96 of \"" POOL_SCM "\"\n",
		cls, msg, raise_frame);

	header(b, cls);
	put(b, "(");
	put_string(b, msg);
	put(b, " ");
	put_string(b, t);
	put(b, ")\n");
	free(t);
}

static const char *const restart_type[] = { F_HEAD,
	"(hash-table-get (wtype-table-of self) worker-type)" AT SPVR ":458",
	"(workers-of type)" AT SPVR ":459",
	"(circular-list->list (workers-of type))" AT SPVR ":459",
	"(restart-workers *spvr* type-or-wno)" AT SPVR ":655",
	"(kons (car lis) knil)", F_HANDLE, F_TAIL };
static const char *const restart_wno[] = { F_HEAD,
	"(hash-table-get (wno-table-of self) wno)" AT SPVR ":467",
	"(restart-workers *spvr* type-or-wno)" AT SPVR ":659",
	"(kons (car lis) knil)", F_HANDLE, F_TAIL };
static const char *const restart_wid[] = { F_HEAD,
	"(hash-table-get (wid-table-of self) wid)" AT SPVR ":463",
	"(restart-workers *spvr* type-or-wno)" AT SPVR ":657",
	"(kons (car lis) knil)", F_HANDLE, F_TAIL };
#define F_KILL_LOOP "(proc (car xs))", \
	"(for-each (lambda (type-or-count) (cond ((eq? type-or-count ' ..." \
	AT SPVR ":633"
static const char *const kill_type[] = { F_HEAD,
	"(hash-table-get (wtype-table-of *spvr*) type-or-count)" AT SPVR ":638",
	F_KILL_LOOP, F_HANDLE, F_TAIL };
static const char *const kill_wno[] = { F_HEAD,
	"(hash-table-get (wno-table-of *spvr*) type-or-count)" AT SPVR ":642",
	F_KILL_LOOP, F_HANDLE, F_TAIL };
static const char *const kill_wid[] = { F_HEAD,
	"(hash-table-get (wid-table-of *spvr*) type-or-count)" AT SPVR ":640",
	F_KILL_LOOP, F_HANDLE, F_TAIL };

void err_no_entry(struct sx_buf *b, const char *cmd, char kind,
		  size_t size, unsigned long long addr, const char *key)
{
	bool kill = strcmp(cmd, "kill") == 0;
	const char *const *frames =
		kind == 't' ? (kill ? kill_type : restart_type) :
		kind == 'n' ? (kill ? kill_wno : restart_wno) :
		(kill ? kill_wid : restart_wid);
	char *msg = kahua_1_0() ? xasprintf("hash table doesn't have an entry for key %s", key) :
		    xasprintf("#<hash-table %s[%zu] @0x%llx> doesn't have an entry for key %s",
			      kind == 'w' ? "string" : "eq", size, addr, key);

	reply(b, "<error>", msg, NULL, frames);
	free(msg);
}

static const char *const unknown_command[] = { F_HEAD, F_HANDLE, F_TAIL };

void err_unknown_command(struct sx_buf *b, const char *written)
{
	char *msg = xasprintf("unknown spvr command: %s", written);

	reply(b, "<error>", msg, NULL, unknown_command);
	free(msg);
}

static const char *const bad_command[] = { F_HEAD,
	"(error \"bad spvr command:\" body)" AT SPVR ":670", F_HANDLE, F_TAIL };

void err_bad_command(struct sx_buf *b, const char *written)
{
	char *msg = xasprintf("bad spvr command: %s", written);

	reply(b, "<error>", msg, NULL, bad_command);
	free(msg);
}

static const char *const read_error[] = { F_HEAD, F_RECEIVE, F_TAIL };

void err_read_eof(struct sx_buf *b, const struct msg *m)
{
	char *msg;

	if (m->start_char == '"')
		msg = xasprintf("Read error at \"??\":line %zu: EOF encountered in a string literal",
				m->eof_line);
	else
		msg = xasprintf("Read error at \"??\":line %zu: EOF inside a list (starting from line %zu)",
				m->eof_line, m->start_line);
	reply(b, "<read-error>", msg, NULL, read_error);
	free(msg);
}

void err_read_syntax(struct sx_buf *b, const struct msg *m)
{
	char *msg = xasprintf("Read error at \"??\":line %zu: %s",
			      m->sxerr.line ? m->sxerr.line : 1, m->sxerr.msg);

	reply(b, "<read-error>", msg, NULL, read_error);
	free(msg);
}

void err_too_big(struct sx_buf *b, size_t max)
{
	char *msg = xasprintf("request too large: no complete header and body in %zu bytes",
			      max);

	reply(b, "<error>", msg, NULL, read_error);
	free(msg);
}

static const char *const list_required[] = { F_HEAD,
	"(assoc \"x-kahua-sgsid\" header)" AT GSID ":64",
	"((assoc \"x-kahua-sgsid\" header) => cadr)" AT GSID ":64",
	"(get-gsid-from-header header)" AT SPVR ":681", F_TAIL };

void err_list_required(struct sx_buf *b, const char *written)
{
	char *msg = xasprintf("list required, but got %s", written);

	reply(b, "<error>", msg, NULL, list_required);
	free(msg);
}

static const char *const unbound_log_format[] = { F_HEAD,
	"(log-format \"Worker not found\")" AT SPVR ":308",
	"(worker-script (name-of wtype) (slot-ref wtype 'spvr))" AT SPVR ":557",
	"(initialize obj initargs)",
	"(make <kahua-worker> :type type)" AT SPVR ":372",
	"thunk", "thunk",
	"(run-worker *spvr* type)" AT SPVR ":631",
	"(proc (car xs))", F_HANDLE, F_TAIL };

void err_unbound_log_format(struct sx_buf *b)
{
	reply(b, "<unbound-variable-error>", "unbound variable: log-format",
	      "    NOTE: `log-format' is exported from the following module:\n"
	      "     - gauche.logger\n", unbound_log_format);
}

void err_worker_not_found(struct sx_buf *b, const char *type)
{
	char *msg = xasprintf("/%s", type);

	reply_old(b, "<kahua-worker-not-found>", msg,
		  "(spvr-errorf <kahua-worker-not-found> /~a wtype)\n"
		  "        At line 701 of " SPVR);
	free(msg);
}

void err_worker_not_respond(struct sx_buf *b, const char *type)
{
	char *msg = xasprintf("worker %s not respond", type);

	reply_old(b, "<kahua-worker-not-respond>", msg,
		  "(spvr-errorf <kahua-worker-not-respond> worker ~a not respond wtype)\n"
		  "        At line 697 of " SPVR);
	free(msg);
}

static const char *const system_error[] = { "thunk", "(proc out)",
	"(kahua-error-string e #t)" AT SPVR ":609",
	"(read in)" AT SPVR ":180",
	"(receive-message in)" AT SPVR ":610",
	"thunk", F_TAIL };

void err_system(struct sx_buf *b, const char *op, const char *path,
		const char *why)
{
	unsigned long long addr = 0x7f0000000000ULL | (rand_u64() & 0xfffffffff0ULL);
	char *msg;

	if (strcmp(op, "connect") == 0)
		msg = xasprintf("connect failed to \"%s\": %s", path, why);
	else if (strcmp(op, "write") == 0)
		msg = xasprintf("write failed on #<oport (socket output #<socket (connect \"%s\")>) 0x%llx>: %s",
				path, addr, why);
	else
		msg = xasprintf("read failed on #<iport (socket input #<socket (connect \"%s\")>) 0x%llx>: %s",
				path, addr, why);
	reply(b, "<system-error>", msg, NULL, system_error);
	free(msg);
}

static const char *const died_run[] = { F_HEAD,
	"(error \"worker ~a died at start\" (name-of wtype))" AT SPVR ":386",
	"(run-worker *spvr* type)" AT SPVR ":631",
	"(proc (car xs))", F_HANDLE, F_TAIL };
static const char *const died_restart[] = { F_HEAD,
	"(error \"worker ~a died at start\" (name-of wtype))" AT SPVR ":386",
	"(restart-workers *spvr* type-or-wno)" AT SPVR ":655",
	"(kons (car lis) knil)", F_HANDLE, F_TAIL };

void err_died_at_start(struct sx_buf *b, const char *cmd, const char *type)
{
	char *msg = xasprintf("worker %s died at start", type);

	reply(b, "<error>", msg, NULL,
	      strcmp(cmd, "run") == 0 ? died_run : died_restart);
	free(msg);
}

/* Recorded from Kahua 1.1_pre19 on Gauche 0.9.15-p2 (failure-modes.json). */
#define SPVR_P2 "\"/usr/local/lib/kahua/kahua-spvr.scm\""
#define GAUCHE_P2 "/usr/local/gauche/share/gauche-0.98/0.9.15-p2/lib/control/"

static const char *const waitpid_race[] = {
	"thunk", "(proc out)", "(kahua-error-string e #t)" AT SPVR_P2 ":711",
	"(sys-waitpid (process-pid process) :nohang nohang?)",
	"thunk", "thunk",
	"(terminate! w)" AT SPVR_P2 ":451",
	"(proc (car xs))",
	"(map (lambda (w) (let ((type (name-of (type-of w))) (wid (wid ..." AT SPVR_P2 ":447",
	"(restart-workers *spvr* type-or-wno)" AT SPVR_P2 ":657",
	"(kons (car lis) knil)",
	"(handle-spvr-command body)" AT SPVR_P2 ":688",
	"(with-error-handler (lambda (e) (cond (else (send-message out ..."
	AT "\"libmacro.scm\":526"
	"\n        expanded from (guard (e (else (send-message out (spvr-error-header  ..."
	AT SPVR_P2 ":709",
	"thunk",
	"((job-thunk job))" AT "\"" GAUCHE_P2 "job.scm\":133",
	"(job-run! job)" AT "\"" GAUCHE_P2 "thread-pool.scm\":96",
	NULL
};

/* The same race met by a kill: not recorded, frames in the recorded style. */
static const char *const waitpid_race_kill[] = {
	"thunk", "(proc out)", "(kahua-error-string e #t)" AT SPVR_P2 ":711",
	"(sys-waitpid (process-pid process) :nohang nohang?)",
	"thunk", "thunk",
	"(terminate! (hash-table-get (wno-table-of *spvr*) type-or-count))" AT SPVR_P2 ":642",
	"(proc (car xs))",
	"(handle-spvr-command body)" AT SPVR_P2 ":688",
	"(with-error-handler (lambda (e) (cond (else (send-message out ..."
	AT "\"libmacro.scm\":526"
	"\n        expanded from (guard (e (else (send-message out (spvr-error-header  ..."
	AT SPVR_P2 ":709",
	"thunk",
	"((job-thunk job))" AT "\"" GAUCHE_P2 "job.scm\":133",
	"(job-run! job)" AT "\"" GAUCHE_P2 "thread-pool.scm\":96",
	NULL
};

void err_waitpid_race(struct sx_buf *b, const char *cmd)
{
	reply(b, "<system-error>", "waitpid() failed: No child processes", NULL,
	      strcmp(cmd, "kill") == 0 ? waitpid_race_kill : waitpid_race);
}

/* Not recorded: frames in the style of the recorded ones. */
static const char *const kill_race[] = { F_HEAD,
	"(sys-kill (process-pid p) sig)",
	"(process-send-signal p SIGTERM)" AT SPVR ":577",
	"(%terminate! spvr type self)" AT SPVR ":588",
	"(terminate! (hash-table-get (wno-table-of *spvr*) type-or-count))" AT SPVR ":642",
	"(proc (car xs))", F_HANDLE, F_TAIL };

void err_kill_race(struct sx_buf *b)
{
	reply(b, "<system-error>", "kill failed: No such process", NULL, kill_race);
}
