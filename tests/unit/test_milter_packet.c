/*
 * test_milter_packet.c - the milter packet parser and reply encoder:
 * tables of commands as Postfix sends them (and as an attacker might),
 * replies byte for byte as libmilter would write them.
 */
#include "autoconfig.h"

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <stdio.h>

#include "milter/packet.h"
#include "unit.h"

#define P(s) s, sizeof(s) - 1

static const struct {
	const char *in;
	size_t len;
	ssize_t want;
	char code;
	size_t data_len;
	const char *why;
} packets[] = {
	{ P(""), 0, 0, 0, "nothing yet" },
	{ P("\0\0\0"), 0, 0, 0, "length incomplete" },
	{ P("\0\0\0\1"), 0, 0, 0, "code not yet arrived" },
	{ P("\0\0\0\1A"), 5, 'A', 0, "abort: a code without data" },
	{ P("\0\0\0\1AQ"), 5, 'A', 0, "pipelined: only the first is taken" },
	{ P("\0\0\0\4Hab"), 0, 0, 0, "data incomplete" },
	{ P("\0\0\0\3Hab"), 7, 'H', 2, "data without a terminator is still a packet" },
	{ P("\0\0\0\4Hab\0"), 8, 'H', 3, "HELO with its terminator" },
	{ P("\0\0\0\0"), -1, 0, 0, "zero length: no code" },
	{ P("\0\x10\0\1"), 0, 0, 0, "at the limit: waits for the data" },
	{ P("\0\x10\0\2"), -1, 0, 0, "one over the limit" },
	{ P("\xff\xff\xff\xff"), -1, 0, 0, "a length that would overflow" },
	{ P("\x80\0\0\0"), -1, 0, 0, "a negative length as int32" },
};

static void test_command_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(packets); i++) {
		struct milter_command cmd = { 0 };
		ssize_t got = milter_command_parse(packets[i].in, packets[i].len, &cmd);

		if (got != packets[i].want)
			fail_msg("case %zu (%s): got %zd, want %zd", i, packets[i].why, got,
				 packets[i].want);
		if (got > 0 && (cmd.code != packets[i].code || cmd.len != packets[i].data_len ||
				cmd.data != packets[i].in + 5))
			fail_msg("case %zu (%s): code %c len %zu", i, packets[i].why, cmd.code, cmd.len);
	}
}

static struct milter_command command(char code, const char *data, size_t len)
{
	return (struct milter_command){ code, data, len };
}

static void test_optneg(void **state)
{
	struct milter_optneg o;
	struct milter_command c = command('O', P("\0\0\0\6\0\0\1\xff\0\x1f\xff\xff"));

	assert_int_equal(milter_optneg_parse(&c, &o), 0);
	assert_int_equal(o.version, 6);
	assert_int_equal(o.actions, 0x1ff);
	assert_int_equal(o.protocol, 0x1fffff);
	c = command('O', P("\0\0\0\6\0\0\1\xff\0\x1f\xff"));
	assert_int_equal(milter_optneg_parse(&c, &o), -1);	/* short */
	c = command('C', P("\0\0\0\6\0\0\1\xff\0\x1f\xff\xff"));
	assert_int_equal(milter_optneg_parse(&c, &o), -1);	/* not OPTNEG */
}

static const struct {
	const char *in;
	size_t len;
	int want;
	const char *host;
	char family;
	unsigned port;
	const char *address;
	const char *why;
} connects[] = {
	{ P("mail.example\0" "4\x01\x19" "192.0.2.7\0"), 0, "mail.example", '4', 281, "192.0.2.7",
	  "IPv4" },
	{ P("[2001:db8::1]\0" "6\0\x19" "2001:db8::1\0"), 0, "[2001:db8::1]", '6', 25, "2001:db8::1",
	  "IPv6" },
	{ P("localhost\0" "L\0\0" "/run/sock\0"), 0, "localhost", 'L', 0, "/run/sock", "unix" },
	{ P("unknown\0U"), 0, "unknown", 'U', 0, "", "unknown family: nothing after it" },
	{ P("unknown\0Ux"), -1, NULL, 0, 0, NULL, "unknown family with a tail" },
	{ P("h\0" "4\x01"), -1, NULL, 0, 0, NULL, "port cut short" },
	{ P("h\0" "4\x01\x19" "192.0.2.7"), -1, NULL, 0, 0, NULL, "address unterminated" },
	{ P("h\0" "4\x01\x19" "192.0.2.7\0x"), -1, NULL, 0, 0, NULL, "bytes after the address" },
	{ P("h\0" "X\0\0" "a\0"), -1, NULL, 0, 0, NULL, "unknown family code" },
	{ P("h"), -1, NULL, 0, 0, NULL, "host unterminated" },
	{ P("h\0"), -1, NULL, 0, 0, NULL, "no family" },
};

static void test_connect_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(connects); i++) {
		struct milter_command c = command('C', connects[i].in, connects[i].len);
		struct milter_connect r;
		int got = milter_connect_parse(&c, &r);

		if (got != connects[i].want)
			fail_msg("case %zu (%s): got %d", i, connects[i].why, got);
		if (got == 0 && (strcmp(r.hostname, connects[i].host) != 0 || r.family != connects[i].family ||
				 r.port != connects[i].port || strcmp(r.address, connects[i].address) != 0))
			fail_msg("case %zu (%s): wrong fields", i, connects[i].why);
	}
}

static void test_strings(void **state)
{
	const char *s[4];
	size_t n;

	assert_int_equal(milter_strings_parse(P("<a@b>\0SIZE=10\0"), 1, 4, s, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(s[0], "<a@b>");
	assert_string_equal(s[1], "SIZE=10");
	assert_int_equal(milter_strings_parse(P("<a@b>"), 1, 4, s, &n), -1);	/* unterminated */
	assert_int_equal(milter_strings_parse(P(""), 1, 4, s, &n), -1);	/* too few */
	assert_int_equal(milter_strings_parse(P("a\0b\0c\0d\0e\0"), 1, 4, s, &n), -1);	/* too many */
	assert_int_equal(milter_strings_parse(P("\0"), 1, 4, s, &n), 0);	/* one empty string */
	assert_string_equal(s[0], "");
}

static void test_header(void **state)
{
	const char *name, *value;
	struct milter_command c = command('L', P("Subject\0 hello\0"));

	assert_int_equal(milter_header_parse(&c, &name, &value), 0);
	assert_string_equal(name, "Subject");
	assert_string_equal(value, " hello");
	c = command('L', P("\0 hello\0"));
	assert_int_equal(milter_header_parse(&c, &name, &value), -1);	/* no name */
	c = command('L', P("Subject\0 hello"));
	assert_int_equal(milter_header_parse(&c, &name, &value), -1);	/* unterminated */
	c = command('L', P("Subject\0 hello\0extra\0"));
	assert_int_equal(milter_header_parse(&c, &name, &value), -1);	/* three strings */
	c = command('L', P("Subject\0\0"));
	assert_int_equal(milter_header_parse(&c, &name, &value), 0);	/* empty value */
}

static void test_macros(void **state)
{
	struct milter_macros m;
	struct milter_command c = command('D', P("Mi\0" "4F2A\0" "{auth_authen}\0" "alice\0"));

	assert_int_equal(milter_macros_parse(&c, &m), 0);
	assert_int_equal(m.for_command, 'M');
	assert_int_equal(m.count, 2);
	assert_string_equal(milter_macro_value(&m, "i"), "4F2A");
	assert_string_equal(milter_macro_value(&m, "{i}"), "4F2A");
	assert_string_equal(milter_macro_value(&m, "auth_authen"), "alice");
	assert_string_equal(milter_macro_value(&m, "{auth_authen}"), "alice");
	assert_null(milter_macro_value(&m, "j"));
	c = command('D', P("C"));
	assert_int_equal(milter_macros_parse(&c, &m), 0);	/* none at all */
	assert_int_equal(m.count, 0);
	c = command('D', P("Mi\0"));
	assert_int_equal(milter_macros_parse(&c, &m), -1);	/* a name without a value */
	c = command('D', P(""));
	assert_int_equal(milter_macros_parse(&c, &m), -1);	/* no command code */
}

static void assert_bytes(const struct strbuf *out, const char *want, size_t len)
{
	if (out->len != len || memcmp(out->data, want, len) != 0) {
		char shown[512];
		size_t n = 0;

		for (size_t i = 0; i < out->len && n + 5 < sizeof(shown); i++)
			n += (size_t)snprintf(shown + n, sizeof(shown) - n,
					      out->data[i] >= ' ' && out->data[i] < 0x7f ? "%c" : "\\x%02x",
					      (unsigned char)out->data[i]);
		fail_msg("got %zu bytes: %s", out->len, shown);
	}
}

static void test_replies(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct milter_optneg o = { 6, SMFIF_ADDHDRS | SMFIF_CHGHDRS, SMFIP_HDR_LEADSPC };

	milter_reply_simple(&out, SMFIR_CONTINUE);
	assert_bytes(&out, P("\0\0\0\1c"));
	strbuf_reset(&out);
	milter_reply_optneg(&out, &o);
	assert_bytes(&out, P("\0\0\0\x0dO\0\0\0\6\0\0\0\x11\0\x10\0\0"));
	strbuf_reset(&out);
	assert_int_equal(milter_reply_insert_header(&out, 0, "X-A", " b"), 0);
	assert_bytes(&out, P("\0\0\0\x0ci\0\0\0\0X-A\0 b\0"));
	strbuf_reset(&out);
	assert_int_equal(milter_reply_change_header(&out, 2, "X-A", NULL), 0);
	assert_bytes(&out, P("\0\0\0\x0am\0\0\0\2X-A\0\0"));
	strbuf_reset(&out);
	assert_int_equal(milter_reply_add_header(&out, "X-A", " b"), 0);
	assert_bytes(&out, P("\0\0\0\x08hX-A\0 b\0"));
	strbuf_reset(&out);
	assert_int_equal(milter_reply_add_header(&out, "X A", " b"), -1);
	assert_int_equal(milter_reply_add_header(&out, "X:A", " b"), -1);
	assert_int_equal(milter_reply_add_header(&out, "", " b"), -1);
	assert_int_equal(out.len, 0);
	milter_reply_quarantine(&out, "why\r\nnot");
	assert_bytes(&out, P("\0\0\0\x0aqwhy  not\0"));
	strbuf_release(&out);
}

static const struct {
	const char *code, *dsn, *text;
	int want;
	const char *wire;	/* the reply text */
} codes[] = {
	{ "550", "5.7.1", "Refused", 0, "550 5.7.1 Refused" },
	{ "451", "4.3.0", "Try\nlater", 0, "451-4.3.0 Try\r\n451 4.3.0 later" },
	{ "451", "4.3.0", "Trailing newline\n", 0, "451 4.3.0 Trailing newline" },
	{ "550", "5.7.1", "100% sure\tnow", 0, "550 5.7.1 100%% sure now" },
	{ "550", "5.7.1", "", 0, "550 5.7.1 " },
	{ "550", "5.7.100", "x", 0, "550 5.7.100 x" },
	{ "250", "2.0.0", "ok", -1, NULL },
	{ "550", "4.7.1", "class mismatch", -1, NULL },
	{ "55", "5.7.1", "short code", -1, NULL },
	{ "5x0", "5.7.1", "not digits", -1, NULL },
	{ "550", "5.7", "short dsn", -1, NULL },
	{ "550", "5.7.1000", "detail too long", -1, NULL },
	{ "550", "5..1", "empty subject", -1, NULL },
	{ "550", "5.a.1", "letters", -1, NULL },
};

static void test_reply_code_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(codes); i++) {
		struct strbuf out = STRBUF_INIT;
		int got = milter_reply_code(&out, codes[i].code, codes[i].dsn, codes[i].text);

		if (got != codes[i].want)
			fail_msg("case %zu (%s): got %d", i, codes[i].text, got);
		if (got < 0) {
			assert_int_equal(out.len, 0);
		} else {
			size_t n = strlen(codes[i].wire);

			assert_int_equal(out.len, 4 + 1 + n + 1);
			assert_int_equal(out.data[4], 'y');
			assert_memory_equal(out.data + 5, codes[i].wire, n + 1);
			assert_int_equal((unsigned char)out.data[3], 1 + n + 1);
		}
		strbuf_release(&out);
	}
}

static void test_reply_lines_bounded(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char text[2000];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (size_t i = 0; i < sizeof(text) - 1; i += 10)
		text[i] = '\n';
	assert_int_equal(milter_reply_code(&out, "550", "5.7.1", text), 0);
	/* at most MILTER_REPLY_LINES_MAX lines, the last one final */
	size_t lines = 1;
	for (size_t i = 0; i < out.len; i++)
		lines += out.data[i] == '\n';
	assert_true(lines <= MILTER_REPLY_LINES_MAX);
	assert_non_null(strstr(out.data + 5, "550 5.7.1"));
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_table),
		cmocka_unit_test(test_optneg),
		cmocka_unit_test(test_connect_table),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_reply_code_table),
		cmocka_unit_test(test_reply_lines_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
