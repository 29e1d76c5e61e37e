/*
 * strbuf.h - growable byte buffer, always NUL-terminated.
 *
 * Appends never truncate: the buffer grows (or the process aborts on memory
 * exhaustion, see xalloc.h). data may contain NUL bytes; len is the length.
 */
#ifndef LIMRISTEM_STRBUF_H
#define LIMRISTEM_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *data;
	size_t len;
	size_t cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_init(struct strbuf *sb);
/* Makes room for extra more bytes (plus the terminating NUL). */
void strbuf_reserve(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const void *data, size_t len);
void strbuf_append_str(struct strbuf *sb, const char *s);
void strbuf_append_char(struct strbuf *sb, char c);
void strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Removes the first n bytes. */
void strbuf_consume(struct strbuf *sb, size_t n);
void strbuf_truncate(struct strbuf *sb, size_t len);
void strbuf_reset(struct strbuf *sb);
/* Returns the contents as a malloc'ed string the caller owns; sb is empty. */
char *strbuf_detach(struct strbuf *sb);
/* Frees the storage; sb is empty and reusable. */
void strbuf_release(struct strbuf *sb);
/* Returns sb->data, or "" when nothing was ever appended. */
const char *strbuf_str(const struct strbuf *sb);

#endif
