/*
 * server.h - a request/response stream server on libevent.
 *
 * What srsd and policyd share: accepting on listening sockets made by
 * daemon_listen(), a cap on concurrent connections (the listeners pause at
 * the cap), an idle timeout per connection, back-pressure against clients
 * that send but never read, and a graceful stop that lets answers in
 * flight go out. The protocol lives in the handler: on_input() is called
 * with everything received so far and takes the complete requests out of
 * it; answers are written with server_conn_write(), now or later (a
 * handler waiting on Redis or DNS holds the connection meanwhile).
 */
#ifndef LIMRISTEM_SERVER_H
#define LIMRISTEM_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evbuffer;
struct server;
struct server_conn;

struct server_handler {
	/* Input arrived: consume complete requests from in (leave partial
	 * ones), answer with server_conn_write(). Required. */
	void (*on_input)(struct server_conn *conn, struct evbuffer *in, void *arg);
	/* The connection is about to be freed (optional). */
	void (*on_close)(struct server_conn *conn, void *arg);
};

struct server_limits {
	long long idle_timeout_ms;	/* no complete request for this long: close */
	size_t max_connections;
};

/* Output buffered for one client beyond which its input is no longer read. */
#define SERVER_OUTPUT_MAX (256 * 1024)

struct server *server_new(struct event_base *base, const struct server_handler *handler,
			  void *arg, const struct server_limits *limits);
/* Serves a listening descriptor (the server owns it from now on). 0 or -1. */
int server_add_listener(struct server *server, int fd);
size_t server_connection_count(const struct server *server);

void server_conn_write(struct server_conn *conn, const void *data, size_t len);
/* Stops reading; closes once everything written so far is sent. */
void server_conn_close_after_write(struct server_conn *conn);
/* An answer is pending (say, a DNS lookup): the idle timeout does not
 * apply and a graceful stop waits. Release when it is written. */
void server_conn_hold(struct server_conn *conn);
void server_conn_release(struct server_conn *conn);
/* Calls on_input() again with what is buffered (a handler that left
 * requests waiting while it answered an earlier one). */
void server_conn_resume_input(struct server_conn *conn);
void server_conn_set_data(struct server_conn *conn, void *data);
void *server_conn_data(const struct server_conn *conn);

/* Stops accepting, closes idle connections and lets the others finish
 * (their held answers and pending output) for at most timeout_ms, then
 * calls done(arg). */
void server_shutdown(struct server *server, long long timeout_ms,
		     void (*done)(void *arg), void *arg);
void server_free(struct server **server);

#endif
