/*
 * dns.h - the one DNS resolver of the suite, on libunbound, with a cache.
 *
 * Answers are cached for their TTL (capped by dns.cache_max_ttl) in one
 * cache shared by every thread of a process. Upstream resolvers come from
 * the dns section (tests point it at a DNS server on a loopback port), else
 * from /etc/resolv.conf, or the library resolves from the root itself.
 *
 * Two ways to ask, one per process style, never both on one handle:
 *   - dns_lookup() blocks the calling thread (milter threads, mailadm);
 *   - dns_lookup_async() calls back from a libevent loop (policyd, srsd)
 *     after dns_attach().
 * Every lookup ends within dns.timeout: a timeout is DNS_TEMPFAIL.
 *
 * Names are DNS names, not only host names: any printable characters,
 * \DDD escapes as in zone files, labels of 1 to 63 octets. Names in
 * answers (MX, PTR) come back in that form and can be asked as they are.
 *
 * Local data (dns_add_local_zone(), dns_add_local_data()) is answered by
 * the library itself, before the cache and without asking anyone; tests
 * use it to run the resolver with no server at all. CNAMEs in local data
 * are answered as such and not followed (DNS_NODATA for other types).
 */
#ifndef LIMRISTEM_DNS_H
#define LIMRISTEM_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cidr.h"
#include "common/dns_rdata.h"
#include "common/settings.h"

struct event_base;

/* Questions a busy daemon's resolver may have in flight at once
 * (dns_settings.in_flight): an MX asks hundreds at a time. Resolvers that
 * ask a few (mailadm, tests) keep libunbound's smaller defaults, which
 * cost less memory and start faster. */
#define DNS_IN_FLIGHT_BUSY 4096

enum dns_status {
	DNS_OK,		/* records are present */
	DNS_NODATA,	/* the name exists without records of that type */
	DNS_NXDOMAIN,	/* the name does not exist */
	DNS_TEMPFAIL,	/* SERVFAIL, timeout, network trouble, DNSSEC bogus: retry later */
	DNS_PERMFAIL,	/* the question itself is invalid (an empty label, a label
			 * over 63 octets, a control character) */
};

enum dns_local_zone {
	DNS_LOCAL_STATIC,	/* what has no local data does not exist (NXDOMAIN,
				 * NODATA) */
	DNS_LOCAL_REFUSE,	/* what has no local data fails (DNS_TEMPFAIL,
				 * "REFUSED"), as when a server does not answer */
};

struct dns_answer {
	enum dns_status status;
	int rcode;
	uint32_t ttl;
	bool secure;		/* DNSSEC-validated (only with a trust anchor) */
	const char *why;	/* for TEMPFAIL and PERMFAIL: a short static reason */
	size_t count;
	struct dns_record *records;
};

struct dns;
struct dns_query;

typedef void dns_callback(const struct dns_answer *answer, void *arg);

struct dns *dns_new(const struct dns_settings *settings, char *err, size_t errlen);
void dns_free(struct dns **dns);

/* Local data. A zone is a name in zone-file form ("example.org", "." for
 * everything), added before any data and any lookup; rr is one record in
 * zone-file form ("mx.example.org. 300 IN A 192.0.2.25"), added at any
 * time, into the closest enclosing zone (or, outside every zone, a zone of
 * its own name whose other names are resolved as usual). 0, or -1 with err
 * filled. */
int dns_add_local_zone(struct dns *dns, const char *zone, enum dns_local_zone type,
		       char *err, size_t errlen);
int dns_add_local_data(struct dns *dns, const char *rr, char *err, size_t errlen);

/* Blocks until the answer is in or the timeout passed; always gives an
 * answer (free with dns_answer_free()). Not from a libevent loop thread
 * attached with dns_attach(). */
struct dns_answer *dns_lookup(struct dns *dns, const char *name, enum dns_type type);
/* The same, giving up (DNS_TEMPFAIL, "timeout") at the latest when
 * clock_monotonic_ms() reaches deadline_ms, if that comes before the
 * timeout: a caller's budget for several lookups. */
struct dns_answer *dns_lookup_until(struct dns *dns, const char *name, enum dns_type type,
				    int64_t deadline_ms);

/* Makes the handle asynchronous in base's loop. 0 or -1. */
int dns_attach(struct dns *dns, struct event_base *base);
/* Starts a lookup; cb gets the answer (valid during the call only) exactly
 * once from the loop, unless dns_cancel() came first. Never calls back
 * before returning. */
struct dns_query *dns_lookup_async(struct dns *dns, const char *name, enum dns_type type,
				   dns_callback *cb, void *arg);
void dns_cancel(struct dns_query **query);

void dns_answer_free(struct dns_answer **answer);
/* A copy the caller frees (an asynchronous answer lives only during its
 * callback). */
struct dns_answer *dns_answer_copy(const struct dns_answer *answer);
/* An answer with no records, of status (DNS_TEMPFAIL, ...); why is static. */
struct dns_answer *dns_answer_failed(enum dns_status status, const char *why);
const char *dns_status_name(enum dns_status status);

/* "192.0.2.1" + "zen.example" -> "1.2.0.192.zen.example"; IPv6 by nibbles.
 * suffix NULL gives the in-addr.arpa / ip6.arpa name. 0 or -1. */
int dns_reverse_name(const struct ip_addr *ip, const char *suffix, char *out, size_t outlen);

#endif
