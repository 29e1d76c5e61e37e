/*
 * outbound.h - the outbound half of a message (authenticated, or from
 * internal_networks): which domain signs it, whether the sender may send
 * as that domain, and the DKIM signer the body streams through.
 *
 * The signing domain is the From domain, or the nearest parent domain
 * with keys when only that has them. Every active key of that domain
 * signs (RSA and Ed25519 side by side, RFC 8463). An authenticated user
 * may send as the domain of their login and its subdomains; anything else
 * gets unauthorized_sender_action. A key that could not be loaded gets
 * key_error_action (tempfail by default): never silently unsigned.
 */
#ifndef LIMRISTEM_MILTER_OUTBOUND_H
#define LIMRISTEM_MILTER_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>

#include "mailauth/dkim_sign.h"
#include "milter/message.h"
#include "milter/verify.h"

/* At the end of the header block: starts the signer when the message is
 * to be signed (the decision is made again, the same way, at the end). */
void outbound_begin(const struct milter_context *mc, struct message *m);
void outbound_body(struct message *m, const void *data, size_t len);
/* At the end of the message: decides (o), and when it signs, fills
 * values_r with the DKIM-Signature values (valid until message_free()). */
void outbound_end(const struct milter_context *mc, struct message *m, struct verify_outcome *o,
		  const char *values_r[DKIM_SIGN_MAX_KEYS], size_t *count_r);

/* Whether the login auth_user may send mail From domain. */
bool outbound_may_send_as(const char *auth_user, const char *domain);

#endif
