/*
 * dns_glue.h - the checks' DNS questions (DKIM and ARC keys, DMARC
 * records, SPF's lookups) answered by the suite's resolver: from a fiber
 * on an event loop, asynchronously (wait.h); elsewhere, blocking.
 *
 * A message's DKIM, ARC and DMARC lookups share one time budget
 * (milter.dns_budget): up to 10 DKIM and 16 ARC keys and the DMARC
 * records, each allowed dns.timeout, would otherwise keep a message
 * waiting for minutes. Once the budget's deadline has passed a lookup is
 * not even started: it answers a temporary failure (DKIM temperror, ARC
 * fail with its tempfail flag, DMARC temperror), counted in
 * milter_dns_budget_exceeded_total. SPF keeps its own time limit.
 */
#ifndef LIMRISTEM_MILTER_DNS_GLUE_H
#define LIMRISTEM_MILTER_DNS_GLUE_H

#include <stdint.h>

#include "common/dns.h"
#include "mailauth/dkim_pubkey.h"
#include "mailauth/dmarc.h"

struct metrics;

/* One message's lookups: the key_ctx of its DKIM and ARC verifiers and
 * the ctx of its DMARC evaluation. */
struct dns_budget {
	struct dns *dns;	/* the blocking resolver, outside event loops */
	int64_t deadline_ms;	/* monotonic; 0: no budget (not started) */
	unsigned exceeded;	/* lookups refused or cut short by it */
};

/* Registers the budget's counter; once, at start-up. */
void dns_glue_metrics(struct metrics *m);

/* The message's lookups from now on share budget_ms (0: none). */
void dns_budget_start(struct dns_budget *b, struct dns *dns, int64_t budget_ms);

/* ctx is the message's struct dns_budget. DMARC's lookup tells NXDOMAIN
 * (the name does not exist: RFC 9989's np) from a name without TXT records. */
enum dkim_key_status dns_glue_key(void *budget, const char *selector, const char *domain,
				  char **txt_r);
enum dmarc_lookup_status dns_glue_dmarc(void *budget, const char *name, char ***txt_r,
					size_t *count_r);
/* SPF's lookup function (spf.h); ctx is the blocking struct dns. */
struct dns_answer *dns_glue_spf(void *dns, const char *name, enum dns_type type);

#endif
