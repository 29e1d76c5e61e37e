/*
 * dmarc_report_unpack.h - the XML out of a report attachment: gzip (what
 * RFC 7489 and RFC 9990 require), zip (what some receivers send anyway)
 * or plain XML, told apart by their first bytes.
 *
 * Pure and bounded, on zlib. A zip is read as its first member only,
 * from its local header (stored or deflate, not encrypted): a report
 * holds one file, and this needs no seeking, no central directory and no
 * second library (libzip).
 */
#ifndef LIMRISTEM_MAILAUTH_DMARC_REPORT_UNPACK_H
#define LIMRISTEM_MAILAUTH_DMARC_REPORT_UNPACK_H

#include <stddef.h>

#include "common/strbuf.h"

enum dmarc_report_packing {
	DMARC_REPORT_UNKNOWN,	/* none of the below */
	DMARC_REPORT_XML,	/* '<' after optional white space and a UTF-8 BOM */
	DMARC_REPORT_GZIP,	/* 1f 8b */
	DMARC_REPORT_ZIP,	/* PK 03 04 */
};

/* What data[0..len) looks like. */
enum dmarc_report_packing dmarc_report_packing(const unsigned char *data, size_t len);

/* Appends the XML to xml (at most DMARC_REPORT_XML_MAX bytes). Returns 0,
 * or -1 with why in err (not a known packing, corrupt, encrypted, over
 * the limit). */
int dmarc_report_unpack(const unsigned char *data, size_t len, struct strbuf *xml, char *err,
			size_t errlen);

#endif
