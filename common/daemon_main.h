/*
 * daemon_main.h - the one skeleton every daemon of the suite runs in.
 *
 * A daemon describes itself once, in a struct daemon_program (its name,
 * its configuration tables, where its struct daemon_settings lives, and
 * hooks), and its main() is one call to daemon_main(). The skeleton does
 * the rest, in this order, the same way for every daemon:
 *
 *   1. the command line and the configuration (daemon_cli.h); -t runs
 *      the check hook and prints "FILE: configuration ok"
 *   2. logging as configured (-f adds stderr)
 *   3. RLIMIT_NOFILE raised to the hard limit, and beyond it (as root)
 *      when that is short of max_connections, the listening sockets and
 *      DAEMON_FD_RESERVE for the rest (logged when it moves, a warning
 *      when it cannot cover them)
 *   4. the pid file (locked: a second instance refuses to start), then a
 *      listening socket for every `listen` endpoint (unix sockets with
 *      socket_mode, socket_owner, socket_group; never over a live one)
 *   5. privileged(): what needs root (password files, other binds)
 *   6. the privilege drop to user/group (a warning when left as root)
 *   7. start(): what runs as the service user (threads, the server on
 *      the listening descriptors, which it takes with daemon_take_listeners())
 *   8. metrics over HTTP when metrics_listen is set (every series is
 *      registered by now), SIGHUP/SIGTERM/SIGINT on the event base
 *   9. "started: <describe()>", serve() until stopped, "stopped"
 *  10. cleanup(): the program frees what it made; then the skeleton
 *      removes the unix sockets and the pid file it created and frees
 *      the rest. The exit status: 0 after a stop, 1 when something
 *      failed (logged with the reason), 2 for a bad command line.
 * A hook that fails (returns -1 with err) ends the start there: the error
 * is logged and cleanup() still runs, so it must cope with a half-made
 * start (free what is there, skip what is NULL).
 *
 * Signals. By default the skeleton attaches SIGHUP, SIGTERM and SIGINT to
 * its event base (daemon_base()), which the default serve() dispatches:
 *   SIGHUP   re-reads the file into a fresh settings struct; on an error,
 *            or when reload_check() refuses, "reload failed, keeping the
 *            running configuration: ..." and nothing changes. Otherwise
 *            the log settings apply, the fresh settings replace the
 *            running ones in place (same address: pointers into the
 *            settings struct stay valid, its old strings are freed) and
 *            reload() applies what can change without a restart.
 *            Sockets, the pid file and the user never change on a reload.
 *   SIGTERM  stop() begins a graceful stop and calls daemon_stopped()
 *   SIGINT   when done (with no stop hook, the loop ends at once). The
 *            skeleton ends the loop anyway a quarter second after
 *            shutdown_timeout. Another signal while stopping is logged only.
 *
 * The milter. Its serve() runs its own engine: event loops in threads and
 * a control loop of its own that handles SIGTERM/SIGHUP. It plugs in with
 * serve_handles_signals set: the skeleton then attaches no signal, and the
 * milter's control loop calls daemon_signals_attach(control_base,
 * daemon_request_reload, <its own stop>, d), so a SIGHUP goes through the
 * same reload (reload_check() and reload() run in the control thread; what
 * the loops read must reach them by a safe hand-over, not by reading the
 * settings the skeleton replaces). Its start() makes the engine and hands
 * it the descriptors from daemon_take_listeners() (which it then owns);
 * serve() runs the engine until it stopped (within shutdown_timeout) and
 * returns 0, or -1 with err. Alternatively the engine may use
 * daemon_base() as its control loop, with the signals already on it (set
 * base_threads, so that base is made with libevent's locking).
 */
#ifndef LIMRISTEM_DAEMON_MAIN_H
#define LIMRISTEM_DAEMON_MAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/metrics.h"

struct event_base;
struct daemon;

/* Descriptors a daemon needs at least for everything but client
 * connections: the resolver's sockets, Redis, MariaDB, the metrics server
 * and its scrapers, pipes, files. A floor: the soft limit goes up to the
 * hard one anyway. */
#define DAEMON_FD_RESERVE 1024

struct daemon_program {
	const char *name;		/* "limristem-srsd": log ident, usage, -V */
	const char *check_what;		/* completes "-t  check ...": "the configuration" */
	const char *section;		/* its own section: "srsd" (messages name section.user) */
	const struct config_section *sections;
	size_t settings_size;		/* of the settings struct daemon_main() is given */
	size_t common_offset;		/* of its struct common_settings */
	size_t daemon_offset;		/* of its struct daemon_settings */
	size_t max_connections_offset;	/* of a long long cap on connections; 0 for none */
	bool serve_handles_signals;	/* see "The milter" above */
	bool base_threads;		/* daemon_base() is used from other threads */

	/* -t: checks what else the program needs (secrets files) and says
	 * what it found ("2 secrets"), printed after "configuration and ".
	 * 0, or -1 with err. Optional. */
	int (*check)(struct daemon *d, char *found_r, size_t foundlen, char *err, size_t errlen);
	/* As root, before the privilege drop: password files, extra sockets. */
	int (*privileged)(struct daemon *d, char *err, size_t errlen);
	/* As the service user: threads, servers on the listening descriptors. */
	int (*start)(struct daemon *d, char *err, size_t errlen);
	/* What the "started: ..." line says (cut to fit). Optional. */
	void (*describe)(struct daemon *d, char *buf, size_t len);
	/* Runs until stopped: 0, or -1 with err. NULL dispatches daemon_base(). */
	int (*serve)(struct daemon *d, char *err, size_t errlen);
	/* SIGHUP, see above: reload_check() sees the fresh settings before
	 * anything changes (0 or -1 with err), reload() runs once they are in
	 * place and logs what changed. Both optional; without reload() the
	 * skeleton logs "reloaded". */
	int (*reload_check)(struct daemon *d, void *fresh, char *err, size_t errlen);
	void (*reload)(struct daemon *d);
	/* SIGTERM, SIGINT: begins a graceful stop, daemon_stopped() when done. */
	void (*stop)(struct daemon *d);
	/* Frees what the hooks made; runs after any start, failed or not. */
	void (*cleanup)(struct daemon *d);
};

/* Runs the program: returns its exit status. app is the program's own
 * state (daemon_app() in the hooks); settings its settings struct, zeroed,
 * of program->settings_size bytes, which stays at that address. */
int daemon_main(const struct daemon_program *program, void *app, void *settings,
		int argc, char **argv);

void *daemon_app(const struct daemon *d);
struct event_base *daemon_base(const struct daemon *d);
struct metrics *daemon_metrics(const struct daemon *d);
const struct daemon_settings *daemon_settings_of(const struct daemon *d);
const char *daemon_config_path(const struct daemon *d);

/* Hands over the listening descriptors, one per `listen` endpoint in its
 * order (at most max); the caller owns them from now on (the skeleton
 * still removes the unix sockets' files at the end). The second call
 * returns 0. */
size_t daemon_take_listeners(struct daemon *d, int *fds_r, size_t max);

/* The graceful stop has finished: ends daemon_base()'s loop. Takes the
 * struct daemon as void * to serve as a callback (server_shutdown()). */
void daemon_stopped(void *d);
/* What SIGHUP and SIGTERM do, for a serve() that handles signals itself
 * (daemon_signal_fn). */
void daemon_request_reload(void *d);
void daemon_request_stop(void *d);

/* The open-files limit to ask for: max_connections (0 for no cap: then
 * the hard limit) plus listeners plus DAEMON_FD_RESERVE. */
rlim_t daemon_fd_limit_wanted(long long max_connections, size_t listeners, rlim_t hard);

enum daemon_fd_plan {
	DAEMON_FD_KEEP,		/* the soft limit is the hard one, which covers it */
	DAEMON_FD_RAISE_SOFT,	/* the hard limit covers it: soft up to hard */
	DAEMON_FD_RAISE_BOTH,	/* the hard limit is short: both to wanted (needs privilege) */
};

/* What to do with limits cur, given wanted; set_r is the limit to set
 * (unchanged for DAEMON_FD_KEEP). Pure. */
enum daemon_fd_plan daemon_fd_limit_plan(const struct rlimit *cur, rlim_t wanted,
					 struct rlimit *set_r);

#endif
