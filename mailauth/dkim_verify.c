/*
 * dkim_verify.c - DKIM verification of every signature (see dkim_verify.h).
 *
 * Three stages follow the milter's callbacks, as in arc_verify.c. Header
 * fields are kept as they come (one buffer, offsets). At the end of the
 * header block every DKIM-Signature is parsed (dkim_sig.h); those that
 * policy or syntax already decides are settled there, and the others get
 * a place in the body hash of their body canonicalization (l= as a
 * prefix, so any number of signatures cost one pass over the body). At
 * the end of the message each remaining signature is checked in RFC 6376
 * 6.1 order: expiry and t=, key (looked up once per selector/domain pair, its
 * record parsed through dkim_keycache.h), key against signature, body
 * hash, header hash and signature, then RFC 8301's key size.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/dkim_crypto.h"
#include "mailauth/dkim_keycache.h"
#include "mailauth/dkim_sig.h"
#include "mailauth/dkim_verify.h"

#define FIELD_NAME "DKIM-Signature"
#define REASON_MAX 128
#define ALGORITHM_MAX 32	/* characters of an unknown a= kept for reports */

struct dkim_verify_lib {
	const EVP_MD *sha256;
};

/* One selector/domain pair looked up for this message. */
struct key_memo {
	char *selector;
	char *domain;
	enum dkim_key_status status;
	struct dkim_pubkey *key;	/* DKIM_KEY_OK and the record is usable */
	const char *why;		/* DKIM_KEY_OK and it is not */
};

struct kept {			/* a header field: offsets into struct dkim_verify.store */
	size_t name, name_len, value, value_len;
};

/* One DKIM-Signature field and what the result says of it. */
struct sig_entry {
	size_t header;			/* its index among the header fields */
	struct dkim_sig *parsed;	/* still to check at the end, else NULL */
	int prefix;			/* its l= among its body hash's prefixes, or -1 */
	char *domain, *selector, *algorithm;
	char b[DKIM_VERIFY_B_PREFIX + 1];
	char reason[REASON_MAX];
};

/* The body as one body canonicalization sees it. */
struct body_hash {
	struct dkim_canon_body *canon;	/* NULL: no signature uses this one */
	unsigned char digest[EVP_MAX_MD_SIZE];
	int digest_len;			/* -1: OpenSSL failed */
	uint64_t length;
};

enum stage { STAGE_HEADERS, STAGE_BODY, STAGE_DONE };

struct dkim_verify {
	struct dkim_verify_options opt;
	const EVP_MD *sha256;
	enum stage stage;
	bool need_body;
	bool overflow;			/* a header field was not kept */
	struct strbuf store;
	struct kept *kept;
	size_t kept_count, kept_cap;
	struct dkim_canon_header *headers;	/* at the end of the header block */
	size_t *sig_fields;		/* indexes of the DKIM-Signature fields */
	size_t sig_count, sig_cap;
	struct sig_entry *entries;
	struct dkim_verify_sig *sigs;
	struct body_hash bodies[2];	/* by enum dkim_canon_mode */
	struct key_memo *memos;
	size_t memo_count, memo_cap;
	struct dkim_verify_result result;
};

const char *dkim_result_name(enum dkim_result result)
{
	switch (result) {
	case DKIM_RESULT_NONE: return "none";
	case DKIM_RESULT_PASS: return "pass";
	case DKIM_RESULT_FAIL: return "fail";
	case DKIM_RESULT_NEUTRAL: return "neutral";
	case DKIM_RESULT_POLICY: return "policy";
	case DKIM_RESULT_TEMPERROR: return "temperror";
	case DKIM_RESULT_PERMERROR: return "permerror";
	}
	return "permerror";
}

/* ---- the library handle ---- */

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (errlen > 0 && snprintf(err, errlen, "%s", msg) >= (int)errlen)
		err[errlen - 1] = '\0';	/* cut: still a useful message */
}

struct dkim_verify_lib *dkim_verify_lib_new(char *err, size_t errlen)
{
	EVP_PKEY *ed = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
						   (const unsigned char[32]){ 0 }, 32);
	bool usable = ed != NULL;

	EVP_PKEY_free(ed);
	if (!usable) {
		set_err(err, errlen, "OpenSSL: no Ed25519 support");
		return NULL;
	}
	struct dkim_verify_lib *lib = xcalloc(1, sizeof(*lib));
	lib->sha256 = dkim_sha256();
	return lib;
}

void dkim_verify_lib_free(struct dkim_verify_lib **lib)
{
	free(*lib);
	*lib = NULL;
}

/* ---- feeding the message ---- */

struct dkim_verify *dkim_verify_new(struct dkim_verify_lib *lib,
				    const struct dkim_verify_options *options, const char *id)
{
	struct dkim_verify *v = xcalloc(1, sizeof(*v));

	(void)id;
	if (options != NULL)
		v->opt = *options;
	v->sha256 = lib != NULL ? lib->sha256 : dkim_sha256();
	strbuf_init(&v->store);
	return v;
}

void dkim_verify_header(struct dkim_verify *v, const char *name, const char *value)
{
	size_t name_len = strlen(name), value_len = strlen(value);

	if (v->stage != STAGE_HEADERS)
		return;
	if (v->kept_count == DKIM_VERIFY_MAX_HEADERS ||
	    v->store.len + name_len + value_len > DKIM_VERIFY_MAX_HEADER_BYTES) {
		v->overflow = true;
		return;
	}
	v->kept = xgrow(v->kept, &v->kept_cap, v->kept_count + 1, sizeof(*v->kept));
	struct kept *k = &v->kept[v->kept_count];
	k->name = v->store.len;
	k->name_len = name_len;
	strbuf_append(&v->store, name, name_len);
	k->value = v->store.len;
	k->value_len = value_len;
	strbuf_append(&v->store, value, value_len);
	if (dkim_canon_name_matches(name, name_len, FIELD_NAME, strlen(FIELD_NAME))) {
		v->sig_fields = xgrow(v->sig_fields, &v->sig_cap, v->sig_count + 1, sizeof(*v->sig_fields));
		v->sig_fields[v->sig_count++] = v->kept_count;
	}
	v->kept_count++;
}

static void set_reason(struct sig_entry *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_reason(struct sig_entry *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	if (n < 0)
		e->reason[0] = '\0';
	else if ((size_t)n >= sizeof(e->reason))
		memcpy(e->reason + sizeof(e->reason) - 4, "...", 4);	/* cut, and say so */
}

static enum dkim_result configured(enum dkim_result r, enum dkim_result dflt)
{
	return r == DKIM_RESULT_NONE ? dflt : r;
}

static unsigned max_signatures(const struct dkim_verify *v)
{
	return v->opt.max_signatures != 0 ? v->opt.max_signatures : DKIM_VERIFY_MAX_SIGNATURES_DEFAULT;
}

/* d= or s= for reports: the name when its syntax is valid, else "". */
static char *report_name(const struct dkim_span *raw, bool is_domain)
{
	char name[DKIM_NAME_MAX + 1];
	const char *why;
	struct dkim_tag tag = { .value = raw->p, .value_len = raw->len };

	if (raw->p == NULL || dkim_sig_name(&tag, is_domain, name, &why) < 0)
		return xstrdup("");
	return xstrdup(name);
}

/* a= for reports: lowercased, printable ASCII, bounded. */
static char *report_algorithm(const struct dkim_span *raw)
{
	size_t n = raw->len < ALGORITHM_MAX ? raw->len : ALGORITHM_MAX;
	char *s = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw->p[i];
		s[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c > ' ' && c < 0x7f ? (char)c : '?';
	}
	s[n] = '\0';
	return s;
}

/* What the result names the signature by (RFC 8601 header.d, header.s,
 * header.a, header.b), read from the tags even when they are invalid. */
static void describe(struct sig_entry *e, struct dkim_verify_sig *out, const struct dkim_sig *sig)
{
	size_t n = 0;

	e->domain = report_name(&sig->raw_d, true);
	e->selector = report_name(&sig->raw_s, false);
	e->algorithm = report_algorithm(&sig->raw_a);
	for (size_t i = 0; i < sig->raw_b.len && n < DKIM_VERIFY_B_PREFIX; i++) {
		char c = sig->raw_b.p[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/' || c == '=')
			e->b[n++] = c;
		else if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			break;
	}
	e->b[n] = '\0';
	out->domain = e->domain;
	out->selector = e->selector;
	out->algorithm = e->algorithm;
	out->b = e->b;
	out->reason = e->reason;
}

/* Gives the signature a body hash to be checked against at the end. */
static bool take_body(struct dkim_verify *v, struct sig_entry *e)
{
	const struct dkim_sig *sig = e->parsed;
	struct body_hash *bh = &v->bodies[sig->body_canon];

	if (bh->canon == NULL)
		bh->canon = dkim_canon_body_new(sig->body_canon, v->sha256);
	e->prefix = -1;
	if (sig->has_l && (e->prefix = dkim_canon_body_add_prefix(bh->canon, sig->l)) < 0) {
		set_reason(e, "more distinct l= values than the verifier checks");
		return false;
	}
	return true;
}

/* Parses signature i and settles what the header block already decides. */
static void examine(struct dkim_verify *v, size_t i)
{
	struct sig_entry *e = &v->entries[i];
	struct dkim_verify_sig *out = &v->sigs[i];
	const struct dkim_canon_header *h = &v->headers[v->sig_fields[i]];
	struct dkim_sig *sig = xmalloc(sizeof(*sig));
	const char *why = NULL;
	int rc = dkim_sig_parse(h->value, h->value_len, sig, &why);

	e->header = v->sig_fields[i];
	e->prefix = -1;
	describe(e, out, sig);
	if (i >= max_signatures(v)) {
		set_reason(e, "not evaluated: more than %u signatures", max_signatures(v));
		out->result = DKIM_RESULT_POLICY;
	} else if (rc < 0) {
		set_reason(e, "malformed signature: %s", why);
		out->result = DKIM_RESULT_PERMERROR;
	} else if (sig->sha1) {
		set_reason(e, "rsa-sha1 is not accepted (RFC 8301)");
		out->result = configured(v->opt.sha1_result, DKIM_RESULT_POLICY);
	} else if (v->overflow) {
		set_reason(e, "more header fields than the verifier keeps (%d, or %d bytes)",
			   DKIM_VERIFY_MAX_HEADERS, DKIM_VERIFY_MAX_HEADER_BYTES);
		out->result = DKIM_RESULT_PERMERROR;
	} else {
		e->parsed = sig;
		if (take_body(v, e)) {
			v->need_body = true;
			return;
		}
		e->parsed = NULL;
		out->result = DKIM_RESULT_PERMERROR;
	}
	free(sig);
}

bool dkim_verify_eoh(struct dkim_verify *v)
{
	if (v->stage != STAGE_HEADERS)
		return v->need_body;
	v->stage = STAGE_BODY;
	v->headers = xcalloc(v->kept_count + 1, sizeof(*v->headers));
	for (size_t k = 0; k < v->kept_count; k++) {
		const struct kept *f = &v->kept[k];
		v->headers[k] = (struct dkim_canon_header){ v->store.data + f->name, f->name_len,
							    v->store.data + f->value, f->value_len };
	}
	v->entries = xcalloc(v->sig_count + 1, sizeof(*v->entries));
	v->sigs = xcalloc(v->sig_count + 1, sizeof(*v->sigs));
	for (size_t i = 0; i < v->sig_count; i++)
		examine(v, i);
	v->result.count = v->sig_count;
	v->result.sigs = v->sigs;
	return v->need_body;
}

void dkim_verify_body(struct dkim_verify *v, const void *data, size_t len)
{
	if (!dkim_verify_eoh(v) || v->stage != STAGE_BODY)
		return;
	for (size_t b = 0; b < 2; b++)
		if (v->bodies[b].canon != NULL)
			dkim_canon_body_update(v->bodies[b].canon, data, len);
}

/* ---- keys ---- */

static struct key_memo *memo_fetch(struct dkim_verify *v, const char *selector, const char *domain)
{
	for (size_t i = 0; i < v->memo_count; i++) {
		struct key_memo *m = &v->memos[i];
		if (strcasecmp(m->selector, selector) == 0 && strcmp(m->domain, domain) == 0)
			return m;
	}
	v->memos = xgrow(v->memos, &v->memo_cap, v->memo_count + 1, sizeof(*v->memos));
	struct key_memo *m = &v->memos[v->memo_count++];
	char *txt = NULL;
	memset(m, 0, sizeof(*m));
	m->selector = xstrdup(selector);
	m->domain = xstrdup(domain);
	m->status = DKIM_KEY_NOTFOUND;
	if (v->opt.key_lookup != NULL)
		m->status = v->opt.key_lookup(v->opt.key_ctx, selector, domain, &txt);
	if (m->status == DKIM_KEY_OK && txt == NULL)
		m->status = DKIM_KEY_NOTFOUND;
	if (m->status == DKIM_KEY_OK && dkim_keycache_parse(txt, strlen(txt), &m->key, &m->why) < 0)
		m->key = NULL;
	free(txt);
	return m;
}

/* The signature's key, or NULL with the verdict in *result_r. */
static const struct dkim_pubkey *sig_key(struct dkim_verify *v, struct sig_entry *e,
					 struct dkim_verify_sig *out, enum dkim_result *result_r)
{
	const struct dkim_sig *sig = e->parsed;
	const struct key_memo *m = memo_fetch(v, sig->selector, sig->domain);

	*result_r = DKIM_RESULT_PERMERROR;
	if (m->status == DKIM_KEY_TEMPFAIL) {
		set_reason(e, "key lookup failed temporarily");
		*result_r = DKIM_RESULT_TEMPERROR;
		return NULL;
	}
	if (m->status != DKIM_KEY_OK) {
		set_reason(e, "no key record");
		return NULL;
	}
	if (m->key == NULL) {
		set_reason(e, "key record: %s", m->why);
		return NULL;
	}
	out->testing = m->key->testing;
	if (m->key->type != dkim_alg_key_type(sig->alg)) {
		set_reason(e, "key record: k= does not match a=");
		return NULL;
	}
	out->key_bits = m->key->bits;
	if (m->key->strict && sig->i_subdomain) {
		set_reason(e, "key record: t=s, and i= names a subdomain of d=");
		return NULL;
	}
	return m->key;
}

/* ---- checking a signature ---- */

/* 0 when the body hash matches bh=, else -1 with the reason set. */
static int check_body(const struct dkim_verify *v, struct sig_entry *e)
{
	const struct dkim_sig *sig = e->parsed;
	const struct body_hash *body = &v->bodies[sig->body_canon];
	unsigned char prefix[EVP_MAX_MD_SIZE];
	const unsigned char *digest = body->digest;
	int digest_len = body->digest_len;

	if (sig->has_l) {
		if (sig->l > body->length) {
			set_reason(e, "l= is longer than the body");
			return -1;
		}
		digest = prefix;
		digest_len = dkim_canon_body_prefix(body->canon, e->prefix, prefix);
	}
	if (digest_len < 0 || (size_t)digest_len != sig->bh_len || memcmp(digest, sig->bh, sig->bh_len) != 0) {
		set_reason(e, "body hash mismatch");
		return -1;
	}
	return 0;
}

/* Hashes what the signature signs (RFC 6376 3.7): the fields h= picks,
 * bottom-up, among all but the signature's own field, then that field
 * with b= emptied and no CRLF after it. Returns the hash's length or -1. */
static int header_hash(const struct dkim_verify *v, const struct sig_entry *e, unsigned char *hash)
{
	const struct dkim_sig *sig = e->parsed;
	const struct dkim_canon_header *self = &v->headers[e->header];
	struct dkim_canon_header *others = xmalloc((v->kept_count + 1) * sizeof(*others));
	struct strbuf data = STRBUF_INIT, without_b = STRBUF_INIT;
	size_t count = 0;
	unsigned int len = 0;

	for (size_t k = 0; k < v->kept_count; k++)
		if (k != e->header)
			others[count++] = v->headers[k];
	dkim_canon_append_selected(&data, sig->header_canon, others, count, sig->h, sig->h_count);
	dkim_sig_value_without_b(sig->b_span_start, sig->b_span_end, self->value, self->value_len,
				 &without_b);
	dkim_canon_header_append(&data, sig->header_canon, self->name, self->name_len, without_b.data,
				 without_b.len);
	int ok = EVP_Digest(data.data, data.len, hash, &len, v->sha256, NULL);
	strbuf_release(&data);
	strbuf_release(&without_b);
	free(others);
	return ok == 1 ? (int)len : -1;
}

static enum dkim_result evaluate(struct dkim_verify *v, size_t i)
{
	struct sig_entry *e = &v->entries[i];
	struct dkim_verify_sig *out = &v->sigs[i];
	const struct dkim_sig *sig = e->parsed;
	unsigned char hash[EVP_MAX_MD_SIZE];
	enum dkim_result result;

	uint64_t now = (uint64_t)clock_wall_s();
	if (sig->has_x && now > sig->x + DKIM_VERIFY_CLOCK_DRIFT) {
		set_reason(e, "signature expired (x=)");
		return DKIM_RESULT_FAIL;
	}
	if (sig->has_t && sig->t > now + DKIM_VERIFY_CLOCK_DRIFT) {
		set_reason(e, "t= is in the future");
		return DKIM_RESULT_PERMERROR;
	}
	const struct dkim_pubkey *key = sig_key(v, e, out, &result);
	if (key == NULL)
		return result;
	if (check_body(v, e) < 0)
		return DKIM_RESULT_FAIL;
	int hash_len = header_hash(v, e, hash);
	if (hash_len < 0) {
		set_reason(e, "OpenSSL could not hash the header fields");
		return DKIM_RESULT_TEMPERROR;
	}
	if (!dkim_crypto_verify(key->pkey, sig->alg, hash, (size_t)hash_len, sig->b, sig->b_len)) {
		set_reason(e, "signature did not verify");
		return DKIM_RESULT_FAIL;
	}
	unsigned min = v->opt.min_rsa_bits != 0 ? v->opt.min_rsa_bits : DKIM_RSA_MIN_BITS_DEFAULT;
	if (key->type == DKIM_KEY_RSA && key->bits < min) {
		set_reason(e, "RSA key of %u bits, under %u (RFC 8301)", key->bits, min);
		return configured(v->opt.short_key_result, DKIM_RESULT_PERMERROR);
	}
	e->reason[0] = '\0';
	return DKIM_RESULT_PASS;
}

static void finish_body_hashes(struct dkim_verify *v)
{
	for (size_t b = 0; b < 2; b++) {
		struct body_hash *bh = &v->bodies[b];
		if (bh->canon == NULL)
			continue;
		bh->digest_len = dkim_canon_body_final(bh->canon, bh->digest);
		bh->length = dkim_canon_body_length(bh->canon);
	}
}

void dkim_verify_end(struct dkim_verify *v)
{
	dkim_verify_eoh(v);
	if (v->stage == STAGE_DONE)
		return;
	v->stage = STAGE_DONE;
	finish_body_hashes(v);
	for (size_t i = 0; i < v->sig_count; i++) {
		struct sig_entry *e = &v->entries[i];
		if (e->parsed == NULL)
			continue;
		v->sigs[i].result = evaluate(v, i);
		free(e->parsed);
		e->parsed = NULL;
	}
}

const struct dkim_verify_result *dkim_verify_result(const struct dkim_verify *v)
{
	return &v->result;
}

void dkim_verify_free(struct dkim_verify **vp)
{
	struct dkim_verify *v = *vp;

	if (v == NULL)
		return;
	for (size_t i = 0; i < v->memo_count; i++) {
		free(v->memos[i].selector);
		free(v->memos[i].domain);
		dkim_pubkey_free(&v->memos[i].key);
	}
	free(v->memos);
	for (size_t i = 0; v->entries != NULL && i < v->sig_count; i++) {
		free(v->entries[i].parsed);
		free(v->entries[i].domain);
		free(v->entries[i].selector);
		free(v->entries[i].algorithm);
	}
	for (size_t b = 0; b < 2; b++)
		dkim_canon_body_free(&v->bodies[b].canon);
	free(v->entries);
	free(v->sigs);
	free(v->sig_fields);
	free(v->headers);
	free(v->kept);
	strbuf_release(&v->store);
	free(v);
	*vp = NULL;
}
