/*
 * dmarc.h - DMARC evaluation as RFC 9989 says, for limristem-milter.
 *
 * Policy discovery (RFC 9989 4.10.1): the DMARC Policy Record of the
 * Author Domain (the From domain); without one, the DNS Tree Walk
 * (dmarc_walk.h) up from it finds its Organizational Domain and the record
 * of that domain, or else of its Public Suffix Domain (a record with
 * psd=y). Several records at one name are discarded, as if none was there.
 *
 * Identifier alignment (4.10.2) of each DKIM d= that verified and of the
 * domain SPF passed for: strict compares the names; relaxed compares
 * Organizational Domains, each found by a tree walk from its domain. A
 * walk is skipped when its answer cannot matter: an identifier equal to
 * the Author Domain aligns at once, and one that is not the Author
 * Domain's Organizational Domain or below it never aligns, so a spoofer's
 * signatures from its own domains cost no question.
 *
 * The policy: p of the Author Domain's own record; for a subdomain, sp
 * when it exists and np when it does not (its TXT lookup answers NXDOMAIN,
 * RFC 9989 3.2.13; asked only when np and sp differ and the message
 * fails). A record whose p, sp or np is present but not valid gives p=none
 * when its rua holds a valid URI and no DMARC processing (permerror)
 * otherwise; a record without p is p=none. t=y (testing) lowers the policy
 * one level (reject -> quarantine -> none). pct, rf and ri are historic and
 * change nothing, except that with DMARC_PCT0_TESTING a record with pct=0
 * and no t= is in testing mode, as its publisher meant (see
 * limristem-milter(8)).
 *
 * Every DNS question goes through the caller's lookup; one evaluation asks
 * a name at most once and at most DMARC_QUERIES_MAX names. A temporary
 * failure of a question the result depends on gives temperror (5.3.6).
 *
 * Compatibility (DMARC_ORG_PSL): Organizational Domains from the public
 * suffix list (libpsl, Debian's publicsuffix) as RFC 7489 did: the record
 * of the From domain, else of its organizational domain; psd ignored.
 */
#ifndef LIMRISTEM_MAILAUTH_DMARC_H
#define LIMRISTEM_MAILAUTH_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/addr.h"
#include "mailauth/dmarc_record.h"

enum dmarc_lookup_status {
	DMARC_LOOKUP_OK,	/* TXT records in *txt_r (OK with none is NONE) */
	DMARC_LOOKUP_NONE,	/* the name exists, without TXT records */
	DMARC_LOOKUP_NXDOMAIN,	/* the name does not exist (nor anything below it) */
	DMARC_LOOKUP_TEMPFAIL,
};

/* All TXT records at name, each its strings joined, in *txt_r (count in
 * *count_r), heap-allocated: dmarc_evaluate frees them with
 * dmarc_txt_free(). */
typedef enum dmarc_lookup_status dmarc_lookup_fn(void *ctx, const char *name, char ***txt_r,
						 size_t *count_r);
void dmarc_txt_free(char **txt, size_t count);

enum dmarc_verdict { DMARC_RESULT_NONE, DMARC_RESULT_PASS, DMARC_RESULT_FAIL,
		     DMARC_RESULT_TEMPERROR, DMARC_RESULT_PERMERROR };

/* Which tag of the record gave the policy. */
enum dmarc_policy_tag { DMARC_TAG_P, DMARC_TAG_SP, DMARC_TAG_NP };

enum dmarc_org_method {
	DMARC_ORG_TREE_WALK,	/* RFC 9989 */
	DMARC_ORG_PSL,		/* RFC 7489's public suffix list (compatibility) */
};
enum dmarc_pct0 {
	DMARC_PCT0_TESTING,	/* pct=0 without t=: as t=y */
	DMARC_PCT0_IGNORE,	/* pct ignored altogether */
};

struct dmarc_options {
	enum dmarc_org_method org_method;
	enum dmarc_pct0 pct0;
};

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
};

struct dmarc_result {
	enum dmarc_verdict verdict;
	struct dmarc_record record;	/* the policy record, as read (when one applies) */
	enum dmarc_policy policy;	/* what the record asks for the From domain */
	enum dmarc_policy_tag policy_tag;	/* ... and from which tag */
	bool inherited;			/* the record is an ancestor's: sp or np applies */
	enum dmarc_policy applied;	/* after testing mode: what to enforce on FAIL */
	bool testing;			/* applied is one level under policy */
	bool testing_pct0;		/* ... for pct=0 (DMARC_PCT0_TESTING), not t=y */
	bool psd_policy;		/* the record is a Public Suffix Domain's (psd=y) */
	bool invalid_as_none;		/* p, sp or np not valid: p=none, for rua is */
	bool dkim_aligned, spf_aligned;
	unsigned queries;		/* DNS questions this evaluation asked */
	char policy_domain[ADDR_DOMAIN_MAX + 1];	/* where the record was found */
	char org_domain[ADDR_DOMAIN_MAX + 1];		/* of the From domain, when known */
	char reason[ADDR_DOMAIN_MAX + 160];
};

struct dmarc_checker;

/* NULL with err when DMARC_ORG_PSL is asked and the public suffix list
 * cannot be loaded. Shareable between threads (read-only after creation). */
struct dmarc_checker *dmarc_checker_new(const struct dmarc_options *options, char *err,
					size_t errlen);
void dmarc_checker_free(struct dmarc_checker **checker);

/* The Organizational Domain of domain into out: by a tree walk (its
 * questions counted in *queries_r) or the public suffix list ("" for a
 * public suffix). 0, or -1 when a DNS question failed. */
int dmarc_org_domain(const struct dmarc_checker *checker, const char *domain,
		     dmarc_lookup_fn *lookup, void *ctx, char *out, size_t outlen,
		     unsigned *queries_r);

void dmarc_evaluate(const struct dmarc_checker *checker, const struct dmarc_input *in,
		    dmarc_lookup_fn *lookup, void *ctx, struct dmarc_result *result_r);

/* Why the policy applied is what it is, for logs: "" for the From domain's
 * own p; else items such as "sp=quarantine@example.org", "np=reject@...",
 * "psd", "t=y", "pct=0", "p=none:invalid", joined by commas. */
void dmarc_policy_why(const struct dmarc_result *result, char *out, size_t outlen);

const char *dmarc_verdict_name(enum dmarc_verdict verdict);
const char *dmarc_policy_tag_name(enum dmarc_policy_tag tag);

#endif
