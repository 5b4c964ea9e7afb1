#include "jsonw.h"

#include <stdlib.h>

static cJSON *added(struct jb *b, cJSON *x)
{
	b->failed |= x == NULL;
	return x;
}

cJSON *jnum(struct jb *b, cJSON *obj, const char *key, double v)
{
	return added(b, cJSON_AddNumberToObject(obj, key, v));
}

cJSON *jstr(struct jb *b, cJSON *obj, const char *key, const char *v)
{
	return added(b, v ? cJSON_AddStringToObject(obj, key, v) : cJSON_AddNullToObject(obj, key));
}

cJSON *jbool(struct jb *b, cJSON *obj, const char *key, bool v)
{
	return added(b, cJSON_AddBoolToObject(obj, key, v));
}

cJSON *jnum_if(struct jb *b, cJSON *obj, const char *key, bool have, double v)
{
	return have ? jnum(b, obj, key, v) : added(b, cJSON_AddNullToObject(obj, key));
}

cJSON *jchild(struct jb *b, cJSON *parent, const char *key, bool array)
{
	return added(b, array ? cJSON_AddArrayToObject(parent, key)
			      : cJSON_AddObjectToObject(parent, key));
}

cJSON *jitem(struct jb *b, cJSON *array)
{
	cJSON *x = cJSON_CreateObject();

	if (x == NULL || array == NULL || !cJSON_AddItemToArray(array, x)) {
		cJSON_Delete(x);
		b->failed = true;
		return NULL;
	}
	return x;
}

int jprint(cJSON *root, bool failed, FILE *out, struct kr_err *err)
{
	char *text = root && !failed ? cJSON_Print(root) : NULL;

	cJSON_Delete(root);
	if (text == NULL)
		return kr_fail(err, KR_SOFTWARE, "JSON report: out of memory");
	fprintf(out, "%s\n", text);
	free(text);
	if (fflush(out) != 0)
		return kr_fail(err, KR_CANTCREAT, "JSON report: write failed");
	return 0;
}
