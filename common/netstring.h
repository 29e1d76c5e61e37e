/*
 * netstring.h - netstring codec ("5:hello,"), as used by Postfix socketmap.
 *
 * Pure functions over buffers. The parser is strict (no leading zeros, the
 * trailing comma is required) and bounded: a length over the caller's limit
 * is refused as soon as its digits are read, before any payload arrives.
 */
#ifndef LIMRISTEM_NETSTRING_H
#define LIMRISTEM_NETSTRING_H

#include <stddef.h>
#include <sys/types.h>

#include "common/strbuf.h"

enum {
	NETSTRING_INCOMPLETE = 0,	/* more input is needed */
	NETSTRING_MALFORMED = -1,	/* can never become a netstring */
	NETSTRING_TOO_LONG = -2,	/* announced length over the limit */
};

/* Parses one netstring at the start of buf[0..len). Returns the bytes it
 * occupies (> 0) and points *payload_r and *payload_len_r into buf, or one of
 * the codes above. */
ssize_t netstring_parse(const char *buf, size_t len, size_t max_payload,
			const char **payload_r, size_t *payload_len_r);

/* Appends payload[0..len) as a netstring. */
void netstring_append(struct strbuf *out, const void *payload, size_t len);

#endif
