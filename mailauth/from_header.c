/*
 * from_header.c - the one author domain of a From field (see
 * from_header.h).
 *
 * Two steps. The lexer turns the field into tokens: atoms (runs of
 * atext), quoted strings, domain literals and the specials < > @ , : ; .,
 * dropping CFWS but noting before which token some was; it refuses what
 * no token can be (an unterminated quoted string, comment or literal, a
 * stray ')' or ']', a backslash outside quotes, a control character).
 * The parser then checks the tokens against the grammar of one mailbox.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <string.h>

#include "mailauth/from_header.h"

enum token_kind { TOKEN_ATOM, TOKEN_QUOTED, TOKEN_LITERAL, TOKEN_SPECIAL };

struct token {
	enum token_kind kind;
	char special;		/* TOKEN_SPECIAL: the character */
	bool cfws_before;	/* white space or a comment right before it */
	size_t start, len;	/* in the field */
};

struct lexer {
	const char *s;
	size_t len, pos;
	struct token tokens[FROM_TOKENS_MAX];
	size_t count;
	const char *why;
};

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 5322 atext, and any byte >= 0x80 (RFC 6532: UTF-8; a domain's is
 * checked by domain_check() later). */
static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool is_control(unsigned char c)
{
	return (c < 0x20 && !is_wsp(c)) || c == 0x7f;
}

/* Skips a comment at '(' (nested to any depth: a counter). */
static bool skip_comment(struct lexer *lx)
{
	size_t depth = 0;

	for (; lx->pos < lx->len; lx->pos++) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == '\\') {
			if (++lx->pos == lx->len)
				break;
			c = (unsigned char)lx->s[lx->pos];
		} else if (c == '(') {
			depth++;
		} else if (c == ')' && --depth == 0) {
			lx->pos++;
			return true;
		}
		if (is_control(c)) {
			lx->why = "a control character in a comment";
			return false;
		}
	}
	lx->why = "an unterminated comment";
	return false;
}

/* Skips a quoted string at '"' or a domain literal at '[', up to close. */
static bool skip_enclosed(struct lexer *lx, char close, const char *unterminated)
{
	for (lx->pos++; lx->pos < lx->len; lx->pos++) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == '\\') {
			if (++lx->pos == lx->len)
				break;
			c = (unsigned char)lx->s[lx->pos];
		} else if (c == (unsigned char)close) {
			lx->pos++;
			return true;
		} else if (close == ']' && c == '[') {
			break;
		}
		if (is_control(c)) {
			lx->why = "a control character in a quoted string or literal";
			return false;
		}
	}
	lx->why = unterminated;
	return false;
}

/* Reads the token at pos (CFWS already skipped). */
static bool read_token(struct lexer *lx, struct token *t)
{
	unsigned char c = (unsigned char)lx->s[lx->pos];

	t->start = lx->pos;
	if (c == '"') {
		t->kind = TOKEN_QUOTED;
		if (!skip_enclosed(lx, '"', "an unterminated quoted string"))
			return false;
	} else if (c == '[') {
		t->kind = TOKEN_LITERAL;
		if (!skip_enclosed(lx, ']', "an unbalanced '['"))
			return false;
	} else if (is_atext(c)) {
		t->kind = TOKEN_ATOM;
		while (lx->pos < lx->len && is_atext((unsigned char)lx->s[lx->pos]))
			lx->pos++;
	} else if (c != '\0' && strchr("<>@,:;.", c) != NULL) {
		t->kind = TOKEN_SPECIAL;
		t->special = (char)c;
		lx->pos++;
	} else {
		lx->why = c == ')' ? "an unbalanced ')'" : c == ']' ? "an unbalanced ']'"
			: c == '\\' ? "a backslash outside a quoted string" : "a control character";
		return false;
	}
	t->len = lx->pos - t->start;
	return true;
}

static bool lex(struct lexer *lx)
{
	for (;;) {
		bool cfws = false;

		while (lx->pos < lx->len && (is_wsp((unsigned char)lx->s[lx->pos]) ||
					     lx->s[lx->pos] == '(')) {
			cfws = true;
			if (lx->s[lx->pos] != '(')
				lx->pos++;
			else if (!skip_comment(lx))
				return false;
		}
		if (lx->pos == lx->len)
			return true;
		if (lx->count == FROM_TOKENS_MAX) {
			lx->why = "too many words for one mailbox";
			return false;
		}
		lx->tokens[lx->count].cfws_before = cfws;
		if (!read_token(lx, &lx->tokens[lx->count]))
			return false;
		lx->count++;
	}
}

/* ---- the grammar ---------------------------------------------------------- */

static bool is_special(const struct token *t, char c)
{
	return t->kind == TOKEN_SPECIAL && t->special == c;
}

static bool is_word(const struct token *t)
{
	return t->kind == TOKEN_ATOM || t->kind == TOKEN_QUOTED;
}

/* Where the first special c is in tokens[from..to), or to. */
static size_t find_special(const struct lexer *lx, size_t from, size_t to, char c)
{
	while (from < to && !is_special(&lx->tokens[from], c))
		from++;
	return from;
}

static size_t count_special(const struct lexer *lx, size_t from, size_t to, char c)
{
	size_t n = 0;

	for (; from < to; from++)
		n += is_special(&lx->tokens[from], c);
	return n;
}

/* phrase = word *(word / "." / CFWS), or nothing (obs-phrase's dots). */
static enum from_status check_phrase(const struct lexer *lx, size_t from, size_t to,
				     const char **why_r)
{
	if (from == to)
		return FROM_OK;
	if (!is_word(&lx->tokens[from]))
		return *why_r = "the display name does not start with a word", FROM_MALFORMED;
	for (size_t i = from; i < to; i++)
		if (!is_word(&lx->tokens[i]) && !is_special(&lx->tokens[i], '.'))
			return *why_r = "a special character ('@', '<', ...) in an unquoted display "
					"name", FROM_MALFORMED;
	return FROM_OK;
}

/* local-part = word *("." word), CFWS allowed around (obs-local-part). */
static bool local_part_ok(const struct lexer *lx, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if ((i - from) % 2 == 0 ? !is_word(&lx->tokens[i]) : !is_special(&lx->tokens[i], '.'))
			return false;
	return (to - from) % 2 == 1;
}

/* domain = dot-atom-text [ "." ], no CFWS inside; into domain. */
static enum from_status read_domain(const struct lexer *lx, size_t from, size_t to, char *domain,
				    const char **why_r)
{
	const struct token *first = &lx->tokens[from], *last = &lx->tokens[to - 1];
	const char *why;

	if (first->kind == TOKEN_LITERAL && to - from == 1)
		return *why_r = "an address literal has no domain DMARC can judge", FROM_NO_DOMAIN;
	if (first->kind != TOKEN_ATOM)
		return *why_r = "the domain is not a host name", FROM_MALFORMED;
	for (size_t i = from; i < to; i++) {
		const struct token *t = &lx->tokens[i];

		if ((i - from) % 2 == 0 ? t->kind != TOKEN_ATOM : !is_special(t, '.'))
			return *why_r = "text after the address", FROM_MALFORMED;
		if (i > from && t->cfws_before)
			return *why_r = t->kind == TOKEN_ATOM && lx->tokens[i - 1].kind == TOKEN_ATOM
					? "text after the address"
					: "white space or a comment inside the domain", FROM_MALFORMED;
	}
	size_t start = first->start, len = last->start + last->len - start;

	if (domain_check(lx->s + start, len, ADDR_ALLOW_UTF8 | ADDR_ALLOW_UNDERSCORE, &why) < 0)
		return *why_r = why, FROM_NO_DOMAIN;
	if (domain_normalize(lx->s + start, len, domain, FROM_DOMAIN_SIZE) < 0)
		return *why_r = "the domain is too long", FROM_NO_DOMAIN;
	return FROM_OK;
}

/* addr-spec = local-part "@" domain, in tokens[from..to). */
static enum from_status read_addr_spec(const struct lexer *lx, size_t from, size_t to,
				       char *domain, const char **why_r)
{
	size_t at = find_special(lx, from, to, '@');

	if (at == to)
		return *why_r = "the mailbox has no '@' and domain", FROM_NO_DOMAIN;
	if (count_special(lx, at + 1, to, '@') > 0)
		return *why_r = "a second '@'", FROM_MALFORMED;
	if (at == from)
		return *why_r = "the mailbox has no local part", FROM_NO_DOMAIN;
	if (!local_part_ok(lx, from, at))
		return *why_r = "the local part is not words joined by dots", FROM_MALFORMED;
	if (at + 1 == to)
		return *why_r = "the mailbox has no domain", FROM_NO_DOMAIN;
	return read_domain(lx, at + 1, to, domain, why_r);
}

/* name-addr = [phrase] "<" addr-spec ">", or addr-spec alone. */
static enum from_status read_mailbox(const struct lexer *lx, char *domain, const char **why_r)
{
	size_t n = lx->count, lt = find_special(lx, 0, n, '<'), gt = find_special(lx, 0, n, '>');
	enum from_status st;

	if (lt == n && gt == n)
		return read_addr_spec(lx, 0, n, domain, why_r);
	if (lt == n || gt == n || gt < lt || count_special(lx, 0, n, '<') > 1 ||
	    count_special(lx, 0, n, '>') > 1)
		return *why_r = "unbalanced angle brackets", FROM_MALFORMED;
	if (gt + 1 != n)
		return *why_r = "text after the <address>", FROM_MALFORMED;
	if ((st = check_phrase(lx, 0, lt, why_r)) != FROM_OK)
		return st;
	if (lt + 1 < gt && is_special(&lx->tokens[lt + 1], '@'))
		return *why_r = "a route address (obsolete syntax)", FROM_MALFORMED;
	return read_addr_spec(lx, lt + 1, gt, domain, why_r);
}

/* A field with ',' is a list: several mailboxes, or one with empty
 * members (obs-mbox-list); either way not one mailbox. */
static enum from_status check_list(const struct lexer *lx, const char **why_r)
{
	size_t members = 0, from = 0;

	for (size_t i = 0; i <= lx->count; i++) {
		if (i < lx->count && !is_special(&lx->tokens[i], ','))
			continue;
		members += i > from;
		from = i + 1;
	}
	if (members > 1)
		return *why_r = "several mailboxes", FROM_SEVERAL;
	return *why_r = "a list separator ',' around the mailbox", FROM_MALFORMED;
}

enum from_status from_header_domain(const char *value, size_t len, char *domain,
				    const char **why_r)
{
	struct lexer lx;
	enum from_status st;
	size_t lt;

	lx.s = value;
	lx.len = len;
	lx.pos = lx.count = 0;
	lx.why = NULL;
	domain[0] = '\0';
	if (!lex(&lx))
		return *why_r = lx.why, FROM_MALFORMED;
	if (lx.count == 0)
		return *why_r = "no mailbox", FROM_EMPTY;
	/* ':' before any '<' starts a group; inside <...>, a route (read_mailbox) */
	lt = find_special(&lx, 0, lx.count, '<');
	if (find_special(&lx, 0, lt, ':') < lt)
		return *why_r = "group syntax is not allowed in From", FROM_GROUP;
	if (count_special(&lx, 0, lx.count, ',') > 0)
		return check_list(&lx, why_r);
	st = read_mailbox(&lx, domain, why_r);
	if (st != FROM_OK)
		domain[0] = '\0';
	return st;
}

const char *from_status_name(enum from_status status)
{
	static const char *const names[] = { "ok", "empty", "several mailboxes", "group",
					     "no domain", "malformed" };

	return status <= FROM_MALFORMED ? names[status] : "?";
}
