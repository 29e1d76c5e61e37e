/*
 * fuzz_milter_packet.c - libFuzzer target for the milter packet parser:
 * a byte stream as an MTA (or an attacker on the milter socket) might
 * send it, cut into packets, each decoded by the parser for its code.
 *
 * Invariants: every packet lies inside the input; every string a decoder
 * returns is NUL-terminated inside the packet; replies built from what
 * was parsed have the length their header says.
 */
#include "autoconfig.h"

#include <assert.h>
#include <libmilter/mfdef.h>
#include <string.h>

#include "milter/packet.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void inside(const struct milter_command *c, const char *s)
{
	assert(s >= c->data && s < c->data + c->len);
	assert(memchr(s, '\0', (size_t)(c->data + c->len - s)) != NULL);
}

static void reply_consistent(const struct strbuf *out)
{
	size_t at = 0;

	while (at < out->len) {
		struct milter_command c;
		ssize_t n = milter_command_parse(out->data + at, out->len - at, &c);

		assert(n > 0);
		at += (size_t)n;
	}
	assert(at == out->len);
}

static void decode(const struct milter_command *c)
{
	struct strbuf out = STRBUF_INIT;
	const char *s[MILTER_ARGS_MAX], *name, *value;
	struct milter_connect conn;
	struct milter_macros m;
	struct milter_optneg o;
	size_t n;

	switch (c->code) {
	case SMFIC_OPTNEG:
		if (milter_optneg_parse(c, &o) == 0)
			milter_reply_optneg(&out, &o);
		break;
	case SMFIC_CONNECT:
		if (milter_connect_parse(c, &conn) == 0) {
			inside(c, conn.hostname);
			if (conn.family != SMFIA_UNKNOWN)
				inside(c, conn.address);
		}
		break;
	case SMFIC_MACRO:
		if (milter_macros_parse(c, &m) == 0)
			for (size_t i = 0; i < m.count; i++) {
				inside(c, m.names[i]);
				inside(c, m.values[i]);
				assert(milter_macro_value(&m, m.names[i]) != NULL);
			}
		break;
	case SMFIC_HEADER:
		if (milter_header_parse(c, &name, &value) == 0) {
			inside(c, name);
			inside(c, value);
			if (milter_reply_change_header(&out, 1, name, NULL) == 0)
				assert(milter_header_name_valid(name));
			milter_reply_quarantine(&out, value);
			milter_reply_code(&out, "550", "5.7.1", value);
		}
		break;
	default:
		if (milter_strings_parse(c->data, c->len, 1, MILTER_ARGS_MAX, s, &n) == 0)
			for (size_t i = 0; i < n; i++)
				inside(c, s[i]);
	}
	reply_consistent(&out);
	strbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const unsigned char *p = data;

	while (size > 0) {
		struct milter_command c;
		ssize_t n = milter_command_parse(p, size, &c);

		if (n <= 0)
			break;
		assert((size_t)n <= size && (const unsigned char *)c.data == p + 5 &&
		       c.len == (size_t)n - 5);
		decode(&c);
		p += n;
		size -= (size_t)n;
	}
	return 0;
}
