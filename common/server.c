/*
 * server.c - libevent stream server: listeners, connections, deadlines,
 * shutdown (the rules are in server.h).
 *
 * Connections sit in one list ordered by their last activity (a complete
 * request or an answer), most recent first: the tail is the one to evict
 * at the cap. Each connection has one timer, armed lazily: activity only
 * moves timestamps, and the timer, when it fires, works out from them
 * whether a deadline has passed or when the next one is, so the request
 * path adds and removes no timer events.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/server.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define LISTENERS_MAX 16
#define ACCEPT_ERROR_PAUSE_MS 100
#define DROP_LOG_INTERVAL_MS (10 * 1000)
#define PEER_MAX 64
#define BATCH_KEEP (64 * 1024)	/* a batch buffer larger than this is freed after use */

struct server_conn {
	struct server *server;
	struct bufferevent *bev;
	struct event *timer;
	void *data;
	int holds;
	bool closing;		/* close once the output is sent */
	bool paused;		/* input not read until the output drains */
	bool in_handler;	/* inside on_input: freeing waits until it returns */
	bool yielded;		/* on_input left complete requests for its next turn */
	int64_t active_ms;	/* accepted, or the last request completed or answered */
	int64_t partial_ms;	/* the first byte of an unfinished request; 0: none */
	int64_t output_ms;	/* answers waiting since (or since they last drained); 0: none */
	int64_t timer_ms;	/* when the timer is due; 0: not armed */
	char peer[PEER_MAX];	/* for the log: "192.0.2.1:4711", "unix" */
	struct server_conn *prev, *next;	/* most recently active first */
};

struct server {
	struct event_base *base;
	const struct server_handler *handler;
	void *arg;
	struct server_limits limits;
	struct evconnlistener *listeners[LISTENERS_MAX];
	size_t listener_count;
	bool accepting;
	struct event *resume_timer;	/* after an accept error (out of descriptors) */
	struct server_conn *conns, *least_active;
	size_t conn_count;
	bool shutting_down;
	struct event *shutdown_timer;
	void (*shutdown_done)(void *arg);
	void *shutdown_arg;
	struct log_ratelimit accept_log;
	struct log_ratelimit drop_log[SERVER_CLOSE_REASON_COUNT];
	struct strbuf batch;		/* answers of the handler running now */
};

const char *server_close_reason_name(enum server_close_reason why)
{
	static const char *const names[SERVER_CLOSE_REASON_COUNT] = {
		"idle", "read_timeout", "write_timeout", "input_limit", "evicted", "refused",
	};

	return why < SERVER_CLOSE_REASON_COUNT ? names[why] : "?";
}

static void set_accepting(struct server *s, bool on)
{
	if (s->accepting == on)
		return;
	s->accepting = on;
	for (size_t i = 0; i < s->listener_count; i++) {
		if (on)
			evconnlistener_enable(s->listeners[i]);
		else
			evconnlistener_disable(s->listeners[i]);
	}
}

static void finish_shutdown(struct server *s)
{
	void (*done)(void *) = s->shutdown_done;

	if (done == NULL)
		return;
	s->shutdown_done = NULL;
	if (s->shutdown_timer != NULL)
		event_del(s->shutdown_timer);
	done(s->shutdown_arg);
}

/* --- the activity list ------------------------------------------------ */

static void list_unlink(struct server *s, struct server_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		s->least_active = c->prev;
	c->prev = c->next = NULL;
}

static void list_push_front(struct server *s, struct server_conn *c)
{
	c->prev = NULL;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	else
		s->least_active = c;
	s->conns = c;
}

/* A request completed or was answered. */
static void conn_active(struct server_conn *c, int64_t now)
{
	struct server *s = c->server;

	c->active_ms = now;
	if (s->conns != c) {
		list_unlink(s, c);
		list_push_front(s, c);
	}
}

/* --- closing ------------------------------------------------------------ */

static void conn_free(struct server_conn *c)
{
	struct server *s = c->server;

	if (s->handler->on_close != NULL)
		s->handler->on_close(c, s->arg);
	list_unlink(s, c);
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
	s->conn_count--;
	if (s->shutting_down && s->conn_count == 0)
		finish_shutdown(s);
}

/* Closes c now for why, counted. */
static void conn_drop(struct server_conn *c, enum server_close_reason why)
{
	struct server *s = c->server;

	if (s->handler->on_closed_for != NULL)
		s->handler->on_closed_for(why, s->arg);
	conn_free(c);
}

/* The same, with a line saying why (rate-limited per reason). */
static void conn_drop_logged(struct server_conn *c, enum server_close_reason why,
			     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void conn_drop_logged(struct server_conn *c, enum server_close_reason why,
			     const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);	/* a cut line is still a line */
	va_end(ap);
	log_ratelimited(&c->server->drop_log[why], LOG_LEVEL_WARNING,
			"server: closing the connection of client=%s: %s", c->peer, what);
	conn_drop(c, why);
}

static bool output_empty(const struct server_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

static size_t input_length(const struct server_conn *c)
{
	return evbuffer_get_length(bufferevent_get_input(c->bev));
}

/* Frees a closing connection once nothing is left to send or answer. */
static bool conn_free_if_done(struct server_conn *c)
{
	if (!c->closing || c->in_handler || c->holds > 0 || !output_empty(c))
		return false;
	conn_free(c);
	return true;
}

/* --- deadlines ------------------------------------------------------------ */

/* The earliest deadline of c (0: none) and what it is for. */
static int64_t conn_deadline(const struct server_conn *c, enum server_close_reason *why_r)
{
	const struct server_limits *l = &c->server->limits;
	int64_t at = 0, reading;

	if (c->output_ms != 0) {
		at = c->output_ms + l->write_timeout_ms;
		*why_r = SERVER_CLOSE_WRITE_TIMEOUT;
	}
	if (c->holds > 0 || c->closing)
		return at;	/* an answer is owed: the handler bounds that wait */
	/* idle with a request begun is a request too slow to come */
	reading = c->active_ms + l->idle_timeout_ms;
	if (c->partial_ms != 0 && c->partial_ms + l->read_timeout_ms < reading)
		reading = c->partial_ms + l->read_timeout_ms;
	if (at == 0 || reading < at) {
		at = reading;
		*why_r = c->partial_ms != 0 ? SERVER_CLOSE_READ_TIMEOUT : SERVER_CLOSE_IDLE;
	}
	return at;
}

/* Arms the timer if the next deadline comes before it would fire. */
static void conn_schedule(struct server_conn *c, int64_t now)
{
	enum server_close_reason why;
	int64_t at = conn_deadline(c, &why), wait;
	struct timeval tv;

	if (at == 0 || (c->timer_ms != 0 && c->timer_ms <= at))
		return;
	wait = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(c->timer, &tv);
	c->timer_ms = at;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct server_conn *c = arg;
	const struct server_limits *l = &c->server->limits;
	enum server_close_reason why = SERVER_CLOSE_IDLE;
	int64_t now = clock_monotonic_ms(), at;

	c->timer_ms = 0;
	at = conn_deadline(c, &why);
	if (at == 0 || at > now) {
		conn_schedule(c, now);
		return;
	}
	if (why == SERVER_CLOSE_READ_TIMEOUT)
		conn_drop_logged(c, why, "a request still not complete %lld ms after its first byte "
				 "(read_timeout %lld ms, idle_timeout %lld ms)",
				 (long long)(now - c->partial_ms), l->read_timeout_ms, l->idle_timeout_ms);
	else if (why == SERVER_CLOSE_WRITE_TIMEOUT)
		conn_drop_logged(c, why, "%zu bytes of answers not taken within %lld ms "
				 "(write_timeout)", evbuffer_get_length(bufferevent_get_output(c->bev)),
				 l->write_timeout_ms);
	else
		conn_drop(c, SERVER_CLOSE_IDLE);
}

/* --- input and output ------------------------------------------------------ */

/* What the handler did with the input: consuming means a request was
 * complete; what is left is the start of the next one. */
static void note_input(struct server_conn *c, size_t before, size_t after, int64_t now)
{
	if (after < before) {
		conn_active(c, now);
		c->partial_ms = after > 0 ? now : 0;
	} else if (after > 0 && c->partial_ms == 0) {
		c->partial_ms = now;
	}
}

/* With nothing queued, the reply goes straight to the socket: most answers
 * fit, and libevent then need not add and remove write interest (two
 * epoll_ctl calls) for every request. What does not fit is queued, and
 * from then on the client has write_timeout to take it. */
static void conn_send(struct server_conn *c, const void *data, size_t len)
{
	if (output_empty(c)) {
		ssize_t n = send(bufferevent_getfd(c->bev), data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == (ssize_t)len)
			return;
		if (n > 0) {
			data = (const char *)data + n;
			len -= (size_t)n;
		}
	}
	bufferevent_write(c->bev, data, len);
	if (c->output_ms == 0) {
		int64_t now = clock_monotonic_ms();

		c->output_ms = now;
		conn_schedule(c, now);
	}
}

/* What the handler wrote while it ran, in one system call. */
static void flush_batch(struct server_conn *c)
{
	struct strbuf *b = &c->server->batch;

	if (b->len == 0)
		return;
	conn_send(c, b->data, b->len);
	if (b->cap > BATCH_KEEP)
		strbuf_release(b);
	else
		strbuf_reset(b);
}

static void pause_reading(struct server_conn *c)
{
	/* The client sends faster than it reads: stop reading until half of
	 * what it owes us has gone out. */
	c->paused = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, SERVER_OUTPUT_MAX / 2, 0);
}

static void run_input(struct server_conn *c)
{
	struct server *s = c->server;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t before = evbuffer_get_length(in), after;
	int64_t now;

	if (c->closing || c->paused)
		return;
	c->in_handler = true;
	s->handler->on_input(c, in, s->arg);
	c->in_handler = false;
	flush_batch(c);
	if (conn_free_if_done(c))
		return;
	now = clock_monotonic_ms();
	after = evbuffer_get_length(in);
	note_input(c, before, after, now);
	if (c->yielded) {
		/* its next turn: after the callbacks that are ready now */
		c->yielded = false;
		if (!c->closing)
			bufferevent_trigger(c->bev, EV_READ,
					    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	} else if (!c->closing && c->holds == 0 && after >= s->limits.max_input) {
		conn_drop_logged(c, SERVER_CLOSE_INPUT_LIMIT, "%zu bytes without a complete request "
				 "(no request is that long)", after);
		return;
	}
	if (!c->closing && evbuffer_get_length(bufferevent_get_output(c->bev)) > SERVER_OUTPUT_MAX)
		pause_reading(c);
	conn_schedule(c, now);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	run_input(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct server_conn *c = arg;
	int64_t now = clock_monotonic_ms();

	/* drained to the watermark: the client is reading */
	c->output_ms = output_empty(c) ? 0 : now;
	if (c->closing) {
		conn_free_if_done(c);
		return;
	}
	if (c->paused) {
		c->paused = false;
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		bufferevent_enable(c->bev, EV_READ);
		run_input(c);
	}
}

/* Closes now if nothing is left to do, else after the output is sent. */
static void conn_finish(struct server_conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (!conn_free_if_done(c))
		conn_schedule(c, clock_monotonic_ms());
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct server_conn *c = arg;

	if (what & BEV_EVENT_ERROR)
		conn_free(c);
	else if (what & BEV_EVENT_EOF)
		conn_finish(c);	/* answer what was asked, then close */
}

/* --- accepting ------------------------------------------------------------- */

static void format_peer(const struct sockaddr *addr, int socklen, char out[PEER_MAX])
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (addr->sa_family == AF_INET && socklen >= (int)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, PEER_MAX, "%s:%u", host, (unsigned)ntohs(in->sin_port));
	} else if (addr->sa_family == AF_INET6 && socklen >= (int)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)addr;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, PEER_MAX, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
	} else {
		snprintf(out, PEER_MAX, "unix");
	}
}

/* The connection that has gone longest without a complete request and is
 * owed no answer, or NULL. */
static struct server_conn *eviction_candidate(const struct server *s)
{
	for (struct server_conn *c = s->least_active; c != NULL; c = c->prev)
		if (c->holds == 0 && !c->in_handler)
			return c;
	return NULL;
}

/* At the cap: make room for a new connection, or say there is none. */
static bool make_room(struct server *s, int64_t now)
{
	struct server_conn *victim = eviction_candidate(s);

	if (victim == NULL) {
		if (s->handler->on_closed_for != NULL)
			s->handler->on_closed_for(SERVER_CLOSE_REFUSED, s->arg);
		log_ratelimited(&s->drop_log[SERVER_CLOSE_REFUSED], LOG_LEVEL_WARNING,
				"server: %zu connections, the maximum, each waiting for its answer: "
				"refusing a new one", s->conn_count);
		return false;
	}
	conn_drop_logged(victim, SERVER_CLOSE_EVICTED, "%lld ms without a complete request, the "
			 "longest of the %zu connections (max_connections): making room for a new one",
			 (long long)(now - victim->active_ms), s->conn_count);
	return true;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
		      struct sockaddr *addr, int socklen, void *arg)
{
	struct server *s = arg;
	struct server_conn *c;
	int64_t now = clock_monotonic_ms();

	if (s->shutting_down || (s->conn_count >= s->limits.max_connections && !make_room(s, now))) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->server = s;
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	c->timer = evtimer_new(s->base, on_timer, c);
	format_peer(addr, socklen, c->peer);
	c->active_ms = now;
	list_push_front(s, c);
	s->conn_count++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, s->limits.max_input);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_schedule(c, now);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (!s->shutting_down)
		set_accepting(s, true);
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
	struct server *s = arg;
	struct timeval pause = { 0, ACCEPT_ERROR_PAUSE_MS * 1000 };

	log_ratelimited(&s->accept_log, LOG_LEVEL_WARNING, "server: accept: %s", strerror(errno));
	set_accepting(s, false);	/* out of descriptors, say: breathe */
	evtimer_add(s->resume_timer, &pause);
}

struct server *server_new(struct event_base *base, const struct server_handler *handler,
			  void *arg, const struct server_limits *limits)
{
	struct server *s = xcalloc(1, sizeof(*s));

	s->base = base;
	s->handler = handler;
	s->arg = arg;
	s->limits = *limits;
	s->accepting = true;
	s->resume_timer = evtimer_new(base, on_resume, s);
	s->accept_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
	for (int i = 0; i < SERVER_CLOSE_REASON_COUNT; i++)
		s->drop_log[i] = (struct log_ratelimit)LOG_RATELIMIT_INIT(DROP_LOG_INTERVAL_MS);
	return s;
}

void server_set_limits(struct server *s, const struct server_limits *limits)
{
	int64_t now = clock_monotonic_ms();

	s->limits = *limits;
	/* a shorter timeout may be due before the timers fire */
	for (struct server_conn *c = s->conns; c != NULL; c = c->next) {
		bufferevent_setwatermark(c->bev, EV_READ, 0, s->limits.max_input);
		c->timer_ms = 0;
		conn_schedule(c, now);
	}
}

int server_add_listener(struct server *s, int fd)
{
	struct evconnlistener *l;

	if (s->listener_count >= LISTENERS_MAX)
		return -1;
	l = evconnlistener_new(s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (l == NULL)
		return -1;
	evconnlistener_set_error_cb(l, on_accept_error);
	if (!s->accepting)
		evconnlistener_disable(l);
	s->listeners[s->listener_count++] = l;
	return 0;
}

size_t server_connection_count(const struct server *s)
{
	return s->conn_count;
}

/* Answers written from on_input() are gathered and sent when it returns
 * (a turn of pipelined requests costs one send, not one each). */
void server_conn_write(struct server_conn *c, const void *data, size_t len)
{
	if (c->in_handler)
		strbuf_append(&c->server->batch, data, len);
	else
		conn_send(c, data, len);
}

void server_conn_close_after_write(struct server_conn *c)
{
	conn_finish(c);
}

void server_conn_resume_input(struct server_conn *c)
{
	if (!c->in_handler)
		run_input(c);
}

void server_conn_yield(struct server_conn *c)
{
	c->yielded = true;
}

void server_conn_hold(struct server_conn *c)
{
	c->holds++;
}

/* The answer is out: that is activity, and a request that waited in the
 * input meanwhile starts its read_timeout now. */
void server_conn_release(struct server_conn *c)
{
	int64_t now;

	if (--c->holds > 0 || conn_free_if_done(c))
		return;
	now = clock_monotonic_ms();
	if (!c->closing) {
		conn_active(c, now);
		c->partial_ms = input_length(c) > 0 ? now : 0;
		if (c->partial_ms != 0 && !c->in_handler && !c->paused) {
			run_input(c);	/* schedules, or frees c */
			return;
		}
	}
	conn_schedule(c, now);
}

void server_conn_set_data(struct server_conn *c, void *data)
{
	c->data = data;
}

void *server_conn_data(const struct server_conn *c)
{
	return c->data;
}

static void on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	while (s->conns != NULL)
		conn_free(s->conns);
	finish_shutdown(s);
}

void server_shutdown(struct server *s, long long timeout_ms, void (*done)(void *arg), void *arg)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	s->shutting_down = true;
	s->shutdown_done = done;
	s->shutdown_arg = arg;
	for (size_t i = 0; i < s->listener_count; i++)
		evconnlistener_free(s->listeners[i]);
	s->listener_count = 0;
	for (struct server_conn *c = s->conns, *next; c != NULL; c = next) {
		next = c->next;
		conn_finish(c);
	}
	if (s->conn_count == 0) {
		finish_shutdown(s);
		return;
	}
	s->shutdown_timer = evtimer_new(s->base, on_shutdown_timeout, s);
	evtimer_add(s->shutdown_timer, &tv);
}

void server_free(struct server **sp)
{
	struct server *s = *sp;

	if (s == NULL)
		return;
	s->shutting_down = true;
	s->shutdown_done = NULL;
	while (s->conns != NULL)
		conn_free(s->conns);
	for (size_t i = 0; i < s->listener_count; i++)
		evconnlistener_free(s->listeners[i]);
	if (s->shutdown_timer != NULL)
		event_free(s->shutdown_timer);
	event_free(s->resume_timer);
	strbuf_release(&s->batch);
	free(s);
	*sp = NULL;
}
