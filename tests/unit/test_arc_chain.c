/*
 * test_arc_chain.c - ARC validation of chains this test seals itself.
 *
 * The conformance suite (test_arc.c) only has RSA-1024 keys; here a small
 * sealer written from RFC 8617 5.1 (dkim_canon.h plus OpenSSL signing) builds
 * chains with Ed25519 (RFC 8463) and RSA-2048 keys, so we can check what
 * the suite cannot: Ed25519, mixed algorithms, oldest-pass after a
 * mailing-list footer, temporary DNS failures, the key-size minimum, the
 * limits on instances and header fields, and key records of every kind.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/strbuf.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/dkim_pubkey.h"
#include "unit.h"
#include "common/xalloc.h"

#define MAX_FIELDS 64

struct test_key {
	const char *selector;
	enum dkim_alg alg;
	EVP_PKEY *pkey;
	char txt[2048];
};

/* A message under construction: fields top to bottom, then the body. */
struct test_msg {
	size_t count;
	char *names[MAX_FIELDS];
	char *values[MAX_FIELDS];
	const char *body;
	long aar[ARC_INSTANCE_MAX + 1], ams[ARC_INSTANCE_MAX + 1], as[ARC_INSTANCE_MAX + 1];
};

/* What the fake DNS answers. */
struct fake_dns {
	const struct test_key *keys[4];
	size_t count;
	enum dkim_key_status status;	/* DKIM_KEY_OK: serve keys */
	unsigned lookups;
};

static struct test_key ed_key = { "ed", DKIM_ALG_ED25519_SHA256, NULL, "" };
static struct test_key rsa_key = { "rsa", DKIM_ALG_RSA_SHA256, NULL, "" };

static void b64(const unsigned char *data, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

static void make_key(struct test_key *k)
{
	unsigned char der[1024], *p = der;
	char pub[1400];
	size_t len = sizeof(der);

	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(k->pkey);
		assert_int_equal(EVP_PKEY_get_raw_public_key(k->pkey, der, &len), 1);
	} else {
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		assert_non_null(k->pkey);
		int n = i2d_PUBKEY(k->pkey, &p);
		assert_true(n > 0);
		len = (size_t)n;
	}
	b64(der, len, pub);
	struct strbuf record = STRBUF_INIT;

	dkim_pubkey_record(&record, k->alg == DKIM_ALG_ED25519_SHA256, pub);
	assert_true(record.len < sizeof(k->txt));
	memcpy(k->txt, strbuf_str(&record), record.len + 1);
	strbuf_release(&record);
}

static int setup_keys(void **state)
{
	make_key(&ed_key);
	make_key(&rsa_key);
	return 0;
}

static int free_keys(void **state)
{
	EVP_PKEY_free(ed_key.pkey);
	EVP_PKEY_free(rsa_key.pkey);
	return 0;
}

/* Signs the SHA-256 digest of data as the key's algorithm wants. */
static void sign(const struct test_key *k, const struct strbuf *data, struct strbuf *out)
{
	unsigned char hash[32], sig[512];
	char text[1024];
	size_t sig_len = sizeof(sig);

	assert_int_equal(EVP_Digest(data->data, data->len, hash, NULL, EVP_sha256(), NULL), 1);
	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, hash, sizeof(hash)), 1);
		EVP_MD_CTX_free(ctx);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
		assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
		assert_int_equal(EVP_PKEY_sign(ctx, sig, &sig_len, hash, sizeof(hash)), 1);
		EVP_PKEY_CTX_free(ctx);
	}
	b64(sig, sig_len, text);
	strbuf_append_str(out, text);
}

static void msg_init(struct test_msg *m, const char *body)
{
	static const char *const fields[][2] = {
		{ "Received", " from mx.example.com by list.example.net" },
		{ "From", " Alice <alice@example.com>" },
		{ "To", " list@example.net" },
		{ "Subject", " Hello,\r\n  world" },
		{ "Date", " Tue, 1 Jul 2025 10:00:00 +0000" },
	};

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < N_ELEMENTS(fields); i++) {
		m->names[i] = xstrdup(fields[i][0]);
		m->values[i] = xstrdup(fields[i][1]);
	}
	m->count = N_ELEMENTS(fields);
	m->body = body;
}

static void msg_free(struct test_msg *m)
{
	for (size_t i = 0; i < m->count; i++) {
		free(m->names[i]);
		free(m->values[i]);
	}
}

/* Adds a field on top; returns its index counted from the bottom, which
 * stays stable as more fields are prepended. */
static long msg_prepend(struct test_msg *m, const char *name, char *value)
{
	assert_true(m->count < MAX_FIELDS);
	memmove(m->names + 1, m->names, m->count * sizeof(char *));
	memmove(m->values + 1, m->values, m->count * sizeof(char *));
	m->names[0] = xstrdup(name);
	m->values[0] = value;
	return (long)m->count++;
}

static const struct dkim_canon_header *field_at(const struct test_msg *m, long from_bottom, struct dkim_canon_header *h)
{
	size_t i = m->count - 1 - (size_t)from_bottom;
	*h = (struct dkim_canon_header){ m->names[i], strlen(m->names[i]), m->values[i], strlen(m->values[i]) };
	return h;
}

static void append_relaxed(struct strbuf *data, const struct dkim_canon_header *h, bool crlf)
{
	dkim_canon_header_append(data, DKIM_CANON_RELAXED, h->name, h->name_len, h->value, h->value_len);
	if (crlf)
		strbuf_append(data, "\r\n", 2);
}

/* What the test sealer's AMSes sign: the usual h=, or one that also names
 * ARC fields (which RFC 8617 4.1.2 tells sealers not to do, but which a
 * validator must then select as the sealer saw them). */
static const struct canon_name usual_names[] = { { "from", 4 }, { "to", 2 }, { "subject", 7 } };
static const struct canon_name arc_names[] = {
	{ "from", 4 }, { "arc-authentication-results", 26 }, { "arc-authentication-results", 26 },
	{ "arc-message-signature", 21 }, { "subject", 7 },
};
static const char *signs_arc_fields;	/* non-NULL: use arc_names, this h= */

/* l: the AMS's l= (body bytes signed), or -1 for the whole body. */
static void add_ams(struct test_msg *m, unsigned i, const struct test_key *k, long l)
{
	const struct canon_name *names = signs_arc_fields ? arc_names : usual_names;
	size_t names_count = signs_arc_fields ? N_ELEMENTS(arc_names) : N_ELEMENTS(usual_names);
	struct dkim_canon_header hdrs[MAX_FIELDS], self;
	struct dkim_canon_body *cb = dkim_canon_body_new(DKIM_CANON_RELAXED, EVP_sha256());
	struct strbuf value = STRBUF_INIT, data = STRBUF_INIT;
	unsigned char bh[EVP_MAX_MD_SIZE];
	char bh64[64];
	long picked[N_ELEMENTS(arc_names)];
	int prefix = l >= 0 ? dkim_canon_body_add_prefix(cb, (uint64_t)l) : -1;

	dkim_canon_body_update(cb, m->body, strlen(m->body));
	int n = dkim_canon_body_final(cb, bh);
	if (prefix >= 0 && dkim_canon_body_prefix(cb, prefix, bh) < 0)
		memset(bh, 0, (size_t)n);	/* l= beyond the body: any hash */
	b64(bh, (size_t)n, bh64);
	dkim_canon_body_free(&cb);
	strbuf_appendf(&value, " i=%u; a=%s; c=relaxed/relaxed; d=example.net; s=%s; t=1;\r\n\t",
		       i, dkim_alg_name(k->alg), k->selector);
	if (l >= 0)
		strbuf_appendf(&value, "l=%ld; ", l);
	strbuf_appendf(&value, "h=%s; bh=%s; b=", signs_arc_fields ? signs_arc_fields : "from:to:subject", bh64);
	for (size_t j = 0; j < m->count; j++)
		hdrs[j] = (struct dkim_canon_header){ m->names[j], strlen(m->names[j]),
						 m->values[j], strlen(m->values[j]) };
	dkim_canon_select_headers(hdrs, m->count, names, names_count, picked);
	for (size_t j = 0; j < names_count; j++)
		if (picked[j] >= 0)
			append_relaxed(&data, &hdrs[picked[j]], true);
	self = (struct dkim_canon_header){ "ARC-Message-Signature", 21, value.data, value.len };
	append_relaxed(&data, &self, false);
	sign(k, &data, &value);
	m->ams[i] = msg_prepend(m, "ARC-Message-Signature", strbuf_detach(&value));
	strbuf_release(&data);
}

/* RFC 8617 5.1: AAR, then AMS (with l= unless l is -1), then AS over
 * sets 1..i. */
static void seal_l(struct test_msg *m, unsigned i, const struct test_key *ams_key,
		   const struct test_key *as_key, const char *cv, long l)
{
	struct strbuf aar = STRBUF_INIT, as = STRBUF_INIT, data = STRBUF_INIT;
	struct dkim_canon_header h;

	strbuf_appendf(&aar, " i=%u; list.example.net; arc=%s", i, cv);
	m->aar[i] = msg_prepend(m, "ARC-Authentication-Results", strbuf_detach(&aar));
	add_ams(m, i, ams_key, l);
	strbuf_appendf(&as, " i=%u; a=%s; cv=%s; d=example.net; s=%s; t=1; b=", i,
		       dkim_alg_name(as_key->alg), cv, as_key->selector);
	for (unsigned j = 1; j < i; j++) {
		append_relaxed(&data, field_at(m, m->aar[j], &h), true);
		append_relaxed(&data, field_at(m, m->ams[j], &h), true);
		append_relaxed(&data, field_at(m, m->as[j], &h), true);
	}
	append_relaxed(&data, field_at(m, m->aar[i], &h), true);
	append_relaxed(&data, field_at(m, m->ams[i], &h), true);
	h = (struct dkim_canon_header){ "ARC-Seal", 8, as.data, as.len };
	append_relaxed(&data, &h, false);
	sign(as_key, &data, &as);
	m->as[i] = msg_prepend(m, "ARC-Seal", strbuf_detach(&as));
	strbuf_release(&data);
}

static void seal(struct test_msg *m, unsigned i, const struct test_key *ams_key,
		 const struct test_key *as_key, const char *cv)
{
	seal_l(m, i, ams_key, as_key, cv, -1);
}

static enum dkim_key_status fake_lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	struct fake_dns *dns = ctx;

	dns->lookups++;
	if (dns->status != DKIM_KEY_OK)
		return dns->status;
	for (size_t i = 0; i < dns->count; i++)
		if (strcmp(dns->keys[i]->selector, selector) == 0 && strcasecmp(domain, "example.net") == 0) {
			*txt_r = xstrdup(dns->keys[i]->txt);
			return DKIM_KEY_OK;
		}
	return DKIM_KEY_NOTFOUND;
}

/* Feeds m to a new verifier with options (the lookup hook filled in),
 * the body in chunks of 7 bytes. */
static struct arc_verify *verify_with(const struct test_msg *m, struct fake_dns *dns, struct arc_options options)
{
	options.key_lookup = fake_lookup;
	options.key_ctx = dns;
	struct arc_verify *v = arc_verify_new(&options);
	size_t len = strlen(m->body);

	for (size_t i = 0; i < m->count; i++)
		arc_verify_header(v, m->names[i], m->values[i]);
	for (size_t i = 0; i < len; i += 7)
		arc_verify_body(v, m->body + i, len - i < 7 ? len - i : 7);
	arc_verify_end(v);
	return v;
}

static struct arc_verify *verify(const struct test_msg *m, struct fake_dns *dns, unsigned min_rsa_bits)
{
	return verify_with(m, dns, (struct arc_options){ .min_rsa_bits = min_rsa_bits });
}

static struct fake_dns dns_with_both(void)
{
	return (struct fake_dns){ { &ed_key, &rsa_key }, 2, DKIM_KEY_OK, 0 };
}

static const char body[] = "Hello,\r\n\r\nthis is  the body.\r\n\r\n";

static void test_ed25519_chain(void **state)
{
	struct test_msg m;
	struct fake_dns dns = dns_with_both();

	msg_init(&m, body);
	seal(&m, 1, &ed_key, &ed_key, "none");
	seal(&m, 2, &ed_key, &ed_key, "pass");
	struct arc_verify *v = verify(&m, &dns, 0);
	const struct arc_result *r = arc_verify_result(v);
	if (r->status != ARC_STATUS_PASS)
		fail_msg("ed25519 chain: %s (%s)", arc_status_name(r->status), r->reason);
	assert_int_equal(r->instances, 2);
	assert_int_equal(r->oldest_pass, 0);
	assert_int_equal(r->sealer_count, 2);
	assert_string_equal(r->sealers[0], "example.net");
	assert_false(r->tempfail);
	assert_int_equal(dns.lookups, 1);	/* one key, asked once */
	assert_string_equal(arc_verify_aar(v, 1), " i=1; list.example.net; arc=none");
	assert_null(arc_verify_aar(v, 3));
	arc_verify_free(&v);
	msg_free(&m);
}

static void test_mixed_algorithms(void **state)
{
	struct test_msg m;
	struct fake_dns dns = dns_with_both();

	msg_init(&m, body);
	seal(&m, 1, &rsa_key, &ed_key, "none");
	seal(&m, 2, &ed_key, &rsa_key, "pass");
	struct arc_verify *v = verify(&m, &dns, 0);
	const struct arc_result *r = arc_verify_result(v);
	if (r->status != ARC_STATUS_PASS)
		fail_msg("mixed chain: %s (%s)", arc_status_name(r->status), r->reason);
	arc_verify_free(&v);

	/* the same chain with a 4096-bit minimum: the RSA keys no longer count */
	v = verify(&m, &dns, 4096);
	r = arc_verify_result(v);
	assert_int_equal(r->status, ARC_STATUS_FAIL);
	assert_non_null(strstr(r->reason, "shorter than the minimum"));
	arc_verify_free(&v);

	/* two keys, but only one lookup allowed */
	dns.lookups = 0;
	v = verify_with(&m, &dns, (struct arc_options){ .max_key_lookups = 1 });
	r = arc_verify_result(v);
	assert_int_equal(r->status, ARC_STATUS_FAIL);
	assert_non_null(strstr(r->reason, "max_key_lookups"));
	assert_int_equal(dns.lookups, 1);
	arc_verify_free(&v);
	msg_free(&m);
}

static void test_footer_oldest_pass(void **state)
{
	struct test_msg m;
	struct fake_dns dns = dns_with_both();

	msg_init(&m, body);
	seal(&m, 1, &ed_key, &ed_key, "none");
	seal(&m, 2, &rsa_key, &ed_key, "pass");
	m.body = "Hello,\r\n\r\nthis is  the body.\r\n-- \r\nthe list footer\r\n";
	seal(&m, 3, &ed_key, &rsa_key, "pass");
	struct arc_verify *v = verify(&m, &dns, 0);
	const struct arc_result *r = arc_verify_result(v);
	if (r->status != ARC_STATUS_PASS)
		fail_msg("footer chain: %s (%s)", arc_status_name(r->status), r->reason);
	assert_int_equal(r->instances, 3);
	assert_int_equal(r->oldest_pass, 3);	/* AMS 2 and 1 saw another body */
	arc_verify_free(&v);

	/* a footer added after the last seal breaks the chain */
	m.body = "Hello,\r\n\r\nthis is  the body.\r\n-- \r\nanother footer\r\n";
	v = verify(&m, &dns, 0);
	r = arc_verify_result(v);
	assert_int_equal(r->status, ARC_STATUS_FAIL);
	assert_non_null(strstr(r->reason, "body hash"));
	arc_verify_free(&v);
	msg_free(&m);
}

/* l= lets an AMS survive a footer; l= beyond the body does not validate. */
static void test_body_length(void **state)
{
	struct test_msg m;
	struct fake_dns dns = dns_with_both();
	const long signed_len = 29;	/* canonical "Hello,\r\n\r\nthis is the body.\r\n" */

	msg_init(&m, body);
	seal_l(&m, 1, &ed_key, &ed_key, "none", signed_len);
	m.body = "Hello,\r\n\r\nthis is  the body.\r\n-- \r\nfooter\r\n";
	seal_l(&m, 2, &rsa_key, &ed_key, "pass", 2);
	struct arc_verify *v = verify(&m, &dns, 0);
	const struct arc_result *r = arc_verify_result(v);
	if (r->status != ARC_STATUS_PASS)
		fail_msg("l= chain: %s (%s)", arc_status_name(r->status), r->reason);
	assert_int_equal(r->oldest_pass, 0);	/* AMS 1 signed only the first 29 bytes */
	arc_verify_free(&v);
	msg_free(&m);

	msg_init(&m, body);
	seal_l(&m, 1, &ed_key, &ed_key, "none", 1000);
	v = verify(&m, &dns, 0);
	r = arc_verify_result(v);
	assert_int_equal(r->status, ARC_STATUS_FAIL);
	assert_non_null(strstr(r->reason, "l= is longer than the body"));
	arc_verify_free(&v);
	msg_free(&m);
}

/* An AMS that signed ARC fields validates against the fields as they were
 * when it was made, not against later sets or itself. */
static void test_ams_signing_arc_fields(void **state)
{
	struct test_msg m;
	struct fake_dns dns = dns_with_both();

	msg_init(&m, body);
	signs_arc_fields = "from:arc-authentication-results:arc-authentication-results:"
		"arc-message-signature:subject";
	seal(&m, 1, &ed_key, &ed_key, "none");
	seal(&m, 2, &ed_key, &ed_key, "pass");
	seal(&m, 3, &ed_key, &ed_key, "pass");
	signs_arc_fields = NULL;
	struct arc_verify *v = verify(&m, &dns, 0);
	const struct arc_result *r = arc_verify_result(v);
	if (r->status != ARC_STATUS_PASS)
		fail_msg("chain signing ARC fields: %s (%s)", arc_status_name(r->status), r->reason);
	assert_int_equal(r->oldest_pass, 0);	/* AMS 1 and 2 still validate */
	arc_verify_free(&v);
	msg_free(&m);
}

static void test_key_lookup_failures(void **state)
{
	struct test_msg m;
	struct fake_dns dns = dns_with_both();

	msg_init(&m, body);
	seal(&m, 1, &ed_key, &ed_key, "none");
	dns.status = DKIM_KEY_TEMPFAIL;
	struct arc_verify *v = verify(&m, &dns, 0);
	const struct arc_result *r = arc_verify_result(v);
	assert_int_equal(r->status, ARC_STATUS_FAIL);	/* RFC 8617 5.2.1 */
	assert_true(r->tempfail);
	arc_verify_free(&v);

	dns.status = DKIM_KEY_NOTFOUND;
	v = verify(&m, &dns, 0);
	r = arc_verify_result(v);
	assert_int_equal(r->status, ARC_STATUS_FAIL);
	assert_false(r->tempfail);
	arc_verify_free(&v);

	/* an Ed25519 signature checked against an RSA key */
	dns = (struct fake_dns){ { &rsa_key }, 1, DKIM_KEY_OK, 0 };
	const char *saved = rsa_key.selector;
	rsa_key.selector = "ed";
	v = verify(&m, &dns, 0);
	rsa_key.selector = saved;
	r = arc_verify_result(v);
	assert_int_equal(r->status, ARC_STATUS_FAIL);
	assert_non_null(strstr(r->reason, "not of the type"));
	arc_verify_free(&v);
	msg_free(&m);
}

static void test_no_chain(void **state)
{
	struct test_msg m;
	struct fake_dns dns = dns_with_both();
	struct arc_options options = { 0 };

	msg_init(&m, body);
	struct arc_verify *v = verify(&m, &dns, 0);
	assert_int_equal(arc_verify_result(v)->status, ARC_STATUS_NONE);
	assert_int_equal(arc_verify_result(v)->instances, 0);
	assert_int_equal(dns.lookups, 0);
	arc_verify_free(&v);
	msg_free(&m);

	/* no header fields, no body, no lookup hook */
	v = arc_verify_new(&options);
	assert_false(arc_verify_eoh(v));
	arc_verify_end(v);
	assert_int_equal(arc_verify_result(v)->status, ARC_STATUS_NONE);
	assert_non_null(arc_verify_result(v)->reason);
	arc_verify_free(&v);
	arc_verify_free(&v);	/* harmless on NULL */
}

static void test_eoh_decides_structure(void **state)
{
	struct arc_options options = { 0 };
	struct arc_verify *v = arc_verify_new(&options);

	arc_verify_header(v, "ARC-Seal", " i=51; a=rsa-sha256; cv=pass; d=example.net; s=x; b=AAAA");
	assert_false(arc_verify_eoh(v));	/* decided: the body is not needed */
	arc_verify_body(v, "ignored\r\n", 9);
	arc_verify_end(v);
	assert_int_equal(arc_verify_result(v)->status, ARC_STATUS_FAIL);
	assert_non_null(strstr(arc_verify_result(v)->reason, "over 50"));
	arc_verify_free(&v);
}

static void test_header_limits(void **state)
{
	struct arc_options options = { 0 };

	for (int with_arc = 0; with_arc < 2; with_arc++) {
		struct arc_verify *v = arc_verify_new(&options);
		for (int i = 0; i < ARC_MAX_HEADERS + 5; i++)
			arc_verify_header(v, "Received", " from somewhere");
		if (with_arc)
			arc_verify_header(v, "ARC-Seal", " i=1; a=rsa-sha256; cv=none; d=example.net; s=x; b=AAAA");
		arc_verify_end(v);
		/* without ARC fields the cap does not matter; with them it fails */
		assert_int_equal(arc_verify_result(v)->status, with_arc ? ARC_STATUS_FAIL : ARC_STATUS_NONE);
		arc_verify_free(&v);
	}
}

/* Field rules beyond the conformance suite's cases. */
static void test_sig_fields(void **state)
{
	static const struct {
		enum arc_sig_kind kind;
		const char *value;
		int want;
		const char *why;
	} cases[] = {
		{ ARC_SIG_SEAL, "i=1; a=rsa-sha256; cv=none; d=Example.ORG.; s=s1; b=AAAA", 0, "d= normalized" },
		{ ARC_SIG_SEAL, "i=01; a=RSA-SHA256; cv=None; d=x.example; s=s1; b=AAAA", 0, "leading zero, case" },
		{ ARC_SIG_SEAL, "i=50; a=ed25519-sha256; cv=pass; d=x.example; s=s1; b=AAAA", 0, "i=50" },
		{ ARC_SIG_SEAL, "i=51; a=rsa-sha256; cv=pass; d=x.example; s=s1; b=AAAA", -1, "i=51" },
		{ ARC_SIG_SEAL, "i=100; a=rsa-sha256; cv=pass; d=x.example; s=s1; b=AAAA", -1, "three digits" },
		{ ARC_SIG_SEAL, "i=+1; a=rsa-sha256; cv=pass; d=x.example; s=s1; b=AAAA", -1, "sign" },
		{ ARC_SIG_SEAL, "i=1; a=rsa-sha1; cv=none; d=x.example; s=s1; b=AAAA", -1, "rsa-sha1 (RFC 8301)" },
		{ ARC_SIG_SEAL, "i=1; a=rsa-sha256; cv=none; d=x.example; s=s1; b=AAAA; h=from", -1,
		  "h= on a seal" },
		{ ARC_SIG_SEAL, "i=1; a=rsa-sha256; cv=none; d=x.example; s=s 1; b=AAAA", -1, "space in s=" },
		{ ARC_SIG_MESSAGE, "i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; t=5; x=6; l=0",
		  0, "x after t, l=0" },
		{ ARC_SIG_MESSAGE, "i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; t=6; x=5",
		  -1, "x before t" },
		{ ARC_SIG_MESSAGE, "i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; t=1234567890123",
		  -1, "t= longer than 12 digits" },
		{ ARC_SIG_MESSAGE, "i=1; a=rsa-sha256; d=x.example; s=s; h=fr om; bh=AAAA; b=AAAA", -1,
		  "space in h=" },
		{ ARC_SIG_MESSAGE, "i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; c=simple/foo",
		  -1, "bad body canonicalization" },
		{ ARC_SIG_MESSAGE, "i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; l=x", -1,
		  "bad l=" },
		{ ARC_SIG_MESSAGE, "v=1; i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA", 0,
		  "v= ignored" },
	};
	static struct arc_sig sig;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *why = NULL;
		int rc = arc_sig_parse(cases[i].kind, cases[i].value, strlen(cases[i].value), &sig, &why);
		if (rc != cases[i].want)
			fail_msg("signature %zu (%s): got %d (%s)", i, cases[i].why, rc, why ? why : "");
	}
	const char *why;
	assert_int_equal(arc_sig_parse(ARC_SIG_SEAL, cases[0].value, strlen(cases[0].value), &sig, &why), 0);
	assert_string_equal(sig.domain, "example.org");
	assert_int_equal(sig.instance, 1);
	assert_int_equal(sig.cv, ARC_CV_NONE);
}

static void test_aar_prefix(void **state)
{
	static const struct {
		const char *value;
		int want;
	} cases[] = {
		{ " i=1; example.net; arc=none", 1 },
		{ "i=50;", 50 },
		{ " (comment) i (a (nested) one) = 2 (x) ; example.net", 2 },
		{ "\r\n\ti=3\r\n ;x", 3 },
		{ " i=0; x", -1 },
		{ " i=51; x", -1 },
		{ " i=1 x;", -1 },
		{ " i=1", -1 },
		{ " I=1; x", -1 },
		{ " x; i=1;", -1 },
		{ " (unclosed i=1;", -1 },
		{ " i=001;", -1 },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		unsigned instance = 0;
		const char *why = NULL;
		int rc = arc_aar_instance(cases[i].value, strlen(cases[i].value), &instance, &why);
		bool ok = cases[i].want < 0 ? rc == -1 : rc == 0 && instance == (unsigned)cases[i].want;
		if (!ok)
			fail_msg("AAR \"%s\": got %d, i=%u", cases[i].value, rc, instance);
	}
}

static void test_key_records(void **state)
{
	static const struct {
		const char *txt;	/* "@": the Ed25519 key's p= value */
		int want;
		const char *why;
	} cases[] = {
		{ "v=DKIM1; k=ed25519; p=@", 0, "plain" },
		{ "k=ed25519; p=@", 0, "no v=" },
		{ "v=DKIM1; k=ed25519; h=sha1:sha256; s=email; t=y:s; n=notes; p=@", 0, "every tag" },
		{ "v=DKIM1; k=ed25519; s=*; p=@", 0, "s=*" },
		{ "k=ed25519; v=DKIM1; p=@", -1, "v= not first" },
		{ "v=DKIM2; k=ed25519; p=@", -1, "v= not DKIM1" },
		{ "v=DKIM1; k=ed25519; h=sha1; p=@", -1, "h= without sha256" },
		{ "v=DKIM1; k=ed25519; s=tlsrpt; p=@", -1, "s= without email" },
		{ "v=DKIM1; k=dsa; p=@", -1, "unknown k=" },
		{ "v=DKIM1; p=@", -1, "k= defaults to rsa, p= is Ed25519" },
		{ "v=DKIM1; k=ed25519; p=", -1, "revoked" },
		{ "v=DKIM1; k=ed25519", -1, "no p=" },
		{ "v=DKIM1; k=ed25519; p=AAAA", -1, "p= too short for Ed25519" },
		{ "v=DKIM1; k=ed25519; p=not_base64", -1, "p= not base64" },
		{ "v=DKIM1; k=ed25519; p=@; p=@", -1, "duplicate tag" },
	};
	const char *ed_p = strstr(ed_key.txt, "p=") + 2;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct strbuf txt = STRBUF_INIT;
		struct dkim_pubkey *key = NULL;
		const char *why = NULL;
		for (const char *c = cases[i].txt; *c != '\0'; c++)
			if (*c == '@')
				strbuf_append_str(&txt, ed_p);
			else
				strbuf_append_char(&txt, *c);
		int rc = dkim_pubkey_parse(txt.data, txt.len, &key, &why);
		strbuf_release(&txt);
		if (rc != cases[i].want)
			fail_msg("key record %zu (%s): got %d (%s)", i, cases[i].why, rc, why ? why : "");
		if (rc == 0) {
			assert_int_equal(key->type, DKIM_KEY_ED25519);
			assert_int_equal(key->bits, 256);
		} else {
			assert_null(key);
			assert_non_null(why);
		}
		dkim_pubkey_free(&key);
		assert_null(key);
	}

	/* the RSA record, and the same key as a bare PKCS#1 RSAPublicKey */
	struct dkim_pubkey *key = NULL;
	const char *why;
	assert_int_equal(dkim_pubkey_parse(rsa_key.txt, strlen(rsa_key.txt), &key, &why), 0);
	assert_int_equal(key->type, DKIM_KEY_RSA);
	assert_int_equal(key->bits, 2048);
	dkim_pubkey_free(&key);
	unsigned char der[1024], *p = der;
	char pkcs1[1400], txt[1500];
	int n = i2d_PublicKey(rsa_key.pkey, &p);
	assert_true(n > 0);
	b64(der, (size_t)n, pkcs1);
	assert_true(snprintf(txt, sizeof(txt), "k=rsa; p=%s", pkcs1) < (int)sizeof(txt));
	assert_int_equal(dkim_pubkey_parse(txt, strlen(txt), &key, &why), 0);
	assert_int_equal(key->bits, 2048);
	dkim_pubkey_free(&key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519_chain),
		cmocka_unit_test(test_mixed_algorithms),
		cmocka_unit_test(test_footer_oldest_pass),
		cmocka_unit_test(test_body_length),
		cmocka_unit_test(test_ams_signing_arc_fields),
		cmocka_unit_test(test_key_lookup_failures),
		cmocka_unit_test(test_no_chain),
		cmocka_unit_test(test_eoh_decides_structure),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_sig_fields),
		cmocka_unit_test(test_aar_prefix),
		cmocka_unit_test(test_key_records),
	};
	return cmocka_run_group_tests(tests, setup_keys, free_keys);
}
