/*
 * test_dmarc.c - DMARC record discovery, alignment, policies and pct, with
 * a fake DNS table.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>

#include "mailauth/dmarc.h"
#include "unit.h"
#include "common/xalloc.h"

static const struct {
	const char *name;
	const char *txt;	/* "TEMPFAIL" for a lookup that fails */
} zone[] = {
	{ "_dmarc.example.org", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.org" },
	{ "_dmarc.example.org", "some other TXT record" },
	{ "_dmarc.strict.example", "v=DMARC1; p=reject; adkim=s; aspf=s" },
	{ "_dmarc.half.example", "v=DMARC1; p=reject; pct=50" },
	{ "_dmarc.quarter.example", "v=DMARC1;p=quarantine;pct=25" },
	{ "_dmarc.none.example", "v=DMARC1; p=none" },
	{ "_dmarc.two.example", "v=DMARC1; p=reject" },
	{ "_dmarc.two.example", "v=DMARC1; p=none" },
	{ "_dmarc.notfirst.example", "p=reject; v=DMARC1" },
	{ "_dmarc.lower.example", "v=dmarc1; p=reject" },
	{ "_dmarc.nop.example", "v=DMARC1; rua=mailto:x@nop.example" },
	{ "_dmarc.temp.example", "TEMPFAIL" },
	{ "_dmarc.example.co.uk", "v=DMARC1; p=reject" },
	{ "_dmarc.nosp.example", "v=DMARC1; p=quarantine" },
};

static enum dmarc_lookup_status fake_lookup(void *ctx, const char *name, char ***txt_r,
					    size_t *count_r)
{
	size_t n = 0;

	(*(int *)ctx)++;
	*txt_r = NULL;
	*count_r = 0;
	for (size_t i = 0; i < N_ELEMENTS(zone); i++) {
		if (strcmp(zone[i].name, name) != 0)
			continue;
		if (strcmp(zone[i].txt, "TEMPFAIL") == 0)
			return DMARC_LOOKUP_TEMPFAIL;
		*txt_r = xrealloc(*txt_r, (n + 1) * sizeof(char *));
		(*txt_r)[n++] = xstrdup(zone[i].txt);
	}
	*count_r = n;
	return n ? DMARC_LOOKUP_OK : DMARC_LOOKUP_NONE;
}

struct dmarc_case {
	const char *from, *dkim, *spf;	/* NULL: no passing identifier */
	unsigned sample;
	enum dmarc_verdict verdict;
	enum dmarc_policy applied;	/* checked on FAIL */
	bool used_sp;
	const char *why;
};

static const struct dmarc_case cases[] = {
	{ "example.org", "example.org", NULL, 0, DMARC_RESULT_PASS, 0, false, "DKIM exact" },
	{ "example.org", NULL, "example.org", 0, DMARC_RESULT_PASS, 0, false, "SPF exact" },
	{ "example.org", "mail.example.org", NULL, 0, DMARC_RESULT_PASS, 0, false, "DKIM relaxed" },
	{ "news.example.org", NULL, "bounce.example.org", 0, DMARC_RESULT_PASS, 0, true, "SPF relaxed, subdomain" },
	{ "example.org", "example.net", "example.net", 0, DMARC_RESULT_FAIL, DMARC_P_REJECT, false, "nothing aligned" },
	{ "example.org", NULL, NULL, 99, DMARC_RESULT_FAIL, DMARC_P_REJECT, false, "p=reject, pct 100" },
	{ "news.example.org", NULL, NULL, 0, DMARC_RESULT_FAIL, DMARC_P_QUARANTINE, true, "sp= for a subdomain" },
	{ "sub.nosp.example", NULL, NULL, 0, DMARC_RESULT_FAIL, DMARC_P_QUARANTINE, true, "no sp=: p applies" },
	{ "strict.example", "mail.strict.example", NULL, 0, DMARC_RESULT_FAIL, DMARC_P_REJECT, false, "adkim=s" },
	{ "strict.example", "strict.example", NULL, 0, DMARC_RESULT_PASS, 0, false, "adkim=s exact" },
	{ "half.example", NULL, NULL, 49, DMARC_RESULT_FAIL, DMARC_P_REJECT, false, "inside pct=50" },
	{ "half.example", NULL, NULL, 50, DMARC_RESULT_FAIL, DMARC_P_QUARANTINE, false, "outside pct=50" },
	{ "quarter.example", NULL, NULL, 80, DMARC_RESULT_FAIL, DMARC_P_NONE, false, "quarantine lowered to none" },
	{ "none.example", NULL, NULL, 0, DMARC_RESULT_FAIL, DMARC_P_NONE, false, "p=none" },
	{ "two.example", NULL, NULL, 0, DMARC_RESULT_NONE, 0, false, "two records: no policy" },
	{ "notfirst.example", NULL, NULL, 0, DMARC_RESULT_NONE, 0, false, "v= not first: not a record" },
	{ "lower.example", NULL, NULL, 0, DMARC_RESULT_NONE, 0, false, "v=dmarc1 is not DMARC1" },
	{ "nop.example", NULL, NULL, 0, DMARC_RESULT_PERMERROR, 0, false, "no p=" },
	{ "temp.example", NULL, NULL, 0, DMARC_RESULT_TEMPERROR, 0, false, "DNS trouble" },
	{ "nothing.example", NULL, NULL, 0, DMARC_RESULT_NONE, 0, false, "no record anywhere" },
	{ "mail.example.co.uk", NULL, NULL, 0, DMARC_RESULT_FAIL, DMARC_P_REJECT, true, "public suffix co.uk" },
	{ "mail.example.co.uk", "other.example.co.uk", NULL, 0, DMARC_RESULT_PASS, 0, true, "relaxed under co.uk" },
	{ "example.org", "org", NULL, 0, DMARC_RESULT_FAIL, DMARC_P_REJECT, false, "a public suffix never aligns" },
};

static void test_evaluate_table(void **state)
{
	struct dmarc_checker *c = *state;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const struct dmarc_case *k = &cases[i];
		struct dmarc_identifier dkim = { k->dkim, true };
		struct dmarc_input in = { k->from, &dkim, k->dkim ? 1 : 0,
					  { k->spf, k->spf != NULL }, k->sample };
		struct dmarc_result r;
		int lookups = 0;

		dmarc_evaluate(c, &in, fake_lookup, &lookups, &r);
		if (r.verdict != k->verdict ||
		    (k->verdict == DMARC_RESULT_FAIL && r.applied != k->applied) ||
		    r.used_sp != k->used_sp)
			fail_msg("case %zu (%s): %s applied=%s used_sp=%d (%s)", i, k->why,
				 dmarc_verdict_name(r.verdict), dmarc_policy_name(r.applied), r.used_sp,
				 r.reason);
		assert_true(lookups <= 2);
	}
}

static void test_org_domain(void **state)
{
	struct dmarc_checker *c = *state;
	char org[256];

	dmarc_org_domain(c, "a.b.example.org", org, sizeof(org));
	assert_string_equal(org, "example.org");
	dmarc_org_domain(c, "mail.example.co.uk", org, sizeof(org));
	assert_string_equal(org, "example.co.uk");
	dmarc_org_domain(c, "co.uk", org, sizeof(org));
	assert_string_equal(org, "");
}

static int setup(void **state)
{
	char err[256];

	*state = dmarc_checker_new(err, sizeof(err));
	return *state == NULL;
}

static int teardown(void **state)
{
	struct dmarc_checker *c = *state;

	dmarc_checker_free(&c);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evaluate_table),
		cmocka_unit_test(test_org_domain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
