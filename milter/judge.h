/*
 * judge.h - reputation for inbound mail: what the milter knows about the
 * client and the sender before the message (for greylisting), the score
 * at its end and the action it gives, and what each message teaches the
 * counters of the entities it came from (Redis at once, the database in
 * batches).
 */
#ifndef LIMRISTEM_MILTER_JUDGE_H
#define LIMRISTEM_MILTER_JUDGE_H

#include <stdbool.h>

#include "milter/message.h"
#include "milter/verify.h"

/* At MAIL FROM: the operator blocked the client's IP or a network of it. */
bool judge_client_blocked(const struct connection *c, const struct message *m);
/* At the first recipient, once: SPF, the greylisting origin and sender,
 * the entities' reputation and overrides, the score before the message. */
void judge_prepare(const struct milter_context *mc, const struct connection *c, struct message *m);
/* At the end, after verify_message(): the score and its action (which may
 * refuse or defer the message), the counters, the trace for learning;
 * and, with reputation on or off, greylisting of the recipients held for
 * DKIM at RCPT (a reply to our user SPF did not validate) when DKIM does
 * not validate the sender either. */
void judge_message(const struct milter_context *mc, const struct connection *c, struct message *m,
		   struct verify_outcome *o);

#endif
