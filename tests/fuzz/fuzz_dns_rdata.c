/*
 * fuzz_dns_rdata.c - libFuzzer target for dns_rdata_parse().
 *
 * The first byte picks the record type; the rest is the rdata. A parsed
 * record's data is NUL-terminated at its length.
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "common/dns_rdata.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const uint16_t types[] = { DNS_A, DNS_AAAA, DNS_TXT, DNS_MX, DNS_PTR, DNS_NS, DNS_CNAME };
	struct dns_record rec;

	if (size < 1)
		return 0;
	if (dns_rdata_parse(types[data[0] % (sizeof(types) / sizeof(types[0]))], data + 1, size - 1,
			    &rec) == 0) {
		assert(rec.data != NULL && rec.data[rec.len] == '\0');
		assert(rec.len <= DNS_NAME_TEXT_MAX || rec.type == DNS_TXT);
		dns_record_clear(&rec);
	}
	return 0;
}
