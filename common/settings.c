/*
 * settings.c - option tables of the shared sections: log, redis, database, dns.
 *
 * The one place these options, their defaults and their bounds are declared.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "common/dns_upstream.h"
#include "common/dnsbl.h"
#include "common/log.h"
#include "common/settings.h"

#define SECOND 1000LL
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

const char *const log_level_choices[] = { "error", "warning", "notice", "info", "debug", NULL };
const char *const log_facility_choices[] = {
	"mail", "daemon", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7", NULL,
};

#define LOG_OPT(f) offsetof(struct log_settings, f)
const struct config_option log_options[] = {
	{ .name = "level", .type = CONFIG_ENUM, .offset = LOG_OPT(level), .default_value = "\"info\"",
	  .choices = log_level_choices, .help = "least severe level logged" },
	{ .name = "facility", .type = CONFIG_ENUM, .offset = LOG_OPT(facility),
	  .default_value = "\"mail\"", .choices = log_facility_choices, .help = "syslog facility" },
	{ .name = "syslog", .type = CONFIG_BOOL, .offset = LOG_OPT(syslog), .default_value = "true",
	  .help = "log to syslog (the journal on systemd machines)" },
	{ .name = "stderr", .type = CONFIG_BOOL, .offset = LOG_OPT(stderr_output),
	  .default_value = "false", .help = "also log to standard error (always on with -f)" },
	{ .name = NULL },
};

#define REDIS_OPT(f) offsetof(struct redis_settings, f)
const struct config_option redis_options[] = {
	{ .name = "address", .type = CONFIG_ENDPOINT, .offset = REDIS_OPT(address),
	  .default_value = "\"\"", .help = "unix:/path or host:port; empty for no Redis" },
	{ .name = "username", .type = CONFIG_STRING, .offset = REDIS_OPT(username),
	  .default_value = "\"\"", .max = 128, .help = "ACL user (Redis 6+); empty for the default user" },
	{ .name = "password_file", .type = CONFIG_STRING, .offset = REDIS_OPT(password_file),
	  .default_value = "\"\"", .max = 4095, .help = "file holding the AUTH password; empty for none" },
	{ .name = "database", .type = CONFIG_INT, .offset = REDIS_OPT(database),
	  .default_value = "0", .min = 0, .max = 1023, .help = "database number (SELECT)" },
	{ .name = "connect_timeout", .type = CONFIG_DURATION, .offset = REDIS_OPT(connect_timeout_ms),
	  .default_value = "\"500ms\"", .min = 10, .max = MINUTE, .help = "time allowed to connect" },
	{ .name = "command_timeout", .type = CONFIG_DURATION, .offset = REDIS_OPT(command_timeout_ms),
	  .default_value = "\"250ms\"", .min = 10, .max = MINUTE, .help = "time allowed for one command" },
	{ .name = "reconnect_max", .type = CONFIG_DURATION, .offset = REDIS_OPT(reconnect_max_ms),
	  .default_value = "\"1s\"", .min = 10, .max = 5 * MINUTE,
	  .help = "longest wait between reconnection attempts (backoff doubles up to it)" },
	{ .name = "pool_size", .type = CONFIG_INT, .offset = REDIS_OPT(pool_size),
	  .default_value = "8", .min = 1, .max = 256, .help = "connections shared by the milter's threads" },
	{ .name = "key_prefix", .type = CONFIG_STRING, .offset = REDIS_OPT(key_prefix),
	  .default_value = "\"lr:\"", .max = 64, .help = "prefix of every key the suite writes" },
	{ .name = NULL },
};

#define DB_OPT(f) offsetof(struct db_settings, f)
const struct config_option db_options[] = {
	{ .name = "address", .type = CONFIG_ENDPOINT, .offset = DB_OPT(address),
	  .default_value = "\"\"",
	  .help = "unix:/run/mysqld/mysqld.sock or host:port; empty for no database" },
	{ .name = "name", .type = CONFIG_STRING, .offset = DB_OPT(name), .default_value = "\"limristem\"",
	  .max = 64, .flags = CONFIG_REQUIRED, .help = "database (schema) name" },
	{ .name = "user", .type = CONFIG_STRING, .offset = DB_OPT(user), .default_value = "\"limristem\"",
	  .max = 80, .flags = CONFIG_REQUIRED, .help = "user name" },
	{ .name = "password_file", .type = CONFIG_STRING, .offset = DB_OPT(password_file),
	  .default_value = "\"\"", .max = 4095,
	  .help = "file holding the password; empty for none (unix_socket authentication)" },
	{ .name = "connect_timeout", .type = CONFIG_DURATION, .offset = DB_OPT(connect_timeout_ms),
	  .default_value = "\"2s\"", .min = SECOND, .max = MINUTE, .help = "time allowed to connect" },
	{ .name = "read_timeout", .type = CONFIG_DURATION, .offset = DB_OPT(read_timeout_ms),
	  .default_value = "\"5s\"", .min = SECOND, .max = HOUR, .help = "time allowed for a reply" },
	{ .name = "write_timeout", .type = CONFIG_DURATION, .offset = DB_OPT(write_timeout_ms),
	  .default_value = "\"5s\"", .min = SECOND, .max = HOUR, .help = "time allowed to send a query" },
	{ .name = "reconnect_max", .type = CONFIG_DURATION, .offset = DB_OPT(reconnect_max_ms),
	  .default_value = "\"5s\"", .min = 10, .max = 5 * MINUTE,
	  .help = "longest wait between reconnection attempts" },
	{ .name = NULL },
};

#define DNS_OPT(f) offsetof(struct dns_settings, f)
const struct config_option dns_options[] = {
	{ .name = "upstream", .type = CONFIG_STRING_LIST, .offset = DNS_OPT(upstream),
	  .default_value = "[]", .check = dns_upstream_check,
	  .help = "resolvers to ask (\"192.0.2.53\", \"127.0.0.1:5353\"); none: /etc/resolv.conf" },
	{ .name = "recursive", .type = CONFIG_BOOL, .offset = DNS_OPT(recursive),
	  .default_value = "false", .help = "resolve from the root servers instead of asking upstream" },
	{ .name = "timeout", .type = CONFIG_DURATION, .offset = DNS_OPT(timeout_ms),
	  .default_value = "\"5s\"", .min = 100, .max = MINUTE, .help = "time allowed for one lookup" },
	{ .name = "cache_size", .type = CONFIG_SIZE, .offset = DNS_OPT(cache_size),
	  .default_value = "\"4M\"", .min = 64 * 1024, .max = 4LL * 1024 * 1024 * 1024,
	  .help = "size of each of the answer and record caches (unbound's own default; the "
		  "milter shares it out between its event loops)" },
	{ .name = "cache_max_ttl", .type = CONFIG_DURATION, .offset = DNS_OPT(cache_max_ttl_ms),
	  .default_value = "\"1d\"", .min = SECOND, .max = 7 * DAY,
	  .help = "longest time an answer is cached, whatever its TTL" },
	{ .name = "trust_anchor_file", .type = CONFIG_STRING, .offset = DNS_OPT(trust_anchor_file),
	  .default_value = "\"\"", .max = 4095,
	  .help = "DNSSEC root key (/usr/share/dns/root.key) to validate answers; empty: no validation" },
	{ .name = NULL },
};

#define BL_OPT(f) offsetof(struct blocklist_settings, f)
const struct config_option blocklist_options[] = {
	{ .name = "zones", .type = CONFIG_STRING_LIST, .offset = BL_OPT(zones), .default_value = "[]",
	  .check = dnsbl_zone_check,
	  .help = "DNS blocklists: \"zone\" or \"zone=127.0.0.[2..11]\" (postscreen syntax, no weights)" },
	{ .name = NULL },
};

#define LEARN_OPT(f) offsetof(struct learning_settings, f)
const struct config_option learning_options[] = {
	{ .name = "secrets_file", .type = CONFIG_STRING, .offset = LEARN_OPT(secrets_file),
	  .default_value = "\"" SYSCONFDIR_LIMRISTEM "/learning.secrets\"", .max = 4095,
	  .help = "keys of the MAC on X-Limristem-Reputation: one per line (16 characters or more), "
		  "the first signs, all verify; root:limristem 0640; empty: the milter writes no "
		  "trace and mailadm learns nothing" },
	{ .name = NULL },
};

const char *dns_settings_check(const void *settings)
{
	const struct dns_settings *s = settings;

	if (s->recursive && s->upstream.count > 0)
		return "recursive = true and an upstream list exclude each other";
	return NULL;
}

void log_apply_settings(const struct log_settings *s, const char *ident, bool foreground)
{
	unsigned dest = 0;
	int facility = 0;

	if (s->syslog)
		dest |= LOG_TO_SYSLOG;
	if (s->stderr_output || foreground)
		dest |= LOG_TO_STDERR;
	if (log_facility_parse(log_facility_choices[s->facility], &facility) < 0)
		facility = 0;
	log_open(ident, dest, facility);
	log_set_level((enum log_level)s->level);
}
