/*
 * redis.h - Redis client for threaded programs (the milter), on hiredis.
 *
 * A small pool of connections shared by all threads. A command either gets
 * a reply within redis.command_timeout or NULL at once: while Redis is down
 * the pool does not wait on it, it retries with a backoff (doubling up to
 * redis.reconnect_max) and logs the outage once, not once per command.
 * Callers decide what NULL means for their check (greylisting fails open).
 */
#ifndef LIMRISTEM_REDIS_H
#define LIMRISTEM_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/settings.h"

struct redis;

/* Reads the password file now; connects on first use. NULL with err on a
 * bad setting (no address, unreadable password file). */
struct redis *redis_new(const struct redis_settings *settings, char *err, size_t errlen);
void redis_free(struct redis **redis);

/* A reply (REDIS_REPLY_ERROR included) the caller frees with
 * redis_reply_free(), or NULL when Redis is unavailable or too slow. */
redisReply *redis_command(struct redis *redis, const char *fmt, ...);
redisReply *redis_command_argv(struct redis *redis, int argc, const char **argv,
			       const size_t *argvlen);
void redis_reply_free(redisReply **reply);
/* redis_command_argv() as a rep_command_fn (reputation.h): redis is the
 * struct redis *. */
redisReply *redis_pool_command(void *redis, int argc, const char **argv, const size_t *lens);

/* True when the last attempt to reach Redis succeeded. */
bool redis_is_up(struct redis *redis);
const char *redis_key_prefix(const struct redis *redis);

#endif
