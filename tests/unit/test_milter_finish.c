/*
 * test_milter_finish.c - the answer at the end of a message
 * (milter/finish.c, as filter.c applies it): deletions first, then our
 * fields; whatever path the message took (inbound scored or not, without
 * a client address, quarantined, outbound and signed), the incoming
 * fields only we may write are gone from what is delivered, and only
 * those; a refused message is not touched.
 */
#include "autoconfig.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/rep_trace.h"
#include "common/strbuf.h"
#include "tests/unit/milter_fixture.h"

#define OURS "mx.example.net"
#define KEYS "signing_keys = [ \"example.net ed @DIR@/ed.pem\" ];"

#define GOOD_IP "192.0.2.10"	/* in example.com's SPF record */
#define BAD_IP "198.51.100.7"

/* Fields a sender may not give us: each claims our verdict. */
#define FORGED \
	"Authentication-Results: " OURS "; dkim=pass header.d=bank.example\r\n" \
	"X-Spam-Status: No, score=-10\r\n" \
	"Authentication-Results: other.example; spf=pass smtp.mailfrom=a@example.com\r\n" \
	"x-spam-score: -10\r\n" \
	"X-Limristem-Reputation: id=00000000000000000000000000000000; judged=good; ip=203.0.113.99\r\n" \
	"Authentication-Results: (ours, trust me) MX.EXAMPLE.NET;\r\n\tspf=pass\r\n" \
	"X-Spam-Flag: NO\r\n" \
	"ARC-Authentication-Results: i=1; " OURS "; spf=pass\r\n"
#define FORGED_COUNT 7		/* one Authentication-Results is another's */

#define BODY "Subject: hi\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n" \
	"Message-ID: <7@example.com>\r\n\r\nHello.\r\n"

static struct fixture *finish_fixture(const char *config)
{
	struct fixture *fx = fixture_new();

	fixture_dns(fx, "example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"");
	fixture_dns(fx, "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=quarantine\"");
	fixture_dns(fx, "nodmarc.example. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"");
	fixture_key(fx, "ed.pem", FIXTURE_ED25519, "ed", "example.net");
	fixture_start(fx, config);
	return fx;
}

/* Every deletion comes before every insertion. */
static void assert_deletions_first(const struct answer *a, size_t deletions)
{
	size_t i = 0;

	while (i < a->count && a->ops[i].kind == ANSWER_DELETE)
		i++;
	assert_int_equal(i, deletions);
	for (; i < a->count; i++)
		assert_int_equal(a->ops[i].kind, ANSWER_INSERT);
}

/* What is delivered holds no field a sender forged: the other
 * Authentication-Results stays, ours are the only verdicts. */
static void assert_no_forged_field(const struct fixture_result *r, bool inbound)
{
	size_t results = fixture_field_count(r, "Authentication-Results");

	for (size_t i = 0; i < r->field_count; i++) {
		const char *name = r->fields[i].name, *value = r->fields[i].value;

		assert_null(strstr(value, "bank.example"));
		assert_null(strstr(value, "trust me"));
		assert_null(strstr(value, "score=-10"));
		assert_null(strstr(value, "id=00000000000000000000000000000000"));
		assert_true(strcasecmp(name, "X-Spam-Flag") != 0);
		assert_true(strcasecmp(name, "ARC-Authentication-Results") != 0);
	}
	assert_int_equal(results, inbound ? 2 : 1);
	assert_non_null(strstr(fixture_field(r, "Authentication-Results", inbound ? 1 : 0),
			       "other.example"));
	if (inbound)
		assert_memory_equal(fixture_field(r, "Authentication-Results", 0), " " OURS ";",
				    strlen(OURS) + 2);
}

static const struct {
	const char *config;
	const char *ip;			/* NULL: a client without an address */
	const char *auth, *from;
	const char *code;
	bool quarantined, scored;
	size_t inserted;
	const char *about;
} paths[] = {
	{ "greylisting = false; reputation = false;", GOOD_IP, NULL, "a@example.com", "250",
	  false, false, 1, "inbound, not scored: our Authentication-Results" },
	{ "greylisting = false;", GOOD_IP, NULL, "a@example.com", "250", false, true, 2,
	  "inbound, scored: and our trace" },
	{ "greylisting = false;", NULL, NULL, "a@example.com", "250", true, false, 1,
	  "inbound from a client without an address: not scored (SPF none, DMARC quarantines)" },
	{ "greylisting = false; reputation = false;", BAD_IP, NULL, "a@example.com", "250", true,
	  false, 1, "quarantined by DMARC: still cleaned" },
	{ "greylisting = false; reputation = false; " KEYS, BAD_IP, "user@example.net",
	  "user@example.net", "250", false, false, 1, "outbound: signed, never verified" },
	{ "greylisting = false; reputation = false; signed_headers = [ \"From\", \"Subject\", "
	  "\"X-Spam-Status\", \"Authentication-Results\" ]; " KEYS, BAD_IP, "user@example.net",
	  "user@example.net", "250", false, false, 1,
	  "outbound, signing the kinds of fields deleted: the deleted ones are not signed" },
};

static void test_paths(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(paths); i++) {
		char config[512], *text = NULL;
		struct fixture *fx;
		struct connection c;
		struct fixture_envelope env = { .mail_from = paths[i].from, .auth = paths[i].auth,
						.rcpts = { "user@example.net" } };
		struct fixture_result r;
		bool inbound = paths[i].auth == NULL;

		print_message("case %zu: %s\n", i, paths[i].about);
		snprintf(config, sizeof(config), "milter = { authserv_id = \"" OURS "\"; %s };",
			 paths[i].config);
		fx = finish_fixture(config);
		if (asprintf(&text, FORGED "From: %s\r\nTo: user@example.net\r\n" BODY,
			     paths[i].from) < 0)
			fail_msg("asprintf");
		fixture_connect(fx, &c, paths[i].ip, "mail.example.com");
		fixture_send(fx, &c, &env, text, &r);
		assert_int_equal(r.stage, FIXTURE_AT_END);
		assert_string_equal(r.code, paths[i].code);
		assert_int_equal(r.answer.quarantine[0] != '\0', paths[i].quarantined);
		assert_int_equal(r.o.scored, paths[i].scored);
		assert_int_equal(r.answer.count, FORGED_COUNT + paths[i].inserted);
		assert_deletions_first(&r.answer, FORGED_COUNT);
		assert_no_forged_field(&r, inbound);
		assert_int_equal(fixture_field_count(&r, REP_TRACE_FIELD), paths[i].scored ? 1 : 0);
		assert_int_equal(fixture_metric(fx, "milter_removed_fields_total{kind=\"results\"}"), 2);
		assert_int_equal(fixture_metric(fx, "milter_removed_fields_total{kind=\"arc_results\"}"), 1);
		assert_int_equal(fixture_metric(fx, "milter_removed_fields_total{kind=\"verdicts\"}"), 4);
		if (!inbound) {
			struct dkim_verify *v = fixture_dkim_verify(fx, &r);

			assert_int_equal(dkim_verify_result(v)->count, 1);
			assert_int_equal(dkim_verify_result(v)->sigs[0].result, DKIM_RESULT_PASS);
			dkim_verify_free(&v);
		}
		fixture_result_release(&r);
		free(text);
		fixture_free(&fx);
	}
}

/* Our spam verdict goes in after the sender's is taken out. */
static void test_spam_verdict_replaces_the_senders(void **state)
{
	struct fixture *fx = finish_fixture("milter = { authserv_id = \"" OURS "\"; "
					    "greylisting = false; spam_header_score = 1; };");
	struct connection c;
	struct fixture_envelope env = { .mail_from = "a@nodmarc.example",
					.rcpts = { "user@example.net" } };
	struct fixture_result r;

	fixture_connect(fx, &c, BAD_IP, "mail.example.com");
	/* SPF fail: 3 points */
	fixture_send(fx, &c, &env, FORGED "From: a@nodmarc.example\r\nTo: user@example.net\r\n"
		     BODY, &r);
	assert_string_equal(r.code, "250");
	assert_true(r.o.spam);
	assert_deletions_first(&r.answer, FORGED_COUNT);
	assert_int_equal(fixture_field_count(&r, "X-Spam-Status"), 1);
	assert_int_equal(fixture_field_count(&r, "X-Spam-Score"), 1);
	assert_memory_equal(fixture_field(&r, "X-Spam-Status", 0), " Yes, score=", 12);
	assert_no_forged_field(&r, true);
	fixture_result_release(&r);
	fixture_free(&fx);
}

/* A refused message is not touched; past the header field limit it is
 * refused, whatever the checks said. */
static void test_refused_untouched(void **state)
{
	struct fixture *fx = finish_fixture("milter = { authserv_id = \"" OURS "\"; "
					    "greylisting = false; reputation = false; };");
	struct connection c;
	struct fixture_envelope env = { .mail_from = "a@example.com", .rcpts = { "user@example.net" } };
	struct fixture_result r;
	struct strbuf many = STRBUF_INIT;
	char *text;

	fixture_connect(fx, &c, GOOD_IP, "mail.example.com");
	fixture_send(fx, &c, &env, FORGED "To: user@example.net\r\n" BODY, &r);	/* no From */
	assert_string_equal(r.code, "550");
	assert_int_equal(r.answer.count, 0);
	fixture_result_release(&r);

	for (int i = 0; i <= MESSAGE_HEADERS_MAX; i++)
		strbuf_appendf(&many, "X-Filler: %d\r\n", i);
	strbuf_append_str(&many, "From: a@example.com\r\n" BODY);
	text = strbuf_detach(&many);
	fixture_send(fx, &c, &env, text, &r);
	assert_string_equal(r.code, "552");
	assert_string_equal(r.dsn, "5.3.4");
	assert_int_equal(r.answer.count, 0);
	fixture_result_release(&r);
	free(text);
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_spam_verdict_replaces_the_senders),
		cmocka_unit_test(test_refused_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
