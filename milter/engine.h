/*
 * engine.h - limristem-milter's engine: milter connections served by a
 * few libevent loops, one thread each, with no thread per SMTP session.
 *
 * Each loop accepts on the shared listening sockets, reads everything a
 * connection has sent in one call, lets the session (session.h) take
 * every complete command, and writes the replies together. A filter that
 * waits for DNS or Redis does so through its loop's asynchronous clients
 * (the setup hook makes them), so a slow answer delays only the messages
 * waiting for it.
 *
 * Limits: connections over all loops; input buffered per connection (one
 * packet's worth while a command is pending, since the MTA waits); the
 * bytes buffered by all connections, beyond which new messages are
 * refused with a temporary error until memory is freed; an idle timeout
 * that only a complete command resets, so a peer that trickles bytes or
 * stops reading is closed all the same.
 */
#ifndef LIMRISTEM_MILTER_ENGINE_H
#define LIMRISTEM_MILTER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "milter/session.h"

struct event_base;
struct milter_engine;

struct milter_engine_limits {
	size_t loops;			/* event loops (threads) */
	size_t max_connections;		/* over all loops */
	long long idle_timeout_ms;	/* no complete command for this long: close */
	long long shutdown_timeout_ms;	/* messages in progress get this long on SIGTERM */
	size_t memory_max;		/* bytes buffered over all connections */
};

struct milter_loop_hooks {
	/* Before the loop's thread starts (in the thread that calls
	 * milter_engine_run()): what the sessions of that loop get as
	 * filter_arg (their DNS and Redis clients on base, say); NULL fails
	 * the start. */
	void *(*setup)(struct event_base *base, size_t index, void *arg);
	/* In the loop's own thread, before it serves (thread-local state). */
	void (*enter)(void *loop_arg);
	/* After the loop's thread ended and its connections are closed. */
	void (*teardown)(void *loop_arg);
	void *arg;
};

struct milter_engine *milter_engine_new(const struct milter_engine_limits *limits,
					const struct milter_filter *filter,
					const struct milter_loop_hooks *hooks);
void milter_engine_free(struct milter_engine **engine);
/* Serves a listening descriptor (the engine owns it from now on). 0 or -1. */
int milter_engine_add_listener(struct milter_engine *engine, int fd);

/* Starts the loops and serves until SIGTERM or SIGINT (SIGHUP calls
 * on_reload from the calling thread), then stops accepting, closes the
 * connections between messages and gives the others shutdown_timeout_ms.
 * 0, or -1 with err when a loop could not start. */
int milter_engine_run(struct milter_engine *engine, void (*on_reload)(void *arg), void *reload_arg,
		      char *err, size_t errlen);

/* Bytes the filter holds for a message (headers kept for the end of the
 * message), counted against memory_max; negative to give them back. */
void milter_engine_memory_add(struct milter_engine *engine, long long bytes);
/* True when memory_max is reached: the filter refuses new work. */
bool milter_engine_memory_full(const struct milter_engine *engine);

#endif
