/*
 * verify.h - the inbound checks at the end of a message, and what they
 * decide: the results for Authentication-Results and the log, and the
 * action for Postfix.
 */
#ifndef LIMRISTEM_MILTER_VERIFY_H
#define LIMRISTEM_MILTER_VERIFY_H

#include "common/rep_trace.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim_verify.h"
#include "mailauth/dmarc.h"
#include "mailauth/from_header.h"
#include "mailauth/spf.h"
#include "milter/message.h"
#include "milter/milter.h"
#include "milter/score.h"

enum verify_action { VERIFY_ACCEPT, VERIFY_REJECT, VERIFY_TEMPFAIL, VERIFY_QUARANTINE };

struct verify_outcome {
	enum verify_action action;
	char smtp_code[4];		/* for REJECT and TEMPFAIL */
	char dsn[8];
	char reply[256];		/* the text Postfix sends */
	char why[256];			/* for the log (and the quarantine reason) */

	enum from_status from_status;
	char from_domain[FROM_DOMAIN_SIZE];
	bool checked;			/* the checks below ran */
	struct spf_result spf_helo, spf_mailfrom;
	const struct dkim_verify_result *dkim;	/* the message's verifier owns it */
	struct arc_result arc;		/* copied from the verifier */
	struct dmarc_result dmarc;
	bool arc_override;		/* a trusted ARC chain overrode the DMARC policy */

	char signed_by[256];		/* outbound: d= of our signatures, "" when unsigned */
	unsigned signatures;
	unsigned sealed_instance;	/* forwarded: i= of our ARC set, 0 when not sealed */

	bool scored;			/* judge.c ran: the fields below are set */
	struct score_result score;
	enum score_action score_action;
	bool spam;			/* gets X-Spam-Score and X-Spam-Status: Yes */
	char trace[REP_TRACE_TEXT_MAX];	/* the X-Limristem-Reputation value, "" for none */
};

/* Sets the action, the SMTP reply and the reason for the log. */
void verify_decide(struct verify_outcome *o, enum verify_action action, const char *code,
		   const char *dsn, const char *why, const char *reply_fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Exactly one From field naming one mailbox: fills from_status and
 * from_domain; false when the message is refused for it (refuse_bad_from). */
bool verify_check_from(const struct milter_context *mc, const struct message *m,
		       struct verify_outcome *o);

/* SPF for HELO and MAIL FROM into m, once per message (greylisting may
 * need it at the first recipient, the checks at the end). */
void verify_run_spf(const struct milter_context *mc, const struct connection *c, struct message *m);
void verify_message(const struct milter_context *mc, const struct connection *conn,
		    struct message *m, struct verify_outcome *o);
/* The Authentication-Results value (folded with "\n\t"). 0 or -1. */
int verify_authres(const struct milter_context *mc, const struct connection *conn,
		   const struct verify_outcome *o, char *out, size_t outlen);
const char *verify_action_name(enum verify_action action);

#endif
