/*
 * verify.c - the end-of-message decision for inbound mail.
 *
 * Order: the From field first (a message DMARC cannot judge is refused
 * before anything else is spent on it), then SPF for HELO and MAIL FROM,
 * every DKIM signature, the ARC chain, and DMARC over those results; the
 * configured actions turn the results into an answer.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "mailauth/authres.h"
#include "milter/dns_glue.h"
#include "milter/milter.h"
#include "milter/verify.h"

/* Copies s into out, cut at outlen - 1 bytes (log and reply texts). */
static void copy_text(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

void verify_decide(struct verify_outcome *o, enum verify_action action, const char *code,
		   const char *dsn, const char *why, const char *reply_fmt, ...)
{
	va_list ap;

	o->action = action;
	copy_text(o->smtp_code, sizeof(o->smtp_code), code);
	copy_text(o->dsn, sizeof(o->dsn), dsn);
	copy_text(o->why, sizeof(o->why), why);
	va_start(ap, reply_fmt);
	vsnprintf(o->reply, sizeof(o->reply), reply_fmt, ap);	/* a long reply is cut */
	va_end(ap);
}

/* RFC 5322 3.6: exactly one From field; DMARC needs exactly one mailbox. */
bool verify_check_from(const struct milter_context *mc, const struct message *m,
		       struct verify_outcome *o)
{
	size_t count = message_header_count(m, "From");
	const struct header_field *from = message_header(m, "From", 0);
	const char *why = "";
	char reason[200];

	if (count != 1) {
		o->from_status = count == 0 ? FROM_EMPTY : FROM_SEVERAL;
		snprintf(reason, sizeof(reason), "%zu From header fields", count);
	} else {
		o->from_status = from_header_domain(from->value, strlen(from->value), o->from_domain, &why);
		snprintf(reason, sizeof(reason), "From: %s", why);
	}
	if (o->from_status == FROM_OK)
		return true;
	copy_text(o->why, sizeof(o->why), reason);
	if (!mc->settings->refuse_bad_from)
		return true;
	metric_inc(mc->bad_from);
	verify_decide(o, VERIFY_REJECT, "550", "5.7.1", reason, "%s", count == 0
	       ? "Message refused: it has no From header field"
	       : count > 1 ? "Message refused: it has more than one From header field"
	       : "Message refused: the From header field must name exactly one mailbox with a domain");
	return false;
}

void verify_run_spf(const struct milter_context *mc, const struct connection *c, struct message *m)
{
	if (m->spf_done)
		return;
	m->spf_done = true;
	if (!c->have_client) {
		m->spf_helo.verdict = m->spf_mailfrom.verdict = SPF_NONE;
		return;
	}
	spf_check_helo(mc->spf, &c->client, c->helo, &m->spf_helo);
	spf_check_mailfrom(mc->spf, &c->client, c->helo, m->mail_from, &m->spf_mailfrom);
	metric_inc(mc->spf_results[m->spf_mailfrom.verdict]);
}

static void run_dmarc(const struct milter_context *mc, struct message *m, struct verify_outcome *o)
{
	struct dmarc_identifier dkim[DKIM_VERIFY_MAX_SIGNATURES_DEFAULT * 2];
	struct dmarc_input in = { .from_domain = o->from_domain };

	for (size_t i = 0; o->dkim != NULL && i < o->dkim->count && in.dkim_count < 20; i++)
		if (o->dkim->sigs[i].result == DKIM_RESULT_PASS)
			dkim[in.dkim_count++] = (struct dmarc_identifier){ o->dkim->sigs[i].domain, true };
	in.dkim = dkim;
	if (o->spf_mailfrom.verdict == SPF_PASS)
		in.spf = (struct dmarc_identifier){ o->spf_mailfrom.domain, true };
	dmarc_evaluate(mc->dmarc, &in, dns_glue_dmarc, &m->budget, &o->dmarc);
	metric_inc(mc->dmarc_results[o->dmarc.verdict]);
}

/* RFC 8617 7.2: a chain that passes, sealed only by sealers we trust. */
static bool trusted_arc(const struct milter_context *mc, const struct verify_outcome *o)
{
	const struct config_strings *trusted = &mc->settings->trusted_arc_sealers;

	if (o->arc.status != ARC_STATUS_PASS || o->arc.sealer_count == 0 || trusted->count == 0)
		return false;
	for (unsigned i = 0; i < o->arc.sealer_count; i++) {
		bool found = false;

		for (size_t t = 0; t < trusted->count && !found; t++)
			found = strcasecmp(o->arc.sealers[i], trusted->items[t]) == 0;
		if (!found)
			return false;
	}
	return true;
}

static void apply_dmarc(const struct milter_context *mc, struct verify_outcome *o)
{
	const struct milter_section *s = mc->settings;
	int action;

	if (o->dmarc.verdict != DMARC_RESULT_FAIL || o->dmarc.applied == DMARC_P_NONE)
		return;
	action = o->dmarc.applied == DMARC_P_REJECT ? s->dmarc_reject_action : s->dmarc_quarantine_action;
	if (action == MILTER_DMARC_NONE)
		return;
	if (trusted_arc(mc, o)) {
		o->arc_override = true;
		log_notice("milter: DMARC %s of %s overridden: ARC chain sealed by trusted sealers (RFC 8617 7.2)",
			   dmarc_policy_name(o->dmarc.applied), o->from_domain);
		return;
	}
	if (action == MILTER_DMARC_REJECT)
		verify_decide(o, VERIFY_REJECT, "550", "5.7.1", o->dmarc.reason,
		       "Message refused: the DMARC policy of %s says to reject mail that fails "
		       "its authentication", o->from_domain);
	else
		verify_decide(o, VERIFY_QUARANTINE, "", "", o->dmarc.reason, "%s", "");
}

static void apply_spf_and_dns(const struct milter_context *mc, struct verify_outcome *o)
{
	const struct milter_section *s = mc->settings;

	if (s->spf_fail_action == MILTER_FAIL_REJECT && o->spf_mailfrom.verdict == SPF_FAIL)
		verify_decide(o, VERIFY_REJECT, "550", "5.7.23", "SPF fail",
		       "Message refused: SPF: %s", o->spf_mailfrom.explanation[0]
		       ? o->spf_mailfrom.explanation : "the sender's domain does not permit this client");
	else if (s->dns_error_action == MILTER_ERROR_TEMPFAIL &&
		 (o->spf_mailfrom.verdict == SPF_TEMPERROR || o->dmarc.verdict == DMARC_RESULT_TEMPERROR))
		verify_decide(o, VERIFY_TEMPFAIL, "451", "4.4.3", "DNS temporary failure",
		       "%s", "Temporary DNS failure while authenticating the message, try again later");
}

void verify_message(const struct milter_context *mc, const struct connection *conn,
		    struct message *m, struct verify_outcome *o)
{
	unsigned spent;

	memset(o, 0, sizeof(*o));
	o->action = VERIFY_ACCEPT;
	if (m->too_many_headers) {
		verify_decide(o, VERIFY_REJECT, "552", "5.3.4", "over the header field limit", "%s",
		       "Message refused: too many header fields");
		return;
	}
	if (!verify_check_from(mc, m, o))
		return;
	o->checked = true;
	verify_run_spf(mc, conn, m);		/* its own time limit: SPF_TIME_LIMIT_MS */
	o->spf_helo = m->spf_helo;
	o->spf_mailfrom = m->spf_mailfrom;
	dns_budget_start(&m->budget, mc->dns, mc->settings->dns_budget_ms);
	dkim_verify_end(m->dkim);
	o->dkim = dkim_verify_result(m->dkim);
	for (size_t i = 0; i < o->dkim->count; i++)
		metric_inc(mc->dkim_results[o->dkim->sigs[i].result]);
	arc_verify_end(m->arc);
	o->arc = *arc_verify_result(m->arc);
	metric_inc(mc->arc_results[o->arc.status]);
	if (o->from_status == FROM_OK)
		run_dmarc(mc, m, o);
	apply_dmarc(mc, o);
	if (o->action == VERIFY_ACCEPT)
		apply_spf_and_dns(mc, o);
	if ((spent = m->budget.exceeded) > 0)
		log_notice("milter: %s DNS time budget (milter.dns_budget, %lld ms) spent: %u "
			   "lookups answered as temporary failures", m->queue_id[0] ? m->queue_id : "-",
			   mc->settings->dns_budget_ms, spent);
}

const char *verify_action_name(enum verify_action action)
{
	static const char *const names[] = { "accept", "reject", "tempfail", "quarantine" };

	return action <= VERIFY_QUARANTINE ? names[action] : "?";
}
