/*
 * dmarc_report.c - the XML of a DMARC aggregate report (RFC 7489 appendix
 * C, RFC 9990) into a struct dmarc_report, on libxml2.
 *
 * Hostile input is expected: anyone can mail the rua address. The parser
 * runs with XML_PARSE_NONET and without XML_PARSE_NOENT, DTDLOAD, DTDATTR
 * or HUGE; the SAX callback of a DOCTYPE stops it before the internal
 * subset is read, so no entity is ever declared, let alone expanded or
 * loaded; an entity loader that refuses everything is installed as well.
 * libxml2's own limits (depth 256, 10 MB text nodes) stay on; the caller's
 * buffer is at most DMARC_REPORT_XML_MAX. Values are checked (tokens from
 * their sets, numbers in range, addresses parsed, no control character,
 * C1 included, since `mailadm dmarc summary` prints them to a terminal)
 * and refused with the record they are in named; elements we do not know
 * are skipped.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlversion.h>

#include "mailauth/dmarc_report.h"

#define NS_RFC9990 "urn:ietf:params:xml:ns:dmarc-2.0"
#define NS_DRAFT "http://dmarc.org/dmarc-xml/0.1"	/* seen in RFC 7489-era reports */

struct errbuf {
	char *text;
	size_t len;
};

static int fail(struct errbuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct errbuf *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(e->text, e->len, fmt, ap);	/* an error cut short is still an error */
	va_end(ap);
	return -1;
}

static const char *const policies[] = { "none", "quarantine", "reject", NULL };
static const char *const dispositions[] = { "none", "quarantine", "reject", "pass", NULL };
static const char *const pass_fail[] = { "pass", "fail", NULL };
static const char *const alignments[] = { "r", "s", NULL };
static const char *const yes_no[] = { "y", "n", NULL };
static const char *const discovery[] = { "psl", "treewalk", NULL };
static const char *const spf_scopes[] = { "mfrom", "helo", NULL };

/* An element of ours: no namespace, RFC 9990's or the draft's. */
static bool is(const xmlNode *n, const char *name)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
		return false;
	if (n->ns == NULL || n->ns->href == NULL)
		return true;
	return strcmp((const char *)n->ns->href, NS_RFC9990) == 0 ||
	       strcmp((const char *)n->ns->href, NS_DRAFT) == 0;
}

static const xmlNode *child(const xmlNode *parent, const char *name)
{
	if (parent == NULL)
		return NULL;
	for (const xmlNode *c = parent->children; c != NULL; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* The text of n, white space trimmed, into out[cap]; "" when n is NULL.
 * Refuses text that does not fit or holds control characters. */
static int text(const xmlNode *n, char *out, size_t cap, const char *what, struct errbuf *e)
{
	xmlChar *content;
	const char *s;
	size_t len;

	out[0] = '\0';
	if (n == NULL)
		return 0;
	if ((content = xmlNodeGetContent(n)) == NULL)
		return fail(e, "%s: out of memory", what);
	s = (const char *)content;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= cap) {
		xmlFree(content);
		return fail(e, "%s: longer than %zu bytes", what, cap - 1);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i], next = i + 1 < len ? (unsigned char)s[i + 1] : 0;

		/* C0, DEL and C1 (U+0080..U+009F, which terminals obey too) */
		if (c < 0x20 || c == 0x7f || (c == 0xc2 && next >= 0x80 && next <= 0x9f)) {
			xmlFree(content);
			return fail(e, "%s: a control character", what);
		}
	}
	memcpy(out, s, len);
	out[len] = '\0';
	xmlFree(content);
	return 0;
}

static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A token from allowed (NULL: any lowercase letters), lowercased;
 * required says whether "" is refused. */
static int token(const xmlNode *n, char *out, size_t cap, const char *what,
		 const char *const *allowed, bool required, struct errbuf *e)
{
	if (text(n, out, cap, what, e) < 0)
		return -1;
	lowercase(out);
	if (out[0] == '\0')
		return required ? fail(e, "%s: missing", what) : 0;
	if (allowed == NULL) {
		for (const char *p = out; *p; p++)
			if (*p < 'a' || *p > 'z')
				return fail(e, "%s: \"%s\" is not a word", what, out);
		return 0;
	}
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(out, allowed[i]) == 0)
			return 0;
	return fail(e, "%s: \"%s\" is not one of the values the RFCs define", what, out);
}

/* A domain name as reports write it: lowercased, a final dot dropped;
 * letters, digits, '-', '_', '.' and UTF-8 (U-labels) only. */
static int domain(const xmlNode *n, char *out, size_t cap, const char *what, bool required,
		  struct errbuf *e)
{
	size_t len;

	if (text(n, out, cap, what, e) < 0)
		return -1;
	lowercase(out);
	len = strlen(out);
	if (len > 0 && out[len - 1] == '.')
		out[--len] = '\0';
	if (len == 0)
		return required ? fail(e, "%s: missing", what) : 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];

		if (!(isalnum(c) || c == '-' || c == '_' || c == '.' || c >= 0x80))
			return fail(e, "%s: \"%s\" is not a domain name", what, out);
	}
	return 0;
}

/* A whole number in [0, max]: digits only. */
static int number(const xmlNode *n, long long max, long long *v_r, const char *what,
		  struct errbuf *e)
{
	char buf[32];
	long long v = 0;

	if (text(n, buf, sizeof(buf), what, e) < 0)
		return -1;
	if (buf[0] == '\0')
		return fail(e, "%s: missing", what);
	for (const char *p = buf; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(e, "%s: \"%s\" is not a whole number", what, buf);
		if (v > (max - (*p - '0')) / 10)
			return fail(e, "%s: %s is over %lld", what, buf, max);
		v = v * 10 + (*p - '0');
	}
	*v_r = v;
	return 0;
}

static int parse_metadata(const xmlNode *root, struct dmarc_report *r, struct errbuf *e)
{
	const xmlNode *meta = child(root, "report_metadata"), *range;

	if (meta == NULL)
		return fail(e, "no report_metadata");
	if (text(child(meta, "org_name"), r->org_name, sizeof(r->org_name), "org_name", e) < 0 ||
	    text(child(meta, "email"), r->email, sizeof(r->email), "email", e) < 0 ||
	    text(child(meta, "report_id"), r->report_id, sizeof(r->report_id), "report_id", e) < 0)
		return -1;
	if (r->org_name[0] == '\0')
		return fail(e, "org_name: missing");
	if (r->report_id[0] == '\0')
		return fail(e, "report_id: missing");
	if ((range = child(meta, "date_range")) == NULL)
		return fail(e, "date_range: missing");
	if (number(child(range, "begin"), DMARC_REPORT_TIME_MAX, &r->begin, "date_range begin", e) < 0 ||
	    number(child(range, "end"), DMARC_REPORT_TIME_MAX, &r->end, "date_range end", e) < 0)
		return -1;
	if (r->begin > r->end)
		return fail(e, "date_range: begin %lld is after end %lld", r->begin, r->end);
	return 0;
}

static int parse_policy(const xmlNode *root, struct dmarc_report *r, struct errbuf *e)
{
	const xmlNode *pp = child(root, "policy_published");
	long long pct;

	if (pp == NULL)
		return fail(e, "no policy_published");
	if (domain(child(pp, "domain"), r->domain, sizeof(r->domain), "policy_published domain",
		   true, e) < 0 ||
	    token(child(pp, "p"), r->p, sizeof(r->p), "policy_published p", policies, true, e) < 0 ||
	    token(child(pp, "sp"), r->sp, sizeof(r->sp), "policy_published sp", policies, false, e) < 0 ||
	    token(child(pp, "np"), r->np, sizeof(r->np), "policy_published np", policies, false, e) < 0 ||
	    token(child(pp, "adkim"), r->adkim, sizeof(r->adkim), "policy_published adkim", alignments,
		  false, e) < 0 ||
	    token(child(pp, "aspf"), r->aspf, sizeof(r->aspf), "policy_published aspf", alignments,
		  false, e) < 0 ||
	    token(child(pp, "testing"), r->testing, sizeof(r->testing), "policy_published testing",
		  yes_no, false, e) < 0 ||
	    token(child(pp, "discovery_method"), r->discovery_method, sizeof(r->discovery_method),
		  "policy_published discovery_method", discovery, false, e) < 0)
		return -1;
	r->pct = -1;
	if (child(pp, "pct") != NULL) {
		if (number(child(pp, "pct"), 100, &pct, "policy_published pct", e) < 0)
			return -1;
		r->pct = (int)pct;
	}
	return 0;
}

/* The auth_results: the first passing DKIM result (else the first), the
 * first SPF result. */
static int parse_auth(const xmlNode *auth, struct dmarc_report_row *row, const char *where,
		      struct errbuf *e)
{
	char what[96], dom[sizeof(row->dkim_domain)], sel[sizeof(row->dkim_selector)];
	char res[sizeof(row->dkim_result)];
	bool spf_seen = false;

	for (const xmlNode *c = auth != NULL ? auth->children : NULL; c != NULL; c = c->next) {
		if (is(c, "dkim")) {
			snprintf(what, sizeof(what), "%s auth_results dkim", where);	/* fits */
			if (domain(child(c, "domain"), dom, sizeof(dom), what, false, e) < 0 ||
			    text(child(c, "selector"), sel, sizeof(sel), what, e) < 0 ||
			    token(child(c, "result"), res, sizeof(res), what, NULL, true, e) < 0)
				return -1;
			if (row->dkim_count++ == 0 ||
			    (strcmp(res, "pass") == 0 && strcmp(row->dkim_result, "pass") != 0)) {
				memcpy(row->dkim_domain, dom, sizeof(dom));
				memcpy(row->dkim_selector, sel, sizeof(sel));
				memcpy(row->dkim_result, res, sizeof(res));
			}
		} else if (is(c, "spf") && !spf_seen) {
			spf_seen = true;
			snprintf(what, sizeof(what), "%s auth_results spf", where);	/* fits */
			if (domain(child(c, "domain"), row->spf_domain, sizeof(row->spf_domain), what, false,
				   e) < 0 ||
			    token(child(c, "scope"), row->spf_scope, sizeof(row->spf_scope), what, spf_scopes,
				  false, e) < 0 ||
			    token(child(c, "result"), row->spf_result, sizeof(row->spf_result), what, NULL,
				  true, e) < 0)
				return -1;
		}
	}
	return 0;
}

static int parse_record(const xmlNode *rec, size_t index, struct dmarc_report_row *row,
			struct errbuf *e)
{
	const xmlNode *r = child(rec, "row"), *pe = child(r, "policy_evaluated"),
		      *ids = child(rec, "identifiers");
	char where[32], what[96];
	unsigned char addr[16];
	long long count;

	snprintf(where, sizeof(where), "record %zu", index + 1);	/* fits */
	if (r == NULL)
		return fail(e, "%s: no row", where);
	snprintf(what, sizeof(what), "%s source_ip", where);
	if (text(child(r, "source_ip"), row->source_ip, sizeof(row->source_ip), what, e) < 0)
		return -1;
	if (inet_pton(AF_INET, row->source_ip, addr) != 1 && inet_pton(AF_INET6, row->source_ip, addr) != 1)
		return fail(e, "%s: \"%s\" is not an IP address", what, row->source_ip);
	snprintf(what, sizeof(what), "%s count", where);
	if (number(child(r, "count"), UINT32_MAX, &count, what, e) < 0)
		return -1;
	row->count = (unsigned long)count;
	if (pe == NULL)
		return fail(e, "%s: no policy_evaluated", where);
	snprintf(what, sizeof(what), "%s policy_evaluated", where);
	if (token(child(pe, "disposition"), row->disposition, sizeof(row->disposition), what,
		  dispositions, true, e) < 0 ||
	    token(child(pe, "dkim"), row->dkim, sizeof(row->dkim), what, pass_fail, true, e) < 0 ||
	    token(child(pe, "spf"), row->spf, sizeof(row->spf), what, pass_fail, true, e) < 0 ||
	    text(child(child(pe, "reason"), "type"), row->reason, sizeof(row->reason), what, e) < 0)
		return -1;
	lowercase(row->reason);
	if (strspn(row->reason, "abcdefghijklmnopqrstuvwxyz_") != strlen(row->reason))
		return fail(e, "%s reason type: \"%s\" is not a word", what, row->reason);
	if (ids == NULL)
		return fail(e, "%s: no identifiers", where);
	snprintf(what, sizeof(what), "%s header_from", where);
	if (domain(child(ids, "header_from"), row->header_from, sizeof(row->header_from), what, true,
		   e) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s envelope_from", where);
	if (domain(child(ids, "envelope_from"), row->envelope_from, sizeof(row->envelope_from), what,
		   false, e) < 0)
		return -1;
	return parse_auth(child(rec, "auth_results"), row, where, e);
}

static int parse_records(const xmlNode *root, struct dmarc_report *r, struct errbuf *e)
{
	size_t n = 0;

	for (const xmlNode *c = root->children; c != NULL; c = c->next)
		if (is(c, "record") && ++n > DMARC_REPORT_RECORDS_MAX)
			return fail(e, "more than %d records", DMARC_REPORT_RECORDS_MAX);
	if (n == 0)
		return fail(e, "no record");
	if ((r->rows = calloc(n, sizeof(*r->rows))) == NULL)
		return fail(e, "out of memory for %zu records", n);
	for (const xmlNode *c = root->children; c != NULL; c = c->next) {
		if (!is(c, "record"))
			continue;
		if (parse_record(c, r->row_count, &r->rows[r->row_count], e) < 0)
			return -1;
		r->messages += r->rows[r->row_count++].count;
	}
	return 0;
}

static int parse_document(const xmlNode *root, struct dmarc_report *r, struct errbuf *e)
{
	if (root == NULL || !is(root, "feedback"))
		return fail(e, "the document is not a DMARC aggregate report (its root is not <feedback>)");
	r->format = root->ns != NULL && root->ns->href != NULL &&
		    strcmp((const char *)root->ns->href, NS_RFC9990) == 0 ? DMARC_REPORT_RFC9990
									 : DMARC_REPORT_RFC7489;
	if (parse_metadata(root, r, e) < 0 || parse_policy(root, r, e) < 0)
		return -1;
	return parse_records(root, r, e);
}

/* --- libxml2, locked down ------------------------------------------------------ */

static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
			   const xmlChar *system_id)
{
	xmlParserCtxtPtr parser = ctx;

	(void)name, (void)external_id, (void)system_id;
	*(bool *)parser->_private = true;
	xmlStopParser(parser);
}

static xmlParserInputPtr refuse_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url, (void)id, (void)ctxt;
	return NULL;
}

int dmarc_report_parse_xml(const char *xml, size_t len, struct dmarc_report *r, char *err,
			   size_t errlen)
{
	struct errbuf e = { err, errlen };
	xmlParserCtxtPtr parser;
	bool doctype = false;
	xmlDocPtr doc;
	int rc;

	memset(r, 0, sizeof(*r));
	r->pct = -1;
	if (len > DMARC_REPORT_XML_MAX)
		return fail(&e, "the XML is over %u MiB", DMARC_REPORT_XML_MAX >> 20);
	xmlInitParser();
	xmlSetExternalEntityLoader(refuse_entity);
	if ((parser = xmlNewParserCtxt()) == NULL)
		return fail(&e, "out of memory");
	parser->sax->internalSubset = refuse_doctype;
	parser->_private = &doctype;
#if LIBXML_VERSION >= 21100
	xmlCtxtSetMaxAmplification(parser, 5);
#endif
	doc = xmlCtxtReadMemory(parser, xml, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				XML_PARSE_NOCDATA);
	if (doctype) {
		rc = fail(&e, "the XML has a DOCTYPE: refused (a report has none; entity "
			  "declarations and external DTDs are not read)");
	} else if (doc == NULL || !parser->wellFormed) {
		const xmlError *x = xmlCtxtGetLastError(parser);
		size_t n;

		rc = fail(&e, "not well-formed XML: line %d: %s", x != NULL ? x->line : 0,
			  x != NULL && x->message != NULL ? x->message : "unknown error");
		n = strlen(err);
		while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
	} else {
		rc = parse_document(xmlDocGetRootElement(doc), r, &e);
	}
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(parser);
	return rc;
}

void dmarc_report_release(struct dmarc_report *r)
{
	free(r->rows);
	memset(r, 0, sizeof(*r));
	r->pct = -1;
}
