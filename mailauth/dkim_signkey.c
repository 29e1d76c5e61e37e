/*
 * dkim_signkey.c - loading a DKIM private key file (see dkim_signkey.h).
 *
 * The file is opened once and examined through its descriptor, so the
 * permission check and the read see the same file. Its bytes are wiped
 * from memory once parsed; an encrypted key is refused rather than
 * prompting for a passphrase on a terminal a daemon does not have.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/keyfile.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "mailauth/dkim_signkey.h"

/* Never asks for a passphrase: an encrypted key is simply unreadable. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Reads the whole file behind fd (at most DKIM_SIGNKEY_MAX_FILE_BYTES) into
 * buf; its length, or -1 with err set. */
static ssize_t read_key_file(int fd, const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
	struct stat st;
	const char *problem;
	size_t len = 0;

	if (fstat(fd, &st) < 0) {
		error_format(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((problem = keyfile_stat_problem(&st)) != NULL) {
		error_format(err, errlen, "%s: %s; a DKIM key file must be a regular file others can "
			"neither read nor write (chmod 0640, group mailkeys)", path, problem);
		return -1;
	}
	if ((size_t)st.st_size >= cap) {
		error_format(err, errlen, "%s: %lld bytes is too large for a key file (at most %zu)", path,
			(long long)st.st_size, cap - 1);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_format(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (n == 0 || (len += (size_t)n) == cap - 1)
			break;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

static EVP_PKEY *parse_pem(const char *buf, size_t len)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;

	BIO_free(bio);
	ERR_clear_error();
	return pkey;
}

/* Checks the key's type and size and fills key; 0, or -1 with err. */
static int classify(EVP_PKEY *pkey, const char *path, unsigned min_rsa_bits, struct dkim_signkey *key,
		    char *err, size_t errlen)
{
	int type = EVP_PKEY_get_base_id(pkey);

	if (type == EVP_PKEY_ED25519) {
		key->alg = DKIM_ALG_ED25519_SHA256;
		key->bits = 256;
		return 0;
	}
	if (type != EVP_PKEY_RSA) {
		const char *name = EVP_PKEY_get0_type_name(pkey);
		error_format(err, errlen, "%s: the key is of type %s; DKIM signs with RSA or Ed25519 keys", path,
			name != NULL ? name : "unknown");
		return -1;
	}
	key->alg = DKIM_ALG_RSA_SHA256;
	key->bits = (unsigned)EVP_PKEY_get_bits(pkey);
	if (key->bits < min_rsa_bits) {
		error_format(err, errlen, "%s: an RSA key of %u bits is too short (at least %u, RFC 8301)", path,
			key->bits, min_rsa_bits);
		return -1;
	}
	if (key->bits > DKIM_SIGNKEY_MAX_RSA_BITS) {
		error_format(err, errlen, "%s: an RSA key of %u bits is too long (at most %u)", path, key->bits,
			DKIM_SIGNKEY_MAX_RSA_BITS);
		return -1;
	}
	return 0;
}

/* One signature at load, so a key that cannot sign fails now, not on mail. */
static int test_signature(const struct dkim_signkey *key)
{
	static const unsigned char hash[32] = { 0 };
	unsigned char sig[DKIM_SIG_MAX_BYTES];

	return dkim_crypto_sign(key->pkey, key->alg, hash, sizeof(hash), sig, sizeof(sig)) > 0 ? 0 : -1;
}

static EVP_PKEY *load_pkey(const char *path, char *err, size_t errlen)
{
	char *buf = xmalloc(DKIM_SIGNKEY_MAX_FILE_BYTES + 1);
	EVP_PKEY *pkey = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	ssize_t len = -1;

	if (fd < 0)
		error_format(err, errlen, "%s: %s", path, strerror(errno));
	else
		len = read_key_file(fd, path, buf, DKIM_SIGNKEY_MAX_FILE_BYTES + 1, err, errlen);
	if (fd >= 0)
		close(fd);
	if (len >= 0 && (pkey = parse_pem(buf, (size_t)len)) == NULL)
		error_format(err, errlen, "%s: no unencrypted PEM private key in it (PKCS#1 or PKCS#8)", path);
	OPENSSL_cleanse(buf, DKIM_SIGNKEY_MAX_FILE_BYTES + 1);
	free(buf);
	return pkey;
}

int dkim_signkey_load(const char *path, unsigned min_rsa_bits, struct dkim_signkey **key_r,
		  char *err, size_t errlen)
{
	struct dkim_signkey *key;
	EVP_PKEY *pkey;

	*key_r = NULL;
	if (min_rsa_bits < DKIM_RSA_MIN_BITS_DEFAULT)
		min_rsa_bits = DKIM_RSA_MIN_BITS_DEFAULT;
	if ((pkey = load_pkey(path, err, errlen)) == NULL)
		return -1;
	key = xcalloc(1, sizeof(*key));
	key->pkey = pkey;
	key->path = xstrdup(path);
	if (classify(pkey, path, min_rsa_bits, key, err, errlen) < 0) {
		dkim_signkey_free(&key);
		return -1;
	}
	if (test_signature(key) < 0) {
		error_format(err, errlen, "%s: the key cannot make a signature", path);
		dkim_signkey_free(&key);
		return -1;
	}
	*key_r = key;
	return 0;
}

void dkim_signkey_free(struct dkim_signkey **key)
{
	if (*key == NULL)
		return;
	EVP_PKEY_free((*key)->pkey);
	free((*key)->path);
	free(*key);
	*key = NULL;
}
