/*
 * arc_seal.h - ARC sealing (RFC 8617 section 5.1): add the next ARC set.
 *
 * A sealer lives for one message. It keeps no header fields of its own:
 * at the end the caller hands over the header block it already holds, the
 * one an arc_verify kept (arc_verify_headers()) or its own. The body is
 * never copied, only canonicalized (relaxed) and hashed as it streams by:
 *
 *   s = arc_seal_new();
 *   arc_seal_body(s, chunk, len);          for every body chunk
 *   arc_seal_make(s, headers, count, &request, &fields, &why);
 *   arc_seal_fields_release(&fields);
 *   arc_seal_free(&s);
 *
 * Header fields are given as received (dkim_canon.h: name without the colon,
 * value with its leading space and folds). The result is the three field
 * values of instance N+1, each starting with a space (libmilter's
 * SMFIP_HDR_LEADSPC) and folded with "\n\t" (or "\r\n\t" for a message on
 * the wire); insert them at index 0 in the order AAR, AMS, AS so that the
 * ARC-Seal ends up on top.
 *
 * What is sealed (RFC 8617):
 *  - i= is one more than the highest instance of any ARC field present;
 *    nothing is added when the newest ARC-Seal already says cv=fail (5.1
 *    step 1) or when that would make an instance over 50 (4.2.1).
 *  - The AMS is a DKIM signature, relaxed/relaxed, over the configured
 *    header fields present in the message (every occurrence; From at least
 *    once even when absent), never over ARC fields (4.1.2).
 *  - The AS covers every ARC set in instance order and the new one, its
 *    own b= empty (5.1.1), cv= as the caller validated the chain: none
 *    without ARC fields, pass, or fail; with fail it covers only the new
 *    set, as if it were the only one (5.1.2).
 * Tags are written in the order a, b, bh, c, d, h, i, s, t (cv after b in
 * the AS), the layout of the ValiMail signing suite.
 */
#ifndef LIMRISTEM_MAILAUTH_ARC_SEAL_H
#define LIMRISTEM_MAILAUTH_ARC_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "mailauth/arc_verify.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/dkim_crypto.h"

/* The AMS h= candidates unless configured: what identifies and describes
 * a message, and the DKIM signatures it carries (RFC 8617 4.1.2 asks for
 * them). Names absent from the message are left out, From excepted. */
#define ARC_SEAL_HEADERS_DEFAULT \
	"from:to:cc:subject:date:message-id:reply-to:in-reply-to:references:" \
	"mime-version:content-type:content-transfer-encoding:dkim-signature"
/* Longest results text for the AAR. */
#define ARC_SEAL_RESULTS_MAX 16384

enum arc_seal_status {
	ARC_SEAL_OK = 0,		/* *fields_r holds the new set */
	ARC_SEAL_SKIPPED = 1,		/* RFC 8617 says not to seal (see why) */
	ARC_SEAL_E_INVAL = -1,		/* a bad request, or headers that contradict it */
	ARC_SEAL_E_CRYPTO = -2,		/* OpenSSL failed to hash or sign */
};

struct arc_seal_request {
	/* Validation status of the chain as received (arc_verify_result()):
	 * becomes cv=. NONE with ARC fields present, or PASS without a
	 * complete chain in the headers, is refused. */
	enum arc_status chain;
	const char *authserv_id;	/* ours; the AAR's authserv-id */
	/* The method results after "authserv-id;" of the Authentication-
	 * Results field we add (authres_build() output with its id removed):
	 * folds (LF or CRLF then WSP) kept, rewritten to our line ends.
	 * NULL or empty: "none". */
	const char *results;
	const char *domain;		/* d= */
	const char *selector;		/* s= */
	EVP_PKEY *key;			/* private key of selector._domainkey.domain */
	enum dkim_alg alg;		/* must fit the key */
	int64_t timestamp;		/* t=, seconds since the epoch */
	/* Colon-separated AMS h= candidates; NULL: ARC_SEAL_HEADERS_DEFAULT.
	 * Must name From and no ARC field, at most ARC_SIG_MAX_HEADERS. */
	const char *sign_headers;
	bool crlf;			/* folds "\r\n\t" instead of "\n\t" */
};

struct arc_seal_fields {
	unsigned instance;		/* i= of the new set */
	enum arc_cv cv;
	char *aar;			/* ARC-Authentication-Results value */
	char *ams;			/* ARC-Message-Signature value */
	char *seal;			/* ARC-Seal value */
};

struct arc_seal;

struct arc_seal *arc_seal_new(void);
/* One body chunk, raw (CRLF line ends; bare LF is taken as CRLF). */
void arc_seal_body(struct arc_seal *s, const void *data, size_t len);
/* Ends the body and seals. headers[0..count) is the header block as
 * received, at most ARC_MAX_HEADERS fields. Returns an enum
 * arc_seal_status; *why_r (static text) says why with anything but OK.
 * On OK, fields_r owns three malloc'ed values; otherwise it is zeroed.
 * Call once per sealer. */
int arc_seal_make(struct arc_seal *s, const struct dkim_canon_header *headers, size_t count,
		  const struct arc_seal_request *request, struct arc_seal_fields *fields_r,
		  const char **why_r);
void arc_seal_fields_release(struct arc_seal_fields *fields);
void arc_seal_free(struct arc_seal **s);

#endif
