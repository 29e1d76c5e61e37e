/*
 * fuzz_cidr.c - libFuzzer target for ip_parse(), cidr_parse(), endpoint_parse().
 *
 * Invariants: what parses formats to text that parses to the same value,
 * and a network contains its own address.
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "common/cidr.h"
#include "common/endpoint.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char text[512], out[512];
	struct cidr c, c2;
	struct endpoint ep, ep2;
	const char *why;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cidr_parse(text, &c, &why) == 0) {
		assert(cidr_format(&c, out, sizeof(out)) == 0);
		assert(cidr_parse(out, &c2, &why) == 0);
		assert(ip_equal(&c.net, &c2.net) && c.prefix == c2.prefix);
		assert(cidr_contains(&c, &c.net));
	}
	if (endpoint_parse(text, &ep, &why) == 0) {
		assert(endpoint_format(&ep, out, sizeof(out)) == 0);
		assert(endpoint_parse(out, &ep2, &why) == 0 && ep.kind == ep2.kind && ep.port == ep2.port);
	}
	return 0;
}
