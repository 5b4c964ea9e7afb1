/*
 * sexp.h: a bounded reader and writer for the S-expressions Kahua speaks.
 *
 * Used for the control protocol, etc/kahua.conf and app-servers.  The
 * reader never evaluates anything; it builds a tree of nodes and refuses
 * input past its limits (nesting depth, node count, atom length) with an
 * error naming the byte offset and line.  Input is a byte buffer that need
 * not be NUL-terminated.
 *
 * Forms read (all seen in recordings of a real Kahua):
 *   ( ... )        lists, empty or nested              -> SX_LIST
 *   "..."          strings with \" \\ \n \t \r \a \0 \xHH; escapes -> SX_STRING
 *   123 -45        decimal integers fitting long long  -> SX_INT
 *   #t #f #true #false                                 -> SX_BOOL
 *   #<undef> #<hash-table ...>  unreadable objects     -> SX_OPAQUE (text is
 *                  what stands between "#<" and the matching ">")
 *   'x             (quote x)                           -> SX_LIST of symbol
 *                  "quote" and x
 *   anything else  symbols, including :keywords, <class> names, *, 1.5
 *                                                      -> SX_SYMBOL
 * Comments: ";" to end of line, and "#;" before a datum (datum skipped).
 * Whitespace: space, tab, CR, LF, FF, VT.
 */
#ifndef KR_SEXP_H
#define KR_SEXP_H

#include <stdbool.h>
#include <stddef.h>

enum sx_type { SX_LIST, SX_SYMBOL, SX_STRING, SX_INT, SX_BOOL, SX_OPAQUE };

struct sx {
	enum sx_type type;
	size_t off;             /* byte offset of the node's first byte in the input */
	union {
		struct {        /* SX_LIST */
			struct sx **items;
			size_t n;
		} list;
		struct {        /* SX_SYMBOL, SX_STRING, SX_OPAQUE: NUL-terminated copy */
			char *s;
			size_t len; /* strings may hold NUL bytes; len is exact */
		} atom;
		long long i;    /* SX_INT */
		bool b;         /* SX_BOOL */
	} u;
};

struct sx_limits {
	size_t max_depth;       /* deepest list nesting; 1 = flat list */
	size_t max_nodes;       /* nodes in one datum */
	size_t max_atom;        /* bytes in one symbol, string or opaque text */
};

/* Limits for the control protocol and config files. */
#define SX_DEFAULT_DEPTH 64
#define SX_DEFAULT_NODES 200000
#define SX_DEFAULT_ATOM  65536
extern const struct sx_limits sx_default_limits;

enum sx_result {
	SX_OK = 0,              /* one datum read; *pos is past it */
	SX_END = 1,             /* only whitespace and comments remained */
	SX_INCOMPLETE = 2,      /* input ended inside a datum (truncated) */
	SX_ESYNTAX = 3,         /* malformed: unbalanced ")", bad escape, bad "#" */
	SX_ELIMIT = 4,          /* a limit was passed */
	SX_ENOMEM = 5
};

struct sx_error {
	size_t off;             /* byte offset where the problem was found */
	size_t line;            /* 1-based line of that offset */
	char msg[160];          /* e.g. "list nested deeper than 64" */
};

/*
 * Read one datum from buf[*pos .. len).  On SX_OK, *out is a new tree the
 * caller frees with sx_free and *pos is just past the datum.  On any other
 * result *out is NULL, *pos is unchanged and, for errors and
 * SX_INCOMPLETE, err (if not NULL) says what and where.
 */
enum sx_result sx_read(const char *buf, size_t len, size_t *pos,
		       const struct sx_limits *lim, struct sx **out,
		       struct sx_error *err);

void sx_free(struct sx *x);

/* Accessors; each is safe on NULL and on nodes of the wrong type. */
bool sx_is_list(const struct sx *x);
bool sx_is_symbol(const struct sx *x, const char *name);  /* name NULL: any symbol */
bool sx_is_string(const struct sx *x);
size_t sx_len(const struct sx *x);                          /* list length, else 0 */
struct sx *sx_nth(const struct sx *x, size_t i);            /* list item or NULL */
const char *sx_text(const struct sx *x);  /* symbol/string/opaque text or NULL */

/*
 * Property list lookup: in (:k1 v1 :k2 v2 ...) the value after the symbol
 * key, or NULL.  Alist lookup: in (("k1" v ...) ("k2" ...)) the first
 * entry whose car is a string equal to key, or NULL.
 */
struct sx *sx_plist_get(const struct sx *plist, const char *key);
struct sx *sx_alist_get(const struct sx *alist, const char *key);

/*
 * Writer: append x in read-back form to a growing buffer; strings are
 * quoted with escapes so that sx_read gives the same datum back.
 * Returns 0, or -1 when memory runs out (buffer left as it was).
 */
struct sx_buf {
	char *s;                /* NUL-terminated */
	size_t len, cap;
};
int sx_write(struct sx_buf *b, const struct sx *x);
int sx_write_string(struct sx_buf *b, const char *s, size_t len); /* "..." quoted */
int sx_buf_append(struct sx_buf *b, const char *s, size_t len);
/* Room for extra more bytes after len (and the NUL), e.g. to read into. */
int sx_buf_reserve(struct sx_buf *b, size_t extra);
int sx_buf_printf(struct sx_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sx_buf_free(struct sx_buf *b);

/* Same datum: same types, lengths, bytes and numbers throughout (NULLs equal only each other). */
bool sx_equal(const struct sx *a, const struct sx *b);

/* Human name of a node type for messages: "list", "symbol", ... */
const char *sx_type_name(enum sx_type t);

#endif
