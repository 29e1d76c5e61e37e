/*
 * hash.c - SipHash-2-4 with a per-process random key (see hash.h),
 * written from the algorithm's description.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "common/hash.h"
#include "common/log.h"

static unsigned char process_key[16];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void key_init(void)
{
	if (getrandom(process_key, sizeof(process_key), 0) != (ssize_t)sizeof(process_key))
		log_fatal("hash: no random bytes for the hash key");
}

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* One SipRound over the state v[0..3]. */
static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

static void compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

uint64_t hash_siphash(const unsigned char key[16], const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
			  k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL };
	unsigned char last[8] = { 0 };
	size_t whole = len - len % 8;

	for (size_t i = 0; i < whole; i += 8)
		compress(v, load_le64(p + i));
	if (len % 8 != 0)
		memcpy(last, p + whole, len % 8);
	last[7] = (unsigned char)len;		/* the length modulo 256 in the last byte */
	compress(v, load_le64(last));
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t hash_bytes(const void *data, size_t len)
{
	pthread_once(&key_once, key_init);
	return hash_siphash(process_key, data, len);
}
