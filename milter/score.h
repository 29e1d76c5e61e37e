/*
 * score.h - the spam score of an inbound message, as a pure function of
 * its entities' reputations and its authentication results, and the
 * action the configured thresholds give it. Positive is spammy.
 *
 * What adds up (points; each reason is named in X-Spam-Status):
 *   ip_rep, network_rep, spf_rep, dkim_rep
 *                 an entity with history: weight (4, 3, 3, 4) times
 *                 (bad + rejected - good) / (good + bad + rejected + 5),
 *                 so between -weight and +weight, damped while it is new
 *   trap          +4 per spam-trap hit of the client network (at most 3)
 *   listed        +3 when policyd saw the client IP on a blocklist
 *   spf_fail +3, spf_softfail +1.5, spf_pass -0.5
 *   dkim_pass -0.5 (a valid signature), dkim_fail +1 (signatures, none valid)
 *   dmarc_pass -1, dmarc_fail +3 (a failure its policy let through)
 *   arc_trusted -1 (a passing chain sealed by trusted sealers)
 *   trusted_reply -5 (a validated reply to a correspondent of our user)
 */
#ifndef LIMRISTEM_MILTER_SCORE_H
#define LIMRISTEM_MILTER_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/reputation.h"
#include "mailauth/spf.h"

#define SCORE_ENTITIES_MAX 8
#define SCORE_REASONS_MAX 400

struct score_entity {
	enum rep_type type;
	struct rep_counters counters;
};

struct score_input {
	size_t entity_count;
	struct score_entity entities[SCORE_ENTITIES_MAX];
	enum spf_verdict spf;		/* MAIL FROM */
	bool dkim_pass, dkim_fail;	/* dkim_fail: signatures, none valid */
	bool dmarc_pass, dmarc_fail;
	bool arc_trusted;
	bool trusted_reply;
};

struct score_result {
	double score;
	char reasons[SCORE_REASONS_MAX];	/* "spf_fail(3.0),ip_rep(2.1)", "" for none */
};

/* Whole points; 0 turns a threshold off. */
struct score_thresholds {
	long long spam_headers, greylist, reject;
};

enum score_action { SCORE_ACCEPT, SCORE_HEADERS, SCORE_GREYLIST, SCORE_REJECT };

void score_compute(const struct score_input *in, struct score_result *result_r);
/* The strongest action whose threshold the score reaches. */
enum score_action score_action(double score, const struct score_thresholds *t);
const char *score_action_name(enum score_action action);

#endif
