/*
 * dmarc_report.h - DMARC aggregate reports that other receivers send us:
 * RFC 7489 appendix C and RFC 9990 XML, read into structs.
 *
 * Pure and bounded: a buffer in, a struct dmarc_report out, nothing read
 * from the network or the disk. The XML is parsed by libxml2 with entity
 * expansion, DTD loading and network access off; a document with a
 * DOCTYPE is refused before anything in it is read (no report has one,
 * and the DTD is where entity bombs and external entities live).
 * Elements are matched by local name in no namespace, RFC 9990's
 * (urn:ietf:params:xml:ns:dmarc-2.0) or the draft's; elements in any
 * other namespace (extensions) and unknown elements are ignored.
 *
 * dmarc_report_mail.h finds the report in a message (MIME, base64, gzip,
 * zip); this file reads the XML.
 */
#ifndef LIMRISTEM_MAILAUTH_DMARC_REPORT_H
#define LIMRISTEM_MAILAUTH_DMARC_REPORT_H

#include <stddef.h>

#define DMARC_REPORT_XML_MAX (32u << 20)	/* bytes of XML, uncompressed */
#define DMARC_REPORT_RECORDS_MAX 10000		/* <record> elements in one report */
#define DMARC_REPORT_TEXT_MAX 255		/* org_name, email, report_id: bytes */
#define DMARC_REPORT_DOMAIN_MAX 253
#define DMARC_REPORT_TIME_MAX 4102444800LL	/* 2100-01-01: later dates are refused */

enum dmarc_report_format {
	DMARC_REPORT_RFC7489,	/* no namespace (RFC 7489 appendix C) */
	DMARC_REPORT_RFC9990,	/* urn:ietf:params:xml:ns:dmarc-2.0 */
};

/* One <record>. Strings are empty when the element is absent; results
 * and tokens are lowercase. Of the auth_results, the first DKIM result
 * that passed (else the first) and the first SPF result are kept, and
 * how many DKIM results there were. */
struct dmarc_report_row {
	char source_ip[46];		/* as written (IPv4 or IPv6, checked) */
	unsigned long count;		/* messages, 0..UINT32_MAX */
	char disposition[12];		/* none, quarantine, reject (pass: RFC 9990 allows it) */
	char dkim[8], spf[8];		/* policy_evaluated: pass, fail */
	char reason[24];		/* the first policy_evaluated reason type, or "" */
	char header_from[DMARC_REPORT_DOMAIN_MAX + 1];
	char envelope_from[DMARC_REPORT_DOMAIN_MAX + 1];
	char dkim_domain[DMARC_REPORT_DOMAIN_MAX + 1];
	char dkim_selector[64];
	char dkim_result[16];		/* none, pass, fail, policy, neutral, temperror, permerror */
	unsigned dkim_count;
	char spf_domain[DMARC_REPORT_DOMAIN_MAX + 1];
	char spf_scope[8];		/* mfrom, helo or "" */
	char spf_result[16];		/* none, neutral, pass, fail, softfail, temperror, permerror */
};

struct dmarc_report {
	enum dmarc_report_format format;
	char org_name[DMARC_REPORT_TEXT_MAX + 1];
	char email[DMARC_REPORT_TEXT_MAX + 1];
	char report_id[DMARC_REPORT_TEXT_MAX + 1];
	long long begin, end;		/* seconds since the epoch, begin <= end */
	/* policy_published */
	char domain[DMARC_REPORT_DOMAIN_MAX + 1];
	char p[12], sp[12], np[12];	/* none, quarantine, reject; sp and np may be "" */
	char adkim[2], aspf[2];		/* "r", "s" or "" */
	int pct;			/* 0..100, -1 when absent (RFC 9990 has none) */
	char testing[2];		/* "y", "n" or "" (RFC 9990) */
	char discovery_method[12];	/* psl, treewalk or "" (RFC 9990) */
	struct dmarc_report_row *rows;
	size_t row_count;
	unsigned long long messages;	/* the sum of the rows' counts */
};

/* Reads the XML in xml[0..len) into *r (which the caller releases with
 * dmarc_report_release(), also after a failure). Returns 0, or -1 with
 * what is wrong in err (a DOCTYPE, XML errors, a missing or invalid
 * element, more than DMARC_REPORT_RECORDS_MAX records, ...). */
int dmarc_report_parse_xml(const char *xml, size_t len, struct dmarc_report *r, char *err,
			   size_t errlen);

/* Frees the rows and zeroes *r. */
void dmarc_report_release(struct dmarc_report *r);

#endif
