/*
 * test_milter_outbound.c - signing outbound mail (milter/outbound.c, as
 * filter.c drives it): which domain signs (the From domain or its nearest
 * parent with keys), whether the login may send as it, RSA and Ed25519
 * signatures side by side that mailauth's verifier accepts with the keys
 * in the local DNS, and what a missing or unusable key gives.
 */
#include "autoconfig.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "mailauth/dkim_tags.h"
#include "tests/unit/milter_fixture.h"

#define OURS "mx.example.net"
#define KEYS "signing_keys = [ \"example.net rsa @DIR@/rsa.pem\", \"example.net ed @DIR@/ed.pem\" ];"
#define CONFIG(extra) \
	"milter = { authserv_id = \"" OURS "\"; greylisting = false; reputation = false; " \
	KEYS extra " };"

#define LAPTOP "198.18.0.1"	/* an authenticated client, from anywhere */
#define INTERNAL "127.0.0.2"	/* internal_networks' default: 127.0.0.0/8 */

static struct fixture *outbound_fixture(const char *config)
{
	struct fixture *fx = fixture_new();

	fixture_key(fx, "rsa.pem", FIXTURE_RSA, "rsa", "example.net");
	fixture_key(fx, "ed.pem", FIXTURE_ED25519, "ed", "example.net");
	fixture_start(fx, config);
	return fx;
}

static void send(struct fixture *fx, const char *ip, const char *auth, const char *mail_from,
		 const char *from_field, struct fixture_result *r)
{
	struct connection c;
	struct fixture_envelope env = { .mail_from = mail_from, .auth = auth,
					.rcpts = { "friend@example.com" } };
	char *text = NULL;

	if (asprintf(&text, "%sTo: friend@example.com\r\nSubject: news\r\n"
		     "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <9@example.net>\r\n\r\n"
		     "Hello,\r\n\r\nthe news.\r\n", from_field) < 0)
		fail_msg("asprintf");
	fixture_connect(fx, &c, ip, "laptop.example.net");
	fixture_send(fx, &c, &env, text, r);
	assert_int_equal(r->stage, FIXTURE_AT_END);
	assert_true(r->m->outbound);
	free(text);
}

/* Every signature of the delivered message passes, of d=domain; how many. */
static size_t verified(struct fixture *fx, const struct fixture_result *r, const char *domain)
{
	struct dkim_verify *v = fixture_dkim_verify(fx, r);
	const struct dkim_verify_result *res = dkim_verify_result(v);
	size_t n = res->count;
	bool rsa = false, ed = false;

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(res->sigs[i].result, DKIM_RESULT_PASS);
		assert_string_equal(res->sigs[i].domain, domain);
		rsa = rsa || strcmp(res->sigs[i].algorithm, "rsa-sha256") == 0;
		ed = ed || strcmp(res->sigs[i].algorithm, "ed25519-sha256") == 0;
	}
	assert_true(n == 0 || (rsa && ed));	/* both keys of the domain sign */
	dkim_verify_free(&v);
	return n;
}

static const struct {
	const char *config;
	const char *ip, *auth, *mail_from, *from_field;
	const char *code, *dsn;
	const char *signed_by;		/* NULL: unsigned */
	const char *why;		/* o.why contains it; "" for none */
	const char *about;
} cases[] = {
	{ CONFIG(""), LAPTOP, "alice@example.net", "alice@example.net",
	  "From: Alice <alice@example.net>\r\n", "250", "2.0.0", "example.net", "",
	  "a user sending as the domain of the login: RSA and Ed25519" },
	{ CONFIG(""), LAPTOP, "alice@example.net", "alice@example.net",
	  "From: alice@EXAMPLE.Net\r\n", "250", "2.0.0", "example.net", "", "any case" },
	{ CONFIG(""), LAPTOP, "alice@example.net", "alice@lists.example.net",
	  "From: News <news@lists.example.net>\r\n", "250", "2.0.0", "example.net", "",
	  "a subdomain is signed with its parent's keys" },
	{ CONFIG(""), LAPTOP, "alice@example.net", "bob@example.com",
	  "From: bob@example.com\r\n", "550", "5.7.1", NULL, "sender not authorized",
	  "a login sending as another domain" },
	{ CONFIG("unauthorized_sender_action = \"unsigned\";"), LAPTOP, "alice@example.net",
	  "bob@example.com", "From: bob@example.com\r\n", "250", "2.0.0", NULL,
	  "unsigned: the login may not sign for example.com",
	  "... with unauthorized_sender_action unsigned" },
	{ CONFIG(""), LAPTOP, "user@sub.example.net", "user@example.net",
	  "From: user@example.net\r\n", "550", "5.7.1", NULL, "sender not authorized",
	  "a login of a subdomain sending as its parent" },
	{ CONFIG(""), LAPTOP, "alice", "alice@example.net", "From: alice@example.net\r\n", "550",
	  "5.7.1", NULL, "sender not authorized", "a login without a domain owns none" },
	{ CONFIG(""), LAPTOP, "bob@example.org", "bob@example.org", "From: bob@example.org\r\n",
	  "250", "2.0.0", NULL, "unsigned: no DKIM key for example.org", "a domain without keys" },
	{ CONFIG(""), INTERNAL, NULL, "app@example.net", "From: app@example.net\r\n", "250",
	  "2.0.0", "example.net", "", "an internal client, no login" },
	{ CONFIG(""), INTERNAL, NULL, "app@example.org", "From: app@example.org\r\n", "250",
	  "2.0.0", NULL, "unsigned: no DKIM key for example.org", "... of a domain without keys" },
	{ CONFIG(""), LAPTOP, "alice@example.net", "alice@example.net", "", "550", "5.7.1", NULL,
	  "0 From header fields", "no From field" },
	{ CONFIG("refuse_bad_from = false;"), LAPTOP, "alice@example.net", "alice@example.net",
	  "From: alice@example.net\r\nFrom: bob@example.net\r\n", "250", "2.0.0", NULL,
	  "2 From header fields", "two From fields, refuse_bad_from off: unsigned" },
};

static void test_signing(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct fixture *fx = outbound_fixture(cases[i].config);
		struct fixture_result r;
		size_t want = cases[i].signed_by != NULL ? 2 : 0;

		print_message("case %zu: %s\n", i, cases[i].about);
		send(fx, cases[i].ip, cases[i].auth, cases[i].mail_from, cases[i].from_field, &r);
		assert_string_equal(r.code, cases[i].code);
		assert_string_equal(r.dsn, cases[i].dsn);
		assert_non_null(strstr(r.o.why, cases[i].why));
		assert_int_equal(fixture_field_count(&r, "DKIM-Signature"), want);
		assert_int_equal(r.o.signatures, want);
		assert_string_equal(r.o.signed_by, cases[i].signed_by != NULL ? cases[i].signed_by : "");
		if (strcmp(cases[i].code, "250") == 0)
			assert_int_equal(verified(fx, &r, "example.net"), want);
		/* outbound mail is neither verified nor given results */
		assert_false(r.o.checked);
		assert_int_equal(fixture_field_count(&r, "Authentication-Results"), 0);
		assert_int_equal(fixture_metric(fx, want > 0 ? "milter_signed_total"
						: "milter_unsigned_total"), 1);
		fixture_result_release(&r);
		fixture_free(&fx);
	}
}

/* A number tag of a DKIM-Signature value. */
static long long tag_number(const char *value, const char *name)
{
	struct dkim_tag_list tags;
	const struct dkim_tag *t;
	const char *why = "";

	assert_int_equal(dkim_tags_parse(value, strlen(value), &tags, &why), 0);
	t = dkim_tags_find(&tags, name);
	assert_non_null(t);
	return strtoll(t->value, NULL, 10);
}

/* The signature's tags: RSA first (the order of the keys), From
 * oversigned, x= when signature_expiry is set. */
static void test_signature_tags(void **state)
{
	struct fixture *fx = outbound_fixture(CONFIG("signature_expiry = \"1d\";"));
	struct fixture_result r;
	const char *rsa, *ed;

	send(fx, LAPTOP, "alice@example.net", "alice@example.net", "From: alice@example.net\r\n", &r);
	assert_int_equal(fixture_field_count(&r, "DKIM-Signature"), 2);
	rsa = fixture_field(&r, "DKIM-Signature", 0);
	ed = fixture_field(&r, "DKIM-Signature", 1);
	assert_non_null(strstr(rsa, "a=rsa-sha256"));
	assert_non_null(strstr(ed, "a=ed25519-sha256"));
	assert_non_null(strstr(rsa, "s=rsa;"));
	assert_non_null(strstr(ed, "s=ed;"));
	assert_non_null(strstr(rsa, "h=From:From:"));	/* a second From breaks it */
	assert_int_equal(tag_number(rsa, "x") - tag_number(rsa, "t"), 86400);
	assert_int_equal(verified(fx, &r, "example.net"), 2);
	fixture_result_release(&r);
	fixture_free(&fx);
}

/* --- keys that cannot sign ---------------------------------------------------------- */

static const struct {
	const char *config;
	mode_t mode;			/* of ed.pem */
	const char *code, *dsn;
	const char *why;
	const char *about;
} key_cases[] = {
	{ CONFIG(""), 0644, "451", "4.3.0", "readable by others",
	  "a key others may read: key_error_action tempfail" },
	{ CONFIG("key_error_action = \"unsigned\";"), 0644, "250", "2.0.0", "unsigned: ",
	  "... key_error_action unsigned" },
	{ "milter = { authserv_id = \"" OURS "\"; greylisting = false; reputation = false; "
	  "signing_keys = [ \"example.net rsa @DIR@/rsa.pem\", \"example.net ed @DIR@/none.pem\" ]; };",
	  0600, "451", "4.3.0", "none.pem", "a key file that does not exist" },
};

static void test_unusable_keys(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(key_cases); i++) {
		struct fixture *fx = fixture_new();
		struct fixture_result r;

		print_message("case %zu: %s\n", i, key_cases[i].about);
		fixture_key(fx, "rsa.pem", FIXTURE_RSA, "rsa", "example.net");
		fixture_key(fx, "ed.pem", FIXTURE_ED25519, "ed", "example.net");
		assert_int_equal(chmod(fixture_path(fx, "ed.pem"), key_cases[i].mode), 0);
		fixture_start(fx, key_cases[i].config);
		send(fx, LAPTOP, "alice@example.net", "alice@example.net",
		     "From: alice@example.net\r\n", &r);
		assert_string_equal(r.code, key_cases[i].code);
		assert_string_equal(r.dsn, key_cases[i].dsn);
		assert_non_null(strstr(r.o.why, key_cases[i].why));
		/* never half signed: the other key does not sign alone */
		assert_int_equal(fixture_field_count(&r, "DKIM-Signature"), 0);
		if (strcmp(key_cases[i].code, "451") == 0)
			assert_non_null(strstr(r.text, "cannot be signed now"));
		fixture_result_release(&r);
		fixture_free(&fx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signing),
		cmocka_unit_test(test_signature_tags),
		cmocka_unit_test(test_unusable_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
