/*
 * netstring.c - netstring parser and encoder.
 */
#include "autoconfig.h"

#include "common/netstring.h"

ssize_t netstring_parse(const char *buf, size_t len, size_t max_payload,
			const char **payload_r, size_t *payload_len_r)
{
	size_t value = 0, i = 0, total;

	if (len == 0)
		return NETSTRING_INCOMPLETE;
	if (buf[0] < '0' || buf[0] > '9')
		return NETSTRING_MALFORMED;
	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		size_t digit = (size_t)(buf[i] - '0');

		if (i == 1 && buf[0] == '0')
			return NETSTRING_MALFORMED;	/* leading zero */
		/* judged before it is computed: no limit lets the length wrap */
		if (digit > max_payload || value > (max_payload - digit) / 10)
			return NETSTRING_TOO_LONG;
		value = value * 10 + digit;
	}
	if (i == len)
		return NETSTRING_INCOMPLETE;
	if (buf[i] != ':')
		return NETSTRING_MALFORMED;
	/* the prefix, ':', the payload and ',' are all inside buf[0..len) or
	 * not yet; compared without adding them up first */
	if (len - i - 1 <= value)
		return NETSTRING_INCOMPLETE;
	total = i + 1 + value + 1;
	if (buf[total - 1] != ',')
		return NETSTRING_MALFORMED;
	*payload_r = buf + i + 1;
	*payload_len_r = value;
	return (ssize_t)total;
}

void netstring_append(struct strbuf *out, const void *payload, size_t len)
{
	strbuf_appendf(out, "%zu:", len);
	strbuf_append(out, payload, len);
	strbuf_append_char(out, ',');
}
