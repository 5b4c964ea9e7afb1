/* Recorded Kahua exchanges (the JSON files in test/vectors) for tests. */
#ifndef KR_TEST_VECTORS_H
#define KR_TEST_VECTORS_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *vectors_load_path(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	cJSON *root;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	buf[n] = '\0';
	fclose(f);
	root = cJSON_Parse(buf);
	free(buf);
	if (root == NULL)
		exit(2);
	return root;
}

__attribute__((unused)) static cJSON *vectors_load(void)
{
	return vectors_load_path(getenv("KR_VECTORS") ? getenv("KR_VECTORS")
						      : "test/vectors/control-socket.json");
}

/* The failure modes of a real Kahua: dead and broken entries, the restart race. */
__attribute__((unused)) static cJSON *failure_vectors_load(void)
{
	return vectors_load_path(getenv("KR_FAILURE_VECTORS") ? getenv("KR_FAILURE_VECTORS")
							      : "test/vectors/failure-modes.json");
}

/* The first case whose name starts with prefix: its field ("sent", "received"). */
__attribute__((unused)) static const char *vector_field(const cJSON *root, const char *prefix,
							const char *field)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, root) {
		const cJSON *name = cJSON_GetObjectItem(c, "case");

		if (cJSON_IsString(name) && strncmp(name->valuestring, prefix, strlen(prefix)) == 0)
			return cJSON_GetObjectItem(c, field)->valuestring;
	}
	fprintf(stderr, "no recorded case %s\n", prefix);
	exit(2);
}

/* The "received" bytes of the first case whose name starts with prefix. */
static const char *vector_received(const cJSON *root, const char *prefix)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, root) {
		const cJSON *name = cJSON_GetObjectItem(c, "case");

		if (cJSON_IsString(name) && strncmp(name->valuestring, prefix, strlen(prefix)) == 0)
			return cJSON_GetObjectItem(c, "received")->valuestring;
	}
	fprintf(stderr, "no recorded case %s\n", prefix);
	exit(2);
}

#endif
