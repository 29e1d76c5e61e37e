/*
 * fuzz_arc.c - libFuzzer target for ARC chain validation: a whole message
 * is split into header fields and body (msgsplit()) and fed to the
 * verifier, the body in chunks whose sizes come from the input's last
 * byte; keys come from a fixed table by selector: the conformance suite's
 * two RSA keys ("dummy", "dummy2"), the Ed25519 key of the corpus's
 * ed25519-i2 chain ("ed"), a revoked one and a temporary failure, so that
 * the seeds validate and mutations explore near-valid chains.
 *
 * Invariants: the verifier always ends with a status and a reason; none
 * means no instances; pass means 1..50 instances, one sealer per instance
 * and an oldest-pass within the chain; body canonicalization gives the
 * same digest however the body is cut into chunks.
 */
#include "autoconfig.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/xalloc.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/msgsplit.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const struct {
	const char *selector;
	enum dkim_key_status status;
	const char *txt;
} keys[] = {
	{ "dummy", DKIM_KEY_OK, "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3id"
	  "Y6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lx"
	  "j+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB" },
	{ "dummy2", DKIM_KEY_OK, "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDR3lRpGZS+xO96Znv/BPNQxi"
	  "m7ZD0v6yFmZa9Rni5FHCeWuQwcp+PH/XXOyF6JsmB+kS0ybxJnx594ulqH2KvLMNsGAD+yRl2bJSXbBH"
	  "ea7K9C5WX8Vjx3oPoGgw7QCONptnjUsbIIoxUZBEUe17eG44H/PbDqGwCBiyI20KEC/wIDAQAB" },
	{ "ed", DKIM_KEY_OK, "v=DKIM1; k=ed25519; p=Qds5tm0lOhXIgFTW9U1fUkoMl1VoPYbPPQMbqEy/3Ok=" },
	{ "revoked", DKIM_KEY_OK, "v=DKIM1; p=" },
	{ "temp", DKIM_KEY_TEMPFAIL, NULL },
};

static enum dkim_key_status lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].selector, selector) == 0) {
			if (keys[i].txt != NULL)
				*txt_r = xstrdup(keys[i].txt);
			return keys[i].status;
		}
	return DKIM_KEY_NOTFOUND;
}

static void on_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);

	arc_verify_header(ctx, n, v);
	free(n);
	free(v);
}

/* The digest of body, fed in chunks of chunk bytes. */
static int body_digest(enum dkim_canon_mode mode, const char *body, size_t len, size_t chunk,
		       unsigned char *digest)
{
	struct dkim_canon_body *cb = dkim_canon_body_new(mode, EVP_sha256());

	for (size_t i = 0; i < len; i += chunk)
		dkim_canon_body_update(cb, body + i, len - i < chunk ? len - i : chunk);
	int n = dkim_canon_body_final(cb, digest);
	dkim_canon_body_free(&cb);
	return n;
}

static void check_chunking(const char *body, size_t len, size_t chunk)
{
	for (int mode = DKIM_CANON_SIMPLE; mode <= DKIM_CANON_RELAXED; mode++) {
		unsigned char whole[EVP_MAX_MD_SIZE], pieces[EVP_MAX_MD_SIZE];
		int n = body_digest(mode, body, len, len ? len : 1, whole);
		assert(n == 32 && body_digest(mode, body, len, chunk, pieces) == n);
		assert(memcmp(whole, pieces, (size_t)n) == 0);
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *msg = (const char *)data;
	struct arc_options options = { .key_lookup = lookup, .now = 1700000000 };
	size_t chunk = size > 0 ? (size_t)data[size - 1] % 61 + 1 : 1;
	struct arc_verify *v = arc_verify_new(&options);
	size_t body = msgsplit(msg, size, on_header, v);

	assert(body <= size);
	(void)arc_verify_eoh(v);
	for (size_t i = body; i < size; i += chunk)
		arc_verify_body(v, msg + i, size - i < chunk ? size - i : chunk);
	arc_verify_end(v);

	const struct arc_result *r = arc_verify_result(v);
	assert(r->reason != NULL);
	assert(r->status != ARC_STATUS_NONE || r->instances == 0);
	if (r->status == ARC_STATUS_PASS) {
		assert(r->instances >= 1 && r->instances <= ARC_INSTANCE_MAX);
		assert(r->sealer_count == r->instances && r->sealers[r->instances - 1] != NULL);
		assert(r->oldest_pass <= r->instances && r->oldest_pass != 1);
	}
	arc_verify_free(&v);
	assert(v == NULL);
	check_chunking(msg + body, size - body, chunk);
	return 0;
}
