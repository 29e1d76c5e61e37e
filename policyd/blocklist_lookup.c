/*
 * blocklist_lookup.c - ask every usable blocklist zone about a client, in
 * parallel: the shared Redis copy first, then DNS. A DNS answer is stored
 * in Redis for its TTL (bounded by blocklist_min_ttl and _max_ttl) and in
 * the blocklists_cache table, where "mailadm blocklist list" shows it. A
 * listing's TXT record becomes part of the refusal text.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "policyd/pending.h"

static void ignore_reply(redisReply *reply, void *arg)
{
}

static void zone_done(struct zone_lookup *zl)
{
	zl->pending->zone_results[zl->zone].done = true;
	pending_callback_done(zl->pending);
}

static const char *zone_name(const struct zone_lookup *zl)
{
	return zl->pending->svc->zones->items[zl->zone].spec.name;
}

#define LISTED_MEMORY_S (30 * 86400)	/* how long rep:ip:IP keeps a listing */

static void store(struct zone_lookup *zl, uint32_t ttl_s)
{
	struct pending *p = zl->pending;
	struct policyd_service *svc = p->svc;
	const struct policyd_section *s = svc->settings;
	const struct zone_result *r = &p->zone_results[zl->zone];
	long long ttl_ms = (long long)ttl_s * 1000;

	if (ttl_ms < s->blocklist_min_ttl_ms)
		ttl_ms = s->blocklist_min_ttl_ms;
	if (ttl_ms > s->blocklist_max_ttl_ms)
		ttl_ms = s->blocklist_max_ttl_ms;
	if (ttl_ms < 1000)
		ttl_ms = 1000;
	if (svc->redis != NULL) {
		char value[BLOCKLIST_ANSWER_MAX + BLOCKLIST_REASON_MAX + 8];
		int n = r->listed ? snprintf(value, sizeof(value), "1 %s %s", r->answer, r->reason)
				  : snprintf(value, sizeof(value), "0");

		if (n > 0 && (size_t)n < sizeof(value))
			redis_async_command(svc->redis, ignore_reply, NULL, "SET %sdnsbl:%s:%s %s PX %lld",
					    redis_async_key_prefix(svc->redis), zone_name(zl), p->client,
					    value, ttl_ms);		/* the milter's score remembers the listing after the client is delisted */
		if (r->listed) {
			redis_async_command(svc->redis, ignore_reply, NULL, "HINCRBY %srep:ip:%s listed 1",
					    redis_async_key_prefix(svc->redis), p->client);
			redis_async_command(svc->redis, ignore_reply, NULL, "EXPIRE %srep:ip:%s %d NX",
					    redis_async_key_prefix(svc->redis), p->client,
					    LISTED_MEMORY_S);
		}
	}
	if (svc->writeback != NULL)
		writeback_push(svc->writeback,
			       "INSERT INTO blocklists_cache (ip, zone, listed, answer, reason, "
			       "checked_at, expires_at) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(), "
			       "UTC_TIMESTAMP() + INTERVAL ? SECOND) ON DUPLICATE KEY UPDATE "
			       "listed = VALUES(listed), answer = VALUES(answer), reason = VALUES(reason), "
			       "checked_at = VALUES(checked_at), expires_at = VALUES(expires_at)",
			       (struct db_param[]){ DB_STR(p->client), DB_STR(zone_name(zl)),
						    DB_INT(r->listed), DB_STR(r->answer),
						    DB_STR(r->reason), DB_INT(ttl_ms / 1000) }, 6);
}

static void on_txt_answer(const struct dns_answer *answer, void *arg)
{
	struct zone_lookup *zl = arg;
	struct zone_result *r = &zl->pending->zone_results[zl->zone];

	zl->query = NULL;
	if (answer->status == DNS_OK && answer->count > 0 && answer->records[0].type == DNS_TXT) {
		/* printable ASCII only: it goes into an SMTP reply */
		size_t o = 0;

		for (size_t i = 0; i < answer->records[0].len && o + 1 < sizeof(r->reason); i++) {
			char c = answer->records[0].data[i];
			r->reason[o++] = c >= 0x20 && c < 0x7f ? c : ' ';
		}
		r->reason[o] = '\0';
	}
	store(zl, answer->ttl);
	zone_done(zl);
}

/* Fills r->answer with the A records that count as a listing here. */
static bool listing_answers(const struct dnsbl_zone *zone, const struct dns_answer *a,
			    struct zone_result *r)
{
	size_t o = 0;

	for (size_t i = 0; i < a->count; i++) {
		const struct dns_record *rec = &a->records[i];
		const uint8_t *v4 = (const uint8_t *)rec->data;
		int n;

		if (rec->type != DNS_A || rec->len != 4 || !dnsbl_zone_matches(zone, v4))
			continue;
		n = snprintf(r->answer + o, sizeof(r->answer) - o, "%s%u.%u.%u.%u", o ? "," : "",
			     v4[0], v4[1], v4[2], v4[3]);
		if (n < 0 || (size_t)n >= sizeof(r->answer) - o)
			break;
		o += (size_t)n;
	}
	return o > 0;
}

static void on_a_answer(const struct dns_answer *answer, void *arg)
{
	struct zone_lookup *zl = arg;
	struct pending *p = zl->pending;
	struct zone *zone = &p->svc->zones->items[zl->zone];
	struct zone_result *r = &p->zone_results[zl->zone];

	zl->query = NULL;
	if (answer->status != DNS_OK && answer->status != DNS_NXDOMAIN &&
	    answer->status != DNS_NODATA) {
		metric_inc(zone->failed);
		log_info("policyd: blocklist %s about %s: %s", zone->spec.name, p->client,
			 answer->why ? answer->why : dns_status_name(answer->status));
		zone_done(zl);	/* no verdict from this zone */
		return;
	}
	r->listed = answer->status == DNS_OK && listing_answers(&zone->spec, answer, r);
	metric_inc(r->listed ? zone->listed : zone->not_listed);
	if (r->listed) {
		zl->query = dns_lookup_async(p->svc->dns, zl->name, DNS_TXT, on_txt_answer, zl);
		return;
	}
	store(zl, answer->ttl);
	zone_done(zl);
}

static void ask_dns(struct zone_lookup *zl)
{
	zl->query = dns_lookup_async(zl->pending->svc->dns, zl->name, DNS_A, on_a_answer, zl);
}

/* "1 ANSWER REASON" or "0"; false when the value is not ours. */
static bool parse_cached(const char *value, struct zone_result *r)
{
	const char *sp;

	if (strcmp(value, "0") == 0) {
		r->listed = false;
		return true;
	}
	if (strncmp(value, "1 ", 2) != 0)
		return false;
	value += 2;
	sp = strchr(value, ' ');
	snprintf(r->answer, sizeof(r->answer), "%.*s", (int)(sp ? (size_t)(sp - value) : strlen(value)),
		 value);
	snprintf(r->reason, sizeof(r->reason), "%s", sp ? sp + 1 : "");
	r->listed = true;
	return true;
}

static void on_cached(redisReply *reply, void *arg)
{
	struct zone_lookup *zl = arg;

	if (reply != NULL && reply->type == REDIS_REPLY_STRING &&
	    parse_cached(reply->str, &zl->pending->zone_results[zl->zone])) {
		zone_done(zl);
		return;
	}
	ask_dns(zl);	/* not cached, or Redis failed: DNS still answers */
}

void lookup_blocklists(struct pending *p)
{
	struct policyd_service *svc = p->svc;
	struct zones *zones = svc->zones;

	ip_format(&p->ip, p->client, sizeof(p->client));	/* one spelling for the keys */
	for (size_t i = 0; zones != NULL && i < zones->count && i < ZONES_MAX; i++) {
		struct zone_lookup *zl = &p->zone_lookups[i];

		if (zones->items[i].health != ZONE_HEALTHY ||
		    dns_reverse_name(&p->ip, zones->items[i].spec.name, zl->name, sizeof(zl->name)) < 0)
			continue;
		zl->pending = p;
		zl->zone = i;
		p->outstanding++;
		if (svc->redis == NULL ||
		    redis_async_command(svc->redis, on_cached, zl, "GET %sdnsbl:%s:%s",
					redis_async_key_prefix(svc->redis), zones->items[i].spec.name,
					p->client) < 0)
			ask_dns(zl);
	}
}

void blocklist_conclude(struct pending *p)
{
	struct verdict v;

	for (size_t i = 0; p->svc->zones != NULL && i < p->svc->zones->count && i < ZONES_MAX; i++) {
		const struct zone_result *r = &p->zone_results[i];
		struct blocklist_hit hit = { p->svc->zones->items[i].spec.name, r->answer, r->reason };

		if (!r->done || !r->listed)
			continue;
		blocklist_decide(p->client, &hit, p->svc->settings->blocklist_action, &v);
		pending_add_verdict(p, CHECK_BLOCKLIST, &v);
		return;
	}
}
