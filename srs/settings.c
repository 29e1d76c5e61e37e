/*
 * settings.c - the srsd section of limristem.conf, declared once.
 */
#include "autoconfig.h"

#include <string.h>

#include "common/addr.h"
#include "srs/srsd.h"

#define DAY (86400 * 1000LL)

static const char *check_domain(const char *value)
{
	const char *why;

	return domain_check(value, strlen(value), ADDR_REQUIRE_DOT, &why) == 0 ? NULL : why;
}

static const char *check_separator(const char *value)
{
	return strlen(value) == 1 && strchr("=+-", value[0]) ? NULL : "must be \"=\", \"+\" or \"-\"";
}

const char *const srsd_hash_alphabets[] = { "base64url", "base64", NULL };

#define S(f) offsetof(struct srsd_section, f)
static const struct config_option srsd_options[] = {
	DAEMON_CONFIG_OPTIONS(struct srsd_section, daemon,
			      "[ \"unix:/var/spool/postfix/limristem/srsd.sock\" ]", "\"\""),
	{ .name = "domain", .type = CONFIG_STRING, .offset = S(domain), .default_value = "\"\"",
	  .max = 253, .check = check_domain,
	  .help = "the SRS domain: rewritten senders become SRS0=...@this (required)" },
	{ .name = "secrets_file", .type = CONFIG_STRING, .offset = S(secrets_file),
	  .default_value = "\"" SYSCONFDIR_LIMRISTEM "/srs.secrets\"", .max = 4095,
	  .flags = CONFIG_REQUIRED,
	  .help = "one secret per line, the first signs, all verify (postsrsd's file works)" },
	{ .name = "hash_length", .type = CONFIG_INT, .offset = S(hash_length), .default_value = "4",
	  .min = 1, .max = SRS_HASH_LENGTH_MAX, .help = "hash characters written" },
	{ .name = "hash_minimum", .type = CONFIG_INT, .offset = S(hash_minimum), .default_value = "4",
	  .min = 1, .max = SRS_HASH_LENGTH_MAX, .help = "hash characters required when reversing" },
	{ .name = "separator", .type = CONFIG_STRING, .offset = S(separator), .default_value = "\"=\"",
	  .check = check_separator, .flags = CONFIG_REQUIRED, .help = "character after SRS0/SRS1" },
	{ .name = "hash_alphabet", .type = CONFIG_ENUM, .offset = S(hash_alphabet),
	  .default_value = "\"base64url\"", .choices = srsd_hash_alphabets,
	  .help = "base64url ('-', '_': postsrsd 2.x) or base64 ('+', '/': postsrsd 1.x, Mail::SRS)" },
	{ .name = "max_age", .type = CONFIG_DURATION, .offset = S(max_age_ms), .default_value = "\"21d\"",
	  .min = DAY, .max = SRS_MAX_AGE_DAYS_MAX * DAY,
	  .help = "how long a rewritten address can be reversed (whole days)" },
	{ .name = "domains_file", .type = CONFIG_STRING, .offset = S(domains_file),
	  .default_value = "\"\"", .max = 4095,
	  .help = "local domains, one per line (.example.org for subdomains), when no database is configured" },
	{ .name = "domains_refresh", .type = CONFIG_DURATION, .offset = S(domains_refresh_ms),
	  .default_value = "\"10m\"", .min = 10 * 1000, .max = DAY,
	  .help = "reload the local domains at least this often" },
	{ .name = "change_check", .type = CONFIG_DURATION, .offset = S(change_check_ms),
	  .default_value = "\"5s\"", .min = 100, .max = 3600 * 1000,
	  .help = "how often to look for changes made by mailadm (or to the domains file)" },
	{ .name = "idle_timeout", .type = CONFIG_DURATION, .offset = S(idle_timeout_ms),
	  .default_value = "\"5m\"", .min = 1000, .max = DAY,
	  .help = "close connections that send no complete request for this long" },
	{ .name = "read_timeout", .type = CONFIG_DURATION, .offset = S(read_timeout_ms),
	  .default_value = "\"10s\"", .min = 100, .max = 3600 * 1000,
	  .help = "a request must be complete this long after its first byte, or the connection is closed" },
	{ .name = "write_timeout", .type = CONFIG_DURATION, .offset = S(write_timeout_ms),
	  .default_value = "\"10s\"", .min = 100, .max = 3600 * 1000,
	  .help = "a client must take its answers within this long, or the connection is closed" },
	{ .name = "max_connections", .type = CONFIG_INT, .offset = S(max_connections),
	  .default_value = "1000", .min = 1, .max = 100000, .help = "concurrent connections served" },
	{ .name = "max_request_size", .type = CONFIG_SIZE, .offset = S(max_request_size),
	  .default_value = "\"4k\"", .min = 512, .max = 100000,
	  .help = "longest request; longer ones are refused from their length prefix" },
	{ .name = NULL },
};

static const char *check_section(const void *settings)
{
	const struct srsd_section *s = settings;

	if (s->domain[0] == '\0')
		return "domain is required: the SRS domain senders are rewritten into (srs.example.org)";
	if (s->hash_minimum > s->hash_length)
		return "hash_minimum is larger than hash_length";
	if (s->max_age_ms % DAY != 0)
		return "max_age must be whole days (SRS timestamps count days)";
	return NULL;
}

const struct config_section srsd_config_sections[] = {
	CONFIG_COMMON_SECTIONS(struct srsd_settings, common),
	{ "srsd", srsd_options, offsetof(struct srsd_settings, srsd), check_section },
	{ NULL, NULL, 0, NULL },
};
