/*
 * test_dkim_verify.c - DKIM verification on libopendkim (mailauth/dkim_verify.c).
 *
 * Keys come from an in-process fake lookup. The RFC 8463 Appendix A
 * message (an Ed25519 and an RSA signature, keys from the RFC) must pass,
 * and fail once its body or a signed header field changes. The policy
 * cases (rsa-sha1, short RSA keys, revoked, missing and temporarily
 * unavailable keys, too many signatures, malformed signatures) use
 * messages signed here with libopendkim's signer and fresh keys.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <opendkim/dkim.h>

#include "common/strbuf.h"
#include "mailauth/dkim_verify.h"
#include "mailauth/msgsplit.h"
#include "unit.h"
#include "common/xalloc.h"

#define MAX_KEYS 4

/* ---- RFC 8463 Appendix A ---- */

static const char rfc8463_msg[] =
	"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
	" d=football.example.com; i=@football.example.com;\r\n"
	" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
	" subject : date : message-id : from : subject : date;\r\n"
	" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
	" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
	" d=football.example.com; i=@football.example.com;\r\n"
	" q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
	" date : message-id : from : subject : date;\r\n"
	" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	" b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
	" DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
	" dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
	"From: Joe SixPack <joe@football.example.com>\r\n"
	"To: Suzie Q <suzie@shopping.example.net>\r\n"
	"Subject: Is dinner ready?\r\n"
	"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
	"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
	"\r\n"
	"Hi.\r\n"
	"\r\n"
	"We lost the game.  Are you hungry yet?\r\n"
	"\r\n"
	"Joe.\r\n";

static const char rfc8463_ed_name[] = "brisbane._domainkey.football.example.com";
static const char rfc8463_ed_txt[] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rfc8463_rsa_name[] = "test._domainkey.football.example.com";
static const char rfc8463_rsa_txt[] =
	"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi"
	"Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryO"
	"TIKT+l/K4w3QIDAQAB";

/* ---- fake DNS ---- */

struct fake_dns {
	const char *names[MAX_KEYS];
	const char *txts[MAX_KEYS];	/* NULL: tempfail */
	size_t count;
	unsigned lookups;
};

static enum dkim_key_status fake_lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	struct fake_dns *dns = ctx;
	char name[512];
	int n = snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);
	assert_true(n > 0 && (size_t)n < sizeof(name));
	dns->lookups++;
	for (size_t i = 0; i < dns->count; i++) {
		if (strcasecmp(dns->names[i], name) != 0)
			continue;
		if (dns->txts[i] == NULL)
			return DKIM_KEY_TEMPFAIL;
		*txt_r = xstrdup(dns->txts[i]);
		return DKIM_KEY_OK;
	}
	return DKIM_KEY_NOTFOUND;
}

static void fake_add(struct fake_dns *dns, const char *name, const char *txt)
{
	assert_true(dns->count < MAX_KEYS);
	dns->names[dns->count] = name;
	dns->txts[dns->count] = txt;
	dns->count++;
}

static struct fake_dns rfc8463_dns(void)
{
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, rfc8463_ed_name, rfc8463_ed_txt);
	fake_add(&dns, rfc8463_rsa_name, rfc8463_rsa_txt);
	return dns;
}

/* ---- running the verifier ---- */

static struct dkim_verify_lib *lib;

static void on_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);
	dkim_verify_header(ctx, n, v);
	free(n);
	free(v);
}

/* Verifies msg, the body in 7-byte chunks (line ends straddle them). */
static struct dkim_verify *run(const char *msg, struct fake_dns *dns, struct dkim_verify_options *opt)
{
	struct dkim_verify_options o = { 0 };
	if (opt != NULL)
		o = *opt;
	o.key_lookup = fake_lookup;
	o.key_ctx = dns;
	struct dkim_verify *v = dkim_verify_new(lib, &o, "test");
	size_t len = strlen(msg);
	size_t body = msgsplit(msg, len, on_header, v);
	for (size_t off = body; off < len; off += 7)
		dkim_verify_body(v, msg + off, len - off < 7 ? len - off : 7);
	dkim_verify_end(v);
	return v;
}

static void assert_sig(const struct dkim_verify_result *r, size_t i, enum dkim_result want, const char *reason)
{
	assert_true(i < r->count);
	if (r->sigs[i].result != want)
		fail_msg("signature %zu: %s (%s), want %s", i, dkim_result_name(r->sigs[i].result),
			 r->sigs[i].reason, dkim_result_name(want));
	if (reason != NULL && strstr(r->sigs[i].reason, reason) == NULL)
		fail_msg("signature %zu: reason \"%s\" lacks \"%s\"", i, r->sigs[i].reason, reason);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	assert_non_null(at);
	struct strbuf sb = STRBUF_INIT;
	strbuf_append(&sb, s, (size_t)(at - s));
	strbuf_append_str(&sb, to);
	strbuf_append_str(&sb, at + strlen(from));
	return strbuf_detach(&sb);
}

/* ---- messages signed here, with libopendkim's signer ---- */

struct test_key {
	char *pem;		/* private key */
	char txt[2048];		/* its key record */
};

static DKIM_LIB *signer;
static struct test_key rsa2048, rsa512;

static const char plain_headers[] =
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.net\r\n"
	"Subject: policy check\r\n"
	"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
	"Message-ID: <p@example.org>\r\n";
static const char plain_body[] = "Hello Bob,\r\nthis message is signed.\r\n";

static void make_rsa_key(struct test_key *k, unsigned bits)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	assert_non_null(pkey);
	BIO *bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	k->pem = xstrndup(data, (size_t)len);
	BIO_free(bio);
	unsigned char der[1200], *p = der;
	char b64[1700];
	int n = i2d_PUBKEY(pkey, NULL);
	assert_true(n > 0 && (size_t)n <= sizeof(der));
	n = i2d_PUBKEY(pkey, &p);
	EVP_EncodeBlock((unsigned char *)b64, der, n);
	n = snprintf(k->txt, sizeof(k->txt), "v=DKIM1; k=rsa; p=%s", b64);
	assert_true(n > 0 && (size_t)n < sizeof(k->txt));
	EVP_PKEY_free(pkey);
}

static void feed_signer(DKIM *dkim)
{
	const char *line = plain_headers;
	while (*line != '\0') {
		const char *end = strstr(line, "\r\n");
		assert_int_equal(dkim_header(dkim, (u_char *)(uintptr_t)line, (size_t)(end - line)), DKIM_STAT_OK);
		line = end + 2;
	}
	assert_int_equal(dkim_eoh(dkim), DKIM_STAT_OK);
	assert_int_equal(dkim_body(dkim, (u_char *)(uintptr_t)plain_body, strlen(plain_body)), DKIM_STAT_OK);
	assert_int_equal(dkim_eom(dkim, NULL), DKIM_STAT_OK);
}

/* Appends a DKIM-Signature field made with key k, selector sel. */
static void sign_into(struct strbuf *out, const struct test_key *k, const char *sel, dkim_alg_t alg)
{
	static const char prefix[] = "DKIM-Signature: ";
	DKIM_STAT st;
	DKIM *dkim = dkim_sign(signer, (const u_char *)"t", NULL, (dkim_sigkey_t)k->pem,
			       (const u_char *)sel, (const u_char *)"example.org",
			       DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE, alg, -1, &st);
	assert_non_null(dkim);
	feed_signer(dkim);
	u_char hdr[4096];
	assert_int_equal(dkim_getsighdr(dkim, hdr, sizeof(hdr), strlen(prefix)), DKIM_STAT_OK);
	strbuf_appendf(out, "%s%s\r\n", prefix, (const char *)hdr);
	dkim_free(dkim);
}

static char *signed_msg(const struct test_key *k1, const char *sel1, dkim_alg_t alg1,
			const struct test_key *k2, const char *sel2, dkim_alg_t alg2)
{
	struct strbuf sb = STRBUF_INIT;
	if (k2 != NULL)
		sign_into(&sb, k2, sel2, alg2);
	if (k1 != NULL)
		sign_into(&sb, k1, sel1, alg1);
	strbuf_appendf(&sb, "%s\r\n%s", plain_headers, plain_body);
	return strbuf_detach(&sb);
}

static int setup(void **state)
{
	char err[256];
	lib = dkim_verify_lib_new(err, sizeof(err));
	if (lib == NULL)
		fail_msg("%s", err);
	signer = dkim_init(NULL, NULL);
	assert_non_null(signer);
	unsigned int minbits = 0;
	assert_int_equal(dkim_options(signer, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits, sizeof(minbits)),
			 DKIM_STAT_OK);
	make_rsa_key(&rsa2048, 2048);
	make_rsa_key(&rsa512, 512);
	return 0;
}

static int teardown(void **state)
{
	dkim_verify_lib_free(&lib);
	assert_null(lib);
	dkim_close(signer);
	free(rsa2048.pem);
	free(rsa512.pem);
	return 0;
}

/* ---- RFC 8463 ---- */

static void test_rfc8463_pass(void **state)
{
	struct fake_dns dns = rfc8463_dns();
	struct dkim_verify *v = run(rfc8463_msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_null(r->error);
	assert_sig(r, 0, DKIM_RESULT_PASS, "");
	assert_sig(r, 1, DKIM_RESULT_PASS, "");
	assert_string_equal(r->sigs[0].algorithm, "ed25519-sha256");
	assert_string_equal(r->sigs[0].selector, "brisbane");
	assert_string_equal(r->sigs[0].domain, "football.example.com");
	assert_string_equal(r->sigs[0].b, "/gCrinpcQOoIfuHN");
	assert_int_equal(r->sigs[0].key_bits, 256);
	assert_string_equal(r->sigs[1].algorithm, "rsa-sha256");
	assert_string_equal(r->sigs[1].selector, "test");
	assert_string_equal(r->sigs[1].b, "F45dVWDfMbQDGHJF");
	assert_int_equal(r->sigs[1].key_bits, 1024);
	assert_int_equal(dns.lookups, 2);
	dkim_verify_free(&v);
	assert_null(v);
}

/* libmilter may hand folds over as bare LF; the body too in some setups. */
static void test_rfc8463_bare_lf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = rfc8463_msg; *p != '\0'; p++) {
		if (*p != '\r')
			strbuf_append_char(&sb, *p);
	}
	struct fake_dns dns = rfc8463_dns();
	struct dkim_verify *v = run(strbuf_str(&sb), &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_sig(r, 0, DKIM_RESULT_PASS, "");
	assert_sig(r, 1, DKIM_RESULT_PASS, "");
	dkim_verify_free(&v);
	strbuf_release(&sb);
}

static void test_rfc8463_altered_body(void **state)
{
	char *msg = replace(rfc8463_msg, "We lost the game", "We won the game");
	struct fake_dns dns = rfc8463_dns();
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_sig(r, 0, DKIM_RESULT_FAIL, "body hash");
	assert_sig(r, 1, DKIM_RESULT_FAIL, "body hash");
	dkim_verify_free(&v);
	free(msg);
}

static void test_rfc8463_altered_header(void **state)
{
	char *msg = replace(rfc8463_msg, "Is dinner ready?", "Is lunch ready?");
	struct fake_dns dns = rfc8463_dns();
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_sig(r, 0, DKIM_RESULT_FAIL, "did not verify");
	assert_sig(r, 1, DKIM_RESULT_FAIL, "did not verify");
	dkim_verify_free(&v);
	free(msg);
}

/* An unsigned field added below does not matter; a second From does
 * (h= names From twice, so the added one is signed as absent). */
static void test_rfc8463_added_headers(void **state)
{
	char *msg = replace(rfc8463_msg, "\r\n\r\nHi.", "\r\nX-Added: yes\r\n\r\nHi.");
	struct fake_dns dns = rfc8463_dns();
	struct dkim_verify *v = run(msg, &dns, NULL);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_PASS, "");
	dkim_verify_free(&v);
	free(msg);

	msg = replace(rfc8463_msg, "\r\n\r\nHi.", "\r\nFrom: Mallory <m@evil.example>\r\n\r\nHi.");
	dns = rfc8463_dns();
	v = run(msg, &dns, NULL);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_FAIL, NULL);
	assert_sig(dkim_verify_result(v), 1, DKIM_RESULT_FAIL, NULL);
	dkim_verify_free(&v);
	free(msg);
}

/* ---- keys ---- */

static void test_revoked_missing_tempfail(void **state)
{
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, rfc8463_ed_name, "v=DKIM1; k=ed25519; p=");
	fake_add(&dns, rfc8463_rsa_name, NULL);
	struct dkim_verify *v = run(rfc8463_msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_sig(r, 0, DKIM_RESULT_PERMERROR, "revoked");
	assert_sig(r, 1, DKIM_RESULT_TEMPERROR, "temporarily");
	dkim_verify_free(&v);

	dns.count = 0;
	fake_add(&dns, rfc8463_ed_name, rfc8463_ed_txt);
	v = run(rfc8463_msg, &dns, NULL);
	r = dkim_verify_result(v);
	assert_sig(r, 0, DKIM_RESULT_PASS, "");
	assert_sig(r, 1, DKIM_RESULT_PERMERROR, "no key");
	dkim_verify_free(&v);
}

static void test_bad_key_records(void **state)
{
	static const char *const records[] = {
		"v=DKIM1; k=rsa; p=bm90IGEga2V5",		/* base64, not a key */
		"v=DKIM1; k=ed25519; p=%%%",			/* not base64 */
		"v=DKIM2; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	};
	for (size_t i = 0; i < N_ELEMENTS(records); i++) {
		struct fake_dns dns = { .count = 0 };
		fake_add(&dns, rfc8463_ed_name, records[i]);
		fake_add(&dns, rfc8463_rsa_name, rfc8463_rsa_txt);
		struct dkim_verify *v = run(rfc8463_msg, &dns, NULL);
		const struct dkim_verify_result *r = dkim_verify_result(v);
		if (r->sigs[0].result == DKIM_RESULT_PASS)
			fail_msg("record %zu: pass", i);
		assert_sig(r, 1, DKIM_RESULT_PASS, "");
		dkim_verify_free(&v);
	}
}

/* libopendkim 2.11 copies a key record into a 1024-byte buffer: longer
 * ones (RSA keys of about 6000 bits and more) are a permanent error. */
static void test_key_record_too_long(void **state)
{
	char record[1200];
	int n = snprintf(record, sizeof(record), "v=DKIM1; k=rsa; p=");
	assert_true(n > 0);
	memset(record + n, 'A', sizeof(record) - (size_t)n - 1);
	record[sizeof(record) - 1] = '\0';
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, rfc8463_ed_name, rfc8463_ed_txt);
	fake_add(&dns, rfc8463_rsa_name, record);
	struct dkim_verify *v = run(rfc8463_msg, &dns, NULL);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_PASS, "");
	assert_sig(dkim_verify_result(v), 1, DKIM_RESULT_PERMERROR, "longer");
	dkim_verify_free(&v);
}

/* ---- RFC 8301 ---- */

static void test_rsa_sha1(void **state)
{
	char *msg = signed_msg(&rsa2048, "old", DKIM_SIGN_RSASHA1, NULL, NULL, 0);
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, "old._domainkey.example.org", rsa2048.txt);
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 1);
	assert_sig(r, 0, DKIM_RESULT_POLICY, "rsa-sha1");
	assert_string_equal(r->sigs[0].algorithm, "rsa-sha1");
	assert_string_equal(r->sigs[0].domain, "example.org");
	assert_int_equal(dns.lookups, 0);
	dkim_verify_free(&v);

	v = run(msg, &dns, &(struct dkim_verify_options){ .sha1_result = DKIM_RESULT_FAIL });
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_FAIL, "rsa-sha1");
	assert_int_equal(dns.lookups, 0);
	dkim_verify_free(&v);
	free(msg);
}

static void test_short_rsa_key(void **state)
{
	char *msg = signed_msg(&rsa512, "short", DKIM_SIGN_RSASHA256, &rsa2048, "long", DKIM_SIGN_RSASHA256);
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, "short._domainkey.example.org", rsa512.txt);
	fake_add(&dns, "long._domainkey.example.org", rsa2048.txt);
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_sig(r, 0, DKIM_RESULT_PASS, "");		/* the 2048-bit one, on top */
	assert_int_equal(r->sigs[0].key_bits, 2048);
	assert_sig(r, 1, DKIM_RESULT_PERMERROR, "512 bits");
	dkim_verify_free(&v);

	v = run(msg, &dns, &(struct dkim_verify_options){ .short_key_result = DKIM_RESULT_POLICY });
	assert_sig(dkim_verify_result(v), 1, DKIM_RESULT_POLICY, "512 bits");
	dkim_verify_free(&v);

	/* A configured minimum applies to RSA only: Ed25519 still passes. */
	struct fake_dns rfc = rfc8463_dns();
	v = run(rfc8463_msg, &rfc, &(struct dkim_verify_options){ .min_rsa_bits = 2048 });
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_PASS, "");
	assert_sig(dkim_verify_result(v), 1, DKIM_RESULT_PERMERROR, "1024 bits");
	dkim_verify_free(&v);
	free(msg);
}

/* ---- limits and odd signatures ---- */

static void test_max_signatures(void **state)
{
	struct fake_dns dns = rfc8463_dns();
	struct dkim_verify *v = run(rfc8463_msg, &dns, &(struct dkim_verify_options){ .max_signatures = 1 });
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_sig(r, 0, DKIM_RESULT_PASS, "");
	assert_sig(r, 1, DKIM_RESULT_POLICY, "more than 1 signatures");
	assert_string_equal(r->sigs[1].selector, "test");
	assert_int_equal(dns.lookups, 1);
	dkim_verify_free(&v);
}

static void test_one_lookup_per_key(void **state)
{
	char *msg = signed_msg(&rsa2048, "k", DKIM_SIGN_RSASHA256, &rsa2048, "k", DKIM_SIGN_RSASHA256);
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, "k._domainkey.example.org", rsa2048.txt);
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_sig(r, 0, DKIM_RESULT_PASS, "");
	assert_sig(r, 1, DKIM_RESULT_PASS, "");
	assert_int_equal(dns.lookups, 1);
	dkim_verify_free(&v);

	/* a temporary failure is not asked again for the second signature */
	dns.count = 0;
	dns.lookups = 0;
	fake_add(&dns, "k._domainkey.example.org", NULL);
	v = run(msg, &dns, NULL);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_TEMPERROR, NULL);
	assert_sig(dkim_verify_result(v), 1, DKIM_RESULT_TEMPERROR, NULL);
	assert_int_equal(dns.lookups, 1);
	dkim_verify_free(&v);
	free(msg);
}

static void test_malformed_signature(void **state)
{
	char *msg = replace(rfc8463_msg, "DKIM-Signature: v=1; a=ed25519",
			    "DKIM-Signature: v=1; a=rsa-sha256; s=x; bh=AAAA; b=AAAA; h=from\r\n"
			    "DKIM-Signature: v=1; a=ed25519");
	struct fake_dns dns = rfc8463_dns();
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 3);
	assert_sig(r, 0, DKIM_RESULT_PERMERROR, NULL);	/* no d= */
	assert_string_equal(r->sigs[0].domain, "");
	assert_sig(r, 1, DKIM_RESULT_PASS, "");
	assert_sig(r, 2, DKIM_RESULT_PASS, "");
	dkim_verify_free(&v);
	free(msg);
}

static void test_unsigned_and_no_lookup(void **state)
{
	struct dkim_verify *v = dkim_verify_new(lib, NULL, "x");
	dkim_verify_header(v, "From", " a@example.org");
	assert_false(dkim_verify_eoh(v));
	dkim_verify_body(v, "hi\r\n", 4);
	dkim_verify_end(v);
	assert_int_equal(dkim_verify_result(v)->count, 0);
	assert_null(dkim_verify_result(v)->error);
	dkim_verify_free(&v);

	/* no key_lookup at all: every key is missing */
	v = dkim_verify_new(lib, NULL, "x");
	size_t len = strlen(rfc8463_msg);
	size_t body = msgsplit(rfc8463_msg, len, on_header, v);
	dkim_verify_body(v, rfc8463_msg + body, len - body);
	dkim_verify_end(v);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_PERMERROR, "no key");
	dkim_verify_free(&v);
	dkim_verify_free(&v);	/* a second free is harmless */
}

/* One library handle, verifiers in parallel threads (as milter threads). */
static void *verify_many(void *arg)
{
	unsigned *passes = arg;
	for (int i = 0; i < 25; i++) {
		struct fake_dns dns = rfc8463_dns();
		struct dkim_verify *v = run(rfc8463_msg, &dns, NULL);
		const struct dkim_verify_result *r = dkim_verify_result(v);
		if (r->count == 2 && r->sigs[0].result == DKIM_RESULT_PASS &&
		    r->sigs[1].result == DKIM_RESULT_PASS)
			(*passes)++;
		dkim_verify_free(&v);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t threads[4];
	unsigned passes[4] = { 0 };
	for (size_t i = 0; i < N_ELEMENTS(threads); i++)
		assert_int_equal(pthread_create(&threads[i], NULL, verify_many, &passes[i]), 0);
	for (size_t i = 0; i < N_ELEMENTS(threads); i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(passes[i], 25);
	}
}

static void test_result_names(void **state)
{
	static const char *const names[] = { "none", "pass", "fail", "neutral", "policy", "temperror",
					     "permerror" };
	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		assert_string_equal(dkim_result_name((enum dkim_result)i), names[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8463_pass),
		cmocka_unit_test(test_rfc8463_bare_lf),
		cmocka_unit_test(test_rfc8463_altered_body),
		cmocka_unit_test(test_rfc8463_altered_header),
		cmocka_unit_test(test_rfc8463_added_headers),
		cmocka_unit_test(test_revoked_missing_tempfail),
		cmocka_unit_test(test_bad_key_records),
		cmocka_unit_test(test_key_record_too_long),
		cmocka_unit_test(test_rsa_sha1),
		cmocka_unit_test(test_short_rsa_key),
		cmocka_unit_test(test_max_signatures),
		cmocka_unit_test(test_one_lookup_per_key),
		cmocka_unit_test(test_malformed_signature),
		cmocka_unit_test(test_unsigned_and_no_lookup),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_result_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
