/*
 * dns_rdata.h - turn the rdata of one DNS record into something usable.
 *
 * A pure, bounded parser over the wire-format rdata that the resolver
 * library hands back (names uncompressed). Fuzzed by tests/fuzz.
 */
#ifndef LIMRISTEM_DNS_RDATA_H
#define LIMRISTEM_DNS_RDATA_H

#include <stddef.h>
#include <stdint.h>

enum dns_type {
	DNS_A = 1,
	DNS_NS = 2,
	DNS_CNAME = 5,
	DNS_PTR = 12,
	DNS_MX = 15,
	DNS_TXT = 16,
	DNS_AAAA = 28,
};

/* Longest presentation form of a name: 255 octets, each possibly \DDD. */
#define DNS_NAME_TEXT_MAX (255 * 4 + 1)

struct dns_record {
	uint16_t type;
	uint16_t preference;	/* DNS_MX */
	size_t len;		/* bytes in data, without the terminating NUL */
	char *data;		/* A: 4 bytes; AAAA: 16 bytes; TXT: the strings joined;
				 * MX, PTR, NS, CNAME: the name, no final dot, with
				 * \DDD escapes for unusual bytes. Always NUL-terminated. */
};

/* Parses rdata[0..len) of a record of type; on success fills rec_r (data
 * is malloc'ed) and returns 0; -1 when the rdata is malformed. */
int dns_rdata_parse(uint16_t type, const unsigned char *rdata, size_t len,
		    struct dns_record *rec_r);

/* Writes the wire-format name at wire[0..len) as text; returns the bytes of
 * wire it used, or -1 when malformed or when out (outlen) is too small. */
int dns_name_to_text(const unsigned char *wire, size_t len, char *out, size_t outlen);

void dns_record_clear(struct dns_record *rec);

#endif
