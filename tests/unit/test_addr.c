/*
 * test_addr.c - address and domain syntax, normalization, containment.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "common/addr.h"
#include "unit.h"

static const struct {
	const char *in;
	unsigned flags;
	int want;
	const char *local, *domain;	/* expected split when want == 0 */
	const char *why;
} addr_cases[] = {
	{ "user@example.org", 0, 0, "user", "example.org", "plain" },
	{ "first.last+tag@Example.ORG.", 0, 0, "first.last+tag", "Example.ORG", "trailing dot dropped" },
	{ "\"a@b\"@example.org", 0, 0, "\"a@b\"", "example.org", "quoted local part with @" },
	{ "\"a\\\"b\"@example.org", 0, 0, "\"a\\\"b\"", "example.org", "escaped quote" },
	{ "user@[192.0.2.1]", ADDR_ALLOW_LITERAL, 0, "user", "[192.0.2.1]", "IPv4 literal" },
	{ "user@[IPv6:2001:db8::1]", ADDR_ALLOW_LITERAL, 0, "user", "[IPv6:2001:db8::1]", "IPv6 literal" },
	{ "user@[192.0.2.1]", 0, -1, NULL, NULL, "literal not allowed here" },
	{ "user@[300.0.2.1]", ADDR_ALLOW_LITERAL, -1, NULL, NULL, "bad IPv4 literal" },
	{ "j\xc3\xbcrgen@example.org", ADDR_ALLOW_UTF8, 0, "j\xc3\xbcrgen", "example.org", "SMTPUTF8 local part" },
	{ "j\xc3\xbcrgen@example.org", 0, -1, NULL, NULL, "UTF-8 without SMTPUTF8" },
	{ "bad\xc3@example.org", ADDR_ALLOW_UTF8, -1, NULL, NULL, "truncated UTF-8" },
	{ "\xc0\xafx@example.org", ADDR_ALLOW_UTF8, -1, NULL, NULL, "overlong UTF-8" },
	{ "user@b\xc3\xbc" "cher.example", ADDR_ALLOW_UTF8, 0, "user", "b\xc3\xbc" "cher.example", "U-label" },
	{ "", 0, -1, NULL, NULL, "empty" },
	{ "user", 0, -1, NULL, NULL, "no domain" },
	{ "@example.org", 0, -1, NULL, NULL, "empty local part" },
	{ "user@", 0, -1, NULL, NULL, "empty domain" },
	{ ".user@example.org", 0, -1, NULL, NULL, "leading dot" },
	{ "user.@example.org", 0, -1, NULL, NULL, "trailing dot" },
	{ "us..er@example.org", 0, -1, NULL, NULL, "double dot" },
	{ "us er@example.org", 0, -1, NULL, NULL, "space must be quoted" },
	{ "\"unterminated@example.org", 0, -1, NULL, NULL, "open quote" },
	{ "user@exa mple.org", 0, -1, NULL, NULL, "space in domain" },
	{ "user@-example.org", 0, -1, NULL, NULL, "label starts with hyphen" },
	{ "user@example-.org", 0, -1, NULL, NULL, "label ends with hyphen" },
	{ "user@exa_mple.org", 0, -1, NULL, NULL, "underscore" },
	{ "user@exa_mple.org", ADDR_ALLOW_UNDERSCORE, 0, "user", "exa_mple.org", "underscore allowed" },
	{ "user@example..org", 0, -1, NULL, NULL, "empty label" },
	{ "user@localhost", ADDR_REQUIRE_DOT, -1, NULL, NULL, "one label" },
	{ "user@example.123", ADDR_REQUIRE_DOT, -1, NULL, NULL, "numeric TLD" },
	{ "user@localhost", 0, 0, "user", "localhost", "one label allowed by default" },
};

static void test_addr_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(addr_cases); i++) {
		struct addr_parts p;
		const char *why = NULL;
		int got = addr_parse(addr_cases[i].in, strlen(addr_cases[i].in), addr_cases[i].flags, &p, &why);

		if (got != addr_cases[i].want)
			fail_msg("case %zu (%s): got %d (%s)", i, addr_cases[i].why, got, why ? why : "");
		if (got < 0) {
			assert_non_null(why);
			continue;
		}
		if (p.local_len != strlen(addr_cases[i].local) ||
		    memcmp(p.local, addr_cases[i].local, p.local_len) != 0 ||
		    p.domain_len != strlen(addr_cases[i].domain) ||
		    memcmp(p.domain, addr_cases[i].domain, p.domain_len) != 0)
			fail_msg("case %zu (%s): split as %.*s | %.*s", i, addr_cases[i].why,
				 (int)p.local_len, p.local, (int)p.domain_len, p.domain);
	}
}

static void test_limits(void **state)
{
	char local[80], domain[300], addr[400];
	struct addr_parts p;
	const char *why;

	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(addr, sizeof(addr), "%s@example.org", local);
	assert_int_equal(addr_parse(addr, strlen(addr), 0, &p, &why), 0);
	local[64] = 'a';
	local[65] = '\0';
	snprintf(addr, sizeof(addr), "%s@example.org", local);
	assert_int_equal(addr_parse(addr, strlen(addr), 0, &p, &why), -1);
	assert_string_equal(why, "the local part is longer than 64 octets");

	/* 63-octet labels are fine, 64 are not */
	memset(domain, 'b', 63);
	strcpy(domain + 63, ".org");
	assert_int_equal(domain_check(domain, strlen(domain), 0, &why), 0);
	memset(domain, 'b', 64);
	strcpy(domain + 64, ".org");
	assert_int_equal(domain_check(domain, strlen(domain), 0, &why), -1);

	/* 253 characters total at most */
	for (int i = 0; i < 4; i++)
		memcpy(domain + i * 64, "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.", 64);
	domain[253] = '\0';	/* 4 x 64 - 3: ends inside the 4th label */
	assert_int_equal(domain_check(domain, 253, 0, &why), 0);
	domain[253] = 'c';
	domain[254] = '\0';
	assert_int_equal(domain_check(domain, 254, 0, &why), -1);

	memset(addr, 'd', 255);
	addr[255] = '\0';
	addr[10] = '@';
	assert_int_equal(addr_parse(addr, 255, 0, &p, &why), -1);
	assert_string_equal(why, "the address is longer than 254 characters");
	assert_int_equal(addr_parse("a\0b@example.org", 15, 0, &p, &why), -1);
}

static void test_normalize(void **state)
{
	struct addr_parts p;
	const char *why;
	char out[ADDR_MAX + 1];

	assert_int_equal(domain_normalize("ExAmPle.ORG.", 12, out, sizeof(out)), 11);
	assert_string_equal(out, "example.org");
	assert_int_equal(domain_normalize("example.org", 11, out, 5), -1);
	assert_int_equal(addr_parse("Bob.Smith@Example.ORG", 21, 0, &p, &why), 0);
	assert_int_equal(addr_normalize(&p, out, sizeof(out)), 21);
	assert_string_equal(out, "Bob.Smith@example.org");	/* local part keeps its case */
	assert_int_equal(addr_normalize(&p, out, 10), -1);
}

static void test_within(void **state)
{
	assert_true(domain_is_within("example.org", "example.org"));
	assert_true(domain_is_within("mail.example.org", "example.org"));
	assert_false(domain_is_within("badexample.org", "example.org"));
	assert_false(domain_is_within("org", "example.org"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_within),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
