/*
 * arc_seal_fmt.c - folding the AMS, AS and AAR values a sealer writes
 * (see arc_seal_fmt.h). A tab counts as 8 columns.
 */
#include "autoconfig.h"

#include <string.h>

#include "common/xalloc.h"
#include "mailauth/arc_seal_fmt.h"

#define TAB_COLUMNS 8

void arc_seal_fmt_init(struct arc_seal_fmt *f, const char *name, bool crlf)
{
	strbuf_init(&f->out);
	f->nl = crlf ? "\r\n" : "\n";
	f->col = strlen(name) + 1;
	f->first = true;
	f->fold_next = false;
	f->b_at = 0;
}

static void fold(struct arc_seal_fmt *f)
{
	strbuf_append_str(&f->out, f->nl);
	strbuf_append_char(&f->out, '\t');
	f->col = TAB_COLUMNS;
}

/* The separator before a tag of width columns ("tag=value;"). */
static void separate(struct arc_seal_fmt *f, size_t width, bool force_fold)
{
	if (!f->first)
		strbuf_append_char(&f->out, ';');
	if (!f->first && (force_fold || f->fold_next || f->col + 1 + width > ARC_SEAL_LINE_SOFT_MAX)) {
		fold(f);
	} else {
		strbuf_append_char(&f->out, ' ');
		f->col += 1 + !f->first;
	}
	f->first = false;
	f->fold_next = false;
}

void arc_seal_fmt_tag(struct arc_seal_fmt *f, const char *tag, const char *value, size_t len)
{
	size_t tag_len = strlen(tag);

	separate(f, tag_len + 1 + len + 1, false);
	strbuf_append(&f->out, tag, tag_len);
	strbuf_append_char(&f->out, '=');
	strbuf_append(&f->out, value, len);
	f->col += tag_len + 1 + len;
}

void arc_seal_fmt_list(struct arc_seal_fmt *f, const char *tag, const struct canon_name *items,
		       size_t count)
{
	size_t tag_len = strlen(tag), width = tag_len + 1;

	for (size_t i = 0; i < count; i++)
		width += items[i].len + 1;
	separate(f, width, false);
	strbuf_append(&f->out, tag, tag_len);
	strbuf_append_char(&f->out, '=');
	f->col += tag_len + 1;
	for (size_t i = 0; i < count; i++) {
		if (i > 0) {
			strbuf_append_char(&f->out, ':');
			f->col++;
			if (f->col + items[i].len + 1 > ARC_SEAL_LINE_SOFT_MAX)
				fold(f);
		}
		strbuf_append(&f->out, items[i].name, items[i].len);
		f->col += items[i].len;
	}
}

void arc_seal_fmt_b_slot(struct arc_seal_fmt *f)
{
	separate(f, 0, true);
	strbuf_append(&f->out, "b=", 2);
	f->b_at = f->out.len;
	f->col += 2;
	f->fold_next = true;
}

char *arc_seal_fmt_fill(const struct arc_seal_fmt *f, const char *b64, size_t len)
{
	struct strbuf value = STRBUF_INIT;

	strbuf_append(&value, f->out.data, f->b_at);
	strbuf_append(&value, b64, len);
	strbuf_append(&value, f->out.data + f->b_at, f->out.len - f->b_at);
	return strbuf_detach(&value);
}

void arc_seal_fmt_release(struct arc_seal_fmt *f)
{
	strbuf_release(&f->out);
}

static bool is_wsp_or_break(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int arc_seal_fmt_text(struct strbuf *out, const char *text, size_t len, const char *nl)
{
	size_t start = 0, end = len;

	while (start < end && is_wsp_or_break(text[start]))
		start++;
	while (end > start && is_wsp_or_break(text[end - 1]))
		end--;
	for (size_t i = start; i < end; i++) {
		char c = text[i];
		if (c == '\r' && i + 1 < end && text[i + 1] == '\n')
			c = text[++i];
		if (c == '\n') {
			if (i + 1 >= end || (text[i + 1] != ' ' && text[i + 1] != '\t'))
				return -1;
			strbuf_append_str(out, nl);
		} else if ((unsigned char)c < 0x20 && c != '\t') {
			return -1;
		} else if (c == 0x7f) {
			return -1;
		} else {
			strbuf_append_char(out, c);
		}
	}
	return 0;
}
