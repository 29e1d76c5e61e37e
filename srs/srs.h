/*
 * srs.h - Sender Rewriting Scheme (SRS0/SRS1) encode and decode.
 *
 * Pure functions over strings: no I/O, no globals, time passed in. The
 * scheme postsrsd 2.x (and libsrs2 before it) implements, so addresses
 * either generated keep working after a switch:
 *
 *   forward  user@host            -> SRS0=HHHH=TT=host=user@srs.domain
 *   forward  SRS0=HHHH=TT=h=u@fwd -> SRS1=GGGG=fwd==HHHH=TT=h=u@srs.domain
 *   reverse  does the opposite, after checking hash and age.
 *
 * HHHH is the start of base64(HMAC-SHA1(secret, lowercase(parts))); TT the
 * day number modulo 1024 in two base32 characters. Hashes are generated in
 * the base64url alphabet ('-' and '_', as postsrsd 2.x) or, on request, in
 * standard base64 ('+' and '/', as postsrsd 1.x and Mail::SRS, which cannot
 * reverse the other kind); they are verified case-insensitively and in
 * either alphabet.
 * The first secret signs; every secret verifies (rotation).
 */
#ifndef LIMRISTEM_SRS_H
#define LIMRISTEM_SRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRS_HASH_LENGTH_MAX 26		/* 160 bits of HMAC-SHA1 in base64 */
#define SRS_TIME_SLOTS 1024		/* two base32 characters of days */
#define SRS_MAX_AGE_DAYS_MAX (SRS_TIME_SLOTS - 1)
#define SRS_ADDRESS_MAX 1024		/* longest address we read or write */
#define SRS_SECRETS_MAX 64

enum srs_result {
	SRS_OK = 0,
	SRS_NOT_REWRITTEN = 1,	/* forward: the sender is already in the SRS domain */
	SRS_NOT_SRS = 2,	/* reverse: not an SRS address */
	SRS_E_NO_DOMAIN = -1,	/* the address has no @domain */
	SRS_E_SYNTAX = -2,	/* an SRS address with parts missing */
	SRS_E_HASH_SHORT = -3,	/* fewer hash characters than hash_min */
	SRS_E_HASH = -4,	/* the hash does not match any secret */
	SRS_E_TIMESTAMP = -5,	/* a character outside the base32 alphabet */
	SRS_E_EXPIRED = -6,	/* older than max_age_days */
	SRS_E_TOO_LONG = -7,	/* the result does not fit */
};

struct srs {
	const char *const *secrets;	/* the first one signs */
	size_t secret_count;
	unsigned hash_length;		/* characters generated, 1..26 */
	unsigned hash_min;		/* characters required when verifying */
	char separator;			/* '=', '+' or '-', after SRS0/SRS1 */
	bool classic_base64;		/* generate '+' and '/' instead of '-' and '_' */
	unsigned max_age_days;
};

int srs_forward(const struct srs *srs, const char *sender, const char *srs_domain,
		int64_t now, char *out, size_t outlen);
int srs_reverse(const struct srs *srs, const char *address, int64_t now,
		char *out, size_t outlen);
const char *srs_result_text(int result);

/* True for "SRS0=", "srs1+", ...: the prefix of an SRS local part. */
bool srs_is_srs_address(const char *address);

/* The pieces, for the unit tests. */
void srs_timestamp(int64_t now, char out[3]);
int srs_timestamp_check(const char *stamp, size_t len, int64_t now, unsigned max_age_days);
void srs_hash(const struct srs *srs, size_t secret_index, const char *const *parts,
	      size_t count, char *out);
bool srs_hash_equivalent(const char *a, const char *b, size_t len);

#endif
