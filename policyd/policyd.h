/*
 * policyd.h - limristem-policyd's settings.
 */
#ifndef LIMRISTEM_POLICYD_H
#define LIMRISTEM_POLICYD_H

#include <stdbool.h>

#include "common/cidr.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/settings.h"

enum policyd_refusal { POLICYD_REJECT, POLICYD_DEFER };

struct policyd_section {
	struct daemon_settings daemon;
	long long idle_timeout_ms;	/* no complete request for this long: closed */
	long long read_timeout_ms;	/* a request whole within this long of its first byte */
	long long write_timeout_ms;	/* answers taken within this long */
	long long max_connections;
	long long max_line;
	long long max_request;
	long long request_timeout_ms;	/* an answer is due this long after the request */
	struct cidr_list trusted_networks;
	long long change_check_ms;	/* look for changes by mailadm this often */
	long long snapshot_refresh_ms;	/* reload the tables (and quota usage) at least this often */
	long long network_prefix_v4;	/* a client's network: its /24 ... */
	long long network_prefix_v6;	/* ... or /64 */

	bool quota;
	int quota_action;		/* enum policyd_refusal */

	bool send_limits;
	long long send_window_ms;
	long long send_limit_messages;	/* defaults; accounts may override */
	long long send_limit_recipients;
	long long hold_factor;		/* this many times the limit: hold the account */
	long long hold_duration_ms;	/* how long the Redis hold mark lasts */

	bool spam_traps;
	long long trap_block_ms;	/* how long a trapped client network is refused */

	bool blocklists;
	int blocklist_action;		/* enum policyd_refusal */
	long long blocklist_health_interval_ms;
	long long blocklist_min_ttl_ms;	/* bounds on how long an answer is cached */
	long long blocklist_max_ttl_ms;

	bool sender_ownership;
};

struct policyd_settings {
	struct common_settings common;
	struct policyd_section policyd;
};

extern const struct config_section policyd_config_sections[];
extern const char *const policyd_refusal_choices[];

#endif
