/*
 * dkim_keycache.h - a process-wide cache of parsed DKIM key records.
 *
 * Decoding a public key is the dearest step of a DKIM or ARC verification
 * on OpenSSL 3.0 (setting up its decoders costs more than an RSA-2048
 * verification), and the same few records come back message after
 * message. So a record is parsed (dkim_pubkey_parse()) once and its
 * outcome kept, good or bad, keyed by the record's exact text: the text
 * decides everything about the key, so an entry never goes stale (DNS
 * freshness is the caller's lookup's business) and one record published
 * under several names is one entry.
 *
 * Bounded: DKIM_KEYCACHE_ENTRIES entries, least recently used out first;
 * records longer than DKIM_KEYCACHE_TEXT_MAX are parsed every time and
 * not kept. Thread-safe (one mutex, held for a hash lookup and a copy;
 * parsing happens outside it). A key handed out shares its EVP_PKEY with
 * the cache by reference count (EVP_PKEY_up_ref), so it stays valid
 * after its entry is evicted; OpenSSL lets any number of threads verify
 * with one EVP_PKEY at once.
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_KEYCACHE_H
#define LIMRISTEM_MAILAUTH_DKIM_KEYCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mailauth/dkim_pubkey.h"

#define DKIM_KEYCACHE_ENTRIES 1024
/* An RSA-8192 record (about 1400 characters) fits with room to spare. */
#define DKIM_KEYCACHE_TEXT_MAX 4096

/* As dkim_pubkey_parse(), answered from the cache when the same text was
 * parsed before. The key is the caller's, to free with dkim_pubkey_free(). */
int dkim_keycache_parse(const char *txt, size_t len, struct dkim_pubkey **key_r, const char **why_r);

struct dkim_keycache_stats {
	uint64_t hits;		/* answered without parsing */
	uint64_t misses;	/* parsed */
	uint64_t evictions;	/* entries dropped to make room */
	size_t entries;		/* entries now */
};

void dkim_keycache_stats(struct dkim_keycache_stats *stats_r);

/* Empties the cache and zeroes its counters (tests). Keys handed out
 * stay valid. */
void dkim_keycache_clear(void);

#endif
