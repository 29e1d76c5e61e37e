/*
 * lr-dkimverify.c - verify every DKIM signature of a message file with
 * mailauth/dkim_verify.c, for tests/integration/test_dkim_interop.py.
 *
 *   lr-dkimverify [-m MAX] [--sha1-fail] MESSAGE KEYS
 *
 * KEYS holds one key record a line: "SELECTOR._domainkey.DOMAIN TXT-value"
 * (the value as the character-strings joined; the word TEMPFAIL instead
 * makes that lookup fail temporarily). Names not listed are not found.
 * The message is fed the way libmilter would: header fields one by one,
 * then the body in small chunks. Output, one line per signature in header
 * order:
 *
 *   sig=1 result=pass d=example.org s=sel a=ed25519-sha256 b=AbCdEfGh... bits=256 reason=""
 *
 * then "signatures=N". Exit 0, or 2 on a usage or file error.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/dkim_verify.h"
#include "mailauth/msgsplit.h"

#define CHUNK 1000	/* body bytes per call, like a small libmilter chunk */

struct key_entry {
	char *name;
	char *value;
};

struct keys {
	struct key_entry *entries;
	size_t count, cap;
};

static int read_file(const char *path, struct strbuf *out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_append(out, buf, n);
	int bad = ferror(f);
	fclose(f);
	return bad ? -1 : 0;
}

static void keys_add_line(struct keys *k, char *line)
{
	line[strcspn(line, "\r\n")] = '\0';
	char *sp = strpbrk(line, " \t");
	if (*line == '\0' || *line == '#' || sp == NULL)
		return;
	*sp++ = '\0';
	sp += strspn(sp, " \t");
	k->entries = xgrow(k->entries, &k->cap, k->count + 1, sizeof(*k->entries));
	k->entries[k->count].name = xstrdup(line);
	k->entries[k->count].value = xstrdup(sp);
	k->count++;
}

static int keys_load(const char *path, struct keys *k)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	char *line = NULL;
	size_t len = 0;
	while (getline(&line, &len, f) != -1)
		keys_add_line(k, line);
	free(line);
	fclose(f);
	return 0;
}

static enum dkim_key_status key_lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	const struct keys *k = ctx;
	char name[600];
	int n = snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);
	if (n < 0 || (size_t)n >= sizeof(name))
		return DKIM_KEY_NOTFOUND;
	for (size_t i = 0; i < k->count; i++) {
		if (strcasecmp(k->entries[i].name, name) != 0)
			continue;
		if (strcmp(k->entries[i].value, "TEMPFAIL") == 0)
			return DKIM_KEY_TEMPFAIL;
		*txt_r = xstrdup(k->entries[i].value);
		return DKIM_KEY_OK;
	}
	return DKIM_KEY_NOTFOUND;
}

static void on_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);
	dkim_verify_header(ctx, n, v);
	free(n);
	free(v);
}

static void print_result(const struct dkim_verify_result *r)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct dkim_verify_sig *s = &r->sigs[i];
		printf("sig=%zu result=%s d=%s s=%s a=%s b=%s bits=%u testing=%s reason=\"%s\"\n", i + 1,
		       dkim_result_name(s->result), s->domain, s->selector, s->algorithm, s->b,
		       s->key_bits, s->testing ? "yes" : "no", s->reason);
	}
	if (r->error != NULL)
		printf("error=\"%s\"\n", r->error);
	printf("signatures=%zu\n", r->count);
}

static int verify_file(const char *msg_path, struct keys *k, const struct dkim_verify_options *base)
{
	struct strbuf msg = STRBUF_INIT;
	if (read_file(msg_path, &msg) < 0)
		return 2;
	char err[256];
	struct dkim_verify_lib *lib = dkim_verify_lib_new(err, sizeof(err));
	if (lib == NULL) {
		fprintf(stderr, "lr-dkimverify: %s\n", err);
		strbuf_release(&msg);
		return 2;
	}
	struct dkim_verify_options opt = *base;
	opt.key_lookup = key_lookup;
	opt.key_ctx = k;
	struct dkim_verify *v = dkim_verify_new(lib, &opt, "lr-dkimverify");
	size_t body = msgsplit(msg.data, msg.len, on_header, v);
	dkim_verify_eoh(v);
	for (size_t off = body; off < msg.len; off += CHUNK)
		dkim_verify_body(v, msg.data + off, msg.len - off < CHUNK ? msg.len - off : CHUNK);
	dkim_verify_end(v);
	print_result(dkim_verify_result(v));
	dkim_verify_free(&v);
	dkim_verify_lib_free(&lib);
	strbuf_release(&msg);
	return 0;
}

static void keys_free(struct keys *k)
{
	for (size_t i = 0; i < k->count; i++) {
		free(k->entries[i].name);
		free(k->entries[i].value);
	}
	free(k->entries);
}

int main(int argc, char **argv)
{
	struct dkim_verify_options opt = { 0 };
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			opt.max_signatures = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--sha1-fail") == 0)
			opt.sha1_result = DKIM_RESULT_FAIL;
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: lr-dkimverify [-m MAX] [--sha1-fail] MESSAGE KEYS\n");
		return 2;
	}
	struct keys k = { 0 };
	if (keys_load(argv[i + 1], &k) < 0)
		return 2;
	int rc = verify_file(argv[i], &k, &opt);
	keys_free(&k);
	return rc;
}
