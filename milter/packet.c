/*
 * packet.c - milter packets: commands parsed, replies encoded (see
 * packet.h).
 */
#include "autoconfig.h"

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <string.h>

#include "milter/packet.h"

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(struct strbuf *out, uint32_t v)
{
	unsigned char b[4] = { v >> 24 & 0xff, v >> 16 & 0xff, v >> 8 & 0xff, v & 0xff };

	strbuf_append(out, b, sizeof(b));
}

ssize_t milter_command_parse(const void *buf, size_t len, struct milter_command *cmd_r)
{
	const unsigned char *p = buf;
	uint32_t n;

	if (len < 4)
		return 0;
	n = get_u32(p);
	if (n == 0 || n > MILTER_PACKET_DATA_MAX + 1)
		return -1;
	if (len - 4 < n)
		return 0;
	cmd_r->code = (char)p[4];
	cmd_r->data = (const char *)p + 5;
	cmd_r->len = n - 1;
	return (ssize_t)n + 4;
}

int milter_optneg_parse(const struct milter_command *cmd, struct milter_optneg *optneg_r)
{
	const unsigned char *p = (const unsigned char *)cmd->data;

	/* libmilter's MILTER_OPTLEN; an MTA may append more, which we ignore */
	if (cmd->code != SMFIC_OPTNEG || cmd->len < MILTER_OPTLEN)
		return -1;
	optneg_r->version = get_u32(p);
	optneg_r->actions = get_u32(p + 4);
	optneg_r->protocol = get_u32(p + 8);
	return 0;
}

/* The NUL-terminated string at data[*pos..len), advancing *pos past it;
 * NULL when there is no terminator. */
static const char *take_string(const char *data, size_t len, size_t *pos)
{
	const char *s = data + *pos;
	const char *nul;

	if (*pos >= len || (nul = memchr(s, '\0', len - *pos)) == NULL)
		return NULL;
	*pos += (size_t)(nul - s) + 1;
	return s;
}

int milter_connect_parse(const struct milter_command *cmd, struct milter_connect *connect_r)
{
	const char *d = cmd->data;
	size_t pos = 0;

	if (cmd->code != SMFIC_CONNECT || (connect_r->hostname = take_string(d, cmd->len, &pos)) == NULL ||
	    pos >= cmd->len)
		return -1;
	connect_r->family = d[pos++];
	connect_r->port = 0;
	connect_r->address = "";
	switch (connect_r->family) {
	case SMFIA_UNKNOWN:
		return pos == cmd->len ? 0 : -1;
	case SMFIA_UNIX:
	case SMFIA_INET:
	case SMFIA_INET6:
		break;
	default:
		return -1;
	}
	if (cmd->len - pos < 2)
		return -1;
	connect_r->port = (unsigned)(unsigned char)d[pos] << 8 | (unsigned char)d[pos + 1];
	pos += 2;
	if ((connect_r->address = take_string(d, cmd->len, &pos)) == NULL || pos != cmd->len)
		return -1;
	return 0;
}

int milter_strings_parse(const char *data, size_t len, size_t min, size_t max,
			 const char **strings_r, size_t *count_r)
{
	size_t pos = 0, n = 0;

	*count_r = 0;
	while (pos < len) {
		const char *s = take_string(data, len, &pos);

		if (s == NULL || n >= max)
			return -1;
		strings_r[n++] = s;
	}
	if (n < min)
		return -1;
	*count_r = n;
	return 0;
}

int milter_header_parse(const struct milter_command *cmd, const char **name_r,
			const char **value_r)
{
	const char *s[2];
	size_t n;

	if (cmd->code != SMFIC_HEADER || milter_strings_parse(cmd->data, cmd->len, 2, 2, s, &n) < 0 ||
	    s[0][0] == '\0')
		return -1;
	*name_r = s[0];
	*value_r = s[1];
	return 0;
}

int milter_macros_parse(const struct milter_command *cmd, struct milter_macros *macros_r)
{
	const char *s[2 * MILTER_MACROS_MAX];
	size_t n;

	macros_r->count = 0;
	if (cmd->code != SMFIC_MACRO || cmd->len < 1)
		return -1;
	macros_r->for_command = cmd->data[0];
	if (milter_strings_parse(cmd->data + 1, cmd->len - 1, 0, 2 * MILTER_MACROS_MAX, s, &n) < 0 ||
	    n % 2 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		macros_r->names[macros_r->count] = s[i];
		macros_r->values[macros_r->count++] = s[i + 1];
	}
	return 0;
}

/* "{name}" and "name" are the same macro. */
static bool macro_name_equal(const char *a, const char *b)
{
	size_t alen = strlen(a), blen = strlen(b);

	if (alen >= 2 && a[0] == '{' && a[alen - 1] == '}') {
		a++;
		alen -= 2;
	}
	if (blen >= 2 && b[0] == '{' && b[blen - 1] == '}') {
		b++;
		blen -= 2;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

const char *milter_macro_value(const struct milter_macros *m, const char *name)
{
	for (size_t i = 0; i < m->count; i++)
		if (macro_name_equal(m->names[i], name))
			return m->values[i];
	return NULL;
}

/* Starts a reply packet; finish_reply() fills in its length. */
static size_t start_reply(struct strbuf *out, char code)
{
	size_t at = out->len;

	put_u32(out, 0);
	strbuf_append_char(out, code);
	return at;
}

static void finish_reply(struct strbuf *out, size_t at)
{
	uint32_t n = (uint32_t)(out->len - at - 4);
	unsigned char *p = (unsigned char *)out->data + at;

	p[0] = n >> 24 & 0xff;
	p[1] = n >> 16 & 0xff;
	p[2] = n >> 8 & 0xff;
	p[3] = n & 0xff;
}

void milter_reply_simple(struct strbuf *out, char code)
{
	finish_reply(out, start_reply(out, code));
}

void milter_reply_optneg(struct strbuf *out, const struct milter_optneg *ours)
{
	size_t at = start_reply(out, SMFIC_OPTNEG);

	put_u32(out, ours->version);
	put_u32(out, ours->actions);
	put_u32(out, ours->protocol);
	finish_reply(out, at);
}

/* Appends s[0..len) with control characters as spaces and '%' as '%%'
 * (Postfix passes reply text through its formatter). */
static void append_clean(struct strbuf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%')
			strbuf_append(out, "%%", 2);
		else
			strbuf_append_char(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

static bool reply_code_valid(const char *code, const char *dsn)
{
	size_t n = strlen(dsn);
	const char *dot1, *dot2;

	if (strlen(code) != 3 || (code[0] != '4' && code[0] != '5') || code[1] < '0' ||
	    code[1] > '5' || code[2] < '0' || code[2] > '9')
		return false;
	/* class.subject.detail: 1 digit, 1-3 digits, 1-3 digits */
	if (n < 5 || n > 9 || dsn[0] != code[0] || dsn[1] != '.' ||
	    (dot1 = strchr(dsn + 2, '.')) == NULL)
		return false;
	dot2 = dsn + n;
	if (dot1 - (dsn + 2) < 1 || dot1 - (dsn + 2) > 3 || dot2 - (dot1 + 1) < 1 ||
	    dot2 - (dot1 + 1) > 3)
		return false;
	for (const char *p = dsn + 2; p < dot2; p++)
		if (p != dot1 && (*p < '0' || *p > '9'))
			return false;
	return true;
}

int milter_reply_code(struct strbuf *out, const char *code, const char *dsn, const char *text)
{
	const char *line = text, *end;
	size_t at, lines = 0;

	if (!reply_code_valid(code, dsn))
		return -1;
	at = start_reply(out, SMFIR_REPLYCODE);
	do {
		size_t len;
		bool last;

		end = strchr(line, '\n');
		last = end == NULL || end[1] == '\0' || ++lines >= MILTER_REPLY_LINES_MAX;
		len = end != NULL ? (size_t)(end - line) : strlen(line);
		if (len > MILTER_REPLY_TEXT_MAX)
			len = MILTER_REPLY_TEXT_MAX;
		if (line != text)
			strbuf_append(out, "\r\n", 2);
		strbuf_appendf(out, "%s%c%s ", code, last ? ' ' : '-', dsn);
		append_clean(out, line, len);
		if (last)
			break;
		line = end + 1;
	} while (1);
	strbuf_append_char(out, '\0');
	finish_reply(out, at);
	return 0;
}

bool milter_header_name_valid(const char *name)
{
	size_t n = 0;

	for (; name[n] != '\0'; n++)
		if ((unsigned char)name[n] <= ' ' || (unsigned char)name[n] >= 0x7f || name[n] == ':')
			return false;
	return n > 0 && n <= 255;
}

static void append_string(struct strbuf *out, const char *s)
{
	strbuf_append(out, s, strlen(s) + 1);
}

int milter_reply_add_header(struct strbuf *out, const char *name, const char *value)
{
	size_t at;

	if (!milter_header_name_valid(name))
		return -1;
	at = start_reply(out, SMFIR_ADDHEADER);
	append_string(out, name);
	append_string(out, value);
	finish_reply(out, at);
	return 0;
}

static int header_at(struct strbuf *out, char code, uint32_t index, const char *name,
		     const char *value)
{
	size_t at;

	if (!milter_header_name_valid(name))
		return -1;
	at = start_reply(out, code);
	put_u32(out, index);
	append_string(out, name);
	append_string(out, value != NULL ? value : "");
	finish_reply(out, at);
	return 0;
}

int milter_reply_insert_header(struct strbuf *out, uint32_t index, const char *name,
			       const char *value)
{
	return header_at(out, SMFIR_INSHEADER, index, name, value);
}

int milter_reply_change_header(struct strbuf *out, uint32_t index, const char *name,
			       const char *value)
{
	return header_at(out, SMFIR_CHGHEADER, index, name, value);
}

void milter_reply_quarantine(struct strbuf *out, const char *reason)
{
	size_t at = start_reply(out, SMFIR_QUARANTINE);

	for (const char *p = reason; *p != '\0'; p++)
		strbuf_append_char(out, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
	strbuf_append_char(out, '\0');
	finish_reply(out, at);
}
