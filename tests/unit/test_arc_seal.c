/*
 * test_arc_seal.c - ARC sealing against the ValiMail signing suite, and
 * the cases the suite does not have.
 *
 * The suite (../shared/conformance/arc/arc-draft-sign-tests.yml, read in
 * place; LIMRISTEM_SHARED_DIR overrides the directory): for each case the
 * message's chain is validated with our verifier (the case's TXT records
 * behind an in-process lookup), then sealed with the case's key, t=,
 * sig-headers and srv-id, the results taken from the message's
 * Authentication-Results fields of that srv-id. Our AS and AMS must equal
 * the expected ones as tag sets (white space ignored; b= and bh= exactly,
 * RSA PKCS#1 v1.5 being deterministic), our AAR the expected one with
 * white space ignored; a case that expects no set must be skipped. A case
 * that differs must be on known_differences with the reason, and one
 * listed that passes fails the test, so the list cannot go stale. Every
 * set we add must also validate with our own verifier.
 *
 * The table cases: cv=fail sealing (the seal covers only the new set),
 * no sealing after a cv=fail or past instance 50, a chain of 50 Ed25519
 * seals through our verifier, request checks, the layout of the values,
 * and the primitives under them (dkim_crypto_sign, dkim_base64_encode).
 *
 * ARC_TEST_VERBOSE=1 prints every case.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include <openssl/pem.h>
#include <yaml.h>

#include "common/strbuf.h"
#include "mailauth/arc_seal.h"
#include "mailauth/arc_seal_fmt.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim_tags.h"
#include "mailauth/msgsplit.h"
#include "unit.h"
#include "yaml_map.h"
#include "common/xalloc.h"

#ifndef LR_SHARED_DIR
#define LR_SHARED_DIR "../shared"
#endif

/*
 * Suite cases whose expected set we do not produce, each with the reason.
 * The suite follows draft-ietf-dmarc-arc-protocol; where RFC 8617 says
 * otherwise we follow the RFC.
 */
static const struct {
	const char *name;
	const char *why;
} known_differences[] = {
	/* None: every case gives the suite's set, byte for byte in b= and bh=.
	 * Draft and RFC agree on what the suite tests; in particular its
	 * cv=fail seals (i1_base_fail, i2_base_fail) cover only the new set,
	 * as RFC 8617 5.1.2 says. */
	{ NULL, NULL },
};

/* ---- the suite as data ------------------------------------------------- */

struct key_doc {
	char *domain, *selector;
	EVP_PKEY *key;
	size_t txt_count;
	char *txt_names[8], *txt_values[8];
};

static char *get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	return yaml_scalar_dup(yaml_map_get(doc, map, key));
}

/* Removes every character of drop from s, in place. */
static char *squeeze(char *s, const char *drop)
{
	char *w = s;

	for (const char *r = s; s != NULL && *r != '\0'; r++)
		if (strchr(drop, *r) == NULL)
			*w++ = *r;
	if (s != NULL)
		*w = '\0';
	return s;
}

static EVP_PKEY *pem_key(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

	BIO_free(bio);
	assert_non_null(key);
	return key;
}

static void load_key_doc(yaml_document_t *doc, const yaml_node_t *root, struct key_doc *k)
{
	const yaml_node_t *txt = yaml_map_get(doc, root, "txt-records");
	char *pem = get(doc, root, "privatekey");

	memset(k, 0, sizeof(*k));
	k->domain = get(doc, root, "domain");
	k->selector = get(doc, root, "sel");
	assert_non_null(pem);
	k->key = pem_key(pem);
	free(pem);
	for (yaml_node_pair_t *p = txt->data.mapping.pairs.start; p < txt->data.mapping.pairs.top; p++) {
		assert_true(k->txt_count < N_ELEMENTS(k->txt_names));
		k->txt_names[k->txt_count] = yaml_scalar_dup(yaml_document_get_node(doc, p->key));
		k->txt_values[k->txt_count] = squeeze(yaml_scalar_dup(yaml_document_get_node(doc, p->value)), "\r\n");
		k->txt_count++;
	}
}

static void free_key_doc(struct key_doc *k)
{
	free(k->domain);
	free(k->selector);
	EVP_PKEY_free(k->key);
	for (size_t i = 0; i < k->txt_count; i++) {
		free(k->txt_names[i]);
		free(k->txt_values[i]);
	}
}

/* ---- a message in pieces ----------------------------------------------- */

struct message {
	char *text;
	size_t len, body;
	struct dkim_canon_header headers[256];
	size_t count;
};

static void on_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct message *m = ctx;

	assert_true(m->count < N_ELEMENTS(m->headers));
	m->headers[m->count++] = (struct dkim_canon_header){ name, name_len, value, value_len };
}

static void message_split(struct message *m, char *text)
{
	memset(m, 0, sizeof(*m));
	m->text = text;
	m->len = strlen(text);
	m->body = msgsplit(text, m->len, on_header, m);
}

/* Keys for our own verifier: one TXT record per name. */
struct keyring {
	size_t count;
	const char *names[8];
	const char *values[8];
};

static enum dkim_key_status ring_lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	const struct keyring *ring = ctx;
	char name[600];
	int n = snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);

	assert_true(n > 0 && (size_t)n < sizeof(name));
	for (size_t i = 0; i < ring->count; i++)
		if (strcasecmp(ring->names[i], name) == 0) {
			*txt_r = xstrdup(ring->values[i]);
			return DKIM_KEY_OK;
		}
	return DKIM_KEY_NOTFOUND;
}

/* Validates text (a whole message); the body goes in two chunks. */
static enum arc_status verify_text(const char *text, struct keyring *ring, int64_t now,
				   struct strbuf *reason)
{
	struct arc_options o = { .key_lookup = ring_lookup, .key_ctx = ring, .now = now };
	struct arc_verify *v = arc_verify_new(&o);
	struct message m;
	char *copy = xstrdup(text);

	message_split(&m, copy);
	for (size_t i = 0; i < m.count; i++) {
		char *name = xstrndup(m.headers[i].name, m.headers[i].name_len);
		char *value = xstrndup(m.headers[i].value, m.headers[i].value_len);
		arc_verify_header(v, name, value);
		free(name);
		free(value);
	}
	size_t half = m.body + (m.len - m.body) / 2;
	arc_verify_body(v, m.text + m.body, half - m.body);
	arc_verify_body(v, m.text + half, m.len - half);
	arc_verify_end(v);
	enum arc_status status = arc_verify_result(v)->status;
	if (reason != NULL)
		strbuf_append_str(reason, arc_verify_result(v)->reason);
	arc_verify_free(&v);
	free(copy);
	return status;
}

/* Seals text: a new sealer fed the body in two chunks. */
static int seal_text(const char *text, const struct arc_seal_request *req,
		     struct arc_seal_fields *fields_r, const char **why_r)
{
	struct arc_seal *s = arc_seal_new();
	struct message m;
	char *copy = xstrdup(text);

	message_split(&m, copy);
	size_t half = m.body + (m.len - m.body) / 2;
	arc_seal_body(s, m.text + m.body, half - m.body);
	arc_seal_body(s, m.text + half, m.len - half);
	int ret = arc_seal_make(s, m.headers, m.count, req, fields_r, why_r);
	arc_seal_free(&s);
	assert_null(s);
	free(copy);
	return ret;
}

/* The new set on top of text, as a message on the wire. */
static char *prepend_set(const char *text, const struct arc_seal_fields *f)
{
	struct strbuf out = STRBUF_INIT;

	strbuf_appendf(&out, "ARC-Seal:%s\r\nARC-Message-Signature:%s\r\n"
		       "ARC-Authentication-Results:%s\r\n%s", f->seal, f->ams, f->aar, text);
	return strbuf_detach(&out);
}

/* ---- the signing suite ------------------------------------------------- */

/* The results of the message's Authentication-Results fields that carry
 * srv_id, joined (the suite merges several into one AAR). */
static char *results_for(const struct message *m, const char *srv_id)
{
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < m->count; i++) {
		const struct dkim_canon_header *h = &m->headers[i];
		if (!dkim_canon_name_matches(h->name, h->name_len, "Authentication-Results", 22))
			continue;
		const char *semi = memchr(h->value, ';', h->value_len);
		size_t start = 0, end = semi ? (size_t)(semi - h->value) : h->value_len;
		while (start < end && isspace((unsigned char)h->value[start]))
			start++;
		while (end > start && isspace((unsigned char)h->value[end - 1]))
			end--;
		if (semi == NULL || end - start != strlen(srv_id) ||
		    strncasecmp(h->value + start, srv_id, end - start) != 0)
			continue;
		if (out.len > 0)
			strbuf_append_str(&out, ";\n\t");
		strbuf_append(&out, semi + 1, h->value_len - (size_t)(semi + 1 - h->value));
	}
	return strbuf_detach(&out);
}

/* "tag=value" items without white space, sorted: a tag list as a set. */
static char *tag_set(const char *value)
{
	char *flat = squeeze(xstrdup(value), " \t\r\n"), *items[64], *save = NULL;
	size_t n = 0;
	struct strbuf out = STRBUF_INIT;

	for (char *t = strtok_r(flat, ";", &save); t != NULL && n < 64; t = strtok_r(NULL, ";", &save))
		items[n++] = t;
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(items[k - 1], items[k]) > 0; k--) {
			char *tmp = items[k];
			items[k] = items[k - 1];
			items[k - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++)
		strbuf_appendf(&out, "%s;", items[i]);
	free(flat);
	return strbuf_detach(&out);
}

static bool same_tags(const char *got, const char *want)
{
	char *a = tag_set(got), *b = tag_set(want);
	bool same = strcmp(a, b) == 0;

	free(a);
	free(b);
	return same;
}

static bool same_text(const char *got, const char *want)
{
	char *a = squeeze(xstrdup(got), " \t\r\n"), *b = squeeze(xstrdup(want), " \t\r\n");
	bool same = strcmp(a, b) == 0;

	free(a);
	free(b);
	return same;
}

struct sign_case {
	const char *name;
	char *message, *t, *sig_headers, *srv_id, *as, *ams, *aar;
};

/* Runs one case; true when it gives what the suite expects, else *diff_r
 * says what differs. */
static bool run_sign_case(const struct sign_case *c, const struct key_doc *k, struct strbuf *diff_r)
{
	struct keyring ring = { .count = k->txt_count };
	struct message m;
	char *copy = xstrdup(c->message);
	const char *why;
	struct arc_seal_fields f;

	for (size_t i = 0; i < k->txt_count; i++) {
		ring.names[i] = k->txt_names[i];
		ring.values[i] = k->txt_values[i];
	}
	message_split(&m, copy);
	char *results = results_for(&m, c->srv_id);
	struct arc_seal_request req = {
		.chain = verify_text(c->message, &ring, 0, NULL), .authserv_id = c->srv_id,
		.results = results, .domain = k->domain, .selector = k->selector, .key = k->key,
		.alg = DKIM_ALG_RSA_SHA256, .timestamp = strtoll(c->t, NULL, 10),
		.sign_headers = c->sig_headers,
	};
	int ret = seal_text(c->message, &req, &f, &why);
	bool want_set = c->as != NULL && c->as[strspn(c->as, " \t\r\n")] != '\0';
	bool ok = false;

	if (ret != ARC_SEAL_OK) {
		strbuf_appendf(diff_r, "not sealed (%d: %s)%s", ret, why, want_set ? ", want a set" : "");
		ok = !want_set && ret == ARC_SEAL_SKIPPED;
	} else if (!want_set) {
		strbuf_appendf(diff_r, "sealed i=%u, want no set", f.instance);
	} else {
		bool as = same_tags(f.seal, c->as), ams = same_tags(f.ams, c->ams);
		bool aar = same_text(f.aar, c->aar);
		ok = as && ams && aar;
		if (!ok)
			strbuf_appendf(diff_r, "differs:%s%s%s", as ? "" : " AS", ams ? "" : " AMS",
				       aar ? "" : " AAR");
		if (getenv("ARC_TEST_VERBOSE") != NULL && !ok)
			printf("    ours:\n    AS:%s\n    AMS:%s\n    AAR:%s\n", f.seal, f.ams, f.aar);
		char *sealed = prepend_set(c->message, &f);
		enum arc_status want = f.cv == ARC_CV_FAIL ? ARC_STATUS_FAIL : ARC_STATUS_PASS;
		struct strbuf reason = STRBUF_INIT;
		enum arc_status got = verify_text(sealed, &ring, 0, &reason);
		if (got != want)
			fail_msg("%s: our sealed message validates as %s (%s)", c->name,
				 arc_status_name(got), strbuf_str(&reason));
		strbuf_release(&reason);
		free(sealed);
	}
	arc_seal_fields_release(&f);
	free(results);
	free(copy);
	return ok;
}

static const char *known_difference(const char *name)
{
	for (size_t i = 0; known_differences[i].name != NULL; i++)
		if (strcmp(known_differences[i].name, name) == 0)
			return known_differences[i].why;
	return NULL;
}

struct tally {
	size_t count, good, known, unexpected;
};

static void judge(struct tally *t, const char *name, bool ok, const struct strbuf *diff)
{
	const char *known = known_difference(name);

	t->count++;
	t->good += ok;
	if (getenv("ARC_TEST_VERBOSE") != NULL)
		printf("  %-22s %s %s\n", name, ok ? "ok  " : "DIFF", strbuf_str(diff));
	if (!ok && known == NULL) {
		printf("  UNEXPECTED %s: %s\n", name, strbuf_str(diff));
		t->unexpected++;
	} else if (ok && known != NULL) {
		printf("  LISTED BUT PASSES %s: remove it from known_differences\n", name);
		t->unexpected++;
	} else if (!ok) {
		t->known++;
		printf("  known difference %s: %s: %s\n", name, strbuf_str(diff), known);
	}
}

static void run_document(yaml_document_t *doc, struct tally *t)
{
	const yaml_node_t *root = yaml_document_get_root_node(doc);
	const yaml_node_t *tests = yaml_map_get(doc, root, "tests");
	struct key_doc k;

	assert_non_null(tests);
	load_key_doc(doc, root, &k);
	for (yaml_node_pair_t *p = tests->data.mapping.pairs.start; p < tests->data.mapping.pairs.top; p++) {
		const yaml_node_t *test = yaml_document_get_node(doc, p->value);
		char *name = yaml_scalar_dup(yaml_document_get_node(doc, p->key));
		struct sign_case c = {
			name, get(doc, test, "message"), get(doc, test, "t"),
			get(doc, test, "sig-headers"), get(doc, test, "srv-id"), get(doc, test, "AS"),
			get(doc, test, "AMS"), get(doc, test, "AAR"),
		};
		struct strbuf diff = STRBUF_INIT;
		assert_non_null(c.message);
		assert_non_null(c.t);
		judge(t, name, run_sign_case(&c, &k, &diff), &diff);
		strbuf_release(&diff);
		free(name);
		free(c.message), free(c.t), free(c.sig_headers), free(c.srv_id);
		free(c.as), free(c.ams), free(c.aar);
	}
	free_key_doc(&k);
}

static void test_sign_suite(void **state)
{
	const char *dir = getenv("LIMRISTEM_SHARED_DIR");
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/conformance/arc/arc-draft-sign-tests.yml",
			 dir && *dir ? dir : LR_SHARED_DIR);
	struct tally t = { 0 };
	yaml_parser_t parser;
	FILE *f;

	assert_true(n > 0 && (size_t)n < sizeof(path));
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s (set LIMRISTEM_SHARED_DIR to the shared directory)", path);
	assert_int_equal(yaml_parser_initialize(&parser), 1);
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		yaml_document_t doc;
		if (yaml_parser_load(&parser, &doc) != 1)
			fail_msg("%s: YAML error: %s", path, parser.problem ? parser.problem : "?");
		bool end = yaml_document_get_root_node(&doc) == NULL;
		if (!end)
			run_document(&doc, &t);
		yaml_document_delete(&doc);
		if (end)
			break;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	printf("arc conformance (sealing): %zu of %zu cases give the suite's ARC set, "
	       "%zu known differences, %zu unexpected\n", t.good, t.count, t.known, t.unexpected);
	assert_true(t.count >= 17);
	assert_int_equal(t.unexpected, 0);
}


/* A comparison that cannot see a difference would pass every case. */
static void test_comparisons(void **state)
{
	assert_true(same_tags("a=1; b=xy\n z;\n c=3", "c=3;a=1;b=xyz"));
	assert_false(same_tags("a=1; b=xyz; c=3", "a=1; b=xyZ; c=3"));
	assert_false(same_tags("a=1; b=xyz", "a=1; b=xyz; c=3"));
	assert_true(same_text(" i=1; x;\n\tspf=pass", "i=1; x; spf=pass"));
	assert_false(same_text("i=1; x; spf=pass", "i=1; x; spf=fail"));
}

/* ---- the primitives ---------------------------------------------------- */

static void test_base64_encode(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
		{ "\xff\xfe\x00", "//4A" },
	};
	unsigned char bytes[64], back[64];

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct strbuf out = STRBUF_INIT;
		size_t len = i == N_ELEMENTS(cases) - 1 ? 3 : strlen(cases[i].in);
		dkim_base64_encode((const unsigned char *)cases[i].in, len, &out);
		assert_string_equal(strbuf_str(&out), cases[i].out);
		strbuf_release(&out);
	}
	for (size_t len = 0; len <= sizeof(bytes); len++) {
		struct strbuf out = STRBUF_INIT;
		for (size_t i = 0; i < len; i++)
			bytes[i] = (unsigned char)(i * 37 + len);
		dkim_base64_encode(bytes, len, &out);
		assert_int_equal(out.len, (len + 2) / 3 * 4);
		assert_int_equal(dkim_base64_decode(out.data, out.len, back, sizeof(back)), (ssize_t)len);
		assert_memory_equal(back, bytes, len);
		strbuf_release(&out);
	}
}

static EVP_PKEY *new_key(enum dkim_alg alg)
{
	EVP_PKEY *key = alg == DKIM_ALG_RSA_SHA256 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024)
						    : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(key);
	return key;
}

static void test_crypto_sign(void **state)
{
	static const enum dkim_alg algs[] = { DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256 };
	unsigned char hash[32], sig[DKIM_SIG_MAX_BYTES], again[DKIM_SIG_MAX_BYTES];

	for (size_t i = 0; i < sizeof(hash); i++)
		hash[i] = (unsigned char)i;
	for (size_t a = 0; a < N_ELEMENTS(algs); a++) {
		EVP_PKEY *key = new_key(algs[a]), *other = new_key(algs[1 - a]);
		ssize_t n = dkim_crypto_sign(key, algs[a], hash, sizeof(hash), sig, sizeof(sig));
		assert_int_equal(n, algs[a] == DKIM_ALG_RSA_SHA256 ? 128 : 64);
		/* both schemes are deterministic */
		assert_int_equal(dkim_crypto_sign(key, algs[a], hash, sizeof(hash), again, sizeof(again)), n);
		assert_memory_equal(sig, again, (size_t)n);
		assert_int_equal(dkim_crypto_verify(key, algs[a], hash, sizeof(hash), sig, (size_t)n), 1);
		hash[0] ^= 1;
		assert_int_equal(dkim_crypto_verify(key, algs[a], hash, sizeof(hash), sig, (size_t)n), 0);
		hash[0] ^= 1;
		assert_int_equal(dkim_crypto_sign(other, algs[a], hash, sizeof(hash), sig, sizeof(sig)), -1);
		assert_int_equal(dkim_crypto_sign(key, algs[a], hash, sizeof(hash), sig, 10), -1);
		EVP_PKEY_free(key);
		EVP_PKEY_free(other);
	}
}

/* ---- our own cases ----------------------------------------------------- */

static const char base_message[] =
	"Received: from mx.origin.example by relay.example; Tue, 1 Oct 2024 10:00:00 +0000\r\n"
	"From: Alice <alice@origin.example>\r\n"
	"To: list@seal.example\r\n"
	"Subject: sealing\r\n"
	"  a folded subject\r\n"
	"Date: Tue, 1 Oct 2024 10:00:00 +0000\r\n"
	"Message-ID: <seal-1@origin.example>\r\n"
	"\r\n"
	"Hello,\r\n"
	"  a body   with  white space \r\n"
	"\r\n\r\n";

struct sealer_key {
	EVP_PKEY *key;
	enum dkim_alg alg;
	char txt[1024];
	struct keyring ring;
};

static void sealer_key_init(struct sealer_key *k, enum dkim_alg alg)
{
	struct strbuf p = STRBUF_INIT;
	unsigned char der[1024], *w = der;
	size_t len = sizeof(der);

	k->alg = alg;
	k->key = new_key(alg);
	if (alg == DKIM_ALG_ED25519_SHA256) {
		assert_int_equal(EVP_PKEY_get_raw_public_key(k->key, der, &len), 1);
	} else {
		int n = i2d_PUBKEY(k->key, &w);
		assert_true(n > 0);
		len = (size_t)n;
	}
	dkim_base64_encode(der, len, &p);
	int n = snprintf(k->txt, sizeof(k->txt), "v=DKIM1; k=%s; p=%s",
			 alg == DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa", strbuf_str(&p));
	assert_true(n > 0 && (size_t)n < sizeof(k->txt));
	strbuf_release(&p);
	k->ring = (struct keyring){ 1, { "sel._domainkey.seal.example" }, { k->txt } };
}

static struct arc_seal_request request_for(const struct sealer_key *k, enum arc_status chain)
{
	return (struct arc_seal_request){
		.chain = chain, .authserv_id = "mx.seal.example", .results = "arc=none;\n\tspf=pass smtp.mailfrom=origin.example",
		.domain = "seal.example", .selector = "sel", .key = k->key, .alg = k->alg,
		.timestamp = 1727776800, .crlf = true,
	};
}

/* Seals text as our verifier sees its chain; the sealed message, or NULL
 * with *ret_r when not sealed. */
static char *seal_once(const char *text, struct sealer_key *k, int *ret_r, struct arc_seal_fields *f)
{
	enum arc_status chain = verify_text(text, &k->ring, 0, NULL);
	struct arc_seal_request req = request_for(k, chain);
	const char *why;

	*ret_r = seal_text(text, &req, f, &why);
	if (*ret_r != ARC_SEAL_OK)
		return NULL;
	return prepend_set(text, f);
}

/* 50 Ed25519 seals, each validated by our verifier; no 51st. */
static void test_chain_to_fifty(void **state)
{
	struct sealer_key k;
	char *text = xstrdup(base_message);
	struct arc_seal_fields f;
	int ret;

	sealer_key_init(&k, DKIM_ALG_ED25519_SHA256);
	for (unsigned i = 1; i <= ARC_INSTANCE_MAX; i++) {
		char *next = seal_once(text, &k, &ret, &f);
		assert_int_equal(ret, ARC_SEAL_OK);
		assert_int_equal(f.instance, i);
		assert_int_equal(f.cv, i == 1 ? ARC_CV_NONE : ARC_CV_PASS);
		struct strbuf reason = STRBUF_INIT;
		if (verify_text(next, &k.ring, 0, &reason) != ARC_STATUS_PASS)
			fail_msg("instance %u: %s", i, strbuf_str(&reason));
		strbuf_release(&reason);
		arc_seal_fields_release(&f);
		free(text);
		text = next;
	}
	assert_null(seal_once(text, &k, &ret, &f));
	assert_int_equal(ret, ARC_SEAL_SKIPPED);
	assert_null(f.seal);
	free(text);
	EVP_PKEY_free(k.key);
}

/* The relaxed ARC-Seal input of the set in f alone (RFC 8617 5.1.2). */
static bool seal_covers_only_new_set(const struct arc_seal_fields *f, EVP_PKEY *key)
{
	struct arc_sig sig;
	const char *why;
	struct strbuf data = STRBUF_INIT, without_b = STRBUF_INIT;
	unsigned char hash[32];

	assert_int_equal(arc_sig_parse(ARC_SIG_SEAL, f->seal, strlen(f->seal), &sig, &why), 0);
	arc_sig_value_without_b(&sig, f->seal, strlen(f->seal), &without_b);
	dkim_canon_header_append(&data, DKIM_CANON_RELAXED, "ARC-Authentication-Results", 26, f->aar, strlen(f->aar));
	strbuf_append_str(&data, "\r\n");
	dkim_canon_header_append(&data, DKIM_CANON_RELAXED, "ARC-Message-Signature", 21, f->ams, strlen(f->ams));
	strbuf_append_str(&data, "\r\n");
	dkim_canon_header_append(&data, DKIM_CANON_RELAXED, "ARC-Seal", 8, without_b.data, without_b.len);
	assert_int_equal(EVP_Digest(data.data, data.len, hash, NULL, EVP_sha256(), NULL), 1);
	bool ok = dkim_crypto_verify(key, sig.alg, hash, sizeof(hash), sig.b, sig.b_len) == 1;
	strbuf_release(&data);
	strbuf_release(&without_b);
	return ok;
}

/* A chain broken after our seal: sealed with cv=fail over the new set
 * only; after that nobody seals again. */
static void test_failed_chain(void **state)
{
	static const enum dkim_alg algs[] = { DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256 };

	for (size_t a = 0; a < N_ELEMENTS(algs); a++) {
		struct sealer_key k;
		struct arc_seal_fields f1, f2, f3;
		int ret;

		sealer_key_init(&k, algs[a]);
		char *one = seal_once(base_message, &k, &ret, &f1);
		assert_non_null(one);
		assert_true(seal_covers_only_new_set(&f1, k.key));	/* i=1: the same thing */
		char *tampered = xstrdup(one);
		*strstr(tampered, "Hello") = 'J';
		assert_int_equal(verify_text(tampered, &k.ring, 0, NULL), ARC_STATUS_FAIL);
		char *two = seal_once(tampered, &k, &ret, &f2);
		assert_non_null(two);
		assert_int_equal(f2.instance, 2);
		assert_int_equal(f2.cv, ARC_CV_FAIL);
		assert_true(seal_covers_only_new_set(&f2, k.key));
		assert_non_null(strstr(f2.seal, "cv=fail"));
		assert_int_equal(verify_text(two, &k.ring, 0, NULL), ARC_STATUS_FAIL);
		assert_null(seal_once(two, &k, &ret, &f3));
		assert_int_equal(ret, ARC_SEAL_SKIPPED);
		/* a passing chain's seal covers the older sets too */
		char *again = seal_once(one, &k, &ret, &f3);
		assert_non_null(again);
		assert_false(seal_covers_only_new_set(&f3, k.key));
		free(again);
		arc_seal_fields_release(&f3);
		free(one), free(tampered), free(two);
		arc_seal_fields_release(&f1);
		arc_seal_fields_release(&f2);
		EVP_PKEY_free(k.key);
	}
}

/* What the ARC fields already present decide, whatever the caller says. */
static void test_existing_fields(void **state)
{
	static const struct {
		const char *fields;
		enum arc_status chain;
		int want;
		unsigned instance;
		const char *why;
	} cases[] = {
		{ "ARC-Seal: i=50; a=rsa-sha256; cv=pass; d=x.example; s=s; b=AA==\r\n", ARC_STATUS_FAIL,
		  ARC_SEAL_SKIPPED, 0, "instance 50 present: a 51st set is never added" },
		{ "ARC-Authentication-Results: i=51; x.example; none\r\n", ARC_STATUS_FAIL,
		  ARC_SEAL_SKIPPED, 0, "an AAR over 50 counts too" },
		{ "ARC-Message-Signature: i=4000; a=rsa-sha256\r\n", ARC_STATUS_FAIL,
		  ARC_SEAL_SKIPPED, 0, "huge i= is over 50" },
		{ "ARC-Seal: i=49; a=rsa-sha256; cv=pass; d=x.example; s=s; b=AA==\r\n", ARC_STATUS_FAIL,
		  ARC_SEAL_OK, 50, "instance 49 in a failed chain: seal 50 with cv=fail" },
		{ "ARC-Seal: i=2; cv=fail; b=\r\nARC-Seal: i=1; cv=none; b=\r\n", ARC_STATUS_FAIL,
		  ARC_SEAL_SKIPPED, 0, "newest AS says cv=fail (RFC 8617 5.1 step 1)" },
		{ "ARC-Seal: i=1; cv=fail; b=\r\nARC-Seal: i=2; cv=pass; b=\r\n", ARC_STATUS_FAIL,
		  ARC_SEAL_OK, 3, "an older cv=fail does not stop sealing a failed chain" },
		{ "ARC-Seal: i=x; cv=fail\r\n", ARC_STATUS_FAIL,
		  ARC_SEAL_OK, 1, "unreadable i=: instance 1 with cv=fail" },
		{ "ARC-Seal: i=1; cv=none\r\n", ARC_STATUS_PASS,
		  ARC_SEAL_E_INVAL, 0, "pass without a complete set is refused" },
		{ "ARC-Seal: i=1; cv=none\r\n", ARC_STATUS_NONE,
		  ARC_SEAL_E_INVAL, 0, "none with ARC fields present is refused" },
		{ "", ARC_STATUS_PASS, ARC_SEAL_E_INVAL, 0, "pass without any ARC field is refused" },
		{ "", ARC_STATUS_FAIL, ARC_SEAL_OK, 1, "fail without ARC fields (e.g. all unreadable)" },
	};
	struct sealer_key k;

	sealer_key_init(&k, DKIM_ALG_ED25519_SHA256);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct strbuf msg = STRBUF_INIT;
		struct arc_seal_request req = request_for(&k, cases[i].chain);
		struct arc_seal_fields f;
		const char *why;

		strbuf_appendf(&msg, "%s%s", cases[i].fields, base_message);
		int ret = seal_text(strbuf_str(&msg), &req, &f, &why);
		if (ret != cases[i].want || f.instance != cases[i].instance)
			fail_msg("%s: got %d i=%u (%s)", cases[i].why, ret, f.instance, why);
		if (ret == ARC_SEAL_OK)
			assert_int_equal(f.cv, cases[i].chain == ARC_STATUS_FAIL ? ARC_CV_FAIL : ARC_CV_PASS);
		arc_seal_fields_release(&f);
		strbuf_release(&msg);
	}
	EVP_PKEY_free(k.key);
}

static void test_request_checks(void **state)
{
	enum { DOMAIN, SELECTOR, ID, KEY, TIME, RESULTS, HEADERS };
	static const struct { int what; const char *value; const char *why; } cases[] = {
		{ DOMAIN, "", "empty domain" },
		{ DOMAIN, "bad domain.example", "space in the domain" },
		{ DOMAIN, "x.example;", "semicolon in the domain" },
		{ SELECTOR, "s;b=", "a selector that would add a tag" },
		{ SELECTOR, "sel.", "final dot in the selector" },
		{ ID, "mx example", "space in the authserv-id" },
		{ ID, "mx;x", "semicolon in the authserv-id" },
		{ ID, "", "empty authserv-id" },
		{ KEY, NULL, "an RSA key for ed25519-sha256" },
		{ TIME, NULL, "negative timestamp" },
		{ RESULTS, "spf=pass;\nX-Injected: yes", "a line break that is not a fold" },
		{ RESULTS, "spf=pass\r smtp.mailfrom=x", "a bare CR" },
		{ RESULTS, "spf=pass\x01", "a control character" },
		{ HEADERS, "to:subject", "no From" },
		{ HEADERS, "from:arc-seal", "ARC-Seal in h=" },
		{ HEADERS, "from:ARC-Authentication-Results", "AAR in h=" },
		{ HEADERS, "from:sub ject", "a name with a space" },
	};
	struct sealer_key k, rsa;

	sealer_key_init(&k, DKIM_ALG_ED25519_SHA256);
	sealer_key_init(&rsa, DKIM_ALG_RSA_SHA256);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct arc_seal_request req = request_for(&k, ARC_STATUS_NONE);
		struct arc_seal_fields f;
		const char *why;

		switch (cases[i].what) {
		case DOMAIN: req.domain = cases[i].value; break;
		case SELECTOR: req.selector = cases[i].value; break;
		case ID: req.authserv_id = cases[i].value; break;
		case KEY: req.key = rsa.key; break;
		case TIME: req.timestamp = -1; break;
		case RESULTS: req.results = cases[i].value; break;
		case HEADERS: req.sign_headers = cases[i].value; break;
		}
		int ret = seal_text(base_message, &req, &f, &why);
		if (ret != ARC_SEAL_E_INVAL)
			fail_msg("%s: got %d, want ARC_SEAL_E_INVAL", cases[i].why, ret);
		assert_null(f.aar);
		assert_non_null(why);
	}
	EVP_PKEY_free(k.key);
	EVP_PKEY_free(rsa.key);
}

/* Folds are nl + TAB, values start with a space, only the b= line may be
 * long, and h= names every present field of the default list. */
static void check_layout(const char *value, bool crlf)
{
	size_t col = 0;

	assert_int_equal(value[0], ' ');
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\r')
			assert_true(crlf && p[1] == '\n');
		if (*p == '\n') {
			assert_true(crlf == (p > value && p[-1] == '\r'));
			assert_int_equal(p[1], '\t');
			col = 0;
		} else if (++col > ARC_SEAL_LINE_SOFT_MAX && strncmp(p - col + 2, "b=", 2) != 0) {
			fail_msg("a line over %d columns: %s", ARC_SEAL_LINE_SOFT_MAX, value);
		}
	}
}

static void test_layout(void **state)
{
	struct sealer_key k;

	sealer_key_init(&k, DKIM_ALG_RSA_SHA256);
	for (int crlf = 0; crlf <= 1; crlf++) {
		struct arc_seal_request req = request_for(&k, ARC_STATUS_NONE);
		struct arc_seal_fields f;
		const char *why;

		req.crlf = crlf;
		assert_int_equal(seal_text(base_message, &req, &f, &why), ARC_SEAL_OK);
		check_layout(f.aar, crlf);
		check_layout(f.ams, crlf);
		check_layout(f.seal, crlf);
		assert_true(same_text(f.aar, "i=1; mx.seal.example; arc=none; spf=pass smtp.mailfrom=origin.example"));
		assert_non_null(strstr(f.ams, "c=relaxed/relaxed;"));
		char *set = tag_set(f.ams);
		assert_non_null(strstr(set, "h=from:to:subject:date:message-id;"));
		free(set);
		arc_seal_fields_release(&f);
		req.results = " \n\t";
		assert_int_equal(seal_text(base_message, &req, &f, &why), ARC_SEAL_OK);
		assert_string_equal(f.aar, " i=1; mx.seal.example; none");
		arc_seal_fields_release(&f);
	}
	EVP_PKEY_free(k.key);
}

/* The milter's way: the header fields the verifier kept, no copy. */
static void test_headers_from_verifier(void **state)
{
	struct sealer_key k;
	struct arc_options o = { .key_lookup = ring_lookup };
	struct arc_verify *v;
	struct arc_seal *s = arc_seal_new();
	struct arc_seal_fields f, want;
	struct message m;
	char *copy = xstrdup(base_message);
	const char *why;
	size_t count;
	int ret;

	sealer_key_init(&k, DKIM_ALG_ED25519_SHA256);
	o.key_ctx = &k.ring;
	v = arc_verify_new(&o);
	message_split(&m, copy);
	for (size_t i = 0; i < m.count; i++) {
		char *name = xstrndup(m.headers[i].name, m.headers[i].name_len);
		char *value = xstrndup(m.headers[i].value, m.headers[i].value_len);
		arc_verify_header(v, name, value);
		free(name), free(value);
	}
	arc_verify_body(v, m.text + m.body, m.len - m.body);
	arc_seal_body(s, m.text + m.body, m.len - m.body);
	arc_verify_end(v);
	const struct dkim_canon_header *headers = arc_verify_headers(v, &count);
	assert_non_null(headers);
	assert_int_equal(count, m.count);
	struct arc_seal_request req = request_for(&k, arc_verify_result(v)->status);
	assert_int_equal(arc_seal_make(s, headers, count, &req, &f, &why), ARC_SEAL_OK);
	assert_int_equal(arc_seal_make(s, headers, count, &req, &want, &why), ARC_SEAL_E_INVAL);
	char *sealed = seal_once(base_message, &k, &ret, &want);
	assert_non_null(sealed);
	free(sealed);
	assert_string_equal(f.ams, want.ams);	/* Ed25519 is deterministic too */
	assert_string_equal(f.seal, want.seal);
	arc_seal_fields_release(&f);
	arc_seal_fields_release(&want);
	arc_seal_free(&s);
	arc_verify_free(&v);
	free(copy);
	EVP_PKEY_free(k.key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_sign_suite),
		cmocka_unit_test(test_base64_encode),
		cmocka_unit_test(test_crypto_sign),
		cmocka_unit_test(test_chain_to_fifty),
		cmocka_unit_test(test_failed_chain),
		cmocka_unit_test(test_existing_fields),
		cmocka_unit_test(test_request_checks),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_headers_from_verifier),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
