/*
 * dkim_pubkey.c - DKIM key record parsing.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/xalloc.h"
#include "mailauth/dkim_pubkey.h"
#include "mailauth/dkim_tags.h"

/* Room for the DER of an RSA-8192 SubjectPublicKeyInfo, with margin. */
#define PUBKEY_DER_MAX 2048
#define ED25519_KEY_BYTES 32

/* True when the colon-separated list in tag's value holds word
 * (case-insensitive; FWS around the items ignored). */
static bool list_has(const struct dkim_tag *tag, const char *word)
{
	size_t pos = 0, len, wlen = strlen(word);
	const char *item;

	while (dkim_tags_next_item(tag, &pos, &item, &len))
		if (len == wlen && strncasecmp(item, word, wlen) == 0)
			return true;
	return false;
}

static EVP_PKEY *decode_rsa(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);

	if (pkey == NULL) {		/* a bare PKCS#1 RSAPublicKey, as some publish */
		p = der;
		pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
	}
	if (pkey != NULL && (p != der + len || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	ERR_clear_error();
	return pkey;
}

/* Checks the tags that decide whether the key may be used at all. */
static int check_usable(const struct dkim_tag_list *tags, enum dkim_key_type *type_r,
			const char **why_r)
{
	const struct dkim_tag *v = dkim_tags_find(tags, "v"), *k = dkim_tags_find(tags, "k");
	const struct dkim_tag *h = dkim_tags_find(tags, "h"), *s = dkim_tags_find(tags, "s");

	if (v != NULL && (v != &tags->tags[0] || !dkim_tags_value_is(v, "DKIM1"))) {
		*why_r = v != &tags->tags[0] ? "v= is not the first tag" : "v= is not DKIM1";
		return -1;
	}
	*type_r = DKIM_KEY_RSA;
	if (k != NULL && k->value_len == 7 && strncasecmp(k->value, "ed25519", 7) == 0)
		*type_r = DKIM_KEY_ED25519;
	else if (k != NULL && !(k->value_len == 3 && strncasecmp(k->value, "rsa", 3) == 0)) {
		*why_r = "k= names an unknown key type";
		return -1;
	}
	if (h != NULL && !list_has(h, "sha256")) {
		*why_r = "h= does not allow sha256";
		return -1;
	}
	if (s != NULL && !list_has(s, "email") && !list_has(s, "*")) {
		*why_r = "s= does not allow email";
		return -1;
	}
	return 0;
}

static EVP_PKEY *decode_key(enum dkim_key_type type, const struct dkim_tag *p, const char **why_r)
{
	unsigned char der[PUBKEY_DER_MAX];
	ssize_t n = dkim_base64_decode(p->value, p->value_len, der, sizeof(der));
	EVP_PKEY *pkey = NULL;

	if (n < 0) {
		*why_r = "p= is not base64 or too long";
		return NULL;
	}
	if (type == DKIM_KEY_ED25519) {
		if (n == ED25519_KEY_BYTES)
			pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, (size_t)n);
		ERR_clear_error();
	} else {
		pkey = decode_rsa(der, (size_t)n);
	}
	if (pkey == NULL)
		*why_r = type == DKIM_KEY_ED25519 ? "p= is not an Ed25519 key" : "p= is not an RSA key";
	return pkey;
}

int dkim_pubkey_parse(const char *txt, size_t len, struct dkim_pubkey **key_r, const char **why_r)
{
	struct dkim_tag_list tags;
	enum dkim_key_type type;

	*key_r = NULL;
	if (dkim_tags_parse(txt, len, &tags, why_r) < 0 || check_usable(&tags, &type, why_r) < 0)
		return -1;
	const struct dkim_tag *p = dkim_tags_find(&tags, "p");
	if (p == NULL) {
		*why_r = "the record has no p=";
		return -1;
	}
	if (p->value_len == 0) {
		*why_r = "the key is revoked (empty p=)";
		return -1;
	}
	EVP_PKEY *pkey = decode_key(type, p, why_r);
	if (pkey == NULL)
		return -1;

	struct dkim_pubkey *key = xcalloc(1, sizeof(*key));
	const struct dkim_tag *t = dkim_tags_find(&tags, "t");
	key->type = type;
	key->pkey = pkey;
	key->bits = (unsigned)EVP_PKEY_get_bits(pkey);
	key->testing = t != NULL && list_has(t, "y");
	key->strict = t != NULL && list_has(t, "s");
	*key_r = key;
	return 0;
}

void dkim_pubkey_free(struct dkim_pubkey **key)
{
	if (*key == NULL)
		return;
	EVP_PKEY_free((*key)->pkey);
	free(*key);
	*key = NULL;
}

void dkim_pubkey_record(struct strbuf *out, bool ed25519, const char *public_b64)
{
	strbuf_appendf(out, "v=DKIM1; k=%s; p=%s", ed25519 ? "ed25519" : "rsa", public_b64);
}
