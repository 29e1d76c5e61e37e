/*
 * from_header.c - find the one author domain in a From field (see
 * from_header.h).
 *
 * First pass: split the field at top-level commas (outside quoted
 * strings, comments and angle brackets), refusing a top-level ':' (a group
 * or garbage). Second: in the only non-empty member, take what is inside
 * <...> (after any route) or else the whole member, drop comments and
 * white space outside quoted strings, and split at the last '@'.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <string.h>

#include "from_header.h"

#define ADDRESS_MAX 1024	/* longer is not an address anybody sends */

struct scan {
	const char *s;
	size_t len, pos;
};

/* Skips a quoted string starting at s->pos ('"'); false when unterminated. */
static bool skip_quoted(struct scan *sc)
{
	for (sc->pos++; sc->pos < sc->len; sc->pos++) {
		if (sc->s[sc->pos] == '\\')
			sc->pos++;
		else if (sc->s[sc->pos] == '"') {
			sc->pos++;
			return true;
		}
	}
	return false;
}

/* Skips a comment starting at s->pos ('('), nested ones included. */
static bool skip_comment(struct scan *sc)
{
	int depth = 0;

	for (; sc->pos < sc->len; sc->pos++) {
		char c = sc->s[sc->pos];

		if (c == '\\')
			sc->pos++;
		else if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0) {
			sc->pos++;
			return true;
		}
	}
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct member {
	size_t start, end;	/* the member's bytes, commas excluded */
	bool has_angle;
	size_t angle_open, angle_close;
	bool empty;		/* only CFWS */
};

/* Reads one member up to a top-level ',' or the end. */
static enum from_status read_member(struct scan *sc, struct member *m, const char **why_r)
{
	m->start = sc->pos;
	m->has_angle = false;
	m->empty = true;
	while (sc->pos < sc->len && sc->s[sc->pos] != ',') {
		char c = sc->s[sc->pos];

		if (c == '"') {
			m->empty = false;
			if (!skip_quoted(sc))
				return *why_r = "unterminated quoted string", FROM_MALFORMED;
			continue;
		}
		if (c == '(') {
			if (!skip_comment(sc))
				return *why_r = "unterminated comment", FROM_MALFORMED;
			continue;
		}
		if (c == ':' && !m->has_angle)
			return *why_r = "group syntax is not allowed in From", FROM_GROUP;
		if (c == '<') {
			const char *close = memchr(sc->s + sc->pos, '>', sc->len - sc->pos);

			if (m->has_angle || close == NULL)
				return *why_r = "unbalanced angle brackets", FROM_MALFORMED;
			m->has_angle = true;
			m->angle_open = sc->pos;
			m->angle_close = (size_t)(close - sc->s);
			sc->pos = m->angle_close + 1;
			m->empty = false;
			continue;
		}
		if (c == '>')
			return *why_r = "unbalanced angle brackets", FROM_MALFORMED;
		if (!is_space(c))
			m->empty = false;
		sc->pos++;
	}
	m->end = sc->pos;
	return FROM_OK;
}

/* After "<...>" only CFWS may follow. */
static bool only_cfws_after(const struct scan *whole, const struct member *m)
{
	struct scan sc = { whole->s, m->end, m->angle_close + 1 };

	while (sc.pos < sc.len) {
		if (sc.s[sc.pos] == '(') {
			if (!skip_comment(&sc))
				return false;
		} else if (is_space(sc.s[sc.pos])) {
			sc.pos++;
		} else {
			return false;
		}
	}
	return true;
}

/* Copies the address in s[start..end) without comments and white space
 * outside quoted strings. Returns its length, or -1. */
static int strip_cfws(const char *s, size_t start, size_t end, char *out)
{
	struct scan sc = { s, end, start };
	size_t o = 0;

	while (sc.pos < sc.len) {
		char c = s[sc.pos];
		size_t from = sc.pos;

		if (c == '(') {
			if (!skip_comment(&sc))
				return -1;
			continue;
		}
		if (c == '"') {
			if (!skip_quoted(&sc) || o + (sc.pos - from) >= ADDRESS_MAX)
				return -1;
			memcpy(out + o, s + from, sc.pos - from);
			o += sc.pos - from;
			continue;
		}
		if (!is_space(c)) {
			if (o + 1 >= ADDRESS_MAX)
				return -1;
			out[o++] = c;
		}
		sc.pos++;
	}
	out[o] = '\0';
	return (int)o;
}

/* The domain after the last '@' outside quoted strings. */
static enum from_status address_domain(const char *addr, size_t len, char *domain,
				       const char **why_r)
{
	const char *at = NULL, *why;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		if (addr[i] == '\\' && quoted)
			i++;
		else if (addr[i] == '"')
			quoted = !quoted;
		else if (addr[i] == '@' && !quoted)
			at = addr + i;
	}
	if (at == NULL || at == addr || at + 1 == addr + len)
		return *why_r = "the mailbox has no local part or no domain", FROM_NO_DOMAIN;
	if (at[1] == '[')
		return *why_r = "an address literal has no domain DMARC can judge", FROM_NO_DOMAIN;
	if (domain_check(at + 1, (size_t)(addr + len - at - 1), ADDR_ALLOW_UTF8 | ADDR_ALLOW_UNDERSCORE,
			 &why) < 0)
		return *why_r = why, FROM_NO_DOMAIN;
	if (domain_normalize(at + 1, (size_t)(addr + len - at - 1), domain, FROM_DOMAIN_SIZE) < 0)
		return *why_r = "domain too long", FROM_NO_DOMAIN;
	return FROM_OK;
}

enum from_status from_header_domain(const char *value, size_t len, char *domain,
				    const char **why_r)
{
	struct scan sc = { value, len, 0 };
	struct member m, found = { 0 };
	size_t mailboxes = 0;
	char addr[ADDRESS_MAX];
	const char *route_end;
	int alen;

	domain[0] = '\0';
	for (;;) {
		enum from_status st = read_member(&sc, &m, why_r);

		if (st != FROM_OK)
			return st;
		if (!m.empty && mailboxes++ == 0)
			found = m;
		if (sc.pos >= sc.len)
			break;
		sc.pos++;	/* the comma */
	}
	if (mailboxes == 0)
		return *why_r = "no mailbox", FROM_EMPTY;
	if (mailboxes > 1)
		return *why_r = "several mailboxes", FROM_SEVERAL;
	if (found.has_angle && !only_cfws_after(&sc, &found))
		return *why_r = "text after the <address>", FROM_MALFORMED;
	alen = found.has_angle ? strip_cfws(value, found.angle_open + 1, found.angle_close, addr)
			       : strip_cfws(value, found.start, found.end, addr);
	if (alen < 0)
		return *why_r = "the address is malformed or too long", FROM_MALFORMED;
	route_end = found.has_angle && addr[0] == '@' ? memchr(addr, ':', (size_t)alen) : NULL;
	if (found.has_angle && addr[0] == '@' && route_end == NULL)
		return *why_r = "malformed route", FROM_MALFORMED;
	if (route_end != NULL)	/* obsolete route: <@relay:user@domain> */
		return address_domain(route_end + 1, (size_t)(addr + alen - route_end - 1), domain, why_r);
	return address_domain(addr, (size_t)alen, domain, why_r);
}

const char *from_status_name(enum from_status status)
{
	static const char *const names[] = { "ok", "empty", "several mailboxes", "group",
					     "no domain", "malformed" };

	return status <= FROM_MALFORMED ? names[status] : "?";
}
