/*
 * wait.h - DNS and Redis questions asked from a fiber (fiber.h) and
 * answered by the event loop it runs on, while that loop serves other
 * connections.
 *
 * Each event loop thread registers its asynchronous clients once
 * (wait_loop_set). A check that runs in a fiber on such a thread asks
 * here and waits; the same call outside a fiber (unit tests, tools, the
 * checks at start-up) asks the blocking client it is given instead, so
 * the checks are written once, as plain sequences of questions.
 *
 * Each loop keeps the answers it got for their TTL (at most
 * WAIT_DNS_CACHE_MAX of them): most questions of a busy MX are asked again
 * within seconds (the same sender's SPF record, the same signer's key),
 * and an answer found here costs no round trip to the resolver's thread.
 */
#ifndef LIMRISTEM_MILTER_WAIT_H
#define LIMRISTEM_MILTER_WAIT_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "common/dns.h"

struct event_base;
struct redis;
struct redis_async;

#define WAIT_DNS_CACHE_MAX 2048	/* answers per loop: the hot names, not every one */
#define WAIT_DNS_CACHE_TTL_MAX_S 3600

struct wait_dns_cache;

struct wait_loop {
	struct event_base *base;
	struct dns *dns;		/* attached to base */
	struct redis_async *redis;	/* NULL without Redis */
	struct wait_dns_cache *cache;	/* made by the first question */
};

/* The calling thread's loop (NULL: none, every question blocks). */
void wait_loop_set(struct wait_loop *loop);
struct wait_loop *wait_loop_get(void);
/* Frees what the loop's questions kept (its DNS answers). */
void wait_loop_clear(struct wait_loop *loop);

/* The answer to name/type, by deadline_ms (monotonic; 0: the resolver's
 * own timeout only), to free with dns_answer_free(). Never NULL: a
 * deadline passed, a cancelled fiber or a failure is DNS_TEMPFAIL. */
struct dns_answer *wait_dns(struct dns *blocking, const char *name, enum dns_type type,
			    int64_t deadline_ms);

/* One Redis command (argv as for redisCommandArgv); the reply, to free
 * with freeReplyObject(), or NULL when Redis is down, slow or the fiber
 * was cancelled. */
redisReply *wait_redis(struct redis *blocking, int argc, const char **argv, const size_t *lens);

#endif
