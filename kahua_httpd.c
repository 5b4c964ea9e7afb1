/*
 * kahua_httpd.c: where the site's own web server listens, read from the
 * command line of the supervisor's kahua-httpd child (it writes no pid
 * file).
 */
#include "kahua_httpd.h"
#include "procinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_listen(const char *s, char *host, size_t hostsize, int *port)
{
	const char *colon = strrchr(s, ':');
	const char *digits = colon ? colon + 1 : s;
	char *end;
	long p;

	if (*digits == '\0')
		return -1;
	p = strtol(digits, &end, 10);
	if (*end != '\0' || p <= 0 || p > 65535)
		return -1;
	*port = (int)p;
	if (colon == NULL || colon == s || (size_t)(colon - s) >= hostsize) {
		snprintf(host, hostsize, "127.0.0.1");
		return 0;
	}
	snprintf(host, hostsize, "%.*s", (int)(colon - s), s);
	/* A wildcard listen address is reached through loopback. */
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
		snprintf(host, hostsize, "127.0.0.1");
	else if (strcmp(host, "[::]") == 0)
		snprintf(host, hostsize, "[::1]");
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Look through one process's words for the httpd script and its address. */
static int httpd_from_cmdline(const char *buf, size_t len, char *host,
			      size_t hostsize, int *port)
{
	bool after_script = false;
	const char *prev = "";

	for (const char *w = buf; w < buf + len; w += strlen(w) + 1) {
		if (!after_script) {
			after_script = ends_with(w, "kahua-httpd.scm") || ends_with(w, "kahua-httpd");
		} else if (strcmp(prev, "-p") == 0 || strcmp(prev, "--port") == 0) {
			if (parse_listen(w, host, hostsize, port) == 0)
				return 0;
		} else if (w[0] != '-' && strchr(w, ':') != NULL &&
			   parse_listen(w, host, hostsize, port) == 0) {
			return 0;
		}
		prev = w;
	}
	return -1;
}

int kahua_httpd_address(pid_t spvr_pid, char *host, size_t hostsize, int *port,
			char *why, size_t whysize)
{
	pid_t *kids = NULL;
	size_t n = 0;
	int rc = -1;

	if (proc_children(spvr_pid, &kids, &n) < 0) {
		snprintf(why, whysize, "cannot list the supervisor's children: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n && rc < 0; i++) {
		char buf[8192];
		size_t len;

		if (proc_cmdline(kids[i], buf, sizeof buf, &len) > 0)
			rc = httpd_from_cmdline(buf, len, host, hostsize, port);
	}
	free(kids);
	if (rc < 0)
		snprintf(why, whysize, "no kahua-httpd runs under the supervisor (pid %d); give --url",
			 (int)spvr_pid);
	return rc;
}
