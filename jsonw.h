/*
 * jsonw.h: building JSON with cJSON.  cJSON reports running out of memory
 * by returning NULL; each helper here adds one member and records a
 * failure in the builder, so a whole document is checked once at the end.
 */
#ifndef KR_JSONW_H
#define KR_JSONW_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "err.h"

struct jb {
	bool failed;            /* some add ran out of memory */
};

cJSON *jnum(struct jb *b, cJSON *obj, const char *key, double v);
/* A string, or null when v is NULL. */
cJSON *jstr(struct jb *b, cJSON *obj, const char *key, const char *v);
cJSON *jbool(struct jb *b, cJSON *obj, const char *key, bool v);
/* A number when have, else null. */
cJSON *jnum_if(struct jb *b, cJSON *obj, const char *key, bool have, double v);
/* A new array (or object) member. */
cJSON *jchild(struct jb *b, cJSON *parent, const char *key, bool array);
/* A new object appended to array (NULL when array is). */
cJSON *jitem(struct jb *b, cJSON *array);

/*
 * Print root (then delete it) as one JSON document on out; failed: a
 * member could not be added.  KR_SOFTWARE when out of memory,
 * KR_CANTCREAT when out cannot be written.
 */
int jprint(cJSON *root, bool failed, FILE *out, struct kr_err *err);

#endif
