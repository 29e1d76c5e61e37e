/*
 * reputation.h - reputation counters of the entities mail comes from, as
 * the milter, policyd and mailadm share them in Redis.
 *
 * An entity is a client IP, a client network, or a domain validated by
 * SPF or DKIM. Its counters (messages judged good, judged spam, refused)
 * decay with a half-life: a count made one half-life ago weighs half. In
 * Redis each entity is a hash under redis.key_prefix:
 *
 *   rep:TYPE:ENTITY   good bad rejected (decayed, as of t), t (wall
 *                     seconds), hl (the half-life, seconds), trap_hits
 *                     (policyd, networks), listed (policyd: blocklist
 *                     listings seen, IPs)
 *   learned:ID        "spam" or "ham": a message mailadm learn counted
 *
 * Updates run as one Lua script, so that nodes sharing a Redis never lose
 * each other's counts; reading decays in C with rep_decay().
 */
#ifndef LIMRISTEM_REPUTATION_H
#define LIMRISTEM_REPUTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "common/addr.h"

/* For entities written before the milter stored its settings with them. */
#define REP_DEFAULT_HALFLIFE_TEXT "1209600"	/* 14 days */
#define REP_DEFAULT_LIFETIME_TEXT "7776000"	/* 90 days */

/* What one message learned by a user (mailadm learn) weighs against one
 * the milter judged by itself. */
#define REP_LEARN_WEIGHT 5

enum rep_type { REP_IP, REP_NETWORK, REP_SPF_DOMAIN, REP_DKIM_DOMAIN };
#define REP_TYPE_COUNT 4

/* What the database calls each type: "ip", "network", "spf_domain", "dkim_domain". */
const char *rep_type_name(enum rep_type type);

struct rep_counters {
	double good, bad, rejected;	/* decayed to the time of reading */
	double trap_hits, listed;	/* policyd's marks, not decayed */
	bool known;			/* the entity has a record */
};

struct rep_delta {
	double good, bad, rejected;	/* may be negative: learning undoes a judgement */
};

/* value decayed over age_s seconds with the given half-life. */
double rep_decay(double value, int64_t age_s, int64_t halflife_s);

/* "PREFIXrep:TYPE:ENTITY"; -1 when it does not fit. */
int rep_key(const char *prefix, enum rep_type type, const char *entity, char *out, size_t outlen);
#define REP_KEY_MAX (64 + 24 + ADDR_DOMAIN_MAX)

/* How the functions below send one command and wait for its reply (NULL
 * when Redis is unavailable; freed with freeReplyObject()): the pool's
 * redis_command_argv() (redis_pool_command, ctx the struct redis *), or
 * the milter's event-loop client from a fiber. */
typedef redisReply *rep_command_fn(void *ctx, int argc, const char **argv, const size_t *lens);

/* Reads n entities' counters in one round trip, decayed to now. 0, or -1
 * when Redis is unavailable. */
int rep_redis_read(rep_command_fn *command, void *ctx, size_t n, const char *const keys[],
		   int64_t now_s, int64_t halflife_s, struct rep_counters counters_r[]);
/* Decays n entities' counters to now, adds delta to each (never below
 * zero) and keeps them lifetime_s more. halflife_s 0: the entity's own
 * (the milter stores it); lifetime_s 0: the entity's expiry stays. 0, or
 * -1 when Redis is unavailable. */
int rep_redis_add(rep_command_fn *command, void *ctx, size_t n, const char *const keys[],
		  const struct rep_delta *delta, int64_t now_s, int64_t halflife_s,
		  int64_t lifetime_s);

#endif
