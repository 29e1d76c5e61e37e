/*
 * dnsbl.h - DNS blocklist zones as operators write them, and what counts
 * as "listed".
 *
 * The syntax of Postfix's postscreen_dnsbl_sites, without weights:
 *   "zen.example"                      any 127.x.y.z answer lists
 *   "zen.example=127.0.0.2"            only that answer
 *   "zen.example=127.0.0.[2..11]"      an octet range
 *   "zen.example=127.0.[1;2].[4..7]"   lists and ranges per octet
 * Pure functions.
 */
#ifndef LIMRISTEM_DNSBL_H
#define LIMRISTEM_DNSBL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"

struct dnsbl_zone {
	char name[ADDR_DOMAIN_MAX + 1];
	bool any;		/* no filter: any answer in 127.0.0.0/8 */
	uint8_t octet_ok[4][32];	/* bitmaps: octet value v allowed when bit v is set */
};

/* Parses one zone specification. 0, or -1 with a reason in *why_r. */
int dnsbl_zone_parse(const char *spec, struct dnsbl_zone *zone_r, const char **why_r);
/* For config tables: NULL when spec is valid, else the reason. */
const char *dnsbl_zone_check(const char *spec);
/* True when the A record answer (4 bytes) means "listed" for this zone.
 * Answers outside 127.0.0.0/8 never do (RFC 5782 section 2.1). */
bool dnsbl_zone_matches(const struct dnsbl_zone *zone, const uint8_t answer[4]);

#endif
