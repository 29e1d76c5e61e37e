/*
 * dkim_verify.h - DKIM verification of every signature of a message
 * (RFC 6376, RFC 8301, RFC 8463), our own code on OpenSSL, for
 * limristem-milter.
 *
 * One library handle per process, one verifier per message, fed the way
 * libmilter hands a message over:
 *
 *   lib = dkim_verify_lib_new(err, sizeof err);        once, at start-up
 *   v = dkim_verify_new(lib, &options, queue_id);
 *   dkim_verify_header(v, name, value);                every header field
 *   dkim_verify_eoh(v);                                optional
 *   dkim_verify_body(v, chunk, len);                   every body chunk
 *   dkim_verify_end(v);
 *   r = dkim_verify_result(v);                         one entry per signature
 *   dkim_verify_free(&v);
 *   dkim_verify_lib_free(&lib);                        at exit
 *
 * Header fields as for arc_verify.h: the name without the colon, the value exactly
 * as it followed the colon (negotiate SMFIP_HDR_LEADSPC); folds CRLF or LF.
 * The body is the raw body as libmilter delivers it (bare LF is taken as
 * CRLF); it is canonicalized and hashed as it streams by, once per body
 * canonicalization whatever the number of signatures, and never kept.
 * Header fields are kept (h= may name any of them) within
 * DKIM_VERIFY_MAX_HEADERS and DKIM_VERIFY_MAX_HEADER_BYTES.
 *
 * Keys: every key record comes through options.key_lookup (the milter
 * backs it with dns_lookup() of common/dns.h: blocking, cached, bounded by
 * a timeout); each selector/domain pair is asked once per message. A
 * lookup runs inside dkim_verify_end(), in the calling thread. Records are
 * parsed through the process-wide cache of dkim_keycache.h, so a record
 * seen before costs no decoding.
 *
 * Signatures (RFC 6376 3.5, checked by dkim_sig.h): v=1, a=, b=, bh=, d=,
 * h= naming From, s= required; i= d= or a subdomain; x= not before t=;
 * q= offering dns/txt; c= simple/simple when absent; tags case-sensitive,
 * a tag twice is malformed. Header fields are picked bottom-up for h=
 * (names not present sign nothing), the DKIM-Signature itself hashed last
 * with b= emptied; l= limits the body hashed. Key records (RFC 6376
 * 3.6.1, dkim_pubkey.h): v=DKIM1 first if present, k= matching a=, h=
 * allowing sha256, s= email or *, t=y (testing), t=s (i= may not name a
 * subdomain of d=), p= empty when revoked; Ed25519 keys are the raw 32
 * bytes (RFC 8463), and an Ed25519 signature is over the SHA-256 of the
 * canonicalized data.
 *
 * Policy:
 *   - rsa-sha1 signatures are not evaluated (no key lookup) and get
 *     options.sha1_result (default policy; fail if configured), RFC 8301 3.1;
 *   - RSA keys under options.min_rsa_bits (default 1024) get
 *     options.short_key_result (default permerror), RFC 8301 3.2, for a
 *     signature that is otherwise valid;
 *   - signatures after the first options.max_signatures (default 10) are
 *     not evaluated: result policy, reason says so.
 * Other verdicts: fail for a bad signature, a body hash mismatch, l=
 * longer than the body or an x= expired (DKIM_VERIFY_CLOCK_DRIFT allowed);
 * permerror for a malformed signature, a t= further in the future than
 * that, a missing, revoked or unusable key (also one of another type than
 * a=, or t=s against a subdomain i=); temperror when the key lookup failed
 * temporarily. neutral is never given; a message without
 * signatures has count 0 (dkim=none). A pass with testing set (t=y) is
 * still a pass: what to make of it is the caller's choice.
 *
 * Threads: the library handle is created once before any thread uses it
 * and is then only read. A verifier belongs to one message and must be
 * used by one thread at a time; any number of verifiers may run in
 * parallel. key_lookup is called from the thread running
 * dkim_verify_end(), with its own ctx.
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_VERIFY_H
#define LIMRISTEM_MAILAUTH_DKIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "mailauth/dkim_pubkey.h"	/* dkim_key_lookup_fn, enum dkim_key_status */

/* Signatures evaluated per message unless configured: each may cost a DNS
 * query a stranger chose. */
#define DKIM_VERIFY_MAX_SIGNATURES_DEFAULT 10
/* Characters of b= kept for header.b (RFC 6008 asks for at least 8). */
#define DKIM_VERIFY_B_PREFIX 16
/* Seconds a signer's clock may be off: x= counts as expired, and t= as in
 * the future, only beyond this (as libopendkim and OpenDKIM judged them). */
#define DKIM_VERIFY_CLOCK_DRIFT 300
/* Header fields kept per message, and their names' and values' bytes; past
 * either, every signature is permerror. */
#define DKIM_VERIFY_MAX_HEADERS 1000
#define DKIM_VERIFY_MAX_HEADER_BYTES (1024 * 1024)

/* RFC 8601 2.7.1 dkim results. */
enum dkim_result {
	DKIM_RESULT_NONE,
	DKIM_RESULT_PASS,
	DKIM_RESULT_FAIL,
	DKIM_RESULT_NEUTRAL,
	DKIM_RESULT_POLICY,
	DKIM_RESULT_TEMPERROR,
	DKIM_RESULT_PERMERROR,
};

struct dkim_verify_options {
	dkim_key_lookup_fn *key_lookup;	/* NULL: every key is "not found" */
	void *key_ctx;
	unsigned min_rsa_bits;		/* 0: DKIM_RSA_MIN_BITS_DEFAULT (1024) */
	unsigned max_signatures;	/* 0: DKIM_VERIFY_MAX_SIGNATURES_DEFAULT */
	/* For rsa-sha1: DKIM_RESULT_POLICY or _FAIL; NONE means POLICY. */
	enum dkim_result sha1_result;
	/* For short RSA keys: _PERMERROR, _POLICY or _FAIL; NONE means PERMERROR. */
	enum dkim_result short_key_result;
};

struct dkim_verify_sig {
	enum dkim_result result;
	const char *domain;	/* d=, "" when missing */
	const char *selector;	/* s=, "" when missing */
	const char *b;		/* first DKIM_VERIFY_B_PREFIX chars of b= */
	const char *algorithm;	/* "rsa-sha256", "ed25519-sha256", "rsa-sha1", or a= as given */
	const char *reason;	/* never NULL; "" with pass */
	unsigned key_bits;	/* 0 when no key was used */
	bool testing;		/* the key record has t=y */
};

struct dkim_verify_result {
	size_t count;		/* 0: the message has no DKIM-Signature */
	const struct dkim_verify_sig *sigs;	/* in header order, top first */
	/* Non-NULL when the message could not be processed at all (count may
	 * then be 0 though signatures were present): treat as temperror.
	 * Kept for callers; nothing sets it now that verification cannot fail
	 * as a whole. */
	const char *error;
};

struct dkim_verify_lib;
struct dkim_verify;

/* NULL with a message in err when OpenSSL lacks what DKIM needs. */
struct dkim_verify_lib *dkim_verify_lib_new(char *err, size_t errlen);
/* Only after every verifier made with it is freed. */
void dkim_verify_lib_free(struct dkim_verify_lib **lib);

/* id: the queue id (unused, kept for callers). Never NULL. */
struct dkim_verify *dkim_verify_new(struct dkim_verify_lib *lib,
				    const struct dkim_verify_options *options, const char *id);
void dkim_verify_header(struct dkim_verify *v, const char *name, const char *value);
/* Ends the header block; called by body() and end() if the caller did not.
 * Returns false when nothing depends on the body (no signature to check). */
bool dkim_verify_eoh(struct dkim_verify *v);
void dkim_verify_body(struct dkim_verify *v, const void *data, size_t len);
/* Ends the message and checks the signatures (key lookups happen here). */
void dkim_verify_end(struct dkim_verify *v);
/* Valid after dkim_verify_end(), until dkim_verify_free(). */
const struct dkim_verify_result *dkim_verify_result(const struct dkim_verify *v);
void dkim_verify_free(struct dkim_verify **v);

/* "none", "pass", "fail", "neutral", "policy", "temperror", "permerror" */
const char *dkim_result_name(enum dkim_result result);

#endif
