/*
 * outbound.c - signing outbound mail (see outbound.h).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/log.h"
#include "milter/milter.h"
#include "milter/outbound.h"
#include "milter/tables.h"

bool outbound_may_send_as(const char *auth_user, const char *domain)
{
	const char *at = strrchr(auth_user, '@');
	size_t own_len, len = strlen(domain);

	if (at == NULL || at[1] == '\0')
		return false;	/* a login without a domain owns none */
	at++;
	own_len = strlen(at);
	if (len == own_len)
		return strcasecmp(domain, at) == 0;
	return len > own_len && domain[len - own_len - 1] == '.' &&
	       strcasecmp(domain + len - own_len, at) == 0;
}

/* The From domain's keys, or its nearest parent's (never a top-level
 * domain's). */
static const struct signing_domain *signing_domain_of(const struct milter_tables *t,
						      const char *from_domain)
{
	for (const char *d = from_domain; d != NULL && strchr(d, '.') != NULL; ) {
		const struct signing_domain *sd = tables_signing_domain(t, d);

		if (sd != NULL)
			return sd;
		d = strchr(d, '.');
		d = d != NULL ? d + 1 : NULL;
	}
	return NULL;
}

static void unsigned_because(struct verify_outcome *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void unsigned_because(struct verify_outcome *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);	/* a long reason is cut */
	va_end(ap);
}

/* The decision for outbound mail: the domain whose keys sign it, or NULL
 * with o saying why (refused, tempfailed, or sent unsigned). */
static const struct signing_domain *plan(const struct milter_context *mc, const struct message *m,
					struct verify_outcome *o)
{
	const struct milter_section *s = mc->settings;
	const struct signing_domain *sd;

	memset(o, 0, sizeof(*o));
	o->action = VERIFY_ACCEPT;
	if (m->too_many_headers) {
		verify_decide(o, VERIFY_REJECT, "552", "5.3.4", "over the header field limit", "%s",
			      "Message refused: too many header fields");
		return NULL;
	}
	if (!verify_check_from(mc, m, o) || o->from_status != FROM_OK)
		return NULL;	/* refused, or (refuse_bad_from off) unsigned with the reason */
	if (m->auth_user[0] != '\0' && !outbound_may_send_as(m->auth_user, o->from_domain)) {
		if (s->unauthorized_sender_action == MILTER_UNAUTHORIZED_REJECT)
			verify_decide(o, VERIFY_REJECT, "550", "5.7.1", "sender not authorized for the From domain",
				      "Message refused: %s may not send mail as %s", m->auth_user,
				      o->from_domain);
		else
			unsigned_because(o, "unsigned: the login may not sign for %s", o->from_domain);
		return NULL;
	}
	if ((sd = signing_domain_of(m->tables, o->from_domain)) == NULL) {
		unsigned_because(o, "unsigned: no DKIM key for %s", o->from_domain);
		return NULL;
	}
	for (size_t i = 0; i < sd->count; i++) {
		if (sd->keys[i].key != NULL)
			continue;
		if (s->key_error_action == MILTER_KEY_ERROR_TEMPFAIL)
			verify_decide(o, VERIFY_TEMPFAIL, "451", "4.3.0", sd->keys[i].problem,
				      "Temporary local problem: mail from %s cannot be signed now, "
				      "try again later", sd->domain);
		else
			unsigned_because(o, "unsigned: %s", sd->keys[i].problem);
		return NULL;
	}
	return sd;
}

void outbound_begin(const struct milter_context *mc, struct message *m)
{
	const struct milter_section *s = mc->settings;
	struct dkim_sign_key keys[DKIM_SIGN_MAX_KEYS];
	struct dkim_sign_options options = {
		.keys = keys,
		.expire_after = s->signature_expiry_ms / 1000,
		.headers = s->signed_headers.count ? (const char *const *)s->signed_headers.items : NULL,
		.header_count = s->signed_headers.count,
	};
	struct verify_outcome o;
	const struct signing_domain *sd = plan(mc, m, &o);
	char err[256];

	if (sd == NULL)
		return;
	options.domain = sd->domain;
	for (size_t i = 0; i < sd->count && i < DKIM_SIGN_MAX_KEYS; i++)
		keys[options.key_count++] = (struct dkim_sign_key){ sd->keys[i].key, sd->keys[i].selector };
	if ((m->signer = dkim_sign_new(&options, err, sizeof(err))) == NULL) {
		log_error("milter: %s: cannot sign for %s: %s", m->queue_id[0] ? m->queue_id : "-",
			  sd->domain, err);
		return;
	}
	/* what Postfix delivers: the fields we delete are not signed */
	for (size_t i = 0; i < m->header_count; i++)
		if (!message_header_deleted(m, i))
			dkim_sign_header(m->signer, m->headers[i].name, m->headers[i].value);
}

void outbound_body(struct message *m, const void *data, size_t len)
{
	if (m->signer != NULL)
		dkim_sign_body(m->signer, data, len);
}

void outbound_end(const struct milter_context *mc, struct message *m, struct verify_outcome *o,
		  const char *values_r[DKIM_SIGN_MAX_KEYS], size_t *count_r)
{
	const struct signing_domain *sd = plan(mc, m, o);
	const char *why = "the signer could not be set up";

	*count_r = 0;
	if (sd == NULL)
		return;
	if (m->signer == NULL || dkim_sign_end(m->signer, values_r, &why) < 0) {
		verify_decide(o, VERIFY_TEMPFAIL, "451", "4.3.0", why,
			      "Temporary local problem: mail from %s cannot be signed now, "
			      "try again later", sd->domain);
		return;
	}
	*count_r = sd->count < DKIM_SIGN_MAX_KEYS ? sd->count : DKIM_SIGN_MAX_KEYS;
	snprintf(o->signed_by, sizeof(o->signed_by), "%s", sd->domain);
	o->signatures = (unsigned)*count_r;
}
