/*
 * report.c - our Authentication-Results (RFC 8601) for a verified message:
 * spf for MAIL FROM and HELO, one dkim per signature, dmarc, arc.
 *
 * dmarc shows the policy applied and why: the record's p, the sp or np
 * that applied to a subdomain, t=y (or the historic pct=0) when testing
 * mode lowered it, psd=y when the record is a Public Suffix Domain's, our
 * disposition, and policy.dmarc (RFC 9989 9.1), the policy the evaluation
 * arrived at.
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

static struct authres_dmarc dmarc_properties(const struct verify_outcome *o)
{
	const struct dmarc_result *d = &o->dmarc;
	bool applies = d->verdict == DMARC_RESULT_PASS || d->verdict == DMARC_RESULT_FAIL;
	struct authres_dmarc a = { .from_domain = o->from_domain, .disposition = dmarc_disposition(o) };

	if (!applies)
		return a;
	a.policy = dmarc_policy_name(d->record.p != DMARC_POLICY_NONE_SET && !d->invalid_as_none
				     ? d->record.p : DMARC_P_NONE);
	if (d->policy_tag == DMARC_TAG_SP)
		a.subdomain_policy = dmarc_policy_name(d->policy);
	if (d->policy_tag == DMARC_TAG_NP)
		a.nonexistent_policy = dmarc_policy_name(d->policy);
	if (d->testing && d->testing_pct0)
		a.pct = "0";
	else if (d->testing)
		a.testing = "y";
	if (d->psd_policy)
		a.psd = "y";
	if (d->verdict == DMARC_RESULT_FAIL)
		a.evaluated = dmarc_policy_name(d->applied);
	return a;
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
			.dmarc = dmarc_properties(o) };
	r[n++] = (struct authres_result){ .method = AUTHRES_ARC,
		.result = o->arc.status == ARC_STATUS_PASS ? "pass"
			  : o->arc.status == ARC_STATUS_FAIL ? "fail" : "none",
		.arc = { conn->client_text, o->arc.status == ARC_STATUS_PASS ? o->arc.oldest_pass : 0 } };
	if (authres_build(mc->authserv_id, r, n, "\n\t", out, outlen, &why) == 0)
		return 0;
	log_error("milter: cannot write Authentication-Results: %s", why);
	return -1;
}
