/*
 * redis_connect.h - what both Redis clients need to reach a server: its
 * address, credentials and timeouts, copied out of the settings so that a
 * configuration reload cannot pull them from under a live client.
 */
#ifndef LIMRISTEM_REDIS_CONNECT_H
#define LIMRISTEM_REDIS_CONNECT_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <sys/time.h>

#include "common/endpoint.h"
#include "common/settings.h"

struct redis_target {
	struct endpoint address;
	char *username;
	char *password;		/* NULL: no AUTH */
	long long database;
	long long connect_timeout_ms;
	long long command_timeout_ms;
	long long reconnect_max_ms;
	char *key_prefix;
	char name[ENDPOINT_PATH_MAX + ENDPOINT_HOST_MAX + 16];	/* for log lines */
};

int redis_target_init(struct redis_target *t, const struct redis_settings *s,
		      char *err, size_t errlen);
void redis_target_clear(struct redis_target *t);
struct timeval redis_ms_to_timeval(long long ms);

/* Connects, authenticates and selects the database, blocking for at most
 * the timeouts. NULL with err on failure. */
redisContext *redis_target_connect(const struct redis_target *t, char *err, size_t errlen);

#endif
