/*
 * fuzz_netstring.c - libFuzzer target for netstring_parse().
 *
 * Invariants: a parsed netstring lies inside the input, its size adds up,
 * and encoding the payload again gives the same bytes.
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "netstring.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *buf = (const char *)data, *payload;
	size_t len;

	while (size > 0) {
		ssize_t n = netstring_parse(buf, size, 100000, &payload, &len);
		if (n <= 0)
			break;
		assert((size_t)n <= size && payload > buf && payload + len < buf + n);
		struct strbuf again = STRBUF_INIT;
		netstring_append(&again, payload, len);
		assert(again.len == (size_t)n && memcmp(again.data, buf, (size_t)n) == 0);
		strbuf_release(&again);
		buf += n;
		size -= (size_t)n;
	}
	return 0;
}
