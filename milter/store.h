/*
 * store.h - where greylisting, reputation and trusted replies keep their
 * state: Redis (shared by every node) or, with no Redis configured, this
 * process's memory (a single node; lost on restart).
 *
 * Every call answers at once: -1 means the state is unavailable (Redis
 * down or too slow, memory full), and the caller lets mail through.
 * In memory, expired keys are evicted in expiry order at O(log n) per
 * insertion; a table full of live keys refuses new ones (counted in
 * milter_state_full_total, logged) rather than evict live state.
 * Expiry is by the wall clock (clock_wall_s), so that tests that move the
 * clock see keys expire in memory as they would in Redis.
 */
#ifndef LIMRISTEM_MILTER_STORE_H
#define LIMRISTEM_MILTER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/reputation.h"

struct metrics;
struct redis;
struct store;

/* redis NULL: in memory, at most memory_max keys. metrics: where to
 * count refused keys, or NULL. */
struct store *store_new(struct redis *redis, size_t memory_max, struct metrics *metrics);
void store_free(struct store **store);
/* A step skipped because the state did not answer: counted
 * (milter_state_unavailable_total) and logged, at most once a minute. */
void store_unavailable(struct store *store, const char *what);
/* The key prefix to put before every key ("" in memory). */
const char *store_prefix(const struct store *store);

/* values_r[i] is a copy the caller frees, or NULL when absent. */
int store_get(struct store *store, size_t n, const char *const keys[], char *values_r[]);
int store_set(struct store *store, const char *key, const char *value, int64_t ttl_s);
int store_rep_read(struct store *store, size_t n, const char *const keys[], int64_t now_s,
		   int64_t halflife_s, struct rep_counters counters_r[]);
int store_rep_add(struct store *store, size_t n, const char *const keys[],
		  const struct rep_delta *delta, int64_t now_s, int64_t halflife_s,
		  int64_t lifetime_s);
/* Keys held in memory, expired ones not yet evicted included. */
size_t store_count(struct store *store);

#endif
