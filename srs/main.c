/*
 * main.c - limristem-srsd: a postsrsd-compatible SRS socketmap server.
 *
 * Describes the daemon to the skeleton (common/daemon_main.h) and nothing
 * more: as root the secrets and the local-domain source (the database
 * password); as the service user the socketmap server and the domain
 * loader's thread; SIGHUP re-reads the secrets, SIGTERM stops gracefully.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include "common/daemon_main.h"
#include "common/log.h"
#include "common/server.h"
#include "common/table_source.h"
#include "srs/domains.h"
#include "srs/service.h"
#include "srs/srsd.h"

struct srsd {
	struct srsd_settings settings;
	struct srsd_service service;
	struct table_source *domains;
	struct srs_keys fresh_keys;	/* read on SIGHUP before the settings change */
};

static void on_domains(void *set, void *arg)
{
	struct srsd *s = arg;

	srsd_service_set_domains(&s->service, set);
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

static int check(struct daemon *d, char *found_r, size_t foundlen, char *err, size_t errlen)
{
	struct srsd *s = daemon_app(d);
	struct srs_keys keys;
	int n;

	if (srs_keys_load(&s->settings.srsd, &keys, err, errlen) < 0)
		return -1;
	n = snprintf(found_r, foundlen, "%zu secrets", keys.count);
	if (n < 0 || (size_t)n >= foundlen)
		found_r[0] = '\0';	/* cannot happen: the skeleton gives room */
	srs_keys_clear(&keys);
	return 0;
}

/* As root: the secrets file and the database password. */
static int privileged(struct daemon *d, char *err, size_t errlen)
{
	struct srsd *s = daemon_app(d);
	const struct srsd_section *sec = &s->settings.srsd;
	struct srs_keys keys;
	const struct table_loader loader = {
		.what = "srsd: local domains", .load = srsd_domains_load,
		.update = on_domains, .free = srsd_domains_free, .arg = s,
	};
	const struct table_source_timing timing = { sec->domains_refresh_ms, sec->change_check_ms };

	if (srs_keys_load(sec, &keys, err, errlen) < 0)
		return -1;
	srsd_service_init(&s->service, daemon_metrics(d));
	srsd_service_set_keys(&s->service, &keys, sec->domain);
	s->service.max_request = (size_t)sec->max_request_size;
	s->domains = table_source_new(daemon_base(d), &s->settings.common.database,
				      sec->domains_file, &timing, &loader, err, errlen);
	return s->domains != NULL ? 0 : -1;
}

static int start(struct daemon *d, char *err, size_t errlen)
{
	struct srsd *s = daemon_app(d);
	struct server_limits limits = server_limits_of(&s->settings.srsd);
	int fd;

	s->service.server = server_new(daemon_base(d), &srsd_handler, &s->service, &limits);
	while (daemon_take_listeners(d, &fd, 1) == 1) {
		if (server_add_listener(s->service.server, fd) < 0) {
			close(fd);
			snprintf(err, errlen, "cannot serve a listening socket");
			return -1;
		}
	}
	if (table_source_start(s->domains) < 0) {
		snprintf(err, errlen, "cannot start the domain loader");
		return -1;
	}
	if (s->service.local_domains == NULL)
		srsd_service_set_domains(&s->service, domain_set_new());
	return 0;
}

static void describe(struct daemon *d, char *buf, size_t len)
{
	struct srsd *s = daemon_app(d);

	snprintf(buf, len, "SRS domain %s, %zu local domains%s", s->settings.srsd.domain,
		 domain_set_count(s->service.local_domains),
		 table_source_uses_db(s->domains) ? " (from the database)" : "");
}

/* SIGHUP: the new secrets must load, or the running ones stay. */
static int reload_check(struct daemon *d, void *fresh, char *err, size_t errlen)
{
	struct srsd *s = daemon_app(d);

	return srs_keys_load(&((struct srsd_settings *)fresh)->srsd, &s->fresh_keys, err, errlen);
}

static void reload(struct daemon *d)
{
	struct srsd *s = daemon_app(d);
	const struct srsd_section *sec = &s->settings.srsd;
	struct server_limits limits = server_limits_of(sec);
	size_t secrets = s->fresh_keys.count;

	srsd_service_set_keys(&s->service, &s->fresh_keys, sec->domain);
	s->service.max_request = (size_t)sec->max_request_size;
	server_set_limits(s->service.server, &limits);
	table_source_reload(s->domains);
	log_notice("reloaded: SRS domain %s, %zu secrets (listening sockets, user and the "
		   "domain source change only with a restart)", sec->domain, secrets);
}

static void stop(struct daemon *d)
{
	struct srsd *s = daemon_app(d);

	server_shutdown(s->service.server, s->settings.srsd.daemon.shutdown_timeout_ms,
			daemon_stopped, d);
}

static void cleanup(struct daemon *d)
{
	struct srsd *s = daemon_app(d);

	table_source_free(&s->domains);
	server_free(&s->service.server);
	srsd_service_clear(&s->service);
	srs_keys_clear(&s->fresh_keys);
}

static const struct daemon_program srsd_program = {
	.name = "limristem-srsd",
	.check_what = "the configuration and the secrets file",
	.section = "srsd",
	.sections = srsd_config_sections,
	.settings_size = sizeof(struct srsd_settings),
	.common_offset = offsetof(struct srsd_settings, common),
	.daemon_offset = offsetof(struct srsd_settings, srsd.daemon),
	.max_connections_offset = offsetof(struct srsd_settings, srsd.max_connections),
	.check = check, .privileged = privileged, .start = start, .describe = describe,
	.reload_check = reload_check, .reload = reload, .stop = stop, .cleanup = cleanup,
};

int main(int argc, char **argv)
{
	struct srsd s = { 0 };

	return daemon_main(&srsd_program, &s, &s.settings, argc, argv);
}
