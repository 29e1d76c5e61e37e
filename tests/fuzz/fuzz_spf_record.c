/*
 * fuzz_spf_record.c - libFuzzer target for the SPF record path: record
 * selection (spf_record_select), the RFC 7208 grammar (spf_syntax_record,
 * spf_syntax_explanation) and libspf2's compiler on what passes them.
 *
 * The input is split at NUL bytes into TXT strings. Whatever our checks
 * let through must compile in libspf2 without a memory error: that is
 * what guards libspf2 1.2.10's compiler (CVE-2023-42118) from records
 * in DNS.
 */
#include "autoconfig.h"

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <spf2/spf.h>

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "mailauth/spf_record.h"
#include "mailauth/spf_syntax.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static SPF_server_t *server(void)
{
	static SPF_server_t *s;

	if (s == NULL)
		s = SPF_server_new(SPF_DNS_ZONE, 0);	/* no lookups happen in compiling */
	return s;
}

static void compile_record(const char *record)
{
	struct strbuf text = STRBUF_INIT;
	const char *why = NULL;
	SPF_response_t *response = SPF_response_new(NULL);
	SPF_record_t *compiled = NULL;

	if (spf_syntax_record(record, &text, &why) == 0) {
		SPF_record_compile(server(), response, &compiled, strbuf_str(&text));
		if (compiled != NULL)
			SPF_record_free(compiled);
	} else {
		assert(why != NULL);
	}
	SPF_response_free(response);
	strbuf_release(&text);
}

static void compile_explanation(const char *text)
{
	struct strbuf out = STRBUF_INIT;
	const char *why = NULL;
	SPF_response_t *response = SPF_response_new(NULL);
	SPF_macro_t *macro = NULL;

	if (spf_syntax_explanation(text, &out, &why) == 0) {
		SPF_record_compile_macro(server(), response, &macro, strbuf_str(&out));
		if (macro != NULL)
			SPF_macro_free(macro);
	}
	SPF_response_free(response);
	strbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct dns_record txt[8];
	char *copy = malloc(size + 1);
	size_t count = 0, start = 0, index = 0;
	const char *why = NULL;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size && count < 8; i++) {
		if (i == size || copy[i] == '\0') {
			txt[count].type = DNS_TXT;
			txt[count].data = copy + start;
			txt[count].len = i - start;
			txt[count].preference = 0;
			count++;
			start = i + 1;
		}
	}
	if (spf_record_select(txt, count, &index, &why) == SPF_RECORD_FOUND)
		compile_record(txt[index].data);
	if (count > 0 && spf_text_is_printable(txt[0].data, txt[0].len))
		compile_explanation(txt[0].data);
	free(copy);
	return 0;
}
