/*
 * finish.c - the answer at the end of a message and its log line (see
 * finish.h).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/rep_trace.h"
#include "common/xalloc.h"
#include "mailauth/authres.h"
#include "milter/finish.h"
#include "milter/forward.h"
#include "milter/header_edit.h"

#define FORGED_LOGGED_MAX 3	/* forged fields logged one by one, per message */

void answer_release(struct answer *a)
{
	for (size_t i = 0; i < a->count; i++) {
		free(a->ops[i].name);
		free(a->ops[i].value);
	}
	free(a->ops);
	memset(a, 0, sizeof(*a));
}

static void add_op(struct answer *a, enum answer_op_kind kind, char *name, uint32_t index,
		   const char *value)
{
	a->ops = xgrow(a->ops, &a->cap, a->count + 1, sizeof(*a->ops));
	a->ops[a->count++] = (struct answer_op){ kind, name, index, value ? xstrdup(value) : NULL };
}

/* Inserted on top: the last one ends up first. */
static void insert(struct answer *a, const char *name, const char *value)
{
	add_op(a, ANSWER_INSERT, xstrdup(name), 0, value);
}

/* The message's deletions (header_edit.h), all of them before anything is
 * added, each logged (up to a few) and counted. */
static void delete_fields(const struct milter_context *mc, struct message *m, struct answer *a)
{
	const struct header_plan *p = &m->edits;
	const char *id = m->queue_id[0] ? m->queue_id : "-";
	unsigned logged = 0, forged;

	message_plan_edits(m, mc->authserv_id);
	forged = p->forged_results + p->forged_arc_results;
	for (size_t i = 0; i < p->count; i++) {
		const struct header_deletion *d = &p->deletions[i];
		char *name = xstrndup(d->name, d->name_len);

		if (d->why != HEADER_EDIT_FOREIGN_VERDICT && logged++ < FORGED_LOGGED_MAX)
			log_notice("milter: %s: removed %s: it %s %s", id, name,
				   authres_claim_name(d->claim), mc->authserv_id);
		add_op(a, ANSWER_DELETE, name, d->index, NULL);
	}
	if (forged > FORGED_LOGGED_MAX)
		log_notice("milter: %s: removed %u fields claiming our authserv-id in all", id, forged);
	if (p->foreign_verdicts > 0)
		log_info("milter: %s: removed %u foreign X-Spam/X-Limristem field%s", id,
			 p->foreign_verdicts, p->foreign_verdicts == 1 ? "" : "s");
	metric_add(mc->removed_fields[0], p->forged_results);
	metric_add(mc->removed_fields[1], p->forged_arc_results);
	metric_add(mc->removed_fields[2], p->foreign_verdicts);
}

/* Our ARC set on top of the message, above our Authentication-Results. */
static void seal(const struct milter_context *mc, struct message *m, struct verify_outcome *o,
		 const char *results, struct answer *a)
{
	struct arc_seal_fields fields;

	if (forward_seal(mc, m, o, results, &fields) != 0) {
		metric_inc(mc->unsealed_messages);
		return;
	}
	insert(a, "ARC-Authentication-Results", fields.aar);
	insert(a, "ARC-Message-Signature", fields.ams);
	insert(a, "ARC-Seal", fields.seal);
	o->sealed_instance = fields.instance;
	metric_inc(mc->sealed_messages);
	arc_seal_fields_release(&fields);
}

static void add_results(const struct milter_context *mc, const struct connection *c,
			struct message *m, struct verify_outcome *o, struct answer *a)
{
	enum { VALUE_MAX = 8192 };
	char *value = xmalloc(VALUE_MAX);	/* not on the fiber's stack (filter.c) */
	bool cut_chain = m->edits.forged_arc_results > 0;

	/* with SMFIP_HDR_LEADSPC the space after the colon is ours to write */
	value[0] = ' ';
	if (verify_authres(mc, c, o, value + 1, VALUE_MAX - 1) < 0) {
		free(value);
		return;
	}
	insert(a, "Authentication-Results", value);
	if (cut_chain && m->sealer != NULL) {
		log_warning("milter: %s: not sealed: a forged ARC-Authentication-Results was removed",
			    m->queue_id[0] ? m->queue_id : "-");
		metric_inc(mc->unsealed_messages);
	}
	else
		seal(mc, m, o, value + 1, a);
	free(value);
}

static void add_verdict(const struct milter_context *mc, const struct verify_outcome *o,
			struct answer *a)
{
	char value[sizeof(o->trace) + SCORE_REASONS_MAX];

	if (o->trace[0] != '\0') {
		snprintf(value, sizeof(value), " %s", o->trace);	/* trace is shorter */
		insert(a, REP_TRACE_FIELD, value);
	}
	if (!o->spam)
		return;
	snprintf(value, sizeof(value), " Yes, score=%.1f required=%lld reasons=%s", o->score.score,
		 mc->settings->spam_header_score, o->score.reasons[0] ? o->score.reasons : "none");
	insert(a, "X-Spam-Status", value);
	snprintf(value, sizeof(value), " %.1f", o->score.score);
	insert(a, "X-Spam-Score", value);
}

/* "pass(example.org) fail(other.example)", or "none". */
static void dkim_summary(const struct dkim_verify_result *r, char *out, size_t outlen)
{
	size_t used = 0;

	snprintf(out, outlen, "none");
	for (size_t i = 0; r != NULL && i < r->count; i++) {
		int n = snprintf(out + used, outlen - used, "%s%s(%s)", used ? "," : "",
				 dkim_result_name(r->sigs[i].result), r->sigs[i].domain);
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += (size_t)n;
	}
}

/* dmarc=: the verdict; on a failure "/" and the policy applied, with why
 * in parentheses when it is not simply the From domain's own p
 * ("fail/quarantine(sp=quarantine@example.org,t=y)"). */
static void dmarc_summary(const struct verify_outcome *o, char *out, size_t outlen)
{
	char why[ADDR_DOMAIN_MAX + 64];

	if (!o->checked) {
		snprintf(out, outlen, "-");
		return;
	}
	if (o->dmarc.verdict != DMARC_RESULT_FAIL) {
		snprintf(out, outlen, "%s", dmarc_verdict_name(o->dmarc.verdict));
		return;
	}
	dmarc_policy_why(&o->dmarc, why, sizeof(why));
	snprintf(out, outlen, "fail/%s%s%s%s", dmarc_policy_name(o->dmarc.applied),	/* cut if long */
		 why[0] ? "(" : "", why, why[0] ? ")" : "");
}

static void log_summary(const struct connection *c, const struct message *m,
			const struct verify_outcome *o)
{
	int64_t us = (clock_monotonic_ns() - m->started_ns) / 1000;
	char dkim[320], arc[32], score[SCORE_REASONS_MAX + 32] = "", dmarc[ADDR_DOMAIN_MAX + 96];

	if (m->outbound && o->signatures > 0)
		snprintf(dkim, sizeof(dkim), "signed(%s,%u)", o->signed_by, o->signatures);
	else if (m->outbound)
		snprintf(dkim, sizeof(dkim), "unsigned");
	else
		dkim_summary(o->dkim, dkim, sizeof(dkim));
	snprintf(arc, sizeof(arc), "%s", m->outbound ? "-" : arc_status_name(o->arc.status));
	if (o->sealed_instance > 0) {
		size_t used = strlen(arc);
		snprintf(arc + used, sizeof(arc) - used, ",sealed(i=%u)", o->sealed_instance);
	}
	dmarc_summary(o, dmarc, sizeof(dmarc));
	if (o->scored)
		snprintf(score, sizeof(score), " score=%.1f%s%s%s", o->score.score,
			 o->score.reasons[0] ? "(" : "", o->score.reasons, o->score.reasons[0] ? ")" : "");
	log_info("milter: %s client=%s[%s] helo=%s from=<%s> rcpts=%zu%s%s %s header.from=%s "
		 "spf=%s dkim=%s dmarc=%s arc=%s%s: %s%s%s (%lld.%03lld ms)",
		 m->queue_id[0] ? m->queue_id : "-", c->client_name, c->client_text, c->helo,
		 m->mail_from, m->recipients, m->auth_user[0] ? " auth=" : "", m->auth_user,
		 m->outbound ? "outbound" : "inbound", o->from_domain[0] ? o->from_domain : "-",
		 o->checked ? spf_verdict_name(o->spf_mailfrom.verdict) : "-",
		 dkim,
		 dmarc,
		 arc, score,
		 verify_action_name(o->action), o->why[0] ? ": " : "", o->why,
		 (long long)(us / 1000), (long long)(us % 1000));
}

void finish_message(const struct milter_context *mc, const struct connection *c, struct message *m,
		    struct verify_outcome *o, const char *const signatures[], size_t count,
		    struct answer *a)
{
	bool accepted = o->action == VERIFY_ACCEPT || o->action == VERIFY_QUARANTINE;

	answer_release(a);
	if (accepted && m->too_many_headers) {	/* fields past the cap are not in the plan */
		verify_decide(o, VERIFY_REJECT, "552", "5.3.4", "over the header field limit", "%s",
			      "Message refused: too many header fields");
		accepted = false;
	}
	if (accepted) {
		delete_fields(mc, m, a);
		/* the last inserted ends up on top: keep the order of the keys */
		for (size_t i = count; i-- > 0; )
			insert(a, "DKIM-Signature", signatures[i]);
		if (o->checked && o->scored)
			add_verdict(mc, o, a);
		if (o->checked)
			add_results(mc, c, m, o, a);
	}
	if (o->action == VERIFY_QUARANTINE)
		snprintf(a->quarantine, sizeof(a->quarantine), "limristem: DMARC %s", o->why);
	a->action = o->action;
	snprintf(a->code, sizeof(a->code), "%s", o->smtp_code);
	snprintf(a->dsn, sizeof(a->dsn), "%s", o->dsn);
	snprintf(a->text, sizeof(a->text), "%s", o->reply);
	log_summary(c, m, o);
	metric_inc(mc->messages[o->action]);
	metric_observe_since(mc->latency, m->started_ns);
}
