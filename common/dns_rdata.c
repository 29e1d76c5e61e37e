/*
 * dns_rdata.c - rdata parser for A, AAAA, TXT, MX, PTR, NS and CNAME.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dns_rdata.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

static bool plain_name_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '.' && c != '\\' && c != '"' && c != ';' &&
	       c != '(' && c != ')';
}

int dns_name_to_text(const unsigned char *wire, size_t len, char *out, size_t outlen)
{
	size_t i = 0, o = 0, wire_octets = 0;

	if (outlen == 0)
		return -1;
	for (;;) {
		if (i >= len)
			return -1;
		size_t label = wire[i++];
		if (label == 0)
			break;
		if (label > 63 || i + label > len)	/* compression pointers never appear here */
			return -1;
		wire_octets += label + 1;
		if (wire_octets > 254)
			return -1;
		if (o > 0) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = '.';
		}
		for (size_t k = 0; k < label; k++, i++) {
			unsigned char c = wire[i];
			if (plain_name_byte(c)) {
				if (o + 1 >= outlen)
					return -1;
				out[o++] = (char)c;
			} else {
				if (o + 4 >= outlen)
					return -1;
				snprintf(out + o, 5, "\\%03u", c);
				o += 4;
			}
		}
	}
	out[o] = '\0';
	return (int)i;
}

static int parse_name_record(const unsigned char *rdata, size_t len, struct dns_record *rec_r)
{
	char text[DNS_NAME_TEXT_MAX];
	int used = dns_name_to_text(rdata, len, text, sizeof(text));

	if (used < 0 || (size_t)used != len)
		return -1;
	rec_r->len = strlen(text);
	rec_r->data = xstrdup(text);
	return 0;
}

static int parse_txt(const unsigned char *rdata, size_t len, struct dns_record *rec_r)
{
	struct strbuf joined = STRBUF_INIT;
	size_t i = 0;

	if (len == 0)
		return -1;
	while (i < len) {
		size_t n = rdata[i++];
		if (i + n > len) {
			strbuf_release(&joined);
			return -1;
		}
		strbuf_append(&joined, rdata + i, n);
		i += n;
	}
	rec_r->len = joined.len;
	rec_r->data = strbuf_detach(&joined);
	return 0;
}

int dns_rdata_parse(uint16_t type, const unsigned char *rdata, size_t len,
		    struct dns_record *rec_r)
{
	memset(rec_r, 0, sizeof(*rec_r));
	rec_r->type = type;
	switch (type) {
	case DNS_A:
	case DNS_AAAA:
		if (len != (type == DNS_A ? 4u : 16u))
			return -1;
		rec_r->data = xmalloc(len + 1);
		memcpy(rec_r->data, rdata, len);
		rec_r->data[len] = '\0';
		rec_r->len = len;
		return 0;
	case DNS_TXT:
		return parse_txt(rdata, len, rec_r);
	case DNS_MX:
		if (len < 3)
			return -1;
		rec_r->preference = (uint16_t)(rdata[0] << 8 | rdata[1]);
		return parse_name_record(rdata + 2, len - 2, rec_r);
	case DNS_PTR:
	case DNS_NS:
	case DNS_CNAME:
		return parse_name_record(rdata, len, rec_r);
	default:
		return -1;
	}
}

void dns_record_clear(struct dns_record *rec)
{
	free(rec->data);
	rec->data = NULL;
	rec->len = 0;
}
