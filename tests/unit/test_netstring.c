/*
 * test_netstring.c - netstring parser table and encoder round trip.
 */
#include "autoconfig.h"

#include "common/netstring.h"
#include "unit.h"

#define MAX_PAYLOAD 100

static const struct {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	ssize_t want;
	const char *payload;	/* when want > 0 */
	const char *why;
} cases[] = {
	{ "5:hello,", 0, 8, "hello", "minimal request" },
	{ "0:,", 0, 3, "", "empty payload" },
	{ "5:hello,5:world,", 0, 8, "hello", "pipelined: only the first is consumed" },
	{ "3:a\0b,", 6, 6, NULL, "payload with a NUL byte" },
	{ "", 0, NETSTRING_INCOMPLETE, NULL, "nothing yet" },
	{ "5", 0, NETSTRING_INCOMPLETE, NULL, "length digits only" },
	{ "5:", 0, NETSTRING_INCOMPLETE, NULL, "no payload yet" },
	{ "5:hell", 0, NETSTRING_INCOMPLETE, NULL, "partial payload" },
	{ "5:hello", 0, NETSTRING_INCOMPLETE, NULL, "comma not yet arrived" },
	{ "5:hello!", 0, NETSTRING_MALFORMED, NULL, "wrong terminator" },
	{ ":hello,", 0, NETSTRING_MALFORMED, NULL, "no length" },
	{ "x:hello,", 0, NETSTRING_MALFORMED, NULL, "length not a number" },
	{ "05:hello,", 0, NETSTRING_MALFORMED, NULL, "leading zero" },
	{ "5;hello,", 0, NETSTRING_MALFORMED, NULL, "wrong separator" },
	{ "-5:hello,", 0, NETSTRING_MALFORMED, NULL, "negative length" },
	{ "101:", 0, NETSTRING_TOO_LONG, NULL, "over the limit" },
	{ "101", 0, NETSTRING_TOO_LONG, NULL, "over the limit before the colon" },
	{ "99999999999999999999999999:", 0, NETSTRING_TOO_LONG, NULL, "would overflow" },
	{ "100:", 0, NETSTRING_INCOMPLETE, NULL, "at the limit is fine" },
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *payload = NULL;
		size_t plen = 0, len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		ssize_t got = netstring_parse(cases[i].in, len, MAX_PAYLOAD, &payload, &plen);

		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %zd, want %zd", i, cases[i].why, got, cases[i].want);
		if (got > 0 && cases[i].payload != NULL) {
			assert_int_equal(plen, strlen(cases[i].payload));
			assert_memory_equal(payload, cases[i].payload, plen);
		}
	}
}

/* Whatever the caller's limit, even none, a length never wraps around. */
static void test_limits_at_the_edges(void **state)
{
	const char *payload = NULL;
	size_t plen = 0;

	assert_int_equal(netstring_parse("5:hello,", 8, 0, &payload, &plen), NETSTRING_TOO_LONG);
	assert_int_equal(netstring_parse("0:,", 3, 0, &payload, &plen), 3);
	/* 2^64 + 5: with no limit it used to wrap to 5 and take "hello" */
	assert_int_equal(netstring_parse("18446744073709551621:hello,", 27, SIZE_MAX, &payload, &plen),
			 NETSTRING_TOO_LONG);
	assert_int_equal(netstring_parse("18446744073709551615:", 21, SIZE_MAX, &payload, &plen),
			 NETSTRING_INCOMPLETE);
	assert_int_equal(netstring_parse("18446744073709551614:x", 22, SIZE_MAX, &payload, &plen),
			 NETSTRING_INCOMPLETE);
}

static void test_round_trip(void **state)
{
	struct strbuf out = STRBUF_INIT;
	const char *payload;
	size_t plen;

	netstring_append(&out, "OK SRS0=x=y@example.com", 23);
	assert_string_equal(strbuf_str(&out), "23:OK SRS0=x=y@example.com,");
	assert_int_equal(netstring_parse(out.data, out.len, 1000, &payload, &plen), (ssize_t)out.len);
	assert_int_equal(plen, 23);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_limits_at_the_edges),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
