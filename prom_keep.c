/*
 * prom_keep.c: the previous textfile's series, carried over by a run the
 * memory gates held back (see prom_keep.h).
 */
#include "prom_keep.h"
#include "file.h"
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Far above any site's file (a few hundred bytes a worker). */
#define PROM_KEEP_MAX (16 * 1024 * 1024)

/* The metric a line is about: a sample's name, or the one a HELP or TYPE line names. */
static size_t line_name(const char *line, size_t n, const char **name)
{
	size_t i = 0;

	*name = line;
	if (n >= 7 && (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0))
		*name = line + 7;
	else if (n > 0 && line[0] == '#')
		return 0;
	n -= (size_t)(*name - line);
	while (i < n && (*name)[i] != '{' && (*name)[i] != ' ')
		i++;
	return i;
}

static bool dropped(const char *line, size_t n, const char *const *drop)
{
	const char *name;
	size_t len = line_name(line, n, &name);

	for (; *drop != NULL; drop++)
		if (len > 0 && strlen(*drop) == len && strncmp(*drop, name, len) == 0)
			return true;
	return false;
}

/* Filters in place (the text only shrinks); a last line without its newline keeps none. */
static size_t filter(char *text, size_t len, const char *const *drop)
{
	size_t in = 0, out = 0;

	while (in < len) {
		const char *nl = memchr(text + in, '\n', len - in);
		size_t n = nl ? (size_t)(nl - (text + in)) + 1 : len - in;

		if (!dropped(text + in, nl ? n - 1 : n, drop)) {
			memmove(text + out, text + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}

char *prom_kept(const char *path, const char *const *drop, size_t *len)
{
	const char *why;
	char *text = file_read_small(path, PROM_KEEP_MAX, len, &why);

	if (text == NULL) {
		if (errno != ENOENT)
			log_info("metrics %s: %s: the held-back run writes only its own figures", path, why);
		return NULL;
	}
	*len = filter(text, *len, drop);
	/* The run's own families follow: they must start on a line of their own. */
	if (*len > 0 && text[*len - 1] != '\n') {
		char *more = realloc(text, *len + 2);

		if (more == NULL) {
			log_info("metrics %s: out of memory: the held-back run writes only its own figures", path);
			free(text);
			return NULL;
		}
		text = more;
		text[(*len)++] = '\n';
	}
	text[*len] = '\0';
	return text;
}
