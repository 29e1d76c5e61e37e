/*
 * dmarc.h - DMARC (RFC 7489) evaluation for limristem-milter.
 *
 * Record discovery is ours (section 6.6.3): the TXT records of
 * _dmarc.FROM-DOMAIN through the caller's lookup (the milter plugs in the
 * suite's resolver), records not starting with "v=DMARC1" ignored, more
 * than one valid record means no policy, and with none at the From domain
 * the organizational domain is asked. The organizational domain and the
 * relaxed alignment come from the public suffix list (libpsl, Debian's
 * publicsuffix). libopendmarc parses the record (p, sp, pct, adkim, aspf).
 * pct sampling is applied as section 6.6.4 says: a message outside the
 * sample gets the next weaker policy.
 */
#ifndef LIMRISTEM_MAILAUTH_DMARC_H
#define LIMRISTEM_MAILAUTH_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/addr.h"

enum dmarc_lookup_status { DMARC_LOOKUP_OK, DMARC_LOOKUP_NONE, DMARC_LOOKUP_TEMPFAIL };

/* All TXT records at name, each its strings joined, in *txt_r (count in
 * *count_r), heap-allocated: the caller of dmarc_evaluate frees them with
 * dmarc_txt_free(). OK with no records is the same as NONE. */
typedef enum dmarc_lookup_status dmarc_lookup_fn(void *ctx, const char *name, char ***txt_r,
						 size_t *count_r);
void dmarc_txt_free(char **txt, size_t count);

enum dmarc_policy { DMARC_POLICY_NONE_SET, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };
enum dmarc_verdict { DMARC_RESULT_NONE, DMARC_RESULT_PASS, DMARC_RESULT_FAIL,
		     DMARC_RESULT_TEMPERROR, DMARC_RESULT_PERMERROR };

/* An authenticated identifier: a DKIM d= that verified, or the domain SPF
 * passed for (MAIL FROM, or HELO for the null sender). */
struct dmarc_identifier {
	const char *domain;
	bool pass;
};

struct dmarc_input {
	const char *from_domain;	/* the RFC5322.From domain, lowercase A-labels */
	const struct dmarc_identifier *dkim;
	size_t dkim_count;
	struct dmarc_identifier spf;	/* domain NULL when SPF did not pass or was not checked */
	unsigned sample;		/* 0..99, uniformly random: compared with pct */
};

struct dmarc_result {
	enum dmarc_verdict verdict;
	enum dmarc_policy policy;	/* what the domain asks (p, or sp for a subdomain) */
	enum dmarc_policy applied;	/* after pct sampling; what to enforce on FAIL */
	bool used_sp;
	bool dkim_aligned, spf_aligned;
	int pct;
	char policy_domain[ADDR_DOMAIN_MAX + 1];	/* where the record was found */
	char org_domain[ADDR_DOMAIN_MAX + 1];
	char reason[ADDR_DOMAIN_MAX + 160];
};

struct dmarc_checker;

/* NULL with err when the public suffix list cannot be loaded. Shareable
 * between threads (read-only after creation). */
struct dmarc_checker *dmarc_checker_new(char *err, size_t errlen);
void dmarc_checker_free(struct dmarc_checker **checker);

/* The organizational domain of domain ("" when it is a public suffix). */
void dmarc_org_domain(const struct dmarc_checker *checker, const char *domain, char *out,
		      size_t outlen);

void dmarc_evaluate(const struct dmarc_checker *checker, const struct dmarc_input *in,
		    dmarc_lookup_fn *lookup, void *ctx, struct dmarc_result *result_r);

const char *dmarc_verdict_name(enum dmarc_verdict verdict);
const char *dmarc_policy_name(enum dmarc_policy policy);

#endif
