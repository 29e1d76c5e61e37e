/*
 * fuzz_authres.c - libFuzzer target for the Authentication-Results code:
 * authres_parse_id() and authres_parse_aar_id() on the raw input, and a
 * builder round trip on strings cut from it.
 *
 * Invariants: a parsed id is non-empty, at most AUTHRES_ID_MAX bytes, has
 * no NUL inside and no line break; a refused value has an empty id and a
 * reason; authres_claim() says PARSED exactly when the parser read the
 * id, and whenever it read one, the field claims that id. Whatever
 * authres_build() accepts fits its buffer, folds only with the fold it was
 * given, and parses back (as A-R and, behind "i=1;", as AAR) to exactly
 * the authserv-id it was built with.
 */
#include "autoconfig.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/authres.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define FIELDS 6
#define OUT_MAX 4096
#define MAX_RESULTS 4
#define CONTROL_BYTES (3 + MAX_RESULTS)

static void check_parsed(int rc, const char *id, const char *why, const char *buf,
			 size_t size, bool aar)
{
	if (rc != 0) {
		assert(rc == AUTHRES_E_SYNTAX && why != NULL && id[0] == '\0');
		assert(authres_claim(buf, size, aar, "example.org") != AUTHRES_CLAIM_PARSED);
		return;
	}
	size_t len = strlen(id);
	assert(len >= 1 && len <= AUTHRES_ID_MAX);
	assert(strchr(id, '\r') == NULL && strchr(id, '\n') == NULL);
	/* "." is a valid token but no id anybody owns */
	assert((authres_claim(buf, size, aar, id) == AUTHRES_CLAIM_PARSED) == (strcmp(id, ".") != 0));
	assert((authres_claim(buf, size, aar, "example.org") == AUTHRES_CLAIM_PARSED) ==
	       authres_id_equal(id, "example.org"));
}

static void check_parsers(const char *buf, size_t size)
{
	char id[AUTHRES_ID_MAX + 1];
	const char *why = NULL;
	unsigned instance = 0;
	int rc;

	rc = authres_parse_id(buf, size, id, &why);
	check_parsed(rc, id, why, buf, size, false);
	why = NULL;
	rc = authres_parse_aar_id(buf, size, &instance, id, &why);
	check_parsed(rc, id, why, buf, size, true);
	assert(rc == 0 ? instance >= 1 && instance <= AUTHRES_ARC_INSTANCE_MAX : instance == 0);
}

/* Folds appear only as the fold given: every LF follows the fold's CR (if
 * any) and precedes its white space. */
static void check_folds(const char *out, const char *fold)
{
	bool crlf = fold[0] == '\r';

	for (const char *p = out; *p != '\0'; p++) {
		if (*p == '\r')
			assert(crlf && p[1] == '\n');
		if (*p == '\n') {
			assert(fold[0] != ' ' && fold[0] != '\t');
			assert(!crlf || (p > out && p[-1] == '\r'));
			assert(p[1] == ' ' || p[1] == '\t');
		}
	}
}

static void check_round_trip(const char *id, const char *out)
{
	char got[AUTHRES_ID_MAX + 1], *aar;
	const char *why = NULL;
	unsigned instance;
	size_t len = strlen(out);

	assert(authres_parse_id(out, len, got, &why) == 0);
	assert(strcmp(got, id) == 0);
	aar = malloc(len + 6);
	assert(aar != NULL);
	memcpy(aar, "i=1; ", 5);
	memcpy(aar + 5, out, len + 1);
	assert(authres_parse_aar_id(aar, len + 5, &instance, got, &why) == 0);
	assert(instance == 1 && strcmp(got, id) == 0);
	free(aar);
}

static const char *const results[] = {
	"pass", "fail", "none", "softfail", "neutral", "temperror", "permerror", "policy", "bogus"
};
static const char *const folds[] = { "\n\t", "\r\n\t", " ", "\n ", "\r\n  \t", "x" };

/* Input layout: CONTROL_BYTES bytes (result count, fold, output size, then
 * one byte per result: method, result name, reason or not), then
 * NUL-separated strings: the id, then the values the results draw from. */
static void check_builder(const unsigned char *data, size_t size)
{
	char *copy, *field[FIELDS], out[OUT_MAX];
	struct authres_result res[MAX_RESULTS];
	size_t nfields = 0, count, outlen;
	const char *why = NULL, *fold;

	if (size < CONTROL_BYTES)
		return;
	count = data[0] % (MAX_RESULTS + 1);
	fold = folds[data[1] % (sizeof(folds) / sizeof(folds[0]))];
	outlen = data[2] < 8 ? (size_t)data[2] * 16 + 1 : sizeof(out);
	copy = malloc(size - CONTROL_BYTES + 1);
	assert(copy != NULL);
	memcpy(copy, data + CONTROL_BYTES, size - CONTROL_BYTES);
	copy[size - CONTROL_BYTES] = '\0';
	for (char *p = copy; nfields < FIELDS; p += strlen(p) + 1) {
		field[nfields++] = p;
		if (p + strlen(p) >= copy + size - CONTROL_BYTES)
			break;
	}
	while (nfields < FIELDS)
		field[nfields++] = NULL;

	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < count; i++) {
		unsigned char c = data[3 + i];
		res[i].method = (enum authres_method)(c % 5);
		res[i].result = results[(c / 5) % (sizeof(results) / sizeof(results[0]))];
		res[i].reason = (c & 0x80) ? field[5] : NULL;
		res[i].dkim.domain = field[1 + i % 4];
		res[i].dkim.selector = field[2];
		res[i].dkim.b = field[3];
		res[i].dkim.algorithm = field[4];
		if (res[i].method == AUTHRES_ARC) {
			res[i].arc.remote_ip = field[1 + i % 4];
			res[i].arc.oldest_pass = c;
		}
	}
	if (field[0] == NULL)
		field[0] = copy;
	if (authres_build(field[0], res, count, fold, out, outlen, &why) == 0) {
		assert(strlen(out) < outlen);
		check_folds(out, fold);
		check_round_trip(field[0], out);
	} else {
		assert(why != NULL && (outlen == 0 || out[0] == '\0'));
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	check_parsers((const char *)data, size);
	check_builder(data, size);
	return 0;
}
