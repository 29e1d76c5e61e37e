/*
 * forward.h - ARC sealing (RFC 8617) of inbound mail that we forward to an
 * external address: a recipient with a redirect, or an alias whose target
 * is outside (tables.h). After our checks, the message gets the next ARC
 * set with our results, so the next hop can trust them when SPF and
 * perhaps DKIM break on the way.
 */
#ifndef LIMRISTEM_MILTER_FORWARD_H
#define LIMRISTEM_MILTER_FORWARD_H

#include "mailauth/arc_seal.h"
#include "milter/message.h"
#include "milter/verify.h"

/* At the end of the header block: starts the sealer when a recipient is
 * forwarded and sealing is configured. */
void forward_begin(const struct milter_context *mc, struct message *m);
void forward_body(struct message *m, const void *data, size_t len);
/* After verification: 0 with fields_r filled (insert AAR, AMS, AS at
 * index 0, in that order), 1 when nothing is to be added, -1 on failure
 * (logged; the message goes on unsealed). results is our
 * Authentication-Results value ("authserv-id; ..."). */
int forward_seal(const struct milter_context *mc, struct message *m, const struct verify_outcome *o,
		 const char *results, struct arc_seal_fields *fields_r);

#endif
