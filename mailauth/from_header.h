/*
 * from_header.h - the author domain of a message, from its From header
 * field (RFC 5322 sections 3.4 and 3.6.2), for DMARC and for the outbound
 * check that a login sends as its own domain.
 *
 * DMARC judges one domain, and a mail reader shows the mailbox it parses:
 * unless the field is exactly one RFC 5322 mailbox, what we judge and what
 * the reader shows may differ, so anything else is refused (RFC 7489
 * section 6.6.1). The parser is strict, at the grammar level:
 *
 *   field      = [CFWS] mailbox [CFWS]
 *   mailbox    = name-addr / addr-spec
 *   name-addr  = [phrase] "<" addr-spec ">"
 *   addr-spec  = local-part "@" domain
 *
 * with CFWS (white space, folds and comments, nested to any depth) where
 * RFC 5322 allows it: around words, around '<' '>' '@' and the dots of the
 * local part, before and after the domain. Refused: a second address (with
 * or without a comma), text after the address, a second '@', a group,
 * unbalanced quotes, comments or brackets, '@' or other specials in an
 * unquoted display name, CFWS inside the domain, control characters, and
 * nothing at all. Display names may be quoted (escaped quotes inside) or
 * encoded words.
 *
 * Obsolete forms (RFC 5322 section 4): accepted are obs-phrase (dots in a
 * display name, "John Q. Public"), obs-local-part (words and quoted
 * strings joined by dots, CFWS around the dots: the local part does not
 * change the domain we judge) and one trailing dot of the domain (the same
 * domain, written absolute). Refused are obs-route ("<@relay:user@domain>":
 * readers differ on which domain to show), obs-domain (CFWS inside the
 * domain), obs-mbox-list (empty list members, "a@b.example,": a list is not
 * one mailbox) and obs-qtext (control characters in quoted strings).
 *
 * A pure function over a buffer, linear in its length, no allocation.
 */
#ifndef LIMRISTEM_MAILAUTH_FROM_HEADER_H
#define LIMRISTEM_MAILAUTH_FROM_HEADER_H

#include <stddef.h>

#include "common/addr.h"

enum from_status {
	FROM_OK,
	FROM_EMPTY,		/* no mailbox at all */
	FROM_SEVERAL,		/* more than one mailbox */
	FROM_GROUP,		/* group syntax ("list: a@b, c@d;") */
	FROM_NO_DOMAIN,		/* a mailbox without a usable domain (none, or a literal) */
	FROM_MALFORMED,		/* anything else that is not exactly one mailbox */
};

#define FROM_DOMAIN_SIZE (ADDR_DOMAIN_MAX + 1)
/* Most lexical tokens (words, quoted strings, specials) a From field may
 * have; a mailbox with a long display name has a few dozen. */
#define FROM_TOKENS_MAX 256

/* value[0..len) is the field body as received (folds need not be
 * undone). On FROM_OK, domain (FROM_DOMAIN_SIZE bytes) holds the
 * lowercased domain without a trailing dot; else *why_r says what is
 * wrong (a static text) and domain is "". */
enum from_status from_header_domain(const char *value, size_t len, char *domain,
				    const char **why_r);

const char *from_status_name(enum from_status status);

#endif
