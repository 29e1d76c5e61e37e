/*
 * fuzz_policy_request.c - libFuzzer target for policy_request_parse().
 *
 * Invariants: a parsed request lies inside the input and ends with an
 * empty line; every attribute is a string (never NULL) no longer than a
 * line; parsing never reads past the input (ASan checks that).
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const struct policy_limits limits = { 512, 4096 };
	const char *buf = (const char *)data;

	while (size > 0) {
		struct policy_request req;
		ssize_t n = policy_request_parse(buf, size, &limits, &req);

		if (n <= 0)
			break;
		assert((size_t)n <= size && (size_t)n <= limits.max_request);
		assert(buf[n - 1] == '\n');
		for (int a = 0; a < POLICY_ATTR_COUNT; a++)
			assert(req.value[a] != NULL && strlen(req.value[a]) <= limits.max_line);
		policy_request_clear(&req);
		buf += n;
		size -= (size_t)n;
	}
	return 0;
}
