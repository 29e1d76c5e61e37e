/*
 * arc_sig.c - ARC-Message-Signature, ARC-Seal and AAR prefix parsing.
 *
 * Tag rules (RFC 8617 4.1.2, 4.1.3; RFC 6376 3.5): i= is the instance
 * (1*2DIGIT, 1..50); a= rsa-sha256 or ed25519-sha256; b= and bh= base64;
 * d= a domain, s= a selector; t= and x= 1*12DIGIT; l= digits; c= a
 * canonicalization; h= a colon list (the AMS must have one, the AS must
 * not). Unknown tags are ignored, as RFC 6376 requires. The checks of
 * single tags are DKIM's own (dkim_sig.h).
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "mailauth/arc_sig.h"
#include "mailauth/dkim_sig.h"
#include "mailauth/dkim_tags.h"

/* d= and s= go through dkim_sig_name(), which writes DKIM_NAME_MAX + 1 bytes. */
_Static_assert(ARC_NAME_MAX == DKIM_NAME_MAX, "ARC and DKIM names have one bound");

#define DOMAINKEY_INFIX "._domainkey."

static int parse_instance(const struct dkim_tag *tag, unsigned *instance_r, const char **why_r)
{
	uint64_t v;

	if (dkim_sig_digits(tag, 2, &v) < 0 || v == 0) {
		*why_r = "i= is not an instance number from 1 to 50";
		return -1;
	}
	if (v > ARC_INSTANCE_MAX) {
		*why_r = "i= is over 50";
		return -1;
	}
	*instance_r = (unsigned)v;
	return 0;
}

static const struct dkim_tag *require(const struct dkim_tag_list *tags, const char *name,
					  const char *missing, const char **why_r)
{
	const struct dkim_tag *tag = dkim_tags_find(tags, name);

	if (tag == NULL)
		*why_r = missing;
	return tag;
}

/* The tags both kinds share: i= a= b= d= s= t=. */
static int parse_common(const struct dkim_tag_list *tags, struct arc_sig *sig, const char **why_r)
{
	const struct dkim_tag *i, *a, *b, *d, *s, *t;

	if ((i = require(tags, "i", "i= is missing", why_r)) == NULL ||
	    parse_instance(i, &sig->instance, why_r) < 0)
		return -1;
	if ((a = require(tags, "a", "a= is missing", why_r)) == NULL)
		return -1;
	if (dkim_alg_parse(a->value, a->value_len, &sig->alg) < 0) {
		*why_r = "a= is not rsa-sha256 or ed25519-sha256";
		return -1;
	}
	if ((b = require(tags, "b", "b= is missing", why_r)) == NULL)
		return -1;
	if (dkim_sig_base64(b, sig->b, sizeof(sig->b), &sig->b_len) < 0) {
		*why_r = b->value_len == 0 ? "b= is empty" : "b= is not base64 (or too long)";
		return -1;
	}
	sig->b_span_start = b->span_start;
	sig->b_span_end = b->span_end;
	if ((d = require(tags, "d", "d= is missing", why_r)) == NULL ||
	    dkim_sig_name(d, true, sig->domain, why_r) < 0)
		return -1;
	if ((s = require(tags, "s", "s= is missing", why_r)) == NULL ||
	    dkim_sig_name(s, false, sig->selector, why_r) < 0)
		return -1;
	if (strlen(sig->selector) + strlen(DOMAINKEY_INFIX) + strlen(sig->domain) > ADDR_DOMAIN_MAX) {
		*why_r = "s= and d= make a key name longer than 253 characters";
		return -1;
	}
	if ((t = dkim_tags_find(tags, "t")) != NULL) {
		if (dkim_sig_digits(t, DKIM_TIMESTAMP_DIGITS_MAX, &sig->t) < 0) {
			*why_r = "t= is not a timestamp";
			return -1;
		}
		sig->has_t = true;
	}
	return 0;
}

static int parse_message_tags(const struct dkim_tag_list *tags, struct arc_sig *sig, const char **why_r)
{
	const struct dkim_tag *bh, *h, *c, *l, *x;

	if ((bh = require(tags, "bh", "bh= is missing", why_r)) == NULL)
		return -1;
	if (dkim_sig_base64(bh, sig->bh, sizeof(sig->bh), &sig->bh_len) < 0) {
		*why_r = bh->value_len == 0 ? "bh= is empty" : "bh= is not base64 (or too long)";
		return -1;
	}
	if ((h = require(tags, "h", "h= is missing", why_r)) == NULL ||
	    dkim_sig_header_list(h, sig->h, ARC_SIG_MAX_HEADERS, &sig->h_count, why_r) < 0)
		return -1;
	sig->header_canon = sig->body_canon = DKIM_CANON_SIMPLE;
	if ((c = dkim_tags_find(tags, "c")) != NULL &&
	    dkim_canon_mode_parse(c->value, c->value_len, &sig->header_canon, &sig->body_canon) < 0) {
		*why_r = "c= is not a canonicalization";
		return -1;
	}
	if ((l = dkim_tags_find(tags, "l")) != NULL) {
		if (dkim_sig_digits(l, DKIM_LENGTH_DIGITS_MAX, &sig->l) < 0) {
			*why_r = "l= is not a length";
			return -1;
		}
		sig->has_l = true;
	}
	if ((x = dkim_tags_find(tags, "x")) != NULL) {
		if (dkim_sig_digits(x, DKIM_TIMESTAMP_DIGITS_MAX, &sig->x) < 0 ||
		    (sig->has_t && sig->x < sig->t)) {
			*why_r = "x= is not a timestamp after t=";
			return -1;
		}
		sig->has_x = true;
	}
	return 0;
}

static int parse_seal_tags(const struct dkim_tag_list *tags, struct arc_sig *sig, const char **why_r)
{
	const struct dkim_tag *cv;

	if (dkim_tags_find(tags, "h") != NULL) {
		*why_r = "an ARC-Seal may not have h= (RFC 8617 4.1.3)";
		return -1;
	}
	if ((cv = require(tags, "cv", "cv= is missing", why_r)) == NULL)
		return -1;
	if (cv->value_len == 4 && strncasecmp(cv->value, "none", 4) == 0)
		sig->cv = ARC_CV_NONE;
	else if (cv->value_len == 4 && strncasecmp(cv->value, "pass", 4) == 0)
		sig->cv = ARC_CV_PASS;
	else if (cv->value_len == 4 && strncasecmp(cv->value, "fail", 4) == 0)
		sig->cv = ARC_CV_FAIL;
	else {
		*why_r = "cv= is not none, pass or fail";
		return -1;
	}
	return 0;
}

int arc_sig_parse(enum arc_sig_kind kind, const char *value, size_t len, struct arc_sig *sig_r,
		  const char **why_r)
{
	struct dkim_tag_list tags;

	memset(sig_r, 0, sizeof(*sig_r));
	sig_r->kind = kind;
	if (dkim_tags_parse(value, len, &tags, why_r) < 0 || parse_common(&tags, sig_r, why_r) < 0)
		return -1;
	if (kind == ARC_SIG_MESSAGE)
		return parse_message_tags(&tags, sig_r, why_r);
	return parse_seal_tags(&tags, sig_r, why_r);
}

void arc_sig_value_without_b(const struct arc_sig *sig, const char *value, size_t len,
			     struct strbuf *out)
{
	dkim_sig_value_without_b(sig->b_span_start, sig->b_span_end, value, len, out);
}

bool arc_sig_signs_header(const struct arc_sig *sig, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sig->h_count; i++)
		if (sig->h[i].len == n && strncasecmp(sig->h[i].name, name, n) == 0)
			return true;
	return false;
}

/* Skips CFWS (RFC 5322 3.2.2): FWS and comments, which nest and may hold
 * quoted pairs. Returns the position after it, or len + 1 for a comment
 * that never closes. */
static size_t skip_cfws(const char *s, size_t len, size_t pos)
{
	for (;;) {
		pos = dkim_tags_skip_fws(s, len, pos);
		if (pos >= len || s[pos] != '(')
			return pos;
		size_t depth = 0;
		for (; pos < len; pos++) {
			if (s[pos] == '\\' && pos + 1 < len)
				pos++;
			else if (s[pos] == '(')
				depth++;
			else if (s[pos] == ')' && --depth == 0)
				break;
		}
		if (pos >= len)
			return len + 1;
		pos++;
	}
}

int arc_aar_instance(const char *value, size_t len, unsigned *instance_r, const char **why_r)
{
	size_t pos = skip_cfws(value, len, 0), digits = 0;
	unsigned v = 0;

	*why_r = "it does not start with i=N;";
	if (pos >= len || value[pos] != 'i')
		return -1;
	pos = skip_cfws(value, len, pos + 1);
	if (pos >= len || value[pos] != '=')
		return -1;
	pos = skip_cfws(value, len, pos + 1);
	for (; pos < len && value[pos] >= '0' && value[pos] <= '9' && digits < 3; pos++, digits++)
		v = v * 10 + (unsigned)(value[pos] - '0');
	pos = skip_cfws(value, len, pos);
	if (digits == 0 || digits > 2 || pos >= len || value[pos] != ';')
		return -1;
	if (v == 0 || v > ARC_INSTANCE_MAX) {
		*why_r = v == 0 ? "i= is 0" : "i= is over 50";
		return -1;
	}
	*instance_r = v;
	return 0;
}

const char *arc_cv_name(enum arc_cv cv)
{
	switch (cv) {
	case ARC_CV_PASS:
		return "pass";
	case ARC_CV_FAIL:
		return "fail";
	default:
		return "none";
	}
}
