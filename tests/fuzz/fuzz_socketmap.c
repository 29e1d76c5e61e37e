/*
 * fuzz_socketmap.c - libFuzzer target for srsd's request path: the
 * socketmap parser feeding the forward/reverse maps, as service.c does.
 *
 * Invariants: parsing consumes forward, every reply is one well-formed
 * netstring, and nothing reads outside the input.
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "common/domainset.h"
#include "common/netstring.h"
#include "srs/lookup.h"
#include "srs/socketmap.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const secrets[] = { "fuzz-secret" };
	static struct domain_set *local;
	const char *buf = (const char *)data, *why;
	struct srs srs = { secrets, 1, 4, 4, '=', false, 21 };
	size_t off = 0;

	if (local == NULL) {
		local = domain_set_new();
		domain_set_add(local, "local.example", &why);
		domain_set_add(local, ".sub.example", &why);
	}
	struct srsd_maps maps = { &srs, "srs.example", local };
	while (off < size) {
		struct socketmap_request req;
		struct srsd_answer a;
		struct strbuf out = STRBUF_INIT;
		const char *payload;
		size_t used, plen;
		ssize_t n = socketmap_parse(buf + off, size - off, 4096, &req, &used);

		if (n == SOCKETMAP_INCOMPLETE || n == SOCKETMAP_TOO_LONG || n == SOCKETMAP_MALFORMED)
			break;
		assert(used > 0 && used <= size - off);
		if (n > 0) {
			srsd_lookup(&maps, &req, 1577836860, &out, &a);
			assert(netstring_parse(out.data, out.len, 100000, &payload, &plen) == (ssize_t)out.len);
		}
		strbuf_release(&out);
		off += used;
	}
	return 0;
}
