/*
 * rep_trace.c - writing, reading and signing X-Limristem-Reputation (see
 * rep_trace.h). The MAC is OpenSSL's one-shot HMAC over a stack buffer.
 */
#include "autoconfig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "common/rep_trace.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int rep_trace_format(const struct rep_trace *t, char *out, size_t outlen)
{
	size_t used = 0;
	int n = snprintf(out, outlen, "id=%s; judged=%s", t->id, t->judged_bad ? "bad" : "good");

#define APPEND(...) do { \
		if (n < 0 || (size_t)n >= outlen - used) \
			return -1; \
		used += (size_t)n; \
		n = snprintf(out + used, outlen - used, __VA_ARGS__); \
	} while (0)
	if (t->ip[0])
		APPEND("; ip=%s", t->ip);
	if (t->network[0])
		APPEND("; network=%s", t->network);
	if (t->spf[0])
		APPEND("; spf=%s", t->spf);
	for (size_t i = 0; i < t->dkim_count; i++)
		APPEND("%s%s", i == 0 ? "; dkim=" : ",", t->dkim[i]);
	if (t->mac[0])
		APPEND("; mac=%s", t->mac);
	APPEND("%s", "");
#undef APPEND
	return 0;
}

static int copy_domain(const char *s, size_t len, char *out, const char **why_r)
{
	if (domain_check(s, len, ADDR_ALLOW_UNDERSCORE, why_r) < 0 ||
	    domain_normalize(s, len, out, ADDR_DOMAIN_MAX + 1) < 0) {
		*why_r = "a domain is not valid";
		return -1;
	}
	return 0;
}

static int parse_dkim(const char *v, size_t len, struct rep_trace *t, const char **why_r)
{
	while (len > 0) {
		const char *comma = memchr(v, ',', len);
		size_t n = comma ? (size_t)(comma - v) : len;

		if (t->dkim_count == REP_TRACE_DKIM_MAX) {
			*why_r = "too many dkim domains";
			return -1;
		}
		if (copy_domain(v, n, t->dkim[t->dkim_count++], why_r) < 0)
			return -1;
		v += n + (comma != NULL);
		len -= n + (comma != NULL);
	}
	return 0;
}

static int parse_address(const char *v, size_t len, bool network, char *out, const char **why_r)
{
	char text[CIDR_TEXT_MAX];
	struct ip_addr ip;
	struct cidr net;

	if (len == 0 || len >= sizeof(text)) {
		*why_r = network ? "network: not a network" : "ip: not an address";
		return -1;
	}
	memcpy(text, v, len);
	text[len] = '\0';
	if (network ? cidr_parse(text, &net, why_r) < 0 : ip_parse(text, &ip) < 0) {
		*why_r = network ? "network: not a network" : "ip: not an address";
		return -1;
	}
	return network ? cidr_format(&net, out, CIDR_TEXT_MAX) : ip_format(&ip, out, CIDR_TEXT_MAX);
}

/* want lowercase hex digits into out (want + 1 bytes). */
static int parse_hex(const char *v, size_t len, size_t want, char *out, const char **why_r,
		     const char *why)
{
	bool hex = len == want;

	for (size_t i = 0; hex && i < len; i++)	/* v is not NUL-terminated */
		hex = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f');
	if (!hex) {
		*why_r = why;
		return -1;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
}

/* Each tag at most once: seen_r has a bit per known tag. */
static int parse_tag(const char *tag, size_t tlen, const char *v, size_t vlen,
		     struct rep_trace *t, unsigned *seen_r, const char **why_r)
{
	static const char *const known[] = { "id", "judged", "ip", "network", "spf", "dkim", "mac" };

	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (tlen != strlen(known[i]) || memcmp(tag, known[i], tlen) != 0)
			continue;
		if (*seen_r & (1u << i)) {
			*why_r = "a tag appears twice";
			return -1;
		}
		*seen_r |= 1u << i;
	}
#define IS(name) (tlen == sizeof(name) - 1 && memcmp(tag, name, tlen) == 0)
	if (IS("id"))
		return parse_hex(v, vlen, REP_TRACE_ID_LEN, t->id, why_r,
				 "id: not 32 lowercase hex digits");
	if (IS("mac"))
		return parse_hex(v, vlen, REP_TRACE_MAC_LEN, t->mac, why_r,
				 "mac: not 32 lowercase hex digits");
	if (IS("judged")) {
		if ((vlen != 3 || memcmp(v, "bad", 3) != 0) && (vlen != 4 || memcmp(v, "good", 4) != 0)) {
			*why_r = "judged: not good or bad";
			return -1;
		}
		t->judged_bad = vlen == 3;
		return 0;
	}
	if (IS("ip"))
		return parse_address(v, vlen, false, t->ip, why_r);
	if (IS("network"))
		return parse_address(v, vlen, true, t->network, why_r);
	if (IS("spf"))
		return copy_domain(v, vlen, t->spf, why_r);
	if (IS("dkim"))
		return parse_dkim(v, vlen, t, why_r);
#undef IS
	return 0;
}

int rep_trace_parse(const char *value, size_t len, struct rep_trace *t, const char **why_r)
{
	const char *end = value + len;
	unsigned seen = 0;

	memset(t, 0, sizeof(*t));
	while (value < end) {
		const char *semi = memchr(value, ';', (size_t)(end - value));
		const char *stop = semi ? semi : end, *eq;
		const char *tag = value, *v;

		while (tag < stop && is_space(*tag))
			tag++;
		eq = memchr(tag, '=', (size_t)(stop - tag));
		if (eq == NULL) {
			if (tag != stop) {
				*why_r = "a tag without '='";
				return -1;
			}
		} else {
			const char *tend = eq, *vend = stop;

			while (tend > tag && is_space(tend[-1]))
				tend--;
			for (v = eq + 1; v < vend && is_space(*v); v++)
				;
			while (vend > v && is_space(vend[-1]))
				vend--;
			if (parse_tag(tag, (size_t)(tend - tag), v, (size_t)(vend - v), t, &seen,
				      why_r) < 0)
				return -1;
		}
		value = semi ? semi + 1 : end;
	}
	if (t->id[0] == '\0') {
		*why_r = "no id";
		return -1;
	}
	return 0;
}

int rep_trace_canonical(const struct rep_trace *t, char *out, size_t outlen)
{
	struct rep_trace bare = *t;

	bare.mac[0] = '\0';
	return rep_trace_format(&bare, out, outlen);
}

/* The mac of t's canonical form under key, into mac (REP_TRACE_MAC_LEN + 1). */
static int compute_mac(const struct rep_trace *t, const char *key, char *mac)
{
	static const char domain[] = "limristem-trace-v1\n";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0;
	char data[sizeof(domain) + REP_TRACE_TEXT_MAX];

	memcpy(data, domain, sizeof(domain) - 1);
	if (rep_trace_canonical(t, data + sizeof(domain) - 1, sizeof(data) - sizeof(domain) + 1) < 0 ||
	    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)data, strlen(data),
		 digest, &digest_len) == NULL || digest_len < REP_TRACE_MAC_LEN / 2)
		return -1;
	for (size_t i = 0; i < REP_TRACE_MAC_LEN / 2; i++)
		snprintf(mac + 2 * i, 3, "%02x", digest[i]);
	explicit_bzero(digest, sizeof(digest));
	return 0;
}

int rep_trace_format_signed(const struct rep_trace *t, const char *key, char *out, size_t outlen)
{
	char text[REP_TRACE_TEXT_MAX];
	struct rep_trace back;
	const char *why;

	if (key == NULL || key[0] == '\0' || rep_trace_canonical(t, text, sizeof(text)) < 0 ||
	    rep_trace_parse(text, strlen(text), &back, &why) < 0 ||
	    compute_mac(&back, key, back.mac) < 0)
		return -1;
	return rep_trace_format(&back, out, outlen);
}

int rep_trace_verify(const struct rep_trace *t, const char *const *keys, size_t count)
{
	char mac[REP_TRACE_MAC_LEN + 1];
	int found = -1;

	if (strlen(t->mac) != REP_TRACE_MAC_LEN)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (compute_mac(t, keys[i], mac) == 0 &&
		    CRYPTO_memcmp(mac, t->mac, REP_TRACE_MAC_LEN) == 0)
			found = 0;	/* no early exit: the time does not tell which key */
	return found;
}
