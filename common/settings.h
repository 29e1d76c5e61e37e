/*
 * settings.h - the configuration sections every program shares.
 *
 * log, redis, database and dns are read by all programs from the same file,
 * so that one Redis, one MariaDB and one resolver setup serve the suite.
 * A program's settings struct embeds struct common_settings and lists
 * CONFIG_COMMON_SECTIONS() before its own section.
 */
#ifndef LIMRISTEM_SETTINGS_H
#define LIMRISTEM_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "common/endpoint.h"

struct log_settings {
	int level;		/* enum log_level */
	int facility;		/* index into log_facility_choices */
	bool syslog;
	bool stderr_output;
};

struct redis_settings {
	struct endpoint address;	/* ENDPOINT_NONE: no Redis */
	char *username;			/* Redis 6 ACL user; "" for AUTH with a password only */
	char *password_file;		/* "" for no AUTH */
	long long database;
	long long connect_timeout_ms;
	long long command_timeout_ms;
	long long reconnect_max_ms;	/* longest wait between reconnection attempts */
	long long pool_size;		/* connections shared by a threaded program */
	char *key_prefix;
};

struct db_settings {
	struct endpoint address;	/* ENDPOINT_NONE: no database */
	char *name;
	char *user;
	char *password_file;
	long long connect_timeout_ms;
	long long read_timeout_ms;
	long long write_timeout_ms;
	long long reconnect_max_ms;
};

struct dns_settings {
	struct config_strings upstream;	/* "192.0.2.53", "127.0.0.1:5353", "[::1]:53"; none: /etc/resolv.conf */
	bool recursive;			/* resolve from the root servers, no upstream */
	long long timeout_ms;
	long long cache_size;		/* bytes, for each of the message and record caches */
	long long cache_max_ttl_ms;
	char *trust_anchor_file;	/* DNSSEC root key; "" for no validation */
	long long in_flight;		/* not configured: questions at once for a busy
					 * daemon (DNS_IN_FLIGHT_BUSY), 0 for
					 * libunbound's defaults */
};

struct blocklist_settings {
	struct config_strings zones;	/* "zone" or "zone=127.0.0.[2..11]" (dnsbl.h) */
};

/* The learning section, read by the milter (signs the reputation traces
 * it writes) and mailadm (learns only from traces it can verify). */
struct learning_settings {
	char *secrets_file;		/* one secret per line, the first signs; "" for none */
};

struct common_settings {
	struct log_settings log;
	struct redis_settings redis;
	struct db_settings database;
	struct dns_settings dns;
	struct blocklist_settings blocklists;
};

extern const struct config_option log_options[];
extern const struct config_option redis_options[];
extern const struct config_option db_options[];
extern const struct config_option dns_options[];
extern const struct config_option blocklist_options[];
extern const struct config_option learning_options[];
extern const char *const log_facility_choices[];
extern const char *const log_level_choices[];

const char *dns_settings_check(const void *dns_settings);

#define CONFIG_COMMON_SECTIONS(owner, member) \
	{ "log", log_options, offsetof(owner, member.log), NULL }, \
	{ "redis", redis_options, offsetof(owner, member.redis), NULL }, \
	{ "database", db_options, offsetof(owner, member.database), NULL }, \
	{ "dns", dns_options, offsetof(owner, member.dns), dns_settings_check }, \
	{ "blocklists", blocklist_options, offsetof(owner, member.blocklists), NULL }

/* The learning section, for the programs that read it (after the
 * common ones). */
#define CONFIG_LEARNING_SECTION(owner, member) \
	{ "learning", learning_options, offsetof(owner, member), NULL }

/* Starts logging as the log section says. foreground adds stderr. */
void log_apply_settings(const struct log_settings *s, const char *ident, bool foreground);

#endif
