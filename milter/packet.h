/*
 * packet.h - the milter protocol's packets, version 6 as Postfix speaks
 * it: commands from the MTA parsed, replies to it encoded.
 *
 * Pure functions over buffers: no I/O, no state, nothing allocated but
 * the caller's output buffer. The command, reply and flag codes are
 * libmilter's (libmilter/mfdef.h, SMFIC_*, SMFIR_*, SMFIP_*; SMFIF_* from
 * mfapi.h), so ours and the MTA's cannot drift; libmilter itself is not
 * linked.
 *
 * On the wire a packet is a 32-bit big-endian length, then that many
 * bytes: one command (or reply) code and its data. Strings in the data
 * end with NUL. Every parser checks lengths and terminators and never
 * reads past its input; pointers it returns point into that input.
 */
#ifndef LIMRISTEM_MILTER_PACKET_H
#define LIMRISTEM_MILTER_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/strbuf.h"

/* The largest data a command may carry. Postfix sends body chunks of at
 * most 64 KiB and one header per packet (header_size_limit, 100 KiB by
 * default); a site that raises that limit still fits. */
#define MILTER_PACKET_DATA_MAX (1024 * 1024)
/* Strings one MAIL or RCPT command may carry (the address and its ESMTP
 * parameters), and name/value pairs in one macro command. */
#define MILTER_ARGS_MAX 32
#define MILTER_MACROS_MAX 64
/* Reply text: SMTP limits a line to 512 octets with CRLF. */
#define MILTER_REPLY_TEXT_MAX 450
#define MILTER_REPLY_LINES_MAX 8

struct milter_command {
	char code;		/* SMFIC_* */
	const char *data;	/* into the input; not NUL-terminated */
	size_t len;
};

/* Parses one packet from buf[0..len). Returns the bytes it takes, 0 when
 * more input is needed, or -1 when the input can never become valid (a
 * length of zero or over MILTER_PACKET_DATA_MAX + 1). */
ssize_t milter_command_parse(const void *buf, size_t len, struct milter_command *cmd_r);

/* SMFIC_OPTNEG: what the MTA offers. */
struct milter_optneg {
	uint32_t version;
	uint32_t actions;	/* SMFIF_* it allows */
	uint32_t protocol;	/* SMFIP_* it can do */
};
int milter_optneg_parse(const struct milter_command *cmd, struct milter_optneg *optneg_r);

/* SMFIC_CONNECT. family is SMFIA_* ('U', 'L', '4', '6'); address is ""
 * and port 0 for 'U'. */
struct milter_connect {
	const char *hostname;
	char family;
	unsigned port;
	const char *address;
};
int milter_connect_parse(const struct milter_command *cmd, struct milter_connect *connect_r);

/* The NUL-terminated strings of a command's data (HELO, MAIL, RCPT,
 * HEADER, UNKNOWN): at least min and at most max of them, the last one
 * terminated. 0, or -1 when the data is not such a list. */
int milter_strings_parse(const char *data, size_t len, size_t min, size_t max,
			 const char **strings_r, size_t *count_r);

/* SMFIC_HEADER: the field's name and its value (as received, with the
 * leading space when SMFIP_HDR_LEADSPC was negotiated). */
int milter_header_parse(const struct milter_command *cmd, const char **name_r,
			const char **value_r);

/* SMFIC_MACRO: the command the macros are for, then name/value pairs:
 * names_r[i] has the value values_r[i]. Macro names come as Postfix
 * sends them ("i", "{auth_authen}"). */
struct milter_macros {
	char for_command;
	size_t count;
	const char *names[MILTER_MACROS_MAX];
	const char *values[MILTER_MACROS_MAX];
};
int milter_macros_parse(const struct milter_command *cmd, struct milter_macros *macros_r);
/* The value of a macro, whether asked for as "auth_authen" or
 * "{auth_authen}"; NULL when it is not there. */
const char *milter_macro_value(const struct milter_macros *m, const char *name);

/* Replies, appended to out. */
void milter_reply_simple(struct strbuf *out, char code);	/* SMFIR_CONTINUE, ACCEPT, ... */
/* SMFIC_OPTNEG's answer. */
void milter_reply_optneg(struct strbuf *out, const struct milter_optneg *ours);
/* SMFIR_REPLYCODE: "550 5.7.1 text", the text split into lines at '\n'
 * (multi-line replies as "550-5.7.1 first\r\n550 5.7.1 last"). code must
 * be 4xx or 5xx, dsn x.y.z with the same class; text is cleaned of
 * control characters and '%' (the MTA's format character) and cut to
 * MILTER_REPLY_TEXT_MAX per line. -1 (nothing appended) when code or dsn
 * is malformed. */
int milter_reply_code(struct strbuf *out, const char *code, const char *dsn, const char *text);
/* SMFIR_ADDHEADER, SMFIR_INSHEADER (at index, 0 = on top), SMFIR_CHGHEADER
 * (the index'th field of that name, 1-based; value NULL deletes it). -1
 * when the name is not a field name (printable ASCII but ':'). */
int milter_reply_add_header(struct strbuf *out, const char *name, const char *value);
int milter_reply_insert_header(struct strbuf *out, uint32_t index, const char *name,
			       const char *value);
int milter_reply_change_header(struct strbuf *out, uint32_t index, const char *name,
			       const char *value);
/* SMFIR_QUARANTINE with a reason (cleaned of control characters). */
void milter_reply_quarantine(struct strbuf *out, const char *reason);

/* True when name is a valid header field name (RFC 5322 ftext, 1..255). */
bool milter_header_name_valid(const char *name);

#endif
