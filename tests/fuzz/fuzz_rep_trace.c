/*
 * fuzz_rep_trace.c - libFuzzer target for the X-Limristem-Reputation
 * parser that `mailadm learn` runs on messages users hand it, and for the
 * mac that decides whether learning believes it.
 *
 * Invariants: a parsed trace has a 32-digit id, addresses and networks
 * that parse again, at most REP_TRACE_DKIM_MAX DKIM domains; formatting it
 * and parsing the result gives the same trace; a refusal has a reason.
 * Signed with a key, a trace verifies with that key, alone or among others, and not with
 * another; the signed text read back is the same trace with its mac; and
 * the input's own mac verifies exactly when it is the one we would write
 * (a seed carries one made with the fuzzing key).
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "common/rep_trace.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char *const key[] = { "fuzz-secret-0123456789" };
static const char *const keys[] = { "other-secret-0123456789", "fuzz-secret-0123456789" };
static const char *const other[] = { "other-secret-0123456789" };

static void check_mac(const struct rep_trace *t)
{
	struct rep_trace signed_t, forged;
	char text[REP_TRACE_TEXT_MAX], bare[REP_TRACE_TEXT_MAX], again[REP_TRACE_TEXT_MAX];
	const char *why;

	if (rep_trace_format_signed(t, key[0], text, sizeof(text)) < 0)
		return;
	assert(rep_trace_parse(text, strlen(text), &signed_t, &why) == 0);
	assert(strlen(signed_t.mac) == REP_TRACE_MAC_LEN);
	assert(rep_trace_verify(&signed_t, key, 1) == 0);
	assert(rep_trace_verify(&signed_t, keys, 2) == 0);
	assert(rep_trace_verify(&signed_t, other, 1) < 0);
	/* what was signed is what the input said */
	assert(rep_trace_canonical(t, bare, sizeof(bare)) == 0);
	assert(rep_trace_canonical(&signed_t, again, sizeof(again)) == 0);
	assert(strcmp(bare, again) == 0);
	forged = signed_t;
	memcpy(forged.mac, t->mac, sizeof(forged.mac));
	assert((rep_trace_verify(&forged, key, 1) == 0) == (strcmp(t->mac, signed_t.mac) == 0));
	assert((rep_trace_verify(t, key, 1) == 0) == (strcmp(t->mac, signed_t.mac) == 0));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct rep_trace t, again;
	const char *why = NULL;
	char text[REP_TRACE_TEXT_MAX];

	if (rep_trace_parse((const char *)data, size, &t, &why) < 0) {
		assert(why != NULL);
		return 0;
	}
	assert(strlen(t.id) == REP_TRACE_ID_LEN);
	assert(t.dkim_count <= REP_TRACE_DKIM_MAX);
	assert(t.mac[0] == '\0' || strlen(t.mac) == REP_TRACE_MAC_LEN);
	if (rep_trace_format(&t, text, sizeof(text)) == 0) {
		assert(rep_trace_parse(text, strlen(text), &again, &why) == 0);
		assert(memcmp(&t, &again, sizeof(t)) == 0);
	}
	check_mac(&t);
	return 0;
}
