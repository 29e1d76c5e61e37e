/*
 * store.c - the milter's state in Redis or in memory (see store.h).
 *
 * In memory: a chained hash table under one mutex, expired entries
 * dropped when met and swept when the table is full.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "redis.h"
#include "store.h"
#include "xalloc.h"

#define BUCKETS 65536

struct entry {
	struct entry *next;
	char *key;
	char *value;			/* a string key */
	double rep[3];			/* a reputation: good, bad, rejected as of rep_t */
	int64_t rep_t;
	int64_t expires_s;
};

struct store {
	struct redis *redis;		/* not owned */
	pthread_mutex_t lock;
	struct entry **buckets;
	size_t count, max;
};

struct store *store_new(struct redis *redis, size_t memory_max)
{
	struct store *s = xcalloc(1, sizeof(*s));

	s->redis = redis;
	if (redis == NULL) {
		s->buckets = xcalloc(BUCKETS, sizeof(*s->buckets));
		s->max = memory_max;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

static void entry_free(struct entry *e)
{
	free(e->key);
	free(e->value);
	free(e);
}

void store_free(struct store **sp)
{
	struct store *s = *sp;

	if (s == NULL)
		return;
	for (size_t b = 0; s->buckets != NULL && b < BUCKETS; b++)
		for (struct entry *e = s->buckets[b], *next; e != NULL; e = next) {
			next = e->next;
			entry_free(e);
		}
	free(s->buckets);
	pthread_mutex_destroy(&s->lock);
	free(s);
	*sp = NULL;
}

const char *store_prefix(const struct store *s)
{
	return s->redis != NULL ? redis_key_prefix(s->redis) : "";
}

/* --- in memory (under lock) ------------------------------------------------------- */

static size_t bucket_of(const char *key)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % BUCKETS;
}

/* The live entry of key; an expired one is dropped on the way. */
static struct entry *find(struct store *s, const char *key, int64_t now_s)
{
	struct entry **link = &s->buckets[bucket_of(key)];

	for (struct entry *e = *link; e != NULL; link = &e->next, e = e->next) {
		if (strcmp(e->key, key) != 0)
			continue;
		if (e->expires_s > now_s)
			return e;
		*link = e->next;
		entry_free(e);
		s->count--;
		return NULL;
	}
	return NULL;
}

static void sweep(struct store *s, int64_t now_s)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct entry **link = &s->buckets[b], *e; (e = *link) != NULL; ) {
			if (e->expires_s > now_s) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			entry_free(e);
			s->count--;
		}
}

/* The entry of key, created when absent; NULL when the table is full. */
static struct entry *find_or_add(struct store *s, const char *key, int64_t now_s)
{
	struct entry *e = find(s, key, now_s);
	size_t b;

	if (e != NULL)
		return e;
	if (s->count >= s->max)
		sweep(s, now_s);
	if (s->count >= s->max)
		return NULL;
	b = bucket_of(key);
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->next = s->buckets[b];
	s->buckets[b] = e;
	s->count++;
	return e;
}

/* --- the interface ---------------------------------------------------------------- */

int store_get(struct store *s, size_t n, const char *const keys[], char *values_r[])
{
	int64_t now = clock_wall_s();

	for (size_t i = 0; i < n; i++)
		values_r[i] = NULL;
	if (s->redis != NULL) {
		const char *argv[1 + 8];
		redisReply *r;
		int rc = -1;

		if (n > 8)
			return -1;
		argv[0] = "MGET";
		memcpy(argv + 1, keys, n * sizeof(*keys));
		r = redis_command_argv(s->redis, (int)n + 1, argv, NULL);
		if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == n) {
			for (size_t i = 0; i < n; i++)
				if (r->element[i]->type == REDIS_REPLY_STRING)
					values_r[i] = xstrdup(r->element[i]->str);
			rc = 0;
		}
		redis_reply_free(&r);
		return rc;
	}
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = find(s, keys[i], now);

		if (e != NULL && e->value != NULL)
			values_r[i] = xstrdup(e->value);
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int store_set(struct store *s, const char *key, const char *value, int64_t ttl_s)
{
	int64_t now = clock_wall_s();
	struct entry *e;

	if (ttl_s < 1)
		ttl_s = 1;
	if (s->redis != NULL) {
		char ttl[24];
		redisReply *r;
		int rc;

		snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_s);
		r = redis_command_argv(s->redis, 5, (const char *[]){ "SET", key, value, "EX", ttl }, NULL);
		rc = r != NULL && r->type == REDIS_REPLY_STATUS ? 0 : -1;
		redis_reply_free(&r);
		return rc;
	}
	pthread_mutex_lock(&s->lock);
	if ((e = find_or_add(s, key, now)) != NULL) {
		free(e->value);
		e->value = xstrdup(value);
		e->expires_s = now + ttl_s;
	}
	pthread_mutex_unlock(&s->lock);
	return e != NULL ? 0 : -1;
}

int store_rep_read(struct store *s, size_t n, const char *const keys[], int64_t now_s,
		   int64_t halflife_s, struct rep_counters counters_r[])
{
	memset(counters_r, 0, n * sizeof(*counters_r));
	if (s->redis != NULL)
		return rep_redis_read(s->redis, n, keys, now_s, halflife_s, counters_r);
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = find(s, keys[i], clock_wall_s());

		if (e == NULL || e->value != NULL)
			continue;
		counters_r[i].good = rep_decay(e->rep[0], now_s - e->rep_t, halflife_s);
		counters_r[i].bad = rep_decay(e->rep[1], now_s - e->rep_t, halflife_s);
		counters_r[i].rejected = rep_decay(e->rep[2], now_s - e->rep_t, halflife_s);
		counters_r[i].known = true;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int store_rep_add(struct store *s, size_t n, const char *const keys[],
		  const struct rep_delta *delta, int64_t now_s, int64_t halflife_s,
		  int64_t lifetime_s)
{
	const double d[3] = { delta->good, delta->bad, delta->rejected };
	int rc = 0;

	if (s->redis != NULL)
		return rep_redis_add(s->redis, n, keys, delta, now_s, halflife_s, lifetime_s);
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = find_or_add(s, keys[i], clock_wall_s());

		if (e == NULL) {
			rc = -1;
			continue;
		}
		free(e->value);
		e->value = NULL;
		for (int k = 0; k < 3; k++) {
			double x = rep_decay(e->rep[k], now_s - e->rep_t, halflife_s) + d[k];
			e->rep[k] = x > 0 ? x : 0;
		}
		e->rep_t = now_s;
		e->expires_s = clock_wall_s() + lifetime_s;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
