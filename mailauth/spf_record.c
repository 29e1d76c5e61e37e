/*
 * spf_record.c - pick and vet the SPF record among TXT strings (RFC 7208 4.5).
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <strings.h>

#include "mailauth/spf_record.h"

#define SPF_VERSION "v=spf1"
#define SPF_VERSION_LEN (sizeof(SPF_VERSION) - 1)

static bool is_spf_record(const struct dns_record *txt)
{
	return txt->len >= SPF_VERSION_LEN &&
	       strncasecmp(txt->data, SPF_VERSION, SPF_VERSION_LEN) == 0 &&
	       (txt->len == SPF_VERSION_LEN || txt->data[SPF_VERSION_LEN] == ' ');
}

int spf_text_is_printable(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c > 0x7e)
			return 0;
	}
	return 1;
}

enum spf_record_status spf_record_select(const struct dns_record *txt, size_t count,
					 size_t *index_r, const char **why_r)
{
	size_t found = 0;

	for (size_t i = 0; i < count; i++) {
		if (!is_spf_record(&txt[i]))
			continue;
		if (found++ == 0)
			*index_r = i;
	}
	if (found == 0)
		return SPF_RECORD_NONE;
	if (found > 1) {
		*why_r = "more than one SPF record";
		return SPF_RECORD_MULTIPLE;
	}
	if (!spf_text_is_printable(txt[*index_r].data, txt[*index_r].len)) {
		*why_r = "the SPF record has a character that is not printable ASCII";
		return SPF_RECORD_INVALID;
	}
	return SPF_RECORD_FOUND;
}
