/*
 * test_milter_greylist.c - greylisting as the milter applies it
 * (milter/greylist.c through milter/inbound.c, state in the in-memory
 * store): a new triplet deferred, an early retry deferred again, a retry
 * after the delay passing (the clock moved, not waited for), a sender's
 * SPF-authorized pool counted as one origin; the exemptions; trusted
 * replies recorded by outbound mail (milter/trusted.c) and validated by
 * SPF at RCPT or by DKIM at the end of the message.
 */
#include "autoconfig.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "tests/unit/milter_fixture.h"

#define OURS "mx.example.net"
#define CONFIG(extra) "milter = { authserv_id = \"" OURS "\"; " extra " };"

#define GOOD_IP "192.0.2.10"	/* in example.com's SPF record */
#define OTHER_IP "203.0.113.9"	/* in example.com's record, another network */
#define BAD_IP "198.51.100.7"	/* in nobody's */

static struct fixture *greylist_fixture(const char *config)
{
	struct fixture *fx = fixture_new();

	fixture_dns(fx, "example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 ip4:203.0.113.0/24 -all\"");
	fixture_dns(fx, "lists.example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"");
	fixture_key(fx, "ed.pem", FIXTURE_ED25519, "ed", "example.com");
	fixture_start(fx, config);
	return fx;
}

/* MAIL and one RCPT from ip: rcpt's verdict (1, 0 deferred, -1 refused). */
static int rcpt(struct fixture *fx, const char *ip, const char *mail_from, const char *to,
		struct inbound_reply *reply)
{
	struct connection c;
	struct message *m;
	int verdict;

	memset(reply, 0, sizeof(*reply));
	fixture_connect(fx, &c, ip, "mail.example.com");
	m = fixture_mail(fx, &c, mail_from, NULL, reply);
	assert_non_null(m);
	verdict = fixture_rcpt(fx, &c, m, to, reply);
	message_free(&m);
	return verdict;
}

static uint64_t greylisted(const struct fixture *fx, const char *result)
{
	char series[96];

	snprintf(series, sizeof(series), "milter_greylist_total{result=\"%s\"}", result);
	return fixture_metric(fx, series);
}

/* --- the triplet's life ------------------------------------------------------------- */

static const struct {
	int64_t at_s;			/* the clock, from the first attempt */
	const char *ip, *mail_from, *rcpt;
	int verdict;
	int retry_in_s;			/* in the reply when deferred */
	const char *why;
} steps[] = {
	{ 0, BAD_IP, "a@nospf.example", "user@example.net", 0, 300, "a new triplet" },
	{ 60, BAD_IP, "a@nospf.example", "user@example.net", 0, 240, "a retry before the delay" },
	{ 299, BAD_IP, "a@nospf.example", "User@Example.NET", 0, 1, "one second early, any case" },
	{ 301, BAD_IP, "a@nospf.example", "user@example.net", 1, 0, "a retry after the delay" },
	{ 4000, BAD_IP, "a@nospf.example", "user@example.net", 1, 0, "known from now on" },
	{ 4000, "198.51.100.200", "a@nospf.example", "user@example.net", 1, 0,
	  "another address of the client's network" },
	{ 4000, BAD_IP, "a@nospf.example", "other@example.net", 0, 300, "another recipient" },
	{ 4000, BAD_IP, "b@nospf.example", "user@example.net", 0, 300, "another sender" },
	{ 5000, GOOD_IP, "alice@example.com", "user@example.net", 0, 300, "an SPF-validated sender" },
	{ 5400, OTHER_IP, "alice@example.com", "user@example.net", 1, 0,
	  "retried from another network of its SPF pool: one origin" },
	{ 4000 + 2 * 86400 + 301, BAD_IP, "a@nospf.example", "other@example.net", 0, 300,
	  "a retry after the retry window (2 days) starts over" },
};

static void test_triplet(void **state)
{
	struct fixture *fx = greylist_fixture(CONFIG("reputation = false;"));

	for (size_t i = 0; i < N_ELEMENTS(steps); i++) {
		struct inbound_reply reply;
		char want[64];

		print_message("step %zu: %s\n", i, steps[i].why);
		clock_set_wall_offset(steps[i].at_s);
		assert_int_equal(rcpt(fx, steps[i].ip, steps[i].mail_from, steps[i].rcpt, &reply),
				 steps[i].verdict);
		if (steps[i].verdict == 1)
			continue;
		assert_string_equal(reply.code, "451");
		assert_string_equal(reply.dsn, "4.7.1");
		snprintf(want, sizeof(want), "try again in %d seconds", steps[i].retry_in_s);
		assert_non_null(strstr(reply.text, want));
	}
	assert_int_equal(greylisted(fx, "deferred"), 5);
	assert_int_equal(greylisted(fx, "deferred_early"), 2);
	assert_int_equal(greylisted(fx, "passed_retry"), 2);
	assert_int_equal(greylisted(fx, "passed"), 2);
	fixture_free(&fx);
}

/* The automatic whitelist: an origin that delivered greylist_whitelist_after
 * times (once per interval) skips greylisting for every recipient. */
static void test_automatic_whitelist(void **state)
{
	struct fixture *fx = greylist_fixture(CONFIG("reputation = false; greylist_whitelist_after = 2;"));
	struct inbound_reply reply;

	clock_set_wall_offset(0);
	assert_int_equal(rcpt(fx, BAD_IP, "a@nospf.example", "u1@example.net", &reply), 0);
	clock_set_wall_offset(400);
	assert_int_equal(rcpt(fx, BAD_IP, "a@nospf.example", "u1@example.net", &reply), 1);
	clock_set_wall_offset(400 + 3601);
	assert_int_equal(rcpt(fx, BAD_IP, "a@nospf.example", "u1@example.net", &reply), 1);
	assert_int_equal(rcpt(fx, BAD_IP, "z@nospf.example", "u2@example.net", &reply), 1);
	assert_int_equal(greylisted(fx, "whitelisted"), 1);
	fixture_free(&fx);
}

/* --- exemptions --------------------------------------------------------------------- */

static const struct {
	const char *ip, *mail_from, *rcpt;
	int verdict;
	const char *why;
} exemptions[] = {
	{ BAD_IP, "", "postmaster@example.net", 1, "the null sender to postmaster" },
	{ BAD_IP, "", "POSTMASTER@example.net", 1, "... in any case" },
	{ BAD_IP, "", "user@example.net", 0, "the null sender to anyone else" },
	{ BAD_IP, "x@nospf.example", "postmaster@example.net", 0, "a sender to postmaster" },
	{ "203.0.113.5", "x@nospf.example", "user@example.net", 1, "greylist_exempt_networks" },
	{ GOOD_IP, "alice@example.com", "user@example.net", 1,
	  "greylist_exempt_senders, SPF-validated" },
	{ GOOD_IP, "news@lists.example.com", "user@example.net", 1, "... and its subdomains" },
	{ BAD_IP, "alice@example.com", "user@example.net", 0,
	  "an exempt sender domain SPF does not validate" },
	{ BAD_IP, "x@nospf.example", "optout@example.net", 1, "greylist_exempt_recipients" },
	{ BAD_IP, "x@nospf.example", "OptOut@Example.net", 1, "... in any case" },
};

static void test_exemptions(void **state)
{
	struct fixture *fx = greylist_fixture(CONFIG(
		"greylist_exempt_networks = [ \"203.0.113.0/24\" ];"
		"greylist_exempt_senders = [ \"example.com\" ];"
		"greylist_exempt_recipients = [ \"optout@example.net\" ];"));
	uint64_t exempt = 0;

	for (size_t i = 0; i < N_ELEMENTS(exemptions); i++) {
		struct inbound_reply reply;

		print_message("case %zu: %s\n", i, exemptions[i].why);
		assert_int_equal(rcpt(fx, exemptions[i].ip, exemptions[i].mail_from, exemptions[i].rcpt,
				      &reply), exemptions[i].verdict);
		exempt += (uint64_t)exemptions[i].verdict;
	}
	assert_int_equal(greylisted(fx, "exempt"), exempt);
	fixture_free(&fx);
}

/* Greylisting off, or no state at all: nothing is deferred. */
static void test_off(void **state)
{
	static const char *const configs[] = {
		CONFIG("greylisting = false;"),
		CONFIG("greylisting = false; reputation = false;"),
	};

	for (size_t i = 0; i < N_ELEMENTS(configs); i++) {
		struct fixture *fx = greylist_fixture(configs[i]);
		struct inbound_reply reply;

		assert_int_equal(rcpt(fx, BAD_IP, "a@nospf.example", "user@example.net", &reply), 1);
		assert_int_equal(greylisted(fx, "deferred"), 0);
		fixture_free(&fx);
	}
}

/* --- trusted replies ---------------------------------------------------------------- */

#define REPLY "From: Friend <friend@example.com>\r\nTo: user@example.net\r\n" \
	"Subject: Re: hello\r\nMessage-ID: <2@example.com>\r\n\r\nThanks!\r\n"

/* Our user writes to friend@example.com (authenticated, from anywhere). */
static void user_writes(struct fixture *fx, const char *to)
{
	struct connection c;
	struct fixture_envelope env = { .mail_from = "user@example.net", .auth = "user@example.net",
					.rcpts = { to } };
	struct fixture_result r;

	fixture_connect(fx, &c, "198.18.0.1", "laptop");
	fixture_send(fx, &c, &env, "From: user@example.net\r\nTo: friend@example.com\r\n"
		     "Subject: hello\r\n\r\nHello!\r\n", &r);
	assert_int_equal(r.stage, FIXTURE_AT_END);
	assert_string_equal(r.code, "250");
	fixture_result_release(&r);
}

static void reply(struct fixture *fx, const char *ip, const char *text, struct fixture_result *r)
{
	struct connection c;
	struct fixture_envelope env = { .mail_from = "friend@example.com",
					.rcpts = { "user@example.net" } };

	fixture_connect(fx, &c, ip, "mail.example.com");
	fixture_send(fx, &c, &env, text, r);
}

static const struct {
	const char *config;
	bool wrote;			/* our user wrote to friend@example.com first */
	const char *ip;
	bool dkim;			/* the reply is DKIM-signed by example.com */
	enum fixture_stage stage;
	const char *code;
	const char *why;
} replies[] = {
	{ CONFIG(""), false, BAD_IP, false, FIXTURE_AT_RCPT, "451", "a stranger" },
	{ CONFIG(""), true, GOOD_IP, false, FIXTURE_AT_END, "250", "a reply SPF validates" },
	{ CONFIG(""), true, BAD_IP, true, FIXTURE_AT_END, "250", "a reply only DKIM validates" },
	{ CONFIG(""), true, BAD_IP, false, FIXTURE_AT_END, "451",
	  "a reply nothing validates: greylisted at the end" },
	{ CONFIG("reputation = false;"), true, BAD_IP, false, FIXTURE_AT_END, "451",
	  "... also without reputation" },
	{ CONFIG("reputation = false;"), true, BAD_IP, true, FIXTURE_AT_END, "250",
	  "... and passes with DKIM without reputation" },
};

static void test_trusted_replies(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(replies); i++) {
		struct fixture *fx = greylist_fixture(replies[i].config);
		char *text = replies[i].dkim ? fixture_dkim_sign(fx, REPLY, "example.com", "ed", "ed.pem")
					     : xstrdup(REPLY);
		struct fixture_result r;

		print_message("case %zu: %s\n", i, replies[i].why);
		if (replies[i].wrote) {
			user_writes(fx, "friend@example.com");
			assert_int_equal(fixture_metric(fx, "milter_trusted_replies_recorded_total"), 1);
		}
		reply(fx, replies[i].ip, text, &r);
		assert_int_equal(r.stage, replies[i].stage);
		assert_string_equal(r.code, replies[i].code);
		if (strcmp(replies[i].code, "451") == 0)
			assert_string_equal(r.dsn, "4.7.1");
		assert_int_equal(greylisted(fx, "trusted_reply"), replies[i].wrote ? 1 : 0);
		fixture_result_release(&r);
		free(text);
		fixture_free(&fx);
	}
}

/* Only external recipients are recorded, and only by accepted mail. */
static void test_recorded_pairs(void **state)
{
	struct fixture *fx = greylist_fixture(CONFIG("signing_keys = [ \"example.net ed @DIR@/ed.pem\" ];"));

	user_writes(fx, "colleague@example.net");	/* a domain of ours: not recorded */
	assert_int_equal(fixture_metric(fx, "milter_trusted_replies_recorded_total"), 0);
	user_writes(fx, "Friend@Example.COM");
	assert_int_equal(fixture_metric(fx, "milter_trusted_replies_recorded_total"), 1);
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_triplet),
		cmocka_unit_test(test_automatic_whitelist),
		cmocka_unit_test(test_exemptions),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_trusted_replies),
		cmocka_unit_test(test_recorded_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
