/*
 * fuzz_dkim_sig.c - libFuzzer target for DKIM-Signature values:
 * dkim_sig_parse() on the input, then the whole verifier
 * (mailauth/dkim_verify.c) on a message whose DKIM-Signature is the
 * input, with a key lookup that always answers one Ed25519 record.
 *
 * Invariants: a parsed signature has a lowercase d=, an s=, b= and bh=,
 * an h= that names From, its b= span inside the input, x= not before t=;
 * "b= emptied" is shorter than the input; the verifier reports exactly
 * one signature, with a reason unless it passes, and never a pass (the
 * input cannot hold a valid signature by that key).
 */
#include "autoconfig.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/dkim_sig.h"
#include "mailauth/dkim_verify.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* RFC 8463's example key. */
static const char key_record[] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static void check_parse(const char *buf, size_t size)
{
	static struct dkim_sig sig;	/* large: keep it off the stack */
	const char *why = NULL;

	if (dkim_sig_parse(buf, size, &sig, &why) < 0) {
		assert(why != NULL);
		return;
	}
	assert(sig.domain[0] != '\0' && sig.selector[0] != '\0');
	for (const char *p = sig.domain; *p != '\0'; p++)
		assert(!(*p >= 'A' && *p <= 'Z'));
	assert(sig.b_len >= 1 && sig.bh_len >= 1 && sig.h_count >= 1 && sig.h_count <= DKIM_SIG_MAX_NAMES);
	assert(sig.b_span_start <= sig.b_span_end && sig.b_span_end <= size);
	assert(!(sig.has_t && sig.has_x) || sig.x >= sig.t);
	bool from = false;
	for (size_t i = 0; i < sig.h_count; i++)
		from = from || (sig.h[i].len == 4 && strncasecmp(sig.h[i].name, "from", 4) == 0);
	assert(from);
	struct strbuf without_b = STRBUF_INIT;
	dkim_sig_value_without_b(sig.b_span_start, sig.b_span_end, buf, size, &without_b);
	assert(without_b.len < size);
	strbuf_release(&without_b);
}

static enum dkim_key_status lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	*txt_r = xstrdup(key_record);
	return DKIM_KEY_OK;
}

static void check_verify(const char *buf, size_t size)
{
	static struct dkim_verify_lib *lib;
	char err[128];

	if (lib == NULL && (lib = dkim_verify_lib_new(err, sizeof(err))) == NULL)
		abort();
	if (memchr(buf, '\0', size) != NULL)
		return;		/* a header value is a C string */
	char *value = xstrndup(buf, size);
	struct dkim_verify_options opt = { .key_lookup = lookup };
	struct dkim_verify *v = dkim_verify_new(lib, &opt, "fuzz");
	dkim_verify_header(v, "DKIM-Signature", value);
	dkim_verify_header(v, "From", " Joe <joe@football.example.com>");
	dkim_verify_header(v, "Subject", " fuzz");
	dkim_verify_body(v, "Hi.\r\n\r\nbody\r\n", 14);
	dkim_verify_end(v);
	const struct dkim_verify_result *r = dkim_verify_result(v);
	assert(r->count == 1);
	assert(r->sigs[0].result != DKIM_RESULT_PASS && r->sigs[0].reason[0] != '\0');
	assert(r->sigs[0].domain != NULL && r->sigs[0].selector != NULL && r->sigs[0].algorithm != NULL);
	assert(strlen(r->sigs[0].b) <= DKIM_VERIFY_B_PREFIX);
	dkim_verify_free(&v);
	free(value);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	check_parse((const char *)data, size);
	check_verify((const char *)data, size);
	return 0;
}
