/*
 * context.c - what the daemon and the unit tests' fixture alike make a
 * struct milter_context (milter.h) with: its metrics (every counter the
 * checks update, registered once) and the DMARC checker its settings ask
 * for.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "milter/dns_glue.h"
#include "milter/milter.h"
#include "milter/score.h"

void milter_context_metrics(struct milter_context *mc, struct metrics *m)
{
	static const char *const outcomes[] = { "accept", "reject", "tempfail", "quarantine" };
	static const char *const arc[] = { "none", "pass", "fail" };
	char labels[64];

	for (int i = 0; i < 4; i++) {
		snprintf(labels, sizeof(labels), "action=\"%s\"", outcomes[i]);
		mc->messages[i] = metrics_counter(m, "milter_messages_total", labels,
						     "messages by the action taken");
	}
	for (int i = 0; i <= DKIM_RESULT_PERMERROR; i++) {
		snprintf(labels, sizeof(labels), "result=\"%s\"", dkim_result_name(i));
		mc->dkim_results[i] = metrics_counter(m, "milter_dkim_results_total", labels,
							 "DKIM signatures verified, by result");
	}
	for (int i = 0; i <= SPF_PERMERROR; i++) {
		snprintf(labels, sizeof(labels), "result=\"%s\"", spf_verdict_name(i));
		mc->spf_results[i] = metrics_counter(m, "milter_spf_results_total", labels,
							"SPF results for MAIL FROM");
	}
	for (int i = 0; i <= DMARC_RESULT_PERMERROR; i++) {
		snprintf(labels, sizeof(labels), "result=\"%s\"", dmarc_verdict_name(i));
		mc->dmarc_results[i] = metrics_counter(m, "milter_dmarc_results_total", labels,
							  "DMARC results");
	}
	for (int i = 0; i < 3; i++) {
		snprintf(labels, sizeof(labels), "result=\"%s\"", arc[i]);
		mc->arc_results[i] = metrics_counter(m, "milter_arc_results_total", labels,
							"ARC chain validations by result");
	}
	mc->bad_from = metrics_counter(m, "milter_bad_from_total", NULL,
					  "messages refused for their From header fields");
	for (int i = 0; i < 3; i++) {
		static const char *const kinds[] = { "results", "arc_results", "verdicts" };

		snprintf(labels, sizeof(labels), "kind=\"%s\"", kinds[i]);
		mc->removed_fields[i] = metrics_counter(m, "milter_removed_fields_total", labels,
							   "incoming header fields deleted: results claiming "
							   "our authserv-id, foreign X-Spam/X-Limristem fields");
	}
	mc->signed_messages = metrics_counter(m, "milter_signed_total", NULL,
						 "outbound messages DKIM-signed");
	mc->unsigned_messages = metrics_counter(m, "milter_unsigned_total", NULL,
						   "outbound messages left unsigned or refused");
	mc->sealed_messages = metrics_counter(m, "milter_sealed_total", NULL,
						 "forwarded messages ARC-sealed");
	mc->unsealed_messages = metrics_counter(m, "milter_unsealed_total", NULL,
						   "forwarded messages that could not be sealed");
	for (int i = 0; i < GREYLIST_RESULTS; i++) {
		static const char *const results[] = { "deferred", "deferred_early", "passed_retry",
						       "passed", "whitelisted", "exempt",
						       "trusted_reply", "unavailable" };
		snprintf(labels, sizeof(labels), "result=\"%s\"", results[i]);
		mc->greylist[i] = metrics_counter(m, "milter_greylist_total", labels,
						     "recipients by what greylisting did");
	}
	for (int i = 0; i <= SCORE_REJECT; i++) {
		snprintf(labels, sizeof(labels), "action=\"%s\"", score_action_name(i));
		mc->score_actions[i] = metrics_counter(m, "milter_score_actions_total", labels,
							  "inbound messages by the action of their score "
							  "(reject includes operator blocks)");
	}
	mc->trusted_recorded = metrics_counter(m, "milter_trusted_replies_recorded_total", NULL,
						  "external recipients of our users recorded as "
						  "trusted correspondents");
	mc->internal_errors = metrics_counter(m, "milter_internal_errors_total", NULL,
						 "messages answered internal_error_action for a fault of "
						 "the filter itself");
	dns_glue_metrics(m);
	mc->latency = metrics_histogram(m, "milter_message_seconds", NULL,
					   "time from MAIL FROM to the answer at the end of the message",
					   metrics_latency_buckets, metrics_latency_bucket_count);
}

struct dmarc_checker *milter_dmarc_checker_new(const struct milter_section *s, char *err,
					       size_t errlen)
{
	struct dmarc_options options = { .org_method = (enum dmarc_org_method)s->dmarc_org_domain,
					 .pct0 = (enum dmarc_pct0)s->dmarc_pct0 };

	return dmarc_checker_new(&options, err, errlen);
}
