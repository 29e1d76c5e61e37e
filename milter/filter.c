/*
 * filter.c - the milter's side of each MTA connection: the session's
 * events (session.h) in, the connection's and the message's state, and
 * the answers out.
 *
 * Each connection has a struct connection (message.h); each MAIL FROM a
 * struct message that lives until the end of the message or an abort.
 * Outbound mail (authenticated, or from internal_networks) is signed
 * (outbound.c); inbound mail goes through inbound.c's order of checks.
 * The two steps that ask DNS and Redis, a recipient and the end of a
 * message, run in a fiber (fiber.h) of the connection's event loop: when
 * they finish without waiting the answer goes out at once, else the
 * command is answered later (MILTER_PENDING) and the loop serves other
 * connections meanwhile. A connection that closes while its fiber waits
 * cancels it, and the fiber, whose waits now return at once, ends and
 * frees the connection.
 */
#include "autoconfig.h"

#include <event2/event.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "milter/fiber.h"
#include "milter/filter.h"
#include "milter/finish.h"
#include "milter/inbound.h"
#include "milter/outbound.h"
#include "milter/trusted.h"

enum step { STEP_RCPT, STEP_END };

struct filter_conn {
	struct filter_loop *loop;
	struct milter_session *s;
	struct connection conn;
	struct message *m;
	long long accounted;		/* header bytes counted against memory_max */

	/* the step running in a fiber */
	struct fiber *fiber;
	struct event *wake;
	enum step step;
	bool gone;			/* the session ended while the fiber ran */
	char rcpt[ADDR_MAX + 1];
	int rcpt_verdict;		/* inbound_rcpt()'s */
	struct inbound_reply reply;
	struct answer answer;
};

static const struct milter_context *context(const struct filter_conn *fc)
{
	return fc->loop->mc;
}

/* --- memory ------------------------------------------------------------------------ */

static void account(struct filter_conn *fc, long long bytes)
{
	fc->accounted += bytes;
	if (fc->loop->engine != NULL)
		milter_engine_memory_add(fc->loop->engine, bytes);
}

static void message_done(struct filter_conn *fc)
{
	account(fc, -fc->accounted);
	message_free(&fc->m);
}

/* --- answers ----------------------------------------------------------------------- */

static enum milter_status refuse(struct filter_conn *fc, enum milter_status status,
				 const char *code, const char *dsn, const char *text)
{
	milter_session_set_reply(fc->s, code, dsn, text);
	return status;
}

static enum milter_status internal_error(struct filter_conn *fc, const char *why)
{
	const struct milter_context *mc = context(fc);

	log_error("milter: internal error: %s", why);
	metric_inc(mc->internal_errors);
	if (mc->settings->internal_error_action == MILTER_ERROR_ACCEPT)
		return MILTER_ACCEPT;
	return refuse(fc, MILTER_TEMPFAIL, "451", "4.3.0", "Temporary local problem, try again later");
}

static enum milter_status rcpt_answer(struct filter_conn *fc)
{
	if (fc->rcpt_verdict > 0)
		return MILTER_CONTINUE;
	return refuse(fc, fc->rcpt_verdict < 0 ? MILTER_REJECT : MILTER_TEMPFAIL, fc->reply.code,
		      fc->reply.dsn, fc->reply.text);
}

/* The end of the message: the answer's modifications, then its action.
 * Deletions come first (finish.h); one the MTA cannot be asked for fails
 * the message rather than let a forged field through. */
static enum milter_status end_answer(struct filter_conn *fc)
{
	struct answer *a = &fc->answer;
	enum milter_status status = MILTER_ACCEPT;

	for (size_t i = 0; i < a->count; i++) {
		const struct answer_op *op = &a->ops[i];
		int rc = op->kind == ANSWER_DELETE
			 ? milter_session_change_header(fc->s, op->name, op->index, NULL)
			 : milter_session_insert_header(fc->s, 0, op->name, op->value);

		if (rc < 0) {
			status = internal_error(fc, "a header field could not be changed");
			goto done;
		}
	}
	if (a->quarantine[0] != '\0')
		milter_session_quarantine(fc->s, a->quarantine);
	if (a->action == VERIFY_REJECT)
		status = refuse(fc, MILTER_REJECT, a->code, a->dsn, a->text);
	else if (a->action == VERIFY_TEMPFAIL)
		status = refuse(fc, MILTER_TEMPFAIL, a->code, a->dsn, a->text);
done:
	answer_release(a);
	message_done(fc);
	return status;
}

/* --- steps in fibers --------------------------------------------------------------- */

/* The outcome (about 9 KB) is on the heap, not the fiber's stack: a
 * stack keeps its deepest use for as long as it is pooled, so 500
 * sessions would hold that much each all the time. */
static void end_of_message(struct filter_conn *fc)
{
	const struct milter_context *mc = context(fc);
	struct message *m = fc->m;
	struct verify_outcome *o = xcalloc(1, sizeof(*o));

	if (m->outbound) {
		const char *values[DKIM_SIGN_MAX_KEYS];
		size_t count;

		outbound_end(mc, m, o, values, &count);
		if (o->action == VERIFY_ACCEPT)
			trusted_record(mc, m);
		metric_inc(count > 0 ? mc->signed_messages : mc->unsigned_messages);
		finish_message(mc, &fc->conn, m, o, values, o->action == VERIFY_ACCEPT ? count : 0,
			       &fc->answer);
	} else {
		inbound_end(mc, &fc->conn, m, o);
		finish_message(mc, &fc->conn, m, o, NULL, 0, &fc->answer);
	}
	free(o);
}

static void step_main(void *arg)
{
	struct filter_conn *fc = arg;

	if (fc->step == STEP_RCPT)
		fc->rcpt_verdict = inbound_rcpt(context(fc), &fc->conn, fc->m, fc->rcpt, &fc->reply);
	else
		end_of_message(fc);
}

static void conn_free(struct filter_conn *fc)
{
	if (fc->m != NULL)
		message_done(fc);
	answer_release(&fc->answer);
	event_free(fc->wake);
	free(fc);
}

/* The fiber ended: its answer goes out (or, the session gone, nowhere). */
static enum milter_status step_ended(struct filter_conn *fc)
{
	fiber_release(&fc->fiber);
	if (fc->gone) {
		conn_free(fc);
		return MILTER_CONTINUE;
	}
	return fc->step == STEP_RCPT ? rcpt_answer(fc) : end_answer(fc);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct filter_conn *fc = arg;
	bool gone = fc->gone;
	enum milter_status status;

	if (fc->fiber == NULL)
		return;
	fiber_resume(fc->fiber);
	if (!fiber_ended(fc->fiber))
		return;
	status = step_ended(fc);
	if (!gone)
		milter_session_answer(fc->s, status);
}

static void wake(void *arg)
{
	struct filter_conn *fc = arg;

	event_active(fc->wake, EV_TIMEOUT, 0);
}

static enum milter_status run_step(struct filter_conn *fc, enum step step)
{
	fc->step = step;
	fc->fiber = fiber_new(fc->loop->fibers, step_main, fc);
	if (fc->fiber == NULL)
		return internal_error(fc, "no memory for a fiber");
	fiber_set_waker(fc->fiber, wake, fc);
	fiber_resume(fc->fiber);
	if (!fiber_ended(fc->fiber))
		return MILTER_PENDING;
	return step_ended(fc);
}

/* --- the session's events ---------------------------------------------------------- */

static void *on_open(struct milter_session *s, void *arg)
{
	struct filter_loop *loop = arg;
	struct filter_conn *fc = xcalloc(1, sizeof(*fc));

	fc->loop = loop;
	fc->s = s;
	fc->wake = event_new(loop->wait.base, -1, 0, on_wake, fc);
	snprintf(fc->conn.client_name, sizeof(fc->conn.client_name), "unknown");
	return fc;
}

static void on_close(void *ctx)
{
	struct filter_conn *fc = ctx;

	if (fc->fiber != NULL) {	/* it ends (and frees fc) once woken */
		fc->gone = true;
		fiber_cancel(fc->fiber);
		wake(fc);
		return;
	}
	conn_free(fc);
}

static enum milter_status on_connect(void *ctx, const struct milter_client *client)
{
	struct filter_conn *fc = ctx;
	struct connection *c = &fc->conn;
	const char *address = client->address;

	snprintf(c->client_name, sizeof(c->client_name), "%s", client->hostname);
	c->have_client = false;
	c->client_text[0] = '\0';
	if (client->family == SMFIA_INET || client->family == SMFIA_INET6) {
		if (strncasecmp(address, "IPv6:", 5) == 0)	/* as Sendmail writes it */
			address += 5;
		snprintf(c->client_text, sizeof(c->client_text), "%s", address);
		c->have_client = ip_parse(c->client_text, &c->client) == 0;
	}
	c->internal = c->have_client &&
		cidr_list_contains(&context(fc)->settings->internal_networks, &c->client);
	return MILTER_CONTINUE;
}

static enum milter_status on_helo(void *ctx, const char *name)
{
	struct filter_conn *fc = ctx;

	snprintf(fc->conn.helo, sizeof(fc->conn.helo), "%s", name);
	return MILTER_CONTINUE;
}

/* An address without its angle brackets. */
static void bare_address(const char *arg, char *out, size_t outlen)
{
	size_t len = strlen(arg);

	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>')
		snprintf(out, outlen, "%.*s", (int)(len - 2), arg + 1);
	else
		snprintf(out, outlen, "%s", arg);
}

static void copy_macro(const struct filter_conn *fc, const char *name, char *out, size_t outlen)
{
	const char *v = milter_session_macro(fc->s, name);

	snprintf(out, outlen, "%s", v != NULL ? v : "");
}

static enum milter_status on_mail(void *ctx, const char *const *args, size_t count)
{
	struct filter_conn *fc = ctx;
	const struct milter_context *mc = context(fc);
	struct inbound_reply reply;
	struct message *m;

	if (fc->m != NULL)
		message_done(fc);
	if (fc->loop->engine != NULL && milter_engine_memory_full(fc->loop->engine))
		return refuse(fc, MILTER_TEMPFAIL, "451", "4.3.2",
			      "Too busy just now (memory), please try again later");
	m = fc->m = message_new();
	m->started_ns = clock_monotonic_ns();
	bare_address(args[0], m->mail_from, sizeof(m->mail_from));
	copy_macro(fc, "{auth_authen}", m->auth_user, sizeof(m->auth_user));
	copy_macro(fc, "i", m->queue_id, sizeof(m->queue_id));
	m->outbound = m->auth_user[0] != '\0' || fc->conn.internal;
	m->tables = tables_get();
	if (!m->outbound && !inbound_mail(mc, &fc->conn, m, &reply)) {
		message_done(fc);
		return refuse(fc, MILTER_REJECT, reply.code, reply.dsn, reply.text);
	}
	return MILTER_CONTINUE;
}

static enum milter_status on_rcpt(void *ctx, const char *const *args, size_t count)
{
	struct filter_conn *fc = ctx;
	struct message *m = fc->m;

	if (m == NULL)
		return MILTER_CONTINUE;
	m->recipients++;
	bare_address(args[0], fc->rcpt, sizeof(fc->rcpt));
	if (m->queue_id[0] == '\0')
		copy_macro(fc, "i", m->queue_id, sizeof(m->queue_id));
	if (m->outbound) {
		if (context(fc)->store != NULL && m->rcpt_count < MESSAGE_RCPTS_MAX)
			message_list_add(&m->rcpts, &m->rcpt_count, &m->rcpt_cap, fc->rcpt);
		return MILTER_CONTINUE;
	}
	if (m->tables != NULL && tables_is_forwarded(m->tables, fc->rcpt))
		m->forwarded = true;
	if (context(fc)->store == NULL)
		return MILTER_CONTINUE;	/* neither greylisting nor reputation */
	return run_step(fc, STEP_RCPT);
}

static enum milter_status on_header(void *ctx, const char *name, const char *value)
{
	struct filter_conn *fc = ctx;

	if (fc->m == NULL)
		return MILTER_CONTINUE;
	account(fc, (long long)(strlen(name) + strlen(value) + 64));
	if (fc->m->outbound)
		message_add_header(fc->m, name, value);
	else
		inbound_header(fc->m, name, value);
	return MILTER_CONTINUE;
}

static enum milter_status on_end_of_headers(void *ctx)
{
	struct filter_conn *fc = ctx;
	const struct milter_context *mc = context(fc);

	if (fc->m == NULL)
		return MILTER_CONTINUE;
	if (fc->m->outbound) {
		message_plan_edits(fc->m, mc->authserv_id);	/* before the signer reads them */
		outbound_begin(mc, fc->m);
	} else {
		inbound_headers_end(mc, fc->m);
	}
	return MILTER_CONTINUE;
}

static enum milter_status on_body(void *ctx, const char *data, size_t len)
{
	struct filter_conn *fc = ctx;

	if (fc->m != NULL && fc->m->outbound)
		outbound_body(fc->m, data, len);
	else if (fc->m != NULL)
		inbound_body(fc->m, data, len);
	return MILTER_CONTINUE;
}

static enum milter_status on_end_of_message(void *ctx)
{
	struct filter_conn *fc = ctx;

	if (fc->m == NULL)
		return internal_error(fc, "end of message without a message");
	if (fc->m->queue_id[0] == '\0')	/* Postfix names the queue file late */
		copy_macro(fc, "i", fc->m->queue_id, sizeof(fc->m->queue_id));
	return run_step(fc, STEP_END);
}

static void on_abort(void *ctx)
{
	struct filter_conn *fc = ctx;

	if (fc->m != NULL)
		message_done(fc);
}

const struct milter_filter milter_filter = {
	.open = on_open,
	.close = on_close,
	.connect = on_connect,
	.helo = on_helo,
	.mail = on_mail,
	.rcpt = on_rcpt,
	.header = on_header,
	.end_of_headers = on_end_of_headers,
	.body = on_body,
	.end_of_message = on_end_of_message,
	.abort = on_abort,
	/* forged fields must go: a MTA that will not let us delete is refused */
	.actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.never_refuses = MILTER_COMMAND_BIT(SMFIC_CONNECT) | MILTER_COMMAND_BIT(SMFIC_HELO) |
			 MILTER_COMMAND_BIT(SMFIC_DATA) | MILTER_COMMAND_BIT(SMFIC_UNKNOWN) |
			 MILTER_COMMAND_BIT(SMFIC_HEADER) | MILTER_COMMAND_BIT(SMFIC_EOH) |
			 MILTER_COMMAND_BIT(SMFIC_BODY),
};
