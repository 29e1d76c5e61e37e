/*
 * engine.c - event loops, connections and their buffers (see engine.h).
 *
 * A connection reads into its loop's scratch buffer (a chunk at a time, up
 * to a packet and a chunk in all), keeps in a buffer of its own only what
 * it has read, hands that to its session, writes the session's output
 * straight to the socket and asks for EV_WRITE only when the socket is
 * full. Hundreds of idle connections so hold next to nothing. While the filter is
 * busy with a command (pending) the connection reads at most one more
 * packet's worth and feeds nothing; the answer wakes it through an event
 * of its own, so that a reply never writes from inside the filter's call.
 */
#include "autoconfig.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "milter/engine.h"

#define LISTENERS_MAX 16
#define READ_CHUNK (64 * 1024)
/* A partial packet and one read beyond it. */
#define INPUT_MAX (MILTER_PACKET_DATA_MAX + 5 + READ_CHUNK)
/* An empty input buffer larger than this is given back. */
#define INPUT_KEEP (16 * 1024)
/* Replies waiting for a peer that does not read: stop taking commands. */
#define OUTPUT_MAX (256 * 1024)

struct loop;

struct conn {
	struct loop *loop;
	int fd;
	struct event *rd, *wr, *timer, *resume;
	bool want_write;
	bool closing;		/* close once the output is written */
	bool eof;		/* the peer sent all it will */
	struct milter_session *session;
	struct strbuf in;
	size_t accounted;	/* bytes of in counted against memory_max */
	struct conn *prev, *next;
};

struct loop {
	struct milter_engine *engine;
	size_t index;
	pthread_t thread;
	bool running;
	struct event_base *base;
	struct evconnlistener *listeners[LISTENERS_MAX];
	size_t listener_count;
	struct event *stop_event, *shutdown_timer;
	bool stopping;
	char scratch[READ_CHUNK];	/* every read of the loop's connections */
	void *filter_arg;
	struct conn *conns;
	size_t conn_count;
};

struct milter_engine {
	struct milter_engine_limits limits;
	const struct milter_filter *filter;
	struct milter_loop_hooks hooks;
	int listen_fds[LISTENERS_MAX];
	size_t listen_count;
	struct loop *loops;
	atomic_size_t connections;
	atomic_llong memory;
	struct event_base *control;
	struct log_ratelimit refuse_log, error_log;
};

/* --- memory --------------------------------------------------------------------------- */

void milter_engine_memory_add(struct milter_engine *e, long long bytes)
{
	atomic_fetch_add(&e->memory, bytes);
}

bool milter_engine_memory_full(const struct milter_engine *e)
{
	return atomic_load(&e->memory) >= (long long)e->limits.memory_max;
}

/* Counts the input buffer's capacity, giving a large one back once empty. */
static void account_input(struct conn *c)
{
	if (c->in.len == 0 && c->in.cap > INPUT_KEEP)
		strbuf_release(&c->in);
	milter_engine_memory_add(c->loop->engine, (long long)c->in.cap - (long long)c->accounted);
	c->accounted = c->in.cap;
}

/* --- connections ---------------------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	struct loop *l = c->loop;

	milter_session_free(&c->session);	/* the filter cancels what it waits for */
	event_free(c->rd);
	event_free(c->wr);
	event_free(c->timer);
	event_free(c->resume);
	close(c->fd);
	strbuf_release(&c->in);
	account_input(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	l->conn_count--;
	atomic_fetch_sub(&l->engine->connections, 1);
	if (l->stopping && l->conn_count == 0)
		event_base_loopexit(l->base, NULL);
}

static void set_interest(struct conn *c, bool read)
{
	if (read != (event_pending(c->rd, EV_READ, NULL) != 0)) {
		if (read)
			event_add(c->rd, NULL);
		else
			event_del(c->rd);
	}
	if (c->want_write != (event_pending(c->wr, EV_WRITE, NULL) != 0)) {
		if (c->want_write)
			event_add(c->wr, NULL);
		else
			event_del(c->wr);
	}
}

static void restart_timer(struct conn *c)
{
	long long ms = c->loop->engine->limits.idle_timeout_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

/* Writes what the session has to say. -1 when the peer is gone. */
static int flush(struct conn *c)
{
	struct strbuf *out = milter_session_output(c->session);

	while (out->len > 0) {
		ssize_t n = write(c->fd, out->data, out->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return -1;
		strbuf_consume(out, (size_t)n);
	}
	c->want_write = out->len > 0;
	return 0;
}

/* Between messages during a stop: nothing is lost by closing. */
static bool closable_when_stopping(const struct conn *c)
{
	return !milter_session_in_message(c->session) && !milter_session_pending(c->session);
}

/* Feeds buffered input to the session, writes the replies, and decides
 * whether to read on. May free c. */
static void run(struct conn *c)
{
	struct milter_engine *e = c->loop->engine;
	bool busy = milter_session_output(c->session)->len > OUTPUT_MAX;
	ssize_t used = 0;

	if (!c->closing && !busy && !milter_session_pending(c->session)) {
		used = milter_session_input(c->session, c->in.data, c->in.len);
		if (used > 0) {
			strbuf_consume(&c->in, (size_t)used);
			restart_timer(c);
		}
	}
	if (c->eof && !milter_session_pending(c->session))
		c->closing = true;
	if (used < 0) {
		if (!milter_session_done(c->session))
			log_ratelimited(&e->error_log, LOG_LEVEL_WARNING,
					"milter: closing a connection: %s",
					milter_session_error(c->session));
		c->closing = true;
	}
	if (flush(c) < 0 || (c->closing && !c->want_write)) {
		conn_free(c);
		return;
	}
	if (c->loop->stopping && closable_when_stopping(c) && !c->want_write) {
		conn_free(c);
		return;
	}
	if (milter_session_pending(c->session))
		evtimer_del(c->timer);	/* we owe the answer: not idle */
	account_input(c);
	busy = milter_session_output(c->session)->len > OUTPUT_MAX;
	set_interest(c, !c->closing && !busy && c->in.len < INPUT_MAX);
}

/* Reads what the peer sent, up to the input limit. 0, 1 at the end of
 * its input, -1 on an error. */
static int fill(struct conn *c)
{
	char *scratch = c->loop->scratch;

	while (c->in.len < INPUT_MAX) {
		size_t room = INPUT_MAX - c->in.len < READ_CHUNK ? INPUT_MAX - c->in.len : READ_CHUNK;
		ssize_t n = read(c->fd, scratch, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return n == 0 ? 1 : -1;
		strbuf_append(&c->in, scratch, (size_t)n);
		if ((size_t)n < room)
			return 0;	/* drained: the next read would say EAGAIN */
	}
	return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int rc = fill(c);

	if (rc < 0 || (rc > 0 && milter_session_pending(c->session))) {
		conn_free(c);	/* the MTA is gone: a pending answer has nobody to go to */
		return;
	}
	c->eof = rc > 0;
	run(c);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	run(arg);
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	log_ratelimited(&c->loop->engine->error_log, LOG_LEVEL_WARNING,
			"milter: closing a connection idle for %lld ms",
			c->loop->engine->limits.idle_timeout_ms);
	conn_free(c);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	restart_timer(c);
	run(c);
}

static void session_answered(void *arg)
{
	struct conn *c = arg;

	event_active(c->resume, EV_TIMEOUT, 0);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr,
		      int socklen, void *arg)
{
	struct loop *l = arg;
	struct milter_engine *e = l->engine;
	struct conn *c;

	if (l->stopping || atomic_fetch_add(&e->connections, 1) >= e->limits.max_connections) {
		if (!l->stopping)
			atomic_fetch_sub(&e->connections, 1);
		log_ratelimited(&e->refuse_log, LOG_LEVEL_WARNING, "milter: %s: connection refused",
				l->stopping ? "stopping" : "at max_connections");
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->loop = l;
	c->fd = fd;
	strbuf_init(&c->in);
	c->rd = event_new(l->base, fd, EV_READ | EV_PERSIST, on_readable, c);
	c->wr = event_new(l->base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
	c->timer = evtimer_new(l->base, on_idle, c);
	c->resume = event_new(l->base, -1, 0, on_resume, c);
	c->session = milter_session_new(e->filter, l->filter_arg);
	milter_session_set_notify(c->session, session_answered, c);
	c->next = l->conns;
	if (l->conns != NULL)
		l->conns->prev = c;
	l->conns = c;
	l->conn_count++;
	event_add(c->rd, NULL);
	restart_timer(c);
}

/* --- loops ---------------------------------------------------------------------------- */

static void on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;

	if (l->conn_count > 0)
		log_warning("milter: %zu connections still in a message after the shutdown "
			    "timeout: closed", l->conn_count);
	while (l->conns != NULL)
		conn_free(l->conns);
	event_base_loopexit(l->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	long long ms = l->engine->limits.shutdown_timeout_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	l->stopping = true;
	for (size_t i = 0; i < l->listener_count; i++)
		evconnlistener_free(l->listeners[i]);
	l->listener_count = 0;
	for (struct conn *c = l->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (closable_when_stopping(c))
			conn_free(c);
	}
	if (l->conn_count == 0) {
		event_base_loopexit(l->base, NULL);
		return;
	}
	l->shutdown_timer = evtimer_new(l->base, on_shutdown_timeout, l);
	evtimer_add(l->shutdown_timer, &tv);
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;

	if (l->engine->hooks.enter != NULL)
		l->engine->hooks.enter(l->filter_arg);
	event_base_dispatch(l->base);
	return NULL;
}

static int loop_start(struct milter_engine *e, struct loop *l, char *err, size_t errlen)
{
	if ((l->base = event_base_new()) == NULL) {
		snprintf(err, errlen, "cannot make an event loop");
		return -1;
	}
	l->stop_event = event_new(l->base, -1, 0, on_stop, l);
	for (size_t i = 0; i < e->listen_count; i++) {
		l->listeners[i] = evconnlistener_new(l->base, on_accept, l, LEV_OPT_CLOSE_ON_EXEC, 0,
						     e->listen_fds[i]);
		if (l->listeners[i] == NULL) {
			snprintf(err, errlen, "cannot serve a listening socket");
			return -1;
		}
		l->listener_count++;
	}
	if ((l->filter_arg = e->hooks.setup(l->base, l->index, e->hooks.arg)) == NULL) {
		snprintf(err, errlen, "cannot set up event loop %zu", l->index);
		return -1;
	}
	if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
		snprintf(err, errlen, "cannot start the thread of event loop %zu", l->index);
		return -1;
	}
	l->running = true;
	return 0;
}

static void loop_finish(struct milter_engine *e, struct loop *l)
{
	if (l->running)
		pthread_join(l->thread, NULL);
	while (l->conns != NULL)
		conn_free(l->conns);
	for (size_t i = 0; i < l->listener_count; i++)
		evconnlistener_free(l->listeners[i]);
	if (l->filter_arg != NULL && e->hooks.teardown != NULL)
		e->hooks.teardown(l->filter_arg);
	if (l->stop_event != NULL)
		event_free(l->stop_event);
	if (l->shutdown_timer != NULL)
		event_free(l->shutdown_timer);
	if (l->base != NULL)
		event_base_free(l->base);
	memset(l, 0, sizeof(*l));
}

/* --- the engine ----------------------------------------------------------------------- */

struct milter_engine *milter_engine_new(const struct milter_engine_limits *limits,
					const struct milter_filter *filter,
					const struct milter_loop_hooks *hooks)
{
	struct milter_engine *e = xcalloc(1, sizeof(*e));

	e->limits = *limits;
	if (e->limits.loops == 0)
		e->limits.loops = 1;
	e->filter = filter;
	e->hooks = *hooks;
	e->loops = xcalloc(e->limits.loops, sizeof(*e->loops));
	e->refuse_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
	e->error_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(10 * 1000);
	atomic_init(&e->connections, 0);
	atomic_init(&e->memory, 0);
	return e;
}

int milter_engine_add_listener(struct milter_engine *e, int fd)
{
	if (e->listen_count >= LISTENERS_MAX)
		return -1;
	e->listen_fds[e->listen_count++] = fd;
	return 0;
}

struct control {
	struct milter_engine *engine;
	void (*on_reload)(void *arg);
	void *reload_arg;
};

static void control_reload(void *arg)
{
	struct control *ctl = arg;

	if (ctl->on_reload != NULL)
		ctl->on_reload(ctl->reload_arg);
}

static void control_stop(void *arg)
{
	struct control *ctl = arg;
	struct milter_engine *e = ctl->engine;

	log_notice("milter: stopping: %zu connections open", atomic_load(&e->connections));
	for (size_t i = 0; i < e->limits.loops; i++)
		event_active(e->loops[i].stop_event, EV_TIMEOUT, 0);
	event_base_loopexit(e->control, NULL);
}

int milter_engine_run(struct milter_engine *e, void (*on_reload)(void *arg), void *reload_arg,
		      char *err, size_t errlen)
{
	struct control ctl = { e, on_reload, reload_arg };
	int status = 0;

	if (evthread_use_pthreads() < 0 || (e->control = event_base_new()) == NULL ||
	    daemon_signals_attach(e->control, control_reload, control_stop, &ctl) < 0) {
		snprintf(err, errlen, "cannot set up the control loop");
		status = -1;
	}
	for (size_t i = 0; status == 0 && i < e->limits.loops; i++) {
		e->loops[i].engine = e;
		e->loops[i].index = i;
		status = loop_start(e, &e->loops[i], err, errlen);
	}
	if (status == 0)
		event_base_dispatch(e->control);
	else
		for (size_t i = 0; i < e->limits.loops; i++)
			if (e->loops[i].running)
				event_active(e->loops[i].stop_event, EV_TIMEOUT, 0);
	for (size_t i = 0; i < e->limits.loops; i++)
		loop_finish(e, &e->loops[i]);
	daemon_signals_detach();
	if (e->control != NULL)
		event_base_free(e->control);
	e->control = NULL;
	return status;
}

void milter_engine_free(struct milter_engine **ep)
{
	struct milter_engine *e = *ep;

	if (e == NULL)
		return;
	for (size_t i = 0; i < e->listen_count; i++)
		close(e->listen_fds[i]);
	free(e->loops);
	free(e);
	*ep = NULL;
}
