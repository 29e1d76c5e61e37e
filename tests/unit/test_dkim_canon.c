/*
 * test_dkim_canon.c - DKIM canonicalization (RFC 6376 3.4) and header selection.
 *
 * Tables of header fields and bodies with their simple and relaxed forms,
 * the example of RFC 6376 3.4.6 among them; every body is also fed one
 * byte at a time and split at every position, since a milter's chunks can
 * end anywhere (inside a CRLF too).
 */
#include "autoconfig.h"

#include <openssl/evp.h>

#include "common/strbuf.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/dkim_crypto.h"
#include "mailauth/msgsplit.h"
#include "unit.h"

static const struct {
	const char *name;
	const char *value;
	const char *simple;
	const char *relaxed;
	const char *why;
} header_cases[] = {
	{ "A", " X", "A: X", "a:X", "RFC 6376 3.4.6, first field" },
	{ "B ", " Y\t\r\n\tZ  ", "B : Y\t\r\n\tZ  ", "b:Y Z", "RFC 6376 3.4.6, second field" },
	{ "Subject", " hello", "Subject: hello", "subject:hello", "plain" },
	{ "SUBJECT", "hello", "SUBJECT:hello", "subject:hello", "no space after the colon" },
	{ "To", " a\n b", "To: a\r\n b", "to:a b", "LF fold becomes CRLF (simple), unfolds (relaxed)" },
	{ "To", " a\r\n\t\t b  \t", "To: a\r\n\t\t b  \t", "to:a b", "long white space runs" },
	{ "X", "", "X:", "x:", "empty value" },
	{ "X", "   ", "X:   ", "x:", "only white space" },
	{ "X", " a\rb", "X: a\rb", "x:a\rb", "a bare CR is data" },
	{ "X-\xc3\xa9", " \xc3\xa9t\xc3\xa9", "X-\xc3\xa9: \xc3\xa9t\xc3\xa9", "x-\xc3\xa9:\xc3\xa9t\xc3\xa9",
	  "UTF-8 left alone" },
};

static void test_headers(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(header_cases); i++) {
		const char *name = header_cases[i].name, *value = header_cases[i].value;
		struct strbuf simple = STRBUF_INIT, relaxed = STRBUF_INIT;

		dkim_canon_header_append(&simple, DKIM_CANON_SIMPLE, name, strlen(name), value, strlen(value));
		dkim_canon_header_append(&relaxed, DKIM_CANON_RELAXED, name, strlen(name), value, strlen(value));
		if (strcmp(strbuf_str(&simple), header_cases[i].simple) != 0)
			fail_msg("case %zu (%s): simple gave \"%s\"", i, header_cases[i].why, strbuf_str(&simple));
		if (strcmp(strbuf_str(&relaxed), header_cases[i].relaxed) != 0)
			fail_msg("case %zu (%s): relaxed gave \"%s\"", i, header_cases[i].why,
				 strbuf_str(&relaxed));
		strbuf_release(&simple);
		strbuf_release(&relaxed);
	}
}

static const struct {
	const char *in;
	const char *simple;
	const char *relaxed;
	const char *why;
} body_cases[] = {
	{ " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n", " C\r\nD E\r\n", "RFC 6376 3.4.6 body" },
	{ "", "\r\n", "", "empty body: simple is one CRLF, relaxed nothing" },
	{ "\r\n", "\r\n", "", "one empty line" },
	{ "\r\n\r\n\r\n", "\r\n", "", "only empty lines" },
	{ " \r\n\t\r\n", " \r\n\t\r\n", "", "lines of white space are empty only for relaxed" },
	{ "abc", "abc\r\n", "abc\r\n", "no final CRLF: one is added" },
	{ "abc  ", "abc  \r\n", "abc\r\n", "no final CRLF, trailing white space" },
	{ "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n", "inner empty line kept" },
	{ "a\r\n \r\nb\r\n", "a\r\n \r\nb\r\n", "a\r\n\r\nb\r\n", "inner white space line" },
	{ "a  b\t\tc\r\n", "a  b\t\tc\r\n", "a b c\r\n", "white space runs inside a line" },
	{ "  lead\r\n", "  lead\r\n", " lead\r\n", "leading white space becomes one SP" },
	{ "a\nb\n\n", "a\r\nb\r\n", "a\r\nb\r\n", "bare LF line ends" },
	{ "a\rb\r\n", "a\rb\r\n", "a\rb\r\n", "a bare CR is data" },
	{ "a\r", "a\r\r\n", "a\r\r\n", "a CR at the very end is data" },
	{ "a\r\r\n", "a\r\r\n", "a\r\r\n", "CR CR LF" },
	{ "x\r\n\r\n \r\n", "x\r\n\r\n \r\n", "x\r\n", "trailing white-space line (relaxed only)" },
};

/* Canonicalizes in chunks of chunk bytes (0: in two pieces split at split). */
static void canonicalize(enum dkim_canon_mode mode, const char *in, size_t chunk, size_t split, struct strbuf *out)
{
	struct dkim_canon_body *cb = dkim_canon_body_new(mode, EVP_sha256());
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t len = strlen(in);

	dkim_canon_body_set_copy(cb, out);
	if (chunk == 0) {
		dkim_canon_body_update(cb, in, split);
		dkim_canon_body_update(cb, in + split, len - split);
	} else {
		for (size_t i = 0; i < len; i += chunk)
			dkim_canon_body_update(cb, in + i, len - i < chunk ? len - i : chunk);
	}
	assert_int_equal(dkim_canon_body_final(cb, digest), 32);
	assert_int_equal(dkim_canon_body_length(cb), out->len);
	dkim_canon_body_free(&cb);
	assert_null(cb);
}

static void check_body(size_t i, enum dkim_canon_mode mode, const char *want)
{
	const char *in = body_cases[i].in;
	struct strbuf out = STRBUF_INIT;

	for (size_t split = 0; split <= strlen(in); split++) {
		strbuf_reset(&out);
		canonicalize(mode, in, 0, split, &out);
		if (out.len != strlen(want) || memcmp(strbuf_str(&out), want, out.len) != 0)
			fail_msg("body case %zu (%s), %s, split at %zu: wrong output", i, body_cases[i].why,
				 dkim_canon_mode_name(mode), split);
	}
	strbuf_reset(&out);
	canonicalize(mode, in, 1, 0, &out);
	if (out.len != strlen(want) || memcmp(strbuf_str(&out), want, out.len) != 0)
		fail_msg("body case %zu (%s), %s, byte by byte: wrong output", i, body_cases[i].why,
			 dkim_canon_mode_name(mode));
	strbuf_release(&out);
}

static void test_bodies(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(body_cases); i++) {
		check_body(i, DKIM_CANON_SIMPLE, body_cases[i].simple);
		check_body(i, DKIM_CANON_RELAXED, body_cases[i].relaxed);
	}
}

static void body_hash_b64(enum dkim_canon_mode mode, const char *body, char *out)
{
	struct dkim_canon_body *cb = dkim_canon_body_new(mode, EVP_sha256());
	unsigned char digest[EVP_MAX_MD_SIZE];

	dkim_canon_body_update(cb, body, strlen(body));
	int n = dkim_canon_body_final(cb, digest);
	assert_int_equal(n, 32);
	EVP_EncodeBlock((unsigned char *)out, digest, n);
	dkim_canon_body_free(&cb);
}

static void test_known_hashes(void **state)
{
	char b64[64];

	/* The well-known SHA-256 body hashes of an empty body. */
	body_hash_b64(DKIM_CANON_SIMPLE, "", b64);
	assert_string_equal(b64, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	body_hash_b64(DKIM_CANON_RELAXED, "", b64);
	assert_string_equal(b64, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	/* The body of the ARC conformance suite's base message 1 (bh= there). */
	body_hash_b64(DKIM_CANON_RELAXED, "Hey gang,\r\nThis is a test message.\r\n--J.\r\n", b64);
	assert_string_equal(b64, "KWSe46TZKCcDbH4klJPo+tjk5LWJnVRlP5pvjXFZYLQ=");
	body_hash_b64(DKIM_CANON_SIMPLE, "Hey gang,\nThis is a test message.\n--J.\n\n\n", b64);
	assert_string_equal(b64, "KWSe46TZKCcDbH4klJPo+tjk5LWJnVRlP5pvjXFZYLQ=");
}

/* l= prefixes: each digest equals the digest of that many canonical bytes,
 * however the body is cut; a prefix longer than the body has none. */
static void test_prefixes(void **state)
{
	static const uint64_t limits[] = { 11, 0, 3, 5, 5, 22, 23, 1000 };
	static const char in[] = "abc  \r\n\r\n\r\ndef\r\n\r\n  ghi \r\n\r\n";	/* 22 canonical bytes */

	for (size_t chunk = 1; chunk <= sizeof(in); chunk++) {
		struct dkim_canon_body *cb = dkim_canon_body_new(DKIM_CANON_RELAXED, EVP_sha256());
		struct strbuf copy = STRBUF_INIT;
		unsigned char digest[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
		int ids[N_ELEMENTS(limits)];

		dkim_canon_body_set_copy(cb, &copy);
		for (size_t i = 0; i < N_ELEMENTS(limits); i++)
			ids[i] = dkim_canon_body_add_prefix(cb, limits[i]);
		assert_int_equal(ids[3], ids[4]);	/* equal limits share */
		for (size_t i = 0; i < sizeof(in) - 1; i += chunk)
			dkim_canon_body_update(cb, in + i, sizeof(in) - 1 - i < chunk ? sizeof(in) - 1 - i : chunk);
		assert_int_equal(dkim_canon_body_final(cb, digest), 32);
		assert_int_equal(copy.len, 22);
		assert_memory_equal(copy.data, "abc\r\n\r\n\r\ndef\r\n\r\n ghi\r\n", 22);
		for (size_t i = 0; i < N_ELEMENTS(limits); i++) {
			int n = dkim_canon_body_prefix(cb, ids[i], digest);
			if (limits[i] > copy.len) {
				assert_int_equal(n, -1);
				continue;
			}
			assert_int_equal(n, 32);
			EVP_Digest(copy.data, (size_t)limits[i], want, NULL, EVP_sha256(), NULL);
			if (memcmp(digest, want, 32) != 0)
				fail_msg("prefix %llu, chunks of %zu: wrong digest",
					 (unsigned long long)limits[i], chunk);
		}
		assert_int_equal(dkim_canon_body_prefix(cb, 99, digest), -1);
		dkim_canon_body_free(&cb);
		strbuf_release(&copy);
	}
}

static void test_prefix_limits(void **state)
{
	struct dkim_canon_body *cb = dkim_canon_body_new(DKIM_CANON_SIMPLE, EVP_sha256());
	unsigned char digest[EVP_MAX_MD_SIZE];

	for (int i = 0; i < DKIM_CANON_MAX_PREFIXES; i++)
		assert_int_equal(dkim_canon_body_add_prefix(cb, (uint64_t)(DKIM_CANON_MAX_PREFIXES - i)), i);
	assert_int_equal(dkim_canon_body_add_prefix(cb, 1000), -1);
	assert_int_equal(dkim_canon_body_add_prefix(cb, 1), DKIM_CANON_MAX_PREFIXES - 1);
	dkim_canon_body_update(cb, "0123456789012345678901234567890123456789012345678901234567890123456789\r\n", 72);
	assert_int_equal(dkim_canon_body_final(cb, digest), 32);
	for (int i = 0; i < DKIM_CANON_MAX_PREFIXES; i++)
		assert_int_equal(dkim_canon_body_prefix(cb, i, digest), 32);
	dkim_canon_body_free(&cb);
}

static void test_modes(void **state)
{
	static const struct {
		const char *in;
		int rc;
		enum dkim_canon_mode header, body;
	} modes[] = {
		{ "simple", 0, DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE },
		{ "relaxed", 0, DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE },
		{ "relaxed/relaxed", 0, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED },
		{ "simple/relaxed", 0, DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED },
		{ "relaxed/simple", 0, DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE },
		{ "", -1, 0, 0 },
		{ "Relaxed/SIMPLE", 0, DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE },
		{ "relaxed/", -1, 0, 0 },
		{ "/relaxed", -1, 0, 0 },
		{ "relaxed/relaxed/relaxed", -1, 0, 0 },
		{ "nowsp", -1, 0, 0 },
	};

	for (size_t i = 0; i < N_ELEMENTS(modes); i++) {
		enum dkim_canon_mode h = DKIM_CANON_SIMPLE, b = DKIM_CANON_SIMPLE;
		int rc = dkim_canon_mode_parse(modes[i].in, strlen(modes[i].in), &h, &b);
		if (rc != modes[i].rc)
			fail_msg("mode \"%s\": got %d", modes[i].in, rc);
		if (rc == 0 && (h != modes[i].header || b != modes[i].body))
			fail_msg("mode \"%s\": wrong modes", modes[i].in);
	}
}

#define H(n, v) { n, sizeof(n) - 1, v, sizeof(v) - 1 }
#define N(n) { n, sizeof(n) - 1 }

static void test_select(void **state)
{
	static const struct dkim_canon_header headers[] = {
		H("Received", " one"),		/* 0 */
		H("From", " a@example.org"),	/* 1 */
		H("To", " b@example.org"),	/* 2 */
		H("Received", " two"),		/* 3 */
		H("Subject", " hi"),		/* 4 */
		H("received ", " three"),	/* 5: obsolete "received :" */
	};
	static const struct canon_name names[] = {
		N("from"), N("received"), N("Received"), N("RECEIVED"), N("received"),
		N("x-missing"), N(""), N("to"), N("subject"), N("subject"),
	};
	/* repeated names take fields bottom-up; missing ones sign nothing */
	static const long want[] = { 1, 5, 3, 0, -1, -1, -1, 2, 4, -1 };
	long picked[N_ELEMENTS(names)];

	dkim_canon_select_headers(headers, N_ELEMENTS(headers), names, N_ELEMENTS(names), picked);
	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		if (picked[i] != want[i])
			fail_msg("name %zu (%s): picked %ld, want %ld", i, names[i].name, picked[i], want[i]);
}

struct split_result {
	struct strbuf fields;
};

static void on_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct split_result *r = ctx;
	strbuf_append(&r->fields, name, name_len);
	strbuf_append_char(&r->fields, '=');
	strbuf_append(&r->fields, value, value_len);
	strbuf_append_char(&r->fields, '|');
}

static void test_msgsplit(void **state)
{
	static const struct {
		const char *msg;
		const char *fields;
		size_t body;
	} cases[] = {
		{ "A: 1\r\nB: 2\r\n\r\nbody\r\n", "A= 1|B= 2|", 14 },
		{ "A: 1\nB:\n 2\n\tx\n\nbody", "A= 1|B=\n 2\n\tx|", 15 },
		{ "A: 1\r\nB : 2\r\n", "A= 1|B = 2|", 13 },
		{ "\r\nbody", "", 2 },
		{ "", "", 0 },
		{ "A: 1\r\nnot a header\r\n", "A= 1|", 6 },
		{ " folded first\r\n", "", 0 },
		{ ": no name\r\n", "", 0 },
		{ "A: 1", "A= 1|", 4 },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct split_result r = { STRBUF_INIT };
		size_t body = msgsplit(cases[i].msg, strlen(cases[i].msg), on_header, &r);
		if (strcmp(strbuf_str(&r.fields), cases[i].fields) != 0 || body != cases[i].body)
			fail_msg("msgsplit case %zu: fields \"%s\" body at %zu", i, strbuf_str(&r.fields), body);
		strbuf_release(&r.fields);
	}
}

static void test_base64(void **state)
{
	static const struct {
		const char *in;
		ssize_t want;
		const char *out;
	} cases[] = {
		{ "aGVsbG8=", 5, "hello" },
		{ "aGVsbG8", 5, "hello" },
		{ "aGVs\r\n bG8=", 5, "hello" },
		{ "aGVsbA==", 4, "hell" },
		{ "aGVsbA", 4, "hell" },
		{ "aGVs", 3, "hel" },
		{ "", 0, "" },
		{ "aGVsbG8=x", -1, NULL },
		{ "aGVsbG8===", -1, NULL },
		{ "aGVsb", -1, NULL },
		{ "aGVsbA=", -1, NULL },
		{ "not_base_64", -1, NULL },
		{ "aGVs*bG8=", -1, NULL },
	};
	unsigned char out[16];

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		ssize_t n = dkim_base64_decode(cases[i].in, strlen(cases[i].in), out, sizeof(out));
		if (n != cases[i].want)
			fail_msg("base64 \"%s\": got %zd", cases[i].in, n);
		if (n > 0)
			assert_memory_equal(out, cases[i].out, (size_t)n);
	}
	assert_int_equal(dkim_base64_decode("aGVsbG8=", 8, out, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_known_hashes),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_prefix_limits),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_msgsplit),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
