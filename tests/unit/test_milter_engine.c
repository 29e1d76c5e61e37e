/*
 * test_milter_engine.c - the engine end to end on a unix socket: two event
 * loops, a filter that answers RCPT later (from a timer, as it would from
 * a DNS answer), several clients at once, a peer that trickles a packet a
 * byte at a time, and a stop by SIGTERM that lets a message in progress
 * finish.
 */
#include "autoconfig.h"

#include <event2/event.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "milter/engine.h"
#include "unit.h"

/* --- a filter that greylists every recipient after 20 ms ------------------------------ */

struct later {
	struct milter_session *s;
	struct event *timer;
};

static void *f_setup(struct event_base *base, size_t index, void *arg)
{
	return base;
}

static void *f_open(struct milter_session *s, void *base)
{
	struct later *l = calloc(1, sizeof(*l));

	l->s = s;
	l->timer = evtimer_new(base, NULL, NULL);
	return l;
}

static void f_close(void *ctx)
{
	struct later *l = ctx;

	event_free(l->timer);	/* a pending answer is cancelled with it */
	free(l);
}

static void answer_later(evutil_socket_t fd, short what, void *arg)
{
	struct later *l = arg;

	milter_session_set_reply(l->s, "451", "4.7.1", "Greylisted");
	milter_session_answer(l->s, MILTER_TEMPFAIL);
}

static enum milter_status f_rcpt(void *ctx, const char *const *args, size_t n)
{
	struct later *l = ctx;
	struct timeval tv = { 0, 20000 };

	event_assign(l->timer, event_get_base(l->timer), -1, 0, answer_later, l);
	evtimer_add(l->timer, &tv);
	return MILTER_PENDING;
}

static enum milter_status f_eom(void *ctx)
{
	struct later *l = ctx;

	milter_session_insert_header(l->s, 0, "X-Seen", " yes");
	return MILTER_CONTINUE;
}

static const struct milter_filter filter = {
	.open = f_open, .close = f_close, .rcpt = f_rcpt, .end_of_message = f_eom,
	.actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.never_refuses = MILTER_COMMAND_BIT(SMFIC_CONNECT) | MILTER_COMMAND_BIT(SMFIC_HEADER) |
			 MILTER_COMMAND_BIT(SMFIC_BODY) | MILTER_COMMAND_BIT(SMFIC_EOH),
};

/* --- the engine in a thread ------------------------------------------------------------ */

static char sock_path[108];

struct runner {
	struct milter_engine *engine;
	int status;
};

static void *run_engine(void *arg)
{
	struct runner *r = arg;
	char err[200];

	r->status = milter_engine_run(r->engine, NULL, NULL, err, sizeof(err));
	return NULL;
}

static int listen_unix(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sock_path, sizeof(sock_path), "/tmp/test-milter-engine.%d", (int)getpid());
	unlink(sock_path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 64), 0);
	return fd;
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { 5, 0 };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void put(struct strbuf *b, char code, const char *data, size_t len)
{
	unsigned char h[5] = { 0, 0, (len + 1) >> 8 & 0xff, (len + 1) & 0xff, (unsigned char)code };

	strbuf_append(b, h, sizeof(h));
	strbuf_append(b, data, len);
}
#define PUT(b, code, lit) put(b, code, lit, sizeof(lit) - 1)

static void send_all(int fd, const struct strbuf *b, size_t step)
{
	for (size_t at = 0; at < b->len; at += step) {
		size_t n = b->len - at < step ? b->len - at : step;

		assert_int_equal(write(fd, b->data + at, n), (ssize_t)n);
		if (step < b->len)
			usleep(1000);
	}
}

/* Reads replies until one with code last; returns the codes seen. */
static void read_replies(int fd, char last, char *codes, size_t len)
{
	struct strbuf in = STRBUF_INIT;
	size_t n = 0;

	for (;;) {
		struct milter_command c;
		ssize_t used = milter_command_parse(in.data, in.len, &c);

		if (used > 0) {
			codes[n++] = c.code;
			assert_true(n < len);
			strbuf_consume(&in, (size_t)used);
			if (c.code == last)
				break;
			continue;
		}
		char buf[4096];
		ssize_t got = read(fd, buf, sizeof(buf));

		assert_true(got > 0);
		strbuf_append(&in, buf, (size_t)got);
	}
	codes[n] = '\0';
	strbuf_release(&in);
}

static void message(struct strbuf *b)
{
	unsigned char neg[12] = { 0, 0, 0, 6, 0, 0, 0x01, 0xff, 0, 0x1f, 0xff, 0xff };

	put(b, SMFIC_OPTNEG, (const char *)neg, sizeof(neg));
	PUT(b, SMFIC_CONNECT, "client.example\0" "4\0\x19" "192.0.2.1\0");
	PUT(b, SMFIC_HELO, "client.example\0");
	PUT(b, SMFIC_MAIL, "<a@example.org>\0");
	PUT(b, SMFIC_RCPT, "<b@example.net>\0");
}

static void content(struct strbuf *b)
{
	PUT(b, SMFIC_HEADER, "Subject\0 hi\0");
	PUT(b, SMFIC_EOH, "");
	PUT(b, SMFIC_BODY, "Hello.\r\n");
	PUT(b, SMFIC_BODYEOB, "");
}

static void test_engine(void **state)
{
	struct milter_engine_limits limits = { .loops = 2, .max_connections = 10,
					       .idle_timeout_ms = 2000, .shutdown_timeout_ms = 2000,
					       .memory_max = 64 << 20 };
	struct milter_loop_hooks hooks = { .setup = f_setup };
	struct runner r = { .engine = milter_engine_new(&limits, &filter, &hooks) };
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	pthread_t thread;
	char codes[32];
	int fds[4];

	assert_int_equal(milter_engine_add_listener(r.engine, listen_unix()), 0);
	assert_int_equal(pthread_create(&thread, NULL, run_engine, &r), 0);
	usleep(100000);

	message(&a);
	content(&b);
	/* several connections at once; the RCPT answers come from timers */
	for (int i = 0; i < 4; i++) {
		fds[i] = client();
		send_all(fds[i], &a, i == 3 ? 1 : a.len);	/* the last one trickles */
	}
	for (int i = 0; i < 4; i++) {
		read_replies(fds[i], SMFIR_REPLYCODE, codes, sizeof(codes));
		assert_string_equal(codes, "Occy");	/* OPTNEG, HELO, MAIL, RCPT greylisted */
	}
	/* three end their message; a stop closes them at once, while the
	 * fourth, whose message goes on after a refused recipient, finishes */
	strbuf_reset(&a);
	PUT(&a, SMFIC_ABORT, "");
	for (int i = 1; i < 4; i++)
		send_all(fds[i], &a, a.len);
	usleep(50000);
	kill(getpid(), SIGTERM);
	usleep(50000);
	send_all(fds[0], &b, b.len);
	read_replies(fds[0], SMFIR_CONTINUE, codes, sizeof(codes));
	assert_string_equal(codes, "ic");
	pthread_join(thread, NULL);
	assert_int_equal(r.status, 0);
	for (int i = 0; i < 4; i++) {
		char byte;

		assert_int_equal(read(fds[i], &byte, 1), 0);	/* closed by the stop */
		close(fds[i]);
	}
	milter_engine_free(&r.engine);
	unlink(sock_path);
	strbuf_release(&a);
	strbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
