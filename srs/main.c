/*
 * main.c - limristem-srsd: a postsrsd-compatible SRS socketmap server.
 *
 * Wires things up and nothing more: configuration, secrets, listening
 * sockets (as root), privilege drop, the local-domain loader, metrics, the
 * socketmap service, signals (SIGHUP reloads, SIGTERM stops gracefully).
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
#include "common/server.h"
#include "common/table_source.h"
#include "srs/domains.h"
#include "srs/service.h"
#include "srs/srsd.h"

#define PROGRAM "limristem-srsd"

struct srsd {
	const char *config_path;
	struct srsd_settings settings;
	struct event_base *base;
	struct srsd_service service;
	struct table_source *domains;
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

static void on_domains(void *set, void *arg)
{
	struct srsd *d = arg;

	srsd_service_set_domains(&d->service, set);
}

/* The server's bounds from the settings. Input buffered per connection:
 * two requests of the longest kind with their length prefix and comma
 * (one complete, the next begun). */
static struct server_limits server_limits_of(const struct srsd_section *s)
{
	return (struct server_limits){
		.idle_timeout_ms = s->idle_timeout_ms,
		.read_timeout_ms = s->read_timeout_ms,
		.write_timeout_ms = s->write_timeout_ms,
		.max_input = 2 * ((size_t)s->max_request_size + SOCKETMAP_FRAMING_MAX),
		.max_connections = (size_t)s->max_connections,
	};
}

/* SIGHUP: re-read the file and the secrets; keep the old ones on error. */
static void on_reload(void *arg)
{
	struct srsd *d = arg;
	struct srsd_settings fresh;
	struct server_limits limits;
	struct srs_keys keys;
	char err[CONFIG_ERROR_MAX];

	memset(&fresh, 0, sizeof(fresh));
	if (config_load(d->config_path, srsd_config_sections, &fresh, err, sizeof(err)) < 0 ||
	    srs_keys_load(&fresh.srsd, &keys, err, sizeof(err)) < 0) {
		log_error("reload failed, keeping the running configuration: %s", err);
		config_free(srsd_config_sections, &fresh);
		return;
	}
	log_apply_settings(&fresh.common.log, PROGRAM, d->settings.common.log.stderr_output);
	srsd_service_set_keys(&d->service, &keys, fresh.srsd.domain);
	d->service.max_request = (size_t)fresh.srsd.max_request_size;
	limits = server_limits_of(&fresh.srsd);
	server_set_limits(d->service.server, &limits);
	table_source_reload(d->domains);
	log_notice("reloaded: SRS domain %s, %zu secrets (listening sockets, user and the "
		   "domain source change only with a restart)", fresh.srsd.domain, keys.count);
	config_free(srsd_config_sections, &d->settings);
	d->settings = fresh;
}

static void on_stopped(void *arg)
{
	event_base_loopexit(arg, NULL);
}

static void on_stop(void *arg)
{
	struct srsd *d = arg;

	server_shutdown(d->service.server, d->settings.srsd.daemon.shutdown_timeout_ms,
			on_stopped, d->base);
}

/* Everything that needs root: sockets, pid file, the database password. */
static int start_privileged(struct srsd *d, int *fds, size_t *nfds, char *err, size_t errlen)
{
	const struct daemon_settings *ds = &d->settings.srsd.daemon;

	for (size_t i = 0; i < ds->listen.count; i++) {
		fds[i] = daemon_listen(&ds->listen.items[i], ds->socket_mode, ds->socket_owner,
				       ds->socket_group[0] ? ds->socket_group : "", err, errlen);
		if (fds[i] < 0)
			return -1;
		(*nfds)++;
	}
	if (ds->pid_file[0] != '\0' && (d->pid_fd = daemon_pidfile_create(ds->pid_file, err, errlen)) < 0)
		return -1;
	const struct table_loader loader = {
		.what = "srsd: local domains", .load = srsd_domains_load,
		.update = on_domains, .free = srsd_domains_free, .arg = d,
	};
	const struct table_source_timing timing = {
		d->settings.srsd.domains_refresh_ms, d->settings.srsd.change_check_ms,
	};

	d->domains = table_source_new(d->base, &d->settings.common.database,
				      d->settings.srsd.domains_file, &timing, &loader, err, errlen);
	return d->domains != NULL ? 0 : -1;
}

static int start(struct srsd *d, char *err, size_t errlen)
{
	const struct srsd_section *s = &d->settings.srsd;
	struct server_limits limits = server_limits_of(s);
	struct srs_keys keys;
	int fds[16];
	size_t nfds = 0;

	if (srs_keys_load(s, &keys, err, errlen) < 0)
		return -1;
	d->metrics = metrics_new();
	srsd_service_init(&d->service, d->metrics);
	srsd_service_set_keys(&d->service, &keys, s->domain);
	d->service.max_request = (size_t)s->max_request_size;
	if (start_privileged(d, fds, &nfds, err, errlen) < 0 ||
	    daemon_drop_privileges(s->daemon.user, s->daemon.group, err, errlen) < 0)
		return -1;
	if (geteuid() == 0)
		log_warning("running as root: set srsd.user to drop privileges");
	if (s->daemon.metrics_listen.kind != ENDPOINT_NONE &&
	    (d->metrics_http = metrics_http_start(d->metrics, &s->daemon.metrics_listen, err,
						  errlen)) == NULL)
		return -1;
	d->service.server = server_new(d->base, &srsd_handler, &d->service, &limits);
	for (size_t i = 0; i < nfds; i++)
		server_add_listener(d->service.server, fds[i]);
	if (table_source_start(d->domains) < 0) {
		snprintf(err, errlen, "cannot start the domain loader");
		return -1;
	}
	if (d->service.local_domains == NULL)
		srsd_service_set_domains(&d->service, domain_set_new());
	return daemon_signals_attach(d->base, on_reload, on_stop, d);
}

/* Removes our unix sockets, so nothing stale is left for Postfix. */
static void remove_sockets(const struct daemon_settings *ds)
{
	for (size_t i = 0; i < ds->listen.count; i++)
		if (ds->listen.items[i].kind == ENDPOINT_UNIX)
			unlink(ds->listen.items[i].path);
}

static void stop(struct srsd *d)
{
	daemon_signals_detach();
	if (d->service.server != NULL)
		remove_sockets(&d->settings.srsd.daemon);
	table_source_free(&d->domains);
	server_free(&d->service.server);
	metrics_http_stop(&d->metrics_http);
	srsd_service_clear(&d->service);
	metrics_free(&d->metrics);
	if (d->pid_fd >= 0)
		daemon_pidfile_remove(d->settings.srsd.daemon.pid_file, &d->pid_fd);
	if (d->base != NULL)
		event_base_free(d->base);
	config_free(srsd_config_sections, &d->settings);
}

int main(int argc, char **argv)
{
	struct srsd d = { .pid_fd = -1 };
	struct daemon_cli cli;
	char err[CONFIG_ERROR_MAX];
	int status = 0;

	if (!daemon_cli_start(PROGRAM, "the configuration and the secrets file", argc, argv,
			      srsd_config_sections, &d.settings, &cli, &status))
		return status;
	d.config_path = cli.config_path;
	if (cli.check) {
		struct srs_keys keys;
		status = srs_keys_load(&d.settings.srsd, &keys, err, sizeof(err)) < 0;
		if (status)
			log_error("%s", err);
		else
			printf("%s: configuration and %zu secrets ok\n", d.config_path, keys.count);
		srs_keys_clear(&keys);
		config_free(srsd_config_sections, &d.settings);
		return status;
	}
	log_apply_settings(&d.settings.common.log, PROGRAM, cli.foreground);
	raise_fd_limit();
	d.base = event_base_new();
	if (start(&d, err, sizeof(err)) < 0) {
		log_error("%s", err);
		status = 1;
	} else {
		log_notice("started: SRS domain %s, %zu local domains%s", d.settings.srsd.domain,
			   domain_set_count(d.service.local_domains),
			   table_source_uses_db(d.domains) ? " (from the database)" : "");
		event_base_dispatch(d.base);
		log_notice("stopped");
	}
	stop(&d);
	return status;
}
