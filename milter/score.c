/*
 * score.c - the spam score and its action (see score.h for the table).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "milter/score.h"

#define TRAP_POINTS 4.0
#define TRAP_HITS_MAX 3
#define LISTED_POINTS 3.0
#define REPUTATION_PRIOR 5.0	/* pseudo-messages that damp a short history */

static void add(struct score_result *r, size_t *used, const char *name, double points)
{
	int n;

	if (points == 0)
		return;
	r->score += points;
	n = snprintf(r->reasons + *used, sizeof(r->reasons) - *used, "%s%s(%.1f)",
		     *used ? "," : "", name, points);
	if (n < 0 || (size_t)n >= sizeof(r->reasons) - *used)
		r->reasons[*used] = '\0';	/* the score counts it; the list is full */
	else
		*used += (size_t)n;
}

static double entity_points(const struct score_entity *e)
{
	static const double weights[REP_TYPE_COUNT] = { 4.0, 3.0, 3.0, 4.0 };
	const struct rep_counters *c = &e->counters;
	double total = c->good + c->bad + c->rejected;

	if (total < 0.01)
		return 0;
	return weights[e->type] * (c->bad + c->rejected - c->good) / (total + REPUTATION_PRIOR);
}

static void add_entities(const struct score_input *in, struct score_result *r, size_t *used)
{
	static const char *const names[REP_TYPE_COUNT] = { "ip_rep", "network_rep", "spf_rep",
							   "dkim_rep" };
	double dkim_best = 0, trap = 0, listed = 0;
	bool dkim_seen = false;

	for (size_t i = 0; i < in->entity_count; i++) {
		const struct score_entity *e = &in->entities[i];
		double points = entity_points(e);

		if (e->counters.trap_hits > trap)
			trap = e->counters.trap_hits;
		if (e->counters.listed > listed)
			listed = e->counters.listed;
		if (e->type == REP_DKIM_DOMAIN) {	/* several signers: the best one counts */
			if (!dkim_seen || points < dkim_best)
				dkim_best = points;
			dkim_seen = true;
			continue;
		}
		add(r, used, names[e->type], points);
	}
	if (dkim_seen)
		add(r, used, names[REP_DKIM_DOMAIN], dkim_best);
	if (trap > 0)
		add(r, used, "trap", TRAP_POINTS * (trap > TRAP_HITS_MAX ? TRAP_HITS_MAX : (int)trap));
	if (listed > 0)
		add(r, used, "listed", LISTED_POINTS);
}

void score_compute(const struct score_input *in, struct score_result *r)
{
	size_t used = 0;

	memset(r, 0, sizeof(*r));
	add_entities(in, r, &used);
	if (in->spf == SPF_FAIL)
		add(r, &used, "spf_fail", 3.0);
	else if (in->spf == SPF_SOFTFAIL)
		add(r, &used, "spf_softfail", 1.5);
	else if (in->spf == SPF_PASS)
		add(r, &used, "spf_pass", -0.5);
	if (in->dkim_pass)
		add(r, &used, "dkim_pass", -0.5);
	else if (in->dkim_fail)
		add(r, &used, "dkim_fail", 1.0);
	if (in->dmarc_pass)
		add(r, &used, "dmarc_pass", -1.0);
	else if (in->dmarc_fail)
		add(r, &used, "dmarc_fail", 3.0);
	if (in->arc_trusted)
		add(r, &used, "arc_trusted", -1.0);
	if (in->trusted_reply)
		add(r, &used, "trusted_reply", -5.0);
}

enum score_action score_action(double score, const struct score_thresholds *t)
{
	if (t->reject != 0 && score >= (double)t->reject)
		return SCORE_REJECT;
	if (t->greylist != 0 && score >= (double)t->greylist)
		return SCORE_GREYLIST;
	if (t->spam_headers != 0 && score >= (double)t->spam_headers)
		return SCORE_HEADERS;
	return SCORE_ACCEPT;
}

const char *score_action_name(enum score_action action)
{
	static const char *const names[] = { "accept", "spam-headers", "greylist", "reject" };

	return (unsigned)action <= SCORE_REJECT ? names[action] : "?";
}
