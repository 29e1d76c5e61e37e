/*
 * test_cidr.c - IP and network parsing, matching and formatting.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "common/cidr.h"
#include "unit.h"

static const struct {
	const char *in;
	int want;
	const char *canonical;
	const char *why;
} parse_cases[] = {
	{ "192.0.2.0/24", 0, "192.0.2.0/24", "IPv4 network" },
	{ "192.0.2.7", 0, "192.0.2.7/32", "host" },
	{ "0.0.0.0/0", 0, "0.0.0.0/0", "everything" },
	{ "2001:db8::/32", 0, "2001:db8::/32", "IPv6 network" },
	{ "2001:DB8::1", 0, "2001:db8::1/128", "IPv6 host, uppercase" },
	{ "::ffff:192.0.2.0/120", 0, "192.0.2.0/24", "mapped network" },
	{ "::ffff:192.0.2.9", 0, "192.0.2.9/32", "mapped host" },
	{ "192.0.2.1/24", -1, NULL, "host bits set" },
	{ "192.0.2.0/33", -1, NULL, "prefix too long" },
	{ "2001:db8::/129", -1, NULL, "IPv6 prefix too long" },
	{ "192.0.2.0/", -1, NULL, "empty prefix" },
	{ "192.0.2.0/2x", -1, NULL, "junk after prefix" },
	{ "192.0.2.0/-1", -1, NULL, "negative prefix" },
	{ "192.0.2", -1, NULL, "short address" },
	{ "example.org", -1, NULL, "a name" },
	{ "", -1, NULL, "empty" },
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(parse_cases); i++) {
		struct cidr c;
		const char *why = NULL;
		char text[CIDR_TEXT_MAX];
		int got = cidr_parse(parse_cases[i].in, &c, &why);

		if (got != parse_cases[i].want)
			fail_msg("case %zu (%s): got %d", i, parse_cases[i].why, got);
		if (got < 0) {
			assert_non_null(why);
			continue;
		}
		assert_int_equal(cidr_format(&c, text, sizeof(text)), 0);
		if (strcmp(text, parse_cases[i].canonical) != 0)
			fail_msg("case %zu (%s): formatted as %s", i, parse_cases[i].why, text);
	}
}

static const struct {
	const char *net, *ip;
	bool want;
} match_cases[] = {
	{ "192.0.2.0/24", "192.0.2.255", true },
	{ "192.0.2.0/24", "192.0.3.0", false },
	{ "192.0.2.0/24", "::ffff:192.0.2.1", true },
	{ "192.0.2.0/25", "192.0.2.128", false },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "0.0.0.0/0", "203.0.113.1", true },
	{ "0.0.0.0/0", "2001:db8::1", false },
	{ "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "2001:db8::/33", "2001:db8:8000::1", false },
	{ "2001:db8::1", "2001:db8::1", true },
	{ "2001:db8::1/128", "2001:db8::2", false },
};

static void test_match_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(match_cases); i++) {
		struct cidr c;
		struct ip_addr ip;
		const char *why;

		assert_int_equal(cidr_parse(match_cases[i].net, &c, &why), 0);
		assert_int_equal(ip_parse(match_cases[i].ip, &ip), 0);
		if (cidr_contains(&c, &ip) != match_cases[i].want)
			fail_msg("case %zu: %s in %s", i, match_cases[i].ip, match_cases[i].net);
	}
}

static void test_network_of(void **state)
{
	struct ip_addr ip;
	struct cidr c;
	char text[CIDR_TEXT_MAX];

	assert_int_equal(ip_parse("198.51.100.77", &ip), 0);
	cidr_of(&ip, 24, 64, &c);
	assert_int_equal(cidr_format(&c, text, sizeof(text)), 0);
	assert_string_equal(text, "198.51.100.0/24");
	assert_int_equal(ip_parse("2001:db8:1:2:3:4:5:6", &ip), 0);
	cidr_of(&ip, 24, 64, &c);
	assert_int_equal(cidr_format(&c, text, sizeof(text)), 0);
	assert_string_equal(text, "2001:db8:1:2::/64");
	assert_true(ip_is_loopback(&(struct ip_addr){ AF_INET, { 127, 0, 0, 9 } }));
	assert_int_equal(ip_parse("::1", &ip), 0);
	assert_true(ip_is_loopback(&ip));
}

static void test_list(void **state)
{
	struct cidr items[2];
	struct cidr_list list = { items, 2 };
	struct ip_addr ip;
	const char *why;

	assert_int_equal(cidr_parse("192.0.2.0/24", &items[0], &why), 0);
	assert_int_equal(cidr_parse("2001:db8::/32", &items[1], &why), 0);
	assert_int_equal(ip_parse("2001:db8::5", &ip), 0);
	assert_true(cidr_list_contains(&list, &ip));
	assert_int_equal(ip_parse("198.51.100.1", &ip), 0);
	assert_false(cidr_list_contains(&list, &ip));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_network_of),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
