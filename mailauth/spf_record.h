/*
 * spf_record.h - pick the SPF record among a domain's TXT strings.
 *
 * RFC 7208 4.5: the record is the one TXT string that starts with
 * "v=spf1" (any case) followed by a space or its end; none means no
 * record, two or more a permerror. A record with bytes outside printable
 * ASCII and space is a permerror too (3.1, 4.6.1): libspf2 takes C
 * strings, and a NUL would silently cut the record short. The grammar of
 * the record itself is spf_syntax.h's business.
 *
 * Pure functions over bytes; fuzzed by tests/fuzz/fuzz_spf_record.c.
 */
#ifndef LIMRISTEM_SPF_RECORD_H
#define LIMRISTEM_SPF_RECORD_H

#include <stddef.h>

#include "common/dns_rdata.h"

enum spf_record_status {
	SPF_RECORD_FOUND,
	SPF_RECORD_NONE,	/* no TXT string is an SPF record */
	SPF_RECORD_MULTIPLE,	/* permerror */
	SPF_RECORD_INVALID,	/* permerror; *why_r says what is wrong */
};

/* Looks at txt[0..count) (TXT records: the strings of each joined). On
 * SPF_RECORD_FOUND and SPF_RECORD_INVALID, *index_r is the record's
 * index; on SPF_RECORD_INVALID and SPF_RECORD_MULTIPLE, *why_r is a static
 * sentence. */
enum spf_record_status spf_record_select(const struct dns_record *txt, size_t count,
					 size_t *index_r, const char **why_r);

/* Whether text[0..len) is printable ASCII (spaces included) only. */
int spf_text_is_printable(const char *text, size_t len);

#endif
