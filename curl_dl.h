/*
 * curl_dl.h: libcurl, loaded only when a run makes an HTTP check.
 *
 * Most runs (status, a restart with --no-http-check, history) never speak
 * HTTP, yet linking libcurl makes the dynamic loader map it and its ~34
 * dependencies at every start, which costs most of a status run's time
 * and memory.  The table's types come from <curl/curl.h>, so the compiler
 * still checks every call against the libcurl API the build was made for.
 */
#ifndef KR_CURL_DL_H
#define KR_CURL_DL_H

#include <stddef.h>

#include <curl/curl.h>

struct curl_api {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_global_cleanup) *global_cleanup;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
};

/*
 * The loaded library (dlopen of its soname, once per process), or NULL
 * with why naming the library and the loader's reason.  It stays mapped
 * until the process exits: unmapping it gains nothing, and libcurl may
 * have started threads (its resolver) that LeakSanitizer still walks at
 * exit.
 */
const struct curl_api *curl_api_load(char *why, size_t size);

#endif
