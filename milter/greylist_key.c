/*
 * greylist_key.c - normalized senders, origins and triplet keys (see
 * greylist_key.h).
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "milter/greylist_key.h"

/* Length of a BATV prefix at the start of local (through the '=' or '=='
 * before the real local part), 0 when there is none. */
static size_t batv_prefix(const char *local, size_t len)
{
	static const char *const tags[] = { "prvs=", "msprvs1=" };
	const char *eq;

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		size_t t = strlen(tags[i]);

		if (len > t && strncasecmp(local, tags[i], t) == 0 &&
		    (eq = memchr(local + t, '=', len - t)) != NULL && (size_t)(eq - local) + 1 < len)
			return (size_t)(eq - local) + 1;
	}
	if (len > 6 && strncasecmp(local, "btv1==", 6) == 0)
		for (size_t i = 6; i + 2 < len; i++)
			if (local[i] == '=' && local[i + 1] == '=')
				return i + 2;
	return 0;
}

/* SRS0=HASH=TT=domain=user: the hash and the timestamp change daily. */
static size_t srs_fold(const char *local, size_t len, char *out, size_t outlen)
{
	const char *p = local + 5, *end = local + len, *e1, *e2;
	int n;

	if (len < 5 || strncasecmp(local, "srs0=", 5) != 0 ||
	    (e1 = memchr(p, '=', (size_t)(end - p))) == NULL ||
	    (e2 = memchr(e1 + 1, '=', (size_t)(end - e1 - 1))) == NULL)
		return 0;
	n = snprintf(out, outlen, "srs0=#=#=%.*s", (int)(end - e2 - 1), e2 + 1);
	return n < 0 || (size_t)n >= outlen ? 0 : (size_t)n;
}

static bool is_word(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Copies local lowercased with digit runs between non-word characters
 * replaced by '#'. Returns the length written, or -1. */
static int fold_local(const char *local, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; ) {
		unsigned char c = (unsigned char)local[i];
		size_t j = i;

		if (isdigit(c) && (i == 0 || !is_word((unsigned char)local[i - 1]))) {
			while (j < len && isdigit((unsigned char)local[j]))
				j++;
			if (j == len || !is_word((unsigned char)local[j])) {
				if (o + 1 >= outlen)
					return -1;
				out[o++] = '#';
				i = j;
				continue;
			}
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)tolower(c);
		i++;
	}
	out[o] = '\0';
	return (int)o;
}

int greylist_normalize_sender(const char *sender, size_t len, char *out, size_t outlen)
{
	const char *at = len ? memrchr(sender, '@', len) : NULL;
	const char *local = sender;
	size_t local_len = at ? (size_t)(at - sender) : len, skip, plus;
	char srs[ADDR_MAX + 1];
	int n;

	if (len == 0) {
		n = snprintf(out, outlen, "<>");
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	skip = batv_prefix(local, local_len);
	local += skip;
	local_len -= skip;
	if ((skip = srs_fold(local, local_len, srs, sizeof(srs))) > 0) {
		local = srs;
		local_len = skip;
	} else {
		for (plus = 0; plus < local_len && local[plus] != '+'; plus++)
			;
		if (plus > 0)
			local_len = plus;
	}
	if ((n = fold_local(local, local_len, out, outlen)) < 0)
		return -1;
	for (const char *d = at; d != NULL && d < sender + len; d++) {
		if ((size_t)n + 1 >= outlen)
			return -1;
		out[n++] = (char)tolower((unsigned char)*d);
	}
	out[n] = '\0';
	return 0;
}

int greylist_origin(const struct ip_addr *client, unsigned prefix_v4, unsigned prefix_v6,
		    const char *spf_domain, char *out, size_t outlen)
{
	char net[CIDR_TEXT_MAX];
	struct cidr c;
	int n;

	if (spf_domain != NULL) {
		n = snprintf(out, outlen, "spf:%s", spf_domain);
	} else {
		cidr_of(client, prefix_v4, prefix_v6, &c);
		if (cidr_format(&c, net, sizeof(net)) < 0)
			return -1;
		n = snprintf(out, outlen, "net:%s", net);
	}
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* Appends s to out at *used, lowercase, with '/' and '%' as %2f and %25:
 * the keys' fields are joined by '/', which an address may contain (a
 * quoted local part), so that no two triplets can share a key. */
static int append_field(char *out, size_t outlen, size_t *used, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		bool escape = ch == '/' || ch == '%';

		if (*used + (escape ? 3 : 1) >= outlen)
			return -1;
		if (escape) {
			out[(*used)++] = '%';
			out[(*used)++] = hex[ch >> 4];
			out[(*used)++] = hex[ch & 15];
		} else {
			out[(*used)++] = (char)tolower(ch);
		}
	}
	out[*used] = '\0';
	return 0;
}

int greylist_triplet_key(const char *origin, const char *sender, const char *rcpt, char *out,
			 size_t outlen)
{
	int n = snprintf(out, outlen, "grey:%s/", origin);
	size_t used;

	if (n < 0 || (size_t)n >= outlen)
		return -1;
	used = (size_t)n;
	if (append_field(out, outlen, &used, sender) < 0 || used + 1 >= outlen)
		return -1;
	out[used++] = '/';
	return append_field(out, outlen, &used, rcpt);
}

int greylist_reply_key(const char *prefix, const char *external, const char *local, char *out,
		       size_t outlen)
{
	int n = snprintf(out, outlen, "%sreply:", prefix);	/* the prefix keeps its case */
	size_t used;

	if (n < 0 || (size_t)n >= outlen)
		return -1;
	used = (size_t)n;
	if (append_field(out, outlen, &used, external) < 0 || used + 1 >= outlen)
		return -1;
	out[used++] = '/';
	return append_field(out, outlen, &used, local);
}
