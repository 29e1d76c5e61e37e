/*
 * dkim_keypair.h - DKIM key pairs for mailadm: generate, store, publish, check.
 *
 * Private keys are PEM files: RSA as PKCS#1 ("BEGIN RSA PRIVATE KEY",
 * what opendkim-genkey writes), Ed25519 as PKCS#8. They are created
 * exclusively, mode 0640, owned by the current user (root) and the key
 * group. The public half is what goes into the TXT record: base64 of the
 * SubjectPublicKeyInfo for RSA, of the raw 32 bytes for Ed25519 (RFC 8463).
 */
#ifndef LIMRISTEM_MAILADM_DKIM_KEYPAIR_H
#define LIMRISTEM_MAILADM_DKIM_KEYPAIR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

#define DKIM_PUBLIC_MAX 1400	/* base64 of an RSA-8192 SubjectPublicKeyInfo, with room */

struct dkim_keypair {
	bool ed25519;		/* else RSA */
	unsigned bits;		/* RSA only */
	char public_b64[DKIM_PUBLIC_MAX];
};

/* Generates a key and writes it to path (which must not exist) with mode
 * 0640 and the given group. Fills key (public part). 0, or -1 with err. */
int dkim_keypair_generate(bool ed25519, unsigned bits, const char *path, const char *group,
		      struct dkim_keypair *key, char *err, size_t errlen);

/* The zone-file line for SELECTOR._domainkey.DOMAIN, strings split at
 * 255 characters. */
void dkim_txt_record(const char *selector, const char *domain, bool ed25519, const char *public_b64,
		     struct strbuf *out);

/* Compares a published DKIM TXT record with the key: NULL when it matches,
 * else what is wrong ("p= differs", "k= is rsa" ...). */
const char *dkim_txt_matches(const char *record, bool ed25519, const char *public_b64);

#endif
