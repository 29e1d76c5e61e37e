/*
 * test_greylist.c - the pure rules of greylisting and reputation: sender
 * normalization, origins and triplet keys, every greylisting decision,
 * the score function and its thresholds, counter decay, and the
 * X-Limristem-Reputation trace read by `mailadm learn`.
 */
#include "autoconfig.h"

#include <math.h>
#include <stdio.h>

#include "common/rep_trace.h"
#include "common/reputation.h"
#include "milter/greylist_decide.h"
#include "milter/greylist_key.h"
#include "milter/score.h"
#include "unit.h"

/* ---- sender normalization --------------------------------------------------- */

static const struct {
	const char *in, *out;
} senders[] = {
	{ "", "<>" },
	{ "Alice@Example.ORG", "alice@example.org" },
	{ "alice+newsletter@example.org", "alice@example.org" },
	{ "prvs=1234abcdef=alice@example.org", "alice@example.org" },
	{ "PRVS=0123456789=Bob+x@example.org", "bob@example.org" },
	{ "msprvs1=17828sVyt5dWr=bounces-1234@lists.example", "bounces-#@lists.example" },
	{ "btv1==0123456789a==carol@example.com", "carol@example.com" },
	{ "bounce-1234-5678@lists.example", "bounce-#-#@lists.example" },
	{ "owner-list-12345@lists.example", "owner-list-#@lists.example" },
	{ "123@example.org", "#@example.org" },
	{ "user123@example.org", "user123@example.org" },	/* not VERP: part of a word */
	{ "a1.2b@example.org", "a1.2b@example.org" },
	{ "msg.2024.11.23@example.org", "msg.#.#.#@example.org" },
	{ "SRS0=HHH=TT=orig.example=alice@fwd.example", "srs0=#=#=orig.example=alice@fwd.example" },
	{ "SRS0=abcd=2x=orig.example=a+b@fwd.example", "srs0=#=#=orig.example=a+b@fwd.example" },
	{ "prvs=@example.org", "prvs=@example.org" },	/* nothing after the tag */
	{ "+tag@example.org", "+tag@example.org" },	/* no local part before '+' */
	{ "mailer-daemon@Example.org", "mailer-daemon@example.org" },
	{ "noatsign", "noatsign" },
};

static void test_normalize_sender(void **state)
{
	char out[ADDR_MAX + 1];

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(senders); i++) {
		assert_int_equal(greylist_normalize_sender(senders[i].in, strlen(senders[i].in), out,
							   sizeof(out)), 0);
		if (strcmp(out, senders[i].out) != 0)
			fail_msg("%s: got %s, want %s", senders[i].in, out, senders[i].out);
	}
	assert_int_equal(greylist_normalize_sender("alice@example.org", 17, out, 8), -1);
	assert_int_equal(greylist_normalize_sender("", 0, out, 2), -1);
}

/* ---- origins and keys ------------------------------------------------------- */

static const struct {
	const char *ip;
	unsigned v4, v6;
	const char *spf, *want;
} origins[] = {
	{ "192.0.2.77", 24, 64, NULL, "net:192.0.2.0/24" },
	{ "192.0.2.77", 32, 64, NULL, "net:192.0.2.77/32" },
	{ "198.51.100.200", 16, 64, NULL, "net:198.51.0.0/16" },
	{ "2001:db8:1:2:3:4:5:6", 24, 64, NULL, "net:2001:db8:1:2::/64" },
	{ "2001:db8:1:2:3:4:5:6", 24, 48, NULL, "net:2001:db8:1::/48" },
	{ "::ffff:192.0.2.9", 24, 64, NULL, "net:192.0.2.0/24" },
	{ "192.0.2.77", 24, 64, "Mail.Example.COM", "spf:mail.example.com" },
	{ "2001:db8::1", 24, 64, "example.org", "spf:example.org" },
};

static void test_origin(void **state)
{
	char out[GREYLIST_ORIGIN_MAX];
	struct ip_addr ip;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(origins); i++) {
		assert_int_equal(ip_parse(origins[i].ip, &ip), 0);
		assert_int_equal(greylist_origin(&ip, origins[i].v4, origins[i].v6, origins[i].spf,
						 out, sizeof(out)), 0);
		assert_string_equal(out, origins[i].want);
	}
	assert_int_equal(greylist_origin(&ip, 24, 64, "example.org", out, 8), -1);
}

static void test_triplet_key(void **state)
{
	char out[GREYLIST_TRIPLET_MAX];

	(void)state;
	assert_int_equal(greylist_triplet_key("net:192.0.2.0/24", "alice@example.org",
					      "Bob@Example.NET", out, sizeof(out)), 0);
	assert_string_equal(out, "grey:net:192.0.2.0/24/alice@example.org/bob@example.net");
	assert_int_equal(greylist_triplet_key("spf:example.org", "<>", "postmaster@example.net",
					      out, sizeof(out)), 0);
	assert_string_equal(out, "grey:spf:example.org/<>/postmaster@example.net");
	assert_int_equal(greylist_triplet_key("net:x", "a@b", "c@d", out, 10), -1);
}

/* '/' joins the fields and may appear in a quoted local part: escaped, so
 * that two different triplets (or trusted replies) never share a key. */
static void test_keys_cannot_be_split_another_way(void **state)
{
	static const struct {
		const char *a_sender, *a_rcpt, *b_sender, *b_rcpt;
	} pairs[] = {
		{ "a/b@x.example", "c@y.example", "a", "b@x.example/c@y.example" },
		{ "\"a/b\"@x.example", "c@y.example", "\"a", "b\"@x.example/c@y.example" },
		{ "a%2fb@x.example", "c@y.example", "a/b@x.example", "c@y.example" },
		{ "<>", "a/b@y.example", "<>/a", "b@y.example" },
	};
	char a[GREYLIST_TRIPLET_MAX], b[GREYLIST_TRIPLET_MAX];
	char ra[GREYLIST_REPLY_KEY_MAX], rb[GREYLIST_REPLY_KEY_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		assert_int_equal(greylist_triplet_key("net:192.0.2.0/24", pairs[i].a_sender,
						      pairs[i].a_rcpt, a, sizeof(a)), 0);
		assert_int_equal(greylist_triplet_key("net:192.0.2.0/24", pairs[i].b_sender,
						      pairs[i].b_rcpt, b, sizeof(b)), 0);
		assert_string_not_equal(a, b);
		assert_int_equal(greylist_reply_key("p:", pairs[i].a_sender, pairs[i].a_rcpt, ra,
						    sizeof(ra)), 0);
		assert_int_equal(greylist_reply_key("p:", pairs[i].b_sender, pairs[i].b_rcpt, rb,
						    sizeof(rb)), 0);
		assert_string_not_equal(ra, rb);
	}
	assert_int_equal(greylist_triplet_key("spf:example.org", "a/b%c@x.example", "D@Y.example",
					      a, sizeof(a)), 0);
	assert_string_equal(a, "grey:spf:example.org/a%2fb%25c@x.example/d@y.example");
	assert_int_equal(greylist_reply_key("LR:", "Ext/1@X.example", "me@ours.example", ra,
					    sizeof(ra)), 0);
	assert_string_equal(ra, "LR:reply:ext%2f1@x.example/me@ours.example");
}

/* ---- greylisting decisions -------------------------------------------------- */

static const struct greylist_policy postgrey = {
	.delay_s = 300, .retry_window_s = 2 * 86400, .pass_lifetime_s = 35 * 86400,
	.whitelist_after = 5, .whitelist_interval_s = 3600,
};

#define T0 1700000000LL

static const struct {
	const char *name;
	int64_t now;
	const char *triplet, *origin;
	bool use_whitelist;
	enum greylist_verdict verdict;
	int64_t retry_in;
	const char *write_triplet;	/* NULL: no write */
	int64_t triplet_ttl;
	const char *write_origin;
} decisions[] = {
	{ "first attempt", T0, NULL, NULL, true, GREYLIST_DEFER_NEW, 300,
	  "wait 1700000000", 300 + 2 * 86400, NULL },
	{ "retry too early", T0 + 299, "wait 1700000000", NULL, true, GREYLIST_DEFER_EARLY, 1, NULL,
	  0, NULL },
	{ "retry at the delay", T0 + 300, "wait 1700000000", NULL, true, GREYLIST_PASS_RETRY, 0,
	  "pass 1700000000 1700000300", 35 * 86400, "1 1700000300" },
	{ "retry at the window's end", T0 + 300 + 2 * 86400, "wait 1700000000", NULL, true,
	  GREYLIST_PASS_RETRY, 0, "pass 1700000000 1700173100", 35 * 86400, "1 1700173100" },
	{ "retry after the window", T0 + 301 + 2 * 86400, "wait 1700000000", NULL, true,
	  GREYLIST_DEFER_NEW, 300, "wait 1700173101", 300 + 2 * 86400, NULL },
	{ "passed, seen within the hour", T0 + 4000, "pass 1700000000 1700001000", "1 1700001000",
	  true, GREYLIST_PASS_KNOWN, 0, NULL, 0, NULL },
	{ "passed, an hour later", T0 + 4600, "pass 1700000000 1700001000", "1 1700001000", true,
	  GREYLIST_PASS_KNOWN, 0, "pass 1700000000 1700004600", 35 * 86400, "2 1700004600" },
	{ "passed long ago", T0 + 36 * 86400, "pass 1700000000 1700000300", NULL, true,
	  GREYLIST_DEFER_NEW, 300, "wait 1703110400", 300 + 2 * 86400, NULL },
	{ "whitelisted origin, new triplet", T0, NULL, "5 1699990000", true,
	  GREYLIST_PASS_WHITELISTED, 0, NULL, 0, "6 1700000000" },
	{ "whitelisted origin, counted this hour", T0, NULL, "5 1699999000", true,
	  GREYLIST_PASS_WHITELISTED, 0, NULL, 0, NULL },
	{ "four deliveries are not enough", T0, NULL, "4 1699990000", true, GREYLIST_DEFER_NEW, 300,
	  "wait 1700000000", 300 + 2 * 86400, NULL },
	{ "score greylisting ignores the whitelist", T0, NULL, "50 1699990000", false,
	  GREYLIST_DEFER_NEW, 300, "wait 1700000000", 300 + 2 * 86400, NULL },
	{ "score greylisting: the retry passes, not counted", T0 + 400, "wait 1700000000",
	  "50 1699990000", false, GREYLIST_PASS_RETRY, 0, "pass 1700000000 1700000400", 35 * 86400,
	  NULL },
	{ "garbage triplet counts as absent", T0, "wait soon", NULL, true, GREYLIST_DEFER_NEW, 300,
	  "wait 1700000000", 300 + 2 * 86400, NULL },
	{ "garbage origin counts as none", T0, NULL, "many", true, GREYLIST_DEFER_NEW, 300,
	  "wait 1700000000", 300 + 2 * 86400, NULL },
	{ "a triplet from a clock far ahead starts over", T0, "wait 1800000000", NULL, true,
	  GREYLIST_DEFER_NEW, 300, "wait 1700000000", 300 + 2 * 86400, NULL },
	{ "times below 0 (now - last overflowed) count as absent", T0,
	  "pass -9223372036854775808 -9223372036854775808", NULL, true, GREYLIST_DEFER_NEW, 300,
	  "wait 1700000000", 300 + 2 * 86400, NULL },
	{ "a time past 64 bits counts as absent", T0, "wait 99999999999999999999", NULL, true,
	  GREYLIST_DEFER_NEW, 300, "wait 1700000000", 300 + 2 * 86400, NULL },
	{ "a number with a sign or spaces counts as absent", T0 + 300, "wait +1700000000", NULL, true,
	  GREYLIST_DEFER_NEW, 300, "wait 1700000300", 300 + 2 * 86400, NULL },
	{ "a triplet with more than it should have counts as absent", T0 + 300,
	  "wait 1700000000 1700000000", NULL, true, GREYLIST_DEFER_NEW, 300, "wait 1700000300",
	  300 + 2 * 86400, NULL },
	{ "a count so large that count + 1 overflows counts as none", T0, NULL,
	  "9223372036854775807 1699990000", true, GREYLIST_DEFER_NEW, 300, "wait 1700000000",
	  300 + 2 * 86400, NULL },
	{ "an origin with a trailing space counts as none", T0, NULL, "5 1699990000 ", true,
	  GREYLIST_DEFER_NEW, 300, "wait 1700000000", 300 + 2 * 86400, NULL },
};

static void test_decide(void **state)
{
	struct greylist_decision d;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(decisions); i++) {
		greylist_decide(&postgrey, decisions[i].now, decisions[i].triplet, decisions[i].origin,
				decisions[i].use_whitelist, &d);
		if (d.verdict != decisions[i].verdict)
			fail_msg("%s: verdict %s, want %s", decisions[i].name,
				 greylist_verdict_name(d.verdict),
				 greylist_verdict_name(decisions[i].verdict));
		assert_int_equal(d.retry_in_s, decisions[i].retry_in);
		assert_int_equal(d.write_triplet, decisions[i].write_triplet != NULL);
		if (decisions[i].write_triplet != NULL) {
			assert_string_equal(d.triplet_value, decisions[i].write_triplet);
			assert_int_equal(d.triplet_ttl_s, decisions[i].triplet_ttl);
		}
		assert_int_equal(d.write_origin, decisions[i].write_origin != NULL);
		if (decisions[i].write_origin != NULL) {
			assert_string_equal(d.origin_value, decisions[i].write_origin);
			assert_int_equal(d.origin_ttl_s, postgrey.pass_lifetime_s);
		}
		assert_int_equal(greylist_verdict_passes(d.verdict), d.verdict >= GREYLIST_PASS_RETRY);
	}
}

static void test_no_whitelist(void **state)
{
	struct greylist_policy p = postgrey;
	struct greylist_decision d;

	(void)state;
	p.whitelist_after = 0;
	greylist_decide(&p, T0, NULL, "99 1600000000", true, &d);
	assert_int_equal(d.verdict, GREYLIST_DEFER_NEW);
	greylist_decide(&p, T0 + 300, "wait 1700000000", NULL, true, &d);
	assert_int_equal(d.verdict, GREYLIST_PASS_RETRY);
	assert_false(d.write_origin);
}

/* ---- score -------------------------------------------------------------------- */

static struct score_entity entity(enum rep_type type, double good, double bad, double rejected)
{
	return (struct score_entity){ type, { good, bad, rejected, 0, 0, true } };
}

static void test_score_table(void **state)
{
	const struct {		/* not static: entity() builds some of it */
		const char *name;
		struct score_input in;
		double score;
		const char *reasons;
	} cases[] = {
		{ "nothing known", { .spf = SPF_NONE }, 0, "" },
		{ "spf pass", { .spf = SPF_PASS }, -0.5, "spf_pass(-0.5)" },
		{ "spf fail", { .spf = SPF_FAIL }, 3.0, "spf_fail(3.0)" },
		{ "spf softfail, dkim fail", { .spf = SPF_SOFTFAIL, .dkim_fail = true }, 2.5,
		  "spf_softfail(1.5),dkim_fail(1.0)" },
		{ "all good", { .spf = SPF_PASS, .dkim_pass = true, .dmarc_pass = true }, -2.0,
		  "spf_pass(-0.5),dkim_pass(-0.5),dmarc_pass(-1.0)" },
		{ "dmarc fail let through", { .dmarc_fail = true }, 3.0, "dmarc_fail(3.0)" },
		{ "trusted reply, trusted arc", { .trusted_reply = true, .arc_trusted = true }, -6.0,
		  "arc_trusted(-1.0),trusted_reply(-5.0)" },
		{ "ip with 8 good", { .entity_count = 1, .entities = { entity(REP_IP, 8, 0, 0) } },
		  -4.0 * 8 / 13, "ip_rep(-2.5)" },
		{ "ip with 5 spam", { .entity_count = 1, .entities = { entity(REP_IP, 0, 5, 0) } },
		  2.0, "ip_rep(2.0)" },
		{ "network, mixed", { .entity_count = 1,
				      .entities = { entity(REP_NETWORK, 2, 1, 1) } }, 0, "" },
		{ "spf domain with 18 good", { .entity_count = 1,
					       .entities = { entity(REP_SPF_DOMAIN, 18, 0, 0) } },
		  -3.0 * 18 / 23, "spf_rep(-2.3)" },
		{ "two dkim domains: the better counts", { .entity_count = 2, .entities = {
			entity(REP_DKIM_DOMAIN, 0, 8, 0), entity(REP_DKIM_DOMAIN, 8, 0, 0) } },
		  -4.0 * 8 / 13, "dkim_rep(-2.5)" },
		{ "a tiny history counts for nothing", { .entity_count = 1,
			.entities = { entity(REP_IP, 0.001, 0.001, 0) } }, 0, "" },
		{ "trap hits, capped at 3", { .entity_count = 1, .entities = {
			{ REP_NETWORK, { 0, 0, 0, 7, 0, true } } } }, 12.0, "trap(12.0)" },
		{ "listed", { .entity_count = 1, .entities = {
			{ REP_IP, { 0, 0, 0, 0, 2, true } } } }, 3.0, "listed(3.0)" },
	};
	struct score_result r;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		score_compute(&cases[i].in, &r);
		if (fabs(r.score - cases[i].score) > 0.051)
			fail_msg("%s: score %.2f, want %.2f", cases[i].name, r.score, cases[i].score);
		if (strcmp(r.reasons, cases[i].reasons) != 0)
			fail_msg("%s: reasons \"%s\", want \"%s\"", cases[i].name, r.reasons,
				 cases[i].reasons);
	}
}

static void test_score_bounds(void **state)
{
	struct score_input in = { .entity_count = 4, .entities = {
		entity(REP_IP, 0, 1e9, 0), entity(REP_NETWORK, 0, 1e9, 0),
		entity(REP_SPF_DOMAIN, 0, 1e9, 0), entity(REP_DKIM_DOMAIN, 0, 0, 1e9) } };
	struct score_result r;

	(void)state;
	score_compute(&in, &r);		/* each entity stays within its weight */
	assert_true(r.score <= 14.0 && r.score > 13.9);
	for (size_t i = 0; i < 4; i++)
		in.entities[i] = entity(in.entities[i].type, 1e9, 0, 0);
	score_compute(&in, &r);
	assert_true(r.score >= -14.0 && r.score < -13.9);
}

static void test_score_action(void **state)
{
	static const struct score_thresholds t = { 5, 8, 12 }, only_reject = { 0, 0, 10 };

	(void)state;
	assert_int_equal(score_action(-20, &t), SCORE_ACCEPT);
	assert_int_equal(score_action(4.9, &t), SCORE_ACCEPT);
	assert_int_equal(score_action(5.0, &t), SCORE_HEADERS);
	assert_int_equal(score_action(7.99, &t), SCORE_HEADERS);
	assert_int_equal(score_action(8.0, &t), SCORE_GREYLIST);
	assert_int_equal(score_action(12.0, &t), SCORE_REJECT);
	assert_int_equal(score_action(100, &t), SCORE_REJECT);
	assert_int_equal(score_action(9.9, &only_reject), SCORE_ACCEPT);
	assert_int_equal(score_action(10, &only_reject), SCORE_REJECT);
	assert_string_equal(score_action_name(SCORE_HEADERS), "spam-headers");
}

/* ---- decay and keys --------------------------------------------------------- */

static void test_decay(void **state)
{
	(void)state;
	assert_true(fabs(rep_decay(8, 0, 86400) - 8) < 1e-9);
	assert_true(fabs(rep_decay(8, 86400, 86400) - 4) < 1e-9);
	assert_true(fabs(rep_decay(8, 3 * 86400, 86400) - 1) < 1e-9);
	assert_true(fabs(rep_decay(8, -50, 86400) - 8) < 1e-9);	/* a clock that went back */
	assert_true(rep_decay(8, 400 * 86400, 86400) < 1e-100);
}

static void test_rep_key(void **state)
{
	char out[REP_KEY_MAX];

	(void)state;
	assert_int_equal(rep_key("lr:", REP_SPF_DOMAIN, "example.org", out, sizeof(out)), 0);
	assert_string_equal(out, "lr:rep:spf_domain:example.org");
	assert_int_equal(rep_key("", REP_NETWORK, "2001:db8::/64", out, sizeof(out)), 0);
	assert_string_equal(out, "rep:network:2001:db8::/64");
	assert_int_equal(rep_key("lr:", REP_IP, "192.0.2.1", out, 10), -1);
}

/* ---- the trace for learning --------------------------------------------------- */

#define ID "0123456789abcdef0123456789abcdef"

static void test_trace_round_trip(void **state)
{
	struct rep_trace t = { .id = ID, .judged_bad = true, .ip = "192.0.2.7",
			       .network = "192.0.2.0/24", .spf = "example.org", .dkim_count = 2,
			       .dkim = { "example.org", "mail.example.net" } }, back;
	const char *why;
	char text[512];

	(void)state;
	assert_int_equal(rep_trace_format(&t, text, sizeof(text)), 0);
	assert_string_equal(text, "id=" ID "; judged=bad; ip=192.0.2.7; network=192.0.2.0/24; "
			    "spf=example.org; dkim=example.org,mail.example.net");
	assert_int_equal(rep_trace_parse(text, strlen(text), &back, &why), 0);
	assert_memory_equal(&t, &back, sizeof(t));
	assert_int_equal(rep_trace_format(&t, text, 40), -1);
}

static void test_trace_parse_table(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		const char *ip, *network, *spf;
		size_t dkim;
	} cases[] = {
		{ "id=" ID, true, "", "", "", 0 },
		{ " id=" ID " ;\r\n\tjudged=good;ip=2001:DB8::1 ; network = 2001:db8::/64", true,
		  "2001:db8::1", "2001:db8::/64", "", 0 },
		{ "id=" ID "; spf=Example.ORG; dkim=a.example,b.example; future=tag", true, "", "",
		  "example.org", 2 },
		{ "id=" ID "; ip=::ffff:192.0.2.1", true, "192.0.2.1", "", "", 0 },
		{ "id=" ID ";;", true, "", "", "", 0 },
		{ "", false, NULL, NULL, NULL, 0 },
		{ "judged=good", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "x", false, NULL, NULL, NULL, 0 },
		{ "id=0123456789ABCDEF0123456789ABCDEF", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "; judged=maybe", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "; ip=192.0.2.300", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "; network=192.0.2.1/24", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "; spf=bad..domain", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "; dkim=a.example,,b.example", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "; dkim=a.ex,b.ex,c.ex,d.ex,e.ex", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "; novalue", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "; spf=example.org; spf=example.net", false, NULL, NULL, NULL, 0 },
		{ "id=" ID "; id=" ID, false, NULL, NULL, NULL, 0 },
	};
	struct rep_trace t;
	const char *why;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		int rc = rep_trace_parse(cases[i].in, strlen(cases[i].in), &t, &why);

		if ((rc == 0) != cases[i].ok)
			fail_msg("\"%s\": %s", cases[i].in, rc == 0 ? "accepted" : why);
		if (!cases[i].ok)
			continue;
		assert_string_equal(t.ip, cases[i].ip);
		assert_string_equal(t.network, cases[i].network);
		assert_string_equal(t.spf, cases[i].spf);
		assert_int_equal(t.dkim_count, cases[i].dkim);
	}
}

/* The mac: a known answer (Python's hmac over the same bytes), rotation,
 * and any change of what the trace says breaks it. */
static void test_trace_mac(void **state)
{
	static const char *const first[] = { "first-secret-0123456789" };
	static const char *const rotated[] = { "newer-secret-0123456789", "first-secret-0123456789" };
	static const char *const other[] = { "other-secret-0123456789" };
	static const char *const altered[] = {
		"id=" ID "; judged=good; ip=192.0.2.7; network=192.0.2.0/24; spf=example.org; "
		"dkim=example.org,mail.example.net",
		"id=" ID "; judged=bad; ip=192.0.2.8; network=192.0.2.0/24; spf=example.org; "
		"dkim=example.org,mail.example.net",
		"id=" ID "; judged=bad; ip=192.0.2.7; network=192.0.2.0/24; spf=example.org; "
		"dkim=example.org,gmail.com",
		"id=" ID "; judged=bad; ip=192.0.2.7; network=192.0.2.0/24; spf=example.org; "
		"dkim=example.org",
		"id=" ID "; judged=bad; ip=192.0.2.7; network=192.0.2.0/24; "
		"dkim=example.org,mail.example.net",
		"id=1123456789abcdef0123456789abcdef; judged=bad; ip=192.0.2.7; network=192.0.2.0/24; "
		"spf=example.org; dkim=example.org,mail.example.net",
	};
	struct rep_trace t = { .id = ID, .judged_bad = true, .ip = "192.0.2.7",
			       .network = "192.0.2.0/24", .spf = "Example.ORG", .dkim_count = 2,
			       .dkim = { "example.org", "mail.example.net" } }, back;
	const char *why;
	char text[REP_TRACE_TEXT_MAX], changed[REP_TRACE_TEXT_MAX];

	(void)state;
	assert_int_equal(rep_trace_format_signed(&t, first[0], text, sizeof(text)), 0);
	assert_string_equal(text, "id=" ID "; judged=bad; ip=192.0.2.7; network=192.0.2.0/24; "
			    "spf=example.org; dkim=example.org,mail.example.net; "
			    "mac=404af796e6cfc40f1a246dee50938f7c");
	assert_int_equal(rep_trace_parse(text, strlen(text), &back, &why), 0);
	assert_int_equal(rep_trace_verify(&back, first, 1), 0);
	assert_int_equal(rep_trace_verify(&back, rotated, 2), 0);
	assert_int_equal(rep_trace_verify(&back, other, 1), -1);
	assert_int_equal(rep_trace_verify(&back, first, 0), -1);
	/* folded and spaced differently, same trace: still ours */
	snprintf(changed, sizeof(changed), " id=%s;\r\n\tjudged=bad ; ip=192.0.2.7; "
		 "network=192.0.2.0/24; dkim=example.org,mail.example.net; spf=EXAMPLE.org; mac=%s",
		 ID, back.mac);
	assert_int_equal(rep_trace_parse(changed, strlen(changed), &t, &why), 0);
	assert_int_equal(rep_trace_verify(&t, first, 1), 0);
	/* anything else it says, changed: not ours */
	for (size_t i = 0; i < N_ELEMENTS(altered); i++) {
		snprintf(changed, sizeof(changed), "%s; mac=%s", altered[i], back.mac);
		assert_int_equal(rep_trace_parse(changed, strlen(changed), &t, &why), 0);
		if (rep_trace_verify(&t, first, 1) == 0)
			fail_msg("altered trace %zu verifies", i);
	}
	/* no mac, a malformed one */
	assert_int_equal(rep_trace_parse(altered[0], strlen(altered[0]), &t, &why), 0);
	assert_int_equal(rep_trace_verify(&t, first, 1), -1);
	snprintf(changed, sizeof(changed), "id=%s; mac=%.31s", ID, back.mac);
	assert_int_equal(rep_trace_parse(changed, strlen(changed), &t, &why), -1);
	assert_int_equal(rep_trace_format_signed(&back, "", text, sizeof(text)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_sender),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_triplet_key),
		cmocka_unit_test(test_keys_cannot_be_split_another_way),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_no_whitelist),
		cmocka_unit_test(test_score_table),
		cmocka_unit_test(test_score_bounds),
		cmocka_unit_test(test_score_action),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_rep_key),
		cmocka_unit_test(test_trace_round_trip),
		cmocka_unit_test(test_trace_parse_table),
		cmocka_unit_test(test_trace_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
