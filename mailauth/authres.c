/*
 * authres.c - build Authentication-Results values and read the
 * authserv-id of incoming ones (RFC 8601; ARC-Authentication-Results per
 * RFC 8617 section 4.1.1).
 *
 * Builder: results are checked (method/result pairs from RFC 8601 section
 * 2.7 and RFC 8617), values are written bare when they are RFC 2045 tokens
 * (or, for smtp.mailfrom, a dot-atom local-part@domain), quoted with
 * escapes otherwise, and refused when no quoted-string can carry them
 * (control characters, invalid UTF-8). The value is built in a strbuf and
 * copied out only when it fits.
 *
 * Parser: a cursor over buf[0..len) that never reads past the end; comments
 * nest up to AUTHRES_COMMENT_DEPTH_MAX, folds are CRLF or bare LF followed
 * by white space. Diagnostics are static strings.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/strbuf.h"
#include "mailauth/authres.h"

/* Comments nested deeper than this are refused as malformed. */
#define AUTHRES_COMMENT_DEPTH_MAX 32
/* Columns taken by "Authentication-Results: " before the value. */
#define AUTHRES_NAME_COLUMNS 24
#define AUTHRES_TAB_COLUMNS 8

static int fail(const char **why_r, const char *why, int status)
{
	if (why_r != NULL)
		*why_r = why;
	return status;
}

/* ---- character classes ------------------------------------------------ */

/* RFC 2045 token: printable ASCII except SPACE and tspecials. */
static bool is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static bool is_token(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_token_char((unsigned char)s[i]))
			return false;
	return true;
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 atext (ASCII only). */
static bool is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Runs of ok() characters separated by single dots, none empty. */
static bool is_dotted(const char *s, size_t len, bool (*ok)(unsigned char))
{
	bool after_dot = true;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (after_dot)
				return false;
			after_dot = true;
		} else if (ok(c)) {
			after_dot = false;
		} else {
			return false;
		}
	}
	return !after_dot;
}

static bool is_label_char(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

/* [[dot-atom-local] "@"] domain-name: written bare by RFC 8601's pvalue. */
static bool is_plain_address(const char *s, size_t len)
{
	size_t at = len;

	while (at > 0 && s[at - 1] != '@')
		at--;
	if (at == 0)
		return false;
	size_t local_len = at - 1;
	if (local_len > 0 && !is_dotted(s, local_len, is_atext))
		return false;
	return is_dotted(s + at, len - at, is_label_char);
}

/* True when s can travel inside a quoted-string: no controls but HTAB,
 * UTF-8 (RFC 6532) well-formed. */
static bool is_quotable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			size_t n = utf8_sequence_length((const unsigned char *)s + i, len - i);
			if (n == 0)
				return false;
			i += n - 1;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return false;
		}
	}
	return true;
}

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* ---- builder ---------------------------------------------------------- */

static size_t id_length_without_dot(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

struct builder {
	struct strbuf sb;
	const char *fold;
	bool fold_breaks;	/* fold starts a new line */
	size_t fold_columns;	/* width of the fold's white space */
	size_t col;		/* column of the end of sb */
	const char *why;
};

static void builder_put(struct builder *b, const char *s, size_t len)
{
	strbuf_append(&b->sb, s, len);
	b->col += len;
}

static void builder_fold(struct builder *b)
{
	strbuf_append_str(&b->sb, b->fold);
	b->col = b->fold_breaks ? b->fold_columns : b->col + b->fold_columns;
}

/* Appends " item", or fold + item when the line would grow too long. */
static void builder_item(struct builder *b, const struct strbuf *item)
{
	if (b->fold_breaks && b->col + 1 + item->len > AUTHRES_LINE_SOFT_MAX &&
	    b->col > b->fold_columns)
		builder_fold(b);
	else
		builder_put(b, " ", 1);
	builder_put(b, item->data, item->len);
}

static void append_quoted(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_append_char(sb, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			strbuf_append_char(sb, '\\');
		strbuf_append_char(sb, s[i]);
	}
	strbuf_append_char(sb, '"');
}

/* Appends a value bare when RFC 8601 allows it, quoted otherwise. */
static int append_value(struct strbuf *sb, const char *s, size_t len,
			bool address_ok, const char **why_r)
{
	if (is_token(s, len) || (address_ok && is_plain_address(s, len))) {
		strbuf_append(sb, s, len);
		return 0;
	}
	if (!is_quotable(s, len))
		return fail(why_r, "a value contains a control character or invalid UTF-8",
			    AUTHRES_E_INVAL);
	append_quoted(sb, s, len);
	return 0;
}

/* Adds " name=value" (value may be NULL/empty: nothing is added). */
static int builder_prop(struct builder *b, const char *name, const char *value,
			size_t value_len, bool address_ok)
{
	struct strbuf item = STRBUF_INIT;
	int ret;

	if (value == NULL || value_len == 0)
		return 0;
	strbuf_append_str(&item, name);
	strbuf_append_char(&item, '=');
	ret = append_value(&item, value, value_len, address_ok, &b->why);
	if (ret == 0)
		builder_item(b, &item);
	strbuf_release(&item);
	return ret;
}

static int builder_prop_str(struct builder *b, const char *name, const char *value,
			    bool address_ok)
{
	return builder_prop(b, name, value, value != NULL ? strlen(value) : 0, address_ok);
}

static int builder_reason(struct builder *b, const char *reason)
{
	struct strbuf item = STRBUF_INIT;
	size_t len = strlen(reason);

	if (!is_quotable(reason, len)) {
		b->why = "the reason contains a control character or invalid UTF-8";
		return AUTHRES_E_INVAL;
	}
	strbuf_append_str(&item, "reason=");
	append_quoted(&item, reason, len);
	builder_item(b, &item);
	strbuf_release(&item);
	return 0;
}

static const char *const spf_results[] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror",
	"policy", NULL
};
static const char *const dkim_results[] = {
	"none", "pass", "fail", "policy", "neutral", "temperror", "permerror", NULL
};
static const char *const dmarc_results[] = {
	"none", "pass", "fail", "temperror", "permerror", NULL
};
static const char *const arc_results[] = { "none", "pass", "fail", NULL };

static const struct {
	const char *name;
	const char *const *results;
} methods[] = {
	[AUTHRES_SPF_MAILFROM] = { "spf", spf_results },
	[AUTHRES_SPF_HELO] = { "spf", spf_results },
	[AUTHRES_DKIM] = { "dkim", dkim_results },
	[AUTHRES_DMARC] = { "dmarc", dmarc_results },
	[AUTHRES_ARC] = { "arc", arc_results },
};

static bool result_known(enum authres_method m, const char *result)
{
	if (result == NULL)
		return false;
	for (const char *const *r = methods[m].results; *r != NULL; r++)
		if (strcmp(*r, result) == 0)
			return true;
	return false;
}

static bool is_b_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Number of non-white-space characters of a b= value. */
static size_t b_length(const char *b)
{
	size_t n = 0;

	for (; *b != '\0'; b++)
		if (!is_b_space(*b))
			n++;
	return n;
}

/* Length of the common prefix of two b= values, white space ignored. */
static size_t b_common_prefix(const char *x, const char *y)
{
	size_t n = 0;

	for (;;) {
		while (is_b_space(*x))
			x++;
		while (is_b_space(*y))
			y++;
		if (*x == '\0' || *x != *y)
			return n;
		x++, y++, n++;
	}
}

/* How much of results[self].dkim.b header.b shows: AUTHRES_DKIM_B_PREFIX
 * characters, more (up to AUTHRES_DKIM_B_PREFIX_MAX) when another signature
 * shares that prefix. */
static size_t b_prefix_length(const struct authres_result *results, size_t count,
			      size_t self)
{
	const char *b = results[self].dkim.b;
	size_t len = b_length(b), want = AUTHRES_DKIM_B_PREFIX;

	for (size_t j = 0; j < count; j++) {
		if (j == self || results[j].method != AUTHRES_DKIM || !is_set(results[j].dkim.b))
			continue;
		size_t common = b_common_prefix(b, results[j].dkim.b);
		if (common + 1 > want)
			want = common + 1;
	}
	if (want > AUTHRES_DKIM_B_PREFIX_MAX)
		want = AUTHRES_DKIM_B_PREFIX_MAX;
	return want < len ? want : len;
}

static int build_dkim(struct builder *b, const struct authres_result *results,
		      size_t count, size_t i)
{
	const struct authres_dkim *d = &results[i].dkim;
	char prefix[AUTHRES_DKIM_B_PREFIX_MAX];
	size_t n = 0;
	int ret;

	if ((ret = builder_prop_str(b, "header.d", d->domain, false)) < 0 ||
	    (ret = builder_prop_str(b, "header.s", d->selector, false)) < 0)
		return ret;
	if (is_set(d->b)) {
		size_t want = b_prefix_length(results, count, i);
		for (const char *p = d->b; n < want; p++)
			if (!is_b_space(*p))
				prefix[n++] = *p;
		if ((ret = builder_prop(b, "header.b", prefix, n, false)) < 0)
			return ret;
	}
	return builder_prop_str(b, "header.a", d->algorithm, false);
}

/* Appends " (p=reject sp=none ... dis=reject)" from the parts that are set. */
static int build_dmarc_comment(struct builder *b, const struct authres_dmarc *d)
{
	const char *names[] = { "p", "sp", "np", "t", "pct", "psd", "dis" };
	const char *values[] = { d->policy, d->subdomain_policy, d->nonexistent_policy, d->testing,
				 d->pct, d->psd, d->disposition };
	struct strbuf item = STRBUF_INIT;

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (!is_set(values[k]))
			continue;
		if (!is_dotted(values[k], strlen(values[k]), is_label_char)) {
			strbuf_release(&item);
			b->why = "a DMARC policy word is not a plain word";
			return AUTHRES_E_INVAL;
		}
		strbuf_appendf(&item, "%s%s=%s", item.len == 0 ? "(" : " ", names[k], values[k]);
	}
	if (item.len > 0) {
		strbuf_append_char(&item, ')');
		builder_item(b, &item);
	}
	strbuf_release(&item);
	return 0;
}

static int build_arc(struct builder *b, const struct authres_arc *a)
{
	char num[16];
	int ret, n;

	if ((ret = builder_prop_str(b, "smtp.remote-ip", a->remote_ip, false)) < 0)
		return ret;
	if (a->oldest_pass == 0)
		return 0;
	n = snprintf(num, sizeof(num), "%u", a->oldest_pass);
	if (n < 0 || (size_t)n >= sizeof(num)) {
		b->why = "header.oldest-pass does not fit";
		return AUTHRES_E_INVAL;
	}
	return builder_prop(b, "header.oldest-pass", num, (size_t)n, false);
}

/* The properties of results[i], after "method=result". */
static int build_properties(struct builder *b, const struct authres_result *results,
			    size_t count, size_t i)
{
	const struct authres_result *r = &results[i];
	int ret;

	switch (r->method) {
	case AUTHRES_SPF_MAILFROM:
		return builder_prop_str(b, "smtp.mailfrom", r->spf.identity, true);
	case AUTHRES_SPF_HELO:
		return builder_prop_str(b, "smtp.helo", r->spf.identity, false);
	case AUTHRES_DKIM:
		return build_dkim(b, results, count, i);
	case AUTHRES_DMARC:
		if ((ret = builder_prop_str(b, "header.from", r->dmarc.from_domain, false)) < 0)
			return ret;
		if (is_set(r->dmarc.evaluated) &&
		    !is_dotted(r->dmarc.evaluated, strlen(r->dmarc.evaluated), is_label_char)) {
			b->why = "a DMARC policy word is not a plain word";
			return AUTHRES_E_INVAL;
		}
		return builder_prop_str(b, "policy.dmarc", r->dmarc.evaluated, false);
	case AUTHRES_ARC:
		return build_arc(b, &r->arc);
	}
	return AUTHRES_E_INVAL;
}

static int build_result(struct builder *b, const struct authres_result *results,
			size_t count, size_t i)
{
	const struct authres_result *r = &results[i];
	int ret;

	if ((unsigned)r->method >= sizeof(methods) / sizeof(methods[0])) {
		b->why = "unknown method";
		return AUTHRES_E_INVAL;
	}
	if (!result_known(r->method, r->result)) {
		b->why = "not a result this method defines";
		return AUTHRES_E_INVAL;
	}
	builder_put(b, methods[r->method].name, strlen(methods[r->method].name));
	builder_put(b, "=", 1);
	builder_put(b, r->result, strlen(r->result));
	if (r->method == AUTHRES_DMARC && (ret = build_dmarc_comment(b, &r->dmarc)) < 0)
		return ret;
	if (r->reason != NULL && (ret = builder_reason(b, r->reason)) < 0)
		return ret;
	return build_properties(b, results, count, i);
}

/* fold = [ "\r\n" / "\n" ] 1*( SP / HTAB ) */
static bool fold_parse(const char *fold, bool *breaks_r, size_t *columns_r)
{
	size_t columns = 0;

	*breaks_r = false;
	if (fold[0] == '\r' && fold[1] == '\n')
		fold += 2, *breaks_r = true;
	else if (fold[0] == '\n')
		fold += 1, *breaks_r = true;
	if (*fold == '\0')
		return false;
	for (; *fold != '\0'; fold++) {
		if (*fold != ' ' && *fold != '\t')
			return false;
		columns += *fold == '\t' ? AUTHRES_TAB_COLUMNS : 1;
	}
	*columns_r = columns;
	return true;
}

static int build_all(struct builder *b, const char *authserv_id,
		     const struct authres_result *results, size_t count)
{
	size_t id_len = strlen(authserv_id);
	int ret;

	if (id_length_without_dot(authserv_id) == 0 || id_len > AUTHRES_ID_MAX) {
		b->why = "the authserv-id is empty or too long";
		return AUTHRES_E_INVAL;
	}
	if ((ret = append_value(&b->sb, authserv_id, id_len, false, &b->why)) < 0)
		return ret;
	b->col += b->sb.len;
	if (count == 0) {
		builder_put(b, "; none", 6);
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		builder_put(b, ";", 1);
		builder_fold(b);
		if ((ret = build_result(b, results, count, i)) < 0)
			return ret;
	}
	return 0;
}

int authres_build(const char *authserv_id, const struct authres_result *results,
		  size_t count, const char *fold, char *out, size_t outlen,
		  const char **why_r)
{
	struct builder b = { .sb = STRBUF_INIT, .fold = fold, .col = AUTHRES_NAME_COLUMNS };
	int ret;

	if (outlen > 0)
		out[0] = '\0';
	if (authserv_id == NULL || fold == NULL || (count > 0 && results == NULL))
		return fail(why_r, "missing argument", AUTHRES_E_INVAL);
	if (count > AUTHRES_MAX_RESULTS)
		return fail(why_r, "too many results", AUTHRES_E_INVAL);
	if (!fold_parse(fold, &b.fold_breaks, &b.fold_columns))
		return fail(why_r, "the fold must be an optional line break and white space",
			    AUTHRES_E_INVAL);
	ret = build_all(&b, authserv_id, results, count);
	if (ret == 0 && b.sb.len >= outlen) {
		b.why = "the header field value does not fit in the output buffer";
		ret = AUTHRES_E_TOOLONG;
	}
	if (ret == 0)
		memcpy(out, b.sb.data, b.sb.len + 1);
	strbuf_release(&b.sb);
	return ret == 0 ? 0 : fail(why_r, b.why, ret);
}

/* ---- parser ----------------------------------------------------------- */

struct cursor {
	const char *p;
	const char *end;
	const char *why;
};

static bool at_end(const struct cursor *c)
{
	return c->p >= c->end;
}

static bool is_wsp(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Length of a line break that folds (CRLF or LF, then WSP) at p, or 0. */
static size_t fold_length(const struct cursor *c)
{
	size_t n = 0;

	if (c->end - c->p >= 2 && c->p[0] == '\r' && c->p[1] == '\n')
		n = 2;
	else if (c->p[0] == '\n')
		n = 1;
	if (n == 0 || c->end - c->p <= (ptrdiff_t)n || !is_wsp(c->p[n]))
		return 0;
	return n;
}

/* Skips FWS; returns true when something was skipped. */
static bool skip_fws(struct cursor *c)
{
	const char *start = c->p;
	size_t n;

	while (!at_end(c)) {
		if (is_wsp(*c->p))
			c->p++;
		else if ((n = fold_length(c)) > 0)
			c->p += n;
		else
			break;
	}
	return c->p != start;
}

/* Skips one comment starting at '('; 0 or -1 (c->why set). */
static int skip_comment(struct cursor *c)
{
	unsigned depth = 0;

	do {
		if (at_end(c)) {
			c->why = "unterminated comment";
			return -1;
		}
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '(') {
			if (++depth > AUTHRES_COMMENT_DEPTH_MAX) {
				c->why = "comments nested too deep";
				return -1;
			}
			c->p++;
		} else if (ch == ')') {
			depth--;
			c->p++;
		} else if (ch == '\\') {
			if (c->end - c->p < 2 || (unsigned char)c->p[1] < 0x20 ||
			    c->p[1] == 0x7f) {
				c->why = "bad quoted-pair in a comment";
				return -1;
			}
			c->p += 2;
		} else if (skip_fws(c)) {
			continue;
		} else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			c->why = "control character or bare line break in a comment";
			return -1;
		} else {
			c->p++;
		}
	} while (depth > 0);
	return 0;
}

/* Skips [CFWS]; 0 or -1. */
static int skip_cfws(struct cursor *c)
{
	for (;;) {
		skip_fws(c);
		if (at_end(c) || *c->p != '(')
			return 0;
		if (skip_comment(c) < 0)
			return -1;
	}
}

static int id_put(struct cursor *c, char *id, size_t *len, const char *s, size_t n)
{
	if (*len + n > AUTHRES_ID_MAX) {
		c->why = "authserv-id too long";
		return -1;
	}
	memcpy(id + *len, s, n);
	*len += n;
	id[*len] = '\0';
	return 0;
}

/* One qcontent or FWS piece of a quoted string; 0, 1 at the closing quote,
 * -1 on error. */
static int quoted_piece(struct cursor *c, char *id, size_t *len)
{
	unsigned char ch = (unsigned char)*c->p;
	size_t n;

	if (ch == '"') {
		c->p++;
		return 1;
	}
	if (ch == '\\') {
		if (c->end - c->p < 2 || (unsigned char)c->p[1] < 0x20 || c->p[1] == 0x7f) {
			c->why = "bad quoted-pair in the authserv-id";
			return -1;
		}
		c->p += 2;
		return id_put(c, id, len, c->p - 1, 1);
	}
	if ((n = fold_length(c)) > 0) {
		c->p += n;	/* the line break is invisible, the WSP stays */
		return 0;
	}
	if (ch >= 0x80) {
		n = utf8_sequence_length((const unsigned char *)c->p, (size_t)(c->end - c->p));
		if (n == 0) {
			c->why = "invalid UTF-8 in the authserv-id";
			return -1;
		}
	} else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
		c->why = "control character or bare line break in the authserv-id";
		return -1;
	} else {
		n = 1;
	}
	c->p += n;
	return id_put(c, id, len, c->p - n, n);
}

static int read_quoted_id(struct cursor *c, char *id)
{
	size_t len = 0;
	int ret;

	c->p++;	/* the opening quote */
	for (;;) {
		if (at_end(c)) {
			c->why = "unterminated quoted authserv-id";
			return -1;
		}
		if ((ret = quoted_piece(c, id, &len)) < 0)
			return -1;
		if (ret == 1)
			break;
	}
	if (len == 0) {
		c->why = "empty authserv-id";
		return -1;
	}
	return 0;
}

static int read_id(struct cursor *c, char *id)
{
	const char *start = c->p;
	size_t len = 0;

	id[0] = '\0';
	if (at_end(c)) {
		c->why = "no authserv-id";
		return -1;
	}
	if (*c->p == '"')
		return read_quoted_id(c, id);
	while (!at_end(c) && is_token_char((unsigned char)*c->p))
		c->p++;
	if (c->p == start) {
		c->why = "no authserv-id";
		return -1;
	}
	return id_put(c, id, &len, start, (size_t)(c->p - start));
}

/* Reads 1..max_digits digits into *value_r; -1 when there are none or
 * too many. */
static int read_number(struct cursor *c, size_t max_digits, unsigned long *value_r)
{
	size_t n = 0;

	*value_r = 0;
	while (!at_end(c) && *c->p >= '0' && *c->p <= '9') {
		if (++n > max_digits)
			return -1;
		*value_r = *value_r * 10 + (unsigned long)(*c->p - '0');
		c->p++;
	}
	return n > 0 ? 0 : -1;
}

/* authserv-id [CFWS [version [CFWS]]] ";" */
static int parse_id(struct cursor *c, char *id_r)
{
	unsigned long version;

	if (skip_cfws(c) < 0 || read_id(c, id_r) < 0 || skip_cfws(c) < 0)
		return -1;
	if (!at_end(c) && *c->p >= '0' && *c->p <= '9') {
		if (read_number(c, AUTHRES_VERSION_DIGITS_MAX, &version) < 0) {
			c->why = "version number too long";
			return -1;
		}
		if (skip_cfws(c) < 0)
			return -1;
	}
	if (at_end(c) || *c->p != ';') {
		c->why = "no ';' after the authserv-id";
		return -1;
	}
	return 0;
}

static int parse_result(struct cursor *c, int ret, char *id_r, const char **why_r)
{
	if (ret == 0)
		return 0;
	id_r[0] = '\0';
	return fail(why_r, c->why, AUTHRES_E_SYNTAX);
}

int authres_parse_id(const char *buf, size_t len, char *id_r, const char **why_r)
{
	struct cursor c = { buf, buf + len, NULL };

	id_r[0] = '\0';
	return parse_result(&c, parse_id(&c, id_r), id_r, why_r);
}

/* [CFWS] "i" [CFWS] "=" [CFWS] 1*2DIGIT [CFWS] ";" */
static int parse_instance(struct cursor *c, unsigned *instance_r)
{
	unsigned long n;

	if (skip_cfws(c) < 0)
		return -1;
	if (at_end(c) || *c->p != 'i') {
		c->why = "no i= at the start";
		return -1;
	}
	c->p++;
	if (skip_cfws(c) < 0)
		return -1;
	if (at_end(c) || *c->p != '=') {
		c->why = "no '=' after i";
		return -1;
	}
	c->p++;
	if (skip_cfws(c) < 0)
		return -1;
	if (read_number(c, 2, &n) < 0 || n < 1 || n > AUTHRES_ARC_INSTANCE_MAX) {
		c->why = "i= is not an instance number in 1..50";
		return -1;
	}
	if (skip_cfws(c) < 0)
		return -1;
	if (at_end(c) || *c->p != ';') {
		c->why = "no ';' after i=";
		return -1;
	}
	c->p++;
	*instance_r = (unsigned)n;
	return 0;
}

int authres_parse_aar_id(const char *buf, size_t len, unsigned *instance_r,
			 char *id_r, const char **why_r)
{
	struct cursor c = { buf, buf + len, NULL };
	int ret;

	id_r[0] = '\0';
	*instance_r = 0;
	ret = parse_instance(&c, instance_r);
	if (ret == 0)
		ret = parse_id(&c, id_r);
	if (ret < 0)
		*instance_r = 0;
	return parse_result(&c, ret, id_r, why_r);
}

static char ascii_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

bool authres_id_equal(const char *a, const char *b)
{
	size_t n = id_length_without_dot(a);

	if (n != id_length_without_dot(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}
