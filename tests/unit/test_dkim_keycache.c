/*
 * test_dkim_keycache.c - the process-wide cache of parsed key records
 * (mailauth/dkim_keycache.c).
 *
 * A record parsed twice is decoded once (good or bad), a key handed out
 * stays valid after its entry is evicted or the cache cleared, the cache
 * never holds more than DKIM_KEYCACHE_ENTRIES and drops the least
 * recently used first, records over DKIM_KEYCACHE_TEXT_MAX are never
 * kept, and threads share it. Ed25519 records are made from counters:
 * any 32 bytes are a public key OpenSSL will decode.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "common/strbuf.h"
#include "mailauth/dkim_keycache.h"
#include "unit.h"

/* An Ed25519 record whose key bytes encode n. */
static void record(unsigned n, char *out, size_t outlen)
{
	unsigned char raw[32] = { 0 }, b64[48];

	raw[0] = (unsigned char)n;
	raw[1] = (unsigned char)(n >> 8);
	raw[2] = (unsigned char)(n >> 16);
	EVP_EncodeBlock(b64, raw, sizeof(raw));
	int len = snprintf(out, outlen, "v=DKIM1; k=ed25519; p=%s", (const char *)b64);
	assert_true(len > 0 && (size_t)len < outlen);
}

static struct dkim_keycache_stats stats(void)
{
	struct dkim_keycache_stats s;
	dkim_keycache_stats(&s);
	return s;
}

static void parse_ok(const char *txt, struct dkim_pubkey **key_r)
{
	const char *why = NULL;
	if (dkim_keycache_parse(txt, strlen(txt), key_r, &why) != 0)
		fail_msg("%s: %s", txt, why);
	assert_non_null(*key_r);
}

static void test_hit_and_miss(void **state)
{
	char txt[128];
	struct dkim_pubkey *a = NULL, *b = NULL;

	dkim_keycache_clear();
	record(1, txt, sizeof(txt));
	parse_ok(txt, &a);
	parse_ok(txt, &b);
	assert_int_equal(stats().misses, 1);
	assert_int_equal(stats().hits, 1);
	assert_int_equal(stats().entries, 1);
	assert_ptr_not_equal(a, b);			/* each caller its own struct */
	assert_ptr_equal(a->pkey, b->pkey);		/* one decoded key */
	assert_int_equal(b->type, DKIM_KEY_ED25519);
	assert_int_equal(b->bits, 256);
	dkim_pubkey_free(&a);
	dkim_keycache_clear();				/* b outlives its entry */
	assert_int_equal(stats().entries, 0);
	assert_int_equal(EVP_PKEY_get_bits(b->pkey), 256);
	dkim_pubkey_free(&b);
	assert_null(b);
}

/* A record that cannot be used is not decoded again either. */
static void test_bad_record(void **state)
{
	static const char revoked[] = "v=DKIM1; k=ed25519; p=";
	struct dkim_pubkey *key = NULL;
	const char *why1 = NULL, *why2 = NULL;

	dkim_keycache_clear();
	assert_int_equal(dkim_keycache_parse(revoked, strlen(revoked), &key, &why1), -1);
	assert_int_equal(dkim_keycache_parse(revoked, strlen(revoked), &key, &why2), -1);
	assert_null(key);
	assert_non_null(strstr(why1, "revoked"));
	assert_string_equal(why1, why2);
	assert_int_equal(stats().hits, 1);
	assert_int_equal(stats().misses, 1);

	/* the text is the key: one more space is another record */
	static const char spaced[] = "v=DKIM1;  k=ed25519; p=";
	assert_int_equal(dkim_keycache_parse(spaced, strlen(spaced), &key, &why1), -1);
	assert_int_equal(stats().misses, 2);
}

static void test_bounded_lru(void **state)
{
	char txt[128];
	struct dkim_pubkey *key = NULL;

	dkim_keycache_clear();
	for (unsigned i = 0; i < DKIM_KEYCACHE_ENTRIES; i++) {
		record(i, txt, sizeof(txt));
		parse_ok(txt, &key);
		dkim_pubkey_free(&key);
	}
	assert_int_equal(stats().entries, DKIM_KEYCACHE_ENTRIES);
	assert_int_equal(stats().evictions, 0);
	record(0, txt, sizeof(txt));			/* 0 is now the most recent */
	parse_ok(txt, &key);
	dkim_pubkey_free(&key);
	assert_int_equal(stats().hits, 1);
	for (unsigned i = DKIM_KEYCACHE_ENTRIES; i < DKIM_KEYCACHE_ENTRIES + 10; i++) {
		record(i, txt, sizeof(txt));
		parse_ok(txt, &key);
		dkim_pubkey_free(&key);
	}
	assert_int_equal(stats().entries, DKIM_KEYCACHE_ENTRIES);
	assert_int_equal(stats().evictions, 10);
	uint64_t misses = stats().misses;
	record(0, txt, sizeof(txt));			/* kept: used recently */
	parse_ok(txt, &key);
	dkim_pubkey_free(&key);
	assert_int_equal(stats().misses, misses);
	record(1, txt, sizeof(txt));			/* evicted: the oldest */
	parse_ok(txt, &key);
	dkim_pubkey_free(&key);
	assert_int_equal(stats().misses, misses + 1);
	dkim_keycache_clear();
}

static void test_long_record_not_kept(void **state)
{
	struct strbuf txt = STRBUF_INIT;
	char small[128];
	struct dkim_pubkey *key = NULL;

	dkim_keycache_clear();
	record(7, small, sizeof(small));
	strbuf_append_str(&txt, "v=DKIM1; n=");
	while (txt.len <= DKIM_KEYCACHE_TEXT_MAX)
		strbuf_append_str(&txt, "a long note ");
	strbuf_append_str(&txt, strstr(small, "; k="));
	for (int i = 0; i < 2; i++) {
		parse_ok(strbuf_str(&txt), &key);
		dkim_pubkey_free(&key);
	}
	assert_int_equal(stats().entries, 0);
	assert_int_equal(stats().hits, 0);
	strbuf_release(&txt);
}

/* Several threads over the same 50 records, as the milter's loops. */
static void *parse_many(void *arg)
{
	unsigned *ok = arg;
	char txt[128];

	for (unsigned round = 0; round < 20; round++)
		for (unsigned i = 0; i < 50; i++) {
			struct dkim_pubkey *key = NULL;
			const char *why;
			record(1000 + i, txt, sizeof(txt));
			if (dkim_keycache_parse(txt, strlen(txt), &key, &why) == 0 && key->bits == 256)
				(*ok)++;
			dkim_pubkey_free(&key);
		}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t threads[4];
	unsigned ok[4] = { 0 };

	dkim_keycache_clear();
	for (size_t i = 0; i < N_ELEMENTS(threads); i++)
		assert_int_equal(pthread_create(&threads[i], NULL, parse_many, &ok[i]), 0);
	for (size_t i = 0; i < N_ELEMENTS(threads); i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(ok[i], 20 * 50);
	}
	struct dkim_keycache_stats s = stats();
	assert_int_equal(s.hits + s.misses, 4 * 20 * 50);
	assert_int_equal(s.entries, 50);
	assert_true(s.misses >= 50 && s.misses <= 4 * 50);	/* a race parses twice, at worst */
	dkim_keycache_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_miss),
		cmocka_unit_test(test_bad_record),
		cmocka_unit_test(test_bounded_lru),
		cmocka_unit_test(test_long_record_not_kept),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
