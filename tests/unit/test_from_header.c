/*
 * test_from_header.c - the author domain of From fields: every accepted
 * form of one mailbox, and every form that is not exactly one mailbox
 * (the ones used to slip past DMARC among them).
 */
#include "autoconfig.h"

#include <stdio.h>

#include "mailauth/from_header.h"
#include "unit.h"

static const struct {
	const char *value;
	enum from_status want;
	const char *domain;	/* on FROM_OK */
} cases[] = {
	/* exactly one mailbox, in its accepted forms */
	{ "john@example.org", FROM_OK, "example.org" },
	{ " John Doe <john@Example.ORG>", FROM_OK, "example.org" },
	{ "<john@example.org>", FROM_OK, "example.org" },
	{ "John<john@example.org>", FROM_OK, "example.org" },
	{ "< john@example.org >", FROM_OK, "example.org" },
	{ "\"Doe, John\" <john@example.org>", FROM_OK, "example.org" },
	{ "\"John \\\"JD\\\" Doe\" <john@example.org>", FROM_OK, "example.org" },
	{ "\"a \\\\ b\" <john@example.org>", FROM_OK, "example.org" },
	{ "John (work, really) <john@example.org>", FROM_OK, "example.org" },
	{ "\"john@evil.example\" <john@example.org>", FROM_OK, "example.org" },
	{ "John <john@example.org> (comment, with comma)", FROM_OK, "example.org" },
	{ "john@example.org (John ((nested)) Doe)", FROM_OK, "example.org" },
	{ "(c) john(c)@(c)example.org(c)", FROM_OK, "example.org" },
	{ "(((((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))))) john@example.org",
	  FROM_OK, "example.org" },
	{ "\"john doe\"@example.org", FROM_OK, "example.org" },
	{ "\"john@evil.example\"@example.org", FROM_OK, "example.org" },
	{ "john @ example.org", FROM_OK, "example.org" },
	{ "john@example.org.", FROM_OK, "example.org" },
	{ "=?utf-8?q?J=C3=B6rg?= <joerg@example.org>", FROM_OK, "example.org" },
	{ "J\xc3\xb6rg <joerg@example.org>", FROM_OK, "example.org" },
	{ "John\r\n <john@example.org>", FROM_OK, "example.org" },
	{ "John\n\t<john@example.org>\n ", FROM_OK, "example.org" },
	{ "John Q. Public <jqp@example.org>", FROM_OK, "example.org" },	/* obs-phrase */
	{ "john . doe@example.org", FROM_OK, "example.org" },	/* obs-local-part */
	{ "\"john\".doe@example.org", FROM_OK, "example.org" },
	{ "j@xn--bcher-kva.example", FROM_OK, "xn--bcher-kva.example" },
	/* nothing */
	{ "", FROM_EMPTY, NULL },
	{ "   ", FROM_EMPTY, NULL },
	{ "(only a comment)", FROM_EMPTY, NULL },
	/* a list */
	{ "john@example.org, eve@evil.example", FROM_SEVERAL, NULL },
	{ "John <john@example.org>, Eve <eve@evil.example>", FROM_SEVERAL, NULL },
	{ "Doe, John <john@example.org>", FROM_SEVERAL, NULL },
	{ "john@example.org,", FROM_MALFORMED, NULL },	/* obs-mbox-list: refused */
	{ ", ,john@example.org", FROM_MALFORMED, NULL },
	{ ",", FROM_MALFORMED, NULL },
	{ "undisclosed-recipients:;", FROM_GROUP, NULL },
	{ "friends: john@example.org;", FROM_GROUP, NULL },
	/* no domain */
	{ "john", FROM_NO_DOMAIN, NULL },
	{ "<john>", FROM_NO_DOMAIN, NULL },
	{ "<>", FROM_NO_DOMAIN, NULL },
	{ "john@", FROM_NO_DOMAIN, NULL },
	{ "@example.org", FROM_NO_DOMAIN, NULL },
	{ "john@[192.0.2.1]", FROM_NO_DOMAIN, NULL },
	{ "john@exa!mple.org", FROM_NO_DOMAIN, NULL },
	/* what slipped past DMARC: readers show the first address, the old
	 * parser judged the last */
	{ "ceo@victim.example alice@pass.example", FROM_MALFORMED, NULL },
	{ "ceo@victim.example trailing", FROM_MALFORMED, NULL },
	{ "ceo@victim.example@pass.example", FROM_MALFORMED, NULL },
	{ "ceo@victim.example (comment) alice@pass.example", FROM_MALFORMED, NULL },
	{ "<ceo@victim.example> (c) <alice@pass.example>", FROM_MALFORMED, NULL },
	{ "ceo@victim.example <alice@pass.example>", FROM_MALFORMED, NULL },
	{ "CEO <ceo@victim.example> alice@pass.example", FROM_MALFORMED, NULL },
	{ "\"CEO\" ceo@victim.example", FROM_MALFORMED, NULL },
	{ "<ceo@victim.example@pass.example>", FROM_MALFORMED, NULL },
	{ "ceo@victim.example>", FROM_MALFORMED, NULL },
	{ "ceo@victim.example)", FROM_MALFORMED, NULL },
	{ "ceo@victim.example]", FROM_MALFORMED, NULL },
	{ "\"ceo@victim.example", FROM_MALFORMED, NULL },
	{ "ceo@victim.example\\", FROM_MALFORMED, NULL },
	{ "ceo\\@victim.example@pass.example", FROM_MALFORMED, NULL },
	{ "john@exa(comment)mple.org", FROM_MALFORMED, NULL },
	{ "john@example .org", FROM_MALFORMED, NULL },	/* obs-domain: refused */
	{ "john@example. org", FROM_MALFORMED, NULL },
	{ "john@exa mple..org", FROM_MALFORMED, NULL },
	{ "john@\"example.org\"", FROM_MALFORMED, NULL },
	{ "john@example.org;", FROM_MALFORMED, NULL },
	{ "john@example.org\x01", FROM_MALFORMED, NULL },
	{ "\"a\x01\" <john@example.org>", FROM_MALFORMED, NULL },	/* obs-qtext: refused */
	{ "a.@example.org", FROM_MALFORMED, NULL },
	{ ". <john@example.org>", FROM_MALFORMED, NULL },
	/* unbalanced */
	{ "John <john@example.org", FROM_MALFORMED, NULL },
	{ "John john@example.org>", FROM_MALFORMED, NULL },
	{ "<john@example.org> <eve@evil.example>", FROM_MALFORMED, NULL },
	{ "<john@example.org> eve@evil.example", FROM_MALFORMED, NULL },
	{ "<<john@example.org>>", FROM_MALFORMED, NULL },
	{ "\"unterminated <john@example.org>", FROM_MALFORMED, NULL },
	{ "John (unterminated <john@example.org>", FROM_MALFORMED, NULL },
	{ "John (a)) <john@example.org>", FROM_MALFORMED, NULL },
	{ "john@[192.0.2.1", FROM_MALFORMED, NULL },
	/* obs-route: refused */
	{ "<@relay.example:john@example.org>", FROM_MALFORMED, NULL },
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

/* More words than FROM_TOKENS_MAX: refused, nothing read past the end. */
static void test_from_bounds(void **state)
{
	static char field[FROM_TOKENS_MAX * 2 + 64];
	char domain[FROM_DOMAIN_SIZE];
	const char *why;
	size_t n = 0;

	for (size_t i = 0; i < FROM_TOKENS_MAX; i++)
		n += (size_t)snprintf(field + n, sizeof(field) - n, "a ");
	snprintf(field + n, sizeof(field) - n, "<john@example.org>");
	assert_int_equal(from_header_domain(field, strlen(field), domain, &why), FROM_MALFORMED);
	assert_string_equal(domain, "");
	/* the length given is what counts: the '>' beyond it does not */
	assert_int_equal(from_header_domain("<john@example.org>", 17, domain, &why), FROM_MALFORMED);
	assert_int_equal(from_header_domain("john@example.org\0x", 18, domain, &why), FROM_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_table),
		cmocka_unit_test(test_from_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
