/*
 * dkim_fold.c - writing folded signature header values (see dkim_fold.h).
 */
#include "autoconfig.h"

#include "mailauth/dkim_fold.h"

/* Base64 is not broken to leave fewer characters than this on a line. */
#define BASE64_MIN_PIECE 8

static void fold(struct dkim_fold *f)
{
	strbuf_append_str(f->out, f->crlf ? "\r\n\t" : "\n\t");
	f->col = 1;
}

void dkim_fold_init(struct dkim_fold *f, struct strbuf *out, size_t start_col, bool crlf)
{
	f->out = out;
	f->col = start_col;
	f->crlf = crlf;
}

void dkim_fold_word(struct dkim_fold *f, const char *word, size_t len, bool spaced)
{
	size_t need = len + (spaced ? 1 : 0);

	if (f->col + need > DKIM_FOLD_WIDTH && f->col > 1) {
		fold(f);
	} else if (spaced) {
		strbuf_append_char(f->out, ' ');
		f->col++;
	}
	strbuf_append(f->out, word, len);
	f->col += len;
}

void dkim_fold_base64(struct dkim_fold *f, const char *b64, size_t len)
{
	while (len > 0) {
		size_t room = f->col < DKIM_FOLD_WIDTH ? DKIM_FOLD_WIDTH - f->col : 0;
		if (room < BASE64_MIN_PIECE && room < len) {
			fold(f);
			continue;
		}
		size_t n = len < room ? len : room;
		strbuf_append(f->out, b64, n);
		f->col += n;
		b64 += n;
		len -= n;
	}
}
