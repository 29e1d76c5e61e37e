/*
 * test_milter_verify.c - the inbound checks at the end of a message
 * (milter/verify.c, milter/report.c through milter/inbound.c): the From
 * field, SPF, DKIM and DMARC from a local DNS, the configured actions, and
 * the Authentication-Results we add. Each case is a whole transaction fed
 * the way the filter feeds it (milter_fixture.h).
 */
#include "autoconfig.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/milter_fixture.h"

#define OURS "mx.example.net"
#define CONFIG(extra) \
	"milter = { authserv_id = \"" OURS "\"; greylisting = false; reputation = false; " \
	extra " };"

#define GOOD_IP "192.0.2.10"	/* in example.com's SPF record */
#define BAD_IP "198.51.100.7"	/* in relay.example's only */

/* example.com: SPF -all, DMARC p=reject, RSA and Ed25519 keys;
 * example.org: SPF ~all, DMARC p=quarantine; relay.example: SPF for
 * BAD_IP, no DMARC; nospf.example: nothing; pct0.example: p=reject with
 * pct=0; the TLD bank: a PSD's psd=y p=reject. */
static void publish(struct fixture *fx, bool keys)
{
	fixture_dns(fx, "example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"");
	fixture_dns(fx, "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject\"");
	fixture_dns(fx, "example.org. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 ~all\"");
	fixture_dns(fx, "_dmarc.example.org. 300 IN TXT \"v=DMARC1; p=quarantine\"");
	fixture_dns(fx, "relay.example. 300 IN TXT \"v=spf1 ip4:198.51.100.0/24 -all\"");
	fixture_dns(fx, "nospf.example. 300 IN A 192.0.2.99");
	/* RFC 9989: a record with the historic pct=0; a Public Suffix Domain's */
	fixture_dns(fx, "_dmarc.pct0.example. 300 IN TXT \"v=DMARC1; p=reject; pct=0\"");
	fixture_dns(fx, "_dmarc.bank. 300 IN TXT \"v=DMARC1; psd=y; p=reject\"");
	if (keys) {
		fixture_key(fx, "rsa.pem", FIXTURE_RSA, "rsa", "example.com");
		fixture_key(fx, "ed.pem", FIXTURE_ED25519, "ed", "example.com");
		fixture_key(fx, "unpublished.pem", FIXTURE_ED25519, "gone", NULL);
	}
}

static struct fixture *verify_fixture(const char *config, bool keys)
{
	struct fixture *fx = fixture_new();

	publish(fx, keys);
	fixture_start(fx, config);
	return fx;
}

/* A message From from, to user@example.net. */
static char *message(const char *from_fields, const char *subject)
{
	char *text = NULL;

	if (asprintf(&text, "%sTo: user@example.net\r\nSubject: %s\r\n"
		     "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\n"
		     "Hello,\r\n\r\nthis is the body.\r\n", from_fields, subject) < 0)
		fail_msg("asprintf");
	return text;
}

static void send(struct fixture *fx, const char *ip, const char *helo, const char *mail_from,
		 const char *text, struct fixture_result *r)
{
	struct connection c;
	struct fixture_envelope env = { .mail_from = mail_from, .rcpts = { "user@example.net" } };

	fixture_connect(fx, &c, ip, helo);
	fixture_send(fx, &c, &env, text, r);
	assert_int_equal(r->stage, FIXTURE_AT_END);
}

/* --- From --------------------------------------------------------------------------- */

static const struct {
	const char *from_fields;
	const char *text;		/* the reply's */
	enum from_status status;
	const char *why;
} bad_from_cases[] = {
	{ "", "it has no From header field", FROM_EMPTY, "no From" },
	{ "From: a@example.com\r\nFrom: b@example.com\r\n", "more than one From header field",
	  FROM_SEVERAL, "two From fields" },
	{ "From: a@example.com, b@example.com\r\n", "exactly one mailbox", FROM_SEVERAL,
	  "two mailboxes in one field" },
	{ "From: undisclosed\r\n", "exactly one mailbox", FROM_NO_DOMAIN, "no address" },
	{ "From: a@\r\n", "exactly one mailbox", FROM_NO_DOMAIN, "no domain" },
	{ "From: \"Bank\" <a@example.com> <b@example.org>\r\n", "exactly one mailbox",
	  FROM_MALFORMED, "two addresses in one mailbox" },
};

static void test_bad_from_refused(void **state)
{
	struct fixture *fx = verify_fixture(CONFIG(""), false);

	for (size_t i = 0; i < N_ELEMENTS(bad_from_cases); i++) {
		char *text = message(bad_from_cases[i].from_fields, "bad from");
		struct fixture_result r;

		print_message("case %zu: %s\n", i, bad_from_cases[i].why);
		send(fx, GOOD_IP, "mail.example.com", "a@example.com", text, &r);
		assert_int_equal(r.o.action, VERIFY_REJECT);
		assert_string_equal(r.code, "550");
		assert_string_equal(r.dsn, "5.7.1");
		assert_non_null(strstr(r.text, bad_from_cases[i].text));
		assert_int_equal(r.o.from_status, bad_from_cases[i].status);
		assert_false(r.o.checked);	/* nothing else was spent on it */
		assert_int_equal(r.answer.count, 0);	/* nothing added to a refused message */
		fixture_result_release(&r);
		free(text);
	}
	assert_int_equal(fixture_metric(fx, "milter_bad_from_total"), N_ELEMENTS(bad_from_cases));
	fixture_free(&fx);
}

static void test_bad_from_accepted_when_allowed(void **state)
{
	struct fixture *fx = verify_fixture(CONFIG("refuse_bad_from = false;"), false);
	char *text = message("From: a@example.com\r\nFrom: b@example.com\r\n", "two");
	struct fixture_result r;

	send(fx, GOOD_IP, "mail.example.com", "a@example.com", text, &r);
	assert_int_equal(r.o.action, VERIFY_ACCEPT);
	assert_true(r.o.checked);
	assert_int_equal(r.o.from_status, FROM_SEVERAL);
	assert_string_equal(r.o.why, "2 From header fields");
	/* checked: results without a dmarc line, there is no author domain */
	assert_non_null(fixture_field(&r, "Authentication-Results", 0));
	assert_null(strstr(fixture_field(&r, "Authentication-Results", 0), "dmarc="));
	assert_int_equal(fixture_metric(fx, "milter_bad_from_total"), 0);
	fixture_result_release(&r);
	free(text);
	fixture_free(&fx);
}

/* --- SPF and DMARC ----------------------------------------------------------------- */

static const struct {
	const char *ip, *mail_from, *from;
	enum spf_verdict spf;
	enum dmarc_verdict dmarc;
	enum verify_action action;
	const char *code;
	const char *why;
} spf_cases[] = {
	{ GOOD_IP, "alice@example.com", "alice@example.com", SPF_PASS, DMARC_RESULT_PASS,
	  VERIFY_ACCEPT, "250", "SPF pass, DMARC pass through aligned SPF" },
	{ BAD_IP, "alice@example.com", "alice@example.com", SPF_FAIL, DMARC_RESULT_FAIL,
	  VERIFY_REJECT, "550", "a spoof: SPF fail, no DKIM, p=reject" },
	{ BAD_IP, "news@relay.example", "alice@example.com", SPF_PASS, DMARC_RESULT_FAIL,
	  VERIFY_REJECT, "550", "SPF pass for a domain that is not aligned" },
	{ BAD_IP, "bob@example.org", "bob@example.org", SPF_SOFTFAIL, DMARC_RESULT_FAIL,
	  VERIFY_QUARANTINE, "250", "SPF softfail, p=quarantine" },
	{ BAD_IP, "carol@nospf.example", "carol@nospf.example", SPF_NONE, DMARC_RESULT_NONE,
	  VERIFY_ACCEPT, "250", "no SPF, no DMARC" },
	{ BAD_IP, "dave@relay.example", "dave@nospf.example", SPF_PASS, DMARC_RESULT_NONE,
	  VERIFY_ACCEPT, "250", "SPF pass, no DMARC" },
	{ GOOD_IP, "erin@x." FIXTURE_TEMPFAIL_ZONE, "erin@nospf.example", SPF_TEMPERROR,
	  DMARC_RESULT_NONE, VERIFY_ACCEPT, "250", "SPF temperror: dns_error_action accept" },
};

static void test_spf_and_dmarc(void **state)
{
	struct fixture *fx = verify_fixture(CONFIG(""), false);

	for (size_t i = 0; i < N_ELEMENTS(spf_cases); i++) {
		char from[128], *text;
		struct fixture_result r;

		print_message("case %zu: %s\n", i, spf_cases[i].why);
		snprintf(from, sizeof(from), "From: %s\r\n", spf_cases[i].from);
		text = message(from, spf_cases[i].why);
		send(fx, spf_cases[i].ip, "mail.example.com", spf_cases[i].mail_from, text, &r);
		assert_true(r.o.checked);
		assert_int_equal(r.o.spf_mailfrom.verdict, spf_cases[i].spf);
		assert_int_equal(r.o.dmarc.verdict, spf_cases[i].dmarc);
		assert_int_equal(r.o.action, spf_cases[i].action);
		assert_string_equal(r.code, spf_cases[i].code);
		if (spf_cases[i].action == VERIFY_REJECT)
			assert_string_equal(r.dsn, "5.7.1");
		if (spf_cases[i].action == VERIFY_QUARANTINE)
			assert_non_null(strstr(r.answer.quarantine, "DMARC"));
		else
			assert_string_equal(r.answer.quarantine, "");
		fixture_result_release(&r);
		free(text);
	}
	assert_int_equal(fixture_metric(fx, "milter_spf_results_total{result=\"pass\"}"), 3);
	assert_int_equal(fixture_metric(fx, "milter_dmarc_results_total{result=\"fail\"}"), 3);
	fixture_free(&fx);
}

/* --- the configured actions --------------------------------------------------------- */

static const struct {
	const char *config;
	const char *ip, *mail_from, *from;
	const char *code, *dsn;
	bool quarantine;
	const char *why;
} action_cases[] = {
	{ CONFIG("dns_error_action = \"tempfail\";"), GOOD_IP, "erin@x." FIXTURE_TEMPFAIL_ZONE,
	  "erin@nospf.example", "451", "4.4.3", false, "SPF temperror, dns_error_action tempfail" },
	{ CONFIG(""), GOOD_IP, "erin@x." FIXTURE_TEMPFAIL_ZONE, "erin@nospf.example", "250",
	  "2.0.0", false, "SPF temperror, dns_error_action accept (the default)" },
	{ CONFIG("dns_error_action = \"tempfail\";"), GOOD_IP, "erin@relay.example",
	  "erin@x." FIXTURE_TEMPFAIL_ZONE, "451", "4.4.3", false, "DMARC temperror, tempfail" },
	{ CONFIG("spf_fail_action = \"reject\";"), GOOD_IP, "x@relay.example", "x@nospf.example",
	  "550", "5.7.23", false, "SPF fail, spf_fail_action reject" },
	{ CONFIG(""), GOOD_IP, "x@relay.example", "x@nospf.example", "250", "2.0.0",
	  false, "SPF fail, spf_fail_action none (the default): DMARC decides" },
	{ CONFIG("dmarc_reject_action = \"quarantine\";"), BAD_IP, "alice@example.com",
	  "alice@example.com", "250", "2.0.0", true, "p=reject, dmarc_reject_action quarantine" },
	{ CONFIG("dmarc_reject_action = \"none\";"), BAD_IP, "alice@example.com",
	  "alice@example.com", "250", "2.0.0", false, "p=reject, dmarc_reject_action none" },
	{ CONFIG("dmarc_quarantine_action = \"reject\";"), BAD_IP, "bob@example.org",
	  "bob@example.org", "550", "5.7.1", false, "p=quarantine, dmarc_quarantine_action reject" },
	{ CONFIG(""), BAD_IP, "x@relay.example", "x@pct0.example", "250", "2.0.0", true,
	  "p=reject with pct=0: testing (dmarc_pct0's default), quarantined" },
	{ CONFIG("dmarc_pct0 = \"ignore\";"), BAD_IP, "x@relay.example", "x@pct0.example", "550",
	  "5.7.1", false, "p=reject with pct=0, dmarc_pct0 ignore: rejected" },
	{ CONFIG(""), BAD_IP, "x@relay.example", "x@shop.bank", "550", "5.7.1", false,
	  "no record of its own: the tree walk finds the PSD's psd=y p=reject" },
	{ CONFIG("dmarc_org_domain = \"psl\";"), BAD_IP, "x@relay.example", "x@shop.bank", "250",
	  "2.0.0", false, "dmarc_org_domain psl: the list knows no PSD record" },
};

static void test_actions(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(action_cases); i++) {
		struct fixture *fx = verify_fixture(action_cases[i].config, false);
		char from[128], *text;
		struct fixture_result r;

		print_message("case %zu: %s\n", i, action_cases[i].why);
		snprintf(from, sizeof(from), "From: %s\r\n", action_cases[i].from);
		text = message(from, action_cases[i].why);
		send(fx, action_cases[i].ip, "mail.example.com", action_cases[i].mail_from, text, &r);
		assert_string_equal(r.code, action_cases[i].code);
		assert_string_equal(r.dsn, action_cases[i].dsn);
		assert_int_equal(r.answer.quarantine[0] != '\0', action_cases[i].quarantine);
		fixture_result_release(&r);
		free(text);
		fixture_free(&fx);
	}
}

/* --- DKIM --------------------------------------------------------------------------- */

static const struct {
	const char *selector, *key;
	bool tamper;
	enum dkim_result dkim;
	enum dmarc_verdict dmarc;
	enum verify_action action;
	const char *why;
} dkim_cases[] = {
	{ "rsa", "rsa.pem", false, DKIM_RESULT_PASS, DMARC_RESULT_PASS, VERIFY_ACCEPT,
	  "RSA signature: DMARC pass through DKIM though SPF fails" },
	{ "ed", "ed.pem", false, DKIM_RESULT_PASS, DMARC_RESULT_PASS, VERIFY_ACCEPT,
	  "Ed25519 signature" },
	{ "rsa", "rsa.pem", true, DKIM_RESULT_FAIL, DMARC_RESULT_FAIL, VERIFY_REJECT,
	  "the body changed after signing" },
	{ "gone", "unpublished.pem", false, DKIM_RESULT_PERMERROR, DMARC_RESULT_FAIL,
	  VERIFY_REJECT, "no key record" },
	{ "rsa", "ed.pem", false, DKIM_RESULT_PERMERROR, DMARC_RESULT_FAIL, VERIFY_REJECT,
	  "signed with another type of key than the selector's" },
};

static void test_dkim(void **state)
{
	struct fixture *fx = verify_fixture(CONFIG(""), true);

	for (size_t i = 0; i < N_ELEMENTS(dkim_cases); i++) {
		char *text = message("From: Alice <alice@example.com>\r\n", "signed");
		char *signed_text = fixture_dkim_sign(fx, text, "example.com", dkim_cases[i].selector,
						      dkim_cases[i].key);
		struct fixture_result r;

		print_message("case %zu: %s\n", i, dkim_cases[i].why);
		if (dkim_cases[i].tamper)
			strstr(signed_text, "this is the body")[0] = 'T';
		send(fx, BAD_IP, "mail.example.com", "alice@example.com", signed_text, &r);
		assert_int_equal(r.o.spf_mailfrom.verdict, SPF_FAIL);
		assert_int_equal(r.o.dkim->count, 1);
		assert_int_equal(r.o.dkim->sigs[0].result, dkim_cases[i].dkim);
		assert_string_equal(r.o.dkim->sigs[0].domain, "example.com");
		assert_int_equal(r.o.dmarc.verdict, dkim_cases[i].dmarc);
		assert_int_equal(r.o.action, dkim_cases[i].action);
		fixture_result_release(&r);
		free(signed_text);
		free(text);
	}
	fixture_free(&fx);
}

/* --- Authentication-Results --------------------------------------------------------- */

static const struct {
	const char *ip, *helo, *mail_from, *from;
	bool sign;
	const char *want;
	const char *why;
} authres_cases[] = {
	{ GOOD_IP, "mail.example.com", "alice@example.com", "alice@example.com", false,
	  " " OURS ";\n\tspf=pass smtp.mailfrom=alice@example.com;\n"
	  "\tspf=none smtp.helo=mail.example.com;\n\tdkim=none;\n"
	  "\tdmarc=pass (p=reject) header.from=example.com;\n"
	  "\tarc=none smtp.remote-ip=" GOOD_IP,
	  "SPF pass, no signature" },
	{ BAD_IP, "[198.51.100.7]", "bob@example.org", "bob@example.org", false,
	  " " OURS ";\n\tspf=softfail smtp.mailfrom=bob@example.org;\n\tdkim=none;\n"
	  "\tdmarc=fail (p=quarantine dis=quarantine) header.from=example.org\n"
	  "\tpolicy.dmarc=quarantine;\n"
	  "\tarc=none smtp.remote-ip=" BAD_IP,
	  "an address literal names no HELO domain; quarantined" },
	{ BAD_IP, "mail.example.com", "", "carol@nospf.example", false,
	  " " OURS ";\n\tspf=none smtp.mailfrom=postmaster@mail.example.com;\n"
	  "\tspf=none smtp.helo=mail.example.com;\n\tdkim=none;\n"
	  "\tdmarc=none header.from=nospf.example;\n\tarc=none smtp.remote-ip=" BAD_IP,
	  "the null sender: SPF checks postmaster@HELO" },
	{ BAD_IP, "mail.example.com", "alice@example.com", "alice@example.com", true,
	  NULL, "a signature: dkim=pass with header.d, header.s, header.b, header.a" },
};

static void test_authentication_results(void **state)
{
	struct fixture *fx = verify_fixture(CONFIG(""), true);

	for (size_t i = 0; i < N_ELEMENTS(authres_cases); i++) {
		char from[128], *text, *signed_text = NULL;
		struct fixture_result r;
		const char *ar;

		print_message("case %zu: %s\n", i, authres_cases[i].why);
		snprintf(from, sizeof(from), "From: %s\r\n", authres_cases[i].from);
		text = message(from, "results");
		if (authres_cases[i].sign)
			signed_text = fixture_dkim_sign(fx, text, "example.com", "rsa", "rsa.pem");
		send(fx, authres_cases[i].ip, authres_cases[i].helo, authres_cases[i].mail_from,
		     signed_text != NULL ? signed_text : text, &r);
		assert_int_equal(fixture_field_count(&r, "Authentication-Results"), 1);
		ar = fixture_field(&r, "Authentication-Results", 0);
		if (authres_cases[i].want != NULL) {
			assert_string_equal(ar, authres_cases[i].want);
		} else {
			char b[9];

			/* header.b is quoted when the signature's first characters hold a '/' */
			assert_non_null(strstr(ar, "dkim=pass header.d=example.com header.s=rsa header.b="));
			snprintf(b, sizeof(b), "%.8s", r.o.dkim->sigs[0].b);
			assert_non_null(strstr(ar, b));
			assert_non_null(strstr(ar, "header.a=rsa-sha256"));
			assert_non_null(strstr(ar, "spf=fail smtp.mailfrom=alice@example.com"));
			assert_non_null(strstr(ar, "dmarc=pass (p=reject) header.from=example.com"));
		}
		/* verify_authres() itself gives the same value, without the space */
		char direct[8192];
		struct connection c;

		fixture_connect(fx, &c, authres_cases[i].ip, authres_cases[i].helo);
		assert_int_equal(verify_authres(&fx->mc, &c, &r.o, direct, sizeof(direct)), 0);
		assert_string_equal(direct, ar + 1);
		fixture_result_release(&r);
		free(signed_text);
		free(text);
	}
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_from_refused),
		cmocka_unit_test(test_bad_from_accepted_when_allowed),
		cmocka_unit_test(test_spf_and_dmarc),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_dkim),
		cmocka_unit_test(test_authentication_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
