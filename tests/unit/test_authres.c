/*
 * test_authres.c - Authentication-Results: the builder against exact
 * strings, the authserv-id parser against RFC 8601 appendix B examples and
 * forged variants, and builder output parsed back.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "mailauth/authres.h"
#include "unit.h"

#define OURS "example.org"
#define LF_TAB "\n\t"

/* ---- builder ---------------------------------------------------------- */

static const struct authres_result spf_pass[] = {
	{ .method = AUTHRES_SPF_MAILFROM, .result = "pass",
	  .spf = { "alice@example.com" } },
	{ .method = AUTHRES_SPF_HELO, .result = "none",
	  .spf = { "mail.example.com" } },
};

static const struct authres_result spf_quoted[] = {
	{ .method = AUTHRES_SPF_MAILFROM, .result = "softfail",
	  .spf = { "\"john doe\"@example.com" } },
	{ .method = AUTHRES_SPF_MAILFROM, .result = "fail",
	  .spf = { "a;b\\c@example.com" } },
	{ .method = AUTHRES_SPF_MAILFROM, .result = "pass",
	  .spf = { "first.o'hara+tag@sub.example.com" } },
	{ .method = AUTHRES_SPF_MAILFROM, .result = "neutral",
	  .spf = { "example.com" } },
	{ .method = AUTHRES_SPF_HELO, .result = "permerror",
	  .spf = { "[192.0.2.1]" } },
};

static const struct authres_result dkim_two[] = {
	{ .method = AUTHRES_DKIM, .result = "pass",
	  .dkim = { "example.com", "sel1", "abcdefghXYZ0123", "rsa-sha256" } },
	{ .method = AUTHRES_DKIM, .result = "fail", .reason = "signature did not verify",
	  .dkim = { "example.com", "sel2", "abcdefghijKL", "ed25519-sha256" } },
	{ .method = AUTHRES_DKIM, .result = "pass",
	  .dkim = { "example.net", "s", "Ab/c\r\n dEf+gh=", NULL } },
	{ .method = AUTHRES_DKIM, .result = "none" },
};

#define SAME_B "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
static const struct authres_result dkim_same[] = {
	{ .method = AUTHRES_DKIM, .result = "pass", .dkim = { "a.example", "s", SAME_B, NULL } },
	{ .method = AUTHRES_DKIM, .result = "pass", .dkim = { "a.example", "s", SAME_B, NULL } },
	{ .method = AUTHRES_DKIM, .result = "fail", .dkim = { "b.example", "t", "xyz", NULL } },
};

static const struct authres_result dmarc_arc[] = {
	{ .method = AUTHRES_DMARC, .result = "fail",
	  .dmarc = { "example.com", "reject", "none", "reject" } },
	{ .method = AUTHRES_DMARC, .result = "pass", .dmarc = { "example.net", "none", NULL, NULL } },
	{ .method = AUTHRES_DMARC, .result = "none", .dmarc = { "example.info", NULL, NULL, NULL } },
	{ .method = AUTHRES_ARC, .result = "pass", .arc = { "192.0.2.1", 2 } },
	{ .method = AUTHRES_ARC, .result = "fail", .reason = "i=2 \"AMS\" bad",
	  .arc = { "2001:db8::1", 0 } },
};

/* RFC 9989: np, testing mode (t=y, or the historic pct=0), a PSD's record,
 * and policy.dmarc, the policy the evaluation arrived at */
static const struct authres_result dmarc_bis[] = {
	{ .method = AUTHRES_DMARC, .result = "fail",
	  .dmarc = { "gone.bank.example", "none", "none", "reject", .evaluated = "reject",
		     .nonexistent_policy = "reject", .psd = "y" } },
	{ .method = AUTHRES_DMARC, .result = "fail",
	  .dmarc = { "example.com", "reject", NULL, "quarantine", .evaluated = "quarantine",
		     .testing = "y" } },
	{ .method = AUTHRES_DMARC, .result = "fail",
	  .dmarc = { "example.net", "quarantine", NULL, "none", .evaluated = "none", .pct = "0" } },
};
static const struct authres_result bad_evaluated[] = {
	{ .method = AUTHRES_DMARC, .result = "fail",
	  .dmarc = { "example.com", "reject", NULL, NULL, .evaluated = "re;ject" } },
};

static const struct authres_result long_dkim[] = {
	{ .method = AUTHRES_DKIM, .result = "pass",
	  .dkim = { "a-rather-long-subdomain.of.an-example-domain.example.com",
		    "selector2026", "abcdefghijkl", "rsa-sha256" } },
};

static const struct authres_result bad_result[] = {
	{ .method = AUTHRES_SPF_MAILFROM, .result = "ok", .spf = { "a@example.com" } },
};
static const struct authres_result arc_softfail[] = {
	{ .method = AUTHRES_ARC, .result = "softfail", .arc = { "192.0.2.1", 0 } },
};
static const struct authres_result bad_mailfrom[] = {
	{ .method = AUTHRES_SPF_MAILFROM, .result = "pass", .spf = { "a\r\nX-Evil: 1@example.com" } },
};
static const struct authres_result bad_reason[] = {
	{ .method = AUTHRES_SPF_HELO, .result = "pass", .reason = "a\nb", .spf = { "x" } },
};
static const struct authres_result bad_utf8[] = {
	{ .method = AUTHRES_SPF_HELO, .result = "pass", .spf = { "caf\xc3(" } },
};
static const struct authres_result good_utf8[] = {
	{ .method = AUTHRES_SPF_MAILFROM, .result = "pass",
	  .spf = { "j\xc3\xb6rg@example.com" } },
};
static const struct authres_result bad_policy[] = {
	{ .method = AUTHRES_DMARC, .result = "fail", .dmarc = { "example.com", "re ject", NULL, NULL } },
};
static const struct authres_result bad_method[] = {
	{ .method = (enum authres_method)42, .result = "pass" },
};

static const struct {
	const char *id;
	const struct authres_result *results;
	size_t count;
	const char *fold;
	size_t outlen;		/* 0: a large buffer */
	int want_status;
	const char *want;
	const char *why;
} build_cases[] = {
	{ OURS, NULL, 0, LF_TAB, 0, 0, "example.org; none", "no results (RFC 8601 2.2)" },
	{ OURS, spf_pass, 2, LF_TAB, 0, 0,
	  "example.org;\n\tspf=pass smtp.mailfrom=alice@example.com;\n\tspf=none smtp.helo=mail.example.com",
	  "SPF MAIL FROM and HELO, libmilter fold" },
	{ OURS, spf_pass, 2, "\r\n\t", 0, 0,
	  "example.org;\r\n\tspf=pass smtp.mailfrom=alice@example.com;\r\n\tspf=none smtp.helo=mail.example.com",
	  "CRLF fold" },
	{ OURS, spf_pass, 2, " ", 0, 0,
	  "example.org; spf=pass smtp.mailfrom=alice@example.com; spf=none smtp.helo=mail.example.com",
	  "one line" },
	{ OURS, spf_quoted, 5, LF_TAB, 0, 0,
	  "example.org;\n"
	  "\tspf=softfail smtp.mailfrom=\"\\\"john doe\\\"@example.com\";\n"
	  "\tspf=fail smtp.mailfrom=\"a;b\\\\c@example.com\";\n"
	  "\tspf=pass smtp.mailfrom=first.o'hara+tag@sub.example.com;\n"
	  "\tspf=neutral smtp.mailfrom=example.com;\n"
	  "\tspf=permerror smtp.helo=\"[192.0.2.1]\"",
	  "quoting of special local parts, dot-atom bare, address literal" },
	{ OURS, dkim_two, 4, LF_TAB, 0, 0,
	  "example.org;\n"
	  "\tdkim=pass header.d=example.com header.s=sel1 header.b=abcdefghX\n"
	  "\theader.a=rsa-sha256;\n"
	  "\tdkim=fail reason=\"signature did not verify\" header.d=example.com\n"
	  "\theader.s=sel2 header.b=abcdefghi header.a=ed25519-sha256;\n"
	  "\tdkim=pass header.d=example.net header.s=s header.b=\"Ab/cdEf+\";\n"
	  "\tdkim=none",
	  "DKIM: b= prefix grows past 8 to stay unique, FWS dropped, '/' quoted" },
	{ OURS, dkim_same, 3, LF_TAB, 0, 0,
	  "example.org;\n"
	  "\tdkim=pass header.d=a.example header.s=s\n"
	  "\theader.b=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB;\n"
	  "\tdkim=pass header.d=a.example header.s=s\n"
	  "\theader.b=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB;\n"
	  "\tdkim=fail header.d=b.example header.s=t header.b=xyz",
	  "identical signatures: header.b stops at 64; a short b= is shown whole" },
	{ OURS, dmarc_arc, 5, LF_TAB, 0, 0,
	  "example.org;\n"
	  "\tdmarc=fail (p=reject sp=none dis=reject) header.from=example.com;\n"
	  "\tdmarc=pass (p=none) header.from=example.net;\n"
	  "\tdmarc=none header.from=example.info;\n"
	  "\tarc=pass smtp.remote-ip=192.0.2.1 header.oldest-pass=2;\n"
	  "\tarc=fail reason=\"i=2 \\\"AMS\\\" bad\" smtp.remote-ip=\"2001:db8::1\"",
	  "DMARC policy comment, ARC, IPv6 quoted" },
	{ OURS, dmarc_bis, 3, LF_TAB, 0, 0,
	  "example.org;\n"
	  "\tdmarc=fail (p=none sp=none np=reject psd=y dis=reject)\n"
	  "\theader.from=gone.bank.example policy.dmarc=reject;\n"
	  "\tdmarc=fail (p=reject t=y dis=quarantine) header.from=example.com\n"
	  "\tpolicy.dmarc=quarantine;\n"
	  "\tdmarc=fail (p=quarantine pct=0 dis=none) header.from=example.net\n"
	  "\tpolicy.dmarc=none",
	  "DMARC per RFC 9989: np, psd, testing mode, policy.dmarc" },
	{ OURS, long_dkim, 1, LF_TAB, 0, 0,
	  "example.org;\n"
	  "\tdkim=pass\n"
	  "\theader.d=a-rather-long-subdomain.of.an-example-domain.example.com\n"
	  "\theader.s=selector2026 header.b=abcdefgh header.a=rsa-sha256",
	  "a long result line folds between properties" },
	{ "my host", NULL, 0, LF_TAB, 0, 0, "\"my host\"; none", "authserv-id that is no token" },
	{ OURS, good_utf8, 1, LF_TAB, 0, 0,
	  "example.org;\n\tspf=pass smtp.mailfrom=\"j\xc3\xb6rg@example.com\"",
	  "UTF-8 local part (RFC 6532) quoted" },
	{ OURS, NULL, 0, LF_TAB, 18, 0, "example.org; none", "exactly fits" },
	{ OURS, NULL, 0, LF_TAB, 17, AUTHRES_E_TOOLONG, "", "one byte short" },
	{ OURS, spf_pass, 2, LF_TAB, 40, AUTHRES_E_TOOLONG, "", "too long, not truncated" },
	{ "", NULL, 0, LF_TAB, 0, AUTHRES_E_INVAL, "", "empty authserv-id" },
	{ ".", NULL, 0, LF_TAB, 0, AUTHRES_E_INVAL, "", "authserv-id \".\"" },
	{ "a\nb", NULL, 0, LF_TAB, 0, AUTHRES_E_INVAL, "", "line break in the authserv-id" },
	{ OURS, NULL, 0, "\n", 0, AUTHRES_E_INVAL, "", "fold without white space" },
	{ OURS, NULL, 0, "x", 0, AUTHRES_E_INVAL, "", "fold that is no fold" },
	{ OURS, NULL, 0, "\r\t", 0, AUTHRES_E_INVAL, "", "fold with a bare CR" },
	{ OURS, bad_result, 1, LF_TAB, 0, AUTHRES_E_INVAL, "", "unknown SPF result" },
	{ OURS, arc_softfail, 1, LF_TAB, 0, AUTHRES_E_INVAL, "", "ARC has no softfail" },
	{ OURS, bad_mailfrom, 1, LF_TAB, 0, AUTHRES_E_INVAL, "", "header injection in smtp.mailfrom" },
	{ OURS, bad_reason, 1, LF_TAB, 0, AUTHRES_E_INVAL, "", "line break in a reason" },
	{ OURS, bad_utf8, 1, LF_TAB, 0, AUTHRES_E_INVAL, "", "invalid UTF-8" },
	{ OURS, bad_policy, 1, LF_TAB, 0, AUTHRES_E_INVAL, "", "DMARC policy word with a space" },
	{ OURS, bad_evaluated, 1, LF_TAB, 0, AUTHRES_E_INVAL, "", "policy.dmarc not a word" },
	{ OURS, bad_method, 1, LF_TAB, 0, AUTHRES_E_INVAL, "", "unknown method" },
};

static void test_build_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(build_cases); i++) {
		char out[1024], id[AUTHRES_ID_MAX + 1];
		size_t outlen = build_cases[i].outlen != 0 ? build_cases[i].outlen : sizeof(out);
		const char *why = NULL;
		int rc;

		memset(out, 'x', sizeof(out));
		rc = authres_build(build_cases[i].id, build_cases[i].results, build_cases[i].count,
				   build_cases[i].fold, out, outlen, &why);
		if (rc != build_cases[i].want_status)
			fail_msg("case %zu (%s): status %d (%s), want %d", i, build_cases[i].why,
				 rc, why ? why : "-", build_cases[i].want_status);
		if (rc != 0 && why == NULL)
			fail_msg("case %zu (%s): no reason given", i, build_cases[i].why);
		if (strcmp(out, build_cases[i].want) != 0)
			fail_msg("case %zu (%s):\ngot  \"%s\"\nwant \"%s\"", i, build_cases[i].why,
				 out, build_cases[i].want);
		if (rc != 0)
			continue;
		/* whatever we write, we read back as ours */
		assert_int_equal(authres_parse_id(out, strlen(out), id, &why), 0);
		assert_true(authres_id_equal(id, build_cases[i].id));
		assert_int_equal(authres_claim(out, strlen(out), false, build_cases[i].id),
				 AUTHRES_CLAIM_PARSED);
	}
}

static void test_build_too_many(void **state)
{
	static struct authres_result many[AUTHRES_MAX_RESULTS + 1];
	static char out[65536];
	const char *why;

	for (size_t i = 0; i < N_ELEMENTS(many); i++)
		many[i] = (struct authres_result){ .method = AUTHRES_DKIM, .result = "none" };
	assert_int_equal(authres_build(OURS, many, AUTHRES_MAX_RESULTS, LF_TAB, out,
				       sizeof(out), &why), 0);
	assert_int_equal(authres_build(OURS, many, N_ELEMENTS(many), LF_TAB, out,
				       sizeof(out), &why), AUTHRES_E_INVAL);
	assert_string_equal(out, "");
	assert_int_equal(authres_build(OURS, NULL, 1, LF_TAB, out, sizeof(out), &why),
			 AUTHRES_E_INVAL);
}

/* ---- parser ----------------------------------------------------------- */

enum { AR = 0, AAR = 1 };

static const struct {
	const char *in;
	int aar;
	int want_status;
	const char *want_id;	/* "" on error */
	unsigned want_instance;
	bool ours;		/* claims OURS (authres_claim(): strict or loose) */
	const char *why;
} parse_cases[] = {
	/* RFC 8601 appendix B */
	{ "example.org 1; none", AR, 0, "example.org", 0, true, "B.2 nothing done" },
	{ " example.com;\r\n          spf=pass smtp.mailfrom=example.net", AR, 0,
	  "example.com", 0, false, "B.3 SPF" },
	{ " example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
	  "          spf=pass smtp.mailfrom=example.net", AR, 0, "example.com", 0, false,
	  "B.4 SMTP AUTH and SPF" },
	{ " example.com;\r\n          iprev=pass\r\n          policy.iprev=192.0.2.200", AR, 0,
	  "example.com", 0, false, "B.4 iprev" },
	{ " example.com;\r\n          sender-id=fail header.from=example.com;\r\n"
	  "          dkim=pass (good signature) header.d=example.com", AR, 0,
	  "example.com", 0, false, "B.5 several methods" },
	{ " mail-router.example.net;\r\n          dkim=pass (good signature)\r\n"
	  "          header.d=newyork.example.com header.b=oINEO8hg;", AR, 0,
	  "mail-router.example.net", 0, false, "B.6 relay" },
	{ " foo.example.net (foobar) 1 (baz);\r\n    dkim (Because I like it) / 1 (One yay) = "
	  "(wait for it) fail\r\n      policy (A dot can go here) . (like that) expired\r\n"
	  "      (this surprised me) = (as I wasn't expecting it) 1362471462", AR, 0,
	  "foo.example.net", 0, false, "B.7 comment-heavy example" },
	/* ours, however dressed up */
	{ "example.org; spf=pass", AR, 0, "example.org", 0, true, "plain" },
	{ "(x) example.org; spf=pass", AR, 0, "example.org", 0, true, "comment before the id" },
	{ "(a (nested \\) comment) here) example.org;", AR, 0, "example.org", 0, true,
	  "nested comment with a quoted-pair" },
	{ "\r\n\texample.org\r\n ;", AR, 0, "example.org", 0, true, "CRLF folds around the id" },
	{ "\n example.org\n (c)\n ;", AR, 0, "example.org", 0, true, "LF folds (as libmilter hands over)" },
	{ " EXAMPLE.Org; dkim=pass", AR, 0, "EXAMPLE.Org", 0, true, "uppercase" },
	{ " example.org.; dkim=pass", AR, 0, "example.org.", 0, true, "trailing dot" },
	{ " \"example.org\"; dkim=pass", AR, 0, "example.org", 0, true, "quoted-string id" },
	{ " \"exa\\mple.org\"; dkim=pass", AR, 0, "example.org", 0, true, "quoted-pair in the id" },
	{ " \"example\r\n .org\";", AR, 0, "example .org", 0, false, "fold inside a quoted id keeps the space" },
	{ " example.org(comment);", AR, 0, "example.org", 0, true, "comment glued to the id" },
	{ " example.org 1 (v) ;", AR, 0, "example.org", 0, true, "version and comment" },
	{ " example.org 2;", AR, 0, "example.org", 0, true, "unknown version still claims the id" },
	{ "example.org;", AR, 0, "example.org", 0, true, "nothing after ';' (not examined)" },
	/* not ours */
	{ " example.org.evil.test; spf=pass", AR, 0, "example.org.evil.test", 0, false, "suffix" },
	{ " mx.example.org; spf=pass", AR, 0, "mx.example.org", 0, false, "subdomain" },
	{ " example.or; spf=pass", AR, 0, "example.or", 0, false, "prefix" },
	{ " \"example.org \"; spf=pass", AR, 0, "example.org ", 0, true,
	  "space inside quotes: a token before the first ';'" },
	{ " example.org..; spf=pass", AR, 0, "example.org..", 0, false, "two trailing dots" },
	/* malformed: ours when our id is a token once comments are dropped, or
	 * a token of the raw text before the first ';' (authres_claim()) */
	{ "", AR, AUTHRES_E_SYNTAX, "", 0, false, "empty" },
	{ " \r\n ", AR, AUTHRES_E_SYNTAX, "", 0, false, "only white space" },
	{ "(example.org); x", AR, AUTHRES_E_SYNTAX, "", 0, true, "id only in a comment" },
	{ "(unterminated example.org;", AR, AUTHRES_E_SYNTAX, "", 0, true, "unterminated comment" },
	{ "(a)) example.org;", AR, AUTHRES_E_SYNTAX, "", 0, true, "unbalanced ')'" },
	{ "example.org", AR, AUTHRES_E_SYNTAX, "", 0, true, "no ';'" },
	{ "example.org spf=pass", AR, AUTHRES_E_SYNTAX, "", 0, true, "result without ';'" },
	{ "example.org 1x;", AR, AUTHRES_E_SYNTAX, "", 0, true, "junk after version" },
	{ "example.org 1234567890;", AR, AUTHRES_E_SYNTAX, "", 0, true, "version too long" },
	{ "example.org\r\n;", AR, AUTHRES_E_SYNTAX, "", 0, true, "line break without WSP" },
	{ "example.org\r ;", AR, AUTHRES_E_SYNTAX, "", 0, true, "bare CR" },
	{ "exam\x01ple.org;", AR, AUTHRES_E_SYNTAX, "", 0, true, "control character" },
	{ "@example.org;", AR, AUTHRES_E_SYNTAX, "", 0, true, "no token" },
	{ "; spf=pass", AR, AUTHRES_E_SYNTAX, "", 0, false, "no id at all" },
	{ "\"example.org;", AR, AUTHRES_E_SYNTAX, "", 0, true, "unterminated quoted id" },
	{ "\"\"; spf=pass", AR, AUTHRES_E_SYNTAX, "", 0, false, "empty quoted id" },
	{ "\"a\x01\";", AR, AUTHRES_E_SYNTAX, "", 0, false, "control character in quotes" },
	{ "\"a\xff\";", AR, AUTHRES_E_SYNTAX, "", 0, false, "invalid UTF-8 in quotes" },
	{ "\"ex\\", AR, AUTHRES_E_SYNTAX, "", 0, false, "quoted-pair at the end" },
	{ "(\\", AR, AUTHRES_E_SYNTAX, "", 0, false, "quoted-pair at the end of a comment" },
	{ "(a\nb) example.org;", AR, AUTHRES_E_SYNTAX, "", 0, true, "bare LF in a comment" },
	{ "((((((((((((((((((((((((((((((((((x)))))))))))))))))))))))))))))))))) example.org;",
	  AR, AUTHRES_E_SYNTAX, "", 0, true, "comments nested too deep" },
	/* ARC-Authentication-Results */
	{ "i=1; example.org; spf=pass", AAR, 0, "example.org", 1, true, "AAR" },
	{ " i = 50 ;\r\n\t(c) Example.ORG 1; dkim=pass", AAR, 0, "Example.ORG", 50, true,
	  "AAR with white space, comment and version" },
	{ " i=2; lists.example.net; arc=pass", AAR, 0, "lists.example.net", 2, false, "AAR of a forwarder" },
	{ "i=0; example.org;", AAR, AUTHRES_E_SYNTAX, "", 0, true, "instance 0" },
	{ "i=51; example.org;", AAR, AUTHRES_E_SYNTAX, "", 0, true, "instance 51" },
	{ "i=100; example.org;", AAR, AUTHRES_E_SYNTAX, "", 0, true, "three digits" },
	{ "i=1 example.org;", AAR, AUTHRES_E_SYNTAX, "", 0, true, "no ';' after i=" },
	{ "i=; example.org;", AAR, AUTHRES_E_SYNTAX, "", 0, true, "no instance" },
	{ "i=1;", AAR, AUTHRES_E_SYNTAX, "", 0, false, "no id after i=" },
	{ "I=1; example.org;", AAR, AUTHRES_E_SYNTAX, "", 0, true, "uppercase I (RFC 8617 %s\"i\")" },
	{ "example.org; i=1", AAR, AUTHRES_E_SYNTAX, "", 0, true, "A-R syntax in an AAR" },
	{ "i=1; example.org; spf=pass", AR, AUTHRES_E_SYNTAX, "", 0, true,
	  "AAR read as A-R: '=' ends the token \"i\"" },
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(parse_cases); i++) {
		char id[AUTHRES_ID_MAX + 1];
		const char *in = parse_cases[i].in, *why = NULL;
		unsigned instance = 99;
		int rc;

		if (parse_cases[i].aar)
			rc = authres_parse_aar_id(in, strlen(in), &instance, id, &why);
		else
			rc = authres_parse_id(in, strlen(in), id, &why);
		if (rc != parse_cases[i].want_status)
			fail_msg("case %zu (%s): status %d (%s), want %d", i, parse_cases[i].why,
				 rc, why ? why : "-", parse_cases[i].want_status);
		if (rc != 0 && why == NULL)
			fail_msg("case %zu (%s): no reason given", i, parse_cases[i].why);
		if (strcmp(id, parse_cases[i].want_id) != 0)
			fail_msg("case %zu (%s): id \"%s\", want \"%s\"", i, parse_cases[i].why,
				 id, parse_cases[i].want_id);
		if (parse_cases[i].aar && instance != parse_cases[i].want_instance)
			fail_msg("case %zu (%s): instance %u, want %u", i, parse_cases[i].why,
				 instance, parse_cases[i].want_instance);
		if ((authres_claim(in, strlen(in), parse_cases[i].aar, OURS) != AUTHRES_CLAIM_NONE) !=
		    parse_cases[i].ours)
			fail_msg("case %zu (%s): claims ours wrong", i, parse_cases[i].why);
	}
}

static void test_parse_bounds(void **state)
{
	char in[AUTHRES_ID_MAX + 8], id[AUTHRES_ID_MAX + 1];
	const char *why;

	/* the parser reads only len bytes: the ';' beyond them does not count */
	assert_int_equal(authres_parse_id("example.org;", 11, id, &why), AUTHRES_E_SYNTAX);
	assert_int_equal(authres_parse_id("example.org;", 12, id, &why), 0);
	/* NUL inside the length is not a token character */
	assert_int_equal(authres_parse_id("exam\0ple.org;", 13, id, &why), AUTHRES_E_SYNTAX);

	memset(in, 'a', AUTHRES_ID_MAX);
	in[AUTHRES_ID_MAX] = ';';
	assert_int_equal(authres_parse_id(in, AUTHRES_ID_MAX + 1, id, &why), 0);
	assert_int_equal(strlen(id), AUTHRES_ID_MAX);
	memset(in, 'a', AUTHRES_ID_MAX + 1);
	in[AUTHRES_ID_MAX + 1] = ';';
	assert_int_equal(authres_parse_id(in, AUTHRES_ID_MAX + 2, id, &why), AUTHRES_E_SYNTAX);
	assert_string_equal(why, "authserv-id too long");
	assert_string_equal(id, "");
}

static void test_id_equal(void **state)
{
	assert_true(authres_id_equal("example.org", "EXAMPLE.ORG"));
	assert_true(authres_id_equal("example.org.", "example.org"));
	assert_true(authres_id_equal("example.org", "example.org."));
	assert_false(authres_id_equal("example.org..", "example.org"));
	assert_false(authres_id_equal("example.org", "example.or"));
	assert_false(authres_id_equal("example.org", "xexample.org"));
	assert_false(authres_id_equal("\xc3\xa9", "\xc3\x89"));	/* no Unicode folding */
	assert_int_equal(authres_claim("example.org;", 12, false, ""), AUTHRES_CLAIM_NONE);
	assert_int_equal(authres_claim(".;", 2, false, "."), AUTHRES_CLAIM_NONE);
	assert_int_equal(authres_claim("example.org;", 12, false, NULL), AUTHRES_CLAIM_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_table),
		cmocka_unit_test(test_build_too_many),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_id_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
