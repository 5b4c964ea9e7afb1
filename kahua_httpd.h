/*
 * kahua_httpd.h: the address of the running kahua-httpd, for the HTTP
 * checks' derived URLs.
 */
#ifndef KR_KAHUA_HTTPD_H
#define KR_KAHUA_HTTPD_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The HTTP address of the running kahua-httpd: the supervisor's child
 * whose command line has an argument ending in "kahua-httpd.scm" (or
 * "kahua-httpd") followed by HOST:PORT or -p PORT.  0 and host/port set,
 * or -1 with why set when there is none.
 */
int kahua_httpd_address(pid_t spvr_pid, char *host, size_t hostsize, int *port,
			char *why, size_t whysize);

#endif
