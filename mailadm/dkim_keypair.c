/*
 * dkim_keypair.c - DKIM key generation and TXT records, on OpenSSL.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailadm/dkim_keypair.h"
#include "mailauth/dkim_pubkey.h"
#include "mailauth/dkim_tags.h"

#define TXT_STRING_MAX 255

static int base64(const unsigned char *data, size_t len, char *out, size_t outlen)
{
	if (4 * ((len + 2) / 3) + 1 > outlen)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return 0;
}

static int public_part(EVP_PKEY *pkey, bool ed25519, struct dkim_keypair *key)
{
	unsigned char raw[32], *der = NULL;
	size_t rawlen = sizeof(raw);
	int len, ret = -1;

	if (ed25519) {
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) == 1)
			ret = base64(raw, rawlen, key->public_b64, sizeof(key->public_b64));
		return ret;
	}
	len = i2d_PUBKEY(pkey, &der);
	if (len > 0)
		ret = base64(der, (size_t)len, key->public_b64, sizeof(key->public_b64));
	OPENSSL_free(der);
	return ret;
}

/* Creates path exclusively, mode 0640, group group; returns the stream. */
static FILE *create_key_file(const char *path, const char *group, char *err, size_t errlen)
{
	struct group *gr = getgrnam(group);
	int fd;

	if (gr == NULL) {
		snprintf(err, errlen, "the key group \"%s\" does not exist (mailadm.dkim_key_group)", group);
		return NULL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fchown(fd, (uid_t)-1, gr->gr_gid) < 0 || fchmod(fd, 0640) < 0) {
		snprintf(err, errlen, "%s: cannot give it to group %s: %s", path, group, strerror(errno));
		close(fd);
		unlink(path);
		return NULL;
	}
	return fdopen(fd, "w");
}

int dkim_keypair_generate(bool ed25519, unsigned bits, const char *path, const char *group,
		      struct dkim_keypair *key, char *err, size_t errlen)
{
	EVP_PKEY *pkey = ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
				 : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	FILE *fp;
	int ok;

	memset(key, 0, sizeof(*key));
	key->ed25519 = ed25519;
	key->bits = ed25519 ? 0 : bits;
	if (pkey == NULL || public_part(pkey, ed25519, key) < 0) {
		snprintf(err, errlen, "key generation failed");
		EVP_PKEY_free(pkey);
		return -1;
	}
	if ((fp = create_key_file(path, group, err, errlen)) == NULL) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	BIO *bio = BIO_new_fp(fp, BIO_NOCLOSE);
	ok = bio != NULL && (ed25519 ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
				     : PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL));
	BIO_free(bio);
	ok = fclose(fp) == 0 && ok == 1;
	EVP_PKEY_free(pkey);
	if (!ok) {
		snprintf(err, errlen, "%s: writing the key failed", path);
		unlink(path);
		return -1;
	}
	return 0;
}

void dkim_txt_record(const char *selector, const char *domain, bool ed25519, const char *public_b64,
		     struct strbuf *out)
{
	struct strbuf value = STRBUF_INIT;

	dkim_pubkey_record(&value, ed25519, public_b64);
	strbuf_appendf(out, "%s._domainkey.%s. IN TXT ( ", selector, domain);
	for (size_t i = 0; i < value.len; i += TXT_STRING_MAX)
		strbuf_appendf(out, "\"%.*s\" ", (int)(value.len - i < TXT_STRING_MAX ? value.len - i
						       : TXT_STRING_MAX), value.data + i);
	strbuf_append_str(out, ")");
	strbuf_release(&value);
}

/* The value of tag name in a parsed record, its white space removed
 * (RFC 6376 3.6.1: p= may be folded); NULL when absent. */
static char *tag_value(const struct dkim_tag_list *tags, const char *name)
{
	const struct dkim_tag *t = dkim_tags_find(tags, name);
	struct strbuf out = STRBUF_INIT;

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < t->value_len; i++)
		if (t->value[i] != ' ' && t->value[i] != '\t' && t->value[i] != '\r' &&
		    t->value[i] != '\n')
			strbuf_append_char(&out, t->value[i]);
	return strbuf_detach(&out);
}

const char *dkim_txt_matches(const char *record, bool ed25519, const char *public_b64)
{
	struct dkim_tag_list tags;
	const char *why = NULL;
	char *k, *p;

	if (dkim_tags_parse(record, strlen(record), &tags, &why) < 0)
		return why;
	k = tag_value(&tags, "k");
	p = tag_value(&tags, "p");
	if (p == NULL)
		why = "the record has no p= tag";
	else if (strcmp(p, public_b64) != 0)
		why = "its p= is another key";
	else if (strcmp(k ? k : "rsa", ed25519 ? "ed25519" : "rsa") != 0)
		why = ed25519 ? "its k= is not ed25519" : "its k= is not rsa";
	free(k);
	free(p);
	return why;
}
