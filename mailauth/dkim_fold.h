/*
 * dkim_fold.h - folding a signature header field (DKIM-Signature, and the
 * ARC fields) at 78 columns while it is written.
 *
 * Words are separated by a space, or by a fold where the line is full;
 * base64 (b=, bh=) may be broken anywhere (RFC 6376 3.5: FWS is allowed
 * inside base64), so it fills each line. A fold is "\n\t" (libmilter's
 * convention) or "\r\n\t". Column counting starts after the field name and
 * colon, so the first line is not longer than the others.
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_FOLD_H
#define LIMRISTEM_MAILAUTH_DKIM_FOLD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

#define DKIM_FOLD_WIDTH 78

struct dkim_fold {
	struct strbuf *out;
	size_t col;		/* of the current line, the tab counting as one */
	bool crlf;
};

/* start_col: the length of "Name:" before the value out receives. */
void dkim_fold_init(struct dkim_fold *f, struct strbuf *out, size_t start_col, bool crlf);
/* Appends word, after a space (or a fold) when spaced, else right after
 * what precedes it unless it does not fit, then after a fold. A word
 * longer than a line is written whole on a line of its own. */
void dkim_fold_word(struct dkim_fold *f, const char *word, size_t len, bool spaced);
/* Appends base64 text directly after what precedes it, breaking it with
 * folds so that no line exceeds DKIM_FOLD_WIDTH. */
void dkim_fold_base64(struct dkim_fold *f, const char *b64, size_t len);

#endif
