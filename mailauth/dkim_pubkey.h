/*
 * dkim_pubkey.h - DKIM public key records (RFC 6376 3.6.1, RFC 8463).
 *
 * Turns the text of a SELECTOR._domainkey.DOMAIN TXT record into a key
 * OpenSSL can verify with, or says why it cannot be used: v= other than
 * DKIM1 (or not first), an unknown k=, h= without sha256, s= without email
 * or *, an empty p= (revoked), p= that is not a key of type k=. Pure apart
 * from OpenSSL's key decoding; the record is read once, in one pass.
 * Also the one formatter of such records (mailadm publishes them) and the
 * hook through which DKIM and ARC verification fetch them.
 * (mailadm/dkim_keypair.h makes key pairs.)
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_PUBKEY_H
#define LIMRISTEM_MAILAUTH_DKIM_PUBKEY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "common/strbuf.h"
#include "mailauth/dkim_crypto.h"

enum dkim_key_status {
	DKIM_KEY_OK,		/* *txt_r holds the record (malloc'ed, caller of the hook frees) */
	DKIM_KEY_NOTFOUND,	/* NXDOMAIN, no TXT record */
	DKIM_KEY_TEMPFAIL,	/* timeout, SERVFAIL */
};

/* Fetches the TXT record at SELECTOR._domainkey.DOMAIN: its
 * character-strings joined without separators, in *txt_r as a malloc'ed
 * string the verifier frees. With several records, return the first. */
typedef enum dkim_key_status dkim_key_lookup_fn(void *ctx, const char *selector,
					       const char *domain, char **txt_r);

struct dkim_pubkey {
	enum dkim_key_type type;
	EVP_PKEY *pkey;
	unsigned bits;		/* RSA modulus size; 256 for Ed25519 */
	bool testing;		/* t=y: the domain is testing DKIM */
	bool strict;		/* t=s: no subdomains in i= */
};

/* Parses the record txt[0..len) (the character-strings of one TXT record
 * joined without separators). Returns 0 with a key to free with
 * dkim_pubkey_free(), or -1 with *why_r (static text). */
int dkim_pubkey_parse(const char *txt, size_t len, struct dkim_pubkey **key_r, const char **why_r);
void dkim_pubkey_free(struct dkim_pubkey **key);

/* Appends the record publishing a key: "v=DKIM1; k=rsa; p=BASE64" (k=ed25519
 * for an Ed25519 key, whose p= is the raw 32 bytes, RFC 8463). */
void dkim_pubkey_record(struct strbuf *out, bool ed25519, const char *public_b64);

#endif
