/*
 * finish.h - the end of every message, inbound or outbound: what the
 * milter tells the MTA (struct answer) and the one log line.
 *
 * A message that is accepted (or quarantined) first loses the fields only
 * we may write, whatever path it took (inbound or outbound, scored or
 * not: header_edit.h's plan), then gets ours: the signatures of outbound
 * mail, the verdict and results (and the ARC set of forwarded mail) of
 * inbound mail. finish_message() runs in the message's fiber (sealing
 * signs); filter.c applies the answer to the MTA's session afterwards, on
 * the loop, deletions first.
 */
#ifndef LIMRISTEM_MILTER_FINISH_H
#define LIMRISTEM_MILTER_FINISH_H

#include <stddef.h>
#include <stdint.h>

#include "milter/message.h"
#include "milter/milter.h"
#include "milter/verify.h"

enum answer_op_kind { ANSWER_DELETE, ANSWER_INSERT };

struct answer_op {
	enum answer_op_kind kind;
	char *name;
	uint32_t index;		/* DELETE: the index'th field of that name, 1-based */
	char *value;		/* INSERT: on top of the message, leading space included */
};

struct answer {
	enum verify_action action;
	char code[4], dsn[8];	/* REJECT and TEMPFAIL */
	char text[256];
	char quarantine[300];	/* QUARANTINE: the reason */
	struct answer_op *ops;	/* in the order to apply them */
	size_t count, cap;
};

/* Fills a (released first) for message m with outcome o; signatures are
 * outbound mail's DKIM-Signature values. Logs the summary line and counts
 * the message. */
void finish_message(const struct milter_context *mc, const struct connection *c, struct message *m,
		    struct verify_outcome *o, const char *const signatures[], size_t count,
		    struct answer *a);
void answer_release(struct answer *a);

#endif
