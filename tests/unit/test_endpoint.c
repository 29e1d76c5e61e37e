/*
 * test_endpoint.c - endpoint text forms, canonical output, locality.
 */
#include "autoconfig.h"

#include "common/endpoint.h"
#include "unit.h"

static const struct {
	const char *in;
	int want;
	const char *canonical;
	int local;
} cases[] = {
	{ "", 0, "", 0 },
	{ "unix:/run/limristem/srsd.sock", 0, "unix:/run/limristem/srsd.sock", 1 },
	{ "/run/redis/redis.sock", 0, "unix:/run/redis/redis.sock", 1 },
	{ "127.0.0.1:10003", 0, "127.0.0.1:10003", 1 },
	{ "inet:127.0.0.1:10003", 0, "127.0.0.1:10003", 1 },
	{ "[::1]:6379", 0, "[::1]:6379", 1 },
	{ "localhost:6379", 0, "localhost:6379", 1 },
	{ "192.0.2.10:3306", 0, "192.0.2.10:3306", 0 },
	{ "redis.example.org:6379", 0, "redis.example.org:6379", 0 },
	{ "unix:relative.sock", -1, NULL, 0 },
	{ "127.0.0.1", -1, NULL, 0 },
	{ "127.0.0.1:", -1, NULL, 0 },
	{ "127.0.0.1:0", -1, NULL, 0 },
	{ "127.0.0.1:65536", -1, NULL, 0 },
	{ "127.0.0.1:12ab", -1, NULL, 0 },
	{ "::1:6379", -1, NULL, 0 },
	{ "[::1]6379", -1, NULL, 0 },
	{ ":6379", -1, NULL, 0 },
	{ "[[2]:9", -1, NULL, 0 },		/* found by fuzz_cidr */
	{ "inet:unix:4", 0, "inet:unix:4", 0 },	/* found by fuzz_cidr */
	{ "inet:inet:4", 0, "inet:inet:4", 0 },	/* found by fuzz_cidr */
	{ "[192.0.2.1]:9", -1, NULL, 0 },
	{ "bad host:9", -1, NULL, 0 },
	{ "unix:/a/very/long/path/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
	  -1, NULL, 0 },
};

static void test_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct endpoint ep;
		const char *why = NULL;
		char text[400];
		int got = endpoint_parse(cases[i].in, &ep, &why);

		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %d", i, cases[i].in, got);
		if (got < 0) {
			assert_non_null(why);
			continue;
		}
		assert_int_equal(endpoint_format(&ep, text, sizeof(text)), 0);
		assert_string_equal(text, cases[i].canonical);
		if (endpoint_is_local(&ep) != cases[i].local)
			fail_msg("case %zu (%s): locality", i, cases[i].in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
