/*
 * lookup.h - the forward and reverse maps: one socketmap request in, one
 * reply out. Pure: the caller provides the keys, the local domains and
 * the time, and logs and counts what the result says.
 */
#ifndef LIMRISTEM_SRS_LOOKUP_H
#define LIMRISTEM_SRS_LOOKUP_H

#include <stdint.h>

#include "common/domainset.h"
#include "common/strbuf.h"
#include "srs/socketmap.h"
#include "srs/srs.h"

enum srsd_map { SRSD_MAP_FORWARD, SRSD_MAP_REVERSE, SRSD_MAP_UNKNOWN, SRSD_MAP_COUNT };

enum srsd_outcome {
	SRSD_REWRITTEN,		/* OK with the new address */
	SRSD_UNCHANGED,		/* NOTFOUND: nothing to do (local, no domain, not SRS) */
	SRSD_REFUSED,		/* NOTFOUND: an SRS address that fails its checks (logged) */
	SRSD_ERROR,		/* PERM: unknown map, unusable key */
	SRSD_OUTCOME_COUNT,
};

struct srsd_maps {
	const struct srs *srs;
	const char *srs_domain;
	const struct domain_set *local_domains;	/* NULL: none */
};

struct srsd_answer {
	enum srsd_map map;
	enum srsd_outcome outcome;
	int srs_result;		/* from srs_forward()/srs_reverse() */
	const char *why;	/* for UNCHANGED, REFUSED and ERROR */
};

/* Appends the reply to req to out and says what happened in answer_r. */
void srsd_lookup(const struct srsd_maps *maps, const struct socketmap_request *req,
		 int64_t now, struct strbuf *out, struct srsd_answer *answer_r);

const char *srsd_map_name(enum srsd_map map);
const char *srsd_outcome_name(enum srsd_outcome outcome);

#endif
