/*
 * arc_keys.h - the public keys one ARC verification needs, each fetched once.
 *
 * A chain of N sets names up to 2N selector/domain pairs, usually one or
 * two distinct ones; this asks the caller's lookup hook once per pair,
 * parses the record (dkim_pubkey.h) and remembers the outcome, good or bad.
 */
#ifndef LIMRISTEM_MAILAUTH_ARC_KEYS_H
#define LIMRISTEM_MAILAUTH_ARC_KEYS_H

#include <stdbool.h>

#include "mailauth/arc_sig.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim_pubkey.h"

struct arc_keys;

/* min_rsa_bits and max_lookups as in struct arc_options (0: defaults). */
struct arc_keys *arc_keys_new(dkim_key_lookup_fn *lookup, void *ctx, unsigned min_rsa_bits,
			      unsigned max_lookups);

/* The key that should have made sig, or NULL with *why_r (static text)
 * when there is none usable: not published, revoked, malformed, of another
 * type than a=, an RSA key under the minimum size, or one pair too many to
 * look up. *tempfail_r is set
 * when the lookup failed temporarily. */
const struct dkim_pubkey *arc_keys_get(struct arc_keys *keys, const struct arc_sig *sig,
				       bool *tempfail_r, const char **why_r);

void arc_keys_free(struct arc_keys **keys);

#endif
