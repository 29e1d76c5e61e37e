/*
 * dkim_signkey.h - a private key for DKIM signing (and ARC sealing), loaded once.
 *
 * A key file is PEM: RSA as PKCS#1 ("BEGIN RSA PRIVATE KEY", what mailadm
 * and opendkim-genkey write) or PKCS#8, Ed25519 as PKCS#8. It is refused,
 * with a message that names the path and the reason, when it is not a
 * regular file, is readable or writable by others (common/keyfile.h: the
 * rule mailadm applies), is larger than DKIM_SIGNKEY_MAX_FILE_BYTES, is not an
 * unencrypted private key, is an RSA key under the minimum size or over
 * DKIM_SIGNKEY_MAX_RSA_BITS, is of another type (EC, RSA-PSS, Ed448 ...), or
 * cannot sign (a test signature is made at load).
 *
 * Threads: load in one thread, then sign with the key in any number of
 * threads at once (dkim_crypto_sign() makes a context per operation and
 * only reads the EVP_PKEY); free it only when no thread uses it any more.
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_SIGNKEY_H
#define LIMRISTEM_MAILAUTH_DKIM_SIGNKEY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "mailauth/dkim_crypto.h"

#define DKIM_SIGNKEY_MAX_FILE_BYTES (64 * 1024)
#define DKIM_SIGNKEY_MAX_RSA_BITS 8192	/* DKIM_SIG_MAX_BYTES holds its signatures */

struct dkim_signkey {
	enum dkim_alg alg;	/* DKIM_ALG_RSA_SHA256 or DKIM_ALG_ED25519_SHA256 */
	unsigned bits;		/* RSA modulus bits; 256 for Ed25519 */
	EVP_PKEY *pkey;
	char *path;		/* as given to dkim_signkey_load() */
};

/* Loads the key at path. min_rsa_bits 0 means DKIM_RSA_MIN_BITS_DEFAULT
 * (1024); a smaller value is raised to it. Returns 0 with *key_r set, or
 * -1 with a message ("PATH: readable by others ...") in err. */
int dkim_signkey_load(const char *path, unsigned min_rsa_bits, struct dkim_signkey **key_r,
		  char *err, size_t errlen);
void dkim_signkey_free(struct dkim_signkey **key);

#endif
