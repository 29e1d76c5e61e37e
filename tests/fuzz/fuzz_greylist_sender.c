/*
 * fuzz_greylist_sender.c - libFuzzer target for greylisting's sender
 * normalization and triplet keys, on envelope senders as a client sends
 * them.
 *
 * Invariants: the result is NUL-terminated within the buffer, never
 * longer than the input plus what the "srs0=#=#=" and "<>" forms add,
 * holds no uppercase ASCII and makes a triplet key; a too-small buffer is
 * refused, never overrun.
 */
#include "autoconfig.h"

#include <assert.h>
#include <ctype.h>
#include <string.h>

#include "milter/greylist_key.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char out[ADDR_MAX + 16], small[8], key[GREYLIST_TRIPLET_MAX];
	const char *s = (const char *)data;

	if (greylist_normalize_sender(s, size, out, sizeof(out)) == 0) {
		size_t len = strlen(out);

		assert(len < sizeof(out));
		assert(len <= size + 9 || size == 0);
		for (size_t i = 0; i < len; i++)
			assert(!isupper((unsigned char)out[i]));
		if (greylist_triplet_key("net:192.0.2.0/24", out, out, key, sizeof(key)) == 0)
			assert(strncmp(key, "grey:net:192.0.2.0/24/", 22) == 0);
	}
	if (greylist_normalize_sender(s, size, small, sizeof(small)) == 0)
		assert(strlen(small) < sizeof(small));
	return 0;
}
