/*
 * fuzz_arc_seal.c - libFuzzer target for ARC sealing of hostile messages:
 * the message (split by msgsplit()) is validated by our verifier, keys from
 * a fixed table as in fuzz_arc.c, then sealed with an Ed25519 key made at
 * start (fast, deterministic). The ARC fields already in the message are
 * what arc_seal_chain.c reads, damaged or not.
 *
 * Invariants: arc_seal_make() never fails for a request that follows the
 * verifier's verdict (OK or SKIPPED only); a new set has the instance after
 * the highest one present, at most 50, and three non-empty fields; SKIPPED
 * always says why; a message without a chain, or with one the verifier
 * passed, validates after our set is added.
 */
#include "autoconfig.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/xalloc.h"
#include "mailauth/arc_seal.h"
#include "mailauth/arc_seal_chain.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim_pubkey.h"
#include "mailauth/msgsplit.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The sealing key's public half, as a key record, once made. */
static EVP_PKEY *seal_key;
static char seal_record[128];

static EVP_PKEY *make_key(void)
{
	unsigned char raw[32];
	size_t len = sizeof(raw);
	struct strbuf b64 = STRBUF_INIT;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	assert(key != NULL && EVP_PKEY_get_raw_public_key(key, raw, &len) == 1);
	struct strbuf record = STRBUF_INIT;

	dkim_base64_encode(raw, len, &b64);
	dkim_pubkey_record(&record, true, strbuf_str(&b64));
	assert(record.len < sizeof(seal_record));
	memcpy(seal_record, strbuf_str(&record), record.len + 1);
	strbuf_release(&record);
	strbuf_release(&b64);
	return key;
}

static enum dkim_key_status lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	(void)ctx;
	if (strcmp(selector, "seal") == 0 && strcmp(domain, "fuzz.example") == 0) {
		*txt_r = xstrdup(seal_record);
		return DKIM_KEY_OK;
	}
	return strcmp(selector, "temp") == 0 ? DKIM_KEY_TEMPFAIL : DKIM_KEY_NOTFOUND;
}

static void on_header(void *ctx, const char *name, size_t name_len, const char *value,
		      size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);

	arc_verify_header(ctx, n, v);
	free(n);
	free(v);
}

static struct arc_verify *verify(const char *msg, size_t size, size_t *body_r, struct arc_seal *s)
{
	struct arc_options options = { .key_lookup = lookup, .now = 1700000000 };
	struct arc_verify *v = arc_verify_new(&options);

	*body_r = msgsplit(msg, size, on_header, v);
	(void)arc_verify_eoh(v);
	arc_verify_body(v, msg + *body_r, size - *body_r);
	if (s != NULL)
		arc_seal_body(s, msg + *body_r, size - *body_r);
	arc_verify_end(v);
	return v;
}

/* The message with the new set on top, validated again. */
static void check_resealed(const struct arc_seal_fields *f, const char *msg, size_t size)
{
	struct strbuf m = STRBUF_INIT;
	struct arc_verify *v;
	size_t body;

	strbuf_appendf(&m, "ARC-Seal:%s\r\nARC-Message-Signature:%s\r\n"
		      "ARC-Authentication-Results:%s\r\n", f->seal, f->ams, f->aar);
	strbuf_append(&m, msg, size);
	v = verify(strbuf_str(&m), m.len, &body, NULL);
	assert(arc_verify_result(v)->status == ARC_STATUS_PASS);
	arc_verify_free(&v);
	strbuf_release(&m);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *msg = (const char *)data;
	struct arc_seal *s = arc_seal_new();
	struct arc_seal_fields fields;
	struct arc_seal_chain chain;
	const struct dkim_canon_header *headers;
	size_t body, count = 0;
	const char *why = NULL;
	struct arc_verify *v;
	int rc;

	if (seal_key == NULL)
		seal_key = make_key();
	v = verify(msg, size, &body, s);
	headers = arc_verify_headers(v, &count);
	if (headers != NULL) {
		const struct arc_seal_request request = {
			.chain = arc_verify_result(v)->status, .authserv_id = "mx.fuzz.example",
			.results = " spf=pass smtp.mailfrom=fuzz.example", .domain = "fuzz.example",
			.selector = "seal", .key = seal_key, .alg = DKIM_ALG_ED25519_SHA256,
			.timestamp = 1700000000, .crlf = true,
		};
		arc_seal_chain_scan(headers, count, &chain);
		rc = arc_seal_make(s, headers, count, &request, &fields, &why);
		assert(rc == ARC_SEAL_OK || rc == ARC_SEAL_SKIPPED);
		if (rc == ARC_SEAL_SKIPPED)
			assert(why != NULL && fields.aar == NULL);
		if (rc == ARC_SEAL_OK) {
			assert(fields.instance == chain.highest + 1 && fields.instance <= ARC_INSTANCE_MAX);
			assert(fields.aar[0] && fields.ams[0] && fields.seal[0]);
			if (request.chain != ARC_STATUS_FAIL && memchr(msg, '\0', size) == NULL)
				check_resealed(&fields, msg, size);
			arc_seal_fields_release(&fields);
		}
	}
	arc_verify_free(&v);
	arc_seal_free(&s);
	return 0;
}
