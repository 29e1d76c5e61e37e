/*
 * arc_seal_fmt.h - the layout of the header field values a sealer writes.
 *
 * A tag list (AMS, AS) is written tag by tag: "; " between tags, a fold
 * (line break and a tab) instead of the space when the line would pass
 * ARC_SEAL_LINE_SOFT_MAX columns. The b= tag gets a line of its own with
 * an empty slot for its value: the list as written is the "b= emptied"
 * form the signature is computed over (RFC 6376 3.7), and filling the slot
 * afterwards changes nothing else. Values start with a space (libmilter's
 * SMFIP_HDR_LEADSPC). Pure string work, no I/O.
 */
#ifndef LIMRISTEM_MAILAUTH_ARC_SEAL_FMT_H
#define LIMRISTEM_MAILAUTH_ARC_SEAL_FMT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"
#include "mailauth/dkim_canon.h"

#define ARC_SEAL_LINE_SOFT_MAX 78

struct arc_seal_fmt {
	struct strbuf out;		/* the value so far */
	const char *nl;			/* "\n" or "\r\n" */
	size_t col;			/* column the next character lands in */
	bool first;			/* no tag written yet */
	bool fold_next;			/* the next tag starts a new line */
	size_t b_at;			/* offset of the b= value slot */
};

/* Starts the value of field name (the columns "Name:" takes count). */
void arc_seal_fmt_init(struct arc_seal_fmt *f, const char *name, bool crlf);
/* Appends "tag=value" (value[0..len)). */
void arc_seal_fmt_tag(struct arc_seal_fmt *f, const char *tag, const char *value, size_t len);
/* Appends "tag=" and the items joined by ':', folding between items. */
void arc_seal_fmt_list(struct arc_seal_fmt *f, const char *tag, const struct canon_name *items,
		       size_t count);
/* Appends "b=" with an empty slot for the value, alone on its line. */
void arc_seal_fmt_b_slot(struct arc_seal_fmt *f);
/* The value with b64 in the b= slot, malloc'ed. */
char *arc_seal_fmt_fill(const struct arc_seal_fmt *f, const char *b64, size_t len);
void arc_seal_fmt_release(struct arc_seal_fmt *f);

/* Appends text[0..len) with every line break (CRLF or LF) written as nl;
 * white space and line breaks at both ends are dropped. Returns 0, or -1
 * when a line break is not a fold (no WSP after it), a CR stands alone or
 * a control character other than HTAB appears. */
int arc_seal_fmt_text(struct strbuf *out, const char *text, size_t len, const char *nl);

#endif
