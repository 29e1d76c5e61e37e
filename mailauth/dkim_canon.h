/*
 * dkim_canon.h - DKIM canonicalization (RFC 6376 section 3.4) and header
 * selection (section 5.4.2), shared by DKIM and ARC verification and
 * signing.
 *
 * Header fields are given as received: the name without its colon and the
 * value exactly as it followed the colon (leading space and folding kept;
 * folds may be CRLF or a bare LF). Simple canonicalization writes them back
 * with CRLF folds; relaxed lowercases the name, unfolds, squeezes white
 * space and trims it at both ends of the value.
 *
 * The body is canonicalized as a stream: feed chunks as they arrive (line
 * ends may be CRLF or a bare LF, and may straddle chunks), read the digest
 * at the end. Trailing empty lines are held back until a non-empty line
 * proves they are not trailing, so nothing but a count is buffered.
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_CANON_H
#define LIMRISTEM_MAILAUTH_DKIM_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/strbuf.h"

enum dkim_canon_mode {
	DKIM_CANON_SIMPLE,
	DKIM_CANON_RELAXED,
};

/* A header field as received (see above); value need not be terminated. */
struct dkim_canon_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* One entry of an h= list. */
struct canon_name {
	const char *name;
	size_t len;
};

/* Parses a c= value: "simple", "relaxed", "relaxed/simple" ... (any case).
 * A missing body part means simple (RFC 6376 3.5). 0, or -1 when invalid. */
int dkim_canon_mode_parse(const char *s, size_t len, enum dkim_canon_mode *header_r, enum dkim_canon_mode *body_r);
const char *dkim_canon_mode_name(enum dkim_canon_mode mode);

/* Appends the canonical form of one header field, without a final CRLF. */
void dkim_canon_header_append(struct strbuf *out, enum dkim_canon_mode mode, const char *name,
			 size_t name_len, const char *value, size_t value_len);

/* Case-insensitive header name comparison; trailing WSP on the header's
 * name (obsolete "Name :" syntax) is ignored. */
bool dkim_canon_name_matches(const char *header_name, size_t header_len, const char *name, size_t len);

/* Header selection for a signature's h= list: for each name, in order, the
 * index of the header that signs it, or -1 when there is none left (a
 * nonexistent header signs as nothing). Repeated names take instances from
 * the bottom of the header block upward. picked_r has names_count entries.
 * Work is bounded by names_count * (names_count + headers_count). */
void dkim_canon_select_headers(const struct dkim_canon_header *headers, size_t headers_count,
			  const struct canon_name *names, size_t names_count, long *picked_r);
/* The fields names select (as above), each canonicalized by mode with its
 * CRLF, in h= order, appended to out: the signed header data of DKIM's and
 * ARC's signatures, less the signature's own field. */
void dkim_canon_append_selected(struct strbuf *out, enum dkim_canon_mode mode,
				const struct dkim_canon_header *headers, size_t headers_count,
				const struct canon_name *names, size_t names_count);

/* Streaming body canonicalizer and hasher. One per canonicalization is
 * enough for any number of signatures: the digests of prefixes (l= body
 * lengths) are taken on the way by copying the digest state, so the body
 * is canonicalized and hashed once whatever the signatures ask. */
struct dkim_canon_body;

#define DKIM_CANON_MAX_PREFIXES 64

/* md: the digest (EVP_sha256()). */
struct dkim_canon_body *dkim_canon_body_new(enum dkim_canon_mode mode, const EVP_MD *md);
/* Also keeps the digest of the first limit canonical bytes (an l= tag).
 * Call before the first update. Returns a number for dkim_canon_body_prefix(),
 * or -1 when DKIM_CANON_MAX_PREFIXES are taken. Equal limits share a number. */
int dkim_canon_body_add_prefix(struct dkim_canon_body *cb, uint64_t limit);
void dkim_canon_body_update(struct dkim_canon_body *cb, const void *data, size_t len);
/* Ends the body and writes the digest of all of it (at most
 * EVP_MAX_MD_SIZE bytes). Returns its length, or -1 when OpenSSL fails.
 * Call once. */
int dkim_canon_body_final(struct dkim_canon_body *cb, unsigned char *digest);
/* After final: the digest of a prefix; its length, or -1 when the body is
 * shorter than the prefix (or OpenSSL failed). */
int dkim_canon_body_prefix(const struct dkim_canon_body *cb, int prefix, unsigned char *digest);
/* Canonical body bytes, valid after final. */
uint64_t dkim_canon_body_length(const struct dkim_canon_body *cb);
/* Also appends every canonical byte to copy (tests and debugging). */
void dkim_canon_body_set_copy(struct dkim_canon_body *cb, struct strbuf *copy);
void dkim_canon_body_free(struct dkim_canon_body **cb);

#endif
