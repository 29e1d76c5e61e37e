/*
 * test_dns.c - the resolver answering from local data, with no server:
 * zones, records, the cache in front of them, and which names can be asked.
 */
#include "autoconfig.h"

#include <stdbool.h>

#include "common/dns.h"
#include "unit.h"

static struct dns *dns_with_nothing_upstream(void)
{
	/* A port nothing answers on: only local data can answer. */
	static char upstream0[] = "127.0.0.1:9";
	static char *upstream[] = { upstream0 };
	static char no_anchor[] = "";
	struct dns_settings s = {
		.upstream = { upstream, 1 }, .recursive = false, .timeout_ms = 1000,
		.cache_size = 1 << 20, .cache_max_ttl_ms = 86400000, .trust_anchor_file = no_anchor,
	};
	char err[256];
	struct dns *dns = dns_new(&s, err, sizeof(err));

	if (dns == NULL)
		fail_msg("%s", err);
	return dns;
}

static void add_zone(struct dns *dns, const char *zone, enum dns_local_zone type)
{
	char err[256];

	if (dns_add_local_zone(dns, zone, type, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void add_data(struct dns *dns, const char *rr)
{
	char err[256];

	if (dns_add_local_data(dns, rr, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static const struct {
	const char *name;
	enum dns_type type;
	enum dns_status want;
	size_t count;
	const char *why;
} cases[] = {
	{ "a.example.org", DNS_A, DNS_OK, 2, "two addresses" },
	{ "A.EXAMPLE.ORG.", DNS_A, DNS_OK, 2, "any case, final dot" },
	{ "a.example.org", DNS_AAAA, DNS_NODATA, 0, "the name exists without that type" },
	{ "nothing.example.org", DNS_A, DNS_NXDOMAIN, 0, "under the static root" },
	{ "example.net", DNS_TXT, DNS_NXDOMAIN, 0, "anything else does not exist either" },
	{ "down.example.org", DNS_TXT, DNS_OK, 1, "a refuse zone answers what it holds" },
	{ "down.example.org", DNS_A, DNS_TEMPFAIL, 0, "and fails the rest" },
	{ "x.down.example.org", DNS_A, DNS_TEMPFAIL, 0, "names below it too" },
	{ "foo:bar/baz.example.org", DNS_A, DNS_OK, 1, "any printable character" },
	{ "sp\\032ace.example.org", DNS_A, DNS_OK, 1, "an escape" },
	{ "sp ace.example.org", DNS_A, DNS_OK, 1, "the same, unescaped" },
	{ "bad..name", DNS_A, DNS_PERMFAIL, 0, "empty label" },
	{ ".example.org", DNS_A, DNS_PERMFAIL, 0, "leading dot" },
	{ "", DNS_A, DNS_PERMFAIL, 0, "empty name" },
	{ "a\x01.example.org", DNS_A, DNS_PERMFAIL, 0, "control character" },
	{ "a\\256.example.org", DNS_A, DNS_PERMFAIL, 0, "escape over 255" },
	{ "a123456789012345678901234567890123456789012345678901234567890123.example.org",
	  DNS_A, DNS_PERMFAIL, 0, "64-octet label" },
	{ "a12345678901234567890123456789012345678901234567890123456789012.example.org",
	  DNS_A, DNS_NXDOMAIN, 0, "63-octet label" },
};

static void test_local_data(void **state)
{
	struct dns *dns = dns_with_nothing_upstream();
	char err[256];

	add_zone(dns, ".", DNS_LOCAL_STATIC);
	add_zone(dns, "down.example.org", DNS_LOCAL_REFUSE);
	add_data(dns, "a.example.org. 300 IN A 192.0.2.1");
	add_data(dns, "a.example.org. 300 IN A 192.0.2.2");
	add_data(dns, "down.example.org. 300 IN TXT \"still here\"");
	add_data(dns, "foo:bar/baz.example.org. A 192.0.2.3");
	add_data(dns, "sp\\032ace.example.org. A 192.0.2.4");
	assert_int_equal(dns_add_local_data(dns, "broken. IN A 300.1.1.1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a record"));

	/* Twice: the second answers may come from the cache and must agree. */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
			struct dns_answer *a = dns_lookup(dns, cases[i].name, cases[i].type);
			if (a->status != cases[i].want || a->count != cases[i].count)
				fail_msg("round %d case %zu (%s): %s with %zu records", round, i,
					 cases[i].why, dns_status_name(a->status), a->count);
			if (a->status == DNS_OK)
				assert_true(a->ttl > 0 && a->ttl <= 3600);
			dns_answer_free(&a);
		}
	}
	/* Data can come later; zones cannot. */
	add_data(dns, "late.example.org. A 192.0.2.9");
	struct dns_answer *a = dns_lookup(dns, "late.example.org", DNS_A);
	assert_int_equal(a->status, DNS_OK);
	dns_answer_free(&a);
	assert_int_equal(dns_add_local_zone(dns, "late.example.org", DNS_LOCAL_STATIC, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "before any data or lookup"));
	assert_int_equal(dns_add_local_zone(dns, "bad..zone", DNS_LOCAL_STATIC, err, sizeof(err)), -1);
	dns_free(&dns);
	assert_null(dns);
}

static void test_local_data_names(void **state)
{
	struct dns *dns = dns_with_nothing_upstream();
	struct dns_answer *a;

	add_zone(dns, ".", DNS_LOCAL_STATIC);
	add_data(dns, "mx.example.org. MX 10 foo:bar/b\\032z.example.org.");
	add_data(dns, "foo:bar/b\\032z.example.org. A 192.0.2.5");
	add_data(dns, "t.example.org. TXT \"v=spf1 \" \"a\\000\"");
	a = dns_lookup(dns, "mx.example.org", DNS_MX);
	assert_int_equal(a->status, DNS_OK);
	assert_string_equal(a->records[0].data, "foo:bar/b\\032z.example.org");
	/* A name from an answer can be asked as it is. */
	struct dns_answer *b = dns_lookup(dns, a->records[0].data, DNS_A);
	assert_int_equal(b->status, DNS_OK);
	dns_answer_free(&b);
	dns_answer_free(&a);
	a = dns_lookup(dns, "t.example.org", DNS_TXT);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->records[0].len, 9);
	assert_memory_equal(a->records[0].data, "v=spf1 a\0", 9);
	dns_answer_free(&a);
	dns_free(&dns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_data),
		cmocka_unit_test(test_local_data_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
