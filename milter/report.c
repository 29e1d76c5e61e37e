/*
 * report.c - our Authentication-Results (RFC 8601) for a verified message:
 * spf for MAIL FROM and HELO, one dkim per signature, dmarc, arc.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "common/log.h"
#include "mailauth/authres.h"
#include "milter/milter.h"
#include "milter/verify.h"

static const char *dmarc_disposition(const struct verify_outcome *o)
{
	if (o->dmarc.verdict != DMARC_RESULT_FAIL)
		return NULL;
	if (o->arc_override || o->action == VERIFY_ACCEPT)
		return "none";
	return o->action == VERIFY_REJECT ? "reject" : "quarantine";
}

int verify_authres(const struct milter_context *mc, const struct connection *conn,
		   const struct verify_outcome *o, char *out, size_t outlen)
{
	struct authres_result r[AUTHRES_MAX_RESULTS];
	size_t n = 0;
	const char *why = "";

	r[n++] = (struct authres_result){ .method = AUTHRES_SPF_MAILFROM,
		.result = spf_verdict_name(o->spf_mailfrom.verdict),
		.spf = { o->spf_mailfrom.sender } };
	if (conn->helo[0] && conn->helo[0] != '[')	/* an address literal names no domain */
		r[n++] = (struct authres_result){ .method = AUTHRES_SPF_HELO,
			.result = spf_verdict_name(o->spf_helo.verdict), .spf = { conn->helo } };
	for (size_t i = 0; o->dkim != NULL && i < o->dkim->count && n < AUTHRES_MAX_RESULTS - 2; i++) {
		const struct dkim_verify_sig *sig = &o->dkim->sigs[i];

		r[n++] = (struct authres_result){ .method = AUTHRES_DKIM,
			.result = dkim_result_name(sig->result),
			.reason = sig->reason[0] ? sig->reason : NULL,
			.dkim = { sig->domain, sig->selector, sig->b, sig->algorithm } };
	}
	if (o->dkim != NULL && o->dkim->count == 0)
		r[n++] = (struct authres_result){ .method = AUTHRES_DKIM, .result = "none" };
	if (o->from_domain[0])
		r[n++] = (struct authres_result){ .method = AUTHRES_DMARC,
			.result = dmarc_verdict_name(o->dmarc.verdict),
			.reason = o->arc_override ? "overridden by a trusted ARC chain" : NULL,
			.dmarc = { o->from_domain,
				   o->dmarc.policy != DMARC_POLICY_NONE_SET ? dmarc_policy_name(o->dmarc.policy) : NULL,
				   NULL, dmarc_disposition(o) } };
	r[n++] = (struct authres_result){ .method = AUTHRES_ARC,
		.result = o->arc.status == ARC_STATUS_PASS ? "pass"
			  : o->arc.status == ARC_STATUS_FAIL ? "fail" : "none",
		.arc = { conn->client_text, o->arc.status == ARC_STATUS_PASS ? o->arc.oldest_pass : 0 } };
	if (authres_build(mc->authserv_id, r, n, "\n\t", out, outlen, &why) == 0)
		return 0;
	log_error("milter: cannot write Authentication-Results: %s", why);
	return -1;
}
