/*
 * session.c - the milter protocol's state machine for one connection (see
 * session.h).
 *
 * Phases: negotiation (OPTNEG must come first), then per SMTP session a
 * CONNECT, HELOs, and messages: MAIL, RCPTs, DATA, headers, EOH, body
 * chunks, EOM. ABORT ends a message, QUIT the connection, QUIT_NC the SMTP
 * session (a new CONNECT follows on the same connection). A command out
 * of that order is a protocol error: the filter never sees, say, a header
 * without a message.
 */
#include "autoconfig.h"

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "milter/session.h"

/* Macro stages, in the order of an SMTP session (libmilter's too). */
enum stage { STAGE_CONNECT, STAGE_HELO, STAGE_MAIL, STAGE_RCPT, STAGE_DATA, STAGE_EOH,
	     STAGE_EOM, STAGE_COUNT };
static const char stage_codes[STAGE_COUNT] = { SMFIC_CONNECT, SMFIC_HELO, SMFIC_MAIL, SMFIC_RCPT,
					       SMFIC_DATA, SMFIC_EOH, SMFIC_BODYEOB };

enum phase {
	PHASE_NEGOTIATE,	/* waiting for OPTNEG */
	PHASE_CONNECT,		/* waiting for CONNECT */
	PHASE_IDLE,		/* between messages */
	PHASE_ENVELOPE,		/* after MAIL */
	PHASE_HEADERS,		/* after DATA or the first header */
	PHASE_BODY,		/* after EOH */
};

struct stage_macros {
	char *data;		/* a copy of the MACRO packet's data */
	size_t len;
	struct milter_macros parsed;	/* pointing into data */
};

struct milter_session {
	const struct milter_filter *filter;
	void *filter_arg, *ctx;
	bool opened;
	enum phase phase;
	uint32_t actions, protocol;	/* negotiated */
	struct stage_macros macros[STAGE_COUNT];
	size_t macro_bytes;
	enum stage stage;		/* of the command being handled */
	char pending;			/* the command awaiting milter_session_answer(), or 0 */
	char answering;			/* the command being answered, or 0 */
	bool reply_set;
	struct strbuf reply;		/* an SMFIR_REPLYCODE packet for it */
	bool done;
	const char *error;
	void (*notify)(void *arg);
	void *notify_arg;
	struct strbuf out;
};

struct milter_session *milter_session_new(const struct milter_filter *filter, void *filter_arg)
{
	struct milter_session *s = xcalloc(1, sizeof(*s));

	s->filter = filter;
	s->filter_arg = filter_arg;
	strbuf_init(&s->out);
	strbuf_init(&s->reply);
	return s;
}

static void clear_macros(struct milter_session *s, enum stage from)
{
	for (int i = from; i < STAGE_COUNT; i++) {
		s->macro_bytes -= s->macros[i].len;
		free(s->macros[i].data);
		memset(&s->macros[i], 0, sizeof(s->macros[i]));
	}
}

void milter_session_free(struct milter_session **sp)
{
	struct milter_session *s = *sp;

	if (s == NULL)
		return;
	if (s->opened && s->filter->close != NULL)
		s->filter->close(s->ctx);
	clear_macros(s, STAGE_CONNECT);
	strbuf_release(&s->out);
	strbuf_release(&s->reply);
	free(s);
	*sp = NULL;
}

struct strbuf *milter_session_output(struct milter_session *s)
{
	return &s->out;
}

bool milter_session_pending(const struct milter_session *s)
{
	return s->pending != 0;
}

bool milter_session_done(const struct milter_session *s)
{
	return s->done;
}

const char *milter_session_error(const struct milter_session *s)
{
	return s->error != NULL ? s->error : "";
}

static ssize_t fail(struct milter_session *s, const char *why)
{
	s->error = why;
	return -1;
}

/* --- negotiation ---------------------------------------------------------------------- */

/* The no-reply flag of each command the MTA may skip waiting for. */
static uint32_t no_reply_flag(char code)
{
	switch (code) {
	case SMFIC_CONNECT: return SMFIP_NR_CONN;
	case SMFIC_HELO: return SMFIP_NR_HELO;
	case SMFIC_MAIL: return SMFIP_NR_MAIL;
	case SMFIC_RCPT: return SMFIP_NR_RCPT;
	case SMFIC_DATA: return SMFIP_NR_DATA;
	case SMFIC_UNKNOWN: return SMFIP_NR_UNKN;
	case SMFIC_HEADER: return SMFIP_NR_HDR;
	case SMFIC_EOH: return SMFIP_NR_EOH;
	case SMFIC_BODY: return SMFIP_NR_BODY;
	default: return 0;
	}
}

static ssize_t negotiate(struct milter_session *s, const struct milter_command *cmd)
{
	static const char codes[] = { SMFIC_CONNECT, SMFIC_HELO, SMFIC_MAIL, SMFIC_RCPT,
				      SMFIC_DATA, SMFIC_UNKNOWN, SMFIC_HEADER, SMFIC_EOH,
				      SMFIC_BODY };
	struct milter_optneg mta, ours;
	uint32_t want = SMFIP_HDR_LEADSPC | SMFIP_NODATA | SMFIP_NOUNKNOWN;

	if (cmd->code != SMFIC_OPTNEG)
		return fail(s, "the MTA did not start with option negotiation");
	if (milter_optneg_parse(cmd, &mta) < 0 || mta.version < 2)
		return fail(s, "malformed option negotiation");
	if (!(mta.protocol & SMFIP_HDR_LEADSPC))
		return fail(s, "the MTA cannot send header values as received (SMFIP_HDR_LEADSPC)");
	if ((mta.actions & s->filter->actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) !=
	    (s->filter->actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)))
		return fail(s, "the MTA does not let us add and change header fields");
	for (size_t i = 0; i < sizeof(codes); i++)
		if (s->filter->never_refuses & MILTER_COMMAND_BIT(codes[i]))
			want |= no_reply_flag(codes[i]);
	ours.version = mta.version < SMFI_PROT_VERSION ? mta.version : SMFI_PROT_VERSION;
	ours.actions = s->filter->actions & mta.actions;
	ours.protocol = want & mta.protocol;
	s->actions = ours.actions;
	s->protocol = ours.protocol;
	milter_reply_optneg(&s->out, &ours);
	s->phase = PHASE_CONNECT;
	return 0;
}

/* --- replies -------------------------------------------------------------------------- */

static bool wants_reply(const struct milter_session *s, char code)
{
	return !(s->protocol & no_reply_flag(code));
}

/* Whether an answer to code ends the message. */
static bool ends_message(char code, enum milter_status status)
{
	if (code == SMFIC_BODYEOB)
		return true;
	if (code == SMFIC_RCPT)	/* a refusal is of this recipient only */
		return status == MILTER_ACCEPT || status == MILTER_DISCARD;
	return status != MILTER_CONTINUE;
}

static void write_reply(struct milter_session *s, char code, enum milter_status status)
{
	switch (status) {
	case MILTER_PENDING:
	case MILTER_CONTINUE:
		if (wants_reply(s, code))
			milter_reply_simple(&s->out, SMFIR_CONTINUE);
		break;
	case MILTER_ACCEPT:
		milter_reply_simple(&s->out, SMFIR_ACCEPT);
		break;
	case MILTER_DISCARD:
		milter_reply_simple(&s->out, SMFIR_DISCARD);
		break;
	case MILTER_REJECT:
	case MILTER_TEMPFAIL:
		if (s->reply_set && s->reply.data[5] == (status == MILTER_REJECT ? '5' : '4'))
			strbuf_append(&s->out, s->reply.data, s->reply.len);
		else
			milter_reply_simple(&s->out, status == MILTER_REJECT ? SMFIR_REJECT
									 : SMFIR_TEMPFAIL);
		break;
	}
}

/* After the filter's answer to code (now or later): the reply, and the
 * end of the message when the answer ends it. */
static void answered(struct milter_session *s, char code, enum milter_status status)
{
	/* a command the MTA does not wait for cannot be refused: go on */
	if (!wants_reply(s, code))
		status = MILTER_CONTINUE;
	write_reply(s, code, status);
	s->answering = 0;
	s->reply_set = false;
	strbuf_reset(&s->reply);
	if (s->phase >= PHASE_ENVELOPE && ends_message(code, status)) {
		if (code != SMFIC_BODYEOB && s->filter->abort != NULL)
			s->filter->abort(s->ctx);
		s->phase = PHASE_IDLE;
		clear_macros(s, STAGE_MAIL);
	}
}

void milter_session_answer(struct milter_session *s, enum milter_status status)
{
	char code = s->pending;

	if (code == 0 || status == MILTER_PENDING)
		return;
	s->pending = 0;
	answered(s, code, status);
	if (s->notify != NULL)
		s->notify(s->notify_arg);
}

void milter_session_set_notify(struct milter_session *s, void (*answered_fn)(void *arg), void *arg)
{
	s->notify = answered_fn;
	s->notify_arg = arg;
}

bool milter_session_in_message(const struct milter_session *s)
{
	return s->phase >= PHASE_ENVELOPE;
}

int milter_session_set_reply(struct milter_session *s, const char *code, const char *dsn,
			     const char *text)
{
	strbuf_reset(&s->reply);
	s->reply_set = milter_reply_code(&s->reply, code, dsn, text) == 0;
	return s->reply_set ? 0 : -1;
}

static bool may_modify(const struct milter_session *s, uint32_t action)
{
	return s->answering == SMFIC_BODYEOB && (s->actions & action);
}

int milter_session_add_header(struct milter_session *s, const char *name, const char *value)
{
	return may_modify(s, SMFIF_ADDHDRS) ? milter_reply_add_header(&s->out, name, value) : -1;
}

int milter_session_insert_header(struct milter_session *s, uint32_t index, const char *name,
				 const char *value)
{
	return may_modify(s, SMFIF_ADDHDRS) ? milter_reply_insert_header(&s->out, index, name, value)
					    : -1;
}

int milter_session_change_header(struct milter_session *s, const char *name, uint32_t index,
				 const char *value)
{
	return may_modify(s, SMFIF_CHGHDRS) ? milter_reply_change_header(&s->out, index, name, value)
					    : -1;
}

int milter_session_quarantine(struct milter_session *s, const char *reason)
{
	if (!may_modify(s, SMFIF_QUARANTINE))
		return -1;
	milter_reply_quarantine(&s->out, reason);
	return 0;
}

/* --- macros --------------------------------------------------------------------------- */

static int stage_of(char code)
{
	for (int i = 0; i < STAGE_COUNT; i++)
		if (stage_codes[i] == code)
			return i;
	return -1;
}

static ssize_t store_macros(struct milter_session *s, const struct milter_command *cmd)
{
	struct milter_command copy = *cmd;
	struct stage_macros *m;
	int stage;

	if (cmd->len == 0)
		return fail(s, "malformed macro definitions");
	if ((stage = stage_of(cmd->data[0])) < 0)
		return 0;	/* macros for a stage we never ask about */
	m = &s->macros[stage];
	if (s->macro_bytes - m->len + cmd->len > MILTER_MACRO_BYTES_MAX)
		return fail(s, "macro definitions over the size limit");
	s->macro_bytes -= m->len;
	free(m->data);
	m->data = xmalloc(cmd->len);
	memcpy(m->data, cmd->data, cmd->len);
	m->len = cmd->len;
	s->macro_bytes += m->len;
	copy.data = m->data;
	if (milter_macros_parse(&copy, &m->parsed) < 0) {
		clear_macros(s, stage);
		return fail(s, "malformed macro definitions");
	}
	return 0;
}

const char *milter_session_macro(const struct milter_session *s, const char *name)
{
	for (int i = s->stage; i >= 0; i--) {
		const char *v = milter_macro_value(&s->macros[i].parsed, name);

		if (v != NULL)
			return v;
	}
	return NULL;
}

/* --- commands ------------------------------------------------------------------------- */

/* Whether code may come in the session's phase. */
static bool allowed(const struct milter_session *s, char code)
{
	switch (code) {
	case SMFIC_CONNECT:
		return s->phase == PHASE_CONNECT;
	case SMFIC_HELO:
		return s->phase == PHASE_IDLE;
	case SMFIC_MAIL:
		return s->phase >= PHASE_IDLE;	/* a new MAIL ends an open message */
	case SMFIC_RCPT:
	case SMFIC_DATA:
		return s->phase == PHASE_ENVELOPE;
	case SMFIC_HEADER:
	case SMFIC_EOH:
		return s->phase == PHASE_ENVELOPE || s->phase == PHASE_HEADERS;
	case SMFIC_BODY:
		return s->phase == PHASE_BODY;
	case SMFIC_BODYEOB:
		return s->phase >= PHASE_ENVELOPE;
	case SMFIC_UNKNOWN:
		return s->phase >= PHASE_IDLE;
	default:
		return false;
	}
}

static enum milter_status call_connect(struct milter_session *s, const struct milter_command *cmd)
{
	struct milter_connect c;
	struct milter_client client;

	if (milter_connect_parse(cmd, &c) < 0)
		return (enum milter_status)-1;
	client = (struct milter_client){ c.hostname, c.family, c.address, c.port };
	s->phase = PHASE_IDLE;
	return s->filter->connect ? s->filter->connect(s->ctx, &client) : MILTER_CONTINUE;
}

static enum milter_status call_strings(struct milter_session *s, const struct milter_command *cmd)
{
	const char *args[MILTER_ARGS_MAX];
	size_t n;

	if (milter_strings_parse(cmd->data, cmd->len, 1, MILTER_ARGS_MAX, args, &n) < 0)
		return (enum milter_status)-1;
	switch (cmd->code) {
	case SMFIC_HELO:
		return s->filter->helo ? s->filter->helo(s->ctx, args[0]) : MILTER_CONTINUE;
	case SMFIC_MAIL:
		if (s->phase >= PHASE_ENVELOPE && s->filter->abort != NULL)
			s->filter->abort(s->ctx);
		s->phase = PHASE_ENVELOPE;
		return s->filter->mail ? s->filter->mail(s->ctx, args, n) : MILTER_CONTINUE;
	case SMFIC_RCPT:
		return s->filter->rcpt ? s->filter->rcpt(s->ctx, args, n) : MILTER_CONTINUE;
	default:
		return MILTER_CONTINUE;	/* UNKNOWN */
	}
}

static enum milter_status call_message(struct milter_session *s, const struct milter_command *cmd)
{
	const char *name, *value;

	switch (cmd->code) {
	case SMFIC_DATA:
		s->phase = PHASE_HEADERS;
		return MILTER_CONTINUE;
	case SMFIC_HEADER:
		if (milter_header_parse(cmd, &name, &value) < 0)
			return (enum milter_status)-1;
		s->phase = PHASE_HEADERS;
		return s->filter->header ? s->filter->header(s->ctx, name, value) : MILTER_CONTINUE;
	case SMFIC_EOH:
		s->phase = PHASE_BODY;
		return s->filter->end_of_headers ? s->filter->end_of_headers(s->ctx) : MILTER_CONTINUE;
	case SMFIC_BODY:
		return s->filter->body ? s->filter->body(s->ctx, cmd->data, cmd->len) : MILTER_CONTINUE;
	default:	/* SMFIC_BODYEOB; a last body chunk may come with it */
		if (cmd->len > 0 && s->filter->body != NULL)
			s->filter->body(s->ctx, cmd->data, cmd->len);
		return s->filter->end_of_message ? s->filter->end_of_message(s->ctx)
						 : MILTER_CONTINUE;
	}
}

static ssize_t end_message(struct milter_session *s)
{
	if (s->phase >= PHASE_ENVELOPE && s->filter->abort != NULL)
		s->filter->abort(s->ctx);
	if (s->phase >= PHASE_IDLE)
		s->phase = PHASE_IDLE;
	clear_macros(s, STAGE_MAIL);
	return 0;
}

static ssize_t command(struct milter_session *s, const struct milter_command *cmd)
{
	enum milter_status status;
	int stage;

	switch (cmd->code) {
	case SMFIC_MACRO:
		return store_macros(s, cmd);
	case SMFIC_ABORT:
		return end_message(s);
	case SMFIC_QUIT:
		end_message(s);
		s->done = true;
		return fail(s, "the MTA said QUIT");
	case SMFIC_QUIT_NC:
		end_message(s);
		clear_macros(s, STAGE_CONNECT);
		s->phase = PHASE_CONNECT;
		return 0;
	case SMFIC_OPTNEG:
		return fail(s, "option negotiation again");
	}
	if (!allowed(s, cmd->code)) {
		static char why[64];

		if (stage_of(cmd->code) < 0 && cmd->code != SMFIC_HEADER && cmd->code != SMFIC_BODY &&
		    cmd->code != SMFIC_UNKNOWN)
			return fail(s, "an unknown command");
		snprintf(why, sizeof(why), "command '%c' out of order", cmd->code);
		return fail(s, why);
	}
	if ((stage = stage_of(cmd->code)) >= 0)
		s->stage = stage;
	s->answering = cmd->code;
	if (cmd->code == SMFIC_CONNECT)
		status = call_connect(s, cmd);
	else if (cmd->code == SMFIC_HELO || cmd->code == SMFIC_MAIL || cmd->code == SMFIC_RCPT ||
		 cmd->code == SMFIC_UNKNOWN)
		status = call_strings(s, cmd);
	else
		status = call_message(s, cmd);
	if ((int)status < 0) {
		s->answering = 0;
		return fail(s, "a malformed command");
	}
	if (status == MILTER_PENDING && wants_reply(s, cmd->code)) {
		s->pending = cmd->code;
		return 0;
	}
	answered(s, cmd->code, status);
	return 0;
}

ssize_t milter_session_input(struct milter_session *s, const void *buf, size_t len)
{
	const char *p = buf;
	size_t used = 0;

	if (s->error != NULL)
		return -1;
	if (!s->opened) {
		s->ctx = s->filter->open(s, s->filter_arg);
		s->opened = true;
	}
	while (s->pending == 0 && used < len) {
		struct milter_command cmd;
		ssize_t n = milter_command_parse(p + used, len - used, &cmd);

		if (n < 0)
			return fail(s, "a packet over the size limit");
		if (n == 0)
			break;
		used += (size_t)n;
		if ((s->phase == PHASE_NEGOTIATE ? negotiate(s, &cmd) : command(s, &cmd)) < 0)
			return -1;
	}
	return (ssize_t)used;
}
