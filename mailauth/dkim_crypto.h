/*
 * dkim_crypto.h - the cryptography under DKIM and ARC signatures, on OpenSSL.
 *
 * Two signature algorithms: rsa-sha256 (RFC 6376; rsa-sha1 is refused, RFC
 * 8301) and ed25519-sha256 (RFC 8463: PureEdDSA over the SHA-256 digest of
 * the signed data). Callers hash the canonical data themselves (dkim_canon.h)
 * and hand over the digest, so signing can reuse the same path later.
 * Base64 as DKIM writes it: folding white space anywhere, padding optional.
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_CRYPTO_H
#define LIMRISTEM_MAILAUTH_DKIM_CRYPTO_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "common/strbuf.h"

enum dkim_alg {
	DKIM_ALG_RSA_SHA256,
	DKIM_ALG_ED25519_SHA256,
};

enum dkim_key_type {
	DKIM_KEY_RSA,
	DKIM_KEY_ED25519,
};

/* Smallest RSA key accepted unless configured otherwise (RFC 8301 3.2). */
#define DKIM_RSA_MIN_BITS_DEFAULT 1024
/* Longest signature decoded: RSA-8192. */
#define DKIM_SIG_MAX_BYTES 1024

/* Parses an a= value ("rsa-sha256", "ed25519-sha256", case-insensitive).
 * 0, or -1 for anything else (rsa-sha1 included). */
int dkim_alg_parse(const char *s, size_t len, enum dkim_alg *alg_r);
const char *dkim_alg_name(enum dkim_alg alg);
enum dkim_key_type dkim_alg_key_type(enum dkim_alg alg);
/* The digest of the algorithm (SHA-256 for both): dkim_sha256(). */
const EVP_MD *dkim_alg_md(enum dkim_alg alg);
/* SHA-256, fetched from OpenSSL's default provider once per process and
 * shared by every thread: EVP_sha256() would make OpenSSL 3 look the
 * implementation up again in every EVP_DigestInit_ex(). Never NULL
 * (EVP_sha256() if the fetch failed). */
const EVP_MD *dkim_sha256(void);

/* Decodes base64 from s[0..len), skipping SP, HTAB, CR and LF. Returns the
 * number of bytes written to out, or -1 when the input is not base64 or
 * decodes to more than outcap bytes. */
ssize_t dkim_base64_decode(const char *s, size_t len, unsigned char *out, size_t outcap);

/* Checks sig against hash (the digest of the signed data) with key, which
 * must be of the algorithm's type. Returns 1 when the signature is valid,
 * 0 when it is not. */
int dkim_crypto_verify(EVP_PKEY *key, enum dkim_alg alg, const unsigned char *hash,
		       size_t hash_len, const unsigned char *sig, size_t sig_len);

/* Signs hash (the digest of the signed data) with the private key, which
 * must be of the algorithm's type. Writes at most sig_cap bytes to sig
 * (DKIM_SIG_MAX_BYTES is enough) and returns their number, or -1 (the
 * key does not fit the algorithm, or OpenSSL failed). Thread-safe: one
 * key may sign in any number of threads at once. */
ssize_t dkim_crypto_sign(EVP_PKEY *key, enum dkim_alg alg, const unsigned char *hash,
			 size_t hash_len, unsigned char *sig, size_t sig_cap);

/* Appends the base64 of data[0..len) (padded, no line breaks) to out. */
void dkim_base64_encode(const unsigned char *data, size_t len, struct strbuf *out);

#endif
