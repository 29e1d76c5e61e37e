/*
 * dkim_pubkey.h - DKIM public key records (RFC 6376 3.6.1, RFC 8463).
 *
 * Turns the text of a SELECTOR._domainkey.DOMAIN TXT record into a key
 * OpenSSL can verify with, or says why it cannot be used: v= other than
 * DKIM1 (or not first), an unknown k=, h= without sha256, s= without email
 * or *, an empty p= (revoked), p= that is not a key of type k=. Pure apart
 * from OpenSSL's key decoding; the record is read once, in one pass.
 * (mailadm/dkim_key.h makes and publishes keys; this only reads them.)
 */
#ifndef LIMRISTEM_MILTER_DKIM_PUBKEY_H
#define LIMRISTEM_MILTER_DKIM_PUBKEY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "dkim_crypto.h"

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

#endif
