/*
 * authres_claim.c - does an incoming Authentication-Results or
 * ARC-Authentication-Results field claim our authserv-id? (see authres.h)
 *
 * The strict parser (authres.c) reads what RFC 8601 says; a reader that
 * is more lenient may read a malformed field, or one whose comments it
 * does not understand, as ours. Any such field is deleted, so besides the
 * strict reading two loose ones look for our id as a token:
 *
 *  - the whole field with comments dropped (nested to any depth, counted,
 *    never recursed into; an unterminated comment runs to the end) and
 *    quoted strings opened up (their content is text), quoted-pairs
 *    resolved: when the strict parser fails;
 *  - the raw text before the first ';' (the second for an AAR, after
 *    "i=N;"), with '(' ')' and '"' as mere separators and quoted-pairs
 *    resolved: always.
 *
 * Tokens are compared with our id as they stream by (a position and a
 * "still equal" flag), so the whole check is one pass per view, constant
 * memory, no limit on the field's length or nesting.
 */
#include "autoconfig.h"

#include <string.h>

#include "mailauth/authres.h"

/* RFC 2045 token characters, and any byte of a UTF-8 sequence. */
static bool is_token_byte(unsigned char c)
{
	if (c >= 0x80)
		return true;
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* C0 controls (but HT, CR and LF) and DEL: skipped, as a lenient reader
 * that drops them would. */
static bool is_ignored_byte(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Compares the tokens of a stream of characters with our id. */
struct matcher {
	const char *id;		/* our id without its trailing dot */
	size_t id_len;
	size_t pos;		/* characters of the current token so far */
	bool equal;		/* ... and they equal id[0..pos), or id plus "." */
	bool found;
};

static void matcher_init(struct matcher *m, const char *id, size_t id_len)
{
	*m = (struct matcher){ .id = id, .id_len = id_len, .equal = true };
}

static void matcher_end_token(struct matcher *m)
{
	if (m->pos > 0 && m->equal && m->pos >= m->id_len)
		m->found = true;	/* pos is id_len, or id_len + 1 after a '.' */
	m->pos = 0;
	m->equal = true;
}

/* One character of text (a quoted-pair already resolved). */
static void matcher_char(struct matcher *m, unsigned char c)
{
	if (is_ignored_byte(c))
		return;
	if (!is_token_byte(c)) {
		matcher_end_token(m);
		return;
	}
	if (m->equal) {
		if (m->pos < m->id_len)
			m->equal = ascii_lower(c) == ascii_lower((unsigned char)m->id[m->pos]);
		else
			m->equal = m->pos == m->id_len && c == '.';
	}
	m->pos++;
}

/* The field with comments dropped and quoted strings opened up. */
static bool found_without_comments(const char *buf, size_t len, struct matcher *m)
{
	size_t depth = 0;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\\' && i + 1 < len) {
			i++;
			if (depth == 0)
				matcher_char(m, (unsigned char)buf[i]);
			continue;
		}
		if (depth > 0) {
			depth += c == '(';
			depth -= c == ')';
			continue;
		}
		if (c == '"') {
			quoted = !quoted;
			matcher_end_token(m);
		} else if (c == '(' && !quoted) {
			depth = 1;
			matcher_end_token(m);
		} else {
			matcher_char(m, c);
		}
	}
	matcher_end_token(m);
	return m->found;
}

/* The raw text before the first (aar: second) ';', or all of it. */
static bool found_in_prefix(const char *buf, size_t len, bool aar, struct matcher *m)
{
	const char *semi = memchr(buf, ';', len);
	size_t end = len;

	if (semi != NULL && aar)
		semi = memchr(semi + 1, ';', len - (size_t)(semi + 1 - buf));
	if (semi != NULL)
		end = (size_t)(semi - buf);
	for (size_t i = 0; i < end; i++) {
		if (buf[i] == '\\' && i + 1 < end)
			i++;
		else if (buf[i] == '\\' || buf[i] == '(' || buf[i] == ')' || buf[i] == '"') {
			matcher_end_token(m);
			continue;
		}
		matcher_char(m, (unsigned char)buf[i]);
	}
	matcher_end_token(m);
	return m->found;
}

enum authres_claim authres_claim(const char *buf, size_t len, bool aar, const char *our_id)
{
	char id[AUTHRES_ID_MAX + 1];
	unsigned instance;
	struct matcher m;
	size_t id_len;
	int rc;

	if (our_id == NULL)
		return AUTHRES_CLAIM_NONE;
	id_len = strlen(our_id);
	if (id_len > 0 && our_id[id_len - 1] == '.')
		id_len--;
	if (id_len == 0)
		return AUTHRES_CLAIM_NONE;
	rc = aar ? authres_parse_aar_id(buf, len, &instance, id, NULL)
		 : authres_parse_id(buf, len, id, NULL);
	if (rc == 0 && authres_id_equal(id, our_id))
		return AUTHRES_CLAIM_PARSED;
	matcher_init(&m, our_id, id_len);
	if (rc != 0 && found_without_comments(buf, len, &m))
		return AUTHRES_CLAIM_MALFORMED;
	matcher_init(&m, our_id, id_len);
	if (found_in_prefix(buf, len, aar, &m))
		return AUTHRES_CLAIM_PREFIX;
	return AUTHRES_CLAIM_NONE;
}

const char *authres_claim_name(enum authres_claim claim)
{
	static const char *const names[] = {
		"none", "names our authserv-id",
		"is malformed and names our authserv-id",
		"names our authserv-id before its first ';'",
	};

	return claim <= AUTHRES_CLAIM_PREFIX ? names[claim] : "?";
}
