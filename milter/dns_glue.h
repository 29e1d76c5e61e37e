/*
 * dns_glue.h - the checks' lookups (DKIM/ARC keys, DMARC records) answered
 * by the suite's resolver (common/dns.h), blocking, from milter threads.
 */
#ifndef LIMRISTEM_MILTER_DNS_GLUE_H
#define LIMRISTEM_MILTER_DNS_GLUE_H

#include "arc.h"
#include "dmarc.h"

/* ctx is the struct dns *. */
enum arc_key_status dns_glue_key(void *ctx, const char *selector, const char *domain, char **txt_r);
enum dmarc_lookup_status dns_glue_dmarc(void *ctx, const char *name, char ***txt_r, size_t *count_r);

#endif
