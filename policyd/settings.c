/*
 * settings.c - the policyd section of limristem.conf, declared once.
 */
#include "autoconfig.h"

#include "policyd/policyd.h"
#include "policyd/request.h"

#define SECOND 1000LL
#define DAY (86400 * SECOND)

const char *const policyd_refusal_choices[] = { "reject", "defer", NULL };

#define S(f) offsetof(struct policyd_section, f)
#define BOOL(n, f, d, h) \
	{ .name = n, .type = CONFIG_BOOL, .offset = S(f), .default_value = d, .help = h }
#define DURATION(n, f, d, lo, hi, h) \
	{ .name = n, .type = CONFIG_DURATION, .offset = S(f), .default_value = d, \
	  .min = lo, .max = hi, .help = h }
#define INT(n, f, d, lo, hi, h) \
	{ .name = n, .type = CONFIG_INT, .offset = S(f), .default_value = d, \
	  .min = lo, .max = hi, .help = h }
#define REFUSAL(n, f, d, h) \
	{ .name = n, .type = CONFIG_ENUM, .offset = S(f), .default_value = d, \
	  .choices = policyd_refusal_choices, .help = h }

static const struct config_option policyd_options[] = {
	DAEMON_CONFIG_OPTIONS(struct policyd_section, daemon,
			      "[ \"unix:/var/spool/postfix/limristem/policyd.sock\" ]", "\"\""),
	DURATION("idle_timeout", idle_timeout_ms, "\"5m\"", SECOND, DAY,
		 "close connections that send no complete request for this long"),
	DURATION("read_timeout", read_timeout_ms, "\"10s\"", 100, 3600 * SECOND,
		 "a request must be complete this long after its first byte, or the connection is closed"),
	DURATION("write_timeout", write_timeout_ms, "\"10s\"", 100, 3600 * SECOND,
		 "a client must take its answers within this long, or the connection is closed"),
	INT("max_connections", max_connections, "1000", 1, 100000, "concurrent connections served"),
	{ .name = "max_line", .type = CONFIG_SIZE, .offset = S(max_line), .default_value = "\"2k\"",
	  .min = 256, .max = 65536, .help = "longest name=value line; a longer one drops the connection" },
	{ .name = "max_request", .type = CONFIG_SIZE, .offset = S(max_request), .default_value = "\"16k\"",
	  .min = 1024, .max = 1048576, .help = "longest request; a longer one drops the connection" },
	DURATION("request_timeout", request_timeout_ms, "\"3s\"", 100, 60 * SECOND,
		 "answer within this long: checks still waiting on Redis or DNS are skipped"),
	{ .name = "trusted_networks", .type = CONFIG_CIDR_LIST, .offset = S(trusted_networks),
	  .default_value = "[ \"127.0.0.0/8\", \"::1/128\" ]",
	  .help = "clients that skip the blocklist, spam-trap and block checks" },
	DURATION("change_check", change_check_ms, "\"2s\"", 100, 3600 * SECOND,
		 "how often to look for changes made by mailadm"),
	DURATION("snapshot_refresh", snapshot_refresh_ms, "\"15s\"", SECOND, DAY,
		 "reload accounts, aliases, traps and quota usage at least this often"),
	INT("network_prefix_v4", network_prefix_v4, "24", 8, 32, "an IPv4 client's network for blocks"),
	INT("network_prefix_v6", network_prefix_v6, "64", 16, 128, "an IPv6 client's network for blocks"),

	BOOL("quota", quota, "true", "refuse recipients whose mailbox cannot take the message"),
	REFUSAL("quota_action", quota_action, "\"reject\"",
		"reject (552 5.2.2) or defer (452 4.2.2) a recipient over quota"),

	BOOL("send_limits", send_limits, "true", "limit what authenticated users send (needs Redis)"),
	DURATION("send_window", send_window_ms, "\"1h\"", 60 * SECOND, DAY,
		 "the sliding window the limits count in"),
	INT("send_limit_messages", send_limit_messages, "200", 0, 1000000,
	    "messages per window, unless the account says otherwise; 0 for no limit"),
	INT("send_limit_recipients", send_limit_recipients, "1000", 0, 10000000,
	    "recipients per window, unless the account says otherwise; 0 for no limit"),
	INT("hold_factor", hold_factor, "3", 2, 1000,
	    "an account this many times over a limit is held as compromised"),
	DURATION("hold_duration", hold_duration_ms, "\"1d\"", 60 * SECOND, 365 * DAY,
		 "how long the shared hold mark lasts in Redis (the database keeps it until released)"),

	BOOL("spam_traps", spam_traps, "true", "refuse mail to spam traps and block the sender's network"),
	DURATION("trap_block", trap_block_ms, "\"1h\"", 0, 30 * DAY,
		 "how long a network that wrote to a trap is refused; 0 for no block"),

	BOOL("blocklists", blocklists, "true", "check clients against blocklists.zones"),
	REFUSAL("blocklist_action", blocklist_action, "\"reject\"",
		"reject (554 5.7.1) or defer (450 4.7.1) a listed client"),
	DURATION("blocklist_health_interval", blocklist_health_interval_ms, "\"5m\"", 10 * SECOND, DAY,
		 "how often each zone is tested as RFC 5782 says (127.0.0.2 listed, 127.0.0.1 not)"),
	DURATION("blocklist_min_ttl", blocklist_min_ttl_ms, "\"1m\"", 0, DAY,
		 "cache blocklist answers at least this long"),
	DURATION("blocklist_max_ttl", blocklist_max_ttl_ms, "\"1h\"", SECOND, 7 * DAY,
		 "cache blocklist answers at most this long"),

	BOOL("sender_ownership", sender_ownership, "true",
	     "authenticated users may only send as their account or an alias of it"),
	{ .name = NULL },
};

static const char *check_section(const void *settings)
{
	const struct policyd_section *s = settings;

	if (s->blocklist_min_ttl_ms > s->blocklist_max_ttl_ms)
		return "blocklist_min_ttl is longer than blocklist_max_ttl";
	if (s->max_line >= s->max_request)
		return "max_line must be smaller than max_request";
	return NULL;
}

const struct config_section policyd_config_sections[] = {
	CONFIG_COMMON_SECTIONS(struct policyd_settings, common),
	{ "policyd", policyd_options, offsetof(struct policyd_settings, policyd), check_section },
	{ NULL, NULL, 0, NULL },
};
