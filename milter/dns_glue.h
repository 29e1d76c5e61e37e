/*
 * dns_glue.h - the checks' lookups (DKIM/ARC keys, DMARC records) answered
 * by the suite's resolver (common/dns.h), blocking, from milter threads.
 *
 * A message's lookups share one time budget (milter.dns_budget): up to 10
 * DKIM and 16 ARC keys and the DMARC records, each allowed dns.timeout,
 * would otherwise hold a thread for minutes. Between
 * dns_glue_budget_begin() and dns_glue_budget_end(), on the calling
 * thread, a lookup ends at the deadline at the latest, and once it has
 * passed, lookups are not even started: they answer a temporary failure
 * (DKIM temperror, ARC fail with its tempfail flag, DMARC temperror),
 * counted in milter_dns_budget_exceeded_total.
 */
#ifndef LIMRISTEM_MILTER_DNS_GLUE_H
#define LIMRISTEM_MILTER_DNS_GLUE_H

#include <stdint.h>

#include "mailauth/arc_verify.h"
#include "mailauth/dmarc.h"

struct metrics;

/* Registers the budget's counter; once, at start-up. */
void dns_glue_metrics(struct metrics *m);

/* The calling thread's lookups from now on share budget_ms (0: none). */
void dns_glue_budget_begin(int64_t budget_ms);
/* Ends it; returns how many lookups were refused or cut by it. */
unsigned dns_glue_budget_end(void);

/* ctx is the struct dns *. */
enum dkim_key_status dns_glue_key(void *ctx, const char *selector, const char *domain, char **txt_r);
enum dmarc_lookup_status dns_glue_dmarc(void *ctx, const char *name, char ***txt_r, size_t *count_r);

#endif
