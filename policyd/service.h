/*
 * service.h - policyd's request service: policy requests in, checks run
 * (the snapshot ones at once, the Redis and DNS ones asynchronously, in
 * parallel), one action out per request, one log line per decision.
 */
#ifndef LIMRISTEM_POLICY_SERVICE_H
#define LIMRISTEM_POLICY_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dns.h"
#include "common/metrics.h"
#include "common/redis_async.h"
#include "common/server.h"
#include "common/writeback.h"
#include "policyd/checks.h"
#include "policyd/policyd.h"
#include "policyd/request.h"
#include "policyd/snapshot.h"
#include "policyd/zones.h"

struct event_base;
struct pending;

struct local_block {
	char network[64];
	int64_t until_ms;	/* monotonic */
};

enum policyd_check {
	CHECK_BLOCKED, CHECK_SENDER_OWNERSHIP, CHECK_SPAM_TRAP, CHECK_QUOTA, CHECK_SEND_LIMIT,
	CHECK_BLOCKLIST, CHECK_COUNT
};

struct policyd_service {
	const struct policyd_section *settings;	/* the running configuration */
	struct event_base *base;
	struct snapshot *snapshot;
	bool have_database;
	struct redis_async *redis;	/* NULL: no Redis configured */
	struct dns *dns;
	struct zones *zones;
	struct writeback *writeback;	/* NULL: no database */
	struct server *server;
	struct policy_limits limits;
	struct local_block *local_blocks;	/* when there is no Redis: this node only */
	size_t local_block_count, local_block_cap;
	struct pending *pendings;	/* every request not yet freed */

	struct metric *decisions[CHECK_COUNT][4];	/* by check and verdict kind */
	struct metric *actions[4];			/* final answers by kind */
	struct metric *latency;
	struct metric *bad_requests;
	struct metric *timeouts;
	struct metric *redis_unavailable;
	struct metric *connections;
	struct metric *closed[SERVER_CLOSE_REASON_COUNT];	/* closed by the server, by reason */
	struct metric *snapshot_accounts;
};

extern const struct server_handler policyd_handler;

void policyd_service_init(struct policyd_service *svc, struct metrics *m);
/* Takes ownership of snap and frees the previous one. */
void policyd_service_set_snapshot(struct policyd_service *svc, struct snapshot *snap);
/* Frees what is left (after the server, Redis and DNS are gone). */
void policyd_service_clear(struct policyd_service *svc);

const char *policyd_check_name(enum policyd_check check);

#endif
