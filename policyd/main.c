/*
 * main.c - limristem-policyd: quotas, sending limits, spam traps, DNS
 * blocklists and sender ownership for Postfix's check_policy_service.
 *
 * Wires things up and nothing more: configuration, listening sockets (as
 * root), privilege drop, the table snapshot thread, the database writer,
 * Redis, the resolver, the blocklist zones, metrics, the service, signals
 * (SIGHUP reloads, SIGTERM stops gracefully).
 */
#include "autoconfig.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/daemon_cli.h"
#include "common/log.h"
#include "common/metrics_http.h"
#include "common/table_source.h"
#include "policyd/policyd.h"
#include "policyd/service.h"

#define PROGRAM "limristem-policyd"

struct policyd {
	const char *config_path;
	struct policyd_settings settings;
	struct event_base *base;
	struct policyd_service service;
	struct table_source *tables;
	struct metrics *metrics;
	struct metrics_http *metrics_http;
	int pid_fd;
};

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void *load_tables(struct db *db, const char *file, void *arg, char *err, size_t errlen)
{
	return db != NULL ? snapshot_load(db, err, errlen) : snapshot_new_empty();
}

static void on_tables(void *snapshot, void *arg)
{
	struct policyd *d = arg;

	policyd_service_set_snapshot(&d->service, snapshot);
}

static void free_tables(void *snapshot)
{
	struct snapshot *s = snapshot;

	snapshot_free(&s);
}

/* The server's bounds from the settings. Input buffered per connection:
 * two requests of the longest kind (one being answered, the next). */
static struct server_limits server_limits_of(const struct policyd_section *s)
{
	return (struct server_limits){
		.idle_timeout_ms = s->idle_timeout_ms,
		.read_timeout_ms = s->read_timeout_ms,
		.write_timeout_ms = s->write_timeout_ms,
		.max_input = 2 * (size_t)s->max_request,
		.max_connections = (size_t)s->max_connections,
	};
}

static void apply_limits(struct policyd *d)
{
	struct server_limits limits = server_limits_of(&d->settings.policyd);

	d->service.settings = &d->settings.policyd;
	d->service.limits.max_line = (size_t)d->settings.policyd.max_line;
	d->service.limits.max_request = (size_t)d->settings.policyd.max_request;
	if (d->service.server != NULL)
		server_set_limits(d->service.server, &limits);
}

/* SIGHUP: re-read the file; keep the old one on error. Checks, limits and
 * texts change at once; sockets, Redis, database, DNS and zones need a
 * restart. */
static void on_reload(void *arg)
{
	struct policyd *d = arg;
	struct policyd_settings fresh;
	char err[CONFIG_ERROR_MAX];

	memset(&fresh, 0, sizeof(fresh));
	if (config_load(d->config_path, policyd_config_sections, &fresh, err, sizeof(err)) < 0) {
		log_error("reload failed, keeping the running configuration: %s", err);
		config_free(policyd_config_sections, &fresh);
		return;
	}
	log_apply_settings(&fresh.common.log, PROGRAM, d->settings.common.log.stderr_output);
	/* requests in flight point at the old section: swap only after the
	 * new one is complete, and keep the common part (connections use it) */
	config_free(policyd_config_sections, &d->settings);
	d->settings = fresh;
	apply_limits(d);
	table_source_reload(d->tables);
	log_notice("reloaded (listening sockets, Redis, database, DNS and blocklist zones change "
		   "only with a restart)");
}

static void on_stopped(void *arg)
{
	event_base_loopexit(arg, NULL);
}

static void on_stop(void *arg)
{
	struct policyd *d = arg;

	server_shutdown(d->service.server, d->settings.policyd.daemon.shutdown_timeout_ms,
			on_stopped, d->base);
}

/* Everything that needs root: sockets, pid file, the database and Redis
 * passwords. */
static int start_privileged(struct policyd *d, int *fds, size_t *nfds, char *err, size_t errlen)
{
	const struct daemon_settings *ds = &d->settings.policyd.daemon;
	const struct common_settings *c = &d->settings.common;
	const struct table_loader loader = {
		.what = "policyd: tables", .load = load_tables, .update = on_tables,
		.free = free_tables, .arg = d,
	};
	const struct table_source_timing timing = {
		d->settings.policyd.snapshot_refresh_ms, d->settings.policyd.change_check_ms,
	};

	for (size_t i = 0; i < ds->listen.count; i++) {
		fds[i] = daemon_listen(&ds->listen.items[i], ds->socket_mode, ds->socket_owner,
				       ds->socket_group[0] ? ds->socket_group : "", err, errlen);
		if (fds[i] < 0)
			return -1;
		(*nfds)++;
	}
	if (ds->pid_file[0] != '\0' && (d->pid_fd = daemon_pidfile_create(ds->pid_file, err, errlen)) < 0)
		return -1;
	if ((d->tables = table_source_new(d->base, &c->database, NULL, &timing, &loader, err,
					  errlen)) == NULL)
		return -1;
	d->service.have_database = table_source_uses_db(d->tables);
	if (d->service.have_database &&
	    (d->service.writeback = writeback_new("policyd", "trap hits, holds, blocklist answers",
						   &c->database, d->metrics, err, errlen)) == NULL)
		return -1;
	if (c->redis.address.kind != ENDPOINT_NONE &&
	    (d->service.redis = redis_async_new(d->base, &c->redis, err, errlen)) == NULL)
		return -1;
	return 0;
}

static int start_resolver(struct policyd *d, char *err, size_t errlen)
{
	const struct common_settings *c = &d->settings.common;

	if ((d->service.dns = dns_new(&c->dns, err, errlen)) == NULL ||
	    dns_attach(d->service.dns, d->base) < 0)
		return -1;
	d->service.zones = zones_new(&c->blocklists.zones, d->service.dns, d->base,
				     d->settings.policyd.blocklist_health_interval_ms, d->metrics,
				     err, errlen);
	return d->service.zones != NULL ? 0 : -1;
}

static int start(struct policyd *d, char *err, size_t errlen)
{
	const struct policyd_section *s = &d->settings.policyd;
	struct server_limits limits = server_limits_of(s);
	int fds[16];
	size_t nfds = 0;

	d->metrics = metrics_new();
	policyd_service_init(&d->service, d->metrics);
	d->service.base = d->base;
	apply_limits(d);
	if (start_privileged(d, fds, &nfds, err, errlen) < 0 ||
	    daemon_drop_privileges(s->daemon.user, s->daemon.group, err, errlen) < 0 ||
	    start_resolver(d, err, errlen) < 0)
		return -1;
	if (geteuid() == 0)
		log_warning("running as root: set policyd.user to drop privileges");
	if (s->daemon.metrics_listen.kind != ENDPOINT_NONE &&
	    (d->metrics_http = metrics_http_start(d->metrics, &s->daemon.metrics_listen, err,
						  errlen)) == NULL)
		return -1;
	d->service.server = server_new(d->base, &policyd_handler, &d->service, &limits);
	for (size_t i = 0; i < nfds; i++)
		server_add_listener(d->service.server, fds[i]);
	if (table_source_start(d->tables) < 0 ||
	    (d->service.writeback != NULL && writeback_start(d->service.writeback) < 0)) {
		snprintf(err, errlen, "cannot start the database threads");
		return -1;
	}
	if (d->service.snapshot == NULL)
		policyd_service_set_snapshot(&d->service, snapshot_new_empty());
	zones_start(d->service.zones);
	return daemon_signals_attach(d->base, on_reload, on_stop, d);
}

static void stop(struct policyd *d)
{
	const struct daemon_settings *ds = &d->settings.policyd.daemon;

	daemon_signals_detach();
	if (d->service.server != NULL)
		for (size_t i = 0; i < ds->listen.count; i++)
			if (ds->listen.items[i].kind == ENDPOINT_UNIX)
				unlink(ds->listen.items[i].path);
	server_free(&d->service.server);
	table_source_free(&d->tables);
	zones_free(&d->service.zones);
	dns_free(&d->service.dns);
	redis_async_free(&d->service.redis);
	writeback_free(&d->service.writeback);
	metrics_http_stop(&d->metrics_http);
	policyd_service_clear(&d->service);
	metrics_free(&d->metrics);
	if (d->pid_fd >= 0)
		daemon_pidfile_remove(ds->pid_file, &d->pid_fd);
	if (d->base != NULL)
		event_base_free(d->base);
	config_free(policyd_config_sections, &d->settings);
}

int main(int argc, char **argv)
{
	struct policyd d = { .pid_fd = -1 };
	struct daemon_cli cli;
	char err[CONFIG_ERROR_MAX];
	int status = 0;

	if (!daemon_cli_start(PROGRAM, "the configuration", argc, argv, policyd_config_sections,
			      &d.settings, &cli, &status))
		return status;
	d.config_path = cli.config_path;
	if (cli.check) {
		printf("%s: configuration ok\n", d.config_path);
		config_free(policyd_config_sections, &d.settings);
		return 0;
	}
	log_apply_settings(&d.settings.common.log, PROGRAM, cli.foreground);
	raise_fd_limit();
	d.base = event_base_new();
	if (start(&d, err, sizeof(err)) < 0) {
		log_error("%s", err);
		status = 1;
	} else {
		log_notice("started: %zu accounts, %zu spam traps, %zu blocklist zones%s%s",
			   snapshot_account_count(d.service.snapshot),
			   snapshot_trap_count(d.service.snapshot), d.service.zones->count,
			   d.service.have_database ? "" : " (no database: quota, traps and ownership off)",
			   d.service.redis ? "" : " (no Redis: sending limits off, blocks on this node only)");
		event_base_dispatch(d.base);
		log_notice("stopped");
	}
	stop(&d);
	return status;
}
