/*
 * addr.h - e-mail address and domain name parsing, validation, normalization.
 *
 * Pure functions over strings; no I/O, no allocation. Limits and syntax
 * follow RFC 5321 (4.1.2, 4.5.3.1) and RFC 1035/1123 for host names; with
 * ADDR_ALLOW_UTF8 the SMTPUTF8 extensions of RFC 6531 are accepted. On
 * failure *why_r points at a static sentence saying which rule was broken.
 */
#ifndef LIMRISTEM_ADDR_H
#define LIMRISTEM_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define ADDR_LOCAL_MAX 64	/* octets in a local part */
#define ADDR_DOMAIN_MAX 253	/* characters in a host name, without a final dot */
#define ADDR_LABEL_MAX 63	/* octets in one label */
#define ADDR_MAX 254		/* a path (256) without its angle brackets */

/* Flags for addr_parse() and domain_check(). */
#define ADDR_ALLOW_UTF8       0x01	/* SMTPUTF8 local parts and U-labels */
#define ADDR_ALLOW_UNDERSCORE 0x02	/* '_' in labels (DNS names, lenient input) */
#define ADDR_ALLOW_LITERAL    0x04	/* [192.0.2.1] and [IPv6:...] as the domain */
#define ADDR_REQUIRE_DOT      0x08	/* at least two labels, last not numeric */

struct addr_parts {
	const char *local;
	size_t local_len;
	const char *domain;	/* without a trailing dot */
	size_t domain_len;
	bool domain_is_literal;
};

/* Splits s[0..len) (a bare address, no angle brackets) at its last '@'
 * outside quotes and validates both parts. Returns 0 or -1. */
int addr_parse(const char *s, size_t len, unsigned flags,
	       struct addr_parts *parts_r, const char **why_r);

/* Validates a local part (dot-string or quoted-string). */
int addr_local_check(const char *s, size_t len, unsigned flags, const char **why_r);

/* Validates a host name; one trailing dot is allowed. Returns 0 or -1. */
int domain_check(const char *s, size_t len, unsigned flags, const char **why_r);

/* Writes the lowercased domain without its trailing dot to out; returns
 * its length, or -1 when it does not fit in outlen (NUL included). */
int domain_normalize(const char *s, size_t len, char *out, size_t outlen);

/* Writes "local@domain" with the domain normalized; -1 when out is small. */
int addr_normalize(const struct addr_parts *parts, char *out, size_t outlen);

/* True when name equals parent or is below it ("a.b.example" under
 * "example"); both already normalized. */
bool domain_is_within(const char *name, const char *parent);

/* Length of a valid UTF-8 sequence starting at s (at most len bytes), or 0. */
size_t utf8_sequence_length(const unsigned char *s, size_t len);

#endif
