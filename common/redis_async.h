/*
 * redis_async.h - Redis client for a libevent loop (policyd, srsd), on hiredis.
 *
 * One connection, pipelined. A command is either refused at once (Redis is
 * down or still connecting: the caller applies its fail-open rule) or its
 * callback runs exactly once, with the reply or with NULL on timeout or
 * disconnect. A command that times out drops the connection, since a Redis
 * that does not answer in time is not healthy; the client reconnects by
 * itself with a backoff (doubling up to redis.reconnect_max).
 */
#ifndef LIMRISTEM_REDIS_ASYNC_H
#define LIMRISTEM_REDIS_ASYNC_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/settings.h"

struct event_base;
struct redis_async;

/* reply is NULL on failure; it is freed after the callback returns. */
typedef void redis_async_callback(redisReply *reply, void *arg);

struct redis_async *redis_async_new(struct event_base *base, const struct redis_settings *settings,
				    char *err, size_t errlen);
/* Callbacks of commands still pending run with NULL during the free. */
void redis_async_free(struct redis_async **ra);

/* 0 when the command was sent (cb will run), -1 when refused (cb will not). */
int redis_async_command(struct redis_async *ra, redis_async_callback *cb, void *arg,
			const char *fmt, ...);
int redis_async_command_argv(struct redis_async *ra, redis_async_callback *cb, void *arg,
			     int argc, const char **argv, const size_t *argvlen);

bool redis_async_is_up(const struct redis_async *ra);
const char *redis_async_key_prefix(const struct redis_async *ra);

#endif
