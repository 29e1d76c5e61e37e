/*
 * pending.h - one request on its way through the checks (internal to
 * service.c and lookups.c).
 *
 * A pending request lives until its answer is written AND every Redis and
 * DNS callback it started has come back, so no callback ever sees freed
 * memory; the connection may be gone by then (conn is NULL).
 */
#ifndef LIMRISTEM_POLICY_PENDING_H
#define LIMRISTEM_POLICY_PENDING_H

#include "common/cidr.h"
#include "policyd/service.h"

#define ZONES_MAX 16
#define BLOCKLIST_ANSWER_MAX 64
#define BLOCKLIST_REASON_MAX 200

struct policy_conn {
	struct policyd_service *svc;
	struct server_conn *conn;
	struct pending *busy;		/* the request being answered, if any */
	char instance[64];		/* the message transaction seen last */
};

struct zone_result {
	bool done;			/* an answer came (from Redis or DNS) */
	bool listed;
	char answer[BLOCKLIST_ANSWER_MAX];
	char reason[BLOCKLIST_REASON_MAX];
};

struct zone_lookup {
	struct pending *pending;
	size_t zone;			/* index into svc->zones */
	struct dns_query *query;
	char name[DNS_NAME_TEXT_MAX];	/* the A (then TXT) name asked */
};

struct pending {
	struct pending *next, *prev;	/* svc->pendings */
	struct policyd_service *svc;
	struct policy_conn *pc;		/* NULL once the connection is gone */
	struct policy_request req;
	int64_t started_ns;
	int outstanding;		/* callbacks still to come */
	bool answered;
	struct event *timer;

	/* the request, normalized */
	const char *state;
	char client[48];		/* the IP as text */
	struct ip_addr ip;
	bool have_ip;
	char network[64];		/* 192.0.2.0/24 */
	char login[320];
	char sender[320];
	char recipient[320];
	bool new_message;

	struct verdict verdict;		/* the strongest so far */
	struct send_limits limits;	/* for the send-limit callback */
	struct zone_result zone_results[ZONES_MAX];
	struct zone_lookup zone_lookups[ZONES_MAX];
	size_t zones_asked;
};

/* lookups.c and blocklist_lookup.c: start the asynchronous checks; each callback ends with
 * pending_callback_done(). */
void lookup_block(struct pending *p);
void lookup_send_limit(struct pending *p);
void lookup_blocklists(struct pending *p);
/* A spam-trap hit: block the network, count the hit (fire and forget). */
void record_trap_hit(struct pending *p);
/* blocklist_lookup.c: the blocklist verdict from the answers in so far
 * (the first listing zone in configuration order). */
void blocklist_conclude(struct pending *p);

/* service.c */
void pending_add_verdict(struct pending *p, enum policyd_check check, const struct verdict *v);
void pending_callback_done(struct pending *p);

#endif
