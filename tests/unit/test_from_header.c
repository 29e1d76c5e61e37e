/*
 * test_from_header.c - the author domain of From fields, including the
 * forms used to slip past DMARC.
 */
#include "autoconfig.h"

#include "from_header.h"
#include "unit.h"

static const struct {
	const char *value;
	enum from_status want;
	const char *domain;	/* on FROM_OK */
} cases[] = {
	{ "john@example.org", FROM_OK, "example.org" },
	{ " John Doe <john@Example.ORG>", FROM_OK, "example.org" },
	{ "<john@example.org>", FROM_OK, "example.org" },
	{ "\"Doe, John\" <john@example.org>", FROM_OK, "example.org" },
	{ "John (work, really) <john@example.org>", FROM_OK, "example.org" },
	{ "\"john@evil.example\" <john@example.org>", FROM_OK, "example.org" },
	{ "John <john@example.org> (comment, with comma)", FROM_OK, "example.org" },
	{ "john@example.org (John ((nested)) Doe)", FROM_OK, "example.org" },
	{ "\"john doe\"@example.org", FROM_OK, "example.org" },
	{ "\"john@evil.example\"@example.org", FROM_OK, "example.org" },
	{ "john @ example.org", FROM_OK, "example.org" },
	{ "john@example.org.", FROM_OK, "example.org" },
	{ "=?utf-8?q?J=C3=B6rg?= <joerg@example.org>", FROM_OK, "example.org" },
	{ "John\r\n <john@example.org>", FROM_OK, "example.org" },
	{ "<@relay.example:john@example.org>", FROM_OK, "example.org" },
	{ "john@example.org,", FROM_OK, "example.org" },
	{ ", ,john@example.org", FROM_OK, "example.org" },
	{ "", FROM_EMPTY, NULL },
	{ "   ", FROM_EMPTY, NULL },
	{ "(only a comment)", FROM_EMPTY, NULL },
	{ "john@example.org, eve@evil.example", FROM_SEVERAL, NULL },
	{ "John <john@example.org>, Eve <eve@evil.example>", FROM_SEVERAL, NULL },
	{ "undisclosed-recipients:;", FROM_GROUP, NULL },
	{ "friends: john@example.org;", FROM_GROUP, NULL },
	{ "john", FROM_NO_DOMAIN, NULL },
	{ "<john>", FROM_NO_DOMAIN, NULL },
	{ "john@", FROM_NO_DOMAIN, NULL },
	{ "@example.org", FROM_NO_DOMAIN, NULL },
	{ "john@[192.0.2.1]", FROM_NO_DOMAIN, NULL },
	{ "john@exa mple..org", FROM_NO_DOMAIN, NULL },
	{ "John <john@example.org", FROM_MALFORMED, NULL },
	{ "John john@example.org>", FROM_MALFORMED, NULL },
	{ "<john@example.org> <eve@evil.example>", FROM_MALFORMED, NULL },
	{ "<john@example.org> eve@evil.example", FROM_MALFORMED, NULL },
	{ "\"unterminated <john@example.org>", FROM_MALFORMED, NULL },
	{ "John (unterminated <john@example.org>", FROM_MALFORMED, NULL },
	{ "<@relay.example>", FROM_MALFORMED, NULL },
};

static void test_from_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char domain[FROM_DOMAIN_SIZE];
		const char *why = NULL;
		enum from_status got = from_header_domain(cases[i].value, strlen(cases[i].value),
							  domain, &why);

		if (got != cases[i].want)
			fail_msg("case %zu \"%s\": got %s (%s), want %s", i, cases[i].value,
				 from_status_name(got), why ? why : "", from_status_name(cases[i].want));
		if (got == FROM_OK)
			assert_string_equal(domain, cases[i].domain);
		else
			assert_non_null(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_from_table) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
