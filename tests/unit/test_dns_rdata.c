/*
 * test_dns_rdata.c - rdata parsing, upstream syntax, reverse names.
 */
#include "autoconfig.h"

#include <stdlib.h>

#include "common/dns.h"
#include "common/dns_upstream.h"
#include "unit.h"

#define RD(s) (const unsigned char *)(s), sizeof(s) - 1

static const struct {
	uint16_t type;
	const unsigned char *rdata;
	size_t len;
	int want;
	const char *text;	/* parsed data for names and TXT */
	uint16_t preference;
	const char *why;
} cases[] = {
	{ DNS_A, RD("\xc0\x00\x02\x01"), 0, NULL, 0, "A" },
	{ DNS_A, RD("\xc0\x00\x02"), -1, NULL, 0, "short A" },
	{ DNS_AAAA, RD("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"), 0, NULL, 0, "AAAA" },
	{ DNS_AAAA, RD("\x20\x01"), -1, NULL, 0, "short AAAA" },
	{ DNS_TXT, RD("\x07v=spf1 \x05-all."), 0, "v=spf1 -all.", 0, "two strings joined" },
	{ DNS_TXT, RD("\x00"), 0, "", 0, "one empty string" },
	{ DNS_TXT, RD("\x09v=DKIM1"), -1, NULL, 0, "string longer than rdata" },
	{ DNS_TXT, RD(""), -1, NULL, 0, "empty rdata" },
	{ DNS_MX, RD("\x00\x0a\x02mx\x07" "example\x03org\x00"), 0, "mx.example.org", 10, "MX" },
	{ DNS_MX, RD("\x00\x00\x00"), 0, "", 0, "null MX (RFC 7505)" },
	{ DNS_MX, RD("\x00\x0a"), -1, NULL, 0, "MX without a name" },
	{ DNS_MX, RD("\x00\x0a\x02mx"), -1, NULL, 0, "name without end" },
	{ DNS_PTR, RD("\x04mail\x07" "example\x03org\x00"), 0, "mail.example.org", 0, "PTR" },
	{ DNS_PTR, RD("\x03" "a.b\x00"), 0, "a\\046b", 0, "dot inside a label is escaped" },
	{ DNS_PTR, RD("\x02\x00\x01\x00"), 0, "\\000\\001", 0, "binary label" },
	{ DNS_PTR, RD("\xc0\x0c"), -1, NULL, 0, "compression pointer" },
	{ DNS_PTR, RD("\x04mail\x00junk"), -1, NULL, 0, "trailing bytes" },
	{ 99, RD("\x00"), -1, NULL, 0, "unsupported type" },
};

static void test_rdata_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct dns_record rec;
		int got = dns_rdata_parse(cases[i].type, cases[i].rdata, cases[i].len, &rec);

		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %d", i, cases[i].why, got);
		if (got < 0)
			continue;
		if (cases[i].text != NULL)
			assert_string_equal(rec.data, cases[i].text);
		else
			assert_memory_equal(rec.data, cases[i].rdata, cases[i].len);
		assert_int_equal(rec.preference, cases[i].preference);
		dns_record_clear(&rec);
	}
}

static void test_long_name(void **state)
{
	unsigned char wire[300];
	char text[DNS_NAME_TEXT_MAX];
	size_t o = 0;

	/* 4 labels of 63 octets: 256 octets on the wire, one too many */
	for (int l = 0; l < 4; l++) {
		wire[o++] = 63;
		memset(wire + o, 'a', 63);
		o += 63;
	}
	wire[o++] = 0;
	assert_int_equal(dns_name_to_text(wire, o, text, sizeof(text)), -1);
	/* 3 labels of 63 and one of 61: 254 octets with the root, fine */
	wire[3 * 64] = 61;
	wire[3 * 64 + 62] = 0;
	assert_int_equal(dns_name_to_text(wire, 3 * 64 + 63, text, sizeof(text)), 3 * 64 + 63);
	assert_int_equal(dns_name_to_text(wire, 3 * 64 + 63, text, 10), -1);
}

static const struct {
	const char *in, *want;
} upstream_cases[] = {
	{ "192.0.2.53", "192.0.2.53" },
	{ "127.0.0.1:5353", "127.0.0.1@5353" },
	{ "[::1]:53", "::1@53" },
	{ "2001:db8::53", "2001:db8::53" },
	{ "dns.example", NULL },
	{ "127.0.0.1:", NULL },
	{ "127.0.0.1:99999", NULL },
	{ "unix:/run/dns.sock", NULL },
};

static void test_upstream(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(upstream_cases); i++) {
		char out[64];
		int got = dns_upstream_to_unbound(upstream_cases[i].in, out, sizeof(out));

		if (upstream_cases[i].want == NULL) {
			assert_int_equal(got, -1);
			assert_non_null(dns_upstream_check(upstream_cases[i].in));
		} else {
			assert_int_equal(got, 0);
			assert_string_equal(out, upstream_cases[i].want);
			assert_null(dns_upstream_check(upstream_cases[i].in));
		}
	}
}

static void test_reverse_names(void **state)
{
	struct ip_addr ip;
	char out[128];

	assert_int_equal(ip_parse("192.0.2.1", &ip), 0);
	assert_int_equal(dns_reverse_name(&ip, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "1.2.0.192.in-addr.arpa");
	assert_int_equal(dns_reverse_name(&ip, "zen.example", out, sizeof(out)), 0);
	assert_string_equal(out, "1.2.0.192.zen.example");
	assert_int_equal(dns_reverse_name(&ip, "zen.example", out, 10), -1);
	assert_int_equal(ip_parse("2001:db8::567:89ab", &ip), 0);
	assert_int_equal(dns_reverse_name(&ip, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rdata_table),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_upstream),
		cmocka_unit_test(test_reverse_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
