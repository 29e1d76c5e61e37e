/*
 * fuzz_milter_session.c - libFuzzer target for a whole milter connection:
 * a byte stream from the MTA (or from whoever reached the socket), fed
 * in pieces of varying size to the session, with a filter that answers
 * some commands later (as the milter does while it waits for DNS or
 * Redis), refuses some and modifies headers at the end of the message.
 *
 * Invariants: no crash and no leak; the session never takes more input
 * than it was given and never reads a byte twice; everything it writes
 * is a well-formed reply packet; nothing is written after an error.
 */
#include "autoconfig.h"

#include <assert.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <string.h>

#include "milter/session.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

struct fuzz_filter {
	struct milter_session *s;
	unsigned calls;
};

static void *f_open(struct milter_session *s, void *arg)
{
	struct fuzz_filter *f = arg;

	f->s = s;
	return f;
}

static enum milter_status decide(struct fuzz_filter *f, const char *text)
{
	size_t n = strlen(text);

	f->calls++;
	if (milter_session_macro(f->s, "i") != NULL)
		f->calls++;
	switch ((n + f->calls) % 5) {
	case 0: return MILTER_PENDING;
	case 1: milter_session_set_reply(f->s, "451", "4.7.1", text); return MILTER_TEMPFAIL;
	case 2: milter_session_set_reply(f->s, "550", "5.7.1", text); return MILTER_REJECT;
	default: return MILTER_CONTINUE;
	}
}

static enum milter_status f_mail(void *ctx, const char *const *args, size_t count)
{
	return decide(ctx, args[count - 1]);
}

static enum milter_status f_header(void *ctx, const char *name, const char *value)
{
	return decide(ctx, value);
}

static enum milter_status f_eom(void *ctx)
{
	struct fuzz_filter *f = ctx;

	milter_session_insert_header(f->s, 0, "Authentication-Results", " mx; none");
	milter_session_change_header(f->s, "Authentication-Results", 1, NULL);
	milter_session_quarantine(f->s, "fuzz");
	return decide(f, "eom");
}

static const struct milter_filter filter = {
	.open = f_open, .mail = f_mail, .rcpt = f_mail, .header = f_header,
	.end_of_message = f_eom,
	.actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.never_refuses = MILTER_COMMAND_BIT(SMFIC_CONNECT) | MILTER_COMMAND_BIT(SMFIC_BODY),
};

static void well_formed(const struct strbuf *out)
{
	size_t at = 0;

	while (at < out->len) {
		struct milter_command c;
		ssize_t n = milter_command_parse(out->data + at, out->len - at, &c);

		assert(n > 0);
		at += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fuzz_filter f = { 0 };
	struct milter_session *s = milter_session_new(&filter, &f);
	struct strbuf pending = STRBUF_INIT;
	size_t fed = 0, step = size > 0 ? (size_t)data[0] % 97 + 1 : 1;

	while (fed < size || pending.len > 0) {
		size_t n = size - fed < step ? size - fed : step;
		ssize_t used;

		strbuf_append(&pending, data + fed, n);
		fed += n;
		used = milter_session_input(s, pending.data, pending.len);
		if (used < 0) {
			size_t before = milter_session_output(s)->len;

			assert(milter_session_input(s, pending.data, pending.len) == -1);
			assert(milter_session_output(s)->len == before);
			break;
		}
		assert((size_t)used <= pending.len);
		strbuf_consume(&pending, (size_t)used);
		if (milter_session_pending(s))
			milter_session_answer(s, f.calls % 2 ? MILTER_CONTINUE : MILTER_TEMPFAIL);
		else if (n == 0)
			break;	/* the rest is an incomplete packet */
	}
	well_formed(milter_session_output(s));
	milter_session_free(&s);
	strbuf_release(&pending);
	return 0;
}
