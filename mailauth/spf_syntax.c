/*
 * spf_syntax.c - the RFC 7208 grammar (section 12) of records and
 * explanations, and the equivalent text handed to libspf2.
 *
 * A record is split at spaces into terms; each term is a modifier when it
 * starts with a modifier name and '=', else a directive (an optional
 * qualifier and a mechanism). Names of mechanisms and modifiers, macro
 * letters and "v=spf1" are case-insensitive (ABNF strings).
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "mailauth/spf_syntax.h"

#define STRINGIFY(x) #x
#define TO_TEXT(x) STRINGIFY(x)

struct span {
	const char *s;
	size_t len;
};

/* c is one of set (never NUL). */
static bool in_set(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

static bool span_is(struct span t, const char *word)
{
	return t.len == strlen(word) && strncasecmp(t.s, word, t.len) == 0;
}

/* --- macros --------------------------------------------------------------- */

static bool is_macro_letter(char c, bool explanation)
{
	c = (char)tolower((unsigned char)c);
	return in_set(c, "slodipvh") || (explanation && in_set(c, "crt"));
}

/* The %{...} at s[0..len) (s[0] is '%', s[1] is '{'); its length, or 0. */
static size_t macro_expand_length(const char *s, size_t len, bool explanation)
{
	size_t i = 2, digits = 0;
	bool nonzero = false;

	if (i >= len || !is_macro_letter(s[i], explanation))
		return 0;
	for (i++; i < len && isdigit((unsigned char)s[i]); i++, digits++)
		nonzero |= s[i] != '0';
	if (digits > 0 && !nonzero)	/* 7.3: the number of parts MUST be nonzero */
		return 0;
	if (i < len && (s[i] == 'r' || s[i] == 'R'))
		i++;
	while (i < len && in_set(s[i], ".-+,/_="))
		i++;
	return i < len && s[i] == '}' ? i + 1 : 0;
}

/* Checks a macro-string (or, with explanation, an explain-string) at
 * s[0..len); *ends_in_macro_r says whether it ends with a macro-expand. */
static bool macro_string_ok(const char *s, size_t len, bool explanation, bool *ends_in_macro_r)
{
	bool ends_in_macro = false;

	for (size_t i = 0; i < len; ) {
		size_t step = 1;
		if (s[i] == '%') {
			if (i + 1 >= len)
				return false;
			if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-')
				step = 2;
			else if (s[i + 1] != '{' || (step = macro_expand_length(s + i, len - i, explanation)) == 0)
				return false;
			ends_in_macro = true;
		} else if ((unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f) {
			ends_in_macro = false;
		} else if (!(explanation && s[i] == ' ')) {
			return false;
		} else {
			ends_in_macro = false;
		}
		i += step;
	}
	*ends_in_macro_r = ends_in_macro;
	return true;
}

/* --- domains ---------------------------------------------------------------- */

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool toplabel_ok(const char *s, size_t len)
{
	bool alpha = false, dash = false;

	if (len == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '-')
			dash = true;
		else if (isalpha(c))
			alpha = true;
		else if (!isdigit(c))
			return false;
	}
	return alpha || dash;
}

/* domain-spec = macro-string domain-end
 * domain-end  = ( "." toplabel [ "." ] ) / macro-expand */
static bool domain_spec_ok(struct span d)
{
	bool ends_in_macro;
	size_t len = d.len;
	const char *dot;

	if (len == 0 || !macro_string_ok(d.s, len, false, &ends_in_macro))
		return false;
	if (ends_in_macro)
		return true;
	if (d.s[len - 1] == '.')
		len--;
	dot = len > 0 ? memrchr(d.s, '.', len) : NULL;
	return dot != NULL && toplabel_ok(dot + 1, len - (size_t)(dot + 1 - d.s));
}

/* --- networks ---------------------------------------------------------------- */

/* A prefix length: "0" or digits without a leading zero, at most max. */
static bool prefix_ok(struct span p, unsigned max)
{
	unsigned value = 0;

	if (p.len == 0 || p.len > 3 || (p.len > 1 && p.s[0] == '0'))
		return false;
	for (size_t i = 0; i < p.len; i++) {
		if (!isdigit((unsigned char)p.s[i]))
			return false;
		value = value * 10 + (unsigned)(p.s[i] - '0');
	}
	return value <= max;
}

/* Splits "/N" off the end of *t when N is a number; returns whether it did. */
static bool split_prefix(struct span *t, struct span *prefix_r, size_t slashes)
{
	size_t i = t->len;

	while (i > 0 && isdigit((unsigned char)t->s[i - 1]))
		i--;
	if (i == t->len || i < slashes)
		return false;
	for (size_t k = 1; k <= slashes; k++)
		if (t->s[i - k] != '/')
			return false;
	if (slashes == 1 && i >= 2 && t->s[i - 2] == '/')
		return false;	/* "//N" is the IPv6 length */
	*prefix_r = (struct span){ t->s + i, t->len - i };
	t->len = i - slashes;
	return true;
}

/* ip4-network or ip6-network [ "/" length ]; *zero_r when the length is 0. */
static bool network_ok(struct span t, int family, bool *zero_r)
{
	char addr[64];
	unsigned char bytes[16];
	struct span prefix = { NULL, 0 };
	const char *slash = memrchr(t.s, '/', t.len);

	if (slash != NULL) {
		prefix = (struct span){ slash + 1, t.len - (size_t)(slash + 1 - t.s) };
		t.len = (size_t)(slash - t.s);
		if (!prefix_ok(prefix, family == AF_INET ? 32 : 128))
			return false;
	}
	*zero_r = prefix.len == 1 && prefix.s[0] == '0';
	if (t.len == 0 || t.len >= sizeof(addr))
		return false;
	memcpy(addr, t.s, t.len);
	addr[t.len] = '\0';
	return inet_pton(family, addr, bytes) == 1;	/* dotted quads without leading zeros */
}

/* --- terms -------------------------------------------------------------------- */

struct record {
	struct strbuf *out;
	struct span redirect;
	bool has_all, has_exp;
	const char *why;
};

static void emit(struct record *r, struct span t)
{
	strbuf_append_char(r->out, ' ');
	strbuf_append(r->out, t.s, t.len);
}

static bool fail(struct record *r, const char *why)
{
	r->why = why;
	return false;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ), then '='; the
 * name's length, or 0 when t is not a modifier. */
static size_t modifier_name_length(struct span t)
{
	size_t i = 0;

	if (t.len == 0 || !isalpha((unsigned char)t.s[0]))
		return 0;
	while (i < t.len && (isalnum((unsigned char)t.s[i]) || in_set(t.s[i], "-_.")))
		i++;
	return i < t.len && t.s[i] == '=' ? i : 0;
}

static bool modifier_ok(struct record *r, struct span t, size_t name_len)
{
	struct span name = { t.s, name_len }, value = { t.s + name_len + 1, t.len - name_len - 1 };
	bool ends_in_macro;

	if (span_is(name, "redirect")) {
		if (r->redirect.s != NULL)
			return fail(r, "redirect= appears twice");
		if (!domain_spec_ok(value))
			return fail(r, "redirect= needs a valid domain-spec");
		r->redirect = t;
		return true;
	}
	if (span_is(name, "exp")) {
		if (r->has_exp)
			return fail(r, "exp= appears twice");
		if (!domain_spec_ok(value))
			return fail(r, "exp= needs a valid domain-spec");
		r->has_exp = true;
		emit(r, t);
		return true;
	}
	if (!macro_string_ok(value.s, value.len, false, &ends_in_macro))
		return fail(r, "an unknown modifier has an invalid macro string");
	return true;		/* unknown modifiers have no effect: dropped */
}

/* The rest of a, mx: [ ":" domain-spec ] [ dual-cidr-length ]. */
struct a_mx_rest {
	struct span domain;		/* without the ':'; empty for none */
	struct span ip4_prefix, ip6_prefix;	/* digits; empty for none */
};

static bool is_zero(struct span prefix)
{
	return prefix.len == 1 && prefix.s[0] == '0';
}

static bool a_mx_rest_ok(struct span rest, struct a_mx_rest *parts_r)
{
	*parts_r = (struct a_mx_rest){ { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	if (split_prefix(&rest, &parts_r->ip6_prefix, 2) && !prefix_ok(parts_r->ip6_prefix, 128))
		return false;
	if (split_prefix(&rest, &parts_r->ip4_prefix, 1) && !prefix_ok(parts_r->ip4_prefix, 32))
		return false;
	if (rest.len == 0)
		return true;
	parts_r->domain = (struct span){ rest.s + 1, rest.len - 1 };
	return rest.s[0] == ':' && domain_spec_ok(parts_r->domain);
}

/* a or mx with a /0 length: the tagged domain, the other length kept. */
static void emit_zero_a_mx(struct record *r, struct span qualifier_and_name,
			   const struct a_mx_rest *parts)
{
	bool zero4 = is_zero(parts->ip4_prefix), zero6 = is_zero(parts->ip6_prefix);
	const char *tag = zero4 && zero6 ? SPF_TAG_ZERO_BOTH
			  : zero4 ? SPF_TAG_ZERO_IP4 : SPF_TAG_ZERO_IP6;

	strbuf_append_char(r->out, ' ');
	strbuf_append(r->out, qualifier_and_name.s, qualifier_and_name.len);
	strbuf_append_char(r->out, ':');
	strbuf_append_str(r->out, tag);
	if (parts->domain.len > 0)
		strbuf_append(r->out, parts->domain.s, parts->domain.len);
	else
		strbuf_append_str(r->out, "%{d}");
	if (!zero4 && parts->ip4_prefix.len > 0) {
		strbuf_append_char(r->out, '/');
		strbuf_append(r->out, parts->ip4_prefix.s, parts->ip4_prefix.len);
	}
	if (!zero6 && parts->ip6_prefix.len > 0) {
		strbuf_append_str(r->out, "//");
		strbuf_append(r->out, parts->ip6_prefix.s, parts->ip6_prefix.len);
	}
}

/* ip4:X/0, ip6:X/0 as the two halves of the address space. */
static void emit_zero_prefix(struct record *r, struct span qualifier, int family)
{
	const char *halves[2][2] = { { "ip4:0.0.0.0/1", "ip4:128.0.0.0/1" },
				     { "ip6:::/1", "ip6:8000::/1" } };

	for (int i = 0; i < 2; i++) {
		strbuf_append_char(r->out, ' ');
		strbuf_append(r->out, qualifier.s, qualifier.len);
		strbuf_append_str(r->out, halves[family == AF_INET6][i]);
	}
}

static bool mechanism_ok(struct record *r, struct span t)
{
	struct span q = { t.s, in_set(t.s[0], "+-?~") ? 1u : 0u };
	struct span m = { t.s + q.len, 0 }, rest;
	bool zero = false;

	while (q.len + m.len < t.len && m.s[m.len] != ':' && m.s[m.len] != '/')
		m.len++;
	rest = (struct span){ m.s + m.len, t.len - q.len - m.len };
	if (span_is(m, "all")) {
		r->has_all = true;
		if (rest.len != 0)
			return fail(r, "all takes no argument");
	} else if (span_is(m, "include") || span_is(m, "exists")) {
		if (rest.len == 0 || rest.s[0] != ':' ||
		    !domain_spec_ok((struct span){ rest.s + 1, rest.len - 1 }))
			return fail(r, "include and exists need a valid domain-spec");
	} else if (span_is(m, "a") || span_is(m, "mx")) {
		struct a_mx_rest parts;
		if (!a_mx_rest_ok(rest, &parts))
			return fail(r, "a or mx has an invalid domain-spec or prefix length");
		if (is_zero(parts.ip4_prefix) || is_zero(parts.ip6_prefix)) {
			emit_zero_a_mx(r, (struct span){ t.s, q.len + m.len }, &parts);
			return true;
		}
	} else if (span_is(m, "ptr")) {
		if (rest.len != 0 && (rest.s[0] != ':' ||
				      !domain_spec_ok((struct span){ rest.s + 1, rest.len - 1 })))
			return fail(r, "ptr has an invalid domain-spec");
	} else if (span_is(m, "ip4") || span_is(m, "ip6")) {
		int family = span_is(m, "ip4") ? AF_INET : AF_INET6;
		if (rest.len == 0 || rest.s[0] != ':' ||
		    !network_ok((struct span){ rest.s + 1, rest.len - 1 }, family, &zero))
			return fail(r, "ip4 or ip6 has an invalid network");
		if (zero) {
			emit_zero_prefix(r, q, family);
			return true;
		}
	} else {
		return fail(r, "unknown mechanism");
	}
	emit(r, t);
	return true;
}

static bool term_ok(struct record *r, struct span t)
{
	size_t name_len = modifier_name_length(t);

	if (t.len > SPF_TERM_MAX)
		return fail(r, "a term is longer than " TO_TEXT(SPF_TERM_MAX) " characters");
	if (name_len > 0)
		return modifier_ok(r, t, name_len);
	return mechanism_ok(r, t);
}

int spf_syntax_record(const char *record, struct strbuf *out, const char **why_r)
{
	struct record r = { .out = out };
	size_t start = out->len;
	const char *p = record;

	if (strncasecmp(p, "v=spf1", 6) != 0 || (p[6] != ' ' && p[6] != '\0')) {
		*why_r = "not an SPF record";
		return -1;
	}
	strbuf_append_str(out, "v=spf1");
	for (p += 6; *p != '\0'; ) {
		struct span t = { p, strcspn(p, " ") };
		if (t.len > 0 && !term_ok(&r, t)) {
			strbuf_truncate(out, start);
			*why_r = r.why;
			return -1;
		}
		p += t.len;
		p += strspn(p, " ");
	}
	if (r.redirect.s != NULL && !r.has_all)
		emit(&r, r.redirect);
	return 0;
}

int spf_syntax_explanation(const char *text, struct strbuf *out, const char **why_r)
{
	size_t len = strlen(text);
	bool ends_in_macro;

	if (len > SPF_EXPLANATION_TEXT_MAX) {
		*why_r = "longer than " TO_TEXT(SPF_EXPLANATION_TEXT_MAX) " characters";
		return -1;
	}
	if (!macro_string_ok(text, len, true, &ends_in_macro)) {
		*why_r = "not a valid explanation string";
		return -1;
	}
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == ' ')
			strbuf_append_str(out, "%_");
		else
			strbuf_append_char(out, *p);
	}
	return 0;
}
