/*
 * dmarc.c - DMARC evaluation (see dmarc.h): policy discovery, identifier
 * alignment, the policy that applies.
 */
#include "autoconfig.h"

#include <libpsl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "mailauth/dmarc.h"
#include "mailauth/dmarc_walk.h"

struct dmarc_checker {
	struct dmarc_options options;
	psl_ctx_t *psl;		/* DMARC_ORG_PSL only */
};

/* One evaluation. */
struct eval {
	const struct dmarc_checker *c;
	struct dmarc_answers *answers;
	char from[ADDR_DOMAIN_MAX + 1];
	bool from_org_known;	/* r->org_domain holds it */
	bool from_org_failed;	/* a DNS failure stopped the walk from the From domain */
	unsigned existence_queries;
	struct dmarc_result *r;
};

struct dmarc_checker *dmarc_checker_new(const struct dmarc_options *options, char *err,
					size_t errlen)
{
	struct dmarc_checker *c = xcalloc(1, sizeof(*c));

	c->options = *options;
	if (options->org_method == DMARC_ORG_PSL) {
		/* the newest of Debian's publicsuffix file and the built-in list */
		c->psl = psl_latest(NULL);
		if (c->psl == NULL) {
			snprintf(err, errlen, "cannot load the public suffix list (apt-get install publicsuffix)");
			free(c);
			return NULL;
		}
	}
	return c;
}

void dmarc_checker_free(struct dmarc_checker **cp)
{
	if (*cp == NULL)
		return;
	if ((*cp)->psl != NULL)
		psl_free((*cp)->psl);
	free(*cp);
	*cp = NULL;
}

void dmarc_txt_free(char **txt, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(txt[i]);
	free(txt);
}

/* A domain as the walk asks it: lowercase, no final dot. -1 when it does
 * not fit (no such domain exists). */
static int normalize(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
	out[n] = '\0';
	return 0;
}

/* The Organizational Domain of domain (normalized). 0 or -1 (DNS). */
static int org_of(struct eval *ev, const char *domain, char *out, size_t outlen)
{
	struct dmarc_walk w;

	if (ev->c->options.org_method == DMARC_ORG_PSL) {
		const char *org = psl_registrable_domain(ev->c->psl, domain);

		if (org == NULL || snprintf(out, outlen, "%s", org) >= (int)outlen)
			out[0] = '\0';
		return 0;
	}
	if (dmarc_walk(ev->answers, domain, &w) < 0)
		return -1;
	dmarc_walk_org(&w, out, outlen);
	return 0;
}

/* The From domain's Organizational Domain in r->org_domain, found once. */
static int from_org(struct eval *ev)
{
	if (ev->from_org_known)
		return 0;
	if (ev->from_org_failed || org_of(ev, ev->from, ev->r->org_domain,
					  sizeof(ev->r->org_domain)) < 0) {
		ev->from_org_failed = true;
		ev->r->org_domain[0] = '\0';
		return -1;
	}
	ev->from_org_known = true;
	return 0;
}

static void say(struct dmarc_result *r, enum dmarc_verdict verdict, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Ends the evaluation with verdict and the reason (cut when long). */
static void say(struct dmarc_result *r, enum dmarc_verdict verdict, const char *fmt, ...)
{
	va_list ap;

	r->verdict = verdict;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

static void use_record(struct eval *ev, const struct dmarc_asked *q)
{
	struct dmarc_result *r = ev->r;

	r->record = q->record;
	snprintf(r->policy_domain, sizeof(r->policy_domain), "%s", q->name);	/* names fit */
	r->inherited = strcmp(q->name, ev->from) != 0;
}

static int no_record(struct eval *ev, const struct dmarc_asked *at_from)
{
	if (at_from != NULL && at_from->several)
		say(ev->r, DMARC_RESULT_NONE, "several DMARC records at _dmarc.%s: all discarded "
		    "(RFC 9989 4.10)", ev->from);
	else
		say(ev->r, DMARC_RESULT_NONE, "no DMARC record");
	return -1;
}

/* RFC 9989 4.10.1. 0 with the record in r, or -1 with the verdict. */
static int discover_walk(struct eval *ev)
{
	struct dmarc_result *r = ev->r;
	const struct dmarc_asked *q = dmarc_ask(ev->answers, ev->from), *policy;
	struct dmarc_walk w;

	if (q == NULL || q->answer == DMARC_ANSWER_TEMPFAIL) {
		say(r, DMARC_RESULT_TEMPERROR, "DNS lookup of _dmarc.%s failed", ev->from);
		return -1;
	}
	if (q->answer == DMARC_ANSWER_RECORD) {
		use_record(ev, q);
		if (q->record.psd != DMARC_PSD_U) {	/* the walk would stop here */
			snprintf(r->org_domain, sizeof(r->org_domain), "%s", ev->from);
			ev->from_org_known = true;
		}
		return 0;
	}
	if (dmarc_walk(ev->answers, ev->from, &w) < 0) {
		ev->from_org_failed = true;
		say(r, DMARC_RESULT_TEMPERROR, "DNS lookup failed in the tree walk up from %s", ev->from);
		return -1;
	}
	if (w.found_count == 0)
		return no_record(ev, q);
	dmarc_walk_org(&w, r->org_domain, sizeof(r->org_domain));
	ev->from_org_known = true;
	/* the Organizational Domain's record, else the Public Suffix Domain's */
	policy = w.found[w.found_count - 1];
	for (size_t i = 0; i < w.found_count; i++)
		if (strcmp(w.found[i]->name, r->org_domain) == 0)
			policy = w.found[i];
	use_record(ev, policy);
	r->psd_policy = strcmp(policy->name, r->org_domain) != 0;
	return 0;
}

/* RFC 7489 with the public suffix list: the From domain's record, else
 * its organizational domain's. */
static int discover_psl(struct eval *ev)
{
	struct dmarc_result *r = ev->r;
	const struct dmarc_asked *q = dmarc_ask(ev->answers, ev->from), *at_from = q;

	from_org(ev);		/* no DNS with the list */
	if (q != NULL && q->answer == DMARC_ANSWER_NONE && r->org_domain[0] != '\0' &&
	    strcmp(r->org_domain, ev->from) != 0)
		q = dmarc_ask(ev->answers, r->org_domain);
	if (q == NULL || q->answer == DMARC_ANSWER_TEMPFAIL) {
		say(r, DMARC_RESULT_TEMPERROR, "DNS lookup of the DMARC record of %s failed", ev->from);
		return -1;
	}
	if (q->answer != DMARC_ANSWER_RECORD)
		return no_record(ev, at_from);
	use_record(ev, q);
	return 0;
}

/* RFC 9989 4.10.1: a p, sp or np that is not valid. -1 when the record
 * then brings no DMARC processing. */
static int check_requests(struct dmarc_result *r)
{
	const struct dmarc_record *rec = &r->record;

	if (!rec->p_invalid && !rec->sp_invalid && !rec->np_invalid)
		return 0;
	if (!rec->rua) {
		say(r, DMARC_RESULT_PERMERROR, "the DMARC record at _dmarc.%s has a %s that is not "
		    "valid and no valid rua: no DMARC processing (RFC 9989 4.10.1)", r->policy_domain,
		    rec->p_invalid ? "p" : rec->sp_invalid ? "sp" : "np");
		return -1;
	}
	r->invalid_as_none = true;	/* "as if a record containing p=none" */
	return 0;
}

static bool at_or_below(const char *domain, const char *ancestor)
{
	size_t d = strlen(domain), a = strlen(ancestor);

	if (a == 0 || d < a || strcmp(domain + d - a, ancestor) != 0)
		return false;
	return d == a || domain[d - a - 1] == '.';
}

/* One identifier against the From domain: 1 aligned, 0 not, -1 not
 * decided for a DNS failure. exact_only: only the free comparison. */
static int aligned(struct eval *ev, const char *identifier, bool strict, bool exact_only)
{
	char id[ADDR_DOMAIN_MAX + 1], org[ADDR_DOMAIN_MAX + 1];

	if (identifier == NULL || normalize(identifier, id, sizeof(id)) < 0)
		return 0;
	if (strcmp(id, ev->from) == 0)
		return 1;
	if (strict || exact_only)
		return 0;
	/* its Organizational Domain is an ancestor of it, as the From
	 * domain's is of the From domain: no common top-level domain, no
	 * common Organizational Domain */
	if (strcmp(dmarc_ancestor(id, 1), dmarc_ancestor(ev->from, 1)) != 0)
		return 0;
	if (from_org(ev) < 0)
		return -1;
	if (!at_or_below(id, ev->r->org_domain))
		return 0;
	if (org_of(ev, id, org, sizeof(org)) < 0)
		return -1;
	return strcmp(org, ev->r->org_domain) == 0;
}

/* Sets dkim_aligned and spf_aligned: the identifiers equal to the From
 * domain first (no question), then the others. -1 when none aligned and a
 * DNS failure left one undecided. */
static int align(struct eval *ev, const struct dmarc_input *in)
{
	struct dmarc_result *r = ev->r;
	bool undecided = false;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < in->dkim_count && !r->dkim_aligned; i++) {
			int a = in->dkim[i].pass ? aligned(ev, in->dkim[i].domain,
							    r->record.strict_dkim, pass == 0) : 0;
			r->dkim_aligned = a > 0;
			undecided |= a < 0;
		}
		if (!r->spf_aligned && in->spf.pass) {
			int a = aligned(ev, in->spf.domain, r->record.strict_spf, pass == 0);
			r->spf_aligned = a > 0;
			undecided |= a < 0;
		}
	}
	if (r->dkim_aligned || r->spf_aligned || !undecided)
		return 0;
	say(r, DMARC_RESULT_TEMPERROR, "DNS lookup failed while finding the organizational domain "
	    "of an identifier of %s", ev->from);
	return -1;
}

/* Whether the From domain exists (RFC 9989 3.2.13: NXDOMAIN says it does
 * not): 1, 0, or -1 for a DNS failure. */
static int from_exists(struct eval *ev, dmarc_lookup_fn *lookup, void *ctx)
{
	char **txt = NULL;
	size_t count = 0;
	enum dmarc_lookup_status st = lookup(ctx, ev->from, &txt, &count);

	ev->existence_queries++;
	dmarc_txt_free(txt, count);
	return st == DMARC_LOOKUP_TEMPFAIL ? -1 : st != DMARC_LOOKUP_NXDOMAIN;
}

static enum dmarc_policy weaker(enum dmarc_policy p)
{
	return p == DMARC_P_REJECT ? DMARC_P_QUARANTINE : DMARC_P_NONE;
}

/* The record's request for the From domain (4.10.1), and testing mode.
 * failing: the message fails, so whether np applies matters. -1 when a
 * DNS failure leaves it undecided. */
static int choose_policy(struct eval *ev, bool failing, dmarc_lookup_fn *lookup, void *ctx)
{
	struct dmarc_result *r = ev->r;
	const struct dmarc_record *rec = &r->record;
	enum dmarc_policy p = rec->p != DMARC_POLICY_NONE_SET ? rec->p : DMARC_P_NONE;

	r->policy_tag = DMARC_TAG_P;
	r->policy = p;
	if (r->invalid_as_none) {
		r->policy = DMARC_P_NONE;
	} else if (r->inherited) {	/* the From domain is a subdomain */
		enum dmarc_policy sp = rec->sp != DMARC_POLICY_NONE_SET ? rec->sp : p;
		enum dmarc_policy np = rec->np != DMARC_POLICY_NONE_SET ? rec->np : sp;
		int exists = failing && np != sp ? from_exists(ev, lookup, ctx) : 1;

		if (exists < 0) {
			say(r, DMARC_RESULT_TEMPERROR, "DNS lookup of %s failed: np or sp undecided", ev->from);
			return -1;
		}
		r->policy_tag = !exists ? DMARC_TAG_NP
			: rec->sp != DMARC_POLICY_NONE_SET ? DMARC_TAG_SP : DMARC_TAG_P;
		r->policy = exists ? sp : np;
	}
	r->testing_pct0 = !rec->testing_given && rec->pct == 0 &&
		ev->c->options.pct0 == DMARC_PCT0_TESTING && !rec->testing;
	r->testing = (rec->testing || r->testing_pct0) && r->policy != DMARC_P_NONE;
	r->testing_pct0 &= r->testing;
	r->applied = r->testing ? weaker(r->policy) : r->policy;
	return 0;
}

static void decide(struct eval *ev, const struct dmarc_input *in, dmarc_lookup_fn *lookup, void *ctx)
{
	struct dmarc_result *r = ev->r;
	int found = ev->c->options.org_method == DMARC_ORG_PSL ? discover_psl(ev) : discover_walk(ev);

	if (found < 0 || check_requests(r) < 0 || align(ev, in) < 0)
		return;
	if (r->dkim_aligned || r->spf_aligned) {
		choose_policy(ev, false, lookup, ctx);
		r->applied = DMARC_P_NONE;
		say(r, DMARC_RESULT_PASS, "%s aligned with %s", r->dkim_aligned ? "DKIM" : "SPF", ev->from);
		return;
	}
	if (choose_policy(ev, true, lookup, ctx) < 0)
		return;
	say(r, DMARC_RESULT_FAIL, "neither DKIM nor SPF aligned with %s%s%s%s%s", ev->from,
	    r->testing ? " (" : "", r->testing ? (r->testing_pct0 ? "pct=0" : "t=y") : "",
	    r->testing ? ": testing, policy lowered to " : "",
	    r->testing ? dmarc_policy_name(r->applied) : "");
	if (r->testing)
		strncat(r->reason, ")", sizeof(r->reason) - strlen(r->reason) - 1);
}

void dmarc_evaluate(const struct dmarc_checker *c, const struct dmarc_input *in,
		    dmarc_lookup_fn *lookup, void *ctx, struct dmarc_result *r)
{
	struct eval ev = { .c = c, .r = r };

	memset(r, 0, sizeof(*r));
	if (in->from_domain == NULL || normalize(in->from_domain, ev.from, sizeof(ev.from)) < 0) {
		say(r, DMARC_RESULT_NONE, "no From domain");
		return;
	}
	ev.answers = xcalloc(1, sizeof(*ev.answers));
	ev.answers->lookup = lookup;
	ev.answers->ctx = ctx;
	decide(&ev, in, lookup, ctx);
	r->queries = (unsigned)ev.answers->count + ev.existence_queries;
	dmarc_answers_clear(ev.answers);
	free(ev.answers);
}

int dmarc_org_domain(const struct dmarc_checker *c, const char *domain, dmarc_lookup_fn *lookup,
		     void *ctx, char *out, size_t outlen, unsigned *queries_r)
{
	struct dmarc_result r;
	struct eval ev = { .c = c, .r = &r };
	int ret = -1;

	*queries_r = 0;
	out[0] = '\0';
	if (normalize(domain, ev.from, sizeof(ev.from)) < 0)
		return 0;
	ev.answers = xcalloc(1, sizeof(*ev.answers));
	ev.answers->lookup = lookup;
	ev.answers->ctx = ctx;
	ret = org_of(&ev, ev.from, out, outlen);
	*queries_r = (unsigned)ev.answers->count;
	dmarc_answers_clear(ev.answers);
	free(ev.answers);
	return ret;
}

/* Appends ",item" (no comma first) to out[0..outlen), cut when full. */
static void add_item(char *out, size_t outlen, const char *item)
{
	size_t used = strlen(out);

	snprintf(out + used, outlen - used, "%s%s", used > 0 ? "," : "", item);
}

void dmarc_policy_why(const struct dmarc_result *r, char *out, size_t outlen)
{
	char item[ADDR_DOMAIN_MAX + 32];

	out[0] = '\0';
	if (r->inherited) {
		snprintf(item, sizeof(item), "%s=%s@%s", dmarc_policy_tag_name(r->policy_tag),
			 dmarc_policy_name(r->policy), r->policy_domain);	/* cut if long */
		add_item(out, outlen, item);
	}
	if (r->psd_policy)
		add_item(out, outlen, "psd");
	if (r->testing)
		add_item(out, outlen, r->testing_pct0 ? "pct=0" : "t=y");
	if (r->invalid_as_none)
		add_item(out, outlen, "invalid:p=none");
}

const char *dmarc_verdict_name(enum dmarc_verdict verdict)
{
	static const char *const names[] = { "none", "pass", "fail", "temperror", "permerror" };

	return verdict <= DMARC_RESULT_PERMERROR ? names[verdict] : "?";
}

const char *dmarc_policy_tag_name(enum dmarc_policy_tag tag)
{
	static const char *const names[] = { "p", "sp", "np" };

	return tag <= DMARC_TAG_NP ? names[tag] : "?";
}
