/*
 * wait.c - questions from fibers, answered by their loop (see wait.h).
 *
 * A question on the loop keeps its state on the fiber's stack: the
 * asynchronous client's callback fills it in and wakes the fiber, which
 * looks again (a fiber may be woken for another reason) and goes back to
 * waiting until its answer is there, its deadline passed, or it was
 * cancelled; then it withdraws whatever is still outstanding.
 */
#include "autoconfig.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/redis.h"
#include "common/strset.h"
#include "common/strbuf.h"
#include "common/redis_async.h"
#include "common/xalloc.h"
#include "milter/fiber.h"
#include "milter/wait.h"

static __thread struct wait_loop *thread_loop;

void wait_loop_set(struct wait_loop *loop)
{
	thread_loop = loop;
}

struct wait_loop *wait_loop_get(void)
{
	return thread_loop;
}

/* --- the loop's DNS answers --------------------------------------------------- */

struct cached {
	struct dns_answer *answer;	/* NULL once replaced */
	int64_t expires_ms;
};

struct wait_dns_cache {
	struct strset *set;		/* "TYPE/name" -> struct cached */
	struct cached **all;		/* everything made since the last clear */
	size_t count, cap;
};

static void cache_clear(struct wait_dns_cache *c)
{
	for (size_t i = 0; i < c->count; i++) {
		dns_answer_free(&c->all[i]->answer);
		free(c->all[i]);
	}
	c->count = 0;
	strset_free(&c->set);
	c->set = strset_new();
}

void wait_loop_clear(struct wait_loop *loop)
{
	if (loop->cache == NULL)
		return;
	cache_clear(loop->cache);
	strset_free(&loop->cache->set);
	free(loop->cache->all);
	free(loop->cache);
	loop->cache = NULL;
}

static void cache_key(const char *name, enum dns_type type, struct strbuf *key)
{
	strbuf_appendf(key, "%d/", (int)type);
	for (const char *p = name; *p != '\0'; p++)
		strbuf_append_char(key, *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p);
}

static struct dns_answer *cache_get(struct wait_loop *loop, const struct strbuf *key)
{
	struct cached *e;

	if (loop->cache == NULL ||
	    (e = strset_get(loop->cache->set, key->data, key->len)) == NULL ||
	    e->answer == NULL || e->expires_ms <= clock_monotonic_ms())
		return NULL;
	return dns_answer_copy(e->answer);
}

/* Keeps a definite answer (records, no such name, no such records) for
 * its TTL; failures are never kept. */
static void cache_put(struct wait_loop *loop, const struct strbuf *key, const struct dns_answer *a)
{
	struct wait_dns_cache *c = loop->cache;
	struct cached *e, *old;
	uint32_t ttl = a->ttl < WAIT_DNS_CACHE_TTL_MAX_S ? a->ttl : WAIT_DNS_CACHE_TTL_MAX_S;

	if (ttl == 0 || (a->status != DNS_OK && a->status != DNS_NXDOMAIN && a->status != DNS_NODATA))
		return;
	if (c == NULL) {
		c = loop->cache = xcalloc(1, sizeof(*c));
		c->set = strset_new();
	}
	if (c->count >= WAIT_DNS_CACHE_MAX)
		cache_clear(c);		/* rare: answers come back within their TTL anyway */
	e = xmalloc(sizeof(*e));
	e->answer = dns_answer_copy(a);
	e->expires_ms = clock_monotonic_ms() + (int64_t)ttl * 1000;
	c->all = xgrow(c->all, &c->cap, c->count + 1, sizeof(*c->all));
	c->all[c->count++] = e;
	if ((old = strset_put(c->set, key->data, key->len, e)) != NULL)
		dns_answer_free(&old->answer);
}

/* --- DNS ---------------------------------------------------------------------- */

struct dns_wait {
	struct fiber *fiber;
	struct dns_answer *answer;
	bool timed_out;
};

static void dns_answered(const struct dns_answer *a, void *arg)
{
	struct dns_wait *w = arg;

	w->answer = dns_answer_copy(a);
	fiber_wake(w->fiber);
}

static void dns_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct dns_wait *w = arg;

	w->timed_out = true;
	fiber_wake(w->fiber);
}

struct dns_answer *wait_dns(struct dns *blocking, const char *name, enum dns_type type,
			    int64_t deadline_ms)
{
	struct fiber *f = fiber_current();
	struct dns_wait w = { f, NULL, false };
	struct event *timer = NULL;
	struct dns_query *q;
	struct strbuf key;

	if (deadline_ms > 0 && clock_monotonic_ms() >= deadline_ms)
		return dns_answer_failed(DNS_TEMPFAIL, "the message's DNS time budget is spent");
	if (f == NULL || thread_loop == NULL)
		return deadline_ms > 0 ? dns_lookup_until(blocking, name, type, deadline_ms)
				       : dns_lookup(blocking, name, type);
	strbuf_init(&key);
	cache_key(name, type, &key);
	if ((w.answer = cache_get(thread_loop, &key)) != NULL) {
		strbuf_release(&key);
		return w.answer;
	}
	q = dns_lookup_async(thread_loop->dns, name, type, dns_answered, &w);
	if (deadline_ms > 0) {
		int64_t ms = deadline_ms - clock_monotonic_ms();
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

		timer = evtimer_new(thread_loop->base, dns_deadline, &w);
		evtimer_add(timer, &tv);
	}
	while (w.answer == NULL && !w.timed_out && !fiber_cancelled(f))
		fiber_wait();
	if (timer != NULL)
		event_free(timer);
	if (w.answer == NULL) {
		dns_cancel(&q);
		strbuf_release(&key);
		return dns_answer_failed(DNS_TEMPFAIL, w.timed_out
					 ? "the message's DNS time budget is spent" : "cancelled");
	}
	cache_put(thread_loop, &key, w.answer);
	strbuf_release(&key);
	return w.answer;
}

/* --- Redis -------------------------------------------------------------------- */

/* hiredis frees an asynchronous reply after its callback: a deep copy
 * that freeReplyObject() frees. */
static redisReply *reply_copy(const redisReply *r)
{
	redisReply *c = xcalloc(1, sizeof(*c));

	c->type = r->type;
	c->integer = r->integer;
	switch (r->type) {
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		c->str = xmalloc(r->len + 1);
		memcpy(c->str, r->str, r->len);
		c->str[r->len] = '\0';
		c->len = r->len;
		break;
	case REDIS_REPLY_ARRAY:
		c->elements = r->elements;
		c->element = r->elements > 0 ? xcalloc(r->elements, sizeof(*c->element)) : NULL;
		for (size_t i = 0; i < r->elements; i++)
			c->element[i] = reply_copy(r->element[i]);
		break;
	default:
		break;
	}
	return c;
}

struct redis_wait {
	struct fiber *fiber;	/* NULL once the waiter is gone */
	bool done;
	redisReply *reply;
};

static void redis_answered(redisReply *reply, void *arg)
{
	struct redis_wait *w = arg;

	if (w->fiber == NULL) {		/* the fiber gave up (cancelled) */
		free(w);
		return;
	}
	w->reply = reply != NULL ? reply_copy(reply) : NULL;
	w->done = true;
	fiber_wake(w->fiber);
}

redisReply *wait_redis(struct redis *blocking, int argc, const char **argv, const size_t *lens)
{
	struct fiber *f = fiber_current();
	struct redis_wait *w;
	redisReply *reply;

	if (f == NULL || thread_loop == NULL || thread_loop->redis == NULL)
		return blocking != NULL ? redis_command_argv(blocking, argc, argv, lens) : NULL;
	/* on the heap: the callback may come after a cancelled fiber ended */
	w = xcalloc(1, sizeof(*w));
	w->fiber = f;
	if (redis_async_command_argv(thread_loop->redis, redis_answered, w, argc, argv, lens) < 0) {
		free(w);
		return NULL;	/* down: the caller's fail-open rule applies */
	}
	while (!w->done && !fiber_cancelled(f))
		fiber_wait();
	if (!w->done) {
		w->fiber = NULL;	/* the callback frees it */
		return NULL;
	}
	reply = w->reply;
	free(w);
	return reply;
}
