#include "jsonw.h"

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
