/*
 * server.h - a request/response stream server on libevent.
 *
 * What srsd and policyd share: accepting on listening sockets made by
 * daemon_listen(), a cap on concurrent connections, deadlines that no
 * client can stretch, bounded buffers, and a graceful stop that lets
 * answers in flight go out. The protocol lives in the handler: on_input()
 * is called with everything received so far and takes the complete
 * requests out of it; answers are written with server_conn_write(), now or
 * later (a handler waiting on Redis or DNS holds the connection meanwhile).
 *
 * What a client gets, whatever it does:
 *   idle_timeout   no complete request (or answer) for this long: closed.
 *                  Bytes of an unfinished request do not count as activity.
 *   read_timeout   a request must be complete this long after its first
 *                  byte arrived, however slowly it trickles: closed, logged.
 *   write_timeout  answers waiting for the client must be taken within
 *                  this long (all of them, or half of a backlog that made
 *                  us stop reading): closed, logged. This also bounds a
 *                  client that pipelines and never reads.
 *   max_input      unparsed input buffered per connection. While an answer
 *                  is pending (the connection is held), reading stops at
 *                  this much: back-pressure, not buffering. When the
 *                  handler is free and still leaves this much unconsumed,
 *                  no request of the protocol can be that long: closed,
 *                  logged.
 *   output         beyond SERVER_OUTPUT_MAX of unsent answers, input is no
 *                  longer read until half of it has gone out.
 *   max_connections  at the cap, a new connection takes the place of the
 *                  one that has gone longest without a complete request
 *                  (never one whose answer is being worked on); when every
 *                  connection is owed an answer, the new one is closed at
 *                  once rather than left waiting in the listen queue. Both
 *                  are logged. A busy server thus keeps serving whoever
 *                  asks, and slow or silent clients are the ones that go.
 * Timeouts are not reset by any byte: only complete requests and answers
 * move them. None applies while an answer is held (the handler bounds its
 * own wait), except write_timeout.
 */
#ifndef LIMRISTEM_SERVER_H
#define LIMRISTEM_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evbuffer;
struct server;
struct server_conn;

/* Why the server closed a connection on its own. */
enum server_close_reason {
	SERVER_CLOSE_IDLE,		/* idle_timeout: normal, not logged */
	SERVER_CLOSE_READ_TIMEOUT,	/* a request not complete within read_timeout */
	SERVER_CLOSE_WRITE_TIMEOUT,	/* answers not taken within write_timeout */
	SERVER_CLOSE_INPUT_LIMIT,	/* max_input bytes and no complete request */
	SERVER_CLOSE_EVICTED,		/* made room for a new connection at the cap */
	SERVER_CLOSE_REFUSED,		/* a new connection at the cap, nothing to evict */
	SERVER_CLOSE_REASON_COUNT
};

/* "idle", "read_timeout", "write_timeout", "input_limit", "evicted",
 * "refused": metric labels. */
const char *server_close_reason_name(enum server_close_reason why);

struct server_handler {
	/* Input arrived: consume complete requests from in (leave partial
	 * ones), answer with server_conn_write(). Required. */
	void (*on_input)(struct server_conn *conn, struct evbuffer *in, void *arg);
	/* The connection is about to be freed (optional). */
	void (*on_close)(struct server_conn *conn, void *arg);
	/* The server closed a connection for this reason (optional): count it. */
	void (*on_closed_for)(enum server_close_reason why, void *arg);
};

struct server_limits {
	long long idle_timeout_ms;	/* no complete request for this long: close */
	long long read_timeout_ms;	/* a request whole within this long of its first byte */
	long long write_timeout_ms;	/* answers taken within this long */
	size_t max_input;		/* unparsed input buffered per connection */
	size_t max_connections;
};

/* Output buffered for one client beyond which its input is no longer read. */
#define SERVER_OUTPUT_MAX (256 * 1024)
/* Requests a handler answers in one on_input() call at most: then it calls
 * server_conn_yield() and the other connections get their turn, so one
 * client pipelining thousands of cheap requests cannot make everyone else
 * wait for all of them. */
#define SERVER_REQUESTS_PER_TURN 16

struct server *server_new(struct event_base *base, const struct server_handler *handler,
			  void *arg, const struct server_limits *limits);
/* New limits (a reload), at once for every connection. */
void server_set_limits(struct server *server, const struct server_limits *limits);
/* Serves a listening descriptor (the server owns it from now on). 0 or -1. */
int server_add_listener(struct server *server, int fd);
size_t server_connection_count(const struct server *server);

/* Answers written from on_input() go out together when it returns; others
 * at once (what the socket does not take waits in the output). */
void server_conn_write(struct server_conn *conn, const void *data, size_t len);
/* Stops reading; closes once everything written so far is sent. */
void server_conn_close_after_write(struct server_conn *conn);
/* An answer is pending (say, a DNS lookup): the idle and read timeouts do
 * not apply, input stops at max_input, and a graceful stop waits. Release
 * when it is written; input left waiting is then handed to on_input(). */
void server_conn_hold(struct server_conn *conn);
void server_conn_release(struct server_conn *conn);
/* Calls on_input() again with what is buffered (a handler that left
 * requests waiting while it answered an earlier one). */
void server_conn_resume_input(struct server_conn *conn);
/* From on_input(): complete requests are left for later; call on_input()
 * again once the other connections ready now have had their turn. */
void server_conn_yield(struct server_conn *conn);
void server_conn_set_data(struct server_conn *conn, void *data);
void *server_conn_data(const struct server_conn *conn);

/* Stops accepting, closes idle connections and lets the others finish
 * (their held answers and pending output) for at most timeout_ms, then
 * calls done(arg). */
void server_shutdown(struct server *server, long long timeout_ms,
		     void (*done)(void *arg), void *arg);
void server_free(struct server **server);

#endif
