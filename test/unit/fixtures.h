/* Shared by the report tests: a temp dir per test, files, sample reports. */
#ifndef KR_TEST_FIXTURES_H
#define KR_TEST_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define MB (1024LL * 1024)

struct fx {
	char dir[64];
	char path[128];         /* dir/<name> */
	char tmp[140];          /* path.tmp */
};

static int fx_setup(void **state, const char *prefix, const char *name)
{
	struct fx *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/%s-XXXXXX", prefix);
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
	snprintf(f->tmp, sizeof f->tmp, "%s.tmp", f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static struct worker_obs obs(const char *wid, long wno, const char *type, long long rss,
			     long long pss, long long age)
{
	struct worker_obs o;

	memset(&o, 0, sizeof o);
	snprintf(o.w.wid, sizeof o.w.wid, "%s", wid);
	o.w.wno = wno;
	snprintf(o.w.type, sizeof o.w.type, "%s", type);
	o.w.pid = (pid_t)(1000 + wno);
	o.w.start_time = 1000 - age;
	o.rss = rss;
	o.pss = pss;
	o.age = age;
	return o;
}

/* A step; a replacement with an empty id means none came up. */
static void step(struct restart_step *s, struct worker_obs old, struct worker_obs new,
		 enum step_result res, const char *why)
{
	memset(s, 0, sizeof *s);
	s->old = old;
	s->new = new;
	s->have_new = new.w.wid[0] != '\0';
	snprintf(s->reason, sizeof s->reason, "all");
	s->result = res;
	s->restart_ms = 800;
	s->probe_ms = 10;
	snprintf(s->why, sizeof s->why, "%s", why);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static void put_file(const char *path, const char *mode, const char *text, size_t len)
{
	FILE *f = fopen(path, mode);

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

#endif
