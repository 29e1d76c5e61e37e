/*
 * test_dkim_sign.c - DKIM signing (mailauth/dkim_sign.c, mailauth/dkim_signkey.c,
 * mailauth/dkim_fold.c) and the signing half of mailauth/dkim_crypto.c.
 *
 * Signatures made here are checked by our verifier (mailauth/dkim_verify.h,
 * which shares only canonicalization with the signer; tests/integration
 * checks both against dkimpy, OpenDKIM and Mail::DKIM) with keys from an
 * in-process fake lookup: a table of messages, canonicalizations and key
 * sets must pass, and fail once the body changes or a From, Subject or
 * Reply-To is added (oversigning).
 * Keys are fresh files in a temporary directory: RSA-2048 (PKCS#1 and
 * PKCS#8) and Ed25519, and the ones the loader must refuse.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/clock.h"
#include "common/strbuf.h"
#include "mailauth/dkim_crypto.h"
#include "mailauth/dkim_fold.h"
#include "mailauth/dkim_sign.h"
#include "mailauth/dkim_signkey.h"
#include "mailauth/dkim_verify.h"
#include "mailauth/msgsplit.h"
#include "unit.h"
#include "common/xalloc.h"

#define DOMAIN "example.org"
#define RSA_NAME "rsa._domainkey." DOMAIN
#define ED_NAME "ed._domainkey." DOMAIN

static char dir[] = "/tmp/lr-dkim-sign-XXXXXX";
static struct dkim_verify_lib *lib;
static struct dkim_signkey *rsa, *ed, *rsa8;	/* rsa8: the same RSA key as PKCS#8 */
static char rsa_txt[1024], ed_txt[128];

/* ---- keys ---- */

static char *key_path(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_appendf(&sb, "%s/%s", dir, name);
	return strbuf_detach(&sb);
}

/* Writes pkey's private half to dir/name with mode; traditional: PKCS#1. */
static void write_key(EVP_PKEY *pkey, const char *name, mode_t mode, bool traditional)
{
	char *path = key_path(name);
	BIO *bio = BIO_new_file(path, "w");
	assert_non_null(bio);
	int ok = traditional ? PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL)
			     : PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
	assert_int_equal(ok, 1);
	BIO_free(bio);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static void write_text(const char *name, const char *text, mode_t mode)
{
	char *path = key_path(name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static void record(EVP_PKEY *pkey, bool ed25519, char *txt, size_t cap)
{
	unsigned char der[600], *p = der;
	size_t raw_len = 32;
	int len;
	struct strbuf b64 = STRBUF_INIT;

	if (ed25519) {
		assert_int_equal(EVP_PKEY_get_raw_public_key(pkey, der, &raw_len), 1);
		len = (int)raw_len;
	} else {
		assert_true(i2d_PUBKEY(pkey, NULL) <= (int)sizeof(der));
		len = i2d_PUBKEY(pkey, &p);
	}
	dkim_base64_encode(der, (size_t)len, &b64);
	int n = snprintf(txt, cap, "v=DKIM1; k=%s; p=%s", ed25519 ? "ed25519" : "rsa", b64.data);
	assert_true(n > 0 && (size_t)n < cap);
	strbuf_release(&b64);
}

static struct dkim_signkey *load_ok(const char *name)
{
	char err[512], *path = key_path(name);
	struct dkim_signkey *k = NULL;
	if (dkim_signkey_load(path, 0, &k, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	free(path);
	return k;
}

static int setup(void **state)
{
	char err[256];
	(void)state;
	assert_non_null(mkdtemp(dir));
	lib = dkim_verify_lib_new(err, sizeof(err));
	assert_non_null(lib);

	EVP_PKEY *r = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *e = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_true(r != NULL && e != NULL && small != NULL && ec != NULL);
	write_key(r, "rsa.pem", 0600, true);
	write_key(r, "rsa8.pem", 0640, false);
	write_key(e, "ed.pem", 0640, false);
	write_key(r, "open.pem", 0644, true);
	write_key(r, "writable.pem", 0602, true);
	write_key(small, "rsa512.pem", 0600, true);
	write_key(ec, "ec.pem", 0600, false);
	write_text("garbage.pem", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", 0600);
	char *sub = key_path("subdir");
	assert_int_equal(mkdir(sub, 0700), 0);
	free(sub);
	record(r, false, rsa_txt, sizeof(rsa_txt));
	record(e, true, ed_txt, sizeof(ed_txt));
	EVP_PKEY_free(r);
	EVP_PKEY_free(e);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
	rsa = load_ok("rsa.pem");
	rsa8 = load_ok("rsa8.pem");
	ed = load_ok("ed.pem");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dkim_signkey_free(&rsa);
	dkim_signkey_free(&rsa8);
	dkim_signkey_free(&ed);
	assert_null(rsa);
	dkim_verify_lib_free(&lib);
	struct strbuf cmd = STRBUF_INIT;
	strbuf_appendf(&cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd.data), 0);
	strbuf_release(&cmd);
	return 0;
}

/* ---- verification with our verifier ---- */

static enum dkim_key_status fake_lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	char name[256];
	int n = snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);
	(void)ctx;
	assert_true(n > 0 && (size_t)n < sizeof(name));
	if (strcasecmp(name, RSA_NAME) == 0)
		*txt_r = xstrdup(rsa_txt);
	else if (strcasecmp(name, ED_NAME) == 0)
		*txt_r = xstrdup(ed_txt);
	else
		return DKIM_KEY_NOTFOUND;
	return DKIM_KEY_OK;
}

static void verify_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);
	dkim_verify_header(ctx, n, v);
	free(n);
	free(v);
}

/* Our verifier's results for msg; returns the verifier (caller frees). */
static struct dkim_verify *verify(const char *msg)
{
	struct dkim_verify_options o = { .key_lookup = fake_lookup };
	struct dkim_verify *v = dkim_verify_new(lib, &o, "test");
	size_t len = strlen(msg), body = msgsplit(msg, len, verify_header, v);
	dkim_verify_body(v, msg + body, len - body);
	dkim_verify_end(v);
	return v;
}

/* ---- signing ---- */

static void sign_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);
	dkim_sign_header(ctx, n, v);
	free(n);
	free(v);
}

/* Signs msg (body in chunks of chunk bytes); returns the signature fields
 * followed by msg, or NULL with *why_r when the signer refused. */
static char *sign_msg(const char *msg, const struct dkim_sign_options *o, size_t chunk, const char **why_r)
{
	char err[256];
	const char *values[DKIM_SIGN_MAX_KEYS];
	struct dkim_sign *s = dkim_sign_new(o, err, sizeof(err));
	if (s == NULL)
		fail_msg("dkim_sign_new: %s", err);
	size_t len = strlen(msg), body = msgsplit(msg, len, sign_header, s);
	for (size_t off = body; off < len; off += chunk)
		dkim_sign_body(s, msg + off, len - off < chunk ? len - off : chunk);
	if (dkim_sign_end(s, values, why_r) < 0) {
		dkim_sign_free(&s);
		return NULL;
	}
	struct strbuf out = STRBUF_INIT;
	for (size_t i = 0; i < o->key_count; i++)
		strbuf_appendf(&out, "DKIM-Signature:%s%s", values[i], o->crlf ? "\r\n" : "\n");
	strbuf_append_str(&out, msg);
	dkim_sign_free(&s);
	assert_null(s);
	return strbuf_detach(&out);
}

static const struct dkim_sign_key key_rsa[] = { { NULL, "rsa" } };
static const struct dkim_sign_key key_ed[] = { { NULL, "ed" } };
static const struct dkim_sign_key key_both[] = { { NULL, "ed" }, { NULL, "rsa" } };

/* The key sets above with the loaded keys in them. */
static void fill_keys(struct dkim_sign_key *out, const struct dkim_sign_key *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (struct dkim_sign_key){ strcmp(in[i].selector, "ed") == 0 ? ed : rsa, in[i].selector };
}

/* ---- round trips: a table ---- */

static const char msg_plain[] =
	"Received: from a.example.net by mx.example.org; Mon, 23 Nov 2026 10:00:01 +0000\r\n"
	"From: Alice <alice@example.org>\r\n"
	"To: Bob <bob@example.net>,\r\n"
	"\tCarol <carol@example.net>\r\n"
	"Subject: round   trip\t check \r\n"
	"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
	"Message-ID: <rt@example.org>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"X-Mailer: not signed\r\n"
	"\r\n"
	"Hello Bob,  \r\n"
	"\r\n"
	"this  body has\ttabs, trailing space \r\n"
	"and empty lines at the end.\r\n"
	"\r\n"
	"\r\n";
static const char msg_empty[] =
	"From: Alice <alice@example.org>\r\nSubject: empty\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n";
static const char msg_no_crlf[] =
	"From: Alice <alice@example.org>\r\nSubject: no line end\r\n\r\nfirst line\r\nlast line, no CRLF";
static const char msg_lf[] =
	"From: Alice <alice@example.org>\nTo: Bob <bob@example.net>,\n Carol <carol@example.net>\n"
	"Subject: bare LF\n\nline one\nline  two\n\n";

enum { K_RSA = 1, K_ED = 2, K_BOTH = 3, K_RSA_PKCS8 = 4 };
#define ADD_ON_TOP ""	/* as from: "to" goes on top of the message */

struct sign_case {
	const char *why;
	const char *msg;
	const char *canon;	/* NULL: default (relaxed/relaxed) */
	int keys;
	size_t chunk;		/* 0: the whole body at once */
	bool lf_folds;
	const char *from, *to;	/* change made after signing; from NULL: none */
	enum dkim_result want;
	const char *reason;	/* part of every signature's reason */
};

static const struct sign_case cases[] = {
	{ "rsa relaxed", msg_plain, NULL, K_RSA, 0, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "ed25519 relaxed", msg_plain, NULL, K_ED, 0, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "dual relaxed", msg_plain, NULL, K_BOTH, 0, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "dual simple", msg_plain, "simple/simple", K_BOTH, 0, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "dual relaxed/simple", msg_plain, "relaxed/simple", K_BOTH, 0, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "dual simple/relaxed", msg_plain, "simple/relaxed", K_BOTH, 0, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "rsa key as PKCS#8", msg_plain, NULL, K_RSA_PKCS8, 0, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "1-byte body chunks", msg_plain, NULL, K_BOTH, 1, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "7-byte chunks, simple", msg_plain, "simple", K_BOTH, 7, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "LF folds (libmilter)", msg_plain, "simple/simple", K_BOTH, 0, true, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "LF folds, relaxed", msg_plain, NULL, K_BOTH, 0, true, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "empty body relaxed", msg_empty, NULL, K_BOTH, 0, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "empty body simple", msg_empty, "simple/simple", K_BOTH, 0, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "no final CRLF relaxed", msg_no_crlf, NULL, K_BOTH, 3, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "no final CRLF simple", msg_no_crlf, "simple/simple", K_BOTH, 3, false, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "bare LF message simple", msg_lf, "simple/simple", K_BOTH, 0, true, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "bare LF message relaxed", msg_lf, NULL, K_BOTH, 0, true, NULL, NULL, DKIM_RESULT_PASS, "" },
	{ "body altered", msg_plain, NULL, K_BOTH, 0, false, "body has", "body had", DKIM_RESULT_FAIL, "body hash" },
	{ "body altered, simple", msg_plain, "simple/simple", K_BOTH, 0, false, "end.\r\n", "end. \r\n",
	  DKIM_RESULT_FAIL, "body hash" },
	{ "empty body filled", msg_empty, NULL, K_BOTH, 0, false, "\r\n\r\n", "\r\n\r\nspam\r\n",
	  DKIM_RESULT_FAIL, "body hash" },
	{ "From added on top", msg_plain, NULL, K_BOTH, 0, false, ADD_ON_TOP, "From: Mallory <m@example.com>\r\n",
	  DKIM_RESULT_FAIL, "did not verify" },
	{ "From added at the bottom", msg_plain, NULL, K_BOTH, 0, false, "X-Mailer: not signed\r\n",
	  "X-Mailer: not signed\r\nFrom: Mallory <m@example.com>\r\n", DKIM_RESULT_FAIL, "did not verify" },
	{ "Subject added", msg_plain, "simple/simple", K_BOTH, 0, false, "X-Mailer: not signed\r\n",
	  "X-Mailer: not signed\r\nSubject: buy now\r\n", DKIM_RESULT_FAIL, "did not verify" },
	{ "Reply-To added (absent, oversigned)", msg_plain, NULL, K_BOTH, 0, false, ADD_ON_TOP,
	  "Reply-To: m@example.com\r\n", DKIM_RESULT_FAIL, "did not verify" },
	{ "Subject changed", msg_plain, NULL, K_BOTH, 0, false, "round   trip", "round trap",
	  DKIM_RESULT_FAIL, "did not verify" },
	{ "Subject re-spaced, relaxed", msg_plain, NULL, K_BOTH, 0, false, "round   trip\t check ",
	  "round trip check", DKIM_RESULT_PASS, "" },
	{ "Subject re-spaced, simple", msg_plain, "simple/relaxed", K_BOTH, 0, false, "round   trip\t check ",
	  "round trip check", DKIM_RESULT_FAIL, "did not verify" },
	{ "unsigned field changed", msg_plain, NULL, K_BOTH, 0, false, "not signed", "changed",
	  DKIM_RESULT_PASS, "" },
	{ "Received added on top", msg_plain, "simple/simple", K_BOTH, 0, false, ADD_ON_TOP,
	  "Received: from mx.example.org by mx2.example.net\r\n", DKIM_RESULT_PASS, "" },
};

static char *apply_change(const char *signed_msg, const char *from, const char *to)
{
	struct strbuf sb = STRBUF_INIT;
	if (from[0] == '\0') {
		strbuf_append_str(&sb, to);
		strbuf_append_str(&sb, signed_msg);
		return strbuf_detach(&sb);
	}
	/* in the message, not in the signature fields on top */
	const char *at = strstr(strstr(signed_msg, "\nFrom:"), from);
	assert_non_null(at);
	strbuf_append(&sb, signed_msg, (size_t)(at - signed_msg));
	strbuf_append_str(&sb, to);
	strbuf_append_str(&sb, at + strlen(from));
	return strbuf_detach(&sb);
}

static size_t case_keys(const struct sign_case *c, struct dkim_sign_key *keys)
{
	if (c->keys == K_RSA_PKCS8) {
		keys[0] = (struct dkim_sign_key){ rsa8, "rsa" };
		return 1;
	}
	const struct dkim_sign_key *set = c->keys == K_RSA ? key_rsa : c->keys == K_ED ? key_ed : key_both;
	size_t n = c->keys == K_BOTH ? 2 : 1;
	fill_keys(keys, set, n);
	return n;
}

static void run_case(const struct sign_case *c)
{
	struct dkim_sign_key keys[DKIM_SIGN_MAX_KEYS];
	struct dkim_sign_options o = { .domain = DOMAIN, .keys = keys, .canonicalization = c->canon,
				       .crlf = !c->lf_folds };
	const char *why;

	o.key_count = case_keys(c, keys);
	char *signed_msg = sign_msg(c->msg, &o, c->chunk != 0 ? c->chunk : strlen(c->msg), &why);
	if (signed_msg == NULL)
		fail_msg("%s: not signed: %s", c->why, why);
	char *msg = c->from != NULL ? apply_change(signed_msg, c->from, c->to) : xstrdup(signed_msg);
	struct dkim_verify *v = verify(msg);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	if (r->count != o.key_count)
		fail_msg("%s: %zu signatures verified, want %zu (%s)", c->why, r->count, o.key_count,
			 r->error != NULL ? r->error : "");
	for (size_t i = 0; i < r->count; i++) {
		if (r->sigs[i].result != c->want || strstr(r->sigs[i].reason, c->reason) == NULL)
			fail_msg("%s: signature %zu (%s): %s (%s), want %s (%s)\n%s", c->why, i,
				 r->sigs[i].algorithm, dkim_result_name(r->sigs[i].result), r->sigs[i].reason,
				 dkim_result_name(c->want), c->reason, signed_msg);
		assert_string_equal(r->sigs[i].selector, keys[i].selector);
		assert_string_equal(r->sigs[i].domain, DOMAIN);
	}
	dkim_verify_free(&v);
	free(msg);
	free(signed_msg);
}

static void test_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		run_case(&cases[i]);
}

/* ---- what the fields say ---- */

/* value unfolded (a fold read as a space), for looking at the tags; or,
 * squeezed, with no white space at all (h= may be folded anywhere) */
static char *unfold(const char *value, bool squeeze)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\r' || (*p == '\t' && p > value && p[-1] == '\n'))
			continue;
		if (squeeze && (*p == ' ' || *p == '\t' || *p == '\n'))
			continue;
		strbuf_append_char(&sb, *p == '\n' ? ' ' : *p);
	}
	return strbuf_detach(&sb);
}

/* Signs msg_plain; returns the field values unfolded, and when wanted
 * squeezed and as they are (caller frees). */
static void sign_values(const struct dkim_sign_options *o, char **unfolded, char **squeezed, char **raw)
{
	char err[256];
	const char *values[DKIM_SIGN_MAX_KEYS], *why;
	struct dkim_sign *s = dkim_sign_new(o, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	size_t len = strlen(msg_plain), body = msgsplit(msg_plain, len, sign_header, s);
	dkim_sign_body(s, msg_plain + body, len - body);
	if (dkim_sign_end(s, values, &why) < 0)
		fail_msg("%s", why);
	assert_int_equal(dkim_sign_end(s, values, &why), -1);	/* once */
	for (size_t i = 0; i < o->key_count; i++) {
		unfolded[i] = unfold(values[i], false);
		if (squeezed != NULL)
			squeezed[i] = unfold(values[i], true);
		if (raw != NULL)
			raw[i] = xstrdup(values[i]);
	}
	dkim_sign_free(&s);
}

static void assert_contains(const char *s, const char *part, bool want)
{
	if ((strstr(s, part) != NULL) != want)
		fail_msg("\"%s\" %s \"%s\"", s, want ? "lacks" : "has", part);
}

static void test_dual_signing_shares_body_hash(void **state)
{
	struct dkim_sign_key keys[2];
	struct dkim_sign_options o = { .domain = DOMAIN, .keys = keys, .key_count = 2 };
	char *v[2], *sq[2], *raw[2];
	(void)state;
	fill_keys(keys, key_both, 2);
	sign_values(&o, v, sq, raw);
	const char *bh0 = strstr(v[0], " bh="), *bh1 = strstr(v[1], " bh=");
	assert_true(bh0 != NULL && bh1 != NULL);
	assert_memory_equal(bh0, bh1, 4 + 44);
	assert_contains(v[0], " a=ed25519-sha256;", true);
	assert_contains(v[1], " a=rsa-sha256;", true);
	for (int i = 0; i < 2; i++) {
		assert_true(v[i][0] == ' ');	/* SMFIP_HDR_LEADSPC */
		assert_contains(v[i], " v=1; ", true);
		assert_contains(v[i], " c=relaxed/relaxed;", true);
		assert_contains(v[i], " d=example.org;", true);
		assert_contains(v[i], " l=", false);
		assert_contains(v[i], " i=", false);
		assert_contains(v[i], " x=", false);
		/* present fields as often as they occur, oversigned ones once more */
		assert_contains(sq[i], ";h=From:From:Reply-To:Subject:Subject:Date:Date:To:To:Cc:", true);
		assert_contains(sq[i], "MIME-Version:MIME-Version:Content-Type:Content-Type:", true);
		assert_contains(v[i], "Received", false);
		assert_contains(v[i], "X-Mailer", false);
		assert_contains(v[i], "List-Id", false);	/* signed when present, not oversigned */
		/* every line at most 78 columns, "DKIM-Signature:" included */
		size_t col = strlen("DKIM-Signature:");
		for (const char *p = raw[i]; *p != '\0'; p++, col++) {
			if (*p == '\n')
				col = 0;
			assert_true(col <= DKIM_FOLD_WIDTH + 1);	/* + the CR before LF */
		}
		free(v[i]);
		free(sq[i]);
		free(raw[i]);
	}
}

static void test_tags(void **state)
{
	struct dkim_sign_key keys[1];
	struct dkim_sign_options o = { .domain = DOMAIN, .keys = keys, .key_count = 1, .now = 1700000000,
				       .expire_after = 3600, .identity = "alice@mail.example.org" };
	char *v[1], *sq[1];
	(void)state;
	fill_keys(keys, key_rsa, 1);
	sign_values(&o, v, sq, NULL);
	assert_contains(v[0], " t=1700000000;", true);
	assert_contains(v[0], " x=1700003600;", true);
	assert_contains(v[0], " i=alice@mail.example.org;", true);
	assert_contains(v[0], " s=rsa;", true);
	free(v[0]);
	free(sq[0]);

	/* t= always, the current time */
	o.now = 0;
	o.expire_after = 0;
	o.identity = NULL;
	sign_values(&o, v, sq, NULL);
	const char *t = strstr(v[0], " t=");
	assert_non_null(t);
	long long when = strtoll(t + 3, NULL, 10);
	assert_true(when >= clock_wall_s() - 5 && when <= clock_wall_s());
	assert_contains(v[0], " x=", false);
	free(v[0]);
	free(sq[0]);
}

/* An x= in the past fails verification: the verifier sees it. */
static void test_expired(void **state)
{
	struct dkim_sign_key keys[1];
	struct dkim_sign_options o = { .domain = DOMAIN, .keys = keys, .key_count = 1,
				       .now = clock_wall_s() - 7200, .expire_after = 3600, .crlf = true };
	const char *why;
	(void)state;
	fill_keys(keys, key_ed, 1);
	char *msg = sign_msg(msg_plain, &o, 100, &why);
	assert_non_null(msg);
	struct dkim_verify *v = verify(msg);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert_int_equal(r->count, 1);
	assert_int_equal(r->sigs[0].result, DKIM_RESULT_FAIL);
	dkim_verify_free(&v);
	free(msg);
}

/* A caller's list: absent fields are left out, unless oversigned. */
static void test_header_lists(void **state)
{
	static const char *const headers[] = { "from", "Subject", "X-Absent", "To", "SUBJECT" };
	static const char *const over[] = { "From", "Reply-To" };
	struct dkim_sign_key keys[2];
	struct dkim_sign_options o = { .domain = DOMAIN, .keys = keys, .key_count = 2, .headers = headers,
				       .header_count = N_ELEMENTS(headers), .oversign = over,
				       .oversign_count = N_ELEMENTS(over), .crlf = true };
	char *v[2], *sq[2];
	const char *why;
	(void)state;
	fill_keys(keys, key_both, 2);
	sign_values(&o, v, sq, NULL);
	assert_contains(sq[0], ";h=from:from:Subject:To:Reply-To;", true);
	for (int i = 0; i < 2; i++) {
		free(v[i]);
		free(sq[i]);
	}

	o.oversign_count = 0;	/* none */
	sign_values(&o, v, sq, NULL);
	assert_contains(sq[1], ";h=from:Subject:To;", true);
	for (int i = 0; i < 2; i++) {
		free(v[i]);
		free(sq[i]);
	}

	/* and the signatures hold: a second To is not caught without oversigning */
	char *msg = sign_msg(msg_plain, &o, 64, &why);
	assert_non_null(msg);
	char *changed = apply_change(msg, ADD_ON_TOP, "To: Mallory <m@example.com>\r\n");
	struct dkim_verify *ver = verify(changed);
	const struct dkim_verify_result *r = dkim_verify_result(ver);
	assert_int_equal(r->count, 2);
	assert_int_equal(r->sigs[0].result, DKIM_RESULT_PASS);
	assert_int_equal(r->sigs[1].result, DKIM_RESULT_PASS);
	dkim_verify_free(&ver);
	free(changed);
	free(msg);
}

/* ---- keys ---- */

static void test_key_info(void **state)
{
	(void)state;
	assert_int_equal(rsa->alg, DKIM_ALG_RSA_SHA256);
	assert_int_equal(rsa->bits, 2048);
	assert_int_equal(rsa8->alg, DKIM_ALG_RSA_SHA256);
	assert_int_equal(rsa8->bits, 2048);
	assert_int_equal(ed->alg, DKIM_ALG_ED25519_SHA256);
	assert_int_equal(ed->bits, 256);
	assert_non_null(strstr(ed->path, "/ed.pem"));
}

static void test_bad_keys(void **state)
{
	static const struct { const char *file; unsigned min_bits; const char *want; } bad[] = {
		{ "open.pem", 0, ": readable by others; " },
		{ "writable.pem", 0, ": writable by others; " },
		{ "subdir", 0, ": not a regular file; " },
		{ "missing.pem", 0, ": No such file or directory" },
		{ "rsa512.pem", 0, ": an RSA key of 512 bits is too short (at least 1024" },
		{ "rsa.pem", 4096, ": an RSA key of 2048 bits is too short (at least 4096" },
		{ "garbage.pem", 0, ": no unencrypted PEM private key in it" },
		{ "ec.pem", 0, ": the key is of type EC; DKIM signs with RSA or Ed25519 keys" },
	};
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		char err[512], *path = key_path(bad[i].file);
		struct dkim_signkey *k = (struct dkim_signkey *)1;
		assert_int_equal(dkim_signkey_load(path, bad[i].min_bits, &k, err, sizeof(err)), -1);
		assert_null(k);
		if (strncmp(err, path, strlen(path)) != 0 || strstr(err, bad[i].want) == NULL)
			fail_msg("%s: \"%s\", want \"%s\"", bad[i].file, err, bad[i].want);
		free(path);
	}
	/* a message cut to fit the buffer says so */
	char small[24], *path = key_path("open.pem");
	struct dkim_signkey *k = NULL;
	assert_int_equal(dkim_signkey_load(path, 0, &k, small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_string_equal(small + sizeof(small) - 4, "...");
	free(path);
}

/* ---- options the signer refuses ---- */

static void test_bad_options(void **state)
{
	static const char *const no_from[] = { "Subject", "To" };
	static const char *const bad_name[] = { "From", "Bad:Name" };
	static const char *const spaced[] = { "From", "X Y" };
	static const struct {
		const char *domain, *selector, *identity, *canon;
		const char *const *headers;	/* with no oversigning */
		size_t header_count, key_count;
		int64_t expire;
		const char *want;
	} bad[] = {
		{ DOMAIN, "rsa", NULL, NULL, NULL, 0, 0, 0, "between 1 and 4 keys" },
		{ DOMAIN, "rsa", NULL, NULL, NULL, 0, 5, 0, "between 1 and 4 keys" },
		{ DOMAIN, "a b", NULL, NULL, NULL, 0, 1, 0, "selector \"a b\": not a valid selector" },
		{ DOMAIN, "a;b", NULL, NULL, NULL, 0, 1, 0, "selector \"a;b\"" },
		{ "", "rsa", NULL, NULL, NULL, 0, 1, 0, "the signing domain is not a domain name" },
		{ "exa mple.org", "rsa", NULL, NULL, NULL, 0, 1, 0, "the signing domain" },
		{ DOMAIN, "rsa", "bob@other.org", NULL, NULL, 0, 1, 0, "identity (i=)" },
		{ DOMAIN, "rsa", "bob@xexample.org", NULL, NULL, 0, 1, 0, "identity (i=)" },
		{ DOMAIN, "rsa", "b;ob@example.org", NULL, NULL, 0, 1, 0, "identity (i=)" },
		{ DOMAIN, "rsa", "example.org", NULL, NULL, 0, 1, 0, "identity (i=)" },
		{ DOMAIN, "rsa", NULL, "loose", NULL, 0, 1, 0, "canonicalization" },
		{ DOMAIN, "rsa", NULL, "relaxed/", NULL, 0, 1, 0, "canonicalization" },
		{ DOMAIN, "rsa", NULL, NULL, no_from, 2, 1, 0, "From must be signed" },
		{ DOMAIN, "rsa", NULL, NULL, bad_name, 2, 1, 0, "\"Bad:Name\" is not a header field name" },
		{ DOMAIN, "rsa", NULL, NULL, spaced, 2, 1, 0, "\"X Y\" is not a header field name" },
		{ DOMAIN, "rsa", NULL, NULL, NULL, 0, 1, -1, "negative" },
	};
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct dkim_sign_key keys[5];
		for (size_t k = 0; k < 5; k++)
			keys[k] = (struct dkim_sign_key){ rsa, bad[i].selector };
		struct dkim_sign_options o = { .domain = bad[i].domain, .keys = keys,
					       .key_count = bad[i].key_count, .identity = bad[i].identity,
					       .canonicalization = bad[i].canon, .headers = bad[i].headers,
					       .header_count = bad[i].header_count,
					       .oversign = bad[i].headers != NULL ? no_from : NULL,
					       .expire_after = bad[i].expire };
		char err[256] = "";
		struct dkim_sign *s = dkim_sign_new(&o, err, sizeof(err));
		if (s != NULL || strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: %s \"%s\", want \"%s\"", i, s != NULL ? "accepted" : "refused:", err,
				 bad[i].want);
	}
	/* and some that are fine */
	struct dkim_sign_key keys[1] = { { ed, "ed.2026-11" } };
	struct dkim_sign_options o = { .domain = "Mail.Example.ORG", .keys = keys, .key_count = 1,
				       .identity = "@example.org" };
	char err[256];
	struct dkim_sign *s = dkim_sign_new(&o, err, sizeof(err));
	assert_null(s);		/* i= above d= */
	o.identity = "@sub.mail.example.org";
	s = dkim_sign_new(&o, err, sizeof(err));
	assert_non_null(s);
	dkim_sign_free(&s);
	assert_null(s);
}

/* ---- bounds and misuse ---- */

static void test_limits(void **state)
{
	struct dkim_sign_key keys[1];
	struct dkim_sign_options o = { .domain = DOMAIN, .keys = keys, .key_count = 1 };
	const char *values[DKIM_SIGN_MAX_KEYS], *why;
	char err[256];
	(void)state;
	fill_keys(keys, key_ed, 1);

	/* fields not signed are not kept, however many */
	struct dkim_sign *s = dkim_sign_new(&o, err, sizeof(err));
	for (int i = 0; i < 3 * DKIM_SIGN_MAX_HEADERS; i++)
		dkim_sign_header(s, "Received", " from somewhere");
	dkim_sign_header(s, "From", " a@example.org");
	assert_int_equal(dkim_sign_end(s, values, &why), 0);
	dkim_sign_free(&s);

	/* signed ones are, within bounds */
	s = dkim_sign_new(&o, err, sizeof(err));
	for (int i = 0; i <= DKIM_SIGN_MAX_HEADERS; i++)
		dkim_sign_header(s, "Subject", " again");
	assert_int_equal(dkim_sign_end(s, values, &why), -1);
	assert_string_equal(why, "too many header fields to sign");
	dkim_sign_free(&s);

	char *big = xmalloc(DKIM_SIGN_MAX_HEADER_BYTES / 2 + 2);
	memset(big, 'x', DKIM_SIGN_MAX_HEADER_BYTES / 2 + 1);
	big[DKIM_SIGN_MAX_HEADER_BYTES / 2 + 1] = '\0';
	s = dkim_sign_new(&o, err, sizeof(err));
	dkim_sign_header(s, "Subject", big);
	dkim_sign_header(s, "To", big);
	assert_int_equal(dkim_sign_end(s, values, &why), -1);
	assert_string_equal(why, "the header fields to sign are too large");
	dkim_sign_free(&s);
	free(big);

	s = dkim_sign_new(&o, err, sizeof(err));
	dkim_sign_header(s, "From", " a@example.org");
	dkim_sign_body(s, "body\r\n", 6);
	dkim_sign_header(s, "Subject", " late");
	assert_int_equal(dkim_sign_end(s, values, &why), -1);
	assert_string_equal(why, "a header field came after the body");
	dkim_sign_free(&s);
}

/* ---- the primitives ---- */

static void test_crypto_round_trip(void **state)
{
	unsigned char hash[32], sig[DKIM_SIG_MAX_BYTES];
	struct dkim_signkey *keys[] = { rsa, ed };
	(void)state;
	for (size_t i = 0; i < sizeof(hash); i++)
		hash[i] = (unsigned char)(i * 7);
	for (size_t i = 0; i < N_ELEMENTS(keys); i++) {
		struct dkim_signkey *k = keys[i];
		ssize_t len = dkim_crypto_sign(k->pkey, k->alg, hash, sizeof(hash), sig, sizeof(sig));
		assert_int_equal(len, k->alg == DKIM_ALG_RSA_SHA256 ? 256 : 64);
		assert_int_equal(dkim_crypto_verify(k->pkey, k->alg, hash, sizeof(hash), sig, (size_t)len), 1);
		hash[0] ^= 1;
		assert_int_equal(dkim_crypto_verify(k->pkey, k->alg, hash, sizeof(hash), sig, (size_t)len), 0);
		hash[0] ^= 1;
		sig[10] ^= 0x40;
		assert_int_equal(dkim_crypto_verify(k->pkey, k->alg, hash, sizeof(hash), sig, (size_t)len), 0);
		/* the key of the other algorithm, a buffer too small */
		enum dkim_alg other = k->alg == DKIM_ALG_RSA_SHA256 ? DKIM_ALG_ED25519_SHA256 : DKIM_ALG_RSA_SHA256;
		assert_int_equal(dkim_crypto_sign(k->pkey, other, hash, sizeof(hash), sig, sizeof(sig)), -1);
		assert_int_equal(dkim_crypto_sign(k->pkey, k->alg, hash, sizeof(hash), sig, 32), -1);
	}
}

static void test_fold(void **state)
{
	static const char b64[] = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0"
				  "NTY3ODkrL0FCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFla";
	struct strbuf out = STRBUF_INIT;
	struct dkim_fold f;
	(void)state;
	dkim_fold_init(&f, &out, 15, false);
	dkim_fold_word(&f, "v=1;", 4, true);
	dkim_fold_word(&f, "h=From:", 7, true);
	for (int i = 0; i < 12; i++)
		dkim_fold_word(&f, "Subject:", 8, false);
	dkim_fold_word(&f, "b=", 2, true);
	dkim_fold_base64(&f, b64, strlen(b64));
	assert_string_equal(out.data,
		/* 15 + 61 = 76 columns: the next word goes on the next line */
		" v=1; h=From:Subject:Subject:Subject:Subject:Subject:Subject:\n"
		"\tSubject:Subject:Subject:Subject:Subject:Subject: b=QUJDREVGR0hJSktMTU5PUFFSU1\n"
		"\tRVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrL0FCQ0RFRkdISUpLTE1\n"
		"\tOT1BRUlNUVVZXWFla");
	strbuf_release(&out);
}

/* ---- threads: one key, many signers at once ---- */

#define THREADS 4
#define PER_THREAD 8

static void *sign_in_thread(void *arg)
{
	struct dkim_sign_key keys[2];
	struct dkim_sign_options o = { .domain = DOMAIN, .keys = keys, .key_count = 2, .crlf = true };
	const char *why;
	int *bad = arg;
	fill_keys(keys, key_both, 2);
	for (int i = 0; i < PER_THREAD; i++) {
		char *msg = sign_msg(msg_plain, &o, 13, &why);
		struct dkim_verify *v = verify(msg);
		const struct dkim_verify_result *r = dkim_verify_result(v);
		if (r->count != 2 || r->sigs[0].result != DKIM_RESULT_PASS || r->sigs[1].result != DKIM_RESULT_PASS)
			(*bad)++;
		dkim_verify_free(&v);
		free(msg);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[THREADS];
	int bad[THREADS] = { 0 };
	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sign_in_thread, &bad[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(bad[i], 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_dual_signing_shares_body_hash),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_header_lists),
		cmocka_unit_test(test_key_info),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_crypto_round_trip),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
