/*
 * dmarc_report_mail.c - from a message to its report: a bounded MIME walk
 * (multipart bodies split on their boundary, nested a few levels), the
 * part's transfer encoding undone, then dmarc_report_unpack() and
 * dmarc_report_parse_xml().
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/strbuf.h"
#include "mailauth/dkim_crypto.h"
#include "mailauth/dmarc_report_mail.h"
#include "mailauth/dmarc_report_unpack.h"
#include "mailauth/msgsplit.h"

#define TYPE_MAX 128
#define BOUNDARY_MAX 70		/* RFC 2046 5.1.1 */
#define FILENAME_MAX_ 256

struct fields {
	struct strbuf type, encoding, disposition;
	bool have_type, have_encoding, have_disposition;
};

struct walk {
	size_t parts;
	struct dmarc_report *report;
	char *err;
	size_t errlen;
};

static int fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(w->err, w->errlen, fmt, ap);	/* an error cut short is still an error */
	va_end(ap);
	return -1;
}

static bool named(const char *name, size_t len, const char *want)
{
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

static void take_field(void *ctx, const char *name, size_t name_len, const char *value,
		       size_t value_len)
{
	struct fields *f = ctx;

	if (!f->have_type && named(name, name_len, "Content-Type")) {
		f->have_type = true;
		msgsplit_unfold(value, value_len, &f->type);
	} else if (!f->have_encoding && named(name, name_len, "Content-Transfer-Encoding")) {
		f->have_encoding = true;
		msgsplit_unfold(value, value_len, &f->encoding);
	} else if (!f->have_disposition && named(name, name_len, "Content-Disposition")) {
		f->have_disposition = true;
		msgsplit_unfold(value, value_len, &f->disposition);
	}
}

/* The first word of a field (a media type, an encoding), lowercased. */
static void first_word(const char *v, char *out, size_t cap)
{
	size_t n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	while (*v && *v != ';' && *v != ' ' && *v != '\t' && *v != '(' && n + 1 < cap)
		out[n++] = (char)tolower((unsigned char)*v++);
	out[n] = '\0';
}

/* The value of parameter name in a field ("; name=value" or a quoted
 * string); "" when absent or longer than cap. */
static void parameter(const char *v, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);

	out[0] = '\0';
	for (const char *p = strchr(v, ';'); p != NULL; p = strchr(p + 1, ';')) {
		const char *q = p + 1;
		size_t n = 0;

		while (*q == ' ' || *q == '\t')
			q++;
		if (strncasecmp(q, name, nlen) != 0)
			continue;
		q += nlen;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q++ != '=')
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '"') {
			for (q++; *q && *q != '"' && n + 1 < cap; q++) {
				if (*q == '\\' && q[1] != '\0')
					q++;
				out[n++] = *q;
			}
			if (*q != '"')
				n = 0;	/* unterminated or too long */
		} else {
			while (*q && *q != ';' && *q != ' ' && *q != '\t' && n + 1 < cap)
				out[n++] = *q++;
			if (*q && *q != ';' && *q != ' ' && *q != '\t')
				n = 0;	/* too long */
		}
		out[n] = '\0';
		return;
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Whether a part of this type and file name may hold a report. */
static bool may_be_report(const char *type, const char *filename)
{
	static const char *const types[] = {
		"application/gzip", "application/x-gzip", "application/zip", "application/x-zip",
		"application/x-zip-compressed", "application/octet-stream", "application/xml",
		"text/xml", NULL,
	};

	for (size_t i = 0; types[i] != NULL; i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return ends_with(filename, ".gz") || ends_with(filename, ".zip") || ends_with(filename, ".xml");
}

static int hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Quoted-printable (RFC 2045 6.7) into out, which holds len bytes. */
static size_t qp_decode(const char *in, size_t len, unsigned char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] != '=') {
			out[n++] = (unsigned char)in[i];
		} else if (i + 2 < len && hex((unsigned char)in[i + 1]) >= 0 &&
			   hex((unsigned char)in[i + 2]) >= 0) {
			out[n++] = (unsigned char)(hex((unsigned char)in[i + 1]) << 4 |
						   hex((unsigned char)in[i + 2]));
			i += 2;
		} else if (i + 1 < len && in[i + 1] == '\n') {
			i += 1;		/* soft line break */
		} else if (i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n') {
			i += 2;
		} else {
			out[n++] = '=';
		}
	}
	return n;
}

/* A leaf part that may be a report: decoded, unpacked, parsed. Returns 1
 * when it was one, 0 when its bytes are no report, -1 on an error. */
static int read_leaf(const char *body, size_t len, const char *encoding, struct walk *w)
{
	unsigned char *data = malloc(len + 1);
	struct strbuf xml = STRBUF_INIT;
	ssize_t n;
	int rc;

	if (data == NULL)
		return fail(w, "out of memory");
	if (strcmp(encoding, "base64") == 0) {
		if ((n = dkim_base64_decode(body, len, data, len + 1)) < 0) {
			free(data);
			return fail(w, "the report's attachment is not valid base64");
		}
	} else if (strcmp(encoding, "quoted-printable") == 0) {
		n = (ssize_t)qp_decode(body, len, data);
	} else {
		memcpy(data, body, len);
		n = (ssize_t)len;
	}
	if (dmarc_report_packing(data, (size_t)n) == DMARC_REPORT_UNKNOWN) {
		free(data);
		return 0;
	}
	rc = dmarc_report_unpack(data, (size_t)n, &xml, w->err, w->errlen);
	free(data);
	if (rc == 0)
		rc = dmarc_report_parse_xml(xml.data, xml.len, w->report, w->err, w->errlen);
	strbuf_release(&xml);
	return rc < 0 ? -1 : 1;
}

static int walk_part(const char *part, size_t len, unsigned depth, struct walk *w);

/* The parts of a multipart body, in order, until one is a report. */
static int walk_multipart(const char *body, size_t len, const char *boundary, unsigned depth,
			  struct walk *w)
{
	size_t blen = strlen(boundary), pos = 0, start = 0;
	bool in_part = false;

	while (pos < len) {
		const char *nl = memchr(body + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - body) : len, next = nl != NULL ? end + 1 : len;

		if (end - pos >= 2 + blen && body[pos] == '-' && body[pos + 1] == '-' &&
		    memcmp(body + pos + 2, boundary, blen) == 0) {
			size_t rest = pos + 2 + blen;
			bool closing = end - rest >= 2 && body[rest] == '-' && body[rest + 1] == '-';

			if (closing)
				rest += 2;
			while (rest < end && (body[rest] == ' ' || body[rest] == '\t' || body[rest] == '\r'))
				rest++;
			if (rest == end) {	/* a delimiter line */
				if (in_part) {
					size_t stop = pos;
					int rc;

					if (stop > start && body[stop - 1] == '\n')
						stop--;
					if (stop > start && body[stop - 1] == '\r')
						stop--;
					if ((rc = walk_part(body + start, stop - start, depth + 1, w)) != 0)
						return rc;
				}
				if (closing)
					return 0;
				in_part = true;
				start = next;
			}
		}
		pos = next;
	}
	return in_part ? walk_part(body + start, len - start, depth + 1, w) : 0;	/* unclosed */
}

static void fields_release(struct fields *f)
{
	strbuf_release(&f->type);
	strbuf_release(&f->encoding);
	strbuf_release(&f->disposition);
}

/* One entity (the message, or a part): 1 when the report was found in
 * it, 0 when not, -1 on an error. */
static int walk_part(const char *part, size_t len, unsigned depth, struct walk *w)
{
	struct fields f = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, false, false, false };
	char type[TYPE_MAX], encoding[32], boundary[BOUNDARY_MAX + 1], filename[FILENAME_MAX_];
	size_t body;
	int rc = 0;

	if (depth > DMARC_REPORT_MIME_DEPTH)
		return fail(w, "MIME nested more than %d levels deep", DMARC_REPORT_MIME_DEPTH);
	if (++w->parts > DMARC_REPORT_MIME_PARTS_MAX)
		return fail(w, "more than %d MIME parts", DMARC_REPORT_MIME_PARTS_MAX);
	body = msgsplit(part, len, take_field, &f);
	first_word(f.have_type ? strbuf_str(&f.type) : "text/plain", type, sizeof(type));
	first_word(strbuf_str(&f.encoding), encoding, sizeof(encoding));
	parameter(strbuf_str(&f.disposition), "filename", filename, sizeof(filename));
	if (filename[0] == '\0')
		parameter(strbuf_str(&f.type), "name", filename, sizeof(filename));
	if (strncmp(type, "multipart/", 10) == 0) {
		parameter(strbuf_str(&f.type), "boundary", boundary, sizeof(boundary));
		if (boundary[0] == '\0')
			rc = fail(w, "a multipart part without a boundary (or one over %d characters)",
				  BOUNDARY_MAX);
		else
			rc = walk_multipart(part + body, len - body, boundary, depth, w);
	} else if (may_be_report(type, filename)) {
		rc = read_leaf(part + body, len - body, encoding, w);
	}
	fields_release(&f);
	return rc;
}

int dmarc_report_from_message(const char *msg, size_t len, struct dmarc_report *r, char *err,
			      size_t errlen)
{
	struct walk w = { 0, r, err, errlen };
	struct strbuf xml = STRBUF_INIT;
	int rc;

	memset(r, 0, sizeof(*r));
	r->pct = -1;
	if (len > DMARC_REPORT_MESSAGE_MAX)
		return fail(&w, "the message is over %u MiB", DMARC_REPORT_MESSAGE_MAX >> 20);
	if (dmarc_report_packing((const unsigned char *)msg, len) != DMARC_REPORT_UNKNOWN) {
		rc = dmarc_report_unpack((const unsigned char *)msg, len, &xml, err, errlen);	/* a file */
		if (rc == 0)
			rc = dmarc_report_parse_xml(xml.data, xml.len, r, err, errlen);
		strbuf_release(&xml);
		return rc;
	}
	if (len > 5 && memcmp(msg, "From ", 5) == 0) {	/* an mbox separator line */
		const char *nl = memchr(msg, '\n', len);

		len -= nl != NULL ? (size_t)(nl + 1 - msg) : len;
		msg = nl != NULL ? nl + 1 : msg + len;
	}
	rc = walk_part(msg, len, 0, &w);
	if (rc == 0)
		return fail(&w, "no report in the message (no part of a report's type or name holds "
			    "gzip, zip or XML)");
	return rc < 0 ? -1 : 0;
}
