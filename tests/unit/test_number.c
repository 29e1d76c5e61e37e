/*
 * test_number.c - strict whole-number parsing (common/number.c).
 */
#include "autoconfig.h"

#include <stdint.h>

#include "common/number.h"
#include "unit.h"

static void test_number_table(void **state)
{
	static const struct {
		const char *in;
		long long min, max;
		enum number_status want;
		long long value;	/* stored on OK and OUT_OF_RANGE */
		const char *why;
	} cases[] = {
		{ "0", 0, 10, NUMBER_OK, 0, "zero" },
		{ "5", 0, 10, NUMBER_OK, 5, "one digit" },
		{ "007", 0, 10, NUMBER_OK, 7, "leading zeros are digits" },
		{ "10", 0, 10, NUMBER_OK, 10, "the maximum itself" },
		{ "11", 0, 10, NUMBER_OUT_OF_RANGE, 10, "over the maximum saturates" },
		{ "", 0, 10, NUMBER_INVALID, 0, "empty" },
		{ " 5", 0, 10, NUMBER_INVALID, 0, "a leading space (strtol skips it)" },
		{ "5 ", 0, 10, NUMBER_INVALID, 0, "a trailing space" },
		{ "+5", 0, 10, NUMBER_INVALID, 0, "a plus sign" },
		{ "0x10", 0, 100, NUMBER_INVALID, 0, "hexadecimal" },
		{ "1e3", 0, 10000, NUMBER_INVALID, 0, "an exponent" },
		{ "5\n", 0, 10, NUMBER_INVALID, 0, "a newline" },
		{ "-", -10, 10, NUMBER_INVALID, 0, "a sign alone" },
		{ "-0", -10, 10, NUMBER_INVALID, 0, "minus zero" },
		{ "--5", -10, 10, NUMBER_INVALID, 0, "two signs" },
		{ "-5", -10, 10, NUMBER_OK, -5, "negative within range" },
		{ "-5", 0, 10, NUMBER_OUT_OF_RANGE, 0, "negative below a minimum of 0" },
		{ "-11", -10, 10, NUMBER_OUT_OF_RANGE, -10, "under the minimum saturates" },
		{ "9223372036854775807", 0, INT64_MAX, NUMBER_OK, INT64_MAX, "INT64_MAX" },
		{ "9223372036854775808", 0, INT64_MAX, NUMBER_OUT_OF_RANGE, INT64_MAX, "INT64_MAX + 1" },
		{ "18446744073709551616", 0, INT64_MAX, NUMBER_OUT_OF_RANGE, INT64_MAX, "2^64 (wraps in uint64)" },
		{ "99999999999999999999999999999999999999", 0, INT64_MAX, NUMBER_OUT_OF_RANGE, INT64_MAX,
		  "far past any integer type" },
		{ "99999999999999999999999999999999999999x", 0, INT64_MAX, NUMBER_INVALID, 0,
		  "a long number with garbage at the end is still garbage" },
		{ "-9223372036854775808", INT64_MIN, 0, NUMBER_OK, INT64_MIN, "INT64_MIN" },
		{ "-9223372036854775809", INT64_MIN, 0, NUMBER_OUT_OF_RANGE, INT64_MIN, "INT64_MIN - 1" },
		{ "3", 5, 10, NUMBER_OUT_OF_RANGE, 5, "under a positive minimum" },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		long long v = 0;
		enum number_status st = number_parse_str(cases[i].in, cases[i].min, cases[i].max, &v);

		if (st != cases[i].want || (st != NUMBER_INVALID && v != cases[i].value))
			fail_msg("\"%s\" (%s): status %d value %lld, want %d %lld", cases[i].in,
				 cases[i].why, st, v, cases[i].want, cases[i].value);
	}
}

static void test_number_not_terminated(void **state)
{
	long long v = 0;

	/* only len bytes are read: "12" of "123" */
	assert_int_equal(number_parse("123", 2, 0, 100, &v), NUMBER_OK);
	assert_int_equal(v, 12);
	assert_int_equal(number_parse("1\0" "2", 3, 0, 100, &v), NUMBER_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number_table),
		cmocka_unit_test(test_number_not_terminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
