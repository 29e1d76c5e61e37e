/*
 * socketmap.c - socketmap request parser and reply encoder.
 */
#include "autoconfig.h"

#include <string.h>

#include "common/netstring.h"
#include "srs/socketmap.h"

ssize_t socketmap_parse(const char *buf, size_t len, size_t max_request,
			struct socketmap_request *req_r, size_t *used_r)
{
	const char *payload, *space;
	size_t plen, name_len;
	ssize_t n = netstring_parse(buf, len, max_request, &payload, &plen);

	*used_r = n > 0 ? (size_t)n : 0;
	if (n == NETSTRING_TOO_LONG)
		return SOCKETMAP_TOO_LONG;
	if (n <= 0)
		return n == NETSTRING_INCOMPLETE ? SOCKETMAP_INCOMPLETE : SOCKETMAP_MALFORMED;
	space = memchr(payload, ' ', plen);
	if (space == NULL || memchr(payload, '\0', plen) != NULL)
		return SOCKETMAP_BAD_REQUEST;
	name_len = (size_t)(space - payload);
	if (name_len == 0 || name_len > SOCKETMAP_NAME_MAX)
		return SOCKETMAP_BAD_REQUEST;
	memcpy(req_r->name, payload, name_len);
	req_r->name[name_len] = '\0';
	req_r->key = space + 1;
	req_r->key_len = plen - name_len - 1;
	return n;
}

void socketmap_reply(struct strbuf *out, enum socketmap_status status, const char *text)
{
	static const char *const words[] = {
		[SOCKETMAP_OK] = "OK", [SOCKETMAP_NOTFOUND] = "NOTFOUND", [SOCKETMAP_TEMP] = "TEMP",
		[SOCKETMAP_TIMEOUT] = "TIMEOUT", [SOCKETMAP_PERM] = "PERM",
	};
	size_t wlen = strlen(words[status]), tlen = strlen(text);

	strbuf_appendf(out, "%zu:%s ", wlen + 1 + tlen, words[status]);
	strbuf_append(out, text, tlen);
	strbuf_append_char(out, ',');
}
