/*
 * daemon.h - what every long-running program of the suite does the same way.
 *
 * Dropping root to a configured user and group (every step checked, and
 * checked again that root cannot be regained), a locked pid file, listening
 * sockets (unix sockets with a configured mode and owner, created safely
 * over a stale one but never over a live one), and SIGHUP/SIGTERM handling
 * for a libevent loop.
 */
#ifndef LIMRISTEM_DAEMON_H
#define LIMRISTEM_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/endpoint.h"

struct event_base;

/* Listening sockets a daemon serves at most: `listen` holds no more
 * (common/server.c and the milter's engine serve as many). */
#define DAEMON_LISTEN_MAX 16
#define DAEMON_TEXT_(x) #x
#define DAEMON_TEXT(x) DAEMON_TEXT_(x)

struct daemon_settings {
	char *user;		/* "" keeps the current user */
	char *group;		/* "" uses the user's primary group */
	char *pid_file;		/* "" for none */
	struct endpoint_list listen;
	unsigned socket_mode;
	char *socket_owner;	/* "" leaves the socket to the (dropped) user */
	char *socket_group;
	struct endpoint metrics_listen;	/* ENDPOINT_NONE: no metrics */
	long long shutdown_timeout_ms;
};

/* Option table entries for the struct daemon_settings at member of struct
 * owner; put
 * inside a program section's table. listen_default is in file syntax. */
#define DAEMON_CONFIG_OPTIONS(owner, member, listen_default, metrics_default) \
	{ .name = "user", .type = CONFIG_STRING, .offset = offsetof(owner, member.user), \
	  .default_value = "\"limristem\"", .max = 32, \
	  .help = "user to run as after binding sockets; empty keeps the current user" }, \
	{ .name = "group", .type = CONFIG_STRING, .offset = offsetof(owner, member.group), \
	  .default_value = "\"\"", .max = 32, .help = "group to run as; empty for the user's group" }, \
	{ .name = "pid_file", .type = CONFIG_STRING, .offset = offsetof(owner, member.pid_file), \
	  .default_value = "\"\"", .max = 4095, .help = "pid file; empty for none (systemd)" }, \
	{ .name = "listen", .type = CONFIG_ENDPOINT_LIST, .offset = offsetof(owner, member.listen), \
	  .default_value = listen_default, .max = DAEMON_LISTEN_MAX, .flags = CONFIG_REQUIRED, \
	  .help = "sockets to serve (at most " DAEMON_TEXT(DAEMON_LISTEN_MAX) "): \"unix:/path\" or \"127.0.0.1:port\"" }, \
	{ .name = "socket_mode", .type = CONFIG_MODE, .offset = offsetof(owner, member.socket_mode), \
	  .default_value = "\"0660\"", .help = "permissions of unix sockets" }, \
	{ .name = "socket_owner", .type = CONFIG_STRING, .offset = offsetof(owner, member.socket_owner), \
	  .default_value = "\"\"", .max = 32, .help = "owner of unix sockets; empty for the service user" }, \
	{ .name = "socket_group", .type = CONFIG_STRING, .offset = offsetof(owner, member.socket_group), \
	  .default_value = "\"postfix\"", .max = 32, .help = "group of unix sockets (Postfix must connect)" }, \
	{ .name = "metrics_listen", .type = CONFIG_ENDPOINT, .offset = offsetof(owner, member.metrics_listen), \
	  .default_value = metrics_default, .flags = CONFIG_LOCAL, \
	  .help = "loopback host:port for Prometheus metrics at /metrics; empty for none" }, \
	{ .name = "shutdown_timeout", .type = CONFIG_DURATION, \
	  .offset = offsetof(owner, member.shutdown_timeout_ms), .default_value = "\"10s\"", \
	  .min = 0, .max = 600000, .help = "time in-flight requests get to finish on SIGTERM" }

/* Looks up user and group (names or numbers). 0, or -1 with err. */
int daemon_lookup_ids(const char *user, const char *group, uid_t *uid_r, gid_t *gid_r,
		      char *err, size_t errlen);

/* Switches to user/group with initgroups(), then verifies the real and
 * effective ids and that setuid(0) fails. A no-op when user is "" or is
 * already the current user. 0, or -1 with err. */
int daemon_drop_privileges(const char *user, const char *group, char *err, size_t errlen);

/* Creates and locks the pid file (refusing when another live process holds
 * it) and writes our pid. Returns the open descriptor to keep, or -1. */
int daemon_pidfile_create(const char *path, char *err, size_t errlen);
void daemon_pidfile_remove(const char *path, int *fd);

/* Opens a listening socket. A unix socket gets mode and owner/group
 * ("" leaves them); an existing socket file is replaced only when nothing
 * listens on it. Returns a non-blocking, close-on-exec descriptor or -1. */
int daemon_listen(const struct endpoint *ep, unsigned mode, const char *owner,
		  const char *group, char *err, size_t errlen);

/* Calls on_reload for SIGHUP and on_stop for SIGTERM/SIGINT from base's
 * loop, and ignores SIGPIPE. 0 or -1. */
typedef void daemon_signal_fn(void *arg);
int daemon_signals_attach(struct event_base *base, daemon_signal_fn *on_reload,
			  daemon_signal_fn *on_stop, void *arg);
void daemon_signals_detach(void);

#endif
