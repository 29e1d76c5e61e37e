/*
 * srs.c - SRS0/SRS1 addresses: build, parse, check hash and age.
 *
 * Every function returns SRS_OK or one of the other srs_result codes; on
 * an error the output buffer holds an empty string.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "srs/srs.h"

#define SRS_DAY 86400
#define SRS_TIME_BITS 5
#define SRS_PART_SEP '='

static const char time_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char hash_chars_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hash_chars_classic[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *srs_result_text(int result)
{
	switch (result) {
	case SRS_OK: return "ok";
	case SRS_NOT_REWRITTEN: return "already in the SRS domain";
	case SRS_NOT_SRS: return "not an SRS address";
	case SRS_E_NO_DOMAIN: return "no domain";
	case SRS_E_SYNTAX: return "malformed SRS address";
	case SRS_E_HASH_SHORT: return "hash too short";
	case SRS_E_HASH: return "bad hash";
	case SRS_E_TIMESTAMP: return "bad timestamp";
	case SRS_E_EXPIRED: return "timestamp expired";
	case SRS_E_TOO_LONG: return "address too long";
	default: return "unknown error";
	}
}

static bool is_separator(char c)
{
	return c == '=' || c == '+' || c == '-';
}

/* "SRS0=" or "SRS1+" ...: tag is '0' or '1'. */
static bool has_tag(const char *local, char tag)
{
	return strncasecmp(local, "SRS", 3) == 0 && local[3] == tag && is_separator(local[4]);
}

bool srs_is_srs_address(const char *address)
{
	return has_tag(address, '0') || has_tag(address, '1');
}

void srs_timestamp(int64_t now, char out[3])
{
	int64_t days = now / SRS_DAY;

	out[1] = time_chars[days & 31];
	out[0] = time_chars[(days >> SRS_TIME_BITS) & 31];
	out[2] = '\0';
}

int srs_timestamp_check(const char *stamp, size_t len, int64_t now, unsigned max_age_days)
{
	int64_t then = 0, today = (now / SRS_DAY) % SRS_TIME_SLOTS;

	if (len != 2)
		return SRS_E_TIMESTAMP;
	for (size_t i = 0; i < 2; i++) {
		const char *p = strchr(time_chars, toupper((unsigned char)stamp[i]));
		if (p == NULL || *p == '\0')
			return SRS_E_TIMESTAMP;
		then = (then << SRS_TIME_BITS) | (p - time_chars);
	}
	/* The stamp counts days modulo 1024: a stamp "ahead" of today is from
	 * the previous cycle. */
	while (today < then)
		today += SRS_TIME_SLOTS;
	return today <= then + (int64_t)max_age_days ? SRS_OK : SRS_E_EXPIRED;
}

void srs_hash(const struct srs *srs, size_t secret_index, const char *const *parts,
	      size_t count, char *out)
{
	unsigned char data[SRS_ADDRESS_MAX * 2], digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	const char *secret = srs->secrets[secret_index];
	size_t len = 0;

	for (size_t i = 0; i < count; i++) {
		for (const char *p = parts[i]; *p != '\0' && len < sizeof(data); p++)
			data[len++] = (unsigned char)tolower((unsigned char)*p);
	}
	const char *chars = srs->classic_base64 ? hash_chars_classic : hash_chars_url;

	HMAC(EVP_sha1(), secret, (int)strlen(secret), data, len, digest, &digest_len);
	/* base64, most significant bits first, hash_length characters */
	for (unsigned i = 0; i < srs->hash_length; i++) {
		unsigned bit = i * 6, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)digest[byte] << 8 | (byte + 1 < digest_len ? digest[byte + 1] : 0);
		out[i] = chars[(v >> (10 - shift)) & 63];
	}
	out[srs->hash_length] = '\0';
}

/* Maps a base64 character of either alphabet to one form, or 0. */
static char hash_canonical(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return c;
	if (c == '+' || c == '-')
		return '-';
	if (c == '/' || c == '_')
		return '_';
	return 0;
}

bool srs_hash_equivalent(const char *a, const char *b, size_t len)
{
	int diff = 0;

	/* Constant time over len: no early exit. */
	for (size_t i = 0; i < len; i++) {
		char x = hash_canonical(a[i]), y = hash_canonical(b[i]);
		diff |= (x ^ y) | (x == 0) | (y == 0);
	}
	return diff == 0;
}

static int hash_check(const struct srs *srs, const char *given, size_t given_len,
		      const char *const *parts, size_t count)
{
	char expected[SRS_HASH_LENGTH_MAX + 1];
	size_t len = given_len < srs->hash_length ? given_len : srs->hash_length;

	if (given_len < srs->hash_min)
		return SRS_E_HASH_SHORT;
	for (size_t i = 0; i < srs->secret_count; i++) {
		srs_hash(srs, i, parts, count, expected);
		if (srs_hash_equivalent(given, expected, len))
			return SRS_OK;
	}
	return SRS_E_HASH;
}

static int finish(int n, char *out, size_t outlen)
{
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return SRS_E_TOO_LONG;
	}
	return SRS_OK;
}

/* Splits "a=b=rest" into count parts at the first count-1 '=' characters;
 * every part must be non-empty. The parts are copied into buf. */
static bool split_parts(const char *s, char *buf, size_t buflen, char **parts, size_t count)
{
	size_t len = strlen(s);

	if (len >= buflen)
		return false;
	memcpy(buf, s, len + 1);
	parts[0] = buf;
	for (size_t i = 1; i < count; i++) {
		char *sep = strchr(parts[i - 1], SRS_PART_SEP);
		if (sep == NULL)
			return false;
		*sep = '\0';
		parts[i] = sep + 1;
	}
	for (size_t i = 0; i < count; i++)
		if (parts[i][0] == '\0')
			return false;
	return true;
}

/* user@host -> SRS0=HHHH=TT=host=user@domain */
static int forward_srs0(const struct srs *srs, const char *user, const char *host,
			const char *domain, int64_t now, char *out, size_t outlen)
{
	char stamp[3], hash[SRS_HASH_LENGTH_MAX + 1];

	srs_timestamp(now, stamp);
	srs_hash(srs, 0, (const char *const[]){ stamp, host, user }, 3, hash);
	return finish(snprintf(out, outlen, "SRS0%c%s=%s=%s=%s@%s", srs->separator, hash, stamp,
			       host, user, domain), out, outlen);
}

/* The next forwarder of an SRS address keeps the first forwarder's host
 * and SRS0 part, so the chain does not grow (SRS1). */
static int forward_srs1(const struct srs *srs, const char *srs_host, const char *srs_user,
			const char *domain, char *out, size_t outlen)
{
	char hash[SRS_HASH_LENGTH_MAX + 1];

	srs_hash(srs, 0, (const char *const[]){ srs_host, srs_user }, 2, hash);
	return finish(snprintf(out, outlen, "SRS1%c%s=%s=%s@%s", srs->separator, hash, srs_host,
			       srs_user, domain), out, outlen);
}

int srs_forward(const struct srs *srs, const char *sender, const char *srs_domain,
		int64_t now, char *out, size_t outlen)
{
	char user[SRS_ADDRESS_MAX], buf[SRS_ADDRESS_MAX];
	const char *at = strrchr(sender, '@'), *host;
	char *parts[3];
	size_t user_len;

	out[0] = '\0';
	if (at == NULL || at == sender || at[1] == '\0')
		return SRS_E_NO_DOMAIN;
	host = at + 1;
	if (strcasecmp(host, srs_domain) == 0)
		return SRS_NOT_REWRITTEN;
	user_len = (size_t)(at - sender);
	if (user_len >= sizeof(user))
		return SRS_E_TOO_LONG;
	memcpy(user, sender, user_len);
	user[user_len] = '\0';
	/* SRS1=HHH=host=rest: keep host and rest, new hash. */
	if (has_tag(user, '1') && split_parts(user + 5, buf, sizeof(buf), parts, 3))
		return forward_srs1(srs, parts[1], parts[2], srs_domain, out, outlen);
	/* SRS0<sep>rest@host: host is the first forwarder, "<sep>rest" its part. */
	if (has_tag(user, '0') && split_parts(user + 5, buf, sizeof(buf), parts, 3))
		return forward_srs1(srs, host, user + 4, srs_domain, out, outlen);
	/* Anything else, malformed SRS look-alikes included, is an ordinary
	 * address: refusing it would only delay the mail. */
	return forward_srs0(srs, user, host, srs_domain, now, out, outlen);
}

static int reverse_srs0(const struct srs *srs, const char *local, int64_t now,
			char *out, size_t outlen)
{
	char buf[SRS_ADDRESS_MAX];
	char *p[4];	/* hash, stamp, host, user */
	int r;

	if (!split_parts(local + 5, buf, sizeof(buf), p, 4))
		return SRS_E_SYNTAX;
	r = srs_timestamp_check(p[1], strlen(p[1]), now, srs->max_age_days);
	if (r == SRS_OK)
		r = hash_check(srs, p[0], strlen(p[0]), (const char *const[]){ p[1], p[2], p[3] }, 3);
	if (r != SRS_OK)
		return r;
	return finish(snprintf(out, outlen, "%s@%s", p[3], p[2]), out, outlen);
}

static int reverse_srs1(const struct srs *srs, const char *local, char *out, size_t outlen)
{
	char buf[SRS_ADDRESS_MAX];
	char *p[3];	/* hash, host, "<sep>rest" of the SRS0 address */
	int r;

	if (!split_parts(local + 5, buf, sizeof(buf), p, 3) || !is_separator(p[2][0]) ||
	    p[2][1] == '\0')
		return SRS_E_SYNTAX;
	r = hash_check(srs, p[0], strlen(p[0]), (const char *const[]){ p[1], p[2] }, 2);
	if (r != SRS_OK)
		return r;
	return finish(snprintf(out, outlen, "SRS0%s@%s", p[2], p[1]), out, outlen);
}

int srs_reverse(const struct srs *srs, const char *address, int64_t now,
		char *out, size_t outlen)
{
	char local[SRS_ADDRESS_MAX];
	const char *at = strrchr(address, '@');
	size_t len = at != NULL ? (size_t)(at - address) : strlen(address);
	int r;

	out[0] = '\0';
	if (!srs_is_srs_address(address))
		return SRS_NOT_SRS;
	if (len >= sizeof(local))
		return SRS_E_TOO_LONG;
	memcpy(local, address, len);
	local[len] = '\0';
	r = has_tag(local, '0') ? reverse_srs0(srs, local, now, out, outlen)
				: reverse_srs1(srs, local, out, outlen);
	if (r != SRS_OK && outlen > 0)
		out[0] = '\0';
	return r;
}
