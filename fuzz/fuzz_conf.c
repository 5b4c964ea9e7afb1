/*
 * fuzz_conf: the same bytes as a site's etc/kahua.conf and as its
 * app-servers file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kahua_ctl.h"

static void conf(const char *text, size_t len)
{
	struct kahua_site site;
	struct kr_err err = { 0 };

	memset(&site, 0, sizeof site);
	if (kahua_conf_parse(text, len, "/srv/site", "kahua.conf", &site, &err) == 0) {
		/* Relative settings are relative to the bundle, never to the cwd. */
		if (site.sockdir == NULL || site.rundir == NULL || site.logdir == NULL ||
		    site.sockdir[0] != '/' || site.rundir[0] != '/' || site.logdir[0] != '/')
			abort();
	} else if (err.status == KR_OK) {
		abort();
	}
	kahua_site_free(&site);
}

static void app_servers(const char *text, size_t len)
{
	struct kahua_type *types = (struct kahua_type *)1;
	size_t n = 1;
	struct kr_err err = { 0 };

	if (kahua_app_servers_parse(text, len, "app-servers", &types, &n, &err) < 0) {
		if (err.status == KR_OK || types != NULL || n != 0)
			abort();
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (memchr(types[i].name, '\0', sizeof types[i].name) == NULL ||
		    types[i].run_by_default < 0)
			abort();
	free(types);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	conf((const char *)data, size);
	app_servers((const char *)data, size);
	return 0;
}
