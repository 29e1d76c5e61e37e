/*
 * spf.h - SPF (RFC 7208) verdicts for the MAIL FROM and HELO identities.
 *
 * libspf2 evaluates the records; every DNS question it has is answered by
 * the lookup function given to spf_checker_new() (in the milter, the
 * suite's cached resolver, dns_lookup() from common/dns.h), never by
 * libspf2's own resolver. Our DNS layer also enforces the RFC 7208 4.6.4
 * limits libspf2 gets wrong or lacks: 10 DNS-querying terms across
 * includes, 2 void lookups, more than 10 MX names is a permerror, PTR names
 * past the 10th are ignored; and a time limit per evaluation.
 *
 * Thread safety: one checker serves any number of threads (and fibers) at
 * once. An evaluation takes a libspf2 server and DNS layer from the
 * checker's pool (made once: about 20 us each, see the report in
 * tests/unit/test_spf.c), binds the layer to its own state and gives the
 * pair back; the pool has a lock of its own. The lookup function must be
 * safe to call from several threads (dns_lookup() is). The spf_check_*()
 * functions block for as long as the lookups take, bounded by the time
 * limit.
 *
 * libspf2's process-wide log hooks are pointed at log.h on first use.
 */
#ifndef LIMRISTEM_SPF_H
#define LIMRISTEM_SPF_H

#include <stddef.h>

#include "common/cidr.h"
#include "common/dns.h"

/* Longest time one evaluation may take (RFC 7208 4.6.4: at least 20 s);
 * past it the verdict is temperror. */
#define SPF_TIME_LIMIT_MS 20000

#define SPF_DOMAIN_MAX 256		/* a domain and its NUL */
#define SPF_SENDER_MAX 1024		/* "local@domain" and its NUL */
#define SPF_EXPLANATION_MAX 512
#define SPF_PROBLEM_MAX 512

enum spf_verdict {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

enum spf_identity {
	SPF_IDENTITY_MAILFROM,
	SPF_IDENTITY_HELO,		/* the HELO check, or MAIL FROM:<> (RFC 7208 2.4) */
};

struct spf_result {
	enum spf_verdict verdict;
	enum spf_identity identity;
	char domain[SPF_DOMAIN_MAX];	/* the domain checked: of MAIL FROM, or the HELO name */
	char sender[SPF_SENDER_MAX];	/* <sender> as evaluated: "user@domain", "postmaster@helo" */
	char explanation[SPF_EXPLANATION_MAX];	/* fail only: the domain's exp= text, or ours */
	char problem[SPF_PROBLEM_MAX];	/* for logs: why none, temperror or permerror */
};

/* Answers one DNS question; the answer is freed with dns_answer_free().
 * Called from the thread running the check. */
typedef struct dns_answer *spf_lookup_fn(void *ctx, const char *name, enum dns_type type);

/* The lookup function for a struct dns *: dns_lookup(). */
struct dns_answer *spf_lookup_dns(void *dns, const char *name, enum dns_type type);

struct spf_checker;

/* receiving_host is our host name, for the %{r} macro. NULL with err
 * filled when an argument is unusable. */
struct spf_checker *spf_checker_new(spf_lookup_fn *lookup, void *lookup_ctx,
				    const char *receiving_host, char *err, size_t errlen);
void spf_checker_free(struct spf_checker **checker);
/* Not while checks run. */
void spf_checker_set_time_limit(struct spf_checker *checker, long long ms);

/* Checks MAIL FROM (mail_from with or without angle brackets). The null
 * sender ("" or "<>") checks the HELO identity instead, as
 * postmaster@helo. helo feeds the %{h} macro; it may be NULL. Returns 0,
 * or -1 for unusable arguments (result_r then says temperror and why). */
int spf_check_mailfrom(const struct spf_checker *checker, const struct ip_addr *client,
		       const char *helo, const char *mail_from, struct spf_result *result_r);
/* Checks the HELO identity (RFC 7208 2.3). */
int spf_check_helo(const struct spf_checker *checker, const struct ip_addr *client,
		   const char *helo, struct spf_result *result_r);

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" */
const char *spf_verdict_name(enum spf_verdict verdict);

#endif
