/*
 * fuzz_sexp: sx_read over every datum of the input, under the default
 * limits and under tiny ones, and the writer's promise that what it
 * writes reads back as the same datum.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sexp.h"

/* Small enough that every limit is hit by short inputs. */
static const struct sx_limits tiny_limits = { 3, 12, 8 };

/* The reader promises NUL-terminated copies of every atom. */
static bool atoms_terminated(const struct sx *x)
{
	if (x->type == SX_SYMBOL || x->type == SX_STRING || x->type == SX_OPAQUE)
		return x->u.atom.s[x->u.atom.len] == '\0';
	for (size_t i = 0; i < sx_len(x); i++)
		if (!atoms_terminated(sx_nth(x, i)))
			return false;
	return true;
}

/* Write x, read it back under the same limits: the same datum, all bytes used. */
static void round_trip(const struct sx *x, const struct sx_limits *lim)
{
	struct sx_buf b = { 0 };
	struct sx *y = NULL, *extra = NULL;
	size_t pos = 0;

	if (sx_write(&b, x) != 0 || b.s == NULL || b.s[b.len] != '\0')
		abort();
	if (!atoms_terminated(x))
		abort();
	if (sx_read(b.s, b.len, &pos, lim, &y, NULL) != SX_OK || !sx_equal(x, y))
		abort();
	if (sx_read(b.s, b.len, &pos, lim, &extra, NULL) != SX_END || extra != NULL)
		abort();
	sx_free(y);
	sx_buf_free(&b);
}

/* The accessors on whatever was read; their results only need to be safe. */
static void poke(const struct sx *x)
{
	struct sx *v = sx_plist_get(x, ":worker-id");

	(void)sx_text(v);
	(void)sx_alist_get(x, "x-kahua-status");
	(void)sx_type_name(x->type);
	(void)sx_nth(x, sx_len(x) / 2);
}

static void read_all(const char *buf, size_t len, const struct sx_limits *lim)
{
	size_t pos = 0;

	for (;;) {
		struct sx_error err;
		struct sx *x = (struct sx *)1;
		size_t before = pos;
		enum sx_result r = sx_read(buf, len, &pos, lim, &x, &err);

		if (r != SX_OK) {
			/* The contract: nothing returned, the position untouched. */
			if (x != NULL || pos != before || (r != SX_END && err.off > len))
				abort();
			return;
		}
		if (x == NULL || pos <= before || pos > len)
			abort();
		poke(x);
		round_trip(x, lim);
		sx_free(x);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_all((const char *)data, size, &sx_default_limits);
	read_all((const char *)data, size, &tiny_limits);
	return 0;
}
