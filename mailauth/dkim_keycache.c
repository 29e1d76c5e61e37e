/*
 * dkim_keycache.c - the process-wide cache of parsed key records.
 *
 * A chained hash table (SipHash under the process's random key, so that
 * records a stranger publishes cannot be made to share a bucket) over
 * entries that also sit on a recency list, newest first. A hit moves its
 * entry to the front; an insertion into a full cache drops the entry at
 * the back. Everything is O(1) under one mutex; parsing a record and
 * freeing an evicted key happen outside it.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/xalloc.h"
#include "mailauth/dkim_keycache.h"

#define BUCKETS 2048			/* a power of two, twice the entries */

struct entry {
	struct entry *bucket_next;
	struct entry *newer, *older;	/* the recency list */
	uint64_t hash;
	struct dkim_pubkey *key;	/* NULL: the record is unusable, why says so */
	const char *why;
	size_t len;
	char text[];
};

static struct {
	pthread_mutex_t lock;
	struct entry *buckets[BUCKETS];
	struct entry *newest, *oldest;
	struct dkim_keycache_stats stats;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct entry **bucket_of(uint64_t hash)
{
	return &cache.buckets[hash & (BUCKETS - 1)];
}

static struct entry *find(uint64_t hash, const char *txt, size_t len)
{
	for (struct entry *e = *bucket_of(hash); e != NULL; e = e->bucket_next)
		if (e->hash == hash && e->len == len && memcmp(e->text, txt, len) == 0)
			return e;
	return NULL;
}

static void list_unlink(struct entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		cache.newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		cache.oldest = e->newer;
	e->newer = e->older = NULL;
}

static void list_push_newest(struct entry *e)
{
	e->older = cache.newest;
	e->newer = NULL;
	if (cache.newest != NULL)
		cache.newest->newer = e;
	cache.newest = e;
	if (cache.oldest == NULL)
		cache.oldest = e;
}

/* Takes e out of the table and the list; the caller frees it. */
static void unlink_entry(struct entry *e)
{
	struct entry **p = bucket_of(e->hash);

	while (*p != e)
		p = &(*p)->bucket_next;
	*p = e->bucket_next;
	list_unlink(e);
	cache.stats.entries--;
}

static void entry_free(struct entry *e)
{
	if (e == NULL)
		return;
	dkim_pubkey_free(&e->key);
	free(e);
}

/* The caller's own copy of e's outcome: 0 with a key sharing e's
 * EVP_PKEY, -1 with e's reason, or 1 when OpenSSL would not share it. */
static int copy_out(const struct entry *e, struct dkim_pubkey **key_r, const char **why_r)
{
	if (e->key == NULL) {
		*why_r = e->why;
		return -1;
	}
	if (EVP_PKEY_up_ref(e->key->pkey) != 1)
		return 1;
	struct dkim_pubkey *key = xmalloc(sizeof(*key));
	*key = *e->key;
	*key_r = key;
	return 0;
}

/* Looks txt up; 0 or -1 as dkim_keycache_parse(), 1 on a miss. */
static int lookup(uint64_t hash, const char *txt, size_t len, struct dkim_pubkey **key_r,
		  const char **why_r)
{
	int rc = 1;

	pthread_mutex_lock(&cache.lock);
	struct entry *e = find(hash, txt, len);
	if (e != NULL && (rc = copy_out(e, key_r, why_r)) != 1) {
		list_unlink(e);
		list_push_newest(e);
		cache.stats.hits++;
	} else {
		cache.stats.misses++;
	}
	pthread_mutex_unlock(&cache.lock);
	return rc;
}

/* Files a parse's outcome (key: the cache's own reference, or NULL). */
static void insert(uint64_t hash, const char *txt, size_t len, struct dkim_pubkey *key, const char *why)
{
	struct entry *e = xmalloc(sizeof(*e) + len), *evicted = NULL;

	e->hash = hash;
	e->key = key;
	e->why = why;
	e->len = len;
	memcpy(e->text, txt, len);
	pthread_mutex_lock(&cache.lock);
	if (find(hash, txt, len) != NULL) {	/* another thread was quicker */
		pthread_mutex_unlock(&cache.lock);
		entry_free(e);
		return;
	}
	if (cache.stats.entries == DKIM_KEYCACHE_ENTRIES) {
		evicted = cache.oldest;
		unlink_entry(evicted);
		cache.stats.evictions++;
	}
	e->bucket_next = *bucket_of(hash);
	*bucket_of(hash) = e;
	list_push_newest(e);
	cache.stats.entries++;
	pthread_mutex_unlock(&cache.lock);
	entry_free(evicted);
}

int dkim_keycache_parse(const char *txt, size_t len, struct dkim_pubkey **key_r, const char **why_r)
{
	*key_r = NULL;
	if (len > DKIM_KEYCACHE_TEXT_MAX)
		return dkim_pubkey_parse(txt, len, key_r, why_r);

	uint64_t hash = hash_bytes(txt, len);
	int rc = lookup(hash, txt, len, key_r, why_r);
	if (rc != 1)
		return rc;

	struct dkim_pubkey *own = NULL;
	const char *why = NULL;
	if (dkim_pubkey_parse(txt, len, &own, &why) < 0) {
		insert(hash, txt, len, NULL, why);
		*why_r = why;
		return -1;
	}
	struct dkim_pubkey *copy = xmalloc(sizeof(*copy));
	*copy = *own;
	if (EVP_PKEY_up_ref(own->pkey) != 1) {	/* cannot share: keep it out of the cache */
		free(copy);
		*key_r = own;
		return 0;
	}
	insert(hash, txt, len, own, NULL);
	*key_r = copy;
	return 0;
}

void dkim_keycache_stats(struct dkim_keycache_stats *stats_r)
{
	pthread_mutex_lock(&cache.lock);
	*stats_r = cache.stats;
	pthread_mutex_unlock(&cache.lock);
}

void dkim_keycache_clear(void)
{
	struct entry *all;

	pthread_mutex_lock(&cache.lock);
	all = cache.newest;
	memset(cache.buckets, 0, sizeof(cache.buckets));
	cache.newest = cache.oldest = NULL;
	memset(&cache.stats, 0, sizeof(cache.stats));
	pthread_mutex_unlock(&cache.lock);
	while (all != NULL) {
		struct entry *next = all->older;
		entry_free(all);
		all = next;
	}
}
