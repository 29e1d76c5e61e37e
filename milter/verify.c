/*
 * verify.c - the end-of-message decision for inbound mail.
 *
 * Order: the From field first (a message DMARC cannot judge is refused
 * before anything else is spent on it), then the ARC chain.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "milter.h"
#include "verify.h"

static void refuse(struct verify_outcome *o, const char *code, const char *dsn, const char *reply,
		   const char *why)
{
	o->action = code[0] == '4' ? VERIFY_TEMPFAIL : VERIFY_REJECT;
	snprintf(o->smtp_code, sizeof(o->smtp_code), "%s", code);
	snprintf(o->dsn, sizeof(o->dsn), "%s", dsn);
	snprintf(o->reply, sizeof(o->reply), "%s", reply);
	snprintf(o->why, sizeof(o->why), "%s", why);
}

/* RFC 5322 3.6: exactly one From field; DMARC needs exactly one mailbox. */
static bool check_from(const struct message *m, struct verify_outcome *o)
{
	size_t count = message_header_count(m, "From");
	const struct header_field *from = message_header(m, "From", 0);
	const char *why = "";

	if (count != 1) {
		o->from_status = count == 0 ? FROM_EMPTY : FROM_SEVERAL;
		snprintf(o->why, sizeof(o->why), "%zu From header fields", count);
	} else {
		o->from_status = from_header_domain(from->value, strlen(from->value), o->from_domain, &why);
		if (o->from_status != FROM_OK)
			snprintf(o->why, sizeof(o->why), "From: %s", why);
	}
	if (o->from_status == FROM_OK || !milter.settings->refuse_bad_from)
		return true;
	metric_inc(milter.bad_from);
	o->action = VERIFY_REJECT;
	snprintf(o->smtp_code, sizeof(o->smtp_code), "550");
	snprintf(o->dsn, sizeof(o->dsn), "5.7.1");
	snprintf(o->reply, sizeof(o->reply), "%s", count == 0
		 ? "Message refused: it has no From header field"
		 : count > 1 ? "Message refused: it has more than one From header field"
		 : "Message refused: the From header field must name exactly one mailbox with a domain");
	return false;
}

void verify_message(const struct connection *conn, struct message *m, struct verify_outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->action = VERIFY_ACCEPT;
	if (m->too_many_headers) {
		refuse(o, "552", "5.3.4", "Message refused: too many header fields",
		       "over the header field limit");
		return;
	}
	if (!check_from(m, o))
		return;
	if (m->arc != NULL) {
		arc_verify_end(m->arc);
		o->arc = *arc_verify_result(m->arc);
		metric_inc(milter.arc_results[o->arc.status]);
	}
	if (m->dkim != NULL) {
		dkim_verify_end(m->dkim);
		o->dkim = dkim_verify_result(m->dkim);
		for (size_t i = 0; i < o->dkim->count; i++)
			metric_inc(milter.dkim_results[o->dkim->sigs[i].result]);
	}
}

const char *verify_action_name(enum verify_action action)
{
	static const char *const names[] = { "accept", "reject", "tempfail", "quarantine" };

	return action <= VERIFY_QUARANTINE ? names[action] : "?";
}
