/*
 * strbuf.c - growable byte buffer.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

void strbuf_init(struct strbuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void strbuf_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->data != NULL && sb->len + extra < sb->cap)
		return;
	sb->data = xgrow(sb->data, &sb->cap, sb->len + extra + 1, 1);
	sb->data[sb->len] = '\0';
}

void strbuf_append(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_reserve(sb, len);
	if (len > 0)
		memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void strbuf_append_str(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void strbuf_append_char(struct strbuf *sb, char c)
{
	strbuf_append(sb, &c, 1);
}

void strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	strbuf_reserve(sb, 64);
	va_copy(again, ap);
	n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
	if (n < 0) {
		va_end(again);
		sb->data[sb->len] = '\0';
		return;
	}
	if ((size_t)n >= sb->cap - sb->len) {
		strbuf_reserve(sb, (size_t)n);
		n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, again);
	}
	va_end(again);
	if (n > 0)
		sb->len += (size_t)n;
}

void strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vappendf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_consume(struct strbuf *sb, size_t n)
{
	if (n >= sb->len) {
		strbuf_truncate(sb, 0);
		return;
	}
	memmove(sb->data, sb->data + n, sb->len - n);
	sb->len -= n;
	sb->data[sb->len] = '\0';
}

void strbuf_truncate(struct strbuf *sb, size_t len)
{
	if (sb->data == NULL || len >= sb->len)
		return;
	sb->len = len;
	sb->data[len] = '\0';
}

void strbuf_reset(struct strbuf *sb)
{
	strbuf_truncate(sb, 0);
}

char *strbuf_detach(struct strbuf *sb)
{
	char *s = sb->data != NULL ? sb->data : xstrdup("");

	strbuf_init(sb);
	return s;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->data);
	strbuf_init(sb);
}

const char *strbuf_str(const struct strbuf *sb)
{
	return sb->data != NULL ? sb->data : "";
}
