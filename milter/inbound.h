/*
 * inbound.h - the order of the checks on mail from outside, one function
 * per point of the SMTP transaction, the way policyd/service.c orders its
 * checks:
 *
 *   MAIL   the operator's block of the client; the message's DKIM and ARC
 *          verifiers
 *   RCPT   once: SPF for HELO and MAIL FROM, the reputation known before
 *          the message (judge.c); then the operator's block of the
 *          sender's domain, greylisting (greylist.c)
 *   header kept, and fed to the verifiers
 *   EOH    the deletions planned, sealing begun when a recipient forwards
 *          outside (forward.c)
 *   body   fed to the verifiers and the sealer
 *   end    From, SPF, DKIM, ARC, DMARC and their actions (verify.c, whose
 *          DKIM, ARC and DMARC lookups share milter.dns_budget from here),
 *          the score and its action (judge.c)
 *
 * rcpt and end may ask DNS and Redis: run in a fiber on an event loop
 * (filter.c does), they wait without holding the loop.
 */
#ifndef LIMRISTEM_MILTER_INBOUND_H
#define LIMRISTEM_MILTER_INBOUND_H

#include <stdbool.h>
#include <stddef.h>

#include "milter/message.h"
#include "milter/milter.h"
#include "milter/verify.h"

/* An SMTP reply for a refusal at MAIL or RCPT. */
struct inbound_reply {
	char code[4], dsn[8];
	char text[256];
};

/* false: the client is refused (reply filled). */
bool inbound_mail(const struct milter_context *mc, const struct connection *c, struct message *m,
		  struct inbound_reply *reply);
/* rcpt is the bare address. 1: it passes; 0: deferred (4xx); -1: refused
 * (5xx); reply filled for both. */
int inbound_rcpt(const struct milter_context *mc, const struct connection *c, struct message *m,
		 const char *rcpt, struct inbound_reply *reply);
void inbound_header(struct message *m, const char *name, const char *value);
void inbound_headers_end(const struct milter_context *mc, struct message *m);
void inbound_body(struct message *m, const void *data, size_t len);
/* The decision at the end of the message, in o. */
void inbound_end(const struct milter_context *mc, const struct connection *c, struct message *m,
		 struct verify_outcome *o);

#endif
