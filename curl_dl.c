#include "curl_dl.h"

#include <dlfcn.h>
#include <stdio.h>

/* Debian's libcurl4 (OpenSSL) first, then the GnuTLS build of the same ABI. */
static const char *const sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };

static struct curl_api api;
static void *lib;

/* ISO C has no cast from void * to a function pointer; POSIX makes this copy valid. */
static int sym(void *handle, const char *name, void *slot, size_t slot_size)
{
	void *p = dlsym(handle, name);

	if (p == NULL || slot_size != sizeof p)
		return -1;
	*(void **)slot = p;
	return 0;
}

#define SYM(h, field, name) sym((h), (name), &api.field, sizeof api.field)

static int bind_all(void *h)
{
	return SYM(h, global_init, "curl_global_init") | SYM(h, global_cleanup, "curl_global_cleanup") |
	       SYM(h, easy_init, "curl_easy_init") | SYM(h, easy_setopt, "curl_easy_setopt") |
	       SYM(h, easy_perform, "curl_easy_perform") | SYM(h, easy_getinfo, "curl_easy_getinfo") |
	       SYM(h, easy_strerror, "curl_easy_strerror") | SYM(h, easy_cleanup, "curl_easy_cleanup");
}

const struct curl_api *curl_api_load(char *why, size_t size)
{
	const char *last = "";

	if (lib != NULL)
		return &api;
	for (size_t i = 0; i < sizeof sonames / sizeof sonames[0]; i++) {
		void *h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);

		if (h == NULL) {
			last = dlerror();
			continue;
		}
		if (bind_all(h) == 0) {
			lib = h;
			return &api;
		}
		snprintf(why, size, "libcurl: %s lacks a function this program uses", sonames[i]);
		dlclose(h);
		return NULL;
	}
	snprintf(why, size, "libcurl: cannot load %s (install libcurl4): %.200s", sonames[0],
		 last ? last : "not found");
	return NULL;
}
