/*
 * store.c - the milter's state in Redis or in memory (see store.h).
 *
 * In memory: a chained hash table (keyed hash, common/hash.h, so that
 * keys from the network cannot be made to collide) and a binary min-heap
 * of the same entries by expiry, under one mutex. An expired entry is
 * dropped when met; every insertion first drops up to EVICT_EACH expired
 * entries from the top of the heap, so expired entries leave faster than
 * new ones come, a full table with any expired entry has room, and no
 * insertion holds the lock for long. Nothing walks the table but its
 * growth: it starts with BUCKETS_MIN buckets and doubles when it holds as
 * many keys as buckets, up to the power of two at memory_state_max (at
 * most a handful of times in a daemon's life), so a milter whose state is
 * small keeps a small table in memory rather than a million buckets that
 * scattered keys would all touch. An insertion costs O(log n), amortized
 * over the doublings. A table full of live
 * entries refuses new keys: counted, logged, and the caller lets the
 * mail through.
 *
 * In Redis: every command through wait_redis(), so that a check running
 * in a fiber on an event loop waits for Redis without holding the loop
 * (elsewhere, the pool answers).
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/xalloc.h"
#include "milter/store.h"
#include "milter/wait.h"

#define BUCKETS_MIN 1024
#define EVICT_EACH 4			/* expired entries dropped by every insertion */

struct entry {
	struct entry *next, *prev;	/* in its bucket */
	size_t heap_at;			/* its index in the heap */
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
	size_t mask;			/* buckets - 1, a power of two less one */
	size_t buckets_max;		/* the table grows no further */
	struct entry **heap;		/* by expires_s, soonest first */
	size_t count, max;
	struct metric *full;		/* keys refused: the table was full */
	struct log_ratelimit full_log;
	struct metric *unavailable;	/* steps skipped: Redis did not answer */
	struct log_ratelimit down_log;
};

struct store *store_new(struct redis *redis, size_t memory_max, struct metrics *metrics)
{
	struct store *s = xcalloc(1, sizeof(*s));
	size_t buckets = BUCKETS_MIN;

	s->redis = redis;
	if (redis == NULL) {
		s->buckets_max = BUCKETS_MIN;
		while (s->buckets_max < memory_max && s->buckets_max < SIZE_MAX / 2)
			s->buckets_max *= 2;
		s->buckets = xcalloc(buckets, sizeof(*s->buckets));
		s->mask = buckets - 1;
		s->heap = xcalloc(memory_max > 0 ? memory_max : 1, sizeof(*s->heap));
		s->max = memory_max;
	}
	if (metrics != NULL)
		s->full = metrics_counter(metrics, "milter_state_full_total", NULL,
					  "greylisting or reputation keys not kept: the in-memory "
					  "state was full (memory_state_max)");
	s->full_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
	if (metrics != NULL)
		s->unavailable = metrics_counter(metrics, "milter_state_unavailable_total", NULL,
						 "greylisting or reputation steps skipped: Redis "
						 "did not answer");
	s->down_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
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
	for (size_t i = 0; i < s->count; i++)
		entry_free(s->heap[i]);
	free(s->heap);
	free(s->buckets);
	pthread_mutex_destroy(&s->lock);
	free(s);
	*sp = NULL;
}

void store_unavailable(struct store *s, const char *what)
{
	if (s->unavailable != NULL)
		metric_inc(s->unavailable);
	log_ratelimited(&s->down_log, LOG_LEVEL_ERROR, "milter: Redis unavailable: %s skipped, "
			"mail flows (and so until it is back)", what);
}

static redisReply *command(void *ctx, int argc, const char **argv, const size_t *lens)
{
	struct store *s = ctx;

	return wait_redis(s->redis, argc, argv, lens);
}

const char *store_prefix(const struct store *s)
{
	return s->redis != NULL ? redis_key_prefix(s->redis) : "";
}

/* --- the expiry heap (under lock) ---------------------------------------------- */

static void heap_put(struct store *s, size_t at, struct entry *e)
{
	s->heap[at] = e;
	e->heap_at = at;
}

static void sift_up(struct store *s, size_t at)
{
	struct entry *e = s->heap[at];

	while (at > 0 && s->heap[(at - 1) / 2]->expires_s > e->expires_s) {
		heap_put(s, at, s->heap[(at - 1) / 2]);
		at = (at - 1) / 2;
	}
	heap_put(s, at, e);
}

static void sift_down(struct store *s, size_t at)
{
	struct entry *e = s->heap[at];

	for (;;) {
		size_t child = 2 * at + 1;

		if (child >= s->count)
			break;
		if (child + 1 < s->count && s->heap[child + 1]->expires_s < s->heap[child]->expires_s)
			child++;
		if (s->heap[child]->expires_s >= e->expires_s)
			break;
		heap_put(s, at, s->heap[child]);
		at = child;
	}
	heap_put(s, at, e);
}

/* After e->expires_s changed. */
static void heap_fix(struct store *s, struct entry *e)
{
	sift_up(s, e->heap_at);
	sift_down(s, e->heap_at);
}

/* --- the table (under lock) ------------------------------------------------------- */

static size_t bucket_of(const struct store *s, const char *key)
{
	return (size_t)hash_bytes(key, strlen(key)) & s->mask;
}

/* Takes e out of its bucket and the heap, and frees it. */
static void drop(struct store *s, struct entry *e)
{
	size_t at = e->heap_at;

	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		s->buckets[bucket_of(s, e->key)] = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	s->count--;
	if (at < s->count) {
		heap_put(s, at, s->heap[s->count]);
		heap_fix(s, s->heap[at]);
	}
	entry_free(e);
}

/* Drops up to n expired entries, soonest expiry first. */
static void evict_expired(struct store *s, int64_t now_s, size_t n)
{
	while (n-- > 0 && s->count > 0 && s->heap[0]->expires_s <= now_s)
		drop(s, s->heap[0]);
}

/* The live entry of key; an expired one is dropped on the way. */
static struct entry *find(struct store *s, const char *key, int64_t now_s)
{
	for (struct entry *e = s->buckets[bucket_of(s, key)]; e != NULL; e = e->next) {
		if (strcmp(e->key, key) != 0)
			continue;
		if (e->expires_s > now_s)
			return e;
		drop(s, e);
		return NULL;
	}
	return NULL;
}

/* Twice the buckets, every entry moved to its bucket in the new table. */
static void grow(struct store *s)
{
	size_t old_count = s->mask + 1;
	struct entry **old = s->buckets;

	s->buckets = xcalloc(old_count * 2, sizeof(*s->buckets));
	s->mask = old_count * 2 - 1;
	for (size_t i = 0; i < old_count; i++) {
		while (old[i] != NULL) {
			struct entry *e = old[i];
			size_t b = bucket_of(s, e->key);

			old[i] = e->next;
			e->prev = NULL;
			e->next = s->buckets[b];
			if (e->next != NULL)
				e->next->prev = e;
			s->buckets[b] = e;
		}
	}
	free(old);
}

/* The entry of key, created (expiring now, for the caller to set) when
 * absent; NULL when the table is full of live entries. */
static struct entry *find_or_add(struct store *s, const char *key, int64_t now_s)
{
	struct entry *e = find(s, key, now_s);
	size_t b;

	if (e != NULL)
		return e;
	evict_expired(s, now_s, EVICT_EACH);
	if (s->count >= s->max) {
		if (s->full != NULL)
			metric_inc(s->full);
		log_ratelimited(&s->full_log, LOG_LEVEL_ERROR, "milter: in-memory state full (%zu "
				"keys, milter.memory_state_max): new senders are not greylisted and "
				"new reputation is not kept until keys expire", s->max);
		return NULL;
	}
	if (s->count > s->mask && s->mask + 1 < s->buckets_max)
		grow(s);
	b = bucket_of(s, key);
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->expires_s = now_s;
	e->next = s->buckets[b];
	if (e->next != NULL)
		e->next->prev = e;
	s->buckets[b] = e;
	heap_put(s, s->count, e);
	s->count++;
	sift_up(s, e->heap_at);
	return e;
}

static void set_expiry(struct store *s, struct entry *e, int64_t expires_s)
{
	e->expires_s = expires_s;
	heap_fix(s, e);
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
		r = command(s, (int)n + 1, argv, NULL);
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
		r = command(s, 5, (const char *[]){ "SET", key, value, "EX", ttl }, NULL);
		rc = r != NULL && r->type == REDIS_REPLY_STATUS ? 0 : -1;
		redis_reply_free(&r);
		return rc;
	}
	pthread_mutex_lock(&s->lock);
	if ((e = find_or_add(s, key, now)) != NULL) {
		free(e->value);
		e->value = xstrdup(value);
		set_expiry(s, e, now + ttl_s);
	}
	pthread_mutex_unlock(&s->lock);
	return e != NULL ? 0 : -1;
}

int store_rep_read(struct store *s, size_t n, const char *const keys[], int64_t now_s,
		   int64_t halflife_s, struct rep_counters counters_r[])
{
	memset(counters_r, 0, n * sizeof(*counters_r));
	if (s->redis != NULL)
		return rep_redis_read(command, s, n, keys, now_s, halflife_s, counters_r);
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
		return rep_redis_add(command, s, n, keys, delta, now_s, halflife_s, lifetime_s);
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
		set_expiry(s, e, clock_wall_s() + lifetime_s);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

size_t store_count(struct store *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}
