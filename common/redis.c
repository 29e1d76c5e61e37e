/*
 * redis.c - pooled, thread-safe, self-healing Redis client.
 *
 * A thread takes a free connection, runs its command, and gives it back.
 * Before use, an idle connection is checked for a close by the server (a
 * restart, an idle timeout), so the first command after a Redis restart
 * goes out on a fresh connection instead of failing. A failure marks the
 * connection dead and starts the backoff; until it runs out, commands fail
 * at once.
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/redis.h"
#include "common/redis_connect.h"
#include "common/xalloc.h"

#define REDIS_BACKOFF_MIN_MS 50

struct redis_conn {
	redisContext *ctx;
	bool busy;
};

struct redis {
	struct redis_target target;
	pthread_mutex_t lock;
	pthread_cond_t freed;		/* a connection became free */
	struct redis_conn *conns;
	size_t count;
	struct backoff backoff;
	bool up;
	struct log_ratelimit down_log;
};

struct redis *redis_new(const struct redis_settings *settings, char *err, size_t errlen)
{
	struct redis *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t attr;

	if (redis_target_init(&r->target, settings, err, errlen) < 0) {
		redis_target_clear(&r->target);
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->freed, &attr);
	pthread_condattr_destroy(&attr);
	r->count = (size_t)settings->pool_size;
	r->conns = xcalloc(r->count, sizeof(struct redis_conn));
	backoff_init(&r->backoff, REDIS_BACKOFF_MIN_MS, settings->reconnect_max_ms);
	r->up = true;	/* until proven otherwise: the first failure is logged */
	r->down_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
	return r;
}

void redis_free(struct redis **redisp)
{
	struct redis *r = *redisp;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++)
		redisFree(r->conns[i].ctx);
	free(r->conns);
	pthread_cond_destroy(&r->freed);
	pthread_mutex_destroy(&r->lock);
	redis_target_clear(&r->target);
	free(r);
	*redisp = NULL;
}

/* True when the server closed an idle connection (EOF or error pending). */
static bool conn_is_stale(redisContext *c)
{
	char byte;
	ssize_t n;

	if (c->err)
		return true;
	n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void note_failure(struct redis *r, const char *why)
{
	pthread_mutex_lock(&r->lock);
	backoff_failed(&r->backoff, clock_monotonic_ms());
	bool was_up = r->up;
	r->up = false;
	pthread_mutex_unlock(&r->lock);
	if (was_up)
		log_error("redis: %s unavailable: %s; retrying every %lld ms at most",
			  r->target.name, why, (long long)r->target.reconnect_max_ms);
	else
		log_ratelimited(&r->down_log, LOG_LEVEL_WARNING, "redis: %s still unavailable: %s",
				r->target.name, why);
}

static void note_success(struct redis *r)
{
	pthread_mutex_lock(&r->lock);
	bool was_up = r->up;
	r->up = true;
	backoff_succeeded(&r->backoff);
	pthread_mutex_unlock(&r->lock);
	if (!was_up)
		log_notice("redis: %s reachable again", r->target.name);
}

/* Waits (at most one command timeout) for a free connection. */
static struct redis_conn *conn_acquire(struct redis *r)
{
	struct timespec deadline;
	struct redis_conn *conn = NULL;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += r->target.command_timeout_ms / 1000;
	deadline.tv_nsec += (r->target.command_timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&r->lock);
	for (;;) {
		if (!backoff_ready(&r->backoff, clock_monotonic_ms()))
			break;	/* down: fail fast */
		for (size_t i = 0; i < r->count && conn == NULL; i++)
			if (!r->conns[i].busy)
				conn = &r->conns[i];
		if (conn != NULL) {
			conn->busy = true;
			break;
		}
		if (pthread_cond_timedwait(&r->freed, &r->lock, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&r->lock);
	return conn;
}

static void conn_release(struct redis *r, struct redis_conn *conn)
{
	pthread_mutex_lock(&r->lock);
	conn->busy = false;
	pthread_cond_signal(&r->freed);
	pthread_mutex_unlock(&r->lock);
}

/* Makes conn usable: reconnects when it is missing or stale. */
static int conn_ready(struct redis *r, struct redis_conn *conn)
{
	char err[256];

	if (conn->ctx != NULL && !conn_is_stale(conn->ctx))
		return 0;
	redisFree(conn->ctx);
	conn->ctx = redis_target_connect(&r->target, err, sizeof(err));
	if (conn->ctx == NULL) {
		note_failure(r, err);
		return -1;
	}
	return 0;
}

static redisReply *run(struct redis *r, int argc, const char **argv, const size_t *argvlen,
		       const char *fmt, va_list *ap)
{
	struct redis_conn *conn = conn_acquire(r);
	redisReply *reply;

	if (conn == NULL)
		return NULL;
	if (conn_ready(r, conn) < 0) {
		conn_release(r, conn);
		return NULL;
	}
	reply = fmt != NULL ? redisvCommand(conn->ctx, fmt, *ap)
			    : redisCommandArgv(conn->ctx, argc, argv, argvlen);
	if (reply == NULL) {
		char why[128];
		snprintf(why, sizeof(why), "%s", conn->ctx->errstr[0] ? conn->ctx->errstr : "no reply");
		redisFree(conn->ctx);
		conn->ctx = NULL;
		note_failure(r, why);
	} else {
		note_success(r);
	}
	conn_release(r, conn);
	return reply;
}

redisReply *redis_command(struct redis *r, const char *fmt, ...)
{
	redisReply *reply;
	va_list ap;

	va_start(ap, fmt);
	reply = run(r, 0, NULL, NULL, fmt, &ap);
	va_end(ap);
	return reply;
}

redisReply *redis_command_argv(struct redis *r, int argc, const char **argv, const size_t *argvlen)
{
	return run(r, argc, argv, argvlen, NULL, NULL);
}

redisReply *redis_pool_command(void *redis, int argc, const char **argv, const size_t *lens)
{
	return redis_command_argv(redis, argc, argv, lens);
}

void redis_reply_free(redisReply **reply)
{
	if (*reply != NULL)
		freeReplyObject(*reply);
	*reply = NULL;
}

bool redis_is_up(struct redis *r)
{
	pthread_mutex_lock(&r->lock);
	bool up = r->up;
	pthread_mutex_unlock(&r->lock);
	return up;
}

const char *redis_key_prefix(const struct redis *r)
{
	return r->target.key_prefix;
}
