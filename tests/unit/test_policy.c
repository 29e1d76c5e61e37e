/*
 * test_policy.c - policyd's request parser and the decision of every check.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "policyd/checks.h"
#include "policyd/request.h"
#include "unit.h"

static const struct policy_limits limits = { 64, 256 };

static const struct {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	ssize_t want;		/* > 0: consumed bytes; else the status */
	enum policy_attr attr;	/* checked when want > 0 */
	const char *value;
	const char *why;
} parse_cases[] = {
	{ "request=smtpd_access_policy\n\n", 0, 29, POLICY_REQUEST, "smtpd_access_policy", "minimal" },
	{ "recipient=a@b\nsender=c@d\n\n", 0, 26, POLICY_SENDER, "c@d", "two attributes" },
	{ "recipient=a@b\r\n\r\n", 0, 17, POLICY_RECIPIENT, "a@b", "CRLF line ends" },
	{ "sender=\n\n", 0, 9, POLICY_SENDER, "", "empty value (null sender)" },
	{ "sender=a=b@c\n\n", 0, 14, POLICY_SENDER, "a=b@c", "value with '='" },
	{ "unknown_attr=x\nsize=10\n\n", 0, 24, POLICY_SIZE, "10", "unknown attributes ignored" },
	{ "size=1\nsize=2\n\n", 0, 15, POLICY_SIZE, "2", "a repeated attribute keeps the last value" },
	{ "\n", 0, 1, POLICY_SENDER, "", "an empty request: every attribute absent" },
	{ "size=1\n\nsize=2\n\n", 0, 8, POLICY_SIZE, "1", "pipelined: only the first" },
	{ "", 0, POLICY_PARSE_INCOMPLETE, 0, NULL, "nothing yet" },
	{ "size=1\n", 0, POLICY_PARSE_INCOMPLETE, 0, NULL, "no empty line yet" },
	{ "size=1", 0, POLICY_PARSE_INCOMPLETE, 0, NULL, "partial line" },
	{ "size=1\n\r", 0, POLICY_PARSE_INCOMPLETE, 0, NULL, "CR of the empty line only" },
	{ "no equals\n\n", 0, POLICY_PARSE_MALFORMED, 0, NULL, "a line without '='" },
	{ "a=\0b\n\n", 6, POLICY_PARSE_MALFORMED, 0, NULL, "a NUL byte" },
	{ "x=012345678901234567890123456789012345678901234567890123456789012\n\n", 0,
	  POLICY_PARSE_LINE_TOO_LONG, 0, NULL, "a line of 65 bytes over 64" },
	{ "x=012345678901234567890123456789012345678901234567890123456789012", 0,
	  POLICY_PARSE_LINE_TOO_LONG, 0, NULL, "a partial line already too long" },
	{ "x=01234567890123456789012345678901234567890123456789012345678901\r\n\n", 0, 67,
	  POLICY_ATTR_COUNT, NULL, "exactly 64 bytes with CRLF" },
	{ "a=0123456789012345678901234567890123456789\nb=0123456789012345678901234567890123456789\n"
	  "c=0123456789012345678901234567890123456789\nd=0123456789012345678901234567890123456789\n"
	  "e=0123456789012345678901234567890123456789\nf=0123456789012345678901234567890123456789\n\n",
	  0, POLICY_PARSE_TOO_LONG, 0, NULL, "a request over 256 bytes" },
	{ "size=-1\n\n", 0, POLICY_PARSE_BAD_NUMBER, 0, NULL, "a negative size" },
	{ "size= 5\n\n", 0, POLICY_PARSE_BAD_NUMBER, 0, NULL, "a size with a space (strtoll took it)" },
	{ "size=5k\n\n", 0, POLICY_PARSE_BAD_NUMBER, 0, NULL, "a size with a unit" },
	{ "size=0x10\n\n", 0, POLICY_PARSE_BAD_NUMBER, 0, NULL, "a hexadecimal size" },
	{ "size=+5\n\n", 0, POLICY_PARSE_BAD_NUMBER, 0, NULL, "a size with a sign" },
	{ "recipient_count=1x\n\n", 0, POLICY_PARSE_BAD_NUMBER, 0, NULL, "recipient_count with garbage" },
	{ "recipient_count=-1\n\n", 0, POLICY_PARSE_BAD_NUMBER, 0, NULL, "a negative recipient_count" },
	{ "size=1\nsize=x\n\n", 0, POLICY_PARSE_BAD_NUMBER, 0, NULL, "the last of a repeated size counts" },
	{ "size=\n\n", 0, 7, POLICY_SIZE, "", "an empty size is no size" },
};

/* The numbers the parser hands to the checks. */
static const struct {
	const char *in;
	long long size, recipient_count;
	const char *why;
} number_cases[] = {
	{ "size=0\n\n", 0, 0, "size not announced" },
	{ "size=10240000\nrecipient_count=3\n\n", 10240000, 3, "both" },
	{ "size=9223372036854775807\n\n", INT64_MAX, 0, "INT64_MAX" },
	{ "size=9223372036854775808\n\n", POLICY_NUMBER_MAX, 0, "2^63: saturated, not wrapped" },
	{ "size=18446744073709551617\n\n", POLICY_NUMBER_MAX, 0, "2^64 + 1: saturated, not 1" },
	{ "size=99999999999999999999999999999\nrecipient_count=99999999999999999999\n\n",
	  POLICY_NUMBER_MAX, POLICY_NUMBER_MAX, "far past 64 bits" },
	{ "size=0007\n\n", 7, 0, "leading zeros" },
	{ "recipient_count=\n\n", 0, 0, "empty recipient_count" },
};

static void test_parse_numbers(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(number_cases); i++) {
		struct policy_request req;
		ssize_t got = policy_request_parse(number_cases[i].in, strlen(number_cases[i].in),
						   &limits, &req);

		if (got <= 0 || req.size != number_cases[i].size ||
		    req.recipient_count != number_cases[i].recipient_count)
			fail_msg("case %zu (%s): got %zd size %lld recipient_count %lld", i,
				 number_cases[i].why, got, req.size, req.recipient_count);
		policy_request_clear(&req);
	}
}

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(parse_cases); i++) {
		struct policy_request req;
		size_t len = parse_cases[i].len ? parse_cases[i].len : strlen(parse_cases[i].in);
		ssize_t got = policy_request_parse(parse_cases[i].in, len, &limits, &req);

		if (got != parse_cases[i].want)
			fail_msg("case %zu (%s): got %zd, want %zd", i, parse_cases[i].why, got,
				 parse_cases[i].want);
		if (got > 0 && parse_cases[i].attr < POLICY_ATTR_COUNT &&
		    strcmp(req.value[parse_cases[i].attr], parse_cases[i].value) != 0)
			fail_msg("case %zu (%s): %s=\"%s\", want \"%s\"", i, parse_cases[i].why,
				 policy_attr_name(parse_cases[i].attr), req.value[parse_cases[i].attr],
				 parse_cases[i].value);
		if (got > 0)
			for (int a = 0; a < POLICY_ATTR_COUNT; a++)
				assert_non_null(req.value[a]);
		policy_request_clear(&req);
	}
}

static struct snapshot *test_snapshot(void)
{
	struct snapshot *snap = snapshot_new_empty();
	struct account *a;

	a = snapshot_add_account(snap, "full@example.org");
	a->quota_bytes = 1000;
	a->used_bytes = 1000;
	a = snapshot_add_account(snap, "near@example.org");
	a->quota_bytes = 1000;
	a->used_bytes = 900;
	a = snapshot_add_account(snap, "negative@example.org");
	a->quota_bytes = 1000;
	a->used_bytes = INT64_MIN;
	snapshot_add_account(snap, "unlimited@example.org");
	snapshot_add_account(snap, "owner@example.org");
	snapshot_add_alias(snap, "team@example.org", "full@example.org");
	snapshot_add_alias(snap, "mixed@example.org", "full@example.org");
	snapshot_add_alias(snap, "mixed@example.org", "near@example.org");
	snapshot_add_alias(snap, "out@example.org", "someone@elsewhere.example");
	snapshot_add_alias(snap, "sales@example.org", "owner@example.org");
	snapshot_add_alias(snap, "chain@example.org", "sales@example.org");
	snapshot_add_alias(snap, "loop1@example.org", "loop2@example.org");
	snapshot_add_alias(snap, "loop2@example.org", "loop1@example.org");
	return snap;
}

static void test_quota_table(void **state)
{
	static const struct {
		const char *rcpt;
		long long size;
		enum verdict_kind want;
		const char *why;
	} cases[] = {
		{ "full@example.org", 0, VERDICT_REJECT, "full, size not announced" },
		{ "near@example.org", 0, VERDICT_DUNNO, "room left, size not announced" },
		{ "near@example.org", 100, VERDICT_DUNNO, "exactly fits" },
		{ "near@example.org", 101, VERDICT_REJECT, "one byte too many" },
		{ "unlimited@example.org", 1LL << 40, VERDICT_DUNNO, "no quota" },
		{ "near@example.org", INT64_MAX, VERDICT_REJECT, "the largest size: over, no overflow" },
		{ "near@example.org", INT64_MAX - 899, VERDICT_REJECT, "used + size is INT64_MAX + 1" },
		{ "full@example.org", INT64_MAX, VERDICT_REJECT, "full and the largest size" },
		{ "team@example.org", INT64_MAX, VERDICT_REJECT, "alias to a full mailbox, largest size" },
		{ "mixed@example.org", INT64_MAX, VERDICT_REJECT, "alias: no mailbox takes the largest" },
		{ "unlimited@example.org", INT64_MAX, VERDICT_DUNNO, "no quota takes any size" },
		{ "negative@example.org", 0, VERDICT_DUNNO, "usage below 0 (Dovecot's dict): room" },
		{ "negative@example.org", INT64_MAX, VERDICT_REJECT, "usage below 0, largest size" },
		{ "negative@example.org", 1001, VERDICT_REJECT, "usage below 0 counts as 0" },
		{ "team@example.org", 0, VERDICT_REJECT, "alias whose only mailbox is full" },
		{ "mixed@example.org", 0, VERDICT_DUNNO, "alias with one mailbox with room" },
		{ "out@example.org", 0, VERDICT_DUNNO, "alias to an outside address" },
		{ "loop1@example.org", 0, VERDICT_DUNNO, "alias loop: no verdict" },
		{ "nobody@example.org", 0, VERDICT_DUNNO, "unknown recipient: not ours to judge" },
	};
	struct snapshot *snap = test_snapshot();

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct verdict v;

		quota_decide(snap, cases[i].rcpt, cases[i].size, POLICYD_REJECT, &v);
		if (v.kind != cases[i].want)
			fail_msg("case %zu (%s): got %s", i, cases[i].why, verdict_kind_name(v.kind));
		if (v.kind == VERDICT_REJECT)
			assert_string_equal(v.action, "552 5.2.2 Mailbox full: it cannot take this message");
	}
	{
		struct verdict v;

		quota_decide(snap, "full@example.org", 0, POLICYD_DEFER, &v);
		assert_int_equal(v.kind, VERDICT_DEFER);
		assert_string_equal(v.action, "452 4.2.2 Mailbox full; try again later");
	}
	snapshot_free(&snap);
	assert_null(snap);
}

static void test_ownership_table(void **state)
{
	static const struct {
		const char *login, *sender;
		bool owned;
	} cases[] = {
		{ "owner@example.org", "owner@example.org", true },
		{ "owner@example.org", "sales@example.org", true },
		{ "owner@example.org", "chain@example.org", true },
		{ "owner@example.org", "", true },
		{ "owner@example.org", "full@example.org", false },
		{ "owner@example.org", "someone@elsewhere.example", false },
		{ "owner@example.org", "loop1@example.org", false },
		{ "owner@example.org", "@example.org", false },
		{ "full@example.org", "sales@example.org", false },
	};
	struct snapshot *snap = test_snapshot();

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct verdict v;

		ownership_decide(snap, cases[i].login, cases[i].sender, &v);
		if ((v.kind == VERDICT_DUNNO) != cases[i].owned)
			fail_msg("case %zu: %s as <%s>: got %s", i, cases[i].login, cases[i].sender,
				 verdict_kind_name(v.kind));
	}
	snapshot_free(&snap);
}

static void test_send_limit_table(void **state)
{
	static const struct {
		double messages, recipients;
		long long limit_m, limit_r;
		enum verdict_kind want;
	} cases[] = {
		{ 3, 3, 3, 100, VERDICT_DUNNO },	/* at the limit */
		{ 4, 4, 3, 100, VERDICT_DEFER },	/* one over */
		{ 6, 6, 3, 100, VERDICT_DEFER },	/* twice the limit: still a deferral */
		{ 7, 7, 3, 100, VERDICT_HOLD },		/* over twice: held */
		{ 1, 101, 3, 100, VERDICT_DEFER },	/* recipients over */
		{ 1, 201, 3, 100, VERDICT_HOLD },	/* recipients far over */
		{ 1e6, 1e6, 0, 0, VERDICT_DUNNO },	/* no limits */
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct send_counts c = { cases[i].messages, cases[i].recipients };
		struct send_limits l = { cases[i].limit_m, cases[i].limit_r, 2, 3600 * 1000 };
		struct verdict v;

		send_limit_decide("u@example.org", &c, &l, &v);
		if (v.kind != cases[i].want)
			fail_msg("case %zu: got %s", i, verdict_kind_name(v.kind));
	}
	{
		struct send_counts c = { 4, 1 };
		struct send_limits l = { 3, 100, 2, 3600 * 1000 };
		struct verdict v;

		send_limit_decide("u@example.org", &c, &l, &v);
		assert_string_equal(v.action, "451 4.7.1 Sending limit reached: u@example.org may send "
				    "3 messages per 1h; try again later");
	}
	assert_true(send_window_count(5, 10, 0.0) == 15.0);
	assert_true(send_window_count(5, 10, 0.5) == 10.0);
	assert_true(send_window_count(5, 10, 1.0) == 5.0);
	assert_true(send_window_count(5, 10, 7.0) == 5.0);
}

static void test_send_limits_from_account(void **state)
{
	struct policyd_section s = { .send_limit_messages = 200, .send_limit_recipients = 1000,
				     .hold_factor = 3, .send_window_ms = 3600000 };
	struct account a = { .limit_messages = 5, .limit_recipients = ACCOUNT_LIMIT_DEFAULT };
	struct send_limits l;

	send_limits_for(NULL, &s, &l);
	assert_int_equal(l.messages, 200);
	send_limits_for(&a, &s, &l);
	assert_int_equal(l.messages, 5);
	assert_int_equal(l.recipients, 1000);
	assert_int_equal(l.hold_factor, 3);
}

static void test_zone_health_table(void **state)
{
	enum zone_test_answer L = ZONE_ANSWER_LISTED, N = ZONE_ANSWER_NOT_LISTED, E = ZONE_ANSWER_ERROR;

	assert_int_equal(zone_health_judge(L, N), ZONE_HEALTHY);
	assert_int_equal(zone_health_judge(L, L), ZONE_LISTS_EVERYTHING);
	assert_int_equal(zone_health_judge(N, L), ZONE_LISTS_EVERYTHING);
	assert_int_equal(zone_health_judge(E, L), ZONE_LISTS_EVERYTHING);
	assert_int_equal(zone_health_judge(N, N), ZONE_LISTS_NOTHING);
	assert_int_equal(zone_health_judge(E, N), ZONE_UNREACHABLE);
	assert_int_equal(zone_health_judge(L, E), ZONE_UNREACHABLE);
}

static void test_blocklist_and_trap_texts(void **state)
{
	struct blocklist_hit hit = { "zen.example", "127.0.0.2", "see https://zen.example/q" };
	struct blocklist_hit bare = { "bl.example", "127.0.0.4", "" };
	struct verdict v, strongest;

	blocklist_decide("192.0.2.1", &hit, POLICYD_REJECT, &v);
	assert_string_equal(v.action, "554 5.7.1 Service unavailable; client [192.0.2.1] blocked "
			    "using zen.example; see https://zen.example/q");
	blocklist_decide("192.0.2.1", &bare, POLICYD_DEFER, &v);
	assert_string_equal(v.action, "450 4.7.1 Service unavailable; client [192.0.2.1] blocked "
			    "using bl.example");
	trap_verdict("trap@example.org", &v);
	assert_int_equal(v.kind, VERDICT_REJECT);
	assert_string_equal(v.action, "550 5.7.1 This address accepts no mail");
	/* merging: the stronger wins, the first on a tie */
	verdict_dunno(&strongest);
	send_held_verdict("u@example.org", &v);
	verdict_merge(&strongest, &v);
	assert_int_equal(strongest.kind, VERDICT_HOLD);
	block_verdict("192.0.2.0/24", &v);
	verdict_merge(&strongest, &v);
	assert_string_equal(strongest.check, "blocked");
	trap_verdict("trap@example.org", &v);
	verdict_merge(&strongest, &v);
	assert_string_equal(strongest.check, "blocked");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_quota_table),
		cmocka_unit_test(test_ownership_table),
		cmocka_unit_test(test_send_limit_table),
		cmocka_unit_test(test_send_limits_from_account),
		cmocka_unit_test(test_zone_health_table),
		cmocka_unit_test(test_blocklist_and_trap_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
