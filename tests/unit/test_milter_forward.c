/*
 * test_milter_forward.c - ARC sealing of mail forwarded outside
 * (milter/forward.c and finish.c, as filter.c drives them): a message to
 * a forwarded recipient leaves with our ARC set on top, which mailauth's
 * verifier validates with the seal key in the local DNS (alone, or after
 * an upstream sealer's set); other mail gets none; a forged
 * ARC-Authentication-Results claiming our authserv-id is deleted and the
 * message goes unsealed.
 */
#include "autoconfig.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/milter_fixture.h"

#define OURS "mx.example.net"
#define SEAL "arc_seal_domain = \"example.net\"; arc_seal_selector = \"arc\"; " \
	"arc_seal_key = \"@DIR@/arc.pem\";"
#define FORWARDED "forwarded_recipients = [ \"fwd@example.net\", \"@lists.example.net\" ];"
#define CONFIG(extra) \
	"milter = { authserv_id = \"" OURS "\"; greylisting = false; reputation = false; " \
	FORWARDED extra " };"

#define GOOD_IP "192.0.2.10"	/* in example.com's SPF record */
#define BAD_IP "198.51.100.7"

#define MESSAGE "From: Alice <alice@example.com>\r\nTo: fwd@example.net\r\nSubject: hi\r\n" \
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <5@example.com>\r\n\r\n" \
	"Hello,\r\n\r\nto be forwarded.\r\n"

static struct fixture *forward_fixture(const char *config)
{
	struct fixture *fx = fixture_new();

	fixture_dns(fx, "example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"");
	fixture_dns(fx, "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject\"");
	fixture_key(fx, "dkim.pem", FIXTURE_ED25519, "ed", "example.com");
	fixture_key(fx, "arc.pem", FIXTURE_RSA, "arc", "example.net");
	fixture_key(fx, "upstream.pem", FIXTURE_RSA, "s1", "sealer.example");
	fixture_start(fx, config);
	return fx;
}

static void send(struct fixture *fx, const char *ip, const char *rcpt, const char *text,
		 struct fixture_result *r)
{
	struct connection c;
	struct fixture_envelope env = { .mail_from = "alice@example.com", .rcpts = { rcpt } };

	fixture_connect(fx, &c, ip, "mail.example.com");
	fixture_send(fx, &c, &env, text, r);
	assert_int_equal(r->stage, FIXTURE_AT_END);
}

/* The delivered message's chain: its status and highest instance. */
static enum arc_status chain(struct fixture *fx, const struct fixture_result *r,
			     unsigned *instances_r)
{
	struct arc_verify *v = fixture_arc_verify(fx, r);
	const struct arc_result *res = arc_verify_result(v);
	enum arc_status status = res->status;

	*instances_r = res->instances;
	if (status == ARC_STATUS_PASS)
		assert_string_equal(res->sealers[res->instances - 1], "example.net");
	arc_verify_free(&v);
	return status;
}

/* The answer's last insertions are our set, AS last so that it is on top. */
static void assert_sealed_on_top(const struct fixture_result *r, unsigned instance)
{
	const struct answer *a = &r->answer;
	char want[32];

	assert_true(a->count >= 3);
	assert_string_equal(a->ops[a->count - 3].name, "ARC-Authentication-Results");
	assert_string_equal(a->ops[a->count - 2].name, "ARC-Message-Signature");
	assert_string_equal(a->ops[a->count - 1].name, "ARC-Seal");
	assert_string_equal(r->fields[0].name, "ARC-Seal");
	assert_string_equal(r->fields[1].name, "ARC-Message-Signature");
	assert_string_equal(r->fields[2].name, "ARC-Authentication-Results");
	assert_string_equal(r->fields[3].name, "Authentication-Results");
	snprintf(want, sizeof(want), " i=%u; " OURS ";", instance);
	assert_memory_equal(r->fields[2].value, want, strlen(want));
	assert_int_equal(r->o.sealed_instance, instance);
}

static const struct {
	const char *config;
	const char *ip, *rcpt;
	bool dkim, upstream;		/* signed by example.com; sealed by sealer.example */
	unsigned instance;		/* ours, 0: not sealed */
	const char *about;
} cases[] = {
	{ CONFIG(SEAL), GOOD_IP, "fwd@example.net", false, false, 1,
	  "a forwarded recipient: sealed" },
	{ CONFIG(SEAL), GOOD_IP, "Fwd@Example.NET", true, false, 1, "any case, DKIM-signed" },
	{ CONFIG(SEAL), GOOD_IP, "anyone@lists.example.net", false, false, 1,
	  "a catch-all of a forwarded domain" },
	{ CONFIG(SEAL), BAD_IP, "fwd@example.net", true, true, 2,
	  "after an upstream sealer's set: i=2, the chain passes" },
	{ CONFIG(SEAL), GOOD_IP, "user@example.net", false, false, 0, "not forwarded: no set" },
	{ CONFIG(""), GOOD_IP, "fwd@example.net", false, false, 0, "no seal configured" },
};

static void test_sealing(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct fixture *fx = forward_fixture(cases[i].config);
		char *signed_text = cases[i].dkim ? fixture_dkim_sign(fx, MESSAGE, "example.com", "ed",
								      "dkim.pem") : NULL;
		char *text = cases[i].upstream
			     ? fixture_arc_seal(fx, signed_text != NULL ? signed_text : MESSAGE,
						"sealer.example", "s1", "upstream.pem") : NULL;
		struct fixture_result r;
		unsigned instances;

		print_message("case %zu: %s\n", i, cases[i].about);
		send(fx, cases[i].ip, cases[i].rcpt,
		     text != NULL ? text : signed_text != NULL ? signed_text : MESSAGE, &r);
		assert_string_equal(r.code, "250");
		assert_int_equal(fixture_metric(fx, "milter_sealed_total"), cases[i].instance > 0);
		if (cases[i].instance == 0) {
			assert_int_equal(fixture_field_count(&r, "ARC-Seal"), 0);
			assert_int_equal(r.o.sealed_instance, 0);
		} else {
			assert_sealed_on_top(&r, cases[i].instance);
			assert_int_equal(chain(fx, &r, &instances), ARC_STATUS_PASS);
			assert_int_equal(instances, cases[i].instance);
			assert_int_equal(fixture_field_count(&r, "ARC-Seal"), cases[i].instance);
		}
		fixture_result_release(&r);
		free(text);
		free(signed_text);
		fixture_free(&fx);
	}
}

/* Our ARC-Authentication-Results carries our results as the
 * Authentication-Results we add does. */
static void test_aar_is_our_results(void **state)
{
	struct fixture *fx = forward_fixture(CONFIG(SEAL));
	struct fixture_result r;
	const char *ar, *aar;

	send(fx, GOOD_IP, "fwd@example.net", MESSAGE, &r);
	ar = fixture_field(&r, "Authentication-Results", 0);
	aar = fixture_field(&r, "ARC-Authentication-Results", 0);
	assert_non_null(ar);
	assert_non_null(aar);
	assert_non_null(strstr(ar, "spf=pass smtp.mailfrom=alice@example.com"));
	assert_memory_equal(aar, " i=1;", 5);
	assert_string_equal(aar + 5, ar);	/* " mx.example.net;\n\tspf=pass ..." */
	fixture_result_release(&r);
	fixture_free(&fx);
}

static const struct {
	const char *field;
	const char *about;
} forged[] = {
	{ "ARC-Authentication-Results: i=1; " OURS "; spf=pass smtp.mailfrom=alice@example.com\r\n",
	  "a forged AAR claiming our authserv-id" },
	{ "ARC-Authentication-Results: i=1; MX.Example.NET; dkim=pass\r\n", "... in another case" },
};

static void test_forged_aar(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(forged); i++) {
		struct fixture *fx = forward_fixture(CONFIG(SEAL));
		struct fixture_result r;
		char *text = NULL;

		print_message("case %zu: %s\n", i, forged[i].about);
		if (asprintf(&text, "%s%s", forged[i].field, MESSAGE) < 0)
			fail_msg("asprintf");
		send(fx, GOOD_IP, "fwd@example.net", text, &r);
		assert_string_equal(r.code, "250");
		assert_int_equal(fixture_field_count(&r, "ARC-Authentication-Results"), 0);
		assert_int_equal(fixture_field_count(&r, "ARC-Seal"), 0);
		assert_int_equal(fixture_field_count(&r, "ARC-Message-Signature"), 0);
		assert_int_equal(r.o.sealed_instance, 0);
		assert_int_equal(fixture_metric(fx, "milter_removed_fields_total{kind=\"arc_results\"}"), 1);
		assert_int_equal(fixture_metric(fx, "milter_sealed_total"), 0);
		/* still verified and given our results */
		assert_int_equal(fixture_field_count(&r, "Authentication-Results"), 1);
		fixture_result_release(&r);
		free(text);
		fixture_free(&fx);
	}
}

/* A message refused is not sealed (nothing is added to it). */
static void test_refused_not_sealed(void **state)
{
	struct fixture *fx = forward_fixture(CONFIG(SEAL));
	struct fixture_result r;

	send(fx, BAD_IP, "fwd@example.net", MESSAGE, &r);	/* DMARC p=reject */
	assert_string_equal(r.code, "550");
	assert_int_equal(r.answer.count, 0);
	assert_int_equal(fixture_metric(fx, "milter_sealed_total"), 0);
	fixture_result_release(&r);
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sealing),
		cmocka_unit_test(test_aar_is_our_results),
		cmocka_unit_test(test_forged_aar),
		cmocka_unit_test(test_refused_not_sealed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
