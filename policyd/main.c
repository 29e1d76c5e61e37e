/*
 * main.c - limristem-policyd: quotas, sending limits, spam traps, DNS
 * blocklists and sender ownership for Postfix's check_policy_service.
 *
 * Describes the daemon to the skeleton (common/daemon_main.h) and nothing
 * more: as root the table snapshot's source, the database writer and
 * Redis (their password files); as the service user the resolver, the
 * blocklist zones, the policy server and the threads; SIGHUP applies the
 * checks, limits and texts anew, SIGTERM stops gracefully.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <unistd.h>

#include "common/daemon_main.h"
#include "common/log.h"
#include "common/table_source.h"
#include "policyd/policyd.h"
#include "policyd/service.h"

struct policyd {
	struct policyd_settings settings;
	struct policyd_service service;
	struct table_source *tables;
};

static void *load_tables(struct db *db, const char *file, void *arg, char *err, size_t errlen)
{
	return db != NULL ? snapshot_load(db, err, errlen) : snapshot_new_empty();
}

static void on_tables(void *snapshot, void *arg)
{
	struct policyd *p = arg;

	policyd_service_set_snapshot(&p->service, snapshot);
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

static void apply_limits(struct policyd *p)
{
	struct server_limits limits = server_limits_of(&p->settings.policyd);

	p->service.settings = &p->settings.policyd;
	p->service.limits.max_line = (size_t)p->settings.policyd.max_line;
	p->service.limits.max_request = (size_t)p->settings.policyd.max_request;
	if (p->service.server != NULL)
		server_set_limits(p->service.server, &limits);
}

/* As root: the database and Redis passwords. */
static int privileged(struct daemon *d, char *err, size_t errlen)
{
	struct policyd *p = daemon_app(d);
	const struct common_settings *c = &p->settings.common;
	const struct table_loader loader = {
		.what = "policyd: tables", .load = load_tables, .update = on_tables,
		.free = free_tables, .arg = p,
	};
	const struct table_source_timing timing = {
		p->settings.policyd.snapshot_refresh_ms, p->settings.policyd.change_check_ms,
	};

	policyd_service_init(&p->service, daemon_metrics(d));
	p->service.base = daemon_base(d);
	apply_limits(p);
	if ((p->tables = table_source_new(daemon_base(d), &c->database, NULL, &timing, &loader, err,
					  errlen)) == NULL)
		return -1;
	p->service.have_database = table_source_uses_db(p->tables);
	if (p->service.have_database &&
	    (p->service.writeback = writeback_new("policyd", "trap hits, holds, blocklist answers",
						   &c->database, daemon_metrics(d), err,
						   errlen)) == NULL)
		return -1;
	if (c->redis.address.kind != ENDPOINT_NONE &&
	    (p->service.redis = redis_async_new(daemon_base(d), &c->redis, err, errlen)) == NULL)
		return -1;
	return 0;
}

static int start_resolver(struct daemon *d, char *err, size_t errlen)
{
	struct policyd *p = daemon_app(d);
	const struct common_settings *c = &p->settings.common;
	struct dns_settings dns = c->dns;

	dns.in_flight = DNS_IN_FLIGHT_BUSY;	/* every client's blocklist questions at once */
	if ((p->service.dns = dns_new(&dns, err, errlen)) == NULL ||
	    dns_attach(p->service.dns, daemon_base(d)) < 0)
		return -1;
	p->service.zones = zones_new(&c->blocklists.zones, p->service.dns, daemon_base(d),
				     p->settings.policyd.blocklist_health_interval_ms,
				     daemon_metrics(d), err, errlen);
	return p->service.zones != NULL ? 0 : -1;
}

static int start(struct daemon *d, char *err, size_t errlen)
{
	struct policyd *p = daemon_app(d);
	struct server_limits limits = server_limits_of(&p->settings.policyd);
	int fd;

	if (start_resolver(d, err, errlen) < 0)
		return -1;
	p->service.server = server_new(daemon_base(d), &policyd_handler, &p->service, &limits);
	while (daemon_take_listeners(d, &fd, 1) == 1) {
		if (server_add_listener(p->service.server, fd) < 0) {
			close(fd);
			snprintf(err, errlen, "cannot serve a listening socket");
			return -1;
		}
	}
	if (table_source_start(p->tables) < 0 ||
	    (p->service.writeback != NULL && writeback_start(p->service.writeback) < 0)) {
		snprintf(err, errlen, "cannot start the database threads");
		return -1;
	}
	if (p->service.snapshot == NULL)
		policyd_service_set_snapshot(&p->service, snapshot_new_empty());
	zones_start(p->service.zones);
	return 0;
}

static void describe(struct daemon *d, char *buf, size_t len)
{
	struct policyd *p = daemon_app(d);

	snprintf(buf, len, "%zu accounts, %zu spam traps, %zu blocklist zones%s%s",
		 snapshot_account_count(p->service.snapshot),
		 snapshot_trap_count(p->service.snapshot), p->service.zones->count,
		 p->service.have_database ? "" : " (no database: quota, traps and ownership off)",
		 p->service.redis ? "" : " (no Redis: sending limits off, blocks on this node only)");
}

/* SIGHUP, the new settings in place: checks, limits and texts change at
 * once; sockets, Redis, database, DNS and zones need a restart. */
static void reload(struct daemon *d)
{
	struct policyd *p = daemon_app(d);

	apply_limits(p);
	table_source_reload(p->tables);
	log_notice("reloaded (listening sockets, Redis, database, DNS and blocklist zones change "
		   "only with a restart)");
}

static void stop(struct daemon *d)
{
	struct policyd *p = daemon_app(d);

	server_shutdown(p->service.server, p->settings.policyd.daemon.shutdown_timeout_ms,
			daemon_stopped, d);
}

static void cleanup(struct daemon *d)
{
	struct policyd *p = daemon_app(d);

	server_free(&p->service.server);
	table_source_free(&p->tables);
	zones_free(&p->service.zones);
	dns_free(&p->service.dns);
	redis_async_free(&p->service.redis);
	writeback_free(&p->service.writeback);
	policyd_service_clear(&p->service);
}

static const struct daemon_program policyd_program = {
	.name = "limristem-policyd",
	.check_what = "the configuration",
	.section = "policyd",
	.sections = policyd_config_sections,
	.settings_size = sizeof(struct policyd_settings),
	.common_offset = offsetof(struct policyd_settings, common),
	.daemon_offset = offsetof(struct policyd_settings, policyd.daemon),
	.max_connections_offset = offsetof(struct policyd_settings, policyd.max_connections),
	.privileged = privileged, .start = start, .describe = describe, .reload = reload,
	.stop = stop, .cleanup = cleanup,
};

int main(int argc, char **argv)
{
	struct policyd p = { 0 };

	return daemon_main(&policyd_program, &p, &p.settings, argc, argv);
}
