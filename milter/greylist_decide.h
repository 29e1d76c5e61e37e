/*
 * greylist_decide.h - the greylisting rules as a pure function: from what
 * is stored about a triplet and about its origin (the automatic
 * whitelist), and the time, what to answer and what to store.
 *
 * Stored values (strings, so that Redis and the in-memory store keep them
 * alike):
 *   triplet  "wait FIRST"       first seen, not retried yet
 *            "pass FIRST LAST"  retried after the delay; LAST = last seen
 *   origin   "COUNT LAST"       deliveries counted (at most one per
 *                               whitelist_interval), LAST = last counted
 */
#ifndef LIMRISTEM_MILTER_GREYLIST_DECIDE_H
#define LIMRISTEM_MILTER_GREYLIST_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

struct greylist_policy {
	int64_t delay_s;		/* a retry sooner than this is deferred again */
	int64_t retry_window_s;		/* a retry later than delay + this starts over */
	int64_t pass_lifetime_s;	/* a passed triplet (and a whitelist count) is kept this long */
	long long whitelist_after;	/* deliveries before the origin skips greylisting; 0: never */
	int64_t whitelist_interval_s;	/* deliveries closer than this count once */
};

enum greylist_verdict {
	GREYLIST_DEFER_NEW,		/* first attempt (or a retry too late) */
	GREYLIST_DEFER_EARLY,		/* retried before the delay */
	GREYLIST_PASS_RETRY,		/* retried within the window: passes from now on */
	GREYLIST_PASS_KNOWN,		/* passed before */
	GREYLIST_PASS_WHITELISTED,	/* the origin delivered often enough */
};

#define GREYLIST_VALUE_MAX 64

struct greylist_decision {
	enum greylist_verdict verdict;
	int64_t retry_in_s;		/* deferred: seconds until a retry passes */
	bool write_triplet;
	char triplet_value[GREYLIST_VALUE_MAX];
	int64_t triplet_ttl_s;
	bool write_origin;
	char origin_value[GREYLIST_VALUE_MAX];
	int64_t origin_ttl_s;
};

/* triplet and origin are the stored values, NULL when absent; an
 * unreadable value counts as absent. use_whitelist false: the origin's
 * count neither exempts nor grows (a message greylisted for its score). */
void greylist_decide(const struct greylist_policy *policy, int64_t now_s, const char *triplet,
		     const char *origin, bool use_whitelist, struct greylist_decision *d);

bool greylist_verdict_passes(enum greylist_verdict v);
const char *greylist_verdict_name(enum greylist_verdict v);

#endif
