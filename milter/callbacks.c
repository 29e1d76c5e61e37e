/*
 * callbacks.c - libmilter glue: Postfix's milter events in, the message's
 * state and the final action out.
 *
 * Each connection gets a struct connection (smfi_setpriv); each MAIL FROM
 * a struct message that lives until the end of the message or an abort.
 * Outbound mail (authenticated, or from internal_networks) is signed
 * (outbound.c), not verified; inbound mail is verified (verify.c) and,
 * when a recipient forwards it outside, sealed (forward.c). Every answer
 * path goes through finish(), which writes the one summary log line.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/rep_trace.h"
#include "common/xalloc.h"
#include "mailauth/authres.h"
#include "milter/dns_glue.h"
#include "milter/forward.h"
#include "milter/greylist.h"
#include "milter/header_edit.h"
#include "milter/judge.h"
#include "milter/milter.h"
#include "milter/outbound.h"
#include "milter/trusted.h"
#include "milter/verify.h"

static struct connection *connection_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* libmilter's API takes char *; our strings are const. */
static int set_reply(SMFICTX *ctx, const char *code, const char *dsn, const char *text)
{
	char c[8], d[16], t[512];

	snprintf(c, sizeof(c), "%s", code);
	snprintf(d, sizeof(d), "%s", dsn);
	snprintf(t, sizeof(t), "%s", text);
	return smfi_setreply(ctx, c, d, t);
}

static sfsistat error_action(SMFICTX *ctx, const char *why)
{
	log_error("milter: internal error: %s", why);
	if (milter.settings->internal_error_action == MILTER_ACCEPT)
		return SMFIS_ACCEPT;
	set_reply(ctx, "451", "4.3.0", "Temporary local problem, try again later");
	return SMFIS_TEMPFAIL;
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps,
			     unsigned long unused2, unsigned long unused3,
			     unsigned long *actions_r, unsigned long *steps_r,
			     unsigned long *unused2_r, unsigned long *unused3_r)
{
	const unsigned long needed = SMFIF_ADDHDRS | SMFIF_CHGHDRS;

	*actions_r = actions & (needed | SMFIF_QUARANTINE);
	/* header values exactly as received: simple canonicalization needs them */
	*steps_r = steps & SMFIP_HDR_LEADSPC;
	*unused2_r = *unused3_r = 0;
	/* an MTA that would not let us delete forged fields gets no service */
	if ((actions & needed) != needed || !(steps & SMFIP_HDR_LEADSPC)) {
		log_error("milter: the MTA does not offer to add and delete header fields with "
			  "their leading space: refusing the connection");
		return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

static void client_from_sockaddr(struct connection *c, const struct sockaddr *sa)
{
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  c->client_text, sizeof(c->client_text));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  c->client_text, sizeof(c->client_text));
	c->have_client = ip_parse(c->client_text, &c->client) == 0;
}

static sfsistat on_connect(SMFICTX *ctx, char *hostname, struct sockaddr *addr)
{
	struct connection *c = xcalloc(1, sizeof(*c));

	snprintf(c->client_name, sizeof(c->client_name), "%s", hostname ? hostname : "unknown");
	client_from_sockaddr(c, addr);
	c->internal = c->have_client &&
		cidr_list_contains(&milter.settings->internal_networks, &c->client);
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat on_helo(SMFICTX *ctx, char *helo)
{
	struct connection *c = connection_of(ctx);

	if (c != NULL)
		snprintf(c->helo, sizeof(c->helo), "%s", helo ? helo : "");
	return SMFIS_CONTINUE;
}

static void copy_symbol(SMFICTX *ctx, const char *name, char *out, size_t outlen)
{
	char n[32];
	const char *v;

	snprintf(n, sizeof(n), "%s", name);
	v = smfi_getsymval(ctx, n);
	snprintf(out, outlen, "%s", v ? v : "");
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	struct connection *c = connection_of(ctx);
	struct message *m;
	const char *from = argv && argv[0] ? argv[0] : "";
	size_t len = strlen(from);

	if (c == NULL)
		return error_action(ctx, "MAIL FROM without a connection");
	message_free(&c->message);
	m = c->message = message_new();
	m->started_ns = clock_monotonic_ns();
	if (len >= 2 && from[0] == '<' && from[len - 1] == '>')
		snprintf(m->mail_from, sizeof(m->mail_from), "%.*s", (int)(len - 2), from + 1);
	else
		snprintf(m->mail_from, sizeof(m->mail_from), "%s", from);
	copy_symbol(ctx, "{auth_authen}", m->auth_user, sizeof(m->auth_user));
	copy_symbol(ctx, "i", m->queue_id, sizeof(m->queue_id));
	m->outbound = m->auth_user[0] != '\0' || c->internal;
	m->tables = tables_get();
	if (!m->outbound && milter.settings->reputation && judge_client_blocked(c, m)) {
		log_info("milter: client %s[%s] refused: blocked by the operator (mailadm reputation)",
			 c->client_name, c->client_text);
		metric_inc(milter.score_actions[SCORE_REJECT]);
		set_reply(ctx, "550", "5.7.1", "Refused by local policy");
		message_free(&c->message);
		return SMFIS_REJECT;
	}
	if (!m->outbound) {
		struct arc_options o = { .key_lookup = dns_glue_key, .key_ctx = milter.dns,
					 .min_rsa_bits = (unsigned)milter.settings->min_rsa_bits };
		struct dkim_verify_options d = { .key_lookup = dns_glue_key, .key_ctx = milter.dns,
						 .min_rsa_bits = (unsigned)milter.settings->min_rsa_bits };

		m->arc = arc_verify_new(&o);
		m->dkim = dkim_verify_new(milter.dkim_lib, &d, m->queue_id);
	}
	return SMFIS_CONTINUE;
}

/* Greylisting and the operator's blocks at RCPT. */
static sfsistat inbound_rcpt(SMFICTX *ctx, const struct connection *c, struct message *m,
			     const char *address)
{
	struct greylist_reply reply;

	if (m->queue_id[0] == '\0')
		copy_symbol(ctx, "i", m->queue_id, sizeof(m->queue_id));
	judge_prepare(c, m);
	if (m->override == OVERRIDE_BLOCK) {
		log_info("milter: %s sender domain %s refused: blocked by the operator",
			 m->queue_id[0] ? m->queue_id : "-", m->spf_mailfrom.domain);
		set_reply(ctx, "550", "5.7.1", "Refused by local policy");
		return SMFIS_REJECT;
	}
	if (milter.settings->greylisting && !greylist_rcpt(c, m, address, &reply)) {
		set_reply(ctx, reply.code, reply.dsn, reply.text);
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
	struct connection *c = connection_of(ctx);
	struct message *m = c ? c->message : NULL;
	const char *rcpt = argv && argv[0] ? argv[0] : "";
	char address[ADDR_MAX + 1];
	size_t len = strlen(rcpt);

	if (m == NULL)
		return SMFIS_CONTINUE;
	m->recipients++;
	if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>')
		snprintf(address, sizeof(address), "%.*s", (int)(len - 2), rcpt + 1);
	else
		snprintf(address, sizeof(address), "%s", rcpt);
	if (!m->outbound && m->tables != NULL && tables_is_forwarded(m->tables, address))
		m->forwarded = true;
	if (milter.store == NULL)
		return SMFIS_CONTINUE;
	if (m->outbound) {
		if (m->rcpt_count < MESSAGE_RCPTS_MAX)
			message_list_add(&m->rcpts, &m->rcpt_count, &m->rcpt_cap, address);
		return SMFIS_CONTINUE;
	}
	return inbound_rcpt(ctx, c, m, address);
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	struct connection *c = connection_of(ctx);
	struct message *m = c ? c->message : NULL;

	if (m == NULL)
		return error_action(ctx, "header without a message");
	message_add_header(m, name, value);
	if (m->arc != NULL)
		arc_verify_header(m->arc, name, value);
	if (m->dkim != NULL)
		dkim_verify_header(m->dkim, name, value);
	return SMFIS_CONTINUE;
}

static sfsistat on_eoh(SMFICTX *ctx)
{
	struct connection *c = connection_of(ctx);
	struct message *m = c ? c->message : NULL;

	if (m != NULL)
		message_plan_edits(m, milter.authserv_id);	/* before the signer reads them */
	if (m != NULL && m->arc != NULL)
		m->arc_wants_body = arc_verify_eoh(m->arc);
	if (m != NULL && m->dkim != NULL)
		m->dkim_wants_body = dkim_verify_eoh(m->dkim);
	if (m != NULL && m->outbound)
		outbound_begin(m);
	else if (m != NULL)
		forward_begin(m);
	return SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct connection *c = connection_of(ctx);
	struct message *m = c ? c->message : NULL;

	if (m != NULL && m->arc != NULL && m->arc_wants_body)
		arc_verify_body(m->arc, data, len);
	if (m != NULL && m->dkim != NULL && m->dkim_wants_body)
		dkim_verify_body(m->dkim, data, len);
	if (m != NULL) {
		outbound_body(m, data, len);
		forward_body(m, data, len);
	}
	return SMFIS_CONTINUE;
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

static void log_summary(const struct connection *c, const struct message *m,
			const struct verify_outcome *o)
{
	int64_t us = (clock_monotonic_ns() - m->started_ns) / 1000;
	char dkim[320], arc[32];

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
	char score[SCORE_REASONS_MAX + 32] = "";

	if (o->scored)
		snprintf(score, sizeof(score), " score=%.1f%s%s%s", o->score.score,
			 o->score.reasons[0] ? "(" : "", o->score.reasons, o->score.reasons[0] ? ")" : "");
	log_info("milter: %s client=%s[%s] helo=%s from=<%s> rcpts=%zu%s%s %s header.from=%s "
		 "spf=%s dkim=%s dmarc=%s%s%s arc=%s%s: %s%s%s (%lld.%03lld ms)",
		 m->queue_id[0] ? m->queue_id : "-", c->client_name, c->client_text, c->helo,
		 m->mail_from, m->recipients, m->auth_user[0] ? " auth=" : "", m->auth_user,
		 m->outbound ? "outbound" : "inbound", o->from_domain[0] ? o->from_domain : "-",
		 o->checked ? spf_verdict_name(o->spf_mailfrom.verdict) : "-",
		 dkim,
		 o->checked ? dmarc_verdict_name(o->dmarc.verdict) : "-",
		 o->dmarc.verdict == DMARC_RESULT_FAIL ? "/" : "",
		 o->dmarc.verdict == DMARC_RESULT_FAIL ? dmarc_policy_name(o->dmarc.applied) : "",
		 arc, score,
		 verify_action_name(o->action), o->why[0] ? ": " : "", o->why,
		 (long long)(us / 1000), (long long)(us % 1000));
}

#define FORGED_LOGGED_MAX 3	/* forged fields logged one by one, per message */

/* Applies the message's deletions (header_edit.h), all of them before
 * anything is added. -1 when the MTA did not take one. */
static int apply_deletions(SMFICTX *ctx, struct message *m)
{
	const struct header_plan *p = &m->edits;
	const char *id = m->queue_id[0] ? m->queue_id : "-";
	unsigned logged = 0, forged = p->forged_results + p->forged_arc_results;

	message_plan_edits(m, milter.authserv_id);
	for (size_t i = 0; i < p->count; i++) {
		const struct header_deletion *d = &p->deletions[i];
		char *name = xstrndup(d->name, d->name_len);
		int rc = smfi_chgheader(ctx, name, (int)d->index, NULL);

		if (d->why != HEADER_EDIT_FOREIGN_VERDICT && logged++ < FORGED_LOGGED_MAX)
			log_notice("milter: %s: removed %s: it %s %s", id, name,
				   authres_claim_name(d->claim), milter.authserv_id);
		free(name);
		if (rc != MI_SUCCESS) {
			log_error("milter: %s: the MTA did not delete a header field", id);
			return -1;
		}
	}
	if (forged > FORGED_LOGGED_MAX)
		log_notice("milter: %s: removed %u fields claiming our authserv-id in all", id, forged);
	if (p->foreign_verdicts > 0)
		log_info("milter: %s: removed %u foreign X-Spam/X-Limristem field%s", id,
			 p->foreign_verdicts, p->foreign_verdicts == 1 ? "" : "s");
	metric_add(milter.removed_fields[0], p->forged_results);
	metric_add(milter.removed_fields[1], p->forged_arc_results);
	metric_add(milter.removed_fields[2], p->foreign_verdicts);
	return 0;
}

static void insert_header(SMFICTX *ctx, const char *name, const char *value)
{
	char n[64];

	snprintf(n, sizeof(n), "%s", name);
	/* libmilter takes char *; it does not write to the value */
	smfi_insheader(ctx, 0, n, (char *)(uintptr_t)value);
}

/* Our ARC set on top of the message, above our Authentication-Results. */
static void seal(SMFICTX *ctx, struct message *m, struct verify_outcome *o, const char *results)
{
	struct arc_seal_fields fields;

	if (forward_seal(m, o, results, &fields) != 0) {
		metric_inc(milter.unsealed_messages);
		return;
	}
	insert_header(ctx, "ARC-Authentication-Results", fields.aar);
	insert_header(ctx, "ARC-Message-Signature", fields.ams);
	insert_header(ctx, "ARC-Seal", fields.seal);
	o->sealed_instance = fields.instance;
	metric_inc(milter.sealed_messages);
	arc_seal_fields_release(&fields);
}

static void add_results(SMFICTX *ctx, const struct connection *c, struct verify_outcome *o)
{
	char value[8192];
	bool cut_chain = c->message->edits.forged_arc_results > 0;

	/* with SMFIP_HDR_LEADSPC the space after the colon is ours to write */
	value[0] = ' ';
	if (verify_authres(c, o, value + 1, sizeof(value) - 1) < 0)
		return;
	insert_header(ctx, "Authentication-Results", value);
	if (cut_chain && c->message->sealer != NULL)
		log_warning("milter: %s: not sealed: a forged ARC-Authentication-Results was removed",
			    c->message->queue_id[0] ? c->message->queue_id : "-");
	else
		seal(ctx, c->message, o, value + 1);
}

static void add_verdict(SMFICTX *ctx, const struct message *m, const struct verify_outcome *o)
{
	char value[sizeof(o->trace) + SCORE_REASONS_MAX];

	if (o->trace[0] != '\0') {
		snprintf(value, sizeof(value), " %s", o->trace);	/* trace is shorter */
		insert_header(ctx, REP_TRACE_FIELD, value);
	}
	if (!o->spam)
		return;
	snprintf(value, sizeof(value), " Yes, score=%.1f required=%lld reasons=%s", o->score.score,
		 milter.settings->spam_header_score, o->score.reasons[0] ? o->score.reasons : "none");
	insert_header(ctx, "X-Spam-Status", value);
	snprintf(value, sizeof(value), " %.1f", o->score.score);
	insert_header(ctx, "X-Spam-Score", value);
}

static void add_signatures(SMFICTX *ctx, const char *const values[], size_t count)
{
	/* the last inserted ends up on top: keep the order of the keys */
	for (size_t i = count; i-- > 0; )
		insert_header(ctx, "DKIM-Signature", values[i]);
}

/* Every answer ends here. A message that is accepted (or quarantined)
 * first loses the fields only we may write, whatever path it took
 * (inbound or outbound, scored or not), then gets ours: the signatures
 * of outbound mail, the verdict and results of inbound mail. */
static sfsistat finish(SMFICTX *ctx, struct connection *c, struct verify_outcome *o,
		       const char *const signatures[], size_t signature_count)
{
	struct message *m = c->message;
	sfsistat status = SMFIS_ACCEPT;
	bool accepted = o->action == VERIFY_ACCEPT || o->action == VERIFY_QUARANTINE;

	if (accepted && m->too_many_headers) {	/* fields past the cap are not in the plan */
		verify_decide(o, VERIFY_REJECT, "552", "5.3.4", "over the header field limit", "%s",
			      "Message refused: too many header fields");
		accepted = false;
	}
	if (accepted && apply_deletions(ctx, m) < 0) {
		verify_decide(o, VERIFY_TEMPFAIL, "451", "4.3.0", "a header field could not be deleted",
			      "%s", "Temporary local problem, try again later");
		accepted = false;
	}
	if (accepted) {
		add_signatures(ctx, signatures, signature_count);
		if (o->checked && o->scored)
			add_verdict(ctx, m, o);
		if (o->checked)
			add_results(ctx, c, o);
	}
	if (o->action == VERIFY_QUARANTINE) {
		char reason[300];

		snprintf(reason, sizeof(reason), "limristem: DMARC %s", o->why);
		smfi_quarantine(ctx, reason);
	}

	log_summary(c, c->message, o);
	metric_inc(milter.messages[o->action]);
	metric_observe_since(milter.latency, c->message->started_ns);
	if (o->action == VERIFY_REJECT || o->action == VERIFY_TEMPFAIL) {
		set_reply(ctx, o->smtp_code, o->dsn, o->reply);
		status = o->action == VERIFY_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	}
	message_free(&c->message);
	return status;
}

static sfsistat on_eom(SMFICTX *ctx)
{
	struct connection *c = connection_of(ctx);
	struct verify_outcome o;

	if (c == NULL || c->message == NULL)
		return error_action(ctx, "end of message without a message");
	if (c->message->queue_id[0] == '\0')	/* Postfix names the queue file late */
		copy_symbol(ctx, "i", c->message->queue_id, sizeof(c->message->queue_id));
	if (c->message->outbound) {
		const char *values[DKIM_SIGN_MAX_KEYS];
		size_t count;

		outbound_end(c->message, &o, values, &count);
		if (o.action == VERIFY_ACCEPT)
			trusted_record(c->message);
		metric_inc(count > 0 ? milter.signed_messages : milter.unsigned_messages);
		return finish(ctx, c, &o, values, o.action == VERIFY_ACCEPT ? count : 0);
	}
	verify_message(c, c->message, &o);
	judge_message(c, c->message, &o);
	return finish(ctx, c, &o, NULL, 0);
}

static sfsistat on_abort(SMFICTX *ctx)
{
	struct connection *c = connection_of(ctx);

	if (c != NULL)
		message_free(&c->message);
	return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
	struct connection *c = connection_of(ctx);

	if (c != NULL) {
		message_free(&c->message);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static char filter_name[] = "limristem-milter";

struct smfiDesc milter_description = {
	.xxfi_name = filter_name,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = on_connect,
	.xxfi_helo = on_helo,
	.xxfi_envfrom = on_envfrom,
	.xxfi_envrcpt = on_envrcpt,
	.xxfi_header = on_header,
	.xxfi_eoh = on_eoh,
	.xxfi_body = on_body,
	.xxfi_eom = on_eom,
	.xxfi_abort = on_abort,
	.xxfi_close = on_close,
	.xxfi_negotiate = on_negotiate,
};
