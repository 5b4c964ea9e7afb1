/*
 * sexp.c: bounded S-expression reader and writer (see sexp.h).
 *
 * The reader is recursive descent; every recursion opens a list or a
 * quote, so the C stack depth is bounded by lim->max_depth.  "#;" chains
 * are counted in a loop, never recursed on.  sx_free and sx_write recurse
 * over trees, whose depth sx_read has already bounded the same way.
 *
 * Choices the contract leaves open:
 * - "\xH...;" escapes with a value up to 0xFF give that byte (so any byte
 *   string round-trips through sx_write); larger values, up to 0x10FFFF
 *   and not a surrogate, are encoded as UTF-8.
 * - A backslash, optional spaces or tabs, then a newline (LF or CR LF) in
 *   a string is a line continuation, as in R7RS and Gauche: it and the
 *   spaces and tabs that start the next line are dropped.
 * - "#<" text ends at the matching ">"; "<" and ">" inside nest, quotes do
 *   not.  No delimiter is needed after the ">".
 * - A "#" form cut by the end of the input ("#", "#tr", "#fals") is
 *   SX_INCOMPLETE; "#t" and "#f" at the end are complete.  So is an
 *   over-long integer cut by the end inside a list (it could still become
 *   a symbol); standing alone it is "number out of range".
 * - Other "#" forms (vectors, characters, "#|" comments) are refused.
 * - Dotted pairs are not special: "(a . b)" is a list of three items, the
 *   middle one the symbol ".".
 * - Data skipped by "#;" count against max_nodes and max_depth like any
 *   other datum.
 */
#include "sexp.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct sx_limits sx_default_limits = {
	SX_DEFAULT_DEPTH, SX_DEFAULT_NODES, SX_DEFAULT_ATOM
};

/* Internal results besides enum sx_result. */
enum {
	R_CLOSE = 16,           /* a ")" is next (not consumed) */
	R_EOF                   /* input ended inside a string escape */
};

struct reader {
	const char *buf;
	size_t len;
	size_t p;               /* next byte to read */
	const struct sx_limits *lim;
	size_t nodes;           /* nodes made so far for this datum */
	struct sx_error *err;
};

static int read_datum(struct reader *r, size_t depth, struct sx **out);

/* ---------------------------------------------------------------- errors */

static size_t line_of(const char *buf, size_t len, size_t off)
{
	size_t line = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

__attribute__((format(printf, 3, 4)))
static void report(struct reader *r, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (r->err == NULL)
		return;
	r->err->off = off;
	r->err->line = line_of(r->buf, r->len, off);
	va_start(ap, fmt);
	vsnprintf(r->err->msg, sizeof r->err->msg, fmt, ap);
	va_end(ap);
}

/*
 * Record an error and evaluate to rc.  A macro rather than a function so
 * that static analyzers, which do not follow variadic calls, still see
 * that the result is never SX_OK.
 */
#define FAIL(r, rc, off, ...) (report((r), (off), __VA_ARGS__), (rc))

/* Render up to 16 input bytes for a message: printable ASCII as is,
 * anything else as \xHH. */
static const char *show(char dst[72], const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (n > 16)
		n = 16;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f) {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 0xf];
	}
	dst[o] = '\0';
	return dst;
}

/* ----------------------------------------------------------------- nodes */

static int new_node(struct reader *r, enum sx_type type, size_t off,
		    struct sx **out)
{
	struct sx *x;

	if (r->nodes >= r->lim->max_nodes)
		return FAIL(r, SX_ELIMIT, off, "datum has more than %zu nodes",
			    r->lim->max_nodes);
	x = calloc(1, sizeof *x);
	if (x == NULL)
		return FAIL(r, SX_ENOMEM, off, "out of memory");
	r->nodes++;
	x->type = type;
	x->off = off;
	*out = x;
	return SX_OK;
}

/* A symbol, string or opaque node that takes over s (n bytes + NUL). */
static int new_atom_owning(struct reader *r, enum sx_type type, size_t off,
			   char *s, size_t n, struct sx **out)
{
	int rc = new_node(r, type, off, out);

	if (rc != SX_OK) {
		free(s);
		return rc;
	}
	(*out)->u.atom.s = s;
	(*out)->u.atom.len = n;
	return SX_OK;
}

/* A symbol, string or opaque node holding a copy of s[0..n). */
static int new_atom(struct reader *r, enum sx_type type, size_t off,
		    const char *s, size_t n, struct sx **out)
{
	char *copy = malloc(n + 1);

	if (copy == NULL)
		return FAIL(r, SX_ENOMEM, off, "out of memory");
	if (n > 0)
		memcpy(copy, s, n);
	copy[n] = '\0';
	return new_atom_owning(r, type, off, copy, n, out);
}

/*
 * Item arrays hold 4, then double each time n reaches a power of two, so
 * the capacity follows from n and need not be stored.
 */
static int list_push(struct sx *list, struct sx *item)
{
	size_t n = list->u.list.n;

	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		size_t cap = n == 0 ? 4 : n * 2;
		struct sx **items;

		if (cap > SIZE_MAX / sizeof *items)
			return -1;
		items = realloc(list->u.list.items, cap * sizeof *items);
		if (items == NULL)
			return -1;
		list->u.list.items = items;
	}
	list->u.list.items[n] = item;
	list->u.list.n = n + 1;
	return 0;
}

/* ------------------------------------------------------------- lexemes */

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\f' || c == '\v';
}

static bool is_delim(unsigned char c)
{
	return is_space(c) || c == '(' || c == ')' || c == '"' || c == ';';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Skip whitespace and ";" comments. */
static void skip_space(struct reader *r)
{
	while (r->p < r->len) {
		unsigned char c = (unsigned char)r->buf[r->p];

		if (is_space(c)) {
			r->p++;
			continue;
		}
		if (c != ';')
			return;
		while (r->p < r->len && r->buf[r->p] != '\n')
			r->p++;
	}
}

static size_t token_end(const struct reader *r, size_t from)
{
	size_t e = from;

	while (e < r->len && !is_delim((unsigned char)r->buf[e]))
		e++;
	return e;
}

/* ------------------------------------------------------------- strings */

static size_t put_utf8(char *dst, unsigned long v)
{
	if (v < 0x800) {
		dst[0] = (char)(0xc0 | (v >> 6));
		dst[1] = (char)(0x80 | (v & 0x3f));
		return 2;
	}
	if (v < 0x10000) {
		dst[0] = (char)(0xe0 | (v >> 12));
		dst[1] = (char)(0x80 | ((v >> 6) & 0x3f));
		dst[2] = (char)(0x80 | (v & 0x3f));
		return 3;
	}
	dst[0] = (char)(0xf0 | (v >> 18));
	dst[1] = (char)(0x80 | ((v >> 12) & 0x3f));
	dst[2] = (char)(0x80 | ((v >> 6) & 0x3f));
	dst[3] = (char)(0x80 | (v & 0x3f));
	return 4;
}

/* "\xH...;" at *p (the backslash): value into out[], its size into *k. */
static int hex_escape(struct reader *r, size_t *p, char out[4], size_t *k)
{
	size_t q = *p + 2, digits = 0;
	unsigned long v = 0;

	for (; q < r->len && hex_value((unsigned char)r->buf[q]) >= 0; q++) {
		v = v * 16 + (unsigned long)hex_value((unsigned char)r->buf[q]);
		if (v > 0x10ffff)
			return FAIL(r, SX_ESYNTAX, *p,
				    "character code in '\\x' escape beyond 0x10ffff");
		digits++;
	}
	if (q >= r->len)
		return R_EOF;
	if (digits == 0 || r->buf[q] != ';')
		return FAIL(r, SX_ESYNTAX, *p,
			    "bad '\\x' escape in string: want hex digits then ';'");
	if (v >= 0xd800 && v <= 0xdfff)
		return FAIL(r, SX_ESYNTAX, *p,
			    "surrogate code 0x%lx in '\\x' escape", v);
	if (v <= 0xff) {
		out[0] = (char)v;
		*k = 1;
	} else {
		*k = put_utf8(out, v);
	}
	*p = q + 1;
	return SX_OK;
}

/* Backslash, [ \t]*, newline, [ \t]*: *p at the backslash. */
static int continuation(struct reader *r, size_t *p)
{
	size_t q = *p + 1;
	char buf[72];

	while (q < r->len && (r->buf[q] == ' ' || r->buf[q] == '\t'))
		q++;
	if (q >= r->len || (r->buf[q] == '\r' && q + 1 >= r->len))
		return R_EOF;
	if (r->buf[q] == '\r' && r->buf[q + 1] == '\n')
		q++;
	if (r->buf[q] != '\n')
		return FAIL(r, SX_ESYNTAX, *p, "bad escape '\\%s' in string",
			    show(buf, r->buf + *p + 1, 1));
	q++;
	while (q < r->len && (r->buf[q] == ' ' || r->buf[q] == '\t'))
		q++;
	*p = q;
	return SX_OK;
}

/* The byte a one-letter escape such as "\n" stands for, or -1. */
static int simple_escape(char c)
{
	switch (c) {
	case '"':
		return '"';
	case '\\':
		return '\\';
	case 'n':
		return '\n';
	case 't':
		return '\t';
	case 'r':
		return '\r';
	case 'a':
		return '\a';
	case '0':
		return '\0';
	default:
		return -1;
	}
}

/* One escape at *p (the backslash): its bytes into out[], count in *k. */
static int escape(struct reader *r, size_t *p, char out[4], size_t *k)
{
	char buf[72];
	char c;
	int v;

	if (*p + 1 >= r->len)
		return R_EOF;
	c = r->buf[*p + 1];
	if (c == 'x')
		return hex_escape(r, p, out, k);
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
		*k = 0;
		return continuation(r, p);
	}
	v = simple_escape(c);
	if (v < 0)
		return FAIL(r, SX_ESYNTAX, *p, "bad escape '\\%s' in string",
			    show(buf, r->buf + *p + 1, 1));
	out[0] = (char)v;
	*k = 1;
	*p += 2;
	return SX_OK;
}

/*
 * Walk the string whose '"' is at open: decoded size into *n, index past
 * the closing '"' into *end, bytes into dst when dst is not NULL (the
 * first pass measures and checks, the second fills an exact buffer).
 */
static int string_cut(struct reader *r, size_t open)
{
	return FAIL(r, SX_INCOMPLETE, r->len,
		    "input ends inside a string opened at line %zu",
		    line_of(r->buf, r->len, open));
}

/*
 * Walk the string whose '"' is at open: decoded size into *n, index past
 * the closing '"' into *end, bytes into dst when dst is not NULL (the
 * first pass measures and checks, the second fills an exact buffer).
 */
static int scan_string(struct reader *r, size_t open, char *dst, size_t *n,
		       size_t *end)
{
	size_t p = open + 1, used = 0;

	for (;;) {
		char bytes[4];
		size_t k = 1;
		int rc;

		if (p >= r->len)
			return string_cut(r, open);
		if (r->buf[p] == '"')
			break;
		if (r->buf[p] != '\\') {
			bytes[0] = r->buf[p++];
		} else if ((rc = escape(r, &p, bytes, &k)) != SX_OK) {
			return rc == R_EOF ? string_cut(r, open) : rc;
		}
		if (k > r->lim->max_atom - used)
			return FAIL(r, SX_ELIMIT, open,
				    "string longer than %zu bytes",
				    r->lim->max_atom);
		if (dst != NULL)
			memcpy(dst + used, bytes, k);
		used += k;
	}
	*n = used;
	*end = p + 1;
	return SX_OK;
}

static int read_string(struct reader *r, struct sx **out)
{
	size_t open = r->p, n, end;
	char *s;
	int rc = scan_string(r, open, NULL, &n, &end);

	if (rc != SX_OK)
		return rc;
	s = malloc(n + 1);
	if (s == NULL)
		return FAIL(r, SX_ENOMEM, open, "out of memory");
	scan_string(r, open, s, &n, &end);
	s[n] = '\0';
	rc = new_atom_owning(r, SX_STRING, open, s, n, out);
	if (rc == SX_OK)
		r->p = end;
	return rc;
}

/* ------------------------------------------------------- "#" and atoms */

static int read_opaque(struct reader *r, struct sx **out)
{
	size_t open = r->p, start = open + 2, nest = 1;

	for (size_t q = start; q < r->len; q++) {
		char c = r->buf[q];

		if (c == '<')
			nest++;
		if (c == '>' && --nest == 0) {
			int rc = new_atom(r, SX_OPAQUE, open, r->buf + start,
					  q - start, out);

			if (rc == SX_OK)
				r->p = q + 1;
			return rc;
		}
		if (q - start >= r->lim->max_atom)
			return FAIL(r, SX_ELIMIT, open,
				    "'#<...>' text longer than %zu bytes",
				    r->lim->max_atom);
	}
	return FAIL(r, SX_INCOMPLETE, r->len,
		    "input ends inside '#<' opened at line %zu",
		    line_of(r->buf, r->len, open));
}

static bool token_is(const char *tok, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(tok, word, n) == 0;
}

static bool token_prefixes(const char *tok, size_t n, const char *word)
{
	return strlen(word) > n && memcmp(tok, word, n) == 0;
}

static int read_hash(struct reader *r, struct sx **out)
{
	size_t open = r->p, end, n;
	const char *tok = r->buf + open;
	char buf[72];
	int rc;

	if (open + 1 >= r->len)
		return FAIL(r, SX_INCOMPLETE, r->len, "input ends after '#'");
	if (tok[1] == '<')
		return read_opaque(r, out);
	end = token_end(r, open + 1);
	n = end - open;
	if (token_is(tok, n, "#t") || token_is(tok, n, "#true") ||
	    token_is(tok, n, "#f") || token_is(tok, n, "#false")) {
		rc = new_node(r, SX_BOOL, open, out);
		if (rc != SX_OK)
			return rc;
		(*out)->u.b = tok[1] == 't';
		r->p = end;
		return SX_OK;
	}
	if (end == r->len && (token_prefixes(tok, n, "#true") ||
			      token_prefixes(tok, n, "#false")))
		return FAIL(r, SX_INCOMPLETE, r->len, "input ends inside '%s'",
			    show(buf, tok, n));
	/* Show at least "#" and the byte after it, even a delimiter: "#(". */
	return FAIL(r, SX_ESYNTAX, open, "unsupported syntax '%s'",
		    show(buf, tok, n < 2 ? 2 : n));
}

static bool is_integer(const char *s, size_t n)
{
	size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;

	if (i == n)
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* s[0..n) passed is_integer. */
static bool parse_integer(const char *s, size_t n, long long *v)
{
	bool neg = s[0] == '-';
	size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
	unsigned long long max = neg ? (unsigned long long)LLONG_MAX + 1
				     : (unsigned long long)LLONG_MAX;
	unsigned long long m = 0;

	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (m > (max - d) / 10)
			return false;
		m = m * 10 + d;
	}
	if (!neg)
		*v = (long long)m;
	else if (m == (unsigned long long)LLONG_MAX + 1)
		*v = LLONG_MIN;
	else
		*v = -(long long)m;
	return true;
}

/*
 * An integer token too big for long long.  Inside a list, one that the
 * end of input cut may still grow into a symbol ("1234...9x"), so it is
 * only incomplete; a datum standing alone ends with the input.
 */
static int out_of_range(struct reader *r, size_t depth, size_t start,
			size_t end)
{
	char buf[72];

	if (end == r->len && depth > 0)
		return FAIL(r, SX_INCOMPLETE, r->len, "input ends inside '%s'",
			    show(buf, r->buf + start, end - start));
	return FAIL(r, SX_ESYNTAX, start, "number out of range");
}

static int read_token(struct reader *r, size_t depth, struct sx **out)
{
	size_t start = r->p, end = token_end(r, start), n = end - start;
	const char *tok = r->buf + start;
	long long v;
	int rc;

	if (is_integer(tok, n)) {
		if (!parse_integer(tok, n, &v))
			return out_of_range(r, depth, start, end);
		rc = new_node(r, SX_INT, start, out);
		if (rc != SX_OK)
			return rc;
		(*out)->u.i = v;
		r->p = end;
		return SX_OK;
	}
	if (n > r->lim->max_atom)
		return FAIL(r, SX_ELIMIT, start, "symbol longer than %zu bytes",
			    r->lim->max_atom);
	rc = new_atom(r, SX_SYMBOL, start, tok, n, out);
	if (rc == SX_OK)
		r->p = end;
	return rc;
}

/* ------------------------------------------------------ lists, quotes */

static int check_depth(struct reader *r, size_t depth)
{
	if (depth < r->lim->max_depth)
		return SX_OK;
	return FAIL(r, SX_ELIMIT, r->p, "list nested deeper than %zu levels",
		    r->lim->max_depth);
}

static int read_list(struct reader *r, size_t depth, struct sx **out)
{
	size_t open = r->p;
	struct sx *list, *item;
	int rc = check_depth(r, depth);

	if (rc == SX_OK)
		rc = new_node(r, SX_LIST, open, &list);
	if (rc != SX_OK)
		return rc;
	r->p++;
	for (;;) {
		rc = read_datum(r, depth + 1, &item);
		if (rc != SX_OK)
			break;
		if (list_push(list, item) != 0) {
			rc = FAIL(r, SX_ENOMEM, item->off, "out of memory");
			sx_free(item);
			break;
		}
	}
	if (rc == R_CLOSE) {
		r->p++;
		*out = list;
		return SX_OK;
	}
	sx_free(list);
	if (rc == SX_END)
		return FAIL(r, SX_INCOMPLETE, r->len,
			    "input ends inside a list opened at line %zu",
			    line_of(r->buf, r->len, open));
	return rc;
}

/* 'x is read as (quote x), a list, so it counts as one level of depth. */
static int read_quote(struct reader *r, size_t depth, struct sx **out)
{
	size_t open = r->p;
	struct sx *list, *sym, *x;
	int rc = check_depth(r, depth);

	if (rc == SX_OK)
		rc = new_node(r, SX_LIST, open, &list);
	if (rc != SX_OK)
		return rc;
	rc = new_atom(r, SX_SYMBOL, open, "quote", 5, &sym);
	if (rc == SX_OK && list_push(list, sym) != 0) {
		sx_free(sym);
		rc = FAIL(r, SX_ENOMEM, open, "out of memory");
	}
	if (rc == SX_OK) {
		r->p++;
		rc = read_datum(r, depth + 1, &x);
	}
	if (rc == SX_END)
		rc = FAIL(r, SX_INCOMPLETE, r->len, "input ends after a quote");
	else if (rc == R_CLOSE)
		rc = FAIL(r, SX_ESYNTAX, r->p, "')' right after a quote");
	/* The first push made room for 4 items: this one cannot fail. */
	if (rc == SX_OK)
		list_push(list, x);
	if (rc != SX_OK) {
		sx_free(list);
		return rc;
	}
	*out = list;
	return SX_OK;
}

static int read_form(struct reader *r, size_t depth, struct sx **out)
{
	switch (r->buf[r->p]) {
	case '(':
		return read_list(r, depth, out);
	case '"':
		return read_string(r, out);
	case '\'':
		return read_quote(r, depth, out);
	case '#':
		return read_hash(r, out);
	default:
		return read_token(r, depth, out);
	}
}

/*
 * Next datum at this level: SX_OK, SX_END (input ended first), R_CLOSE
 * (a ")" is next), or an error.  "#;" prefixes are counted here, then that
 * many data are read and dropped, so they never deepen the recursion.
 */
static int read_datum(struct reader *r, size_t depth, struct sx **out)
{
	size_t skips = 0;

	for (;;) {
		struct sx *x;
		int rc;

		skip_space(r);
		if (r->p >= r->len)
			return skips == 0 ? SX_END :
			       FAIL(r, SX_INCOMPLETE, r->len,
				    "input ends after '#;'");
		if (r->buf[r->p] == '#' && r->p + 1 < r->len &&
		    r->buf[r->p + 1] == ';') {
			skips++;
			r->p += 2;
			continue;
		}
		if (r->buf[r->p] == ')')
			return skips == 0 ? R_CLOSE :
			       FAIL(r, SX_ESYNTAX, r->p,
				    "')' where '#;' wants a datum to skip");
		rc = read_form(r, depth, &x);
		if (rc != SX_OK)
			return rc;
		if (skips == 0) {
			*out = x;
			return SX_OK;
		}
		sx_free(x);
		skips--;
	}
}

enum sx_result sx_read(const char *buf, size_t len, size_t *pos,
		       const struct sx_limits *lim, struct sx **out,
		       struct sx_error *err)
{
	/* cppcheck-suppress ctuuninitvar ; only the pointer is kept; *err is cleared before any read */
	struct reader r = { buf, len, 0, lim, 0, err };
	struct sx *x = NULL;
	int rc;

	if (err != NULL) {
		err->off = 0;
		err->line = 0;
		err->msg[0] = '\0';
	}
	if (out != NULL)
		*out = NULL;
	if (r.lim == NULL)
		r.lim = &sx_default_limits;
	if (pos == NULL || out == NULL || (buf == NULL && len > 0))
		return FAIL(&r, SX_ESYNTAX, 0,
			    "sx_read: no buffer, position or result pointer");
	if (*pos > len)
		return FAIL(&r, SX_ESYNTAX, len,
			    "start %zu is past the end of input (%zu bytes)",
			    *pos, len);
	r.p = *pos;
	rc = read_datum(&r, 0, &x);
	if (rc == R_CLOSE)
		rc = FAIL(&r, SX_ESYNTAX, r.p, "unexpected ')'");
	if (rc != SX_OK)
		return (enum sx_result)rc;
	*out = x;
	*pos = r.p;
	return SX_OK;
}

void sx_free(struct sx *x)
{
	if (x == NULL)
		return;
	if (x->type == SX_LIST) {
		for (size_t i = 0; i < x->u.list.n; i++)
			sx_free(x->u.list.items[i]);
		free(x->u.list.items);
	} else if (x->type == SX_SYMBOL || x->type == SX_STRING ||
		   x->type == SX_OPAQUE) {
		free(x->u.atom.s);
	}
	free(x);
}

/* ------------------------------------------------------------ accessors */

static bool has_text(const struct sx *x)
{
	return x != NULL && (x->type == SX_SYMBOL || x->type == SX_STRING ||
			     x->type == SX_OPAQUE);
}

static bool text_is(const struct sx *x, const char *s)
{
	return strlen(s) == x->u.atom.len &&
	       memcmp(x->u.atom.s, s, x->u.atom.len) == 0;
}

bool sx_is_list(const struct sx *x)
{
	return x != NULL && x->type == SX_LIST;
}

bool sx_is_symbol(const struct sx *x, const char *name)
{
	if (x == NULL || x->type != SX_SYMBOL)
		return false;
	return name == NULL || text_is(x, name);
}

bool sx_is_string(const struct sx *x)
{
	return x != NULL && x->type == SX_STRING;
}

size_t sx_len(const struct sx *x)
{
	return sx_is_list(x) ? x->u.list.n : 0;
}

struct sx *sx_nth(const struct sx *x, size_t i)
{
	return i < sx_len(x) ? x->u.list.items[i] : NULL;
}

const char *sx_text(const struct sx *x)
{
	return has_text(x) ? x->u.atom.s : NULL;
}

struct sx *sx_plist_get(const struct sx *plist, const char *key)
{
	size_t n = sx_len(plist);

	if (key == NULL)
		return NULL;
	for (size_t i = 0; i + 1 < n; i += 2)
		if (sx_is_symbol(sx_nth(plist, i), key))
			return sx_nth(plist, i + 1);
	return NULL;
}

struct sx *sx_alist_get(const struct sx *alist, const char *key)
{
	size_t n = sx_len(alist);

	if (key == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct sx *entry = sx_nth(alist, i);
		struct sx *car = sx_nth(entry, 0);

		if (sx_is_string(car) && text_is(car, key))
			return entry;
	}
	return NULL;
}

const char *sx_type_name(enum sx_type t)
{
	switch (t) {
	case SX_LIST:
		return "list";
	case SX_SYMBOL:
		return "symbol";
	case SX_STRING:
		return "string";
	case SX_INT:
		return "integer";
	case SX_BOOL:
		return "boolean";
	case SX_OPAQUE:
		return "opaque object";
	}
	return "unknown";
}

/* --------------------------------------------------------------- writer */

/* Room for extra more bytes and the NUL; b untouched on failure. */
int sx_buf_reserve(struct sx_buf *b, size_t extra)
{
	size_t need, cap;
	char *s;

	if (extra > SIZE_MAX - 1 - b->len)
		return -1;
	need = b->len + extra + 1;
	if (b->s != NULL && need <= b->cap)
		return 0;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	s = realloc(b->s, cap);
	if (s == NULL)
		return -1;
	b->s = s;
	b->cap = cap;
	return 0;
}

int sx_buf_append(struct sx_buf *b, const char *s, size_t len)
{
	if (b == NULL || (s == NULL && len > 0))
		return -1;
	if (sx_buf_reserve(b, len) != 0)
		return -1;
	if (len > 0)
		memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
	return 0;
}

int sx_buf_printf(struct sx_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	if (b == NULL || fmt == NULL)
		return -1;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sx_buf_reserve(b, (size_t)n) != 0) {
		va_end(ap2);
		return -1;
	}
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
	return 0;
}

void sx_buf_free(struct sx_buf *b)
{
	if (b == NULL)
		return;
	free(b->s);
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
}

static bool plain_byte(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '"' && c != '\\';
}

static int put_escape(struct sx_buf *b, unsigned char c)
{
	switch (c) {
	case '"':
		return sx_buf_append(b, "\\\"", 2);
	case '\\':
		return sx_buf_append(b, "\\\\", 2);
	case '\n':
		return sx_buf_append(b, "\\n", 2);
	case '\t':
		return sx_buf_append(b, "\\t", 2);
	case '\r':
		return sx_buf_append(b, "\\r", 2);
	default:
		return sx_buf_printf(b, "\\x%02x;", c);
	}
}

static int put_string(struct sx_buf *b, const char *s, size_t len)
{
	size_t i = 0;

	if (sx_buf_append(b, "\"", 1) != 0)
		return -1;
	while (i < len) {
		size_t run = i;

		while (run < len && plain_byte((unsigned char)s[run]))
			run++;
		if (sx_buf_append(b, s + i, run - i) != 0)
			return -1;
		if (run < len && put_escape(b, (unsigned char)s[run]) != 0)
			return -1;
		i = run + 1;
	}
	return sx_buf_append(b, "\"", 1);
}

static int put_node(struct sx_buf *b, const struct sx *x);

static int put_list(struct sx_buf *b, const struct sx *x)
{
	if (sx_buf_append(b, "(", 1) != 0)
		return -1;
	for (size_t i = 0; i < x->u.list.n; i++) {
		if (i > 0 && sx_buf_append(b, " ", 1) != 0)
			return -1;
		if (put_node(b, x->u.list.items[i]) != 0)
			return -1;
	}
	return sx_buf_append(b, ")", 1);
}

static int put_node(struct sx_buf *b, const struct sx *x)
{
	if (x == NULL)
		return -1;
	switch (x->type) {
	case SX_LIST:
		return put_list(b, x);
	case SX_SYMBOL:
		return sx_buf_append(b, x->u.atom.s, x->u.atom.len);
	case SX_STRING:
		return put_string(b, x->u.atom.s, x->u.atom.len);
	case SX_INT:
		return sx_buf_printf(b, "%lld", x->u.i);
	case SX_BOOL:
		return sx_buf_append(b, x->u.b ? "#t" : "#f", 2);
	case SX_OPAQUE:
		if (sx_buf_append(b, "#<", 2) != 0 ||
		    sx_buf_append(b, x->u.atom.s, x->u.atom.len) != 0)
			return -1;
		return sx_buf_append(b, ">", 1);
	}
	return -1;
}

/* Undo a partial write: the caller sees the buffer it passed in. */
static int roll_back(struct sx_buf *b, bool was_unset, size_t len0)
{
	if (was_unset) {
		sx_buf_free(b);
		return -1;
	}
	b->len = len0;
	b->s[len0] = '\0';
	return -1;
}

int sx_write(struct sx_buf *b, const struct sx *x)
{
	bool was_unset;
	size_t len0;

	if (b == NULL)
		return -1;
	was_unset = b->s == NULL;
	len0 = b->len;
	if (put_node(b, x) != 0)
		return roll_back(b, was_unset, len0);
	return 0;
}

int sx_write_string(struct sx_buf *b, const char *s, size_t len)
{
	bool was_unset;
	size_t len0;

	if (b == NULL || (s == NULL && len > 0))
		return -1;
	was_unset = b->s == NULL;
	len0 = b->len;
	if (put_string(b, s, len) != 0)
		return roll_back(b, was_unset, len0);
	return 0;
}

bool sx_equal(const struct sx *a, const struct sx *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case SX_LIST:
		if (a->u.list.n != b->u.list.n)
			return false;
		for (size_t i = 0; i < a->u.list.n; i++)
			if (!sx_equal(a->u.list.items[i], b->u.list.items[i]))
				return false;
		return true;
	case SX_INT:
		return a->u.i == b->u.i;
	case SX_BOOL:
		return a->u.b == b->u.b;
	case SX_SYMBOL:
	case SX_STRING:
	case SX_OPAQUE:
		return a->u.atom.len == b->u.atom.len &&
		       memcmp(a->u.atom.s, b->u.atom.s, a->u.atom.len) == 0;
	}
	return false;
}
