/*
 * dkim_sign.h - DKIM signing of one message (RFC 6376, RFC 8301, RFC 8463),
 * our own code on OpenSSL, for limristem-milter.
 *
 * A signer makes one DKIM-Signature per key, all for one d= (RSA-2048 and
 * Ed25519 keys of a domain side by side, RFC 8463), and is fed the way
 * libmilter hands a message over:
 *
 *   s = dkim_sign_new(&options, err, sizeof err);   NULL: options invalid
 *   dkim_sign_header(s, name, value);               every header field, in order
 *   dkim_sign_body(s, chunk, len);                  every body chunk
 *   if (dkim_sign_end(s, values, &why) == 0)        values[i]: for keys[i]
 *           smfi_insheader(ctx, 0, "DKIM-Signature", values[i]) ...
 *   dkim_sign_free(&s);
 *
 * Header fields as for arc_verify.h: the name without the colon, the value exactly
 * as it followed the colon (negotiate SMFIP_HDR_LEADSPC); folds CRLF or LF.
 * The body is the raw body (CRLF line ends; bare LF is taken as CRLF). All
 * keys share one canonicalization and so one body hash: the body streams
 * through one SHA-256 and is never kept. Header fields are kept only when
 * the signature will name them, within DKIM_SIGN_MAX_HEADERS fields and
 * DKIM_SIGN_MAX_HEADER_BYTES; past either the signer fails at the end.
 *
 * The signatures: v=1; a= per key; c= (relaxed/relaxed unless configured);
 * d=; s=; i= when configured; t= always; x= when configured; h=; bh=; b=.
 * Never l=. h= names every field of options.headers present in the message
 * (as often as it occurs) and every field of options.oversign once more
 * than it occurs (also when absent), so a field added on the way, a second
 * From or Subject, breaks the signature. The defaults are the fields RFC
 * 6376 5.4.1 recommends and the ones a replay or an appended header would
 * abuse (see dkim_sign.c).
 *
 * A value starts with a space and is folded at 78 columns with "\n\t"
 * (LF: what libmilter and Postfix want; options.crlf for CRLF), ready for
 * smfi_insheader() with SMFIP_HDR_LEADSPC negotiated; without it, pass
 * value + 1 (Postfix then adds the space itself, so the bytes signed are
 * the bytes sent). Where the fields go does not matter to verifiers; at
 * index 0 (on top) is customary.
 *
 * Threads: a signer belongs to one message and one thread at a time; any
 * number run in parallel, also with the same keys (dkim_signkey.h).
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_SIGN_H
#define LIMRISTEM_MAILAUTH_DKIM_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailauth/dkim_signkey.h"

#define DKIM_SIGN_MAX_KEYS 4			/* signatures per signer */
#define DKIM_SIGN_MAX_NAMES 64			/* entries of options.headers and .oversign */
#define DKIM_SIGN_MAX_NAME_LEN 64		/* bytes of a header field name in them */
#define DKIM_SIGN_MAX_HEADERS 1000		/* header fields kept per message */
#define DKIM_SIGN_MAX_HEADER_BYTES (1024 * 1024)	/* their names and values */
#define DKIM_SIGN_MAX_DOMAIN 253		/* d=, and the domain part of i= */
#define DKIM_SIGN_MAX_SELECTOR 63		/* s= */

struct dkim_sign_key {
	const struct dkim_signkey *key;	/* borrowed: must outlive the signer */
	const char *selector;
};

struct dkim_sign_options {
	const char *domain;			/* d= */
	const struct dkim_sign_key *keys;	/* 1 .. DKIM_SIGN_MAX_KEYS */
	size_t key_count;
	/* c=: "relaxed/relaxed" (NULL), "simple/simple", "relaxed/simple" ...
	 * any value RFC 6376 3.5 allows. */
	const char *canonicalization;
	const char *identity;		/* i=, NULL: none; @d= or a subdomain */
	int64_t now;			/* t=; 0: clock_wall_s() */
	int64_t expire_after;		/* x= is t= plus this; 0: no x= */
	/* Fields signed when present; NULL: dkim_sign_default_headers.
	 * Must include From. */
	const char *const *headers;
	size_t header_count;
	/* Fields signed once more than they occur; NULL: dkim_sign_default_oversign
	 * (header_count 0 with a non-NULL pointer: none). */
	const char *const *oversign;
	size_t oversign_count;
	bool crlf;			/* fold with "\r\n\t" rather than "\n\t" */
};

extern const char *const dkim_sign_default_headers[];
extern const size_t dkim_sign_default_header_count;
extern const char *const dkim_sign_default_oversign[];
extern const size_t dkim_sign_default_oversign_count;

struct dkim_sign;

/* Copies what it needs of options (not the keys). NULL with a message in
 * err ("selector \"a b\": ...") when the options are not usable: check
 * them once at configuration time with a signer made and freed. */
struct dkim_sign *dkim_sign_new(const struct dkim_sign_options *options, char *err, size_t errlen);
void dkim_sign_header(struct dkim_sign *s, const char *name, const char *value);
void dkim_sign_body(struct dkim_sign *s, const void *data, size_t len);
/* Ends the message and signs it. Returns 0 with values_r[i] the
 * DKIM-Signature value for options.keys[i] (valid until dkim_sign_free()),
 * or -1 with *why_r (static text): too many or too large header fields, a
 * header field after the body, OpenSSL failed. Call once. */
int dkim_sign_end(struct dkim_sign *s, const char *values_r[DKIM_SIGN_MAX_KEYS], const char **why_r);
void dkim_sign_free(struct dkim_sign **s);

#endif
