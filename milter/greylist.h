/*
 * greylist.h - greylisting of inbound mail: per recipient at RCPT, and at
 * the end of a message for two cases decided only there (a score in the
 * greylist range; a reply to our user that SPF did not validate and DKIM
 * might). The rules are greylist_decide.c's; the state is the store's.
 */
#ifndef LIMRISTEM_MILTER_GREYLIST_H
#define LIMRISTEM_MILTER_GREYLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "milter/message.h"
#include "milter/milter.h"

struct greylist_reply {
	char code[4], dsn[8];
	char text[256];
};

/* After judge_prepare(). True to accept the recipient; false to defer it
 * with reply. */
bool greylist_rcpt(const struct milter_context *mc, const struct connection *c, struct message *m,
		   const char *rcpt, struct greylist_reply *reply);
/* The message's first triplet, ignoring the automatic whitelist: 1 when
 * it is deferred, 0 when it passes (a retry after the delay). */
int greylist_for_score(const struct milter_context *mc, const struct connection *c, struct message *m);
/* The triplets held back for DKIM, which did not validate the sender:
 * how many of them are deferred. */
size_t greylist_pending(const struct milter_context *mc, const struct connection *c, struct message *m);


#endif
