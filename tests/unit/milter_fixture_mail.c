/*
 * milter_fixture_mail.c - the transaction half of the milter's test
 * fixture (see milter_fixture.h): a message fed to the decision code the
 * way milter/filter.c feeds it, the answer applied the way the MTA
 * applies it, and mailauth's own checks of the result.
 */
#include "autoconfig.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/arc_seal.h"
#include "mailauth/dkim_sign.h"
#include "mailauth/dkim_signkey.h"
#include "mailauth/msgsplit.h"
#include "milter/dns_glue.h"
#include "milter/outbound.h"
#include "milter/tables.h"
#include "milter/trusted.h"
#include "tests/unit/milter_fixture.h"

#define BODY_CHUNK 7	/* small, so that every check sees a body in several chunks */

/* --- transactions ------------------------------------------------------------------ */

void fixture_connect(const struct fixture *fx, struct connection *c, const char *ip,
		     const char *helo)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->client_name, sizeof(c->client_name), "%s", ip != NULL ? "client.example" : "unknown");
	snprintf(c->helo, sizeof(c->helo), "%s", helo != NULL ? helo : "");
	if (ip == NULL)
		return;
	snprintf(c->client_text, sizeof(c->client_text), "%s", ip);
	c->have_client = ip_parse(c->client_text, &c->client) == 0;
	if (!c->have_client)
		fail_msg("fixture: %s is not an address", ip);
	c->internal = cidr_list_contains(&fx->mc.settings->internal_networks, &c->client);
}

struct message *fixture_mail(struct fixture *fx, struct connection *c, const char *mail_from,
			     const char *auth, struct inbound_reply *reply)
{
	struct message *m = message_new();

	m->started_ns = clock_monotonic_ns();
	snprintf(m->mail_from, sizeof(m->mail_from), "%s", mail_from);
	snprintf(m->auth_user, sizeof(m->auth_user), "%s", auth != NULL ? auth : "");
	snprintf(m->queue_id, sizeof(m->queue_id), "%s", FIXTURE_QUEUE_ID);
	m->outbound = m->auth_user[0] != '\0' || c->internal;
	m->tables = tables_get();
	if (!m->outbound && !inbound_mail(&fx->mc, c, m, reply)) {
		message_free(&m);
		return NULL;
	}
	return m;
}

int fixture_rcpt(struct fixture *fx, struct connection *c, struct message *m, const char *rcpt,
		 struct inbound_reply *reply)
{
	m->recipients++;
	if (m->outbound) {
		if (fx->mc.store != NULL && m->rcpt_count < MESSAGE_RCPTS_MAX)
			message_list_add(&m->rcpts, &m->rcpt_count, &m->rcpt_cap, rcpt);
		return 1;
	}
	if (m->tables != NULL && tables_is_forwarded(m->tables, rcpt))
		m->forwarded = true;
	if (fx->mc.store == NULL)
		return 1;
	return inbound_rcpt(&fx->mc, c, m, rcpt, reply);
}

static void header(void *ctx, const char *name, size_t name_len, const char *value,
		   size_t value_len)
{
	struct message *m = ctx;
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);

	if (m->outbound)
		message_add_header(m, n, v);
	else
		inbound_header(m, n, v);
	free(n);
	free(v);
}

char *fixture_data(struct fixture *fx, struct message *m, const char *text)
{
	size_t len = strlen(text), at = msgsplit(text, len, header, m);

	if (m->outbound) {
		message_plan_edits(m, fx->mc.authserv_id);
		outbound_begin(&fx->mc, m);
	} else {
		inbound_headers_end(&fx->mc, m);
	}
	for (size_t i = at; i < len; i += BODY_CHUNK) {
		size_t n = len - i < BODY_CHUNK ? len - i : BODY_CHUNK;

		if (m->outbound)
			outbound_body(m, text + i, n);
		else
			inbound_body(m, text + i, n);
	}
	return xstrdup(text + at);
}

void fixture_end(struct fixture *fx, struct connection *c, struct message *m,
		 struct verify_outcome *o, struct answer *a)
{
	const struct milter_context *mc = &fx->mc;

	if (m->outbound) {
		const char *values[DKIM_SIGN_MAX_KEYS];
		size_t count;

		outbound_end(mc, m, o, values, &count);
		if (o->action == VERIFY_ACCEPT)
			trusted_record(mc, m);
		metric_inc(count > 0 ? mc->signed_messages : mc->unsigned_messages);
		finish_message(mc, c, m, o, values, o->action == VERIFY_ACCEPT ? count : 0, a);
		return;
	}
	inbound_end(mc, c, m, o);
	finish_message(mc, c, m, o, NULL, 0, a);
}

/* --- the answer, applied as the MTA applies it -------------------------------------- */

/* Field names compare as the MTA compares them: case aside, white space
 * before the colon aside. */
static bool same_name(const char *field, const char *name)
{
	size_t len = strlen(field), want = strlen(name);

	while (len > 0 && (field[len - 1] == ' ' || field[len - 1] == '\t'))
		len--;
	return len == want && strncasecmp(field, name, len) == 0;
}

static void apply_delete(struct fixture_result *r, const char *name, uint32_t index)
{
	for (size_t i = 0, seen = 0; i < r->field_count; i++) {
		if (!same_name(r->fields[i].name, name) || ++seen != index)
			continue;
		free(r->fields[i].name);
		free(r->fields[i].value);
		memmove(&r->fields[i], &r->fields[i + 1], (r->field_count - i - 1) * sizeof(r->fields[0]));
		r->field_count--;
		return;
	}
	fail_msg("fixture: the answer deletes %s #%u, which the message does not have", name,
		 (unsigned)index);
}

static void apply_answer(struct fixture_result *r)
{
	const struct message *m = r->m;
	const struct answer *a = &r->answer;

	r->fields = xcalloc(m->header_count + a->count + 1, sizeof(*r->fields));
	for (size_t i = 0; i < m->header_count; i++)
		r->fields[r->field_count++] = (struct fixture_field){ xstrdup(m->headers[i].name),
								      xstrdup(m->headers[i].value) };
	for (size_t i = 0; i < a->count; i++) {
		const struct answer_op *op = &a->ops[i];

		if (op->kind == ANSWER_DELETE) {
			apply_delete(r, op->name, op->index);
			continue;
		}
		memmove(&r->fields[1], &r->fields[0], r->field_count * sizeof(r->fields[0]));
		r->fields[0] = (struct fixture_field){ xstrdup(op->name), xstrdup(op->value) };
		r->field_count++;
	}
}

static void set_reply(struct fixture_result *r, const char *code, const char *dsn, const char *text)
{
	snprintf(r->code, sizeof(r->code), "%s", code);
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	snprintf(r->text, sizeof(r->text), "%s", text);
}

void fixture_send(struct fixture *fx, struct connection *c, const struct fixture_envelope *env,
		  const char *text, struct fixture_result *r)
{
	struct inbound_reply reply;

	memset(r, 0, sizeof(*r));
	r->stage = FIXTURE_AT_MAIL;
	if ((r->m = fixture_mail(fx, c, env->mail_from, env->auth, &reply)) == NULL) {
		set_reply(r, reply.code, reply.dsn, reply.text);
		return;
	}
	r->stage = FIXTURE_AT_RCPT;
	for (size_t i = 0; i < N_ELEMENTS(env->rcpts) && env->rcpts[i] != NULL; i++) {
		if (fixture_rcpt(fx, c, r->m, env->rcpts[i], &reply) > 0)
			r->rcpts_accepted++;
		else
			set_reply(r, reply.code, reply.dsn, reply.text);
	}
	if (r->rcpts_accepted == 0)
		return;
	r->stage = FIXTURE_AT_END;
	r->body = fixture_data(fx, r->m, text);
	fixture_end(fx, c, r->m, &r->o, &r->answer);
	if (r->answer.action == VERIFY_ACCEPT || r->answer.action == VERIFY_QUARANTINE)
		set_reply(r, "250", "2.0.0", "Ok");
	else
		set_reply(r, r->answer.code, r->answer.dsn, r->answer.text);
	apply_answer(r);
}

void fixture_result_release(struct fixture_result *r)
{
	for (size_t i = 0; i < r->field_count; i++) {
		free(r->fields[i].name);
		free(r->fields[i].value);
	}
	free(r->fields);
	free(r->body);
	answer_release(&r->answer);
	message_free(&r->m);
	memset(r, 0, sizeof(*r));
}

const char *fixture_field(const struct fixture_result *r, const char *name, size_t n)
{
	for (size_t i = 0; i < r->field_count; i++)
		if (same_name(r->fields[i].name, name) && n-- == 0)
			return r->fields[i].value;
	return NULL;
}

size_t fixture_field_count(const struct fixture_result *r, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < r->field_count; i++)
		n += same_name(r->fields[i].name, name);
	return n;
}

/* --- mailauth's checks -------------------------------------------------------------- */

static void sign_header(void *ctx, const char *name, size_t name_len, const char *value,
			size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);

	dkim_sign_header(ctx, n, v);
	free(n);
	free(v);
}

char *fixture_dkim_sign(struct fixture *fx, const char *text, const char *domain,
			const char *selector, const char *key)
{
	struct dkim_signkey *k = NULL;
	struct dkim_sign_key keys[1];
	struct dkim_sign_options options = { .domain = domain, .keys = keys, .key_count = 1,
					     .crlf = true };
	const char *values[DKIM_SIGN_MAX_KEYS], *why = "";
	struct dkim_sign *s;
	struct strbuf out = STRBUF_INIT;
	size_t len = strlen(text), at;
	char err[512];

	if (dkim_signkey_load(fixture_path(fx, key), 0, &k, err, sizeof(err)) < 0)
		fail_msg("fixture: %s", err);
	keys[0] = (struct dkim_sign_key){ k, selector };
	if ((s = dkim_sign_new(&options, err, sizeof(err))) == NULL)
		fail_msg("fixture: %s", err);
	at = msgsplit(text, len, sign_header, s);
	dkim_sign_body(s, text + at, len - at);
	if (dkim_sign_end(s, values, &why) < 0)
		fail_msg("fixture: signing: %s", why);
	strbuf_appendf(&out, "DKIM-Signature:%s\r\n%s", values[0], text);
	dkim_sign_free(&s);
	dkim_signkey_free(&k);
	return strbuf_detach(&out);
}

static void arc_header(void *ctx, const char *name, size_t name_len, const char *value,
		       size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);

	arc_verify_header(ctx, n, v);
	free(n);
	free(v);
}

/* The ARC set an upstream sealer adds: the chain of text validated
 * first (its cv=), then sealed with results under authserv-id mx.DOMAIN. */
static void arc_set(struct fixture *fx, const char *text, const struct arc_seal_request *request,
		    struct arc_seal_fields *fields)
{
	struct arc_options o = { .key_lookup = dns_glue_key, .key_ctx = &fx->lookups };
	struct arc_verify *v = arc_verify_new(&o);
	struct arc_seal *s = arc_seal_new();
	struct arc_seal_request r = *request;
	const struct dkim_canon_header *headers;
	size_t len = strlen(text), at = msgsplit(text, len, arc_header, v), count = 0;
	const char *why = "";

	arc_verify_body(v, text + at, len - at);
	arc_verify_end(v);
	r.chain = arc_verify_result(v)->status;
	arc_seal_body(s, text + at, len - at);
	if ((headers = arc_verify_headers(v, &count)) == NULL ||
	    arc_seal_make(s, headers, count, &r, fields, &why) != ARC_SEAL_OK)
		fail_msg("fixture: sealing: %s", why);
	arc_seal_free(&s);
	arc_verify_free(&v);
}

char *fixture_arc_seal(struct fixture *fx, const char *text, const char *domain,
		       const char *selector, const char *key)
{
	struct dkim_signkey *k = NULL;
	struct arc_seal_fields fields;
	struct strbuf id = STRBUF_INIT, out = STRBUF_INIT;
	char err[512];

	if (dkim_signkey_load(fixture_path(fx, key), 0, &k, err, sizeof(err)) < 0)
		fail_msg("fixture: %s", err);
	strbuf_appendf(&id, "mx.%s", domain);
	arc_set(fx, text, &(struct arc_seal_request){ .authserv_id = strbuf_str(&id),
		.results = "spf=pass smtp.mailfrom=example.com", .domain = domain,
		.selector = selector, .key = k->pkey, .alg = k->alg, .timestamp = clock_wall_s(),
		.crlf = true }, &fields);
	strbuf_appendf(&out, "ARC-Seal:%s\r\nARC-Message-Signature:%s\r\n"
		       "ARC-Authentication-Results:%s\r\n%s", fields.seal, fields.ams, fields.aar, text);
	arc_seal_fields_release(&fields);
	dkim_signkey_free(&k);
	strbuf_release(&id);
	return strbuf_detach(&out);
}

struct dkim_verify *fixture_dkim_verify(struct fixture *fx, const struct fixture_result *r)
{
	struct dkim_verify_options o = { .key_lookup = dns_glue_key, .key_ctx = &fx->lookups };
	struct dkim_verify *v = dkim_verify_new(fx->mc.dkim_lib, &o, "fixture");

	for (size_t i = 0; i < r->field_count; i++)
		dkim_verify_header(v, r->fields[i].name, r->fields[i].value);
	dkim_verify_eoh(v);
	dkim_verify_body(v, r->body, strlen(r->body));
	dkim_verify_end(v);
	return v;
}

struct arc_verify *fixture_arc_verify(struct fixture *fx, const struct fixture_result *r)
{
	struct arc_options o = { .key_lookup = dns_glue_key, .key_ctx = &fx->lookups };
	struct arc_verify *v = arc_verify_new(&o);

	for (size_t i = 0; i < r->field_count; i++)
		arc_verify_header(v, r->fields[i].name, r->fields[i].value);
	arc_verify_eoh(v);
	arc_verify_body(v, r->body, strlen(r->body));
	arc_verify_end(v);
	return v;
}
