/*
 * test_dnsbl.c - blocklist zone specifications and what counts as listed.
 */
#include "autoconfig.h"

#include "common/dnsbl.h"
#include "unit.h"

static const struct {
	const char *spec;
	int want;
	const char *why;
} parse_cases[] = {
	{ "zen.example", 0, "any answer" },
	{ "ZEN.Example.", 0, "normalized" },
	{ "zen.example=127.0.0.2", 0, "one answer" },
	{ "zen.example=127.0.0.[2..11]", 0, "a range" },
	{ "zen.example=127.0.[0;1].[2;4..7;10]", 0, "lists and ranges" },
	{ "zen", -1, "one label" },
	{ "zen.example=", -1, "empty pattern" },
	{ "zen.example=127.0.0", -1, "three octets" },
	{ "zen.example=127.0.0.256", -1, "octet over 255" },
	{ "zen.example=127.0.0.[11..2]", -1, "range downwards" },
	{ "zen.example=127.0.0.[2..", -1, "unclosed bracket" },
	{ "zen.example=127.0.0.[2,3]", -1, "wrong separator" },
	{ "zen.example=127.0.0.2*3", -1, "postscreen weights are not supported" },
	{ "=127.0.0.2", -1, "no zone" },
	{ "zen example=127.0.0.2", -1, "space in zone" },
};

static void test_parse(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(parse_cases); i++) {
		struct dnsbl_zone z;
		const char *why = NULL;
		int got = dnsbl_zone_parse(parse_cases[i].spec, &z, &why);

		if (got != parse_cases[i].want)
			fail_msg("case %zu (%s): got %d (%s)", i, parse_cases[i].why, got, why ? why : "");
		if (got < 0)
			assert_non_null(why);
	}
	struct dnsbl_zone z;
	const char *why;
	assert_int_equal(dnsbl_zone_parse("ZEN.Example.=127.0.0.2", &z, &why), 0);
	assert_string_equal(z.name, "zen.example");
	assert_null(dnsbl_zone_check("zen.example"));
	assert_non_null(dnsbl_zone_check("zen"));
}

static void test_match(void **state)
{
	struct dnsbl_zone any, range, lists;
	const char *why;

	assert_int_equal(dnsbl_zone_parse("any.example", &any, &why), 0);
	assert_int_equal(dnsbl_zone_parse("r.example=127.0.0.[2..11]", &range, &why), 0);
	assert_int_equal(dnsbl_zone_parse("l.example=127.0.[1;3].[4..7;9]", &lists, &why), 0);
	assert_true(dnsbl_zone_matches(&any, (const uint8_t[]){ 127, 0, 0, 2 }));
	assert_true(dnsbl_zone_matches(&any, (const uint8_t[]){ 127, 1, 2, 3 }));
	assert_false(dnsbl_zone_matches(&any, (const uint8_t[]){ 192, 0, 2, 1 }));	/* RFC 5782 2.1 */
	assert_true(dnsbl_zone_matches(&range, (const uint8_t[]){ 127, 0, 0, 11 }));
	assert_false(dnsbl_zone_matches(&range, (const uint8_t[]){ 127, 0, 0, 12 }));
	assert_false(dnsbl_zone_matches(&range, (const uint8_t[]){ 127, 0, 0, 1 }));
	assert_false(dnsbl_zone_matches(&range, (const uint8_t[]){ 127, 0, 1, 2 }));
	assert_true(dnsbl_zone_matches(&lists, (const uint8_t[]){ 127, 0, 3, 9 }));
	assert_false(dnsbl_zone_matches(&lists, (const uint8_t[]){ 127, 0, 2, 9 }));
	assert_false(dnsbl_zone_matches(&lists, (const uint8_t[]){ 127, 0, 1, 8 }));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
