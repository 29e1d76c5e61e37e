/*
 * test_dmarc.c - DMARC as RFC 9989 says: the record's syntax, the DNS tree
 * walk (RFC 9989's own examples, long names and the 8-query limit, psd),
 * policy discovery, alignment, every tag, the compatibility settings
 * (the public suffix list, pct=0), invalid and multiple records, and
 * temporary DNS failures on the way; over a fake DNS table that records
 * every question asked.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/xalloc.h"
#include "mailauth/dmarc.h"
#include "mailauth/dmarc_walk.h"
#include "unit.h"

/* --- the record ------------------------------------------------------------ */

static const char *request(enum dmarc_policy p, bool invalid)
{
	return invalid ? "!" : p == DMARC_POLICY_NONE_SET ? "-" : dmarc_policy_name(p);
}

static void render(const struct dmarc_record *r, char *out, size_t outlen)
{
	snprintf(out, outlen, "p=%s sp=%s np=%s t=%s psd=%c pct=%d adkim=%c aspf=%c rua=%c ignored=%u",
		 request(r->p, r->p_invalid), request(r->sp, r->sp_invalid),
		 request(r->np, r->np_invalid), !r->testing_given ? "-" : r->testing ? "y" : "n",
		 "uyn"[r->psd], r->pct, r->strict_dkim ? 's' : 'r', r->strict_spf ? 's' : 'r',
		 r->rua ? 'y' : 'n', r->ignored);
}

#define DEFAULTS "t=- psd=u pct=-1 adkim=r aspf=r rua=n"

/* want: the record rendered, or NULL when the text is not a record. */
static const struct {
	const char *in;
	const char *want;
	const char *why;
} records[] = {
	{ "v=DMARC1; p=reject", "p=reject sp=- np=- " DEFAULTS " ignored=0", "the smallest useful record" },
	{ "v=DMARC1", "p=- sp=- np=- " DEFAULTS " ignored=0", "no p: the evaluation reads p=none" },
	{ "v=DMARC1;", "p=- sp=- np=- " DEFAULTS " ignored=0", "a trailing ';'" },
	{ "v = DMARC1 ;p=none", "p=none sp=- np=- " DEFAULTS " ignored=0", "white space around '=' and ';'" },
	{ "v=DMARC1; p=reject; sp=quarantine; np=none; t=y; psd=n; adkim=s; aspf=s; "
	  "rua=mailto:a@example.org; ruf=mailto:f@example.org; fo=1:d",
	  "p=reject sp=quarantine np=none t=y psd=n pct=-1 adkim=s aspf=s rua=y ignored=0",
	  "every tag RFC 9989 defines" },
	{ "v=DMARC1; p=Reject; t=Y; psd=Y; adkim=S", "p=reject sp=- np=- t=y psd=y pct=-1 adkim=s aspf=r "
	  "rua=n ignored=0", "values are not case-sensitive" },
	{ "v=DMARC1; P=reject", "p=- sp=- np=- " DEFAULTS " ignored=1", "tag names are" },
	{ "v=DMARC1; p=reject; t=n", "p=reject sp=- np=- t=n psd=u pct=-1 adkim=r aspf=r rua=n ignored=0",
	  "t=n" },
	{ "v=DMARC1; p=reject; psd=u", "p=reject sp=- np=- " DEFAULTS " ignored=0", "psd=u" },
	{ "v=DMARC1; p=reject; pct=0; rf=afrf; ri=3600", "p=reject sp=- np=- t=- psd=u pct=0 adkim=r "
	  "aspf=r rua=n ignored=2", "historic tags: pct read, rf and ri ignored" },
	{ "v=DMARC1; p=reject; pct=100", "p=reject sp=- np=- t=- psd=u pct=100 adkim=r aspf=r rua=n "
	  "ignored=0", "pct=100" },
	{ "v=DMARC1; p=reject; pct=101", "p=reject sp=- np=- " DEFAULTS " ignored=1", "pct over 100" },
	{ "v=DMARC1; p=reject; pct=-1", "p=reject sp=- np=- " DEFAULTS " ignored=1", "negative pct" },
	{ "v=DMARC1; p=reject; pct=0050", "p=reject sp=- np=- " DEFAULTS " ignored=1", "four digits" },
	{ "v=DMARC1; p=reject; foo=bar; x_1=2", "p=reject sp=- np=- " DEFAULTS " ignored=2",
	  "unknown tags ignored" },
	{ "v=DMARC1; p=bogus", "p=! sp=- np=- " DEFAULTS " ignored=1", "p not a request" },
	{ "v=DMARC1; p=", "p=! sp=- np=- " DEFAULTS " ignored=1", "empty p" },
	{ "v=DMARC1; p=reject; sp=rejected", "p=reject sp=! np=- " DEFAULTS " ignored=1", "sp not valid" },
	{ "v=DMARC1; p=reject; np=no", "p=reject sp=- np=! " DEFAULTS " ignored=1", "np not valid" },
	{ "v=DMARC1; p=reject; p=none", "p=! sp=- np=- " DEFAULTS " ignored=2", "p twice: neither counts" },
	{ "v=DMARC1; p=reject; adkim=s; adkim=r", "p=reject sp=- np=- " DEFAULTS " ignored=2",
	  "adkim twice: the default" },
	{ "v=DMARC1; p=reject; t=yes; psd=x; adkim=relaxed; aspf=", "p=reject sp=- np=- " DEFAULTS
	  " ignored=4", "values outside their grammar keep the defaults" },
	{ "v=DMARC1;; p=reject; junk; 9=1", "p=reject sp=- np=- " DEFAULTS " ignored=2",
	  "unreadable tag-specs ignored" },
	{ "v=DMARC1; p=reject; v=DMARC2", "p=reject sp=- np=- " DEFAULTS " ignored=0",
	  "a second v changes nothing" },
	{ "v=DMARC1; rua=mailto:d@example.org!10m, https://r.example/x%2Cy",
	  "p=- sp=- np=- t=- psd=u pct=-1 adkim=r aspf=r rua=y ignored=0", "two URIs, the obsolete size" },
	{ "v=DMARC1; rua=d@example.org", "p=- sp=- np=- " DEFAULTS " ignored=1", "rua without a scheme" },
	{ "v=DMARC1; rua=mailto:%zz@example.org", "p=- sp=- np=- " DEFAULTS " ignored=1",
	  "rua with a broken percent-encoding" },
	{ "v=DMARC1; rua=mailto:a@example.org!", "p=- sp=- np=- " DEFAULTS " ignored=1",
	  "rua with an empty size" },
	{ "v=DMARC1; rua=x, mailto:a@example.org", "p=- sp=- np=- t=- psd=u pct=-1 adkim=r aspf=r rua=y "
	  "ignored=0", "one valid URI is enough" },
	{ "v=DMARC1; rua=mailto:a b@example.org", "p=- sp=- np=- " DEFAULTS " ignored=1",
	  "a space in a URI" },
	{ "v=DMARC1\t; p=reject", "p=reject sp=- np=- " DEFAULTS " ignored=0", "a tab before ';'" },
	{ "v=dmarc1; p=reject", NULL, "DMARC1 is case-sensitive" },
	{ "v=DMARC2; p=reject", NULL, "another version" },
	{ "v=DMARC1p=reject", NULL, "no ';' after the version" },
	{ "v=DMARC1 p=reject", NULL, "a space instead of ';'" },
	{ "p=reject; v=DMARC1", NULL, "v not first" },
	{ " v=DMARC1; p=reject", NULL, "white space before v" },
	{ "V=DMARC1; p=reject", NULL, "V" },
	{ "v=spf1 -all", NULL, "another record" },
	{ "", NULL, "empty" },
	{ "v", NULL, "just v" },
	{ "v=", NULL, "v without a value" },
};

static void test_record_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(records); i++) {
		struct dmarc_record r;
		char got[256];
		int rc = dmarc_record_parse(records[i].in, strlen(records[i].in), &r);

		if (records[i].want == NULL) {
			if (rc != 0)
				fail_msg("record %zu (%s): read as a record", i, records[i].why);
			continue;
		}
		render(&r, got, sizeof(got));
		if (rc != 1 || strcmp(got, records[i].want) != 0)
			fail_msg("record %zu (%s): rc %d\ngot  %s\nwant %s", i, records[i].why, rc, got,
				 records[i].want);
	}
}

/* --- the fake DNS -------------------------------------------------------------- */

/* "_dmarc.NAME" rows hold TXT records; plain names say a domain exists
 * ("EXISTS", for np); "TEMPFAIL" fails the lookup. A name with no row
 * does not exist (NXDOMAIN). */
static const struct rr {
	const char *name;
	const char *txt;
} zone[] = {
	/* RFC 9989 B.4.1 and B.4.2 */
	{ "_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine" },
	{ "_dmarc.signing.example.com", "v=DMARC1; p=none" },
	/* B.4.3, and a Public Suffix Domain's policy */
	{ "_dmarc.bank.example", "v=DMARC1; psd=y; p=reject; sp=quarantine; np=reject" },
	{ "_dmarc.giant.bank.example", "v=DMARC1; p=reject" },
	{ "mail.mega.bank.example", "EXISTS" },
	/* 4.10.2's examples */
	{ "_dmarc.mail.example.net", "v=DMARC1; p=none" },
	{ "_dmarc.example.net", "v=DMARC1; p=reject" },
	{ "_dmarc.mail.example.info", "v=DMARC1; p=reject; psd=n" },
	{ "_dmarc.biz", "v=DMARC1; psd=y; p=quarantine" },
	/* policies, tags, alignment */
	{ "_dmarc.example.org", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.org" },
	{ "_dmarc.example.org", "some other TXT record" },
	{ "_dmarc.strict.example", "v=DMARC1; p=reject; adkim=s; aspf=s" },
	{ "_dmarc.half.example", "v=DMARC1; p=reject; pct=50" },
	{ "_dmarc.none.example", "v=DMARC1; p=none" },
	{ "_dmarc.nosp.example", "v=DMARC1; p=quarantine" },
	{ "_dmarc.t.example", "v=DMARC1; p=reject; t=y" },
	{ "_dmarc.tq.example", "v=DMARC1; p=quarantine; t=y" },
	{ "_dmarc.tn.example", "v=DMARC1; p=none; t=y" },
	{ "_dmarc.pct0.example", "v=DMARC1; p=reject; pct=0" },
	{ "_dmarc.pct0t.example", "v=DMARC1; p=reject; pct=0; t=n" },
	{ "_dmarc.hist.example", "v=DMARC1; p=reject; rf=afrf; ri=3600; foo=bar" },
	{ "_dmarc.np.example", "v=DMARC1; p=reject; sp=none; np=quarantine" },
	{ "real.np.example", "EXISTS" },
	{ "tempx.np.example", "TEMPFAIL" },
	{ "_dmarc.nonp.example", "v=DMARC1; p=reject; sp=none" },
	{ "_dmarc.o.example", "v=DMARC1; p=reject" },
	{ "_dmarc.g0.o.example", "v=DMARC1; psd=n" },	/* organizations of their own */
	{ "_dmarc.g1.o.example", "v=DMARC1; psd=n" },
	{ "_dmarc.g2.o.example", "v=DMARC1; psd=n" },
	{ "_dmarc.g3.o.example", "v=DMARC1; psd=n" },
	{ "_dmarc.g4.o.example", "v=DMARC1; psd=n" },
	{ "_dmarc.g5.o.example", "v=DMARC1; psd=n" },
	/* several records, invalid ones, records that are not DMARC's */
	{ "_dmarc.two.example", "v=DMARC1; p=reject" },
	{ "_dmarc.two.example", "v=DMARC1; p=none" },
	{ "_dmarc.multi.example.org", "v=DMARC1; p=reject" },
	{ "_dmarc.multi.example.org", "v=DMARC1; p=none" },
	{ "_dmarc.notfirst.example", "p=reject; v=DMARC1" },
	{ "_dmarc.lower.example", "v=dmarc1; p=reject" },
	{ "_dmarc.lead.example", " v=DMARC1; p=reject" },
	{ "_dmarc.nop.example", "v=DMARC1; rua=mailto:x@nop.example" },
	{ "_dmarc.badp.example", "v=DMARC1; p=bogus" },
	{ "_dmarc.badprua.example", "v=DMARC1; p=bogus; rua=mailto:r@badprua.example" },
	{ "_dmarc.badsp.example", "v=DMARC1; p=reject; sp=bogus" },
	{ "_dmarc.twop.example", "v=DMARC1; p=reject; p=none" },
	/* temporary failures */
	{ "_dmarc.temp.example", "TEMPFAIL" },
	{ "_dmarc.tempwalk.example", "TEMPFAIL" },
	{ "_dmarc.tld", "TEMPFAIL" },
	{ "_dmarc.example.tld", "v=DMARC1; p=reject" },
	{ "_dmarc.psdn.tld", "v=DMARC1; p=reject; psd=n" },
	/* the public suffix list's co.uk */
	{ "_dmarc.example.co.uk", "v=DMARC1; p=reject" },
};

#define ASKED_MAX 64

struct fake {
	size_t count;
	char asked[ASKED_MAX][ADDR_DOMAIN_MAX + 16];
};

static enum dmarc_lookup_status fake_lookup(void *ctx, const char *name, char ***txt_r,
					    size_t *count_r)
{
	struct fake *f = ctx;
	bool exists = false;
	size_t n = 0;

	assert_true(f->count < ASKED_MAX);
	snprintf(f->asked[f->count++], sizeof(f->asked[0]), "%s", name);
	*txt_r = NULL;
	*count_r = 0;
	for (size_t i = 0; i < N_ELEMENTS(zone); i++) {
		if (strcmp(zone[i].name, name) != 0)
			continue;
		exists = true;
		if (strcmp(zone[i].txt, "TEMPFAIL") == 0) {
			dmarc_txt_free(*txt_r, n);
			*txt_r = NULL;
			return DMARC_LOOKUP_TEMPFAIL;
		}
		if (strcmp(zone[i].txt, "EXISTS") == 0)
			continue;
		*txt_r = xrealloc(*txt_r, (n + 1) * sizeof(char *));
		(*txt_r)[n++] = xstrdup(zone[i].txt);
	}
	*count_r = n;
	return n > 0 ? DMARC_LOOKUP_OK : exists ? DMARC_LOOKUP_NONE : DMARC_LOOKUP_NXDOMAIN;
}

struct checkers {
	struct dmarc_checker *walk, *psl, *pct0_ignored;
};

/* --- the tree walk ---------------------------------------------------------- */

static void test_walk_names(void **state)
{
	static const struct {
		const char *domain;
		const char *asked;	/* the names asked, without "_dmarc.", joined by ' ' */
	} walks[] = {
		/* RFC 9989 4.10's illustration: eight queries for a long name */
		{ "a.b.c.d.e.f.g.h.i.j.mail.example.com",
		  "a.b.c.d.e.f.g.h.i.j.mail.example.com g.h.i.j.mail.example.com h.i.j.mail.example.com "
		  "i.j.mail.example.com j.mail.example.com mail.example.com example.com com" },
		/* 8 labels: the jump to 7 is the parent */
		{ "a.b.c.d.e.f.example.com",
		  "a.b.c.d.e.f.example.com b.c.d.e.f.example.com c.d.e.f.example.com d.e.f.example.com "
		  "e.f.example.com f.example.com example.com com" },
		/* 7 labels: one label at a time, 7 queries */
		{ "b.c.d.e.f.example.com",
		  "b.c.d.e.f.example.com c.d.e.f.example.com d.e.f.example.com e.f.example.com "
		  "f.example.com example.com com" },
		/* 40 labels: still 8 */
		{ "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30."
		  "31.32.33.34.35.36.37.38.example.net",
		  "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30."
		  "31.32.33.34.35.36.37.38.example.net 34.35.36.37.38.example.net 35.36.37.38.example.net "
		  "36.37.38.example.net 37.38.example.net 38.example.net example.net net" },
		{ "com", "com" },
		/* stops at psd=n, and at psd=y */
		{ "a.mail.example.info", "a.mail.example.info mail.example.info" },
		{ "mail.mega.bank.example", "mail.mega.bank.example mega.bank.example bank.example" },
	};
	struct checkers *c = *state;

	for (size_t i = 0; i < N_ELEMENTS(walks); i++) {
		struct fake f = { 0 };
		char org[ADDR_DOMAIN_MAX + 1], got[2048] = "";
		unsigned queries;

		assert_int_equal(dmarc_org_domain(c->walk, walks[i].domain, fake_lookup, &f, org,
						  sizeof(org), &queries), 0);
		for (size_t k = 0; k < f.count; k++) {
			assert_true(strncmp(f.asked[k], "_dmarc.", 7) == 0);
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "",
				 f.asked[k] + 7);
		}
		if (strcmp(got, walks[i].asked) != 0)
			fail_msg("walk %zu:\ngot  %s\nwant %s", i, got, walks[i].asked);
		assert_true(queries == f.count && queries <= DMARC_WALK_MAX);
	}
}

static void test_org_domain(void **state)
{
	static const struct {
		const char *domain;
		int psl;		/* with the public suffix list */
		int rc;
		const char *org;
		unsigned queries;
		const char *why;
	} orgs[] = {
		{ "a.mail.example.net", 0, 0, "example.net", 4, "4.10.2: the record with the fewest labels" },
		{ "a.mail.example.info", 0, 0, "mail.example.info", 2, "4.10.2: psd=n" },
		{ "a.mail.example.biz", 0, 0, "example.biz", 4, "4.10.2: only _dmarc.biz, psd=y" },
		{ "example.com", 0, 0, "example.com", 2, "B.4.1: From domain" },
		{ "signing.example.com", 0, 0, "example.com", 3, "B.4.1: DKIM domain" },
		{ "a.b.c.d.e.f.g.h.i.j.k.example.com", 0, 0, "example.com", 8, "B.4.2: deep" },
		{ "giant.bank.example", 0, 0, "giant.bank.example", 2, "B.4.3: under psd=y" },
		{ "mail.giant.bank.example", 0, 0, "giant.bank.example", 3, "B.4.3: SPF domain" },
		{ "mail.mega.bank.example", 0, 0, "mega.bank.example", 3, "B.4.3: DKIM domain" },
		{ "bank.example", 0, 0, "bank.example", 1, "the PSD itself: its own record stops the walk" },
		{ "nothing.example", 0, 0, "nothing.example", 2, "no record: the domain itself" },
		{ "x.tempwalk.example", 0, -1, "", 2, "a temporary failure on the way" },
		{ "mail.example.co.uk", 0, 0, "example.co.uk", 4, "no list needed" },
		{ "mail.example.co.uk", 1, 0, "example.co.uk", 0, "the public suffix list" },
		{ "co.uk", 1, 0, "", 0, "a public suffix has none" },
		{ "MAIL.Example.NET.", 0, 0, "example.net", 3, "case and a final dot" },
	};
	struct checkers *c = *state;

	for (size_t i = 0; i < N_ELEMENTS(orgs); i++) {
		struct fake f = { 0 };
		char org[ADDR_DOMAIN_MAX + 1];
		unsigned queries;
		int rc = dmarc_org_domain(orgs[i].psl ? c->psl : c->walk, orgs[i].domain, fake_lookup,
					  &f, org, sizeof(org), &queries);

		if (rc != orgs[i].rc || (rc == 0 && strcmp(org, orgs[i].org) != 0) ||
		    queries != orgs[i].queries)
			fail_msg("org %zu (%s): rc %d org \"%s\" after %u queries, want %d \"%s\" %u", i,
				 orgs[i].why, rc, org, queries, orgs[i].rc, orgs[i].org, orgs[i].queries);
	}
}

/* --- whole evaluations -------------------------------------------------------- */

enum options { WALK, PSL, PCT0_IGNORED };

struct eval_case {
	const char *from, *dkim, *spf;	/* NULL: no passing identifier */
	enum options options;
	enum dmarc_verdict verdict;
	enum dmarc_policy applied;	/* checked on FAIL */
	const char *why;		/* dmarc_policy_why(), checked on FAIL */
	unsigned queries;		/* questions asked, exactly */
	const char *what;
};

#define PASS DMARC_RESULT_PASS
#define FAIL DMARC_RESULT_FAIL
#define NONE DMARC_RESULT_NONE
#define TEMP DMARC_RESULT_TEMPERROR
#define PERM DMARC_RESULT_PERMERROR
#define REJ DMARC_P_REJECT
#define QUA DMARC_P_QUARANTINE
#define NON DMARC_P_NONE

static const struct eval_case cases[] = {
	/* RFC 9989 B.4: the examples of tree walks */
	{ "example.com", "signing.example.com", "example.com", WALK, PASS, 0, "", 3,
	  "B.4.1: SPF exact, DKIM relaxed through a walk" },
	{ "a.b.c.d.e.f.g.h.i.j.k.example.com", "signing.example.com", "example.com", WALK, PASS, 0, "",
	  9, "B.4.2: the deep walk (8 queries), then signing.example.com's" },
	{ "a.b.c.d.e.f.g.h.i.j.k.example.com", NULL, NULL, WALK, FAIL, QUA,
	  "sp=quarantine@example.com", 8, "B.4.2 failing: example.com's sp" },
	{ "giant.bank.example", NULL, "mail.giant.bank.example", WALK, PASS, 0, "", 3,
	  "B.4.3: SPF aligned under the PSD" },
	{ "giant.bank.example", "mail.mega.bank.example", NULL, WALK, FAIL, REJ, "", 2,
	  "B.4.3: DKIM of another organization under the PSD, no walk for it" },
	{ "mail.mega.bank.example", NULL, NULL, WALK, FAIL, QUA, "sp=quarantine@bank.example,psd", 4,
	  "the PSD's record for an existing domain without a record of its own" },
	{ "gone.bank.example", NULL, NULL, WALK, FAIL, REJ, "np=reject@bank.example,psd", 3,
	  "the PSD's np for a domain that does not exist" },
	/* alignment */
	{ "example.org", "example.org", NULL, WALK, PASS, 0, "", 1, "DKIM exact: one query" },
	{ "example.org", NULL, "example.org", WALK, PASS, 0, "", 1, "SPF exact: one query" },
	{ "Example.ORG", "example.org.", NULL, WALK, PASS, 0, "", 1, "case and a final dot" },
	{ "example.org", "mail.example.org", NULL, WALK, PASS, 0, "", 3, "DKIM relaxed" },
	{ "news.example.org", NULL, "bounce.example.org", WALK, PASS, 0, "", 4,
	  "SPF relaxed, both subdomains" },
	{ "example.org", "example.net", "example.net", WALK, FAIL, REJ, "", 1,
	  "another TLD: nothing asked for it" },
	{ "example.org", "org", NULL, WALK, FAIL, REJ, "", 2, "a TLD never aligns with a domain under it" },
	{ "strict.example", "mail.strict.example", NULL, WALK, FAIL, REJ, "", 1, "adkim=s" },
	{ "strict.example", NULL, "mail.strict.example", WALK, FAIL, REJ, "", 1, "aspf=s" },
	{ "strict.example", "strict.example", NULL, WALK, PASS, 0, "", 1, "adkim=s, exact" },
	/* discovery and sp */
	{ "news.example.org", NULL, NULL, WALK, FAIL, QUA, "sp=quarantine@example.org", 3,
	  "sp for a subdomain" },
	{ "sub.nosp.example", NULL, NULL, WALK, FAIL, QUA, "p=quarantine@nosp.example", 3,
	  "no sp: p applies" },
	{ "nothing.example", NULL, NULL, WALK, NONE, 0, "", 2, "no record anywhere" },
	{ "mail.example.co.uk", NULL, NULL, WALK, FAIL, REJ, "p=reject@example.co.uk", 4,
	  "the walk finds example.co.uk without a list" },
	/* t and the historic tags */
	{ "t.example", NULL, NULL, WALK, FAIL, QUA, "t=y", 1, "t=y: reject lowered to quarantine" },
	{ "tq.example", NULL, NULL, WALK, FAIL, NON, "t=y", 1, "t=y: quarantine lowered to none" },
	{ "tn.example", NULL, NULL, WALK, FAIL, NON, "", 1, "t=y changes nothing under p=none" },
	{ "half.example", NULL, NULL, WALK, FAIL, REJ, "", 1, "pct=50 is historic: the policy as is" },
	{ "pct0.example", NULL, NULL, WALK, FAIL, QUA, "pct=0", 1, "pct=0: testing (dmarc_pct0)" },
	{ "pct0.example", NULL, NULL, PCT0_IGNORED, FAIL, REJ, "", 1, "pct=0 ignored" },
	{ "pct0t.example", NULL, NULL, WALK, FAIL, REJ, "", 1, "t=n wins over pct=0" },
	{ "hist.example", NULL, NULL, WALK, FAIL, REJ, "", 1, "rf, ri and unknown tags ignored" },
	{ "none.example", NULL, NULL, WALK, FAIL, NON, "", 1, "p=none" },
	/* np */
	{ "real.np.example", NULL, NULL, WALK, FAIL, NON, "sp=none@np.example", 4,
	  "an existing subdomain: sp (its existence asked)" },
	{ "ghost.np.example", NULL, NULL, WALK, FAIL, QUA, "np=quarantine@np.example", 4,
	  "a subdomain that does not exist: np" },
	{ "ghost.np.example", "ghost.np.example", NULL, WALK, PASS, 0, "", 3,
	  "passing: existence not asked" },
	{ "ghost.nonp.example", NULL, NULL, WALK, FAIL, NON, "sp=none@nonp.example", 3,
	  "no np: sp, existence not asked" },
	{ "np.example", NULL, NULL, WALK, FAIL, REJ, "", 1, "the domain itself: p" },
	/* several, invalid, not DMARC */
	{ "two.example", NULL, NULL, WALK, NONE, 0, "", 2, "two records at the From domain: none" },
	{ "multi.example.org", NULL, NULL, WALK, FAIL, QUA, "sp=quarantine@example.org", 3,
	  "two records discarded, the walk goes on (RFC 9989 4.10)" },
	{ "notfirst.example", NULL, NULL, WALK, NONE, 0, "", 2, "v= not first: not a record" },
	{ "lower.example", NULL, NULL, WALK, NONE, 0, "", 2, "v=dmarc1 is not DMARC1" },
	{ "lead.example", NULL, NULL, WALK, NONE, 0, "", 2, "white space before v" },
	{ "nop.example", NULL, NULL, WALK, FAIL, NON, "", 1, "no p: p=none (RFC 9989 4.7)" },
	{ "badp.example", NULL, NULL, WALK, PERM, 0, "", 1, "p not valid, no rua: no DMARC" },
	{ "badprua.example", NULL, NULL, WALK, FAIL, NON, "invalid:p=none", 1,
	  "p not valid, a valid rua: p=none" },
	{ "badsp.example", NULL, NULL, WALK, PERM, 0, "", 1, "sp not valid, no rua" },
	{ "twop.example", NULL, NULL, WALK, PERM, 0, "", 1, "p given twice" },
	/* temporary failures on the way */
	{ "temp.example", NULL, NULL, WALK, TEMP, 0, "", 1, "at the From domain" },
	{ "x.tempwalk.example", NULL, NULL, WALK, TEMP, 0, "", 2, "in the walk up" },
	{ "tempx.np.example", NULL, NULL, WALK, TEMP, 0, "", 4, "the existence test for np" },
	{ "example.tld", "example.tld", NULL, WALK, PASS, 0, "", 1, "exact: the TLD never asked" },
	{ "example.tld", NULL, "mail.example.tld", WALK, TEMP, 0, "", 2,
	  "relaxed: the TLD's failure leaves the organizational domain undecided" },
	{ "example.tld", "example.tld", "mail.example.tld", WALK, PASS, 0, "", 2,
	  "DKIM aligned: SPF's undecided alignment does not matter" },
	{ "psdn.tld", NULL, "mail.psdn.tld", WALK, PASS, 0, "", 2, "psd=n: the walk stops before the TLD" },
	/* compatibility: the public suffix list */
	{ "mail.example.co.uk", NULL, NULL, PSL, FAIL, REJ, "p=reject@example.co.uk", 2,
	  "PSL: the organizational domain's record" },
	{ "mail.example.co.uk", "other.example.co.uk", NULL, PSL, PASS, 0, "", 2, "PSL: relaxed" },
	{ "example.org", "org", NULL, PSL, FAIL, REJ, "", 1, "PSL: a public suffix never aligns" },
	{ "multi.example.org", NULL, NULL, PSL, FAIL, QUA, "sp=quarantine@example.org", 2,
	  "PSL: several records at the From domain" },
	{ "ghost.np.example", NULL, NULL, PSL, FAIL, QUA, "np=quarantine@np.example", 3,
	  "PSL: np as well" },
};

static const struct dmarc_checker *checker_for(struct checkers *c, enum options o)
{
	return o == PSL ? c->psl : o == PCT0_IGNORED ? c->pct0_ignored : c->walk;
}

static void test_evaluate_table(void **state)
{
	struct checkers *c = *state;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const struct eval_case *k = &cases[i];
		struct dmarc_identifier dkim = { k->dkim, true };
		struct dmarc_input in = { k->from, &dkim, k->dkim ? 1 : 0, { k->spf, k->spf != NULL } };
		struct dmarc_result r;
		struct fake f = { 0 };
		char why[512];

		dmarc_evaluate(checker_for(c, k->options), &in, fake_lookup, &f, &r);
		dmarc_policy_why(&r, why, sizeof(why));
		if (r.verdict != k->verdict ||
		    (k->verdict == FAIL && (r.applied != k->applied || strcmp(why, k->why) != 0)) ||
		    r.queries != k->queries || r.queries != f.count)
			fail_msg("case %zu (%s): %s applied=%s why=\"%s\" after %u queries (%s)", i, k->what,
				 dmarc_verdict_name(r.verdict), dmarc_policy_name(r.applied), why, r.queries,
				 r.reason);
	}
}

/* A spoofer's own passing signatures cost nothing; signatures from deep
 * subdomains of the From domain's organization (each under a psd=n of its
 * own, so none aligns) are bounded by DMARC_QUERIES_MAX. */
static void test_many_identifiers(void **state)
{
	struct checkers *c = *state;
	struct dmarc_identifier ids[12];
	char names[12][64];
	struct dmarc_result r;
	struct fake f = { 0 };

	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "evil%d.example", i);
		ids[i] = (struct dmarc_identifier){ names[i], true };
	}
	struct dmarc_input in = { "giant.bank.example", ids, 12, { names[0], true } };
	dmarc_evaluate(c->walk, &in, fake_lookup, &f, &r);
	assert_int_equal(r.verdict, DMARC_RESULT_FAIL);
	assert_int_equal(r.queries, 2);		/* giant.bank.example, bank.example */

	/* 9 labels: the name, its 7-label ancestor and 4 more are new, then
	 * gN.o.example says psd=n: 6 questions each, after o.example's 2 */
	for (int i = 0; i < 6; i++)
		snprintf(names[i], sizeof(names[i]), "x.b.c.d.e.f.g%d.o.example", i);
	in = (struct dmarc_input){ "o.example", ids, 5, { NULL, false } };
	memset(&f, 0, sizeof(f));
	dmarc_evaluate(c->walk, &in, fake_lookup, &f, &r);
	assert_int_equal(r.verdict, DMARC_RESULT_FAIL);
	assert_int_equal(r.queries, 2 + 5 * 6);
	assert_int_equal(r.queries, DMARC_QUERIES_MAX);

	in.dkim_count = 6;
	memset(&f, 0, sizeof(f));
	dmarc_evaluate(c->walk, &in, fake_lookup, &f, &r);
	assert_int_equal(r.verdict, DMARC_RESULT_TEMPERROR);	/* undecided, not failed */
	assert_int_equal(r.queries, DMARC_QUERIES_MAX);
	assert_int_equal(f.count, DMARC_QUERIES_MAX);
}

static void test_result_fields(void **state)
{
	struct checkers *c = *state;
	struct dmarc_input in = { "mail.mega.bank.example", NULL, 0, { NULL, false } };
	struct dmarc_result r;
	struct fake f = { 0 };

	dmarc_evaluate(c->walk, &in, fake_lookup, &f, &r);
	assert_string_equal(r.policy_domain, "bank.example");
	assert_string_equal(r.org_domain, "mega.bank.example");
	assert_true(r.psd_policy && r.inherited && !r.testing);
	assert_int_equal(r.policy_tag, DMARC_TAG_SP);
	assert_int_equal(r.record.np, DMARC_P_REJECT);
	assert_string_equal(dmarc_policy_tag_name(r.policy_tag), "sp");

	in.from_domain = "t.example";
	dmarc_evaluate(c->walk, &in, fake_lookup, &f, &r);
	assert_true(r.testing && !r.testing_pct0 && !r.inherited);
	assert_int_equal(r.policy, DMARC_P_REJECT);
	assert_int_equal(r.applied, DMARC_P_QUARANTINE);
	assert_non_null(strstr(r.reason, "t=y"));

	in.from_domain = "";
	dmarc_evaluate(c->walk, &in, fake_lookup, &f, &r);
	assert_int_equal(r.verdict, DMARC_RESULT_NONE);
	assert_int_equal(r.queries, 0);
}

static int setup(void **state)
{
	static struct checkers c;
	struct dmarc_options walk = { DMARC_ORG_TREE_WALK, DMARC_PCT0_TESTING };
	struct dmarc_options psl = { DMARC_ORG_PSL, DMARC_PCT0_TESTING };
	struct dmarc_options ignored = { DMARC_ORG_TREE_WALK, DMARC_PCT0_IGNORE };
	char err[256];

	c.walk = dmarc_checker_new(&walk, err, sizeof(err));
	c.psl = dmarc_checker_new(&psl, err, sizeof(err));
	c.pct0_ignored = dmarc_checker_new(&ignored, err, sizeof(err));
	*state = &c;
	return c.walk == NULL || c.psl == NULL || c.pct0_ignored == NULL;
}

static int teardown(void **state)
{
	struct checkers *c = *state;

	dmarc_checker_free(&c->walk);
	dmarc_checker_free(&c->psl);
	dmarc_checker_free(&c->pct0_ignored);
	assert_null(c->walk);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_table),
		cmocka_unit_test(test_walk_names),
		cmocka_unit_test(test_org_domain),
		cmocka_unit_test(test_evaluate_table),
		cmocka_unit_test(test_many_identifiers),
		cmocka_unit_test(test_result_fields),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
