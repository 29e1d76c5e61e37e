/*
 * dkim_tags.c - DKIM-style tag=value list parser (RFC 6376 section 3.2).
 *
 * One pass over the input; the only other work is the duplicate check,
 * bounded by DKIM_TAGS_MAX comparisons per tag.
 */
#include "autoconfig.h"

#include <string.h>

#include "mailauth/dkim_tags.h"

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

/* VALCHAR of RFC 6376, widened to UTF-8 bytes by RFC 8616. */
static bool is_valchar(unsigned char c)
{
	return (c >= 0x21 && c <= 0x7e && c != ';') || c >= 0x80;
}

/* Length of the line break at buf[pos] (CRLF or a bare LF), or 0. */
static size_t line_break_at(const char *buf, size_t len, size_t pos)
{
	if (pos < len && buf[pos] == '\n')
		return 1;
	if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
		return 2;
	return 0;
}

size_t dkim_tags_skip_fws(const char *buf, size_t len, size_t pos)
{
	for (;;) {
		while (pos < len && dkim_tags_is_wsp(buf[pos]))
			pos++;
		size_t brk = line_break_at(buf, len, pos);
		if (brk == 0 || pos + brk >= len || !dkim_tags_is_wsp(buf[pos + brk]))
			return pos;
		pos += brk;
	}
}

/* Reads a tag-value from pos; sets its bounds and returns the position
 * after any FWS that follows it. */
static size_t read_value(const char *buf, size_t len, size_t pos, struct dkim_tag *tag)
{
	size_t end = pos;

	tag->value = buf + pos;
	while (pos < len) {
		if (is_valchar((unsigned char)buf[pos])) {
			end = ++pos;
			continue;
		}
		size_t after = dkim_tags_skip_fws(buf, len, pos);
		if (after == pos)
			break;
		pos = after;
		if (pos >= len || !is_valchar((unsigned char)buf[pos]))
			break;
	}
	tag->value_len = end - (size_t)(tag->value - buf);
	return pos;
}

static bool is_duplicate(const struct dkim_tag_list *list, const struct dkim_tag *tag)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct dkim_tag *t = &list->tags[i];
		if (t->name_len == tag->name_len && memcmp(t->name, tag->name, tag->name_len) == 0)
			return true;
	}
	return false;
}

/* Parses one tag-spec at pos (FWS already skipped) into tag; returns the
 * position after it (at the ';' or the end), or 0 with *why_r. */
static size_t parse_spec(const char *buf, size_t len, size_t pos, struct dkim_tag *tag,
			 const char **why_r)
{
	if (buf[pos] == ';') {
		*why_r = "empty tag (two semicolons in a row)";
		return 0;
	}
	if (!is_alpha((unsigned char)buf[pos])) {
		*why_r = "a tag name must start with a letter";
		return 0;
	}
	tag->name = buf + pos;
	while (pos < len && is_name_char((unsigned char)buf[pos]))
		pos++;
	tag->name_len = (size_t)(buf + pos - tag->name);
	pos = dkim_tags_skip_fws(buf, len, pos);
	if (pos >= len || buf[pos] != '=') {
		*why_r = (pos < len && !is_name_char((unsigned char)buf[pos]) && buf[pos] != ';'
			  && !dkim_tags_is_wsp(buf[pos]))
			? "a tag name may contain only letters, digits and '_'"
			: "a tag has no '='";
		return 0;
	}
	tag->span_start = ++pos;
	pos = dkim_tags_skip_fws(buf, len, pos);
	pos = read_value(buf, len, pos, tag);
	if (pos < len && buf[pos] != ';') {
		*why_r = "a tag value contains a character that is not allowed";
		return 0;
	}
	tag->span_end = pos;
	return pos;
}

int dkim_tags_parse(const char *buf, size_t len, struct dkim_tag_list *list_r, const char **why_r)
{
	size_t pos = 0;

	list_r->count = 0;
	for (;;) {
		pos = dkim_tags_skip_fws(buf, len, pos);
		if (pos >= len) {
			if (list_r->count > 0)
				return 0;
			*why_r = "the tag list is empty";
			return -1;
		}
		if (list_r->count == DKIM_TAGS_MAX) {
			*why_r = "too many tags";
			return -1;
		}
		struct dkim_tag *tag = &list_r->tags[list_r->count];
		pos = parse_spec(buf, len, pos, tag, why_r);
		if (pos == 0)
			return -1;
		if (is_duplicate(list_r, tag)) {
			*why_r = "a tag appears twice";
			return -1;
		}
		list_r->count++;
		if (pos >= len)
			return 0;
		pos++;		/* the ';' */
	}
}

void dkim_tags_parse_lenient(const char *buf, size_t len, struct dkim_tag_list *list_r,
			     size_t *bad_r)
{
	size_t pos = 0;

	list_r->count = 0;
	*bad_r = 0;
	while (pos < len) {
		pos = dkim_tags_skip_fws(buf, len, pos);
		if (pos >= len)
			break;
		if (buf[pos] == ';') {		/* an empty tag-spec */
			pos++;
			continue;
		}
		const char *why = NULL;
		size_t end = list_r->count == DKIM_TAGS_MAX ? 0
			: parse_spec(buf, len, pos, &list_r->tags[list_r->count], &why);
		if (end == 0) {
			const char *semi = memchr(buf + pos, ';', len - pos);
			(*bad_r)++;
			pos = semi != NULL ? (size_t)(semi - buf) + 1 : len;
			continue;
		}
		list_r->count++;
		pos = end + 1;	/* past the ';', or past the end */
	}
}

bool dkim_tags_next_item(const struct dkim_tag *tag, size_t *pos_r, const char **item_r, size_t *len_r)
{
	size_t pos = *pos_r, len = tag->value_len;

	if (pos > len)
		return false;
	const char *colon = memchr(tag->value + pos, ':', len - pos);
	size_t end = colon ? (size_t)(colon - tag->value) : len;
	size_t start = dkim_tags_skip_fws(tag->value, end, pos);
	size_t last = end;

	while (last > start && (dkim_tags_is_wsp(tag->value[last - 1]) || tag->value[last - 1] == '\r' ||
				tag->value[last - 1] == '\n'))
		last--;
	*item_r = tag->value + start;
	*len_r = last - start;
	*pos_r = end + 1;	/* past the colon, or past the end */
	return true;
}

const struct dkim_tag *dkim_tags_find(const struct dkim_tag_list *list, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < list->count; i++) {
		const struct dkim_tag *t = &list->tags[i];
		if (t->name_len == n && memcmp(t->name, name, n) == 0)
			return t;
	}
	return NULL;
}

size_t dkim_tags_count(const struct dkim_tag_list *list, const char *name)
{
	size_t n = strlen(name), count = 0;

	for (size_t i = 0; i < list->count; i++) {
		const struct dkim_tag *t = &list->tags[i];
		if (t->name_len == n && memcmp(t->name, name, n) == 0)
			count++;
	}
	return count;
}

bool dkim_tags_value_is(const struct dkim_tag *tag, const char *s)
{
	size_t n = strlen(s);
	return tag->value_len == n && memcmp(tag->value, s, n) == 0;
}
