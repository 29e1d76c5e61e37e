/*
 * greylist.c - greylisting at RCPT and at the end of the message (see
 * greylist.h).
 *
 * Store keys (under redis.key_prefix):
 *   grey:ORIGIN/SENDER/RCPT   a triplet, greylist_decide.h's value
 *   awl:ORIGIN                deliveries of the origin (the automatic whitelist)
 *   reply:EXTERNAL/LOCAL      our user LOCAL wrote to EXTERNAL (trusted.c)
 * (addresses with their '/' and '%' escaped: greylist_key.h)
 * One round trip reads all three; one write per change.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "milter/greylist.h"
#include "milter/greylist_decide.h"
#include "milter/milter.h"
#include "milter/store.h"

static struct greylist_policy policy(const struct milter_context *mc)
{
	const struct milter_section *s = mc->settings;

	return (struct greylist_policy){
		.delay_s = s->greylist_delay_ms / 1000,
		.retry_window_s = s->greylist_retry_window_ms / 1000,
		.pass_lifetime_s = s->greylist_pass_lifetime_ms / 1000,
		.whitelist_after = s->greylist_whitelist_after,
		.whitelist_interval_s = s->greylist_whitelist_interval_ms / 1000,
	};
}

static const char *queue_id(const struct message *m)
{
	return m->queue_id[0] ? m->queue_id : "-";
}

static void log_result(const struct milter_context *mc, const struct connection *c,
		       const struct message *m, const char *rcpt,
		       enum greylist_result result, const char *what, int64_t retry_in_s)
{
	metric_inc(mc->greylist[result]);
	if (retry_in_s > 0)
		log_info("milter: %s greylist: %s client=%s[%s] origin=%s sender=%s rcpt=<%s>, "
			 "retry in %llds", queue_id(m), what, c->client_name, c->client_text, m->origin,
			 m->sender_key, rcpt, (long long)retry_in_s);
	else
		log_info("milter: %s greylist: %s client=%s[%s] origin=%s sender=%s rcpt=<%s>",
			 queue_id(m), what, c->client_name, c->client_text, m->origin, m->sender_key, rcpt);
}

/* Why rcpt is never greylisted, or NULL. */
static const char *exemption(const struct milter_context *mc, const struct connection *c,
			     const struct message *m, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	size_t local_len = at ? (size_t)(at - rcpt) : strlen(rcpt);

	if (m->mail_from[0] == '\0' && local_len == 10 && strncasecmp(rcpt, "postmaster", 10) == 0)
		return "exempt (null sender to postmaster)";
	if (m->tables != NULL && tables_exempt_recipient(m->tables, rcpt))
		return "exempt (recipient opted out)";
	if (m->tables != NULL && tables_exempt_network(m->tables, &c->client))
		return "exempt (client network)";
	if (m->tables != NULL && m->spf_mailfrom.verdict == SPF_PASS &&
	    tables_exempt_sender_domain(m->tables, m->spf_mailfrom.domain))
		return "exempt (sender domain, SPF-validated)";
	if (m->override == OVERRIDE_ALLOW)
		return "exempt (allowed by the operator)";
	if (mc->settings->reputation && !m->state_down && m->entity_count > 0 &&
	    m->prescore <= (double)mc->settings->good_reputation_score)
		return "exempt (good reputation)";
	return NULL;
}

static void retry_text(int64_t retry_in_s, struct greylist_reply *reply)
{
	time_t at = (time_t)(clock_wall_s() + retry_in_s);
	struct tm tm;
	char when[32];

	gmtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(reply->code, sizeof(reply->code), "451");
	snprintf(reply->dsn, sizeof(reply->dsn), "4.7.1");
	snprintf(reply->text, sizeof(reply->text), "Greylisted: this is normal for a first message, "
		 "please try again in %lld seconds (after %s)", (long long)retry_in_s, when);
}

/* Applies the decision's writes; false when the store failed. */
static bool store_decision(const struct milter_context *mc, const struct greylist_decision *d,
			   const char *triplet_key, const char *origin_key)
{
	bool ok = true;

	if (d->write_triplet)
		ok = store_set(mc->store, triplet_key, d->triplet_value, d->triplet_ttl_s) == 0;
	if (d->write_origin)
		ok = store_set(mc->store, origin_key, d->origin_value, d->origin_ttl_s) == 0 && ok;
	return ok;
}

static int keys_for(const struct milter_context *mc, const struct message *m, const char *rcpt,
		    char *triplet, char *origin, char *reply)
{
	const char *prefix = store_prefix(mc->store);
	char t[GREYLIST_TRIPLET_MAX];

	if (greylist_triplet_key(m->origin, m->sender_key, rcpt, t, sizeof(t)) < 0 ||
	    snprintf(triplet, GREYLIST_TRIPLET_MAX + 64, "%s%s", prefix, t) >= GREYLIST_TRIPLET_MAX + 64 ||
	    snprintf(origin, GREYLIST_ORIGIN_MAX + 64, "%sawl:%s", prefix, m->origin) >=
		    GREYLIST_ORIGIN_MAX + 64)
		return -1;
	if (m->mail_from[0] == '\0')
		reply[0] = '\0';
	else if (greylist_reply_key(prefix, m->mail_from, rcpt, reply, GREYLIST_REPLY_KEY_MAX) < 0)
		return -1;
	return 0;
}

/* Decides the triplet with what is stored, writes what changed; false to
 * defer (reply filled). */
static bool decide(const struct milter_context *mc, const struct connection *c, struct message *m,
		   const char *rcpt,
		   const char *triplet_key, const char *origin_key, const char *triplet,
		   const char *origin, bool use_whitelist, struct greylist_reply *reply)
{
	struct greylist_policy p = policy(mc);
	struct greylist_decision d;

	greylist_decide(&p, clock_wall_s(), triplet, origin, use_whitelist, &d);
	if (!store_decision(mc, &d, triplet_key, origin_key)) {
		store_unavailable(mc->store, "greylisting (a write)");
		if (!greylist_verdict_passes(d.verdict)) {
			/* a deferral nobody remembers would defer every retry as well */
			log_result(mc, c, m, rcpt, GREYLIST_RESULT_UNAVAILABLE,
				   "skipped (the triplet could not be stored)", 0);
			return true;
		}
	}
	log_result(mc, c, m, rcpt, (enum greylist_result)d.verdict, greylist_verdict_name(d.verdict),
		   d.retry_in_s);
	if (d.verdict == GREYLIST_PASS_RETRY || d.verdict == GREYLIST_PASS_KNOWN)
		m->delayed_rcpts++;
	if (greylist_verdict_passes(d.verdict))
		return true;
	retry_text(d.retry_in_s, reply);
	return false;
}

/* The decision for one recipient at RCPT; false to defer (reply filled). */
static bool rcpt_passes(const struct milter_context *mc, const struct connection *c,
			struct message *m, const char *rcpt, struct greylist_reply *reply)
{
	char triplet[GREYLIST_TRIPLET_MAX + 64], origin[GREYLIST_ORIGIN_MAX + 64];
	char pair[GREYLIST_REPLY_KEY_MAX];
	const char *keys[3] = { triplet, origin, pair }, *why;
	char *values[3] = { NULL, NULL, NULL };
	bool accept = true;

	if (!c->have_client || m->origin[0] == '\0')
		return true;
	if ((why = exemption(mc, c, m, rcpt)) != NULL) {
		log_result(mc, c, m, rcpt, GREYLIST_RESULT_EXEMPT, why, 0);
		return true;
	}
	if (keys_for(mc, m, rcpt, triplet, origin, pair) < 0) {
		log_result(mc, c, m, rcpt, GREYLIST_RESULT_EXEMPT, "exempt (address too long for a key)", 0);
		return true;
	}
	if (store_get(mc->store, pair[0] ? 3 : 2, keys, values) < 0) {
		store_unavailable(mc->store, "greylisting");
		log_result(mc, c, m, rcpt, GREYLIST_RESULT_UNAVAILABLE, "skipped (state unavailable)", 0);
		return true;
	}
	if (pair[0] && values[2] != NULL) {
		m->reply_pair = true;
		m->reply_spf = m->reply_spf || m->spf_mailfrom.verdict == SPF_PASS;
	}
	if (pair[0] && values[2] != NULL && m->reply_spf) {
		log_result(mc, c, m, rcpt, GREYLIST_RESULT_TRUSTED_REPLY, "exempt (trusted reply, SPF)", 0);
	} else if (pair[0] && values[2] != NULL) {
		/* DKIM may still validate the sender at the end of the message */
		message_list_add(&m->pending, &m->pending_count, &m->pending_cap, rcpt);
		log_result(mc, c, m, rcpt, GREYLIST_RESULT_TRUSTED_REPLY,
			   "held for DKIM (a reply SPF did not validate)", 0);
	} else {
		accept = decide(mc, c, m, rcpt, triplet, origin, values[0], values[1], true, reply);
	}
	free(values[0]);
	free(values[1]);
	free(values[2]);
	return accept;
}

bool greylist_rcpt(const struct milter_context *mc, const struct connection *c, struct message *m,
		   const char *rcpt, struct greylist_reply *reply)
{
	if (!rcpt_passes(mc, c, m, rcpt, reply))
		return false;
	/* the score's greylisting at the end decides a recipient of the message */
	if (m->first_rcpt[0] == '\0')
		snprintf(m->first_rcpt, sizeof(m->first_rcpt), "%s", rcpt);
	return true;
}

/* The triplet of rcpt decided at the end: true when deferred. */
static bool deferred_at_end(const struct milter_context *mc, const struct connection *c,
			    struct message *m, const char *rcpt, bool use_whitelist)
{
	char triplet[GREYLIST_TRIPLET_MAX + 64], origin[GREYLIST_ORIGIN_MAX + 64];
	char pair[GREYLIST_REPLY_KEY_MAX];
	const char *keys[2] = { triplet, origin };
	char *values[2] = { NULL, NULL };
	struct greylist_reply reply;
	bool deferred;

	if (keys_for(mc, m, rcpt, triplet, origin, pair) < 0)
		return false;
	if (store_get(mc->store, 2, keys, values) < 0) {
		store_unavailable(mc->store, "greylisting");
		return false;
	}
	deferred = !decide(mc, c, m, rcpt, triplet, origin, values[0], values[1], use_whitelist, &reply);
	free(values[0]);
	free(values[1]);
	return deferred;
}

int greylist_for_score(const struct milter_context *mc, const struct connection *c, struct message *m)
{
	/* exempt clients and recipients are never greylisted, for a score neither */
	if (!c->have_client || m->origin[0] == '\0' || m->first_rcpt[0] == '\0' ||
	    exemption(mc, c, m, m->first_rcpt) != NULL)
		return 0;
	return deferred_at_end(mc, c, m, m->first_rcpt, false) ? 1 : 0;
}

size_t greylist_pending(const struct milter_context *mc, const struct connection *c, struct message *m)
{
	size_t deferred = 0;

	for (size_t i = 0; i < m->pending_count; i++)
		deferred += deferred_at_end(mc, c, m, m->pending[i], true);
	return deferred;
}
