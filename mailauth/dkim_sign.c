/*
 * dkim_sign.c - one message's DKIM signatures (see dkim_sign.h).
 *
 * dkim_sign_new() checks and copies the options; header fields the
 * signatures will name are kept in one buffer (offsets, since it grows),
 * others are dropped at once; the body streams through one canonicalizer.
 * At the end the selected fields are canonicalized once, and for each key
 * the field's own canonical form (with b= empty) is hashed after them and
 * signed; b= is then appended, folded, to the very text that was hashed.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/dkim_fold.h"
#include "mailauth/dkim_sign.h"

#define FIELD_NAME "DKIM-Signature"

/* RFC 6376 5.4.1, with RFC 8058's List-Unsubscribe-Post and the MIME
 * fields that decide how the body is read. */
const char *const dkim_sign_default_headers[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc",
	"Resent-Date", "Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Message-ID",
	"In-Reply-To", "References",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Subscribe",
	"List-Post", "List-Owner", "List-Archive",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-ID",
	"Content-Description", "Message-ID", "Sender",
};
const size_t dkim_sign_default_header_count =
	sizeof(dkim_sign_default_headers) / sizeof(dkim_sign_default_headers[0]);

/* What a replayed or appended copy would add to change what a reader
 * sees or how the body is decoded. */
const char *const dkim_sign_default_oversign[] = {
	"From", "To", "Cc", "Subject", "Date", "Reply-To", "Sender", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "In-Reply-To", "References",
};
const size_t dkim_sign_default_oversign_count =
	sizeof(dkim_sign_default_oversign) / sizeof(dkim_sign_default_oversign[0]);

struct sign_name {
	char *name;
	size_t len;
	bool oversign;
	size_t seen;		/* instances in the message */
};

struct kept {			/* offsets into struct dkim_sign.store */
	size_t name, name_len, value, value_len;
};

struct dkim_sign {
	char *domain, *identity;
	const struct dkim_signkey *keys[DKIM_SIGN_MAX_KEYS];
	char *selectors[DKIM_SIGN_MAX_KEYS];
	size_t key_count;
	enum dkim_canon_mode header_canon, body_canon;
	int64_t t, x;			/* x 0: none */
	bool crlf, in_body, ended;
	const char *failure;		/* static: why signing will fail */
	struct sign_name names[2 * DKIM_SIGN_MAX_NAMES];
	size_t name_count;
	struct dkim_canon_body *body;
	struct strbuf store;
	struct kept *kept;
	size_t kept_count, kept_cap;
	struct strbuf values[DKIM_SIGN_MAX_KEYS];
};

/* ---- options ---- */

/* d=, s= and the domain of i=: a DNS name (underscores allowed, as in
 * selectors), at most max characters, without a trailing dot. */
static bool valid_domain(const char *s, size_t max)
{
	size_t len = s != NULL ? strlen(s) : 0;
	const char *why;

	return len > 0 && len <= max && s[len - 1] != '.' &&
	       domain_check(s, len, ADDR_ALLOW_UNDERSCORE, &why) == 0;
}

/* RFC 5322 ftext: printable ASCII but the colon. */
static bool valid_field_name(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0 || len > DKIM_SIGN_MAX_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == ':')
			return false;
	return true;
}

/* i=: a local part we write as is (no ";", "=", white space or control
 * characters, which would need quoted-printable), "@", then d= or a
 * subdomain of it (RFC 6376 3.5). */
static bool valid_identity(const char *id, const char *domain)
{
	const char *at = strrchr(id, '@');
	size_t dlen = strlen(domain), hlen;

	if (at == NULL)
		return false;
	for (const char *p = id; p < at; p++)
		if (*p <= 32 || *p >= 127 || *p == ';' || *p == '=')
			return false;
	hlen = strlen(at + 1);
	if (!valid_domain(at + 1, DKIM_SIGN_MAX_DOMAIN) || hlen < dlen ||
	    strcasecmp(at + 1 + hlen - dlen, domain) != 0)
		return false;
	return hlen == dlen || at[1 + hlen - dlen - 1] == '.';
}

static struct sign_name *find_name(struct dkim_sign *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->name_count; i++)
		if (s->names[i].len == len && strncasecmp(s->names[i].name, name, len) == 0)
			return &s->names[i];
	return NULL;
}

/* Adds a list of field names (duplicates merge); 0 or -1 with err. */
static int add_names(struct dkim_sign *s, const char *const *list, size_t count, bool oversign,
		     const char *what, char *err, size_t errlen)
{
	if (count > DKIM_SIGN_MAX_NAMES) {
		error_format(err, errlen, "%s: more than %d header fields", what, DKIM_SIGN_MAX_NAMES);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		if (!valid_field_name(list[i])) {
			error_format(err, errlen, "%s: \"%.*s\" is not a header field name", what,
				DKIM_SIGN_MAX_NAME_LEN + 1, list[i] != NULL ? list[i] : "");
			return -1;
		}
		size_t len = strlen(list[i]);
		struct sign_name *n = find_name(s, list[i], len);
		if (n == NULL) {
			n = &s->names[s->name_count++];
			n->name = xstrdup(list[i]);
			n->len = len;
		}
		n->oversign |= oversign;
	}
	return 0;
}

static int check_keys(struct dkim_sign *s, const struct dkim_sign_options *o, char *err, size_t errlen)
{
	if (o->key_count == 0 || o->key_count > DKIM_SIGN_MAX_KEYS || o->keys == NULL) {
		error_format(err, errlen, "between 1 and %d keys sign a message", DKIM_SIGN_MAX_KEYS);
		return -1;
	}
	for (size_t i = 0; i < o->key_count; i++) {
		const char *sel = o->keys[i].selector;
		if (o->keys[i].key == NULL || !valid_domain(sel, DKIM_SIGN_MAX_SELECTOR)) {
			error_format(err, errlen, "selector \"%.*s\": not a valid selector (or no key)",
				DKIM_SIGN_MAX_SELECTOR + 1, sel != NULL ? sel : "");
			return -1;
		}
		s->keys[i] = o->keys[i].key;
		s->selectors[i] = xstrdup(sel);
		s->key_count++;
	}
	return 0;
}

static int check_tags(struct dkim_sign *s, const struct dkim_sign_options *o, char *err, size_t errlen)
{
	const char *c = o->canonicalization != NULL ? o->canonicalization : "relaxed/relaxed";

	if (!valid_domain(o->domain, DKIM_SIGN_MAX_DOMAIN)) {
		error_format(err, errlen, "the signing domain is not a domain name");
		return -1;
	}
	s->domain = xstrdup(o->domain);
	if (dkim_canon_mode_parse(c, strlen(c), &s->header_canon, &s->body_canon) < 0) {
		error_format(err, errlen, "canonicalization: not simple or relaxed (header/body)");
		return -1;
	}
	if (o->identity != NULL && !valid_identity(o->identity, o->domain)) {
		error_format(err, errlen, "identity (i=): not an address at the signing domain or below it");
		return -1;
	}
	s->identity = o->identity != NULL ? xstrdup(o->identity) : NULL;
	if (o->expire_after < 0 || o->now < 0) {
		error_format(err, errlen, "a time or expiry is negative");
		return -1;
	}
	s->t = o->now != 0 ? o->now : clock_wall_s();
	s->x = o->expire_after != 0 ? s->t + o->expire_after : 0;
	s->crlf = o->crlf;
	return 0;
}

static int check_names(struct dkim_sign *s, const struct dkim_sign_options *o, char *err, size_t errlen)
{
	const char *const *headers = o->headers != NULL ? o->headers : dkim_sign_default_headers;
	size_t header_count = o->headers != NULL ? o->header_count : dkim_sign_default_header_count;
	const char *const *over = o->oversign != NULL ? o->oversign : dkim_sign_default_oversign;
	size_t over_count = o->oversign != NULL ? o->oversign_count : dkim_sign_default_oversign_count;

	if (add_names(s, headers, header_count, false, "signed headers", err, errlen) < 0 ||
	    add_names(s, over, over_count, true, "oversigned headers", err, errlen) < 0)
		return -1;
	if (find_name(s, "From", 4) == NULL) {
		error_format(err, errlen, "signed headers: From must be signed (RFC 6376 5.4)");
		return -1;
	}
	return 0;
}

struct dkim_sign *dkim_sign_new(const struct dkim_sign_options *options, char *err, size_t errlen)
{
	struct dkim_sign *s = xcalloc(1, sizeof(*s));

	if (check_tags(s, options, err, errlen) < 0 || check_keys(s, options, err, errlen) < 0 ||
	    check_names(s, options, err, errlen) < 0) {
		dkim_sign_free(&s);
		return NULL;
	}
	s->body = dkim_canon_body_new(s->body_canon, dkim_sha256());
	return s;
}

/* ---- the message ---- */

void dkim_sign_header(struct dkim_sign *s, const char *name, const char *value)
{
	size_t name_len = strlen(name), value_len = strlen(value);
	struct sign_name *n = NULL;

	if (s->in_body) {
		s->failure = "a header field came after the body";
		return;
	}
	for (size_t i = 0; i < s->name_count && n == NULL; i++)
		if (dkim_canon_name_matches(name, name_len, s->names[i].name, s->names[i].len))
			n = &s->names[i];
	if (n == NULL || s->failure != NULL)
		return;
	if (s->kept_count == DKIM_SIGN_MAX_HEADERS) {
		s->failure = "too many header fields to sign";
		return;
	}
	if (s->store.len + name_len + value_len > DKIM_SIGN_MAX_HEADER_BYTES) {
		s->failure = "the header fields to sign are too large";
		return;
	}
	s->kept = xgrow(s->kept, &s->kept_cap, s->kept_count + 1, sizeof(*s->kept));
	struct kept *k = &s->kept[s->kept_count++];
	k->name = s->store.len;
	k->name_len = name_len;
	strbuf_append(&s->store, name, name_len);
	k->value = s->store.len;
	k->value_len = value_len;
	strbuf_append(&s->store, value, value_len);
	n->seen++;
}

void dkim_sign_body(struct dkim_sign *s, const void *data, size_t len)
{
	s->in_body = true;
	dkim_canon_body_update(s->body, data, len);
}

/* ---- the signatures ---- */

/* The h= list: each name as often as it occurs, once more if oversigned. */
static size_t sign_list(const struct dkim_sign *s, struct canon_name *list)
{
	size_t count = 0;

	for (size_t i = 0; i < s->name_count; i++) {
		const struct sign_name *n = &s->names[i];
		for (size_t k = 0; k < n->seen + (n->oversign ? 1 : 0); k++)
			list[count++] = (struct canon_name){ n->name, n->len };
	}
	return count;
}

/* The canonical form of the selected fields, each with its CRLF. */
static void canon_selected(const struct dkim_sign *s, const struct canon_name *list, size_t count,
			   struct strbuf *out)
{
	struct dkim_canon_header *headers = xcalloc(s->kept_count + 1, sizeof(*headers));

	for (size_t i = 0; i < s->kept_count; i++) {
		const struct kept *k = &s->kept[i];
		headers[i] = (struct dkim_canon_header){ s->store.data + k->name, k->name_len,
						    s->store.data + k->value, k->value_len };
	}
	dkim_canon_append_selected(out, s->header_canon, headers, s->kept_count, list, count);
	free(headers);
}

static void tag(struct dkim_fold *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tag(struct dkim_fold *f, const char *fmt, ...)
{
	struct strbuf word = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vappendf(&word, fmt, ap);
	va_end(ap);
	dkim_fold_word(f, word.data, word.len, true);
	strbuf_release(&word);
}

/* The value of key i's field up to and including "b=". */
static void value_head(const struct dkim_sign *s, size_t i, const struct canon_name *list,
		       size_t count, const char *bh, struct dkim_fold *f)
{
	tag(f, "v=1;");
	tag(f, "a=%s;", dkim_alg_name(s->keys[i]->alg));
	tag(f, "c=%s/%s;", dkim_canon_mode_name(s->header_canon), dkim_canon_mode_name(s->body_canon));
	tag(f, "d=%s;", s->domain);
	tag(f, "s=%s;", s->selectors[i]);
	if (s->identity != NULL)
		tag(f, "i=%s;", s->identity);
	tag(f, "t=%" PRId64 ";", s->t);
	if (s->x != 0)
		tag(f, "x=%" PRId64 ";", s->x);
	for (size_t k = 0; k < count; k++) {
		struct strbuf word = STRBUF_INIT;
		strbuf_appendf(&word, "%s%.*s%s", k == 0 ? "h=" : "", (int)list[k].len, list[k].name,
			       k + 1 < count ? ":" : ";");
		dkim_fold_word(f, word.data, word.len, k == 0);
		strbuf_release(&word);
	}
	tag(f, "bh=%s;", bh);
	dkim_fold_word(f, "b=", 2, true);
}

/* Signs canonical headers + this field's canonical form; appends b=. */
static int sign_one(struct dkim_sign *s, size_t i, const struct strbuf *headers,
		    const struct canon_name *list, size_t count, const char *bh)
{
	struct strbuf *value = &s->values[i];
	struct strbuf self = STRBUF_INIT, b64 = STRBUF_INIT;
	unsigned char hash[EVP_MAX_MD_SIZE], sig[DKIM_SIG_MAX_BYTES];
	unsigned hash_len = 0;
	struct dkim_fold f;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ssize_t sig_len = -1;

	dkim_fold_init(&f, value, strlen(FIELD_NAME ":"), s->crlf);
	value_head(s, i, list, count, bh, &f);
	dkim_canon_header_append(&self, s->header_canon, FIELD_NAME, strlen(FIELD_NAME), value->data, value->len);
	if (md != NULL && EVP_DigestInit_ex(md, dkim_alg_md(s->keys[i]->alg), NULL) == 1 &&
	    EVP_DigestUpdate(md, headers->data, headers->len) == 1 &&
	    EVP_DigestUpdate(md, self.data, self.len) == 1 && EVP_DigestFinal_ex(md, hash, &hash_len) == 1)
		sig_len = dkim_crypto_sign(s->keys[i]->pkey, s->keys[i]->alg, hash, hash_len, sig, sizeof(sig));
	EVP_MD_CTX_free(md);
	if (sig_len > 0) {
		dkim_base64_encode(sig, (size_t)sig_len, &b64);
		dkim_fold_base64(&f, b64.data, b64.len);
	}
	strbuf_release(&self);
	strbuf_release(&b64);
	return sig_len > 0 ? 0 : -1;
}

static int sign_all(struct dkim_sign *s)
{
	unsigned char bh_raw[EVP_MAX_MD_SIZE];
	int bh_len = dkim_canon_body_final(s->body, bh_raw);
	struct canon_name *list = xcalloc(s->kept_count + s->name_count + 1, sizeof(*list));
	size_t count = sign_list(s, list);
	struct strbuf headers = STRBUF_INIT, bh = STRBUF_INIT;
	int ret = bh_len > 0 ? 0 : -1;

	if (ret == 0) {
		dkim_base64_encode(bh_raw, (size_t)bh_len, &bh);
		canon_selected(s, list, count, &headers);
	}
	for (size_t i = 0; i < s->key_count && ret == 0; i++)
		ret = sign_one(s, i, &headers, list, count, bh.data);
	strbuf_release(&headers);
	strbuf_release(&bh);
	free(list);
	return ret;
}

int dkim_sign_end(struct dkim_sign *s, const char *values_r[DKIM_SIGN_MAX_KEYS], const char **why_r)
{
	if (s->ended) {
		*why_r = "the message was already signed";
		return -1;
	}
	s->ended = true;
	if (s->failure != NULL) {
		*why_r = s->failure;
		return -1;
	}
	if (sign_all(s) < 0) {
		*why_r = "OpenSSL failed to hash or sign";
		return -1;
	}
	for (size_t i = 0; i < s->key_count; i++)
		values_r[i] = strbuf_str(&s->values[i]);
	*why_r = NULL;
	return 0;
}

void dkim_sign_free(struct dkim_sign **s)
{
	struct dkim_sign *p = *s;

	if (p == NULL)
		return;
	free(p->domain);
	free(p->identity);
	for (size_t i = 0; i < p->key_count; i++)
		free(p->selectors[i]);
	for (size_t i = 0; i < p->name_count; i++)
		free(p->names[i].name);
	for (size_t i = 0; i < DKIM_SIGN_MAX_KEYS; i++)
		strbuf_release(&p->values[i]);
	dkim_canon_body_free(&p->body);
	strbuf_release(&p->store);
	free(p->kept);
	free(p);
	*s = NULL;
}
