/*
 * trusted.h - trusted replies: when our user writes to an outside
 * address, a reply from that address to that user is expected. The pair
 * goes to the store (reply:EXTERNAL/LOCAL, read by greylist.c at RCPT)
 * with trusted_reply_lifetime, renewed by every message, and to the
 * trusted_replies table in the next batch.
 */
#ifndef LIMRISTEM_MILTER_TRUSTED_H
#define LIMRISTEM_MILTER_TRUSTED_H

#include "milter/message.h"
#include "milter/milter.h"

/* An outbound message was accepted: records its external recipients. */
void trusted_record(const struct milter_context *mc, const struct message *m);

#endif
