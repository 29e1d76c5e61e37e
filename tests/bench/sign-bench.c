/*
 * sign-bench.c - DKIM signing in process: our signer (mailauth/dkim_sign.c)
 * next to libopendkim's, on the same messages with the same key.
 *
 *   sign-bench --impl ours|opendkim --key SELECTOR:KEYFILE --domain D
 *              [--seconds N] MESSAGE...
 *   sign-bench --list            the signers it has: "ours", "ours opendkim"
 *
 * libopendkim is only there when configure found libopendkim-dev
 * (HAVE_OPENDKIM): nothing else in the suite uses it any more.
 *
 * Each message is read and split into header fields and body once; then
 * for the given time, round robin over the messages, a signer is made,
 * fed the fields and the body in 64 KiB chunks (as libmilter hands them
 * over), asked for its DKIM-Signature and freed. Both sign relaxed/relaxed
 * with the same signed and oversigned header lists (ours by default).
 * Prints one line: "signed=N seconds=S rate=R mbytes=M".
 */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if HAVE_OPENDKIM
#include <opendkim/dkim.h>
#endif

#include "common/clock.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/dkim_sign.h"
#include "mailauth/msgsplit.h"

#define MAX_MESSAGES 64
#define MAX_FIELDS 256
#define CHUNK 65535

struct field {
	char *name, *value;	/* for us: as libmilter gives them */
	char *raw;		/* for libopendkim: "Name:value" */
};

struct message {
	struct field fields[MAX_FIELDS];
	size_t count;
	const char *body;
	size_t body_len, size;
	char *data;
};

struct bench {
	const char *impl, *domain, *selector, *key_path;
	double seconds;
	struct message msgs[MAX_MESSAGES];
	size_t msg_count;
	struct dkim_signkey *key;		/* ours */
	char *key_pem;			/* libopendkim's */
#if HAVE_OPENDKIM
	DKIM_LIB *odkim;
#endif
};

static void on_field(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct message *m = ctx;
	if (m->count == MAX_FIELDS) {
		fprintf(stderr, "sign-bench: more than %d header fields\n", MAX_FIELDS);
		exit(2);
	}
	struct field *f = &m->fields[m->count++];
	f->name = xstrndup(name, name_len);
	f->value = xstrndup(value, value_len);
	struct strbuf raw = STRBUF_INIT;
	strbuf_appendf(&raw, "%s:%s", f->name, f->value);
	f->raw = strbuf_detach(&raw);
}

static char *read_file(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t n;

	if (fp == NULL) {
		perror(path);
		exit(2);
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(&sb, buf, n);
	fclose(fp);
	*len_r = sb.len;
	return strbuf_detach(&sb);
}

static void load_message(struct bench *b, const char *path)
{
	struct message *m = &b->msgs[b->msg_count++];
	size_t len;

	m->data = read_file(path, &len);
	size_t body = msgsplit(m->data, len, on_field, m);
	m->body = m->data + body;
	m->body_len = len - body;
	m->size = len;
}

/* ---- ours ---- */

static int sign_ours(struct bench *b, const struct message *m)
{
	struct dkim_sign_key k = { b->key, b->selector };
	struct dkim_sign_options o = { .domain = b->domain, .keys = &k, .key_count = 1 };
	const char *values[DKIM_SIGN_MAX_KEYS], *why;
	char err[256];
	struct dkim_sign *s = dkim_sign_new(&o, err, sizeof(err));
	int ret;

	for (size_t i = 0; i < m->count; i++)
		dkim_sign_header(s, m->fields[i].name, m->fields[i].value);
	for (size_t off = 0; off < m->body_len; off += CHUNK)
		dkim_sign_body(s, m->body + off, m->body_len - off < CHUNK ? m->body_len - off : CHUNK);
	ret = dkim_sign_end(s, values, &why);
	dkim_sign_free(&s);
	return ret;
}

/* ---- libopendkim ---- */

#if HAVE_OPENDKIM
#define IMPLS "ours opendkim"

static void setup_opendkim(struct bench *b)
{
	/* the same lists as ours; NULL-terminated for libopendkim */
	const char **sign = xcalloc(dkim_sign_default_header_count + 1, sizeof(*sign));
	const char **over = xcalloc(dkim_sign_default_oversign_count + 1, sizeof(*over));
	memcpy(sign, dkim_sign_default_headers, dkim_sign_default_header_count * sizeof(*sign));
	memcpy(over, dkim_sign_default_oversign, dkim_sign_default_oversign_count * sizeof(*over));
	b->odkim = dkim_init(NULL, NULL);
	if (b->odkim == NULL ||
	    dkim_options(b->odkim, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, sign, sizeof(sign)) != DKIM_STAT_OK ||
	    dkim_options(b->odkim, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, over, sizeof(over)) != DKIM_STAT_OK) {
		fprintf(stderr, "sign-bench: libopendkim setup failed\n");
		exit(2);
	}
	size_t len;
	b->key_pem = read_file(b->key_path, &len);
	free(sign);
	free(over);
}

static int sign_opendkim(struct bench *b, const struct message *m)
{
	DKIM_STAT st;
	dkim_alg_t alg = b->key->alg == DKIM_ALG_ED25519_SHA256 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;
	DKIM *d = dkim_sign(b->odkim, (const u_char *)"bench", NULL, (dkim_sigkey_t)b->key_pem,
			    (const u_char *)b->selector, (const u_char *)b->domain,
			    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, alg, -1, &st);
	unsigned char *hdr = NULL;
	size_t hdr_len = 0;
	int ok = d != NULL;

	for (size_t i = 0; ok && i < m->count; i++)
		ok = dkim_header(d, (u_char *)m->fields[i].raw, strlen(m->fields[i].raw)) == DKIM_STAT_OK;
	ok = ok && dkim_eoh(d) == DKIM_STAT_OK;
	for (size_t off = 0; ok && off < m->body_len; off += CHUNK)
		ok = dkim_body(d, (u_char *)(uintptr_t)(m->body + off),
			       m->body_len - off < CHUNK ? m->body_len - off : CHUNK) == DKIM_STAT_OK;
	ok = ok && dkim_eom(d, NULL) == DKIM_STAT_OK &&
	     dkim_getsighdr_d(d, strlen("DKIM-Signature: "), &hdr, &hdr_len) == DKIM_STAT_OK;
	if (d != NULL)
		dkim_free(d);
	return ok ? 0 : -1;
}
#else
#define IMPLS "ours"

static void setup_opendkim(struct bench *b)
{
	fprintf(stderr, "sign-bench: built without libopendkim (install libopendkim-dev, "
		"then run configure again)\n");
	exit(3);
}

static int sign_opendkim(struct bench *b, const struct message *m)
{
	return -1;
}
#endif

/* ---- the run ---- */

static void parse_args(int argc, char **argv, struct bench *b)
{
	static const struct option longopts[] = {
		{ "impl", required_argument, NULL, 'i' }, { "key", required_argument, NULL, 'k' },
		{ "domain", required_argument, NULL, 'd' }, { "seconds", required_argument, NULL, 's' },
		{ "list", no_argument, NULL, 'l' }, { NULL, 0, NULL, 0 },
	};
	int c;

	b->seconds = 3;
	while ((c = getopt_long(argc, argv, "i:k:d:s:l", longopts, NULL)) != -1) {
		char *colon;
		switch (c) {
		case 'l':
			printf("%s\n", IMPLS);
			exit(0);
		case 'i': b->impl = optarg; break;
		case 'd': b->domain = optarg; break;
		case 's': b->seconds = atof(optarg); break;
		case 'k':
			if ((colon = strchr(optarg, ':')) == NULL)
				exit(2);
			*colon = '\0';
			b->selector = optarg;
			b->key_path = colon + 1;
			break;
		default: exit(2);
		}
	}
	if (b->impl == NULL || b->key_path == NULL || b->domain == NULL || optind == argc ||
	    argc - optind > MAX_MESSAGES) {
		fprintf(stderr, "usage: sign-bench --impl ours|opendkim --key SEL:FILE --domain D "
			"[--seconds N] MESSAGE...\n");
		exit(2);
	}
	for (int i = optind; i < argc; i++)
		load_message(b, argv[i]);
}

int main(int argc, char **argv)
{
	static struct bench b;
	char err[512];
	bool ours;
	unsigned long signed_count = 0;
	double bytes = 0;

	parse_args(argc, argv, &b);
	ours = strcmp(b.impl, "ours") == 0;
	if (dkim_signkey_load(b.key_path, 0, &b.key, err, sizeof(err)) < 0) {
		fprintf(stderr, "sign-bench: %s\n", err);
		return 2;
	}
	if (!ours)
		setup_opendkim(&b);
	int64_t start = clock_monotonic_ns(), limit = (int64_t)(b.seconds * 1e9), now;
	do {
		for (int batch = 0; batch < 8; batch++) {
			const struct message *m = &b.msgs[signed_count % b.msg_count];
			if ((ours ? sign_ours(&b, m) : sign_opendkim(&b, m)) < 0) {
				fprintf(stderr, "sign-bench: %s failed to sign\n", b.impl);
				return 1;
			}
			signed_count++;
			bytes += (double)m->size;
		}
		now = clock_monotonic_ns();
	} while (now - start < limit);
	double secs = (double)(now - start) / 1e9;
	printf("signed=%lu seconds=%.3f rate=%.1f mbytes=%.1f\n", signed_count, secs,
	       (double)signed_count / secs, bytes / 1e6 / secs);
	return 0;
}
