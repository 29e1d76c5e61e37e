/*
 * dkim_sig.c - DKIM-Signature parsing and tag checks (see dkim_sig.h).
 *
 * The required tags are checked in the order RFC 6376 3.5 lists them, so
 * that a signature missing several gets one stable reason; then the
 * optional ones. Nothing is allocated: names and h= point into the value,
 * b= and bh= are decoded into the struct.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "mailauth/dkim_sig.h"

#define DOMAINKEY_INFIX "._domainkey."

int dkim_sig_digits(const struct dkim_tag *tag, size_t max_digits, uint64_t *value_r)
{
	uint64_t v = 0;

	if (tag->value_len == 0 || tag->value_len > max_digits)
		return -1;
	for (size_t i = 0; i < tag->value_len; i++) {
		char c = tag->value[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (uint64_t)(c - '0');
	}
	*value_r = v;
	return 0;
}

int dkim_sig_name(const struct dkim_tag *tag, bool is_domain, char *out, const char **why_r)
{
	const char *why;
	bool final_dot = tag->value_len > 0 && tag->value[tag->value_len - 1] == '.';

	if (tag->value_len > DKIM_NAME_MAX ||
	    domain_check(tag->value, tag->value_len, ADDR_ALLOW_UTF8 | ADDR_ALLOW_UNDERSCORE, &why) < 0 ||
	    (!is_domain && final_dot)) {
		*why_r = is_domain ? "d= is not a domain name" : "s= is not a selector";
		return -1;
	}
	if (is_domain) {
		if (domain_normalize(tag->value, tag->value_len, out, DKIM_NAME_MAX + 1) >= 0)
			return 0;
		*why_r = "d= is not a domain name";
		return -1;
	}
	memcpy(out, tag->value, tag->value_len);
	out[tag->value_len] = '\0';
	return 0;
}

int dkim_sig_base64(const struct dkim_tag *tag, unsigned char *out, size_t cap, size_t *len_r)
{
	ssize_t n = dkim_base64_decode(tag->value, tag->value_len, out, cap);

	if (n <= 0)
		return -1;
	*len_r = (size_t)n;
	return 0;
}

int dkim_sig_header_list(const struct dkim_tag *tag, struct canon_name *names, size_t cap,
			 size_t *count_r, const char **why_r)
{
	size_t pos = 0, len, count = 0;
	const char *item;

	*count_r = 0;
	if (tag->value_len == 0)
		return 0;
	while (dkim_tags_next_item(tag, &pos, &item, &len)) {
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)item[i] <= ' ' || item[i] == 0x7f) {
				*why_r = "h= has a header field name with white space in it";
				return -1;
			}
		if (count == cap) {
			*why_r = "h= lists too many header fields";
			return -1;
		}
		names[count].name = item;
		names[count].len = len;
		count++;
	}
	*count_r = count;
	return 0;
}

void dkim_sig_value_without_b(size_t b_span_start, size_t b_span_end, const char *value,
			      size_t len, struct strbuf *out)
{
	size_t start = b_span_start <= len ? b_span_start : len;
	size_t end = b_span_end <= len && b_span_end >= start ? b_span_end : start;

	strbuf_append(out, value, start);
	strbuf_append(out, value + end, len - end);
}

static const struct dkim_tag *require(const struct dkim_tag_list *tags, const char *name,
				      const char *missing, const char **why_r)
{
	const struct dkim_tag *tag = dkim_tags_find(tags, name);

	if (tag == NULL)
		*why_r = missing;
	return tag;
}

static void keep_raw(const struct dkim_tag_list *tags, const char *name, struct dkim_span *span)
{
	const struct dkim_tag *tag = dkim_tags_find(tags, name);

	span->p = tag != NULL ? tag->value : NULL;
	span->len = tag != NULL ? tag->value_len : 0;
}

static int parse_alg(const struct dkim_tag *a, struct dkim_sig *sig, const char **why_r)
{
	if (a->value_len == 8 && strncasecmp(a->value, "rsa-sha1", 8) == 0) {
		sig->sha1 = true;
		return 0;
	}
	if (dkim_alg_parse(a->value, a->value_len, &sig->alg) == 0)
		return 0;
	*why_r = "a= is not rsa-sha256, ed25519-sha256 or rsa-sha1";
	return -1;
}

static bool names_from(const struct dkim_sig *sig)
{
	for (size_t i = 0; i < sig->h_count; i++)
		if (sig->h[i].len == 4 && strncasecmp(sig->h[i].name, "from", 4) == 0)
			return true;
	return false;
}

/* v= a= b= bh= d= h= s=, RFC 6376 3.5's required tags. */
static int parse_required(const struct dkim_tag_list *tags, struct dkim_sig *sig, const char **why_r)
{
	const struct dkim_tag *v, *a, *b, *bh, *d, *h, *s;

	if ((v = require(tags, "v", "v= is missing", why_r)) == NULL)
		return -1;
	if (!dkim_tags_value_is(v, "1")) {
		*why_r = "v= is not 1";
		return -1;
	}
	if ((a = require(tags, "a", "a= is missing", why_r)) == NULL || parse_alg(a, sig, why_r) < 0)
		return -1;
	if ((b = require(tags, "b", "b= is missing", why_r)) == NULL)
		return -1;
	if (dkim_sig_base64(b, sig->b, sizeof(sig->b), &sig->b_len) < 0) {
		*why_r = b->value_len == 0 ? "b= is empty" : "b= is not base64 (or too long)";
		return -1;
	}
	sig->b_span_start = b->span_start;
	sig->b_span_end = b->span_end;
	if ((bh = require(tags, "bh", "bh= is missing", why_r)) == NULL)
		return -1;
	if (dkim_sig_base64(bh, sig->bh, sizeof(sig->bh), &sig->bh_len) < 0) {
		*why_r = bh->value_len == 0 ? "bh= is empty" : "bh= is not base64 (or too long)";
		return -1;
	}
	if ((d = require(tags, "d", "d= is missing", why_r)) == NULL ||
	    dkim_sig_name(d, true, sig->domain, why_r) < 0)
		return -1;
	if ((h = require(tags, "h", "h= is missing", why_r)) == NULL ||
	    dkim_sig_header_list(h, sig->h, DKIM_SIG_MAX_NAMES, &sig->h_count, why_r) < 0)
		return -1;
	if (!names_from(sig)) {
		*why_r = "h= does not name From (RFC 6376 5.4)";
		return -1;
	}
	if ((s = require(tags, "s", "s= is missing", why_r)) == NULL ||
	    dkim_sig_name(s, false, sig->selector, why_r) < 0)
		return -1;
	if (strlen(sig->selector) + strlen(DOMAINKEY_INFIX) + strlen(sig->domain) > ADDR_DOMAIN_MAX) {
		*why_r = "s= and d= make a key name longer than 253 characters";
		return -1;
	}
	return 0;
}

/* i= is [local-part] "@" domain, the domain d= or below it. */
static int parse_identity(const struct dkim_tag *i, struct dkim_sig *sig, const char **why_r)
{
	const char *at = NULL, *why;
	char domain[DKIM_NAME_MAX + 1];

	for (size_t k = i->value_len; k-- > 0;)
		if (i->value[k] == '@') {
			at = i->value + k;
			break;
		}
	*why_r = "i= is not an identity (@domain)";
	if (at == NULL)
		return -1;
	size_t len = i->value_len - (size_t)(at + 1 - i->value);
	if (len == 0 || len > DKIM_NAME_MAX ||
	    domain_check(at + 1, len, ADDR_ALLOW_UTF8 | ADDR_ALLOW_UNDERSCORE, &why) < 0 ||
	    domain_normalize(at + 1, len, domain, sizeof(domain)) < 0)
		return -1;
	if (!domain_is_within(domain, sig->domain)) {
		*why_r = "the domain of i= is not d= or a subdomain of it";
		return -1;
	}
	sig->i_subdomain = strcmp(domain, sig->domain) != 0;
	return 0;
}

/* q= must offer the one method there is (RFC 6376 3.5). */
static int parse_query(const struct dkim_tag *q, const char **why_r)
{
	size_t pos = 0, len;
	const char *item;

	while (dkim_tags_next_item(q, &pos, &item, &len))
		if (len == 7 && strncasecmp(item, "dns/txt", 7) == 0)
			return 0;
	*why_r = "q= does not offer dns/txt";
	return -1;
}

static int parse_times(const struct dkim_tag_list *tags, struct dkim_sig *sig, const char **why_r)
{
	const struct dkim_tag *t = dkim_tags_find(tags, "t"), *x = dkim_tags_find(tags, "x");

	if (t != NULL) {
		if (dkim_sig_digits(t, DKIM_TIMESTAMP_DIGITS_MAX, &sig->t) < 0) {
			*why_r = "t= is not a timestamp";
			return -1;
		}
		sig->has_t = true;
	}
	if (x != NULL) {
		if (dkim_sig_digits(x, DKIM_TIMESTAMP_DIGITS_MAX, &sig->x) < 0) {
			*why_r = "x= is not a timestamp";
			return -1;
		}
		if (sig->has_t && sig->x < sig->t) {
			*why_r = "x= is before t=";
			return -1;
		}
		sig->has_x = true;
	}
	return 0;
}

/* c= i= l= q= t= x=. */
static int parse_optional(const struct dkim_tag_list *tags, struct dkim_sig *sig, const char **why_r)
{
	const struct dkim_tag *c, *i, *l, *q;

	sig->header_canon = sig->body_canon = DKIM_CANON_SIMPLE;
	if ((c = dkim_tags_find(tags, "c")) != NULL &&
	    dkim_canon_mode_parse(c->value, c->value_len, &sig->header_canon, &sig->body_canon) < 0) {
		*why_r = "c= is not a canonicalization";
		return -1;
	}
	if ((i = dkim_tags_find(tags, "i")) != NULL && parse_identity(i, sig, why_r) < 0)
		return -1;
	if ((l = dkim_tags_find(tags, "l")) != NULL) {
		if (dkim_sig_digits(l, DKIM_LENGTH_DIGITS_MAX, &sig->l) < 0) {
			*why_r = "l= is not a length";
			return -1;
		}
		sig->has_l = true;
	}
	if ((q = dkim_tags_find(tags, "q")) != NULL && parse_query(q, why_r) < 0)
		return -1;
	return parse_times(tags, sig, why_r);
}

int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *sig_r, const char **why_r)
{
	struct dkim_tag_list tags;
	int rc = dkim_tags_parse(value, len, &tags, why_r);

	memset(sig_r, 0, sizeof(*sig_r));
	/* tags holds what was read so far even when the list is invalid */
	keep_raw(&tags, "a", &sig_r->raw_a);
	keep_raw(&tags, "b", &sig_r->raw_b);
	keep_raw(&tags, "d", &sig_r->raw_d);
	keep_raw(&tags, "s", &sig_r->raw_s);
	if (rc < 0 || parse_required(&tags, sig_r, why_r) < 0)
		return -1;
	return parse_optional(&tags, sig_r, why_r);
}
