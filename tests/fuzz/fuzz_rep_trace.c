/*
 * fuzz_rep_trace.c - libFuzzer target for the X-Limristem-Reputation
 * parser that `mailadm learn` runs on messages users hand it.
 *
 * Invariants: a parsed trace has a 32-digit id, addresses and networks
 * that parse again, at most REP_TRACE_DKIM_MAX DKIM domains; formatting it
 * and parsing the result gives the same trace; a refusal has a reason.
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "rep_trace.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct rep_trace t, again;
	const char *why = NULL;
	char text[1024];

	if (rep_trace_parse((const char *)data, size, &t, &why) < 0) {
		assert(why != NULL);
		return 0;
	}
	assert(strlen(t.id) == REP_TRACE_ID_LEN);
	assert(t.dkim_count <= REP_TRACE_DKIM_MAX);
	if (rep_trace_format(&t, text, sizeof(text)) == 0) {
		assert(rep_trace_parse(text, strlen(text), &again, &why) == 0);
		assert(memcmp(&t, &again, sizeof(t)) == 0);
	}
	return 0;
}
