/*
 * dkim_tags.h - DKIM-style tag=value lists (RFC 6376 section 3.2).
 *
 * One pure, bounded parser for every tag list the milter reads: the
 * DKIM-Signature, ARC-Message-Signature and ARC-Seal header fields and DKIM
 * key records in DNS. It allocates nothing: tags point into the buffer.
 *
 * Syntax accepted (RFC 6376 3.2, folding white space = FWS):
 *   tag-list  = tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec  = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *   tag-name  = ALPHA *( ALPHA / DIGIT / "_" )      case-sensitive
 *   tag-value = [ tval *( 1*(WSP / FWS) tval ) ]    may be empty
 *   tval      = 1*( %x21-3A / %x3C-7E / UTF-8 )     no ';', no controls
 * A line break in FWS may be CRLF or a bare LF (milters hand header values
 * over with either). A tag that appears twice, an empty tag-spec (";;"), a
 * missing '=' or an empty list is an error.
 *
 * DMARC records (RFC 9989 4.8) use the same syntax but ignore what they
 * cannot read instead of refusing the list: dkim_tags_parse_lenient() skips
 * a bad tag-spec up to the next ';' and keeps a tag every time it appears.
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_TAGS_H
#define LIMRISTEM_MAILAUTH_DKIM_TAGS_H

#include <stdbool.h>
#include <stddef.h>

/* More tags than this is an error (DKIM defines 14; 64 leaves room for
 * extensions without letting an attacker make the duplicate check slow). */
#define DKIM_TAGS_MAX 64

struct dkim_tag {
	const char *name;
	size_t name_len;
	const char *value;	/* first to last tval byte; inner FWS kept as is */
	size_t value_len;
	/* Offsets into the parsed buffer of everything between the '=' and the
	 * ';' (or the end): the span that "b= emptied" removes. */
	size_t span_start;
	size_t span_end;
};

struct dkim_tag_list {
	size_t count;
	struct dkim_tag tags[DKIM_TAGS_MAX];
};

/* Parses buf[0..len). Returns 0, or -1 with *why_r pointing at a static
 * sentence saying what is wrong; then list_r holds the tags read so far. */
int dkim_tags_parse(const char *buf, size_t len, struct dkim_tag_list *list_r, const char **why_r);

/* The lenient reading: every tag-spec that can be read, in order. An empty
 * tag-spec is skipped; one that cannot be read (no '=', a bad name, a
 * character not allowed in its value) or that does not fit in the list is
 * skipped up to the next ';' and counted in *bad_r. A tag that appears more
 * than once is kept each time (dkim_tags_count()). Never fails; an empty
 * list has no tags. */
void dkim_tags_parse_lenient(const char *buf, size_t len, struct dkim_tag_list *list_r,
			     size_t *bad_r);

/* The tag called name (exact, case-sensitive), or NULL. */
const struct dkim_tag *dkim_tags_find(const struct dkim_tag_list *list, const char *name);

/* How many times the tag called name appears (0 or 1 after dkim_tags_parse()). */
size_t dkim_tags_count(const struct dkim_tag_list *list, const char *name);

/* True when the tag's value is exactly s. */
bool dkim_tags_value_is(const struct dkim_tag *tag, const char *s);

/* Walks the colon-separated items of a tag's value (h=, k=, s=, t= ...):
 * from *pos_r (start at 0) sets the next item, FWS around it trimmed, and
 * returns true; false after the last. Empty items are returned too. */
bool dkim_tags_next_item(const struct dkim_tag *tag, size_t *pos_r, const char **item_r, size_t *len_r);

/* True for SP and HTAB, the WSP of RFC 5234. */
static inline bool dkim_tags_is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Skips folding white space (WSP, and a line break only when WSP follows)
 * from buf[pos]; returns the first position after it. */
size_t dkim_tags_skip_fws(const char *buf, size_t len, size_t pos);

#endif
