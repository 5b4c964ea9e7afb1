/*
 * fmt.h: human sizes, ages and counts for tables, plans and messages.
 * Each writes "-" for an unknown (negative) figure.
 */
#ifndef KR_FMT_H
#define KR_FMT_H

#include <stddef.h>

/* 812M, 1.2G, 512B (powers of 1024). */
void fmt_bytes(long long bytes, char *out, size_t size);
/* 45s, 12m, 3h05m, 2d04h. */
void fmt_age(long long seconds, char *out, size_t size);
/* A count such as continuations. */
void fmt_held(long long v, char *out, size_t size);

#endif
