/*
 * redis_async.c - one pipelined hiredis connection in a libevent loop.
 *
 * States: DOWN (waiting for the backoff timer), CONNECTING (TCP/unix
 * connect, AUTH and SELECT in flight), UP. Only UP accepts commands.
 */
#include "autoconfig.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/redis_async.h"
#include "common/redis_connect.h"
#include "common/xalloc.h"

#define REDIS_BACKOFF_MIN_MS 50

enum ra_state { RA_DOWN, RA_CONNECTING, RA_UP };

struct redis_async {
	struct event_base *base;
	struct redis_target target;
	redisAsyncContext *ac;
	enum ra_state state;
	struct event *retry_timer;	/* reconnect after the backoff */
	struct event *connect_timer;	/* gives up on a slow connect */
	struct backoff backoff;
	bool was_up;
	bool freeing;
	struct log_ratelimit down_log;
};

struct pending {
	struct redis_async *ra;
	redis_async_callback *cb;
	void *arg;
	struct event *timer;
	bool answered;
};

static void connect_now(struct redis_async *ra);

/* Handshake steps, passed to on_handshake as privdata. */
static char step_auth[] = "AUTH", step_select[] = "SELECT", step_last[] = "last";

static void schedule_reconnect(struct redis_async *ra, const char *why)
{
	int64_t now = clock_monotonic_ms();
	struct timeval tv;

	ra->state = RA_DOWN;
	ra->ac = NULL;
	event_del(ra->connect_timer);
	if (ra->freeing)
		return;
	backoff_failed(&ra->backoff, now);
	if (ra->was_up)
		log_error("redis: %s unavailable: %s; reconnecting", ra->target.name, why);
	else
		log_ratelimited(&ra->down_log, LOG_LEVEL_WARNING, "redis: %s still unavailable: %s",
				ra->target.name, why);
	ra->was_up = false;
	tv = redis_ms_to_timeval(backoff_remaining(&ra->backoff, now));
	evtimer_add(ra->retry_timer, &tv);
}

static void became_up(struct redis_async *ra)
{
	event_del(ra->connect_timer);
	ra->state = RA_UP;
	backoff_succeeded(&ra->backoff);
	if (!ra->was_up)
		log_notice("redis: %s connected", ra->target.name);
	ra->was_up = true;
}

/* Reply to the last handshake command (AUTH or SELECT). */
static void on_handshake(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_async *ra = ac->data;
	redisReply *reply = r;
	const char *what = privdata;

	if (ra == NULL || reply == NULL)
		return;	/* the connection is going away; its owner knows */
	if (reply->type == REDIS_REPLY_STATUS) {
		if (privdata == step_last)
			became_up(ra);
		return;
	}
	log_error("redis: %s: %s failed: %s", ra->target.name,
		  what == step_last ? (ra->target.database != 0 ? step_select : step_auth) : what,
		  reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	redisAsyncDisconnect(ac);
}

static void on_connect(const redisAsyncContext *cac, int status)
{
	struct redis_async *ra = cac->data;
	redisAsyncContext *ac = ra->ac;
	const struct redis_target *t = &ra->target;
	bool auth = t->password != NULL, select = t->database != 0;

	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback */
		schedule_reconnect(ra, cac->errstr[0] ? cac->errstr : "connect failed");
		return;
	}
	if (auth && t->username[0] != '\0')
		redisAsyncCommand(ac, on_handshake, select ? step_auth : step_last, "AUTH %s %s",
				  t->username, t->password);
	else if (auth)
		redisAsyncCommand(ac, on_handshake, select ? step_auth : step_last, "AUTH %s",
				  t->password);
	if (select)
		redisAsyncCommand(ac, on_handshake, step_last, "SELECT %lld", t->database);
	if (!auth && !select)
		became_up(ra);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis_async *ra = ac->data;

	schedule_reconnect(ra, status == REDIS_OK ? "connection closed" : ac->errstr);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct redis_async *ra = arg;
	redisAsyncContext *ac = ra->ac;

	if (ra->state != RA_CONNECTING || ac == NULL)
		return;
	ra->ac = NULL;
	ac->data = NULL;
	redisAsyncSetDisconnectCallback(ac, NULL);
	redisAsyncFree(ac);	/* pending handshake callbacks see NULL replies */
	schedule_reconnect(ra, "connect timeout");
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	connect_now(arg);
}

static void connect_now(struct redis_async *ra)
{
	const struct endpoint *a = &ra->target.address;
	struct timeval tv = redis_ms_to_timeval(ra->target.connect_timeout_ms);
	redisAsyncContext *ac = a->kind == ENDPOINT_UNIX ? redisAsyncConnectUnix(a->path)
							 : redisAsyncConnect(a->host, a->port);

	if (ac == NULL || ac->err) {
		char why[128];
		snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "cannot allocate a connection");
		if (ac != NULL)
			redisAsyncFree(ac);
		schedule_reconnect(ra, why);
		return;
	}
	ac->data = ra;
	ra->ac = ac;
	ra->state = RA_CONNECTING;
	redisLibeventAttach(ac, ra->base);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	evtimer_add(ra->connect_timer, &tv);
}

struct redis_async *redis_async_new(struct event_base *base, const struct redis_settings *settings,
				    char *err, size_t errlen)
{
	struct redis_async *ra = xcalloc(1, sizeof(*ra));

	if (redis_target_init(&ra->target, settings, err, errlen) < 0) {
		redis_target_clear(&ra->target);
		free(ra);
		return NULL;
	}
	ra->base = base;
	ra->retry_timer = evtimer_new(base, on_retry, ra);
	ra->connect_timer = evtimer_new(base, on_connect_timeout, ra);
	backoff_init(&ra->backoff, REDIS_BACKOFF_MIN_MS, settings->reconnect_max_ms);
	ra->was_up = true;	/* the first failure is logged as an error */
	ra->down_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
	connect_now(ra);
	return ra;
}

void redis_async_free(struct redis_async **rap)
{
	struct redis_async *ra = *rap;

	if (ra == NULL)
		return;
	ra->freeing = true;
	if (ra->ac != NULL) {
		redisAsyncContext *ac = ra->ac;
		ra->ac = NULL;
		redisAsyncSetDisconnectCallback(ac, NULL);
		redisAsyncFree(ac);
	}
	event_free(ra->retry_timer);
	event_free(ra->connect_timer);
	redis_target_clear(&ra->target);
	free(ra);
	*rap = NULL;
}

/* --- commands ----------------------------------------------------------- */

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct pending *p = privdata;

	event_free(p->timer);
	if (!p->answered) {
		p->answered = true;
		p->cb(r, p->arg);
	}
	free(p);
}

static void on_command_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct redis_async *ra = p->ra;

	p->answered = true;
	p->cb(NULL, p->arg);
	/* Drop the connection now (a graceful disconnect would wait for the
	 * missing reply). hiredis calls on_reply with NULL for every pending
	 * command, p included, and on_disconnect schedules the reconnect. */
	if (ra->ac != NULL && ra->state == RA_UP) {
		log_warning("redis: %s: no reply within %lld ms; reconnecting", ra->target.name,
			    ra->target.command_timeout_ms);
		redisAsyncFree(ra->ac);
	}
}

static struct pending *pending_new(struct redis_async *ra, redis_async_callback *cb, void *arg)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->ra = ra;
	p->cb = cb;
	p->arg = arg;
	p->timer = evtimer_new(ra->base, on_command_timeout, p);
	return p;
}

static int pending_sent(struct redis_async *ra, struct pending *p, int status)
{
	struct timeval tv = redis_ms_to_timeval(ra->target.command_timeout_ms);

	if (status != REDIS_OK) {
		event_free(p->timer);
		free(p);
		return -1;
	}
	evtimer_add(p->timer, &tv);
	return 0;
}

int redis_async_command(struct redis_async *ra, redis_async_callback *cb, void *arg,
			const char *fmt, ...)
{
	struct pending *p;
	va_list ap;
	int status;

	if (ra->state != RA_UP)
		return -1;
	p = pending_new(ra, cb, arg);
	va_start(ap, fmt);
	status = redisvAsyncCommand(ra->ac, on_reply, p, fmt, ap);
	va_end(ap);
	return pending_sent(ra, p, status);
}

int redis_async_command_argv(struct redis_async *ra, redis_async_callback *cb, void *arg,
			     int argc, const char **argv, const size_t *argvlen)
{
	struct pending *p;

	if (ra->state != RA_UP)
		return -1;
	p = pending_new(ra, cb, arg);
	return pending_sent(ra, p, redisAsyncCommandArgv(ra->ac, on_reply, p, argc, argv, argvlen));
}

bool redis_async_is_up(const struct redis_async *ra)
{
	return ra->state == RA_UP;
}

const char *redis_async_key_prefix(const struct redis_async *ra)
{
	return ra->target.key_prefix;
}
