/*
 * judge.c - reputation and score of inbound mail (see judge.h).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/rep_trace.h"
#include "milter/greylist.h"
#include "milter/judge.h"
#include "milter/milter.h"
#include "milter/rep_flush.h"
#include "milter/store.h"

static int64_t halflife_s(const struct milter_context *mc)
{
	return mc->settings->reputation_halflife_ms / 1000;
}

bool judge_client_blocked(const struct connection *c, const struct message *m)
{
	if (!c->have_client || m->tables == NULL)
		return false;
	return tables_override(m->tables, REP_IP, c->client_text, clock_wall_s()) == OVERRIDE_BLOCK ||
	       tables_override(m->tables, REP_NETWORK, c->client_text, clock_wall_s()) == OVERRIDE_BLOCK;
}

static void add_entity(struct message *m, enum rep_type type, const char *name)
{
	size_t i = m->entity_count;
	int n = snprintf(m->entity_names[i], sizeof(m->entity_names[i]), "%s", name);

	if (n < 0 || (size_t)n >= sizeof(m->entity_names[i]))
		return;		/* no valid domain is that long */
	m->entities[i].type = type;
	m->entity_count++;
}

/* The operator's decision over the entities known before the message. */
static enum rep_override prepared_override(const struct message *m, int64_t now)
{
	enum rep_override found = OVERRIDE_NONE;

	for (size_t i = 0; i < m->entity_count; i++) {
		enum rep_type type = m->entities[i].type;
		/* a network override covers the client IP, whatever our prefix */
		const char *name = type == REP_NETWORK ? m->entity_names[0] : m->entity_names[i];

		found = override_stronger(found, tables_override(m->tables, type, name, now));
	}
	return found;
}

static void read_reputation(const struct milter_context *mc, struct message *m, int64_t now)
{
	const char *keys[3];
	char key_text[3][REP_KEY_MAX];
	struct rep_counters counters[3];
	struct score_input in = { .spf = m->spf_mailfrom.verdict };
	struct score_result r;

	for (size_t i = 0; i < m->entity_count; i++) {
		rep_key(store_prefix(mc->store), m->entities[i].type, m->entity_names[i],
			key_text[i], sizeof(key_text[i]));
		keys[i] = key_text[i];
	}
	if (store_rep_read(mc->store, m->entity_count, keys, now, halflife_s(mc), counters) < 0) {
		m->state_down = true;
		store_unavailable(mc->store, "reputation");
		memset(counters, 0, sizeof(counters));
	}
	for (size_t i = 0; i < m->entity_count; i++) {
		m->entities[i].counters = counters[i];
		in.entities[in.entity_count++] = m->entities[i];
	}
	score_compute(&in, &r);
	m->prescore = r.score;
}

void judge_prepare(const struct milter_context *mc, const struct connection *c, struct message *m)
{
	const struct milter_section *s = mc->settings;
	const char *spf_domain = NULL;
	struct cidr net;
	char text[CIDR_TEXT_MAX];
	int64_t now = clock_wall_s();

	if (m->prepared)
		return;
	m->prepared = true;
	verify_run_spf(mc, c, m);
	if (m->spf_mailfrom.verdict == SPF_PASS && m->spf_mailfrom.domain[0] != '\0')
		spf_domain = m->spf_mailfrom.domain;
	greylist_normalize_sender(m->mail_from, strlen(m->mail_from), m->sender_key,
				  sizeof(m->sender_key));
	if (!c->have_client)
		return;
	greylist_origin(&c->client, (unsigned)s->greylist_prefix_v4, (unsigned)s->greylist_prefix_v6,
			spf_domain, m->origin, sizeof(m->origin));
	if (!s->reputation)
		return;
	cidr_of(&c->client, (unsigned)s->greylist_prefix_v4, (unsigned)s->greylist_prefix_v6, &net);
	cidr_format(&net, text, sizeof(text));
	add_entity(m, REP_IP, c->client_text);
	add_entity(m, REP_NETWORK, text);
	if (spf_domain != NULL)
		add_entity(m, REP_SPF_DOMAIN, spf_domain);
	m->override = prepared_override(m, now);
	read_reputation(mc, m, now);
}

/* --- the end of the message --------------------------------------------------------- */

/* The domains of the message's valid DKIM signatures, normalized once. */
struct dkim_domains {
	size_t count;
	char names[REP_TRACE_DKIM_MAX][ADDR_DOMAIN_MAX + 1];
};

static void valid_dkim_domains(const struct verify_outcome *o, struct dkim_domains *d)
{
	d->count = 0;
	for (size_t i = 0; o->dkim != NULL && i < o->dkim->count; i++) {
		const char *name = o->dkim->sigs[i].domain;
		char *out = d->names[d->count];
		bool seen = false;

		if (d->count == REP_TRACE_DKIM_MAX || o->dkim->sigs[i].result != DKIM_RESULT_PASS ||
		    domain_normalize(name, strlen(name), out, sizeof(d->names[0])) < 0)
			continue;
		for (size_t k = 0; k < d->count && !seen; k++)
			seen = strcmp(d->names[k], out) == 0;
		d->count += !seen;
	}
}

/* A reply counts when SPF validated the sender's domain at RCPT, or a
 * valid DKIM signature is of that domain or a parent of it. */
static bool reply_validated(const struct message *m, const struct dkim_domains *dkim)
{
	const char *at = strrchr(m->mail_from, '@');
	char domain[ADDR_DOMAIN_MAX + 1];

	if (!m->reply_pair)
		return false;
	if (m->reply_spf)
		return true;
	if (at == NULL || domain_normalize(at + 1, strlen(at + 1), domain, sizeof(domain)) < 0)
		return false;
	for (size_t i = 0; i < dkim->count; i++)
		if (domain_is_within(domain, dkim->names[i]))
			return true;
	return false;
}

static void build_input(const struct message *m, const struct verify_outcome *o,
			const struct rep_counters *dkim_counters, size_t dkim_count,
			bool trusted_reply, struct score_input *in)
{
	bool any_sig = o->dkim != NULL && o->dkim->count > 0;

	memset(in, 0, sizeof(*in));
	for (size_t i = 0; i < m->entity_count; i++)
		in->entities[in->entity_count++] = m->entities[i];
	for (size_t i = 0; i < dkim_count && in->entity_count < SCORE_ENTITIES_MAX; i++)
		in->entities[in->entity_count++] = (struct score_entity){ REP_DKIM_DOMAIN,
									  dkim_counters[i] };
	in->spf = m->spf_mailfrom.verdict;
	in->dkim_pass = dkim_count > 0;
	in->dkim_fail = any_sig && dkim_count == 0;
	in->dmarc_pass = o->dmarc.verdict == DMARC_RESULT_PASS;
	in->dmarc_fail = o->dmarc.verdict == DMARC_RESULT_FAIL;
	in->arc_trusted = o->arc_override;
	in->trusted_reply = trusted_reply;
}

static void read_dkim(const struct milter_context *mc, const struct dkim_domains *dkim, int64_t now,
		      struct rep_counters counters_r[])
{
	char key_text[REP_TRACE_DKIM_MAX][REP_KEY_MAX];
	const char *keys[REP_TRACE_DKIM_MAX];

	for (size_t i = 0; i < dkim->count; i++) {
		rep_key(store_prefix(mc->store), REP_DKIM_DOMAIN, dkim->names[i], key_text[i],
			sizeof(key_text[i]));
		keys[i] = key_text[i];
	}
	if (dkim->count > 0 &&
	    store_rep_read(mc->store, dkim->count, keys, now, halflife_s(mc), counters_r) < 0) {
		store_unavailable(mc->store, "reputation");
		memset(counters_r, 0, dkim->count * sizeof(*counters_r));
	}
}

static enum rep_override dkim_override(const struct message *m, const struct dkim_domains *dkim)
{
	enum rep_override found = OVERRIDE_NONE;

	for (size_t i = 0; i < dkim->count; i++)
		found = override_stronger(found, tables_override(m->tables, REP_DKIM_DOMAIN,
								 dkim->names[i], clock_wall_s()));
	return found;
}

/* The score's action, unless an earlier check decided already. */
static void apply_score(const struct milter_context *mc, const struct connection *c,
			struct message *m, struct verify_outcome *o)
{
	const struct milter_section *s = mc->settings;
	const struct score_thresholds t = { s->spam_header_score, s->greylist_score, s->reject_score };

	o->score_action = score_action(o->score.score, &t);
	if (o->score_action == SCORE_GREYLIST &&
	    (!s->greylisting || m->delayed_rcpts > 0 || greylist_for_score(mc, c, m) == 0))
		o->score_action = SCORE_HEADERS;	/* it retried once: it gets the headers */
	switch (o->score_action) {
	case SCORE_REJECT:
		verify_decide(o, VERIFY_REJECT, "550", "5.7.1", "spam score", "Message refused: "
			      "it looks like spam (score %.1f)", o->score.score);
		break;
	case SCORE_GREYLIST:
		verify_decide(o, VERIFY_TEMPFAIL, "451", "4.7.1", "greylisted for its score",
			      "Greylisted: please try again in %lld seconds",
			      (long long)(s->greylist_delay_ms / 1000));
		break;
	case SCORE_HEADERS:
		o->spam = true;
		break;
	case SCORE_ACCEPT:
		break;
	}
	metric_inc(mc->score_actions[o->score_action]);
}

/* Judged spam: by its score, or held by a DMARC policy (whose score
 * action did not run): never good for the client that sent it. */
static bool judged_bad(const struct verify_outcome *o)
{
	return o->spam || o->action == VERIFY_QUARANTINE;
}

/* What the message teaches its entities: Redis now, the database later. */
static void count(const struct milter_context *mc, const struct message *m,
		  const struct verify_outcome *o, const struct dkim_domains *dkim)
{
	struct rep_delta d = { 0 };
	char key_text[3 + REP_TRACE_DKIM_MAX][REP_KEY_MAX];
	const char *keys[3 + REP_TRACE_DKIM_MAX];
	enum rep_type types[3 + REP_TRACE_DKIM_MAX];
	const char *names[3 + REP_TRACE_DKIM_MAX];
	size_t n = 0;

	if (o->action == VERIFY_TEMPFAIL)
		return;
	if (o->action == VERIFY_REJECT)
		d.rejected = 1;
	else if (judged_bad(o))
		d.bad = 1;
	else
		d.good = 1;
	for (size_t i = 0; i < m->entity_count; i++, n++) {
		types[n] = m->entities[i].type;
		names[n] = m->entity_names[i];
	}
	for (size_t i = 0; i < dkim->count; i++, n++) {
		types[n] = REP_DKIM_DOMAIN;
		names[n] = dkim->names[i];
	}
	for (size_t i = 0; i < n; i++) {
		rep_key(store_prefix(mc->store), types[i], names[i], key_text[i], sizeof(key_text[i]));
		keys[i] = key_text[i];
		rep_flush_count(mc->rep_flush, types[i], names[i], &d);
	}
	if (n > 0 && store_rep_add(mc->store, n, keys, &d, clock_wall_s(), halflife_s(mc),
				   mc->settings->reputation_lifetime_ms / 1000) < 0)
		store_unavailable(mc->store, "reputation counting");
}

static void trace(const struct milter_context *mc, const struct message *m,
		  const struct dkim_domains *dkim, struct verify_outcome *o)
{
	struct rep_trace t = { .judged_bad = judged_bad(o) };
	unsigned char id[REP_TRACE_ID_LEN / 2];

	arc4random_buf(id, sizeof(id));
	for (size_t i = 0; i < sizeof(id); i++)
		snprintf(t.id + 2 * i, 3, "%02x", id[i]);
	for (size_t i = 0; i < m->entity_count; i++) {
		char *field = m->entities[i].type == REP_IP ? t.ip
			      : m->entities[i].type == REP_NETWORK ? t.network : t.spf;
		snprintf(field, m->entities[i].type == REP_SPF_DOMAIN ? sizeof(t.spf) : sizeof(t.ip),
			 "%s", m->entity_names[i]);
	}
	for (size_t i = 0; i < dkim->count; i++)
		memcpy(t.dkim[t.dkim_count++], dkim->names[i], sizeof(t.dkim[0]));
	/* signed with the first secret, or no trace at all: mailadm learn
	 * believes only what carries our mac */
	if (mc->trace_keys.count == 0 ||
	    rep_trace_format_signed(&t, mc->trace_keys.items[0], o->trace, sizeof(o->trace)) < 0)
		o->trace[0] = '\0';
}

/* The score, the operator's overrides and the score's action. */
static void score(const struct milter_context *mc, const struct connection *c, struct message *m,
		  struct verify_outcome *o, const struct dkim_domains *dkim, bool trusted)
{
	struct rep_counters dkim_counters[REP_TRACE_DKIM_MAX];
	struct score_input in;
	enum rep_override override;

	read_dkim(mc, dkim, clock_wall_s(), dkim_counters);
	build_input(m, o, dkim_counters, dkim->count, trusted, &in);
	score_compute(&in, &o->score);
	o->scored = true;
	if (o->action != VERIFY_ACCEPT)
		return;
	override = override_stronger(m->override, dkim_override(m, dkim));
	if (override == OVERRIDE_BLOCK)
		verify_decide(o, VERIFY_REJECT, "550", "5.7.1", "blocked by the operator", "%s",
			      "Message refused by local policy");
	else if (override == OVERRIDE_NONE)
		apply_score(mc, c, m, o);
}

void judge_message(const struct milter_context *mc, const struct connection *c, struct message *m,
		   struct verify_outcome *o)
{
	bool reputation = mc->settings->reputation;
	struct dkim_domains dkim;
	bool trusted;

	if (mc->store == NULL || !o->checked || !c->have_client)
		return;
	judge_prepare(mc, c, m);
	valid_dkim_domains(o, &dkim);
	trusted = reply_validated(m, &dkim);
	if (reputation)
		score(mc, c, m, o, &dkim, trusted);
	/* greylisting's, with reputation or without: a reply held at RCPT
	 * for DKIM that DKIM did not validate either */
	if (o->action == VERIFY_ACCEPT && !trusted && greylist_pending(mc, c, m) > 0)
		verify_decide(o, VERIFY_TEMPFAIL, "451", "4.7.1", "greylisted (unvalidated reply)",
			      "Greylisted: please try again in %lld seconds",
			      (long long)(mc->settings->greylist_delay_ms / 1000));
	if (!reputation)
		return;
	count(mc, m, o, &dkim);
	if (o->action == VERIFY_ACCEPT || o->action == VERIFY_QUARANTINE)
		trace(mc, m, &dkim, o);
}
