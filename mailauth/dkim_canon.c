/*
 * dkim_canon.c - DKIM header and body canonicalization, header selection.
 *
 * The body canonicalizer is a small state machine: runs of ordinary bytes
 * are copied in bulk into a staging buffer that is handed to the digest
 * when full, the few special bytes (CR, LF, and WSP when relaxed) change
 * state. The only state carried between chunks is a few flags and the
 * count of empty lines held back (hashed only once a non-empty line
 * follows them). Name comparisons and c= values are case-insensitive, as
 * ABNF strings are.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/dkim_tags.h"

#define STAGE_SIZE 4096

struct prefix {
	uint64_t limit;
	int digest_len;			/* -1: not reached (yet) */
	unsigned char digest[EVP_MAX_MD_SIZE];
};

struct dkim_canon_body {
	enum dkim_canon_mode mode;
	EVP_MD_CTX *md_ctx;
	uint64_t total;			/* canonical bytes so far */
	uint64_t empty_lines;		/* held back, maybe trailing */
	bool in_line;			/* the current line has content */
	bool wsp_pending;		/* relaxed: white space not yet written */
	bool cr_pending;		/* the last byte seen was a CR */
	bool failed;			/* OpenSSL refused something */
	struct strbuf *copy;
	size_t prefix_count;
	size_t next_prefix;		/* in order[]: the next limit to reach */
	struct prefix prefixes[DKIM_CANON_MAX_PREFIXES];
	unsigned char order[DKIM_CANON_MAX_PREFIXES];	/* prefixes by limit */
	size_t stage_len;
	unsigned char stage[STAGE_SIZE];
};

int dkim_canon_mode_parse(const char *s, size_t len, enum dkim_canon_mode *header_r, enum dkim_canon_mode *body_r)
{
	const char *slash = memchr(s, '/', len);
	size_t head_len = slash ? (size_t)(slash - s) : len;
	enum dkim_canon_mode *modes[2] = { header_r, body_r };
	const char *parts[2] = { s, slash ? slash + 1 : NULL };
	size_t lens[2] = { head_len, slash ? len - head_len - 1 : 0 };

	*body_r = DKIM_CANON_SIMPLE;
	for (int i = 0; i < 2 && parts[i] != NULL; i++) {
		if (lens[i] == 6 && strncasecmp(parts[i], "simple", 6) == 0)
			*modes[i] = DKIM_CANON_SIMPLE;
		else if (lens[i] == 7 && strncasecmp(parts[i], "relaxed", 7) == 0)
			*modes[i] = DKIM_CANON_RELAXED;
		else
			return -1;
	}
	return 0;
}

const char *dkim_canon_mode_name(enum dkim_canon_mode mode)
{
	return mode == DKIM_CANON_RELAXED ? "relaxed" : "simple";
}

/* Simple: the field as received, every line break written as CRLF. */
static void header_simple(struct strbuf *out, const char *name, size_t name_len,
			  const char *value, size_t value_len)
{
	strbuf_append(out, name, name_len);
	strbuf_append_char(out, ':');
	for (size_t i = 0; i < value_len; i++) {
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
			strbuf_append_char(out, '\r');
		strbuf_append_char(out, value[i]);
	}
}

/* Relaxed (RFC 6376 3.4.2): lowercase name, no white space around the
 * colon, unfolded, runs of WSP as one SP, none at the end. */
static void header_relaxed(struct strbuf *out, const char *name, size_t name_len,
			   const char *value, size_t value_len)
{
	bool started = false, space = false;

	while (name_len > 0 && dkim_tags_is_wsp(name[name_len - 1]))
		name_len--;
	strbuf_reserve(out, name_len + value_len + 1);
	for (size_t i = 0; i < name_len; i++) {
		char c = name[i];
		strbuf_append_char(out, (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c);
	}
	strbuf_append_char(out, ':');
	for (size_t i = 0; i < value_len; i++) {
		char c = value[i];
		if (c == '\n' || (c == '\r' && i + 1 < value_len && value[i + 1] == '\n'))
			continue;
		if (dkim_tags_is_wsp(c)) {
			space = true;
			continue;
		}
		if (space && started)
			strbuf_append_char(out, ' ');
		space = false;
		started = true;
		strbuf_append_char(out, c);
	}
}

void dkim_canon_header_append(struct strbuf *out, enum dkim_canon_mode mode, const char *name,
			 size_t name_len, const char *value, size_t value_len)
{
	if (mode == DKIM_CANON_RELAXED)
		header_relaxed(out, name, name_len, value, value_len);
	else
		header_simple(out, name, name_len, value, value_len);
}

bool dkim_canon_name_matches(const char *header_name, size_t header_len, const char *name, size_t len)
{
	while (header_len > 0 && dkim_tags_is_wsp(header_name[header_len - 1]))
		header_len--;
	return header_len == len && strncasecmp(header_name, name, len) == 0;
}

void dkim_canon_select_headers(const struct dkim_canon_header *headers, size_t headers_count,
			  const struct canon_name *names, size_t names_count, long *picked_r)
{
	for (size_t i = 0; i < names_count; i++) {
		const struct canon_name *n = &names[i];
		size_t earlier = 0;	/* the same name earlier in h= */

		for (size_t j = 0; j < i; j++)
			if (names[j].len == n->len && strncasecmp(names[j].name, n->name, n->len) == 0)
				earlier++;
		picked_r[i] = -1;
		if (n->len == 0)
			continue;
		for (size_t k = headers_count; k-- > 0;) {
			const struct dkim_canon_header *h = &headers[k];
			if (!dkim_canon_name_matches(h->name, h->name_len, n->name, n->len))
				continue;
			if (earlier-- == 0) {
				picked_r[i] = (long)k;
				break;
			}
		}
	}
}

void dkim_canon_append_selected(struct strbuf *out, enum dkim_canon_mode mode,
				const struct dkim_canon_header *headers, size_t headers_count,
				const struct canon_name *names, size_t names_count)
{
	long *picked = xcalloc(names_count + 1, sizeof(*picked));

	dkim_canon_select_headers(headers, headers_count, names, names_count, picked);
	for (size_t n = 0; n < names_count; n++) {
		if (picked[n] < 0)
			continue;	/* a name with no (more) fields signs as nothing */
		const struct dkim_canon_header *h = &headers[picked[n]];

		dkim_canon_header_append(out, mode, h->name, h->name_len, h->value, h->value_len);
		strbuf_append(out, "\r\n", 2);
	}
	free(picked);
}

struct dkim_canon_body *dkim_canon_body_new(enum dkim_canon_mode mode, const EVP_MD *md)
{
	struct dkim_canon_body *cb = xcalloc(1, sizeof(*cb));

	cb->mode = mode;
	cb->md_ctx = EVP_MD_CTX_new();
	if (cb->md_ctx == NULL || EVP_DigestInit_ex(cb->md_ctx, md, NULL) != 1)
		cb->failed = true;
	return cb;
}

int dkim_canon_body_add_prefix(struct dkim_canon_body *cb, uint64_t limit)
{
	size_t i;

	for (i = 0; i < cb->prefix_count; i++)
		if (cb->prefixes[i].limit == limit)
			return (int)i;
	if (cb->prefix_count == DKIM_CANON_MAX_PREFIXES || cb->total > 0)
		return -1;
	cb->prefixes[i].limit = limit;
	cb->prefixes[i].digest_len = -1;
	/* keep order[] sorted by limit: insertion, at most 64 entries */
	size_t at = cb->prefix_count;
	while (at > 0 && cb->prefixes[cb->order[at - 1]].limit > limit) {
		cb->order[at] = cb->order[at - 1];
		at--;
	}
	cb->order[at] = (unsigned char)i;
	cb->prefix_count++;
	return (int)i;
}

void dkim_canon_body_set_copy(struct dkim_canon_body *cb, struct strbuf *copy)
{
	cb->copy = copy;
}

static void stage_flush(struct dkim_canon_body *cb)
{
	if (cb->stage_len == 0)
		return;
	if (!cb->failed && EVP_DigestUpdate(cb->md_ctx, cb->stage, cb->stage_len) != 1)
		cb->failed = true;
	if (cb->copy != NULL)
		strbuf_append(cb->copy, cb->stage, cb->stage_len);
	cb->stage_len = 0;
}

/* Digests of the prefixes whose limit is where the stream now stands. */
static void take_prefixes(struct dkim_canon_body *cb)
{
	EVP_MD_CTX *snap = NULL;

	while (cb->next_prefix < cb->prefix_count &&
	       cb->prefixes[cb->order[cb->next_prefix]].limit == cb->total) {
		struct prefix *p = &cb->prefixes[cb->order[cb->next_prefix++]];
		unsigned int len = 0;
		stage_flush(cb);
		if (snap == NULL)
			snap = EVP_MD_CTX_new();
		if (!cb->failed && snap != NULL && EVP_MD_CTX_copy_ex(snap, cb->md_ctx) == 1 &&
		    EVP_DigestFinal_ex(snap, p->digest, &len) == 1)
			p->digest_len = (int)len;
	}
	EVP_MD_CTX_free(snap);
}

/* Appends canonical bytes, stopping at each prefix limit on the way. */
static void emit(struct dkim_canon_body *cb, const char *data, size_t len)
{
	while (len > 0) {
		size_t n = len;
		take_prefixes(cb);
		if (cb->next_prefix < cb->prefix_count) {
			uint64_t room = cb->prefixes[cb->order[cb->next_prefix]].limit - cb->total;
			if (room < n)
				n = (size_t)room;
		}
		if (n > STAGE_SIZE - cb->stage_len)
			n = STAGE_SIZE - cb->stage_len;
		memcpy(cb->stage + cb->stage_len, data, n);
		cb->stage_len += n;
		cb->total += n;
		data += n;
		len -= n;
		if (cb->stage_len == STAGE_SIZE)
			stage_flush(cb);
	}
	take_prefixes(cb);
}

/* Writes out what was held back before content resumes on a line. */
static void resume_content(struct dkim_canon_body *cb)
{
	for (; cb->empty_lines > 0; cb->empty_lines--)
		emit(cb, "\r\n", 2);
	if (cb->wsp_pending) {
		emit(cb, " ", 1);
		cb->wsp_pending = false;
	}
	cb->in_line = true;
}

static void end_of_line(struct dkim_canon_body *cb)
{
	if (cb->in_line)
		emit(cb, "\r\n", 2);
	else
		cb->empty_lines++;
	cb->in_line = false;
	cb->wsp_pending = false;
}

/* Length of the run of ordinary bytes at p: no CR or LF, and for relaxed
 * no WSP either. They are written as they are. */
static size_t ordinary_run(const struct dkim_canon_body *cb, const char *p, size_t len)
{
	size_t n = 0;

	if (cb->mode == DKIM_CANON_RELAXED) {
		while (n < len && p[n] != '\r' && p[n] != '\n' && p[n] != ' ' && p[n] != '\t')
			n++;
	} else {
		while (n < len && p[n] != '\r' && p[n] != '\n')
			n++;
	}
	return n;
}

/* One special byte: CR, LF, or (relaxed) WSP. */
static void special_byte(struct dkim_canon_body *cb, char c)
{
	if (c == '\r')
		cb->cr_pending = true;
	else if (c == '\n')
		end_of_line(cb);
	else
		cb->wsp_pending = true;
}

void dkim_canon_body_update(struct dkim_canon_body *cb, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		if (cb->cr_pending) {
			cb->cr_pending = false;
			if (*p == '\n') {
				end_of_line(cb);
				p++;
				len--;
				continue;
			}
			resume_content(cb);
			emit(cb, "\r", 1);	/* a bare CR is content */
		}
		size_t n = ordinary_run(cb, p, len);
		if (n > 0) {
			resume_content(cb);
			emit(cb, p, n);
			p += n;
			len -= n;
			continue;
		}
		special_byte(cb, *p);
		p++;
		len--;
	}
}

int dkim_canon_body_final(struct dkim_canon_body *cb, unsigned char *digest)
{
	unsigned int digest_len = 0;

	if (cb->cr_pending) {
		cb->cr_pending = false;
		resume_content(cb);
		emit(cb, "\r", 1);
	}
	if (cb->in_line)
		emit(cb, "\r\n", 2);
	cb->in_line = false;
	if (cb->mode == DKIM_CANON_SIMPLE && cb->total == 0)
		emit(cb, "\r\n", 2);
	take_prefixes(cb);
	stage_flush(cb);
	if (cb->failed || EVP_DigestFinal_ex(cb->md_ctx, digest, &digest_len) != 1)
		return -1;
	return (int)digest_len;
}

int dkim_canon_body_prefix(const struct dkim_canon_body *cb, int prefix, unsigned char *digest)
{
	if (prefix < 0 || (size_t)prefix >= cb->prefix_count || cb->prefixes[prefix].digest_len < 0)
		return -1;
	memcpy(digest, cb->prefixes[prefix].digest, (size_t)cb->prefixes[prefix].digest_len);
	return cb->prefixes[prefix].digest_len;
}

uint64_t dkim_canon_body_length(const struct dkim_canon_body *cb)
{
	return cb->total;
}

void dkim_canon_body_free(struct dkim_canon_body **cb)
{
	if (*cb == NULL)
		return;
	EVP_MD_CTX_free((*cb)->md_ctx);
	free(*cb);
	*cb = NULL;
}
