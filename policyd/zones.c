/*
 * zones.c - blocklist zones and their RFC 5782 health tests.
 */
#include "autoconfig.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "policyd/zones.h"

#define RETEST_UNREACHABLE_MS (30 * 1000LL)

static const char *const test_addresses[2] = { "127.0.0.2", "127.0.0.1" };

static enum zone_test_answer judge_answer(const struct dns_answer *a)
{
	if (a->status == DNS_NXDOMAIN || a->status == DNS_NODATA)
		return ZONE_ANSWER_NOT_LISTED;
	if (a->status != DNS_OK)
		return ZONE_ANSWER_ERROR;
	for (size_t i = 0; i < a->count; i++) {
		const struct dns_record *r = &a->records[i];

		if (r->type == DNS_A && r->len == 4 && (uint8_t)r->data[0] == 127)
			return ZONE_ANSWER_LISTED;
	}
	return ZONE_ANSWER_NOT_LISTED;
}

static void test_done(struct zone *zone)
{
	enum zone_health was = zone->health;

	zone->health = zone_health_judge(zone->test_answer[0], zone->test_answer[1]);
	metric_set(zone->healthy, zone->health == ZONE_HEALTHY ? 1 : 0);
	if (zone->health == was)
		return;
	if (zone->health == ZONE_HEALTHY)
		log_notice("policyd: blocklist %s passed its test: in use", zone->spec.name);
	else
		log_error("policyd: blocklist %s %s: skipped until it passes its test (RFC 5782)",
			  zone->spec.name, zone_health_name(zone->health));
}

static void on_test_answer(const struct dns_answer *answer, void *arg)
{
	struct zone_test *t = arg;
	struct zone *zone = t->zone;

	zone->test_answer[t->which] = judge_answer(answer);
	zone->test_query[t->which] = NULL;
	if (--zone->tests_pending == 0)
		test_done(zone);
}

static void test_zone(struct zones *z, struct zone *zone)
{
	if (zone->tests_pending > 0)
		return;
	for (int which = 0; which < 2; which++) {
		struct ip_addr ip;
		char name[DNS_NAME_TEXT_MAX];
		struct zone_test *t = &zone->test_args[which];

		ip_parse(test_addresses[which], &ip);
		t->zone = zone;
		t->which = which;
		if (dns_reverse_name(&ip, zone->spec.name, name, sizeof(name)) < 0) {
			zone->test_answer[which] = ZONE_ANSWER_ERROR;
			continue;
		}
		zone->tests_pending++;
		zone->test_query[which] = dns_lookup_async(z->dns, name, DNS_A, on_test_answer, t);
	}
	if (zone->tests_pending == 0)
		test_done(zone);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct zones *z = arg;
	long long next = z->interval_ms;
	struct timeval tv;

	for (size_t i = 0; i < z->count; i++) {
		if (z->items[i].health == ZONE_UNREACHABLE && next > RETEST_UNREACHABLE_MS)
			next = RETEST_UNREACHABLE_MS;
		test_zone(z, &z->items[i]);
	}
	tv.tv_sec = next / 1000;
	tv.tv_usec = (next % 1000) * 1000;
	evtimer_add(z->timer, &tv);
}

static void zone_metrics(struct zone *zone, struct metrics *m)
{
	char labels[DNS_NAME_TEXT_MAX + 32];

	snprintf(labels, sizeof(labels), "zone=\"%s\"", zone->spec.name);
	zone->healthy = metrics_gauge(m, "policyd_blocklist_zone_usable", labels,
				      "1 when the zone passed its RFC 5782 test");
	snprintf(labels, sizeof(labels), "zone=\"%s\",result=\"listed\"", zone->spec.name);
	zone->listed = metrics_counter(m, "policyd_blocklist_answers_total", labels,
				       "client lookups by zone and answer");
	snprintf(labels, sizeof(labels), "zone=\"%s\",result=\"not_listed\"", zone->spec.name);
	zone->not_listed = metrics_counter(m, "policyd_blocklist_answers_total", labels,
					   "client lookups by zone and answer");
	snprintf(labels, sizeof(labels), "zone=\"%s\",result=\"error\"", zone->spec.name);
	zone->failed = metrics_counter(m, "policyd_blocklist_answers_total", labels,
				       "client lookups by zone and answer");
}

struct zones *zones_new(const struct config_strings *specs, struct dns *dns,
			struct event_base *base, long long interval_ms, struct metrics *m,
			char *err, size_t errlen)
{
	struct zones *z = xcalloc(1, sizeof(*z));

	z->items = xcalloc(specs->count ? specs->count : 1, sizeof(*z->items));
	for (size_t i = 0; i < specs->count; i++) {
		const char *why;

		if (dnsbl_zone_parse(specs->items[i], &z->items[i].spec, &why) < 0) {
			snprintf(err, errlen, "blocklists.zones: \"%s\": %s", specs->items[i], why);
			free(z->items);
			free(z);
			return NULL;
		}
		zone_metrics(&z->items[i], m);
		z->count++;
	}
	z->dns = dns;
	z->interval_ms = interval_ms;
	z->timer = evtimer_new(base, on_timer, z);
	return z;
}

void zones_start(struct zones *z)
{
	if (z->count > 0)
		on_timer(-1, 0, z);
}

size_t zones_healthy_count(const struct zones *z)
{
	size_t n = 0;

	for (size_t i = 0; i < z->count; i++)
		n += z->items[i].health == ZONE_HEALTHY;
	return n;
}

void zones_free(struct zones **zp)
{
	struct zones *z = *zp;

	if (z == NULL)
		return;
	for (size_t i = 0; i < z->count; i++)
		for (int which = 0; which < 2; which++)
			dns_cancel(&z->items[i].test_query[which]);
	event_free(z->timer);
	free(z->items);
	free(z);
	*zp = NULL;
}
