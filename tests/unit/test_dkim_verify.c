/*
 * test_dkim_verify.c - DKIM verification (mailauth/dkim_verify.c).
 *
 * Keys come from an in-process fake lookup. The RFC 8463 Appendix A
 * message (an Ed25519 and an RSA signature, keys from the RFC) must pass,
 * and fail once its body or a signed header field changes. The table
 * covers RFC 6376, RFC 8301 and RFC 8463 corner by corner with messages
 * signed here by a small signer of the test's own (any tags, any key,
 * rsa-sha1 too; OpenSSL does the signing, the header fields are picked
 * for h= by code of its own), then tampered with or not. Policy cases
 * (rsa-sha1, short RSA keys, too many signatures), key lookup outcomes
 * and threads follow.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/clock.h"
#include "common/strbuf.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/dkim_crypto.h"
#include "mailauth/dkim_keycache.h"
#include "mailauth/dkim_tags.h"
#include "mailauth/dkim_verify.h"
#include "mailauth/msgsplit.h"
#include "unit.h"
#include "common/xalloc.h"

#define MAX_KEYS 8

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
static struct dkim_verify *run(const char *msg, struct fake_dns *dns, const struct dkim_verify_options *opt)
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

/* s with the first from replaced by to (which must be there). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	if (at == NULL)
		fail_msg("\"%s\" not found", from);
	struct strbuf sb = STRBUF_INIT;
	strbuf_append(&sb, s, (size_t)(at - s));
	strbuf_append_str(&sb, to);
	strbuf_append_str(&sb, at + strlen(from));
	return strbuf_detach(&sb);
}

static char *replace_free(char *s, const char *from, const char *to)
{
	char *r = replace(s, from, to);
	free(s);
	return r;
}

/* ---- the test's own signer ---- */

enum key_id { K_RAW = -1, K_RSA, K_RSA512, K_ED, K_COUNT };

struct test_key {
	EVP_PKEY *pkey;
	char *p;		/* its p= value */
};

static struct test_key keys[K_COUNT];

static const char plain_headers[] =
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.net\r\n"
	"Subject: policy   check\r\n"
	"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
	"Message-ID: <p@example.org>\r\n";
static const char plain_body[] = "Hello Bob,\r\nthis message is signed.\r\n\r\n";
static const char key_name[] = "sel._domainkey.example.org";

static char *b64(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static void make_key(struct test_key *k, size_t rsa_bits)
{
	unsigned char der[1200], *p = der;
	size_t len = sizeof(der);

	k->pkey = rsa_bits ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", rsa_bits)
		: EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k->pkey);
	if (rsa_bits == 0) {
		assert_int_equal(EVP_PKEY_get_raw_public_key(k->pkey, der, &len), 1);
	} else {
		int n = i2d_PUBKEY(k->pkey, NULL);
		assert_true(n > 0 && (size_t)n <= sizeof(der));
		len = (size_t)i2d_PUBKEY(k->pkey, &p);
	}
	k->p = b64(der, len);
}

/* s with every "%KEY%", "%RSA%", "%RSA512%" and "%ED%" replaced by a p=. */
static char *expand_keys(const char *s, enum key_id signer)
{
	static const struct { const char *mark; enum key_id key; } marks[] = {
		{ "%RSA%", K_RSA }, { "%RSA512%", K_RSA512 }, { "%ED%", K_ED },
	};
	char *out = xstrdup(s);
	while (strstr(out, "%KEY%") != NULL)
		out = replace_free(out, "%KEY%", keys[signer].p);
	for (size_t i = 0; i < N_ELEMENTS(marks); i++)
		while (strstr(out, marks[i].mark) != NULL)
			out = replace_free(out, marks[i].mark, keys[marks[i].key].p);
	return out;
}

/* s with white space folded in after its first n characters. */
static char *fold_at(char *s, size_t n, const char *fws)
{
	struct strbuf sb = STRBUF_INIT;
	assert_true(strlen(s) > n);
	strbuf_append(&sb, s, n);
	strbuf_append_str(&sb, fws);
	strbuf_append_str(&sb, s + n);
	free(s);
	return strbuf_detach(&sb);
}

/* The base64 body hash of body for bh=, over the first l= bytes when the
 * template has l= (the whole body when it is shorter: the verifier must
 * refuse that before comparing). */
static char *body_hash(const char *body, enum dkim_canon_mode mode, const EVP_MD *md,
		       const struct dkim_tag *l)
{
	struct dkim_canon_body *cb = dkim_canon_body_new(mode, md);
	unsigned char digest[EVP_MAX_MD_SIZE];
	int prefix = -1;

	if (l != NULL) {
		char *n = xstrndup(l->value, l->value_len);
		prefix = dkim_canon_body_add_prefix(cb, strtoull(n, NULL, 10));
		free(n);
	}
	dkim_canon_body_update(cb, body, strlen(body));
	int len = dkim_canon_body_final(cb, digest);
	assert_true(len > 0);
	if (prefix >= 0 && dkim_canon_body_prefix(cb, prefix, digest) > 0)
		len = EVP_MD_get_size(md);
	dkim_canon_body_free(&cb);
	return b64(digest, (size_t)len);
}

struct fields {
	struct { const char *name, *value; size_t name_len, value_len; bool used; } f[16];
	size_t n;
};

static void collect_field(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct fields *fs = ctx;
	assert_true(fs->n < N_ELEMENTS(fs->f));
	fs->f[fs->n].name = name;
	fs->f[fs->n].name_len = name_len;
	fs->f[fs->n].value = value;
	fs->f[fs->n].value_len = value_len;
	fs->f[fs->n].used = false;
	fs->n++;
}

/* Appends the canonical fields h= picks: for each name, the bottom-most
 * field of that name not picked yet; none when there is none left. */
static void signed_fields(struct strbuf *data, const char *headers, const struct dkim_tag *h,
			  enum dkim_canon_mode mode)
{
	struct fields fs = { .n = 0 };
	size_t pos = 0, len;
	const char *item;

	msgsplit(headers, strlen(headers), collect_field, &fs);
	while (dkim_tags_next_item(h, &pos, &item, &len)) {
		for (size_t k = fs.n; k-- > 0;) {
			if (fs.f[k].used || fs.f[k].name_len != len || strncasecmp(fs.f[k].name, item, len) != 0)
				continue;
			fs.f[k].used = true;
			dkim_canon_header_append(data, mode, fs.f[k].name, fs.f[k].name_len, fs.f[k].value,
						 fs.f[k].value_len);
			strbuf_append(data, "\r\n", 2);
			break;
		}
	}
}

/* RSA: PKCS #1 v1.5 over data with md; Ed25519: over SHA-256(data). */
static char *sign_data(enum key_id k, const EVP_MD *md, const struct strbuf *data)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[1024], hash[EVP_MAX_MD_SIZE];
	unsigned int hash_len = 0;
	size_t sig_len = sizeof(sig);

	assert_non_null(ctx);
	if (k == K_ED) {
		assert_int_equal(EVP_Digest(data->data, data->len, hash, &hash_len, EVP_sha256(), NULL), 1);
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, keys[k].pkey), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, hash, hash_len), 1);
	} else {
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, keys[k].pkey), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)data->data, data->len), 1);
	}
	EVP_MD_CTX_free(ctx);
	return b64(sig, sig_len);
}

/* s with from replaced by to if it is there, else a copy. */
static char *replace_if(const char *s, const char *from, const char *to)
{
	return strstr(s, from) != NULL ? replace(s, from, to) : xstrdup(s);
}

/* "DKIM-Signature: ...\r\n" signed by key k over headers and body, with
 * the tags of tmpl, where %BH% and %B% stand for bh= and b= ("; bh=%BH%;
 * b=%B%" is appended when it has no %B%). fold: FWS inside both. */
static char *sign_field(const char *tmpl_in, enum key_id k, const char *headers, const char *body, bool fold)
{
	struct strbuf t = STRBUF_INIT;
	struct dkim_tag_list tags;
	const char *why;

	strbuf_append_str(&t, tmpl_in);
	if (strstr(tmpl_in, "%B%") == NULL)
		strbuf_append_str(&t, "; bh=%BH%; b=%B%");
	char *tmpl = strbuf_detach(&t);
	if (dkim_tags_parse(tmpl, strlen(tmpl), &tags, &why) < 0)
		fail_msg("template \"%s\": %s", tmpl, why);
	const struct dkim_tag *a = dkim_tags_find(&tags, "a"), *c = dkim_tags_find(&tags, "c");
	const EVP_MD *md = a != NULL && dkim_tags_value_is(a, "rsa-sha1") ? EVP_sha1() : EVP_sha256();
	enum dkim_canon_mode hc = DKIM_CANON_SIMPLE, bc = DKIM_CANON_SIMPLE;
	if (c != NULL)
		assert_int_equal(dkim_canon_mode_parse(c->value, c->value_len, &hc, &bc), 0);
	char *bh = body_hash(body, bc, md, dkim_tags_find(&tags, "l"));
	if (fold)
		bh = fold_at(bh, 10, " \r\n\t ");
	char *unsigned_value = replace_free(replace_if(tmpl, "%BH%", bh), "%B%", "");
	struct strbuf data = STRBUF_INIT, self = STRBUF_INIT, field = STRBUF_INIT;
	signed_fields(&data, headers, dkim_tags_find(&tags, "h"), hc);
	strbuf_appendf(&self, " %s", unsigned_value);
	dkim_canon_header_append(&data, hc, "DKIM-Signature", 14, self.data, self.len);
	char *b = sign_data(k, md, &data);
	if (fold)
		b = fold_at(b, 20, "\r\n  ");
	char *value = replace_free(replace_if(tmpl, "%BH%", bh), "%B%", b);
	strbuf_appendf(&field, "DKIM-Signature: %s\r\n", value);
	free(value);
	free(b);
	free(unsigned_value);
	free(bh);
	free(tmpl);
	strbuf_release(&data);
	strbuf_release(&self);
	return strbuf_detach(&field);
}

/* fields (each "Name: value\r\n"), the plain header block, the body. */
static char *message_with(const char *fields)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_appendf(&sb, "%s%s\r\n%s", fields, plain_headers, plain_body);
	return strbuf_detach(&sb);
}

static char *signed_msg(const char *tmpl, enum key_id k)
{
	char *field = sign_field(tmpl, k, plain_headers, plain_body, false);
	char *msg = message_with(field);
	free(field);
	return msg;
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

/* ---- the table: RFC 6376, RFC 8301, RFC 8463 corner by corner ---- */

#define BASE "v=1; d=example.org; s=sel; h=from:to:subject:date:message-id"
#define RSA "a=rsa-sha256; " BASE
#define ED "a=ed25519-sha256; " BASE
#define RAW "a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA"	/* after v=1 */
#define ADD_BELOW "Message-ID: <p@example.org>\r\n"

static const struct vcase {
	const char *why;
	enum key_id key;	/* signs; K_RAW: tags is the field's value as it is */
	const char *tags;	/* sign_field()'s template */
	/* the record at sel._domainkey.example.org (expand_keys()); NULL:
	 * the key's own; "NOTFOUND" and "TEMPFAIL": a lookup that says so */
	const char *record;
	const char *from, *to;	/* replaced in the signed message: tampering */
	enum dkim_result want;
	const char *reason;	/* found in the reason; NULL: anything */
	struct dkim_verify_options opt;
	bool fold;		/* FWS inside b= and bh= */
	bool testing;		/* with pass: the key has t=y */
} vcases[] = {
	/* algorithms and canonicalizations */
	{ "RSA, no c= (simple/simple)", K_RSA, RSA, .want = DKIM_RESULT_PASS },
	{ "RSA, relaxed/relaxed", K_RSA, RSA "; c=relaxed/relaxed", .want = DKIM_RESULT_PASS },
	{ "RSA, simple/relaxed", K_RSA, RSA "; c=simple/relaxed", .want = DKIM_RESULT_PASS },
	{ "RSA, relaxed/simple", K_RSA, RSA "; c=relaxed/simple", .want = DKIM_RESULT_PASS },
	{ "RSA, c=relaxed (the body simple)", K_RSA, RSA "; c=relaxed", .want = DKIM_RESULT_PASS },
	{ "Ed25519, relaxed/relaxed", K_ED, ED "; c=relaxed/relaxed", .want = DKIM_RESULT_PASS },
	{ "Ed25519, simple/simple", K_ED, ED "; c=simple/simple", .want = DKIM_RESULT_PASS },
	{ "c= in capitals", K_ED, ED "; c=Relaxed/SIMPLE", .want = DKIM_RESULT_PASS },
	{ "relaxed header: white space changed", K_RSA, RSA "; c=relaxed/simple",
	  .from = "Subject: policy   check", .to = "Subject:  policy check ",
	  .want = DKIM_RESULT_PASS },
	{ "simple header: the same change", K_RSA, RSA "; c=simple/relaxed",
	  .from = "Subject: policy   check", .to = "Subject:  policy check ",
	  .want = DKIM_RESULT_FAIL, .reason = "did not verify" },
	{ "relaxed body: white space changed", K_RSA, RSA "; c=simple/relaxed",
	  .from = "Hello Bob,", .to = "Hello  Bob,\t", .want = DKIM_RESULT_PASS },
	{ "simple body: the same change", K_ED, ED "; c=relaxed/simple",
	  .from = "Hello Bob,", .to = "Hello  Bob,\t",
	  .want = DKIM_RESULT_FAIL, .reason = "body hash" },
	{ "simple body: trailing empty lines added", K_RSA, RSA,
	  .from = "signed.\r\n\r\n", .to = "signed.\r\n\r\n\r\n\r\n", .want = DKIM_RESULT_PASS },
	{ "a signed field changed", K_RSA, RSA "; c=relaxed/relaxed",
	  .from = "Subject: policy", .to = "Subject: Policy",
	  .want = DKIM_RESULT_FAIL, .reason = "did not verify" },
	{ "the body changed", K_ED, ED,
	  .from = "Hello Bob", .to = "Hello Eve", .want = DKIM_RESULT_FAIL, .reason = "body hash" },
	{ "bh= of another body", K_RSA,
	  RSA "; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=%B%", .want = DKIM_RESULT_FAIL,
	  .reason = "body hash" },
	{ "bh= and b= made up", K_RAW, "v=1; " RAW, "v=DKIM1; p=%RSA%", .want = DKIM_RESULT_FAIL,
	  .reason = "body hash" },
	{ "FWS inside b= and bh=, relaxed", K_RSA, RSA "; c=relaxed/relaxed", .want = DKIM_RESULT_PASS,
	  .fold = true },
	{ "FWS inside b= and bh=, simple", K_ED, ED, .want = DKIM_RESULT_PASS, .fold = true },
	{ "b= not the last tag", K_RSA, "v=1; a=rsa-sha256; b=%B%; d=example.org; bh=%BH%; s=sel; h=from",
	  .want = DKIM_RESULT_PASS },
	{ "unknown tags ignored", K_RSA, RSA "; foo=bar; z=From:alice", .want = DKIM_RESULT_PASS },
	{ "q=dns/txt", K_RSA, RSA "; q=dns/txt", .want = DKIM_RESULT_PASS },
	/* header selection (RFC 6376 5.4.2) */
	{ "h= names a field that is not there", K_RSA, RSA ":reply-to", .want = DKIM_RESULT_PASS },
	{ "... which is then added", K_RSA, RSA ":reply-to",
	  .from = ADD_BELOW, .to = ADD_BELOW "Reply-To: eve@example.net\r\n",
	  .want = DKIM_RESULT_FAIL, .reason = "did not verify" },
	{ "a field h= does not name added", K_RSA, RSA,
	  .from = ADD_BELOW, .to = ADD_BELOW "Reply-To: eve@example.net\r\n",
	  .want = DKIM_RESULT_PASS },
	{ "a From added below: picked bottom-up", K_RSA, RSA,
	  .from = ADD_BELOW, .to = ADD_BELOW "From: Eve <eve@example.org>\r\n",
	  .want = DKIM_RESULT_FAIL, .reason = "did not verify" },
	{ "a From added above: the signed one is still picked", K_RSA, RSA,
	  .from = "From: Alice", .to = "From: Eve <eve@example.org>\r\nFrom: Alice",
	  .want = DKIM_RESULT_PASS },
	{ "From oversigned, one added above", K_ED, ED ":from",
	  .from = "From: Alice", .to = "From: Eve <eve@example.org>\r\nFrom: Alice",
	  .want = DKIM_RESULT_FAIL, .reason = "did not verify" },
	{ "h= names DKIM-Signature: its own field is not picked", K_RSA, RSA ":dkim-signature",
	  .want = DKIM_RESULT_PASS },
	/* the signature's tags (RFC 6376 3.5) */
	{ "v= missing", K_RAW, RAW, .want = DKIM_RESULT_PERMERROR, .reason = "v= is missing" },
	{ "V=1: tags are case-sensitive", K_RAW, "V=1; " RAW, .want = DKIM_RESULT_PERMERROR,
	  .reason = "v= is missing" },
	{ "v=2", K_RAW, "v=2; " RAW, .want = DKIM_RESULT_PERMERROR, .reason = "v= is not 1" },
	{ "a= missing", K_RAW, "v=1; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA",
	  .want = DKIM_RESULT_PERMERROR, .reason = "a= is missing" },
	{ "b= missing", K_RAW, "v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA",
	  .want = DKIM_RESULT_PERMERROR, .reason = "b= is missing" },
	{ "bh= missing", K_RAW, "v=1; a=rsa-sha256; d=example.org; s=sel; h=from; b=AAAA",
	  .want = DKIM_RESULT_PERMERROR, .reason = "bh= is missing" },
	{ "d= missing", K_RAW, "v=1; a=rsa-sha256; s=sel; h=from; bh=AAAA; b=AAAA",
	  .want = DKIM_RESULT_PERMERROR, .reason = "d= is missing" },
	{ "h= missing", K_RAW, "v=1; a=rsa-sha256; d=example.org; s=sel; bh=AAAA; b=AAAA",
	  .want = DKIM_RESULT_PERMERROR, .reason = "h= is missing" },
	{ "s= missing", K_RAW, "v=1; a=rsa-sha256; d=example.org; h=from; bh=AAAA; b=AAAA",
	  .want = DKIM_RESULT_PERMERROR, .reason = "s= is missing" },
	{ "a tag twice", K_RAW, "v=1; d=example.org; " RAW, .want = DKIM_RESULT_PERMERROR,
	  .reason = "twice" },
	{ "an unknown algorithm", K_RAW, "v=1; a=rsa-sha512; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA",
	  .want = DKIM_RESULT_PERMERROR, .reason = "a= is not" },
	{ "b= empty", K_RAW, "v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=",
	  .want = DKIM_RESULT_PERMERROR, .reason = "b= is empty" },
	{ "b= not base64", K_RAW, "v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=A%A",
	  .want = DKIM_RESULT_PERMERROR, .reason = "b= is not base64" },
	{ "d= not a domain", K_RAW, "v=1; a=rsa-sha256; d=exa_mple..org; s=sel; h=from; bh=AAAA; b=AAAA",
	  .want = DKIM_RESULT_PERMERROR, .reason = "d= is not a domain" },
	{ "a tag without =", K_RAW, "v=1; " RAW "; l", .want = DKIM_RESULT_PERMERROR, .reason = "no '='" },
	{ "From not in h=", K_RSA, "v=1; a=rsa-sha256; d=example.org; s=sel; h=to:subject",
	  .want = DKIM_RESULT_PERMERROR, .reason = "does not name From" },
	{ "c= unknown", K_RAW, "v=1; c=fancy; " RAW, .want = DKIM_RESULT_PERMERROR, .reason = "c= is not" },
	{ "q= without dns/txt", K_RSA, RSA "; q=https/json", .want = DKIM_RESULT_PERMERROR,
	  .reason = "q= does not offer" },
	{ "i= = d=", K_RSA, RSA "; i=alice@example.org", .want = DKIM_RESULT_PASS },
	{ "i= a subdomain of d=", K_RSA, RSA "; i=@mail.Example.ORG", .want = DKIM_RESULT_PASS },
	{ "i= outside d=", K_RSA, RSA "; i=@example.net", .want = DKIM_RESULT_PERMERROR,
	  .reason = "i= is not d=" },
	{ "i= a look-alike of d=", K_RSA, RSA "; i=@badexample.org", .want = DKIM_RESULT_PERMERROR,
	  .reason = "i= is not d=" },
	{ "i= without @", K_RSA, RSA "; i=example.org", .want = DKIM_RESULT_PERMERROR,
	  .reason = "i= is not an identity" },
	{ "t= and x= ahead", K_RSA, RSA "; t=1600000000; x=99999999999", .want = DKIM_RESULT_PASS },
	{ "x= before t=", K_RSA, RSA "; t=1600000000; x=1599999999", .want = DKIM_RESULT_PERMERROR,
	  .reason = "x= is before t=" },
	{ "expired x=", K_RSA, RSA "; t=1000000000; x=1000000100", .want = DKIM_RESULT_FAIL,
	  .reason = "expired" },
	{ "t= of 13 digits", K_RSA, RSA "; t=1600000000000", .want = DKIM_RESULT_PERMERROR,
	  .reason = "t= is not a timestamp" },
	{ "l= shorter than the body, text changed after it", K_RSA, RSA "; l=12",
	  .from = "message is signed", .to = "message was changed", .want = DKIM_RESULT_PASS },
	{ "l= shorter than the body, text changed within it", K_ED, ED "; c=relaxed/relaxed; l=12",
	  .from = "Hello Bob", .to = "Hello Eve", .want = DKIM_RESULT_FAIL, .reason = "body hash" },
	{ "l= longer than the body", K_RSA, RSA "; l=1000", .want = DKIM_RESULT_FAIL,
	  .reason = "l= is longer than the body" },
	{ "l= not a number", K_RAW, "v=1; l=ten; " RAW, .want = DKIM_RESULT_PERMERROR, .reason = "l= is not" },
	/* key records (RFC 6376 3.6.1, RFC 8463) */
	{ "key revoked (p= empty)", K_RSA, RSA, "v=DKIM1; k=rsa; p=", .want = DKIM_RESULT_PERMERROR,
	  .reason = "revoked" },
	{ "key k=ed25519, a=rsa-sha256", K_RSA, RSA, "v=DKIM1; k=ed25519; p=%ED%",
	  .want = DKIM_RESULT_PERMERROR, .reason = "k= does not match a=" },
	{ "key k=rsa, a=ed25519-sha256", K_ED, ED, "v=DKIM1; k=rsa; p=%RSA%",
	  .want = DKIM_RESULT_PERMERROR, .reason = "k= does not match a=" },
	{ "Ed25519 key without k=", K_ED, ED, "v=DKIM1; p=%ED%", .want = DKIM_RESULT_PERMERROR,
	  .reason = "not an RSA key" },
	{ "key k=dsa", K_RSA, RSA, "v=DKIM1; k=dsa; p=%RSA%", .want = DKIM_RESULT_PERMERROR,
	  .reason = "unknown key type" },
	{ "key h=sha1", K_RSA, RSA, "v=DKIM1; h=sha1; p=%RSA%", .want = DKIM_RESULT_PERMERROR,
	  .reason = "h= does not allow sha256" },
	{ "key h=sha1:sha256", K_RSA, RSA, "v=DKIM1; h=sha1 : sha256; p=%RSA%", .want = DKIM_RESULT_PASS },
	{ "key s=other", K_ED, ED, "v=DKIM1; k=ed25519; s=other; p=%ED%", .want = DKIM_RESULT_PERMERROR,
	  .reason = "s= does not allow email" },
	{ "key s=email", K_ED, ED, "v=DKIM1; k=ed25519; s=email; p=%ED%", .want = DKIM_RESULT_PASS },
	{ "key s=*", K_RSA, RSA, "v=DKIM1; s=*; p=%RSA%", .want = DKIM_RESULT_PASS },
	{ "key v= not first", K_RSA, RSA, "k=rsa; v=DKIM1; p=%RSA%", .want = DKIM_RESULT_PERMERROR,
	  .reason = "v= is not the first tag" },
	{ "key without v=, with notes", K_RSA, RSA, "k=rsa; n=a note; p=%RSA%", .want = DKIM_RESULT_PASS },
	{ "key p= not base64", K_RSA, RSA, "v=DKIM1; p=%%%", .want = DKIM_RESULT_PERMERROR,
	  .reason = "p= is not base64" },
	{ "key record not a tag list", K_RSA, RSA, "hello world", .want = DKIM_RESULT_PERMERROR,
	  .reason = "key record" },
	{ "key t=y", K_RSA, RSA, "v=DKIM1; t=y; p=%RSA%", .want = DKIM_RESULT_PASS, .testing = true },
	{ "key t=s, i= a subdomain", K_RSA, RSA "; i=@mail.example.org", "v=DKIM1; t=s; p=%RSA%",
	  .want = DKIM_RESULT_PERMERROR, .reason = "t=s" },
	{ "key t=s, i= = d=", K_RSA, RSA "; i=@example.org", "v=DKIM1; t=s; p=%RSA%",
	  .want = DKIM_RESULT_PASS },
	{ "key t=y:s, no i=", K_ED, ED, "v=DKIM1; k=ed25519; t=y:s; p=%ED%", .want = DKIM_RESULT_PASS,
	  .testing = true },
	{ "key not found", K_RSA, RSA, "NOTFOUND", .want = DKIM_RESULT_PERMERROR, .reason = "no key" },
	{ "key lookup failed", K_ED, ED, "TEMPFAIL", .want = DKIM_RESULT_TEMPERROR, .reason = "temporarily" },
	/* RFC 8301 */
	{ "rsa-sha1", K_RSA, "a=rsa-sha1; " BASE, .want = DKIM_RESULT_POLICY, .reason = "rsa-sha1" },
	{ "rsa-sha1, configured to fail", K_RSA, "a=rsa-sha1; " BASE, .want = DKIM_RESULT_FAIL,
	  .reason = "rsa-sha1", .opt = { .sha1_result = DKIM_RESULT_FAIL } },
	{ "RSA-512", K_RSA512, RSA, .want = DKIM_RESULT_PERMERROR, .reason = "RSA key of 512 bits, under 1024" },
	{ "RSA-512, configured as policy", K_RSA512, RSA, .want = DKIM_RESULT_POLICY, .reason = "512 bits",
	  .opt = { .short_key_result = DKIM_RESULT_POLICY } },
	{ "RSA-512 and a changed body: fail first", K_RSA512, RSA,
	  .from = "Hello Bob", .to = "Hello Eve", .want = DKIM_RESULT_FAIL, .reason = "body hash" },
	{ "RSA-2048 under a minimum of 4096", K_RSA, RSA, .want = DKIM_RESULT_PERMERROR,
	  .reason = "2048 bits, under 4096", .opt = { .min_rsa_bits = 4096 } },
	{ "Ed25519 under a minimum of 4096: RSA only", K_ED, ED, .want = DKIM_RESULT_PASS,
	  .opt = { .min_rsa_bits = 4096 } },
};

static char *vcase_message(const struct vcase *c)
{
	char *field, *msg;

	if (c->key == K_RAW) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_appendf(&sb, "DKIM-Signature: %s\r\n", c->tags);
		field = strbuf_detach(&sb);
	} else {
		field = sign_field(c->tags, c->key, plain_headers, plain_body, c->fold);
	}
	msg = message_with(field);
	free(field);
	if (c->from != NULL)
		msg = replace_free(msg, c->from, c->to);
	return msg;
}

static void test_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(vcases); i++) {
		const struct vcase *c = &vcases[i];
		enum key_id signer = c->key == K_RAW ? K_RSA : c->key;
		const char *record = c->record != NULL ? c->record
			: signer == K_ED ? "v=DKIM1; k=ed25519; p=%KEY%" : "v=DKIM1; k=rsa; p=%KEY%";
		char *txt = expand_keys(record, signer), *msg = vcase_message(c);
		struct fake_dns dns = { .count = 0 };
		if (strcmp(record, "TEMPFAIL") == 0)
			fake_add(&dns, key_name, NULL);
		else if (strcmp(record, "NOTFOUND") != 0)
			fake_add(&dns, key_name, txt);
		struct dkim_verify *v = run(msg, &dns, &c->opt);
		const struct dkim_verify_result *r = dkim_verify_result(v);
		if (r->count != 1 || r->sigs[0].result != c->want ||
		    (c->reason != NULL && strstr(r->sigs[0].reason, c->reason) == NULL) ||
		    (c->want == DKIM_RESULT_PASS && (r->sigs[0].reason[0] != '\0' || r->sigs[0].testing != c->testing)))
			fail_msg("case %zu (%s): %s \"%s\"%s, want %s \"%s\"\n%s", i, c->why,
				 r->count ? dkim_result_name(r->sigs[0].result) : "no signature",
				 r->count ? r->sigs[0].reason : "", r->count && r->sigs[0].testing ? " testing" : "",
				 dkim_result_name(c->want), c->reason ? c->reason : "", msg);
		dkim_verify_free(&v);
		free(txt);
		free(msg);
	}
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

/* libopendkim 2.11 copied a key record into a 1024-byte buffer and
 * refused longer ones; records are as long as DNS allows now. */
static void test_long_key_record(void **state)
{
	struct strbuf txt = STRBUF_INIT;
	strbuf_append_str(&txt, "v=DKIM1; k=rsa; n=");
	for (int i = 0; i < 120; i++)
		strbuf_append_str(&txt, "a note. ");
	strbuf_appendf(&txt, "; p=%s", keys[K_RSA].p);
	assert_true(txt.len > 1024);
	char *msg = signed_msg(RSA, K_RSA);
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, key_name, strbuf_str(&txt));
	struct dkim_verify *v = run(msg, &dns, NULL);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_PASS, "");
	assert_int_equal(dkim_verify_result(v)->sigs[0].key_bits, 2048);
	dkim_verify_free(&v);
	free(msg);
	strbuf_release(&txt);
}

/* A record seen before costs no decoding: the second message's keys come
 * from the process-wide cache, though each message asks DNS again. */
static void test_key_cache(void **state)
{
	struct dkim_keycache_stats st;

	dkim_keycache_clear();
	for (int round = 0; round < 2; round++) {
		struct fake_dns dns = rfc8463_dns();
		struct dkim_verify *v = run(rfc8463_msg, &dns, NULL);
		assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_PASS, "");
		assert_sig(dkim_verify_result(v), 1, DKIM_RESULT_PASS, "");
		assert_int_equal(dns.lookups, 2);
		dkim_verify_free(&v);
		dkim_keycache_stats(&st);
		assert_int_equal(st.misses, 2);
		assert_int_equal(st.hits, round == 0 ? 0 : 2);
	}
}

/* x= and t= against the clock, with DKIM_VERIFY_CLOCK_DRIFT for the
 * signer's: made from the current time, so any time of day will do. */
static void test_clock_drift(void **state)
{
	static const struct {
		const char *tag;	/* its value: now plus the offset */
		long long offset;
		enum dkim_result want;
		const char *reason;
	} cases[] = {
		{ "x", -60, DKIM_RESULT_PASS, "" },
		{ "x", -(DKIM_VERIFY_CLOCK_DRIFT + 60), DKIM_RESULT_FAIL, "expired" },
		{ "t", 60, DKIM_RESULT_PASS, "" },
		{ "t", DKIM_VERIFY_CLOCK_DRIFT + 60, DKIM_RESULT_PERMERROR, "future" },
	};
	char *txt = expand_keys("p=%RSA%", K_RSA);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct strbuf tags = STRBUF_INIT;
		strbuf_append_str(&tags, RSA);
		strbuf_appendf(&tags, "; %s=%lld", cases[i].tag, (long long)clock_wall_s() + cases[i].offset);
		char *msg = signed_msg(strbuf_str(&tags), K_RSA);
		struct fake_dns dns = { .count = 0 };
		fake_add(&dns, key_name, txt);
		struct dkim_verify *v = run(msg, &dns, NULL);
		assert_sig(dkim_verify_result(v), 0, cases[i].want, cases[i].reason);
		dkim_verify_free(&v);
		free(msg);
		strbuf_release(&tags);
	}
	free(txt);
}

/* ---- RFC 8301 ---- */

static void test_rsa_sha1(void **state)
{
	char *msg = signed_msg("a=rsa-sha1; " BASE, K_RSA);
	struct fake_dns dns = { .count = 0 };
	char *txt = expand_keys("v=DKIM1; p=%RSA%", K_RSA);
	fake_add(&dns, key_name, txt);
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 1);
	assert_sig(r, 0, DKIM_RESULT_POLICY, "rsa-sha1");
	assert_string_equal(r->sigs[0].algorithm, "rsa-sha1");
	assert_string_equal(r->sigs[0].domain, "example.org");
	assert_int_equal(r->sigs[0].key_bits, 0);
	assert_int_equal(dns.lookups, 0);
	dkim_verify_free(&v);

	/* nothing else to check: the body is not needed */
	v = dkim_verify_new(lib, NULL, "x");
	size_t len = strlen(msg);
	msgsplit(msg, len, on_header, v);
	assert_false(dkim_verify_eoh(v));
	dkim_verify_end(v);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_POLICY, "rsa-sha1");
	dkim_verify_free(&v);
	free(txt);
	free(msg);
}

static void test_short_rsa_key(void **state)
{
	char *long_tags = replace(RSA, "s=sel", "s=long");
	char *short_sig = sign_field(RSA, K_RSA512, plain_headers, plain_body, false);
	char *long_sig = sign_field(long_tags, K_RSA, plain_headers, plain_body, false);
	struct strbuf fields = STRBUF_INIT;
	strbuf_appendf(&fields, "%s%s", long_sig, short_sig);
	char *msg = message_with(strbuf_str(&fields));
	char *short_txt = expand_keys("v=DKIM1; p=%RSA512%", K_RSA), *long_txt = expand_keys("p=%RSA%", K_RSA);
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, key_name, short_txt);
	fake_add(&dns, "long._domainkey.example.org", long_txt);
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_sig(r, 0, DKIM_RESULT_PASS, "");		/* the 2048-bit one, on top */
	assert_int_equal(r->sigs[0].key_bits, 2048);
	assert_sig(r, 1, DKIM_RESULT_PERMERROR, "512 bits");
	assert_int_equal(r->sigs[1].key_bits, 512);
	dkim_verify_free(&v);

	/* A configured minimum applies to RSA only: Ed25519 still passes. */
	struct fake_dns rfc = rfc8463_dns();
	v = run(rfc8463_msg, &rfc, &(struct dkim_verify_options){ .min_rsa_bits = 2048 });
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_PASS, "");
	assert_sig(dkim_verify_result(v), 1, DKIM_RESULT_PERMERROR, "1024 bits");
	dkim_verify_free(&v);
	free(short_txt);
	free(long_txt);
	free(msg);
	free(short_sig);
	free(long_sig);
	free(long_tags);
	strbuf_release(&fields);
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
	assert_string_equal(r->sigs[1].domain, "football.example.com");
	assert_int_equal(dns.lookups, 1);
	dkim_verify_free(&v);

	/* the default: 10 evaluated, the 11th and 12th not looked up */
	struct strbuf fields = STRBUF_INIT;
	char *sig = sign_field(ED, K_ED, plain_headers, plain_body, false);
	for (int i = 0; i < 12; i++)
		strbuf_append_str(&fields, sig);
	char *msg = message_with(strbuf_str(&fields)), *txt = expand_keys("k=ed25519; p=%ED%", K_ED);
	dns = (struct fake_dns){ .count = 0 };
	fake_add(&dns, key_name, txt);
	v = run(msg, &dns, NULL);
	r = dkim_verify_result(v);
	assert_int_equal(r->count, 12);
	for (size_t i = 0; i < 10; i++)
		assert_sig(r, i, DKIM_RESULT_PASS, "");
	assert_sig(r, 10, DKIM_RESULT_POLICY, "more than 10 signatures");
	assert_sig(r, 11, DKIM_RESULT_POLICY, "more than 10 signatures");
	assert_int_equal(dns.lookups, 1);
	dkim_verify_free(&v);
	free(txt);
	free(msg);
	free(sig);
	strbuf_release(&fields);
}

static void test_one_lookup_per_key(void **state)
{
	char *sig1 = sign_field(RSA, K_RSA, plain_headers, plain_body, false);
	char *sig2 = sign_field(RSA "; c=relaxed/relaxed", K_RSA, plain_headers, plain_body, false);
	struct strbuf fields = STRBUF_INIT;
	strbuf_appendf(&fields, "%s%s", sig1, sig2);
	char *msg = message_with(strbuf_str(&fields)), *txt = expand_keys("p=%RSA%", K_RSA);
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, key_name, txt);
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 2);
	assert_sig(r, 0, DKIM_RESULT_PASS, "");
	assert_sig(r, 1, DKIM_RESULT_PASS, "");
	assert_int_equal(dns.lookups, 1);
	dkim_verify_free(&v);

	/* a temporary failure is not asked again for the second signature */
	dns = (struct fake_dns){ .count = 0 };
	fake_add(&dns, key_name, NULL);
	v = run(msg, &dns, NULL);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_TEMPERROR, NULL);
	assert_sig(dkim_verify_result(v), 1, DKIM_RESULT_TEMPERROR, NULL);
	assert_int_equal(dns.lookups, 1);
	dkim_verify_free(&v);

	/* the selector's case does not make another pair */
	char *upper = replace(msg, "s=sel;", "s=SEL;");
	dns = (struct fake_dns){ .count = 0 };
	fake_add(&dns, key_name, txt);
	v = run(upper, &dns, NULL);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_FAIL, "did not verify");	/* s= is signed */
	assert_sig(dkim_verify_result(v), 1, DKIM_RESULT_PASS, "");
	assert_int_equal(dns.lookups, 1);
	dkim_verify_free(&v);
	free(upper);
	free(txt);
	free(msg);
	free(sig1);
	free(sig2);
	strbuf_release(&fields);
}

/* What a result names a signature by, from tags as written. */
static void test_descriptions(void **state)
{
	static const char field[] =
		"DKIM-Signature: v=1; a=RSA-SHA256; d=Example.ORG.; s=sel; h=to;\r\n"
		" bh=AAAA; b=\r\n  abcd efgh\tijkl\r\n mnop qrst\r\n";
	char *msg = message_with(field);
	struct fake_dns dns = { .count = 0 };
	struct dkim_verify *v = run(msg, &dns, NULL);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_sig(r, 0, DKIM_RESULT_PERMERROR, "does not name From");
	assert_string_equal(r->sigs[0].domain, "example.org");
	assert_string_equal(r->sigs[0].selector, "sel");
	assert_string_equal(r->sigs[0].algorithm, "rsa-sha256");
	assert_string_equal(r->sigs[0].b, "abcdefghijklmnop");
	assert_int_equal(r->sigs[0].key_bits, 0);
	assert_int_equal(dns.lookups, 0);
	dkim_verify_free(&v);
	free(msg);

	msg = message_with("DKIM-Signature: a=\xff\x01x; d=a b; s=sel.\r\n");
	v = run(msg, &dns, NULL);
	r = dkim_verify_result(v);
	assert_sig(r, 0, DKIM_RESULT_PERMERROR, "malformed");
	assert_string_equal(r->sigs[0].domain, "");
	assert_string_equal(r->sigs[0].selector, "");
	dkim_verify_free(&v);
	free(msg);
}

/* Past DKIM_VERIFY_MAX_HEADERS fields the signatures cannot be checked. */
static void test_too_many_fields(void **state)
{
	char *sig = sign_field(ED, K_ED, plain_headers, plain_body, false);
	char *txt = expand_keys("k=ed25519; p=%ED%", K_ED);
	struct strbuf fields = STRBUF_INIT;
	strbuf_append_str(&fields, sig);
	for (int i = 0; i < DKIM_VERIFY_MAX_HEADERS; i++)
		strbuf_appendf(&fields, "Received: hop %d\r\n", i);
	char *msg = message_with(strbuf_str(&fields));
	struct fake_dns dns = { .count = 0 };
	fake_add(&dns, key_name, txt);
	struct dkim_verify *v = run(msg, &dns, NULL);
	assert_sig(dkim_verify_result(v), 0, DKIM_RESULT_PERMERROR, "more header fields");
	assert_int_equal(dns.lookups, 0);
	dkim_verify_free(&v);
	free(msg);
	free(txt);
	free(sig);
	strbuf_release(&fields);
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

static int setup(void **state)
{
	char err[256];
	lib = dkim_verify_lib_new(err, sizeof(err));
	if (lib == NULL)
		fail_msg("%s", err);
	make_key(&keys[K_RSA], 2048);
	make_key(&keys[K_RSA512], 512);
	make_key(&keys[K_ED], 0);
	return 0;
}

static int teardown(void **state)
{
	dkim_verify_lib_free(&lib);
	assert_null(lib);
	for (size_t i = 0; i < K_COUNT; i++) {
		EVP_PKEY_free(keys[i].pkey);
		free(keys[i].p);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8463_pass),
		cmocka_unit_test(test_rfc8463_bare_lf),
		cmocka_unit_test(test_rfc8463_altered_body),
		cmocka_unit_test(test_rfc8463_altered_header),
		cmocka_unit_test(test_rfc8463_added_headers),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_revoked_missing_tempfail),
		cmocka_unit_test(test_bad_key_records),
		cmocka_unit_test(test_long_key_record),
		cmocka_unit_test(test_key_cache),
		cmocka_unit_test(test_clock_drift),
		cmocka_unit_test(test_rsa_sha1),
		cmocka_unit_test(test_short_rsa_key),
		cmocka_unit_test(test_max_signatures),
		cmocka_unit_test(test_one_lookup_per_key),
		cmocka_unit_test(test_malformed_signature),
		cmocka_unit_test(test_descriptions),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_unsigned_and_no_lookup),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_result_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
