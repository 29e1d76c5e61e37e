/*
 * daemon_main.c - the daemons' skeleton (see daemon_main.h): start-up in
 * one order, signals, reload, graceful stop, cleanup.
 */
#include "autoconfig.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/daemon_cli.h"
#include "common/daemon_main.h"
#include "common/log.h"
#include "common/metrics_http.h"
#include "common/settings.h"
#include "common/xalloc.h"

/* What the stop gets beyond shutdown_timeout before the loop ends anyway:
 * the program's own bound (server_shutdown()) fires first. */
#define STOP_GRACE_MS 250

struct daemon {
	const struct daemon_program *program;
	void *app;
	void *settings;
	struct daemon_cli cli;
	struct event_base *base;
	struct metrics *metrics;
	struct metrics_http *metrics_http;
	int *listen_fds;		/* one per `listen` endpoint; -1 once taken */
	char **unix_paths;		/* the socket files we made, to remove at the end */
	size_t listen_count;
	char *pid_path;			/* as it was at start: a reload cannot move it */
	int pid_fd;
	bool signals_attached;
	bool stopping;
	struct event *stop_timer;
};

/* --- accessors --------------------------------------------------------------------------- */

void *daemon_app(const struct daemon *d)
{
	return d->app;
}

struct event_base *daemon_base(const struct daemon *d)
{
	return d->base;
}

struct metrics *daemon_metrics(const struct daemon *d)
{
	return d->metrics;
}

const struct daemon_settings *daemon_settings_of(const struct daemon *d)
{
	return (const struct daemon_settings *)((const char *)d->settings +
						d->program->daemon_offset);
}

const char *daemon_config_path(const struct daemon *d)
{
	return d->cli.config_path;
}

static struct common_settings *common_of(const struct daemon_program *p, void *settings)
{
	return (struct common_settings *)((char *)settings + p->common_offset);
}

size_t daemon_take_listeners(struct daemon *d, int *fds_r, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < d->listen_count && n < max; i++) {
		if (d->listen_fds[i] < 0)
			continue;
		fds_r[n++] = d->listen_fds[i];
		d->listen_fds[i] = -1;
	}
	return n;
}

/* --- the open-files limit ------------------------------------------------------------------ */

rlim_t daemon_fd_limit_wanted(long long max_connections, size_t listeners, rlim_t hard)
{
	if (max_connections <= 0)
		return hard;
	return (rlim_t)max_connections + (rlim_t)listeners + DAEMON_FD_RESERVE;
}

enum daemon_fd_plan daemon_fd_limit_plan(const struct rlimit *cur, rlim_t wanted,
					 struct rlimit *set_r)
{
	rlim_t target;

	*set_r = *cur;
	if (cur->rlim_max != RLIM_INFINITY && cur->rlim_max < wanted) {
		set_r->rlim_cur = set_r->rlim_max = wanted;
		return DAEMON_FD_RAISE_BOTH;
	}
	/* the whole hard limit: the reserve is a floor, not a forecast (the
	 * resolver alone may open thousands of sockets under load) */
	target = cur->rlim_max == RLIM_INFINITY ? wanted : cur->rlim_max;
	if (cur->rlim_cur == RLIM_INFINITY || cur->rlim_cur >= target)
		return DAEMON_FD_KEEP;
	set_r->rlim_cur = target;
	return DAEMON_FD_RAISE_SOFT;
}

static long long max_connections_of(const struct daemon *d)
{
	const struct daemon_program *p = d->program;

	if (p->max_connections_offset == 0)
		return 0;
	return *(const long long *)((const char *)d->settings + p->max_connections_offset);
}

/* Before anything is opened, while still root (which may raise the hard
 * limit). Never fatal: a daemon short of descriptors still serves, and
 * says so. */
static void raise_fd_limit(const struct daemon *d, size_t listeners)
{
	long long max_conn = max_connections_of(d);
	struct rlimit cur, set;
	rlim_t wanted;
	int why;

	if (getrlimit(RLIMIT_NOFILE, &cur) < 0) {
		log_warning("open files: cannot read the limit: %s", strerror(errno));
		return;
	}
	wanted = daemon_fd_limit_wanted(max_conn, listeners, cur.rlim_max);
	switch (daemon_fd_limit_plan(&cur, wanted, &set)) {
	case DAEMON_FD_KEEP:
		log_debug("open files: the limit of %llu covers the %llu needed",
			  (unsigned long long)cur.rlim_cur, (unsigned long long)wanted);
		return;
	case DAEMON_FD_RAISE_SOFT:
	case DAEMON_FD_RAISE_BOTH:
		if (setrlimit(RLIMIT_NOFILE, &set) == 0) {
			log_info("open files: limit raised from %llu to %llu (%s.max_connections %lld, "
				 "%zu listening sockets and %d in reserve need %llu)",
				 (unsigned long long)cur.rlim_cur, (unsigned long long)set.rlim_cur,
				 d->program->section, max_conn, listeners, DAEMON_FD_RESERVE,
				 (unsigned long long)wanted);
			return;
		}
		break;
	}
	why = errno;
	/* not permitted beyond the hard limit: go as far as it allows */
	if (cur.rlim_cur < cur.rlim_max) {
		set = (struct rlimit){ cur.rlim_max, cur.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &set) == 0)
			cur.rlim_cur = cur.rlim_max;
	}
	log_warning("open files: the limit is %llu, short of the %llu that %s.max_connections %lld "
		    "needs (%s): raise LimitNOFILE= or lower max_connections",
		    (unsigned long long)cur.rlim_cur, (unsigned long long)wanted, d->program->section,
		    max_conn, strerror(why));
}

/* --- sockets and pid file ------------------------------------------------------------------ */

static int open_listeners(struct daemon *d, char *err, size_t errlen)
{
	const struct daemon_settings *ds = daemon_settings_of(d);

	d->listen_fds = xcalloc(ds->listen.count, sizeof(*d->listen_fds));
	d->unix_paths = xcalloc(ds->listen.count, sizeof(*d->unix_paths));
	for (size_t i = 0; i < ds->listen.count; i++) {
		const struct endpoint *ep = &ds->listen.items[i];
		int fd = daemon_listen(ep, ds->socket_mode, ds->socket_owner, ds->socket_group,
				       err, errlen);

		if (fd < 0)
			return -1;
		d->listen_fds[d->listen_count++] = fd;
		if (ep->kind == ENDPOINT_UNIX)
			d->unix_paths[i] = xstrdup(ep->path);
	}
	return 0;
}

/* First thing at the end: from now on Postfix finds no socket rather than
 * one nobody accepts on. */
static void remove_socket_files(struct daemon *d)
{
	for (size_t i = 0; i < d->listen_count; i++) {
		if (d->unix_paths[i] != NULL && unlink(d->unix_paths[i]) < 0 && errno != ENOENT)
			log_warning("%s: %s", d->unix_paths[i], strerror(errno));
		free(d->unix_paths[i]);
		d->unix_paths[i] = NULL;
	}
}

static void close_listeners(struct daemon *d)
{
	for (size_t i = 0; i < d->listen_count; i++)
		if (d->listen_fds[i] >= 0)
			close(d->listen_fds[i]);
	free(d->unix_paths);
	free(d->listen_fds);
	d->unix_paths = NULL;
	d->listen_fds = NULL;
	d->listen_count = 0;
}

static int open_pid_file(struct daemon *d, char *err, size_t errlen)
{
	const char *path = daemon_settings_of(d)->pid_file;

	if (path[0] == '\0')
		return 0;
	if ((d->pid_fd = daemon_pidfile_create(path, err, errlen)) < 0)
		return -1;
	d->pid_path = xstrdup(path);
	return 0;
}

/* --- signals: reload and stop -------------------------------------------------------------- */

void daemon_request_reload(void *arg)
{
	struct daemon *d = arg;
	const struct daemon_program *p = d->program;
	void *fresh = xcalloc(1, p->settings_size);
	char err[CONFIG_ERROR_MAX];

	if (config_load(d->cli.config_path, p->sections, fresh, err, sizeof(err)) < 0 ||
	    (p->reload_check != NULL && p->reload_check(d, fresh, err, sizeof(err)) < 0)) {
		log_error("reload failed, keeping the running configuration: %s", err);
		config_free(p->sections, fresh);
		free(fresh);
		return;
	}
	log_apply_settings(&common_of(p, fresh)->log, p->name, d->cli.foreground);
	config_free(p->sections, d->settings);
	memcpy(d->settings, fresh, p->settings_size);
	free(fresh);
	if (p->reload != NULL)
		p->reload(d);
	else
		log_notice("reloaded");
}

void daemon_stopped(void *arg)
{
	struct daemon *d = arg;

	event_base_loopexit(d->base, NULL);
}

static void on_stop_overdue(evutil_socket_t fd, short what, void *arg)
{
	log_warning("still stopping after shutdown_timeout: stopping now");
	daemon_stopped(arg);
}

void daemon_request_stop(void *arg)
{
	struct daemon *d = arg;
	long long ms = daemon_settings_of(d)->shutdown_timeout_ms + STOP_GRACE_MS;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (d->stopping) {
		log_info("already stopping (within shutdown_timeout)");
		return;
	}
	d->stopping = true;
	d->stop_timer = evtimer_new(d->base, on_stop_overdue, d);
	if (d->stop_timer != NULL)
		evtimer_add(d->stop_timer, &tv);
	if (d->program->stop != NULL)
		d->program->stop(d);
	else
		daemon_stopped(d);
}

/* --- start, serve, cleanup ----------------------------------------------------------------- */

static int start(struct daemon *d, char *err, size_t errlen)
{
	const struct daemon_program *p = d->program;
	const struct daemon_settings *ds = daemon_settings_of(d);

	if (open_pid_file(d, err, errlen) < 0 || open_listeners(d, err, errlen) < 0 ||
	    (p->privileged != NULL && p->privileged(d, err, errlen) < 0) ||
	    daemon_drop_privileges(ds->user, ds->group, err, errlen) < 0)
		return -1;
	if (geteuid() == 0)
		log_warning("running as root: set %s.user to drop privileges", p->section);
	if (p->start != NULL && p->start(d, err, errlen) < 0)
		return -1;
	if (ds->metrics_listen.kind != ENDPOINT_NONE &&
	    (d->metrics_http = metrics_http_start(d->metrics, &ds->metrics_listen, err,
						  errlen)) == NULL)
		return -1;
	if (!p->serve_handles_signals) {
		d->signals_attached = true;	/* detached at the end, even half attached */
		if (daemon_signals_attach(d->base, daemon_request_reload, daemon_request_stop, d) < 0) {
			snprintf(err, errlen, "cannot watch for signals");
			return -1;
		}
	}
	return 0;
}

static int serve(struct daemon *d, char *err, size_t errlen)
{
	const struct daemon_program *p = d->program;
	char what[512] = "";

	if (p->describe != NULL)
		p->describe(d, what, sizeof(what));	/* cut to fit: a log line */
	log_notice("started%s%s", what[0] ? ": " : "", what);
	if (p->serve != NULL)
		return p->serve(d, err, errlen);
	if (event_base_dispatch(d->base) < 0) {
		snprintf(err, errlen, "the event loop failed");
		return -1;
	}
	return 0;
}

static void cleanup(struct daemon *d)
{
	if (d->signals_attached)
		daemon_signals_detach();
	remove_socket_files(d);
	metrics_http_stop(&d->metrics_http);
	if (d->program->cleanup != NULL)
		d->program->cleanup(d);
	close_listeners(d);
	if (d->stop_timer != NULL)
		event_free(d->stop_timer);
	metrics_free(&d->metrics);
	if (d->pid_fd >= 0)
		daemon_pidfile_remove(d->pid_path, &d->pid_fd);
	free(d->pid_path);
	if (d->base != NULL)
		event_base_free(d->base);
	config_free(d->program->sections, d->settings);
}

/* -t: the configuration is loaded; the program checks the rest. */
static int check(struct daemon *d)
{
	const struct daemon_program *p = d->program;
	char found[256] = "", err[CONFIG_ERROR_MAX];
	int status = 0;

	if (p->check != NULL && p->check(d, found, sizeof(found), err, sizeof(err)) < 0) {
		log_error("%s", err);
		status = 1;
	} else {
		printf("%s: configuration%s%s ok\n", d->cli.config_path, found[0] ? " and " : "",
		       found);
	}
	config_free(p->sections, d->settings);
	return status;
}

int daemon_main(const struct daemon_program *program, void *app, void *settings,
		int argc, char **argv)
{
	struct daemon d = { .program = program, .app = app, .settings = settings, .pid_fd = -1 };
	char err[CONFIG_ERROR_MAX];
	int status = 0;

	if (!daemon_cli_start(program->name, program->check_what, argc, argv, program->sections,
			      settings, &d.cli, &status))
		return status;
	if (d.cli.check)
		return check(&d);
	log_apply_settings(&common_of(program, settings)->log, program->name, d.cli.foreground);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(&d, daemon_settings_of(&d)->listen.count);
	if (program->base_threads)
		evthread_use_pthreads();
	d.base = event_base_new();
	d.metrics = metrics_new();
	if (d.base == NULL) {
		snprintf(err, sizeof(err), "cannot make an event loop");
		status = -1;
	} else {
		status = start(&d, err, sizeof(err));
	}
	if (status == 0) {
		status = serve(&d, err, sizeof(err));
		log_notice("stopped");
	}
	if (status < 0)
		log_error("%s", err);
	cleanup(&d);
	return status < 0 ? 1 : 0;
}
