/*
 * dmarc.c - DMARC evaluation (see dmarc.h).
 */
#include "autoconfig.h"

#include <netinet/in.h>
#include <opendmarc/dmarc.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "mailauth/dmarc.h"

struct dmarc_checker {
	psl_ctx_t *psl;
};

enum discovery { FOUND, NOT_FOUND, SEVERAL, TEMPORARY };

struct dmarc_checker *dmarc_checker_new(char *err, size_t errlen)
{
	struct dmarc_checker *c = xcalloc(1, sizeof(*c));

	/* the newest of Debian's publicsuffix file and the built-in list */
	c->psl = psl_latest(NULL);
	if (c->psl == NULL) {
		snprintf(err, errlen, "cannot load the public suffix list (apt-get install publicsuffix)");
		free(c);
		return NULL;
	}
	return c;
}

void dmarc_checker_free(struct dmarc_checker **cp)
{
	if (*cp == NULL)
		return;
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

void dmarc_org_domain(const struct dmarc_checker *checker, const char *domain, char *out,
		      size_t outlen)
{
	const char *org = psl_registrable_domain(checker->psl, domain);

	if (org == NULL || snprintf(out, outlen, "%s", org) >= (int)outlen)
		out[0] = '\0';
}

/* RFC 7489 section 6.3: "v" *WSP "=" *WSP "DMARC1" first, then ";" or the end. */
static bool is_dmarc_record(const char *txt)
{
	const char *p = txt;

	if (*p++ != 'v')
		return false;
	p += strspn(p, " \t");
	if (*p++ != '=')
		return false;
	p += strspn(p, " \t");
	if (strncmp(p, "DMARC1", 6) != 0)
		return false;
	p += 6;
	p += strspn(p, " \t");
	return *p == ';' || *p == '\0';
}

static enum discovery find_record(const char *domain, dmarc_lookup_fn *lookup, void *ctx,
				  char **record_r)
{
	char name[ADDR_DOMAIN_MAX + 16], **txt = NULL;
	size_t count = 0, valid = 0;
	enum dmarc_lookup_status st;

	*record_r = NULL;
	if (snprintf(name, sizeof(name), "_dmarc.%s", domain) >= (int)sizeof(name))
		return NOT_FOUND;
	st = lookup(ctx, name, &txt, &count);
	if (st == DMARC_LOOKUP_TEMPFAIL) {
		dmarc_txt_free(txt, count);
		return TEMPORARY;
	}
	for (size_t i = 0; st == DMARC_LOOKUP_OK && i < count; i++) {
		if (!is_dmarc_record(txt[i]))
			continue;
		if (valid++ == 0)
			*record_r = xstrdup(txt[i]);
	}
	dmarc_txt_free(txt, count);
	if (valid > 1) {
		free(*record_r);
		*record_r = NULL;
		return SEVERAL;
	}
	return valid == 1 ? FOUND : NOT_FOUND;
}

static enum dmarc_policy policy_from_code(int code)
{
	switch (code) {
	case DMARC_RECORD_P_NONE: return DMARC_P_NONE;
	case DMARC_RECORD_P_QUARANTINE: return DMARC_P_QUARANTINE;
	case DMARC_RECORD_P_REJECT: return DMARC_P_REJECT;
	default: return DMARC_POLICY_NONE_SET;
	}
}

struct parsed_record {
	enum dmarc_policy p, sp;
	int pct;
	bool strict_dkim, strict_spf;
};

/* libopendmarc reads the record. 0, or -1 with the reason. */
static int parse_record(char *record, const char *domain, const char *org,
			struct parsed_record *r, char *why, size_t whylen)
{
	/* libopendmarc takes writable strings; the address is only for reports */
	char address[] = "0.0.0.0", domain_copy[ADDR_DOMAIN_MAX + 1], org_copy[ADDR_DOMAIN_MAX + 1];
	DMARC_POLICY_T *pctx = opendmarc_policy_connect_init((u_char *)address, 4);
	OPENDMARC_STATUS_T st;
	int p = 0, sp = 0, pct = 100, adkim = 0, aspf = 0;

	snprintf(domain_copy, sizeof(domain_copy), "%s", domain);
	snprintf(org_copy, sizeof(org_copy), "%s", org ? org : "");

	if (pctx == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	st = opendmarc_policy_store_dmarc(pctx, (u_char *)record, (u_char *)domain_copy,
					  org ? (u_char *)org_copy : NULL);
	if (st == DMARC_PARSE_OKAY) {
		opendmarc_policy_fetch_p(pctx, &p);
		opendmarc_policy_fetch_sp(pctx, &sp);
		opendmarc_policy_fetch_pct(pctx, &pct);
		opendmarc_policy_fetch_adkim(pctx, &adkim);
		opendmarc_policy_fetch_aspf(pctx, &aspf);
	}
	opendmarc_policy_connect_shutdown(pctx);
	if (st != DMARC_PARSE_OKAY) {
		snprintf(why, whylen, "invalid DMARC record at _dmarc.%s: %s", domain,
			 opendmarc_policy_status_to_str(st));
		return -1;
	}
	r->p = policy_from_code(p);
	r->sp = policy_from_code(sp);
	if (r->sp == DMARC_POLICY_NONE_SET)
		r->sp = r->p;
	r->pct = pct < 0 || pct > 100 ? 100 : pct;
	r->strict_dkim = adkim == DMARC_RECORD_A_STRICT;
	r->strict_spf = aspf == DMARC_RECORD_A_STRICT;
	if (r->p == DMARC_POLICY_NONE_SET) {
		snprintf(why, whylen, "DMARC record at _dmarc.%s has no valid p=", domain);
		return -1;
	}
	return 0;
}

static bool aligned(const struct dmarc_checker *c, const char *from, const char *other, bool strict)
{
	char a[ADDR_DOMAIN_MAX + 1], b[ADDR_DOMAIN_MAX + 1];

	if (other == NULL || other[0] == '\0')
		return false;
	if (strcasecmp(from, other) == 0)
		return true;
	if (strict)
		return false;
	dmarc_org_domain(c, from, a, sizeof(a));
	dmarc_org_domain(c, other, b, sizeof(b));
	return a[0] != '\0' && strcasecmp(a, b) == 0;
}

static enum dmarc_policy weaker(enum dmarc_policy p)
{
	return p == DMARC_P_REJECT ? DMARC_P_QUARANTINE : DMARC_P_NONE;
}

/* Finds the record: at the From domain, else at its organizational domain. */
static int discover(const struct dmarc_checker *c, const struct dmarc_input *in,
		    dmarc_lookup_fn *lookup, void *ctx, char **record_r, struct dmarc_result *r)
{
	enum discovery d = find_record(in->from_domain, lookup, ctx, record_r);

	snprintf(r->policy_domain, sizeof(r->policy_domain), "%s", in->from_domain);
	if (d == NOT_FOUND && r->org_domain[0] != '\0' && strcmp(r->org_domain, in->from_domain) != 0) {
		d = find_record(r->org_domain, lookup, ctx, record_r);
		snprintf(r->policy_domain, sizeof(r->policy_domain), "%s", r->org_domain);
		r->used_sp = true;
	}
	if (d == FOUND)
		return 0;
	r->verdict = d == TEMPORARY ? DMARC_RESULT_TEMPERROR : DMARC_RESULT_NONE;
	snprintf(r->reason, sizeof(r->reason), "%s", d == TEMPORARY ? "DNS lookup of the DMARC record failed"
		 : d == SEVERAL ? "several DMARC records: none applies (RFC 7489 6.6.3)"
		 : "no DMARC record");
	r->used_sp = false;
	return -1;
}

void dmarc_evaluate(const struct dmarc_checker *c, const struct dmarc_input *in,
		    dmarc_lookup_fn *lookup, void *ctx, struct dmarc_result *r)
{
	struct parsed_record rec;
	char *record = NULL;

	memset(r, 0, sizeof(*r));
	r->pct = 100;
	if (in->from_domain == NULL || in->from_domain[0] == '\0') {
		r->verdict = DMARC_RESULT_NONE;
		snprintf(r->reason, sizeof(r->reason), "no From domain");
		return;
	}
	dmarc_org_domain(c, in->from_domain, r->org_domain, sizeof(r->org_domain));
	if (discover(c, in, lookup, ctx, &record, r) < 0)
		return;
	if (parse_record(record, r->policy_domain, r->used_sp ? r->org_domain : NULL, &rec,
			 r->reason, sizeof(r->reason)) < 0) {
		free(record);
		r->verdict = DMARC_RESULT_PERMERROR;
		r->used_sp = false;
		return;
	}
	free(record);
	r->pct = rec.pct;
	r->policy = r->used_sp ? rec.sp : rec.p;
	for (size_t i = 0; i < in->dkim_count && !r->dkim_aligned; i++)
		r->dkim_aligned = in->dkim[i].pass &&
			aligned(c, in->from_domain, in->dkim[i].domain, rec.strict_dkim);
	r->spf_aligned = in->spf.pass && aligned(c, in->from_domain, in->spf.domain, rec.strict_spf);
	if (r->dkim_aligned || r->spf_aligned) {
		r->verdict = DMARC_RESULT_PASS;
		r->applied = DMARC_P_NONE;
		snprintf(r->reason, sizeof(r->reason), "%s aligned with %s",
			 r->dkim_aligned ? "DKIM" : "SPF", in->from_domain);
		return;
	}
	r->verdict = DMARC_RESULT_FAIL;
	r->applied = in->sample < (unsigned)rec.pct ? r->policy : weaker(r->policy);
	snprintf(r->reason, sizeof(r->reason), "neither DKIM nor SPF aligned with %s%s", in->from_domain,
		 r->applied != r->policy ? " (outside the pct sample: policy lowered)" : "");
}

const char *dmarc_verdict_name(enum dmarc_verdict verdict)
{
	static const char *const names[] = { "none", "pass", "fail", "temperror", "permerror" };

	return verdict <= DMARC_RESULT_PERMERROR ? names[verdict] : "?";
}

const char *dmarc_policy_name(enum dmarc_policy policy)
{
	static const char *const names[] = { "unspecified", "none", "quarantine", "reject" };

	return policy <= DMARC_P_REJECT ? names[policy] : "?";
}
