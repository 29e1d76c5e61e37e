/*
 * dkim_crypto.c - signature algorithms, base64 and verification for DKIM
 * and ARC on OpenSSL 3.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "mailauth/dkim_crypto.h"

int dkim_alg_parse(const char *s, size_t len, enum dkim_alg *alg_r)
{
	if (len == 10 && strncasecmp(s, "rsa-sha256", 10) == 0)
		*alg_r = DKIM_ALG_RSA_SHA256;
	else if (len == 14 && strncasecmp(s, "ed25519-sha256", 14) == 0)
		*alg_r = DKIM_ALG_ED25519_SHA256;
	else
		return -1;
	return 0;
}

const char *dkim_alg_name(enum dkim_alg alg)
{
	return alg == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

enum dkim_key_type dkim_alg_key_type(enum dkim_alg alg)
{
	return alg == DKIM_ALG_ED25519_SHA256 ? DKIM_KEY_ED25519 : DKIM_KEY_RSA;
}

static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
	ERR_clear_error();
}

/* Kept until the process ends: threads may hash until then. */
const EVP_MD *dkim_sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
}

const EVP_MD *dkim_alg_md(enum dkim_alg alg)
{
	(void)alg;
	return dkim_sha256();
}

static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool is_fws_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

ssize_t dkim_base64_decode(const char *s, size_t len, unsigned char *out, size_t outcap)
{
	size_t written = 0, chars = 0, pads = 0;
	unsigned long acc = 0;

	for (size_t i = 0; i < len; i++) {
		if (is_fws_byte(s[i]))
			continue;
		if (s[i] == '=') {
			pads++;
			continue;
		}
		int v = base64_value((unsigned char)s[i]);
		if (v < 0 || pads > 0)
			return -1;	/* not base64, or data after padding */
		acc = (acc << 6) | (unsigned long)v;
		if (++chars % 4 == 0) {
			if (written + 3 > outcap)
				return -1;
			out[written++] = (unsigned char)(acc >> 16);
			out[written++] = (unsigned char)(acc >> 8);
			out[written++] = (unsigned char)acc;
			acc = 0;
		}
	}
	size_t rest = chars % 4;
	if (rest == 1 || pads > 2 || (pads > 0 && rest + pads != 4))
		return -1;
	if (rest > 0) {
		size_t extra = rest - 1;	/* 2 chars: 1 byte, 3 chars: 2 bytes */
		if (written + extra > outcap)
			return -1;
		acc <<= 6 * (4 - rest);
		out[written++] = (unsigned char)(acc >> 16);
		if (extra == 2)
			out[written++] = (unsigned char)(acc >> 8);
	}
	return (ssize_t)written;
}

static int verify_rsa(EVP_PKEY *key, const unsigned char *hash, size_t hash_len,
		      const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	int ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		EVP_PKEY_CTX_set_signature_md(ctx, dkim_sha256()) == 1 &&
		EVP_PKEY_verify(ctx, sig, sig_len, hash, hash_len) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static int verify_ed25519(EVP_PKEY *key, const unsigned char *hash, size_t hash_len,
			  const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
		EVP_DigestVerify(ctx, sig, sig_len, hash, hash_len) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

int dkim_crypto_verify(EVP_PKEY *key, enum dkim_alg alg, const unsigned char *hash,
		       size_t hash_len, const unsigned char *sig, size_t sig_len)
{
	int ok;

	switch (dkim_alg_key_type(alg)) {
	case DKIM_KEY_RSA:
		if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
			return 0;
		ok = verify_rsa(key, hash, hash_len, sig, sig_len);
		break;
	case DKIM_KEY_ED25519:
		if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519)
			return 0;
		ok = verify_ed25519(key, hash, hash_len, sig, sig_len);
		break;
	default:
		return 0;
	}
	/* A bad signature leaves errors on the thread's OpenSSL queue. */
	ERR_clear_error();
	return ok;
}

static ssize_t sign_rsa(EVP_PKEY *key, const unsigned char *hash, size_t hash_len,
			unsigned char *sig, size_t sig_cap)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	size_t len = sig_cap;
	int ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		EVP_PKEY_CTX_set_signature_md(ctx, dkim_sha256()) == 1 &&
		EVP_PKEY_sign(ctx, NULL, &len, hash, hash_len) == 1 && len <= sig_cap &&
		EVP_PKEY_sign(ctx, sig, &len, hash, hash_len) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok ? (ssize_t)len : -1;
}

/* RFC 8463: PureEdDSA over the SHA-256 digest. */
static ssize_t sign_ed25519(EVP_PKEY *key, const unsigned char *hash, size_t hash_len,
			    unsigned char *sig, size_t sig_cap)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = sig_cap;
	int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
		EVP_DigestSign(ctx, sig, &len, hash, hash_len) == 1;

	EVP_MD_CTX_free(ctx);
	return ok ? (ssize_t)len : -1;
}

ssize_t dkim_crypto_sign(EVP_PKEY *key, enum dkim_alg alg, const unsigned char *hash,
			 size_t hash_len, unsigned char *sig, size_t sig_cap)
{
	ssize_t len = -1;

	switch (dkim_alg_key_type(alg)) {
	case DKIM_KEY_RSA:
		if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
			len = sign_rsa(key, hash, hash_len, sig, sig_cap);
		break;
	case DKIM_KEY_ED25519:
		if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 && sig_cap >= 64)
			len = sign_ed25519(key, hash, hash_len, sig, sig_cap);
		break;
	}
	ERR_clear_error();
	return len;
}

void dkim_base64_encode(const unsigned char *data, size_t len, struct strbuf *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		uint32_t acc = (uint32_t)data[i] << 16;
		size_t rest = len - i;

		if (rest > 1)
			acc |= (uint32_t)data[i + 1] << 8;
		if (rest > 2)
			acc |= data[i + 2];
		strbuf_append_char(out, alphabet[(acc >> 18) & 63]);
		strbuf_append_char(out, alphabet[(acc >> 12) & 63]);
		strbuf_append_char(out, rest > 1 ? alphabet[(acc >> 6) & 63] : '=');
		strbuf_append_char(out, rest > 2 ? alphabet[acc & 63] : '=');
	}
}
