/*
 * lr-arcseal.c - validate a message's ARC chain and seal it, with
 * mailauth/arc_verify.c and mailauth/arc_seal.c, for tests/integration/test_arc_interop.py.
 *
 *   lr-arcseal (--dns HOST:PORT | --keys FILE) [--verify-only]
 *              --domain D --selector S --key PEM --authserv-id ID
 *              [--alg rsa-sha256|ed25519-sha256] [--time T] [--headers LIST]
 *
 * Reads the message on stdin and feeds it the way libmilter would (header
 * fields one by one, the body in small chunks). Keys come from DNS through
 * common/dns (the upstream given), or from FILE: one record a line,
 * "SELECTOR._domainkey.DOMAIN TXT-value". The validation result goes to
 * stderr as "arc=STATUS instances=N reason=...". With --verify-only, that
 * line goes to stdout and nothing is sealed; otherwise the message is
 * written to stdout with the new ARC set on top (AAR results "arc=STATUS"),
 * CRLF line ends. Exit 0 sealed (or verified), 1 not sealed (RFC 8617 says
 * not to; the message is written unchanged), 2 usage or other error.
 */
#include "autoconfig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>

#include "common/dns.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/arc_seal.h"
#include "mailauth/arc_verify.h"
#include "mailauth/msgsplit.h"

#define CHUNK 1000	/* body bytes per call, like a small libmilter chunk */

struct args {
	const char *dns, *keys, *domain, *selector, *key, *authserv_id, *headers;
	enum dkim_alg alg;
	long long time;
	bool verify_only;
};

struct key_file {
	size_t count;
	char *names[64], *values[64];
};

static void usage(void)
{
	fprintf(stderr, "usage: lr-arcseal (--dns HOST:PORT | --keys FILE) [--verify-only] --domain D "
		"--selector S --key PEM --authserv-id ID [--alg A] [--time T] [--headers LIST]\n");
	exit(2);
}

static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "dns", 1, NULL, 'n' }, { "keys", 1, NULL, 'k' }, { "domain", 1, NULL, 'd' },
		{ "selector", 1, NULL, 's' }, { "key", 1, NULL, 'K' }, { "authserv-id", 1, NULL, 'i' },
		{ "alg", 1, NULL, 'a' }, { "time", 1, NULL, 't' }, { "headers", 1, NULL, 'h' },
		{ "verify-only", 0, NULL, 'v' }, { NULL, 0, NULL, 0 },
	};
	int c;

	*a = (struct args){ .alg = DKIM_ALG_RSA_SHA256, .time = 1700000000 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': a->dns = optarg; break;
		case 'k': a->keys = optarg; break;
		case 'd': a->domain = optarg; break;
		case 's': a->selector = optarg; break;
		case 'K': a->key = optarg; break;
		case 'i': a->authserv_id = optarg; break;
		case 'h': a->headers = optarg; break;
		case 'v': a->verify_only = true; break;
		case 't': a->time = strtoll(optarg, NULL, 10); break;
		case 'a':
			if (dkim_alg_parse(optarg, strlen(optarg), &a->alg) < 0)
				usage();
			break;
		default: usage();
		}
	}
	if ((a->dns == NULL) == (a->keys == NULL) || optind != argc)
		usage();
	if (!a->verify_only && (!a->domain || !a->selector || !a->key || !a->authserv_id))
		usage();
}

static void load_keys(const char *path, struct key_file *k)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL && k->count < 64) {
		line[strcspn(line, "\r\n")] = '\0';
		char *space = strchr(line, ' ');
		if (space == NULL)
			continue;
		*space = '\0';
		k->names[k->count] = xstrdup(line);
		k->values[k->count++] = xstrdup(space + 1);
	}
	fclose(f);
}

static enum dkim_key_status file_lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	const struct key_file *k = ctx;
	struct strbuf name = STRBUF_INIT;
	enum dkim_key_status st = DKIM_KEY_NOTFOUND;

	strbuf_appendf(&name, "%s._domainkey.%s", selector, domain);
	for (size_t i = 0; i < k->count && st == DKIM_KEY_NOTFOUND; i++)
		if (strcasecmp(k->names[i], strbuf_str(&name)) == 0) {
			*txt_r = xstrdup(k->values[i]);
			st = DKIM_KEY_OK;
		}
	strbuf_release(&name);
	return st;
}

static enum dkim_key_status dns_key_lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	struct strbuf name = STRBUF_INIT;
	enum dkim_key_status st = DKIM_KEY_NOTFOUND;

	strbuf_appendf(&name, "%s._domainkey.%s", selector, domain);
	struct dns_answer *a = dns_lookup(ctx, strbuf_str(&name), DNS_TXT);
	if (a->status == DNS_TEMPFAIL)
		st = DKIM_KEY_TEMPFAIL;
	for (size_t i = 0; a->status == DNS_OK && i < a->count && st != DKIM_KEY_OK; i++)
		if (a->records[i].type == DNS_TXT) {
			*txt_r = xstrdup(a->records[i].data);
			st = DKIM_KEY_OK;
		}
	dns_answer_free(&a);
	strbuf_release(&name);
	return st;
}

static struct dns *open_dns(const char *upstream)
{
	static char no_anchor[] = "";
	char *list[] = { xstrdup(upstream) }, err[256];
	struct dns_settings s = {
		.upstream = { list, 1 }, .timeout_ms = 5000, .cache_size = 1 << 20,
		.cache_max_ttl_ms = 1000, .trust_anchor_file = no_anchor,
	};
	struct dns *dns = dns_new(&s, err, sizeof(err));

	free(list[0]);
	if (dns == NULL) {
		fprintf(stderr, "lr-arcseal: dns: %s\n", err);
		exit(2);
	}
	return dns;
}

static char *read_stdin(size_t *len_r)
{
	struct strbuf in = STRBUF_INIT;
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		strbuf_append(&in, buf, n);
	*len_r = in.len;
	return in.len > 0 ? strbuf_detach(&in) : xstrdup("");
}

static void on_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);

	arc_verify_header(ctx, n, v);
	free(n);
	free(v);
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f != NULL)
		fclose(f);
	if (key == NULL) {
		fprintf(stderr, "lr-arcseal: %s: cannot read a private key\n", path);
		exit(2);
	}
	return key;
}

/* Writes the message with its line ends made CRLF. */
static void write_crlf(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			fputc('\r', stdout);
		fputc(s[i], stdout);
	}
}

static int seal(const struct args *a, struct arc_verify *v, struct arc_seal *s, const char *msg,
		size_t len)
{
	const struct arc_result *r = arc_verify_result(v);
	char results[64];
	size_t count;
	const char *why;
	struct arc_seal_fields f;
	EVP_PKEY *key = read_key(a->key);
	int n = snprintf(results, sizeof(results), "arc=%s", arc_status_name(r->status));

	if (n < 0 || (size_t)n >= sizeof(results))
		return 2;
	const struct dkim_canon_header *headers = arc_verify_headers(v, &count);
	struct arc_seal_request req = {
		.chain = r->status, .authserv_id = a->authserv_id, .results = results,
		.domain = a->domain, .selector = a->selector, .key = key, .alg = a->alg,
		.timestamp = a->time, .sign_headers = a->headers, .crlf = true,
	};
	int ret = headers == NULL ? ARC_SEAL_E_INVAL : arc_seal_make(s, headers, count, &req, &f, &why);
	EVP_PKEY_free(key);
	if (ret == ARC_SEAL_OK)
		printf("ARC-Seal:%s\r\nARC-Message-Signature:%s\r\nARC-Authentication-Results:%s\r\n",
		       f.seal, f.ams, f.aar);
	else
		fprintf(stderr, "lr-arcseal: not sealed: %s\n", headers == NULL ? "too many header fields" : why);
	if (ret == ARC_SEAL_OK || ret == ARC_SEAL_SKIPPED)
		write_crlf(msg, len);
	arc_seal_fields_release(&f);
	return ret == ARC_SEAL_OK ? 0 : ret == ARC_SEAL_SKIPPED ? 1 : 2;
}

int main(int argc, char **argv)
{
	struct args a;
	struct key_file keys = { 0 };
	struct dns *dns = NULL;
	size_t len;

	parse_args(argc, argv, &a);
	if (a.keys != NULL)
		load_keys(a.keys, &keys);
	else
		dns = open_dns(a.dns);
	struct arc_options o = { .key_lookup = dns ? dns_key_lookup : file_lookup,
				 .key_ctx = dns ? (void *)dns : (void *)&keys };
	struct arc_verify *v = arc_verify_new(&o);
	struct arc_seal *s = arc_seal_new();
	char *msg = read_stdin(&len);
	size_t body = msgsplit(msg, len, on_header, v);
	for (size_t off = body; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		arc_verify_body(v, msg + off, n);
		arc_seal_body(s, msg + off, n);
	}
	arc_verify_end(v);
	const struct arc_result *r = arc_verify_result(v);
	fprintf(a.verify_only ? stdout : stderr, "arc=%s instances=%u oldest_pass=%u reason=\"%s\"\n",
		arc_status_name(r->status), r->instances, r->oldest_pass, r->reason);
	int ret = a.verify_only ? 0 : seal(&a, v, s, msg, len);
	arc_seal_free(&s);
	arc_verify_free(&v);
	dns_free(&dns);
	free(msg);
	for (size_t i = 0; i < keys.count; i++)
		free(keys.names[i]), free(keys.values[i]);
	return ret;
}
