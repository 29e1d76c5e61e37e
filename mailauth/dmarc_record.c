/*
 * dmarc_record.c - DMARC Policy Record syntax (see dmarc_record.h).
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "mailauth/dkim_tags.h"
#include "mailauth/dmarc_record.h"

/* The longest tag name RFC 9989 defines ("adkim"). */
#define DMARC_TAG_NAME_MAX 5

/* Case-insensitive: the value is exactly the word s. */
static bool value_is(const struct dkim_tag *t, const char *s)
{
	size_t n = strlen(s);

	return t->value_len == n && strncasecmp(t->value, s, n) == 0;
}

/* dmarc-request = "none" / "quarantine" / "reject" */
static enum dmarc_policy request(const struct dkim_tag *t)
{
	return value_is(t, "none") ? DMARC_P_NONE : value_is(t, "quarantine") ? DMARC_P_QUARANTINE
		: value_is(t, "reject") ? DMARC_P_REJECT : DMARC_POLICY_NONE_SET;
}

/* pct = 0..100, one to three digits. -1 when it is not that. */
static int percent(const struct dkim_tag *t)
{
	int n = 0;

	if (t->value_len < 1 || t->value_len > 3)
		return -1;
	for (size_t i = 0; i < t->value_len; i++) {
		if (t->value[i] < '0' || t->value[i] > '9')
			return -1;
		n = n * 10 + (t->value[i] - '0');
	}
	return n <= 100 ? n : -1;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The characters of an RFC 3986 URI that a dmarc-uri may hold as they
 * are: unreserved, gen-delims and sub-delims but ',' and '!' (which a
 * dmarc-uri must percent-encode) and ';' (which ends the tag). */
static bool is_uri_char(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || (c != '\0' && strchr("-._~:/?#[]@$&'()*+=", c));
}

/* URI = scheme ":" 1*uri-char (percent-encodings well formed), then an
 * optional obsolete "!" size (RFC 9989 4.8: ignored). */
static bool valid_uri(const char *s, size_t len)
{
	size_t i = 0;
	const char *bang = memchr(s, '!', len);

	if (bang != NULL) {		/* obs-dmarc-report-size = "!" 1*DIGIT [ k / m / g / t ] */
		size_t b = (size_t)(bang - s) + 1, digits = 0;
		while (b < len && s[b] >= '0' && s[b] <= '9')
			b++, digits++;
		if (b < len && s[b] != '\0' && strchr("kmgtKMGT", s[b]) != NULL)
			b++;
		if (digits == 0 || b != len)
			return false;
		len = (size_t)(bang - s);
	}
	if (len == 0 || !is_alpha(s[0]))
		return false;
	while (i < len && (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') ||
			   (s[i] != '\0' && strchr("+-.", s[i]) != NULL)))
		i++;
	if (i >= len || s[i] != ':' || i + 1 >= len)
		return false;
	for (i++; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
				return false;
			i += 2;
		} else if (!is_uri_char(s[i])) {
			return false;
		}
	}
	return true;
}

/* dmarc-urilist: comma-separated URIs, white space around the commas.
 * True when at least one of them is valid. */
static bool any_valid_uri(const struct dkim_tag *t)
{
	size_t pos = 0, len = t->value_len;

	while (pos <= len) {
		const char *comma = memchr(t->value + pos, ',', len - pos);
		size_t end = comma != NULL ? (size_t)(comma - t->value) : len, start = pos;

		while (start < end && dkim_tags_is_wsp(t->value[start]))
			start++;
		size_t last = end;
		while (last > start && dkim_tags_is_wsp(t->value[last - 1]))
			last--;
		if (valid_uri(t->value + start, last - start))
			return true;
		pos = end + 1;
	}
	return false;
}

/* v "=" "DMARC1", the first tag, at the very start of the text. */
static bool is_record(const char *txt, const struct dkim_tag_list *tags)
{
	const struct dkim_tag *v = tags->count > 0 ? &tags->tags[0] : NULL;

	return v != NULL && v->name == txt && v->name_len == 1 && v->name[0] == 'v' &&
	       dkim_tags_value_is(v, "DMARC1");
}

/* p, sp or np: the request, or the flag saying it is not valid. */
static bool read_request(const struct dkim_tag *t, enum dmarc_policy *policy_r, bool *invalid_r)
{
	*policy_r = request(t);
	*invalid_r = *policy_r == DMARC_POLICY_NONE_SET;
	return !*invalid_r;
}

/* One tag's meaning; false when the tag is unknown or its value is not valid. */
static bool read_tag(const char *name, const struct dkim_tag *t, struct dmarc_record *r)
{
	if (strcmp(name, "p") == 0)
		return read_request(t, &r->p, &r->p_invalid);
	if (strcmp(name, "sp") == 0)
		return read_request(t, &r->sp, &r->sp_invalid);
	if (strcmp(name, "np") == 0)
		return read_request(t, &r->np, &r->np_invalid);
	if (strcmp(name, "t") == 0 && (value_is(t, "y") || value_is(t, "n"))) {
		r->testing = value_is(t, "y");
		r->testing_given = true;
	}
	else if (strcmp(name, "psd") == 0 && (value_is(t, "y") || value_is(t, "n") || value_is(t, "u")))
		r->psd = value_is(t, "y") ? DMARC_PSD_Y : value_is(t, "n") ? DMARC_PSD_N : DMARC_PSD_U;
	else if (strcmp(name, "adkim") == 0 && (value_is(t, "r") || value_is(t, "s")))
		r->strict_dkim = value_is(t, "s");
	else if (strcmp(name, "aspf") == 0 && (value_is(t, "r") || value_is(t, "s")))
		r->strict_spf = value_is(t, "s");
	else if (strcmp(name, "rua") == 0 && any_valid_uri(t))
		r->rua = true;
	else if (strcmp(name, "pct") == 0 && percent(t) >= 0)
		r->pct = percent(t);
	else if (strcmp(name, "ruf") == 0 || strcmp(name, "fo") == 0)
		return t->value_len > 0;	/* failure reports: not ours to send */
	else
		return false;
	return true;
}

/* A tag given more than once: none of its values counts (a request tag
 * is then not valid). */
static void repeated(const char *name, struct dmarc_record *r)
{
	if (strcmp(name, "p") == 0)
		r->p_invalid = true;
	else if (strcmp(name, "sp") == 0)
		r->sp_invalid = true;
	else if (strcmp(name, "np") == 0)
		r->np_invalid = true;
	r->ignored++;
}

int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r)
{
	struct dkim_tag_list tags;
	size_t bad;

	memset(r, 0, sizeof(*r));
	if (len == 0 || txt[0] != 'v')
		return 0;
	dkim_tags_parse_lenient(txt, len, &tags, &bad);
	if (!is_record(txt, &tags))
		return 0;
	r->pct = -1;
	r->ignored = (unsigned)bad;
	for (size_t i = 1; i < tags.count; i++) {
		const struct dkim_tag *t = &tags.tags[i];
		char name[DMARC_TAG_NAME_MAX + 1];

		if (t->name_len > DMARC_TAG_NAME_MAX) {	/* longer than any we know */
			r->ignored++;
			continue;
		}
		memcpy(name, t->name, t->name_len);
		name[t->name_len] = '\0';
		if (strcmp(name, "v") == 0)
			continue;		/* only the first counts */
		if (dkim_tags_count(&tags, name) > 1)
			repeated(name, r);
		else if (!read_tag(name, t, r))
			r->ignored++;
	}
	return 1;
}

const char *dmarc_policy_name(enum dmarc_policy policy)
{
	static const char *const names[] = { "unspecified", "none", "quarantine", "reject" };

	return policy <= DMARC_P_REJECT ? names[policy] : "?";
}
