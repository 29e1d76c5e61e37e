/*
 * arc_seal.c - ARC sealing (RFC 8617 5.1): the next ARC set of a message.
 *
 * The body streams through one relaxed canonicalizer. At the end, in
 * order: the request is checked, the ARC fields already present are
 * scanned (arc_seal_chain.c) to decide whether and as which instance to
 * seal, then the AAR is written, the AMS signed over the chosen header
 * fields and itself, and the AS over the ARC sets and the new one. Every
 * value is laid out (arc_seal_fmt.c) before it is signed, so what is
 * signed is exactly what the caller inserts.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/arc_seal.h"
#include "mailauth/arc_seal_chain.h"
#include "mailauth/arc_seal_fmt.h"

struct arc_seal {
	struct dkim_canon_body *body;
	bool done;
};

/* What one arc_seal_make() call works with. */
struct job {
	const struct arc_seal_request *req;
	const struct dkim_canon_header *headers;
	size_t count;
	struct arc_seal_chain chain;
	unsigned instance;
	enum arc_cv cv;
	struct canon_name h[ARC_SIG_MAX_HEADERS];	/* the AMS h= list */
	size_t h_count;
	unsigned char bh[EVP_MAX_MD_SIZE];
	int bh_len;
	const char *nl;
	const char *why;
};

struct arc_seal *arc_seal_new(void)
{
	struct arc_seal *s = xcalloc(1, sizeof(*s));

	s->body = dkim_canon_body_new(DKIM_CANON_RELAXED, dkim_sha256());
	return s;
}

void arc_seal_body(struct arc_seal *s, const void *data, size_t len)
{
	if (!s->done)
		dkim_canon_body_update(s->body, data, len);
}

static int refuse(struct job *j, const char *why)
{
	j->why = why;
	return ARC_SEAL_E_INVAL;
}

/* A d= or s= we can write: host-name syntax, no final dot. */
static bool name_ok(const char *s)
{
	const char *why;
	size_t len = s != NULL ? strlen(s) : 0;

	return len > 0 && len <= ARC_NAME_MAX && s[len - 1] != '.' &&
		domain_check(s, len, ADDR_ALLOW_UNDERSCORE, &why) == 0;
}

/* An authserv-id written as a bare token: printable, no white space,
 * nor the specials that would end or comment it. */
static bool authserv_id_ok(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0 || len > ARC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || strchr(";()\"\\", s[i]) != NULL)
			return false;
	return true;
}

static bool key_fits(EVP_PKEY *key, enum dkim_alg alg)
{
	int id = key != NULL ? EVP_PKEY_get_base_id(key) : EVP_PKEY_NONE;

	return dkim_alg_key_type(alg) == DKIM_KEY_RSA ? id == EVP_PKEY_RSA : id == EVP_PKEY_ED25519;
}

static bool is_arc_name(const char *name, size_t len)
{
	struct dkim_canon_header h = { name, len, "", 0 };

	return arc_seal_field_of(&h) >= 0;
}

static size_t occurrences(const struct job *j, const char *name, size_t len)
{
	size_t n = 0;

	for (size_t k = 0; k < j->count; k++)
		n += dkim_canon_name_matches(j->headers[k].name, j->headers[k].name_len, name, len);
	return n;
}

/* Reads the h= candidates into j->h: each name once per occurrence in
 * the message, From at least once. */
static int pick_headers(struct job *j)
{
	const char *list = j->req->sign_headers ? j->req->sign_headers : ARC_SEAL_HEADERS_DEFAULT;
	struct canon_name seen[ARC_SIG_MAX_HEADERS];
	size_t seen_count = 0;
	bool from = false;

	for (const char *p = list; *p != '\0';) {
		size_t len = strcspn(p, ":");
		const char *name = p;
		p += len + (p[len] == ':');
		while (len > 0 && (*name == ' ' || *name == '\t'))
			name++, len--;
		while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
			len--;
		if (len == 0)
			continue;
		for (size_t i = 0; i < len; i++)
			if (name[i] <= ' ' || name[i] >= 0x7f)
				return refuse(j, "a header field name to sign is not printable ASCII");
		if (is_arc_name(name, len))
			return refuse(j, "ARC header fields may not be signed by the AMS (RFC 8617 4.1.2)");
		bool dup = false;
		for (size_t i = 0; i < seen_count && !dup; i++)
			dup = dkim_canon_name_matches(seen[i].name, seen[i].len, name, len);
		if (dup)
			continue;
		if (seen_count == ARC_SIG_MAX_HEADERS)
			return refuse(j, "too many header field names to sign");
		seen[seen_count++] = (struct canon_name){ name, len };
		bool is_from = dkim_canon_name_matches(name, len, "From", 4);
		size_t n = occurrences(j, name, len);
		from |= is_from;
		if (is_from && n == 0)
			n = 1;
		if (n > ARC_SIG_MAX_HEADERS - j->h_count)
			return refuse(j, "the message has too many header fields to sign");
		for (size_t i = 0; i < n; i++)
			j->h[j->h_count++] = (struct canon_name){ name, len };
	}
	return from ? 0 : refuse(j, "the header fields to sign must include From (RFC 6376 5.4)");
}

static int check_request(struct job *j)
{
	const struct arc_seal_request *r = j->req;

	if (!name_ok(r->domain))
		return refuse(j, "the sealing domain is not a domain name");
	if (!name_ok(r->selector))
		return refuse(j, "the selector is not a valid selector");
	if (!authserv_id_ok(r->authserv_id))
		return refuse(j, "the authserv-id is empty, too long or not a plain token");
	if (!key_fits(r->key, r->alg))
		return refuse(j, "the key does not fit the algorithm");
	if (r->timestamp < 0)
		return refuse(j, "the timestamp is negative");
	if (r->results != NULL && strlen(r->results) > ARC_SEAL_RESULTS_MAX)
		return refuse(j, "the results text is too long");
	if (j->count > ARC_MAX_HEADERS)
		return refuse(j, "too many header fields");
	if (r->chain != ARC_STATUS_NONE && r->chain != ARC_STATUS_PASS && r->chain != ARC_STATUS_FAIL)
		return refuse(j, "unknown chain status");
	return pick_headers(j);
}

/* RFC 8617 5.1 steps 1 and 2 and the cv= to write. */
static int decide(struct job *j)
{
	const struct arc_seal_chain *c = &j->chain;

	if (c->highest > 0 && c->newest_cv_fail) {
		j->why = "the newest ARC-Seal already says cv=fail (RFC 8617 5.1 step 1)";
		return ARC_SEAL_SKIPPED;
	}
	if (c->highest >= ARC_INSTANCE_MAX) {
		j->why = "the chain has reached instance 50 (RFC 8617 4.2.1)";
		return ARC_SEAL_SKIPPED;
	}
	switch (j->req->chain) {
	case ARC_STATUS_NONE:
		if (c->any)
			return refuse(j, "chain status none, but the message has ARC header fields");
		j->cv = ARC_CV_NONE;
		break;
	case ARC_STATUS_PASS:
		if (!c->complete)
			return refuse(j, "chain status pass, but the ARC sets in the header are not complete");
		j->cv = ARC_CV_PASS;
		break;
	default:
		j->cv = ARC_CV_FAIL;
		break;
	}
	j->instance = c->highest + 1;
	return ARC_SEAL_OK;
}

static char *make_aar(struct job *j)
{
	struct strbuf v = STRBUF_INIT;
	const char *results = j->req->results ? j->req->results : "";

	strbuf_appendf(&v, " i=%u; %s;", j->instance, j->req->authserv_id);
	size_t before = v.len;
	strbuf_append_str(&v, j->nl);
	strbuf_append_char(&v, '\t');
	size_t mark = v.len;
	if (arc_seal_fmt_text(&v, results, strlen(results), j->nl) < 0) {
		strbuf_release(&v);
		j->why = "the results text has a line break that is not a fold, or a control character";
		return NULL;
	}
	if (v.len == mark) {
		strbuf_truncate(&v, before);
		strbuf_append_str(&v, " none");
	}
	return strbuf_detach(&v);
}

/* Appends field name: value relaxed, then CRLF when crlf. */
static void append_relaxed(struct strbuf *data, const char *name, const char *value, size_t len,
			   bool crlf)
{
	dkim_canon_header_append(data, DKIM_CANON_RELAXED, name, strlen(name), value, len);
	if (crlf)
		strbuf_append(data, "\r\n", 2);
}

/* Signs data and fills the b= slot of f. NULL on failure. */
static char *sign_into(struct job *j, const struct strbuf *data, const struct arc_seal_fmt *f)
{
	unsigned char hash[EVP_MAX_MD_SIZE], sig[DKIM_SIG_MAX_BYTES];
	unsigned int hash_len = 0;
	struct strbuf b64 = STRBUF_INIT;

	if (EVP_Digest(data->data, data->len, hash, &hash_len, dkim_alg_md(j->req->alg), NULL) != 1) {
		j->why = "OpenSSL could not hash the signed data";
		return NULL;
	}
	ssize_t n = dkim_crypto_sign(j->req->key, j->req->alg, hash, hash_len, sig, sizeof(sig));
	if (n < 0) {
		j->why = "OpenSSL could not sign";
		return NULL;
	}
	dkim_base64_encode(sig, (size_t)n, &b64);
	char *value = arc_seal_fmt_fill(f, b64.data, b64.len);
	strbuf_release(&b64);
	return value;
}

/* The tags every ARC signature starts with, a= and the b= slot. */
static void start_sig(struct job *j, struct arc_seal_fmt *f, const char *name)
{
	const char *alg = dkim_alg_name(j->req->alg);

	arc_seal_fmt_init(f, name, j->req->crlf);
	arc_seal_fmt_tag(f, "a", alg, strlen(alg));
	arc_seal_fmt_b_slot(f);
}

/* d=, h= (AMS only), i=, s=, t=. */
static void end_sig(struct job *j, struct arc_seal_fmt *f, bool with_h)
{
	char num[32];
	int n;

	arc_seal_fmt_tag(f, "d", j->req->domain, strlen(j->req->domain));
	if (with_h)
		arc_seal_fmt_list(f, "h", j->h, j->h_count);
	n = snprintf(num, sizeof(num), "%u", j->instance);
	if (n > 0 && (size_t)n < sizeof(num))
		arc_seal_fmt_tag(f, "i", num, (size_t)n);
	arc_seal_fmt_tag(f, "s", j->req->selector, strlen(j->req->selector));
	n = snprintf(num, sizeof(num), "%lld", (long long)j->req->timestamp);
	if (n > 0 && (size_t)n < sizeof(num))
		arc_seal_fmt_tag(f, "t", num, (size_t)n);
}

static char *make_ams(struct job *j)
{
	struct arc_seal_fmt f;
	struct strbuf bh = STRBUF_INIT, data = STRBUF_INIT;
	start_sig(j, &f, "ARC-Message-Signature");
	dkim_base64_encode(j->bh, (size_t)j->bh_len, &bh);
	arc_seal_fmt_tag(&f, "bh", bh.data, bh.len);
	arc_seal_fmt_tag(&f, "c", "relaxed/relaxed", 15);
	end_sig(j, &f, true);
	dkim_canon_append_selected(&data, DKIM_CANON_RELAXED, j->headers, j->count, j->h, j->h_count);
	append_relaxed(&data, "ARC-Message-Signature", f.out.data, f.out.len, false);
	char *value = sign_into(j, &data, &f);
	strbuf_release(&bh);
	strbuf_release(&data);
	arc_seal_fmt_release(&f);
	return value;
}

/* The AS signing input (RFC 8617 5.1.1): the sets 1..N unless the chain
 * failed (5.1.2), then the new AAR and AMS, then the AS with b= empty. */
static char *make_seal(struct job *j, const char *aar, const char *ams)
{
	struct arc_seal_fmt f;
	struct strbuf data = STRBUF_INIT;
	const char *cv = arc_cv_name(j->cv);

	start_sig(j, &f, "ARC-Seal");
	arc_seal_fmt_tag(&f, "cv", cv, strlen(cv));
	end_sig(j, &f, false);
	for (unsigned i = 1; j->cv != ARC_CV_FAIL && i < j->instance; i++)
		for (int k = 0; k < ARC_SEAL_FIELDS; k++) {
			const struct dkim_canon_header *h = &j->headers[j->chain.set[i][k]];
			dkim_canon_header_append(&data, DKIM_CANON_RELAXED, h->name, h->name_len, h->value,
					    h->value_len);
			strbuf_append(&data, "\r\n", 2);
		}
	append_relaxed(&data, "ARC-Authentication-Results", aar, strlen(aar), true);
	append_relaxed(&data, "ARC-Message-Signature", ams, strlen(ams), true);
	append_relaxed(&data, "ARC-Seal", f.out.data, f.out.len, false);
	char *value = sign_into(j, &data, &f);
	strbuf_release(&data);
	arc_seal_fmt_release(&f);
	return value;
}

static int seal(struct arc_seal *s, struct job *j, struct arc_seal_fields *fields_r)
{
	int ret;

	if ((ret = check_request(j)) != ARC_SEAL_OK)
		return ret;
	arc_seal_chain_scan(j->headers, j->count, &j->chain);
	if ((ret = decide(j)) != ARC_SEAL_OK)
		return ret;
	j->bh_len = dkim_canon_body_final(s->body, j->bh);
	if (j->bh_len < 0) {
		j->why = "OpenSSL could not hash the body";
		return ARC_SEAL_E_CRYPTO;
	}
	fields_r->instance = j->instance;
	fields_r->cv = j->cv;
	if ((fields_r->aar = make_aar(j)) == NULL)
		return ARC_SEAL_E_INVAL;
	if ((fields_r->ams = make_ams(j)) == NULL ||
	    (fields_r->seal = make_seal(j, fields_r->aar, fields_r->ams)) == NULL)
		return ARC_SEAL_E_CRYPTO;
	return ARC_SEAL_OK;
}

int arc_seal_make(struct arc_seal *s, const struct dkim_canon_header *headers, size_t count,
		  const struct arc_seal_request *request, struct arc_seal_fields *fields_r,
		  const char **why_r)
{
	struct job *j = xcalloc(1, sizeof(*j));
	int ret;

	memset(fields_r, 0, sizeof(*fields_r));
	*j = (struct job){ .req = request, .headers = headers, .count = count,
			   .nl = request->crlf ? "\r\n" : "\n", .why = "sealed" };
	if (s->done) {
		j->why = "this sealer has already sealed";
		ret = ARC_SEAL_E_INVAL;
	} else {
		ret = seal(s, j, fields_r);
	}
	s->done = true;
	if (ret != ARC_SEAL_OK)
		arc_seal_fields_release(fields_r);
	*why_r = j->why;
	free(j);
	return ret;
}

void arc_seal_fields_release(struct arc_seal_fields *fields)
{
	free(fields->aar);
	free(fields->ams);
	free(fields->seal);
	memset(fields, 0, sizeof(*fields));
}

void arc_seal_free(struct arc_seal **sp)
{
	struct arc_seal *s = *sp;

	if (s == NULL)
		return;
	dkim_canon_body_free(&s->body);
	free(s);
	*sp = NULL;
}
