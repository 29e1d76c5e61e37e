/*
 * arc_seal_chain.h - what a sealer must know of the ARC fields already in
 * a message: the highest instance, whether the newest ARC-Seal says
 * cv=fail, and where each set's fields are for the ARC-Seal's input.
 *
 * Unlike the verifier (arc_verify.c), this reads damaged chains too: a sealer of
 * a failed chain still needs the highest instance (RFC 8617 5.1 step 2).
 * Only i= and cv= are read (dkim_tags.h); fields whose i= cannot be read
 * count for nothing but make the chain incomplete. Pure, bounded by the
 * number of header fields.
 */
#ifndef LIMRISTEM_MAILAUTH_ARC_SEAL_CHAIN_H
#define LIMRISTEM_MAILAUTH_ARC_SEAL_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "mailauth/arc_sig.h"
#include "mailauth/dkim_canon.h"

/* i= values above this are counted as this (they are all "over 50"). */
#define ARC_SEAL_CHAIN_INSTANCE_CAP 999

enum arc_seal_field { ARC_SEAL_AAR, ARC_SEAL_AMS, ARC_SEAL_AS, ARC_SEAL_FIELDS };

struct arc_seal_chain {
	bool any;			/* an ARC field is present */
	unsigned highest;		/* highest i= of any ARC field, 0: none */
	bool newest_cv_fail;		/* an AS of the highest AS instance says cv=fail */
	/* Exactly one AAR, AMS and AS for each instance 1..highest, every i=
	 * readable; then set[i][field] is the header index. */
	bool complete;
	long set[ARC_INSTANCE_MAX + 1][ARC_SEAL_FIELDS];
};

extern const char *const arc_seal_field_names[ARC_SEAL_FIELDS];

/* Which ARC field headers[k] is, or -1 for any other field. */
int arc_seal_field_of(const struct dkim_canon_header *h);

void arc_seal_chain_scan(const struct dkim_canon_header *headers, size_t count,
			 struct arc_seal_chain *chain_r);

#endif
