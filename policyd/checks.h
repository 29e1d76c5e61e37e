/*
 * checks.h - the decision of every policyd check, as pure functions over
 * what the request says and what was looked up. service.c does the
 * looking up (snapshot, Redis, DNS) and calls these.
 */
#ifndef LIMRISTEM_POLICY_CHECKS_H
#define LIMRISTEM_POLICY_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policyd/policyd.h"
#include "policyd/snapshot.h"
#include "policyd/verdict.h"

/* quota.c: the recipient (an account, or an alias whose local mailboxes
 * all are full) cannot take size more bytes. */
void quota_decide(const struct snapshot *snap, const char *recipient, long long size,
		  enum policyd_refusal action, struct verdict *v);

/* sendlimit.c */
struct send_limits {
	long long messages;	/* per window; 0 for no limit */
	long long recipients;
	long long hold_factor;
	long long window_ms;
};
struct send_counts {
	double messages;	/* in the sliding window, this message included */
	double recipients;
};
/* The limits of login: the account's own, else the configured defaults. */
void send_limits_for(const struct account *account, const struct policyd_section *s,
		     struct send_limits *limits_r);
/* A sliding window from two fixed ones: the current count plus the part
 * of the previous window still inside the sliding one. */
double send_window_count(long long current, long long previous, double elapsed_fraction);
/* DUNNO under the limits, DEFER over one, HOLD at hold_factor times one. */
void send_limit_decide(const char *login, const struct send_counts *counts,
		       const struct send_limits *limits, struct verdict *v);
void send_held_verdict(const char *login, struct verdict *v);

/* trap.c */
void trap_verdict(const char *recipient, struct verdict *v);
void block_verdict(const char *network, struct verdict *v);

/* ownership.c: the sender is login itself, or an alias that delivers to
 * it (directly or through other aliases). The null sender is allowed. */
bool sender_owned(const struct snapshot *snap, const char *login, const char *sender);
void ownership_decide(const struct snapshot *snap, const char *login, const char *sender,
		      struct verdict *v);

/* blocklist.c: the RFC 5782 test of a zone, from its answers for the
 * test addresses 127.0.0.2 (must be listed) and 127.0.0.1 (must not). */
enum zone_health {
	ZONE_UNTESTED,		/* not known yet: not used */
	ZONE_HEALTHY,
	ZONE_LISTS_EVERYTHING,	/* 127.0.0.1 is listed: the zone is broken or hostile */
	ZONE_LISTS_NOTHING,	/* 127.0.0.2 is not listed: the zone is gone or not a DNSBL */
	ZONE_UNREACHABLE,	/* the test could not be answered: not used until it is */
};
enum zone_test_answer { ZONE_ANSWER_LISTED, ZONE_ANSWER_NOT_LISTED, ZONE_ANSWER_ERROR };
enum zone_health zone_health_judge(enum zone_test_answer for_127_0_0_2,
				   enum zone_test_answer for_127_0_0_1);
const char *zone_health_name(enum zone_health health);

struct blocklist_hit {
	const char *zone;
	const char *answer;	/* "127.0.0.2" */
	const char *reason;	/* the zone's TXT, or "" */
};
void blocklist_decide(const char *client, const struct blocklist_hit *hit,
		      enum policyd_refusal action, struct verdict *v);

#endif
