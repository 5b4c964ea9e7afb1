/*
 * names.h: a small set of names (worker types) in first-seen order, as
 * the run lists, checks and reports them.  The strings are not copied:
 * they must outlive the set.
 */
#ifndef KR_NAMES_H
#define KR_NAMES_H

#include <stddef.h>

struct name_set {
	const char **v;
	size_t n, cap;
};

/* Add name unless it is there; -1 when out of memory. */
int name_set_add(struct name_set *s, const char *name);

/* "hello, leaky" into out, cut to size. */
void name_set_join(const struct name_set *s, char *out, size_t size);

void name_set_free(struct name_set *s);

#endif
