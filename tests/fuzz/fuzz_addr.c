/*
 * fuzz_addr.c - libFuzzer target for addr_parse() and domain_check().
 *
 * Invariants: an accepted address respects the RFC 5321 limits, splits
 * inside the input, and its normalized form is accepted again.
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "common/addr.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const unsigned flag_sets[] = { 0, ADDR_ALLOW_UTF8 | ADDR_ALLOW_LITERAL,
					      ADDR_ALLOW_UNDERSCORE | ADDR_REQUIRE_DOT };
	const char *s = (const char *)data, *why;
	char normal[ADDR_MAX + 1];

	for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
		struct addr_parts p, again;
		if (addr_parse(s, size, flag_sets[f], &p, &why) < 0) {
			assert(why != NULL);
			continue;
		}
		assert(p.local_len >= 1 && p.local_len <= ADDR_LOCAL_MAX);
		assert(p.domain_len >= 1 && p.domain + p.domain_len <= s + size);
		int n = addr_normalize(&p, normal, sizeof(normal));
		assert(n > 0);
		assert(addr_parse(normal, (size_t)n, flag_sets[f], &again, &why) == 0);
	}
	(void)domain_check(s, size, ADDR_ALLOW_UTF8, &why);
	return 0;
}
