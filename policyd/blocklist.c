/*
 * blocklist.c - DNS blocklist decisions: whether a zone may be used (its
 * RFC 5782 test entries answer as they must) and the answer for a listed
 * client, worded like Postfix's reject_rbl_client so operators and senders
 * recognise it.
 */
#include "autoconfig.h"

#include "policyd/checks.h"

enum zone_health zone_health_judge(enum zone_test_answer for_127_0_0_2,
				   enum zone_test_answer for_127_0_0_1)
{
	if (for_127_0_0_1 == ZONE_ANSWER_LISTED)
		return ZONE_LISTS_EVERYTHING;
	if (for_127_0_0_2 == ZONE_ANSWER_ERROR || for_127_0_0_1 == ZONE_ANSWER_ERROR)
		return ZONE_UNREACHABLE;
	if (for_127_0_0_2 == ZONE_ANSWER_NOT_LISTED)
		return ZONE_LISTS_NOTHING;
	return ZONE_HEALTHY;
}

const char *zone_health_name(enum zone_health health)
{
	static const char *const names[] = {
		"untested", "healthy", "lists 127.0.0.1 (everything)",
		"does not list 127.0.0.2", "unreachable",
	};

	return health <= ZONE_UNREACHABLE ? names[health] : "?";
}

void blocklist_decide(const char *client, const struct blocklist_hit *hit,
		      enum policyd_refusal action, struct verdict *v)
{
	const char *sep = hit->reason[0] ? "; " : "";

	if (action == POLICYD_DEFER)
		verdict_set(v, VERDICT_DEFER, "blocklist",
			    "450 4.7.1 Service unavailable; client [%s] blocked using %s%s%s",
			    client, hit->zone, sep, hit->reason);
	else
		verdict_set(v, VERDICT_REJECT, "blocklist",
			    "554 5.7.1 Service unavailable; client [%s] blocked using %s%s%s",
			    client, hit->zone, sep, hit->reason);
}
