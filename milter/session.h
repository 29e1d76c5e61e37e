/*
 * session.h - one milter connection's protocol state: bytes from the MTA
 * in, events to the filter, replies out.
 *
 * No I/O and no event loop: the engine (engine.c) reads the socket into
 * a buffer, hands it to milter_session_input() and writes what the
 * session appended to its output; tests and the fuzz target do the same
 * with byte strings. Option negotiation, macros, the order of commands,
 * the replies the negotiated flags call for, ABORT and QUIT are handled
 * here; what to decide is the filter's (struct milter_filter).
 *
 * A filter answers a command at once, or says MILTER_PENDING (it waits
 * for DNS or Redis) and answers later with milter_session_answer(). While
 * a command is pending no further input is taken; the MTA waits for the
 * answer anyway (PENDING for a command the MTA was told not to wait for
 * counts as CONTINUE). Modifications (headers, quarantine) may be made only
 * while answering the end of the message, and only those negotiated.
 */
#ifndef LIMRISTEM_MILTER_SESSION_H
#define LIMRISTEM_MILTER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/strbuf.h"
#include "milter/packet.h"

enum milter_status {
	MILTER_CONTINUE,	/* go on (SMFIR_CONTINUE, or no reply when negotiated so) */
	MILTER_ACCEPT,		/* accept the message (or the connection) unchecked */
	MILTER_REJECT,		/* 5xx: the reply set with milter_session_set_reply(), or 550 */
	MILTER_TEMPFAIL,	/* 4xx: the reply set, or 451 */
	MILTER_DISCARD,		/* accept and drop the message */
	MILTER_PENDING,		/* the answer comes later, through milter_session_answer() */
};

/* The envelope and the client, as the MTA gave them. */
struct milter_client {
	const char *hostname;	/* "unknown" when the MTA has none */
	char family;		/* SMFIA_*: '4', '6', 'L' (unix), 'U' (unknown) */
	const char *address;	/* "" for 'U' */
	unsigned port;
};

struct milter_session;

/* What the filter does with each event. ctx is the filter's per-connection
 * state (from open); each may read macros with milter_session_macro().
 * Any of them may be NULL: MILTER_CONTINUE. */
struct milter_filter {
	void *(*open)(struct milter_session *s, void *filter_arg);	/* required */
	void (*close)(void *ctx);	/* the connection ends; cancel any pending work */
	enum milter_status (*connect)(void *ctx, const struct milter_client *client);
	enum milter_status (*helo)(void *ctx, const char *name);
	enum milter_status (*mail)(void *ctx, const char *const *args, size_t count);
	enum milter_status (*rcpt)(void *ctx, const char *const *args, size_t count);
	enum milter_status (*header)(void *ctx, const char *name, const char *value);
	enum milter_status (*end_of_headers)(void *ctx);
	enum milter_status (*body)(void *ctx, const char *data, size_t len);
	enum milter_status (*end_of_message)(void *ctx);
	void (*abort)(void *ctx);	/* the message ends unfinished (RSET, a refusal) */

	uint32_t actions;	/* SMFIF_* modifications the filter needs */
	/* Commands the filter never refuses: the MTA is asked not to wait for
	 * a reply (SMFIP_NR_*) when it can. A bit set of (1 << code - 'A'). */
	uint32_t never_refuses;
};
#define MILTER_COMMAND_BIT(code) (UINT32_C(1) << ((code) - 'A'))

/* Limits of one session, so that one MTA connection stays bounded. */
#define MILTER_MACRO_BYTES_MAX (64 * 1024)	/* all macros of all stages */

struct milter_session *milter_session_new(const struct milter_filter *filter, void *filter_arg);
/* Calls the filter's close (if the session was opened). */
void milter_session_free(struct milter_session **s);

/* Takes the complete packets of buf[0..len): returns the bytes taken (the
 * caller keeps the rest for the next call), or -1 on a protocol error or
 * after QUIT (close the connection; the reason in milter_session_error()).
 * Stops early while a command is pending. */
ssize_t milter_session_input(struct milter_session *s, const void *buf, size_t len);
/* Replies to send, in order; the caller removes what it wrote with
 * strbuf_consume(). */
struct strbuf *milter_session_output(struct milter_session *s);
bool milter_session_pending(const struct milter_session *s);
/* True once the MTA said QUIT (close once the output is written). */
bool milter_session_done(const struct milter_session *s);
const char *milter_session_error(const struct milter_session *s);

/* The answer to the pending command. The notifier (if set) is called
 * after it, so that the engine writes the reply and reads on. */
void milter_session_answer(struct milter_session *s, enum milter_status status);
void milter_session_set_notify(struct milter_session *s, void (*answered)(void *arg), void *arg);
/* True between MAIL and the answer to the end of the message. */
bool milter_session_in_message(const struct milter_session *s);

/* For the command being answered: the SMTP reply of a REJECT or TEMPFAIL
 * (see milter_reply_code(); text may hold several lines). -1 when code
 * or dsn is malformed: the plain 550/451 is sent then. */
int milter_session_set_reply(struct milter_session *s, const char *code, const char *dsn,
			     const char *text);

/* Modifications, while answering the end of the message: -1 when not
 * negotiated, not at the end of the message, or the name is invalid. */
int milter_session_add_header(struct milter_session *s, const char *name, const char *value);
int milter_session_insert_header(struct milter_session *s, uint32_t index, const char *name,
				 const char *value);
/* Deletes the index'th (1-based) field called name when value is NULL. */
int milter_session_change_header(struct milter_session *s, const char *name, uint32_t index,
				 const char *value);
int milter_session_quarantine(struct milter_session *s, const char *reason);

/* A macro's value ("i", "{auth_authen}", either spelling), looked up in
 * the macros of the current command's stage and then of the earlier ones;
 * NULL when the MTA did not send it. */
const char *milter_session_macro(const struct milter_session *s, const char *name);

#endif
