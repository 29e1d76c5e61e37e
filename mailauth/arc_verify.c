/*
 * arc_verify.c - ARC chain validation (RFC 8617 5.2).
 *
 * Three stages follow the milter's callbacks. Header fields are stored as
 * they come. At the end of the header block the ARC sets are collected
 * and the structure checked (steps 1-3: instances 1..N, one AAR, AMS and AS
 * each, cv= rules); when that already decides, the body is not looked at.
 * Otherwise the body streams through one canonicalizer per body
 * canonicalization the AMSes use (l= prefixes are digested on the way, so
 * 50 AMSes cost no more than one). At the end: the newest AMS (step 4), every AS
 * from newest to oldest (step 6), then older AMSes for oldest-pass (step
 * 5, which cannot change the status, so it runs last and only on pass).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/clock.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/arc_keys.h"
#include "mailauth/arc_verify.h"

enum arc_field { FIELD_AAR, FIELD_AMS, FIELD_AS, FIELD_COUNT };

static const char *const field_names[FIELD_COUNT] = {
	"ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal",
};

enum stage { STAGE_HEADERS, STAGE_BODY, STAGE_DONE };

struct arc_set {
	long header[FIELD_COUNT];	/* index into headers, -1: absent */
	struct arc_sig *ams, *seal;
	int prefix;			/* the AMS's l= in its body hash, or -1 */
};

/* The body as one body canonicalization sees it. */
struct body_hash {
	struct dkim_canon_body *canon;	/* NULL: no AMS uses this one */
	unsigned char digest[EVP_MAX_MD_SIZE];
	int digest_len;			/* -1: OpenSSL failed */
	uint64_t length;
};

struct arc_verify {
	struct arc_options options;
	enum stage stage;
	bool decided;
	struct dkim_canon_header *headers;
	char **blocks;			/* storage behind headers[i] */
	size_t count, headers_cap, blocks_cap, bytes;
	bool overflow;			/* a header field was not stored */
	bool arc_seen;			/* an ARC field came, stored or not */
	struct arc_set sets[ARC_INSTANCE_MAX + 1];	/* by instance; [0] unused */
	struct body_hash bodies[2];	/* by enum dkim_canon_mode */
	struct arc_keys *keys;
	struct strbuf reason;
	struct arc_result result;
};

static void decide(struct arc_verify *v, enum arc_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void decide(struct arc_verify *v, enum arc_status status, const char *fmt, ...)
{
	va_list ap;

	if (v->decided)
		return;
	v->decided = true;
	v->result.status = status;
	strbuf_reset(&v->reason);
	va_start(ap, fmt);
	strbuf_vappendf(&v->reason, fmt, ap);
	va_end(ap);
	v->result.reason = strbuf_str(&v->reason);
}

struct arc_verify *arc_verify_new(const struct arc_options *options)
{
	struct arc_verify *v = xcalloc(1, sizeof(*v));

	v->options = *options;
	strbuf_init(&v->reason);
	v->result.reason = "";
	for (size_t i = 0; i <= ARC_INSTANCE_MAX; i++)
		for (size_t f = 0; f < FIELD_COUNT; f++)
			v->sets[i].header[f] = -1;
	return v;
}

static int field_of(const char *name, size_t len)
{
	for (int f = 0; f < FIELD_COUNT; f++)
		if (dkim_canon_name_matches(name, len, field_names[f], strlen(field_names[f])))
			return f;
	return -1;
}

void arc_verify_header(struct arc_verify *v, const char *name, const char *value)
{
	size_t name_len = strlen(name), value_len = strlen(value);

	if (v->stage != STAGE_HEADERS)
		return;
	if (field_of(name, name_len) >= 0)
		v->arc_seen = true;
	if (v->count == ARC_MAX_HEADERS || v->bytes + name_len + value_len > ARC_MAX_HEADER_BYTES) {
		v->overflow = true;
		return;
	}
	v->headers = xgrow(v->headers, &v->headers_cap, v->count + 1, sizeof(*v->headers));
	v->blocks = xgrow(v->blocks, &v->blocks_cap, v->count + 1, sizeof(*v->blocks));
	char *block = xmalloc(name_len + value_len + 2);
	memcpy(block, name, name_len + 1);
	memcpy(block + name_len + 1, value, value_len + 1);
	v->blocks[v->count] = block;
	v->headers[v->count] = (struct dkim_canon_header){ block, name_len, block + name_len + 1, value_len };
	v->count++;
	v->bytes += name_len + value_len;
}

/* Files header k (ARC field f) under its instance. 0, or -1 decided. */
static int collect_field(struct arc_verify *v, size_t k, int f)
{
	const struct dkim_canon_header *h = &v->headers[k];
	const char *why;
	unsigned instance;
	struct arc_sig *sig = NULL;

	if (f == FIELD_AAR) {
		if (arc_aar_instance(h->value, h->value_len, &instance, &why) < 0) {
			decide(v, ARC_STATUS_FAIL, "%s: %s", field_names[f], why);
			return -1;
		}
	} else {
		sig = xmalloc(sizeof(*sig));
		if (arc_sig_parse(f == FIELD_AMS ? ARC_SIG_MESSAGE : ARC_SIG_SEAL,
				  h->value, h->value_len, sig, &why) < 0) {
			free(sig);
			decide(v, ARC_STATUS_FAIL, "%s: %s", field_names[f], why);
			return -1;
		}
		instance = sig->instance;
	}
	struct arc_set *set = &v->sets[instance];
	if (set->header[f] >= 0) {
		free(sig);
		decide(v, ARC_STATUS_FAIL, "i=%u has more than one %s", instance, field_names[f]);
		return -1;
	}
	set->header[f] = (long)k;
	if (f == FIELD_AMS)
		set->ams = sig;
	else if (f == FIELD_AS)
		set->seal = sig;
	if (instance > v->result.instances)
		v->result.instances = instance;
	return 0;
}

/* Steps 2 and 3: the newest cv=, every set complete, cv= by position. */
static int check_structure(struct arc_verify *v)
{
	unsigned n = v->result.instances;

	if (v->sets[n].seal != NULL && v->sets[n].seal->cv == ARC_CV_FAIL) {
		decide(v, ARC_STATUS_FAIL, "the newest ARC-Seal (i=%u) says cv=fail", n);
		return -1;
	}
	for (unsigned i = 1; i <= n; i++)
		for (int f = 0; f < FIELD_COUNT; f++)
			if (v->sets[i].header[f] < 0) {
				decide(v, ARC_STATUS_FAIL, "i=%u has no %s", i, field_names[f]);
				return -1;
			}
	for (unsigned i = 1; i <= n; i++) {
		enum arc_cv cv = v->sets[i].seal->cv, want = i == 1 ? ARC_CV_NONE : ARC_CV_PASS;
		if (cv != want) {
			decide(v, ARC_STATUS_FAIL, "ARC-Seal i=%u says cv=%s, not cv=%s", i,
			       arc_cv_name(cv), arc_cv_name(want));
			return -1;
		}
	}
	return 0;
}

/* A body hash for each body canonicalization in use, l= as prefixes
 * (both algorithms digest with SHA-256, so the AMSes can share them). */
static void start_body_hashes(struct arc_verify *v)
{
	for (unsigned i = 1; i <= v->result.instances; i++) {
		struct arc_set *set = &v->sets[i];
		struct body_hash *bh = &v->bodies[set->ams->body_canon];

		if (bh->canon == NULL)
			bh->canon = dkim_canon_body_new(set->ams->body_canon, dkim_alg_md(set->ams->alg));
		set->prefix = set->ams->has_l ? dkim_canon_body_add_prefix(bh->canon, set->ams->l) : -1;
	}
}

bool arc_verify_eoh(struct arc_verify *v)
{
	if (v->stage != STAGE_HEADERS)
		return !v->decided;
	v->stage = STAGE_BODY;
	for (size_t k = 0; k < v->count; k++) {
		int f = field_of(v->headers[k].name, v->headers[k].name_len);
		if (f >= 0 && collect_field(v, k, f) < 0)
			return false;
	}
	if (v->overflow && v->arc_seen) {
		decide(v, ARC_STATUS_FAIL, "too many header fields to verify the chain");
		return false;
	}
	if (v->result.instances == 0) {
		decide(v, ARC_STATUS_NONE, "no ARC header fields");
		return false;
	}
	if (check_structure(v) < 0)
		return false;
	for (unsigned i = 1; i <= v->result.instances; i++)
		v->result.sealers[i - 1] = v->sets[i].seal->domain;
	v->result.sealer_count = v->result.instances;
	start_body_hashes(v);
	return true;
}

void arc_verify_body(struct arc_verify *v, const void *data, size_t len)
{
	arc_verify_eoh(v);
	if (v->decided || v->stage != STAGE_BODY)
		return;
	for (size_t b = 0; b < 2; b++)
		if (v->bodies[b].canon != NULL)
			dkim_canon_body_update(v->bodies[b].canon, data, len);
}

/* True when header k existed when AMS(i) was made: not an ARC field of a
 * later set, not the AMS itself nor any AS from i on (RFC 8617 5.1 adds
 * AAR, AMS, AS in that order). */
static bool existed_for(const struct arc_verify *v, size_t k, unsigned i)
{
	for (unsigned j = i; j <= v->result.instances; j++) {
		const long *fields = v->sets[j].header;
		if (fields[FIELD_AS] == (long)k)
			return false;
		if (j > i && (fields[FIELD_AMS] == (long)k || fields[FIELD_AAR] == (long)k))
			return false;
	}
	return (long)k != v->sets[i].header[FIELD_AMS];
}

/* Hashes what AMS(i) signs: the h= fields chosen among those that existed
 * when it was made, then the AMS with b= empty. */
static int ams_header_hash(const struct arc_verify *v, unsigned i, unsigned char *hash)
{
	const struct arc_sig *ams = v->sets[i].ams;
	const struct dkim_canon_header *self = &v->headers[v->sets[i].header[FIELD_AMS]];
	struct dkim_canon_header *seen = xmalloc((v->count + 1) * sizeof(*seen));
	struct strbuf data = STRBUF_INIT, without_b = STRBUF_INIT;
	unsigned int len = 0;
	size_t seen_count = 0;

	for (size_t k = 0; k < v->count; k++)
		if (existed_for(v, k, i))
			seen[seen_count++] = v->headers[k];
	dkim_canon_append_selected(&data, ams->header_canon, seen, seen_count, ams->h, ams->h_count);
	arc_sig_value_without_b(ams, self->value, self->value_len, &without_b);
	dkim_canon_header_append(&data, ams->header_canon, self->name, self->name_len,
			    without_b.data, without_b.len);
	int ok = EVP_Digest(data.data, data.len, hash, &len, dkim_alg_md(ams->alg), NULL);
	strbuf_release(&data);
	strbuf_release(&without_b);
	free(seen);
	return ok == 1 ? (int)len : -1;
}

static int64_t now_s(const struct arc_verify *v)
{
	return v->options.now != 0 ? v->options.now : clock_wall_s();
}

/* Step 4/5 for one instance: true when its AMS validates. */
static bool ams_validates(struct arc_verify *v, unsigned i, const char **why_r)
{
	const struct arc_set *set = &v->sets[i];
	const struct arc_sig *ams = set->ams;
	const struct body_hash *body = &v->bodies[ams->body_canon];
	unsigned char hash[EVP_MAX_MD_SIZE], prefix[EVP_MAX_MD_SIZE];
	const unsigned char *digest = body->digest;
	int digest_len = body->digest_len;

	if (arc_sig_signs_header(ams, "ARC-Seal")) {
		*why_r = "h= includes ARC-Seal (RFC 8617 4.1.2)";
		return false;
	}
	if (ams->has_x && (uint64_t)now_s(v) > ams->x) {
		*why_r = "the signature has expired (x=)";
		return false;
	}
	if (ams->has_l) {
		if (ams->l > body->length) {
			*why_r = "l= is longer than the body";
			return false;
		}
		digest = prefix;
		digest_len = dkim_canon_body_prefix(body->canon, set->prefix, prefix);
	}
	if (digest_len < 0 || (size_t)digest_len != ams->bh_len ||
	    memcmp(digest, ams->bh, ams->bh_len) != 0) {
		*why_r = "the body hash does not match bh=";
		return false;
	}
	int hash_len = ams_header_hash(v, i, hash);
	const struct dkim_pubkey *key = arc_keys_get(v->keys, ams, &v->result.tempfail, why_r);
	if (key == NULL)
		return false;
	if (hash_len < 0 ||
	    !dkim_crypto_verify(key->pkey, ams->alg, hash, (size_t)hash_len, ams->b, ams->b_len)) {
		*why_r = "the signature does not verify";
		return false;
	}
	return true;
}

/* Appends field k relaxed (RFC 8617 4.1.3), its b= emptied when
 * empty_b_of (its parsed form) is given, then CRLF if crlf. */
static void append_relaxed(struct strbuf *data, const struct arc_verify *v, long k,
			   const struct arc_sig *empty_b_of, bool crlf)
{
	const struct dkim_canon_header *h = &v->headers[k];
	struct strbuf without_b = STRBUF_INIT;
	const char *value = h->value;
	size_t value_len = h->value_len;

	if (empty_b_of != NULL) {
		arc_sig_value_without_b(empty_b_of, h->value, h->value_len, &without_b);
		value = without_b.data;
		value_len = without_b.len;
	}
	dkim_canon_header_append(data, DKIM_CANON_RELAXED, h->name, h->name_len, value, value_len);
	if (crlf)
		strbuf_append(data, "\r\n", 2);
	strbuf_release(&without_b);
}

/* The AS signing input (RFC 8617 5.1.1) for every instance at once: the
 * sets 1..i in order, AAR, AMS, AS each, relaxed, the last AS with b=
 * empty and no CRLF. One running digest, copied at each instance. */
static int seal_hashes(const struct arc_verify *v, unsigned char hashes[][EVP_MAX_MD_SIZE])
{
	EVP_MD_CTX *running = EVP_MD_CTX_new(), *tmp = EVP_MD_CTX_new();
	struct strbuf data = STRBUF_INIT;
	int ok = running != NULL && tmp != NULL && EVP_DigestInit_ex(running, dkim_sha256(), NULL) == 1;

	for (unsigned i = 1; ok && i <= v->result.instances; i++) {
		const struct arc_set *set = &v->sets[i];

		append_relaxed(&data, v, set->header[FIELD_AAR], NULL, true);
		append_relaxed(&data, v, set->header[FIELD_AMS], NULL, true);
		size_t common = data.len;
		append_relaxed(&data, v, set->header[FIELD_AS], set->seal, false);
		ok = EVP_MD_CTX_copy_ex(tmp, running) == 1 &&
			EVP_DigestUpdate(tmp, data.data, data.len) == 1 &&
			EVP_DigestFinal_ex(tmp, hashes[i], NULL) == 1;
		strbuf_truncate(&data, common);
		append_relaxed(&data, v, set->header[FIELD_AS], NULL, true);
		ok = ok && EVP_DigestUpdate(running, data.data, data.len) == 1;
		strbuf_reset(&data);
	}
	strbuf_release(&data);
	EVP_MD_CTX_free(running);
	EVP_MD_CTX_free(tmp);
	return ok ? 0 : -1;
}

/* Step 6: every AS, newest first. 0, or -1 decided. */
static int check_seals(struct arc_verify *v)
{
	unsigned char hashes[ARC_INSTANCE_MAX + 1][EVP_MAX_MD_SIZE];
	const char *why = "the signature does not verify";

	if (seal_hashes(v, hashes) < 0) {
		decide(v, ARC_STATUS_FAIL, "OpenSSL could not hash the ARC-Seal input");
		return -1;
	}
	for (unsigned i = v->result.instances; i >= 1; i--) {
		const struct arc_sig *seal = v->sets[i].seal;
		const struct dkim_pubkey *key = arc_keys_get(v->keys, seal, &v->result.tempfail, &why);
		if (key == NULL || !dkim_crypto_verify(key->pkey, seal->alg, hashes[i], SHA256_DIGEST_LENGTH,
						       seal->b, seal->b_len)) {
			decide(v, ARC_STATUS_FAIL, "ARC-Seal i=%u (d=%s s=%s): %s", i, seal->domain,
			       seal->selector, key == NULL ? why : "the signature does not verify");
			return -1;
		}
	}
	return 0;
}

static void finish_body_hashes(struct arc_verify *v)
{
	for (size_t b = 0; b < 2; b++) {
		struct body_hash *bh = &v->bodies[b];
		if (bh->canon == NULL)
			continue;
		bh->digest_len = dkim_canon_body_final(bh->canon, bh->digest);
		bh->length = dkim_canon_body_length(bh->canon);
	}
}

static void validate(struct arc_verify *v)
{
	unsigned n = v->result.instances;
	const char *why;

	finish_body_hashes(v);
	v->keys = arc_keys_new(v->options.key_lookup, v->options.key_ctx, v->options.min_rsa_bits,
			       v->options.max_key_lookups);
	if (!ams_validates(v, n, &why)) {
		const struct arc_sig *ams = v->sets[n].ams;
		decide(v, ARC_STATUS_FAIL, "ARC-Message-Signature i=%u (d=%s s=%s): %s", n, ams->domain,
		       ams->selector, why);
		return;
	}
	if (check_seals(v) < 0)
		return;
	v->result.oldest_pass = 0;
	for (unsigned i = n - 1; i >= 1; i--)
		if (!ams_validates(v, i, &why)) {
			v->result.oldest_pass = i + 1;
			break;
		}
	decide(v, ARC_STATUS_PASS, "%u ARC set%s, sealed by %s", n, n == 1 ? "" : "s",
	       v->result.sealers[n - 1]);
}

void arc_verify_end(struct arc_verify *v)
{
	arc_verify_eoh(v);
	if (v->stage != STAGE_BODY)
		return;
	v->stage = STAGE_DONE;
	if (!v->decided)
		validate(v);
}

const struct arc_result *arc_verify_result(const struct arc_verify *v)
{
	return &v->result;
}

const char *arc_verify_aar(const struct arc_verify *v, unsigned instance)
{
	if (instance < 1 || instance > ARC_INSTANCE_MAX || v->sets[instance].header[FIELD_AAR] < 0)
		return NULL;
	return v->headers[v->sets[instance].header[FIELD_AAR]].value;
}

const struct dkim_canon_header *arc_verify_headers(const struct arc_verify *v, size_t *count_r)
{
	*count_r = v->overflow ? 0 : v->count;
	return v->overflow ? NULL : v->headers;
}

void arc_verify_free(struct arc_verify **vp)
{
	struct arc_verify *v = *vp;

	if (v == NULL)
		return;
	for (size_t i = 0; i < v->count; i++)
		free(v->blocks[i]);
	free(v->blocks);
	free(v->headers);
	for (size_t i = 1; i <= ARC_INSTANCE_MAX; i++) {
		free(v->sets[i].ams);
		free(v->sets[i].seal);
	}
	for (size_t b = 0; b < 2; b++)
		dkim_canon_body_free(&v->bodies[b].canon);
	arc_keys_free(&v->keys);
	strbuf_release(&v->reason);
	free(v);
	*vp = NULL;
}

const char *arc_status_name(enum arc_status status)
{
	switch (status) {
	case ARC_STATUS_PASS:
		return "pass";
	case ARC_STATUS_FAIL:
		return "fail";
	default:
		return "none";
	}
}
