/*
 * test_milter_judge.c - reputation and score of inbound mail
 * (milter/judge.c through milter/inbound.c, counters in the in-memory
 * store): what the seeded history of a client and its sender gives
 * (spam headers, a deferral, a refusal), the trace mailadm learn reads
 * and its MAC, what each message teaches the counters, and the
 * operator's blocks and allows.
 */
#include "autoconfig.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/rep_trace.h"
#include "milter/store.h"
#include "milter/tables.h"
#include "tests/unit/milter_fixture.h"

#define OURS "mx.example.net"
#define CONFIG(extra) \
	"milter = { authserv_id = \"" OURS "\"; greylisting = false; " extra " };"

#define GOOD_IP "192.0.2.10"	/* in example.com's SPF record */
#define BAD_IP "198.51.100.7"	/* in nobody's */
#define BAD_NET "198.51.100.0/24"

#define HALFLIFE_S (14 * 86400)

static struct fixture *judge_fixture(const char *config)
{
	struct fixture *fx = fixture_new();

	fixture_dns(fx, "example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"");
	fixture_dns(fx, "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=none\"");
	fixture_dns(fx, "nodmarc.example. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"");
	fixture_dns(fx, "example.org. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"");
	fixture_dns(fx, "_dmarc.example.org. 300 IN TXT \"v=DMARC1; p=quarantine\"");
	fixture_key(fx, "ed.pem", FIXTURE_ED25519, "ed", "example.com");
	fixture_start(fx, config);
	return fx;
}

/* Adds to an entity's counters, as earlier messages would have. */
static void seed(struct fixture *fx, enum rep_type type, const char *entity, double good,
		 double bad)
{
	char key[REP_KEY_MAX];
	const char *keys[1] = { key };
	struct rep_delta d = { .good = good, .bad = bad };

	assert_int_equal(rep_key(store_prefix(fx->mc.store), type, entity, key, sizeof(key)), 0);
	assert_int_equal(store_rep_add(fx->mc.store, 1, keys, &d, clock_wall_s(), HALFLIFE_S,
				       90 * 86400), 0);
}

static struct rep_counters counters(struct fixture *fx, enum rep_type type, const char *entity)
{
	char key[REP_KEY_MAX];
	const char *keys[1] = { key };
	struct rep_counters c;

	assert_int_equal(rep_key(store_prefix(fx->mc.store), type, entity, key, sizeof(key)), 0);
	assert_int_equal(store_rep_read(fx->mc.store, 1, keys, clock_wall_s(), HALFLIFE_S, &c), 0);
	return c;
}

#define MESSAGE(from) "From: " from "\r\nTo: user@example.net\r\nSubject: offer\r\n" \
	"Message-ID: <3@example.com>\r\n\r\nBuy now.\r\n"

/* A message whose From is its envelope sender. */
static char *message_from(const char *mail_from)
{
	char *text = NULL;

	if (asprintf(&text, MESSAGE("%s"), mail_from) < 0)
		fail_msg("asprintf");
	return text;
}

static void send(struct fixture *fx, const char *ip, const char *mail_from, const char *text,
		 struct fixture_result *r)
{
	struct connection c;
	struct fixture_envelope env = { .mail_from = mail_from, .rcpts = { "user@example.net" } };

	fixture_connect(fx, &c, ip, "mail.example.com");
	fixture_send(fx, &c, &env, text, r);
}

/* --- the score and its actions ------------------------------------------------------ */

static const struct {
	const char *config;
	double ip_bad, net_bad, spf_bad;	/* messages judged spam before */
	const char *ip, *mail_from;
	const char *code;
	bool spam;
	const char *status;		/* X-Spam-Status, NULL: none */
	const char *why;
} scores[] = {
	{ CONFIG(""), 0, 0, 0, BAD_IP, "a@nospf.example", "250", false, NULL,
	  "a client without history" },
	{ CONFIG(""), 100, 100, 0, BAD_IP, "a@nospf.example", "250", true,
	  " Yes, score=6.7 required=5 reasons=ip_rep(3.8),network_rep(2.9)",
	  "a client that sent spam: spam headers" },
	{ CONFIG(""), 100, 100, 0, BAD_IP, "a@example.com", "550", false, NULL,
	  "... and SPF and DMARC (p=none) fail: over reject_score" },
	{ CONFIG(""), 100, 100, 0, BAD_IP, "a@x." FIXTURE_TEMPFAIL_ZONE, "250", true,
	  " Yes, score=6.7 required=5 reasons=ip_rep(3.8),network_rep(2.9)",
	  "an SPF temperror adds nothing" },
	{ CONFIG("spam_header_score = 0;"), 100, 100, 0, BAD_IP, "a@nospf.example", "250", false,
	  NULL, "spam_header_score 0: no headers" },
	{ CONFIG("reject_score = 0;"), 100, 100, 0, BAD_IP, "a@example.com", "250", true,
	  " Yes, score=12.7 required=5 reasons=ip_rep(3.8),network_rep(2.9),spf_fail(3.0),"
	  "dmarc_fail(3.0)", "reject_score 0: headers rather than a refusal" },
	{ CONFIG(""), 0, 0, 100, GOOD_IP, "a@example.com", "250", false, NULL,
	  "a bad SPF domain alone: 2.9 - 0.5 - 1 (dmarc_pass)" },
	{ CONFIG(""), 100, 100, 100, GOOD_IP, "a@example.com", "250", true,
	  " Yes, score=8.0 required=5 reasons=ip_rep(3.8),network_rep(2.9),spf_rep(2.9),"
	  "spf_pass(-0.5),dmarc_pass(-1.0)",
	  "the SPF domain counts when SPF passes; the greylist range without greylisting" },
	{ CONFIG("reputation = false;"), 100, 100, 100, BAD_IP, "a@example.com", "250", false,
	  NULL, "reputation off: no score" },
};

static void test_score(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(scores); i++) {
		struct fixture *fx = judge_fixture(scores[i].config);
		char net[32], *text;
		struct fixture_result r;
		const char *status;

		print_message("case %zu: %s\n", i, scores[i].why);
		snprintf(net, sizeof(net), "%s.0/24", strcmp(scores[i].ip, GOOD_IP) == 0 ? "192.0.2"
			 : "198.51.100");
		if (fx->mc.store != NULL) {
			seed(fx, REP_IP, scores[i].ip, 0, scores[i].ip_bad);
			seed(fx, REP_NETWORK, net, 0, scores[i].net_bad);
			seed(fx, REP_SPF_DOMAIN, "example.com", 0, scores[i].spf_bad);
		}
		text = message_from(scores[i].mail_from);
		send(fx, scores[i].ip, scores[i].mail_from, text, &r);
		free(text);
		assert_int_equal(r.stage, FIXTURE_AT_END);
		assert_string_equal(r.code, scores[i].code);
		assert_int_equal(r.o.spam, scores[i].spam);
		status = fixture_field(&r, "X-Spam-Status", 0);
		if (scores[i].status == NULL) {
			assert_null(status);
			assert_null(fixture_field(&r, "X-Spam-Score", 0));
		} else {
			assert_non_null(status);
			assert_string_equal(status, scores[i].status);
			assert_non_null(fixture_field(&r, "X-Spam-Score", 0));
		}
		if (strcmp(scores[i].code, "550") == 0) {
			assert_string_equal(r.dsn, "5.7.1");
			assert_non_null(strstr(r.text, "it looks like spam"));
		}
		fixture_result_release(&r);
		fixture_free(&fx);
	}
}

/* A score in the greylist range (8 to 12) defers a message greylisting
 * has not delayed yet, once; one that was delayed gets the headers. */
static const struct {
	int64_t at_s;
	const char *mail_from;
	enum fixture_stage stage;
	const char *code;
	const char *why;
} greylisting_steps[] = {
	{ 0, "a@nodmarc.example", FIXTURE_AT_RCPT, "451", "a new triplet, at RCPT" },
	{ 301, "a@nodmarc.example", FIXTURE_AT_END, "250", "retried: delayed once, headers" },
	{ 301 + 3601, "b@nodmarc.example", FIXTURE_AT_END, "451",
	  "a whitelisted origin, not delayed: deferred for its score" },
	{ 301 + 3601 + 301, "b@nodmarc.example", FIXTURE_AT_END, "250", "retried: headers" },
};

static void test_score_greylists(void **state)
{
	struct fixture *fx = judge_fixture("milter = { authserv_id = \"" OURS "\"; "
					   "greylist_whitelist_after = 1; };");

	seed(fx, REP_IP, BAD_IP, 0, 100);
	seed(fx, REP_NETWORK, BAD_NET, 0, 100);
	for (size_t i = 0; i < N_ELEMENTS(greylisting_steps); i++) {
		struct fixture_result r;
		char *text = message_from(greylisting_steps[i].mail_from);

		print_message("step %zu: %s\n", i, greylisting_steps[i].why);
		clock_set_wall_offset(greylisting_steps[i].at_s);
		/* 6.7 + spf_fail 3 */
		send(fx, BAD_IP, greylisting_steps[i].mail_from, text, &r);
		free(text);
		assert_int_equal(r.stage, greylisting_steps[i].stage);
		assert_string_equal(r.code, greylisting_steps[i].code);
		if (r.stage == FIXTURE_AT_END && strcmp(r.code, "451") == 0) {
			assert_string_equal(r.dsn, "4.7.1");
			assert_int_equal(r.o.score_action, SCORE_GREYLIST);
			assert_string_equal(r.o.why, "greylisted for its score");
		} else if (r.stage == FIXTURE_AT_END) {
			assert_int_equal(r.o.score_action, SCORE_HEADERS);
			assert_true(r.o.spam);
		}
		fixture_result_release(&r);
	}
	fixture_free(&fx);
}

/* Exempt clients and recipients are never greylisted: not at RCPT, and
 * not for their score at the end either (a client the score puts in the
 * greylist range gets the headers instead). */
static void test_score_spares_exemptions(void **state)
{
	static const char *const configs[] = {
		"milter = { authserv_id = \"" OURS "\"; greylist_exempt_networks = [ \"" BAD_NET "\" ]; };",
		"milter = { authserv_id = \"" OURS "\"; "
		"greylist_exempt_recipients = [ \"user@example.net\" ]; };",
	};

	for (size_t i = 0; i < N_ELEMENTS(configs); i++) {
		struct fixture *fx = judge_fixture(configs[i]);
		struct fixture_result r;
		char *text = message_from("a@nodmarc.example");

		seed(fx, REP_IP, BAD_IP, 0, 100);
		seed(fx, REP_NETWORK, BAD_NET, 0, 100);
		send(fx, BAD_IP, "a@nodmarc.example", text, &r);
		free(text);
		if (r.stage != FIXTURE_AT_END || strcmp(r.code, "250") != 0)
			fail_msg("case %zu: %s %s (%s)", i, r.code, r.dsn, r.o.why);
		assert_int_equal(r.o.score_action, SCORE_HEADERS);
		assert_true(r.o.spam);
		fixture_result_release(&r);
		fixture_free(&fx);
	}
}

/* --- the trace ---------------------------------------------------------------------- */

static void test_trace(void **state)
{
	struct fixture *fx = judge_fixture(CONFIG(""));
	const char *keys[] = { FIXTURE_TRACE_SECRET }, *wrong[] = { "another-secret-0123456789" };
	char *text = fixture_dkim_sign(fx, MESSAGE("a@example.com"), "example.com", "ed", "ed.pem");
	struct fixture_result r;
	struct rep_trace t;
	const char *field, *why = "";

	seed(fx, REP_IP, GOOD_IP, 0, 100);
	seed(fx, REP_NETWORK, "192.0.2.0/24", 0, 100);
	seed(fx, REP_SPF_DOMAIN, "example.com", 0, 100);
	send(fx, GOOD_IP, "a@example.com", text, &r);
	assert_string_equal(r.code, "250");
	assert_true(r.o.spam);
	field = fixture_field(&r, REP_TRACE_FIELD, 0);
	assert_non_null(field);
	assert_int_equal(field[0], ' ');
	assert_string_equal(field + 1, r.o.trace);
	assert_int_equal(rep_trace_parse(field + 1, strlen(field + 1), &t, &why), 0);
	assert_string_equal(t.ip, GOOD_IP);
	assert_string_equal(t.network, "192.0.2.0/24");
	assert_string_equal(t.spf, "example.com");
	assert_int_equal(t.dkim_count, 1);
	assert_string_equal(t.dkim[0], "example.com");
	assert_true(t.judged_bad);
	assert_int_equal(strlen(t.id), REP_TRACE_ID_LEN);
	assert_int_equal(rep_trace_verify(&t, keys, 1), 0);
	assert_int_equal(rep_trace_verify(&t, wrong, 1), -1);
	t.judged_bad = false;		/* an edited trace no longer verifies */
	assert_int_equal(rep_trace_verify(&t, keys, 1), -1);
	fixture_result_release(&r);
	free(text);
	fixture_free(&fx);
}

/* Without learning secrets no trace is written; a refused message has none. */
static void test_no_trace(void **state)
{
	struct fixture *fx = judge_fixture(CONFIG("") "learning = { secrets_file = \"\"; };");
	struct fixture_result r;

	send(fx, BAD_IP, "a@nospf.example", MESSAGE("a@example.com"), &r);
	assert_string_equal(r.code, "250");
	assert_string_equal(r.o.trace, "");
	assert_null(fixture_field(&r, REP_TRACE_FIELD, 0));
	fixture_result_release(&r);
	fixture_free(&fx);

	fx = judge_fixture(CONFIG(""));
	seed(fx, REP_IP, BAD_IP, 0, 100);
	seed(fx, REP_NETWORK, BAD_NET, 0, 100);
	send(fx, BAD_IP, "a@example.com", MESSAGE("a@example.com"), &r);
	assert_string_equal(r.code, "550");
	assert_string_equal(r.o.trace, "");
	fixture_result_release(&r);
	fixture_free(&fx);
}

/* --- what messages teach the counters ---------------------------------------------- */

static void test_counting(void **state)
{
	struct fixture *fx = judge_fixture(CONFIG(""));
	char *text = fixture_dkim_sign(fx, MESSAGE("a@example.com"), "example.com", "ed", "ed.pem");
	struct fixture_result r;
	struct rep_counters c;

	send(fx, GOOD_IP, "a@example.com", text, &r);	/* good: every entity */
	assert_string_equal(r.code, "250");
	fixture_result_release(&r);
	c = counters(fx, REP_IP, GOOD_IP);
	assert_true(c.known && c.good > 0.99 && c.bad == 0 && c.rejected == 0);
	assert_true(counters(fx, REP_NETWORK, "192.0.2.0/24").good > 0.99);
	assert_true(counters(fx, REP_SPF_DOMAIN, "example.com").good > 0.99);
	assert_true(counters(fx, REP_DKIM_DOMAIN, "example.com").good > 0.99);

	seed(fx, REP_IP, BAD_IP, 0, 100);
	seed(fx, REP_NETWORK, BAD_NET, 0, 100);
	send(fx, BAD_IP, "a@example.com", MESSAGE("a@example.com"), &r);	/* refused */
	assert_string_equal(r.code, "550");
	fixture_result_release(&r);
	c = counters(fx, REP_IP, BAD_IP);
	assert_true(c.rejected > 0.99 && c.good == 0);
	assert_false(counters(fx, REP_SPF_DOMAIN, "nospf.example").known);
	free(text);
	fixture_free(&fx);
}

/* A spoof a DMARC policy quarantines is spam to its client, never good
 * (it once counted as good: spoofing built a client a good name). */
static void test_quarantine_counts_as_spam(void **state)
{
	struct fixture *fx = judge_fixture(CONFIG(""));
	struct fixture_result r;
	struct rep_counters c;
	struct rep_trace t;
	const char *why = "";

	send(fx, "203.0.113.7", "a@example.org", MESSAGE("a@example.org"), &r);
	assert_string_equal(r.code, "250");
	assert_int_equal(r.o.action, VERIFY_QUARANTINE);
	c = counters(fx, REP_IP, "203.0.113.7");
	assert_true(c.bad > 0.99 && c.good == 0 && c.rejected == 0);
	assert_true(counters(fx, REP_NETWORK, "203.0.113.0/24").bad > 0.99);
	assert_int_equal(rep_trace_parse(r.o.trace, strlen(r.o.trace), &t, &why), 0);
	assert_true(t.judged_bad);	/* learning it as ham undoes the spam */
	fixture_result_release(&r);
	fixture_free(&fx);
}

/* --- the operator's decisions ------------------------------------------------------- */

static const struct {
	const char *type, *entity;
	enum rep_override decision;
	int64_t expires_in_s;		/* 0: never */
	const char *ip, *mail_from;
	bool sign;
	enum fixture_stage stage;
	const char *code;
	const char *why;
} overrides[] = {
	{ "ip", BAD_IP, OVERRIDE_BLOCK, 0, BAD_IP, "a@nospf.example", false, FIXTURE_AT_MAIL,
	  "550", "a blocked IP: refused at MAIL" },
	{ "network", "198.51.0.0/16", OVERRIDE_BLOCK, 0, BAD_IP, "a@nospf.example", false,
	  FIXTURE_AT_MAIL, "550", "a blocked network around it" },
	{ "ip", BAD_IP, OVERRIDE_BLOCK, -10, BAD_IP, "a@nospf.example", false, FIXTURE_AT_END,
	  "250", "a block that expired" },
	{ "ip", BAD_IP, OVERRIDE_BLOCK, 3600, BAD_IP, "a@nospf.example", false, FIXTURE_AT_MAIL,
	  "550", "a block that expires later" },
	{ "spf_domain", "example.com", OVERRIDE_BLOCK, 0, GOOD_IP, "a@example.com", false,
	  FIXTURE_AT_RCPT, "550", "a blocked SPF-validated domain: refused at RCPT" },
	{ "spf_domain", "example.com", OVERRIDE_BLOCK, 0, BAD_IP, "a@example.com", false,
	  FIXTURE_AT_END, "550", "... not when SPF fails, but the score refuses it" },
	{ "dkim_domain", "example.com", OVERRIDE_BLOCK, 0, GOOD_IP, "a@example.com", true,
	  FIXTURE_AT_END, "550", "a blocked DKIM domain: refused at the end" },
	{ "ip", BAD_IP, OVERRIDE_ALLOW, 0, BAD_IP, "a@example.com", false, FIXTURE_AT_END, "250",
	  "an allowed IP: no score action, however bad" },
	{ "network", BAD_NET, OVERRIDE_ALLOW, 0, BAD_IP, "a@example.com", false, FIXTURE_AT_END,
	  "250", "an allowed network" },
};

static void add_override(size_t i)
{
	struct milter_tables *t = tables_get();

	tables_add_override(t, overrides[i].type, overrides[i].entity, overrides[i].decision,
			    overrides[i].expires_in_s != 0 ? clock_wall_s() + overrides[i].expires_in_s : 0);
	tables_put(&t);
}

static void test_overrides(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(overrides); i++) {
		struct fixture *fx = judge_fixture(CONFIG(""));
		char *text = overrides[i].sign
			     ? fixture_dkim_sign(fx, MESSAGE("a@example.com"), "example.com", "ed", "ed.pem")
			     : strdup(MESSAGE("a@example.com"));
		struct fixture_result r;

		print_message("case %zu: %s\n", i, overrides[i].why);
		seed(fx, REP_IP, BAD_IP, 0, 100);
		seed(fx, REP_NETWORK, BAD_NET, 0, 100);
		add_override(i);
		send(fx, overrides[i].ip, overrides[i].mail_from, text, &r);
		assert_int_equal(r.stage, overrides[i].stage);
		assert_string_equal(r.code, overrides[i].code);
		if (strcmp(overrides[i].code, "550") == 0)
			assert_string_equal(r.dsn, "5.7.1");
		if (overrides[i].decision == OVERRIDE_ALLOW)
			assert_false(r.o.spam);
		fixture_result_release(&r);
		free(text);
		fixture_free(&fx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_score),
		cmocka_unit_test(test_score_greylists),
		cmocka_unit_test(test_score_spares_exemptions),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_no_trace),
		cmocka_unit_test(test_counting),
		cmocka_unit_test(test_quarantine_counts_as_spam),
		cmocka_unit_test(test_overrides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
