/*
 * test_milter_session.c - the milter protocol's state machine, driven by
 * the byte sequences Postfix sends, with a filter that records what it is
 * told and answers as each test says.
 */
#include "autoconfig.h"

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <stdio.h>

#include "milter/session.h"
#include "unit.h"

/* --- a recording filter ----------------------------------------------------------------- */

struct recorder {
	struct milter_session *s;
	char log[2048];
	enum milter_status rcpt_answer, mail_answer;
	bool modify_at_eom;
	int closed;
};

static void note(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(void *ctx, const char *fmt, ...)
{
	struct recorder *r = ctx;
	size_t used = strlen(r->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->log + used, sizeof(r->log) - used, fmt, ap);
	va_end(ap);
}

static void *rec_open(struct milter_session *s, void *arg)
{
	struct recorder *r = arg;

	r->s = s;
	return r;
}

static void rec_close(void *ctx)
{
	((struct recorder *)ctx)->closed++;
}

static enum milter_status rec_connect(void *ctx, const struct milter_client *c)
{
	note(ctx, "connect(%s,%s) ", c->hostname, c->address);
	return MILTER_CONTINUE;
}

static enum milter_status rec_helo(void *ctx, const char *name)
{
	note(ctx, "helo(%s) ", name);
	return MILTER_CONTINUE;
}

static enum milter_status rec_mail(void *ctx, const char *const *args, size_t n)
{
	struct recorder *r = ctx;
	const char *auth = milter_session_macro(r->s, "{auth_authen}");

	note(r, "mail(%s,auth=%s) ", args[0], auth ? auth : "-");
	return r->mail_answer;
}

static enum milter_status rec_rcpt(void *ctx, const char *const *args, size_t n)
{
	struct recorder *r = ctx;

	note(r, "rcpt(%s) ", args[0]);
	if (r->rcpt_answer == MILTER_TEMPFAIL)
		milter_session_set_reply(r->s, "451", "4.7.1", "Greylisted\nTry later");
	return r->rcpt_answer;
}

static enum milter_status rec_header(void *ctx, const char *name, const char *value)
{
	note(ctx, "header(%s:%s) ", name, value);
	return MILTER_CONTINUE;
}

static enum milter_status rec_eoh(void *ctx)
{
	note(ctx, "eoh ");
	return MILTER_CONTINUE;
}

static enum milter_status rec_body(void *ctx, const char *data, size_t len)
{
	char text[64];

	snprintf(text, sizeof(text), "%.*s", (int)len, data);
	note(ctx, "body(%s) ", text);
	return MILTER_CONTINUE;
}

static enum milter_status rec_eom(void *ctx)
{
	struct recorder *r = ctx;
	const char *i = milter_session_macro(r->s, "i");
	const char *auth = milter_session_macro(r->s, "auth_authen");

	note(r, "eom(i=%s,auth=%s) ", i ? i : "-", auth ? auth : "-");
	if (r->modify_at_eom) {
		assert_int_equal(milter_session_insert_header(r->s, 0, "Authentication-Results",
							      " mx; none"), 0);
		assert_int_equal(milter_session_change_header(r->s, "X-Spam-Status", 2, NULL), 0);
		assert_int_equal(milter_session_add_header(r->s, "Bad Name", " x"), -1);
	}
	return MILTER_ACCEPT;
}

static void rec_abort(void *ctx)
{
	note(ctx, "abort ");
}

static const struct milter_filter recording_filter = {
	.open = rec_open, .close = rec_close, .connect = rec_connect, .helo = rec_helo,
	.mail = rec_mail, .rcpt = rec_rcpt, .header = rec_header, .end_of_headers = rec_eoh,
	.body = rec_body, .end_of_message = rec_eom, .abort = rec_abort,
	.actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.never_refuses = MILTER_COMMAND_BIT(SMFIC_CONNECT) | MILTER_COMMAND_BIT(SMFIC_HELO) |
			 MILTER_COMMAND_BIT(SMFIC_HEADER) | MILTER_COMMAND_BIT(SMFIC_EOH) |
			 MILTER_COMMAND_BIT(SMFIC_BODY),
};

/* --- packets as Postfix sends them -------------------------------------------------------- */

static void packet(struct strbuf *b, char code, const char *data, size_t len)
{
	unsigned char h[5] = { (len + 1) >> 24 & 0xff, (len + 1) >> 16 & 0xff,
			       (len + 1) >> 8 & 0xff, (len + 1) & 0xff, (unsigned char)code };

	strbuf_append(b, h, sizeof(h));
	strbuf_append(b, data, len);
}
#define PKT(b, code, lit) packet(b, code, lit, sizeof(lit) - 1)
#define LIT(s) s, sizeof(s) - 1

static void optneg(struct strbuf *b, uint32_t protocol)
{
	unsigned char d[12] = { 0, 0, 0, 6, 0, 0, 0x01, 0xff };

	d[8] = protocol >> 24 & 0xff;
	d[9] = protocol >> 16 & 0xff;
	d[10] = protocol >> 8 & 0xff;
	d[11] = protocol & 0xff;
	packet(b, SMFIC_OPTNEG, (const char *)d, sizeof(d));
}

static void envelope(struct strbuf *b)
{
	PKT(b, SMFIC_MACRO, "Cj\0mx.example\0");
	PKT(b, SMFIC_CONNECT, "mail.example\0" "4\0\x19" "192.0.2.7\0");
	PKT(b, SMFIC_HELO, "mail.example\0");
	PKT(b, SMFIC_MACRO, "M{auth_authen}\0alice\0");
	PKT(b, SMFIC_MAIL, "<a@example.org>\0SIZE=10\0");
	PKT(b, SMFIC_RCPT, "<b@example.net>\0");
}

static void content(struct strbuf *b)
{
	PKT(b, SMFIC_HEADER, "Subject\0 hi\0");
	PKT(b, SMFIC_EOH, "");
	PKT(b, SMFIC_BODY, "Hello.\r\n");
	PKT(b, SMFIC_MACRO, "Ei\0QID1\0");
	PKT(b, SMFIC_BODYEOB, "");
}

/* The reply codes in out, one character each ("O" for OPTNEG). */
static void reply_codes(const struct strbuf *out, char *codes, size_t len)
{
	size_t at = 0, n = 0;

	while (at < out->len && n + 1 < len) {
		struct milter_command c;
		ssize_t got = milter_command_parse(out->data + at, out->len - at, &c);

		assert_true(got > 0);
		codes[n++] = c.code;
		at += (size_t)got;
	}
	codes[n] = '\0';
}

static ssize_t feed(struct milter_session *s, const struct strbuf *in)
{
	return milter_session_input(s, in->data, in->len);
}

/* --- tests --------------------------------------------------------------------------------- */

static void test_negotiation(void **state)
{
	struct recorder r = { 0 };
	struct milter_session *s = milter_session_new(&recording_filter, &r);
	struct strbuf in = STRBUF_INIT;
	struct milter_command c;
	struct milter_optneg got;

	optneg(&in, SMFI_CURR_PROT);
	assert_int_equal(feed(s, &in), (ssize_t)in.len);
	assert_int_equal(milter_command_parse(milter_session_output(s)->data,
					      milter_session_output(s)->len, &c), 17);
	assert_int_equal(milter_optneg_parse(&c, &got), 0);
	assert_int_equal(got.version, 6);
	assert_int_equal(got.actions, SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
	assert_int_equal(got.protocol, SMFIP_HDR_LEADSPC | SMFIP_NODATA | SMFIP_NOUNKNOWN |
			 SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY);
	milter_session_free(&s);
	assert_null(s);
	assert_int_equal(r.closed, 1);
	strbuf_release(&in);
}

static void test_negotiation_refused(void **state)
{
	struct recorder r = { 0 };
	struct milter_session *s = milter_session_new(&recording_filter, &r);
	struct strbuf in = STRBUF_INIT;

	optneg(&in, SMFI_CURR_PROT & ~SMFIP_HDR_LEADSPC);
	assert_int_equal(feed(s, &in), -1);
	assert_non_null(strstr(milter_session_error(s), "LEADSPC"));
	milter_session_free(&s);
	strbuf_reset(&in);
	s = milter_session_new(&recording_filter, &r);
	PKT(&in, SMFIC_CONNECT, "h\0U");
	assert_int_equal(feed(s, &in), -1);	/* no negotiation first */
	milter_session_free(&s);
	strbuf_release(&in);
}

static void test_whole_message(void **state)
{
	struct recorder r = { .modify_at_eom = true };
	struct milter_session *s = milter_session_new(&recording_filter, &r);
	struct strbuf in = STRBUF_INIT;
	char codes[32];

	optneg(&in, SMFI_CURR_PROT);
	envelope(&in);
	PKT(&in, SMFIC_DATA, "");	/* sent although NODATA was asked: answered */
	content(&in);
	assert_int_equal(feed(s, &in), (ssize_t)in.len);
	assert_string_equal(r.log, "connect(mail.example,192.0.2.7) helo(mail.example) "
			    "mail(<a@example.org>,auth=alice) rcpt(<b@example.net>) "
			    "header(Subject: hi) eoh body(Hello.\r\n) eom(i=QID1,auth=alice) ");
	/* OPTNEG; MAIL, RCPT, DATA continue; no replies for the NR commands;
	 * the modifications, then accept */
	reply_codes(milter_session_output(s), codes, sizeof(codes));
	assert_string_equal(codes, "Occcima");
	milter_session_free(&s);
	strbuf_release(&in);
}

static void test_pending_rcpt(void **state)
{
	struct recorder r = { .rcpt_answer = MILTER_PENDING };
	struct milter_session *s = milter_session_new(&recording_filter, &r);
	struct strbuf in = STRBUF_INIT, *out = milter_session_output(s);
	ssize_t used;
	char codes[32];

	optneg(&in, SMFI_CURR_PROT);
	envelope(&in);
	size_t before_content = in.len;
	content(&in);
	used = feed(s, &in);
	assert_int_equal(used, (ssize_t)before_content);	/* stops at the pending RCPT */
	assert_true(milter_session_pending(s));
	assert_int_equal(feed(s, &in) , 0);
	milter_session_set_reply(s, "451", "4.7.1", "Greylisted");
	milter_session_answer(s, MILTER_TEMPFAIL);
	assert_false(milter_session_pending(s));
	reply_codes(out, codes, sizeof(codes));
	assert_string_equal(codes, "Ocy");
	assert_non_null(memmem(out->data, out->len, "451 4.7.1 Greylisted", 20));
	/* the recipient was refused, the message goes on */
	assert_int_equal(milter_session_input(s, in.data + used, in.len - (size_t)used),
			 (ssize_t)(in.len - (size_t)used));
	assert_non_null(strstr(r.log, "eom(i=QID1,auth=alice)"));
	milter_session_free(&s);
	strbuf_release(&in);
}

static void test_multiline_reply(void **state)
{
	struct recorder r = { .rcpt_answer = MILTER_TEMPFAIL };
	struct milter_session *s = milter_session_new(&recording_filter, &r);
	struct strbuf in = STRBUF_INIT, *out = milter_session_output(s);

	optneg(&in, SMFI_CURR_PROT);
	envelope(&in);
	assert_int_equal(feed(s, &in), (ssize_t)in.len);
	static const char want[] = "451-4.7.1 Greylisted\r\n451 4.7.1 Try later";

	assert_non_null(memmem(out->data, out->len, want, sizeof(want)));	/* with its NUL */
	milter_session_free(&s);
	strbuf_release(&in);
}

static void test_refused_sender_ends_message(void **state)
{
	struct recorder r = { .mail_answer = MILTER_REJECT };
	struct milter_session *s = milter_session_new(&recording_filter, &r);
	struct strbuf in = STRBUF_INIT;
	char codes[32];

	optneg(&in, SMFI_CURR_PROT);
	envelope(&in);		/* its RCPT comes after the refused MAIL */
	assert_int_equal(feed(s, &in), -1);
	assert_non_null(strstr(milter_session_error(s), "out of order"));
	assert_non_null(strstr(r.log, "mail(<a@example.org>,auth=alice) abort"));
	reply_codes(milter_session_output(s), codes, sizeof(codes));
	assert_string_equal(codes, "Or");
	milter_session_free(&s);
	strbuf_release(&in);
}

static void test_abort_and_next_message(void **state)
{
	struct recorder r = { 0 };
	struct milter_session *s = milter_session_new(&recording_filter, &r);
	struct strbuf in = STRBUF_INIT;

	optneg(&in, SMFI_CURR_PROT);
	envelope(&in);
	PKT(&in, SMFIC_ABORT, "");
	PKT(&in, SMFIC_MAIL, "<c@example.org>\0");	/* no MAIL macros this time */
	PKT(&in, SMFIC_MAIL, "<d@example.org>\0");	/* a second MAIL ends the first */
	assert_int_equal(feed(s, &in), (ssize_t)in.len);
	assert_non_null(strstr(r.log, "rcpt(<b@example.net>) abort mail(<c@example.org>,auth=-) "
			       "abort mail(<d@example.org>,auth=-)"));
	milter_session_free(&s);
	strbuf_release(&in);
}

static void test_quit(void **state)
{
	struct recorder r = { 0 };
	struct milter_session *s = milter_session_new(&recording_filter, &r);
	struct strbuf in = STRBUF_INIT;

	optneg(&in, SMFI_CURR_PROT);
	envelope(&in);
	PKT(&in, SMFIC_QUIT_NC, "");
	PKT(&in, SMFIC_CONNECT, "second.example\0U");
	PKT(&in, SMFIC_QUIT, "");
	PKT(&in, SMFIC_HELO, "never.example\0");
	assert_int_equal(feed(s, &in), -1);
	assert_true(milter_session_done(s));
	assert_non_null(strstr(r.log, "abort connect(second.example,) "));
	assert_null(strstr(r.log, "never"));
	milter_session_free(&s);
	strbuf_release(&in);
}

static const struct {
	const char *in;
	size_t len;
	const char *why;
} out_of_order[] = {
	{ LIT("\0\0\0\x0cLSubject\0 x\0"), "a header before MAIL" },
	{ LIT("\0\0\0\1N"), "EOH before MAIL" },
	{ LIT("\0\0\0\5Bbody"), "a body before EOH" },
	{ LIT("\0\0\0\1E"), "EOM before MAIL" },
	{ LIT("\0\0\0\4Rx@y"), "RCPT before MAIL, unterminated too" },
	{ LIT("\0\0\0\1Z"), "an unknown command" },
	{ LIT("\0\0\0\x0dO\0\0\0\6\0\0\1\xff\0\x1f\xff\xff"), "negotiation twice" },
	{ LIT("\0\0\0\2Cx"), "a second CONNECT, malformed" },
};

static void test_out_of_order_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(out_of_order); i++) {
		struct recorder r = { 0 };
		struct milter_session *s = milter_session_new(&recording_filter, &r);
		struct strbuf in = STRBUF_INIT;

		optneg(&in, SMFI_CURR_PROT);
		PKT(&in, SMFIC_CONNECT, "h\0U");
		strbuf_append(&in, out_of_order[i].in, out_of_order[i].len);
		if (feed(s, &in) != -1)
			fail_msg("case %zu (%s): accepted", i, out_of_order[i].why);
		milter_session_free(&s);
		strbuf_release(&in);
	}
}

static void test_modifications_only_at_eom(void **state)
{
	struct recorder r = { 0 };
	struct milter_session *s = milter_session_new(&recording_filter, &r);

	assert_int_equal(milter_session_add_header(s, "X-A", " b"), -1);
	assert_int_equal(milter_session_quarantine(s, "why"), -1);
	milter_session_free(&s);
}

static void test_macro_limit(void **state)
{
	struct recorder r = { 0 };
	struct milter_session *s = milter_session_new(&recording_filter, &r);
	struct strbuf in = STRBUF_INIT, big = STRBUF_INIT;

	optneg(&in, SMFI_CURR_PROT);
	strbuf_append(&big, "Cn\0", 3);
	for (size_t i = 0; i < MILTER_MACRO_BYTES_MAX; i++)
		strbuf_append_char(&big, 'x');
	strbuf_append_char(&big, '\0');
	packet(&in, SMFIC_MACRO, big.data, big.len);
	assert_int_equal(feed(s, &in), -1);
	assert_non_null(strstr(milter_session_error(s), "size limit"));
	milter_session_free(&s);
	strbuf_release(&in);
	strbuf_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_negotiation_refused),
		cmocka_unit_test(test_whole_message),
		cmocka_unit_test(test_pending_rcpt),
		cmocka_unit_test(test_multiline_reply),
		cmocka_unit_test(test_refused_sender_ends_message),
		cmocka_unit_test(test_abort_and_next_message),
		cmocka_unit_test(test_quit),
		cmocka_unit_test(test_out_of_order_table),
		cmocka_unit_test(test_modifications_only_at_eom),
		cmocka_unit_test(test_macro_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
