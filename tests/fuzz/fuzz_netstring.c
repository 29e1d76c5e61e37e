/*
 * fuzz_netstring.c - libFuzzer target for netstring_parse().
 *
 * Invariants, with a limit, with none (SIZE_MAX) and with 0: a parsed
 * netstring lies inside the input, its size adds up, its payload is within
 * the limit, and encoding the payload again gives the same bytes.
 */
#include "autoconfig.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "common/netstring.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void parse_all(const char *buf, size_t size, size_t max_payload)
{
	const char *payload;
	size_t len;

	while (size > 0) {
		ssize_t n = netstring_parse(buf, size, max_payload, &payload, &len);
		if (n <= 0)
			break;
		assert((size_t)n <= size && payload > buf && payload + len < buf + n);
		struct strbuf again = STRBUF_INIT;
		netstring_append(&again, payload, len);
		assert(again.len == (size_t)n && memcmp(again.data, buf, (size_t)n) == 0);
		strbuf_release(&again);
		assert(len <= max_payload);
		buf += n;
		size -= (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	parse_all((const char *)data, size, 100000);
	parse_all((const char *)data, size, SIZE_MAX);	/* no limit: a length must not wrap */
	parse_all((const char *)data, size, 0);
	return 0;
}
