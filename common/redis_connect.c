/*
 * redis_connect.c - Redis address, credentials and the blocking handshake.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/redis_connect.h"
#include "common/secret.h"
#include "common/xalloc.h"

struct timeval redis_ms_to_timeval(long long ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
	return tv;
}

int redis_target_init(struct redis_target *t, const struct redis_settings *s,
		      char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (s->address.kind == ENDPOINT_NONE) {
		snprintf(err, errlen, "redis: no address configured");
		return -1;
	}
	t->address = s->address;
	if (s->password_file[0] != '\0' &&
	    secret_read_file(s->password_file, &t->password, err, errlen) < 0)
		return -1;
	t->username = xstrdup(s->username);
	t->database = s->database;
	t->connect_timeout_ms = s->connect_timeout_ms;
	t->command_timeout_ms = s->command_timeout_ms;
	t->reconnect_max_ms = s->reconnect_max_ms;
	t->key_prefix = xstrdup(s->key_prefix);
	if (endpoint_format(&t->address, t->name, sizeof(t->name)) < 0)
		strcpy(t->name, "redis");
	return 0;
}

void redis_target_clear(struct redis_target *t)
{
	secret_free(&t->password);
	free(t->username);
	free(t->key_prefix);
	memset(t, 0, sizeof(*t));
}

static int expect_ok(redisContext *c, redisReply *reply, const char *what,
		     char *err, size_t errlen)
{
	int ok = reply != NULL && reply->type == REDIS_REPLY_STATUS;

	if (!ok)
		snprintf(err, errlen, "%s failed: %s", what,
			 reply == NULL ? c->errstr
			 : reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	freeReplyObject(reply);
	return ok ? 0 : -1;
}

redisContext *redis_target_connect(const struct redis_target *t, char *err, size_t errlen)
{
	struct timeval connect_tv = redis_ms_to_timeval(t->connect_timeout_ms);
	struct timeval command_tv = redis_ms_to_timeval(t->command_timeout_ms);
	redisContext *c;
	int ret = 0;

	if (t->address.kind == ENDPOINT_UNIX)
		c = redisConnectUnixWithTimeout(t->address.path, connect_tv);
	else
		c = redisConnectWithTimeout(t->address.host, t->address.port, connect_tv);
	if (c == NULL || c->err) {
		snprintf(err, errlen, "%s", c ? c->errstr : "cannot allocate a connection");
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, command_tv) != REDIS_OK) {
		snprintf(err, errlen, "cannot set the command timeout");
		redisFree(c);
		return NULL;
	}
	if (t->address.kind == ENDPOINT_TCP)
		redisEnableKeepAlive(c);
	if (t->password != NULL)
		ret = t->username[0] != '\0'
			? expect_ok(c, redisCommand(c, "AUTH %s %s", t->username, t->password), "AUTH", err, errlen)
			: expect_ok(c, redisCommand(c, "AUTH %s", t->password), "AUTH", err, errlen);
	if (ret == 0 && t->database != 0)
		ret = expect_ok(c, redisCommand(c, "SELECT %lld", t->database), "SELECT", err, errlen);
	if (ret < 0) {
		redisFree(c);
		return NULL;
	}
	return c;
}
