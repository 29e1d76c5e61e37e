/*
 * msgsplit.h - split a whole RFC 5322 message held in memory into header
 * fields and body, the way libmilter hands them to the milter.
 *
 * For tools that start from a message file (mailadm learn, the interop
 * drivers), unit tests and fuzz targets; the milter itself gets the pieces
 * from the MTA. Pure, one pass. Also the suite's one header unfolder.
 */
#ifndef LIMRISTEM_MAILAUTH_MSGSPLIT_H
#define LIMRISTEM_MAILAUTH_MSGSPLIT_H

#include <stddef.h>

#include "common/strbuf.h"

/* name: everything before the colon (obsolete white space before it
 * included, so that simple canonicalization sees it); value:
 * everything after the colon through the end of the field's last
 * continuation line, folds kept as they are, final line break excluded. */
typedef void msgsplit_header_fn(void *ctx, const char *name, size_t name_len,
				const char *value, size_t value_len);

/* Calls header for each field, in order, and returns the offset at which
 * the body starts: after the empty line that ends the header block, or at
 * the first line that is neither a field nor a continuation (a message
 * with no blank line before its body), or len. Lines end in CRLF or LF. */
size_t msgsplit(const char *msg, size_t len, msgsplit_header_fn *header, void *ctx);

/* Appends value[0..len) unfolded (RFC 5322 2.2.3): each line break (CRLF
 * or LF) that a space or tab follows is removed, the white space kept. */
void msgsplit_unfold(const char *value, size_t len, struct strbuf *out);

#endif
