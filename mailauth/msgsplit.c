/*
 * msgsplit.c - header fields and body of a message held in memory.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <string.h>

#include "mailauth/msgsplit.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* ftext of RFC 5322: printable US-ASCII except the colon. */
static bool is_ftext(char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* Offset of the '\n' ending the line at pos, or len. */
static size_t line_end(const char *msg, size_t len, size_t pos)
{
	const char *nl = memchr(msg + pos, '\n', len - pos);
	return nl ? (size_t)(nl - msg) : len;
}

/* End of the line's content: before its CR LF, LF, or the end. */
static size_t content_end(const char *msg, size_t pos, size_t end)
{
	return end > pos && msg[end - 1] == '\r' ? end - 1 : end;
}

size_t msgsplit(const char *msg, size_t len, msgsplit_header_fn *header, void *ctx)
{
	size_t pos = 0;

	while (pos < len) {
		size_t end = line_end(msg, len, pos), stop = content_end(msg, pos, end);
		size_t i = pos;

		if (stop == pos)
			return end < len ? end + 1 : len;	/* the empty line */
		while (i < stop && is_ftext(msg[i]))
			i++;
		bool named = i > pos;
		while (i < stop && is_wsp(msg[i]))
			i++;
		if (!named || i >= stop || msg[i] != ':')
			return pos;			/* not a header field */
		size_t name_end = i;
		size_t value = i + 1, next = end < len ? end + 1 : len;
		while (next < len && is_wsp(msg[next])) {
			end = line_end(msg, len, next);
			next = end < len ? end + 1 : len;
		}
		size_t value_end = content_end(msg, value, end);
		header(ctx, msg + pos, name_end - pos, msg + value, value_end - value);
		pos = next;
	}
	return len;
}

void msgsplit_unfold(const char *value, size_t len, struct strbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		size_t brk = value[i] == '\r' && i + 1 < len && value[i + 1] == '\n' ? 2
			     : value[i] == '\n' ? 1 : 0;

		if (brk > 0 && i + brk < len && is_wsp(value[i + brk])) {
			i += brk - 1;
			continue;
		}
		strbuf_append_char(out, value[i]);
	}
}
