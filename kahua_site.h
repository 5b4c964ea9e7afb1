/*
 * kahua_site.h: a Kahua site bundle on disk.
 *
 * Resolves the bundle's paths from etc/kahua.conf (read as data, never
 * evaluated), reads app-servers (each worker type's :run-by-default) and
 * the supervisor's pid file.
 */
#ifndef KR_KAHUA_SITE_H
#define KR_KAHUA_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define KAHUA_NAME_MAX 128                  /* worker type names */
#define KAHUA_TIMEOUT_MINS_DEFAULT 60       /* Kahua's own default */

struct kahua_site {
	char *root;             /* absolute path of the bundle */
	char *conf_path;        /* etc/kahua.conf */
	char *sockdir;          /* <sockbase>: the supervisor and worker sockets */
	char *rundir;           /* :run-directory, default run */
	char *logdir;           /* :log-directory, default logs */
	bool auto_restart;      /* :auto-restart */
	long timeout_mins;      /* :timeout-mins: continuations older are expired */
};

struct kahua_type {
	char name[KAHUA_NAME_MAX];
	long run_by_default;
};

/* Load the bundle at root: etc/kahua.conf must exist and parse. KR_CONFIG. */
int kahua_site_load(const char *root, struct kahua_site *site, struct kr_err *err);
void kahua_site_free(struct kahua_site *site);

/* Parse kahua.conf text (exposed for tests and fuzzing). */
int kahua_conf_parse(const char *text, size_t len, const char *root,
		     const char *path, struct kahua_site *site, struct kr_err *err);

/* app-servers: types in file order.  Caller frees *types. KR_CONFIG. */
int kahua_app_servers(const struct kahua_site *site, struct kahua_type **types,
		      size_t *n, struct kr_err *err);
int kahua_app_servers_parse(const char *text, size_t len, const char *path,
			    struct kahua_type **types, size_t *n, struct kr_err *err);

/* run/kahua-spvr.pid. KR_UNAVAILABLE when missing or not a live pid. */
int kahua_spvr_pid(const struct kahua_site *site, pid_t *pid, struct kr_err *err);

/* Path of a socket under sockdir ("kahua" or a worker id); caller frees. */
char *kahua_sock_path(const struct kahua_site *site, const char *name);

#endif
