/*
 * lr-dkimsign.c - sign a message with mailauth/dkim_sign.c, for the
 * interoperability tests and by hand.
 *
 *   lr-dkimsign --domain D --key SELECTOR:KEYFILE [--key ...] [--canon C]
 *               [--identity I] [--time T] [--expire SECONDS]
 *               [--headers A:B:...] [--oversign A:B:...|""] < message > signed
 *
 * Reads a whole message (CRLF line ends) on stdin, feeds it to the signer
 * as libmilter would (header fields with their leading space, the body in
 * chunks of 64 KiB), and writes the DKIM-Signature fields, one per key in
 * the order given, followed by the message unchanged. Exit 0 when signed,
 * 1 when the signer refused, 2 on a usage error.
 */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/dkim_sign.h"
#include "mailauth/msgsplit.h"

#define BODY_CHUNK 65535	/* libmilter's MILTER_CHUNK_SIZE */

struct args {
	struct dkim_sign_options options;
	struct dkim_sign_key keys[DKIM_SIGN_MAX_KEYS];
	struct dkim_signkey *loaded[DKIM_SIGN_MAX_KEYS];
	char *headers[DKIM_SIGN_MAX_NAMES + 1], *oversign[DKIM_SIGN_MAX_NAMES + 1];
};

static void usage(void)
{
	fprintf(stderr, "usage: lr-dkimsign --domain D --key SELECTOR:KEYFILE [--key ...] [--canon C]\n"
		"  [--identity I] [--time T] [--expire SECONDS] [--headers A:B] [--oversign A:B] < msg\n");
	exit(2);
}

/* Splits "A:B:C" into list (strings in place); returns the count. */
static size_t split_names(char *s, char **list)
{
	size_t n = 0;

	for (char *tok = strtok(s, ":"); tok != NULL; tok = strtok(NULL, ":")) {
		if (n == DKIM_SIGN_MAX_NAMES) {
			fprintf(stderr, "lr-dkimsign: more than %d header names\n", DKIM_SIGN_MAX_NAMES);
			exit(2);
		}
		list[n++] = tok;
	}
	return n;
}

static void add_key(struct args *a, char *spec)
{
	char *colon = strchr(spec, ':'), err[512];
	size_t i = a->options.key_count;

	if (colon == NULL || i == DKIM_SIGN_MAX_KEYS)
		usage();
	*colon = '\0';
	if (dkim_signkey_load(colon + 1, 0, &a->loaded[i], err, sizeof(err)) < 0) {
		fprintf(stderr, "lr-dkimsign: %s\n", err);
		exit(1);
	}
	a->keys[i] = (struct dkim_sign_key){ a->loaded[i], spec };
	a->options.key_count++;
}

static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' }, { "key", required_argument, NULL, 'k' },
		{ "canon", required_argument, NULL, 'c' }, { "identity", required_argument, NULL, 'i' },
		{ "time", required_argument, NULL, 't' }, { "expire", required_argument, NULL, 'x' },
		{ "headers", required_argument, NULL, 'H' }, { "oversign", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->options.keys = a->keys;
	a->options.crlf = true;
	while ((c = getopt_long(argc, argv, "d:k:c:i:t:x:H:O:", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': a->options.domain = optarg; break;
		case 'k': add_key(a, optarg); break;
		case 'c': a->options.canonicalization = optarg; break;
		case 'i': a->options.identity = optarg; break;
		case 't': a->options.now = strtoll(optarg, NULL, 10); break;
		case 'x': a->options.expire_after = strtoll(optarg, NULL, 10); break;
		case 'H':
			a->options.header_count = split_names(optarg, a->headers);
			a->options.headers = (const char *const *)a->headers;
			break;
		case 'O':
			a->options.oversign_count = split_names(optarg, a->oversign);
			a->options.oversign = (const char *const *)a->oversign;
			break;
		default: usage();
		}
	}
	if (optind != argc || a->options.domain == NULL || a->options.key_count == 0)
		usage();
}

static void on_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);

	dkim_sign_header(ctx, n, v);
	free(n);
	free(v);
}

static void read_all(struct strbuf *msg)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		strbuf_append(msg, buf, (size_t)n);
	if (n < 0) {
		perror("lr-dkimsign: stdin");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct args a;
	struct strbuf msg = STRBUF_INIT;
	const char *values[DKIM_SIGN_MAX_KEYS], *why;
	char err[512];

	memset(&a, 0, sizeof(a));
	parse_args(argc, argv, &a);
	struct dkim_sign *s = dkim_sign_new(&a.options, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "lr-dkimsign: %s\n", err);
		return 1;
	}
	read_all(&msg);
	size_t body = msgsplit(msg.data != NULL ? msg.data : "", msg.len, on_header, s);
	for (size_t off = body; off < msg.len; off += BODY_CHUNK)
		dkim_sign_body(s, msg.data + off, msg.len - off < BODY_CHUNK ? msg.len - off : BODY_CHUNK);
	if (dkim_sign_end(s, values, &why) < 0) {
		fprintf(stderr, "lr-dkimsign: not signed: %s\n", why);
		return 1;
	}
	for (size_t i = 0; i < a.options.key_count; i++)
		printf("DKIM-Signature:%s\r\n", values[i]);
	fwrite(msg.data != NULL ? msg.data : "", 1, msg.len, stdout);
	dkim_sign_free(&s);
	for (size_t i = 0; i < a.options.key_count; i++)
		dkim_signkey_free(&a.loaded[i]);
	strbuf_release(&msg);
	return fflush(stdout) == 0 ? 0 : 1;
}
