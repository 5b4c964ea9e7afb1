/*
 * httpd.c: the HTTP front role (kahua-httpd.scm).
 *
 *   kahua-sim kahua-httpd.scm -S SITE [--fault=http-500]
 *             [--fault=http-delay=MS] HOST:PORT
 *
 * The supervisor listens on HOST:PORT and hands the socket over as fd 3;
 * the address stays on the command line, where kahua-restarter looks for
 * it.  One request per connection, a thread each, "Connection: close"
 * and a Content-Length on every response.  GET /TYPE/... becomes the
 * request kahua-httpd sends, written to the supervisor's control socket;
 * the reply becomes 200 (or the application's Status), 404 for
 * <kahua-worker-not-found>, 503 for <kahua-worker-not-respond>, 500 for
 * anything else.
 */
#include "sim.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define HEAD_MAX (64 * 1024)
#define BODY_MAX (1024 * 1024)
#define CLIENT_TIMEOUT_S 30
#define HTTPD_STACK (256 * 1024)
#define LISTEN_FD 3

struct hopts {
	bool fail500;
	long delay_ms;
	char host[256];
	char port[16];
};

static struct hopts H;
static struct sockdir SD;

struct header {
	char *name, *value;
};

struct request {
	char *buf;
	size_t len, head_end;
	char *method, *target, *version;
	struct header *h;
	size_t nh;
	char remote[INET6_ADDRSTRLEN];
};

struct response {
	int code;
	char *reason;
	struct sx_buf body;
};

/* ------------------------------------------------------------- options */

static void parse_fault(const char *spec)
{
	if (strcmp(spec, "http-500") == 0)
		H.fail500 = true;
	else if (strncmp(spec, "http-delay=", 11) == 0 &&
		 parse_long(spec + 11, 0, 3600000, &H.delay_ms))
		;
	else
		die(SIM_HTTPD_SCRIPT, "unknown --fault");
}

static void parse(int argc, char **argv, struct site *site)
{
	const char *root = NULL, *addr = NULL, *colon;
	char err[8192];

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-S") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strncmp(argv[i], "--fault=", 8) == 0)
			parse_fault(argv[i] + 8);
		else
			addr = argv[i];
	}
	if (root == NULL || addr == NULL || (colon = strrchr(addr, ':')) == NULL)
		die(SIM_HTTPD_SCRIPT, "usage: -S SITE [--fault=F] HOST:PORT");
	snprintf(H.host, sizeof H.host, "%.*s", (int)(colon - addr), addr);
	snprintf(H.port, sizeof H.port, "%s", colon + 1);
	if (site_load(root, site, err, sizeof err) != 0) {
		fprintf(stderr, "kahua-sim: %s\n", err);
		exit(1);
	}
}

/* ------------------------------------------------------------- reading */

static char *head_end(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (i + 3 < len && memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return buf + i + 4;
		if (i + 1 < len && memcmp(buf + i, "\n\n", 2) == 0)
			return buf + i + 2;
	}
	return NULL;
}

/* 0, -1: client gone, -2: head too large */
static int read_head(int fd, struct request *r)
{
	char *end;

	r->buf = xmalloc(HEAD_MAX + 1);
	for (;;) {
		ssize_t n = recv(fd, r->buf + r->len, HEAD_MAX - r->len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		r->len += (size_t)n;
		r->buf[r->len] = '\0';
		end = head_end(r->buf, r->len);
		if (end != NULL) {
			r->head_end = (size_t)(end - r->buf);
			return 0;
		}
		if (r->len >= HEAD_MAX)
			return -2;
	}
}

static char *next_line(char **p)
{
	char *line = *p, *nl = strchr(line, '\n');

	if (nl == NULL)
		return NULL;
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	*p = nl + 1;
	return line;
}

static int parse_head(struct request *r)
{
	char *p = r->buf, *line, *sp1, *sp2;

	r->buf[r->head_end] = '\0';
	line = next_line(&p);
	if (line == NULL || (sp1 = strchr(line, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL)
		return -1;
	*sp1 = *sp2 = '\0';
	r->method = line;
	r->target = sp1 + 1;
	r->version = sp2 + 1;
	if (r->target[0] != '/' || strncmp(r->version, "HTTP/", 5) != 0)
		return -1;
	r->h = xmalloc((r->head_end / 2 + 1) * sizeof *r->h);
	while ((line = next_line(&p)) != NULL && line[0] != '\0') {
		char *colon = strchr(line, ':');

		if (colon == NULL)
			return -1;
		*colon = '\0';
		colon++;
		colon += strspn(colon, " \t");
		r->h[r->nh].name = line;
		r->h[r->nh++].value = colon;
	}
	return 0;
}

static const char *header_value(const struct request *r, const char *name)
{
	for (size_t i = 0; i < r->nh; i++)
		if (strcasecmp(r->h[i].name, name) == 0)
			return r->h[i].value;
	return NULL;
}

/* Read and drop a request body; -1 if too large or cut. */
static int skip_body(int fd, const struct request *r)
{
	const char *cl = header_value(r, "Content-Length");
	long want, have = (long)(r->len - r->head_end);
	char buf[4096];

	if (cl == NULL)
		return 0;
	if (!parse_long(cl, 0, BODY_MAX, &want))
		return -1;
	while (have < want) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		have += n;
	}
	return 0;
}

/* ------------------------------------------------------- kahua request */

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' :
	       isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10 : -1;
}

static void percent_decode(char *s)
{
	char *d = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*d++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

static void put(struct sx_buf *b, const char *s)
{
	xbuf_printf_check(sx_buf_append(b, s, strlen(s)));
}

static void put_str(struct sx_buf *b, const char *s)
{
	xbuf_printf_check(sx_write_string(b, s, strlen(s)));
}

static void pair(struct sx_buf *b, const char *k, const char *v)
{
	put(b, " (");
	put_str(b, k);
	put(b, " ");
	put_str(b, v);
	put(b, ")");
}

static void metavariables(struct sx_buf *b, const struct request *r,
			  const char *path, const char *query)
{
	put(b, " (\"x-kahua-metavariables\" (");
	pair(b, "GATEWAY_INTERFACE", "CGI/1.1");
	pair(b, "REMOTE_ADDR", r->remote);
	pair(b, "SERVER_PROTOCOL", r->version);
	pair(b, "SERVER_SOFTWARE", "Kahua-HTTPd/" SIM_VERSION);
	pair(b, "SERVER_PORT", H.port);
	pair(b, "REQUEST_METHOD", r->method);
	pair(b, "SCRIPT_NAME", "");
	pair(b, "SERVER_NAME", H.host);
	pair(b, "PATH_INFO", path);
	if (query != NULL)
		pair(b, "QUERY_STRING", query);
	for (size_t i = 0; i < r->nh; i++) {
		char *name = xasprintf("HTTP_%s", r->h[i].name);

		for (char *p = name; *p != '\0'; p++)
			*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		pair(b, name, r->h[i].value);
		free(name);
	}
	put(b, "))");
}

/* The request kahua-httpd writes to the supervisor; NULL if the path
 * names no type. */
static char *kahua_request(const struct request *r, char **type)
{
	char *path = xstrdup(r->target), *query = strchr(path, '?');
	char *copy, *save = NULL, *comp;
	struct sx_buf b = { 0 };
	bool first = true;

	if (query != NULL)
		*query++ = '\0';
	percent_decode(path);
	copy = xstrdup(path);
	*type = NULL;
	put(&b, "((\"x-kahua-worker\" ");
	for (comp = strtok_r(copy, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
		if (first) {
			*type = xstrdup(comp);
			put_str(&b, comp);
			put(&b, ") (\"x-kahua-path-info\" (");
		} else {
			put(&b, " ");
		}
		put_str(&b, comp);
		first = false;
	}
	if (*type != NULL) {
		put(&b, ")) (\"x-kahua-server-uri\" ");
		xbuf_printf_check(sx_buf_printf(&b, "\"http://%s:%s\")", H.host, H.port));
		put(&b, " (\"x-kahua-bridge\" \"\") (\"x-kahua-remote-addr\" ");
		put_str(&b, r->remote);
		put(&b, ")");
		metavariables(&b, r, path, query);
		put(&b, ")()");
	}
	free(copy);
	free(path);
	if (*type == NULL) {
		sx_buf_free(&b);
		return NULL;
	}
	return b.s;
}

/* ------------------------------------------------------------- replies */

static const char *reason_of(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return code >= 500 ? "Internal Server Error" : "Error";
	}
}

static void html_text(struct sx_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		const char *e = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
				*s == '&' ? "&amp;" : NULL;
		char c[2] = { *s, '\0' };

		put(b, e != NULL ? e : c);
	}
}

static void error_page(struct response *res, int code, const char *detail)
{
	res->code = code;
	res->reason = xstrdup(reason_of(code));
	sx_buf_free(&res->body);
	xbuf_printf_check(sx_buf_printf(&res->body,
		"<html><head><title>%d %s</title></head><body><h1>%d %s</h1><p>",
		code, res->reason, code, res->reason));
	html_text(&res->body, detail);
	put(&res->body, "</p></body></html>\n");
}

/* Kahua's page lists flattened: every string and symbol in order. */
static void render(struct sx_buf *b, const struct sx *x)
{
	switch (x->type) {
	case SX_LIST:
		for (size_t i = 0; i < sx_len(x); i++)
			render(b, sx_nth(x, i));
		break;
	case SX_STRING:
		xbuf_printf_check(sx_buf_append(b, x->u.atom.s, x->u.atom.len));
		break;
	case SX_SYMBOL:
		put(b, sx_text(x));
		break;
	case SX_INT:
		xbuf_printf_check(sx_buf_printf(b, "%lld", x->u.i));
		break;
	case SX_BOOL:
	case SX_OPAQUE:
		break;
	}
}

static void translate(const struct msg *m, struct response *res)
{
	const struct sx *st = sx_alist_get(m->hdr, "x-kahua-status");
	const struct sx *status = sx_nth(sx_alist_get(m->hdr, "Status"), 1);
	const char *cls = sx_text(sx_nth(st, 2));
	const char *msg = sx_text(sx_nth(m->body, 0));
	long code = 200;

	if (sx_is_string(sx_nth(st, 1)) && strcmp(sx_text(sx_nth(st, 1)), "SPVR-ERROR") == 0) {
		code = cls && strcmp(cls, "<kahua-worker-not-found>") == 0 ? 404 :
		       cls && strcmp(cls, "<kahua-worker-not-respond>") == 0 ? 503 : 500;
		error_page(res, (int)code, msg ? msg : "supervisor error");
		return;
	}
	if (sx_is_string(status)) {
		char digits[4] = { 0 };

		memcpy(digits, sx_text(status), strnlen(sx_text(status), 3));
		if (!parse_long(digits, 100, 599, &code))
			code = 500;
	}
	res->code = (int)code;
	res->reason = xstrdup(sx_is_string(status) && strlen(sx_text(status)) > 4 ?
			      sx_text(status) + 4 : reason_of((int)code));
	render(&res->body, m->body);
}

static void ask_supervisor(const char *req, struct response *res)
{
	struct msg m;
	int fd = usock_connect(&SD, "kahua");

	if (fd < 0) {
		char *why = xasprintf("supervisor %s/kahua: %s", SD.path, strerror(errno));

		error_page(res, 500, why);
		free(why);
		return;
	}
	if (send_all(fd, req, strlen(req)) != 0) {
		error_page(res, 500, strerror(errno));
		close(fd);
		return;
	}
	msg_read(fd, false, SIM_REPLY_MAX, NULL, &m);
	close(fd);
	if (m.st == MSG_OK)
		translate(&m, res);
	else
		error_page(res, 500, "no complete reply from the supervisor");
	msg_free(&m);
}

static void respond(int fd, const struct request *r, struct response *res)
{
	struct sx_buf b = { 0 };
	bool head = r->method != NULL && strcmp(r->method, "HEAD") == 0;

	xbuf_printf_check(sx_buf_printf(&b, "HTTP/1.1 %d %s\r\n"
		"Content-Type: text/html; charset=utf-8\r\n"
		"Content-Length: %zu\r\n"
		"Connection: close\r\n"
		"Server: Kahua-HTTPd/" SIM_VERSION " (kahua-sim)\r\n\r\n",
		res->code, res->reason ? res->reason : reason_of(res->code),
		res->body.len));
	if (!head && res->body.len > 0)
		xbuf_printf_check(sx_buf_append(&b, res->body.s, res->body.len));
	if (send_all(fd, b.s, b.len) != 0 && errno != EPIPE && errno != ECONNRESET)
		warnx2("kahua-httpd: reply", strerror(errno));
	sx_buf_free(&b);
}

/* ------------------------------------------------------------- serving */

static void remote_addr(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	const void *a;

	memset(&ss, 0, sizeof ss);
	snprintf(out, size, "127.0.0.1");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	a = ss.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr :
	    (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
	if (inet_ntop(ss.ss_family, a, out, (socklen_t)size) == NULL)
		snprintf(out, size, "127.0.0.1");
}

static void handle(int fd, struct request *r, struct response *res)
{
	char *req, *type = NULL;
	int rc = read_head(fd, r);

	if (rc == -1)
		return;
	if (rc == -2 || parse_head(r) != 0) {
		error_page(res, rc == -2 ? 431 : 400, "malformed request");
		return;
	}
	if (skip_body(fd, r) != 0) {
		error_page(res, 413, "request body missing or too large");
		return;
	}
	if (H.fail500) {
		error_page(res, 500, "fault http-500");
		return;
	}
	if (H.delay_ms > 0)
		sleep_ms(H.delay_ms);
	req = kahua_request(r, &type);
	if (req == NULL)
		error_page(res, 404, "no worker type in the path");
	else
		ask_supervisor(req, res);
	free(req);
	free(type);
}

static void conn_main(void *ctx, int fd)
{
	struct timeval tv = { CLIENT_TIMEOUT_S, 0 };
	struct request r;
	struct response res;

	(void)ctx;
	memset(&r, 0, sizeof r);
	memset(&res, 0, sizeof res);
	remote_addr(fd, r.remote, sizeof r.remote);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
		warnx2("kahua-httpd", strerror(errno));
	handle(fd, &r, &res);
	if (res.code != 0)
		respond(fd, &r, &res);
	drain_and_close(fd);
	free(res.reason);
	sx_buf_free(&res.body);
	free(r.h);
	free(r.buf);
}

_Noreturn void httpd_main(int argc, char **argv)
{
	struct site site;
	struct sigaction sa;

	parse(argc, argv, &site);
	if (sockdir_open(&SD, site.sockdir) != 0)
		die_errno(site.sockdir);
	site_free(&site);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0 ||
	    fcntl(LISTEN_FD, F_SETFD, FD_CLOEXEC) != 0)
		die_errno(SIM_HTTPD_SCRIPT);
	if (write_all(1, "ready\n", 6) != 0)
		die_errno("stdout");
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	/* The supervisor stops reading after "ready". */
	if (null < 0 || dup2(null, 1) < 0)
		die_errno("/dev/null");
	close(null);
	pool_start(SIM_POOL_THREADS, HTTPD_STACK, conn_main, NULL);
	for (;;) {
		int fd = accept4(LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				sleep_ms(100);  /* out of descriptors: let some close */
			continue;
		}
		pool_add(fd);
	}
}
