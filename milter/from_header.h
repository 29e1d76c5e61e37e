/*
 * from_header.h - the author domain of a message, from its From header
 * field (RFC 5322 section 3.6.2), for DMARC.
 *
 * DMARC judges one domain: a From field with no mailbox, with several
 * mailboxes, with a group, or without a usable domain cannot be judged, and
 * the milter refuses such a message instead of letting it bypass DMARC
 * (RFC 7489 section 6.6.1). Display names, quoted strings, nested comments
 * and the obsolete syntax (route addresses, empty list members, CFWS
 * around the "@") are understood, so "Doe, John" <j@example.org> is one
 * mailbox and "a@evil.example" <j@example.org> is example.org. A pure
 * function over a buffer.
 */
#ifndef LIMRISTEM_MILTER_FROM_HEADER_H
#define LIMRISTEM_MILTER_FROM_HEADER_H

#include <stddef.h>

#include "addr.h"

enum from_status {
	FROM_OK,
	FROM_EMPTY,		/* no mailbox at all */
	FROM_SEVERAL,		/* more than one mailbox */
	FROM_GROUP,		/* group syntax ("list: a@b, c@d;") */
	FROM_NO_DOMAIN,		/* a mailbox without a usable domain (none, or a literal) */
	FROM_MALFORMED,		/* unbalanced quotes, comments or brackets; text after <...> */
};

#define FROM_DOMAIN_SIZE (ADDR_DOMAIN_MAX + 1)

/* value[0..len) is the field body as received (unfolding not needed). On
 * FROM_OK, domain (FROM_DOMAIN_SIZE bytes) holds the lowercased domain
 * without a trailing dot; else *why_r says what is wrong. */
enum from_status from_header_domain(const char *value, size_t len, char *domain,
				    const char **why_r);

const char *from_status_name(enum from_status status);

#endif
