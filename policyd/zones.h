/*
 * zones.h - the configured DNS blocklist zones and their health.
 *
 * Each zone is tested as RFC 5782 section 5 describes, at start and every
 * health interval (sooner while it cannot be reached): 127.0.0.2 must be
 * listed and 127.0.0.1 must not. Only a zone that passes is asked about
 * clients; one that lists everything (expired domains are sometimes
 * wildcarded that way) or nothing is skipped and reported.
 */
#ifndef LIMRISTEM_POLICY_ZONES_H
#define LIMRISTEM_POLICY_ZONES_H

#include <stddef.h>

#include "common/config.h"
#include "common/dns.h"
#include "common/dnsbl.h"
#include "common/metrics.h"
#include "policyd/checks.h"

struct event_base;

struct zone;
struct zone_test {
	struct zone *zone;
	int which;		/* 0: 127.0.0.2, 1: 127.0.0.1 */
};

struct zone {
	struct dnsbl_zone spec;
	enum zone_health health;
	struct metric *healthy;		/* gauge: 1 when used */
	struct metric *listed;		/* counters of client answers */
	struct metric *not_listed;
	struct metric *failed;
	/* the test in progress */
	struct dns_query *test_query[2];
	enum zone_test_answer test_answer[2];
	struct zone_test test_args[2];
	int tests_pending;
};

struct zones {
	struct zone *items;
	size_t count;
	struct dns *dns;
	struct event *timer;
	long long interval_ms;
};

/* specs were checked by the configuration. NULL with err. */
struct zones *zones_new(const struct config_strings *specs, struct dns *dns,
			struct event_base *base, long long interval_ms, struct metrics *m,
			char *err, size_t errlen);
/* Starts the first tests (clients are not checked until they pass). */
void zones_start(struct zones *z);
size_t zones_healthy_count(const struct zones *z);
void zones_free(struct zones **z);

#endif
