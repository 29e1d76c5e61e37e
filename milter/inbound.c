/*
 * inbound.c - the order of the inbound checks (see inbound.h).
 */
#include "autoconfig.h"

#include <stdio.h>

#include "common/log.h"
#include "milter/dns_glue.h"
#include "milter/forward.h"
#include "milter/greylist.h"
#include "milter/inbound.h"
#include "milter/judge.h"

static void set_reply(struct inbound_reply *r, const char *code, const char *dsn, const char *text)
{
	snprintf(r->code, sizeof(r->code), "%s", code);
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	snprintf(r->text, sizeof(r->text), "%s", text);
}

bool inbound_mail(const struct milter_context *mc, const struct connection *c, struct message *m,
		  struct inbound_reply *reply)
{
	const struct milter_section *s = mc->settings;
	struct arc_options o = { .key_lookup = dns_glue_key, .key_ctx = &m->budget,
				 .min_rsa_bits = (unsigned)s->min_rsa_bits };
	struct dkim_verify_options d = { .key_lookup = dns_glue_key, .key_ctx = &m->budget,
					 .min_rsa_bits = (unsigned)s->min_rsa_bits };

	if (s->reputation && judge_client_blocked(c, m)) {
		log_info("milter: client %s[%s] refused: blocked by the operator (mailadm reputation)",
			 c->client_name, c->client_text);
		metric_inc(mc->score_actions[SCORE_REJECT]);
		set_reply(reply, "550", "5.7.1", "Refused by local policy");
		return false;
	}
	m->budget.dns = mc->dns;
	m->arc = arc_verify_new(&o);
	m->dkim = dkim_verify_new(mc->dkim_lib, &d, m->queue_id);
	return true;
}

int inbound_rcpt(const struct milter_context *mc, const struct connection *c, struct message *m,
		 const char *rcpt, struct inbound_reply *reply)
{
	struct greylist_reply g;

	if (mc->store == NULL)
		return 1;
	judge_prepare(mc, c, m);
	if (m->override == OVERRIDE_BLOCK) {
		log_info("milter: %s sender domain %s refused: blocked by the operator",
			 m->queue_id[0] ? m->queue_id : "-", m->spf_mailfrom.domain);
		set_reply(reply, "550", "5.7.1", "Refused by local policy");
		return -1;
	}
	if (mc->settings->greylisting && !greylist_rcpt(mc, c, m, rcpt, &g)) {
		set_reply(reply, g.code, g.dsn, g.text);
		return 0;
	}
	return 1;
}

void inbound_header(struct message *m, const char *name, const char *value)
{
	message_add_header(m, name, value);
	if (m->arc != NULL)
		arc_verify_header(m->arc, name, value);
	if (m->dkim != NULL)
		dkim_verify_header(m->dkim, name, value);
}

void inbound_headers_end(const struct milter_context *mc, struct message *m)
{
	message_plan_edits(m, mc->authserv_id);
	if (m->arc != NULL)
		m->arc_wants_body = arc_verify_eoh(m->arc);
	if (m->dkim != NULL)
		m->dkim_wants_body = dkim_verify_eoh(m->dkim);
	forward_begin(mc, m);
}

void inbound_body(struct message *m, const void *data, size_t len)
{
	if (m->arc != NULL && m->arc_wants_body)
		arc_verify_body(m->arc, data, len);
	if (m->dkim != NULL && m->dkim_wants_body)
		dkim_verify_body(m->dkim, data, len);
	forward_body(m, data, len);
}

void inbound_end(const struct milter_context *mc, const struct connection *c, struct message *m,
		 struct verify_outcome *o)
{
	verify_message(mc, c, m, o);
	judge_message(mc, c, m, o);
}
