/*
 * server.c - libevent stream server: listeners, connections, shutdown.
 */
#include "autoconfig.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "xalloc.h"

#define LISTENERS_MAX 16
#define ACCEPT_ERROR_PAUSE_MS 100

struct server_conn {
	struct server *server;
	struct bufferevent *bev;
	void *data;
	int holds;
	bool closing;		/* close once the output is sent */
	bool paused;		/* input not read until the output drains */
	bool in_handler;	/* inside on_input: freeing waits until it returns */
	struct server_conn *prev, *next;
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
	struct server_conn *conns;
	size_t conn_count;
	bool shutting_down;
	struct event *shutdown_timer;
	void (*shutdown_done)(void *arg);
	void *shutdown_arg;
	struct log_ratelimit accept_log;
};

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

static void conn_free(struct server_conn *c)
{
	struct server *s = c->server;

	if (s->handler->on_close != NULL)
		s->handler->on_close(c, s->arg);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
	s->conn_count--;
	if (s->shutting_down) {
		if (s->conn_count == 0)
			finish_shutdown(s);
	} else if (s->conn_count < s->limits.max_connections) {
		set_accepting(s, true);
	}
}

static bool output_empty(const struct server_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

/* Frees a closing connection once nothing is left to send or answer. */
static bool conn_free_if_done(struct server_conn *c)
{
	if (!c->closing || c->in_handler || c->holds > 0 || !output_empty(c))
		return false;
	conn_free(c);
	return true;
}

/* Closes now if nothing is left to do, else after the output is sent. */
static void conn_finish(struct server_conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	conn_free_if_done(c);
}

static void run_input(struct server_conn *c)
{
	struct server *s = c->server;
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (c->closing || c->paused)
		return;
	c->in_handler = true;
	s->handler->on_input(c, in, s->arg);
	c->in_handler = false;
	if (conn_free_if_done(c))
		return;
	if (!c->closing && evbuffer_get_length(bufferevent_get_output(c->bev)) > SERVER_OUTPUT_MAX) {
		/* The client sends faster than it reads: stop reading until
		 * half of what it owes us has gone out. */
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_setwatermark(c->bev, EV_WRITE, SERVER_OUTPUT_MAX / 2, 0);
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	run_input(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct server_conn *c = arg;

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

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct server_conn *c = arg;

	if (what & BEV_EVENT_TIMEOUT) {
		if (c->holds > 0 || c->paused) {	/* we owe an answer: not idle */
			if (!c->paused)
				bufferevent_enable(bev, EV_READ);
			return;
		}
		conn_free(c);
	} else if (what & BEV_EVENT_EOF) {
		conn_finish(c);	/* answer what was asked, then close */
	} else if (what & BEV_EVENT_ERROR) {
		conn_free(c);
	}
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
		      struct sockaddr *addr, int socklen, void *arg)
{
	struct server *s = arg;
	struct server_conn *c;
	struct timeval idle = { s->limits.idle_timeout_ms / 1000,
				(s->limits.idle_timeout_ms % 1000) * 1000 };

	if (s->shutting_down || s->conn_count >= s->limits.max_connections) {
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
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->conn_count++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (s->conn_count >= s->limits.max_connections) {
		log_ratelimited(&s->accept_log, LOG_LEVEL_WARNING,
				"server: %zu connections, the maximum: not accepting more for now",
				s->conn_count);
		set_accepting(s, false);
	}
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (!s->shutting_down && s->conn_count < s->limits.max_connections)
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
	return s;
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

/* With nothing queued, the reply goes straight to the socket: most answers
 * fit, and libevent then need not add and remove write interest (two
 * epoll_ctl calls) for every request. What does not fit is queued. */
void server_conn_write(struct server_conn *c, const void *data, size_t len)
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

void server_conn_hold(struct server_conn *c)
{
	c->holds++;
}

void server_conn_release(struct server_conn *c)
{
	c->holds--;
	conn_free_if_done(c);
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
	free(s);
	*sp = NULL;
}
