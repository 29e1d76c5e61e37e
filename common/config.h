/*
 * config.h - the suite's configuration file, declared once in tables.
 *
 * One file (/etc/limristem/limristem.conf by default) in libconfig syntax:
 *
 *     redis = { address = "unix:/run/redis/redis.sock"; };
 *     srsd  = { domain = "srs.example.org"; };
 *
 * Shared sections (log, redis, database, dns) are read by every program;
 * each program owns one more section. Every option is declared once in a
 * table with its type, default and bounds; the loader refuses an unknown
 * section or key, a value of the wrong type and a value out of bounds, with
 * "file:line: section.key: reason". Sections that belong to the suite's
 * other programs are skipped (each program checks its own).
 *
 * Defaults are written in the file syntax and parsed by the same code as
 * the file, so a default can never be something the file could not say.
 */
#ifndef LIMRISTEM_CONFIG_H
#define LIMRISTEM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/cidr.h"
#include "common/endpoint.h"

#define CONFIG_DEFAULT_PATH SYSCONFDIR_LIMRISTEM "/limristem.conf"
#define CONFIG_ERROR_MAX 1024

enum config_type {
	CONFIG_BOOL,		/* bool: true, false */
	CONFIG_INT,		/* long long, within [min, max] */
	CONFIG_DURATION,	/* long long ms: 30 (seconds), "250ms", "5m", "2h", "35d" */
	CONFIG_SIZE,		/* long long bytes: 4096, "64k", "10M", "1G" */
	CONFIG_STRING,		/* char *, never NULL */
	CONFIG_ENUM,		/* int: index into choices */
	CONFIG_MODE,		/* unsigned: "0660" */
	CONFIG_ENDPOINT,	/* struct endpoint: "unix:/path", "host:port" or "" */
	CONFIG_STRING_LIST,	/* struct config_strings: [ "a", "b" ] */
	CONFIG_CIDR_LIST,	/* struct cidr_list: [ "192.0.2.0/24", "2001:db8::/32" ] */
	CONFIG_ENDPOINT_LIST,	/* struct endpoint_list */
};

/* Option flags. */
#define CONFIG_REQUIRED 0x1	/* a string, endpoint or list may not be empty */
#define CONFIG_LOCAL    0x2	/* an endpoint must be a unix socket or loopback */

struct config_strings {
	char **items;
	size_t count;
};

struct endpoint_list {
	struct endpoint *items;
	size_t count;
};

struct config_option {
	const char *name;
	enum config_type type;
	size_t offset;			/* of the value in the section's struct */
	const char *default_value;	/* in file syntax: 300, "5m", true, [ "a" ] */
	long long min, max;		/* bounds for INT, DURATION (ms), SIZE; max length for STRING;
					 * for lists, max > 0 bounds the number of items */
	unsigned flags;
	const char *const *choices;	/* CONFIG_ENUM: NULL-terminated */
	/* For STRING and each STRING_LIST item: NULL when the value is
	 * acceptable, else the reason it is not. */
	const char *(*check)(const char *value);
	const char *help;		/* one line, shown by --print-config */
};

struct config_section {
	const char *name;
	const struct config_option *options;	/* ends with an entry whose name is NULL */
	size_t offset;				/* of the section's struct in the settings */
	/* Called once all options are set: NULL or the reason the combination
	 * is wrong (e.g. "tcp_listen needs ..."). */
	const char *(*check)(const void *section_settings);
};

/* Fills settings (zeroed by the caller) with the defaults, then with the
 * values in path (NULL: defaults only). Returns 0, or -1 with the whole
 * message in err. On error settings still hold valid values to free. */
int config_load(const char *path, const struct config_section *sections,
		void *settings, char *err, size_t errlen);

/* Frees every string and list that config_load() allocated. */
void config_free(const struct config_section *sections, void *settings);

/* Writes the settings in file syntax, so the output is itself a valid
 * configuration. only_changed leaves out values equal to their default. */
void config_print(FILE *out, const struct config_section *sections,
		  const void *settings, bool only_changed);

/* Value parsers shared with the option tables' users. 0 or -1. */
int config_parse_duration(const char *s, long long *ms_r);
int config_parse_size(const char *s, long long *bytes_r);
int config_parse_mode(const char *s, unsigned *mode_r);

void config_strings_free(struct config_strings *list);
void endpoint_list_free(struct endpoint_list *list);

#endif
