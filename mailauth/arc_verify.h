/*
 * arc_verify.h - ARC chain validation (RFC 8617 section 5.2) for limristem-milter.
 *
 * Our own implementation on OpenSSL: Debian has no ARC library. A verifier
 * lives for one message and is fed the way libmilter hands a message over:
 *
 *   v = arc_verify_new(&options);
 *   arc_verify_header(v, name, value);     for every header field, in order
 *   arc_verify_eoh(v);                     optional: false = skip the body
 *   arc_verify_body(v, chunk, len);        for every body chunk
 *   arc_verify_end(v);
 *   r = arc_verify_result(v);              status, reason, instances ...
 *   arc_verify_free(&v);
 *
 * Header fields must be exactly as received: the name without the colon,
 * the value as it followed the colon, leading space and folding included
 * (negotiate SMFIP_HDR_LEADSPC with libmilter, or simple canonicalization
 * breaks); folds may be CRLF or LF. The body is the raw body (CRLF line
 * ends, as libmilter delivers it; bare LF is taken as CRLF). Nothing of the
 * body is kept: it is canonicalized and hashed as it streams by; header
 * fields are kept (h= may name any of them) within ARC_MAX_HEADERS and
 * ARC_MAX_HEADER_BYTES.
 *
 * Keys come through the caller's key_lookup (the milter plugs in
 * dns_lookup() of common/dns.h for SELECTOR._domainkey.DOMAIN TXT); each
 * selector/domain pair is asked once per message, and at most
 * max_key_lookups pairs (the hook should also keep to a per-message
 * deadline). RFC 8617 5.2.1 makes every error permanent, so a temporary
 * DNS failure gives status fail; result.tempfail tells the caller it may
 * want to try again later.
 *
 * An AMS is checked against the header fields as they were when it was
 * made (ARC fields of later sets and its own AS left out), so an older
 * AMS that named ARC fields in h= still validates for oldest-pass. Two
 * fields of one kind with one instance fail the chain even with different
 * a= (the ARC-MULTI draft is not supported). Verifiers share nothing: one
 * per message, any number in parallel threads.
 */
#ifndef LIMRISTEM_MAILAUTH_ARC_VERIFY_H
#define LIMRISTEM_MAILAUTH_ARC_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailauth/arc_sig.h"
#include "mailauth/dkim_pubkey.h"

#define ARC_MAX_HEADERS 1000		/* header fields kept per message */
#define ARC_MAX_HEADER_BYTES (1024 * 1024)	/* their names and values */
/* Distinct selector/domain pairs looked up per message unless configured:
 * every one is a DNS query a stranger chose, so a long chain of made-up
 * keys must not cost 100 lookups. 8 sealers with two keys each fit. */
#define ARC_KEY_LOOKUPS_DEFAULT 16

enum arc_status {
	ARC_STATUS_NONE,	/* no ARC header fields */
	ARC_STATUS_PASS,
	ARC_STATUS_FAIL,
};

struct arc_options {
	dkim_key_lookup_fn *key_lookup;	/* NULL: every key is "not found" */
	void *key_ctx;
	unsigned min_rsa_bits;		/* 0: DKIM_RSA_MIN_BITS_DEFAULT (1024) */
	unsigned max_key_lookups;	/* 0: ARC_KEY_LOOKUPS_DEFAULT; past it: fail */
	int64_t now;			/* for AMS x= expiry; 0: clock_wall_s() */
};

struct arc_result {
	enum arc_status status;
	const char *reason;		/* why fail (or a summary); never NULL */
	unsigned instances;		/* N, the highest instance; 0 with none */
	/* header.oldest-pass (RFC 8617 5.2 step 5): the lowest instance whose
	 * AMS and all later ones still validate, 0 when every AMS does.
	 * Meaningful with pass only. */
	unsigned oldest_pass;
	/* A key lookup failed temporarily: with fail, the chain may pass
	 * later; with pass, only oldest_pass may be too high. */
	bool tempfail;
	/* d= of each ARC-Seal, sealers[0] for i=1 (lowercased). Filled when
	 * the chain's structure is sound; trust them only with pass. */
	unsigned sealer_count;
	const char *sealers[ARC_INSTANCE_MAX];
};

struct arc_verify;

struct arc_verify *arc_verify_new(const struct arc_options *options);
/* One header field; name and value are copied. */
void arc_verify_header(struct arc_verify *v, const char *name, const char *value);
/* Ends the header block and checks the chain's structure. Returns true
 * when the result still depends on the body. Called by arc_verify_body()
 * and arc_verify_end() if the caller did not. */
bool arc_verify_eoh(struct arc_verify *v);
void arc_verify_body(struct arc_verify *v, const void *data, size_t len);
/* Ends the message and validates the signatures. */
void arc_verify_end(struct arc_verify *v);
/* Valid after arc_verify_end(), until arc_verify_free(). */
const struct arc_result *arc_verify_result(const struct arc_verify *v);
/* The ARC-Authentication-Results value of an instance (as received), or
 * NULL; for the trusted-sealer override (RFC 8617 7.2). */
const char *arc_verify_aar(const struct arc_verify *v, unsigned instance);
/* The header fields fed so far, as received, for arc_seal_make()
 * (arc_seal.h) to sign without a second copy; valid until
 * arc_verify_free(). NULL when some were not kept (past ARC_MAX_HEADERS or
 * ARC_MAX_HEADER_BYTES) or when there were none: such a message cannot
 * be sealed. */
const struct dkim_canon_header *arc_verify_headers(const struct arc_verify *v, size_t *count_r);
void arc_verify_free(struct arc_verify **v);

/* "none", "pass", "fail" */
const char *arc_status_name(enum arc_status status);

#endif
